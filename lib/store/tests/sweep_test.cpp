// The sweep file and its sidecar: header, recording, checkpoints, states, h5py readability, and
// crash safety (truncation, interrupted task groups, results missing from the file, SIGKILL at
// random moments).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <regex>
#include <set>
#include <thread>

#include "store/store.hpp"
#include "test_util.hpp"

using namespace depthscale::store;
using depthscale::store::testing::make_checkpoint;
using depthscale::store::testing::make_header;
using depthscale::store::testing::make_result;
using depthscale::store::testing::ScratchDir;
namespace fs = std::filesystem;

namespace {

std::vector<std::string> corrupt_copies(const std::string& path) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(fs::path(path).parent_path())) {
    std::string name = e.path().string();
    if (name.rfind(path + ".corrupt-", 0) == 0) out.push_back(name);
  }
  return out;
}

// Every result in the file equals the one its index generates.
void expect_tasks(const std::string& path, const std::vector<TaskResult>& expected) {
  File f = open_for_reading(path, 0.0);
  Group tasks = f.root().open_group("tasks");
  std::vector<std::string> want;
  for (const auto& r : expected) want.push_back(r.key);
  std::sort(want.begin(), want.end());
  EXPECT_EQ(tasks.children(), want);
  for (const auto& r : expected) {
    ASSERT_TRUE(tasks.has(r.key)) << r.key;
    EXPECT_TRUE(bitwise_equal(read_task(tasks.open_group(r.key)), r)) << r.key;
  }
}

std::string hex(const void* data, size_t n) {
  static const char* digits = "0123456789abcdef";
  std::string s;
  for (size_t i = 0; i < n; ++i) {
    unsigned char c = static_cast<const unsigned char*>(data)[i];
    s += digits[c >> 4];
    s += digits[c & 15];
  }
  return s;
}

std::string run_capture(const std::string& cmd, int* status) {
  std::string out;
  FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  if (!p) {
    *status = -1;
    return out;
  }
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  *status = pclose(p);
  return out;
}

}  // namespace

TEST(Sweep, CreateWritesTheHeader) {
  ScratchDir dir;
  const std::string path = dir / "s.h5";
  SweepHeader h = make_header();
  SweepFile s = SweepFile::create(path, h, false);
  EXPECT_EQ(s.path(), path);
  EXPECT_EQ(s.sidecar(), path + ".ckpt");
  EXPECT_TRUE(fs::exists(path + ".ckpt/header.h5"));
  SweepHeader back = s.header();
  EXPECT_EQ(back.job_yaml, h.job_yaml);
  EXPECT_EQ(back.effective, h.effective);
  EXPECT_EQ(back.git_commit, h.git_commit);
  EXPECT_EQ(back.version, h.version);
  EXPECT_EQ(back.torch_version, h.torch_version);
  File f = open_for_reading(path);
  Group root = f.root();
  EXPECT_EQ(root.attr_string("format"), "depthscale-sweep");
  EXPECT_EQ(root.attr_int("format_version"), 1);
  EXPECT_FALSE(root.attr_is_string("format_version"));
  EXPECT_TRUE(std::regex_match(root.attr_string("created_utc"),
                               std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)")))
      << root.attr_string("created_utc");
  EXPECT_TRUE(root.has("tasks"));
  EXPECT_TRUE(s.states().empty());
}

// Every reader (status, reduce, plot, merge) opens through open_sweep: it names the file and says
// what is wrong with a file of another format or of another format_version.
TEST(Sweep, OpenSweepChecksFormatAndVersion) {
  ScratchDir dir;
  const std::string good = dir / "good.h5";
  SweepFile::create(good, make_header(), false);
  EXPECT_TRUE(open_sweep(good, 0.0).root().has("tasks"));

  const std::string other = dir / "other.h5";
  {
    File f = File::create(other);
    f.root().set_attr("format", "someone-else");
    f.root().set_attr("format_version", int64_t{1});
    f.close();
  }
  try {
    open_sweep(other, 0.0);
    FAIL() << "a file of another format was opened";
  } catch (const depthscale::Error& e) {  // StoreError, under the library's one base
    const std::string m = e.what();
    EXPECT_NE(m.find(other + " is not a depthscale sweep file"), std::string::npos) << m;
  }

  const std::string future = dir / "future.h5";
  {
    File f = File::create(future);
    f.root().set_attr("format", "depthscale-sweep");
    f.root().set_attr("format_version", int64_t{2});
    f.close();
  }
  try {
    open_sweep(future, 0.0);
    FAIL() << "a file of another format_version was opened";
  } catch (const StoreError& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find(future + ": sweep format_version 2 is not supported"), std::string::npos) << m;
  }

  const std::string unversioned = dir / "unversioned.h5";
  {
    File f = File::create(unversioned);
    f.root().set_attr("format", "depthscale-sweep");
    f.close();
  }
  EXPECT_THROW(open_sweep(unversioned, 0.0), StoreError);
}

TEST(Sweep, CreateRefusesToOverwriteResultsOrForeignFiles) {
  ScratchDir dir;
  const std::string path = dir / "s.h5";
  SweepFile::create(path, make_header(), false);
  SweepFile::create(path, make_header(), false);  // an empty sweep may be replaced
  SweepFile s = SweepFile::create(path, make_header(), false);
  s.record(make_result(0));
  s.save_checkpoint(make_checkpoint("other", 5));
  try {
    SweepFile::create(path, make_header(), false);
    FAIL() << "no throw";
  } catch (const StoreError& e) {
    EXPECT_NE(std::string(e.what()).find("refusing to overwrite " + path + ": it already holds 1"),
              std::string::npos)
        << e.what();
  }
  std::ofstream(dir / "notes.h5") << "my thesis\n";
  EXPECT_THROW(SweepFile::create(dir / "notes.h5", make_header(), false), StoreError);
  // overwrite starts afresh: no results, no checkpoints to resume by mistake.
  SweepFile fresh = SweepFile::create(path, make_header(), true);
  EXPECT_TRUE(fresh.states().empty());
  EXPECT_FALSE(fresh.load_checkpoint("other").has_value());
  EXPECT_TRUE(fs::is_empty(path + ".ckpt/done"));
}

TEST(Sweep, RecordCheckpointStatesAndForget) {
  ScratchDir dir;
  const std::string path = dir / "s.h5";
  SweepFile s = SweepFile::create(path, make_header(), false);
  TaskResult a = make_result(0), b = make_result(1), c = make_result(2, false);
  EXPECT_FALSE(s.load_checkpoint(a.key).has_value());
  EXPECT_FALSE(s.checkpoint_step(a.key).has_value());

  s.save_checkpoint(make_checkpoint(a.key, 10));
  s.save_checkpoint(make_checkpoint(b.key, 15));
  s.save_checkpoint(make_checkpoint(a.key, 20));  // replaces
  EXPECT_EQ(s.checkpoint_step(a.key), 20);
  auto loaded = s.load_checkpoint(a.key);
  ASSERT_TRUE(loaded.has_value());
  EXPECT_TRUE(bitwise_equal(*loaded, make_checkpoint(a.key, 20)));
  auto st = s.states();
  EXPECT_EQ(st.size(), 2u);
  EXPECT_EQ(st[a.key], TaskState::Partial);

  s.record(a);
  s.record(c);
  EXPECT_FALSE(s.load_checkpoint(a.key).has_value()) << "record() keeps the checkpoint";
  EXPECT_TRUE(fs::exists(path + ".ckpt/done/" + a.key + ".h5"));
  st = s.states();
  EXPECT_EQ(st.size(), 3u);
  EXPECT_EQ(st[a.key], TaskState::Complete);
  EXPECT_EQ(st[b.key], TaskState::Partial);
  EXPECT_EQ(st[c.key], TaskState::Failed);
  expect_tasks(path, {a, c});

  // --retry-failed: forget, rerun, record again.
  s.forget(c.key);
  EXPECT_FALSE(fs::exists(path + ".ckpt/done/" + c.key + ".h5"));
  EXPECT_EQ(s.states().count(c.key), 0u);
  TaskResult c2 = make_result(2, true);
  s.record(c2);
  s.forget(b.key);
  st = s.states();
  EXPECT_EQ(st.size(), 2u);
  EXPECT_EQ(st[c2.key], TaskState::Complete);
  expect_tasks(path, {a, c2});
  // Reopening a healthy sweep changes nothing and keeps no corrupt copy.
  SweepFile again = SweepFile::open_or_recover(path);
  expect_tasks(path, {a, c2});
  EXPECT_TRUE(corrupt_copies(path).empty());
}

TEST(Sweep, CheckpointWithTheWrongKeyIsRefused) {
  ScratchDir dir;
  const std::string path = dir / "s.h5";
  SweepFile s = SweepFile::create(path, make_header(), false);
  s.save_checkpoint(make_checkpoint("x", 5));
  fs::copy_file(path + ".ckpt/tasks/x.h5", path + ".ckpt/tasks/y.h5");
  EXPECT_THROW(s.load_checkpoint("y"), StoreError);
  EXPECT_THROW(s.save_checkpoint(make_checkpoint("a/b", 1)), StoreError);
}

TEST(Sweep, AReaderHoldingTheFileOpenDoesNotBlockTheWriter) {
  ScratchDir dir;
  const std::string path = dir / "s.h5";
  SweepFile s = SweepFile::create(path, make_header(), false);
  s.record(make_result(0));
  // Another process (`depthscale status`) holds the file open read-only while this one records;
  // with file locking on, the writer's open would fail.
  int ready[2], go[2];
  ASSERT_EQ(pipe(ready), 0);
  ASSERT_EQ(pipe(go), 0);
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    close(ready[0]);
    close(go[1]);
    int rc = 0;
    try {
      File reader = open_for_reading(path);
      size_t n = reader.root().open_group("tasks").children().size();
      char c = n == 1 ? 'y' : 'n';
      if (write(ready[1], &c, 1) != 1) rc = 2;
      if (read(go[0], &c, 1) != 1) rc = 2;  // hold the file open until the writer is done
    } catch (...) {
      rc = 1;
    }
    _exit(rc);
  }
  close(ready[1]);
  close(go[0]);
  char c = 0;
  ASSERT_EQ(read(ready[0], &c, 1), 1);
  EXPECT_EQ(c, 'y');
  s.record(make_result(1));
  s.record(make_result(2));
  s.forget(make_result(2).key);
  EXPECT_EQ(write(go[1], "x", 1), 1);
  int status = 0;
  waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  close(ready[0]);
  close(go[1]);
  expect_tasks(path, {make_result(0), make_result(1)});
}

TEST(Sweep, H5pyReadsTheFileAsDocumented) {
  std::string python = DEPTHSCALE_PYTHON;
  if (python.empty()) GTEST_SKIP() << "DEPTHSCALE_PYTHON is empty (no python with h5py)";
  ScratchDir dir;
  const std::string path = dir / "s.h5";
  SweepFile s = SweepFile::create(path, make_header(), false);
  TaskResult ok = make_result(1);  // depth 5, 3 probe inputs
  ok.loss = "kl";
  ok.seeds = {18446744073709551557ull, 42, "t1", ok.key, "rho0_t1"};
  TaskResult bad = make_result(3, false);
  s.record(ok);
  s.record(bad);
  s.save_checkpoint(make_checkpoint("k", 7));
  std::ofstream(dir / "job.yaml", std::ios::binary) << make_header().job_yaml;
  std::ofstream(dir / "error.txt", std::ios::binary) << bad.error;
  std::ofstream(dir / "check.py") << R"(import datetime, sys
import h5py, numpy as np
path, ok, bad, job, err = sys.argv[1:6]
f = h5py.File(path, "r")
a = f.attrs
for k in ["format", "job_yaml", "job_effective", "git_commit", "depthscale_version",
          "torch_version", "created_utc"]:
    assert isinstance(a[k], str), (k, type(a[k]))
assert a["format"] == "depthscale-sweep"
assert a["format_version"] == 1 and a["format_version"].dtype == np.int64
assert a["job_yaml"] == open(job, encoding="utf-8").read()
datetime.datetime.strptime(a["created_utc"], "%Y-%m-%dT%H:%M:%SZ")
assert sorted(f["tasks"].keys()) == sorted([ok, bad])
t = f["tasks"][ok]
assert t.attrs["status"] == "complete" and isinstance(t.attrs["status"], str)
assert "error" not in t.attrs
assert t.attrs["depth"].dtype == np.int64 and t.attrs["depth"] == 5
assert t.attrs["teacher"].dtype == np.int64
assert t.attrs["temperature"].dtype == np.float64
assert t.attrs["width"].dtype == np.int64 and t.attrs["width"] == 16
assert t.attrs["seed"].dtype == np.uint64 and t.attrs["seed"] == 18446744073709551557
assert t.attrs["student_seed"] == 42 and t.attrs["teacher_stream"] == "t1"
assert t.attrs["input_stream"] == ok and t.attrs["probe_stream"] == "rho0_t1"
assert t.attrs["loss"] == "kl"
assert t["test_loss"].attrs["units"] == "nats" and t["eval_step"].attrs["units"] == "steps"
assert t["hidden/theta"].attrs["units"] == "radians"
def described(name, obj):
    if isinstance(obj, h5py.Dataset):
        for k in ("units", "description"):
            assert isinstance(obj.attrs.get(k), str) and obj.attrs[k], (name, k)
f.visititems(described)
assert t.attrs["rank"].dtype == np.int64 and t.attrs["wall_seconds"].dtype == np.float64
assert isinstance(t.attrs["host"], str)
assert t["train_loss"].dtype == np.float32 and t["train_loss"].ndim == 1
assert t["eval_step"].dtype == np.int64 and t["test_loss"].dtype == np.float32
assert t["eval_step"].shape == t["test_loss"].shape
assert t["hidden/theta"].shape == (3, 5) and t["hidden/theta"].dtype == np.float32
assert t["hidden/theta_dh"].shape == (3, 4)
assert t["hidden/norms"].shape == (3, 6)
b = f["tasks"][bad]
assert b.attrs["status"] == "failed" and b.attrs["error"] == open(err, encoding="utf-8").read()
assert "hidden" not in b
done = h5py.File(path + ".ckpt/done/" + ok + ".h5", "r")
assert done.attrs["format"] == "depthscale-task-result"
assert done["tasks"][ok].attrs["status"] == "complete"
ck = h5py.File(path + ".ckpt/tasks/k.h5", "r")
assert ck.attrs["format"] == "depthscale-task-checkpoint" and ck.attrs["step"] == 7
ck.visititems(described)
print("train_loss", t["train_loss"][:].tobytes().hex())
print("norms", t["hidden/norms"][:].tobytes().hex())
)";
  int status = 0;
  std::string out =
      run_capture(python + " " + dir / "check.py" + " " + path + " '" + ok.key + "' '" + bad.key +
                      "' " + dir / "job.yaml" + " " + dir / "error.txt",
                  &status);
  ASSERT_EQ(status, 0) << out;
  EXPECT_NE(out.find("train_loss " + hex(ok.train_loss.data(), ok.train_loss.size() * 4)),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("norms " + hex(ok.norms.data(), ok.norms.size() * 4)), std::string::npos)
      << out;
}

// ---- crash safety -------------------------------------------------------------------------------

TEST(SweepCrash, TruncatedFileIsExplainedThenRebuiltBitForBit) {
  ScratchDir dir;
  const std::string path = dir / "s.h5";
  SweepFile s = SweepFile::create(path, make_header(), false);
  std::vector<TaskResult> recorded;
  for (int i = 0; i < 6; ++i) {
    recorded.push_back(make_result(i, i != 4));
    s.record(recorded.back());
  }
  std::string created = open_for_reading(path).root().attr_string("created_utc");
  fs::resize_file(path, fs::file_size(path) / 2);

  try {
    open_for_reading(path, 0.3);
    FAIL() << "a truncated file opened";
  } catch (const StoreError& e) {
    std::string m = e.what();
    EXPECT_NE(m.find(path + " is truncated or corrupt (HDF5: "), std::string::npos) << m;
    EXPECT_NE(m.find("the finished tasks are also kept in " + path + ".ckpt/done/"),
              std::string::npos)
        << m;
    EXPECT_NE(m.find("rerun with --resume to rebuild it"), std::string::npos) << m;
  }

  SweepFile r = SweepFile::open_or_recover(path);
  expect_tasks(path, recorded);
  EXPECT_EQ(corrupt_copies(path).size(), 1u);
  EXPECT_EQ(r.header().job_yaml, make_header().job_yaml);
  EXPECT_EQ(open_for_reading(path).root().attr_string("created_utc"), created);
  // The rebuilt file takes new results as usual.
  recorded.push_back(make_result(6));
  r.record(recorded.back());
  expect_tasks(path, recorded);
}

TEST(SweepCrash, TaskGroupsWithoutStatusAreDroppedAndRecoveredFromTheSidecar) {
  ScratchDir dir;
  const std::string path = dir / "s.h5";
  SweepFile s = SweepFile::create(path, make_header(), false);
  std::vector<TaskResult> recorded = {make_result(0), make_result(1), make_result(2)};
  for (const auto& r : recorded) s.record(r);
  {
    // What a kill in the middle of write_task leaves: a new group without status, and a rewrite
    // of a recorded task that lost its status and half its data.
    File f = File::open(path, Mode::ReadWrite);
    // Groups the sidecar does not hold, which recovery carries over: the coordinator's teachers and
    // a fit with an array attribute.
    Group teacher = f.root().create_group("teachers/rho0_t0");
    teacher.set_attr("depth", static_cast<int64_t>(128));
    teacher.write("hidden/theta", std::vector<float>{1, 2, 3, 4, 5, 6}, {2, 3});
    teacher.set_attr("status", "complete");
    Group fit = f.root().create_group("fits/g0");
    hsize_t two = 2;
    double bounds[2] = {0.5, 1.5};
    hid_t space = H5Screate_simple(1, &two, nullptr);
    hid_t attr = H5Acreate2(fit.id(), "bounds", H5T_IEEE_F64LE, space, H5P_DEFAULT, H5P_DEFAULT);
    H5Awrite(attr, H5T_NATIVE_DOUBLE, bounds);
    H5Aclose(attr);
    H5Sclose(space);
    Group tasks = f.root().open_group("tasks");
    Group ghost = tasks.create_group("ghost");
    ghost.set_attr("depth", static_cast<int64_t>(4));
    ghost.write("train_loss", std::vector<float>{1, 2, 3});
    tasks.remove(recorded[1].key);
    tasks.create_group(recorded[1].key).write("train_loss", std::vector<float>{9});
    f.close();
  }
  SweepFile r = SweepFile::open_or_recover(path);
  expect_tasks(path, recorded);
  EXPECT_EQ(corrupt_copies(path).size(), 1u);
  File f = open_for_reading(path);
  Group teacher = f.root().open_group("teachers/rho0_t0");
  EXPECT_EQ(teacher.attr_string("status"), "complete");
  EXPECT_EQ(teacher.attr_int("depth"), 128);
  std::vector<hsize_t> dims;
  EXPECT_EQ(teacher.read_float("hidden/theta", &dims), (std::vector<float>{1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(dims, (std::vector<hsize_t>{2, 3}));
  hid_t attr = H5Aopen(f.root().open_group("fits/g0").id(), "bounds", H5P_DEFAULT);
  ASSERT_GE(attr, 0);
  double bounds[2] = {0, 0};
  H5Aread(attr, H5T_NATIVE_DOUBLE, bounds);
  H5Aclose(attr);
  EXPECT_EQ(bounds[0], 0.5);
  EXPECT_EQ(bounds[1], 1.5);
}

TEST(SweepCrash, ResultsTheFileMissedAreCopiedInPlace) {
  ScratchDir dir;
  const std::string path = dir / "s.h5";
  SweepFile s = SweepFile::create(path, make_header(), false);
  s.record(make_result(0));
  // A kill between the sidecar write and the sweep write; and a rewrite the file did not get.
  write_file_atomically(path + ".ckpt/done/" + make_result(1).key + ".h5",
                        to_image(make_result(1)));
  TaskResult changed = make_result(0);
  changed.wall_seconds += 1;
  write_file_atomically(path + ".ckpt/done/" + changed.key + ".h5", to_image(changed));
  // A temporary a killed writer left behind.
  std::ofstream(path + ".ckpt/done/x.h5.tmp.999999999") << "partial";
  EXPECT_EQ(s.states().size(), 2u);
  SweepFile r = SweepFile::open_or_recover(path);
  expect_tasks(path, {changed, make_result(1)});
  EXPECT_TRUE(corrupt_copies(path).empty()) << "a healthy file was moved aside";
  EXPECT_FALSE(fs::exists(path + ".ckpt/done/x.h5.tmp.999999999"));
}

TEST(SweepCrash, MissingFileIsRebuiltFromTheSidecarHeader) {
  ScratchDir dir;
  const std::string path = dir / "s.h5";
  SweepFile s = SweepFile::create(path, make_header(), false);
  s.record(make_result(0));
  fs::remove(path);
  SweepFile r = SweepFile::open_or_recover(path);
  expect_tasks(path, {make_result(0)});
  EXPECT_EQ(r.header().git_commit, make_header().git_commit);
  EXPECT_THROW(SweepFile::open_or_recover(dir / "never.h5"), StoreError);
}

TEST(SweepCrash, WithoutTheSidecarHeaderTheDamagedFilesOwnHeaderIsUsed) {
  ScratchDir dir;
  const std::string path = dir / "s.h5";
  SweepFile s = SweepFile::create(path, make_header(), false);
  s.record(make_result(0));
  s.record(make_result(1));
  fs::remove(path + ".ckpt/header.h5");
  {
    File f = File::open(path, Mode::ReadWrite);
    f.root().open_group("tasks").create_group("ghost");
  }
  SweepFile::open_or_recover(path);
  expect_tasks(path, {make_result(0), make_result(1)});
  EXPECT_EQ(SweepFile::open_or_recover(path).header().job_yaml, make_header().job_yaml);

  // With neither header, recovery says why it cannot proceed.
  fs::resize_file(path, fs::file_size(path) / 2);
  try {
    SweepFile::open_or_recover(path);
    FAIL() << "no throw";
  } catch (const StoreError& e) {
    EXPECT_NE(std::string(e.what()).find("cannot be rebuilt"), std::string::npos) << e.what();
  }
}

TEST(SweepCrash, ForeignFilesAreNeverMovedAside) {
  ScratchDir dir;
  const std::string path = dir / "notes.h5";
  {
    File f = File::create(path);
    f.root().set_attr("mine", "yes");
  }
  EXPECT_THROW(SweepFile::open_or_recover(path), StoreError);
  EXPECT_TRUE(fs::exists(path));
  EXPECT_TRUE(corrupt_copies(path).empty());
}

// A child loops over checkpoints and records and is SIGKILLed at random moments; after every kill
// the sweep recovers, every result recorded before the kill is there bit for bit, and every file in
// the sidecar is whole.
TEST(SweepCrash, SigkillAtRandomMomentsLosesNothing) {
  ScratchDir dir;
  const std::string path = dir / "s.h5";
  SweepFile::create(path, make_header(), false);
  std::mt19937 rng(20260122);
  std::uniform_int_distribution<int> delay_ms(5, 400);
  std::set<int> recorded;
  int next = 0, kills = 0;
  auto expected = [](int i) { return make_result(i, i % 7 != 3, 40); };
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(8);

  for (int round = 0; round < 12 && std::chrono::steady_clock::now() < deadline; ++round) {
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      close(fds[0]);
      alarm(30);  // never outlive a crashed parent for long
      try {
        SweepFile w = SweepFile::open_or_recover(path);
        for (int i = next;; ++i) {
          TaskResult r = expected(i);
          for (int step = 4; step <= 12; step += 4) w.save_checkpoint(make_checkpoint(r.key, step));
          w.record(r);
          if (i % 3 == 2) w.record(expected(i - 1));  // a rewrite replaces a group in place
          if (write(fds[1], &i, sizeof i) != sizeof i) _exit(4);
        }
      } catch (const std::exception& e) {
        fprintf(stderr, "child: %s\n", e.what());
        _exit(3);
      }
    }
    close(fds[1]);
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms(rng)));
    kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
    ASSERT_TRUE(WIFSIGNALED(status)) << "the child stopped by itself: " << status;
    ++kills;
    int i;
    while (read(fds[0], &i, sizeof i) == sizeof i) {
      recorded.insert(i);
      next = std::max(next, i + 1);
    }
    close(fds[0]);

    SweepFile s = SweepFile::open_or_recover(path);
    auto states = s.states();
    File f = open_for_reading(path, 0.0);
    Group tasks = f.root().open_group("tasks");
    for (int i : recorded) {
      TaskResult want = expected(i);
      ASSERT_TRUE(tasks.has(want.key)) << "round " << round << ": lost " << want.key;
      EXPECT_EQ(states[want.key], want.complete ? TaskState::Complete : TaskState::Failed);
      EXPECT_TRUE(bitwise_equal(read_task(tasks.open_group(want.key)), want)) << want.key;
    }
    // Whatever else the file holds (the task in flight at the kill) is whole too.
    for (const std::string& key : tasks.children()) {
      TaskResult got = read_task(tasks.open_group(key));
      int index = std::stoi(key.substr(key.rfind("_i") + 2));
      EXPECT_TRUE(bitwise_equal(got, expected(index))) << key;
    }
    for (const auto& e : fs::directory_iterator(path + ".ckpt/tasks")) {
      std::string name = e.path().filename().string();
      if (name.find(".tmp.") != std::string::npos) continue;
      std::string key = name.substr(0, name.size() - 3);
      auto c = s.load_checkpoint(key);
      ASSERT_TRUE(c.has_value()) << key;
      EXPECT_TRUE(bitwise_equal(*c, make_checkpoint(key, c->step))) << key;
    }
    for (const auto& e : fs::directory_iterator(path + ".ckpt/done")) {
      std::string name = e.path().filename().string();
      if (name.find(".tmp.") != std::string::npos) continue;
      std::ifstream in(e.path(), std::ios::binary);
      std::vector<char> bytes((std::istreambuf_iterator<char>(in)),
                              std::istreambuf_iterator<char>());
      EXPECT_NO_THROW(result_from_image(bytes)) << name;
    }
  }
  EXPECT_GE(kills, 3);
  EXPECT_GT(recorded.size(), 0u);
  std::printf("[          ] %d kills, %zu results recorded, %zu rebuilds\n", kills, recorded.size(),
              corrupt_copies(path).size());
}

// The same, aimed at the dangerous window: the child does nothing but rewrite the sweep file (the
// sidecar already holds every result), so most kills land inside HDF5 writes. Recovery must always
// end with every sidecar result in the file, bit for bit, whatever state the kill left.
TEST(SweepCrash, SigkillInsideSweepWritesIsAlwaysRecovered) {
  ScratchDir dir;
  const std::string path = dir / "s.h5";
  SweepFile::create(path, make_header(), false);
  auto expected = [](int i) { return make_result(i, true, 200); };
  const int n = 12;
  std::vector<TaskResult> all;
  for (int i = 0; i < n; ++i) {
    all.push_back(expected(i));
    write_file_atomically(path + ".ckpt/done/" + all.back().key + ".h5", to_image(all.back()));
  }
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> delay_us(500, 60000);
  int kills = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(4);
  for (int round = 0; round < 40 && std::chrono::steady_clock::now() < deadline; ++round) {
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      alarm(30);
      try {
        for (int i = round;; ++i) {
          File f = File::open(path, Mode::ReadWrite);
          {
            Group tasks = f.root().require_group("tasks");
            write_task(tasks, expected(i % n));
            write_task(tasks, expected((i * 7 + 3) % n));
          }
          f.flush();
          f.close();
        }
      } catch (const std::exception& e) {
        // A file left damaged by the previous kill; recovery is the parent's job.
        _exit(3);
      }
    }
    std::this_thread::sleep_for(std::chrono::microseconds(delay_us(rng)));
    kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
    kills += WIFSIGNALED(status);
    SweepFile::open_or_recover(path);
    expect_tasks(path, all);
    if (::testing::Test::HasFailure()) break;
  }
  EXPECT_GE(kills, 5);
  std::printf("[          ] %d kills, %zu rebuilds\n", kills, corrupt_copies(path).size());
}
