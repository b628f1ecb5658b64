// Command-line parsing of the subcommands (apps/commands) and the exception → exit code map.
#include <gtest/gtest.h>

#include <CLI/CLI.hpp>

#include <vector>

#include "commands/commands.hpp"
#include "commands/exit_codes.hpp"
#include "config/job.hpp"
#include "fit/fit.hpp"

namespace app = depthscale::app;
using depthscale::fit::FitScalingOptions;

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
