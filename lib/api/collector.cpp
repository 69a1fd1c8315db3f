#include "lib/api/collector.h"

#include <algorithm>
#include <set>

#include "lib/api/collector_yaml.h"
#include "lib/api/targetallocator.h"
#include "lib/core/error.h"
#include "lib/core/yaml.h"

namespace otel::api {

namespace {
const Json kNull = nullptr;

Json emptyConfig() {
  return Json{{"receivers", Json::object()}, {"exporters", Json::object()}, {"service", {{"pipelines", Json::object()}}}};
}

std::string modeOf(const Json& cr) { return str(cr, {"spec", "mode"}); }
}  // namespace

bool isCollector(const Json& obj) {
  return obj.is_object() && obj.value("kind", "") == kCollectorKind &&
         obj.value("apiVersion", "").rfind("opentelemetry.io/", 0) == 0;
}

bool isValidMode(const std::string& m) {
  return m == kModeDeployment || m == kModeDaemonSet || m == kModeStatefulSet || m == kModeSidecar;
}

const Json& CollectorView::spec() const {
  const Json* s = at(obj_, {"spec"});
  return s ? *s : kNull;
}
const Json& CollectorView::config() const {
  const Json* s = at(obj_, {"spec", "config"});
  return s ? *s : kNull;
}
std::string CollectorView::allocationStrategy() const {
  std::string s = str(obj_, {"spec", "targetAllocator", "allocationStrategy"});
  return s.empty() ? "consistent-hashing" : s;
}

Json toV1beta1(const Json& in) {
  Json out = in;
  std::string apiVersion = in.value("apiVersion", "");
  if (apiVersion == kV1beta1) return out;
  out["apiVersion"] = kV1beta1;
  if (!out.contains("spec") || !out["spec"].is_object()) return out;
  Json& spec = out["spec"];
  // config: string -> structured (failure -> empty config, conversion must not fail)
  if (spec.contains("config")) {
    Json cfg = emptyConfig();
    if (spec["config"].is_string()) {
      try {
        Json parsed = parseYaml(spec["config"].get<std::string>(), "spec.config");
        if (parsed.is_object()) cfg = parsed;
      } catch (const std::exception&) {
      }
    } else if (spec["config"].is_object()) {
      cfg = spec["config"];
    }
    spec["config"] = cfg;
  }
  // deprecated top-level min/maxReplicas -> autoscaler
  if (spec.contains("minReplicas") || spec.contains("maxReplicas") || spec.contains("autoscaler")) {
    Json as = spec.contains("autoscaler") && spec["autoscaler"].is_object() ? spec["autoscaler"] : Json::object();
    if (spec.contains("maxReplicas") && !spec["maxReplicas"].is_null() && !as.contains("maxReplicas"))
      as["maxReplicas"] = spec["maxReplicas"];
    if (spec.contains("minReplicas") && !spec["minReplicas"].is_null() && !as.contains("minReplicas"))
      as["minReplicas"] = spec["minReplicas"];
    spec.erase("minReplicas");
    spec.erase("maxReplicas");
    spec["autoscaler"] = as;
  }
  if (spec.contains("updateStrategy")) {
    spec["daemonSetUpdateStrategy"] = spec["updateStrategy"];
    spec.erase("updateStrategy");
  }
  // TA: alpha selectors are plain label maps; converted to LabelSelectors even when nil.
  if (spec.contains("targetAllocator") && spec["targetAllocator"].is_object()) {
    Json& pcr = ensure(spec["targetAllocator"], {"prometheusCR"});
    for (const char* key : {"podMonitorSelector", "serviceMonitorSelector"}) {
      Json m = pcr.contains(key) ? pcr[key] : Json();
      Json sel = Json::object();
      if (m.is_object() && !m.empty()) sel["matchLabels"] = m;
      pcr[key] = sel;
    }
  }
  return out;
}

Json toV1alpha1(const Json& in) {
  Json out = in;
  if (in.value("apiVersion", "") == kV1alpha1) return out;
  out["apiVersion"] = kV1alpha1;
  if (!out.contains("spec") || !out["spec"].is_object()) return out;
  Json& spec = out["spec"];
  if (spec.contains("config") && spec["config"].is_object()) spec["config"] = collectorConfigYaml(spec["config"]);
  if (spec.contains("daemonSetUpdateStrategy")) {
    spec["updateStrategy"] = spec["daemonSetUpdateStrategy"];
    spec.erase("daemonSetUpdateStrategy");
  }
  if (spec.contains("targetAllocator") && spec["targetAllocator"].is_object()) {
    Json* pcr = spec["targetAllocator"].contains("prometheusCR") ? &spec["targetAllocator"]["prometheusCR"] : nullptr;
    if (pcr && pcr->is_object()) {
      for (const char* key : {"podMonitorSelector", "serviceMonitorSelector"}) {
        if (!pcr->contains(key)) continue;
        const Json& sel = (*pcr)[key];
        if (sel.is_object() && sel.contains("matchLabels"))
          (*pcr)[key] = sel["matchLabels"];
        else
          pcr->erase(key);
      }
    }
  }
  return out;
}

Json convertCollector(const Json& collector, const std::string& apiVersion) {
  if (apiVersion == kV1beta1) return toV1beta1(collector);
  if (apiVersion == kV1alpha1) return toV1alpha1(toV1beta1(collector));
  throw Error("unsupported apiVersion \"" + apiVersion + "\" for OpenTelemetryCollector", "apiVersion",
              "use opentelemetry.io/v1beta1 or opentelemetry.io/v1alpha1");
}

void applyCollectorCrdDefaults(Json& cr) {
  if (!cr.contains("spec") || !cr["spec"].is_object()) return;
  Json& spec = cr["spec"];
  if (!spec.contains("configVersions")) spec["configVersions"] = 3;
  if (spec.contains("targetAllocator") && spec["targetAllocator"].is_object()) {
    Json& ta = spec["targetAllocator"];
    if (!ta.contains("allocationStrategy")) ta["allocationStrategy"] = "consistent-hashing";
    if (!ta.contains("filterStrategy")) ta["filterStrategy"] = "relabel-config";
    if (ta.contains("prometheusCR") && ta["prometheusCR"].is_object()) {
      Json& p = ta["prometheusCR"];
      if (!p.contains("scrapeInterval")) p["scrapeInterval"] = "30s";
      for (const char* k : {"podMonitorNamespaceSelector", "serviceMonitorNamespaceSelector",
                            "scrapeConfigNamespaceSelector", "probeNamespaceSelector"})
        if (!p.contains(k)) p[k] = Json::object();
    }
  }
}

void defaultCollectorSpec(Json& cr, const Json* old) {
  // metadata first: inserting into `cr` later would invalidate a reference to its spec
  Json& meta = ensure(cr, {"metadata"});
  if (!meta.contains("labels") || meta["labels"].is_null()) meta["labels"] = Json::object();
  Json& spec = ensure(cr, {"spec"});
  if (!spec.contains("mode") || !spec["mode"].is_string() || spec["mode"].get<std::string>().empty()) {
    std::string oldMode = old ? str(*old, {"spec", "mode"}) : "";
    spec["mode"] = oldMode.empty() ? kModeDeployment : oldMode;
  }
  if (str(spec, {"upgradeStrategy"}).empty()) spec["upgradeStrategy"] = "automatic";
  if (!spec.contains("replicas") || spec["replicas"].is_null()) spec["replicas"] = 1;
  if (boolean(spec, {"targetAllocator", "enabled"}) &&
      (!spec["targetAllocator"].contains("replicas") || spec["targetAllocator"]["replicas"].is_null()))
    spec["targetAllocator"]["replicas"] = 1;
  if (spec.contains("autoscaler") && spec["autoscaler"].is_object()) {
    Json& as = spec["autoscaler"];
    if (as.contains("maxReplicas") && !as["maxReplicas"].is_null()) {
      if (!as.contains("minReplicas") || as["minReplicas"].is_null()) as["minReplicas"] = spec["replicas"];
      bool mem = as.contains("targetMemoryUtilization") && !as["targetMemoryUtilization"].is_null();
      bool cpu = as.contains("targetCPUUtilization") && !as["targetCPUUtilization"].is_null();
      if (!mem && !cpu) as["targetCPUUtilization"] = 90;
    }
  }
  std::string ingressType = str(spec, {"ingress", "type"});
  if (ingressType == "route" && str(spec, {"ingress", "route", "termination"}).empty())
    ensure(spec, {"ingress", "route"})["termination"] = "edge";
  if (ingressType == "ingress" && str(spec, {"ingress", "ruleType"}).empty()) spec["ingress"]["ruleType"] = "path";
  if (str(spec, {"managementState"}).empty()) spec["managementState"] = "managed";
  const Json* np = at(spec, {"networkPolicy", "enabled"});
  if (!np || np->is_null()) ensure(spec, {"networkPolicy"})["enabled"] = true;
}

Readiness collectorReadiness(const Json& cr, std::string* progress) {
  auto say = [&](const std::string& s) {
    if (progress) *progress = s;
  };
  const Json* conds = at(cr, {"status", "conditions"});
  const Json* ready = nullptr;
  if (conds && conds->is_array())
    for (const auto& c : *conds)
      if (c.is_object() && c.value("type", "") == "Ready") ready = &c;
  std::string replicas = str(cr, {"status", "scale", "statusReplicas"});
  long long generation = integer(cr, {"metadata", "generation"}, 0);
  long long observed = integer(cr, {"status", "observedGeneration"}, generation);
  if (!ready) {
    // Upstream's operator sets no conditions, only status.scale.statusReplicas "<ready>/<total>".
    auto slash = replicas.find('/');
    if (slash != std::string::npos && observed >= generation) {
      std::string readyCount = replicas.substr(0, slash), total = replicas.substr(slash + 1);
      if (!total.empty() && total != "0" && readyCount == total) {
        say("ready (" + replicas + " replicas)");
        return Readiness::Ready;
      }
      say("not ready yet (" + replicas + " replicas)");
      return Readiness::Pending;
    }
    say(has(cr, {"status"}) ? "waiting for the controller to report readiness" : "waiting for the controller");
    return Readiness::Pending;
  }
  std::string status = ready->value("status", "");
  std::string reason = ready->value("reason", "");
  std::string message = ready->value("message", "");
  if (status == "False" && reason == "ReconcileError") {
    say(message.empty() ? reason : message);
    return Readiness::Failed;
  }
  if (status == "True" && observed >= generation) {
    say("ready" + (replicas.empty() ? std::string() : " (" + replicas + " replicas)"));
    return Readiness::Ready;
  }
  say("not ready yet" + (replicas.empty() ? std::string() : " (" + replicas + " replicas)") +
      (message.empty() ? std::string() : ": " + message));
  return Readiness::Pending;
}

std::string goStringList(const std::vector<std::string>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? " " : "") + v[i];
  return s + "]";
}

std::vector<std::string> portNameErrors(const std::string& port) {
  std::vector<std::string> errs;
  if (port.size() > 15) errs.push_back("must be no more than 15 characters");
  bool charset = !port.empty(), letter = false;
  for (char ch : port) {
    letter = letter || (ch >= 'a' && ch <= 'z');
    charset = charset && ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-');
  }
  if (!charset) errs.push_back("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)");
  if (!letter) errs.push_back("must contain at least one letter (a-z)");
  if (port.find("--") != std::string::npos) errs.push_back("must not contain consecutive hyphens");
  if (!port.empty() && (port.front() == '-' || port.back() == '-'))
    errs.push_back("must not begin or end with a hyphen");
  return errs;
}

std::vector<std::string> portNumErrors(long long port) {
  if (port >= 1 && port <= 65535) return {};
  return {"must be between 1 and 65535, inclusive"};
}

namespace {

bool nonEmptyArray(const Json& spec, const char* key) {
  return spec.contains(key) && spec[key].is_array() && !spec[key].empty();
}
bool nonNull(const Json& spec, const char* key) { return spec.contains(key) && !spec[key].is_null(); }

// k8s resource.Quantity AsInt64 for the simple forms the HPA webhook sees.
bool quantityInt(const Json& q, long long& out) {
  if (q.is_number_integer()) {
    out = q.get<long long>();
    return true;
  }
  if (q.is_number_float()) {
    double d = q.get<double>();
    out = static_cast<long long>(d);
    return static_cast<double>(out) == d;
  }
  if (!q.is_string()) return false;
  std::string s = q.get<std::string>();
  // [+-]digits then an optional suffix (no std::regex: libstdc++'s recurses per character)
  size_t i = (!s.empty() && (s[0] == '+' || s[0] == '-')) ? 1 : 0, d = i;
  while (d < s.size() && s[d] >= '0' && s[d] <= '9') ++d;
  if (d == i || d - i > 18) return false;
  std::string suf = s.substr(d);
  static const std::set<std::string> suffixes = {"", "k", "M", "G", "T", "P", "E", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"};
  if (!suffixes.count(suf)) return false;
  long long v = std::stoll(s.substr(0, d));
  static const std::vector<std::pair<std::string, long long>> mult = {
      {"k", 1000LL}, {"M", 1000000LL}, {"G", 1000000000LL}, {"T", 1000000000000LL}, {"Ki", 1024LL},
      {"Mi", 1048576LL}, {"Gi", 1073741824LL}, {"Ti", 1099511627776LL}};
  for (auto& [k, f] : mult)
    if (suf == k) v *= f;
  out = v;
  return true;
}

std::string checkAutoscaler(const Json& as) {
  const std::string prefix = "the OpenTelemetry Spec autoscale configuration is incorrect, ";
  for (const char* dir : {"scaleDown", "scaleUp"}) {
    const Json* w = at(as, {"behavior", dir, "stabilizationWindowSeconds"});
    if (w && w->is_number()) {
      long long v = w->get<long long>();
      if (v < 0 || v > 3600) return prefix + dir + ".stabilizationWindowSeconds should be >=0 and <=3600";
    }
  }
  if (as.contains("metrics") && as["metrics"].is_array()) {
    for (const auto& m : as["metrics"]) {
      if (str(m, {"type"}) != "Pods") return prefix + "metric type unsupported. Expected metric of source type Pod";
      std::string t = str(m, {"pods", "target", "type"});
      long long v = 0;
      if (t == "AverageValue") {
        const Json* q = at(m, {"pods", "target", "averageValue"});
        if (!q || !quantityInt(*q, v) || v < 1) return prefix + "average value should be greater than 0";
      } else if (t == "Value") {
        const Json* q = at(m, {"pods", "target", "value"});
        if (!q || !quantityInt(*q, v) || v < 1) return prefix + "value should be greater than 0";
      } else {
        return prefix + "invalid pods target type";
      }
    }
  }
  return {};
}

}  // namespace

Diagnostics validateCollectorSpec(const Json& cr, const Json* old) {
  Diagnostics d;
  const std::string mode = modeOf(cr);
  auto fail = [&](std::string msg) {
    d.errors.push_back(std::move(msg));
    return d;
  };
  if (old) {
    std::string oldMode = modeOf(*old);
    if (oldMode != mode) return fail("the OpenTelemetry Collector mode is set to " + oldMode + ", which does not support modification");
  }
  const Json* specp = at(cr, {"spec"});
  const Json spec = specp ? *specp : Json::object();
  if (!mode.empty() && !isValidMode(mode))
    return fail("spec.mode: Unsupported value: \"" + mode +
                "\": supported values: \"daemonset\", \"deployment\", \"sidecar\", \"statefulset\"");
  auto attr = [&](const std::string& a) {
    return "the OpenTelemetry Collector mode is set to " + mode + ", which does not support the attribute '" + a + "'";
  };
  if (mode != kModeStatefulSet && nonEmptyArray(spec, "volumeClaimTemplates")) return fail(attr("volumeClaimTemplates"));
  if (mode != kModeStatefulSet && nonNull(spec, "persistentVolumeClaimRetentionPolicy"))
    return fail(attr("persistentVolumeClaimRetentionPolicy"));
  if (mode == kModeSidecar) {
    if (nonEmptyArray(spec, "tolerations")) return fail(attr("tolerations"));
    if (!str(spec, {"priorityClassName"}).empty()) return fail(attr("priorityClassName"));
    if (nonNull(spec, "affinity")) return fail(attr("affinity"));
    if (nonEmptyArray(spec, "additionalContainers")) return fail(attr("AdditionalContainers"));
  }
  if (boolean(spec, {"targetAllocator", "enabled"})) {
    std::string strategy = str(spec, {"targetAllocator", "allocationStrategy"});
    checkAllocationStrategy(strategy, str(spec, {"targetAllocator", "image"}), "spec.targetAllocator.allocationStrategy", d);
    if (!d.ok()) return d;
    if (mode != kModeStatefulSet && mode != kModeDaemonSet)
      return fail("the OpenTelemetry Collector mode is set to " + mode + ", which does not support the target allocation deployment");
    if (mode == kModeDaemonSet && strategy != "per-node")
      return fail("the OpenTelemetry Collector mode is set to " + mode +
                  ", which must be used with target allocation strategy per-node ");
    if (strategy == "per-node" && mode != kModeDaemonSet)
      return fail("target allocation strategy per-node is only supported in OpenTelemetry Collector mode daemonset");
  }
  if (spec.contains("ports") && spec["ports"].is_array()) {
    for (const auto& p : spec["ports"]) {
      std::string name = str(p, {"name"});
      long long num = integer(p, {"port"});
      auto ne = portNameErrors(name);
      auto nu = portNumErrors(num);
      if (!ne.empty() || !nu.empty())
        return fail("the OpenTelemetry Spec Ports configuration is incorrect, port name '" + name +
                    "' errors: " + goStringList(ne) + ", num '" + std::to_string(num) + "' errors: " + goStringList(nu));
    }
  }
  const Json* as = at(spec, {"autoscaler"});
  bool hasMax = as && as->contains("maxReplicas") && !(*as)["maxReplicas"].is_null();
  bool hasMin = as && as->contains("minReplicas") && !(*as)["minReplicas"].is_null();
  if (hasMin && !hasMax) return fail("spec.maxReplica must be set when spec.minReplica is set");
  if (hasMax) {
    long long maxR = integer(*as, {"maxReplicas"});
    bool hasReplicas = spec.contains("replicas") && spec["replicas"].is_number();
    long long replicas = integer(spec, {"replicas"}, 1);
    long long minR = hasMin ? integer(*as, {"minReplicas"}) : replicas;
    if (hasReplicas && replicas > maxR)
      return fail("the OpenTelemetry Spec autoscale configuration is incorrect, replicas must not be greater than maxReplicas");
    if ((hasMin || hasReplicas) && minR > maxR)
      return fail("the OpenTelemetry Spec autoscale configuration is incorrect, minReplicas must not be greater than maxReplicas");
    std::string e = checkAutoscaler(*as);
    if (!e.empty()) return fail(e);
  }
  if (str(spec, {"ingress", "type"}) == "ingress" && mode == kModeSidecar)
    return fail("the OpenTelemetry Spec Ingress configuration is incorrect. Ingress can only be used in combination with the modes: deployment, daemonset, statefulset");
  if (str(spec, {"ingress", "ruleType"}) == "subdomain") {
    std::string host = str(spec, {"ingress", "hostname"});
    if (host.empty() || host == "*") return fail("a valid Ingress hostname has to be defined for subdomain ruleType");
  }
  if (mode != kModeDaemonSet && !str(spec, {"daemonSetUpdateStrategy", "type"}).empty()) return fail(attr("updateStrategy"));
  if (mode != kModeDeployment && !str(spec, {"deploymentUpdateStrategy", "type"}).empty())
    return fail(attr("deploymentUpdateStrategy"));
  return d;
}

}  // namespace otel::api
