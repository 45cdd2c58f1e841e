// A made-up study for the report tests and bench/bench_report.cpp: `n` done trials with deterministic objectives,
// written through the store API with the metrics a search writes, no training.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "host/core/file_io.hpp"
#include "host/graph/graph.hpp"
#include "host/search/search.hpp"
#include "host/space/config.hpp"
#include "host/store/sqlite_store.hpp"

namespace sparse::test {

// A config of the report tests' made-up trials (bench/networks/tiny.json).
inline nlohmann::json tiny_config() { return read_json_file(std::string(SPARSE_SOURCE_DIR) + "/bench/networks/tiny.json"); }

// A store of `n` done trials of `config` with made-up objectives (deterministic in `seed`), written through the store
// API with the metrics a search writes (val_curve, pruned_share, layers, search_seconds). Budgets 2 KB / 2 KB.
inline void write_made_up_store(const std::string& path, int n, uint64_t seed, const std::string& objectives = "acc,ms,wm5",
                                const nlohmann::json& config = tiny_config()) {
  store::SqliteStore st(path, true);
  search::SearchSettings s;
  s.data.name = "synthetic";
  s.objectives = objectives;
  s.max_ms_bytes = 2048;
  if (objectives != "acc,ms") s.max_wm_bytes = 2048;
  s.space = {{"variables", nlohmann::json::object()}};
  s.plan = search::default_plan(std::max(n, 1));
  s.seed = seed;
  const int64_t id = search::create_search(st, s);
  const graph::Graph g = graph::build_graph(space::config_from_json(config));
  nlohmann::json layers = nlohmann::json::array();
  for (const auto& node : g.nodes)
    if (node.has_weights())
      layers.push_back({{"name", node.name},
                        {"params", node.weights},
                        {"nonzero", node.weights},
                        {"channels", node.out.c},
                        {"active_channels", node.out.c}});
  uint64_t x = seed * 2654435761u + 1;
  auto uniform = [&x] {  // xorshift64*: the same made-up study for a seed on every machine
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    return static_cast<double>((x * 2685821657736338717ull) >> 11) / 9007199254740992.0;
  };
  for (int i = 0; i < n; ++i) {
    store::TrialRecord t;
    t.search_id = id;
    t.stage = s.plan.stage_of(i);
    if (t.stage > 0 && i > 0) t.reference_id = 1 + static_cast<int64_t>(uniform() * i);
    t.config = config;
    t.morphs = t.reference_id ? nlohmann::json::array({"morph_kernel_size"}) : nlohmann::json::array();
    st.add_trial(t);
    const auto claimed = st.claim_next(id, "cpu:0");
    store::TrialResult r;
    r.epochs = 3;
    r.val_acc = 0.5 + 0.45 * uniform();
    r.test_acc = *r.val_acc - 0.01;
    r.int8_acc = *r.val_acc - 0.02;
    r.ms_bytes = static_cast<int64_t>(std::pow(10.0, 2.3 + 2.0 * uniform()));
    r.wm5_bytes = static_cast<int64_t>(std::pow(10.0, 2.3 + 2.0 * uniform()));
    r.wm6_bytes = *r.wm5_bytes / 2 + 1;
    r.nonzeros = *r.ms_bytes;
    const double v = *r.val_acc;
    r.metrics = {{"val_curve", {v - 0.1, v - 0.03, v}},
                 {"pruned_share", uniform()},
                 {"layers", layers},
                 {"params", g.params()},
                 {"seconds", 2.0},
                 {"search_seconds", 1.5 * (i + 1)}};
    st.finish(claimed->id, r);
  }
}

}  // namespace sparse::test
