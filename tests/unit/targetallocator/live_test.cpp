// The live view of `kubectl otel allocations NAME`, from the allocator's JSON answers.
#include <gtest/gtest.h>

#include "lib/core/error.h"
#include "lib/targetallocator/live.h"

namespace otel::targetallocator {
namespace {

const Json kJobs = Json::parse(R"({"b": {"_link": "/jobs/b/targets"}, "a": {"_link": "/jobs/a/targets"}})");
const std::map<std::string, Json> kTargets = {
    {"a", Json::parse(R"({"c1": {"_link": "x", "targets": [{"targets": ["t2"], "labels": {}}, {"targets": ["t1"], "labels": {}}]},
                          "c2": {"_link": "x", "targets": []}})")},
    {"b", Json::parse(R"({"c1": {"_link": "x", "targets": []}, "c2": {"_link": "x", "targets": [{"targets": ["t3"]}]}})")}};

TEST(LiveView, SummarisesPerCollectorAndJob) {
  auto v = parseLive("ns/x-targetallocator", kJobs, kTargets, Json::parse(R"({"a": [{"target": "t9", "reason": "r"}]})"), "svc");
  ASSERT_EQ(v.collectors.size(), 2u);
  EXPECT_EQ(v.jobs, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(v.collectors[0].targets["a"], (std::vector<std::string>{"t1", "t2"}));
  EXPECT_EQ(v.collectors[0].total(), 2u);
  EXPECT_EQ(v.collectors[1].total(), 1u);
  EXPECT_DOUBLE_EQ(liveSpread(v), 2.0 / 1.5);
  std::string text = renderLive(v, false);
  EXPECT_NE(text.find("2 collectors, 3 assigned targets in 2 jobs, spread (max/mean) 1.33"), std::string::npos) << text;
  EXPECT_NE(text.find("  a t9: r\n"), std::string::npos) << text;
  EXPECT_EQ(text.find("t1"), std::string::npos) << "targets only in wide";
  EXPECT_NE(renderLive(v, true).find("t1"), std::string::npos);
  Json j = liveJson(filterLive(v, "b", "c2"));
  EXPECT_EQ(j["collectors"].size(), 1u);
  EXPECT_EQ(j["collectors"][0]["jobs"], Json::parse(R"({"b": ["t3"]})"));
  EXPECT_TRUE(j["unassigned"].empty());
}

TEST(LiveView, UpstreamAllocatorWithoutUnassignedAndBadShapes) {
  auto v = parseLive("ns/x", kJobs, kTargets, Json(), "svc");
  EXPECT_FALSE(v.unassigned.has_value());
  EXPECT_NE(renderLive(v, false).find("not reported by this allocator"), std::string::npos);
  EXPECT_TRUE(liveJson(v)["unassigned"].is_null());
  EXPECT_THROW(parseLive("ns/x", Json::array(), {}, Json(), "svc"), Error);
  EXPECT_THROW(parseLive("ns/x", kJobs, {{"a", Json::array()}}, Json(), "svc"), Error);
  auto empty = parseLive("ns/x", Json::object(), {}, Json::object(), "svc");
  EXPECT_NE(renderLive(empty, false).find("No collectors"), std::string::npos);
  EXPECT_EQ(liveSpread(empty), 0);
}

}  // namespace
}  // namespace otel::targetallocator
