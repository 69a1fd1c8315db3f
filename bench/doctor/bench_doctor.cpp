// doctor over a support bundle of 5,000 objects (issue: under 1 s): the YAML text parsed, the view built
// and every check run (what `doctor -f DUMP` does after reading the file), and the checks alone.
// The dump: 50 namespaces, 100 collectors (a third with the target allocator), 2,500 pods (a few failing,
// some annotated for injection), 800 Services with their EndpointSlices, 300 ServiceMonitors and
// PodMonitors, Deployments/ReplicaSets, RBAC, webhook configurations and CRDs.
#include <benchmark/benchmark.h>

#include <string>

#include "lib/core/yaml.h"
#include "lib/doctor/doctor.h"

namespace {

std::string dump5000() {
  std::string y;
  int n = 0;
  auto doc = [&](const std::string& s) {
    y += "---\n" + s;
    ++n;
  };
  for (const char* crd : {"opentelemetrycollectors.opentelemetry.io|OpenTelemetryCollector|opentelemetry.io",
                          "instrumentations.opentelemetry.io|Instrumentation|opentelemetry.io",
                          "servicemonitors.monitoring.coreos.com|ServiceMonitor|monitoring.coreos.com",
                          "podmonitors.monitoring.coreos.com|PodMonitor|monitoring.coreos.com"}) {
    std::string s = crd;
    std::string name = s.substr(0, s.find('|')), rest = s.substr(s.find('|') + 1);
    std::string kind = rest.substr(0, rest.find('|')), group = rest.substr(rest.find('|') + 1);
    doc("apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: " + name + "}\nspec: {group: " +
        group + ", names: {kind: " + kind + ", plural: " + name.substr(0, name.find('.')) +
        "}, versions: [{name: v1beta1, served: true, storage: true}]}\n");
  }
  doc("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: opentelemetry-operator-controller-manager, namespace: otel-system, "
      "labels: {app.kubernetes.io/name: opentelemetry-operator}}\nspec: {replicas: 1, selector: {matchLabels: {app: op}}, template: "
      "{metadata: {labels: {app: op}}, spec: {containers: [{name: manager, image: op}]}}}\nstatus: {readyReplicas: 1}\n");
  doc("apiVersion: admissionregistration.k8s.io/v1\nkind: MutatingWebhookConfiguration\nmetadata: {name: m}\nwebhooks:\n- name: "
      "mpod.kb.io\n  clientConfig: {service: {name: op-webhook, namespace: otel-system, path: /mutate-v1-pod}}\n  failurePolicy: "
      "Ignore\n  rules: [{apiGroups: [''], apiVersions: [v1], operations: [CREATE], resources: [pods]}]\n");
  doc("apiVersion: v1\nkind: Service\nmetadata: {name: op-webhook, namespace: otel-system}\nspec: {selector: {app: op}, ports: "
      "[{name: https, port: 443}]}\n");
  doc("apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: op-webhook-x, namespace: otel-system, labels: "
      "{kubernetes.io/service-name: op-webhook}}\nendpoints: [{addresses: [10.0.0.1], conditions: {ready: true}}]\n");
  doc("apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: ta}\nrules: [{apiGroups: ['*'], resources: "
      "['*'], verbs: [get, list, watch]}, {nonResourceURLs: ['*'], verbs: [get]}]\n");
  doc("apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: ta}\nroleRef: {kind: ClusterRole, name: "
      "ta}\nsubjects: [{kind: Group, name: 'system:serviceaccounts'}]\n");
  for (int i = 0; i < 50; ++i) doc("apiVersion: v1\nkind: Namespace\nmetadata: {name: ns-" + std::to_string(i) + "}\n");
  for (int i = 0; i < 100; ++i) {
    std::string ns = "ns-" + std::to_string(i % 50), name = "col-" + std::to_string(i);
    bool ta = i % 3 == 0;
    doc("apiVersion: opentelemetry.io/v1beta1\nkind: OpenTelemetryCollector\nmetadata: {name: " + name + ", namespace: " + ns +
        "}\nspec:\n  mode: " + (ta ? "statefulset" : i % 3 == 1 ? "daemonset" : "deployment") + "\n" +
        (ta ? "  targetAllocator: {enabled: true, prometheusCR: {enabled: true, serviceMonitorSelector: {}, podMonitorSelector: {}}}\n"
            : "") +
        "  config:\n    receivers: {otlp: {protocols: {grpc: {}}}" +
        (ta ? ", prometheus: {config: {scrape_configs: [{job_name: x, static_configs: [{targets: ['a:1']}]}]}}" : "") +
        "}\n    exporters: {debug: {}}\n    service: {pipelines: {metrics: {receivers: [otlp" + (ta ? ", prometheus" : "") +
        "], exporters: [debug]}}}\n");
  }
  for (int i = 0; i < 200; ++i) {
    std::string ns = "ns-" + std::to_string(i % 50), name = "app-" + std::to_string(i);
    doc("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: " + name + ", namespace: " + ns + "}\nspec: {replicas: 3, selector: "
        "{matchLabels: {app: " + name + "}}, template: {metadata: {labels: {app: " + name +
        "}}, spec: {containers: [{name: app, image: app}]}}}\nstatus: {readyReplicas: 3}\n");
    doc("apiVersion: apps/v1\nkind: ReplicaSet\nmetadata: {name: " + name + "-5d8f, namespace: " + ns +
        ", ownerReferences: [{kind: Deployment, name: " + name + "}]}\nspec: {replicas: 3}\n");
  }
  for (int i = 0; i < 2500; ++i) {
    std::string ns = "ns-" + std::to_string(i % 50), app = "app-" + std::to_string(i % 200);
    std::string ann = i % 10 == 0 ? ", annotations: {instrumentation.opentelemetry.io/inject-java: 'true'}" : "";
    std::string status = i % 97 == 0 ? "{phase: Running, containerStatuses: [{name: otc-container, restartCount: 4, state: {waiting: "
                                       "{reason: CrashLoopBackOff}}, lastState: {terminated: {exitCode: 1, reason: Error}}}]}"
                                     : "{phase: Running, containerStatuses: [{name: app, ready: true, restartCount: 0}]}";
    std::string labels = i % 97 == 0 ? "{app.kubernetes.io/component: opentelemetry-collector, app.kubernetes.io/instance: " + ns +
                                           ".col-" + std::to_string(i % 100) + "}"
                                     : "{app: " + app + "}";
    doc("apiVersion: v1\nkind: Pod\nmetadata: {name: " + app + "-5d8f-" + std::to_string(i) + ", namespace: " + ns + ", labels: " + labels +
        ann + ", ownerReferences: [{kind: ReplicaSet, name: " + app + "-5d8f}], creationTimestamp: '2026-03-01T00:00:00Z'}\n" +
        "spec: {containers: [{name: app, image: app, ports: [{name: metrics, containerPort: 8080}]}]}\nstatus: " + status + "\n");
  }
  for (int i = 0; i < 800; ++i) {
    std::string ns = "ns-" + std::to_string(i % 50), app = "app-" + std::to_string(i % 200), svc = "svc-" + std::to_string(i);
    doc("apiVersion: v1\nkind: Service\nmetadata: {name: " + svc + ", namespace: " + ns + ", labels: {app: " + app +
        "}}\nspec: {selector: {app: " + app + "}, ports: [{name: metrics, port: 8080}]}\n");
    doc("apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: " + svc + "-x, namespace: " + ns +
        ", labels: {kubernetes.io/service-name: " + svc + "}}\nendpoints: [{addresses: [10.1.0.1], conditions: {ready: true}}]\n");
  }
  for (int i = 0; i < 150; ++i) {
    std::string ns = "ns-" + std::to_string(i % 50), app = "app-" + std::to_string(i % 200);
    doc("apiVersion: monitoring.coreos.com/v1\nkind: ServiceMonitor\nmetadata: {name: sm-" + std::to_string(i) + ", namespace: " + ns +
        "}\nspec: {selector: {matchLabels: {app: " + app + "}}, endpoints: [{port: metrics}]}\n");
    doc("apiVersion: monitoring.coreos.com/v1\nkind: PodMonitor\nmetadata: {name: pm-" + std::to_string(i) + ", namespace: " + ns +
        "}\nspec: {selector: {matchLabels: {app: " + app + "}}, podMetricsEndpoints: [{port: metrics}]}\n");
  }
  while (n < 5000) doc("apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: sa-" + std::to_string(n) + ", namespace: ns-1}\n");
  return y;
}

const std::string& dump() {
  static const std::string d = dump5000();
  return d;
}

void BM_DoctorDump5000(benchmark::State& state) {
  size_t findings = 0;
  for (auto _ : state) {
    auto view = otel::doctor::viewFromDocuments(otel::flattenLists(otel::parseYamlStream(dump(), "dump.yaml")));
    view.now = 1796083200;
    auto report = otel::doctor::diagnose(view);
    findings = report.findings.size();
    benchmark::DoNotOptimize(report);
  }
  state.counters["objects"] = 5000;
  state.counters["findings"] = static_cast<double>(findings);
  state.counters["bytes"] = static_cast<double>(dump().size());
}
BENCHMARK(BM_DoctorDump5000)->Unit(benchmark::kMillisecond);

void BM_DoctorChecksOnly5000(benchmark::State& state) {
  auto view = otel::doctor::viewFromDocuments(otel::flattenLists(otel::parseYamlStream(dump(), "dump.yaml")));
  view.now = 1796083200;
  for (auto _ : state) benchmark::DoNotOptimize(otel::doctor::diagnose(view));
}
BENCHMARK(BM_DoctorChecksOnly5000)->Unit(benchmark::kMillisecond);

}  // namespace
