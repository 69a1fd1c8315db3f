#include "lib/targetallocator/kube_sd.h"

#include <thread>

namespace otel::targetallocator {

struct KubeSd::Source {
  std::string resource, ns, label, field;
  kube::Client* client;
  std::unique_ptr<kube::Informer> informer;
};

namespace {

kube::ResourceId resourceId(const std::string& resource) {
  if (resource == "pods") return {"v1", "pods", true, "Pod"};
  if (resource == "services") return {"v1", "services", true, "Service"};
  if (resource == "endpointslices") return {"discovery.k8s.io/v1", "endpointslices", true, "EndpointSlice"};
  if (resource == "nodes") return {"v1", "nodes", false, "Node"};
  return {"v1", "namespaces", false, "Namespace"};
}

}  // namespace

KubeSd::Source& KubeSd::source(kube::Client& client, const std::string& resource, const std::string& ns,
                               const prom::K8sSelector& sel) {
  for (auto& s : informers_)
    if (s->client == &client && s->resource == resource && s->ns == ns && s->label == sel.label && s->field == sel.field)
      return *s;
  auto s = std::make_unique<Source>();
  s->resource = resource;
  s->ns = ns;
  s->label = sel.label;
  s->field = sel.field;
  s->client = &client;
  kube::InformerOptions io;
  io.ns = ns;
  io.labelSelector = sel.label;
  io.fieldSelector = sel.field;
  io.transform = kube::stripManagedFields;
  s->informer = std::make_unique<kube::Informer>(client, resourceId(resource), io);
  auto bump = [this] { ++events_; };
  s->informer->addHandlers({[bump](const Json&) { bump(); }, [bump](const Json&, const Json&) { bump(); },
                            [bump](const Json&) { bump(); }});
  informers_.push_back(std::move(s));
  return *informers_.back();
}

KubeSd::KubeSd(const prom::PromConfig& config, const std::function<kube::Client&(const std::string&)>& clientFor,
               std::string ownNamespace) {
  using prom::K8sRole;
  jobs_ = config.scrapeConfigs.size();
  for (std::size_t j = 0; j < config.scrapeConfigs.size(); ++j)
    for (const auto& c : config.scrapeConfigs[j].kubernetesSdConfigs) {
      kube::Client& client = clientFor(c.kubeconfigFile);
      Use u{j, c, {}, {}, {}, {}, {}};
      std::vector<std::string> nss = c.namespaces;
      if (c.ownNamespace) nss.push_back(ownNamespace);
      if (nss.empty()) nss.push_back("");  // every namespace
      auto sel = [&](K8sRole r) {
        auto it = c.selectors.find(r);
        return it == c.selectors.end() ? prom::K8sSelector{} : it->second;
      };
      auto each = [&](const std::string& resource, K8sRole r, std::vector<Source*>& into) {
        for (const auto& ns : nss) into.push_back(&source(client, resource, ns, sel(r)));
      };
      switch (c.role) {
        case K8sRole::Pod: each("pods", K8sRole::Pod, u.pods); break;
        case K8sRole::Service: each("services", K8sRole::Service, u.services); break;
        case K8sRole::EndpointSlice:
          each("endpointslices", K8sRole::EndpointSlice, u.endpointSlices);
          each("services", K8sRole::Service, u.services);
          each("pods", K8sRole::Pod, u.pods);
          break;
        default: break;
      }
      // Nodes: the node role, or attach_metadata.node (the pod role's node selector applies to them).
      if (c.role == K8sRole::Node || (c.attachNode && (c.role == K8sRole::Pod || c.role == K8sRole::EndpointSlice)))
        u.nodes.push_back(&source(client, "nodes", "", c.role == K8sRole::EndpointSlice ? prom::K8sSelector{} : sel(K8sRole::Node)));
      if (c.attachNamespace && c.role != K8sRole::Node) u.namespaces.push_back(&source(client, "namespaces", "", {}));
      uses_.push_back(std::move(u));
    }
}

KubeSd::~KubeSd() = default;

void KubeSd::run(std::stop_token stop) {
  std::vector<std::jthread> threads;
  for (auto& s : informers_) threads.emplace_back([&s, stop] { s->informer->run(stop); });
  for (auto& t : threads) t.join();
}

bool KubeSd::synced() const {
  for (const auto& s : informers_)
    if (!s->informer->hasSynced()) return false;
  return true;
}

std::vector<std::vector<prom::TargetGroup>> KubeSd::groups() const {
  std::vector<std::vector<prom::TargetGroup>> out(jobs_);
  auto collect = [](const std::vector<Source*>& from, prom::ObjectMap& into) {
    for (const auto* s : from)
      for (auto& obj : s->informer->list()) {
        std::string key = kube::Informer::keyOf(obj);  // before the move: Json's operator= takes its argument by value
        into[std::move(key)] = std::move(obj);
      }
  };
  for (const auto& u : uses_) {
    prom::ObjectMap pods, services, slices, nodes, namespaces;
    collect(u.pods, pods);
    collect(u.services, services);
    collect(u.endpointSlices, slices);
    collect(u.nodes, nodes);
    collect(u.namespaces, namespaces);
    prom::KubeObjects o{&pods, &services, &slices, &nodes, &namespaces};
    auto gs = prom::kubernetesTargetGroups(u.config, o);
    auto& dst = out[u.job];
    dst.insert(dst.end(), std::make_move_iterator(gs.begin()), std::make_move_iterator(gs.end()));
  }
  return out;
}

}  // namespace otel::targetallocator
