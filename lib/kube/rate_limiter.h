// Rate limiting and backoff shared by the REST client, the work queue and watch reconnects:
// a token bucket (qps/burst), client-go's per-item exponential failure limiter, and a jittered backoff.
#pragma once
#include <chrono>
#include <map>
#include <mutex>
#include <random>
#include <stop_token>
#include <string>

namespace otel::kube {

using Clock = std::chrono::steady_clock;

// Token bucket: `burst` tokens, refilled at `qps` per second. qps <= 0 means unlimited.
class TokenBucket {
 public:
  TokenBucket(double qps, int burst);
  // Takes one token and returns how long the caller must wait before using it (0 when available now),
  // like golang.org/x/time/rate Reserve().Delay(). Thread-safe.
  Clock::duration reserve(Clock::time_point now = Clock::now());
  // Blocks until a token is available; false when stopped first.
  bool wait(std::stop_token stop = {});
  double qps() const { return qps_; }
  int burst() const { return burst_; }

 private:
  double qps_;
  int burst_;
  std::mutex mu_;
  double tokens_;
  Clock::time_point last_{};
  bool started_ = false;
};

// Per-item exponential failure limiter: base * 2^failures, capped (client-go 5ms, 1000s).
class ItemExponentialLimiter {
 public:
  explicit ItemExponentialLimiter(Clock::duration base = std::chrono::milliseconds(5),
                                  Clock::duration max = std::chrono::seconds(1000));
  Clock::duration when(const std::string& item);  // counts one failure
  void forget(const std::string& item);
  int numRequeues(const std::string& item) const;

 private:
  Clock::duration base_, max_;
  mutable std::mutex mu_;
  std::map<std::string, int> failures_;
};

// client-go's DefaultControllerRateLimiter: max(per-item exponential, overall token bucket 10 qps / 100).
class ControllerRateLimiter {
 public:
  ControllerRateLimiter(Clock::duration base = std::chrono::milliseconds(5), Clock::duration max = std::chrono::seconds(1000),
                        double qps = 10, int burst = 100);
  Clock::duration when(const std::string& item, Clock::time_point now = Clock::now());
  void forget(const std::string& item) { items_.forget(item); }
  int numRequeues(const std::string& item) const { return items_.numRequeues(item); }

 private:
  ItemExponentialLimiter items_;
  TokenBucket bucket_;
};

// Exponential backoff with jitter for reconnect loops (reflector: 800ms, x2, cap 30s, reset after 2min healthy).
class Backoff {
 public:
  Backoff(Clock::duration initial = std::chrono::milliseconds(800), Clock::duration max = std::chrono::seconds(30),
          double factor = 2.0, double jitter = 1.0, Clock::duration resetAfter = std::chrono::minutes(2));
  // The next delay (grows each call; resets when the last failure is older than resetAfter).
  Clock::duration next(Clock::time_point now = Clock::now());
  void reset();

 private:
  Clock::duration initial_, max_, resetAfter_;
  double factor_, jitter_;
  Clock::duration current_{0};
  Clock::time_point lastFailure_{};
  std::mt19937_64 rng_;
};

// Sleeps for `d` unless `stop` is requested first; returns false when stopped.
bool sleepFor(Clock::duration d, std::stop_token stop);

}  // namespace otel::kube
