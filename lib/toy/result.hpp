// What training a toy student produces, as plain values: lib/toy computes them, lib/store
// persists them (no torch and no HDF5 here, so either side can include this alone).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace depthscale::toy {

// The outcome of one student (toy task). store persists it under /tasks/<key>/ (docs/sweep-file.md)
// and rank 0 receives it from workers as a file image.
struct TaskResult {
  std::string key;
  std::map<std::string, double> params;  // grid parameters: temperature, rho, depth, teacher, ...
  bool complete = false;                 // false: failed, with `error`
  std::string error;
  double wall_seconds = 0;
  std::string host;
  int rank = 0;
  std::vector<float> train_loss;  // [steps]
  std::vector<int64_t> eval_step;
  std::vector<float> test_loss;
  // Hidden-state probes of the trained student (written only when probe_inputs > 0):
  // theta [inputs, depth], theta_dh [inputs, depth-1], norms [inputs, depth+1].
  int64_t probe_inputs = 0;
  std::vector<float> theta, theta_dh, norms;
};

// Everything needed to continue one student bit-for-bit.
struct TaskCheckpoint {
  std::string key;
  int64_t step = 0;           // updates done; also the position in the counter-based input stream
  std::vector<float> params;  // the flat parameter buffer
  std::vector<float> adam_m, adam_v;
  std::vector<float> train_loss;  // [step]
  std::vector<int64_t> eval_step;
  std::vector<float> test_loss;
  double wall_seconds = 0;  // spent so far
};

}  // namespace depthscale::toy
