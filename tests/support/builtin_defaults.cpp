#include "tests/support/builtin_defaults.h"

#include <algorithm>
#include <map>
#include <cctype>
#include <set>

namespace otel::testing {
namespace {

Json& obj(Json& parent, const char* key) {
  if (!parent.contains(key) || !parent[key].is_object()) parent[key] = Json::object();
  return parent[key];
}
bool unset(const Json& o, const char* key) {
  return !o.contains(key) || o[key].is_null() || (o[key].is_string() && o[key].get<std::string>().empty());
}
void setDefault(Json& o, const char* key, const Json& value) {
  if (unset(o, key)) o[key] = value;
}
bool sameValue(const Json& a, const Json& b) { return nlohmann::json::parse(a.dump()) == nlohmann::json::parse(b.dump()); }

// parsers.ParseImageName's tag: "latest" when the reference has neither tag nor digest, "" when it does not
// parse (kube then ignores the error). Reference grammar of distribution/reference, simplified: lower-case
// path components of [a-z0-9] with single separators, an optional host[:port] first component.
std::string imageTag(const std::string& image) {
  std::string rest = image, tag, digest;
  auto at = rest.find('@');
  if (at != std::string::npos) {
    digest = rest.substr(at + 1);
    rest = rest.substr(0, at);
    if (digest.find(':') == std::string::npos) return "";
  }
  auto slash = rest.rfind('/');
  auto colon = rest.rfind(':');
  if (colon != std::string::npos && (slash == std::string::npos || colon > slash)) {
    tag = rest.substr(colon + 1);
    rest = rest.substr(0, colon);
    if (tag.empty() || tag.size() > 128) return "";
    for (char ch : tag)
      if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '_' && ch != '.' && ch != '-') return "";
  }
  if (rest.empty()) return "";
  std::vector<std::string> parts;
  size_t i = 0;
  while (true) {
    size_t j = rest.find('/', i);
    parts.push_back(rest.substr(i, j == std::string::npos ? std::string::npos : j - i));
    if (j == std::string::npos) break;
    i = j + 1;
  }
  for (size_t k = 0; k < parts.size(); ++k) {
    const std::string& p = parts[k];
    if (p.empty()) return "";
    bool host = k == 0 && parts.size() > 1 &&
                (p.find('.') != std::string::npos || p.find(':') != std::string::npos || p == "localhost");
    for (char ch : p) {
      bool ok = host ? (std::isalnum(static_cast<unsigned char>(ch)) || ch == '.' || ch == '-' || ch == ':')
                     : ((std::islower(static_cast<unsigned char>(ch)) || std::isdigit(static_cast<unsigned char>(ch))) ||
                        ch == '.' || ch == '_' || ch == '-');
      if (!ok) return "";
    }
  }
  if (!tag.empty()) return tag;
  if (!digest.empty()) return "";
  return "latest";
}

void probeDefaults(Json& c, const char* key) {
  if (!c.contains(key) || !c[key].is_object()) return;
  Json& p = c[key];
  for (auto [k, v] : {std::pair<const char*, int>{"timeoutSeconds", 1}, {"periodSeconds", 10}, {"successThreshold", 1},
                      {"failureThreshold", 3}})
    if (!p.contains(k) || p[k] == 0) p[k] = v;
  if (p.contains("httpGet") && p["httpGet"].is_object()) {
    setDefault(p["httpGet"], "path", "/");
    setDefault(p["httpGet"], "scheme", "HTTP");
  }
}

void containerDefaults(Json& c) {
  if (!c.is_object()) return;
  if (unset(c, "imagePullPolicy")) c["imagePullPolicy"] = imageTag(c.value("image", "")) == "latest" ? "Always" : "IfNotPresent";
  setDefault(c, "terminationMessagePath", "/dev/termination-log");
  setDefault(c, "terminationMessagePolicy", "File");
  if (c.contains("ports") && c["ports"].is_array())
    for (auto& p : c["ports"]) setDefault(p, "protocol", "TCP");
  if (c.contains("env") && c["env"].is_array())
    for (auto& e : c["env"])
      if (e.contains("valueFrom") && e["valueFrom"].is_object() && e["valueFrom"].contains("fieldRef"))
        setDefault(e["valueFrom"]["fieldRef"], "apiVersion", "v1");
  for (const char* p : {"livenessProbe", "readinessProbe", "startupProbe"}) probeDefaults(c, p);
  if (c.contains("lifecycle") && c["lifecycle"].is_object())
    for (const char* h : {"postStart", "preStop"})
      if (c["lifecycle"].contains(h) && c["lifecycle"][h].contains("httpGet")) {
        setDefault(c["lifecycle"][h]["httpGet"], "path", "/");
        setDefault(c["lifecycle"][h]["httpGet"], "scheme", "HTTP");
      }
}

void fieldRefItems(Json& items) {
  if (!items.is_array()) return;
  for (auto& i : items)
    if (i.contains("fieldRef") && i["fieldRef"].is_object()) setDefault(i["fieldRef"], "apiVersion", "v1");
}

void volumeDefaults(Json& v) {
  static const std::set<std::string> notSources = {"name"};
  bool hasSource = false;
  for (auto it = v.begin(); it != v.end(); ++it)
    if (!notSources.count(it.key()) && !it.value().is_null()) hasSource = true;
  if (!hasSource) v["emptyDir"] = Json::object();
  for (const char* s : {"configMap", "secret", "downwardAPI", "projected"})
    if (v.contains(s) && v[s].is_object()) setDefault(v[s], "defaultMode", 420);
  if (v.contains("hostPath") && v["hostPath"].is_object() && !v["hostPath"].contains("type")) v["hostPath"]["type"] = "";
  if (v.contains("downwardAPI") && v["downwardAPI"].contains("items")) fieldRefItems(v["downwardAPI"]["items"]);
  if (v.contains("projected") && v["projected"].contains("sources") && v["projected"]["sources"].is_array())
    for (auto& s : v["projected"]["sources"]) {
      if (s.contains("downwardAPI") && s["downwardAPI"].contains("items")) fieldRefItems(s["downwardAPI"]["items"]);
      if (s.contains("serviceAccountToken") && s["serviceAccountToken"].is_object())
        setDefault(s["serviceAccountToken"], "expirationSeconds", 3600);
    }
  if (v.contains("ephemeral") && v["ephemeral"].contains("volumeClaimTemplate") &&
      v["ephemeral"]["volumeClaimTemplate"].contains("spec"))
    setDefault(v["ephemeral"]["volumeClaimTemplate"]["spec"], "volumeMode", "Filesystem");
}

void podSpecDefaults(Json& spec) {
  if (!spec.is_object()) return;
  setDefault(spec, "dnsPolicy", "ClusterFirst");
  setDefault(spec, "restartPolicy", "Always");
  if (!spec.contains("securityContext") || spec["securityContext"].is_null()) spec["securityContext"] = Json::object();
  setDefault(spec, "terminationGracePeriodSeconds", 30);
  setDefault(spec, "schedulerName", "default-scheduler");
  // v1 conversion: the deprecated serviceAccount mirrors serviceAccountName.
  std::string sa = spec.value("serviceAccountName", "");
  if (sa.empty()) sa = spec.value("serviceAccount", "");
  if (!sa.empty()) {
    spec["serviceAccountName"] = sa;
    spec["serviceAccount"] = sa;
  }
  for (const char* list : {"containers", "initContainers", "ephemeralContainers"})
    if (spec.contains(list) && spec[list].is_array())
      for (auto& c : spec[list]) containerDefaults(c);
  if (spec.contains("volumes") && spec["volumes"].is_array())
    for (auto& v : spec["volumes"]) volumeDefaults(v);
}

void templateDefaults(Json& o, std::initializer_list<const char*> path) {
  Json* cur = &o;
  for (const char* k : path) {
    if (!cur->contains(k) || !(*cur)[k].is_object()) return;
    cur = &(*cur)[k];
  }
  podSpecDefaults(*cur);
}

void pvcSpecDefaults(Json& pvc) {
  if (pvc.contains("spec") && pvc["spec"].is_object()) setDefault(pvc["spec"], "volumeMode", "Filesystem");
  setDefault(obj(pvc, "status"), "phase", "Pending");
}

Json scalingRules(const Json& from, bool up) {
  Json to = up ? Json{{"stabilizationWindowSeconds", 0},
                      {"selectPolicy", "Max"},
                      {"policies", Json::array({Json{{"type", "Pods"}, {"value", 4}, {"periodSeconds", 15}},
                                                Json{{"type", "Percent"}, {"value", 100}, {"periodSeconds", 15}}})}}
               : Json{{"selectPolicy", "Max"},
                      {"policies", Json::array({Json{{"type", "Percent"}, {"value", 100}, {"periodSeconds", 15}}})}};
  if (from.is_object())
    for (const char* k : {"selectPolicy", "stabilizationWindowSeconds", "policies", "tolerance"})
      if (from.contains(k) && !from[k].is_null()) to[k] = from[k];
  return to;
}

void serviceDefaults(Json& svc) {
  Json& spec = obj(svc, "spec");
  setDefault(spec, "sessionAffinity", "None");
  if (spec["sessionAffinity"] == "None") spec.erase("sessionAffinityConfig");
  if (spec["sessionAffinity"] == "ClientIP") {
    const Json* t = nullptr;
    if (spec.contains("sessionAffinityConfig") && spec["sessionAffinityConfig"].is_object() &&
        spec["sessionAffinityConfig"].contains("clientIP") && spec["sessionAffinityConfig"]["clientIP"].is_object() &&
        spec["sessionAffinityConfig"]["clientIP"].contains("timeoutSeconds"))
      t = &spec["sessionAffinityConfig"]["clientIP"]["timeoutSeconds"];
    if (!t) spec["sessionAffinityConfig"] = Json{{"clientIP", {{"timeoutSeconds", 10800}}}};
  }
  setDefault(spec, "type", "ClusterIP");
  std::string type = spec["type"].get<std::string>();
  if (spec.contains("ports") && spec["ports"].is_array())
    for (auto& p : spec["ports"]) {
      setDefault(p, "protocol", "TCP");
      if (!p.contains("targetPort") || p["targetPort"] == 0 || p["targetPort"] == "") p["targetPort"] = p.value("port", 0);
    }
  bool external = type == "NodePort" || type == "LoadBalancer";
  if (external) setDefault(spec, "externalTrafficPolicy", "Cluster");
  if (unset(spec, "internalTrafficPolicy") && (external || type == "ClusterIP")) spec["internalTrafficPolicy"] = "Cluster";
  if (type == "LoadBalancer") setDefault(spec, "allocateLoadBalancerNodePorts", true);
  if (type != "ExternalName") {
    // Single-stack IPv4 cluster: kube's initIPFamilyFields.
    bool headless = spec.value("clusterIP", "") == "None";
    bool selectorless = !spec.contains("selector") || spec["selector"].empty();
    if (unset(spec, "ipFamilyPolicy")) spec["ipFamilyPolicy"] = headless && selectorless ? "RequireDualStack" : "SingleStack";
    if (!spec.contains("ipFamilies") || spec["ipFamilies"].empty()) spec["ipFamilies"] = Json::array({"IPv4"});
  }
}

std::string goSortedDump(const Json& v) { return nlohmann::json::parse(v.dump()).dump(); }

}  // namespace

std::string invalidValueText(const Json& value) { return goSortedDump(value); }

void applyBuiltinDefaults(const std::string& t, Json& o) {
  if (!o.is_object()) return;
  if (t == "apps.Deployment") {
    Json& spec = obj(o, "spec");
    setDefault(spec, "replicas", 1);
    Json& st = obj(spec, "strategy");
    setDefault(st, "type", "RollingUpdate");
    if (st["type"] == "RollingUpdate") {
      Json& ru = obj(st, "rollingUpdate");
      setDefault(ru, "maxUnavailable", "25%");
      setDefault(ru, "maxSurge", "25%");
    }
    setDefault(spec, "revisionHistoryLimit", 10);
    setDefault(spec, "progressDeadlineSeconds", 600);
    templateDefaults(o, {"spec", "template", "spec"});
  } else if (t == "apps.DaemonSet") {
    Json& spec = obj(o, "spec");
    Json& st = obj(spec, "updateStrategy");
    setDefault(st, "type", "RollingUpdate");
    if (st["type"] == "RollingUpdate") {
      Json& ru = obj(st, "rollingUpdate");
      setDefault(ru, "maxUnavailable", 1);
      setDefault(ru, "maxSurge", 0);
    }
    setDefault(spec, "revisionHistoryLimit", 10);
    templateDefaults(o, {"spec", "template", "spec"});
  } else if (t == "apps.StatefulSet") {
    Json& spec = obj(o, "spec");
    setDefault(spec, "podManagementPolicy", "OrderedReady");
    Json& st = obj(spec, "updateStrategy");
    if (unset(st, "type")) {
      st["type"] = "RollingUpdate";
      if (!st.contains("rollingUpdate") || st["rollingUpdate"].is_null()) st["rollingUpdate"] = Json::object();
    }
    if (st["type"] == "RollingUpdate" && st.contains("rollingUpdate") && st["rollingUpdate"].is_object())
      setDefault(st["rollingUpdate"], "partition", 0);
    Json& pvcp = obj(spec, "persistentVolumeClaimRetentionPolicy");
    setDefault(pvcp, "whenDeleted", "Retain");
    setDefault(pvcp, "whenScaled", "Retain");
    setDefault(spec, "replicas", 1);
    setDefault(spec, "revisionHistoryLimit", 10);
    templateDefaults(o, {"spec", "template", "spec"});
    if (spec.contains("volumeClaimTemplates") && spec["volumeClaimTemplates"].is_array())
      for (auto& v : spec["volumeClaimTemplates"]) pvcSpecDefaults(v);
  } else if (t == "apps.ReplicaSet" || t == "core.ReplicationController") {
    Json& spec = obj(o, "spec");
    setDefault(spec, "replicas", 1);
    if (t == "core.ReplicationController" && spec.contains("template") && spec["template"].contains("metadata")) {
      const Json labels = spec["template"]["metadata"].value("labels", Json());
      if (labels.is_object() && !labels.empty()) {
        if (!spec.contains("selector") || spec["selector"].empty()) spec["selector"] = labels;
        if (!o["metadata"].contains("labels") || o["metadata"]["labels"].empty()) o["metadata"]["labels"] = labels;
      }
    }
    templateDefaults(o, {"spec", "template", "spec"});
  } else if (t == "core.PodTemplate") {
    templateDefaults(o, {"template", "spec"});
  } else if (t == "core.Pod") {
    Json& spec = obj(o, "spec");
    for (const char* list : {"containers", "initContainers"})
      if (spec.contains(list) && spec[list].is_array())
        for (auto& c : spec[list]) {
          if (!c.contains("resources") || !c["resources"].contains("limits") || !c["resources"]["limits"].is_object())
            continue;
          Json& req = obj(c["resources"], "requests");
          for (auto it = c["resources"]["limits"].begin(); it != c["resources"]["limits"].end(); ++it)
            if (!req.contains(it.key())) req[it.key()] = it.value();
        }
    setDefault(spec, "enableServiceLinks", true);
    if (spec.value("hostNetwork", false))
      for (const char* list : {"containers", "initContainers"})
        if (spec.contains(list) && spec[list].is_array())
          for (auto& c : spec[list])
            if (c.contains("ports") && c["ports"].is_array())
              for (auto& p : c["ports"])
                if (!p.contains("hostPort") || p["hostPort"] == 0) p["hostPort"] = p.value("containerPort", 0);
    podSpecDefaults(spec);
  } else if (t == "batch.Job") {
    Json& spec = obj(o, "spec");
    if (unset(spec, "completions") && unset(spec, "parallelism")) {
      spec["completions"] = 1;
      spec["parallelism"] = 1;
    }
    setDefault(spec, "parallelism", 1);
    setDefault(spec, "backoffLimit", spec.contains("backoffLimitPerIndex") ? 2147483647 : 6);
    const Json labels = spec.contains("template") && spec["template"].contains("metadata")
                            ? spec["template"]["metadata"].value("labels", Json())
                            : Json();
    if (labels.is_object() && !labels.empty() && (!o["metadata"].contains("labels") || o["metadata"]["labels"].empty()))
      o["metadata"]["labels"] = labels;
    setDefault(spec, "completionMode", "NonIndexed");
    setDefault(spec, "suspend", false);
    setDefault(spec, "podReplacementPolicy", spec.contains("podFailurePolicy") ? "Failed" : "TerminatingOrFailed");
    templateDefaults(o, {"spec", "template", "spec"});
  } else if (t == "batch.CronJob") {
    Json& spec = obj(o, "spec");
    setDefault(spec, "concurrencyPolicy", "Allow");
    setDefault(spec, "suspend", false);
    setDefault(spec, "successfulJobsHistoryLimit", 3);
    setDefault(spec, "failedJobsHistoryLimit", 1);
    templateDefaults(o, {"spec", "jobTemplate", "spec", "template", "spec"});
  } else if (t == "core.Service") {
    serviceDefaults(o);
  } else if (t == "core.Secret") {
    setDefault(o, "type", "Opaque");
  } else if (t == "core.PersistentVolumeClaim") {
    pvcSpecDefaults(o);
  } else if (t == "core.Endpoints") {
    if (o.contains("subsets") && o["subsets"].is_array())
      for (auto& s : o["subsets"])
        if (s.contains("ports") && s["ports"].is_array())
          for (auto& p : s["ports"]) setDefault(p, "protocol", "TCP");
  } else if (t == "discovery.EndpointSlice") {
    if (o.contains("ports") && o["ports"].is_array())
      for (auto& p : o["ports"]) {
        if (!p.contains("name") || p["name"].is_null()) p["name"] = "";
        setDefault(p, "protocol", "TCP");
      }
  } else if (t == "autoscaling2.HorizontalPodAutoscaler") {
    Json& spec = obj(o, "spec");
    setDefault(spec, "minReplicas", 1);
    if (!spec.contains("metrics") || spec["metrics"].empty())
      spec["metrics"] = Json::array({Json{{"type", "Resource"},
                                          {"resource", {{"name", "cpu"},
                                                        {"target", {{"type", "Utilization"}, {"averageUtilization", 80}}}}}}});
    if (spec.contains("behavior") && spec["behavior"].is_object()) {
      Json& b = spec["behavior"];
      b["scaleUp"] = scalingRules(b.value("scaleUp", Json()), true);
      b["scaleDown"] = scalingRules(b.value("scaleDown", Json()), false);
    }
  } else if (t == "networking.NetworkPolicy") {
    Json& spec = obj(o, "spec");
    if (!spec.contains("policyTypes") || spec["policyTypes"].empty()) {
      Json types = Json::array({"Ingress"});
      if (spec.contains("egress") && !spec["egress"].empty()) types.push_back("Egress");
      spec["policyTypes"] = types;
    }
    for (const char* dir : {"ingress", "egress"})
      if (spec.contains(dir) && spec[dir].is_array())
        for (auto& r : spec[dir])
          if (r.contains("ports") && r["ports"].is_array())
            for (auto& p : r["ports"]) setDefault(p, "protocol", "TCP");
  } else if (t == "rbac.RoleBinding" || t == "rbac.ClusterRoleBinding") {
    if (o.contains("roleRef") && o["roleRef"].is_object()) setDefault(o["roleRef"], "apiGroup", "rbac.authorization.k8s.io");
    if (o.contains("subjects") && o["subjects"].is_array())
      for (auto& s : o["subjects"])
        if (unset(s, "apiGroup")) {
          std::string k = s.value("kind", "");
          if (k == "User" || k == "Group") s["apiGroup"] = "rbac.authorization.k8s.io";
        }
  } else if (t == "admission.MutatingWebhookConfiguration" || t == "admission.ValidatingWebhookConfiguration") {
    bool mutating = t == "admission.MutatingWebhookConfiguration";
    if (o.contains("webhooks") && o["webhooks"].is_array())
      for (auto& w : o["webhooks"]) {
        setDefault(w, "failurePolicy", "Fail");
        setDefault(w, "matchPolicy", "Equivalent");
        if (!w.contains("namespaceSelector") || w["namespaceSelector"].is_null()) w["namespaceSelector"] = Json::object();
        if (!w.contains("objectSelector") || w["objectSelector"].is_null()) w["objectSelector"] = Json::object();
        setDefault(w, "timeoutSeconds", 10);
        if (mutating) setDefault(w, "reinvocationPolicy", "Never");
        if (w.contains("rules") && w["rules"].is_array())
          for (auto& r : w["rules"]) setDefault(r, "scope", "*");
        if (w.contains("clientConfig") && w["clientConfig"].contains("service") &&
            w["clientConfig"]["service"].is_object())
          setDefault(w["clientConfig"]["service"], "port", 443);
      }
  }
}

void applyAdmissionDefaults(const std::string& t, Json& o) {
  if (t != "core.Pod") return;
  Json& spec = obj(o, "spec");
  // Admission: ServiceAccount (the name; the token volume is not modelled), DefaultTolerationSeconds, Priority.
  if (unset(spec, "serviceAccountName")) {
    spec["serviceAccountName"] = "default";
    spec["serviceAccount"] = "default";
  }
  if (!spec.contains("tolerations") || !spec["tolerations"].is_array()) spec["tolerations"] = Json::array();
  for (const char* key : {"node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"}) {
    bool has = false;
    for (const auto& tol : spec["tolerations"])
      if (tol.value("key", "") == key && (tol.value("effect", "") == "NoExecute" || tol.value("effect", "").empty()))
        has = true;
    if (!has)
      spec["tolerations"].push_back(
          Json{{"key", key}, {"operator", "Exists"}, {"effect", "NoExecute"}, {"tolerationSeconds", 300}});
  }
  setDefault(spec, "priority", 0);
  setDefault(spec, "preemptionPolicy", "PreemptLowerPriority");
}

void prepareBuiltinCreate(const std::string& t, Json& o) {
  static const std::set<std::string> resetStatus = {
      "apps.Deployment", "apps.DaemonSet", "apps.StatefulSet", "apps.ReplicaSet", "batch.Job", "batch.CronJob",
      "policy.PodDisruptionBudget", "autoscaling2.HorizontalPodAutoscaler", "core.Service", "networking.Ingress",
      "core.ReplicationController", "core.PersistentVolumeClaim"};
  if (resetStatus.count(t)) o["status"] = Json::object();
  if (t == "core.PersistentVolumeClaim") o["status"]["phase"] = "Pending";
  if (t == "apps.DaemonSet") obj(obj(o, "metadata"), "annotations")["deprecated.daemonset.template.generation"] = "1";
  if (t == "batch.Job") {
    Json& spec = obj(o, "spec");
    if (!spec.value("manualSelector", false)) {
      std::string uid = o["metadata"].value("uid", ""), name = o["metadata"].value("name", "");
      spec["selector"] = Json{{"matchLabels", {{"batch.kubernetes.io/controller-uid", uid}}}};
      Json& labels = obj(obj(obj(spec, "template"), "metadata"), "labels");
      labels["batch.kubernetes.io/controller-uid"] = uid;
      labels["batch.kubernetes.io/job-name"] = name;
      labels["controller-uid"] = uid;
      labels["job-name"] = name;
    }
  }
  if (t == "core.Pod") {
    Json& spec = obj(o, "spec");
    // qos.GetPodQOS, simplified: requests and limits of cpu and memory.
    bool any = false, guaranteed = true;
    for (const char* list : {"containers", "initContainers"})
      if (spec.contains(list) && spec[list].is_array())
        for (const auto& c : spec[list]) {
          Json r = c.value("resources", Json::object());
          Json req = r.value("requests", Json::object()), lim = r.value("limits", Json::object());
          for (const char* res : {"cpu", "memory"}) {
            if (req.contains(res) || lim.contains(res)) any = true;
            if (!lim.contains(res) || (req.contains(res) && req[res] != lim[res])) guaranteed = false;
          }
        }
    o["status"] = Json{{"phase", "Pending"}, {"qosClass", !any ? "BestEffort" : guaranteed ? "Guaranteed" : "Burstable"}};
  }
}

void prepareBuiltinUpdate(const std::string& t, const Json& old, Json& o) {
  if (t == "apps.DaemonSet") {
    std::string gen = "1";
    if (old.contains("metadata") && old["metadata"].contains("annotations"))
      gen = old["metadata"]["annotations"].value("deprecated.daemonset.template.generation", "1");
    long long g = std::atoll(gen.c_str());
    const Json before = old.contains("spec") ? old["spec"].value("template", Json()) : Json();
    const Json after = o.contains("spec") ? o["spec"].value("template", Json()) : Json();
    if (!sameValue(before, after)) ++g;
    obj(obj(o, "metadata"), "annotations")["deprecated.daemonset.template.generation"] = std::to_string(g);
  }
  if (t == "core.Service") {
    const Json os = old.value("spec", Json::object());
    Json& ns = obj(o, "spec");
    auto needsClusterIP = [](const Json& s) { return s.value("type", "ClusterIP") != "ExternalName"; };
    if (needsClusterIP(os) && needsClusterIP(ns)) {
      if (unset(ns, "clusterIP") && os.contains("clusterIP")) ns["clusterIP"] = os["clusterIP"];
      if ((!ns.contains("clusterIPs") || ns["clusterIPs"].empty()) && os.contains("clusterIPs"))
        ns["clusterIPs"] = os["clusterIPs"];
    }
    auto needsNodePort = [](const Json& s) {
      std::string ty = s.value("type", "ClusterIP");
      return ty == "NodePort" || ty == "LoadBalancer";
    };
    if (needsNodePort(os) && needsNodePort(ns) && ns.contains("ports") && ns["ports"].is_array()) {
      std::map<std::string, Json> byName;
      std::set<std::int64_t> used;
      for (const auto& p : os.value("ports", Json::array())) byName[p.value("name", "")] = p.value("nodePort", 0);
      for (const auto& p : ns["ports"])
        if (p.value("nodePort", 0) != 0) used.insert(p.value("nodePort", 0));
      for (auto& p : ns["ports"])
        if (p.value("nodePort", 0) == 0 && byName.count(p.value("name", "")) &&
            !used.count(byName[p.value("name", "")].get<std::int64_t>()))
          p["nodePort"] = byName[p.value("name", "")];
    }
    // normalizeClusterIPs: a changed clusterIP with unchanged clusterIPs moves clusterIPs[0] with it.
    std::string oldIP = os.value("clusterIP", ""), newIP = ns.value("clusterIP", "");
    bool sameIPs = sameValue(os.value("clusterIPs", Json()), ns.value("clusterIPs", Json()));
    if (oldIP != newIP && !newIP.empty() && sameIPs) ns["clusterIPs"] = Json::array({newIP});
  }
}

std::vector<FieldError> builtinUpdateErrors(const std::string& t, const Json& old, const Json& o) {
  std::vector<FieldError> errs;
  const Json os = old.value("spec", Json::object()), ns = o.value("spec", Json::object());
  if (t == "apps.Deployment" || t == "apps.DaemonSet" || t == "apps.ReplicaSet") {
    if (!sameValue(os.value("selector", Json()), ns.value("selector", Json())))
      errs.push_back({"spec.selector", "Invalid value: " + invalidValueText(ns.value("selector", Json())) +
                                           ": field is immutable"});
  } else if (t == "apps.StatefulSet") {
    Json a = os, b = ns;
    for (const char* k : {"replicas", "ordinals", "template", "updateStrategy", "revisionHistoryLimit",
                          "persistentVolumeClaimRetentionPolicy", "minReadySeconds"}) {
      a.erase(k);
      b.erase(k);
    }
    if (!sameValue(a, b))
      errs.push_back({"spec",
                      "Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', "
                      "'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and "
                      "'minReadySeconds' are forbidden",
                      "FieldValueForbidden"});
  } else if (t == "core.Service") {
    bool external = os.value("type", "") == "ExternalName" || ns.value("type", "") == "ExternalName";
    const Json oldIPs = os.value("clusterIPs", Json::array()), newIPs = ns.value("clusterIPs", Json::array());
    if (!external && !oldIPs.empty() && !newIPs.empty() && oldIPs[0] != newIPs[0])
      errs.push_back({"spec.clusterIPs[0]", "Invalid value: " + invalidValueText(newIPs) + ": may not change once set"});
  } else if (t == "batch.Job") {
    if (!sameValue(os.value("selector", Json()), ns.value("selector", Json())))
      errs.push_back({"spec.selector", "Invalid value: " + invalidValueText(ns.value("selector", Json())) +
                                           ": field is immutable"});
  }
  return errs;
}

std::vector<FieldError> finalizerUpdateErrors(const Json& old, const Json& o) {
  if (!old.contains("metadata") || !old["metadata"].contains("deletionTimestamp")) return {};
  std::set<std::string> before, extra;
  for (const auto& f : old["metadata"].value("finalizers", Json::array()))
    if (f.is_string()) before.insert(f.get<std::string>());
  if (o.contains("metadata"))
    for (const auto& f : o["metadata"].value("finalizers", Json::array()))
      if (f.is_string() && !before.count(f.get<std::string>())) extra.insert(f.get<std::string>());
  if (extra.empty()) return {};
  std::string list = "[]string{";
  bool first = true;
  for (const auto& f : extra) {
    list += (first ? "" : ", ") + goQuote(f);
    first = false;
  }
  list += "}";
  return {{"metadata.finalizers",
           "Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers " + list,
           "FieldValueForbidden"}};
}

std::string labelSelectorString(const Json& sel) {
  if (!sel.is_object()) return "";
  std::vector<std::pair<std::string, std::string>> reqs;  // key, rendered
  if (sel.contains("matchLabels") && sel["matchLabels"].is_object())
    for (auto it = sel["matchLabels"].begin(); it != sel["matchLabels"].end(); ++it)
      reqs.push_back({it.key(), it.key() + "=" + it.value().get<std::string>()});
  if (sel.contains("matchExpressions") && sel["matchExpressions"].is_array())
    for (const auto& e : sel["matchExpressions"]) {
      std::string key = e.value("key", ""), op = e.value("operator", "");
      std::vector<std::string> vals;
      for (const auto& v : e.value("values", Json::array())) vals.push_back(v.get<std::string>());
      std::sort(vals.begin(), vals.end());
      std::string joined;
      for (size_t i = 0; i < vals.size(); ++i) joined += (i ? "," : "") + vals[i];
      if (op == "In") reqs.push_back({key, key + " in (" + joined + ")"});
      else if (op == "NotIn") reqs.push_back({key, key + " notin (" + joined + ")"});
      else if (op == "Exists") reqs.push_back({key, key});
      else if (op == "DoesNotExist") reqs.push_back({key, "!" + key});
    }
  std::stable_sort(reqs.begin(), reqs.end(), [](auto& a, auto& b) { return a.first < b.first; });
  std::string out;
  for (size_t i = 0; i < reqs.size(); ++i) out += (i ? "," : "") + reqs[i].second;
  return out;
}

}  // namespace otel::testing
