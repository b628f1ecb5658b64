#include "farm/run.hpp"

namespace depthscale::farm {

CoordinatorOptions coordinator_options(const RunOptions& options, const std::string& name,
                                       const std::string& work_unit) {
  CoordinatorOptions o;
  o.name = name;
  o.work_unit = work_unit;
  o.deadline = options.deadline;
  o.progress_every = std::chrono::duration<double>(options.progress_seconds);
  o.stop_signal = [] { return stop_requested(); };
  return o;
}

}  // namespace depthscale::farm
