// Command-line parsing of the subcommands (apps/commands) and the exception → exit code map.
#include <gtest/gtest.h>
#include <unistd.h>

#include <CLI/CLI.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "commands/commands.hpp"
#include "commands/exit_codes.hpp"
#include "config/job.hpp"
#include "fit/fit.hpp"
#include "plot/plot.hpp"

namespace app = depthscale::app;
using depthscale::fit::FitScalingOptions;
using depthscale::plot::PlotOptions;

namespace {

TEST(FitScalingCommand, CommandLineOptions) {
  auto parse = [](std::vector<const char*> args, FitScalingOptions& o) {
    CLI::App cli("t");
    app::add_fit_scaling_options(cli, o);
    args.insert(args.begin(), "fit-scaling");
    cli.parse(static_cast<int>(args.size()), args.data());
  };
  FitScalingOptions o;
  parse({"data.csv", "--depth-offset", "2", "--bootstrap", "100", "--holdout", "5", "--exclude-top",
         "40,0,20,60", "--out", "dir", "--seed", "9"},
        o);
  EXPECT_EQ(o.data_path, "data.csv");
  EXPECT_EQ(o.depth_offset, 2.0);
  EXPECT_EQ(o.bootstrap, 100);
  EXPECT_EQ(o.holdout, 5);
  EXPECT_EQ(o.exclude_top, std::vector<int>({40, 0, 20, 60}));
  EXPECT_EQ(o.out_dir, "dir");
  EXPECT_EQ(o.seed, 9u);
  FitScalingOptions d;
  parse({"data.csv"}, d);
  EXPECT_EQ(d.exclude_top, std::vector<int>({40}));
  EXPECT_EQ(d.bootstrap, 0);
  EXPECT_TRUE(d.out_dir.empty());
  FitScalingOptions bad;
  EXPECT_THROW(parse({"data.csv", "--exclude-top", "4x"}, bad), CLI::ParseError);
  EXPECT_THROW(parse({"data.csv", "--bootstrap", "-3"}, bad), CLI::ParseError);
  EXPECT_THROW(parse({}, bad), CLI::ParseError);
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
