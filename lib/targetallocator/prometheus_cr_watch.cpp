#include "lib/targetallocator/prometheus_cr_watch.h"

#include <algorithm>
#include <condition_variable>
#include <map>
#include <optional>
#include <thread>

#include "lib/core/log.h"

namespace otel::targetallocator {

namespace {

const kube::ResourceId kServiceMonitors{"monitoring.coreos.com/v1", "servicemonitors", true, "ServiceMonitor"};
const kube::ResourceId kPodMonitors{"monitoring.coreos.com/v1", "podmonitors", true, "PodMonitor"};
const kube::ResourceId kProbes{"monitoring.coreos.com/v1", "probes", true, "Probe"};
const kube::ResourceId kScrapeConfigs{"monitoring.coreos.com/v1alpha1", "scrapeconfigs", true, "ScrapeConfig"};
const kube::ResourceId kNamespaces{"v1", "namespaces", false, "Namespace"};
const kube::ResourceId kSecrets{"v1", "secrets", true, "Secret"};

bool restricts(const Json& namespaceSelector) { return !(namespaceSelector.is_object() && namespaceSelector.empty()); }

}  // namespace

PromCrWatch::PromCrWatch(kube::Client& client, PrometheusCrConfig config, std::string ownNamespace,
                         std::chrono::milliseconds discoveryInterval)
    : client_(client), config_(std::move(config)), ownNamespace_(std::move(ownNamespace)), discoveryInterval_(discoveryInterval) {}

PromCrWatch::~PromCrWatch() = default;

void PromCrWatch::start(const kube::ResourceId& id, const std::string& ns, bool blocksSync, std::vector<std::jthread>& threads,
                        std::stop_token stop) {
  auto s = std::make_unique<Source>();
  s->kind = id.kind;
  s->ns = ns;
  s->blocksSync = blocksSync;
  kube::InformerOptions io;
  io.ns = ns;
  io.transform = kube::stripManagedFields;
  s->informer = std::make_unique<kube::Informer>(client_, id, io);
  auto bump = [this] { ++events_; };
  s->informer->addHandlers({[bump](const Json&) { bump(); }, [bump](const Json&, const Json&) { bump(); },
                            [bump](const Json&) { bump(); }});
  kube::Informer* inf = s->informer.get();
  {
    std::lock_guard lock(mu_);
    sources_.push_back(std::move(s));
  }
  threads.emplace_back([inf, stop] { inf->run(stop); });
}

void PromCrWatch::run(std::stop_token stop) {
  std::vector<std::jthread> threads;
  if (restricts(config_.serviceMonitorNamespaceSelector) || restricts(config_.podMonitorNamespaceSelector) ||
      restricts(config_.probeNamespaceSelector) || restricts(config_.scrapeConfigNamespaceSelector))
    start(kNamespaces, "", true, threads, stop);
  std::vector<std::string> secretNs = config_.secretNamespaces;
  if (secretNs.empty()) secretNs.push_back(ownNamespace_);
  for (const auto& ns : secretNs) start(kSecrets, ns, false, threads, stop);
  std::vector<std::string> monitorNs = config_.allowNamespaces;
  if (monitorNs.empty()) monitorNs.push_back("");  // every namespace (deny_namespaces filtered when generating)
  std::mutex m;
  std::condition_variable_any cv;
  while (!stop.stop_requested()) {
    std::vector<std::string> resources;  // "<apiVersion>/<plural>"
    bool answered = false;
    for (const char* gv : {"monitoring.coreos.com/v1", "monitoring.coreos.com/v1alpha1"}) {
      try {
        auto r = client_.request({"GET", std::string("/apis/") + gv, "", "", "application/json"});
        if (r.status == 200) {
          answered = true;
          Json list = Json::parse(r.body, nullptr, false);
          if (list.is_object() && list.contains("resources") && list["resources"].is_array())
            for (const auto& res : list["resources"])
              if (res.is_object() && res.contains("name") && res["name"].is_string())
                resources.push_back(std::string(gv) + "/" + res["name"].get<std::string>());
        } else if (r.status == 404) {
          answered = true;  // the CRDs are not installed (yet)
        }
      } catch (const std::exception& e) {
        log::warn("prometheus CR discovery failed; retrying", {{"error", e.what()}});
      }
    }
    for (const auto* id : {&kServiceMonitors, &kPodMonitors, &kProbes, &kScrapeConfigs}) {
      bool served = std::find(resources.begin(), resources.end(), id->apiVersion + "/" + id->resource) != resources.end();
      bool started;
      {
        std::lock_guard lock(mu_);
        started = std::find(served_.begin(), served_.end(), id->kind) != served_.end();
        if (served && !started) served_.push_back(id->kind);
      }
      if (served && !started) {
        log::info("watching prometheus CRs", {{"kind", id->kind}});
        for (const auto& ns : monitorNs) start(*id, ns, true, threads, stop);
        ++events_;
      }
    }
    if (answered) {
      std::lock_guard lock(mu_);
      discovered_ = true;
    }
    std::unique_lock lock(m);
    cv.wait_for(lock, stop, discoveryInterval_, [] { return false; });
  }
}

bool PromCrWatch::synced() const {
  std::lock_guard lock(mu_);
  if (!discovered_) return false;
  for (const auto& s : sources_)
    if (s->blocksSync && !s->informer->hasSynced()) return false;
  return true;
}

PromCrScrapeConfigs PromCrWatch::scrapeConfigs(const std::vector<std::string>& staticJobs) const {
  prom::ObjectMap serviceMonitors, podMonitors, probes, scrapeConfigs, namespaces;
  {
    std::lock_guard lock(mu_);
    for (const auto& s : sources_) {
      if (s->kind == "Secret") continue;  // watched only to regenerate on a change; read below
      prom::ObjectMap& into = s->kind == "ServiceMonitor" ? serviceMonitors
                              : s->kind == "PodMonitor"   ? podMonitors
                              : s->kind == "Probe"        ? probes
                              : s->kind == "ScrapeConfig" ? scrapeConfigs
                                                          : namespaces;
      for (auto& obj : s->informer->list()) {
        std::string key = kube::Informer::keyOf(obj);
        into[std::move(key)] = std::move(obj);
      }
    }
  }
  // Secrets are read when a monitor needs one (once per generation), from the monitor's namespace, as
  // prometheus-operator's asset store reads them; a Secret that cannot be read skips that monitor.
  std::map<std::string, std::optional<Json>> read;
  auto secret = [&](const std::string& ns, const std::string& name) -> std::optional<Json> {
    auto [it, fresh] = read.try_emplace(ns + "/" + name);
    if (fresh) try {
        it->second = client_.get(kSecrets, ns, name);
      } catch (const std::exception&) {
        it->second = std::nullopt;  // not found or forbidden: the monitor is skipped with its reason
      }
    return it->second;
  };
  PromCrObjects o{&serviceMonitors, &podMonitors, &probes, &scrapeConfigs, &namespaces, secret};
  return promCrScrapeConfigs(config_, o, staticJobs);
}

}  // namespace otel::targetallocator
