// Every collector/TargetAllocator admission message of upstream's webhook (reference §6), each
// produced by an input, word for word; plus our two documented improvements.
#include <gtest/gtest.h>

#include "lib/api/collector.h"
#include "lib/api/targetallocator.h"
#include "lib/collectorconfig/admission.h"
#include "lib/core/yaml.h"

namespace otel::api {
namespace {

const char* kBase = R"(apiVersion: opentelemetry.io/v1beta1
kind: OpenTelemetryCollector
metadata: {name: c, namespace: ns}
spec:
  config:
    receivers:
      otlp:
        protocols: {grpc: {}}
    exporters: {debug: {}}
    service:
      pipelines:
        traces: {receivers: [otlp], exporters: [debug]}
)";

const char* kPromConfig = R"(
    receivers:
      prometheus:
        config:
          scrape_configs:
            - job_name: x
              static_configs: [{targets: ["a:1"]}]
    exporters: {debug: {}}
    service:
      pipelines:
        metrics: {receivers: [prometheus], exporters: [debug]}
)";

// The base collector with `spec` entries merged in (YAML flow/block text of the spec keys).
Json collector(const std::string& specYaml, const char* configYaml = nullptr) {
  Json cr = parseYaml(kBase);
  Json extra = parseYaml(specYaml.empty() ? "{}" : specYaml);
  for (auto it = extra.begin(); it != extra.end(); ++it) cr["spec"][it.key()] = it.value();
  if (configYaml) cr["spec"]["config"] = parseYaml(configYaml);
  return cr;
}

Diagnostics admit(Json cr, const Json* old = nullptr, collectorconfig::AdmissionOptions opts = {}) {
  Json oldDefaulted;
  if (old) {
    oldDefaulted = *old;
    collectorconfig::defaultCollector(oldDefaulted);
  }
  try {
    collectorconfig::defaultCollector(cr, old ? &oldDefaulted : nullptr);
  } catch (const std::exception&) {
    // a config the defaulter cannot handle (unknown protocol) is still validated as written
  }
  return collectorconfig::validateCollector(cr, old ? &oldDefaulted : nullptr, opts);
}

std::string firstError(const Json& cr, const Json* old = nullptr, collectorconfig::AdmissionOptions opts = {}) {
  auto d = admit(cr, old, opts);
  return d.errors.empty() ? "" : d.errors.front();
}

struct Case {
  const char* name;
  std::string spec;
  const char* config;
  std::string message;
};

class Messages : public ::testing::TestWithParam<Case> {};

TEST_P(Messages, ExactUpstreamMessage) {
  const Case& c = GetParam();
  EXPECT_EQ(firstError(collector(c.spec, c.config)), c.message);
}

const std::string kAuto = "the OpenTelemetry Spec autoscale configuration is incorrect, ";
const std::string kProm = "the OpenTelemetry Spec Prometheus configuration is incorrect, ";
const std::string kSts = "{mode: statefulset, targetAllocator: {enabled: true}}";

INSTANTIATE_TEST_SUITE_P(
    Collector, Messages,
    ::testing::Values(
        Case{"vct", "{mode: deployment, volumeClaimTemplates: [{metadata: {name: v}}]}", nullptr,
             "the OpenTelemetry Collector mode is set to deployment, which does not support the attribute 'volumeClaimTemplates'"},
        Case{"pvcRetention", "{mode: daemonset, persistentVolumeClaimRetentionPolicy: {whenDeleted: Delete}}", nullptr,
             "the OpenTelemetry Collector mode is set to daemonset, which does not support the attribute "
             "'persistentVolumeClaimRetentionPolicy'"},
        Case{"tolerations", "{mode: sidecar, tolerations: [{key: k}]}", nullptr,
             "the OpenTelemetry Collector mode is set to sidecar, which does not support the attribute 'tolerations'"},
        Case{"priorityClassName", "{mode: sidecar, priorityClassName: high}", nullptr,
             "the OpenTelemetry Collector mode is set to sidecar, which does not support the attribute 'priorityClassName'"},
        Case{"affinity", "{mode: sidecar, affinity: {nodeAffinity: {}}}", nullptr,
             "the OpenTelemetry Collector mode is set to sidecar, which does not support the attribute 'affinity'"},
        Case{"additionalContainers", "{mode: sidecar, additionalContainers: [{name: x}]}", nullptr,
             "the OpenTelemetry Collector mode is set to sidecar, which does not support the attribute 'AdditionalContainers'"},
        Case{"taMode", "{mode: deployment, targetAllocator: {enabled: true}}", kPromConfig,
             "the OpenTelemetry Collector mode is set to deployment, which does not support the target allocation deployment"},
        Case{"taDaemonSet", "{mode: daemonset, targetAllocator: {enabled: true}}", kPromConfig,
             "the OpenTelemetry Collector mode is set to daemonset, which must be used with target allocation strategy per-node "},
        Case{"taPerNode", "{mode: statefulset, targetAllocator: {enabled: true, allocationStrategy: per-node}}", kPromConfig,
             "target allocation strategy per-node is only supported in OpenTelemetry Collector mode daemonset"},
        Case{"unknownStrategy", "{mode: statefulset, targetAllocator: {enabled: true, allocationStrategy: round-robin}}",
             kPromConfig,
             "spec.targetAllocator.allocationStrategy: Unsupported value: \"round-robin\": supported values: "
             "\"least-weighted\", \"consistent-hashing\", \"per-node\", \"rendezvous\""},
        Case{"noPrometheus", kSts, nullptr, kProm + "no prometheus available as part of the configuration"},
        Case{"onlyNamed", kSts,
             "{receivers: {prometheus/a: {config: {}}, prometheus/b: {config: {}}}, exporters: {debug: {}}, service: {pipelines: "
             "{metrics: {receivers: [prometheus/a, prometheus/b], exporters: [debug]}}}}",
             kProm + "the target allocator requires a receiver named exactly \"prometheus\", but only named instances were found: "
                     "prometheus/a, prometheus/b; rename one of them to \"prometheus\""},
        Case{"noReceivers", kSts, "{exporters: {debug: {}}, service: {pipelines: {}}}",
             kProm + "no receivers available as part of the configuration"},
        Case{"promNotMap", kSts, "{receivers: {prometheus: 1}, exporters: {debug: {}}, service: {pipelines: {}}}",
             kProm + "prometheus property in the configuration doesn't contain valid prometheus"},
        Case{"scrapeNotList", kSts,
             "{receivers: {prometheus: {config: {scrape_configs: 1}}}, exporters: {debug: {}}, service: {pipelines: {}}}",
             kProm + "scrape_configs must be a list in the config"},
        Case{"noScrape", kSts,
             "{receivers: {prometheus: {config: {scrape_configs: []}}}, exporters: {debug: {}}, service: {pipelines: {}}}",
             kProm + "either at least one scrape config needs to be defined or PrometheusCR needs to be enabled"},
        Case{"mtlsNoCertManager", "{mode: statefulset, targetAllocator: {enabled: true, mtls: {enabled: true}}}", kPromConfig,
             "mTLS is enabled with useCertManager but cert-manager is not available; install cert-manager and restart the "
             "operator, or set useCertManager to false"},
        Case{"mtlsCerts",
             "{mode: statefulset, targetAllocator: {enabled: true, mtls: {enabled: true, useCertManager: false}}}", kPromConfig,
             "mTLS is enabled with useCertManager set to false; tls.serverCertificate and tls.clientCertificate must both be set"},
        Case{"mtlsCa",
             "{mode: statefulset, targetAllocator: {enabled: true, mtls: {enabled: true, useCertManager: false, tls: "
             "{serverCertificate: {secretName: s}, clientCertificate: {secretName: c}}}}}",
             kPromConfig, "mTLS is enabled with useCertManager set to false; tls.certificateAuthorityCertificate must be set"},
        Case{"mtlsCaExactlyOne",
             "{mode: statefulset, targetAllocator: {enabled: true, mtls: {enabled: true, useCertManager: false, tls: "
             "{serverCertificate: {secretName: s}, clientCertificate: {secretName: c}, certificateAuthorityCertificate: "
             "{secret: {name: a}, configMap: {name: b}}}}}}",
             kPromConfig, "tls.certificateAuthorityCertificate must set exactly one of secret or configMap"},
        Case{"specPorts", "{ports: [{name: Bad_Name, port: 70000}]}", nullptr,
             "the OpenTelemetry Spec Ports configuration is incorrect, port name 'Bad_Name' errors: [must contain only "
             "alpha-numeric characters (a-z, 0-9), and hyphens (-)], num '70000' errors: [must be between 1 and 65535, inclusive]"},
        Case{"configPortsUnknownProtocol", "", "{receivers: {otlp: {protocols: {quic: {}}}}, exporters: {debug: {}}, service: "
                                               "{pipelines: {traces: {receivers: [otlp], exporters: [debug]}}}}",
             "the OpenTelemetry config is incorrect. The port numbers are invalid: unknown protocol set: quic"},
        Case{"configPortNum", "", "{receivers: {myrecv: {endpoint: \"0.0.0.0:70000\"}}, exporters: {debug: {}}, service: "
                                  "{pipelines: {traces: {receivers: [myrecv], exporters: [debug]}}}}",
             "the OpenTelemetry config is incorrect. The port name 'myrecv' errors: [], num '70000' errors: [must be between 1 "
             "and 65535, inclusive]"},
        Case{"maxReplica", "{autoscaler: {minReplicas: 2}}", nullptr, "spec.maxReplica must be set when spec.minReplica is set"},
        Case{"replicasGtMax", "{replicas: 5, autoscaler: {maxReplicas: 3}}", nullptr,
             kAuto + "replicas must not be greater than maxReplicas"},
        Case{"minGtMax", "{replicas: 1, autoscaler: {minReplicas: 4, maxReplicas: 3}}", nullptr,
             kAuto + "minReplicas must not be greater than maxReplicas"},
        Case{"scaleDown", "{autoscaler: {maxReplicas: 3, behavior: {scaleDown: {stabilizationWindowSeconds: 4000}}}}", nullptr,
             kAuto + "scaleDown.stabilizationWindowSeconds should be >=0 and <=3600"},
        Case{"scaleUp", "{autoscaler: {maxReplicas: 3, behavior: {scaleUp: {stabilizationWindowSeconds: -1}}}}", nullptr,
             kAuto + "scaleUp.stabilizationWindowSeconds should be >=0 and <=3600"},
        Case{"metricType", "{autoscaler: {maxReplicas: 3, metrics: [{type: Resource}]}}", nullptr,
             kAuto + "metric type unsupported. Expected metric of source type Pod"},
        Case{"averageValue",
             "{autoscaler: {maxReplicas: 3, metrics: [{type: Pods, pods: {metric: {name: m}, target: {type: AverageValue, "
             "averageValue: \"0\"}}}]}}",
             nullptr, kAuto + "average value should be greater than 0"},
        Case{"value",
             "{autoscaler: {maxReplicas: 3, metrics: [{type: Pods, pods: {metric: {name: m}, target: {type: Value, value: "
             "\"0\"}}}]}}",
             nullptr, kAuto + "value should be greater than 0"},
        Case{"targetType",
             "{autoscaler: {maxReplicas: 3, metrics: [{type: Pods, pods: {metric: {name: m}, target: {type: Utilization}}}]}}",
             nullptr, kAuto + "invalid pods target type"},
        Case{"ingressSidecar", "{mode: sidecar, ingress: {type: ingress}}", nullptr,
             "the OpenTelemetry Spec Ingress configuration is incorrect. Ingress can only be used in combination with the modes: "
             "deployment, daemonset, statefulset"},
        Case{"subdomain", "{ingress: {type: ingress, ruleType: subdomain}}", nullptr,
             "a valid Ingress hostname has to be defined for subdomain ruleType"},
        Case{"dsUpdateStrategy", "{mode: deployment, daemonSetUpdateStrategy: {type: OnDelete}}", nullptr,
             "the OpenTelemetry Collector mode is set to deployment, which does not support the attribute 'updateStrategy'"},
        Case{"deploymentStrategy", "{mode: daemonset, deploymentUpdateStrategy: {type: Recreate}}", nullptr,
             "the OpenTelemetry Collector mode is set to daemonset, which does not support the attribute "
             "'deploymentUpdateStrategy'"}),
    [](const ::testing::TestParamInfo<Case>& i) { return std::string(i.param.name); });

TEST(Validation, ModeIsImmutableOnUpdate) {
  Json old = collector("{mode: daemonset}");
  EXPECT_EQ(firstError(collector("{mode: deployment}"), &old),
            "the OpenTelemetry Collector mode is set to daemonset, which does not support modification");
}

TEST(Validation, UpdateOmittingModeKeepsStoredMode) {  // our improvement (docs/compatibility.md)
  Json old = collector("{mode: daemonset}");
  Json updated = collector("");
  auto d = admit(updated, &old);
  EXPECT_TRUE(d.ok()) << d.errors.front();
  collectorconfig::defaultCollector(updated, &old);
  EXPECT_EQ(updated["spec"]["mode"], "daemonset");
}

TEST(Validation, NullObjectsWarning) {
  auto d = admit(collector("", "{receivers: {otlp: {protocols: {grpc: {}}}}, processors: {batch: null}, exporters: {debug: null}, "
                               "service: {pipelines: {traces: {receivers: [otlp], exporters: [debug]}}}}"));
  ASSERT_TRUE(d.ok());
  ASSERT_EQ(d.warnings.size(), 1u);
  EXPECT_EQ(d.warnings[0],
            "Collector config spec.config has null objects: exporters.debug, processors.batch. For compatibility with other "
            "tooling, such as kustomize and kubectl edit, it is recommended to use empty objects e.g. batch: {}.");
}

TEST(Validation, SingleNamedPrometheusReceiverIsAccepted) {  // our improvement
  Json cr = collector(kSts, "{receivers: {prometheus/app: {config: {scrape_configs: [{job_name: x}]}}}, exporters: {debug: {}}, "
                            "service: {pipelines: {metrics: {receivers: [prometheus/app], exporters: [debug]}}}}");
  EXPECT_TRUE(admit(cr).ok());
}

TEST(Validation, CertManagerAvailableAllowsMtls) {
  collectorconfig::AdmissionOptions opts;
  opts.certManagerAvailable = true;
  EXPECT_EQ(firstError(collector("{mode: statefulset, targetAllocator: {enabled: true, mtls: {enabled: true}}}", kPromConfig),
                       nullptr, opts),
            "");
}

TEST(Validation, ValidCollectorsPass) {
  EXPECT_TRUE(admit(collector("")).ok());
  EXPECT_TRUE(admit(collector("{mode: daemonset, targetAllocator: {enabled: true, allocationStrategy: per-node}}", kPromConfig)).ok());
  EXPECT_TRUE(admit(collector("{mode: statefulset, targetAllocator: {enabled: true, prometheusCR: {enabled: true}}}",
                              "{receivers: {prometheus: {}}, exporters: {debug: {}}, service: {pipelines: {metrics: "
                              "{receivers: [prometheus], exporters: [debug]}}}}"))
                  .ok());
}

TEST(TargetAllocatorValidation, Messages) {
  Json ta = parseYaml("{apiVersion: opentelemetry.io/v1alpha1, kind: TargetAllocator, metadata: {name: t}, spec: "
                      "{prometheusCR: {allowNamespaces: [a], denyNamespaces: [b]}}}");
  EXPECT_EQ(validateTargetAllocator(ta).errors.at(0), "allowNamespaces and denyNamespaces are mutually exclusive");
  Json lw = parseYaml("{apiVersion: opentelemetry.io/v1alpha1, kind: TargetAllocator, metadata: {name: t}, spec: "
                      "{allocationStrategy: least-weighted, podDisruptionBudget: {maxUnavailable: 1}}}");
  EXPECT_EQ(validateTargetAllocator(lw).errors.at(0),
            "target allocator pdb has been configured but the allocation strategy isn't not compatible");
  Json bad = parseYaml("{apiVersion: opentelemetry.io/v1alpha1, kind: TargetAllocator, metadata: {name: t}, spec: "
                       "{allocationStrategy: random}}");
  EXPECT_EQ(validateTargetAllocator(bad).errors.at(0),
            "spec.allocationStrategy: Unsupported value: \"random\": supported values: \"least-weighted\", "
            "\"consistent-hashing\", \"per-node\", \"rendezvous\"");
}

TEST(TargetAllocatorValidation, RendezvousIsAcceptedAndWarnsOnAForeignImage) {
  Json ours = parseYaml("{apiVersion: opentelemetry.io/v1alpha1, kind: TargetAllocator, metadata: {name: t}, spec: "
                        "{allocationStrategy: rendezvous}}");
  auto d = validateTargetAllocator(ours);
  EXPECT_TRUE(d.ok());
  EXPECT_TRUE(d.warnings.empty());
  Json upstream = ours;
  upstream["spec"]["image"] = "ghcr.io/open-telemetry/opentelemetry-operator/target-allocator:0.110.0";
  d = validateTargetAllocator(upstream);
  EXPECT_TRUE(d.ok());
  ASSERT_EQ(d.warnings.size(), 1u);
  EXPECT_NE(d.warnings[0].find("spec.allocationStrategy: rendezvous is kubectl-otel's own strategy"), std::string::npos);
  // the same on a collector's embedded target allocator
  auto c = admit(collector("{mode: statefulset, targetAllocator: {enabled: true, allocationStrategy: rendezvous, image: "
                           "example.com/ta:1}}",
                           kPromConfig));
  EXPECT_TRUE(c.ok());
  bool warned = false;
  for (const auto& w : c.warnings) warned = warned || w.find("spec.targetAllocator.allocationStrategy: rendezvous") == 0;
  EXPECT_TRUE(warned);
}

}  // namespace
}  // namespace otel::api

namespace otel::api {
namespace {

// Upstream's FIPS check: per kind the first component in use whose type is disabled, printed as a Go list.
TEST(Validation, FipsDisabledComponents) {
  collectorconfig::AdmissionOptions fips;
  fips.fipsDisabledComponents = {"receiver.zipkin", "exporter.debug", "extension.pprof", "processor.batch"};
  const char* config =
      "{receivers: {otlp: {protocols: {grpc: {}}}, zipkin/a: {}}, processors: {memory_limiter: {check_interval: 1s, "
      "limit_percentage: 75}}, exporters: {debug: {}}, extensions: {pprof: {}}, service: {extensions: [pprof], "
      "pipelines: {traces: {receivers: [otlp, zipkin/a], processors: [memory_limiter], exporters: [debug]}}}}";
  EXPECT_EQ(firstError(collector("", config), nullptr, fips),
            "the collector configuration contains not FIPS compliant components: [zipkin debug pprof]. Please remove it "
            "from the config");
  EXPECT_EQ(firstError(collector("", config)), "");  // not a FIPS platform: nothing disabled
  // a disabled component that is configured but in no pipeline is not in use
  collectorconfig::AdmissionOptions unused;
  unused.fipsDisabledComponents = {"processor.batch"};
  EXPECT_EQ(firstError(collector("", config), nullptr, unused), "");
}

}  // namespace
}  // namespace otel::api
