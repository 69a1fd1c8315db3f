#include "lib/kube/informer.h"

#include <optional>
#include <random>
#include <stdexcept>
#include <thread>

#include "lib/core/log.h"
#include "lib/kube/rate_limiter.h"

namespace otel::kube {

namespace {

std::string metaString(const Json& obj, const char* key) {
  if (!obj.is_object()) return {};
  auto m = obj.find("metadata");
  if (m == obj.end() || !m->is_object()) return {};
  auto v = m->find(key);
  return v != m->end() && v->is_string() ? v->get<std::string>() : std::string();
}

}  // namespace

void stripManagedFields(Json& object) {
  if (!object.is_object()) return;
  auto m = object.find("metadata");
  if (m != object.end() && m->is_object()) m->erase("managedFields");
}

std::string Informer::keyOf(const Json& object) {
  std::string ns = metaString(object, "namespace");
  std::string name = metaString(object, "name");
  return ns.empty() ? name : ns + "/" + name;
}

Informer::Informer(Client& client, ResourceId resource, InformerOptions options)
    : client_(client), resource_(std::move(resource)), options_(std::move(options)) {}

Informer::~Informer() = default;

void Informer::addHandlers(EventHandlers handlers) { handlers_.push_back(std::move(handlers)); }

void Informer::addIndexer(const std::string& name, IndexFunc fn) {
  std::lock_guard lock(mu_);
  indexers_[name] = std::move(fn);
  for (auto& [key, c] : items_)
    for (auto& v : indexers_[name](unpack(c))) {
      indices_[name][v].insert(key);
      indexValues_[name][key].push_back(v);
    }
}

void Informer::storeLocked(const std::string& key, const Json& obj) {
  eraseLocked(key);
  Cached& c = items_[key];
  c.object = options_.compact ? Json::binary(Json::to_msgpack(obj)) : obj;
  c.resourceVersion = metaString(obj, "resourceVersion");
  for (auto& [name, fn] : indexers_) {
    auto values = fn(obj);
    for (auto& v : values) indices_[name][v].insert(key);
    indexValues_[name][key] = std::move(values);
  }
}

Json Informer::unpack(const Cached& c) const {
  return options_.compact ? Json::from_msgpack(c.object.get_binary()) : c.object;
}

void Informer::eraseLocked(const std::string& key) {
  items_.erase(key);
  for (auto& [name, byKey] : indexValues_) {
    auto it = byKey.find(key);
    if (it == byKey.end()) continue;
    for (auto& v : it->second) {
      auto& set = indices_[name][v];
      set.erase(key);
      if (set.empty()) indices_[name].erase(v);
    }
    byKey.erase(it);
  }
}

void Informer::dispatch(const std::vector<Change>& changes) {
  for (auto& c : changes)
    for (auto& h : handlers_) {
      switch (c.kind) {
        case Change::Add:
          if (h.onAdd) h.onAdd(c.newObj);
          break;
        case Change::Update:
          if (h.onUpdate) h.onUpdate(c.oldObj, c.newObj);
          break;
        case Change::Delete:
          if (h.onDelete) h.onDelete(c.oldObj);
          break;
      }
    }
}

// A relist: the new state replaces the cache; only real differences become events, so nothing is
// delivered twice and deletions missed while disconnected are reported with the last known state.
void Informer::replace(Json items, const std::string& rv) {
  std::lock_guard d(dispatchMu_);
  std::vector<Change> changes;
  {
    std::lock_guard lock(mu_);
    std::set<std::string> seen;
    for (auto& obj : items) {
      if (options_.transform) options_.transform(obj);
      std::string key = keyOf(obj);
      seen.insert(key);
      auto it = items_.find(key);
      if (it == items_.end()) {
        changes.push_back({Change::Add, nullptr, obj});
        storeLocked(key, obj);
      } else if (it->second.resourceVersion != metaString(obj, "resourceVersion")) {
        changes.push_back({Change::Update, unpack(it->second), obj});
        storeLocked(key, obj);
      }
    }
    std::vector<std::string> gone;
    for (auto& [key, c] : items_)
      if (!seen.count(key)) gone.push_back(key);
    for (auto& key : gone) {
      changes.push_back({Change::Delete, unpack(items_[key]), nullptr});
      eraseLocked(key);
    }
    lastRv_ = rv;
    synced_ = true;
  }
  syncedCv_.notify_all();
  dispatch(changes);
}

namespace {

// Decimal resourceVersions compared as numbers; nullopt when either is not decimal.
std::optional<bool> newerRv(const std::string& a, const std::string& b) {
  auto decimal = [](const std::string& s) {
    return !s.empty() && s.size() < 20 && s.find_first_not_of("0123456789") == std::string::npos;
  };
  if (!decimal(a) || !decimal(b)) return std::nullopt;
  return std::stoull(a) > std::stoull(b);
}

}  // namespace

bool Informer::applyLocalWrite(WatchEvent&& ev) {
  if (options_.transform) options_.transform(ev.object);
  std::lock_guard d(dispatchMu_);
  std::vector<Change> changes;
  {
    std::lock_guard lock(mu_);
    std::string key = keyOf(ev.object);
    std::string rv = ev.resourceVersion();
    auto it = items_.find(key);
    if (ev.type == EventType::Deleted) {
      if (it == items_.end()) return false;
      auto older = newerRv(rv, it->second.resourceVersion);
      if (!older || (!*older && rv != it->second.resourceVersion)) return false;
      changes.push_back({Change::Delete, unpack(it->second), nullptr});
      eraseLocked(key);
    } else if (it == items_.end()) {
      changes.push_back({Change::Add, nullptr, ev.object});
      storeLocked(key, ev.object);
    } else {
      auto newer = newerRv(rv, it->second.resourceVersion);
      if (!newer || !*newer) return false;
      changes.push_back({Change::Update, unpack(it->second), ev.object});
      storeLocked(key, ev.object);
    }
  }
  dispatch(changes);
  return true;
}

bool Informer::applyEvent(WatchEvent&& ev) {
  if (ev.type == EventType::Bookmark) {
    std::lock_guard lock(mu_);
    std::string rv = ev.resourceVersion();
    if (!rv.empty()) lastRv_ = rv;
    return true;
  }
  if (options_.transform) options_.transform(ev.object);
  std::lock_guard d(dispatchMu_);
  std::vector<Change> changes;
  {
    std::lock_guard lock(mu_);
    std::string key = keyOf(ev.object);
    std::string rv = ev.resourceVersion();
    auto it = items_.find(key);
    if (ev.type == EventType::Deleted) {
      if (it != items_.end()) {
        changes.push_back({Change::Delete, ev.object, nullptr});
        eraseLocked(key);
      }
    } else if (it == items_.end()) {
      changes.push_back({Change::Add, nullptr, ev.object});
      storeLocked(key, ev.object);
    } else if (it->second.resourceVersion != rv) {
      changes.push_back({Change::Update, unpack(it->second), ev.object});
      storeLocked(key, ev.object);
    }  // same resourceVersion: a replay of what we have, not an event
    if (!rv.empty()) lastRv_ = rv;
  }
  dispatch(changes);
  return true;
}

// One object at a time, not the cache copied: the cache changes only under dispatchMu_, held here, so
// its entries stay put while the handlers (which may read the cache) run.
void Informer::resync() {
  std::lock_guard d(dispatchMu_);
  std::vector<std::string> keys;
  {
    std::lock_guard lock(mu_);
    keys.reserve(items_.size());
    for (auto& [key, c] : items_) keys.push_back(key);
  }
  for (const auto& key : keys) {
    Json obj;
    {
      std::lock_guard lock(mu_);
      auto it = items_.find(key);
      if (it == items_.end()) continue;
      obj = unpack(it->second);
    }
    for (auto& h : handlers_)
      if (h.onUpdate) h.onUpdate(obj, obj);
  }
}

void Informer::run(std::stop_token stop) {
  Backoff backoff(options_.initialBackoff, options_.maxBackoff, 2.0, 1.0, std::chrono::minutes(2));
  std::mt19937 rng(std::random_device{}());
  std::jthread resyncer;
  if (options_.resyncPeriod.count() > 0) {
    resyncer = std::jthread([this, stop](std::stop_token own) {
      while (!own.stop_requested() && !stop.stop_requested()) {
        if (!sleepFor(options_.resyncPeriod, own)) break;
        if (stop.stop_requested()) break;
        if (hasSynced()) resync();
      }
    });
  }
  bool needList = true;
  std::string rv;
  const std::string what = resource_.resource + (options_.ns.empty() ? "" : " in " + options_.ns);
  while (!stop.stop_requested()) {
    try {
      if (needList) {
        ListOptions lo;
        lo.labelSelector = options_.labelSelector;
        lo.fieldSelector = options_.fieldSelector;
        lo.limit = options_.pageSize;
        Json list = client_.list(resource_, options_.ns, lo);
        rv = list["metadata"].value("resourceVersion", "");
        replace(std::move(list["items"]), rv);
        ++relists_;
        needList = false;
      }
      WatchOptions wo;
      wo.labelSelector = options_.labelSelector;
      wo.fieldSelector = options_.fieldSelector;
      wo.resourceVersion = rv;
      wo.allowBookmarks = true;
      wo.timeoutSeconds = options_.watchTimeoutSeconds > 0 ? options_.watchTimeoutSeconds
                                                           : std::uniform_int_distribution<int>(300, 600)(rng);
      wo.idleTimeoutSeconds = options_.idleTimeoutSeconds;
      WatchResult r = client_.watch(resource_, options_.ns, wo, [this](WatchEvent&& ev) { return applyEvent(std::move(ev)); },
                                    stop);
      ++watchRestarts_;
      {
        std::lock_guard lock(mu_);
        rv = lastRv_;
      }
      if (r.end == WatchResult::End::Stopped) break;
      if (r.end == WatchResult::End::Expired) {
        otel::log::info("watch_expired_relisting", {{"resource", what}});
        needList = true;
        continue;
      }
      if (r.events > 0) backoff.reset();
      // A cleanly closed stream: resume from the last seen resourceVersion.
    } catch (const WatchEventTooLarge& e) {
      // Never buffered further: the watch ends, and the cache is rebuilt from a list.
      otel::log::warn("watch_event_too_large_relisting", {{"resource", what}, {"error", e.oneLine()}});
      needList = true;
      if (!sleepFor(backoff.next(), stop)) break;
    } catch (const ApiError& e) {
      if (e.isExpired()) {
        needList = true;
        continue;
      }
      otel::log::warn("watch_failed", {{"resource", what}, {"error", e.oneLine()}});
      auto delay = e.retryAfterSeconds() > 0 ? std::chrono::duration_cast<Clock::duration>(std::chrono::seconds(e.retryAfterSeconds()))
                                             : backoff.next();
      if (!sleepFor(delay, stop)) break;
    } catch (const otel::Error& e) {
      otel::log::warn("watch_failed", {{"resource", what}, {"error", e.oneLine()}});
      if (!sleepFor(backoff.next(), stop)) break;
    }
  }
  if (resyncer.joinable()) resyncer.request_stop();
}

bool Informer::hasSynced() const {
  std::lock_guard lock(mu_);
  return synced_;
}

bool Informer::waitForSync(std::chrono::milliseconds timeout, std::stop_token stop) const {
  std::unique_lock lock(mu_);
  return syncedCv_.wait_for(lock, stop, timeout, [&] { return synced_; });
}

std::optional<Json> Informer::get(const std::string& key) const {
  std::lock_guard lock(mu_);
  auto it = items_.find(key);
  if (it == items_.end()) return std::nullopt;
  return unpack(it->second);
}

std::optional<Json> Informer::get(const std::string& ns, const std::string& name) const {
  return get(ns.empty() ? name : ns + "/" + name);
}

const Json* Informer::findLocked(const std::string& key) const {
  if (options_.compact) throw std::logic_error("findLocked on a compact informer cache");
  auto it = items_.find(key);
  return it == items_.end() ? nullptr : &it->second.object;
}

const std::map<std::string, Informer::Cached>& Informer::itemsLocked() const {
  if (options_.compact) throw std::logic_error("itemsLocked on a compact informer cache");
  return items_;
}

std::vector<Json> Informer::list() const {
  std::lock_guard lock(mu_);
  std::vector<Json> out;
  out.reserve(items_.size());
  for (auto& [k, c] : items_) out.push_back(unpack(c));
  return out;
}

std::vector<std::string> Informer::keys() const {
  std::lock_guard lock(mu_);
  std::vector<std::string> out;
  for (auto& [k, c] : items_) out.push_back(k);
  return out;
}

std::vector<Json> Informer::byIndex(const std::string& indexName, const std::string& value) const {
  std::lock_guard lock(mu_);
  std::vector<Json> out;
  auto idx = indices_.find(indexName);
  if (idx == indices_.end()) return out;
  auto it = idx->second.find(value);
  if (it == idx->second.end()) return out;
  for (auto& key : it->second) out.push_back(unpack(items_.at(key)));
  return out;
}

std::string Informer::lastSyncResourceVersion() const {
  std::lock_guard lock(mu_);
  return lastRv_;
}

}  // namespace otel::kube
