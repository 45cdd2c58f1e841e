// `sparse search` / `sparse pareto` on bad input: a corrupt store, a text file, a SQLite database of another schema,
// a resume whose flags contradict the stored settings, a store that already holds a search, inconsistent flags.
// Each is exit code 1 with a message naming the file or the setting.
#include <gtest/gtest.h>

#include <fstream>

#include "host/store/sqlite_db.hpp"
#include "tests/common/run_cli.hpp"
#include "tests/search/search_fixtures.hpp"

using namespace sparse;
using sparse::test::run_cli;
using sparse::test::TempDir;

namespace {

// A two-trial search; `extra` flags must not repeat the ones given here (CLI11 takes each flag once), except
// --objectives and --devices, which `extra` replaces when it names them.
std::string tiny(const TempDir& d, const std::string& store_flag, const std::string& extra = "") {
  std::string base = " --trials 2 --epochs 1 --threads 1";
  if (extra.find("--objectives") == std::string::npos) base += " --objectives acc,ms,wm5";
  if (extra.find("--devices") == std::string::npos) base += " --devices cpu";
  return "search " + store_flag + " " + test::search_data() + " --space " + test::write_small_space(d) + base + " " +
         extra;
}

void expect_error(const test::CliResult& r, const std::string& needle) {
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find(needle), std::string::npos) << "expected '" << needle << "' in: " << r.err;
}

}  // namespace

TEST(SearchErrors, ForeignAndCorruptStoresAreRefused) {
  TempDir d;
  const std::string text = (d / "notes.txt").string();
  test::write_text(text, "this is not a trial store, just some text that is long enough to look like a header\n");
  for (const std::string& cmd : {"search --resume " + text, "pareto " + text}) {
    const auto r = run_cli(cmd);
    expect_error(r, "notes.txt");
    EXPECT_NE(r.err.find("not a SQLite database"), std::string::npos) << r.err;
  }
  const std::string other = (d / "other.db").string();
  {
    store::Database db(other, true);
    db.exec("CREATE TABLE users(name TEXT, email TEXT); INSERT INTO users VALUES ('a', 'b');");
  }
  expect_error(run_cli("search --resume " + other), "is a SQLite database but not a SpArSe trial store");
  expect_error(run_cli("pareto " + other), "not a SpArSe trial store");
  // --first takes a positive trial count.
  for (const char* bad : {"0", "-3", "ten"}) {
    const auto r = run_cli("pareto " + other + " --first " + bad);
    EXPECT_EQ(r.exit_code, 2) << r.err;  // a command-line error, before the store is opened
    EXPECT_NE(r.err.find("--first"), std::string::npos) << r.err;
  }
  // A new search refuses to write into a foreign file too.
  expect_error(run_cli(tiny(d, "--store " + other)), "not a SpArSe trial store");

  const std::string good = (d / "good.db").string();
  ASSERT_EQ(run_cli(tiny(d, "--store " + good)).exit_code, 0);
  std::vector<char> bytes;
  {
    std::ifstream in(good, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  ASSERT_GT(bytes.size(), 3 * 4096u);
  for (size_t i = 4096 + 100; i < bytes.size(); i += 7) bytes[i] = static_cast<char>(0xA5 ^ (i & 0xff));
  {
    std::ofstream o(good, std::ios::binary | std::ios::trunc);
    o.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  }
  for (const std::string& cmd : {"search --resume " + good, "pareto " + good}) {
    const auto r = run_cli(cmd);
    expect_error(r, "good.db");
    EXPECT_NE(r.err.find("corrupt"), std::string::npos) << r.err;
  }
  expect_error(run_cli("search --resume " + (d / "missing.db").string()), "missing.db' does not exist");
}

TEST(SearchErrors, ResumeWithConflictingSettingsNamesTheSetting) {
  TempDir d;
  const std::string path = (d / "s.db").string();
  ASSERT_EQ(run_cli(tiny(d, "--store " + path, "--max-ms 2KB --seed 5")).exit_code, 0);
  expect_error(run_cli("search --resume " + path + " --trials 5"),
               "conflicting settings: budgets/trials is 2 in the store, 5 was given");
  expect_error(run_cli("search --resume " + path + " --objectives acc,ms"),
               "objectives is \"acc,ms,wm5\" in the store, \"acc,ms\" was given");
  expect_error(run_cli("search --resume " + path + " --max-ms 1KB"), "budgets/max_ms_bytes is 2048 in the store, 1024");
  expect_error(run_cli("search --resume " + path + " --seed 6 --dataset mnist"), "data/name is \"synthetic\"");
  expect_error(run_cli("search --resume " + path + " --seed 6"), "seed is 5 in the store, 6 was given");
  // Flags equal to the stored values, and per-session flags, are accepted.
  const auto ok = run_cli("search --resume " + path + " --trials 2 --max-ms 2048 --seed 5 --threads 1 --heartbeat 2");
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_NE(ok.out.find("search complete"), std::string::npos) << ok.out;
  // The time budget is the one setting a resume may change; it is written to the store.
  const auto longer = run_cli("search --resume " + path + " --time 1h");
  ASSERT_EQ(longer.exit_code, 0) << longer.err;
  EXPECT_NE(longer.err.find("time budget of search 1 changed from none to 1h00m00s"), std::string::npos) << longer.err;
  {
    store::SqliteStore st(path, false);
    EXPECT_EQ(st.get_search(1).settings["budgets"]["time_seconds"].get<double>(), 3600.0);
  }
  const auto same = run_cli("search --resume " + path + " --time 60m");
  ASSERT_EQ(same.exit_code, 0) << same.err;
  EXPECT_EQ(same.err.find("time budget"), std::string::npos) << same.err;
  expect_error(run_cli("search --resume " + path + " --time -5m"), "--time");
  // The store already holds a search.
  expect_error(run_cli(tiny(d, "--store " + path)), "already holds search 1");
}

TEST(SearchErrors, InconsistentFlagsAreUsageErrorsNamingTheFlag) {
  TempDir d;
  const std::string p = (d / "s.db").string();
  expect_error(run_cli("search " + test::search_data()), "give --store FILE");
  expect_error(run_cli("search --store " + p + " --resume " + p), "not both");
  expect_error(run_cli(tiny(d, "--store " + p, "--objectives acc,ms --max-wm 2KB")), "--max-wm needs a working-memory");
  expect_error(run_cli(tiny(d, "--store " + p, "--objectives acc,wm5")), "--objectives 'acc,wm5' is not a preset");
  expect_error(run_cli(tiny(d, "--store " + p, "--initial 3 --stage-trials 3,3,3")), "--trials 2 disagrees");
  expect_error(run_cli(tiny(d, "--store " + p, "--rho 0.5,1.5,1")), "rho_2 = 1.5 is not a probability");
  expect_error(run_cli(tiny(d, "--store " + p, "--rho 0.5,1")), "expected 3 comma-separated values");
  expect_error(run_cli(tiny(d, "--store " + p, "--max-ms 2XB")), "--max-ms");
  expect_error(run_cli(tiny(d, "--store " + p, "--devices cuda:7")), "cuda:7");
  EXPECT_FALSE(std::filesystem::exists(p)) << "a refused search must not leave a store behind";
}
