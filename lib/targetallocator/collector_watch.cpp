#include "lib/targetallocator/collector_watch.h"

#include <thread>

#include "lib/core/log.h"
#include "lib/targetallocator/collectors.h"

namespace otel::targetallocator {

namespace {

kube::InformerOptions informerOptions(const CollectorWatchOptions& o) {
  kube::InformerOptions io;
  io.ns = o.ns;
  io.labelSelector = o.labelSelector;
  io.resyncPeriod = std::chrono::seconds(30);  // as upstream's pod informer
  io.transform = trimCollectorPod;
  return io;
}

std::string names(const std::vector<allocation::Collector>& cs) {
  std::string out;
  for (const auto& c : cs) out += (out.empty() ? "" : ",") + c.name;
  return out;
}

}  // namespace

CollectorWatcher::CollectorWatcher(kube::Client& client, CollectorWatchOptions options, Apply apply)
    : options_(std::move(options)),
      apply_(std::move(apply)),
      informer_(client, kube::ResourceId{"v1", "pods", true, "Pod"}, informerOptions(options_)) {
  auto touch = [this] {
    {
      std::lock_guard lock(mu_);
      dirty_ = true;
    }
    cv_.notify_all();
  };
  informer_.addHandlers({[touch](const Json&) { touch(); }, [touch](const Json&, const Json&) { touch(); },
                         [touch](const Json&) { touch(); }});
}

void CollectorWatcher::run(std::stop_token stop) {
  std::jthread informer([this, stop] { informer_.run(stop); });
  loop(stop);
}

void CollectorWatcher::loop(std::stop_token stop) {
  while (!stop.stop_requested() && !informer_.waitForSync(std::chrono::seconds(1), stop)) {
  }
  if (stop.stop_requested()) return;
  using clock = std::chrono::steady_clock;
  std::vector<allocation::Collector> current = usableCollectors(informer_.list(), options_.grace,
                                                                std::chrono::system_clock::now());
  apply_(current);
  ++applies_;
  synced_ = true;
  log::info("collectors discovered", {{"namespace", options_.ns}, {"selector", options_.labelSelector},
                                      {"collectors", std::to_string(current.size())}, {"names", names(current)}});
  auto lastApply = clock::now();
  while (!stop.stop_requested()) {
    {
      std::unique_lock lock(mu_);
      cv_.wait_for(lock, stop, options_.recheck, [this] { return dirty_; });
      dirty_ = false;
    }
    if (stop.stop_requested()) break;
    auto next = usableCollectors(informer_.list(), options_.grace, std::chrono::system_clock::now());
    if (sameCollectors(next, current)) continue;
    // Changes are applied at most once per minInterval: a burst of pod events moves targets once.
    if (auto wait = lastApply + options_.minInterval; clock::now() < wait) {
      holding_ = true;
      {
        std::unique_lock lock(mu_);
        cv_.wait_until(lock, stop, wait, [] { return false; });
      }
      holding_ = false;
      if (stop.stop_requested()) break;
      next = usableCollectors(informer_.list(), options_.grace, std::chrono::system_clock::now());
      if (sameCollectors(next, current)) continue;
    }
    log::info("collectors changed", {{"collectors", std::to_string(next.size())}, {"names", names(next)},
                                     {"before", std::to_string(current.size())}});
    current = next;
    apply_(std::move(next));
    ++applies_;
    lastApply = clock::now();
  }
}

}  // namespace otel::targetallocator
