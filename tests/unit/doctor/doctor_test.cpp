// lib/doctor's pieces: reading dumps (errors name file and document, unknown kinds ignored, Secrets keep
// only certificates), label selectors, the RBAC evaluator, times, ranking and the JSON report.
#include <gtest/gtest.h>

#include "lib/core/error.h"
#include "lib/core/files.h"
#include "lib/core/yaml.h"
#include "lib/doctor/doctor.h"
#include "lib/doctor/match.h"

namespace {

using otel::Json;
using namespace otel::doctor;

std::vector<otel::YamlDocument> docs(const std::string& yaml) {
  return otel::flattenLists(otel::parseYamlStream(yaml, "dump.yaml"));
}

TEST(DoctorView, ObjectWithoutKindIsOneLineNamingFileAndDocument) {
  try {
    viewFromDocuments(docs("apiVersion: v1\nkind: Pod\nmetadata: {name: a}\n---\napiVersion: v1\nmetadata: {name: b}\n"));
    FAIL() << "accepted";
  } catch (const otel::Error& e) {
    EXPECT_EQ(e.oneLine(), "dump.yaml (document 2, line 5): object without kind (metadata.name b)");
  }
}

TEST(DoctorView, NonObjectAndNamelessObjectsAreRefused) {
  EXPECT_THROW(viewFromDocuments(docs("- a\n- b\n")), otel::Error);
  EXPECT_THROW(viewFromDocuments(docs("apiVersion: v1\nkind: Pod\nmetadata: {}\n")), otel::Error);
}

TEST(DoctorView, UnknownKindsAreIgnoredAndKnownOnesListed) {
  ClusterView v = viewFromDocuments(docs("apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n---\n"
                                         "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: a}\n"));
  EXPECT_EQ(v.size(), 1u);
  EXPECT_TRUE(v.listed("Pod"));
  EXPECT_FALSE(v.listed("Service"));
  EXPECT_NE(v.find("Pod", "a", "p"), nullptr);
}

TEST(DoctorView, ACrdInTheDumpMeansItsObjectsAreThere) {
  ClusterView v = viewFromDocuments(docs(
      "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: podmonitors.monitoring.coreos.com}\n"
      "spec: {group: monitoring.coreos.com, names: {kind: PodMonitor, plural: podmonitors}, versions: [{name: v1, served: true}]}\n"));
  EXPECT_TRUE(v.listed("PodMonitor"));
  EXPECT_FALSE(v.listed("ServiceMonitor"));
  EXPECT_TRUE(v.hasCrd("podmonitors.monitoring.coreos.com", "v1"));
  EXPECT_FALSE(v.hasCrd("podmonitors.monitoring.coreos.com", "v2"));
}

TEST(DoctorView, SecretsKeepOnlyPublicCertificates) {
  ClusterView v = viewFromDocuments(docs("apiVersion: v1\nkind: Secret\nmetadata: {name: s, namespace: certs}\n"
                                         "data: {tls.crt: Y2VydA==, ca.crt: Y2E=, tls.key: c2VjcmV0, ca.key: c2VjcmV0}\n"
                                         "stringData: {password: hunter2}\n"));
  const Json* s = v.find("Secret", "certs", "s");
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->dump(), R"({"apiVersion":"v1","kind":"Secret","metadata":{"name":"s","namespace":"certs"},"data":{"tls.crt":"Y2VydA==","ca.crt":"Y2E="}})");
}

TEST(DoctorView, PodLogDocuments) {
  ClusterView v = viewFromDocuments(docs("apiVersion: doctor.kubectl-otel.io/v1\nkind: PodLog\nmetadata: {name: p, namespace: n}\n"
                                         "container: c\nlines: [one, two]\n"));
  ASSERT_EQ(v.logs().size(), 1u);
  EXPECT_EQ(v.logs()[0].pod, "p");
  EXPECT_EQ(v.logs()[0].lines, (std::vector<std::string>{"one", "two"}));
}

TEST(DoctorMatch, LabelSelectors) {
  Json labels = {{"app", "api"}, {"tier", "web"}};
  Json sel = Json::parse(R"({"matchLabels":{"app":"api"},"matchExpressions":[{"key":"tier","operator":"In","values":["web","db"]},
                           {"key":"canary","operator":"DoesNotExist"}]})");
  EXPECT_TRUE(selectorMatches(&sel, labels, false));
  Json notIn = Json::parse(R"({"matchExpressions":[{"key":"tier","operator":"NotIn","values":["web"]}]})");
  EXPECT_FALSE(selectorMatches(&notIn, labels, false));
  Json exists = Json::parse(R"({"matchExpressions":[{"key":"release","operator":"Exists"}]})");
  EXPECT_FALSE(selectorMatches(&exists, labels, false));
  Json empty = Json::object();
  EXPECT_TRUE(selectorMatches(&empty, labels, false));
  EXPECT_FALSE(selectorMatches(nullptr, labels, false));  // v1beta1: nil selects nothing
  EXPECT_TRUE(selectorMatches(nullptr, labels, true));
  Json bad = Json::parse(R"({"matchExpressions":[{"key":"tier","operator":"Gt","values":["1"]}]})");
  EXPECT_FALSE(selectorMatches(&bad, labels, false));
  EXPECT_EQ(selectorString(&sel), "app=api,tier in (web,db),!canary");
  EXPECT_EQ(selectorString(&empty), "{} (everything)");
  EXPECT_FALSE(mapSelectorMatches(Json::object(), labels));  // a Service without selector selects no pod
}

TEST(DoctorMatch, RbacThroughRoleBindingsClusterRoleBindingsAndGroups) {
  ClusterView v = viewFromDocuments(docs(R"(
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: read-pods}
rules: [{apiGroups: [""], resources: [pods], verbs: [get, list, watch]}, {apiGroups: [""], resources: [secrets], resourceNames: [one], verbs: [list]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: b, namespace: apps}
roleRef: {kind: ClusterRole, name: read-pods}
subjects: [{kind: ServiceAccount, name: ta, namespace: obs}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: svc, namespace: obs}
rules: [{apiGroups: ["*"], resources: ["*"], verbs: [list]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: all, namespace: obs}
roleRef: {kind: Role, name: svc}
subjects: [{kind: Group, name: "system:serviceaccounts:obs"}]
)"));
  using otel::manifests::AccessCheck;
  std::vector<AccessCheck> checks = {{"list", "", "pods", ""}, {"list", "", "secrets", ""}, {"list", "", "services", ""}};
  auto inApps = deniedChecks(v, "obs", "ta", "apps", checks);
  ASSERT_EQ(inApps.size(), 2u);  // resourceNames do not allow listing; services not granted in apps
  EXPECT_EQ(inApps[0].resource, "secrets");
  EXPECT_EQ(inApps[1].resource, "services");
  EXPECT_TRUE(deniedChecks(v, "obs", "ta", "obs", {{"list", "", "services", ""}}).empty());  // via the group
  EXPECT_EQ(deniedChecks(v, "obs", "ta", "", checks).size(), 3u);  // cluster-wide: no ClusterRoleBinding
}

TEST(DoctorTime, Rfc3339) {
  EXPECT_EQ(parseTime("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(parseTime("2026-12-01T00:00:00Z"), 1796083200);
  EXPECT_EQ(parseTime("2024-02-29T12:30:05Z"), 1709209805);
  EXPECT_EQ(parseTime("yesterday"), -1);
  EXPECT_EQ(parseTime("2026-13-01T00:00:00Z"), -1);
}

TEST(DoctorReport, JsonShapeAndExitSemantics) {
  ClusterView v;
  Report healthy = diagnose(v);
  EXPECT_FALSE(healthy.problems());
  EXPECT_EQ(renderText(healthy).rfind("No problems found.", 0), 0u);
  v = viewFromDocuments(docs(R"(
apiVersion: opentelemetry.io/v1beta1
kind: OpenTelemetryCollector
metadata: {name: gw, namespace: obs}
spec:
  mode: statefulset
  targetAllocator: {enabled: true, prometheusCR: {enabled: true, serviceMonitorSelector: {}, podMonitorSelector: {}}}
  config: {receivers: {otlp: {protocols: {grpc: {}}}}, exporters: {debug: {}}, service: {pipelines: {traces: {receivers: [otlp], exporters: [debug]}}}}
)"));
  Report r = diagnose(v);
  ASSERT_TRUE(r.problems());
  Json j = renderJson(r);
  ASSERT_TRUE(j["findings"].is_array());
  const Json& f = j["findings"][0];
  std::vector<std::string> keys;
  for (const auto& [k, val] : f.items()) keys.push_back(k);
  EXPECT_EQ(keys, (std::vector<std::string>{"severity", "check", "object", "cause", "evidence", "fix"}));
  EXPECT_EQ(f["check"], "ta-no-prometheus-receiver");
  EXPECT_EQ(f["object"].dump(), R"({"apiVersion":"opentelemetry.io/v1beta1","kind":"OpenTelemetryCollector","namespace":"obs","name":"gw"})");
  EXPECT_TRUE(j["skipped"].is_array());
  EXPECT_FALSE(j["skipped"].empty());  // no CRDs, no RBAC in the input: said, not guessed
}

TEST(DoctorReport, APastedErrorRanksTheChecksThatExplainItFirst) {
  const std::string dump = R"(
apiVersion: opentelemetry.io/v1beta1
kind: OpenTelemetryCollector
metadata: {name: agent, namespace: obs, labels: {argocd.argoproj.io/instance: obs}}
spec:
  mode: daemonset
  image: does-not-exist
  config: {receivers: {otlp: {protocols: {grpc: {}}}}, exporters: {debug: {}}, service: {pipelines: {traces: {receivers: [otlp], exporters: [debug]}}}}
---
apiVersion: v1
kind: Pod
metadata: {name: agent-collector-x, namespace: obs, labels: {app.kubernetes.io/component: opentelemetry-collector, app.kubernetes.io/instance: obs.agent}}
spec: {containers: [{name: otc-container, image: does-not-exist}]}
status: {containerStatuses: [{name: otc-container, restartCount: 0, state: {waiting: {reason: ErrImagePull}}}]}
)";
  ClusterView v = viewFromDocuments(docs(dump));
  EXPECT_EQ(diagnose(v).findings.front().check, "collector-image-pull");
  v.errorTexts.push_back("the OpenTelemetry Collector mode is set to daemonset, which does not support modification");
  Report r = diagnose(v);
  EXPECT_EQ(r.findings.front().check, "mode-rewritten-by-gitops");
  EXPECT_EQ(r.findings[1].check, "collector-image-pull");
}

TEST(DoctorChecks, EveryCheckIdIsListedOnce) {
  std::set<std::string> ids;
  for (const auto& c : checks()) EXPECT_TRUE(ids.insert(c.id).second) << c.id;
  EXPECT_GE(ids.size(), 40u);
}

}  // namespace

namespace {

const char* kTwoCollectors = R"(
apiVersion: opentelemetry.io/v1beta1
kind: OpenTelemetryCollector
metadata: {name: a, namespace: obs}
spec:
  mode: statefulset
  targetAllocator: {enabled: true}
  config: {receivers: {otlp: {protocols: {grpc: {}}}}, exporters: {debug: {}}, service: {pipelines: {traces: {receivers: [otlp], exporters: [debug]}}}}
---
apiVersion: opentelemetry.io/v1beta1
kind: OpenTelemetryCollector
metadata: {name: b, namespace: other}
spec:
  mode: deployment
  targetAllocator: {enabled: true}
  config: {receivers: {otlp: {protocols: {grpc: {}}}}, exporters: {debug: {}}, service: {pipelines: {traces: {receivers: [otlp], exporters: [debug]}}}}
)";

TEST(DoctorOptions, CollectorAndNamespaceNarrowTheCollectorChecks) {
  ClusterView v = viewFromDocuments(docs(kTwoCollectors));
  auto names = [](const Report& r) {
    std::set<std::string> s;
    for (const auto& f : r.findings)
      if (f.object.kind == "OpenTelemetryCollector") s.insert(f.object.ns + "/" + f.object.name);
    return s;
  };
  EXPECT_EQ(names(diagnose(v)), (std::set<std::string>{"obs/a", "other/b"}));
  Options only;
  only.collector = "a";
  EXPECT_EQ(names(diagnose(v, only)), (std::set<std::string>{"obs/a"}));
  Options ns;
  ns.ns = "other";
  EXPECT_EQ(names(diagnose(v, ns)), (std::set<std::string>{"other/b"}));
}

TEST(DoctorDesired, SaysWhatApplyingWouldDo) {
  ClusterView v = viewFromDocuments(docs(kTwoCollectors));
  v.desired = desiredFromDocuments(docs(R"(
apiVersion: v1
kind: ConfigMap
metadata: {name: new-one, namespace: obs}
data: {a: b}
---
apiVersion: opentelemetry.io/v1beta1
kind: OpenTelemetryCollector
metadata: {name: a, namespace: obs}
spec:
  mode: statefulset
  replicas: 3
  targetAllocator: {enabled: true, prometheusCR: {enabled: true}}
  config: {receivers: {otlp: {protocols: {grpc: {}}}, prometheus: {config: {}}}, exporters: {debug: {}}, service: {pipelines: {metrics: {receivers: [prometheus], exporters: [debug]}}}}
)"));
  Report r = diagnose(v);
  std::vector<std::string> outcomes;
  for (const auto& f : r.findings)
    if (f.check == "desired-outcome") outcomes.push_back(f.cause);
  ASSERT_EQ(outcomes.size(), 2u) << renderText(r);
  EXPECT_EQ(outcomes[0], "applying it creates ConfigMap obs/new-one (unless it exists: the view holds no ConfigMap)");
  EXPECT_EQ(outcomes[1], "applying it updates OpenTelemetryCollector obs/a: spec.replicas, spec.targetAllocator, spec.config; "
                         "a new config means a new hashed ConfigMap, so the collector's pods restart");
}

}  // namespace

namespace {

// docs/doctor.md documents every check (a check added without its section fails here).
TEST(DoctorDocs, EveryCheckHasASection) {
  const std::string doc = otel::readFile(std::string(OTEL_SOURCE_DIR) + "/docs/doctor.md");
  for (const auto& c : otel::doctor::checks())
    EXPECT_NE(doc.find("### `" + c.id + "`"), std::string::npos) << c.id << " is not in docs/doctor.md";
}

// Upstream's operator records a Warning Event for a failed reconcile and sets Ready=True once one
// succeeds; the Event stays for an hour. A Warning from before that transition is history; one seen
// after it (or an Event or condition without a time) still counts.
TEST(DoctorChecks, AReconcileErrorBeforeTheCollectorBecameReadyIsHistory) {
  auto view = [](const std::string& eventLastSeen, const std::string& readySince) {
    return viewFromDocuments(docs(
        "apiVersion: opentelemetry.io/v1beta1\nkind: OpenTelemetryCollector\nmetadata: {name: g, namespace: obs}\n"
        "spec:\n  mode: deployment\n  config:\n    receivers: {otlp: {protocols: {grpc: {}}}}\n    exporters: {debug: {}}\n"
        "    service: {pipelines: {traces: {receivers: [otlp], exporters: [debug]}}}\n"
        "status:\n  conditions:\n  - {type: Ready, status: 'True', reason: Reconciled" +
        (readySince.empty() ? std::string() : ", lastTransitionTime: '" + readySince + "'") + "}\n"
        "---\napiVersion: v1\nkind: Event\nmetadata: {name: g.1, namespace: obs}\n"
        "involvedObject: {apiVersion: opentelemetry.io/v1beta1, kind: OpenTelemetryCollector, name: g, namespace: obs}\n"
        "type: Warning\nreason: Error\nmessage: 'failed to create ClusterRoleBinding g-collector: forbidden'\n" +
        (eventLastSeen.empty() ? std::string() : "lastTimestamp: '" + eventLastSeen + "'\n")));
  };
  auto reported = [](const ClusterView& v) {
    for (const auto& f : diagnose(v).findings)
      if (f.check == "collector-reconcile-error") return true;
    return false;
  };
  EXPECT_FALSE(reported(view("2026-11-30T23:58:00Z", "2026-11-30T23:59:30Z")));
  EXPECT_FALSE(reported(view("2026-11-30T23:59:30Z", "2026-11-30T23:59:30Z")));
  EXPECT_TRUE(reported(view("2026-11-30T23:59:31Z", "2026-11-30T23:59:30Z")));
  EXPECT_TRUE(reported(view("", "2026-11-30T23:59:30Z")));
  EXPECT_TRUE(reported(view("2026-11-30T23:58:00Z", "")));
}

}  // namespace
