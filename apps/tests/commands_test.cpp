// Command-line parsing of the subcommands (apps/commands) and the exception → exit code map.
#include <gtest/gtest.h>
#include <unistd.h>

#include <CLI/CLI.hpp>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "commands/commands.hpp"
#include "commands/exit_codes.hpp"
#include "config/job.hpp"
#include "fit/fit.hpp"
#include "plot/plot.hpp"
#include "store/store.hpp"

namespace app = depthscale::app;
using depthscale::plot::PlotOptions;

namespace {

std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// NAME.pdf and NAME.svg beside NAME.png, each a whole file of its format: a PDF header and
// trailer, an SVG document with its root element closed (gnuplot's, not an empty or cut file).
void expect_vector_figures(const std::filesystem::path& stem) {
  const std::string pdf = read_text(stem.string() + ".pdf"),
                    svg = read_text(stem.string() + ".svg");
  EXPECT_EQ(pdf.rfind("%PDF-", 0), 0u) << stem << ".pdf does not start with %PDF-";
  EXPECT_NE(pdf.find("%%EOF"), std::string::npos) << stem << ".pdf has no trailer";
  EXPECT_GT(pdf.size(), 1000u) << stem << ".pdf";
  const auto open = svg.find("<svg"), close = svg.rfind("</svg>");
  EXPECT_NE(open, std::string::npos) << stem << ".svg has no <svg> element";
  EXPECT_NE(close, std::string::npos) << stem << ".svg is not closed";
  if (open != std::string::npos && close != std::string::npos) {
    EXPECT_LT(open, close);
  }
  EXPECT_NE(svg.find("<path"), std::string::npos) << stem << ".svg draws nothing";
}

TEST(FitScalingCommand, CommandLineOptions) {
  using Options = app::FitScalingCommandOptions;
  auto parse = [](std::vector<const char*> args, Options& o) {
    CLI::App cli("t");
    app::add_fit_scaling_options(cli, o);
    args.insert(args.begin(), "fit-scaling");
    cli.parse(static_cast<int>(args.size()), args.data());
  };
  Options options;
  parse({"data.csv", "--depth-offset", "2", "--bootstrap", "100", "--holdout", "5", "--exclude-top",
         "40,0,20,60", "--out", "dir", "--seed", "9", "--format", "pdf,svg"},
        options);
  const auto& o = options.fit;
  EXPECT_EQ(o.data_path, "data.csv");
  EXPECT_EQ(o.depth_offset, 2.0);
  EXPECT_EQ(o.bootstrap, 100);
  EXPECT_EQ(o.holdout, 5);
  EXPECT_EQ(o.exclude_top, std::vector<int>({40, 0, 20, 60}));
  EXPECT_EQ(o.out_dir, "dir");
  EXPECT_EQ(o.seed, 9u);
  EXPECT_EQ(options.formats, (std::vector<std::string>{"pdf", "svg"}));
  Options d;
  parse({"data.csv"}, d);
  EXPECT_EQ(d.fit.exclude_top, std::vector<int>({40}));
  EXPECT_EQ(d.fit.bootstrap, 0);
  EXPECT_TRUE(d.fit.out_dir.empty());
  EXPECT_TRUE(d.formats.empty());
  for (std::vector<const char*> bad : {std::vector<const char*>{"data.csv", "--exclude-top", "4x"},
                                       {"data.csv", "--bootstrap", "-3"},
                                       {"data.csv", "--format", "pdf"},  // no --out: no figures
                                       {"data.csv", "--out", "d", "--format", "png"},
                                       {}}) {
    Options p;
    EXPECT_THROW(parse(bad, p), CLI::ParseError) << (bad.empty() ? "" : bad.back());
  }
}

// `depthscale fit-scaling DATA --out DIR --format pdf,svg`: data that follow the law exactly, the
// command as main() runs it, and every figure also as a valid PDF and SVG.
TEST(FitScalingCommand, FormatDrawsPdfAndSvgBesideThePngs) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("ds_fit_formats_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const fs::path data = dir / "data.csv";
  {
    std::ofstream csv(data);
    csv << "model_size,FLOP,loss,num_tokens,d_model,n_layers\n";
    for (int m : {256, 512, 1024, 2048})
      for (int l : {4, 8, 16, 32})
        for (double D : {1e9, 4e9, 1.6e10}) {
          const double N = 12.0 * l * m * double(m);
          const double loss = 40.0 / std::sqrt(double(m)) + 2.0 * std::pow(l, -0.7) +
                              400.0 / std::pow(D, 0.3) + 1.7;
          csv << N << "," << 6 * N * D << "," << loss << "," << D << "," << m << "," << l << "\n";
        }
  }
  CLI::App cli("t");
  app::Environment env;
  const app::Command cmd = app::add_fit_scaling(cli, env);
  const std::string out = (dir / "out").string();
  std::vector<const char*> args = {"t",   "fit-scaling", data.c_str(), "--exclude-top",
                                   "0",   "--out",       out.c_str(),  "--format",
                                   "pdf", "--format",    "svg"};
  cli.parse(static_cast<int>(args.size()), args.data());
  testing::internal::CaptureStdout();
  const int rc = cmd.run();
  const std::string printed = testing::internal::GetCapturedStdout();
  EXPECT_EQ(rc, app::kDone) << printed;
  for (const char* figure : {"scaling_parts", "model_shapes"}) {
    EXPECT_TRUE(fs::exists(fs::path(out) / (std::string(figure) + ".png"))) << figure;
    expect_vector_figures(fs::path(out) / figure);
  }
  fs::remove_all(dir);
}

// `depthscale plot FILE.h5... --rho ... --out DIR`: the selection options repeat or take comma
// lists, a file after one of them stays a file, several files need --out.
TEST(PlotCommand, CommandLineOptions) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("ds_plot_cli_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const std::string a = (dir / "a.h5").string(), b = (dir / "b.h5").string(),
                    missing = (dir / "missing.h5").string();
  std::ofstream(a) << "x";
  std::ofstream(b) << "x";
  auto parse = [](std::vector<const char*> args, PlotOptions& o) {
    CLI::App cli("t");
    app::add_plot_options(cli, o);
    args.insert(args.begin(), "plot");
    cli.parse(static_cast<int>(args.size()), args.data());
  };
  PlotOptions o;
  parse({a.c_str(), "--rho", "0,1", "--rho", "0.5", "--temperature", "0.01", "--depth", "6,12",
         "--teacher", "2", "--model", "pythia-70m,pythia-160m", "--inputs", "5", "--out", "d",
         b.c_str()},
        o);
  EXPECT_EQ(o.paths, (std::vector<std::string>{a, b}));
  EXPECT_EQ(o.files(), o.paths);
  EXPECT_EQ(o.select.rho, (std::vector<double>{0, 1, 0.5}));
  EXPECT_EQ(o.select.temperature, (std::vector<double>{0.01}));
  EXPECT_EQ(o.select.depth, (std::vector<int64_t>{6, 12}));
  EXPECT_EQ(o.select.teacher, (std::vector<int64_t>{2}));
  EXPECT_EQ(o.select.model, (std::vector<std::string>{"pythia-70m", "pythia-160m"}));
  EXPECT_EQ(o.select.inputs, 5);
  EXPECT_EQ(o.out_dir, "d");
  PlotOptions d;
  parse({a.c_str()}, d);  // the defaults: everything, 20 grey lines
  EXPECT_FALSE(d.select.any());
  EXPECT_EQ(d.select.inputs, 20);
  EXPECT_TRUE(d.out_dir.empty());
  // A file after a list option is a file: --rho 0 b.h5.
  PlotOptions f;
  parse({a.c_str(), "--rho", "0", b.c_str(), "--out", "d"}, f);
  EXPECT_EQ(f.paths.size(), 2u);
  EXPECT_EQ(f.select.rho, (std::vector<double>{0}));
  for (std::vector<const char*> bad :
       {std::vector<const char*>{a.c_str(), b.c_str()},  // several files, no --out
        {a.c_str(), "--rho", "x"},
        {a.c_str(), "--depth", "0"},
        {a.c_str(), "--teacher", "-1"},
        {a.c_str(), "--inputs", "-2"},
        {missing.c_str()},
        {}}) {
    PlotOptions p;
    EXPECT_THROW(parse(bad, p), CLI::ParseError) << (bad.empty() ? "" : bad.back());
  }
  fs::remove_all(dir);
}

// `depthscale reduce FILE [--decompose ...]`: the decomposition's options need --decompose, and
// the plain reduce keeps its own (--L0-floor, which --decompose excludes).
TEST(ReduceCommand, CommandLineOptions) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("ds_reduce_cli_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const std::string file = (dir / "s.h5").string();
  std::ofstream(file) << "x";
  auto parse = [](std::vector<const char*> args, app::ReduceCommandOptions& o) {
    CLI::App cli("t");
    app::add_reduce_options(cli, o);
    args.insert(args.begin(), "reduce");
    cli.parse(static_cast<int>(args.size()), args.data());
  };
  app::ReduceCommandOptions o;
  parse({file.c_str(), "--decompose", "--min-step", "500", "--bootstrap", "50", "--holdout", "4",
         "--out", "d", "--depth-offset", "2", "--seed", "7", "--format", "svg", "--format", "pdf"},
        o);
  EXPECT_EQ(o.formats, (std::vector<std::string>{"svg", "pdf"}));
  EXPECT_TRUE(o.decompose);
  EXPECT_EQ(o.reduce.path, file);
  EXPECT_EQ(o.reduce.depth_offset, 2.0);
  EXPECT_EQ(o.decomposition.min_step, 500);
  EXPECT_EQ(o.decomposition.bootstrap, 50);
  EXPECT_EQ(o.decomposition.holdout, 4);
  EXPECT_EQ(o.decomposition.out_dir, "d");
  EXPECT_EQ(o.decomposition.seed, 7u);
  app::ReduceCommandOptions d;
  parse({file.c_str(), "--L0-floor", "0"}, d);  // the plain reduce, as before
  EXPECT_FALSE(d.decompose);
  EXPECT_EQ(d.reduce.L0_floor, 0.0);
  EXPECT_EQ(d.decomposition.min_step, 1);
  for (std::vector<const char*> bad :
       {std::vector<const char*>{file.c_str(), "--bootstrap", "10"},  // needs --decompose
        {file.c_str(), "--decompose", "--L0-floor", "0"},
        {file.c_str(), "--decompose", "--min-step", "0"},
        {file.c_str(), "--decompose", "--holdout", "-1"},
        {file.c_str(), "--format", "pdf"},  // the plain reduce draws no figure
        {file.c_str(), "--decompose", "--format", "eps"}}) {
    app::ReduceCommandOptions p;
    EXPECT_THROW(parse(bad, p), CLI::ParseError) << bad[1] << " " << bad.back();
  }
  fs::remove_all(dir);
}

// `depthscale reduce FILE --decompose` end to end: a small sweep file from the store API whose
// losses follow a known law, the command as main() runs it, the recovered exponents in the fit.csv,
// and a non-empty CSV and figure per cell.
TEST(ReduceCommand, DecomposeWritesCsvsAndFigures) {
  namespace fs = std::filesystem;
  namespace store = depthscale::store;
  const fs::path dir =
      fs::temp_directory_path() / ("ds_decompose_cli_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string path = (dir / "toy.h5").string();
  const std::string job =
      "name: t\nkind: toy\nseed: 1\ngrid: {temperature: [1.0], rho: [0.0], depth: [2, 4, 8], "
      "teacher: [0]}\nmodel: {width: 16, vocab: 32, teacher_depth: 24}\ntrain: {loss: kl, steps: "
      "800, batch: 128, eval: {every: 100, batches: 2}}\n";
  store::SweepHeader h;
  h.job_yaml = h.effective = job;
  h.git_commit = h.version = h.torch_version = "test";
  store::SweepFile::create(path, h, true);
  {
    store::File f = store::File::open(path, store::Mode::ReadWrite);
    store::Group tasks = f.root().open_group("tasks");
    for (int m : {8, 16, 32})
      for (int l : {2, 4, 8}) {
        store::TaskResult r;
        r.key = "m" + std::to_string(m) + "_d" + std::to_string(l);
        r.params = {{"rho", 0.0},           {"temperature", 1.0}, {"depth", double(l)},
                    {"teacher", 0.0},       {"width", double(m)}, {"teacher_depth", 24.0},
                    {"teacher_groups", 0.0}};
        r.complete = true;
        r.host = "test";
        r.train_loss = {1.0f};
        for (int64_t step = 100; step <= 800; step += 100) {
          const double D = double(step) * 128;
          r.eval_step.push_back(step);
          r.test_loss.push_back(float(2.0 / m + 0.3 * std::pow(l, -1.2) + 30 / std::sqrt(D) + 0.1));
        }
        store::write_task(tasks, r);
      }
    f.flush();
  }
  CLI::App cli("t");
  app::Environment env;
  const app::Command cmd = app::add_reduce(cli, env);
  const std::string out = (dir / "out").string();
  std::vector<const char*> args = {"t",           "reduce",    path.c_str(), "--decompose",
                                   "--bootstrap", "10",        "--holdout",  "2",
                                   "--out",       out.c_str(), "--format",   "pdf,svg"};
  cli.parse(static_cast<int>(args.size()), args.data());
  testing::internal::CaptureStdout();
  const int rc = cmd.run();
  const std::string printed = testing::internal::GetCapturedStdout();
  EXPECT_EQ(rc, app::kDone) << printed;
  EXPECT_NE(printed.find("rho0_L24_T1"), std::string::npos) << printed;
  const fs::path cell = fs::path(out) / "rho0_L24_T1";
  expect_vector_figures(cell / "scaling_parts");
  for (const char* name : {"fit.csv", "parts.csv", "bootstrap.csv", "holdout.csv",
                           "scaling_parts.png", "scaling_parts.csv", "scaling_parts.gp"}) {
    EXPECT_TRUE(fs::exists(cell / name)) << name;
    if (fs::exists(cell / name)) {
      EXPECT_GT(fs::file_size(cell / name), 100u) << name;
    }
  }
  // The exponents in fit.csv: α_m = 1, α_ℓ = 1.2, α_D = 0.5.
  std::ifstream fit(cell / "fit.csv");
  std::string line;
  int found = 0;
  while (std::getline(fit, line)) {
    const auto value = [&](const std::string& name) {
      return line.rfind(name + ",", 0) == 0 ? std::stod(line.substr(name.size() + 1)) : NAN;
    };
    for (auto [name, truth] : {std::pair<const char*, double>{"alpha_m", 1.0},
                               {"alpha_l", 1.2},
                               {"alpha_D", 0.5},
                               {"L0", 0.1}})
      if (const double v = value(name); !std::isnan(v)) {
        EXPECT_NEAR(v, truth, 1e-3) << name;
        ++found;
      }
  }
  EXPECT_EQ(found, 4);
  fs::remove_all(dir);
}

// `submit --write-only`: the scripts are written with the site's options, sbatch is never run
// (a stand-in that fails would make the command throw), and --dry-run cannot be combined.
TEST(SubmitCommand, WriteOnlyWritesTheScriptsAndSubmitsNothing) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("ds_submit_cli_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string job = (dir / "j.yaml").string();
  std::ofstream(job) << "name: j\nkind: toy\ngrid: {depth: [2, 3], teacher: [0]}\n"
                        "train: {steps: 10}\n";
  app::Environment env;
  env.slurm_templates = std::string(DEPTHSCALE_SOURCE_DIR) + "/slurm";
  auto parse_and_run = [&](std::vector<std::string> args) {
    CLI::App cli("t");
    auto command = app::add_submit(cli, env);
    std::vector<const char*> argv = {"depthscale", "submit"};
    for (const auto& a : args) argv.push_back(a.c_str());
    cli.parse(static_cast<int>(argv.size()), argv.data());
    return command.run();
  };
  const std::string out = (dir / "r" / "j.h5").string();
  EXPECT_EQ(parse_and_run({job, "--out", out, "--write-only", "--sbatch", "/bin/false", "--account",
                           "proj", "--sbatch-option=--mail-type=END", "--sbatch-option",
                           "--exclusive", "--mem", "8G"}),
            app::kDone);
  std::ifstream in(dir / "r" / "j.slurm" / "sweep.sbatch");
  const std::string sweep((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  for (const char* line : {"#SBATCH --account=proj\n", "#SBATCH --mail-type=END\n",
                           "#SBATCH --exclusive\n", "#SBATCH --mem=8G\n"})
    EXPECT_NE(sweep.find(line), std::string::npos) << line;
  EXPECT_TRUE(fs::exists(dir / "r" / "j.slurm" / "reduce.sbatch"));
  EXPECT_THROW(parse_and_run({job, "--out", out, "--write-only", "--dry-run"}), CLI::ParseError);
  fs::remove_all(dir);
}

// `--out ""` is refused when the command line is parsed (exit 2), never read as the default.
TEST(OutOption, EmptyPathRefused) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("ds_out_cli_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const std::string job = (dir / "j.yaml").string();
  std::ofstream(job) << "name: j\nkind: toy\nseed: 1\ngrid: {depth: [2], teacher: [0]}\n";
  app::Environment env;
  auto parse = [&](const char* command, std::vector<std::string> args) {
    CLI::App cli("t");
    if (std::string(command) == "run") app::add_run(cli, env, {});
    if (std::string(command) == "submit") app::add_submit(cli, env);
    if (std::string(command) == "merge") app::add_merge(cli);
    std::vector<const char*> argv = {"depthscale", command};
    for (const auto& a : args) argv.push_back(a.c_str());
    cli.parse(static_cast<int>(argv.size()), argv.data());
  };
  for (const char* command : {"run", "submit", "merge"}) {
    try {
      parse(command, {job, "--out", ""});
      ADD_FAILURE() << command << " accepted --out \"\"";
    } catch (const CLI::ValidationError& e) {
      EXPECT_NE(std::string(e.what()).find("an empty path"), std::string::npos) << e.what();
    }
    EXPECT_NO_THROW(parse(command, {job, "--out", (dir / "x.h5").string()})) << command;
  }
  EXPECT_NO_THROW(parse("merge", {job, "--out", (dir / "x.h5").string(), "--overwrite"}));
  fs::remove_all(dir);
}

TEST(ExitCodes, InputErrorIsUsageOtherErrorsAreOne) {
  testing::internal::CaptureStderr();
  EXPECT_EQ(app::exit_code_for(depthscale::config::JobError("j.yaml:3: seed: bad")), app::kUsage);
  EXPECT_EQ(app::exit_code_for(depthscale::Error("broken"), "tokenize: "), app::kError);
  EXPECT_EQ(app::exit_code_for(std::runtime_error("other")), app::kError);
  const std::string err = testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find("error: j.yaml:3: seed: bad"), std::string::npos) << err;
  EXPECT_NE(err.find("tokenize: error: broken"), std::string::npos) << err;
}

}  // namespace
