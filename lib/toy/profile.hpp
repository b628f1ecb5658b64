// Where a toy unit's time goes, for the benchmark (bench/toy_bench): the matmuls of the students
// and of the teacher (time and FLOPs), and the wall time of whole phases. Counted per thread and
// off by default (counting costs two clock reads per matmul and per phase).
#pragma once

namespace depthscale::toy::profile {

struct Tally {
  double student_matmul_seconds = 0, student_matmul_flops = 0;
  double teacher_matmul_seconds = 0, teacher_matmul_flops = 0;
  double teacher_seconds = 0;  // the teacher's forward, head and targets (its matmuls included)
  double loss_seconds = 0;     // softmax, KL or MSE and their gradient (not the head's matmuls)
  double adam_seconds = 0;     // the optimiser's pass over the flat buffers
};

enum class Phase { teacher, loss, adam };

void count(bool on);  // this thread; also resets its tally
bool counting();
Tally tally();

// A matmul of `flops` that took `seconds`: the teacher's inside a teacher phase, else a student's.
void add_matmul(double seconds, double flops);

// Times a phase while it is in scope (nothing when counting is off).
class Scope {
 public:
  explicit Scope(Phase phase);
  ~Scope();
  Scope(const Scope&) = delete;
  Scope& operator=(const Scope&) = delete;

 private:
  Phase phase_;
  bool on_;
  double start_ = 0;
};

}  // namespace depthscale::toy::profile
