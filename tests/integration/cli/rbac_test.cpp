// `kubectl otel create` runs the collector webhook's RBAC checks against the cluster (the test API
// server's RBAC authorizer and access reviews), as a restricted user and as an admin: the privilege
// escalation refusal (nothing written), what a user who cannot create SubjectAccessReviews is told,
// "RBAC rules are missing" without auto-RBAC, and the target allocator's prometheusCR account.
#include <gtest/gtest.h>

#include <fstream>

#include "lib/core/yaml.h"
#include "tests/support/api_server.h"
#include "tests/support/shell.h"

namespace {

using otel::Json;
using otel::clitest::Result;
using otel::clitest::sh;
using otel::clitest::tempDir;

const std::string kBin = OTEL_CLI_BINARY;
const std::string kBeta = "opentelemetry.io/v1beta1";

otel::testing::TestApiServerOptions withAlice() {
  otel::testing::TestApiServerOptions o;
  o.users.push_back({"alice-token", "alice", {"team-a"}});
  return o;
}

class RbacCli : public ::testing::Test {
 protected:
  RbacCli() : server_(withAlice()) {}
  void SetUp() override {
    dir_ = tempDir(::testing::UnitTest::GetInstance()->current_test_info()->name());
    admin_ = dir_ + "/admin.kubeconfig";
    alice_ = dir_ + "/alice.kubeconfig";
    server_.writeKubeconfig(admin_);
    server_.writeKubeconfig(alice_, "default", "alice-token");
    Result r = as(admin_, "install --crds-only");
    ASSERT_EQ(r.code, 0) << r.err;
    // alice may manage collectors in "default" (as a namespace admin would), nothing else
    put(R"({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "collector-editor"},
            "rules": [{"apiGroups": ["opentelemetry.io"], "resources": ["opentelemetrycollectors"],
                       "verbs": ["get", "list", "watch", "create", "update", "patch", "delete"]}]})");
    put(R"({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
            "metadata": {"name": "alice-collectors", "namespace": "default"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "collector-editor"},
            "subjects": [{"kind": "User", "apiGroup": "rbac.authorization.k8s.io", "name": "alice"}]})");
  }
  Result as(const std::string& kubeconfig, const std::string& args) {
    return sh(kBin + " --kubeconfig " + kubeconfig + " " + args);
  }
  void put(const std::string& json) { server_.putObject(Json::parse(json)); }
  // Lets alice create SubjectAccessReviews (cluster-wide), which namespace admins usually cannot.
  void allowAliceAccessReviews() {
    put(R"({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "access-reviewer"},
            "rules": [{"apiGroups": ["authorization.k8s.io"], "resources": ["subjectaccessreviews"], "verbs": ["create"]}]})");
    put(R"({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding", "metadata": {"name": "alice-reviews"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "access-reviewer"},
            "subjects": [{"kind": "User", "apiGroup": "rbac.authorization.k8s.io", "name": "alice"}]})");
  }
  // Cluster-wide read of the given core resources for alice (a ClusterRoleBinding).
  void allowAliceToRead(const std::string& name, const std::string& group, const std::string& resourcesJson) {
    put(R"({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": ")" + name +
        R"("}, "rules": [{"apiGroups": [")" + group + R"("], "resources": )" + resourcesJson +
        R"(, "verbs": ["get", "list", "watch"]}]})");
    put(R"({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding", "metadata": {"name": "alice-)" + name +
        R"("}, "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": ")" + name +
        R"("}, "subjects": [{"kind": "User", "apiGroup": "rbac.authorization.k8s.io", "name": "alice"}]})");
  }
  // A kubeconfig for `token` that impersonates `user` (kubectl's `as:`), written to the test folder.
  std::string impersonating(const std::string& token, const std::string& user) {
    std::string yaml = token.empty() ? server_.kubeconfigYaml("default") : server_.kubeconfigYaml("default", token);
    auto at = yaml.find("    token: ");
    EXPECT_NE(at, std::string::npos) << yaml;
    yaml.insert(yaml.find('\n', at) + 1, "    as: " + user + "\n");
    return write((token.empty() ? "admin" : token) + "-as-" + user + ".kubeconfig", yaml);
  }
  std::string write(const std::string& name, const std::string& text) {
    std::string path = dir_ + "/" + name;
    std::ofstream(path) << text;
    return path;
  }
  Json collector(const std::string& name) { return server_.getObject(kBeta, "opentelemetrycollectors", "default", name); }

  otel::testing::TestApiServer server_;
  std::string dir_, admin_, alice_;
};

// k8sattributes makes the operator grant pods, namespaces (get, watch, list) and apps/replicasets.
const char* kEnricher = R"(apiVersion: opentelemetry.io/v1beta1
kind: OpenTelemetryCollector
metadata:
  name: enricher
spec:
  config:
    receivers: {otlp: {protocols: {grpc: {}}}}
    processors: {k8sattributes: {}}
    exporters: {debug: {}}
    service: {pipelines: {traces: {receivers: [otlp], processors: [k8sattributes], exporters: [debug]}}}
)";

TEST_F(RbacCli, AUserCannotMakeTheOperatorGrantWhatTheyDoNotHold) {
  allowAliceAccessReviews();
  allowAliceToRead("pod-reader", "", R"(["pods"])");
  std::string file = write("enricher.yaml", kEnricher);
  auto rv = server_.resourceVersion();
  Result r = as(alice_, "create -f " + file);
  EXPECT_EQ(r.code, 1) << r.out << r.err;
  EXPECT_EQ(r.err.rfind("error: " + file + ": document 1: OpenTelemetryCollector default/enricher: spec.config: "
                        "user \"alice\" is not allowed to create a collector whose config would grant permissions they do "
                        "not hold: missing the following rules for alice - namespaces: [get,watch,list]; missing the "
                        "following rules for alice - apps/replicasets: [get,watch,list]\n", 0),
            0u)
      << r.err;
  EXPECT_TRUE(collector("enricher").is_null());
  EXPECT_EQ(server_.resourceVersion(), rv) << "a refused collector must write nothing";
  EXPECT_GT(server_.requestCount("POST", "/apis/authorization.k8s.io/v1/subjectaccessreviews"), 0);
  EXPECT_GT(server_.requestCount("POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"), 0);

  // Holding them all, alice may create it.
  allowAliceToRead("ns-reader", "", R"(["namespaces"])");
  allowAliceToRead("rs-reader", "apps", R"(["replicasets"])");
  r = as(alice_, "create -f " + file);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_FALSE(collector("enricher").is_null());
}

TEST_F(RbacCli, OnlyWhatTheServiceAccountLacksIsAskedOfTheUser) {
  allowAliceAccessReviews();
  // the collector's account already holds pods and namespaces; alice holds only apps/replicasets
  put(R"({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "enricher-base"},
          "rules": [{"apiGroups": [""], "resources": ["pods", "namespaces"], "verbs": ["get", "watch", "list"]}]})");
  put(R"({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding", "metadata": {"name": "enricher-base"},
          "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "enricher-base"},
          "subjects": [{"kind": "ServiceAccount", "name": "enricher-collector", "namespace": "default"}]})");
  allowAliceToRead("rs-reader", "apps", R"(["replicasets"])");
  server_.clearRequests();
  Result r = as(alice_, "create -f " + write("enricher.yaml", kEnricher));
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(server_.requestCount("POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"), 3)
      << "alice is asked about apps/replicasets (get, watch, list) only";
  EXPECT_EQ(server_.requestCount("POST", "/apis/authorization.k8s.io/v1/subjectaccessreviews"), 9)
      << "the collector's account: 3 resources x 3 verbs";
}

TEST_F(RbacCli, AUserWhoCannotAskAboutTheAccountIsWarnedNotRefused) {
  // no subjectaccessreviews permission: the account's rules are unknown, alice lacks two of three
  allowAliceToRead("pod-reader", "", R"(["pods"])");
  Result r = as(alice_, "create -f " + write("enricher.yaml", kEnricher));
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("Warning: "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("OpenTelemetryCollector default/enricher: user \"alice\" may be refused: the collector's service "
                       "account default/enricher-collector could not be checked ("),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("cannot create resource \"subjectaccessreviews\" in API group \"authorization.k8s.io\""),
            std::string::npos)
      << "the server's reason is passed on: " << r.err;
  EXPECT_NE(r.err.find("missing the following rules for alice - namespaces: [get,watch,list]; missing the following "
                       "rules for alice - apps/replicasets: [get,watch,list]"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(r.err.find("pods"), std::string::npos) << "alice holds pods: " << r.err;
  EXPECT_FALSE(collector("enricher").is_null());
}

TEST_F(RbacCli, TheImpersonatedUserIsTheOneChecked) {
  allowAliceAccessReviews();
  // the admin's token acting as alice (kubeconfig `as:`): the checks are alice's, and so is the refusal
  std::string asAlice = impersonating("", "alice");
  std::string file = write("enricher.yaml", kEnricher);
  Result r = as(asAlice, "create -f " + file);
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_NE(r.err.find("user \"alice\" is not allowed to create a collector whose config would grant permissions they do "
                       "not hold: missing the following rules for alice - pods: [get,watch,list]"),
            std::string::npos)
      << r.err;
  EXPECT_TRUE(collector("enricher").is_null());

  // alice may not impersonate anyone: the server refuses before anything else
  r = as(impersonating("alice-token", "bob"), "create -f " + file);
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("users \"bob\" is forbidden: User \"alice\" cannot impersonate resource \"users\" in API group \"\" "
                       "at the cluster scope"),
            std::string::npos)
      << r.err;
}

TEST_F(RbacCli, V1alpha1CollectorsStandaloneTargetAllocatorsAndTheNamespaceFlag) {
  // a v1alpha1 collector (config as a string) in the namespace given with -n, and a standalone
  // TargetAllocator reading prometheus-operator CRs with an account that holds nothing
  server_.putObject(Json::parse(R"({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team-b"}})"));
  std::string text = R"(apiVersion: opentelemetry.io/v1alpha1
kind: OpenTelemetryCollector
metadata:
  name: kubelet
spec:
  mode: daemonset
  config: |
    receivers: {kubeletstats: {auth_type: serviceAccount}}
    exporters: {debug: {}}
    service: {pipelines: {metrics: {receivers: [kubeletstats], exporters: [debug]}}}
---
apiVersion: opentelemetry.io/v1alpha1
kind: TargetAllocator
metadata:
  name: shared
spec:
  prometheusCR: {enabled: true}
)";
  std::string file = write("mixed.yaml", text);
  put(R"({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
          "metadata": {"name": "alice-collectors", "namespace": "team-b"},
          "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "collector-editor"},
          "subjects": [{"kind": "User", "apiGroup": "rbac.authorization.k8s.io", "name": "alice"}]})");
  allowAliceAccessReviews();
  Result r = as(alice_, "-n team-b create -f " + file);
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_NE(r.err.find(file + ": document 1: OpenTelemetryCollector team-b/kubelet: spec.config: user \"alice\" is not "
                       "allowed to create a collector whose config would grant permissions they do not hold: missing the "
                       "following rules for alice - nodes/stats: [get]"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("Warning: " + file + ": document 2: TargetAllocator team-b/shared: missing the following rules for "
                       "system:serviceaccount:team-b:shared-targetallocator - nodes: [get,list,watch]\n"),
            std::string::npos)
      << "the TargetAllocator is checked before the refusal stops everything: " << r.err;
  EXPECT_TRUE(server_.getObject(kBeta, "opentelemetrycollectors", "team-b", "kubelet").is_null());
  EXPECT_TRUE(server_.getObject("opentelemetry.io/v1alpha1", "targetallocators", "team-b", "shared").is_null())
      << "nothing of the file is written";
}

TEST_F(RbacCli, AnAdminIsNeverRefused) {
  Result r = as(admin_, "create -f " + write("enricher.yaml", kEnricher));
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_FALSE(collector("enricher").is_null());
  // flags take the same path
  r = as(admin_, "create collector gw --preset gateway");
  ASSERT_EQ(r.code, 0) << r.err;
}

TEST_F(RbacCli, WithoutAutoRbacANamedServiceAccountGetsMissingRulesWarnings) {
  // An installed controller whose service account may not manage ClusterRoles: no auto-RBAC.
  put(R"({"apiVersion": "admissionregistration.k8s.io/v1", "kind": "MutatingWebhookConfiguration",
          "metadata": {"name": "kubectl-otel-mutating-webhook-configuration"},
          "webhooks": [{"name": "mopentelemetrycollectorbeta.kb.io", "admissionReviewVersions": ["v1"], "sideEffects": "None",
                        "failurePolicy": "Ignore", "rules": [],
                        "clientConfig": {"service": {"namespace": "otel-system", "name": "kubectl-otel-webhook", "port": 443}}}]})");
  put(R"({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "ns-reader"},
          "rules": [{"apiGroups": [""], "resources": ["namespaces"], "verbs": ["get", "watch", "list"]}]})");
  put(R"({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding", "metadata": {"name": "custom-ns"},
          "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "ns-reader"},
          "subjects": [{"kind": "ServiceAccount", "name": "custom", "namespace": "default"}]})");
  std::string text = kEnricher;
  text.replace(text.find("spec:\n") + 6, 0, "  serviceAccount: custom\n");
  Result r = as(admin_, "create -f " + write("custom.yaml", text));
  ASSERT_EQ(r.code, 0) << r.err;
  std::string where = "Warning: " + dir_ + "/custom.yaml: document 1: OpenTelemetryCollector default/enricher: ";
  EXPECT_EQ(r.err, where + "RBAC rules are missing: missing the following rules for system:serviceaccount:default:custom - "
                           "pods: [get,watch,list]\n" +
                       where + "RBAC rules are missing: missing the following rules for system:serviceaccount:default:custom - "
                               "apps/replicasets: [get,watch,list]\n");
  EXPECT_FALSE(collector("enricher").is_null());

  // The same controller allowed to manage ClusterRoles: auto-RBAC, the admin may grant anything, no warning.
  put(R"({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "rbac-manager"},
          "rules": [{"apiGroups": ["rbac.authorization.k8s.io"], "resources": ["clusterroles", "clusterrolebindings"],
                     "verbs": ["create", "delete", "get", "list", "patch", "update"]}]})");
  put(R"({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding", "metadata": {"name": "controller-rbac"},
          "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "rbac-manager"},
          "subjects": [{"kind": "ServiceAccount", "name": "kubectl-otel-controller", "namespace": "otel-system"}]})");
  r = as(admin_, "create -f " + write("custom.yaml", text));
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.err, "");
}

TEST_F(RbacCli, TargetAllocatorPrometheusCRAccountWarnings) {
  // A served ServiceMonitor kind adds monitoring.coreos.com to the questions.
  put(R"({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
          "metadata": {"name": "servicemonitors.monitoring.coreos.com"},
          "spec": {"group": "monitoring.coreos.com", "scope": "Namespaced",
                   "names": {"plural": "servicemonitors", "singular": "servicemonitor", "kind": "ServiceMonitor",
                             "listKind": "ServiceMonitorList"},
                   "versions": [{"name": "v1", "served": true, "storage": true,
                                 "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}]}})");
  // The TA's account may read everything it needs except the monitoring resources and discovery paths.
  put(R"({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "ta-partial"},
          "rules": [{"apiGroups": [""], "resources": ["nodes", "nodes/metrics", "services", "endpoints", "pods", "namespaces"],
                     "verbs": ["get", "list", "watch"]},
                    {"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"]},
                    {"apiGroups": ["discovery.k8s.io"], "resources": ["endpointslices"], "verbs": ["get", "list", "watch"]},
                    {"apiGroups": ["networking.k8s.io"], "resources": ["ingresses"], "verbs": ["get", "list", "watch"]},
                    {"nonResourceURLs": ["/metrics"], "verbs": ["get"]}]})");
  put(R"({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding", "metadata": {"name": "ta-partial"},
          "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "ta-partial"},
          "subjects": [{"kind": "ServiceAccount", "name": "scraper-targetallocator", "namespace": "default"}]})");
  Result r = as(admin_, "create collector scraper --mode statefulset --target-allocator --prometheus-cr");
  ASSERT_EQ(r.code, 0) << r.err;
  std::string where = "Warning: flags: OpenTelemetryCollector default/scraper: missing the following rules for "
                      "system:serviceaccount:default:scraper-targetallocator - ";
  EXPECT_EQ(r.err, where + "nonResourceURL: /api: [get]\n" + where + "nonResourceURL: /api/*: [get]\n" + where +
                       "nonResourceURL: /apis: [get]\n" + where + "nonResourceURL: /apis/*: [get]\n" + where +
                       "monitoring.coreos.com/servicemonitors: [get,list,watch]\n");
  EXPECT_FALSE(collector("scraper").is_null()) << "warnings do not stop the apply";
}

}  // namespace
