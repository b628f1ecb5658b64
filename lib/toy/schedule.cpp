// The learning-rate schedule and the seed derivation of the toy training.
#include "toy/schedule.hpp"

#include <algorithm>
#include <cmath>

namespace depthscale::toy {

using config::DepthScaling;
using config::Schedule;

double learning_rate(const config::TrainSpec& train, int depth, int64_t step) {
  // Same operation order as the reference (optimizer lr = base/√ℓ, then a LambdaLR factor).
  double lr = train.lr.base;
  if (train.lr.depth_scaling == DepthScaling::InvSqrt)
    lr = lr / std::sqrt(static_cast<double>(std::max(depth, 1)));
  if (train.lr.schedule == Schedule::LinearTail) {
    const double S = static_cast<double>(train.steps);
    const double s = static_cast<double>(step);
    if (!(s < 0.8 * S)) {
      // Past the last step the factor stays at its floor of 0.1 rather than going negative.
      const double left = std::max(S - s, 0.0);
      lr = lr * (left / (0.2 * S) * 0.9 + 0.1);
    }
  }
  return lr;
}

namespace {
uint64_t splitmix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}
void fnv1a(uint64_t& h, const void* data, size_t n) {
  const auto* p = static_cast<const unsigned char*>(data);
  for (size_t i = 0; i < n; ++i) {
    h ^= p[i];
    h *= 0x100000001b3ULL;
  }
}
void fnv1a_u64(uint64_t& h, uint64_t v) {
  unsigned char le[8];  // little-endian bytes whatever the host order
  for (int i = 0; i < 8; ++i) le[i] = static_cast<unsigned char>(v >> (8 * i));
  fnv1a(h, le, 8);
}
}  // namespace

uint64_t derive_seed(uint64_t master, const std::string& purpose, const std::string& key,
                     int64_t index) {
  constexpr uint64_t kGolden = 0x9e3779b97f4a7c15ULL;
  uint64_t h = 0xcbf29ce484222325ULL;  // FNV-1a offset basis
  // Length prefixes keep ("ab", "c") and ("a", "bc") apart.
  fnv1a_u64(h, purpose.size());
  fnv1a(h, purpose.data(), purpose.size());
  fnv1a_u64(h, key.size());
  fnv1a(h, key.data(), key.size());
  uint64_t s = splitmix64(master + kGolden);
  s = splitmix64((s ^ h) + kGolden);
  s = splitmix64((s ^ static_cast<uint64_t>(index)) + kGolden);
  return s;
}

}  // namespace depthscale::toy
