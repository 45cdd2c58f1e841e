// The report in a real browser: headless Chromium opens the page from a file:// URL (no network), takes a 1280x2000
// screenshot that must show a drawn page (many colours, not one flat background), logs no console message (the page
// has no script, so any console line is an error such as a blocked resource), and its DOM after load holds the same
// SVG plots and points as the file. Reported as skipped, with the reason, when Chromium is not installed.
#include <gtest/gtest.h>
#include <stb_image.h>

#include <map>
#include <sstream>

#include "host/core/subprocess.hpp"
#include "tests/report/report_fixtures.hpp"

using namespace sparse;
using sparse::test::count_of;
using sparse::test::TempDir;

namespace {

std::string chromium() {
  for (const char* name : {"chromium", "chromium-browser", "google-chrome"})
    if (program_available(name)) return name;
  return "";
}

std::vector<std::string> browser_args(const std::string& binary, const TempDir& d) {
  return {binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
          "--disable-extensions", "--user-data-dir=" + (d / "profile").string(), "--enable-logging=stderr", "--v=0"};
}

}  // namespace

TEST(ReportBrowser, HeadlessChromiumDrawsThePageWithoutConsoleErrors) {
  const std::string binary = chromium();
  if (binary.empty())
    GTEST_SKIP() << "chromium is not installed (Debian package `chromium`, listed in scripts/install-deps.sh): the page "
                    "was not opened in a browser";
  const auto& s = test::searches();
  ASSERT_TRUE(s.error.empty()) << s.error;
  TempDir d;
  const std::filesystem::path page = d / "report.html";
  const auto r = test::run_cli("report " + s.sparse_store + " --compare " + s.random_store + " --out " + page.string());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string url = "file://" + std::filesystem::absolute(page).string();
  const std::string png = (d / "shot.png").string();

  auto shot_args = browser_args(binary, d);
  shot_args.insert(shot_args.end(), {"--hide-scrollbars", "--window-size=1280,2000", "--screenshot=" + png, url});
  const ProcessResult shot = run_process(shot_args, 180);
  ASSERT_FALSE(shot.timed_out) << "chromium did not finish in 180 s";
  ASSERT_EQ(shot.exit_code, 0) << shot.err;
  std::istringstream log(shot.err);
  for (std::string line; std::getline(log, line);) {
    EXPECT_EQ(line.find("CONSOLE"), std::string::npos) << "console message: " << line;
    EXPECT_EQ(line.find("Uncaught"), std::string::npos) << line;
  }
  ASSERT_TRUE(std::filesystem::exists(png)) << shot.err;
  int w = 0, h = 0, channels = 0;
  unsigned char* px = stbi_load(png.c_str(), &w, &h, &channels, 3);
  ASSERT_NE(px, nullptr) << "not a PNG: " << png;
  EXPECT_EQ(w, 1280);
  EXPECT_EQ(h, 2000);
  std::map<uint32_t, size_t> colours;
  for (size_t i = 0; i < static_cast<size_t>(w) * static_cast<size_t>(h); ++i)
    ++colours[(uint32_t{px[3 * i]} << 16) | (uint32_t{px[3 * i + 1]} << 8) | px[3 * i + 2]];
  stbi_image_free(px);
  size_t most = 0;
  for (const auto& [c, n] : colours) most = std::max(most, n);
  EXPECT_GT(colours.size(), 64u) << "text, plots and stage colours give many distinct colours";
  EXPECT_LT(static_cast<double>(most), 0.97 * w * h) << "the page is not one flat background";

  auto dom_args = browser_args(binary, d);
  dom_args.push_back("--dump-dom");
  dom_args.push_back(url);
  const ProcessResult dom = run_process(dom_args, 180);
  ASSERT_FALSE(dom.timed_out);
  ASSERT_EQ(dom.exit_code, 0) << dom.err;
  const std::string html = test::slurp(page);
  const auto file_plots = test::svgs_with(html, "class=\"plot pareto\"");
  const auto dom_plots = test::svgs_with(dom.out, "class=\"plot pareto\"");
  ASSERT_EQ(dom_plots.size(), 3u) << dom.out.substr(0, 2000);
  ASSERT_EQ(file_plots.size(), dom_plots.size());
  for (size_t i = 0; i < dom_plots.size(); ++i)
    EXPECT_EQ(count_of(dom_plots[i], "<circle"), count_of(file_plots[i], "<circle")) << "plot " << i;
  EXPECT_EQ(count_of(dom.out, "<svg"), count_of(html, "<svg")) << "every inline SVG survives HTML parsing";
  EXPECT_EQ(count_of(dom.out, "<section"), count_of(html, "<section"));
}
