// Figures from a synthetic sweep with known numbers: every PNG is a real 900×600 image, and the CSV
// beside it holds the numbers that went in (α means and SEMs, test losses, fitted curves, hidden
// angles, smoothed training losses). Also the skips (no /fits, no probes), the errors (not a
// sweep, gnuplot failing) and the scaling-fit parts figure.
#include <gtest/gtest.h>
#include <spdlog/fmt/fmt.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "plot/plot.hpp"
#include "store/store.hpp"

namespace fs = std::filesystem;
using namespace depthscale;

namespace {

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
  bool failed_task = true;      // one failed and one status-less task with absurd numbers
  bool temperature = true;      // false: a grid without temperature (the MSE experiments)
  bool final_fit_only = false;  // /fits hold one step (jobs that evaluate only at the end)
};

constexpr int64_t kTeacherDepth = 32;

// α of a (ρ, T, teacher) group's final fit: the teacher replicates differ by 0.1, so the mean is
// base + 0.05 and the SEM over two is exactly 0.1/√2/√2 = 0.05.
double final_alpha(double rho, double T, int64_t teacher) {
  return 0.5 + rho + 0.25 * std::log10(T) + 0.1 * static_cast<double>(teacher);
}
double alpha_at(std::size_t step_index, double final) {
  return step_index == 0 ? 0.8 * final : final;
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
          const double a = final_alpha(rho, T, teacher);
          r.eval_step = {spec.steps / 2, spec.steps};
          r.test_loss = {static_cast<float>(test_loss(0.8 * a, depth)),
                         static_cast<float>(test_loss(a, depth))};
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
          const double a = final_alpha(rho, T, teacher);
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
          g.write("step", std::vector<int64_t>{spec.steps / 2, spec.steps});
          g.write("alpha", std::vector<double>{alpha_at(0, a), alpha_at(1, a)});
          g.write("alpha_se", std::vector<double>{fit_se(0), fit_se(1)});
          g.write("c", std::vector<double>{kC, kC});
          g.write("c_se", std::vector<double>{0.1, 0.1});
          g.write("L0", std::vector<double>{kL0, kL0});
          g.write("L0_se", std::vector<double>{0.01, 0.01});
          g.write("rss", std::vector<double>{1e-6, 1e-6});
          g.write("n_points", std::vector<int64_t>{3, 3});
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
    unsetenv("DEPTHSCALE_GNUPLOT");
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
  ASSERT_EQ(plot::plot_sweep({path, out.string()}), 0) << log();

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

TEST_F(PlotTest, OneReplicateUsesTheFitStandardError) {
  SweepSpec spec;
  spec.teachers = {0};
  const std::string path = (dir_ / "one.h5").string();
  write_sweep(path, spec);
  ASSERT_EQ(plot::plot_sweep({path, (dir_ / "f").string()}), 0) << log();
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
  ASSERT_EQ(plot::plot_sweep({path, out.string()}), 0) << log();
  for (const auto& name : kFitFigures) EXPECT_FALSE(fs::exists(out / (name + ".png"))) << name;
  for (const auto& name : kTaskFigures) expect_png(out / (name + ".png"));
  EXPECT_TRUE(contains(log(), "depthscale reduce " + path)) << log();
}

TEST_F(PlotTest, WithoutHiddenProbesSkipsAngleFigures) {
  SweepSpec spec;
  spec.probe_inputs = 0;
  const std::string path = (dir_ / "nohidden.h5").string();
  write_sweep(path, spec);
  const fs::path out = dir_ / "figs";
  ASSERT_EQ(plot::plot_sweep({path, out.string()}), 0) << log();
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
  ASSERT_EQ(plot::plot_sweep({path, out.string()}), 0) << log();
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
  ASSERT_EQ(plot::plot_sweep({path, out.string()}), 0) << log();
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
  ASSERT_EQ(plot::plot_sweep({path, out.string()}), 0) << log();
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
  ASSERT_EQ(plot::plot_sweep({path, ""}), 0) << log();
  expect_png(dir_ / "run7-figures" / "loss_vs_depth.png");
}

TEST_F(PlotTest, NotASweepFileIsAnErrorNamingTheFile) {
  const std::string h5 = (dir_ / "other.h5").string();
  {
    store::File f = store::File::create(h5);
    f.root().create_group("something");
    f.close();
  }
  EXPECT_EQ(plot::plot_sweep({h5, (dir_ / "a").string()}), 1);
  EXPECT_TRUE(contains(log(), h5 + " is not a depthscale sweep file")) << log();

  const std::string text = (dir_ / "notes.h5").string();
  std::ofstream(text) << "not hdf5 at all\n";
  EXPECT_EQ(plot::plot_sweep({text, (dir_ / "b").string()}), 1);
  EXPECT_TRUE(contains(log(), text + " is not an HDF5 file")) << log();

  const std::string missing = (dir_ / "missing.h5").string();
  EXPECT_EQ(plot::plot_sweep({missing, (dir_ / "c").string()}), 1);
  EXPECT_TRUE(contains(log(), missing)) << log();
}

TEST_F(PlotTest, SweepWithoutResultsHasNothingToPlot) {
  SweepSpec spec;
  spec.rhos.clear();
  spec.fits = false;
  spec.failed_task = true;
  const std::string path = (dir_ / "empty.h5").string();
  write_sweep(path, spec);
  EXPECT_EQ(plot::plot_sweep({path, (dir_ / "f").string()}), 1);
  EXPECT_TRUE(contains(log(), "nothing to plot")) << log();
}

TEST_F(PlotTest, GnuplotFailureIsAnErrorNamingTheScript) {
  SweepSpec spec;
  spec.probe_inputs = 0;
  const std::string path = (dir_ / "s.h5").string();
  write_sweep(path, spec);
  setenv("DEPTHSCALE_GNUPLOT", "false", 1);
  EXPECT_EQ(plot::plot_sweep({path, (dir_ / "f").string()}), 1);
  EXPECT_TRUE(contains(log(), (dir_ / "f" / "alpha_vs_temperature.gp").string())) << log();
  EXPECT_TRUE(contains(log(), "exit status 1")) << log();

  setenv("DEPTHSCALE_GNUPLOT", (dir_ / "no-such-gnuplot").c_str(), 1);
  EXPECT_EQ(plot::plot_sweep({path, (dir_ / "g").string()}), 1);
  EXPECT_TRUE(contains(log(), "set DEPTHSCALE_GNUPLOT")) << log();
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
  ASSERT_EQ(plot::plot_scaling_parts(parts.string(), out.string()), 0) << log();
  expect_png(out / "scaling_parts.png");
  const auto back = read_csv(out / "scaling_parts.csv");
  ASSERT_EQ(back.size(), rows.size());
  const std::vector<std::string> names = {"m",          "l",          "D",         "loss",
                                          "depth_part", "width_part", "data_part", "predicted"};
  for (std::size_t i = 0; i < rows.size(); ++i) {
    for (std::size_t k = 0; k < names.size(); ++k) {
      EXPECT_DOUBLE_EQ(d(back[i], names[k]), rows[i][k]) << names[k] << " row " << i;
    }
  }
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
  ASSERT_EQ(plot::plot_scaling_parts((dir_ / "parts.csv").string(), out.string()), 0) << log();
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
  EXPECT_EQ(plot::plot_scaling_parts(parts.string(), (dir_ / "o").string()), 1);
  EXPECT_TRUE(contains(log(), parts.string() + ":1: no column 'L0'")) << log();
  std::ofstream(parts)
      << "l,D,loss,depth_part,width_part,data_part,L0,predicted\n1,2,3,4,5,6,7,8\n";
  EXPECT_EQ(plot::plot_scaling_parts(parts.string(), (dir_ / "o").string()), 1);
  EXPECT_TRUE(contains(log(), parts.string() + ":1: no column 'm' or 'd_model'")) << log();

  std::ofstream(parts) << "m,l,D,loss,depth_part,width_part,data_part,L0,predicted\n"
                          "1,2,3,4,5,6,7,8,9\n1,2,3,abc,5,6,7,8,9\n";
  EXPECT_EQ(plot::plot_scaling_parts(parts.string(), (dir_ / "o").string()), 1);
  EXPECT_TRUE(contains(log(), parts.string() + ":3: column 'loss': 'abc' is not a number"))
      << log();

  EXPECT_EQ(plot::plot_scaling_parts((dir_ / "none.csv").string(), (dir_ / "o").string()), 1);
  EXPECT_TRUE(contains(log(), (dir_ / "none.csv").string())) << log();
}

}  // namespace
