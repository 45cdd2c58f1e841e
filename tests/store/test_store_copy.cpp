// `sparse store copy` and copy_store(): SQLite -> PostgreSQL -> SQLite keeps every field of every trial, the searches
// and φ; ids continue after the copied ones; a destination that holds a search is refused naming it (and a file the
// command created for it is removed); `sparse pareto` and `sparse report` read a PostgreSQL study like its file.
#include <filesystem>

#include "host/core/error.hpp"
#include "host/store/copy_store.hpp"
#include "host/store/sqlite_store.hpp"
#include "tests/common/error_of.hpp"
#include "tests/common/made_up_store.hpp"
#include "tests/common/run_cli.hpp"
#include "tests/store/store_fixture.hpp"

using namespace sparse::store;
using namespace sparse::test;

using StoreCopyTest = StoreTest;

namespace {

// A SQLite study with one trial in each state, a morph (reference), a refinement-like proposal and φ on some.
void write_varied_store(const std::string& path) {
  SqliteStore s(path, true);
  const int64_t search = make_search(s);
  const int64_t random_trial = s.add_trial(trial(search, 0, {{"num_conv_blocks", 1}}));
  TrialRecord m = trial(search, 1, {{"num_conv_blocks", 2}});
  m.reference_id = random_trial;
  m.morphs = {"num-conv-blocks", "kernel-size"};
  m.proposal = {{"lambda", {0.1 + 0.2, 0.7}}, {"sampled", {1e-7, 123456789.125}}};
  const int64_t morph = s.add_trial(m);
  const int64_t failing = s.add_trial(trial(search, 1, {{"x", "fails"}}));
  s.add_trial(trial(search, 2, {{"x", "runs"}}));
  s.add_trial(trial(search, 2, {{"x", "stays queued"}}));
  for (int64_t id : {random_trial, morph, failing}) ASSERT_EQ(s.claim_next(search, "cuda:" + std::to_string(id))->id, id);
  TrialResult r;
  r.epochs = 8;
  r.val_acc = 0.9731;
  r.test_acc = 0.97;
  r.int8_acc = 1.0 / 3.0;
  r.ms_bytes = 1907;
  r.wm5_bytes = 1536;
  r.wm6_bytes = 1024;
  r.nonzeros = 1800;
  r.metrics = {{"val_curve", {0.5, 0.9731}}, {"feasible", true}};
  s.finish(random_trial, r);
  r.val_acc = std::nullopt;
  s.finish(morph, r);
  s.fail(failing, "diverged: loss nan at epoch 2", {{"loss", "nan"}});
  ASSERT_TRUE(s.claim_next(search, "cpu:0"));  // running at copy time
  std::vector<uint8_t> phi(5000);
  for (size_t i = 0; i < phi.size(); ++i) phi[i] = static_cast<uint8_t>(i * 13 % 256);
  s.put_phi(random_trial, phi);
  phi[0] ^= 1;
  s.put_phi(morph, phi);
}

void expect_same_store(TrialStore& a, TrialStore& b) {
  const auto sa = a.list_searches(), sb = b.list_searches();
  ASSERT_EQ(sa.size(), sb.size());
  for (size_t i = 0; i < sa.size(); ++i) {
    EXPECT_EQ(sa[i].id, sb[i].id);
    EXPECT_EQ(sa[i].dataset, sb[i].dataset);
    EXPECT_EQ(sa[i].objectives, sb[i].objectives);
    EXPECT_EQ(sa[i].seed, sb[i].seed);
    EXPECT_EQ(sa[i].budgets, sb[i].budgets);
    EXPECT_EQ(sa[i].settings, sb[i].settings);
    EXPECT_EQ(sa[i].created_at, sb[i].created_at);
    const auto ta = a.list_trials(sa[i].id), tb = b.list_trials(sb[i].id);
    ASSERT_EQ(ta.size(), tb.size());
    for (size_t k = 0; k < ta.size(); ++k) {
      expect_same_trial(ta[k], tb[k]);
      EXPECT_EQ(a.get_phi(ta[k].id), b.get_phi(tb[k].id)) << "φ of trial " << ta[k].id;
    }
  }
}

}  // namespace

INSTANTIATE_TEST_SUITE_P(store, StoreCopyTest, ::testing::Values(Backend::Postgres), backend_name);

TEST_P(StoreCopyTest, SqliteToPostgresqlToSqliteKeepsEveryFieldAndPhi) {
  const std::string first = (dir_ / "first.db").string(), last = (dir_ / "last.db").string();
  write_varied_store(first);
  SqliteStore src(first, false);
  auto pg = open(true, "copied");
  const CopyReport to_pg = copy_store(src, *pg, "pg");
  EXPECT_EQ(to_pg.searches, 1);
  EXPECT_EQ(to_pg.trials, 5);
  EXPECT_EQ(to_pg.phi, 2);
  EXPECT_EQ(to_pg.running, 1);
  expect_same_store(src, *pg);
  {
    SqliteStore back(last, true);
    copy_store(*pg, back, last);
    expect_same_store(src, back);
  }
  // The copied study goes on: new ids follow the copied ones, and the queued trial is claimed next.
  const int64_t search = pg->list_searches()[0].id;
  EXPECT_EQ(pg->add_trial(trial(search, 3, {})), 6);
  EXPECT_EQ(pg->claim_next(search, "cpu:1")->config["x"], "stays queued");
  EXPECT_EQ(make_search(*pg), 2);
}

TEST_P(StoreCopyTest, ADestinationHoldingASearchIsRefusedNamingIt) {
  const std::string a = (dir_ / "a.db").string();
  write_varied_store(a);
  SqliteStore src(a, false);
  auto pg = open(true, "full");
  make_search(*pg);
  const std::string e = error_of([&] { copy_store(src, *pg, store_label(location("full"))); });
  EXPECT_NE(e.find("store '" + store_label(location("full")) + "' already holds search 1 (mnist, acc,ms,wm5)"),
            std::string::npos)
      << e;
  EXPECT_EQ(pg->list_searches().size(), 1u);
}

TEST_P(StoreCopyTest, CliCopiesBothWaysAndParetoAndReportReadPostgresql) {
  const std::string a = (dir_ / "a.db").string(), b = (dir_ / "b.db").string();
  write_made_up_store(a, 30, 5);
  const std::string url = location("made-up");
  const CliResult to_pg = run_cli("store copy " + a + " '" + url + "'");
  ASSERT_EQ(to_pg.exit_code, 0) << to_pg.err;
  EXPECT_NE(to_pg.out.find("copied 1 search(es), 30 trial(s) and 0 φ blob(s) from " + a + " to " + store_label(url)),
            std::string::npos)
      << to_pg.out;
  EXPECT_EQ(to_pg.out.find(kPgPassword), std::string::npos) << to_pg.out;
  const CliResult back = run_cli("store copy '" + url + "' " + b + " --json");
  ASSERT_EQ(back.exit_code, 0) << back.err;
  EXPECT_EQ(nlohmann::json::parse(back.out)["trials"], 30);

  const CliResult from_file = run_cli("pareto " + a + " --json"), from_pg = run_cli("pareto '" + url + "' --json"),
                  from_back = run_cli("pareto " + b + " --json");
  ASSERT_EQ(from_pg.exit_code, 0) << from_pg.err;
  auto f = nlohmann::json::parse(from_file.out), p = nlohmann::json::parse(from_pg.out),
       k = nlohmann::json::parse(from_back.out);
  EXPECT_EQ(p["store"], store_label(url));
  for (auto* j : {&f, &p, &k}) j->erase("store");
  EXPECT_EQ(f, p);
  EXPECT_EQ(f, k);
  EXPECT_FALSE(f["front"].empty());

  const CliResult report = run_cli("report '" + url + "' --out " + (dir_ / "r.html").string());
  ASSERT_EQ(report.exit_code, 0) << report.err;
  EXPECT_NE(slurp(dir_ / "r.html").find(store_label(url)), std::string::npos);
  EXPECT_EQ(slurp(dir_ / "r.html").find(kPgPassword), std::string::npos);

  // A trial without φ in a PostgreSQL study: export names the store (password redacted) and what is missing.
  const CliResult ex = run_cli("export '" + url + "' --trial 1 --out " + (dir_ / "c").string());
  EXPECT_EQ(ex.exit_code, 1);
  EXPECT_NE(ex.err.find("trial 1 in '" + store_label(url) + "' has no stored φ"), std::string::npos) << ex.err;

  // Into a store that holds a search: refused, naming it; a file created for the copy is removed again.
  const CliResult again = run_cli("store copy " + a + " '" + url + "'");
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_NE(again.err.find("store '" + store_label(url) + "' already holds search 1"), std::string::npos) << again.err;
  const CliResult to_file = run_cli("store copy " + a + " " + b);
  EXPECT_EQ(to_file.exit_code, 1);
  EXPECT_NE(to_file.err.find("store '" + b + "' already holds search 1"), std::string::npos) << to_file.err;
  const std::string damaged = (dir_ / "damaged.db").string(), fresh = (dir_ / "fresh.db").string();
  write_varied_store(damaged);
  sqlite3* h = nullptr;
  ASSERT_EQ(sqlite3_open(damaged.c_str(), &h), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(h, "UPDATE phi SET crc32 = crc32 + 1", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(h);
  const CliResult broken = run_cli("store copy " + damaged + " " + fresh);
  EXPECT_EQ(broken.exit_code, 1);
  EXPECT_NE(broken.err.find("is corrupt (CRC-32 mismatch)"), std::string::npos) << broken.err;
  EXPECT_FALSE(std::filesystem::exists(fresh));
  const CliResult same = run_cli("store copy " + a + " " + a);
  EXPECT_NE(same.err.find("source and destination are the same store"), std::string::npos) << same.err;
}
