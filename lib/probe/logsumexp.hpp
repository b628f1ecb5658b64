// The cross-entropy readout's inner loop on the CPU: a running (online) logsumexp over tiles of
// logits, with the target's logit picked up on the way, so that the [rows, V] logits never exist
// at once (CausalLM::readout_cross_entropy).
//
// For rows i of a float32 tile z [rows, cols] (row stride `stride`) holding vocabulary columns
// [v0, v0 + cols): max[i] becomes the running maximum, sum[i] the running Σ exp(z − max[i])
// (rescaled by exp(old max − new max) when the maximum grows), and picked[i] = z[i, target[i] − v0]
// when the target falls in the tile. Start with max = −inf, sum = 0; afterwards
// CE = max + log(sum) − picked.
//
// exp is a polynomial (Cody–Waite reduction, degree 6; relative error below 2e-7 on [−87, 0],
// checked against std::exp by probe_metrics_tests) so the loop vectorises; arguments below −87
// give 0, where expf is denormal. Each tile row's exponentials are summed in float (vector lanes,
// then across them) and the tile's sum added to a double, so a row of V = 152k logits loses no
// more than a tile's worth of float round-off.
#pragma once

#include <cstdint>

namespace depthscale::probe {

void online_logsumexp(const float* z, int64_t rows, int64_t cols, int64_t stride, int64_t v0,
                      const int64_t* target, float* max, double* sum, float* picked);

// The polynomial exp above, exposed for its test.
float logsumexp_exp(float x);

}  // namespace depthscale::probe
