// The target allocator: targetallocator.yaml parsing/precedence/validation, upstream JSON shapes of the
// HTTP API (compared as JSON, byte-exact for the Go encoder's key order and trailing newline), and the
// same answers over a real socket.
#include <gtest/gtest.h>
#include <httplib.h>

#include <filesystem>
#include <fstream>

#include "lib/core/error.h"
#include "lib/core/yaml.h"
#include "lib/http/server.h"
#include "lib/targetallocator/config.h"
#include "lib/targetallocator/service.h"

namespace otel::targetallocator {
namespace {

const char* kConfig = R"(
allocation_strategy: consistent-hashing
filter_strategy: relabel-config
collector_selector:
  matchlabels: {app.kubernetes.io/component: opentelemetry-collector}
prometheus_cr: {enabled: false, scrape_interval: 30s}
config:
  global: {scrape_interval: 30s}
  scrape_configs:
    - job_name: node
      static_configs:
        - targets: ['10.0.0.1:9100', '10.0.0.2:9100', '10.0.0.3:9100']
          labels: {__meta_kubernetes_pod_node_name: n1, team: infra}
      relabel_configs:
        - {source_labels: [__address__], regex: '10\.0\.0\.3:.*', action: drop}
    - job_name: 'serviceMonitor/ns/app/0'
      basic_auth: {username: u, password: hunter2}
      static_configs:
        - targets: ['10.1.0.1:8080']
      relabel_configs:
        - {source_labels: [__tmp_port], action: keepequal, target_label: __tmp_port}
)";

Config parse(const std::string& yaml) {
  Config c = parseConfig(parseYaml(yaml), "targetallocator.yaml");
  c.collectors = {{"collector-a", "n1"}, {"collector-b", "n2"}};
  return c;
}

std::string errorOf(const std::string& yaml, Config* out = nullptr) {
  try {
    Config c = parseConfig(parseYaml(yaml), "targetallocator.yaml");
    if (out) *out = c;
    validate(c);
  } catch (const Error& e) {
    return e.oneLine();
  }
  return "<no error>";
}

TEST(Config, DefaultsAndKeys) {
  Config c = parse(kConfig);
  EXPECT_EQ(c.listenAddr, ":8080");
  EXPECT_EQ(c.https.listenAddr, ":8443");
  EXPECT_EQ(c.strategy, allocation::Strategy::ConsistentHashing);
  EXPECT_EQ(c.prom.scrapeConfigs.size(), 2u);
  EXPECT_EQ(c.prom.scrapeConfigs[0].scrapeInterval(), "30s");
  EXPECT_NO_THROW(validate(c));
}

TEST(Config, FatalValidation) {
  EXPECT_EQ(errorOf("allocation_strategy: least-weighted\n"),
            "targetallocator.yaml: at least one scrape config must be defined, or Prometheus CR watching must be enabled");
  EXPECT_EQ(errorOf("allocation_strategy: round-robin\n"),
            "targetallocator.yaml: allocation_strategy: unknown allocation strategy \"round-robin\"");
  EXPECT_EQ(errorOf("config: {scrape_configs: [{job_name: a}]}\n"),
            "targetallocator.yaml: collector namespace must be set");
  EXPECT_EQ(errorOf("config: {scrape_configs: [{job_name: a}, {job_name: a}]}\n"),
            "targetallocator.yaml: found multiple scrape configs with job name \"a\"");
  EXPECT_EQ(errorOf("bogus: 1\n"), "targetallocator.yaml: unknown key \"bogus\"");
}

TEST(Config, PrecedenceFileEnvFlags) {
  auto dir = std::filesystem::temp_directory_path() / ("ta-config-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto file = (dir / "targetallocator.yaml").string();
  std::ofstream(file) << "listen_addr: ':9000'\ncollectors: [a, b]\nconfig: {scrape_configs: [{job_name: x}]}\n";
  auto env = [](const char* n) -> const char* {
    if (std::string(n) == "ALLOW_INSECURE_AUTH_SECRETS") return "true";
    if (std::string(n) == "OTELCOL_NAMESPACE") return "observability";
    return nullptr;
  };
  Config c = loadConfig(file, {}, env);
  EXPECT_EQ(c.listenAddr, ":9000");
  EXPECT_TRUE(c.allowInsecureAuthSecrets);
  EXPECT_EQ(c.collectorNamespace, "observability");
  EXPECT_EQ(c.collectors.size(), 2u);
  Overrides o;
  o.listenAddr = ":9100";
  o.collectors = "3";
  o.allowInsecureAuthSecrets = false;
  c = loadConfig(file, o, env);
  EXPECT_EQ(c.listenAddr, ":9100");
  EXPECT_FALSE(c.allowInsecureAuthSecrets);
  EXPECT_EQ(c.collectors.size(), 3u);
  std::filesystem::remove_all(dir);
}

TEST(Service, JobsShape) {
  Service s(parse(kConfig));
  auto r = s.jobs();
  EXPECT_EQ(r.contentType, "application/json");
  EXPECT_EQ(r.body,
            "{\"node\":{\"_link\":\"/jobs/node/targets\"},"
            "\"serviceMonitor/ns/app/0\":{\"_link\":\"/jobs/serviceMonitor%2Fns%2Fapp%2F0/targets\"}}\n");
}

TEST(Service, TargetsForCollectorIsHttpSd) {
  Service s(parse(kConfig));
  // Every kept target appears exactly once across collectors, as one {targets:[addr], labels} element each.
  std::size_t total = 0;
  for (std::string c : {"collector-a", "collector-b"}) {
    Json list = Json::parse(s.targets("node", &c).body);
    ASSERT_TRUE(list.is_array());
    for (const auto& e : list) {
      ASSERT_EQ(e["targets"].size(), 1u);
      EXPECT_EQ(e["labels"]["__address__"], e["targets"][0]);
      EXPECT_EQ(e["labels"]["__meta_kubernetes_pod_node_name"], "n1");  // discovered labels, __meta_ kept
      EXPECT_FALSE(e["labels"].contains("job"));                         // seeded labels not served
      EXPECT_FALSE(e["labels"].contains("__scheme__"));
      ++total;
    }
  }
  EXPECT_EQ(total, 2u);  // 10.0.0.3 dropped by relabeling
  // Byte shape: struct field order (targets, labels), sorted label keys, trailing newline.
  std::string b = "collector-b", a0 = "collector-a";
  std::string body = s.targets("node", &a0).body + s.targets("node", &b).body;
  EXPECT_NE(body.find("{\"targets\":[\"10.0.0.1:9100\"],\"labels\":{\"__address__\":\"10.0.0.1:9100\","
                      "\"__meta_kubernetes_pod_node_name\":\"n1\",\"team\":\"infra\"}}"),
            std::string::npos)
      << body;
  std::string unknown = "nope";
  EXPECT_EQ(s.targets("node", &unknown).body, "[]\n");
  std::string a = "collector-a";
  EXPECT_EQ(s.targets("no-such-job", &a).body, "[]\n");
}

TEST(Service, TargetsByJobListsEveryCollector) {
  Service s(parse(kConfig));
  Json all = Json::parse(s.targets("serviceMonitor/ns/app/0", nullptr).body);
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all["collector-a"]["_link"], "/debug/jobs/serviceMonitor%2Fns%2Fapp%2F0/targets?collector_id=collector-a");
  EXPECT_EQ(all["collector-a"]["targets"].size() + all["collector-b"]["targets"].size(), 1u);
}

TEST(Service, ScrapeConfigsRedactedUnlessTlsOrAllowed) {
  Config c = parse(kConfig);
  Service s(c);
  Json plain = Json::parse(s.scrapeConfigs(false).body);
  EXPECT_EQ(plain["serviceMonitor/ns/app/0"]["basic_auth"]["password"], "<secret>");
  EXPECT_EQ(plain["node"]["scrape_interval"], "30s");
  EXPECT_EQ(plain["node"]["metrics_path"], "/metrics");
  // keepequal/dropequal rules are served without `regex` (upstream works around prometheus#12534).
  EXPECT_FALSE(plain["serviceMonitor/ns/app/0"]["relabel_configs"][0].contains("regex"));
  EXPECT_EQ(Json::parse(s.scrapeConfigs(true).body)["serviceMonitor/ns/app/0"]["basic_auth"]["password"], "hunter2");
  c.allowInsecureAuthSecrets = true;
  Service allowed(c);
  EXPECT_EQ(Json::parse(allowed.scrapeConfigs(false).body)["serviceMonitor/ns/app/0"]["basic_auth"]["password"],
            "hunter2");
}

TEST(Service, ProbesAndMetrics) {
  Service s(parse(kConfig));
  EXPECT_EQ(s.livez().status, 200);
  EXPECT_EQ(s.readyz().status, 200);
  std::string m = s.metrics().body;
  EXPECT_NE(m.find("opentelemetry_allocator_targets{job_name=\"node\"} 2"), std::string::npos) << m;
  EXPECT_NE(m.find("opentelemetry_allocator_collectors_allocatable{strategy=\"consistent-hashing\"} 2"),
            std::string::npos);
  EXPECT_NE(m.find("# TYPE opentelemetry_allocator_time_to_allocate histogram"), std::string::npos);
  EXPECT_NE(s.index().body.find("collector-a"), std::string::npos);
}

// What relabeling dropped is kept per source with the rule that dropped it: /dropped (JSON), the job's
// HTML page and the overview's count follow the sources (a Kubernetes object's drops go with it).
TEST(Service, DroppedTargetsAreListedWithTheRuleThatDroppedThem) {
  Service s(parse(kConfig));
  const std::string why = "relabel_configs[0] drop [__address__]: \"10.0.0.3:9100\" matches \"10\\\\.0\\\\.0\\\\.3:.*\"";
  EXPECT_EQ(s.dropped().body, "{\"node\":[{\"reason\":" + Json(why).dump() + ",\"target\":\"10.0.0.3:9100\"}]}\n");
  auto object = [](const std::string& key, std::vector<std::string> addrs, bool removed = false) {
    prom::KubernetesObjectUpdate u;
    u.job = 0;
    u.key = key;
    u.removed = removed;
    u.targets.group = prom::Labels::fromPairs({{"__meta_kubernetes_namespace", "shop"}});
    for (const auto& a : addrs) u.targets.targets.push_back(prom::Labels::fromPairs({{"__address__", a}}));
    return u;
  };
  std::vector<prom::KubernetesObjectUpdate> first;
  first.push_back(object("pod/shop/a", {"10.0.0.3:9100", "10.0.0.9:9100"}));
  s.applyKubernetes(std::move(first));
  Json d = Json::parse(s.dropped().body);
  ASSERT_EQ(d["node"].size(), 2u) << d.dump();
  EXPECT_EQ(d["node"][0]["target"], "10.0.0.3:9100");  // the static one, then the object's (source order)
  EXPECT_EQ(d["node"][1]["target"], "10.0.0.3:9100");
  std::string page = s.targets("node", nullptr, true).body;
  EXPECT_EQ(s.targets("node", nullptr, true).contentType, "text/html; charset=utf-8");
  EXPECT_NE(page.find("3 targets kept, 2 dropped by relabeling"), std::string::npos) << page;
  EXPECT_NE(page.find("<tr><td>10.0.0.9:9100</td><td>collector-"), std::string::npos) << page;
  EXPECT_NE(page.find("<tr><td>10.0.0.3:9100</td><td>relabel_configs[0] drop [__address__]: &quot;10.0.0.3:9100&quot; matches"),
            std::string::npos) << page;
  EXPECT_NE(s.index().body.find("<td>3</td><td>2</td>"), std::string::npos) << s.index().body;
  // the object changes: its dropped target goes; then the object goes
  std::vector<prom::KubernetesObjectUpdate> second;
  second.push_back(object("pod/shop/a", {"10.0.0.9:9100"}));
  s.applyKubernetes(std::move(second));
  EXPECT_EQ(Json::parse(s.dropped().body)["node"].size(), 1u);
  std::vector<prom::KubernetesObjectUpdate> third;
  third.push_back(object("pod/shop/b", {"10.0.0.3:9100"}));
  third.push_back(object("pod/shop/a", {}, true));
  s.applyKubernetes(std::move(third));
  EXPECT_EQ(Json::parse(s.dropped().body)["node"].size(), 2u);
  EXPECT_NE(s.index().body.find("<td>2</td><td>2</td>"), std::string::npos) << s.index().body;
  // beyond the limit: the first ones and how many more
  Json limited = Json::parse(s.dropped(1).body);
  EXPECT_EQ(limited["node"]["targets"].size(), 1u) << limited.dump();
  EXPECT_EQ(limited["node"]["_more"], 1);
  // many dropped: all counted, 1,000 per job kept to show
  std::vector<std::string> many;
  for (int port = 1; port <= 1200; ++port) many.push_back("10.0.0.3:" + std::to_string(port));
  std::vector<prom::KubernetesObjectUpdate> fourth;
  fourth.push_back(object("pod/shop/many", many));
  s.applyKubernetes(std::move(fourth));
  Json all = Json::parse(s.dropped(5000).body);
  EXPECT_EQ(all["node"]["targets"].size(), 1000u);
  EXPECT_EQ(all["node"]["_more"], 202);
  EXPECT_NE(s.index().body.find("<td>2</td><td>1202</td>"), std::string::npos);
  EXPECT_NE(s.targets("node", nullptr, true).body.find("... and 202 more"), std::string::npos);
  std::vector<prom::KubernetesObjectUpdate> fifth;
  fifth.push_back(object("pod/shop/many", {}, true));
  s.applyKubernetes(std::move(fifth));
  EXPECT_EQ(Json::parse(s.dropped(5000).body)["node"].size(), 2u) << "the kept ones go with their source";
  // the JSON API is unchanged for clients that do not ask for HTML
  EXPECT_EQ(s.targets("node", nullptr).contentType, "application/json");
}

TEST(Service, CollectorChangeKeepsEveryTargetAssigned) {
  Service s(parse(kConfig));
  s.setCollectors({{"collector-c", ""}});
  std::string c = "collector-c";
  EXPECT_EQ(Json::parse(s.targets("node", &c).body).size(), 2u);
}

TEST(Server, ServesTheSameJsonOverHttp) {
  Service s(parse(kConfig));
  http::Server server;
  registerRoutes(server, s);
  int port = server.bind("127.0.0.1:0");
  server.start();
  httplib::Client client("127.0.0.1", port);
  auto jobs = client.Get("/jobs");
  ASSERT_TRUE(jobs);
  EXPECT_EQ(jobs->status, 200);
  EXPECT_EQ(jobs->body, s.jobs().body);
  auto t = client.Get("/jobs/serviceMonitor%2Fns%2Fapp%2F0/targets?collector_id=collector-a");
  ASSERT_TRUE(t);
  std::string a = "collector-a";
  EXPECT_EQ(t->body, s.targets("serviceMonitor/ns/app/0", &a).body);
  auto html = client.Get("/jobs", {{"Accept", "text/html"}});
  ASSERT_TRUE(html);
  EXPECT_NE(html->get_header_value("Content-Type").find("text/html"), std::string::npos);
  auto page = client.Get("/jobs/node/targets", {{"Accept", "text/html,application/xhtml+xml"}});
  ASSERT_TRUE(page);
  EXPECT_NE(page->body.find("10.0.0.3:9100</td><td>relabel_configs[0] drop"), std::string::npos) << page->body;
  auto asJson = client.Get("/jobs/node/targets?collector_id=collector-a", {{"Accept", "text/html"}});
  ASSERT_TRUE(asJson);
  EXPECT_EQ(asJson->get_header_value("Content-Type"), "application/json") << "a collector's list is JSON whatever it accepts";
  auto dropped = client.Get("/dropped");
  ASSERT_TRUE(dropped);
  EXPECT_EQ(dropped->body, s.dropped().body);
  auto ready = client.Get("/readyz");
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->status, 200);
  auto metrics = client.Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_NE(metrics->body.find("opentelemetry_allocator_http_duration_seconds_count{path=\"/jobs\"}"),
            std::string::npos);
  server.stop();
}

}  // namespace
}  // namespace otel::targetallocator
