// `kubectl otel target-allocator` as a process: it serves the upstream HTTP API and, every
// --reload-interval, reads the file SD files again, so a target added to a file is served without a
// restart; with no fixed collector list it discovers the collector pods through the API server (the
// project's test API server here). HTTP requests go through bash's /dev/tcp (no curl needed on the CI machine).
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <thread>

#include "lib/core/files.h"
#include "lib/core/json.h"
#include "lib/core/time.h"
#include "lib/core/yaml.h"
#include "tests/support/api_server.h"
#include "tests/support/shell.h"

namespace {

using otel::clitest::eventually;
using otel::clitest::Result;
using otel::clitest::sh;
using otel::clitest::tempDir;

const std::string kBin = OTEL_CLI_BINARY;

std::string httpGet(int port, const std::string& path) {
  // the path is printf's argument, not its format (a %2F in it stays as it is)
  Result r = sh("bash -c 'exec 3<>/dev/tcp/127.0.0.1/" + std::to_string(port) + " && printf \"GET %s HTTP/1.0\\r\\nHost: x\\r\\n\\r\\n\" \"" +
                path + "\" >&3 && timeout 10 cat <&3'");
  return r.out;
}

// The file's content, "" while it does not exist yet (the background shell creates its log files).
std::string readIfThere(const std::string& path) { return std::filesystem::exists(path) ? otel::readFile(path) : ""; }

void writeTargets(const std::string& path, const std::string& json) {
  std::ofstream(path + ".tmp") << json;
  std::filesystem::rename(path + ".tmp", path);  // atomic, as a file SD writer should
}

TEST(TargetAllocatorProcess, FileSdChangesAreServedAfterTheReloadInterval) {
  std::string dir = tempDir("ta-reload");
  writeTargets(dir + "/apps.json", R"([{"targets": ["10.0.0.1:9100"], "labels": {"team": "a"}}])");
  std::ofstream(dir + "/targetallocator.yaml") << "allocation_strategy: consistent-hashing\n"
                                                  "config:\n  scrape_configs:\n  - job_name: apps\n"
                                                  "    file_sd_configs:\n    - files: ['apps.json']\n";
  Result started = sh(kBin + " target-allocator --config-file " + dir + "/targetallocator.yaml --listen-addr 127.0.0.1:0" +
                      " --collectors 2 --reload-interval 1 >" + dir + "/out.log 2>" + dir + "/err.log & echo $!");
  ASSERT_EQ(started.code, 0) << started.err;
  const std::string pid = started.out.substr(0, started.out.find('\n'));
  struct Stop {  // the server is stopped however the test ends
    std::string pid;
    ~Stop() { sh("kill " + pid + " 2>/dev/null"); }
  } stop{pid};
  int port = 0;
  ASSERT_TRUE(eventually([&] {
    std::smatch m;
    std::string log = readIfThere(dir + "/err.log");
    static const std::regex listening("target allocator listening.*port=\"?([0-9]+)");
    if (!std::regex_search(log, m, listening)) return false;
    port = std::stoi(m[1].str());
    return true;
  })) << readIfThere(dir + "/err.log");
  EXPECT_NE(httpGet(port, "/jobs/apps/targets").find("10.0.0.1:9100"), std::string::npos);
  writeTargets(dir + "/apps.json", R"([{"targets": ["10.0.0.1:9100", "10.0.0.2:9100"], "labels": {"team": "a"}}])");
  bool served = eventually([&] { return httpGet(port, "/jobs/apps/targets").find("10.0.0.2:9100") != std::string::npos; });
  // a broken file is logged and the previous targets stay
  std::ofstream(dir + "/apps.json") << "[{not json";
  bool warned = eventually([&] { return readIfThere(dir + "/err.log").find("target reload failed") != std::string::npos; });
  std::string after = httpGet(port, "/jobs/apps/targets");
  EXPECT_TRUE(served) << readIfThere(dir + "/err.log");
  EXPECT_TRUE(warned) << readIfThere(dir + "/err.log");
  EXPECT_NE(after.find("10.0.0.2:9100"), std::string::npos) << after;
}

// ---- collector discovery ----

// A running allocator process: started with `args`, its port read off its log, killed at the end.
struct TaProcess {
  std::string dir, pid;
  int port = 0;
  TaProcess(const std::string& dir, const std::string& env, const std::string& args) : dir(dir) {
    Result started = sh(env + " " + kBin + " target-allocator " + args + " --listen-addr 127.0.0.1:0 >" + dir +
                        "/out.log 2>" + dir + "/err.log & echo $!");
    pid = started.out.substr(0, started.out.find('\n'));
    eventually([&] {
      std::smatch m;
      std::string log = readIfThere(dir + "/err.log");
      static const std::regex listening("target allocator listening.*port=\"?([0-9]+)");
      if (!std::regex_search(log, m, listening)) return false;
      port = std::stoi(m[1].str());
      return true;
    });
  }
  ~TaProcess() { sh("kill " + pid + " 2>/dev/null"); }
  std::string log() const { return readIfThere(dir + "/err.log"); }
  std::string get(const std::string& path) const { return httpGet(port, path); }
  // The collector-id -> target addresses map of /jobs/{job}/targets.
  std::map<std::string, std::set<std::string>> assignment(const std::string& job) const {
    std::string raw = get("/jobs/" + job + "/targets");
    auto body = raw.find("\r\n\r\n");
    std::map<std::string, std::set<std::string>> out;
    if (body == std::string::npos) return out;
    otel::Json j = otel::Json::parse(raw.substr(body + 4), nullptr, false);
    if (!j.is_object()) return out;
    for (const auto& [c, v] : j.items()) {
      out[c];
      if (v.contains("targets"))
        for (const auto& g : v["targets"])
          for (const auto& t : g["targets"]) out[c].insert(t.get<std::string>());
    }
    return out;
  }
  int count(const std::string& what) const {
    std::string l = log();
    int n = 0;
    for (auto p = l.find(what); p != std::string::npos; p = l.find(what, p + 1)) ++n;
    return n;
  }
};

std::string status(int code, const std::string& raw) { return raw.rfind("HTTP/1.1 " + std::to_string(code), 0) == 0 ? "yes" : raw.substr(0, 40); }

otel::testing::TestApiServerOptions apiOptions() {
  otel::testing::TestApiServerOptions o;
  o.namespaces = {"default", "observability"};
  return o;
}

// A collector pod as the kubelet reports it: scheduled on `node`, Running, Ready (or not, since `since`).
otel::Json collectorPod(const std::string& name, const std::string& node, bool ready = true,
                        const std::string& since = otel::formatRfc3339(std::chrono::system_clock::now()),
                        const std::string& component = "opentelemetry-collector") {
  otel::Json pod = {{"apiVersion", "v1"}, {"kind", "Pod"},
                    {"metadata", {{"name", name}, {"namespace", "observability"},
                                  {"labels", {{"app.kubernetes.io/component", component},
                                              {"app.kubernetes.io/instance", "observability.demo"},
                                              {"app.kubernetes.io/managed-by", "opentelemetry-operator"},
                                              {"app.kubernetes.io/part-of", "opentelemetry"}}}}},
                    {"spec", {{"containers", otel::Json::array({{{"name", "otc-container"}, {"image", "otel/col"}}})}}},
                    {"status", {{"phase", "Running"},
                                {"startTime", since},
                                {"conditions", otel::Json::array({{{"type", "Ready"}, {"status", ready ? "True" : "False"},
                                                                    {"lastTransitionTime", since}}})}}}};
  if (!node.empty()) pod["spec"]["nodeName"] = node;
  return pod;
}

// The config the operator writes for collector observability/demo (selector labels in yaml.v2's lower
// case; OTELCOL_NAMESPACE from the Deployment's env), with a kubeconfig for the test API server.
std::string operatorStyleConfig(const std::string& dir, const std::string& strategy, const std::string& targets) {
  std::ofstream(dir + "/targetallocator.yaml")
      << "allocation_strategy: " << strategy << "\n"
      << "collector_not_ready_grace_period: 30s\n"
         "collector_selector:\n  matchlabels:\n    app.kubernetes.io/component: opentelemetry-collector\n"
         "    app.kubernetes.io/instance: observability.demo\n"
         "    app.kubernetes.io/managed-by: opentelemetry-operator\n    app.kubernetes.io/part-of: opentelemetry\n"
         "  matchexpressions: []\n"
         "config:\n  scrape_configs:\n  - job_name: apps\n    static_configs:\n"
      << targets << "filter_strategy: relabel-config\n"
      << "kube_config_file_path: " << dir << "/kubeconfig\n";
  return dir + "/targetallocator.yaml";
}

std::string manyTargets(int n) {
  std::string out = "    - targets:\n";
  for (int i = 0; i < n; ++i) out += "      - 10.1.0." + std::to_string(i) + ":9100\n";
  return out;
}

TEST(TargetAllocatorDiscovery, ShardsOverTheUsableCollectorPodsAndFollowsTheirChanges) {
  otel::testing::TestApiServer api(apiOptions());
  std::string dir = tempDir("ta-discovery");
  api.writeKubeconfig(dir + "/kubeconfig");
  std::string config = operatorStyleConfig(dir, "consistent-hashing", manyTargets(40));
  const auto hourAgo = otel::formatRfc3339(std::chrono::system_clock::now() - std::chrono::hours(1));
  api.putObject(collectorPod("demo-collector-a", "node-a"));
  api.putObject(collectorPod("demo-collector-b", "node-b"));
  api.putObject(collectorPod("demo-collector-pending", ""));                               // not scheduled
  api.putObject(collectorPod("demo-collector-stuck", "node-a", false, hourAgo));            // not ready beyond the grace
  api.putObject(collectorPod("demo-collector-starting", "node-b", false));                 // not ready, within the grace
  api.putObject(collectorPod("demo-targetallocator-x", "node-a", true, hourAgo, "opentelemetry-targetallocator"));
  TaProcess ta(dir, "OTELCOL_NAMESPACE=observability", "--config-file " + config + " --collector-update-interval 0s");
  ASSERT_GT(ta.port, 0) << ta.log();
  ASSERT_TRUE(eventually([&] { return status(200, ta.get("/readyz")) == "yes"; })) << ta.log();

  auto a = ta.assignment("apps");
  std::set<std::string> ids;
  std::size_t total = 0;
  for (const auto& [c, ts] : a) {
    ids.insert(c);
    total += ts.size();
  }
  EXPECT_EQ(ids, (std::set<std::string>{"demo-collector-a", "demo-collector-b", "demo-collector-starting"})) << ta.log();
  EXPECT_EQ(total, 40u);
  // the watch is restricted to the selector: the allocator's own pod never reaches its cache
  bool selective = false;
  for (const auto& r : api.requests())
    if (r.path == "/api/v1/namespaces/observability/pods" && r.query.find("labelSelector=") != std::string::npos) selective = true;
  EXPECT_TRUE(selective);

  // flapping inside the grace period moves nothing; a pod leaving hands its targets to the others
  int changes = ta.count("collectors changed");
  api.putObject(collectorPod("demo-collector-b", "node-b", false));
  api.putObject(collectorPod("demo-collector-b", "node-b", true));
  auto before = ta.assignment("apps");
  api.deleteObject("v1", "pods", "observability", "demo-collector-starting");
  ASSERT_TRUE(eventually([&] { return ta.assignment("apps").count("demo-collector-starting") == 0; })) << ta.log();
  EXPECT_EQ(ta.count("collectors changed"), changes + 1) << ta.log();
  auto after = ta.assignment("apps");
  // every target once, on the two collectors left (consistent-hashing's load bound may move a few of theirs)
  std::set<std::string> all;
  for (const char* kept : {"demo-collector-a", "demo-collector-b"})
    for (const auto& t : after[kept]) EXPECT_TRUE(all.insert(t).second) << t << " assigned twice";
  EXPECT_EQ(all.size(), 40u);
  EXPECT_FALSE(before["demo-collector-starting"].empty());
  // a new ready pod joins
  api.putObject(collectorPod("demo-collector-c", "node-c"));
  ASSERT_TRUE(eventually([&] { return ta.assignment("apps").count("demo-collector-c") == 1; })) << ta.log();
  EXPECT_NE(ta.get("/").find("demo-collector-c"), std::string::npos);
}

TEST(TargetAllocatorDiscovery, PerNodeUsesThePodsNodeNames) {
  otel::testing::TestApiServer api(apiOptions());
  std::string dir = tempDir("ta-pernode");
  api.writeKubeconfig(dir + "/kubeconfig");
  std::string config = operatorStyleConfig(dir, "per-node",
                                           "    - targets: ['10.2.0.1:9100']\n      labels: {__meta_kubernetes_pod_node_name: node-b}\n"
                                           "    - targets: ['10.2.0.2:9100']\n      labels: {__meta_kubernetes_pod_node_name: node-z}\n");
  api.putObject(collectorPod("demo-collector-a", "node-a"));
  api.putObject(collectorPod("demo-collector-b", "node-b"));
  TaProcess ta(dir, "OTELCOL_NAMESPACE=observability", "--config-file " + config + " --collector-update-interval 0s");
  ASSERT_GT(ta.port, 0) << ta.log();
  ASSERT_TRUE(eventually([&] { return status(200, ta.get("/readyz")) == "yes"; })) << ta.log();
  auto a = ta.assignment("apps");
  EXPECT_EQ(a["demo-collector-b"], (std::set<std::string>{"10.2.0.1:9100"}));
  EXPECT_TRUE(a["demo-collector-a"].empty());
}

TEST(TargetAllocatorDiscovery, NotReadyUntilThePodListSucceeds) {
  otel::testing::TestApiServer api(apiOptions());
  std::string dir = tempDir("ta-notready");
  api.writeKubeconfig(dir + "/kubeconfig");
  std::string config = operatorStyleConfig(dir, "consistent-hashing", manyTargets(3));
  api.putObject(collectorPod("demo-collector-a", "node-a"));
  api.failNext(1000000, 503);  // the API server answers nothing useful
  TaProcess ta(dir, "OTELCOL_NAMESPACE=observability", "--config-file " + config + " --collector-update-interval 0s");
  ASSERT_GT(ta.port, 0) << ta.log();
  ASSERT_TRUE(eventually([&] { return api.requestCount("GET", "/api/v1/namespaces/observability/pods") > 0; }));
  EXPECT_EQ(status(503, ta.get("/readyz")), "yes");
  api.failNext(0, 503);
  EXPECT_TRUE(eventually([&] { return status(200, ta.get("/readyz")) == "yes"; })) << ta.log();
  EXPECT_EQ(ta.assignment("apps")["demo-collector-a"].size(), 3u);
}

TEST(TargetAllocatorDiscovery, ConfigErrorsAreOneLine) {
  std::string dir = tempDir("ta-discovery-errors");
  std::ofstream(dir + "/ta.yaml") << "config:\n  scrape_configs:\n  - job_name: a\n    static_configs: [{targets: ['x:1']}]\n";
  Result r = sh(kBin + " target-allocator --config-file " + dir + "/ta.yaml --check");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("collector namespace must be set"), std::string::npos) << r.err;
  std::ofstream(dir + "/ta2.yaml") << "collector_namespace: o\ncollector_selector:\n  matchexpressions:\n  - {key: a, operator: Near}\n"
                                      "config:\n  scrape_configs:\n  - job_name: a\n    static_configs: [{targets: ['x:1']}]\n";
  r = sh(kBin + " target-allocator --config-file " + dir + "/ta2.yaml --check");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("ta2.yaml: collector_selector"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("\"Near\" is not a valid label selector operator"), std::string::npos) << r.err;
  std::ofstream(dir + "/ta3.yaml") << "collector_namespace: o\ncollector_selector: {matchLabels: {app: c}}\n"
                                      "config:\n  scrape_configs:\n  - job_name: a\n    static_configs: [{targets: ['x:1']}]\n";
  r = sh(kBin + " target-allocator --config-file " + dir + "/ta3.yaml --check");
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("collectors: pods in namespace o matching app=c"), std::string::npos) << r.out;
}

// ---- kubectl otel allocations NAME: the running allocator through the API server's service proxy ----

// The allocator's Service as the operator creates it (port 80 `targetallocation` -> `http`), and the test API
// server's stand-in for its endpoints: the allocator process on `port`.
void serveAllocator(otel::testing::TestApiServer& api, const std::string& name, int port) {
  api.putObject({{"apiVersion", "v1"}, {"kind", "Service"},
                 {"metadata", {{"name", name + "-targetallocator"}, {"namespace", "observability"}}},
                 {"spec", {{"ports", otel::Json::array({{{"name", "targetallocation"}, {"port", 80}, {"targetPort", "http"}}})}}}});
  api.setServiceResolver([name, port](const std::string& ns, const std::string& svc, int p, const std::string& path) {
    if (ns != "observability" || svc != name + "-targetallocator" || p != 80 || port == 0) return std::string();
    return "http://127.0.0.1:" + std::to_string(port) + path;
  });
}

TEST(AllocationsLive, ReadsTheRunningAllocatorThroughTheServiceProxy) {
  otel::testing::TestApiServer api(apiOptions());
  std::string dir = tempDir("allocations-live");
  api.writeKubeconfig(dir + "/kubeconfig", "observability");
  std::string config = operatorStyleConfig(dir, "per-node",
                                           "    - targets: ['10.3.0.1:9100', '10.3.0.2:9100']\n"
                                           "      labels: {__meta_kubernetes_pod_node_name: node-a}\n"
                                           "    - targets: ['10.3.0.3:9100']\n      labels: {__meta_kubernetes_pod_node_name: node-b}\n"
                                           "    - targets: ['10.3.0.9:9100']\n      labels: {__meta_kubernetes_pod_node_name: node-z}\n");
  api.putObject(collectorPod("demo-collector-a", "node-a"));
  api.putObject(collectorPod("demo-collector-b", "node-b"));
  TaProcess ta(dir, "OTELCOL_NAMESPACE=observability", "--config-file " + config + " --collector-update-interval 0s");
  ASSERT_GT(ta.port, 0) << ta.log();
  ASSERT_TRUE(eventually([&] { return status(200, ta.get("/readyz")) == "yes"; })) << ta.log();
  serveAllocator(api, "demo", ta.port);
  const std::string kc = " --kubeconfig " + dir + "/kubeconfig";

  Result table = sh(kBin + " allocations demo" + kc);
  ASSERT_EQ(table.code, 0) << table.err;
  EXPECT_NE(table.out.find("Target allocator observability/demo-targetallocator: 2 collectors, 3 assigned targets in 1 jobs"),
            std::string::npos) << table.out;
  EXPECT_TRUE(std::regex_search(table.out, std::regex("demo-collector-a +2 +1\n"))) << table.out;
  EXPECT_TRUE(std::regex_search(table.out, std::regex("demo-collector-b +1 +1\n"))) << table.out;
  EXPECT_NE(table.out.find("apps 10.3.0.9:9100: per-node: no collector on node node-z"), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("Dropped by relabeling: none."), std::string::npos) << "/dropped read through the proxy\n" << table.out;

  Result json = sh(kBin + " allocations demo -n observability -o json" + kc);
  ASSERT_EQ(json.code, 0) << json.err;
  otel::Json j = otel::Json::parse(json.out);
  ASSERT_EQ(j["collectors"].size(), 2u);
  EXPECT_EQ(j["collectors"][0]["jobs"]["apps"], otel::Json::array({"10.3.0.1:9100", "10.3.0.2:9100"}));
  EXPECT_EQ(j["unassigned"][0]["target"], "10.3.0.9:9100");
  EXPECT_DOUBLE_EQ(j["spread"].get<double>(), 2.0 / 1.5);

  Result wide = sh(kBin + " allocations demo --collector-id demo-collector-b --job apps -o wide" + kc);
  ASSERT_EQ(wide.code, 0) << wide.err;
  EXPECT_TRUE(std::regex_search(wide.out, std::regex("demo-collector-b +apps +10.3.0.3:9100\n"))) << wide.out;
  EXPECT_EQ(wide.out.find("demo-collector-a"), std::string::npos) << wide.out;

  // a collector joins on node-z: the live view follows
  api.putObject(collectorPod("demo-collector-z", "node-z"));
  EXPECT_TRUE(eventually([&] {
    Result r = sh(kBin + " allocations demo -o json" + kc);
    return r.code == 0 && otel::Json::parse(r.out)["unassigned"].empty();
  })) << ta.log();

  Result noJob = sh(kBin + " allocations demo --job nope" + kc);
  EXPECT_EQ(noJob.code, 1);
  EXPECT_NE(noJob.err.find("the allocator has no job \"nope\""), std::string::npos) << noJob.err;
}

TEST(AllocationsLive, SaysWhatToCheckWhenTheAllocatorIsNotThere) {
  otel::testing::TestApiServer api(apiOptions());
  std::string dir = tempDir("allocations-missing");
  api.writeKubeconfig(dir + "/kubeconfig", "observability");
  const std::string kc = " --kubeconfig " + dir + "/kubeconfig";
  Result missing = sh(kBin + " allocations demo" + kc);
  EXPECT_EQ(missing.code, 1);
  EXPECT_NE(missing.err.find("target allocator Service observability/demo-targetallocator not found"), std::string::npos)
      << missing.err;
  EXPECT_NE(missing.err.find("spec.targetAllocator.enabled"), std::string::npos) << missing.err;
  serveAllocator(api, "demo", 0);  // the Service exists, no pod behind it
  Result down = sh(kBin + " allocations demo" + kc);
  EXPECT_EQ(down.code, 1);
  EXPECT_NE(down.err.find("target allocator observability/demo-targetallocator is not reachable: no endpoints available"),
            std::string::npos) << down.err;
  EXPECT_NE(down.err.find("kubectl get pods -n observability -l app.kubernetes.io/component=opentelemetry-targetallocator"),
            std::string::npos) << down.err;
  Result none = sh(kBin + " allocations" + kc);
  EXPECT_EQ(none.code, 1);
  EXPECT_NE(none.err.find("give the collector"), std::string::npos) << none.err;
}

// ---- kubernetes_sd_configs: targets discovered from the API server ----

otel::Json slice(const std::string& name, const std::string& svc, const std::vector<std::string>& ips) {
  otel::Json eps = otel::Json::array();
  for (const auto& ip : ips) eps.push_back({{"addresses", otel::Json::array({ip})}, {"conditions", {{"ready", true}}}});
  return {{"apiVersion", "discovery.k8s.io/v1"}, {"kind", "EndpointSlice"},
          {"metadata", {{"name", name}, {"namespace", "shop"}, {"labels", {{"kubernetes.io/service-name", svc}}}}},
          {"addressType", "IPv4"},
          {"ports", otel::Json::array({{{"name", "http"}, {"port", 8080}, {"protocol", "TCP"}}})},
          {"endpoints", eps}};
}

TEST(TargetAllocatorKubernetesSd, EndpointSliceTargetsFollowTheApiServer) {
  otel::testing::TestApiServerOptions opts = apiOptions();
  opts.namespaces.push_back("shop");
  otel::testing::TestApiServer api(opts);
  std::string dir = tempDir("ta-k8s-sd");
  api.writeKubeconfig(dir + "/kubeconfig");
  for (const char* svc : {"web", "other"})
    api.putObject({{"apiVersion", "v1"}, {"kind", "Service"},
                   {"metadata", {{"name", svc}, {"namespace", "shop"}, {"labels", {{"team", "shop"}}}}},
                   {"spec", {{"ports", otel::Json::array({{{"name", "http"}, {"port", 80}}})}}}});
  api.putObject(slice("web-abc", "web", {"10.0.0.5", "10.0.0.6"}));
  api.putObject(slice("other-1", "other", {"10.0.9.9"}));
  std::ofstream(dir + "/ta.yaml") << "config:\n  scrape_configs:\n  - job_name: web\n    kubernetes_sd_configs:\n"
                                     "    - role: endpointslice\n      namespaces: {names: [shop]}\n"
                                     "    relabel_configs:\n    - {source_labels: [__meta_kubernetes_service_name], regex: web, action: keep}\n"
                                     "kube_config_file_path: " << dir << "/kubeconfig\n";
  TaProcess ta(dir, "", "--config-file " + dir + "/ta.yaml --collectors a,b --reload-interval 1");
  ASSERT_GT(ta.port, 0) << ta.log();
  ASSERT_TRUE(eventually([&] { return status(200, ta.get("/readyz")) == "yes"; })) << ta.log();
  auto served = [&] {
    std::set<std::string> all;
    for (const auto& [c, ts] : ta.assignment("web")) all.insert(ts.begin(), ts.end());
    return all;
  };
  EXPECT_EQ(served(), (std::set<std::string>{"10.0.0.5:8080", "10.0.0.6:8080"})) << ta.get("/jobs/web/targets") << ta.get("/jobs");
  std::string sd = ta.get("/jobs/web/targets?collector_id=a") + ta.get("/jobs/web/targets?collector_id=b");
  EXPECT_NE(sd.find("\"__meta_kubernetes_endpointslice_name\":\"web-abc\""), std::string::npos) << sd;
  EXPECT_NE(sd.find("\"__meta_kubernetes_service_label_team\":\"shop\""), std::string::npos) << sd;
  // an endpoint joins, then the slice goes: the targets follow
  api.putObject(slice("web-abc", "web", {"10.0.0.5", "10.0.0.6", "10.0.0.7"}));
  EXPECT_TRUE(eventually([&] { return served().count("10.0.0.7:8080") == 1; })) << ta.log();
  api.deleteObject("discovery.k8s.io/v1", "endpointslices", "shop", "web-abc");
  EXPECT_TRUE(eventually([&] { return served().empty(); })) << ta.log();
  // the list and watch asked for the namespace only
  bool namespaced = false;
  for (const auto& r : api.requests())
    if (r.path == "/apis/discovery.k8s.io/v1/namespaces/shop/endpointslices") namespaced = true;
  EXPECT_TRUE(namespaced);
}

// The endpoints and ingress roles through the binary: watches of v1 Endpoints and networking.k8s.io/v1
// Ingresses, the targets following the objects.
TEST(TargetAllocatorKubernetesSd, EndpointsAndIngressTargetsFollowTheApiServer) {
  otel::testing::TestApiServerOptions opts = apiOptions();
  opts.namespaces.push_back("shop");
  otel::testing::TestApiServer api(opts);
  std::string dir = tempDir("ta-k8s-sd-endpoints");
  api.writeKubeconfig(dir + "/kubeconfig");
  api.putObject({{"apiVersion", "v1"}, {"kind", "Service"},
                 {"metadata", {{"name", "web"}, {"namespace", "shop"}, {"labels", {{"team", "shop"}}}}},
                 {"spec", {{"ports", otel::Json::array({{{"name", "http"}, {"port", 80}}})}}}});
  auto endpoints = [](const std::vector<std::string>& ready, const std::vector<std::string>& notReady) {
    otel::Json subset = {{"ports", otel::Json::array({{{"name", "http"}, {"port", 8080}, {"protocol", "TCP"}}})}};
    for (const auto& ip : ready) subset["addresses"].push_back({{"ip", ip}});
    for (const auto& ip : notReady) subset["notReadyAddresses"].push_back({{"ip", ip}});
    return otel::Json{{"apiVersion", "v1"}, {"kind", "Endpoints"}, {"metadata", {{"name", "web"}, {"namespace", "shop"}}},
                      {"subsets", otel::Json::array({subset})}};
  };
  auto ingress = [](const std::vector<std::string>& hosts) {
    otel::Json rules = otel::Json::array();
    for (const auto& h : hosts) rules.push_back({{"host", h}, {"http", {{"paths", otel::Json::array({{{"path", "/health"}, {"pathType", "Prefix"}, {"backend", {{"service", {{"name", "web"}, {"port", {{"number", 80}}}}}}}}})}}}});
    return otel::Json{{"apiVersion", "networking.k8s.io/v1"}, {"kind", "Ingress"}, {"metadata", {{"name", "shop"}, {"namespace", "shop"}}},
                      {"spec", {{"tls", otel::Json::array({{{"hosts", otel::Json::array({"*.example.com"})}}})}, {"rules", rules}}}};
  };
  api.putObject(endpoints({"10.0.0.5"}, {"10.0.0.6"}));
  api.putObject(ingress({"www.example.com"}));
  std::ofstream(dir + "/ta.yaml") << "config:\n  scrape_configs:\n"
                                     "  - job_name: web\n    kubernetes_sd_configs: [{role: endpoints, namespaces: {names: [shop]}}]\n"
                                     "    relabel_configs:\n    - {source_labels: [__meta_kubernetes_endpoint_ready], regex: 'true', action: keep}\n"
                                     "  - job_name: probe\n    kubernetes_sd_configs: [{role: ingress}]\n"
                                     "kube_config_file_path: " << dir << "/kubeconfig\n";
  TaProcess ta(dir, "", "--config-file " + dir + "/ta.yaml --collectors a,b --reload-interval 1");
  ASSERT_GT(ta.port, 0) << ta.log();
  ASSERT_TRUE(eventually([&] { return status(200, ta.get("/readyz")) == "yes"; })) << ta.log();
  auto served = [&](const std::string& job) {
    std::set<std::string> all;
    for (const auto& [c, ts] : ta.assignment(job)) all.insert(ts.begin(), ts.end());
    return all;
  };
  auto body = [&](const std::string& job) {
    return ta.get("/jobs/" + job + "/targets?collector_id=a") + ta.get("/jobs/" + job + "/targets?collector_id=b");
  };
  EXPECT_EQ(served("web"), (std::set<std::string>{"10.0.0.5:8080"})) << body("web") << ta.log();
  std::string sd = body("web");
  EXPECT_NE(sd.find("\"__meta_kubernetes_endpoints_name\":\"web\""), std::string::npos) << sd;
  EXPECT_NE(sd.find("\"__meta_kubernetes_service_label_team\":\"shop\""), std::string::npos) << sd;
  // (served as discovered: the collector's receiver runs the job's relabeling)
  EXPECT_EQ(served("probe"), (std::set<std::string>{"www.example.com"})) << body("probe");
  EXPECT_NE(body("probe").find("\"__meta_kubernetes_ingress_scheme\":\"https\""), std::string::npos) << body("probe");
  EXPECT_NE(body("probe").find("\"__meta_kubernetes_ingress_path\":\"/health\""), std::string::npos) << body("probe");
  // the not-ready address becomes ready, a host joins the ingress: the targets follow
  api.putObject(endpoints({"10.0.0.5", "10.0.0.6"}, {}));
  EXPECT_TRUE(eventually([&] { return served("web").count("10.0.0.6:8080") == 1; })) << ta.log();
  api.putObject(ingress({"www.example.com", "shop.other.org"}));
  EXPECT_TRUE(eventually([&] { return served("probe").count("shop.other.org") == 1; })) << body("probe");
  api.deleteObject("v1", "endpoints", "shop", "web");
  EXPECT_TRUE(eventually([&] { return served("web").empty(); })) << ta.log();
  bool watchedEndpoints = false, watchedIngresses = false;
  for (const auto& r : api.requests()) {
    if (r.path == "/api/v1/namespaces/shop/endpoints") watchedEndpoints = true;
    if (r.path == "/apis/networking.k8s.io/v1/ingresses") watchedIngresses = true;
  }
  EXPECT_TRUE(watchedEndpoints);
  EXPECT_TRUE(watchedIngresses);
}

TEST(TargetAllocatorKubernetesSd, RefusesWhatItCannotDiscoverInOneLine) {
  std::string dir = tempDir("ta-k8s-sd-errors");
  std::ofstream(dir + "/ta.yaml") << "config:\n  scrape_configs:\n  - job_name: e\n    kubernetes_sd_configs: [{role: endpoints, api_server: 'https://k:6443'}]\n";
  Result r = sh(kBin + " target-allocator --config-file " + dir + "/ta.yaml --collectors a --check");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("ta.yaml: job \"e\": kubernetes_sd_configs[0]: api_server is not supported"), std::string::npos)
      << r.err;
  std::ofstream(dir + "/ok.yaml") << "config:\n  scrape_configs:\n  - job_name: p\n    kubernetes_sd_configs: [{role: pod}]\n";
  r = sh(kBin + " target-allocator --config-file " + dir + "/ok.yaml --collectors a --check");
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("1 kubernetes_sd_configs (discovered when serving)"), std::string::npos) << r.out;
}

// ---- prometheus_cr: ServiceMonitors and PodMonitors turned into scrape configs ----

void putMonitoringCrds(otel::testing::TestApiServer& api) {
  for (const auto& d : otel::parseYamlStream(otel::readFile(std::string(OTEL_SOURCE_DIR) + "/tests/fixtures/doctor/_common/monitoring-crds.yaml"),
                                             "monitoring-crds.yaml"))
    if (d.value.is_object()) api.putObject(d.value);
}

otel::Json serviceMonitor(const std::string& name, const otel::Json& labels, const otel::Json& endpoint) {
  return {{"apiVersion", "monitoring.coreos.com/v1"}, {"kind", "ServiceMonitor"},
          {"metadata", {{"name", name}, {"namespace", "shop"}, {"labels", labels}}},
          {"spec", {{"selector", {{"matchLabels", {{"app", "web"}}}}}, {"endpoints", otel::Json::array({endpoint})}}}};
}

TEST(TargetAllocatorPrometheusCr, ServiceMonitorsBecomeJobsWhenTheirCrdsAppear) {
  otel::testing::TestApiServerOptions opts = apiOptions();
  opts.namespaces.push_back("shop");
  otel::testing::TestApiServer api(opts);
  std::string dir = tempDir("ta-prometheus-cr");
  api.writeKubeconfig(dir + "/kubeconfig", "observability");
  std::ofstream(dir + "/ta.yaml") << "prometheus_cr:\n  enabled: true\n  scrape_interval: 15s\n"
                                     "  service_monitor_selector: {matchlabels: {team: shop}}\n  pod_monitor_selector: null\n  scrape_config_selector: {}\n"
                                     "kube_config_file_path: " << dir << "/kubeconfig\n";
  // the monitoring CRDs are not installed yet: the allocator starts, is ready, and serves no job
  TaProcess ta(dir, "", "--config-file " + dir + "/ta.yaml --collectors a,b --reload-interval 1");
  ASSERT_GT(ta.port, 0) << ta.log();
  ASSERT_TRUE(eventually([&] { return status(200, ta.get("/readyz")) == "yes"; })) << ta.log();
  EXPECT_NE(ta.get("/scrape_configs").find("\r\n\r\n{}"), std::string::npos) << ta.get("/scrape_configs");

  api.putObject({{"apiVersion", "v1"}, {"kind", "Service"},
                 {"metadata", {{"name", "web"}, {"namespace", "shop"}, {"labels", {{"app", "web"}}}}},
                 {"spec", {{"ports", otel::Json::array({{{"name", "http"}, {"port", 80}}})}}}});
  api.putObject({{"apiVersion", "v1"}, {"kind", "Service"},
                 {"metadata", {{"name", "db"}, {"namespace", "shop"}, {"labels", {{"app", "db"}}}}},
                 {"spec", {{"ports", otel::Json::array({{{"name", "http"}, {"port", 80}}})}}}});
  api.putObject(slice("web-abc", "web", {"10.0.0.5", "10.0.0.6"}));
  api.putObject(slice("db-1", "db", {"10.0.9.9"}));
  putMonitoringCrds(api);
  api.putObject(serviceMonitor("web", {{"team", "shop"}}, {{"port", "http"}, {"interval", "10s"}}));
  api.putObject(serviceMonitor("unselected", {{"team", "other"}}, {{"port", "http"}}));
  api.putObject(serviceMonitor("broken", {{"team", "shop"}},
                               {{"port", "http"}, {"relabelings", otel::Json::array({{{"sourceLabels", {"__address__"}}, {"regex", "(unclosed"}, {"targetLabel", "x"}}})}}));
  const std::string job = "serviceMonitor/shop/web/0";
  auto served = [&] {
    std::set<std::string> all;
    for (const auto& [c, ts] : ta.assignment("serviceMonitor%2Fshop%2Fweb%2F0")) all.insert(ts.begin(), ts.end());
    return all;
  };
  ASSERT_TRUE(eventually([&] { return served() == std::set<std::string>{"10.0.0.5:8080", "10.0.0.6:8080"}; }))
      << ta.get("/jobs/serviceMonitor%2Fshop%2Fweb%2F0/targets") << ta.log();
  otel::Json configs = otel::Json::parse(ta.get("/scrape_configs").substr(ta.get("/scrape_configs").find("\r\n\r\n") + 4));
  ASSERT_TRUE(configs.contains(job)) << configs.dump();
  EXPECT_EQ(configs.size(), 1u) << configs.dump();  // "unselected" is not selected, "broken" is skipped
  EXPECT_EQ(configs[job]["scrape_interval"], "10s");
  EXPECT_EQ(configs[job]["kubernetes_sd_configs"][0]["role"], "endpointslice");
  // the target's labels are the discovered ones; the job's relabeling gives what Prometheus would scrape
  std::string sd = ta.get("/jobs/serviceMonitor%2Fshop%2Fweb%2F0/targets?collector_id=a") +
                   ta.get("/jobs/serviceMonitor%2Fshop%2Fweb%2F0/targets?collector_id=b");
  EXPECT_NE(sd.find("\"__meta_kubernetes_service_name\":\"web\""), std::string::npos) << sd;
  std::string log = ta.log();
  EXPECT_NE(log.find("prometheus CR skipped"), std::string::npos) << log;
  EXPECT_NE(log.find("name=broken"), std::string::npos) << log;
  EXPECT_NE(log.find("spec.endpoints[0].relabelings[0]: invalid regex"), std::string::npos) << log;
  EXPECT_NE(ta.get("/metrics").find("opentelemetry_allocator_prometheus_cr_skipped{kind=\"ServiceMonitor\",namespace=\"shop\",name=\"broken\"} 1"),
            std::string::npos) << ta.get("/metrics");

  // the monitor changes its port to one no slice has: its job keeps existing with no target
  api.putObject(serviceMonitor("web", {{"team", "shop"}}, {{"port", "metrics"}, {"interval", "10s"}}));
  EXPECT_TRUE(eventually([&] { return served().empty(); })) << ta.log();
  // an endpoint joins a slice the job selects again after the monitor goes back to port http
  api.putObject(serviceMonitor("web", {{"team", "shop"}}, {{"port", "http"}, {"interval", "10s"}}));
  api.putObject(slice("web-abc", "web", {"10.0.0.5", "10.0.0.6", "10.0.0.7"}));
  EXPECT_TRUE(eventually([&] { return served().size() == 3; })) << ta.log();
  // the monitor is deleted: its job goes
  api.deleteObject("monitoring.coreos.com/v1", "servicemonitors", "shop", "web");
  EXPECT_TRUE(eventually([&] { return ta.get("/jobs").find(job) == std::string::npos; })) << ta.get("/jobs");
  // the ScrapeConfig CRD (v1alpha1) is installed later still, then a ScrapeConfig with a static target
  api.putObject(otel::parseYaml(R"({apiVersion: apiextensions.k8s.io/v1, kind: CustomResourceDefinition,
    metadata: {name: scrapeconfigs.monitoring.coreos.com},
    spec: {group: monitoring.coreos.com, scope: Namespaced,
           names: {plural: scrapeconfigs, singular: scrapeconfig, kind: ScrapeConfig, listKind: ScrapeConfigList},
           versions: [{name: v1alpha1, served: true, storage: true,
                       schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}}]}})", "crd"));
  api.putObject(otel::parseYaml("{apiVersion: monitoring.coreos.com/v1alpha1, kind: ScrapeConfig, metadata: {name: static, namespace: shop}, "
                                "spec: {staticConfigs: [{targets: ['10.1.1.1:9100']}]}}", "sc"));
  EXPECT_TRUE(eventually([&] {
    auto a = ta.assignment("scrapeConfig%2Fshop%2Fstatic");
    std::set<std::string> all;
    for (const auto& [c, ts] : a) all.insert(ts.begin(), ts.end());
    return all == std::set<std::string>{"10.1.1.1:9100"};
  })) << ta.get("/jobs") << ta.log();
}

TEST(TargetAllocatorPrometheusCr, TheOperatorsConfigStartsWithNoFlagAdded) {
  std::string dir = tempDir("ta-prometheus-cr-check");
  std::ofstream(dir + "/ta.yaml") << "allocation_strategy: consistent-hashing\ncollector_namespace: observability\n"
                                     "collector_selector: {matchlabels: {app.kubernetes.io/component: opentelemetry-collector}, matchexpressions: []}\n"
                                     "filter_strategy: relabel-config\n"
                                     "prometheus_cr:\n  enabled: true\n  pod_monitor_namespace_selector: null\n  pod_monitor_selector: {}\n"
                                     "  probe_namespace_selector: null\n  probe_selector: null\n  scrape_config_namespace_selector: null\n"
                                     "  scrape_config_selector: null\n  scrape_interval: 30s\n  service_monitor_namespace_selector: null\n"
                                     "  service_monitor_selector: {}\n";
  Result r = sh(kBin + " target-allocator --config-file " + dir + "/ta.yaml --check");
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("Prometheus CRs (ServiceMonitors, PodMonitors) watched when serving"), std::string::npos) << r.out;
  std::ofstream(dir + "/both.yaml") << "collectors: [a]\nprometheus_cr: {enabled: true, allow_namespaces: [a], deny_namespaces: [b]}\n";
  r = sh(kBin + " target-allocator --config-file " + dir + "/both.yaml --check");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("only one of allowNamespaces or denyNamespaces can be set"), std::string::npos) << r.err;
  std::ofstream(dir + "/bad.yaml") << "collectors: [a]\nprometheus_cr: {enabled: true, service_monitor_selector: {matchExpressions: [{key: a, operator: Near}]}}\n";
  r = sh(kBin + " target-allocator --config-file " + dir + "/bad.yaml --check");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("prometheus_cr.service_monitor_selector"), std::string::npos) << r.err;
}

// ---- least-weighted: only the Lease holder serves ----

TEST(TargetAllocatorLease, OnlyTheHolderIsReadyAndAnotherTakesOver) {
  otel::testing::TestApiServer api(apiOptions());
  std::string dirA = tempDir("ta-lease-a"), dirB = tempDir("ta-lease-b");
  api.writeKubeconfig(dirA + "/kubeconfig", "observability");
  std::ofstream(dirA + "/ta.yaml") << "allocation_strategy: least-weighted\n"
                                      "config:\n  scrape_configs:\n  - job_name: apps\n    static_configs: [{targets: ['10.0.0.1:80']}]\n"
                                      "kube_config_file_path: " << dirA << "/kubeconfig\n";
  const std::string args = "--config-file " + dirA + "/ta.yaml --collectors a,b --leader-elect true --leader-election-id demo-targetallocator "
                           "--leader-election-lease-duration 3";
  auto a = std::make_unique<TaProcess>(dirA, "", args);
  ASSERT_GT(a->port, 0) << a->log();
  ASSERT_TRUE(eventually([&] { return status(200, a->get("/readyz")) == "yes"; })) << a->log();
  TaProcess b(dirB, "", args);
  ASSERT_GT(b.port, 0) << b.log();
  ASSERT_TRUE(eventually([&] { return b.log().find("held by another replica") != std::string::npos; })) << b.log();
  EXPECT_EQ(status(503, b.get("/readyz")), "yes") << b.log();
  EXPECT_EQ(status(200, a->get("/readyz")), "yes") << a->log();
  // the holder dies without releasing: the other takes over once the Lease expires
  sh("kill -9 " + a->pid);
  EXPECT_TRUE(eventually([&] { return status(200, b.get("/readyz")) == "yes"; })) << b.log();
  EXPECT_NE(b.log().find("holding the allocator's Lease: serving"), std::string::npos) << b.log();
  bool lease = false;
  for (const auto& r : api.requests())
    if (r.path.find("/apis/coordination.k8s.io/v1/namespaces/observability/leases") == 0) lease = true;
  EXPECT_TRUE(lease);
}

}  // namespace
