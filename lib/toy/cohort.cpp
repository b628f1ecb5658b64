#include "toy/cohort.hpp"

#include "toy/schedule.hpp"

#include <cmath>
#include <stdexcept>

namespace depthscale::toy {

using config::Block;
using config::Head;
using config::Loss;

namespace {

// RMSNorm over the last dimension, as rms_norm in model.cpp.
torch::Tensor rms(const torch::Tensor& x) {
  return x * torch::rsqrt(x.pow(2).mean(-1, true) + std::numeric_limits<float>::epsilon());
}

}  // namespace

Cohort::Cohort(const std::vector<StudentSpec>& specs, const std::vector<uint64_t>& init_seeds,
               const torch::Tensor& teacher_head, torch::Device device) {
  if (specs.empty() || specs.size() != init_seeds.size())
    throw std::invalid_argument("Cohort: one init seed per member, at least one member");
  spec_ = specs.front();
  for (const auto& s : specs)
    if (s.width != spec_.width || s.vocab != spec_.vocab || s.depth != spec_.depth ||
        s.block != spec_.block || s.head != spec_.head || s.loss != spec_.loss ||
        s.student_temperature != spec_.student_temperature)
      throw std::invalid_argument("Cohort: members differ in more than temperature");
  const int64_t K = int64_t(specs.size()), P = Student::parameter_count(spec_);
  const int64_t m = spec_.width, n = spec_.vocab, h = 4 * m;
  auto o = torch::TensorOptions().dtype(torch::kFloat32).device(device);
  params_ = torch::zeros({K, P}, o);
  grads_ = torch::zeros({K, P}, o);
  adam_m_ = torch::zeros({K, P}, o);
  adam_v_ = torch::zeros({K, P}, o);
  std::vector<float> inv_t;
  for (int64_t k = 0; k < K; ++k) {
    Student::Storage rows{params_[k], grads_[k], adam_m_[k], adam_v_[k]};
    members_.push_back(
        std::make_unique<Student>(specs[k], init_seeds[k], teacher_head, device, &rows));
    inv_t.push_back(spec_.student_temperature ? float(1.0 / specs[k].temperature) : 1.0f);
  }
  inv_temperature_ = torch::tensor(inv_t).view({K, 1, 1}).to(device);

  // Leaves over the stacked buffers; their gradients are copied into the matching views of grads_
  // (a leaf strided across members does not meet autograd's layout contract for accumulating in
  // place), and Adam runs over [K, P] at once.
  int64_t off = 0;
  auto take = [&](std::vector<int64_t> shape, std::vector<int64_t> strides, int64_t size) {
    std::vector<int64_t> s{K}, st{P};
    s.insert(s.end(), shape.begin(), shape.end());
    st.insert(st.end(), strides.begin(), strides.end());
    auto p = params_.as_strided(s, st, off).detach().requires_grad_(true);
    leaves_.push_back(p);
    grad_views_.push_back(grads_.as_strided(s, st, off));
    off += size;
    return p;
  };
  const int mlps = spec_.block == Block::Rk2 ? 2 : 1;
  for (int l = 0; l < spec_.depth; ++l) {
    std::vector<Branch> layer;
    for (int k = 0; k < mlps; ++k) {
      Branch br;
      br.A = take({h, m}, {m, 1}, h * m);
      br.b = take({1, h}, {0, 1}, h);
      br.B = take({m, h}, {h, 1}, m * h);
      layer.push_back(br);
    }
    layers_.push_back(std::move(layer));
  }
  if (spec_.head == Head::Trained)
    head_ = take({n, m}, {m, 1}, n * m);
  else if (spec_.head == Head::Teacher)
    head_ = teacher_head.detach().to(device);
  if (off != P) throw std::logic_error("Cohort: parameter layout differs from Student's");
}

torch::Tensor Cohort::loss_per_member(const torch::Tensor& h0,
                                      const std::vector<torch::Tensor>& targets) const {
  const int64_t K = size(), B = h0.size(0);
  if (int64_t(targets.size()) != K) throw std::invalid_argument("Cohort: one target per member");
  auto mlp = [](const Branch& w, const torch::Tensor& x) {
    auto z = torch::baddbmm(w.b, rms(x), w.A.transpose(1, 2));
    return torch::bmm(torch::relu(z).square(), w.B.transpose(1, 2));
  };
  auto h = h0.unsqueeze(0).expand({K, B, h0.size(1)});
  for (const auto& layer : layers_) {
    if (layer.size() == 1) {
      h = h + mlp(layer[0], h);
    } else {
      auto mid = h + 0.5 * mlp(layer[0], h);
      h = h + mlp(layer[1], mid);
    }
  }
  auto out = rms(h);
  if (spec_.head == Head::Trained)
    out = torch::bmm(out, head_.transpose(1, 2));
  else if (spec_.head == Head::Teacher)
    out = torch::matmul(out, head_.t());
  if (spec_.head != Head::None && spec_.student_temperature) out = out * inv_temperature_;
  auto target = torch::stack(targets);
  if (spec_.loss == Loss::Mse) return (out - target).square().mean({1, 2});
  // KL(teacher ‖ student) per member: Σ p (log p − log q) / B.
  return (target.exp() * (target - torch::log_softmax(out, -1))).sum({1, 2}) / double(B);
}

torch::Tensor Cohort::train_step(const torch::Tensor& h0,
                                 const std::vector<torch::Tensor>& targets) {
  auto losses = loss_per_member(h0, targets);
  auto grads = torch::autograd::grad({losses.sum()}, leaves_);
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < grads.size(); ++i) grad_views_[i].copy_(grads[i]);
  // Adam as torch.optim.Adam (and Student's autograd path), over all members at once: they share
  // depth and step, hence the scheduled learning rate.
  Student& first = *members_.front();
  const int64_t step = first.step_ + 1;
  for (auto& s : members_) {
    if (s->step_ + 1 != step) throw std::logic_error("Cohort: members at different steps");
    s->step_ = step;
  }
  adam_update(params_, grads_, adam_m_, adam_v_, learning_rate(spec_.train, spec_.depth, step - 1),
              step);
  return losses.detach();
}

torch::Tensor Cohort::losses(const torch::Tensor& h0,
                             const std::vector<torch::Tensor>& targets) const {
  torch::NoGradGuard no_grad;
  return loss_per_member(h0, targets);
}

}  // namespace depthscale::toy
