#include "tests/unit/manifests/apiserver_defaults.h"

namespace otel::testing {

const std::vector<DefaultRule> kApiServerDefaults = {
    {"container probes: failureThreshold 3, periodSeconds 10, successThreshold 1, timeoutSeconds 1, httpGet.scheme HTTP",
     "k8s.io/api core/v1 SetDefaults_Probe / SetDefaults_HTTPGetAction"},
    {"env valueFrom.fieldRef.apiVersion v1, resourceFieldRef.divisor \"0\"", "core/v1 SetDefaults_ObjectFieldSelector / ResourceFieldRef"},
    {"container terminationMessagePath/Policy, imagePullPolicy (Always for :latest/no tag, else IfNotPresent), port protocol TCP",
     "core/v1 SetDefaults_Container / SetDefaults_ContainerPort"},
    {"configMap volume defaultMode 420; a volume with no source gets emptyDir {}", "core/v1 SetDefaults_ConfigMapVolumeSource / SetDefaults_Volume"},
    {"pod spec restartPolicy Always, schedulerName default-scheduler, securityContext {}, terminationGracePeriodSeconds 30",
     "core/v1 SetDefaults_PodSpec"},
    {"PVC template volumeMode Filesystem", "core/v1 SetDefaults_PersistentVolumeClaimSpec"},
    {"Service type ClusterIP, sessionAffinity None, port protocol TCP, targetPort = port, clusterIPs from clusterIP, "
     "ipFamilies [IPv4] / ipFamilyPolicy SingleStack on a single-stack IPv4 cluster",
     "core/v1 SetDefaults_Service / the Service REST strategy"},
    {"HPA behavior scaleUp/scaleDown policies and selectPolicy Max", "autoscaling/v2 SetDefaults_HorizontalPodAutoscalerBehavior"},
    {"Deployment revisionHistoryLimit 10, progressDeadlineSeconds 600, RollingUpdate 25%/25%", "apps/v1 SetDefaults_Deployment"},
};

namespace {

void setIfMissing(Json& o, const char* k, const Json& v) {
  if (!o.contains(k)) o[k] = v;
}

void probe(Json& p) {
  if (!p.is_object()) return;
  setIfMissing(p, "failureThreshold", 3);
  setIfMissing(p, "periodSeconds", 10);
  setIfMissing(p, "successThreshold", 1);
  setIfMissing(p, "timeoutSeconds", 1);
  if (p.contains("httpGet") && p["httpGet"].is_object()) setIfMissing(p["httpGet"], "scheme", "HTTP");
}

void container(Json& c) {
  if (!c.is_object()) return;
  setIfMissing(c, "terminationMessagePath", "/dev/termination-log");
  setIfMissing(c, "terminationMessagePolicy", "File");
  if (!c.contains("imagePullPolicy")) {
    std::string img = c.value("image", "");
    auto slash = img.rfind('/');
    std::string last = slash == std::string::npos ? img : img.substr(slash + 1);
    bool latest = last.find(':') == std::string::npos || last.substr(last.find(':') + 1) == "latest";
    if (img.find('@') != std::string::npos) latest = false;
    c["imagePullPolicy"] = latest ? "Always" : "IfNotPresent";
  }
  setIfMissing(c, "resources", Json::object());
  for (const char* p : {"livenessProbe", "readinessProbe", "startupProbe"})
    if (c.contains(p)) probe(c[p]);
  if (c.contains("ports") && c["ports"].is_array())
    for (auto& p : c["ports"]) setIfMissing(p, "protocol", "TCP");
  if (c.contains("env") && c["env"].is_array())
    for (auto& e : c["env"]) {
      if (!e.contains("valueFrom")) continue;
      if (e["valueFrom"].contains("fieldRef")) setIfMissing(e["valueFrom"]["fieldRef"], "apiVersion", "v1");
      if (e["valueFrom"].contains("resourceFieldRef")) setIfMissing(e["valueFrom"]["resourceFieldRef"], "divisor", "0");
    }
}

void podSpec(Json& s) {
  if (!s.is_object()) return;
  for (const char* k : {"containers", "initContainers"})
    if (s.contains(k) && s[k].is_array())
      for (auto& c : s[k]) container(c);
  setIfMissing(s, "restartPolicy", "Always");
  setIfMissing(s, "schedulerName", "default-scheduler");
  setIfMissing(s, "securityContext", Json::object());
  setIfMissing(s, "terminationGracePeriodSeconds", 30);
  setIfMissing(s, "dnsPolicy", "ClusterFirst");
  if (s.contains("volumes") && s["volumes"].is_array())
    for (auto& v : s["volumes"]) {
      if (v.is_object() && v.size() == 1 && v.contains("name")) v["emptyDir"] = Json::object();
      if (v.contains("configMap")) setIfMissing(v["configMap"], "defaultMode", 420);
    }
}

}  // namespace

Json withApiServerDefaults(const Json& in) {
  Json o = in;
  std::string kind = o.value("kind", "");
  if (!o.contains("spec") || !o["spec"].is_object()) return o;
  Json& spec = o["spec"];
  if (kind == "Deployment" || kind == "StatefulSet" || kind == "DaemonSet") {
    if (spec.contains("template") && spec["template"].contains("spec")) podSpec(spec["template"]["spec"]);
    if (kind == "Deployment") {
      setIfMissing(spec, "revisionHistoryLimit", 10);
      setIfMissing(spec, "progressDeadlineSeconds", 600);
      setIfMissing(spec, "strategy", Json{{"type", "RollingUpdate"}, {"rollingUpdate", {{"maxSurge", "25%"}, {"maxUnavailable", "25%"}}}});
    }
    if (kind == "StatefulSet" && spec.contains("volumeClaimTemplates"))
      for (auto& v : spec["volumeClaimTemplates"])
        if (v.contains("spec")) setIfMissing(v["spec"], "volumeMode", "Filesystem");
  } else if (kind == "Service") {
    setIfMissing(spec, "type", "ClusterIP");
    if (spec.contains("clusterIP") && !spec.contains("clusterIPs")) spec["clusterIPs"] = Json::array({spec["clusterIP"]});
    setIfMissing(spec, "ipFamilies", Json::array({"IPv4"}));
    setIfMissing(spec, "ipFamilyPolicy", "SingleStack");
    setIfMissing(spec, "sessionAffinity", "None");
    if (spec.contains("ports"))
      for (auto& p : spec["ports"]) {
        setIfMissing(p, "protocol", "TCP");
        if (!p.contains("targetPort") && p.contains("port")) p["targetPort"] = p["port"];
      }
  } else if (kind == "HorizontalPodAutoscaler") {
    Json& b = spec["behavior"];
    if (!b.is_object()) b = Json::object();
    Json& up = b["scaleUp"];
    if (!up.is_object()) up = Json::object();
    setIfMissing(up, "stabilizationWindowSeconds", 0);
    setIfMissing(up, "selectPolicy", "Max");
    setIfMissing(up, "policies", Json::array({{{"type", "Pods"}, {"value", 4}, {"periodSeconds", 15}},
                                              {{"type", "Percent"}, {"value", 100}, {"periodSeconds", 15}}}));
    Json& down = b["scaleDown"];
    if (!down.is_object()) down = Json::object();
    setIfMissing(down, "selectPolicy", "Max");
    setIfMissing(down, "policies", Json::array({{{"type", "Percent"}, {"value", 100}, {"periodSeconds", 15}}}));
  }
  return o;
}

}  // namespace otel::testing
