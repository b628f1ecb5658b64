// The probe runner without MPI: the `probe:` schema, documents, one batch, its HDF5 form.
#include "probe/runner.hpp"

#include <glob.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <map>
#include <set>

#include "probe/metrics.hpp"
#include "probe/model.hpp"
#include "probe/shards.hpp"
#include "probe/tokenizer.hpp"

namespace depthscale::probe {

namespace fs = std::filesystem;
using config::JobError;

const char* const kHiddenConvention =
    "hidden[0] = embedding output; hidden[l] = output of block l-1; hidden[L] = output of the "
    "last block BEFORE the final norm (Hugging Face's last hidden_states entry is "
    "final_norm(hidden[L]))";

std::string ProbeSpec::effective_dtype() const {
  if (!dtype.empty()) return dtype;
  return device == ProbeDevice::Cuda ? "bfloat16" : "float32";
}

namespace {

// ---- the probe: schema ------------------------------------------------------------------------

const std::vector<std::string> kProbeKeys = {
    "models", "shards",          "documents",       "max_tokens", "batch",         "dtype",
    "device", "store_per_token", "check_tokenizer", "separator",  "keep_separator"};
const std::vector<std::string> kModelKeys = {"name", "path", "shards"};

size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (size_t i = 1; i <= a.size(); ++i)
    for (size_t j = 1; j <= b.size(); ++j) {
      d[i][j] = std::min(
          {d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  return d[a.size()][b.size()];
}

std::string describe(const YAML::Node& n) {
  if (!n.IsDefined() || n.IsNull()) return "null";
  if (n.IsSequence()) return "a list";
  if (n.IsMap()) return "a mapping";
  return "'" + n.Scalar() + "'";
}

std::string parent_of(const std::string& path) {
  const auto cut = path.find_last_of(".[");
  return cut == std::string::npos ? std::string() : path.substr(0, cut);
}

// Validation of the probe: values (from job.probe_yaml, overrides applied) with the lines of the
// job file (re-read with marks, since probe_yaml is a re-dump without them).
class ProbeReader {
 public:
  ProbeReader(const config::Job& job, const std::vector<std::string>& overrides)
      : source_(job.source_path.empty() ? "<job>" : job.source_path) {
    for (const auto& o : overrides) {
      std::string key = o.substr(0, o.find('='));
      key.erase(0, key.find_first_not_of(" \t"));
      key.erase(key.find_last_not_of(" \t") + 1);
      overridden_.push_back(key);
    }
    try {
      const YAML::Node root = YAML::Load(job.yaml_text);
      if (root.IsMap())
        for (const auto& kv : root)
          if (kv.first.IsScalar() && kv.first.Scalar() == "probe")
            collect(kv.second, "probe", kv.first.Mark());
    } catch (const YAML::Exception&) {
      // config already accepted the text; without marks, messages just lack a line.
    }
  }

  [[noreturn]] void fail(const std::string& path, const std::string& msg) const {
    throw JobError(where(path) + ": " + path + ": " + msg);
  }

  // "file:line" of a dotted key: its own line, else its nearest written ancestor's.
  std::string where(const std::string& path) const {
    for (const auto& o : overridden_)
      if (path == o || (path.size() > o.size() && path.compare(0, o.size(), o) == 0 &&
                        (path[o.size()] == '.' || path[o.size()] == '[')))
        return source_ + ":(--set)";
    for (std::string p = path; !p.empty(); p = parent_of(p)) {
      auto it = lines_.find(p);
      if (it != lines_.end()) return source_ + ":" + std::to_string(it->second);
    }
    return source_;
  }

  const std::string& scalar(const YAML::Node& n, const std::string& path, const char* what) const {
    if (!n.IsDefined() || !n.IsScalar())
      fail(path, std::string("must be ") + what + " (got " + describe(n) + ")");
    return n.Scalar();
  }

  int64_t integer(const YAML::Node& n, const std::string& path, int64_t lo, int64_t hi) const {
    const std::string& s = scalar(n, path, "an integer");
    const char* b = s.data();
    const char* e = b + s.size();
    if (b != e && *b == '+') ++b;
    int64_t v = 0;
    auto r = std::from_chars(b, e, v);
    if (r.ec != std::errc() || r.ptr != e || b == e)
      fail(path, "must be an integer (got " + describe(n) + ")");
    if (v < lo) fail(path, "must be >= " + std::to_string(lo) + " (got " + s + ")");
    if (v > hi) fail(path, "must be <= " + std::to_string(hi) + " (got " + s + ")");
    return v;
  }

  bool boolean(const YAML::Node& n, const std::string& path) const {
    scalar(n, path, "true or false");
    bool v = false;
    if (!YAML::convert<bool>::decode(n, v))
      fail(path, "must be true or false (got " + describe(n) + ")");
    return v;
  }

  std::string choice(const YAML::Node& n, const std::string& path,
                     const std::vector<std::string>& allowed) const {
    std::string list;
    for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
    const std::string& s = scalar(n, path, ("one of: " + list).c_str());
    if (std::find(allowed.begin(), allowed.end(), s) == allowed.end())
      fail(path, "unknown value '" + s + "' (allowed: " + list + ")");
    return s;
  }

  // The mapping's entries by key, after checking for unknown and duplicate keys.
  std::map<std::string, YAML::Node> mapping(const YAML::Node& n, const std::string& path,
                                            const std::vector<std::string>& known) const {
    if (!n.IsMap()) fail(path, "must be a mapping (got " + describe(n) + ")");
    std::map<std::string, YAML::Node> out;
    for (const auto& kv : n) {
      if (!kv.first.IsScalar())
        fail(path, "keys must be plain names (got " + describe(kv.first) + ")");
      const std::string key = kv.first.Scalar();
      const std::string at = path + "." + key;
      if (std::find(known.begin(), known.end(), key) == known.end()) {
        std::string hint;
        size_t best = 3;
        for (const auto& k : known)
          if (size_t d = edit_distance(key, k); d < best) best = d, hint = k;
        std::string all;
        for (const auto& k : known) all += (all.empty() ? "" : ", ") + k;
        fail(at, "unknown key" + (hint.empty() ? " (known: " + all + ")"
                                               : " (did you mean " + path + "." + hint + "?)"));
      }
      if (!out.emplace(key, kv.second).second) fail(at, "duplicate key");
    }
    return out;
  }

  // A string or a list of strings (at least one).
  std::vector<std::string> strings(const YAML::Node& n, const std::string& path) const {
    std::vector<std::string> out;
    if (n.IsSequence()) {
      for (size_t i = 0; i < n.size(); ++i)
        out.push_back(scalar(n[i], path + "[" + std::to_string(i) + "]", "a path or glob"));
      if (out.empty()) fail(path, "empty list (needs at least one path or glob)");
    } else {
      out.push_back(scalar(n, path, "a path or glob, or a list of them"));
    }
    for (size_t i = 0; i < out.size(); ++i)
      if (out[i].empty()) fail(path, "empty path");
    return out;
  }

 private:
  void collect(const YAML::Node& n, const std::string& path, const YAML::Mark& mark) {
    if (!mark.is_null()) lines_[path] = mark.line + 1;
    if (n.IsMap()) {
      for (const auto& kv : n)
        if (kv.first.IsScalar())
          collect(kv.second, path + "." + kv.first.Scalar(), kv.first.Mark());
    } else if (n.IsSequence()) {
      for (size_t i = 0; i < n.size(); ++i)
        collect(n[i], path + "[" + std::to_string(i) + "]", n[i].Mark());
    }
  }

  std::string source_;
  std::vector<std::string> overridden_;
  std::map<std::string, int> lines_;
};

bool valid_name(const std::string& n) {
  return !n.empty() && n != "." && n != ".." && std::all_of(n.begin(), n.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
  });
}

std::string folder_name(std::string path) {
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  return fs::path(path).filename().string();
}

}  // namespace

ProbeSpec parse_probe_spec(const config::Job& job, const std::vector<std::string>& overrides) {
  const ProbeReader r(job, overrides);
  if (job.kind != config::JobKind::Probe) r.fail("kind", "not a probe job");
  if (job.probe_yaml.empty())
    r.fail("probe", "missing required key (kind probe needs probe.models and probe.shards)");
  YAML::Node root;
  try {
    root = YAML::Load(job.probe_yaml);
  } catch (const YAML::Exception& e) {
    r.fail("probe", "cannot be read back: " + e.msg);
  }
  if (!root.IsDefined() || root.IsNull()) root = YAML::Node(YAML::NodeType::Map);
  const auto p = r.mapping(root, "probe", kProbeKeys);
  ProbeSpec spec;
  auto get = [&](const char* key) -> const YAML::Node* {
    auto it = p.find(key);
    return it == p.end() ? nullptr : &it->second;
  };

  if (auto n = get("shards")) {
    spec.shards = r.strings(*n, "probe.shards");
    spec.shards_where = r.where("probe.shards") + ": probe.shards";
  }
  const YAML::Node* models = get("models");
  if (!models) r.fail("probe.models", "missing required key (a list of model folders)");
  if (!models->IsSequence() || models->size() == 0)
    r.fail("probe.models",
           "must be a non-empty list of model folders or {name, path} mappings (got " +
               describe(*models) + ")");
  std::set<std::string> names;
  for (size_t i = 0; i < models->size(); ++i) {
    const std::string at = "probe.models[" + std::to_string(i) + "]";
    const YAML::Node m = (*models)[i];
    ProbeModelSpec ms;
    ms.where = r.where(at) + ": " + at;
    if (m.IsScalar()) {
      ms.path = r.scalar(m, at, "a model folder");
      ms.name = folder_name(ms.path);
      ms.path_where = ms.where;
    } else if (m.IsMap()) {
      const auto e = r.mapping(m, at, kModelKeys);
      auto pit = e.find("path");
      if (pit == e.end()) r.fail(at + ".path", "missing required key (the model folder)");
      ms.path = r.scalar(pit->second, at + ".path", "a model folder");
      ms.path_where = r.where(at + ".path") + ": " + at + ".path";
      auto nit = e.find("name");
      ms.name =
          nit == e.end() ? folder_name(ms.path) : r.scalar(nit->second, at + ".name", "a name");
      if (nit != e.end() && !valid_name(ms.name))
        r.fail(at + ".name", "must be letters, digits, '-', '_' or '.' (got '" + ms.name + "')");
      auto sit = e.find("shards");
      if (sit != e.end()) {
        ms.shards = r.strings(sit->second, at + ".shards");
        ms.shards_where = r.where(at + ".shards") + ": " + at + ".shards";
      }
    } else {
      r.fail(at, "must be a model folder or a {name, path} mapping (got " + describe(m) + ")");
    }
    if (ms.path.empty()) r.fail(at, "empty model path");
    if (!valid_name(ms.name))
      r.fail(at, "the folder name '" + ms.name +
                     "' cannot name an HDF5 group: give the model a name (letters, digits, '-', "
                     "'_', '.')");
    if (!names.insert(ms.name).second)
      r.fail(at, "duplicate model name '" + ms.name + "' (names must be unique)");
    if (ms.shards.empty() && spec.shards.empty())
      r.fail("probe.shards", "missing required key (token shards for " + ms.name + ")");
    spec.models.push_back(std::move(ms));
  }

  if (auto n = get("documents")) spec.documents = r.integer(*n, "probe.documents", 1, INT64_MAX);
  if (auto n = get("max_tokens"))
    spec.max_tokens = int(r.integer(*n, "probe.max_tokens", 2, 1 << 24));
  if (auto n = get("batch")) spec.batch = int(r.integer(*n, "probe.batch", 1, 1 << 20));
  if (auto n = get("dtype"))
    spec.dtype = r.choice(*n, "probe.dtype", {"float32", "bfloat16", "float16"});
  spec.device = job.run.device == config::Device::Cuda ? ProbeDevice::Cuda : ProbeDevice::Cpu;
  if (auto n = get("device"))
    spec.device = r.choice(*n, "probe.device", {"cpu", "cuda"}) == "cuda" ? ProbeDevice::Cuda
                                                                          : ProbeDevice::Cpu;
  if (auto n = get("store_per_token"))
    spec.store_per_token = r.boolean(*n, "probe.store_per_token");
  if (auto n = get("check_tokenizer"))
    spec.check_tokenizer = r.boolean(*n, "probe.check_tokenizer");
  if (auto n = get("separator"))
    spec.separator = uint32_t(r.integer(*n, "probe.separator", 0, UINT32_MAX));
  if (auto n = get("keep_separator")) spec.keep_separator = r.boolean(*n, "probe.keep_separator");
  return spec;
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

std::vector<ResolvedModel> resolve_models(const ProbeSpec& spec) {
  std::vector<ResolvedModel> out;
  for (const auto& m : spec.models) {
    ResolvedModel r;
    r.spec = m;
    std::error_code ec;
    if (!fs::is_directory(m.path, ec))
      throw JobError(m.path_where + ": " + m.path +
                     (fs::exists(m.path, ec) ? " is not a folder" : " does not exist") +
                     " (point it at your copy of the model: a Hugging Face model folder with "
                     "config.json and *.safetensors)");
    if (!fs::exists(fs::path(m.path) / "config.json", ec))
      throw JobError(m.path_where + ": " + m.path +
                     " has no config.json (expected a Hugging Face model folder)");
    const ModelConfig c = read_config(m.path);
    r.family = family_name(c.family);
    r.num_layers = c.num_layers;
    r.hidden_size = c.hidden_size;
    r.vocab_size = c.vocab_size;
    // tokenizer.json, else vocab.json + merges.txt (OPT, GPT-2): the hash `tokenize` records.
    if (spec.check_tokenizer) r.tokenizer_hash = tokenizer_hash_of_model_dir(m.path).value_or(0);
    r.shard_paths = m.shards.empty() ? expand_shards(spec.shards, spec.shards_where)
                                     : expand_shards(m.shards, m.shards_where);
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
  stream.require(uint32_t(m.vocab_size), m.tokenizer_hash);
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
  SiteMetrics m = compute_site_metrics(model, out.hidden, ids, mask);
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
  if (r.per_token) {
    r.norms = to_vector<float>(m.norms);
    r.theta = to_vector<float>(m.theta);
    r.theta_dh = to_vector<float>(m.theta_dh);
    r.angle_to_end = to_vector<float>(m.angle_to_end);
    r.cross_entropy = to_vector<float>(m.cross_entropy);
    r.proj_s = to_vector<float>(m.proj_s);
    r.token = to_vector<int64_t>(m.token);
    r.doc = to_vector<int64_t>(m.doc + first_doc);
    r.position = to_vector<int64_t>(m.position);
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
  a.device = spec.device == ProbeDevice::Cuda ? "cuda" : "cpu";
  a.hidden_convention = kHiddenConvention;
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

ModelSummary summarize(const std::vector<std::vector<int64_t>>& states, int num_layers) {
  const int L = num_layers;
  Summary total(L);
  for (const auto& state : states) total.merge(Summary::from_state(state));
  ModelSummary s;
  s.sites = total.count();
  for (auto m : kMetricOrder) s.means.emplace_back(metric_name(m), total.mean(m));
  s.theta_middle_mean = total.theta_middle_mean();
  s.early_stop_fraction = total.early_stop_fraction();
  s.early_stop_count = total.early_stop_count();
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

}  // namespace depthscale::probe
