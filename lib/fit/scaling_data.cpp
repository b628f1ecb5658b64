// Scaling-law CSV: reading with row/column-precise errors, the top-loss cut, subsets.
#include <spdlog/fmt/fmt.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>

#include "fit/fit.hpp"

namespace depthscale::fit {
namespace {

std::string trim(const std::string& s) {
  std::size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  std::string t = s.substr(b, e - b);
  if (t.size() >= 2 && t.front() == '"' && t.back() == '"') t = t.substr(1, t.size() - 2);
  return t;
}

std::vector<std::string> split(const std::string& line) {
  std::vector<std::string> fields;
  std::string field;
  std::istringstream in(line);
  while (std::getline(in, field, ',')) fields.push_back(trim(field));
  if (!line.empty() && line.back() == ',') fields.emplace_back();  // trailing empty field
  return fields;
}

bool blank(const std::string& line) {
  return std::all_of(line.begin(), line.end(),
                     [](char ch) { return std::isspace(static_cast<unsigned char>(ch)); });
}

}  // namespace

void ScalingData::push_back(double model_size_, double flop_, double loss_, double tokens_,
                            double width_, double depth_, int line_) {
  model_size.push_back(model_size_);
  flop.push_back(flop_);
  loss.push_back(loss_);
  tokens.push_back(tokens_);
  width.push_back(width_);
  depth.push_back(depth_);
  line.push_back(line_);
}

ScalingData read_scaling_csv(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw DataError(fmt::format("{}: cannot open the file", path));
  static const std::array<const char*, 6> kColumns = {"model_size", "FLOP",    "loss",
                                                      "num_tokens", "d_model", "n_layers"};
  std::string text;
  int line_no = 0;
  // Header: the first non-blank line.
  std::vector<std::string> header;
  while (std::getline(in, text)) {
    ++line_no;
    if (!text.empty() && text.back() == '\r') text.pop_back();
    if (line_no == 1 && text.size() >= 3 && text.compare(0, 3, "\xEF\xBB\xBF") == 0)
      text = text.substr(3);  // UTF-8 byte-order mark
    if (blank(text)) continue;
    header = split(text);
    break;
  }
  if (header.empty())
    throw DataError(fmt::format("{}: empty file (a header line is required)", path));
  const int header_line = line_no;
  std::map<std::string, int> position;
  for (int i = 0; i < static_cast<int>(header.size()); ++i) {
    if (position.count(header[i]))
      throw DataError(fmt::format("{}:{}: column '{}' appears twice in the header", path,
                                  header_line, header[i]));
    position[header[i]] = i;
  }
  std::array<int, 6> col{};
  for (int k = 0; k < 6; ++k) {
    auto it = position.find(kColumns[k]);
    if (it == position.end())
      throw DataError(fmt::format(
          "{}:{}: missing column '{}' in the header (need model_size, FLOP, loss, num_tokens, "
          "d_model, n_layers)",
          path, header_line, kColumns[k]));
    col[k] = it->second;
  }

  ScalingData data;
  while (std::getline(in, text)) {
    ++line_no;
    if (!text.empty() && text.back() == '\r') text.pop_back();
    if (blank(text)) continue;
    const std::vector<std::string> fields = split(text);
    if (fields.size() != header.size())
      throw DataError(fmt::format("{}:{}: expected {} fields (as in the header), found {}", path,
                                  line_no, header.size(), fields.size()));
    std::array<double, 6> v{};
    for (int k = 0; k < 6; ++k) {
      const std::string& cell = fields[col[k]];
      if (cell.empty())
        throw DataError(fmt::format("{}:{}: column '{}': empty cell", path, line_no, kColumns[k]));
      char* end = nullptr;
      errno = 0;
      v[k] = std::strtod(cell.c_str(), &end);
      if (end != cell.c_str() + cell.size() || errno == ERANGE || !std::isfinite(v[k]))
        throw DataError(fmt::format("{}:{}: column '{}': '{}' is not a finite number", path,
                                    line_no, kColumns[k], cell));
      if (v[k] <= 0)
        throw DataError(fmt::format("{}:{}: column '{}': value {} must be positive", path, line_no,
                                    kColumns[k], cell));
    }
    data.push_back(v[0], v[1], v[2], v[3], v[4], v[5], line_no);
  }
  if (data.size() == 0) throw DataError(fmt::format("{}: no data rows after the header", path));
  return data;
}

ModelShapes read_shapes_csv(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw DataError(fmt::format("{}: cannot open the file", path));
  std::string text;
  int line_no = 0;
  std::vector<std::string> header;
  while (std::getline(in, text)) {
    ++line_no;
    if (!text.empty() && text.back() == '\r') text.pop_back();
    if (line_no == 1 && text.size() >= 3 && text.compare(0, 3, "\xEF\xBB\xBF") == 0)
      text = text.substr(3);
    if (blank(text) || trim(text)[0] == '#') continue;
    header = split(text);
    break;
  }
  if (header.empty())
    throw DataError(fmt::format("{}: empty file (a header line is required)", path));
  const int header_line = line_no;
  const auto find = [&](std::initializer_list<const char*> names) {
    for (const char* n : names)
      for (std::size_t i = 0; i < header.size(); ++i)
        if (header[i] == n) return static_cast<int>(i);
    return -1;
  };
  const int c_width = find({"d_model", "width"}), c_depth = find({"n_layers", "depth"});
  const int c_name = find({"name", "model"}), c_family = find({"family"});
  if (c_width < 0 || c_depth < 0)
    throw DataError(
        fmt::format("{}:{}: the header needs a width column (d_model or width) and a depth column "
                    "(n_layers or depth)",
                    path, header_line));
  ModelShapes shapes;
  while (std::getline(in, text)) {
    ++line_no;
    if (!text.empty() && text.back() == '\r') text.pop_back();
    if (blank(text) || trim(text)[0] == '#') continue;
    const std::vector<std::string> fields = split(text);
    if (fields.size() != header.size())
      throw DataError(fmt::format("{}:{}: expected {} fields (as in the header), found {}", path,
                                  line_no, header.size(), fields.size()));
    double v[2];
    const int cols[2] = {c_width, c_depth};
    for (int k = 0; k < 2; ++k) {
      const std::string& cell = fields[cols[k]];
      char* end = nullptr;
      errno = 0;
      v[k] = std::strtod(cell.c_str(), &end);
      if (cell.empty() || end != cell.c_str() + cell.size() || errno == ERANGE ||
          !std::isfinite(v[k]) || v[k] <= 0)
        throw DataError(fmt::format("{}:{}: column '{}': '{}' is not a positive number", path,
                                    line_no, header[cols[k]], cell));
    }
    shapes.width.push_back(v[0]);
    shapes.depth.push_back(v[1]);
    shapes.name.push_back(c_name >= 0 ? fields[c_name] : std::string());
    shapes.family.push_back(c_family >= 0 ? fields[c_family] : std::string());
    shapes.line.push_back(line_no);
  }
  if (shapes.size() == 0) throw DataError(fmt::format("{}: no data rows after the header", path));
  return shapes;
}

ScalingData exclude_top_losses(const ScalingData& data, int k) {
  if (k < 0) throw std::invalid_argument(fmt::format("exclude-top must be ≥ 0, got {}", k));
  if (k == 0) return data;
  if (static_cast<std::size_t>(k) > data.size())
    throw std::invalid_argument(
        fmt::format("exclude-top {} is more than the {} rows", k, data.size()));
  std::vector<double> sorted = data.loss;
  std::nth_element(sorted.begin(), sorted.begin() + (k - 1), sorted.end(), std::greater<>());
  const double cut = sorted[k - 1];  // the k-th largest loss
  std::vector<std::size_t> keep;
  for (std::size_t i = 0; i < data.size(); ++i)
    if (data.loss[i] < cut) keep.push_back(i);  // strictly below: ties at the cut go together
  if (keep.empty()) throw std::invalid_argument(fmt::format("exclude-top {} leaves no rows", k));
  return subset(data, keep);
}

ScalingData subset(const ScalingData& data, const std::vector<std::size_t>& index) {
  ScalingData out;
  for (std::size_t i : index)
    out.push_back(data.model_size.at(i), data.flop.at(i), data.loss.at(i), data.tokens.at(i),
                  data.width.at(i), data.depth.at(i), data.line.at(i));
  return out;
}

std::vector<int> parse_int_list(const std::string& text) {
  std::vector<int> out;
  std::string item;
  std::istringstream in(text);
  while (std::getline(in, item, ',')) {
    const std::string t = trim(item);
    char* end = nullptr;
    errno = 0;
    const long v = std::strtol(t.c_str(), &end, 10);
    if (t.empty() || end != t.c_str() + t.size() || errno == ERANGE || v < 0 || v > 1000000000)
      throw std::invalid_argument(
          fmt::format("'{}' in '{}' is not a non-negative integer", t, text));
    out.push_back(static_cast<int>(v));
  }
  if (out.empty() || (!text.empty() && text.back() == ','))
    throw std::invalid_argument(
        fmt::format("'{}' is not a comma-separated list of integers", text));
  return out;
}

}  // namespace depthscale::fit
