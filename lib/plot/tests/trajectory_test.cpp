// The trajectory figures (plot/trajectory_plots.hpp) from a small toy sweep and a small LLM probe
// file written through the store: each figure's CSV is checked against the HDF5 datasets read back
// here on their own — the grey lines are exactly the first N rows of the chosen network's
// dataset, the mean is its column mean (toy) or summary/ (LLM), in the panels the selection picks.
// Also: a selected value the file lacks is an error naming it and the file; a model without
// per-site arrays skips the token figure with a log line.
#include <gtest/gtest.h>
#include <spdlog/fmt/fmt.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "plot/plot.hpp"
#include "plot/trajectory_plots.hpp"
#include "store/store.hpp"

namespace fs = std::filesystem;
using namespace depthscale;

namespace {

// ---- a toy sweep -------------------------------------------------------------------------------

constexpr int64_t kInputs = 30, kTeacherDepth = 6;
const std::vector<double> kRhos = {0.0, 1.0}, kTemps = {0.1, 1.0, 10.0};
const std::vector<int64_t> kTeachers = {0, 1}, kDepths = {1, 2, 4, 8};

// Per-input angles that differ with every parameter, so that a wrong network or row shows.
float toy_angle(int64_t input, int64_t l, int64_t depth, double rho, double T, int64_t teacher,
                bool dh) {
  return static_cast<float>((dh ? 0.6 : 0.05) +
                            0.3 / static_cast<double>(depth) * (1 + 0.02 * input) * (1 + 0.05 * l) +
                            0.01 * rho + 0.002 * std::log10(T) + 0.0003 * teacher);
}

std::string task_key(double rho, double T, int64_t teacher, int64_t depth) {
  return fmt::format("rho{}_T{}_t{}_d{}", rho, T, teacher, depth);
}
std::string teacher_key(double rho, int64_t teacher) {
  return fmt::format("teacher_rho{}_t{}", rho, teacher);
}

void write_toy(store::Group& root) {
  store::Group tasks = root.require_group("tasks");
  for (double rho : kRhos)
    for (double T : kTemps)
      for (int64_t teacher : kTeachers)
        for (int64_t depth : kDepths) {
          store::TaskResult r;
          r.key = task_key(rho, T, teacher, depth);
          r.params = {{"rho", rho},
                      {"temperature", T},
                      {"teacher", static_cast<double>(teacher)},
                      {"depth", static_cast<double>(depth)}};
          r.complete = true;
          r.host = "test";
          r.train_loss = {1.0f};
          r.probe_inputs = kInputs;
          for (int64_t i = 0; i < kInputs; ++i) {
            for (int64_t l = 0; l < depth; ++l)
              r.theta.push_back(toy_angle(i, l, depth, rho, T, teacher, false));
            for (int64_t l = 0; l + 1 < depth; ++l)
              r.theta_dh.push_back(toy_angle(i, l, depth, rho, T, teacher, true));
            for (int64_t l = 0; l <= depth; ++l) r.norms.push_back(1.0f);
          }
          // An input past the grey lines without a θ: the mean is over the finite values.
          if (depth > 1) r.theta[25 * depth + 1] = NAN;
          store::write_task(tasks, r);
        }
  store::Group teachers = root.require_group("teachers");
  for (double rho : kRhos)
    for (int64_t teacher : kTeachers) {
      store::Group g = teachers.create_group(teacher_key(rho, teacher));
      g.set_attr("rho", rho);
      g.set_attr("teacher", teacher);
      g.set_attr("depth", kTeacherDepth);
      std::vector<float> theta, dh, norms;
      for (int64_t i = 0; i < kInputs; ++i) {
        for (int64_t l = 0; l < kTeacherDepth; ++l)
          theta.push_back(toy_angle(i, l, 100, rho, 1, teacher, false));
        for (int64_t l = 0; l + 1 < kTeacherDepth; ++l)
          dh.push_back(toy_angle(i, l, 100, rho, 1, teacher, true));
        for (int64_t l = 0; l <= kTeacherDepth; ++l) norms.push_back(1.0f);
      }
      store::Group h = g.create_group("hidden");
      const auto n = static_cast<hsize_t>(kInputs), L = static_cast<hsize_t>(kTeacherDepth);
      h.write("theta", theta, {n, L});
      h.write("theta_dh", dh, {n, L - 1});
      h.write("norms", norms, {n, L + 1});
      g.set_attr("status", "complete");
    }
}

// ---- an LLM probe ------------------------------------------------------------------------------

struct Llm {
  std::string name;
  int64_t layers = 6, sites = 40;
  bool per_token = true;  // false: store_per_token: false (no per-site arrays)
};

float token_angle(int64_t site, int64_t l, int64_t L, bool dh) {
  return static_cast<float>((dh ? 1.2 : 0.2) * (1 + 0.5 * std::sin(0.7 * site + l)) /
                            std::sqrt(static_cast<double>(L)));
}

// /probe/<model>/ as probe/runner.cpp finalises it (the parts these figures read).
void write_llm(store::Group& root, const Llm& m) {
  store::Group g = root.require_group("probe").create_group(m.name);
  store::Group s = g.create_group("summary");
  for (bool dh : {false, true}) {
    const int64_t cols = dh ? m.layers - 1 : m.layers;
    std::vector<float> data;
    std::vector<double> mean(cols, 0.0);
    for (int64_t i = 0; i < m.sites; ++i)
      for (int64_t l = 0; l < cols; ++l) {
        data.push_back(token_angle(i, l, m.layers, dh));
        mean[l] += static_cast<double>(data.back()) / static_cast<double>(m.sites);
      }
    const char* name = dh ? "theta_dh" : "theta";
    if (m.per_token)
      g.write(name, data, {static_cast<hsize_t>(m.sites), static_cast<hsize_t>(cols)});
    s.write(name, mean);
  }
  g.set_attr("family", "gpt_neox");
  g.set_attr("num_layers", m.layers);
  g.set_attr("sites", m.sites);
  g.set_attr("store_per_token", int64_t{m.per_token ? 1 : 0});
  g.set_attr("status", "complete");
}

void write_file(const std::string& path, bool toy, const std::vector<Llm>& llms) {
  store::File f = store::File::create(path);
  store::Group root = f.root();
  root.set_attr("format", "depthscale-sweep");
  root.set_attr("format_version", int64_t{1});
  root.set_attr("job_yaml", "name: trajectories\n");
  root.create_group("tasks");
  if (toy) write_toy(root);
  for (const auto& m : llms) write_llm(root, m);
  f.close();
}

// A dataset read back whole, on its own (not through the figure code).
std::vector<float> read_back(const std::string& path, const std::vector<std::string>& groups,
                             const std::string& dataset, std::vector<hsize_t>* dims) {
  store::File f = store::File::open(path, store::Mode::ReadOnly);
  store::Group g = f.root();
  for (const auto& name : groups) g = g.open_group(name);
  return g.read_float(dataset, dims);
}
std::vector<double> read_back_double(const std::string& path,
                                     const std::vector<std::string>& groups,
                                     const std::string& dataset) {
  store::File f = store::File::open(path, store::Mode::ReadOnly);
  store::Group g = f.root();
  for (const auto& name : groups) g = g.open_group(name);
  return g.read_double(dataset);
}

// ---- drawing and reading the figures ---------------------------------------------------------

struct Drawn {
  int made = 0;
  std::vector<std::string> errors;
};
Drawn draw(const std::string& path, const fs::path& out, const plot::Selection& select) {
  fs::create_directories(out);
  store::File f = store::open_sweep(path);
  Drawn d;
  plot::detail::trajectory_figures(f.root(), path, out, "", select,
                                   [&](const std::function<bool()>& figure) {
                                     try {
                                       if (figure()) ++d.made;
                                     } catch (const depthscale::Error& e) {
                                       d.errors.push_back(e.what());
                                     }
                                   });
  return d;
}

using Row = std::map<std::string, std::string>;
std::vector<Row> read_csv(const fs::path& path) {
  std::ifstream in(path);
  EXPECT_TRUE(in.good()) << path;
  const auto split = [](const std::string& s) {
    std::vector<std::string> out;
    std::string cell;
    std::stringstream ss(s);
    while (std::getline(ss, cell, ',')) out.push_back(cell);
    if (!s.empty() && s.back() == ',') out.push_back("");
    return out;
  };
  std::string line;
  std::vector<Row> rows;
  if (!std::getline(in, line)) return rows;
  const auto header = split(line);
  while (std::getline(in, line)) {
    const auto cells = split(line);
    EXPECT_EQ(cells.size(), header.size()) << path << ": " << line;
    Row r;
    for (std::size_t i = 0; i < header.size() && i < cells.size(); ++i) r[header[i]] = cells[i];
    rows.push_back(r);
  }
  return rows;
}
double d(const Row& r, const std::string& column) {
  const auto it = r.find(column);
  EXPECT_NE(it, r.end()) << "no column " << column;
  return it == r.end() ? NAN : std::stod(it->second);
}
int64_t i64(const Row& r, const std::string& column) {
  return static_cast<int64_t>(std::llround(d(r, column)));
}

// The PNG's size from its IHDR chunk (0, 0 when it is not a PNG).
std::pair<uint32_t, uint32_t> png_size(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::string bytes(24, '\0');
  if (!in.read(bytes.data(), 24) || bytes.substr(0, 8) != std::string("\x89PNG\r\n\x1a\n", 8))
    return {0, 0};
  const auto be32 = [&](std::size_t at) {
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v = (v << 8) | static_cast<unsigned char>(bytes[at + i]);
    return v;
  };
  return {be32(16), be32(20)};
}

bool same_angle(double shown, double stored) {
  return (std::isnan(shown) && std::isnan(stored)) || shown == stored;
}

// One panel of a figure as its CSV holds it.
struct Panel {
  Row first;                                         // its first row (network, depth, ρ, ...)
  std::map<std::string, std::vector<Row>> by_input;  // input/site index → rows, in order
  std::vector<Row> mean;
  std::vector<std::string> order;  // inputs in the order of the CSV
};
std::map<int64_t, Panel> panels_of(const std::vector<Row>& rows, const std::string& line_column) {
  std::map<int64_t, Panel> out;
  for (const auto& r : rows) {
    Panel& p = out[i64(r, "panel")];
    if (p.first.empty()) p.first = r;
    if (r.at("kind") == "mean") {
      EXPECT_EQ(r.at(line_column), "");
      p.mean.push_back(r);
    } else {
      const std::string& in = r.at(line_column);
      if (p.by_input[in].empty()) p.order.push_back(in);
      p.by_input[in].push_back(r);
    }
  }
  return out;
}

// A toy panel against the file: its rows all name one network; its grey lines are the first n
// rows of that network's hidden/<dataset>, layer by layer from first_layer; its mean the column
// means over the finite values of every input.
void expect_toy_panel(const Panel& p, const std::string& path, const std::string& dataset,
                      int64_t first_layer, std::size_t n) {
  const Row& f = p.first;
  const bool teacher = f.at("network") == "teacher";
  const double rho = d(f, "rho"), T = d(f, "temperature");
  const int64_t replicate = i64(f, "teacher"), depth = i64(f, "depth");
  const std::vector<std::string> groups =
      teacher ? std::vector<std::string>{"teachers", teacher_key(rho, replicate), "hidden"}
              : std::vector<std::string>{"tasks", task_key(rho, T, replicate, depth), "hidden"};
  std::vector<hsize_t> dims;
  const auto data = read_back(path, groups, dataset, &dims);
  ASSERT_EQ(dims.size(), 2u);
  const std::size_t rows = dims[0], cols = dims[1];
  const std::string where = fmt::format("{} {} depth {}", groups[1], dataset, depth);
  ASSERT_EQ(p.order.size(), std::min(n, rows)) << where;
  for (std::size_t i = 0; i < p.order.size(); ++i) {
    ASSERT_EQ(p.order[i], std::to_string(i)) << where;
    const auto& line = p.by_input.at(p.order[i]);
    ASSERT_EQ(line.size(), cols) << where;
    for (std::size_t j = 0; j < cols; ++j) {
      EXPECT_EQ(i64(line[j], "layer"), first_layer + static_cast<int64_t>(j)) << where;
      EXPECT_TRUE(same_angle(d(line[j], "angle"), data[i * cols + j]))
          << where << " input " << i << " column " << j;
      for (const char* c : {"network", "rho", "temperature", "teacher", "depth"})
        EXPECT_EQ(line[j].at(c), f.at(c)) << where;
    }
  }
  ASSERT_EQ(p.mean.size(), cols) << where;
  for (std::size_t j = 0; j < cols; ++j) {
    double sum = 0;
    int count = 0;
    for (std::size_t i = 0; i < rows; ++i) {
      if (std::isfinite(data[i * cols + j])) sum += data[i * cols + j], ++count;
    }
    EXPECT_EQ(i64(p.mean[j], "layer"), first_layer + static_cast<int64_t>(j)) << where;
    EXPECT_DOUBLE_EQ(d(p.mean[j], "angle"), sum / count) << where << " column " << j;
  }
}

class TrajectoryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() / fmt::format("ds_traj_{}_{}", getpid(), info->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    sink_ = std::make_shared<spdlog::sinks::ostream_sink_mt>(log_);
    spdlog::default_logger()->sinks().push_back(sink_);
  }
  void TearDown() override {
    auto& sinks = spdlog::default_logger()->sinks();
    sinks.erase(std::remove(sinks.begin(), sinks.end(), sink_), sinks.end());
    // DEPTHSCALE_KEEP_FIGURES=DIR keeps the figures a test draws, to look at them.
    if (const char* keep = std::getenv("DEPTHSCALE_KEEP_FIGURES")) {
      fs::create_directories(keep);
      fs::copy(dir_, fs::path(keep) / dir_.filename(),
               fs::copy_options::recursive | fs::copy_options::overwrite_existing);
    }
    if (!HasFailure()) fs::remove_all(dir_);
  }
  std::string log() const { return log_.str(); }
  bool logged(const std::string& part) const { return log().find(part) != std::string::npos; }
  fs::path dir_;
  std::ostringstream log_;
  spdlog::sink_ptr sink_;
};

const std::vector<std::string> kToyFigures = {"hidden_trajectories", "hidden_dh_trajectories",
                                              "hidden_grid", "hidden_dh_grid"};

// ---- tests -------------------------------------------------------------------------------------

// Default choice: per ρ the middle temperature (1) and the lowest replicate (0); the deepest
// student (8) for Figs 5a/5c; every depth and the teacher for the grid; 20 grey lines.
TEST_F(TrajectoryTest, ToyFiguresShowTheFirstInputsAndTheMeanOfTheDefaultChoice) {
  const std::string path = (dir_ / "toy.h5").string();
  write_file(path, true, {});
  const fs::path out = dir_ / "figs";
  const Drawn drawn = draw(path, out, {});
  ASSERT_TRUE(drawn.errors.empty()) << drawn.errors[0];
  EXPECT_EQ(drawn.made, 4) << log();
  for (const auto& name : kToyFigures) {
    const auto [w, h] = png_size(out / (name + ".png"));
    EXPECT_GE(w, 900u) << name;
    EXPECT_GE(h, 600u) << name;
    const std::string gp = (out / (name + ".gp")).string();
    std::ifstream in(gp);
    const std::string text((std::istreambuf_iterator<char>(in)), {});
    EXPECT_NE(text.find("'" + name + ".csv' skip 1 every ::"), std::string::npos) << text;
  }
  EXPECT_EQ(png_size(out / "hidden_trajectories.png"), std::make_pair(900u, 600u));
  EXPECT_GT(png_size(out / "hidden_grid.png").first, 900u);  // five columns need the room

  for (bool dh : {false, true}) {
    const std::string name = dh ? "hidden_dh_trajectories" : "hidden_trajectories";
    const auto panels = panels_of(read_csv(out / (name + ".csv")), "input");
    ASSERT_EQ(panels.size(), 2u) << name;
    for (const auto& [index, p] : panels) {
      EXPECT_EQ(d(p.first, "rho"), kRhos[static_cast<std::size_t>(index)]) << name;
      EXPECT_EQ(d(p.first, "temperature"), 1.0) << name;
      EXPECT_EQ(p.first.at("teacher"), "0") << name;
      EXPECT_EQ(p.first.at("network"), "student") << name;
      EXPECT_EQ(p.first.at("depth"), "8") << name;
      expect_toy_panel(p, path, dh ? "theta_dh" : "theta", dh ? 1 : 0, 20);
    }
  }

  for (bool dh : {false, true}) {
    const std::string name = dh ? "hidden_dh_grid" : "hidden_grid";
    // Columns: the student depths (a one-block student has no θ_dh), then the teacher.
    const std::vector<int64_t> depths =
        dh ? std::vector<int64_t>{2, 4, 8, kTeacherDepth} : std::vector<int64_t>{1, 2, 4, 8, 6};
    const auto panels = panels_of(read_csv(out / (name + ".csv")), "input");
    ASSERT_EQ(panels.size(), 2 * depths.size()) << name;
    for (const auto& [index, p] : panels) {
      const std::size_t row = static_cast<std::size_t>(index) / depths.size(),
                        col = static_cast<std::size_t>(index) % depths.size();
      EXPECT_EQ(d(p.first, "rho"), kRhos[row]) << name << " panel " << index;
      EXPECT_EQ(d(p.first, "temperature"), 1.0) << name;
      EXPECT_EQ(p.first.at("teacher"), "0") << name;
      EXPECT_EQ(p.first.at("network"), col + 1 == depths.size() ? "teacher" : "student") << name;
      EXPECT_EQ(i64(p.first, "depth"), depths[col]) << name << " panel " << index;
      expect_toy_panel(p, path, dh ? "theta_dh" : "theta", dh ? 1 : 0, 20);
    }
  }
}

// A selection narrows the candidates and the default rule picks within them: one ρ, the given
// temperature and replicate, the deeper of two depths (trajectories) or both (grid), 3 inputs.
TEST_F(TrajectoryTest, ToySelectionPicksThePanelsAndTheNumberOfInputs) {
  const std::string path = (dir_ / "toy.h5").string();
  write_file(path, true, {});
  plot::Selection sel;
  sel.rho = {1.0 + 1e-12};  // to 1e-9 relative
  sel.temperature = {10};
  sel.teacher = {1};
  sel.depth = {2, 4};
  sel.inputs = 3;
  const fs::path out = dir_ / "figs";
  const Drawn drawn = draw(path, out, sel);
  ASSERT_TRUE(drawn.errors.empty()) << drawn.errors[0];
  EXPECT_EQ(drawn.made, 4) << log();

  const auto traj = panels_of(read_csv(out / "hidden_trajectories.csv"), "input");
  ASSERT_EQ(traj.size(), 1u);
  const Panel& p = traj.begin()->second;
  EXPECT_EQ(p.first.at("rho"), "1");
  EXPECT_EQ(p.first.at("temperature"), "10");
  EXPECT_EQ(p.first.at("teacher"), "1");
  EXPECT_EQ(p.first.at("depth"), "4");
  expect_toy_panel(p, path, "theta", 0, 3);

  for (bool dh : {false, true}) {
    const std::string name = dh ? "hidden_dh_grid" : "hidden_grid";
    const auto grid = panels_of(read_csv(out / (name + ".csv")), "input");
    ASSERT_EQ(grid.size(), 3u) << name;
    std::vector<std::string> columns;
    for (const auto& [index, panel] : grid) {
      columns.push_back(panel.first.at("network") + " " + panel.first.at("depth"));
      EXPECT_EQ(panel.first.at("rho"), "1");
      EXPECT_EQ(panel.first.at("teacher"), "1");
      expect_toy_panel(panel, path, dh ? "theta_dh" : "theta", dh ? 1 : 0, 3);
    }
    EXPECT_EQ(columns, (std::vector<std::string>{"student 2", "student 4", "teacher 6"})) << name;
  }
}

// A value the file does not have fails once, naming the value and the file; nothing is drawn.
TEST_F(TrajectoryTest, SelectedValuesTheFileLacksAreErrorsNamingThem) {
  const std::string path = (dir_ / "toy.h5").string();
  write_file(path, true, {{"tiny", 4, 10, true}});
  const auto only_error = [&](const plot::Selection& sel, const std::string& part) {
    const Drawn drawn = draw(path, dir_ / "figs", sel);
    ASSERT_EQ(drawn.errors.size(), 1u) << log();
    EXPECT_NE(drawn.errors[0].find(part), std::string::npos) << drawn.errors[0];
    EXPECT_NE(drawn.errors[0].find(path), std::string::npos) << drawn.errors[0];
    EXPECT_EQ(drawn.made, 1) << "only the token figure, whose model exists";
  };
  plot::Selection depth;
  depth.depth = {7};
  only_error(depth, "depth 7");
  plot::Selection rho;
  rho.rho = {0.5};
  only_error(rho, "rho 0.5");
  plot::Selection teacher;
  teacher.teacher = {3};
  only_error(teacher, "teacher 3");
  for (const auto& name : kToyFigures) EXPECT_FALSE(fs::exists(dir_ / "figs" / (name + ".png")));

  plot::Selection model;
  model.model = {"tiny", "no-such-model"};
  const Drawn drawn = draw(path, dir_ / "models", model);
  ASSERT_EQ(drawn.errors.size(), 1u);
  EXPECT_NE(drawn.errors[0].find("no-such-model"), std::string::npos) << drawn.errors[0];
  EXPECT_NE(drawn.errors[0].find(path), std::string::npos) << drawn.errors[0];
  EXPECT_FALSE(fs::exists(dir_ / "models" / "probe_token_trajectories.png"));
}

// Figs 2a, 2e: the deepest model with per-site arrays (the deeper one without is passed over with
// a log line); its first 20 sites and the summary mean, for θ and θ_dh.
TEST_F(TrajectoryTest, TokenTrajectoriesOfTheDeepestModelWithPerSiteArrays) {
  const std::string path = (dir_ / "probe.h5").string();
  write_file(path, false,
             {{"tiny-a", 4, 12, true}, {"tiny-b", 7, 50, true}, {"tiny-c", 10, 30, false}});
  const fs::path out = dir_ / "figs";
  const Drawn drawn = draw(path, out, {});
  ASSERT_TRUE(drawn.errors.empty()) << drawn.errors[0];
  EXPECT_EQ(drawn.made, 1) << log();
  EXPECT_TRUE(logged("probe/tiny-c has no per-site theta")) << log();
  EXPECT_EQ(png_size(out / "probe_token_trajectories.png"), std::make_pair(900u, 600u));
  for (const auto& name : kToyFigures) EXPECT_FALSE(fs::exists(out / (name + ".png")));

  const auto panels = panels_of(read_csv(out / "probe_token_trajectories.csv"), "site");
  ASSERT_EQ(panels.size(), 2u);
  for (const auto& [index, p] : panels) {
    const std::string metric = index == 0 ? "theta" : "theta_dh";
    EXPECT_EQ(p.first.at("model"), "tiny-b");
    EXPECT_EQ(p.first.at("num_layers"), "7");
    EXPECT_EQ(p.first.at("metric"), metric);
    std::vector<hsize_t> dims;
    const auto data = read_back(path, {"probe", "tiny-b"}, metric, &dims);
    const auto mean = read_back_double(path, {"probe", "tiny-b", "summary"}, metric);
    const std::size_t cols = dims[1];
    ASSERT_EQ(p.order.size(), 20u) << metric;
    for (std::size_t i = 0; i < 20; ++i) {
      ASSERT_EQ(p.order[i], std::to_string(i));
      const auto& line = p.by_input.at(p.order[i]);
      ASSERT_EQ(line.size(), cols);
      for (std::size_t l = 0; l < cols; ++l) {
        EXPECT_EQ(i64(line[l], "layer"), static_cast<int64_t>(l));
        EXPECT_EQ(d(line[l], "angle"), static_cast<double>(data[i * cols + l])) << metric;
      }
    }
    ASSERT_EQ(p.mean.size(), cols);
    for (std::size_t l = 0; l < cols; ++l) {
      EXPECT_EQ(i64(p.mean[l], "layer"), static_cast<int64_t>(l));
      EXPECT_EQ(d(p.mean[l], "angle"), mean[l]) << metric << " layer " << l;
    }
  }
}

// Selected models are drawn one row each (all their sites when fewer than asked for); a selected
// model without per-site arrays is left out with a log line, and alone it skips the figure.
TEST_F(TrajectoryTest, TokenTrajectoriesOfSelectedModels) {
  const std::string path = (dir_ / "probe.h5").string();
  write_file(path, false,
             {{"tiny-a", 4, 12, true}, {"tiny-b", 7, 50, true}, {"tiny-c", 10, 30, false}});
  plot::Selection sel;
  sel.model = {"tiny-b", "tiny-a", "tiny-c"};
  sel.inputs = 15;
  const Drawn drawn = draw(path, dir_ / "figs", sel);
  ASSERT_TRUE(drawn.errors.empty()) << drawn.errors[0];
  EXPECT_EQ(drawn.made, 1);
  EXPECT_TRUE(logged("probe/tiny-c has no per-site theta")) << log();
  const auto panels = panels_of(read_csv(dir_ / "figs" / "probe_token_trajectories.csv"), "site");
  std::vector<std::string> seen;
  for (const auto& [index, p] : panels)
    seen.push_back(fmt::format("{} {} {} {}", index, p.first.at("model"), p.first.at("metric"),
                               p.order.size()));
  EXPECT_EQ(seen, (std::vector<std::string>{"0 tiny-a theta 12", "1 tiny-a theta_dh 12",
                                            "2 tiny-b theta 15", "3 tiny-b theta_dh 15"}));

  plot::Selection without;
  without.model = {"tiny-c"};
  const Drawn skipped = draw(path, dir_ / "skipped", without);
  EXPECT_TRUE(skipped.errors.empty());
  EXPECT_EQ(skipped.made, 0);
  EXPECT_TRUE(logged("probe_token_trajectories skipped")) << log();
  EXPECT_FALSE(fs::exists(dir_ / "skipped" / "probe_token_trajectories.png"));
}

// `depthscale plot` (plot_sweep) draws them beside the other figures, with PlotOptions::select.
TEST_F(TrajectoryTest, PlotSweepDrawsTheTrajectoryFigures) {
  const std::string path = (dir_ / "probe.h5").string();
  write_file(path, false, {{"tiny-a", 4, 12, true}});
  plot::PlotOptions options;
  options.path = path;
  options.out_dir = (dir_ / "figs").string();
  options.select.inputs = 2;
  EXPECT_GE(plot::plot_sweep(options), 2);
  const auto rows = read_csv(dir_ / "figs" / "probe_token_trajectories.csv");
  std::set<std::string> sites;
  for (const auto& r : rows) sites.insert(r.at("site"));
  EXPECT_EQ(sites, (std::set<std::string>{"", "0", "1"}));

  options.select.model = {"absent"};
  try {
    plot::plot_sweep(options);
    ADD_FAILURE() << "no error for a model the file lacks";
  } catch (const plot::PlotError& e) {
    // The selection is checked before any figure: the error itself names the model and the file.
    const std::string what = e.what();
    EXPECT_TRUE(what.find("absent") != std::string::npos && what.find(path) != std::string::npos)
        << what;
  }
}

}  // namespace
