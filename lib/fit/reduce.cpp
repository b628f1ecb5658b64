#include "fit/reduce.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>
#include <tuple>

#include "config/job.hpp"
#include "fit/fit.hpp"
#include "log/log.hpp"
#include "store/store.hpp"

namespace depthscale::fit {

namespace {

struct Student {
  int depth = 0;
  std::map<int64_t, double> test_loss;  // step → loss
};

struct Group {
  config::ToyTask task;  // the grid point of its students, but depth
  std::vector<Student> students;
};

// The axes beyond the study's, as /fits records them (0: not an axis of the job).
template <class Fit>
void set_axes(Fit& f, const config::ToyTask& t) {
  f.rho = t.rho;
  f.temperature = t.temperature;
  f.width = t.width_axis ? t.width : 0;
  f.teacher_depth = t.teacher_depth_axis ? t.teacher_depth : 0;
  f.teacher_groups = t.teacher_groups;
}

// The fit of one group at every step that all its depths evaluated (/fits/<group>/).
using Series = store::FitSeries;

// The free fit, or where its L0 is below `floor`, the fit with L0 held at the floor.
PowerLawFit fit_with_floor(const std::vector<double>& depth, const std::vector<double>& loss,
                           const std::vector<double>& weights, const PowerLawOptions& opt,
                           std::optional<double> floor, bool* held) {
  auto f = fit_power_law(depth, loss, weights, opt);
  *held = false;
  if (floor && std::isfinite(f.L0) && f.L0 < *floor) {
    PowerLawOptions fixed = opt;
    fixed.fixed_L0 = *floor;
    const double free_L0 = f.L0;
    f = fit_power_law(depth, loss, weights, fixed);
    *held = true;
    f.message = log::sprintf("L0 held at %g (the free fit gave %.4g)", *floor, free_L0) +
                (f.message.empty() ? "" : "; " + f.message);
  }
  return f;
}

Series fit_series(const Group& g, const PowerLawOptions& opt, std::vector<int64_t> steps,
                  std::optional<double> floor) {
  Series s;
  for (int64_t step : steps) {
    std::vector<double> depth, loss;
    for (const auto& st : g.students) {
      auto it = st.test_loss.find(step);
      if (it != st.test_loss.end()) {
        depth.push_back(st.depth);
        loss.push_back(it->second);
      }
    }
    bool held = false;
    auto f = fit_with_floor(depth, loss, {}, opt, floor, &held);
    if (f.status == FitStatus::kNotConverged || f.status == FitStatus::kBadInput ||
        f.status == FitStatus::kTooFewPoints) {
      // No estimate: keep the numbers out (NaN) and say why.
      f.alpha = f.alpha_se = f.c = f.c_se = f.L0 = f.L0_se = kNaN;
    }
    s.step.push_back(step);
    s.n_points.push_back(f.n_points);
    s.alpha.push_back(f.alpha);
    s.alpha_se.push_back(f.alpha_se);
    s.c.push_back(f.c);
    s.c_se.push_back(f.c_se);
    s.L0.push_back(f.L0);
    s.L0_se.push_back(f.L0_se);
    s.rss.push_back(f.rss);
    s.L0_held.push_back(held);
    s.final_message = f.message;
  }
  return s;
}

std::string fmt_pm(double v, double se) {
  char buf[64];
  if (!std::isfinite(v)) return "—";
  if (std::isfinite(se))
    std::snprintf(buf, sizeof buf, "%.4g ± %.2g", v, se);
  else
    std::snprintf(buf, sizeof buf, "%.4g", v);
  return buf;
}

}  // namespace

std::string reduce_sweep(const ReduceOptions& options) {
  const std::string& path = options.path;
  std::string report;
  {
    std::map<std::string, Group> groups;
    std::string loss;  // what the losses measure, as the tasks record it (store::Fits::loss)
    for (const auto& r : store::read_tasks(path, store::TaskFields::Losses)) {
      if (!r.complete) continue;
      if (loss.empty()) loss = r.loss;
      const auto task = config::ToyTask::from_params(r.params);
      auto& g = groups[task.group()];
      g.task = task;
      Student s;
      s.depth = task.depth;
      for (size_t i = 0; i < r.eval_step.size() && i < r.test_loss.size(); ++i)
        s.test_loss[r.eval_step[i]] = r.test_loss[i];
      g.students.push_back(std::move(s));
    }
    if (groups.empty()) throw ReduceError(path + ": no complete tasks yet: nothing to reduce");
    PowerLawOptions opt;
    opt.depth_offset = options.depth_offset;

    std::map<std::string, Series> fits;
    // Replicates of one (ρ, T): their per-step α and their per-depth losses.
    struct Summary {
      config::ToyTask task;
      std::vector<const Series*> series;
      std::vector<const Group*> groups;
    };
    std::map<std::string, Summary> summaries;
    for (const auto& [name, g] : groups) {
      std::set<int64_t> steps;
      for (const auto& st : g.students)
        for (const auto& [step, l] : st.test_loss) steps.insert(step);
      fits[name] = fit_series(g, opt, {steps.begin(), steps.end()}, options.L0_floor);
      auto& sm = summaries[g.task.cell()];
      sm.task = g.task;
      sm.series.push_back(&fits[name]);
      sm.groups.push_back(&g);
    }

    store::Fits out;
    out.model = "L(depth) = c * (depth - depth_offset)^-alpha + L0";
    out.depth_offset = options.depth_offset;
    out.standard_errors = "Ceres covariance scaled by s^2 = RSS/(n - 3) (n - 2 with L0 held)";
    if (options.L0_floor) out.L0_floor = *options.L0_floor;
    out.loss = loss;
    for (auto& [name, s] : fits) {
      const auto& grp = groups.at(name);
      set_axes(s, grp.task);
      s.teacher = grp.task.teacher;
      s.n_depths = int64_t(grp.students.size());
      out.groups[name] = s;
    }
    out.summary_what =
        "alpha across teacher replicates: mean and standard error of the mean; "
        "alpha_pooled: weighted fit of the replicate-mean losses (1/SEM^2)";
    for (auto& [name, sm] : summaries) {
      // Steps every replicate has.
      std::map<int64_t, int> count;
      for (const auto* s : sm.series)
        for (auto st : s->step) ++count[st];
      store::FitSummary& fs = out.summaries[name];
      set_axes(fs, sm.task);
      for (const auto& [st, n] : count) {
        if (n != int(sm.series.size())) continue;
        std::vector<double> alphas;
        for (const auto* s : sm.series)
          for (size_t i = 0; i < s->step.size(); ++i)
            if (s->step[i] == st) alphas.push_back(s->alpha[i]);
        auto ms = mean_se(alphas);
        fs.step.push_back(st);
        fs.alpha_mean.push_back(ms.mean);
        fs.alpha_sem.push_back(ms.se);
        fs.n_replicates.push_back(ms.n);
        // Weighted fit of the mean loss per depth, weights 1/SEM² across replicates.
        std::map<int, std::vector<double>> by_depth;
        for (const auto* g : sm.groups)
          for (const auto& stu : g->students) {
            auto it = stu.test_loss.find(st);
            if (it != stu.test_loss.end()) by_depth[stu.depth].push_back(it->second);
          }
        std::vector<double> d, l, w;
        bool weighted = true;
        for (const auto& [depth, ls] : by_depth) {
          auto m = mean_se(ls);
          d.push_back(depth);
          l.push_back(m.mean);
          if (!(m.se > 0)) weighted = false;
          w.push_back(m.se > 0 ? 1.0 / (m.se * m.se) : 1.0);
        }
        bool held = false;
        auto pf = fit_with_floor(d, l, weighted ? w : std::vector<double>{}, opt, options.L0_floor,
                                 &held);
        fs.alpha_pooled.push_back(pf.alpha);
        fs.alpha_pooled_se.push_back(pf.alpha_se);
      }
    }
    store::write_fits(path, out);

    // The α table at the final step.
    report += log::sprintf(
        "depth fits of %s: L(depth) = c*(depth-%g)^-alpha + L0 (final evaluated step)%s\n",
        path.c_str(), options.depth_offset,
        options.L0_floor
            ? log::sprintf("; L0 held at %g where the free fit went below it", *options.L0_floor)
                  .c_str()
            : "");
    report += log::sprintf("%-30s %7s %18s %22s %22s  %s\n", "group", "depths", "alpha", "c", "L0",
                           "note");
    // Rows in the grid's numeric order (K, ℓ*, ρ, T, width, replicate), not the names' (m16
    // before m8).
    const auto numeric = [](const config::ToyTask& t) {
      return std::make_tuple(t.teacher_groups, t.teacher_depth, t.rho, t.temperature, t.width,
                             t.teacher);
    };
    // The names of a map of groups or cells, in that order.
    const auto in_order = [&](const auto& by_name) {
      std::vector<std::string> names;
      for (const auto& entry : by_name) names.push_back(entry.first);
      std::stable_sort(names.begin(), names.end(), [&](const auto& a, const auto& b) {
        return numeric(by_name.at(a).task) < numeric(by_name.at(b).task);
      });
      return names;
    };
    for (const auto& name : in_order(groups)) {
      const Series& s = fits.at(name);
      if (s.step.empty()) continue;
      const size_t i = s.step.size() - 1;
      report +=
          log::sprintf("%-30s %7lld %18s %22s %22s  %s\n", name.c_str(), (long long)s.n_points[i],
                       fmt_pm(s.alpha[i], s.alpha_se[i]).c_str(), fmt_pm(s.c[i], s.c_se[i]).c_str(),
                       fmt_pm(s.L0[i], s.L0_se[i]).c_str(), s.final_message.c_str());
    }
    report += log::sprintf("\nacross teacher replicates (mean ± SEM of alpha):\n");
    report +=
        log::sprintf("%-24s %-6s %-12s %6s %18s\n", "cell", "rho", "temperature", "n", "alpha");
    for (const auto& name : in_order(summaries)) {
      const Summary& sm = summaries.at(name);
      std::vector<double> finals;
      for (const auto* s : sm.series)
        if (!s->alpha.empty()) finals.push_back(s->alpha.back());
      auto ms = mean_se(finals);
      report += log::sprintf("%-24s %-6g %-12g %6d %18s\n", name.c_str(), sm.task.rho,
                             sm.task.temperature, ms.n, fmt_pm(ms.mean, ms.se).c_str());
    }
  }
  return report;
}

}  // namespace depthscale::fit
