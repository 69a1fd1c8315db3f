// Live mode over an in-memory store with resourceVersion checks and a concurrent writer causing 409s.
#include <gtest/gtest.h>

#include <map>

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

struct FakeCluster {
  std::map<std::string, Json> objects;  // kind/ns/name
  int writerConflicts = 0;              // the next N updates race with another writer
  int rv = 1;
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
    a.update = [this](const Json& o) {
      std::string k = key(o["kind"], o["metadata"].value("namespace", "default"), o["metadata"]["name"]);
      if (writerConflicts > 0) {  // someone else scales the workload first
        --writerConflicts;
        Json other = objects[k];
        other["spec"]["replicas"] = other["spec"].value("replicas", 1) + 1;
        put(other);
      }
      if (objects[k]["metadata"]["resourceVersion"] != o["metadata"]["resourceVersion"]) throw ConflictError();
      put(o);
      return objects[k];
    };
    a.isConflict = [](const std::exception& e) { return dynamic_cast<const ConflictError*>(&e) != nullptr; };
    a.catalog = [](const std::string&) {
      return Catalog{{otel::parseYaml("apiVersion: opentelemetry.io/v1alpha1\nkind: Instrumentation\nmetadata: "
                                      "{name: i, namespace: default}\nspec: {exporter: {endpoint: 'http://c:4318'}}\n")},
                     {}};
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
  EXPECT_EQ(again[0].outcome, "skipped: skipping pod instrumentation - already instrumented");
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
  o.dryRun = true;
  o.inject.languages = {Language::Python};
  auto r = runLive({"deploy/web", "svc/web", "sts/nope"}, o, c.access());
  ASSERT_EQ(r.size(), 3u);
  EXPECT_TRUE(r[0].changed);
  EXPECT_EQ(c.objects.begin()->second["metadata"]["resourceVersion"], rvBefore);  // nothing written
  EXPECT_TRUE(r[1].error);
  EXPECT_NE(r[1].outcome.find("unsupported kind \"svc\""), std::string::npos);
  EXPECT_TRUE(r[2].error);
  EXPECT_NE(r[2].outcome.find("not found"), std::string::npos);
  c.writerConflicts = 100;  // a writer that always wins: bounded retries, then an error
  o.dryRun = false;
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
  o.inject.instrumentation = "my-inst";
  o.inject.sidecar = true;
  auto r = runLive({"deploy/web"}, o, c.access());
  ASSERT_FALSE(r[0].error) << r[0].outcome;
  const Json& ann = podTemplate(c.objects.begin()->second)->at("metadata").at("annotations");
  EXPECT_EQ(ann["instrumentation.opentelemetry.io/inject-java"], "my-inst");
  EXPECT_EQ(ann["sidecar.opentelemetry.io/inject"], "true");
  EXPECT_FALSE(podTemplate(c.objects.begin()->second)->at("spec").contains("initContainers"));
  EXPECT_EQ(runLive({"deploy/web"}, o, c.access())[0].outcome, "skipped: already annotated");
  LiveOptions u;
  u.uninject = true;
  runLive({"deploy/web"}, u, c.access());
  EXPECT_EQ(*podTemplate(c.objects.begin()->second), original);
}
