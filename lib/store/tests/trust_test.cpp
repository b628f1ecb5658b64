// Identities and checksums: the hash's known vectors, the checks of every format's one reader,
// and what resume sets aside (store/trust.hpp).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "hash/hash.hpp"
#include "store/trust.hpp"
#include "test_util.hpp"

namespace fs = std::filesystem;
using namespace depthscale::store;
using depthscale::store::testing::make_checkpoint;
using depthscale::store::testing::make_header;
using depthscale::store::testing::make_result;
using depthscale::store::testing::ScratchDir;
namespace hash = depthscale::hash;

namespace {

const std::string kJob = "0123456789abcdef", kOtherJob = "fedcba9876543210";

SweepHeader header_of(const std::string& identity) {
  SweepHeader h = make_header();
  h.identity = identity;
  return h;
}

std::vector<char> bytes_of(const std::string& path) {
  return read_bytes(path);
}

std::vector<std::string> listing(const std::string& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return out;
  for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

// An image with one float dataset overwritten by zeros (what a bit rot or a careless edit does to
// a file that stays valid HDF5).
std::vector<char> zeroed(const std::vector<char>& image, const std::string& group,
                         const std::string& name) {
  const std::string tmp =
      (fs::temp_directory_path() / ("ds_trust_zeroed_" + std::to_string(getpid()) + ".h5"))
          .string();
  write_file_atomically(tmp, image);
  {
    File f = File::open(tmp, Mode::ReadWrite);
    Group root = f.root();
    Group sub = group.empty() ? Group() : root.open_group(group);
    Group& g = group.empty() ? root : sub;
    std::vector<hsize_t> dims;
    auto v = g.read_float(name, &dims);
    std::fill(v.begin(), v.end(), 0.0f);
    g.write(name, v, dims);
  }
  auto bytes = read_bytes(tmp);
  fs::remove(tmp);
  return bytes;
}

}  // namespace

TEST(Hash, KnownVectors) {
  // The published FNV-1a 64-bit vectors.
  EXPECT_EQ(hash::fnv1a64(""), 0xcbf29ce484222325ULL);
  EXPECT_EQ(hash::fnv1a64("a"), 0xaf63dc4c8601ec8cULL);
  EXPECT_EQ(hash::fnv1a64("foobar"), 0x85944171f73967e8ULL);
  EXPECT_EQ(hash::hex(0xaf63dc4c8601ec8cULL), "af63dc4c8601ec8c");
  EXPECT_EQ(hash::hex(1), "0000000000000001");
  // Framed pieces: the split between them counts.
  EXPECT_NE(hash::Fnv1a().text("ab").text("c").value(), hash::Fnv1a().text("a").text("bc").value());
  // Pinned: a change here changes every identity and checksum ever written.
  EXPECT_EQ(hash::task_identity(kJob, "rho0_T1_t0_d6"), "cf0ec58c6b16c947");
}

TEST(Checksum, ResultsVerifyAndDetectAChange) {
  const TaskResult r = make_result(1);
  EXPECT_EQ(checksum(r), checksum(make_result(1)));
  TaskResult other = r;
  other.train_loss[0] += 1.0f;
  EXPECT_NE(checksum(other), checksum(r));
  other = r;
  other.wall_seconds += 1;  // timing is not part of it
  EXPECT_EQ(checksum(other), checksum(r));

  const auto image = to_image(r, hash::task_identity(kJob, r.key));
  EXPECT_TRUE(bitwise_equal(result_from_image(image), r));
  const auto bad = zeroed(image, "tasks/" + r.key, "train_loss");
  EXPECT_THROW(result_from_image(bad), ChecksumError);
}

TEST(Checksum, CheckpointsVerifyAndDetectZeroedParameters) {
  const TaskCheckpoint c = make_checkpoint("rho0_T1_t0_d6", 40);
  const auto image = to_image(c, hash::task_identity(kJob, c.key));
  EXPECT_TRUE(bitwise_equal(checkpoint_from_image(image), c));
  EXPECT_THROW(checkpoint_from_image(zeroed(image, "", "params")), ChecksumError);
}

TEST(Resume, PiecesOfAnotherJobBadOrUnreadableAreSetAside) {
  ScratchDir dir;
  const std::string path = dir / "s.h5";
  auto s = SweepFile::create(path, header_of(kJob), false);
  const TaskResult good = make_result(0), foreign = make_result(1), rotten = make_result(2);
  s.record(good);
  s.record(rotten);
  s.save_checkpoint(make_checkpoint("kept", 10));
  const std::string done = path + ".ckpt/done/", tasks = path + ".ckpt/tasks/";
  write_file_atomically(done + foreign.key + ".h5",
                        to_image(foreign, hash::task_identity(kOtherJob, foreign.key)));
  write_file_atomically(done + rotten.key + ".h5", zeroed(bytes_of(done + rotten.key + ".h5"),
                                                          "tasks/" + rotten.key, "train_loss"));
  write_file_atomically(tasks + "zeroed.h5", zeroed(to_image(make_checkpoint("zeroed", 10),
                                                             hash::task_identity(kJob, "zeroed")),
                                                    "", "params"));
  write_file_atomically(tasks + "garbage.h5", {'n', 'o', 't'});
  const auto before = bytes_of(path);

  auto again = SweepFile::open_or_recover(path, kJob);
  EXPECT_EQ(listing(rejected_dir(path)),
            (std::vector<std::string>{"done." + foreign.key + ".h5.foreign",
                                      "done." + rotten.key + ".h5.checksum",
                                      "tasks.garbage.h5.unreadable", "tasks.zeroed.h5.checksum"}));
  // The file's good results stay; the foreign one never entered it; the rotten copy did not
  // overwrite the good group.
  const auto states = again.states();
  EXPECT_EQ(states.at(good.key), TaskState::Complete);
  EXPECT_EQ(states.at(rotten.key), TaskState::Complete);
  EXPECT_EQ(states.count(foreign.key), 0u);
  EXPECT_EQ(states.at("kept"), TaskState::Partial);
  EXPECT_EQ(states.count("zeroed"), 0u);
  EXPECT_EQ(bytes_of(path), before);
  EXPECT_TRUE(again.load_checkpoint("kept").has_value());
}

TEST(Resume, AnotherJobsFileBesideOurSidecarIsRefusedBeforeWriting) {
  ScratchDir dir;
  const std::string ours = dir / "ours.h5", theirs = dir / "theirs.h5";
  SweepFile::create(ours, header_of(kJob), false).record(make_result(0));
  SweepFile::create(theirs, header_of(kOtherJob), false).record(make_result(1));
  fs::copy_file(theirs, ours, fs::copy_options::overwrite_existing);
  const auto before = bytes_of(ours);
  EXPECT_THROW(resume_header(ours, kJob), ForeignSweepError);
  try {
    SweepFile::open_or_recover(ours, kJob);
    ADD_FAILURE() << "not refused";
  } catch (const ForeignSweepError& e) {
    EXPECT_NE(std::string(e.what()).find(kOtherJob), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(kJob), std::string::npos) << e.what();
  }
  EXPECT_EQ(bytes_of(ours), before);
  EXPECT_TRUE(listing(rejected_dir(ours)).empty());
}

TEST(Resume, AnotherJobsSidecarBesideOurFileIsSetAside) {
  ScratchDir dir;
  const std::string ours = dir / "ours.h5", theirs = dir / "theirs.h5";
  SweepFile::create(ours, header_of(kJob), false).record(make_result(0));
  SweepFile::create(theirs, header_of(kOtherJob), false).record(make_result(0));
  fs::remove_all(ours + ".ckpt");
  fs::copy(theirs + ".ckpt", ours + ".ckpt", fs::copy_options::recursive);
  const auto before = bytes_of(ours);
  EXPECT_EQ(resume_header(ours, kJob).identity, kJob);
  auto s = SweepFile::open_or_recover(ours, kJob);
  EXPECT_EQ(listing(rejected_dir(ours)),
            (std::vector<std::string>{"done." + make_result(0).key + ".h5.foreign",
                                      "header.h5.foreign"}));
  EXPECT_EQ(bytes_of(ours), before);
  EXPECT_EQ(s.header().identity, kJob);
  EXPECT_EQ(s.states().at(make_result(0).key), TaskState::Complete);
}

TEST(Resume, FilesWithoutIdentitiesResumeUnverified) {
  ScratchDir dir;
  const std::string path = dir / "old.h5";
  auto s = SweepFile::create(path, header_of(""), false);
  s.record(make_result(0));
  // A done/ copy as files before identities and checksums held it.
  const TaskResult r = make_result(1);
  write_file_atomically(path + ".ckpt/done/" + r.key + ".h5", to_image(r));
  auto again = SweepFile::open_or_recover(path, kJob);
  EXPECT_TRUE(listing(rejected_dir(path)).empty());
  EXPECT_EQ(again.states().size(), 2u);
}

TEST(Teachers, ChecksumDetectsDamageAndHasTeacherSaysNo) {
  ScratchDir dir;
  const std::string path = dir / "t.h5";
  SweepFile::create(path, header_of(kJob), false);
  TeacherProbes p;
  p.rho = 0;
  p.teacher = 0;
  p.depth = 3;
  p.inputs = 2;
  p.theta = {1, 2, 3, 4, 5, 6};
  p.theta_dh = {1, 2, 3, 4};
  p.norms = {1, 2, 3, 4, 5, 6, 7, 8};
  write_teacher(path, "rho0_t0", p);
  EXPECT_TRUE(has_teacher(path, "rho0_t0"));
  EXPECT_EQ(teacher_damage(path).at("rho0_t0"), "");
  {
    File f = File::open(path, Mode::ReadWrite);
    Group h = f.root().open_group("teachers/rho0_t0/hidden");
    h.write("theta", std::vector<float>(6, 0.0f), {2, 3});
  }
  EXPECT_NE(teacher_damage(path).at("rho0_t0").find("bad checksum"), std::string::npos);
  EXPECT_FALSE(has_teacher(path, "rho0_t0"));  // so that resume writes it again
}
