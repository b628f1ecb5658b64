// Task results in the docs/sweep-file.md layout, and result/checkpoint images: round trips, and
// refusal of images that are not what they claim (wrong or missing format, other version,
// truncated).
#include <gtest/gtest.h>

#include <functional>

#include "store/store.hpp"
#include "test_util.hpp"

using namespace depthscale::store;
using depthscale::store::testing::make_checkpoint;
using depthscale::store::testing::make_result;
using depthscale::store::testing::ScratchDir;

namespace {

H5T_class_t attr_class(const Group& g, const char* name) {
  hid_t a = H5Aopen(g.id(), name, H5P_DEFAULT);
  hid_t t = H5Aget_type(a);
  H5T_class_t c = H5Tget_class(t);
  H5Tclose(t);
  H5Aclose(a);
  return c;
}

herr_t last_attr(hid_t, const char* name, const H5A_info_t*, void* out) {
  *static_cast<std::string*>(out) = name;
  return 0;
}

std::string expect_error(const std::function<void()>& f) {
  try {
    f();
  } catch (const StoreError& e) {
    return e.what();
  }
  ADD_FAILURE() << "no StoreError";
  return "";
}

}  // namespace

TEST(Task, WriteReadRoundTripsCompleteAndFailed) {
  ScratchDir dir;
  TaskResult ok = make_result(2);
  TaskResult bad = make_result(3, /*complete=*/false);
  ASSERT_GT(ok.probe_inputs, 0);
  ASSERT_EQ(bad.probe_inputs, 0);
  {
    File f = File::create(dir / "t.h5");
    Group tasks = f.root().create_group("tasks");
    write_task(tasks, ok);
    write_task(tasks, bad);
    write_task(tasks, ok);  // rewriting replaces
    f.close();
  }
  File f = File::open(dir / "t.h5", Mode::ReadOnly);
  Group tasks = f.root().open_group("tasks");
  EXPECT_EQ(tasks.children().size(), 2u);
  TaskResult ok2 = read_task(tasks.open_group(ok.key));
  TaskResult bad2 = read_task(tasks.open_group(bad.key));
  EXPECT_TRUE(bitwise_equal(ok, ok2));
  EXPECT_TRUE(bitwise_equal(bad, bad2));
  EXPECT_FALSE(bitwise_equal(ok, bad2));
}

TEST(Task, LayoutFollowsTheDesign) {
  ScratchDir dir;
  TaskResult r = make_result(1);  // depth 5, 3 probe inputs
  TaskResult failed = make_result(4, false);
  File f = File::create(dir / "t.h5");
  Group tasks = f.root().create_group("tasks");
  write_task(tasks, r);
  write_task(tasks, failed);
  Group g = tasks.open_group(r.key);
  EXPECT_EQ(attr_class(g, "depth"), H5T_INTEGER);
  EXPECT_EQ(attr_class(g, "teacher"), H5T_INTEGER);
  EXPECT_EQ(attr_class(g, "temperature"), H5T_FLOAT);
  EXPECT_EQ(attr_class(g, "rank"), H5T_INTEGER);
  EXPECT_EQ(g.attr_int("depth"), 5);
  EXPECT_EQ(g.attr_string("status"), "complete");
  EXPECT_FALSE(g.has_attr("error"));
  EXPECT_EQ(g.attr_string("host"), r.host);
  EXPECT_EQ(g.attr_double("wall_seconds"), r.wall_seconds);
  std::vector<hsize_t> dims;
  g.read_float("train_loss", &dims);
  EXPECT_EQ(dims, (std::vector<hsize_t>{r.train_loss.size()}));
  g.read_int64("eval_step", &dims);
  EXPECT_EQ(dims, (std::vector<hsize_t>{r.eval_step.size()}));
  Group h = g.open_group("hidden");
  h.read_float("theta", &dims);
  EXPECT_EQ(dims, (std::vector<hsize_t>{3, 5}));
  h.read_float("theta_dh", &dims);
  EXPECT_EQ(dims, (std::vector<hsize_t>{3, 4}));
  h.read_float("norms", &dims);
  EXPECT_EQ(dims, (std::vector<hsize_t>{3, 6}));
  // `status` is the last attribute in the object header: a reader of a half-written group
  // never sees it before the rest.
  std::string last;
  H5Aiterate2(g.id(), H5_INDEX_NAME, H5_ITER_NATIVE, nullptr, last_attr, &last);
  EXPECT_EQ(last, "status");

  Group fg = tasks.open_group(failed.key);
  EXPECT_EQ(fg.attr_string("status"), "failed");
  EXPECT_EQ(fg.attr_string("error"), failed.error);
  EXPECT_FALSE(fg.has("hidden"));
}

TEST(Task, InvalidResultsLeaveNoTrace) {
  ScratchDir dir;
  File f = File::create(dir / "t.h5");
  Group tasks = f.root().create_group("tasks");
  TaskResult r = make_result(0);
  r.theta.pop_back();
  EXPECT_NE(expect_error([&] { write_task(tasks, r); }).find("hidden/theta"), std::string::npos);
  r = make_result(0);
  r.test_loss.push_back(1);
  EXPECT_NE(expect_error([&] { write_task(tasks, r); }).find("eval steps"), std::string::npos);
  r = make_result(0);
  r.params["status"] = 1;
  EXPECT_NE(expect_error([&] { write_task(tasks, r); }).find("clashes"), std::string::npos);
  r = make_result(0);
  r.params.erase("depth");
  EXPECT_NE(expect_error([&] { write_task(tasks, r); }).find("depth"), std::string::npos);
  r = make_result(0);
  for (const char* key : {"", ".", "..", "a/b"}) {
    r.key = key;
    EXPECT_NE(expect_error([&] { write_task(tasks, r); }).find("invalid task key"),
              std::string::npos);
  }
  EXPECT_TRUE(tasks.children().empty());
}

TEST(Task, ReadingAGroupWithoutStatusFails) {
  ScratchDir dir;
  File f = File::create(dir / "t.h5");
  Group tasks = f.root().create_group("tasks");
  Group g = tasks.create_group("half");
  g.write("train_loss", std::vector<float>{1, 2});
  std::string m = expect_error([&] { read_task(g); });
  EXPECT_NE(m.find("t.h5:/tasks/half: no status"), std::string::npos) << m;
}

TEST(Images, ResultRoundTrip) {
  for (bool complete : {true, false}) {
    TaskResult r = make_result(5, complete);
    std::vector<char> image = to_image(r);
    TaskResult back = result_from_image(image);
    EXPECT_TRUE(bitwise_equal(r, back)) << "complete=" << complete;
  }
}

TEST(Images, ResultWithoutProbesRoundTrip) {
  TaskResult r = make_result(6, true, /*probe_inputs=*/0);
  EXPECT_TRUE(bitwise_equal(r, result_from_image(to_image(r))));
}

TEST(Images, CheckpointRoundTrip) {
  TaskCheckpoint c = make_checkpoint("T0.1_d6_t0", 40);
  TaskCheckpoint back = checkpoint_from_image(to_image(c));
  EXPECT_TRUE(bitwise_equal(c, back));
  TaskCheckpoint empty;
  empty.key = "fresh";
  EXPECT_TRUE(bitwise_equal(empty, checkpoint_from_image(to_image(empty))));
}

TEST(Images, WrongFormatIsRefused) {
  std::vector<char> result = to_image(make_result(1));
  std::vector<char> checkpoint = to_image(make_checkpoint("k", 3));
  std::string m = expect_error([&] { checkpoint_from_image(result); });
  EXPECT_NE(m.find("is not a depthscale-task-checkpoint (format = 'depthscale-task-result')"),
            std::string::npos)
      << m;
  m = expect_error([&] { result_from_image(checkpoint); });
  EXPECT_NE(m.find("is not a depthscale-task-result"), std::string::npos) << m;

  File plain = File::create_in_memory("plain");
  plain.root().write("x", std::vector<float>{1});
  std::vector<char> no_format = plain.image();
  m = expect_error([&] { result_from_image(no_format); });
  EXPECT_NE(m.find("no format attribute"), std::string::npos) << m;

  File future = File::create_in_memory("future");
  future.root().set_attr("format", "depthscale-task-result");
  future.root().set_attr("format_version", static_cast<int64_t>(2));
  std::vector<char> v2 = future.image();
  m = expect_error([&] { result_from_image(v2); });
  EXPECT_NE(m.find("format_version 2 is not supported"), std::string::npos) << m;
}

TEST(Images, TruncatedImagesAreRefused) {
  std::vector<char> image = to_image(make_result(3));
  for (size_t keep : {image.size() / 2, image.size() - 1, size_t{100}, size_t{0}}) {
    std::vector<char> cut(image.begin(), image.begin() + static_cast<long>(keep));
    std::string m = expect_error([&] { result_from_image(cut); });
    EXPECT_TRUE(m.find("truncated") != std::string::npos || m.find("empty") != std::string::npos)
        << keep << ": " << m;
  }
}
