// Scale check of `sparse report` (issue 17: 10,000 trials in under 5 s and 20 MB). A measurement, not a timed unit test,
// so it is disabled in the suite; run it on an idle machine with
//   build/tests/report/test_report --gtest_also_run_disabled_tests --gtest_filter='ReportScale.*'
// It writes a made-up store of 10,000 done trials (store API, no training), renders it through the CLI and prints the
// seconds and bytes next to the limits. With SPARSE_REPORT_SCALE_STORE=PATH the store is written there and kept (to time
// `sparse report PATH` by hand).
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "tests/report/report_fixtures.hpp"

using namespace sparse;

TEST(ReportScale, DISABLED_TenThousandTrialsUnderFiveSecondsAndTwentyMegabytes) {
  test::TempDir d;
  const char* keep = std::getenv("SPARSE_REPORT_SCALE_STORE");
  const std::string store = keep ? std::string(keep) : (d / "10k.db").string();
  if (keep) std::filesystem::remove(store);
  const auto w0 = std::chrono::steady_clock::now();
  test::write_made_up_store(store, 10000, 17);
  const double write_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - w0).count();
  const auto t0 = std::chrono::steady_clock::now();
  const auto r = test::run_cli("report " + store + " --compare " + store + " --out " + (d / "r.html").string());
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto bytes = std::filesystem::file_size(d / "r.html");
  std::printf("made-up store of 10,000 trials written in %.1f s; report (with itself as --compare) in %.2f s, %.2f MB\n",
              write_s, seconds, static_cast<double>(bytes) / 1e6);
  EXPECT_LT(seconds, 5.0);
  EXPECT_LT(bytes, 20u * 1000 * 1000);
  const std::string html = test::slurp(d / "r.html");
  for (const auto& svg : test::svgs_with(html, "class=\"plot pareto\"")) EXPECT_EQ(test::count_of(svg, "<circle"), 10000u);
}
