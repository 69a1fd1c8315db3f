#include "lib/controller/upgrade.h"

#include <array>
#include <optional>
#include <sstream>

#include "lib/api/common.h"

namespace otel::controller {

using api::str;

namespace {

using Version = std::array<long, 3>;

std::optional<Version> parseVersion(std::string s) {
  if (!s.empty() && s[0] == 'v') s.erase(0, 1);
  auto dash = s.find_first_of("-+");
  if (dash != std::string::npos) s.resize(dash);
  Version v{0, 0, 0};
  std::stringstream in(s);
  std::string part;
  int i = 0;
  while (std::getline(in, part, '.')) {
    if (i > 2 || part.empty() || part.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
    v[static_cast<size_t>(i++)] = std::stol(part);
  }
  if (i == 0) return std::nullopt;
  return v;
}

bool hasPrometheusReceiver(const Json& c) {
  const Json* r = api::at(c, {"spec", "config", "receivers"});
  if (!r || !r->is_object()) return false;
  for (auto it = r->begin(); it != r->end(); ++it)
    if (it.key().find("prometheus") != std::string::npos) return true;
  return false;
}

void addFeatureGate(Json& c, const std::string& gate) {
  Json& args = api::ensure(c, {"spec", "args"});
  std::string cur = args.contains("feature-gates") && args["feature-gates"].is_string() ? args["feature-gates"].get<std::string>() : "";
  if (cur.empty())
    args["feature-gates"] = "-" + gate;
  else if (cur.find(gate) == std::string::npos)
    args["feature-gates"] = cur + ",-" + gate;
}

void removeFeatureGate(Json& c, const std::string& feature) {
  if (!c.contains("spec") || !c["spec"].is_object() || !c["spec"].contains("args")) return;
  Json* args = &c["spec"]["args"];
  if (!args->is_object() || !args->contains("feature-gates") || !(*args)["feature-gates"].is_string()) return;
  std::string gates = (*args)["feature-gates"];
  if (gates.find(feature) == std::string::npos) return;
  std::stringstream in(gates);
  std::string part, out;
  while (std::getline(in, part, ','))
    if (part != feature) out += (out.empty() ? "" : ",") + part;
  if (out.empty())
    args->erase("feature-gates");
  else
    (*args)["feature-gates"] = out;
}

// upstream's otelconfig.MetricsEndpoint: the address (when no readers), else the first pull prometheus
// reader, else 0.0.0.0:8888.
bool metricsEndpoint(const Json& c, std::string& host, long& port, std::string& err) {
  host = "0.0.0.0";
  port = 8888;
  const Json* m = api::at(c, {"spec", "config", "service", "telemetry", "metrics"});
  if (!m || !m->is_object()) return true;
  std::string address = str(*m, {"address"});
  bool readers = m->contains("readers") && (*m)["readers"].is_array() && !(*m)["readers"].empty();
  if (!address.empty() && !readers) {
    auto colon = address.rfind(':');
    std::string p = colon == std::string::npos ? "" : address.substr(colon + 1);
    if (p.empty() || p.find_first_not_of("0123456789") != std::string::npos) {
      err = "failed to parse port from address \"" + address + "\"";
      return false;
    }
    host = address.substr(0, colon);
    port = std::stol(p);
    return true;
  }
  if (readers)
    for (const auto& r : (*m)["readers"]) {
      const Json* prom = api::at(r, {"pull", "exporter", "prometheus"});
      if (!prom || !prom->is_object()) continue;
      if (!str(*prom, {"host"}).empty()) host = str(*prom, {"host"});
      if (long long pp = api::integer(*prom, {"port"}, 0); pp != 0) port = static_cast<long>(pp);
      return true;
    }
  return true;
}

bool upgrade0_111_0(Json& c, std::string& err) {
  const Json* readers = api::at(c, {"spec", "config", "service", "telemetry", "metrics"});
  if (readers && readers->contains("readers") && (*readers)["readers"].is_array() && !(*readers)["readers"].empty()) return true;
  std::string host;
  long port;
  if (!metricsEndpoint(c, host, port, err)) return false;
  Json& metrics = api::ensure(c, {"spec", "config", "service", "telemetry", "metrics"});
  if (str(metrics, {"address"}).empty()) metrics["address"] = host + ":" + std::to_string(port);  // merge without overwrite
  return true;
}

bool upgrade0_122_0(Json& c, std::string& err) {
  const Json* m = api::at(c, {"spec", "config", "service", "telemetry", "metrics"});
  if (!m || str(*m, {"address"}).empty()) return true;
  std::string host;
  long port;
  if (!metricsEndpoint(c, host, port, err)) return false;
  Json& metrics = api::ensure(c, {"spec", "config", "service", "telemetry", "metrics"});
  metrics.erase("address");
  if (!metrics.contains("readers") || !metrics["readers"].is_array()) metrics["readers"] = Json::array();
  for (const auto& r : metrics["readers"]) {
    const Json* prom = api::at(r, {"pull", "exporter", "prometheus"});
    if (prom && str(*prom, {"host"}) == host && api::integer(*prom, {"port"}, -1) == port) return true;
  }
  metrics["readers"].push_back({{"pull", {{"exporter", {{"prometheus", {{"host", host}, {"port", port}}}}}}}});
  return true;
}

}  // namespace

bool needsUpgrade(const Json& c, const std::string& operatorVersion) {
  std::string v = str(c, {"status", "version"});
  if (v.empty() || v == operatorVersion || str(c, {"spec", "managementState"}) == "unmanaged" ||
      str(c, {"spec", "upgradeStrategy"}) == "none")
    return false;
  // written by a newer operator: nothing to upgrade (upstream leaves its version), reconcile as usual
  auto instance = parseVersion(v);
  auto target = parseVersion(operatorVersion);
  return !(instance && target && *instance > *target);
}

UpgradeResult upgradeCollector(const Json& c, const std::string& operatorVersion) {
  UpgradeResult res;
  res.collector = c;
  if (!needsUpgrade(c, operatorVersion)) return res;
  auto instance = parseVersion(str(c, {"status", "version"}));
  auto target = parseVersion(operatorVersion);
  if (!instance || !target) {
    res.error = "failed to parse version \"" + str(c, {"status", "version"}) + "\"";
    return res;
  }
  Json u = c;
  if (*instance > *target) return res;  // newer than this operator: nothing to do
  struct Step {
    Version v;
    int id;
  };
  const Step steps[] = {{{0, 104, 0}, 1041}, {{0, 104, 0}, 1040}, {{0, 105, 0}, 105}, {{0, 110, 0}, 110}, {{0, 111, 0}, 111}, {{0, 122, 0}, 122}};
  for (const auto& s : steps) {
    if (!(s.v > *instance) || s.v > *target) continue;
    std::string err;
    bool ok = true;
    switch (s.id) {
      case 1041:
        if (hasPrometheusReceiver(u)) addFeatureGate(u, "confmap.unifyEnvVarExpansion");
        break;
      case 1040:
        addFeatureGate(u, "component.UseLocalHostAsDefaultHost");
        res.warnings.push_back("otlp receivers is no longer listen on 0.0.0.0 as default configuration. The new default is "
                               "localhost. Please revisit your \"" + str(c, {"metadata", "name"}) +
                               "\" configuration. See: https://github.com/open-telemetry/opentelemetry-collector/issues/8510");
        break;
      case 105:
        if (hasPrometheusReceiver(u)) removeFeatureGate(u, "-confmap.unifyEnvVarExpansion");
        break;
      case 110:
        removeFeatureGate(u, "-component.UseLocalHostAsDefaultHost");
        break;
      case 111:
        ok = upgrade0_111_0(u, err);
        break;
      case 122:
        ok = upgrade0_122_0(u, err);
        break;
    }
    if (!ok) {
      res.error = err;
      res.warnings.clear();
      return res;
    }
  }
  if (const Json* args = api::at(u, {"spec", "args"}); args && args->empty() && !api::has(c, {"spec", "args"}))
    u["spec"].erase("args");
  res.specChanged = u["spec"] != c["spec"];
  u["status"]["version"] = operatorVersion;
  res.collector = std::move(u);
  return res;
}

}  // namespace otel::controller
