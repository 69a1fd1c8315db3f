// The admission webhooks of `kubectl otel run` as pure functions: AdmissionReview v1 in, AdmissionReview
// v1 out (upstream's paths, defaulting and validation with upstream's messages, the pod mutation of
// lib/inject, fail-open), and the CRD conversion webhook (ConversionReview v1). Everything the handlers
// need from the cluster comes through the Lookups callbacks; the HTTPS server is plugin/webhooks.cpp.
#pragma once
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "lib/collectorconfig/admission.h"
#include "lib/core/json.h"
#include "lib/inject/inject.h"
#include "lib/manifests/rbac_review.h"

namespace otel::webhook {

// Upstream's webhook paths (config/webhook/manifests.yaml), plus the TargetAllocator ones for the version
// our CRD serves (v1alpha1; upstream registers v1beta1 only).
inline constexpr const char* kPodPath = "/mutate-v1-pod";
inline constexpr const char* kConvertPath = "/convert";

// A request the handlers cannot read: answered 400 with this message.
struct BadRequest : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct AdmissionRequest {
  std::string reviewApiVersion = "admission.k8s.io/v1";
  std::string uid;
  std::string kind;       // request.kind.kind
  std::string group, version, resource, subResource;
  std::string ns, name;
  std::string operation;  // CREATE UPDATE DELETE CONNECT
  std::string username;
  std::vector<std::string> groups;
  bool dryRun = false;
  Json object;     // null when absent (DELETE)
  Json oldObject;  // null when absent (CREATE)
};

// Throws BadRequest (one line) for a body that is not an AdmissionReview v1 with a request: not JSON, not
// an object, wrong apiVersion/kind, no request or uid, an object that is not a JSON object.
AdmissionRequest parseAdmissionReview(std::string_view body);

struct AdmissionResponse {
  bool allowed = true;
  int code = 0;            // status.code when non-zero (denials 403 as controller-runtime's Denied)
  std::string reason;      // status.reason ("Forbidden")
  std::string message;     // status.message
  Json patch;              // JSON Patch operations (array) or null
  std::vector<std::string> warnings;
};

AdmissionResponse allow(std::vector<std::string> warnings = {});
AdmissionResponse deny(const std::string& message, std::vector<std::string> warnings = {});
// controller-runtime's Errored: allowed=false with a code (400 for unreadable objects).
AdmissionResponse errored(int code, const std::string& message);

// The AdmissionReview answer for a request (same apiVersion, uid echoed, patch base64 with patchType JSONPatch).
std::string renderAdmissionReview(const AdmissionRequest& req, const AdmissionResponse& resp);

// ---- custom resources -----------------------------------------------------------------------------
struct CrOptions {
  collectorconfig::AdmissionOptions admission;  // cert-manager, FIPS
  // RBAC checks of the collector and TargetAllocator validators (SubjectAccessReviews); none when unset.
  manifests::AccessReviewer reviewer;
  bool operatorCreatesRbac = true;
  std::vector<std::string> monitoringResources;
};

// What runs for a path: "mutate-collector", "validate-collector", ... or "" for an unknown path.
// Paths: /mutate-opentelemetry-io-v1beta1-opentelemetrycollector, /validate-...-v1beta1-opentelemetrycollector,
// /{mutate,validate}-opentelemetry-io-v1alpha1-{instrumentation,opampbridge,targetallocator} and
// /{mutate,validate}-opentelemetry-io-v1beta1-targetallocator (upstream's, same handlers).
std::string handlerFor(const std::string& path);
std::vector<std::string> crPaths();

// Defaulting and validation of OpenTelemetryCollector, Instrumentation, TargetAllocator and OpAMPBridge as
// upstream's webhooks (v1beta1 collectors; an UPDATE without spec.mode keeps the stored mode; a real mode
// change is refused with upstream's message and what to do instead). DELETE is always admitted (upstream
// validates deletions too, which can block deleting a CR its newer webhook finds invalid), with warnings.
AdmissionResponse admitCustomResource(const std::string& handler, const AdmissionRequest& req, const CrOptions& opts);

// ---- pods ---------------------------------------------------------------------------------------------
// Where the pod's inject annotations can select an Instrumentation or a sidecar collector.
struct CatalogScope {
  std::string ns;               // the pod's namespace ("true" and a bare name select there)
  std::set<std::string> named;  // "namespace/name" values of the inject annotations (pod and namespace)
};

// What the pod webhook reads from the cluster (callbacks; each may throw, which admits the pod unchanged).
struct PodLookups {
  // Annotations of the namespace (object; throws when the namespace cannot be read).
  std::function<Json(const std::string& ns)> namespaceAnnotations;
  // An owner object (ReplicaSet, Job) by kind, namespace and name; nullopt when not found.
  std::function<std::optional<Json>(const std::string& kind, const std::string& ns, const std::string& name)> owner;
  // The Instrumentations and OpenTelemetryCollectors the pod's annotations can select: those of its
  // namespace and those they name as "namespace/name" (read only for a pod that asks for injection).
  std::function<inject::Catalog(const CatalogScope&)> catalog;
};


struct PodOutcome {
  bool mutated = false;
  bool failedOpen = false;  // an error admitted the pod unchanged
  std::string error;        // why (one line)
  std::vector<std::string> actions, skips;
};

// Upstream's pod mutation (sidecar, then instrumentation) through lib/inject on CREATE: the pod's and its
// namespace's annotations decide; owner chain (ReplicaSet -> Deployment, Job -> CronJob) for resource
// attributes. Any error admits the pod unchanged (allowed, status 500 with the error, as upstream) and is
// reported in `out`. `base` carries the environment (collector image, native sidecars, enabled languages).
AdmissionResponse mutatePod(const AdmissionRequest& req, const PodLookups& lookups, const inject::Options& base,
                            PodOutcome* out = nullptr);

// ---- conversion -----------------------------------------------------------------------------------------
// The CRD conversion webhook: ConversionReview (apiextensions.k8s.io/v1) in, ConversionReview out, for
// OpenTelemetryCollector v1alpha1 <-> v1beta1 (lib/api conversion). A review it can read but not convert
// gets result.status Failure with the reason; an unreadable body throws BadRequest.
std::string convertReview(std::string_view body);

}  // namespace otel::webhook
