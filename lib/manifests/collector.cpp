// Collector objects: ConfigMap, ServiceAccount, Services, workload, PDB, HPA, NetworkPolicy,
// Ingress, ServiceMonitor/PodMonitor, RBAC, generated TargetAllocator CR.
#include <algorithm>
#include <map>
#include <set>

#include "lib/api/collector.h"
#include "lib/api/collector_yaml.h"
#include "lib/api/common.h"
#include "lib/api/targetallocator.h"
#include "lib/collectorconfig/config.h"
#include "lib/collectorconfig/ta_rewrite.h"
#include "lib/core/error.h"
#include "lib/core/hash.h"
#include "lib/manifests/build.h"
#include "lib/manifests/naming.h"

namespace otel::manifests {

using api::at;
using api::boolean;
using api::str;
namespace cc = otel::collectorconfig;

std::string configHash(const Json& config) { return sha256Hex(api::configGoJson(config)); }

Json selectorLabels(const Json& meta, const std::string& component) {
  Json l = Json::object();
  l["app.kubernetes.io/component"] = component;
  l["app.kubernetes.io/instance"] =
      naming::truncate("%s.%s", 63, {str(meta, {"namespace"}, "default"), str(meta, {"name"})});
  l["app.kubernetes.io/managed-by"] = "opentelemetry-operator";
  l["app.kubernetes.io/part-of"] = "opentelemetry";
  return l;
}

namespace {
std::string versionLabel(const std::string& image) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    size_t p = image.find(':', start);
    parts.push_back(image.substr(start, p == std::string::npos ? std::string::npos : p - start));
    if (p == std::string::npos) break;
    start = p + 1;
  }
  if (parts.size() == 3) return parts[1].substr(0, parts[1].find('@'));
  if (parts.size() == 2) return naming::truncate("%s", 63, {parts[1]});
  return "latest";
}
}  // namespace

Json objectLabels(const Json& meta, const std::string& name, const std::string& image, const std::string& component) {
  Json l = Json::object();
  if (const Json* cl = at(meta, {"labels"}); cl && cl->is_object())
    for (auto it = cl->begin(); it != cl->end(); ++it) l[it.key()] = it.value();
  const Json sel = selectorLabels(meta, component);
  for (auto it = sel.begin(); it != sel.end(); ++it) l[it.key()] = it.value();
  l["app.kubernetes.io/version"] = versionLabel(image);
  if (!l.contains("app.kubernetes.io/name")) l["app.kubernetes.io/name"] = name;
  return api::sortedKeys(l);
}

Json objectAnnotations(const Json& meta) {
  Json a = Json::object();
  if (const Json* ca = at(meta, {"annotations"}); ca && ca->is_object())
    for (auto it = ca->begin(); it != ca->end(); ++it)
      if (it.key() != "kubectl.kubernetes.io/last-applied-configuration") a[it.key()] = it.value();
  return api::sortedKeys(a);
}

namespace {

const char* kComponent = "opentelemetry-collector";

struct Ctx {
  const Json& cr;
  const Json& spec;
  const Json& meta;
  std::string name;
  std::string ns;
  std::string mode;
  std::string image;  // spec.image (for the version label)
  const Options& opts;
  const Json* ta = nullptr;  // the TargetAllocator serving this collector (mTLS client certificate)
};

bool taMtls(const Ctx& c) { return c.ta && boolean(*c.ta, {"spec", "mtls", "enabled"}) && c.mode != api::kModeSidecar; }

const Json& taSpecOf(const Ctx& c) {
  static const Json empty = Json::object();
  const Json* s = at(*c.ta, {"spec"});
  return s ? *s : empty;
}

Json metaFor(const Ctx& c, const std::string& objName, bool namespaced = true) {
  Json m = Json::object();
  m["name"] = objName;
  if (namespaced) m["namespace"] = c.ns;
  m["labels"] = objectLabels(c.meta, objName, c.image, kComponent);
  Json ann = objectAnnotations(c.meta);
  if (!ann.empty()) m["annotations"] = ann;
  if (namespaced && !str(c.meta, {"uid"}).empty()) {
    m["ownerReferences"] = Json::array({{{"apiVersion", str(c.cr, {"apiVersion"}, api::kV1beta1)},
                                         {"kind", api::kCollectorKind},
                                         {"name", c.name},
                                         {"uid", str(c.meta, {"uid"})},
                                         {"controller", true},
                                         {"blockOwnerDeletion", true}}});
  }
  return m;
}

Json obj(const std::string& apiVersion, const std::string& kind, Json meta) {
  return Json{{"apiVersion", apiVersion}, {"kind", kind}, {"metadata", std::move(meta)}};
}

void copyIf(Json& dst, const Json& src, const char* from, const char* to = nullptr) {
  if (src.contains(from) && !src[from].is_null()) {
    const Json& v = src[from];
    if ((v.is_array() || v.is_object()) && v.empty()) return;
    if (v.is_string() && v.get<std::string>().empty()) return;
    dst[to ? to : from] = v;
  }
}

std::string serviceAccountName(const Ctx& c) { return collectorServiceAccount(c.cr); }

// spec.ports (first) + inferred, dedup by (port, protocol), name clash -> port-<num>.
std::vector<Json> mergeSpecPorts(const Ctx& c, const std::vector<Json>& inferred) {
  std::vector<Json> out;
  std::set<std::string> names;
  std::set<std::pair<long long, std::string>> nums;
  if (c.spec.contains("ports") && c.spec["ports"].is_array()) {
    for (const auto& p : c.spec["ports"]) {
      Json sp = Json::object();
      sp["name"] = str(p, {"name"});
      sp["port"] = p.value("port", 0);
      sp["protocol"] = str(p, {"protocol"}, "TCP");
      if (p.contains("appProtocol")) sp["appProtocol"] = p["appProtocol"];
      sp["targetPort"] = p.contains("targetPort") ? p["targetPort"] : sp["port"];
      if (p.contains("nodePort")) sp["nodePort"] = p["nodePort"];
      if (p.contains("hostPort")) sp["hostPort"] = p["hostPort"];
      names.insert(sp["name"].get<std::string>());
      nums.insert({sp["port"].get<long long>(), sp["protocol"].get<std::string>()});
      out.push_back(sp);
    }
  }
  for (Json p : inferred) {
    if (nums.count({p["port"].get<long long>(), p.value("protocol", "TCP")})) continue;
    if (names.count(p["name"].get<std::string>())) {
      std::string alt = "port-" + std::to_string(p["port"].get<long long>());
      if (names.count(alt)) continue;
      p["name"] = alt;
    }
    names.insert(p["name"].get<std::string>());
    out.push_back(p);
  }
  return out;
}

std::vector<Json> containerPorts(const Ctx& c, const Json& config) {
  std::vector<Json> inferred = cc::allPorts(config);
  int metrics = cc::metricsPort(config);
  inferred.push_back(Json{{"name", "metrics"}, {"port", metrics}, {"protocol", "TCP"}});
  std::vector<Json> merged = mergeSpecPorts(c, inferred);
  std::vector<Json> out;
  for (const auto& p : merged) {
    Json cp = Json::object();
    cp["name"] = naming::portNameTruncated(p["name"].get<std::string>());
    cp["containerPort"] = p["port"];
    cp["protocol"] = p.value("protocol", "TCP");
    if (p.contains("hostPort")) cp["hostPort"] = p["hostPort"];
    out.push_back(cp);
  }
  std::stable_sort(out.begin(), out.end(), [](const Json& a, const Json& b) { return a["name"] < b["name"]; });
  return out;
}

Json probeFrom(const Json& handler, const Json* timings) {
  Json p = handler;
  if (timings && timings->is_object())
    for (const char* k : {"initialDelaySeconds", "timeoutSeconds", "periodSeconds", "successThreshold", "failureThreshold",
                          "terminationGracePeriodSeconds"})
      if (timings->contains(k) && !(*timings)[k].is_null()) p[k] = (*timings)[k];
  return p;
}

// Go's path.Join cleaning for absolute paths: collapses "//" and "/./".
std::string cleanPath(const std::string& p) {
  std::vector<std::string> parts;
  size_t i = 0;
  while (i <= p.size()) {
    size_t j = p.find('/', i);
    if (j == std::string::npos) j = p.size();
    std::string seg = p.substr(i, j - i);
    if (seg == "..") {
      if (!parts.empty()) parts.pop_back();
    } else if (!seg.empty() && seg != ".") {
      parts.push_back(seg);
    }
    i = j + 1;
  }
  std::string out;
  for (const auto& s : parts) out += "/" + s;
  return out.empty() ? "/" : out;
}

Json container(const Ctx& c, const std::string& configMapName) {
  (void)configMapName;
  const Json& config = c.spec.contains("config") ? c.spec["config"] : Json::object();
  Json ct = Json::object();
  ct["name"] = "otc-container";
  std::string image = str(c.spec, {"image"});
  ct["image"] = image.empty() ? c.opts.collectorImage : image;
  copyIf(ct, c.spec, "imagePullPolicy");
  copyIf(ct, c.spec, "command");
  Json args = Json::array({"--config=/conf/collector.yaml"});
  if (c.spec.contains("args") && c.spec["args"].is_object()) {
    std::vector<std::string> extra;
    for (auto it = c.spec["args"].begin(); it != c.spec["args"].end(); ++it) {
      if (it.key() == "config") continue;
      std::string v = it.value().is_string() ? it.value().get<std::string>() : it.value().dump();
      extra.push_back("--" + it.key() + "=" + v);
    }
    std::sort(extra.begin(), extra.end());
    for (auto& e : extra) args.push_back(e);
  }
  ct["args"] = args;
  // env
  Json env = Json::array();
  std::set<std::string> defined;
  if (c.spec.contains("env") && c.spec["env"].is_array())
    for (const auto& e : c.spec["env"]) {
      env.push_back(e);
      defined.insert(str(e, {"name"}));
    }
  auto addEnv = [&](Json e) {
    std::string n = e["name"];
    if (defined.count(n)) return;
    defined.insert(n);
    env.push_back(std::move(e));
  };
  addEnv({{"name", "POD_NAME"}, {"valueFrom", {{"fieldRef", {{"fieldPath", "metadata.name"}}}}}});
  addEnv({{"name", "GOMEMLIMIT"},
          {"valueFrom", {{"resourceFieldRef", {{"containerName", "otc-container"}, {"resource", "limits.memory"}}}}}});
  addEnv({{"name", "GOMAXPROCS"},
          {"valueFrom", {{"resourceFieldRef", {{"containerName", "otc-container"}, {"resource", "limits.cpu"}}}}}});
  for (auto& e : cc::componentEnv(config)) addEnv(e);
  ct["env"] = env;
  copyIf(ct, c.spec, "envFrom");
  ct["resources"] = c.spec.contains("resources") && c.spec["resources"].is_object() ? c.spec["resources"] : Json::object();
  auto ports = containerPorts(c, config);
  if (!ports.empty()) ct["ports"] = ports;
  // mounts
  Json mounts = Json::array({{{"mountPath", "/conf"}, {"name", "otc-internal"}}});
  if (c.spec.contains("volumeMounts") && c.spec["volumeMounts"].is_array())
    for (const auto& m : c.spec["volumeMounts"]) mounts.push_back(m);
  if (c.spec.contains("configmaps") && c.spec["configmaps"].is_array())
    for (const auto& cm : c.spec["configmaps"]) {
      std::string n = str(cm, {"name"});
      mounts.push_back({{"mountPath", cleanPath("/var/conf/" + str(cm, {"mountpath"}) + "/configmap-" + n)}, {"name", "configmap-" + n}});
    }
  if (taMtls(c))
    mounts.push_back({{"mountPath", "/tls"},
                      {"name", mtlsSecret(taSpecOf(c), "clientCertificate", str(*c.ta, {"metadata", "name"}) + "-ta-client-cert")},
                      {"readOnly", true}});
  ct["volumeMounts"] = mounts;
  copyIf(ct, c.spec, "securityContext");
  copyIf(ct, c.spec, "lifecycle");
  Json handler = cc::healthProbe(config);
  if (!handler.is_null()) {
    ct["livenessProbe"] = probeFrom(handler, at(c.spec, {"livenessProbe"}));
    ct["readinessProbe"] = probeFrom(handler, at(c.spec, {"readinessProbe"}));
    if (const Json* sp = at(c.spec, {"startupProbe"}); sp && sp->is_object()) ct["startupProbe"] = probeFrom(handler, sp);
  }
  return ct;
}

Json volumes(const Ctx& c, const std::string& configMapName) {
  Json v = Json::array();
  v.push_back({{"name", "otc-internal"},
               {"configMap", {{"name", configMapName}, {"items", Json::array({{{"key", "collector.yaml"}, {"path", "collector.yaml"}}})}}}});
  if (c.spec.contains("volumes") && c.spec["volumes"].is_array())
    for (const auto& x : c.spec["volumes"]) v.push_back(x);
  if (c.spec.contains("configmaps") && c.spec["configmaps"].is_array())
    for (const auto& cm : c.spec["configmaps"]) {
      std::string n = str(cm, {"name"});
      v.push_back({{"name", "configmap-" + n}, {"configMap", {{"name", n}}}});
    }
  if (taMtls(c))
    v.push_back(mtlsVolume(taSpecOf(c), mtlsSecret(taSpecOf(c), "clientCertificate", str(*c.ta, {"metadata", "name"}) + "-ta-client-cert")));
  return v;
}

Json podAnnotations(const Ctx& c, const std::string& hash) {
  Json a = Json::object();
  if (const Json* pa = at(c.spec, {"podAnnotations"}); pa && pa->is_object())
    for (auto it = pa->begin(); it != pa->end(); ++it) a[it.key()] = it.value();
  const Json objAnn = objectAnnotations(c.meta);
  for (auto it = objAnn.begin(); it != objAnn.end(); ++it)
    if (!a.contains(it.key())) a[it.key()] = it.value();
  if (!boolean(c.spec, {"observability", "metrics", "disablePrometheusAnnotations"})) {
    for (auto [k, v] : std::vector<std::pair<std::string, std::string>>{
             {"prometheus.io/scrape", "true"}, {"prometheus.io/port", "8888"}, {"prometheus.io/path", "/metrics"}})
      if (!a.contains(k)) a[k] = v;
    a["operator.opentelemetry.io/prometheus-annotations-added"] = "true";
  }
  a["opentelemetry-operator-config/sha256"] = hash;
  return api::sortedKeys(a);
}

Json podSpec(const Ctx& c, const std::string& configMapName) {
  Json ps = Json::object();
  ps["serviceAccountName"] = serviceAccountName(c);
  copyIf(ps, c.spec, "initContainers");
  Json containers = Json::array({container(c, configMapName)});
  if (c.spec.contains("additionalContainers") && c.spec["additionalContainers"].is_array())
    for (const auto& x : c.spec["additionalContainers"]) containers.push_back(x);
  ps["containers"] = containers;
  ps["volumes"] = volumes(c, configMapName);
  std::string dns = str(c.spec, {"dnsPolicy"});
  bool hostNetwork = boolean(c.spec, {"hostNetwork"});
  if (dns.empty()) {
    if (api::present(c.spec, {"podDnsConfig", "nameservers"}))
      dns = "None";
    else
      dns = hostNetwork ? "ClusterFirstWithHostNet" : "ClusterFirst";
  }
  ps["dnsPolicy"] = dns;
  copyIf(ps, c.spec, "podDnsConfig", "dnsConfig");
  if (hostNetwork) ps["hostNetwork"] = true;
  if (boolean(c.spec, {"hostPID"})) ps["hostPID"] = true;
  if (c.spec.contains("hostUsers") && c.spec["hostUsers"].is_boolean()) ps["hostUsers"] = c.spec["hostUsers"];
  if (c.spec.contains("shareProcessNamespace") && c.spec["shareProcessNamespace"].is_boolean())
    ps["shareProcessNamespace"] = c.spec["shareProcessNamespace"];
  copyIf(ps, c.spec, "tolerations");
  copyIf(ps, c.spec, "nodeSelector");
  copyIf(ps, c.spec, "podSecurityContext", "securityContext");
  copyIf(ps, c.spec, "priorityClassName");
  copyIf(ps, c.spec, "affinity");
  copyIf(ps, c.spec, "terminationGracePeriodSeconds");
  copyIf(ps, c.spec, "topologySpreadConstraints");
  copyIf(ps, c.spec, "hostAliases");
  return ps;
}

long long desiredReplicas(const Ctx& c) {
  long long r = api::integer(c.spec, {"replicas"}, 1);
  const Json* minR = at(c.spec, {"autoscaler", "minReplicas"});
  if (minR && minR->is_number()) r = std::max(r, minR->get<long long>());
  return r;
}

Json workload(const Ctx& c, const std::string& configMapName, const std::string& hash) {
  std::string name = naming::collector(c.name);
  Json labels = objectLabels(c.meta, name, c.image, kComponent);
  Json tmplMeta = {{"labels", labels}, {"annotations", podAnnotations(c, hash)}};
  Json tmpl = {{"metadata", tmplMeta}, {"spec", podSpec(c, configMapName)}};
  Json sel = {{"matchLabels", selectorLabels(c.meta, kComponent)}};
  Json spec = Json::object();
  std::string kind;
  if (c.mode == api::kModeDaemonSet) {
    kind = "DaemonSet";
    spec["selector"] = sel;
    if (api::present(c.spec, {"daemonSetUpdateStrategy"})) spec["updateStrategy"] = c.spec["daemonSetUpdateStrategy"];
    spec["template"] = tmpl;
  } else if (c.mode == api::kModeStatefulSet) {
    kind = "StatefulSet";
    std::string svc = str(c.spec, {"serviceName"});
    spec["serviceName"] = svc.empty() ? naming::headlessService(c.name) : svc;
    spec["replicas"] = desiredReplicas(c);
    spec["selector"] = sel;
    spec["template"] = tmpl;
    std::string pmp = str(c.spec, {"podManagementPolicy"});
    spec["podManagementPolicy"] = pmp.empty() ? "Parallel" : pmp;
    if (api::present(c.spec, {"volumeClaimTemplates"})) {
      Json vcts = Json::array();
      for (Json v : c.spec["volumeClaimTemplates"]) {
        Json out = {{"apiVersion", "v1"}, {"kind", "PersistentVolumeClaim"}};
        for (auto it = v.begin(); it != v.end(); ++it) out[it.key()] = it.value();
        vcts.push_back(out);
      }
      spec["volumeClaimTemplates"] = vcts;
    }
    copyIf(spec, c.spec, "persistentVolumeClaimRetentionPolicy");
  } else {
    kind = "Deployment";
    spec["replicas"] = desiredReplicas(c);
    spec["selector"] = sel;
    if (api::present(c.spec, {"deploymentUpdateStrategy"})) spec["strategy"] = c.spec["deploymentUpdateStrategy"];
    spec["template"] = tmpl;
  }
  Json o = obj("apps/v1", kind, metaFor(c, name));
  o["spec"] = spec;
  return o;
}

Json service(const Ctx& c, const std::string& name, const std::string& type, std::vector<Json> ports, bool headless) {
  // the headless Service is a copy of the base one: it keeps app.kubernetes.io/name <n>-collector
  Json meta = metaFor(c, type == "headless" ? naming::collector(c.name) : name);
  meta["name"] = name;
  meta["labels"]["operator.opentelemetry.io/collector-service-type"] = type;
  if (type == "headless") {
    meta["labels"]["operator.opentelemetry.io/collector-headless-service"] = "Exists";
    meta["annotations"]["service.beta.openshift.io/serving-cert-secret-name"] = name + "-tls";
  } else if (type == "monitoring") {
    meta["labels"]["operator.opentelemetry.io/collector-monitoring-service"] = "Exists";
  }
  meta["labels"] = api::sortedKeys(meta["labels"]);
  if (meta.contains("annotations")) meta["annotations"] = api::sortedKeys(meta["annotations"]);
  Json spec = Json::object();
  if (type == "base" || type == "headless") {
    spec["internalTrafficPolicy"] = c.mode == api::kModeDaemonSet ? "Local" : "Cluster";
  }
  spec["selector"] = selectorLabels(c.meta, kComponent);
  if (headless) spec["clusterIP"] = "None";
  bool route = str(c.spec, {"ingress", "type"}) == "route";
  Json arr = Json::array();
  for (auto& p : ports) {
    if (route && p.value("appProtocol", "") == "grpc") p["appProtocol"] = "h2c";
    p.erase("hostPort");
    arr.push_back(p);
  }
  spec["ports"] = arr;
  if (type == "base" || type == "headless") {
    copyIf(spec, c.spec, "ipFamilies");
    copyIf(spec, c.spec, "ipFamilyPolicy");
    copyIf(spec, c.spec, "trafficDistribution");
    copyIf(spec, c.spec, "sessionAffinity");
    copyIf(spec, c.spec, "sessionAffinityConfig");
  }
  Json o = obj("v1", "Service", meta);
  o["spec"] = spec;
  return o;
}

Json hpa(const Ctx& c) {
  const Json& as = c.spec["autoscaler"];
  std::string name = naming::collector(c.name);
  Json spec = Json::object();
  spec["scaleTargetRef"] = {{"apiVersion", api::kV1beta1}, {"kind", api::kCollectorKind}, {"name", c.name}};
  spec["minReplicas"] = as.contains("minReplicas") && !as["minReplicas"].is_null() ? as["minReplicas"] : Json(api::integer(c.spec, {"replicas"}, 1));
  spec["maxReplicas"] = as["maxReplicas"];
  Json metrics = Json::array();
  auto util = [](const char* res, const Json& v) {
    return Json{{"type", "Resource"}, {"resource", {{"name", res}, {"target", {{"type", "Utilization"}, {"averageUtilization", v}}}}}};
  };
  if (as.contains("targetMemoryUtilization") && !as["targetMemoryUtilization"].is_null())
    metrics.push_back(util("memory", as["targetMemoryUtilization"]));
  if (as.contains("targetCPUUtilization") && !as["targetCPUUtilization"].is_null())
    metrics.push_back(util("cpu", as["targetCPUUtilization"]));
  if (as.contains("metrics") && as["metrics"].is_array())
    for (const auto& m : as["metrics"]) metrics.push_back(m);
  spec["metrics"] = metrics;
  copyIf(spec, as, "behavior");
  Json o = obj("autoscaling/v2", "HorizontalPodAutoscaler", metaFor(c, name));
  o["spec"] = spec;
  return o;
}

Json pdb(const Ctx& c) {
  Json spec = Json::object();
  spec["selector"] = {{"matchLabels", selectorLabels(c.meta, kComponent)}};
  const Json* p = at(c.spec, {"podDisruptionBudget"});
  bool set = false;
  if (p && p->is_object()) {
    for (const char* k : {"minAvailable", "maxUnavailable"})
      if (p->contains(k) && !(*p)[k].is_null()) {
        spec[k] = (*p)[k];
        set = true;
      }
  }
  if (!set) spec["maxUnavailable"] = 1;
  Json o = obj("policy/v1", "PodDisruptionBudget", metaFor(c, naming::collector(c.name)));
  o["spec"] = spec;
  return o;
}

Json networkPolicy(const Ctx& c, const std::vector<Json>& ports) {
  Json np = Json::array();
  for (const auto& p : ports) np.push_back({{"port", p["containerPort"]}, {"protocol", p.value("protocol", "TCP")}});
  Json spec = {{"podSelector", {{"matchLabels", selectorLabels(c.meta, kComponent)}}},
               {"policyTypes", Json::array({"Ingress"})},
               {"ingress", Json::array({{{"ports", np}}})}};
  Json o = obj("networking.k8s.io/v1", "NetworkPolicy", metaFor(c, naming::networkPolicy(c.name)));
  o["spec"] = spec;
  return o;
}

Json ingressObj(const Ctx& c, const std::vector<Json>& ports) {
  const Json& ing = c.spec["ingress"];
  std::string name = naming::ingress(c.name);
  Json meta = metaFor(c, name);
  if (ing.contains("annotations") && ing["annotations"].is_object()) {
    Json a = meta.contains("annotations") ? meta["annotations"] : Json::object();
    for (auto it = ing["annotations"].begin(); it != ing["annotations"].end(); ++it) a[it.key()] = it.value();
    meta["annotations"] = api::sortedKeys(a);
  }
  std::string host = str(ing, {"hostname"});
  std::string svc = naming::collector(c.name);
  auto backend = [&](const std::string& port) {
    return Json{{"service", {{"name", svc}, {"port", {{"name", port}}}}}};
  };
  Json rules = Json::array();
  if (str(ing, {"ruleType"}) == "subdomain") {
    for (const auto& p : ports) {
      std::string pn = p["name"];
      Json r = Json::object();
      r["host"] = pn + "." + host;
      r["http"] = {{"paths", Json::array({{{"backend", backend(pn)}, {"path", "/"}, {"pathType", "Prefix"}}})}};
      rules.push_back(r);
    }
  } else {
    Json paths = Json::array();
    for (const auto& p : ports) {
      std::string pn = p["name"];
      paths.push_back({{"backend", backend(pn)}, {"path", "/" + pn}, {"pathType", "Prefix"}});
    }
    Json r = Json::object();
    if (!host.empty()) r["host"] = host;
    r["http"] = {{"paths", paths}};
    rules.push_back(r);
  }
  Json spec = Json::object();
  copyIf(spec, ing, "ingressClassName");
  copyIf(spec, ing, "tls");
  spec["rules"] = rules;
  Json o = obj("networking.k8s.io/v1", "Ingress", meta);
  o["spec"] = spec;
  return o;
}

// Gateway API HTTPRoute `<n>-<port>-httproute`: /<port> prefix rewritten to / on the base Service.
Json httpRoute(const Ctx& c, const Json& port) {
  const Json& hr = c.spec["httpRoute"];
  std::string pn = port["name"];
  std::string name = naming::dnsName(naming::truncate("%s-%s-httproute", 63, {c.name, pn}));
  std::string gwNs = str(hr, {"gatewayNamespace"});
  Json spec = Json::object();
  spec["parentRefs"] = Json::array({{{"group", "gateway.networking.k8s.io"},
                                     {"kind", "Gateway"},
                                     {"name", str(hr, {"gateway"})},
                                     {"namespace", gwNs.empty() ? c.ns : gwNs}}});
  if (hr.contains("hostnames") && hr["hostnames"].is_array() && !hr["hostnames"].empty()) spec["hostnames"] = hr["hostnames"];
  spec["rules"] = Json::array(
      {{{"matches", Json::array({{{"path", {{"type", "PathPrefix"}, {"value", "/" + pn}}}}})},
        {"filters", Json::array({{{"type", "URLRewrite"},
                                  {"urlRewrite", {{"path", {{"type", "ReplacePrefixMatch"}, {"replacePrefixMatch", "/"}}}}}}})},
        {"backendRefs", Json::array({{{"group", ""}, {"kind", "Service"}, {"name", naming::collector(c.name)},
                                      {"port", port["port"]}, {"weight", 1}}})}}});
  Json o = obj("gateway.networking.k8s.io/v1", "HTTPRoute", metaFor(c, name));
  o["spec"] = spec;
  return o;
}

Json serviceMonitor(const Ctx& c, const std::string& name, const std::string& type, const Json& endpoints) {
  Json sel = selectorLabels(c.meta, kComponent);
  sel["operator.opentelemetry.io/collector-service-type"] = type;
  Json spec = {{"endpoints", endpoints},
               {"namespaceSelector", {{"matchNames", Json::array({c.ns})}}},
               {"selector", {{"matchLabels", api::sortedKeys(sel)}}}};
  Json meta = metaFor(c, name);
  if (const Json* extra = at(c.spec, {"observability", "metrics", "extraLabels"}); extra && extra->is_object()) {
    for (auto it = extra->begin(); it != extra->end(); ++it) meta["labels"][it.key()] = it.value();
    meta["labels"] = api::sortedKeys(meta["labels"]);
  }
  Json o = obj("monitoring.coreos.com/v1", "ServiceMonitor", meta);
  o["spec"] = spec;
  return o;
}

}  // namespace

std::vector<Json> buildCollector(const Json& cr, const Json* ta, const Options& opts) {
  static const Json emptyObj = Json::object();
  const Json* specp = at(cr, {"spec"});
  const Json* metap = at(cr, {"metadata"});
  Ctx c{cr,
        specp ? *specp : emptyObj,
        metap ? *metap : emptyObj,
        str(cr, {"metadata", "name"}),
        str(cr, {"metadata", "namespace"}, "default"),
        str(cr, {"spec", "mode"}, api::kModeDeployment),
        str(cr, {"spec", "image"}),
        opts,
        ta};
  const std::string where = "OpenTelemetryCollector " + c.ns + "/" + c.name;
  if (c.name.empty()) throw Error("metadata.name is required", "OpenTelemetryCollector");
  const Json config = c.spec.contains("config") && c.spec["config"].is_object() ? c.spec["config"] : Json::object();
  std::vector<Json> out;
  std::string hash = configHash(config);
  std::string cmName = naming::configMap(c.name, hash);
  // ConfigMap
  std::string content;
  if (ta && c.mode != api::kModeSidecar) {
    if (boolean(c.spec, {"targetAllocator", "enabled"})) {
      auto d = cc::validateTargetAllocatorConfig(config, boolean(*ta, {"spec", "prometheusCR", "enabled"}));
      if (!d.ok()) throw Error(d.errors.front(), where + ": spec.config");
    }
    std::string taName = str(*ta, {"metadata", "name"});
    bool mtls = boolean(*ta, {"spec", "mtls", "enabled"});
    std::string interval = str(cr, {"spec", "targetAllocator", "collectorTargetReloadInterval"}, "30s");
    Json rewritten = cc::rewriteForTargetAllocator(config, naming::targetAllocator(taName), interval, mtls);
    content = api::goYaml(api::sortedKeys(api::configStructView(rewritten)), 4);
  } else {
    content = api::collectorConfigYaml(config);
  }
  {
    // labelled like the collector (app.kubernetes.io/name: <n>-collector), named with the hash
    Json cm = obj("v1", "ConfigMap", metaFor(c, naming::collector(c.name)));
    cm["metadata"]["name"] = cmName;
    cm["data"] = {{"collector.yaml", content}};
    out.push_back(cm);
  }
  if (str(c.spec, {"serviceAccount"}).empty()) out.push_back(obj("v1", "ServiceAccount", metaFor(c, naming::collector(c.name))));
  std::vector<Json> ctPorts;
  std::vector<Json> rePorts;
  try {
    ctPorts = containerPorts(c, config);
    rePorts = cc::receiverAndExporterPorts(config);
  } catch (const Error& e) {
    throw Error(std::string("the OpenTelemetry config is incorrect. The port numbers are invalid: ") + e.what(),
                where + ": spec.config");
  }
  if (c.mode != api::kModeSidecar) {
    std::vector<Json> basePorts = mergeSpecPorts(c, rePorts);
    if (!basePorts.empty()) {
      out.push_back(service(c, naming::collector(c.name), "base", basePorts, false));
      out.push_back(service(c, naming::headlessService(c.name), "headless", basePorts, true));
    }
    out.push_back(service(c, naming::monitoringService(c.name), "monitoring",
                          {Json{{"name", "monitoring"}, {"port", cc::metricsPort(config)}}}, false));
    auto extPorts = cc::extensionPorts(config);
    if (!extPorts.empty()) out.push_back(service(c, naming::extensionService(c.name), "extension", extPorts, false));
    out.push_back(workload(c, cmName, hash));
    if (c.mode == api::kModeDeployment || c.mode == api::kModeStatefulSet) out.push_back(pdb(c));
    if (const Json* as = at(c.spec, {"autoscaler"}); as && as->is_object() && as->contains("maxReplicas") && !(*as)["maxReplicas"].is_null())
      out.push_back(hpa(c));
    if (boolean(c.spec, {"networkPolicy", "enabled"})) out.push_back(networkPolicy(c, ctPorts));
    if (str(c.spec, {"ingress", "type"}) == "ingress" && !basePorts.empty()) out.push_back(ingressObj(c, basePorts));
    if (boolean(c.spec, {"httpRoute", "enabled"}))
      for (const auto& p : rePorts) out.push_back(httpRoute(c, p));
    if (boolean(c.spec, {"observability", "metrics", "enableMetrics"}) && opts.prometheusCRDs) {
      Json eps = Json::array();
      for (const auto& p : cc::exporterPorts(config))
        if (p["name"].get<std::string>().find("prometheus") != std::string::npos) eps.push_back({{"port", p["name"]}});
      if (!eps.empty()) out.push_back(serviceMonitor(c, naming::collector(c.name), "base", eps));
      out.push_back(serviceMonitor(c, naming::monitoringServiceMonitor(c.name), "monitoring",
                                   Json::array({{{"port", "monitoring"}}})));
    }
  } else if (boolean(c.spec, {"observability", "metrics", "enableMetrics"}) && opts.prometheusCRDs) {
    // As upstream's PodMonitor: the monitoring port, then every prometheus exporter's port.
    Json pm = obj("monitoring.coreos.com/v1", "PodMonitor", metaFor(c, naming::collector(c.name)));
    Json eps = Json::array({{{"port", "monitoring"}}});
    for (const auto& p : cc::exporterPorts(config))
      if (p["name"].get<std::string>().find("prometheus") != std::string::npos) eps.push_back({{"port", p["name"]}});
    pm["spec"] = {{"jobLabel", "app.kubernetes.io/instance"},
                  {"podTargetLabels", Json::array({"app.kubernetes.io/name", "app.kubernetes.io/instance", "app.kubernetes.io/managed-by"})},
                  {"namespaceSelector", {{"matchNames", Json::array({c.ns})}}},
                  {"podMetricsEndpoints", eps},
                  {"selector", {{"matchLabels", api::sortedKeys(selectorLabels(c.meta, kComponent))}}}};
    out.push_back(pm);
  }
  if (opts.createRbac) {
    auto rules = cc::rbacRules(config);
    if (!rules.empty()) {
      Json cr1 = obj("rbac.authorization.k8s.io/v1", "ClusterRole", metaFor(c, naming::clusterRole(c.name, c.ns), false));
      cr1["rules"] = rules;
      out.push_back(cr1);
      Json crb = obj("rbac.authorization.k8s.io/v1", "ClusterRoleBinding",
                     metaFor(c, naming::clusterRoleBinding(c.name, c.ns), false));
      crb["roleRef"] = {{"apiGroup", "rbac.authorization.k8s.io"}, {"kind", "ClusterRole"}, {"name", naming::clusterRole(c.name, c.ns)}};
      crb["subjects"] = Json::array({{{"kind", "ServiceAccount"}, {"name", serviceAccountName(c)}, {"namespace", c.ns}}});
      out.push_back(crb);
    }
  }
  return out;
}

std::string collectorServiceAccount(const Json& collector) {
  std::string sa = str(collector, {"spec", "serviceAccount"});
  return sa.empty() ? naming::collector(str(collector, {"metadata", "name"})) : sa;
}

}  // namespace otel::manifests
