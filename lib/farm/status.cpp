// `depthscale status FILE.h5`: what is complete, partial, failed and pending, per group (toy) or
// per model (probe), read through store without disturbing a run that is writing the file.
#include <signal.h>

#include <algorithm>
#include <ctime>
#include <fstream>
#include <iterator>
#include <map>
#include <optional>
#include <set>
#include <vector>

#include "config/job.hpp"
#include "farm/run.hpp"
#include "log/log.hpp"
#include "store/probe_file.hpp"
#include "store/store.hpp"
#include "store/trust.hpp"
#include "toy/unit.hpp"

namespace depthscale::farm {

namespace {

struct Counts {
  int complete = 0, partial = 0, failed = 0, pending = 0, damaged = 0;
  int64_t min_step = -1;  // the least advanced partial task
  double seconds = 0, cost_done = 0, cost_left = 0;
};

// Per model: finished, or how many batches are in the file (complete, failed) and how many more
// wait in the sidecar (finished by a worker, not yet copied in by rank 0).
std::string probe_status(const std::string& path, const config::Job& job) {
  std::string out = log::sprintf("%s: probe job %s\n", path.c_str(), job.name.c_str());
  out += log::sprintf("%-24s %10s %10s %8s %9s %12s %12s\n", "model", "state", "complete", "failed",
                      "sidecar", "documents", "tokens");
  const store::ProbeFile file(path);
  const auto models = file.models();
  if (models.empty()) return out + "(no model started yet)\n";
  for (const auto& name : models) {
    const auto st = file.model_status(name);
    if (st.finalized) {
      out +=
          log::sprintf("%-24s %10s %10lld %8d %9d %12lld %12lld\n", name.c_str(), "complete",
                       (long long)st.batches, 0, 0, (long long)st.documents, (long long)st.tokens);
      continue;
    }
    int complete = 0, failed = 0, sidecar = 0;
    std::set<int64_t> in_file;
    for (const auto& b : st.stored) {
      in_file.insert(b.batch);
      (b.status == "complete" ? complete : failed)++;
    }
    for (int64_t b : file.sidecar_batch_numbers(name)) sidecar += !in_file.count(b);
    out += log::sprintf("%-24s %10s %10d %8d %9d %12s %12s\n", name.c_str(), "running", complete,
                        failed, sidecar, "", "");
  }
  return out;
}

// Whether process `pid` of this host is a live depthscale: not gone, not a zombie waiting to be
// reaped, and not another program that took its number.
bool depthscale_alive(int64_t pid) {
  if (pid <= 0 || ::kill(pid_t(pid), 0) != 0) return false;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (std::getline(stat, line)) {
    const auto close = line.rfind(')');  // "pid (comm) S ...": the state follows the name
    if (close != std::string::npos && close + 2 < line.size() &&
        (line[close + 2] == 'Z' || line[close + 2] == 'X'))
      return false;
  }
  std::ifstream cmdline("/proc/" + std::to_string(pid) + "/cmdline");
  const std::string text((std::istreambuf_iterator<char>(cmdline)),
                         std::istreambuf_iterator<char>());
  return text.find("depthscale") != std::string::npos || !stat.is_open();
}

// What the run writing the file is doing, from its heartbeat: running (with live progress and an
// ETA at the current rate), stalled (alive but silent), dead (its process is gone), or how it
// ended. A heartbeat older than five of its intervals is stale.
std::string run_state(const std::string& path) {
  std::optional<store::Heartbeat> h;
  try {
    h = store::read_heartbeat(path);
  } catch (const store::StoreError& e) {
    return std::string("run: unknown (") + e.what() + ")\n";
  }
  if (!h) return "run: no heartbeat (no run has written this file since heartbeats began)\n";
  const double age = std::max(0.0, double(std::time(nullptr)) - h->unix_time);
  const std::string ago = log::Progress::human_seconds(age) + " ago";
  const std::string where = h->host + ", pid " + std::to_string(h->pid);
  const std::string resume = "resume with: depthscale run JOB.yaml --out " + path + " --resume";
  if (h->state != "running") {
    if (h->state == "stopped")
      return "run: stopped after checkpointing (" + where + ", " + ago + "); " + resume + "\n";
    return "run: " + h->state + " (" + where + ", " + ago + ")\n";
  }
  const double stale = std::max(5.0, 5.0 * h->every_seconds);
  const bool here = h->host == log::hostname();
  const bool alive = here && depthscale_alive(h->pid);
  std::string progress;
  if (h->total > 0) {
    progress = log::sprintf("%lld/%lld %s (%.1f%%)", (long long)h->done, (long long)h->total,
                            h->unit.c_str(), 100.0 * double(h->done) / double(h->total));
    if (h->rate > 0)
      progress +=
          log::sprintf(", %.3g %s/s, ETA %s", h->rate, h->unit.c_str(),
                       log::Progress::human_seconds(double(h->total - h->done) / h->rate).c_str());
  }
  if (here && !alive)
    return "run: dead: its process (" + where + ") is gone without ending the run (killed or " +
           "crashed; last heartbeat " + ago + ", at " + progress + "); " + resume + "\n";
  if (age > stale)
    return "run: stalled: no heartbeat for " + log::Progress::human_seconds(age) + " (" + where +
           (here ? ", alive but silent" : ", on another host: cannot check the process") + "; at " +
           progress + ")\n";
  return "run: running (" + where + ", heartbeat " + ago + "): " + progress + "\n";
}

}  // namespace

std::string status_report(const std::string& path) {
  config::Job job;
  {
    // The effective job (overrides included) says which tasks the sweep has.
    const auto f = store::open_sweep(path);
    job = config::parse_job(store::read_header(f).effective, path + ":/job_effective");
  }
  if (job.kind == config::JobKind::Probe) return probe_status(path, job) + run_state(path);

  std::map<std::string, const toy::TaskResult*> results;
  const auto tasks = store::read_tasks(path, store::TaskFields::Attributes);
  for (const auto& r : tasks) results[r.key] = &r;
  const auto partial = store::checkpoint_steps(path);  // tasks under way: their checkpoint step
  // Every dataset of every task read and checked (type, shape, finite, checksum): a damaged task is
  // not complete, whatever its status says; `run --resume` replaces it.
  const auto damage = store::task_damage(path, job.train.steps);
  auto damaged = [&](const std::string& key) {
    auto it = damage.find(key);
    return it != damage.end() && !it->second.empty();
  };

  std::map<std::string, Counts> groups;
  Counts total;
  for (const auto& t : config::expand(job)) {
    auto& g = groups[t.group()];
    const double cost = toy::student_cost(job, t, 0);
    auto it = results.find(t.key);
    if (damaged(t.key)) {
      ++g.damaged;
      g.cost_left += cost;
    } else if (it != results.end() && it->second->complete) {
      ++g.complete;
      g.seconds += it->second->wall_seconds;
      g.cost_done += cost;
    } else if (it != results.end()) {
      ++g.failed;
    } else if (auto p = partial.find(t.key); p != partial.end()) {
      ++g.partial;
      g.min_step = g.min_step < 0 ? p->second : std::min(g.min_step, p->second);
      g.cost_left += toy::student_cost(job, t, p->second);
    } else {
      ++g.pending;
      g.cost_left += cost;
    }
  }
  std::string out = log::sprintf("%s: job %s, %lld steps per task\n", path.c_str(),
                                 job.name.c_str(), (long long)job.train.steps);
  out += log::sprintf("%-34s %9s %9s %7s %8s %12s\n", "group", "complete", "partial", "failed",
                      "pending", "partial at");
  for (const auto& [name, g] : groups) {
    out += log::sprintf("%-34s %9d %9d %7d %8d %12s%s\n", name.c_str(), g.complete, g.partial,
                        g.failed, g.pending,
                        g.min_step >= 0 ? ("step " + std::to_string(g.min_step)).c_str() : "",
                        g.damaged ? (" " + std::to_string(g.damaged) + " damaged").c_str() : "");
    total.complete += g.complete;
    total.partial += g.partial;
    total.failed += g.failed;
    total.pending += g.pending;
    total.damaged += g.damaged;
    total.seconds += g.seconds;
    total.cost_done += g.cost_done;
    total.cost_left += g.cost_left;
  }
  out += log::sprintf(
      "%-34s %9d %9d %7d %8d%s\n", "total", total.complete, total.partial, total.failed,
      total.pending,
      total.damaged ? ("   (" + std::to_string(total.damaged) + " damaged)").c_str() : "");
  if (total.cost_done > 0 && total.cost_left > 0) {
    const double core_seconds = total.cost_left * total.seconds / total.cost_done;
    out += log::sprintf("remaining: about %.2f core-hours at the rate of the finished tasks\n",
                        core_seconds / 3600.0);
  }
  // The failed tasks and why, so a failure is read here rather than searched for in the logs.
  std::vector<const toy::TaskResult*> failed;
  for (const auto& r : tasks)
    if (!r.complete && !damaged(r.key)) failed.push_back(&r);
  if (!failed.empty()) {
    out += log::sprintf("failed tasks (%zu; `run --resume --retry-failed` reruns them):\n",
                        failed.size());
    const size_t shown = std::min<size_t>(failed.size(), 20);
    for (size_t i = 0; i < shown; ++i)
      out += log::sprintf("  %s: %s\n", failed[i]->key.c_str(),
                          failed[i]->error.empty() ? "(no message)" : failed[i]->error.c_str());
    if (shown < failed.size()) out += log::sprintf("  ... and %zu more\n", failed.size() - shown);
  }
  if (total.damaged > 0) {
    out += log::sprintf("damaged tasks (%d; `run --resume` sets them aside and reruns them):\n",
                        total.damaged);
    for (const auto& [key, what] : damage)
      if (!what.empty()) out += "  " + key + ": " + what + "\n";
  }
  // The teachers' probes, checked the same way.
  int bad_teachers = 0;
  for (const auto& [key, what] : store::teacher_damage(path))
    if (!what.empty()) {
      if (bad_teachers++ == 0) out += "damaged teacher probes (`run --resume` rewrites them):\n";
      out += "  /teachers/" + key + ": " + what + "\n";
    }
  return out + run_state(path);
}

}  // namespace depthscale::farm
