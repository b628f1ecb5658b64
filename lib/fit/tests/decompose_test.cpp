// `depthscale reduce --decompose`: the width × depth × data decomposition of toy sweeps. The solver
// recovers known exponents with honest SEs on the toy grid; the whole path through a real sweep
// file (new and old task attributes) writes the CSVs; unusable cells give messages naming them.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <set>
#include <sstream>
#include <string>

#include "fit/fit.hpp"
#include "fit/reduce.hpp"
#include "store/store.hpp"

namespace depthscale::fit {
namespace {

namespace fs = std::filesystem;

// The law the synthetic data follow: L = c_m m^-α_m + c_ℓ ℓ^-α_ℓ + c_D D^-α_D + L0.
struct Law {
  double c_m = 2.0, alpha_m = 1.0;
  double c_l = 0.5, alpha_l = 1.5;
  double c_D = 100.0, alpha_D = 0.5;
  double L0 = 0.05;
  double at(double m, double l, double D) const {
    return c_m * std::pow(m, -alpha_m) + c_l * std::pow(l, -alpha_l) + c_D * std::pow(D, -alpha_D) +
           L0;
  }
};

const std::vector<int> kWidths = {8, 12, 16, 24, 32, 48};
const std::vector<int> kDepths = {2, 3, 4, 6, 8, 12};
constexpr int kBatch = 256;
// 8 evaluated steps (eval.every = 250 of 2000).
std::vector<int64_t> eval_steps() {
  std::vector<int64_t> s;
  for (int i = 1; i <= 8; ++i) s.push_back(250 * i);
  return s;
}

// The toy grid's points with multiplicative log-normal noise of log-sd sigma.
ScalingData synthetic_grid(const Law& law, double sigma, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> noise(0.0, sigma);
  ScalingData d;
  for (int m : kWidths)
    for (int l : kDepths)
      for (int64_t step : eval_steps()) {
        const double D = double(step) * kBatch;
        d.push_back(0, 0, law.at(m, l, D) * std::exp(noise(rng)), D, m, l);
      }
  return d;
}

// Over many seeds the estimates lie within a few SE of the truth, and the nominal 95% interval
// (±1.96 SE) covers the true α_m, α_ℓ, α_D and L0 at close to 95% (the depth fit's coverage test
// in power_law_test.cpp, with its tolerance: 88–99%).
TEST(Decompose, RecoversKnownExponentsWithSeCoverage) {
  const Law law;
  const double truth[4] = {law.alpha_m, law.alpha_l, law.alpha_D, law.L0};
  const int index[4] = {kAlphaM, kAlphaL, kAlphaD, kL0};
  const char* names[4] = {"alpha_m", "alpha_l", "alpha_D", "L0"};
  const int reps = 100;
  int covered[4] = {0, 0, 0, 0};
  double mean[4] = {0, 0, 0, 0}, mean_se[4] = {0, 0, 0, 0};
  for (int r = 0; r < reps; ++r) {
    const ScalingData d = synthetic_grid(law, 0.02, 5000 + r);
    ASSERT_EQ(d.size(), 288u);
    const ScalingFit f = fit_scaling(d);
    ASSERT_TRUE(f.converged) << f.message;
    ASSERT_TRUE(f.se_ok) << f.message;
    for (int k = 0; k < 4; ++k) {
      const double est = f.params[index[k]], se = f.se[index[k]];
      EXPECT_LT(std::fabs(est - truth[k]), 5 * se) << names[k] << " seed " << 5000 + r;
      covered[k] += std::fabs(est - truth[k]) < 1.96 * se;
      mean[k] += est / reps;
      mean_se[k] += se / reps;
    }
  }
  for (int k = 0; k < 4; ++k) {
    std::cout << names[k] << ": true " << truth[k] << ", mean estimate " << mean[k] << ", mean SE "
              << mean_se[k] << ", +-1.96 SE covers the truth in " << covered[k] << "/" << reps
              << "\n";
    EXPECT_GE(covered[k], 0.88 * reps) << names[k];
    EXPECT_LE(covered[k], 0.99 * reps) << names[k];
    EXPECT_NEAR(mean[k], truth[k], 3 * mean_se[k] / std::sqrt(double(reps)) + 0.01 * truth[k])
        << names[k];
  }
}

// ---------------------------------------------------------------------------------------------
// Through a sweep file

const char* kJob = R"(name: decompose-test
kind: toy
seed: 1
grid:
  temperature: [1.0]
  rho: [0.0]
  depth: [2, 3, 4, 6, 8, 12]
  teacher: [0, 1]
model: {width: 16, vocab: 32, teacher_depth: 24, block: plain, head: trained}
train:
  loss: kl
  steps: 2000
  batch: 256
  lr: {base: 2.0e-3, depth_scaling: none, schedule: constant}
  inputs: shared
  eval: {every: 250, batches: 2}
  checkpoint_every: 500
)";

struct TaskSpec {
  double rho = 0, temperature = 1;
  int width = 16, depth = 2, teacher = 0;
  int teacher_depth = 24, teacher_groups = 0;
  bool new_attributes = true;  // false: a file written before the width axis
};

class DecomposeFile : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("ds_decompose_" + std::to_string(getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // A sweep file holding `tasks`, each with eval arrays at steps 0, 250, ..., 2000 from `law`
  // (teacher replicate t scales the loss by 1 ± 1%, so the mean over replicates 0 and 1 is the
  // law), and the job text above.
  std::string write(const std::string& name, const std::vector<TaskSpec>& tasks,
                    const Law& law = {}) {
    const std::string path = (dir_ / name).string();
    store::SweepHeader h;
    h.job_yaml = kJob;
    h.effective = kJob;
    h.git_commit = "test";
    h.version = "test";
    h.torch_version = "none";
    store::SweepFile::create(path, h, true);
    store::File f = store::File::open(path, store::Mode::ReadWrite);
    store::Group root = f.root();
    store::Group g = root.open_group("tasks");
    for (const auto& t : tasks) {
      store::TaskResult r;
      r.key = "rho" + std::to_string(int(t.rho)) + "_K" + std::to_string(t.teacher_groups) + "_m" +
              std::to_string(t.width) + "_d" + std::to_string(t.depth) + "_t" +
              std::to_string(t.teacher);
      r.params = {{"rho", t.rho},
                  {"temperature", t.temperature},
                  {"depth", double(t.depth)},
                  {"teacher", double(t.teacher)}};
      if (t.new_attributes) {
        r.params["width"] = t.width;
        r.params["teacher_depth"] = t.teacher_depth;
        r.params["teacher_groups"] = t.teacher_groups;
      }
      r.complete = true;
      r.host = "test";
      r.train_loss = {1.0f};
      const double scale = t.teacher == 0 ? 0.99 : 1.01;
      for (int64_t step = 0; step <= 2000; step += 250) {
        r.eval_step.push_back(step);
        // Step 0 (D = 0) is where training starts: a loss far off the law, to be skipped.
        r.test_loss.push_back(
            step == 0 ? 10.0f : float(scale * law.at(t.width, t.depth, double(step) * kBatch)));
      }
      store::write_task(g, r);
    }
    f.flush();
    return path;
  }

  static std::vector<TaskSpec> grid(const std::vector<int>& widths, const std::vector<int>& depths,
                                    bool new_attributes = true) {
    std::vector<TaskSpec> v;
    for (int m : widths)
      for (int l : depths)
        for (int t : {0, 1}) {
          TaskSpec s;
          s.width = m;
          s.depth = l;
          s.teacher = t;
          s.new_attributes = new_attributes;
          v.push_back(s);
        }
    return v;
  }

  fs::path dir_;
};

std::string read_text(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST_F(DecomposeFile, RecoversTheLawAndWritesTheCsvsPerCell) {
  // Two cells: ρ = 0, and the grouped teacher K = 4 (whose ρ attribute is ignored).
  std::vector<TaskSpec> tasks = grid({8, 12, 16, 24, 32, 48}, {2, 3, 4, 6, 8, 12});
  for (auto t : grid({8, 16, 32}, {2, 4, 8})) {
    t.teacher_groups = 4;
    t.rho = 1;
    tasks.push_back(t);
  }
  const std::string path = write("sweep.h5", tasks);
  DecomposeOptions o;
  o.path = path;
  o.bootstrap = 20;
  o.holdout = 3;
  std::ostringstream out;
  const DecomposeResult r = decompose_sweep(o, out);
  const std::string text = out.str();
  std::cout << text;
  EXPECT_EQ(r.out_dir, (dir_ / "sweep_decompose").string());
  ASSERT_EQ(r.cells.size(), 2u);
  EXPECT_TRUE(r.skipped.empty());
  const Law law;
  for (const auto& cell : r.cells) {
    SCOPED_TRACE(cell.name);
    const auto& f = cell.analysis.fit;
    // Noiseless data (the replicates' ±1% average out exactly): the law comes back.
    EXPECT_NEAR(f.params[kAlphaM], law.alpha_m, 1e-4);
    EXPECT_NEAR(f.params[kAlphaL], law.alpha_l, 1e-4);
    EXPECT_NEAR(f.params[kAlphaD], law.alpha_D, 1e-4);
    EXPECT_NEAR(f.params[kL0], law.L0, 1e-5);
    EXPECT_EQ(cell.replicates, 2);
    EXPECT_TRUE(cell.analysis.bootstrap.has_value());
    EXPECT_TRUE(cell.analysis.holdout.has_value());
    for (const char* csv : {"fit.csv", "parts.csv", "bootstrap.csv", "holdout.csv"}) {
      const fs::path p = fs::path(cell.dir) / csv;
      EXPECT_TRUE(fs::exists(p)) << p;
      EXPECT_GT(fs::file_size(p), 50u) << p;
    }
    const std::string parts = read_text(fs::path(cell.dir) / "parts.csv");
    EXPECT_EQ(parts.rfind("step,width,depth,D,loss,predicted,", 0), 0u) << parts.substr(0, 80);
    // Step 0 is skipped by default: 8 steps per (m, ℓ).
    EXPECT_EQ(parts.find("\n0,"), std::string::npos);
  }
  EXPECT_EQ(r.cells[0].name, "rho0_L24_T1");
  EXPECT_EQ(r.cells[0].data.size(), 6u * 6u * 8u);
  EXPECT_EQ(r.cells[1].name, "K4_L24_T1");
  EXPECT_EQ(r.cells[1].data.size(), 3u * 3u * 8u);
  EXPECT_NE(read_text(fs::path(r.cells[1].dir) / "fit.csv").find("teacher_groups,4,"),
            std::string::npos);
  EXPECT_NE(text.find("decomposition per cell"), std::string::npos);
  EXPECT_NE(text.find("held-out"), std::string::npos);

  // --min-step drops the early steps.
  DecomposeOptions late = o;
  late.min_step = 1000;
  late.bootstrap = late.holdout = 0;
  late.out_dir = (dir_ / "late").string();
  std::ostringstream out2;
  const DecomposeResult r2 = decompose_sweep(late, out2);
  EXPECT_EQ(r2.cells[0].data.size(), 6u * 6u * 5u);
  EXPECT_TRUE(fs::exists(dir_ / "late" / "rho0_L24_T1" / "fit.csv"));
}

TEST_F(DecomposeFile, OldFilesUseTheJobsWidthAndTeacherDepth) {
  // Tasks without width/teacher_depth/teacher_groups: the width is the job's model.width (16), so
  // one width per cell, which the decomposition cannot separate: the message says so, naming the
  // cell with the job's teacher depth (24).
  const std::string path = write("old.h5", grid({16}, {2, 3, 4, 6}, false));
  DecomposeOptions o;
  o.path = path;
  std::ostringstream out;
  try {
    decompose_sweep(o, out);
    ADD_FAILURE() << "no error for a file with one width";
  } catch (const DecomposeError& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("rho0_L24_T1"), std::string::npos) << m;
    EXPECT_NE(m.find("one student width ({16})"), std::string::npos) << m;
    EXPECT_NE(m.find("at least 2 widths"), std::string::npos) << m;
  }
  // Mixed: old tasks (width 16 from the job) beside new ones of width 32 make one cell of two
  // widths.
  std::vector<TaskSpec> mixed = grid({16}, {2, 3, 4, 6}, false);
  for (const auto& t : grid({32}, {2, 3, 4, 6})) mixed.push_back(t);
  const std::string path2 = write("mixed.h5", mixed);
  o.path = path2;
  const DecomposeResult r = decompose_sweep(o, out);
  ASSERT_EQ(r.cells.size(), 1u);
  EXPECT_EQ(r.cells[0].name, "rho0_L24_T1");
  std::set<double> widths(r.cells[0].data.width.begin(), r.cells[0].data.width.end());
  EXPECT_EQ(widths, (std::set<double>{16, 32}));
  EXPECT_NEAR(r.cells[0].analysis.fit.params[kAlphaD], Law().alpha_D, 1e-3);
}

TEST_F(DecomposeFile, OneWidthCellIsSkippedBesideOthers) {
  std::vector<TaskSpec> tasks = grid({8, 16, 32}, {2, 4, 8});
  for (auto t : grid({16}, {2, 4, 8})) {
    t.temperature = 0.5;
    tasks.push_back(t);
  }
  DecomposeOptions o;
  o.path = write("skip.h5", tasks);
  std::ostringstream out;
  const DecomposeResult r = decompose_sweep(o, out);
  ASSERT_EQ(r.cells.size(), 1u);
  EXPECT_EQ(r.cells[0].name, "rho0_L24_T1");
  ASSERT_EQ(r.skipped.size(), 1u);
  EXPECT_NE(r.skipped[0].find("rho0_L24_T0.5: skipped: one student width"), std::string::npos)
      << r.skipped[0];
  EXPECT_NE(out.str().find("rho0_L24_T0.5: skipped"), std::string::npos);
}

TEST_F(DecomposeFile, TooFewPointsOrOneDepthNameTheCell) {
  // 2 widths × 1 depth, and only the last step: 2 points, one depth, one D.
  DecomposeOptions o;
  o.path = write("few.h5", grid({8, 16}, {4}));
  o.min_step = 2000;
  std::ostringstream out;
  try {
    decompose_sweep(o, out);
    ADD_FAILURE() << "no error for too few points";
  } catch (const DecomposeError& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("cell rho0_L24_T1"), std::string::npos) << m;
    EXPECT_NE(m.find("2 points, the fit needs at least 8"), std::string::npos) << m;
    EXPECT_NE(m.find("one depth {4}"), std::string::npos) << m;
    EXPECT_NE(m.find("one data size D"), std::string::npos) << m;
  }
  // A replicate missing for (8, 4) and (16, 4): those pairs are left out, one depth remains, and
  // the message counts them.
  std::vector<TaskSpec> tasks = grid({8, 16}, {2, 4});
  tasks.erase(tasks.begin() + 7);  // (16, 4, replicate 1)
  tasks.erase(tasks.begin() + 3);  // (8, 4, replicate 1)
  o.path = write("partial.h5", tasks);
  o.min_step = 1;
  try {
    decompose_sweep(o, out);
    ADD_FAILURE() << "no error for too few (width, depth) pairs";
  } catch (const DecomposeError& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("2 (width, depth) pairs without every replicate of {0,1}"), std::string::npos)
        << m;
  }
  // A bad option is an Error too, not a crash.
  o.min_step = 0;
  EXPECT_THROW(decompose_sweep(o, out), Error);
}

}  // namespace
}  // namespace depthscale::fit
