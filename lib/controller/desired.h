// PURE: what the controller wants in the cluster for one OpenTelemetryCollector or TargetAllocator as
// stored: the CR as the webhook would have admitted it (converted, defaulted, validated), the objects
// upstream's operator creates for it (lib/manifests), and which owned objects may be pruned.
#pragma once
#include <string>
#include <vector>

#include "lib/core/json.h"
#include "lib/manifests/build.h"

namespace otel::controller {

inline constexpr const char* kCollectorFinalizer = "opentelemetrycollector.opentelemetry.io/finalizer";

struct CollectorDesired {
  Json effective;              // the admitted v1beta1 collector the objects are built from
  std::vector<Json> objects;   // owned objects, the generated TargetAllocator CR included
  std::vector<std::string> warnings;
  bool needsFinalizer = false;  // cluster-scoped objects (ClusterRole/Binding) are among them
};

// Throws otel::Error (what = the message users see, as upstream words it) when the collector cannot be
// built: invalid spec, unknown mode, a config the target allocator cannot use ("no prometheus available
// as part of the configuration") ... `standaloneTa` is the TargetAllocator CR the collector's
// opentelemetry.io/target-allocator label names (null when none or not found).
CollectorDesired desiredForCollector(const Json& stored, const Json* standaloneTa, const manifests::Options& opts);

// The admitted form of a stored collector (for the TargetAllocator reconciler); throws like above.
Json effectiveCollector(const Json& stored);

// Objects for a TargetAllocator CR and the (effective) collector it serves (may be null).
std::vector<Json> desiredForTargetAllocator(const Json& ta, const Json* collector, const manifests::Options& opts);

// "Kind/namespace/name" (namespace empty for cluster-scoped objects): how owned objects are matched.
std::string objectKey(const Json& obj);

// Owned ConfigMaps of a collector to delete: all but the `keep` newest (creationTimestamp, then
// resourceVersion) that are not `current`, keep = max(configVersions, 1) + 1 counting `current`.
std::vector<std::string> configMapsToPrune(const std::vector<Json>& ownedConfigMaps, const std::string& current,
                                           long long configVersions);

// The controller ownerReference of an object ({kind, name, uid}); null when none.
const Json* controllerRef(const Json& obj);

}  // namespace otel::controller
