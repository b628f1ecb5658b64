#include "farm/submit.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <regex>
#include <set>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "config/job.hpp"
#include "farm/run.hpp"
#include "store/store.hpp"

namespace fs = std::filesystem;

namespace depthscale::farm {

// "results/x.h5" -> "results/x"
std::string stem_of(const std::string& out) {
  return out.substr(0, out.size() - 3);
}

std::string join_ids(const std::vector<std::string>& ids, const char* sep) {
  std::string s;
  for (const auto& id : ids) s += (s.empty() ? "" : sep) + id;
  return s;
}

namespace {

using invalid_argument = OptionError;  // every bad option is an InputError (exit 2)

// Paths go into double quotes and #SBATCH lines of the scripts, where these would break or expand
// ('%' is a filename pattern in --output).
void check_safe_path(const std::string& what, const std::string& path) {
  for (char c : path)
    if (std::isspace(static_cast<unsigned char>(c)) ||
        std::string("'\"$`\\%").find(c) != std::string::npos)
      throw invalid_argument(what + " '" + path +
                             "' contains whitespace, a quote, '$', '`', '\\' or '%', which the "
                             "batch scripts cannot carry: use another path");
}

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw invalid_argument("cannot read the template " + path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string absolute(const std::string& p) {
  return fs::absolute(p).lexically_normal().string();
}

struct Captured {
  int status = -1;  // exit status; -1 when it did not run or was killed
  std::string out, err;
};

// Runs argv (PATH lookup) without a shell, capturing stdout and stderr; kills it after `timeout`.
Captured run_program(const std::vector<std::string>& argv, double timeout_seconds) {
  Captured c;
  int out_pipe[2], err_pipe[2];
  if (pipe(out_pipe) != 0) return c;
  if (pipe(err_pipe) != 0) {
    close(out_pipe[0]);
    close(out_pipe[1]);
    return c;
  }
  const pid_t pid = fork();
  if (pid < 0) return c;
  if (pid == 0) {
    dup2(out_pipe[1], 1);
    dup2(err_pipe[1], 2);
    close(out_pipe[0]);
    close(err_pipe[0]);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execvp(args[0], args.data());
    std::fprintf(stderr, "cannot run %s: %s\n", args[0], std::strerror(errno));
    _exit(127);
  }
  close(out_pipe[1]);
  close(err_pipe[1]);
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_seconds);
  pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
  std::string* sinks[2] = {&c.out, &c.err};
  int open_fds = 2;
  bool killed = false;
  while (open_fds > 0) {
    const int left = int(std::chrono::duration_cast<std::chrono::milliseconds>(
                             deadline - std::chrono::steady_clock::now())
                             .count());
    if (left <= 0) {
      kill(pid, SIGKILL);
      killed = true;
      break;
    }
    if (poll(fds, 2, std::min(left, 1000)) < 0 && errno != EINTR) break;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      char buf[4096];
      const ssize_t n = read(fds[i].fd, buf, sizeof buf);
      if (n > 0) {
        sinks[i]->append(buf, size_t(n));
      } else {
        close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
      }
    }
  }
  for (auto& f : fds)
    if (f.fd >= 0) close(f.fd);
  int status = 0;
  waitpid(pid, &status, 0);
  if (!killed && WIFEXITED(status)) c.status = WEXITSTATUS(status);
  return c;
}

std::string trim(std::string s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  size_t i = 0;
  while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
  return s.substr(i);
}

// `sbatch --parsable` prints "<id>" or "<id>;<cluster>".
std::string parse_job_id(const std::string& out) {
  std::string id = trim(out.substr(0, out.find(';')));
  if (id.empty() || !std::all_of(id.begin(), id.end(), ::isdigit))
    throw std::runtime_error("sbatch printed '" + trim(out) + "' instead of a job id");
  return id;
}

// Refuses a submission whose sweep file (or slice file) already belongs to another job: the
// batch job would otherwise fail at its first start, after waiting in the queue.
void check_existing(const std::string& path, const config::Job& job) {
  std::error_code ec;
  if (!fs::exists(path, ec)) return;
  std::string effective;
  try {
    effective = store::read_header(store::open_sweep(path)).effective;
  } catch (const store::StoreError& e) {
    throw invalid_argument(path + " exists but is not a readable sweep file (" + e.what() +
                           "): remove it or choose another --out");
  }
  const auto before = config::parse_job(effective, path + ":/job_effective");
  const std::string change = config::incompatible_change(before, job);
  if (!change.empty())
    throw config::JobError(path + " was written by a different job: " + change +
                           " (choose another --out, or submit the original job)");
}

}  // namespace

std::vector<ArrayChunk> array_chunks(int slices, int max_array_size) {
  if (max_array_size < 1) throw invalid_argument("MaxArraySize must be at least 1");
  std::vector<ArrayChunk> chunks;
  for (int offset = 0; offset < slices; offset += max_array_size)
    chunks.push_back({offset, std::min(max_array_size, slices - offset)});
  return chunks;
}

int parse_max_array_size(const std::string& text, int fallback) {
  static const std::regex line(R"((?:^|\n)\s*MaxArraySize\s*=\s*(\d+))");
  std::smatch m;
  if (!std::regex_search(text, m, line)) return fallback;
  try {
    const long v = std::stol(m[1].str());
    return v >= 1 && v <= 4000001 ? int(v) : fallback;
  } catch (const std::exception&) {
    return fallback;
  }
}

int64_t parse_slurm_time(const std::string& spec) {
  // sbatch --time forms: M, M:S, H:M:S, D-H, D-H:M, D-H:M:S.
  static const std::regex form(R"((?:(\d+)-)?(\d+)(?::(\d+))?(?::(\d+))?)");
  std::smatch m;
  if (!std::regex_match(spec, m, form))
    throw invalid_argument("--time '" + spec +
                           "': use HH:MM:SS, D-HH:MM:SS or minutes (as sbatch --time)");
  auto num = [&](int i) { return m[i].matched ? std::stoll(m[i].str()) : 0LL; };
  int64_t seconds = 0;
  if (m[1].matched) {  // D-H[:M[:S]]
    seconds = num(1) * 86400 + num(2) * 3600 + num(3) * 60 + num(4);
  } else if (m[4].matched) {  // H:M:S
    seconds = num(2) * 3600 + num(3) * 60 + num(4);
  } else {  // M or M:S
    seconds = num(2) * 60 + num(3);
  }
  if (seconds <= 0) throw invalid_argument("--time '" + spec + "' is zero");
  return seconds;
}

std::string fill_template(const std::string& text,
                          const std::map<std::string, std::string>& values) {
  std::string out;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("##", 0) == 0) continue;  // template documentation
    // A line that is only a placeholder with nothing to say (e.g. no GPU lines) disappears.
    if (line.size() > 2 && line.front() == '@' && line.back() == '@') {
      auto it = values.find(line.substr(1, line.size() - 2));
      if (it != values.end() && it->second.empty()) continue;
    }
    out += line + "\n";
  }
  for (const auto& [name, value] : values) {
    const std::string key = "@" + name + "@";
    std::string filled;
    size_t from = 0;
    for (size_t at; (at = out.find(key, from)) != std::string::npos; from = at + key.size())
      filled += out.substr(from, at - from) + value;
    out = filled + out.substr(from);
  }
  static const std::regex leftover("@[A-Z_]+@");
  std::set<std::string> left;
  for (auto it = std::sregex_iterator(out.begin(), out.end(), leftover);
       it != std::sregex_iterator(); ++it)
    left.insert(it->str());
  if (!left.empty()) {
    std::string names;
    for (const auto& n : left) names += (names.empty() ? "" : " ") + n;
    throw invalid_argument("template placeholders left unfilled: " + names);
  }
  return out;
}

std::string shell_quote(const std::string& word) {
  std::string q = "'";
  for (char c : word) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

std::string template_dir(const std::string& given) {
  return given.empty() ? std::string(DEPTHSCALE_SOURCE_DIR) + "/slurm" : given;
}

SubmitPlan plan_submission(const SubmitOptions& opt, const std::string& binary,
                           const std::string& templates, int max_array_size) {
  const config::Job job = config::load_job(opt.job_path, opt.overrides);
  const bool probe_job = job.kind == config::JobKind::Probe;
  // What an array can slice: a toy job's tasks, a probe job's batches (known without reading the
  // shards only when probe.documents is set; else the check is left to the slices).
  size_t n_tasks = 0;
  bool cuda = job.run.device == config::Device::Cuda;
  if (probe_job) {
    const auto& spec = job.probe;
    cuda = spec.device == config::Device::Cuda;
    n_tasks = spec.documents > 0
                  ? size_t((spec.documents + spec.batch - 1) / spec.batch) * spec.models.size()
                  : std::numeric_limits<size_t>::max();
  } else {
    n_tasks = config::expand(job).size();
  }

  const int64_t limit = parse_slurm_time(opt.time);
  parse_slurm_time(opt.reduce_time);
  // SLURM keeps the --signal lead in 16 bits.
  if (opt.signal_seconds < 1 || opt.signal_seconds > 65535)
    throw invalid_argument("--signal-seconds must be between 1 and 65535");
  if (opt.signal_seconds >= limit)
    throw invalid_argument("--signal-seconds " + std::to_string(opt.signal_seconds) +
                           " must be shorter than --time " + opt.time + " (" +
                           std::to_string(limit) + " s)");
  if (opt.ntasks < 0 || opt.nodes < 0 || opt.array < 0)
    throw invalid_argument("--ntasks, --nodes and --array must not be negative");
  const bool array = opt.array > 0;
  if (array && job.run.slice_count > 1)
    throw invalid_argument("--array sets run.slice for each element: drop --set run.slice");
  if (array && size_t(opt.array) > n_tasks)
    throw invalid_argument("--array " + std::to_string(opt.array) + " is more slices than the " +
                           std::to_string(n_tasks) + (probe_job ? " batches" : " tasks") +
                           " of the job");
  if (array && opt.nodes > 1)
    throw invalid_argument("--nodes applies to the task farm; an array element runs on one node");
  const int ntasks = opt.ntasks > 0 ? opt.ntasks : std::max(1, array ? 1 : opt.nodes);
  if (opt.nodes > ntasks)
    throw invalid_argument("--nodes " + std::to_string(opt.nodes) + " is more than --ntasks " +
                           std::to_string(ntasks));
  for (char c : opt.partition)
    if (!std::isalnum(static_cast<unsigned char>(c)) &&
        std::string("-_.,").find(c) == std::string::npos)
      throw invalid_argument("--partition '" + opt.partition + "' is not a partition name");
  // Each value becomes one '#SBATCH' line, read by sbatch and never by a shell: one line of
  // printable text is all it needs (a newline would end the directive block early).
  auto one_line = [](const std::string& what, const std::string& v) {
    for (char c : v)
      if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
        throw invalid_argument(what + " '" + v + "' holds a control character (one line only)");
  };
  for (const auto& [what, v] : {std::pair{"--account", opt.account},
                                {"--qos", opt.qos},
                                {"--mem", opt.mem},
                                {"--constraint", opt.constraint}}) {
    one_line(what, v);
    if (v.find_first_of(" \t") != std::string::npos)
      throw invalid_argument(std::string(what) + " '" + v + "' holds whitespace");
  }
  if (opt.cpus_per_task < 0) throw invalid_argument("--cpus-per-task must be >= 1");
  for (const auto& v : opt.sbatch_options) {
    one_line("--sbatch-option", v);
    if (v.size() < 2 || v[0] != '-')
      throw invalid_argument("--sbatch-option '" + v +
                             "' is not an sbatch option (give it whole, e.g. "
                             "--sbatch-option=--mail-type=END)");
  }

  SubmitPlan plan;
  plan.ntasks = ntasks;
  const std::string out_rel = opt.out.empty() ? "results/" + job.name + ".h5" : opt.out;
  if (out_rel.size() < 4 || out_rel.compare(out_rel.size() - 3, 3, ".h5") != 0)
    throw invalid_argument("--out '" + out_rel + "' must end in .h5");
  plan.out = absolute(out_rel);
  plan.script_dir = stem_of(plan.out) + ".slurm";
  plan.log_dir = plan.script_dir + "/logs";
  plan.plot_dir = stem_of(plan.out) + "-figures";
  const std::string job_yaml = absolute(opt.job_path);
  check_safe_path("the sweep file", plan.out);
  check_safe_path("the job file", job_yaml);
  check_safe_path("the depthscale binary", binary);

  std::string extra_set;
  for (const auto& o : opt.overrides)
    extra_set += (extra_set.empty() ? "" : " ") + ("--set " + shell_quote(o));

  std::string sbatch_lines;
  auto add_line = [](std::string& lines, const std::string& l) {
    lines += (lines.empty() ? "" : "\n") + ("#SBATCH " + l);
  };
  std::string partition_line;  // the reduction job gets the partition too
  if (!opt.partition.empty()) add_line(partition_line, "--partition=" + opt.partition);
  // What every job of the sweep needs to be accepted (accounting, QoS, the user's own options).
  std::string site_lines;
  if (!opt.account.empty()) add_line(site_lines, "--account=" + opt.account);
  if (!opt.qos.empty()) add_line(site_lines, "--qos=" + opt.qos);
  for (const auto& v : opt.sbatch_options) add_line(site_lines, v);
  auto join_lines = [](const std::string& a, const std::string& b) {
    return a.empty() ? b : b.empty() ? a : a + "\n" + b;
  };
  const std::string reduce_lines = join_lines(partition_line, site_lines);

  // CUDA: one GPU per rank, asked per node (--gres) rather than --gpus-per-task: mpirun starts its
  // ranks through one srun step per node, and --gpus-per-task would bind that whole step, i.e. all
  // ranks of a node, to a single GPU. Each rank picks the GPU of its node-local rank.
  std::string gpu_lines;
  if (!array) {
    const int nodes = opt.nodes > 0 ? opt.nodes : (cuda ? 1 : 0);
    if (nodes > 0) add_line(sbatch_lines, "--nodes=" + std::to_string(nodes));
    if (cuda) {
      const int per_node = (ntasks + nodes - 1) / nodes;
      add_line(gpu_lines, "--ntasks-per-node=" + std::to_string(per_node));
      add_line(gpu_lines, "--gres=gpu:" + std::to_string(per_node));
    }
  } else if (cuda) {
    add_line(sbatch_lines, "--nodes=1");
    add_line(gpu_lines, "--gres=gpu:" + std::to_string(ntasks));
  }
  if (!opt.partition.empty()) add_line(sbatch_lines, "--partition=" + opt.partition);
  // The resources of the sweep jobs themselves.
  if (!opt.mem.empty()) add_line(sbatch_lines, "--mem=" + opt.mem);
  if (!opt.constraint.empty()) add_line(sbatch_lines, "--constraint=" + opt.constraint);
  if (opt.cpus_per_task > 0)
    add_line(sbatch_lines, "--cpus-per-task=" + std::to_string(opt.cpus_per_task));
  sbatch_lines = join_lines(sbatch_lines, site_lines);

  std::map<std::string, std::string> common = {
      {"JOB_NAME", job.name},
      {"NTASKS", std::to_string(ntasks)},
      {"TIME", opt.time},
      {"SIGNAL_SECONDS", std::to_string(opt.signal_seconds)},
      {"LOG_DIR", plan.log_dir},
      {"GPU_LINES", gpu_lines},
      {"SBATCH_LINES", sbatch_lines},
      {"DEPTHSCALE", binary},
      {"JOB_YAML", job_yaml},
      {"OUT_H5", plan.out},
      {"EXTRA_SET", extra_set},
  };

  if (!array) {
    check_existing(plan.out, job);
    std::error_code ec;
    if (fs::exists(plan.out, ec))
      plan.notes.push_back(plan.out + " exists: the sweep continues it (--resume)");
    plan.sweep.push_back({plan.script_dir + "/sweep.sbatch",
                          fill_template(read_text(templates + "/farm.sbatch.in"), common)});
  } else {
    const std::string tpl = read_text(templates + "/array.sbatch.in");
    const auto chunks = array_chunks(opt.array, max_array_size);
    for (size_t k = 0; k < chunks.size(); ++k) {
      auto values = common;
      values["ARRAY_RANGE"] = "0-" + std::to_string(chunks[k].count - 1);
      values["ARRAY_OFFSET"] = std::to_string(chunks[k].offset);
      values["SLICES"] = std::to_string(opt.array);
      plan.sweep.push_back({plan.script_dir + "/sweep-array" + std::to_string(k) + ".sbatch",
                            fill_template(tpl, values)});
    }
    if (chunks.size() > 1)
      plan.notes.push_back(std::to_string(opt.array) + " slices exceed MaxArraySize " +
                           std::to_string(max_array_size) + ": " + std::to_string(chunks.size()) +
                           " arrays with offsets");
    std::error_code ec;
    for (int i = 0; i < opt.array; ++i) {
      const std::string slice_out = stem_of(plan.out) + "-slice" + std::to_string(i) + ".h5";
      if (!fs::exists(slice_out, ec)) continue;
      auto overrides = opt.overrides;
      overrides.push_back("run.slice=" + std::to_string(i) + "/" + std::to_string(opt.array));
      check_existing(slice_out, config::load_job(opt.job_path, overrides));
    }
    if (fs::exists(plan.out, ec)) {
      if (!store::written_by_merge(plan.out))
        throw invalid_argument(plan.out +
                               " exists and is not a merge of slices: the reduction's merge would "
                               "refuse to overwrite it (remove it or choose another --out)");
    }
  }
  plan.reduce = {plan.script_dir + "/reduce.sbatch",
                 fill_template(read_text(templates + "/reduce.sbatch.in"),
                               {{"JOB_NAME", job.name + "-reduce"},
                                {"TIME", opt.reduce_time},
                                {"LOG_DIR", plan.log_dir},
                                {"SBATCH_LINES", reduce_lines},
                                {"DEPTHSCALE", binary},
                                {"OUT_H5", plan.out},
                                {"PLOT_DIR", plan.plot_dir},
                                {"SLICES", std::to_string(array ? opt.array : 0)},
                                {"KIND", config::to_string(job.kind)}})};
  return plan;
}

int cluster_max_array_size(int fallback) {
  const Captured c = run_program({"scontrol", "show", "config"}, 30);
  if (c.status == 0) return parse_max_array_size(c.out, fallback);
  spdlog::warn("`scontrol show config` failed: assuming MaxArraySize = {}", fallback);
  return fallback;
}

void write_scripts(const SubmitPlan& plan) {
  // SLURM opens the log file before the script runs: a missing folder fails the job.
  fs::create_directories(plan.log_dir);
  fs::create_directories(fs::path(plan.out).parent_path());
  std::vector<const Script*> all;
  for (const auto& x : plan.sweep) all.push_back(&x);
  all.push_back(&plan.reduce);
  for (const auto* s : all) {
    std::ofstream f(s->path, std::ios::binary | std::ios::trunc);
    f << s->text;
    f.close();
    if (!f) throw Error("cannot write " + s->path);
  }
}

Submitted submit_plan(const SubmitPlan& plan, const std::string& sbatch_program) {
  Submitted done;
  auto sbatch = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {sbatch_program, "--parsable"});
    const Captured c = run_program(args, 300);
    if (c.status != 0) {
      std::string cmd;
      for (const auto& a : args) cmd += (cmd.empty() ? "" : " ") + a;
      std::string what = cmd + " failed" +
                         (c.status < 0 ? std::string(" (killed after 300 s)")
                                       : " with exit " + std::to_string(c.status)) +
                         (trim(c.err).empty() ? "" : ": " + trim(c.err));
      if (!done.sweep_ids.empty())
        what += "; already submitted: " + join_ids(done.sweep_ids, ", ") +
                " (cancel with `scancel " + join_ids(done.sweep_ids, " ") + "`, or submit " +
                plan.reduce.path +
                " yourself with --dependency=afterok:" + join_ids(done.sweep_ids, ":") + ")";
      throw Error(what);
    }
    return parse_job_id(c.out);
  };
  for (const auto& s : plan.sweep) done.sweep_ids.push_back(sbatch({s.path}));
  done.reduce_id =
      sbatch({"--dependency=afterok:" + join_ids(done.sweep_ids, ":"), plan.reduce.path});
  return done;
}

}  // namespace depthscale::farm
