// The allocator's Prometheus CR watcher (I/O edge; the selection and generation are pure in
// prometheus_cr): informers on ServiceMonitors and PodMonitors (every namespace, or each of
// allow_namespaces), on Namespaces when a namespace selector needs their labels, and on the Secrets of
// secret_namespaces (or the collector namespace). The monitoring.coreos.com CRDs may be installed after
// the allocator starts: discovery is polled and a kind's informer starts when the API server serves it.
#pragma once
#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <stop_token>
#include <thread>
#include <string>
#include <vector>

#include "lib/kube/client.h"
#include "lib/kube/informer.h"
#include "lib/targetallocator/prometheus_cr.h"

namespace otel::targetallocator {

class PromCrWatch {
 public:
  PromCrWatch(kube::Client& client, PrometheusCrConfig config, std::string ownNamespace,
              std::chrono::milliseconds discoveryInterval = std::chrono::seconds(5));
  ~PromCrWatch();

  // Polls discovery and runs the informers until `stop`.
  void run(std::stop_token stop);
  // Discovery answered once and every informer started so far has listed (Secrets excepted: a missing
  // permission on them must not keep the allocator unready; monitors that need them are skipped).
  bool synced() const;
  // Informer events and kinds appearing, so far.
  std::uint64_t events() const { return events_.load(); }
  PromCrScrapeConfigs scrapeConfigs(const std::vector<std::string>& staticJobs) const;

 private:
  struct Source {
    std::string kind, ns;
    std::unique_ptr<kube::Informer> informer;
    bool blocksSync = true;
  };
  void start(const kube::ResourceId& id, const std::string& ns, bool blocksSync, std::vector<std::jthread>& threads,
             std::stop_token stop);

  kube::Client& client_;
  PrometheusCrConfig config_;
  std::string ownNamespace_;
  std::chrono::milliseconds discoveryInterval_;
  mutable std::mutex mu_;
  std::vector<std::unique_ptr<Source>> sources_;
  std::vector<std::string> served_;
  bool discovered_ = false;
  std::atomic<std::uint64_t> events_{0};
};

}  // namespace otel::targetallocator
