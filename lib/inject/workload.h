// Workloads and manifest streams for `kubectl otel inject|uninject -f`: where each kind keeps its pod
// template, the owner facts the webhook would see, and the file-mode pipeline (YAML stream in, YAML stream
// out in input order, untouched documents byte-identical, one summary line per workload). PURE: text in,
// text out; errors are thrown before anything is returned, so callers write nothing on failure.
#pragma once
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "lib/core/json.h"
#include "lib/inject/inject.h"

namespace otel::inject {

// Kinds whose pod template can be injected: Deployment, StatefulSet, DaemonSet, ReplicaSet,
// ReplicationController, Job, CronJob, Pod.
bool isWorkloadKind(const std::string& kind);
// Kind for a kubectl-style name or short name ("deploy", "deployment", "sts", "ds", "rs", "rc", "job",
// "cj", "cronjob", "po", "pod" ...); "" when unknown.
std::string workloadKindFor(const std::string& resource);

// The pod template of a workload ({metadata, spec}; the Pod itself for kind Pod); nullptr otherwise.
Json* podTemplate(Json& obj);
const Json* podTemplate(const Json& obj);

// Namespace + owner facts the webhook would see for pods of this workload created from the template
// (Deployment -> k8s.deployment.name; the ReplicaSet name is unknown before rollout, so left empty).
PodContext contextForWorkload(const Json& workload, const std::string& defaultNamespace);

// For the pod webhook: namespace, pod name/uid/node and the owner chain from ownerReferences, following
// ReplicaSet -> Deployment and Job -> CronJob through `lookup` (kind, ns, name -> object or null), as
// upstream's addParentResourceLabels does. `lookup` may be empty (owners one level deep only).
PodContext contextForPod(const Json& pod, const std::string& ns, const Json& nsAnnotations,
                         const std::function<Json(const std::string&, const std::string&, const std::string&)>& lookup);

// Splits a YAML stream into its documents' texts exactly as written (separators removed; documents
// that hold only whitespace or comments are dropped). Each chunk keeps its trailing newline.
struct DocumentText {
  std::string text;
  int line = 1;  // 1-based line of the document's first line in the stream
};
std::vector<DocumentText> splitYamlDocuments(std::string_view stream);

struct ManifestSource {
  std::string name;  // file name or "-"
  std::string text;
};

struct FileModeOptions {
  Options inject;
  bool uninject = false;
  bool annotate = false;  // --mode=annotate: set the webhook's annotations instead of mutating (annotatePod)
  std::string defaultNamespace = "default";
  // --endpoint: an inline Instrumentation (with upstream defaults) in every namespace.
  std::string endpoint;
  std::vector<std::string> propagators;
  std::string sampler;
  // Positional selectors ("deploy/NAME"); empty = every workload.
  std::vector<std::string> selectors;
};

struct DocumentChange {
  std::string source;  // file name or "-"
  int index = 0;       // 1-based document index in that source
  std::string ref;     // "deployment/x" (the list's kind for a List)
  std::string before;  // the document's text as read
  std::string after;   // its text as written to the output
};

struct FileModeResult {
  std::string output;                // the YAML stream to print
  std::vector<DocumentChange> changes;  // the changed documents (for -o diff)
  std::vector<std::string> summary;  // one line per workload ("deployment/x: injected java into container app")
  int changed = 0;
  int workloads = 0;
};

// Throws otel::Error (naming file, document and object) on malformed YAML, an unsupported or missing
// selected workload, an invalid annotation value or a missing Instrumentation / Collector.
FileModeResult processManifests(const std::vector<ManifestSource>& sources, const FileModeOptions& opts);

}  // namespace otel::inject
