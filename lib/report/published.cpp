// The study's published values (jobs/paper/published.yaml): read and checked, every error naming
// the file, the line and the key.
#include <spdlog/fmt/fmt.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "report/report.hpp"

namespace depthscale::report {

namespace {

std::string at(const std::string& path, const YAML::Node& n) {
  return n.Mark().is_null() ? path : fmt::format("{}:{}", path, n.Mark().line + 1);
}

double number(const std::string& path, const YAML::Node& n, const std::string& key) {
  try {
    const double v = n.as<double>();
    if (!std::isfinite(v)) throw YAML::Exception(n.Mark(), "not finite");
    return v;
  } catch (const YAML::Exception&) {
    throw ReportError(fmt::format("{}: '{}' must be a number, got '{}'", at(path, n), key,
                                  n.IsScalar() ? n.Scalar() : std::string("a collection")));
  }
}

std::string text(const std::string& path, const YAML::Node& n, const std::string& key) {
  if (!n.IsScalar()) throw ReportError(fmt::format("{}: '{}' must be a string", at(path, n), key));
  return n.Scalar();
}

std::string one_of(const std::string& path, const YAML::Node& n, const std::string& key,
                   const std::vector<std::string>& allowed) {
  const std::string v = text(path, n, key);
  if (std::find(allowed.begin(), allowed.end(), v) == allowed.end()) {
    std::string list;
    for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
    throw ReportError(
        fmt::format("{}: '{}' is '{}'; expected one of: {}", at(path, n), key, v, list));
  }
  return v;
}

}  // namespace

const std::vector<std::string>& known_quantities() {
  static const std::vector<std::string> k = {
      "toy_alpha",           "toy_theta_slope", "probe_theta_slope",
      "probe_early_stop",    "scaling_alpha_m", "scaling_alpha_l",
      "scaling_alpha_D",     "scaling_L0",      "scaling_mean_relative_error",
      "scaling_shapes_slope"};
  return k;
}

std::vector<PublishedValue> load_published(const std::string& path) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::BadFile&) {
    throw ReportError(fmt::format("{}: cannot open the published-values file", path));
  } catch (const YAML::Exception& e) {
    throw ReportError(fmt::format("{}:{}: not valid YAML: {}", path, e.mark.line + 1, e.msg));
  }
  if (!root.IsMap() || !root["values"] || !root["values"].IsSequence())
    throw ReportError(fmt::format("{}: expected a mapping with a 'values' list", path));
  std::vector<PublishedValue> out;
  std::set<std::string> ids;
  static const std::set<std::string> kKeys = {"id",        "quantity", "relation", "value", "se",
                                              "tolerance", "match",    "claim",    "source"};
  static const std::set<std::string> kMatch = {
      "rho", "temperature", "depth_offset", "loss", "head", "block", "min_steps", "teacher_depth"};
  for (const auto& e : root["values"]) {
    if (!e.IsMap()) throw ReportError(fmt::format("{}: each value must be a mapping", at(path, e)));
    PublishedValue p;
    p.line = e.Mark().is_null() ? 0 : e.Mark().line + 1;
    for (const auto& kv : e) {
      const std::string key = kv.first.as<std::string>();
      if (!kKeys.count(key))
        throw ReportError(fmt::format("{}: unknown key '{}'", at(path, kv.first), key));
    }
    for (const char* required : {"id", "quantity", "value", "claim", "source"})
      if (!e[required])
        throw ReportError(fmt::format("{}: entry without '{}'", at(path, e), required));
    p.id = text(path, e["id"], "id");
    if (!ids.insert(p.id).second)
      throw ReportError(fmt::format("{}: id '{}' appears twice", at(path, e["id"]), p.id));
    p.quantity = one_of(path, e["quantity"], "quantity", known_quantities());
    p.value = number(path, e["value"], "value");
    if (e["se"]) p.se = number(path, e["se"], "se");
    if (e["tolerance"]) p.tolerance = number(path, e["tolerance"], "tolerance");
    if (p.se < 0 || p.tolerance < 0)
      throw ReportError(fmt::format("{}: se and tolerance must be ≥ 0", at(path, e)));
    if (e["relation"]) {
      const std::string r = one_of(path, e["relation"], "relation", {"approx", "above", "below"});
      p.relation = r == "above"   ? Relation::Above
                   : r == "below" ? Relation::Below
                                  : Relation::Approx;
    }
    p.claim = text(path, e["claim"], "claim");
    p.source = text(path, e["source"], "source");
    if (const auto m = e["match"]) {
      if (!m.IsMap() && !m.IsNull())
        throw ReportError(fmt::format("{}: 'match' must be a mapping", at(path, m)));
      for (const auto& kv : m) {
        const std::string key = kv.first.as<std::string>();
        if (!kMatch.count(key))
          throw ReportError(fmt::format("{}: unknown match key '{}'", at(path, kv.first), key));
        const YAML::Node& v = kv.second;
        if (key == "rho") p.has_rho = true, p.rho = number(path, v, "match.rho");
        if (key == "temperature")
          p.has_temperature = true, p.temperature = number(path, v, "match.temperature");
        if (key == "depth_offset")
          p.has_depth_offset = true, p.depth_offset = number(path, v, "match.depth_offset");
        if (key == "loss") p.loss = one_of(path, v, "match.loss", {"kl", "mse"});
        if (key == "head") p.head = one_of(path, v, "match.head", {"trained", "teacher", "none"});
        if (key == "block") p.block = one_of(path, v, "match.block", {"plain", "rk2"});
        if (key == "min_steps")
          p.min_steps = static_cast<long long>(number(path, v, "match.min_steps"));
        if (key == "teacher_depth")
          p.teacher_depth = static_cast<long long>(number(path, v, "match.teacher_depth"));
      }
    }
    out.push_back(std::move(p));
  }
  if (out.empty()) throw ReportError(fmt::format("{}: the 'values' list is empty", path));
  return out;
}

}  // namespace depthscale::report
