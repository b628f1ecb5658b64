// Logging for depthscale: every line carries the MPI rank and host, so the interleaved output of
// many ranks (or a SLURM log) still says who said what. Long loops report through Progress.
#pragma once

#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace depthscale::log {

// The line prefix, short so that a message still fits an 80-column terminal:
// "12-04 09:31:53 I r3@node17 message" (date, time, level letter I/W/E/D, rank@host; the host alone
// when not under MPI).
std::string line_pattern(int rank, const std::string& host);

// Installs the default logger: line_pattern's lines on stderr. Call once per
// process, after MPI_Init (rank -1 means "not under MPI"). `level` is an spdlog level name
// (trace, debug, info, warn, error, critical, off); empty means info. apps/ passes
// $DEPTHSCALE_LOG.
void init(int rank, const std::string& host, const std::string& level = "");

// The short host name of this machine.
std::string hostname();

// Adds a sink to the default logger (used by tests to capture lines).
void add_sink(spdlog::sink_ptr sink);

// Records formatted log lines in memory; tests read them back.
class MemorySink : public spdlog::sinks::base_sink<std::mutex> {
 public:
  std::vector<std::string> lines() const;

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override;
  void flush_() override {}

 private:
  std::vector<std::string> lines_;
};
std::shared_ptr<MemorySink> make_memory_sink();
std::vector<std::string> lines(const MemorySink& sink);

// Progress of a long piece of work: logs "what: done/total (pct), rate unit/s, ETA" at most once
// per `every` seconds, and always on the last unit.
class Progress {
 public:
  Progress(std::string what, int64_t total, std::string unit = "steps",
           std::chrono::duration<double> every = std::chrono::seconds(10));
  // Sets the absolute amount done; returns true when a line was logged.
  bool update(int64_t done);
  int64_t total() const { return total_; }
  // "1.2 h", "35 s": short human durations for ETAs.
  static std::string human_seconds(double seconds);

 private:
  std::string what_, unit_;
  int64_t total_, first_done_ = -1;
  std::chrono::duration<double> every_;
  std::chrono::steady_clock::time_point start_, last_;
};

// printf into a std::string: tables and reports that a command prints.
std::string sprintf(const char* format, ...) __attribute__((format(printf, 1, 2)));

}  // namespace depthscale::log
