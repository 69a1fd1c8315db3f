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

// The defaults the API server applies from the TargetAllocator CRD schema (only under objects that
// exist: a CR with `spec:` null gets none): allocationStrategy consistent-hashing, filterStrategy
// relabel-config, collectorNotReadyGracePeriod 30s, managementState managed, prometheusCR
// scrape/evaluation interval 30s and namespace selectors {}. Upstream's TA defaulting webhook is
// registered for v1beta1, which the CRD does not serve, so it never runs; neither do we.
void defaultTargetAllocator(Json& ta);

// `allowNamespaces and denyNamespaces are mutually exclusive`, per-node/PDB and strategy checks.
Diagnostics validateTargetAllocator(const Json& ta);

// The allocation strategies the CRDs accept: upstream's three and kubectl-otel's `rendezvous`.
bool isKnownAllocationStrategy(const std::string& strategy);
// Checks spec...allocationStrategy (`field` is its path, e.g. "spec.targetAllocator.allocationStrategy")
// as the API server's CRD enum does (its exact "Unsupported value" message), and warns when
// `rendezvous` would run on an image other than kubectl-otel's (upstream's allocator refuses it).
void checkAllocationStrategy(const std::string& strategy, const std::string& image, const std::string& field,
                             Diagnostics& d);

// The TargetAllocator CR the collector reconciler generates for a v1beta1 collector with
// spec.targetAllocator.enabled (name = collector name, same namespace, collector labels/annotations).
Json targetAllocatorFromCollector(const Json& collector);

}  // namespace otel::api
