// Fixtures of the report tests: real short searches through the CLI (a SpArSe search and a random-search baseline on
// the synthetic dataset, run once per test process), a store of made-up trials written through the store API (any
// size, no training), and the few HTML look-ups the tests need (elements by class, anchors, ids).
#pragma once
#include <algorithm>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "host/core/file_io.hpp"
#include "host/graph/graph.hpp"
#include "host/search/search.hpp"
#include "host/space/config.hpp"
#include "host/store/sqlite_store.hpp"
#include "tests/common/run_cli.hpp"
#include "tests/common/made_up_store.hpp"
#include "tests/search/search_fixtures.hpp"

namespace sparse::test {

// Two stores made by `sparse search` once per process: `sparse_store` (random start, then stages 1-3) and
// `random_store` (uniform random configs only), both acc,ms,wm5 with 1-epoch trials.
struct Searches {
  TempDir dir;
  std::string sparse_store, random_store;
  std::string error;  // non-empty when a search failed (the tests assert on it)
};

inline const Searches& searches() {
  static Searches s;
  static const bool ran = [](Searches& out) {
    const std::string space = write_small_space(out.dir);
    auto run = [&](const std::string& store, const std::string& plan, int seed) {
      const std::string args = "search --store " + store + " " + search_data() + " --space " + space +
                               " --devices cpu --cpu-workers 1 --threads 1 --objectives acc,ms,wm5 --epochs 1 "
                               "--morph-epochs 1 --max-ms 1500 --max-wm 1500 --seed " +
                               std::to_string(seed) + " " + plan;
      const CliResult r = run_cli(args);
      if (r.exit_code != 0) out.error += "sparse " + args + " exited " + std::to_string(r.exit_code) + ": " + r.err;
    };
    out.sparse_store = (out.dir / "sparse.db").string();
    out.random_store = (out.dir / "random.db").string();
    run(out.sparse_store, "--initial 4 --stage-trials 2,1,1", 5);
    run(out.random_store, "--initial 5 --stage-trials 0,0,0", 6);
    return true;
  }(s);
  (void)ran;
  return s;
}

// Substrings "<svg ...>...</svg>" whose opening tag holds `marker` (e.g. `class="plot pareto"`).
inline std::vector<std::string> svgs_with(const std::string& html, const std::string& marker) {
  std::vector<std::string> out;
  for (size_t at = html.find("<svg"); at != std::string::npos; at = html.find("<svg", at + 4)) {
    const size_t open_end = html.find('>', at);
    if (html.substr(at, open_end - at).find(marker) == std::string::npos) continue;
    const size_t end = html.find("</svg>", at);
    out.push_back(html.substr(at, end == std::string::npos ? std::string::npos : end + 6 - at));
  }
  return out;
}

inline size_t count_of(const std::string& s, const std::string& needle) {
  size_t n = 0;
  for (size_t at = s.find(needle); at != std::string::npos; at = s.find(needle, at + needle.size())) ++n;
  return n;
}

// The text between the first `from` and the next `to` after it ("" when absent).
inline std::string between(const std::string& s, const std::string& from, const std::string& to) {
  const size_t a = s.find(from);
  if (a == std::string::npos) return "";
  const size_t b = s.find(to, a + from.size());
  return s.substr(a + from.size(), b == std::string::npos ? std::string::npos : b - a - from.size());
}

// Every value of attribute `name` ("href", "id") in `html`, in order.
inline std::vector<std::string> attribute_values(const std::string& html, const std::string& name) {
  std::vector<std::string> out;
  const std::regex re("\\s" + name + "=\"([^\"]*)\"");
  for (auto it = std::sregex_iterator(html.begin(), html.end(), re); it != std::sregex_iterator(); ++it)
    out.push_back((*it)[1].str());
  return out;
}

}  // namespace sparse::test
