// pg_test_cluster start|stop STATE_FILE: the CTest fixture around the PostgreSQL tests. `start` starts one cluster
// (pg_cluster.hpp) for every test process of the run and writes its description to STATE_FILE (a skip reason when
// the server binaries are missing, so the tests report skips); `stop` shuts it down and removes the file. A state
// file left by an aborted run is stopped first.
#include <filesystem>
#include <fstream>
#include <iostream>

#include "tests/store/pg_cluster.hpp"

using sparse::test::PgClusterInfo;

namespace {

PgClusterInfo read_state(const std::string& path) {
  std::ifstream in(path);
  return PgClusterInfo::from_json(nlohmann::json::parse(in));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3 || (std::string(argv[1]) != "start" && std::string(argv[1]) != "stop")) {
    std::cerr << "usage: pg_test_cluster start|stop STATE_FILE\n";
    return 2;
  }
  const std::string action = argv[1], state = argv[2];
  try {
    if (std::filesystem::exists(state)) {
      sparse::test::stop_pg_cluster(read_state(state));
      std::filesystem::remove(state);
    }
    if (action == "stop") return 0;
    const PgClusterInfo c = sparse::test::start_pg_cluster();
    std::ofstream(state) << c.to_json().dump() << "\n";
    if (c.skip_reason.empty())
      std::cout << "PostgreSQL test cluster on 127.0.0.1:" << c.port << " in " << c.dir
                << (c.run_as.empty() ? "" : " (running as " + c.run_as + ")") << "\n";
    else
      std::cout << "no PostgreSQL test cluster: " << c.skip_reason << "\n";
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "pg_test_cluster " << action << ": " << e.what() << "\n";
    return 1;
  }
}
