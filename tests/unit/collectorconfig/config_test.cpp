// Port inference, config defaulting and the target-allocator rewrite.
#include <gtest/gtest.h>

#include "lib/collectorconfig/config.h"
#include "lib/collectorconfig/ta_rewrite.h"
#include "lib/core/yaml.h"

namespace otel::collectorconfig {
namespace {

Json cfg(const std::string& receivers, const std::string& pipelineReceivers) {
  return parseYaml("{receivers: " + receivers + ", exporters: {debug: {}}, service: {pipelines: {traces: {receivers: " +
                   pipelineReceivers + ", exporters: [debug]}}}}");
}

std::string names(const std::vector<Json>& ports) {
  std::string s;
  for (const auto& p : ports) s += p["name"].get<std::string>() + ":" + std::to_string(p["port"].get<int>()) + ":" +
                                   p["protocol"].get<std::string>() + " ";
  return s;
}

TEST(Ports, KnownDefaultsAndProtocols) {
  Json c = cfg("{otlp: {protocols: {grpc: {}, http: {endpoint: \"0.0.0.0:5318\"}}}, 'otlp/2': {protocols: {grpc: {}}}, "
               "jaeger: {protocols: {thrift_compact: {}}}, zipkin: {}, statsd: {}, carbon: {endpoint: ':2004'}}",
               "[otlp, otlp/2, jaeger, zipkin, statsd, carbon]");
  EXPECT_EQ(names(receiverPorts(c)),
            "carbon:2004:TCP otlp-2-grpc:4317:TCP otlp-grpc:4317:TCP otlp-http:5318:TCP port-6831:6831:UDP "
            "statsd:8125:UDP zipkin:9411:TCP ");
  EXPECT_EQ(receiverPorts(c)[1]["appProtocol"], "grpc");  // "jaeger-thrift_compact" > 15 chars -> port-6831
}

TEST(Ports, UnknownReceiversOnlyWithPortAndScrapersNever) {
  Json c = cfg("{custom: {endpoint: 'localhost:1234'}, other: {}, redis: {endpoint: 'redis:6379'}, filelog: {}}",
               "[custom, other, redis, filelog]");
  EXPECT_EQ(names(receiverPorts(c)), "custom:1234:TCP ");
}

TEST(Ports, OnlyEnabledComponents) {
  Json c = cfg("{otlp: {protocols: {grpc: {}}}, zipkin: {}}", "[otlp]");
  EXPECT_EQ(names(receiverPorts(c)), "otlp-grpc:4317:TCP ");
}

TEST(Ports, NamesLongerThan15OrInvalidBecomePortNum) {
  EXPECT_EQ(portName("a-very-long-receiver", 1234), "port-1234");
  EXPECT_EQ(portName("otlp/My", 1), "port-1");
  EXPECT_EQ(portName("splunk_hec/x", 8088), "splunk-hec-x");
  EXPECT_EQ(portFromEndpoint("${env:POD_IP}:4317"), 4317);
  EXPECT_EQ(portFromEndpoint("localhost"), 0);
}

TEST(Ports, UnknownProtocolThrows) {
  EXPECT_THROW(receiverPorts(cfg("{otlp: {protocols: {quic: {}}}}", "[otlp]")), std::exception);
}

TEST(Ports, ExportersAndExtensions) {
  Json c = parseYaml("{receivers: {}, exporters: {prometheus: {endpoint: '0.0.0.0:9464'}, debug: {}}, extensions: "
                     "{health_check: {}}, service: {extensions: [health_check], pipelines: {m: {receivers: [], exporters: "
                     "[prometheus, debug]}}}}");
  EXPECT_EQ(names(exporterPorts(c)), "prometheus:9464:TCP ");
  EXPECT_EQ(names(extensionPorts(c)), "health-check:13133:TCP ");
  EXPECT_EQ(healthProbe(c)["httpGet"]["port"], 13133);
}

TEST(Defaults, EndpointsAndTelemetry) {
  Json c = cfg("{otlp: null, zipkin: {endpoint: ':9999'}, mine: {}}", "[otlp, zipkin, mine]");
  auto events = applyConfigDefaults(c);
  EXPECT_EQ(c["receivers"]["otlp"]["protocols"]["grpc"]["endpoint"], "0.0.0.0:4317");
  EXPECT_EQ(c["receivers"]["otlp"]["protocols"]["http"]["endpoint"], "0.0.0.0:4318");
  EXPECT_EQ(c["receivers"]["zipkin"]["endpoint"], "0.0.0.0:9999");
  EXPECT_EQ(c["receivers"]["mine"], Json::object());
  EXPECT_EQ(c["service"]["telemetry"]["metrics"]["readers"][0]["pull"]["exporter"]["prometheus"]["port"], 8888);
  ASSERT_EQ(events.size(), 1u);
  Json withAddress = parseYaml("{service: {telemetry: {metrics: {address: '0.0.0.0:9000'}}}}");
  applyConfigDefaults(withAddress);
  EXPECT_FALSE(withAddress["service"]["telemetry"]["metrics"].contains("readers"));
  EXPECT_EQ(metricsPort(withAddress), 9000);
}

TEST(TargetAllocatorRewrite, DropsScrapeConfigsAndPointsAtTheAllocator) {
  Json c = parseYaml("{receivers: {prometheus: {config: {global: {scrape_interval: 1m}, scrape_configs: [{job_name: j, "
                     "relabel_configs: [{replacement: '$$1'}]}]}}}}");
  Json r = rewriteForTargetAllocator(c, "x-targetallocator", "15s", false);
  EXPECT_FALSE(r["receivers"]["prometheus"]["config"].contains("scrape_configs"));
  EXPECT_EQ(r["receivers"]["prometheus"]["config"]["global"]["scrape_interval"], "1m");
  EXPECT_EQ(r["receivers"]["prometheus"]["target_allocator"],
            parseYaml("{endpoint: 'http://x-targetallocator:80', interval: 15s, collector_id: '${POD_NAME}'}"));
  Json m = rewriteForTargetAllocator(c, "x-targetallocator", "", true);
  EXPECT_EQ(m["receivers"]["prometheus"]["target_allocator"]["endpoint"], "https://x-targetallocator:443");
  EXPECT_EQ(m["receivers"]["prometheus"]["target_allocator"]["tls"]["ca_file"], "/tls/ca.crt");
  Json prom = promConfigForTargetAllocator(c);
  EXPECT_EQ(prom["scrape_configs"][0]["relabel_configs"][0]["replacement"], "$1");
}

TEST(TargetAllocatorRewrite, NamedReceiverWhenItIsTheOnlyOne) {
  EXPECT_EQ(prometheusReceiverKey(parseYaml("{receivers: {prometheus/app: {}}}")), "prometheus/app");
  EXPECT_EQ(prometheusReceiverKey(parseYaml("{receivers: {prometheus/a: {}, prometheus/b: {}}}")), "");
  EXPECT_EQ(prometheusReceiverKey(parseYaml("{receivers: {prometheus/a: {}, prometheus: {}}}")), "prometheus");
}

TEST(Rbac, ComponentRules) {
  Json c = parseYaml("{receivers: {kubeletstats: {}}, processors: {k8sattributes: {}}, exporters: {debug: {}}, service: "
                     "{pipelines: {m: {receivers: [kubeletstats], processors: [k8sattributes], exporters: [debug]}}}}");
  auto rules = rbacRules(c);
  ASSERT_EQ(rules.size(), 3u);
  EXPECT_EQ(rules[0]["resources"], Json::array({"pods", "namespaces"}));
  EXPECT_EQ(rules[1]["resources"], Json::array({"replicasets"}));
  EXPECT_EQ(rules[2]["resources"], Json::array({"nodes/stats"}));
  EXPECT_EQ(componentEnv(c).at(0)["name"], "K8S_NODE_NAME");
}

}  // namespace
}  // namespace otel::collectorconfig
