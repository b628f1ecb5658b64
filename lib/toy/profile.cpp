#include "toy/profile.hpp"

#include <chrono>

namespace depthscale::toy::profile {
namespace {

thread_local bool on = false;
thread_local int teacher_depth = 0;  // > 0 inside a teacher phase
thread_local Tally counts;

double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

}  // namespace

void count(bool enable) {
  on = enable;
  counts = Tally{};
}
bool counting() {
  return on;
}
Tally tally() {
  return counts;
}

void add_matmul(double seconds, double flops) {
  if (teacher_depth > 0) {
    counts.teacher_matmul_seconds += seconds;
    counts.teacher_matmul_flops += flops;
  } else {
    counts.student_matmul_seconds += seconds;
    counts.student_matmul_flops += flops;
  }
}

Scope::Scope(Phase phase) : phase_(phase), on_(on) {
  if (phase_ == Phase::teacher) ++teacher_depth;  // matmuls count as the teacher's even when off
  if (on_) start_ = now();
}

Scope::~Scope() {
  if (phase_ == Phase::teacher) --teacher_depth;
  if (!on_ || !on) return;
  const double dt = now() - start_;
  switch (phase_) {
    case Phase::teacher:
      if (teacher_depth == 0) counts.teacher_seconds += dt;  // nested scopes count once
      break;
    case Phase::loss:
      counts.loss_seconds += dt;
      break;
    case Phase::adam:
      counts.adam_seconds += dt;
      break;
  }
}

}  // namespace depthscale::toy::profile
