// PURE pod-template mutation shared by the pod webhook, `kubectl otel inject` (live and -f) and uninject:
// annotation resolution, the collector sidecar and per-language auto-instrumentation, with upstream's
// env order, skip reasons and messages. Input values in, mutated template + report out; no I/O.
#pragma once
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "lib/api/instrumentation.h"
#include "lib/core/json.h"

namespace otel::inject {

using api::Language;

// Annotation keys (upstream names, sic `inject-nginx-container-names`).
inline constexpr const char* kSidecarAnnotation = "sidecar.opentelemetry.io/inject";
inline constexpr const char* kSidecarInjectedLabel = "sidecar.opentelemetry.io/injected";
inline constexpr const char* kContainerNamesAnnotation = "instrumentation.opentelemetry.io/container-names";
inline constexpr const char* kPythonPlatformAnnotation = "instrumentation.opentelemetry.io/otel-python-platform";
inline constexpr const char* kDotNetRuntimeAnnotation = "instrumentation.opentelemetry.io/otel-dotnet-auto-runtime";
inline constexpr const char* kGoTargetExeAnnotation = "instrumentation.opentelemetry.io/otel-go-auto-target-exe";
inline constexpr const char* kResourceAnnotationPrefix = "resource.opentelemetry.io/";
// Ours: the undo record that makes `uninject` exact (see undo.h). Only written when Options::record.
inline constexpr const char* kUndoAnnotation = "kubectl-otel/undo";
inline constexpr const char* kSidecarContainerName = "otc-container";

inline constexpr const char* kInstrumentationAnnotationPrefix = "instrumentation.opentelemetry.io/";
inline constexpr const char* kSidecarAnnotationPrefix = "sidecar.opentelemetry.io/";

// An annotation that asks for injection (sidecar.opentelemetry.io/*, instrumentation.opentelemetry.io/inject-*):
// a pod or namespace without one is not the pod webhook's business.
bool asksForInjection(const std::string& key);
// Any annotation injection reads (both prefixes: the inject-* keys and their settings, container names,
// platform, runtime): what a namespace cache must keep.
bool readByInjection(const std::string& key);

std::string injectAnnotation(Language l);          // instrumentation.opentelemetry.io/inject-<lang>
std::string containerNamesAnnotation(Language l);  // instrumentation.opentelemetry.io/<lang>-container-names

// The names of a container-names annotation as the webhook splits them (upstream strings.Split on ",":
// nothing trimmed, empty names kept).
std::vector<std::string> splitCommas(const std::string& s);

// Effective annotation value from pod and namespace (upstream annotationValue, case-insensitive).
std::string effectiveAnnotation(const Json& nsAnnotations, const Json& podAnnotations, const std::string& key);

// What the webhook learns about the pod beyond its template: its namespace and owners.
struct PodContext {
  std::string ns = "default";
  Json nsAnnotations = Json::object();
  // Owner chain (the webhook reads ownerReferences and looks up ReplicaSet->Deployment, Job->CronJob).
  std::string deployment, replicaSet, statefulSet, daemonSet, job, cronJob;
  std::string deploymentUid, replicaSetUid, statefulSetUid, daemonSetUid, jobUid, cronJobUid;
  std::string podName, podUid, nodeName;  // known for live pods only
};

// The objects the annotations may refer to (each with metadata.namespace set, or the pod's namespace).
struct Catalog {
  std::vector<Json> instrumentations;  // Instrumentation objects (defaulted on use)
  std::vector<Json> collectors;        // OpenTelemetryCollector objects (v1alpha1 or v1beta1)
};

struct Options {
  // Explicit requests (CLI flags); when empty, the template's and namespace's annotations decide.
  std::vector<Language> languages;
  std::string instrumentation;  // NAME or NS/NAME for the languages ("" = the only one in the namespace)
  bool sidecar = false;
  std::string collector;  // NAME or NS/NAME ("" = the only sidecar collector)
  std::vector<std::string> containers;  // --containers
  std::string goTargetExe;              // for --lang go
  // Environment.
  bool nativeSidecar = false;  // Kubernetes >= 1.29: sidecar as init container with restartPolicy Always
  std::set<Language> enabled = {Language::Java, Language::NodeJS, Language::Python, Language::DotNet,
                                Language::Go,   Language::ApacheHttpd, Language::Nginx, Language::Sdk};
  std::string collectorImage = "ghcr.io/open-telemetry/opentelemetry-collector-releases/opentelemetry-collector:0.158.0";
  // CLI: selection problems the webhook only logs and skips (no / several / non-sidecar collector)
  // become errors. The webhook passes false.
  bool strict = true;
  bool record = true;  // write kUndoAnnotation (files/direct mode); the webhook passes false
};

struct Result {
  Json pod;              // the mutated pod (or template: {metadata, spec})
  bool changed = false;
  std::vector<std::string> actions;  // "injected java into myapp", "injected sidecar <ns>/<name>" ...
  std::vector<std::string> skips;    // reasons nothing (or less) was done, upstream wording
  std::vector<std::string> errors;   // selection errors: the webhook admits unchanged, the CLI fails
};

// Mutates a pod or pod template ({metadata, spec}). On any error the pod is returned unchanged (as the
// webhook does: all mutations of the request are dropped).
Result injectPod(const Json& pod, const PodContext& ctx, const Catalog& catalog, const Options& opts);

// `--endpoint URL`: adds an inline Instrumentation named kubectl-otel-inline in `ns` to the catalog and,
// when languages are requested without --instrumentation, selects it. Nothing happens for an empty endpoint.
void addInlineInstrumentation(Catalog& catalog, Options& opts, const std::string& ns, const std::string& endpoint,
                              const std::vector<std::string>& propagators, const std::string& sampler);

// `--mode=annotate`: instead of mutating the template, sets the annotations the operator's webhook acts
// on at pod creation (inject-<lang>, container-names, otel-go-auto-target-exe, sidecar inject), recorded
// for exact removal like injectPod. Unchanged when the annotations already say so.
Result annotatePod(const Json& pod, const Options& opts);

// Reverses every injection recorded in kUndoAnnotation (exactly), or reports why nothing was done.
Result uninjectPod(const Json& pod);

// True when the pod carries an instrumentation upstream would recognise (upstream's already-instrumented rule).
bool isAutoInstrumentationInjected(const Json& pod);

}  // namespace otel::inject
