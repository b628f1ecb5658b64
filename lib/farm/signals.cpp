#include <unistd.h>

#include <atomic>
#include <csignal>

#include "farm/run.hpp"

namespace depthscale::farm {

namespace {
std::atomic<int> signals_seen{0};
std::atomic<int> critical_depth{0};
std::atomic<bool> exit_when_safe{false};
int exit_code = 1;  // set once, before the handlers are installed

void on_signal(int) {
  if (signals_seen.fetch_add(1) >= 1) {
    // Second signal: leave now, unless a file write is under way; then leave right after it.
    if (critical_depth.load() == 0) _exit(exit_code);
    exit_when_safe = true;
  }
}
}  // namespace

void install_signal_handlers(int second_signal_exit_code) {
  exit_code = second_signal_exit_code;
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  for (int s : {SIGTERM, SIGUSR1, SIGINT}) sigaction(s, &sa, nullptr);
}

bool stop_requested() {
  return signals_seen.load() > 0;
}

void stop_point() {
  if (stop_requested()) throw StoppedWhilePlanning();
}

CriticalSection::CriticalSection() {
  critical_depth.fetch_add(1);
}
CriticalSection::~CriticalSection() {
  if (critical_depth.fetch_sub(1) == 1 && exit_when_safe.load()) _exit(exit_code);
}

}  // namespace depthscale::farm
