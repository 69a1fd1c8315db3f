// Behaviour of the test API server beyond the captures: selectors, pagination, watch resume and 410,
// finalizers and garbage collection, patches, server-side apply, admission webhooks, auth and faults.
#include "tests/support/api_server.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <thread>

#include "tests/support/api_logic.h"
#include "tests/support/certs.h"
#include "tests/unit/apiserver/test_client.h"

namespace otel::testing {
namespace {

const std::string kCms = "/api/v1/namespaces/default/configmaps";

std::string encode(const std::string& s) {
  std::string out;
  char buf[4];
  for (unsigned char ch : s) {
    if (std::isalnum(ch) || ch == '-' || ch == '.' || ch == '_') {
      out += static_cast<char>(ch);
    } else {
      std::snprintf(buf, sizeof buf, "%%%02X", ch);
      out += buf;
    }
  }
  return out;
}

Json cm(const std::string& name, const Json& labels = Json::object(), const Json& data = Json::object()) {
  Json m{{"name", name}};
  if (!labels.empty()) m["labels"] = labels;
  Json o{{"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"metadata", m}};
  if (!data.empty()) o["data"] = data;
  return o;
}

std::vector<std::string> names(const Json& list) {
  std::vector<std::string> out;
  for (const auto& i : list["items"]) out.push_back(i["metadata"]["name"].get<std::string>());
  return out;
}

Json widgetCrd(bool statusSubresource) {
  Json version{{"name", "v1"},
               {"served", true},
               {"storage", true},
               {"schema",
                {{"openAPIV3Schema",
                  {{"type", "object"},
                   {"properties",
                    {{"spec",
                      {{"type", "object"},
                       {"properties", {{"size", {{"type", "integer"}, {"minimum", 1}}}, {"free", {{"type", "object"}, {"x-kubernetes-preserve-unknown-fields", true}}}}}}},
                     {"status", {{"type", "object"}, {"properties", {{"ready", {{"type", "boolean"}}}}}}}}}}}}}};
  if (statusSubresource) version["subresources"] = Json{{"status", Json::object()}};
  return Json{{"apiVersion", "apiextensions.k8s.io/v1"},
              {"kind", "CustomResourceDefinition"},
              {"metadata", {{"name", "widgets.example.com"}}},
              {"spec",
               {{"group", "example.com"},
                {"scope", "Namespaced"},
                {"names", {{"plural", "widgets"}, {"singular", "widget"}, {"kind", "Widget"}, {"shortNames", {"wd"}}}},
                {"versions", Json::array({version})}}}};
}

TEST(TestApiServer, KubeconfigNamesServerCaAndToken) {
  TestApiServer server;
  auto path = std::filesystem::temp_directory_path() / ("kc-" + std::to_string(server.port()) + ".yaml");
  server.writeKubeconfig(path.string(), "demo");
  std::ifstream f(path);
  std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find("server: " + server.url()), std::string::npos);
  EXPECT_NE(text.find("certificate-authority-data: "), std::string::npos);
  EXPECT_NE(text.find("token: " + server.token()), std::string::npos);
  EXPECT_NE(text.find("namespace: demo"), std::string::npos);
  std::filesystem::remove(path);
}

TEST(TestApiServer, AuthenticationAndForbidden) {
  TestApiServerOptions o;
  o.forbiddenToken = "nope-token";
  TestApiServer server(o);
  TestClient anon(server, "-");
  auto r = anon.get(kCms);
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.body["reason"], "Unauthorized");
  TestClient wrong(server, "wrong");
  EXPECT_EQ(wrong.get(kCms).status, 401);
  TestClient forbidden(server, "nope-token");
  auto f = forbidden.get(kCms);
  EXPECT_EQ(f.status, 403);
  EXPECT_EQ(f.body["reason"], "Forbidden");
  EXPECT_EQ(f.body["message"],
            "configmaps is forbidden: User \"forbidden\" cannot list resource \"configmaps\" in API group \"\" in the "
            "namespace \"default\"");
  TestClient ok(server);
  EXPECT_EQ(ok.get(kCms).status, 200);
}

TEST(TestApiServer, ClientCertificateAuthenticates) {
  CertKey clientCa = generateCa("client-ca");
  CertKey clientCert = generateCert(clientCa, "alice", {}, true, {"devs"});
  TestApiServerOptions o;
  o.clientCaPem = clientCa.certPem;
  TestApiServer server(o);
  // The certificate's O is a group: RBAC lets the group "devs" read configmaps.
  server.putObject(Json::parse(R"({"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRole",
    "metadata":{"name":"cm-reader"},"rules":[{"verbs":["get","list"],"apiGroups":[""],"resources":["configmaps"]}]})"));
  server.putObject(Json::parse(R"({"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRoleBinding",
    "metadata":{"name":"devs-read-cm"},"subjects":[{"kind":"Group","apiGroup":"rbac.authorization.k8s.io","name":"devs"}],
    "roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","name":"cm-reader"}})"));
  auto dir = std::filesystem::temp_directory_path() / ("cc-" + std::to_string(server.port()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "c.pem") << clientCert.certPem;
  std::ofstream(dir / "k.pem") << clientCert.keyPem;
  std::ofstream(dir / "ca.pem") << server.caPem();
  httplib::SSLClient cli("127.0.0.1", server.port(), (dir / "c.pem").string(), (dir / "k.pem").string());
  cli.set_ca_cert_path((dir / "ca.pem").string().c_str());
  cli.enable_server_certificate_verification(true);
  auto r = cli.Get(kCms.c_str());
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  // Not a superuser: what RBAC does not grant is refused.
  auto secrets = cli.Get("/api/v1/namespaces/default/secrets");
  ASSERT_TRUE(secrets);
  EXPECT_EQ(secrets->status, 403);
  // The server sees CN as the user, O and system:authenticated as groups.
  auto who = cli.Post("/apis/authentication.k8s.io/v1/selfsubjectreviews",
                      R"({"apiVersion":"authentication.k8s.io/v1","kind":"SelfSubjectReview"})", "application/json");
  ASSERT_TRUE(who);
  EXPECT_EQ(who->status, 201);
  Json info = Json::parse(who->body)["status"]["userInfo"];
  EXPECT_EQ(info["username"], "alice");
  EXPECT_EQ(info["groups"], Json::array({"devs", "system:authenticated"}));
  ASSERT_TRUE(info["extra"].contains("authentication.kubernetes.io/credential-id"));
  EXPECT_EQ(info["extra"]["authentication.kubernetes.io/credential-id"][0].get<std::string>().rfind("X509SHA256=", 0), 0u);
  std::filesystem::remove_all(dir);
}

TEST(TestApiServer, CrudBasicsAndNamespaces) {
  TestApiServer server;
  TestClient c(server);
  // Unknown namespace.
  auto r = c.post("/api/v1/namespaces/missing/configmaps", cm("x"));
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.body["message"], "namespaces \"missing\" not found");
  // generateName.
  Json g = cm("");
  g["metadata"].erase("name");
  g["metadata"]["generateName"] = "gen-";
  r = c.post(kCms, g);
  ASSERT_EQ(r.status, 201);
  std::string name = r.body["metadata"]["name"];
  EXPECT_EQ(name.rfind("gen-", 0), 0u);
  EXPECT_EQ(name.size(), 9u);
  // Neither name nor generateName: kube's 422 (details without a name).
  g["metadata"].erase("generateName");
  r = c.post(kCms, g);
  EXPECT_EQ(r.status, 422);
  EXPECT_EQ(r.body["message"],
            "ConfigMap \"\" is invalid: metadata.name: Required value: name or generateName is required");
  EXPECT_EQ(r.body["details"], Json::parse(R"({"kind":"ConfigMap","causes":[{"reason":"FieldValueRequired",
      "message":"Required value: name or generateName is required","field":"metadata.name"}]})"));
  // resourceVersion is a global counter; uid and creationTimestamp are set.
  auto a = c.post(kCms, cm("a"));
  auto b = c.post(kCms, cm("b"));
  EXPECT_LT(std::stoll(a.body["metadata"]["resourceVersion"].get<std::string>()),
            std::stoll(b.body["metadata"]["resourceVersion"].get<std::string>()));
  EXPECT_EQ(a.body["metadata"]["uid"].get<std::string>().size(), 36u);
  EXPECT_TRUE(a.body["metadata"].contains("creationTimestamp"));
  EXPECT_FALSE(a.body["metadata"].contains("generation"));
  // Unknown fields of built-in kinds are dropped by typed decoding, as kube-apiserver does (with a Warning
  // under the default fieldValidation=Warn).
  Json u = cm("u");
  u["extra"] = Json{{"keep", true}};
  auto unk = c.post(kCms, u);
  EXPECT_EQ(unk.status, 201);
  EXPECT_FALSE(unk.body.contains("extra"));
  EXPECT_EQ(unk.warnings, std::vector<std::string>({R"(299 - "unknown field \"extra\"")"}));
  // No-op update: no new resourceVersion.
  auto got = c.get(kCms + "/a");
  auto same = c.put(kCms + "/a", got.body);
  EXPECT_EQ(same.status, 200);
  EXPECT_EQ(same.body["metadata"]["resourceVersion"], got.body["metadata"]["resourceVersion"]);
  // Name mismatch.
  EXPECT_EQ(c.put(kCms + "/b", got.body).status, 400);
  // Direct access.
  EXPECT_EQ(server.getObject("v1", "configmaps", "default", "a")["metadata"]["name"], "a");
  EXPECT_TRUE(server.getObject("v1", "configmaps", "default", "zz").is_null());
  server.putObject(cm("direct"));
  EXPECT_EQ(c.get(kCms + "/direct").status, 200);
  EXPECT_EQ(server.listObjects("v1", "configmaps", "default").size(), 5u);
  EXPECT_TRUE(server.deleteObject("v1", "configmaps", "default", "direct"));
  EXPECT_EQ(c.get(kCms + "/direct").status, 404);
  // Cluster-wide list spans namespaces.
  EXPECT_EQ(names(c.get("/api/v1/configmaps").body).size(), 4u);
}

// apierrors.NewInvalid: the name quoted as %q, the messages aggregated (duplicates once), every cause kept.
TEST(TestApiServer, InvalidStatusAsNewInvalid) {
  std::vector<FieldError> errs = {{"spec.a", "Invalid value: 0: too small"},
                                  {"spec.a", "Invalid value: 0: too small"},
                                  {"spec.b", "Required value", "FieldValueRequired"}};
  Json s = invalidStatus("Widget.example.com", "example.com", "Widget", "w\"1", errs);
  EXPECT_EQ(s["code"], 422);
  EXPECT_EQ(s["message"],
            "Widget.example.com \"w\\\"1\" is invalid: [spec.a: Invalid value: 0: too small, spec.b: Required value]");
  EXPECT_EQ(s["details"]["name"], "w\"1");
  EXPECT_EQ(s["details"]["causes"].size(), 3u);
  Json one = invalidStatus("Widget.example.com", "example.com", "Widget", "w", {errs[0], errs[1]});
  EXPECT_EQ(one["message"], "Widget.example.com \"w\" is invalid: spec.a: Invalid value: 0: too small");
}

TEST(TestApiServer, LabelAndFieldSelectors) {
  TestApiServer server;
  TestClient c(server);
  c.post(kCms, cm("a", {{"app", "x"}, {"tier", "web"}}));
  c.post(kCms, cm("b", {{"app", "y"}}));
  c.post(kCms, cm("c", Json::object()));
  c.post("/api/v1/namespaces", Json{{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", "other"}}}});
  c.post("/api/v1/namespaces/other/configmaps", cm("a", {{"app", "x"}}));
  auto q = [&](const std::string& sel) { return names(c.get(kCms + "?labelSelector=" + encode(sel)).body); };
  EXPECT_EQ(q("app=x"), std::vector<std::string>({"a"}));
  EXPECT_EQ(q("app==y"), std::vector<std::string>({"b"}));
  EXPECT_EQ(q("app!=x"), std::vector<std::string>({"b", "c"}));
  EXPECT_EQ(q("app in (x,y)"), std::vector<std::string>({"a", "b"}));
  EXPECT_EQ(q("app notin (x)"), std::vector<std::string>({"b", "c"}));
  EXPECT_EQ(q("app"), std::vector<std::string>({"a", "b"}));
  EXPECT_EQ(q("!app"), std::vector<std::string>({"c"}));
  EXPECT_EQ(q("app=x,tier=web"), std::vector<std::string>({"a"}));
  EXPECT_EQ(c.get(kCms + "?labelSelector=" + encode("a b c")).status, 400);
  auto all = c.get("/api/v1/configmaps?fieldSelector=metadata.namespace%3Dother");
  EXPECT_EQ(names(all.body), std::vector<std::string>({"a"}));
  EXPECT_EQ(names(c.get(kCms + "?fieldSelector=metadata.name%21%3Da").body), std::vector<std::string>({"b", "c"}));
}

TEST(TestApiServer, PaginationIsConsistentAndExpires) {
  TestApiServer server;
  TestClient c(server);
  for (int i = 0; i < 5; ++i) c.post(kCms, cm("p" + std::to_string(i)));
  auto p1 = c.get(kCms + "?limit=2");
  EXPECT_EQ(names(p1.body), std::vector<std::string>({"p0", "p1"}));
  EXPECT_EQ(p1.body["metadata"]["remainingItemCount"], 3);
  std::string cont = p1.body["metadata"]["continue"];
  // Changes after the first page do not show in later pages.
  c.del(kCms + "/p3");
  c.post(kCms, cm("p5"));
  auto p2 = c.get(kCms + "?limit=2&continue=" + cont);
  EXPECT_EQ(names(p2.body), std::vector<std::string>({"p2", "p3"}));
  EXPECT_EQ(p2.body["metadata"]["resourceVersion"], p1.body["metadata"]["resourceVersion"]);
  auto p3 = c.get(kCms + "?limit=2&continue=" + p2.body["metadata"]["continue"].get<std::string>());
  EXPECT_EQ(names(p3.body), std::vector<std::string>({"p4"}));
  EXPECT_FALSE(p3.body["metadata"].contains("continue"));
  // After the history is gone the token is expired.
  server.forgetHistory();
  auto expired = c.get(kCms + "?limit=2&continue=" + cont);
  EXPECT_EQ(expired.status, 410);
  EXPECT_EQ(expired.body["reason"], "Expired");
}

TEST(TestApiServer, WatchResumeBookmarksAndExpiry) {
  TestApiServer server;
  TestClient c(server);
  auto a = c.post(kCms, cm("a", {{"app", "x"}}));
  std::string afterA = a.body["metadata"]["resourceVersion"];
  c.post(kCms, cm("b", {{"app", "y"}}));
  Json a2 = a.body;
  a2["metadata"]["labels"]["app"] = "z";
  c.put(kCms + "/a", a2);
  // Resume after a's creation: b ADDED, a MODIFIED.
  auto ev = c.watch(kCms + "?watch=1&timeoutSeconds=1&resourceVersion=" + afterA, 2);
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_EQ(ev[0]["type"], "ADDED");
  EXPECT_EQ(ev[0]["object"]["metadata"]["name"], "b");
  EXPECT_EQ(ev[1]["type"], "MODIFIED");
  // A label-selected watch sees a leave the selection as DELETED.
  auto sel = c.watch(kCms + "?watch=1&timeoutSeconds=1&labelSelector=app%3Dx&resourceVersion=" + afterA, 1);
  ASSERT_EQ(sel.size(), 1u);
  EXPECT_EQ(sel[0]["type"], "DELETED");
  // Without resourceVersion: the current objects as ADDED.
  auto init = c.watch(kCms + "?watch=1&timeoutSeconds=1", 2);
  ASSERT_EQ(init.size(), 2u);
  EXPECT_EQ(init[0]["type"], "ADDED");
  // ?watch is a boolean as kube decodes it: only "0" and "false" (any case) mean no.
  auto upper = c.watch(kCms + "?watch=True&timeoutSeconds=1", 2);
  ASSERT_EQ(upper.size(), 2u);
  EXPECT_EQ(upper[1]["type"], "ADDED");
  EXPECT_EQ(c.get(kCms + "?watch=FALSE").body["kind"], "ConfigMapList");
  // Bookmark at the end of a bounded watch.
  auto bm = c.watch(kCms + "?watch=1&timeoutSeconds=1&allowWatchBookmarks=true&resourceVersion=" +
                        std::to_string(server.resourceVersion()),
                    5);
  ASSERT_FALSE(bm.empty());
  EXPECT_EQ(bm.back()["type"], "BOOKMARK");
  EXPECT_EQ(bm.back()["object"]["metadata"]["resourceVersion"], std::to_string(server.resourceVersion()));
  // Forgotten history: resuming from an old resourceVersion gets an ERROR event with a 410 Status.
  server.forgetHistory();
  auto gone = c.watch(kCms + "?watch=1&resourceVersion=" + afterA, 5);
  ASSERT_EQ(gone.size(), 1u);
  EXPECT_EQ(gone[0]["type"], "ERROR");
  EXPECT_EQ(gone[0]["object"]["kind"], "Status");
  EXPECT_EQ(gone[0]["object"]["code"], 410);
  EXPECT_EQ(gone[0]["object"]["reason"], "Expired");
  // Exact lists before the history window are expired too.
  EXPECT_EQ(c.get(kCms + "?resourceVersion=" + afterA + "&resourceVersionMatch=Exact").status, 410);
}

TEST(TestApiServer, PeriodicBookmarksAndInitialEvents) {
  TestApiServerOptions o;
  o.bookmarkInterval = std::chrono::milliseconds(100);
  TestApiServer server(o);
  TestClient c(server);
  c.post(kCms, cm("a"));
  std::string rv = std::to_string(server.resourceVersion());
  auto ev = c.watch(kCms + "?watch=1&allowWatchBookmarks=true&timeoutSeconds=5&resourceVersion=" + rv, 2);
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_EQ(ev[0]["type"], "BOOKMARK");
  EXPECT_EQ(ev[0]["object"]["metadata"]["resourceVersion"], rv);
  auto init = c.watch(kCms + "?watch=1&allowWatchBookmarks=true&sendInitialEvents=true&resourceVersionMatch="
                             "NotOlderThan&timeoutSeconds=5",
                      2);
  ASSERT_EQ(init.size(), 2u);
  EXPECT_EQ(init[0]["type"], "ADDED");
  EXPECT_EQ(init[1]["type"], "BOOKMARK");
  EXPECT_EQ(init[1]["object"]["metadata"]["annotations"]["k8s.io/initial-events-end"], "true");
}

TEST(TestApiServer, DanglingOwnerReferenceIsCollected) {
  TestApiServer server;
  TestClient c(server);
  Json orphan = cm("orphan");
  orphan["metadata"]["ownerReferences"] = Json::array(
      {Json{{"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"name", "ghost"}, {"uid", "00000000-0000-0000-0000-000000000000"}}});
  EXPECT_EQ(c.post(kCms, orphan).status, 201);
  EXPECT_EQ(c.get(kCms + "/orphan").status, 404);
}

TEST(TestApiServer, ExactListSeesThePast) {
  TestApiServer server;
  TestClient c(server);
  auto a = c.post(kCms, cm("a"));
  std::string rv = a.body["metadata"]["resourceVersion"];
  c.post(kCms, cm("b"));
  c.del(kCms + "/a");
  auto past = c.get(kCms + "?resourceVersion=" + rv + "&resourceVersionMatch=Exact");
  EXPECT_EQ(names(past.body), std::vector<std::string>({"a"}));
  EXPECT_EQ(past.body["metadata"]["resourceVersion"], rv);
  EXPECT_EQ(names(c.get(kCms).body), std::vector<std::string>({"b"}));
}

TEST(TestApiServer, LiveWatchClosesOnRequestAndOnShutdown) {
  auto server = std::make_unique<TestApiServer>();
  TestClient c(*server), w(*server);
  auto fut = std::async(std::launch::async, [&] { return w.watch(kCms + "?watch=1&resourceVersion=" + std::to_string(server->resourceVersion()), 100); });
  ASSERT_TRUE(server->waitForWatches(1));
  c.post(kCms, cm("live"));
  server->closeWatches();
  ASSERT_EQ(fut.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  auto ev = fut.get();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0]["type"], "ADDED");
  // A watch open while the server is destroyed ends, and the destructor returns.
  TestClient c2(*server);
  auto fut2 = std::async(std::launch::async, [&] { return c2.watch(kCms + "?watch=1", 100); });
  ASSERT_TRUE(server->waitForWatches(1));
  auto start = std::chrono::steady_clock::now();
  server.reset();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
  ASSERT_EQ(fut2.wait_for(std::chrono::seconds(10)), std::future_status::ready);
}

TEST(TestApiServer, GenerationAndStatusRulesForCustomResources) {
  TestApiServer server;
  TestClient c(server);
  ASSERT_EQ(c.post("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", widgetCrd(true)).status, 201);
  const std::string ws = "/apis/example.com/v1/namespaces/default/widgets";
  Json w{{"apiVersion", "example.com/v1"}, {"kind", "Widget"}, {"metadata", {{"name", "w"}}},
         {"spec", {{"size", 1}, {"unknown", 1}, {"free", {{"any", "thing"}}}}}, {"status", {{"ready", true}}}};
  auto r = c.post(ws, w);
  ASSERT_EQ(r.status, 201);
  EXPECT_EQ(r.body["metadata"]["generation"], 1);
  EXPECT_FALSE(r.body.contains("status"));
  EXPECT_FALSE(r.body["spec"].contains("unknown")) << "pruned";
  EXPECT_EQ(r.body["spec"]["free"]["any"], "thing") << "preserved";
  // Merge patch on the main resource: status ignored, spec bumps generation.
  r = c.patch(ws + "/w", R"({"spec":{"size":3},"status":{"ready":true}})", "application/merge-patch+json");
  EXPECT_EQ(r.body["metadata"]["generation"], 2);
  EXPECT_FALSE(r.body.contains("status"));
  // Status patch: generation unchanged.
  r = c.patch(ws + "/w/status", R"({"status":{"ready":true},"spec":{"size":9}})", "application/merge-patch+json");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body["status"]["ready"], true);
  EXPECT_EQ(r.body["spec"]["size"], 3);
  EXPECT_EQ(r.body["metadata"]["generation"], 2);
  // Discovery lists the CRD's resource; aggregated discovery too.
  auto d = c.get("/apis/example.com/v1");
  EXPECT_EQ(d.body["resources"][0]["shortNames"], Json::array({"wd"}));
  auto agg = c.get("/apis", "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList");
  bool found = false;
  for (auto& it : agg.body["items"])
    if (it["metadata"]["name"] == "example.com") found = true;
  EXPECT_TRUE(found);
  // The CRD reads Established.
  auto crd = c.get("/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.example.com");
  EXPECT_EQ(crd.body["status"]["conditions"][1]["type"], "Established");
  // Deleting the CRD removes its resources and its discovery.
  c.del("/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.example.com");
  EXPECT_EQ(c.get("/apis/example.com/v1").status, 404);
}

TEST(TestApiServer, GenerationWithoutStatusSubresourceCountsStatus) {
  TestApiServer server;
  TestClient c(server);
  ASSERT_EQ(c.post("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", widgetCrd(false)).status, 201);
  const std::string ws = "/apis/example.com/v1/namespaces/default/widgets";
  auto r = c.post(ws, Json{{"apiVersion", "example.com/v1"}, {"kind", "Widget"}, {"metadata", {{"name", "w"}}},
                           {"spec", {{"size", 1}}}, {"status", {{"ready", false}}}});
  EXPECT_EQ(r.body["status"]["ready"], false);
  r = c.patch(ws + "/w", R"({"status":{"ready":true}})", "application/merge-patch+json");
  EXPECT_EQ(r.body["metadata"]["generation"], 2);
  EXPECT_EQ(c.get(ws + "/w/status").status, 404);
}

TEST(TestApiServer, DeploymentGenerationAndStatus) {
  TestApiServer server;
  TestClient c(server);
  const std::string ds = "/apis/apps/v1/namespaces/default/deployments";
  Json d{{"apiVersion", "apps/v1"}, {"kind", "Deployment"}, {"metadata", {{"name", "d"}}},
         {"spec", {{"replicas", 1}}}};
  auto r = c.post(ds, d);
  EXPECT_EQ(r.body["metadata"]["generation"], 1);
  r = c.patch(ds + "/d", R"({"metadata":{"labels":{"a":"b"}}})", "application/strategic-merge-patch+json");
  EXPECT_EQ(r.body["metadata"]["generation"], 1);
  r = c.patch(ds + "/d/status", R"({"status":{"readyReplicas":1}})", "application/merge-patch+json");
  EXPECT_EQ(r.body["metadata"]["generation"], 1);
  EXPECT_EQ(r.body["status"]["readyReplicas"], 1);
  r = c.patch(ds + "/d", R"({"spec":{"replicas":2}})", "application/merge-patch+json");
  EXPECT_EQ(r.body["metadata"]["generation"], 2);
  EXPECT_EQ(r.body["status"]["readyReplicas"], 1);
  auto s = c.get(ds + "/d/scale");
  EXPECT_EQ(s.body["spec"]["replicas"], 2);
}

TEST(TestApiServer, StrategicMergePatchMergesListsByKey) {
  TestApiServer server;
  TestClient c(server);
  const std::string ds = "/apis/apps/v1/namespaces/default/deployments";
  Json containers = Json::array({Json{{"name", "app"}, {"image", "a:1"}, {"ports", {{{"containerPort", 80}}}}},
                                 Json{{"name", "sidecar"}, {"image", "s:1"}}});
  Json d{{"apiVersion", "apps/v1"}, {"kind", "Deployment"}, {"metadata", {{"name", "d"}}},
         {"spec", {{"template", {{"spec", {{"containers", containers}}}}}}}};
  ASSERT_EQ(c.post(ds, d).status, 201);
  // What kubectl apply sends when one container's image changes.
  auto r = c.patch(ds + "/d",
                   R"({"spec":{"template":{"spec":{"$setElementOrder/containers":[{"name":"app"},{"name":"sidecar"}],)"
                   R"("containers":[{"image":"a:2","name":"app"}]}}}})",
                   "application/strategic-merge-patch+json");
  ASSERT_EQ(r.status, 200) << r.raw;
  const Json& cs = r.body["spec"]["template"]["spec"]["containers"];
  ASSERT_EQ(cs.size(), 2u);
  EXPECT_EQ(cs[0]["image"], "a:2");
  EXPECT_EQ(cs[0]["ports"][0]["containerPort"], 80);
  EXPECT_EQ(cs[1]["name"], "sidecar");
  EXPECT_EQ(r.body["metadata"]["generation"], 2);
  // Deleting an element by key.
  r = c.patch(ds + "/d", R"({"spec":{"template":{"spec":{"containers":[{"$patch":"delete","name":"sidecar"}]}}}})",
              "application/strategic-merge-patch+json");
  EXPECT_EQ(r.body["spec"]["template"]["spec"]["containers"].size(), 1u);
  // Custom resources do not take strategic merge patches (415, as kube-apiserver answers).
  ASSERT_EQ(c.post("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", widgetCrd(true)).status, 201);
  c.post("/apis/example.com/v1/namespaces/default/widgets",
         Json{{"apiVersion", "example.com/v1"}, {"kind", "Widget"}, {"metadata", {{"name", "w"}}}});
  EXPECT_EQ(c.patch("/apis/example.com/v1/namespaces/default/widgets/w", "{}", "application/strategic-merge-patch+json")
                .status,
            415);
}

TEST(TestApiServer, FinalizersAndGarbageCollection) {
  TestApiServer server;
  TestClient c(server);
  auto owner = c.post(kCms, cm("owner"));
  Json ref{{"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"name", "owner"}, {"uid", owner.body["metadata"]["uid"]}};
  Json dep = cm("dep");
  dep["metadata"]["ownerReferences"] = Json::array({ref});
  c.post(kCms, dep);
  Json held = cm("held");
  held["metadata"]["ownerReferences"] = Json::array({ref});
  held["metadata"]["finalizers"] = Json::array({"example.com/x"});
  c.post(kCms, held);
  // Background: dependents go when the owner goes; one with a finalizer waits for it.
  EXPECT_EQ(c.del(kCms + "/owner").status, 200);
  EXPECT_EQ(c.get(kCms + "/dep").status, 404);
  auto h = c.get(kCms + "/held");
  ASSERT_EQ(h.status, 200);
  EXPECT_TRUE(h.body["metadata"].contains("deletionTimestamp"));
  auto r = c.patch(kCms + "/held", R"({"metadata":{"finalizers":null}})", "application/merge-patch+json");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(c.get(kCms + "/held").status, 404);
  // Foreground: the owner waits (finalizer foregroundDeletion) until its dependents are gone.
  auto o2 = c.post(kCms, cm("o2"));
  Json d2 = cm("d2");
  d2["metadata"]["ownerReferences"] = Json::array(
      {Json{{"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"name", "o2"}, {"uid", o2.body["metadata"]["uid"]}}});
  d2["metadata"]["finalizers"] = Json::array({"example.com/x"});
  c.post(kCms, d2);
  auto fr = c.del(kCms + "/o2", Json{{"apiVersion", "v1"}, {"kind", "DeleteOptions"}, {"propagationPolicy", "Foreground"}});
  EXPECT_EQ(fr.body["metadata"]["finalizers"], Json::array({"foregroundDeletion"}));
  EXPECT_EQ(c.get(kCms + "/o2").status, 200);
  c.patch(kCms + "/d2", R"({"metadata":{"finalizers":null}})", "application/merge-patch+json");
  EXPECT_EQ(c.get(kCms + "/d2").status, 404);
  EXPECT_EQ(c.get(kCms + "/o2").status, 404);
  // Orphan: the dependent stays, without the owner reference.
  auto o3 = c.post(kCms, cm("o3"));
  Json d3 = cm("d3");
  d3["metadata"]["ownerReferences"] = Json::array(
      {Json{{"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"name", "o3"}, {"uid", o3.body["metadata"]["uid"]}}});
  c.post(kCms, d3);
  c.del(kCms + "/o3?propagationPolicy=Orphan");
  auto kept = c.get(kCms + "/d3");
  EXPECT_EQ(kept.status, 200);
  EXPECT_FALSE(kept.body["metadata"].contains("ownerReferences"));
}

TEST(TestApiServer, NamespaceDeletionTakesItsObjects) {
  TestApiServer server;
  TestClient c(server);
  c.post("/api/v1/namespaces", Json{{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", "gone"}}}});
  c.post("/api/v1/namespaces/gone/configmaps", cm("x"));
  auto r = c.del("/api/v1/namespaces/gone");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(c.get("/api/v1/namespaces/gone/configmaps/x").status, 404);
  EXPECT_EQ(c.get("/api/v1/namespaces/gone").status, 404);
}

TEST(TestApiServer, JsonPatchAndStalePatchPrecondition) {
  TestApiServer server;
  TestClient c(server);
  auto a = c.post(kCms, cm("a", Json::object(), {{"k", "v"}}));
  auto r = c.patch(kCms + "/a", R"([{"op":"replace","path":"/data/k","value":"w"},{"op":"add","path":"/data/n","value":"1"}])",
                   "application/json-patch+json");
  EXPECT_EQ(r.body["data"], (Json{{"k", "w"}, {"n", "1"}}));
  r = c.patch(kCms + "/a", R"([{"op":"remove","path":"/data/missing"}])", "application/json-patch+json");
  EXPECT_EQ(r.status, 422);
  // A merge patch carrying an old resourceVersion conflicts.
  r = c.patch(kCms + "/a",
              R"({"metadata":{"resourceVersion":")" + a.body["metadata"]["resourceVersion"].get<std::string>() +
                  R"("},"data":{"k":"x"}})",
              "application/merge-patch+json");
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(r.body["reason"], "Conflict");
  EXPECT_EQ(c.patch(kCms + "/missing", "{}", "application/merge-patch+json").status, 404);
}

TEST(TestApiServer, ServerSideApplyOwnership) {
  TestApiServer server;
  TestClient c(server);
  auto apply = [&](const std::string& mgr, const std::string& yaml, bool force = false) {
    return c.patch(kCms + "/s?fieldManager=" + mgr + (force ? "&force=true" : ""), yaml, "application/apply-patch+yaml");
  };
  EXPECT_EQ(apply("a", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: s\ndata:\n  x: '1'\n  y: '2'\n").status, 201);
  // Re-applying the same config changes nothing.
  auto same = apply("a", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: s\ndata:\n  x: '1'\n  y: '2'\n");
  EXPECT_EQ(same.status, 200);
  // Dropping a field from the applied config removes it.
  auto r = apply("a", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: s\ndata:\n  x: '1'\n");
  EXPECT_EQ(r.body["data"], (Json{{"x", "1"}}));
  // Another manager setting the same value shares the field; a different value conflicts.
  EXPECT_EQ(apply("b", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: s\ndata:\n  x: '1'\n  z: '3'\n").status, 200);
  auto conflict = apply("b", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: s\ndata:\n  x: '9'\n");
  EXPECT_EQ(conflict.status, 409);
  EXPECT_EQ(conflict.body["message"], "Apply failed with 1 conflict: conflict with \"a\": .data.x");
  // An Update manager's field conflicts with "using <apiVersion>".
  c.patch(kCms + "/s?fieldManager=kubectl-edit", R"({"data":{"w":"5"}})", "application/merge-patch+json");
  auto c2 = apply("a", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: s\ndata:\n  x: '1'\n  w: '6'\n");
  EXPECT_EQ(c2.status, 409);
  EXPECT_EQ(c2.body["message"], "Apply failed with 1 conflict: conflict with \"kubectl-edit\" using v1: .data.w");
  EXPECT_EQ(c2.body["details"]["causes"][0]["field"], ".data.w");
  auto forced = apply("a", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: s\ndata:\n  x: '1'\n  w: '6'\n", true);
  EXPECT_EQ(forced.status, 200);
  EXPECT_EQ(forced.body["data"]["w"], "6");
  EXPECT_EQ(c.patch(kCms + "/s", "data: {}\n", "application/apply-patch+yaml").status, 400) << "fieldManager required";
}

TEST(TestApiServer, FaultInjection) {
  TestApiServer server;
  TestClient c(server);
  server.failNext(2, 429, 3);
  auto r = c.get(kCms);
  EXPECT_EQ(r.status, 429);
  EXPECT_EQ(r.retryAfter, "3");
  EXPECT_EQ(r.body["reason"], "TooManyRequests");
  EXPECT_EQ(c.get(kCms).status, 429);
  EXPECT_EQ(c.get(kCms).status, 200);
  server.failNext(1, 500);
  r = c.get(kCms);
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(r.body["reason"], "InternalError");
  server.setDelay(std::chrono::milliseconds(200));
  auto start = std::chrono::steady_clock::now();
  c.get(kCms);
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(200));
  server.setDelay(std::chrono::milliseconds(0));
  EXPECT_GE(server.requestCount("GET", "/api/v1/namespaces/default/configmaps"), 5);
  auto reqs = server.requests();
  EXPECT_EQ(reqs[0].status, 429);
  EXPECT_EQ(reqs[0].userAgent, "Python-urllib/3.11");
}

// ------------------------------------------------------------------ admission

struct Webhook {
  CertKey ca = generateCa("webhook-ca");
  CertKey cert = generateCert(ca, "webhook", {"127.0.0.1", "localhost"});
  std::unique_ptr<httplib::SSLServer> server;
  std::thread thread;
  int port = 0;
  std::mutex mu;
  std::vector<Json> reviews;
  std::vector<std::string> paths;
  std::function<Json(const Json&)> respond;

  Webhook() {
    auto dir = std::filesystem::temp_directory_path() / ("wh-" + std::to_string(::getpid()) + "-" + std::to_string(reinterpret_cast<uintptr_t>(this)));
    std::filesystem::create_directories(dir);
    std::ofstream(dir / "c.pem") << cert.certPem;
    std::ofstream(dir / "k.pem") << cert.keyPem;
    server = std::make_unique<httplib::SSLServer>((dir / "c.pem").string().c_str(), (dir / "k.pem").string().c_str());
    std::filesystem::remove_all(dir);
    server->Post(".*", [this](const httplib::Request& req, httplib::Response& res) {
      Json review = Json::parse(req.body);
      Json out;
      {
        std::lock_guard<std::mutex> lk(mu);
        reviews.push_back(review);
        paths.push_back(req.target);
        out = respond(review);
      }
      res.set_content(out.dump(), "application/json");
    });
    port = server->bind_to_any_port("127.0.0.1");
    thread = std::thread([this] { server->listen_after_bind(); });
    while (!server->is_running()) std::this_thread::yield();
  }
  ~Webhook() {
    server->stop();
    thread.join();
  }
  std::string caBundle() const {
    std::string pem = ca.certPem;
    // base64 without line breaks
    static const char* t = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    size_t i = 0;
    for (; i + 2 < pem.size(); i += 3) {
      unsigned v = (unsigned char)pem[i] << 16 | (unsigned char)pem[i + 1] << 8 | (unsigned char)pem[i + 2];
      out += {t[v >> 18], t[(v >> 12) & 63], t[(v >> 6) & 63], t[v & 63]};
    }
    if (pem.size() - i == 1) {
      unsigned v = (unsigned char)pem[i] << 16;
      out += {t[v >> 18], t[(v >> 12) & 63], '=', '='};
    } else if (pem.size() - i == 2) {
      unsigned v = (unsigned char)pem[i] << 16 | (unsigned char)pem[i + 1] << 8;
      out += {t[v >> 18], t[(v >> 12) & 63], t[(v >> 6) & 63], '='};
    }
    return out;
  }
};

Json allow(const Json& review, const std::string& patchB64 = "") {
  Json resp{{"uid", review["request"]["uid"]}, {"allowed", true}};
  if (!patchB64.empty()) {
    resp["patchType"] = "JSONPatch";
    resp["patch"] = patchB64;
  }
  return Json{{"apiVersion", "admission.k8s.io/v1"}, {"kind", "AdmissionReview"}, {"response", resp}};
}

Json webhookConfig(const std::string& kind, const std::string& url, const std::string& caBundle,
                   const std::string& failurePolicy, const Json& extra = Json::object()) {
  Json w{{"name", "hook.example.com"},
         {"clientConfig", {{"url", url}, {"caBundle", caBundle}}},
         {"rules", Json::array({Json{{"apiGroups", {""}}, {"apiVersions", {"v1"}}, {"operations", {"CREATE"}},
                                     {"resources", {"pods"}}}})},
         {"failurePolicy", failurePolicy},
         {"sideEffects", "None"},
         {"admissionReviewVersions", {"v1"}},
         {"timeoutSeconds", 5}};
  for (auto& [k, v] : extra.items()) w[k] = v;
  return Json{{"apiVersion", "admissionregistration.k8s.io/v1"},
              {"kind", kind},
              {"metadata", {{"name", "hooks"}}},
              {"webhooks", Json::array({w})}};
}

Json pod(const std::string& name, const Json& labels = Json::object()) {
  Json m{{"name", name}};
  if (!labels.empty()) m["labels"] = labels;
  return Json{{"apiVersion", "v1"}, {"kind", "Pod"}, {"metadata", m},
              {"spec", {{"containers", Json::array({Json{{"name", "app"}, {"image", "busybox"}}})}}}};
}

const std::string kPods = "/api/v1/namespaces/default/pods";
const std::string kMwc = "/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations";
const std::string kVwc = "/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations";

TEST(TestApiServerAdmission, MutatingWebhookPatchIsApplied) {
  Webhook hook;
  // [{"op":"add","path":"/metadata/labels/injected","value":"yes"}]
  hook.respond = [](const Json& r) {
    return allow(r, "W3sib3AiOiJhZGQiLCJwYXRoIjoiL21ldGFkYXRhL2xhYmVscy9pbmplY3RlZCIsInZhbHVlIjoieWVzIn1d");
  };
  TestApiServer server;
  TestClient c(server);
  ASSERT_EQ(c.post(kMwc, webhookConfig("MutatingWebhookConfiguration",
                                       "https://127.0.0.1:" + std::to_string(hook.port) + "/mutate-v1-pod",
                                       hook.caBundle(), "Fail"))
                .status,
            201);
  auto r = c.post(kPods, pod("p", {{"app", "x"}}));
  ASSERT_EQ(r.status, 201) << r.raw;
  EXPECT_EQ(r.body["metadata"]["labels"]["injected"], "yes");
  ASSERT_EQ(hook.reviews.size(), 1u);
  EXPECT_EQ(hook.paths[0], "/mutate-v1-pod?timeout=5s");
  const Json& req = hook.reviews[0]["request"];
  EXPECT_EQ(hook.reviews[0]["kind"], "AdmissionReview");
  EXPECT_EQ(hook.reviews[0]["apiVersion"], "admission.k8s.io/v1");
  EXPECT_EQ(req["operation"], "CREATE");
  EXPECT_EQ(req["namespace"], "default");
  EXPECT_EQ(req["kind"], (Json{{"group", ""}, {"version", "v1"}, {"kind", "Pod"}}));
  EXPECT_EQ(req["resource"], (Json{{"group", ""}, {"version", "v1"}, {"resource", "pods"}}));
  EXPECT_EQ(req["object"]["metadata"]["labels"]["app"], "x");
  EXPECT_TRUE(req["oldObject"].is_null());
  EXPECT_EQ(req["options"]["kind"], "CreateOptions");
  EXPECT_EQ(req["userInfo"], (Json{{"username", "admin"},
                                   {"groups", Json::array({"system:masters", "system:authenticated"})}}));
  // Same keys as the captured request (when the capture is available).
  std::string cap = std::string(OTEL_SHARED_REFERENCE) + "/apiserver-captures/admissionreview-request.json";
  if (std::filesystem::exists(cap)) {
    Json captured = Json::parse(std::ifstream(cap))["body"]["request"];
    for (auto& [k, v] : captured.items()) {
      if (k == "name") continue;
      EXPECT_TRUE(req.contains(k)) << k;
    }
    for (auto& [k, v] : req.items()) EXPECT_TRUE(captured.contains(k) || k == "name") << k;
  }
  // Objects outside the rules are not sent.
  c.post(kCms, cm("not-a-pod"));
  EXPECT_EQ(hook.reviews.size(), 1u);
}

TEST(TestApiServerAdmission, SelectorsAndFailurePolicies) {
  Webhook hook;
  hook.respond = [](const Json& r) { return allow(r); };
  TestApiServer server;
  TestClient c(server);
  std::string url = "https://127.0.0.1:" + std::to_string(hook.port) + "/v";
  Json cfg = webhookConfig("MutatingWebhookConfiguration", url, hook.caBundle(), "Fail",
                           Json{{"objectSelector", {{"matchLabels", {{"inject", "yes"}}}}},
                                {"namespaceSelector",
                                 {{"matchExpressions", Json::array({Json{{"key", "kubernetes.io/metadata.name"},
                                                                         {"operator", "In"},
                                                                         {"values", {"default"}}}})}}}});
  ASSERT_EQ(c.post(kMwc, cfg).status, 201);
  EXPECT_EQ(c.post(kPods, pod("skip")).status, 201);
  EXPECT_EQ(hook.reviews.size(), 0u);
  EXPECT_EQ(c.post(kPods, pod("send", {{"inject", "yes"}})).status, 201);
  EXPECT_EQ(hook.reviews.size(), 1u);
  c.post("/api/v1/namespaces", Json{{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", "other"}}}});
  EXPECT_EQ(c.post("/api/v1/namespaces/other/pods", pod("elsewhere", {{"inject", "yes"}})).status, 201);
  EXPECT_EQ(hook.reviews.size(), 1u);
  // A CA bundle that does not verify the webhook: Fail rejects, Ignore admits.
  CertKey other = generateCa("other");
  Json bad = webhookConfig("MutatingWebhookConfiguration", url, "", "Fail");
  bad["metadata"]["name"] = "bad";
  Webhook unrelated;
  bad["webhooks"][0]["clientConfig"]["caBundle"] = unrelated.caBundle();
  ASSERT_EQ(c.post(kMwc, bad).status, 201);
  auto r = c.post(kPods, pod("rejected"));
  EXPECT_EQ(r.status, 500);
  EXPECT_NE(r.body["message"].get<std::string>().find("failed calling webhook \"hook.example.com\""), std::string::npos)
      << r.raw;
  EXPECT_EQ(c.get(kPods + "/rejected").status, 404);
  auto ign = c.patch(kMwc + "/bad", R"({"webhooks":[{"name":"hook.example.com","failurePolicy":"Ignore","clientConfig":{"url":")" + url +
                                         R"(","caBundle":")" + unrelated.caBundle() +
                                         R"("},"rules":[{"apiGroups":[""],"apiVersions":["v1"],"operations":["CREATE"],"resources":["pods"]}],"sideEffects":"None","admissionReviewVersions":["v1"]}]})",
                     "application/merge-patch+json");
  ASSERT_EQ(ign.status, 200);
  EXPECT_EQ(c.post(kPods, pod("admitted")).status, 201);
}

TEST(TestApiServerAdmission, UpdateAndDeleteCarryOldObject) {
  Webhook hook;
  hook.respond = [](const Json& r) { return allow(r); };
  TestApiServer server;
  TestClient c(server);
  Json cfg = webhookConfig("ValidatingWebhookConfiguration", "https://127.0.0.1:" + std::to_string(hook.port) + "/v",
                           hook.caBundle(), "Fail");
  cfg["webhooks"][0]["rules"][0]["operations"] = Json::array({"UPDATE", "DELETE"});
  cfg["webhooks"][0]["rules"][0]["resources"] = Json::array({"configmaps"});
  ASSERT_EQ(c.post(kVwc, cfg).status, 201);
  c.post(kCms, cm("a", Json::object(), {{"k", "1"}}));
  EXPECT_EQ(hook.reviews.size(), 0u);
  c.patch(kCms + "/a", R"({"data":{"k":"2"}})", "application/merge-patch+json");
  ASSERT_EQ(hook.reviews.size(), 1u);
  const Json& up = hook.reviews[0]["request"];
  EXPECT_EQ(up["operation"], "UPDATE");
  EXPECT_EQ(up["name"], "a");
  EXPECT_EQ(up["object"]["data"]["k"], "2");
  EXPECT_EQ(up["oldObject"]["data"]["k"], "1");
  EXPECT_EQ(up["options"]["kind"], "PatchOptions");
  c.del(kCms + "/a");
  ASSERT_EQ(hook.reviews.size(), 2u);
  const Json& del = hook.reviews[1]["request"];
  EXPECT_EQ(del["operation"], "DELETE");
  EXPECT_TRUE(del["object"].is_null());
  EXPECT_EQ(del["oldObject"]["data"]["k"], "2");
  EXPECT_EQ(del["options"]["kind"], "DeleteOptions");
}

TEST(TestApiServerAdmission, ValidatingWebhookDenies) {
  Webhook hook;
  hook.respond = [](const Json& r) {
    Json out = allow(r);
    out["response"]["allowed"] = false;
    out["response"]["status"] = Json{{"code", 403}, {"message", "no pods today"}};
    return out;
  };
  TestApiServer server;
  TestClient c(server);
  server.setServiceResolver([&](const std::string& ns, const std::string& name, int, const std::string& path) {
    EXPECT_EQ(ns, "system");
    EXPECT_EQ(name, "webhook");
    return "https://127.0.0.1:" + std::to_string(hook.port) + path;
  });
  Json cfg = webhookConfig("ValidatingWebhookConfiguration", "", hook.caBundle(), "Fail");
  cfg["webhooks"][0]["clientConfig"] = Json{{"service", {{"namespace", "system"}, {"name", "webhook"}, {"path", "/validate"}}},
                                           {"caBundle", hook.caBundle()}};
  ASSERT_EQ(c.post(kVwc, cfg).status, 201);
  auto r = c.post(kPods, pod("p"));
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(r.body["message"], "admission webhook \"hook.example.com\" denied the request: no pods today");
  EXPECT_EQ(server.webhookCalls(), 1);
  EXPECT_EQ(hook.paths[0], "/validate?timeout=5s");
}


// ------------------------------------------------------------------ conversion webhooks

// A toy CRD with two versions: v1alpha1 calls the field spec.colour, v1beta1 (the storage version) spec.color.
Json gadgetCrd(const Json& conversion) {
  auto version = [](const char* name, const char* field, bool storage) {
    return Json{{"name", name},
                {"served", true},
                {"storage", storage},
                {"schema",
                 {{"openAPIV3Schema",
                   {{"type", "object"},
                    {"properties",
                     {{"spec", {{"type", "object"}, {"properties", {{field, {{"type", "string"}}}}}}}}}}}}}};
  };
  Json crd{{"apiVersion", "apiextensions.k8s.io/v1"},
           {"kind", "CustomResourceDefinition"},
           {"metadata", {{"name", "gadgets.example.com"}}},
           {"spec",
            {{"group", "example.com"},
             {"scope", "Namespaced"},
             {"names", {{"plural", "gadgets"}, {"singular", "gadget"}, {"kind", "Gadget"}}},
             {"versions", Json::array({version("v1alpha1", "colour", false), version("v1beta1", "color", true)})}}}};
  if (!conversion.is_null()) crd["spec"]["conversion"] = conversion;
  return crd;
}

// The conversion the toy webhook does: renames the field, and (to check what kube keeps) adds a label and
// tries to change metadata kube restores.
Json convertGadget(Json o, const std::string& desired) {
  Json& spec = o["spec"];
  if (desired == "example.com/v1beta1" && spec.contains("colour")) {
    spec["color"] = spec["colour"];
    spec.erase("colour");
  } else if (desired == "example.com/v1alpha1" && spec.contains("color")) {
    spec["colour"] = spec["color"];
    spec.erase("color");
  }
  o["apiVersion"] = desired;
  o["metadata"]["labels"]["converted"] = "yes";
  o["metadata"]["generation"] = 99;      // ignored: kube restores metadata other than labels/annotations
  o["metadata"].erase("creationTimestamp");
  return o;
}

Json conversionAnswer(const Json& review, const Json& objects) {
  return Json{{"apiVersion", "apiextensions.k8s.io/v1"},
              {"kind", "ConversionReview"},
              {"response", {{"uid", review["request"]["uid"]}, {"convertedObjects", objects}, {"result", {{"status", "Success"}}}}}};
}

Json convertAll(const Json& review) {
  Json out = Json::array();
  for (const auto& o : review["request"]["objects"]) out.push_back(convertGadget(o, review["request"]["desiredAPIVersion"]));
  return conversionAnswer(review, out);
}

Json webhookConversion(const Json& clientConfig) {
  return Json{{"strategy", "Webhook"},
              {"webhook", {{"clientConfig", clientConfig}, {"conversionReviewVersions", {"v1"}}}}};
}

Json gadget(const std::string& name, const std::string& version, const std::string& field, const std::string& value) {
  return Json{{"apiVersion", "example.com/" + version},
              {"kind", "Gadget"},
              {"metadata", {{"name", name}}},
              {"spec", {{field, value}}}};
}

const std::string kCrds = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions";
const std::string kAlpha = "/apis/example.com/v1alpha1/namespaces/default/gadgets";
const std::string kBeta = "/apis/example.com/v1beta1/namespaces/default/gadgets";

TEST(TestApiServerConversion, WritesAreStoredInTheStorageVersionAndReadsConvertBack) {
  Webhook hook;
  hook.respond = convertAll;
  TestApiServer server;
  TestClient c(server);
  // A service reference, resolved as for admission webhooks.
  server.setServiceResolver([&](const std::string& ns, const std::string& name, int port, const std::string& path) {
    EXPECT_EQ(ns, "system");
    EXPECT_EQ(name, "converter");
    EXPECT_EQ(port, 9443);
    return "https://127.0.0.1:" + std::to_string(hook.port) + path;
  });
  Json cc{{"service", {{"namespace", "system"}, {"name", "converter"}, {"path", "/convert"}, {"port", 9443}}},
          {"caBundle", hook.caBundle()}};
  ASSERT_EQ(c.post(kCrds, gadgetCrd(webhookConversion(cc))).status, 201);

  // Create through v1alpha1: converted to v1beta1 before it is stored, the answer converted back.
  auto r = c.post(kAlpha, gadget("g", "v1alpha1", "colour", "red"));
  ASSERT_EQ(r.status, 201) << r.raw;
  EXPECT_EQ(r.body["apiVersion"], "example.com/v1alpha1");
  EXPECT_EQ(r.body["spec"], (Json{{"colour", "red"}}));
  ASSERT_EQ(hook.reviews.size(), 2u);
  EXPECT_EQ(hook.paths[0], "/convert?timeout=30s");
  const Json& first = hook.reviews[0];
  EXPECT_EQ(first["apiVersion"], "apiextensions.k8s.io/v1");
  EXPECT_EQ(first["kind"], "ConversionReview");
  EXPECT_EQ(first["request"]["desiredAPIVersion"], "example.com/v1beta1");
  ASSERT_EQ(first["request"]["objects"].size(), 1u);
  EXPECT_EQ(first["request"]["objects"][0]["spec"], (Json{{"colour", "red"}}));
  EXPECT_FALSE(first["request"]["uid"].get<std::string>().empty());
  EXPECT_EQ(hook.reviews[1]["request"]["desiredAPIVersion"], "example.com/v1alpha1");
  Json stored = server.getObject("example.com/v1beta1", "gadgets", "default", "g");
  EXPECT_EQ(stored["apiVersion"], "example.com/v1beta1");
  EXPECT_EQ(stored["spec"], (Json{{"color", "red"}}));
  EXPECT_EQ(stored["metadata"]["labels"]["converted"], "yes") << "labels from the webhook are kept";
  EXPECT_EQ(stored["metadata"]["generation"], 1) << "other metadata is restored";
  EXPECT_TRUE(stored["metadata"].contains("creationTimestamp"));
  EXPECT_EQ(server.conversionWebhookCalls(), 2);

  // Read through the stored version: nothing to convert, no call.
  r = c.get(kBeta + "/g");
  EXPECT_EQ(r.body["spec"], (Json{{"color", "red"}}));
  EXPECT_EQ(hook.reviews.size(), 2u);
  // Read through v1alpha1: converted.
  r = c.get(kAlpha + "/g");
  ASSERT_EQ(r.status, 200) << r.raw;
  EXPECT_EQ(r.body["apiVersion"], "example.com/v1alpha1");
  EXPECT_EQ(r.body["spec"], (Json{{"colour", "red"}}));
  EXPECT_EQ(hook.reviews.size(), 3u);

  // A second object written through v1beta1 is stored without a call; a list through v1alpha1 sends both in
  // one review.
  ASSERT_EQ(c.post(kBeta, gadget("h", "v1beta1", "color", "green")).status, 201);
  EXPECT_EQ(hook.reviews.size(), 3u);
  r = c.get(kAlpha);
  ASSERT_EQ(r.status, 200) << r.raw;
  EXPECT_EQ(r.body["apiVersion"], "example.com/v1alpha1");
  ASSERT_EQ(r.body["items"].size(), 2u);
  EXPECT_EQ(r.body["items"][0]["spec"], (Json{{"colour", "red"}}));
  EXPECT_EQ(r.body["items"][1]["spec"], (Json{{"colour", "green"}}));
  EXPECT_EQ(r.body["items"][1]["apiVersion"], "example.com/v1alpha1");
  ASSERT_EQ(hook.reviews.size(), 4u);
  EXPECT_EQ(hook.reviews[3]["request"]["objects"].size(), 2u);

  // A merge patch through v1alpha1 applies to the v1alpha1 object; stored converted.
  r = c.patch(kAlpha + "/g", R"({"spec":{"colour":"blue"}})", "application/merge-patch+json");
  ASSERT_EQ(r.status, 200) << r.raw;
  EXPECT_EQ(r.body["spec"], (Json{{"colour", "blue"}}));
  EXPECT_EQ(server.getObject("example.com/v1beta1", "gadgets", "default", "g")["spec"], (Json{{"color", "blue"}}));
  // PUT through v1alpha1.
  Json put = r.body;
  put["spec"]["colour"] = "black";
  r = c.put(kAlpha + "/g", put);
  ASSERT_EQ(r.status, 200) << r.raw;
  EXPECT_EQ(server.getObject("example.com/v1beta1", "gadgets", "default", "g")["spec"], (Json{{"color", "black"}}));
  // Server-side apply through v1alpha1.
  r = c.patch(kAlpha + "/g?fieldManager=t&force=true",
              R"({"apiVersion":"example.com/v1alpha1","kind":"Gadget","metadata":{"name":"g"},"spec":{"colour":"white"}})",
              "application/apply-patch+yaml");
  ASSERT_EQ(r.status, 200) << r.raw;
  EXPECT_EQ(r.body["spec"], (Json{{"colour", "white"}}));
  EXPECT_EQ(server.getObject("example.com/v1beta1", "gadgets", "default", "g")["spec"], (Json{{"color", "white"}}));

  // A watch through v1alpha1: the initial events and the later ones converted.
  auto fut = std::async(std::launch::async, [&] {
    TestClient w(server);
    return w.watch(kAlpha + "?watch=true&timeoutSeconds=5", 3);
  });
  ASSERT_TRUE(server.waitForWatches(1));
  ASSERT_EQ(c.post(kBeta, gadget("k", "v1beta1", "color", "pink")).status, 201);
  auto events = fut.get();
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0]["type"], "ADDED");
  EXPECT_EQ(events[0]["object"]["apiVersion"], "example.com/v1alpha1");
  EXPECT_EQ(events[0]["object"]["spec"], (Json{{"colour", "white"}}));
  EXPECT_EQ(events[2]["object"]["metadata"]["name"], "k");
  EXPECT_EQ(events[2]["object"]["spec"], (Json{{"colour", "pink"}}));
}

TEST(TestApiServerConversion, AdmissionSeesTheRequestVersion) {
  Webhook conv;
  conv.respond = convertAll;
  Webhook adm;
  adm.respond = [](const Json& r) { return allow(r); };
  TestApiServer server;
  TestClient c(server);
  Json cc{{"url", "https://127.0.0.1:" + std::to_string(conv.port) + "/convert"}, {"caBundle", conv.caBundle()}};
  ASSERT_EQ(c.post(kCrds, gadgetCrd(webhookConversion(cc))).status, 201);
  Json cfg = webhookConfig("ValidatingWebhookConfiguration", "https://127.0.0.1:" + std::to_string(adm.port) + "/v",
                           adm.caBundle(), "Fail");
  cfg["webhooks"][0]["rules"] = Json::array({Json{{"apiGroups", {"example.com"}}, {"apiVersions", {"*"}},
                                                  {"operations", {"CREATE", "UPDATE"}}, {"resources", {"gadgets"}}}});
  ASSERT_EQ(c.post(kVwc, cfg).status, 201);
  ASSERT_EQ(c.post(kAlpha, gadget("g", "v1alpha1", "colour", "red")).status, 201);
  ASSERT_EQ(adm.reviews.size(), 1u);
  EXPECT_EQ(adm.reviews[0]["request"]["object"]["apiVersion"], "example.com/v1alpha1");
  EXPECT_EQ(adm.reviews[0]["request"]["object"]["spec"], (Json{{"colour", "red"}}));
  ASSERT_EQ(c.patch(kAlpha + "/g", R"({"spec":{"colour":"blue"}})", "application/merge-patch+json").status, 200);
  ASSERT_EQ(adm.reviews.size(), 2u);
  EXPECT_EQ(adm.reviews[1]["request"]["oldObject"]["spec"], (Json{{"colour", "red"}}));
  EXPECT_EQ(adm.reviews[1]["request"]["object"]["spec"], (Json{{"colour", "blue"}}));
}

TEST(TestApiServerConversion, FailuresAreKubesErrorsAndStoreNothing) {
  Webhook hook;
  std::function<Json(const Json&)> behaviour = convertAll;
  hook.respond = [&](const Json& r) { return behaviour(r); };
  TestApiServer server;
  TestClient c(server);
  std::string url = "https://127.0.0.1:" + std::to_string(hook.port) + "/convert";
  ASSERT_EQ(c.post(kCrds, gadgetCrd(webhookConversion(Json{{"url", url}, {"caBundle", hook.caBundle()}}))).status, 201);
  ASSERT_EQ(c.post(kBeta, gadget("stored", "v1beta1", "color", "red")).status, 201);
  auto expectFailure = [&](const Reply& r, const std::string& prefix) {
    EXPECT_EQ(r.status, 500) << r.raw;
    EXPECT_EQ(r.body["kind"], "Status");
    EXPECT_EQ(r.body["status"], "Failure");
    EXPECT_EQ(r.body["code"], 500);
    EXPECT_FALSE(r.body.contains("reason")) << "kube's conversion errors carry no reason: " << r.raw;
    std::string msg = r.body.value("message", "");
    EXPECT_EQ(msg.rfind(prefix, 0), 0u) << msg;
    return msg;
  };
  const std::string readPrefix = "conversion webhook for example.com/v1beta1, Kind=Gadget ";
  const std::string writePrefix = "conversion webhook for example.com/v1alpha1, Kind=Gadget ";

  // Garbage.
  behaviour = [](const Json&) { return Json("garbage"); };
  expectFailure(c.get(kAlpha + "/stored"), readPrefix + "failed: ");
  expectFailure(c.post(kAlpha, gadget("new", "v1alpha1", "colour", "blue")), writePrefix + "failed: ");
  EXPECT_TRUE(server.getObject("example.com/v1beta1", "gadgets", "default", "new").is_null());
  // A list through v1alpha1 fails as a whole.
  auto list = c.get(kAlpha);
  EXPECT_EQ(list.status, 500) << list.raw;
  EXPECT_NE(list.body.value("message", "").find("failed: "), std::string::npos) << list.raw;
  // Another review's uid.
  behaviour = [](const Json& r) {
    Json a = convertAll(r);
    a["response"]["uid"] = "other";
    return a;
  };
  std::string m = expectFailure(c.get(kAlpha + "/stored"), readPrefix + "failed: ");
  EXPECT_NE(m.find("expected response.uid="), std::string::npos) << m;
  // A failure result with a message.
  behaviour = [](const Json& r) {
    Json a = convertAll(r);
    a["response"]["result"] = Json{{"status", "Failure"}, {"message", "cannot convert that"}};
    return a;
  };
  EXPECT_EQ(expectFailure(c.get(kAlpha + "/stored"), readPrefix), readPrefix + "failed: cannot convert that");
  // Too few objects.
  behaviour = [](const Json& r) { return conversionAnswer(r, Json::array()); };
  EXPECT_EQ(expectFailure(c.get(kAlpha + "/stored"), readPrefix), readPrefix + "returned 0 objects, expected 1");
  // The wrong apiVersion.
  behaviour = [](const Json& r) {
    Json a = convertAll(r);
    a["response"]["convertedObjects"][0]["apiVersion"] = "example.com/v1beta1";
    return a;
  };
  m = expectFailure(c.get(kAlpha + "/stored"), readPrefix + "returned invalid object at index 0: invalid groupVersion");
  // A changed name: kube's "invalid object" check.
  behaviour = [](const Json& r) {
    Json a = convertAll(r);
    a["response"]["convertedObjects"][0]["metadata"]["name"] = "renamed";
    return a;
  };
  EXPECT_EQ(expectFailure(c.get(kAlpha + "/stored"), readPrefix),
            readPrefix + "returned invalid object: must have the same name: stored != renamed");
  // Not stored after a failed create; a failed update leaves the stored object as it was.
  EXPECT_EQ(expectFailure(c.patch(kAlpha + "/stored", R"({"spec":{"colour":"x"}})", "application/merge-patch+json"),
                          readPrefix),
            readPrefix + "returned invalid object: must have the same name: stored != renamed");
  EXPECT_EQ(server.getObject("example.com/v1beta1", "gadgets", "default", "stored")["spec"], (Json{{"color", "red"}}));
  // The webhook down: the transport error.
  int deadPort = 0;
  {
    Webhook gone;
    deadPort = gone.port;
  }
  std::string deadUrl = "https://127.0.0.1:" + std::to_string(deadPort) + "/convert";
  Json crd = c.get(kCrds + "/gadgets.example.com").body;
  crd["spec"]["conversion"]["webhook"]["clientConfig"]["url"] = deadUrl;
  ASSERT_EQ(c.put(kCrds + "/gadgets.example.com", crd).status, 200);
  m = expectFailure(c.post(kAlpha, gadget("down", "v1alpha1", "colour", "blue")),
                    writePrefix + "failed: Post \"" + deadUrl + "?timeout=30s\": ");
  EXPECT_TRUE(server.getObject("example.com/v1beta1", "gadgets", "default", "down").is_null());
  // Reads through the stored version still work, and the object can be deleted.
  EXPECT_EQ(c.get(kBeta + "/stored").status, 200);
  EXPECT_EQ(c.del(kBeta + "/stored").status, 200);
}

TEST(TestApiServerConversion, StrategyNoneOnlyRelabels) {
  TestApiServer server;
  TestClient c(server);
  ASSERT_EQ(c.post(kCrds, gadgetCrd(Json())).status, 201);
  auto crd = c.get(kCrds + "/gadgets.example.com");
  EXPECT_EQ(crd.body["spec"]["conversion"], (Json{{"strategy", "None"}}));
  // v1alpha1's schema prunes what v1beta1 calls color: nothing is renamed.
  ASSERT_EQ(c.post(kAlpha, gadget("g", "v1alpha1", "colour", "red")).status, 201);
  auto r = c.get(kBeta + "/g");
  EXPECT_EQ(r.body["apiVersion"], "example.com/v1beta1");
  EXPECT_EQ(r.body["spec"], (Json{{"colour", "red"}}));
  EXPECT_EQ(server.conversionWebhookCalls(), 0);
}

}  // namespace
}  // namespace otel::testing
