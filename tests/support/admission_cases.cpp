#include "tests/support/admission_cases.h"

#include "lib/core/yaml.h"

namespace otel::testing {

const char* const kBase = R"(apiVersion: opentelemetry.io/v1beta1
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

const char* const kPromConfig = R"(
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
Json admissionCollector(const std::string& specYaml, const char* configYaml) {
  Json cr = parseYaml(kBase);
  Json extra = parseYaml(specYaml.empty() ? "{}" : specYaml);
  for (auto it = extra.begin(); it != extra.end(); ++it) cr["spec"][it.key()] = it.value();
  if (configYaml) cr["spec"]["config"] = parseYaml(configYaml);
  return cr;
}

const std::string kStsWithTa = "{mode: statefulset, targetAllocator: {enabled: true}}";

const std::vector<AdmissionCase>& collectorAdmissionCases() {
  const std::string kAuto = "the OpenTelemetry Spec autoscale configuration is incorrect, ";
  const std::string kProm = "the OpenTelemetry Spec Prometheus configuration is incorrect, ";
  static const std::vector<AdmissionCase> cases = {
        AdmissionCase{"vct", "{mode: deployment, volumeClaimTemplates: [{metadata: {name: v}}]}", nullptr,
             "the OpenTelemetry Collector mode is set to deployment, which does not support the attribute 'volumeClaimTemplates'"},
        AdmissionCase{"pvcRetention", "{mode: daemonset, persistentVolumeClaimRetentionPolicy: {whenDeleted: Delete}}", nullptr,
             "the OpenTelemetry Collector mode is set to daemonset, which does not support the attribute "
             "'persistentVolumeClaimRetentionPolicy'"},
        AdmissionCase{"tolerations", "{mode: sidecar, tolerations: [{key: k}]}", nullptr,
             "the OpenTelemetry Collector mode is set to sidecar, which does not support the attribute 'tolerations'"},
        AdmissionCase{"priorityClassName", "{mode: sidecar, priorityClassName: high}", nullptr,
             "the OpenTelemetry Collector mode is set to sidecar, which does not support the attribute 'priorityClassName'"},
        AdmissionCase{"affinity", "{mode: sidecar, affinity: {nodeAffinity: {}}}", nullptr,
             "the OpenTelemetry Collector mode is set to sidecar, which does not support the attribute 'affinity'"},
        AdmissionCase{"additionalContainers", "{mode: sidecar, additionalContainers: [{name: x}]}", nullptr,
             "the OpenTelemetry Collector mode is set to sidecar, which does not support the attribute 'AdditionalContainers'"},
        AdmissionCase{"taMode", "{mode: deployment, targetAllocator: {enabled: true}}", kPromConfig,
             "the OpenTelemetry Collector mode is set to deployment, which does not support the target allocation deployment"},
        AdmissionCase{"taDaemonSet", "{mode: daemonset, targetAllocator: {enabled: true}}", kPromConfig,
             "the OpenTelemetry Collector mode is set to daemonset, which must be used with target allocation strategy per-node "},
        AdmissionCase{"taPerNode", "{mode: statefulset, targetAllocator: {enabled: true, allocationStrategy: per-node}}", kPromConfig,
             "target allocation strategy per-node is only supported in OpenTelemetry Collector mode daemonset"},
        AdmissionCase{"unknownStrategy", "{mode: statefulset, targetAllocator: {enabled: true, allocationStrategy: round-robin}}",
             kPromConfig,
             "spec.targetAllocator.allocationStrategy: Unsupported value: \"round-robin\": supported values: "
             "\"least-weighted\", \"consistent-hashing\", \"per-node\", \"rendezvous\""},
        AdmissionCase{"noPrometheus", kStsWithTa, nullptr, kProm + "no prometheus available as part of the configuration"},
        AdmissionCase{"onlyNamed", kStsWithTa,
             "{receivers: {prometheus/a: {config: {}}, prometheus/b: {config: {}}}, exporters: {debug: {}}, service: {pipelines: "
             "{metrics: {receivers: [prometheus/a, prometheus/b], exporters: [debug]}}}}",
             kProm + "the target allocator requires a receiver named exactly \"prometheus\", but only named instances were found: "
                     "prometheus/a, prometheus/b; rename one of them to \"prometheus\""},
        AdmissionCase{"noReceivers", kStsWithTa, "{exporters: {debug: {}}, service: {pipelines: {}}}",
             kProm + "no receivers available as part of the configuration"},
        AdmissionCase{"promNotMap", kStsWithTa, "{receivers: {prometheus: 1}, exporters: {debug: {}}, service: {pipelines: {}}}",
             kProm + "prometheus property in the configuration doesn't contain valid prometheus"},
        AdmissionCase{"scrapeNotList", kStsWithTa,
             "{receivers: {prometheus: {config: {scrape_configs: 1}}}, exporters: {debug: {}}, service: {pipelines: {}}}",
             kProm + "scrape_configs must be a list in the config"},
        AdmissionCase{"noScrape", kStsWithTa,
             "{receivers: {prometheus: {config: {scrape_configs: []}}}, exporters: {debug: {}}, service: {pipelines: {}}}",
             kProm + "either at least one scrape config needs to be defined or PrometheusCR needs to be enabled"},
        AdmissionCase{"mtlsNoCertManager", "{mode: statefulset, targetAllocator: {enabled: true, mtls: {enabled: true}}}", kPromConfig,
             "mTLS is enabled with useCertManager but cert-manager is not available; install cert-manager and restart the "
             "operator, or set useCertManager to false"},
        AdmissionCase{"mtlsCerts",
             "{mode: statefulset, targetAllocator: {enabled: true, mtls: {enabled: true, useCertManager: false}}}", kPromConfig,
             "mTLS is enabled with useCertManager set to false; tls.serverCertificate and tls.clientCertificate must both be set"},
        AdmissionCase{"mtlsCa",
             "{mode: statefulset, targetAllocator: {enabled: true, mtls: {enabled: true, useCertManager: false, tls: "
             "{serverCertificate: {secretName: s}, clientCertificate: {secretName: c}}}}}",
             kPromConfig, "mTLS is enabled with useCertManager set to false; tls.certificateAuthorityCertificate must be set"},
        AdmissionCase{"mtlsCaExactlyOne",
             "{mode: statefulset, targetAllocator: {enabled: true, mtls: {enabled: true, useCertManager: false, tls: "
             "{serverCertificate: {secretName: s}, clientCertificate: {secretName: c}, certificateAuthorityCertificate: "
             "{secret: {name: a}, configMap: {name: b}}}}}}",
             kPromConfig, "tls.certificateAuthorityCertificate must set exactly one of secret or configMap"},
        AdmissionCase{"specPorts", "{ports: [{name: Bad_Name, port: 70000}]}", nullptr,
             "the OpenTelemetry Spec Ports configuration is incorrect, port name 'Bad_Name' errors: [must contain only "
             "alpha-numeric characters (a-z, 0-9), and hyphens (-)], num '70000' errors: [must be between 1 and 65535, inclusive]"},
        AdmissionCase{"configPortsUnknownProtocol", "", "{receivers: {otlp: {protocols: {quic: {}}}}, exporters: {debug: {}}, service: "
                                               "{pipelines: {traces: {receivers: [otlp], exporters: [debug]}}}}",
             "the OpenTelemetry config is incorrect. The port numbers are invalid: unknown protocol set: quic"},
        AdmissionCase{"configPortNum", "", "{receivers: {myrecv: {endpoint: \"0.0.0.0:70000\"}}, exporters: {debug: {}}, service: "
                                  "{pipelines: {traces: {receivers: [myrecv], exporters: [debug]}}}}",
             "the OpenTelemetry config is incorrect. The port name 'myrecv' errors: [], num '70000' errors: [must be between 1 "
             "and 65535, inclusive]"},
        AdmissionCase{"maxReplica", "{autoscaler: {minReplicas: 2}}", nullptr, "spec.maxReplica must be set when spec.minReplica is set"},
        AdmissionCase{"replicasGtMax", "{replicas: 5, autoscaler: {maxReplicas: 3}}", nullptr,
             kAuto + "replicas must not be greater than maxReplicas"},
        AdmissionCase{"minGtMax", "{replicas: 1, autoscaler: {minReplicas: 4, maxReplicas: 3}}", nullptr,
             kAuto + "minReplicas must not be greater than maxReplicas"},
        AdmissionCase{"scaleDown", "{autoscaler: {maxReplicas: 3, behavior: {scaleDown: {stabilizationWindowSeconds: 4000}}}}", nullptr,
             kAuto + "scaleDown.stabilizationWindowSeconds should be >=0 and <=3600"},
        AdmissionCase{"scaleUp", "{autoscaler: {maxReplicas: 3, behavior: {scaleUp: {stabilizationWindowSeconds: -1}}}}", nullptr,
             kAuto + "scaleUp.stabilizationWindowSeconds should be >=0 and <=3600"},
        AdmissionCase{"metricType", "{autoscaler: {maxReplicas: 3, metrics: [{type: Resource}]}}", nullptr,
             kAuto + "metric type unsupported. Expected metric of source type Pod"},
        AdmissionCase{"averageValue",
             "{autoscaler: {maxReplicas: 3, metrics: [{type: Pods, pods: {metric: {name: m}, target: {type: AverageValue, "
             "averageValue: \"0\"}}}]}}",
             nullptr, kAuto + "average value should be greater than 0"},
        AdmissionCase{"value",
             "{autoscaler: {maxReplicas: 3, metrics: [{type: Pods, pods: {metric: {name: m}, target: {type: Value, value: "
             "\"0\"}}}]}}",
             nullptr, kAuto + "value should be greater than 0"},
        AdmissionCase{"targetType",
             "{autoscaler: {maxReplicas: 3, metrics: [{type: Pods, pods: {metric: {name: m}, target: {type: Utilization}}}]}}",
             nullptr, kAuto + "invalid pods target type"},
        AdmissionCase{"ingressSidecar", "{mode: sidecar, ingress: {type: ingress}}", nullptr,
             "the OpenTelemetry Spec Ingress configuration is incorrect. Ingress can only be used in combination with the modes: "
             "deployment, daemonset, statefulset"},
        AdmissionCase{"subdomain", "{ingress: {type: ingress, ruleType: subdomain}}", nullptr,
             "a valid Ingress hostname has to be defined for subdomain ruleType"},
        AdmissionCase{"dsUpdateStrategy", "{mode: deployment, daemonSetUpdateStrategy: {type: OnDelete}}", nullptr,
             "the OpenTelemetry Collector mode is set to deployment, which does not support the attribute 'updateStrategy'"},
        AdmissionCase{"deploymentStrategy", "{mode: daemonset, deploymentUpdateStrategy: {type: Recreate}}", nullptr,
             "the OpenTelemetry Collector mode is set to daemonset, which does not support the attribute "
             "'deploymentUpdateStrategy'"}};
  return cases;
}

}  // namespace otel::testing
