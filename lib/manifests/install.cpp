#include "lib/manifests/install.h"

#include <algorithm>

#include "lib/core/error.h"
#include "lib/core/yaml.h"

namespace otel::manifests {

namespace {

Json labels() {
  return {{"app.kubernetes.io/name", "kubectl-otel"}, {"app.kubernetes.io/component", "controller"},
          {"app.kubernetes.io/part-of", "opentelemetry"}};
}

Json meta(const std::string& name, const std::string& ns = "") {
  Json m = {{"name", name}};
  if (!ns.empty()) m["namespace"] = ns;
  m["labels"] = labels();
  return m;
}

Json rule(std::vector<std::string> groups, std::vector<std::string> resources, std::vector<std::string> verbs) {
  return {{"apiGroups", groups}, {"resources", resources}, {"verbs", verbs}};
}

const std::vector<std::string> kAll = {"create", "delete", "get", "list", "patch", "update", "watch"};
const std::vector<std::string> kRead = {"get", "list", "watch"};

Json webhook(const std::string& name, const std::string& path, const std::string& failurePolicy,
             std::vector<std::string> groups, std::vector<std::string> versions, std::vector<std::string> resources,
             std::vector<std::string> operations, const InstallOptions& o) {
  return {{"name", name},
          {"admissionReviewVersions", Json::array({"v1"})},
          {"clientConfig", {{"service", {{"name", kWebhookService}, {"namespace", o.ns}, {"path", path}, {"port", 443}}}}},
          {"failurePolicy", failurePolicy},
          {"rules", Json::array({{{"apiGroups", groups}, {"apiVersions", versions}, {"operations", operations},
                                  {"resources", resources}}})},
          {"sideEffects", "None"},
          {"timeoutSeconds", 10}};
}

}  // namespace

std::vector<Json> crdObjects() {
  std::vector<Json> out;
  for (const auto& f : embeddedCrds())
    for (const auto& d : parseYamlStream(f.content, std::string("deploy/crds/") + f.name))
      if (!d.value.is_null()) out.push_back(d.value);
  return out;
}

std::vector<Json> installObjects(const InstallOptions& o) {
  std::vector<Json> out;
  if (o.crds) out = crdObjects();
  out.push_back({{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", meta(o.ns)}});
  out.push_back({{"apiVersion", "v1"}, {"kind", "ServiceAccount"}, {"metadata", meta(kControllerName, o.ns)}});
  Json rules = Json::array({
      rule({"opentelemetry.io"}, {"opentelemetrycollectors", "instrumentations", "targetallocators", "opampbridges"}, kAll),
      rule({"opentelemetry.io"},
           {"opentelemetrycollectors/status", "opentelemetrycollectors/finalizers", "targetallocators/status",
            "targetallocators/finalizers", "instrumentations/status", "opampbridges/status"},
           {"get", "patch", "update"}),
      rule({""}, {"configmaps", "services", "serviceaccounts"}, kAll),
      rule({""}, {"pods", "namespaces"}, kRead),
      // the API server's addresses for the operator's NetworkPolicy (Service default/kubernetes)
      rule({"discovery.k8s.io"}, {"endpointslices"}, {"get", "list"}),
      rule({""}, {"events"}, {"create", "patch"}),
      rule({"events.k8s.io"}, {"events"}, {"create", "patch"}),
      rule({"apps"}, {"deployments", "daemonsets", "statefulsets"}, kAll),
      rule({"apps"}, {"replicasets"}, kRead),
      rule({"autoscaling"}, {"horizontalpodautoscalers"}, kAll),
      rule({"policy"}, {"poddisruptionbudgets"}, kAll),
      rule({"networking.k8s.io"}, {"ingresses", "networkpolicies"}, kAll),
      rule({"gateway.networking.k8s.io"}, {"httproutes"}, kAll),
      rule({"route.openshift.io"}, {"routes", "routes/custom-host"}, kAll),
      rule({"monitoring.coreos.com"}, {"servicemonitors", "podmonitors"}, kAll),
      rule({"rbac.authorization.k8s.io"}, {"clusterroles", "clusterrolebindings"}, kAll),
      rule({"coordination.k8s.io"}, {"leases"}, kAll),
      rule({"admissionregistration.k8s.io"}, {"mutatingwebhookconfigurations", "validatingwebhookconfigurations"},
           {"get", "list", "watch", "patch", "update"}),
      rule({"apiextensions.k8s.io"}, {"customresourcedefinitions"}, {"get", "list", "watch", "patch", "update"}),
      rule({"authorization.k8s.io"}, {"subjectaccessreviews"}, {"create"}),
      rule({"cert-manager.io"}, {"issuers", "certificaterequests", "certificates"}, kAll),
  });
  Json cr = {{"apiVersion", "rbac.authorization.k8s.io/v1"}, {"kind", "ClusterRole"}, {"metadata", meta(kControllerName)}};
  cr["rules"] = rules;
  out.push_back(cr);
  Json crb = {{"apiVersion", "rbac.authorization.k8s.io/v1"}, {"kind", "ClusterRoleBinding"}, {"metadata", meta(kControllerName)}};
  crb["roleRef"] = {{"apiGroup", "rbac.authorization.k8s.io"}, {"kind", "ClusterRole"}, {"name", kControllerName}};
  crb["subjects"] = Json::array({{{"kind", "ServiceAccount"}, {"name", kControllerName}, {"namespace", o.ns}}});
  out.push_back(crb);
  // The webhook serving certificate lives in a Secret of the controller namespace only.
  Json role = {{"apiVersion", "rbac.authorization.k8s.io/v1"}, {"kind", "Role"}, {"metadata", meta(kControllerName, o.ns)}};
  role["rules"] = Json::array({rule({""}, {"secrets"}, kAll)});
  out.push_back(role);
  Json rb = {{"apiVersion", "rbac.authorization.k8s.io/v1"}, {"kind", "RoleBinding"}, {"metadata", meta(kControllerName, o.ns)}};
  rb["roleRef"] = {{"apiGroup", "rbac.authorization.k8s.io"}, {"kind", "Role"}, {"name", kControllerName}};
  rb["subjects"] = crb["subjects"];
  out.push_back(rb);
  Json selector = {{"app.kubernetes.io/name", "kubectl-otel"}, {"app.kubernetes.io/component", "controller"}};
  Json svc = {{"apiVersion", "v1"}, {"kind", "Service"}, {"metadata", meta(kWebhookService, o.ns)}};
  svc["spec"] = {{"selector", selector},
                 {"ports", Json::array({{{"name", "webhook"}, {"port", 443}, {"protocol", "TCP"}, {"targetPort", "webhook"}}})}};
  out.push_back(svc);
  Json metrics = {{"apiVersion", "v1"}, {"kind", "Service"}, {"metadata", meta("kubectl-otel-metrics", o.ns)}};
  metrics["spec"] = {{"selector", selector},
                     {"ports", Json::array({{{"name", "http"}, {"port", 8080}, {"protocol", "TCP"}, {"targetPort", "http"}}})}};
  out.push_back(metrics);
  Json container = {
      {"name", "manager"},
      {"image", o.image},
      {"command", Json::array({"kubectl-otel", "run"})},
      {"env", Json::array({{{"name", "POD_NAMESPACE"}, {"valueFrom", {{"fieldRef", {{"fieldPath", "metadata.namespace"}}}}}},
                           {{"name", "GOMEMLIMIT"}, {"valueFrom", {{"resourceFieldRef", {{"resource", "limits.memory"}}}}}}})},
      {"ports", Json::array({{{"name", "webhook"}, {"containerPort", 9443}, {"protocol", "TCP"}},
                             {{"name", "http"}, {"containerPort", 8080}, {"protocol", "TCP"}},
                             {{"name", "health"}, {"containerPort", 8081}, {"protocol", "TCP"}}})},
      // `kubectl-otel run` serves /metrics on :8080 and the probes on :8081 (upstream's ports)
      {"livenessProbe", {{"httpGet", {{"path", "/healthz"}, {"port", "health"}}}, {"initialDelaySeconds", 5}}},
      {"readinessProbe", {{"httpGet", {{"path", "/readyz"}, {"port", "health"}}}, {"initialDelaySeconds", 5}}},
      {"resources", {{"requests", {{"cpu", "50m"}, {"memory", "64Mi"}}}, {"limits", {{"memory", "256Mi"}}}}},
      {"securityContext",
       {{"allowPrivilegeEscalation", false},
        {"readOnlyRootFilesystem", true},
        {"runAsNonRoot", true},
        {"capabilities", {{"drop", Json::array({"ALL"})}}}}},
      {"volumeMounts", Json::array({{{"name", "tmp"}, {"mountPath", "/tmp"}}})}};
  Json volumes = Json::array({{{"name", "tmp"}, {"emptyDir", Json::object()}}});
  if (o.certManager) {
    container["command"].push_back("--webhook-certs=files");
    container["volumeMounts"].push_back({{"name", "cert"}, {"mountPath", kWebhookCertDir}, {"readOnly", true}});
    volumes.push_back({{"name", "cert"}, {"secret", {{"secretName", kServingCertSecret}, {"defaultMode", 420}}}});
    const std::string svcName = std::string(kWebhookService) + "." + o.ns + ".svc";
    Json issuer = {{"apiVersion", "cert-manager.io/v1"}, {"kind", "Issuer"}, {"metadata", meta("kubectl-otel-selfsigned-issuer", o.ns)}};
    issuer["spec"] = {{"selfSigned", Json::object()}};
    out.push_back(issuer);
    Json cert = {{"apiVersion", "cert-manager.io/v1"}, {"kind", "Certificate"}, {"metadata", meta(kServingCertificate, o.ns)}};
    cert["spec"] = {{"dnsNames", Json::array({svcName, svcName + ".cluster.local"})},
                    {"issuerRef", {{"kind", "Issuer"}, {"name", "kubectl-otel-selfsigned-issuer"}}},
                    {"secretName", kServingCertSecret},
                    {"subject", {{"organizationalUnits", Json::array({"kubectl-otel"})}}}};
    out.push_back(cert);
  }
  Json dep = {{"apiVersion", "apps/v1"}, {"kind", "Deployment"}, {"metadata", meta(kControllerName, o.ns)}};
  Json podLabels = labels();
  dep["spec"] = {{"replicas", o.replicas},
                 {"selector", {{"matchLabels", selector}}},
                 {"template",
                  {{"metadata", {{"labels", podLabels}}},
                   {"spec",
                    {{"serviceAccountName", kControllerName},
                     {"securityContext", {{"runAsNonRoot", true}, {"runAsUser", 65532}, {"seccompProfile", {{"type", "RuntimeDefault"}}}}},
                     {"containers", Json::array({container})},
                     {"volumes", volumes}}}}}};
  out.push_back(dep);
  Json mwc = {{"apiVersion", "admissionregistration.k8s.io/v1"},
              {"kind", "MutatingWebhookConfiguration"},
              {"metadata", meta("kubectl-otel-mutating-webhook-configuration")}};
  mwc["webhooks"] = Json::array({
      webhook("mopentelemetrycollectorbeta.kb.io", "/mutate-opentelemetry-io-v1beta1-opentelemetrycollector", "Fail",
              {"opentelemetry.io"}, {"v1beta1"}, {"opentelemetrycollectors"}, {"CREATE", "UPDATE"}, o),
      webhook("minstrumentation.kb.io", "/mutate-opentelemetry-io-v1alpha1-instrumentation", "Fail", {"opentelemetry.io"},
              {"v1alpha1"}, {"instrumentations"}, {"CREATE", "UPDATE"}, o),
      webhook("mopampbridge.kb.io", "/mutate-opentelemetry-io-v1alpha1-opampbridge", "Fail", {"opentelemetry.io"},
              {"v1alpha1"}, {"opampbridges"}, {"CREATE", "UPDATE"}, o),
      webhook("mtargetallocator.kb.io", "/mutate-opentelemetry-io-v1alpha1-targetallocator", "Fail", {"opentelemetry.io"},
              {"v1alpha1"}, {"targetallocators"}, {"CREATE", "UPDATE"}, o),
      webhook("mpod.kb.io", "/mutate-v1-pod", "Ignore", {""}, {"v1"}, {"pods"}, {"CREATE"}, o),
  });
  out.push_back(mwc);
  Json vwc = {{"apiVersion", "admissionregistration.k8s.io/v1"},
              {"kind", "ValidatingWebhookConfiguration"},
              {"metadata", meta("kubectl-otel-validating-webhook-configuration")}};
  const std::string col = "/validate-opentelemetry-io-v1beta1-opentelemetrycollector";
  const std::string inst = "/validate-opentelemetry-io-v1alpha1-instrumentation";
  const std::string bridge = "/validate-opentelemetry-io-v1alpha1-opampbridge";
  vwc["webhooks"] = Json::array({
      webhook("vopentelemetrycollectorcreateupdatebeta.kb.io", col, "Fail", {"opentelemetry.io"}, {"v1beta1"},
              {"opentelemetrycollectors"}, {"CREATE", "UPDATE"}, o),
      webhook("vopentelemetrycollectordeletebeta.kb.io", col, "Ignore", {"opentelemetry.io"}, {"v1beta1"},
              {"opentelemetrycollectors"}, {"DELETE"}, o),
      webhook("vinstrumentationcreateupdate.kb.io", inst, "Fail", {"opentelemetry.io"}, {"v1alpha1"}, {"instrumentations"},
              {"CREATE", "UPDATE"}, o),
      webhook("vinstrumentationdelete.kb.io", inst, "Ignore", {"opentelemetry.io"}, {"v1alpha1"}, {"instrumentations"},
              {"DELETE"}, o),
      webhook("vopampbridgecreateupdate.kb.io", bridge, "Fail", {"opentelemetry.io"}, {"v1alpha1"}, {"opampbridges"},
              {"CREATE", "UPDATE"}, o),
      webhook("vopampbridgedelete.kb.io", bridge, "Ignore", {"opentelemetry.io"}, {"v1alpha1"}, {"opampbridges"}, {"DELETE"}, o),
      webhook("vtargetallocatorcreateupdate.kb.io", "/validate-opentelemetry-io-v1alpha1-targetallocator", "Fail",
              {"opentelemetry.io"}, {"v1alpha1"}, {"targetallocators"}, {"CREATE", "UPDATE"}, o),
  });
  out.push_back(vwc);
  // CRD conversion webhook points at our namespace; cert-manager's CA injector fills the bundles.
  const std::string injectFrom = o.ns + "/" + kServingCertificate;
  for (auto& obj : out) {
    const std::string kind = obj.value("kind", "");
    bool converting = kind == "CustomResourceDefinition" && obj["spec"].contains("conversion") &&
                      obj["spec"]["conversion"].contains("webhook");
    if (converting) obj["spec"]["conversion"]["webhook"]["clientConfig"]["service"]["namespace"] = o.ns;
    if (o.certManager && (converting || kind == "MutatingWebhookConfiguration" || kind == "ValidatingWebhookConfiguration"))
      obj["metadata"]["annotations"]["cert-manager.io/inject-ca-from"] = injectFrom;
  }
  return out;
}

std::vector<Json> uninstallObjects(const InstallOptions& opts, bool crds) {
  InstallOptions o = opts;
  o.crds = crds;
  std::vector<Json> all = installObjects(o);
  std::vector<Json> out;
  for (auto it = all.rbegin(); it != all.rend(); ++it) {
    const std::string kind = it->value("kind", "");
    const std::string name = (*it)["metadata"].value("name", "");
    if (kind == "Namespace" &&
        (name == "default" || name == "kube-system" || name == "kube-public" || name == "kube-node-lease"))
      continue;
    out.push_back(*it);
  }
  return out;
}

bool namespaceCreatedByInstall(const Json& ns) {
  if (!ns.is_object() || !ns.contains("metadata") || !ns["metadata"].is_object()) return false;
  const Json labels = ns["metadata"].value("labels", Json::object());
  return labels.is_object() && labels.value("app.kubernetes.io/name", "") == "kubectl-otel";
}

ApiServerEndpoints apiServerEndpoints(const std::vector<Json>& slices) {
  ApiServerEndpoints out;
  for (const auto& s : slices) {
    for (const auto& p : s.value("ports", Json::array()))
      if (out.port == 0 && p.is_object() && p.value("name", "") == "https" && p.contains("port") && p["port"].is_number_integer())
        out.port = p["port"].get<int>();
    for (const auto& e : s.value("endpoints", Json::array()))
      if (e.is_object())
        for (const auto& a : e.value("addresses", Json::array()))
          if (a.is_string() && std::find(out.addresses.begin(), out.addresses.end(), a.get<std::string>()) == out.addresses.end())
            out.addresses.push_back(a.get<std::string>());
  }
  const std::string where = "EndpointSlices of Service default/kubernetes";
  if (slices.empty()) throw Error("no EndpointSlice found for the kubernetes Service", where);
  if (out.port == 0) throw Error("no port named https", where);
  if (out.addresses.empty()) throw Error("no endpoint address", where);
  return out;
}

Json operatorNetworkPolicy(const OperatorNetworkPolicyInput& in) {
  const Json& d = in.deployment;
  const Json& m = d.at("metadata");
  const std::string depName = m.value("name", ""), ns = m.value("namespace", "");
  Json podLabels = Json::object();
  if (d.contains("spec") && d["spec"].contains("template") && d["spec"]["template"].contains("metadata"))
    podLabels = d["spec"]["template"]["metadata"].value("labels", Json::object());
  std::string name = depName;
  Json selector;
  if (podLabels.is_object() && podLabels.contains("app.kubernetes.io/name") && podLabels["app.kubernetes.io/name"].is_string()) {
    name = podLabels["app.kubernetes.io/name"].get<std::string>();
    selector = {{"matchLabels", {{"app.kubernetes.io/name", name}}}};
  } else {
    selector = d.contains("spec") ? d["spec"].value("selector", Json::object()) : Json::object();
  }
  auto port = [](int p) { return Json{{"port", p}, {"protocol", "TCP"}}; };
  Json ingressPorts = Json::array();
  for (int p : {in.webhookPort, in.metricsPort})
    if (p != 0) ingressPorts.push_back(port(p));
  Json to = Json::array();
  for (const auto& a : in.apiServer.addresses)
    to.push_back({{"ipBlock", {{"cidr", a + (a.find(':') != std::string::npos ? "/128" : "/32")}}}});
  Json owner = {{"apiVersion", "apps/v1"}, {"kind", "Deployment"}, {"name", depName},
                {"uid", m.value("uid", "")}, {"controller", true}, {"blockOwnerDeletion", true}};
  Json np = {{"apiVersion", "networking.k8s.io/v1"},
             {"kind", "NetworkPolicy"},
             {"metadata", {{"name", name}, {"namespace", ns}, {"ownerReferences", Json::array({owner})}}}};
  Json ingress = Json::object();
  if (!ingressPorts.empty()) ingress["ports"] = ingressPorts;
  np["spec"] = {{"podSelector", selector},
                {"ingress", Json::array({ingress})},
                {"egress", Json::array({{{"ports", Json::array({port(in.apiServer.port)})}, {"to", to}}})},
                {"policyTypes", Json::array({"Ingress", "Egress"})}};
  return np;
}

}  // namespace otel::manifests
