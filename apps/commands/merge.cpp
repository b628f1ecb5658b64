// `depthscale merge SLICE.h5... --out FILE.h5`: join the slice files of a job array.
#include <spdlog/spdlog.h>

#include <filesystem>
#include <memory>

#include "commands/commands.hpp"
#include "commands/exit_codes.hpp"
#include "farm/merge.hpp"
#include "store/lock.hpp"

namespace depthscale::app {

Command add_merge(CLI::App& app) {
  auto opt = std::make_shared<farm::MergeOptions>();
  auto* cmd = app.add_subcommand("merge", "join the slice files of a job array into one sweep");
  cmd->add_option("slices", opt->inputs, "slice files")->required()->check(CLI::ExistingFile);
  cmd->add_option("--out", opt->out, "merged sweep file")->required()->check(non_empty_path());
  cmd->add_flag("--overwrite", opt->overwrite,
                "replace an existing --out (only ever a file an earlier merge wrote)");
  auto no_lock = std::make_shared<bool>(false);
  cmd->add_flag("--no-lock", *no_lock,
                "write --out without its lock FILE.h5.lock (only for file systems that cannot "
                "lock, and only when nothing else writes the file)");
  return {cmd, [opt, no_lock]() -> int {
            // It writes --out and its sidecar: the one-writer lock, refused while a run or
            // another merge writes that file.
            store::WriterLock lock;
            if (!*no_lock) {
              const auto dir = std::filesystem::path(opt->out).parent_path();
              if (!dir.empty()) std::filesystem::create_directories(dir);
              lock = store::WriterLock::acquire(opt->out, "merge");
            }
            const farm::MergeReport r = farm::merge_slices(*opt);
            spdlog::info(
                "merged {} of {} slice(s) into {}: {} complete and {} failed {}, {} {}{}", r.slices,
                r.slice_count, opt->out, r.complete, r.failed, r.probe ? "batches" : "tasks",
                r.probe ? r.models : r.teachers, r.probe ? "models finished" : "teachers",
                r.skipped ? ", " + std::to_string(r.skipped) + " unfinished groups skipped" : "");
            if (r.complete + r.failed == 0)
              spdlog::warn(
                  "no slice has a finished {} yet: {} holds none (are the slices still running, "
                  "or were they never started?)",
                  r.probe ? "batch" : "task", opt->out);
            if (!r.missing.empty()) {
              std::string list;
              for (int i : r.missing) list += (list.empty() ? "" : ", ") + std::to_string(i);
              spdlog::warn(
                  "slices missing from the merge: {} (of {}); their {} show as pending in "
                  "`depthscale status {}`",
                  list, r.slice_count, r.probe ? "batches" : "tasks", opt->out);
            }
            return kDone;
          }};
}

}  // namespace depthscale::app
