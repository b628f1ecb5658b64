// The /probe part of a sweep file: batch groups and images, finalising a model (per-site
// concatenation, summary/, pca/, attributes, status last), the sidecar, compaction.
#include "store/probe_file.hpp"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <optional>

#include "store/detail.hpp"
#include "store/schema.hpp"

namespace depthscale::store {

namespace fs = std::filesystem;
using probe::BatchResult;

namespace {

constexpr const char* kProbe = "probe";
constexpr const char* kBatches = "batches";
constexpr const char* kBatchImageFormat = "depthscale-probe-batch";

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

bool carries(const BatchResult& r, const std::string& name) {
  return std::find(r.arrays.begin(), r.arrays.end(), name) != r.arrays.end();
}

std::string joined(const std::vector<std::string>& v, const char* sep) {
  std::string out;
  for (const auto& x : v) out += (out.empty() ? "" : sep) + x;
  return out;
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  size_t a = 0;
  while (a <= s.size() && !s.empty()) {
    const size_t b = std::min(s.find(sep, a), s.size());
    out.push_back(s.substr(a, b - a));
    a = b + 1;
  }
  return out;
}

constexpr const char* kIndexArrays[] = {"token", "doc", "position"};

std::vector<int64_t>& index_field(BatchResult& r, int i) {
  std::vector<int64_t>* f[] = {&r.token, &r.doc, &r.position};
  return *f[i];
}
const std::vector<int64_t>& index_field(const BatchResult& r, int i) {
  return index_field(const_cast<BatchResult&>(r), i);  // same members, read only
}

void write_batch_group(Group& parent, const BatchResult& r) {
  const std::string key = probe_batch_key(r.batch);
  const hsize_t N = hsize_t(r.sites), L = hsize_t(r.layers);
  // Refuse inconsistent results before touching the file.
  if (r.complete) {
    for (const auto& name : r.arrays) {
      bool known = false;
      for (int i = 0; i < 6; ++i)
        if (name == kColumns[i].name) {
          known = true;
          if (field(r, i).size() != N * hsize_t(int64_t(L) + kColumns[i].extra))
            throw StoreError("batch " + key + ": " + name + " has the wrong size");
        }
      for (int i = 0; i < 3; ++i)
        if (name == kIndexArrays[i]) {
          known = true;
          if (index_field(r, i).size() != N)
            throw StoreError("batch " + key + ": " + name + " has the wrong size");
        }
      if (!known) throw StoreError("batch " + key + ": unknown per-site array '" + name + "'");
    }
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
    g.set_attr("arrays", joined(r.arrays, ","));
    for (int i = 0; i < 6; ++i)
      if (carries(r, kColumns[i].name))
        g.write(kColumns[i].name, field(r, i), {N, hsize_t(int64_t(L) + kColumns[i].extra)});
    for (int i = 0; i < 3; ++i)
      if (carries(r, kIndexArrays[i])) g.write(kIndexArrays[i], index_field(r, i), {N});
    g.write("summary_state", r.state, {hsize_t(r.state.size())});
    describe_datasets(g);
    g.set_attr("status", "complete");
  } else {
    g.set_attr("error", r.error);
    g.set_attr("status", "failed");
  }
}

BatchResult read_batch_group(const Group& g) {
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
    if (g.has_attr("arrays")) {
      r.arrays = split(g.attr_string("arrays"), ',');
    } else if (r.per_token) {  // written before batches named their arrays: all of them
      for (const auto& c : kColumns) r.arrays.push_back(c.name);
      for (const char* name : kIndexArrays) r.arrays.push_back(name);
    }
    for (int i = 0; i < 6; ++i)
      if (carries(r, kColumns[i].name)) field(r, i) = g.read_float(kColumns[i].name);
    for (int i = 0; i < 3; ++i)
      if (carries(r, kIndexArrays[i])) index_field(r, i) = g.read_int64(kIndexArrays[i]);
    r.state = g.read_int64("summary_state");
  }
  return r;
}

bool complete(const Group& g) {
  return g.has_attr("status") && g.attr_string("status") == "complete";
}

void check_h5(herr_t rc, const std::string& what) {
  if (rc < 0) throw StoreError(what);
}

// A fixed-size dataset [rows] or [rows, cols], replacing one of that name (a finalisation a kill
// interrupted may have left it half-written).
Handle create_rows(Group& g, const std::string& name, hid_t file_type, hsize_t rows,
                   std::optional<hsize_t> cols) {
  if (g.has(name)) g.remove(name);
  hsize_t dims[2] = {rows, cols.value_or(0)};
  Handle space(H5Screate_simple(cols ? 2 : 1, dims, nullptr));
  if (!space.valid()) throw StoreError(g.path() + "/" + name + ": cannot create dataspace");
  Handle d(H5Dcreate2(g.id(), name.c_str(), file_type, space.id(), H5P_DEFAULT, H5P_DEFAULT,
                      H5P_DEFAULT));
  if (!d.valid()) throw StoreError(g.path() + "/" + name + ": cannot create dataset");
  return d;
}

// Writes rows [row0, row0 + rows) of a dataset created by create_rows.
void write_rows(const Handle& d, hid_t mem_type, hsize_t row0, hsize_t rows,
                std::optional<hsize_t> cols, const void* data, const std::string& what) {
  if (rows == 0 || (cols && *cols == 0)) return;
  const int rank = cols ? 2 : 1;
  hsize_t start[2] = {row0, 0}, count[2] = {rows, cols.value_or(0)};
  Handle file_space(H5Dget_space(d.id()));
  check_h5(H5Sselect_hyperslab(file_space.id(), H5S_SELECT_SET, start, nullptr, count, nullptr),
           what + ": cannot select rows");
  Handle mem_space(H5Screate_simple(rank, count, nullptr));
  check_h5(H5Dwrite(d.id(), mem_type, mem_space.id(), file_space.id(), H5P_DEFAULT, data),
           what + ": cannot write rows");
}

}  // namespace

// ---- batches ------------------------------------------------------------------------------------

std::string probe_batch_key(int64_t batch) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%06lld", static_cast<long long>(batch));
  return buf;
}

std::vector<char> to_image(const BatchResult& r) {
  auto f = File::create_in_memory("batch " + probe_batch_key(r.batch));
  {
    auto root = f.root();
    root.set_attr("format", kBatchImageFormat);
    write_batch_group(root, r);
  }
  return f.image();
}

BatchResult probe_batch_from_image(const std::vector<char>& image) {
  auto f = File::open_image(image, "probe batch image");
  auto root = f.root();
  if (!root.has_attr("format") || root.attr_string("format") != kBatchImageFormat)
    throw StoreError("not a depthscale probe batch image");
  const auto children = root.children();
  if (children.size() != 1) throw StoreError("a probe batch image holds one batch");
  return read_batch_group(root.open_group(children.front()));
}

void ProbeModelGroup::write_batch(const BatchResult& r) {
  auto bg = g_.require_group(kBatches);
  write_batch_group(bg, r);
}

void ProbeModelGroup::remove_batch(int64_t batch) {
  auto bg = g_.require_group(kBatches);
  if (bg.has(probe_batch_key(batch))) bg.remove(probe_batch_key(batch));
}

std::vector<std::vector<int64_t>> ProbeModelGroup::summary_states(int64_t batches,
                                                                  int64_t layers) const {
  auto bg = g_.open_group(kBatches);
  std::vector<std::vector<int64_t>> out;
  for (int64_t b = 0; b < batches; ++b) {
    const auto g = bg.open_group(probe_batch_key(b));
    if (!complete(g)) throw StoreError(g.path() + " is not complete");
    if (g.attr_int("num_layers") != layers)
      throw StoreError(g.path() + ": num_layers differs from the model's");
    out.push_back(g.read_int64("summary_state"));
  }
  return out;
}

void ProbeModelGroup::visit_theta(
    int64_t batches, int64_t layers,
    const std::function<void(const std::vector<float>&, const std::vector<int64_t>&)>& fn) const {
  auto bg = g_.open_group(kBatches);
  for (int64_t b = 0; b < batches; ++b) {
    const auto g = bg.open_group(probe_batch_key(b));
    if (!complete(g)) throw StoreError(g.path() + " is not complete");
    const int64_t n = g.attr_int("sites");
    if (!g.has("theta") || !g.has("position"))
      throw StoreError(g.path() +
                       ": no theta/position (written by an older depthscale? rerun the "
                       "model's batches)");
    const auto theta = g.read_float("theta");
    const auto position = g.read_int64("position");
    if (int64_t(theta.size()) != n * layers || int64_t(position.size()) != n)
      throw StoreError(g.path() + ": theta/position do not hold its sites");
    fn(theta, position);
  }
}

// ---- finalising a model -------------------------------------------------------------------------

int64_t ProbeModelGroup::finalize(const probe::ModelAttrs& attrs,
                                  const probe::ModelSummary& summary) {
  Group& mg = g_;
  auto batches = mg.open_group(kBatches);
  const int64_t L = attrs.num_layers;
  std::vector<int64_t> sites(size_t(attrs.batches));
  int64_t N = 0, tokens = 0, documents = 0;
  double wall = 0;
  // Pass 1: the attributes (small); sites fix the datasets' sizes.
  for (int64_t b = 0; b < attrs.batches; ++b) {
    const auto g = batches.open_group(probe_batch_key(b));
    if (!complete(g)) throw StoreError(g.path() + " is not complete");
    if (g.attr_int("num_layers") != L)
      throw StoreError(g.path() + ": num_layers differs from the model's");
    sites[size_t(b)] = g.attr_int("sites");
    N += sites[size_t(b)];
    tokens += g.attr_int("tokens");
    documents += g.attr_int("documents");
    wall += g.attr_double("wall_seconds");
  }
  if (documents != attrs.documents)
    throw StoreError(mg.path() + ": the batches hold " + std::to_string(documents) +
                     " documents, the plan " + std::to_string(attrs.documents));
  if (summary.sites != N)
    throw StoreError(mg.path() + ": the batches' summaries count " + std::to_string(summary.sites) +
                     " sites, their datasets " + std::to_string(N));

  // Pass 2: per-site datasets, one batch in memory at a time.
  if (attrs.store_per_token) {
    std::vector<Column> kept;
    for (const auto& c : kColumns)
      if (std::find(attrs.metrics.begin(), attrs.metrics.end(), c.name) != attrs.metrics.end())
        kept.push_back(c);
    std::vector<Handle> cols;
    for (const auto& c : kept)
      cols.push_back(create_rows(mg, c.name, H5T_IEEE_F32LE, hsize_t(N), hsize_t(L + c.extra)));
    Handle token = create_rows(mg, "token", H5T_STD_I64LE, hsize_t(N), std::nullopt);
    Handle doc = create_rows(mg, "doc", H5T_STD_I64LE, hsize_t(N), std::nullopt);
    Handle position = create_rows(mg, "position", H5T_STD_I64LE, hsize_t(N), std::nullopt);
    hsize_t row = 0;
    for (int64_t b = 0; b < attrs.batches; ++b) {
      const auto g = batches.open_group(probe_batch_key(b));
      const hsize_t n = hsize_t(sites[size_t(b)]);
      const std::string what = g.path();
      for (size_t i = 0; i < kept.size(); ++i) {
        if (!g.has(kept[i].name)) throw StoreError(what + ": no " + kept[i].name);
        const auto data = g.read_float(kept[i].name);
        const hsize_t c = hsize_t(L + kept[i].extra);
        if (data.size() != n * c) throw StoreError(what + ": wrong size of " + kept[i].name);
        write_rows(cols[i], H5T_NATIVE_FLOAT, row, n, c, data.data(), what);
      }
      const std::pair<const char*, Handle*> ints[] = {
          {"token", &token}, {"doc", &doc}, {"position", &position}};
      for (const auto& [name, h] : ints) {
        const auto data = g.read_int64(name);
        if (data.size() != n) throw StoreError(what + ": wrong size of " + name);
        write_rows(*h, H5T_NATIVE_INT64, row, n, std::nullopt, data.data(), what);
      }
      row += n;
    }
    for (const auto& c : kept) describe_dataset(mg, c.name);
    for (const char* name : kIndexArrays) describe_dataset(mg, name);
  }

  // Summaries, computed by probe from the batches' summary states.
  if (mg.has("summary")) mg.remove("summary");
  auto sg = mg.create_group("summary");
  for (const auto& [name, means] : summary.means) sg.write(name, means);
  describe_datasets(sg);
  sg.set_attr("theta_middle_mean", summary.theta_middle_mean);
  sg.set_attr("sites", summary.sites);
  if (mg.has("pca")) mg.remove("pca");
  auto pg = mg.create_group("pca");
  pg.set_attr("early_stop_rule", "PC1 score (theta - mean) . components[0] > early_stop_pc1");
  pg.set_attr("early_stop_pc1", summary.early_stop_threshold);
  pg.set_attr("early_stop_fraction", summary.early_stop_fraction);
  pg.set_attr("early_stop_count", summary.early_stop_count);
  pg.set_attr("first_position_sites", summary.first_position_sites);
  pg.set_attr("early_stop_first_position", summary.early_stop_first_position);
  // Rows: not in / in the early-stop cluster; columns: position > 0 / position 0.
  const int64_t out_first = summary.first_position_sites - summary.early_stop_first_position;
  const int64_t in_later = summary.early_stop_count - summary.early_stop_first_position;
  pg.write("early_stop_by_position",
           std::vector<int64_t>{summary.sites - summary.early_stop_count - out_first, out_first,
                                in_later, summary.early_stop_first_position},
           {2, 2});
  pg.set_attr("reference_early_stop_fraction", summary.reference_early_stop_fraction);
  pg.set_attr("reference_early_stop_count", summary.reference_early_stop_count);
  pg.set_attr("sites", summary.sites);
  pg.write("early_stop_reference", summary.early_stop_reference);
  pg.write("even_reference", summary.even_reference);
  if (summary.has_pca) {
    pg.write("components", summary.components, {hsize_t(L), hsize_t(L)});
    pg.write("explained", summary.explained);
    pg.write("explained_variance", summary.explained_variance);
    pg.write("mean", summary.mean);
  }
  describe_datasets(pg);

  mg.set_attr("model_path", attrs.model_path);
  mg.set_attr("family", attrs.family);
  mg.set_attr("num_layers", attrs.num_layers);
  mg.set_attr("hidden_size", attrs.hidden_size);
  mg.set_attr("vocab_size", attrs.vocab_size);
  mg.set_attr("dtype", attrs.dtype);
  mg.set_attr("device", attrs.device);
  mg.set_attr("hidden_convention", attrs.hidden_convention);
  mg.set_attr("last_hidden", attrs.last_hidden);
  mg.set_attr("metrics", joined(attrs.metrics, ","));
  mg.set_attr("angles", attrs.angles);
  mg.set_attr("tokenizer_hash", attrs.tokenizer_hash);
  mg.set_attr("shards", attrs.shards);
  mg.set_attr("first_doc", attrs.first_doc);
  mg.set_attr("documents", documents);
  mg.set_attr("tokens", tokens);
  mg.set_attr("sites", N);
  mg.set_attr("max_tokens", attrs.max_tokens);
  mg.set_attr("batch", attrs.batch);
  mg.set_attr("batches", attrs.batches);
  mg.set_attr("store_per_token", int64_t(attrs.store_per_token));
  mg.set_attr("wall_seconds", wall);
  mg.set_attr("status", "complete");
  mg.remove(kBatches);
  return N;
}

// ---- the file -----------------------------------------------------------------------------------

ProbeModelStatus ProbeFile::model_status(const std::string& model) const {
  ProbeModelStatus s;
  auto f = File::open(path_, Mode::ReadOnly);
  auto root = f.root();
  if (!root.has(kProbe) || !root.open_group(kProbe).has(model)) return s;
  auto mg = root.open_group(kProbe).open_group(model);
  if (complete(mg)) {
    s.finalized = true;
    s.documents = mg.attr_int("documents");
    s.tokens = mg.attr_int("tokens");
    s.batches = mg.attr_int("batches");
    return s;
  }
  if (mg.has(kBatches)) {
    auto bg = mg.open_group(kBatches);
    for (const auto& key : bg.children()) {
      auto g = bg.open_group(key);
      if (!g.has_attr("status")) continue;  // a copy a kill interrupted
      ProbeBatchStatus b;
      b.batch = g.attr_int("batch");
      b.first_doc = g.attr_int("first_doc");
      b.documents = g.attr_int("documents");
      b.status = g.attr_string("status");
      b.where = g.path();
      s.stored.push_back(std::move(b));
    }
  }
  return s;
}

void ProbeFile::with_model(const std::string& model,
                           const std::function<void(ProbeModelGroup&)>& body) {
  auto f = File::open(path_, Mode::ReadWrite);
  {
    auto root = f.root();
    ProbeModelGroup mg(root.require_group(kProbe).require_group(model));
    body(mg);
  }
  f.flush();
  f.close();
  fsync_path(path_);
}

// ---- the sidecar --------------------------------------------------------------------------------

std::string ProbeFile::sidecar_dir(const std::string& model) const {
  return path_ + ".ckpt/probe/" + model;
}

std::string ProbeFile::sidecar_file(const std::string& model, int64_t batch) const {
  return sidecar_dir(model) + "/" + probe_batch_key(batch) + ".h5";
}

std::map<int64_t, std::string> ProbeFile::sidecar_batches(const std::string& model) const {
  return list_sidecar(model, true);
}

std::vector<int64_t> ProbeFile::sidecar_batch_numbers(const std::string& model) const {
  std::vector<int64_t> out;
  for (const auto& entry : list_sidecar(model, false)) out.push_back(entry.first);
  return out;
}

std::vector<std::string> ProbeFile::models() const {
  const File f = open_sweep(path_);
  const Group root = f.root();
  return root.has("probe") ? root.open_group("probe").children() : std::vector<std::string>{};
}

std::map<int64_t, std::string> ProbeFile::list_sidecar(const std::string& model,
                                                       bool remove_stale) const {
  const std::string dir = sidecar_dir(model);
  std::map<int64_t, std::string> out;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return out;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    const auto tmp = name.rfind(".tmp.");
    if (tmp != std::string::npos) {
      const long pid = std::strtol(name.c_str() + tmp + 5, nullptr, 10);
      if (remove_stale && pid > 0 && pid != getpid() && ::kill(pid_t(pid), 0) != 0 &&
          errno == ESRCH)
        fs::remove(e.path(), ec);
      continue;
    }
    if (name.size() == 9 && name.compare(6, 3, ".h5") == 0 &&
        std::all_of(name.begin(), name.begin() + 6, ::isdigit))
      out[std::stoll(name.substr(0, 6))] = e.path().string();
  }
  return out;
}

void ProbeFile::save_sidecar(const BatchResult& r, const std::vector<char>* image) const {
  fs::create_directories(sidecar_dir(r.model));
  write_file_atomically(sidecar_file(r.model, r.batch), image ? *image : to_image(r));
}

void ProbeFile::remove_sidecar(const std::string& model, int64_t batch) const {
  std::error_code ec;
  fs::remove(sidecar_file(model, batch), ec);
}

void ProbeFile::remove_sidecar(const std::string& model) const {
  std::error_code ec;
  fs::remove_all(sidecar_dir(model), ec);
}

// ---- compaction ---------------------------------------------------------------------------------

std::pair<uintmax_t, uintmax_t> ProbeFile::compact() const {
  const std::string& path = path_;
  const uintmax_t before = fs::file_size(path);
  const std::string tmp = path + ".compact.tmp." + std::to_string(getpid());
  {
    auto src = File::open(path, Mode::ReadOnly);
    auto dst = File::create(tmp);
    {
      const auto from = src.root();
      auto to = dst.root();
      for (const auto& name : from.attr_names()) {
        if (from.attr_is_string(name)) {
          to.set_attr(name, from.attr_string(name));
          continue;
        }
        Handle a(H5Aopen(from.id(), name.c_str(), H5P_DEFAULT));
        Handle t(a.valid() ? H5Aget_type(a.id()) : H5I_INVALID_HID);
        const H5T_class_t c = t.valid() ? H5Tget_class(t.id()) : H5T_NO_CLASS;
        if (c == H5T_INTEGER)
          to.set_attr(name, from.attr_int(name));
        else if (c == H5T_FLOAT)
          to.set_attr(name, from.attr_double(name));
        else
          throw StoreError(path + ": cannot compact: root attribute " + name +
                           " is neither text nor a number");
      }
      for (const auto& child : from.children())
        if (H5Ocopy(from.id(), child.c_str(), to.id(), child.c_str(), H5P_DEFAULT, H5P_DEFAULT) < 0)
          throw StoreError(path + ": cannot compact: copying /" + child + " failed");
    }
    dst.flush();
    dst.close();
  }
  fsync_path(tmp);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    std::error_code ec;
    fs::remove(tmp, ec);
    throw StoreError(path + ": cannot rename the compacted copy (" + std::strerror(err) + ")");
  }
  fsync_parent(path);
  return {before, fs::file_size(path)};
}

}  // namespace depthscale::store
