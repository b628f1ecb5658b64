// `depthscale reduce FILE.h5`: depth fits per group and step into /fits; prints the α table.
#include <cstdio>
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
  cmd->add_option("--L0-floor", opt->L0_floor,
                  "where a free fit's L0 falls below this (e.g. 0), refit with L0 held at it; "
                  "the table and /fits/<group>/L0_held say which");
  return {cmd, [opt]() -> int {
            std::fputs(fit::reduce_sweep(*opt).c_str(), stdout);
            return kDone;
          }};
}

}  // namespace depthscale::app
