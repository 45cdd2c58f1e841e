// The study-level sections of the report page, each an HTML fragment: settings and budgets (one column per store),
// the Pareto plots of every done trial, the progress plots (hypervolume and best feasible accuracy against trials and
// search time, compare stores on the same axes), and the table of the front with links to the trial sections.
// Invariants: each Pareto plot (<svg class="plot pareto ...">) holds exactly one <circle> per done trial with
// measured objectives; the front table (<table class="front-table">) has one <tbody> row per front trial, in the order
// of `sparse pareto`; every link "#trial-N" names a trial that has a section (trial_section.hpp).
#pragma once
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "host/report/study.hpp"

namespace sparse::report {

// Shared wording and colours of the page.
std::string stage_name(int stage);                   // "initial random", "stage 1", ...
std::string acc_text(const std::optional<double>& v);  // "0.8123" or "-"
std::string bytes_text(const std::optional<int64_t>& v);  // "1,541 B" or "-"
std::string wm_label(const search::Objectives& o);    // "WM5" / "WM6"
// Colour of the i-th store on the progress plots (0 = the reported store).
const char* series_colour(size_t i);
// Ids of the trials on the front of `st` (those with a section and an anchor).
std::set<int64_t> front_ids(const Study& st);

std::string settings_section(const Study& main, const std::vector<Study>& compares, const std::vector<Progress>& progress);
std::string pareto_section(const Study& main);
// progress[0] is the main study's, progress[i + 1] that of compares[i].
std::string progress_section(const Study& main, const std::vector<Study>& compares, const std::vector<Progress>& progress);
std::string front_table_section(const Study& main);

}  // namespace sparse::report
