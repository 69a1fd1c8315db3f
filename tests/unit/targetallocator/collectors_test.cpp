// Collector discovery's pure rules (upstream's internal/collector): which pods count as collectors,
// and the collector_selector as the label selector the pod watch sends.
#include <gtest/gtest.h>

#include "lib/core/error.h"
#include "lib/core/time.h"
#include "lib/core/yaml.h"
#include "lib/kube/selector.h"
#include "lib/targetallocator/collectors.h"
#include "lib/targetallocator/config.h"

namespace otel::targetallocator {
namespace {

using std::chrono::hours;
using std::chrono::seconds;
const auto kNow = *parseRfc3339("2026-12-03T12:00:00Z");
const std::chrono::milliseconds kGrace = seconds(30);

Json pod(const std::string& name, const std::string& node, const std::string& phase, const std::string& ready,
         std::chrono::system_clock::duration age) {
  std::string t = formatRfc3339(kNow - age);
  Json p = {{"metadata", {{"name", name}, {"managedFields", Json::array({1})}, {"labels", {{"a", "b"}}}}},
            {"spec", {{"containers", Json::array()}}},
            {"status", {{"phase", phase}, {"startTime", t}, {"hostIP", "10.0.0.1"},
                        {"conditions", Json::array({{{"type", "Initialized"}, {"status", "True"}},
                                                    {{"type", "Ready"}, {"status", ready}, {"lastTransitionTime", t}}})}}}};
  if (!node.empty()) p["spec"]["nodeName"] = node;
  return p;
}

TEST(CollectorPods, UpstreamUsabilityRules) {
  EXPECT_TRUE(collectorPodUsable(pod("a", "n1", "Running", "True", hours(1)), kGrace, kNow));
  EXPECT_FALSE(collectorPodUsable(pod("a", "", "Running", "True", hours(1)), kGrace, kNow)) << "not scheduled";
  EXPECT_TRUE(collectorPodUsable(pod("a", "n1", "Running", "False", seconds(10)), kGrace, kNow)) << "within the grace";
  EXPECT_FALSE(collectorPodUsable(pod("a", "n1", "Running", "False", seconds(31)), kGrace, kNow)) << "beyond the grace";
  EXPECT_TRUE(collectorPodUsable(pod("a", "n1", "Pending", "False", seconds(5)), kGrace, kNow)) << "just started";
  EXPECT_FALSE(collectorPodUsable(pod("a", "n1", "Pending", "True", hours(1)), kGrace, kNow)) << "not running for long";
  EXPECT_TRUE(collectorPodUsable(pod("a", "n1", "Pending", "False", hours(1)), std::chrono::milliseconds(0), kNow))
      << "grace 0: every scheduled pod";
  Json noConditions = pod("a", "n1", "Running", "True", hours(1));
  noConditions["status"].erase("conditions");
  EXPECT_FALSE(collectorPodUsable(noConditions, kGrace, kNow)) << "Ready unknown";
}

TEST(CollectorPods, SortedByNameWithNodes) {
  auto cs = usableCollectors({pod("c", "n3", "Running", "True", hours(1)), pod("a", "n1", "Running", "True", hours(1)),
                              pod("b", "", "Running", "True", hours(1))},
                             kGrace, kNow);
  ASSERT_EQ(cs.size(), 2u);
  EXPECT_EQ(cs[0].name, "a");
  EXPECT_EQ(cs[0].node, "n1");
  EXPECT_EQ(cs[1].name, "c");
  EXPECT_TRUE(sameCollectors(cs, {{"a", "n1"}, {"c", "n3"}}));
  EXPECT_FALSE(sameCollectors(cs, {{"a", "n1"}, {"c", "n4"}})) << "a node change is a change (per-node)";
  EXPECT_FALSE(sameCollectors(cs, {{"a", "n1"}}));
}

TEST(CollectorPods, TrimKeepsWhatTheRulesRead) {
  Json p = pod("a", "n1", "Running", "False", seconds(10));
  Json t = p;
  trimCollectorPod(t);
  EXPECT_FALSE(t["metadata"].contains("managedFields"));
  EXPECT_FALSE(t["status"].contains("hostIP"));
  EXPECT_EQ(t["status"]["conditions"].size(), 1u);
  EXPECT_EQ(collectorPodUsable(t, kGrace, kNow), collectorPodUsable(p, kGrace, kNow));
  EXPECT_EQ(collectorPodUsable(t, kGrace, kNow + seconds(60)), collectorPodUsable(p, kGrace, kNow + seconds(60)));
}

TEST(CollectorSelector, QueryFormOfBothSpellings) {
  EXPECT_EQ(kube::labelSelectorQuery(Json(), "f"), "");
  EXPECT_EQ(kube::labelSelectorQuery(Json::object(), "f"), "");
  EXPECT_EQ(kube::labelSelectorQuery(parseYaml("matchlabels: {b: '2', a: '1'}\nmatchexpressions: []\n", "f"), "f"), "a=1,b=2");
  EXPECT_EQ(kube::labelSelectorQuery(
                parseYaml("matchLabels: {app: c}\nmatchExpressions:\n- {key: tier, operator: In, values: [x, w]}\n"
                          "- {key: zone, operator: NotIn, values: [z]}\n- {key: has, operator: Exists}\n"
                          "- {key: bad, operator: DoesNotExist}\n",
                          "f"),
                "f"),
            "app=c,!bad,has,tier in (x,w),zone notin (z)");
  auto err = [](const std::string& y) {
    try {
      kube::labelSelectorQuery(parseYaml(y, "f"), "ta.yaml: collector_selector");
    } catch (const Error& e) {
      return e.oneLine();
    }
    return std::string("no error");
  };
  EXPECT_EQ(err("matchExpressions: [{key: a, operator: In}]"),
            "ta.yaml: collector_selector: matchExpressions.a: for 'in', 'notin' operators, values set can't be empty");
  EXPECT_EQ(err("matchExpressions: [{key: a, operator: Exists, values: [x]}]"),
            "ta.yaml: collector_selector: matchExpressions.a: values set must be empty for exists and does not exist");
  EXPECT_EQ(err("matchLabels: [a]"), "ta.yaml: collector_selector: matchLabels must be a mapping");
}

TEST(CollectorSelector, ConfigKeepsTheQueryAndKubeconfigPath) {
  Config c = parseConfig(parseYaml("collector_namespace: obs\ncollector_selector: {matchlabels: {app: c}}\n"
                                   "kube_config_file_path: /k\nconfig: {scrape_configs: [{job_name: a}]}\n",
                                   "ta.yaml"),
                         "ta.yaml");
  EXPECT_EQ(c.collectorLabelSelector, "app=c");
  EXPECT_EQ(c.kubeconfigPath, "/k");
  EXPECT_NO_THROW(validate(c));
}

}  // namespace
}  // namespace otel::targetallocator
