// v1alpha1 <-> v1beta1 conversion rules and webhook defaulting.
#include <gtest/gtest.h>

#include "lib/api/collector.h"
#include "lib/api/collector_yaml.h"
#include "lib/api/targetallocator.h"
#include "lib/core/yaml.h"

namespace otel::api {
namespace {

Json alpha(const std::string& specYaml) {
  Json cr = parseYaml("{apiVersion: opentelemetry.io/v1alpha1, kind: OpenTelemetryCollector, metadata: {name: a}}");
  cr["spec"] = parseYaml(specYaml);
  return cr;
}

TEST(Conversion, AlphaConfigStringBecomesStructured) {
  Json b = toV1beta1(alpha("{config: \"receivers:\\n  otlp: {}\\nexporters:\\n  debug: {}\\n\"}"));
  EXPECT_EQ(b["apiVersion"], kV1beta1);
  EXPECT_TRUE(b["spec"]["config"]["receivers"].contains("otlp"));
}

TEST(Conversion, UnparsableConfigGivesEmptyConfigInsteadOfFailing) {
  Json b = toV1beta1(alpha("{config: \"receivers: [unclosed\"}"));
  EXPECT_EQ(b["spec"]["config"].dump(), R"({"receivers":{},"exporters":{},"service":{"pipelines":{}}})");
}

TEST(Conversion, NilMonitorSelectorsBecomeEmptySelectors) {
  Json b = toV1beta1(alpha("{config: \"\", targetAllocator: {enabled: true, prometheusCR: {enabled: true, podMonitorSelector: {a: b}}}}"));
  const Json& pcr = b["spec"]["targetAllocator"]["prometheusCR"];
  EXPECT_EQ(pcr["serviceMonitorSelector"], Json::object());
  EXPECT_EQ(pcr["podMonitorSelector"]["matchLabels"]["a"], "b");
  Json back = toV1alpha1(b);
  EXPECT_EQ(back["spec"]["targetAllocator"]["prometheusCR"]["podMonitorSelector"]["a"], "b");
}

TEST(Conversion, DeprecatedReplicaFieldsAndUpdateStrategy) {
  Json b = toV1beta1(alpha("{minReplicas: 2, maxReplicas: 5, updateStrategy: {type: OnDelete}, config: \"\"}"));
  EXPECT_EQ(b["spec"]["autoscaler"]["minReplicas"], 2);
  EXPECT_EQ(b["spec"]["autoscaler"]["maxReplicas"], 5);
  EXPECT_FALSE(b["spec"].contains("minReplicas"));
  EXPECT_EQ(b["spec"]["daemonSetUpdateStrategy"]["type"], "OnDelete");
  Json a = toV1alpha1(b);
  EXPECT_EQ(a["spec"]["updateStrategy"]["type"], "OnDelete");
}

TEST(Conversion, RoundTripKeepsUnknownFields) {
  Json in = alpha("{futureField: {x: 1}, mode: daemonset, config: \"receivers:\\n  otlp: {}\\n\"}");
  in["metadata"]["annotations"] = {{"keep", "me"}};
  Json round = toV1alpha1(toV1beta1(in));
  EXPECT_EQ(round["spec"]["futureField"]["x"], 1);
  EXPECT_EQ(round["metadata"]["annotations"]["keep"], "me");
  EXPECT_EQ(round["spec"]["mode"], "daemonset");
  EXPECT_TRUE(parseYaml(round["spec"]["config"].get<std::string>())["receivers"].contains("otlp"));
}

TEST(Conversion, ConvertCollectorRejectsUnknownVersion) {
  EXPECT_THROW(convertCollector(alpha("{}"), "opentelemetry.io/v2"), std::exception);
  EXPECT_EQ(convertCollector(alpha("{config: \"\"}"), kV1beta1)["apiVersion"], kV1beta1);
}

TEST(Defaulting, SpecDefaultsAsUpstreamWebhook) {
  Json cr = parseYaml("{apiVersion: opentelemetry.io/v1beta1, kind: OpenTelemetryCollector, metadata: {name: d}, spec: "
                      "{autoscaler: {maxReplicas: 4}, ingress: {type: ingress}, targetAllocator: {enabled: true}, config: {}}}");
  defaultCollectorSpec(cr);
  EXPECT_EQ(cr["spec"]["mode"], "deployment");
  EXPECT_EQ(cr["spec"]["upgradeStrategy"], "automatic");
  EXPECT_EQ(cr["spec"]["replicas"], 1);
  EXPECT_EQ(cr["spec"]["managementState"], "managed");
  EXPECT_EQ(cr["spec"]["targetAllocator"]["replicas"], 1);
  EXPECT_EQ(cr["spec"]["autoscaler"]["minReplicas"], 1);
  EXPECT_EQ(cr["spec"]["autoscaler"]["targetCPUUtilization"], 90);
  EXPECT_EQ(cr["spec"]["ingress"]["ruleType"], "path");
  EXPECT_EQ(cr["spec"]["networkPolicy"]["enabled"], true);
  EXPECT_EQ(cr["metadata"]["labels"], Json::object());
  Json route = parseYaml("{spec: {ingress: {type: route}}}");
  defaultCollectorSpec(route);
  EXPECT_EQ(route["spec"]["ingress"]["route"]["termination"], "edge");
}

TEST(Defaulting, TargetAllocatorCrdDefaultsOnlyUnderExistingSpec) {
  Json noSpec = parseYaml("{apiVersion: opentelemetry.io/v1alpha1, kind: TargetAllocator, metadata: {name: t}, spec: null}");
  defaultTargetAllocator(noSpec);
  EXPECT_TRUE(noSpec["spec"].is_null());
  Json ta = parseYaml("{apiVersion: opentelemetry.io/v1alpha1, kind: TargetAllocator, metadata: {name: t}, spec: {prometheusCR: {enabled: true}}}");
  defaultTargetAllocator(ta);
  EXPECT_EQ(ta["spec"]["filterStrategy"], "relabel-config");
  EXPECT_EQ(ta["spec"]["prometheusCR"]["scrapeInterval"], "30s");
  EXPECT_EQ(ta["spec"]["prometheusCR"]["podMonitorNamespaceSelector"], Json::object());
  EXPECT_FALSE(ta["spec"]["prometheusCR"].contains("podMonitorSelector"));
}

TEST(ConfigYaml, GoccyLayoutAndGoJson) {
  Json cfg = parseYaml("{receivers: {otlp: {protocols: {grpc: {endpoint: \"0.0.0.0:4317\"}}}}, exporters: {debug: {}}, "
                       "service: {pipelines: {traces: {receivers: [otlp], exporters: [debug]}}}, unknownTop: 1}");
  EXPECT_EQ(collectorConfigYaml(cfg),
            "receivers:\n  otlp:\n    protocols:\n      grpc:\n        endpoint: 0.0.0.0:4317\nexporters:\n  debug: {}\n"
            "service:\n  pipelines:\n    traces:\n      exporters:\n        - debug\n      receivers:\n        - otlp\n");
  EXPECT_EQ(configGoJson(cfg),
            R"({"receivers":{"otlp":{"protocols":{"grpc":{"endpoint":"0.0.0.0:4317"}}}},"exporters":{"debug":{}},)"
            R"("service":{"pipelines":{"traces":{"exporters":["debug"],"receivers":["otlp"]}}}})");
  EXPECT_EQ(goYaml(Json{{"a", "true"}, {"b", ""}, {"c", "x: y"}}, 2), "a: \"true\"\nb: \"\"\nc: \"x: y\"\n");
}

}  // namespace
}  // namespace otel::api

namespace otel::api {
namespace {

TEST(Readiness, FromControllerStatus) {
  std::string progress;
  EXPECT_EQ(collectorReadiness(parseYaml("{metadata: {name: a}}"), &progress), Readiness::Pending);
  EXPECT_EQ(progress, "waiting for the controller");
  Json ready = parseYaml("{metadata: {generation: 2}, status: {observedGeneration: 2, scale: {statusReplicas: 2/2}, "
                         "conditions: [{type: Ready, status: 'True', reason: Reconciled}]}}");
  EXPECT_EQ(collectorReadiness(ready, &progress), Readiness::Ready);
  EXPECT_EQ(progress, "ready (2/2 replicas)");
  ready["metadata"]["generation"] = 3;  // the controller has not seen the latest spec yet
  EXPECT_EQ(collectorReadiness(ready), Readiness::Pending);
  Json failed = parseYaml("{status: {conditions: [{type: Ready, status: 'False', reason: ReconcileError, message: boom}]}}");
  EXPECT_EQ(collectorReadiness(failed, &progress), Readiness::Failed);
  EXPECT_EQ(progress, "boom");
}

TEST(Readiness, FromUpstreamOperatorStatusReplicas) {  // upstream sets no conditions
  std::string progress;
  Json partial = parseYaml("{metadata: {generation: 1}, status: {scale: {replicas: 3, statusReplicas: 1/3}}}");
  EXPECT_EQ(collectorReadiness(partial, &progress), Readiness::Pending);
  EXPECT_EQ(progress, "not ready yet (1/3 replicas)");
  Json all = parseYaml("{metadata: {generation: 1}, status: {scale: {replicas: 3, statusReplicas: 3/3}}}");
  EXPECT_EQ(collectorReadiness(all, &progress), Readiness::Ready);
  EXPECT_EQ(progress, "ready (3/3 replicas)");
  Json none = parseYaml("{metadata: {generation: 1}, status: {scale: {statusReplicas: 0/0}}}");
  EXPECT_EQ(collectorReadiness(none), Readiness::Pending);
}

}  // namespace
}  // namespace otel::api
