// Job files: parsing, validation (toy and probe keys), overrides, canonical form, grid expansion.
#include "config/job.hpp"

#include <spdlog/spdlog.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <utility>

#include "hash/hash.hpp"

namespace depthscale::config {

namespace {

// ---------------------------------------------------------------------------------------------
// Schema: the known keys, shared by the unknown-key check and the --set path check so the two
// can never disagree.

struct Schema {
  std::string name;
  std::vector<Schema> children;
  // --set paths below this key are not checked when the override is parsed but when the section
  // is read, as "file:(--set): key: ...": probe: holds a list of mappings (probe.models[0].path),
  // which dotted --set paths cannot name.
  bool deferred = false;
  const Schema* child(const std::string& key) const {
    for (const auto& c : children)
      if (c.name == key) return &c;
    return nullptr;
  }
};

Schema leaf(const char* name) {
  return Schema{name, {}, false};
}
Schema section(const char* name, std::vector<Schema> children) {
  return Schema{name, std::move(children), false};
}

const Schema& job_schema() {
  static const Schema s = section(
      "", {leaf("name"), leaf("kind"), leaf("seed"),
           section("grid", {leaf("temperature"), leaf("rho"), leaf("depth"), leaf("teacher"),
                            leaf("width"), leaf("teacher_depth"), leaf("teacher_groups")}),
           section("model", {leaf("width"), leaf("vocab"), leaf("teacher_depth"), leaf("block"),
                             leaf("head"), leaf("teacher_width"), leaf("input_dim")}),
           section("train", {leaf("loss"), leaf("steps"), leaf("batch"),
                             section("lr", {leaf("base"), leaf("depth_scaling"), leaf("schedule")}),
                             leaf("inputs"), section("eval", {leaf("every"), leaf("batches")}),
                             leaf("checkpoint_every"), leaf("student_temperature")}),
           section("probe_hidden", {leaf("inputs")}),
           section("run", {leaf("unit_size"), leaf("threads"), leaf("device"), leaf("slice"),
                           leaf("engine")}),
           Schema{"probe",
                  {// the keys of one models[i] mapping
                   section("models", {leaf("name"), leaf("path"), leaf("shards")}), leaf("shards"),
                   leaf("documents"), leaf("max_tokens"), leaf("batch"), leaf("dtype"),
                   leaf("device"), leaf("store_per_token"), leaf("check_tokenizer"),
                   leaf("separator"), leaf("keep_separator"), leaf("last_hidden"), leaf("metrics"),
                   leaf("angles"), leaf("early_stop_pc1")},
                  true}});
  return s;
}

std::string join(const std::string& prefix, const std::string& key) {
  return prefix.empty() ? key : prefix + "." + key;
}

// Optimal string alignment distance: a transposition ("stpes") counts as one edit.
size_t edit_distance(const std::string& a, const std::string& b) {
  const size_t n = a.size(), m = b.size();
  std::vector<std::vector<size_t>> d(n + 1, std::vector<size_t>(m + 1));
  for (size_t i = 0; i <= n; ++i) d[i][0] = i;
  for (size_t j = 0; j <= m; ++j) d[0][j] = j;
  for (size_t i = 1; i <= n; ++i)
    for (size_t j = 1; j <= m; ++j) {
      const size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  return d[n][m];
}

// " (did you mean prefix.key?)" when a known key is within edit distance 2, else "".
std::string suggestion(const std::string& key, const std::vector<std::string>& known,
                       const std::string& prefix) {
  size_t best = 3;
  std::string found;
  for (const auto& k : known) {
    const size_t d = edit_distance(key, k);
    if (d < best) best = d, found = k;
  }
  return found.empty() ? "" : " (did you mean " + join(prefix, found) + "?)";
}

std::vector<std::string> names(const Schema& s) {
  std::vector<std::string> out;
  for (const auto& c : s.children) out.push_back(c.name);
  return out;
}

std::string list_text(const std::vector<std::string>& v) {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) out += (i ? ", " : "") + v[i];
  return out;
}

// ---------------------------------------------------------------------------------------------
// Canonical scalar text for the effective YAML (plain when unambiguous, else double-quoted).

bool plain_safe(const std::string& s) {
  if (s.empty()) return false;
  static const std::set<std::string> special = {"true", "false", "yes", "no", "on",
                                                "off",  "null",  "~",   "y",  "n"};
  std::string lower = s;
  std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
  if (special.count(lower)) return false;
  for (char c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.' ||
          c == '/' || c == '+'))
      return false;
  return s[0] != '-' || s.size() > 1;
}

std::string quote(const std::string& s) {
  if (plain_safe(s)) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned char>(c));
      out += buf;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

// Flow-style canonical form of an arbitrary node (keys sorted): the probe: mapping's effective
// form, which keeps what was written (a model given as a path stays a path).
std::string canonical_flow(const YAML::Node& n) {
  if (!n.IsDefined() || n.IsNull()) return "null";
  if (n.IsScalar()) return quote(n.Scalar());
  if (n.IsSequence()) {
    std::string out = "[";
    for (size_t i = 0; i < n.size(); ++i) out += (i ? ", " : "") + canonical_flow(n[i]);
    return out + "]";
  }
  std::vector<std::pair<std::string, std::string>> items;
  for (const auto& kv : n) items.emplace_back(canonical_flow(kv.first), canonical_flow(kv.second));
  std::sort(items.begin(), items.end());
  std::string out = "{";
  for (size_t i = 0; i < items.size(); ++i)
    out += (i ? ", " : "") + items[i].first + ": " + items[i].second;
  return out + "}";
}

// ---------------------------------------------------------------------------------------------
// Reading and validating the YAML tree.

// A value in the tree with where it came from.
struct Item {
  YAML::Node node;
  std::string path;     // dotted key, list elements as key[i]
  YAML::Mark key_mark;  // the key's position (null for the root and list elements)
  // The value's own mark points past the key for empty values, so those report the key's line.
  YAML::Mark mark() const {
    if (node.IsDefined() && !node.IsNull() && !node.Mark().is_null()) return node.Mark();
    return key_mark;
  }
};

std::string describe(const YAML::Node& n) {
  if (!n.IsDefined() || n.IsNull()) return "null";
  if (n.IsSequence()) return "a list";
  if (n.IsMap()) return "a mapping";
  return "'" + n.Scalar() + "'";
}

class Reader {
 public:
  Reader(std::string source, std::vector<std::string> overridden)
      : source_(std::move(source)), overridden_(std::move(overridden)) {}

  bool from_override(const std::string& path) const {
    for (const auto& o : overridden_) {
      if (path == o) return true;
      if (path.size() > o.size() && path.compare(0, o.size(), o) == 0 &&
          (path[o.size()] == '.' || path[o.size()] == '['))
        return true;
    }
    return false;
  }

  // "job.yaml:12", "job.yaml:(--set)", or "job.yaml" without a line.
  std::string where(const std::string& path, const YAML::Mark& mark) const {
    if (from_override(path)) return source_ + ":(--set)";
    if (!mark.is_null()) return source_ + ":" + std::to_string(mark.line + 1);
    return source_;
  }
  // "job.yaml:7: probe.shards": where a key is written, for messages only a later stage can give
  // (a missing file); the key's line, or the value's for list elements.
  std::string where_key(const Item& it) const {
    return where(it.path, it.key_mark.is_null() ? it.mark() : it.key_mark) + ": " + it.path;
  }

  [[noreturn]] void fail(const std::string& path, const YAML::Mark& mark,
                         const std::string& msg) const {
    throw JobError(where(path, mark) + ": " + (path.empty() ? std::string("(top level)") : path) +
                   ": " + msg);
  }
  [[noreturn]] void fail(const Item& it, const std::string& msg) const {
    fail(it.path, it.mark(), msg);
  }

  // --- scalars ---------------------------------------------------------------------------

  const std::string& scalar(const Item& it, const char* what) const {
    if (!it.node.IsDefined() || !it.node.IsScalar())
      fail(it, std::string("must be ") + what + " (got " + describe(it.node) + ")");
    return it.node.Scalar();
  }

  int64_t integer(const Item& it) const {
    const std::string& s = scalar(it, "an integer");
    const char* b = s.data();
    const char* e = b + s.size();
    if (b != e && *b == '+') ++b;
    int64_t v = 0;
    auto r = std::from_chars(b, e, v);
    if (r.ec == std::errc::result_out_of_range) fail(it, "integer out of range (got " + s + ")");
    if (r.ec != std::errc() || r.ptr != e || b == e)
      fail(it, "must be an integer (got " + describe(it.node) + ")");
    return v;
  }

  int int_at_least(const Item& it, int64_t lo) const {
    const int64_t v = integer(it);
    if (v < lo) fail(it, "must be >= " + std::to_string(lo) + " (got " + std::to_string(v) + ")");
    if (v > std::numeric_limits<int>::max())
      fail(it, "must be <= " + std::to_string(std::numeric_limits<int>::max()) + " (got " +
                   std::to_string(v) + ")");
    return static_cast<int>(v);
  }

  // An integer in [lo, hi], where hi is one of the caps (docs/job-file.md, "Caps"): the message
  // says why the cap exists.
  int64_t capped(const Item& it, int64_t lo, int64_t hi, const std::string& why) const {
    const int64_t v = integer(it);
    if (v < lo) fail(it, "must be >= " + std::to_string(lo) + " (got " + std::to_string(v) + ")");
    if (v > hi)
      fail(it, "must be <= " + std::to_string(hi) + " (got " + std::to_string(v) + "; " + why +
                   ", docs/job-file.md \"Caps\")");
    return v;
  }
  int capped_int(const Item& it, int64_t lo, int64_t hi, const std::string& why) const {
    return static_cast<int>(capped(it, lo, std::min<int64_t>(hi, INT32_MAX), why));
  }

  int64_t int64_at_least(const Item& it, int64_t lo) const {
    return int64_in(it, lo, std::numeric_limits<int64_t>::max());
  }

  int64_t int64_in(const Item& it, int64_t lo, int64_t hi) const {
    const int64_t v = integer(it);
    if (v < lo) fail(it, "must be >= " + std::to_string(lo) + " (got " + std::to_string(v) + ")");
    if (v > hi) fail(it, "must be <= " + std::to_string(hi) + " (got " + std::to_string(v) + ")");
    return v;
  }

  uint64_t unsigned64(const Item& it) const {
    const std::string& s = scalar(it, "a non-negative integer");
    uint64_t v = 0;
    auto r = std::from_chars(s.data(), s.data() + s.size(), v);
    if (r.ec == std::errc::result_out_of_range) fail(it, "integer out of range (got " + s + ")");
    if (r.ec != std::errc() || r.ptr != s.data() + s.size() || s.empty())
      fail(it, "must be a non-negative integer (got " + describe(it.node) + ")");
    return v;
  }

  // from_chars, not strtod: the decimal point must not depend on the process locale.
  double number(const Item& it) const {
    const std::string& s = scalar(it, "a number");
    const char* b = s.data();
    const char* e = b + s.size();
    if (b != e && *b == '+') ++b;
    double v = 0;
    auto r = std::from_chars(b, e, v);
    if (r.ec != std::errc() || r.ptr != e || b == e)
      fail(it, "must be a number (got " + describe(it.node) + ")");
    if (!std::isfinite(v)) fail(it, "must be a finite number (got " + s + ")");
    return v + 0.0;  // -0 → +0, so keys never show "-0"
  }

  bool boolean(const Item& it) const {
    scalar(it, "true or false");
    bool v = false;
    if (!YAML::convert<bool>::decode(it.node, v))
      fail(it, "must be true or false (got " + describe(it.node) + ")");
    return v;
  }

  template <class E>
  E choice(const Item& it, const std::vector<std::pair<std::string, E>>& options) const {
    std::vector<std::string> allowed;
    for (const auto& o : options) allowed.push_back(o.first);
    const std::string& s = scalar(it, ("one of: " + list_text(allowed)).c_str());
    for (const auto& o : options)
      if (o.first == s) return o.second;
    fail(it, "unknown value '" + s + "' (allowed: " + list_text(allowed) + ")");
  }

 private:
  std::string source_;
  std::vector<std::string> overridden_;
};

// A mapping whose keys have been checked against the schema (unknown, duplicate, non-string).
class Section {
 public:
  Section(const Reader& r, const Item& item, const Schema& schema) : r_(r), item_(item) {
    if (item.node.IsDefined() && !item.node.IsNull() && !item.node.IsMap())
      r.fail(item, "must be a mapping (got " + describe(item.node) + ")");
    if (!item.node.IsDefined() || item.node.IsNull()) return;  // "train:" alone = all defaults
    const auto known = names(schema);
    for (const auto& kv : item.node) {
      if (!kv.first.IsScalar())
        r.fail(item.path, kv.first.Mark(),
               "keys must be plain names (got " + describe(kv.first) + ")");
      const std::string key = kv.first.Scalar();
      const std::string path = join(item.path, key);
      if (!schema.child(key)) {
        const std::string hint = suggestion(key, known, item.path);
        r.fail(path, kv.first.Mark(),
               "unknown key" + (hint.empty() ? " (known: " + list_text(known) + ")" : hint));
      }
      auto [it, fresh] = entries_.emplace(key, Item{kv.second, path, kv.first.Mark()});
      if (!fresh)
        r.fail(
            path, kv.first.Mark(),
            "duplicate key (first at line " + std::to_string(it->second.key_mark.line + 1) + ")");
    }
  }

  std::optional<Item> get(const std::string& key) const {
    auto it = entries_.find(key);
    if (it == entries_.end()) return std::nullopt;
    return it->second;
  }

  Item require(const std::string& key, const std::string& why = "") const {
    auto v = get(key);
    if (!v) {
      // Missing keys are reported at the line of the mapping that should hold them (line 1 for
      // the top level).
      r_.fail(join(item_.path, key), item_.path.empty() ? YAML::Mark() : item_.key_mark,
              "missing required key" + why);
    }
    return *v;
  }

  const Item& item() const { return item_; }

 private:
  const Reader& r_;
  Item item_;
  std::map<std::string, Item> entries_;
};

// --- grid axes ------------------------------------------------------------------------------

// --- caps -------------------------------------------------------------------------------------
// Every size a job can set has a cap far above the study's (docs/experiments.md: depths to a few
// hundred, widths to a few thousand, steps to ~1e6, grids of hundreds of tasks) and far below
// what hangs the planner or reaches LibTorch as an absurd tensor; docs/job-file.md lists them.
constexpr int64_t kMaxAxisCount = 10000;  // values of one grid axis (list or {lin,log}space)
constexpr int64_t kMaxTasks = 100000;     // grid points of a toy job (the product of its axes)
constexpr int kMaxDepth = 1 << 16;        // grid.depth, grid/model.teacher_depth, teacher_groups
constexpr int kMaxWidth = 1 << 14;        // model.width, teacher_width, input_dim, grid.width
constexpr int kMaxVocab = 1 << 20;        // model.vocab
constexpr int64_t kMaxSteps = 100000000;  // train.steps, eval.every, checkpoint_every (1e8)
constexpr int kMaxBatch = 1 << 20;        // train.batch
constexpr int kMaxEvalBatches = 10000;    // train.eval.batches
constexpr int kMaxProbeInputs = 1 << 20;  // probe_hidden.inputs
constexpr int kMaxThreads = 1024;         // run.threads (intra-op threads of one rank)
constexpr int kMaxTeacher = 1000000;      // grid.teacher: replicate indices
constexpr int kMaxProbeBatch = 4096;      // probe.batch: documents per batch
constexpr int kMaxProbeTokens = 1 << 20;  // probe.max_tokens
constexpr int64_t kMaxBatchTokens = int64_t(1) << 24;  // probe.batch × probe.max_tokens
constexpr size_t kMaxJobFileBytes = 1 << 20;           // a job file (1 MiB) and each --set value

struct AxisValue {
  double value;
  Item where;
};

std::vector<AxisValue> read_axis(const Reader& r, const Item& axis, bool integers) {
  std::vector<AxisValue> out;
  const YAML::Node& n = axis.node;
  // A bare number is refused rather than read as a one-value axis: "teacher: 3" would otherwise
  // silently mean replicate 3, not three replicates.
  const bool teacher = axis.path == "grid.teacher";
  if (n.IsDefined() && n.IsSequence()) {
    if (n.size() > size_t(kMaxAxisCount))
      r.fail(axis, "has " + std::to_string(n.size()) + " values; a grid axis holds at most " +
                       std::to_string(kMaxAxisCount) +
                       " (a guard against runaway sweeps: split the job, or use run.slice)");
    for (size_t i = 0; i < n.size(); ++i) {
      Item el{n[i], axis.path + "[" + std::to_string(i) + "]", axis.mark()};
      out.push_back({integers ? static_cast<double>(r.integer(el)) : r.number(el), el});
    }
    if (out.empty()) r.fail(axis, "empty grid axis (needs at least one value)");
    return out;
  }
  if (integers || !n.IsDefined() || !n.IsMap()) {
    // One value is a list too: say how to write it (grid.depth=6 → grid.depth=[6]).
    const std::string hint = n.IsDefined() && n.IsScalar() && !teacher
                                 ? "; one value is a list too: [" + n.Scalar() + "]"
                                 : "";
    r.fail(axis, std::string("must be a list") +
                     (teacher    ? " of replicate indices such as [0, 1, 2]"
                      : integers ? " of integers"
                                 : ", {logspace: [lo_exp, hi_exp, count]} or "
                                   "{linspace: [lo, hi, count]}") +
                     " (got " + describe(n) + hint + ")");
  }
  const Schema spaces = section("", {leaf("logspace"), leaf("linspace")});
  Section sec(r, axis, spaces);
  auto log = sec.get("logspace");
  auto lin = sec.get("linspace");
  if (log && lin) r.fail(axis, "give one of logspace or linspace, not both");
  if (!log && !lin) r.fail(axis, "empty grid axis (expected logspace or linspace)");
  const Item spec = log ? *log : *lin;
  const char* form = log ? "[lo_exp, hi_exp, count]" : "[lo, hi, count]";
  if (!spec.node.IsSequence() || spec.node.size() != 3)
    r.fail(spec, std::string("expected ") + form + " (got " +
                     (spec.node.IsSequence() ? std::to_string(spec.node.size()) + " values"
                                             : describe(spec.node)) +
                     ")");
  const double lo = r.number({spec.node[0], spec.path + "[0]", spec.mark()});
  const double hi = r.number({spec.node[1], spec.path + "[1]", spec.mark()});
  const Item count_item{spec.node[2], spec.path + "[2]", spec.mark()};
  const int64_t count = r.int64_at_least(count_item, 1);
  if (count > kMaxAxisCount)
    r.fail(count_item,
           "must be <= " + std::to_string(kMaxAxisCount) + " (got " + std::to_string(count) + ")");
  const auto values =
      log ? logspace(lo, hi, static_cast<int>(count)) : linspace(lo, hi, static_cast<int>(count));
  for (double v : values) out.push_back({v + 0.0, spec});
  return out;
}

void reject_duplicates(const Reader& r, const std::vector<AxisValue>& values) {
  std::map<double, size_t> first;  // value → its first index (n log n: axes hold up to 10^4)
  for (size_t i = 0; i < values.size(); ++i) {
    auto [it, fresh] = first.emplace(values[i].value, i);
    if (fresh) continue;
    const AxisValue& earlier = values[it->second];
    r.fail(values[i].where,
           "duplicate grid value " + format_number(values[i].value) +
               (values[i].where.path != earlier.where.path ? " (also at " + earlier.where.path + ")"
                                                           : ""));
  }
}

// --- overrides ------------------------------------------------------------------------------

struct Override {
  std::string text;  // "train.steps=2000"
  std::vector<std::string> path;
  std::string dotted;
  YAML::Node value;
};

Override parse_override(const std::string& source, const std::string& text) {
  auto bad = [&](const std::string& msg) -> JobError {
    return JobError(source + ": --set " + text + ": " + msg);
  };
  const auto eq = text.find('=');
  if (eq == std::string::npos) throw bad("expected key=value");
  if (text.size() > kMaxJobFileBytes)
    throw JobError(source + ": --set " + text.substr(0, eq) + "=...: the value has " +
                   std::to_string(text.size() - eq - 1) + " bytes; at most " +
                   std::to_string(kMaxJobFileBytes) + " (docs/job-file.md \"Caps\")");
  Override o;
  o.text = text;
  std::string key = text.substr(0, eq);
  while (!key.empty() && std::isspace(static_cast<unsigned char>(key.back()))) key.pop_back();
  while (!key.empty() && std::isspace(static_cast<unsigned char>(key.front()))) key.erase(0, 1);
  o.dotted = key;
  std::stringstream ss(key);
  std::string part;
  while (std::getline(ss, part, '.')) o.path.push_back(part);
  if (key.empty() || key.back() == '.' ||
      std::any_of(o.path.begin(), o.path.end(), [](const std::string& p) { return p.empty(); }))
    throw bad("expected key=value with a dotted key such as train.steps");
  try {
    o.value = YAML::Load(text.substr(eq + 1));
  } catch (const YAML::Exception& e) {
    throw bad("value is not valid YAML: " + e.msg);
  }

  // The path must name a known key; below a deferred one (probe:) the section's reader checks it.
  const Schema* s = &job_schema();
  std::string prefix;
  for (const auto& p : o.path) {
    if (s->deferred) break;
    const Schema* c = s->child(p);
    if (!c) {
      throw bad("unknown key " + join(prefix, p) + suggestion(p, names(*s), prefix));
    }
    prefix = join(prefix, p);
    s = c;
  }
  return o;
}

// Sets parent[key] = value, merging a mapping into an existing mapping key by key; records the
// dotted paths it sets (errors under them then say --set).
void merge_value(YAML::Node parent, const std::string& key, const YAML::Node& value,
                 const std::string& dotted, std::vector<std::string>& touched) {
  YAML::Node existing = parent[key];
  if (value.IsMap() && existing.IsDefined() && existing.IsMap()) {
    for (const auto& kv : value) {
      if (!kv.first.IsScalar()) {  // left to the section's reader to refuse, as from the file
        existing[kv.first] = kv.second;
        touched.push_back(dotted);
        continue;
      }
      merge_value(existing, kv.first.Scalar(), kv.second, dotted + "." + kv.first.Scalar(),
                  touched);
    }
    return;
  }
  parent[key] = value;
  touched.push_back(dotted);
}

// Sets the value at o.path, creating missing mappings; returns the dotted paths it created or
// replaced (errors under them are reported as coming from --set).
void apply_override(YAML::Node root, const Override& o, const std::string& source,
                    std::vector<std::string>& touched) {
  YAML::Node cur = root;
  std::string prefix;
  for (size_t i = 0; i + 1 < o.path.size(); ++i) {
    prefix = join(prefix, o.path[i]);
    YAML::Node next = cur[o.path[i]];
    if (!next.IsDefined() || next.IsNull()) {
      cur[o.path[i]] = YAML::Node(YAML::NodeType::Map);
      touched.push_back(prefix);
    } else if (!next.IsMap()) {
      throw JobError(source + ": --set " + o.text + ": cannot set " + o.dotted + ": " + prefix +
                     " is not a mapping");
    }
    // reset(), not operator=: assignment would overwrite the node cur refers to.
    cur.reset(cur[o.path[i]]);
  }
  // A mapping given for a mapping merges into it (`--set 'train={steps: 3}'` changes train.steps
  // and keeps the file's other train: keys), key by key and recursively; anything else replaces.
  merge_value(cur, o.path.back(), o.value, o.dotted, touched);
}

// --- the effective (canonical) form ----------------------------------------------------------

struct Field {
  std::vector<std::string> path;
  std::string value;               // the YAML text of the value
  std::vector<std::string> items;  // grid axes: each value's text
  bool axis = false;
};

std::string dotted(const std::vector<std::string>& path) {
  std::string out;
  for (const auto& p : path) out = join(out, p);
  return out;
}

template <class T>
std::optional<Field> axis_field(const char* name, const std::vector<T>& values) {
  if (values.empty()) return std::nullopt;  // depth/teacher of a probe job without a grid
  Field f{{"grid", name}, "[", {}, true};
  for (const auto& v : values) {
    f.items.push_back(format_number(static_cast<double>(v)));
    f.value += (f.items.size() > 1 ? ", " : "") + f.items.back();
  }
  f.value += "]";
  return f;
}

// `probe_flow`: the canonical_flow text of the probe: mapping ("" for toy jobs).
std::vector<Field> fields(const Job& j, const std::string& probe_flow) {
  auto i = [](int64_t v) { return std::to_string(v); };
  auto b = [](bool v) { return std::string(v ? "true" : "false"); };
  std::vector<Field> f = {
      {{"name"}, quote(j.name), {}, false},
      {{"kind"}, to_string(j.kind), {}, false},
      {{"seed"}, std::to_string(j.seed), {}, false},
      {{"model", "width"}, i(j.model.width), {}, false},
      {{"model", "vocab"}, i(j.model.vocab), {}, false},
      {{"model", "teacher_depth"}, i(j.model.teacher_depth), {}, false},
      {{"model", "block"}, to_string(j.model.block), {}, false},
      {{"model", "head"}, to_string(j.model.head), {}, false},
      {{"train", "loss"}, to_string(j.train.loss), {}, false},
      {{"train", "steps"}, i(j.train.steps), {}, false},
      {{"train", "batch"}, i(j.train.batch), {}, false},
      {{"train", "lr", "base"}, format_number(j.train.lr.base), {}, false},
      {{"train", "lr", "depth_scaling"}, to_string(j.train.lr.depth_scaling), {}, false},
      {{"train", "lr", "schedule"}, to_string(j.train.lr.schedule), {}, false},
      {{"train", "inputs"}, to_string(j.train.inputs), {}, false},
      {{"train", "eval", "every"}, i(j.train.eval.every), {}, false},
      {{"train", "eval", "batches"}, i(j.train.eval.batches), {}, false},
      {{"train", "checkpoint_every"}, i(j.train.checkpoint_every), {}, false},
      {{"train", "student_temperature"}, b(j.train.student_temperature), {}, false},
      {{"probe_hidden", "inputs"}, i(j.probe_hidden.inputs), {}, false},
      {{"run", "unit_size"}, i(j.run.unit_size), {}, false},
      {{"run", "threads"}, i(j.run.threads), {}, false},
      {{"run", "device"}, to_string(j.run.device), {}, false},
      {{"run", "engine"}, to_string(j.run.engine), {}, false},
      {{"run", "slice"},
       std::to_string(j.run.slice_index) + "/" + std::to_string(j.run.slice_count),
       {},
       false},
  };
  // Keys beyond the study's appear only when used, so the effective text of every job written
  // before them (and the comparison on resume) is unchanged.
  if (j.model.teacher_width != j.model.width)
    f.push_back({{"model", "teacher_width"}, i(j.model.teacher_width), {}, false});
  if (j.model.input_dim != j.model.teacher_width)
    f.push_back({{"model", "input_dim"}, i(j.model.input_dim), {}, false});
  // Teacher groups replace the rho axis (ρ then follows from K).
  const std::vector<double> no_rho;
  const auto& rho = j.grid.teacher_groups.empty() ? j.grid.rho : no_rho;
  for (auto axis :
       {axis_field("temperature", j.grid.temperature), axis_field("rho", rho),
        axis_field("depth", j.grid.depth), axis_field("teacher", j.grid.teacher),
        axis_field("width", j.grid.width), axis_field("teacher_depth", j.grid.teacher_depth),
        axis_field("teacher_groups", j.grid.teacher_groups)})
    if (axis) f.push_back(*axis);
  if (!probe_flow.empty()) f.push_back({{"probe"}, probe_flow, {}, false});
  std::sort(f.begin(), f.end(), [](const Field& a, const Field& b) { return a.path < b.path; });
  return f;
}

std::string emit_effective(const Job& j, const std::string& probe_flow) {
  std::string out;
  std::vector<std::string> open;  // the mapping headers currently open
  for (const auto& f : fields(j, probe_flow)) {
    const std::vector<std::string> parents(f.path.begin(), f.path.end() - 1);
    size_t common = 0;
    while (common < open.size() && common < parents.size() && open[common] == parents[common])
      ++common;
    for (size_t k = common; k < parents.size(); ++k)
      out += std::string(2 * k, ' ') + parents[k] + ":\n";
    open = parents;
    out += std::string(2 * parents.size(), ' ') + f.path.back() + ": " + f.value + "\n";
  }
  return out;
}

// Settings that change how a sweep runs but not any result; resuming may change them freely.
bool operational(const std::string& key) {
  return key == "run.unit_size" || key == "run.threads" || key == "train.checkpoint_every" ||
         key == "run.engine";
  // (run.slice is not here: a slice file belongs to its slice.)
}

// --- the job ---------------------------------------------------------------------------------

template <class E>
using Options = std::vector<std::pair<std::string, E>>;

// --- probe: ----------------------------------------------------------------------------------

bool valid_name(const std::string& n) {
  return !n.empty() && n != "." && n != ".." && std::all_of(n.begin(), n.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
  });
}

std::string folder_name(std::string path) {
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  return std::filesystem::path(path).filename().string();
}

// A path or glob, or a list of them (at least one).
std::vector<std::string> paths(const Reader& r, const Item& it) {
  std::vector<std::string> out;
  if (it.node.IsSequence()) {
    for (size_t i = 0; i < it.node.size(); ++i)
      out.push_back(r.scalar(Item{it.node[i], it.path + "[" + std::to_string(i) + "]", it.mark()},
                             "a path or glob"));
    if (out.empty()) r.fail(it, "empty list (needs at least one path or glob)");
  } else {
    out.push_back(r.scalar(it, "a path or glob, or a list of them"));
  }
  for (const auto& p : out)
    if (p.empty()) r.fail(it, "empty path");
  return out;
}

ProbeSpec read_probe(const Reader& r, const Item& item, const Schema& schema, Device run_device) {
  const Section p(r, item, schema);
  ProbeSpec spec;
  if (auto v = p.get("shards")) {
    spec.shards = paths(r, *v);
    spec.shards_where = r.where_key(*v);
  }
  const Item models = p.require("models", " (a list of model folders)");
  if (!models.node.IsSequence() || models.node.size() == 0)
    r.fail(models, "must be a non-empty list of model folders or {name, path} mappings (got " +
                       describe(models.node) + ")");
  std::set<std::string> names;
  for (size_t i = 0; i < models.node.size(); ++i) {
    const YAML::Node n = models.node[i];
    const Item at{n, models.path + "[" + std::to_string(i) + "]", n.Mark()};
    ProbeModelSpec m;
    m.where = r.where_key(at);
    if (n.IsScalar()) {
      m.path = r.scalar(at, "a model folder");
      m.name = folder_name(m.path);
      m.path_where = m.where;
    } else if (n.IsMap()) {
      const Section e(r, at, *schema.child("models"));
      const Item path = e.require("path", " (the model folder)");
      m.path = r.scalar(path, "a model folder");
      m.path_where = r.where_key(path);
      if (auto v = e.get("name")) {
        m.name = r.scalar(*v, "a name");
        if (!valid_name(m.name))
          r.fail(*v, "must be letters, digits, '-', '_' or '.' (got '" + m.name + "')");
      } else {
        m.name = folder_name(m.path);
      }
      if (auto v = e.get("shards")) {
        m.shards = paths(r, *v);
        m.shards_where = r.where_key(*v);
      }
    } else {
      r.fail(at, "must be a model folder or a {name, path} mapping (got " + describe(n) + ")");
    }
    if (m.path.empty()) r.fail(at, "empty model path");
    if (!valid_name(m.name))
      r.fail(at, "the folder name '" + m.name +
                     "' cannot name an HDF5 group: give the model a name (letters, digits, '-', "
                     "'_', '.')");
    if (!names.insert(m.name).second)
      r.fail(at, "duplicate model name '" + m.name + "' (names must be unique)");
    if (m.shards.empty() && spec.shards.empty())
      r.fail("probe.shards", item.key_mark,
             "missing required key (token shards for " + m.name + ")");
    spec.models.push_back(std::move(m));
  }
  if (auto v = p.get("documents")) spec.documents = r.int64_at_least(*v, 1);
  std::optional<Item> max_tokens_item, batch_item;
  if ((max_tokens_item = p.get("max_tokens")))
    spec.max_tokens = r.capped_int(*max_tokens_item, 2, kMaxProbeTokens,
                                   "contexts beyond this are typos (the study's: 1024)");
  if ((batch_item = p.get("batch")))
    spec.batch = r.capped_int(*batch_item, 1, kMaxProbeBatch,
                              "documents per batch beyond this are typos (the study's: 48)");
  if (int64_t(spec.batch) * spec.max_tokens > kMaxBatchTokens) {
    const std::string msg =
        "probe.batch × probe.max_tokens = " + std::to_string(spec.batch) + " × " +
        std::to_string(spec.max_tokens) + " tokens per batch; at most " +
        std::to_string(kMaxBatchTokens) +
        " (one batch's hidden states must fit a worker; the study's: 48 × 1024)";
    r.fail(batch_item ? *batch_item : *max_tokens_item, msg);
  }
  if (auto v = p.get("dtype"))
    spec.dtype =
        r.choice(*v, Options<std::string>{
                         {"float32", "float32"}, {"bfloat16", "bfloat16"}, {"float16", "float16"}});
  spec.device = run_device;
  if (auto v = p.get("device"))
    spec.device = r.choice(*v, Options<Device>{{"cpu", Device::Cpu}, {"cuda", Device::Cuda}});
  if (auto v = p.get("store_per_token")) spec.store_per_token = r.boolean(*v);
  if (auto v = p.get("check_tokenizer")) spec.check_tokenizer = r.boolean(*v);
  if (auto v = p.get("separator"))
    spec.separator = uint32_t(r.int64_in(*v, 0, std::numeric_limits<uint32_t>::max()));
  if (auto v = p.get("keep_separator")) spec.keep_separator = r.boolean(*v);
  if (auto v = p.get("last_hidden"))
    spec.last_hidden = r.choice(*v, Options<LastHidden>{{"final_norm", LastHidden::FinalNorm},
                                                        {"last_block", LastHidden::LastBlock}});
  if (auto v = p.get("metrics")) {
    // A list of metric names, kept in the file's canonical order whatever order they are given.
    std::vector<std::string> given;
    if (v->node.IsSequence()) {
      for (size_t i = 0; i < v->node.size(); ++i)
        given.push_back(r.scalar(
            Item{v->node[i], v->path + "[" + std::to_string(i) + "]", v->mark()}, "a metric name"));
    } else {
      given.push_back(r.scalar(*v, "a list of metric names"));
    }
    for (const auto& g : given)
      if (std::find(kProbeMetrics.begin(), kProbeMetrics.end(), g) == kProbeMetrics.end())
        r.fail(*v, "unknown metric '" + g + "' (allowed: " + list_text(kProbeMetrics) + ")");
    if (std::find(given.begin(), given.end(), "theta") == given.end())
      r.fail(*v, "must include theta (the θ PCA and the early-stop statistic need it)");
    spec.metrics.clear();
    for (const auto& m : kProbeMetrics)
      if (std::find(given.begin(), given.end(), m) != given.end()) spec.metrics.push_back(m);
  }
  if (auto v = p.get("angles"))
    spec.angles = r.choice(*v, Options<AnglePrecision>{{"float64", AnglePrecision::Float64},
                                                       {"bfloat16", AnglePrecision::BFloat16}});
  if (auto v = p.get("early_stop_pc1")) spec.early_stop_pc1 = r.number(*v);
  return spec;
}

// `probe_flow` receives the probe: mapping's canonical text for the effective form.
Job build(const Reader& r, const YAML::Node& root, std::string& probe_flow) {
  Job job;
  const Section top(r, Item{root, "", YAML::Mark::null_mark()}, job_schema());
  const Schema& S = job_schema();

  {
    const Item name = top.require("name");
    job.name = r.scalar(name, "a string");
    const std::string& n = job.name;
    const bool ok =
        !n.empty() && n != "." && n != ".." && std::all_of(n.begin(), n.end(), [](char c) {
          return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
        });
    // The name becomes file names (results/<name>.h5), so keep it to a safe alphabet.
    if (!ok) r.fail(name, "must be letters, digits, '-', '_' or '.' (got '" + n + "')");
  }
  job.kind = r.choice(top.require("kind"),
                      Options<JobKind>{{"toy", JobKind::Toy}, {"probe", JobKind::Probe}});
  if (auto v = top.get("seed")) {
    job.seed = r.unsigned64(*v);
  } else {
    // The documented default (docs/job-file.md), said aloud: two jobs without a seed draw the
    // same teachers, inputs and initial weights.
    spdlog::warn("{}: seed: not given, so the job's master seed is 0 (set seed: to choose one)",
                 r.where("seed", YAML::Mark::null_mark()));
  }

  // grid
  const bool toy = job.kind == JobKind::Toy;
  std::optional<Item> teacher_groups_item;
  std::optional<Item> grid_item = top.get("grid");
  if (!grid_item && toy) top.require("grid", " (kind toy needs grid.depth and grid.teacher)");
  job.grid.temperature = {1.0};
  job.grid.rho = {0.0};
  if (grid_item) {
    const Section grid(r, *grid_item, *S.child("grid"));
    if (auto t = grid.get("temperature")) {
      auto vals = read_axis(r, *t, false);
      for (const auto& v : vals)
        if (!(v.value > 0))
          r.fail(v.where, "temperature must be > 0 (got " + format_number(v.value) + ")");
      reject_duplicates(r, vals);
      job.grid.temperature.clear();
      for (const auto& v : vals) job.grid.temperature.push_back(v.value);
    }
    if (auto t = grid.get("rho")) {
      auto vals = read_axis(r, *t, false);
      for (const auto& v : vals)
        if (!(v.value >= 0 && v.value <= 1))
          r.fail(v.where, "rho must be in [0, 1] (got " + format_number(v.value) + ")");
      reject_duplicates(r, vals);
      job.grid.rho.clear();
      for (const auto& v : vals) job.grid.rho.push_back(v.value);
    }
    auto int_axis = [&](const char* key, int lo, int hi, std::vector<int>& dst) {
      std::optional<Item> t = toy ? grid.require(key) : grid.get(key);
      if (!t) return;
      auto vals = read_axis(r, *t, true);
      for (const auto& v : vals) {
        if (v.value < lo)
          r.fail(v.where, std::string(key) + " must be >= " + std::to_string(lo) + " (got " +
                              format_number(v.value) + ")");
        if (v.value > hi)
          r.fail(v.where, std::string(key) + " must be <= " + std::to_string(hi) + " (got " +
                              format_number(v.value) +
                              "; a cap far above any real sweep, docs/job-file.md \"Caps\")");
      }
      reject_duplicates(r, vals);
      for (const auto& v : vals) dst.push_back(static_cast<int>(v.value));
    };
    int_axis("depth", 1, kMaxDepth, job.grid.depth);
    int_axis("teacher", 0, kMaxTeacher, job.grid.teacher);
    if (toy) {
      // The axes beyond the study's are optional.
      auto optional_axis = [&](const char* key, int hi,
                               std::vector<int>& dst) -> std::optional<Item> {
        auto t = grid.get(key);
        if (!t) return std::nullopt;
        auto vals = read_axis(r, *t, true);
        for (const auto& v : vals)
          if (v.value < 1 || v.value > hi)
            r.fail(v.where, std::string(key) + " must be in 1.." + std::to_string(hi) + " (got " +
                                format_number(v.value) + ")");
        reject_duplicates(r, vals);
        for (const auto& v : vals) dst.push_back(static_cast<int>(v.value));
        return t;
      };
      optional_axis("width", kMaxWidth, job.grid.width);
      optional_axis("teacher_depth", kMaxDepth, job.grid.teacher_depth);
      if (auto k = optional_axis("teacher_groups", kMaxDepth, job.grid.teacher_groups)) {
        if (grid.get("rho"))
          r.fail(*k,
                 "cannot be combined with grid.rho (teacher groups tie layers exactly; K = 1 is "
                 "the teacher of rho 1 and K = teacher depth the one of rho 0)");
        teacher_groups_item = k;
      }
    } else {
      for (const char* key : {"width", "teacher_depth", "teacher_groups"})
        if (auto t = grid.get(key)) r.fail(*t, "only allowed with kind: toy");
    }
  }

  // model
  std::optional<Item> head_item, teacher_width_item;
  if (auto m = top.get("model")) {
    const Section model(r, *m, *S.child("model"));
    const std::string wide = "widths beyond this are typos (the study's are 8 to a few thousand)";
    if (auto v = model.get("width")) job.model.width = r.capped_int(*v, 1, kMaxWidth, wide);
    if (auto v = model.get("vocab"))
      job.model.vocab = r.capped_int(*v, 1, kMaxVocab, "vocabularies beyond this are typos");
    if (auto v = model.get("teacher_depth"))
      job.model.teacher_depth =
          r.capped_int(*v, 1, kMaxDepth, "depths beyond this are typos (the study's: 128)");
    job.model.teacher_width = job.model.width;
    if ((teacher_width_item = model.get("teacher_width")))
      job.model.teacher_width = r.capped_int(*teacher_width_item, 1, kMaxWidth, wide);
    job.model.input_dim = job.model.teacher_width;
    if (auto v = model.get("input_dim")) {
      job.model.input_dim = r.capped_int(*v, 1, kMaxWidth, wide);
      if (job.model.input_dim > job.model.teacher_width)
        r.fail(*v, "must be <= the teacher's width " + std::to_string(job.model.teacher_width) +
                       " (the inputs are embedded in it; got " +
                       std::to_string(job.model.input_dim) + ")");
    }
    if (auto v = model.get("block"))
      job.model.block = r.choice(*v, Options<Block>{{"plain", Block::Plain}, {"rk2", Block::Rk2}});
    if ((head_item = model.get("head")))
      job.model.head = r.choice(*head_item, Options<Head>{{"trained", Head::Trained},
                                                          {"teacher", Head::Teacher},
                                                          {"none", Head::None}});
  }

  // train
  std::optional<Item> loss_item;
  if (auto t = top.get("train")) {
    const Section train(r, *t, *S.child("train"));
    if (auto v = train.get("loss")) {
      job.train.loss = r.choice(*v, Options<Loss>{{"kl", Loss::Kl}, {"mse", Loss::Mse}});
      loss_item = v;
    }
    const std::string long_run = "1e8 steps is 100x the longest run of the study";
    if (auto v = train.get("steps")) job.train.steps = r.capped(*v, 1, kMaxSteps, long_run);
    if (auto v = train.get("batch"))
      job.train.batch =
          r.capped_int(*v, 1, kMaxBatch, "batches beyond this are typos (the study's: 1024)");
    if (auto l = train.get("lr")) {
      const Section lr(r, *l, *S.child("train")->child("lr"));
      if (auto v = lr.get("base")) {
        job.train.lr.base = r.number(*v);
        if (!(job.train.lr.base > 0))
          r.fail(*v, "must be > 0 (got " + format_number(job.train.lr.base) + ")");
      }
      if (auto v = lr.get("depth_scaling"))
        job.train.lr.depth_scaling =
            r.choice(*v, Options<DepthScaling>{{"none", DepthScaling::None},
                                               {"inv_sqrt", DepthScaling::InvSqrt}});
      if (auto v = lr.get("schedule"))
        job.train.lr.schedule =
            r.choice(*v, Options<Schedule>{{"constant", Schedule::Constant},
                                           {"linear_tail", Schedule::LinearTail}});
    }
    if (auto v = train.get("inputs"))
      job.train.inputs = r.choice(
          *v, Options<Inputs>{{"shared", Inputs::Shared}, {"independent", Inputs::Independent}});
    if (auto e = train.get("eval")) {
      const Section eval(r, *e, *S.child("train")->child("eval"));
      if (auto v = eval.get("every")) job.train.eval.every = r.capped(*v, 0, kMaxSteps, long_run);
      if (auto v = eval.get("batches"))
        job.train.eval.batches =
            r.capped_int(*v, 1, kMaxEvalBatches, "each evaluation would cost more than training");
    }
    if (auto v = train.get("checkpoint_every"))
      job.train.checkpoint_every = r.capped(*v, 0, kMaxSteps, long_run);
    if (auto v = train.get("student_temperature")) job.train.student_temperature = r.boolean(*v);
  }

  if (auto p = top.get("probe_hidden")) {
    const Section ph(r, *p, *S.child("probe_hidden"));
    if (auto v = ph.get("inputs"))
      job.probe_hidden.inputs =
          r.capped_int(*v, 0, kMaxProbeInputs, "the study's probes use 2048 inputs");
  }

  if (auto p = top.get("run")) {
    const Section run(r, *p, *S.child("run"));
    if (auto v = run.get("unit_size"))
      job.run.unit_size =
          r.capped_int(*v, 0, kMaxTasks, "a unit cannot hold more tasks than a job");
    if (auto v = run.get("threads"))
      job.run.threads = r.capped_int(
          *v, 0, kMaxThreads,
          "intra-op threads of one rank; more than the cores only slow it down (0: cores per "
          "node / ranks per node)");
    if (auto v = run.get("device"))
      job.run.device = r.choice(*v, Options<Device>{{"cpu", Device::Cpu}, {"cuda", Device::Cuda}});
    if (auto v = run.get("engine"))
      job.run.engine = r.choice(*v, Options<Engine>{{"fused", Engine::Fused},
                                                    {"autograd", Engine::Autograd},
                                                    {"batched", Engine::Batched}});
    if (auto v = run.get("slice")) {
      const std::string text = r.scalar(*v, "a slice \"i/n\"");
      int i = -1, n = 0;
      char tail = 0;
      if (std::sscanf(text.c_str(), "%d/%d%c", &i, &n, &tail) != 2 || n < 1 || i < 0 || i >= n)
        r.fail(*v, "must be \"i/n\" with 0 <= i < n (got \"" + text + "\")");
      job.run.slice_index = i;
      job.run.slice_count = n;
    }
  }

  if (auto p = top.get("probe")) {
    if (toy) r.fail(*p, "only allowed with kind: probe");
    job.probe = read_probe(r, *p, *S.child("probe"), job.run.device);
    probe_flow = p->node.IsMap() ? canonical_flow(p->node) : "{}";
  } else if (!toy) {
    r.fail("probe", YAML::Mark::null_mark(),
           "missing required key (kind probe needs probe.models and probe.shards)");
  }

  if (toy) {
    // The grid's size before anything expands it: the product of its axes.
    const Grid& g = job.grid;
    auto n = [](size_t size) { return double(std::max<size_t>(size, 1)); };
    const double structures =
        g.teacher_groups.empty() ? n(g.rho.size()) : n(g.teacher_groups.size());
    const double tasks = structures * n(g.teacher_depth.size()) * n(g.teacher.size()) *
                         n(g.temperature.size()) * n(g.width.size()) * n(g.depth.size());
    if (tasks > double(kMaxTasks)) {
      char count[32];
      std::snprintf(count, sizeof count, "%.0f", tasks);
      r.fail(grid_item->path, grid_item->key_mark,
             std::string("the grid has ") + count + " tasks (" +
                 (g.teacher_groups.empty() ? "rho " : "teacher_groups ") +
                 std::to_string(size_t(structures)) + " x teacher_depth " +
                 std::to_string(std::max<size_t>(g.teacher_depth.size(), 1)) + " x teacher " +
                 std::to_string(g.teacher.size()) + " x temperature " +
                 std::to_string(g.temperature.size()) + " x width " +
                 std::to_string(std::max<size_t>(g.width.size(), 1)) + " x depth " +
                 std::to_string(g.depth.size()) + "); a job holds at most " +
                 std::to_string(kMaxTasks) +
                 " (the study's largest has a few hundred; a sweep file, its plan and "
                 "its dry run grow with the task count): split it into several jobs");
    }
    // K contiguous groups of the teacher's layers need K <= ℓ* for every teacher depth.
    const std::vector<int> depths = job.grid.teacher_depth.empty()
                                        ? std::vector<int>{job.model.teacher_depth}
                                        : job.grid.teacher_depth;
    const int shallowest = *std::min_element(depths.begin(), depths.end());
    for (int k : job.grid.teacher_groups)
      if (k > shallowest)
        r.fail(*teacher_groups_item,
               std::to_string(k) + " groups exceed the teacher depth " +
                   std::to_string(shallowest) + " (K must be <= " +
                   (job.grid.teacher_depth.empty() ? "model.teacher_depth" : "grid.teacher_depth") +
                   ")");
    // A student wider or narrower than the teacher meets it through its own trained head; a
    // fixed teacher head, or the teacher's features as the target (head none), live in the
    // teacher's width.
    bool other_width = job.model.width != job.model.teacher_width;
    for (int w : job.grid.width) other_width = other_width || w != job.model.teacher_width;
    if (other_width && job.model.head != Head::Trained) {
      const std::string why = std::string("a student whose width differs from the teacher's (") +
                              std::to_string(job.model.teacher_width) +
                              ") needs model.head: trained (head " + to_string(job.model.head) +
                              " reads the teacher's width)";
      if (head_item) r.fail(*head_item, why);
      r.fail(teacher_width_item ? *teacher_width_item : *grid_item, why);
    }
  }

  // A KL loss needs logits; head none outputs the m-dim hidden state.
  if (toy && job.train.loss == Loss::Kl && job.model.head == Head::None) {
    if (loss_item) r.fail(*loss_item, "kl needs logits, but model.head is none (use loss: mse)");
    r.fail(*head_item, "none gives no logits for the kl loss (train.loss defaults to kl; set mse)");
  }
  return job;
}

}  // namespace

// ---------------------------------------------------------------------------------------------

const char* to_string(Loss v) {
  return v == Loss::Kl ? "kl" : "mse";
}
const char* to_string(Head v) {
  return v == Head::Trained ? "trained" : v == Head::Teacher ? "teacher" : "none";
}
const char* to_string(Block v) {
  return v == Block::Plain ? "plain" : "rk2";
}
const char* to_string(JobKind v) {
  return v == JobKind::Toy ? "toy" : "probe";
}
const char* to_string(DepthScaling v) {
  return v == DepthScaling::None ? "none" : "inv_sqrt";
}
const char* to_string(Schedule v) {
  return v == Schedule::Constant ? "constant" : "linear_tail";
}
const char* to_string(Inputs v) {
  return v == Inputs::Shared ? "shared" : "independent";
}
const char* to_string(Device v) {
  return v == Device::Cpu ? "cpu" : "cuda";
}
const char* to_string(Engine v) {
  return v == Engine::Fused ? "fused" : v == Engine::Autograd ? "autograd" : "batched";
}

std::vector<double> linspace(double lo, double hi, int count) {
  // numpy.linspace's arithmetic (i·step + lo, last point exactly hi), so values match it bit for
  // bit.
  std::vector<double> out;
  if (count <= 0) return out;
  if (count == 1) return {lo};
  const double step = (hi - lo) / (count - 1);
  for (int i = 0; i < count; ++i) out.push_back(i * step + lo);
  out.back() = hi;
  return out;
}

std::vector<double> logspace(double lo_exp, double hi_exp, int count) {
  std::vector<double> out = linspace(lo_exp, hi_exp, count);
  for (double& v : out) v = std::pow(10.0, v);
  return out;
}

std::string format_number(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  if (v == 0) return "0";
  // Shortest digits that round-trip (to_chars), laid out as a plain decimal: no exponent, so keys
  // carry no 'e', '+' and sort of read like the numbers they are.
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific);
  std::string s(buf, r.ptr);
  std::string sign;
  if (s[0] == '-') sign = "-", s.erase(0, 1);
  const auto e = s.find('e');
  const int exp = std::stoi(s.substr(e + 1));
  std::string digits;
  for (char c : s.substr(0, e))
    if (c != '.') digits += c;
  const int point = exp + 1;  // digits before the decimal point
  std::string out;
  if (point <= 0)
    out = "0." + std::string(-point, '0') + digits;
  else if (point >= static_cast<int>(digits.size()))
    out = digits + std::string(point - digits.size(), '0');
  else
    out = digits.substr(0, point) + "." + digits.substr(point);
  return sign + out;
}

namespace {
// A number as a key part (docs/job-file.md#task-keys): format_number's plain decimal, unless that
// is longer than kKeyNumberChars (values below about 1e-38 or above 1e39, where the plain form
// runs to hundreds of digits, too long for the sidecar's file names): then the same shortest
// round-trip digits in exponent form without '+', "1e-300", "2.5e40". Both forms name one double
// each and cannot be mistaken for one another (only the second has an 'e'), so keys stay unique;
// every key of a normal value is unchanged.
constexpr size_t kKeyNumberChars = 40;

std::string key_number(double v) {
  std::string plain = format_number(v);
  if (plain.size() <= kKeyNumberChars || !std::isfinite(v)) return plain;
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific);
  std::string s(buf, r.ptr);
  const auto plus = s.find("e+");
  if (plus != std::string::npos) s.erase(plus + 1, 1);
  return s;
}

std::string teacher_depth_part(const ToyTask& t) {
  return t.teacher_depth_axis ? "_L" + std::to_string(t.teacher_depth) : "";
}
std::string width_part(const ToyTask& t) {
  return t.width_axis ? "_m" + std::to_string(t.width) : "";
}
std::string structure(const ToyTask& t) {
  return t.teacher_groups > 0 ? "K" + std::to_string(t.teacher_groups) : "rho" + key_number(t.rho);
}
}  // namespace

std::string ToyTask::group() const {
  return structure(*this) + teacher_depth_part(*this) + "_T" + key_number(temperature) + "_t" +
         std::to_string(teacher) + width_part(*this);
}

std::string ToyTask::cell() const {
  return structure(*this) + teacher_depth_part(*this) + "_T" + key_number(temperature) +
         width_part(*this);
}

std::map<std::string, double> ToyTask::params() const {
  std::map<std::string, double> p = {{"temperature", temperature},
                                     {"rho", rho},
                                     {"depth", double(depth)},
                                     {"teacher", double(teacher)}};
  if (width_axis) p["width"] = width;
  if (teacher_depth_axis) p["teacher_depth"] = teacher_depth;
  if (teacher_groups > 0) p["teacher_groups"] = teacher_groups;
  return p;
}

ToyTask ToyTask::from_params(const std::map<std::string, double>& p, const ModelSpec& model) {
  auto get = [&](const char* name, double otherwise) {
    auto it = p.find(name);
    return it == p.end() ? otherwise : it->second;
  };
  ToyTask t;
  t.temperature = get("temperature", 1.0);
  t.rho = get("rho", 0.0);
  t.depth = int(get("depth", 1));
  t.teacher = int(get("teacher", 0));
  t.width_axis = p.count("width") > 0;
  t.width = int(get("width", model.width));
  t.teacher_depth_axis = p.count("teacher_depth") > 0;
  t.teacher_depth = int(get("teacher_depth", model.teacher_depth));
  t.teacher_groups = int(get("teacher_groups", 0));
  t.key = t.group() + "_d" + std::to_string(t.depth);
  return t;
}

std::string ToyTask::teacher_key() const {
  std::string s = structure(*this);
  if (teacher_groups == 1)
    s = "rho1";
  else if (teacher_groups > 1 && teacher_groups == teacher_depth)
    s = "rho0";
  return s + teacher_depth_part(*this) + "_t" + std::to_string(teacher);
}

namespace {

struct Parsed {
  Job job;
  std::string probe_flow;
};

Parsed parse(const std::string& yaml_text, const std::string& source_name,
             const std::vector<std::string>& overrides) {
  // Before YAML sees it: a file of millions of grid values takes minutes and gigabytes to parse.
  if (yaml_text.size() > kMaxJobFileBytes)
    throw JobError(source_name + ": the job file has " + std::to_string(yaml_text.size()) +
                   " bytes; a job file holds at most " + std::to_string(kMaxJobFileBytes) +
                   " (1 MiB; a grid axis holds at most " + std::to_string(kMaxAxisCount) +
                   " values, docs/job-file.md \"Caps\")");
  YAML::Node root;
  try {
    const auto docs = YAML::LoadAll(yaml_text);
    if (docs.size() > 1)
      throw JobError(source_name + ":" + std::to_string(docs[1].Mark().line + 1) +
                     ": expected one YAML document, found " + std::to_string(docs.size()));
    root = docs.empty() ? YAML::Node() : docs[0];
  } catch (const YAML::ParserException& e) {
    throw JobError(source_name + ":" + std::to_string(e.mark.line + 1) +
                   ": YAML syntax error: " + e.msg);
  }
  const Reader file_reader(source_name, {});
  if (root.IsDefined() && !root.IsNull() && !root.IsMap())
    file_reader.fail(Item{root, "", root.Mark()},
                     "a job file must be a mapping (got " + describe(root) + ")");
  if (!root.IsDefined() || root.IsNull()) root = YAML::Node(YAML::NodeType::Map);

  std::vector<std::string> touched;
  for (const auto& text : overrides)
    apply_override(root, parse_override(source_name, text), source_name, touched);

  Parsed p;
  p.job = build(Reader(source_name, touched), root, p.probe_flow);
  p.job.source_path = source_name;
  p.job.yaml_text = yaml_text;
  p.job.effective = emit_effective(p.job, p.probe_flow);
  return p;
}

}  // namespace

const std::vector<std::string> kProbeMetrics = {"norms",        "theta",         "theta_dh",
                                                "angle_to_end", "cross_entropy", "proj_s"};

const char* to_string(LastHidden v) {
  return v == LastHidden::FinalNorm ? "final_norm" : "last_block";
}
const char* to_string(AnglePrecision v) {
  return v == AnglePrecision::Float64 ? "float64" : "bfloat16";
}

bool ProbeSpec::computes(const std::string& metric) const {
  return std::find(metrics.begin(), metrics.end(), metric) != metrics.end();
}

std::string ProbeSpec::effective_dtype() const {
  if (!dtype.empty()) return dtype;
  return device == Device::Cuda ? "bfloat16" : "float32";
}

Job parse_job(const std::string& yaml_text, const std::string& source_name,
              const std::vector<std::string>& overrides) {
  return parse(yaml_text, source_name, overrides).job;
}

Job load_job(const std::string& path, const std::vector<std::string>& overrides) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw JobError(path + ": cannot open job file");
  std::stringstream ss;
  ss << in.rdbuf();
  return parse_job(ss.str(), path, overrides);
}

std::vector<ToyTask> expand(const Job& job) {
  std::vector<ToyTask> out;
  if (job.kind != JobKind::Toy) return out;
  const Grid& g = job.grid;
  // An axis the job does not give holds the model's value and stays out of the keys.
  auto or_model = [](const std::vector<int>& axis, int model) {
    return axis.empty() ? std::vector<int>{model} : axis;
  };
  // The teacher structures: ρ values, or K groups (ρ then follows from K, see ToyTask::rho).
  std::vector<std::pair<double, int>> structures;
  if (g.teacher_groups.empty())
    for (double rho : g.rho) structures.push_back({rho, 0});
  else
    for (int k : g.teacher_groups) structures.push_back({1.0, k});
  for (const auto& [rho, groups] : structures)
    for (int teacher_depth : or_model(g.teacher_depth, job.model.teacher_depth))
      for (int teacher : g.teacher)
        for (double t : g.temperature)
          for (int width : or_model(g.width, job.model.width))
            for (int depth : g.depth) {
              ToyTask task;
              task.temperature = t;
              task.rho = groups > 0 && groups == teacher_depth ? 0.0 : rho;
              task.teacher_groups = groups;
              task.teacher_depth = teacher_depth;
              task.teacher_depth_axis = !g.teacher_depth.empty();
              task.width = width;
              task.width_axis = !g.width.empty();
              task.depth = depth;
              task.teacher = teacher;
              task.key = task.group() + "_d" + std::to_string(depth);
              out.push_back(std::move(task));
            }
  return out;
}

namespace {
// The fields as `effective` records them (that string is what a sweep file keeps, overrides
// included); the struct itself when there is no usable effective text.
std::vector<Field> effective_fields(const Job& j) {
  if (!j.effective.empty()) {
    try {
      const Parsed p = parse(j.effective, "effective", {});
      return fields(p.job, p.probe_flow);
    } catch (const JobError&) {
    }
  }
  return fields(j, "");
}

// Probe jobs compare what shapes the batches and their numbers; models may come and go, and the
// device may change (with the dtype pinned).
std::string incompatible_probe_change(const Job& before, const Job& after) {
  if (before.kind != JobKind::Probe) return "kind changed from toy to probe";
  const ProbeSpec& a = before.probe;
  const ProbeSpec& b = after.probe;
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
  if (a.last_hidden != b.last_hidden)
    return std::string("probe.last_hidden changed from ") + to_string(a.last_hidden) + " to " +
           to_string(b.last_hidden);
  if (a.metrics != b.metrics)
    return "probe.metrics changed from " + text(a.metrics) + " to " + text(b.metrics);
  if (a.angles != b.angles)
    return std::string("probe.angles changed from ") + to_string(a.angles) + " to " +
           to_string(b.angles);
  if (a.early_stop_pc1 != b.early_stop_pc1) return "probe.early_stop_pc1 changed";
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
}  // namespace

std::string incompatible_change(const Job& before, const Job& after) {
  if (after.kind == JobKind::Probe) return incompatible_probe_change(before, after);
  const auto a = effective_fields(before);
  const auto b = effective_fields(after);
  std::map<std::vector<std::string>, const Field*> in_b;
  for (const auto& f : b) in_b[f.path] = &f;
  std::set<std::vector<std::string>> seen;
  // Walk the union of keys in canonical order so the first difference reported is stable.
  std::vector<std::vector<std::string>> keys;
  for (const auto& f : a) keys.push_back(f.path);
  for (const auto& f : b) keys.push_back(f.path);
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  std::map<std::vector<std::string>, const Field*> in_a;
  for (const auto& f : a) in_a[f.path] = &f;
  for (const auto& k : keys) {
    const std::string key = dotted(k);
    if (operational(key)) continue;
    const Field* x = in_a.count(k) ? in_a[k] : nullptr;
    const Field* y = in_b.count(k) ? in_b[k] : nullptr;
    const std::string old_text = x ? x->value : "(absent)";
    const std::string new_text = y ? y->value : "(absent)";
    if (x && y && x->axis) {
      // Adding grid points is how a sweep grows; losing one is a change.
      std::vector<std::string> removed;
      for (const auto& v : x->items)
        if (std::find(y->items.begin(), y->items.end(), v) == y->items.end()) removed.push_back(v);
      if (!removed.empty())
        return key + " changed from " + old_text + " to " + new_text + " (removed " +
               list_text(removed) + ")";
      continue;
    }
    if (old_text != new_text) return key + " changed from " + old_text + " to " + new_text;
  }
  return "";
}

std::string job_identity(const Job& job) {
  hash::Fnv1a h;
  h.text("depthscale-job");
  for (const auto& f : effective_fields(job)) {
    const std::string key = dotted(f.path);
    if (f.axis || operational(key) || key == "run.slice") continue;
    h.text(key).text(f.value);
  }
  return hash::hex(h.value());
}

std::string task_identity(const Job& job, const std::string& key) {
  return hash::task_identity(job_identity(job), key);
}

}  // namespace depthscale::config
