// The collector watcher against the test API server: the first pod list is applied at once, later changes
// at most once per minInterval (a burst of pod events is held, not applied one by one).
#include <gtest/gtest.h>

#include <thread>

#include "lib/core/time.h"
#include "lib/kube/client.h"
#include "lib/kube/kubeconfig.h"
#include "lib/targetallocator/collector_watch.h"
#include "tests/support/api_server.h"
#include "tests/support/shell.h"

namespace otel::targetallocator {
namespace {

Json pod(const std::string& name) {
  std::string now = formatRfc3339(std::chrono::system_clock::now());
  return {{"apiVersion", "v1"}, {"kind", "Pod"},
          {"metadata", {{"name", name}, {"namespace", "default"}, {"labels", {{"app", "col"}}}}},
          {"spec", {{"nodeName", "n1"}, {"containers", Json::array({{{"name", "c"}, {"image", "i"}}})}}},
          {"status", {{"phase", "Running"}, {"startTime", now},
                      {"conditions", Json::array({{{"type", "Ready"}, {"status", "True"}, {"lastTransitionTime", now}}})}}}};
}

TEST(CollectorWatcher, ChangesAfterTheFirstAreHeldForMinInterval) {
  testing::TestApiServer api;
  std::string dir = clitest::tempDir("collector-watch");
  api.writeKubeconfig(dir + "/kubeconfig");
  kube::LoadOptions lo;
  lo.kubeconfig = dir + "/kubeconfig";
  kube::Client client(kube::loadRestConfig(lo));
  api.putObject(pod("col-a"));
  std::mutex mu;
  std::vector<std::vector<allocation::Collector>> applied;
  CollectorWatchOptions o;
  o.ns = "default";
  o.labelSelector = "app=col";
  o.minInterval = std::chrono::hours(1);
  CollectorWatcher w(client, o, [&](std::vector<allocation::Collector> cs) {
    std::lock_guard lock(mu);
    applied.push_back(std::move(cs));
  });
  std::jthread t([&w](std::stop_token st) { w.run(st); });
  ASSERT_TRUE(clitest::eventually([&] { return w.synced(); }));
  {
    std::lock_guard lock(mu);
    ASSERT_EQ(applied.size(), 1u);
    ASSERT_EQ(applied[0].size(), 1u);
    EXPECT_EQ(applied[0][0].name, "col-a");
    EXPECT_EQ(applied[0][0].node, "n1");
  }
  api.putObject(pod("col-b"));
  ASSERT_TRUE(clitest::eventually([&] { return w.holding(); }));
  api.putObject(pod("col-c"));
  api.deleteObject("v1", "pods", "default", "col-a");
  EXPECT_TRUE(w.holding());
  EXPECT_EQ(w.applies(), 1);
  t.request_stop();
  t.join();
  std::lock_guard lock(mu);
  EXPECT_EQ(applied.size(), 1u) << "a held change is not applied on the way out";
}

TEST(CollectorWatcher, WithoutIntervalEachChangeIsAppliedAndSelectorRestrictsTheWatch) {
  testing::TestApiServer api;
  std::string dir = clitest::tempDir("collector-watch-0");
  api.writeKubeconfig(dir + "/kubeconfig");
  kube::LoadOptions lo;
  lo.kubeconfig = dir + "/kubeconfig";
  kube::Client client(kube::loadRestConfig(lo));
  Json other = pod("other");
  other["metadata"]["labels"]["app"] = "web";
  api.putObject(other);
  std::mutex mu;
  std::vector<allocation::Collector> last;
  CollectorWatchOptions o;
  o.ns = "default";
  o.labelSelector = "app=col";
  o.minInterval = std::chrono::milliseconds(0);
  CollectorWatcher w(client, o, [&](std::vector<allocation::Collector> cs) {
    std::lock_guard lock(mu);
    last = std::move(cs);
  });
  std::jthread t([&w](std::stop_token st) { w.run(st); });
  ASSERT_TRUE(clitest::eventually([&] { return w.synced(); }));
  api.putObject(pod("col-a"));
  ASSERT_TRUE(clitest::eventually([&] {
    std::lock_guard lock(mu);
    return last.size() == 1 && last[0].name == "col-a";
  }));
  Json notReady = pod("col-a");
  notReady["spec"].erase("nodeName");  // unscheduled again: not a collector
  api.putObject(notReady);
  EXPECT_TRUE(clitest::eventually([&] {
    std::lock_guard lock(mu);
    return last.empty();
  }));
  EXPECT_EQ(w.applies(), 3);
}

}  // namespace
}  // namespace otel::targetallocator
