// CSV tables, gnuplot script text and running gnuplot as a child process.
#include <fcntl.h>
#include <spdlog/fmt/fmt.h>
#include <spdlog/spdlog.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>

#include "plot/detail.hpp"

namespace depthscale::plot::detail {

namespace fs = std::filesystem;

std::string num(double v) {
  if (std::isnan(v)) return "nan";
  return fmt::format("{}", v);
}
std::string num(float v) {
  if (std::isnan(v)) return "nan";
  return fmt::format("{}", v);
}
std::string num(long long v) {
  return std::to_string(v);
}

std::string quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') out += '\'';
    out += c;
  }
  return out + "'";
}

std::string quote_lines(const std::string& a, const std::string& b) {
  if (b.empty()) return quote(a);
  return quote(a) + ".\"\\n\"." + quote(b);
}

std::string join(const std::vector<std::string>& items, const std::string& sep) {
  std::string out;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i) out += sep;
    out += items[i];
  }
  return out;
}

std::string literal(const std::string& s) {
  std::string out;
  for (char c : s) {
    // In a single-quoted string one backslash reaches the enhanced-text parser, which then
    // prints the next character as is.
    if (std::strchr("_^@&~{}", c) != nullptr) out += '\\';
    out += c;
  }
  return out;
}

std::string category_color(std::size_t i) {
  static const std::array<const char*, 7> colors = {"#0072B2", "#D55E00", "#009E73", "#CC79A7",
                                                    "#E69F00", "#56B4E9", "#7F7F7F"};
  return colors[i % colors.size()];
}

std::string ramp_color(std::size_t i, std::size_t n) {
  // viridis from 0 to 0.85 of its range
  static const std::array<std::array<double, 3>, 7> anchors = {{{0x44, 0x01, 0x54},
                                                                {0x46, 0x32, 0x7e},
                                                                {0x36, 0x5c, 0x8d},
                                                                {0x27, 0x7f, 0x8e},
                                                                {0x1f, 0xa1, 0x87},
                                                                {0x4a, 0xc1, 0x6d},
                                                                {0x9a, 0xd2, 0x3a}}};
  const double t = n <= 1 ? 0.0 : static_cast<double>(i) / static_cast<double>(n - 1);
  const double x = t * (anchors.size() - 1);
  const std::size_t k = std::min<std::size_t>(static_cast<std::size_t>(x), anchors.size() - 2);
  const double f = x - static_cast<double>(k);
  int rgb[3];
  for (int c = 0; c < 3; ++c) {
    rgb[c] = static_cast<int>(std::lround(anchors[k][c] * (1 - f) + anchors[k + 1][c] * f));
  }
  return fmt::format("#{:02x}{:02x}{:02x}", rgb[0], rgb[1], rgb[2]);
}

std::string titled(const std::string& headline, const std::string& details) {
  std::string expr = quote(headline);
  std::size_t start = 0;
  while (start < details.size()) {
    std::size_t end = details.find('\n', start);
    if (end == std::string::npos) end = details.size();
    expr += ".\"\\n\"." + quote("{/*0.8 " + details.substr(start, end - start) + "}");
    start = end + 1;
  }
  return expr;
}

std::string log_axis(const std::string& axis, double lo, double hi) {
  if (!(lo > 0) || !(hi >= lo) || !std::isfinite(hi)) return "set autoscale " + axis + "\n";
  const double span = std::log10(hi / lo);
  const double pad = std::pow(10.0, 0.04 * std::max(span, 0.5));
  lo /= pad;
  hi *= pad;
  if (span > 8) return fmt::format("set {}range [{}:{}]\n", axis, num(lo), num(hi));
  std::vector<std::string> tics;
  if (span > 0.4) {
    // Decades and their 1-2-5 (or 1-2-3-4-5-7) subdivisions, as many as the span has room for.
    const std::vector<double> mantissas = span > 2.5    ? std::vector<double>{1}
                                          : span > 0.95 ? std::vector<double>{1, 2, 5}
                                                        : std::vector<double>{1, 2, 3, 4, 5, 7};
    for (int k = static_cast<int>(std::floor(std::log10(lo))); k <= std::ceil(std::log10(hi));
         ++k) {
      for (double m : mantissas) {
        const double v = m * std::pow(10.0, k);
        if (v >= lo && v <= hi) tics.push_back(fmt::format("{:.6g}", v));
      }
    }
  } else {
    // Within 0.4 decades the axis is nearly linear: evenly spaced round values.
    const double raw = (hi - lo) / 5;
    const double mag = std::pow(10.0, std::floor(std::log10(raw)));
    double step = 10 * mag;
    for (double f : {1.0, 2.0, 2.5, 5.0}) {
      if (f * mag >= raw) {
        step = f * mag;
        break;
      }
    }
    for (double v = std::ceil(lo / step) * step; v <= hi; v += step) {
      tics.push_back(fmt::format("{:.6g}", v));
    }
  }
  return fmt::format("set {a}range [{lo}:{hi}]\nset {a}tics ({t})\nset m{a}tics default\n",
                     fmt::arg("a", axis), fmt::arg("lo", num(lo)), fmt::arg("hi", num(hi)),
                     fmt::arg("t", join(tics, ", ")));
}

namespace {
// Heights in pixels of the pieces around the panels.
constexpr double kHeadlinePx = 30, kDetailLinePx = 17, kPanelTitlePx = 34, kAxisPx = 56,
                 kKeyRowPx = 22, kKeyPadPx = 16, kRowGapPx = 14, kYLabelPx = 92, kRightPadPx = 18;

std::string margins(double l, double r, double b, double t) {
  return fmt::format(
      "set lmargin at screen {:.4f}\nset rmargin at screen {:.4f}\nset bmargin at screen "
      "{:.4f}\nset tmargin at screen {:.4f}\n",
      l, r, b, t);
}

double key_strip_top(const PanelLayout& layout) {
  return (kKeyRowPx * layout.key_rows + kKeyPadPx) / layout.height;
}
}  // namespace

std::string multiplot_begin(const std::string& title_expr) {
  return "set multiplot title " + title_expr + " font ',13'\nunset key\n";
}

std::string panel_margins(const PanelLayout& layout, std::size_t index) {
  const std::size_t cols = layout.columns > 0   ? layout.columns
                           : layout.panels <= 3 ? std::max<std::size_t>(layout.panels, 1)
                                                : 2;
  const std::size_t rows = (layout.panels + cols - 1) / cols;
  const std::size_t r = index / cols, c = index % cols;
  const double W = layout.width, H = layout.height;
  const double top = 1.0 - (10 + kHeadlinePx + kDetailLinePx * (layout.title_lines - 1)) / H;
  const double bottom = key_strip_top(layout);
  const double cell_h = (top - bottom) / static_cast<double>(rows);
  const double cell_w = 1.0 / static_cast<double>(cols);
  const double cell_top = top - cell_h * static_cast<double>(r);
  return margins(cell_w * c + kYLabelPx / W, cell_w * (c + 1) - kRightPadPx / W,
                 cell_top - cell_h + (kAxisPx + (rows > 1 ? kRowGapPx : 0)) / H,
                 cell_top - (layout.panel_titles ? kPanelTitlePx : 6) / H);
}

std::string key_strip(const PanelLayout& layout, const std::vector<KeyEntry>& entries) {
  const std::size_t cols = (entries.size() + layout.key_rows - 1) /
                           static_cast<std::size_t>(std::max(layout.key_rows, 1));
  std::string out =
      "# the shared key: an empty plot across the bottom\n"
      "unset title\nunset xlabel\nunset ylabel\nunset border\nunset tics\nunset grid\n"
      "unset logscale\nset xrange [0:1]\nset yrange [0:1]\n";
  out += margins(0.02, 0.98, 0.004, key_strip_top(layout));
  out += fmt::format(
      "set key center center horizontal maxcols {} box opaque reverse Left samplen 2.5 "
      "spacing 1.05\n",
      std::max<std::size_t>(cols, 1));
  std::vector<std::string> plots;
  // y = 2 lies outside [0:1]: nothing is drawn but the key.
  for (const auto& e : entries) plots.push_back("2 " + e.style + " title " + quote(e.title));
  return out + "plot " + join(plots, ", \\\n     ") + "\n";
}

void Csv::row(std::vector<std::string> cells) {
  if (cells.size() != columns_.size()) {
    throw std::logic_error(
        fmt::format("CSV row has {} cells for {} columns", cells.size(), columns_.size()));
  }
  rows_.push_back(std::move(cells));
}

int Csv::col(const std::string& name) const {
  for (std::size_t i = 0; i < columns_.size(); ++i) {
    if (columns_[i] == name) return static_cast<int>(i) + 1;
  }
  throw std::logic_error("no CSV column '" + name + "'");
}

namespace {

void write_text(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) {
    throw PlotError(fmt::format("cannot write {}: {}", path.string(), std::strerror(errno)));
  }
}

std::string join_row(const std::vector<std::string>& cells) {
  std::string line;
  for (std::size_t i = 0; i < cells.size(); ++i) {
    if (i) line += ',';
    line += cells[i];
  }
  return line + '\n';
}

std::string preamble(const std::string& name, int width, int height) {
  return fmt::format(
      "# Written by `depthscale plot`; the numbers are in {name}.csv beside this file.\n"
      "# Edit and rerun in this folder with: gnuplot {name}.gp\n"
      "set encoding utf8\n"
      "# gnuplot -e \"format='pdf'\" {name}.gp (or 'svg') draws the same figure as a vector file\n"
      "# (and leaves {name}.png alone: only the terminal chosen opens its output).\n"
      "if (exists('format') && format eq 'pdf') {{\n"
      "  set terminal pdfcairo size {wi:.4f}in,{hi:.4f}in enhanced font 'Sans,11' linewidth 1.2\n"
      "  set output '{name}.pdf'\n"
      "}} else {{ if (exists('format') && format eq 'svg') {{\n"
      "  set terminal svg size {w},{h} enhanced font 'Sans,11' linewidth 1.2\n"
      "  set output '{name}.svg'\n"
      "}} else {{\n"
      "  # pngcairo draws antialiased text; plain png (libgd) is the fallback without cairo.\n"
      "  if (strstrt(GPVAL_TERMINALS, 'pngcairo') > 0) {{\n"
      "    set terminal pngcairo size {w},{h} enhanced font 'Sans,11' linewidth 1.2\n"
      "  }} else {{\n"
      "    set terminal png size {w},{h} enhanced\n"
      "  }}\n"
      "  set output '{name}.png'\n"
      "}} }}\n"
      "set datafile separator comma\n"
      "set grid lc rgb '#d9d9d9' lw 1\n"
      "set border lw 1\n"
      "set key box opaque reverse Left samplen 2.5 spacing 1.1\n",
      fmt::arg("name", name), fmt::arg("w", width), fmt::arg("h", height),
      // pngcairo sets its fonts at 96 pixels an inch: a page of the same inches keeps the PNG's
      // proportions of text to graph.
      fmt::arg("wi", width / 96.0), fmt::arg("hi", height / 96.0));
}

// The last lines of gnuplot's output, for error messages.
std::string tail(const std::string& text, std::size_t max_chars = 1200) {
  std::string t = text;
  while (!t.empty() && (t.back() == '\n' || t.back() == ' ')) t.pop_back();
  if (t.size() > max_chars) t = "..." + t.substr(t.size() - max_chars);
  return t;
}

// Runs `program script` in `dir`; returns (exit status or -1 for a signal, output).
std::pair<int, std::string> run_in(const fs::path& dir, const std::string& program,
                                   const std::string& script, const std::string& expression = "") {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) {
    throw PlotError(fmt::format("cannot create a pipe for gnuplot: {}", std::strerror(errno)));
  }
  const pid_t pid = fork();
  if (pid < 0) {
    close(fds[0]);
    close(fds[1]);
    throw PlotError(fmt::format("cannot start gnuplot: fork failed: {}", std::strerror(errno)));
  }
  if (pid == 0) {
    // Child: only async-signal-safe calls until exec.
    dup2(fds[1], STDOUT_FILENO);
    dup2(fds[1], STDERR_FILENO);
    const int null_fd = open("/dev/null", O_RDONLY);
    if (null_fd >= 0) dup2(null_fd, STDIN_FILENO);
    if (chdir(dir.c_str()) != 0) _exit(126);
    const char* plain[] = {program.c_str(), script.c_str(), nullptr};
    const char* with_e[] = {program.c_str(), "-e", expression.c_str(), script.c_str(), nullptr};
    const char** argv = expression.empty() ? plain : with_e;
    execvp(program.c_str(), const_cast<char* const*>(argv));
    const char* msg = "exec failed: ";
    (void)!write(STDERR_FILENO, msg, std::strlen(msg));
    const char* why = std::strerror(errno);
    (void)!write(STDERR_FILENO, why, std::strlen(why));
    _exit(127);
  }
  close(fds[1]);
  std::string output;
  char buf[4096];
  for (;;) {
    const ssize_t n = read(fds[0], buf, sizeof buf);
    if (n > 0) {
      output.append(buf, static_cast<std::size_t>(n));
    } else if (n == 0 || errno != EINTR) {
      break;
    }
  }
  close(fds[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status)) return {WEXITSTATUS(status), output};
  return {-1, output + fmt::format("\n(killed by signal {})", WTERMSIG(status))};
}

}  // namespace

std::string gnuplot_executable(const std::string& configured) {
  if (!configured.empty()) return configured;
#ifdef DEPTHSCALE_GNUPLOT_EXECUTABLE
  return DEPTHSCALE_GNUPLOT_EXECUTABLE;
#else
  return "gnuplot";
#endif
}

void render(const fs::path& dir, const std::string& name, const Csv& csv, const std::string& body,
            const std::string& gnuplot, int width, int height) {
  const fs::path csv_path = dir / (name + ".csv");
  const fs::path gp_path = dir / (name + ".gp");
  const fs::path png_path = dir / (name + ".png");

  csv.write(csv_path);
  write_text(gp_path, preamble(name, width, height) + body +
                          (body.empty() || body.back() != '\n' ? "\n" : ""));

  // A stale PNG from an earlier run must not pass the check below.
  std::error_code ec;
  fs::remove(png_path, ec);

  const std::string program = gnuplot_executable(gnuplot);
  auto [code, output] = run_in(dir, program, gp_path.filename().string());
  if (code == 127 && output.rfind("exec failed", 0) == 0) {
    throw PlotError(fmt::format(
        "cannot run gnuplot '{}' for {} ({}); install gnuplot or set DEPTHSCALE_GNUPLOT to it",
        program, gp_path.string(), tail(output)));
  }
  if (code != 0) {
    throw PlotError(fmt::format("gnuplot ('{}') failed on {} (exit status {}): {}", program,
                                gp_path.string(), code,
                                output.empty() ? "no output" : tail(output)));
  }
  if (!output.empty()) spdlog::debug("gnuplot on {}: {}", gp_path.string(), tail(output));
  const auto size = fs::file_size(png_path, ec);
  if (ec || size == 0) {
    throw PlotError(fmt::format("gnuplot ran {} but {} is missing or empty{}", gp_path.string(),
                                png_path.string(), output.empty() ? "" : ": " + tail(output)));
  }
  spdlog::info("wrote {} (numbers in {}.csv, script in {}.gp)", png_path.string(), name, name);
}

int render_vector_formats(const fs::path& dir, const std::vector<std::string>& formats,
                          const std::string& gnuplot) {
  for (const auto& f : formats)
    if (f != "pdf" && f != "svg")
      throw PlotError(
          fmt::format("unknown figure format '{}' (allowed: pdf, svg; PNG is always "
                      "drawn)",
                      f));
  const std::string program = gnuplot_executable(gnuplot);
  int made = 0;
  std::error_code ec;
  for (const auto& entry : fs::recursive_directory_iterator(dir, ec)) {
    if (entry.path().extension() != ".gp") continue;
    // Only the scripts of figures depthscale drew (a PNG beside them).
    const fs::path png = fs::path(entry.path()).replace_extension(".png");
    if (!fs::exists(png)) continue;
    for (const auto& f : formats) {
      const fs::path out = fs::path(entry.path()).replace_extension("." + f);
      fs::remove(out, ec);
      auto [code, output] = run_in(entry.path().parent_path(), program,
                                   entry.path().filename().string(), "format='" + f + "'");
      if (code != 0 || !fs::exists(out) || fs::file_size(out, ec) == 0)
        throw PlotError(fmt::format("gnuplot ('{}') did not draw {} from {}: {}", program,
                                    out.string(), entry.path().string(),
                                    output.empty() ? "no output" : tail(output)));
      ++made;
    }
  }
  return made;
}

}  // namespace depthscale::plot::detail

namespace depthscale::plot {

int draw_vector_formats(const std::string& dir, const std::vector<std::string>& formats,
                        const std::string& gnuplot) {
  const int made = detail::render_vector_formats(dir, formats, gnuplot);
  spdlog::info("{} vector file(s) ({}) beside the PNGs in {}", made, detail::join(formats, ", "),
               dir);
  return made;
}

}  // namespace depthscale::plot

namespace depthscale::plot::detail {

void Csv::write(const fs::path& path) const {
  std::string text = join_row(columns_);
  for (const auto& r : rows_) text += join_row(r);
  write_text(path, text);
}

std::vector<double> column_means(const std::vector<float>& data, std::size_t rows,
                                 std::size_t cols) {
  std::vector<double> sum(cols, 0.0);
  std::vector<std::size_t> count(cols, 0);
  for (std::size_t r = 0; r < rows; ++r) {
    for (std::size_t c = 0; c < cols; ++c) {
      const float v = data[r * cols + c];
      if (std::isfinite(v)) {
        sum[c] += v;
        ++count[c];
      }
    }
  }
  std::vector<double> mean(cols);
  for (std::size_t c = 0; c < cols; ++c) mean[c] = count[c] ? sum[c] / count[c] : NAN;
  return mean;
}

}  // namespace depthscale::plot::detail
