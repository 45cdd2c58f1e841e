// The search-quality rules: the accuracy floor (--min-acc) as a hard constraint, working memory on the downsampled
// or raw input (--wm-input), the median early-stopping rule (--early-stop) in isolation and through a real search
// that stops and resumes, the refinement stage (--refine) in isolation and through a real search; stored settings
// of older stores; bad values of each new flag named in the error.
#include <gtest/gtest.h>

#include "host/graph/graph.hpp"
#include "host/memory/memory.hpp"
#include "host/search/early_stop.hpp"
#include "host/space/canonical.hpp"
#include "host/space/config.hpp"
#include "host/space/sample.hpp"
#include "host/search/front.hpp"
#include "host/search/refine.hpp"
#include "host/search/search.hpp"
#include "host/store/sqlite_store.hpp"
#include "tests/common/run_cli.hpp"
#include "tests/search/search_fixtures.hpp"

using namespace sparse;
using namespace sparse::search;
using sparse::test::run_cli;
using sparse::test::TempDir;

namespace {

store::TrialRecord with_curve(int64_t id, std::vector<double> curve, bool morph) {
  store::TrialRecord t;
  t.id = id;
  t.state = store::TrialState::Done;
  if (morph) t.reference_id = 1;
  t.metrics = {{"val_curve", curve}};
  return t;
}

std::string quick(const TempDir& d, const std::string& store, const std::string& extra) {
  return "search --store " + store + " " + test::search_data() + " --space " + test::write_small_space(d) +
         " --devices cpu --threads 1 --objectives acc,ms,wm5 " + extra;
}

}  // namespace

TEST(SearchQuality, AccuracyFloorIsAHardConstraint) {
  SearchSettings s;
  s.objectives = "acc,ms,wm5";
  s.max_ms_bytes = 2048;
  s.min_acc = 0.6;
  store::TrialRecord t;
  t.state = store::TrialState::Done;
  t.ms_bytes = 100;
  t.wm5_bytes = t.wm6_bytes = 100;
  t.val_acc = 0.59;
  EXPECT_FALSE(feasible(t, s));
  t.val_acc = 0.61;
  EXPECT_TRUE(feasible(t, s));
  t.ms_bytes = 4096;
  EXPECT_FALSE(feasible(t, s)) << "the floor adds to the budgets, it does not replace them";
  const auto b = gp_budgets(s);
  EXPECT_NEAR(b[0], 0.4, 1e-12);  // f1 = 1 - accuracy <= 1 - floor
  s.min_acc.reset();
  EXPECT_TRUE(std::isinf(gp_budgets(s)[0]));
}

TEST(SearchQuality, NewSettingsRoundTripAndOldStoresKeepTheirMeaning) {
  SearchSettings s;
  s.data.name = "synthetic";
  s.min_acc = 0.75;
  s.wm_input = memory::WmInput::raw;
  s.early_stop = "median";
  s.early_stop_peers = 7;
  s.log_variance_lr_scale = 10;
  s.pruning = false;
  s.space = {{"variables", nlohmann::json::object()}};
  const SearchSettings back = settings_from_json(to_json(s), "test");
  EXPECT_EQ(back.min_acc, std::optional<double>(0.75));
  EXPECT_EQ(back.wm_input, memory::WmInput::raw);
  EXPECT_EQ(back.early_stop, "median");
  EXPECT_EQ(back.early_stop_peers, 7);
  EXPECT_EQ(back.log_variance_lr_scale, 10);
  EXPECT_FALSE(back.pruning);
  // A version-1 store: no floor, raw working memory (what it was searched with), no early stopping.
  SearchSettings plain;
  plain.data = s.data;
  plain.space = s.space;
  nlohmann::json v1 = to_json(plain);
  v1["version"] = 1;
  v1.erase("wm_input");
  v1["budgets"].erase("min_acc");
  v1["train"].erase("early_stop");
  v1["train"].erase("early_stop_peers");
  v1["train"].erase("log_variance_lr_scale");
  v1["train"].erase("pruning");
  const SearchSettings old = settings_from_json(v1, "old");
  EXPECT_FALSE(old.min_acc.has_value());
  EXPECT_EQ(old.wm_input, memory::WmInput::raw);
  EXPECT_EQ(old.early_stop, "off");
  EXPECT_EQ(old.log_variance_lr_scale, 1);
  EXPECT_TRUE(old.pruning);
  // A new search defaults to the paper's count.
  EXPECT_EQ(SearchSettings{}.wm_input, memory::WmInput::downsampled);
}

TEST(SearchQuality, MedianStopComparesPeersOfTheSameKindAtTheSameEpoch) {
  const std::vector<store::TrialRecord> trials = {
      with_curve(1, {0.5, 0.6, 0.7}, false), with_curve(2, {0.6, 0.7}, false), with_curve(3, {0.7, 0.8, 0.9}, false),
      with_curve(4, {0.1, 0.1, 0.1}, true),  // a morph: not a peer of random configs
  };
  const MedianStop rnd(trials, false, 3);
  EXPECT_EQ(rnd.peers_at(1), 3);
  EXPECT_EQ(rnd.peers_at(3), 2);
  ASSERT_TRUE(rnd.median_at(1).has_value());
  EXPECT_DOUBLE_EQ(*rnd.median_at(1), 0.6);
  EXPECT_TRUE(rnd.should_stop(1, 0.55));
  EXPECT_FALSE(rnd.should_stop(1, 0.6));
  EXPECT_FALSE(rnd.median_at(3).has_value()) << "only 2 peers reached epoch 3";
  EXPECT_FALSE(rnd.should_stop(3, 0.0));
  const MedianStop two(trials, false, 2);
  EXPECT_DOUBLE_EQ(*two.median_at(3), 0.8);  // even count: mean of the middle two
  const MedianStop morphs(trials, true, 1);
  EXPECT_DOUBLE_EQ(*morphs.median_at(2), 0.1);
  EXPECT_FALSE(morphs.should_stop(2, 0.2));
}

TEST(SearchQuality, EarlyStoppedTrialsAreRecordedAndTheRuleResumes) {
  TempDir d;
  const std::string path = (d / "s.db").string();
  // The first session's time budget ends it after its first trials; the resume runs the rest under the same rule.
  const auto first = run_cli(quick(d, path,
                                   "--cpu-workers 1 --initial 10 --stage-trials 2,0,0 --epochs 4 --morph-epochs 2 "
                                   "--early-stop median --early-stop-peers 2 --min-acc 0.3 --time 1s --seed 3"));
  ASSERT_EQ(first.exit_code, 0) << first.err;
  const auto second = run_cli("search --resume " + path + " --cpu-workers 1 --threads 1 --time 10m");
  ASSERT_EQ(second.exit_code, 0) << second.err;
  store::SqliteStore st(path, false);
  const int64_t id = sole_search(st, path);
  const SearchSettings s = settings_from_record(st.get_search(id), path);
  EXPECT_EQ(s.early_stop, "median");
  EXPECT_EQ(s.min_acc, std::optional<double>(0.3));
  EXPECT_EQ(s.wm_input, memory::WmInput::downsampled);
  const auto trials = st.list_trials(id);
  ASSERT_EQ(trials.size(), 12u);
  int stopped = 0;
  for (const auto& t : trials) {
    ASSERT_EQ(t.state, store::TrialState::Done) << t.id << ": " << t.error;
    const auto& curve = t.metrics["val_curve"];
    ASSERT_EQ(static_cast<int>(curve.size()), t.epochs) << t.id;
    if (!t.metrics.contains("early_stop")) {
      EXPECT_EQ(t.metrics["stopped_at_epoch"], 0) << t.id;
      continue;
    }
    ++stopped;
    const auto& e = t.metrics["early_stop"];
    const int epoch = e["epoch"].get<int>();
    EXPECT_EQ(t.metrics["stopped_at_epoch"], epoch);
    EXPECT_EQ(t.epochs, epoch) << "a stopped trial ends after the epoch the rule fired";
    EXPECT_LT(e["val_acc"].get<double>(), e["median"].get<double>());
    EXPECT_GE(e["peers"].get<int>(), 2);
    EXPECT_DOUBLE_EQ(curve[static_cast<size_t>(epoch - 1)].get<double>(), e["val_acc"].get<double>());
    EXPECT_TRUE(st.get_phi(t.id).has_value()) << "a stopped trial keeps its φ (morphs may inherit it)";
  }
  EXPECT_GT(stopped, 0) << "with 10 random configs on one worker some fall below the running median";
  EXPECT_LT(stopped, 12);
}

TEST(SearchQuality, BadValuesOfTheNewFlagsAreRefusedNamingThem) {
  TempDir d;
  const std::string p = (d / "s.db").string();
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"--min-acc 1.5", "--min-acc 1.5"},
      {"--min-acc -0.1", "--min-acc -0.1"},
      {"--wm-input flat", "--wm-input 'flat'"},
      {"--early-stop always", "--early-stop 'always'"},
      {"--early-stop median --early-stop-peers 0", "--early-stop-peers 0"},
      {"--log-variance-lr-scale 0", "--log-variance-lr-scale 0"},
      {"--pruning maybe", "--pruning 'maybe'"},
      {"--initial 1 --refine -1", "--refine -1"},
      {"--initial 1 --refine 2", "--refine 2 is out of range"},  // 2 trials: at most 1 refinement
      {"--initial 1 --refine 1 --refine-epochs 0", "--refine-epochs 0"},
      {"--initial 1 --refine 1 --refine-after 0", "--refine-after 0"},
      {"--initial 1 --refine 1 --refine-after 1.5", "--refine-after 1.5"},
  };
  for (const auto& [flags, needle] : cases) {
    const auto r = run_cli(quick(d, p, "--trials 2 --epochs 1 " + flags));
    EXPECT_EQ(r.exit_code, 1) << flags << "\n" << r.err;
    EXPECT_NE(r.err.find(needle), std::string::npos) << flags << ": " << r.err;
  }
  EXPECT_FALSE(std::filesystem::exists(p));
}

namespace {

// An 8-trial search of the small space under MS and WM budgets of 700 B with `prescreen_flags`; its stored
// settings and trials, and how many draws or candidates the prescreen turned away.
struct Prescreened {
  SearchSettings settings;
  std::vector<store::TrialRecord> trials;
  int screened = 0;
};

Prescreened prescreened_search(const TempDir& d, const std::string& prescreen_flags) {
  const std::string path = (d / "s.db").string();
  const auto r = run_cli(quick(d, path,
                               "--cpu-workers 2 --initial 4 --stage-trials 4,0,0 --rho 1,1,1 --epochs 1 --morph-epochs 1 "
                               "--max-ms 700 --max-wm 700 --seed 4 " + prescreen_flags));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  Prescreened out;
  if (r.exit_code != 0) return out;
  store::SqliteStore st(path, false);
  const int64_t id = sole_search(st, path);
  out.settings = settings_from_record(st.get_search(id), path);
  out.trials = st.list_trials(id);
  for (const auto& t : out.trials) out.screened += t.proposal.value("prescreened", 0);
  return out;
}

memory::MemoryReport dense_memory(const store::TrialRecord& t) {
  const auto g = graph::build_graph(space::config_from_json(t.config));
  return memory::memory_report(g, memory::dense_state(g));
}

void expect_rejected(const TempDir& d, const std::string& flag_and_value) {
  const auto bad = run_cli(quick(d, (d / "t.db").string(), "--trials 2 --epochs 1 " + flag_and_value));
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.err.find(flag_and_value), std::string::npos) << bad.err;
  EXPECT_FALSE(std::filesystem::exists(d / "t.db"));
}

}  // namespace

TEST(SearchQuality, PrescreenKeepsHopelessConfigsOut) {
  TempDir d;
  const auto p = prescreened_search(d, "--prescreen 1");
  EXPECT_EQ(p.settings.prescreen, 1.0);
  ASSERT_EQ(p.trials.size(), 8u);
  for (const auto& t : p.trials) {
    EXPECT_LE(dense_memory(t).ms_bytes, 700) << t.id;
    EXPECT_LE(dense_memory(t).wm5_bytes, 700) << t.id;
  }
  EXPECT_GT(p.screened, 0) << "the small space has configs over 700 B that the prescreen must have turned away";
  expect_rejected(d, "--prescreen 0.5");
}

// --prescreen-wm alone: the working-memory budget screens configs, the model size is left to pruning.
TEST(SearchQuality, PrescreenWmScreensWorkingMemoryAlone) {
  TempDir d;
  const auto p = prescreened_search(d, "--prescreen 0 --prescreen-wm 1");
  EXPECT_EQ(p.settings.prescreen, 0.0);
  EXPECT_EQ(p.settings.prescreen_wm, 1.0);
  ASSERT_EQ(p.trials.size(), 8u);
  for (const auto& t : p.trials) EXPECT_LE(dense_memory(t).wm5_bytes, 700) << t.id;
  EXPECT_GT(p.screened, 0) << "the small space has configs with WM over 700 B that the prescreen must have turned away";
  expect_rejected(d, "--prescreen-wm 0.5");
}

// --pruning off: every trial of the search (random configs and morphs) is the dense network, and the setting is
// stored with the search, so a resume keeps it.
TEST(SearchQuality, SearchWithoutPruningTrainsDenseTrials) {
  TempDir d;
  const std::string path = (d / "s.db").string();
  const auto r = run_cli(quick(d, path,
                               "--cpu-workers 1 --initial 3 --stage-trials 2,0,0 --rho 1,1,1 --epochs 1 "
                               "--morph-epochs 1 --pruning off --seed 5"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("no pruning"), std::string::npos) << r.out;
  store::SqliteStore st(path, false);
  const int64_t id = sole_search(st, path);
  EXPECT_FALSE(settings_from_record(st.get_search(id), path).pruning);
  const auto trials = st.list_trials(id);
  ASSERT_EQ(trials.size(), 5u);
  for (const auto& t : trials) {
    ASSERT_EQ(t.state, store::TrialState::Done) << t.id << ": " << t.error;
    const auto g = graph::build_graph(space::config_from_json(t.config));
    const auto dense = memory::memory_report(g, memory::dense_state(g));
    // Nothing is pruned; only a weight or bias that trained to exactly 0 (or reads a dead channel) is not counted.
    EXPECT_GE(double(*t.ms_bytes), 0.99 * double(dense.ms_bytes)) << t.id;
    EXPECT_LE(*t.ms_bytes, dense.ms_bytes) << t.id;
    EXPECT_EQ(t.metrics["pruned_share"].get<double>(), 0.0) << t.id;
  }
}

namespace {

store::TrialRecord scored(int64_t id, const std::string& config, double val, int64_t ms) {
  store::TrialRecord t;
  t.id = id;
  t.state = store::TrialState::Done;
  t.config = nlohmann::json::parse(config);
  t.val_acc = val;
  t.ms_bytes = ms;
  t.wm5_bytes = t.wm6_bytes = 100;
  t.proposal = {{"kind", "random"}};
  return t;
}

}  // namespace

TEST(SearchQuality, RefinementContinuesTheBestFeasibleTrialsOnce) {
  const space::Space space = space::load_space(space::default_space_path());
  sparse::PhiloxStream rng(11, 0);
  std::vector<space::Config> cs;
  std::set<std::string> keys;
  while (cs.size() < 3) {
    space::Config c = space::sample_config(space, rng);
    if (keys.insert(space::canonical_key(c, space)).second) cs.push_back(c);
  }
  const space::Config &a = cs[0], &b = cs[1], &c = cs[2];
  SearchSettings s;
  s.objectives = "acc,ms,wm5";
  s.max_ms_bytes = 1000;
  s.plan.initial = 4;
  s.plan.stage_trials = {4, 1, 1};
  s.refine_trials = 2;
  s.refine_epochs = 7;
  // Trial 3 has the best accuracy but breaks the budget; 1 and 2 are the feasible ones, 2 first.
  std::vector<store::TrialRecord> trials = {scored(1, space::to_json(a).dump(), 0.70, 500),
                                            scored(2, space::to_json(b).dump(), 0.80, 900),
                                            scored(3, space::to_json(c).dump(), 0.95, 5000)};
  // Trial 2 trained 2 epochs in 100 s: refining it for 7 takes ~350 s; with 300 s left trial 1 (10 s) is chosen.
  trials[1].epochs = 2;
  trials[1].metrics = {{"seconds", 100.0}, {"pretrain_epochs", 0}};
  trials[0].epochs = 2;
  trials[0].metrics = {{"seconds", 10.0}, {"pretrain_epochs", 0}};
  EXPECT_DOUBLE_EQ(refinement_seconds(trials[1], s), 350.0);
  EXPECT_EQ(refinement_trial(trials, s, space, 9, 2, 300.0)->reference_id, std::optional<int64_t>(1));
  EXPECT_FALSE(refinement_trial(trials, s, space, 9, 2, 20.0).has_value()) << "nothing fits in 20 s";
  const auto first = refinement_trial(trials, s, space, 9, 2);
  ASSERT_TRUE(first.has_value());
  EXPECT_DOUBLE_EQ(first->proposal["estimated_seconds"].get<double>(), 350.0);
  EXPECT_TRUE(is_refinement(*first));
  EXPECT_EQ(first->reference_id, std::optional<int64_t>(2));
  EXPECT_EQ(first->config, trials[1].config) << "a refinement keeps its reference's config";
  EXPECT_EQ(first->stage, 2);
  EXPECT_EQ(first->search_id, 9);
  EXPECT_EQ(first->proposal["train_epochs"], 7);
  EXPECT_EQ(first->proposal["refinement"], 1);
  store::TrialRecord queued = *first;
  queued.id = 4;
  queued.state = store::TrialState::Queued;
  trials.push_back(queued);
  const auto second = refinement_trial(trials, s, space, 9, 2);
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(second->reference_id, std::optional<int64_t>(1)) << "config b already has a refinement (queued)";
  // Once refined and scored, the refinement itself is a feasible trial of the same config: not refined again.
  trials.back().state = store::TrialState::Done;
  trials.back().val_acc = 0.9;
  trials.back().ms_bytes = 800;
  trials.back().wm5_bytes = trials.back().wm6_bytes = 100;
  EXPECT_EQ(refinement_trial(trials, s, space, 9, 2)->reference_id, std::optional<int64_t>(1));
  store::TrialRecord done2 = *second;
  done2.id = 5;
  trials.push_back(done2);
  EXPECT_FALSE(refinement_trial(trials, s, space, 9, 2).has_value()) << "refine_trials = 2 refinements exist";
  s.refine_trials = 3;
  EXPECT_FALSE(refinement_trial(trials, s, space, 9, 2).has_value()) << "no feasible config left without one";

  // When: the plan's last refine_trials trials, or from refine_after of the time budget.
  EXPECT_FALSE(refinement_due(s, 6, 0));
  EXPECT_TRUE(refinement_due(s, 7, 0));  // 10 trials, 3 refinements: creation indices 7, 8, 9
  s.time_seconds = 100;
  s.refine_after = 0.8;
  EXPECT_FALSE(refinement_due(s, 0, 79));
  EXPECT_TRUE(refinement_due(s, 0, 80));
  s.refine_trials = 0;
  EXPECT_FALSE(refinement_due(s, 9, 1000));
  // Refinements are nobody's peers under the median rule.
  store::TrialRecord r = with_curve(6, {0.99, 0.99}, true);
  r.proposal = {{"kind", "refine"}};
  EXPECT_EQ(MedianStop({with_curve(5, {0.1, 0.2}, true), r}, true, 1).peers_at(1), 1);
  // Stored and read back; stores from before the stage have none.
  s.data.name = "synthetic";
  s.space = {{"variables", nlohmann::json::object()}};
  s.refine_trials = 3;
  s.refine_after = 0.5;
  const SearchSettings back = settings_from_json(to_json(s), "test");
  EXPECT_EQ(back.refine_trials, 3);
  EXPECT_EQ(back.refine_epochs, 7);
  EXPECT_EQ(back.refine_after, 0.5);
  nlohmann::json old = to_json(s);
  old.erase("refine");
  EXPECT_EQ(settings_from_json(old, "old").refine_trials, 0);
}

// A search whose last two trials refine its two best feasible trials: each keeps its reference's config, inherits
// all of its φ, trains the refinement epochs without pretraining, and the two references differ.
TEST(SearchQuality, SearchRefinesItsBestTrialsAtTheEnd) {
  TempDir d;
  const std::string path = (d / "s.db").string();
  const auto r = run_cli(quick(d, path,
                               "--cpu-workers 1 --initial 4 --stage-trials 2,0,0 --rho 1,1,1 --epochs 1 "
                               "--morph-epochs 1 --refine 2 --refine-epochs 3 --seed 6"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("refinement"), std::string::npos) << r.out;
  store::SqliteStore st(path, false);
  const int64_t id = sole_search(st, path);
  const SearchSettings s = settings_from_record(st.get_search(id), path);
  EXPECT_EQ(s.refine_trials, 2);
  const auto trials = st.list_trials(id);
  ASSERT_EQ(trials.size(), 6u);
  std::set<int64_t> refs;
  for (size_t i = 0; i < trials.size(); ++i) {
    const auto& t = trials[i];
    ASSERT_EQ(t.state, store::TrialState::Done) << t.id << ": " << t.error;
    EXPECT_EQ(is_refinement(t), i >= 4) << t.id;
    if (!is_refinement(t)) continue;
    ASSERT_TRUE(t.reference_id.has_value());
    refs.insert(*t.reference_id);
    const auto ref = std::find_if(trials.begin(), trials.end(), [&](const auto& x) { return x.id == *t.reference_id; });
    ASSERT_NE(ref, trials.end());
    EXPECT_LT(ref->id, t.id);
    EXPECT_EQ(ref->config, t.config);
    EXPECT_EQ(t.epochs, 3) << t.id;
    EXPECT_EQ(t.metrics["pretrain_epochs"], 0) << t.id;
    EXPECT_EQ(t.metrics["inherit"]["inherited"], t.metrics["inherit"]["total"]) << "all of φ is inherited";
    // The best done trial before it (that has no refinement yet) was chosen.
    for (const auto& x : trials) {
      if (x.id < t.id && !is_refinement(x) && !refs.count(x.id) && x.config != t.config) {
        EXPECT_LE(*x.val_acc, *ref->val_acc + 1e-12) << "trial " << x.id << " beat reference " << ref->id;
      }
    }
  }
  EXPECT_EQ(refs.size(), 2u) << "two distinct trials refined";
}
