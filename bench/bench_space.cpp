// Throughput of the candidate pipeline the optimizer runs per proposal: sample, morph, encode, graph + memory model.
// BM_Candidate is the figure of issue 3 (target: >= 20,000 candidates/s on one core); the others split it up.
#include <benchmark/benchmark.h>

#include "host/core/philox.hpp"
#include "host/graph/graph.hpp"
#include "host/memory/memory.hpp"
#include "host/space/encode.hpp"
#include "host/space/morph.hpp"
#include "host/space/sample.hpp"

using namespace sparse;

namespace {

void BM_Sample(benchmark::State& state) {
  PhiloxStream rng(1);
  space::SampleStats stats;
  for (auto _ : state) benchmark::DoNotOptimize(space::sample_config(space::default_space(), rng, &stats));
  state.SetItemsProcessed(state.iterations());
  state.counters["rejection_rate"] = stats.rejection_rate();
}

void BM_Morph(benchmark::State& state) {
  PhiloxStream rng(2);
  const auto allowed = space::stage_morphs(1);
  space::Config c = space::sample_config(space::default_space(), rng);
  for (auto _ : state) {
    space::MorphResult r = space::morph(c, space::default_space(), rng, allowed, 3);
    c = std::move(r.config);
    benchmark::DoNotOptimize(c);
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_Encode(benchmark::State& state) {
  PhiloxStream rng(3);
  const space::Config c = space::sample_config(space::default_space(), rng);
  space::Encoding e;
  for (auto _ : state) {
    space::encode_into(c, space::default_space(), e);
    benchmark::DoNotOptimize(e.numeric.data());
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_GraphMemory(benchmark::State& state) {
  PhiloxStream rng(4);
  const space::Config c = space::sample_config(space::default_space(), rng);
  for (auto _ : state) {
    const graph::Graph g = graph::build_graph(c);
    benchmark::DoNotOptimize(memory::memory_report(g, memory::dense_state(g)));
  }
  state.SetItemsProcessed(state.iterations());
}

// One candidate = a uniform sample, a morph of it (1-3 Table 6 morphs), its GP encoding, its network and its
// MS / WM5 / WM6 (eqs. 4-6).
void BM_Candidate(benchmark::State& state) {
  PhiloxStream rng(5);
  const auto allowed = space::stage_morphs(1);
  space::Encoding e;
  int64_t wm = 0;
  for (auto _ : state) {
    const space::Config ref = space::sample_config(space::default_space(), rng);
    const space::MorphResult r = space::morph(ref, space::default_space(), rng, allowed, 3);
    space::encode_into(r.config, space::default_space(), e);
    const graph::Graph g = graph::build_graph(r.config);
    const memory::MemoryReport m = memory::memory_report(g, memory::dense_state(g));
    wm += m.wm5_bytes + m.wm6_bytes + m.ms_bytes;
  }
  benchmark::DoNotOptimize(wm);
  state.SetItemsProcessed(state.iterations());
}

}  // namespace

BENCHMARK(BM_Sample);
BENCHMARK(BM_Morph);
BENCHMARK(BM_Encode);
BENCHMARK(BM_GraphMemory);
BENCHMARK(BM_Candidate);
BENCHMARK_MAIN();
