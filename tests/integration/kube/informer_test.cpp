// Informer under injected faults (dropped watches, 410, 500s), resync, indexers; leader election on a Lease.
#include <gtest/gtest.h>

#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>

#include "lib/kube/informer.h"
#include "lib/kube/leader_election.h"
#include "tests/integration/kube/fixture.h"
#include "tests/support/shell.h"

using namespace kubetest;
using otel::Json;
using otel::kube::Client;
using otel::kube::Informer;

namespace {

// Records every handler call; checks per-key ordering as events arrive.
struct Recorder {
  std::mutex mu;
  std::condition_variable cv;
  std::map<std::string, std::vector<std::pair<char, long>>> byKey;  // 'A' 'U' 'D', resourceVersion
  std::vector<std::string> violations;
  int resyncs = 0;

  static long rvOf(const Json& o) { return std::stol(o["metadata"]["resourceVersion"].get<std::string>()); }
  void record(char type, const Json& o) {
    std::lock_guard lock(mu);
    std::string key = Informer::keyOf(o);
    long rv = rvOf(o);
    auto& seq = byKey[key];
    if (!seq.empty()) {
      auto [lastType, lastRv] = seq.back();
      bool ok = type == 'D' ? rv >= lastRv && lastType != 'D' : rv > lastRv;
      if (type == 'A' && lastType != 'D') ok = false;  // an add must follow a delete
      if (type == 'U' && lastType == 'D') ok = false;
      if (!ok)
        violations.push_back(key + ": " + std::string(1, type) + "@" + std::to_string(rv) + " after " +
                             std::string(1, lastType) + "@" + std::to_string(lastRv));
    } else if (type != 'A') {
      violations.push_back(key + ": first event is " + std::string(1, type));
    }
    seq.emplace_back(type, rv);
    cv.notify_all();
  }
  otel::kube::EventHandlers handlers() {
    return {[this](const Json& o) { record('A', o); },
            [this](const Json& oldO, const Json& newO) {
              if (oldO == newO) {
                std::lock_guard lock(mu);
                ++resyncs;
                cv.notify_all();
                return;
              }
              record('U', newO);
            },
            [this](const Json& o) { record('D', o); }};
  }
};

// name -> resourceVersion of the server's configmaps in `ns`.
std::map<std::string, std::string> serverState(const otel::testing::TestApiServer& s, const std::string& ns) {
  std::map<std::string, std::string> out;
  for (auto& o : s.listObjects("v1", "configmaps", ns))
    out[ns + "/" + o["metadata"]["name"].get<std::string>()] = o["metadata"]["resourceVersion"];
  return out;
}

std::map<std::string, std::string> cacheState(const Informer& inf) {
  std::map<std::string, std::string> out;
  for (auto& o : inf.list()) out[Informer::keyOf(o)] = o["metadata"]["resourceVersion"];
  return out;
}

otel::kube::InformerOptions fastOptions(const std::string& ns, bool compact = false) {
  otel::kube::InformerOptions o;
  o.ns = ns;
  o.compact = compact;
  o.initialBackoff = std::chrono::milliseconds(5);
  o.maxBackoff = std::chrono::milliseconds(50);
  o.watchTimeoutSeconds = 30;
  return o;
}

// The cache's behaviour, with objects held as JSON trees (false) and as MessagePack (true, compact).
class InformerCache : public ::testing::TestWithParam<bool> {};

}  // namespace

TEST_P(InformerCache, CacheConvergesUnderFaultsWithOrderedEvents) {
  otel::testing::TestApiServer server;
  TempDir dir;
  Client client(configFor(server, dir));
  for (int i = 0; i < 5; ++i) server.putObject(configMap("default", "pre-" + std::to_string(i), {{"v", "0"}}));
  Recorder rec;
  Informer inf(client, kConfigMaps, fastOptions("default", GetParam()));
  inf.addHandlers(rec.handlers());
  std::jthread runner([&](std::stop_token st) { inf.run(st); });
  ASSERT_TRUE(inf.waitForSync(std::chrono::seconds(10)));
  ASSERT_TRUE(server.waitForWatches(1));

  auto writeRound = [&](int round) {
    for (int i = 0; i < 6; ++i) {
      std::string name = "obj-" + std::to_string(i);
      if ((round + i) % 4 == 3) {
        server.deleteObject("v1", "configmaps", "default", name);
      } else {
        server.putObject(configMap("default", name, {{"round", std::to_string(round)}}));
      }
    }
    server.deleteObject("v1", "configmaps", "default", "pre-" + std::to_string(round % 5));
  };
  for (int round = 0; round < 12; ++round) {
    writeRound(round);
    switch (round % 4) {
      case 0:
        server.closeWatches();  // dropped watch: resume from the last resourceVersion
        break;
      case 1:
        server.forgetHistory();  // the resume gets 410: relist with diffing
        writeRound(100 + round);  // changes the relist must pick up
        server.closeWatches();
        break;
      case 2:
        server.failNext(3, 500);  // errors while re-watching: backoff and retry
        server.closeWatches();
        break;
      default:
        break;
    }
  }
  // Bounded wait until the cache equals the server's state.
  {
    std::unique_lock lock(rec.mu);
    bool converged = rec.cv.wait_for(lock, std::chrono::seconds(20), [&] {
      return cacheState(inf) == serverState(server, "default");
    });
    EXPECT_TRUE(converged);
  }
  runner.request_stop();
  runner.join();
  EXPECT_EQ(cacheState(inf), serverState(server, "default"));
  EXPECT_TRUE(rec.violations.empty()) << rec.violations.front();
  EXPECT_GE(inf.relists(), 2);
  // No event lost: the last event of every key matches the server (present with its RV, or deleted).
  auto state = serverState(server, "default");
  for (auto& [key, seq] : rec.byKey) {
    auto it = state.find(key);
    if (it == state.end()) {
      EXPECT_EQ(seq.back().first, 'D') << key;
    } else {
      EXPECT_NE(seq.back().first, 'D') << key;
      EXPECT_EQ(std::to_string(seq.back().second), it->second) << key;
    }
  }
  for (auto& [key, rv] : state) EXPECT_TRUE(rec.byKey.count(key)) << key;
}

TEST_P(InformerCache, IndexersAndResync) {
  otel::testing::TestApiServer server;
  TempDir dir;
  Client client(configFor(server, dir));
  server.putObject(configMap("default", "a", {}, {{"app", "x"}}));
  server.putObject(configMap("default", "b", {}, {{"app", "x"}}));
  server.putObject(configMap("default", "c", {}, {{"app", "y"}}));
  auto opts = fastOptions("default", GetParam());
  opts.resyncPeriod = std::chrono::milliseconds(20);
  Informer inf(client, kConfigMaps, opts);
  inf.addIndexer("app", [](const Json& o) -> std::vector<std::string> {
    if (o["metadata"].contains("labels") && o["metadata"]["labels"].contains("app"))
      return {o["metadata"]["labels"]["app"].get<std::string>()};
    return {};
  });
  Recorder rec;
  inf.addHandlers(rec.handlers());
  std::jthread runner([&](std::stop_token st) { inf.run(st); });
  ASSERT_TRUE(inf.waitForSync(std::chrono::seconds(10)));
  EXPECT_EQ(inf.byIndex("app", "x").size(), 2u);
  EXPECT_EQ(inf.byIndex("app", "y").size(), 1u);
  {
    std::unique_lock lock(rec.mu);
    EXPECT_TRUE(rec.cv.wait_for(lock, std::chrono::seconds(10), [&] { return rec.resyncs >= 6; }));
  }
  // A label change moves the object between index values.
  server.putObject(configMap("default", "a", {}, {{"app", "y"}}));
  {
    std::unique_lock lock(rec.mu);
    EXPECT_TRUE(rec.cv.wait_for(lock, std::chrono::seconds(10), [&] { return rec.byKey["default/a"].size() >= 2; }));
  }
  EXPECT_EQ(inf.byIndex("app", "x").size(), 1u);
  EXPECT_EQ(inf.byIndex("app", "y").size(), 2u);
  EXPECT_TRUE(inf.get("default", "a").has_value());
  EXPECT_FALSE(inf.get("default", "zzz").has_value());
}

// The transform runs on listed, watched and locally written objects before they are cached.
TEST_P(InformerCache, TransformStripsManagedFieldsFromEveryPath) {
  otel::testing::TestApiServer server;
  TempDir dir;
  Client client(configFor(server, dir));
  otel::kube::PatchOptions po;
  po.fieldManager = "t";
  client.apply(configMap("default", "listed", {{"v", "1"}}), po);  // server-side apply records managedFields
  auto opts = fastOptions("default", GetParam());
  opts.transform = otel::kube::stripManagedFields;
  Informer inf(client, kConfigMaps, opts);
  std::jthread runner([&](std::stop_token st) { inf.run(st); });
  ASSERT_TRUE(inf.waitForSync(std::chrono::seconds(10)));
  ASSERT_TRUE(server.waitForWatches(1));
  ASSERT_TRUE(client.get(kConfigMaps, "default", "listed")["metadata"].contains("managedFields"));
  client.apply(configMap("default", "watched", {{"v", "1"}}), po);
  ASSERT_TRUE(otel::clitest::eventually([&] { return inf.get("default", "watched").has_value(); }));
  Json written = client.apply(configMap("default", "local", {{"v", "1"}}), po);
  ASSERT_TRUE(written["metadata"].contains("managedFields"));
  otel::kube::WatchEvent ev;
  ev.type = otel::kube::EventType::Added;
  ev.object = written;
  inf.applyLocalWrite(std::move(ev));
  for (const char* n : {"listed", "watched", "local"}) {
    auto o = inf.get("default", n);
    ASSERT_TRUE(o.has_value()) << n;
    EXPECT_FALSE((*o)["metadata"].contains("managedFields")) << n;
  }
}

// A local write never takes the cache back in time, and a delete of an older version is ignored.
TEST_P(InformerCache, LocalWritesOnlyMoveForward) {
  otel::testing::TestApiServer server;
  TempDir dir;
  Client client(configFor(server, dir));
  Informer inf(client, kConfigMaps, fastOptions("default", GetParam()));
  std::jthread runner([&](std::stop_token st) { inf.run(st); });
  ASSERT_TRUE(inf.waitForSync(std::chrono::seconds(10)));
  Json v1 = server.putObject(configMap("default", "x", {{"v", "1"}}));
  Json v2 = server.putObject(configMap("default", "x", {{"v", "2"}}));
  ASSERT_TRUE(otel::clitest::eventually([&] {
    auto o = inf.get("default", "x");
    return o && (*o)["data"]["v"] == "2";
  }));
  otel::kube::WatchEvent stale;
  stale.type = otel::kube::EventType::Modified;
  stale.object = v1;
  EXPECT_FALSE(inf.applyLocalWrite(std::move(stale)));
  otel::kube::WatchEvent staleDelete;
  staleDelete.type = otel::kube::EventType::Deleted;
  staleDelete.object = v1;
  EXPECT_FALSE(inf.applyLocalWrite(std::move(staleDelete)));
  EXPECT_EQ((*inf.get("default", "x"))["data"]["v"], "2");
  (void)v2;
}

TEST(LeaderElection, AcquireHoldReleaseAndTakeOver) {
  otel::testing::TestApiServer server;
  TempDir dir;
  Client client(configFor(server, dir));
  auto base = [&](const std::string& id) {
    otel::kube::LeaderElectionConfig c;
    c.ns = "default";
    c.name = "kubectl-otel-leader";
    c.identity = id;
    c.leaseDuration = std::chrono::milliseconds(3000);
    c.renewDeadline = std::chrono::milliseconds(2000);
    c.retryPeriod = std::chrono::milliseconds(50);
    return c;
  };
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::string> log;
  auto note = [&](const std::string& s) {
    std::lock_guard lock(mu);
    log.push_back(s);
    cv.notify_all();
  };
  auto waitFor = [&](const std::string& s) {
    std::unique_lock lock(mu);
    return cv.wait_for(lock, std::chrono::seconds(10),
                       [&] { return std::find(log.begin(), log.end(), s) != log.end(); });
  };
  auto ca = base("a");
  ca.onStartedLeading = [&](std::stop_token st) {
    note("a-leading");
    std::mutex m;
    std::condition_variable_any c;
    std::unique_lock l(m);
    c.wait(l, st, [] { return false; });
    note("a-work-stopped");
  };
  ca.onStoppedLeading = [&] { note("a-stopped"); };
  otel::kube::LeaderElector a(client, ca);
  std::jthread ta([&](std::stop_token st) { a.run(st); });
  ASSERT_TRUE(waitFor("a-leading"));
  EXPECT_TRUE(a.isLeader());
  Json lease = server.getObject("coordination.k8s.io/v1", "leases", "default", "kubectl-otel-leader");
  EXPECT_EQ(lease["spec"]["holderIdentity"], "a");
  EXPECT_EQ(lease["spec"]["leaseDurationSeconds"], 3);

  // b cannot take a valid lease.
  auto cb = base("b");
  cb.onStartedLeading = [&](std::stop_token) { note("b-leading"); };
  otel::kube::LeaderElector b(client, cb);
  EXPECT_FALSE(b.tryAcquireOrRenew());
  EXPECT_EQ(b.observedLeader(), "a");
  // a renews: renewTime moves while a leads.
  std::string renew1 = lease["spec"]["renewTime"];
  for (auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
       std::chrono::steady_clock::now() < deadline &&
       server.getObject("coordination.k8s.io/v1", "leases", "default", "kubectl-otel-leader")["spec"]["renewTime"] == renew1;)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));  // polling a condition, bounded
  EXPECT_NE(server.getObject("coordination.k8s.io/v1", "leases", "default", "kubectl-otel-leader")["spec"]["renewTime"], renew1);

  std::jthread tb([&](std::stop_token st) { b.run(st); });
  // Cancel a: its work stops, the lease is released, b takes over without waiting for expiry.
  ta.request_stop();
  ta.join();
  EXPECT_TRUE(waitFor("a-work-stopped"));
  EXPECT_TRUE(waitFor("a-stopped"));
  EXPECT_FALSE(a.isLeader());
  ASSERT_TRUE(waitFor("b-leading"));
  lease = server.getObject("coordination.k8s.io/v1", "leases", "default", "kubectl-otel-leader");
  EXPECT_EQ(lease["spec"]["holderIdentity"], "b");
  EXPECT_EQ(lease["spec"]["leaseTransitions"], 1);
  tb.request_stop();
}

TEST(LeaderElection, RejectsInconsistentDurations) {
  otel::testing::TestApiServer server;
  TempDir dir;
  Client client(configFor(server, dir));
  otel::kube::LeaderElectionConfig c;
  c.name = "x";
  c.identity = "me";
  c.renewDeadline = std::chrono::milliseconds(2000);
  c.retryPeriod = std::chrono::milliseconds(2000);
  EXPECT_THROW(otel::kube::LeaderElector(client, c), otel::Error);
}

// An event past the watch bound (issue 14) is never buffered further: the watch ends, the informer relists
// (the list has the object), and the cache holds the server's state.
TEST_P(InformerCache, AnOversizedWatchEventEndsTheWatchAndTheInformerRelists) {
  otel::testing::TestApiServer server;
  TempDir dir;
  Client client(configFor(server, dir));
  Recorder rec;
  Informer inf(client, kConfigMaps, fastOptions("default", GetParam()));
  inf.addHandlers(rec.handlers());
  std::jthread runner([&](std::stop_token st) { inf.run(st); });
  ASSERT_TRUE(inf.waitForSync(std::chrono::seconds(10)));
  ASSERT_TRUE(server.waitForWatches(1));
  int relistsBefore = inf.relists();
  server.putObject(configMap("default", "huge", {{"blob", std::string(otel::kube::kMaxWatchEventBytes + 1, 'x')}}));
  {
    std::unique_lock lock(rec.mu);
    bool seen = rec.cv.wait_for(lock, std::chrono::seconds(20), [&] { return rec.byKey.count("default/huge") > 0; });
    EXPECT_TRUE(seen);
  }
  // The handler runs inside the relist, which counts itself just after.
  EXPECT_TRUE(otel::clitest::eventually([&] { return inf.relists() > relistsBefore; }, std::chrono::seconds(20)));
  EXPECT_EQ(cacheState(inf), serverState(server, "default"));
  runner.request_stop();
  runner.join();
}

INSTANTIATE_TEST_SUITE_P(TreeAndCompact, InformerCache, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& i) { return i.param ? "Compact" : "Tree"; });

// A compact cache gives back what a tree cache of the same watch holds, value for value and in the same
// member order (numbers of every kind, nulls, nested arrays, non-ASCII text), from get, list, byIndex and
// the handlers' old object; reading it in place is refused rather than handing out bytes as an object.
TEST(Informer, CompactCacheReadsBackTheObjectsAsSent) {
  otel::testing::TestApiServer server;
  TempDir dir;
  Client client(configFor(server, dir));
  Json cm = configMap("default", "odd", {{"z", "last"}, {"a", "first"}, {"text", "h\u00e9llo \u2603"}}, {{"app", "x"}});
  cm["binaryData"] = {{"b", "AAE="}};
  cm["metadata"]["annotations"] = {{"n", "1"}};
  server.putObject(cm);
  auto opts = fastOptions("default", true);
  Informer inf(client, kConfigMaps, opts);
  inf.addIndexer("app", [](const Json& o) -> std::vector<std::string> {
    return {o["metadata"]["labels"].value("app", "")};
  });
  std::mutex mu;
  std::vector<std::pair<Json, Json>> updates;
  otel::kube::EventHandlers h;
  h.onUpdate = [&](const Json& oldO, const Json& newO) {
    std::lock_guard lock(mu);
    updates.emplace_back(oldO, newO);
  };
  inf.addHandlers(h);
  Informer tree(client, kConfigMaps, fastOptions("default"));
  std::jthread runner([&](std::stop_token st) { inf.run(st); });
  std::jthread treeRunner([&](std::stop_token st) { tree.run(st); });
  ASSERT_TRUE(inf.waitForSync(std::chrono::seconds(10)));
  ASSERT_TRUE(tree.waitForSync(std::chrono::seconds(10)));
  ASSERT_TRUE(tree.get("default", "odd").has_value());
  const Json listed = *tree.get("default", "odd");
  ASSERT_TRUE(inf.get("default", "odd").has_value());
  EXPECT_EQ(inf.get("default", "odd")->dump(), listed.dump());
  ASSERT_EQ(inf.list().size(), 1u);
  EXPECT_EQ(inf.list()[0].dump(), listed.dump());
  ASSERT_EQ(inf.byIndex("app", "x").size(), 1u);
  EXPECT_EQ(inf.byIndex("app", "x")[0].dump(), listed.dump());
  // numbers of every kind, nulls, nested arrays: written locally (the test server would validate a ConfigMap)
  Json local = listed;
  local["metadata"]["resourceVersion"] = std::to_string(std::stoll(listed["metadata"]["resourceVersion"].get<std::string>()) + 1000);
  local["extra"] = {{"replicas", 3}, {"negative", -7}, {"ratio", 0.25}, {"big", 18446744073709551615ull}, {"none", nullptr},
                    {"list", Json::array({Json::array({1, "two"}), Json::object()})}, {"yes", true}};
  otel::kube::WatchEvent ev;
  ev.type = otel::kube::EventType::Modified;
  ev.object = local;
  ASSERT_TRUE(inf.applyLocalWrite(std::move(ev)));
  EXPECT_EQ(inf.get("default", "odd")->dump(), local.dump());
  EXPECT_EQ(*inf.get("default", "odd"), local);
  {
    std::lock_guard lock(mu);
    ASSERT_FALSE(updates.empty());
    EXPECT_EQ(updates.back().first.dump(), listed.dump());  // the old object, decoded
    EXPECT_EQ(updates.back().second.dump(), local.dump());
  }
  auto lock = inf.lockCache();
  EXPECT_THROW(inf.findLocked("default/odd"), std::logic_error);
  EXPECT_THROW(inf.itemsLocked(), std::logic_error);
  lock.unlock();
  runner.request_stop();
  runner.join();
  treeRunner.request_stop();
  treeRunner.join();
}
