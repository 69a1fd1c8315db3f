// Which collector pods the allocator shards over (upstream's internal/collector rules): a pod counts once
// it is scheduled (spec.nodeName); with a grace period G > 0 it stops counting when it has not been
// Running for more than G since it started, or not Ready for more than G since its Ready condition last
// changed. G = 0 keeps every scheduled pod. Collector id = pod name, node = spec.nodeName. Pure.
#pragma once
#include <chrono>
#include <vector>

#include "lib/allocation/allocator.h"
#include "lib/core/json.h"

namespace otel::targetallocator {

bool collectorPodUsable(const Json& pod, std::chrono::milliseconds grace, std::chrono::system_clock::time_point now);
// The usable pods as collectors, sorted by name.
std::vector<allocation::Collector> usableCollectors(const std::vector<Json>& pods, std::chrono::milliseconds grace,
                                                    std::chrono::system_clock::time_point now);
bool sameCollectors(const std::vector<allocation::Collector>& a, const std::vector<allocation::Collector>& b);
// The fields the rules read (plus what an informer needs), so a cache of thousands of pods stays small.
void trimCollectorPod(Json& pod);

}  // namespace otel::targetallocator
