// Unit tests of lib/manifests: names, labels, the config hash against upstream's literal e2e names.
#include <gtest/gtest.h>

#include "lib/api/collector.h"
#include "lib/core/error.h"
#include "lib/core/yaml.h"
#include <algorithm>
#include <map>
#include <set>

#include "lib/manifests/build.h"
#include "lib/manifests/install.h"
#include "lib/manifests/naming.h"
#include "lib/manifests/render.h"

namespace otel::manifests {
namespace {

const char* kVersioned = R"(apiVersion: opentelemetry.io/v1beta1
kind: OpenTelemetryCollector
metadata:
  name: simple
spec:
  mode: "deployment"
  configVersions: 1
  config:
    receivers:
      otlp:
        protocols:
          grpc: {}
          http: {}
    processors:
      batch:
        send_batch_size: 10000
        timeout: TIMEOUT
    exporters:
      debug: {}
    service:
      pipelines:
        traces:
          receivers: [otlp]
          processors: [batch]
          exporters: [debug]
)";

std::string configMapNameFor(const std::string& timeout) {
  std::string text = kVersioned;
  text.replace(text.find("TIMEOUT"), 7, timeout);
  RenderOptions o;
  auto res = render(parseYamlStream(text, "versioned.yaml"), o);
  for (const auto& obj : res.objects)
    if (obj["kind"] == "ConfigMap") return obj["metadata"]["name"];
  return "";
}

TEST(ConfigHash, MatchesUpstreamVersionedConfigMapNames) {
  EXPECT_EQ(configMapNameFor("10s"), "simple-collector-5723ff27");
  EXPECT_EQ(configMapNameFor("20s"), "simple-collector-dfcfaead");
}

TEST(Naming, TruncateAndDns) {
  EXPECT_EQ(naming::collector("simple"), "simple-collector");
  std::string longName(70, 'a');
  EXPECT_EQ(naming::collector(longName).size(), 63u);
  EXPECT_EQ(naming::collector(longName).substr(53), "-collector");
  EXPECT_EQ(naming::dnsName("My_Name"), "my-name");
  EXPECT_EQ(naming::dnsName("-x-"), "axa");
  EXPECT_EQ(naming::configMap("simple", "0123456789abcdef"), "simple-collector-01234567");
}

TEST(Labels, VersionLabelRule) {
  Json meta = {{"name", "c"}, {"namespace", "ns"}};
  EXPECT_EQ(objectLabels(meta, "c-collector", "", "opentelemetry-collector")["app.kubernetes.io/version"], "latest");
  EXPECT_EQ(objectLabels(meta, "c-collector", "otel/col:0.1.0", "x")["app.kubernetes.io/version"], "0.1.0");
  EXPECT_EQ(objectLabels(meta, "c-collector", "otel/col:1.2@sha256:abc", "x")["app.kubernetes.io/version"], "1.2");
  EXPECT_EQ(objectLabels(meta, "c-collector", "", "x")["app.kubernetes.io/instance"], "ns.c");
}

}  // namespace
}  // namespace otel::manifests

namespace otel::manifests {
namespace {

TEST(Install, EmbeddedCrdsAndControllerObjects) {
  EXPECT_EQ(crdObjects().size(), 4u);
  InstallOptions o;
  o.ns = "otel-system";
  auto objs = installObjects(o);
  std::map<std::string, Json> byKind;
  for (const auto& x : objs) byKind[x["kind"].get<std::string>() + "/" + x["metadata"]["name"].get<std::string>()] = x;
  ASSERT_TRUE(byKind.count("Deployment/kubectl-otel-controller"));
  const Json& c = byKind["Deployment/kubectl-otel-controller"]["spec"]["template"]["spec"]["containers"][0];
  EXPECT_EQ(c["securityContext"]["readOnlyRootFilesystem"], true);
  EXPECT_EQ(c["securityContext"]["runAsNonRoot"], true);
  const Json& mwc = byKind["MutatingWebhookConfiguration/kubectl-otel-mutating-webhook-configuration"];
  bool pod = false;
  for (const auto& w : mwc["webhooks"])
    if (w["name"] == "mpod.kb.io") {
      pod = true;
      EXPECT_EQ(w["failurePolicy"], "Ignore");
      EXPECT_EQ(w["clientConfig"]["service"]["path"], "/mutate-v1-pod");
      EXPECT_EQ(w["clientConfig"]["service"]["namespace"], "otel-system");
    }
  EXPECT_TRUE(pod);
  EXPECT_EQ(byKind["CustomResourceDefinition/opentelemetrycollectors.opentelemetry.io"]["spec"]["conversion"]["webhook"]
                  ["clientConfig"]["service"]["namespace"],
            "otel-system");
  // every served webhook path has an entry: the TargetAllocator defaulter too
  std::set<std::string> paths;
  for (const auto& w : mwc["webhooks"]) paths.insert(w["clientConfig"]["service"]["path"].get<std::string>());
  EXPECT_TRUE(paths.count("/mutate-opentelemetry-io-v1alpha1-targetallocator"));
  // self-managed certificate by default: no cert-manager objects, no mounted Secret, no injection annotation
  EXPECT_FALSE(byKind.count("Certificate/kubectl-otel-serving-cert"));
  EXPECT_FALSE(mwc["metadata"].contains("annotations"));
  EXPECT_EQ(c["volumeMounts"].size(), 1u);
}

TEST(Install, CertManagerIssuesTheServingCertificate) {
  InstallOptions o;
  o.ns = "otel-system";
  o.certManager = true;
  auto objs = installObjects(o);
  std::map<std::string, Json> byKind;
  std::vector<std::string> order;
  for (const auto& x : objs) {
    order.push_back(x["kind"].get<std::string>());
    byKind[x["kind"].get<std::string>() + "/" + x["metadata"]["name"].get<std::string>()] = x;
  }
  ASSERT_TRUE(byKind.count("Issuer/kubectl-otel-selfsigned-issuer"));
  ASSERT_TRUE(byKind.count("Certificate/kubectl-otel-serving-cert"));
  const Json& cert = byKind["Certificate/kubectl-otel-serving-cert"];
  EXPECT_EQ(cert["metadata"]["namespace"], "otel-system");
  EXPECT_EQ(cert["spec"]["dnsNames"], Json::parse(R"(["kubectl-otel-webhook.otel-system.svc","kubectl-otel-webhook.otel-system.svc.cluster.local"])"));
  EXPECT_EQ(cert["spec"]["issuerRef"]["name"], "kubectl-otel-selfsigned-issuer");
  EXPECT_EQ(cert["spec"]["secretName"], "kubectl-otel-webhook-server-cert");
  // the Issuer and Certificate come before the Deployment that mounts the Secret
  auto pos = [&](const std::string& k) { return std::find(order.begin(), order.end(), k) - order.begin(); };
  EXPECT_LT(pos("Certificate"), pos("Deployment"));
  const Json& pod = byKind["Deployment/kubectl-otel-controller"]["spec"]["template"]["spec"];
  const Json& c = pod["containers"][0];
  EXPECT_EQ(c["command"], Json::parse(R"(["kubectl-otel","run","--webhook-certs=files"])"));
  bool mounted = false;
  for (const auto& m : c["volumeMounts"])
    if (m["name"] == "cert") {
      mounted = true;
      EXPECT_EQ(m["mountPath"], "/tmp/k8s-webhook-server/serving-certs");
      EXPECT_EQ(m["readOnly"], true);
    }
  EXPECT_TRUE(mounted);
  bool volume = false;
  for (const auto& v : pod["volumes"])
    if (v["name"] == "cert") volume = v["secret"]["secretName"] == "kubectl-otel-webhook-server-cert";
  EXPECT_TRUE(volume);
  const std::string from = "otel-system/kubectl-otel-serving-cert";
  for (const char* k : {"MutatingWebhookConfiguration/kubectl-otel-mutating-webhook-configuration",
                        "ValidatingWebhookConfiguration/kubectl-otel-validating-webhook-configuration",
                        "CustomResourceDefinition/opentelemetrycollectors.opentelemetry.io"})
    EXPECT_EQ(byKind[k]["metadata"]["annotations"]["cert-manager.io/inject-ca-from"], from) << k;
  // CRDs without a conversion webhook get no CA injection
  EXPECT_FALSE(byKind["CustomResourceDefinition/instrumentations.opentelemetry.io"]["metadata"].contains("annotations") &&
               byKind["CustomResourceDefinition/instrumentations.opentelemetry.io"]["metadata"]["annotations"].contains(
                   "cert-manager.io/inject-ca-from"));
}

}  // namespace
}  // namespace otel::manifests

namespace otel::manifests {
namespace {

TEST(TargetAllocatorMtls, CertManagerObjectsAndMounts) {
  const char* text = R"(apiVersion: opentelemetry.io/v1beta1
kind: OpenTelemetryCollector
metadata: {name: m, namespace: ns}
spec:
  mode: statefulset
  targetAllocator: {enabled: true, mtls: {enabled: true}}
  config:
    receivers: {prometheus: {config: {scrape_configs: [{job_name: j}]}}}
    exporters: {debug: {}}
    service: {pipelines: {metrics: {receivers: [prometheus], exporters: [debug]}}}
)";
  RenderOptions o;
  EXPECT_THROW(render(parseYamlStream(text, "m.yaml"), o), std::exception);  // cert-manager not available
  o.build.certManager = true;
  auto objs = render(parseYamlStream(text, "m.yaml"), o).objects;
  std::vector<std::string> certs;
  std::string collectorYaml;
  for (const auto& x : objs) {
    if (x["apiVersion"] == "cert-manager.io/v1") certs.push_back(x["kind"].get<std::string>() + "/" + x["metadata"]["name"].get<std::string>());
    if (x["kind"] == "ConfigMap" && x["data"].contains("collector.yaml")) collectorYaml = x["data"]["collector.yaml"];
    if (x["kind"] == "StatefulSet") {
      EXPECT_EQ(x["spec"]["template"]["spec"]["volumes"].back()["name"], "m-ta-client-cert");
    }
  }
  EXPECT_EQ(certs, (std::vector<std::string>{"Issuer/m-self-signed-issuer", "Certificate/m-ca-cert", "Issuer/m-ca-issuer",
                                             "Certificate/m-ta-server-cert", "Certificate/m-ta-client-cert"}));
  EXPECT_NE(collectorYaml.find("endpoint: https://m-targetallocator:443"), std::string::npos);
  EXPECT_NE(collectorYaml.find("ca_file: /tls/ca.crt"), std::string::npos);
}

}  // namespace
}  // namespace otel::manifests

namespace otel::manifests {
namespace {

TEST(Render, NamespacesWarningsAndErrors) {
  const char* text = R"(apiVersion: v1
kind: ConfigMap
metadata: {name: unrelated}
---
apiVersion: opentelemetry.io/v1alpha1
kind: OpenTelemetryCollector
metadata: {name: old}
spec:
  config: |
    receivers: {otlp: {protocols: {grpc: {}}}}
    processors: {batch: null}
    exporters: {debug: {}}
    service: {pipelines: {traces: {receivers: [otlp], processors: [batch], exporters: [debug]}}}
)";
  RenderOptions o;
  o.defaultNamespace = "team-a";
  auto res = render(parseYamlStream(text, "in.yaml"), o);
  ASSERT_FALSE(res.objects.empty());
  EXPECT_EQ(res.objects[0]["apiVersion"], "opentelemetry.io/v1beta1");
  EXPECT_EQ(res.objects[0]["metadata"]["namespace"], "team-a");
  ASSERT_EQ(res.warnings.size(), 2u);
  EXPECT_NE(res.warnings[0].find("ConfigMap unrelated skipped"), std::string::npos);
  EXPECT_NE(res.warnings[1].find("null objects: processors.batch"), std::string::npos);

  const char* bad = R"(apiVersion: opentelemetry.io/v1beta1
kind: OpenTelemetryCollector
metadata: {name: ok}
spec: {config: {receivers: {}, exporters: {}, service: {pipelines: {}}}}
---
apiVersion: opentelemetry.io/v1beta1
kind: OpenTelemetryCollector
metadata: {name: bad}
spec: {mode: sidecar, tolerations: [{key: k}], config: {receivers: {}, exporters: {}, service: {pipelines: {}}}}
)";
  try {
    render(parseYamlStream(bad, "bad.yaml"), o);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.oneLine(),
              "bad.yaml: document 2: OpenTelemetryCollector team-a/bad: spec.tolerations: the OpenTelemetry Collector mode is "
              "set to sidecar, which does not support the attribute 'tolerations'");
  }
  const char* stringConfig = R"(apiVersion: opentelemetry.io/v1beta1
kind: OpenTelemetryCollector
metadata: {name: s}
spec: {config: "receivers: {}"}
)";
  EXPECT_THROW(render(parseYamlStream(stringConfig, "s.yaml"), o), Error);
}

}  // namespace
}  // namespace otel::manifests

#include "lib/manifests/presets.h"

namespace otel::manifests {
namespace {

std::vector<Json> renderParams(const CollectorParams& p) {
  YamlDocument d{collectorFromParams(p), "flags", 0, 1};
  return render({d}, RenderOptions{}).objects;
}

TEST(Presets, EveryPresetRendersAndValidates) {
  for (const char* preset : {"gateway", "agent", "sidecar"}) {
    SCOPED_TRACE(preset);
    CollectorParams p;
    p.name = "x";
    p.preset = preset;
    p.exporterEndpoint = std::string(preset) == "agent" ? "gw:4317" : "";
    auto objs = renderParams(p);
    ASSERT_FALSE(objs.empty());
    std::string mode = objs[0]["spec"]["mode"];
    EXPECT_EQ(mode, std::string(preset) == "gateway" ? "deployment" : std::string(preset) == "agent" ? "daemonset" : "sidecar");
  }
  CollectorParams ta;
  ta.name = "scraper";
  ta.targetAllocator = true;
  ta.prometheusCR = true;
  auto objs = renderParams(ta);
  EXPECT_EQ(objs[0]["spec"]["mode"], "statefulset");
  bool taDeployment = false;
  for (const auto& o : objs) taDeployment = taDeployment || (o["kind"] == "Deployment" && o["metadata"]["name"] == "scraper-targetallocator");
  EXPECT_TRUE(taDeployment);
  CollectorParams pn = ta;
  pn.strategy = "per-node";
  EXPECT_EQ(renderParams(pn)[0]["spec"]["mode"], "daemonset");
  // kubectl-otel's own strategy goes through to the TA ConfigMap our allocator reads
  CollectorParams rv = ta;
  rv.strategy = "rendezvous";
  auto rendered = renderParams(rv);
  EXPECT_EQ(rendered[0]["spec"]["mode"], "statefulset");
  EXPECT_EQ(rendered[0]["spec"]["targetAllocator"]["allocationStrategy"], "rendezvous");
  bool taConfig = false;
  for (const auto& o : rendered)
    if (o["kind"] == "ConfigMap" && o["metadata"]["name"] == "scraper-targetallocator") {
      taConfig = true;
      EXPECT_NE(o["data"]["targetallocator.yaml"].get<std::string>().find("allocation_strategy: rendezvous"), std::string::npos);
    }
  EXPECT_TRUE(taConfig);
}

TEST(Presets, BadFlagsNameTheFlag) {
  auto where = [](CollectorParams p) {
    try {
      collectorFromParams(p);
    } catch (const Error& e) {
      return e.where();
    }
    return std::string("no error");
  };
  CollectorParams p;
  p.name = "x";
  CollectorParams bad = p;
  bad.preset = "edge";
  EXPECT_EQ(where(bad), "--preset");
  bad = p;
  bad.mode = "replicaset";
  EXPECT_EQ(where(bad), "--mode");
  bad = p;
  bad.strategy = "per-node";
  EXPECT_EQ(where(bad), "--strategy");
  bad = p;
  bad.targetAllocator = true;
  bad.strategy = "round-robin";
  EXPECT_EQ(where(bad), "--strategy");
  bad = p;
  bad.config = Json::object();
  bad.preset = "gateway";
  EXPECT_EQ(where(bad), "--config");
}

}  // namespace
}  // namespace otel::manifests

namespace otel::manifests {
namespace {

TEST(Install, UninstallDeletesInReverseOrderAndKeepsCrdsUnlessAsked) {
  InstallOptions o;
  o.ns = "otel-system";
  auto objs = uninstallObjects(o, false);
  ASSERT_FALSE(objs.empty());
  // webhooks go first, so nothing is blocked by a webhook whose controller is gone
  EXPECT_EQ(objs[0]["kind"], "ValidatingWebhookConfiguration");
  EXPECT_EQ(objs[1]["kind"], "MutatingWebhookConfiguration");
  EXPECT_EQ(objs.back()["kind"], "Namespace");
  EXPECT_EQ(objs.back()["metadata"]["name"], "otel-system");
  for (const auto& x : objs) EXPECT_NE(x["kind"], "CustomResourceDefinition");
  EXPECT_EQ(objs.size(), installObjects(o).size() - crdObjects().size());
  auto withCrds = uninstallObjects(o, true);
  EXPECT_EQ(withCrds.size(), installObjects(o).size());
  EXPECT_EQ(withCrds.back()["kind"], "CustomResourceDefinition");
  // a namespace Kubernetes owns is never deleted
  o.ns = "default";
  for (const auto& x : uninstallObjects(o, false)) EXPECT_NE(x["kind"], "Namespace");
}

// Service default/kubernetes as kube-apiserver writes its EndpointSlice (dual-stack here).
Json kubernetesSlice(std::vector<std::string> addresses, std::string portName = "https") {
  Json eps = Json::array();
  for (const auto& a : addresses) eps.push_back({{"addresses", {a}}, {"conditions", {{"ready", true}}}});
  Json s = parseYaml("{apiVersion: discovery.k8s.io/v1, kind: EndpointSlice, metadata: {name: kubernetes, namespace: default,"
                     " labels: {kubernetes.io/service-name: kubernetes}}, addressType: IPv4, ports: [{name: " + portName +
                     ", port: 6443, protocol: TCP}]}");
  s["endpoints"] = eps;
  return s;
}

TEST(OperatorNetworkPolicy, TheApiServerFromTheKubernetesServicesSlices) {
  auto a = apiServerEndpoints({kubernetesSlice({"10.0.0.1", "10.0.0.2"}), kubernetesSlice({"fd00::1", "10.0.0.1"})});
  EXPECT_EQ(a.port, 6443);
  EXPECT_EQ(a.addresses, (std::vector<std::string>{"10.0.0.1", "10.0.0.2", "fd00::1"}));
  auto message = [](const std::vector<Json>& slices) {
    try {
      apiServerEndpoints(slices);
    } catch (const Error& e) {
      return e.oneLine();
    }
    return std::string("no error");
  };
  EXPECT_EQ(message({}), "EndpointSlices of Service default/kubernetes: no EndpointSlice found for the kubernetes Service");
  EXPECT_EQ(message({kubernetesSlice({"10.0.0.1"}, "api")}), "EndpointSlices of Service default/kubernetes: no port named https");
  EXPECT_EQ(message({kubernetesSlice({})}), "EndpointSlices of Service default/kubernetes: no endpoint address");
}

// Upstream's operator, installed by its kustomize: the policy its e2e suite (operator-restart) asserts.
TEST(OperatorNetworkPolicy, AsUpstreamMakesItForItsOwnDeployment) {
  Json dep = parseYaml(R"(
apiVersion: apps/v1
kind: Deployment
metadata: {name: opentelemetry-operator-controller-manager, namespace: opentelemetry-operator-system, uid: u-1}
spec:
  selector: {matchLabels: {app.kubernetes.io/name: opentelemetry-operator, control-plane: controller-manager}}
  template: {metadata: {labels: {app.kubernetes.io/name: opentelemetry-operator, control-plane: controller-manager}}}
)", "");
  OperatorNetworkPolicyInput in{dep, apiServerEndpoints({kubernetesSlice({"172.18.0.2", "fd00::2"})}), 9443, 8443};
  EXPECT_EQ(toYaml(operatorNetworkPolicy(in)),
            "apiVersion: networking.k8s.io/v1\n"
            "kind: NetworkPolicy\n"
            "metadata:\n"
            "  name: opentelemetry-operator\n"
            "  namespace: opentelemetry-operator-system\n"
            "  ownerReferences:\n"
            "  - apiVersion: apps/v1\n"
            "    kind: Deployment\n"
            "    name: opentelemetry-operator-controller-manager\n"
            "    uid: u-1\n"
            "    controller: true\n"
            "    blockOwnerDeletion: true\n"
            "spec:\n"
            "  podSelector:\n"
            "    matchLabels:\n"
            "      app.kubernetes.io/name: opentelemetry-operator\n"
            "  ingress:\n"
            "  - ports:\n"
            "    - port: 9443\n"
            "      protocol: TCP\n"
            "    - port: 8443\n"
            "      protocol: TCP\n"
            "  egress:\n"
            "  - ports:\n"
            "    - port: 6443\n"
            "      protocol: TCP\n"
            "    to:\n"
            "    - ipBlock:\n"
            "        cidr: 172.18.0.2/32\n"
            "    - ipBlock:\n"
            "        cidr: fd00::2/128\n"
            "  policyTypes:\n"
            "  - Ingress\n"
            "  - Egress\n");
}

// `install`'s Deployment: the policy selects its pods (and only pods of that name), a zero port is left out;
// a Deployment whose pods have no app.kubernetes.io/name label is selected by its own selector.
TEST(OperatorNetworkPolicy, SelectsThePodsOfInstallsDeployment) {
  InstallOptions o;
  o.ns = "otel-system";
  Json dep;
  for (const auto& x : installObjects(o))
    if (x["kind"] == "Deployment") dep = x;
  ASSERT_TRUE(dep.is_object());
  dep["metadata"]["uid"] = "u-2";
  Json np = operatorNetworkPolicy({dep, {6443, {"10.0.0.1"}}, 9443, 0});
  EXPECT_EQ(np["metadata"]["name"], "kubectl-otel");
  EXPECT_EQ(np["metadata"]["namespace"], "otel-system");
  EXPECT_EQ(np["metadata"]["ownerReferences"][0]["name"], kControllerName);
  for (const auto& [k, v] : np["spec"]["podSelector"]["matchLabels"].items())
    EXPECT_EQ(dep["spec"]["template"]["metadata"]["labels"][k], v) << k;
  EXPECT_EQ(np["spec"]["ingress"], Json::parse(R"([{"ports":[{"port":9443,"protocol":"TCP"}]}])"));
  dep["spec"]["template"]["metadata"]["labels"].erase("app.kubernetes.io/name");
  np = operatorNetworkPolicy({dep, {6443, {"10.0.0.1"}}, 9443, 8080});
  EXPECT_EQ(np["metadata"]["name"], kControllerName);
  EXPECT_EQ(np["spec"]["podSelector"], dep["spec"]["selector"]);
  EXPECT_EQ(np["spec"]["ingress"][0]["ports"].size(), 2u);
}

TEST(Presets, InstrumentationFromFlags) {
  InstrumentationParams p;
  p.name = "my-inst";
  p.ns = "apps";
  p.endpoint = "http://otel-collector:4317";
  p.sampler = "traceidratio=0.25";
  p.propagators = {"tracecontext", "b3"};
  p.images["java"] = "example.com/java:1";
  p.images["apache-httpd"] = "example.com/httpd:1";
  Json cr = instrumentationFromParams(p);
  EXPECT_EQ(toYaml(cr),
            "apiVersion: opentelemetry.io/v1alpha1\n"
            "kind: Instrumentation\n"
            "metadata:\n"
            "  name: my-inst\n"
            "  namespace: apps\n"
            "spec:\n"
            "  exporter:\n"
            "    endpoint: http://otel-collector:4317\n"
            "  propagators:\n"
            "  - tracecontext\n"
            "  - b3\n"
            "  sampler:\n"
            "    type: traceidratio\n"
            "    argument: \"0.25\"\n"
            "  apacheHttpd:\n"
            "    image: example.com/httpd:1\n"
            "  java:\n"
            "    image: example.com/java:1\n");
  InstrumentationParams d;
  d.name = "defaults";
  Json def = instrumentationFromParams(d);
  EXPECT_EQ(def["spec"]["propagators"], Json::array({"tracecontext", "baggage"}));
  EXPECT_EQ(def["spec"]["sampler"], Json({{"type", "parentbased_traceidratio"}, {"argument", "1"}}));
  EXPECT_FALSE(def["spec"].contains("exporter"));
  EXPECT_FALSE(def["metadata"].contains("namespace"));
}

TEST(Presets, InstrumentationBadFlagsNameTheFlag) {
  auto error = [](InstrumentationParams p) {
    try {
      instrumentationFromParams(p);
    } catch (const Error& e) {
      return e.where() + " | " + e.what();
    }
    return std::string("no error");
  };
  InstrumentationParams p;
  p.name = "x";
  InstrumentationParams bad = p;
  bad.endpoint = "otel-collector:4317";
  EXPECT_EQ(error(bad), "--endpoint | endpoint \"otel-collector:4317\" needs a scheme");
  bad = p;
  bad.propagators = {"w3c"};
  EXPECT_EQ(error(bad), "--propagators | unknown propagator \"w3c\"");
  bad = p;
  bad.sampler = "sometimes";
  EXPECT_EQ(error(bad), "--sampler | unknown sampler type \"sometimes\"");
  bad = p;
  bad.sampler = "traceidratio=2";
  EXPECT_EQ(error(bad), "--sampler | spec.sampler.argument should be in rage [0..1]: 2");
  bad = p;
  bad.images["cobol"] = "x";
  EXPECT_EQ(error(bad), "--cobol-image | unknown language \"cobol\"");
  bad = p;
  bad.name = "";
  EXPECT_EQ(error(bad), "NAME | an Instrumentation name is required");
}

TEST(Render, StandaloneTargetAllocatorWarningsAreKept) {
  const char* text = R"(apiVersion: opentelemetry.io/v1alpha1
kind: TargetAllocator
metadata: {name: shared}
spec:
  allocationStrategy: rendezvous
  image: ghcr.io/open-telemetry/opentelemetry-operator/target-allocator:0.158.0
)";
  RenderOptions o;
  auto res = render(parseYamlStream(text, "ta.yaml"), o);
  ASSERT_EQ(res.warnings.size(), 1u);
  EXPECT_EQ(res.warnings[0].rfind("ta.yaml: document 1: TargetAllocator default/shared: spec.allocationStrategy: rendezvous "
                                  "is kubectl-otel's own strategy",
                                  0),
            0u)
      << res.warnings[0];
}

TEST(Render, InstrumentationsAreValidatedAndDefaulted) {
  const char* text = R"(apiVersion: opentelemetry.io/v1alpha1
kind: Instrumentation
metadata: {name: inst}
spec:
  exporter: {endpoint: "http://c:4317"}
  sampler: {type: parentbased_traceidratio, argument: "0.5"}
  java: {env: [{name: X, value: "1"}]}
)";
  RenderOptions o;
  o.defaultNamespace = "apps";
  auto res = render(parseYamlStream(text, "inst.yaml"), o);
  ASSERT_EQ(res.objects.size(), 1u);
  const Json& inst = res.objects[0];
  EXPECT_EQ(inst["metadata"]["namespace"], "apps");
  EXPECT_FALSE(inst["spec"]["java"]["image"].get<std::string>().empty());  // the webhook's default image
  EXPECT_EQ(inst["spec"]["java"]["env"][0]["name"], "X");                    // the user's fields stay
  EXPECT_TRUE(res.warnings.empty());
  std::string bad = std::string(text);
  bad.replace(bad.find("\"0.5\""), 5, "\"1.5\"");
  try {
    render(parseYamlStream(bad, "inst.yaml"), o);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.oneLine(),
              "inst.yaml: document 1: Instrumentation apps/inst: spec.sampler.argument: spec.sampler.argument should be in "
              "rage [0..1]: 1.5");
  }
}

}  // namespace
}  // namespace otel::manifests

namespace otel::manifests {
namespace {

TEST(Render, OpAMPBridgesAreValidatedAndDefaulted) {
  const char* ok = "apiVersion: opentelemetry.io/v1alpha1\nkind: OpAMPBridge\nmetadata: {name: br}\n"
                   "spec: {endpoint: 'ws://opamp:4320/v1/opamp', capabilities: {AcceptsRemoteConfig: true}}\n";
  auto res = render(parseYamlStream(ok, "b.yaml"), RenderOptions{});
  ASSERT_EQ(res.objects.size(), 1u);
  EXPECT_EQ(res.objects[0]["spec"]["capabilities"]["ReportsStatus"], true);
  EXPECT_EQ(res.objects[0]["spec"]["replicas"], 1);
  std::string bad = std::string(ok) + "---\napiVersion: opentelemetry.io/v1alpha1\nkind: OpAMPBridge\nmetadata: {name: two}\n"
                                      "spec: {endpoint: 'ws://opamp:4320', capabilities: {ReportsStatus: true}, replicas: 3}\n";
  try {
    render(parseYamlStream(bad, "b.yaml"), RenderOptions{});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.oneLine(), "b.yaml: document 2: OpAMPBridge default/two: spec.replicas: replica count must not be greater than 1");
  }
}

TEST(Render, FipsDisabledComponentsRefuseTheCollector) {
  const char* text = R"(apiVersion: opentelemetry.io/v1beta1
kind: OpenTelemetryCollector
metadata: {name: c}
spec:
  config:
    receivers: {otlp: {protocols: {grpc: {}}}}
    exporters: {debug: {}}
    service: {pipelines: {traces: {receivers: [otlp], exporters: [debug]}}}
)";
  RenderOptions o;
  EXPECT_NO_THROW(render(parseYamlStream(text, "c.yaml"), o));
  o.fipsDisabledComponents = {"exporter.debug"};
  try {
    render(parseYamlStream(text, "c.yaml"), o);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.oneLine(), "c.yaml: document 1: OpenTelemetryCollector default/c: spec.config: the collector configuration "
                           "contains not FIPS compliant components: [debug]. Please remove it from the config");
  }
}

}  // namespace
}  // namespace otel::manifests
