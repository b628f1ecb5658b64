#include <gtest/gtest.h>

#include <regex>
#include <thread>

#include "log/log.hpp"

using namespace depthscale;

TEST(Log, LinesCarryRankAndHostInAShortPrefix) {
  log::init(3, "node17");
  auto sink = log::make_memory_sink();
  sink->set_pattern(log::line_pattern(3, "node17"));  // what init gives the stderr sink
  spdlog::default_logger()->sinks().push_back(sink);
  spdlog::warn("hello {}", 42);
  spdlog::info("plain");
  auto got = log::lines(*sink);
  ASSERT_EQ(got.size(), 2u);
  const std::regex line(R"(^\d\d-\d\d \d\d:\d\d:\d\d (W|I) r3@node17 (hello 42|plain)$)");
  EXPECT_TRUE(std::regex_match(got[0], line)) << got[0];
  EXPECT_TRUE(std::regex_match(got[1], line)) << got[1];
  EXPECT_EQ(got[0].substr(15, 1), "W");
  // The prefix leaves most of an 80-column line to the message (it was 45 characters).
  EXPECT_LE(got[1].size() - std::string("plain").size(), 28u);
  // Not under MPI: the host alone.
  sink->set_pattern(log::line_pattern(-1, "laptop"));
  spdlog::info("x");
  EXPECT_EQ(log::lines(*sink).back().substr(14), " I laptop x");
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
