// `kubectl otel create`, `create instrumentation`, `install` and `uninstall` run as the real binary
// against the test API server: apply, idempotent re-apply, validation before anything is written,
// `--wait` seeing Ready once the test sets the status, and the custom resources uninstall leaves.
#include <algorithm>
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <future>
#include <thread>

#include "lib/core/yaml.h"
#include "tests/support/shell.h"
#include "tests/support/api_server.h"

namespace {

using otel::Json;
using otel::clitest::haveKubectl;
using otel::clitest::Result;
using otel::clitest::sh;
using otel::clitest::tempDir;

const std::string kBin = OTEL_CLI_BINARY;
const std::string kBeta = "opentelemetry.io/v1beta1";
const std::string kAlpha = "opentelemetry.io/v1alpha1";

class CreateCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = tempDir(::testing::UnitTest::GetInstance()->current_test_info()->name());
    kubeconfig_ = dir_ + "/kubeconfig";
    server_.writeKubeconfig(kubeconfig_);
  }
  Result otel(const std::string& args) { return sh(kBin + " --kubeconfig " + kubeconfig_ + " " + args); }
  std::string write(const std::string& name, const std::string& text) {
    std::string path = dir_ + "/" + name;
    std::ofstream(path) << text;
    return path;
  }
  void installCrds() {
    Result r = otel("install --crds-only");
    ASSERT_EQ(r.code, 0) << r.err;
  }
  Json collector(const std::string& name, const std::string& ns = "default") {
    return server_.getObject(kBeta, "opentelemetrycollectors", ns, name);
  }
  // Waits (bounded) until the collector exists in the server.
  bool waitForCollector(const std::string& name) {
    return otel::clitest::eventually([&] { return !collector(name).is_null(); });
  }
  otel::testing::TestApiServer server_;
  std::string dir_, kubeconfig_;
};

const char* kCollectorFile = R"(apiVersion: opentelemetry.io/v1alpha1
kind: OpenTelemetryCollector
metadata:
  name: from-file
spec:
  config: |
    receivers: {otlp: {protocols: {grpc: {}}}}
    exporters: {debug: {}}
    service: {pipelines: {traces: {receivers: [otlp], exporters: [debug]}}}
---
apiVersion: opentelemetry.io/v1alpha1
kind: Instrumentation
metadata:
  name: inst
  labels: {team: a}
spec:
  exporter: {endpoint: "http://from-file-collector:4317"}
  sampler: {type: parentbased_traceidratio, argument: "0.5"}
  someFutureField: {kept: true}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: unrelated
data: {a: b}
)";

TEST_F(CreateCli, InstallCrdsOnlyServesTheKinds) {
  installCrds();
  auto crds = server_.listObjects("apiextensions.k8s.io/v1", "customresourcedefinitions");
  EXPECT_EQ(crds.size(), 4u);
  // re-applying is a no-op for the server
  auto rv = server_.resourceVersion();
  Result again = otel("install --crds-only");
  ASSERT_EQ(again.code, 0) << again.err;
  EXPECT_EQ(server_.resourceVersion(), rv) << "re-applying identical CRDs changed something";
}

TEST_F(CreateCli, CreateCollectorAppliesAndReapplyIsANoOp) {
  installCrds();
  Result r = otel("create collector gw --preset gateway --replicas 2");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "opentelemetrycollector.opentelemetry.io/gw serverside-applied\n");
  Json cr = collector("gw");
  ASSERT_FALSE(cr.is_null());
  EXPECT_EQ(cr["spec"]["mode"], "deployment");
  EXPECT_EQ(cr["spec"]["replicas"], 2);
  EXPECT_TRUE(cr["spec"]["config"]["receivers"].contains("otlp"));
  std::string rv = cr["metadata"]["resourceVersion"];
  Result again = otel("create collector gw --preset gateway --replicas 2");
  ASSERT_EQ(again.code, 0) << again.err;
  EXPECT_EQ(collector("gw")["metadata"]["resourceVersion"], rv) << "an identical re-apply must not write";
  // a changed flag is applied over the same object
  Result changed = otel("create collector gw --preset gateway --replicas 3");
  ASSERT_EQ(changed.code, 0) << changed.err;
  EXPECT_EQ(collector("gw")["spec"]["replicas"], 3);
  EXPECT_EQ(collector("gw")["metadata"]["uid"], cr["metadata"]["uid"]);
}

TEST_F(CreateCli, CreateCollectorInTheNamespaceFlag) {
  installCrds();
  Result r = otel("-n kube-public create collector agent --preset agent");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(collector("agent", "kube-public")["spec"]["mode"], "daemonset");
  EXPECT_TRUE(collector("agent").is_null());
}

TEST_F(CreateCli, OnlyClientDryRunsAreKnown) {
  auto rv = server_.resourceVersion();
  for (const std::string& args : {std::string("create collector gw --preset gateway --dry-run=server"),
                                  std::string("install --dry-run=server"), std::string("uninstall --dry-run=server")}) {
    Result r = otel(args);
    EXPECT_EQ(r.code, 1) << args;
    EXPECT_EQ(r.err.rfind("error: --dry-run: unsupported value \"server\"\n", 0), 0u) << args << ": " << r.err;
  }
  EXPECT_EQ(server_.resourceVersion(), rv);
}

TEST_F(CreateCli, InvalidCollectorWritesNothing) {
  installCrds();
  auto rv = server_.resourceVersion();
  Result r = otel("create collector bad --mode replicaset --preset gateway");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("--mode"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.rfind("error: --mode: unknown mode \"replicaset\"\n", 0), 0u) << r.err;  // one line (and a hint)
  // a file with one valid and one invalid collector: nothing of it is applied
  std::string file = write("mixed.yaml", std::string(kCollectorFile) + R"(---
apiVersion: opentelemetry.io/v1beta1
kind: OpenTelemetryCollector
metadata: {name: broken}
spec:
  mode: sidecar
  tolerations: [{key: k}]
  config: {receivers: {otlp: {protocols: {grpc: {}}}}, exporters: {debug: {}}, service: {pipelines: {traces: {receivers: [otlp], exporters: [debug]}}}}
)");
  r = otel("create -f " + file);
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("mixed.yaml: document 4: OpenTelemetryCollector default/broken: spec.tolerations"), std::string::npos)
      << r.err;
  EXPECT_EQ(server_.resourceVersion(), rv) << "something was written";
  EXPECT_TRUE(collector("from-file").is_null());
}

TEST_F(CreateCli, CreateFromFileAppliesOurKindsOnly) {
  installCrds();
  std::string file = write("in.yaml", kCollectorFile);
  Result r = otel("create -f " + file);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out,
            "opentelemetrycollector.opentelemetry.io/from-file serverside-applied\n"
            "instrumentation.opentelemetry.io/inst serverside-applied\n");
  EXPECT_NE(r.err.find("ConfigMap unrelated skipped: kubectl otel create takes OpenTelemetryCollector"), std::string::npos)
      << r.err;
  EXPECT_EQ(r.err.find("ConfigMap unrelated", r.err.find("ConfigMap unrelated") + 1), std::string::npos)
      << "one warning per foreign object: " << r.err;
  EXPECT_TRUE(server_.getObject("v1", "configmaps", "default", "unrelated").is_null());
  // the v1alpha1 collector is stored as v1beta1 with its string config parsed
  Json cr = collector("from-file");
  ASSERT_FALSE(cr.is_null());
  EXPECT_TRUE(cr["spec"]["config"]["receivers"].contains("otlp"));
  Json inst = server_.getObject(kAlpha, "instrumentations", "default", "inst");
  ASSERT_FALSE(inst.is_null());
  EXPECT_EQ(inst["spec"]["someFutureField"], Json({{"kept", true}}));  // unknown fields survive
  EXPECT_EQ(inst["metadata"]["labels"]["team"], "a");
  auto rv = server_.resourceVersion();
  Result again = otel("create -f " + file);
  ASSERT_EQ(again.code, 0) << again.err;
  EXPECT_EQ(server_.resourceVersion(), rv) << "an identical re-apply must not write";
}

TEST_F(CreateCli, AnUnservedOpenTelemetryKindStopsEverything) {
  installCrds();
  auto rv = server_.resourceVersion();
  std::string file = write("v1beta1-inst.yaml", std::string(kCollectorFile) +
                                                    "---\napiVersion: opentelemetry.io/v1beta1\nkind: Instrumentation\n"
                                                    "metadata: {name: newer}\nspec: {}\n");
  Result r = otel("create -f " + file);
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err.rfind("error: " + file + ": document 4: Instrumentation newer: apiVersion: unsupported kind "
                        "\"Instrumentation\" in apiVersion \"opentelemetry.io/v1beta1\"\n", 0),
            0u)
      << r.err;
  EXPECT_EQ(server_.resourceVersion(), rv) << "something was written";
}

TEST_F(CreateCli, CreateInstrumentationAppliesAndPrints) {
  installCrds();
  Result dry = otel("create instrumentation my-inst --endpoint http://otel-collector:4317 --sampler always_on "
                    "--propagators tracecontext,baggage,b3 --java-image example.com/java:2 --dry-run=client -o yaml");
  ASSERT_EQ(dry.code, 0) << dry.err;
  EXPECT_EQ(dry.out,
            "apiVersion: opentelemetry.io/v1alpha1\nkind: Instrumentation\nmetadata:\n  name: my-inst\nspec:\n  exporter:\n"
            "    endpoint: http://otel-collector:4317\n  propagators:\n  - tracecontext\n  - baggage\n  - b3\n  sampler:\n"
            "    type: always_on\n  java:\n    image: example.com/java:2\n");
  EXPECT_TRUE(server_.getObject(kAlpha, "instrumentations", "default", "my-inst").is_null());
  Result r = otel("create instrumentation my-inst --endpoint http://otel-collector:4317 --java-image example.com/java:2");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "instrumentation.opentelemetry.io/my-inst serverside-applied\n");
  Json inst = server_.getObject(kAlpha, "instrumentations", "default", "my-inst");
  ASSERT_FALSE(inst.is_null());
  EXPECT_EQ(inst["spec"]["exporter"]["endpoint"], "http://otel-collector:4317");
  EXPECT_EQ(inst["spec"]["java"]["image"], "example.com/java:2");
  EXPECT_EQ(inst["spec"]["sampler"]["type"], "parentbased_traceidratio");
  // --render shows what the webhook stores: default images for the other languages
  Result render = otel("create instrumentation x --endpoint http://c:4317 --render -o json");
  ASSERT_EQ(render.code, 0) << render.err;
  Json rendered = Json::parse(render.out);
  EXPECT_FALSE(rendered["spec"]["python"]["image"].get<std::string>().empty());
  // bad flags: one line, exit 1, nothing written
  auto rv = server_.resourceVersion();
  Result bad = otel("create instrumentation y --endpoint http://c:4317 --sampler traceidratio=7");
  EXPECT_EQ(bad.code, 1);
  EXPECT_EQ(bad.err, "error: --sampler: spec.sampler.argument should be in rage [0..1]: 7\n");
  EXPECT_EQ(server_.resourceVersion(), rv);
}

TEST_F(CreateCli, WaitSeesReadyWhenTheControllerReportsIt) {
  installCrds();
  auto run = std::async(std::launch::async, [&] { return otel("create collector w --preset gateway --wait --timeout 60"); });
  ASSERT_TRUE(waitForCollector("w"));
  Json cr = collector("w");
  cr["status"] = {{"observedGeneration", cr["metadata"]["generation"]},
                  {"scale", {{"replicas", 1}, {"statusReplicas", "1/1"}}},
                  {"conditions", Json::array({{{"type", "Ready"}, {"status", "True"}, {"reason", "Reconciled"}}})}};
  server_.putObject(cr);
  ASSERT_EQ(run.wait_for(std::chrono::seconds(60)), std::future_status::ready);
  Result r = run.get();
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("opentelemetrycollector.opentelemetry.io/w serverside-applied\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("opentelemetrycollector/w: ready (1/1 replicas)\n"), std::string::npos) << r.out;
}

TEST_F(CreateCli, WaitReportsAReconcileError) {
  installCrds();
  auto run = std::async(std::launch::async, [&] { return otel("create collector e --preset gateway --wait --timeout 60"); });
  ASSERT_TRUE(waitForCollector("e"));
  Json cr = collector("e");
  cr["status"] = {{"conditions", Json::array({{{"type", "Ready"},
                                                {"status", "False"},
                                                {"reason", "ReconcileError"},
                                                {"message", "image pull failed"}}})}};
  server_.putObject(cr);
  ASSERT_EQ(run.wait_for(std::chrono::seconds(60)), std::future_status::ready);
  Result r = run.get();
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("image pull failed"), std::string::npos) << r.err;
}

TEST_F(CreateCli, WaitTimesOutWithoutAController) {
  installCrds();
  Result r = otel("create collector t --preset gateway --wait --timeout 1");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("not Ready after 1s"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("kubectl otel install"), std::string::npos) << r.err;
  // sidecar collectors have no pods of their own: nothing to wait for
  Result s = otel("create collector sc --preset sidecar --wait --timeout 1");
  EXPECT_EQ(s.code, 0) << s.err;
  EXPECT_NE(s.out.find("sidecar mode, nothing to wait for"), std::string::npos) << s.out;
}

TEST_F(CreateCli, InstallThenUninstallLeavesTheCustomResources) {
  Result r = otel("install");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("Deployment/kubectl-otel-controller serverside-applied"), std::string::npos) << r.out;
  EXPECT_FALSE(server_.getObject("apps/v1", "deployments", "kubectl-otel-system", "kubectl-otel-controller").is_null());
  EXPECT_FALSE(server_.getObject("admissionregistration.k8s.io/v1", "mutatingwebhookconfigurations", "",
                                 "kubectl-otel-mutating-webhook-configuration")
                   .is_null());
  auto rv = server_.resourceVersion();
  Result again = otel("install");
  ASSERT_EQ(again.code, 0) << again.err;
  EXPECT_EQ(server_.resourceVersion(), rv) << "re-installing the same version changed something";
  // a user's collector (stored directly: the webhook it would go through has no controller here)
  server_.putObject(otel::parseYaml("{apiVersion: opentelemetry.io/v1beta1, kind: OpenTelemetryCollector, metadata: "
                                    "{name: mine, namespace: default}, spec: {mode: deployment, config: {}}}"));
  Result dry = otel("uninstall --dry-run=client");
  ASSERT_EQ(dry.code, 0) << dry.err;
  EXPECT_EQ(dry.out.rfind("ValidatingWebhookConfiguration/kubectl-otel-validating-webhook-configuration deleted (dry run)\n", 0), 0u)
      << dry.out;
  EXPECT_FALSE(server_.getObject("apps/v1", "deployments", "kubectl-otel-system", "kubectl-otel-controller").is_null());
  Result u = otel("uninstall");
  ASSERT_EQ(u.code, 0) << u.err;
  EXPECT_NE(u.out.find("Deployment/kubectl-otel-controller deleted\n"), std::string::npos) << u.out;
  EXPECT_NE(u.out.find("left in the cluster: 1 OpenTelemetryCollector (default/mine)"), std::string::npos) << u.out;
  EXPECT_TRUE(server_.getObject("apps/v1", "deployments", "kubectl-otel-system", "kubectl-otel-controller").is_null());
  EXPECT_TRUE(server_.getObject("admissionregistration.k8s.io/v1", "mutatingwebhookconfigurations", "",
                                "kubectl-otel-mutating-webhook-configuration")
                  .is_null());
  EXPECT_TRUE(server_.getObject("rbac.authorization.k8s.io/v1", "clusterroles", "", "kubectl-otel-controller").is_null());
  EXPECT_EQ(server_.listObjects("apiextensions.k8s.io/v1", "customresourcedefinitions").size(), 4u);
  EXPECT_FALSE(collector("mine").is_null());
  // again: everything is already gone, which is not an error
  Result u2 = otel("uninstall");
  ASSERT_EQ(u2.code, 0) << u2.err;
  EXPECT_NE(u2.out.find("Deployment/kubectl-otel-controller not found\n"), std::string::npos) << u2.out;
  // --crds deletes the CRDs and says which objects go with them
  Result all = otel("uninstall --crds");
  ASSERT_EQ(all.code, 0) << all.err;
  EXPECT_NE(all.out.find("deleting the CRDs also deletes 1 OpenTelemetryCollector (default/mine)"), std::string::npos)
      << all.out;
  EXPECT_TRUE(server_.listObjects("apiextensions.k8s.io/v1", "customresourcedefinitions").empty());
}

// The --dry-run output is valid Kubernetes YAML: the real kubectl accepts it (`kubectl apply
// --dry-run=client -f -`) against a server with our CRDs.
TEST_F(CreateCli, DryRunOutputReappliesWithKubectl) {
  if (!haveKubectl()) GTEST_SKIP() << "kubectl is not on PATH";
  installCrds();
  std::string kubectl = "timeout 60 kubectl --kubeconfig " + kubeconfig_ + " apply --dry-run=client -f - ";
  for (const std::string& args :
       {std::string("create collector gw --preset gateway --target-allocator --dry-run=client -o yaml"),
        std::string("create collector ag --preset agent --dry-run=client -o json"),
        std::string("create instrumentation inst --endpoint http://c:4317 --dry-run=client -o yaml"),
        std::string("install --skip-crds --dry-run=client -o yaml")}) {
    Result r = sh(kBin + " --kubeconfig " + kubeconfig_ + " " + args + " | " + kubectl);
    EXPECT_EQ(r.code, 0) << args << "\n" << r.out << r.err;
    EXPECT_NE(r.out.find("(dry run)"), std::string::npos) << args << "\n" << r.out;
  }
}

}  // namespace

namespace {

// install -n into a namespace the user already has: the namespace is not labelled or taken over, and
// uninstall leaves it (and what is in it) alone.
TEST_F(CreateCli, UninstallKeepsANamespaceInstallDidNotCreate) {
  server_.putObject(otel::parseYaml("{apiVersion: v1, kind: Namespace, metadata: {name: observability, labels: {team: o}}}"));
  Result r = otel("-n observability install");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("Namespace/observability exists, kept as it is\n"), std::string::npos) << r.out;
  Json ns = server_.getObject("v1", "namespaces", "", "observability");
  EXPECT_FALSE(ns["metadata"]["labels"].contains("app.kubernetes.io/name")) << ns.dump();
  EXPECT_FALSE(server_.getObject("apps/v1", "deployments", "observability", "kubectl-otel-controller").is_null());
  server_.putObject(otel::parseYaml("{apiVersion: opentelemetry.io/v1beta1, kind: OpenTelemetryCollector, metadata: "
                                    "{name: mine, namespace: observability}, spec: {mode: deployment, config: {}}}"));
  Result u = otel("-n observability uninstall");
  ASSERT_EQ(u.code, 0) << u.err;
  EXPECT_NE(u.out.find("Namespace/observability kept (kubectl otel install did not create it)\n"), std::string::npos)
      << u.out;
  EXPECT_TRUE(server_.getObject("apps/v1", "deployments", "observability", "kubectl-otel-controller").is_null());
  ns = server_.getObject("v1", "namespaces", "", "observability");
  ASSERT_FALSE(ns.is_null());
  EXPECT_FALSE(ns["metadata"].contains("deletionTimestamp")) << ns.dump();
  EXPECT_FALSE(collector("mine", "observability").is_null());
  // the namespace install creates itself is deleted again
  Result own = otel("install");
  ASSERT_EQ(own.code, 0) << own.err;
  EXPECT_NE(own.out.find("Namespace/kubectl-otel-system serverside-applied\n"), std::string::npos) << own.out;
  Result u2 = otel("uninstall");
  ASSERT_EQ(u2.code, 0) << u2.err;
  EXPECT_NE(u2.out.find("Namespace/kubectl-otel-system deleted\n"), std::string::npos) << u2.out;
}

}  // namespace

namespace {

// A minimal CRD of cert-manager's (the test API server serves what a CRD declares).
Json certManagerCrd(const std::string& plural, const std::string& kind) {
  return otel::parseYaml("{apiVersion: apiextensions.k8s.io/v1, kind: CustomResourceDefinition, metadata: {name: " + plural +
                         ".cert-manager.io}, spec: {group: cert-manager.io, scope: Namespaced, names: {plural: " + plural +
                         ", kind: " + kind + "}, versions: [{name: v1, served: true, storage: true, schema: {openAPIV3Schema: "
                         "{type: object, x-kubernetes-preserve-unknown-fields: true}}}]}}");
}

// install --cert-manager: refused with one line and nothing written where cert-manager is not installed;
// where it is, the Issuer and Certificate are applied, the webhook configurations ask for CA injection, and
// uninstall deletes them again.
TEST_F(CreateCli, InstallWithCertManager) {
  Result refused = otel("install --cert-manager");
  EXPECT_NE(refused.code, 0);
  EXPECT_NE(refused.err.find("cert-manager is not installed"), std::string::npos) << refused.err;
  EXPECT_EQ(refused.err.rfind("error: --cert-manager: cert-manager is not installed", 0), 0u) << refused.err;  // one line, then the hint
  EXPECT_TRUE(server_.listObjects("apiextensions.k8s.io/v1", "customresourcedefinitions").empty()) << "partial install";

  server_.putObject(certManagerCrd("issuers", "Issuer"));
  server_.putObject(certManagerCrd("certificates", "Certificate"));
  Result r = otel("install --cert-manager");
  ASSERT_EQ(r.code, 0) << r.err;
  Json cert = server_.getObject("cert-manager.io/v1", "certificates", "kubectl-otel-system", "kubectl-otel-serving-cert");
  ASSERT_FALSE(cert.is_null()) << r.out;
  EXPECT_EQ(cert["spec"]["secretName"], "kubectl-otel-webhook-server-cert");
  EXPECT_FALSE(server_.getObject("cert-manager.io/v1", "issuers", "kubectl-otel-system", "kubectl-otel-selfsigned-issuer").is_null());
  Json mwc = server_.getObject("admissionregistration.k8s.io/v1", "mutatingwebhookconfigurations", "",
                               "kubectl-otel-mutating-webhook-configuration");
  EXPECT_EQ(mwc["metadata"]["annotations"]["cert-manager.io/inject-ca-from"], "kubectl-otel-system/kubectl-otel-serving-cert");
  Result u = otel("uninstall");
  ASSERT_EQ(u.code, 0) << u.err;
  EXPECT_NE(u.out.find("Certificate/kubectl-otel-serving-cert deleted\n"), std::string::npos) << u.out;
  EXPECT_TRUE(server_.getObject("cert-manager.io/v1", "certificates", "kubectl-otel-system", "kubectl-otel-serving-cert").is_null());
}

}  // namespace
