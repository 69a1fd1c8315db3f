// Rate-limited de-duplicating work queue (client-go workqueue semantics): a key is queued at most once,
// never processed concurrently (re-adds while processing are marked dirty and requeued on done()),
// with delayed adds and per-item exponential backoff combined with an overall token bucket.
#pragma once
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <stop_token>
#include <string>

#include "lib/kube/rate_limiter.h"

namespace otel::kube {

class WorkQueue {
 public:
  // Defaults are client-go's DefaultControllerRateLimiter: 5ms * 2^n capped at 1000s, max'ed with 10 qps / burst 100.
  explicit WorkQueue(Clock::duration base = std::chrono::milliseconds(5), Clock::duration max = std::chrono::seconds(1000),
                     double qps = 10, int burst = 100);
  ~WorkQueue();

  void add(const std::string& key);
  void addAfter(const std::string& key, Clock::duration delay);
  // Adds after the rate limiter's delay (counts one failure of the key).
  void addRateLimited(const std::string& key);
  // Resets the key's failure count.
  void forget(const std::string& key);
  int numRequeues(const std::string& key) const;

  // Blocks until a key is ready, the queue shuts down or `stop` is requested (then nullopt).
  std::optional<std::string> get(std::stop_token stop = {});
  // Marks the key processed; a key re-added meanwhile is queued again.
  void done(const std::string& key);
  // Wakes every get(); from now on get() returns nullopt and adds are ignored.
  void shutDown();
  bool shuttingDown() const;

  std::size_t len() const;          // keys ready to be handed out
  std::size_t waitingCount() const;  // delayed keys not yet due

 private:
  void addLocked(const std::string& key);
  void promoteDueLocked(Clock::time_point now);
  ControllerRateLimiter limiter_;
  mutable std::mutex mu_;
  std::condition_variable_any cv_;
  std::deque<std::string> queue_;
  std::set<std::string> dirty_;
  std::set<std::string> processing_;
  std::multimap<Clock::time_point, std::string> waiting_;
  std::map<std::string, Clock::time_point> waitingAt_;  // earliest due time per key
  bool shutdown_ = false;
};

}  // namespace otel::kube
