// `sparse pareto STORE`: the Pareto table of a store's search (trial, stage, reference, accuracies, MS, WM, config
// summary) and its hypervolume; front and hypervolume are defined in host/search/front.hpp. Read-only on the trials.
#include <cstdio>

#include "host/cli/cli.hpp"
#include "host/core/units.hpp"
#include "host/search/front.hpp"
#include "host/search/search.hpp"
#include "host/store/open_store.hpp"

namespace sparse::cli {

void add_pareto_command(CLI::App& app) {
  static Output out;
  static std::string path, ref_ms, ref_wm;
  static bool all = false;
  static int64_t first = 0;
  CLI::App* cmd = app.add_subcommand("pareto", "Pareto front and hypervolume of a search store");
  cmd->add_option("store", path, "Trial store of a search: a SQLite file or a postgresql:// URL")->required();
  cmd->add_flag("--all", all, "Take the front over every done trial, not only those within the budgets");
  cmd->add_option("--ref-ms", ref_ms,
                  "Hypervolume box: MS bound, e.g. 2KB (default: the MS budget, else the largest MS)");
  cmd->add_option("--ref-wm", ref_wm, "Hypervolume box: WM bound (default: the WM budget, else the largest WM)");
  cmd->add_option("--first", first, "Only trials 1..N (by id): the search as it stood at N trials")
      ->check(CLI::PositiveNumber);
  out.add_flag(cmd);
  cmd->callback([] {
    const std::string label = store::store_label(path);  // a URL's password never printed
    const auto st = store::open_store(path, false);
    const int64_t id = search::sole_search(*st, label);
    const search::SearchSettings s = search::settings_from_record(st->get_search(id), "store '" + label + "'");
    search::FrontOptions o;
    o.all = all;
    if (!ref_ms.empty()) o.ref_ms = parse_bytes(ref_ms, "--ref-ms");
    if (!ref_wm.empty()) o.ref_wm = parse_bytes(ref_wm, "--ref-wm");
    auto trials = st->list_trials(id);
    // Trials 1..N only: filtered here, so that the counts printed below are those of the first N as well.
    if (first > 0) std::erase_if(trials, [](const store::TrialRecord& t) { return t.id > first; });
    const search::FrontReport r = search::pareto_report(trials, s, o);
    int done = 0, failed = 0;
    for (const auto& t : trials) {
      done += t.state == store::TrialState::Done;
      failed += t.state == store::TrialState::Failed;
    }
    if (out.json) {
      nlohmann::json j = search::front_json(r, s);
      j["store"] = label;
      j["search_id"] = id;
      j["trials"] = {{"total", s.trials()}, {"stored", trials.size()}, {"done", done}, {"failed", failed}};
      out.print_json(j);
      return;
    }
    std::printf("search %lld in %s: %s, %s; %zu of %d trials stored, %d done, %d failed\n", static_cast<long long>(id),
                label.c_str(), s.data.name.c_str(), s.objectives.c_str(), trials.size(), s.trials(), done, failed);
    std::printf("%s", search::front_table(r, s).c_str());
  });
}

}  // namespace sparse::cli
