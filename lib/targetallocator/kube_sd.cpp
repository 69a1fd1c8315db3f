#include "lib/targetallocator/kube_sd.h"

#include <algorithm>
#include <thread>

#include <xxhash.h>

namespace otel::targetallocator {

struct KubeSd::Source {
  std::string resource, ns, label, field;
  kube::Client* client;
  std::unique_ptr<kube::Informer> informer;
  std::size_t index = 0;               // in informers_
  std::set<std::string> pending;       // keys with events since the last changes() (pendingMu_)
};

namespace {

kube::ResourceId resourceId(const std::string& resource) {
  if (resource == "pods") return {"v1", "pods", true, "Pod"};
  if (resource == "services") return {"v1", "services", true, "Service"};
  if (resource == "endpointslices") return {"discovery.k8s.io/v1", "endpointslices", true, "EndpointSlice"};
  if (resource == "endpoints") return {"v1", "endpoints", true, "Endpoints"};
  if (resource == "ingresses") return {"networking.k8s.io/v1", "ingresses", true, "Ingress"};
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
  s->index = informers_.size();
  Source* sp = s.get();
  auto mark = [this, sp](const Json& obj) {
    std::string key = kube::Informer::keyOf(obj);
    {
      std::lock_guard lock(pendingMu_);
      sp->pending.insert(std::move(key));
    }
    ++events_;
  };
  s->informer->addHandlers({[mark](const Json& o) { mark(o); }, [mark](const Json&, const Json& o) { mark(o); },
                            [mark](const Json& o) { mark(o); }});
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
      Use u;
      u.job = j;
      u.config = c;
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
        case K8sRole::Endpoints:
          each("endpoints", K8sRole::Endpoints, u.endpoints);
          each("services", K8sRole::Service, u.services);
          each("pods", K8sRole::Pod, u.pods);
          break;
        case K8sRole::Ingress: each("ingresses", K8sRole::Ingress, u.ingresses); break;
        case K8sRole::Node: break;
      }
      // Nodes: the node role, or attach_metadata.node (the pod role's node selector applies to them).
      const bool endpointRole = c.role == K8sRole::EndpointSlice || c.role == K8sRole::Endpoints;
      if (c.role == K8sRole::Node || (c.attachNode && (c.role == K8sRole::Pod || endpointRole)))
        u.nodes.push_back(&source(client, "nodes", "", endpointRole ? prom::K8sSelector{} : sel(K8sRole::Node)));
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

namespace {

// Lookups into locked caches: the first of `from` that holds the key.
template <class Sources>
prom::KubeLookup lookupIn(const Sources& from) {
  if (from.empty()) return [](const std::string&) -> const Json* { return nullptr; };
  return [&from](const std::string& key) -> const Json* {
    for (const auto* s : from)
      if (const Json* j = s->informer->findLocked(key)) return j;
    return nullptr;
  };
}

template <class Sources>
prom::KubeObjects lookups(const Sources& pods, const Sources& services, const Sources& nodes, const Sources& namespaces) {
  prom::KubeObjects o;
  o.findPod = lookupIn(pods);
  o.findService = lookupIn(services);
  o.findNode = lookupIn(nodes);
  o.findNamespace = lookupIn(namespaces);
  return o;
}

}  // namespace

const std::vector<KubeSd::Source*>& KubeSd::roleSources(const Use& u) const {
  switch (u.config.role) {
    case prom::K8sRole::Pod: return u.pods;
    case prom::K8sRole::Service: return u.services;
    case prom::K8sRole::EndpointSlice: return u.endpointSlices;
    case prom::K8sRole::Endpoints: return u.endpoints;
    case prom::K8sRole::Ingress: return u.ingresses;
    case prom::K8sRole::Node: break;
  }
  return u.nodes;
}

std::vector<std::vector<prom::TargetGroup>> KubeSd::groups() const {
  std::vector<std::vector<prom::TargetGroup>> out(jobs_);
  std::vector<std::unique_lock<std::mutex>> locks;  // every cache, in one order (only this thread nests them)
  for (const auto& s : informers_) locks.push_back(s->informer->lockCache());
  for (const auto& u : uses_) {
    prom::KubeObjects o = lookups(u.pods, u.services, u.nodes, u.namespaces);
    std::vector<std::pair<const std::string*, const Json*>> objects;  // every namespace's, in key order
    for (const auto* s : roleSources(u))
      for (const auto& [key, c] : s->informer->itemsLocked()) objects.emplace_back(&key, &c.object);
    std::sort(objects.begin(), objects.end(), [](const auto& a, const auto& b) { return *a.first < *b.first; });
    const std::string prefix = prom::objectSourcePrefix(u.config.role);
    auto& dst = out[u.job];
    for (const auto& [key, obj] : objects) {
      prom::ObjectTargets ts = prom::objectTargets(u.config, *obj, o);
      for (auto& t : ts.targets) {
        prom::TargetGroup g;
        g.source = prefix + *key;
        g.targets.emplace_back(t.get(prom::kAddressLabel));
        t.del(prom::kAddressLabel);
        g.labels = prom::mergeLabels(ts.group, t);
        dst.push_back(std::move(g));
      }
    }
  }
  return out;
}

std::uint64_t KubeSd::refHash(RefKind kind, const std::string& key) {
  return XXH64(key.data(), key.size(), static_cast<std::uint64_t>(kind));
}

void KubeSd::setRefs(Use& u, const std::string& key, const prom::ObjectRefs* refs) {
  auto known = u.ids.find(key);
  std::uint32_t id;
  if (known != u.ids.end()) {
    id = known->second;
    for (auto h : u.reads[id]) {
      auto it = u.readers.find(h);
      if (it == u.readers.end()) continue;
      std::erase(it->second, id);
      if (it->second.empty()) u.readers.erase(it);
    }
    u.reads[id].clear();
    if (!refs) {
      u.ids.erase(known);
      u.names[id].clear();
      u.freeIds.push_back(id);
      return;
    }
  } else {
    if (!refs) return;
    if (!u.freeIds.empty()) {
      id = u.freeIds.back();
      u.freeIds.pop_back();
    } else {
      id = static_cast<std::uint32_t>(u.reads.size());
      u.reads.emplace_back();
      u.names.emplace_back();
    }
    u.ids.emplace(key, id);
    u.names[id] = key;
  }
  auto& reads = u.reads[id];
  for (const auto& r : refs->services) reads.push_back(refHash(RefKind::Service, r));
  for (const auto& r : refs->pods) reads.push_back(refHash(RefKind::Pod, r));
  for (const auto& r : refs->nodes) reads.push_back(refHash(RefKind::Node, r));
  if (u.config.attachNamespace) reads.push_back(refHash(RefKind::Namespace, refs->ns));
  std::sort(reads.begin(), reads.end());
  reads.erase(std::unique(reads.begin(), reads.end()), reads.end());
  for (auto h : reads) u.readers[h].push_back(id);
}

void KubeSd::changes(const std::function<void(prom::KubernetesObjectUpdate&&)>& sink) {
  using prom::K8sRole;
  std::lock_guard serial(changesMu_);
  std::vector<std::set<std::string>> pending(informers_.size());
  {
    std::lock_guard lock(pendingMu_);
    for (std::size_t i = 0; i < informers_.size(); ++i) pending[i].swap(informers_[i]->pending);
  }
  std::vector<std::unique_lock<std::mutex>> locks;  // every cache, in one order (only this thread nests them)
  for (const auto& s : informers_) locks.push_back(s->informer->lockCache());
  for (std::size_t ui = 0; ui < uses_.size(); ++ui) {
    Use& u = uses_[ui];
    const auto& role = roleSources(u);
    std::set<std::string> dirty;
    if (!primed_) {
      for (const auto* s : role)
        for (const auto& [key, c] : s->informer->itemsLocked()) dirty.insert(key);
    } else {
      auto touched = [&](const std::vector<Source*>& from, auto&& each) {
        for (const auto* s : from)
          for (const auto& key : pending[s->index]) each(key);
      };
      touched(role, [&](const std::string& key) { dirty.insert(key); });
      auto dependents = [&](const std::vector<Source*>& from, RefKind kind) {
        touched(from, [&](const std::string& key) {
          auto it = u.readers.find(refHash(kind, key));
          if (it == u.readers.end()) return;
          for (auto id : it->second) dirty.insert(u.names[id]);
        });
      };
      if (u.config.role != K8sRole::Pod) dependents(u.pods, RefKind::Pod);
      if (u.config.role != K8sRole::Service) dependents(u.services, RefKind::Service);
      if (u.config.role != K8sRole::Node) dependents(u.nodes, RefKind::Node);
      dependents(u.namespaces, RefKind::Namespace);
    }
    if (dirty.empty()) continue;
    prom::KubeObjects o = lookups(u.pods, u.services, u.nodes, u.namespaces);
    const std::string prefix = prom::objectSourcePrefix(u.config.role);
    for (const auto& key : dirty) {
      const Json* obj = nullptr;
      for (const auto* s : role)
        if ((obj = s->informer->findLocked(key))) break;
      prom::KubernetesObjectUpdate up;
      up.job = static_cast<std::uint32_t>(u.job);
      up.sdConfig = static_cast<std::uint32_t>(ui);
      up.key = prefix + key;
      if (!obj) {
        if (!u.ids.count(key)) continue;  // never seen
        setRefs(u, key, nullptr);
        up.removed = true;
      } else {
        prom::ObjectRefs refs = prom::objectRefs(u.config, *obj);
        setRefs(u, key, &refs);
        up.targets = prom::objectTargets(u.config, *obj, o);
      }
      sink(std::move(up));
    }
  }
  primed_ = true;
}

std::vector<prom::KubernetesObjectUpdate> KubeSd::changes() {
  std::vector<prom::KubernetesObjectUpdate> out;
  changes([&out](prom::KubernetesObjectUpdate&& u) { out.push_back(std::move(u)); });
  return out;
}

void KubeSd::applyEvent(const std::string& resource, const kube::WatchEvent& event) {
  const Json& meta = event.object.is_object() && event.object.contains("metadata") ? event.object["metadata"] : Json();
  const std::string ns = meta.is_object() && meta.contains("namespace") && meta["namespace"].is_string()
                             ? meta["namespace"].get<std::string>()
                             : "";
  for (auto& s : informers_)
    if (s->resource == resource && (s->ns.empty() || s->ns == ns)) {
      kube::WatchEvent copy = event;
      s->informer->applyEvent(std::move(copy));
    }
}

}  // namespace otel::targetallocator
