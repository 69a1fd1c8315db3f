// PURE: how the controller compares what it wants with what the API server stores, and what it writes.
// Stored objects carry server defaults (strategy, imagePullPolicy, clusterIP ...): a desired object is
// in sync when each field it sets has that value in the stored one; zero values it sets match absent
// fields (Go's omitempty). A hash of the desired object in an annotation catches fields removed from it.
#pragma once
#include <string>

#include "lib/core/json.h"

namespace otel::controller {

// The annotation holding sha256 of the desired object the controller last wrote.
inline constexpr const char* kDesiredHashAnnotation = "kubectl-otel.io/desired-hash";

// True when every field `desired` sets is equal in `stored` (objects recursively, arrays element by
// element with equal length; a desired false/0/""/[]/{}/null matches an absent field).
bool containsDesired(const Json& stored, const Json& desired);

// sha256 (hex, 16 characters) of the desired object as the controller builds it.
std::string desiredHash(const Json& desired);

enum class Verb { None, Create, Update, Recreate };
const char* verbName(Verb v);

struct Change {
  Verb verb = Verb::None;
  Json object;         // Create/Recreate: the object to create; Update: the object to PUT (stored resourceVersion)
  std::string reason;  // why (for logs): "missing", "spec.selector changed", "differs", "desired changed"
};

// What to do to make `stored` (null when missing) match `desired`. An Update keeps the stored object's
// labels and annotations that are not desired, fields the server allocated (Service clusterIP(s), node
// ports) and pod template labels/annotations others added (kubectl rollout restart), and replaces the
// rest of each top-level field the desired object sets. Fields that cannot change (workload selector,
// StatefulSet volumeClaimTemplates/serviceName, Service clusterIP) make a Recreate.
Change planChange(const Json* stored, const Json& desired);

// Why an update of `stored` to `desired` would be refused as immutable ("" when it would not be).
std::string immutableChange(const Json& stored, const Json& desired);

}  // namespace otel::controller
