// Inline SVG plots: axes and ticks, points, lines, shading, bar charts (see svg.hpp).
#include "host/report/svg.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace sparse::report {

namespace {

std::string num(double v) {  // SVG coordinate: one decimal is below a pixel
  char b[32];
  std::snprintf(b, sizeof b, "%.1f", v);
  return b;
}

std::string sig(double v, int digits) {  // %g without exponent for the values ticks take
  char b[48];
  std::snprintf(b, sizeof b, "%.*g", digits, v);
  return b;
}

// Step of a 1-2-5 grid with about `count` intervals over `range`.
double nice_step(double range, int count) {
  const double raw = range / count;
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  const double n = raw / mag;
  return (n < 1.5 ? 1 : n < 3.5 ? 2 : n < 7.5 ? 5 : 10) * mag;
}

// Largest 1-2-5 value <= v (down) or smallest >= v (up), v > 0.
double nice_125(double v, bool up) {
  const double mag = std::pow(10.0, std::floor(std::log10(v)));
  const double steps[] = {1, 2, 5, 10};
  if (up) {
    for (double s : steps)
      if (s * mag >= v * (1 - 1e-12)) return s * mag;
    return 10 * mag;
  }
  double best = mag;
  for (double s : steps)
    if (s * mag <= v * (1 + 1e-12)) best = s * mag;
  return best;
}

}  // namespace

std::string xml_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 8);
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string group_digits(long long v) {
  std::string d = std::to_string(v < 0 ? -v : v), out;
  for (size_t i = 0; i < d.size(); ++i) {
    if (i && (d.size() - i) % 3 == 0) out += ',';
    out += d[i];
  }
  return v < 0 ? "-" + out : out;
}

std::string fixed(double v, int digits) {
  char b[48];
  std::snprintf(b, sizeof b, "%.*f", digits, v);
  return b;
}

std::string duration_text(double s) {
  if (s < 120) return sig(s, 3) + " s";
  if (s < 7200) return sig(s / 60, 3) + " min";
  return sig(s / 3600, 3) + " h";
}

double Axis::frac(double v) const {
  double f = 0;
  if (log) {
    const double a = std::log10(std::max(lo, 1e-300)), b = std::log10(std::max(hi, 1e-300));
    f = b > a ? (std::log10(std::max(v, 1e-300)) - a) / (b - a) : 0.5;
  } else {
    f = hi > lo ? (v - lo) / (hi - lo) : 0.5;
  }
  return std::clamp(std::isfinite(f) ? f : 0.0, 0.0, 1.0);
}

std::vector<double> Axis::ticks() const {
  std::vector<double> t;
  if (log) {
    const int d0 = static_cast<int>(std::floor(std::log10(lo) + 1e-9)), d1 = static_cast<int>(std::ceil(std::log10(hi) - 1e-9));
    const bool fine = d1 - d0 <= 3;
    for (int d = d0; d <= d1; ++d)
      for (double m : {1.0, 2.0, 5.0}) {
        if (!fine && m != 1.0) continue;
        const double v = m * std::pow(10.0, d);
        if (v >= lo * (1 - 1e-9) && v <= hi * (1 + 1e-9)) t.push_back(v);
      }
    return t;
  }
  if (!(hi > lo)) return {lo};
  const double step = nice_step(hi - lo, 5);
  const double first = std::ceil(lo / step - 1e-9);
  for (int k = 0; k <= 100; ++k) {
    const double v = (first + k) * step;
    if (v > hi + step * 1e-9) break;
    if (integer && std::abs(v - std::round(v)) > 1e-9) continue;
    t.push_back(std::abs(v) < step * 1e-9 ? 0.0 : v);
  }
  return t;
}

std::string Axis::tick_text(double v) const {
  if (log && std::log10(hi) - std::log10(lo) > 2 + 1e-9) {
    const double mantissa = v / std::pow(10.0, std::floor(std::log10(v) + 1e-9));
    if (std::abs(mantissa - 1) > 1e-6) return "";
  }
  switch (format) {
    case TickFormat::percent: return sig(v * 100, 3) + "%";
    case TickFormat::seconds: return v == 0 ? "0" : duration_text(v);
    case TickFormat::bytes:
      if (std::abs(v) < 1000) return sig(v, 3) + " B";
      if (std::abs(v) < 1e6) return sig(v / 1000, 3) + " kB";
      return sig(v / 1e6, 3) + " MB";
    case TickFormat::number: break;
  }
  return sig(v, 4);
}

Axis linear_axis(std::string label, double lo, double hi, TickFormat format) {
  if (!std::isfinite(lo) || !std::isfinite(hi)) lo = 0, hi = 1;
  if (hi < lo) std::swap(lo, hi);
  if (hi - lo < 1e-12) {
    const double pad = std::max(std::abs(lo) * 0.05, 1e-3);
    lo -= pad;
    hi += pad;
  }
  const double step = nice_step(hi - lo, 5);
  Axis a;
  a.label = std::move(label);
  a.lo = std::floor(lo / step + 1e-9) * step;
  a.hi = std::ceil(hi / step - 1e-9) * step;
  a.format = format;
  return a;
}

Axis log_axis(std::string label, double lo, double hi, TickFormat format) {
  lo = std::isfinite(lo) ? std::max(lo, 1.0) : 1.0;
  hi = std::isfinite(hi) ? std::max(hi, lo) : lo;
  Axis a;
  a.label = std::move(label);
  a.log = true;
  a.format = format;
  a.lo = nice_125(lo, false);
  a.hi = nice_125(hi, true);
  if (a.hi <= a.lo) a.hi = nice_125(a.lo * 1.5, true);
  return a;
}

Plot::Plot(Axis x, Axis y, int width, int height) : x_(std::move(x)), y_(std::move(y)), w_(width), h_(height) {}

double Plot::px(double x) const { return left_ + x_.frac(x) * (w_ - left_ - right_); }
double Plot::py(double y) const { return top_ + (1 - y_.frac(y)) * (h_ - top_ - bottom_); }

void Plot::shade(double x0, double x1, double y0, double y1, const std::string& css_class, const std::string& tooltip) {
  const double a = px(std::min(x0, x1)), b = px(std::max(x0, x1));
  const double c = py(std::max(y0, y1)), d = py(std::min(y0, y1));
  if (b - a <= 0 || d - c <= 0) return;
  back_ << "<rect x=\"" << num(a) << "\" y=\"" << num(c) << "\" width=\"" << num(b - a) << "\" height=\"" << num(d - c)
        << "\" class=\"" << css_class << "\"><title>" << xml_escape(tooltip) << "</title></rect>\n";
}

void Plot::vline(double x, const std::string& text) {
  const double X = px(x);
  back_ << "<line x1=\"" << num(X) << "\" y1=\"" << num(top_) << "\" x2=\"" << num(X) << "\" y2=\"" << num(h_ - bottom_)
        << "\" class=\"budget\" stroke=\"#c0392b\" stroke-dasharray=\"4 3\"/><text x=\"" << num(X - 3) << "\" y=\"" << num(top_ + 10)
        << "\" text-anchor=\"end\" class=\"budget-text\" fill=\"#c0392b\">" << xml_escape(text) << "</text>\n";
}

void Plot::hline(double y, const std::string& text) {
  const double Y = py(y);
  back_ << "<line x1=\"" << num(left_) << "\" y1=\"" << num(Y) << "\" x2=\"" << num(w_ - right_) << "\" y2=\"" << num(Y)
        << "\" class=\"budget\" stroke=\"#c0392b\" stroke-dasharray=\"4 3\"/><text x=\"" << num(w_ - right_ - 3) << "\" y=\"" << num(Y - 3)
        << "\" text-anchor=\"end\" class=\"budget-text\" fill=\"#c0392b\">" << xml_escape(text) << "</text>\n";
}

void Plot::point(double x, double y, double r, const std::string& css_class, const std::string& tooltip,
                 const std::string& href) {
  if (!href.empty()) body_ << "<a href=\"" << xml_escape(href) << "\">";
  body_ << "<circle cx=\"" << num(px(x)) << "\" cy=\"" << num(py(y)) << "\" r=\"" << r << "\" class=\"" << css_class
        << "\"><title>" << xml_escape(tooltip) << "</title></circle>";
  if (!href.empty()) body_ << "</a>";
  body_ << "\n";
}

void Plot::line(const std::vector<std::pair<double, double>>& pts, const std::string& colour, bool step,
                const std::string& tooltip, bool dashed) {
  if (pts.empty()) return;
  body_ << "<polyline fill=\"none\" stroke=\"" << colour << "\" stroke-width=\"1.8\""
        << (dashed ? " stroke-dasharray=\"5 3\"" : "") << " points=\"";
  for (size_t i = 0; i < pts.size(); ++i) {
    if (step && i > 0) body_ << num(px(pts[i].first)) << "," << num(py(pts[i - 1].second)) << " ";
    body_ << num(px(pts[i].first)) << "," << num(py(pts[i].second)) << " ";
  }
  body_ << "\">";
  if (!tooltip.empty()) body_ << "<title>" << xml_escape(tooltip) << "</title>";
  body_ << "</polyline>\n";
}

std::string Plot::svg(const std::string& caption, const std::string& css_class, const std::string& id) const {
  const double x0 = left_, x1 = w_ - right_, y0 = top_, y1 = h_ - bottom_;
  // The legend goes below the x label, in rows, so that it never hides a point.
  struct Placed {
    double x, y;
  };
  std::vector<Placed> placed;
  double lx = x0, ly = h_ + 6.0;
  for (const auto& e : legend_) {
    const double ew = 26 + 6.0 * static_cast<double>(std::min<size_t>(e.label.size(), 48));
    if (lx > x0 && lx + ew > w_) lx = x0, ly += 15;
    placed.push_back({lx, ly});
    lx += ew;
  }
  const double height = legend_.empty() ? h_ : ly + 10;
  std::ostringstream os;
  os << "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 " << w_ << " " << num(height) << "\" class=\"plot "
     << css_class << "\"" << (id.empty() ? "" : " id=\"" + id + "\"") << " role=\"img\" aria-label=\""
     << xml_escape(caption) << "\" font-family=\"sans-serif\" font-size=\"11\">\n";
  os << "<text x=\"" << num(x0) << "\" y=\"16\" class=\"cap\" font-size=\"12.5\" font-weight=\"bold\">"
     << xml_escape(caption) << "</text>\n";
  os << "<g class=\"grid\" stroke=\"#e3e3e3\">";
  for (double t : x_.ticks())
    os << "<line x1=\"" << num(px(t)) << "\" y1=\"" << num(y0) << "\" x2=\"" << num(px(t)) << "\" y2=\"" << num(y1)
       << "\"/>";
  for (double t : y_.ticks())
    os << "<line x1=\"" << num(x0) << "\" y1=\"" << num(py(t)) << "\" x2=\"" << num(x1) << "\" y2=\"" << num(py(t))
       << "\"/>";
  os << "</g>\n" << back_.str();
  os << "<rect x=\"" << num(x0) << "\" y=\"" << num(y0) << "\" width=\"" << num(x1 - x0) << "\" height=\""
     << num(y1 - y0) << "\" fill=\"none\" stroke=\"#888\"/>\n<g class=\"ticks\" fill=\"#444\">";
  for (double t : x_.ticks())
    if (const std::string text = x_.tick_text(t); !text.empty())
      os << "<text x=\"" << num(px(t)) << "\" y=\"" << num(y1 + 14) << "\" text-anchor=\"middle\">" << xml_escape(text)
         << "</text>";
  for (double t : y_.ticks())
    if (const std::string text = y_.tick_text(t); !text.empty())
      os << "<text x=\"" << num(x0 - 5) << "\" y=\"" << num(py(t) + 4) << "\" text-anchor=\"end\">" << xml_escape(text)
         << "</text>";
  os << "</g>\n<text x=\"" << num((x0 + x1) / 2) << "\" y=\"" << num(h_ - 8.0) << "\" text-anchor=\"middle\">"
     << xml_escape(x_.label + (x_.log ? " (log scale)" : "")) << "</text>\n";
  os << "<text transform=\"translate(13," << num((y0 + y1) / 2) << ") rotate(-90)\" text-anchor=\"middle\">"
     << xml_escape(y_.label + (y_.log ? " (log scale)" : "")) << "</text>\n";
  os << body_.str();
  if (!legend_.empty()) {
    os << "<g class=\"legend\">";
    for (size_t i = 0; i < legend_.size(); ++i) {
      const double x = placed[i].x, y = placed[i].y;
      if (legend_[i].line)
        os << "<line x1=\"" << num(x) << "\" y1=\"" << num(y - 4) << "\" x2=\"" << num(x + 14) << "\" y2=\"" << num(y - 4)
           << "\" stroke=\"" << legend_[i].colour << "\" stroke-width=\"2\"/>";
      else
        os << "<rect x=\"" << num(x + 2) << "\" y=\"" << num(y - 9) << "\" width=\"9\" height=\"9\" fill=\""
           << legend_[i].colour << "\"/>";
      os << "<text x=\"" << num(x + 18) << "\" y=\"" << num(y) << "\">" << xml_escape(legend_[i].label.substr(0, 48))
         << "</text>";
    }
    os << "</g>\n";
  }
  os << "</svg>";
  return os.str();
}

std::string bar_chart(const std::vector<Bar>& bars, const std::string& caption, const std::string& colour,
                      double marker, const std::string& marker_text, const std::string& css_class) {
  const double label_w = 170, bar_w = 250, text_w = 110, row = 18, top = 34;
  const double width = label_w + bar_w + text_w, height = top + row * static_cast<double>(bars.size()) + 8;
  double scale = marker;
  for (const auto& b : bars) scale = std::max(scale, b.value);
  if (scale <= 0) scale = 1;
  std::ostringstream os;
  os << "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 " << width << " " << num(height) << "\" class=\"bars "
     << css_class << "\" role=\"img\" aria-label=\"" << xml_escape(caption)
     << "\" font-family=\"sans-serif\" font-size=\"11\">\n<text x=\"4\" y=\"16\" font-size=\"12.5\" font-weight=\"bold\">"
     << xml_escape(caption) << "</text>\n";
  for (size_t i = 0; i < bars.size(); ++i) {
    const auto& b = bars[i];
    const double y = top + row * static_cast<double>(i);
    const double len = bar_w * std::clamp(b.value / scale, 0.0, 1.0);
    os << "<g><title>" << xml_escape(b.tooltip.empty() ? b.label + ": " + b.text : b.tooltip) << "</title>";
    os << "<text x=\"" << num(label_w - 6) << "\" y=\"" << num(y + 12) << "\" text-anchor=\"end\">"
       << xml_escape(b.label.size() > 28 ? b.label.substr(0, 27) + "…" : b.label) << "</text>";
    os << "<rect x=\"" << num(label_w) << "\" y=\"" << num(y + 3) << "\" width=\"" << num(std::max(len, 0.5))
       << "\" height=\"" << num(row - 6) << "\" fill=\"" << colour << "\"/>";
    os << "<text x=\"" << num(label_w + len + 4) << "\" y=\"" << num(y + 12) << "\" fill=\"#333\">" << xml_escape(b.text)
       << "</text></g>\n";
  }
  if (marker > 0) {
    const double X = label_w + bar_w * marker / scale;
    os << "<line x1=\"" << num(X) << "\" y1=\"" << num(top - 4) << "\" x2=\"" << num(X) << "\" y2=\"" << num(height - 4)
       << "\" class=\"budget\" stroke=\"#c0392b\" stroke-dasharray=\"4 3\"/><text x=\"" << num(X) << "\" y=\""
       << num(top - 7) << "\" text-anchor=\"middle\" fill=\"#c0392b\">" << xml_escape(marker_text) << "</text>\n";
  }
  os << "</svg>";
  return os.str();
}

}  // namespace sparse::report
