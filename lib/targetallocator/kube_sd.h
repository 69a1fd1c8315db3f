// Kubernetes service discovery for the allocator's scrape configs: one informer per resource, namespace
// and selector the kubernetes_sd_configs need (pods, services, endpointslices, nodes, namespaces), and
// the target groups built from their caches by lib/prom/kubernetes_sd (pure). groups() is a snapshot
// the reload applies (the allocator diffs by target identity, so only changed targets move).
#pragma once
#include <atomic>
#include <map>
#include <memory>
#include <stop_token>
#include <string>
#include <vector>

#include "lib/kube/client.h"
#include "lib/kube/informer.h"
#include "lib/prom/kubernetes_sd.h"

namespace otel::targetallocator {

class KubeSd {
 public:
  // `clientFor(kubeconfigFile)` gives the connection of an SD config ("" = the allocator's own);
  // `ownNamespace` answers namespaces.own_namespace.
  KubeSd(const prom::PromConfig& config, const std::function<kube::Client&(const std::string&)>& clientFor,
         std::string ownNamespace);
  ~KubeSd();

  bool empty() const { return informers_.empty(); }
  // Runs every informer until `stop`.
  void run(std::stop_token stop);
  bool synced() const;
  // Events seen so far (a cheap "did anything change" for the reload loop).
  std::uint64_t events() const { return events_.load(); }
  // Per job index: the groups of its kubernetes_sd_configs.
  std::vector<std::vector<prom::TargetGroup>> groups() const;

 private:
  struct Source;  // one informer
  Source& source(kube::Client& client, const std::string& resource, const std::string& ns, const prom::K8sSelector& sel);
  struct Use {  // one SD config: the informers of each object kind it reads
    std::size_t job;
    prom::KubernetesSdConfig config;
    std::vector<Source*> pods, services, endpointSlices, nodes, namespaces;
  };
  std::vector<std::unique_ptr<Source>> informers_;
  std::vector<Use> uses_;
  std::size_t jobs_ = 0;
  std::atomic<std::uint64_t> events_{0};
};

}  // namespace otel::targetallocator
