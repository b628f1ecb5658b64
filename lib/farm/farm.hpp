// The task farm: one coordinator that hands work units to workers and records what comes back,
// whatever the units compute. It owns the loop, the worker handshake, the stop signal, the
// wall-time deadline and the progress line; a job kind plugs in through two small interfaces:
//
// clang-format off
//   UnitSource  (rank 0, coordinator thread): the bytes of a unit, and what to do with a record
//               a worker sends back (the only place that writes files);
//   UnitRunner  (every worker, any thread): computes a unit from its bytes, sending records.
// clang-format on
//
// Workers reach the coordinator through a transport: in-process queues (rank 0's own worker
// thread, and the unit tests, which need no mpirun) or MPI (farm/mpi.hpp). The protocol:
//
// clang-format off
//   worker → coordinator   Request                       give me work
//   coordinator → worker   Unit(payload) | NoMoreWork
//   worker → coordinator   Record(bytes)*, Progress(done)*, then UnitEnd(finished|stopped|failed)
//   coordinator → worker   Stop                          (only while the worker runs a unit)
// clang-format on
//
// A worker whose unit stopped sends nothing more; one told NoMoreWork leaves. The coordinator
// returns when every worker has left.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace depthscale::farm {

enum class Tag : int { Request = 1, Unit, NoMoreWork, Stop, Record, Progress, UnitEnd };

struct Message {
  int worker = 0;  // the sender (coordinator side) or 0 (worker side)
  Tag tag = Tag::Request;
  std::vector<char> bytes;
};

// The coordinator's end of a transport: workers are numbered 0..workers()-1.
class Hub {
 public:
  virtual ~Hub() = default;
  virtual int workers() const = 0;
  // The next message from any worker, if one is waiting (never blocks).
  virtual bool poll(Message* out) = 0;
  // Blocks up to `timeout` for a message (default: sleep and poll).
  virtual bool wait(Message* out, std::chrono::milliseconds timeout);
  virtual void send(int worker, Tag tag, std::vector<char> bytes) = 0;
};

// A worker's end.
class Link {
 public:
  virtual ~Link() = default;
  virtual void send(Tag tag, std::vector<char> bytes) = 0;
  virtual Message receive() = 0;  // blocks
  virtual bool take_stop() = 0;   // consumes a waiting Stop; true if there was one
};

// One unit of work as the coordinator sees it. `cost` drives the deadline guard (FLOPs, tokens:
// any unit, as long as CoordinatorOptions::prior_rate uses it too); `work` is what the progress
// line counts (student-steps, tokens), of which a runner reports the part it has done.
struct UnitTicket {
  int64_t id = 0;
  double cost = 0;
  int64_t work = 0;
  std::string label;  // for logs: "unit 3 (rho0_t1: 16 students, from step 2000)"
};

class UnitSource {
 public:
  virtual ~UnitSource() = default;
  // The bytes a worker needs to run the unit (may read checkpoints).
  virtual std::vector<char> payload(const UnitTicket& unit) = 0;
  // A record the unit's worker sent (a result, a checkpoint): store it. An exception here ends
  // the run (after the workers have stopped) and reaches the caller of Coordinator::run.
  virtual void record(const UnitTicket& unit, int worker, const std::vector<char>& bytes) = 0;
  // The unit ended. `error` is set when the runner threw: the unit produced what it recorded
  // before, and the source decides what the rest of it becomes (failed results, a redo).
  virtual void ended(const UnitTicket& unit, int worker, bool stopped, const std::string& error) {}
};

enum class UnitOutcome { Finished, Stopped };
class UnitRunner;

// What a runner may do while it computes a unit.
class WorkerSession {
 public:
  WorkerSession(Link& link, int rank, std::function<bool()> stop_signal);
  int rank() const { return rank_; }
  void record(std::vector<char> bytes);
  // How much of the unit's `work` is done (throttled: at most one message per 0.5 s).
  void progress(int64_t done);
  // True once the coordinator said Stop or this process got a stop signal; poll at safe points.
  bool stop_requested();

 private:
  friend void serve(Link&, UnitRunner&, int, std::function<bool()>);
  Link& link_;
  int rank_;
  std::function<bool()> stop_signal_;
  bool told_ = false;
  std::chrono::steady_clock::time_point last_progress_{};
};

class UnitRunner {
 public:
  virtual ~UnitRunner() = default;
  // Runs the unit to its end or until session.stop_requested(). Throwing marks it failed.
  virtual UnitOutcome run(const std::vector<char>& payload, WorkerSession& session) = 0;
};

// A worker: asks for units and runs them until told there are none or a unit stopped.
// `rank` is what WorkerSession::rank() reports.
void serve(Link& link, UnitRunner& runner, int rank, std::function<bool()> stop_signal);

struct CoordinatorOptions {
  std::string name = "farm";  // the progress line's label
  std::string work_unit = "units";
  // Hand out the most costly unit first (else in the order given: a probe sweep keeps model
  // order so that each worker loads each model once).
  bool largest_first = true;
  // Wall-time guard: Unix seconds when the job's allocation ends (0: none). A unit starts only
  // if it can end before then at the rate measured so far (cost per second of one worker), or
  // `prior_rate` before any unit has finished (0: start it), with `safety` to spare.
  double deadline = 0;
  double prior_rate = 0;
  double safety = 1.0;
  std::chrono::duration<double> progress_every = std::chrono::seconds(10);
  // Called about every `progress_every` while the loop runs and once when it ends (`final`), with
  // the work done, the total and the seconds since the loop began (the run's heartbeat). A throw
  // from it is logged and the run goes on. Null: none.
  std::function<void(int64_t done, int64_t total, double seconds, bool final)> heartbeat;
  std::function<bool()> stop_signal = [] { return false; };
  std::function<double()> clock;  // Unix seconds; default the system clock
};

struct FarmReport {
  int64_t finished = 0, stopped = 0, failed = 0, not_started = 0;
  bool stop_requested = false, deadline_hit = false;
  bool interrupted() const { return stopped > 0 || stop_requested || deadline_hit; }
};

// Runs the units to the end on the hub's workers. The caller runs the workers themselves (threads
// serving in-process links, MPI ranks). Records and `ended` reach `source` on this thread only.
// If the source (or anything else in the loop) throws, Stop goes to every busy worker, the loop
// waits for all to leave, then rethrows: it never throws while a worker is still at work.
FarmReport run_coordinator(Hub& hub, std::deque<UnitTicket> units, UnitSource& source,
                           const CoordinatorOptions& options);

// Several byte strings as one message (a unit and its checkpoints): u64 count, u64 sizes, bytes.
std::vector<char> pack(const std::vector<std::vector<char>>& parts);
std::vector<std::vector<char>> unpack(const std::vector<char>& bytes);  // throws on bad framing

// In-process transport: `workers` links served by threads of this process.
class InProcessHub : public Hub {
 public:
  explicit InProcessHub(int workers);
  ~InProcessHub() override;
  int workers() const override;
  bool poll(Message* out) override;
  bool wait(Message* out, std::chrono::milliseconds timeout) override;
  void send(int worker, Tag tag, std::vector<char> bytes) override;
  Link& link(int worker);

  struct State;  // queues and locks (farm.cpp)

 private:
  std::unique_ptr<State> state_;
};

// The whole farm in one process: `workers` threads serve `runner`, the calling thread
// coordinates. What rank 0 runs without MPI, and what the unit tests drive.
FarmReport run_in_process(std::deque<UnitTicket> units, UnitSource& source, UnitRunner& runner,
                          int workers, const CoordinatorOptions& options);

}  // namespace depthscale::farm
