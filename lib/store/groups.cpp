// The sweep file's derived groups: /teachers (written by the toy coordinator once the students are
// done) and /fits, /fits_summary (written by `depthscale reduce`).
#include <spdlog/spdlog.h>

#include "store/schema.hpp"
#include "store/store.hpp"
#include "store/trust.hpp"

namespace depthscale::store {

namespace {
constexpr const char* kTeachers = "teachers";

// The grid axes beyond the study's, on a fit group: written only where the job gives them.
void write_axes(Group& g, int64_t width, int64_t teacher_depth, int64_t teacher_groups) {
  if (width > 0) g.set_attr("width", width);
  if (teacher_depth > 0) g.set_attr("teacher_depth", teacher_depth);
  if (teacher_groups > 0) g.set_attr("teacher_groups", teacher_groups);
}
void read_axes(const Group& g, int64_t& width, int64_t& teacher_depth, int64_t& teacher_groups) {
  if (g.has_attr("width")) width = g.attr_int("width");
  if (g.has_attr("teacher_depth")) teacher_depth = g.attr_int("teacher_depth");
  if (g.has_attr("teacher_groups")) teacher_groups = g.attr_int("teacher_groups");
}
}  // namespace

bool has_teacher(const std::string& path, const std::string& key) {
  auto f = open_for_reading(path);
  auto root = f.root();
  if (!root.has(kTeachers) || !root.open_group(kTeachers).has(key)) return false;
  const auto g = root.open_group(kTeachers).open_group(key);
  if (!g.has_attr("status")) return false;
  try {
    read_teacher(g);
    return true;
  } catch (const StoreError& e) {
    spdlog::warn("{}; writing it again", e.what());
    return false;
  }
}

void write_teacher(const std::string& path, const std::string& key, const TeacherProbes& p) {
  const auto N = hsize_t(p.inputs), L = hsize_t(p.depth);
  if (p.theta.size() != N * L || p.theta_dh.size() != N * (L - 1) || p.norms.size() != N * (L + 1))
    throw StoreError(path + ": teacher " + key + ": probe arrays of the wrong size");
  auto f = File::open(path, Mode::ReadWrite);
  auto teachers_group = f.root().require_group(kTeachers);
  if (teachers_group.has(key)) teachers_group.remove(key);
  auto g = teachers_group.create_group(key);
  g.set_attr("rho", p.rho);
  g.set_attr("teacher", p.teacher);
  g.set_attr("depth", p.depth);
  if (p.teacher_groups > 0) g.set_attr("teacher_groups", p.teacher_groups);
  if (!p.teacher_stream.empty()) {
    g.set_attr(kSeedAttr, p.seed);
    g.set_attr(kTeacherStreamAttr, p.teacher_stream);
    g.set_attr(kProbeStreamAttr, p.probe_stream);
  }
  auto h = g.create_group("hidden");
  h.write("theta", p.theta, {N, L});
  h.write("theta_dh", p.theta_dh, {N, L - 1});
  h.write("norms", p.norms, {N, L + 1});
  g.set_attr(kChecksumAttr, checksum(p));
  describe_datasets(g);
  g.set_attr("status", "complete");
  f.flush();
}

void write_fits(const std::string& path, const Fits& fits) {
  auto f = File::open(path, Mode::ReadWrite);
  auto root = f.root();
  if (root.has("fits")) root.remove("fits");
  if (root.has("fits_summary")) root.remove("fits_summary");
  auto fg = root.create_group("fits");
  fg.set_attr("model", fits.model);
  fg.set_attr("depth_offset", fits.depth_offset);
  fg.set_attr("standard_errors", fits.standard_errors);
  fg.set_attr("L0_floor", fits.L0_floor);
  if (!fits.loss.empty()) fg.set_attr(kLossAttr, fits.loss);
  for (const auto& [name, s] : fits.groups) {
    auto g = fg.create_group(name);
    g.write(s.step, "step");
    g.write(s.n_points, "n_points");
    g.write("alpha", s.alpha);
    g.write("alpha_se", s.alpha_se);
    g.write("c", s.c);
    g.write("c_se", s.c_se);
    g.write("L0", s.L0);
    g.write("L0_se", s.L0_se);
    g.write("rss", s.rss);
    g.write(s.L0_held, "L0_held");
    g.set_attr("final_message", s.final_message);
    g.set_attr("rho", s.rho);
    g.set_attr("temperature", s.temperature);
    g.set_attr("teacher", s.teacher);
    g.set_attr("n_depths", s.n_depths);
    g.set_attr("depth_offset", fits.depth_offset);
    write_axes(g, s.width, s.teacher_depth, s.teacher_groups);
  }
  auto sg = root.create_group("fits_summary");
  sg.set_attr("what", fits.summary_what);
  for (const auto& [name, sm] : fits.summaries) {
    auto g = sg.create_group(name);
    g.set_attr("rho", sm.rho);
    g.set_attr("temperature", sm.temperature);
    write_axes(g, sm.width, sm.teacher_depth, sm.teacher_groups);
    g.write(sm.step, "step");
    g.write("alpha_mean", sm.alpha_mean);
    g.write("alpha_sem", sm.alpha_sem);
    g.write(sm.n_replicates, "n_replicates");
    g.write("alpha_pooled", sm.alpha_pooled);
    g.write("alpha_pooled_se", sm.alpha_pooled_se);
  }
  describe_datasets(fg);
  describe_datasets(sg);
  f.flush();
}

Fits read_fits(const File& sweep) {
  Fits fits;
  const auto root = sweep.root();
  if (root.has("fits")) {
    const auto fg = root.open_group("fits");
    if (fg.has_attr("model")) fits.model = fg.attr_string("model");
    if (fg.has_attr("depth_offset")) fits.depth_offset = fg.attr_double("depth_offset");
    if (fg.has_attr("standard_errors")) fits.standard_errors = fg.attr_string("standard_errors");
    if (fg.has_attr("L0_floor")) fits.L0_floor = fg.attr_double("L0_floor");
    if (fg.has_attr(kLossAttr)) fits.loss = fg.attr_string(kLossAttr);
    for (const auto& name : fg.children()) {
      const auto g = fg.open_group(name);
      FitSeries s;
      s.step = g.read_int64("step");
      s.alpha = g.read_double("alpha");
      s.alpha_se = g.read_double("alpha_se");
      s.c = g.read_double("c");
      s.L0 = g.read_double("L0");
      // Datasets added after the first format version: absent in older files.
      if (g.has("n_points")) s.n_points = g.read_int64("n_points");
      if (g.has("c_se")) s.c_se = g.read_double("c_se");
      if (g.has("L0_se")) s.L0_se = g.read_double("L0_se");
      if (g.has("rss")) s.rss = g.read_double("rss");
      if (g.has("L0_held")) s.L0_held = g.read_int64("L0_held");
      const std::size_t k = s.step.size();
      if (s.alpha.size() != k || s.alpha_se.size() != k || s.c.size() != k || s.L0.size() != k)
        throw StoreError(g.path() + ": step, alpha, alpha_se, c and L0 differ in length");
      if (g.has_attr("final_message")) s.final_message = g.attr_string("final_message");
      if (g.has_attr("rho")) s.rho = g.attr_double("rho");
      if (g.has_attr("temperature")) s.temperature = g.attr_double("temperature");
      if (g.has_attr("teacher")) s.teacher = g.attr_int("teacher");
      if (g.has_attr("n_depths")) s.n_depths = g.attr_int("n_depths");
      read_axes(g, s.width, s.teacher_depth, s.teacher_groups);
      fits.groups[name] = std::move(s);
    }
  }
  if (root.has("fits_summary")) {
    const auto sg = root.open_group("fits_summary");
    if (sg.has_attr("what")) fits.summary_what = sg.attr_string("what");
    for (const auto& name : sg.children()) {
      const auto g = sg.open_group(name);
      FitSummary sm;
      sm.rho = g.attr_double("rho");
      sm.temperature = g.attr_double("temperature");
      read_axes(g, sm.width, sm.teacher_depth, sm.teacher_groups);
      sm.step = g.read_int64("step");
      sm.alpha_mean = g.read_double("alpha_mean");
      sm.alpha_sem = g.read_double("alpha_sem");
      sm.n_replicates = g.read_count("n_replicates");  // floats in files before counts were ints
      if (g.has("alpha_pooled")) sm.alpha_pooled = g.read_double("alpha_pooled");
      if (g.has("alpha_pooled_se")) sm.alpha_pooled_se = g.read_double("alpha_pooled_se");
      if (sm.alpha_mean.size() != sm.step.size() || sm.alpha_sem.size() != sm.step.size() ||
          sm.n_replicates.size() != sm.step.size())
        throw StoreError(g.path() +
                         ": step, alpha_mean, alpha_sem and n_replicates differ in length");
      fits.summaries[name] = std::move(sm);
    }
  }
  return fits;
}

}  // namespace depthscale::store
