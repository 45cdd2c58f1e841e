// One front trial's section of the report (anchor "trial-N"): its figures, its architecture drawn as a layer chain
// with active/total channels after pruning, its per-epoch validation accuracy, and its per-layer MS and WM bars.
// The per-layer figures come from the Config's network (host/graph) and the trial's metrics.layers (non-zeros and
// active channels per weighted node), counted by host/memory; φ is not needed.
// Invariants: a trial whose config or metrics cannot be drawn still gets its section, with a note saying what is
// missing (one odd trial never stops the report); the recomputed totals are checked against the stored MS and WM and
// a difference is shown as a note.
#pragma once
#include <set>
#include <string>

#include "host/graph/graph.hpp"
#include "host/memory/memory.hpp"
#include "host/report/study.hpp"

namespace sparse::report {

struct LayerMemory {
  graph::Graph graph;
  memory::MemoryReport dense, pruned;  // before and after pruning, 8-bit weights and activations
  bool measured = false;               // pruned figures come from the trial's metrics (else pruned = dense)
  std::string note;                    // why not, or where they disagree with the stored totals; "" when consistent
};

// Throws sparse::Error when the trial's config cannot be read or built.
LayerMemory layer_memory(const store::TrialRecord& t, const search::SearchSettings& s);

// The built-in drawing: one box per node in topological order (name, type, output H x W, active/total channels),
// arrows between consecutive nodes and curved arrows for skips and branches. `key` makes SVG ids unique on the page.
std::string architecture_svg(const LayerMemory& m, const std::string& key);

// Graphviz rendering of memory::to_dot (ids prefixed with `key`); "" with `why` set when `dot` is missing or fails.
std::string graphviz_svg(const LayerMemory& m, const std::string& key, std::string& why);

struct TrialSectionOptions {
  bool graphviz = false;  // draw the architecture with Graphviz when `dot` is on PATH
};

// `with_section`: ids of the trials that have a section (references link there).
std::string trial_section(const Study& st, const store::TrialRecord& t, const std::set<int64_t>& with_section,
                          const TrialSectionOptions& options);

}  // namespace sparse::report
