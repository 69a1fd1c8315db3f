#include "lib/targetallocator/service.h"

#include <map>

#include <algorithm>
#include <chrono>
#include <mutex>

#include "lib/core/error.h"
#include "lib/core/gojson.h"
#include "lib/prom/target.h"

namespace otel::targetallocator {

namespace {

constexpr const char* kSecretKeys[] = {"password", "bearer_token", "credentials", "client_secret", "secret_key",
                                       "secret_access_key", "api_key", "private_key", "key_password"};

http::Response json(const Json& v, int status = 200) {
  // Go's encoder (sorted map keys, HTML-safe escapes) plus the trailing newline of json.Encoder.
  return {status, "application/json", goJsonMarshal(v) + "\n"};
}

std::string html(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

http::Response page(const std::string& title, const std::string& body) {
  return {200, "text/html; charset=utf-8",
          "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>" + html(title) +
              "</title><style>body{font-family:sans-serif}table{border-collapse:collapse}td,th{border:1px solid "
              "#ccc;padding:2px 8px;text-align:left}</style></head><body><h1>" +
              html(title) + "</h1>" + body + "</body></html>\n"};
}

}  // namespace

Json redactSecrets(const Json& v) {
  if (v.is_object()) {
    Json out = Json::object();
    for (auto it = v.begin(); it != v.end(); ++it) {
      bool secret = std::any_of(std::begin(kSecretKeys), std::end(kSecretKeys),
                                [&](const char* k) { return it.key() == k; });
      out[it.key()] = secret && it.value().is_string() && !it.value().get<std::string>().empty()
                          ? Json("<secret>")
                          : redactSecrets(it.value());
    }
    return out;
  }
  if (v.is_array()) {
    Json out = Json::array();
    for (const auto& e : v) out.push_back(redactSecrets(e));
    return out;
  }
  return v;
}

void Service::indexScrapeConfigs() {
  Json all = Json::object();
  jobNames_.clear();
  for (const auto& sc : config_.prom.scrapeConfigs) {
    jobNames_.push_back(sc.jobName);
    all[sc.jobName] = sc.raw;
  }
  scrapeConfigsSecret_ = goJsonMarshal(all) + "\n";
  scrapeConfigsRedacted_ = goJsonMarshal(redactSecrets(all)) + "\n";
  jobTargets_.assign(config_.prom.scrapeConfigs.size(), 0);
  jobDropped_.assign(config_.prom.scrapeConfigs.size(), 0);
  jobDroppedKept_.assign(config_.prom.scrapeConfigs.size(), 0);
  dropped_.clear();
  builders_.clear();
  builders_.reserve(config_.prom.scrapeConfigs.size());
  for (std::size_t j = 0; j < config_.prom.scrapeConfigs.size(); ++j)
    builders_.emplace_back(config_.prom.scrapeConfigs[j], static_cast<std::uint32_t>(j),
                           config_.filterStrategy == "relabel-config");
}

Service::Service(Config config) : config_(std::move(config)), allocator_(config_.strategy, config_.fallbackStrategy) {
  indexScrapeConfigs();
  auto begin = std::chrono::steady_clock::now();
  allocator_.setCollectors(config_.collectors);
  updateMetrics("SetCollectors", std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count());
  reloadTargets();
  // With collector discovery, ready once the first discovered set is applied (the pod informer synced).
  ready_ = !config_.discoverCollectors;
  targetsReady_ = true;
  for (const auto& sc : config_.prom.scrapeConfigs)
    if (!sc.kubernetesSdConfigs.empty()) targetsReady_ = false;  // until the first Kubernetes SD sync
  if (config_.prometheusCrEnabled) targetsReady_ = false;  // until the Prometheus CRs are first applied
}

void Service::reloadTargets(const std::vector<std::vector<prom::TargetGroup>>* kubernetes) {
  std::lock_guard reload(reloadMu_);  // one reload at a time (the reload loop and the discovery thread)
  const auto& jobs = config_.prom.scrapeConfigs;
  // Everything that may throw (file SD) before anything changes.
  std::vector<std::vector<prom::Target>> local(jobs.size()), whole(kubernetes ? jobs.size() : 0);
  std::vector<std::vector<prom::DroppedTarget>> localDropped(jobs.size()), wholeDropped(whole.size());
  for (std::size_t j = 0; j < jobs.size(); ++j) {
    const auto& b = builders_[j];
    for (const auto& g : jobs[j].staticConfigs) b.buildGroup(g.labels, g.targets, local[j], &localDropped[j]);
    for (const auto& g : prom::loadFileSd(jobs[j], config_.baseDir)) b.buildGroup(g.labels, g.targets, local[j], &localDropped[j]);
    if (kubernetes && j < kubernetes->size())
      for (const auto& g : (*kubernetes)[j]) b.buildGroup(g.labels, g.targets, whole[j], &wholeDropped[j]);
  }
  std::unique_lock lock(mu_);
  auto begin = std::chrono::steady_clock::now();
  for (std::size_t j = 0; j < jobs.size(); ++j)
    setSource({static_cast<std::uint32_t>(j), 0, 0, ""}, std::move(local[j]), std::move(localDropped[j]));
  if (kubernetes) {
    // The groups replace every Kubernetes SD target, the per-object ones included.
    for (const auto& key : kubernetesSources(false)) setSource(key, {});
    for (std::size_t j = 0; j < jobs.size(); ++j)
      setSource({static_cast<std::uint32_t>(j), 1, kWhole, ""}, std::move(whole[j]), std::move(wholeDropped[j]));
    targetsReady_ = true;
  }
  flush();
  updateMetrics("SetTargets", std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count());
}

void Service::setScrapeConfigs(prom::PromConfig prom, const std::function<void(const KubernetesSink&)>* kubernetes) {
  std::lock_guard reload(reloadMu_);
  // Everything that may throw (file SD) before anything changes; the builders read `prom` where it will
  // live (config_.prom), so they are made after the swap, from a list built here against the new jobs.
  std::vector<std::vector<prom::Target>> local(prom.scrapeConfigs.size());
  std::vector<std::vector<prom::DroppedTarget>> localDropped(local.size());
  {
    const bool filter = config_.filterStrategy == "relabel-config";
    for (std::size_t j = 0; j < prom.scrapeConfigs.size(); ++j) {
      prom::TargetBuilder b(prom.scrapeConfigs[j], static_cast<std::uint32_t>(j), filter);
      for (const auto& g : prom.scrapeConfigs[j].staticConfigs) b.buildGroup(g.labels, g.targets, local[j], &localDropped[j]);
      for (const auto& g : prom::loadFileSd(prom.scrapeConfigs[j], config_.baseDir))
        b.buildGroup(g.labels, g.targets, local[j], &localDropped[j]);
    }
  }
  std::unique_lock lock(mu_);
  auto begin = std::chrono::steady_clock::now();
  // Every source starts over against the new jobs; the allocator gets the new list whole (SetTargets:
  // identities it knows keep their collector).
  sources_.clear();
  owners_.clear();
  shared_.clear();
  ops_.clear();
  config_.prom = std::move(prom);
  indexScrapeConfigs();
  for (std::size_t j = 0; j < local.size(); ++j)
    setSource({static_cast<std::uint32_t>(j), 0, 0, ""}, std::move(local[j]), std::move(localDropped[j]));
  if (kubernetes) {
    (*kubernetes)([&](prom::KubernetesObjectUpdate&& u) { applyObject(std::move(u)); });
    targetsReady_ = true;
  }
  // ops_ now holds each identity's served target; listed in source order (a full rebuild's order).
  std::vector<prom::Target> targets;
  targets.reserve(ops_.size());
  for (const auto& [key, src] : sources_)
    for (auto h : src.hashes)
      if (auto it = ops_.find(h); it != ops_.end() && it->second) {
        targets.push_back(std::move(*it->second));
        it->second.reset();
      }
  ops_.clear();
  allocator_.setTargets(std::move(targets));
  updateMetrics("SetTargets", std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count());
}

void Service::setServing(bool serving) {
  std::unique_lock lock(mu_);
  serving_ = serving;
}

void Service::applyKubernetes(std::vector<prom::KubernetesObjectUpdate> updates) {
  applyKubernetes([&updates](const KubernetesSink& sink) {
    for (auto& u : updates) sink(std::move(u));
  });
}

void Service::applyKubernetes(const std::function<void(const KubernetesSink&)>& produce) {
  std::lock_guard reload(reloadMu_);
  std::unique_lock lock(mu_);
  auto begin = std::chrono::steady_clock::now();
  // Groups given whole earlier are replaced by the per-object targets.
  for (const auto& key : kubernetesSources(true)) setSource(key, {});
  produce([&](prom::KubernetesObjectUpdate&& u) { applyObject(std::move(u)); });
  flush();
  targetsReady_ = true;
  updateMetrics("SetTargets", std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count());
}

void Service::applyObject(prom::KubernetesObjectUpdate&& u) {
  if (u.job >= builders_.size()) return;
  std::vector<prom::Target> built;
  std::vector<prom::DroppedTarget> drops;
  if (!u.removed) builders_[u.job].buildObject(u.targets.group, u.targets.targets, built, &drops);
  setSource({u.job, 1, u.sdConfig, std::move(u.key)}, std::move(built), std::move(drops));
}

std::vector<Service::SourceKey> Service::kubernetesSources(bool whole) const {
  std::vector<SourceKey> out;
  auto pick = [&](const SourceKey& key) {
    if (std::get<1>(key) == 1 && (std::get<2>(key) == kWhole) == whole) out.push_back(key);
  };
  for (const auto& [key, src] : sources_) pick(key);
  for (const auto& [key, d] : dropped_)
    if (!sources_.count(key)) pick(key);
  return out;
}

void Service::setSource(const SourceKey& key, std::vector<prom::Target> targets, std::vector<prom::DroppedTarget> dropped) {
  const std::uint32_t job = std::get<0>(key);
  if (job < jobDropped_.size()) {
    if (auto d = dropped_.find(key); d != dropped_.end()) {
      jobDropped_[job] -= d->second.count;
      jobDroppedKept_[job] -= d->second.kept.size();
      dropped_.erase(d);
    }
    if (!dropped.empty()) {
      Dropped d;
      d.count = dropped.size();
      const std::size_t room = kDroppedKeptPerJob - std::min(kDroppedKeptPerJob, jobDroppedKept_[job]);
      if (dropped.size() > room) dropped.resize(room);
      dropped.shrink_to_fit();
      d.kept = std::move(dropped);
      jobDropped_[job] += d.count;
      jobDroppedKept_[job] += d.kept.size();
      dropped_.emplace(key, std::move(d));
    }
  }
  auto it = sources_.find(key);
  if (it == sources_.end()) {
    if (targets.empty()) return;
    it = sources_.emplace(key, Source{key, {}}).first;
  }
  replaceSource(it->second, std::move(targets));
  if (it->second.hashes.empty()) sources_.erase(it);
}

void Service::replaceSource(Source& s, std::vector<prom::Target> targets) {
  // One contribution per identity and source: a repeated identity keeps the last target (as buildTargets).
  std::vector<prom::Target> uniq;
  uniq.reserve(targets.size());
  {
    std::unordered_map<std::uint64_t, std::size_t> at;
    at.reserve(targets.size());
    for (auto& t : targets) {
      auto [it, fresh] = at.try_emplace(t.hash, uniq.size());
      if (fresh)
        uniq.push_back(std::move(t));
      else
        uniq[it->second] = std::move(t);
    }
  }
  std::vector<std::uint64_t> now;
  now.reserve(uniq.size());
  for (const auto& t : uniq) now.push_back(t.hash);
  std::vector<std::uint64_t> before = s.hashes, after = now;
  std::sort(before.begin(), before.end());
  std::sort(after.begin(), after.end());
  for (auto h : before)
    if (!std::binary_search(after.begin(), after.end(), h)) dropContribution(s, h);
  for (auto& t : uniq) {
    if (std::binary_search(before.begin(), before.end(), t.hash))
      updateContribution(s, std::move(t));
    else
      addContribution(s, std::move(t));
  }
  s.hashes = std::move(now);
}

namespace {
template <class List>
const prom::Target* winnerOf(const List& list, const void*& source) {
  // The last source in key order (a full rebuild's "last wins").
  const auto* best = &list.front();
  for (const auto& e : list)
    if (best->first->key < e.first->key) best = &e;
  source = best->first;
  return &best->second;
}
}  // namespace

const prom::Target* Service::current(std::uint64_t h) const {
  if (auto it = ops_.find(h); it != ops_.end()) return it->second ? &*it->second : nullptr;
  return allocator_.find(h);
}

void Service::put(prom::Target&& t) {
  const std::uint64_t h = t.hash;
  ops_[h] = std::move(t);
}

void Service::flush() {
  // The net change of the batch, as SetTargets applies a new list: gone identities removed first, then
  // the others added or (known) refreshed, keeping their collector.
  for (const auto& [h, op] : ops_)
    if (!op) allocator_.removeTarget(h);
  for (auto& [h, op] : ops_)
    if (op) allocator_.addTarget(std::move(*op));
  ops_.clear();
}

void Service::addContribution(const Source& s, prom::Target&& t) {
  const std::uint64_t h = t.hash;
  auto [it, fresh] = owners_.try_emplace(h, Owner{&s, 1});
  if (fresh) {
    if (t.job < jobTargets_.size()) ++jobTargets_[t.job];
    put(std::move(t));
    return;
  }
  auto& list = shared_[h];
  if (list.empty()) list.emplace_back(it->second.source, *current(h));
  list.emplace_back(&s, std::move(t));
  ++it->second.count;
  const void* src = nullptr;
  const prom::Target* w = winnerOf(list, src);
  if (src != it->second.source) {
    it->second.source = static_cast<const Source*>(src);
    put(prom::Target(*w));
  }
}

void Service::updateContribution(const Source& s, prom::Target&& t) {
  const std::uint64_t h = t.hash;
  Owner& o = owners_.at(h);
  if (o.count == 1) {
    put(std::move(t));  // known identity: labels refreshed, collector kept
    return;
  }
  for (auto& e : shared_[h])
    if (e.first == &s) e.second = std::move(t);
  if (o.source == &s)
    for (auto& e : shared_[h])
      if (e.first == &s) put(prom::Target(e.second));
}

void Service::dropContribution(const Source& s, std::uint64_t h) {
  auto it = owners_.find(h);
  if (it == owners_.end()) return;
  Owner& o = it->second;
  if (o.count == 1) {
    if (const auto* t = current(h); t && t->job < jobTargets_.size()) --jobTargets_[t->job];
    owners_.erase(it);
    ops_[h] = std::nullopt;
    return;
  }
  auto& list = shared_[h];
  std::erase_if(list, [&](const auto& e) { return e.first == &s; });
  --o.count;
  const void* src = nullptr;
  const prom::Target* w = winnerOf(list, src);
  if (src != o.source) {
    o.source = static_cast<const Source*>(src);
    put(prom::Target(*w));
  }
  if (o.count == 1) shared_.erase(h);
}

std::map<std::uint64_t, int> Service::assignments() const {
  std::shared_lock lock(mu_);
  std::map<std::uint64_t, int> out;
  allocator_.forEach([&](const prom::Target& t, int c) { out[t.hash] = c; });
  return out;
}

std::vector<prom::Target> Service::targetList() const {
  std::shared_lock lock(mu_);
  std::vector<prom::Target> out;
  allocator_.forEach([&](const prom::Target& t, int) { out.push_back(t); });
  std::sort(out.begin(), out.end(), [](const prom::Target& a, const prom::Target& b) { return a.hash < b.hash; });
  return out;
}

void Service::setCollectors(std::vector<allocation::Collector> collectors) {
  std::unique_lock lock(mu_);
  auto begin = std::chrono::steady_clock::now();
  allocator_.setCollectors(std::move(collectors));
  updateMetrics("SetCollectors", std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count());
  ready_ = true;
}

std::size_t Service::targetCount() const {
  std::shared_lock lock(mu_);
  return allocator_.targetCount();
}

void Service::updateMetrics(const char* method, double seconds) {
  // Caller holds mu_ (or is the constructor).
  const std::string strategy(allocation::strategyName(config_.strategy));
  registry_.observe("opentelemetry_allocator_time_to_allocate", "The time it takes to allocate",
                    {{"method", method}, {"strategy", strategy}}, seconds);
  registry_.resetGauge("opentelemetry_allocator_targets_per_collector");
  for (std::size_t i = 0; i < allocator_.collectors().size(); ++i)
    registry_.setGauge("opentelemetry_allocator_targets_per_collector", "The number of targets for each collector.",
                       {{"collector_name", allocator_.collectors()[i].name}, {"strategy", strategy}},
                       static_cast<double>(allocator_.load(static_cast<int>(i))));
  registry_.setGauge("opentelemetry_allocator_collectors_allocatable", "Number of collectors the allocator is able to allocate to.",
                     {{"strategy", strategy}}, static_cast<double>(allocator_.collectors().size()));
  registry_.setGauge("opentelemetry_allocator_collectors_discovered", "Number of collectors discovered.", {},
                     static_cast<double>(allocator_.collectors().size()));
  registry_.setGauge("opentelemetry_allocator_targets_unassigned", "Number of targets that could not be assigned.", {},
                     static_cast<double>(allocator_.unassignedCount()));
  const std::vector<std::size_t>& perJob = jobTargets_;  // kept by the contributions
  registry_.resetGauge("opentelemetry_allocator_targets");
  for (std::size_t j = 0; j < jobNames_.size(); ++j)
    registry_.setGauge("opentelemetry_allocator_targets", "Number of targets discovered.", {{"job_name", jobNames_[j]}},
                       static_cast<double>(perJob[j]));
}

int Service::jobIndex(const std::string& job) const {
  for (std::size_t j = 0; j < jobNames_.size(); ++j)
    if (jobNames_[j] == job) return static_cast<int>(j);
  return -1;
}

http::Response Service::jobs(bool asHtml) const {
  std::shared_lock lock(mu_);
  std::vector<std::size_t> counts(jobNames_.size(), 0);
  allocator_.forEach([&](const prom::Target& t, int) {
    if (t.job < counts.size()) ++counts[t.job];
  });
  if (asHtml) {
    std::string body = "<table><tr><th>Job</th><th>Target Count</th></tr>";
    for (std::size_t j = 0; j < jobNames_.size(); ++j)
      if (counts[j])
        body += "<tr><td><a href=\"/jobs/" + html(http::queryEscape(jobNames_[j])) + "/targets\">" + html(jobNames_[j]) +
                "</a></td><td>" + std::to_string(counts[j]) + "</td></tr>";
    return page("OpenTelemetry Target Allocator - Jobs", body + "</table>");
  }
  Json out = Json::object();
  for (std::size_t j = 0; j < jobNames_.size(); ++j)
    if (counts[j]) out[jobNames_[j]] = {{"_link", "/jobs/" + http::queryEscape(jobNames_[j]) + "/targets"}};
  return json(out);
}

http::Response Service::targets(const std::string& job, const std::string* collector, bool asHtml) const {
  std::shared_lock lock(mu_);
  int j = jobIndex(job);
  if (asHtml && !collector) {
    // Every discovered target of the job: kept (with its collector) or dropped (with the rule that did it).
    constexpr std::size_t kRows = 2000;
    std::vector<std::pair<std::string, std::string>> kept;  // address, collector
    allocator_.forEach([&](const prom::Target& t, int c) {
      if (static_cast<int>(t.job) == j)
        kept.emplace_back(std::string(t.address()), c >= 0 ? allocator_.collectors()[c].name : "(unassigned)");
    });
    std::sort(kept.begin(), kept.end());
    std::string body = "<p>" + std::to_string(kept.size()) + " targets kept, " +
                       std::to_string(j >= 0 ? jobDropped_[j] : 0) + " dropped by relabeling. " +
                       "Collectors read <a href=\"/jobs/" + html(http::queryEscape(job)) +
                       "/targets?collector_id=\">/jobs/" + html(job) + "/targets?collector_id=NAME</a>.</p>";
    body += "<h2>Kept</h2><table><tr><th>Target</th><th>Collector</th></tr>";
    for (std::size_t i = 0; i < kept.size() && i < kRows; ++i)
      body += "<tr><td>" + html(kept[i].first) + "</td><td>" + html(kept[i].second) + "</td></tr>";
    body += "</table>";
    if (kept.size() > kRows) body += "<p>... and " + std::to_string(kept.size() - kRows) + " more</p>";
    body += "<h2>Dropped</h2><table><tr><th>Target</th><th>Why</th></tr>";
    std::size_t shown = 0;
    if (j >= 0)
      for (auto it = dropped_.lower_bound({static_cast<std::uint32_t>(j), 0, 0, ""});
           it != dropped_.end() && std::get<0>(it->first) == static_cast<std::uint32_t>(j); ++it)
        for (const auto& d : it->second.kept)
          if (shown < kRows) {
            ++shown;
            body += "<tr><td>" + html(d.address) + "</td><td>" + html(prom::dropReason(config_.prom.scrapeConfigs[j], d)) + "</td></tr>";
          }
    body += "</table>";
    if (j >= 0 && jobDropped_[j] > shown) body += "<p>... and " + std::to_string(jobDropped_[j] - shown) + " more</p>";
    body += "<p><a href=\"/\">Overview</a> · <a href=\"/jobs\">Jobs</a></p>";
    return page("OpenTelemetry Target Allocator - " + job, body);
  }
  // Upstream's targetJSON is a Go struct: fields in declaration order ("targets", then "labels").
  auto listFor = [&](int c) {
    std::vector<const prom::Target*> ts;
    if (j >= 0)
      for (const auto* t : allocator_.targetsOf(c))
        if (static_cast<int>(t->job) == j) ts.push_back(t);
    std::sort(ts.begin(), ts.end(), [](const prom::Target* a, const prom::Target* b) {
      return a->address() != b->address() ? a->address() < b->address() : a->hash < b->hash;
    });
    std::string out = "[";
    for (std::size_t i = 0; i < ts.size(); ++i) {
      if (i) out += ",";
      out += "{\"targets\":" + goJsonMarshal(Json::array({std::string(ts[i]->address())})) +
             ",\"labels\":" + goJsonMarshal(ts[i]->labels.toJson()) + "}";
    }
    return out + "]";
  };
  if (collector) return {200, "application/json", listFor(allocator_.collectorIndex(*collector)) + "\n"};
  // map[string]collectorJSON: keys sorted (collectors are kept in name order), fields "_link", "targets".
  std::string out = "{";
  for (std::size_t c = 0; c < allocator_.collectors().size(); ++c) {
    const auto& name = allocator_.collectors()[c].name;
    if (c) out += ",";
    out += goJsonMarshal(Json(name)) + ":{\"_link\":" +
           goJsonMarshal(Json("/debug/jobs/" + http::queryEscape(job) + "/targets?collector_id=" + name)) +
           ",\"targets\":" + listFor(static_cast<int>(c)) + "}";
  }
  return {200, "application/json", out + "}\n"};
}

http::Response Service::dropped(std::size_t limit) const {
  std::shared_lock lock(mu_);
  std::map<std::string, Json> byJob;
  for (const auto& [key, list] : dropped_) {
    const std::uint32_t j = std::get<0>(key);
    if (j >= jobNames_.size()) continue;
    Json& entry = byJob[jobNames_[j]];
    if (entry.is_null()) entry = Json::array();
    for (const auto& d : list.kept) {
      if (entry.size() >= limit) break;
      entry.push_back({{"target", d.address}, {"reason", prom::dropReason(config_.prom.scrapeConfigs[j], d)}});
    }
  }
  Json out = Json::object();
  for (auto& [job, list] : byJob) {
    const std::size_t total = jobDropped_[static_cast<std::size_t>(jobIndex(job))];
    const std::size_t more = total > list.size() ? total - list.size() : 0;
    if (more) out[job] = {{"targets", std::move(list)}, {"_more", more}};
    else out[job] = std::move(list);
  }
  return json(out);
}

http::Response Service::unassigned() const {
  std::shared_lock lock(mu_);
  std::map<std::string, std::vector<std::pair<std::string, std::string>>> byJob;
  const bool perNode = config_.strategy == allocation::Strategy::PerNode;
  allocator_.forEach([&](const prom::Target& t, int c) {
    if (c >= 0) return;
    std::string reason;
    if (allocator_.collectors().empty()) {
      reason = config_.discoverCollectors ? "no ready collector pod" : "no collector";
    } else if (perNode) {
      auto node = allocation::targetNodeName(t.labels);
      reason = node.empty() ? "per-node: the target has no node name label and no fallback strategy"
                            : "per-node: no collector on node " + std::string(node);
    } else {
      reason = "not assigned";
    }
    std::string job = t.job < jobNames_.size() ? jobNames_[t.job] : "";
    byJob[job].emplace_back(std::string(t.address()), std::move(reason));
  });
  Json out = Json::object();
  for (auto& [job, list] : byJob) {
    std::sort(list.begin(), list.end());
    Json arr = Json::array();
    for (auto& [target, reason] : list) arr.push_back({{"target", target}, {"reason", reason}});
    out[job] = std::move(arr);
  }
  return {200, "application/json", out.dump() + "\n"};
}

http::Response Service::scrapeConfigs(bool tls, bool asHtml) const {
  std::shared_lock lock(mu_);
  const std::string& body = (tls || config_.allowInsecureAuthSecrets) ? scrapeConfigsSecret_ : scrapeConfigsRedacted_;
  if (asHtml) {
    Json all = Json::parse(scrapeConfigsRedacted_);
    std::string rows = "<table><tr><th>Job</th><th>Scrape Config</th></tr>";
    for (auto it = all.begin(); it != all.end(); ++it)
      rows += "<tr><td>" + html(it.key()) + "</td><td><pre>" + html(it.value().dump(2)) + "</pre></td></tr>";
    return page("OpenTelemetry Target Allocator - Scrape Configs", rows + "</table>");
  }
  return {200, "application/json", body};
}

http::Response Service::livez() const { return {200, "text/plain", ""}; }

http::Response Service::readyz() const {
  std::shared_lock lock(mu_);
  return ready_ && targetsReady_ && serving_ ? http::Response{200, "text/plain", ""} : http::Response{503, "text/plain", ""};
}

http::Response Service::metrics() const { return {200, "text/plain; version=0.0.4; charset=utf-8", registry_.render()}; }

http::Response Service::index() const {
  std::shared_lock lock(mu_);
  auto loads = allocator_.loads();
  std::size_t total = allocator_.targetCount();
  double mean = loads.empty() ? 0 : static_cast<double>(total) / static_cast<double>(loads.size());
  std::size_t mx = loads.empty() ? 0 : *std::max_element(loads.begin(), loads.end());
  char spread[32];
  std::snprintf(spread, sizeof spread, "%.3f", mean > 0 ? static_cast<double>(mx) / mean : 0.0);
  std::string body = "<p>Strategy <b>" + std::string(allocation::strategyName(config_.strategy)) + "</b>, " +
                     std::to_string(total) + " targets, " + std::to_string(jobNames_.size()) + " jobs, " +
                     std::to_string(loads.size()) + " collectors, " + std::to_string(allocator_.unassignedCount()) +
                     " unassigned, spread (max/mean) " + spread + "</p>";
  if (config_.discoverCollectors)
    body += "<p>Collectors: pods in namespace <b>" + html(config_.collectorNamespace) + "</b> matching <code>" +
            html(config_.collectorLabelSelector.empty() ? "(every pod)" : config_.collectorLabelSelector) + "</code>" +
            (ready_ ? "" : " (not synced yet)") + "</p>";
  body += "<table><tr><th>Collector</th><th>Node</th><th>Job Count</th><th>Target Count</th></tr>";
  for (std::size_t c = 0; c < loads.size(); ++c) {
    std::vector<char> jobs(jobNames_.size(), 0);
    for (const auto* t : allocator_.targetsOf(static_cast<int>(c)))
      if (t->job < jobs.size()) jobs[t->job] = 1;
    body += "<tr><td>" + html(allocator_.collectors()[c].name) + "</td><td>" + html(allocator_.collectors()[c].node) +
            "</td><td>" +
            std::to_string(std::count(jobs.begin(), jobs.end(), 1)) + "</td><td>" + std::to_string(loads[c]) +
            "</td></tr>";
  }
  body += "</table><h2>Jobs</h2><table><tr><th>Job</th><th>Targets</th><th>Dropped by relabeling</th></tr>";
  std::vector<std::size_t> counts(jobNames_.size(), 0);
  allocator_.forEach([&](const prom::Target& t, int) {
    if (t.job < counts.size()) ++counts[t.job];
  });
  for (std::size_t j = 0; j < jobNames_.size(); ++j)
    body += "<tr><td><a href=\"/jobs/" + html(http::queryEscape(jobNames_[j])) + "/targets\">" + html(jobNames_[j]) +
            "</a></td><td>" + std::to_string(counts[j]) + "</td><td>" + std::to_string(jobDropped_[j]) + "</td></tr>";
  body += "</table><p><a href=\"/scrape_configs\">Scrape configs</a> · <a href=\"/dropped\">Dropped targets</a> · "
          "<a href=\"/metrics\">Metrics</a></p>";
  return page("OpenTelemetry Target Allocator", body);
}

void registerRoutes(http::Server& server, Service& s) {
  auto wantsHtml = [](const http::Request& r) { return r.header("accept").find("text/html") != std::string::npos; };
  server.onRequest([&s](const std::string& route, double secs) {
    s.registry().observe("opentelemetry_allocator_http_duration_seconds", "Duration of received HTTP requests.",
                         {{"path", route}}, secs);
  });
  server.get("/", [&s](const http::Request&) { return s.index(); });
  server.get("/livez", [&s](const http::Request&) { return s.livez(); });
  server.get("/unassigned", [&s](const http::Request&) { return s.unassigned(); });
  server.get("/dropped", [&s](const http::Request&) { return s.dropped(); });
  server.get("/readyz", [&s](const http::Request&) { return s.readyz(); });
  server.get("/metrics", [&s](const http::Request&) { return s.metrics(); });
  server.get("/scrape_configs", [&s, wantsHtml](const http::Request& r) { return s.scrapeConfigs(r.tls, wantsHtml(r)); });
  server.get("/jobs", [&s, wantsHtml](const http::Request& r) { return s.jobs(wantsHtml(r)); });
  server.get(R"(/jobs/(.+)/targets)", [&s, wantsHtml](const http::Request& r) {
    std::string job = r.matches.size() > 1 ? r.matches[1] : "";
    bool has = false;
    std::string collector = r.param("collector_id", &has);
    return s.targets(job, has ? &collector : nullptr, wantsHtml(r));
  });
}

}  // namespace otel::targetallocator
