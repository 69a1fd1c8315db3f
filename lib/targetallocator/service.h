// The target allocator's state and HTTP API: scrape configs -> targets (relabel filter, identity) ->
// allocation -> upstream-compatible JSON for /jobs, /jobs/{job}/targets[?collector_id=],
// /scrape_configs, probes, /metrics and an HTML overview. Thread-safe; no sockets here.
#pragma once
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <vector>

#include "lib/allocation/allocator.h"
#include "lib/http/metrics.h"
#include "lib/http/server.h"
#include "lib/targetallocator/config.h"

namespace otel::targetallocator {

class Service {
 public:
  // Loads targets from the config's scrape configs and allocates them. Throws otel::Error.
  explicit Service(Config config);

  // Whether this replica serves (readiness): false while another replica holds the allocator's Lease
  // (least-weighted depends on its history, so only one replica may answer).
  void setServing(bool serving);
  // Replaces the collector set (diffed; the strategy decides what moves).
  void setCollectors(std::vector<allocation::Collector> collectors);
  // Re-reads file SD and re-applies the scrape configs' targets (diffed by identity); `kubernetes`: the
  // Kubernetes SD groups per job index (KubeSd::groups), which also marks that discovery as synced.
  void reloadTargets(const std::vector<std::vector<prom::TargetGroup>>* kubernetes = nullptr);
  // Replaces the scrape configs (the file's plus those generated from Prometheus CRs) and their
  // Kubernetes SD groups at once; targets of unchanged jobs keep their collectors (diffed by identity).
  void setScrapeConfigs(prom::PromConfig prom, const std::vector<std::vector<prom::TargetGroup>>* kubernetes);

  http::Response jobs(bool html = false) const;
  // collector == nullptr: every collector's targets for the job; else http_sd list for that collector.
  http::Response targets(const std::string& job, const std::string* collector) const;
  http::Response scrapeConfigs(bool tls, bool html = false) const;
  // kubectl-otel extension (upstream has no such endpoint): the targets no collector holds, and why:
  // {"<job>": [{"target": "<__address__>", "reason": "..."}]}, jobs and targets sorted.
  http::Response unassigned() const;
  http::Response livez() const;
  http::Response readyz() const;
  http::Response metrics() const;
  http::Response index() const;

  http::Registry& registry() { return registry_; }
  const Config& config() const { return config_; }
  std::size_t targetCount() const;

 private:
  void updateMetrics(const char* method, double seconds);
  void indexScrapeConfigs();  // jobNames_ and the /scrape_configs bodies from config_.prom
  int jobIndex(const std::string& job) const;

  Config config_;
  mutable std::shared_mutex mu_;
  std::mutex reloadMu_;
  allocation::Allocator allocator_;
  std::vector<std::string> jobNames_;
  std::string scrapeConfigsRedacted_, scrapeConfigsSecret_;
  bool ready_ = false;            // collectors known (fixed, or the first pod list applied)
  bool targetsReady_ = false;     // no Kubernetes SD, or its first sync applied
  bool serving_ = true;           // false while another replica holds the Lease
  std::vector<std::vector<prom::TargetGroup>> kubernetesGroups_;
  mutable http::Registry registry_;
};

// Registers the routes of `service` on `server` (upstream paths; HTML when Accept has text/html).
void registerRoutes(http::Server& server, Service& service);

// Replaces secret values (passwords, tokens, credentials, client secrets) with "<secret>", as
// Prometheus marshals its Secret type.
Json redactSecrets(const Json& scrapeConfig);

}  // namespace otel::targetallocator
