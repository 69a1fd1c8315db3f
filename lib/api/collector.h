// OpenTelemetryCollector (v1alpha1 + v1beta1): read accessors over the object (unknown fields stay
// in the Json), conversion both ways with upstream's rules, spec defaulting and spec validation as
// upstream's admission webhook (exact messages). Config-level defaults/checks are in lib/collectorconfig.
#pragma once
#include <string>
#include <vector>

#include "lib/api/common.h"
#include "lib/core/json.h"

namespace otel::api {

inline constexpr const char* kCollectorKind = "OpenTelemetryCollector";
inline constexpr const char* kModeDeployment = "deployment";
inline constexpr const char* kModeDaemonSet = "daemonset";
inline constexpr const char* kModeStatefulSet = "statefulset";
inline constexpr const char* kModeSidecar = "sidecar";

bool isCollector(const Json& obj);
bool isValidMode(const std::string& mode);

// Read-only view of a v1beta1 collector (call toV1beta1 first for v1alpha1 input).
class CollectorView {
 public:
  explicit CollectorView(const Json& obj) : obj_(obj) {}
  const Json& json() const { return obj_; }
  const Json& spec() const;
  std::string name() const { return str(obj_, {"metadata", "name"}); }
  std::string ns() const { return str(obj_, {"metadata", "namespace"}, "default"); }
  std::string mode() const { return str(obj_, {"spec", "mode"}, kModeDeployment); }
  std::string image() const { return str(obj_, {"spec", "image"}); }
  long long replicas() const { return integer(obj_, {"spec", "replicas"}, 1); }
  const Json& config() const;  // spec.config (null json if missing)
  bool targetAllocatorEnabled() const { return boolean(obj_, {"spec", "targetAllocator", "enabled"}); }
  std::string allocationStrategy() const;  // "" -> consistent-hashing
  bool managed() const { return str(obj_, {"spec", "managementState"}, "managed") != "unmanaged"; }

 private:
  const Json& obj_;
};

// Conversion (the /convert webhook). Input of either version; unknown fields are kept.
// v1alpha1 -> v1beta1: config string parsed (a string that fails to parse gives the empty config),
// minReplicas/maxReplicas merged into autoscaler, updateStrategy -> daemonSetUpdateStrategy,
// TA prometheusCR {service,pod}MonitorSelector map -> {matchLabels: map} (nil becomes {}).
Json toV1beta1(const Json& collector);
// v1beta1 -> v1alpha1: config written as YAML, the inverse renames.
Json toV1alpha1(const Json& collector);
// Converts to the requested apiVersion ("opentelemetry.io/v1alpha1" or "/v1beta1"); throws otel::Error otherwise.
Json convertCollector(const Json& collector, const std::string& apiVersion);

// Defaults the API server applies from the v1beta1 CRD schema (only under existing objects):
// configVersions 3; under spec.targetAllocator: allocationStrategy consistent-hashing, filterStrategy
// relabel-config, prometheusCR scrapeInterval 30s and namespace selectors {}.
void applyCollectorCrdDefaults(Json& collector);

// Spec-level defaulting of upstream's mutating webhook (no config defaults): mode, upgradeStrategy,
// replicas, TA replicas, autoscaler min/cpu, ingress ruleType/route termination, managementState,
// networkPolicy.enabled, labels {}. `old` (may be null) is the stored object on UPDATE: when the
// new object omits spec.mode the stored mode is kept (our documented improvement).
void defaultCollectorSpec(Json& collector, const Json* old = nullptr);

// Spec-level validation (modes, sidecar attributes, TA mode/strategy, spec.ports, autoscaler,
// ingress, update strategies). `old` non-null means UPDATE (mode immutability checked first).
// Stops at the first error like upstream. Config checks: lib/collectorconfig/admission.h.
Diagnostics validateCollectorSpec(const Json& collector, const Json* old = nullptr);

// Readiness of a collector as `create --wait` sees it, from the status the controller writes:
// Ready when condition Ready=True (and, when given, observedGeneration >= metadata.generation);
// Failed when Ready=False with reason ReconcileError. `progress` gets a one-line description.
enum class Readiness { Pending, Ready, Failed };
Readiness collectorReadiness(const Json& collector, std::string* progress = nullptr);

// Kubernetes IsValidPortName / IsValidPortNum messages (as k8s.io/apimachinery formats them).
std::vector<std::string> portNameErrors(const std::string& name);
std::vector<std::string> portNumErrors(long long port);
// Go's fmt %s of a []string: "[a b]".
std::string goStringList(const std::vector<std::string>& v);

}  // namespace otel::api
