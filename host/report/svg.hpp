// Inline SVG plotting for `sparse report`: axes with readable ticks (linear or log), scatter points with tooltips
// (<title>), step lines, shaded regions, budget lines, horizontal bar charts. Output is plain SVG text with no script,
// no external reference and no font download, so the page opens offline and prints as drawn.
// Invariants: every text that reaches the SVG goes through xml_escape; coordinates outside an axis range are clamped
// to the plot box (a point beyond the range sits on the box's edge, it does not vanish); a scatter point is exactly one
// <circle> element (the report's tests count them), legends and markers use other shapes.
#pragma once
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sparse::report {

std::string xml_escape(std::string_view s);
// "1,541" (thousands separators), for counts and bytes in tables.
std::string group_digits(long long v);
// "0.8123" / "-" style helpers used by the page and the plots.
std::string fixed(double v, int digits);
// 1234 -> "20.6 min"-style durations: "45 s", "12.5 min", "1.25 h".
std::string duration_text(double seconds);

// How tick values are written.
enum class TickFormat { number, bytes, percent, seconds };

struct Axis {
  std::string label;
  double lo = 0, hi = 1;
  bool log = false;      // log10 scale (lo, hi > 0)
  bool integer = false;  // ticks only at whole numbers (epochs, trial counts)
  TickFormat format = TickFormat::number;
  double frac(double v) const;        // position of v in [0, 1] (clamped)
  std::vector<double> ticks() const;  // 1-2-5 steps (linear) or decades with 2 and 5 between (log)
  // The tick's label; "" for the 2 and 5 of a log axis over more than two decades (their grid line stays).
  std::string tick_text(double v) const;
};

// A linear axis over [lo, hi] widened to the tick grid (a flat range gets a margin).
Axis linear_axis(std::string label, double lo, double hi, TickFormat format = TickFormat::number);
// A log10 axis covering [lo, hi] (values below 1 count as 1), widened to whole 1-2-5 steps.
Axis log_axis(std::string label, double lo, double hi, TickFormat format = TickFormat::bytes);

struct LegendEntry {
  std::string colour, label;
  bool line = false;  // a line sample instead of a square
};

// One x-y plot. Build its body with the calls below, then svg() wraps it with frame, grid, ticks, labels and legend.
class Plot {
 public:
  Plot(Axis x, Axis y, int width = 420, int height = 290);
  double px(double x) const;
  double py(double y) const;
  // Shaded rectangle in data coordinates (clamped to the box), e.g. the feasible region.
  void shade(double x0, double x1, double y0, double y1, const std::string& css_class, const std::string& tooltip);
  // A dashed budget line with its label at the far end.
  void vline(double x, const std::string& text);
  void hline(double y, const std::string& text);
  // A scatter point: one <circle>; `href` wraps it in a link (e.g. "#trial-7").
  void point(double x, double y, double r, const std::string& css_class, const std::string& tooltip,
             const std::string& href = "");
  // A polyline in data coordinates (`step`: horizontal then vertical between successive points).
  void line(const std::vector<std::pair<double, double>>& pts, const std::string& colour, bool step,
            const std::string& tooltip = "", bool dashed = false);
  void legend(std::vector<LegendEntry> entries) { legend_ = std::move(entries); }
  // The whole <svg> element; `css_class` and `id` go on it, `caption` is drawn as the title line.
  std::string svg(const std::string& caption, const std::string& css_class, const std::string& id = "") const;

 private:
  Axis x_, y_;
  int w_, h_;
  double left_ = 62, right_ = 24, top_ = 30, bottom_ = 44;
  std::ostringstream back_, body_;
  std::vector<LegendEntry> legend_;
};

struct Bar {
  std::string label;      // row label (a layer name)
  double value = 0;       // solid bar
  std::string text;       // drawn right of the bar
  std::string tooltip;
};

// Horizontal bar chart, one row per bar, scaled to max(values, marker); `marker` > 0 draws a dashed line there
// (a budget) labelled `marker_text`.
std::string bar_chart(const std::vector<Bar>& bars, const std::string& caption, const std::string& colour,
                      double marker, const std::string& marker_text, const std::string& css_class);

}  // namespace sparse::report
