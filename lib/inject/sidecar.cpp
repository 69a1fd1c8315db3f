#include "lib/inject/sidecar.h"

#include "lib/api/common.h"
#include "lib/inject/select.h"

#include <algorithm>
#include <map>
#include <set>

#include "lib/collectorconfig/config.h"
#include "lib/core/yaml.h"
#include "lib/inject/env.h"
#include "lib/inject/inject.h"

namespace otel::inject {
namespace {

Json sortKeys(const Json& j) {
  if (j.is_object()) {
    std::map<std::string, Json> sorted;
    for (auto it = j.begin(); it != j.end(); ++it) sorted.emplace(it.key(), sortKeys(*it));
    Json out = Json::object();
    for (auto& [k, v] : sorted) out[k] = std::move(v);
    return out;
  }
  if (j.is_array()) {
    Json out = Json::array();
    for (const auto& e : j) out.push_back(sortKeys(e));
    return out;
  }
  return j;
}

// The config as a Json object (v1alpha1 string parsed), or null.
Json configObject(const Json& collector) {
  const Json* spec = collector.is_object() && collector.contains("spec") ? &collector["spec"] : nullptr;
  if (!spec || !spec->contains("config")) return Json();
  const Json& cfg = (*spec)["config"];
  if (cfg.is_object()) return cfg;
  if (cfg.is_string()) {
    try {
      return parseYaml(cfg.get<std::string>(), "spec.config");
    } catch (...) {
      return Json();
    }
  }
  return Json();
}

int portFromEndpoint(const std::string& endpoint) { return collectorconfig::portFromEndpoint(endpoint); }

std::string portName(const std::string& receiver, const std::string& protocol) {
  std::string n = protocol.empty() ? receiver : receiver + "-" + protocol;
  for (auto& c : n)
    if (c == '/' || c == '_') c = '-';
  return n;
}

struct KnownProtocol {
  const char* receiver;
  const char* protocol;
  int port;
  const char* transport;
};

const KnownProtocol kProtocols[] = {
    {"otlp", "grpc", 4317, "TCP"},           {"otlp", "http", 4318, "TCP"},
    {"jaeger", "grpc", 14250, "TCP"},        {"jaeger", "thrift_http", 14268, "TCP"},
    {"jaeger", "thrift_compact", 6831, "UDP"}, {"jaeger", "thrift_binary", 6832, "UDP"},
    {"skywalking", "grpc", 11800, "TCP"},    {"skywalking", "http", 12800, "TCP"},
    {"loki", "grpc", 9095, "TCP"},           {"loki", "http", 3100, "TCP"},
};

struct SinglePort {
  const char* receiver;
  int port;
  const char* transport;
};
const SinglePort kSingle[] = {{"awsxray", 2000, "UDP"}, {"carbon", 2003, "TCP"},   {"collectd", 8081, "TCP"},
                              {"fluentforward", 8006, "TCP"}, {"influxdb", 8086, "TCP"}, {"sapm", 7276, "TCP"},
                              {"signalfx", 9943, "TCP"}, {"splunk_hec", 8088, "TCP"}, {"statsd", 8125, "UDP"},
                              {"wavefront", 2003, "TCP"}, {"zipkin", 9411, "TCP"}};

}  // namespace

std::string collectorConfigYaml(const Json& collector) {
  const Json* spec = collector.is_object() && collector.contains("spec") ? &collector["spec"] : nullptr;
  if (!spec || !spec->contains("config")) return "";
  const Json& cfg = (*spec)["config"];
  if (cfg.is_string()) return cfg.get<std::string>();
  return toYaml(sortKeys(cfg));
}

Json collectorPorts(const Json& collector) {
  Json cfg = configObject(collector);
  std::map<std::string, Json> ports;  // sorted by name
  if (cfg.is_object()) {
    std::set<std::string> used;
    if (cfg.contains("service") && cfg["service"].is_object() && cfg["service"].contains("pipelines") &&
        cfg["service"]["pipelines"].is_object()) {
      for (const auto& p : cfg["service"]["pipelines"]) {
        if (p.is_object() && p.contains("receivers") && p["receivers"].is_array())
          for (const auto& r : p["receivers"])
            if (r.is_string()) used.insert(r.get<std::string>());
      }
    }
    const Json& receivers = cfg.contains("receivers") && cfg["receivers"].is_object() ? cfg["receivers"] : api::emptyObject();
    for (auto it = receivers.begin(); it != receivers.end(); ++it) {
      const std::string name = it.key();
      if (!used.count(name)) continue;
      const std::string type = name.substr(0, name.find('/'));
      const Json& rc = *it;
      bool multi = false;
      for (const auto& kp : kProtocols) {
        if (type != kp.receiver) continue;
        multi = true;
        if (!rc.is_object() || !rc.contains("protocols") || !rc["protocols"].is_object() ||
            !rc["protocols"].contains(kp.protocol))
          continue;
        const Json& pc = rc["protocols"][kp.protocol];
        int port = kp.port;
        if (int p = portFromEndpoint(api::str(pc, {"endpoint"})); p > 0) port = p;
        std::string n = portName(name, kp.protocol);
        Json port_j = {{"name", n}, {"containerPort", port}, {"protocol", kp.transport}};
        ports[n] = port_j;
      }
      if (multi) continue;
      int port = portFromEndpoint(api::str(rc, {"endpoint"}));
      const char* transport = "TCP";
      for (const auto& sp : kSingle)
        if (type == sp.receiver) {
          if (port == 0) port = sp.port;
          transport = sp.transport;
        }
      if (port == 0) continue;
      std::string n = name.size() > 15 ? "port-" + std::to_string(port) : portName(name, "");
      ports[n] = Json{{"name", n}, {"containerPort", port}, {"protocol", transport}};
    }
  }
  ports["metrics"] = Json{{"name", "metrics"}, {"containerPort", 8888}, {"protocol", "TCP"}};
  Json out = Json::array();
  for (auto& [n, p] : ports) out.push_back(p);
  return out;
}

Json sidecarVolumes(const Json& collector) {
  Json out = Json::array();
  const Json& spec = collector.is_object() && collector.contains("spec") ? collector["spec"] : api::emptyObject();
  if (spec.contains("volumes") && spec["volumes"].is_array())
    for (const auto& v : spec["volumes"]) out.push_back(v);
  if (spec.contains("configmaps") && spec["configmaps"].is_array())
    for (const auto& cm : spec["configmaps"]) {
      std::string n = api::str(cm, {"name"});
      if (n.empty()) continue;
      out.push_back(Json{{"name", "configmap-" + n}, {"configMap", Json{{"name", n}}}});
    }
  return out;
}

Json sidecarContainer(const Json& collector, const PodContext& ctx, const std::string& defaultImage, bool native) {
  const Json& spec = collector.is_object() && collector.contains("spec") ? collector["spec"] : api::emptyObject();
  Json c = Json::object();
  c["name"] = kSidecarContainerName;
  std::string image = api::str(spec, {"image"});
  c["image"] = image.empty() ? defaultImage : image;
  // Args: the CR's args sorted as --k=v, then the config from the environment.
  Json args = Json::array();
  if (spec.contains("args") && spec["args"].is_object()) {
    std::map<std::string, std::string> sorted;
    for (auto it = spec["args"].begin(); it != spec["args"].end(); ++it)
      if (it.key() != "config") sorted[it.key()] = it->is_string() ? it->get<std::string>() : it->dump();
    for (auto& [k, v] : sorted) args.push_back(v.empty() ? "--" + k : "--" + k + "=" + v);
  }
  args.push_back("--config=env:OTEL_CONFIG");
  c["args"] = args;
  c["ports"] = collectorPorts(collector);
  Json env = Json::array();
  if (spec.contains("env") && spec["env"].is_array()) env = spec["env"];
  if (indexOfEnv(env, "POD_NAME") < 0) appendEnvFieldRef(env, "POD_NAME", "metadata.name", false);
  for (auto [name, res] : {std::pair{"GOMEMLIMIT", "limits.memory"}, std::pair{"GOMAXPROCS", "limits.cpu"}}) {
    if (indexOfEnv(env, name) >= 0) continue;
    env.push_back(Json{{"name", name},
                       {"valueFrom", Json{{"resourceFieldRef", Json{{"containerName", kSidecarContainerName},
                                                                    {"resource", res}}}}}});
  }
  appendEnv(env, "OTEL_CONFIG", collectorConfigYaml(collector));
  if (indexOfEnv(env, "OTEL_RESOURCE_ATTRIBUTES") < 0) {
    appendEnvFieldRef(env, "OTEL_RESOURCE_ATTRIBUTES_POD_NAME", "metadata.name", true);
    appendEnvFieldRef(env, "OTEL_RESOURCE_ATTRIBUTES_POD_UID", "metadata.uid", true);
    appendEnvFieldRef(env, "OTEL_RESOURCE_ATTRIBUTES_NODE_NAME", "spec.nodeName", true);
    std::map<std::string, std::string> attrs;
    if (!ctx.deployment.empty()) attrs["k8s.deployment.name"] = ctx.deployment;
    if (!ctx.deploymentUid.empty()) attrs["k8s.deployment.uid"] = ctx.deploymentUid;
    if (!ctx.replicaSet.empty()) attrs["k8s.replicaset.name"] = ctx.replicaSet;
    if (!ctx.replicaSetUid.empty()) attrs["k8s.replicaset.uid"] = ctx.replicaSetUid;
    attrs["k8s.namespace.name"] = ctx.ns;
    attrs["k8s.node.name"] = "$(OTEL_RESOURCE_ATTRIBUTES_NODE_NAME)";
    attrs["k8s.pod.name"] = "$(OTEL_RESOURCE_ATTRIBUTES_POD_NAME)";
    attrs["k8s.pod.uid"] = "$(OTEL_RESOURCE_ATTRIBUTES_POD_UID)";
    std::string s;
    for (auto& [k, v] : attrs) s += (s.empty() ? "" : ",") + k + "=" + v;
    appendEnv(env, "OTEL_RESOURCE_ATTRIBUTES", s);
  }
  c["env"] = env;
  if (spec.contains("resources") && spec["resources"].is_object() && !spec["resources"].empty())
    c["resources"] = spec["resources"];
  if (native) c["restartPolicy"] = "Always";
  Json mounts = Json::array();
  if (spec.contains("volumeMounts") && spec["volumeMounts"].is_array())
    for (const auto& m : spec["volumeMounts"]) mounts.push_back(m);
  if (spec.contains("configmaps") && spec["configmaps"].is_array())
    for (const auto& cm : spec["configmaps"]) {
      std::string n = api::str(cm, {"name"});
      if (n.empty()) continue;
      std::string mp = api::str(cm, {"mountpath"});
      mounts.push_back(Json{{"name", "configmap-" + n}, {"mountPath", "/var/conf/" + mp + "/configmap-" + n}});
    }
  if (!mounts.empty()) c["volumeMounts"] = mounts;
  // Probes from the health_check extension when it is enabled.
  Json cfg = configObject(collector);
  if (cfg.is_object() && cfg.contains("service") && cfg["service"].is_object() &&
      cfg["service"].contains("extensions") && cfg["service"]["extensions"].is_array()) {
    for (const auto& e : cfg["service"]["extensions"]) {
      if (!e.is_string()) continue;
      std::string name = e.get<std::string>();
      if (name.substr(0, name.find('/')) != "health_check") continue;
      int port = 13133;
      std::string path = "/";
      if (cfg.contains("extensions") && cfg["extensions"].is_object() && cfg["extensions"].contains(name)) {
        const Json& ext = cfg["extensions"][name];
        if (int p = portFromEndpoint(api::str(ext, {"endpoint"})); p > 0) port = p;
        if (!api::str(ext, {"path"}).empty()) path = api::str(ext, {"path"});
      }
      Json probe = {{"httpGet", Json{{"path", path}, {"port", port}}}};
      c["livenessProbe"] = probe;
      c["readinessProbe"] = probe;
      if (native) c["startupProbe"] = probe;
      break;
    }
  }
  if (spec.contains("securityContext") && spec["securityContext"].is_object())
    c["securityContext"] = spec["securityContext"];
  if (!api::str(spec, {"imagePullPolicy"}).empty()) c["imagePullPolicy"] = api::str(spec, {"imagePullPolicy"});
  return c;
}

const Json* selectCollector(const std::string& value, const PodContext& ctx, const Catalog& catalog, std::string& error) {
  auto isSidecar = [](const Json& o) {
    return api::str(o, {"spec", "mode"}) == "sidecar";  // an omitted mode is deployment
  };
  return selectByAnnotation(value, ctx.ns, catalog.collectors,
                            {"Collector", "opentelemetrycollectors.opentelemetry.io", isSidecar,
                             "the OpenTelemetry Collector's mode is not set to sidecar"},
                            error);
}

}  // namespace otel::inject
