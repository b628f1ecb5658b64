// `depthscale status FILE.h5`: what is complete, partial, failed and pending, read without
// disturbing a run that is writing the file.
#include <cstdio>
#include <memory>

#include "commands/commands.hpp"
#include "commands/exit_codes.hpp"
#include "farm/run.hpp"

namespace depthscale::app {

Command add_status(CLI::App& app) {
  auto path = std::make_shared<std::string>();
  auto* cmd = app.add_subcommand("status", "per-group table of a sweep file");
  cmd->add_option("file", *path, "sweep file")->required();
  return {cmd, [path]() -> int {
            std::fputs(farm::status_report(*path).c_str(), stdout);
            return kDone;
          }};
}

}  // namespace depthscale::app
