// The toy training's learning-rate schedule and seed derivation (toy/schedule.hpp).
#include "toy/schedule.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "config/job.hpp"
#include "toy/unit.hpp"

namespace cfg = depthscale::config;
namespace toy = depthscale::toy;

// ------------------------------------------------------------------------------------------
// Learning rate (docs/experiments.md §1)

TEST(LearningRate, Constant) {
  cfg::TrainSpec t;
  t.lr.base = 6e-4;
  EXPECT_EQ(toy::learning_rate(t, 6, 0), 6e-4);
  EXPECT_EQ(toy::learning_rate(t, 48, 39999), 6e-4);
  t.lr.depth_scaling = cfg::DepthScaling::InvSqrt;
  EXPECT_DOUBLE_EQ(toy::learning_rate(t, 16, 0), 6e-4 / 4);
  EXPECT_DOUBLE_EQ(toy::learning_rate(t, 6, 123), 6e-4 / std::sqrt(6.0));
}

TEST(LearningRate, LinearTailBoundaries) {
  cfg::TrainSpec t;
  t.lr.base = 1.0;
  t.lr.schedule = cfg::Schedule::LinearTail;
  t.steps = 1000;
  EXPECT_EQ(toy::learning_rate(t, 6, 0), 1.0);
  EXPECT_EQ(toy::learning_rate(t, 6, 799), 1.0);
  EXPECT_DOUBLE_EQ(toy::learning_rate(t, 6, 800), 1.0);  // the tail starts continuously
  EXPECT_DOUBLE_EQ(toy::learning_rate(t, 6, 900), 0.55);
  EXPECT_DOUBLE_EQ(toy::learning_rate(t, 6, 999), 0.1 + 0.9 / 200);
  EXPECT_DOUBLE_EQ(toy::learning_rate(t, 6, 1000), 0.1);
  EXPECT_DOUBLE_EQ(toy::learning_rate(t, 6, 5000), 0.1);  // floored past the end
  t.steps = 40000;
  EXPECT_EQ(toy::learning_rate(t, 6, 31999), 1.0);
  EXPECT_DOUBLE_EQ(toy::learning_rate(t, 6, 32000), 1.0);
  EXPECT_DOUBLE_EQ(toy::learning_rate(t, 6, 36000), 0.55);
  EXPECT_DOUBLE_EQ(toy::learning_rate(t, 6, 39999), 0.1 + 0.9 / 8000);
  // exp9-3: 2.4e-3/√ℓ with the tail.
  t.lr.base = 2.4e-3;
  t.lr.depth_scaling = cfg::DepthScaling::InvSqrt;
  t.steps = 80000;
  EXPECT_DOUBLE_EQ(toy::learning_rate(t, 16, 0), 6e-4);
  EXPECT_DOUBLE_EQ(toy::learning_rate(t, 16, 72000), 6e-4 * 0.55);
}

// ------------------------------------------------------------------------------------------
// Seeds

TEST(DeriveSeed, Differs) {
  const uint64_t s = toy::derive_seed(1, "teacher", "rho0_t0", 0);
  EXPECT_EQ(s, toy::derive_seed(1, "teacher", "rho0_t0", 0));
  EXPECT_NE(s, toy::derive_seed(2, "teacher", "rho0_t0", 0));
  EXPECT_NE(s, toy::derive_seed(1, "student", "rho0_t0", 0));
  EXPECT_NE(s, toy::derive_seed(1, "teacher", "rho0_t1", 0));
  EXPECT_NE(s, toy::derive_seed(1, "teacher", "rho0_t0", 1));
  EXPECT_NE(toy::derive_seed(1, "ab", "c"), toy::derive_seed(1, "a", "bc"));
  std::set<uint64_t> seen;
  for (int i = 0; i < 1000; ++i) seen.insert(toy::derive_seed(7, "inputs", "k", i));
  EXPECT_EQ(seen.size(), 1000u);
}

// Regression pins: these values must never change, or every sweep's random streams change.
TEST(DeriveSeed, Pinned) {
  EXPECT_EQ(toy::derive_seed(0, "", ""), 15204941910910651876ULL);
  EXPECT_EQ(toy::derive_seed(20260122, "teacher", "rho0_t0"), 11501679221610743984ULL);
  EXPECT_EQ(toy::derive_seed(20260122, "student", "rho0_T0.01_t0_d6", 3), 12063588599854948207ULL);
  EXPECT_EQ(toy::derive_seed(UINT64_MAX, "inputs", "rho1_t2", -1), 3878671307391141769ULL);
}

// What /tasks/<key> records of a task's randomness: the master seed, the student's init seed and
// the keys of the streams its teacher, inputs and probes are drawn from.
TEST(TaskSeeds, NameTheSeedAndStreamsOfEveryDraw) {
  const std::string text =
      "name: s\nkind: toy\nseed: 9\ngrid: {rho: [1.0], depth: [3], teacher: [2]}\n";
  cfg::Job job = cfg::parse_job(text, "job.yaml");
  const cfg::ToyTask task = cfg::expand(job).front();
  toy::TaskSeeds s = toy::task_seeds(job, task);
  EXPECT_EQ(s.seed, 9u);
  EXPECT_EQ(s.student_seed, toy::student_seed(job, task));
  EXPECT_EQ(s.student_seed, toy::derive_seed(9, "student", task.key));
  EXPECT_EQ(s.teacher_stream, "t2");
  EXPECT_EQ(s.input_stream, task.teacher_key());  // train.inputs: shared, the default
  EXPECT_EQ(s.probe_stream, task.teacher_key());
  EXPECT_TRUE(s.recorded());
  job = cfg::parse_job(text, "job.yaml", {"train.inputs=independent"});
  EXPECT_EQ(toy::task_seeds(job, task).input_stream, task.key);
  EXPECT_EQ(toy::task_result(job, task, {}).seeds.student_seed, s.student_seed);
  EXPECT_FALSE(toy::TaskSeeds{}.recorded());
}

// The kind of loss a task records, which gives its losses their units.
TEST(TaskSeeds, LossKindFollowsTheLossAndTheHead) {
  const std::string text = "name: s\nkind: toy\ngrid: {rho: [0.0], depth: [3], teacher: [0]}\n";
  EXPECT_EQ(toy::loss_kind(cfg::parse_job(text, "j")), "kl");
  EXPECT_EQ(toy::loss_kind(cfg::parse_job(text, "j", {"train.loss=mse"})), "mse_logits");
  EXPECT_EQ(toy::loss_kind(cfg::parse_job(text, "j", {"train.loss=mse", "model.head=none"})),
            "mse_features");
}
