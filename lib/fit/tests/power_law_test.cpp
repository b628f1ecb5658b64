// The depth fit L(ℓ) = c·ℓ^−α + L0: recovery, SE coverage, bad starts, weights, failure messages.
#include <gtest/gtest.h>

#include <cmath>
#include <iostream>
#include <random>

#include "fit/fit.hpp"

namespace depthscale::fit {
namespace {

const std::vector<double> kDepths = {4, 6, 8, 12, 16, 24, 32, 48, 64, 96};

struct Synthetic {
  std::vector<double> depth, loss, sigma;
};

// Two replicates per depth: 20 points, so n − p = 17 and the t quantiles are close to normal.
Synthetic synthetic(double alpha, double c, double L0, double sigma, std::uint64_t seed,
                    double offset = 0.0, bool heteroscedastic = false) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> noise(0.0, 1.0);
  Synthetic s;
  for (int rep = 0; rep < 2; ++rep)
    for (double d : kDepths) {
      const double sd = heteroscedastic ? sigma * (0.3 + 0.1 * d / 8) : sigma;
      s.depth.push_back(d);
      s.sigma.push_back(sd);
      s.loss.push_back(c * std::pow(d - offset, -alpha) + L0 + sd * noise(rng));
    }
  return s;
}

std::vector<double> inverse_variance(const std::vector<double>& sigma) {
  std::vector<double> w;
  for (double s : sigma) w.push_back(1.0 / (s * s));
  return w;
}

TEST(PowerLaw, RecoversNoiselessLaw) {
  const Synthetic s = synthetic(1.3, 2.5, 0.7, 0.0, 1);
  const PowerLawFit f = fit_power_law(s.depth, s.loss);
  ASSERT_TRUE(f.ok()) << f.message;
  EXPECT_EQ(f.message, "ok");
  EXPECT_NEAR(f.alpha, 1.3, 1e-8);
  EXPECT_NEAR(f.c, 2.5, 1e-7);
  EXPECT_NEAR(f.L0, 0.7, 1e-9);
  EXPECT_LT(f.rss, 1e-20);
  EXPECT_EQ(f.n_points, 20);
  EXPECT_EQ(f.n_params, 3);
  EXPECT_NEAR(power_law(16, f.alpha, f.c, f.L0), 2.5 * std::pow(16, -1.3) + 0.7, 1e-9);
}

// Over 200 seeded noisy data sets the true α lies within ±1 SE about 68% of the time and within
// ±2 SE about 95% (t with 17 dof: 66.8% and 93.8%). Run for the default scaled SEs and for
// absolute_sigma with the true 1/σ² weights (normal: 68.3%, 95.4%).
TEST(PowerLaw, StandardErrorCoverage) {
  const double alpha = 0.8, c = 3.0, L0 = 1.0;
  for (bool absolute : {false, true}) {
    int within1 = 0, within2 = 0, within1_L0 = 0;
    const int reps = 200;
    for (int r = 0; r < reps; ++r) {
      const Synthetic s = synthetic(alpha, c, L0, 0.01, 1000 + r, 0.0, absolute);
      PowerLawOptions o;
      o.absolute_sigma = absolute;
      const PowerLawFit f = fit_power_law(
          s.depth, s.loss, absolute ? inverse_variance(s.sigma) : std::vector<double>{}, o);
      ASSERT_TRUE(f.ok()) << f.message;
      within1 += std::abs(f.alpha - alpha) < f.alpha_se;
      within2 += std::abs(f.alpha - alpha) < 2 * f.alpha_se;
      within1_L0 += std::abs(f.L0 - L0) < f.L0_se;
    }
    SCOPED_TRACE(absolute ? "absolute sigma" : "scaled by s^2");
    std::cout << (absolute ? "absolute sigma" : "scaled by s^2") << ": true alpha within 1 SE in "
              << within1 << "/" << reps << ", within 2 SE in " << within2 << "/" << reps
              << "; L0 within 1 SE in " << within1_L0 << "/" << reps << "\n";
    EXPECT_GE(within1, 0.55 * reps);
    EXPECT_LE(within1, 0.80 * reps);
    EXPECT_GE(within2, 0.88 * reps);
    EXPECT_LE(within2, 0.99 * reps);
    EXPECT_GE(within1_L0, 0.55 * reps);
    EXPECT_LE(within1_L0, 0.80 * reps);
  }
}

TEST(PowerLaw, BadStartsReachTheSameOptimum) {
  const Synthetic s = synthetic(1.1, 2.0, 0.5, 0.01, 7);
  const PowerLawFit ref = fit_power_law(s.depth, s.loss);
  ASSERT_TRUE(ref.ok()) << ref.message;
  struct Start {
    double alpha, L0;
  };
  // α = 5 or 8 with L0 far above or below the data, α ≈ 0 (where c and L0 are degenerate).
  for (Start st : {Start{5.0, 100.0}, Start{5.0, -100.0}, Start{0.02, -50.0}, Start{8.0, 0.5}}) {
    PowerLawOptions o;
    o.alpha_starts = {st.alpha};
    o.L0_start = st.L0;
    const PowerLawFit f = fit_power_law(s.depth, s.loss, {}, o);
    SCOPED_TRACE(testing::Message() << "start alpha=" << st.alpha << " L0=" << st.L0);
    ASSERT_TRUE(f.ok()) << f.message;
    EXPECT_NEAR(f.alpha, ref.alpha, 1e-6 * ref.alpha);
    EXPECT_NEAR(f.c, ref.c, 1e-6 * ref.c);
    EXPECT_NEAR(f.L0, ref.L0, 1e-7);
    EXPECT_NEAR(f.rss, ref.rss, 1e-9 * ref.rss);
    EXPECT_NEAR(f.alpha_se, ref.alpha_se, 1e-5 * ref.alpha_se);
  }
}

TEST(PowerLaw, TooFewPointsSaysSo) {
  const std::vector<double> d = {6, 12, 24}, l = {2.0, 1.5, 1.2};
  const PowerLawFit f = fit_power_law(d, l);
  EXPECT_EQ(f.status, FitStatus::kTooFewPoints);
  EXPECT_FALSE(f.ok());
  EXPECT_NE(f.message.find("too few points"), std::string::npos) << f.message;
  EXPECT_NE(f.message.find("at least 4"), std::string::npos) << f.message;
  EXPECT_NE(f.message.find("got 3"), std::string::npos) << f.message;
  // Zero-weight points do not count.
  const PowerLawFit w = fit_power_law({6, 12, 24, 48}, {2.0, 1.5, 1.2, 1.1}, {1, 1, 1, 0});
  EXPECT_EQ(w.status, FitStatus::kTooFewPoints) << w.message;
  // With L0 held fixed two parameters remain and three points suffice.
  PowerLawOptions o;
  o.fixed_L0 = 1.0;
  const PowerLawFit g = fit_power_law(d, l, {}, o);
  EXPECT_TRUE(g.ok()) << g.message;
  EXPECT_EQ(g.n_params, 2);
}

TEST(PowerLaw, RankDeficientCovarianceSaysSo) {
  // Two distinct depths cannot separate three parameters: the fit is exact along a curve.
  const std::vector<double> d = {8, 8, 8, 32, 32, 32}, l = {2.0, 2.01, 1.99, 1.5, 1.49, 1.51};
  const PowerLawFit f = fit_power_law(d, l);
  EXPECT_EQ(f.status, FitStatus::kRankDeficient) << f.message;
  EXPECT_NE(f.message.find("rank deficient"), std::string::npos) << f.message;
  EXPECT_TRUE(std::isnan(f.alpha_se));
}

TEST(PowerLaw, NotConvergedSaysSo) {
  const Synthetic s = synthetic(1.1, 2.0, 0.5, 0.01, 7);
  PowerLawOptions o;
  o.alpha_starts = {5.0};
  o.L0_start = 100.0;
  o.max_iterations = 2;
  const PowerLawFit f = fit_power_law(s.depth, s.loss, {}, o);
  EXPECT_EQ(f.status, FitStatus::kNotConverged) << f.message;
  EXPECT_FALSE(f.converged);
  EXPECT_NE(f.message.find("did not converge"), std::string::npos) << f.message;
}

TEST(PowerLaw, BadInputSaysWhere) {
  EXPECT_EQ(fit_power_law({1, 2, 3, 4}, {1, 2, 3}).status, FitStatus::kBadInput);
  EXPECT_EQ(fit_power_law({1, 2, 3, 4}, {1, 2, 3, 4}, {1, 1}).status, FitStatus::kBadInput);
  const PowerLawFit w = fit_power_law({1, 2, 3, 4}, {4, 3, 2, 1}, {1, -1, 1, 1});
  EXPECT_EQ(w.status, FitStatus::kBadInput);
  EXPECT_NE(w.message.find("point 1"), std::string::npos) << w.message;
  PowerLawOptions o;
  o.depth_offset = 2;
  const PowerLawFit off = fit_power_law({2, 4, 6, 8}, {4, 3, 2, 1}, {}, o);
  EXPECT_EQ(off.status, FitStatus::kBadInput);
  EXPECT_NE(off.message.find("point 0"), std::string::npos) << off.message;
}

TEST(PowerLaw, WeightedFit) {
  const Synthetic s = synthetic(0.9, 2.0, 0.6, 0.01, 11, 0.0, /*heteroscedastic=*/true);
  const std::vector<double> w = inverse_variance(s.sigma);
  const PowerLawFit f = fit_power_law(s.depth, s.loss, w);
  ASSERT_TRUE(f.ok()) << f.message;
  EXPECT_NEAR(f.alpha, 0.9, 4 * f.alpha_se);

  // A wild point with negligible weight changes nothing.
  std::vector<double> d2 = s.depth, l2 = s.loss, w2 = w;
  d2.push_back(10);
  l2.push_back(50.0);
  w2.push_back(1e-14);
  const PowerLawFit g = fit_power_law(d2, l2, w2);
  ASSERT_TRUE(g.ok()) << g.message;
  EXPECT_NEAR(g.alpha, f.alpha, 1e-6);
  EXPECT_NEAR(g.L0, f.L0, 1e-7);
  // ... while unweighted it drags the fit away.
  const PowerLawFit u = fit_power_law(d2, l2);
  EXPECT_GT(std::abs(u.alpha - f.alpha), 0.05);

  // Weights are relative by default: scaling them all leaves values and SEs unchanged; with
  // absolute_sigma the SEs scale as 1/√(weight factor).
  std::vector<double> w10 = w;
  for (double& x : w10) x *= 10;
  const PowerLawFit h = fit_power_law(s.depth, s.loss, w10);
  EXPECT_NEAR(h.alpha, f.alpha, 1e-8);
  EXPECT_NEAR(h.alpha_se, f.alpha_se, 1e-6 * f.alpha_se);
  PowerLawOptions abs;
  abs.absolute_sigma = true;
  const PowerLawFit a1 = fit_power_law(s.depth, s.loss, w, abs);
  const PowerLawFit a10 = fit_power_law(s.depth, s.loss, w10, abs);
  EXPECT_NEAR(a10.alpha_se * std::sqrt(10.0), a1.alpha_se, 1e-6 * a1.alpha_se);
  // With the true σ, reduced χ² ≈ 1 so the two SE conventions roughly agree.
  EXPECT_NEAR(a1.alpha_se / f.alpha_se, 1.0, 0.5);
}

TEST(PowerLaw, DepthOffsetAndFixedL0) {
  const Synthetic s = synthetic(1.5, 4.0, 0.9, 0.0, 3, /*offset=*/2.0);
  PowerLawOptions o;
  o.depth_offset = 2.0;
  const PowerLawFit f = fit_power_law(s.depth, s.loss, {}, o);
  ASSERT_TRUE(f.ok()) << f.message;
  EXPECT_NEAR(f.alpha, 1.5, 1e-7);
  EXPECT_NEAR(f.c, 4.0, 1e-6);
  // The same data without the offset is a different (worse) law.
  const PowerLawFit g = fit_power_law(s.depth, s.loss);
  EXPECT_GT(g.rss, 1e-8);

  const Synthetic t = synthetic(0.7, 1.5, 0.3, 0.005, 5);
  PowerLawOptions fixed;
  fixed.fixed_L0 = 0.3;
  const PowerLawFit h = fit_power_law(t.depth, t.loss, {}, fixed);
  ASSERT_TRUE(h.ok()) << h.message;
  EXPECT_EQ(h.L0, 0.3);
  EXPECT_EQ(h.L0_se, 0.0);
  EXPECT_NEAR(h.alpha, 0.7, 4 * h.alpha_se);
  // Knowing L0 makes α better determined than fitting it.
  const PowerLawFit free = fit_power_law(t.depth, t.loss);
  EXPECT_LT(h.alpha_se, free.alpha_se);
}

TEST(MeanSe, MeanAndStandardErrorOfTheMean) {
  const MeanSe m = mean_se({1, 2, 3, 4});
  EXPECT_EQ(m.n, 4);
  EXPECT_DOUBLE_EQ(m.mean, 2.5);
  EXPECT_NEAR(m.se, std::sqrt(5.0 / 3.0) / 2.0, 1e-15);  // sd (n − 1) = √(5/3)
  const MeanSe nan = mean_se({1, kNaN, 3});
  EXPECT_EQ(nan.n, 2);
  EXPECT_DOUBLE_EQ(nan.mean, 2.0);
  EXPECT_DOUBLE_EQ(nan.se, 1.0);
  const MeanSe one = mean_se({7});
  EXPECT_DOUBLE_EQ(one.mean, 7);
  EXPECT_TRUE(std::isnan(one.se));
  EXPECT_EQ(mean_se({}).n, 0);
}

}  // namespace
}  // namespace depthscale::fit
