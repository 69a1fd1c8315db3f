// PURE parts of the controller: containment against what a real kube-apiserver stores (the
// apiserver-captures/defaults files), the update/recreate plan, ConfigMap pruning, status.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "lib/controller/desired.h"
#include "lib/controller/mutate.h"
#include "lib/controller/status.h"
#include "lib/core/error.h"
#include "lib/manifests/build.h"

namespace fs = std::filesystem;
using otel::Json;
using namespace otel::controller;

namespace {

Json deployment() {
  return Json::parse(R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"x-collector","namespace":"ns",
    "labels":{"app.kubernetes.io/name":"x-collector"}},
    "spec":{"replicas":1,"selector":{"matchLabels":{"app.kubernetes.io/name":"x-collector"}},
      "template":{"metadata":{"labels":{"app.kubernetes.io/name":"x-collector"},"annotations":{"opentelemetry-operator-config/sha256":"aa"}},
        "spec":{"containers":[{"name":"otc-container","image":"img:1","args":["--config=/conf/collector.yaml"]}],
                "hostNetwork":false}}}})");
}

// What kube-apiserver adds to it (from apiserver-captures/defaults/Deployment-*.json).
Json withServerDefaults(Json d) {
  d["metadata"]["uid"] = "u";
  d["metadata"]["resourceVersion"] = "7";
  d["spec"]["strategy"] = {{"type", "RollingUpdate"}, {"rollingUpdate", {{"maxSurge", "25%"}, {"maxUnavailable", "25%"}}}};
  d["spec"]["revisionHistoryLimit"] = 10;
  d["spec"]["progressDeadlineSeconds"] = 600;
  auto& ps = d["spec"]["template"]["spec"];
  ps.erase("hostNetwork");  // omitempty: false is not stored
  ps["restartPolicy"] = "Always";
  ps["dnsPolicy"] = "ClusterFirst";
  ps["securityContext"] = Json::object();
  ps["containers"][0]["imagePullPolicy"] = "IfNotPresent";
  ps["containers"][0]["terminationMessagePath"] = "/dev/termination-log";
  d["status"] = Json::object();
  return d;
}

TEST(Contains, ServerDefaultsAreNotDifferences) {
  Json d = deployment();
  EXPECT_TRUE(containsDesired(withServerDefaults(d), d));
  Json changed = d;
  changed["spec"]["template"]["spec"]["containers"][0]["image"] = "img:2";
  EXPECT_FALSE(containsDesired(withServerDefaults(d), changed));
  Json more = d;
  more["spec"]["template"]["spec"]["containers"][0]["args"].push_back("--x");
  EXPECT_FALSE(containsDesired(withServerDefaults(d), more));  // arrays must have the same length
  Json truthy = d;
  truthy["spec"]["template"]["spec"]["hostNetwork"] = true;
  EXPECT_FALSE(containsDesired(withServerDefaults(d), truthy));
}

// Every object our builders render, against what a real kube-apiserver v1.36 stored for it.
TEST(Contains, EveryCapturedDefaultIsContained) {
  fs::path dir = fs::path(OTEL_SHARED_REFERENCE) / "apiserver-captures" / "defaults";
  if (!fs::exists(dir)) GTEST_SKIP() << "no " << dir << " (../shared/reference is absent beside this clone)";
  int n = 0;
  for (const auto& e : fs::directory_iterator(dir)) {
    std::string name = e.path().filename().string();
    if (e.path().extension() != ".json" || name.rfind("refusal-", 0) == 0) continue;
    std::ifstream in(e.path());
    Json cap = Json::parse(in);
    ASSERT_TRUE(cap.contains("sent") && cap.contains("stored")) << name;
    EXPECT_TRUE(containsDesired(cap["stored"], cap["sent"])) << name;
    // and so the plan is "nothing to do" once the hash annotation is there
    Json stored = cap["stored"];
    stored["metadata"]["annotations"][kDesiredHashAnnotation] = desiredHash(cap["sent"]);
    EXPECT_EQ(planChange(&stored, cap["sent"]).verb, Verb::None) << name;
    ++n;
  }
  EXPECT_GE(n, 59);
}

TEST(Plan, CreateUpdateNone) {
  Json d = deployment();
  Change c = planChange(nullptr, d);
  ASSERT_EQ(c.verb, Verb::Create);
  EXPECT_EQ(c.object["metadata"]["annotations"][kDesiredHashAnnotation], desiredHash(d));
  Json stored = withServerDefaults(c.object);
  EXPECT_EQ(planChange(&stored, d).verb, Verb::None);
  // drift: someone changed the image
  Json drifted = stored;
  drifted["spec"]["template"]["spec"]["containers"][0]["image"] = "evil";
  Change u = planChange(&drifted, d);
  ASSERT_EQ(u.verb, Verb::Update);
  EXPECT_EQ(u.object["spec"]["template"]["spec"]["containers"][0]["image"], "img:1");
  EXPECT_EQ(u.object["metadata"]["resourceVersion"], "7");  // conditional on what was read
}

TEST(Plan, RemovedFieldIsAnUpdateThroughTheHash) {
  Json d = deployment();
  d["spec"]["template"]["spec"]["nodeSelector"] = {{"disk", "ssd"}};
  Json stored = withServerDefaults(planChange(nullptr, d).object);
  Json without = deployment();  // nodeSelector removed from the CR
  ASSERT_TRUE(containsDesired(stored, without));
  Change u = planChange(&stored, without);
  ASSERT_EQ(u.verb, Verb::Update);
  EXPECT_FALSE(u.object["spec"]["template"]["spec"].contains("nodeSelector"));
}

TEST(Plan, UpdateKeepsForeignLabelsTemplateAnnotationsAndClusterIp) {
  Json d = deployment();
  Json stored = withServerDefaults(planChange(nullptr, d).object);
  stored["metadata"]["labels"]["team"] = "obs";
  stored["spec"]["template"]["metadata"]["annotations"]["kubectl.kubernetes.io/restartedAt"] = "now";
  stored["spec"]["template"]["spec"]["containers"][0]["image"] = "evil";
  Change u = planChange(&stored, d);
  ASSERT_EQ(u.verb, Verb::Update);
  EXPECT_EQ(u.object["metadata"]["labels"]["team"], "obs");
  EXPECT_EQ(u.object["spec"]["template"]["metadata"]["annotations"]["kubectl.kubernetes.io/restartedAt"], "now");

  Json svc = Json::parse(R"({"apiVersion":"v1","kind":"Service","metadata":{"name":"s","namespace":"ns"},
     "spec":{"ports":[{"name":"otlp","port":4317}],"selector":{"a":"b"}}})");
  Json storedSvc = planChange(nullptr, svc).object;
  storedSvc["spec"]["clusterIP"] = "10.0.0.7";
  storedSvc["spec"]["clusterIPs"] = {"10.0.0.7"};
  storedSvc["spec"]["ports"][0]["protocol"] = "TCP";
  Json svc2 = svc;
  svc2["spec"]["ports"][0]["port"] = 4318;
  Change us = planChange(&storedSvc, svc2);
  ASSERT_EQ(us.verb, Verb::Update);
  EXPECT_EQ(us.object["spec"]["clusterIP"], "10.0.0.7");
  EXPECT_EQ(us.object["spec"]["ports"][0]["port"], 4318);
}

TEST(Plan, ImmutableFieldsRecreate) {
  Json d = deployment();
  Json stored = withServerDefaults(planChange(nullptr, d).object);
  Json sel = d;
  sel["spec"]["selector"]["matchLabels"]["new"] = "x";
  sel["spec"]["template"]["metadata"]["labels"]["new"] = "x";
  EXPECT_EQ(planChange(&stored, sel).verb, Verb::Recreate);
  // a stored selector with an extra label contains the desired one, and is still recreated
  Json extra = stored;
  extra["spec"]["selector"]["matchLabels"]["old"] = "y";
  EXPECT_EQ(immutableChange(extra, d), "spec.selector changed");
  Json sts = d;
  sts["kind"] = "StatefulSet";
  sts["spec"]["serviceName"] = "x-collector";
  Json storedSts = withServerDefaults(planChange(nullptr, sts).object);
  Json vct = sts;
  vct["spec"]["volumeClaimTemplates"] = Json::array({{{"metadata", {{"name", "data"}}}}});
  EXPECT_EQ(planChange(&storedSts, vct).verb, Verb::Recreate);
  Json headless = Json::parse(R"({"apiVersion":"v1","kind":"Service","metadata":{"name":"h"},"spec":{"clusterIP":"None"}})");
  Json storedIp = headless;
  storedIp["spec"]["clusterIP"] = "10.0.0.9";
  EXPECT_EQ(immutableChange(storedIp, headless), "spec.clusterIP changed");
}

Json cm(const std::string& name, const std::string& ts, const std::string& rv) {
  return {{"kind", "ConfigMap"}, {"metadata", {{"name", name}, {"creationTimestamp", ts}, {"resourceVersion", rv}}}};
}

TEST(Prune, KeepsConfigVersionsPlusCurrent) {
  std::vector<Json> owned = {cm("a", "2026-01-01T00:00:00Z", "9"), cm("b", "2026-01-01T00:00:00Z", "10"),
                             cm("c", "2026-01-01T00:00:01Z", "11"), cm("cur", "2026-01-01T00:00:02Z", "12")};
  EXPECT_EQ(configMapsToPrune(owned, "cur", 1), (std::vector<std::string>{"b", "a"}));
  EXPECT_EQ(configMapsToPrune(owned, "cur", 2), (std::vector<std::string>{"a"}));
  EXPECT_TRUE(configMapsToPrune(owned, "cur", 3).empty());
  EXPECT_EQ(configMapsToPrune(owned, "cur", 0), (std::vector<std::string>{"b", "a"}));  // at least one kept
}

TEST(Status, ScaleVersionImageAndCondition) {
  Json c = {{"metadata", {{"name", "x"}, {"generation", 3}}}, {"spec", {{"mode", "deployment"}}}};
  Json w = deployment();
  w["status"] = {{"replicas", 2}, {"readyReplicas", 1}};
  Json st = collectorStatus(c, &w, "", "0.158.0", "T1");
  EXPECT_EQ(st["scale"]["replicas"], 2);
  EXPECT_EQ(st["scale"]["statusReplicas"], "1/2");
  EXPECT_EQ(st["scale"]["selector"], "app.kubernetes.io/name=x-collector");
  EXPECT_EQ(st["version"], "0.158.0");
  EXPECT_EQ(st["image"], "img:1");
  EXPECT_EQ(st["observedGeneration"], 3);
  EXPECT_EQ(st["conditions"][0]["reason"], "Reconciled");
  // the transition time stays while the status does not change; an error flips it
  c["status"] = st;
  EXPECT_EQ(collectorStatus(c, &w, "", "0.158.0", "T2")["conditions"][0]["lastTransitionTime"], "T1");
  Json bad = collectorStatus(c, &w, "boom", "0.158.0", "T3");
  EXPECT_EQ(bad["conditions"][0]["status"], "False");
  EXPECT_EQ(bad["conditions"][0]["reason"], "ReconcileError");
  EXPECT_EQ(bad["conditions"][0]["message"], "boom");
  EXPECT_EQ(bad["conditions"][0]["lastTransitionTime"], "T3");
  Json old = c;
  old["status"]["version"] = "0.100.0";
  EXPECT_EQ(collectorStatus(old, &w, "", "0.158.0", "T")["version"], "0.100.0");  // kept: upgrades move it
}

TEST(Desired, InvalidCollectorThrowsUpstreamsMessage) {
  Json c = Json::parse(R"({"apiVersion":"opentelemetry.io/v1beta1","kind":"OpenTelemetryCollector",
    "metadata":{"name":"x","namespace":"ns","uid":"u1"},
    "spec":{"mode":"statefulset","targetAllocator":{"enabled":true},
      "config":{"receivers":{"otlp":{"protocols":{"grpc":{}}}},"exporters":{"debug":{}},
        "service":{"pipelines":{"traces":{"receivers":["otlp"],"exporters":["debug"]}}}}}})");
  try {
    desiredForCollector(c, nullptr, otel::manifests::Options{});
    FAIL() << "no error";
  } catch (const otel::Error& e) {
    EXPECT_NE(std::string(e.what()).find("no prometheus available as part of the configuration"), std::string::npos) << e.what();
  }
}

TEST(Desired, GeneratedTargetAllocatorIsOwnedByTheCollector) {
  Json c = Json::parse(R"({"apiVersion":"opentelemetry.io/v1beta1","kind":"OpenTelemetryCollector",
    "metadata":{"name":"x","namespace":"ns","uid":"u1"},
    "spec":{"mode":"statefulset","targetAllocator":{"enabled":true},
      "config":{"receivers":{"prometheus":{"config":{"scrape_configs":[{"job_name":"a","static_configs":[{"targets":["a:1"]}]}]}}},
        "exporters":{"debug":{}},"service":{"pipelines":{"metrics":{"receivers":["prometheus"],"exporters":["debug"]}}}}}})");
  auto d = desiredForCollector(c, nullptr, otel::manifests::Options{});
  const Json* ta = nullptr;
  for (const auto& o : d.objects)
    if (o.value("kind", "") == "TargetAllocator") ta = &o;
  ASSERT_NE(ta, nullptr);
  EXPECT_EQ((*ta)["metadata"]["ownerReferences"][0]["uid"], "u1");
  EXPECT_EQ(objectKey(*ta), "TargetAllocator/ns/x");
}

}  // namespace

#include "lib/controller/upgrade.h"

namespace {

Json oldCollector(const std::string& version) {
  return Json::parse(R"({"apiVersion":"opentelemetry.io/v1beta1","kind":"OpenTelemetryCollector","metadata":{"name":"old"},
    "spec":{"config":{"receivers":{"prometheus":{"config":{}}},"exporters":{"debug":{}},
      "service":{"pipelines":{"metrics":{"receivers":["prometheus"],"exporters":["debug"]}}}}},
    "status":{"version":")" + version + R"("}})");
}

TEST(Upgrade, FromBeforeTheV1beta1RoutinesEndsWithReadersAndNoFeatureGates) {
  auto r = upgradeCollector(oldCollector("0.100.0"), "0.158.0");
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_TRUE(r.specChanged);
  EXPECT_EQ(r.collector["status"]["version"], "0.158.0");
  // 0.104 added the feature gates, 0.105 and 0.110 removed them again
  EXPECT_FALSE(r.collector["spec"].contains("args")) << r.collector["spec"].dump();
  // 0.111 set the deprecated address, 0.122 moved it to a pull reader
  Json m = r.collector["spec"]["config"]["service"]["telemetry"]["metrics"];
  EXPECT_FALSE(m.contains("address"));
  EXPECT_EQ(m["readers"], Json::parse(R"([{"pull":{"exporter":{"prometheus":{"host":"0.0.0.0","port":8888}}}}])"));
  ASSERT_EQ(r.warnings.size(), 1u);  // 0.104's otlp localhost warning
}

TEST(Upgrade, BetweenRoutinesOnlyTheLaterOnesRun) {
  Json c = oldCollector("0.110.0");
  c["spec"]["args"] = {{"feature-gates", "-component.UseLocalHostAsDefaultHost,+x"}};
  c["spec"]["config"]["service"]["telemetry"] = {{"metrics", {{"address", "${env:POD_IP}:9999"}}}};
  auto r = upgradeCollector(c, "0.158.0");
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.collector["spec"]["args"]["feature-gates"], "-component.UseLocalHostAsDefaultHost,+x");  // 0.110 already ran
  EXPECT_EQ(r.collector["spec"]["config"]["service"]["telemetry"]["metrics"]["readers"][0]["pull"]["exporter"]["prometheus"],
            Json::parse(R"({"host":"${env:POD_IP}","port":9999})"));
  EXPECT_TRUE(r.warnings.empty());
}

TEST(Upgrade, NotNeededOrNotPossible) {
  EXPECT_FALSE(needsUpgrade(oldCollector("0.158.0"), "0.158.0"));
  Json noStatus = oldCollector("");
  EXPECT_FALSE(needsUpgrade(noStatus, "0.158.0"));  // new CRs get the version from the status fill
  Json none = oldCollector("0.100.0");
  none["spec"]["upgradeStrategy"] = "none";
  EXPECT_FALSE(needsUpgrade(none, "0.158.0"));
  EXPECT_FALSE(needsUpgrade(oldCollector("0.200.0"), "0.158.0"));  // else it would never be reconciled
  auto newer = upgradeCollector(oldCollector("0.200.0"), "0.158.0");
  EXPECT_FALSE(newer.specChanged);
  EXPECT_EQ(newer.collector["status"]["version"], "0.200.0");
  EXPECT_FALSE(upgradeCollector(oldCollector("garbage"), "0.158.0").error.empty());
  Json badAddr = oldCollector("0.121.0");
  badAddr["spec"]["config"]["service"]["telemetry"] = {{"metrics", {{"address", "0.0.0.0:${env:PORT}"}}}};
  EXPECT_FALSE(upgradeCollector(badAddr, "0.158.0").error.empty());
}

}  // namespace
