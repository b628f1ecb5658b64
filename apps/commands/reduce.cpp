// `depthscale reduce FILE.h5`: depth fits per group and step into /fits; prints the α table.
#include <memory>

#include "commands/commands.hpp"
#include "commands/exit_codes.hpp"
#include "fit/reduce.hpp"

namespace depthscale::app {

Command add_reduce(CLI::App& app) {
  auto opt = std::make_shared<fit::ReduceOptions>();
  auto* cmd = app.add_subcommand("reduce", "fit L(depth) per group and step into /fits");
  cmd->add_option("file", opt->path, "sweep file")->required()->check(CLI::ExistingFile);
  cmd->add_option("--depth-offset", opt->depth_offset, "fit (depth - offset)");
  // reduce_sweep logs its errors and says whether it succeeded (0) or not.
  return {cmd, [opt]() -> int { return fit::reduce_sweep(*opt) == 0 ? kDone : kError; }};
}

}  // namespace depthscale::app
