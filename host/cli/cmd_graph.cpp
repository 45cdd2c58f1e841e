// `sparse graph CONFIG.json`: layer table (shapes, parameters, MS, WM5, WM6), totals, and an annotated DOT/SVG.
#include <cstdlib>
#include <filesystem>
#include <iomanip>
#include <iostream>

#include "host/cli/cli.hpp"
#include "host/core/error.hpp"
#include "host/core/file_io.hpp"
#include "host/graph/graph.hpp"
#include "host/memory/dot.hpp"
#include "host/memory/memory.hpp"

namespace sparse::cli {

namespace {

// --pruning FILE: {"active_channels": {"<node name>": count, ...}} (structured pruning; other nodes dense).
memory::PruningState read_pruning(const std::string& path, const graph::Graph& g) {
  const nlohmann::json j = read_json_file(path);
  SPARSE_CHECK(j.is_object() && j.contains("active_channels") && j["active_channels"].is_object(),
               path << ": expected {\"active_channels\": {\"<node name>\": count}}");
  std::vector<int> active(g.nodes.size());
  for (size_t i = 0; i < g.nodes.size(); ++i) active[i] = g.nodes[i].out.c;
  for (auto it = j["active_channels"].begin(); it != j["active_channels"].end(); ++it) {
    const int i = g.index(it.key());
    SPARSE_CHECK(i >= 0, path << ": active_channels." << it.key() << " names no node of this network");
    SPARSE_CHECK(it.value().is_number_integer(), path << ": active_channels." << it.key() << " must be an integer");
    active[static_cast<size_t>(i)] = it.value().get<int>();
  }
  return memory::structured_state(g, active);
}

}  // namespace

void add_graph_commands(CLI::App& app) {
  static Output out;
  static std::string config_path, dot_path, pruning_path, wm_input = "downsampled";
  static int bits = 8;
  CLI::App* cmd = app.add_subcommand("graph", "Build the network of a Config and print its layers and memory models");
  cmd->add_option("config", config_path, "Config JSON file")->required();
  cmd->add_option("--bits", bits, "Bit width of weights and activations (paper §4.2: 8)")->check(CLI::Range(1, 32));
  cmd->add_option("--dot", dot_path, "Write Graphviz DOT here (and an SVG beside it when `dot` is installed)");
  cmd->add_option("--pruning", pruning_path, "Structured pruning state JSON: {\"active_channels\": {node: count}}");
  cmd->add_option("--wm-input", wm_input,
                  "downsampled (input downsampling is part of the input, as the paper) or raw (the raw image counts)")
      ->check(CLI::IsMember({"downsampled", "raw"}))
      ->capture_default_str();
  out.add_flag(cmd);
  cmd->callback([] {
    const space::Config c = space::read_config(config_path);
    const graph::Graph g = graph::build_graph(c);
    const memory::WmInput wi = memory::parse_wm_input(wm_input);
    const memory::MemoryReport dense = memory::memory_report(g, memory::dense_state(g), bits, bits, wi);
    const memory::MemoryReport pruned =
        pruning_path.empty() ? dense : memory::memory_report(g, read_pruning(pruning_path, g), bits, bits, wi);
    std::string svg;
    if (!dot_path.empty()) {
      write_file_atomic(dot_path, memory::to_dot(g, dense, pruned));
      if (std::system("command -v dot >/dev/null 2>&1") == 0) {
        svg = std::filesystem::path(dot_path).replace_extension(".svg").string();
        const std::string cmdline = "dot -Tsvg '" + dot_path + "' -o '" + svg + "'";
        SPARSE_CHECK(std::system(cmdline.c_str()) == 0, "rendering the SVG failed: " << cmdline);
      }
    }
    if (out.json) {
      nlohmann::json layers = nlohmann::json::array();
      for (size_t i = 0; i < g.nodes.size(); ++i) {
        const auto& n = g.nodes[i];
        const auto& m = pruned.nodes[i];
        layers.push_back({{"name", n.name},
                          {"type", graph::to_string(n.kind)},
                          {"shape", {n.out.h, n.out.w, n.out.c}},
                          {"params", n.weights},
                          {"nonzero", m.w},
                          {"x", m.x},
                          {"y", m.y},
                          {"ms_bytes", m.ms_bytes},
                          {"wm5_bytes", m.wm5_bytes},
                          {"wm6_bytes", m.wm6_bytes},
                          {"counted_in_wm", m.layer}});
      }
      nlohmann::json j = {{"params", dense.params},   {"nonzero", pruned.nonzero},     {"ms_bytes", pruned.ms_bytes},
                          {"wm5_bytes", pruned.wm5_bytes}, {"wm6_bytes", pruned.wm6_bytes}, {"bits", bits},
                          {"dense", {{"ms_bytes", dense.ms_bytes}, {"wm5_bytes", dense.wm5_bytes}, {"wm6_bytes", dense.wm6_bytes}}},
                          {"layers", layers}};
      if (!dot_path.empty()) j["dot"] = dot_path;
      if (!svg.empty()) j["svg"] = svg;
      out.print_json(j);
      return;
    }
    std::cout << std::left << std::setw(30) << "node" << std::setw(16) << "type" << std::setw(14) << "shape" << std::right
              << std::setw(10) << "params" << std::setw(10) << "MS B" << std::setw(10) << "WM5 B" << std::setw(10)
              << "WM6 B" << "\n";
    for (size_t i = 0; i < g.nodes.size(); ++i) {
      const auto& n = g.nodes[i];
      const auto& m = pruned.nodes[i];
      const std::string shape = std::to_string(n.out.h) + "x" + std::to_string(n.out.w) + "x" + std::to_string(n.out.c);
      // Nodes outside the WM maximum (the input; input downsampling when it is part of the input) show "-".
      const std::string wm5 = m.layer ? std::to_string(m.wm5_bytes) : "-", wm6 = m.layer ? std::to_string(m.wm6_bytes) : "-";
      std::cout << std::left << std::setw(30) << n.name << std::setw(16) << graph::to_string(n.kind) << std::setw(14)
                << shape << std::right << std::setw(10) << n.weights << std::setw(10) << m.ms_bytes << std::setw(10)
                << wm5 << std::setw(10) << wm6 << "\n";
    }
    std::cout << "params " << dense.params << "   MS " << pruned.ms_bytes << " B   WM5 " << pruned.wm5_bytes << " B ("
              << g.nodes[static_cast<size_t>(pruned.wm5_node)].name << ")   WM6 " << pruned.wm6_bytes << " B ("
              << g.nodes[static_cast<size_t>(pruned.wm6_node)].name << ")   at " << bits << " bits, WM on the "
              << wm_input << " input\n";
    if (!dot_path.empty()) std::cout << "wrote " << dot_path << (svg.empty() ? " (no `dot` installed: no SVG)" : " and " + svg) << "\n";
  });
}

}  // namespace sparse::cli
