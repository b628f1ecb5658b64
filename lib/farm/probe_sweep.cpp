// The probe sweep across MPI ranks: planning and resume on rank 0, the coordinator/worker
// protocol, recording batches (sidecar file first, then the main file, status last) and
// finalising each model once its batches are in.
#include "farm/probe_sweep.hpp"

#include <mpi.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <torch/torch.h>
#include <torch/version.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <deque>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "farm/ranks.hpp"
#include "log/log.hpp"
#include "probe/model.hpp"
#include "probe/runner.hpp"
#include "store/probe_file.hpp"
#include "store/store.hpp"

namespace fs = std::filesystem;

namespace depthscale::farm {

using probe::BatchResult;
using probe::ProbeSpec;
using probe::ResolvedModel;

namespace {

// Tags of the probe protocol (a probe run never mixes with a toy run's messages).
enum Tag : int {
  kRequest = 101,  // worker → 0: give me work
  kUnit,           // 0 → worker: a batch (header and token ids)
  kNoMoreWork,     // 0 → worker: leave the loop
  kStop,           // 0 → worker: abandon the batch in progress and leave
  kResult,         // worker → 0: a batch result image (complete or failed)
  kUnitEnd,        // worker → 0: "finished" | "stopped"
};

// A work unit: one batch of one model, with its documents' token ids.
struct Unit {
  int model = 0;
  int64_t batch = 0, first_doc = 0;
  std::vector<std::vector<uint32_t>> docs;
  int64_t tokens() const {
    int64_t n = 0;
    for (const auto& d : docs) n += int64_t(d.size());
    return n;
  }
};

// [model, batch, first_doc, n, len_0 .. len_n-1] as int64, then the uint32 tokens.
std::vector<char> encode(const Unit& u) {
  std::vector<int64_t> head = {u.model, u.batch, u.first_doc, int64_t(u.docs.size())};
  for (const auto& d : u.docs) head.push_back(int64_t(d.size()));
  std::vector<char> out(head.size() * 8 + size_t(u.tokens()) * 4);
  std::memcpy(out.data(), head.data(), head.size() * 8);
  char* p = out.data() + head.size() * 8;
  for (const auto& d : u.docs) {
    std::memcpy(p, d.data(), d.size() * 4);
    p += d.size() * 4;
  }
  return out;
}

Unit decode(const std::vector<char>& bytes) {
  auto need = [&](size_t n) {
    if (bytes.size() < n) throw std::runtime_error("truncated probe unit message");
  };
  need(32);
  int64_t h[4];
  std::memcpy(h, bytes.data(), 32);
  Unit u;
  u.model = int(h[0]);
  u.batch = h[1];
  u.first_doc = h[2];
  const size_t n = size_t(h[3]);
  need(32 + 8 * n);
  std::vector<int64_t> lens(n);
  std::memcpy(lens.data(), bytes.data() + 32, 8 * n);
  size_t at = 32 + 8 * n;
  for (size_t i = 0; i < n; ++i) {
    need(at + size_t(lens[i]) * 4);
    std::vector<uint32_t> d(size_t(lens[i]));
    std::memcpy(d.data(), bytes.data() + at, d.size() * 4);
    at += d.size() * 4;
    u.docs.push_back(std::move(d));
  }
  return u;
}

torch::Dtype dtype_of(const std::string& name) {
  if (name == "bfloat16") return torch::kBFloat16;
  if (name == "float16") return torch::kHalf;
  return torch::kFloat32;
}

// One rank's model, loaded when a unit of another model arrives (units come model by model, so
// each rank loads each model at most once).
class Worker {
 public:
  Worker(const ProbeSpec& spec, torch::Device device, int rank)
      : spec_(spec), device_(device), rank_(rank), host_(log::hostname()) {}

  // The batch's result, complete or failed; nullopt when stop() abandoned it.
  std::optional<BatchResult> run(const Unit& u, const std::function<bool()>& stop) {
    const auto& m = spec_.models.at(size_t(u.model));
    try {
      if (loaded_ != u.model) {
        model_.reset();  // free the previous model before loading the next
        loaded_ = u.model;
        load_error_.clear();
        try {
          const auto t0 = std::chrono::steady_clock::now();
          model_ = probe::CausalLM::load(m.path, dtype_of(spec_.effective_dtype()), device_);
          spdlog::info(
              "loaded {} ({} layers, {}) in {:.1f} s", m.name, model_->num_layers(),
              spec_.effective_dtype(),
              std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
        } catch (const std::exception& e) {
          load_error_ = std::string("cannot load ") + m.path + ": " + e.what();
        }
      }
      if (!load_error_.empty()) throw std::runtime_error(load_error_);
      auto r = probe::run_batch(*model_, spec_, m.name, u.batch, u.first_doc, u.docs, stop);
      if (r) {
        r->host = host_;
        r->rank = rank_;
      }
      return r;
    } catch (const std::exception& e) {
      spdlog::error("{} batch {} failed: {}", m.name, u.batch, e.what());
      BatchResult r;
      r.model = m.name;
      r.batch = u.batch;
      r.first_doc = u.first_doc;
      r.documents = int64_t(u.docs.size());
      r.tokens = u.tokens();
      r.layers = model_ ? model_->num_layers() : 0;
      r.per_token = spec_.store_per_token;
      r.error = e.what();
      r.host = host_;
      r.rank = rank_;
      return r;
    }
  }

 private:
  const ProbeSpec& spec_;
  torch::Device device_;
  int rank_;
  std::string host_;
  int loaded_ = -1;
  std::unique_ptr<probe::CausalLM> model_;
  std::string load_error_;
};

// ---- files ------------------------------------------------------------------------------------

// Runs `body` on /probe/<model> of the output file (store opens, flushes, closes and syncs it);
// signals wait until the file is closed.
template <class F>
void with_model_group(const std::string& path, const std::string& model, F&& body) {
  CriticalSection cs;
  store::ProbeFile(path).with_model(model, body);
}

// ---- the plan -----------------------------------------------------------------------------------

enum class BatchState { Pending, Complete, Failed };

struct ModelPlan {
  ResolvedModel model;
  bool finalized = false;
  int64_t first_doc = 0, documents = 0, tokens = 0, batches = 0;
  std::vector<std::vector<uint32_t>> docs;  // empty once finalised
  std::vector<BatchState> state;
  int64_t count(BatchState s) const { return std::count(state.begin(), state.end(), s); }
};

// The model's batches as the output file and its sidecar know them; sidecar results the file
// lacks are copied in (unless dry_run). Failed batches are forgotten when retry_failed.
// A stored batch must cover the documents the plan gives it (else the job or shards changed).
void check_batch(const ModelPlan& p, int64_t b, int64_t first_doc, int64_t documents, int batch,
                 const std::string& where) {
  const int64_t want_first = p.first_doc + b * batch;
  const int64_t want_docs = std::min<int64_t>(batch, p.documents - b * batch);
  if (b < 0 || b >= p.batches || first_doc != want_first || documents != want_docs)
    throw store::StoreError(where + " holds documents [" + std::to_string(first_doc) + ", " +
                            std::to_string(first_doc + documents) + ") but the job's batch " +
                            std::to_string(b) + " is [" + std::to_string(want_first) + ", " +
                            std::to_string(want_first + want_docs) +
                            "): the shards changed since that run (start a new --out)");
}

void load_states(const std::string& out, ModelPlan& p, int batch, bool retry_failed, bool dry_run) {
  const std::string name = p.model.spec.name;
  std::map<int64_t, std::string> in_file;  // status by batch
  const store::ProbeFile file(out);
  {
    const auto stored = file.model_status(name);
    if (stored.finalized) {
      p.finalized = true;
      p.documents = stored.documents;
      p.tokens = stored.tokens;
      p.batches = stored.batches;
      p.state.assign(size_t(p.batches), BatchState::Complete);
      return;
    }
    for (const auto& b : stored.stored) {
      check_batch(p, b.batch, b.first_doc, b.documents, batch, b.where);
      in_file[b.batch] = b.status;
    }
  }
  // Sidecar results the file lacks, one batch in memory at a time.
  std::map<int64_t, std::string> to_copy;
  for (const auto& [b, path] : file.sidecar_batches(name))
    if (!in_file.count(b)) to_copy[b] = path;
  auto copy_in = [&](store::ProbeModelGroup* mg) {
    for (const auto& entry : to_copy) {
      const std::string& path = entry.second;
      BatchResult r;
      try {
        r = store::probe_batch_from_image(store::read_bytes(path));
      } catch (const store::StoreError& e) {
        spdlog::warn("{}: unreadable, the batch will be redone ({})", path, e.what());
        continue;
      }
      check_batch(p, r.batch, r.first_doc, r.documents, batch, path);
      if (mg) mg->write_batch(r);
      in_file[r.batch] = r.complete ? "complete" : "failed";
    }
  };
  if (dry_run) {
    copy_in(nullptr);
  } else if (!to_copy.empty()) {
    with_model_group(out, name, [&](store::ProbeModelGroup& mg) { copy_in(&mg); });
    spdlog::info("{}: copied {} {} batch results from {} that the last run did not finish writing",
                 out, to_copy.size(), name, file.sidecar_dir(name));
  }
  p.state.assign(size_t(p.batches), BatchState::Pending);
  std::vector<int64_t> forget;
  for (const auto& [b, status] : in_file) {
    if (status == "complete") p.state[size_t(b)] = BatchState::Complete;
    if (status == "failed") {
      if (retry_failed)
        forget.push_back(b);
      else
        p.state[size_t(b)] = BatchState::Failed;
    }
  }
  if (!dry_run && !forget.empty()) {
    with_model_group(out, name, [&](store::ProbeModelGroup& mg) {
      for (int64_t b : forget) mg.remove_batch(b);
    });
    for (int64_t b : forget) file.remove_sidecar(name, b);
  }
}

// ---- the coordinator ----------------------------------------------------------------------------

struct LocalEvent {
  std::optional<BatchResult> result;  // none: the unit ended without one (stopped)
  bool stopped = false;
};

class Coordinator {
 public:
  Coordinator(const config::Job& job, const ProbeSpec& spec, std::string out,
              std::vector<ModelPlan>& plans, int ranks, torch::Device device)
      : job_(job),
        spec_(spec),
        out_(std::move(out)),
        plans_(plans),
        ranks_(ranks),
        device_(device) {
    int64_t total = 0;
    for (size_t m = 0; m < plans_.size(); ++m) {
      const auto& p = plans_[m];
      if (p.finalized) continue;
      for (int64_t b = 0; b < p.batches; ++b)
        if (p.state[size_t(b)] == BatchState::Pending) {
          queue_.push_back({int(m), b});
          total += batch_tokens(m, b);
        }
    }
    if (const char* d = std::getenv("DEPTHSCALE_DEADLINE")) deadline_ = std::atof(d);
    const char* every = std::getenv("DEPTHSCALE_PROGRESS_SECONDS");
    progress_ = std::make_unique<log::Progress>(
        "probe " + job.name, std::max<int64_t>(total, 1), "tokens",
        std::chrono::duration<double>(every ? std::atof(every) : 10.0));
  }

  int run() {
    try {
      return loop();
    } catch (const std::exception& e) {
      // The file is safe (sidecar first, status last); the local thread and the other ranks may
      // be mid-batch, so take the whole job down rather than unwind past a running thread.
      spdlog::error("{}", e.what());
      MPI_Abort(MPI_COMM_WORLD, kError);
      return kError;
    }
  }

  int64_t completed() const { return completed_; }
  int64_t failed() const { return failed_; }
  int64_t finalized() const { return finalized_; }  // models finished in this run

 private:
  int loop() {
    for (size_t m = 0; m < plans_.size(); ++m) maybe_finalize(int(m));
    remote_open_ = ranks_ - 1;
    std::thread local([this] { local_worker(); });
    bool stop_sent = false;
    while (remote_open_ > 0 || !local_done_) {
      bool busy = false;
      int flag = 0;
      MPI_Status st;
      while (MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &flag, &st), flag) {
        busy = true;
        handle_remote(st.MPI_SOURCE, st.MPI_TAG, receive(st.MPI_SOURCE, st.MPI_TAG));
      }
      busy |= drain_local();
      if (stop_requested() && !stop_sent) {
        stop_sent = true;
        spdlog::warn(
            "stop requested: abandoning the batches in progress, then exiting with code 3");
        std::lock_guard<std::mutex> lock(mutex_);
        for (const auto& [worker, unit] : active_)
          if (worker > 0) send(worker, kStop, std::string());
      }
      if (!busy) std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    local.join();
    drain_local();
    if (stopped_any_ || stop_requested() || deadline_hit_) return kStopped;
    for (const auto& p : plans_)
      if (!p.finalized) return kSomeFailed;
    return kDone;
  }

  struct Key {
    int model;
    int64_t batch;
  };

  int64_t batch_tokens(size_t m, int64_t b) const {
    const auto& p = plans_[m];
    int64_t n = 0;
    for (int64_t d = b * spec_.batch; d < std::min<int64_t>((b + 1) * spec_.batch, p.documents);
         ++d)
      n += int64_t(p.docs[size_t(d)].size());
    return n;
  }

  std::optional<Unit> next_unit(int worker) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stop_requested() || queue_.empty()) return std::nullopt;
    if (deadline_ > 0 && measured_batches_ > 0) {
      // Wall-time guard (SLURM): start a batch only if the mean batch so far fits before the end.
      const double now =
          std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch())
              .count();
      if (now + 1.25 * measured_seconds_ / double(measured_batches_) > deadline_) {
        if (!deadline_hit_)
          spdlog::warn(
              "{} batch(es) cannot finish before the job's deadline: not starting them "
              "(exit 3 so the job is requeued)",
              queue_.size());
        deadline_hit_ = true;
        return std::nullopt;
      }
    }
    const Key k = queue_.front();
    queue_.pop_front();
    const auto& p = plans_[size_t(k.model)];
    Unit u;
    u.model = k.model;
    u.batch = k.batch;
    u.first_doc = p.first_doc + k.batch * spec_.batch;
    const int64_t end = std::min<int64_t>((k.batch + 1) * spec_.batch, p.documents);
    for (int64_t d = k.batch * spec_.batch; d < end; ++d) u.docs.push_back(p.docs[size_t(d)]);
    active_[worker] = k;
    spdlog::info("{} batch {} ({} documents, {} tokens) → rank {}", p.model.spec.name, k.batch,
                 u.docs.size(), u.tokens(), worker);
    return u;
  }

  void handle_remote(int src, int tag, const std::vector<char>& bytes) {
    switch (tag) {
      case kRequest: {
        auto u = next_unit(src);
        if (!u) {
          send(src, kNoMoreWork, std::string());
          --remote_open_;
          return;
        }
        send(src, kUnit, encode(*u));
        return;
      }
      case kResult:
        record(store::probe_batch_from_image(bytes), &bytes);
        return;
      case kUnitEnd: {
        const bool stopped = std::string(bytes.begin(), bytes.end()) == "stopped";
        end_unit(src, stopped);
        if (stopped) --remote_open_;  // a stopped worker asks for nothing more
        return;
      }
      default:
        spdlog::error("unexpected message tag {} from rank {}", tag, src);
    }
  }

  void end_unit(int worker, bool stopped) {
    std::lock_guard<std::mutex> lock(mutex_);
    active_.erase(worker);
    stopped_any_ |= stopped;
  }

  // Sidecar file first (the ground truth), then the main file with status last.
  void record(const BatchResult& r, const std::vector<char>* image) {
    int m = -1;
    for (size_t i = 0; i < plans_.size(); ++i)
      if (plans_[i].model.spec.name == r.model) m = int(i);
    if (m < 0 || r.batch < 0 || r.batch >= plans_[size_t(m)].batches)
      throw std::runtime_error("a result for an unknown batch: " + r.model + " " +
                               std::to_string(r.batch));
    auto& p = plans_[size_t(m)];
    {
      CriticalSection cs;
      store::ProbeFile(out_).save_sidecar(r, image);
    }
    with_model_group(out_, r.model, [&](store::ProbeModelGroup& mg) { mg.write_batch(r); });
    p.state[size_t(r.batch)] = r.complete ? BatchState::Complete : BatchState::Failed;
    if (r.complete) {
      ++completed_;
      tokens_done_ += r.tokens;
      progress_->update(tokens_done_);
      std::lock_guard<std::mutex> lock(mutex_);
      measured_seconds_ += r.wall_seconds;
      ++measured_batches_;
    } else {
      ++failed_;
    }
    spdlog::info("{} batch {} {} (rank {}, {} sites, {:.1f} s, {:.0f} tokens/s){}", r.model,
                 r.batch, r.complete ? "complete" : "FAILED", r.rank, r.sites, r.wall_seconds,
                 r.wall_seconds > 0 ? double(r.tokens) / r.wall_seconds : 0.0,
                 r.complete ? "" : ": " + r.error);
    maybe_finalize(m);
  }

  void maybe_finalize(int m) {
    auto& p = plans_[size_t(m)];
    if (p.finalized || p.count(BatchState::Complete) != p.batches) return;
    const auto t0 = std::chrono::steady_clock::now();
    int64_t sites = 0;
    with_model_group(out_, p.model.spec.name, [&](store::ProbeModelGroup& mg) {
      // probe merges the batches' summary states; store concatenates and writes.
      const auto summary = probe::summarize(mg.summary_states(p.batches, p.model.num_layers),
                                            int(p.model.num_layers));
      sites = mg.finalize(
          probe::model_attrs(p.model, spec_, probe::ModelRun{p.documents, p.first_doc, p.batches}),
          summary);
    });
    p.finalized = true;
    ++finalized_;
    p.docs.clear();
    p.docs.shrink_to_fit();
    // The main file now holds the model whole and flushed: its batch files are redundant.
    store::ProbeFile(out_).remove_sidecar(p.model.spec.name);
    spdlog::info("{}: {} finished: {} documents, {} tokens, {} sites (written in {:.1f} s)", out_,
                 p.model.spec.name, p.documents, p.tokens, sites,
                 std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }

  void local_worker() {
    Worker w(spec_, device_, 0);
    while (auto u = next_unit(0)) {
      auto r = w.run(*u, [] { return stop_requested(); });
      const bool stopped = !r;
      LocalEvent e;
      e.stopped = stopped;
      e.result = std::move(r);
      push(std::move(e));
      if (stopped) break;
    }
    local_done_ = true;
  }

  void push(LocalEvent e) {
    std::lock_guard<std::mutex> lock(local_mutex_);
    local_events_.push_back(std::move(e));
  }

  bool drain_local() {
    std::deque<LocalEvent> events;
    {
      std::lock_guard<std::mutex> lock(local_mutex_);
      events.swap(local_events_);
    }
    for (auto& e : events) {
      if (e.result) record(*e.result, nullptr);
      end_unit(0, e.stopped);
    }
    return !events.empty();
  }

  const config::Job& job_;
  const ProbeSpec& spec_;
  std::string out_;
  std::vector<ModelPlan>& plans_;
  int ranks_;
  torch::Device device_;
  std::mutex mutex_;
  std::deque<Key> queue_;
  std::map<int, Key> active_;  // by worker rank
  int remote_open_ = 0;
  std::atomic<bool> local_done_{false};
  bool stopped_any_ = false, deadline_hit_ = false;
  double deadline_ = 0, measured_seconds_ = 0;
  int64_t measured_batches_ = 0, completed_ = 0, failed_ = 0, tokens_done_ = 0, finalized_ = 0;
  std::unique_ptr<log::Progress> progress_;
  std::mutex local_mutex_;
  std::deque<LocalEvent> local_events_;
};

// A worker rank (≥ 1): pulls batches until there are none or it is told to stop.
void remote_worker(const ProbeSpec& spec, int rank, torch::Device device) {
  Worker w(spec, device, rank);
  bool told_to_stop = false;
  while (true) {
    send(0, kRequest, std::string());
    // After a kStop the coordinator hands out nothing, so the reply is kNoMoreWork.
    int tag = 0;
    while (true) {
      MPI_Status st;
      MPI_Probe(0, MPI_ANY_TAG, MPI_COMM_WORLD, &st);
      tag = st.MPI_TAG;
      if (tag != kStop) break;
      receive(0, kStop);
      told_to_stop = true;
    }
    if (tag == kNoMoreWork) {
      receive(0, kNoMoreWork);
      return;
    }
    const Unit u = decode(receive(0, kUnit));
    auto stop = [&] {
      int flag = 0;
      MPI_Iprobe(0, kStop, MPI_COMM_WORLD, &flag, MPI_STATUS_IGNORE);
      if (flag) {
        receive(0, kStop);
        told_to_stop = true;
      }
      return told_to_stop || stop_requested();
    };
    auto r = w.run(u, stop);
    if (!r) {
      spdlog::info("{} batch {} abandoned (stop requested)", spec.models[size_t(u.model)].name,
                   u.batch);
      send(0, kUnitEnd, std::string("stopped"));
      return;
    }
    send(0, kResult, store::to_image(*r));
    send(0, kUnitEnd, std::string("finished"));
  }
}

void print_plan(const std::vector<ModelPlan>& plans, const ProbeSpec& spec, int ranks) {
  std::printf("%-20s %-9s %6s %8s %9s %7s %8s %10s %12s  %s\n", "model", "family", "layers",
              "batches", "complete", "failed", "pending", "documents", "tokens", "path");
  int64_t pending = 0, tokens = 0;
  for (const auto& p : plans) {
    const int64_t todo = p.count(BatchState::Pending);
    pending += todo;
    tokens += p.finalized ? 0 : p.tokens;
    std::printf("%-20s %-9s %6lld %8lld %9lld %7lld %8lld %10lld %12lld  %s\n",
                p.model.spec.name.c_str(), p.model.family.c_str(), (long long)p.model.num_layers,
                (long long)p.batches, (long long)p.count(BatchState::Complete),
                (long long)p.count(BatchState::Failed), (long long)todo, (long long)p.documents,
                (long long)p.tokens, p.model.spec.path.c_str());
  }
  std::printf(
      "\n%lld batch(es) of %d document(s) to run on %d rank(s); dtype %s on %s; "
      "max_tokens %d; per-token arrays %s\n",
      (long long)pending, spec.batch, ranks, spec.effective_dtype().c_str(),
      spec.device == probe::ProbeDevice::Cuda ? "cuda" : "cpu", spec.max_tokens,
      spec.store_per_token ? "kept" : "not kept (summaries only)");
}

}  // namespace

std::string incompatible_probe_change(const config::Job& before, const config::Job& after) {
  if (before.kind != config::JobKind::Probe) return "kind changed from toy to probe";
  const ProbeSpec a = probe::parse_probe_spec(before), b = probe::parse_probe_spec(after);
  auto text = [](const std::vector<std::string>& v) {
    std::string s = "[";
    for (const auto& x : v) s += (s.size() > 1 ? ", " : "") + x;
    return s + "]";
  };
  auto num = [](int64_t v) { return v == 0 ? std::string("all") : std::to_string(v); };
  if (a.documents != b.documents)
    return "probe.documents changed from " + num(a.documents) + " to " + num(b.documents);
  if (a.max_tokens != b.max_tokens)
    return "probe.max_tokens changed from " + std::to_string(a.max_tokens) + " to " +
           std::to_string(b.max_tokens);
  if (a.batch != b.batch)
    return "probe.batch changed from " + std::to_string(a.batch) + " to " + std::to_string(b.batch);
  if (a.effective_dtype() != b.effective_dtype())
    return "the dtype changed from " + a.effective_dtype() + " to " + b.effective_dtype();
  if (a.store_per_token != b.store_per_token) return "probe.store_per_token changed";
  if (a.separator != b.separator || a.keep_separator != b.keep_separator)
    return "probe.separator or probe.keep_separator changed";
  for (const auto& mb : b.models)
    for (const auto& ma : a.models) {
      if (ma.name != mb.name) continue;
      if (ma.path != mb.path)
        return "the path of model " + ma.name + " changed from " + ma.path + " to " + mb.path;
      const auto& sa = ma.shards.empty() ? a.shards : ma.shards;
      const auto& sb = mb.shards.empty() ? b.shards : mb.shards;
      if (sa != sb)
        return "the shards of model " + ma.name + " changed from " + text(sa) + " to " + text(sb);
    }
  return "";
}

int run_probe_sweep(const RunOptions& opt, const config::Job& job) {
  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);

  // Every rank validates the job itself; only rank 0 reports.
  ProbeSpec spec;
  try {
    spec = probe::parse_probe_spec(job, opt.overrides);
  } catch (const config::JobError& e) {
    if (rank == 0) spdlog::error("{}", e.what());
    return kUsage;
  }
  const std::string out = opt.out.empty() ? "results/" + job.name + ".h5" : opt.out;

  int go = kDone;
  std::vector<ModelPlan> plans;
  if (rank == 0) {
    try {
      for (auto& m : probe::resolve_models(spec)) {
        ModelPlan p;
        p.model = std::move(m);
        plans.push_back(std::move(p));
      }
      bool have_file = false;
      if (fs::exists(out)) {
        if (!opt.resume && !opt.dry_run) {
          spdlog::error("{} already exists: add --resume to continue that run, or --out NEW.h5",
                        out);
          go = kUsage;
        } else {
          auto sweep = store::SweepFile::open_or_recover(out);
          auto before = config::parse_job(sweep.header().effective, out + ":/job_effective");
          const auto change = incompatible_probe_change(before, job);
          if (!change.empty()) {
            spdlog::error(
                "{} was written by a different job: {} (start a new --out, or run the "
                "original job)",
                out, change);
            go = kUsage;
          }
          have_file = true;
        }
      } else if (!opt.dry_run) {
        if (!fs::path(out).parent_path().empty())
          fs::create_directories(fs::path(out).parent_path());
        store::SweepHeader h;
        h.job_yaml = job.yaml_text;
        h.effective = job.effective;
        h.git_commit = DEPTHSCALE_GIT_COMMIT;
        h.version = DEPTHSCALE_VERSION;
        h.torch_version = std::to_string(TORCH_VERSION_MAJOR) + "." +
                          std::to_string(TORCH_VERSION_MINOR) + "." +
                          std::to_string(TORCH_VERSION_PATCH);
        store::SweepFile::create(out, h, false);
        have_file = true;
      }
      if (go == kDone) {
        for (auto& p : plans) {
          uint64_t first = 0;
          p.docs = probe::read_documents(spec, p.model, &first);
          p.first_doc = int64_t(first);
          p.documents = int64_t(p.docs.size());
          p.tokens = 0;
          for (const auto& d : p.docs) p.tokens += int64_t(d.size());
          p.batches = (p.documents + spec.batch - 1) / spec.batch;
          p.state.assign(size_t(p.batches), BatchState::Pending);
          if (have_file) load_states(out, p, spec.batch, opt.retry_failed, opt.dry_run);
          if (p.finalized) p.docs.clear();
        }
        if (opt.dry_run) {
          print_plan(plans, spec, size);
          go = -1;
        } else {
          int64_t todo = 0, tokens = 0;
          for (const auto& p : plans)
            if (!p.finalized) {
              todo += p.count(BatchState::Pending);
              tokens += p.tokens;
            }
          spdlog::info(
              "{}: {} model(s), {} batch(es) to run on {} rank(s) ({} tokens in the "
              "unfinished models); writing {}",
              job.name, plans.size(), todo, size, tokens, out);
        }
      }
    } catch (const config::JobError& e) {
      spdlog::error("{}", e.what());
      go = kUsage;
    } catch (const std::exception& e) {
      spdlog::error("{}", e.what());
      go = kError;
    }
  }
  MPI_Bcast(&go, 1, MPI_INT, 0, MPI_COMM_WORLD);
  if (go == -1) return kDone;
  if (go != kDone) return go;

  int code = kDone;
  try {
    const torch::Device device =
        setup_compute(spec.device == probe::ProbeDevice::Cuda, job.run.threads, "probe.device");
    if (rank == 0) {
      Coordinator c(job, spec, out, plans, size, device);
      code = c.run();
      if (code == kDone && c.finalized() > 0) {
        const auto [before, after] = [&] {
          CriticalSection cs;
          return store::ProbeFile(out).compact();
        }();
        spdlog::info("{}: compacted from {:.1f} MB to {:.1f} MB (the per-batch copies are gone)",
                     out, double(before) / 1e6, double(after) / 1e6);
      }
      spdlog::info("{}: {} batches completed and {} failed in this run; exit code {}", out,
                   c.completed(), c.failed(), code);
    } else {
      remote_worker(spec, rank, device);
    }
  } catch (const std::exception& e) {
    // The output is safe (sidecar first, status last); other ranks may wait on this one.
    spdlog::error("{}", e.what());
    MPI_Abort(MPI_COMM_WORLD, kError);
  }
  MPI_Bcast(&code, 1, MPI_INT, 0, MPI_COMM_WORLD);
  return code;
}

}  // namespace depthscale::farm
