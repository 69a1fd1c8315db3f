// prometheus-operator's generator for ServiceMonitors and PodMonitors: the scrape configs it writes (job
// names, kubernetes_sd_configs, relabel rules in its order, secrets inlined), and what those rules do to
// discovered targets once Prometheus's relabeling runs them.
#include <gtest/gtest.h>

#include "lib/core/error.h"
#include "lib/core/hash.h"
#include "lib/core/yaml.h"
#include "lib/prom/kubernetes_sd.h"
#include "lib/prom/monitors.h"
#include "lib/prom/relabel.h"
#include "lib/prom/target.h"

namespace otel::prom {
namespace {

Json y(const std::string& s) { return parseYaml(s, "test"); }
// Key order does not matter to Prometheus: compare as unordered JSON.
nlohmann::json norm(const Json& j) { return nlohmann::json::parse(j.dump()); }

// What prometheus-operator v0.93 (the version the upstream allocator vendors) generates for
// ServiceMonitor default/sm {selector.matchLabels: {app: foo}, endpoints: [{port: web, interval: 30s}]}
// with the allocator's EndpointSlice discovery role (its golden TestServiceMonitorWithEndpointSliceEnable).
const char* kSmExpected = R"(
job_name: serviceMonitor/default/sm/0
honor_labels: false
kubernetes_sd_configs:
- role: endpointslice
  namespaces: {names: [default]}
scrape_interval: 30s
relabel_configs:
- {source_labels: [job], target_label: __tmp_prometheus_job_name}
- {action: keep, source_labels: [__meta_kubernetes_service_label_app, __meta_kubernetes_service_labelpresent_app], regex: (foo);true}
- {action: keep, source_labels: [__meta_kubernetes_endpointslice_port_name], regex: web}
- {source_labels: [__meta_kubernetes_endpointslice_address_target_kind, __meta_kubernetes_endpointslice_address_target_name], separator: ;, regex: Node;(.*), replacement: "${1}", target_label: node}
- {source_labels: [__meta_kubernetes_endpointslice_address_target_kind, __meta_kubernetes_endpointslice_address_target_name], separator: ;, regex: Pod;(.*), replacement: "${1}", target_label: pod}
- {source_labels: [__meta_kubernetes_namespace], target_label: namespace}
- {source_labels: [__meta_kubernetes_service_name], target_label: service}
- {source_labels: [__meta_kubernetes_pod_name], target_label: pod}
- {source_labels: [__meta_kubernetes_pod_container_name], target_label: container}
- {action: drop, source_labels: [__meta_kubernetes_pod_phase], regex: (Failed|Succeeded)}
- {source_labels: [__meta_kubernetes_service_name], target_label: job, replacement: "${1}"}
- {target_label: endpoint, replacement: web}
- {source_labels: [__address__, __tmp_hash], target_label: __tmp_hash, regex: (.+);, replacement: $1, action: replace}
- {source_labels: [__tmp_hash], target_label: __tmp_hash, modulus: 1, action: hashmod}
- {source_labels: [__tmp_hash, __tmp_disable_sharding], regex: $(SHARD);|.+;.+, action: keep}
)";

TEST(Monitors, ServiceMonitorAsPrometheusOperatorGeneratesIt) {
  auto jobs = serviceMonitorScrapeConfigs(y(R"(
kind: ServiceMonitor
metadata: {name: sm, namespace: default}
spec:
  selector: {matchLabels: {app: foo}}
  endpoints: [{port: web, interval: 30s}]
)"));
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_EQ(norm(jobs[0]), norm(y(kSmExpected))) << jobs[0].dump(1);
}

// serviceDiscoveryRole: Endpoints gives prometheus-operator's endpoints-role job: the same rules on the
// __meta_kubernetes_endpoint_* labels.
TEST(Monitors, ServiceMonitorWithTheEndpointsRole) {
  auto jobs = serviceMonitorScrapeConfigs(y(R"(
kind: ServiceMonitor
metadata: {name: sm, namespace: default}
spec:
  serviceDiscoveryRole: Endpoints
  selector: {matchLabels: {app: foo}}
  endpoints: [{port: web, interval: 30s}]
)"));
  ASSERT_EQ(jobs.size(), 1u);
  std::string want = kSmExpected;
  for (std::size_t at; (at = want.find("role: endpointslice")) != std::string::npos;) want.replace(at, 19, "role: endpoints");
  for (std::size_t at; (at = want.find("_endpointslice_")) != std::string::npos;) want.replace(at, 15, "_endpoint_");
  EXPECT_EQ(norm(jobs[0]), norm(y(want))) << jobs[0].dump(1);
  // and it selects what the endpoints role discovers
  ScrapeConfig sc = parseScrapeConfig(jobs[0], y("{scrape_interval: 30s}"), "test", 0);
  ASSERT_EQ(sc.kubernetesSdConfigs.size(), 1u);
  EXPECT_EQ(sc.kubernetesSdConfigs[0].role, K8sRole::Endpoints);
  ObjectMap services = {{"default/foo", y("metadata: {name: foo, namespace: default, labels: {app: foo}}")}};
  ObjectMap pods = {{"default/foo-1", y("{metadata: {name: foo-1, namespace: default}, status: {podIP: 10.0.0.1, phase: Running}}")}};
  KubeObjects o;
  o.services = &services;
  o.pods = &pods;
  auto ts = endpointsTargets(y(R"(
metadata: {name: foo, namespace: default}
subsets: [{addresses: [{ip: 10.0.0.1, targetRef: {kind: Pod, name: foo-1, namespace: default}}], ports: [{name: web, port: 8080}, {name: admin, port: 9000}]}]
)"),
                             sc.kubernetesSdConfigs[0], o);
  ASSERT_EQ(ts.size(), 2u);
  std::vector<std::string> kept;
  for (const auto& t : ts) {
    Labels l;
    for (const auto& [k, v] : t) l.set(k, v);
    l.set("job", sc.jobName);
    l.set("__tmp_disable_sharding", "true");
    if (relabel(sc.relabelConfigs, l)) kept.push_back(std::string(l.get("__address__")) + " pod=" + std::string(l.get("pod")) + " job=" + std::string(l.get("job")));
  }
  EXPECT_EQ(kept, std::vector<std::string>{"10.0.0.1:8080 pod=foo-1 job=foo"});
}

TEST(Monitors, PodMonitorAsPrometheusOperatorGeneratesIt) {
  auto jobs = podMonitorScrapeConfigs(y(R"(
kind: PodMonitor
metadata: {name: pm, namespace: default}
spec:
  selector: {matchLabels: {app: foo}}
  podMetricsEndpoints: [{port: web, interval: 30s}, {portNumber: 9100}]
)"));
  ASSERT_EQ(jobs.size(), 2u);
  EXPECT_EQ(norm(jobs[0]), norm(y(R"(
job_name: podMonitor/default/pm/0
honor_labels: false
kubernetes_sd_configs: [{role: pod, namespaces: {names: [default]}}]
scrape_interval: 30s
relabel_configs:
- {source_labels: [job], target_label: __tmp_prometheus_job_name}
- {action: drop, source_labels: [__meta_kubernetes_pod_phase], regex: (Failed|Succeeded)}
- {action: keep, source_labels: [__meta_kubernetes_pod_label_app, __meta_kubernetes_pod_labelpresent_app], regex: (foo);true}
- {action: keep, source_labels: [__meta_kubernetes_pod_container_port_name], regex: web}
- {source_labels: [__meta_kubernetes_namespace], target_label: namespace}
- {source_labels: [__meta_kubernetes_pod_container_name], target_label: container}
- {source_labels: [__meta_kubernetes_pod_name], target_label: pod}
- {target_label: job, replacement: default/pm}
- {target_label: endpoint, replacement: web}
- {source_labels: [__address__, __tmp_hash], target_label: __tmp_hash, regex: (.+);, replacement: $1, action: replace}
- {source_labels: [__tmp_hash], target_label: __tmp_hash, modulus: 1, action: hashmod}
- {source_labels: [__tmp_hash, __tmp_disable_sharding], regex: $(SHARD);|.+;.+, action: keep}
)"))) << jobs[0].dump(1);
  // a port number filters on the container port number and sets no endpoint label
  EXPECT_EQ(jobs[1]["job_name"], "podMonitor/default/pm/1");
  const Json& rules = jobs[1]["relabel_configs"];
  EXPECT_EQ(rules[3]["source_labels"][0], "__meta_kubernetes_pod_container_port_number");
  EXPECT_EQ(rules[3]["regex"], "9100");
  for (const auto& r : rules) EXPECT_NE(r.value("target_label", ""), "endpoint") << r.dump();
}

TEST(Monitors, SelectorsNamespacesLabelsAndEndpointFields) {
  auto jobs = serviceMonitorScrapeConfigs(y(R"(
kind: ServiceMonitor
metadata: {name: api, namespace: shop}
spec:
  jobLabel: app.kubernetes.io/name
  targetLabels: [team]
  podTargetLabels: [version]
  namespaceSelector: {matchNames: [shop, billing]}
  attachMetadata: {node: true}
  sampleLimit: 1000
  selector:
    matchExpressions:
    - {key: tier, operator: In, values: [web, api]}
    - {key: canary, operator: NotIn, values: ["true"]}
    - {key: app.kubernetes.io/part-of, operator: Exists}
    - {key: legacy, operator: DoesNotExist}
  endpoints:
  - targetPort: 8080
    path: /stats
    scheme: HTTPS
    scrapeTimeout: 5s
    params: {format: [prometheus]}
    honorLabels: true
    tlsConfig: {insecureSkipVerify: true, serverName: api.shop}
    relabelings: [{sourceLabels: [__meta_kubernetes_pod_node_name], targetLabel: node_name, action: Replace}]
    metricRelabelings: [{sourceLabels: [__name__], regex: go_.*, action: drop}]
)"));
  ASSERT_EQ(jobs.size(), 1u);
  const Json& j = jobs[0];
  EXPECT_EQ(norm(j["kubernetes_sd_configs"]),
            norm(y("[{role: endpointslice, namespaces: {names: [shop, billing]}, attach_metadata: {node: true}}]")));
  EXPECT_EQ(j["metrics_path"], "/stats");
  EXPECT_EQ(j["scheme"], "https");
  EXPECT_EQ(j["scrape_timeout"], "5s");
  EXPECT_EQ(j["honor_labels"], true);
  EXPECT_EQ(j["sample_limit"], 1000);
  EXPECT_EQ(norm(j["tls_config"]), norm(y("{insecure_skip_verify: true, server_name: api.shop}")));
  EXPECT_EQ(norm(j["metric_relabel_configs"]), norm(y("[{source_labels: [__name__], regex: go_.*, action: drop}]")));
  const Json& r = j["relabel_configs"];
  EXPECT_EQ(norm(r[1]), norm(y("{action: keep, source_labels: [__meta_kubernetes_service_label_tier, __meta_kubernetes_service_labelpresent_tier], regex: (web|api);true}")));
  EXPECT_EQ(norm(r[2]), norm(y("{action: drop, source_labels: [__meta_kubernetes_service_label_canary, __meta_kubernetes_service_labelpresent_canary], regex: (true);true}")));
  EXPECT_EQ(norm(r[3]), norm(y("{action: keep, source_labels: [__meta_kubernetes_service_labelpresent_app_kubernetes_io_part_of], regex: 'true'}")));
  EXPECT_EQ(norm(r[4]), norm(y("{action: drop, source_labels: [__meta_kubernetes_service_labelpresent_legacy], regex: 'true'}")));
  EXPECT_EQ(norm(r[5]), norm(y("{action: keep, source_labels: [__meta_kubernetes_pod_container_port_number], regex: '8080'}")));
  std::vector<std::string> tail;
  for (std::size_t i = 13; i < r.size(); ++i) tail.push_back(r[i].value("target_label", r[i].value("action", "")));
  EXPECT_EQ(tail, (std::vector<std::string>{"team", "version", "job", "job", "endpoint", "node_name", "__tmp_hash", "__tmp_hash", "keep"}));
  EXPECT_EQ(r[16]["source_labels"][0], "__meta_kubernetes_service_label_app_kubernetes_io_name");
  EXPECT_EQ(r[17]["replacement"], "8080");
  EXPECT_EQ(r[18]["action"], "replace");  // lower-cased, as prometheus-operator writes it
  // any: true -> every namespace (no namespaces key)
  auto any = serviceMonitorScrapeConfigs(y("{kind: ServiceMonitor, metadata: {name: a, namespace: x}, spec: {namespaceSelector: {any: true}, endpoints: [{}]}}"));
  EXPECT_FALSE(any[0]["kubernetes_sd_configs"][0].contains("namespaces"));
}

TEST(Monitors, SecretsAreInlinedFromTheMonitorsNamespace) {
  std::map<std::string, Json> secrets = {
      {"shop/auth", {{"data", {{"user", base64Encode("scraper")}, {"pass", base64Encode("s3cret")}, {"token", base64Encode("tok")}}}}}};
  MonitorOptions o;
  std::vector<std::string> asked;
  o.secret = [&](const std::string& ns, const std::string& name) -> std::optional<Json> {
    asked.push_back(ns + "/" + name);
    auto it = secrets.find(ns + "/" + name);
    return it == secrets.end() ? std::nullopt : std::optional<Json>(it->second);
  };
  auto jobs = serviceMonitorScrapeConfigs(y(R"(
kind: ServiceMonitor
metadata: {name: api, namespace: shop}
spec:
  endpoints:
  - port: web
    basicAuth: {username: {name: auth, key: user}, password: {name: auth, key: pass}}
  - port: web
    authorization: {credentials: {name: auth, key: token}}
  - port: web
    bearerTokenSecret: {name: auth, key: token}
)"),
                                          o);
  ASSERT_EQ(jobs.size(), 3u);
  EXPECT_EQ(norm(jobs[0]["basic_auth"]), norm(y("{username: scraper, password: s3cret}")));
  EXPECT_EQ(norm(jobs[1]["authorization"]), norm(y("{type: Bearer, credentials: tok}")));
  EXPECT_EQ(norm(jobs[2]["authorization"]), norm(y("{type: Bearer, credentials: tok}")));
  for (const auto& a : asked) EXPECT_EQ(a, "shop/auth");
  try {
    serviceMonitorScrapeConfigs(y("{kind: ServiceMonitor, metadata: {name: api, namespace: shop}, spec: {endpoints: [{basicAuth: {password: {name: gone, key: p}}}]}}"), o);
    FAIL() << "a missing secret must refuse the monitor";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("ServiceMonitor shop/api: spec.endpoints[0].basicAuth.password: secret shop/gone not found"),
              std::string::npos) << e.what();
  }
  try {
    serviceMonitorScrapeConfigs(y("{kind: ServiceMonitor, metadata: {name: api, namespace: shop}, spec: {endpoints: [{basicAuth: {password: {name: auth, key: nope}}}]}}"), o);
    FAIL() << "a missing key must refuse the monitor";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("key nope not found in secret shop/auth"), std::string::npos) << e.what();
  }
  MonitorOptions deny;
  deny.denyFsAccess = true;
  EXPECT_THROW(serviceMonitorScrapeConfigs(y("{kind: ServiceMonitor, metadata: {name: f, namespace: shop}, spec: {endpoints: [{bearerTokenFile: /var/run/token}]}}"), deny),
               Error);
  EXPECT_NO_THROW(serviceMonitorScrapeConfigs(y("{kind: ServiceMonitor, metadata: {name: f, namespace: shop}, spec: {endpoints: [{bearerTokenFile: /var/run/token}]}}")));
}

TEST(Monitors, WhatIsNotGeneratedYetIsRefusedNamingTheField) {
  try {
    serviceMonitorScrapeConfigs(y("{kind: ServiceMonitor, metadata: {name: e, namespace: shop}, spec: {serviceDiscoveryRole: Pods, endpoints: [{}]}}"));
    FAIL() << "an unknown role";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("ServiceMonitor shop/e: spec.serviceDiscoveryRole: must be Endpoints or EndpointSlice, not \"Pods\""),
              std::string::npos) << e.what();
  }
  EXPECT_THROW(podMonitorScrapeConfigs(y("{kind: PodMonitor, metadata: {name: p, namespace: shop}, spec: {selectorMechanism: RoleSelector, podMetricsEndpoints: [{}]}}")),
               Error);
  EXPECT_THROW(serviceMonitorScrapeConfigs(y("{kind: ServiceMonitor, metadata: {name: t, namespace: shop}, spec: {endpoints: [{tlsConfig: {ca: {configMap: {name: c, key: k}}}}]}}")),
               Error);
}

TEST(Monitors, ProbeWithStaticTargetsGoesThroughTheProber) {
  auto jobs = probeScrapeConfigs(y(R"(
kind: Probe
metadata: {name: web, namespace: shop}
spec:
  jobName: blackbox
  module: http_2xx
  interval: 30s
  prober: {url: blackbox.monitoring:9115}
  targets:
    staticConfig:
      static: [https://shop.example.com]
      labels: {env: prod}
)"));
  ASSERT_EQ(jobs.size(), 1u);
  const Json& j = jobs[0];
  EXPECT_EQ(j["job_name"], "probe/shop/web");
  EXPECT_EQ(j["metrics_path"], "/probe");
  EXPECT_EQ(j["honor_timestamps"], true);
  EXPECT_EQ(norm(j["params"]), norm(y("{module: [http_2xx]}")));
  EXPECT_EQ(norm(j["static_configs"]), norm(y("[{targets: [https://shop.example.com], labels: {env: prod, namespace: shop}}]")));
  ScrapeConfig sc = parseScrapeConfig(j, y("{scrape_interval: 30s}"), "test", 0);
  Labels l = sc.staticConfigs[0].labels;
  l.set("__address__", sc.staticConfigs[0].targets[0]);
  l.set("job", sc.jobName);
  l.set("__tmp_disable_sharding", "true");
  ASSERT_TRUE(relabel(sc.relabelConfigs, l));
  EXPECT_EQ(l.get("__address__"), "blackbox.monitoring:9115");  // the prober is scraped
  EXPECT_EQ(l.get("__param_target"), "https://shop.example.com");
  EXPECT_EQ(l.get("instance"), "https://shop.example.com");
  EXPECT_EQ(l.get("job"), "blackbox");
  EXPECT_EQ(l.get("namespace"), "shop");
  EXPECT_THROW(probeScrapeConfigs(y("{kind: Probe, metadata: {name: i, namespace: shop}, spec: {targets: {staticConfig: {static: [a]}}}}")), Error);
}

// prometheus-operator's golden ProbeIngressSDConfigGeneration: the ingress role, the selector on ingress
// labels, scheme://host/path as the probed target.
TEST(Monitors, ProbeWithIngressTargets) {
  auto jobs = probeScrapeConfigs(y(R"(
kind: Probe
metadata: {name: testprobe1, namespace: default, labels: {group: group1}}
spec:
  prober: {scheme: http, url: blackbox.exporter.io, path: /probe}
  module: http_2xx
  targets:
    ingress:
      selector: {matchLabels: {prometheus.io/probe: "true"}}
      namespaceSelector: {any: true}
      relabelingConfigs: [{targetLabel: foo, replacement: bar, action: replace}]
)"));
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_EQ(norm(jobs[0]), norm(y(R"(
job_name: probe/default/testprobe1
honor_timestamps: true
metrics_path: /probe
scheme: http
params: {module: [http_2xx]}
kubernetes_sd_configs: [{role: ingress}]
relabel_configs:
- {source_labels: [job], target_label: __tmp_prometheus_job_name}
- {action: keep, source_labels: [__meta_kubernetes_ingress_label_prometheus_io_probe, __meta_kubernetes_ingress_labelpresent_prometheus_io_probe], regex: (true);true}
- {source_labels: [__meta_kubernetes_ingress_scheme, __address__, __meta_kubernetes_ingress_path], separator: ;, regex: (.+);(.+);(.+), target_label: __param_target, replacement: "${1}://${2}${3}", action: replace}
- {source_labels: [__meta_kubernetes_namespace], target_label: namespace}
- {source_labels: [__meta_kubernetes_ingress_name], target_label: ingress}
- {source_labels: [__address__], separator: ;, regex: (.*), target_label: __tmp_ingress_address, replacement: $1, action: replace}
- {source_labels: [__param_target], target_label: instance}
- {target_label: __address__, replacement: blackbox.exporter.io}
- {target_label: foo, replacement: bar, action: replace}
- {source_labels: [__param_target, __tmp_hash], target_label: __tmp_hash, regex: (.+);, replacement: $1, action: replace}
- {source_labels: [__tmp_hash], target_label: __tmp_hash, modulus: 1, action: hashmod}
- {source_labels: [__tmp_hash, __tmp_disable_sharding], regex: $(SHARD);|.+;.+, action: keep}
)"))) << jobs[0].dump(1);
  // through the ingress role: the selected ingress's host and path are probed through the prober
  ScrapeConfig sc = parseScrapeConfig(jobs[0], y("{scrape_interval: 30s}"), "test", 0);
  ASSERT_EQ(sc.kubernetesSdConfigs.size(), 1u);
  std::vector<std::string> probed;
  for (const char* doc : {"{metadata: {name: shop, namespace: web, labels: {prometheus.io/probe: 'true'}}, spec: {tls: [{hosts: [shop.example]}], rules: [{host: shop.example, http: {paths: [{path: /health}]}}]}}",
                          "{metadata: {name: other, namespace: web}, spec: {rules: [{host: other.example}]}}"})
    for (const auto& t : ingressTargets(y(doc), sc.kubernetesSdConfigs[0], {})) {
      Labels l;
      for (const auto& [k, v] : t) l.set(k, v);
      l.set("job", sc.jobName);
      l.set("__tmp_disable_sharding", "true");
      if (relabel(sc.relabelConfigs, l))
        probed.push_back(std::string(l.get("__address__")) + " target=" + std::string(l.get("__param_target")) +
                         " instance=" + std::string(l.get("instance")) + " ingress=" + std::string(l.get("ingress")) +
                         " namespace=" + std::string(l.get("namespace")));
    }
  EXPECT_EQ(probed, std::vector<std::string>{
                        "blackbox.exporter.io target=https://shop.example/health instance=https://shop.example/health ingress=shop namespace=web"});
}

TEST(Monitors, ScrapeConfigCrKeepsItsSdConfigs) {
  auto jobs = scrapeConfigCrScrapeConfigs(y(R"(
kind: ScrapeConfig
metadata: {name: nodes, namespace: shop}
spec:
  jobName: node-exporter
  scrapeInterval: 15s
  metricsPath: /metrics
  staticConfigs: [{targets: ['10.0.0.1:9100'], labels: {rack: r1}}]
  kubernetesSDConfigs:
  - role: Node
    selectors: [{role: Node, label: 'kubernetes.io/os=linux'}]
  - role: Pod
    namespaces: {names: [shop], ownNamespace: false}
    attachMetadata: {node: true}
  relabelings: [{sourceLabels: [__meta_kubernetes_node_name], targetLabel: node}]
)"));
  ASSERT_EQ(jobs.size(), 1u);
  const Json& j = jobs[0];
  EXPECT_EQ(j["job_name"], "scrapeConfig/shop/nodes");
  EXPECT_EQ(j["scrape_interval"], "15s");
  EXPECT_EQ(norm(j["static_configs"]), norm(y("[{targets: ['10.0.0.1:9100'], labels: {rack: r1}}]")));
  EXPECT_EQ(norm(j["kubernetes_sd_configs"]),
            norm(y("[{role: node, selectors: [{role: node, label: 'kubernetes.io/os=linux'}]}, "
                   "{role: pod, namespaces: {names: [shop], own_namespace: false}, attach_metadata: {node: true}}]")));
  const Json& r = j["relabel_configs"];
  ASSERT_EQ(r.size(), 3u);  // no sharding rules with one shard
  EXPECT_EQ(norm(r[1]), norm(y("{target_label: job, action: replace, replacement: node-exporter}")));
  EXPECT_EQ(r[2]["target_label"], "node");
  ScrapeConfig sc = parseScrapeConfig(j, y("{scrape_interval: 30s}"), "test", 0);
  EXPECT_EQ(sc.kubernetesSdConfigs.size(), 2u);
  try {
    scrapeConfigCrScrapeConfigs(y("{kind: ScrapeConfig, metadata: {name: c, namespace: shop}, spec: {consulSDConfigs: [{server: 'c:8500'}]}}"));
    FAIL() << "consul SD is not built";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("ScrapeConfig shop/c: spec.consulSDConfigs: is not available yet"), std::string::npos) << e.what();
  }
}

TEST(Monitors, AnInvalidRelabelingNamesItsField) {
  try {
    podMonitorScrapeConfigs(y("{kind: PodMonitor, metadata: {name: p, namespace: shop}, spec: {podMetricsEndpoints: [{port: a}, {port: b, relabelings: [{action: keep}, {sourceLabels: [a], regex: '(', action: keep}]}]}}"));
    FAIL() << "an invalid regex must refuse the monitor";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("PodMonitor shop/p: spec.podMetricsEndpoints[1].relabelings[1]: invalid regex"), std::string::npos)
        << e.what();
  }
}

// The generated rules run over what endpointslice discovery finds: the Service selector, the port, a
// failed pod, and the labels Prometheus would scrape the target with.
TEST(Monitors, GeneratedRulesSelectWhatPrometheusOperatorMeans) {
  Json sm = y(R"(
kind: ServiceMonitor
metadata: {name: web, namespace: shop}
spec:
  selector: {matchLabels: {app: web}}
  endpoints: [{port: metrics}]
)");
  ScrapeConfig sc = parseScrapeConfig(serviceMonitorScrapeConfigs(sm)[0], y("{scrape_interval: 30s}"), "test", 0);
  EXPECT_EQ(sc.scrapeInterval(), "30s");
  EXPECT_EQ(sc.scrapeTimeout(), "10s");
  ObjectMap services = {{"shop/web", y("{metadata: {name: web, namespace: shop, labels: {app: web}}, spec: {clusterIP: 10.96.0.9}}")},
                        {"shop/db", y("{metadata: {name: db, namespace: shop, labels: {app: db}}, spec: {clusterIP: 10.96.0.8}}")}};
  ObjectMap pods = {{"shop/web-1", y("{metadata: {name: web-1, namespace: shop}, spec: {nodeName: n1, containers: [{name: app, ports: [{name: metrics, containerPort: 9100}]}]}, status: {phase: Running, podIP: 10.0.0.1}}")},
                    {"shop/web-2", y("{metadata: {name: web-2, namespace: shop}, spec: {nodeName: n1, containers: [{name: app, ports: [{name: metrics, containerPort: 9100}]}]}, status: {phase: Failed, podIP: 10.0.0.2}}")}};
  auto slice = [](const std::string& name, const std::string& svc, const std::string& ip, const std::string& pod) {
    return y("{metadata: {name: " + name + ", namespace: shop, labels: {kubernetes.io/service-name: " + svc + "}}, addressType: IPv4, " +
             "ports: [{name: metrics, port: 9100}, {name: http, port: 80}], endpoints: [{addresses: [" + ip +
             "], conditions: {ready: true}, targetRef: {kind: Pod, name: " + pod + ", namespace: shop}}]}");
  };
  ObjectMap slices = {{"shop/web-a", slice("web-a", "web", "10.0.0.1", "web-1")},
                      {"shop/web-b", slice("web-b", "web", "10.0.0.2", "web-2")},
                      {"shop/db-a", slice("db-a", "db", "10.0.0.3", "db-1")}};
  KubeObjects o;
  o.pods = &pods;
  o.services = &services;
  o.endpointSlices = &slices;
  auto groups = kubernetesTargetGroups(sc.kubernetesSdConfigs[0], o);
  PromConfig cfg;
  cfg.scrapeConfigs.push_back(sc);
  std::vector<std::vector<TargetGroup>> extra = {groups};
  auto targets = buildTargets(cfg, ".", true, &extra);
  ASSERT_EQ(targets.size(), 1u);  // db's slice: not selected; web-2: failed; port http: not the endpoint's
  EXPECT_EQ(targets[0].address(), "10.0.0.1:9100");
  // the labels Prometheus scrapes it with
  for (const auto& g : groups) {
    for (const auto& addr : g.targets) {
      if (addr != "10.0.0.1:9100") continue;
      Labels l = g.labels;
      l.set("__address__", addr);
      l.set("job", sc.jobName);
      l.set("__tmp_disable_sharding", "true");
      ASSERT_TRUE(relabel(sc.relabelConfigs, l));
      EXPECT_EQ(l.get("job"), "web");
      EXPECT_EQ(l.get("namespace"), "shop");
      EXPECT_EQ(l.get("service"), "web");
      EXPECT_EQ(l.get("pod"), "web-1");
      EXPECT_EQ(l.get("container"), "app");
      EXPECT_EQ(l.get("endpoint"), "metrics");
      EXPECT_EQ(l.get("__tmp_prometheus_job_name"), "serviceMonitor/shop/web/0");
    }
  }
}

}  // namespace
}  // namespace otel::prom
