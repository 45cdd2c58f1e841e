// End-to-end SpArSe search on synthetic data through `sparse search` and `sparse pareto`, asserted from the store:
// three stages run, model-based proposals are morphs of earlier trials that inherited their reference's φ, stage 2
// morphs only pruning parameters, stage 3 references are Pareto-optimal, the front is non-empty; a failing trial
// (bad config, divergence) is recorded with its reason while the search goes on.
#include <gtest/gtest.h>

#include <chrono>
#include <set>

#include "gp/pareto.hpp"
#include "host/search/front.hpp"
#include "host/search/search.hpp"
#include "host/space/morph.hpp"
#include "host/space/sample.hpp"
#include "tests/common/run_cli.hpp"
#include "tests/search/search_fixtures.hpp"

using namespace sparse;
using sparse::test::run_cli;
using sparse::test::TempDir;

namespace {

std::string small_search(const TempDir& d, const std::string& store, const std::string& extra) {
  return "search --store " + store + " " + test::search_data() + " --space " + test::write_small_space(d) +
         " --devices cpu --cpu-workers 2 --threads 1 " + extra;
}

}  // namespace

TEST(SearchEndToEnd, ThreeStagesOfMorphsWithInheritedPhiAndAParetoFront) {
  TempDir d;
  const std::string store_path = (d / "s.db").string();
  const auto t0 = std::chrono::steady_clock::now();
  const auto r = run_cli(small_search(d, store_path,
                                      "--objectives acc,ms,wm5 --initial 3 --stage-trials 3,3,3 --rho 1,1,1 --epochs 2 "
                                      "--morph-epochs 1 --seed 7 --json"));
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_LT(seconds, 120.0);
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["state"], "complete");
  EXPECT_EQ(j["trials"]["total"], 12);

  store::SqliteStore st(store_path, false);
  const int64_t id = search::sole_search(st, store_path);
  const auto settings = search::settings_from_record(st.get_search(id), store_path);
  EXPECT_EQ(settings.plan.initial, 3);
  EXPECT_EQ(settings.morph_epochs, 1);
  const auto trials = st.list_trials(id);
  ASSERT_EQ(trials.size(), 12u);
  std::map<int64_t, const store::TrialRecord*> by_id;
  for (const auto& t : trials) by_id[t.id] = &t;
  std::map<int, int> per_stage, model_per_stage;
  const auto pruning = space::stage_morphs(2);
  for (const auto& t : trials) {
    EXPECT_TRUE(t.state == store::TrialState::Done || t.state == store::TrialState::Failed) << t.id;
    EXPECT_EQ(t.state, store::TrialState::Done) << t.id << ": " << t.error;
    ++per_stage[t.stage];
    if (!t.reference_id) {
      EXPECT_TRUE(t.morphs.empty()) << t.id;
      EXPECT_EQ(t.proposal["kind"], "random") << t.id;
      EXPECT_EQ(t.epochs, 2) << t.id;
      continue;
    }
    ++model_per_stage[t.stage];
    // A morph of an earlier completed trial whose φ was stored, and it inherited from it.
    ASSERT_TRUE(by_id.count(*t.reference_id)) << t.id;
    const store::TrialRecord& ref = *by_id[*t.reference_id];
    EXPECT_LT(ref.id, t.id);
    EXPECT_EQ(ref.state, store::TrialState::Done);
    EXPECT_LE(ref.finished_at, t.created_at)
        << "reference " << ref.id << " of trial " << t.id << " ended after it was proposed";
    EXPECT_TRUE(st.get_phi(ref.id).has_value()) << ref.id;
    EXPECT_EQ(t.proposal["kind"], "model");
    EXPECT_EQ(t.proposal["lambda"].size(), 3u);
    EXPECT_EQ(t.proposal["sampled_objectives"].size(), 3u);
    EXPECT_EQ(t.epochs, 1) << "a morph trains for --morph-epochs";
    EXPECT_EQ(t.metrics["inherit"]["reference_id"], ref.id);
    EXPECT_GT(t.metrics["inherit"]["inherited"].get<int64_t>(), 0) << t.id;
    ASSERT_FALSE(t.morphs.empty()) << t.id;
    for (const auto& m : t.morphs) {
      const space::MorphKind k = space::morph_kind_from_string(m.get<std::string>());
      if (t.stage == 2) {
        EXPECT_NE(std::find(pruning.begin(), pruning.end(), k), pruning.end()) << m << " in stage 2";
      }
    }
    EXPECT_NE(space::config_from_json(t.config), space::config_from_json(ref.config)) << t.id;
    if (t.stage == 3) {
      // The reference is one of the recorded Pareto set, and that set is mutually non-dominated and ended before.
      std::vector<int64_t> front = t.proposal["pareto_references"].get<std::vector<int64_t>>();
      EXPECT_NE(std::find(front.begin(), front.end(), ref.id), front.end()) << t.id;
      Eigen::MatrixXd f(static_cast<Eigen::Index>(front.size()), 3);
      for (size_t i = 0; i < front.size(); ++i) {
        const auto& p = *by_id[front[i]];
        EXPECT_LE(p.finished_at, t.created_at);
        f.row(static_cast<Eigen::Index>(i)) << 1.0 - *p.val_acc, double(*p.ms_bytes), double(*p.wm5_bytes);
      }
      EXPECT_EQ(gp::pareto_front(f).size(), front.size()) << t.id;
    }
  }
  EXPECT_EQ(per_stage, (std::map<int, int>{{0, 3}, {1, 3}, {2, 3}, {3, 3}}));
  for (int m = 1; m <= 3; ++m) EXPECT_GE(model_per_stage[m], 1) << "stage " << m << " has no model-based proposal";

  const auto p = run_cli("pareto " + store_path + " --json");
  ASSERT_EQ(p.exit_code, 0) << p.err;
  const auto pj = nlohmann::json::parse(p.out);
  ASSERT_FALSE(pj["front"].empty());
  EXPECT_GT(pj["hypervolume"].get<double>(), 0.0);
  EXPECT_LE(pj["hypervolume"].get<double>(), 1.0);
  EXPECT_EQ(pj["front"].size(), j["front"].size());
  const auto text = run_cli("pareto " + store_path);
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_NE(text.out.find("Pareto-optimal of 12 done trials; hypervolume"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("WM5 B"), std::string::npos) << text.out;
}

TEST(SearchEndToEnd, ProgressLinesAndBudgetsInBytes) {
  TempDir d;
  const auto r = run_cli(small_search(d, (d / "s.db").string(),
                                      "--objectives acc,ms,wm6 --trials 4 --max-ms 300B --max-wm 1KB --epochs 1 "
                                      "--morph-epochs 1"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("MS <= 300 B, WM <= 1024 B"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("trial    1  stage 0  ref    -  acc "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("[done 4, running 0, failed 0 of 4 | best feasible"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("search complete: 4 done, 0 failed of 4 trials"), std::string::npos) << r.out;
  store::SqliteStore st((d / "s.db").string(), false);
  const auto settings = search::settings_from_record(st.get_search(1), "s.db");
  for (const auto& t : st.list_trials(1)) {
    const bool ok = *t.ms_bytes <= 300 && *t.wm6_bytes <= 1024;
    EXPECT_EQ(t.metrics["feasible"].get<bool>(), ok) << t.id;
    EXPECT_EQ(search::feasible(t, settings), ok) << t.id;
    EXPECT_NE(r.out.find("feasible " + std::string(ok ? "yes" : "no ")), std::string::npos);
    EXPECT_EQ(t.metrics["method"], "bc");
    EXPECT_TRUE(t.metrics.contains("layers"));
    EXPECT_TRUE(t.int8_acc.has_value());
  }
}

TEST(SearchEndToEnd, FailedTrialIsRecordedWithItsReasonAndTheSearchGoesOn) {
  TempDir d;
  const std::string path = (d / "s.db").string();
  data::Dataset data;
  search::SearchSettings s = test::small_search_settings(d, 5, data);
  store::SqliteStore st(path, true);
  const int64_t id = search::create_search(st, s);
  // A trial the engine refuses (kernel larger than Table 5 allows), queued first: it counts toward the budget.
  const space::Space space = search::search_space(s, "test");
  PhiloxStream rng(1);
  space::Config bad = space::sample_config(space, rng);
  bad.blocks[0].layers[0].kernel_size = 9;
  store::TrialRecord t;
  t.search_id = id;
  t.config = space::to_json(bad);
  t.proposal = {{"kind", "random"}, {"train_epochs", 1}};
  const int64_t bad_id = st.add_trial(t);
  const auto rep = search::run_search(st, id, s, data, {{"cpu:0", false, 0, 1}});
  EXPECT_TRUE(rep.complete);
  EXPECT_EQ(rep.done, 4);
  EXPECT_EQ(rep.failed, 1);
  const auto failed = st.get_trial(bad_id);
  EXPECT_EQ(failed.state, store::TrialState::Failed);
  EXPECT_EQ(failed.error.rfind("bad config: ", 0), 0u) << failed.error;
  EXPECT_NE(failed.error.find("kernel-size"), std::string::npos) << failed.error;
  EXPECT_EQ(failed.metrics["device"], "cpu:0");
  EXPECT_EQ(st.list_trials(id).size(), 5u);
  // The failed trial is neither a reference nor GP data: later references are done trials.
  for (const auto& x : st.list_trials(id))
    if (x.reference_id) {
      EXPECT_NE(*x.reference_id, bad_id);
    }
}

TEST(SearchEndToEnd, DivergedTrialsAreRecordedAndTheSearchEndsAtItsBudget) {
  TempDir d;
  const std::string path = (d / "s.db").string();
  const auto r = run_cli(small_search(d, path, "--objectives acc,ms --trials 3 --epochs 2 --lr 1e8"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("FAILED: diverged at epoch 1"), std::string::npos) << r.out;
  store::SqliteStore st(path, false);
  const auto trials = st.list_trials(1);
  ASSERT_EQ(trials.size(), 3u);
  for (const auto& t : trials) {
    EXPECT_EQ(t.state, store::TrialState::Failed);
    EXPECT_EQ(t.error.rfind("diverged at epoch ", 0), 0u) << t.error;
    EXPECT_FALSE(t.metrics.value("ok", true));
    EXPECT_FALSE(st.get_phi(t.id).has_value());
  }
  const auto p = run_cli("pareto " + path + " --json");
  ASSERT_EQ(p.exit_code, 0) << p.err;
  const auto pj = nlohmann::json::parse(p.out);
  EXPECT_TRUE(pj["front"].empty());
  EXPECT_EQ(pj["hypervolume"].get<double>(), 0.0);
  EXPECT_EQ(pj["trials"]["failed"], 3);
}
