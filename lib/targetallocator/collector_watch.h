// Collector discovery: an informer on the collector pods (collector_namespace, collector_selector) and a
// loop that hands the usable set (collectors.h) to the allocator when it changes, at most once per
// `minInterval` (upstream applies changes at most every 5 s), re-checking the grace period every second.
// The first set is applied as soon as the informer has synced; synced() then turns true.
#pragma once
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <stop_token>
#include <string>
#include <vector>

#include "lib/allocation/allocator.h"
#include "lib/kube/informer.h"

namespace otel::targetallocator {

struct CollectorWatchOptions {
  std::string ns;
  std::string labelSelector;  // query form (kube::labelSelectorQuery)
  std::chrono::milliseconds grace{30000};
  std::chrono::milliseconds minInterval{5000};
  std::chrono::milliseconds recheck{1000};  // grace-period re-evaluation
};

class CollectorWatcher {
 public:
  using Apply = std::function<void(std::vector<allocation::Collector>)>;
  CollectorWatcher(kube::Client& client, CollectorWatchOptions options, Apply apply);

  // Runs until `stop` (informer thread + change loop). Errors of the API server are retried by the informer.
  void run(std::stop_token stop);
  bool synced() const { return synced_.load(); }
  int applies() const { return applies_.load(); }
  // True while a changed set waits for minInterval to pass since the last apply.
  bool holding() const { return holding_.load(); }

 private:
  void loop(std::stop_token stop);

  CollectorWatchOptions options_;
  Apply apply_;
  kube::Informer informer_;
  std::mutex mu_;
  std::condition_variable_any cv_;
  bool dirty_ = false;
  std::atomic<bool> synced_{false};
  std::atomic<int> applies_{0};
  std::atomic<bool> holding_{false};
};

}  // namespace otel::targetallocator
