// Read a sweep file through lib/store: its job, and every task's state and final test loss.
//
//   build/examples/read_sweep FILE.h5
#include <cstdio>
#include <string>

#include "store/store.hpp"

using namespace depthscale;

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: read_sweep FILE.h5\n");
    return 2;
  }
  try {
    // open_sweep checks format and format_version before anything else is read.
    const store::File file = store::open_sweep(argv[1]);
    const store::Group root = file.root();
    std::printf("job:\n%s\n", root.attr_string("job_effective").c_str());
    if (!root.has("tasks")) return 0;
    const store::Group tasks = root.open_group("tasks");
    int complete = 0;
    for (const auto& key : tasks.children()) {
      const store::Group g = tasks.open_group(key);
      if (!g.has_attr("status")) continue;  // a write a kill interrupted: not a result
      const auto r = store::read_task(g);
      std::printf("%-20s %-9s final test loss %s\n", key.c_str(),
                  r.complete ? "complete" : "failed",
                  r.test_loss.empty() ? "-" : std::to_string(r.test_loss.back()).c_str());
      complete += r.complete;
    }
    std::printf("%d complete task(s)\n", complete);
    return complete > 0 ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
}
