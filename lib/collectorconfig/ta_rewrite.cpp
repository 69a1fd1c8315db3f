#include "lib/collectorconfig/ta_rewrite.h"

#include <algorithm>
#include <vector>

namespace otel::collectorconfig {

namespace {
const std::string kPrefix = "the OpenTelemetry Spec Prometheus configuration is incorrect, ";

std::vector<std::string> namedPrometheus(const Json& receivers) {
  std::vector<std::string> names;
  for (auto it = receivers.begin(); it != receivers.end(); ++it)
    if (it.key().rfind("prometheus/", 0) == 0) names.push_back(it.key());
  std::sort(names.begin(), names.end());
  return names;
}

std::string unescape(std::string s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '$' && i + 1 < s.size() && s[i + 1] == '$') {
      out += '$';
      ++i;
    } else {
      out += s[i];
    }
  }
  return out;
}
}  // namespace

std::string prometheusReceiverKey(const Json& config) {
  if (!config.is_object() || !config.contains("receivers") || !config["receivers"].is_object()) return "";
  const Json& r = config["receivers"];
  if (r.contains("prometheus")) return "prometheus";
  auto named = namedPrometheus(r);
  return named.size() == 1 ? named.front() : "";
}

api::Diagnostics validateTargetAllocatorConfig(const Json& config, bool crEnabled) {
  api::Diagnostics d;
  auto fail = [&](const std::string& cause) {
    d.errors.push_back(kPrefix + cause);
    return d;
  };
  if (!config.is_object() || !config.contains("receivers") || config["receivers"].is_null())
    return fail("no receivers available as part of the configuration");
  const Json& receivers = config["receivers"];
  if (!receivers.is_object()) return fail("receivers property in the configuration doesn't contain valid receivers");
  std::string key = prometheusReceiverKey(config);
  if (key.empty()) {
    auto named = namedPrometheus(receivers);
    if (named.empty()) return fail("no prometheus available as part of the configuration");
    std::string list;
    for (size_t i = 0; i < named.size(); ++i) list += (i ? ", " : "") + named[i];
    return fail("the target allocator requires a receiver named exactly \"prometheus\", but only named instances were found: " +
                list + "; rename one of them to \"prometheus\"");
  }
  const Json& prom = receivers[key];
  if (!prom.is_object()) return fail("prometheus property in the configuration doesn't contain valid prometheus");
  if (crEnabled) return d;
  if (!prom.contains("config") || prom["config"].is_null())
    return fail("either at least one scrape config needs to be defined or PrometheusCR needs to be enabled");
  const Json& pc = prom["config"];
  if (!pc.is_object()) return fail("prometheusConfig property in the configuration doesn't contain valid prometheusConfig");
  if (!pc.contains("scrape_configs") || pc["scrape_configs"].is_null())
    return fail("either at least one scrape config needs to be defined or PrometheusCR needs to be enabled");
  const Json& sc = pc["scrape_configs"];
  if (!sc.is_array()) return fail("scrape_configs must be a list in the config");
  for (const auto& s : sc)
    if (!s.is_object()) return fail("scrape_config property in the configuration doesn't contain valid scrape_config");
  if (sc.empty()) return fail("either at least one scrape config needs to be defined or PrometheusCR needs to be enabled");
  return d;
}

Json rewriteForTargetAllocator(const Json& config, const std::string& svc, const std::string& interval, bool mtls) {
  Json out = config;
  std::string key = prometheusReceiverKey(config);
  if (key.empty()) return out;
  Json& prom = out["receivers"][key];
  if (!prom.is_object()) return out;
  if (prom.contains("config") && prom["config"].is_object()) prom["config"].erase("scrape_configs");
  Json& ta = prom["target_allocator"];
  if (!ta.is_object()) ta = Json::object();
  ta["endpoint"] = mtls ? "https://" + svc + ":443" : "http://" + svc + ":80";
  ta["interval"] = interval.empty() ? "30s" : interval;
  ta["collector_id"] = "${POD_NAME}";
  if (mtls)
    ta["tls"] = {{"ca_file", "/tls/ca.crt"}, {"cert_file", "/tls/tls.crt"}, {"key_file", "/tls/tls.key"}, {"reload_interval", "5m"}};
  return out;
}

Json promConfigForTargetAllocator(const Json& config) {
  std::string key = prometheusReceiverKey(config);
  if (key.empty()) return nullptr;
  const Json& prom = config["receivers"][key];
  if (!prom.is_object() || !prom.contains("config") || !prom["config"].is_object()) return nullptr;
  Json pc = prom["config"];
  if (pc.contains("scrape_configs") && pc["scrape_configs"].is_array()) {
    for (auto& sc : pc["scrape_configs"]) {
      if (!sc.is_object()) continue;
      for (const char* k : {"relabel_configs", "metric_relabel_configs"}) {
        if (!sc.contains(k) || !sc[k].is_array()) continue;
        for (auto& rc : sc[k])
          if (rc.is_object() && rc.contains("replacement") && rc["replacement"].is_string())
            rc["replacement"] = unescape(rc["replacement"].get<std::string>());
      }
    }
  }
  return pc;
}

}  // namespace otel::collectorconfig
