#include "lib/targetallocator/config.h"

#include <cstdlib>
#include <filesystem>

#include "lib/allocation/simulate.h"
#include "lib/core/error.h"
#include "lib/core/files.h"
#include "lib/core/yaml.h"
#include "lib/kube/selector.h"

namespace otel::targetallocator {

namespace {

std::string str(const Json& v, const std::string& key, const std::string& source) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_null()) return "";
  throw Error(key + " must be a string", source);
}

bool boolean(const Json& v, const std::string& key, const std::string& source) {
  if (v.is_boolean()) return v.get<bool>();
  if (v.is_null()) return false;
  throw Error(key + " must be true or false", source);
}

allocation::Strategy strategy(const std::string& name, const std::string& key, const std::string& source) {
  auto s = allocation::parseStrategy(name);
  if (!s)
    throw Error(key + ": unknown allocation strategy \"" + name + "\"", source,
                "use consistent-hashing, least-weighted, per-node or rendezvous");
  return *s;
}

std::vector<std::string> strings(const Json& v, const std::string& key, const std::string& source) {
  std::vector<std::string> out;
  if (v.is_null()) return out;
  if (!v.is_array()) throw Error(key + " must be a list of strings", source);
  for (const auto& s : v) out.push_back(str(s, key, source));
  return out;
}

Json selector(const Json& v, const std::string& key, const std::string& source) {
  if (v.is_null() || v.is_object()) {
    if (!v.is_null()) kube::labelSelectorQuery(v, source + ": " + key);  // metav1's checks
    return v;
  }
  throw Error(key + " must be a label selector (matchLabels, matchExpressions)", source);
}

PrometheusCrConfig prometheusCr(const Json& v, const std::string& source) {
  PrometheusCrConfig p;
  if (v.is_null()) return p;
  if (!v.is_object()) throw Error("prometheus_cr must be a mapping", source);
  for (auto it = v.begin(); it != v.end(); ++it) {
    const std::string k = "prometheus_cr." + it.key();
    const Json& x = it.value();
    const std::string& f = it.key();
    auto duration = [&](std::string& into) {
      into = str(x, k, source);
      if (into.empty()) return;
      try {
        prom::parseDuration(into);
      } catch (const std::exception& e) {
        throw Error(k + ": " + e.what(), source);
      }
    };
    auto nsSelector = [&](Json& into) {
      Json s = selector(x, k, source);
      if (!s.is_null()) into = s;
    };
    if (f == "enabled") p.enabled = boolean(x, k, source);
    else if (f == "scrape_interval") duration(p.scrapeInterval);
    else if (f == "evaluation_interval") duration(p.evaluationInterval);
    else if (f == "scrape_protocols") p.scrapeProtocols = strings(x, k, source);
    else if (f == "allow_namespaces") p.allowNamespaces = strings(x, k, source);
    else if (f == "deny_namespaces") p.denyNamespaces = strings(x, k, source);
    else if (f == "secret_namespaces") p.secretNamespaces = strings(x, k, source);
    else if (f == "deny_fs_access_through_sms") p.denyFsAccessThroughSms = boolean(x, k, source);
    else if (f == "service_monitor_selector") p.serviceMonitorSelector = selector(x, k, source);
    else if (f == "pod_monitor_selector") p.podMonitorSelector = selector(x, k, source);
    else if (f == "scrape_config_selector") p.scrapeConfigSelector = selector(x, k, source);
    else if (f == "probe_selector") p.probeSelector = selector(x, k, source);
    else if (f == "service_monitor_namespace_selector") nsSelector(p.serviceMonitorNamespaceSelector);
    else if (f == "pod_monitor_namespace_selector") nsSelector(p.podMonitorNamespaceSelector);
    else if (f == "scrape_config_namespace_selector") nsSelector(p.scrapeConfigNamespaceSelector);
    else if (f == "probe_namespace_selector") nsSelector(p.probeNamespaceSelector);
    else if (f == "scrape_classes") continue;  // accepted; scrape classes are not applied (docs/compatibility.md)
    else throw Error("unknown key \"" + k + "\"", source);
  }
  if (p.scrapeInterval.empty()) p.scrapeInterval = "30s";
  return p;
}

}  // namespace

Config parseConfig(const Json& root, const std::string& source) {
  Config c;
  c.configFile = source;
  if (root.is_null()) return c;
  if (!root.is_object()) throw Error("the target allocator config must be a mapping", source);
  for (auto it = root.begin(); it != root.end(); ++it) {
    const std::string& k = it.key();
    const Json& v = it.value();
    if (k == "listen_addr") {
      c.listenAddr = str(v, k, source);
    } else if (k == "allocation_strategy") {
      if (auto s = str(v, k, source); !s.empty()) c.strategy = strategy(s, k, source);
    } else if (k == "allocation_fallback_strategy") {
      if (auto s = str(v, k, source); !s.empty()) c.fallbackStrategy = strategy(s, k, source);
    } else if (k == "filter_strategy") {
      c.filterStrategy = str(v, k, source);
    } else if (k == "collector_namespace") {
      c.collectorNamespace = str(v, k, source);
    } else if (k == "collector_selector") {
      c.collectorSelector = v;
      c.collectorLabelSelector = kube::labelSelectorQuery(v, source + ": collector_selector");
    } else if (k == "collector_not_ready_grace_period") {
      c.collectorNotReadyGracePeriod = str(v, k, source);
      prom::parseDuration(c.collectorNotReadyGracePeriod.empty() ? "0" : c.collectorNotReadyGracePeriod);
    } else if (k == "allow_insecure_auth_secrets") {
      c.allowInsecureAuthSecrets = boolean(v, k, source);
    } else if (k == "prometheus_cr") {
      c.prometheusCr = prometheusCr(v, source);
      c.prometheusCrEnabled = c.prometheusCr.enabled;
    } else if (k == "https") {
      if (!v.is_object()) continue;
      if (v.contains("enabled")) c.https.enabled = boolean(v["enabled"], "https.enabled", source);
      if (v.contains("listen_addr")) c.https.listenAddr = str(v["listen_addr"], "https.listen_addr", source);
      if (v.contains("ca_file_path")) c.https.caFile = str(v["ca_file_path"], "https.ca_file_path", source);
      if (v.contains("tls_cert_file_path"))
        c.https.certFile = str(v["tls_cert_file_path"], "https.tls_cert_file_path", source);
      if (v.contains("tls_key_file_path"))
        c.https.keyFile = str(v["tls_key_file_path"], "https.tls_key_file_path", source);
    } else if (k == "config") {
      c.prom = prom::parsePromConfig(v, source);
    } else if (k == "collectors") {  // kubectl-otel extension: a fixed collector list
      if (!v.is_array()) throw Error("collectors must be a list of names", source);
      for (const auto& n : v) c.collectors.push_back({str(n, k, source), str(n, k, source)});
    } else if (k == "kube_config_file_path") {
      c.kubeconfigPath = str(v, k, source);
    } else if (k == "telemetry") {
      // accepted, not used by the standalone allocator
    } else {
      throw Error("unknown key \"" + k + "\"", source);
    }
  }
  return c;
}

Config loadConfig(const std::string& path, const Overrides& o, const std::function<const char*(const char*)>& getenv) {
  auto env = getenv ? getenv : [](const char* n) -> const char* { return std::getenv(n); };
  Config c = parseConfig(parseYaml(readFile(path), path), path);
  c.configFile = path;
  auto dir = std::filesystem::path(path).parent_path().string();
  c.baseDir = dir.empty() ? "." : dir;
  if (const char* ns = env("OTELCOL_NAMESPACE"); ns && *ns) c.collectorNamespace = ns;
  if (const char* a = env("ALLOW_INSECURE_AUTH_SECRETS"); a && std::string(a) == "true") c.allowInsecureAuthSecrets = true;
  if (o.listenAddr) c.listenAddr = *o.listenAddr;
  if (o.enableHttps) c.https.enabled = *o.enableHttps;
  if (o.httpsListenAddr) c.https.listenAddr = *o.httpsListenAddr;
  if (o.caFile) c.https.caFile = *o.caFile;
  if (o.certFile) c.https.certFile = *o.certFile;
  if (o.keyFile) c.https.keyFile = *o.keyFile;
  if (o.allowInsecureAuthSecrets) c.allowInsecureAuthSecrets = *o.allowInsecureAuthSecrets;
  if (o.prometheusCrEnabled) c.prometheusCrEnabled = c.prometheusCr.enabled = *o.prometheusCrEnabled;
  if (o.collectors) c.collectors = allocation::parseCollectorSpec(*o.collectors);
  if (o.kubeconfigPath) c.kubeconfigPath = *o.kubeconfigPath;
  c.discoverCollectors = c.collectors.empty();
  validate(c);
  return c;
}

void validate(const Config& c) {
  if (c.prom.scrapeConfigs.empty() && !c.prometheusCrEnabled)
    throw Error("at least one scrape config must be defined, or Prometheus CR watching must be enabled", c.configFile);
  if (c.prometheusCrEnabled && !c.prometheusCr.allowNamespaces.empty() && !c.prometheusCr.denyNamespaces.empty())
    throw Error("only one of allowNamespaces or denyNamespaces can be set", c.configFile);
  if (c.collectors.empty() && c.collectorNamespace.empty())
    throw Error("collector namespace must be set", c.configFile,
                "set collector_namespace or OTELCOL_NAMESPACE (the operator sets it), or give a fixed --collectors list");
  if (c.https.enabled && (c.https.certFile.empty() || c.https.keyFile.empty()))
    throw Error("https is enabled but tls_cert_file_path or tls_key_file_path is empty", c.configFile);
}

}  // namespace otel::targetallocator
