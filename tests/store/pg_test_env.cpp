// The test executable's PostgreSQL cluster and per-test databases (see pg_test_env.hpp).
#include "tests/store/pg_test_env.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <optional>
#include <stdexcept>

namespace sparse::test {

namespace {

struct ClusterState {
  std::mutex mu;
  std::optional<PgClusterInfo> info;
  bool owned = false;  // started by this process, so stopped by it
  std::string error;
};

ClusterState& cluster_state() {
  static ClusterState s;
  return s;
}

class PgClusterEnvironment : public ::testing::Environment {
 public:
  void TearDown() override {
    ClusterState& s = cluster_state();
    std::lock_guard<std::mutex> lock(s.mu);
    if (s.info && s.owned) stop_pg_cluster(*s.info);
    s.info.reset();
  }
};

[[maybe_unused]] ::testing::Environment* const kPgClusterEnvironment =
    ::testing::AddGlobalTestEnvironment(new PgClusterEnvironment);

}  // namespace

const PgClusterInfo& pg_cluster() {
  ClusterState& s = cluster_state();
  std::lock_guard<std::mutex> lock(s.mu);
  if (s.info) return *s.info;
  if (!s.error.empty()) throw std::runtime_error(s.error);
  const char* state = std::getenv("SPARSE_TEST_PG_STATE");
  if (state && *state && std::filesystem::exists(state)) {
    std::ifstream in(state);
    s.info = PgClusterInfo::from_json(nlohmann::json::parse(in));
    s.owned = false;
    return *s.info;
  }
  try {
    s.info = start_pg_cluster();
    s.owned = true;
  } catch (const std::exception& e) {
    s.error = e.what();
    throw;
  }
  return *s.info;
}

PgDatabase::PgDatabase(const PgClusterInfo& c) : c_(c) {
  static std::atomic<int> counter{0};
  name_ = "t" + std::to_string(::getpid()) + "_" + std::to_string(counter++);
  pg_admin_exec(c_, "postgres", "CREATE DATABASE " + name_ + " OWNER " + kPgUser);
}

PgDatabase::~PgDatabase() {
  try {
    pg_admin_exec(c_, "postgres", "DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
  } catch (const std::exception&) {
  }
}

}  // namespace sparse::test
