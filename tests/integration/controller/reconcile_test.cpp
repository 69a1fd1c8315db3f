// The controller (lib/controller) against the test API server: a collector's objects are created, a
// resync of an unchanged cluster writes nothing, drift is restored, a config change rolls one new
// ConfigMap and prunes beyond configVersions, an invalid CR gets its event and status and does not
// block the others, faults (dropped watches, 410, 500s) converge.
#include <gtest/gtest.h>

#include <functional>
#include <iostream>
#include <thread>

#include "lib/api/common.h"
#include "lib/controller/controller.h"
#include "lib/controller/mutate.h"
#include "lib/core/log.h"
#include "lib/kube/client.h"
#include "lib/manifests/install.h"
#include "tests/integration/kube/fixture.h"
#include "tests/support/api_server.h"
#include "tests/support/shell.h"

namespace {

using otel::Json;
using otel::api::str;
using otel::clitest::eventually;
using otel::controller::Controller;
using otel::controller::ControllerOptions;
using otel::kube::Client;
using otel::testing::TestApiServer;

const otel::kube::ResourceId kCollectors{"opentelemetry.io/v1beta1", "opentelemetrycollectors", true, "OpenTelemetryCollector"};

Json collector(const std::string& name, const std::string& mode = "deployment", const std::string& exporter = "debug") {
  Json c = {{"apiVersion", "opentelemetry.io/v1beta1"},
            {"kind", "OpenTelemetryCollector"},
            {"metadata", {{"name", name}, {"namespace", "default"}}},
            {"spec",
             {{"mode", mode},
              {"config",
               {{"receivers", {{"otlp", {{"protocols", {{"grpc", Json::object()}, {"http", Json::object()}}}}}}},
                {"exporters", {{exporter, Json::object()}}},
                {"service", {{"pipelines", {{"traces", {{"receivers", {"otlp"}}, {"exporters", {exporter}}}}}}}}}}}}};
  return c;
}

int writes(const TestApiServer& s) {
  int n = 0;
  for (const auto& r : s.requests())
    if (r.method != "GET") ++n;
  return n;
}

std::string describeWrites(const TestApiServer& s) {
  std::string out;
  for (const auto& r : s.requests())
    if (r.method != "GET") out += r.method + " " + r.path + " -> " + std::to_string(r.status) + "\n";
  return out;
}

class Reconcile : public ::testing::Test {
 protected:
  void SetUp() override {
    rc_ = kubetest::configFor(server_, dir_);
    client_ = std::make_unique<Client>(rc_);
    otel::kube::PatchOptions po;
    po.force = true;
    for (const auto& crd : otel::manifests::crdObjects()) client_->apply(crd, po);
  }
  void TearDown() override { stop(); }
  void start(ControllerOptions o = {}) {
    o.workers = 2;
    o.metrics = &metrics_;  // the metric paths run too
    o.build.prometheusCRDs = false;
    o.watchPrometheusCrds = true;
    if (o.resyncPeriod == std::chrono::hours(10)) o.resyncPeriod = std::chrono::milliseconds(0);
    ctlClient_ = std::make_unique<Client>(rc_);
    ctl_ = std::make_unique<Controller>(*ctlClient_, o);
    ctl_->startInformers(stop_.get_token());
    ASSERT_TRUE(ctl_->waitForSync(std::chrono::seconds(10)));
    workers_ = std::jthread([this](std::stop_token) { ctl_->runWorkers(stop_.get_token()); });
  }
  void stop() {
    stop_.request_stop();
    if (workers_.joinable()) workers_.join();
    if (ctl_) ctl_->shutDown();
  }
  Json get(const std::string& av, const std::string& res, const std::string& name, const std::string& ns = "default") {
    return server_.getObject(av, res, ns, name);
  }
  bool exists(const std::string& av, const std::string& res, const std::string& name) {
    return eventually([&] { return !get(av, res, name).is_null(); });
  }
  // Bounded wait until the controller has nothing to do (twice in a row, to step over a hand-over).
  bool settle() {
    return eventually([&] { return ctl_->idle() && ctl_->idle(); }, std::chrono::seconds(30));
  }
  Json create(const Json& cr) { return client_->create(kCollectors, "default", cr); }
  // Read, change, write back, as a user's `kubectl edit` does: a write of the controller's in between (its
  // status) is a 409, and the change is made again on a fresh read. Bounded.
  void modify(const otel::kube::ResourceId& rid, const std::string& name, const std::function<void(Json&)>& change) {
    for (int attempt = 0;; ++attempt) {
      Json cur = get(rid.apiVersion, rid.resource, name);
      ASSERT_FALSE(cur.is_null()) << rid.resource << "/" << name;
      change(cur);
      cur.erase("status");
      try {
        client_->update(rid, "default", cur);
        return;
      } catch (const otel::kube::ApiError& e) {
        if (!e.isConflict() || attempt == 20) throw;
      }
    }
  }
  bool ready(const std::string& name) {
    return eventually([&] {
      Json c = get("opentelemetry.io/v1beta1", "opentelemetrycollectors", name);
      if (c.is_null() || !c.contains("status")) return false;
      for (const auto& cond : c["status"].value("conditions", Json::array()))
        if (cond.value("type", "") == "Ready") return cond.value("status", "") == "True";
      return false;
    });
  }

  TestApiServer server_;
  otel::http::Registry metrics_;
  kubetest::TempDir dir_;
  otel::kube::RestConfig rc_;
  std::unique_ptr<Client> client_, ctlClient_;
  std::unique_ptr<Controller> ctl_;
  std::stop_source stop_;
  std::jthread workers_;
};

TEST_F(Reconcile, CreatesTheObjectsUpstreamCreatesAndStatus) {
  create(collector("simplest"));
  start();
  ASSERT_TRUE(ready("simplest"));
  Json dep = get("apps/v1", "deployments", "simplest-collector");
  ASSERT_FALSE(dep.is_null());
  EXPECT_EQ(dep["spec"]["template"]["spec"]["containers"][0]["name"], "otc-container");
  std::string cm = dep["spec"]["template"]["spec"]["volumes"][0]["configMap"]["name"];
  EXPECT_FALSE(get("v1", "configmaps", cm).is_null());
  for (const char* svc : {"simplest-collector", "simplest-collector-headless", "simplest-collector-monitoring"})
    EXPECT_FALSE(get("v1", "services", svc).is_null()) << svc;
  EXPECT_FALSE(get("v1", "serviceaccounts", "simplest-collector").is_null());
  EXPECT_FALSE(get("policy/v1", "poddisruptionbudgets", "simplest-collector").is_null());
  // owner references point at the collector
  Json c = get("opentelemetry.io/v1beta1", "opentelemetrycollectors", "simplest");
  EXPECT_EQ(dep["metadata"]["ownerReferences"][0]["uid"], c["metadata"]["uid"]);
  EXPECT_EQ(c["status"]["version"], otel::manifests::kCollectorVersion);
  EXPECT_EQ(c["status"]["image"], otel::manifests::kDefaultCollectorImage);
  EXPECT_EQ(str(c, {"status", "scale", "statusReplicas"}), "0/0");  // no kube-controller-manager here
  EXPECT_EQ(str(c, {"status", "scale", "selector"}).rfind("app.kubernetes.io/component=opentelemetry-collector", 0), 0u);
  EXPECT_NE(str(c, {"status", "scale", "selector"}).find("app.kubernetes.io/instance=default.simplest"), std::string::npos);
}

// The central promise: once converged, a resync of every CR and object writes nothing at all.
TEST_F(Reconcile, SteadyStateResyncWritesNothing) {
  create(collector("a"));
  create(collector("b", "daemonset"));
  create(collector("c", "statefulset"));
  Json withTa = collector("d", "statefulset");
  withTa["spec"]["targetAllocator"] = {{"enabled", true}};
  withTa["spec"]["config"]["receivers"]["prometheus"] = {
      {"config", {{"scrape_configs", Json::array({{{"job_name", "x"}, {"static_configs", Json::array({{{"targets", {"a:1"}}}})}}})}}}};
  withTa["spec"]["config"]["service"]["pipelines"]["metrics"] = {{"receivers", {"prometheus"}}, {"exporters", {"debug"}}};
  create(withTa);
  ControllerOptions o;
  // Long enough for a round of five reconciles to end well before the next resync in the slowest build
  // (ASan at -O0: ~60 ms each), or the controller is never idle and settle() cannot see the steady state.
  o.resyncPeriod = std::chrono::milliseconds(1000);
  start(o);
  for (const char* n : {"a", "b", "c", "d"}) ASSERT_TRUE(ready(n)) << n;
  ASSERT_TRUE(exists("apps/v1", "deployments", "d-targetallocator"));
  ASSERT_TRUE(settle());
  server_.clearRequests();
  long before = ctl_->reconciles();
  // at least two resyncs' worth of reconciles of every CR (4 collectors + 1 target allocator, and more)
  ASSERT_TRUE(eventually([&] { return ctl_->reconciles() >= before + 20; }));
  ASSERT_TRUE(settle());
  EXPECT_EQ(writes(server_), 0) << describeWrites(server_);
}

TEST_F(Reconcile, DriftIsRestored) {
  create(collector("drift"));
  start();
  ASSERT_TRUE(ready("drift"));
  ASSERT_TRUE(settle());
  // deleted
  ASSERT_TRUE(server_.deleteObject("v1", "services", "default", "drift-collector"));
  EXPECT_TRUE(exists("v1", "services", "drift-collector"));
  // edited: image changed, label removed
  Json dep = get("apps/v1", "deployments", "drift-collector");
  dep["spec"]["template"]["spec"]["containers"][0]["image"] = "evil:1";
  dep["metadata"]["labels"].erase("app.kubernetes.io/part-of");
  server_.putObject(dep);
  EXPECT_TRUE(eventually([&] {
    Json d = get("apps/v1", "deployments", "drift-collector");
    return d["spec"]["template"]["spec"]["containers"][0]["image"] == otel::manifests::kDefaultCollectorImage &&
           d["metadata"]["labels"].value("app.kubernetes.io/part-of", "") == "opentelemetry";
  }));
  // a label someone else added survives
  dep = get("apps/v1", "deployments", "drift-collector");
  dep["metadata"]["labels"]["team"] = "obs";
  dep["spec"]["template"]["spec"]["containers"][0]["image"] = "evil:2";
  server_.putObject(dep);
  EXPECT_TRUE(eventually([&] {
    Json d = get("apps/v1", "deployments", "drift-collector");
    return d["spec"]["template"]["spec"]["containers"][0]["image"] == otel::manifests::kDefaultCollectorImage;
  }));
  EXPECT_EQ(get("apps/v1", "deployments", "drift-collector")["metadata"]["labels"].value("team", ""), "obs");
}

std::vector<std::string> configMaps(TestApiServer& s, const std::string& prefix) {
  std::vector<std::string> out;
  for (const auto& cm : s.listObjects("v1", "configmaps", "default")) {
    std::string n = cm["metadata"]["name"];
    if (n.rfind(prefix, 0) == 0) out.push_back(n);
  }
  return out;
}

TEST_F(Reconcile, ConfigChangeRollsOneConfigMapAndPrunesBeyondConfigVersions) {
  Json c = collector("simple");
  c["spec"]["configVersions"] = 1;
  create(c);
  start();
  ASSERT_TRUE(ready("simple"));
  ASSERT_TRUE(settle());
  ASSERT_EQ(configMaps(server_, "simple-collector-").size(), 1u);
  std::string first = get("apps/v1", "deployments", "simple-collector")["spec"]["template"]["spec"]["volumes"][0]["configMap"]["name"];
  for (const char* exporter : {"otlp", "nop"}) {
    server_.clearRequests();
    modify(kCollectors, "simple", [&](Json& cur) {
      Json& cfg = cur["spec"]["config"];
      cfg["exporters"] = {{exporter, exporter == std::string("otlp") ? Json{{"endpoint", "backend:4317"}} : Json::object()}};
      cfg["service"]["pipelines"]["traces"]["exporters"] = {exporter};
    });
    ASSERT_TRUE(eventually([&] {
      Json d = get("apps/v1", "deployments", "simple-collector");
      std::string now = d["spec"]["template"]["spec"]["volumes"][0]["configMap"]["name"];
      return now != first && !get("v1", "configmaps", now).is_null();
    }));
    ASSERT_TRUE(settle());
    first = get("apps/v1", "deployments", "simple-collector")["spec"]["template"]["spec"]["volumes"][0]["configMap"]["name"];
    // exactly one ConfigMap created by this change
    int posts = 0;
    for (const auto& r : server_.requests())
      if (r.method == "POST" && r.path == "/api/v1/namespaces/default/configmaps") ++posts;
    EXPECT_EQ(posts, 1);
  }
  // configVersions 1: the current one and one older are kept, the first is pruned
  EXPECT_EQ(configMaps(server_, "simple-collector-").size(), 2u);
}

TEST_F(Reconcile, InvalidCollectorGetsEventAndStatusAndOthersStillReconcile) {
  Json bad = collector("bad");
  bad["spec"]["targetAllocator"] = {{"enabled", true}};  // deployment mode + no prometheus receiver
  bad["spec"]["mode"] = "statefulset";
  create(bad);
  create(collector("good"));
  start();
  ASSERT_TRUE(ready("good"));
  ASSERT_TRUE(eventually([&] {
    Json c = get("opentelemetry.io/v1beta1", "opentelemetrycollectors", "bad");
    if (!c.contains("status") || !c["status"].is_object()) return false;
    for (const auto& cond : c["status"].value("conditions", Json::array()))
      if (cond.value("reason", "") == "ReconcileError") return true;
    return false;
  }));
  bool event = false;
  for (const auto& e : server_.listObjects("v1", "events", "default"))
    if (e["involvedObject"].value("name", "") == "bad" && e.value("reason", "") == "Error") {
      event = true;
      EXPECT_NE(e.value("message", "").find("no prometheus available as part of the configuration"), std::string::npos)
          << e.dump();
    }
  EXPECT_TRUE(event);
  EXPECT_TRUE(get("apps/v1", "statefulsets", "bad-collector").is_null());
}

TEST_F(Reconcile, UnmanagedIsLeftAlone) {
  Json c = collector("hands-off");
  c["spec"]["managementState"] = "unmanaged";
  create(c);
  create(collector("managed"));
  start();
  ASSERT_TRUE(ready("managed"));
  ASSERT_TRUE(settle());
  EXPECT_TRUE(get("apps/v1", "deployments", "hands-off-collector").is_null());
  EXPECT_FALSE(get("opentelemetry.io/v1beta1", "opentelemetrycollectors", "hands-off").contains("status"));
}

TEST_F(Reconcile, SelectorChangeRecreatesTheWorkload) {
  create(collector("sel"));
  start();
  ASSERT_TRUE(ready("sel"));
  ASSERT_TRUE(settle());
  Json dep = get("apps/v1", "deployments", "sel-collector");
  std::string uid = dep["metadata"]["uid"];
  // someone changed the selector (by recreating it): the controller must recreate it, not update
  server_.deleteObject("apps/v1", "deployments", "default", "sel-collector");
  dep["spec"]["selector"]["matchLabels"]["extra"] = "x";
  dep["spec"]["template"]["metadata"]["labels"]["extra"] = "x";
  dep["metadata"].erase("uid");
  dep["metadata"].erase("resourceVersion");
  server_.putObject(dep);
  EXPECT_TRUE(eventually([&] {
    Json d = get("apps/v1", "deployments", "sel-collector");
    return !d.is_null() && !d["spec"]["selector"]["matchLabels"].contains("extra");
  }));
}

TEST_F(Reconcile, ConvergesThroughFaults) {
  for (int i = 0; i < 5; ++i) create(collector("f" + std::to_string(i)));
  start();
  server_.closeWatches();
  server_.forgetHistory();
  server_.failNext(10, 500);
  for (int i = 5; i < 8; ++i) {
    try {
      create(collector("f" + std::to_string(i)));
    } catch (const std::exception&) {
      --i;  // the injected 500s also hit this client: try again
    }
  }
  server_.closeWatches();
  server_.failNext(6, 429, 1);  // a throttled burst: Retry-After is honoured
  for (int i = 0; i < 8; ++i) ASSERT_TRUE(ready("f" + std::to_string(i))) << i;
  ASSERT_TRUE(settle());
  // a second quiet period writes nothing: no hot loop after the faults
  server_.clearRequests();
  server_.closeWatches();
  ASSERT_TRUE(server_.waitForWatches(14, std::chrono::seconds(20)));
  ASSERT_TRUE(settle());
  EXPECT_EQ(writes(server_), 0) << describeWrites(server_);
}

TEST_F(Reconcile, DeletingTheCollectorRemovesItsClusterRoles) {
  Json c = collector("rbac");
  c["spec"]["config"]["processors"] = {{"k8sattributes", Json::object()}};
  c["spec"]["config"]["service"]["pipelines"]["traces"]["processors"] = {"k8sattributes"};
  create(c);
  start();
  ASSERT_TRUE(ready("rbac"));
  ASSERT_TRUE(exists("rbac.authorization.k8s.io/v1", "clusterroles", "rbac-default-cluster-role"));
  Json stored = get("opentelemetry.io/v1beta1", "opentelemetrycollectors", "rbac");
  auto fins = otel::api::strings(stored, {"metadata", "finalizers"});
  ASSERT_EQ(fins.size(), 1u);
  Json gone = client_->remove(kCollectors, "default", "rbac");
  EXPECT_TRUE(gone["metadata"].contains("deletionTimestamp")) << gone.dump();
  bool ok = eventually([&] {
    return get("opentelemetry.io/v1beta1", "opentelemetrycollectors", "rbac").is_null() &&
           server_.getObject("rbac.authorization.k8s.io/v1", "clusterroles", "", "rbac-default-cluster-role").is_null();
  });
  EXPECT_TRUE(ok);
}

}  // namespace

#include "lib/core/yaml.h"
#include "lib/manifests/render.h"

namespace {

TEST_F(Reconcile, UpgradesACollectorWrittenByAnOlderOperator) {
  Json c = collector("old");
  c["spec"]["config"]["service"]["telemetry"] = {{"metrics", {{"address", "0.0.0.0:8888"}}}};
  c["status"] = {{"version", "0.110.0"}};
  server_.putObject(c);  // as the older operator left it (status included)
  start();
  ASSERT_TRUE(eventually([&] {
    Json s = get("opentelemetry.io/v1beta1", "opentelemetrycollectors", "old");
    return str(s, {"status", "version"}) == otel::manifests::kCollectorVersion &&
           !s["spec"]["config"]["service"]["telemetry"]["metrics"].contains("address");
  }));
  Json s = get("opentelemetry.io/v1beta1", "opentelemetrycollectors", "old");
  EXPECT_EQ(s["spec"]["config"]["service"]["telemetry"]["metrics"]["readers"][0]["pull"]["exporter"]["prometheus"]["port"], 8888);
  EXPECT_TRUE(ready("old"));
}

TEST_F(Reconcile, AdoptsWhatTheUpstreamOperatorMadeWithoutTouchingPodTemplates) {
  // the objects upstream's operator made for this collector (our builders render them byte for byte,
  // checked against upstream's e2e asserts), stored with the API server's defaults
  Json stored = create(collector("adopted"));
  std::vector<otel::YamlDocument> docs = {{stored, "cluster", 0, 1}};
  otel::manifests::RenderOptions ro;
  ro.includeCustomResources = false;
  ro.build.prometheusCRDs = false;
  auto rendered = otel::manifests::render(docs, ro);
  std::map<std::string, Json> before;
  for (const auto& o : rendered.objects) {
    Json put = server_.putObject(o);
    if (o.value("kind", "") == "Deployment") before[o["metadata"]["name"]] = put;
  }
  ASSERT_EQ(before.size(), 1u);
  server_.clearRequests();
  start();
  ASSERT_TRUE(ready("adopted"));
  ASSERT_TRUE(settle());
  for (const auto& [n, b] : before) {
    Json after = get("apps/v1", "deployments", n);
    EXPECT_EQ(after["spec"]["template"], b["spec"]["template"]) << n;
    EXPECT_EQ(after["metadata"]["uid"], b["metadata"]["uid"]) << "adopted in place, not recreated";
    EXPECT_EQ(after["metadata"].value("generation", 0), b["metadata"].value("generation", 0)) << "no rollout";
  }
  // nothing was created next to them: the same names
  std::string posts;
  for (const auto& r : server_.requests())
    if (r.method == "POST" && r.path.find("/events") == std::string::npos) posts += r.path + "\n";
  EXPECT_EQ(posts, "");
}

TEST_F(Reconcile, MissingServiceAccountAndUnknownModeGetEventsAndStatus) {
  Json sa = collector("needs-sa");
  sa["spec"]["serviceAccount"] = "nope";
  create(sa);
  Json mode = collector("bad-mode");
  mode["spec"]["mode"] = "bogus";  // stored by an older CRD without the enum
  server_.putObject(mode);
  create(collector("fine"));
  start();
  ASSERT_TRUE(ready("fine"));
  auto reason = [&](const std::string& n) {
    return eventually([&] {
      Json c = get("opentelemetry.io/v1beta1", "opentelemetrycollectors", n);
      const Json* conds = otel::api::at(c, {"status"});
      if (!conds || !conds->contains("conditions")) return false;
      for (const auto& cond : (*conds)["conditions"])
        if (cond.value("reason", "") == "ReconcileError") return true;
      return false;
    });
  };
  EXPECT_TRUE(reason("needs-sa"));
  // bad-mode: the server's schema refuses any write of it, status included; the event says why
  std::map<std::string, std::string> events;
  ASSERT_TRUE(eventually([&] {
    for (const auto& e : server_.listObjects("v1", "events", "default"))
      if (e.value("reason", "") == "Error") events[str(e, {"involvedObject", "name"})] = e.value("message", "");
    return events.count("needs-sa") && events.count("bad-mode");
  }));
  EXPECT_NE(events["needs-sa"].find("serviceaccount \"nope\" not found"), std::string::npos) << events["needs-sa"];
  EXPECT_NE(events["bad-mode"].find("Unsupported value: \"bogus\""), std::string::npos) << events["bad-mode"];
  // the account appearing later lets it become ready (on the next retry)
  server_.putObject(Json{{"apiVersion", "v1"}, {"kind", "ServiceAccount"}, {"metadata", {{"name", "nope"}, {"namespace", "default"}}}});
  EXPECT_TRUE(ready("needs-sa"));
}

TEST_F(Reconcile, ConflictIsRetriedFromAFreshRead) {
  create(collector("race"));
  start();
  ASSERT_TRUE(ready("race"));
  ASSERT_TRUE(settle());
  const std::string path = "/apis/apps/v1/namespaces/default/deployments/race-collector";
  std::atomic<bool> raced{false};
  server_.setRequestHook([&](const otel::testing::RecordedRequest& r) {
    if (r.method == "PUT" && r.path == path && !raced.exchange(true)) {
      Json d = server_.getObject("apps/v1", "deployments", "default", "race-collector");
      d["metadata"]["labels"]["someone"] = "else";  // a concurrent writer: this PUT now meets a newer resourceVersion
      server_.putObject(d);
    }
  });
  Json d = get("apps/v1", "deployments", "race-collector");
  d["spec"]["template"]["spec"]["containers"][0]["image"] = "drifted";
  server_.putObject(d);
  EXPECT_TRUE(eventually([&] {
    Json now = get("apps/v1", "deployments", "race-collector");
    return now["spec"]["template"]["spec"]["containers"][0]["image"] == otel::manifests::kDefaultCollectorImage;
  }));
  server_.setRequestHook({});
  EXPECT_TRUE(raced.load());
  int conflicts = 0;
  for (const auto& r : server_.requests())
    if (r.method == "PUT" && r.path == path && r.status == 409) ++conflicts;
  EXPECT_EQ(conflicts, 1);
  EXPECT_EQ(get("apps/v1", "deployments", "race-collector")["metadata"]["labels"].value("someone", ""), "else");
}

}  // namespace

namespace {

TEST_F(Reconcile, DisablingTheTargetAllocatorPrunesIt) {
  Json c = collector("ta", "statefulset");
  c["spec"]["targetAllocator"] = {{"enabled", true}};
  c["spec"]["config"]["receivers"]["prometheus"] = {
      {"config", {{"scrape_configs", Json::array({{{"job_name", "x"}, {"static_configs", Json::array({{{"targets", {"a:1"}}}})}}})}}}};
  c["spec"]["config"]["service"]["pipelines"]["metrics"] = {{"receivers", {"prometheus"}}, {"exporters", {"debug"}}};
  create(c);
  start();
  ASSERT_TRUE(exists("apps/v1", "deployments", "ta-targetallocator"));
  modify(kCollectors, "ta", [](Json& cur) { cur["spec"]["targetAllocator"]["enabled"] = false; });
  EXPECT_TRUE(eventually([&] {
    return get("opentelemetry.io/v1alpha1", "targetallocators", "ta").is_null() &&
           get("apps/v1", "deployments", "ta-targetallocator").is_null();
  }));
}

}  // namespace

namespace {

// A CR that comes to name, as its own account, the ServiceAccount the operator made for it (upstream's
// e2e-targetallocator-cr, step 01) keeps it: the account is no longer built, but the workload runs as it,
// so pruning it would leave the pods without their account.
TEST_F(Reconcile, AnAccountTheWorkloadStillRunsAsIsNotPruned) {
  const otel::kube::ResourceId tas{"opentelemetry.io/v1alpha1", "targetallocators", true, "TargetAllocator"};
  Json ta = {{"apiVersion", "opentelemetry.io/v1alpha1"},
             {"kind", "TargetAllocator"},
             {"metadata", {{"name", "cr"}, {"namespace", "default"}}},
             {"spec",
              {{"scrapeConfigs",
                Json::array({{{"job_name", "prometheus"}, {"static_configs", Json::array({{{"targets", {"localhost:9090"}}}})}}})}}}};
  client_->create(tas, "default", ta);
  Json c = collector("own");
  create(c);
  start();
  ASSERT_TRUE(exists("v1", "serviceaccounts", "cr-targetallocator"));
  ASSERT_TRUE(exists("v1", "serviceaccounts", "own-collector"));
  ASSERT_TRUE(settle());

  modify(tas, "cr", [](Json& cur) {
    cur["spec"]["serviceAccount"] = "cr-targetallocator";
    cur["spec"]["env"] = Json::array({{{"name", "TEST_ENV"}, {"value", "test"}}});
  });
  modify(kCollectors, "own", [](Json& col) {
    col["spec"]["serviceAccount"] = "own-collector";
    col["spec"]["env"] = Json::array({{{"name", "TEST_ENV"}, {"value", "test"}}});
  });

  // both updates reconciled (the new env is in the pod templates), then nothing left to do
  auto hasEnv = [&](const std::string& dep) {
    Json d = get("apps/v1", "deployments", dep);
    return !d.is_null() && d["spec"]["template"]["spec"]["containers"][0].value("env", Json::array()).dump().find("TEST_ENV") !=
                               std::string::npos;
  };
  ASSERT_TRUE(eventually([&] { return hasEnv("cr-targetallocator") && hasEnv("own-collector"); }));
  ASSERT_TRUE(settle());
  for (const char* sa : {"cr-targetallocator", "own-collector"}) {
    Json a = get("v1", "serviceaccounts", sa);
    ASSERT_FALSE(a.is_null()) << sa << " was pruned while the workload runs as it\n" << describeWrites(server_);
    EXPECT_EQ(str(a, {"metadata", "labels", "app.kubernetes.io/managed-by"}), "opentelemetry-operator") << sa;
  }
  EXPECT_EQ(get("apps/v1", "deployments", "cr-targetallocator")["spec"]["template"]["spec"]["serviceAccountName"], "cr-targetallocator");

  // and once the workload runs as another account, the one made for it goes
  client_->create(otel::kube::ResourceId{"v1", "serviceaccounts", true, "ServiceAccount"}, "default",
                  Json{{"apiVersion", "v1"}, {"kind", "ServiceAccount"}, {"metadata", {{"name", "elsewhere"}}}});
  modify(tas, "cr", [](Json& cur) { cur["spec"]["serviceAccount"] = "elsewhere"; });
  EXPECT_TRUE(eventually([&] { return get("v1", "serviceaccounts", "cr-targetallocator").is_null(); })) << describeWrites(server_);
  EXPECT_EQ(get("apps/v1", "deployments", "cr-targetallocator")["spec"]["template"]["spec"]["serviceAccountName"], "elsewhere");
  EXPECT_FALSE(get("v1", "serviceaccounts", "elsewhere").is_null());
}

}  // namespace
