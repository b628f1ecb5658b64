// Our numbers against the study's: matching an entry to our results, and the verdict.
#include <spdlog/fmt/fmt.h>

#include <cmath>

#include "report/report.hpp"

namespace depthscale::report {

namespace {

bool same(double a, double b) {
  return std::fabs(a - b) <= 1e-9 * std::max(1.0, std::max(std::fabs(a), std::fabs(b)));
}

double finite_or_zero(double v) {
  return std::isfinite(v) ? v : 0.0;
}

}  // namespace

const char* verdict_text(Verdict v) {
  switch (v) {
    case Verdict::Consistent:
      return "consistent";
    case Verdict::NotConsistent:
      return "**not consistent**";
    case Verdict::NoError:
      return "no SE to judge by";
    case Verdict::NotRun:
      return "not run";
  }
  return "?";
}

bool matches(const PublishedValue& p, const Observation& o) {
  if (p.quantity != o.quantity || !o.study_setting) return false;
  if (p.has_rho && !(std::isfinite(o.rho) && same(p.rho, o.rho))) return false;
  if (p.has_temperature && !(std::isfinite(o.temperature) && same(p.temperature, o.temperature)))
    return false;
  if (p.has_depth_offset &&
      !(std::isfinite(o.depth_offset) && same(p.depth_offset, o.depth_offset)))
    return false;
  if (!p.loss.empty() && p.loss != o.loss) return false;
  if (!p.head.empty() && p.head != o.head) return false;
  if (!p.block.empty() && p.block != o.block) return false;
  if (p.min_steps > 0 && o.steps < p.min_steps) return false;
  if (p.teacher_depth > 0 && o.teacher_depth != p.teacher_depth) return false;
  return true;
}

Comparison compare(const PublishedValue& p, const Observation& o) {
  Comparison c;
  c.published = p;
  c.ours = o;
  const double se = std::sqrt(finite_or_zero(o.se) * finite_or_zero(o.se) + p.se * p.se);
  const double diff = o.value - p.value;
  if (!std::isfinite(o.value)) {
    c.verdict = Verdict::NoError;
    c.detail = "our value is not finite";
    return c;
  }
  if (!(se > 0) && !(p.tolerance > 0)) {
    c.verdict = Verdict::NoError;
    c.detail = fmt::format("Δ = {:+.3g}", diff);
    return c;
  }
  const double margin = 2 * se + p.tolerance;
  bool ok = false;
  switch (p.relation) {
    case Relation::Approx:
      ok = std::fabs(diff) <= margin;
      break;
    case Relation::Above:
      ok = o.value - margin > p.value;
      break;
    case Relation::Below:
      ok = o.value + margin < p.value;
      break;
  }
  c.verdict = ok ? Verdict::Consistent : Verdict::NotConsistent;
  c.detail = se > 0 ? fmt::format("Δ = {:+.3g} ({:+.1f} SE)", diff, diff / se)
                    : fmt::format("Δ = {:+.3g} (tolerance {:g})", diff, p.tolerance);
  return c;
}

std::vector<Comparison> compare_all(const std::vector<PublishedValue>& published,
                                    const std::vector<Observation>& ours) {
  std::vector<Comparison> out;
  for (const auto& p : published) {
    bool any = false;
    for (const auto& o : ours) {
      if (!matches(p, o)) continue;
      out.push_back(compare(p, o));
      any = true;
    }
    if (!any) {
      Comparison c;
      c.published = p;
      c.verdict = Verdict::NotRun;
      out.push_back(c);
    }
  }
  return out;
}

}  // namespace depthscale::report
