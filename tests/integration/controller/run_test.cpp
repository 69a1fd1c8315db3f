// `kubectl otel run` as the real binary against the test API server: it reconciles, serves /healthz,
// /readyz and /metrics with controller-runtime's names, stops cleanly on SIGTERM (Lease released), and
// two replicas elect one leader; after SIGKILL of the leader the other takes over within the lease.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/time.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <functional>
#include <fstream>
#include <iostream>
#include <regex>
#include <set>

#include "lib/core/files.h"
#include "lib/core/yaml.h"
#include "lib/kube/client.h"
#include "lib/manifests/install.h"
#include "tests/integration/kube/fixture.h"
#include "lib/core/hash.h"
#include "lib/core/yaml.h"
#include "lib/http/certs.h"
#include "lib/kube/errors.h"
#include "tests/support/api_server.h"
#include "tests/support/certs.h"
#include "tests/support/shell.h"
#include "tests/support/tls_probe.h"

namespace {

using otel::Json;
using otel::clitest::eventually;
using otel::testing::servedCertificate;
using otel::testing::TestApiServer;

const std::string kBin = OTEL_CLI_BINARY;
const otel::kube::ResourceId kCollectors{"opentelemetry.io/v1beta1", "opentelemetrycollectors", true, "OpenTelemetryCollector"};

// A started `kubectl-otel run` with its stderr in a file.
struct Operator {
  pid_t pid = -1;
  std::string log;
  Operator(const std::string& kubeconfig, const std::string& logFile, const std::vector<std::string>& extra) : log(logFile) {
    std::vector<std::string> args = {kBin, "--kubeconfig", kubeconfig, "run", "--metrics-addr", "127.0.0.1:0",
                                     "--health-addr", "127.0.0.1:0"};
    args.insert(args.end(), extra.begin(), extra.end());
    pid = ::fork();
    if (pid == 0) {
      int fd = ::open(logFile.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      ::dup2(fd, 2);
      ::dup2(fd, 1);
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
  }
  std::string output() const {
    std::ifstream in(log);  // may not exist yet right after fork
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  // The port from the "operator starting" line (metrics_port / health_port).
  int port(const std::string& which) const {
    std::smatch m;
    std::string out = output();
    if (std::regex_search(out, m, std::regex(which + "=([0-9]+)"))) return std::stoi(m[1]);
    return 0;
  }
  int stop(int sig) {
    if (pid <= 0) return -1;
    ::kill(pid, sig);
    int st = 0;
    ::waitpid(pid, &st, 0);
    pid = -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  }
  ~Operator() {
    if (pid > 0) stop(SIGKILL);
  }
};

// One plain HTTP GET to 127.0.0.1:port; returns "<status line>\n<body>".
std::string httpGet(int port, const std::string& path) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
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

// The port of the "webhooks serving" line, 0 before it is logged.
int webhookPort(const std::string& log) {
  std::smatch m;
  return std::regex_search(log, m, std::regex("msg=\"webhooks serving\" port=([0-9]+)")) ? std::stoi(m[1]) : 0;
}

Json collector(const std::string& name) {
  return {{"apiVersion", "opentelemetry.io/v1beta1"},
          {"kind", "OpenTelemetryCollector"},
          {"metadata", {{"name", name}, {"namespace", "default"}}},
          {"spec",
           {{"config",
             {{"receivers", {{"otlp", {{"protocols", {{"grpc", Json::object()}}}}}}},
              {"exporters", {{"debug", Json::object()}}},
              {"service", {{"pipelines", {{"traces", {{"receivers", {"otlp"}}, {"exporters", {"debug"}}}}}}}}}}}}};
}

class RunCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = otel::clitest::tempDir(::testing::UnitTest::GetInstance()->current_test_info()->name());
    kubeconfig_ = dir_ + "/kubeconfig";
    server_.writeKubeconfig(kubeconfig_);
    otel::kube::LoadOptions lo;
    lo.kubeconfig = kubeconfig_;
    auto rc = otel::kube::loadRestConfig(lo);
    rc.qps = 0;
    client_ = std::make_unique<otel::kube::Client>(rc);
    otel::kube::PatchOptions po;
    po.force = true;
    for (const auto& crd : otel::manifests::crdObjects()) client_->apply(crd, po);
  }
  bool deployed(const std::string& name) {
    return eventually([&] { return !server_.getObject("apps/v1", "deployments", "default", name + "-collector").is_null(); });
  }
  TestApiServer server_;
  std::string dir_, kubeconfig_;
  std::unique_ptr<otel::kube::Client> client_;
};

TEST_F(RunCli, ReconcilesServesHealthAndMetricsAndStopsOnSigterm) {
  client_->create(kCollectors, "default", collector("demo"));
  Operator op(kubeconfig_, dir_ + "/op.log", {"--leader-elect", "true", "--leader-election-namespace", "default"});
  ASSERT_TRUE(deployed("demo")) << op.output();
  ASSERT_TRUE(eventually([&] { return op.port("health_port") > 0 && op.port("metrics_port") > 0; })) << op.output();
  EXPECT_TRUE(eventually([&] { return httpGet(op.port("health_port"), "/readyz").find("200 OK") != std::string::npos; }));
  EXPECT_NE(httpGet(op.port("health_port"), "/healthz").find("200 OK"), std::string::npos);
  std::string metrics;
  const std::vector<std::string> names = {"controller_runtime_reconcile_total{controller=\"opentelemetrycollector\",result=\"success\"}",
                        "controller_runtime_reconcile_time_seconds_bucket", "workqueue_depth", "rest_client_requests_total{",
                        "workqueue_adds_total{name=\"opentelemetrycollector\"}",
                        "workqueue_queue_duration_seconds_bucket{name=\"opentelemetrycollector\",le=",
                        "leader_election_master_status{name=\"9f7554c3.opentelemetry.io\"} 1"};
  EXPECT_TRUE(eventually([&] {
    metrics = httpGet(op.port("metrics_port"), "/metrics");
    for (const auto& m : names)
      if (metrics.find(m) == std::string::npos) return false;
    return true;
  })) << metrics;
  // the upstream Lease is held, and released on SIGTERM
  Json lease = server_.getObject("coordination.k8s.io/v1", "leases", "default", "9f7554c3.opentelemetry.io");
  ASSERT_FALSE(lease.is_null());
  EXPECT_FALSE(lease["spec"].value("holderIdentity", "").empty());
  EXPECT_EQ(op.stop(SIGTERM), 0) << op.output();
  lease = server_.getObject("coordination.k8s.io/v1", "leases", "default", "9f7554c3.opentelemetry.io");
  EXPECT_EQ(lease["spec"].value("holderIdentity", ""), "") << lease.dump();
  // one line per reconcile decision, key=value
  EXPECT_NE(op.output().find("msg=\"reconciled object\" object=\"Deployment default/demo-collector\" action=create"),
            std::string::npos);
}

// The operator's own NetworkPolicy, as upstream's operator makes it (gate operator.networkpolicy): from the
// Deployment it runs as (install's, in its namespace) and the EndpointSlice kube-apiserver keeps for Service
// default/kubernetes, created by the leader and controlled by the Deployment (deleting it deletes the
// policy). Asked for with no API server endpoints to find, run refuses to start with one line naming them.
TEST_F(RunCli, CreatesTheOperatorsNetworkPolicy) {
  const otel::kube::ResourceId slices{"discovery.k8s.io/v1", "endpointslices", true, "EndpointSlice"};
  const otel::kube::ResourceId deployments{"apps/v1", "deployments", true, "Deployment"};
  otel::manifests::InstallOptions io;
  io.ns = "default";  // the kubeconfig's namespace: where run looks for its Deployment
  io.crds = false;
  for (const auto& o : otel::manifests::installObjects(io))
    if (o["kind"] == "Deployment") client_->create(deployments, "default", o);
  {
    Operator refused(kubeconfig_, dir_ + "/refused.log", {"--operator-network-policy", "true"});
    int status = -1;
    ASSERT_TRUE(eventually([&] { return ::waitpid(refused.pid, &status, WNOHANG) == refused.pid; })) << refused.output();
    refused.pid = -1;
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) != 0) << status;
    EXPECT_NE(refused.output().find("--operator-network-policy: cannot make the operator's NetworkPolicy: EndpointSlices of "
                                    "Service default/kubernetes: no EndpointSlice found for the kubernetes Service"),
              std::string::npos)
        << refused.output();
  }
  EXPECT_TRUE(server_.listObjects("networking.k8s.io/v1", "networkpolicies", "default").empty());

  client_->create(slices, "default", otel::parseYaml(R"(
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: kubernetes, namespace: default, labels: {kubernetes.io/service-name: kubernetes, endpointslice.kubernetes.io/managed-by: endpointslicemirroring-controller.k8s.io}}
addressType: IPv4
endpoints: [{addresses: [192.168.49.2], conditions: {ready: true}}]
ports: [{name: https, port: 8443, protocol: TCP}]
)"));
  Operator op(kubeconfig_, dir_ + "/op.log",
              {"--operator-network-policy", "true", "--leader-elect", "true", "--leader-election-namespace", "default"});
  Json np;
  ASSERT_TRUE(eventually([&] {
    np = server_.getObject("networking.k8s.io/v1", "networkpolicies", "default", "kubectl-otel");
    return !np.is_null();
  })) << op.output();
  const Json dep = client_->get(deployments, "default", otel::manifests::kControllerName);
  const int metricsPort = op.port("metrics_port");
  ASSERT_GT(metricsPort, 0);
  Json want = otel::manifests::operatorNetworkPolicy({dep, {8443, {"192.168.49.2"}}, 9443, metricsPort});
  auto unordered = [](const Json& j) { return nlohmann::json::parse(j.dump()); };  // the server orders keys its own way
  EXPECT_EQ(unordered(np["spec"]), unordered(want["spec"])) << np.dump();
  EXPECT_EQ(unordered(np["metadata"]["ownerReferences"]), unordered(want["metadata"]["ownerReferences"]));
  EXPECT_EQ(np["spec"]["egress"][0]["to"][0]["ipBlock"]["cidr"], "192.168.49.2/32");
  EXPECT_NE(op.output().find("msg=\"operator network policy created\" object=\"NetworkPolicy default/kubectl-otel\""),
            std::string::npos);
  EXPECT_EQ(op.stop(SIGTERM), 0) << op.output();
  // a restart finds it there and leaves it
  {
    Operator again(kubeconfig_, dir_ + "/again.log", {"--operator-network-policy", "true"});
    ASSERT_TRUE(eventually([&] {
      return again.output().find("msg=\"operator network policy already there\"") != std::string::npos;
    })) << again.output();
    EXPECT_EQ(again.stop(SIGTERM), 0) << again.output();
  }
  EXPECT_EQ(server_.getObject("networking.k8s.io/v1", "networkpolicies", "default", "kubectl-otel")["metadata"]["resourceVersion"],
            np["metadata"]["resourceVersion"]);
  client_->remove(deployments, "default", otel::manifests::kControllerName);
  EXPECT_TRUE(eventually([&] { return server_.getObject("networking.k8s.io/v1", "networkpolicies", "default", "kubectl-otel").is_null(); }));
}

TEST_F(RunCli, TwoReplicasOneLeaderAndTakeOverAfterSigkill) {
  std::vector<std::string> flags = {"--leader-elect", "true", "--leader-election-namespace", "default",
                                    "--leader-elect-lease-duration", "3", "--leader-elect-renew-deadline", "2",
                                    "--leader-elect-retry-period", "0.5"};
  Operator a(kubeconfig_, dir_ + "/a.log", flags);
  ASSERT_TRUE(eventually([&] { return a.output().find("leader_election_acquired") != std::string::npos; })) << a.output();
  Operator b(kubeconfig_, dir_ + "/b.log", flags);
  ASSERT_TRUE(eventually([&] { return b.output().find("caches synced") != std::string::npos; })) << b.output();
  client_->create(kCollectors, "default", collector("one"));
  ASSERT_TRUE(deployed("one"));
  ASSERT_TRUE(eventually([&] { return a.output().find("collector reconciled") != std::string::npos; }));
  // the follower wrote nothing
  EXPECT_EQ(b.output().find("reconciled object"), std::string::npos) << b.output();
  EXPECT_EQ(b.output().find("leader_election_acquired"), std::string::npos);
  a.stop(SIGKILL);
  // the follower takes over once the lease (3 s) has expired; the bound only keeps a broken run from hanging
  ASSERT_TRUE(eventually([&] { return b.output().find("leader_election_acquired") != std::string::npos; },
                         std::chrono::seconds(30)))
      << b.output();
  client_->create(kCollectors, "default", collector("two"));
  EXPECT_TRUE(deployed("two")) << b.output();
}

// The webhooks served by run (cert-manager style: a certificate in --webhook-cert-dir), called by the test
// API server as kube-apiserver calls them (URL, caBundle verified): a pod asking for Java is injected, a pod
// asking for nothing is stored as sent, and the collector mode rule holds both ways.
TEST_F(RunCli, ServesTheWebhooksTheApiServerCalls) {
  auto ca = otel::testing::generateCa();
  auto leaf = otel::testing::generateCert(ca, "kubectl-otel-webhook", {"127.0.0.1"});
  std::string certDir = dir_ + "/certs";
  std::filesystem::create_directories(certDir);
  std::ofstream(certDir + "/tls.crt") << leaf.certPem;
  std::ofstream(certDir + "/tls.key") << leaf.keyPem;
  Operator op(kubeconfig_, dir_ + "/op.log", {"--webhook-addr", "127.0.0.1:0", "--webhook-cert-dir", certDir});
  ASSERT_TRUE(eventually([&] { return op.output().find("webhooks serving") != std::string::npos; })) << op.output();
  std::smatch m;
  std::string out = op.output();
  ASSERT_TRUE(std::regex_search(out, m, std::regex("msg=\"webhooks serving\" port=([0-9]+)"))) << out;
  const std::string base = "https://127.0.0.1:" + std::string(m[1]);
  const std::string bundle = otel::base64Encode(ca.certPem);
  auto hook = [&](const std::string& name, const std::string& path, Json rules) {
    return Json{{"name", name}, {"admissionReviewVersions", {"v1"}}, {"sideEffects", "None"}, {"failurePolicy", "Fail"},
                {"clientConfig", {{"url", base + path}, {"caBundle", bundle}}}, {"rules", rules}, {"timeoutSeconds", 10}};
  };
  Json colRules = Json::array({{{"apiGroups", {"opentelemetry.io"}}, {"apiVersions", {"v1beta1"}}, {"operations", {"CREATE", "UPDATE"}},
                                {"resources", {"opentelemetrycollectors"}}}});
  Json podRules = Json::array({{{"apiGroups", {""}}, {"apiVersions", {"v1"}}, {"operations", {"CREATE"}}, {"resources", {"pods"}}}});
  const otel::kube::ResourceId mwcId{"admissionregistration.k8s.io/v1", "mutatingwebhookconfigurations", false, "MutatingWebhookConfiguration"};
  const otel::kube::ResourceId vwcId{"admissionregistration.k8s.io/v1", "validatingwebhookconfigurations", false, "ValidatingWebhookConfiguration"};
  client_->create(mwcId, "", Json{{"apiVersion", mwcId.apiVersion}, {"kind", mwcId.kind}, {"metadata", {{"name", "m"}}},
                                  {"webhooks", {hook("mpod.kb.io", "/mutate-v1-pod", podRules),
                                                hook("mopentelemetrycollectorbeta.kb.io", "/mutate-opentelemetry-io-v1beta1-opentelemetrycollector", colRules)}}});
  client_->create(vwcId, "", Json{{"apiVersion", vwcId.apiVersion}, {"kind", vwcId.kind}, {"metadata", {{"name", "v"}}},
                                  {"webhooks", {hook("vopentelemetrycollectorcreateupdatebeta.kb.io",
                                                     "/validate-opentelemetry-io-v1beta1-opentelemetrycollector", colRules)}}});
  const otel::kube::ResourceId instId{"opentelemetry.io/v1alpha1", "instrumentations", true, "Instrumentation"};
  client_->create(instId, "default", Json{{"apiVersion", instId.apiVersion}, {"kind", instId.kind}, {"metadata", {{"name", "inst"}}},
                                          {"spec", {{"exporter", {{"endpoint", "http://otel:4317"}}}}}});
  const otel::kube::ResourceId podId{"v1", "pods", true, "Pod"};
  auto pod = [](const std::string& name, Json annotations) {
    return Json{{"apiVersion", "v1"}, {"kind", "Pod"}, {"metadata", {{"name", name}, {"annotations", annotations}}},
                {"spec", {{"containers", Json::array({{{"name", "app"}, {"image", "app:1"}}})}}}};
  };
  // the webhook's catalog is an informer: until it has seen the Instrumentation a pod is admitted as is
  int n = 0;
  Json injected;
  ASSERT_TRUE(eventually([&] {
    Json p = client_->create(podId, "default", pod("java-" + std::to_string(n++), {{"instrumentation.opentelemetry.io/inject-java", "true"}}));
    if (!p["spec"].contains("initContainers")) return false;
    injected = p;
    return true;
  })) << op.output();
  EXPECT_EQ(injected["spec"]["initContainers"][0]["name"], "opentelemetry-auto-instrumentation-java");
  EXPECT_NE(injected["spec"]["containers"][0].dump().find("JAVA_TOOL_OPTIONS"), std::string::npos) << injected.dump();
  // a pod asking for nothing is not patched
  Json plain = client_->create(podId, "default", pod("plain", Json::object()));
  EXPECT_FALSE(plain["spec"].contains("initContainers"));
  EXPECT_EQ(plain["spec"]["containers"].size(), 1u);
  EXPECT_EQ(plain["spec"]["containers"][0].value("env", Json()), Json()) << plain.dump();
  // each pod CREATE looks its namespace up: from the webhook's cache once it holds it, not with a GET to
  // the API server per pod (before the namespace is cached, a GET answers)
  auto namespaceGets = [&] {
    int gets = 0;
    for (const auto& r : server_.requests())
      if (r.method == "GET" && r.path == "/api/v1/namespaces/default") ++gets;
    return gets;
  };
  ASSERT_TRUE(eventually([&] {
    int before = namespaceGets();
    client_->create(podId, "default", pod("cached-" + std::to_string(n++), {{"instrumentation.opentelemetry.io/inject-java", "true"}}));
    return namespaceGets() == before;
  })) << "every pod admission read its namespace from the API server";
  const int gets = namespaceGets();
  for (int i = 0; i < 3; ++i) {
    Json p = client_->create(podId, "default", pod("more-" + std::to_string(i), {{"instrumentation.opentelemetry.io/inject-java", "true"}}));
    EXPECT_TRUE(p["spec"].contains("initContainers")) << p.dump();
    client_->create(podId, "default", pod("plain-" + std::to_string(i), Json::object()));
  }
  EXPECT_EQ(namespaceGets(), gets);
  // a namespace annotated later is seen through the cache's watch
  const otel::kube::ResourceId nsId{"v1", "namespaces", false, "Namespace"};
  client_->patch(nsId, "", "default", otel::kube::PatchType::Merge,
                 Json{{"metadata", {{"annotations", {{"instrumentation.opentelemetry.io/inject-java", "true"}}}}}});
  ASSERT_TRUE(eventually([&] {
    return client_->create(podId, "default", pod("by-namespace-" + std::to_string(n++), Json::object()))["spec"].contains("initContainers");
  })) << op.output();
  client_->patch(nsId, "", "default", otel::kube::PatchType::Merge,
                 Json{{"metadata", {{"annotations", {{"instrumentation.opentelemetry.io/inject-java", nullptr}}}}}});
  ASSERT_TRUE(eventually([&] {
    return !client_->create(podId, "default", pod("after-" + std::to_string(n++), Json::object()))["spec"].contains("initContainers");
  })) << op.output();

  // an Instrumentation of another namespace, named "namespace/name" by the pod
  const otel::kube::ResourceId nsRes{"v1", "namespaces", false, "Namespace"};
  client_->create(nsRes, "", Json{{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", "obs"}}}});
  client_->create(instId, "obs", Json{{"apiVersion", instId.apiVersion}, {"kind", instId.kind}, {"metadata", {{"name", "shared"}}},
                                      {"spec", {{"exporter", {{"endpoint", "http://shared.obs:4317"}}}}}});
  ASSERT_TRUE(eventually([&] {
    Json p = client_->create(podId, "default", pod("cross-" + std::to_string(n++), {{"instrumentation.opentelemetry.io/inject-java", "obs/shared"}}));
    return p["spec"]["containers"][0].dump().find("http://shared.obs:4317") != std::string::npos;
  })) << op.output();

  // collectors: defaulted and validated through the webhooks
  Json c = collector("ds");
  c["spec"]["mode"] = "daemonset";
  client_->create(kCollectors, "default", c);
  // the controller writes the status meanwhile: each update is made on the latest version (409 -> again)
  auto updateSpec = [&](const std::function<void(Json&)>& edit) {
    for (int i = 0; i < 50; ++i) {
      Json latest = client_->get(kCollectors, "default", "ds");
      edit(latest);
      try {
        return client_->update(kCollectors, "default", latest);
      } catch (const otel::kube::ApiError& e) {
        if (e.code() != 409) throw;
      }
    }
    throw std::runtime_error("still conflicting after 50 attempts");
  };
  Json stored = client_->get(kCollectors, "default", "ds");
  EXPECT_EQ(stored["spec"]["upgradeStrategy"], "automatic");  // the mutating webhook ran
  Json kept = updateSpec([](Json& o) { o["spec"].erase("mode"); });  // a manifest without mode keeps the stored mode
  EXPECT_EQ(kept["spec"]["mode"], "daemonset");
  try {
    updateSpec([](Json& o) { o["spec"]["mode"] = "deployment"; });
    ADD_FAILURE() << "a mode change was accepted";
  } catch (const otel::kube::ApiError& e) {
    std::string msg = e.what();
    EXPECT_NE(msg.find("admission webhook \"vopentelemetrycollectorcreateupdatebeta.kb.io\" denied the request: the OpenTelemetry "
                       "Collector mode is set to daemonset, which does not support modification"),
              std::string::npos)
        << msg;
    EXPECT_NE(msg.find("kubectl delete opentelemetrycollector ds -n default"), std::string::npos) << msg;
  }
  EXPECT_NE(op.output().find("msg=\"pod mutated\""), std::string::npos) << op.output();
  EXPECT_EQ(op.stop(SIGTERM), 0) << op.output();
}

// The collector CRD with `conversion.strategy: Webhook` pointed at run's /convert (by URL, with the caBundle):
// every v1alpha1 OpenTelemetryCollector of upstream's e2e suites is created through v1alpha1, read through
// v1beta1 (the storage version: spec.config is a map) and read back through v1alpha1, which must give what
// was sent. No admission webhooks are configured: run's are registered for v1beta1, and kube would call them
// for a v1alpha1 request through matchPolicy Equivalent (after a conversion), which the test API server does
// not model; defaulting would also add fields the comparison would have to excuse.
TEST_F(RunCli, ConvertsV1alpha1CollectorsThroughTheWebhook) {
  namespace fs = std::filesystem;
  fs::path root = fs::path(OTEL_SHARED_REFERENCE) / "upstream-e2e";
  if (!fs::exists(root)) GTEST_SKIP() << "no reference folder at " << root << " (a clone without ../shared)";
  auto ca = otel::testing::generateCa();
  auto leaf = otel::testing::generateCert(ca, "kubectl-otel-webhook", {"127.0.0.1"});
  std::string certDir = dir_ + "/certs";
  fs::create_directories(certDir);
  std::ofstream(certDir + "/tls.crt") << leaf.certPem;
  std::ofstream(certDir + "/tls.key") << leaf.keyPem;
  // only the webhooks: the reconcilers watch a namespace without collectors, so no write of theirs (the
  // upgrade's defaults) races the read back
  Operator op(kubeconfig_, dir_ + "/op.log",
              {"--webhook-addr", "127.0.0.1:0", "--webhook-cert-dir", certDir, "--watch-namespace", "no-collectors-here"});
  ASSERT_TRUE(eventually([&] { return op.output().find("webhooks serving") != std::string::npos; })) << op.output();
  std::smatch m;
  std::string out = op.output();
  ASSERT_TRUE(std::regex_search(out, m, std::regex("msg=\"webhooks serving\" port=([0-9]+)"))) << out;
  const std::string url = "https://127.0.0.1:" + std::string(m[1]) + "/convert";
  const otel::kube::ResourceId crdId{"apiextensions.k8s.io/v1", "customresourcedefinitions", false, "CustomResourceDefinition"};
  Json crd = client_->get(crdId, "", "opentelemetrycollectors.opentelemetry.io");
  ASSERT_EQ(crd["spec"]["conversion"].value("strategy", ""), "Webhook") << "our CRD asks for the conversion webhook";
  crd["spec"]["conversion"]["webhook"]["clientConfig"] = Json{{"url", url}, {"caBundle", otel::base64Encode(ca.certPem)}};
  client_->update(crdId, "", crd);

  const otel::kube::ResourceId alpha{"opentelemetry.io/v1alpha1", "opentelemetrycollectors", true, "OpenTelemetryCollector"};
  const otel::kube::ResourceId nsId{"v1", "namespaces", false, "Namespace"};
  // Every YAML file of every suite: install files and assert files alike (an assert file's collector is a
  // CR a user could write too), e2e-crd-validations included (its v1alpha1 collectors, if any, must convert).
  std::vector<fs::path> files;
  for (const auto& e : fs::recursive_directory_iterator(root))
    if (e.is_regular_file() && (e.path().extension() == ".yaml" || e.path().extension() == ".yml")) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  // What the server and the controller add, removed before comparing (everything else must be equal):
  //  - metadata.uid, resourceVersion, creationTimestamp, generation, managedFields: set by the API server;
  //  - metadata.namespace: set by us (each CR goes to its own namespace, names repeat across the suites);
  //  - status: written by the running controller (a status subresource: never part of what was sent);
  //  - spec.managementState "managed" when the CR did not set it: the default of the CRD's schema (both
  //    versions), applied by the API server's structural defaulting at create, not by the conversion;
  //  - spec.config: compared as parsed YAML (v1alpha1 carries it as a string, and the way back through
  //    v1beta1 re-renders it), not as text.
  auto normalize = [](Json o, const Json& sent) {
    for (const char* k : {"uid", "resourceVersion", "creationTimestamp", "generation", "managedFields", "namespace"})
      o["metadata"].erase(k);
    o.erase("status");
    if (o.contains("spec") && o["spec"].contains("config")) o["spec"].erase("config");
    if (o.contains("spec") && o["spec"].value("managementState", "") == "managed" &&
        !(sent.contains("spec") && sent["spec"].contains("managementState")))
      o["spec"].erase("managementState");
    return o;
  };
  // CRs that cannot round-trip, and why (the test fails when one of them starts round-tripping, so the list
  // stays true):
  const std::map<std::string, std::string> kDoNotRoundTrip = {
      {"e2e/conversion-webhook-invalid-config/00-create-invalid-config.yaml: invalid-config-collector",
       "config \"null\" is no configuration; v1beta1 has a structured config, so it comes back as the empty one "
       "(receivers: {}, exporters: {}, service: {pipelines: {}}); upstream's own step asserts the same "
       "(00-assert-created.yaml, plus the telemetry its defaulting webhook adds)"},
      {"e2e-upgrade/upgrade-test/00-install.yaml: simplest",
       "`processors:` without a value (null) is dropped: v1beta1's processors is an omitempty pointer in upstream's "
       "Config, so a null has nowhere to live; upstream's conversion drops it the same way"},
  };
  // Compared as values: key order is not significant (the webhook writes its own order).
  auto plain = [](const Json& j) { return nlohmann::json::parse(j.dump()); };
  auto configOf = [&](const Json& o) {
    if (!o.contains("spec") || !o["spec"].contains("config")) return nlohmann::json();
    const Json& c = o["spec"]["config"];
    return plain(c.is_string() ? otel::parseYaml(c.get<std::string>()) : c);
  };
  int tried = 0, roundTripped = 0, index = 0;
  std::vector<std::string> notRoundTripped;
  for (const auto& file : files) {
    std::vector<otel::YamlDocument> docs;
    try {
      docs = otel::parseYamlStream(otel::readFile(file.string()), file.string());
    } catch (const std::exception&) {
      continue;  // chainsaw templates that are not plain YAML
    }
    for (const auto& d : docs) {
      const Json& obj = d.value;
      if (!obj.is_object() || obj.value("apiVersion", "") != alpha.apiVersion || obj.value("kind", "") != alpha.kind) continue;
      const std::string what = fs::relative(file, root).string() + ": " + obj["metadata"].value("name", "");
      const std::string ns = "conv-" + std::to_string(index++);
      client_->create(nsId, "", Json{{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", ns}}}});
      Json sent = obj;
      sent["metadata"]["namespace"] = ns;
      const std::string name = sent["metadata"].value("name", "");
      ++tried;
      try {
        client_->create(alpha, ns, sent);
      } catch (const std::exception& e) {
        ADD_FAILURE() << what << ": create through v1alpha1 refused: " << e.what();
        continue;
      }
      Json beta = client_->get(kCollectors, ns, name);
      EXPECT_EQ(beta.value("apiVersion", ""), "opentelemetry.io/v1beta1") << what;
      EXPECT_TRUE(beta["spec"]["config"].is_object()) << what << ": " << beta["spec"].dump();
      // The forward direction on its own: v1beta1's config is the v1alpha1 string parsed (for the CRs that
      // round-trip; the two others differ here for the reasons given in kDoNotRoundTrip).
      if (!kDoNotRoundTrip.count(what)) {
        EXPECT_EQ(configOf(beta), configOf(sent)) << what << ": v1beta1 config " << beta["spec"]["config"].dump();
      }
      Json stored = server_.getObject("opentelemetry.io/v1beta1", "opentelemetrycollectors", ns, name);
      EXPECT_EQ(stored.value("apiVersion", ""), "opentelemetry.io/v1beta1") << what << ": stored in the storage version";
      Json back = client_->get(alpha, ns, name);
      std::string diff;
      if (configOf(back) != configOf(sent))
        diff += " spec.config: sent " + configOf(sent).dump() + ", read back " + configOf(back).dump() + ";";
      nlohmann::json a = plain(normalize(sent, sent)), b = plain(normalize(back, sent));
      if (a != b) diff += " " + nlohmann::json::diff(a, b).dump();
      auto known = kDoNotRoundTrip.find(what);
      if (diff.empty()) {
        ++roundTripped;
        if (known != kDoNotRoundTrip.end()) ADD_FAILURE() << what << " round-trips now: remove it from kDoNotRoundTrip";
      } else if (known != kDoNotRoundTrip.end()) {
        std::cout << "  does not round-trip (known: " << known->second << "):" << diff << "\n";
      } else {
        notRoundTripped.push_back(what + ":" + diff);
      }
    }
  }
  std::cout << "v1alpha1 collectors through the conversion webhook: " << roundTripped << "/" << tried << " round-trip\n";
  for (const auto& n : notRoundTripped) std::cout << "  " << n << "\n";
  EXPECT_GT(tried, 0);
  EXPECT_TRUE(notRoundTripped.empty()) << notRoundTripped.size() << " do not round-trip (listed above)";
  EXPECT_GT(server_.conversionWebhookCalls(), 2 * tried) << "each create and each v1alpha1 read converts";
  EXPECT_EQ(op.stop(SIGTERM), 0) << op.output();
}

// Self-managed certificate: run writes a CA and serving certificate into the Secret, the CA bundle into the
// webhook configuration; the API server (verifying with that bundle) reaches the webhook; a second
// replica reuses the Secret and writes nothing.
TEST_F(RunCli, SelfManagedCertificateIsSharedAndTrusted) {
  const otel::kube::ResourceId mwcId{"admissionregistration.k8s.io/v1", "mutatingwebhookconfigurations", false, "MutatingWebhookConfiguration"};
  const std::string mwcName = "kubectl-otel-mutating-webhook-configuration";
  Json podRules = Json::array({{{"apiGroups", {""}}, {"apiVersions", {"v1"}}, {"operations", {"CREATE"}}, {"resources", {"pods"}}}});
  Json hook{{"name", "mpod.kb.io"}, {"admissionReviewVersions", {"v1"}}, {"sideEffects", "None"}, {"failurePolicy", "Fail"},
            {"clientConfig", {{"url", "https://127.0.0.1:1/mutate-v1-pod"}}}, {"rules", podRules}};
  client_->create(mwcId, "", Json{{"apiVersion", mwcId.apiVersion}, {"kind", mwcId.kind}, {"metadata", {{"name", mwcName}}},
                                  {"webhooks", {hook}}});
  std::vector<std::string> flags = {"--webhook-addr", "127.0.0.1:0", "--webhook-certs", "self", "--webhook-cert-san", "127.0.0.1"};
  auto withDir = [&](const std::string& d) {
    auto f = flags;
    f.insert(f.end(), {"--webhook-cert-dir", dir_ + "/" + d});
    return f;
  };
  Operator a(kubeconfig_, dir_ + "/a.log", withDir("a"));
  ASSERT_TRUE(eventually([&] { return a.output().find("webhooks serving") != std::string::npos; })) << a.output();
  Json secret = server_.getObject("v1", "secrets", "default", "kubectl-otel-webhook-cert");
  ASSERT_FALSE(secret.is_null()) << a.output();
  EXPECT_EQ(secret["type"], "kubernetes.io/tls");
  Json mwc = client_->get(mwcId, "", mwcName);
  const std::string bundle = mwc["webhooks"][0]["clientConfig"].value("caBundle", "");
  EXPECT_EQ(bundle, secret["data"]["ca.crt"]);
  // a second replica: the same Secret, nothing written
  Operator b(kubeconfig_, dir_ + "/b.log", withDir("b"));
  ASSERT_TRUE(eventually([&] { return b.output().find("webhooks serving") != std::string::npos; })) << b.output();
  EXPECT_EQ(server_.getObject("v1", "secrets", "default", "kubectl-otel-webhook-cert")["metadata"]["resourceVersion"],
            secret["metadata"]["resourceVersion"]);
  EXPECT_EQ(client_->get(mwcId, "", mwcName)["metadata"]["resourceVersion"], mwc["metadata"]["resourceVersion"]);
  EXPECT_EQ(b.output().find("webhook certificate written"), std::string::npos) << b.output();
  // point the webhook at replica b: the API server verifies b's certificate with the bundle a wrote
  std::smatch m;
  std::string out = b.output();
  ASSERT_TRUE(std::regex_search(out, m, std::regex("msg=\"webhooks serving\" port=([0-9]+)"))) << out;
  mwc["webhooks"][0]["clientConfig"]["url"] = "https://127.0.0.1:" + std::string(m[1]) + "/mutate-v1-pod";
  client_->update(mwcId, "", mwc);
  const otel::kube::ResourceId podId{"v1", "pods", true, "Pod"};
  int before = server_.webhookCalls();
  Json pod{{"apiVersion", "v1"}, {"kind", "Pod"}, {"metadata", {{"name", "p"}}},
           {"spec", {{"containers", Json::array({{{"name", "app"}, {"image", "app:1"}}})}}}};
  EXPECT_NO_THROW(client_->create(podId, "default", pod)) << b.output();  // failurePolicy Fail: a TLS error would refuse it
  EXPECT_GT(server_.webhookCalls(), before);
}

// A serving certificate valid for 12 s is renewed (from the same CA) about every 8 s while a client keeps
// handshaking and the API server keeps calling the pod webhook under failurePolicy Fail: every handshake
// and every pod creation succeeds across three certificates.
TEST_F(RunCli, RotatesTheSelfManagedCertificateWithoutAFailedRequest) {
  const otel::kube::ResourceId mwcId{"admissionregistration.k8s.io/v1", "mutatingwebhookconfigurations", false, "MutatingWebhookConfiguration"};
  const std::string mwcName = "kubectl-otel-mutating-webhook-configuration";
  Json podRules = Json::array({{{"apiGroups", {""}}, {"apiVersions", {"v1"}}, {"operations", {"CREATE"}}, {"resources", {"pods"}}}});
  Json hook{{"name", "mpod.kb.io"}, {"admissionReviewVersions", {"v1"}}, {"sideEffects", "None"}, {"failurePolicy", "Fail"},
            {"clientConfig", {{"url", "https://127.0.0.1:1/mutate-v1-pod"}}}, {"rules", podRules}};
  client_->create(mwcId, "", Json{{"apiVersion", mwcId.apiVersion}, {"kind", mwcId.kind}, {"metadata", {{"name", mwcName}}},
                                  {"webhooks", {hook}}});
  Operator op(kubeconfig_, dir_ + "/op.log",
              {"--webhook-addr", "127.0.0.1:0", "--webhook-certs", "self", "--webhook-cert-san", "127.0.0.1",
               "--webhook-cert-dir", dir_ + "/certs", "--webhook-cert-validity", "12"});
  ASSERT_TRUE(eventually([&] { return webhookPort(op.output()) > 0; })) << op.output();
  const int port = webhookPort(op.output());
  Json mwc = client_->get(mwcId, "", mwcName);
  const std::string bundle = otel::base64Decode(mwc["webhooks"][0]["clientConfig"]["caBundle"].get<std::string>());
  mwc["webhooks"][0]["clientConfig"]["url"] = "https://127.0.0.1:" + std::to_string(port) + "/mutate-v1-pod";
  client_->update(mwcId, "", mwc);

  const otel::kube::ResourceId podId{"v1", "pods", true, "Pod"};
  std::set<std::string> served;
  std::vector<std::string> failures;
  int pods = 0;
  bool rotated = eventually(
      [&] {
        std::string cert = servedCertificate(port, bundle);
        if (cert.rfind("error", 0) == 0) failures.push_back("handshake: " + cert);
        else served.insert(cert);
        Json pod{{"apiVersion", "v1"}, {"kind", "Pod"}, {"metadata", {{"name", "p" + std::to_string(pods++)}}},
                 {"spec", {{"containers", Json::array({{{"name", "app"}, {"image", "app:1"}}})}}}};
        try {
          client_->create(podId, "default", pod);
        } catch (const std::exception& e) {
          failures.push_back(std::string("pod: ") + e.what());
        }
        return served.size() >= 3;
      },
      std::chrono::seconds(60));
  EXPECT_TRUE(rotated) << served.size() << " certificates seen\n" << op.output();
  EXPECT_TRUE(failures.empty()) << failures.size() << " failures, first: " << (failures.empty() ? "" : failures.front());
  EXPECT_GT(pods, 3);
  EXPECT_NE(op.output().find("webhook certificate reloaded"), std::string::npos);
  // the CA did not change: the bundle the API server holds is the one it started with
  EXPECT_EQ(otel::base64Decode(client_->get(mwcId, "", mwcName)["webhooks"][0]["clientConfig"]["caBundle"].get<std::string>()), bundle);
}

// cert-manager's layout: the files in --webhook-cert-dir are replaced (kubelet swaps the mounted Secret
// atomically); the next handshakes get the new pair, none fails.
TEST_F(RunCli, ReloadsTheCertificateFilesWhenTheyChange) {
  auto ca = otel::testing::generateCa();
  auto first = otel::testing::generateCert(ca, "first", {"127.0.0.1"});
  auto second = otel::testing::generateCert(ca, "second", {"127.0.0.1"});
  const std::string certDir = dir_ + "/certs";
  std::filesystem::create_directories(certDir);
  otel::testing::mountCertPair(certDir, first);
  Operator op(kubeconfig_, dir_ + "/op.log",
              {"--webhook-addr", "127.0.0.1:0", "--webhook-certs", "files", "--webhook-cert-dir", certDir,
               "--webhook-cert-check-period", "0.2"});
  ASSERT_TRUE(eventually([&] { return webhookPort(op.output()) > 0; })) << op.output();
  const int port = webhookPort(op.output());
  EXPECT_EQ(servedCertificate(port, ca.certPem), first.certPem);
  otel::testing::mountCertPair(certDir, second);
  int failures = 0;
  EXPECT_TRUE(eventually([&] {
    std::string got = servedCertificate(port, ca.certPem);
    if (got != first.certPem && got != second.certPem) ++failures;
    return got == second.certPem;
  })) << op.output();
  EXPECT_EQ(failures, 0);
  // the log line follows the swap: the new certificate can be served before it is written
  EXPECT_TRUE(eventually([&] { return op.output().find("webhook certificate reloaded") != std::string::npos; }))
      << op.output();
}

// Outside the cluster: --webhook-host registers install's webhook configurations and the collector CRD's
// conversion by URL with the run's own CA; the API server calls them there; SIGTERM restores what was there
// (the configuration install made) and deletes what the run created. After a SIGKILL the next run keeps
// the first originals and restores them.
TEST_F(RunCli, WebhookHostRegistersByUrlAndRestoresOnExit) {
  const otel::kube::ResourceId mwcId{"admissionregistration.k8s.io/v1", "mutatingwebhookconfigurations", false, "MutatingWebhookConfiguration"};
  const otel::kube::ResourceId vwcId{"admissionregistration.k8s.io/v1", "validatingwebhookconfigurations", false, "ValidatingWebhookConfiguration"};
  const otel::kube::ResourceId crdId{"apiextensions.k8s.io/v1", "customresourcedefinitions", false, "CustomResourceDefinition"};
  const std::string mwcName = "kubectl-otel-mutating-webhook-configuration", vwcName = "kubectl-otel-validating-webhook-configuration";
  const std::string crdName = "opentelemetrycollectors.opentelemetry.io";
  otel::manifests::InstallOptions io;
  io.crds = false;
  for (const auto& o : otel::manifests::installObjects(io))
    if (o["kind"] == "MutatingWebhookConfiguration") client_->create(mwcId, "", o);
  auto comparable = [](Json o) {  // what registration may touch: the webhooks, the conversion, annotations
    Json out{{"annotations", o["metadata"].value("annotations", Json::object())}};
    if (o.contains("webhooks")) out["webhooks"] = o["webhooks"];
    if (o.contains("spec") && o["spec"].contains("conversion")) out["conversion"] = o["spec"]["conversion"];
    return out;
  };
  const Json mwcBefore = comparable(client_->get(mwcId, "", mwcName));
  const Json crdBefore = comparable(client_->get(crdId, "", crdName));
  const std::vector<std::string> flags = {"--webhook-host", "127.0.0.1", "--webhook-addr", "127.0.0.1:0"};
  auto registered = [](const Operator& op) {
    std::string out = op.output();
    return out.find("object=\"CustomResourceDefinition opentelemetrycollectors.opentelemetry.io\"") != std::string::npos &&
           out.find("msg=\"webhooks registered by URL\"") != std::string::npos;
  };
  {
    Operator crashed(kubeconfig_, dir_ + "/crashed.log", flags);
    ASSERT_TRUE(eventually([&] { return registered(crashed); })) << crashed.output();
    crashed.stop(SIGKILL);  // leaves its registration behind
  }
  Operator op(kubeconfig_, dir_ + "/op.log", flags);
  ASSERT_TRUE(eventually([&] { return registered(op); })) << op.output();
  const std::string base = "https://127.0.0.1:" + std::to_string(webhookPort(op.output()));
  Json mwc = client_->get(mwcId, "", mwcName);
  for (const auto& w : mwc["webhooks"]) {
    EXPECT_EQ(w["clientConfig"]["url"].get<std::string>().rfind(base + "/", 0), 0u) << w.dump();
    EXPECT_FALSE(w["clientConfig"].value("caBundle", "").empty());
  }
  Json vwc = client_->get(vwcId, "", vwcName);  // created for this run
  EXPECT_EQ(vwc["webhooks"][0]["clientConfig"]["url"].get<std::string>().rfind(base + "/", 0), 0u);
  EXPECT_EQ(client_->get(crdId, "", crdName)["spec"]["conversion"]["webhook"]["clientConfig"]["url"], base + "/convert");

  // the API server calls the run: a collector is defaulted, a mode change refused
  Json c = collector("ds");
  c["spec"]["mode"] = "daemonset";
  client_->create(kCollectors, "default", c);
  EXPECT_EQ(client_->get(kCollectors, "default", "ds")["spec"]["upgradeStrategy"], "automatic");
  bool refused = false;
  for (int i = 0; i < 50 && !refused; ++i) {
    Json latest = client_->get(kCollectors, "default", "ds");
    latest["spec"]["mode"] = "deployment";
    try {
      client_->update(kCollectors, "default", latest);
      break;
    } catch (const otel::kube::ApiError& e) {
      if (e.code() == 409) continue;
      refused = std::string(e.what()).find("does not support modification") != std::string::npos;
    }
  }
  EXPECT_TRUE(refused);

  EXPECT_EQ(op.stop(SIGTERM), 0) << op.output();
  EXPECT_EQ(comparable(client_->get(mwcId, "", mwcName)), mwcBefore);
  EXPECT_EQ(comparable(client_->get(crdId, "", crdName)), crdBefore);
  EXPECT_THROW(client_->get(vwcId, "", vwcName), otel::kube::ApiError);  // it did not exist before
}

// /readyz waits for the pod webhook's catalog too: with the Instrumentation CRD missing its informer
// cannot sync, so the operator is not ready (a pod admitted now could miss its injection) though the
// controller's own caches are; once the CRD is there, it is.
TEST_F(RunCli, NotReadyUntilTheWebhookCatalogHasSynced) {
  ASSERT_TRUE(server_.deleteObject("apiextensions.k8s.io/v1", "customresourcedefinitions", "", "instrumentations.opentelemetry.io"));
  auto ca = otel::testing::generateCa();
  auto leaf = otel::testing::generateCert(ca, "kubectl-otel-webhook", {"127.0.0.1"});
  const std::string certDir = dir_ + "/certs";
  std::filesystem::create_directories(certDir);
  std::ofstream(certDir + "/tls.crt") << leaf.certPem;
  std::ofstream(certDir + "/tls.key") << leaf.keyPem;
  Operator op(kubeconfig_, dir_ + "/op.log", {"--webhook-addr", "127.0.0.1:0", "--webhook-cert-dir", certDir});
  ASSERT_TRUE(eventually([&] { return op.output().find("caches synced") != std::string::npos; })) << op.output();
  const int health = op.port("health_port");
  EXPECT_NE(httpGet(health, "/readyz").find("[-]webhook-catalog-synced failed"), std::string::npos) << httpGet(health, "/readyz");
  otel::kube::PatchOptions po;
  po.force = true;
  for (const auto& crd : otel::manifests::crdObjects())
    if (crd["metadata"]["name"] == "instrumentations.opentelemetry.io") client_->apply(crd, po);
  EXPECT_TRUE(eventually([&] { return httpGet(health, "/readyz").find("200 OK") != std::string::npos; }, std::chrono::seconds(60)))
      << httpGet(health, "/readyz") << op.output();
}

// The pod webhook is `inject -f`'s function behind admission: for the sidecar, every language, and two
// languages in two containers, the pod the API server stores through the webhook equals the pod
// `kubectl otel inject -f` writes for the same annotated input (both stored by the API server, so both get
// its defaults; `inject -f`'s is created with dryRun, and the webhook leaves an injected pod as it is).
TEST_F(RunCli, PodsAdmittedThroughTheWebhookEqualInjectFiles) {
  auto ca = otel::testing::generateCa();
  auto leaf = otel::testing::generateCert(ca, "kubectl-otel-webhook", {"127.0.0.1"});
  const std::string certDir = dir_ + "/certs";
  std::filesystem::create_directories(certDir);
  std::ofstream(certDir + "/tls.crt") << leaf.certPem;
  std::ofstream(certDir + "/tls.key") << leaf.keyPem;
  Operator op(kubeconfig_, dir_ + "/op.log", {"--webhook-addr", "127.0.0.1:0", "--webhook-cert-dir", certDir});
  ASSERT_TRUE(eventually([&] { return webhookPort(op.output()) > 0; })) << op.output();
  const std::string base = "https://127.0.0.1:" + std::to_string(webhookPort(op.output()));
  const otel::kube::ResourceId mwcId{"admissionregistration.k8s.io/v1", "mutatingwebhookconfigurations", false, "MutatingWebhookConfiguration"};
  auto hook = [&](const std::string& name, const std::string& path, const std::string& group, const std::string& version,
                  const std::string& resource) {
    return Json{{"name", name}, {"admissionReviewVersions", {"v1"}}, {"sideEffects", "None"}, {"failurePolicy", "Fail"},
                {"clientConfig", {{"url", base + path}, {"caBundle", otel::base64Encode(ca.certPem)}}},
                {"rules", Json::array({{{"apiGroups", {group}}, {"apiVersions", {version}}, {"operations", {"CREATE", "UPDATE"}},
                                        {"resources", {resource}}}})}};
  };
  client_->create(mwcId, "", Json{{"apiVersion", mwcId.apiVersion}, {"kind", mwcId.kind}, {"metadata", {{"name", "m"}}},
                                  {"webhooks", {hook("mpod.kb.io", "/mutate-v1-pod", "", "v1", "pods"),
                                                hook("minstrumentation.kb.io", "/mutate-opentelemetry-io-v1alpha1-instrumentation",
                                                     "opentelemetry.io", "v1alpha1", "instrumentations"),
                                                hook("mopentelemetrycollectorbeta.kb.io",
                                                     "/mutate-opentelemetry-io-v1beta1-opentelemetrycollector", "opentelemetry.io",
                                                     "v1beta1", "opentelemetrycollectors")}}});
  const std::string catalog = R"(apiVersion: opentelemetry.io/v1alpha1
kind: Instrumentation
metadata: {name: inst, namespace: default}
spec:
  exporter: {endpoint: "http://sidecar-collector:4318"}
  propagators: [tracecontext, baggage]
  sampler: {type: parentbased_traceidratio, argument: "0.25"}
---
apiVersion: opentelemetry.io/v1beta1
kind: OpenTelemetryCollector
metadata: {name: sidecar, namespace: default}
spec:
  mode: sidecar
  config:
    receivers: {otlp: {protocols: {grpc: {}, http: {}}}}
    exporters: {debug: {}}
    service: {pipelines: {traces: {receivers: [otlp], exporters: [debug]}}}
)";
  for (const auto& d : otel::parseYamlStream(catalog, "catalog.yaml")) client_->create(d.value, {});
  // ready: the webhook's catalog has synced (and holds what was just created, which the informer delivers next)
  ASSERT_TRUE(eventually([&] { return httpGet(op.port("health_port"), "/readyz").find("200 OK") != std::string::npos; }));

  struct Case {
    std::string name;
    Json annotations;
    int containers = 1;
  };
  const std::string lang = "instrumentation.opentelemetry.io/inject-";
  std::vector<Case> cases = {
      {"sidecar", {{"sidecar.opentelemetry.io/inject", "true"}}},
      {"java", {{lang + "java", "true"}}},
      {"nodejs", {{lang + "nodejs", "true"}}},
      {"python", {{lang + "python", "true"}}},
      {"dotnet", {{lang + "dotnet", "true"}}},
      {"go", {{lang + "go", "true"}, {"instrumentation.opentelemetry.io/otel-go-auto-target-exe", "/app/server"}}},
      {"apache-httpd", {{lang + "apache-httpd", "true"}}},
      {"nginx", {{lang + "nginx", "true"}}},
      {"sdk", {{lang + "sdk", "true"}}},
      {"java-sidecar", {{lang + "java", "inst"}, {"sidecar.opentelemetry.io/inject", "sidecar"}}},
      {"multi",
       {{lang + "java", "true"}, {lang + "python", "true"},
        {"instrumentation.opentelemetry.io/java-container-names", "app"},
        {"instrumentation.opentelemetry.io/python-container-names", "worker"}},
       2},
  };
  const otel::kube::ResourceId podId{"v1", "pods", true, "Pod"};
  // what differs between two stored objects of the same content; and inject -f's undo record (for
  // `uninject -f`), which the webhook does not write
  auto comparable = [](Json p) {
    for (const char* k : {"uid", "resourceVersion", "creationTimestamp", "managedFields", "generation"}) p["metadata"].erase(k);
    p["metadata"]["annotations"].erase("kubectl-otel/undo");
    p.erase("status");
    return Json::parse(p.dump());
  };
  // the catalog reaches the webhook's informers asynchronously: the first case waits until it is injected
  bool first = true;
  for (const auto& c : cases) {
    Json pod{{"apiVersion", "v1"}, {"kind", "Pod"}, {"metadata", {{"name", "p-" + c.name}, {"namespace", "default"}, {"annotations", c.annotations}}},
             {"spec", {{"containers", Json::array({{{"name", "app"}, {"image", "app:1"}}})}}}};
    if (c.containers == 2) pod["spec"]["containers"].push_back({{"name", "worker"}, {"image", "worker:1"}});
    const std::string file = dir_ + "/" + c.name + ".yaml";
    std::ofstream(file) << catalog << "---\n" << pod.dump() << "\n";
    auto r = otel::clitest::sh(kBin + " inject -q -f " + file);
    ASSERT_EQ(r.code, 0) << c.name << ": " << r.err;
    Json fromFile;
    for (const auto& d : otel::parseYamlStream(r.out, c.name + ".yaml"))
      if (d.value.is_object() && d.value.value("kind", "") == "Pod") fromFile = d.value;
    ASSERT_FALSE(fromFile.is_null()) << r.out;
    ASSERT_NE(fromFile.dump(), pod.dump()) << c.name << ": inject -f changed nothing";
    otel::kube::WriteOptions dry;
    dry.dryRun = true;
    Json storedFile = client_->create(podId, "default", fromFile, dry);
    Json hooked;
    if (first) {
      // until the informers have delivered the catalog the pod is admitted as is: try under other names
      int n = 0;
      ASSERT_TRUE(eventually([&] {
        Json probe = pod;
        probe["metadata"]["name"] = "probe-" + std::to_string(n++);
        Json got = client_->create(podId, "default", probe, dry);
        return got["spec"]["containers"].size() > 1;
      })) << op.output();
      first = false;
    }
    hooked = client_->create(podId, "default", pod);
    EXPECT_EQ(comparable(hooked), comparable(storedFile)) << c.name << "\nwebhook: " << comparable(hooked).dump()
                                                          << "\ninject -f: " << comparable(storedFile).dump();
  }
  EXPECT_EQ(op.stop(SIGTERM), 0) << op.output();
}

}  // namespace
