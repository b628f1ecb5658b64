// `depthscale submit JOB.yaml`: fills the sbatch templates in slurm/ (task farm, or job array with
// --array), writes them beside the sweep file (<out without .h5>.slurm/) and submits them with a
// dependent reduction job. slurm/README.md documents the templates and their placeholders.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "error/error.hpp"

namespace depthscale::farm {

// A bad submit option (--time, --array, ...): the message names it.
class OptionError : public InputError {
 public:
  using InputError::InputError;
};

struct SubmitOptions {
  std::string job_path;
  std::string out;  // default results/<job name>.h5
  std::vector<std::string> overrides;
  int ntasks = 0;  // MPI ranks: farm in total (default: one per node), array per element (1)
  int nodes = 0;   // farm: spread the ranks over this many nodes (0: let SLURM choose)
  std::string time = "01:00:00";         // wall time of each sweep job (element)
  std::string reduce_time = "01:00:00";  // wall time of the reduction job
  int signal_seconds = 300;              // SIGUSR1 this long before the wall time ends
  int array = 0;                         // job-array shape with this many slices (0: farm)
  std::string partition;
  // What sites require: --account and --qos go on every job (sweep and reduction), --mem,
  // --constraint and --cpus-per-task on the sweep jobs; `sbatch_options` are any further sbatch
  // options ("--mail-type=END", "--exclusive"), written as #SBATCH lines on every job.
  std::string account, qos, mem, constraint;
  int cpus_per_task = 0;
  std::vector<std::string> sbatch_options;
  bool dry_run = false;
  bool write_only = false;        // write the scripts, submit nothing (apps prints the commands)
  std::string sbatch = "sbatch";  // the sbatch program (tests substitute a stand-in)
  std::string templates;          // the templates' folder; empty: <source>/slurm
};

// A filled batch script and where it goes.
struct Script {
  std::string path;
  std::string text;
};

struct SubmitPlan {
  std::string out;            // absolute sweep file (array: the merged file)
  std::string script_dir;     // <out without .h5>.slurm
  std::string log_dir;        // <script_dir>/logs
  std::string plot_dir;       // <out without .h5>-figures
  int ntasks = 1;             // MPI ranks of the farm, or of each array element
  std::vector<Script> sweep;  // farm: one; array: one per chunk of at most MaxArraySize elements
  Script reduce;
  std::vector<std::string> notes;  // said to the user before submitting
};

// One sbatch submission of the array template: array indices 0..count-1 run slices
// offset..offset+count-1.
struct ArrayChunk {
  int offset = 0, count = 0;
};

// Splits `slices` into arrays whose indices stay below `max_array_size` (SLURM's MaxArraySize:
// indices 0..MaxArraySize-1).
std::vector<ArrayChunk> array_chunks(int slices, int max_array_size);

// MaxArraySize from `scontrol show config` output; `fallback` when absent or unreadable.
int parse_max_array_size(const std::string& scontrol_show_config, int fallback = 1001);

// Seconds of a SLURM time spec (sbatch --time: M, M:S, H:M:S, D-H, D-H:M, D-H:M:S); throws
// OptionError for anything else (and for 0).
int64_t parse_slurm_time(const std::string& spec);

// Fills a template: drops lines starting with "##", replaces every @NAME@ by values[NAME]; throws
// OptionError naming any @NAME@ left over.
std::string fill_template(const std::string& text,
                          const std::map<std::string, std::string>& values);

// The word as one shell word in single quotes.
std::string shell_quote(const std::string& word);

// Works out the scripts without touching the cluster or the disk (besides reading the job and the
// templates). Throws config::JobError for a bad job and OptionError for bad options.
SubmitPlan plan_submission(const SubmitOptions& options, const std::string& depthscale_binary,
                           const std::string& template_dir, int max_array_size);

// The folder of the templates: `given` (apps passes $DEPTHSCALE_SLURM_TEMPLATES), else
// <source dir>/slurm.
std::string template_dir(const std::string& given = "");

// MaxArraySize as the cluster says (`scontrol show config`), else `fallback` (with a warning).
int cluster_max_array_size(int fallback = 1001);

// Writes the plan's scripts beside the sweep file, with the log folder SLURM needs before a job
// starts. Throws Error.
void write_scripts(const SubmitPlan& plan);

// Submits the plan: every sweep script, then the reduction afterok all of them. Throws Error
// naming the failed sbatch call and the jobs already submitted.
struct Submitted {
  std::vector<std::string> sweep_ids;
  std::string reduce_id;
};
Submitted submit_plan(const SubmitPlan& plan, const std::string& sbatch = "sbatch");

// <out without .h5>, and ids joined by `sep` (for what the command prints).
std::string stem_of(const std::string& out);
std::string join_ids(const std::vector<std::string>& ids, const char* sep);

}  // namespace depthscale::farm
