// The batched engine (Cohort, the GPU path) against the per-student autograd reference, on the
// CPU; and, where LibTorch sees a GPU, the same work unit on CUDA against the CPU.
#include <gtest/gtest.h>

#include <cmath>
#include <sstream>

#include "toy/cohort.hpp"
#include "toy/tests/unit_runner.hpp"
#include "toy/unit.hpp"

using namespace depthscale;

namespace {

config::Job job_with(const std::string& extra) {
  std::string yaml = R"(name: t
kind: toy
seed: 11
grid: {temperature: [0.05, 0.3, 1.0], rho: [0.0], depth: [3], teacher: [0]}
model: {width: 16, vocab: 24, teacher_depth: 5}
train: {loss: kl, steps: 24, batch: 96, lr: {base: 0.01}, eval: {every: 8, batches: 2}, checkpoint_every: 0}
probe_hidden: {inputs: 8}
)";
  return toy::testing::job_from(yaml, extra, "<cohort test>");
}

using toy::testing::Collected;
using toy::testing::run;

const std::vector<std::string> kVariants = {
    "",
    "model.block=rk2",
    "model.head=teacher\ntrain.student_temperature=true",
    "train.loss=mse\nmodel.head=none",
    "train.loss=mse\nmodel.head=none\nmodel.block=rk2\ngrid.rho=[1.0]",
    "train.loss=mse",
};

double max_rel(const torch::Tensor& a, const torch::Tensor& b) {
  const double scale = b.abs().max().item<double>();
  return (a - b).abs().max().item<double>() / (scale > 0 ? scale : 1.0);
}

toy::UnitSpec unit_of(const std::vector<config::ToyTask>& tasks) {
  return toy::testing::unit_of({}, tasks);
}

double worst_loss_difference(const Collected& a, const Collected& b) {
  double worst = 0;
  for (const auto& [key, r] : a.results) {
    const auto& s = b.results.at(key);
    EXPECT_TRUE(r.complete && s.complete) << key << ": " << r.error << s.error;
    EXPECT_EQ(r.train_loss.size(), s.train_loss.size());
    for (size_t i = 0; i < r.train_loss.size() && i < s.train_loss.size(); ++i)
      worst = std::max(worst, std::abs(double(r.train_loss[i]) - s.train_loss[i]) /
                                  std::max(1e-6, std::abs(double(s.train_loss[i]))));
    for (size_t i = 0; i < r.test_loss.size() && i < s.test_loss.size(); ++i)
      worst = std::max(worst, std::abs(double(r.test_loss[i]) - s.test_loss[i]) /
                                  std::max(1e-6, std::abs(double(s.test_loss[i]))));
  }
  return worst;
}

}  // namespace

// One cohort step equals K separate autograd steps: losses, gradients rows and parameters after.
TEST(Cohort, StepEqualsSeparateAutogradStudents) {
  for (const auto& v : kVariants) {
    auto job = job_with(v);
    auto tasks = config::expand(job);
    ASSERT_EQ(tasks.size(), 3u);
    toy::Teacher teacher(job, tasks[0].rho, tasks[0].teacher);
    std::vector<toy::StudentSpec> specs;
    std::vector<uint64_t> seeds;
    std::vector<std::unique_ptr<toy::Student>> alone;
    for (const auto& t : tasks) {
      auto spec = toy::StudentSpec::from(job, t);
      spec.engine = config::Engine::Autograd;
      specs.push_back(spec);
      seeds.push_back(1000 + t.depth + uint64_t(1e3 * t.temperature));
      alone.push_back(std::make_unique<toy::Student>(spec, seeds.back(), teacher.head()));
    }
    toy::Cohort cohort(specs, seeds, teacher.head(), torch::kCPU);
    for (int s = 0; s < 5; ++s) {
      auto h0 = toy::rms_norm(toy::training_inputs(job, tasks[0].teacher_key(), s));
      auto out = teacher.forward(h0);
      std::vector<torch::Tensor> targets;
      for (const auto& t : tasks)
        targets.push_back(toy::teacher_target(out, job.train.loss, t.temperature));
      auto losses = cohort.train_step(h0, targets);
      for (size_t k = 0; k < tasks.size(); ++k) {
        const double ref = alone[k]->train_step(h0, targets[k]).item<double>();
        EXPECT_NEAR(losses[int64_t(k)].item<double>(), ref, 2e-6 * std::abs(ref) + 1e-8)
            << v << " step " << s << " member " << k;
        EXPECT_EQ(cohort.member(int64_t(k)).step(), alone[k]->step());
      }
    }
    for (size_t k = 0; k < tasks.size(); ++k) {
      std::vector<float> pc, mc, vc, pa, ma, va;
      cohort.member(int64_t(k)).save_state(pc, mc, vc);
      alone[k]->save_state(pa, ma, va);
      auto a = torch::tensor(pc), b = torch::tensor(pa);
      // Five Adam steps amplify float32 rounding where a gradient is tiny (m/√v ~ 1 for any
      // gradient size): 1e-5 held with OpenBLAS's SkylakeX kernels, 1.3e-5 is seen with its
      // Haswell/Zen ones; a dropped temperature or a wrong gradient is orders of magnitude off.
      EXPECT_LT(max_rel(a, b), 5e-5) << v << " member " << k;
      EXPECT_GT(b.abs().max().item<double>(), 0);
    }
    // Members really differ (temperature), so the comparison above can fail.
    std::vector<float> p0, p1, x, y;
    cohort.member(0).save_state(p0, x, y);
    cohort.member(1).save_state(p1, x, y);
    EXPECT_NE(p0, p1) << v;
  }
}

TEST(Cohort, RefusesMembersOfDifferentShapes) {
  auto job = job_with("grid.depth=[2, 3]");
  auto tasks = config::expand(job);
  toy::Teacher teacher(job, 0.0, 0);
  std::vector<toy::StudentSpec> specs{toy::StudentSpec::from(job, tasks[0]),
                                      toy::StudentSpec::from(job, tasks.back())};
  ASSERT_NE(specs[0].depth, specs[1].depth);
  EXPECT_THROW(toy::Cohort(specs, {1, 2}, teacher.head(), torch::kCPU), std::invalid_argument);
}

// A whole work unit on the batched engine matches the autograd engine (float tolerance), and a
// stop + resume on it is bit-identical to an uninterrupted batched run.
TEST(Cohort, BatchedUnitMatchesAutogradAndResumesBitIdentically) {
  auto job = job_with("grid.depth=[2, 3]\ntrain.checkpoint_every=8");
  auto tasks = config::expand(job);
  Collected reference, batched, first, second;
  job.run.engine = config::Engine::Autograd;
  run(job, unit_of(tasks), reference);
  job.run.engine = config::Engine::Batched;
  run(job, unit_of(tasks), batched);
  ASSERT_EQ(batched.results.size(), tasks.size());
  EXPECT_LT(worst_loss_difference(batched, reference), 1e-4);

  EXPECT_EQ(run(job, unit_of(tasks), first, {}, 11), toy::UnitOutcome::Stopped);
  auto unit = unit_of(tasks);
  unit.start_step = first.checkpoints.begin()->second.step;
  EXPECT_EQ(run(job, unit, second, first.checkpoints), toy::UnitOutcome::Finished);
  for (const auto& t : tasks) {
    EXPECT_EQ(second.results.at(t.key).train_loss, batched.results.at(t.key).train_loss) << t.key;
    EXPECT_EQ(second.results.at(t.key).test_loss, batched.results.at(t.key).test_loss) << t.key;
  }
}

// A member that fails (here by injection) fails alone; the rest of its cohort finishes.
TEST(Cohort, FailedMemberFailsAlone) {
  auto job = job_with("");
  job.run.engine = config::Engine::Batched;
  auto tasks = config::expand(job);
  Collected out;
  run(job, unit_of(tasks), out, {}, -1, torch::kCPU, tasks[1].key + "@5");
  ASSERT_EQ(out.results.size(), 3u);
  EXPECT_FALSE(out.results.at(tasks[1].key).complete);
  EXPECT_TRUE(out.results.at(tasks[0].key).complete);
  EXPECT_TRUE(out.results.at(tasks[2].key).complete);
}

// CUDA: the same unit on the GPU (batched, the default there) equals the CPU (fused engine)
// within float tolerance. Skips where LibTorch sees no GPU (Debian's LibTorch is CPU-only).
TEST(Cohort, CudaUnitMatchesCpu) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device visible to LibTorch";
  for (const auto& v : kVariants) {
    auto job = job_with(v + "\ngrid.depth=[2, 3]");
    auto tasks = config::expand(job);
    Collected cpu, gpu;
    run(job, unit_of(tasks), cpu);
    run(job, unit_of(tasks), gpu, {}, -1, torch::Device(torch::kCUDA, 0));
    // TF32 is off by default for LibTorch matmuls, so this is float32 against float32.
    EXPECT_LT(worst_loss_difference(gpu, cpu), 1e-3) << v;
  }
}
