// The test API server's built-in kinds as kube-apiserver v1.36 treats them (tests/support/builtin_*.h):
// fieldValidation, server-side apply of undeclared fields, update rules the captures do not cover, the Scale
// subresource, putObject defaulting. The captured behaviour itself is in api_server_captures_test.cpp.
#include <gtest/gtest.h>

#include "tests/support/api_server.h"
#include "tests/support/builtin_schema.h"
#include "tests/unit/apiserver/test_client.h"

namespace otel::testing {
namespace {

const std::string kDeploys = "/apis/apps/v1/namespaces/default/deployments";

Json deployment(const std::string& name) {
  return Json::parse(R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":")" + name + R"("},
    "spec":{"selector":{"matchLabels":{"app":"x"}},"template":{"metadata":{"labels":{"app":"x"}},
    "spec":{"containers":[{"name":"c","image":"busybox:1.36"}]}}}})");
}

TEST(BuiltinKinds, TypedRoundTripIsGoEncoding) {
  TypedDecodeIssues is;
  Json out = typedRoundTrip("apps.Deployment", Json::parse(R"({"spec":{"junk":1,"minReadySeconds":0,
      "template":{"spec":{"containers":[{"name":"c","junk2":true,"env":[]}]}}},"status":null,"kind":"Deployment"})"),
                            &is);
  EXPECT_EQ(is.unknownFields, std::vector<std::string>({"spec.junk", "spec.template.spec.containers[0].junk2"}));
  // omitempty zero values go, non-omitempty structs come (resources, template metadata, strategy, status).
  EXPECT_EQ(out.dump(), R"({"kind":"Deployment","metadata":{},"spec":{"selector":null,"template":{"metadata":{},)"
                        R"("spec":{"containers":[{"name":"c","resources":{}}]}},"strategy":{}},"status":{}})");
  TypedDecodeIssues bad;
  typedRoundTrip("apps.Deployment", Json::parse(R"({"spec":{"replicas":"3"}})"), &bad);
  EXPECT_EQ(bad.typeError,
            "json: cannot unmarshal string into Go struct field "
            "DeploymentSpec.spec.replicas of type int32");
}

TEST(BuiltinKinds, FieldValidationOnCreateUpdateAndPatch) {
  TestApiServer server;
  TestClient c(server);
  Json junk = deployment("d");
  junk["spec"]["junk"] = 1;
  const std::string strictMsg =
      "Deployment in version \"v1\" cannot be handled as a Deployment: strict "
      "decoding error: unknown field \"spec.junk\"";
  auto strict = c.post(kDeploys + "?fieldValidation=Strict", junk);
  EXPECT_EQ(strict.status, 400);
  EXPECT_EQ(strict.body["reason"], "BadRequest");
  EXPECT_EQ(strict.body["message"], strictMsg);
  // Warn is the server's default: accepted, dropped, one Warning header per field.
  auto warned = c.post(kDeploys, junk);
  ASSERT_EQ(warned.status, 201);
  EXPECT_FALSE(warned.body["spec"].contains("junk"));
  EXPECT_EQ(warned.warnings, std::vector<std::string>({R"(299 - "unknown field \"spec.junk\"")"}));
  Json other = junk;
  other["metadata"]["name"] = "e";
  auto ignored = c.post(kDeploys + "?fieldValidation=Ignore", other);
  EXPECT_EQ(ignored.status, 201);
  EXPECT_TRUE(ignored.warnings.empty());
  // Update: the same 400.
  Json put = warned.body;
  put["spec"]["junk"] = 1;
  auto putStrict = c.put(kDeploys + "/d?fieldValidation=Strict", put);
  EXPECT_EQ(putStrict.status, 400);
  EXPECT_EQ(putStrict.body["message"], strictMsg);
  // Patches: a 422 on `patch` (a strategic merge patch is rendered as Go prints the patch map).
  auto smp = c.patch(kDeploys + "/d?fieldValidation=Strict", R"({"spec":{"junk":1}})",
                     "application/strategic-merge-patch+json");
  EXPECT_EQ(smp.status, 422);
  EXPECT_EQ(smp.body["message"],
            " \"\" is invalid: patch: Invalid value: "
            "\"map[spec:map[junk:1]]\": strict decoding error: "
            "unknown field \"spec.junk\"");
  EXPECT_EQ(smp.body["details"]["causes"][0]["field"], "patch");
  auto merge =
      c.patch(kDeploys + "/d?fieldValidation=Strict", R"({"spec":{"junk":1}})", "application/merge-patch+json");
  EXPECT_EQ(merge.status, 422);
  std::string m = merge.body["message"].get<std::string>();
  EXPECT_EQ(m.rfind(" \"\" is invalid: patch: Invalid value: \"{", 0), 0u) << m;
  EXPECT_NE(m.find("\": strict decoding error: unknown field \"spec.junk\""), std::string::npos) << m;
  auto mergeWarn = c.patch(kDeploys + "/d", R"({"spec":{"junk":1}})", "application/merge-patch+json");
  EXPECT_EQ(mergeWarn.status, 200);
  EXPECT_EQ(mergeWarn.warnings.size(), 1u);
  // Server-side apply refuses undeclared fields whatever fieldValidation says: kube v1.36's 500 without a reason.
  auto apply =
      c.patch(kDeploys + "/d?fieldManager=me&fieldValidation=Ignore", junk.dump(), "application/apply-patch+yaml");
  EXPECT_EQ(apply.status, 500);
  EXPECT_FALSE(apply.body.contains("reason"));
  EXPECT_EQ(apply.body["message"],
            "failed to create typed patch object (default/d; apps/v1, "
            "Kind=Deployment): .spec.junk: field not declared in "
            "schema");
  // A type error is a 400 whatever the directive.
  Json typed = deployment("t");
  typed["spec"]["replicas"] = "3";
  auto te = c.post(kDeploys + "?fieldValidation=Ignore", typed);
  EXPECT_EQ(te.status, 400);
  EXPECT_EQ(te.body["message"],
            "Deployment in version \"v1\" cannot be handled as a Deployment: json: "
            "cannot unmarshal "
            "string into Go struct field DeploymentSpec.spec.replicas of type int32");
}

Json widgetCrd() {
  return Json::parse(
      R"({"apiVersion":"apiextensions.k8s.io/v1","kind":"CustomResourceDefinition",
    "metadata":{"name":"widgets.example.com"},"spec":{"group":"example.com","scope":"Namespaced",
    "names":{"plural":"widgets","singular":"widget","kind":"Widget"},
    "versions":[{"name":"v1","served":true,"storage":true,
      "subresources":{"status":{},"scale":{"specReplicasPath":".spec.size","statusReplicasPath":".status.count",
                                           "labelSelectorPath":".status.selector"}},
      "schema":{"openAPIV3Schema":{"type":"object","properties":{
        "spec":{"type":"object","properties":{"size":{"type":"integer"}}},
        "status":{"type":"object","properties":{"count":{"type":"integer"},"selector":{"type":"string"}}}}}}}]}})");
}

TEST(BuiltinKinds, CustomResourceFieldValidationAndScale) {
  TestApiServer server;
  TestClient c(server);
  ASSERT_EQ(c.post("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", widgetCrd()).status, 201);
  const std::string ws = "/apis/example.com/v1/namespaces/default/widgets";
  Json w = Json::parse(
      R"({"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"w"},
                           "spec":{"size":2,"junk":true}})");
  auto strict = c.post(ws + "?fieldValidation=Strict", w);
  EXPECT_EQ(strict.status, 400);
  EXPECT_EQ(strict.body["message"],
            "Widget in version \"v1\" cannot be handled as a Widget: strict "
            "decoding error: unknown field \"spec.junk\"");
  auto warned = c.post(ws, w);
  ASSERT_EQ(warned.status, 201);
  EXPECT_EQ(warned.warnings, std::vector<std::string>({R"(299 - "unknown field \"spec.junk\"")"}));
  EXPECT_FALSE(warned.body["spec"].contains("junk"));
  auto apply = c.patch(ws + "/w?fieldManager=me", w.dump(), "application/apply-patch+yaml");
  EXPECT_EQ(apply.status, 500);
  EXPECT_EQ(apply.body["message"],
            "failed to create typed patch object "
            "(default/w; example.com/v1, Kind=Widget): "
            ".spec.junk: field not declared in schema");
  // Scale: spec from specReplicasPath, status from statusReplicasPath and labelSelectorPath.
  Json st = c.get(ws + "/w").body;
  st["status"] = Json{{"count", 2}, {"selector", "app=w"}};
  ASSERT_EQ(c.put(ws + "/w/status", st).status, 200);
  auto scale = c.get(ws + "/w/scale");
  ASSERT_EQ(scale.status, 200);
  EXPECT_EQ(scale.body["spec"], Json({{"replicas", 2}}));
  EXPECT_EQ(scale.body["status"], Json({{"replicas", 2}, {"selector", "app=w"}}));
  auto scaled = c.patch(ws + "/w/scale", R"({"spec":{"replicas":5}})", "application/merge-patch+json");
  ASSERT_EQ(scaled.status, 200) << scaled.raw;
  EXPECT_EQ(scaled.body["spec"]["replicas"], 5);
  EXPECT_EQ(c.get(ws + "/w").body["spec"]["size"], 5);
}

TEST(BuiltinKinds, WorkloadScaleHasTheSelector) {
  TestApiServer server;
  TestClient c(server);
  Json d = deployment("d");
  d["spec"]["selector"]["matchExpressions"] = Json::parse(R"([{"key":"tier","operator":"In","values":["b","a"]}])");
  ASSERT_EQ(c.post(kDeploys, d).status, 201);
  auto scale = c.get(kDeploys + "/d/scale");
  EXPECT_EQ(scale.body["spec"]["replicas"], 1);
  EXPECT_EQ(scale.body["status"]["selector"], "app=x,tier in (a,b)");
}

TEST(BuiltinKinds, UpdatesKeepWhatTheServerSet) {
  TestApiServer server;
  TestClient c(server);
  const std::string svcs = "/api/v1/namespaces/default/services";
  Json svc = Json::parse(
      R"({"apiVersion":"v1","kind":"Service","metadata":{"name":"s"},
                             "spec":{"selector":{"app":"x"},"ports":[{"port":80}]}})");
  auto created = c.post(svcs, svc);
  ASSERT_EQ(created.status, 201);
  std::string ip = created.body["spec"]["clusterIP"].get<std::string>();
  EXPECT_EQ(created.body["spec"]["ports"][0].dump(), R"({"protocol":"TCP","port":80,"targetPort":80})");  // Go order
  // A PUT of the object as the client wants it (no clusterIP) keeps the address: nothing changes.
  Json put = svc;
  put["metadata"]["resourceVersion"] = created.body["metadata"]["resourceVersion"];
  auto same = c.put(svcs + "/s", put);
  ASSERT_EQ(same.status, 200) << same.raw;
  EXPECT_EQ(same.body["spec"]["clusterIP"], ip);
  EXPECT_EQ(same.body["metadata"]["resourceVersion"], created.body["metadata"]["resourceVersion"]);
  // Asking for an address in use is kube's 422.
  Json taken = svc;
  taken["metadata"]["name"] = "t";
  taken["spec"]["clusterIP"] = ip;
  auto refused = c.post(svcs, taken);
  EXPECT_EQ(refused.status, 422);
  EXPECT_EQ(refused.body["message"], "Service \"t\" is invalid: spec.clusterIPs: Invalid value: [\"" + ip +
                                         "\"]: failed to allocate IP " + ip + ": provided IP is already allocated");
  // Deleting the Service frees its address.
  ASSERT_EQ(c.del(svcs + "/s").status, 200);
  EXPECT_EQ(c.post(svcs, taken).status, 201);
  // NodePort Services get node ports; ExternalName ones no address.
  Json np = svc;
  np["metadata"]["name"] = "np";
  np["spec"]["type"] = "NodePort";
  auto npr = c.post(svcs, np);
  EXPECT_EQ(npr.body["spec"]["ports"][0]["nodePort"], 30000);
  EXPECT_EQ(npr.body["spec"]["externalTrafficPolicy"], "Cluster");
  Json en = Json::parse(
      R"({"apiVersion":"v1","kind":"Service","metadata":{"name":"en"},
                            "spec":{"type":"ExternalName","externalName":"example.com"}})");
  auto enr = c.post(svcs, en);
  EXPECT_FALSE(enr.body["spec"].contains("clusterIP"));
  EXPECT_FALSE(enr.body["spec"].contains("ipFamilies"));

  // DaemonSet: the template generation annotation counts template changes.
  const std::string dss = "/apis/apps/v1/namespaces/default/daemonsets";
  Json ds = deployment("ds");
  ds["kind"] = "DaemonSet";
  auto dsc = c.post(dss, ds);
  ASSERT_EQ(dsc.status, 201);
  EXPECT_EQ(dsc.body["metadata"]["annotations"]["deprecated.daemonset.template.generation"], "1");
  auto dsl = c.patch(dss + "/ds", R"({"metadata":{"labels":{"a":"b"}}})", "application/merge-patch+json");
  EXPECT_EQ(dsl.body["metadata"]["annotations"]["deprecated.daemonset.template.generation"], "1");
  auto dst = c.patch(dss + "/ds", R"({"spec":{"template":{"spec":{"containers":[{"name":"c","image":"busybox:2"}]}}}})",
                     "application/merge-patch+json");
  EXPECT_EQ(dst.body["metadata"]["annotations"]["deprecated.daemonset.template.generation"], "2");
  EXPECT_EQ(dst.body["metadata"]["generation"], 2);
}

TEST(BuiltinKinds, PodsAndJobsAsAdmissionAndStrategiesLeaveThem) {
  TestApiServer server;
  TestClient c(server);
  auto pod =
      c.post("/api/v1/namespaces/default/pods", Json::parse(R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},
                      "spec":{"containers":[{"name":"c","image":"busybox","resources":{"limits":{"cpu":"1"}}}]}})"));
  ASSERT_EQ(pod.status, 201);
  const Json& spec = pod.body["spec"];
  EXPECT_EQ(spec["serviceAccountName"], "default");
  EXPECT_EQ(spec["enableServiceLinks"], true);
  EXPECT_EQ(spec["priority"], 0);
  EXPECT_EQ(spec["preemptionPolicy"], "PreemptLowerPriority");
  EXPECT_EQ(spec["tolerations"].size(), 2u);
  EXPECT_EQ(spec["containers"][0]["imagePullPolicy"], "Always");
  EXPECT_EQ(spec["containers"][0]["resources"]["requests"], Json({{"cpu", "1"}}));
  EXPECT_EQ(pod.body["status"], Json::parse(R"({"phase":"Pending","qosClass":"Burstable"})"));

  const std::string jobs = "/apis/batch/v1/namespaces/default/jobs";
  auto job = c.post(jobs, Json::parse(
                              R"({"apiVersion":"batch/v1","kind":"Job","metadata":{"name":"j"},
      "spec":{"template":{"spec":{"restartPolicy":"Never","containers":[{"name":"c","image":"busybox"}]}}}})"));
  ASSERT_EQ(job.status, 201) << job.raw;
  std::string uid = job.body["metadata"]["uid"].get<std::string>();
  EXPECT_EQ(job.body["spec"]["selector"], Json({{"matchLabels", {{"batch.kubernetes.io/controller-uid", uid}}}}));
  EXPECT_EQ(job.body["spec"]["template"]["metadata"]["labels"]["job-name"], "j");
  EXPECT_EQ(job.body["spec"]["backoffLimit"], 6);
  EXPECT_EQ(job.body["spec"]["completionMode"], "NonIndexed");
  auto sel = c.patch(jobs + "/j", R"({"spec":{"selector":{"matchLabels":{"a":"b"}}}})", "application/merge-patch+json");
  EXPECT_EQ(sel.status, 422);
  EXPECT_EQ(sel.body["details"]["causes"][0]["field"], "spec.selector");
}

TEST(BuiltinKinds, PutObjectStoresWhatTheServerWouldHave) {
  TestApiServer server;
  Json stored = server.putObject(Json::parse(R"({"apiVersion":"apps/v1","kind":"Deployment",
      "metadata":{"name":"seeded","namespace":"default"},"spec":{"selector":{"matchLabels":{"app":"x"}},
      "template":{"metadata":{"labels":{"app":"x"}},"spec":{"containers":[{"name":"c","image":"busybox:1"}]}}},
      "status":{"replicas":1}})"));
  EXPECT_EQ(stored["spec"]["strategy"]["type"], "RollingUpdate");
  EXPECT_EQ(stored["spec"]["template"]["spec"]["dnsPolicy"], "ClusterFirst");
  EXPECT_EQ(stored["status"], Json({{"replicas", 1}}));  // the status stays as given
  Json svc = server.putObject(Json::parse(R"({"apiVersion":"v1","kind":"Service",
      "metadata":{"name":"s","namespace":"default"},"spec":{"ports":[{"port":80}]}})"));
  EXPECT_EQ(svc["spec"]["clusterIP"], "10.0.0.10");
  EXPECT_EQ(svc["spec"]["type"], "ClusterIP");
}

}  // namespace
}  // namespace otel::testing
