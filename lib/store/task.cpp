// Task results and checkpoints: their layout in the sweep file and as self-describing images.
#include <cmath>
#include <cstring>
#include <set>

#include "store/detail.hpp"
#include "store/schema.hpp"
#include "store/store.hpp"
#include "store/trust.hpp"

namespace depthscale::store {

namespace {

constexpr const char* kResultFormat = "depthscale-task-result";
constexpr const char* kCheckpointFormat = "depthscale-task-checkpoint";
constexpr int64_t kFormatVersion = 1;

// Attributes of /tasks/<key> that are not grid parameters.
const std::set<std::string>& reserved_attrs() {
  static const std::set<std::string> names = {
      "status",         "error",          "wall_seconds",
      "host",           "rank",           kLossAttr,
      kSeedAttr,        kStudentSeedAttr, kTeacherStreamAttr,
      kInputStreamAttr, kProbeStreamAttr, kIdentityAttr,
      kChecksumAttr};
  return names;
}

// Parameters that are counts or indices: written as integers so that h5py users see 6, not 6.0.
bool integer_param(const std::string& name) {
  return name == "depth" || name == "teacher" || name == "width" || name == "teacher_depth" ||
         name == "teacher_groups";
}

void write_seeds(Group& g, const TaskSeeds& s) {
  if (!s.recorded()) return;  // a result of a file that predates them: nothing to write
  g.set_attr(kSeedAttr, s.seed);
  g.set_attr(kStudentSeedAttr, s.student_seed);
  g.set_attr(kTeacherStreamAttr, s.teacher_stream);
  g.set_attr(kInputStreamAttr, s.input_stream);
  g.set_attr(kProbeStreamAttr, s.probe_stream);
}

TaskSeeds read_seeds(const Group& g) {
  TaskSeeds s;
  if (!g.has_attr(kTeacherStreamAttr)) return s;
  s.seed = g.attr_uint64(kSeedAttr);
  s.student_seed = g.attr_uint64(kStudentSeedAttr);
  s.teacher_stream = g.attr_string(kTeacherStreamAttr);
  s.input_stream = g.attr_string(kInputStreamAttr);
  s.probe_stream = g.attr_string(kProbeStreamAttr);
  return s;
}

std::string last_component(const std::string& path) {
  size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

void check_format(const Group& root, const std::string& expected, const std::string& label) {
  if (!root.has_attr("format")) {
    throw StoreError(label + " is not a " + expected + " (no format attribute)");
  }
  std::string got = root.attr_is_string("format") ? root.attr_string("format") : "?";
  if (got != expected) {
    throw StoreError(label + " is not a " + expected + " (format = '" + got + "')");
  }
  if (!root.has_attr("format_version")) {
    throw StoreError(label + ": " + expected + " without a format_version attribute");
  }
  int64_t version = root.attr_int("format_version");
  if (version != kFormatVersion) {
    throw StoreError(label + ": " + expected + " format_version " + std::to_string(version) +
                     " is not supported (this build reads " + std::to_string(kFormatVersion) + ")");
  }
}

template <class T>
bool same_bits(const std::vector<T>& a, const std::vector<T>& b) {
  return a.size() == b.size() &&
         (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0);
}

bool same_bits(double a, double b) {
  return std::memcmp(&a, &b, sizeof a) == 0;
}

}  // namespace

// ---- /tasks/<key>/ ------------------------------------------------------------------------------
void write_task(Group& tasks_group, const TaskResult& r, const std::string& identity) {
  detail::check_key(r.key);
  std::string where = detail::join(tasks_group.path(), r.key);
  // Everything is checked before the group exists, so a bad result leaves no trace in the file.
  for (const auto& [name, value] : r.params) {
    if (reserved_attrs().count(name)) {
      throw StoreError(where + ": grid parameter '" + name + "' clashes with a task attribute");
    }
  }
  if (r.eval_step.size() != r.test_loss.size()) {
    throw StoreError(where + ": " + std::to_string(r.eval_step.size()) + " eval steps but " +
                     std::to_string(r.test_loss.size()) + " test losses");
  }
  hsize_t inputs = 0, depth = 0;
  if (r.probe_inputs > 0) {
    auto it = r.params.find("depth");
    if (it == r.params.end() || !(it->second >= 1) || it->second != std::floor(it->second)) {
      throw StoreError(where + ": hidden-state probes need an integer 'depth' parameter");
    }
    inputs = static_cast<hsize_t>(r.probe_inputs);
    depth = static_cast<hsize_t>(it->second);
    auto expect = [&](const std::vector<float>& v, hsize_t cols, const char* name) {
      if (v.size() != inputs * cols) {
        throw StoreError(where + ": hidden/" + name + " has " + std::to_string(v.size()) +
                         " values, expected " + std::to_string(inputs) + " x " +
                         std::to_string(cols));
      }
    };
    expect(r.theta, depth, "theta");
    expect(r.theta_dh, depth - 1, "theta_dh");
    expect(r.norms, depth + 1, "norms");
  }

  if (tasks_group.has(r.key)) tasks_group.remove(r.key);
  Group g = tasks_group.create_group(r.key);
  for (const auto& [name, value] : r.params) {
    if (integer_param(name) && value == std::floor(value) && std::fabs(value) < 9e15) {
      g.set_attr(name, static_cast<int64_t>(value));
    } else {
      g.set_attr(name, value);
    }
  }
  if (!r.complete) g.set_attr("error", r.error);
  g.set_attr("wall_seconds", r.wall_seconds);
  g.set_attr("host", r.host);
  g.set_attr("rank", static_cast<int64_t>(r.rank));
  write_seeds(g, r.seeds);
  if (!r.loss.empty()) g.set_attr(kLossAttr, r.loss);
  g.write("train_loss", r.train_loss);
  g.write(r.eval_step, "eval_step");
  g.write("test_loss", r.test_loss);
  if (r.probe_inputs > 0) {
    Group h = g.create_group("hidden");
    h.write("theta", r.theta, {inputs, depth});
    h.write("theta_dh", r.theta_dh, {inputs, depth - 1});
    h.write("norms", r.norms, {inputs, depth + 1});
  }
  if (!identity.empty()) g.set_attr(kIdentityAttr, identity);
  g.set_attr(kChecksumAttr, checksum(r));
  describe_datasets(g);
  // Last: a group without status is an interrupted write, never a result.
  g.set_attr("status", r.complete ? "complete" : "failed");
}

namespace {

TaskResult read_task_fields(const Group& g, TaskFields fields) {
  TaskResult r;
  r.key = last_component(g.path());
  if (!g.has_attr("status")) {
    throw StoreError(g.path() + ": no status attribute (an interrupted write, not a result)");
  }
  std::string status = g.attr_string("status");
  if (status != "complete" && status != "failed") {
    throw StoreError(g.path() + ": unknown status '" + status + "'");
  }
  r.complete = status == "complete";
  for (const std::string& name : g.attr_names()) {
    if (reserved_attrs().count(name) || g.attr_is_string(name)) continue;
    r.params[name] = g.attr_double(name);
  }
  if (g.has_attr("error")) r.error = g.attr_string("error");
  r.wall_seconds = g.attr_double("wall_seconds");
  r.host = g.attr_string("host");
  r.rank = static_cast<int>(g.attr_int("rank"));
  r.seeds = read_seeds(g);
  if (g.has_attr(kLossAttr)) r.loss = g.attr_string(kLossAttr);
  if (fields == TaskFields::Attributes) return r;
  r.eval_step = g.read_int64("eval_step");
  r.test_loss = g.read_float("test_loss");
  if (fields == TaskFields::Losses) return r;
  r.train_loss = g.read_float("train_loss");
  if (g.has("hidden")) {
    Group h = g.open_group("hidden");
    std::vector<hsize_t> dims;
    r.theta = h.read_float("theta", &dims);
    r.probe_inputs = dims.empty() ? 0 : static_cast<int64_t>(dims[0]);
    r.theta_dh = h.read_float("theta_dh");
    r.norms = h.read_float("norms");
  }
  verify_checksum(g, checksum(r));
  return r;
}

}  // namespace

TaskResult read_task(const Group& g) {
  return read_task_fields(g, TaskFields::Everything);
}

std::vector<TaskResult> read_tasks(const std::string& path, TaskFields fields) {
  std::vector<TaskResult> out;
  const File f = open_sweep(path);
  const Group root = f.root();
  if (!root.has("tasks")) return out;
  const Group tasks = root.open_group("tasks");
  for (const auto& key : tasks.children()) {
    const Group g = tasks.open_group(key);
    if (g.has_attr("status")) out.push_back(read_task_fields(g, fields));
  }
  return out;
}

// ---- images
// --------------------------------------------------------------------------------------- A result
// image is a one-task sweep: root attrs format/format_version/key and /tasks/<key>/ laid out
// exactly as in the sweep file, so a sidecar done/ file can be opened with h5py like a sweep.
std::vector<char> to_image(const TaskResult& r, const std::string& identity) {
  detail::check_key(r.key);
  File f = File::create_in_memory("task result " + r.key);
  {
    Group root = f.root();
    root.set_attr("format", kResultFormat);
    root.set_attr("format_version", kFormatVersion);
    root.set_attr("key", r.key);
    if (!identity.empty()) root.set_attr(kIdentityAttr, identity);
    Group tasks = root.create_group("tasks");
    write_task(tasks, r, identity);
  }
  return f.image();
}

TaskResult result_from_image(const std::vector<char>& image) {
  const std::string label = "task result image";
  File f = File::open_image(image, label);
  Group root = f.root();
  check_format(root, kResultFormat, label);
  std::string key = root.attr_string("key");
  Group tasks = root.open_group("tasks");
  std::vector<std::string> keys = tasks.children();
  if (keys.size() != 1 || keys[0] != key) {
    throw StoreError(label + " for '" + key + "' holds " + std::to_string(keys.size()) +
                     " task groups, expected exactly /tasks/" + key);
  }
  return read_task(tasks.open_group(key));
}

std::vector<char> to_image(const TaskCheckpoint& c, const std::string& identity) {
  detail::check_key(c.key);
  File f = File::create_in_memory("task checkpoint " + c.key);
  {
    Group root = f.root();
    root.set_attr("format", kCheckpointFormat);
    root.set_attr("format_version", kFormatVersion);
    root.set_attr("key", c.key);
    if (!identity.empty()) root.set_attr(kIdentityAttr, identity);
    root.set_attr(kChecksumAttr, checksum(c));
    root.set_attr("step", c.step);
    root.set_attr("wall_seconds", c.wall_seconds);
    root.write("params", c.params);
    root.write("adam_m", c.adam_m);
    root.write("adam_v", c.adam_v);
    root.write("train_loss", c.train_loss);
    root.write(c.eval_step, "eval_step");
    root.write("test_loss", c.test_loss);
    if (!c.loss.empty()) root.set_attr(kLossAttr, c.loss);
    describe_datasets(root);
  }
  return f.image();
}

TaskCheckpoint checkpoint_from_image(const std::vector<char>& image) {
  const std::string label = "task checkpoint image";
  File f = File::open_image(image, label);
  Group root = f.root();
  check_format(root, kCheckpointFormat, label);
  TaskCheckpoint c;
  c.key = root.attr_string("key");
  c.step = root.attr_int("step");
  c.wall_seconds = root.attr_double("wall_seconds");
  c.params = root.read_float("params");
  c.adam_m = root.read_float("adam_m");
  c.adam_v = root.read_float("adam_v");
  c.train_loss = root.read_float("train_loss");
  c.eval_step = root.read_int64("eval_step");
  c.test_loss = root.read_float("test_loss");
  if (root.has_attr(kLossAttr)) c.loss = root.attr_string(kLossAttr);
  verify_checksum(root, checksum(c));
  return c;
}

// ---- equality
// ---------------------------------------------------------------------------------------
bool bitwise_equal(const TaskResult& a, const TaskResult& b) {
  if (a.params.size() != b.params.size()) return false;
  for (auto ia = a.params.begin(), ib = b.params.begin(); ia != a.params.end(); ++ia, ++ib) {
    if (ia->first != ib->first || !same_bits(ia->second, ib->second)) return false;
  }
  const TaskSeeds &sa = a.seeds, &sb = b.seeds;
  if (sa.seed != sb.seed || sa.student_seed != sb.student_seed ||
      sa.teacher_stream != sb.teacher_stream || sa.input_stream != sb.input_stream ||
      sa.probe_stream != sb.probe_stream)
    return false;
  return a.key == b.key && a.loss == b.loss && a.complete == b.complete && a.error == b.error &&
         same_bits(a.wall_seconds, b.wall_seconds) && a.host == b.host && a.rank == b.rank &&
         same_bits(a.train_loss, b.train_loss) && same_bits(a.eval_step, b.eval_step) &&
         same_bits(a.test_loss, b.test_loss) && a.probe_inputs == b.probe_inputs &&
         same_bits(a.theta, b.theta) && same_bits(a.theta_dh, b.theta_dh) &&
         same_bits(a.norms, b.norms);
}

bool bitwise_equal(const TaskCheckpoint& a, const TaskCheckpoint& b) {
  return a.key == b.key && a.step == b.step && a.loss == b.loss && same_bits(a.params, b.params) &&
         same_bits(a.adam_m, b.adam_m) && same_bits(a.adam_v, b.adam_v) &&
         same_bits(a.train_loss, b.train_loss) && same_bits(a.eval_step, b.eval_step) &&
         same_bits(a.test_loss, b.test_loss) && same_bits(a.wall_seconds, b.wall_seconds);
}

}  // namespace depthscale::store
