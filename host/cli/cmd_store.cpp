// `sparse store copy FROM TO`: every search, trial (ids kept) and φ of one trial store into another, SQLite file or
// postgresql:// URL in either direction (host/store/copy_store.hpp). Invariants: the destination must hold no search;
// a destination file this command created is removed again when the copy fails; passwords are never printed.
#include <cstdio>
#include <filesystem>

#include "host/cli/cli.hpp"
#include "host/core/error.hpp"
#include "host/store/copy_store.hpp"
#include "host/store/open_store.hpp"

namespace sparse::cli {

namespace {

void remove_sqlite_files(const std::string& path) {
  std::error_code ec;
  for (const char* suffix : {"", "-wal", "-shm", "-journal"}) std::filesystem::remove(path + suffix, ec);
}

}  // namespace

void add_store_commands(CLI::App& app) {
  static Output out;
  static std::string from, to;
  CLI::App* store_cmd = app.add_subcommand("store", "Trial store maintenance");
  store_cmd->require_subcommand(1);
  CLI::App* copy = store_cmd->add_subcommand(
      "copy", "Copy every search, trial and φ of one store into a new one (SQLite file or postgresql:// URL)");
  copy->add_option("from", from, "Source store: a SQLite file or postgresql://user@host/db?study=NAME")->required();
  copy->add_option("to", to, "Destination store holding no search yet (a new file, or a new study)")->required();
  out.add_flag(copy);
  copy->callback([] {
    const std::string from_label = store::store_label(from), to_label = store::store_label(to);
    SPARSE_CHECK(from != to, "store copy: source and destination are the same store '" << from_label << "'");
    const auto src = store::open_store(from, false);
    const bool new_file = !store::is_store_url(to) && !std::filesystem::exists(to);
    store::CopyReport rep;
    try {
      const auto dst = store::open_store(to, true);
      rep = store::copy_store(*src, *dst, to_label);
    } catch (...) {
      if (new_file) remove_sqlite_files(to);
      throw;
    }
    if (out.json) {
      out.print_json({{"from", from_label},
                      {"to", to_label},
                      {"searches", rep.searches},
                      {"trials", rep.trials},
                      {"phi", rep.phi},
                      {"running", rep.running}});
      return;
    }
    std::printf("copied %d search(es), %d trial(s) and %d φ blob(s) from %s to %s\n", rep.searches, rep.trials, rep.phi,
                from_label.c_str(), to_label.c_str());
    if (rep.running > 0)
      std::printf("note: %d trial(s) were running in the source; they are copied as running and re-queued when the "
                  "search resumes (stale heartbeat)\n",
                  rep.running);
  });
}

}  // namespace sparse::cli
