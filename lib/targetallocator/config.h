// The target allocator's configuration: upstream's targetallocator.yaml keys and defaults, then env
// (OTELCOL_NAMESPACE, ALLOW_INSECURE_AUTH_SECRETS), then command-line flags; fatal validation with
// upstream's messages. Collectors are the pods of collector_namespace matching collector_selector, or a fixed
// list (--collectors, `collectors:`) for use without a cluster.
#pragma once
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "lib/allocation/allocator.h"
#include "lib/core/json.h"
#include "lib/prom/scrape_config.h"

namespace otel::targetallocator {

struct HttpsConfig {
  bool enabled = false;
  std::string listenAddr = ":8443";
  std::string caFile;
  std::string certFile;
  std::string keyFile;
};

// prometheus_cr: upstream's keys (yaml.v2 names). A monitor selector that is nil selects nothing and {}
// selects every object; a namespace selector that is nil or absent is {} (every namespace), as upstream's
// defaults make it (mapstructure keeps the default for an explicit null).
struct PrometheusCrConfig {
  bool enabled = false;
  std::string scrapeInterval = "30s";
  std::string evaluationInterval = "30s";
  std::vector<std::string> scrapeProtocols;  // empty: prometheus-operator's default order
  std::vector<std::string> allowNamespaces, denyNamespaces, secretNamespaces;
  bool denyFsAccessThroughSms = false;
  Json serviceMonitorSelector, podMonitorSelector, scrapeConfigSelector, probeSelector;  // null = nil
  Json serviceMonitorNamespaceSelector = Json::object(), podMonitorNamespaceSelector = Json::object(),
       scrapeConfigNamespaceSelector = Json::object(), probeNamespaceSelector = Json::object();
};

struct Config {
  std::string configFile = "/conf/targetallocator.yaml";
  std::string listenAddr = ":8080";
  allocation::Strategy strategy = allocation::Strategy::ConsistentHashing;
  std::optional<allocation::Strategy> fallbackStrategy;
  std::string filterStrategy = "relabel-config";
  std::string collectorNamespace;
  Json collectorSelector;              // as written (matchlabels/matchLabels, matchexpressions/matchExpressions)
  std::string collectorLabelSelector;  // its query form; "" = every pod of the namespace
  std::string kubeconfigPath;          // kube_config_file_path / --kubeconfig-path; "" = in-cluster, then ~/.kube/config
  bool discoverCollectors = false;     // no fixed collector list: watch the collector pods
  bool prometheusCrEnabled = false;
  PrometheusCrConfig prometheusCr;  // its enabled mirrors prometheusCrEnabled
  bool allowInsecureAuthSecrets = false;
  std::string collectorNotReadyGracePeriod = "30s";
  HttpsConfig https;
  prom::PromConfig prom;
  std::string baseDir = ".";  // for relative file_sd paths
  std::vector<allocation::Collector> collectors;
};

// Command-line values (unset = not given) applied over file and env.
struct Overrides {
  std::optional<std::string> listenAddr;
  std::optional<bool> enableHttps;
  std::optional<std::string> httpsListenAddr, caFile, certFile, keyFile;
  std::optional<bool> allowInsecureAuthSecrets;
  std::optional<bool> prometheusCrEnabled;
  std::optional<std::string> collectors;  // N or a,b,c
  std::optional<std::string> kubeconfigPath;
};

// Parses the file content (YAML/JSON object); `source` names it in errors. Throws otel::Error.
Config parseConfig(const Json& root, const std::string& source);
// Reads `path`, applies env (via `getenv`, injectable for tests) and overrides, validates.
Config loadConfig(const std::string& path, const Overrides& o,
                  const std::function<const char*(const char*)>& getenv = nullptr);
// Upstream's fatal checks (collector namespace needed unless a fixed collector list is given). Throws.
void validate(const Config& c);

}  // namespace otel::targetallocator
