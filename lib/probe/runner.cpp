// The probe runner without MPI: documents, one batch, its HDF5 form.
#include "probe/runner.hpp"

#include <glob.h>

#include <algorithm>
#include <filesystem>
#include <limits>

#include "probe/metrics.hpp"
#include "probe/model.hpp"
#include "probe/shards.hpp"
#include "probe/tokenizer.hpp"

namespace depthscale::probe {

namespace fs = std::filesystem;
using config::JobError;

std::string hidden_convention(config::LastHidden last) {
  const std::string common =
      "hidden[0] = embedding output; hidden[l] = output of block l-1 (l < L); hidden[L] = ";
  return last == config::LastHidden::FinalNorm
             ? common +
                   "final_norm(output of the last block), as Hugging Face's hidden_states and the "
                   "study's scripts"
             : common +
                   "output of the last block BEFORE the final norm (Hugging Face's last "
                   "hidden_states entry is final_norm of it)";
}

MetricsOptions metrics_options(const ProbeSpec& spec) {
  MetricsOptions o;
  o.last_hidden_after_final_norm = spec.last_hidden == config::LastHidden::FinalNorm;
  o.cross_entropy = spec.computes("cross_entropy");
  o.bf16_angles = spec.angles == config::AnglePrecision::BFloat16;
  return o;
}

std::vector<std::string> expand_shards(const std::vector<std::string>& patterns,
                                       const std::string& where) {
  std::vector<std::string> out;
  for (const auto& pattern : patterns) {
    glob_t g{};
    // Unreadable folders count as holding no match; the message names the pattern either way.
    const int rc = ::glob(pattern.c_str(), 0, nullptr, &g);
    std::vector<std::string> found;
    if (rc == 0)
      for (size_t i = 0; i < g.gl_pathc; ++i)
        if (fs::is_regular_file(g.gl_pathv[i])) found.emplace_back(g.gl_pathv[i]);
    globfree(&g);
    if (found.empty())
      throw JobError(where + ": " +
                     (pattern.find_first_of("*?[") == std::string::npos
                          ? pattern + " does not exist"
                          : "no file matches " + pattern));
    out.insert(out.end(), found.begin(), found.end());
  }
  return out;
}

std::vector<ResolvedModel> resolve_models(const ProbeSpec& spec, bool shards_optional) {
  std::vector<ResolvedModel> out;
  for (const auto& m : spec.models) {
    ResolvedModel r;
    r.spec = m;
    std::error_code ec;
    if (!fs::is_directory(m.path, ec))
      throw JobError(m.path_where + ": " + m.path +
                     (fs::exists(m.path, ec) ? " is not a folder" : " does not exist") +
                     " (point it at your copy of the model: a Hugging Face model folder with "
                     "config.json and *.safetensors or pytorch_model*.bin)");
    if (!fs::exists(fs::path(m.path) / "config.json", ec))
      throw JobError(m.path_where + ": " + m.path +
                     " has no config.json (expected a Hugging Face model folder)");
    const ModelConfig c = read_config(m.path);
    r.family = family_name(c.family);
    r.num_layers = c.num_layers;
    r.hidden_size = c.hidden_size;
    r.vocab_size = c.vocab_size;
    // tokenizer.json, else vocab.json + merges.txt (OPT, GPT-2): the hash `tokenize` records.
    if (spec.check_tokenizer) {
      const auto hash = tokenizer_hash_of_model_dir(m.path);
      const std::string missing =
          m.path +
          " has no tokenizer (tokenizer.json, or vocab.json + merges.txt), so the shards "
          "cannot be shown to be tokenized with the model's tokenizer: copy the model's "
          "tokenizer files into the folder, or set probe.check_tokenizer: false if you "
          "know the shards are right";
      if (hash)
        r.tokenizer_hash = *hash;
      else if (shards_optional)  // a dry run: say it, the run itself refuses
        r.tokenizer_missing = missing;
      else
        throw JobError(m.path_where + ": " + missing);
    }
    try {
      r.shard_paths = m.shards.empty() ? expand_shards(spec.shards, spec.shards_where)
                                       : expand_shards(m.shards, m.shards_where);
    } catch (const JobError& e) {
      if (!shards_optional) throw;
      r.shards_missing = e.what();
    }
    out.push_back(std::move(r));
  }
  return out;
}

std::vector<std::vector<uint32_t>> read_documents(const ProbeSpec& spec, const ResolvedModel& m,
                                                  uint64_t* first_index) {
  ShardReadOptions options;
  options.separator = spec.separator;
  options.keep_separator = spec.keep_separator;
  DocumentStream stream(m.shard_paths, options);
  // Checked shard by shard as the stream opens them: only the shards the documents need are read.
  stream.require(uint32_t(m.vocab_size), m.tokenizer_hash, spec.check_tokenizer);
  std::vector<std::vector<uint32_t>> docs;
  Document d;
  while ((spec.documents == 0 || int64_t(docs.size()) < spec.documents) && stream.next(d)) {
    if (docs.empty() && first_index) *first_index = d.index;
    if (d.tokens.size() > size_t(spec.max_tokens)) d.tokens.resize(size_t(spec.max_tokens));
    docs.push_back(std::move(d.tokens));
  }
  if (spec.documents > 0 && int64_t(docs.size()) < spec.documents)
    throw JobError((m.spec.shards.empty() ? spec.shards_where : m.spec.shards_where) +
                   ": the shards hold " + std::to_string(docs.size()) +
                   " documents, but probe.documents asks for " + std::to_string(spec.documents));
  if (docs.empty())
    throw JobError((m.spec.shards.empty() ? spec.shards_where : m.spec.shards_where) +
                   ": the shards hold no documents");
  return docs;
}

// ---- one batch ----------------------------------------------------------------------------------

namespace {

template <class T>
std::vector<T> to_vector(const torch::Tensor& t) {
  auto c = t.contiguous();
  return std::vector<T>(c.data_ptr<T>(), c.data_ptr<T>() + c.numel());
}

}  // namespace

std::optional<BatchResult> run_batch(const CausalLM& model, const ProbeSpec& spec,
                                     const std::string& model_name, int64_t batch,
                                     int64_t first_doc,
                                     const std::vector<std::vector<uint32_t>>& documents,
                                     const std::function<bool()>& stop) {
  const auto began = std::chrono::steady_clock::now();
  torch::NoGradGuard no_grad;
  const int64_t B = int64_t(documents.size());
  int64_t T = 1, tokens = 0;
  for (const auto& d : documents) {
    T = std::max<int64_t>(T, int64_t(d.size()));
    tokens += int64_t(d.size());
  }
  // Right padding (model.hpp); the padded slots' ids are never attended to.
  auto ids = torch::zeros({B, T}, torch::kInt64);
  auto mask = torch::zeros({B, T}, torch::kInt64);
  auto ip = ids.accessor<int64_t, 2>();
  auto mp = mask.accessor<int64_t, 2>();
  for (int64_t b = 0; b < B; ++b)
    for (size_t t = 0; t < documents[b].size(); ++t) {
      ip[b][int64_t(t)] = documents[b][t];
      mp[b][int64_t(t)] = 1;
    }
  if (stop && stop()) return std::nullopt;
  ids = ids.to(model.device());
  mask = mask.to(model.device());
  auto out = model.forward(ids, mask, /*with_logits=*/false);
  if (stop && stop()) return std::nullopt;
  SiteMetrics m = compute_site_metrics(model, out.hidden, ids, mask, metrics_options(spec));
  out.hidden.clear();
  Summary summary(model.num_layers());
  summary.add(m);

  BatchResult r;
  r.model = model_name;
  r.batch = batch;
  r.first_doc = first_doc;
  r.documents = B;
  r.tokens = tokens;
  r.sites = m.size();
  r.layers = model.num_layers();
  r.complete = true;
  r.per_token = spec.store_per_token;
  // θ and the positions always travel: the paper's early-stop statistic reads them again once
  // the model's PCA is known (batch.hpp).
  r.theta = to_vector<float>(m.theta);
  r.position = to_vector<int64_t>(m.position);
  if (r.per_token) {
    const std::pair<Metric, std::vector<float>*> fields[] = {
        {Metric::norms, &r.norms},
        {Metric::theta, nullptr},
        {Metric::theta_dh, &r.theta_dh},
        {Metric::angle_to_end, &r.angle_to_end},
        {Metric::cross_entropy, &r.cross_entropy},
        {Metric::proj_s, &r.proj_s}};
    for (const auto& [metric, dst] : fields) {
      if (!spec.computes(metric_name(metric))) continue;
      if (dst) *dst = to_vector<float>(m.of(metric));
      r.arrays.push_back(metric_name(metric));
    }
    r.token = to_vector<int64_t>(m.token);
    r.doc = to_vector<int64_t>(m.doc + first_doc);
    r.arrays.insert(r.arrays.end(), {"token", "doc", "position"});
  } else {
    r.arrays = {"theta", "position"};
  }
  r.state = summary.state();
  r.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
  return r;
}

// ---- finalising a model ------------------------------------------------------------------------

namespace {

constexpr Metric kMetricOrder[] = {Metric::norms,        Metric::theta,         Metric::theta_dh,
                                   Metric::angle_to_end, Metric::cross_entropy, Metric::proj_s};

std::string hex(uint64_t v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "0x%016llx", static_cast<unsigned long long>(v));
  return buf;
}

std::string joined(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : "\n") + s;
  return out;
}

}  // namespace

ModelAttrs model_attrs(const ResolvedModel& model, const ProbeSpec& spec, const ModelRun& run) {
  ModelAttrs a;
  a.model_path = model.spec.path;
  a.family = model.family;
  a.num_layers = model.num_layers;
  a.hidden_size = model.hidden_size;
  a.vocab_size = model.vocab_size;
  a.dtype = spec.effective_dtype();
  a.device = config::to_string(spec.device);
  a.hidden_convention = hidden_convention(spec.last_hidden);
  a.last_hidden = config::to_string(spec.last_hidden);
  a.metrics = spec.metrics;
  a.angles = config::to_string(spec.angles);
  a.tokenizer_hash = hex(model.tokenizer_hash);
  a.shards = joined(model.shard_paths);
  a.first_doc = run.first_doc;
  a.documents = run.documents;
  a.max_tokens = spec.max_tokens;
  a.batch = spec.batch;
  a.batches = run.batches;
  a.store_per_token = spec.store_per_token;
  return a;
}

ModelSummary summarize(const std::vector<std::vector<int64_t>>& states, int num_layers,
                       const std::vector<std::string>& metrics) {
  const int L = num_layers;
  Summary total(L);
  for (const auto& state : states) total.merge(Summary::from_state(state));
  ModelSummary s;
  s.sites = total.count();
  for (auto m : kMetricOrder)
    if (std::find(metrics.begin(), metrics.end(), metric_name(m)) != metrics.end())
      s.means.emplace_back(metric_name(m), total.mean(m));
  s.theta_middle_mean = total.theta_middle_mean();
  s.reference_early_stop_fraction = total.reference_early_stop_fraction();
  s.reference_early_stop_count = total.reference_early_stop_count();
  s.early_stop_fraction = std::numeric_limits<double>::quiet_NaN();
  s.early_stop_reference = early_stop_reference(L);
  s.even_reference = even_reference(L);
  if (total.count() >= 2) {
    const Pca p = total.pca();
    s.has_pca = true;
    for (const auto& row : p.components)
      s.components.insert(s.components.end(), row.begin(), row.end());
    s.explained = p.explained_ratio;
    s.explained_variance = p.explained_variance;
    s.mean = p.mean;
  }
  return s;
}

std::optional<EarlyStopCluster> early_stop_cluster(const ModelSummary& s, double threshold) {
  if (!s.has_pca) return std::nullopt;
  Pca p;
  p.mean = s.mean;
  const size_t L = s.mean.size();
  p.components.emplace_back(s.components.begin(), s.components.begin() + std::ptrdiff_t(L));
  return EarlyStopCluster(p, threshold);
}

void record_early_stop(ModelSummary& s, const EarlyStopCluster& cluster) {
  const auto& c = cluster.counts();
  if (c.sites != s.sites)
    throw MetricsError("the early-stop pass saw " + std::to_string(c.sites) +
                       " sites, the summary " + std::to_string(s.sites));
  s.early_stop_threshold = cluster.threshold();
  s.early_stop_fraction = c.fraction();
  s.early_stop_count = c.members;
  s.first_position_sites = c.first_position;
  s.early_stop_first_position = c.members_first;
}

}  // namespace depthscale::probe
