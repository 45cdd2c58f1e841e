// Memory planner (see memory_planner.hpp): liveness intervals, in-place buffer sharing, greedy-by-size first fit,
// and a bounded search over execution orders.
#include "codegen/memory_planner.hpp"

#include <algorithm>
#include <functional>
#include <numeric>

#include "host/core/error.hpp"

namespace sparse::codegen {

namespace {

void validate(const std::vector<PlanTensor>& tensors, const std::vector<PlanOp>& ops) {
  const int nt = static_cast<int>(tensors.size());
  std::vector<int> producer(tensors.size(), -1);
  for (size_t o = 0; o < ops.size(); ++o) {
    const PlanOp& op = ops[o];
    SPARSE_CHECK(op.output >= 0 && op.output < nt, "memory plan: op " << o << " writes tensor " << op.output
                                                                      << ", expected 0 to " << nt - 1);
    SPARSE_CHECK(producer[op.output] < 0, "memory plan: tensor " << op.output << " is written by ops "
                                                                 << producer[op.output] << " and " << o);
    producer[op.output] = static_cast<int>(o);
    for (int t : op.inputs)
      SPARSE_CHECK(t >= 0 && t < nt && t != op.output, "memory plan: op " << o << " reads tensor " << t
                                                                          << ", expected another tensor in 0 to " << nt - 1);
    SPARSE_CHECK(!op.in_place || !op.inputs.empty(), "memory plan: in-place op " << o << " has no input");
  }
  for (int t = 0; t < nt; ++t) {
    SPARSE_CHECK(tensors[t].bytes >= 0, "memory plan: tensor " << t << " has " << tensors[t].bytes << " bytes");
    SPARSE_CHECK(producer[t] >= 0 || tensors[t].external,
                 "memory plan: tensor " << t << " is read but never written and is not an external input");
  }
}

}  // namespace

MemoryPlan plan_memory_for_order(const std::vector<PlanTensor>& tensors, const std::vector<PlanOp>& ops,
                                 const std::vector<int>& order) {
  validate(tensors, ops);
  const size_t nt = tensors.size();
  SPARSE_CHECK(order.size() == ops.size(), "memory plan: order has " << order.size() << " ops, graph has " << ops.size());
  std::vector<int> step_of(ops.size(), -1);
  for (size_t s = 0; s < order.size(); ++s) {
    SPARSE_CHECK(order[s] >= 0 && order[s] < static_cast<int>(ops.size()) && step_of[order[s]] < 0,
                 "memory plan: order is not a permutation of the ops");
    step_of[order[s]] = static_cast<int>(s);
  }
  // Liveness [first, last] in steps for arena tensors.
  std::vector<int> first(nt, -1), last(nt, -1);
  for (size_t o = 0; o < ops.size(); ++o) {
    const int s = step_of[o];
    first[ops[o].output] = s;
    last[ops[o].output] = std::max(last[ops[o].output], s);
  }
  for (size_t o = 0; o < ops.size(); ++o)
    for (int t : ops[o].inputs) {
      if (!tensors[t].external)
        SPARSE_CHECK(first[t] < step_of[o], "memory plan: op " << o << " runs before tensor " << t << " is written");
      last[t] = std::max(last[t], step_of[o]);
    }
  // In-place sharing: union buffers; a group's interval is the union of its members'.
  MemoryPlan plan;
  plan.order = order;
  plan.shares_with.resize(nt);
  std::iota(plan.shares_with.begin(), plan.shares_with.end(), 0);
  std::function<int(int)> root = [&](int t) { return plan.shares_with[t] == t ? t : root(plan.shares_with[t]); };
  for (int o : order) {
    const PlanOp& op = ops[o];
    if (!op.in_place) continue;
    const int in = op.inputs[0], out = op.output;
    if (tensors[in].external || tensors[out].external) continue;
    if (last[in] != step_of[o] || tensors[out].bytes > tensors[root(in)].bytes) continue;
    // No other reader of `in` may run at this step's position or later (last[in] == this step ensures it).
    plan.shares_with[out] = root(in);
  }
  struct Buffer {
    int first, last;
    int64_t bytes;
    int64_t offset = -1;
  };
  std::vector<Buffer> buffers(nt, {INT32_MAX, -1, 0});
  for (size_t t = 0; t < nt; ++t) {
    if (tensors[t].external) continue;
    Buffer& b = buffers[root(static_cast<int>(t))];
    b.first = std::min(b.first, first[t]);
    b.last = std::max(b.last, last[t]);
    b.bytes = std::max(b.bytes, tensors[t].bytes);
  }
  std::vector<int> roots;
  for (size_t t = 0; t < nt; ++t)
    if (!tensors[t].external && root(static_cast<int>(t)) == static_cast<int>(t)) roots.push_back(static_cast<int>(t));
  // Lower bound: bytes alive at each step.
  for (size_t s = 0; s < order.size(); ++s) {
    int64_t live = 0;
    for (int r : roots)
      if (buffers[r].first <= static_cast<int>(s) && static_cast<int>(s) <= buffers[r].last) live += buffers[r].bytes;
    plan.live_bytes_bound = std::max(plan.live_bytes_bound, live);
  }
  // Greedy by size, first fit.
  std::sort(roots.begin(), roots.end(), [&](int a, int b) {
    return buffers[a].bytes != buffers[b].bytes ? buffers[a].bytes > buffers[b].bytes : buffers[a].first < buffers[b].first;
  });
  std::vector<int> placed;
  for (int r : roots) {
    Buffer& b = buffers[r];
    std::vector<std::pair<int64_t, int64_t>> busy;  // [offset, end) of placed buffers alive at the same time
    for (int p : placed) {
      const Buffer& q = buffers[p];
      if (q.first <= b.last && b.first <= q.last) busy.emplace_back(q.offset, q.offset + q.bytes);
    }
    std::sort(busy.begin(), busy.end());
    int64_t candidate = 0;
    for (const auto& [lo, hi] : busy) {
      if (candidate + b.bytes <= lo) break;
      candidate = std::max(candidate, hi);
    }
    b.offset = candidate;
    plan.arena_bytes = std::max(plan.arena_bytes, candidate + b.bytes);
    placed.push_back(r);
  }
  plan.offset.assign(nt, -1);
  for (size_t t = 0; t < nt; ++t)
    if (!tensors[t].external) plan.offset[t] = buffers[root(static_cast<int>(t))].offset;
  for (size_t t = 0; t < nt; ++t) plan.shares_with[t] = root(static_cast<int>(t));
  plan.orders_tried = 1;
  return plan;
}

MemoryPlan plan_memory(const std::vector<PlanTensor>& tensors, const std::vector<PlanOp>& ops, int max_orders) {
  validate(tensors, ops);
  SPARSE_CHECK(max_orders >= 1, "memory plan: max_orders " << max_orders << " must be at least 1");
  const size_t n = ops.size();
  std::vector<int> producer(tensors.size(), -1);
  for (size_t o = 0; o < n; ++o) producer[ops[o].output] = static_cast<int>(o);
  // Dependencies between ops.
  std::vector<std::vector<int>> deps(n);
  for (size_t o = 0; o < n; ++o)
    for (int t : ops[o].inputs)
      if (producer[t] >= 0) deps[o].push_back(producer[t]);
  std::vector<int> order;
  std::vector<char> done(n, 0);
  MemoryPlan best;
  best.arena_bytes = -1;
  int tried = 0;
  std::function<void()> search = [&] {
    if (tried >= max_orders) return;
    if (order.size() == n) {
      ++tried;
      MemoryPlan p = plan_memory_for_order(tensors, ops, order);
      if (best.arena_bytes < 0 || p.arena_bytes < best.arena_bytes) best = std::move(p);
      return;
    }
    for (size_t o = 0; o < n; ++o) {
      if (done[o]) continue;
      bool ready = true;
      for (int d : deps[o]) ready = ready && done[d];
      if (!ready) continue;
      done[o] = 1;
      order.push_back(static_cast<int>(o));
      search();
      order.pop_back();
      done[o] = 0;
      if (tried >= max_orders) return;
    }
  };
  search();
  SPARSE_CHECK(best.arena_bytes >= 0, "memory plan: the graph has a cycle (no op order runs every op)");
  best.orders_tried = tried;
  return best;
}

}  // namespace sparse::codegen
