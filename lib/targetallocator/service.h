// The target allocator's state and HTTP API: scrape configs -> targets (relabel filter, identity) ->
// allocation -> upstream-compatible JSON for /jobs, /jobs/{job}/targets[?collector_id=],
// /scrape_configs, probes, /metrics and an HTML overview. Thread-safe; no sockets here.
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "lib/allocation/allocator.h"
#include "lib/prom/kubernetes_sd.h"
#include "lib/prom/target.h"
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
  // Static and file SD targets are diffed as one source per job: the Kubernetes SD targets stay as they are
  // unless `kubernetes` is given (then these groups replace all of them).
  void reloadTargets(const std::vector<std::vector<prom::TargetGroup>>* kubernetes = nullptr);
  // Incremental Kubernetes SD (KubeSd::changes): `produce(sink)` hands over the objects whose targets may
  // have changed; only their targets are rebuilt (relabel, identity) and only those are added, removed or
  // refreshed in the allocator. The result is what reloadTargets with the full groups gives (identities
  // shared by several objects: the last in (job, sd config, object key) order provides the labels). Marks
  // Kubernetes discovery as synced. Holds the allocator exclusively while `produce` runs.
  using KubernetesSink = std::function<void(prom::KubernetesObjectUpdate&&)>;
  void applyKubernetes(const std::function<void(const KubernetesSink&)>& produce);
  void applyKubernetes(std::vector<prom::KubernetesObjectUpdate> updates);
  // Replaces the scrape configs (the file's plus those generated from Prometheus CRs) at once, with every
  // Kubernetes SD object of the new set (`kubernetes`: a fresh KubeSd's first changes(), whose job indices
  // are the new set's; null when it has none). Targets whose identity stays keep their collectors.
  void setScrapeConfigs(prom::PromConfig prom, const std::function<void(const KubernetesSink&)>* kubernetes);

  http::Response jobs(bool html = false) const;
  // collector == nullptr: every collector's targets for the job; else http_sd list for that collector.
  // html (a browser, no collector): the job's page, every kept target with its collector and every
  // dropped one with the rule that dropped it.
  http::Response targets(const std::string& job, const std::string* collector, bool html = false) const;
  http::Response scrapeConfigs(bool tls, bool html = false) const;
  // kubectl-otel extension (upstream has no such endpoint): the targets no collector holds, and why:
  // {"<job>": [{"target": "<__address__>", "reason": "..."}]}, jobs and targets sorted.
  http::Response unassigned() const;
  // kubectl-otel extension: the discovered targets relabeling dropped, and why:
  // {"<job>": [{"target": "<__address__>", "reason": "relabel_configs[1] keep [...]: ..."}]}, jobs sorted,
  // targets in source order; at most `limit` per job, and at most the 1,000 kept per job
  // ({"<job>": {"targets": [...], "_more": N}} when there are more).
  http::Response dropped(std::size_t limit = 1000) const;
  http::Response livez() const;
  http::Response readyz() const;
  http::Response metrics() const;
  http::Response index() const;

  http::Registry& registry() { return registry_; }
  // Collector index of every target, by identity (tests; -1 unassigned).
  std::map<std::uint64_t, int> assignments() const;
  // Every target (tests and tools), in identity order.
  std::vector<prom::Target> targetList() const;
  const Config& config() const { return config_; }
  std::size_t targetCount() const;

 private:
  void updateMetrics(const char* method, double seconds);
  void indexScrapeConfigs();  // from config_.prom: jobNames_, the /scrape_configs bodies, builders_, jobTargets_
  int jobIndex(const std::string& job) const;

  // A source of targets: a job's static and file SD targets (kind 0), one Kubernetes object (kind 1), or a
  // job's Kubernetes groups given whole to reloadTargets (kind 1, use kWhole). The key orders sources as a
  // full rebuild lists them; for an identity several sources give, the last one's target is served.
  using SourceKey = std::tuple<std::uint32_t /*job*/, std::uint32_t /*kind*/, std::uint32_t /*use*/, std::string>;
  static constexpr std::uint32_t kWhole = 0xffffffffu;
  struct Source {
    SourceKey key;
    std::vector<std::uint64_t> hashes;  // its distinct identities
  };
  struct Owner {
    const Source* source;  // the one whose target the allocator holds
    std::uint32_t count;   // sources giving this identity
  };
  // Caller holds reloadMu_ and mu_ exclusively.
  void replaceSource(Source& s, std::vector<prom::Target> targets);
  void addContribution(const Source& s, prom::Target&& t);
  void updateContribution(const Source& s, prom::Target&& t);
  void dropContribution(const Source& s, std::uint64_t hash);
  void setSource(const SourceKey& key, std::vector<prom::Target> targets, std::vector<prom::DroppedTarget> dropped = {});
  // One Kubernetes object's targets (or its removal) built and set as its source.
  void applyObject(prom::KubernetesObjectUpdate&& u);
  // Keys of the Kubernetes sources: per object (whole = false) or the groups given whole.
  std::vector<SourceKey> kubernetesSources(bool whole) const;
  // Allocator changes are gathered per batch (ops_: identity -> target, or nullopt to remove) and applied
  // by flush(): an identity that one object gives up and another takes in the same batch keeps its collector.
  const prom::Target* current(std::uint64_t hash) const;
  void put(prom::Target&& t);
  void flush();

  Config config_;
  mutable std::shared_mutex mu_;
  std::mutex reloadMu_;
  allocation::Allocator allocator_;
  std::vector<std::string> jobNames_;
  std::string scrapeConfigsRedacted_, scrapeConfigsSecret_;
  bool ready_ = false;            // collectors known (fixed, or the first pod list applied)
  bool targetsReady_ = false;     // no Kubernetes SD, or its first sync applied
  bool serving_ = true;           // false while another replica holds the Lease
  std::vector<prom::TargetBuilder> builders_;  // per job
  std::map<SourceKey, Source> sources_;
  std::unordered_map<std::uint64_t, Owner> owners_;
  // Identities given by more than one source: every source's target.
  std::unordered_map<std::uint64_t, std::vector<std::pair<const Source*, prom::Target>>> shared_;
  std::vector<std::size_t> jobTargets_;  // targets per job index
  // What relabeling dropped, per source (sources with nothing dropped have no entry): how many, and the
  // ones kept to show, at most kDroppedKeptPerJob per job (a ServiceMonitor's job discovers every
  // endpoint of its namespaces and drops most: the count is exact, the examples bounded, as Prometheus
  // bounds its dropped targets with keep_dropped_targets).
  static constexpr std::size_t kDroppedKeptPerJob = 1000;
  struct Dropped {
    std::size_t count = 0;
    std::vector<prom::DroppedTarget> kept;
  };
  std::map<SourceKey, Dropped> dropped_;
  std::vector<std::size_t> jobDropped_, jobDroppedKept_;
  std::unordered_map<std::uint64_t, std::optional<prom::Target>> ops_;
  mutable http::Registry registry_;
};

// Registers the routes of `service` on `server` (upstream paths; HTML when Accept has text/html).
void registerRoutes(http::Server& server, Service& service);

// Replaces secret values (passwords, tokens, credentials, client secrets) with "<secret>", as
// Prometheus marshals its Secret type.
Json redactSecrets(const Json& scrapeConfig);

}  // namespace otel::targetallocator
