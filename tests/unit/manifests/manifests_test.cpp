// Unit tests of lib/manifests: names, labels, the config hash against upstream's literal e2e names.
#include <gtest/gtest.h>

#include "lib/api/collector.h"
#include "lib/core/error.h"
#include "lib/core/yaml.h"
#include <map>

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
  bad.config = Json::object();
  bad.preset = "gateway";
  EXPECT_EQ(where(bad), "--config");
}

}  // namespace
}  // namespace otel::manifests
