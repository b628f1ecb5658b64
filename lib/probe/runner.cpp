// The probe runner without MPI: documents, one batch, its HDF5 form.
#include "probe/runner.hpp"

#include <glob.h>

#include <algorithm>
#include <filesystem>

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

// ---- HDF5 form of a batch
// -------------------------------------------------------------------------

std::string batch_key(int64_t batch) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%06lld", static_cast<long long>(batch));
  return buf;
}

namespace {

struct Column {
  const char* name;
  int64_t extra;  // columns = L + extra
};
constexpr Column kColumns[] = {{"norms", 1},        {"theta", 0},         {"theta_dh", -1},
                               {"angle_to_end", 0}, {"cross_entropy", 0}, {"proj_s", 1}};

std::vector<float>& field(BatchResult& r, int i) {
  std::vector<float>* f[] = {&r.norms,        &r.theta,         &r.theta_dh,
                             &r.angle_to_end, &r.cross_entropy, &r.proj_s};
  return *f[i];
}
const std::vector<float>& field(const BatchResult& r, int i) {
  return field(const_cast<BatchResult&>(r), i);  // same members, read only
}

}  // namespace

void write_batch(store::Group& parent, const BatchResult& r) {
  const std::string key = batch_key(r.batch);
  const hsize_t N = hsize_t(r.sites), L = hsize_t(r.layers);
  // Refuse inconsistent results before touching the file.
  if (r.complete && r.per_token) {
    for (int i = 0; i < 6; ++i)
      if (field(r, i).size() != N * hsize_t(int64_t(L) + kColumns[i].extra))
        throw store::StoreError("batch " + key + ": " + kColumns[i].name + " has the wrong size");
    if (r.token.size() != N || r.doc.size() != N || r.position.size() != N)
      throw store::StoreError("batch " + key + ": token/doc/position have the wrong size");
  }
  if (parent.has(key)) parent.remove(key);
  auto g = parent.create_group(key);
  g.set_attr("model", r.model);
  g.set_attr("batch", r.batch);
  g.set_attr("first_doc", r.first_doc);
  g.set_attr("documents", r.documents);
  g.set_attr("tokens", r.tokens);
  g.set_attr("sites", r.sites);
  g.set_attr("num_layers", r.layers);
  g.set_attr("wall_seconds", r.wall_seconds);
  g.set_attr("host", r.host);
  g.set_attr("rank", int64_t(r.rank));
  g.set_attr("store_per_token", int64_t(r.per_token));
  if (r.complete) {
    if (r.per_token) {
      for (int i = 0; i < 6; ++i)
        g.write(kColumns[i].name, field(r, i), {N, hsize_t(int64_t(L) + kColumns[i].extra)});
      g.write("token", r.token, {N});
      g.write("doc", r.doc, {N});
      g.write("position", r.position, {N});
    }
    g.write("summary_state", r.state, {hsize_t(r.state.size())});
    g.set_attr("status", "complete");
  } else {
    g.set_attr("error", r.error);
    g.set_attr("status", "failed");
  }
}

namespace {

BatchResult read_batch(const store::Group& g) {
  BatchResult r;
  r.model = g.attr_string("model");
  r.batch = g.attr_int("batch");
  r.first_doc = g.attr_int("first_doc");
  r.documents = g.attr_int("documents");
  r.tokens = g.attr_int("tokens");
  r.sites = g.attr_int("sites");
  r.layers = g.attr_int("num_layers");
  r.wall_seconds = g.attr_double("wall_seconds");
  r.host = g.attr_string("host");
  r.rank = int(g.attr_int("rank"));
  r.per_token = g.attr_int("store_per_token") != 0;
  const std::string status = g.has_attr("status") ? g.attr_string("status") : "";
  r.complete = status == "complete";
  if (status == "failed") r.error = g.attr_string("error");
  if (r.complete) {
    if (r.per_token) {
      for (int i = 0; i < 6; ++i) field(r, i) = g.read_float(kColumns[i].name);
      r.token = g.read_int64("token");
      r.doc = g.read_int64("doc");
      r.position = g.read_int64("position");
    }
    r.state = g.read_int64("summary_state");
  }
  return r;
}

}  // namespace

std::vector<char> to_image(const BatchResult& r) {
  auto f = store::File::create_in_memory("batch " + batch_key(r.batch));
  {
    auto root = f.root();
    root.set_attr("format", "depthscale-probe-batch");
    write_batch(root, r);
  }
  return f.image();
}

BatchResult batch_from_image(const std::vector<char>& image) {
  auto f = store::File::open_image(image, "probe batch image");
  auto root = f.root();
  if (!root.has_attr("format") || root.attr_string("format") != "depthscale-probe-batch")
    throw store::StoreError("not a depthscale probe batch image");
  const auto children = root.children();
  if (children.size() != 1) throw store::StoreError("a probe batch image holds one batch");
  return read_batch(root.open_group(children.front()));
}

BatchResult read_batch_group(const store::Group& g) {
  return read_batch(g);
}

// ---- finalising a model -----------------------------------------------------------------------

namespace {

void check_h5(herr_t rc, const std::string& what) {
  if (rc < 0) throw store::StoreError(what);
}

// A fixed-size dataset [rows] or [rows, cols], replacing one of that name (a finalisation a kill
// interrupted may have left it half-written).
store::Handle create_rows(store::Group& g, const std::string& name, hid_t file_type, hsize_t rows,
                          std::optional<hsize_t> cols) {
  if (g.has(name)) g.remove(name);
  hsize_t dims[2] = {rows, cols.value_or(0)};
  store::Handle space(H5Screate_simple(cols ? 2 : 1, dims, nullptr));
  if (!space.valid()) throw store::StoreError(g.path() + "/" + name + ": cannot create dataspace");
  store::Handle d(H5Dcreate2(g.id(), name.c_str(), file_type, space.id(), H5P_DEFAULT, H5P_DEFAULT,
                             H5P_DEFAULT));
  if (!d.valid()) throw store::StoreError(g.path() + "/" + name + ": cannot create dataset");
  return d;
}

// Writes rows [row0, row0 + rows) of a dataset created by create_rows.
void write_rows(const store::Handle& d, hid_t mem_type, hsize_t row0, hsize_t rows,
                std::optional<hsize_t> cols, const void* data, const std::string& what) {
  if (rows == 0 || (cols && *cols == 0)) return;
  const int rank = cols ? 2 : 1;
  hsize_t start[2] = {row0, 0}, count[2] = {rows, cols.value_or(0)};
  store::Handle file_space(H5Dget_space(d.id()));
  check_h5(H5Sselect_hyperslab(file_space.id(), H5S_SELECT_SET, start, nullptr, count, nullptr),
           what + ": cannot select rows");
  store::Handle mem_space(H5Screate_simple(rank, count, nullptr));
  check_h5(H5Dwrite(d.id(), mem_type, mem_space.id(), file_space.id(), H5P_DEFAULT, data),
           what + ": cannot write rows");
}

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

int64_t finalize_model(store::Group& mg, const ResolvedModel& model, const ProbeSpec& spec,
                       const ModelRun& run) {
  auto batches = mg.open_group("batches");
  const int L = int(model.num_layers);
  std::vector<int64_t> sites(size_t(run.batches));
  int64_t N = 0, tokens = 0, documents = 0;
  double wall = 0;
  Summary total(L);
  // Pass 1: the attributes and the summary states (small); sites fix the datasets' sizes.
  for (int64_t b = 0; b < run.batches; ++b) {
    const auto g = batches.open_group(batch_key(b));
    if (!g.has_attr("status") || g.attr_string("status") != "complete")
      throw store::StoreError(g.path() + " is not complete");
    if (g.attr_int("num_layers") != L)
      throw store::StoreError(g.path() + ": num_layers differs from the model's");
    sites[size_t(b)] = g.attr_int("sites");
    N += sites[size_t(b)];
    tokens += g.attr_int("tokens");
    documents += g.attr_int("documents");
    wall += g.attr_double("wall_seconds");
    total.merge(Summary::from_state(g.read_int64("summary_state")));
  }
  if (documents != run.documents)
    throw store::StoreError(mg.path() + ": the batches hold " + std::to_string(documents) +
                            " documents, the plan " + std::to_string(run.documents));
  if (total.count() != N)
    throw store::StoreError(mg.path() + ": the batches' summaries count " +
                            std::to_string(total.count()) + " sites, their datasets " +
                            std::to_string(N));

  // Pass 2: per-site datasets, one batch in memory at a time.
  if (spec.store_per_token) {
    std::vector<store::Handle> cols;
    for (const auto& c : kColumns)
      cols.push_back(create_rows(mg, c.name, H5T_IEEE_F32LE, hsize_t(N), hsize_t(L + c.extra)));
    store::Handle token = create_rows(mg, "token", H5T_STD_I64LE, hsize_t(N), std::nullopt);
    store::Handle doc = create_rows(mg, "doc", H5T_STD_I64LE, hsize_t(N), std::nullopt);
    store::Handle position = create_rows(mg, "position", H5T_STD_I64LE, hsize_t(N), std::nullopt);
    hsize_t row = 0;
    for (int64_t b = 0; b < run.batches; ++b) {
      const auto g = batches.open_group(batch_key(b));
      const hsize_t n = hsize_t(sites[size_t(b)]);
      const std::string what = g.path();
      for (size_t i = 0; i < std::size(kColumns); ++i) {
        const auto data = g.read_float(kColumns[i].name);
        const hsize_t c = hsize_t(L + kColumns[i].extra);
        if (data.size() != n * c)
          throw store::StoreError(what + ": wrong size of " + kColumns[i].name);
        write_rows(cols[i], H5T_NATIVE_FLOAT, row, n, c, data.data(), what);
      }
      const std::pair<const char*, store::Handle*> ints[] = {
          {"token", &token}, {"doc", &doc}, {"position", &position}};
      for (const auto& [name, h] : ints) {
        const auto data = g.read_int64(name);
        if (data.size() != n) throw store::StoreError(what + ": wrong size of " + name);
        write_rows(*h, H5T_NATIVE_INT64, row, n, std::nullopt, data.data(), what);
      }
      row += n;
    }
  }

  // Summaries (probe/metrics.hpp): exact per-layer means, PCA of the θ vectors, early stop.
  if (mg.has("summary")) mg.remove("summary");
  auto sg = mg.create_group("summary");
  for (auto m : kMetricOrder) sg.write(metric_name(m), total.mean(m));
  sg.set_attr("theta_middle_mean", total.theta_middle_mean());
  sg.set_attr("sites", total.count());
  if (mg.has("pca")) mg.remove("pca");
  auto pg = mg.create_group("pca");
  pg.set_attr("early_stop_fraction", total.early_stop_fraction());
  pg.set_attr("early_stop_count", total.early_stop_count());
  pg.set_attr("sites", total.count());
  pg.write("early_stop_reference", early_stop_reference(L));
  pg.write("even_reference", even_reference(L));
  if (total.count() >= 2) {
    const Pca p = total.pca();
    std::vector<double> comps;
    for (const auto& row : p.components) comps.insert(comps.end(), row.begin(), row.end());
    pg.write("components", comps, {hsize_t(L), hsize_t(L)});
    pg.write("explained", p.explained_ratio);
    pg.write("explained_variance", p.explained_variance);
    pg.write("mean", p.mean);
  }

  mg.set_attr("model_path", model.spec.path);
  mg.set_attr("family", model.family);
  mg.set_attr("num_layers", model.num_layers);
  mg.set_attr("hidden_size", model.hidden_size);
  mg.set_attr("vocab_size", model.vocab_size);
  mg.set_attr("dtype", spec.effective_dtype());
  mg.set_attr("device", config::to_string(spec.device));
  mg.set_attr("hidden_convention", kHiddenConvention);
  mg.set_attr("tokenizer_hash", hex(model.tokenizer_hash));
  mg.set_attr("shards", joined(model.shard_paths));
  mg.set_attr("first_doc", run.first_doc);
  mg.set_attr("documents", documents);
  mg.set_attr("tokens", tokens);
  mg.set_attr("sites", N);
  mg.set_attr("max_tokens", int64_t(spec.max_tokens));
  mg.set_attr("batch", int64_t(spec.batch));
  mg.set_attr("batches", run.batches);
  mg.set_attr("store_per_token", int64_t(spec.store_per_token));
  mg.set_attr("wall_seconds", wall);
  mg.set_attr("status", "complete");
  mg.remove("batches");
  return N;
}

}  // namespace depthscale::probe
