// The reconcilers of `kubectl otel run`: informers on OpenTelemetryCollectors, TargetAllocators and
// every kind the builders produce (restricted to the managed-by label), a work queue, and workers that
// make the cluster match lib/controller/desired (create, update, recreate, prune, status, events).
// Reads come from the informer caches; a reconcile of an unchanged CR makes no request at all.
#pragma once
#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "lib/core/json.h"
#include "lib/http/metrics.h"
#include "lib/kube/client.h"
#include "lib/kube/informer.h"
#include "lib/kube/work_queue.h"
#include "lib/manifests/build.h"

namespace otel::controller {

struct ControllerOptions {
  std::vector<std::string> namespaces;  // watched namespaces; empty = all
  manifests::Options build;             // images, createRbac (autodetected by run when not forced)
  int workers = 2;
  std::chrono::milliseconds resyncPeriod{std::chrono::hours(10)};  // controller-runtime's SyncPeriod
  std::string fieldManager = "kubectl-otel";
  std::string identity = "kubectl-otel";  // reportingInstance of events
  http::Registry* metrics = nullptr;      // optional
  // Watches the monitoring.coreos.com CRDs and starts ServiceMonitor/PodMonitor informers when they appear.
  bool watchPrometheusCrds = true;
  // Called from the first write on: true while this process may write (leader election).
  std::function<bool()> mayWrite;
};

class Controller {
 public:
  Controller(kube::Client& client, ControllerOptions options);
  ~Controller();
  Controller(const Controller&) = delete;
  Controller& operator=(const Controller&) = delete;

  // Starts the informers (returns at once); workers start with runWorkers.
  void startInformers(std::stop_token stop);
  // True once every informer has listed.
  bool synced() const;
  bool waitForSync(std::chrono::milliseconds timeout, std::stop_token stop = {}) const;
  // Queues every cached CR and processes the queue with `workers` threads until `stop`.
  void runWorkers(std::stop_token stop);
  // Stops the informers and the queue (also done by the destructor).
  void shutDown();

  // Reconciles one key ("collector/ns/name" or "targetallocator/ns/name") now (tests, benchmarks).
  // Returns false when it failed (and would be retried).
  bool reconcileNow(const std::string& key);
  std::size_t queueLength() const;
  // No key ready in the queue and none being reconciled (delayed retries may still be waiting).
  bool idle() const { return queue_.len() == 0 && inFlight_.load() == 0; }
  // Number of reconciles done, and of writes (create/update/patch/delete) made so far.
  long reconciles() const { return reconciles_.load(); }
  long writes() const { return writes_.load(); }

  struct Watched;

 private:
  void addResource(const kube::ResourceId& id, bool owned);
  void enqueueFor(const Json& obj, const std::string& resource);
  bool reconcile(const std::string& key);
  bool reconcileCollector(const std::string& ns, const std::string& name);
  bool reconcileTargetAllocator(const std::string& ns, const std::string& name);
  // Makes the cluster hold `desired` (create/update/recreate); returns the object as stored now.
  Json ensure(const Json& desired, const Json& owner, std::vector<std::string>& changes);
  void prune(const Json& owner, const std::vector<Json>& desired, std::vector<std::string>& changes);
  std::optional<Json> cached(const std::string& kind, const std::string& ns, const std::string& name) const;
  std::vector<Json> ownedBy(const std::string& uid) const;
  void recordEvent(const Json& owner, const std::string& type, const std::string& reason, const std::string& message);
  void patchStatus(const Json& cr, const kube::ResourceId& id, const Json& status);
  void countWrite(const std::string& verb);
  void checkWrite() const;
  void startPrometheusInformers();

  kube::Client& client_;
  ControllerOptions options_;
  kube::WorkQueue queue_;
  std::map<std::string, std::unique_ptr<Watched>> watched_;  // by kind
  mutable std::mutex mu_;
  std::mutex threadsMu_;  // guards informerThreads_ (the CRD watcher thread adds to it)
  std::vector<std::jthread> informerThreads_;
  std::stop_source stop_;
  std::map<std::string, std::string> lastError_;  // key -> last Error event message (no repeats)
  std::map<std::string, std::chrono::steady_clock::time_point> queuedAt_;  // first add while waiting
  void enqueue(const std::string& key);
  std::atomic<long> reconciles_{0};
  std::atomic<long> writes_{0};
  std::atomic<int> inFlight_{0};
  std::atomic<bool> prometheusStarted_{false};
};

}  // namespace otel::controller
