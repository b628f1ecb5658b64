// Cross-check of the C++ toy model against an independent PyTorch implementation written from
// docs/experiments.md (tests/reference/toy_reference.py): same initial weights, same input batches,
// the C++ losses and final parameters must match step by step.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>

#include "store/store.hpp"
#include "toy/model.hpp"
#include "toy/unit.hpp"

using namespace depthscale;

namespace {

std::vector<float> to_vec(const torch::Tensor& t) {
  auto c = t.detach().to(torch::kCPU).contiguous();
  return {c.data_ptr<float>(), c.data_ptr<float>() + c.numel()};
}

std::vector<hsize_t> dims_of(const torch::Tensor& t) {
  std::vector<hsize_t> d;
  for (auto s : t.sizes()) d.push_back(hsize_t(s));
  return d;
}

void write_tensor(store::Group& g, const std::string& name, const torch::Tensor& t) {
  auto slash = name.find('/');
  if (slash != std::string::npos) {
    auto sub = g.require_group(name.substr(0, slash));
    write_tensor(sub, name.substr(slash + 1), t);
    return;
  }
  g.write(name, to_vec(t), dims_of(t));
}

// Writes the cross-check file (layout in tests/reference/README.md) for one student of `job`.
void write_crosscheck(const std::string& path, const config::Job& job) {
  auto task = config::expand(job).front();
  toy::Teacher teacher(job, task.rho, task.teacher);
  toy::Student student(toy::StudentSpec::from(job, task), toy::student_seed(job, task),
                       teacher.head());
  auto file = store::File::create(path);
  auto root = file.root();
  root.set_attr("width", int64_t(job.model.width));
  root.set_attr("vocab", int64_t(job.model.vocab));
  root.set_attr("teacher_depth", int64_t(job.model.teacher_depth));
  root.set_attr("depth", int64_t(task.depth));
  root.set_attr("steps", int64_t(job.train.steps));
  root.set_attr("batch", int64_t(job.train.batch));
  root.set_attr("block", config::to_string(job.model.block));
  root.set_attr("head", config::to_string(job.model.head));
  root.set_attr("loss", config::to_string(job.train.loss));
  root.set_attr("depth_scaling",
                job.train.lr.depth_scaling == config::DepthScaling::InvSqrt ? "inv_sqrt" : "none");
  root.set_attr("schedule",
                job.train.lr.schedule == config::Schedule::LinearTail ? "linear_tail" : "constant");
  root.set_attr("temperature", task.temperature);
  root.set_attr("lr_base", job.train.lr.base);
  root.set_attr("student_temperature", int64_t(job.train.student_temperature ? 1 : 0));

  auto tg = root.create_group("teacher");
  for (int l = 0; l < teacher.depth(); ++l) {
    const auto& b = teacher.layers()[l].first;
    const std::string p = "layer_" + std::to_string(l) + "/";
    write_tensor(tg, p + "A", b.A);
    write_tensor(tg, p + "b", b.b);
    write_tensor(tg, p + "B", b.B);
  }
  if (teacher.head().defined()) write_tensor(tg, "W", teacher.head());
  auto sg = root.create_group("student");
  for (const auto& [name, t] : student.named_parameters()) write_tensor(sg, name, t);

  std::vector<torch::Tensor> xs;
  std::vector<float> losses;
  for (int64_t s = 0; s < job.train.steps; ++s) {
    auto x = toy::training_inputs(job, task.teacher_key(), s);
    xs.push_back(x);
    auto h0 = toy::rms_norm(x);
    auto target = toy::teacher_target(teacher.forward(h0), job.train.loss, task.temperature);
    losses.push_back(student.train_step(h0, target).item<float>());
  }
  write_tensor(root, "inputs", torch::stack(xs));
  auto cpp = root.create_group("cpp");
  cpp.write("train_loss", losses, {hsize_t(losses.size())});
  auto fin = cpp.create_group("final");
  for (const auto& [name, t] : student.named_parameters()) write_tensor(fin, name, t);
  file.flush();
}

struct Case {
  const char* name;
  std::vector<std::string> overrides;
};

class CrossCheck : public ::testing::TestWithParam<Case> {};

}  // namespace

TEST_P(CrossCheck, MatchesPyTorchReferenceFor50Steps) {
  const std::string python = DEPTHSCALE_PYTHON;
  if (python.empty()) GTEST_SKIP() << "no python3 with torch+h5py found by CMake";
  const std::string base = R"(name: crosscheck
kind: toy
seed: 11
grid: {temperature: [0.3], rho: [0.0], depth: [3], teacher: [0]}
model: {width: 16, vocab: 32, teacher_depth: 8}
train: {loss: kl, steps: 50, batch: 128, lr: {base: 0.003}, checkpoint_every: 0}
)";
  auto job = config::parse_job(base, "<crosscheck>", GetParam().overrides);
  auto dir = std::filesystem::temp_directory_path() / ("ds-crosscheck-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  const std::string path = (dir / (std::string(GetParam().name) + ".h5")).string();
  write_crosscheck(path, job);
  const std::string cmd =
      python + " " + DEPTHSCALE_SOURCE_DIR + "/tests/reference/toy_reference.py crosscheck " + path;
  int rc = std::system(cmd.c_str());
  ASSERT_TRUE(WIFEXITED(rc));
  EXPECT_EQ(WEXITSTATUS(rc), 0) << "PyTorch reference disagrees; file kept at " << path;
  if (WEXITSTATUS(rc) == 0) std::filesystem::remove(path);
}

INSTANTIATE_TEST_SUITE_P(
    Toy, CrossCheck,
    ::testing::Values(
        Case{"kl_plain_rho0", {}}, Case{"kl_plain_rho1", {"grid.rho=[1.0]"}},
        Case{"kl_rk2_rho0", {"model.block=rk2"}},
        Case{"mse_plain_rho0", {"train.loss=mse", "model.head=none"}},
        Case{"mse_plain_rho1", {"train.loss=mse", "model.head=none", "grid.rho=[1.0]"}},
        Case{"mse_rk2_rho1",
             {"train.loss=mse", "model.head=none", "model.block=rk2", "grid.rho=[1.0]"}},
        Case{"kl_rho_half", {"grid.rho=[0.5]"}},
        Case{"kl_teacher_head_exp9_3",
             {"model.head=teacher", "train.student_temperature=true", "grid.rho=[1.0]",
              "train.lr.depth_scaling=inv_sqrt", "train.lr.schedule=linear_tail"}},
        Case{"mse_linear_tail",
             {"train.loss=mse", "model.head=none", "train.lr.depth_scaling=inv_sqrt",
              "train.lr.schedule=linear_tail"}}),
    [](const auto& info) { return std::string(info.param.name); });
