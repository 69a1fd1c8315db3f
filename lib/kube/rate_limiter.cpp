#include "lib/kube/rate_limiter.h"

#include <algorithm>
#include <cmath>
#include <condition_variable>

namespace otel::kube {

TokenBucket::TokenBucket(double qps, int burst) : qps_(qps), burst_(std::max(burst, 1)), tokens_(std::max(burst, 1)) {}

Clock::duration TokenBucket::reserve(Clock::time_point now) {
  if (qps_ <= 0) return Clock::duration::zero();
  std::lock_guard lock(mu_);
  if (!started_) {
    started_ = true;
    last_ = now;
  }
  if (now > last_) {
    double elapsed = std::chrono::duration<double>(now - last_).count();
    tokens_ = std::min<double>(burst_, tokens_ + elapsed * qps_);
    last_ = now;
  }
  tokens_ -= 1.0;
  if (tokens_ >= 0) return Clock::duration::zero();
  double wait = -tokens_ / qps_;
  return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(wait));
}

bool TokenBucket::wait(std::stop_token stop) {
  auto d = reserve();
  if (d <= Clock::duration::zero()) return true;
  return sleepFor(d, stop);
}

ItemExponentialLimiter::ItemExponentialLimiter(Clock::duration base, Clock::duration max) : base_(base), max_(max) {}

Clock::duration ItemExponentialLimiter::when(const std::string& item) {
  std::lock_guard lock(mu_);
  int n = failures_[item]++;
  // base * 2^n, computed in floating point so large n cannot overflow.
  double d = std::chrono::duration<double>(base_).count() * std::pow(2.0, n);
  double cap = std::chrono::duration<double>(max_).count();
  if (d > cap || !std::isfinite(d)) return max_;
  return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(d));
}

void ItemExponentialLimiter::forget(const std::string& item) {
  std::lock_guard lock(mu_);
  failures_.erase(item);
}

int ItemExponentialLimiter::numRequeues(const std::string& item) const {
  std::lock_guard lock(mu_);
  auto it = failures_.find(item);
  return it == failures_.end() ? 0 : it->second;
}

ControllerRateLimiter::ControllerRateLimiter(Clock::duration base, Clock::duration max, double qps, int burst)
    : items_(base, max), bucket_(qps, burst) {}

Clock::duration ControllerRateLimiter::when(const std::string& item, Clock::time_point now) {
  auto a = items_.when(item);
  auto b = bucket_.reserve(now);
  return std::max(a, b);
}

Backoff::Backoff(Clock::duration initial, Clock::duration max, double factor, double jitter, Clock::duration resetAfter)
    : initial_(initial), max_(max), resetAfter_(resetAfter), factor_(factor), jitter_(jitter), rng_(std::random_device{}()) {}

Clock::duration Backoff::next(Clock::time_point now) {
  if (current_ == Clock::duration::zero() || (lastFailure_ != Clock::time_point{} && now - lastFailure_ > resetAfter_)) {
    current_ = initial_;
  } else {
    current_ = std::min(max_, std::chrono::duration_cast<Clock::duration>(current_ * factor_));
  }
  lastFailure_ = now;
  auto d = current_;
  if (jitter_ > 0) {
    std::uniform_real_distribution<double> dist(0.0, jitter_);
    d += std::chrono::duration_cast<Clock::duration>(d * dist(rng_));
  }
  return std::min(d, std::chrono::duration_cast<Clock::duration>(max_ * (1.0 + jitter_)));
}

void Backoff::reset() {
  current_ = Clock::duration::zero();
  lastFailure_ = {};
}

bool sleepFor(Clock::duration d, std::stop_token stop) {
  if (d <= Clock::duration::zero()) return !stop.stop_requested();
  std::mutex m;
  std::condition_variable_any cv;
  std::unique_lock lock(m);
  cv.wait_for(lock, stop, d, [] { return false; });
  return !stop.stop_requested();
}

}  // namespace otel::kube
