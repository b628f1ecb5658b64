#include <gtest/gtest.h>

#include <thread>

#include "log/log.hpp"

using namespace depthscale;

TEST(Log, LinesCarryRankAndHost) {
  log::init(3, "nodeA");
  auto sink = log::make_memory_sink();
  sink->set_pattern("[rank 3@nodeA] %v");  // the memory sink keeps its own pattern
  spdlog::default_logger()->sinks().push_back(sink);
  spdlog::info("hello {}", 42);
  auto got = log::lines(*sink);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0], "[rank 3@nodeA] hello 42");
}

TEST(Log, ProgressReportsDoneTotalRateEta) {
  log::init(0, "h");
  auto sink = log::make_memory_sink();
  log::add_sink(sink);
  log::Progress p("unit 7", 100, "steps", std::chrono::milliseconds(0));
  p.update(0);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_TRUE(p.update(50));
  EXPECT_TRUE(p.update(100));
  auto got = log::lines(*sink);
  ASSERT_GE(got.size(), 2u);
  EXPECT_NE(got[got.size() - 2].find("unit 7: 50/100 steps (50.0%)"), std::string::npos);
  EXPECT_NE(got[got.size() - 2].find("ETA"), std::string::npos);
  EXPECT_NE(got.back().find("ETA done"), std::string::npos);
}

TEST(Log, ProgressThrottles) {
  log::init(0, "h");
  log::Progress p("x", 10, "steps", std::chrono::seconds(3600));
  p.update(0);
  EXPECT_FALSE(p.update(5));
  EXPECT_TRUE(p.update(10));  // the last one always logs
}

TEST(Log, HumanSeconds) {
  EXPECT_EQ(log::Progress::human_seconds(30), "30 s");
  EXPECT_EQ(log::Progress::human_seconds(600), "10.0 min");
  EXPECT_EQ(log::Progress::human_seconds(7200), "2.0 h");
}
