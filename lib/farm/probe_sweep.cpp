// The probe sweep across MPI ranks: planning and resume on rank 0, the coordinator/worker
// protocol, recording batches (sidecar file first, then the main file, status last) and
// finalising each model once its batches are in.
#include "farm/probe_sweep.hpp"

#include <fcntl.h>
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
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "farm/ranks.hpp"
#include "log/log.hpp"
#include "probe/model.hpp"
#include "probe/runner.hpp"
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

void fsync_file(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

// Opens the output file, runs `body` on /probe/<model>, flushes, closes, syncs: between writes the
// file is closed, so readers can open it and a kill finds nothing half-open.
template <class F>
void with_model_group(const std::string& path, const std::string& model, F&& body) {
  CriticalSection cs;
  auto f = store::File::open(path, store::Mode::ReadWrite);
  {
    auto root = f.root();
    auto mg = root.require_group("probe").require_group(model);
    body(mg);
  }
  f.flush();
  f.close();
  fsync_file(path);
}

std::string sidecar_dir(const std::string& out, const std::string& model) {
  return out + ".ckpt/probe/" + model;
}
std::string sidecar_file(const std::string& out, const std::string& model, int64_t batch) {
  return sidecar_dir(out, model) + "/" + probe::batch_key(batch) + ".h5";
}

std::vector<char> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw store::StoreError(path + ": cannot open");
  return std::vector<char>((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// Batch files of the sidecar (temporaries of a killed writer are removed when their process is
// gone).
std::map<int64_t, std::string> sidecar_batches(const std::string& dir) {
  std::map<int64_t, std::string> out;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return out;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    const auto tmp = name.rfind(".tmp.");
    if (tmp != std::string::npos) {
      const long pid = std::strtol(name.c_str() + tmp + 5, nullptr, 10);
      if (pid > 0 && pid != getpid() && ::kill(pid_t(pid), 0) != 0 && errno == ESRCH)
        fs::remove(e.path(), ec);
      continue;
    }
    if (name.size() == 9 && name.compare(6, 3, ".h5") == 0 &&
        std::all_of(name.begin(), name.begin() + 6, ::isdigit))
      out[std::stoll(name.substr(0, 6))] = e.path().string();
  }
  return out;
}

// Rewrites the file without the space of its unlinked batch groups, which HDF5 does not give back:
// the root's attributes and children are copied into a temporary file, synced, and renamed over
// the original, so a kill leaves one whole file or the other (store's recovery removes a stale
// temporary). Returns the sizes before and after.
std::pair<uintmax_t, uintmax_t> compact(const std::string& path) {
  CriticalSection cs;
  const uintmax_t before = fs::file_size(path);
  const std::string tmp = path + ".compact.tmp." + std::to_string(getpid());
  {
    auto src = store::File::open(path, store::Mode::ReadOnly);
    auto dst = store::File::create(tmp);
    {
      const auto from = src.root();
      auto to = dst.root();
      for (const auto& name : from.attr_names()) {
        if (from.attr_is_string(name)) {
          to.set_attr(name, from.attr_string(name));
          continue;
        }
        store::Handle a(H5Aopen(from.id(), name.c_str(), H5P_DEFAULT));
        store::Handle t(a.valid() ? H5Aget_type(a.id()) : H5I_INVALID_HID);
        const H5T_class_t c = t.valid() ? H5Tget_class(t.id()) : H5T_NO_CLASS;
        if (c == H5T_INTEGER)
          to.set_attr(name, from.attr_int(name));
        else if (c == H5T_FLOAT)
          to.set_attr(name, from.attr_double(name));
        else
          throw store::StoreError(path + ": cannot compact: root attribute " + name +
                                  " is neither text nor a number");
      }
      for (const auto& child : from.children())
        if (H5Ocopy(from.id(), child.c_str(), to.id(), child.c_str(), H5P_DEFAULT, H5P_DEFAULT) < 0)
          throw store::StoreError(path + ": cannot compact: copying /" + child + " failed");
    }
    dst.flush();
    dst.close();
  }
  fsync_file(tmp);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    std::error_code ec;
    fs::remove(tmp, ec);
    throw store::StoreError(path + ": cannot rename the compacted copy (" + std::strerror(err) +
                            ")");
  }
  const std::string dir = fs::path(path).parent_path().string();
  fsync_file(dir.empty() ? "." : dir);
  return {before, fs::file_size(path)};
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
  {
    auto f = store::File::open(out, store::Mode::ReadOnly);
    auto root = f.root();
    if (root.has("probe") && root.open_group("probe").has(name)) {
      auto mg = root.open_group("probe").open_group(name);
      if (mg.has_attr("status") && mg.attr_string("status") == "complete") {
        p.finalized = true;
        p.documents = mg.attr_int("documents");
        p.tokens = mg.attr_int("tokens");
        p.batches = mg.attr_int("batches");
        p.state.assign(size_t(p.batches), BatchState::Complete);
        return;
      }
      if (mg.has("batches")) {
        auto bg = mg.open_group("batches");
        for (const auto& key : bg.children()) {
          auto g = bg.open_group(key);
          if (!g.has_attr("status")) continue;  // a copy a kill interrupted
          const int64_t b = g.attr_int("batch");
          check_batch(p, b, g.attr_int("first_doc"), g.attr_int("documents"), batch, g.path());
          in_file[b] = g.attr_string("status");
        }
      }
    }
  }
  // Sidecar results the file lacks, one batch in memory at a time.
  std::map<int64_t, std::string> to_copy;
  for (const auto& [b, path] : sidecar_batches(sidecar_dir(out, name)))
    if (!in_file.count(b)) to_copy[b] = path;
  auto copy_in = [&](store::Group* batches) {
    for (const auto& entry : to_copy) {
      const std::string& path = entry.second;
      BatchResult r;
      try {
        r = probe::batch_from_image(read_bytes(path));
      } catch (const store::StoreError& e) {
        spdlog::warn("{}: unreadable, the batch will be redone ({})", path, e.what());
        continue;
      }
      check_batch(p, r.batch, r.first_doc, r.documents, batch, path);
      if (batches) probe::write_batch(*batches, r);
      in_file[r.batch] = r.complete ? "complete" : "failed";
    }
  };
  if (dry_run) {
    copy_in(nullptr);
  } else if (!to_copy.empty()) {
    with_model_group(out, name, [&](store::Group& mg) {
      auto bg = mg.require_group("batches");
      copy_in(&bg);
    });
    spdlog::info("{}: copied {} {} batch results from {} that the last run did not finish writing",
                 out, to_copy.size(), name, sidecar_dir(out, name));
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
    with_model_group(out, name, [&](store::Group& mg) {
      auto bg = mg.require_group("batches");
      for (int64_t b : forget)
        if (bg.has(probe::batch_key(b))) bg.remove(probe::batch_key(b));
    });
    std::error_code ec;
    for (int64_t b : forget) fs::remove(sidecar_file(out, name, b), ec);
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
        record(probe::batch_from_image(bytes), &bytes);
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
      fs::create_directories(sidecar_dir(out_, r.model));
      store::write_file_atomically(sidecar_file(out_, r.model, r.batch),
                                   image ? *image : probe::to_image(r));
    }
    with_model_group(out_, r.model, [&](store::Group& mg) {
      auto bg = mg.require_group("batches");
      probe::write_batch(bg, r);
    });
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
    with_model_group(out_, p.model.spec.name, [&](store::Group& mg) {
      sites = probe::finalize_model(mg, p.model, spec_,
                                    probe::ModelRun{p.documents, p.first_doc, p.batches});
    });
    p.finalized = true;
    ++finalized_;
    p.docs.clear();
    p.docs.shrink_to_fit();
    // The main file now holds the model whole and flushed: its batch files are redundant.
    std::error_code ec;
    fs::remove_all(sidecar_dir(out_, p.model.spec.name), ec);
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
    send(0, kResult, probe::to_image(*r));
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
      config::to_string(spec.device), spec.max_tokens,
      spec.store_per_token ? "kept" : "not kept (summaries only)");
}

}  // namespace

int run_probe_sweep(const RunOptions& opt, const config::Job& job) {
  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);

  // config::parse_job validated the probe: settings on every rank.
  const ProbeSpec& spec = job.probe;
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
          const auto change = config::incompatible_change(before, job);
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
        setup_compute(spec.device == config::Device::Cuda, job.run.threads, "probe.device");
    if (rank == 0) {
      Coordinator c(job, spec, out, plans, size, device);
      code = c.run();
      if (code == kDone && c.finalized() > 0) {
        const auto [before, after] = compact(out);
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
