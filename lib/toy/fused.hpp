// The hand-derived training step of the toy model on the CPU: forward and backward written out
// with fused elementwise loops (RMSNorm, ReLU², log-softmax + KL + its gradient, Adam over the
// flat buffers), the residual folded into the second matmul (β = 1), and each MLP branch run in
// row blocks of the batch so that its intermediates stay in L2. Matmuls go through matmul.hpp
// (an AVX-512 kernel, or the BLAS) on raw pointers into preallocated buffers: no allocation in
// the layer loop. It computes the loss and gradients that autograd computes on model.hpp's graph
// (the tests check every block and head variant against autograd, on both matmul paths);
// Student selects it with run.engine: fused (the default on the CPU).
#pragma once

#include <torch/torch.h>

#include "config/job.hpp"
#include "toy/model.hpp"

namespace depthscale::toy::fused {

// Everything the fused step needs to know about one student, as raw views.
struct StudentView {
  const StudentSpec* spec = nullptr;
  torch::Tensor params, grads;  // flat [P]
  const std::vector<Layer>* layers = nullptr;
  torch::Tensor head;  // [n, m] or undefined (head none)
  bool head_trained = false;
  int64_t head_offset = 0;  // offset of W in the flat buffers when trained
};

// Forward + backward: fills view.grads (overwriting) and returns the loss.
//   KL: target = log p of the teacher at this student's temperature; MSE: teacher features.
double loss_and_gradients(const StudentView& view, const torch::Tensor& h0,
                          const torch::Tensor& target);

// The loss only (evaluation).
double loss_only(const StudentView& view, const torch::Tensor& h0, const torch::Tensor& target);

// Teacher forward (plain blocks) with the same fused loops: returns RMSNorm(h_ℓ*) in `features`.
void teacher_features(const std::vector<Layer>& layers, const torch::Tensor& h0,
                      torch::Tensor& features);

// Adam (torch.optim.Adam's update rule) over flat buffers in one pass.
void adam_step(torch::Tensor& params, const torch::Tensor& grads, torch::Tensor& m,
               torch::Tensor& v, double lr, int64_t step, double beta1 = 0.9, double beta2 = 0.999,
               double eps = 1e-8);

}  // namespace depthscale::toy::fused
