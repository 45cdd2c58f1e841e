// Liveness-based planner for the one static activation arena of generated code.
// A tensor lives from the step of the op that writes it to the step of its last reader; tensors whose lives
// overlap never share bytes. Buffers are placed greedily by size, first fit (the TFLite arena scheme); an op
// marked in-place may write its output over its first input when that input dies there. For branched graphs
// every execution order (up to a bound) is planned and the one with the smallest arena is kept.
// External tensors (the model's input and output, owned by the caller) take no arena bytes.
#pragma once
#include <cstdint>
#include <vector>

namespace sparse::codegen {

struct PlanTensor {
  int64_t bytes = 0;
  bool external = false;
};

struct PlanOp {
  std::vector<int> inputs;  // tensor indices
  int output = -1;          // tensor index
  bool in_place = false;    // output may overwrite inputs[0] (element-wise ops, requantization)
};

struct MemoryPlan {
  std::vector<int> order;       // op indices in execution order
  std::vector<int64_t> offset;  // per tensor: byte offset in the arena, -1 for external tensors
  std::vector<int> shares_with; // per tensor: the tensor whose buffer it reuses in place, or itself
  int64_t arena_bytes = 0;
  int64_t live_bytes_bound = 0; // max over steps of the bytes alive at once: no plan can use less
  int orders_tried = 0;
};

// Plan for one given execution order (must be topological). Errors name the op and tensor.
MemoryPlan plan_memory_for_order(const std::vector<PlanTensor>& tensors, const std::vector<PlanOp>& ops,
                                 const std::vector<int>& order);

// Try up to `max_orders` topological orders (ops in index order first) and keep the smallest arena.
MemoryPlan plan_memory(const std::vector<PlanTensor>& tensors, const std::vector<PlanOp>& ops, int max_orders = 2000);

}  // namespace sparse::codegen
