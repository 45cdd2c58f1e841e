// Shared pieces of the `sparse` command: output mode and the registration functions of each command file.
#pragma once
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <string>

namespace sparse::cli {

// Every subcommand takes --json: then it prints exactly one JSON object on stdout.
struct Output {
  bool json = false;
  void add_flag(CLI::App* cmd) { cmd->add_flag("--json", json, "Print one JSON object with the result on stdout"); }
  void print_json(const nlohmann::json& j) const;
};

void add_version_command(CLI::App& app);
void add_devices_command(CLI::App& app);
void add_data_commands(CLI::App& app);
void add_space_commands(CLI::App& app);
void add_graph_commands(CLI::App& app);
void add_train_command(CLI::App& app);
void add_search_command(CLI::App& app);
void add_worker_command(CLI::App& app);
void add_pareto_command(CLI::App& app);
void add_export_command(CLI::App& app);
void add_report_command(CLI::App& app);
void add_store_commands(CLI::App& app);

}  // namespace sparse::cli
