// Work queue semantics: de-duplication, no concurrent processing (dirty requeue), delays, shutdown.
#include "lib/kube/work_queue.h"

#include <gtest/gtest.h>

#include <chrono>

#include <thread>

using namespace std::chrono_literals;
using otel::kube::WorkQueue;

TEST(WorkQueue, DeduplicatesQueuedKeys) {
  WorkQueue q;
  q.add("a");
  q.add("b");
  q.add("a");
  EXPECT_EQ(q.len(), 2u);
  EXPECT_EQ(q.get().value(), "a");
  EXPECT_EQ(q.get().value(), "b");
  EXPECT_EQ(q.len(), 0u);
}

TEST(WorkQueue, ReAddWhileProcessingIsRequeuedOnDone) {
  WorkQueue q;
  q.add("a");
  auto k = q.get();
  ASSERT_EQ(k.value(), "a");
  q.add("a");  // dirty while processing: not handed out concurrently
  q.add("a");
  EXPECT_EQ(q.len(), 0u);
  q.done("a");
  EXPECT_EQ(q.len(), 1u);
  EXPECT_EQ(q.get().value(), "a");
  q.done("a");
  EXPECT_EQ(q.len(), 0u);
}

TEST(WorkQueue, AddAfterKeepsTheEarliestDueTime) {
  WorkQueue q;
  q.addAfter("late", 1h);
  q.addAfter("soon", 20ms);
  q.addAfter("late", 30ms);  // earlier than the first: replaces it
  EXPECT_EQ(q.waitingCount(), 2u);
  EXPECT_EQ(q.len(), 0u);
  EXPECT_EQ(q.get().value(), "soon");  // get() waits for the due time, bounded by it
  EXPECT_EQ(q.get().value(), "late");
  EXPECT_EQ(q.waitingCount(), 0u);
}

TEST(WorkQueue, RateLimitedAddsBackOffAndForgetResets) {
  WorkQueue q(std::chrono::milliseconds(1), std::chrono::seconds(1000), 1000, 1000);
  q.addRateLimited("x");
  q.addRateLimited("x");
  q.addRateLimited("x");
  EXPECT_EQ(q.numRequeues("x"), 3);
  EXPECT_EQ(q.get().value(), "x");
  q.done("x");
  q.forget("x");
  EXPECT_EQ(q.numRequeues("x"), 0);
}

TEST(WorkQueue, ShutDownAndStopWakeWaiters) {
  WorkQueue q;
  std::jthread t([&] { q.shutDown(); });
  EXPECT_FALSE(q.get().has_value());
  q.add("ignored");
  EXPECT_EQ(q.len(), 0u);

  WorkQueue q2;
  std::stop_source src;
  std::jthread t2([&] { src.request_stop(); });
  EXPECT_FALSE(q2.get(src.get_token()).has_value());
}

TEST(WorkQueue, ConcurrentWorkersNeverShareAKey) {
  WorkQueue q;
  std::atomic<int> inFlight{0}, maxInFlight{0}, processed{0};
  std::vector<std::jthread> workers;
  for (int w = 0; w < 4; ++w)
    workers.emplace_back([&] {
      while (auto k = q.get()) {
        int n = ++inFlight;
        int m = maxInFlight.load();
        while (n > m && !maxInFlight.compare_exchange_weak(m, n)) {
        }
        --inFlight;
        ++processed;
        q.done(*k);
      }
    });
  for (int i = 0; i < 2000; ++i) q.add("same");
  // Everything added is eventually processed at least once; "same" is never processed twice at once.
  // Bounded wait (a loaded machine may not have scheduled a worker yet): drained and processed.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while ((q.len() > 0 || processed.load() == 0) && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
  q.shutDown();
  workers.clear();
  EXPECT_LE(maxInFlight.load(), 1);
  EXPECT_GE(processed.load(), 1);
}
