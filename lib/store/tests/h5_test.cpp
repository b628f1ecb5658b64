// The HDF5 layer: datasets and attributes of every type round-trip exactly, errors name the file
// and the object, HDF5 itself prints nothing, in-memory files and atomic writes behave.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>

#include "store/store.hpp"
#include "test_util.hpp"

using namespace depthscale::store;
using depthscale::store::testing::ScratchDir;

namespace {

template <class T>
bool same_bits(const std::vector<T>& a, const std::vector<T>& b) {
  return a.size() == b.size() &&
         (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0);
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

}  // namespace

TEST(H5, DatasetsRoundTripEveryTypeBitForBit) {
  ScratchDir dir;
  const std::string path = dir / "d.h5";
  const float fnan = std::numeric_limits<float>::quiet_NaN();
  std::vector<float> f = {1.5f,
                          -0.0f,
                          fnan,
                          std::numeric_limits<float>::infinity(),
                          std::numeric_limits<float>::denorm_min(),
                          3.0e38f};
  std::vector<double> d = {
      1.0 / 3.0, -2.5e-300, std::numeric_limits<double>::quiet_NaN(), 0, 7, 8, 9, 10, 11, 12,
      13,        14};
  std::vector<int64_t> n = {std::numeric_limits<int64_t>::min(), -1, 0, 1,
                            std::numeric_limits<int64_t>::max()};
  {
    File file = File::create(path);
    Group root = file.root();
    root.write("f", f, {2, 3});
    root.write("nested/deeper/d", d, {2, 3, 2});
    root.write(n, "n");
    root.write("n_by_name", n);
    root.write("empty_f", std::vector<float>{});
    root.write(std::vector<int64_t>{}, "empty_n", {0, 4});
    file.close();
  }
  File file = File::open(path, Mode::ReadOnly);
  Group root = file.root();
  std::vector<hsize_t> dims;
  EXPECT_TRUE(same_bits(root.read_float("f", &dims), f));
  EXPECT_EQ(dims, (std::vector<hsize_t>{2, 3}));
  EXPECT_TRUE(same_bits(root.read_double("nested/deeper/d", &dims), d));
  EXPECT_EQ(dims, (std::vector<hsize_t>{2, 3, 2}));
  EXPECT_EQ(root.read_int64("n", &dims), n);
  EXPECT_EQ(dims, (std::vector<hsize_t>{5}));
  EXPECT_EQ(root.read_int64("n_by_name"), n);
  EXPECT_TRUE(root.read_float("empty_f", &dims).empty());
  EXPECT_EQ(dims, (std::vector<hsize_t>{0}));
  EXPECT_TRUE(root.read_int64("empty_n", &dims).empty());
  EXPECT_EQ(dims, (std::vector<hsize_t>{0, 4}));
  // Numeric conversions that lose nothing are allowed; reading floats as integers is not.
  EXPECT_EQ(root.read_double("f")[0], 1.5);
  EXPECT_EQ(root.read_float("n")[1], -1.0f);
  EXPECT_THROW(root.read_int64("f"), StoreError);
}

TEST(H5, DatasetsUseLittleEndianIeeeAndInt64OnDisk) {
  ScratchDir dir;
  File file = File::create(dir / "t.h5");
  Group root = file.root();
  root.write("f", std::vector<float>{1});
  root.write("d", std::vector<double>{1});
  root.write(std::vector<int64_t>{1}, "n");
  auto stored = [&](const char* name, hid_t expected) {
    hid_t ds = H5Dopen2(root.id(), name, H5P_DEFAULT);
    hid_t t = H5Dget_type(ds);
    bool same = H5Tequal(t, expected) > 0;
    H5Tclose(t);
    H5Dclose(ds);
    return same;
  };
  EXPECT_TRUE(stored("f", H5T_IEEE_F32LE));
  EXPECT_TRUE(stored("d", H5T_IEEE_F64LE));
  EXPECT_TRUE(stored("n", H5T_STD_I64LE));
}

TEST(H5, RewritingADatasetReplacesIt) {
  ScratchDir dir;
  File file = File::create(dir / "r.h5");
  Group root = file.root();
  root.write("x", std::vector<float>{1, 2, 3});
  root.write("x", std::vector<double>{4, 5}, {1, 2});
  std::vector<hsize_t> dims;
  EXPECT_EQ(root.read_double("x", &dims), (std::vector<double>{4, 5}));
  EXPECT_EQ(dims, (std::vector<hsize_t>{1, 2}));
}

TEST(H5, DimsThatDoNotMatchTheDataAreRefused) {
  ScratchDir dir;
  File file = File::create(dir / "m.h5");
  Group root = file.root();
  try {
    root.write("x", std::vector<float>{1, 2, 3}, {2, 2});
    FAIL() << "no throw";
  } catch (const StoreError& e) {
    EXPECT_NE(std::string(e.what()).find("m.h5:/x"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("[2, 2]"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(root.has("x"));
}

TEST(H5, AttributesRoundTripAndOverwrite) {
  ScratchDir dir;
  const std::string path = dir / "a.h5";
  const std::string utf8 = "θ_dh — Grüße, 日本語, π≈3.14159";
  const std::string big(200000, 'y');  // job files can be long: beyond the 64 KiB header limit
  {
    File file = File::create(path);
    Group g = file.root().create_group("g");
    g.set_attr("d", 0.1);
    g.set_attr("i", static_cast<int64_t>(-7));
    g.set_attr("big_i", std::numeric_limits<int64_t>::max());
    g.set_attr("s", utf8);
    g.set_attr("c", "from a char*");
    g.set_attr("empty", std::string());
    g.set_attr("big", big);
    g.set_attr("changes", 1.0);
    g.set_attr("changes", "now a string");
    g.set_attr("six", 6.0);
    g.set_attr("half", 2.5);
    file.close();
  }
  File file = File::open(path, Mode::ReadOnly);
  Group g = file.root().open_group("g");
  EXPECT_EQ(g.attr_double("d"), 0.1);
  EXPECT_EQ(g.attr_int("i"), -7);
  EXPECT_EQ(g.attr_double("i"), -7.0);
  EXPECT_EQ(g.attr_int("big_i"), std::numeric_limits<int64_t>::max());
  EXPECT_EQ(g.attr_string("s"), utf8);
  EXPECT_EQ(g.attr_string("c"), "from a char*");
  EXPECT_EQ(g.attr_string("empty"), "");
  EXPECT_EQ(g.attr_string("big"), big);
  EXPECT_EQ(g.attr_string("changes"), "now a string");
  EXPECT_TRUE(g.attr_is_string("changes"));
  EXPECT_FALSE(g.attr_is_string("d"));
  EXPECT_EQ(g.attr_int("six"), 6);
  EXPECT_THROW(g.attr_int("half"), StoreError);
  EXPECT_THROW(g.attr_double("s"), StoreError);
  EXPECT_THROW(g.attr_string("d"), StoreError);
  EXPECT_TRUE(g.has_attr("d"));
  EXPECT_FALSE(g.has_attr("nope"));
  EXPECT_EQ(g.attr_names(), (std::vector<std::string>{"big", "big_i", "c", "changes", "d", "empty",
                                                      "half", "i", "s", "six"}));
  try {
    g.attr_double("nope");
    FAIL() << "no throw";
  } catch (const StoreError& e) {
    EXPECT_NE(std::string(e.what()).find(path + ":/g attribute 'nope'"), std::string::npos)
        << e.what();
  }
}

TEST(H5, StringAttributesAreVariableLengthUtf8) {
  ScratchDir dir;
  File file = File::create(dir / "s.h5");
  Group root = file.root();
  root.set_attr("s", "x");
  hid_t a = H5Aopen(root.id(), "s", H5P_DEFAULT);
  hid_t t = H5Aget_type(a);
  EXPECT_EQ(H5Tget_class(t), H5T_STRING);
  EXPECT_GT(H5Tis_variable_str(t), 0);
  EXPECT_EQ(H5Tget_cset(t), H5T_CSET_UTF8);
  hid_t s = H5Aget_space(a);
  EXPECT_EQ(H5Sget_simple_extent_type(s), H5S_SCALAR);
  H5Sclose(s);
  H5Tclose(t);
  H5Aclose(a);
}

TEST(H5, GroupsNestListAndRemove) {
  ScratchDir dir;
  File file = File::create(dir / "g.h5");
  Group root = file.root();
  EXPECT_EQ(root.path(), dir / "g.h5:/");
  Group c = root.create_group("a/b/c");  // intermediate groups are made on the way
  EXPECT_EQ(c.path(), dir / "g.h5:/a/b/c");
  EXPECT_TRUE(root.has("a"));
  EXPECT_TRUE(root.has("a/b/c"));
  EXPECT_FALSE(root.has("a/x/c"));
  EXPECT_FALSE(root.has("zzz"));
  root.create_group("z");
  root.create_group("m");
  EXPECT_EQ(root.children(), (std::vector<std::string>{"a", "m", "z"}));
  EXPECT_THROW(root.create_group("m"), StoreError);
  Group m = root.require_group("m");
  m.set_attr("k", 1.0);
  EXPECT_TRUE(root.require_group("m").has_attr("k"));
  root.require_group("n");
  EXPECT_TRUE(root.has("n"));
  root.remove("a");
  EXPECT_FALSE(root.has("a/b/c"));
  EXPECT_EQ(root.children(), (std::vector<std::string>{"m", "n", "z"}));
  EXPECT_THROW(root.remove("a"), StoreError);
  EXPECT_THROW(root.open_group("a"), StoreError);
}

TEST(H5, CopyGroupCopiesEverythingAcrossFiles) {
  ScratchDir dir;
  File src = File::create(dir / "src.h5");
  Group s = src.root().create_group("task");
  s.set_attr("depth", static_cast<int64_t>(6));
  s.set_attr("status", "complete");
  s.write("x", std::vector<float>{1, 2, 3, 4}, {2, 2});
  s.create_group("hidden").write(std::vector<int64_t>{9}, "n");
  File dst = File::create_in_memory("dst");
  Group droot = dst.root();
  copy_group(s, droot, "tasks/copied");
  Group d = droot.open_group("tasks/copied");
  EXPECT_EQ(d.attr_int("depth"), 6);
  EXPECT_EQ(d.attr_string("status"), "complete");
  std::vector<hsize_t> dims;
  EXPECT_EQ(d.read_float("x", &dims), (std::vector<float>{1, 2, 3, 4}));
  EXPECT_EQ(dims, (std::vector<hsize_t>{2, 2}));
  EXPECT_EQ(d.open_group("hidden").read_int64("n"), (std::vector<int64_t>{9}));
}

TEST(H5, ErrorsNameFileAndObjectAndHdf5PrintsNothing) {
  ScratchDir dir;
  const std::string path = dir / "e.h5";
  {
    File f = File::create(path);
    f.root().create_group("tasks/k1");
  }
  ::testing::internal::CaptureStderr();
  std::string msg;
  try {
    File f = File::open(path, Mode::ReadOnly);
    f.root().open_group("tasks/k1").read_float("train_loss");
  } catch (const StoreError& e) {
    msg = e.what();
  }
  std::string missing_file, not_hdf5;
  try {
    File::open(dir / "absent.h5", Mode::ReadOnly);
  } catch (const StoreError& e) {
    missing_file = e.what();
  }
  std::ofstream(dir / "text.h5") << "this is not an HDF5 file\n";
  try {
    File::open(dir / "text.h5", Mode::ReadOnly);
  } catch (const StoreError& e) {
    not_hdf5 = e.what();
  }
  std::string printed = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(printed, "") << "HDF5 printed its error stack";
  EXPECT_NE(msg.find(path + ":/tasks/k1/train_loss"), std::string::npos) << msg;
  EXPECT_NE(msg.find("HDF5: "), std::string::npos) << msg;
  EXPECT_NE(missing_file.find("absent.h5: no such file"), std::string::npos) << missing_file;
  EXPECT_NE(not_hdf5.find(dir / "text.h5"), std::string::npos) << not_hdf5;
  EXPECT_NE(not_hdf5.find("signature"), std::string::npos) << not_hdf5;  // HDF5's own reason
}

TEST(H5, InMemoryFilesMakeImagesThatReopen) {
  File a = File::create_in_memory("same label");
  File b = File::create_in_memory("same label");  // labels need not be unique
  a.root().write("x", std::vector<double>{1, 2});
  b.root().write("x", std::vector<double>{3});
  a.root().set_attr("who", "a");
  std::vector<char> image = a.image();
  ASSERT_FALSE(image.empty());
  EXPECT_EQ(std::string(image.data() + 1, 3), "HDF");  // "\x89HDF\r\n\x1a\n"
  File back = File::open_image(image, "reopened");
  EXPECT_EQ(back.root().read_double("x"), (std::vector<double>{1, 2}));
  EXPECT_EQ(back.root().attr_string("who"), "a");
  EXPECT_EQ(b.root().read_double("x"), (std::vector<double>{3}));
  // Images are plain HDF5 files: the bytes written to disk open with the ordinary driver.
  ScratchDir dir;
  write_file_atomically(dir / "img.h5", image);
  File disk = File::open(dir / "img.h5", Mode::ReadOnly);
  EXPECT_EQ(disk.root().read_double("x"), (std::vector<double>{1, 2}));
}

TEST(H5, BadImagesAreRefused) {
  File a = File::create_in_memory("src");
  a.root().write("x", std::vector<float>(1000, 1.0f));
  std::vector<char> image = a.image();
  std::vector<char> half(image.begin(), image.begin() + image.size() / 2);
  std::vector<char> garbage(4096, 'x');
  EXPECT_THROW(File::open_image({}, "empty"), StoreError);
  EXPECT_THROW(File::open_image(garbage, "garbage"), StoreError);
  try {
    File::open_image(half, "half");
    FAIL() << "no throw";
  } catch (const StoreError& e) {
    EXPECT_NE(std::string(e.what()).find("truncated"), std::string::npos) << e.what();
  }
}

TEST(H5, WriteFileAtomicallyReplacesWholeAndLeavesNoTemporary) {
  ScratchDir dir;
  const std::string path = dir / "f.bin";
  write_file_atomically(path, std::vector<char>{'a', 'b', 'c'});
  EXPECT_EQ(slurp(path), "abc");
  write_file_atomically(path, std::vector<char>(100000, 'z'));
  EXPECT_EQ(slurp(path), std::string(100000, 'z'));
  write_file_atomically(path, {});
  EXPECT_EQ(slurp(path), "");
  int entries = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir.path())) {
    (void)e;
    ++entries;
  }
  EXPECT_EQ(entries, 1);
  try {
    write_file_atomically(dir / "no/such/folder/f.bin", {'x'});
    FAIL() << "no throw";
  } catch (const StoreError& e) {
    EXPECT_NE(std::string(e.what()).find("no/such/folder/f.bin"), std::string::npos) << e.what();
  }
}

TEST(H5, OpenForReadingExplainsMissingAndCorruptFiles) {
  ScratchDir dir;
  EXPECT_THROW(open_for_reading(dir / "absent.h5", 0.0), StoreError);
  std::ofstream(dir / "junk.h5") << std::string(5000, 'j');
  try {
    open_for_reading(dir / "junk.h5", 0.2);
    FAIL() << "no throw";
  } catch (const StoreError& e) {
    // No sidecar: nothing to rebuild from, so no advice to resume.
    std::string m = e.what();
    EXPECT_NE(m.find(dir / "junk.h5 is not a readable HDF5 file (HDF5: "), std::string::npos) << m;
    EXPECT_NE(m.find("has no sidecar " + (dir / "junk.h5.ckpt/done/")), std::string::npos) << m;
    EXPECT_EQ(m.find("--resume"), std::string::npos) << m;
  }
  std::filesystem::create_directories(dir / "junk.h5.ckpt/done");
  try {
    open_for_reading(dir / "junk.h5", 0.2);
    FAIL() << "no throw";
  } catch (const StoreError& e) {
    std::string m = e.what();
    EXPECT_NE(m.find(dir / "junk.h5 is truncated or corrupt (HDF5: "), std::string::npos) << m;
    EXPECT_NE(m.find(dir / "junk.h5.ckpt/done/"), std::string::npos) << m;
    EXPECT_NE(m.find("--resume"), std::string::npos) << m;
  }
}
