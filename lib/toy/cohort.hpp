// A cohort: the students of one work unit that share a depth and an input stream, trained as one
// batched program. Their parameters, gradients and Adam moments are rows of stacked [K, P]
// buffers; each layer is a bmm over the K students, the loss is the sum of the K students' own
// losses (so each row's gradient is exactly that student's), and Adam runs once over [K, P].
// This is the GPU path (one kernel per op for the whole cohort instead of one per student); on
// the CPU it is correct but slower than the fused engine (measured in docs/performance.md).
#pragma once

#include <torch/torch.h>

#include <memory>
#include <vector>

#include "toy/model.hpp"

namespace depthscale::toy {

class Cohort {
 public:
  // Members must agree on everything but temperature (and their init seeds).
  Cohort(const std::vector<StudentSpec>& specs, const std::vector<uint64_t>& init_seeds,
         const torch::Tensor& teacher_head, torch::Device device);

  int64_t size() const { return int64_t(members_.size()); }
  Student& member(int64_t k) { return *members_[k]; }
  const Student& member(int64_t k) const { return *members_[k]; }

  // One training step of every member on the shared inputs h0 [B, m]; targets[k] is member k's
  // (its temperature's) target. Returns the K losses [K] on the device (no host sync).
  torch::Tensor train_step(const torch::Tensor& h0, const std::vector<torch::Tensor>& targets);

  // The K losses without a step (evaluation), [K].
  torch::Tensor losses(const torch::Tensor& h0, const std::vector<torch::Tensor>& targets) const;

 private:
  struct Branch {
    torch::Tensor A, b, B;  // [K, 4m, m], [K, 1, 4m], [K, m, 4m]: leaves over the stacked rows
  };
  torch::Tensor loss_per_member(const torch::Tensor& h0,
                                const std::vector<torch::Tensor>& targets) const;

  StudentSpec spec_;                                // member 0's (temperature aside, all agree)
  torch::Tensor params_, grads_, adam_m_, adam_v_;  // [K, P]
  torch::Tensor inv_temperature_;                   // [K, 1, 1], student-tempered heads
  std::vector<std::vector<Branch>> layers_;         // [depth][mlps]
  torch::Tensor head_;                              // [K, n, m] (trained) or [n, m] (teacher)
  std::vector<torch::Tensor> leaves_, grad_views_;  // every trained tensor, and its rows in grads_
  std::vector<std::unique_ptr<Student>> members_;
};

}  // namespace depthscale::toy
