// Every dataset the store writes carries `units` and `description` from the one table
// (store/schema.hpp): files written by each writer are walked whole, a dataset the table lacks
// is refused by name, and the loss-valued datasets take their units from the recorded loss kind.
#include "store/schema.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <set>
#include <string>
#include <vector>

#include "store/probe_file.hpp"
#include "test_util.hpp"

namespace depthscale::store {
namespace {

using testing::make_checkpoint;
using testing::make_header;
using testing::make_result;
using testing::ScratchDir;

// Every dataset under `g` as in-file paths (to see that a walk covered what it should).
void collect(const Group& g, const std::string& prefix, std::set<std::string>& out) {
  for (const auto& name : g.children()) {
    bool is_group = true;
    try {
      const Group child = g.open_group(name);
      collect(child, prefix + "/" + name, out);
    } catch (const StoreError&) {
      is_group = false;  // a dataset
    }
    if (!is_group) out.insert(prefix + "/" + name);
  }
}

// The walk of a whole file: no dataset without both attributes, and each of `expected` present
// (so that an empty or truncated file cannot pass).
void expect_described(const std::string& path, const std::vector<std::string>& expected) {
  SCOPED_TRACE(path);
  const File f = File::open(path, Mode::ReadOnly);
  const Group root = f.root();
  const std::vector<std::string> missing = undescribed_datasets(root);
  EXPECT_TRUE(missing.empty()) << "first undescribed: " << (missing.empty() ? "" : missing[0])
                               << " (" << missing.size() << " in all)";
  std::set<std::string> all;
  collect(root, "", all);
  for (const auto& e : expected) EXPECT_TRUE(all.count(e)) << e << " was not written";
}

TaskResult seeded(int i, const std::string& loss) {
  TaskResult r = make_result(i);
  r.loss = loss;
  r.seeds.seed = 18446744073709551557ull;  // above 2^63: the full 64 bits must survive
  r.seeds.student_seed = 0x8000000000000001ull + uint64_t(i);
  r.seeds.teacher_stream = "t" + std::to_string(i % 2);
  r.seeds.input_stream = r.key;
  r.seeds.probe_stream = "rho0_t" + std::to_string(i % 2);
  return r;
}

probe::BatchResult probe_batch(int64_t b) {
  probe::BatchResult r;
  r.model = "m";
  r.batch = b;
  r.first_doc = b * 2;
  r.documents = 2;
  r.tokens = 5;
  r.sites = 2;
  r.layers = 2;
  r.complete = true;
  r.per_token = true;
  r.norms = std::vector<float>(6, 1.0f);
  r.theta = {0.1f, 0.2f, 0.3f, 0.4f};
  r.theta_dh = {0.5f, 0.6f};
  r.angle_to_end = r.cross_entropy = std::vector<float>(4, 2.0f);
  r.proj_s = std::vector<float>(6, 0.0f);
  r.token = {7, 8};
  r.doc = {b * 2, b * 2 + 1};
  r.position = {0, 1};
  r.state = {1, 2, 3};
  r.arrays = {"norms",  "theta", "theta_dh", "angle_to_end", "cross_entropy",
              "proj_s", "token", "doc",      "position"};
  return r;
}

// A toy sweep through every toy writer (results, a checkpoint, a teacher, fits) and a probe model
// through the probe writers (batches, then finalised): every dataset of the file, of its sidecar
// and of the images described.
TEST(Schema, EveryDatasetEveryWriterWritesIsDescribed) {
  ScratchDir dir;
  const std::string path = dir / "s.h5";
  SweepFile s = SweepFile::create(path, make_header(), false);
  const TaskResult r = seeded(1, "kl");
  s.record(r);
  s.record(make_result(3, false));  // a failure: no loss kind, no probes
  s.save_checkpoint(make_checkpoint("k", 7));
  TeacherProbes t;
  t.rho = 0;
  t.depth = 3;
  t.inputs = 2;
  t.theta.assign(6, 0.5f);
  t.theta_dh.assign(4, 0.25f);
  t.norms.assign(8, 1.0f);
  t.seed = 7;
  t.teacher_stream = "t0";
  t.probe_stream = "rho0_t0";
  write_teacher(path, "rho0_t0", t);
  Fits fits;
  fits.model = "L = c*depth^-alpha + L0";
  fits.loss = "kl";
  FitSeries fs;
  fs.step = {10, 20};
  fs.n_points = {3, 3};
  fs.alpha = fs.alpha_se = fs.c = fs.c_se = fs.L0 = fs.L0_se = fs.rss = {1.0, 2.0};
  fs.L0_held = {0, 1};
  fits.groups["rho0_T1_t0"] = fs;
  FitSummary sm;
  sm.step = {10, 20};
  sm.n_replicates = {2, 2};
  sm.alpha_mean = sm.alpha_sem = sm.alpha_pooled = sm.alpha_pooled_se = {1.0, 1.5};
  fits.summaries["rho0_T1"] = sm;
  write_fits(path, fits);

  ProbeFile pf(path);
  pf.with_model("m", [&](ProbeModelGroup& mg) {
    mg.write_batch(probe_batch(0));
    mg.write_batch(probe_batch(1));
  });
  // A second model stays in batches (not finalised), as a running probe leaves it.
  pf.with_model("n", [&](ProbeModelGroup& mg) { mg.write_batch(probe_batch(0)); });
  probe::ModelAttrs attrs;
  attrs.num_layers = 2;
  attrs.metrics = {"norms", "theta", "theta_dh", "angle_to_end", "cross_entropy", "proj_s"};
  attrs.documents = 4;
  attrs.batch = 2;
  attrs.batches = 2;
  probe::ModelSummary summary;
  summary.sites = 4;
  for (const auto& m : attrs.metrics)
    summary.means.emplace_back(m, std::vector<double>(m == "theta_dh"                 ? 1
                                                      : m == "norms" || m == "proj_s" ? 3
                                                                                      : 2,
                                                      0.5));
  summary.early_stop_reference = summary.even_reference = {0.1, 0.2};
  summary.has_pca = true;
  summary.components = {1, 0, 0, 1};
  summary.explained = summary.explained_variance = summary.mean = {0.5, 0.5};
  pf.with_model("m", [&](ProbeModelGroup& mg) { mg.finalize(attrs, summary); });

  const std::string k = "/tasks/" + r.key;
  expect_described(path, {k + "/train_loss",
                          k + "/eval_step",
                          k + "/test_loss",
                          k + "/hidden/theta",
                          k + "/hidden/theta_dh",
                          k + "/hidden/norms",
                          "/teachers/rho0_t0/hidden/theta",
                          "/fits/rho0_T1_t0/alpha",
                          "/fits/rho0_T1_t0/rss",
                          "/fits/rho0_T1_t0/L0_held",
                          "/fits_summary/rho0_T1/n_replicates",
                          "/probe/m/theta",
                          "/probe/m/cross_entropy",
                          "/probe/m/token",
                          "/probe/m/position",
                          "/probe/m/summary/theta",
                          "/probe/m/pca/components",
                          "/probe/m/pca/early_stop_by_position",
                          "/probe/n/batches/000000/theta",
                          "/probe/n/batches/000000/summary_state"});
  expect_described(path + ".ckpt/done/" + r.key + ".h5", {k + "/test_loss"});
  expect_described(path + ".ckpt/tasks/k.h5", {"/params", "/adam_m", "/adam_v", "/test_loss"});
  pf.save_sidecar(probe_batch(2));
  expect_described(pf.sidecar_file("m", 2), {"/000002/theta", "/000002/summary_state"});

  // The attributes say what the table says, resolved for the recorded loss kind.
  const File f = File::open(path, Mode::ReadOnly);
  const Group task = f.root().open_group("tasks").open_group(r.key);
  const auto loss = read_dataset_doc(task, "test_loss");
  ASSERT_TRUE(loss);
  EXPECT_EQ(loss->units, "nats");
  EXPECT_NE(loss->description.find("KL(teacher"), std::string::npos) << loss->description;
  EXPECT_EQ(read_dataset_doc(task, "eval_step")->units, "steps");
  EXPECT_EQ(read_dataset_doc(task.open_group("hidden"), "theta")->units, "radians");
  const Group fit = f.root().open_group("fits").open_group("rho0_T1_t0");
  EXPECT_EQ(read_dataset_doc(fit, "rss")->units, "nats^2");
  EXPECT_EQ(read_dataset_doc(fit, "alpha")->units, "1");
  const Group model = f.root().open_group("probe").open_group("m");
  EXPECT_EQ(read_dataset_doc(model, "cross_entropy")->units, "nats/token");
  EXPECT_EQ(read_dataset_doc(model.open_group("pca"), "explained_variance")->units, "radians^2");
  // The seeds, all 64 bits of them, and the integer counts.
  EXPECT_EQ(task.attr_uint64("seed"), 18446744073709551557ull);
  EXPECT_EQ(task.attr_uint64("student_seed"), r.seeds.student_seed);
  EXPECT_EQ(task.attr_string("input_stream"), r.key);
  EXPECT_EQ(f.root().open_group("teachers").open_group("rho0_t0").attr_string("teacher_stream"),
            "t0");
  const Fits back = read_fits(f);
  EXPECT_EQ(back.summaries.at("rho0_T1").n_replicates, (std::vector<int64_t>{2, 2}));
  EXPECT_EQ(back.loss, "kl");
}

// The units of the losses follow what the task says its loss measures.
TEST(Schema, LossUnitsFollowTheRecordedLossKind) {
  EXPECT_EQ(dataset_doc("/tasks/x/test_loss", "kl")->units, "nats");
  EXPECT_EQ(dataset_doc("/tasks/x/test_loss", "mse_logits")->units, "nats^2");
  EXPECT_EQ(dataset_doc("/tasks/x/train_loss", "mse_features")->units, "1");
  EXPECT_EQ(dataset_doc("/fits/g/rss", "mse_logits")->units, "nats^4");
  // Results written before the kind was recorded: all three, said as such.
  EXPECT_EQ(dataset_doc("/tasks/x/test_loss", "")->units, "nats|nats^2|1");
  EXPECT_FALSE(dataset_doc("/tasks/x/test_loss", "hinge"));  // a kind this build does not know
  EXPECT_FALSE(dataset_doc("/tasks/x/accuracy", "kl"));
  EXPECT_FALSE(dataset_doc("/tasks/x/y/test_loss", "kl"));  // * is one name, not several

  ScratchDir dir;
  const std::string path = dir / "s.h5";
  SweepFile s = SweepFile::create(path, make_header(), false);
  s.record(seeded(1, "mse_features"));
  TaskResult old = make_result(2);  // as read from a file that predates the loss kind
  s.record(old);
  const File f = File::open(path, Mode::ReadOnly);
  const Group tasks = f.root().open_group("tasks");
  EXPECT_EQ(read_dataset_doc(tasks.open_group(seeded(1, "").key), "test_loss")->units, "1");
  EXPECT_EQ(read_dataset_doc(tasks.open_group(old.key), "test_loss")->units, "nats|nats^2|1");
  EXPECT_EQ(read_task(tasks.open_group(seeded(1, "").key)).loss, "mse_features");
}

// A dataset the table does not know is refused by the writers (naming it), and the walk of a
// file finds one written past them.
TEST(Schema, ADatasetWithoutAnEntryIsRefusedAndFound) {
  ScratchDir dir;
  const std::string path = dir / "s.h5";
  SweepFile::create(path, make_header(), false);
  File f = File::open(path, Mode::ReadWrite);
  Group root = f.root();
  Group g = root.open_group("tasks").create_group("k");
  g.write("test_loss", std::vector<float>{1, 2});
  g.write("accuracy", std::vector<float>{0.5f});
  try {
    describe_datasets(g);
    ADD_FAILURE() << "an unknown dataset was described";
  } catch (const StoreError& e) {
    EXPECT_NE(std::string(e.what()).find("/tasks/k/accuracy"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("schema.cpp"), std::string::npos) << e.what();
  }
  // The lenient walk (copies of other builds' files) describes what it knows, leaves the rest.
  describe_datasets(g, Undescribed::Warn);
  EXPECT_EQ(undescribed_datasets(root), (std::vector<std::string>{"/tasks/k/accuracy"}));
  EXPECT_EQ(read_dataset_doc(g, "test_loss")->units, "nats|nats^2|1");
  EXPECT_FALSE(read_dataset_doc(g, "accuracy"));
}

// Counts written as floats by the previous version still read, as integers; a fraction is an
// error naming the dataset.
TEST(Schema, CountsStoredAsFloatsByOlderFilesReadAsIntegers) {
  ScratchDir dir;
  const std::string path = dir / "old.h5";
  SweepFile::create(path, make_header(), false);
  {
    File f = File::open(path, Mode::ReadWrite);
    Group g = f.root().create_group("fits_summary").create_group("rho0_T1");
    g.set_attr("rho", 0.0);
    g.set_attr("temperature", 1.0);
    g.write(std::vector<int64_t>{10, 20}, "step");
    g.write("alpha_mean", std::vector<double>{1.0, 1.1});
    g.write("alpha_sem", std::vector<double>{0.1, 0.1});
    g.write("n_replicates", std::vector<double>{3.0, 3.0});  // as format_version 1 wrote it
  }
  EXPECT_EQ(read_fits(open_sweep(path)).summaries.at("rho0_T1").n_replicates,
            (std::vector<int64_t>{3, 3}));
  {
    File f = File::open(path, Mode::ReadWrite);
    f.root()
        .open_group("fits_summary/rho0_T1")
        .write("n_replicates", std::vector<double>{3.0, 2.5});
  }
  try {
    read_fits(open_sweep(path));
    ADD_FAILURE() << "2.5 replicates read";
  } catch (const StoreError& e) {
    EXPECT_NE(std::string(e.what()).find("rho0_T1/n_replicates"), std::string::npos) << e.what();
  }
}

// A sweep the previous version wrote (format_version 1: no units, seeds or loss kind, floats for
// n_replicates), committed as it was written: it still reads, and a merge of it describes every
// dataset it copies.
TEST(Schema, AFileOfThePreviousVersionReadsAndMergesDescribed) {
  const std::string old = std::string(DEPTHSCALE_STORE_TEST_DATA) + "/sweep_format1.h5";
  const std::vector<TaskResult> tasks = read_tasks(old, TaskFields::Everything);
  ASSERT_EQ(tasks.size(), 8u);
  for (const TaskResult& t : tasks) {
    EXPECT_FALSE(t.seeds.recorded()) << t.key;
    EXPECT_TRUE(t.loss.empty()) << t.key;
    EXPECT_EQ(t.probe_inputs, 2) << t.key;
    EXPECT_EQ(t.eval_step, (std::vector<int64_t>{150, 300})) << t.key;
  }
  const Fits fits = read_fits(open_sweep(old));
  EXPECT_EQ(fits.summaries.at("rho0_T1").n_replicates, (std::vector<int64_t>{2, 2}));
  EXPECT_EQ(fits.groups.size(), 2u);
  EXPECT_TRUE(fits.loss.empty());
  EXPECT_FALSE(undescribed_datasets(open_sweep(old).root()).empty());  // as it was written

  ScratchDir dir;
  const std::string merged = dir / "merged.h5";
  const MergedCounts counts = merge_sweeps({old}, read_header(open_sweep(old)), merged);
  EXPECT_EQ(counts.complete, 8);
  EXPECT_EQ(counts.teachers, 2);
  expect_described(merged, {"/tasks/rho0_T1_t0_d1/test_loss", "/tasks/rho0_T1_t1_d8/hidden/norms",
                            "/teachers/rho0_t1/hidden/theta"});
  const File f = open_sweep(merged);
  // The loss kind was not recorded then: the units say what each kind would be.
  EXPECT_EQ(read_dataset_doc(f.root().open_group("tasks/rho0_T1_t0_d1"), "test_loss")->units,
            "nats|nats^2|1");
  EXPECT_EQ(read_tasks(merged, TaskFields::Everything).size(), 8u);
}

}  // namespace
}  // namespace depthscale::store
