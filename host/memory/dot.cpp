// DOT writer: one box per node, labels "name / type / HxWxC / MS [before, after] / WM5 [..] / WM6 [..]" in bytes.
#include "host/memory/dot.hpp"

#include <sstream>

namespace sparse::memory {

std::string to_dot(const graph::Graph& g, const MemoryReport& before, const MemoryReport& after) {
  std::ostringstream os;
  os << "digraph sparse {\n  rankdir=TB;\n  node [shape=box, fontname=\"Helvetica\", fontsize=10];\n";
  os << "  label=\"MS [" << before.ms_bytes << ", " << after.ms_bytes << "] B   WM5 [" << before.wm5_bytes << ", "
     << after.wm5_bytes << "] B   WM6 [" << before.wm6_bytes << ", " << after.wm6_bytes
     << "] B   (before, after pruning)\";\n  labelloc=t;\n";
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const graph::Node& n = g.nodes[i];
    const NodeMemory& b = before.nodes[i];
    const NodeMemory& a = after.nodes[i];
    os << "  n" << i << " [label=\"" << n.name << "\\n" << graph::to_string(n.kind);
    if (n.kernel > 0) os << " " << n.kernel << "x" << n.kernel;
    if (n.batch_norm) os << " +BN";
    if (n.relu) os << " +ReLU";
    os << "\\n" << n.out.h << "x" << n.out.w << "x" << n.out.c;
    if (n.kind != graph::NodeKind::input) {
      if (n.has_weights()) os << "\\nMS [" << b.ms_bytes << ", " << a.ms_bytes << "]";
      os << "\\nWM5 [" << b.wm5_bytes << ", " << a.wm5_bytes << "]\\nWM6 [" << b.wm6_bytes << ", " << a.wm6_bytes << "]";
    }
    os << "\"];\n";
    for (int src : n.inputs) os << "  n" << src << " -> n" << i << ";\n";
  }
  os << "}\n";
  return os.str();
}

}  // namespace sparse::memory
