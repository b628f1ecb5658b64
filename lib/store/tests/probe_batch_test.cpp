// Probe batch images: the per-site arrays a batch carries round-trip by name, and a batch written
// before batches named their arrays (no `arrays` attribute) still reads, as carrying all of them.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "store/probe_file.hpp"

namespace depthscale::store {
namespace {

probe::BatchResult batch(bool per_token) {
  probe::BatchResult r;
  r.model = "m";
  r.batch = 3;
  r.documents = 2;
  r.tokens = 5;
  r.sites = 2;
  r.layers = 2;
  r.complete = true;
  r.per_token = per_token;
  r.theta = {0.1f, 0.2f, 0.3f, 0.4f};
  r.position = {0, 1};
  r.state = {1, 2, 3};
  if (per_token) {
    r.norms = std::vector<float>(6, 1.0f);
    r.theta_dh = {0.5f, 0.6f};
    r.angle_to_end = r.cross_entropy = std::vector<float>(4, 2.0f);
    r.proj_s = std::vector<float>(6, 0.0f);
    r.token = {7, 8};
    r.doc = {0, 0};
    r.arrays = {"norms",  "theta", "theta_dh", "angle_to_end", "cross_entropy",
                "proj_s", "token", "doc",      "position"};
  } else {
    r.arrays = {"theta", "position"};
  }
  return r;
}

TEST(ProbeBatch, ArraysRoundTripByName) {
  for (bool per_token : {true, false}) {
    const auto r = batch(per_token);
    const auto back = probe_batch_from_image(to_image(r));
    EXPECT_EQ(back.arrays, r.arrays);
    EXPECT_EQ(back.theta, r.theta);
    EXPECT_EQ(back.position, r.position);
    EXPECT_EQ(back.norms, r.norms);
    EXPECT_EQ(back.token, r.token);
  }
  auto bad = batch(false);
  bad.arrays.push_back("loss");
  EXPECT_THROW(to_image(bad), StoreError);  // an array nobody reads is refused before writing
  bad = batch(true);
  bad.theta.pop_back();
  EXPECT_THROW(to_image(bad), StoreError);
}

TEST(ProbeBatch, BatchWithoutArraysAttributeReadsAsCarryingAll) {
  // The image of a per-token batch, with the `arrays` attribute removed (as older files lack it).
  const auto r = batch(true);
  auto f = File::open_image(to_image(r), "batch");
  auto copy = File::create_in_memory("old batch");
  {
    auto root = copy.root();
    root.set_attr("format", f.root().attr_string("format"));
    const auto src = f.root().open_group(f.root().children().front());
    auto g = root.create_group(f.root().children().front());
    for (const char* a : {"model", "host", "status"}) g.set_attr(a, src.attr_string(a));
    for (const char* a : {"batch", "first_doc", "documents", "tokens", "sites", "num_layers",
                          "rank", "store_per_token"})
      g.set_attr(a, src.attr_int(a));
    g.set_attr("wall_seconds", src.attr_double("wall_seconds"));
    for (const char* d : {"norms", "theta", "theta_dh", "angle_to_end", "cross_entropy", "proj_s"})
      g.write(d, src.read_float(d), {2, hsize_t(src.read_float(d).size() / 2)});
    for (const char* d : {"token", "doc", "position", "summary_state"})
      g.write(d, src.read_int64(d), {hsize_t(src.read_int64(d).size())});
  }
  const auto back = probe_batch_from_image(copy.image());
  EXPECT_EQ(back.arrays, r.arrays);
  EXPECT_EQ(back.cross_entropy, r.cross_entropy);
  EXPECT_EQ(back.position, r.position);
}

}  // namespace
}  // namespace depthscale::store
