// The `sparse` command: parses arguments with CLI11 and turns library errors into messages and exit codes.
// Exit codes: 0 success, 1 error in input or run (message names the file/field/value), 2 usage error.
#include <cstdio>
#include <iostream>

#include "host/cli/cli.hpp"
#include "host/core/error.hpp"
#include "sparse/version.hpp"

namespace sparse::cli {

void Output::print_json(const nlohmann::json& j) const { std::cout << j.dump() << std::endl; }

}  // namespace sparse::cli

int main(int argc, char** argv) {
  CLI::App app{"SpArSe: sparse architecture search for CNNs on microcontrollers", "sparse"};
  app.set_version_flag("--version", std::string("sparse ") + sparse::kVersion);
  bool verbose = false;
  app.add_flag("-v,--verbose", verbose, "Show where an error was raised");
  app.require_subcommand(1);
  sparse::cli::add_version_command(app);
  sparse::cli::add_devices_command(app);
  sparse::cli::add_data_commands(app);
  sparse::cli::add_space_commands(app);
  sparse::cli::add_graph_commands(app);
  sparse::cli::add_train_command(app);
  sparse::cli::add_search_command(app);
  sparse::cli::add_worker_command(app);
  sparse::cli::add_pareto_command(app);
  sparse::cli::add_export_command(app);
  sparse::cli::add_report_command(app);
  sparse::cli::add_store_commands(app);
  bool wants_json = false;
  for (int i = 1; i < argc; ++i) wants_json = wants_json || std::string(argv[i]) == "--json";
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return 2;
  } catch (const sparse::Error& e) {
    std::cerr << "sparse: error: " << e.what() << "\n";
    if (verbose && !e.where().empty()) std::cerr << "  (" << e.where() << ")\n";
    if (wants_json) std::cout << nlohmann::json{{"error", e.what()}}.dump() << std::endl;
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "sparse: error: " << e.what() << "\n";
    if (wants_json) std::cout << nlohmann::json{{"error", e.what()}}.dump() << std::endl;
    return 1;
  }
  return 0;
}
