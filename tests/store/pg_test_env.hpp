// The PostgreSQL cluster of a test executable: the one the CTest fixture started (SPARSE_TEST_PG_STATE names its state
// file, see pg_test_cluster_main.cpp), or, when the executable runs on its own, one started on first use and stopped
// when the executable ends (a gtest Environment). One cluster per executable either way, never one per test.
// PgDatabase gives each test a fresh database owned by the test user, dropped at scope exit.
#pragma once
#include <string>

#include "tests/store/pg_cluster.hpp"

namespace sparse::test {

// Throws std::runtime_error (the test fails) when a cluster should start but does not; check skip_reason.
const PgClusterInfo& pg_cluster();

class PgDatabase {
 public:
  explicit PgDatabase(const PgClusterInfo& c);
  ~PgDatabase();
  PgDatabase(const PgDatabase&) = delete;
  PgDatabase& operator=(const PgDatabase&) = delete;
  const std::string& name() const { return name_; }
  std::string url(const std::string& study) const { return pg_url(c_, name_, study); }
  // Runs `sql` in this database as the superuser (to damage or inspect rows behind the store's back).
  void exec(const std::string& sql) const { pg_admin_exec(c_, name_, sql); }

 private:
  PgClusterInfo c_;
  std::string name_;
};

}  // namespace sparse::test
