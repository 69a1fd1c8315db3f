// PURE: the status the controller writes on an OpenTelemetryCollector (upstream's status fill and
// Ready condition) and on a TargetAllocator, from the CR and its workload as stored.
#pragma once
#include <string>

#include "lib/core/json.h"

namespace otel::controller {

// Label selector string of a label map as upstream prints it: "k=v,k2=v2", keys sorted.
std::string selectorString(const Json& labels);

// The new `status` of a collector: scale {replicas, selector, statusReplicas "ready/total"}, version
// (kept, else `collectorVersion`), image (workload container 0), observedGeneration and the Ready
// condition (True/Reconciled, or False/ReconcileError with `error`). `workload` may be null (sidecar or
// not created yet). lastTransitionTime changes only when the condition's status does (`now` otherwise
// unused). Fields of the old status the controller does not own are kept.
Json collectorStatus(const Json& collector, const Json* workload, const std::string& error,
                     const std::string& collectorVersion, const std::string& now);

// A TargetAllocator's status: version (kept, else `version`) and image (its Deployment's container 0).
Json targetAllocatorStatus(const Json& ta, const Json* deployment, const std::string& version);

// RFC 3339 UTC with seconds ("2026-12-02T20:00:00Z") of the current time.
std::string nowRfc3339();

}  // namespace otel::controller
