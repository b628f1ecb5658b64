// `depthscale merge SLICE.h5... --out FILE.h5`: join the slice files of a job array.
#include <memory>

#include "commands/commands.hpp"
#include "farm/merge.hpp"

namespace depthscale::app {

Command add_merge(CLI::App& app) {
  auto opt = std::make_shared<farm::MergeOptions>();
  auto* cmd = app.add_subcommand("merge", "join the slice files of a job array into one sweep");
  cmd->add_option("slices", opt->inputs, "slice files")->required()->check(CLI::ExistingFile);
  cmd->add_option("--out", opt->out, "merged sweep file")->required();
  return {cmd, [opt]() -> int { return farm::merge_command(*opt); }};
}

}  // namespace depthscale::app
