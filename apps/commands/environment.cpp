// The environment variables the library's behaviour depends on, and the exception → exit code map.
#include <cstdio>
#include <cstdlib>

#include "commands/commands.hpp"
#include "commands/exit_codes.hpp"
#include "error/error.hpp"

namespace depthscale::app {

namespace {
std::string env_or_empty(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}
}  // namespace

Environment read_environment() {
  Environment env;
  env.log_level = env_or_empty("DEPTHSCALE_LOG");
  env.gnuplot = env_or_empty("DEPTHSCALE_GNUPLOT");
  if (const auto d = env_or_empty("DEPTHSCALE_DEADLINE"); !d.empty())
    env.deadline = std::atof(d.c_str());
  if (const auto p = env_or_empty("DEPTHSCALE_PROGRESS_SECONDS"); !p.empty())
    env.progress_seconds = std::atof(p.c_str());
  env.fail_task = env_or_empty("DEPTHSCALE_FAIL_TASK");
  env.slurm_templates = env_or_empty("DEPTHSCALE_SLURM_TEMPLATES");
  if (const auto m = env_or_empty("DEPTHSCALE_MPIRUN"); !m.empty()) env.mpirun = m;
  env.exit_file = env_or_empty("DEPTHSCALE_EXIT_FILE");
  env.launcher_host = env_or_empty("DEPTHSCALE_LAUNCHER_HOST");
  return env;
}

int exit_code_for(const std::exception& e, const std::string& prefix) {
  std::fprintf(stderr, "%serror: %s\n", prefix.c_str(), e.what());
  return dynamic_cast<const InputError*>(&e) ? kUsage : kError;
}

}  // namespace depthscale::app
