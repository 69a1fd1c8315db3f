// The upstream injection suites (e2e-instrumentation, e2e-multi-instrumentation, e2e-sidecar) through the
// real pod webhook: `kubectl otel run --webhook-host 127.0.0.1` registers its webhooks with the test API
// server; at each assert step the harness (tests/support/inject_acceptance) writes the test's Namespaces,
// Instrumentations and collectors through the API (defaulted by run's webhooks), waits until the webhook's
// catalog has read them, stores each workload and its ReplicaSet/Job as the controllers would, and creates
// the controller's pod through the API: the pod the server stores after calling the webhook is matched
// against the assert files. Every test the pure run passes must pass here.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <regex>

#include "lib/api/common.h"
#include "lib/kube/client.h"
#include "lib/kube/errors.h"
#include "lib/inject/workload.h"
#include "lib/manifests/install.h"
#include "tests/support/api_server.h"
#include "tests/support/inject_acceptance.h"
#include "tests/support/shell.h"

namespace fs = std::filesystem;
using otel::Json;

namespace {

const std::string kBin = OTEL_CLI_BINARY;

std::string readAll(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// One plain HTTP GET to 127.0.0.1:port; the whole answer ("" when it cannot connect).
std::string httpGetBody(int port, const std::string& path) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval tv{30, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return "";
  }
  std::string req = "GET " + path + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
  (void)!::write(fd, req.data(), req.size());
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  ::close(fd);
  return out;
}

class WebhookAcceptance : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = otel::clitest::tempDir("webhook-acceptance");
    server_.writeKubeconfig(dir_ + "/kubeconfig");
    otel::kube::LoadOptions lo;
    lo.kubeconfig = dir_ + "/kubeconfig";
    auto rc = otel::kube::loadRestConfig(lo);
    rc.qps = 0;
    client_ = std::make_unique<otel::kube::Client>(rc);
    otel::kube::PatchOptions po;
    po.force = true;
    for (const auto& crd : otel::manifests::crdObjects()) client_->apply(crd, po);
  }
  void TearDown() override { stopOperator(); }
  void stopOperator() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    int st = 0;
    ::waitpid(pid_, &st, 0);
    pid_ = -1;
  }
  // (Re)starts run, with native sidecars or not, and waits until its webhooks are registered and its
  // catalog has synced.
  void startOperator(bool native) {
    stopOperator();
    native_ = native;
    log_ = dir_ + "/op-" + std::to_string(++starts_) + ".log";
    std::vector<std::string> args = {kBin, "--kubeconfig", dir_ + "/kubeconfig", "run", "--metrics-addr", "127.0.0.1:0",
                                     "--health-addr", "127.0.0.1:0", "--webhook-host", "127.0.0.1", "--webhook-addr",
                                     "127.0.0.1:0", "--leader-elect", "false"};
    if (native) args.push_back("--native-sidecars");
    pid_ = ::fork();
    if (pid_ == 0) {
      int fd = ::open(log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      ::dup2(fd, 2);
      ::dup2(fd, 1);
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    ASSERT_TRUE(otel::clitest::eventually([&] {
      return httpGetBody(port("health_port"), "/readyz").find("200 OK") != std::string::npos;
    })) << readAll(log_);
    ASSERT_NE(readAll(log_).find("msg=\"webhooks registered by URL\""), std::string::npos) << readAll(log_);
  }
  int port(const std::string& which) {
    std::smatch m;
    std::string out = readAll(log_);
    return std::regex_search(out, m, std::regex(which + "=([0-9]+)")) ? std::stoi(m[1]) : 0;
  }
  // The catalog gauge of `kind` on the operator's /metrics.
  long long catalogVersion(const std::string& kind) {
    std::string body = httpGetBody(port("metrics_port"), "/metrics");
    std::smatch m;
    if (std::regex_search(body, m, std::regex("kubectl_otel_webhook_catalog_resource_version\\{kind=\"" + kind + "\"\\} ([0-9.e+]+)")))
      return static_cast<long long>(std::stod(m[1]));
    return 0;
  }

  // Writes the objects the webhook reads (Namespaces, Instrumentations, collectors) as the test has them
  // now, through the API, and waits until the webhook's catalog has read the last write of each kind.
  std::string sync(const otel::testing::AcceptanceCluster& cluster) {
    std::map<std::string, long long> lastWrite;
    std::set<std::string> present;
    auto key = [](const Json& o) {
      return o.value("kind", "") + "/" + otel::api::str(o, {"metadata", "namespace"}) + "/" + otel::api::str(o, {"metadata", "name"});
    };
    auto ensureNamespace = [&](const std::string& ns, const Json* obj) {
      Json want = obj ? *obj : Json{{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", ns}}}};
      Json live = server_.getObject("v1", "namespaces", "", ns);
      Json stored;
      if (live.is_null()) {
        stored = client_->create(want, {});
      } else if (obj) {
        live["metadata"]["annotations"] = want["metadata"].value("annotations", Json::object());
        live["metadata"]["labels"] = want["metadata"].value("labels", Json::object());
        stored = client_->update(live, {});
      }
      // the webhook reads namespaces from a cache too: wait for it as for the other kinds
      if (!stored.is_null()) lastWrite["Namespace"] = std::stoll(stored["metadata"]["resourceVersion"].get<std::string>());
    };
    ensureNamespace(otel::testing::kAcceptanceNamespace, nullptr);
    for (const auto& o : cluster.objects)
      if (o.value("kind", "") == "Namespace") ensureNamespace(otel::api::str(o, {"metadata", "name"}), &o);
    for (const auto& o : cluster.objects) {
      const std::string kind = o.value("kind", "");
      if (kind != "Instrumentation" && kind != "OpenTelemetryCollector") continue;
      const std::string ns = otel::api::str(o, {"metadata", "namespace"});
      if (server_.getObject("v1", "namespaces", "", ns).is_null()) ensureNamespace(ns, nullptr);
      present.insert(key(o));
      auto it = synced_.find(key(o));
      if (it != synced_.end() && it->second == o) continue;
      Json stored;
      try {
        if (it == synced_.end()) {
          stored = client_->create(o, {});
        } else {
          otel::kube::ResourceId id = client_->resourceFor(o);
          Json live = client_->get(id, ns, otel::api::str(o, {"metadata", "name"}));
          Json next = o;
          next["metadata"]["resourceVersion"] = live["metadata"]["resourceVersion"];
          stored = client_->update(id, ns, next);
        }
      } catch (const std::exception& e) {
        return key(o) + " refused: " + e.what();
      }
      synced_[key(o)] = o;
      lastWrite[kind] = std::stoll(stored["metadata"]["resourceVersion"].get<std::string>());
    }
    for (auto it = synced_.begin(); it != synced_.end();) {
      if (present.count(it->first)) {
        ++it;
        continue;
      }
      const Json& o = it->second;
      otel::kube::ResourceId id = client_->resourceFor(o);
      client_->remove(id, otel::api::str(o, {"metadata", "namespace"}), otel::api::str(o, {"metadata", "name"}), {});
      // a delete's resourceVersion is not returned here: wait for any newer event of the kind
      lastWrite[o.value("kind", "")] = std::max<long long>(lastWrite[o.value("kind", "")], server_.resourceVersion());
      it = synced_.erase(it);
    }
    // Events reach the catalog in order: once it has read a write made after all of the above (a marker of
    // each kind, in a namespace of its own), it has read them, deletions included.
    for (const auto& [kind, unused] : lastWrite) {
      (void)unused;
      const long long rv = touchMarker(kind);
      if (!otel::clitest::eventually([&] { return catalogVersion(kind) >= rv; }))
        return "the webhook's catalog did not read " + kind + " resourceVersion " + std::to_string(rv);
    }
    return "";
  }

  // Creates or updates the marker object of `kind`; returns the resourceVersion of that write.
  long long touchMarker(const std::string& kind) {
    const std::string ns = "acceptance-sync";
    if (server_.getObject("v1", "namespaces", "", ns).is_null())
      client_->create(Json{{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", ns}}}}, {});
    if (kind == "Namespace") {  // the marker is the sync namespace itself
      Json live = server_.getObject("v1", "namespaces", "", ns);
      live["metadata"]["annotations"]["touch"] = std::to_string(++touches_);
      return std::stoll(client_->update(live, {})["metadata"]["resourceVersion"].get<std::string>());
    }
    Json marker = kind == "Instrumentation"
                      ? Json{{"apiVersion", "opentelemetry.io/v1alpha1"}, {"kind", kind}, {"metadata", {{"name", "marker"}, {"namespace", ns}}},
                             {"spec", {{"exporter", {{"endpoint", "http://marker:4317"}}}}}}
                      : Json{{"apiVersion", "opentelemetry.io/v1beta1"}, {"kind", kind}, {"metadata", {{"name", "marker"}, {"namespace", ns}}},
                             {"spec", {{"mode", "sidecar"},
                                       {"config", {{"receivers", {{"otlp", {{"protocols", {{"grpc", Json::object()}}}}}}},
                                                   {"exporters", {{"debug", Json::object()}}},
                                                   {"service", {{"pipelines", {{"traces", {{"receivers", {"otlp"}}, {"exporters", {"debug"}}}}}}}}}}}}};
    otel::kube::ResourceId id = client_->resourceFor(marker);
    for (int i = 0; i < 20; ++i) {
      try {
        Json live = client_->get(id, ns, "marker");
        live["metadata"]["annotations"]["touch"] = std::to_string(++touches_);
        return std::stoll(client_->update(id, ns, live)["metadata"]["resourceVersion"].get<std::string>());
      } catch (const otel::kube::ApiError& e) {
        if (e.isNotFound()) return std::stoll(client_->create(id, ns, marker)["metadata"]["resourceVersion"].get<std::string>());
        if (!e.isConflict()) throw;
      }
    }
    throw std::runtime_error("marker still conflicting");
  }

  // The pod of each workload, created through the API (and so through the webhook).
  std::vector<Json> makePods(const otel::testing::AcceptanceCluster& cluster) {
    std::vector<Json> pods;
    if (std::string err = sync(cluster); !err.empty()) {
      ADD_FAILURE() << err;
      return pods;
    }
    const otel::kube::ResourceId podId{"v1", "pods", true, "Pod"};
    for (const auto& w : cluster.objects) {
      if (!otel::inject::isWorkloadKind(w.value("kind", ""))) continue;
      std::string ownerKind, ownerName;
      Json pod = otel::testing::controllerPod(w, &ownerKind, &ownerName);
      const std::string ns = otel::api::str(w, {"metadata", "namespace"});
      if (w.value("kind", "") != "Pod") {
        // the workload and its ReplicaSet/Job as the controllers store them (the webhook reads the chain)
        Json stored = server_.putObject(w);
        Json owner = stored;
        if (ownerKind != w.value("kind", "")) {
          owner = Json{{"apiVersion", ownerKind == "Job" ? "batch/v1" : "apps/v1"},
                       {"kind", ownerKind},
                       {"metadata",
                        {{"name", ownerName},
                         {"namespace", ns},
                         {"ownerReferences", Json::array({{{"apiVersion", w.value("apiVersion", "")},
                                                           {"kind", w.value("kind", "")},
                                                           {"name", otel::api::str(w, {"metadata", "name"})},
                                                           {"uid", stored["metadata"]["uid"]},
                                                           {"controller", true}}})}}},
                       {"spec", stored.value("spec", Json::object())}};
          if (ownerKind == "Job" && stored["spec"].contains("jobTemplate")) owner["spec"] = stored["spec"]["jobTemplate"]["spec"];
          owner = server_.putObject(owner);
        }
        pod["metadata"]["ownerReferences"] = Json::array({{{"apiVersion", owner.value("apiVersion", "")},
                                                          {"kind", owner.value("kind", "")},
                                                          {"name", otel::api::str(owner, {"metadata", "name"})},
                                                          {"uid", owner["metadata"]["uid"]},
                                                          {"controller", true}}});
      }
      // a Pod is created as written; a controller's pod gets a generated name
      pod["metadata"]["name"] = w.value("kind", "") == "Pod" ? otel::api::str(w, {"metadata", "name"})
                                                             : otel::api::str(w, {"metadata", "name"}) + "-pod-" + std::to_string(++pods_);
      if (w.value("kind", "") == "Pod") {
        server_.deleteObject("v1", "pods", ns, otel::api::str(w, {"metadata", "name"}));  // an earlier step's
      }
      try {
        Json stored = client_->create(podId, ns, pod);
        otel::testing::addServiceAccountMounts(stored);  // the plugin's re-invocation for added containers
        pods.push_back(stored);
      } catch (const std::exception& e) {
        ADD_FAILURE() << "pod of " << w.value("kind", "") << " " << otel::api::str(w, {"metadata", "name"}) << " refused: " << e.what();
      }
    }
    return pods;
  }

  otel::testing::TestApiServer server_;
  std::unique_ptr<otel::kube::Client> client_;
  std::string dir_, log_;
  pid_t pid_ = -1;
  bool native_ = false;
  int starts_ = 0;
  std::string mutatedLogs_;
  std::map<std::string, Json> synced_;
  int pods_ = 0;
  int touches_ = 0;
};

TEST_F(WebhookAcceptance, UpstreamChainsawSuitesThroughThePodWebhook) {
  const fs::path root = fs::path(OTEL_SHARED_REFERENCE) / "upstream-e2e";
  if (!fs::exists(root)) GTEST_SKIP() << "reference folder " << root << " is absent (a user's clone has no ../shared)";
  startOperator(false);
  if (HasFatalFailure()) return;
  auto outcomes = otel::testing::runInjectAcceptance(root, [&](const otel::testing::AcceptanceCluster& c, bool native) {
    // the tests labelled sidecar: native run against `run --native-sidecars`, as upstream's with the feature gate
    if (native != native_) {
      mutatedLogs_ += readAll(log_);
      startOperator(native);
    }
    return makePods(c);
  });
  mutatedLogs_ += readAll(log_);
  auto expected = otel::testing::acceptanceExpectedPasses(std::string(OTEL_SOURCE_DIR) + "/tests/fixtures/inject/acceptance-expected.txt");
  ASSERT_FALSE(expected.empty());
  int passed = 0;
  for (const auto& o : outcomes) {
    passed += o.passed() ? 1 : 0;
    if (expected.count(o.suite + "/" + o.name)) {
      EXPECT_TRUE(o.passed()) << "through the webhook: " << o.suite << "/" << o.name << " fails: "
                              << (o.failures.empty() ? "no pod assert" : o.failures.front());
    }
  }
  std::cout << otel::testing::acceptanceReport(outcomes);
  EXPECT_GE(passed, static_cast<int>(expected.size()));
  EXPECT_NE(mutatedLogs_.find("msg=\"pod mutated\""), std::string::npos);
}

}  // namespace
