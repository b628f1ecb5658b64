// The coordinator driven in-process: real threads and queues, no mpirun. The job kind is a test
// double whose units say what to do (sleep, fail, how many records), so the tests see exactly
// what the coordinator handed out, in which order, and what it did with the answers.
#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "farm/farm.hpp"
#include "log/log.hpp"

using namespace depthscale::farm;

namespace {

// A unit's payload: its id, how long it works, whether it throws, how many records it sends.
struct Plan {
  int64_t id = 0;
  int sleep_ms = 0;
  bool fail = false;
  int records = 1;
};

std::vector<char> encode(const Plan& p) {
  std::vector<char> b(sizeof(Plan));
  std::memcpy(b.data(), &p, sizeof(Plan));
  return b;
}

Plan decode(const std::vector<char>& b) {
  Plan p;
  EXPECT_EQ(b.size(), sizeof(Plan));
  std::memcpy(&p, b.data(), sizeof(Plan));
  return p;
}

// Called on the coordinator thread only: no locking needed, which the test also relies on.
class TestSource : public UnitSource {
 public:
  std::map<int64_t, Plan> plans;
  std::vector<int64_t> handed;                  // payload order
  std::map<int64_t, std::vector<int>> records;  // unit → record values
  std::map<int64_t, std::string> how;           // unit → "finished" | "stopped" | error
  std::function<void(const UnitTicket&)> on_record;
  std::thread::id thread = std::this_thread::get_id();

  std::vector<char> payload(const UnitTicket& u) override {
    EXPECT_EQ(std::this_thread::get_id(), thread);
    handed.push_back(u.id);
    return encode(plans.at(u.id));
  }
  void record(const UnitTicket& u, int, const std::vector<char>& bytes) override {
    EXPECT_EQ(std::this_thread::get_id(), thread);
    int v = 0;
    std::memcpy(&v, bytes.data(), sizeof v);
    records[u.id].push_back(v);
    if (on_record) on_record(u);
  }
  void ended(const UnitTicket& u, int, bool stopped, const std::string& error) override {
    EXPECT_EQ(std::this_thread::get_id(), thread);
    EXPECT_FALSE(how.count(u.id)) << "unit " << u.id << " ended twice";
    how[u.id] = stopped ? "stopped" : error.empty() ? "finished" : error;
  }
};

// Shared by every worker thread.
class TestRunner : public UnitRunner {
 public:
  std::atomic<int> running{0}, most_at_once{0};
  UnitOutcome run(const std::vector<char>& payload, WorkerSession& s) override {
    const Plan p = decode(payload);
    const int now = ++running;
    int seen = most_at_once.load();
    while (now > seen && !most_at_once.compare_exchange_weak(seen, now)) {
    }
    struct Leave {
      std::atomic<int>& r;
      ~Leave() { --r; }
    } leave{running};
    for (int i = 0; i < p.records; ++i) {
      const auto until = std::chrono::steady_clock::now() +
                         std::chrono::milliseconds(p.sleep_ms / std::max(p.records, 1));
      while (std::chrono::steady_clock::now() < until)
        if (s.stop_requested())
          return UnitOutcome::Stopped;
        else
          std::this_thread::sleep_for(std::chrono::milliseconds(1));
      if (p.fail) throw std::runtime_error("unit " + std::to_string(p.id) + " exploded");
      int v = int(p.id * 100 + i);
      std::vector<char> b(sizeof v);
      std::memcpy(b.data(), &v, sizeof v);
      s.record(std::move(b));
      s.progress(i + 1);
    }
    return UnitOutcome::Finished;
  }
};

std::deque<UnitTicket> tickets(TestSource& src, const std::vector<std::pair<double, Plan>>& units) {
  std::deque<UnitTicket> out;
  for (const auto& [cost, plan] : units) {
    src.plans[plan.id] = plan;
    out.push_back(UnitTicket{plan.id, cost, plan.records, "unit " + std::to_string(plan.id)});
  }
  return out;
}

CoordinatorOptions quiet() {
  CoordinatorOptions o;
  o.progress_every = std::chrono::hours(1);
  return o;
}

}  // namespace

TEST(Farm, EveryUnitRunsOnceAndItsRecordsArrive) {
  TestSource src;
  TestRunner runner;
  std::vector<std::pair<double, Plan>> units;
  for (int i = 0; i < 12; ++i) units.push_back({double(i), Plan{i, 5 * (i % 3), false, 1 + i % 3}});
  auto report = run_in_process(tickets(src, units), src, runner, 3, quiet());
  EXPECT_EQ(report.finished, 12);
  EXPECT_EQ(report.failed + report.stopped + report.not_started, 0);
  EXPECT_FALSE(report.interrupted());
  ASSERT_EQ(src.how.size(), 12u);
  for (int i = 0; i < 12; ++i) {
    EXPECT_EQ(src.how[i], "finished");
    std::vector<int> want;
    for (int r = 0; r < 1 + i % 3; ++r) want.push_back(i * 100 + r);
    EXPECT_EQ(src.records[i], want) << "unit " << i;
  }
  EXPECT_EQ(std::set<int64_t>(src.handed.begin(), src.handed.end()).size(), 12u);
  EXPECT_GE(runner.most_at_once.load(), 2) << "three workers never overlapped";
}

TEST(Farm, HandsOutTheLargestUnitFirstOrKeepsTheGivenOrder) {
  const std::vector<std::pair<double, Plan>> units = {
      {1.0, Plan{10}}, {5.0, Plan{11}}, {3.0, Plan{12}}, {5.0, Plan{13}}};
  {
    TestSource src;
    TestRunner runner;
    run_in_process(tickets(src, units), src, runner, 1, quiet());
    EXPECT_EQ(src.handed, (std::vector<int64_t>{11, 13, 12, 10}));  // ties keep their order
  }
  {
    TestSource src;
    TestRunner runner;
    auto o = quiet();
    o.largest_first = false;
    run_in_process(tickets(src, units), src, runner, 1, o);
    EXPECT_EQ(src.handed, (std::vector<int64_t>{10, 11, 12, 13}));
  }
}

TEST(Farm, AFailingUnitFailsAloneWithItsError) {
  TestSource src;
  TestRunner runner;
  auto report =
      run_in_process(tickets(src, {{3, Plan{1, 5}}, {2, Plan{2, 5, true, 2}}, {1, Plan{3, 5}}}),
                     src, runner, 2, quiet());
  EXPECT_EQ(report.finished, 2);
  EXPECT_EQ(report.failed, 1);
  EXPECT_EQ(src.how[2], "unit 2 exploded");
  EXPECT_EQ(src.how[1], "finished");
  EXPECT_EQ(src.how[3], "finished");
  EXPECT_TRUE(src.records[2].empty());
}

TEST(Farm, AStopSignalStopsRunningUnitsAndStartsNoMore) {
  TestSource src;
  TestRunner runner;
  std::atomic<bool> signal{false};
  src.on_record = [&](const UnitTicket&) { signal = true; };  // "SIGTERM" after the first record
  auto o = quiet();
  o.stop_signal = [&] { return signal.load(); };
  std::vector<std::pair<double, Plan>> units;
  for (int i = 0; i < 8; ++i) units.push_back({1.0, Plan{i, 400, false, 4}});
  auto report = run_in_process(tickets(src, units), src, runner, 2, o);
  EXPECT_TRUE(report.stop_requested);
  EXPECT_TRUE(report.interrupted());
  EXPECT_EQ(report.stopped, 2);  // both busy workers checkpointed and left
  EXPECT_EQ(report.finished, 0);
  EXPECT_EQ(report.not_started, 6);
  EXPECT_EQ(src.handed.size(), 2u);
  for (const auto& [id, how] : src.how) EXPECT_EQ(how, "stopped") << id;
}

TEST(Farm, TheDeadlineStartsOnlyUnitsThatFit) {
  TestSource src;
  TestRunner runner;
  auto o = quiet();
  double now = 1000;
  o.clock = [&] { return now; };
  o.deadline = 1010;  // 10 s left
  o.prior_rate = 1;   // one cost unit per second until a unit has been measured
  o.largest_first = false;
  auto report = run_in_process(
      tickets(src, {{20, Plan{1}}, {5, Plan{2}}, {30, Plan{3}}, {12, Plan{4}}}), src, runner, 1, o);
  // Unit 2 fits at the prior rate; the measured rate (5 cost units in milliseconds) then lets the
  // others through: so only the first pick proves the guard. Check it with a slow unit next.
  EXPECT_EQ(src.handed.front(), 2);
  EXPECT_FALSE(report.deadline_hit);

  TestSource src2;
  auto o2 = o;
  o2.prior_rate = 0.01;  // nothing fits at all
  auto report2 = run_in_process(tickets(src2, {{20, Plan{1}}, {5, Plan{2}}}), src2, runner, 2, o2);
  EXPECT_TRUE(report2.deadline_hit);
  EXPECT_TRUE(report2.interrupted());
  EXPECT_EQ(report2.not_started, 2);
  EXPECT_TRUE(src2.handed.empty());
}

TEST(Farm, ASourceThatCannotRecordEndsTheRunAfterTheWorkersLeave) {
  TestSource src;
  TestRunner runner;
  src.on_record = [](const UnitTicket& u) {
    if (u.id == 1) throw std::runtime_error("disk full");
  };
  std::vector<std::pair<double, Plan>> units;
  for (int i = 0; i < 6; ++i) units.push_back({double(10 - i), Plan{i, 100, false, 5}});
  try {
    run_in_process(tickets(src, units), src, runner, 2, quiet());
    FAIL() << "the source's error was swallowed";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "disk full");
  }
  EXPECT_LE(src.handed.size(), 3u);  // at most one more unit after the failure
  for (const auto& [id, how] : src.how) EXPECT_NE(how, "") << id;
}

// An error outside the source's calls (here a heartbeat throwing what is not even a
// std::exception) also waits for every worker: run_over_mpi relies on it to end a run the
// normal way instead of aborting it.
TEST(Farm, AnyErrorInTheLoopEndsTheRunOnlyAfterEveryHandedUnitHasEnded) {
  TestSource src;
  TestRunner runner;
  auto o = quiet();
  o.progress_every = std::chrono::seconds(0);
  o.heartbeat = [&](int64_t, int64_t, double, bool) {
    if (src.handed.size() >= 2) throw 42;  // on the coordinator's thread, as src
  };
  std::vector<std::pair<double, Plan>> units;
  for (int i = 0; i < 6; ++i) units.push_back({double(10 - i), Plan{i, 100, false, 5}});
  EXPECT_THROW(run_in_process(tickets(src, units), src, runner, 2, o), int);
  EXPECT_FALSE(src.handed.empty());
  EXPECT_LT(src.handed.size(), units.size());    // the hand-out stopped
  EXPECT_EQ(src.how.size(), src.handed.size());  // and every unit handed out had ended
  EXPECT_EQ(runner.running.load(), 0);
}

TEST(Farm, ProgressCountsTheWorkOfEveryUnitOnce) {
  auto sink = depthscale::log::make_memory_sink();
  depthscale::log::add_sink(sink);
  TestSource src;
  TestRunner runner;
  auto o = quiet();
  o.name = "progress-test";
  o.work_unit = "records";
  o.progress_every = std::chrono::seconds(0);
  auto report = run_in_process(
      tickets(src, {{1, Plan{1, 30, false, 3}}, {1, Plan{2, 20, false, 2}}}), src, runner, 2, o);
  EXPECT_EQ(report.finished, 2);
  std::vector<std::string> progress;
  for (const auto& l : depthscale::log::lines(*sink))
    if (l.find("progress-test: ") != std::string::npos) progress.push_back(l);
  ASSERT_FALSE(progress.empty());
  EXPECT_NE(progress.back().find("5/5 records (100.0%)"), std::string::npos) << progress.back();
  EXPECT_NE(progress.back().find("ETA done"), std::string::npos) << progress.back();
}

// Workers that never see the signal themselves (other ranks, other hosts) stop on the
// coordinator's Stop message.
TEST(Farm, TheStopMessageReachesWorkersThatMissedTheSignal) {
  TestSource src;
  TestRunner runner;
  std::atomic<bool> signal{false};
  src.on_record = [&](const UnitTicket&) { signal = true; };
  auto o = quiet();
  o.stop_signal = [&] { return signal.load(); };
  std::vector<std::pair<double, Plan>> units;
  for (int i = 0; i < 4; ++i) units.push_back({1.0, Plan{i, 2000, false, 40}});
  InProcessHub hub(2);
  std::vector<std::thread> workers;
  for (int w = 0; w < 2; ++w)
    workers.emplace_back([&, w] { serve(hub.link(w), runner, w, [] { return false; }); });
  const auto t0 = std::chrono::steady_clock::now();
  const auto report = run_coordinator(hub, tickets(src, units), src, o);
  for (auto& t : workers) t.join();
  EXPECT_EQ(report.stopped, 2);
  EXPECT_EQ(report.not_started, 2);
  // Each unit would take 2 s on its own: the Stop cut them short.
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), 1.5);
}
