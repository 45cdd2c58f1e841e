// `sparse report STORE [--compare OTHER ...] --out report.html`: one self-contained HTML page of a search (settings,
// Pareto plots, progress against compare stores, the front and a section per front trial; host/report). The page is
// built in memory and written atomically, so a bad input leaves no file behind. Read-only on the trials.
#include <chrono>
#include <cstdio>
#include <filesystem>

#include "host/cli/cli.hpp"
#include "host/core/error.hpp"
#include "host/core/file_io.hpp"
#include "host/report/page.hpp"

namespace sparse::cli {

void add_report_command(CLI::App& app) {
  static Output out;
  static std::string path, out_path, title;
  static std::vector<std::string> compare;
  static bool graphviz = false;
  CLI::App* cmd = app.add_subcommand("report", "Self-contained HTML report of a search store (plots, front, trials)");
  cmd->add_option("store", path, "Trial store of a search: a SQLite file or a postgresql:// URL")->required();
  cmd->add_option("--compare", compare,
                  "Another store of the same objectives (e.g. a random-search baseline) drawn on the progress plots; "
                  "repeatable");
  cmd->add_option("--out", out_path, "HTML file to write (replaced atomically)")->required();
  cmd->add_flag("--graphviz", graphviz,
                "Draw architectures with Graphviz `dot` when it is on PATH (else, and by default, the built-in drawing)");
  cmd->add_option("--title", title, "Page title (default: SpArSe report: <store file>)");
  out.add_flag(cmd);
  cmd->callback([] {
    const auto t0 = std::chrono::steady_clock::now();
    namespace fs = std::filesystem;
    const fs::path target(out_path);
    const fs::path folder = target.has_parent_path() ? target.parent_path() : fs::path(".");
    std::error_code ec;
    SPARSE_CHECK(fs::is_directory(folder, ec),
                 "--out '" << out_path << "': folder '" << folder.string() << "' does not exist");
    SPARSE_CHECK(!fs::is_directory(target, ec), "--out '" << out_path << "' is a folder, expected an HTML file path");
    std::vector<std::string> inputs = {path};
    inputs.insert(inputs.end(), compare.begin(), compare.end());
    for (const std::string& in : inputs)
      SPARSE_CHECK(!fs::exists(in, ec) || !fs::equivalent(in, target, ec),
                   "--out '" << out_path << "' is the store '" << in << "' itself: expected a new HTML file path");
    report::ReportOptions o;
    o.store = path;
    o.compare = compare;
    o.graphviz = graphviz;
    o.title = title;
    const report::Report r = report::render_report(o);
    write_file_atomic(target, r.html);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (out.json) {
      out.print_json({{"out", out_path},
                      {"bytes", r.html.size()},
                      {"store", path},
                      {"compare", compare},
                      {"trials", r.trials},
                      {"done", r.done},
                      {"front", r.front},
                      {"hypervolume", r.hypervolume},
                      {"seconds", seconds}});
      return;
    }
    std::printf("wrote %s (%.1f KB): %d trials, %d done, %zu on the front (hypervolume %.6f)%s in %.2f s\n",
                out_path.c_str(), static_cast<double>(r.html.size()) / 1024.0, r.trials, r.done, r.front,
                r.hypervolume,
                compare.empty() ? "" : (", compared with " + std::to_string(compare.size()) + " store(s)").c_str(),
                seconds);
  });
}

}  // namespace sparse::cli
