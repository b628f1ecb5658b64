#include "farm/farm.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <condition_variable>
#include <cstring>
#include <exception>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

#include "log/log.hpp"

namespace depthscale::farm {

namespace {

std::vector<char> text_bytes(const std::string& s) {
  return std::vector<char>(s.begin(), s.end());
}

std::vector<char> int_bytes(int64_t v) {
  std::vector<char> b(8);
  std::memcpy(b.data(), &v, 8);
  return b;
}

int64_t bytes_int(const std::vector<char>& b) {
  int64_t v = 0;
  if (b.size() == 8) std::memcpy(&v, b.data(), 8);
  return v;
}

double unix_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace

std::vector<char> pack(const std::vector<std::vector<char>>& parts) {
  std::vector<uint64_t> head{parts.size()};
  size_t total = 0;
  for (const auto& p : parts) head.push_back(p.size()), total += p.size();
  std::vector<char> out(head.size() * 8 + total);
  std::memcpy(out.data(), head.data(), head.size() * 8);
  char* at = out.data() + head.size() * 8;
  for (const auto& p : parts) {
    if (!p.empty()) std::memcpy(at, p.data(), p.size());
    at += p.size();
  }
  return out;
}

std::vector<std::vector<char>> unpack(const std::vector<char>& bytes) {
  auto bad = [] { return std::runtime_error("farm: a packed message is truncated"); };
  uint64_t n = 0;
  if (bytes.size() < 8) throw bad();
  std::memcpy(&n, bytes.data(), 8);
  if (n > (bytes.size() - 8) / 8) throw bad();
  std::vector<uint64_t> sizes(n);
  if (n) std::memcpy(sizes.data(), bytes.data() + 8, n * 8);
  size_t at = 8 + n * 8;
  std::vector<std::vector<char>> parts;
  for (uint64_t s : sizes) {
    if (s > bytes.size() - at) throw bad();
    parts.emplace_back(bytes.begin() + long(at), bytes.begin() + long(at + s));
    at += s;
  }
  return parts;
}

bool Hub::wait(Message* out, std::chrono::milliseconds timeout) {
  if (poll(out)) return true;
  std::this_thread::sleep_for(timeout);
  return poll(out);
}

// ---- worker side --------------------------------------------------------------------------------

WorkerSession::WorkerSession(Link& link, int rank, std::function<bool()> stop_signal)
    : link_(link), rank_(rank), stop_signal_(std::move(stop_signal)) {}

void WorkerSession::record(std::vector<char> bytes) {
  link_.send(Tag::Record, std::move(bytes));
}

void WorkerSession::progress(int64_t done) {
  const auto now = std::chrono::steady_clock::now();
  if (now - last_progress_ < std::chrono::milliseconds(500)) return;
  last_progress_ = now;
  link_.send(Tag::Progress, int_bytes(done));
}

bool WorkerSession::stop_requested() {
  if (!told_ && link_.take_stop()) told_ = true;
  return told_ || (stop_signal_ && stop_signal_());
}

void serve(Link& link, UnitRunner& runner, int rank, std::function<bool()> stop_signal) {
  WorkerSession session(link, rank, std::move(stop_signal));
  while (true) {
    link.send(Tag::Request, {});
    Message m = link.receive();
    // A Stop that crossed our request: the coordinator hands out nothing more, so NoMoreWork
    // follows.
    while (m.tag == Tag::Stop) {
      session.told_ = true;
      m = link.receive();
    }
    if (m.tag == Tag::NoMoreWork) return;
    if (m.tag != Tag::Unit)
      throw std::runtime_error("farm: unexpected message " + std::to_string(int(m.tag)) +
                               " from the coordinator");
    std::string end = "finished";
    try {
      if (runner.run(m.bytes, session) == UnitOutcome::Stopped) end = "stopped";
    } catch (const std::exception& e) {
      spdlog::error("unit failed: {}", e.what());
      end = std::string("failed\n") + e.what();
    }
    link.send(Tag::UnitEnd, text_bytes(end));
    if (end == "stopped") {
      link.take_stop();  // one that may still be on its way
      return;
    }
  }
}

// ---- the coordinator ----------------------------------------------------------------------------

FarmReport run_coordinator(Hub& hub, std::deque<UnitTicket> units, UnitSource& source,
                           const CoordinatorOptions& opt) {
  if (opt.largest_first)
    std::stable_sort(units.begin(), units.end(),
                     [](const UnitTicket& a, const UnitTicket& b) { return a.cost > b.cost; });
  const auto clock = opt.clock ? opt.clock : unix_now;
  int64_t total = 0;
  for (const auto& u : units) total += u.work;
  log::Progress progress(opt.name, std::max<int64_t>(total, 1), opt.work_unit, opt.progress_every);

  struct Busy {
    UnitTicket unit;
    int64_t done = 0;
    std::chrono::steady_clock::time_point began;
  };
  std::map<int, Busy> busy;
  FarmReport report;
  std::exception_ptr failure;
  int open = hub.workers();
  bool stop_sent = false;
  int64_t finished_work = 0, last_reported = -1;
  double measured_cost = 0, measured_seconds = 0;
  const auto began = std::chrono::steady_clock::now();
  auto last_beat = began - std::chrono::hours(1);
  // The heartbeat never stops the run: a failed write is logged and tried again next time.
  auto beat = [&](int64_t done, bool final) {
    if (!opt.heartbeat) return;
    const auto now = std::chrono::steady_clock::now();
    if (!final && now - last_beat < opt.progress_every) return;
    last_beat = now;
    try {
      opt.heartbeat(done, total, std::chrono::duration<double>(now - began).count(), final);
    } catch (const std::exception& e) {
      spdlog::warn("heartbeat not written: {}", e.what());
    }
  };

  // A worker that stopped without being told got a signal of its own (preemption of its node, a
  // kill aimed at one rank): the whole run then checkpoints and stops, rather than finishing
  // without it.
  bool worker_signalled = false;
  auto stopping = [&] { return bool(failure) || worker_signalled || opt.stop_signal(); };

  auto next_unit = [&]() -> std::optional<UnitTicket> {
    if (stopping() || units.empty()) return std::nullopt;
    const double rate = measured_seconds > 0 ? measured_cost / measured_seconds : opt.prior_rate;
    if (opt.deadline > 0 && rate > 0) {
      // Wall-time guard (SLURM): the first unit that can finish before the allocation ends goes
      // next; none left that can means the job ends here, to be requeued.
      const double now = clock();
      auto fits = std::find_if(units.begin(), units.end(), [&](const UnitTicket& u) {
        return now + opt.safety * u.cost / rate < opt.deadline;
      });
      if (fits == units.end()) {
        if (!report.deadline_hit)
          spdlog::warn(
              "{} unit(s) cannot finish before the job's deadline: not starting them "
              "(exit 3 so the job is requeued)",
              units.size());
        report.deadline_hit = true;
        return std::nullopt;
      }
      std::rotate(units.begin(), fits, fits + 1);
    }
    UnitTicket u = std::move(units.front());
    units.pop_front();
    return u;
  };

  auto handle = [&](Message& m) {
    const int w = m.worker;
    switch (m.tag) {
      case Tag::Request: {
        std::optional<UnitTicket> u;
        std::vector<char> payload;
        try {
          u = next_unit();
          if (u) payload = source.payload(*u);
        } catch (...) {
          if (u) units.push_front(*u);
          hub.send(w, Tag::NoMoreWork, {});
          --open;
          throw;
        }
        if (!u) {
          hub.send(w, Tag::NoMoreWork, {});
          --open;
          return;
        }
        spdlog::info("{} → rank {}", u->label, w);
        busy[w] = Busy{*u, 0, std::chrono::steady_clock::now()};
        hub.send(w, Tag::Unit, std::move(payload));
        return;
      }
      case Tag::Record: {
        auto it = busy.find(w);
        if (it == busy.end()) throw std::runtime_error("farm: a record from an idle worker");
        source.record(it->second.unit, w, m.bytes);
        return;
      }
      case Tag::Progress: {
        auto it = busy.find(w);
        if (it != busy.end()) it->second.done = std::min(bytes_int(m.bytes), it->second.unit.work);
        return;
      }
      case Tag::UnitEnd: {
        auto it = busy.find(w);
        if (it == busy.end()) throw std::runtime_error("farm: a unit end from an idle worker");
        const std::string end(m.bytes.begin(), m.bytes.end());
        const bool stopped = end == "stopped";
        const std::string error = end.rfind("failed\n", 0) == 0 ? end.substr(7) : "";
        Busy b = std::move(it->second);
        busy.erase(it);
        if (stopped) {
          if (!stop_sent && !worker_signalled) {
            worker_signalled = true;
            spdlog::warn("worker {} stopped on a signal of its own: stopping the run", w);
          }
          ++report.stopped;
          finished_work += b.done;
          --open;  // a stopped worker asks for nothing more
        } else {
          (error.empty() ? report.finished : report.failed)++;
          finished_work += b.unit.work;
          measured_cost += b.unit.cost;
          measured_seconds +=
              std::chrono::duration<double>(std::chrono::steady_clock::now() - b.began).count();
        }
        source.ended(b.unit, w, stopped, error);
        return;
      }
      default:
        throw std::runtime_error("farm: unexpected message " + std::to_string(int(m.tag)) +
                                 " from worker " + std::to_string(w));
    }
  };

  // Any error, in a handler or around it, stops the hand-out and waits for every worker to end:
  // run_coordinator throws only once no worker is left (run_over_mpi relies on it).
  auto fail = [&](const std::string& what) {
    if (failure) return;
    spdlog::error("{}: stopping the workers", what);
    failure = std::current_exception();
  };
  while (open > 0) {
    try {
      Message m;
      if (hub.wait(&m, std::chrono::milliseconds(2))) handle(m);
    } catch (const std::exception& e) {
      fail(e.what());
    } catch (...) {
      fail("an unknown error");
    }
    try {
      if (stopping() && !stop_sent) {
        stop_sent = true;
        if (!failure)
          spdlog::warn("stop requested: every running unit checkpoints or is abandoned; exit 3");
        for (const auto& [w, b] : busy) hub.send(w, Tag::Stop, {});
      }
      int64_t done = finished_work;
      for (const auto& [w, b] : busy) done += b.done;
      if (done > last_reported) {
        progress.update(done);
        last_reported = done;
      }
      beat(done, false);
    } catch (const std::exception& e) {
      fail(e.what());
    } catch (...) {
      fail("an unknown error");
    }
  }
  beat(finished_work, true);
  if (failure) std::rethrow_exception(failure);
  report.stop_requested = opt.stop_signal();
  report.not_started = int64_t(units.size());
  return report;
}

// ---- in-process transport -----------------------------------------------------------------------

struct InProcessHub::State {
  std::mutex mutex;
  std::condition_variable to_coordinator_cv;
  std::deque<Message> to_coordinator;
  struct Mailbox {
    std::deque<Message> messages;
    std::condition_variable cv;
  };
  std::vector<Mailbox> mailboxes;
  std::vector<std::unique_ptr<Link>> links;
};

namespace {

class InProcessLink : public Link {
 public:
  InProcessLink(InProcessHub::State* s, int worker) : s_(s), worker_(worker) {}
  void send(Tag tag, std::vector<char> bytes) override;
  Message receive() override;
  bool take_stop() override;

 private:
  InProcessHub::State* s_;
  int worker_;
};

}  // namespace

void InProcessLink::send(Tag tag, std::vector<char> bytes) {
  {
    std::lock_guard<std::mutex> lock(s_->mutex);
    s_->to_coordinator.push_back(Message{worker_, tag, std::move(bytes)});
  }
  s_->to_coordinator_cv.notify_one();
}

Message InProcessLink::receive() {
  std::unique_lock<std::mutex> lock(s_->mutex);
  auto& box = s_->mailboxes[size_t(worker_)];
  box.cv.wait(lock, [&] { return !box.messages.empty(); });
  Message m = std::move(box.messages.front());
  box.messages.pop_front();
  return m;
}

bool InProcessLink::take_stop() {
  std::lock_guard<std::mutex> lock(s_->mutex);
  auto& q = s_->mailboxes[size_t(worker_)].messages;
  const auto n = q.size();
  q.erase(std::remove_if(q.begin(), q.end(), [](const Message& m) { return m.tag == Tag::Stop; }),
          q.end());
  return q.size() != n;
}

InProcessHub::InProcessHub(int workers) : state_(std::make_unique<State>()) {
  state_->mailboxes = std::vector<State::Mailbox>(size_t(std::max(workers, 0)));
  for (int w = 0; w < workers; ++w)
    state_->links.push_back(std::make_unique<InProcessLink>(state_.get(), w));
}

InProcessHub::~InProcessHub() = default;

int InProcessHub::workers() const {
  return int(state_->mailboxes.size());
}

bool InProcessHub::poll(Message* out) {
  std::lock_guard<std::mutex> lock(state_->mutex);
  if (state_->to_coordinator.empty()) return false;
  *out = std::move(state_->to_coordinator.front());
  state_->to_coordinator.pop_front();
  return true;
}

bool InProcessHub::wait(Message* out, std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(state_->mutex);
  if (!state_->to_coordinator_cv.wait_for(lock, timeout,
                                          [&] { return !state_->to_coordinator.empty(); }))
    return false;
  *out = std::move(state_->to_coordinator.front());
  state_->to_coordinator.pop_front();
  return true;
}

void InProcessHub::send(int worker, Tag tag, std::vector<char> bytes) {
  auto& box = state_->mailboxes.at(size_t(worker));
  {
    std::lock_guard<std::mutex> lock(state_->mutex);
    box.messages.push_back(Message{-1, tag, std::move(bytes)});
  }
  box.cv.notify_all();
}

Link& InProcessHub::link(int worker) {
  return *state_->links.at(size_t(worker));
}

FarmReport run_in_process(std::deque<UnitTicket> units, UnitSource& source, UnitRunner& runner,
                          int workers, const CoordinatorOptions& options) {
  InProcessHub hub(workers);
  std::vector<std::thread> threads;
  for (int w = 0; w < workers; ++w)
    threads.emplace_back([&, w] { serve(hub.link(w), runner, w, options.stop_signal); });
  try {
    auto report = run_coordinator(hub, std::move(units), source, options);
    for (auto& t : threads) t.join();
    return report;
  } catch (...) {
    for (auto& t : threads) t.join();  // every worker has left before run_coordinator throws
    throw;
  }
}

}  // namespace depthscale::farm
