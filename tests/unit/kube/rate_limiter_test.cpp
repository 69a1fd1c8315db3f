// Token bucket, per-item exponential backoff (5ms * 2^n capped at 1000s), controller limiter, backoff.
#include "lib/kube/rate_limiter.h"

#include <gtest/gtest.h>

#include <thread>

using namespace std::chrono_literals;
using otel::kube::Clock;

TEST(TokenBucket, BurstThenRate) {
  otel::kube::TokenBucket b(10, 3);
  auto t0 = Clock::now();
  EXPECT_EQ(b.reserve(t0), Clock::duration::zero());
  EXPECT_EQ(b.reserve(t0), Clock::duration::zero());
  EXPECT_EQ(b.reserve(t0), Clock::duration::zero());
  auto d = b.reserve(t0);
  EXPECT_NEAR(std::chrono::duration<double>(d).count(), 0.1, 1e-6);
  // After a second the bucket has refilled (minus the debt) up to the burst.
  EXPECT_EQ(b.reserve(t0 + 2s), Clock::duration::zero());
  otel::kube::TokenBucket unlimited(0, 1);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(unlimited.reserve(t0), Clock::duration::zero());
}

TEST(ItemExponentialLimiter, DoublesAndCaps) {
  otel::kube::ItemExponentialLimiter l;
  EXPECT_EQ(l.when("a"), std::chrono::duration_cast<Clock::duration>(5ms));
  EXPECT_EQ(l.when("a"), std::chrono::duration_cast<Clock::duration>(10ms));
  EXPECT_EQ(l.when("a"), std::chrono::duration_cast<Clock::duration>(20ms));
  EXPECT_EQ(l.when("b"), std::chrono::duration_cast<Clock::duration>(5ms));
  EXPECT_EQ(l.numRequeues("a"), 3);
  for (int i = 0; i < 100; ++i) l.when("a");
  EXPECT_EQ(l.when("a"), std::chrono::duration_cast<Clock::duration>(1000s));
  l.forget("a");
  EXPECT_EQ(l.numRequeues("a"), 0);
  EXPECT_EQ(l.when("a"), std::chrono::duration_cast<Clock::duration>(5ms));
}

TEST(ControllerRateLimiter, MaxOfItemAndBucket) {
  otel::kube::ControllerRateLimiter l;  // 5ms..1000s, 10 qps burst 100
  auto t0 = Clock::now();
  for (int i = 0; i < 100; ++i) EXPECT_EQ(l.when("k" + std::to_string(i), t0), std::chrono::duration_cast<Clock::duration>(5ms));
  // The bucket is empty: the 101st first failure waits ~100ms for a token.
  auto d = l.when("other", t0);
  EXPECT_NEAR(std::chrono::duration<double>(d).count(), 0.1, 1e-6);
}

TEST(Backoff, GrowsCapsAndResets) {
  otel::kube::Backoff b(100ms, 1s, 2.0, 0.0, 1min);
  auto t = Clock::now();
  EXPECT_EQ(b.next(t), std::chrono::duration_cast<Clock::duration>(100ms));
  EXPECT_EQ(b.next(t), std::chrono::duration_cast<Clock::duration>(200ms));
  EXPECT_EQ(b.next(t), std::chrono::duration_cast<Clock::duration>(400ms));
  EXPECT_EQ(b.next(t), std::chrono::duration_cast<Clock::duration>(800ms));
  EXPECT_EQ(b.next(t), std::chrono::duration_cast<Clock::duration>(1s));
  EXPECT_EQ(b.next(t + 2min), std::chrono::duration_cast<Clock::duration>(100ms));  // healthy for a while
}

TEST(SleepFor, StopsEarly) {
  std::stop_source src;
  std::jthread t([&] { src.request_stop(); });
  EXPECT_FALSE(otel::kube::sleepFor(std::chrono::hours(1), src.get_token()));
  EXPECT_TRUE(otel::kube::sleepFor(1ms, std::stop_token{}));
}
