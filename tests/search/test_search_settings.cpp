// Search settings and fronts without training: stage plans, the settings JSON round trip and resume conflicts,
// trial seeds, spent search time, feasibility, the Pareto front and its hypervolume on hand-made trials.
#include <gtest/gtest.h>

#include <set>

#include "host/search/front.hpp"
#include "host/search/search.hpp"
#include "tests/common/error_of.hpp"
#include "tests/search/search_fixtures.hpp"

using namespace sparse;
using namespace sparse::search;
using sparse::test::done_trial;
using sparse::test::error_of;

namespace {

SearchSettings some_settings() {
  SearchSettings s;
  s.data.name = "synthetic";
  s.data.image_shape = data::ImageShape{16, 16, 1};
  s.data.val_size = 50;
  s.objectives = "acc,ms,wm6";
  s.max_ms_bytes = 2048;
  s.max_wm_bytes = 1000;
  s.plan = default_plan(40);
  s.time_seconds = 90;
  s.rho = {0.5, 0.6, 0.75};
  s.lr = 3e-4;
  s.seed = 0xFFFFFFFFFFFFFFF0ull;
  s.space = {{"variables", nlohmann::json::object()}};
  return s;
}

}  // namespace

TEST(SearchSettings, DefaultPlansAndStages) {
  const StagePlan paper = default_plan(0);
  EXPECT_EQ(paper.total(), 325);  // the paper's Fig. 3 searches sample 325 configurations
  EXPECT_EQ(paper.initial, 25);
  const StagePlan p = default_plan(12);
  EXPECT_EQ(p.initial, 2);
  EXPECT_EQ(p.stage_trials, (std::array<int, 3>{4, 3, 3}));
  EXPECT_EQ(p.total(), 12);
  EXPECT_EQ(default_plan(1).total(), 1);
  EXPECT_EQ(default_plan(1).initial, 1);
  const std::vector<int> want = {0, 0, 1, 1, 1, 1, 2, 2, 2, 3, 3, 3, 3};
  for (size_t n = 0; n < want.size(); ++n) EXPECT_EQ(p.stage_of(static_cast<int64_t>(n)), want[n]) << n;
}

TEST(SearchSettings, ObjectivePresetsPickTheMethodAndWorkingMemoryModel) {
  EXPECT_EQ(parse_objectives("acc,ms").count, 2);
  EXPECT_EQ(parse_objectives("acc,ms").method, nn::Method::spvd);
  EXPECT_EQ(parse_objectives("acc,ms,wm5").wm, "wm5");
  EXPECT_EQ(parse_objectives("acc,ms,wm6").method, nn::Method::bc);
  EXPECT_NE(error_of([] { parse_objectives("acc"); }).find("'acc' is not a preset"), std::string::npos);
}

TEST(SearchSettings, JsonRoundTripAndConflicts) {
  const SearchSettings s = some_settings();
  check_settings(s);
  const store::SearchRecord r = record_of(s);
  EXPECT_EQ(r.budgets["max_wm_bytes"], 1000);
  EXPECT_EQ(r.budgets["trials"], 40);
  const SearchSettings back = settings_from_record(r, "test");
  EXPECT_EQ(to_json(back), to_json(s));
  EXPECT_EQ(back.seed, s.seed);
  EXPECT_EQ(*back.data.val_size, 50u);

  SearchSettings other = s;
  other.plan = default_plan(41);
  other.lr = 1e-3;
  const auto c = conflicts(s, other, {"/budgets/trials", "/train/lr", "/objectives", "/budgets/max_ms_bytes"});
  ASSERT_EQ(c.size(), 2u);
  EXPECT_EQ(c[0], "budgets/trials is 40 in the store, 41 was given");
  EXPECT_EQ(c[1].rfind("train/lr is 0.0003 in the store", 0), 0u) << c[1];
  EXPECT_TRUE(conflicts(s, other, {"/objectives"}).empty());

  nlohmann::json broken = to_json(s);
  broken["train"].erase("epochs");
  EXPECT_NE(error_of([&] {
              settings_from_json(broken, "store 'x'");
            }).find("store 'x': search settings lack '/train/epochs'"),
            std::string::npos);
  broken = to_json(s);
  broken["budgets"]["trials"] = 7;
  EXPECT_NE(error_of([&] { settings_from_json(broken, "x"); }).find("budgets.trials = 7 but the stage plan sums to 40"),
            std::string::npos);
  SearchSettings wm = s;
  wm.objectives = "acc,ms";
  EXPECT_NE(error_of([&] { check_settings(wm); }).find("--max-wm needs"), std::string::npos);
}

TEST(SearchSettings, TrialSeedsDifferAcrossTrialsAndSearches) {
  std::set<uint64_t> seen;
  for (uint64_t search : {0ull, 1ull, 42ull})
    for (int64_t id = 1; id <= 200; ++id) seen.insert(trial_seed(search, id));
  EXPECT_EQ(seen.size(), 600u);
  EXPECT_EQ(trial_seed(42, 7), trial_seed(42, 7));
}

TEST(SearchSettings, SpentTimeIsTheUnionOfTrialIntervalsOrTheRecordedSearchTime) {
  std::vector<store::TrialRecord> t(4);
  for (auto& x : t) x.state = store::TrialState::Done;
  t[0].started_at = 100, t[0].finished_at = 110;
  t[1].started_at = 105, t[1].finished_at = 120;  // overlaps t[0]
  t[2].started_at = 200, t[2].finished_at = 205;  // a later session
  t[3].state = store::TrialState::Running;        // not ended: not counted
  t[3].started_at = 300, t[3].finished_at = 400;
  EXPECT_DOUBLE_EQ(spent_seconds(t), 25.0);
  t[2].metrics = {{"search_seconds", 31.5}};
  EXPECT_DOUBLE_EQ(spent_seconds(t), 31.5);
}

TEST(SearchFront, FeasibleFrontAndHypervolumeInTheBudgetBox) {
  SearchSettings s;
  s.objectives = "acc,ms";
  s.max_ms_bytes = 1000;
  std::vector<store::TrialRecord> t = {done_trial(1, 0.9, 500, 0), done_trial(2, 0.8, 250, 0),
                                       done_trial(3, 0.7, 600, 0), done_trial(4, 0.95, 1500, 0)};
  store::TrialRecord failed;
  failed.id = 5;
  failed.state = store::TrialState::Failed;
  t.push_back(failed);
  EXPECT_TRUE(feasible(t[0], s));
  EXPECT_FALSE(feasible(t[3], s));
  EXPECT_FALSE(feasible(t[4], s));
  const FrontReport r = pareto_report(t, s);
  ASSERT_EQ(r.front.size(), 2u);
  EXPECT_EQ(r.front[0].id, 1);  // by accuracy, best first
  EXPECT_EQ(r.front[1].id, 2);
  EXPECT_EQ(r.considered, 3);
  EXPECT_TRUE(r.feasible_only);
  // (0.1, 0.5) and (0.2, 0.25) in [0,1]^2: 0.9 * 0.5 + 0.8 * 0.25.
  EXPECT_NEAR(r.hypervolume, 0.65, 1e-12);
  FrontOptions all;
  all.all = true;
  const FrontReport a = pareto_report(t, s, all);
  ASSERT_EQ(a.front.size(), 3u);
  EXPECT_EQ(a.front[0].id, 4);
  EXPECT_NEAR(a.hypervolume, 0.65, 1e-12) << "a trial outside the budget box adds no volume";
  all.ref_ms = 2000;
  // (0.05, 0.75), (0.1, 0.25), (0.2, 0.125): 0.95 * 0.25 + 0.9 * 0.5 + 0.8 * 0.125.
  EXPECT_NEAR(pareto_report(t, s, all).hypervolume, 0.7875, 1e-12);
  EXPECT_EQ(pareto_reference_ids(t, s), (std::vector<int64_t>{1, 2}));
  FrontOptions first;
  first.first = 1;
  const FrontReport f = pareto_report(t, s, first);
  ASSERT_EQ(f.front.size(), 1u);
  EXPECT_EQ(f.considered, 1);
  EXPECT_NEAR(f.hypervolume, 0.45, 1e-12) << "only trial 1 counts: 0.9 * 0.5";
  EXPECT_NE(front_table(r, s).find("2 Pareto-optimal of 3 feasible done trials; hypervolume 0.650000"),
            std::string::npos)
      << front_table(r, s);
  EXPECT_EQ(front_json(r, s)["front"].size(), 2u);
}

TEST(SearchFront, ThreeObjectivesWithoutBudgetsUseTheObservedMaxima) {
  SearchSettings s;
  s.objectives = "acc,ms,wm5";
  std::vector<store::TrialRecord> t = {done_trial(1, 0.5, 100, 400), done_trial(2, 0.5, 400, 100),
                                       done_trial(3, 0.4, 400, 400)};
  const FrontReport r = pareto_report(t, s);
  EXPECT_EQ(r.front.size(), 2u);
  EXPECT_EQ(r.ref_ms, 400);
  EXPECT_EQ(r.ref_wm, 400);
  // (0.5, 0.25, 1) and (0.5, 1, 0.25): both on a face of the box, so no volume.
  EXPECT_EQ(r.hypervolume, 0.0);
  FrontOptions o;
  o.ref_ms = 800;
  o.ref_wm = 800;
  // (0.5, 0.125, 0.5) and (0.5, 0.5, 0.125): 0.5 * (0.875 * 0.5 + 0.5 * 0.375) = 0.3125.
  EXPECT_NEAR(pareto_report(t, s, o).hypervolume, 0.3125, 1e-12);
}

TEST(SearchFront, ConfigSummaryNamesLayersAndFc) {
  space::Config c;
  c.blocks = {space::ConvBlock{{space::ConvLayer{}, space::ConvLayer{space::LayerType::SeparableConv2D, 5, 4}}}};
  c.num_fc_layers = 1;
  c.total_fc_layer_weights = 2000;
  c.batch_norm = true;
  EXPECT_EQ(config_summary(space::to_json(c)), "conv C3x3/8,S5x5/4; fc 1 (2000 w); bn");
  EXPECT_EQ(config_summary(nlohmann::json{{"x", 1}}), "(unreadable config)");
}
