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

TEST(LiveView, DroppedTargetsGroupedByRule) {
  Json dropped = Json::parse(R"J({"a": [{"target": "10.0.0.1:80", "reason": "relabel_configs[0] keep [__meta_kubernetes_service_label_app]: \"db\" does not match \"web\""},
                                     {"target": "10.0.0.2:80", "reason": "relabel_configs[0] keep [__meta_kubernetes_service_label_app]: \"cache\" does not match \"web\""}],
                              "b": {"targets": [{"target": "t", "reason": "no __address__ left after relabel_configs (Prometheus cannot scrape it)"}], "_more": 4}})J");
  auto v = parseLive("ns/x", kJobs, kTargets, Json::object(), "svc", dropped);
  ASSERT_TRUE(v.dropped.has_value());
  EXPECT_EQ(v.droppedPerJob.at("a"), 2u);
  EXPECT_EQ(v.droppedPerJob.at("b"), 5u) << "the listed one and the 4 beyond the allocator's limit";
  std::string text = renderLive(v, false);
  EXPECT_NE(text.find("Dropped by relabeling: 7\n"), std::string::npos) << text;
  EXPECT_NE(text.find("  a: 2\n    2 × relabel_configs[0] keep [__meta_kubernetes_service_label_app] (e.g. 10.0.0.1:80: "), std::string::npos) << text;
  EXPECT_NE(text.find("  b: 5\n    1 × no __address__ left after relabel_configs"), std::string::npos) << text;
  EXPECT_EQ(text.find("10.0.0.2:80"), std::string::npos) << "one example per rule unless wide";
  EXPECT_NE(renderLive(v, true).find("a 10.0.0.2:80: relabel_configs[0]"), std::string::npos);
  auto onlyB = filterLive(v, "b", "");
  EXPECT_EQ(onlyB.dropped->size(), 1u);
  EXPECT_EQ(liveJson(onlyB)["droppedPerJob"]["b"], 5);
  EXPECT_NE(renderLive(parseLive("ns/x", kJobs, kTargets, Json::object(), "svc", Json::object()), false).find("Dropped by relabeling: none."),
            std::string::npos);
  EXPECT_TRUE(liveJson(parseLive("ns/x", kJobs, kTargets, Json::object(), "svc"))["dropped"].is_null()) << "upstream's allocator";
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
