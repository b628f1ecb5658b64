// Internals shared by the figure code: CSV tables, gnuplot script text and running gnuplot.
#pragma once

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include "error/error.hpp"
#include "fit/fit.hpp"
#include "plot/plot.hpp"

namespace depthscale::plot::detail {

using plot::PlotError;

inline constexpr int kWidth = 900, kHeight = 600;  // PNG size in pixels

// Shortest text that reads back to the same value ("0.1", "1e-05", "nan"), so the CSV holds
// exactly the numbers drawn.
std::string num(double v);
std::string num(float v);
std::string num(long long v);

// A gnuplot single-quoted string literal (quotes doubled).
std::string quote(const std::string& s);
// A two-line gnuplot string expression ('a'."\n".'b'; single quotes do not expand \n); just
// quote(a) when b is empty.
std::string quote_lines(const std::string& a, const std::string& b);
// Title expression: a headline over smaller explanatory lines ('\n' separates them; each line is
// quoted on its own since a gnuplot string cannot hold a raw newline).
std::string titled(const std::string& headline, const std::string& details);
// The items separated by `sep`.
std::string join(const std::vector<std::string>& items, const std::string& sep);
// Text for an enhanced-mode label with gnuplot's markup characters (_ ^ @ & ~ { }) made literal.
std::string literal(const std::string& s);

// Colours: a categorical set (Okabe–Ito, without yellow) and a sequential ramp (viridis, cut
// before its pale end so every line shows on white). Both as '#rrggbb'.
std::string category_color(std::size_t i);
std::string ramp_color(std::size_t i, std::size_t n);

// Settings for a log-scale axis ("x", "y") over data from lo to hi (both > 0): a range with a
// little room, and tic marks at 1-2-5 (or 1..9 within a decade) so that even a narrow range gets
// several labelled tics; gnuplot itself labels only powers of ten. Autoscale when unusable.
std::string log_axis(const std::string& axis, double lo, double hi);

// Smallest and largest positive finite value seen (NaN, NaN when none): the data extent of a
// log-scale axis, for log_axis.
struct Extent {
  double lo = NAN, hi = NAN;
  void add(double v) {
    if (!(v > 0) || !std::isfinite(v)) return;
    lo = std::isnan(lo) ? v : std::min(lo, v);
    hi = std::isnan(hi) ? v : std::max(hi, v);
  }
  void add(const Extent& e) {
    add(e.lo);
    add(e.hi);
  }
};

// Up to `k` items spread evenly over a sorted list (first and last included).
template <typename T>
std::vector<T> spread(const std::vector<T>& sorted, std::size_t k) {
  if (sorted.size() <= k) return sorted;
  std::vector<T> out;
  for (std::size_t i = 0; i < k; ++i) {
    const auto idx = static_cast<std::size_t>(
        std::llround(static_cast<double>(i) * (sorted.size() - 1) / static_cast<double>(k - 1)));
    if (out.empty() || !(out.back() == sorted[idx])) out.push_back(sorted[idx]);
  }
  return out;
}

// The distinct values, sorted.
template <typename T>
std::vector<T> sorted_unique(std::vector<T> v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  return v;
}

// Mean of each column of a row-major [rows, cols] array, over its finite entries (NaN where a
// column has none).
std::vector<double> column_means(const std::vector<float>& data, std::size_t rows,
                                 std::size_t cols);

// The log-log line fit lives with the other fits.
using fit::log_log_slope;
using fit::LogLogSlope;

// Panels drawn side by side (up to three, else in two columns, or `columns` when set) under a
// multiplot title, with a full-width strip at the bottom for one shared key, so no key sits on data
// or an axis label. Placement is by explicit screen margins: gnuplot's own layout sizes a key to
// one panel.
struct PanelLayout {
  std::size_t panels = 1;
  int title_lines = 2;       // lines of the multiplot title (headline + details)
  bool panel_titles = true;  // room above each panel for its own title
  int key_rows = 2;
  std::size_t columns = 0;               // 0: the default above
  int width = kWidth, height = kHeight;  // the figure's size in pixels (render's)
};
std::string multiplot_begin(const std::string& title_expr);  // "set multiplot title ..."
std::string panel_margins(const PanelLayout& layout, std::size_t index);
struct KeyEntry {
  std::string style;  // e.g. "with lines lw 2 lc rgb '#440154'"
  std::string title;  // enhanced text
};
// The shared key: an empty full-width plot whose only content is the key (ends with the plot
// command; `unset multiplot` follows).
std::string key_strip(const PanelLayout& layout, const std::vector<KeyEntry>& entries);

// A table written as CSV: header row, then rows of preformatted cells.
class Csv {
 public:
  explicit Csv(std::vector<std::string> columns) : columns_(std::move(columns)) {}
  void row(std::vector<std::string> cells);  // must have one cell per column
  std::size_t rows() const { return rows_.size(); }
  const std::vector<std::string>& columns() const { return columns_; }
  // 1-based column number for gnuplot's `using`.
  int col(const std::string& name) const;
  void write(const std::filesystem::path& path) const;

 private:
  std::vector<std::string> columns_;
  std::vector<std::vector<std::string>> rows_;
};

// The gnuplot program used: `configured` if non-empty (apps/ passes $DEPTHSCALE_GNUPLOT), else the
// one found at configure time, else `gnuplot` on PATH.
std::string gnuplot_executable(const std::string& configured);

// Writes dir/NAME.csv and dir/NAME.gp (a preamble selecting pngcairo, or png where this gnuplot
// lacks cairo, at width×height pixels, output NAME.png, comma-separated data, then `body`), runs
// gnuplot (gnuplot_executable(gnuplot)) on it in `dir` (so the script refers to its files by plain
// name and can be rerun there) and checks that dir/NAME.png exists and is non-empty. Throws
// PlotError naming the file.
void render(const std::filesystem::path& dir, const std::string& name, const Csv& csv,
            const std::string& body, const std::string& gnuplot, int width = kWidth,
            int height = kHeight);

// Draws every figure of `dir` (its subfolders too: each NAME.gp with a NAME.png beside it) again
// as NAME.pdf and/or NAME.svg (`formats`: "pdf", "svg"), through the preamble's `format`
// variable, so the vector files have the PNG's layout. Returns the files written; throws
// PlotError for an unknown format or a figure gnuplot did not draw.
int render_vector_formats(const std::filesystem::path& dir, const std::vector<std::string>& formats,
                          const std::string& gnuplot);

}  // namespace depthscale::plot::detail
