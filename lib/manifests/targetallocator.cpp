// TargetAllocator objects: ConfigMap targetallocator.yaml, Deployment, Service 80->http,
// ServiceAccount, PDB, ServiceMonitor.
#include <algorithm>
#include <set>

#include "lib/api/collector_yaml.h"
#include "lib/api/common.h"
#include "lib/collectorconfig/ta_rewrite.h"
#include "lib/core/hash.h"
#include "lib/core/yaml.h"
#include "lib/manifests/build.h"
#include "lib/manifests/naming.h"

namespace otel::manifests {

using api::at;
using api::boolean;
using api::str;

namespace {

const char* kTaComponent = "opentelemetry-targetallocator";

const Json& metadataOf(const Json& obj) {
  static const Json empty = Json::object();
  const Json* m = at(obj, {"metadata"});
  return m && m->is_object() ? *m : empty;
}

// metav1.LabelSelector as gopkg.in/yaml.v2 writes it (lowercased field names, struct order).
Json yamlV2Selector(const Json& sel) {
  if (sel.is_null()) return nullptr;
  Json out = Json::object();
  out["matchlabels"] = sel.contains("matchLabels") && sel["matchLabels"].is_object() ? api::sortedKeys(sel["matchLabels"]) : Json::object();
  Json exprs = Json::array();
  if (sel.contains("matchExpressions") && sel["matchExpressions"].is_array())
    for (const auto& e : sel["matchExpressions"]) {
      Json x = Json::object();
      x["key"] = e.value("key", "");
      x["operator"] = e.value("operator", "");
      x["values"] = e.contains("values") ? e["values"] : Json::array();
      exprs.push_back(x);
    }
  out["matchexpressions"] = exprs;
  return out;
}

Json taSelectorLabels(const Json& taMeta) {
  Json l = selectorLabels(taMeta, kTaComponent);
  std::string userName = str(taMeta, {"labels", "app.kubernetes.io/name"});
  l["app.kubernetes.io/name"] = userName.empty() ? naming::targetAllocator(str(taMeta, {"name"})) : userName;
  return api::sortedKeys(l);
}

}  // namespace

std::string mtlsSecret(const Json& taSpec, const char* which, const std::string& certManagerName) {
  if (boolean(taSpec, {"mtls", "useCertManager"}, true)) return certManagerName;
  std::string s = str(taSpec, {"mtls", "tls", which, "secretName"});
  return s.empty() ? certManagerName : s;
}

Json mtlsVolume(const Json& taSpec, const std::string& secret) {
  // cert-manager secrets carry ca.crt; user secrets get the CA projected next to tls.crt/tls.key.
  Json sources = Json::array({{{"secret", {{"name", secret}}}}});
  const Json* ca = at(taSpec, {"mtls", "tls", "certificateAuthorityCertificate"});
  if (!boolean(taSpec, {"mtls", "useCertManager"}, true) && ca) {
    if (const Json* sec = at(*ca, {"secret"}); sec && sec->is_object())
      sources.push_back({{"secret", {{"name", str(*sec, {"name"})}, {"items", Json::array({{{"key", str(*sec, {"key"}, "ca.crt")}, {"path", "ca.crt"}}})}}}});
    else if (const Json* cm = at(*ca, {"configMap"}); cm && cm->is_object())
      sources.push_back({{"configMap", {{"name", str(*cm, {"name"})}, {"items", Json::array({{{"key", str(*cm, {"key"}, "ca.crt")}, {"path", "ca.crt"}}})}}}});
  }
  return {{"name", secret}, {"projected", {{"sources", sources}}}};
}

std::vector<Json> certManagerObjects(const Json& ta, const Options& opts) {
  (void)opts;
  std::vector<Json> out;
  const Json& meta = metadataOf(ta);
  std::string n = str(meta, {"name"});
  std::string ns = str(meta, {"namespace"}, "default");
  std::string svc = naming::targetAllocator(n);
  auto m = [&](const std::string& name) {
    Json x = {{"name", name}, {"namespace", ns}, {"labels", objectLabels(meta, name, str(ta, {"spec", "image"}), kTaComponent)}};
    return x;
  };
  auto obj = [&](const std::string& kind, const std::string& name, Json spec) {
    return Json{{"apiVersion", "cert-manager.io/v1"}, {"kind", kind}, {"metadata", m(name)}, {"spec", std::move(spec)}};
  };
  out.push_back(obj("Issuer", n + "-self-signed-issuer", {{"selfSigned", Json::object()}}));
  out.push_back(obj("Certificate", n + "-ca-cert",
                    {{"isCA", true}, {"commonName", n + "-ca-cert"}, {"secretName", n + "-ca-cert"},
                     {"issuerRef", {{"kind", "Issuer"}, {"name", n + "-self-signed-issuer"}}}}));
  out.push_back(obj("Issuer", n + "-ca-issuer", {{"ca", {{"secretName", n + "-ca-cert"}}}}));
  out.push_back(obj("Certificate", n + "-ta-server-cert",
                    {{"commonName", svc},
                     {"dnsNames", Json::array({svc, svc + "." + ns + ".svc", svc + "." + ns + ".svc.cluster.local"})},
                     {"secretName", n + "-ta-server-cert"},
                     {"usages", Json::array({"client auth", "server auth"})},
                     {"issuerRef", {{"kind", "Issuer"}, {"name", n + "-ca-issuer"}}}}));
  out.push_back(obj("Certificate", n + "-ta-client-cert",
                    {{"commonName", naming::collector(n)},
                     {"secretName", n + "-ta-client-cert"},
                     {"usages", Json::array({"client auth"})},
                     {"issuerRef", {{"kind", "Issuer"}, {"name", n + "-ca-issuer"}}}}));
  return out;
}

std::string targetAllocatorConfigYaml(const Json& ta, const Json* collector) {
  static const Json empty = Json::object();
  const Json* sp = at(ta, {"spec"});
  const Json& spec = sp && sp->is_object() ? *sp : empty;
  Json cfg = Json::object();
  std::string strategy = str(spec, {"allocationStrategy"});
  cfg["allocation_strategy"] = strategy.empty() ? "consistent-hashing" : strategy;
  if (spec.contains("allowInsecureAuthSecrets") && boolean(spec, {"allowInsecureAuthSecrets"})) cfg["allow_insecure_auth_secrets"] = true;
  std::string grace = str(spec, {"collectorNotReadyGracePeriod"});
  if (!grace.empty()) cfg["collector_not_ready_grace_period"] = grace;
  if (collector) {
    Json sel = selectorLabels(metadataOf(*collector), "opentelemetry-collector");
    cfg["collector_selector"] = {{"matchlabels", api::sortedKeys(sel)}, {"matchexpressions", Json::array()}};
  } else {
    cfg["collector_selector"] = nullptr;
  }
  // config: TA.spec.global wins over the receiver's global; TA.spec.scrapeConfigs ++ receiver scrape_configs
  Json prom = Json::object();
  if (collector) {
    const Json* cc = at(*collector, {"spec", "config"});
    Json pc = cc ? collectorconfig::promConfigForTargetAllocator(*cc) : Json();
    if (pc.is_object()) prom = pc;
  }
  Json scrape = Json::array();
  if (spec.contains("scrapeConfigs") && spec["scrapeConfigs"].is_array())
    for (const auto& s : spec["scrapeConfigs"]) scrape.push_back(s);
  if (prom.contains("scrape_configs") && prom["scrape_configs"].is_array())
    for (const auto& s : prom["scrape_configs"]) scrape.push_back(s);
  if (!scrape.empty()) prom["scrape_configs"] = scrape;
  else prom.erase("scrape_configs");
  if (spec.contains("global") && spec["global"].is_object() && !spec["global"].empty()) prom["global"] = spec["global"];
  if (!prom.empty()) cfg["config"] = api::sortedKeys(prom);
  cfg["filter_strategy"] = str(spec, {"filterStrategy"});
  const Json* pcr = at(spec, {"prometheusCR"});
  if (pcr && boolean(*pcr, {"enabled"})) {
    Json p = Json::object();
    p["enabled"] = true;
    auto copyStr = [&](const char* from, const char* to) {
      if (pcr->contains(from) && !(*pcr)[from].is_null()) p[to] = (*pcr)[from];
    };
    copyStr("scrapeInterval", "scrape_interval");
    copyStr("evaluationInterval", "evaluation_interval");
    copyStr("scrapeProtocols", "scrape_protocols");
    copyStr("scrapeClasses", "scrape_classes");
    copyStr("allowNamespaces", "allow_namespaces");
    copyStr("denyNamespaces", "deny_namespaces");
    copyStr("secretNamespaces", "secret_namespaces");
    copyStr("denyFSAccessThroughSMs", "deny_fs_access_through_sms");
    for (auto [from, to] : std::vector<std::pair<const char*, const char*>>{
             {"serviceMonitorSelector", "service_monitor_selector"},
             {"serviceMonitorNamespaceSelector", "service_monitor_namespace_selector"},
             {"podMonitorSelector", "pod_monitor_selector"},
             {"podMonitorNamespaceSelector", "pod_monitor_namespace_selector"},
             {"scrapeConfigSelector", "scrape_config_selector"},
             {"scrapeConfigNamespaceSelector", "scrape_config_namespace_selector"},
             {"probeSelector", "probe_selector"},
             {"probeNamespaceSelector", "probe_namespace_selector"}}) {
      p[to] = pcr->contains(from) ? yamlV2Selector((*pcr)[from]) : Json(nullptr);
    }
    // sort the top-level keys only (selector structs keep their field order)
    std::vector<std::string> keys;
    for (auto it = p.begin(); it != p.end(); ++it) keys.push_back(it.key());
    std::sort(keys.begin(), keys.end());
    Json sorted = Json::object();
    for (const auto& k : keys) sorted[k] = p[k];
    cfg["prometheus_cr"] = sorted;
  }
  if (boolean(spec, {"mtls", "enabled"}))
    cfg["https"] = {{"ca_file_path", "/tls/ca.crt"}, {"enabled", true}, {"listen_addr", ":8443"},
                    {"tls_cert_file_path", "/tls/tls.crt"}, {"tls_key_file_path", "/tls/tls.key"}};
  // top-level keys sorted
  std::vector<std::string> keys;
  for (auto it = cfg.begin(); it != cfg.end(); ++it) keys.push_back(it.key());
  std::sort(keys.begin(), keys.end());
  Json sorted = Json::object();
  for (const auto& k : keys) sorted[k] = cfg[k];
  return toYaml(sorted);
}

std::vector<Json> buildTargetAllocator(const Json& ta, const Json* collector, const Options& opts) {
  static const Json empty = Json::object();
  const Json* sp = at(ta, {"spec"});
  const Json& spec = sp && sp->is_object() ? *sp : empty;
  const Json& meta = metadataOf(ta);
  std::string taName = str(meta, {"name"});
  std::string ns = str(meta, {"namespace"}, "default");
  std::string name = naming::targetAllocator(taName);
  std::string image = str(spec, {"image"});
  auto metaFor = [&](const std::string& objName) {
    Json m = Json::object();
    m["name"] = objName;
    m["namespace"] = ns;
    m["labels"] = objectLabels(meta, objName, image, kTaComponent);
    Json ann = objectAnnotations(meta);
    if (!ann.empty()) m["annotations"] = ann;
    if (!str(meta, {"uid"}).empty())
      m["ownerReferences"] = Json::array({{{"apiVersion", str(ta, {"apiVersion"}, api::kV1alpha1)},
                                           {"kind", "TargetAllocator"},
                                           {"name", taName},
                                           {"uid", str(meta, {"uid"})},
                                           {"controller", true},
                                           {"blockOwnerDeletion", true}}});
    return m;
  };
  auto obj = [](const std::string& av, const std::string& kind, Json m) {
    return Json{{"apiVersion", av}, {"kind", kind}, {"metadata", std::move(m)}};
  };
  std::vector<Json> out;
  std::string content = targetAllocatorConfigYaml(ta, collector);
  Json cm = obj("v1", "ConfigMap", metaFor(name));
  cm["data"] = {{"targetallocator.yaml", content}};
  out.push_back(cm);
  std::string sa = str(spec, {"serviceAccount"});
  if (sa.empty()) out.push_back(obj("v1", "ServiceAccount", metaFor(name)));
  bool mtls = boolean(spec, {"mtls", "enabled"});
  // container
  Json ct = Json::object();
  ct["name"] = "ta-container";
  std::string img = image.empty() ? opts.targetAllocatorImage : image;
  bool ours = img.empty();
  ct["image"] = ours ? opts.ownImage : img;
  if (ours) ct["command"] = Json::array({"kubectl-otel", "target-allocator"});
  if (spec.contains("args") && spec["args"].is_object()) {
    std::vector<std::string> args;
    for (auto it = spec["args"].begin(); it != spec["args"].end(); ++it)
      args.push_back("--" + it.key() + "=" + (it.value().is_string() ? it.value().get<std::string>() : it.value().dump()));
    std::sort(args.begin(), args.end());
    ct["args"] = args;
  }
  Json env = Json::array();
  std::set<std::string> defined;
  if (spec.contains("env") && spec["env"].is_array())
    for (const auto& e : spec["env"]) {
      env.push_back(e);
      defined.insert(str(e, {"name"}));
    }
  if (!defined.count("OTELCOL_NAMESPACE"))
    env.push_back({{"name", "OTELCOL_NAMESPACE"}, {"valueFrom", {{"fieldRef", {{"fieldPath", "metadata.namespace"}}}}}});
  if (!defined.count("GOMEMLIMIT"))
    env.push_back({{"name", "GOMEMLIMIT"},
                   {"valueFrom", {{"resourceFieldRef", {{"containerName", "ta-container"}, {"resource", "limits.memory"}}}}}});
  if (!defined.count("GOMAXPROCS"))
    env.push_back({{"name", "GOMAXPROCS"},
                   {"valueFrom", {{"resourceFieldRef", {{"containerName", "ta-container"}, {"resource", "limits.cpu"}}}}}});
  ct["env"] = env;
  Json ports = Json::array({{{"containerPort", 8080}, {"name", "http"}, {"protocol", "TCP"}}});
  if (mtls) ports.push_back({{"containerPort", 8443}, {"name", "https"}, {"protocol", "TCP"}});
  ct["ports"] = ports;
  ct["resources"] = spec.contains("resources") && spec["resources"].is_object() ? spec["resources"] : Json::object();
  Json mounts = Json::array({{{"mountPath", "/conf"}, {"name", "ta-internal"}}});
  if (spec.contains("volumeMounts") && spec["volumeMounts"].is_array())
    for (const auto& m : spec["volumeMounts"]) mounts.push_back(m);
  std::string serverSecret = mtlsSecret(spec, "serverCertificate", taName + "-ta-server-cert");
  if (mtls) mounts.push_back({{"mountPath", "/tls"}, {"name", serverSecret}, {"readOnly", true}});
  ct["volumeMounts"] = mounts;
  if (spec.contains("securityContext") && !spec["securityContext"].is_null()) ct["securityContext"] = spec["securityContext"];
  ct["livenessProbe"] = spec.contains("livenessProbe") && spec["livenessProbe"].is_object()
                            ? spec["livenessProbe"]
                            : Json{{"httpGet", {{"path", "/livez"}, {"port", 8080}}}};
  ct["readinessProbe"] = spec.contains("readinessProbe") && spec["readinessProbe"].is_object()
                             ? spec["readinessProbe"]
                             : Json{{"httpGet", {{"path", "/readyz"}, {"port", 8080}}}};
  Json podSpec = Json::object();
  podSpec["serviceAccountName"] = sa.empty() ? name : sa;
  Json containers = Json::array();
  if (spec.contains("additionalContainers") && spec["additionalContainers"].is_array())
    for (const auto& x : spec["additionalContainers"]) containers.push_back(x);
  containers.push_back(ct);
  podSpec["containers"] = containers;
  Json vols = Json::array({{{"name", "ta-internal"},
                            {"configMap", {{"name", name}, {"items", Json::array({{{"key", "targetallocator.yaml"}, {"path", "targetallocator.yaml"}}})}}}}});
  if (spec.contains("volumes") && spec["volumes"].is_array())
    for (const auto& v : spec["volumes"]) vols.push_back(v);
  if (mtls) vols.push_back(mtlsVolume(spec, serverSecret));
  podSpec["volumes"] = vols;
  for (auto [from, to] : std::vector<std::pair<const char*, const char*>>{{"nodeSelector", "nodeSelector"},
                                                                           {"affinity", "affinity"},
                                                                           {"tolerations", "tolerations"},
                                                                           {"podSecurityContext", "securityContext"},
                                                                           {"topologySpreadConstraints", "topologySpreadConstraints"},
                                                                           {"priorityClassName", "priorityClassName"},
                                                                           {"initContainers", "initContainers"},
                                                                           {"hostNetwork", "hostNetwork"},
                                                                           {"terminationGracePeriodSeconds", "terminationGracePeriodSeconds"}})
    if (spec.contains(from) && !spec[from].is_null()) podSpec[to] = spec[from];
  Json podAnn = Json::object();
  if (spec.contains("podAnnotations") && spec["podAnnotations"].is_object()) podAnn = spec["podAnnotations"];
  const Json objAnn = objectAnnotations(meta);
  for (auto it = objAnn.begin(); it != objAnn.end(); ++it)
    if (!podAnn.contains(it.key())) podAnn[it.key()] = it.value();
  podAnn["opentelemetry-targetallocator-config/hash"] = sha256Hex(content);
  Json labels = metaFor(name)["labels"];
  Json dep = obj("apps/v1", "Deployment", metaFor(name));
  dep["spec"] = {{"replicas", api::integer(spec, {"replicas"}, 1)},
                 {"selector", {{"matchLabels", taSelectorLabels(meta)}}},
                 {"template", {{"metadata", {{"labels", labels}, {"annotations", api::sortedKeys(podAnn)}}}, {"spec", podSpec}}}};
  out.push_back(dep);
  Json svcPorts = Json::array({{{"name", "targetallocation"}, {"port", 80}, {"protocol", "TCP"}, {"targetPort", "http"}}});
  if (mtls) svcPorts.push_back({{"name", "targetallocation-https"}, {"port", 443}, {"protocol", "TCP"}, {"targetPort", "https"}});
  Json svc = obj("v1", "Service", metaFor(name));
  svc["spec"] = {{"selector", taSelectorLabels(meta)}, {"ports", svcPorts}};
  out.push_back(svc);
  std::string strategy = str(spec, {"allocationStrategy"}, "consistent-hashing");
  if (strategy.empty()) strategy = "consistent-hashing";
  if (strategy != "least-weighted") {
    Json pspec = {{"selector", {{"matchLabels", taSelectorLabels(meta)}}}};
    const Json* p = at(spec, {"podDisruptionBudget"});
    bool set = false;
    if (p && p->is_object())
      for (const char* k : {"minAvailable", "maxUnavailable"})
        if (p->contains(k) && !(*p)[k].is_null()) {
          pspec[k] = (*p)[k];
          set = true;
        }
    if (!set) pspec["maxUnavailable"] = 1;
    Json pdb = obj("policy/v1", "PodDisruptionBudget", metaFor(name));
    pdb["spec"] = pspec;
    out.push_back(pdb);
  }
  if (mtls && boolean(spec, {"mtls", "useCertManager"}, true)) {
    auto certs = certManagerObjects(ta, opts);
    out.insert(out.end(), certs.begin(), certs.end());
  }
  if (boolean(spec, {"networkPolicy", "enabled"})) {
    std::string npName = naming::targetAllocatorNetworkPolicy(taName);
    Json npPorts = Json::array({{{"port", 8080}, {"protocol", "TCP"}}});
    if (mtls) npPorts.push_back({{"port", 8443}, {"protocol", "TCP"}});
    bool selfTelemetry = false;
    if (const Json* readers = at(spec, {"telemetry", "metrics", "readers"}); readers && readers->is_array())
      for (const auto& r : *readers)
        if (r.contains("periodic")) selfTelemetry = true;
    Json npSpec = {{"podSelector", {{"matchLabels", selectorLabels(meta, kTaComponent)}}},
                   {"ingress", Json::array({{{"ports", npPorts}}})}};
    Json types = Json::array({"Ingress"});
    if (!selfTelemetry) {
      types.push_back("Egress");
      Json to = Json::array();
      for (const auto& ip : opts.apiServerIPs) to.push_back({{"ipBlock", {{"cidr", ip + "/32"}}}});
      Json rule = {{"ports", Json::array({{{"port", opts.apiServerPort}, {"protocol", "TCP"}}})}};
      if (!to.empty()) rule["to"] = to;
      npSpec["egress"] = Json::array({rule});
    }
    npSpec["policyTypes"] = types;
    Json np = obj("networking.k8s.io/v1", "NetworkPolicy", metaFor(npName));
    np["metadata"]["labels"]["app.kubernetes.io/name"] = npName;
    np["spec"] = npSpec;
    out.push_back(np);
  }
  if (boolean(spec, {"observability", "metrics", "enableMetrics"}) && opts.prometheusCRDs) {
    Json sm = obj("monitoring.coreos.com/v1", "ServiceMonitor", metaFor(name));
    if (const Json* extra = at(spec, {"observability", "metrics", "extraLabels"}); extra && extra->is_object()) {
      for (auto it = extra->begin(); it != extra->end(); ++it) sm["metadata"]["labels"][it.key()] = it.value();
      sm["metadata"]["labels"] = api::sortedKeys(sm["metadata"]["labels"]);
    }
    sm["spec"] = {{"endpoints", Json::array({{{"port", "targetallocation"}}})},
                  {"namespaceSelector", {{"matchNames", Json::array({ns})}}},
                  {"selector", {{"matchLabels", taSelectorLabels(meta)}}}};
    out.push_back(sm);
  }
  return out;
}

}  // namespace otel::manifests
