// The report: the published-values file (the project's own, and bad ones whose errors must name
// file, line and key), the verdicts, and a whole report of a real HDF5 sweep whose losses follow
// a known power law per teacher replicate, so the α it must print is known.
#include <gtest/gtest.h>
#include <spdlog/fmt/fmt.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>
#include <string>

#include "report/report.hpp"
#include "store/store.hpp"

namespace fs = std::filesystem;
using namespace depthscale;
using namespace depthscale::report;

namespace {

class TempDir {
 public:
  TempDir() {
    static int counter = 0;
    path_ = fs::temp_directory_path() / fmt::format("ds_report_test_{}_{}", getpid(), counter++);
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }
  std::string write(const std::string& name, const std::string& text) const {
    std::ofstream(path_ / name) << text;
    return (path_ / name).string();
  }

 private:
  fs::path path_;
};

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string load_error(const std::string& path) {
  try {
    load_published(path);
  } catch (const ReportError& e) {
    return e.what();
  }
  return "(no error)";
}

PublishedValue value(double v, double se = 0, Relation r = Relation::Approx) {
  PublishedValue p;
  p.id = "x";
  p.quantity = "toy_alpha";
  p.value = v;
  p.se = se;
  p.relation = r;
  return p;
}
Observation ours(double v, double se) {
  Observation o;
  o.quantity = "toy_alpha";
  o.value = v;
  o.se = se;
  return o;
}

}  // namespace

TEST(Published, TheProjectsFileLoadsWithKnownQuantitiesAndSources) {
  const auto values = load_published(DEPTHSCALE_PUBLISHED_VALUES);
  ASSERT_GE(values.size(), 10u);
  std::set<std::string> quantities;
  for (const auto& v : values) {
    EXPECT_FALSE(v.source.empty()) << v.id;
    EXPECT_FALSE(v.claim.empty()) << v.id;
    EXPECT_GT(v.line, 0) << v.id;
    quantities.insert(v.quantity);
  }
  for (const char* q : {"toy_alpha", "toy_theta_slope", "probe_theta_slope", "scaling_alpha_l",
                        "scaling_shapes_slope"})
    EXPECT_TRUE(quantities.count(q)) << q;
}

TEST(Published, ErrorsNameFileLineAndKey) {
  TempDir t;
  const std::string head =
      "values:\n  - id: a\n    quantity: toy_alpha\n    value: 1\n"
      "    claim: c\n    source: s\n";
  std::string p = t.write("unknown.yaml", head + "    colour: red\n");
  EXPECT_NE(load_error(p).find(p + ":7: unknown key 'colour'"), std::string::npos) << load_error(p);
  p = t.write("quantity.yaml",
              "values:\n  - id: a\n    quantity: beta\n    value: 1\n"
              "    claim: c\n    source: s\n");
  EXPECT_NE(load_error(p).find(p + ":3: 'quantity' is 'beta'; expected one of"), std::string::npos)
      << load_error(p);
  p = t.write("number.yaml",
              "values:\n  - id: a\n    quantity: toy_alpha\n    value: one\n"
              "    claim: c\n    source: s\n");
  EXPECT_NE(load_error(p).find(p + ":4: 'value' must be a number, got 'one'"), std::string::npos)
      << load_error(p);
  p = t.write("match.yaml", head + "    match: {rho: 0, loss: l1}\n");
  EXPECT_NE(load_error(p).find("'match.loss' is 'l1'"), std::string::npos) << load_error(p);
  p = t.write("twice.yaml", head +
                                "  - id: a\n    quantity: toy_alpha\n    value: 2\n"
                                "    claim: c\n    source: s\n");
  EXPECT_NE(load_error(p).find(p + ":7: id 'a' appears twice"), std::string::npos) << load_error(p);
  p = t.write("missing.yaml",
              "values:\n  - id: a\n    quantity: toy_alpha\n    claim: c\n"
              "    source: s\n");
  EXPECT_NE(load_error(p).find(p + ":2: entry without 'value'"), std::string::npos)
      << load_error(p);
  EXPECT_NE(load_error((t.path() / "absent.yaml").string()).find("cannot open"), std::string::npos);
}

TEST(Verdict, TwoStandardErrorsOfTheCombinedSe) {
  // SE = √(0.03² + 0.04²) = 0.05: within 0.1 consistent, beyond not.
  EXPECT_EQ(compare(value(1.0, 0.04), ours(1.099, 0.03)).verdict, Verdict::Consistent);
  EXPECT_EQ(compare(value(1.0, 0.04), ours(1.101, 0.03)).verdict, Verdict::NotConsistent);
  EXPECT_EQ(compare(value(1.0, 0.04), ours(0.899, 0.03)).verdict, Verdict::NotConsistent);
  // A claim without an SE is judged on ours alone; with neither, no verdict.
  EXPECT_EQ(compare(value(1.0), ours(1.19, 0.1)).verdict, Verdict::Consistent);
  EXPECT_EQ(compare(value(1.0), ours(1.21, 0.1)).verdict, Verdict::NotConsistent);
  EXPECT_EQ(compare(value(1.0), ours(1.0, NAN)).verdict, Verdict::NoError);
  // A tolerance widens the margin for numbers given without an SE.
  PublishedValue tol = value(0.004);
  tol.tolerance = 0.0005;
  EXPECT_EQ(compare(tol, ours(0.00396, NAN)).verdict, Verdict::Consistent);
  EXPECT_EQ(compare(tol, ours(0.0046, NAN)).verdict, Verdict::NotConsistent);
  // Bounds: cleared by 2 SE or not.
  EXPECT_EQ(compare(value(1.0, 0, Relation::Above), ours(1.5, 0.2)).verdict, Verdict::Consistent);
  EXPECT_EQ(compare(value(1.0, 0, Relation::Above), ours(1.3, 0.2)).verdict,
            Verdict::NotConsistent);
  EXPECT_EQ(compare(value(1.0, 0, Relation::Below), ours(0.5, 0.2)).verdict, Verdict::Consistent);
}

TEST(Verdict, MatchKeysSelectTheResultsAnEntrySpeaksAbout) {
  PublishedValue p = value(1.0);
  p.has_rho = true;
  p.rho = 1;
  p.loss = "kl";
  p.min_steps = 40000;
  Observation o = ours(1.0, 0.1);
  o.rho = 1;
  o.loss = "kl";
  o.steps = 40000;
  EXPECT_TRUE(matches(p, o));
  o.steps = 39999;
  EXPECT_FALSE(matches(p, o));  // a shorter run is not the study's experiment
  o.steps = 80000;
  o.rho = 0;
  EXPECT_FALSE(matches(p, o));
  o.rho = 1;
  o.loss = "mse";
  EXPECT_FALSE(matches(p, o));
  o.loss = "kl";
  o.study_setting = false;  // e.g. a student narrower than its teacher: beyond the study
  EXPECT_FALSE(matches(p, o));
  o.study_setting = true;
  EXPECT_TRUE(matches(p, o));
  o.quantity = "toy_theta_slope";
  EXPECT_FALSE(matches(p, o));
  // Nothing matches: one `not run` row.
  const auto rows = compare_all({p}, {o});
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].verdict, Verdict::NotRun);
  EXPECT_FALSE(rows[0].ours.has_value());
}

// A real sweep file (the store's own writer) of one ρ = 0 group per replicate: test losses
// 2·ℓ^−α + 0.3 with α = 1 and 1.05, so `reduce` must find exactly those and the report
// α = 1.025 ± 0.025 (SEM of two).
TEST(Report, AReportOfARealSweepFileWithKnownExponents) {
  TempDir t;
  const std::string path = (t.path() / "known.h5").string();
  const std::string job =
      "name: known\nkind: toy\nseed: 1\ngrid: {temperature: [1.0], rho: [0.0], depth: [4, 8, "
      "16, 32, 64], teacher: [0, 1]}\nmodel: {width: 8, vocab: 16, teacher_depth: 64}\n"
      "train: {loss: kl, steps: 40000, batch: 64}\nprobe_hidden: {inputs: 4}\n";
  {
    store::SweepHeader header;
    header.job_yaml = job;
    header.effective = job;
    header.git_commit = "abc1234";
    header.version = "test";
    header.torch_version = "none";
    auto sweep = store::SweepFile::create(path, header, false);
    for (int teacher : {0, 1}) {
      for (int depth : {4, 8, 16, 32, 64}) {
        store::TaskResult r;
        r.key = fmt::format("rho0_T1_t{}_d{}", teacher, depth);
        r.params = {{"rho", 0.0},
                    {"temperature", 1.0},
                    {"teacher", double(teacher)},
                    {"depth", double(depth)}};
        r.complete = true;
        r.host = "test";
        r.wall_seconds = 360;
        r.train_loss = {1.0f, 0.5f};
        r.eval_step = {40000};
        const double alpha = 1.0 + 0.05 * teacher;
        r.test_loss = {static_cast<float>(2.0 * std::pow(depth, -alpha) + 0.3)};
        // ⟨θ⟩ of the middle layers exactly 1/ℓ: the θ slope must come out −1.
        r.probe_inputs = 2;
        for (int i = 0; i < 2; ++i)
          for (int l = 0; l < depth; ++l) r.theta.push_back(static_cast<float>(1.0 / depth));
        r.theta_dh.assign(2 * (depth - 1), 0.1f);
        r.norms.assign(2 * (depth + 1), 1.0f);
        sweep.record(r);
      }
    }
  }
  const std::string published = t.write(
      "published.yaml",
      "values:\n"
      "  - {id: one, quantity: toy_alpha, value: 1.0, match: {rho: 0, loss: kl, min_steps: 40000},"
      " claim: ensemble, source: Fig 3b}\n"
      "  - {id: two, quantity: toy_alpha, value: 2.0, se: 0.1, match: {rho: 0}, claim: steep,"
      " source: nowhere}\n"
      "  - {id: tied, quantity: toy_alpha, relation: above, value: 1.0, match: {rho: 1},"
      " claim: tied, source: Fig 3b}\n"
      "  - {id: theta, quantity: toy_theta_slope, value: -1.0, tolerance: 0.001, claim: 1/l,"
      " source: Fig 5b}\n");
  ReportOptions o;
  o.files = {path};
  o.out_dir = (t.path() / "report").string();
  o.published = published;
  const ReportResult r = write_report(o);

  ASSERT_EQ(r.comparisons.size(), 4u);
  EXPECT_EQ(r.comparisons[0].verdict, Verdict::Consistent);
  ASSERT_TRUE(r.comparisons[0].ours.has_value());
  EXPECT_NEAR(r.comparisons[0].ours->value, 1.025, 1e-4);
  EXPECT_NEAR(r.comparisons[0].ours->se, 0.025, 1e-4);
  EXPECT_EQ(r.comparisons[1].verdict, Verdict::NotConsistent);
  EXPECT_EQ(r.comparisons[2].verdict, Verdict::NotRun);
  EXPECT_EQ(r.comparisons[3].verdict, Verdict::Consistent);
  EXPECT_NEAR(r.comparisons[3].ours->value, -1.0, 1e-6);

  const std::string md = slurp(r.document);
  for (const char* s :
       {"## What was run", "`known.h5`", "known (toy)", "40000 steps × batch 64",
        "10 complete, 0 failed of 10", "abc1234", "1.00 h of task time",
        "had no fits: the report ran `depthscale reduce`", "## The study's numbers beside ours",
        "| consistent — Δ = +0.025", "**not consistent**", "not run", "1.025 ± 0.025",
        "SEM over 2 replicates", "## Depth exponents", "**Fig 3a**",
        "![loss_vs_depth](known/loss_vs_depth.png)"})
    EXPECT_NE(md.find(s), std::string::npos) << "missing '" << s << "' in\n" << md;
  // Every figure the document shows is on disk.
  std::size_t at = 0;
  int images = 0;
  while ((at = md.find("](", at)) != std::string::npos) {
    const std::size_t end = md.find(')', at);
    const std::string rel = md.substr(at + 2, end - at - 2);
    EXPECT_TRUE(fs::exists(fs::path(o.out_dir) / rel)) << rel;
    ++images;
    at = end;
  }
  EXPECT_EQ(images, r.figures);
  EXPECT_GE(r.figures, 4);
}

TEST(Report, RefusesNothingAndNamesAnUnreadableFile) {
  TempDir t;
  ReportOptions o;
  o.out_dir = (t.path() / "r").string();
  o.published = DEPTHSCALE_PUBLISHED_VALUES;
  EXPECT_THROW(write_report(o), ReportError);
  o.files = {t.write("not.h5", "plain text")};
  try {
    write_report(o);
    FAIL() << "no error";
  } catch (const ReportError& e) {
    EXPECT_NE(std::string(e.what()).find("not.h5"), std::string::npos) << e.what();
  }
}
