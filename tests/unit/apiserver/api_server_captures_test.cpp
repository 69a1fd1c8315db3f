// Replays the requests of ../shared/reference/apiserver-captures against the test API server, in the order
// the capture session made them, and compares status codes and bodies (uids, timestamps and
// resourceVersion values ignored).
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>

#include "tests/support/api_server.h"
#include "tests/unit/apiserver/test_client.h"

namespace otel::testing {
namespace {

const std::string kDir = std::string(OTEL_SHARED_REFERENCE) + "/apiserver-captures";

Json load(const std::string& name) {
  std::ifstream f(kDir + "/" + name);
  return Json::parse(f);
}

// Removes values that differ between servers and turns the result into an order-insensitive value.
void scrub(Json& v) {
  if (v.is_object()) {
    for (const char* k : {"uid", "resourceVersion", "creationTimestamp", "deletionTimestamp", "time", "continue",
                          "lastTransitionTime"})
      v.erase(k);
    v.erase(".");
    for (auto& [k, x] : v.items()) scrub(x);
  } else if (v.is_array()) {
    for (auto& x : v) scrub(x);
  }
}

nlohmann::json normalized(Json v, bool keepManagedFields = false) {
  if (!keepManagedFields) {
    if (v.is_object() && v.contains("metadata") && v["metadata"].is_object()) v["metadata"].erase("managedFields");
    if (v.is_object() && v.contains("items"))
      for (auto& i : v["items"])
        if (i.contains("metadata")) i["metadata"].erase("managedFields");
  }
  scrub(v);
  return nlohmann::json::parse(v.dump());
}

void expectCapture(const std::string& file, const Reply& r, bool keepManagedFields = false) {
  Json cap = load(file);
  SCOPED_TRACE(file + ": " + r.raw.substr(0, 600));
  EXPECT_EQ(r.status, cap["status"].get<int>());
  EXPECT_EQ(normalized(r.body, keepManagedFields), normalized(cap["body"], keepManagedFields));
}

std::string rvOf(const Json& o) { return o["metadata"]["resourceVersion"].get<std::string>(); }

class Captures : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(kDir)) GTEST_SKIP() << "reference captures not found at " << kDir;
  }
};

TEST_F(Captures, DiscoveryMatchesCaptures) {
  TestApiServer server;
  TestClient c(server);
  auto v = c.get("/version");
  EXPECT_EQ(v.status, 200);
  const Json version = load("version.json")["body"];  // held: items() of a temporary would dangle
  for (auto& [k, x] : version.items()) EXPECT_TRUE(v.body.contains(k)) << k;
  auto api = c.get("/api");
  EXPECT_EQ(api.body["kind"], "APIVersions");
  EXPECT_EQ(api.body["versions"], Json::array({"v1"}));
  // core/v1: our entries equal the captured ones (storageVersionHash aside) for the resources we serve.
  auto v1 = c.get("/api/v1");
  ASSERT_EQ(v1.status, 200);
  Json capV1 = load("discovery-api-v1.json")["body"];
  EXPECT_EQ(v1.body["kind"], capV1["kind"]);
  EXPECT_EQ(v1.body["groupVersion"], capV1["groupVersion"]);
  auto byName = [](const Json& list) {
    std::map<std::string, nlohmann::json> m;
    for (auto r : list["resources"]) {
      r.erase("storageVersionHash");
      m[r["name"].get<std::string>()] = nlohmann::json::parse(r.dump());
    }
    return m;
  };
  auto ours = byName(v1.body), theirs = byName(capV1);
  for (const char* n : {"configmaps", "secrets", "services", "pods", "namespaces", "serviceaccounts", "events",
                        "endpoints", "nodes", "pods/status", "services/status", "namespaces/status"}) {
    ASSERT_TRUE(ours.count(n)) << n;
    EXPECT_EQ(ours[n], theirs[n]) << n;
  }
  auto apps = byName(c.get("/apis/apps/v1").body), capApps = byName(load("discovery-apps-v1.json")["body"]);
  for (auto& [n, r] : capApps) {
    ASSERT_TRUE(apps.count(n)) << n;
    EXPECT_EQ(apps[n], r) << n;
  }
  // Group list: the groups of the capture that we serve appear with the same preferred versions.
  auto apis = c.get("/apis");
  Json capApis = load("discovery-apis.json")["body"];
  std::map<std::string, Json> groups;
  for (auto& g : apis.body["groups"]) groups[g["name"].get<std::string>()] = g;
  for (const char* g : {"apps", "batch", "coordination.k8s.io", "policy", "autoscaling", "rbac.authorization.k8s.io",
                        "admissionregistration.k8s.io", "networking.k8s.io", "discovery.k8s.io",
                        "apiextensions.k8s.io", "authentication.k8s.io", "authorization.k8s.io"}) {
    ASSERT_TRUE(groups.count(g)) << g;
    for (auto& cg : capApis["groups"]) {
      if (cg["name"] == g && std::string(g) != "autoscaling") {
        EXPECT_EQ(nlohmann::json::parse(groups[g].dump()), nlohmann::json::parse(cg.dump())) << g;
      }
    }
  }
  // Aggregated discovery: content type and the apps/v1 deployments entry as captured.
  auto agg = c.get("/apis", "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json");
  Json capAgg = load("discovery-aggregated.json");
  EXPECT_EQ(agg.contentType, capAgg["headers"]["Content-Type"]);
  EXPECT_EQ(agg.body["kind"], "APIGroupDiscoveryList");
  EXPECT_EQ(agg.body["apiVersion"], "apidiscovery.k8s.io/v2");
  auto findRes = [](const Json& list, const std::string& group, const std::string& res) {
    for (auto& it : list["items"])
      if (it["metadata"].value("name", "") == group)
        for (auto& v : it["versions"])
          for (auto& r : v["resources"])
            if (r["resource"] == res) return nlohmann::json::parse(r.dump());
    return nlohmann::json();
  };
  for (auto [g, r] : std::vector<std::pair<std::string, std::string>>{
           {"apps", "deployments"}, {"apps", "statefulsets"}, {"batch", "jobs"}, {"coordination.k8s.io", "leases"},
           {"admissionregistration.k8s.io", "mutatingwebhookconfigurations"},
           {"apiextensions.k8s.io", "customresourcedefinitions"},
           {"authorization.k8s.io", "subjectaccessreviews"},
           {"authorization.k8s.io", "selfsubjectaccessreviews"},
           {"authorization.k8s.io", "localsubjectaccessreviews"},
           {"authentication.k8s.io", "selfsubjectreviews"}})
    EXPECT_EQ(findRes(agg.body, g, r), findRes(capAgg["body"], g, r)) << g << "/" << r;
  auto aggCore = c.get("/api", "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList");
  EXPECT_EQ(aggCore.body["items"][0]["versions"][0]["version"], "v1");
}

TEST_F(Captures, SessionReplay) {
  TestApiServer server;
  TestClient c(server);
  auto req = [](const std::string& f) { return load(f)["request"]; };

  expectCapture("ns-create.json", c.post("/api/v1/namespaces", req("ns-create.json")["body"]));
  // An exact list at an early resourceVersion that is still in the history: the (empty) past.
  expectCapture("list-expired.json", c.get(req("list-expired.json")["path"].get<std::string>()));
  const std::string cms = "/api/v1/namespaces/capture/configmaps";
  auto created = c.post(cms, req("cm-create.json")["body"]);
  expectCapture("cm-create.json", created, true);
  expectCapture("cm-create-duplicate.json", c.post(cms, req("cm-create-duplicate.json")["body"]));
  expectCapture("cm-get-missing.json", c.get(cms + "/nope"));

  Json upd = req("cm-update.json")["body"];
  upd["metadata"]["resourceVersion"] = rvOf(created.body);
  auto updated = c.put(cms + "/demo", upd);
  expectCapture("cm-update.json", updated, true);
  Json stale = req("cm-update-stale.json")["body"];
  stale["metadata"]["resourceVersion"] = rvOf(created.body);
  expectCapture("cm-update-stale.json", c.put(cms + "/demo", stale));
  expectCapture("cm-create-invalid.json", c.post(cms, req("cm-create-invalid.json")["body"]));

  expectCapture("cm-merge-patch.json",
                c.patch(cms + "/demo", req("cm-merge-patch.json")["body"].dump(), "application/merge-patch+json"), true);
  expectCapture("cm-json-patch.json",
                c.patch(cms + "/demo", req("cm-json-patch.json")["body"].dump(), "application/json-patch+json"), true);
  expectCapture("cm-json-patch-bad.json",
                c.patch(cms + "/demo", req("cm-json-patch-bad.json")["body"].dump(), "application/json-patch+json"));

  expectCapture("cm-apply.json",
                c.patch(cms + "/applied?fieldManager=alpha", req("cm-apply.json")["body"].get<std::string>(),
                        "application/apply-patch+yaml"),
                true);
  expectCapture("cm-apply-conflict.json",
                c.patch(cms + "/applied?fieldManager=beta", req("cm-apply-conflict.json")["body"].get<std::string>(),
                        "application/apply-patch+yaml"));
  expectCapture("cm-apply-force.json",
                c.patch(cms + "/applied?fieldManager=beta&force=true",
                        req("cm-apply-force.json")["body"].get<std::string>(), "application/apply-patch+yaml"),
                true);

  for (int i = 0; i < 3; ++i)
    ASSERT_EQ(c.post(cms, Json{{"apiVersion", "v1"},
                               {"kind", "ConfigMap"},
                               {"metadata", {{"name", "page-" + std::to_string(i)}, {"labels", {{"page", "yes"}}}}}})
                  .status,
              201);
  auto page1 = c.get(cms + "?limit=2&labelSelector=page%3Dyes");
  expectCapture("cm-list-page1.json", page1);
  ASSERT_TRUE(page1.body["metadata"].contains("continue"));
  auto page2 = c.get(cms + "?limit=2&labelSelector=page%3Dyes&continue=" +
                     page1.body["metadata"]["continue"].get<std::string>());
  expectCapture("cm-list-page2.json", page2);
  EXPECT_EQ(page2.body["metadata"]["resourceVersion"], page1.body["metadata"]["resourceVersion"]);
  expectCapture("cm-list-fieldselector.json", c.get(cms + "?fieldSelector=metadata.name%3Ddemo"));

  // CRD, custom resources, generation and the status subresource.
  expectCapture("crd-create.json",
                c.post("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", req("crd-create.json")["body"]));
  const std::string ws = "/apis/example.com/v1/namespaces/capture/widgets";
  auto cr = c.post(ws, req("cr-create.json")["body"]);
  expectCapture("cr-create.json", cr);
  Json m = req("cr-update-metadata.json")["body"];
  m["metadata"]["resourceVersion"] = rvOf(cr.body);
  auto cr2 = c.put(ws + "/w1", m);
  expectCapture("cr-update-metadata.json", cr2);
  Json s = req("cr-update-spec.json")["body"];
  s["metadata"]["resourceVersion"] = rvOf(cr2.body);
  auto cr3 = c.put(ws + "/w1", s);
  expectCapture("cr-update-spec.json", cr3);
  Json st = req("cr-update-status.json")["body"];
  st["metadata"]["resourceVersion"] = rvOf(cr3.body);
  expectCapture("cr-update-status.json", c.put(ws + "/w1/status", st));
  expectCapture("cr-invalid.json", c.post(ws, req("cr-invalid.json")["body"]));
  auto disc = c.get("/apis/example.com/v1");
  Json capDisc = load("discovery-example-v1.json")["body"];
  for (Json* j : {&disc.body, &capDisc})
    for (auto& r : (*j)["resources"]) r.erase("storageVersionHash");
  EXPECT_EQ(nlohmann::json::parse(disc.body.dump()), nlohmann::json::parse(capDisc.dump()));

  // Finalizers and deletion.
  ASSERT_EQ(c.post(cms, Json{{"apiVersion", "v1"},
                             {"kind", "ConfigMap"},
                             {"metadata", {{"name", "fin"}, {"finalizers", {"example.com/hold"}}}}})
                .status,
            201);
  expectCapture("delete-with-finalizer.json", c.del(cms + "/fin"));
  expectCapture("get-terminating.json", c.get(cms + "/fin"));
  expectCapture("delete-plain.json", c.del(cms + "/demo"));
  expectCapture("delete-propagation.json", c.del(cms + "/page-0", req("delete-propagation.json")["body"]));
  // With no dependents the foregroundDeletion finalizer goes right away and the object with it.
  EXPECT_EQ(c.get(cms + "/page-0").status, 404);
  expectCapture("lease-create.json",
                c.post("/apis/coordination.k8s.io/v1/namespaces/capture/leases", req("lease-create.json")["body"]));
}

TEST_F(Captures, WatchFramingMatchesCapture) {
  TestApiServer server;
  TestClient c(server);
  std::ifstream f(kDir + "/watch-configmaps.jsonl");
  std::vector<std::string> capturedTypes;
  for (std::string line; std::getline(f, line);)
    if (!line.empty()) capturedTypes.push_back(Json::parse(line)["type"].get<std::string>());
  const std::string cms = "/api/v1/namespaces/default/configmaps";
  std::string from = std::to_string(server.resourceVersion());
  auto cm = c.post(cms, Json{{"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"metadata", {{"name", "w"}}},
                             {"data", {{"x", "1"}}}});
  Json body = cm.body;
  body["data"]["x"] = "2";
  c.put(cms + "/w", body);
  c.del(cms + "/w");
  auto events = c.watch(cms + "?watch=1&allowWatchBookmarks=true&timeoutSeconds=1&resourceVersion=" + from, 10);
  std::vector<std::string> types;
  for (auto& e : events) types.push_back(e["type"].get<std::string>());
  EXPECT_EQ(types, capturedTypes);
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events[3]["object"]["metadata"]["resourceVersion"], events[2]["object"]["metadata"]["resourceVersion"]);
  EXPECT_EQ(events[3]["object"]["kind"], "ConfigMap");
  EXPECT_EQ(events[3]["object"]["apiVersion"], "v1");
}

}  // namespace
}  // namespace otel::testing

// ---------------------------------------------------------------------------------------------------------
// apiserver-captures/defaults: what kube-apiserver v1.36 stored for objects our builders render (`sent`,
// `stored`), and the changes it refused. One test per file.
namespace otel::testing {
namespace {

const std::string kDefaultsDir = kDir + "/defaults";

std::vector<std::string> defaultsFiles(bool refusals) {
  std::vector<std::string> out;
  if (std::filesystem::exists(kDefaultsDir))
    for (const auto& e : std::filesystem::directory_iterator(kDefaultsDir)) {
      std::string n = e.path().filename().string();
      if (e.path().extension() != ".json") continue;
      if ((n.rfind("refusal-", 0) == 0) == refusals) out.push_back(n);
    }
  std::sort(out.begin(), out.end());
  if (out.empty()) out.push_back("none");  // the test skips with a message
  return out;
}

std::string testName(const ::testing::TestParamInfo<std::string>& info) {
  std::string n = info.param.substr(0, info.param.rfind('.'));
  for (auto& ch : n)
    if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
  return n;
}

Json loadDefaults(const std::string& name) {
  std::ifstream f(kDefaultsDir + "/" + name);
  return Json::parse(f);
}

// What a capture leaves out: uid, timestamps, resourceVersion, managedFields, generation.
nlohmann::json comparable(Json o) {
  if (o.contains("metadata")) {
    for (const char* k : {"uid", "resourceVersion", "creationTimestamp", "managedFields", "generation"})
      o["metadata"].erase(k);
  }
  return nlohmann::json::parse(o.dump());
}

std::string collectionPath(const Json& o) {
  std::string apiVersion = o["apiVersion"].get<std::string>();
  std::string kind = o["kind"].get<std::string>();
  std::string plural;
  for (char ch : kind) plural += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  if (plural.back() == 'y')
    plural = plural.substr(0, plural.size() - 1) + "ies";
  else if (plural.back() == 's')
    plural += "es";
  else
    plural += "s";
  std::string base = apiVersion.find('/') == std::string::npos ? "/api/" + apiVersion : "/apis/" + apiVersion;
  return base + "/namespaces/" + o["metadata"]["namespace"].get<std::string>() + "/" + plural;
}

class DefaultsCapture : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(kDefaultsDir)) GTEST_SKIP() << "reference captures not found at " << kDefaultsDir;
  }
};

// Created through the REST API, every object is stored exactly as kube-apiserver stored it; the dry run
// (how the capture was made) gives the same answer, Service addresses included; a PUT, each patch type and
// a server-side apply of the same `sent` change nothing.
TEST_P(DefaultsCapture, StoredAsKubeApiserverStoresIt) {
  Json cap = loadDefaults(GetParam());
  const Json sent = cap["sent"];
  const nlohmann::json stored = comparable(cap["stored"]);
  TestApiServer server;
  TestClient c(server);
  ASSERT_EQ(c.post("/api/v1/namespaces", Json{{"apiVersion", "v1"}, {"kind", "Namespace"},
                                              {"metadata", {{"name", sent["metadata"]["namespace"]}}}})
                .status,
            201);
  const std::string coll = collectionPath(sent);
  const std::string path = coll + "/" + sent["metadata"]["name"].get<std::string>();

  auto dry = c.post(coll + "?dryRun=All", sent);
  ASSERT_EQ(dry.status, 201) << dry.raw;
  EXPECT_EQ(comparable(dry.body), stored);
  EXPECT_TRUE(dry.warnings.empty()) << dry.warnings[0];

  auto created = c.post(coll, sent);
  ASSERT_EQ(created.status, 201) << created.raw;
  const nlohmann::json actual = comparable(created.body);
  nlohmann::json got = actual;
  if (sent["kind"] == "Service" && stored["spec"]["clusterIP"] != "None") {
    // A real allocation: an address of the service range, the same in clusterIP and clusterIPs.
    std::string ip = got["spec"]["clusterIP"].get<std::string>();
    EXPECT_EQ(ip.rfind("10.0.", 0), 0u) << ip;
    EXPECT_NE(ip, "10.0.0.0");
    EXPECT_EQ(got["spec"]["clusterIPs"], nlohmann::json::array({ip}));
    got["spec"]["clusterIP"] = stored["spec"]["clusterIP"];
    got["spec"]["clusterIPs"] = stored["spec"]["clusterIPs"];
  }
  nlohmann::json expected = stored;
  EXPECT_EQ(got, expected);
  EXPECT_EQ(comparable(c.get(path).body), actual);
  const std::string rv = created.body["metadata"]["resourceVersion"].get<std::string>();

  // Re-sending what was sent writes nothing, whatever the verb.
  Json put = sent;
  put["metadata"]["resourceVersion"] = rv;
  auto r1 = c.put(path, put);
  EXPECT_EQ(r1.status, 200) << r1.raw;
  Json patchSpec = Json::object();
  for (auto it = sent.begin(); it != sent.end(); ++it)
    if (it.key() != "apiVersion" && it.key() != "kind" && it.key() != "metadata") patchSpec[it.key()] = it.value();
  auto r2 = c.patch(path, patchSpec.dump(), "application/merge-patch+json");
  EXPECT_EQ(r2.status, 200) << r2.raw;
  auto r3 = c.patch(path, patchSpec.dump(), "application/strategic-merge-patch+json");
  EXPECT_EQ(r3.status, 200) << r3.raw;
  Json ops = Json::array();
  for (auto it = patchSpec.begin(); it != patchSpec.end(); ++it)
    ops.push_back(Json{{"op", "replace"}, {"path", "/" + it.key()}, {"value", it.value()}});
  auto r4 = c.patch(path, ops.dump(), "application/json-patch+json");
  EXPECT_EQ(r4.status, 200) << r4.raw;
  // A server-side apply of the same fields by another manager: no conflict (the values it sets are the
  // stored ones) and nothing changes but managedFields.
  auto r5 = c.patch(path + "?fieldManager=capture", sent.dump(), "application/apply-patch+yaml");
  EXPECT_EQ(r5.status, 200) << r5.raw;
  for (const Reply* r : {&r1, &r2, &r3, &r4}) {
    EXPECT_EQ(r->body["metadata"]["resourceVersion"], rv) << r->raw.substr(0, 300);
    EXPECT_EQ(comparable(r->body), actual);
  }
  EXPECT_EQ(comparable(r5.body), actual);
  // Server-side apply creating the object stores it defaulted as well.
  Json renamed = sent;
  renamed["metadata"]["name"] = sent["metadata"]["name"].get<std::string>() + "-applied";
  auto applied = c.patch(coll + "/" + renamed["metadata"]["name"].get<std::string>() + "?fieldManager=capture",
                         renamed.dump(), "application/apply-patch+yaml");
  ASSERT_EQ(applied.status, 201) << applied.raw;
  nlohmann::json appliedGot = comparable(applied.body);
  appliedGot["metadata"]["name"] = stored["metadata"]["name"];
  if (sent["kind"] == "Service" && stored["spec"]["clusterIP"] != "None") {
    EXPECT_NE(appliedGot["spec"]["clusterIP"], actual["spec"]["clusterIP"]);  // another address
    appliedGot["spec"]["clusterIP"] = stored["spec"]["clusterIP"];
    appliedGot["spec"]["clusterIPs"] = stored["spec"]["clusterIPs"];
  }
  EXPECT_EQ(appliedGot, expected);
  auto again = c.patch(coll + "/" + renamed["metadata"]["name"].get<std::string>() + "?fieldManager=capture",
                       renamed.dump(), "application/apply-patch+yaml");
  EXPECT_EQ(again.status, 200);
  EXPECT_EQ(again.body["metadata"]["resourceVersion"], applied.body["metadata"]["resourceVersion"]);
}

INSTANTIATE_TEST_SUITE_P(Captures, DefaultsCapture, ::testing::ValuesIn(defaultsFiles(false)), testName);

class RefusalCapture : public DefaultsCapture {};

// Each refused change gets kube's 422 Invalid with the same message (the capture holds kubectl's
// rendering: "The <Kind> \"<name>\" is invalid: <causes>").
TEST_P(RefusalCapture, RefusedAsKubeApiserverRefusesIt) {
  Json cap = loadDefaults(GetParam());
  std::string stderrText = cap["stderr"].get<std::string>();
  TestApiServer server;
  TestClient c(server);
  ASSERT_EQ(c.post("/api/v1/namespaces", Json{{"apiVersion", "v1"}, {"kind", "Namespace"},
                                              {"metadata", {{"name", "capture-defaults"}}}})
                .status,
            201);
  Reply refused;
  std::string kindForMessage;
  if (cap.contains("object")) {
    const Json obj = cap["object"];
    std::string coll = collectionPath(obj);
    ASSERT_EQ(c.post(coll, obj).status, 201);
    refused = c.patch(coll + "/" + obj["metadata"]["name"].get<std::string>(), cap["patch"].dump(),
                      "application/strategic-merge-patch+json");
    std::string apiVersion = obj["apiVersion"].get<std::string>();
    kindForMessage = obj["kind"].get<std::string>() +
                     (apiVersion.find('/') == std::string::npos ? "" : "." + apiVersion.substr(0, apiVersion.find('/')));
  } else {
    // The finalizer rule: a ConfigMap being deleted (it has a finalizer) may not gain another one.
    const std::string cms = "/api/v1/namespaces/capture-defaults/configmaps";
    ASSERT_EQ(c.post(cms, Json{{"apiVersion", "v1"}, {"kind", "ConfigMap"},
                               {"metadata", {{"name", "fin"}, {"finalizers", {"example.com/a"}}}}})
                  .status,
              201);
    ASSERT_EQ(c.del(cms + "/fin").status, 200);
    refused = c.patch(cms + "/fin", R"({"metadata":{"finalizers":["example.com/a","example.com/b"]}})",
                      "application/merge-patch+json");
    kindForMessage = "ConfigMap";
  }
  const std::string marker = " is invalid: ";
  std::string causes = stderrText.substr(stderrText.find(marker) + marker.size());
  std::string name = stderrText.substr(stderrText.find('"'), stderrText.find(marker) - stderrText.find('"'));
  EXPECT_EQ(refused.status, 422) << refused.raw;
  EXPECT_EQ(refused.body["reason"], "Invalid");
  EXPECT_EQ(refused.body["message"], kindForMessage + " " + name + marker + causes);
  ASSERT_EQ(refused.body["details"]["causes"].size(), 1u) << refused.raw;
  EXPECT_EQ(refused.body["details"]["causes"][0]["field"], causes.substr(0, causes.find(": ")));
  EXPECT_EQ(refused.body["details"]["causes"][0]["message"], causes.substr(causes.find(": ") + 2));
}

INSTANTIATE_TEST_SUITE_P(Captures, RefusalCapture, ::testing::ValuesIn(defaultsFiles(true)), testName);

}  // namespace
}  // namespace otel::testing
