// The toy training's learning-rate schedule and random-stream seeds (docs/experiments.md §1): pure
// functions of the job's settings, shared by every engine so that all of them train the same
// students.
#pragma once

#include <cstdint>
#include <string>

#include "config/job.hpp"

namespace depthscale::toy {

// Learning rate of a student of `depth` at `step` (0-based) under the job's schedule
// (docs/experiments.md §1). linear_tail: base for step < 0.8·S, then base·((S − step)/(0.2·S)·0.9 +
// 0.1), floored at 0.1·base for step > S.
double learning_rate(const config::TrainSpec& train, int depth, int64_t step);

// Derives a 64-bit seed for one random stream from the master seed, the stream's purpose and a key.
// h = FNV-1a-64 over (le64 |purpose|, purpose, le64 |key|, key); with G = 0x9e3779b97f4a7c15 and
// mix = the splitmix64 finaliser: s = mix(master + G); s = mix((s ^ h) + G);
// seed = mix((s ^ uint64(index)) + G). Pure integer arithmetic: the same on every platform.
uint64_t derive_seed(uint64_t master, const std::string& purpose, const std::string& key,
                     int64_t index = 0);

}  // namespace depthscale::toy
