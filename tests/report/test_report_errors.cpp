// Bad input to `sparse report`: a missing store, a file of garbage, an empty file, a corrupt store, a file without a
// search, an unknown or foreign --compare file, a --compare store of other objectives, a missing output folder. Each is
// one error on stderr naming the file and what was expected, exit code 1, and no output file (nor its temporary).
#include <gtest/gtest.h>

#include <fstream>

#include "tests/report/report_fixtures.hpp"

using namespace sparse;
using sparse::test::run_cli;
using sparse::test::TempDir;

namespace {

// Runs `sparse report ARGS --out OUT`; expects exit 1, every needle in stderr, and OUT untouched.
void expect_refused(const std::string& args, const std::filesystem::path& out, const std::vector<std::string>& needles) {
  const bool existed = std::filesystem::exists(out);
  const std::string before = existed ? test::slurp(out) : "";
  const auto r = run_cli("report " + args + " --out " + out.string());
  EXPECT_EQ(r.exit_code, 1) << args << "\n" << r.err;
  EXPECT_EQ(r.out, "") << "nothing on stdout";
  EXPECT_EQ(test::count_of(r.err, "sparse: error: "), 1u) << "one error: " << r.err;
  for (const auto& n : needles) EXPECT_NE(r.err.find(n), std::string::npos) << "'" << n << "' in: " << r.err;
  EXPECT_EQ(std::filesystem::exists(out), existed) << "no output file is left behind";
  if (existed) {
    EXPECT_EQ(test::slurp(out), before) << "a failed run keeps the previous page";
  }
  EXPECT_FALSE(std::filesystem::exists(out.string() + ".tmp"));
}

}  // namespace

TEST(ReportErrors, MissingStore) {
  TempDir d;
  const std::string missing = (d / "nowhere.db").string();
  expect_refused(missing, d / "r.html", {"store '" + missing + "'", "does not exist", "sparse search --store"});
  EXPECT_FALSE(std::filesystem::exists(missing)) << "a missing store is not created";
}

TEST(ReportErrors, GarbageAndEmptyFilesAreNotStores) {
  TempDir d;
  const std::string garbage = (d / "garbage.db").string();
  std::string text;
  for (int i = 0; i < 200; ++i) text += "this is not a database " + std::to_string(i) + "\n";
  test::write_text(garbage, text);
  expect_refused(garbage, d / "r.html", {"store '" + garbage + "'", "not a SpArSe trial store", "not a SQLite database"});
  const std::string empty = (d / "empty.db").string();
  test::write_text(empty, "");
  expect_refused(empty, d / "r.html", {"store '" + empty + "'", "an empty file"});
  EXPECT_EQ(std::filesystem::file_size(empty), 0u) << "an empty file is not turned into a store";
}

TEST(ReportErrors, CorruptStore) {
  TempDir d;
  const std::string path = (d / "corrupt.db").string();
  test::write_made_up_store(path, 40, 2);
  for (const char* side : {"-wal", "-shm"}) std::filesystem::remove(path + side);
  const auto size = std::filesystem::file_size(path);
  ASSERT_GT(size, 8192u);
  {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(4096);  // keep the header page; every page after it is garbage
    for (auto i = 4096u; i < size; ++i) f.put(static_cast<char>(0xA5 ^ (i * 7)));
  }
  expect_refused(path, d / "r.html", {"store '" + path + "'", "corrupt"});
}

TEST(ReportErrors, StoreWithoutASearch) {
  TempDir d;
  const std::string path = (d / "blank.db").string();
  { store::SqliteStore st(path, true); }
  expect_refused(path, d / "r.html", {"store '" + path + "'", "holds no search"});
}

TEST(ReportErrors, UnknownOrForeignCompareFile) {
  TempDir d;
  const std::string main = (d / "main.db").string();
  test::write_made_up_store(main, 5, 1);
  const std::string missing = (d / "baseline.db").string();
  expect_refused(main + " --compare " + missing, d / "r.html", {"--compare", "store '" + missing + "'", "does not exist"});
  const std::string json = (d / "baseline.json").string();
  test::write_text(json, "{\"front\": []}\n");
  expect_refused(main + " --compare " + json, d / "r.html",
                 {"--compare", "store '" + json + "'", "not a SpArSe trial store", "sparse search --store"});
  const std::string blank = (d / "blank.db").string();
  { store::SqliteStore st(blank, true); }
  expect_refused(main + " --compare " + blank, d / "r.html", {"--compare", blank, "holds no search"});
}

TEST(ReportErrors, CompareStoreOfOtherObjectives) {
  TempDir d;
  const std::string main = (d / "main.db").string(), other = (d / "acc-ms.db").string();
  test::write_made_up_store(main, 5, 1);
  test::write_made_up_store(other, 5, 2, "acc,ms");
  expect_refused(main + " --compare " + other, d / "r.html",
                 {"--compare", "store '" + other + "' searched acc,ms", "acc,ms,wm5", "same objectives"});
}

TEST(ReportErrors, FailedRunKeepsThePreviousPageAndBadOutPathsAreNamed) {
  TempDir d;
  const std::string main = (d / "main.db").string();
  test::write_made_up_store(main, 5, 1);
  test::write_text(d / "r.html", "<p>previous report</p>");
  expect_refused(main + " --compare " + (d / "missing.db").string(), d / "r.html", {"missing.db"});
  expect_refused(main, d / "no" / "such" / "r.html", {"--out", (d / "no" / "such").string(), "does not exist"});
  expect_refused(main, d / "main.db", {"--out", "is the store"});
  const auto usage = run_cli("report " + main);
  EXPECT_EQ(usage.exit_code, 2) << "--out is required: a usage error";
}
