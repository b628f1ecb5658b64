// `depthscale status FILE.h5`: the per-group table of a sweep file.
#include <memory>

#include "commands/commands.hpp"
#include "farm/run.hpp"

namespace depthscale::app {

Command add_status(CLI::App& app) {
  auto path = std::make_shared<std::string>();
  auto* cmd = app.add_subcommand("status", "per-group table of a sweep file");
  cmd->add_option("file", *path, "sweep file")->required();
  return {cmd, [path]() -> int { return farm::print_status(*path); }};
}

}  // namespace depthscale::app
