// The REST client against the test API server: every operation, typed errors, auth paths, discovery.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <thread>

#include "lib/core/hash.h"
#include "lib/kube/discovery.h"
#include "lib/kube/errors.h"
#include "tests/integration/kube/fixture.h"
#include "tests/support/certs.h"

using namespace kubetest;
using otel::Json;
using otel::kube::ApiError;
using otel::kube::Client;
using otel::kube::ConnectionError;

namespace {

template <typename F>
ApiError apiErrorOf(F&& f) {
  try {
    f();
  } catch (const ApiError& e) {
    return e;
  }
  ADD_FAILURE() << "no ApiError";
  return ApiError(0, "", "");
}

template <typename F>
std::string errorLine(F&& f) {
  try {
    f();
  } catch (const otel::Error& e) {
    return e.oneLine();
  }
  return "<no error>";
}

}  // namespace

class ClientTest : public ::testing::Test {
 protected:
  otel::testing::TestApiServer server;
  TempDir dir;
  std::unique_ptr<Client> client = std::make_unique<Client>(configFor(server, dir));
};

TEST_F(ClientTest, VersionAndUserAgent) {
  Json v = client->version();
  EXPECT_TRUE(v.contains("gitVersion"));
  auto reqs = server.requests();
  ASSERT_FALSE(reqs.empty());
  EXPECT_EQ(reqs.back().userAgent.rfind("kubectl-otel/", 0), 0u) << reqs.back().userAgent;
}

TEST_F(ClientTest, DiscoveryAndMapper) {
  auto& m = client->mapper();
  auto dep = m.resourceFor("apps/v1", "Deployment");
  EXPECT_EQ(dep.resource, "deployments");
  EXPECT_TRUE(dep.namespaced);
  auto ns = m.resourceFor("v1", "Namespace");
  EXPECT_FALSE(ns.namespaced);
  auto lease = m.find("leases");
  ASSERT_TRUE(lease);
  EXPECT_EQ(lease->group, "coordination.k8s.io");
  EXPECT_EQ(m.find("deploy")->kind, "Deployment");
  EXPECT_FALSE(m.serves("opentelemetry.io/v1beta1"));
  EXPECT_EQ(errorLine([&] { m.resourceFor("example.com/v1", "Widget"); }),
            "no matches for kind \"Widget\" in version \"example.com/v1\"");
  // A CRD created later is found by refreshing on the miss.
  Json crd = {{"apiVersion", "apiextensions.k8s.io/v1"}, {"kind", "CustomResourceDefinition"},
              {"metadata", {{"name", "widgets.example.com"}}},
              {"spec", {{"group", "example.com"}, {"scope", "Namespaced"},
                        {"names", {{"plural", "widgets"}, {"singular", "widget"}, {"kind", "Widget"}, {"listKind", "WidgetList"}}},
                        {"versions", Json::array({{{"name", "v1"}, {"served", true}, {"storage", true},
                                                   {"subresources", {{"status", Json::object()}}},
                                                   {"schema", {{"openAPIV3Schema", {{"type", "object"}, {"x-kubernetes-preserve-unknown-fields", true}}}}}}})}}}};
  client->create(crd);
  int before = m.refreshes();
  auto w = m.resourceFor("example.com/v1", "Widget");
  EXPECT_EQ(w.resource, "widgets");
  EXPECT_GT(m.refreshes(), before);
  // Status subresource of the CR: updateStatus writes only status.
  Json cr = {{"apiVersion", "example.com/v1"}, {"kind", "Widget"}, {"metadata", {{"name", "w1"}, {"namespace", "default"}}},
             {"spec", {{"size", 1}}}, {"extra", {{"unknown", true}}}};
  Json created = client->create(cr);
  EXPECT_EQ(created["metadata"]["generation"], 1);
  EXPECT_EQ(created["extra"]["unknown"], true);  // unknown fields survive
  created["status"] = {{"ready", true}};
  created["spec"]["size"] = 5;  // ignored by /status
  Json st = client->updateStatus(created);
  EXPECT_EQ(st["status"]["ready"], true);
  EXPECT_EQ(st["spec"]["size"], 1);
  EXPECT_EQ(st["metadata"]["generation"], 1);
}

TEST_F(ClientTest, CrudAndTypedErrors) {
  Json created = client->create(configMap("default", "a", {{"k", "v1"}}));
  EXPECT_FALSE(created["metadata"]["uid"].get<std::string>().empty());
  auto dup = apiErrorOf([&] { client->create(configMap("default", "a")); });
  EXPECT_EQ(dup.code(), 409);
  EXPECT_TRUE(dup.isAlreadyExists());

  Json got = client->get(kConfigMaps, "default", "a");
  EXPECT_EQ(got["data"]["k"], "v1");
  got["data"]["k"] = "v2";
  Json updated = client->update(got);
  EXPECT_EQ(updated["data"]["k"], "v2");
  EXPECT_NE(updated["metadata"]["resourceVersion"], got["metadata"]["resourceVersion"]);
  // The old resourceVersion is stale now.
  auto stale = apiErrorOf([&] { client->update(got); });
  EXPECT_TRUE(stale.isConflict());
  EXPECT_NE(std::string(stale.what()).find("the object has been modified"), std::string::npos) << stale.what();

  auto missing = apiErrorOf([&] { client->get(kConfigMaps, "default", "nope"); });
  EXPECT_TRUE(missing.isNotFound());
  EXPECT_EQ(std::string(missing.what()), "configmaps \"nope\" not found");

  auto invalid = apiErrorOf([&] { client->create(configMap("default", "Bad_Name")); });
  EXPECT_EQ(invalid.code(), 422);
  EXPECT_TRUE(invalid.isInvalid());

  otel::kube::DeleteOptions dopts;
  dopts.propagationPolicy = "Foreground";
  Json del = client->remove(kConfigMaps, "default", "a", dopts);
  EXPECT_TRUE(apiErrorOf([&] { client->get(kConfigMaps, "default", "a"); }).isNotFound());
  (void)del;
}

TEST_F(ClientTest, PatchesAndServerSideApply) {
  client->create(configMap("default", "p", {{"a", "1"}}));
  Json m = client->patch(kConfigMaps, "default", "p", otel::kube::PatchType::Merge, {{"data", {{"b", "2"}, {"a", nullptr}}}});
  EXPECT_FALSE(m["data"].contains("a"));
  EXPECT_EQ(m["data"]["b"], "2");
  Json j = client->patch(kConfigMaps, "default", "p", otel::kube::PatchType::Json,
                         Json::array({{{"op", "add"}, {"path", "/data/c"}, {"value", "3"}}}));
  EXPECT_EQ(j["data"]["c"], "3");
  auto bad = apiErrorOf([&] {
    client->patch(kConfigMaps, "default", "p", otel::kube::PatchType::Json,
                  Json::array({{{"op", "test"}, {"path", "/data/c"}, {"value", "nope"}}}));
  });
  EXPECT_EQ(bad.code(), 422);

  Json intent = configMap("default", "applied", {{"x", "one"}});
  otel::kube::PatchOptions alpha, beta, betaForce;
  alpha.fieldManager = "alpha";
  beta.fieldManager = "beta";
  betaForce.fieldManager = "beta";
  betaForce.force = true;
  Json a1 = client->apply(intent, alpha);
  EXPECT_EQ(a1["data"]["x"], "one");
  intent["data"]["x"] = "two";
  auto conflict = apiErrorOf([&] { client->apply(intent, beta); });
  EXPECT_TRUE(conflict.isConflict());
  Json a2 = client->apply(intent, betaForce);
  EXPECT_EQ(a2["data"]["x"], "two");
}

TEST_F(ClientTest, PaginatedListWithSelectors) {
  for (int i = 0; i < 7; ++i)
    client->create(configMap("default", "page-" + std::to_string(i), {}, {{"page", i % 2 ? "odd" : "even"}}));
  client->create(configMap("kube-system", "elsewhere"));
  server.clearRequests();
  otel::kube::ListOptions lo;
  lo.limit = 2;
  Json all = client->list(kConfigMaps, "default", lo);
  EXPECT_EQ(all["items"].size(), 7u);
  EXPECT_EQ(all["kind"], "ConfigMapList");
  EXPECT_FALSE(all["metadata"]["resourceVersion"].get<std::string>().empty());
  EXPECT_EQ(all["items"][0]["kind"], "ConfigMap");
  // items stand alone, apiVersion and kind first as a GET gives them
  auto first = all["items"][0].begin();
  EXPECT_EQ(first.key(), "apiVersion");
  EXPECT_EQ((++first).key(), "kind");
  EXPECT_EQ(server.requestCount("GET", "/api/v1/namespaces/default/configmaps"), 4);  // 2+2+2+1
  lo.labelSelector = "page=odd";
  EXPECT_EQ(client->list(kConfigMaps, "default", lo)["items"].size(), 3u);
  lo.labelSelector = "page in (odd,even),page!=even";
  EXPECT_EQ(client->list(kConfigMaps, "default", lo)["items"].size(), 3u);
  lo.labelSelector.clear();
  lo.fieldSelector = "metadata.name=page-4";
  EXPECT_EQ(client->list(kConfigMaps, "default", lo)["items"].size(), 1u);
  lo.fieldSelector.clear();
  EXPECT_GE(client->list(kConfigMaps, "", lo)["items"].size(), 8u);  // all namespaces
}

TEST_F(ClientTest, RetryAfterIsHonoured) {
  server.failNext(1, 429, 1);
  Json v = client->version();
  EXPECT_TRUE(v.contains("gitVersion"));
  // Without Retry-After a 500 is returned as a typed error.
  server.failNext(1, 500);
  auto e = apiErrorOf([&] { client->get(kConfigMaps, "default", "x"); });
  EXPECT_EQ(e.code(), 500);
  // With retries disabled the 429 and its Retry-After reach the caller.
  auto cfg = client->config();
  cfg.maxRetries = 0;
  Client noRetry(cfg);
  server.failNext(1, 429, 7);
  auto tm = apiErrorOf([&] { noRetry.get(kConfigMaps, "default", "x"); });
  EXPECT_TRUE(tm.isTooManyRequests());
  EXPECT_EQ(tm.retryAfterSeconds(), 7);
}

TEST_F(ClientTest, ClientSideRateLimit) {
  auto cfg = client->config();
  cfg.qps = 1000;
  cfg.burst = 1;
  Client limited(cfg);
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < 20; ++i) limited.version();
  // 19 requests beyond the burst at 1000 qps take at least 19 ms.
  EXPECT_GE(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(18));
}

TEST_F(ClientTest, WatchEventsBookmarksAndExpiry) {
  Json list = client->list(kConfigMaps, "default");
  std::string rv = list["metadata"]["resourceVersion"];
  client->create(configMap("default", "w", {{"x", "1"}}));
  Json cm = client->get(kConfigMaps, "default", "w");
  cm["data"]["x"] = "2";
  client->update(cm);
  client->remove(kConfigMaps, "default", "w");
  std::vector<std::string> types;
  otel::kube::WatchOptions wo;
  wo.resourceVersion = rv;
  wo.timeoutSeconds = 20;  // a safety net: a broken test ends instead of hanging
  auto r = client->watch(kConfigMaps, "default", wo, [&](otel::kube::WatchEvent&& ev) {
    types.push_back(otel::kube::eventTypeName(ev.type));
    return types.size() < 3;
  });
  EXPECT_EQ(r.end, otel::kube::WatchResult::End::Stopped);
  EXPECT_EQ(types, (std::vector<std::string>{"ADDED", "MODIFIED", "DELETED"}));
  EXPECT_EQ(r.lastResourceVersion, std::to_string(server.resourceVersion()));

  // A closed watch ends as Closed; a forgotten history ends as Expired.
  int started = server.watchesStarted();
  std::jthread closer([&] {
    // Bounded wait for the new watch to be open, then drop it.
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while ((server.watchesStarted() <= started || server.activeWatches() < 1) && std::chrono::steady_clock::now() < deadline)
      std::this_thread::yield();
    server.closeWatches();
  });
  wo.resourceVersion = r.lastResourceVersion;
  auto closed = client->watch(kConfigMaps, "default", wo, [](otel::kube::WatchEvent&&) { return true; });
  EXPECT_EQ(closed.end, otel::kube::WatchResult::End::Closed);
  closer.join();
  server.forgetHistory();
  wo.resourceVersion = rv;
  auto expired = client->watch(kConfigMaps, "default", wo, [](otel::kube::WatchEvent&&) { return true; });
  EXPECT_EQ(expired.end, otel::kube::WatchResult::End::Expired);

  // A stop token ends an idle watch promptly.
  std::stop_source src;
  std::jthread stopper([&] {
    server.waitForWatches(1);
    src.request_stop();
  });
  wo.resourceVersion = std::to_string(server.resourceVersion());
  auto stopped = client->watch(kConfigMaps, "default", wo, [](otel::kube::WatchEvent&&) { return true; }, src.get_token());
  EXPECT_EQ(stopped.end, otel::kube::WatchResult::End::Stopped);
}

// ---- failures as one clear line

TEST(ClientErrors, UnauthorizedAndForbidden) {
  otel::testing::TestApiServerOptions opts;
  opts.forbiddenToken = "forbidden-token";
  otel::testing::TestApiServer server(opts);
  TempDir dir;
  auto cfg = configFor(server, dir);
  cfg.credentials = std::make_shared<otel::kube::StaticCredentials>(otel::kube::Credentials{"wrong-token", "", ""});
  Client bad(cfg);
  auto e401 = apiErrorOf([&] { bad.get(kConfigMaps, "default", "x"); });
  EXPECT_TRUE(e401.isUnauthorized());
  EXPECT_EQ(e401.oneLine(), "You must be logged in to the server (401 Unauthorized: the server rejected the credentials)");
  cfg.credentials = std::make_shared<otel::kube::StaticCredentials>(otel::kube::Credentials{"forbidden-token", "", ""});
  Client forbidden(cfg);
  auto e403 = apiErrorOf([&] { forbidden.list(kConfigMaps, "default"); });
  EXPECT_TRUE(e403.isForbidden());
  EXPECT_NE(e403.oneLine().find("forbidden"), std::string::npos) << e403.oneLine();
  EXPECT_EQ(e403.oneLine().find('\n'), std::string::npos);
}

TEST(ClientErrors, UnreachableServer) {
  int port;
  {
    otel::testing::TestApiServer gone;
    port = gone.port();
  }
  otel::kube::RestConfig cfg;
  cfg.server = "https://127.0.0.1:" + std::to_string(port);
  cfg.insecureSkipTlsVerify = true;
  Client c(cfg);
  try {
    c.version();
    FAIL();
  } catch (const ConnectionError& e) {
    EXPECT_EQ(e.kind(), ConnectionError::Kind::Unreachable);
    EXPECT_EQ(e.oneLine().rfind(cfg.server + ": cannot reach the API server", 0), 0u) << e.oneLine();
  }
}

TEST(ClientErrors, TlsVerificationFailure) {
  otel::testing::TestApiServer server;
  TempDir dir;
  auto cfg = configFor(server, dir);
  cfg.caPem = otel::testing::generateCa("someone-else").certPem;
  Client c(cfg);
  try {
    c.version();
    FAIL();
  } catch (const ConnectionError& e) {
    EXPECT_EQ(e.kind(), ConnectionError::Kind::Tls);
    EXPECT_NE(e.oneLine().find("TLS verification of the API server failed"), std::string::npos) << e.oneLine();
  }
  // insecure-skip-tls-verify accepts it.
  cfg.caPem.clear();
  cfg.insecureSkipTlsVerify = true;
  Client insecure(cfg);
  EXPECT_TRUE(insecure.version().contains("gitVersion"));
}

TEST(ClientAuth, TlsServerNameAndClientCertificate) {
  auto clientCa = otel::testing::generateCa("client-ca");
  otel::testing::TestApiServerOptions opts;
  opts.clientCaPem = clientCa.certPem;
  otel::testing::TestApiServer server(opts);
  // O=system:masters: the certificate's user is a superuser (client certificates are authorized like tokens).
  auto leaf = otel::testing::generateCert(clientCa, "alice", {}, true, {"system:masters"});
  TempDir dir;
  // The kubeconfig names 127.0.0.1 but verifies the certificate as "localhost" (CONNECT_TO).
  std::string kc = dir.file("kc", "current-context: c\n"
                                  "clusters: [{name: c, cluster: {server: \"" + server.url() +
                                      "\", tls-server-name: localhost, certificate-authority-data: " +
                                      otel::base64Encode(server.caPem()) + "}}]\n"
                                      "users: [{name: u, user: {client-certificate-data: " +
                                      otel::base64Encode(leaf.certPem) + ", client-key-data: " +
                                      otel::base64Encode(leaf.keyPem) + "}}]\n"
                                      "contexts: [{name: c, context: {cluster: c, user: u}}]\n");
  otel::kube::LoadOptions o;
  o.kubeconfig = kc;
  Client c(otel::kube::loadRestConfig(o));
  EXPECT_NO_THROW(c.list(kConfigMaps, "default"));
  // A tls-server-name not in the certificate fails verification.
  auto cfg = c.config();
  cfg.tlsServerName = "not-in-the-cert.example";
  Client wrong(cfg);
  EXPECT_THROW(wrong.version(), ConnectionError);
}

TEST(ClientAuth, ExecPluginRerunOnceAfter401) {
  otel::testing::TestApiServer server;
  TempDir dir;
  std::string good = server.token();
  // First run prints a stale token, later runs the right one.
  std::string script = dir.file("plugin.sh",
                                "#!/bin/sh\nif [ -f " + dir.path() + "/ran ]; then T=" + good + "; else T=stale; touch " +
                                    dir.path() + "/ran; fi\n"
                                    "printf '{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\","
                                    "\"status\":{\"token\":\"%s\"}}' \"$T\"\n");
  ::chmod(script.c_str(), 0755);
  std::string kc = dir.file("kc", "current-context: c\n"
                                  "clusters: [{name: c, cluster: {server: \"" + server.url() +
                                      "\", certificate-authority-data: " + otel::base64Encode(server.caPem()) + "}}]\n"
                                      "users: [{name: u, user: {exec: {apiVersion: client.authentication.k8s.io/v1, "
                                      "command: ./plugin.sh, interactiveMode: Never}}}]\n"
                                      "contexts: [{name: c, context: {cluster: c, user: u}}]\n");
  otel::kube::LoadOptions o;
  o.kubeconfig = kc;
  auto cfg = otel::kube::loadRestConfig(o);
  Client c(cfg);
  EXPECT_NO_THROW(c.list(kConfigMaps, "default"));
  auto* exec = dynamic_cast<otel::kube::ExecCredentials*>(cfg.credentials.get());
  ASSERT_NE(exec, nullptr);
  EXPECT_EQ(exec->runs(), 2);
  c.list(kConfigMaps, "default");
  EXPECT_EQ(exec->runs(), 2);  // cached
}
