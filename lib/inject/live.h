// Live mode of `kubectl otel inject|uninject KIND/NAME ... | --all [-l SELECTOR]`: direct mode (the mutation
// is written into the workload's pod template) and annotate mode (the webhook's annotations). PURE:
// cluster access comes in as callbacks (the verb binds them to lib/kube), so selection, retry-on-conflict,
// all-or-nothing writing and the per-workload results are tested without a server.
#pragma once
#include <functional>
#include <optional>
#include <utility>
#include <string>
#include <vector>

#include "lib/core/json.h"
#include "lib/inject/inject.h"

namespace otel::inject {

struct LiveAccess {
  // Reads one object (kind as in isWorkloadKind); throws when it does not exist.
  std::function<Json(const std::string& kind, const std::string& ns, const std::string& name)> get;
  // Lists one kind in a namespace with a label selector ("" = every object); each item has apiVersion
  // and kind set. Needed for --all / -l only.
  std::function<std::vector<Json>(const std::string& kind, const std::string& ns, const std::string& labelSelector)>
      list;
  // Writes the object back (optimistic concurrency on metadata.resourceVersion); throws on failure.
  // serverDryRun: the server admits and validates the update but stores nothing (dryRun=All).
  std::function<Json(const Json& object, bool serverDryRun)> update;
  // Whether an exception thrown by update is a 409 Conflict (then: fresh read, mutate again, retry).
  std::function<bool(const std::exception&)> isConflict;
  // Whether an exception thrown by update is the server refusing the object (422 Invalid, 403 Forbidden,
  // a webhook's denial): with it, several workloads are first written with dryRun=All (preflight), so a
  // refusal of one writes none. Empty: no preflight.
  std::function<bool(const std::exception&)> isRefusal;
  // Instrumentations / collectors visible from a namespace, and the namespace's annotations.
  std::function<Catalog(const std::string& ns)> catalog;
  std::function<Json(const std::string& ns)> namespaceAnnotations;
};

enum class DryRun { None, Client, Server };

struct LiveOptions {
  Options inject;
  bool uninject = false;
  bool annotate = false;  // --mode=annotate: set the webhook's annotations instead of mutating (annotatePod)
  DryRun dryRun = DryRun::None;
  std::string ns = "default";
  // --all / -l: every workload of the namespace (matching the label selector) besides the named ones.
  bool all = false;
  std::string labelSelector;
  std::string endpoint;  // inline Instrumentation (see FileModeOptions)
  std::vector<std::string> propagators;
  std::string sampler;
  int maxConflictRetries = 5;
};

struct LiveResult {
  std::string ref;      // "deployment/x"
  std::string outcome;  // "injected: ...", "already injected (...)", "skipped: ...", "error: ..."
  bool changed = false;
  bool error = false;
  int conflicts = 0;  // 409s retried
  Json before;        // the workload as last read (null when it could not be read)
  Json after;         // the workload as computed and sent (null when unchanged)
  Json object;        // what the server answered (dry run client: `after`; unchanged: `before`)
};

// Kinds --all lists, in this order. A workload with a controller owner (a ReplicaSet of a Deployment, a
// Job of a CronJob, a Deployment of an OpenTelemetryCollector or of another operator) and a Pod with any
// owner are left to their owner (skipped when named, not selected by --all).
const std::vector<std::string>& liveKinds();
// The apiVersion of one of liveKinds() ("apps/v1", "batch/v1", "v1"); throws otel::Error for another kind.
std::string liveKindApiVersion(const std::string& kind);
// "deployment/web" when the workload is managed by an owner that would undo a change; "" else.
std::string managingOwner(const Json& workload);

// One result per named selector ("deploy/NAME") and per listed workload. Nothing is written when any
// workload fails before writing (unsupported kind, missing object, missing Instrumentation or Collector,
// invalid annotation value) or, with isRefusal, when the server refuses one in the preflight: the others
// then report "not written".
std::vector<LiveResult> runLive(const std::vector<std::string>& selectors, const LiveOptions& opts,
                                const LiveAccess& access);

// The MutatingWebhookConfiguration `kubectl otel install` creates (lib/manifests/install.cpp) and the pod
// webhook's name in it (upstream's, so an upstream operator's configuration is recognised as well).
inline constexpr const char* kControllerMutatingWebhookConfiguration = "kubectl-otel-mutating-webhook-configuration";
inline constexpr const char* kPodWebhookName = "mpod.kb.io";
// The name of the first MutatingWebhookConfiguration of a list (items) that holds the pod webhook; "" if none.
std::string podWebhookConfiguration(const Json& mutatingWebhookConfigurations);

// Where the pod webhook of that configuration is served: a Service (namespace, name), or a URL.
struct PodWebhookTarget {
  std::string serviceNamespace, serviceName;
  bool url = false;  // clientConfig.url: served outside the cluster, taken as served
};
std::optional<PodWebhookTarget> podWebhookTarget(const Json& mutatingWebhookConfigurations);
// True when an EndpointSlice list (items) has an endpoint that is ready (a missing `ready` counts as
// ready, as for kube-proxy).
bool anyReadyEndpoint(const Json& endpointSlices);

// What the cluster says about the pod webhook (read by the caller).
struct PodWebhookState {
  std::string configuration;  // the MutatingWebhookConfiguration holding it; "" when none is installed
  std::string unserved;       // set when it is installed but its Service has no ready endpoint (why)
  std::string readError;      // set when the configurations could not be read
};
// The live mode: annotate (true) or direct (false), and the reason the summary prints. `requested` is the
// --mode flag ("", "direct" or "annotate"); `inlineEndpoint`: --endpoint was given. Annotate by default
// only when a served pod webhook would act on the annotations.
std::pair<bool, std::string> chooseLiveMode(const std::string& requested, bool inlineEndpoint, const PodWebhookState& s);
// False when chooseLiveMode decides without the cluster's state (--mode=direct, or --endpoint by default).
bool liveModeNeedsClusterState(const std::string& requested, bool inlineEndpoint);

// The live-mode wording for a selection error of injectPod: a missing Instrumentation or Collector becomes
// `instrumentation "x" not found in namespace "ns": create it with kubectl otel create instrumentation ...`.
// `requested` (the flags) gives the namespace of a NS/NAME reference.
std::string explainSelectionError(const std::string& error, const std::string& ns, const Options& requested = {});

}  // namespace otel::inject
