// The process exit codes of `depthscale` (docs/commands.md, "Exit codes"). Only apps/ chooses them.
#pragma once

namespace depthscale::app {

enum ExitCode : int {
  kDone = 0,        // done
  kError = 1,       // an error; the message says what and where
  kUsage = 2,       // usage, or an invalid job file
  kStopped = 3,     // stopped on a signal after checkpointing (the sbatch script requeues on 3),
                    // or while planning, before any unit started (nothing to checkpoint)
  kSomeFailed = 4,  // finished, but some tasks failed
};

}  // namespace depthscale::app
