// Live mode of `kubectl otel inject|uninject KIND/NAME ...` (direct mode: the mutation is written into the
// workload's pod template). PURE: cluster access comes in as callbacks (the verb binds them to
// lib/kube), so retry-on-conflict and the per-workload results are tested without a server.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "lib/core/json.h"
#include "lib/inject/inject.h"

namespace otel::inject {

struct LiveAccess {
  // Reads one object (kind as in isWorkloadKind); throws otel::Error when it does not exist.
  std::function<Json(const std::string& kind, const std::string& ns, const std::string& name)> get;
  // Writes the object back (optimistic concurrency on metadata.resourceVersion); throws on failure.
  std::function<Json(const Json& object)> update;
  // Whether an exception thrown by update is a 409 Conflict (then: fresh read, mutate again, retry).
  std::function<bool(const std::exception&)> isConflict;
  // Instrumentations / collectors visible from a namespace, and the namespace's annotations.
  std::function<Catalog(const std::string& ns)> catalog;
  std::function<Json(const std::string& ns)> namespaceAnnotations;
};

struct LiveOptions {
  Options inject;
  bool uninject = false;
  bool annotate = false;  // --mode=annotate: set the webhook's annotations instead of mutating (annotatePod)
  bool dryRun = false;  // compute and return the object, write nothing
  std::string ns = "default";
  std::string endpoint;  // inline Instrumentation (see FileModeOptions)
  std::vector<std::string> propagators;
  std::string sampler;
  int maxConflictRetries = 5;
};

struct LiveResult {
  std::string ref;      // "deployment/x"
  std::string outcome;  // "injected: ...", "already injected", "skipped: ...", "error: ..."
  bool changed = false;
  bool error = false;
  int conflicts = 0;  // 409s retried
  Json object;        // the (would-be) written object
};

// One result per selector ("deploy/NAME"); an unsupported kind or a missing object is an error result.
std::vector<LiveResult> runLive(const std::vector<std::string>& selectors, const LiveOptions& opts,
                                const LiveAccess& access);

}  // namespace otel::inject
