#include "lib/collectorconfig/config.h"

#include <algorithm>

#include "lib/core/error.h"

namespace otel::collectorconfig {

namespace {

// By value: a range-for over a member of a temporary map would dangle.
std::set<std::string> enabledOf(const Json& config, Kind kind) { return enabledComponents(config)[kind]; }

struct PortDef {
  std::string proto;  // "TCP" / "UDP"
  int port;
  std::string appProtocol;
};

// Multi-protocol receivers: protocol -> default port.
const std::map<std::string, std::map<std::string, PortDef>>& multiPort() {
  static const std::map<std::string, std::map<std::string, PortDef>> m = {
      {"otlp", {{"grpc", {"TCP", 4317, "grpc"}}, {"http", {"TCP", 4318, "http"}}}},
      {"jaeger",
       {{"grpc", {"TCP", 14250, "grpc"}},
        {"thrift_http", {"TCP", 14268, "http"}},
        {"thrift_compact", {"UDP", 6831, ""}},
        {"thrift_binary", {"UDP", 6832, ""}}}},
      {"skywalking", {{"grpc", {"TCP", 11800, "grpc"}}, {"http", {"TCP", 12800, "http"}}}},
      {"loki", {{"grpc", {"TCP", 9095, "grpc"}}, {"http", {"TCP", 3100, "http"}}}},
  };
  return m;
}

// Single-endpoint receivers with a default port (0 = no default; port only from the endpoint).
const std::map<std::string, PortDef>& singlePort() {
  static const std::map<std::string, PortDef> m = {
      {"awsxray", {"UDP", 2000, ""}},   {"carbon", {"TCP", 2003, ""}},   {"collectd", {"TCP", 8081, ""}},
      {"fluentforward", {"TCP", 8006, ""}}, {"fluent_forward", {"TCP", 8006, ""}}, {"influxdb", {"TCP", 8086, ""}},
      {"sapm", {"TCP", 7276, ""}},      {"signalfx", {"TCP", 9943, ""}}, {"splunk_hec", {"TCP", 8088, ""}},
      {"statsd", {"UDP", 8125, ""}},    {"wavefront", {"TCP", 2003, ""}}, {"zipkin", {"TCP", 9411, "http"}},
      {"tcp_log", {"TCP", 0, ""}},      {"udp_log", {"UDP", 0, ""}},
  };
  return m;
}

// Receivers that pull/scrape: never exposed as ports.
const std::set<std::string>& scrapers() {
  static const std::set<std::string> s = {
      "prometheus", "filelog", "hostmetrics", "kubeletstats", "k8s_cluster", "k8s_events", "k8sobjects",
      "k8s_objects", "journald", "redis", "mysql", "postgresql", "mongodb", "mongodbatlas", "jmx", "sqlquery",
      "httpcheck", "docker_stats", "elasticsearch", "memcached", "nginx", "apache", "rabbitmq", "zookeeper",
      "kafkametrics", "kafka", "windowseventlog", "windowsperfcounters", "podman_stats", "sqlserver", "oracledb",
      "snmp", "varnish", "vcenter", "couchdb", "flinkmetrics", "haproxy", "iis", "nsxt", "riak", "saphana",
      "active_directory_ds", "aerospike", "bigip", "expvar", "purefa", "purefb", "chrony", "receiver_creator",
      "filestats", "azureeventhub", "awscloudwatch", "awscontainerinsightreceiver", "awsecscontainermetrics",
      "googlecloudpubsub", "googlecloudspanner", "k8s_leader_elector", "otlpjsonfile", "cloudfoundry", "simpleprometheus"};
  return s;
}

std::string endpointOf(const Json& cfg) {
  if (!cfg.is_object()) return "";
  if (cfg.contains("endpoint") && cfg["endpoint"].is_string() && !cfg["endpoint"].get<std::string>().empty())
    return cfg["endpoint"].get<std::string>();
  if (cfg.contains("listen_address") && cfg["listen_address"].is_string()) return cfg["listen_address"].get<std::string>();
  return "";
}

Json servicePort(const std::string& name, int port, const PortDef& def) {
  Json p = Json::object();
  p["name"] = name;
  p["port"] = port;
  p["protocol"] = def.proto.empty() ? "TCP" : def.proto;
  if (!def.appProtocol.empty()) p["appProtocol"] = def.appProtocol;
  p["targetPort"] = port;
  return p;
}

const Json& section(const Json& config, const char* key) {
  static const Json empty = Json::object();
  if (config.is_object() && config.contains(key) && config[key].is_object()) return config[key];
  return empty;
}

std::vector<Json> sortByName(std::vector<Json> v) {
  std::stable_sort(v.begin(), v.end(), [](const Json& a, const Json& b) {
    return a.value("name", "") < b.value("name", "");
  });
  return v;
}

std::vector<Json> receiverPortsFor(const std::string& name, const Json& cfg) {
  std::string type = componentType(name);
  std::vector<Json> out;
  if (auto it = multiPort().find(type); it != multiPort().end()) {
    const Json* protos = cfg.is_object() && cfg.contains("protocols") && cfg["protocols"].is_object() ? &cfg["protocols"] : nullptr;
    if (!protos) return out;
    for (auto pt = protos->begin(); pt != protos->end(); ++pt) {
      auto def = it->second.find(pt.key());
      if (def == it->second.end()) throw Error("unknown protocol set: " + pt.key(), "receivers." + name + ".protocols");
      int port = portFromEndpoint(endpointOf(pt.value()));
      if (port == 0) port = def->second.port;
      out.push_back(servicePort(portName(name + "-" + pt.key(), port), port, def->second));
    }
    return out;
  }
  if (type == "prometheus") {
    // only the receiver's own API server (api_server.enabled + server_config.endpoint)
    if (cfg.is_object() && cfg.contains("api_server") && cfg["api_server"].is_object() &&
        cfg["api_server"].value("enabled", false)) {
      int port = 9090;
      if (cfg["api_server"].contains("server_config")) port = portFromEndpoint(endpointOf(cfg["api_server"]["server_config"]));
      if (port == 0) port = 9090;
      out.push_back(servicePort(portName(name, port), port, {"TCP", port, ""}));
    }
    return out;
  }
  if (scrapers().count(type)) return out;
  PortDef def{"TCP", 0, ""};
  if (auto it = singlePort().find(type); it != singlePort().end()) def = it->second;
  int port = portFromEndpoint(endpointOf(cfg));
  if (port == 0) port = def.port;
  if (port == 0) return out;  // unknown receiver without ":<port>"
  out.push_back(servicePort(portName(name, port), port, def));
  return out;
}

int defaultPortFor(const std::string& type) {
  if (auto it = singlePort().find(type); it != singlePort().end()) return it->second.port;
  return 0;
}

// AddressDefaulter: empty -> 0.0.0.0:<port>; ":port" -> 0.0.0.0:port; others untouched.
void defaultEndpoint(Json& cfg, int port) {
  if (!cfg.is_object()) cfg = Json::object();
  std::string ep = endpointOf(cfg);
  bool usesListen = !(cfg.contains("endpoint") && cfg["endpoint"].is_string() && !cfg["endpoint"].get<std::string>().empty()) &&
                    cfg.contains("listen_address") && cfg["listen_address"].is_string();
  if (ep.empty()) {
    if (port > 0) cfg["endpoint"] = "0.0.0.0:" + std::to_string(port);
    return;
  }
  if (ep.front() == ':') cfg[usesListen ? "listen_address" : "endpoint"] = "0.0.0.0" + ep;
}

}  // namespace

std::string componentType(const std::string& name) {
  auto slash = name.find('/');
  return slash == std::string::npos ? name : name.substr(0, slash);
}

int portFromEndpoint(const std::string& endpoint) {
  // the digits after the first ':' that has any (no std::regex: libstdc++'s recurses per character)
  for (size_t i = endpoint.find(':'); i != std::string::npos; i = endpoint.find(':', i + 1)) {
    size_t j = i + 1;
    long long v = 0;
    bool big = false;
    while (j < endpoint.size() && endpoint[j] >= '0' && endpoint[j] <= '9') {
      v = v * 10 + (endpoint[j] - '0');
      if (v > 2147483647LL) big = true, v = 2147483648LL;
      ++j;
    }
    if (j > i + 1) return big ? 0 : static_cast<int>(v);
  }
  return 0;
}

std::string portName(const std::string& componentName, int port) {
  if (componentName.size() > 15) return "port-" + std::to_string(port);
  std::string c = componentName;
  std::replace(c.begin(), c.end(), '/', '-');
  std::replace(c.begin(), c.end(), '_', '-');
  auto alnum = [](char ch) { return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9'); };
  bool dns = !c.empty() && alnum(c.front()) && alnum(c.back()) &&
             std::all_of(c.begin(), c.end(), [&](char ch) { return alnum(ch) || ch == '-'; });
  if (!dns) return "port-" + std::to_string(port);
  return c;
}

std::map<Kind, std::set<std::string>> enabledComponents(const Json& config) {
  std::map<Kind, std::set<std::string>> out{{Kind::Receiver, {}}, {Kind::Exporter, {}}, {Kind::Processor, {}}, {Kind::Extension, {}}};
  const Json& svc = section(config, "service");
  if (svc.contains("extensions") && svc["extensions"].is_array())
    for (const auto& e : svc["extensions"])
      if (e.is_string()) out[Kind::Extension].insert(e.get<std::string>());
  if (svc.contains("pipelines") && svc["pipelines"].is_object()) {
    for (const auto& item : svc["pipelines"].items()) {
      const Json& p = item.value();  // not a structured binding: clang 14 cannot capture one in a lambda
      if (!p.is_object()) continue;
      auto add = [&](const char* key, Kind k) {
        if (p.contains(key) && p[key].is_array())
          for (const auto& e : p[key])
            if (e.is_string()) out[k].insert(e.get<std::string>());
      };
      add("receivers", Kind::Receiver);
      add("exporters", Kind::Exporter);
      add("processors", Kind::Processor);
    }
  }
  return out;
}

std::vector<Json> receiverPorts(const Json& config) {
  std::vector<Json> out;
  const Json& recv = section(config, "receivers");
  for (const auto& name : enabledOf(config, Kind::Receiver)) {
    Json cfg = recv.contains(name) ? recv[name] : Json();
    auto ports = receiverPortsFor(name, cfg);
    out.insert(out.end(), ports.begin(), ports.end());
  }
  return sortByName(out);
}

std::vector<Json> exporterPorts(const Json& config) {
  std::vector<Json> out;
  const Json& exp = section(config, "exporters");
  for (const auto& name : enabledOf(config, Kind::Exporter)) {
    if (componentType(name) != "prometheus") continue;
    Json cfg = exp.contains(name) ? exp[name] : Json();
    int port = portFromEndpoint(endpointOf(cfg));
    if (port == 0) port = 8889;
    out.push_back(servicePort(portName(name, port), port, {"TCP", port, ""}));
  }
  return sortByName(out);
}

std::vector<Json> extensionPorts(const Json& config) {
  std::vector<Json> out;
  const Json& ext = section(config, "extensions");
  for (const auto& name : enabledOf(config, Kind::Extension)) {
    std::string type = componentType(name);
    Json cfg = ext.contains(name) ? ext[name] : Json();
    if (type == "jaeger_query") {
      // HTTP UI/API port and the gRPC query port (named "<name>-2" as upstream does).
      int http = cfg.is_object() && cfg.contains("http") ? portFromEndpoint(endpointOf(cfg["http"])) : 0;
      int grpc = cfg.is_object() && cfg.contains("grpc") ? portFromEndpoint(endpointOf(cfg["grpc"])) : 0;
      if (http == 0) http = 16686;
      if (grpc == 0) grpc = 16685;
      out.push_back(servicePort(portName(name, http), http, {"TCP", http, ""}));
      out.push_back(servicePort(portName(name + "-2", grpc), grpc, {"TCP", grpc, ""}));
      continue;
    }
    if (type != "health_check") continue;
    int port = portFromEndpoint(endpointOf(cfg));
    if (port == 0) port = 13133;
    out.push_back(servicePort(portName(name, port), port, {"TCP", port, ""}));
  }
  return sortByName(out);
}

std::vector<Json> receiverAndExporterPorts(const Json& config) {
  auto r = receiverPorts(config);
  auto e = exporterPorts(config);
  r.insert(r.end(), e.begin(), e.end());
  return sortByName(r);
}

std::vector<Json> allPorts(const Json& config) {
  auto r = receiverAndExporterPorts(config);
  auto e = extensionPorts(config);
  r.insert(r.end(), e.begin(), e.end());
  return sortByName(r);
}

int metricsPort(const Json& config) {
  const Json& svc = section(config, "service");
  const Json* metrics = nullptr;
  if (svc.contains("telemetry") && svc["telemetry"].is_object() && svc["telemetry"].contains("metrics") &&
      svc["telemetry"]["metrics"].is_object())
    metrics = &svc["telemetry"]["metrics"];
  if (!metrics) return 8888;
  bool hasReaders = metrics->contains("readers") && (*metrics)["readers"].is_array() && !(*metrics)["readers"].empty();
  if (!hasReaders && metrics->contains("address") && (*metrics)["address"].is_string()) {
    int p = portFromEndpoint((*metrics)["address"].get<std::string>());
    return p == 0 ? 8888 : p;
  }
  if (hasReaders) {
    for (const auto& r : (*metrics)["readers"]) {
      if (!r.is_object() || !r.contains("pull") || !r["pull"].is_object()) continue;
      const Json& pull = r["pull"];
      if (!pull.contains("exporter") || !pull["exporter"].is_object() || !pull["exporter"].contains("prometheus")) continue;
      const Json& prom = pull["exporter"]["prometheus"];
      if (prom.is_object() && prom.contains("port") && prom["port"].is_number()) {
        long long p = prom["port"].get<long long>();
        if (p != 0) return static_cast<int>(p);
      }
      return 8888;
    }
  }
  return 8888;
}

std::vector<std::string> applyConfigDefaults(Json& config) {
  std::vector<std::string> events;
  if (!config.is_object()) return events;
  // service.telemetry.metrics.readers default
  Json& svc = config["service"];
  if (!svc.is_object()) svc = Json::object();
  Json& tel = svc["telemetry"];
  if (!tel.is_object()) tel = Json::object();
  const Json* m = tel.contains("metrics") && tel["metrics"].is_object() ? &tel["metrics"] : nullptr;
  bool hasAddress = m && m->contains("address") && (*m)["address"].is_string() && !(*m)["address"].get<std::string>().empty();
  bool hasReaders = m && m->contains("readers") && (*m)["readers"].is_array() && !(*m)["readers"].empty();
  if (!hasAddress && !hasReaders) {
    Json& metrics = tel["metrics"];
    if (!metrics.is_object()) metrics = Json::object();
    metrics["readers"] = Json::array({{{"pull", {{"exporter", {{"prometheus", {{"host", "0.0.0.0"}, {"port", 8888}}}}}}}}});
    events.push_back("Applied default Prometheus telemetry configuration (host: 0.0.0.0, port: 8888)");
  }
  auto enabled = enabledComponents(config);
  if (config.contains("receivers") && config["receivers"].is_object()) {
    Json& recv = config["receivers"];
    for (const auto& name : enabled[Kind::Receiver]) {
      if (!recv.contains(name)) continue;
      std::string type = componentType(name);
      Json& cfg = recv[name];
      if (auto it = multiPort().find(type); it != multiPort().end()) {
        if (!cfg.is_object()) cfg = Json::object();
        Json& protos = cfg["protocols"];
        if (!protos.is_object() || protos.empty()) {
          protos = Json::object();
          for (const auto& [p, def] : it->second) {
            (void)def;
            protos[p] = nullptr;
          }
        }
        for (auto pt = protos.begin(); pt != protos.end(); ++pt) {
          auto def = it->second.find(pt.key());
          if (def == it->second.end()) throw Error("unknown protocol set: " + pt.key(), "receivers." + name + ".protocols");
          int port = portFromEndpoint(endpointOf(pt.value()));
          defaultEndpoint(pt.value(), port == 0 ? def->second.port : port);
        }
      } else if (int def = defaultPortFor(type); def > 0) {
        int port = portFromEndpoint(endpointOf(cfg));
        defaultEndpoint(cfg, port == 0 ? def : port);
      }
    }
  }
  if (config.contains("exporters") && config["exporters"].is_object()) {
    Json& exp = config["exporters"];
    for (const auto& name : enabled[Kind::Exporter]) {
      if (!exp.contains(name) || componentType(name) != "prometheus") continue;
      Json& cfg = exp[name];
      int port = portFromEndpoint(endpointOf(cfg));
      defaultEndpoint(cfg, port == 0 ? 8889 : port);
    }
  }
  if (config.contains("extensions") && config["extensions"].is_object()) {
    Json& ext = config["extensions"];
    for (const auto& name : enabled[Kind::Extension]) {
      if (!ext.contains(name)) continue;
      std::string type = componentType(name);
      Json& cfg = ext[name];
      if (type == "health_check") {
        int port = portFromEndpoint(endpointOf(cfg));
        defaultEndpoint(cfg, port == 0 ? 13133 : port);
        if (!cfg.contains("path")) cfg["path"] = "/";
      }
    }
  }
  return events;
}

std::vector<std::string> nullObjects(const Json& config) {
  std::vector<std::string> out;
  for (const char* k : {"receivers", "exporters", "processors", "extensions", "connectors"}) {
    const Json& s = section(config, k);
    for (auto it = s.begin(); it != s.end(); ++it)
      if (it.value().is_null()) out.push_back(std::string(k) + "." + it.key());
  }
  std::sort(out.begin(), out.end());
  return out;
}

Json healthProbe(const Json& config) {
  const Json& ext = section(config, "extensions");
  if (!config.is_object() || !config.contains("extensions")) return nullptr;
  for (const auto& name : enabledOf(config, Kind::Extension)) {
    if (componentType(name) != "health_check") continue;
    Json cfg = ext.contains(name) ? ext[name] : Json();
    int port = portFromEndpoint(endpointOf(cfg));
    if (port == 0) port = 13133;
    std::string path = cfg.is_object() && cfg.contains("path") && cfg["path"].is_string() ? cfg["path"].get<std::string>() : "/";
    if (path.empty()) path = "/";
    return Json{{"httpGet", {{"path", path}, {"port", port}}}};
  }
  return nullptr;
}

std::vector<Json> componentEnv(const Json& config) {
  std::vector<Json> out;
  for (const auto& name : enabledOf(config, Kind::Receiver)) {
    if (componentType(name) == "kubeletstats") {
      Json e = {{"name", "K8S_NODE_NAME"}, {"valueFrom", {{"fieldRef", {{"fieldPath", "spec.nodeName"}}}}}};
      if (std::none_of(out.begin(), out.end(), [](const Json& x) { return x["name"] == "K8S_NODE_NAME"; })) out.push_back(e);
    }
  }
  return sortByName(out);
}

std::vector<Json> rbacRules(const Json& config) {
  std::vector<Json> rules;
  auto rule = [](std::vector<std::string> groups, std::vector<std::string> res, std::vector<std::string> verbs) {
    return Json{{"apiGroups", groups}, {"resources", res}, {"verbs", verbs}};
  };
  const std::vector<std::string> gwl = {"get", "watch", "list"};
  auto enabled = enabledComponents(config);
  const Json& procs = section(config, "processors");
  for (const auto& name : enabled[Kind::Processor]) {
    std::string type = componentType(name);
    Json cfg = procs.contains(name) ? procs[name] : Json();
    if (type == "k8sattributes" || type == "k8s_attributes") {
      rules.push_back(rule({""}, {"pods", "namespaces"}, gwl));
      const Json* md = cfg.is_object() && cfg.contains("extract") && cfg["extract"].is_object() &&
                               cfg["extract"].contains("metadata") && cfg["extract"]["metadata"].is_array()
                           ? &cfg["extract"]["metadata"]
                           : nullptr;
      if (!md || md->empty()) {
        rules.push_back(rule({"apps"}, {"replicasets"}, gwl));
      } else {
        bool rs = false, jobs = false;
        for (const auto& f : *md) {
          std::string s = f.is_string() ? f.get<std::string>() : "";
          bool needRs = s == "k8s.deployment.uid" || s == "k8s.deployment.name" || s == "service.name";
          if (needRs && !rs) {
            rules.push_back(rule({"apps"}, {"replicasets"}, gwl));
            rs = true;
          } else if (s.find("k8s.node") != std::string::npos) {
            rules.push_back(rule({""}, {"nodes"}, gwl));
          } else if (s == "k8s.cronjob.uid" && !jobs) {
            rules.push_back(rule({"batch"}, {"jobs"}, gwl));
            jobs = true;
          }
        }
      }
    } else if (type == "resourcedetection" || type == "resource_detection") {
      const Json* det = cfg.is_object() && cfg.contains("detectors") && cfg["detectors"].is_array() ? &cfg["detectors"] : nullptr;
      if (det)
        for (const auto& d : *det) {
          if (d == "k8snode") rules.push_back(rule({""}, {"nodes"}, {"get", "list"}));
          if (d == "openshift") rules.push_back(rule({"config.openshift.io"}, {"infrastructures", "infrastructures/status"}, {"get", "watch", "list"}));
        }
    }
  }
  const Json& recv = section(config, "receivers");
  for (const auto& name : enabled[Kind::Receiver]) {
    std::string type = componentType(name);
    Json cfg = recv.contains(name) ? recv[name] : Json();
    if (type == "kubeletstats") {
      rules.push_back(rule({""}, {"nodes/stats"}, {"get"}));
      bool proxy = cfg.is_object() && cfg.contains("extra_metadata_labels") && cfg["extra_metadata_labels"].is_array() &&
                   !cfg["extra_metadata_labels"].empty();
      if (!proxy && cfg.is_object() && cfg.contains("metrics") && cfg["metrics"].is_object())
        for (const auto& [k, v] : cfg["metrics"].items())
          if (k.find("_utilization") != std::string::npos && v.is_object() && v.value("enabled", false)) proxy = true;
      if (proxy) rules.push_back(rule({""}, {"nodes/proxy"}, {"get"}));
    } else if (type == "k8s_events" || type == "k8s_cluster") {  // upstream gives both the same rules
      rules.push_back(rule({""}, {"events", "namespaces", "namespaces/status", "nodes", "nodes/spec", "pods", "pods/status",
                                  "replicationcontrollers", "replicationcontrollers/status", "resourcequotas", "services"},
                           gwl));
      rules.push_back(rule({"apps"}, {"daemonsets", "deployments", "replicasets", "statefulsets"}, gwl));
      rules.push_back(rule({"extensions"}, {"daemonsets", "deployments", "replicasets"}, gwl));
      rules.push_back(rule({"batch"}, {"jobs", "cronjobs"}, gwl));
      rules.push_back(rule({"autoscaling"}, {"horizontalpodautoscalers"}, gwl));
    } else if (type == "k8sobjects" || type == "k8s_objects") {
      rules.push_back(rule({"*"}, {"*"}, {"get", "list", "watch"}));
    }
  }
  for (const auto& name : enabled[Kind::Extension]) {
    std::string type = componentType(name);
    if (type == "k8s_observer") {
      rules.push_back(rule({""}, {"nodes", "pods"}, {"get", "list", "watch"}));
      rules.push_back(rule({"discovery.k8s.io"}, {"endpointslices"}, {"get", "list", "watch"}));
    } else if (type == "k8s_leader_elector") {
      rules.push_back(rule({"coordination.k8s.io"}, {"leases"}, {"get", "list", "watch", "create", "update", "patch", "delete"}));
    }
  }
  return rules;
}

}  // namespace otel::collectorconfig
