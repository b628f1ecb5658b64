// Figures from a synthetic sweep with known numbers: every PNG is a real 900×600 image, and the CSV
// beside it holds the numbers that went in (α means and SEMs, test losses, fitted curves, hidden
// angles, smoothed training losses). Also the skips (no /fits, no probes), the errors (not a
// sweep, gnuplot failing), the scaling-fit parts figure, and the LLM probe figures from
// /probe/<model> groups (per-layer means, PCA projections, ⟨θ⟩ against depth).
#include <gtest/gtest.h>
#include <spdlog/fmt/fmt.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "plot/plot.hpp"
#include "store/store.hpp"

namespace fs = std::filesystem;
using namespace depthscale;

namespace {

// The figures' outcome as the command sees it: 0, or 1 with the thrown error logged (the tests
// read messages from the log).
int plot_status(const plot::PlotOptions& options) {
  try {
    plot::plot_sweep(options);
    return 0;
  } catch (const depthscale::Error& e) {
    spdlog::error("{}", e.what());
    return 1;
  }
}
// {path, out_dir[, gnuplot]} as PlotOptions takes them.
int plot_status(std::initializer_list<std::string> args) {
  const std::vector<std::string> a(args);
  plot::PlotOptions options;
  options.path = a.at(0);
  if (a.size() > 1) options.out_dir = a[1];
  if (a.size() > 2) options.gnuplot = a[2];
  return plot_status(options);
}
// The PlotError message plot_sweep throws ("" when it draws).
std::string plot_error(const plot::PlotOptions& options) {
  try {
    plot::plot_sweep(options);
    return "";
  } catch (const plot::PlotError& e) {
    return e.what();
  }
}
int parts_status(const std::string& parts, const std::string& out) {
  try {
    plot::plot_scaling_parts(parts, out);
    return 0;
  } catch (const depthscale::Error& e) {
    spdlog::error("{}", e.what());
    return 1;
  }
}

// ---- the synthetic sweep ---------------------------------------------------------------------

struct SweepSpec {
  std::vector<double> rhos = {0.0, 1.0};
  std::vector<double> temps = {0.01, 0.1, 1.0};
  std::vector<int64_t> teachers = {0, 1};
  std::vector<int64_t> depths = {6, 12, 24};
  int steps = 200;
  int64_t probe_inputs = 4;
  bool fits = true;
  bool teacher_probes = true;
  bool failed_task = true;         // one failed and one status-less task with absurd numbers
  bool temperature = true;         // false: a grid without temperature (the MSE experiments)
  bool final_fit_only = false;     // /fits hold one step (jobs that evaluate only at the end)
  std::string block;               // plain | rk2: the effective job text says so; "": no such text
  std::string name = "synthetic";  // the job's name in that text
  int evals = 2;                   // evaluations at steps·(i+1)/evals, i < evals (fits at each)
  double alpha_shift = 0;          // added to every α (two files with different numbers)
};

constexpr int64_t kTeacherDepth = 32;

// α of a (ρ, T, teacher) group's final fit: the teacher replicates differ by 0.1, so the mean is
// base + 0.05 and the SEM over two is exactly 0.1/√2/√2 = 0.05.
double final_alpha(double rho, double T, int64_t teacher) {
  return 0.5 + rho + 0.25 * std::log10(T) + 0.1 * static_cast<double>(teacher);
}
// α at evaluation k of n rises linearly to the final one: 0.8·final at k = 0 when n = 2.
double alpha_at(std::size_t step_index, double final, int n = 2) {
  if (step_index + 1 == static_cast<std::size_t>(n)) return final;
  if (n == 2) return 0.8 * final;
  return final * (0.6 + 0.4 * static_cast<double>(step_index + 1) / n);
}
int64_t eval_step(const SweepSpec& spec, int i) {
  return int64_t{spec.steps} * (i + 1) / spec.evals;
}
double fit_se(std::size_t step_index) {
  return step_index == 0 ? 0.05 : 0.04;
}
constexpr double kC = 2.0, kL0 = 0.3;
double test_loss(double alpha, int64_t depth) {
  return kC * std::pow(static_cast<double>(depth), -alpha) + kL0;
}
float train_loss(int i, int64_t depth) {
  return static_cast<float>(1.0 / (1.0 + 0.05 * i) + 0.001 * static_cast<double>(depth) +
                            (i % 2 ? 0.01 : -0.01));
}
// hidden/theta[input][l]
float student_theta(int64_t input, int64_t l, int64_t depth) {
  return static_cast<float>(1.0 / depth * (1.0 + 0.1 * input) + 0.01 * l);
}
float teacher_theta(int64_t input, int64_t l) {
  return static_cast<float>(0.05 + 0.001 * l + 0.01 * input);
}
float teacher_theta_dh(int64_t input, int64_t l) {
  return static_cast<float>(0.2 + 0.002 * l + 0.01 * input);
}

std::string group_name(double rho, double T, int64_t teacher) {
  return fmt::format("rho{}_T{}_t{}", rho, T, teacher);
}

void write_sweep(const std::string& path, const SweepSpec& spec) {
  store::File f = store::File::create(path);
  store::Group root = f.root();
  root.set_attr("format", "depthscale-sweep");
  root.set_attr("format_version", int64_t{1});
  root.set_attr("job_yaml", "name: synthetic\n");
  if (!spec.block.empty())
    root.set_attr("job_effective",
                  "name: " + spec.name +
                      "\nkind: toy\ngrid: {temperature: [1.0], rho: [0.0], depth: [2, "
                      "4], teacher: [0]}\nmodel: {block: " +
                      spec.block + "}\n");
  store::Group tasks = root.create_group("tasks");
  for (double rho : spec.rhos) {
    for (double T : spec.temps) {
      for (int64_t teacher : spec.teachers) {
        for (int64_t depth : spec.depths) {
          store::TaskResult r;
          r.key = fmt::format("{}_d{}", group_name(rho, T, teacher), depth);
          r.params = {{"rho", rho},
                      {"temperature", T},
                      {"teacher", static_cast<double>(teacher)},
                      {"depth", static_cast<double>(depth)}};
          if (!spec.temperature) r.params.erase("temperature");
          r.complete = true;
          r.host = "test";
          for (int i = 0; i < spec.steps; ++i) r.train_loss.push_back(train_loss(i, depth));
          const double a = final_alpha(rho, T, teacher) + spec.alpha_shift;
          for (int i = 0; i < spec.evals; ++i) {
            r.eval_step.push_back(eval_step(spec, i));
            r.test_loss.push_back(static_cast<float>(test_loss(alpha_at(i, a, spec.evals), depth)));
          }
          r.probe_inputs = spec.probe_inputs;
          for (int64_t i = 0; i < spec.probe_inputs; ++i) {
            for (int64_t l = 0; l < depth; ++l) r.theta.push_back(student_theta(i, l, depth));
            for (int64_t l = 0; l + 1 < depth; ++l) r.theta_dh.push_back(0.3f);
            for (int64_t l = 0; l <= depth; ++l) r.norms.push_back(1.0f);
          }
          store::write_task(tasks, r);
        }
      }
    }
  }
  if (spec.failed_task) {
    store::TaskResult r;
    r.key = "failed_one";
    r.params = {{"rho", 0.0}, {"temperature", 0.01}, {"teacher", 0.0}, {"depth", 48.0}};
    r.complete = false;
    r.error = "diverged";
    r.train_loss = {999.0f};
    r.eval_step = {1};
    r.test_loss = {999.0f};
    store::write_task(tasks, r);
    // A group whose write was interrupted: no status attribute.
    store::Group g = tasks.create_group("interrupted");
    g.set_attr("rho", 0.0);
    g.set_attr("temperature", 0.01);
    g.set_attr("teacher", int64_t{0});
    g.set_attr("depth", int64_t{64});
    g.write("train_loss", std::vector<float>{999.0f});
    g.write("eval_step", std::vector<int64_t>{1});
    g.write("test_loss", std::vector<float>{999.0f});
  }
  if (spec.teacher_probes && spec.probe_inputs > 0) {
    store::Group teachers = root.create_group("teachers");
    for (double rho : spec.rhos) {
      for (int64_t teacher : spec.teachers) {
        store::Group g = teachers.create_group(fmt::format("teacher_rho{}_t{}", rho, teacher));
        g.set_attr("rho", rho);
        g.set_attr("teacher", teacher);
        g.set_attr("depth", kTeacherDepth);
        store::Group h = g.create_group("hidden");
        std::vector<float> theta, dh, norms;
        for (int64_t i = 0; i < spec.probe_inputs; ++i) {
          for (int64_t l = 0; l < kTeacherDepth; ++l) theta.push_back(teacher_theta(i, l));
          for (int64_t l = 0; l + 1 < kTeacherDepth; ++l) dh.push_back(teacher_theta_dh(i, l));
          for (int64_t l = 0; l <= kTeacherDepth; ++l) norms.push_back(1.0f);
        }
        const auto n = static_cast<hsize_t>(spec.probe_inputs);
        const auto L = static_cast<hsize_t>(kTeacherDepth);
        h.write("theta", theta, {n, L});
        h.write("theta_dh", dh, {n, L - 1});
        h.write("norms", norms, {n, L + 1});
        g.set_attr("status", "complete");
      }
    }
  }
  if (spec.fits) {
    store::Group fits = root.create_group("fits");
    for (double rho : spec.rhos) {
      for (double T : spec.temps) {
        for (int64_t teacher : spec.teachers) {
          store::Group g = fits.create_group(group_name(rho, T, teacher));
          g.set_attr("rho", rho);
          if (spec.temperature) g.set_attr("temperature", T);
          g.set_attr("teacher", teacher);
          const double a = final_alpha(rho, T, teacher) + spec.alpha_shift;
          if (spec.final_fit_only) {
            g.write("step", std::vector<int64_t>{spec.steps});
            for (const char* name : {"alpha", "alpha_se", "c", "c_se", "L0", "L0_se", "rss"}) {
              const double v = std::string(name) == "alpha"      ? a
                               : std::string(name) == "alpha_se" ? fit_se(1)
                               : std::string(name) == "c"        ? kC
                               : std::string(name) == "L0"       ? kL0
                                                                 : 0.01;
              g.write(name, std::vector<double>{v});
            }
            g.write("n_points", std::vector<int64_t>{3});
            continue;
          }
          std::vector<int64_t> step;
          std::vector<double> alpha, se;
          for (int i = 0; i < spec.evals; ++i) {
            step.push_back(eval_step(spec, i));
            alpha.push_back(alpha_at(i, a, spec.evals));
            se.push_back(fit_se(i));
          }
          const auto n = static_cast<std::size_t>(spec.evals);
          g.write("step", step);
          g.write("alpha", alpha);
          g.write("alpha_se", se);
          g.write("c", std::vector<double>(n, kC));
          g.write("c_se", std::vector<double>(n, 0.1));
          g.write("L0", std::vector<double>(n, kL0));
          g.write("L0_se", std::vector<double>(n, 0.01));
          g.write("rss", std::vector<double>(n, 1e-6));
          g.write("n_points", std::vector<int64_t>(n, 3));
        }
      }
    }
  }
  f.close();
}

// ---- reading results back --------------------------------------------------------------------

using Row = std::map<std::string, std::string>;

std::vector<Row> read_csv(const fs::path& path) {
  std::ifstream in(path);
  EXPECT_TRUE(in.good()) << path;
  std::vector<Row> rows;
  std::string line;
  std::vector<std::string> header;
  const auto split = [](const std::string& s) {
    std::vector<std::string> out;
    std::stringstream ss(s);
    std::string cell;
    while (std::getline(ss, cell, ',')) out.push_back(cell);
    return out;
  };
  if (!std::getline(in, line)) return rows;
  header = split(line);
  while (std::getline(in, line)) {
    const auto cells = split(line);
    EXPECT_EQ(cells.size(), header.size()) << path << ": " << line;
    Row r;
    for (std::size_t i = 0; i < header.size() && i < cells.size(); ++i) r[header[i]] = cells[i];
    rows.push_back(r);
  }
  return rows;
}

double d(const Row& r, const std::string& column) {
  auto it = r.find(column);
  EXPECT_NE(it, r.end()) << "no column " << column;
  return it == r.end() ? NAN : std::stod(it->second);
}

std::string slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// A PNG of the configured size: signature, then the IHDR chunk's big-endian width and height.
void expect_png(const fs::path& path, uint32_t width = 900, uint32_t height = 600) {
  ASSERT_TRUE(fs::exists(path)) << path;
  const std::string bytes = slurp(path);
  ASSERT_GT(bytes.size(), 1000u) << path;
  EXPECT_EQ(bytes.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8)) << path;
  EXPECT_EQ(bytes.substr(12, 4), "IHDR") << path;
  const auto be32 = [&](std::size_t at) {
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v = (v << 8) | static_cast<unsigned char>(bytes[at + i]);
    return v;
  };
  EXPECT_EQ(be32(16), width) << path;
  EXPECT_EQ(be32(20), height) << path;
}

// ---- the file's numbers, read back with the store library alone -------------------------------

struct FileFit {
  double rho, temperature;
  int64_t teacher;
  std::vector<int64_t> step;
  std::vector<double> alpha;
};
std::vector<FileFit> fits_in(const std::string& path) {
  const store::File f = store::File::open(path, store::Mode::ReadOnly);
  const store::Group fits = f.root().open_group("fits");
  std::vector<FileFit> out;
  for (const auto& name : fits.children()) {
    const store::Group g = fits.open_group(name);
    out.push_back({g.attr_double("rho"), g.attr_double("temperature"),
                   static_cast<int64_t>(g.attr_double("teacher")), g.read_int64("step"),
                   g.read_double("alpha")});
  }
  return out;
}

struct FileTask {
  double rho, temperature;
  int64_t teacher, depth;
  std::vector<int64_t> eval_step;
  std::vector<float> test_loss, train_loss;
};
// The tasks with status = complete.
std::vector<FileTask> tasks_in(const std::string& path) {
  const store::File f = store::File::open(path, store::Mode::ReadOnly);
  const store::Group tasks = f.root().open_group("tasks");
  std::vector<FileTask> out;
  for (const auto& key : tasks.children()) {
    const store::Group g = tasks.open_group(key);
    if (!g.has_attr("status") || g.attr_string("status") != "complete") continue;
    out.push_back({g.attr_double("rho"), g.attr_double("temperature"),
                   static_cast<int64_t>(g.attr_double("teacher")),
                   static_cast<int64_t>(g.attr_double("depth")), g.read_int64("eval_step"),
                   g.read_float("test_loss"), g.read_float("train_loss")});
  }
  return out;
}

// Mean and standard error of the mean (sample sd / √n).
std::pair<double, double> mean_sem(const std::vector<double>& v) {
  double m = 0, ss = 0;
  for (double x : v) m += x / static_cast<double>(v.size());
  for (double x : v) ss += (x - m) * (x - m);
  return {m, std::sqrt(ss / static_cast<double>(v.size() - 1) / static_cast<double>(v.size()))};
}

const std::vector<std::string> kFitFigures = {"alpha_vs_temperature", "alpha_vs_step",
                                              "loss_vs_depth"};
const std::vector<std::string> kTaskFigures = {"training_curves", "hidden_angles",
                                               "hidden_dh_angles"};

class PlotTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() / fmt::format("ds_plot_{}_{}", getpid(), info->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    sink_ = std::make_shared<spdlog::sinks::ostream_sink_mt>(log_);
    spdlog::default_logger()->sinks().push_back(sink_);
  }
  void TearDown() override {
    auto& sinks = spdlog::default_logger()->sinks();
    sinks.erase(std::remove(sinks.begin(), sinks.end(), sink_), sinks.end());
    if (!HasFailure()) fs::remove_all(dir_);
  }
  std::string log() const { return log_.str(); }
  fs::path dir_;
  std::ostringstream log_;
  spdlog::sink_ptr sink_;
};

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// ---- tests -----------------------------------------------------------------------------------

TEST_F(PlotTest, FullSweepDrawsEveryFigureWithItsNumbers) {
  SweepSpec spec;
  const std::string path = (dir_ / "sweep.h5").string();
  write_sweep(path, spec);
  const fs::path out = dir_ / "figs";
  ASSERT_EQ(plot_status({path, out.string()}), 0) << log();

  for (const auto& names : {kFitFigures, kTaskFigures}) {
    for (const auto& name : names) {
      expect_png(out / (name + ".png"));
      EXPECT_TRUE(fs::exists(out / (name + ".csv"))) << name;
      EXPECT_TRUE(fs::exists(out / (name + ".gp"))) << name;
    }
  }

  // 1. final α: mean and SEM over the two teacher replicates, per (ρ, T).
  const auto alphas = read_csv(out / "alpha_vs_temperature.csv");
  ASSERT_EQ(alphas.size(), spec.rhos.size() * spec.temps.size());
  std::set<std::pair<double, double>> seen;
  for (const auto& r : alphas) {
    const double rho = d(r, "rho"), T = d(r, "temperature");
    seen.insert({rho, T});
    const double mean = 0.5 * (final_alpha(rho, T, 0) + final_alpha(rho, T, 1));
    EXPECT_NEAR(d(r, "alpha"), mean, 1e-12) << rho << " " << T;
    EXPECT_NEAR(d(r, "alpha_err"), 0.05, 1e-12);
    EXPECT_EQ(r.at("error_kind"), "sem");
    EXPECT_EQ(r.at("n_replicates"), "2");
  }
  EXPECT_EQ(seen.size(), alphas.size());

  // 2. α during training: both evaluated steps of every (ρ, T).
  const auto steps = read_csv(out / "alpha_vs_step.csv");
  ASSERT_EQ(steps.size(), spec.rhos.size() * spec.temps.size() * 2);
  for (const auto& r : steps) {
    const double rho = d(r, "rho"), T = d(r, "temperature");
    const std::size_t k = d(r, "step") == spec.steps / 2 ? 0 : 1;
    const double mean =
        0.5 * (alpha_at(k, final_alpha(rho, T, 0)) + alpha_at(k, final_alpha(rho, T, 1)));
    EXPECT_NEAR(d(r, "alpha"), mean, 1e-12);
    EXPECT_NEAR(d(r, "alpha_err"), std::fabs(alpha_at(k, 0.1)) / 2, 1e-12);
  }

  // 3. final test losses as points (float32 in the file) and the fitted curve c·ℓ^−α + L0.
  const auto losses = read_csv(out / "loss_vs_depth.csv");
  int data_rows = 0, fit_rows = 0;
  for (const auto& r : losses) {
    EXPECT_EQ(r.at("teacher"), "0");  // the lowest replicate of each (ρ, T)
    const double a = final_alpha(d(r, "rho"), d(r, "temperature"), 0);
    const double depth = d(r, "depth");
    if (r.at("kind") == "data") {
      ++data_rows;
      EXPECT_EQ(d(r, "loss"),
                static_cast<double>(static_cast<float>(test_loss(a, static_cast<int64_t>(depth)))));
    } else {
      ASSERT_EQ(r.at("kind"), "fit");
      ++fit_rows;
      EXPECT_NEAR(d(r, "loss"), kC * std::pow(depth, -a) + kL0, 1e-12);
      EXPECT_GE(depth, 6 - 1e-9);
      EXPECT_LE(depth, 24 + 1e-9);
    }
  }
  EXPECT_EQ(data_rows, 6 * 3);  // all six (ρ, T) groups fit under the cap, three depths each
  EXPECT_GT(fit_rows, 6 * 10);

  // 4. training curves: running mean over max(1, steps/100) = 2 steps, every step kept.
  const auto curves = read_csv(out / "training_curves.csv");
  std::set<std::string> panels;
  int checked = 0;
  for (const auto& r : curves) {
    panels.insert(r.at("rho"));
    EXPECT_EQ(r.at("temperature"), "0.1");  // the middle temperature
    EXPECT_EQ(r.at("teacher"), "0");
    const int step = static_cast<int>(d(r, "step"));
    const auto depth = static_cast<int64_t>(d(r, "depth"));
    if (step >= 2) {
      const double expect = (static_cast<double>(train_loss(step - 1, depth)) +
                             static_cast<double>(train_loss(step - 2, depth))) /
                            2;
      EXPECT_NEAR(d(r, "train_loss_smoothed"), expect, 1e-12);
      ++checked;
    }
  }
  EXPECT_EQ(panels.size(), 2u);
  EXPECT_EQ(checked, 2 * 3 * (spec.steps - 1));

  // 5. hidden angles: per-layer means over the inputs, students and the teacher.
  const auto angles = read_csv(out / "hidden_angles.csv");
  int teacher_rows = 0, student_rows = 0;
  for (const auto& r : angles) {
    const auto l = static_cast<int64_t>(d(r, "layer"));
    const auto depth = static_cast<int64_t>(d(r, "depth"));
    double mean = 0;
    for (int64_t i = 0; i < spec.probe_inputs; ++i) {
      mean += r.at("network") == "teacher" ? teacher_theta(i, l) : student_theta(i, l, depth);
    }
    mean /= static_cast<double>(spec.probe_inputs);
    EXPECT_NEAR(d(r, "mean_angle"), mean, 1e-7);
    (r.at("network") == "teacher" ? teacher_rows : student_rows)++;
  }
  EXPECT_EQ(teacher_rows, 2 * kTeacherDepth);
  EXPECT_EQ(student_rows, 2 * (6 + 12 + 24));
  const auto dh = read_csv(out / "hidden_dh_angles.csv");
  int dh_teacher = 0;
  for (const auto& r : dh) {
    if (r.at("network") != "teacher") continue;
    ++dh_teacher;
    const auto l = static_cast<int64_t>(d(r, "layer"));  // 1-based: θ(Δh_l, Δh_{l+1})
    EXPECT_GE(l, 1);
    double mean = 0;
    for (int64_t i = 0; i < spec.probe_inputs; ++i) mean += teacher_theta_dh(i, l - 1);
    EXPECT_NEAR(d(r, "mean_angle"), mean / spec.probe_inputs, 1e-7);
  }
  EXPECT_EQ(dh_teacher, 2 * (kTeacherDepth - 1));

  // Failed and status-less tasks are not results: their 999s appear nowhere.
  for (const auto& name : {"loss_vs_depth", "training_curves", "hidden_angles"}) {
    for (const auto& r : read_csv(out / (std::string(name) + ".csv"))) {
      for (const auto& [column, cell] : r) EXPECT_NE(cell, "999") << name << " " << column;
      EXPECT_NE(r.at("depth"), "48") << name;
      EXPECT_NE(r.at("depth"), "64") << name;
    }
  }
  // The script refers to its CSV by plain name, so it reruns in its folder.
  EXPECT_TRUE(contains(slurp(out / "alpha_vs_temperature.gp"), "'alpha_vs_temperature.csv'"));
}

// The study's theory lines on both α figures: 1 (ensemble averaging) always, then 2 and 3 for a
// first-order student, 4 and 5 for RK2, from the job the file records; all four without one.
TEST_F(PlotTest, AlphaFiguresCarryTheTheoryLinesOfTheBlock) {
  const auto lines = [&](const std::string& block) {
    SweepSpec spec;
    spec.block = block;
    const std::string path = (dir_ / ("s" + block + ".h5")).string();
    write_sweep(path, spec);
    const fs::path out = dir_ / ("g" + block);
    EXPECT_EQ(plot_status({path, out.string()}), 0) << log();
    std::set<int> drawn;
    for (const char* fig : {"alpha_vs_temperature.gp", "alpha_vs_step.gp"}) {
      const std::string gp = slurp(out / fig);
      std::set<int> here;
      for (int a = 1; a <= 5; ++a)
        if (contains(gp, fmt::format("first {0} to graph 1, first {0} nohead", a))) here.insert(a);
      EXPECT_TRUE(contains(gp, "theory: ensemble averaging, α = 1")) << fig;
      if (drawn.empty()) drawn = here;
      EXPECT_EQ(here, drawn) << fig;
    }
    return drawn;
  };
  EXPECT_EQ(lines("plain"), (std::set<int>{1, 2, 3}));
  EXPECT_EQ(lines("rk2"), (std::set<int>{1, 4, 5}));
  EXPECT_EQ(lines(""), (std::set<int>{1, 2, 3, 4, 5}));
}

// Fig 5b: ⟨θ⟩ over probe inputs and middle layers against depth, with the log-log slope of each
// (ρ, T) — here θ = (1 + 0.1·input)/ℓ + 0.01·l, whose middle mean falls a little slower than 1/ℓ.
TEST_F(PlotTest, ThetaAgainstDepthWithFittedSlopes) {
  SweepSpec spec;
  const std::string path = (dir_ / "t.h5").string();
  write_sweep(path, spec);
  const fs::path out = dir_ / "g";
  ASSERT_EQ(plot_status({path, out.string()}), 0) << log();
  expect_png(out / "theta_vs_depth.png");
  const auto rows = read_csv(out / "theta_vs_depth.csv");
  ASSERT_EQ(rows.size(), spec.rhos.size() * spec.temps.size() * spec.depths.size());
  std::vector<double> x, y;
  for (int64_t depth : spec.depths) {
    double m = 0;
    for (int64_t i = 0; i < spec.probe_inputs; ++i)
      for (int64_t l = 1; l + 1 < depth; ++l)
        m += student_theta(i, l, depth) / double(spec.probe_inputs * (depth - 2));
    x.push_back(std::log(double(depth)));
    y.push_back(std::log(m));
  }
  for (const auto& r : rows) {
    const auto depth = int64_t(d(r, "depth"));
    const auto k = std::find(spec.depths.begin(), spec.depths.end(), depth) - spec.depths.begin();
    EXPECT_NEAR(d(r, "theta_middle"), std::exp(y[size_t(k)]), 1e-6) << depth;
    EXPECT_EQ(d(r, "n_replicates"), double(spec.teachers.size()));
  }
  // The slope by hand (least squares in log-log) is in every series' key entry.
  const double mx = (x[0] + x[1] + x[2]) / 3, my = (y[0] + y[1] + y[2]) / 3;
  double sxy = 0, sxx = 0;
  for (int i = 0; i < 3; ++i) sxy += (x[i] - mx) * (y[i] - my), sxx += (x[i] - mx) * (x[i] - mx);
  const std::string gp = slurp(out / "theta_vs_depth.gp");
  EXPECT_TRUE(contains(gp, fmt::format("slope {:.2f} ± ", sxy / sxx))) << gp;
  EXPECT_TRUE(contains(gp, "title '1/ℓ'")) << gp;
}

// Fig 4c: test loss against step at the deepest depth every temperature has, one line per
// temperature, one panel per ρ, the mean over teacher replicates.
TEST_F(PlotTest, TestLossAgainstStepPerTemperature) {
  SweepSpec spec;
  const std::string path = (dir_ / "l.h5").string();
  write_sweep(path, spec);
  const fs::path out = dir_ / "g";
  ASSERT_EQ(plot_status({path, out.string()}), 0) << log();
  expect_png(out / "test_loss_vs_step.png");
  const auto rows = read_csv(out / "test_loss_vs_step.csv");
  ASSERT_EQ(rows.size(), spec.rhos.size() * spec.temps.size() * 2);  // two evaluated steps
  for (const auto& r : rows) {
    EXPECT_EQ(d(r, "depth"), 24);  // the deepest (the failed depth-48 task does not count)
    EXPECT_EQ(d(r, "n_replicates"), 2);
    const double rho = d(r, "rho"), T = d(r, "temperature");
    const bool last = d(r, "step") == spec.steps;
    double want = 0;
    for (int64_t t : spec.teachers) {
      const double a = final_alpha(rho, T, t);
      want += double(float(test_loss(last ? a : 0.8 * a, 24))) / 2;
    }
    EXPECT_NEAR(d(r, "test_loss"), want, 1e-12 * want) << rho << " " << T;
  }
  const std::string gp = slurp(out / "test_loss_vs_step.gp");
  EXPECT_TRUE(contains(gp, "ρ = 1, ℓ = 24")) << gp;
  EXPECT_TRUE(contains(gp, "T = 0.01")) << gp;
}

TEST_F(PlotTest, OneReplicateUsesTheFitStandardError) {
  SweepSpec spec;
  spec.teachers = {0};
  const std::string path = (dir_ / "one.h5").string();
  write_sweep(path, spec);
  ASSERT_EQ(plot_status({path, (dir_ / "f").string()}), 0) << log();
  const auto alphas = read_csv(dir_ / "f" / "alpha_vs_temperature.csv");
  ASSERT_EQ(alphas.size(), 6u);
  for (const auto& r : alphas) {
    EXPECT_DOUBLE_EQ(d(r, "alpha"), final_alpha(d(r, "rho"), d(r, "temperature"), 0));
    EXPECT_DOUBLE_EQ(d(r, "alpha_err"), fit_se(1));
    EXPECT_EQ(r.at("error_kind"), "fit_se");
    EXPECT_EQ(r.at("n_replicates"), "1");
  }
  EXPECT_TRUE(contains(slurp(dir_ / "f" / "alpha_vs_temperature.gp"), "standard error of the fit"));
}

TEST_F(PlotTest, WithoutFitsSkipsFitFiguresAndSaysRunReduce) {
  SweepSpec spec;
  spec.fits = false;
  const std::string path = (dir_ / "nofits.h5").string();
  write_sweep(path, spec);
  const fs::path out = dir_ / "figs";
  ASSERT_EQ(plot_status({path, out.string()}), 0) << log();
  for (const auto& name : kFitFigures) EXPECT_FALSE(fs::exists(out / (name + ".png"))) << name;
  for (const auto& name : kTaskFigures) expect_png(out / (name + ".png"));
  EXPECT_TRUE(contains(log(), "depthscale reduce " + path)) << log();
}

// --format pdf,svg: every figure also as a PDF (its magic bytes) and an SVG (an <svg> document),
// drawn from the same script as the PNG; an unknown format is refused by name.
TEST_F(PlotTest, VectorFormatsBesideEveryPng) {
  SweepSpec spec;
  spec.fits = false;
  const std::string path = (dir_ / "vector.h5").string();
  write_sweep(path, spec);
  plot::PlotOptions options;
  options.path = path;
  options.out_dir = (dir_ / "figs").string();
  options.formats = {"pdf", "svg"};
  ASSERT_EQ(plot_status(options), 0) << log();
  int pngs = 0;
  for (const auto& e : fs::recursive_directory_iterator(dir_ / "figs")) {
    if (e.path().extension() != ".png") continue;
    ++pngs;
    // The vector copies leave the PNG as it was drawn (not reopened, emptied, by their script).
    const std::string png = slurp(e.path());
    EXPECT_GT(png.size(), 1000u) << e.path();
    EXPECT_EQ(png.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8)) << e.path();
    std::ifstream pdf(fs::path(e.path()).replace_extension(".pdf"), std::ios::binary);
    std::string magic(5, '\0');
    pdf.read(&magic[0], 5);
    EXPECT_EQ(magic, "%PDF-") << e.path();
    std::ifstream svg(fs::path(e.path()).replace_extension(".svg"));
    const std::string text((std::istreambuf_iterator<char>(svg)), std::istreambuf_iterator<char>());
    EXPECT_NE(text.find("<svg"), std::string::npos) << e.path();
    EXPECT_NE(text.find("</svg>"), std::string::npos) << e.path();
  }
  EXPECT_GE(pngs, int(kTaskFigures.size()));
  options.formats = {"eps"};
  EXPECT_NE(plot_error(options).find("unknown figure format 'eps'"), std::string::npos);
}

TEST_F(PlotTest, WithoutHiddenProbesSkipsAngleFigures) {
  SweepSpec spec;
  spec.probe_inputs = 0;
  const std::string path = (dir_ / "nohidden.h5").string();
  write_sweep(path, spec);
  const fs::path out = dir_ / "figs";
  ASSERT_EQ(plot_status({path, out.string()}), 0) << log();
  EXPECT_FALSE(fs::exists(out / "hidden_angles.png"));
  EXPECT_FALSE(fs::exists(out / "hidden_dh_angles.png"));
  expect_png(out / "training_curves.png");
  expect_png(out / "alpha_vs_temperature.png");
  EXPECT_TRUE(contains(log(), "hidden_angles skipped")) << log();
}

TEST_F(PlotTest, ManyTemperaturesShowSixSpreadOverTheRange) {
  SweepSpec spec;
  spec.rhos = {0.0};
  spec.temps.clear();
  for (int i = 0; i < 10; ++i) spec.temps.push_back(std::pow(10.0, -2.0 + 2.0 * i / 9.0));
  spec.teachers = {0};
  spec.probe_inputs = 0;
  const std::string path = (dir_ / "many.h5").string();
  write_sweep(path, spec);
  const fs::path out = dir_ / "figs";
  ASSERT_EQ(plot_status({path, out.string()}), 0) << log();
  std::set<double> temps;
  for (const auto& r : read_csv(out / "alpha_vs_step.csv")) temps.insert(d(r, "temperature"));
  EXPECT_EQ(temps.size(), 6u);
  EXPECT_DOUBLE_EQ(*temps.begin(), spec.temps.front());
  EXPECT_DOUBLE_EQ(*temps.rbegin(), spec.temps.back());
  EXPECT_TRUE(contains(slurp(out / "alpha_vs_step.gp"), "6 of 10 temperatures shown"));
  // Figure 1 shows every temperature.
  EXPECT_EQ(read_csv(out / "alpha_vs_temperature.csv").size(), 10u);
  expect_png(out / "alpha_vs_step.png");
}

TEST_F(PlotTest, FinalFitsOnlySkipAlphaVsStepSayingWhy) {
  SweepSpec spec;
  spec.final_fit_only = true;
  spec.probe_inputs = 0;
  const std::string path = (dir_ / "final.h5").string();
  write_sweep(path, spec);
  const fs::path out = dir_ / "figs";
  ASSERT_EQ(plot_status({path, out.string()}), 0) << log();
  EXPECT_FALSE(fs::exists(out / "alpha_vs_step.png"));
  EXPECT_TRUE(contains(log(), "alpha_vs_step skipped")) << log();
  expect_png(out / "alpha_vs_temperature.png");
  expect_png(out / "loss_vs_depth.png");
  for (const auto& r : read_csv(out / "alpha_vs_temperature.csv")) {
    EXPECT_NEAR(d(r, "alpha"),
                0.5 * (final_alpha(d(r, "rho"), d(r, "temperature"), 0) +
                       final_alpha(d(r, "rho"), d(r, "temperature"), 1)),
                1e-12);
  }
}

TEST_F(PlotTest, GridWithoutTemperatureDrawsWhatItCan) {
  SweepSpec spec;
  spec.temps = {1.0};
  spec.temperature = false;
  const std::string path = (dir_ / "mse.h5").string();
  write_sweep(path, spec);
  const fs::path out = dir_ / "figs";
  ASSERT_EQ(plot_status({path, out.string()}), 0) << log();
  EXPECT_FALSE(fs::exists(out / "alpha_vs_temperature.png"));
  EXPECT_TRUE(contains(log(), "have no temperature")) << log();
  for (const auto& name :
       {"alpha_vs_step", "loss_vs_depth", "training_curves", "hidden_angles", "hidden_dh_angles"}) {
    expect_png(out / (std::string(name) + ".png"));
  }
  const auto steps = read_csv(out / "alpha_vs_step.csv");
  ASSERT_EQ(steps.size(), 2u * 2u);                                // two ρ, two steps
  for (const auto& r : steps) EXPECT_EQ(r.at("temperature"), "");  // not a grid parameter
}

TEST_F(PlotTest, DefaultFolderIsTheFileNameWithoutH5) {
  SweepSpec spec;
  spec.probe_inputs = 0;
  const std::string path = (dir_ / "run7.h5").string();
  write_sweep(path, spec);
  ASSERT_EQ(plot_status({path, ""}), 0) << log();
  expect_png(dir_ / "run7-figures" / "loss_vs_depth.png");
}

TEST_F(PlotTest, NotASweepFileIsAnErrorNamingTheFile) {
  const std::string h5 = (dir_ / "other.h5").string();
  {
    store::File f = store::File::create(h5);
    f.root().create_group("something");
    f.close();
  }
  EXPECT_EQ(plot_status({h5, (dir_ / "a").string()}), 1);
  EXPECT_TRUE(contains(log(), h5 + " is not a depthscale sweep file")) << log();

  const std::string text = (dir_ / "notes.h5").string();
  std::ofstream(text) << "not hdf5 at all\n";
  EXPECT_EQ(plot_status({text, (dir_ / "b").string()}), 1);
  EXPECT_TRUE(contains(log(), text + " is not an HDF5 file")) << log();

  const std::string missing = (dir_ / "missing.h5").string();
  EXPECT_EQ(plot_status({missing, (dir_ / "c").string()}), 1);
  EXPECT_TRUE(contains(log(), missing)) << log();
}

TEST_F(PlotTest, SweepWithoutResultsHasNothingToPlot) {
  SweepSpec spec;
  spec.rhos.clear();
  spec.fits = false;
  spec.failed_task = true;
  const std::string path = (dir_ / "empty.h5").string();
  write_sweep(path, spec);
  EXPECT_EQ(plot_status({path, (dir_ / "f").string()}), 1);
  EXPECT_TRUE(contains(log(), "nothing to plot")) << log();
}

TEST_F(PlotTest, GnuplotFailureIsAnErrorNamingTheScript) {
  SweepSpec spec;
  spec.probe_inputs = 0;
  const std::string path = (dir_ / "s.h5").string();
  write_sweep(path, spec);
  EXPECT_EQ(plot_status({path, (dir_ / "f").string(), "false"}), 1);
  EXPECT_TRUE(contains(log(), (dir_ / "f" / "alpha_vs_temperature.gp").string())) << log();
  EXPECT_TRUE(contains(log(), "exit status 1")) << log();

  EXPECT_EQ(plot_status({path, (dir_ / "g").string(), (dir_ / "no-such-gnuplot").string()}), 1);
  EXPECT_TRUE(contains(log(), "set DEPTHSCALE_GNUPLOT")) << log();
}

// ---- the study's Figs 4b and 16–18 -----------------------------------------------------------

// Fig 4b: α (mean ± SEM over the replicates) against T at six of the eight evaluated steps, spread
// over training with the last one, a panel per ρ; the numbers are the file's /fits.
TEST_F(PlotTest, AlphaAgainstTemperatureAtSeveralSteps) {
  SweepSpec spec;
  spec.evals = 8;
  spec.probe_inputs = 0;
  const std::string path = (dir_ / "steps.h5").string();
  write_sweep(path, spec);
  const fs::path out = dir_ / "g";
  ASSERT_EQ(plot_status({path, out.string()}), 0) << log();
  expect_png(out / "alpha_vs_temperature_by_step.png");

  // The file's α per (ρ, step, T), over its replicates.
  std::map<std::tuple<double, int64_t, double>, std::vector<double>> want;
  std::set<int64_t> file_steps;
  for (const auto& f : fits_in(path))
    for (std::size_t i = 0; i < f.step.size(); ++i) {
      want[{f.rho, f.step[i], f.temperature}].push_back(f.alpha[i]);
      file_steps.insert(f.step[i]);
    }
  ASSERT_EQ(file_steps.size(), 8u);
  const auto rows = read_csv(out / "alpha_vs_temperature_by_step.csv");
  std::set<int64_t> steps;
  std::set<std::pair<std::string, std::string>> panels;
  for (const auto& r : rows) {
    const auto step = static_cast<int64_t>(d(r, "step"));
    steps.insert(step);
    panels.insert({r.at("panel"), r.at("rho")});
    const auto it = want.find({d(r, "rho"), step, d(r, "temperature")});
    ASSERT_NE(it, want.end()) << r.at("rho") << " " << step << " " << r.at("temperature");
    ASSERT_EQ(it->second.size(), 2u);
    const auto [m, sem] = mean_sem(it->second);
    EXPECT_NEAR(d(r, "alpha"), m, 1e-12);
    EXPECT_NEAR(d(r, "alpha_err"), sem, 1e-12);
    EXPECT_EQ(r.at("error_kind"), "sem");
    EXPECT_EQ(r.at("n_replicates"), "2");
  }
  EXPECT_EQ(panels.size(), spec.rhos.size());  // a panel per ρ
  EXPECT_EQ(steps.size(), 6u);                 // six lines, spread over the eight steps
  EXPECT_EQ(*steps.begin(), *file_steps.begin());
  EXPECT_EQ(*steps.rbegin(), int64_t{spec.steps});  // the final step is always a line
  EXPECT_EQ(rows.size(), spec.rhos.size() * 6 * spec.temps.size());
  const std::string gp = slurp(out / "alpha_vs_temperature_by_step.gp");
  EXPECT_TRUE(contains(gp, "6 of 8 evaluated steps shown")) << gp;
  EXPECT_TRUE(contains(gp, fmt::format("title 'step {}'", spec.steps))) << gp;

  // One evaluated step: skipped, saying why.
  SweepSpec once = spec;
  once.final_fit_only = true;
  once.evals = 1;
  const std::string final_path = (dir_ / "final.h5").string();
  write_sweep(final_path, once);
  ASSERT_EQ(plot_status({final_path, (dir_ / "h").string()}), 0) << log();
  EXPECT_FALSE(fs::exists(dir_ / "h" / "alpha_vs_temperature_by_step.png"));
  EXPECT_TRUE(contains(log(), "alpha_vs_temperature_by_step skipped")) << log();
}

// Figs 16–18: a figure per ρ (default: teacher replicate 0), a panel per temperature, a line per
// depth, the test losses of the file; --rho and --teacher pick one figure, --depth the lines.
TEST_F(PlotTest, TestLossPanelPerTemperature) {
  SweepSpec spec;
  spec.evals = 4;
  spec.probe_inputs = 0;
  spec.fits = false;
  const std::string path = (dir_ / "t.h5").string();
  write_sweep(path, spec);
  const auto tasks = tasks_in(path);
  // Checks one figure's rows against the file's tasks of (ρ, teacher) at those depths.
  const auto check = [&](const fs::path& csv, double rho, int64_t teacher,
                         const std::vector<int64_t>& depths) {
    expect_png(fs::path(csv).replace_extension(".png"));
    const auto rows = read_csv(csv);
    std::size_t want_rows = 0;
    for (const auto& t : tasks)
      if (t.rho == rho && t.teacher == teacher && std::count(depths.begin(), depths.end(), t.depth))
        want_rows += t.eval_step.size();
    EXPECT_EQ(rows.size(), want_rows) << csv;
    std::set<std::string> panels;
    std::set<int64_t> lines;
    for (const auto& r : rows) {
      EXPECT_EQ(d(r, "rho"), rho);
      EXPECT_EQ(d(r, "teacher"), teacher);
      panels.insert(r.at("panel") + "/" + r.at("temperature"));
      lines.insert(static_cast<int64_t>(d(r, "depth")));
      bool found = false;
      for (const auto& t : tasks) {
        if (t.rho != rho || t.teacher != teacher || t.temperature != d(r, "temperature") ||
            t.depth != d(r, "depth"))
          continue;
        for (std::size_t i = 0; i < t.eval_step.size(); ++i)
          if (t.eval_step[i] == d(r, "step")) {
            EXPECT_EQ(d(r, "test_loss"), static_cast<double>(t.test_loss[i]));
            found = true;
          }
      }
      EXPECT_TRUE(found) << csv << ": no task has the row at step " << r.at("step");
    }
    EXPECT_EQ(panels.size(), spec.temps.size()) << csv;  // one panel per temperature
    EXPECT_EQ(lines, std::set<int64_t>(depths.begin(), depths.end())) << csv;
  };
  plot::PlotOptions o;
  o.path = path;
  o.out_dir = (dir_ / "all").string();
  ASSERT_EQ(plot_status(o), 0) << log();
  EXPECT_FALSE(fs::exists(dir_ / "all" / "test_loss_by_temperature.png"));  // one per ρ instead
  check(dir_ / "all" / "test_loss_by_temperature_rho0.csv", 0.0, 0, spec.depths);
  check(dir_ / "all" / "test_loss_by_temperature_rho1.csv", 1.0, 0, spec.depths);

  o.out_dir = (dir_ / "one").string();
  o.select.rho = {1.0};
  o.select.teacher = {1};
  o.select.depth = {6, 24};
  ASSERT_EQ(plot_status(o), 0) << log();
  check(dir_ / "one" / "test_loss_by_temperature.csv", 1.0, 1, {6, 24});
  EXPECT_FALSE(fs::exists(dir_ / "one" / "test_loss_by_temperature_rho0.png"));
  EXPECT_TRUE(
      contains(slurp(dir_ / "one" / "test_loss_by_temperature.gp"), "ρ = 1, teacher replicate 1"));
}

// Without a test-loss history (evaluated once), the training loss stands in: its running mean
// over max(1, steps/100) steps, as in training_curves.
TEST_F(PlotTest, TestLossPanelsFallBackToTheTrainingLoss) {
  SweepSpec spec;
  spec.evals = 1;
  spec.rhos = {0.0};
  spec.teachers = {0};
  spec.probe_inputs = 0;
  spec.fits = false;
  const std::string path = (dir_ / "once.h5").string();
  write_sweep(path, spec);
  ASSERT_EQ(plot_status({path, (dir_ / "g").string()}), 0) << log();
  expect_png(dir_ / "g" / "test_loss_by_temperature.png");
  const auto rows = read_csv(dir_ / "g" / "test_loss_by_temperature.csv");
  ASSERT_FALSE(rows.empty());
  ASSERT_EQ(rows.front().count("test_loss"), 0u);
  int checked = 0;
  for (const auto& t : tasks_in(path)) {
    for (const auto& r : rows) {
      if (d(r, "temperature") != t.temperature || d(r, "depth") != t.depth) continue;
      const auto step = static_cast<std::size_t>(d(r, "step"));
      if (step < 2) continue;
      const double want = (static_cast<double>(t.train_loss[step - 1]) +
                           static_cast<double>(t.train_loss[step - 2])) /
                          2;
      EXPECT_NEAR(d(r, "train_loss_smoothed"), want, 1e-12);
      ++checked;
    }
  }
  EXPECT_EQ(checked, static_cast<int>(spec.temps.size() * spec.depths.size()) * (spec.steps - 1));
  EXPECT_TRUE(contains(slurp(dir_ / "g" / "test_loss_by_temperature.gp"), "train.eval.every"));
}

// ---- the selection ---------------------------------------------------------------------------

// --rho 1 --temperature 0.01,1 --teacher 1 --depth 6,24: every figure shows only those, and the
// figures of one temperature take the middle of the selected ones.
TEST_F(PlotTest, SelectionRestrictsEveryFigure) {
  SweepSpec spec;
  spec.evals = 3;
  const std::string path = (dir_ / "s.h5").string();
  write_sweep(path, spec);
  plot::PlotOptions o;
  o.path = path;
  o.out_dir = (dir_ / "g").string();
  o.select.rho = {1.0};
  o.select.temperature = {0.01, 1.0 * (1 + 1e-12)};  // equal to 1e-9 relative
  o.select.teacher = {1};
  o.select.depth = {6, 24};
  ASSERT_EQ(plot_status(o), 0) << log();
  const fs::path out = dir_ / "g";
  const std::set<double> temps = {0.01, 1.0};
  const auto final_alphas = fits_in(path);
  const auto alphas = read_csv(out / "alpha_vs_temperature.csv");
  ASSERT_EQ(alphas.size(), 2u);
  for (const auto& r : alphas) {
    EXPECT_EQ(d(r, "rho"), 1.0);
    EXPECT_EQ(temps.count(d(r, "temperature")), 1u);
    EXPECT_EQ(r.at("n_replicates"), "1");  // the selected replicate only
    EXPECT_EQ(r.at("error_kind"), "fit_se");
    for (const auto& f : final_alphas) {
      if (f.rho == 1.0 && f.teacher == 1 && f.temperature == d(r, "temperature")) {
        EXPECT_EQ(d(r, "alpha"), f.alpha.back());
      }
    }
  }
  for (const char* name :
       {"alpha_vs_step", "alpha_vs_temperature_by_step", "loss_vs_depth", "training_curves",
        "hidden_angles", "theta_vs_depth", "test_loss_vs_step", "test_loss_by_temperature"}) {
    const auto rows = read_csv(out / (std::string(name) + ".csv"));
    EXPECT_FALSE(rows.empty()) << name;
    for (const auto& r : rows) {
      EXPECT_EQ(d(r, "rho"), 1.0) << name;
      EXPECT_EQ(temps.count(d(r, "temperature")), 1u) << name << " " << r.at("temperature");
      if (r.count("teacher")) {
        EXPECT_EQ(r.at("teacher"), "1") << name;
      }
      if (r.count("n_replicates")) {
        EXPECT_EQ(r.at("n_replicates"), "1") << name;
      }
      // Student depths (not the fitted curve's samples, nor the teacher's depth).
      if (r.count("depth") && (!r.count("kind") || r.at("kind") == "data") &&
          (!r.count("network") || r.at("network") == "student")) {
        EXPECT_TRUE(d(r, "depth") == 6 || d(r, "depth") == 24) << name << " " << r.at("depth");
      }
    }
  }
  // The middle of the two selected temperatures (the lower), not the file's middle (0.1).
  for (const auto& r : read_csv(out / "training_curves.csv")) EXPECT_EQ(d(r, "temperature"), 0.01);
  for (const auto& r : read_csv(out / "test_loss_vs_step.csv")) EXPECT_EQ(d(r, "depth"), 24);
}

// A selected value the file does not have: a PlotError naming the value and the file, and listing
// the values it has; with several files, what each has.
TEST_F(PlotTest, SelectedValueTheFileLacksIsAnErrorNamingIt) {
  SweepSpec spec;
  spec.probe_inputs = 0;
  const std::string path = (dir_ / "s.h5").string();
  write_sweep(path, spec);
  const auto error = [&](const std::function<void(plot::Selection&)>& select,
                         std::vector<std::string> paths = {}) {
    plot::PlotOptions o;
    o.paths = paths.empty() ? std::vector<std::string>{path} : paths;
    o.out_dir = (dir_ / "g").string();
    select(o.select);
    return plot_error(o);
  };
  std::string e = error([](plot::Selection& s) { s.rho = {0.0, 0.5}; });
  EXPECT_TRUE(contains(e, "ρ = 0.5 is not in " + path + ", which has ρ = 0, 1")) << e;
  e = error([](plot::Selection& s) { s.temperature = {0.3}; });
  EXPECT_TRUE(contains(e, "temperature T = 0.3 is not in " + path + ", which has T = 0.01, 0.1, 1"))
      << e;
  e = error([](plot::Selection& s) { s.teacher = {5}; });
  EXPECT_TRUE(contains(e, "teacher replicate 5 is not in " + path +
                              ", which has teacher "
                              "replicates 0, 1"))
      << e;
  e = error([](plot::Selection& s) { s.depth = {7}; });
  EXPECT_TRUE(contains(e, "student depth 7 is not in " + path +
                              ", which has student depths 6, "
                              "12, 24"))
      << e;
  e = error([](plot::Selection& s) { s.model = {"pythia-70m"}; });
  EXPECT_TRUE(contains(e, "model pythia-70m is not in " + path)) << e;
  EXPECT_TRUE(contains(e, "no complete probed model")) << e;
  EXPECT_FALSE(fs::exists(dir_ / "g" / "alpha_vs_temperature.png"));  // nothing drawn

  // Two files: in none of them; a value only one has is fine.
  SweepSpec other = spec;
  other.rhos = {2.0};
  const std::string path2 = (dir_ / "s2.h5").string();
  write_sweep(path2, other);
  e = error([](plot::Selection& s) { s.rho = {0.5}; }, {path, path2});
  EXPECT_TRUE(contains(
      e, "ρ = 0.5 is in none of the files: " + path + " has ρ = 0, 1; " + path2 + " has ρ = 2"))
      << e;
  EXPECT_EQ(error([](plot::Selection& s) { s.rho = {2.0}; }, {path, path2}), "") << log();
  for (const auto& r : read_csv(dir_ / "g" / "alpha_vs_temperature.csv")) {
    EXPECT_EQ(d(r, "rho"), 2.0);
    EXPECT_EQ(r.at("file"), path2);
  }
}

// ---- several files ---------------------------------------------------------------------------

// The study's Fig 3b from two jobs (ρ = 0 and ρ = 1 in files of their own): each figure has the
// series of both, labelled by ρ; each file's numbers come from that file.
TEST_F(PlotTest, TwoFilesDrawTheirSeriesTogether) {
  SweepSpec a, b;
  a.rhos = {0.0};
  b.rhos = {1.0};
  a.block = b.block = "plain";
  a.name = "exp-a";
  b.name = "exp-b";
  a.evals = b.evals = 3;
  b.alpha_shift = 0.25;
  const std::string pa = (dir_ / "a.h5").string(), pb = (dir_ / "b.h5").string();
  write_sweep(pa, a);
  write_sweep(pb, b);
  plot::PlotOptions o;
  o.paths = {pa, pb};
  o.out_dir = (dir_ / "fig3b").string();
  ASSERT_EQ(plot_status(o), 0) << log();
  const fs::path out = dir_ / "fig3b";
  for (const char* name :
       {"alpha_vs_temperature", "alpha_vs_step", "alpha_vs_temperature_by_step", "loss_vs_depth",
        "theta_vs_depth", "training_curves", "hidden_angles", "test_loss_vs_step"}) {
    expect_png(out / (std::string(name) + ".png"));
    std::map<std::string, std::set<double>> rho_of;  // file → ρ in its rows
    for (const auto& r : read_csv(out / (std::string(name) + ".csv")))
      rho_of[r.at("file")].insert(d(r, "rho"));
    EXPECT_EQ(rho_of, (std::map<std::string, std::set<double>>{{pa, {0.0}}, {pb, {1.0}}})) << name;
  }
  // α of each file from its own /fits.
  std::map<std::pair<std::string, double>, std::vector<double>> finals;
  for (const auto& p : {pa, pb})
    for (const auto& f : fits_in(p)) finals[{p, f.temperature}].push_back(f.alpha.back());
  const auto alphas = read_csv(out / "alpha_vs_temperature.csv");
  ASSERT_EQ(alphas.size(), 2 * a.temps.size());
  std::set<std::string> series;
  for (const auto& r : alphas) {
    series.insert(r.at("series"));
    EXPECT_NEAR(d(r, "alpha"), mean_sem(finals.at({r.at("file"), d(r, "temperature")})).first,
                1e-12);
  }
  EXPECT_EQ(series.size(), 2u);
  // No (ρ, T) in both files: the labels are the ρ alone.
  const std::string gp = slurp(out / "alpha_vs_temperature.gp");
  EXPECT_TRUE(contains(gp, "title 'ρ = 0'") && contains(gp, "title 'ρ = 1'")) << gp;
  EXPECT_FALSE(contains(gp, "exp-a")) << gp;
  // Panels for both in Fig 4b; the per-temperature figures per file, named after the job.
  std::set<std::string> panels;
  for (const auto& r : read_csv(out / "alpha_vs_temperature_by_step.csv"))
    panels.insert(r.at("panel"));
  EXPECT_EQ(panels.size(), 2u);
  expect_png(out / "test_loss_by_temperature_exp-a_rho0.png");
  expect_png(out / "test_loss_by_temperature_exp-b_rho1.png");
  for (const auto& r : read_csv(out / "test_loss_by_temperature_exp-b_rho1.csv"))
    EXPECT_EQ(r.at("file"), pb);
}

// Two files with the same (ρ, T): separate series, labelled by the job's name.
TEST_F(PlotTest, FilesSharingACellAreNamedInTheLabels) {
  SweepSpec a, b;
  a.block = b.block = "plain";
  a.name = "run-one";
  b.name = "run-two";
  a.probe_inputs = b.probe_inputs = 0;
  b.alpha_shift = 0.5;
  const std::string pa = (dir_ / "a.h5").string(), pb = (dir_ / "b.h5").string();
  write_sweep(pa, a);
  write_sweep(pb, b);
  plot::PlotOptions o;
  o.paths = {pa, pb};
  o.out_dir = (dir_ / "g").string();
  ASSERT_EQ(plot_status(o), 0) << log();
  const auto alphas = read_csv(dir_ / "g" / "alpha_vs_temperature.csv");
  ASSERT_EQ(alphas.size(), 2 * a.rhos.size() * a.temps.size());
  std::set<std::string> series;
  for (const auto& r : alphas) {
    series.insert(r.at("series"));
    const double rho = d(r, "rho"), T = d(r, "temperature");
    const double shift = r.at("file") == pb ? 0.5 : 0.0;
    EXPECT_NEAR(d(r, "alpha"), 0.5 * (final_alpha(rho, T, 0) + final_alpha(rho, T, 1)) + shift,
                1e-12);
  }
  EXPECT_EQ(series.size(), 4u);  // (file, ρ)
  const std::string gp = slurp(dir_ / "g" / "alpha_vs_temperature.gp");
  EXPECT_TRUE(contains(gp, "title 'run-one: ρ = 0'")) << gp;
  EXPECT_TRUE(contains(gp, "title 'run-two: ρ = 1'")) << gp;
  EXPECT_TRUE(contains(slurp(dir_ / "g" / "loss_vs_depth.gp"), "run-two: ρ = 0, T = 0.01"));

  // Without a folder, or one file twice: an error, before anything is drawn.
  o.out_dir.clear();
  EXPECT_TRUE(contains(plot_error(o), "needs a folder")) << plot_error(o);
  o.out_dir = (dir_ / "h").string();
  o.paths = {pa, (dir_ / "." / "a.h5").string()};
  EXPECT_TRUE(contains(plot_error(o), "are the same file")) << plot_error(o);
  EXPECT_FALSE(fs::exists(dir_ / "h"));
}

// ---- scaling-law parts -----------------------------------------------------------------------

TEST_F(PlotTest, ScalingPartsFigureHoldsThePartsItWasGiven) {
  const fs::path parts = dir_ / "parts.csv";
  std::vector<std::vector<double>> rows;
  {
    std::ofstream out(parts);
    // Columns in another order plus an extra one: read by name.
    out << "l,m,D,loss,extra,depth_part,width_part,data_part,L0,predicted\n";
    for (int i = 0; i < 12; ++i) {
      const double m = 256.0 * (1 + i % 4), l = 4.0 + 2 * (i % 5), D = 1e9 * (1 + i);
      const double dp = 3.0 * std::pow(l, -0.7), wp = 20.0 * std::pow(m, -0.5),
                   dd = 400.0 * std::pow(D, -0.3), L0 = 1.7;
      const double pred = dp + wp + dd + L0, loss = pred * (1 + 0.01 * ((i % 3) - 1));
      out << fmt::format("{},{},{},{},x,{},{},{},{},{}\n", l, m, D, loss, dp, wp, dd, L0, pred);
      rows.push_back({m, l, D, loss, dp, wp, dd, pred});
    }
  }
  const fs::path out = dir_ / "fit";
  ASSERT_EQ(parts_status(parts.string(), out.string()), 0) << log();
  expect_png(out / "scaling_parts.png");
  const auto back = read_csv(out / "scaling_parts.csv");
  ASSERT_EQ(back.size(), rows.size());
  const std::vector<std::string> names = {"m",          "l",          "D",         "loss",
                                          "depth_part", "width_part", "data_part", "predicted"};
  for (std::size_t i = 0; i < rows.size(); ++i) {
    for (std::size_t k = 0; k < names.size(); ++k) {
      EXPECT_DOUBLE_EQ(d(back[i], names[k]), rows[i][k]) << names[k] << " row " << i;
    }
    // The study's leftover loss: the loss minus every other fitted term (here the fitted part
    // times the residual factor, plus the residual itself).
    const double resid = rows[i][3] - rows[i][7];
    EXPECT_NEAR(d(back[i], "depth_leftover"), rows[i][4] + resid, 1e-12) << i;
    EXPECT_NEAR(d(back[i], "width_leftover"), rows[i][5] + resid, 1e-12) << i;
    EXPECT_NEAR(d(back[i], "data_leftover"), rows[i][6] + resid, 1e-12) << i;
  }
  // The mean relative error of the fit is in the figure's title: 8 of 12 points are off by 1%.
  EXPECT_TRUE(contains(slurp(out / "scaling_parts.gp"), "mean relative error of the fit 0.67%"))
      << slurp(out / "scaling_parts.gp");
}

// The parts.csv that `depthscale fit-scaling --out DIR` writes: the data file's column names and
// the raw depth, with the fit's depth offset in fit.csv beside it.
TEST_F(PlotTest, ScalingPartsReadsTheFitScalingOutput) {
  {
    std::ofstream fit(dir_ / "fit.csv");
    fit << "name,value,se\na_m,1,0.1\nexclude_top,40,\ndepth_offset,2,\n";
    std::ofstream parts(dir_ / "parts.csv");
    parts << "line,model_size,FLOP,num_tokens,d_model,n_layers,loss,predicted,width_part,"
             "depth_part,data_part,L0,log_residual\n";
    for (int i = 0; i < 10; ++i) {
      const double layers = 8 + 4 * i, m = 512 + 128 * i, D = 1e9 * (i + 1);
      const double dp = 2.0 * std::pow(layers - 2, -0.5), wp = 9.0 * std::pow(m, -0.4),
                   dd = 300.0 * std::pow(D, -0.3);
      parts << fmt::format("{},1e8,1e18,{},{},{},{},{},{},{},{},1.8,0.01\n", i + 2, D, m, layers,
                           dp + wp + dd + 1.8, dp + wp + dd + 1.8, wp, dp, dd);
    }
  }
  const fs::path out = dir_ / "fig";
  ASSERT_EQ(parts_status((dir_ / "parts.csv").string(), out.string()), 0) << log();
  expect_png(out / "scaling_parts.png");
  const auto back = read_csv(out / "scaling_parts.csv");
  ASSERT_EQ(back.size(), 10u);
  for (std::size_t i = 0; i < back.size(); ++i) {
    EXPECT_DOUBLE_EQ(d(back[i], "l"), 8 + 4 * static_cast<double>(i) - 2);  // ℓ − offset
    EXPECT_DOUBLE_EQ(d(back[i], "m"), 512 + 128 * static_cast<double>(i));
    EXPECT_DOUBLE_EQ(d(back[i], "D"), 1e9 * static_cast<double>(i + 1));
  }
  EXPECT_TRUE(contains(slurp(out / "scaling_parts.gp"), "ℓ − 2"));
}

TEST_F(PlotTest, ScalingPartsRejectsBadFilesNamingLineAndColumn) {
  const fs::path parts = dir_ / "parts.csv";
  std::ofstream(parts) << "m,l,D,loss,depth_part,width_part,data_part,predicted\n1,2,3,4,5,6,7,8\n";
  EXPECT_EQ(parts_status(parts.string(), (dir_ / "o").string()), 1);
  EXPECT_TRUE(contains(log(), parts.string() + ":1: no column 'L0'")) << log();
  std::ofstream(parts)
      << "l,D,loss,depth_part,width_part,data_part,L0,predicted\n1,2,3,4,5,6,7,8\n";
  EXPECT_EQ(parts_status(parts.string(), (dir_ / "o").string()), 1);
  EXPECT_TRUE(contains(log(), parts.string() + ":1: no column 'm' or 'd_model'")) << log();

  std::ofstream(parts) << "m,l,D,loss,depth_part,width_part,data_part,L0,predicted\n"
                          "1,2,3,4,5,6,7,8,9\n1,2,3,abc,5,6,7,8,9\n";
  EXPECT_EQ(parts_status(parts.string(), (dir_ / "o").string()), 1);
  EXPECT_TRUE(contains(log(), parts.string() + ":3: column 'loss': 'abc' is not a number"))
      << log();

  EXPECT_EQ(parts_status((dir_ / "none.csv").string(), (dir_ / "o").string()), 1);
  EXPECT_TRUE(contains(log(), (dir_ / "none.csv").string())) << log();
}

// ---- LLM probe figures (docs/experiments.md §2)
// -------------------------------------------------------------

namespace probe_data {

const char* const kMetrics[] = {"norms",        "theta",         "theta_dh",
                                "angle_to_end", "cross_entropy", "proj_s"};

struct Model {
  std::string name, family;
  int64_t layers = 12, sites = 12001;
  bool per_token = true;  // false: no theta (store_per_token: false)
  bool complete = true;   // false: still running (batches/ only, no status)
};

int64_t columns(const std::string& metric, int64_t L) {
  if (metric == "norms" || metric == "proj_s") return L + 1;
  return metric == "theta_dh" ? L - 1 : L;
}
// summary/<metric>[l]: known, positive, different per model depth.
double layer_mean(const std::string& metric, int64_t l, int64_t L) {
  const double x = static_cast<double>(l) / static_cast<double>(L);
  if (metric == "norms") return 10.0 * (1.0 + static_cast<double>(l)) * (1.0 + 0.01 * L);
  if (metric == "theta") return 0.3 + 0.5 * std::exp(-3.0 * x);
  if (metric == "theta_dh") return 1.5 - 0.5 * x;
  if (metric == "angle_to_end") return 1.4 * (1.0 - x) + 0.01;
  if (metric == "cross_entropy") return 8.0 * std::exp(-2.0 * x) + 2.5 + 0.01 * L;
  return x;  // proj_s: not drawn
}
double theta_middle_mean(int64_t L) {
  return 0.9 / std::sqrt(static_cast<double>(L));
}
double early_fraction(int64_t L) {
  return 0.25 + 0.001 * L;
}

// docs/experiments.md §2's references stretched to L layers, written out here on their own (the
// plot only reads them, so the test need not share probe/metrics.hpp's code).
std::vector<double> early_reference(int64_t L) {
  const int64_t k = std::llround(6.0 * static_cast<double>(L - 2) / 22.0);
  std::vector<double> r(L, 0.0);
  for (int64_t l = 1; l <= k; ++l) r[l] = 0.45;
  r.front() = r.back() = M_PI / 2;
  return r;
}
std::vector<double> even_reference(int64_t L) {
  std::vector<double> r(L, 0.45);
  r.front() = r.back() = M_PI / 2;
  return r;
}

// The planted θ distribution: θ_i = mean + a_i·v + b_i·w, v ⟂ w unit vectors, a_i in two clusters
// (one site in four at +0.6) and var(a) ≫ var(b): v is the first principal component.
std::vector<double> pca_mean(int64_t L) {
  std::vector<double> m(L);
  for (int64_t l = 0; l < L; ++l) m[l] = layer_mean("theta", l, L);
  return m;
}
std::vector<double> first_component(int64_t L) {
  std::vector<double> v(L);
  double norm = 0;
  for (int64_t l = 0; l < L; ++l) {
    v[l] = static_cast<double>(l) - static_cast<double>(L - 1) / 2;
    norm += v[l] * v[l];
  }
  for (auto& x : v) x /= std::sqrt(norm);
  return v;
}
std::vector<double> second_component(int64_t L) {
  return std::vector<double>(L, 1.0 / std::sqrt(static_cast<double>(L)));
}
double planted_a(int64_t i) {
  return (i % 4 == 0 ? 0.6 : -0.2) + 0.03 * std::sin(0.37 * static_cast<double>(i));
}
double planted_b(int64_t i) {
  return 0.05 * std::cos(1.3 * static_cast<double>(i));
}
std::vector<float> planted_theta(int64_t N, int64_t L) {
  const auto m = pca_mean(L), v = first_component(L), w = second_component(L);
  std::vector<float> theta(static_cast<std::size_t>(N * L));
  for (int64_t i = 0; i < N; ++i) {
    for (int64_t l = 0; l < L; ++l) {
      theta[i * L + l] = static_cast<float>(m[l] + planted_a(i) * v[l] + planted_b(i) * w[l]);
    }
  }
  return theta;
}

// /probe/<model>/ as probe/runner.cpp's finalize_model lays it out (the datasets the figures
// read, and the attributes).
void write_model(store::Group& root, const Model& spec) {
  store::Group probe = root.require_group("probe");
  store::Group g = probe.create_group(spec.name);
  const int64_t L = spec.layers;
  if (!spec.complete) {
    g.create_group("batches").create_group("000000").set_attr("status", "complete");
    store::Group s = g.create_group("summary");
    for (const char* metric : kMetrics) {
      s.write(metric, std::vector<double>(columns(metric, L), 777.0));
    }
    s.set_attr("theta_middle_mean", 777.0);
    g.set_attr("num_layers", L);
    return;
  }
  if (spec.per_token) {
    g.write("theta", planted_theta(spec.sites, L),
            {static_cast<hsize_t>(spec.sites), static_cast<hsize_t>(L)});
  }
  store::Group s = g.create_group("summary");
  for (const char* metric : kMetrics) {
    std::vector<double> means;
    for (int64_t l = 0; l < columns(metric, L); ++l) means.push_back(layer_mean(metric, l, L));
    s.write(metric, means);
  }
  s.set_attr("theta_middle_mean", theta_middle_mean(L));
  s.set_attr("sites", spec.sites);
  store::Group p = g.create_group("pca");
  p.set_attr("early_stop_fraction", early_fraction(L));
  p.set_attr("early_stop_count",
             static_cast<int64_t>(std::llround(early_fraction(L) * spec.sites)));
  p.set_attr("sites", spec.sites);
  p.write("early_stop_reference", early_reference(L));
  p.write("even_reference", even_reference(L));
  std::vector<double> comps(static_cast<std::size_t>(L * L), 0.0);
  const auto v = first_component(L), w = second_component(L);
  std::copy(v.begin(), v.end(), comps.begin());
  std::copy(w.begin(), w.end(), comps.begin() + L);
  p.write("components", comps, {static_cast<hsize_t>(L), static_cast<hsize_t>(L)});
  std::vector<double> explained(L, 0.0), variance(L, 0.0);
  explained[0] = 0.9;
  explained[1] = 0.07;
  p.write("explained", explained);
  p.write("explained_variance", variance);
  p.write("mean", pca_mean(L));
  g.set_attr("model_path", "/models/" + spec.name);
  g.set_attr("family", spec.family);
  g.set_attr("num_layers", L);
  g.set_attr("hidden_size", 64 * L);
  g.set_attr("sites", spec.sites);
  g.set_attr("store_per_token", int64_t{spec.per_token ? 1 : 0});
  g.set_attr("status", "complete");
}

// A probe run's output file: a sweep file whose /tasks stays empty.
void write_probe_file(const std::string& path, const std::vector<Model>& models) {
  store::File f = store::File::create(path);
  store::Group root = f.root();
  root.set_attr("format", "depthscale-sweep");
  root.set_attr("format_version", int64_t{1});
  root.set_attr("job_yaml", "probe: {}\n");
  root.create_group("tasks");
  for (const auto& m : models) write_model(root, m);
  f.close();
}

double dot_minus_mean(const std::vector<double>& x, const std::vector<double>& mean,
                      const std::vector<double>& c) {
  double s = 0;
  for (std::size_t l = 0; l < x.size(); ++l) s += (x[l] - mean[l]) * c[l];
  return s;
}

}  // namespace probe_data

const std::vector<std::string> kProbeFigures = {"probe_layer_means", "probe_pca",
                                                "probe_theta_middle_vs_depth"};

// The layer-means CSV holds every summary mean of the complete models at l/L, and nothing else.
void expect_layer_means(const fs::path& csv, const std::vector<probe_data::Model>& complete) {
  const auto rows = read_csv(csv);
  std::size_t expected = 0;
  std::map<std::string, int64_t> layers;
  for (const auto& m : complete) {
    layers[m.name] = m.layers;
    expected += 5 * m.layers;  // (L+1) + L + (L−1) + L + L
  }
  EXPECT_EQ(rows.size(), expected);
  std::set<std::string> metrics;
  for (const auto& r : rows) {
    ASSERT_EQ(layers.count(r.at("model")), 1u) << r.at("model");
    const int64_t L = layers[r.at("model")];
    const auto l = static_cast<int64_t>(d(r, "layer"));
    metrics.insert(r.at("metric"));
    EXPECT_EQ(d(r, "num_layers"), L);
    EXPECT_DOUBLE_EQ(d(r, "relative_depth"), static_cast<double>(l) / L);
    EXPECT_DOUBLE_EQ(d(r, "mean"), probe_data::layer_mean(r.at("metric"), l, L))
        << r.at("model") << " " << r.at("metric") << " " << l;
  }
  EXPECT_EQ(metrics,
            (std::set<std::string>{"theta", "theta_dh", "angle_to_end", "cross_entropy", "norms"}));
}

TEST_F(PlotTest, ProbeOnlyFileDrawsTheProbeFiguresWithTheirNumbers) {
  using probe_data::Model;
  const Model a{"toy-a_12", "gpt_neox", 12, 12001, true, true};
  const Model b{"toy-b", "qwen2", 24, 3000, false, true};  // store_per_token: false
  const Model running{"toy-running", "gpt_neox", 36, 10, true, false};
  const std::string path = (dir_ / "probe.h5").string();
  probe_data::write_probe_file(path, {a, b, running});
  const fs::path out = dir_ / "figs";
  ASSERT_EQ(plot_status({path, out.string()}), 0) << log();
  EXPECT_FALSE(contains(log(), "nothing to plot")) << log();
  EXPECT_FALSE(contains(log(), "depthscale reduce")) << log();  // no toy-sweep advice
  for (const auto& name : kProbeFigures) {
    expect_png(out / (name + ".png"));
    EXPECT_TRUE(fs::exists(out / (name + ".csv"))) << name;
    EXPECT_TRUE(fs::exists(out / (name + ".gp"))) << name;
  }
  for (const auto& names : {kFitFigures, kTaskFigures}) {
    for (const auto& name : names) EXPECT_FALSE(fs::exists(out / (name + ".png"))) << name;
  }

  expect_layer_means(out / "probe_layer_means.csv", {a, b});

  // PCA: only toy-a (toy-b has no theta, which the log says); evenly strided rows, each the
  // site's projection computed here, ≈ the planted (a_i, b_i); the references projected alike.
  EXPECT_TRUE(contains(log(), "probe/toy-b has no theta dataset (store_per_token was false)"))
      << log();
  const auto pca = read_csv(out / "probe_pca.csv");
  const int64_t L = a.layers;
  const auto theta = probe_data::planted_theta(a.sites, L);
  const auto mean = probe_data::pca_mean(L), v = probe_data::first_component(L),
             w = probe_data::second_component(L);
  std::size_t sites = 0, refs = 0;
  int64_t last_row = -3;
  for (const auto& r : pca) {
    EXPECT_EQ(r.at("model"), "toy-a_12");
    EXPECT_EQ(d(r, "panel"), 0);
    if (r.at("kind") == "site") {
      const auto row = static_cast<int64_t>(d(r, "row"));
      EXPECT_EQ(row, last_row + 3) << "rows 0, 3, 6, ... for 12001 sites";
      last_row = row;
      std::vector<double> t(theta.begin() + row * L, theta.begin() + (row + 1) * L);
      EXPECT_NEAR(d(r, "pc1"), probe_data::dot_minus_mean(t, mean, v), 1e-12);
      EXPECT_NEAR(d(r, "pc2"), probe_data::dot_minus_mean(t, mean, w), 1e-12);
      EXPECT_NEAR(d(r, "pc1"), probe_data::planted_a(row), 1e-5);
      EXPECT_NEAR(d(r, "pc2"), probe_data::planted_b(row), 1e-5);
      ++sites;
    } else {
      const auto ref = r.at("kind") == "early_stop_reference" ? probe_data::early_reference(L)
                                                              : probe_data::even_reference(L);
      EXPECT_TRUE(r.at("kind") == "early_stop_reference" || r.at("kind") == "even_reference");
      EXPECT_EQ(r.at("row"), "");
      EXPECT_NEAR(d(r, "pc1"), probe_data::dot_minus_mean(ref, mean, v), 1e-12);
      EXPECT_NEAR(d(r, "pc2"), probe_data::dot_minus_mean(ref, mean, w), 1e-12);
      ++refs;
    }
  }
  EXPECT_EQ(sites, 4001u);
  EXPECT_EQ(refs, 2u);
  EXPECT_EQ(last_row, 12000);
  const std::string gp = slurp(out / "probe_pca.gp");
  EXPECT_TRUE(contains(gp, "26.2% early stop")) << gp;  // early_fraction(12) = 0.262
  EXPECT_TRUE(contains(gp, "PC1 90%, PC2 7%")) << gp;

  const auto middle = read_csv(out / "probe_theta_middle_vs_depth.csv");
  ASSERT_EQ(middle.size(), 2u);
  EXPECT_EQ(middle[0].at("model"), "toy-a_12");
  EXPECT_EQ(middle[1].at("model"), "toy-b");
  EXPECT_EQ(middle[0].at("family"), "gpt_neox");
  EXPECT_EQ(d(middle[0], "num_layers"), 12);
  EXPECT_EQ(d(middle[1], "num_layers"), 24);
  EXPECT_DOUBLE_EQ(d(middle[0], "theta_middle_mean"), probe_data::theta_middle_mean(12));
  EXPECT_DOUBLE_EQ(d(middle[1], "theta_middle_mean"), probe_data::theta_middle_mean(24));
  EXPECT_DOUBLE_EQ(d(middle[1], "sites"), 3000);
}

// --model restricts the probe figures to the named models.
TEST_F(PlotTest, ModelSelectionRestrictsTheProbeFigures) {
  using probe_data::Model;
  const Model a{"toy-a_12", "gpt_neox", 12, 1200, true, true};
  const Model b{"toy-b", "qwen2", 24, 3000, true, true};
  const std::string path = (dir_ / "probe.h5").string();
  probe_data::write_probe_file(path, {a, b});
  plot::PlotOptions options;
  options.path = path;
  options.out_dir = (dir_ / "figs").string();
  options.select.model = {"toy-b"};
  ASSERT_GE(plot::plot_sweep(options), 2) << log();
  const auto middle = read_csv(dir_ / "figs" / "probe_theta_middle_vs_depth.csv");
  ASSERT_EQ(middle.size(), 1u);
  EXPECT_EQ(middle[0].at("model"), "toy-b");
  std::set<std::string> models;
  for (const auto& r : read_csv(dir_ / "figs" / "probe_layer_means.csv"))
    models.insert(r.at("model"));
  EXPECT_EQ(models, (std::set<std::string>{"toy-b"}));
}

TEST_F(PlotTest, ProbeBesideAToySweepDrawsEveryFigure) {
  using probe_data::Model;
  SweepSpec spec;
  const std::string path = (dir_ / "both.h5").string();
  write_sweep(path, spec);
  const std::vector<Model> models = {{"pythia-160m", "gpt_neox", 12, 6000, true, true},
                                     {"pythia-1.4b", "gpt_neox", 24, 6000, true, true},
                                     {"qwen2.5-0.5b", "qwen2", 24, 4000, true, true},
                                     {"pythia-6.9b", "gpt_neox", 32, 6000, true, true},
                                     {"pythia-12b", "gpt_neox", 36, 6000, true, true}};
  {
    store::File f = store::File::open(path, store::Mode::ReadWrite);
    store::Group root = f.root();
    for (const auto& m : models) probe_data::write_model(root, m);
    f.close();
  }
  const fs::path out = dir_ / "figs";
  ASSERT_EQ(plot_status({path, out.string()}), 0) << log();
  for (const auto& names : {kFitFigures, kTaskFigures, kProbeFigures}) {
    for (const auto& name : names) expect_png(out / (name + ".png"));
  }
  expect_layer_means(out / "probe_layer_means.csv", models);
  // Five models with theta: four panels spread over the depths (first and last kept).
  std::set<std::string> panels;
  for (const auto& r : read_csv(out / "probe_pca.csv")) panels.insert(r.at("model"));
  EXPECT_EQ(panels.size(), 4u);
  EXPECT_EQ(panels.count("pythia-160m"), 1u);
  EXPECT_EQ(panels.count("pythia-12b"), 1u);
  EXPECT_EQ(read_csv(out / "probe_theta_middle_vs_depth.csv").size(), 5u);
  // ⟨θ⟩ = 0.9/√L for every model: the gpt_neox fit over four sizes finds slope −0.5 exactly;
  // qwen2 has one size, so no line.
  const std::string gp = slurp(out / "probe_theta_middle_vs_depth.gp");
  EXPECT_TRUE(contains(gp, "gpt\\_neox: slope -0.50 ± 0.00")) << gp;  // literal(): \\_
  EXPECT_FALSE(contains(gp, "qwen2: slope")) << gp;
  EXPECT_TRUE(contains(gp, "1/L")) << gp;
  if (std::getenv("DEPTHSCALE_KEEP_FIGURES"))  // to look at the figures a test draws
    fs::copy(out, std::getenv("DEPTHSCALE_KEEP_FIGURES"), fs::copy_options::recursive);
}

TEST_F(PlotTest, ProbeWithoutThetaAnywhereSkipsOnlyThePcaFigure) {
  using probe_data::Model;
  const std::string path = (dir_ / "summaries.h5").string();
  probe_data::write_probe_file(path, {{"m1", "opt", 12, 100, false, true}});
  const fs::path out = dir_ / "figs";
  ASSERT_EQ(plot_status({path, out.string()}), 0) << log();
  expect_png(out / "probe_layer_means.png");
  expect_png(out / "probe_theta_middle_vs_depth.png");
  EXPECT_FALSE(fs::exists(out / "probe_pca.png"));
  EXPECT_TRUE(contains(log(), "probe_pca skipped")) << log();
}

TEST_F(PlotTest, ProbeFileWithoutCompleteModelsHasNothingToPlot) {
  using probe_data::Model;
  const std::string path = (dir_ / "running.h5").string();
  probe_data::write_probe_file(path, {{"m1", "opt", 12, 100, true, false}});
  EXPECT_EQ(plot_status({path, (dir_ / "f").string()}), 1);
  EXPECT_TRUE(contains(log(), "nothing to plot")) << log();
}

}  // namespace
