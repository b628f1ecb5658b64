#include "log/log.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <unistd.h>

#include <cstdarg>
#include <cstdio>
#include <mutex>

namespace depthscale::log {

std::vector<std::string> MemorySink::lines() const {
  std::lock_guard<std::mutex> lock(const_cast<std::mutex&>(mutex_));
  return lines_;
}

void MemorySink::sink_it_(const spdlog::details::log_msg& msg) {
  spdlog::memory_buf_t formatted;
  formatter_->format(msg, formatted);
  std::string line = fmt::to_string(formatted);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
  lines_.push_back(std::move(line));
}

std::shared_ptr<MemorySink> make_memory_sink() {
  return std::make_shared<MemorySink>();
}
std::vector<std::string> lines(const MemorySink& sink) {
  return sink.lines();
}

std::string hostname() {
  char buf[256] = {0};
  if (gethostname(buf, sizeof(buf) - 1) != 0) return "unknown";
  std::string h(buf);
  auto dot = h.find('.');
  return dot == std::string::npos ? h : h.substr(0, dot);
}

std::string line_pattern(int rank, const std::string& host) {
  const std::string who = rank >= 0 ? "r" + std::to_string(rank) + "@" + host : host;
  return "%m-%d %H:%M:%S %^%L%$ " + who + " %v";
}

void init(int rank, const std::string& host, const std::string& level) {
  auto sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
  auto logger = std::make_shared<spdlog::logger>("depthscale", sink);
  logger->set_pattern(line_pattern(rank, host));
  logger->set_level(level.empty() ? spdlog::level::info : spdlog::level::from_str(level));
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(logger);
}

void add_sink(spdlog::sink_ptr sink) {
  sink->set_pattern("[%l] %v");
  spdlog::default_logger()->sinks().push_back(std::move(sink));
}

Progress::Progress(std::string what, int64_t total, std::string unit,
                   std::chrono::duration<double> every)
    : what_(std::move(what)), unit_(std::move(unit)), total_(total), every_(every) {
  start_ = last_ = std::chrono::steady_clock::now();
}

std::string Progress::human_seconds(double s) {
  char buf[64];
  if (s < 0 || s != s) return "?";
  if (s < 90)
    std::snprintf(buf, sizeof buf, "%.0f s", s);
  else if (s < 5400)
    std::snprintf(buf, sizeof buf, "%.1f min", s / 60);
  else if (s < 172800)
    std::snprintf(buf, sizeof buf, "%.1f h", s / 3600);
  else
    std::snprintf(buf, sizeof buf, "%.1f d", s / 86400);
  return buf;
}

bool Progress::update(int64_t done) {
  auto now = std::chrono::steady_clock::now();
  if (first_done_ < 0) {
    first_done_ = done;  // a resumed run starts part-way: rate counts only this run's work
    start_ = now;
  }
  bool last = done >= total_;
  if (!last && now - last_ < every_) return false;
  last_ = now;
  double elapsed = std::chrono::duration<double>(now - start_).count();
  double rate = elapsed > 0 ? double(done - first_done_) / elapsed : 0.0;
  double eta = rate > 0 ? double(total_ - done) / rate : -1;
  double pct = total_ > 0 ? 100.0 * double(done) / double(total_) : 100.0;
  spdlog::info("{}: {}/{} {} ({:.1f}%), {:.3g} {}/s, ETA {}", what_, done, total_, unit_, pct, rate,
               unit_, last ? "done" : human_seconds(eta));
  return true;
}

std::string sprintf(const char* format, ...) {
  va_list args, again;
  va_start(args, format);
  va_copy(again, args);
  const int n = std::vsnprintf(nullptr, 0, format, args);
  va_end(args);
  std::string s(size_t(n > 0 ? n : 0) + 1, '\0');
  std::vsnprintf(s.data(), s.size(), format, again);
  va_end(again);
  s.resize(size_t(n > 0 ? n : 0));
  return s;
}

}  // namespace depthscale::log
