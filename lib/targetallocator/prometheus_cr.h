// Prometheus CRs -> scrape configs, pure: which ServiceMonitors, PodMonitors, Probes and ScrapeConfigs the
// allocator selects
// (prometheus_cr's monitor selectors: nil selects nothing, {} everything; namespace selectors over the
// namespaces' labels; allow_namespaces / deny_namespaces), and their scrape configs generated as
// prometheus-operator does (lib/prom/monitors), parsed with prometheus_cr's scrape interval as the global
// default. A monitor that cannot be generated or parsed is skipped with its reason; the rest are kept.
// The informers that feed this are lib/targetallocator/prometheus_cr_watch.
#pragma once
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "lib/prom/kubernetes_sd.h"
#include "lib/prom/scrape_config.h"
#include "lib/targetallocator/config.h"

namespace otel::targetallocator {

struct PromCrObjects {
  const prom::ObjectMap* serviceMonitors = nullptr;  // "ns/name"
  const prom::ObjectMap* podMonitors = nullptr;
  const prom::ObjectMap* probes = nullptr;
  const prom::ObjectMap* scrapeConfigs = nullptr;  // monitoring.coreos.com/v1alpha1 ScrapeConfig
  const prom::ObjectMap* namespaces = nullptr;  // by name, for the namespace selectors
  // Secrets by namespace and name (the watcher reads them from the API server, as prometheus-operator's
  // asset store does: from the monitor's namespace); empty: none.
  std::function<std::optional<Json>(const std::string& ns, const std::string& name)> secret = nullptr;
};

struct SkippedMonitor {
  std::string kind, ns, name, reason;
};

struct PromCrScrapeConfigs {
  std::vector<prom::ScrapeConfig> scrapeConfigs;  // ServiceMonitors, PodMonitors, Probes, ScrapeConfigs; by namespace/name, endpoint
  std::vector<SkippedMonitor> skipped;
};

// Whether a monitor in namespace `ns` is watched at all (allow_namespaces / deny_namespaces).
bool namespaceAllowed(const PrometheusCrConfig& c, const std::string& ns);

// `staticJobs`: the job names of the file's scrape_configs (a monitor's job with the same name is skipped).
PromCrScrapeConfigs promCrScrapeConfigs(const PrometheusCrConfig& c, const PromCrObjects& objects,
                                        const std::vector<std::string>& staticJobs = {});

}  // namespace otel::targetallocator
