// TargetAllocator v1alpha1 (standalone CR, or generated from a collector's spec.targetAllocator):
// defaulting and validation as upstream's webhook, and the CR the collector reconciler generates.
#pragma once
#include <string>

#include "lib/api/common.h"
#include "lib/core/json.h"

namespace otel::api {

inline constexpr const char* kTargetAllocatorKind = "TargetAllocator";
// Label linking a collector to a standalone TargetAllocator CR.
inline constexpr const char* kTargetAllocatorLabel = "opentelemetry.io/target-allocator";

bool isTargetAllocator(const Json& obj);

// Webhook defaults: replicas 1, managementState managed, allocationStrategy consistent-hashing,
// filterStrategy relabel-config, upgradeStrategy automatic; prometheusCR namespace selectors {}.
void defaultTargetAllocator(Json& ta);

// `allowNamespaces and denyNamespaces are mutually exclusive`, per-node/PDB and strategy checks.
Diagnostics validateTargetAllocator(const Json& ta);

// The TargetAllocator CR the collector reconciler generates for a v1beta1 collector with
// spec.targetAllocator.enabled (name = collector name, same namespace, collector labels/annotations).
Json targetAllocatorFromCollector(const Json& collector);

}  // namespace otel::api
