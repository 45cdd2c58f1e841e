// Graphviz DOT of a network annotated like the paper's Fig. 1: per node type, output shape, and MS / WM
// (eqs. 4, 5, 6) as [before, after] pruning.
#pragma once
#include <string>

#include "host/graph/graph.hpp"
#include "host/memory/memory.hpp"

namespace sparse::memory {

std::string to_dot(const graph::Graph& g, const MemoryReport& before, const MemoryReport& after);

}  // namespace sparse::memory
