// The depthscale command line: parses the arguments, runs the one subcommand given (each lives in
// commands/<command>.cpp) and turns what it throws into an exit code in one place.
#include <CLI/CLI.hpp>

#include <exception>
#include <string>
#include <vector>

#include "commands/commands.hpp"
#include "commands/exit_codes.hpp"
#include "log/log.hpp"

using namespace depthscale;

int main(int argc, char** argv) {
  CLI::App app{"depthscale: depth-scaling experiments (teacher-student sweeps, LLM probes, fits)"};
  app.require_subcommand(1);
  app.set_version_flag("--version",
                       std::string(DEPTHSCALE_VERSION) + " (" + DEPTHSCALE_GIT_COMMIT + ")");

  const app::Environment env = app::read_environment();
  // `run` sets up its logger itself (after MPI_Init, with its rank).
  const app::Command run = app::add_run(app, env, std::vector<std::string>(argv, argv + argc));
  const std::vector<app::Command> commands = {
      run,
      app::add_status(app),
      app::add_reduce(app, env),
      app::add_plot(app, env),
      app::add_fit_scaling(app, env),
      app::add_submit(app, env),
      app::add_merge(app),
      app::add_tokenize(app),
      app::add_convert(app),
      app::add_report(app, env),
  };

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? app::kDone : app::kUsage;
  }
  for (const auto& c : commands) {
    if (!*c.cli) continue;
    if (c.cli != run.cli) log::init(-1, log::hostname(), env.log_level);
    try {
      return c.run();
    } catch (const std::exception& e) {
      return app::exit_code_for(e, c.error_prefix);
    }
  }
  return app::kUsage;
}
