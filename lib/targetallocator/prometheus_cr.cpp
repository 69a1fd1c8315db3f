#include "lib/targetallocator/prometheus_cr.h"

#include <algorithm>
#include <set>

#include "lib/api/common.h"
#include "lib/core/error.h"
#include "lib/prom/monitors.h"

namespace otel::targetallocator {

bool namespaceAllowed(const PrometheusCrConfig& c, const std::string& ns) {
  if (!c.allowNamespaces.empty())
    return std::find(c.allowNamespaces.begin(), c.allowNamespaces.end(), ns) != c.allowNamespaces.end();
  return std::find(c.denyNamespaces.begin(), c.denyNamespaces.end(), ns) == c.denyNamespaces.end();
}

namespace {

std::string meta(const Json& obj, const char* key) { return api::str(obj, {"metadata", key}); }

bool namespaceSelected(const Json& selector, const std::string& ns, const prom::ObjectMap* namespaces) {
  if (selector.is_object() && selector.empty()) return true;  // {}: every namespace, labels not needed
  if (!namespaces) return false;
  auto it = namespaces->find(ns);
  if (it == namespaces->end()) return false;
  const Json* labels = api::at(it->second, {"metadata", "labels"});
  return api::labelSelectorMatches(&selector, labels && labels->is_object() ? *labels : api::emptyObject(), true);
}

}  // namespace

PromCrScrapeConfigs promCrScrapeConfigs(const PrometheusCrConfig& c, const PromCrObjects& objects,
                                        const std::vector<std::string>& staticJobs) {
  PromCrScrapeConfigs out;
  std::set<std::string> jobs(staticJobs.begin(), staticJobs.end());
  const Json global = {{"scrape_interval", c.scrapeInterval}};
  prom::MonitorOptions mo;
  mo.secret = objects.secret;
  mo.denyFsAccess = c.denyFsAccessThroughSms;
  mo.secretNamespacesHint = "the allocator's service account needs get on secrets in the monitor's namespace";
  struct Kind {
    const char* name;
    const prom::ObjectMap* objects;
    const Json& selector;
    const Json& nsSelector;
    std::vector<Json> (*generate)(const Json&, const prom::MonitorOptions&);
  };
  for (const Kind& k : {Kind{"ServiceMonitor", objects.serviceMonitors, c.serviceMonitorSelector, c.serviceMonitorNamespaceSelector,
                             &prom::serviceMonitorScrapeConfigs},
                        Kind{"PodMonitor", objects.podMonitors, c.podMonitorSelector, c.podMonitorNamespaceSelector,
                             &prom::podMonitorScrapeConfigs},
                        Kind{"Probe", objects.probes, c.probeSelector, c.probeNamespaceSelector, &prom::probeScrapeConfigs},
                        Kind{"ScrapeConfig", objects.scrapeConfigs, c.scrapeConfigSelector, c.scrapeConfigNamespaceSelector,
                             &prom::scrapeConfigCrScrapeConfigs}}) {
    if (!k.objects) continue;
    for (const auto& [key, m] : *k.objects) {  // ObjectMap: "ns/name" order
      const std::string ns = meta(m, "namespace"), name = meta(m, "name");
      const Json* labels = api::at(m, {"metadata", "labels"});
      if (!namespaceAllowed(c, ns) || !namespaceSelected(k.nsSelector, ns, objects.namespaces) ||
          !api::labelSelectorMatches(&k.selector, labels && labels->is_object() ? *labels : api::emptyObject(), false))
        continue;
      try {
        std::vector<prom::ScrapeConfig> parsed;
        for (Json job : k.generate(m, mo)) {
          std::string where = std::string(k.name) + " " + ns + "/" + name;
          // prometheus_cr.scrape_protocols is the generated configuration's global: Prometheus gives it to
          // every job that names none (a monitor's own scrapeProtocols win)
          if (!c.scrapeProtocols.empty() && !job.contains("scrape_protocols")) job["scrape_protocols"] = c.scrapeProtocols;
          prom::ScrapeConfig sc = prom::parseScrapeConfig(job, global, where, parsed.size());
          if (jobs.count(sc.jobName))
            throw Error("job \"" + sc.jobName + "\" is already defined by the allocator's scrape_configs");
          parsed.push_back(std::move(sc));
        }
        for (auto& sc : parsed) {
          jobs.insert(sc.jobName);
          out.scrapeConfigs.push_back(std::move(sc));
        }
      } catch (const std::exception& e) {
        out.skipped.push_back({k.name, ns, name, e.what()});
      }
    }
  }
  return out;
}

}  // namespace otel::targetallocator
