// Kubernetes service discovery for the allocator's scrape configs: one informer per resource, namespace
// and selector the kubernetes_sd_configs need (pods, services, endpoints, endpointslices, ingresses, nodes,
// namespaces), and
// the target groups built from their caches by lib/prom/kubernetes_sd (pure). changes() is the incremental
// path the server applies (Service::applyKubernetes): only the objects an event touched, and the objects
// whose targets read them, are rebuilt; groups() is a full snapshot.
#pragma once
#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <unordered_map>
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
  // The objects whose targets may have changed since the previous call (the first call: every object),
  // each with its targets now (or removed): the objects of an event, and those whose targets read one
  // (an endpointslice's Service and Pods; with attach_metadata, the node and the namespace). `sink` runs
  // with the informer caches locked (events wait). Serialized with itself; not with groups().
  void changes(const std::function<void(prom::KubernetesObjectUpdate&&)>& sink);
  std::vector<prom::KubernetesObjectUpdate> changes();
  // Tests and benchmarks: applies a watch event to every informer of `resource` ("pods", "services",
  // "endpoints", "endpointslices", "ingresses", "nodes", "namespaces") whose namespace holds the object, as its watch would (the
  // selectors are not evaluated here: the API server applies them).
  void applyEvent(const std::string& resource, const kube::WatchEvent& event);

 private:
  struct Source;  // one informer
  Source& source(kube::Client& client, const std::string& resource, const std::string& ns, const prom::K8sSelector& sel);
  struct Use {  // one SD config: the informers of each object kind it reads
    std::size_t job;
    prom::KubernetesSdConfig config;
    std::vector<Source*> pods, services, endpoints, endpointSlices, ingresses, nodes, namespaces;
    // Incremental state: the objects seen (by id), what each one's targets read as hashes of the kind and
    // key of the objects read, and the reverse. A hash collision only makes an object recomputed needlessly.
    std::unordered_map<std::string, std::uint32_t> ids;
    std::vector<std::vector<std::uint64_t>> reads;  // by id
    std::vector<std::string> names;                 // by id ("" for a free id)
    std::vector<std::uint32_t> freeIds;
    std::unordered_map<std::uint64_t, std::vector<std::uint32_t>> readers;
  };
  enum class RefKind : std::uint64_t { Pod = 1, Service, Node, Namespace };
  static std::uint64_t refHash(RefKind kind, const std::string& key);
  const std::vector<Source*>& roleSources(const Use& u) const;
  void setRefs(Use& u, const std::string& key, const prom::ObjectRefs* refs);
  std::vector<std::unique_ptr<Source>> informers_;
  std::vector<Use> uses_;
  std::size_t jobs_ = 0;
  std::atomic<std::uint64_t> events_{0};
  std::mutex pendingMu_;  // guards every Source's pending keys
  std::mutex changesMu_;
  bool primed_ = false;   // changes() ran once
};

}  // namespace otel::targetallocator
