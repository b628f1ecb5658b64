// The probe kind on the farm: planning and resume on rank 0, recording batches (sidecar file
// first, then the main file, status last) and finalising each model once its batches are in.
#include "farm/probe_sweep.hpp"

#include <sched.h>
#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <deque>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <thread>

#include "farm/kinds.hpp"
#include "farm/mpi.hpp"
#include "log/log.hpp"
#include "probe/cost.hpp"
#include "probe/model.hpp"
#include "probe/runner.hpp"
#include "probe/shards.hpp"
#include "store/probe_file.hpp"
#include "store/store.hpp"

namespace depthscale::farm {

using probe::BatchResult;
using probe::ProbeSpec;
using probe::ResolvedModel;

namespace {

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

// farm::pack of [model, batch, first_doc] as int64, then each document's uint32 tokens.
std::vector<char> encode(const Unit& u) {
  const int64_t head[3] = {u.model, u.batch, u.first_doc};
  std::vector<std::vector<char>> parts{std::vector<char>(sizeof head)};
  std::memcpy(parts[0].data(), head, sizeof head);
  for (const auto& d : u.docs) {
    parts.emplace_back(d.size() * 4);
    if (!d.empty()) std::memcpy(parts.back().data(), d.data(), d.size() * 4);
  }
  return farm::pack(parts);
}

Unit decode(const std::vector<char>& bytes) {
  const auto parts = farm::unpack(bytes);
  int64_t head[3];
  if (parts.empty() || parts[0].size() != sizeof head)
    throw std::runtime_error("a probe unit message without its header");
  std::memcpy(head, parts[0].data(), sizeof head);
  Unit u;
  u.model = int(head[0]);
  u.batch = head[1];
  u.first_doc = head[2];
  for (size_t i = 1; i < parts.size(); ++i) {
    if (parts[i].size() % 4) throw std::runtime_error("a probe unit message with a torn document");
    std::vector<uint32_t> d(parts[i].size() / 4);
    if (!d.empty()) std::memcpy(d.data(), parts[i].data(), parts[i].size());
    u.docs.push_back(std::move(d));
  }
  return u;
}

torch::Dtype probe_dtype(const std::string& name) {
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
          model_ = probe::CausalLM::load(m.path, probe_dtype(spec_.effective_dtype()), device_);
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

// Rewrites the file without the space of its unlinked batch groups (store::ProbeFile::compact);
// signals wait until the new file is in place.
std::pair<uintmax_t, uintmax_t> compact(const std::string& path) {
  CriticalSection cs;
  return store::ProbeFile(path).compact();
}

// ---- the plan -----------------------------------------------------------------------------------

// Elsewhere: a batch of another slice of a job array (run.slice), left to that slice's run.
enum class BatchState { Pending, Complete, Failed, Elsewhere };

struct ModelPlan {
  ResolvedModel model;
  bool finalized = false;
  bool docs_known = true;  // false in a dry run without the shards (model.shards_missing)
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

// ---- the probe kind on the farm -----------------------------------------------------------------
// A unit is one batch of one model (ticket id = model · 2^40 + batch), its payload the batch's
// token ids; a record is the batch's result as an HDF5 file image.

constexpr int64_t kModelStride = int64_t(1) << 40;

// Rank 0: hands out batches, records results (sidecar file first, then the main file with status
// last) and finalises each model once all its batches are in.
class ProbeSource : public farm::UnitSource {
 public:
  ProbeSource(const ProbeSpec& spec, std::string out, std::vector<ModelPlan>& plans)
      : spec_(spec), out_(std::move(out)), plans_(plans) {}

  // The pending batches in model order (so that each worker loads each model at most once), with
  // their tokens as cost and work.
  std::deque<farm::UnitTicket> tickets() const {
    std::deque<farm::UnitTicket> out;
    for (size_t m = 0; m < plans_.size(); ++m) {
      const auto& p = plans_[m];
      if (p.finalized) continue;
      for (int64_t b = 0; b < p.batches; ++b)
        if (p.state[size_t(b)] == BatchState::Pending) {
          const int64_t tokens = batch_tokens(m, b);
          out.push_back(farm::UnitTicket{int64_t(m) * kModelStride + b, double(tokens), tokens,
                                         p.model.spec.name + " batch " + std::to_string(b) + " (" +
                                             std::to_string(batch_documents(m, b)) +
                                             " documents, " + std::to_string(tokens) + " tokens)"});
        }
    }
    return out;
  }

  // Models whose batches were all complete before this run (a killed finalisation, a merge).
  void finalize_ready() {
    for (size_t m = 0; m < plans_.size(); ++m) maybe_finalize(int(m));
  }

  std::vector<char> payload(const farm::UnitTicket& t) override {
    const int m = int(t.id / kModelStride);
    const int64_t b = t.id % kModelStride;
    const auto& p = plans_[size_t(m)];
    Unit u;
    u.model = m;
    u.batch = b;
    u.first_doc = p.first_doc + b * spec_.batch;
    const int64_t end = std::min<int64_t>((b + 1) * spec_.batch, p.documents);
    for (int64_t d = b * spec_.batch; d < end; ++d) u.docs.push_back(p.docs[size_t(d)]);
    return encode(u);
  }

  void record(const farm::UnitTicket&, int, const std::vector<char>& bytes) override {
    record(store::probe_batch_from_image(bytes), &bytes);
  }

  // A runner that threw outside a batch (it catches a batch's own errors): record the failure.
  void ended(const farm::UnitTicket& t, int worker, bool stopped,
             const std::string& error) override {
    if (error.empty()) return;
    const int m = int(t.id / kModelStride);
    BatchResult r;
    r.model = plans_[size_t(m)].model.spec.name;
    r.batch = t.id % kModelStride;
    r.first_doc = plans_[size_t(m)].first_doc + r.batch * spec_.batch;
    r.documents = batch_documents(size_t(m), r.batch);
    r.tokens = t.work;
    r.per_token = spec_.store_per_token;
    r.error = error;
    r.rank = worker;
    record(r, nullptr);
  }

  int64_t completed() const { return completed_; }
  int64_t failed() const { return failed_; }
  int64_t finalized() const { return finalized_; }  // models finished in this run

 private:
  int64_t batch_documents(size_t m, int64_t b) const {
    return std::min<int64_t>(spec_.batch, plans_[m].documents - b * spec_.batch);
  }
  int64_t batch_tokens(size_t m, int64_t b) const {
    const auto& p = plans_[m];
    int64_t n = 0;
    for (int64_t d = b * spec_.batch; d < b * spec_.batch + batch_documents(m, b); ++d)
      n += int64_t(p.docs[size_t(d)].size());
    return n;
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
    (r.complete ? completed_ : failed_)++;
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
      auto summary = probe::summarize(mg.summary_states(p.batches, p.model.num_layers),
                                      int(p.model.num_layers), spec_.metrics);
      // The paper's early-stop statistic: a second pass over θ, now that the PCA is known.
      if (auto cluster = probe::early_stop_cluster(summary, spec_.early_stop_pc1)) {
        mg.visit_theta(p.batches, p.model.num_layers,
                       [&](const std::vector<float>& theta, const std::vector<int64_t>& pos) {
                         cluster->add(theta.data(), pos.data(), int64_t(pos.size()));
                       });
        probe::record_early_stop(summary, *cluster);
      }
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

  const ProbeSpec& spec_;
  std::string out_;
  std::vector<ModelPlan>& plans_;
  int64_t completed_ = 0, failed_ = 0, finalized_ = 0;
};

// Every rank: probes the batches it is given, keeping one model loaded at a time.
class ProbeRunner : public farm::UnitRunner {
 public:
  ProbeRunner(const ProbeSpec& spec, torch::Device device, int rank)
      : spec_(spec), worker_(spec, device, rank) {}

  farm::UnitOutcome run(const std::vector<char>& payload, farm::WorkerSession& s) override {
    const Unit u = decode(payload);
    auto r = worker_.run(u, [&] { return s.stop_requested(); });
    if (!r) {
      spdlog::info("{} batch {} abandoned (stop requested)", spec_.models[size_t(u.model)].name,
                   u.batch);
      return farm::UnitOutcome::Stopped;
    }
    s.record(store::to_image(*r));
    return farm::UnitOutcome::Finished;
  }

 private:
  const ProbeSpec& spec_;
  Worker worker_;
};

// Every model's documents and the state of its batches in `out` (and its sidecar).
void read_plans(const ProbeSpec& spec, const std::string& out, bool have_file, bool retry_failed,
                bool dry_run, std::vector<ModelPlan>& plans) {
  for (auto& p : plans) {
    stop_point();  // a model's shards can take a while to read (docs/commands.md, exit codes)
    if (!p.model.shards_missing.empty()) {
      // A dry run without the shards: the job's document count, if it gives one; the batches'
      // states in `out` cannot be checked against documents that cannot be read.
      p.docs_known = false;
      p.documents = spec.documents;
      p.batches = (p.documents + spec.batch - 1) / spec.batch;
      p.state.assign(size_t(p.batches), BatchState::Pending);
      continue;
    }
    uint64_t first = 0;
    if (dry_run && spec.check_tokenizer) {
      // A dry run reports a tokenizer the run would refuse, and still counts the documents.
      try {
        p.docs = probe::read_documents(spec, p.model, &first);
      } catch (const probe::ShardError& e) {
        p.model.tokenizer_missing = e.what();
        ProbeSpec trusting = spec;
        trusting.check_tokenizer = false;
        p.docs = probe::read_documents(trusting, p.model, &first);
      }
    } else {
      p.docs = probe::read_documents(spec, p.model, &first);
    }
    p.first_doc = int64_t(first);
    p.documents = int64_t(p.docs.size());
    p.tokens = 0;
    for (const auto& d : p.docs) p.tokens += int64_t(d.size());
    p.batches = (p.documents + spec.batch - 1) / spec.batch;
    p.state.assign(size_t(p.batches), BatchState::Pending);
    if (have_file) load_states(out, p, spec.batch, retry_failed, dry_run);
    if (p.finalized) p.docs.clear();
  }
}

std::vector<ModelPlan> resolve_plans(const ProbeSpec& spec, bool shards_optional = false) {
  std::vector<ModelPlan> plans;
  for (auto& m : probe::resolve_models(spec, shards_optional)) {
    ModelPlan p;
    p.model = std::move(m);
    plans.push_back(std::move(p));
  }
  return plans;
}

std::string plan_report(const std::vector<ModelPlan>& plans, const ProbeSpec& spec, int ranks) {
  std::string s =
      log::sprintf("%-20s %-9s %6s %8s %9s %7s %8s %10s %12s  %s\n", "model", "family", "layers",
                   "batches", "complete", "failed", "pending", "documents", "tokens", "path");
  int64_t pending = 0, elsewhere = 0;
  for (const auto& p : plans) {
    const int64_t todo = p.count(BatchState::Pending);
    pending += todo;
    elsewhere += p.count(BatchState::Elsewhere);
    s += log::sprintf(
        "%-20s %-9s %6lld %8lld %9lld %7lld %8lld %10s %12s  %s\n", p.model.spec.name.c_str(),
        p.model.family.c_str(), (long long)p.model.num_layers, (long long)p.batches,
        (long long)p.count(BatchState::Complete), (long long)p.count(BatchState::Failed),
        (long long)todo, p.documents > 0 ? std::to_string(p.documents).c_str() : "?",
        p.docs_known ? std::to_string(p.tokens).c_str() : "?", p.model.spec.path.c_str());
  }
  s += log::sprintf(
      "\n%lld batch(es) of %d document(s) to run on %d rank(s); dtype %s on %s; "
      "max_tokens %d; per-token arrays %s\n",
      (long long)pending, spec.batch, ranks, spec.effective_dtype().c_str(),
      config::to_string(spec.device), spec.max_tokens,
      spec.store_per_token ? "kept" : "not kept (summaries only)");
  if (elsewhere > 0)
    s += log::sprintf("(%lld pending batch(es) belong to the other slices of the job array)\n",
                      (long long)elsewhere);
  for (const auto& p : plans)
    if (!p.docs_known)
      s += log::sprintf("%s: %s; its documents and batch states are not read\n",
                        p.model.spec.name.c_str(), p.model.shards_missing.c_str());
  for (const auto& p : plans)
    if (!p.model.tokenizer_missing.empty())
      s += log::sprintf("%s: the run will refuse it: %s\n", p.model.spec.name.c_str(),
                        p.model.tokenizer_missing.c_str());
  return s;
}

// ---- the dry run's cost estimate (probe/cost.hpp) ---------------------------------------------

std::string human_count(double n) {
  if (n >= 1e9) return log::sprintf("%.2fB", n / 1e9);
  if (n >= 1e6) return log::sprintf("%.1fM", n / 1e6);
  if (n >= 1e3) return log::sprintf("%.1fk", n / 1e3);
  return log::sprintf("%.0f", n);
}

std::string human_time(double seconds) {
  if (!std::isfinite(seconds)) return "?";
  if (seconds < 120) return log::sprintf("%.1f s", seconds);
  if (seconds < 7200) return log::sprintf("%.1f min", seconds / 60);
  return log::sprintf("%.1f h", seconds / 3600);
}

// The *.safetensors files of a model folder, in bytes; -1 without any (config.json alone).
double checkpoint_bytes(const std::string& dir) {
  double n = 0;
  bool any = false;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec))
    if (e.is_regular_file(ec) && e.path().extension() == ".safetensors") {
      n += double(e.file_size(ec));
      any = true;
    }
  return any ? n : -1.0;
}

int64_t dtype_bytes(const std::string& dtype) {
  return dtype == "float32" ? 4 : 2;
}

// Per model: size, FLOPs of the batches still to run, peak memory of a worker, and the time at a
// matmul rate measured here on the job's device and dtype (one 0.3 s measurement per width).
std::string cost_report(const std::vector<ModelPlan>& plans, const ProbeSpec& spec,
                        const config::Job& job, int ranks) {
  probe::ProbeCostOptions options;
  options.dtype_bytes = dtype_bytes(spec.effective_dtype());
  options.store_per_token = spec.store_per_token;
  options.metrics = probe::metrics_options(spec);
  options.with_cross_entropy_readouts = spec.computes("cross_entropy");
  const bool cuda = spec.device == config::Device::Cuda;
  const torch::Device device = cuda ? torch::Device(torch::kCUDA, 0) : torch::Device(torch::kCPU);
  const int threads = threads_per_rank(job.run.threads, ranks);  // all ranks on one node
  const int previous_threads = at::get_num_threads();
  if (!cuda) at::set_num_threads(threads);
  std::map<int64_t, double> rates;  // FLOP/s by width; NaN when it cannot be measured
  std::string rate_error, rate_rows;
  auto rate_of = [&](int64_t d) {
    auto it = rates.find(d);
    if (it != rates.end()) return it->second;
    double r = std::nan("");
    try {
      int64_t rows = 0;
      r = probe::measure_matmul_rate(device, probe_dtype(spec.effective_dtype()), d, 0.3, &rows);
      rate_rows += (rate_rows.empty() ? "" : ", ") + log::sprintf("[%lld, %lld] x [%lld, %lld]",
                                                                  (long long)rows, (long long)d,
                                                                  (long long)d, (long long)d);
    } catch (const std::exception& e) {
      rate_error = e.what();
    }
    return rates[d] = r;
  };

  std::string s = log::sprintf(
      "\ncost of the batches to run (from config.json; probe/cost.hpp has the formulas):\n"
      "%-20s %-9s %6s %6s %8s %8s %10s %12s %-5s %9s %9s %9s %9s %9s %10s\n",
      "model", "family", "layers", "d", "params", "weightGB", "documents", "tokens", "count",
      "fwdTFLOP", "roTFLOP", "totTFLOP", "peakGiB", "GFLOP/s", "time");
  double total_seconds = 0, rank0_tokens = 0;
  std::string breakdown;
  bool any_unknown = false;
  for (const auto& p : plans) {
    const probe::ModelConfig c = probe::read_config(p.model.spec.path);
    const int64_t V = c.vocab_size;
    // Documents of every batch (for the memory of the largest) and of the pending ones (FLOPs).
    probe::ProbeWorkload all, todo;
    if (p.docs_known && !p.finalized) {
      std::vector<int64_t> every, pending;
      for (int64_t b = 0; b < p.batches; ++b)
        for (int64_t i = b * spec.batch; i < std::min<int64_t>((b + 1) * spec.batch, p.documents);
             ++i) {
          every.push_back(int64_t(p.docs[size_t(i)].size()));
          if (p.state[size_t(b)] == BatchState::Pending) pending.push_back(every.back());
        }
      all = probe::workload_of(every, spec.batch, V, options.metrics);
      todo = probe::workload_of(pending, spec.batch, V, options.metrics);
      rank0_tokens += double(all.tokens);
    } else if (!p.docs_known && p.documents > 0) {
      int64_t pending = 0;
      for (int64_t b = 0; b < p.batches; ++b)
        if (p.state[size_t(b)] == BatchState::Pending)
          pending += std::min<int64_t>(spec.batch, p.documents - b * spec.batch);
      all =
          probe::workload_upper_bound(p.documents, spec.max_tokens, spec.batch, V, options.metrics);
      todo = probe::workload_upper_bound(pending, spec.max_tokens, spec.batch, V, options.metrics);
      rank0_tokens += double(all.tokens);
    }
    const bool unknown = !p.docs_known && p.documents == 0;
    any_unknown |= unknown;
    // Unknown document count: the memory of one full batch of max_tokens documents all the same.
    if (unknown)
      all =
          probe::workload_upper_bound(spec.batch, spec.max_tokens, spec.batch, V, options.metrics);
    auto tflop = [&](double flops) {
      return unknown ? std::string("?") : log::sprintf("%.4g", flops / 1e12);
    };
    // The mapped checkpoint while loading (host memory; not the GPU's on cuda).
    options.checkpoint_bytes = cuda ? 0.0 : checkpoint_bytes(p.model.spec.path);
    const auto whole = probe::probe_cost(c, all, options);
    const auto cost = probe::probe_cost(c, todo, options);
    const double rate = todo.positions > 0 ? rate_of(c.hidden_size) : std::nan("");
    const double seconds = todo.positions > 0 ? cost.total_flops() / rate : 0.0;
    if (std::isfinite(seconds)) total_seconds += seconds;
    const char* count = unknown ? "?" : p.finalized ? "done" : p.docs_known ? "exact" : "bound";
    s += log::sprintf(
        "%-20s %-9s %6lld %6lld %8s %8.2f %10s %12s %-5s %9s %9s %9s %9s %9s %10s\n",
        p.model.spec.name.c_str(), p.model.family.c_str(), (long long)c.num_layers,
        (long long)c.hidden_size, human_count(double(cost.params)).c_str(), cost.weight_bytes / 1e9,
        unknown ? "?" : std::to_string(p.documents).c_str(),
        unknown ? "?" : std::to_string(p.finalized ? p.tokens : all.tokens).c_str(), count,
        tflop(cost.forward_flops).c_str(), tflop(cost.readout_flops).c_str(),
        tflop(cost.total_flops()).c_str(),
        all.positions > 0 ? log::sprintf("%.2f", whole.memory.peak / double(1 << 30)).c_str() : "-",
        std::isfinite(rate) ? log::sprintf("%.1f", rate / 1e9).c_str() : "-",
        unknown              ? "?"
        : todo.positions > 0 ? human_time(seconds).c_str()
                             : "-");
    if (all.positions > 0) {
      const auto& m = whole.memory;
      breakdown += log::sprintf(
          "  %s: %.2f GiB = process %.2f + weights %.2f + max(checkpoint mapped while loading "
          "%.2f, hidden states %.2f + max(one block %.2f, metrics %.2f) + results %.2f) GB, at "
          "batch %lld x %lld tokens\n",
          p.model.spec.name.c_str(), m.peak / double(1 << 30), m.process / 1e9, m.weights / 1e9,
          m.checkpoint / 1e9, m.hidden / 1e9, m.forward_block / 1e9, m.metrics / 1e9,
          m.results / 1e9, (long long)all.batch, (long long)all.longest);
    }
  }
  if (!cuda) at::set_num_threads(previous_threads);
  s += log::sprintf(
      "count: exact = the shards' documents (padding to each batch's longest counted); bound = "
      "documents x max_tokens %d (shards absent)%s\n",
      spec.max_tokens,
      any_unknown ? "; ? = probe.documents is 0 (all) and the shards are absent" : "");
  s += log::sprintf(
      "FLOPs: forward 2·(matmul weights)·positions + causal attention + the own head on the sites; "
      "readouts (cross_entropy columns l < L-1) re-apply the last block, final norm and head at "
      "every layer\n");
  if (!rates.empty() && rate_error.empty())
    s += log::sprintf(
        "time = FLOPs / the matmul rate measured here (GFLOP/s: 0.3 s of at::mm %s in %s on %s, "
        "%d thread(s) per rank as the run sets them: run.threads, or the cores / ranks): %s on one "
        "worker, about %s on %d rank(s)\n",
        rate_rows.c_str(), spec.effective_dtype().c_str(), config::to_string(spec.device), threads,
        human_time(total_seconds).c_str(), human_time(total_seconds / std::max(ranks, 1)).c_str(),
        ranks);
  else if (!rate_error.empty())
    s += "time: not estimated (" + rate_error + ")\n";
  s += log::sprintf(
      "peak memory per worker (GiB; one block = attention in query-row blocks and the MLP in token "
      "blocks; %s; rank 0 also holds %.2f GB of token ids):\n",
      cuda ? "on cuda the device's, the checkpoint's pages being host memory" : "resident set",
      probe::rank0_extra_bytes(int64_t(rank0_tokens)) / 1e9);
  s += breakdown;
  return s;
}

}  // namespace

void check_probe_threads(const std::string& out, int threads) {
  constexpr const char* kAttr = "probe_threads";
  auto f = store::File::open(out, store::Mode::ReadWrite);
  auto root = f.root();
  if (root.has_attr(kAttr)) {
    const int64_t before = root.attr_int(kAttr);
    if (before != threads)
      throw InputError(
          out + ": its probe batches were computed with " + std::to_string(before) +
          " intra-op thread(s) per rank, this run would use " + std::to_string(threads) +
          " (run.threads, or 0: the cores / ranks per node, which follows -np): the reductions' "
          "rounding follows the thread count, so one file keeps one; resume with --set "
          "run.threads=" +
          std::to_string(before));
    return;
  }
  CriticalSection cs;
  root.set_attr(kAttr, int64_t(threads));
  f.close();
}

namespace {

// The probe kind: every model probes the same documents, batch by batch.
class ProbeSweep : public SweepKind {
 public:
  ProbeSweep(const config::Job& job, std::string out, const RunOptions& opt)
      : job_(job), out_(std::move(out)), spec_(job.probe), dry_run_(opt.dry_run) {}

  // A dry run needs only each model's config.json: absent shards are reported, not an error.
  void check_inputs() override { plans_ = resolve_plans(spec_, dry_run_); }

  void plan(store::SweepFile* file, const RunOptions& opt, int) override {
    read_plans(spec_, out_, file != nullptr, opt.retry_failed, opt.dry_run, plans_);
    // Job-array shape: every n-th batch of the job (counted across the models in order) is this
    // slice's; `depthscale merge` joins the slices and finalises the models.
    if (job_.run.slice_count > 1) {
      int64_t g = 0;
      for (auto& p : plans_)
        for (auto& st : p.state)
          if (g++ % job_.run.slice_count != job_.run.slice_index && st == BatchState::Pending)
            st = BatchState::Elsewhere;
    }
  }

  std::string dry_run_report(int ranks) const override {
    return plan_report(plans_, spec_, ranks) + cost_report(plans_, spec_, job_, ranks);
  }

  std::string summary(int ranks) const override {
    int64_t todo = 0, tokens = 0;
    for (const auto& p : plans_)
      if (!p.finalized) {
        todo += p.count(BatchState::Pending);
        tokens += p.tokens;
      }
    return job_.name + ": " + std::to_string(plans_.size()) + " model(s), " + std::to_string(todo) +
           " batch(es) to run on " + std::to_string(ranks) + " rank(s) (" + std::to_string(tokens) +
           " tokens in the unfinished models); writing " + out_;
  }

  std::deque<UnitTicket> tickets() override { return source_impl().tickets(); }
  UnitSource& source() override { return source_impl(); }

  RunOutcome finish(const FarmReport& report) override {
    // A slice of a job array ends with its own batches; its models are finalised by merge.
    bool any_failed = false;
    for (const auto& p : plans_) any_failed |= !p.finalized && p.count(BatchState::Failed) > 0;
    const auto outcome = report.interrupted() ? RunOutcome::Stopped
                         : any_failed         ? RunOutcome::SomeFailed
                                              : RunOutcome::Done;
    if (outcome == RunOutcome::Done && source_->finalized() > 0) {
      const auto [before, after] = compact(out_);
      spdlog::info("{}: compacted from {:.1f} MB to {:.1f} MB (the per-batch copies are gone)",
                   out_, double(before) / 1e6, double(after) / 1e6);
    }
    spdlog::info("{}: {} batches completed and {} failed in this run", out_, source_->completed(),
                 source_->failed());
    return outcome;
  }

  bool cuda() const override { return spec_.device == config::Device::Cuda; }
  std::string device_key() const override { return "probe.device"; }
  std::unique_ptr<UnitRunner> runner(torch::Device device, int rank) override {
    return std::make_unique<ProbeRunner>(spec_, device, rank);
  }
  void configure(CoordinatorOptions& o) const override {
    o.name = "probe " + job_.name;
    o.work_unit = "tokens";
    o.largest_first = false;  // model order: each worker loads each model at most once
    o.safety = 1.25;          // a batch's time varies with its documents' lengths
  }

 private:
  ProbeSource& source_impl() {
    if (!source_) {
      source_ = std::make_unique<ProbeSource>(spec_, out_, plans_);
      source_->finalize_ready();  // models whose batches were all in before this run
    }
    return *source_;
  }

  const config::Job& job_;
  std::string out_;
  ProbeSpec spec_;
  bool dry_run_ = false;
  std::vector<ModelPlan> plans_;
  std::unique_ptr<ProbeSource> source_;
};

}  // namespace

int64_t finalize_probe_file(const config::Job& job, const std::string& out) {
  const ProbeSpec& spec = job.probe;
  std::vector<ModelPlan> plans = resolve_plans(spec);
  read_plans(spec, out, true, false, false, plans);
  ProbeSource source(spec, out, plans);
  source.finalize_ready();
  if (source.finalized() > 0) compact(out);
  return source.finalized();
}

std::unique_ptr<SweepKind> make_probe_sweep(const config::Job& job, const std::string& out,
                                            const RunOptions& options) {
  return std::make_unique<ProbeSweep>(job, out, options);
}

}  // namespace depthscale::farm
