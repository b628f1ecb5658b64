#include "toy/unit.hpp"

#include "toy/cohort.hpp"
#include "toy/matmul.hpp"
#include "toy/profile.hpp"
#include "toy/schedule.hpp"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Parallel.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <set>

namespace depthscale::toy {

using config::Inputs;
using config::ToyTask;
using Clock = std::chrono::steady_clock;

namespace {

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

// FLOPs of one MLP of width m forward on a batch: two matmuls of 4m·m multiply-adds each.
double mlp_flops(const config::Job& job, double m) {
  return 2.0 * 2.0 * 4.0 * m * m * job.train.batch;
}

// The failure-path test hook, UnitContext::fail_task = "<key>[@step]": that task throws.
std::optional<std::pair<std::string, int64_t>> injected_failure(const std::string& spec) {
  if (spec.empty()) return std::nullopt;
  auto at = spec.find('@');
  if (at == std::string::npos) return std::make_pair(spec, int64_t(0));
  return std::make_pair(spec.substr(0, at), std::stoll(spec.substr(at + 1)));
}

}  // namespace

std::string UnitSpec::describe() const {
  std::set<int> depths, widths;
  std::set<double> temps;
  for (const auto& t : tasks) {
    depths.insert(t.depth);
    widths.insert(t.width);
    temps.insert(t.temperature);
  }
  std::string d;
  for (int x : depths) d += (d.empty() ? "" : ",") + std::to_string(x);
  if (widths.size() > 1) {
    d += ", widths ";
    bool first = true;
    for (int x : widths) d += (first ? "" : ",") + std::to_string(x), first = false;
  }
  // The temperatures themselves (or their range), so units of one teacher read apart.
  std::string t;
  if (temps.size() <= 3) {
    for (double x : temps) t += (t.empty() ? "T " : ", ") + config::format_number(x);
  } else {
    t = std::to_string(temps.size()) + " temperatures " + config::format_number(*temps.begin()) +
        ".." + config::format_number(*temps.rbegin());
  }
  const std::string teacher = tasks.empty() ? "none" : tasks.front().teacher_key();
  return "unit " + std::to_string(id) + " (teacher " + teacher + ", " +
         std::to_string(tasks.size()) + " students: depths " + d + " at " + t + ", from step " +
         std::to_string(start_step) + ")";
}

TaskResult task_result(const config::Job& job, const ToyTask& task, const UnitContext& ctx) {
  TaskResult r;
  r.key = task.key;
  r.params = task.params();
  r.seeds = task_seeds(job, task);
  r.loss = loss_kind(job);
  r.host = ctx.host;
  r.rank = ctx.rank;
  return r;
}

uint64_t student_seed(const config::Job& job, const ToyTask& task) {
  return derive_seed(job.seed, "student", task.key);
}

std::string input_stream(const config::Job& job, const ToyTask& task) {
  return job.train.inputs == Inputs::Shared ? task.teacher_key() : task.key;
}

std::string loss_kind(const config::Job& job) {
  if (job.train.loss == config::Loss::Kl) return "kl";
  // The MSE compares logits where the model has a head (teacher_target), else the features.
  return job.model.head == config::Head::None ? "mse_features" : "mse_logits";
}

TaskSeeds task_seeds(const config::Job& job, const ToyTask& task) {
  TaskSeeds s;
  s.seed = job.seed;
  s.student_seed = student_seed(job, task);
  s.teacher_stream = teacher_stream(task.teacher);
  s.input_stream = input_stream(job, task);
  s.probe_stream = task.teacher_key();
  return s;
}

torch::Tensor training_inputs(const config::Job& job, const std::string& stream, int64_t step) {
  return draw_inputs(job, derive_seed(job.seed, "inputs", stream, step), job.train.batch);
}

torch::Tensor eval_inputs(const config::Job& job, const std::string& stream, int64_t step,
                          int batch) {
  const int64_t index = step * 1000 + batch;  // distinct fresh batches at every evaluation
  return draw_inputs(job, derive_seed(job.seed, "eval", stream, index), job.train.batch);
}

torch::Tensor probe_inputs(const config::Job& job, const std::string& teacher_key) {
  return draw_inputs(job, derive_seed(job.seed, "probe", teacher_key), job.probe_hidden.inputs);
}

double student_cost(const config::Job& job, const ToyTask& task, int64_t from_step) {
  const double mlps = job.model.block == config::Block::Rk2 ? 2 : 1;
  const double steps = double(job.train.steps - from_step);
  // forward + backward ≈ 3 forwards; the head adds 2·m·n per input, twice more for backward.
  const double head = 6.0 * task.width * job.model.vocab * job.train.batch;
  const double per_step = 3.0 * mlps * task.depth * mlp_flops(job, task.width) + head;
  const double evals = job.train.eval.every > 0 ? steps / double(job.train.eval.every) : 1.0;
  return per_step * steps + evals * job.train.eval.batches * per_step / 3.0;
}

double teacher_cost(const config::Job& job, const ToyTask& task, int64_t from_step) {
  return double(job.train.steps - from_step) * task.teacher_depth *
         mlp_flops(job, job.model.teacher_width);
}

CostModel CostModel::of(const config::Job& job) {
  CostModel c;
  const int vector = matmul::native_vector_floats();
  if (vector == 8) {
    c.reference_teacher = kReferenceTeacherAvx2;
    c.reference_student = kReferenceStudentAvx2;
  }
  if (job.run.engine != config::Engine::Fused) {
    c.flops_per_core = kAutograd;
    c.basis = "autograd engine, measured on a Xeon with AVX-512";
  } else if (vector == 16) {
    c.flops_per_core = kFusedAvx512;
    c.basis = "fused engine on the AVX-512 kernel, measured on a Xeon";
  } else if (vector == 8) {
    c.flops_per_core = kFusedAvx2;
    c.basis = "fused engine on the AVX2 kernel, measured on an AMD EPYC Zen 3";
  } else {
    c.flops_per_core = kFusedBlas;
    c.basis = "fused engine on the BLAS (no AVX2 here), measured through OpenBLAS on a Zen 3";
  }
  return c;
}

double reference_core_seconds(const config::Job& job, const std::vector<ToyTask>& tasks,
                              const CostModel& model) {
  double s = 0;
  for (const auto& t : tasks)
    s += teacher_cost(job, t, 0) / model.reference_teacher +
         student_cost(job, t, 0) / model.reference_student;
  return s;
}

int64_t student_parameters(const config::Job& job, int depth, int width) {
  const int64_t m = width > 0 ? width : job.model.width, n = job.model.vocab;
  const int64_t mlps = job.model.block == config::Block::Rk2 ? 2 : 1;
  const int64_t head = job.model.head == config::Head::Trained ? n * m : 0;
  return int64_t(depth) * mlps * (4 * m * m + 4 * m + 4 * m * m) + head;
}

UnitMemory unit_memory(const config::Job& job, const UnitSpec& unit) {
  UnitMemory mem;
  const double B = job.train.batch, ms = job.model.teacher_width;
  const double mlps = job.model.block == config::Block::Rk2 ? 2 : 1;
  double deepest = 0;  // the largest depth·(per-layer activations) of a student
  for (const auto& t : unit.tasks) {
    mem.student_state += 16.0 * double(student_parameters(job, t.depth, t.width)) +
                         4.0 * double(job.train.steps - unit.start_step);
    // Per layer: the input h, and per MLP branch v, 1/rms and relu(z) (the fused engine's saved
    // activations).
    const double m = t.width;
    const double per_layer = B * (m + mlps * (m + 1 + 4 * m)) + (mlps > 1 ? B * m : 0);
    deepest = std::max(deepest, double(t.depth) * per_layer + B * m);
  }
  // Plus the teacher's ping-pong states and one branch.
  mem.activations = 4.0 * (deepest + B * (2 * ms + 1 + 4 * ms));
  return mem;
}

std::vector<UnitSpec> plan_units(const config::Job& job, const std::vector<ToyTask>& tasks,
                                 const std::map<std::string, int64_t>& resume_step, int workers) {
  // Group by the teacher (its structure, depth and replicate) and the step the students continue
  // from.
  std::map<std::tuple<int, int, double, int, int64_t>, std::vector<ToyTask>> groups;
  for (const auto& t : tasks) {
    auto it = resume_step.find(t.key);
    const int64_t from = it == resume_step.end() ? 0 : it->second;
    groups[{t.teacher_groups, t.teacher_depth, t.rho, t.teacher, from}].push_back(t);
  }
  std::vector<UnitSpec> units;
  const int independent = job.train.inputs == Inputs::Independent;
  for (auto& [k, members] : groups) {
    size_t chunks;
    if (job.run.unit_size > 0) {
      chunks = (members.size() + job.run.unit_size - 1) / job.run.unit_size;
    } else {
      // Enough units for two per worker across all groups, never fewer than one per group.
      const size_t want = std::max<size_t>(1, 2 * size_t(std::max(workers, 1)));
      chunks = std::max<size_t>(1, (want + groups.size() - 1) / groups.size());
    }
    if (independent) chunks = std::max(chunks, size_t(1));
    chunks = std::min(chunks, members.size());
    // Deal students sorted by depth round-robin so every unit gets a similar mix of costs.
    std::stable_sort(members.begin(), members.end(),
                     [](const ToyTask& a, const ToyTask& b) { return a.depth > b.depth; });
    std::vector<UnitSpec> part(chunks);
    for (size_t i = 0; i < members.size(); ++i) part[i % chunks].tasks.push_back(members[i]);
    for (auto& u : part) {
      u.start_step = std::get<4>(k);
      const ToyTask& first = u.tasks.front();
      double c = job.train.inputs == Inputs::Shared ? teacher_cost(job, first, u.start_step) : 0.0;
      for (const auto& t : u.tasks) {
        c += student_cost(job, t, u.start_step);
        if (job.train.inputs == Inputs::Independent) c += teacher_cost(job, t, u.start_step);
      }
      u.cost = c;
      units.push_back(std::move(u));
    }
  }
  std::stable_sort(units.begin(), units.end(),
                   [](const UnitSpec& a, const UnitSpec& b) { return a.cost > b.cost; });
  for (size_t i = 0; i < units.size(); ++i) units[i].id = int(i);
  return units;
}

// ---- training ---------------------------------------------------------------------------------

namespace {

struct Trainee {
  ToyTask task;
  std::unique_ptr<Student> owned;  // its own student, or
  Student* student = nullptr;      // ... a member of cohorts[cohort] (batched engine)
  int cohort = -1;
  int64_t member = -1;
  std::string stream;                    // input stream: the teacher's key, or the task's own key
  torch::Tensor losses;                  // [steps] on the device; read back only at checks
  std::vector<float> train_loss_before;  // from a checkpoint
  std::vector<int64_t> eval_step;
  std::vector<float> test_loss;
  double seconds = 0;
  int64_t checked_until = 0;  // losses up to here were read back and are finite
  bool active = true;
};

TaskResult base_result(const config::Job& job, const Trainee& t, const UnitContext& ctx) {
  auto r = task_result(job, t.task, ctx);
  r.wall_seconds = t.seconds;
  return r;
}

// The losses before this run (from a checkpoint) followed by the first `n` of this run.
std::vector<float> read_losses(const Trainee& t, int64_t n) {
  std::vector<float> out = t.train_loss_before;
  if (n > 0) {
    auto c = t.losses.narrow(0, 0, n).to(torch::kCPU).contiguous();
    out.insert(out.end(), c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
  }
  return out;
}

}  // namespace

UnitOutcome run_unit(const config::Job& job, const UnitSpec& unit,
                     const std::map<std::string, TaskCheckpoint>& resume, UnitEvents& events,
                     const UnitContext& ctx) {
  const torch::Device dev = ctx.device;
  const int64_t S = job.train.steps, start = unit.start_step;
  const std::string teacher_key = unit.tasks.empty() ? "" : unit.tasks.front().teacher_key();
  auto fault = injected_failure(ctx.fail_task);

  auto t0 = Clock::now();
  if (unit.tasks.empty()) return UnitOutcome::Finished;
  Teacher teacher(job, unit.tasks.front(), dev);
  // Students of another width than the teacher's read the inputs through their fixed map.
  std::map<int, torch::Tensor> input_map;
  for (const auto& task : unit.tasks)
    if (!input_map.count(task.width)) {
      auto map = student_input_map(job, task.width, task.teacher);
      input_map[task.width] = map.defined() ? map.to(dev) : map;
    }
  // h0 as each width reads it (h0 itself at the teacher's width).
  auto by_width = [&](const torch::Tensor& h0) {
    std::map<int, torch::Tensor> out;
    for (const auto& [width, map] : input_map) out[width] = student_inputs(h0, map);
    return out;
  };
  std::vector<Trainee> trainees;
  trainees.reserve(unit.tasks.size());

  auto fail = [&](Trainee& t, const std::string& why) {
    t.active = false;
    auto r = base_result(job, t, ctx);
    r.complete = false;
    r.error = why;
    spdlog::warn("task {} failed: {}", t.task.key, why);
    events.result(r);
  };

  // The batched engine (and the fused one on CUDA, where it is the fast path) trains the students
  // of one depth and input stream as one cohort.
  const bool batched = job.run.engine == config::Engine::Batched ||
                       (dev.is_cuda() && job.run.engine == config::Engine::Fused);
  std::vector<std::unique_ptr<Cohort>> cohorts;
  std::map<size_t, std::pair<int, int64_t>> place;  // task index → (cohort, member)
  std::map<size_t, std::string> cohort_error;
  if (batched) {
    std::map<std::tuple<std::string, int, int>, std::vector<size_t>> groups;
    for (size_t i = 0; i < unit.tasks.size(); ++i) {
      const auto& task = unit.tasks[i];
      groups[{input_stream(job, task), task.depth, task.width}].push_back(i);
    }
    for (auto& [key, idx] : groups) {
      std::vector<StudentSpec> specs;
      std::vector<uint64_t> seeds;
      for (size_t i : idx) {
        specs.push_back(StudentSpec::from(job, unit.tasks[i]));
        seeds.push_back(student_seed(job, unit.tasks[i]));
      }
      try {
        cohorts.push_back(std::make_unique<Cohort>(specs, seeds, teacher.head(), dev));
        for (size_t k = 0; k < idx.size(); ++k)
          place[idx[k]] = {int(cohorts.size() - 1), int64_t(k)};
      } catch (const std::exception& e) {
        for (size_t i : idx) cohort_error[i] = e.what();
      }
    }
  }

  for (size_t i = 0; i < unit.tasks.size(); ++i) {
    const auto& task = unit.tasks[i];
    Trainee t;
    t.task = task;
    t.stream = input_stream(job, task);
    t.checked_until = start;
    try {
      if (cohort_error.count(i)) throw std::runtime_error(cohort_error[i]);
      if (batched) {
        std::tie(t.cohort, t.member) = place.at(i);
        t.student = &cohorts[t.cohort]->member(t.member);
      } else {
        t.owned = std::make_unique<Student>(StudentSpec::from(job, task), student_seed(job, task),
                                            teacher.head(), dev);
        t.student = t.owned.get();
      }
      auto it = resume.find(task.key);
      if (it != resume.end()) {
        const auto& c = it->second;
        if (c.step != start)
          throw std::runtime_error("checkpoint at step " + std::to_string(c.step) +
                                   " in a unit resuming from " + std::to_string(start));
        t.student->load_state(c.params, c.adam_m, c.adam_v, c.step);
        t.train_loss_before = c.train_loss;
        t.eval_step = c.eval_step;
        t.test_loss = c.test_loss;
        t.seconds = c.wall_seconds;
      }
      t.losses =
          torch::zeros({S - start}, torch::TensorOptions().dtype(torch::kFloat32).device(dev));
      trainees.push_back(std::move(t));
    } catch (const std::exception& e) {
      trainees.push_back(std::move(t));
      fail(trainees.back(), std::string("setting up: ") + e.what());
    }
  }
  const double setup = seconds_since(t0) / double(std::max<size_t>(1, trainees.size()));
  for (auto& t : trainees) t.seconds += setup;

  std::set<std::string> streams;
  for (const auto& t : trainees) streams.insert(t.stream);

  // Target distributions for each temperature present, from one teacher output.
  // (A failed cohort member still gets its target: the cohort steps all its rows.)
  auto targets_for = [&](const Teacher::Output& out, const std::string& stream) {
    std::map<double, torch::Tensor> targets;
    for (const auto& t : trainees)
      if ((t.active || t.cohort >= 0) && t.stream == stream && !targets.count(t.task.temperature))
        targets[t.task.temperature] = teacher_target(out, job.train.loss, t.task.temperature);
    return targets;
  };

  // Reads back the losses since the last check and fails students whose loss is not finite.
  auto check_losses = [&](int64_t upto) {
    for (auto& t : trainees) {
      if (!t.active || upto <= t.checked_until) continue;
      auto c = t.losses.narrow(0, t.checked_until - start, upto - t.checked_until).to(torch::kCPU);
      auto finite = torch::isfinite(c);
      if (!finite.all().item<bool>()) {
        int64_t bad = t.checked_until + torch::argmin(finite.to(torch::kInt)).item<int64_t>();
        fail(t, "non-finite training loss at step " + std::to_string(bad) + " (" +
                    std::to_string(c[bad - t.checked_until].item<float>()) + ")");
        continue;
      }
      t.checked_until = upto;
    }
  };

  auto checkpoint_all = [&](int64_t step) {
    check_losses(step);
    for (auto& t : trainees) {
      if (!t.active) continue;
      TaskCheckpoint c;
      c.key = t.task.key;
      c.step = step;
      t.student->save_state(c.params, c.adam_m, c.adam_v);
      c.train_loss = read_losses(t, step - start);
      c.eval_step = t.eval_step;
      c.test_loss = t.test_loss;
      c.wall_seconds = t.seconds;
      c.loss = loss_kind(job);
      events.checkpoint(c);
    }
  };

  auto evaluate = [&](int64_t step) {
    torch::NoGradGuard no_grad;
    for (const auto& stream : streams) {
      std::map<std::string, double> sum;
      for (int b = 0; b < job.train.eval.batches; ++b) {
        auto h0 = rms_norm(eval_inputs(job, stream, step, b).to(dev));
        auto out = teacher.forward(h0);
        auto targets = targets_for(out, stream);
        const auto h0_of = by_width(h0);
        for (auto& t : trainees) {
          if (!t.active || t.stream != stream) continue;
          auto ts = Clock::now();
          sum[t.task.key] += t.student->loss(h0_of.at(t.task.width), targets.at(t.task.temperature))
                                 .item<double>();
          t.seconds += seconds_since(ts);
        }
      }
      for (auto& t : trainees) {
        if (!t.active || t.stream != stream) continue;
        t.eval_step.push_back(step);
        t.test_loss.push_back(float(sum[t.task.key] / job.train.eval.batches));
      }
    }
  };

  const int64_t check_every = 100;
  for (int64_t s = start; s < S; ++s) {
    if (events.stop_requested && events.stop_requested()) {
      checkpoint_all(s);
      return UnitOutcome::Stopped;
    }
    for (const auto& stream : streams) {
      auto tt = Clock::now();
      torch::Tensor h0;
      std::map<double, torch::Tensor> targets;
      std::map<int, torch::Tensor> h0_of;
      {
        torch::NoGradGuard no_grad;
        profile::Scope teacher_phase(profile::Phase::teacher);
        h0 = rms_norm(training_inputs(job, stream, s).to(dev));
        targets = targets_for(teacher.forward(h0), stream);
        h0_of = by_width(h0);
      }
      int active = 0;
      for (const auto& t : trainees) active += t.active && t.stream == stream;
      const double teacher_share = seconds_since(tt) / std::max(active, 1);
      // Fault injection (tests): the named task fails at its step, alone.
      for (auto& t : trainees)
        if (t.active && t.stream == stream && fault && fault->first == t.task.key &&
            s >= fault->second)
          fail(t, "step " + std::to_string(s) + ": injected failure (fail_task)");
      // Students on their own (fused or autograd engine): with intra-op threads, each thread
      // takes a fixed share of the students (deepest first onto the least loaded), and every
      // student runs its whole step on one thread. A student's numbers do not depend on the
      // split: bit-identical for any run.threads.
      std::vector<Trainee*> solo;
      for (auto& t : trainees)
        if (t.active && t.stream == stream && t.cohort < 0) solo.push_back(&t);
      const int lanes =
          int(std::min<size_t>(size_t(std::max(1, at::get_num_threads())), solo.size()));
      std::vector<std::vector<Trainee*>> lane(size_t(std::max(lanes, 1)));
      {
        std::vector<double> load(lane.size(), 0.0);
        auto order = solo;
        std::stable_sort(order.begin(), order.end(), [](const Trainee* a, const Trainee* b) {
          return a->task.depth > b->task.depth;
        });
        for (auto* t : order) {
          const size_t l = size_t(std::min_element(load.begin(), load.end()) - load.begin());
          lane[l].push_back(t);
          load[l] += t->task.depth + 1;
        }
      }
      std::vector<std::vector<std::pair<Trainee*, std::string>>> errors(lane.size());
      auto run_lane = [&](size_t l) {
        for (auto* t : lane[l]) {
          auto ts = Clock::now();
          try {
            t->losses[s - start].copy_(
                t->student->train_step(h0_of.at(t->task.width), targets.at(t->task.temperature)));
          } catch (const std::exception& e) {
            errors[l].emplace_back(t, e.what());
            continue;
          }
          t->seconds += seconds_since(ts) + teacher_share;
        }
      };
      if (lane.size() > 1)
        at::parallel_for(0, int64_t(lane.size()), 1, [&](int64_t l0, int64_t l1) {
          for (int64_t l = l0; l < l1; ++l) run_lane(size_t(l));
        });
      else
        run_lane(0);
      for (auto& errs : errors)
        for (auto& [t, why] : errs) fail(*t, "step " + std::to_string(s) + ": " + why);
      for (size_t c = 0; c < cohorts.size(); ++c) {
        std::vector<Trainee*> rows(size_t(cohorts[c]->size()), nullptr);
        int live = 0;
        for (auto& t : trainees)
          if (t.cohort == int(c)) rows[size_t(t.member)] = &t, live += t.active;
        if (!live || rows.front()->stream != stream) continue;
        auto ts = Clock::now();
        std::vector<torch::Tensor> member_targets;
        for (auto* t : rows) member_targets.push_back(targets.at(t->task.temperature));
        try {
          auto losses = cohorts[c]->train_step(h0_of.at(rows.front()->task.width), member_targets);
          for (auto* t : rows)
            if (t->active) t->losses[s - start].copy_(losses[t->member]);
        } catch (const std::exception& e) {
          for (auto* t : rows)
            if (t->active) fail(*t, std::string("step ") + std::to_string(s) + ": " + e.what());
          continue;
        }
        const double share = seconds_since(ts) / live;
        for (auto* t : rows)
          if (t->active) t->seconds += share + teacher_share;
      }
    }
    const int64_t done = s + 1;
    const bool eval_now =
        done == S || (job.train.eval.every > 0 && done % job.train.eval.every == 0);
    if (done % check_every == 0 || eval_now) check_losses(done);
    if (eval_now) evaluate(done);
    if (job.train.checkpoint_every > 0 && done % job.train.checkpoint_every == 0 && done < S)
      checkpoint_all(done);
    if (events.progress) events.progress(done);
  }
  check_losses(S);

  // Hidden-state probes of each trained student on fresh inputs shared by the whole teacher.
  std::map<int, torch::Tensor> probe_h0;
  if (job.probe_hidden.inputs > 0)
    probe_h0 = by_width(rms_norm(probe_inputs(job, teacher_key).to(dev)));
  for (auto& t : trainees) {
    if (!t.active) continue;
    auto r = base_result(job, t, ctx);
    try {
      r.train_loss = read_losses(t, S - start);
      r.eval_step = t.eval_step;
      r.test_loss = t.test_loss;
      if (!probe_h0.empty()) {
        torch::NoGradGuard no_grad;
        auto p = probe_hidden(t.student->hidden_states(probe_h0.at(t.task.width)));
        r.probe_inputs = p.inputs;
        r.theta = std::move(p.theta);
        r.theta_dh = std::move(p.theta_dh);
        r.norms = std::move(p.norms);
      }
      r.complete = true;
      r.wall_seconds = t.seconds;
      events.result(r);
    } catch (const std::exception& e) {
      fail(t, std::string("after training: ") + e.what());
    }
  }
  return UnitOutcome::Finished;
}

}  // namespace depthscale::toy
