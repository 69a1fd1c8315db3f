#include "lib/kube/work_queue.h"

namespace otel::kube {

WorkQueue::WorkQueue(Clock::duration base, Clock::duration max, double qps, int burst) : limiter_(base, max, qps, burst) {}

WorkQueue::~WorkQueue() { shutDown(); }

void WorkQueue::addLocked(const std::string& key) {
  if (shutdown_) return;
  if (dirty_.count(key)) return;
  dirty_.insert(key);
  if (processing_.count(key)) return;  // requeued by done()
  queue_.push_back(key);
  cv_.notify_one();
}

void WorkQueue::add(const std::string& key) {
  std::lock_guard lock(mu_);
  addLocked(key);
}

void WorkQueue::addAfter(const std::string& key, Clock::duration delay) {
  if (delay <= Clock::duration::zero()) return add(key);
  std::lock_guard lock(mu_);
  if (shutdown_) return;
  auto due = Clock::now() + delay;
  auto it = waitingAt_.find(key);
  if (it != waitingAt_.end()) {
    if (it->second <= due) return;  // already due earlier
    for (auto w = waiting_.begin(); w != waiting_.end(); ++w)
      if (w->second == key) {
        waiting_.erase(w);
        break;
      }
  }
  waitingAt_[key] = due;
  waiting_.emplace(due, key);
  cv_.notify_all();
}

void WorkQueue::addRateLimited(const std::string& key) { addAfter(key, limiter_.when(key)); }

void WorkQueue::forget(const std::string& key) { limiter_.forget(key); }

int WorkQueue::numRequeues(const std::string& key) const { return limiter_.numRequeues(key); }

void WorkQueue::promoteDueLocked(Clock::time_point now) {
  while (!waiting_.empty() && waiting_.begin()->first <= now) {
    std::string key = waiting_.begin()->second;
    waiting_.erase(waiting_.begin());
    waitingAt_.erase(key);
    addLocked(key);
  }
}

std::optional<std::string> WorkQueue::get(std::stop_token stop) {
  std::unique_lock lock(mu_);
  for (;;) {
    if (shutdown_ || stop.stop_requested()) return std::nullopt;
    promoteDueLocked(Clock::now());
    if (!queue_.empty()) {
      std::string key = queue_.front();
      queue_.pop_front();
      processing_.insert(key);
      dirty_.erase(key);
      return key;
    }
    if (waiting_.empty()) {
      cv_.wait(lock, stop, [&] { return shutdown_ || !queue_.empty() || !waiting_.empty(); });
    } else {
      auto due = waiting_.begin()->first;
      cv_.wait_until(lock, stop, due, [&] { return shutdown_ || !queue_.empty() || Clock::now() >= due; });
    }
  }
}

void WorkQueue::done(const std::string& key) {
  std::lock_guard lock(mu_);
  processing_.erase(key);
  if (dirty_.count(key)) {
    queue_.push_back(key);
    cv_.notify_one();
  }
}

void WorkQueue::shutDown() {
  std::lock_guard lock(mu_);
  shutdown_ = true;
  cv_.notify_all();
}

bool WorkQueue::shuttingDown() const {
  std::lock_guard lock(mu_);
  return shutdown_;
}

std::size_t WorkQueue::len() const {
  std::lock_guard lock(mu_);
  return queue_.size();
}

std::size_t WorkQueue::waitingCount() const {
  std::lock_guard lock(mu_);
  return waiting_.size();
}

}  // namespace otel::kube
