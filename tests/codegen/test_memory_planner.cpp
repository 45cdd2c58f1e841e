// Memory planner: hand-computed arenas for chains, in-place ops and branches; on random DAGs no two live
// tensors overlap, the arena is at least the live-bytes bound, and the order search never does worse than
// the given order.
#include <gtest/gtest.h>

#include "codegen/memory_planner.hpp"
#include "host/core/error.hpp"
#include "host/core/philox.hpp"

using namespace sparse::codegen;

namespace {

// Every pair of arena tensors alive at the same step occupies disjoint bytes (unless shared in place).
void expect_valid(const std::vector<PlanTensor>& t, const std::vector<PlanOp>& ops, const MemoryPlan& p) {
  std::vector<int> step(ops.size());
  for (size_t s = 0; s < p.order.size(); ++s) step[p.order[s]] = static_cast<int>(s);
  std::vector<int> first(t.size(), -1), last(t.size(), -1);
  for (size_t o = 0; o < ops.size(); ++o) {
    first[ops[o].output] = step[o];
    last[ops[o].output] = std::max(last[ops[o].output], step[o]);
    for (int i : ops[o].inputs) last[i] = std::max(last[i], step[o]);
  }
  for (size_t a = 0; a < t.size(); ++a) {
    if (t[a].external) {
      EXPECT_EQ(p.offset[a], -1);
      continue;
    }
    EXPECT_GE(p.offset[a], 0);
    EXPECT_LE(p.offset[a] + t[a].bytes, p.arena_bytes);
    for (size_t b = a + 1; b < t.size(); ++b) {
      if (t[b].external || p.shares_with[a] == p.shares_with[b]) continue;
      const bool live_together = first[a] <= last[b] && first[b] <= last[a];
      const bool overlap = p.offset[a] < p.offset[b] + t[b].bytes && p.offset[b] < p.offset[a] + t[a].bytes;
      EXPECT_FALSE(live_together && overlap) << "tensors " << a << " and " << b;
    }
  }
  EXPECT_GE(p.arena_bytes, p.live_bytes_bound);
}

}  // namespace

TEST(MemoryPlanner, ChainNeedsTwoNeighboursAtOnce) {
  // in(ext) -> conv -> t1 (100) -> conv -> t2 (50) -> conv -> t3 (80) -> fc -> out(ext)
  std::vector<PlanTensor> t = {{784, true}, {100}, {50}, {80}, {10, true}};
  std::vector<PlanOp> ops = {{{0}, 1}, {{1}, 2}, {{2}, 3}, {{3}, 4}};
  const auto p = plan_memory(t, ops);
  expect_valid(t, ops, p);
  EXPECT_EQ(p.arena_bytes, 150);  // max(100+50, 50+80) = 150, and t3 reuses t1's bytes
  EXPECT_EQ(p.live_bytes_bound, 150);
  EXPECT_EQ(p.offset[0], -1);
}

TEST(MemoryPlanner, InPlaceOpReusesItsInput) {
  // t1 (100) -> relu in place -> t2 (100) -> conv -> t3 (40)
  std::vector<PlanTensor> t = {{50, true}, {100}, {100}, {40}, {10, true}};
  std::vector<PlanOp> ops = {{{0}, 1}, {{1}, 2, true}, {{2}, 3}, {{3}, 4}};
  const auto p = plan_memory(t, ops);
  expect_valid(t, ops, p);
  EXPECT_EQ(p.shares_with[2], 1);
  EXPECT_EQ(p.offset[2], p.offset[1]);
  EXPECT_EQ(p.arena_bytes, 140);
  // Without in-place the same graph needs t1 and t2 at once.
  ops[1].in_place = false;
  EXPECT_EQ(plan_memory(t, ops).arena_bytes, 200);
}

TEST(MemoryPlanner, InPlaceIsRefusedWhenTheInputIsReadLater) {
  // t1 feeds both the in-place op and a later add: t2 cannot overwrite it.
  std::vector<PlanTensor> t = {{8, true}, {64}, {64}, {64}, {8, true}};
  std::vector<PlanOp> ops = {{{0}, 1}, {{1}, 2, true}, {{1, 2}, 3}, {{3}, 4}};
  const auto p = plan_memory(t, ops);
  expect_valid(t, ops, p);
  EXPECT_NE(p.shares_with[2], 1);
  EXPECT_EQ(p.arena_bytes, 192);
}

TEST(MemoryPlanner, BranchOrderChangesThePeak) {
  // x(ext) -> a (big, 1000) -> a2 (10);  x -> b (300) -> b2 (300) -> b3 (10); merge(a2, b3) -> out(ext).
  // Branch a first: peak 1010 (a with a2), then a2 stays alive during b (610).
  // Branch b first: b3 stays alive while a runs: peak 1020 (a, a2 and b3).
  std::vector<PlanTensor> t = {{784, true}, {1000}, {10}, {300}, {300}, {10}, {10, true}};
  std::vector<PlanOp> ops = {{{0}, 1}, {{1}, 2}, {{0}, 3}, {{3}, 4}, {{4}, 5}, {{2, 5}, 6}};
  const auto given = plan_memory_for_order(t, ops, {0, 1, 2, 3, 4, 5});
  const auto other = plan_memory_for_order(t, ops, {2, 3, 4, 0, 1, 5});
  expect_valid(t, ops, given);
  expect_valid(t, ops, other);
  EXPECT_EQ(given.live_bytes_bound, 1010);
  EXPECT_EQ(other.live_bytes_bound, 1020);
  EXPECT_EQ(given.arena_bytes, 1010);
  const auto best = plan_memory(t, ops);
  expect_valid(t, ops, best);
  EXPECT_GT(best.orders_tried, 1);
  EXPECT_EQ(best.arena_bytes, 1010);
  EXPECT_LT(best.arena_bytes, other.arena_bytes);
  // The same graph with branch b listed first: index order is the worse one, the search finds the better.
  std::vector<PlanOp> b_first = {{{0}, 3}, {{3}, 4}, {{4}, 5}, {{0}, 1}, {{1}, 2}, {{2, 5}, 6}};
  EXPECT_EQ(plan_memory_for_order(t, b_first, {0, 1, 2, 3, 4, 5}).arena_bytes, 1020);
  const auto searched = plan_memory(t, b_first);
  expect_valid(t, b_first, searched);
  EXPECT_EQ(searched.arena_bytes, 1010);
  EXPECT_EQ(searched.order[0], 3);
}

TEST(MemoryPlanner, RandomGraphsAreValidAndSearchNeverLoses) {
  sparse::PhiloxStream rng(99);
  for (int g = 0; g < 200; ++g) {
    const int n_ops = 2 + static_cast<int>(rng.below(9));
    std::vector<PlanTensor> t = {{static_cast<int64_t>(1 + rng.below(100)), true}};
    std::vector<PlanOp> ops;
    for (int o = 0; o < n_ops; ++o) {
      PlanOp op;
      const int avail = static_cast<int>(t.size());
      op.inputs.push_back(static_cast<int>(rng.below(avail)));
      if (avail > 1 && rng.below(3) == 0) {
        const int second = static_cast<int>(rng.below(avail));
        if (second != op.inputs[0]) op.inputs.push_back(second);
      }
      op.in_place = rng.below(3) == 0;
      t.push_back({static_cast<int64_t>(1 + rng.below(500)), o == n_ops - 1});
      op.output = static_cast<int>(t.size()) - 1;
      ops.push_back(op);
    }
    std::vector<int> identity(n_ops);
    for (int o = 0; o < n_ops; ++o) identity[o] = o;
    const auto base = plan_memory_for_order(t, ops, identity);
    const auto best = plan_memory(t, ops, 500);
    expect_valid(t, ops, base);
    expect_valid(t, ops, best);
    EXPECT_LE(best.arena_bytes, base.arena_bytes);
  }
}

TEST(MemoryPlanner, BadGraphs) {
  std::vector<PlanTensor> t = {{4, true}, {4}, {4}};
  auto msg = [&](const std::vector<PlanOp>& ops) {
    try {
      plan_memory(t, ops);
    } catch (const sparse::Error& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_NE(msg({{{0}, 1}, {{0}, 1}}).find("tensor 1 is written by ops 0 and 1"), std::string::npos);
  EXPECT_NE(msg({{{0}, 5}}).find("op 0 writes tensor 5"), std::string::npos);
  EXPECT_NE(msg({{{2}, 1}, {{1}, 2}}).find("cycle"), std::string::npos);
  EXPECT_NE(msg({{{0}, 1}}).find("tensor 2 is read but never written"), std::string::npos);
}
