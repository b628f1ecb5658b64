#include <ATen/Parallel.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "toy/matmul.hpp"
#include "toy/model.hpp"
#include "toy/tests/unit_runner.hpp"
#include "toy/unit.hpp"

using namespace depthscale;
using config::Block;
using config::Head;
using config::Loss;

namespace {

config::Job small_job(const std::string& extra = "") {
  std::string yaml = R"(name: t
kind: toy
seed: 7
grid: {temperature: [0.1, 1.0], rho: [0.0], depth: [2, 3], teacher: [0]}
model: {width: 8, vocab: 16, teacher_depth: 6}
train: {loss: kl, steps: 30, batch: 64, lr: {base: 0.01}, eval: {every: 10, batches: 2}, checkpoint_every: 0}
probe_hidden: {inputs: 16}
)";
  return toy::testing::job_from(yaml, extra);
}

using toy::testing::Collected;
using toy::testing::run;
using toy::testing::unit_of;

// Trains every task of the job in one unit and each alone, and expects the same numbers bit for
// bit (a student's numbers never depend on its unit). Returns the unit's results.
Collected expect_unit_equals_separate_runs(const config::Job& job) {
  const auto tasks = config::expand(job);
  Collected together;
  run(job, unit_of(job, tasks), together);
  for (const auto& t : tasks) {
    Collected alone;
    run(job, unit_of(job, {t}), alone);
    const auto& a = alone.results.at(t.key);
    const auto& b = together.results.at(t.key);
    EXPECT_TRUE(a.complete && b.complete) << t.key;
    EXPECT_EQ(a.train_loss, b.train_loss) << t.key;
    EXPECT_EQ(a.test_loss, b.test_loss) << t.key;
    EXPECT_EQ(a.theta, b.theta) << t.key;
  }
  return together;
}

}  // namespace

TEST(Toy, RmsNormHasUnitRms) {
  auto h = torch::randn({5, 32}) * 7.0;
  auto n = toy::rms_norm(h);
  auto rms = n.square().mean(-1).sqrt();
  EXPECT_TRUE(torch::allclose(rms, torch::ones({5}), 1e-5, 1e-6));
}

TEST(Toy, TeacherRhoOneTiesEveryLayerAndRhoZeroDoesNot) {
  auto job = small_job();
  toy::Teacher tied(job, 1.0, 0), free(job, 0.0, 0);
  for (int l = 1; l < tied.depth(); ++l) {
    EXPECT_TRUE(torch::equal(tied.layers()[l].first.A, tied.layers()[0].first.A));
    EXPECT_TRUE(torch::equal(tied.layers()[l].first.B, tied.layers()[0].first.B));
    EXPECT_FALSE(torch::equal(free.layers()[l].first.A, free.layers()[0].first.A));
  }
  // Replicates differ; the same replicate is drawn identically twice.
  toy::Teacher again(job, 0.0, 0), other(job, 0.0, 1);
  EXPECT_TRUE(torch::equal(again.layers()[3].first.A, free.layers()[3].first.A));
  EXPECT_FALSE(torch::equal(other.layers()[3].first.A, free.layers()[3].first.A));
}

// Teacher groups: K = 1 is exactly the ρ = 1 teacher, K = ℓ* exactly the ρ = 0 one (bit for bit),
// and in between the layers of a group are one draw and the groups differ.
TEST(Toy, TeacherGroupsTieContiguousLayersAndMeetTheRhoExtremes) {
  auto job = small_job("grid.rho=[1.0]");  // ℓ* = 6
  auto group_task = [&](int k) {
    config::ToyTask t;
    t.teacher_groups = k;
    t.teacher_depth = job.model.teacher_depth;
    t.rho = k == t.teacher_depth ? 0.0 : 1.0;
    return t;
  };
  auto same = [](const toy::Teacher& a, const toy::Teacher& b) {
    if (a.depth() != b.depth()) return false;
    for (int l = 0; l < a.depth(); ++l)
      for (auto [x, y] : {std::pair{a.layers()[l].first.A, b.layers()[l].first.A},
                          std::pair{a.layers()[l].first.b, b.layers()[l].first.b},
                          std::pair{a.layers()[l].first.B, b.layers()[l].first.B}})
        if (!torch::equal(x, y)) return false;
    return torch::equal(a.head(), b.head());
  };
  EXPECT_TRUE(same(toy::Teacher(job, group_task(1)), toy::Teacher(job, 1.0, 0)));
  EXPECT_TRUE(same(toy::Teacher(job, group_task(6)), toy::Teacher(job, 0.0, 0)));
  EXPECT_FALSE(same(toy::Teacher(job, group_task(6)), toy::Teacher(job, 1.0, 0)));
  // K = 4 over 6 layers: layer l in group ⌊l·K/ℓ*⌋, so {0, 1}, {2}, {3, 4}, {5}; each group is
  // its first layer's own draw.
  toy::Teacher four(job, group_task(4)), free(job, 0.0, 0);
  const std::vector<int> first = {0, 0, 2, 3, 3, 5};
  for (int l = 0; l < 6; ++l) {
    EXPECT_TRUE(torch::equal(four.layers()[l].first.A, free.layers()[first[l]].first.A)) << l;
    EXPECT_TRUE(torch::equal(four.layers()[l].first.B, free.layers()[first[l]].first.B)) << l;
  }
  EXPECT_FALSE(torch::equal(four.layers()[1].first.A, four.layers()[2].first.A));
}

// A student of another width reads the inputs through a fixed isometry: orthonormal rows when
// narrower than the teacher, orthonormal columns when wider; none at the teacher's width.
TEST(Toy, StudentInputMapIsAFixedIsometry) {
  auto job = small_job();  // m* = 8
  EXPECT_FALSE(toy::student_input_map(job, 8, 0).defined());
  for (int m : {3, 5, 12, 20}) {
    auto e = toy::student_input_map(job, m, 0).to(torch::kFloat64);
    ASSERT_EQ(e.sizes(), (std::vector<int64_t>{m, 8}));
    auto gram = m < 8 ? torch::mm(e, e.t()) : torch::mm(e.t(), e);
    const int64_t n = std::min(m, 8);
    EXPECT_LT((gram - torch::eye(n, torch::kFloat64)).abs().max().item<double>(), 1e-6) << m;
    EXPECT_TRUE(torch::equal(toy::student_input_map(job, m, 0), toy::student_input_map(job, m, 0)));
    EXPECT_FALSE(
        torch::equal(toy::student_input_map(job, m, 0), toy::student_input_map(job, m, 1)));
  }
  auto h0 = toy::rms_norm(torch::randn({5, 8}));
  auto seen = toy::student_inputs(h0, toy::student_input_map(job, 12, 0));
  EXPECT_EQ(seen.sizes(), (std::vector<int64_t>{5, 12}));
  EXPECT_TRUE(torch::allclose(seen.square().mean(-1), torch::ones({5}), 1e-4, 1e-5));
}

// model.input_dim d < m*: the inputs span a d-dimensional subspace of the teacher's width, and a
// student of any width >= d sees them without loss (the same inner products after RMSNorm).
TEST(Toy, InputsOfLowerDimensionReachEveryWideEnoughStudentWhole) {
  auto job = small_job("model.width=16\nmodel.input_dim=4\ngrid.width=[4, 6, 16, 24]");
  EXPECT_FALSE(toy::input_embedding(small_job()).defined());  // d = m*: the study's inputs
  auto x = toy::training_inputs(job, "rho0_t0", 0);
  ASSERT_EQ(x.sizes(), (std::vector<int64_t>{64, 16}));
  auto sv = torch::linalg_svdvals(x.to(torch::kFloat64));
  EXPECT_GT(sv[3].item<double>(), 1.0);
  EXPECT_LT(sv[4].item<double>(), 1e-4 * sv[0].item<double>());  // rank 4
  auto h0 = toy::rms_norm(x);
  auto gram = torch::mm(h0, h0.t()) / 16.0;
  for (int m : {4, 6, 16, 24}) {
    auto seen = toy::student_inputs(h0, toy::student_input_map(job, m, 0));
    ASSERT_EQ(seen.size(1), m);
    auto seen_gram = torch::mm(seen, seen.t()) / double(m);
    EXPECT_LT((seen_gram - gram).abs().max().item<double>(), 1e-4) << m;
  }
}

// Widths other than multiples of 16 (the native tiles' width) train on both matmul paths and
// match autograd; a whole unit of mixed widths equals its students trained alone.
TEST(Toy, StudentsOfOtherWidthsMatchAutogradAndTrainInOneUnit) {
  for (auto kernel : {toy::matmul::Kernel::Native, toy::matmul::Kernel::Blas}) {
    toy::matmul::set_kernel(kernel);
    for (int width : {12, 20, 40}) {
      auto job = small_job("model.width=16\ngrid.width=[" + std::to_string(width) +
                           "]\ngrid.temperature=[0.4]\ngrid.depth=[3]\ntrain.batch=100");
      auto task = config::expand(job).front();
      ASSERT_EQ(task.width, width);
      toy::Teacher teacher(job, task);
      auto map = toy::student_input_map(job, width, task.teacher);
      auto spec = toy::StudentSpec::from(job, task);
      ASSERT_EQ(spec.width, width);
      spec.engine = config::Engine::Fused;
      toy::Student fused(spec, 5, teacher.head());
      spec.engine = config::Engine::Autograd;
      toy::Student reference(spec, 5, teacher.head());
      const std::string name = (kernel == toy::matmul::Kernel::Blas ? "[blas] m=" : "[native] m=") +
                               std::to_string(width);
      for (int s = 0; s < 4; ++s) {
        auto h0 = toy::rms_norm(toy::training_inputs(job, task.teacher_key(), s));
        ASSERT_EQ(h0.size(1), 16);
        auto target = toy::teacher_target(teacher.forward(h0), job.train.loss, task.temperature);
        auto seen = toy::student_inputs(h0, map);
        const double lf = fused.loss_and_gradients(seen, target);
        const double lr = reference.loss_and_gradients(seen, target);
        EXPECT_NEAR(lf, lr, 1e-5 * std::abs(lr) + 1e-7) << name << " step " << s;
        auto gf = fused.gradients(), gr = reference.gradients();
        const double scale = gr.abs().max().item<double>();
        EXPECT_LT((gf - gr).abs().max().item<double>(), 1e-5 * scale) << name << " step " << s;
        fused.train_step(seen, target);
        reference.train_step(seen, target);
        std::vector<float> p, m, v;
        reference.save_state(p, m, v);
        fused.load_state(p, m, v, reference.step());
      }
    }
  }
  toy::matmul::set_kernel(toy::matmul::Kernel::Native);

  // One unit of widths 12, 16 (the teacher's) and 20 equals each student's own unit.
  auto job = small_job("model.width=16\ngrid.width=[12, 16, 20]\ngrid.temperature=[0.4]");
  auto tasks = config::expand(job);
  ASSERT_EQ(tasks.size(), 6u);
  const Collected together = expect_unit_equals_separate_runs(job);
  for (const auto& t : tasks)
    EXPECT_EQ(long(together.results.at(t.key).theta.size()), 16L * t.depth) << t.key;
  // The student at the teacher's width reads h0 itself: it is the study's student.
  EXPECT_EQ(tasks[2].key, "rho0_T0.4_t0_m16_d2");
}

TEST(Toy, IntermediateRhoGivesThatCorrelationAndKeepsVariance) {
  auto job = small_job("model.width=32\nmodel.teacher_depth=40");
  for (double rho : {0.25, 0.5, 0.8}) {
    toy::Teacher t(job, rho, 0);
    // Correlation between layers across all weights of A, pooled over layer pairs.
    std::vector<torch::Tensor> a;
    for (const auto& b : t.layers()) a.push_back(b.first.A.flatten());
    auto A = torch::stack(a).to(torch::kFloat64);  // [L, 4m·m]
    auto centred = A - A.mean(1, true);
    auto cov = torch::mm(centred, centred.t()) / double(A.size(1));
    auto sd = cov.diag().sqrt();
    auto corr = cov / torch::outer(sd, sd);
    const int64_t L = corr.size(0);
    double off =
        (corr.sum().item<double>() - corr.diag().sum().item<double>()) / double(L * (L - 1));
    EXPECT_NEAR(off, rho, 0.02) << "rho " << rho;
    // Variance of U(±1/√m) is 1/(3m), kept by the mixing.
    EXPECT_NEAR(A.var().item<double>(), 1.0 / (3.0 * 32), 0.05 / (3.0 * 32)) << "rho " << rho;
  }
}

TEST(Toy, TeacherStaysOrderOne) {
  auto job = small_job("model.width=32\nmodel.teacher_depth=128\nmodel.vocab=128");
  toy::Teacher t(job, 0.0, 0);
  auto h0 = toy::rms_norm(torch::randn({256, 32}));
  auto hs = t.hidden_states(h0);
  double ratio = (hs.back().norm(2, -1) / hs.front().norm(2, -1)).mean().item<double>();
  EXPECT_GT(ratio, 0.3);
  EXPECT_LT(ratio, 5.0);  // 1/√ℓ* scaling of B keeps the 128-layer map O(1)
}

TEST(Toy, FreshStudentIsIdentityWithZeroHead) {
  auto job = small_job();
  auto task = config::expand(job).front();
  toy::Student s(toy::StudentSpec::from(job, task), 1, torch::Tensor());
  auto h0 = toy::rms_norm(torch::randn({4, 8}));
  auto hs = s.hidden_states(h0);
  EXPECT_TRUE(torch::equal(hs.back(), h0));
  EXPECT_TRUE(torch::equal(s.forward(h0), torch::zeros({4, 16})));
}

TEST(Toy, ProbeAnglesOfKnownStates) {
  // h0 = e0, h1 = e1 (90°), h2 = e1 + e2: updates Δ1 = e1 − e0, Δ2 = e2: angle 90° too.
  auto e = torch::eye(3).unsqueeze(0);  // [1, 3, 3]
  std::vector<torch::Tensor> hs{e.select(1, 0), e.select(1, 1), e.select(1, 1) + e.select(1, 2)};
  auto p = toy::probe_hidden(hs);
  ASSERT_EQ(p.theta.size(), 2u);
  EXPECT_NEAR(p.theta[0], M_PI / 2, 1e-6);
  EXPECT_NEAR(p.theta[1], M_PI / 4, 1e-6);
  ASSERT_EQ(p.theta_dh.size(), 1u);
  EXPECT_NEAR(p.theta_dh[0], M_PI / 2, 1e-6);
  EXPECT_NEAR(p.norms[2], std::sqrt(2.0), 1e-6);
}

TEST(Toy, UnitOfKStudentsEqualsKSeparateRuns) {
  auto job = small_job();
  auto tasks = config::expand(job);
  ASSERT_EQ(tasks.size(), 4u);
  const Collected together = expect_unit_equals_separate_runs(job);
  // and the trajectories really differ between students (the comparison can fail)
  EXPECT_NE(together.results.at(tasks[0].key).train_loss,
            together.results.at(tasks[1].key).train_loss);
}

TEST(Toy, StopCheckpointResumeIsBitIdentical) {
  auto job = small_job("train.checkpoint_every=10");
  auto tasks = config::expand(job);
  Collected straight;
  run(job, unit_of(job, tasks), straight);

  Collected first;
  EXPECT_EQ(run(job, unit_of(job, tasks), first, {}, 17), toy::UnitOutcome::Stopped);
  ASSERT_EQ(first.checkpoints.size(), tasks.size());
  auto unit = unit_of(job, tasks);
  unit.start_step = first.checkpoints.begin()->second.step;
  EXPECT_EQ(unit.start_step, 17);
  Collected second;
  EXPECT_EQ(run(job, unit, second, first.checkpoints), toy::UnitOutcome::Finished);
  for (const auto& t : tasks) {
    EXPECT_EQ(second.results.at(t.key).train_loss, straight.results.at(t.key).train_loss);
    EXPECT_EQ(second.results.at(t.key).test_loss, straight.results.at(t.key).test_loss);
    EXPECT_EQ(second.results.at(t.key).eval_step, straight.results.at(t.key).eval_step);
  }
}

TEST(Toy, NonFiniteLossFailsOnlyThatTask) {
  // T = 1e-300 is 0 in float32: the teacher's logits / T overflow and that student's loss is NaN
  // from step 0.
  auto job = small_job("grid.temperature=[1.0e-300, 1.0]");
  auto tasks = config::expand(job);
  Collected out;
  run(job, unit_of(job, tasks), out);
  int failed = 0, complete = 0;
  for (const auto& [k, r] : out.results) {
    if (r.complete) {
      ++complete;
    } else {
      ++failed;
      EXPECT_NE(r.error.find("non-finite training loss at step 0"), std::string::npos) << r.error;
    }
  }
  EXPECT_EQ(failed, 2);
  EXPECT_EQ(complete, 2);
}

TEST(Toy, EvalStepsAndLossesRecorded) {
  auto job = small_job();
  Collected out;
  run(job, unit_of(job, config::expand(job)), out);
  const auto& r = out.results.begin()->second;
  EXPECT_EQ(r.train_loss.size(), 30u);
  EXPECT_EQ(r.eval_step, (std::vector<int64_t>{10, 20, 30}));
  EXPECT_EQ(r.test_loss.size(), 3u);
  EXPECT_LT(r.train_loss.back(), r.train_loss.front());  // it learns
  const int depth = int(r.params.at("depth"));
  EXPECT_EQ(r.theta.size(), size_t(16 * depth));
  EXPECT_EQ(r.theta_dh.size(), size_t(16 * (depth - 1)));
  EXPECT_EQ(r.norms.size(), size_t(16 * (depth + 1)));
}

TEST(Toy, PlannerSplitsForWorkersAndKeepsEveryTaskOnce) {
  auto job = small_job("grid.depth=[1,2,3,4,5,6]\ngrid.teacher=[0,1,2]");
  auto tasks = config::expand(job);
  auto units = toy::plan_units(job, tasks, {}, 8);
  std::set<std::string> seen;
  for (size_t i = 0; i < units.size(); ++i) {
    if (i) {
      EXPECT_GE(units[i - 1].cost, units[i].cost);  // most expensive first
    }
    for (const auto& t : units[i].tasks) {
      EXPECT_TRUE(seen.insert(t.key).second);
      EXPECT_EQ(t.teacher_key(), units[i].tasks.front().teacher_key());
    }
  }
  EXPECT_EQ(seen.size(), tasks.size());
  EXPECT_GE(units.size(), 16u);
  // A fixed unit size wins over the worker count; resumed tasks get units of their own step.
  auto fixed = small_job("grid.depth=[1,2,3,4,5,6]\ngrid.teacher=[0,1,2]\nrun.unit_size=12");
  EXPECT_EQ(toy::plan_units(fixed, config::expand(fixed), {}, 8).size(), 3u);
  auto resumed = toy::plan_units(fixed, config::expand(fixed), {{tasks[0].key, 10}}, 1);
  EXPECT_EQ(resumed.size(), 4u);
}

// The LibTorch from Debian calls the system's libblas.so.3; the reference BLAS is ~17x slower,
// ATLAS (pulled in by Ceres) 3-4x, and OpenBLAS's pthread build fights LibTorch's OpenMP pool.
// Fail loudly if any of them is what sgemm_ resolves to. (depthscale itself logs the same check at
// start-up, and tests/CMakeLists.txt checks that line of the real binary.)
TEST(Toy, OptimisedSingleThreadPoolBlasIsLoaded) {
  auto a = torch::randn({256, 256});
  auto c = torch::mm(a, a);
  const std::string path = toy::blas_library();
  if (path.empty()) GTEST_SKIP() << "LibTorch does not use a system BLAS in this build";
  EXPECT_EQ(path.find("/blas/"), std::string::npos)
      << "the reference BLAS provides sgemm_ (" << path
      << "): install libopenblas0-openmp (scripts/setup.sh does) or select it with "
         "update-alternatives --config libblas.so.3-x86_64-linux-gnu";
  EXPECT_EQ(path.find("atlas"), std::string::npos)
      << "ATLAS provides sgemm_ (" << path << "): link the system libblas.so.3 first";
  EXPECT_EQ(path.find("f77blas"), std::string::npos) << path;
  EXPECT_EQ(path.find("pthread"), std::string::npos)
      << "OpenBLAS's pthread build is loaded (" << path << ") beside LibTorch's OpenMP threads";
}

// Which OpenBLAS core types use which vectors, and the fix named for a generic one.
TEST(Toy, BlasCoreAdviceNamesTheCoreOfTheCpu) {
  EXPECT_TRUE(toy::blas_core_uses("SkylakeX", "avx512"));
  EXPECT_FALSE(toy::blas_core_uses("Haswell", "avx512"));  // runs, but at half the vector width
  EXPECT_TRUE(toy::blas_core_uses("Zen", "avx2"));
  EXPECT_TRUE(toy::blas_core_uses("HASWELL", "avx2"));
  for (const char* generic : {"Prescott", "Core2", "Nehalem", "Sandybridge", "Barcelona"}) {
    EXPECT_FALSE(toy::blas_core_uses(generic, "avx2")) << generic;
    EXPECT_FALSE(toy::blas_core_uses(generic, "avx512")) << generic;
  }
  EXPECT_TRUE(toy::blas_core_uses("Prescott", ""));  // nothing better on such a CPU
  EXPECT_EQ(toy::blas_core_for("avx512", false), "SkylakeX");
  EXPECT_EQ(toy::blas_core_for("avx512", true), "SkylakeX");
  EXPECT_EQ(toy::blas_core_for("avx2", false), "Haswell");
  EXPECT_EQ(toy::blas_core_for("avx2", true), "Zen");
  EXPECT_EQ(toy::blas_core_for("", true), "");
  // What this process runs: when OpenBLAS is loaded, its core has a name, and advice only
  // appears for a core that does not use this CPU's vectors.
  torch::mm(torch::randn({64, 64}), torch::randn({64, 64}));
  const auto here = toy::blas_core();
  if (here.core.empty()) GTEST_SKIP() << "the BLAS is not OpenBLAS";
  EXPECT_EQ(here.advice.empty(), toy::blas_core_uses(here.core, here.cpu)) << here.core;
}

// The fused engine computes the same loss and gradients as autograd on model.hpp's graph, for
// every block, head and loss, after some training so that no gradient is trivially zero.
TEST(Toy, FusedGradientsMatchAutogradForEveryVariant) {
  const std::vector<std::vector<std::string>> variants = {
      {},
      {"model.block=rk2"},
      {"model.head=teacher", "train.student_temperature=true"},
      {"model.head=teacher"},
      {"train.loss=mse", "model.head=none"},
      {"train.loss=mse", "model.head=none", "model.block=rk2"},
      {"train.loss=mse"},  // MSE on logits through a trained head
      {"model.block=rk2", "grid.rho=[1.0]", "train.student_temperature=true"},
  };
  // Both matmul paths: the AVX-512 tiles (where the CPU has them) and the BLAS.
  for (auto kernel : {toy::matmul::Kernel::Native, toy::matmul::Kernel::Blas})
    for (const auto& v : variants) {
      toy::matmul::set_kernel(kernel);
      // batch 600: two whole row blocks of the fused engine and a partial one, so that the
      // gradients accumulated across blocks are checked too.
      std::string extra =
          "model.width=16\nmodel.vocab=24\ngrid.temperature=[0.4]\ngrid.depth=[3]\ntrain.batch=600";
      for (const auto& o : v) extra += "\n" + o;
      auto job = small_job(extra);
      auto task = config::expand(job).front();
      toy::Teacher teacher(job, task.rho, task.teacher);
      auto spec = toy::StudentSpec::from(job, task);
      spec.engine = config::Engine::Fused;
      toy::Student fused(spec, 5, teacher.head());
      spec.engine = config::Engine::Autograd;
      toy::Student reference(spec, 5, teacher.head());
      ASSERT_TRUE(fused.fused());
      ASSERT_FALSE(reference.fused());
      std::string name = kernel == toy::matmul::Kernel::Blas ? "[blas] " : "[native] ";
      for (const auto& o : v) name += o + " ";
      // Train both a few steps (the same way) so B and W are non-zero, then compare one step.
      for (int s = 0; s < 6; ++s) {
        auto h0 = toy::rms_norm(toy::training_inputs(job, task.teacher_key(), s));
        auto target = toy::teacher_target(teacher.forward(h0), job.train.loss, task.temperature);
        const double lf = fused.loss_and_gradients(h0, target);
        const double lr = reference.loss_and_gradients(h0, target);
        EXPECT_NEAR(lf, lr, 1e-5 * std::abs(lr) + 1e-7) << name << "step " << s;
        auto gf = fused.gradients(), gr = reference.gradients();
        const double scale = gr.abs().max().item<double>();
        ASSERT_GT(scale, 0) << name;
        const double diff = (gf - gr).abs().max().item<double>();
        EXPECT_LT(diff, 1e-5 * scale)
            << name << "step " << s << ": max |Δgrad| " << diff << " of " << scale;
        // Move both along the same (reference) direction so they stay identical.
        fused.train_step(h0, target);
        reference.train_step(h0, target);
        std::vector<float> pf, mf, vf, pr, mr, vr;
        fused.save_state(pf, mf, vf);
        reference.save_state(pr, mr, vr);
        fused.load_state(pr, mr, vr, reference.step());
      }
    }
  toy::matmul::set_kernel(toy::matmul::Kernel::Native);
}

TEST(Toy, FusedTeacherForwardMatchesAutogradGraph) {
  auto job = small_job("model.width=32\nmodel.teacher_depth=64\nmodel.vocab=64");
  toy::Teacher teacher(job, 0.0, 0);
  auto h0 = toy::rms_norm(torch::randn({600, 32}));  // whole and partial row blocks
  auto fused = teacher.forward(h0).features;
  auto h = h0;
  for (const auto& layer : teacher.layers()) h = toy::apply_block(layer, config::Block::Plain, h);
  auto reference = toy::rms_norm(h);
  EXPECT_LT((fused - reference).abs().max().item<double>(), 1e-5);
}

// train.inputs: independent gives every student its own input stream (and teacher forward), as
// the original did; results still do not depend on the unit, and differ from the shared stream.
TEST(Toy, IndependentInputsAreUnitIndependentAndDifferFromShared) {
  auto job = small_job("train.inputs=independent");
  auto shared_job = small_job();
  auto tasks = config::expand(job);
  Collected together, shared;
  run(job, unit_of(job, tasks), together);
  run(shared_job, unit_of(shared_job, config::expand(shared_job)), shared);
  for (const auto& t : tasks) {
    Collected alone;
    run(job, unit_of(job, {t}), alone);
    EXPECT_EQ(alone.results.at(t.key).train_loss, together.results.at(t.key).train_loss) << t.key;
    EXPECT_NE(shared.results.at(t.key).train_loss, together.results.at(t.key).train_loss) << t.key;
  }
}

// The dry run's memory estimate counts exactly the parameters a student has, and the cost model
// puts the original's way above the shared-teacher units.
TEST(Toy, CostModelCountsEveryParameterAndTheOriginalCostsMore) {
  for (const char* extra :
       {"", "model.block=rk2", "model.head=none\ntrain.loss=mse", "model.head=teacher"}) {
    auto job = small_job(extra);
    auto tasks = config::expand(job);
    toy::Teacher teacher(job, 0.0, 0);
    for (const auto& t : tasks) {
      toy::Student s(toy::StudentSpec::from(job, t), 1, teacher.head());
      EXPECT_EQ(s.parameter_count(), toy::student_parameters(job, t.depth)) << extra;
    }
    auto units = toy::plan_units(job, tasks, {}, 1);
    double ours = 0;
    for (const auto& u : units) {
      ours += u.cost / toy::CostModel::of(job).flops_per_core;
      const auto mem = toy::unit_memory(job, u);
      EXPECT_GT(mem.student_state, 16.0 * toy::student_parameters(job, 2)) << extra;
      EXPECT_GT(mem.activations, 0) << extra;
    }
    EXPECT_GT(toy::reference_core_seconds(job, tasks, toy::CostModel::of(job)), ours) << extra;
  }
}

// With intra-op threads each student runs on one thread: results are bit-identical to one thread,
// for the fused (native and BLAS matmuls) and autograd engines.
TEST(Toy, ThreadsGiveBitIdenticalUnits) {
  for (const char* engine : {"run.engine=fused", "run.engine=autograd"}) {
    auto job = small_job(std::string(engine) + "\ngrid.depth=[1, 2, 3]\ntrain.batch=300");
    auto tasks = config::expand(job);
    const int before = at::get_num_threads();
    Collected one, two;
    at::set_num_threads(1);
    run(job, unit_of(job, tasks), one);
    at::set_num_threads(2);
    run(job, unit_of(job, tasks), two);
    at::set_num_threads(before);
    for (const auto& t : tasks) {
      ASSERT_TRUE(one.results.at(t.key).complete && two.results.at(t.key).complete);
      EXPECT_EQ(one.results.at(t.key).train_loss, two.results.at(t.key).train_loss)
          << engine << " " << t.key;
      EXPECT_EQ(one.results.at(t.key).test_loss, two.results.at(t.key).test_loss) << t.key;
      EXPECT_EQ(one.results.at(t.key).theta, two.results.at(t.key).theta) << t.key;
    }
  }
}
