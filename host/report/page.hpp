// `sparse report`'s HTML assembly: loads the reported store and the compare stores, computes their progress in one
// hypervolume box, and joins the sections into one self-contained page (inline CSS and SVG; no script, no network,
// no external file), readable on a laptop screen and printable.
// Invariants: every input error is raised before any output exists (the caller writes the page atomically);
// the page holds a section only for front trials, so its size grows with the number of trials only through one
// scatter point per done trial and plot, and the curves' steps.
#pragma once
#include <string>
#include <vector>

namespace sparse::report {

struct ReportOptions {
  std::string store;                 // the reported store
  std::vector<std::string> compare;  // stores drawn on the progress plots beside it (e.g. a random-search baseline)
  bool graphviz = false;             // draw architectures with Graphviz `dot` when it is on PATH
  std::string title;                 // page title ("" = "SpArSe report: <store file>")
};

struct Report {
  std::string html;
  int trials = 0, done = 0;  // of the reported store
  size_t front = 0;          // trials on its front (= trial sections)
  double hypervolume = 0;    // of its front, as `sparse pareto`
};

// Errors name the file and what was expected: a missing, foreign or corrupt store (or --compare store), a store
// with no or several searches, a --compare store with other objectives than the reported one.
Report render_report(const ReportOptions& options);

}  // namespace sparse::report
