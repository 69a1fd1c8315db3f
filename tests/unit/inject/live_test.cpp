// Live mode over an in-memory store with resourceVersion checks and a concurrent writer causing 409s.
#include <gtest/gtest.h>

#include <functional>

#include <map>
#include <set>

#include "lib/core/error.h"
#include "lib/core/yaml.h"
#include "lib/inject/live.h"
#include "lib/inject/workload.h"

using otel::Json;
using namespace otel::inject;

namespace {

struct ConflictError : otel::Error {
  ConflictError() : otel::Error("Operation cannot be fulfilled: the object has been modified") {}
};

struct RefusedError : otel::Error {
  RefusedError() : otel::Error("admission webhook \"no.example.com\" denied the request: not today") {}
};
struct NoDryRunError : otel::Error {
  NoDryRunError() : otel::Error("admission webhook \"side.example.com\" does not support dry run") {}
};

struct FakeCluster {
  std::map<std::string, Json> objects;  // kind/ns/name
  int writerConflicts = 0;              // the next N updates race with another writer
  std::function<void(Json&)> otherWriter;  // what that writer changes (default: scales the workload)
  int rv = 1;
  int serverDryRuns = 0;
  int writes = 0;
  std::set<std::string> refuse;  // names the server refuses (like a denying validating webhook)
  bool noDryRun = false;         // dry runs fail (a webhook with side effects), real writes pass
  int catalogReads = 0;
  bool noInstrumentation = false;
  static std::string key(const std::string& k, const std::string& ns, const std::string& n) { return k + "/" + ns + "/" + n; }
  void put(Json o) {
    o["metadata"]["resourceVersion"] = std::to_string(++rv);
    objects[key(o["kind"], o["metadata"].value("namespace", "default"), o["metadata"]["name"])] = o;
  }
  LiveAccess access() {
    LiveAccess a;
    a.get = [this](const std::string& k, const std::string& ns, const std::string& n) {
      auto it = objects.find(key(k, ns, n));
      if (it == objects.end()) throw otel::Error(k + " \"" + n + "\" not found");
      return it->second;
    };
    a.list = [this](const std::string& k, const std::string& ns, const std::string& selector) {
      std::vector<Json> out;
      for (const auto& [key, o] : objects) {
        if (key.rfind(k + "/" + ns + "/", 0) != 0) continue;
        // The fake understands "key=value" selectors only.
        auto eq = selector.find('=');
        if (!selector.empty() &&
            o["metadata"].value("labels", Json::object()).value(selector.substr(0, eq), "") != selector.substr(eq + 1))
          continue;
        out.push_back(o);
      }
      return out;
    };
    a.update = [this](const Json& o, bool serverDryRun) {
      if (serverDryRun) ++serverDryRuns;
      if (refuse.count(o["metadata"]["name"].get<std::string>())) throw RefusedError();
      if (serverDryRun && noDryRun) throw NoDryRunError();
      if (!serverDryRun) ++writes;
      std::string k = key(o["kind"], o["metadata"].value("namespace", "default"), o["metadata"]["name"]);
      if (writerConflicts > 0) {  // someone else scales the workload first
        --writerConflicts;
        Json other = objects[k];
        if (otherWriter)
          otherWriter(other);
        else
          other["spec"]["replicas"] = other["spec"].value("replicas", 1) + 1;
        put(other);
      }
      if (objects[k]["metadata"]["resourceVersion"] != o["metadata"]["resourceVersion"]) throw ConflictError();
      if (serverDryRun) return o;
      put(o);
      return objects[k];
    };
    a.isConflict = [](const std::exception& e) { return dynamic_cast<const ConflictError*>(&e) != nullptr; };
    a.isRefusal = [](const std::exception& e) { return dynamic_cast<const RefusedError*>(&e) != nullptr; };
    a.catalog = [this](const std::string&) {
      ++catalogReads;
      if (noInstrumentation) return Catalog{};
      return Catalog{{otel::parseYaml("apiVersion: opentelemetry.io/v1alpha1\nkind: Instrumentation\nmetadata: "
                                      "{name: i, namespace: default}\nspec: {exporter: {endpoint: 'http://c:4318'}}\n")},
                     {otel::parseYaml("apiVersion: opentelemetry.io/v1beta1\nkind: OpenTelemetryCollector\nmetadata: "
                                      "{name: sidecar, namespace: default}\nspec:\n  mode: sidecar\n  config:\n"
                                      "    receivers: {otlp: {protocols: {grpc: {}}}}\n    exporters: {debug: {}}\n"
                                      "    service: {pipelines: {traces: {receivers: [otlp], exporters: [debug]}}}\n")}};
    };
    a.namespaceAnnotations = [](const std::string&) { return Json::object(); };
    return a;
  }
};

const char* kDeploy = R"(apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: default}
spec:
  replicas: 1
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: app, image: 'x/web:1'}]
)";

}  // namespace

TEST(InjectLive, InjectReinjectUninjectWithConflicts) {
  FakeCluster c;
  c.put(otel::parseYaml(kDeploy));
  const Json original = *podTemplate(c.objects.begin()->second);
  c.writerConflicts = 2;
  LiveOptions o;
  o.inject.languages = {Language::Java};
  auto r = runLive({"deploy/web"}, o, c.access());
  ASSERT_EQ(r.size(), 1u);
  EXPECT_FALSE(r[0].error) << r[0].outcome;
  EXPECT_EQ(r[0].conflicts, 2);
  EXPECT_EQ(r[0].ref, "deployment/web");
  Json stored = c.objects.begin()->second;
  EXPECT_EQ(stored["spec"]["replicas"], 3);  // the concurrent writer's change survived
  EXPECT_EQ(stored["spec"]["template"]["spec"]["initContainers"][0]["name"], "opentelemetry-auto-instrumentation-java");

  auto again = runLive({"deploy/web"}, o, c.access());
  EXPECT_EQ(again[0].outcome, "already injected (skipping pod instrumentation - already instrumented)");
  EXPECT_FALSE(again[0].changed);

  LiveOptions u;
  u.uninject = true;
  c.writerConflicts = 1;
  auto back = runLive({"deploy/web"}, u, c.access());
  EXPECT_FALSE(back[0].error) << back[0].outcome;
  EXPECT_EQ(back[0].conflicts, 1);
  EXPECT_EQ(*podTemplate(c.objects.begin()->second), original);
}

TEST(InjectLive, DryRunUnsupportedAndMissing) {
  FakeCluster c;
  c.put(otel::parseYaml(kDeploy));
  std::string rvBefore = c.objects.begin()->second["metadata"]["resourceVersion"];
  LiveOptions o;
  o.dryRun = DryRun::Client;
  o.inject.languages = {Language::Python};
  auto ok = runLive({"deploy/web"}, o, c.access());
  EXPECT_TRUE(ok[0].changed);
  EXPECT_EQ(ok[0].object, ok[0].after);
  EXPECT_EQ(c.objects.begin()->second["metadata"]["resourceVersion"], rvBefore);  // nothing written
  o.dryRun = DryRun::Server;
  auto server = runLive({"deploy/web"}, o, c.access());
  EXPECT_TRUE(server[0].changed) << server[0].outcome;
  EXPECT_EQ(c.serverDryRuns, 1);
  EXPECT_EQ(c.objects.begin()->second["metadata"]["resourceVersion"], rvBefore);
  o.dryRun = DryRun::None;
  auto r = runLive({"deploy/web", "svc/web", "sts/nope"}, o, c.access());
  ASSERT_EQ(r.size(), 3u);
  EXPECT_FALSE(r[0].changed);  // all or nothing: the other selectors failed
  EXPECT_EQ(r[0].outcome.rfind("not written", 0), 0u) << r[0].outcome;
  EXPECT_EQ(c.objects.begin()->second["metadata"]["resourceVersion"], rvBefore);
  EXPECT_TRUE(r[1].error);
  EXPECT_NE(r[1].outcome.find("unsupported kind \"svc\""), std::string::npos);
  EXPECT_TRUE(r[2].error);
  EXPECT_NE(r[2].outcome.find("not found"), std::string::npos);
  c.writerConflicts = 100;  // a writer that always wins: bounded retries, then an error
  auto lost = runLive({"deploy/web"}, o, c.access());
  EXPECT_TRUE(lost[0].error);
  EXPECT_EQ(lost[0].conflicts, 5);
}

TEST(InjectLive, AnnotateModeSetsWebhookAnnotationsAndUninjectRemovesThem) {
  FakeCluster c;
  c.put(otel::parseYaml(kDeploy));
  const Json original = *podTemplate(c.objects.begin()->second);
  LiveOptions o;
  o.annotate = true;
  o.inject.languages = {Language::Java};
  o.inject.instrumentation = "i";
  o.inject.sidecar = true;
  auto r = runLive({"deploy/web"}, o, c.access());
  ASSERT_FALSE(r[0].error) << r[0].outcome;
  const Json& ann = podTemplate(c.objects.begin()->second)->at("metadata").at("annotations");
  EXPECT_EQ(ann["instrumentation.opentelemetry.io/inject-java"], "i");
  EXPECT_EQ(ann["sidecar.opentelemetry.io/inject"], "true");
  EXPECT_FALSE(podTemplate(c.objects.begin()->second)->at("spec").contains("initContainers"));
  EXPECT_EQ(runLive({"deploy/web"}, o, c.access())[0].outcome, "already annotated");
  LiveOptions u;
  u.uninject = true;
  runLive({"deploy/web"}, u, c.access());
  EXPECT_EQ(*podTemplate(c.objects.begin()->second), original);
}

namespace {
Json workload(const std::string& kind, const std::string& name, const std::string& labels,
              const std::string& owner = "") {
  std::string y = "apiVersion: apps/v1\nkind: " + kind + "\nmetadata:\n  name: " + name +
                  "\n  namespace: default\n  labels: " + labels + "\n";
  if (!owner.empty()) y += "  ownerReferences: [{kind: " + owner.substr(0, owner.find('/')) + ", name: " +
                           owner.substr(owner.find('/') + 1) + ", controller: true}]\n";
  if (kind == "Pod")
    y += "spec: {containers: [{name: app, image: x}]}\n";
  else if (kind == "CronJob")
    y += "spec: {jobTemplate: {spec: {template: {spec: {containers: [{name: app, image: x}]}}}}}\n";
  else
    y += "spec: {template: {metadata: {labels: {a: b}}, spec: {containers: [{name: app, image: x}]}}}\n";
  return otel::parseYaml(y);
}
}  // namespace

TEST(InjectLive, AllWithSelectorSkipsOwnedWorkloads) {
  FakeCluster c;
  c.put(workload("Deployment", "web", "{team: a}"));
  c.put(workload("Deployment", "other", "{team: b}"));
  c.put(workload("StatefulSet", "db", "{team: a}"));
  c.put(workload("ReplicaSet", "web-123", "{team: a}", "Deployment/web"));
  c.put(workload("ReplicaSet", "lonely", "{team: a}"));
  c.put(workload("Pod", "web-123-x", "{team: a}", "ReplicaSet/web-123"));
  c.put(workload("Pod", "bare", "{team: a}"));
  c.put(workload("CronJob", "nightly", "{team: a}"));
  c.put(workload("Job", "nightly-1", "{team: a}", "CronJob/nightly"));
  LiveOptions o;
  o.inject.languages = {Language::Java};
  o.labelSelector = "team=a";
  auto r = runLive({}, o, c.access());
  std::vector<std::string> refs;
  for (const auto& x : r) {
    refs.push_back(x.ref);
    EXPECT_EQ(x.changed, x.ref != "pod/bare") << x.ref << ": " << x.outcome;
  }
  EXPECT_EQ(r.back().outcome.rfind("skipped: a running Pod's spec cannot be changed", 0), 0u) << r.back().outcome;
  EXPECT_FALSE(r.back().error);
  EXPECT_EQ(refs, (std::vector<std::string>{"deployment/web", "statefulset/db", "replicaset/lonely", "cronjob/nightly",
                                            "pod/bare"}));
  EXPECT_NE(r[0].outcome.find("(pods are replaced by the rollout)"), std::string::npos) << r[0].outcome;
  EXPECT_EQ(c.catalogReads, 1);  // once per namespace, not per workload
  EXPECT_EQ(c.objects.at("Deployment/default/other")["spec"]["template"]["spec"].count("initContainers"), 0u);

  // Named explicitly, an owned ReplicaSet is skipped with the owner to use instead.
  auto named = runLive({"rs/web-123"}, o, c.access());
  EXPECT_FALSE(named[0].error);
  EXPECT_EQ(named[0].outcome, "skipped: managed by deployment/web (inject deployment/web instead: it would undo a "
                              "change here)");
  // --all without a selector takes the rest too; those already injected say so.
  LiveOptions all = o;
  all.labelSelector = "";
  all.all = true;
  auto every = runLive({}, all, c.access());
  ASSERT_EQ(every.size(), 6u);
  EXPECT_EQ(every[0].ref, "deployment/other");
  EXPECT_TRUE(every[0].changed);
  EXPECT_EQ(every[1].ref, "deployment/web");
  EXPECT_EQ(every[1].outcome.rfind("already injected", 0), 0u) << every[1].outcome;
}

TEST(InjectLive, MissingInstrumentationIsOneLineWithTheFixAndWritesNothing) {
  FakeCluster c;
  c.put(workload("Deployment", "web", "{team: a}"));
  c.put(workload("Deployment", "api", "{team: a}"));
  c.noInstrumentation = true;
  std::string rv = c.objects.at("Deployment/default/web")["metadata"]["resourceVersion"];
  LiveOptions o;
  o.inject.languages = {Language::Java};
  o.inject.instrumentation = "my-inst";
  auto r = runLive({"deploy/web", "deploy/api"}, o, c.access());
  ASSERT_EQ(r.size(), 2u);
  EXPECT_TRUE(r[0].error);
  EXPECT_EQ(r[0].outcome,
            "error: instrumentation \"my-inst\" not found in namespace \"default\": create it with kubectl otel create "
            "instrumentation my-inst -n default --endpoint http://COLLECTOR:4318 (or use --endpoint URL for an inline "
            "Instrumentation)");
  EXPECT_EQ(c.objects.at("Deployment/default/web")["metadata"]["resourceVersion"], rv);
  // Annotate mode checks too (the webhook would silently admit pods uninstrumented).
  o.annotate = true;
  auto a = runLive({"deploy/web"}, o, c.access());
  EXPECT_TRUE(a[0].error);
  EXPECT_NE(a[0].outcome.find("instrumentation \"my-inst\" not found"), std::string::npos) << a[0].outcome;
  EXPECT_EQ(c.objects.at("Deployment/default/web")["metadata"]["resourceVersion"], rv);
  o.annotate = false;
  o.inject.languages.clear();
  o.inject.instrumentation.clear();
  o.inject.sidecar = true;
  o.inject.collector = "team/col";
  EXPECT_EQ(runLive({"deploy/web"}, o, c.access())[0].outcome,
            "error: collector \"col\" not found in namespace \"team\": create it with kubectl otel create "
            "collector col -n team --mode sidecar");
}

TEST(InjectLive, PodWebhookConfigurationByNameOrUpstreamWebhook) {
  EXPECT_EQ(podWebhookConfiguration(otel::parseYaml("items: []")), "");
  EXPECT_EQ(podWebhookConfiguration(otel::parseYaml(
                "items: [{metadata: {name: other}, webhooks: [{name: x.example.com}]}]")),
            "");
  // The upstream operator's configuration (its pod webhook is mpod.kb.io).
  EXPECT_EQ(podWebhookConfiguration(otel::parseYaml(
                "items: [{metadata: {name: opentelemetry-operator-mutation}, webhooks: [{name: mpod.kb.io}]}]")),
            "opentelemetry-operator-mutation");
  // Ours wins when both are there.
  EXPECT_EQ(podWebhookConfiguration(otel::parseYaml(
                "items: [{metadata: {name: a-upstream}, webhooks: [{name: mpod.kb.io}]},"
                " {metadata: {name: kubectl-otel-mutating-webhook-configuration}, webhooks: []}]")),
            "kubectl-otel-mutating-webhook-configuration");
}

// A 409 in the preflight, and the fresh read can no longer be injected: nothing is written at all.
TEST(InjectLive, FailureAfterAConflictInThePreflightWritesNone) {
  FakeCluster c;
  for (const char* name : {"api", "web"}) {
    Json w = workload("Deployment", name, "{team: a}");
    w["spec"]["template"]["metadata"]["annotations"] = {{"instrumentation.opentelemetry.io/inject-java", "i"}};
    c.put(w);
  }
  // The first update sent (api's preflight) races with a writer that sets an invalid annotation value.
  c.writerConflicts = 1;
  c.otherWriter = [](Json& o) {
    o["spec"]["template"]["metadata"]["annotations"]["instrumentation.opentelemetry.io/inject-java"] = "not a name!";
  };
  LiveOptions o;  // no --lang: the templates' annotations decide, as the webhook would
  auto r = runLive({"deploy/api", "deploy/web"}, o, c.access());
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(c.writes, 0) << r[0].outcome << " | " << r[1].outcome;
  EXPECT_TRUE(r[0].error) << r[0].outcome;
  EXPECT_FALSE(r[1].changed) << r[1].outcome;
  EXPECT_EQ(r[1].outcome.rfind("not written (another workload failed; nothing was written)", 0), 0u) << r[1].outcome;
}

TEST(InjectLive, PodWebhookTargetAndReadyEndpoints) {
  auto t = podWebhookTarget(otel::parseYaml(
      "items: [{metadata: {name: kubectl-otel-mutating-webhook-configuration}, webhooks: [{name: mpod.kb.io, "
      "clientConfig: {service: {namespace: sys, name: hook, port: 443}}}]}]"));
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->serviceNamespace, "sys");
  EXPECT_EQ(t->serviceName, "hook");
  EXPECT_FALSE(t->url);
  auto byUrl = podWebhookTarget(otel::parseYaml(
      "items: [{metadata: {name: up}, webhooks: [{name: mpod.kb.io, clientConfig: {url: 'https://x/mutate'}}]}]"));
  ASSERT_TRUE(byUrl.has_value());
  EXPECT_TRUE(byUrl->url);
  EXPECT_FALSE(podWebhookTarget(otel::parseYaml("items: []")).has_value());
  EXPECT_FALSE(anyReadyEndpoint(otel::parseYaml("items: []")));
  EXPECT_FALSE(anyReadyEndpoint(otel::parseYaml("items: [{endpoints: [{conditions: {ready: false}}]}]")));
  EXPECT_TRUE(anyReadyEndpoint(otel::parseYaml("items: [{endpoints: [{conditions: {ready: false}}, {conditions: {ready: true}}]}]")));
  EXPECT_TRUE(anyReadyEndpoint(otel::parseYaml("items: [{endpoints: [{addresses: [10.0.0.1]}]}]")));  // unknown = ready
  EXPECT_FALSE(anyReadyEndpoint(otel::parseYaml("items: [{endpoints: null}]")));
}

TEST(InjectLive, AnyControllerOwnerManagesTheWorkload) {
  // A collector's own Deployment (owned by the OpenTelemetryCollector) or another operator's: left alone.
  EXPECT_EQ(managingOwner(workload("Deployment", "gw-collector", "{}", "OpenTelemetryCollector/gw")),
            "opentelemetrycollector/gw");
  EXPECT_EQ(managingOwner(workload("StatefulSet", "db", "{}", "Rollout/db")), "rollout/db");
  EXPECT_EQ(managingOwner(workload("Deployment", "web", "{}")), "");
  // a non-controller owner reference (e.g. for garbage collection only) does not manage it
  Json gcOnly = workload("Deployment", "web", "{}");
  gcOnly["metadata"]["ownerReferences"] = Json::array({{{"kind", "ConfigMap"}, {"name", "x"}}});
  EXPECT_EQ(managingOwner(gcOnly), "");
}

TEST(InjectLive, ConflictRetryStopsWhenTheFreshReadIsAlreadyInjected) {
  FakeCluster c;
  c.put(otel::parseYaml(kDeploy));
  LiveOptions o;
  o.inject.languages = {Language::Java};
  LiveAccess a = c.access();
  auto update = a.update;
  bool raced = false;
  // Another kubectl-otel injected the same workload between our read and our write.
  a.update = [&](const Json& obj, bool dry) -> Json {
    if (!raced) {
      raced = true;
      auto other = runLive({"deploy/web"}, o, c.access());
      EXPECT_TRUE(other[0].changed);
    }
    return update(obj, dry);
  };
  auto r = runLive({"deploy/web"}, o, a);
  EXPECT_FALSE(r[0].error) << r[0].outcome;
  EXPECT_FALSE(r[0].changed);
  EXPECT_EQ(r[0].conflicts, 1);
  EXPECT_EQ(r[0].outcome.rfind("already injected", 0), 0u) << r[0].outcome;
}

TEST(InjectLive, PreflightRefusalOfOneWorkloadWritesNone) {
  FakeCluster c;
  c.put(workload("Deployment", "web", "{team: a}"));
  c.put(workload("Deployment", "api", "{team: a}"));
  c.refuse = {"api"};
  LiveOptions o;
  o.inject.languages = {Language::Java};
  auto r = runLive({"deploy/web", "deploy/api"}, o, c.access());
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(c.writes, 0);
  EXPECT_FALSE(r[0].error);
  EXPECT_FALSE(r[0].changed);
  EXPECT_EQ(r[0].outcome.rfind("not written (the server refused another workload; nothing was written)", 0), 0u)
      << r[0].outcome;
  EXPECT_TRUE(r[1].error);
  EXPECT_EQ(r[1].outcome, "error: admission webhook \"no.example.com\" denied the request: not today");

  // A preflight that fails for another reason (dry runs unsupported) does not stop the writes.
  c.refuse.clear();
  c.noDryRun = true;
  auto ok = runLive({"deploy/web", "deploy/api"}, o, c.access());
  EXPECT_TRUE(ok[0].changed) << ok[0].outcome;
  EXPECT_TRUE(ok[1].changed) << ok[1].outcome;
  EXPECT_EQ(c.writes, 2);

  // One workload: no preflight (its single write is all or nothing already).
  c.noDryRun = false;
  c.put(workload("Deployment", "solo", "{team: b}"));
  const int dryRuns = c.serverDryRuns;
  EXPECT_TRUE(runLive({"deploy/solo"}, o, c.access())[0].changed);
  EXPECT_EQ(c.serverDryRuns, dryRuns);
}

namespace otel::inject {
namespace {

TEST(InjectLive, ChooseLiveMode) {
  PodWebhookState none, served{"kubectl-otel-mutating-webhook-configuration", "", ""},
      unserved{"cfg", "mutatingwebhookconfiguration/cfg is installed but its service ns/svc has no ready endpoint", ""},
      unreadable{"", "", "could not read the pod webhook's configuration: forbidden"};
  EXPECT_FALSE(liveModeNeedsClusterState("direct", false));
  EXPECT_FALSE(liveModeNeedsClusterState("", true));
  EXPECT_TRUE(liveModeNeedsClusterState("", false));
  EXPECT_TRUE(liveModeNeedsClusterState("annotate", true));
  EXPECT_EQ(chooseLiveMode("direct", false, served), std::make_pair(false, std::string("--mode=direct")));
  EXPECT_FALSE(chooseLiveMode("", true, served).first);  // --endpoint: only direct can carry it
  EXPECT_EQ(chooseLiveMode("", false, served),
            std::make_pair(true, std::string("the controller's pod webhook is installed and served: "
                                             "mutatingwebhookconfiguration/kubectl-otel-mutating-webhook-configuration")));
  EXPECT_EQ(chooseLiveMode("", false, unserved), std::make_pair(false, unserved.unserved));
  EXPECT_EQ(chooseLiveMode("", false, unreadable), std::make_pair(false, unreadable.readError));
  EXPECT_EQ(chooseLiveMode("", false, none).second,
            "no pod webhook of the controller is installed; kubectl otel install adds it");
  EXPECT_TRUE(chooseLiveMode("annotate", false, none).first);  // asked for: done, with a warning
  EXPECT_NE(chooseLiveMode("annotate", false, none).second.find("warning: no pod webhook"), std::string::npos);
  EXPECT_NE(chooseLiveMode("annotate", false, unserved).second.find("warning: " + unserved.unserved), std::string::npos);
  EXPECT_EQ(chooseLiveMode("annotate", false, served).second, "--mode=annotate");
  EXPECT_EQ(liveKindApiVersion("CronJob"), "batch/v1");
  EXPECT_EQ(liveKindApiVersion("ReplicationController"), "v1");
  EXPECT_THROW(liveKindApiVersion("Service"), otel::Error);
}

}  // namespace
}  // namespace otel::inject
