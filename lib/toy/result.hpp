// What training a toy student produces, as plain values: lib/toy computes them, lib/store
// persists them (no torch and no HDF5 here, so either side can include this alone).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace depthscale::toy {

// What a task's random draws derive from, recorded as attributes of /tasks/<key> so that a task
// can be reproduced alone: every stream's seed is derive_seed(seed, purpose, key[, index])
// (toy/schedule.hpp) of the job's master seed, with the keys below (toy/unit.cpp, task_seeds).
struct TaskSeeds {
  uint64_t seed = 0;  // the job's master seed
  // derive_seed(seed, "student", task key): the student's initial weights.
  uint64_t student_seed = 0;
  // "t<replicate>": the teacher's draws ("teacher-shared", "teacher-layer" with the layer index,
  // "teacher-head") and the student's input map ("student-input" with its width).
  std::string teacher_stream;
  // The training batches ("inputs", index = step) and test batches ("eval", index = step·1000 +
  // batch): the teacher's key (train.inputs: shared) or the task's own key.
  std::string input_stream;
  std::string probe_stream;  // the teacher's key: the hidden-state probes' inputs ("probe")
  // Results read from files written before seeds were recorded have none.
  bool recorded() const { return !teacher_stream.empty(); }
};

// The outcome of one student (toy task). store persists it under /tasks/<key>/ (docs/sweep-file.md)
// and rank 0 receives it from workers as a file image.
struct TaskResult {
  std::string key;
  std::map<std::string, double> params;  // grid parameters: temperature, rho, depth, teacher, ...
  // What its losses measure, which gives them (and fits of them) their units in the dataset
  // table (lib/store/schema.cpp): "kl" (KL(teacher ‖ student) of the output distributions),
  // "mse_logits" (mean squared error of the logits), "mse_features" (of the RMS-normalised
  // final features, head: none). Empty: read from a file written before the kind was recorded.
  std::string loss;
  bool complete = false;  // false: failed, with `error`
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
  TaskSeeds seeds;
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
  std::string loss;         // what train_loss and test_loss measure (TaskResult::loss)
};

}  // namespace depthscale::toy
