#include "lib/controller/controller.h"

#include <algorithm>
#include <chrono>
#include <random>
#include <set>
#include <thread>

#include "lib/api/collector.h"
#include "lib/api/common.h"
#include "lib/api/targetallocator.h"
#include "lib/controller/desired.h"
#include "lib/controller/mutate.h"
#include "lib/controller/status.h"
#include "lib/controller/upgrade.h"
#include "lib/core/error.h"
#include "lib/core/log.h"
#include "lib/kube/errors.h"

namespace otel::controller {

using api::str;
using Clock = std::chrono::steady_clock;

namespace {

const char* kManagedBy = "app.kubernetes.io/managed-by=opentelemetry-operator";
const char* kCollectorComponent = "opentelemetry-collector";
const char* kCollectorPrefix = "collector/";
const char* kTaPrefix = "targetallocator/";

const kube::ResourceId kCollectors{"opentelemetry.io/v1beta1", "opentelemetrycollectors", true, "OpenTelemetryCollector"};
const kube::ResourceId kTargetAllocators{"opentelemetry.io/v1alpha1", "targetallocators", true, "TargetAllocator"};
const kube::ResourceId kCrds{"apiextensions.k8s.io/v1", "customresourcedefinitions", false, "CustomResourceDefinition"};

const std::vector<kube::ResourceId>& ownedResources() {
  static const std::vector<kube::ResourceId> r = {
      {"v1", "configmaps", true, "ConfigMap"},
      {"v1", "serviceaccounts", true, "ServiceAccount"},
      {"v1", "services", true, "Service"},
      {"apps/v1", "deployments", true, "Deployment"},
      {"apps/v1", "daemonsets", true, "DaemonSet"},
      {"apps/v1", "statefulsets", true, "StatefulSet"},
      {"policy/v1", "poddisruptionbudgets", true, "PodDisruptionBudget"},
      {"autoscaling/v2", "horizontalpodautoscalers", true, "HorizontalPodAutoscaler"},
      {"networking.k8s.io/v1", "ingresses", true, "Ingress"},
      {"networking.k8s.io/v1", "networkpolicies", true, "NetworkPolicy"},
      {"rbac.authorization.k8s.io/v1", "clusterroles", false, "ClusterRole"},
      {"rbac.authorization.k8s.io/v1", "clusterrolebindings", false, "ClusterRoleBinding"},
  };
  return r;
}
const std::vector<kube::ResourceId>& prometheusResources() {
  static const std::vector<kube::ResourceId> r = {
      {"monitoring.coreos.com/v1", "servicemonitors", true, "ServiceMonitor"},
      {"monitoring.coreos.com/v1", "podmonitors", true, "PodMonitor"},
  };
  return r;
}

std::string nsOf(const Json& o) { return str(o, {"metadata", "namespace"}); }
std::string nameOf(const Json& o) { return str(o, {"metadata", "name"}); }

// "<component>|<instance>" of a cluster-scoped object (no owner references can point at a namespaced CR).
std::string instanceKey(const Json& o) {
  std::string inst = str(o, {"metadata", "labels", "app.kubernetes.io/instance"});
  if (inst.empty()) return "";
  return str(o, {"metadata", "labels", "app.kubernetes.io/component"}) + "|" + inst;
}

bool semanticallyEqual(const Json& a, const Json& b) { return containsDesired(a, b) && containsDesired(b, a); }

kube::DeleteOptions background() {
  kube::DeleteOptions o;
  o.propagationPolicy = "Background";
  return o;
}

}  // namespace

struct Controller::Watched {
  kube::ResourceId id;
  bool owned = false;
  std::vector<std::unique_ptr<kube::Informer>> informers;
  std::map<std::string, kube::Informer*> byNs;  // "" = all namespaces / cluster scope
  kube::Informer* forNs(const std::string& ns) const {
    auto it = byNs.find(id.namespaced ? ns : "");
    if (it != byNs.end()) return it->second;
    it = byNs.find("");
    return it == byNs.end() ? nullptr : it->second;
  }
};

Controller::Controller(kube::Client& client, ControllerOptions options)
    : client_(client), options_(std::move(options)) {
  if (options_.workers < 1) options_.workers = 1;
  addResource(kCollectors, false);
  addResource(kTargetAllocators, false);
  for (const auto& r : ownedResources()) addResource(r, true);
}

Controller::~Controller() { shutDown(); }

void Controller::addResource(const kube::ResourceId& id, bool owned) {
  auto w = std::make_unique<Watched>();
  w->id = id;
  w->owned = owned;
  std::vector<std::string> nss = id.namespaced && !options_.namespaces.empty() ? options_.namespaces
                                                                               : std::vector<std::string>{""};
  for (const auto& ns : nss) {
    kube::InformerOptions io;
    io.ns = ns;
    if (owned) io.labelSelector = kManagedBy;
    io.resyncPeriod = options_.resyncPeriod;
    io.transform = kube::stripManagedFields;
    io.compact = true;  // read an object at a time (reconcile, handlers): a third of the memory of JSON trees
    auto inf = std::make_unique<kube::Informer>(client_, id, io);
    if (owned || id.kind == "TargetAllocator") {  // a generated TargetAllocator is owned by its collector
      inf->addIndexer("owner", [](const Json& o) {
        const Json* ref = controllerRef(o);
        return ref ? std::vector<std::string>{ref->value("uid", "")} : std::vector<std::string>{};
      });
      if (!id.namespaced)
        inf->addIndexer("instance", [](const Json& o) {
          std::string k = instanceKey(o);
          return k.empty() ? std::vector<std::string>{} : std::vector<std::string>{k};
        });
    }
    if (id.kind == "OpenTelemetryCollector")
      inf->addIndexer("ta", [](const Json& o) {
        std::string t = str(o, {"metadata", "labels", api::kTargetAllocatorLabel});
        return t.empty() ? std::vector<std::string>{} : std::vector<std::string>{nsOf(o) + "/" + t};
      });
    std::string resource = id.resource;
    kube::EventHandlers h;
    h.onAdd = [this, resource](const Json& o) { enqueueFor(o, resource); };
    h.onUpdate = [this, resource](const Json& oldObj, const Json& o) {
      enqueueFor(o, resource);
      // a label change can move an owned object or a collector's TargetAllocator link
      if (str(oldObj, {"metadata", "labels", api::kTargetAllocatorLabel}) !=
          str(o, {"metadata", "labels", api::kTargetAllocatorLabel}))
        enqueueFor(oldObj, resource);
    };
    h.onDelete = [this, resource](const Json& o) { enqueueFor(o, resource); };
    inf->addHandlers(std::move(h));
    w->byNs[ns] = inf.get();
    w->informers.push_back(std::move(inf));
  }
  std::lock_guard lock(mu_);
  watched_[id.kind] = std::move(w);
}

void Controller::enqueue(const std::string& key) {
  if (options_.metrics) {
    std::lock_guard lock(mu_);
    queuedAt_.try_emplace(key, Clock::now());
  }
  queue_.add(key);
}

void Controller::enqueueFor(const Json& o, const std::string& resource) {
  const std::string ns = nsOf(o), name = nameOf(o);
  if (options_.metrics) {
    bool ta = resource == kTargetAllocators.resource || str(o, {"metadata", "labels", "app.kubernetes.io/component"}) ==
                                                            "opentelemetry-targetallocator";
    options_.metrics->addCounter("workqueue_adds_total", "Total number of adds handled by workqueue",
                                 {{"name", ta ? "targetallocator" : "opentelemetrycollector"}});
  }
  if (resource == kCollectors.resource) {
    enqueue(kCollectorPrefix + ns + "/" + name);
    // the generated TargetAllocator (same name) and a linked standalone one read the collector
    enqueue(kTaPrefix + ns + "/" + name);
    std::string link = str(o, {"metadata", "labels", api::kTargetAllocatorLabel});
    if (!link.empty()) enqueue(kTaPrefix + ns + "/" + link);
    return;
  }
  if (resource == kTargetAllocators.resource) {
    enqueue(kTaPrefix + ns + "/" + name);
    if (const Json* ref = controllerRef(o); ref && ref->value("kind", "") == api::kCollectorKind)
      enqueue(kCollectorPrefix + ns + "/" + ref->value("name", ""));
    kube::Informer* inf = nullptr;
    {
      std::lock_guard lock(mu_);
      auto it = watched_.find("OpenTelemetryCollector");
      if (it != watched_.end()) inf = it->second->forNs(ns);
    }
    if (inf)
      for (const auto& c : inf->byIndex("ta", ns + "/" + name)) enqueue(kCollectorPrefix + ns + "/" + nameOf(c));
    return;
  }
  if (const Json* ref = controllerRef(o)) {
    std::string kind = ref->value("kind", "");
    if (kind == api::kCollectorKind) enqueue(kCollectorPrefix + ns + "/" + ref->value("name", ""));
    if (kind == "TargetAllocator") enqueue(kTaPrefix + ns + "/" + ref->value("name", ""));
    return;
  }
  // cluster-scoped: the instance label "<ns>.<name>" names the CR
  std::string inst = str(o, {"metadata", "labels", "app.kubernetes.io/instance"});
  auto dot = inst.find('.');
  if (dot == std::string::npos) return;
  bool collector = str(o, {"metadata", "labels", "app.kubernetes.io/component"}) == kCollectorComponent;
  enqueue((collector ? kCollectorPrefix : kTaPrefix) + inst.substr(0, dot) + "/" + inst.substr(dot + 1));
}

void Controller::startInformers(std::stop_token stop) {
  std::vector<kube::Informer*> all;
  {
    std::lock_guard lock(mu_);
    for (auto& [kind, w] : watched_)
      for (auto& inf : w->informers) all.push_back(inf.get());
  }
  auto stopAll = stop_.get_token();
  std::lock_guard threads(threadsMu_);
  for (auto* inf : all)
    informerThreads_.emplace_back([inf, stop, stopAll](std::stop_token own) {
      std::stop_source merged;
      std::stop_callback a(stop, [&] { merged.request_stop(); });
      std::stop_callback b(stopAll, [&] { merged.request_stop(); });
      std::stop_callback c(own, [&] { merged.request_stop(); });
      inf->run(merged.get_token());
    });
  if (options_.watchPrometheusCrds) {
    informerThreads_.emplace_back([this, stop, stopAll](std::stop_token own) {
      std::stop_source merged;
      std::stop_callback a(stop, [&] { merged.request_stop(); });
      std::stop_callback b(stopAll, [&] { merged.request_stop(); });
      std::stop_callback c(own, [&] { merged.request_stop(); });
      kube::InformerOptions io;
      io.resyncPeriod = std::chrono::milliseconds(0);
      kube::Informer crds(client_, kCrds, io);
      kube::EventHandlers h;
      h.onAdd = [this](const Json& crd) {
        std::string name = nameOf(crd);
        if (name == "servicemonitors.monitoring.coreos.com" || name == "podmonitors.monitoring.coreos.com")
          startPrometheusInformers();
      };
      crds.addHandlers(h);
      crds.run(merged.get_token());
    });
  }
}

void Controller::startPrometheusInformers() {
  if (prometheusStarted_.exchange(true)) return;
  log::info("monitoring.coreos.com CRDs served: watching ServiceMonitors and PodMonitors");
  std::vector<kube::Informer*> added;
  for (const auto& r : prometheusResources()) {
    addResource(r, true);
    std::lock_guard lock(mu_);
    for (auto& inf : watched_[r.kind]->informers) added.push_back(inf.get());
  }
  auto stopAll = stop_.get_token();
  {
    std::lock_guard lock(mu_);
    options_.build.prometheusCRDs = true;
  }
  std::lock_guard threads(threadsMu_);
  if (stopAll.stop_requested()) return;  // shutting down: start nothing
  for (auto* inf : added)
    informerThreads_.emplace_back([inf, stopAll](std::stop_token own) {
      std::stop_source merged;
      std::stop_callback b(stopAll, [&] { merged.request_stop(); });
      std::stop_callback c(own, [&] { merged.request_stop(); });
      inf->run(merged.get_token());
    });
  // collectors with enableMetrics now get their monitors
  std::vector<Json> crs;
  {
    std::lock_guard lock(mu_);
    for (auto& inf : watched_["OpenTelemetryCollector"]->informers)
      for (auto& c : inf->list()) crs.push_back(c);
  }
  for (const auto& c : crs) queue_.add(kCollectorPrefix + nsOf(c) + "/" + nameOf(c));
}

bool Controller::synced() const {
  std::lock_guard lock(mu_);
  for (const auto& [kind, w] : watched_)
    for (const auto& inf : w->informers)
      if (!inf->hasSynced()) return false;
  return true;
}

bool Controller::waitForSync(std::chrono::milliseconds timeout, std::stop_token stop) const {
  auto deadline = Clock::now() + timeout;
  std::vector<kube::Informer*> all;
  {
    std::lock_guard lock(mu_);
    for (const auto& [kind, w] : watched_)
      for (const auto& inf : w->informers) all.push_back(inf.get());
  }
  for (auto* inf : all) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0 || !inf->waitForSync(left, stop)) return false;
  }
  return true;
}

void Controller::runWorkers(std::stop_token stop) {
  {
    std::vector<Json> crs, tas;
    std::lock_guard lock(mu_);
    for (auto& inf : watched_["OpenTelemetryCollector"]->informers)
      for (auto& c : inf->list()) queue_.add(kCollectorPrefix + nsOf(c) + "/" + nameOf(c));
    for (auto& inf : watched_["TargetAllocator"]->informers)
      for (auto& t : inf->list()) queue_.add(kTaPrefix + nsOf(t) + "/" + nameOf(t));
  }
  std::vector<std::jthread> workers;
  for (int i = 0; i < options_.workers; ++i)
    workers.emplace_back([this, stop] {
      while (true) {
        auto key = queue_.get(stop);
        if (!key) return;
        ++inFlight_;
        std::string controller = key->rfind(kTaPrefix, 0) == 0 ? "targetallocator" : "opentelemetrycollector";
        if (options_.metrics) {
          std::optional<Clock::time_point> at;
          {
            std::lock_guard lock(mu_);
            if (auto it = queuedAt_.find(*key); it != queuedAt_.end()) {
              at = it->second;
              queuedAt_.erase(it);
            }
          }
          if (at)
            options_.metrics->observe("workqueue_queue_duration_seconds",
                                      "How long in seconds an item stays in workqueue before being requested",
                                      {{"name", controller}}, std::chrono::duration<double>(Clock::now() - *at).count(),
                                      {1e-8, 1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 0.01, 0.1, 1, 10});
        }
        bool ok = false;
        auto t0 = Clock::now();
        try {
          ok = reconcile(*key);
        } catch (const std::exception& e) {
          log::error("reconcile failed", {{"item", *key}, {"error", e.what()}});
        }
        double secs = std::chrono::duration<double>(Clock::now() - t0).count();
        if (options_.metrics) {
          options_.metrics->addCounter("controller_runtime_reconcile_total", "Total number of reconciliations per controller",
                                       {{"controller", controller}, {"result", ok ? "success" : "error"}});
          if (!ok)
            options_.metrics->addCounter("controller_runtime_reconcile_errors_total",
                                         "Total number of reconciliation errors per controller", {{"controller", controller}});
          options_.metrics->observe("controller_runtime_reconcile_time_seconds",
                                    "Length of time per reconciliation per controller", {{"controller", controller}}, secs);
          options_.metrics->setGauge("workqueue_depth", "Current depth of workqueue", {{"name", controller}},
                                     static_cast<double>(queue_.len()));
        }
        if (ok)
          queue_.forget(*key);
        else
          queue_.addRateLimited(*key);
        queue_.done(*key);
        --inFlight_;
      }
    });
  for (auto& w : workers) w.join();
}

void Controller::shutDown() {
  queue_.shutDown();
  stop_.request_stop();
  // joined outside the lock: the CRD watcher thread may be starting informers (it checks the stop first)
  while (true) {
    std::vector<std::jthread> threads;
    {
      std::lock_guard lock(threadsMu_);
      threads.swap(informerThreads_);
    }
    if (threads.empty()) break;
    for (auto& t : threads)
      if (t.joinable()) t.join();
  }
}

std::size_t Controller::queueLength() const { return queue_.len(); }

bool Controller::reconcileNow(const std::string& key) { return reconcile(key); }

bool Controller::reconcile(const std::string& key) {
  ++reconciles_;
  log::debug("reconcile", {{"item", key}});
  auto slash = key.find('/');
  auto slash2 = key.find('/', slash + 1);
  std::string type = key.substr(0, slash + 1), ns = key.substr(slash + 1, slash2 - slash - 1), name = key.substr(slash2 + 1);
  try {
    if (type == kCollectorPrefix) return reconcileCollector(ns, name);
    return reconcileTargetAllocator(ns, name);
  } catch (const kube::ApiError& e) {
    log::warn("reconcile will be retried", {{"item", key}, {"code", std::to_string(e.code())}, {"error", e.what()}});
    return false;
  } catch (const kube::ConnectionError& e) {
    log::warn("reconcile will be retried", {{"item", key}, {"error", e.what()}});
    return false;
  }
}

std::optional<Json> Controller::cached(const std::string& kind, const std::string& ns, const std::string& name) const {
  kube::Informer* inf = nullptr;
  bool namespaced = true;
  {
    std::lock_guard lock(mu_);
    auto it = watched_.find(kind);
    if (it == watched_.end()) return std::nullopt;
    inf = it->second->forNs(ns);
    namespaced = it->second->id.namespaced;
  }
  if (!inf) return std::nullopt;
  return inf->get(namespaced ? ns : "", name);
}

std::vector<Json> Controller::ownedBy(const std::string& uid) const {
  std::vector<Json> out;
  if (uid.empty()) return out;
  std::lock_guard lock(mu_);
  for (const auto& [kind, w] : watched_) {
    if ((!w->owned && kind != "TargetAllocator") || !w->id.namespaced) continue;
    for (const auto& inf : w->informers)
      for (auto& o : inf->byIndex("owner", uid)) out.push_back(std::move(o));
  }
  return out;
}

void Controller::checkWrite() const {
  if (options_.mayWrite && !options_.mayWrite()) throw Error("not the leader: no write");
}

void Controller::countWrite(const std::string& verb) {
  ++writes_;
  (void)verb;
}

namespace {

// Applies a written object to the informer cache at once, so the next reconcile reads it (the watch
// event with the same resourceVersion is then a replay and dropped).
void applyToCache(kube::Informer* inf, const Json& written, kube::EventType type) {
  if (!inf || !written.is_object() || str(written, {"metadata", "resourceVersion"}).empty()) return;
  kube::WatchEvent ev;
  ev.type = type;
  ev.object = written;
  inf->applyLocalWrite(std::move(ev));
}

}  // namespace

Json Controller::ensure(const Json& desiredIn, const Json& owner, std::vector<std::string>& changes) {
  (void)owner;
  const std::string kind = str(desiredIn, {"kind"});
  const std::string ns = nsOf(desiredIn), name = nameOf(desiredIn);
  kube::ResourceId id;
  kube::Informer* inf = nullptr;
  bool watched = false;
  {
    std::lock_guard lock(mu_);
    auto it = watched_.find(kind);
    if (it != watched_.end()) {
      id = it->second->id;
      inf = it->second->forNs(ns);
      watched = inf != nullptr;
    }
  }
  if (!watched) id = client_.resourceFor(str(desiredIn, {"apiVersion"}), kind);
  std::optional<Json> stored;
  if (watched) {
    stored = inf->get(id.namespaced ? ns : "", name);
  } else {
    try {
      stored = client_.get(id, ns, name);
    } catch (const kube::ApiError& e) {
      if (!e.isNotFound()) throw;
    }
  }
  Change ch = planChange(stored ? &*stored : nullptr, desiredIn);
  if (ch.verb == Verb::None) return *stored;
  checkWrite();
  kube::WriteOptions wo;
  wo.fieldManager = options_.fieldManager;
  const std::string what = kind + " " + (ns.empty() ? name : ns + "/" + name);
  auto create = [&](const Json& obj) {
    Json res = client_.create(id, ns, obj, wo);
    countWrite("create");
    applyToCache(inf, res, kube::EventType::Added);
    return res;
  };
  Json result;
  switch (ch.verb) {
    case Verb::Create:
      try {
        result = create(ch.object);
      } catch (const kube::ApiError& e) {
        if (!e.isAlreadyExists()) throw;
        // not in the cache yet (or not ours): read it and plan again
        Json fresh = client_.get(id, ns, name);
        Change again = planChange(&fresh, desiredIn);
        if (again.verb == Verb::None) return fresh;
        if (again.verb == Verb::Recreate) {
          client_.remove(id, ns, name, background());
          countWrite("delete");
          result = create(again.object);
        } else {
          result = client_.update(id, ns, again.object, wo);
          countWrite("update");
          applyToCache(inf, result, kube::EventType::Modified);
        }
      }
      changes.push_back("Created " + what);
      break;
    case Verb::Update:
      try {
        result = client_.update(id, ns, ch.object, wo);
        countWrite("update");
        applyToCache(inf, result, kube::EventType::Modified);
        changes.push_back("Updated " + what);
      } catch (const kube::ApiError& e) {
        // an immutable field the plan did not foresee: delete and recreate, as upstream does
        std::string msg = e.what();
        if (!(e.isInvalid() && (msg.find("immutable") != std::string::npos || msg.find("Forbidden") != std::string::npos)))
          throw;
        log::info("recreating object", {{"object", what}, {"reason", msg}});
        client_.remove(id, ns, name, background());
        countWrite("delete");
        result = create(ch.object);
        changes.push_back("Recreated " + what);
      }
      break;
    case Verb::Recreate:
      log::info("recreating object", {{"object", what}, {"reason", ch.reason}});
      client_.remove(id, ns, name, background());
      countWrite("delete");
      if (inf && stored) {
        kube::WatchEvent ev;
        ev.type = kube::EventType::Deleted;
        ev.object = *stored;
        inf->applyLocalWrite(std::move(ev));
      }
      result = create(ch.object);
      changes.push_back("Recreated " + what + " (" + ch.reason + ")");
      break;
    case Verb::None:
      break;
  }
  log::info("reconciled object", {{"object", what}, {"action", verbName(ch.verb)}, {"reason", ch.reason}});
  return result;
}

void Controller::prune(const Json& owner, const std::vector<Json>& desired, std::vector<std::string>& changes) {
  std::set<std::string> want;
  for (const auto& d : desired) want.insert(objectKey(d));
  const std::string uid = str(owner, {"metadata", "uid"});
  std::vector<Json> owned = ownedBy(uid);
  std::vector<Json> configMaps;
  std::string currentCm;
  for (const auto& d : desired)
    if (str(d, {"kind"}) == "ConfigMap" && str(d, {"metadata", "labels", "app.kubernetes.io/component"}) == kCollectorComponent)
      currentCm = nameOf(d);
  // An account a desired workload runs as is kept though no longer built: a CR that comes to name the
  // account made for it as its own (spec.serviceAccount) would otherwise lose it under its pods.
  std::set<std::string> accountsInUse;
  for (const auto& d : desired)
    if (std::string sa = str(d, {"spec", "template", "spec", "serviceAccountName"}); !sa.empty()) accountsInUse.insert(sa);
  std::vector<Json> doomed;
  for (auto& o : owned) {
    if (want.count(objectKey(o))) continue;
    const std::string kind = str(o, {"kind"});
    if (kind == "ServiceAccount" && accountsInUse.count(nameOf(o))) continue;
    if (kind == "ConfigMap" && str(owner, {"kind"}) == api::kCollectorKind) {
      configMaps.push_back(o);
      continue;
    }
    doomed.push_back(o);
  }
  if (!configMaps.empty()) {
    if (!currentCm.empty()) {
      for (const auto& d : desired)
        if (nameOf(d) == currentCm) configMaps.push_back(d);
    }
    auto prunable = configMapsToPrune(configMaps, currentCm, api::integer(owner, {"spec", "configVersions"}, 3));
    std::set<std::string> p(prunable.begin(), prunable.end());
    for (auto& cm : configMaps)
      if (p.count(nameOf(cm)) && !str(cm, {"metadata", "uid"}).empty()) doomed.push_back(cm);
  }
  // cluster-scoped objects of this CR that are no longer desired
  if (str(owner, {"kind"}) == api::kCollectorKind) {
    std::string inst = str(owner, {"metadata", "namespace"}) + "." + nameOf(owner);
    std::lock_guard lock(mu_);
    for (const auto& [kind, w] : watched_) {
      if (!w->owned || w->id.namespaced) continue;
      for (const auto& inf : w->informers)
        for (auto& o : inf->byIndex("instance", std::string(kCollectorComponent) + "|" + inst))
          if (!want.count(objectKey(o))) doomed.push_back(o);
    }
  }
  for (const auto& o : doomed) {
    const std::string kind = str(o, {"kind"});
    kube::ResourceId id;
    kube::Informer* inf = nullptr;
    {
      std::lock_guard lock(mu_);
      auto it = watched_.find(kind);
      if (it == watched_.end()) continue;
      id = it->second->id;
      inf = it->second->forNs(nsOf(o));
    }
    checkWrite();
    try {
      kube::DeleteOptions dopt;
      dopt.propagationPolicy = "Background";
      client_.remove(id, nsOf(o), nameOf(o), dopt);
      countWrite("delete");
    } catch (const kube::ApiError& e) {
      if (!e.isNotFound()) throw;
    }
    if (inf) {
      kube::WatchEvent ev;
      ev.type = kube::EventType::Deleted;
      ev.object = o;
      inf->applyLocalWrite(std::move(ev));
    }
    std::string what = kind + " " + (nsOf(o).empty() ? nameOf(o) : nsOf(o) + "/" + nameOf(o));
    log::info("reconciled object", {{"object", what}, {"action", "delete"}, {"reason", "no longer desired"}});
    changes.push_back("Deleted " + what);
  }
}

void Controller::recordEvent(const Json& owner, const std::string& type, const std::string& reason,
                             const std::string& message) {
  if (options_.mayWrite && !options_.mayWrite()) return;
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  char suffix[20];
  std::snprintf(suffix, sizeof suffix, "%016llx", static_cast<unsigned long long>(rng()));
  std::string now = nowRfc3339();
  Json ev = {{"apiVersion", "v1"},
             {"kind", "Event"},
             {"metadata", {{"name", nameOf(owner) + "." + suffix}, {"namespace", nsOf(owner)}}},
             {"involvedObject",
              {{"apiVersion", str(owner, {"apiVersion"})},
               {"kind", str(owner, {"kind"})},
               {"name", nameOf(owner)},
               {"namespace", nsOf(owner)},
               {"uid", str(owner, {"metadata", "uid"})},
               {"resourceVersion", str(owner, {"metadata", "resourceVersion"})}}},
             {"reason", reason},
             {"message", message.size() > 1024 ? message.substr(0, 1021) + "..." : message},
             {"type", type},
             {"source", {{"component", "opentelemetry-operator"}}},
             {"firstTimestamp", now},
             {"lastTimestamp", now},
             {"count", 1},
             {"reportingComponent", "opentelemetry-operator"},
             {"reportingInstance", options_.identity}};
  try {
    client_.create(kube::ResourceId{"v1", "events", true, "Event"}, nsOf(owner), ev);
    countWrite("event");
  } catch (const std::exception& e) {
    log::warn("event not recorded", {{"reason", reason}, {"error", e.what()}});
  }
}

void Controller::patchStatus(const Json& cr, const kube::ResourceId& id, const Json& status) {
  const Json* old = api::at(cr, {"status"});
  if (old && semanticallyEqual(*old, status)) return;
  checkWrite();
  kube::PatchOptions po;
  po.fieldManager = options_.fieldManager;
  po.subresource = "status";
  Json res = client_.patch(id, nsOf(cr), nameOf(cr), kube::PatchType::Merge, Json{{"status", status}}, po);
  countWrite("status");
  kube::Informer* inf = nullptr;
  {
    std::lock_guard lock(mu_);
    auto it = watched_.find(id.kind);
    if (it != watched_.end()) inf = it->second->forNs(nsOf(cr));
  }
  applyToCache(inf, res, kube::EventType::Modified);
}

bool Controller::reconcileCollector(const std::string& ns, const std::string& name) {
  const std::string key = std::string(kCollectorPrefix) + ns + "/" + name;
  auto cr = cached(api::kCollectorKind, ns, name);
  if (!cr) {
    // Only for a namespace this process watches, once the collectors are listed: otherwise "not cached"
    // does not mean "gone" (another operator instance may own that namespace).
    {
      std::lock_guard lock(mu_);
      auto it = watched_.find(api::kCollectorKind);
      kube::Informer* inf = it == watched_.end() ? nullptr : it->second->forNs(ns);
      bool watchedNs = options_.namespaces.empty() ||
                       std::find(options_.namespaces.begin(), options_.namespaces.end(), ns) != options_.namespaces.end();
      if (!inf || !watchedNs || !inf->hasSynced()) return true;
    }
    // gone: its cluster-scoped objects (ClusterRole/Binding) have no owner reference to collect them
    std::vector<std::string> changes;
    Json ghost = {{"kind", api::kCollectorKind}, {"metadata", {{"namespace", ns}, {"name", name}}}};
    prune(ghost, {}, changes);
    std::lock_guard lock(mu_);
    lastError_.erase(key);
    return true;
  }
  const Json& c = *cr;
  bool deleting = api::has(c, {"metadata", "deletionTimestamp"});
  auto finalizers = api::strings(c, {"metadata", "finalizers"});
  bool hasFinalizer = std::find(finalizers.begin(), finalizers.end(), kCollectorFinalizer) != finalizers.end();
  if (deleting) {
    if (hasFinalizer) {
      std::vector<std::string> changes;
      prune(c, {}, changes);
      Json fins = Json::array();
      for (const auto& f : finalizers)
        if (f != kCollectorFinalizer) fins.push_back(f);
      checkWrite();
      Json patch = Json::array({{{"op", "test"}, {"path", "/metadata/resourceVersion"}, {"value", str(c, {"metadata", "resourceVersion"})}},
                                {{"op", "replace"}, {"path", "/metadata/finalizers"}, {"value", fins}}});
      client_.patch(kCollectors, ns, name, kube::PatchType::Json, patch);
      countWrite("finalizer");
      log::info("finalizer removed", {{"collector", ns + "/" + name}});
    }
    return true;
  }
  if (str(c, {"spec", "managementState"}) == "unmanaged") {
    log::info("Skipping reconciliation for unmanaged OpenTelemetryCollector resource", {{"collector", ns + "/" + name}});
    return true;
  }
  if (needsUpgrade(c, manifests::kCollectorVersion)) {
    // upstream's automatic upgrade: routines for versions after status.version, then the version
    UpgradeResult up = upgradeCollector(c, manifests::kCollectorVersion);
    if (!up.error.empty()) {
      log::warn("collector upgrade not possible", {{"collector", ns + "/" + name}, {"error", up.error}});
      recordEvent(c, "Warning", "Upgrade", kUpgradeFailed);
      return false;
    }
    for (const auto& w : up.warnings) recordEvent(c, "Warning", "Upgrade", w);
    checkWrite();
    Json cur = c;
    if (up.specChanged) {
      Json obj = up.collector;
      obj.erase("status");
      cur = client_.update(kCollectors, ns, obj);
      countWrite("update");
    }
    Json st = cur.contains("status") && cur["status"].is_object() ? cur["status"] : Json::object();
    st["version"] = up.collector["status"]["version"];
    patchStatus(cur, kCollectors, st);
    log::info("collector upgraded", {{"collector", ns + "/" + name}, {"from", str(c, {"status", "version"})},
                                     {"to", str(up.collector, {"status", "version"})}});
    queue_.addAfter(std::string(kCollectorPrefix) + ns + "/" + name, std::chrono::seconds(1));  // as upstream: requeue 1 s
    return true;
  }
  std::optional<Json> standalone;
  std::string link = str(c, {"metadata", "labels", api::kTargetAllocatorLabel});
  if (!link.empty()) standalone = cached("TargetAllocator", ns, link);
  manifests::Options build;
  {
    std::lock_guard lock(mu_);
    build = options_.build;
  }
  CollectorDesired d;
  try {
    d = desiredForCollector(c, standalone ? &*standalone : nullptr, build);
  } catch (const kube::ApiError&) {
    throw;
  } catch (const Error& e) {
    std::string msg = e.what();
    log::warn("collector cannot be built", {{"collector", ns + "/" + name}, {"error", msg}});
    bool repeat;
    {
      std::lock_guard lock(mu_);
      repeat = lastError_[key] == msg;
      lastError_[key] = msg;
    }
    if (!repeat) recordEvent(c, "Warning", "Error", msg);
    try {
      patchStatus(c, kCollectors, collectorStatus(c, nullptr, msg, manifests::kCollectorVersion, nowRfc3339()));
    } catch (const kube::ApiError& e) {
      // a CR the server's schema now refuses (stored before the CRD had the rule) takes no status
      // either; the event says why
      if (!e.isInvalid()) throw;
      log::warn("status not written", {{"collector", ns + "/" + name}, {"error", e.what()}});
    }
    return false;
  }
  {
    std::lock_guard lock(mu_);
    lastError_.erase(key);
  }
  if (d.needsFinalizer && !hasFinalizer) {
    checkWrite();
    Json patch = Json::array({{{"op", "test"}, {"path", "/metadata/resourceVersion"}, {"value", str(c, {"metadata", "resourceVersion"})}}});
    if (api::has(c, {"metadata", "finalizers"}))
      patch.push_back({{"op", "add"}, {"path", "/metadata/finalizers/-"}, {"value", kCollectorFinalizer}});
    else
      patch.push_back({{"op", "add"}, {"path", "/metadata/finalizers"}, {"value", Json::array({kCollectorFinalizer})}});
    Json res = client_.patch(kCollectors, ns, name, kube::PatchType::Json, patch);
    countWrite("finalizer");
    kube::Informer* inf = nullptr;
    {
      std::lock_guard lock(mu_);
      inf = watched_["OpenTelemetryCollector"]->forNs(ns);
    }
    applyToCache(inf, res, kube::EventType::Modified);
  }
  std::vector<std::string> changes;
  Json workload;
  for (const auto& obj : d.objects) {
    Json stored = ensure(obj, c, changes);
    std::string kind = str(obj, {"kind"});
    if (kind == "Deployment" || kind == "DaemonSet" || kind == "StatefulSet") workload = stored;
  }
  prune(c, d.objects, changes);
  for (const auto& ch : changes) {
    auto sp = ch.find(' ');
    recordEvent(c, "Normal", ch.substr(0, sp), ch.substr(sp + 1));
  }
  // spec.serviceAccount names an account the operator does not create: without it no pod can start
  std::string problem;
  if (std::string sa = str(d.effective, {"spec", "serviceAccount"}); !sa.empty() && str(d.effective, {"spec", "mode"}) != "sidecar") {
    try {
      client_.get(kube::ResourceId{"v1", "serviceaccounts", true, "ServiceAccount"}, ns, sa);
    } catch (const kube::ApiError& e) {
      if (!e.isNotFound()) throw;
      problem = "spec.serviceAccount: serviceaccount \"" + sa + "\" not found in namespace \"" + ns +
                "\": the collector's pods cannot be created until it exists";
    }
  }
  auto fresh = cached(api::kCollectorKind, ns, name);
  const Json& cur = fresh ? *fresh : c;
  patchStatus(cur, kCollectors,
              collectorStatus(cur, workload.is_null() ? nullptr : &workload, problem, manifests::kCollectorVersion, nowRfc3339()));
  if (!problem.empty()) {
    bool repeat;
    {
      std::lock_guard lock(mu_);
      repeat = lastError_[key] == problem;
      lastError_[key] = problem;
    }
    if (!repeat) recordEvent(cur, "Warning", "Error", problem);
    log::warn("collector cannot run", {{"collector", ns + "/" + name}, {"error", problem}});
    return false;  // retried with backoff: nothing tells us when the account appears
  }
  log::info("collector reconciled", {{"collector", ns + "/" + name}, {"changes", std::to_string(changes.size())}});
  return true;
}

bool Controller::reconcileTargetAllocator(const std::string& ns, const std::string& name) {
  auto ta = cached("TargetAllocator", ns, name);
  if (!ta) return true;  // gone (or never existed: a collector without one): owner references collect the rest
  const Json& t = *ta;
  if (api::has(t, {"metadata", "deletionTimestamp"})) return true;
  if (str(t, {"spec", "managementState"}) == "unmanaged") {
    log::info("Skipping reconciliation for unmanaged TargetAllocator resource", {{"targetallocator", ns + "/" + name}});
    return true;
  }
  // the collector it serves: its owner (generated), else the collector labelled with its name
  std::optional<Json> col;
  if (const Json* ref = controllerRef(t); ref && ref->value("kind", "") == api::kCollectorKind)
    col = cached(api::kCollectorKind, ns, ref->value("name", ""));
  if (!col) {
    std::lock_guard lock(mu_);
    if (auto* inf = watched_["OpenTelemetryCollector"]->forNs(ns)) {
      auto linked = inf->byIndex("ta", ns + "/" + name);
      if (!linked.empty()) col = linked.front();
    }
  }
  Json effective;
  if (col) {
    try {
      effective = effectiveCollector(*col);
    } catch (const Error& e) {
      log::warn("target allocator waits for its collector", {{"targetallocator", ns + "/" + name}, {"error", e.what()}});
      return true;  // the collector's own reconcile reports the error; its fix re-queues us
    }
  }
  manifests::Options build;
  {
    std::lock_guard lock(mu_);
    build = options_.build;
  }
  std::vector<Json> desired;
  try {
    desired = desiredForTargetAllocator(t, effective.is_null() ? nullptr : &effective, build);
  } catch (const Error& e) {
    recordEvent(t, "Warning", "Error", e.what());
    return false;
  }
  std::vector<std::string> changes;
  Json deployment;
  for (const auto& obj : desired) {
    Json stored = ensure(obj, t, changes);
    if (str(obj, {"kind"}) == "Deployment") deployment = stored;
  }
  prune(t, desired, changes);
  for (const auto& ch : changes) {
    auto sp = ch.find(' ');
    recordEvent(t, "Normal", ch.substr(0, sp), ch.substr(sp + 1));
  }
  patchStatus(t, kTargetAllocators,
              targetAllocatorStatus(t, deployment.is_null() ? nullptr : &deployment, manifests::kCollectorVersion));
  return true;
}

}  // namespace otel::controller
