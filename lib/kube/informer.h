// Informer: list+watch of one resource into a local cache keyed "ns/name", with indexers, ordered
// add/update/delete handlers, periodic resync, reconnect with backoff and relist (with diffing) on 410.
#pragma once
#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <stop_token>
#include <string>
#include <vector>

#include "lib/core/json.h"
#include "lib/kube/client.h"

namespace otel::kube {

struct InformerOptions {
  std::string ns;  // "" = all namespaces (or a cluster-scoped resource)
  std::string labelSelector;
  std::string fieldSelector;
  int pageSize = 500;
  std::chrono::milliseconds resyncPeriod{0};  // 0 = no resync
  std::chrono::milliseconds initialBackoff{800};
  std::chrono::milliseconds maxBackoff{30000};
  int watchTimeoutSeconds = 0;  // 0 = random in [300, 600] like the reflector
  int idleTimeoutSeconds = 0;   // client-side stall detection for watches; 0 = off
  // Applied to every object before it is cached or handed to handlers (e.g. stripManagedFields, as
  // controller-runtime's default cache transform does, to keep the cache small).
  std::function<void(Json&)> transform;
  // Objects are cached as their MessagePack encoding (about a third of the JSON tree) and decoded on each
  // read: for caches read an object at a time (a controller's owned objects), not walked in place.
  // findLocked()/itemsLocked() then throw std::logic_error.
  bool compact = false;
};

// Drops metadata.managedFields (large, and not needed by readers of a cache).
void stripManagedFields(Json& object);

struct EventHandlers {
  std::function<void(const Json&)> onAdd;
  std::function<void(const Json& oldObj, const Json& newObj)> onUpdate;  // also resyncs (old == new)
  std::function<void(const Json& lastKnown)> onDelete;
};

using IndexFunc = std::function<std::vector<std::string>(const Json&)>;

class Informer {
 public:
  Informer(Client& client, ResourceId resource, InformerOptions options = {});
  ~Informer();
  Informer(const Informer&) = delete;
  Informer& operator=(const Informer&) = delete;

  // Register before run().
  void addHandlers(EventHandlers handlers);
  void addIndexer(const std::string& name, IndexFunc fn);

  // Runs list+watch until `stop`. Handlers are called one at a time, in event order (resyncs from a helper thread).
  void run(std::stop_token stop);

  bool hasSynced() const;
  // Waits (bounded) for the first list to be applied; false on timeout or stop.
  bool waitForSync(std::chrono::milliseconds timeout, std::stop_token stop = {}) const;

  std::optional<Json> get(const std::string& key) const;
  std::optional<Json> get(const std::string& ns, const std::string& name) const;
  std::vector<Json> list() const;
  std::vector<std::string> keys() const;
  struct Cached {
    Json object;  // compact: a binary value holding the object's MessagePack encoding
    std::string resourceVersion;
  };
  // Read access to the cache without copying objects: hold the returned lock while using findLocked()
  // and itemsLocked() (their pointers and references are valid only meanwhile). Events wait for it.
  std::unique_lock<std::mutex> lockCache() const { return std::unique_lock<std::mutex>(mu_); }
  const Json* findLocked(const std::string& key) const;
  const std::map<std::string, Cached>& itemsLocked() const;
  std::vector<Json> byIndex(const std::string& indexName, const std::string& value) const;
  std::string lastSyncResourceVersion() const;
  int relists() const { return relists_.load(); }
  // Applies one watch event to the cache and calls the handlers (what run() does per event; public for
  // benchmarks and tests). Same-resourceVersion replays are dropped.
  bool applyEvent(WatchEvent&& ev);
  int watchRestarts() const { return watchRestarts_.load(); }
  // Applies an object this process just wrote (the server's answer) before its watch event arrives, so
  // a controller's next read sees its own write. Ignored unless its resourceVersion is newer than the
  // cached one (both decimal, as etcd revisions are): a late call never takes the cache back in time.
  // Does not move the watch's resume point.
  bool applyLocalWrite(WatchEvent&& ev);

  // "ns/name" (or "name" for cluster-scoped objects).
  static std::string keyOf(const Json& object);

 private:
  struct Change {
    enum Kind { Add, Update, Delete } kind;
    Json oldObj;
    Json newObj;
  };
  void dispatch(const std::vector<Change>& changes);
  void storeLocked(const std::string& key, const Json& obj);
  Json unpack(const Cached& c) const;
  void eraseLocked(const std::string& key);
  void replace(Json items, const std::string& rv);
  void resync();

  Client& client_;
  ResourceId resource_;
  InformerOptions options_;
  std::vector<EventHandlers> handlers_;
  std::map<std::string, IndexFunc> indexers_;

  std::mutex dispatchMu_;  // serializes cache changes + handler calls
  mutable std::mutex mu_;  // guards the fields below
  mutable std::condition_variable_any syncedCv_;
  std::map<std::string, Cached> items_;
  std::map<std::string, std::map<std::string, std::set<std::string>>> indices_;
  std::map<std::string, std::map<std::string, std::vector<std::string>>> indexValues_;  // index -> key -> values
  std::string lastRv_;
  bool synced_ = false;
  std::atomic<int> relists_{0};
  std::atomic<int> watchRestarts_{0};
};

}  // namespace otel::kube
