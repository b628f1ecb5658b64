// Identities and checksums of stored pieces: computing, verifying, and setting aside what resume
// cannot trust (store/trust.hpp).
#include "store/trust.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "hash/hash.hpp"
#include "store/detail.hpp"
#include "store/schema.hpp"

namespace depthscale::store {

namespace fs = std::filesystem;

namespace {

template <class T>
std::string first_non_finite(const std::vector<T>& v, const std::string& name) {
  for (size_t i = 0; i < v.size(); ++i)
    if (!std::isfinite(double(v[i])))
      return "dataset " + name + " holds a non-finite value (" + std::to_string(double(v[i])) +
             " at index " + std::to_string(i) + ")";
  return "";
}

// What is wrong with a task that reads back, "" when nothing is.
std::string result_damage(const TaskResult& r, int64_t steps) {
  if (r.complete && steps > 0 && int64_t(r.train_loss.size()) != steps)
    return "dataset train_loss has " + std::to_string(r.train_loss.size()) + " entries, expected " +
           std::to_string(steps);
  if (r.eval_step.size() != r.test_loss.size())
    return "dataset test_loss has " + std::to_string(r.test_loss.size()) +
           " entries but eval_step has " + std::to_string(r.eval_step.size());
  if (r.probe_inputs > 0) {
    auto it = r.params.find("depth");
    const auto n = size_t(r.probe_inputs);
    const auto depth = it == r.params.end() ? size_t(0) : size_t(it->second);
    if (r.theta.size() != n * depth) return "dataset hidden/theta has the wrong shape";
    if (depth < 1 || r.theta_dh.size() != n * (depth - 1))
      return "dataset hidden/theta_dh has the wrong shape";
    if (r.norms.size() != n * (depth + 1)) return "dataset hidden/norms has the wrong shape";
  }
  if (!r.complete) return "";  // a failed task's losses may be what failed it
  for (const auto& d :
       {first_non_finite(r.train_loss, "train_loss"), first_non_finite(r.test_loss, "test_loss"),
        first_non_finite(r.norms, "hidden/norms")})
    if (!d.empty()) return d;
  return "";
}

}  // namespace

// ---- checksums ----------------------------------------------------------------------------------
std::string checksum(const TaskResult& r) {
  hash::Fnv1a h;
  h.text("depthscale-task-result")
      .text(r.key)
      .text(r.complete ? "complete" : "failed")
      .text(r.error);
  h.u64(r.params.size());
  for (const auto& [name, value] : r.params) h.text(name).f64(value);
  h.array(r.train_loss).array(r.eval_step).array(r.test_loss);
  h.u64(uint64_t(r.probe_inputs)).array(r.theta).array(r.theta_dh).array(r.norms);
  // What the losses measure and the seeds they came from are results too.
  h.text(r.loss).u64(r.seeds.seed).u64(r.seeds.student_seed);
  h.text(r.seeds.teacher_stream).text(r.seeds.input_stream).text(r.seeds.probe_stream);
  return hash::hex(h.value());
}

std::string checksum(const TaskCheckpoint& c) {
  hash::Fnv1a h;
  h.text("depthscale-task-checkpoint").text(c.key).u64(uint64_t(c.step));
  h.array(c.params).array(c.adam_m).array(c.adam_v);
  h.array(c.train_loss).array(c.eval_step).array(c.test_loss);
  h.text(c.loss);
  return hash::hex(h.value());
}

std::string checksum(const TeacherProbes& p) {
  hash::Fnv1a h;
  h.text("depthscale-teacher-probes").f64(p.rho).u64(uint64_t(p.teacher)).u64(uint64_t(p.depth));
  h.u64(uint64_t(p.teacher_groups)).u64(uint64_t(p.inputs));
  h.array(p.theta).array(p.theta_dh).array(p.norms);
  h.u64(p.seed).text(p.teacher_stream).text(p.probe_stream);
  return hash::hex(h.value());
}

bool verify_checksum(const Group& g, const std::string& computed) {
  if (!g.has_attr(kChecksumAttr)) return false;
  const std::string stored = g.attr_is_string(kChecksumAttr) ? g.attr_string(kChecksumAttr) : "?";
  if (stored != computed)
    throw ChecksumError(g.path() + ": bad checksum (the attribute says " + stored +
                        ", the data hashes to " + computed + "): changed after it was written");
  return true;
}

std::string identity_of(const Group& g, const char* attr) {
  return g.has_attr(attr) && g.attr_is_string(attr) ? g.attr_string(attr) : std::string();
}

// ---- what status checks -------------------------------------------------------------------------
std::map<std::string, std::string> task_damage(const std::string& path, int64_t steps) {
  std::map<std::string, std::string> out;
  const File f = open_sweep(path);
  const Group root = f.root();
  if (!root.has("tasks")) return out;
  const Group tasks = root.open_group("tasks");
  for (const auto& key : tasks.children()) {
    std::string damage;
    try {
      const Group g = tasks.open_group(key);
      if (!g.has_attr("status")) continue;  // a write under way
      for (const char* name : {"train_loss", "eval_step", "test_loss"})
        if (damage.empty() && !g.has(name)) damage = std::string("dataset ") + name + " is missing";
      if (damage.empty()) {
        const TaskResult r = read_task(g);  // verifies the checksum
        damage = result_damage(r, steps);
      }
    } catch (const ChecksumError& e) {
      // Name the dataset where the change shows (a NaN, a wrong length) before the checksum.
      damage = e.what();
      try {
        const Group g = tasks.open_group(key);
        if (g.attr_string("status") == "complete") {
          const auto train = g.read_float("train_loss"), test = g.read_float("test_loss");
          std::string d = first_non_finite(train, "train_loss");
          if (d.empty()) d = first_non_finite(test, "test_loss");
          if (d.empty() && steps > 0 && int64_t(train.size()) != steps)
            d = "dataset train_loss has " + std::to_string(train.size()) + " entries, expected " +
                std::to_string(steps);
          if (!d.empty()) damage = d + " (" + e.what() + ")";
        }
      } catch (const StoreError&) {
      }
    } catch (const StoreError& e) {
      damage = e.what();
    }
    out[key] = damage;
  }
  return out;
}

TeacherProbes read_teacher(const Group& g) {
  TeacherProbes p;
  p.rho = g.attr_double("rho");
  p.teacher = g.attr_int("teacher");
  p.depth = g.attr_int("depth");
  if (g.has_attr("teacher_groups")) p.teacher_groups = g.attr_int("teacher_groups");
  if (g.has_attr(kTeacherStreamAttr)) {
    p.seed = g.attr_uint64(kSeedAttr);
    p.teacher_stream = g.attr_string(kTeacherStreamAttr);
    p.probe_stream = g.attr_string(kProbeStreamAttr);
  }
  const Group h = g.open_group("hidden");
  std::vector<hsize_t> dims;
  p.theta = h.read_float("theta", &dims);
  p.inputs = dims.empty() ? 0 : int64_t(dims[0]);
  p.theta_dh = h.read_float("theta_dh");
  p.norms = h.read_float("norms");
  const auto n = size_t(p.inputs), depth = size_t(std::max<int64_t>(p.depth, 1));
  if (p.theta.size() != n * depth || p.theta_dh.size() != n * (depth - 1) ||
      p.norms.size() != n * (depth + 1))
    throw StoreError(g.path() + ": hidden/ arrays of the wrong shape for depth " +
                     std::to_string(p.depth));
  const std::string bad = first_non_finite(p.norms, "hidden/norms");
  if (!bad.empty()) throw StoreError(g.path() + ": " + bad);
  verify_checksum(g, checksum(p));
  return p;
}

std::map<std::string, std::string> teacher_damage(const std::string& path) {
  std::map<std::string, std::string> out;
  const File f = open_sweep(path);
  const Group root = f.root();
  if (!root.has("teachers")) return out;
  const Group teachers = root.open_group("teachers");
  for (const auto& key : teachers.children()) {
    std::string damage;
    try {
      const Group g = teachers.open_group(key);
      if (!g.has_attr("status")) continue;
      read_teacher(g);
    } catch (const StoreError& e) {
      damage = e.what();
    }
    out[key] = damage;
  }
  return out;
}

// ---- resume: setting aside what cannot be trusted ----------------------------------------------
std::string rejected_dir(const std::string& sweep_path) {
  return sweep_path + ".ckpt/rejected";
}

std::string set_aside(const std::string& sweep_path, const std::string& file,
                      const std::string& prefix, const std::string& reason,
                      const std::string& why) {
  const std::string dir = rejected_dir(sweep_path);
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw StoreError(dir + ": cannot create folder (" + ec.message() + ")");
  const std::string base = dir + "/" + (prefix.empty() ? "" : prefix + ".") +
                           fs::path(file).filename().string() + "." + reason;
  std::string dest = base;
  for (int i = 1; fs::exists(dest, ec); ++i) dest = base + "-" + std::to_string(i);
  rename_durably(file, dest);
  spdlog::warn("set aside {} ({}): {}; now {}", file, reason, why, dest);
  return dest;
}

Screened screen_sidecar(const std::string& path, const std::string& job_identity) {
  Screened s;
  for (const std::string sub : {"done", "tasks"}) {
    const std::string dir = path + ".ckpt/" + sub;
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) continue;
    std::vector<std::string> files;
    for (const auto& e : fs::directory_iterator(dir, ec))
      if (e.path().extension() == ".h5") files.push_back(e.path().string());
    std::sort(files.begin(), files.end());
    for (const auto& file : files) {
      const std::string key = fs::path(file).stem().string();
      std::string reason, why;
      try {
        const std::vector<char> bytes = read_bytes(file);
        const File f = File::open_image(bytes, file);
        const Group root = f.root();
        std::string id = identity_of(root);
        bool verified = false;
        if (sub == "done") {
          const TaskResult r = result_from_image(bytes);
          if (r.key != key) throw StoreError("it holds task '" + r.key + "'");
          const Group g = root.open_group("tasks").open_group(key);
          if (id.empty()) id = identity_of(g);
          verified = verify_checksum(g, checksum(r));
        } else {
          const TaskCheckpoint c = checkpoint_from_image(bytes);
          if (c.key != key) throw StoreError("it holds task '" + c.key + "'");
          verified = verify_checksum(root, checksum(c));
        }
        const std::string ours =
            job_identity.empty() ? std::string() : hash::task_identity(job_identity, key);
        if (!id.empty() && !ours.empty() && id != ours) {
          reason = "foreign";
          why = "it belongs to another job (task identity " + id + ", this job's is " + ours + ")";
        } else if (id.empty() || !verified) {
          ++s.unverified;
        }
      } catch (const ChecksumError& e) {
        reason = "checksum";
        why = e.what();
      } catch (const StoreError& e) {
        reason = "unreadable";
        why = e.what();
      }
      if (reason.empty()) continue;
      set_aside(path, file, sub, reason, why);
      ++s.rejected;
    }
  }
  if (s.rejected > 0)
    spdlog::warn("{}: set aside {} sidecar piece(s) into {}; the tasks they held run again", path,
                 s.rejected, rejected_dir(path));
  return s;
}

}  // namespace depthscale::store
