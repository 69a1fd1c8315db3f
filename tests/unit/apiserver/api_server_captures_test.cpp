// Replays the requests of ../shared/reference/apiserver-captures against the test API server, in the order
// the capture session made them, and compares status codes and bodies (uids, timestamps and
// resourceVersion values ignored).
#include <gtest/gtest.h>

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
  for (auto& [k, x] : load("version.json")["body"].items()) EXPECT_TRUE(v.body.contains(k)) << k;
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
