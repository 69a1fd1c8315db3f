// Upstream acceptance for injection: the chainsaw suites e2e-instrumentation, e2e-multi-instrumentation and
// e2e-sidecar. Each test's install files are applied to an in-memory cluster state; at each assert step the
// pods the workload controllers would create are made by a PodMaker (the pure injectPod with the fields a
// cluster fills simulated, or the real webhook behind the test API server) and matched against the assert
// file's Pod documents with chainsaw semantics.
#pragma once
#include <filesystem>
#include <functional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "lib/core/json.h"

namespace otel::testing {

inline constexpr const char* kAcceptanceNamespace = "chainsaw-test";

// The objects a test has applied so far (namespace defaulted to kAcceptanceNamespace), last write wins.
struct AcceptanceCluster {
  std::vector<Json> objects;
  void apply(Json obj);
  void remove(const std::string& kind, const std::string& name);
};

// The fields a real cluster fills that the pure mutation does not, with the reason (the report lists them).
const std::vector<std::pair<std::string, std::string>>& clusterFilledFields();
// What the ServiceAccount admission plugin adds: the token volume mount on every container.
void addServiceAccountMounts(Json& pod);
// API server defaulting the assert files rely on (fieldRef apiVersion, port protocol, probe thresholds).
void apiServerDefaults(Json& j);

// The pod a workload's controller creates, before admission: the template's metadata and spec in the
// workload's namespace, owned by a ReplicaSet (Deployment), a Job (CronJob) or the workload itself, with
// the ServiceAccount plugin's mounts. `ownerKind`/`ownerName` tell the intermediate owner.
Json controllerPod(const Json& workload, std::string* ownerKind = nullptr, std::string* ownerName = nullptr);
// The pure path: controllerPod mutated by injectPod with the catalog of `cluster`, plus the cluster's fills.
Json simulatePurePod(const Json& workload, const AcceptanceCluster& cluster, bool native);

// The pods at an assert step, one per workload of the cluster.
using PodMaker = std::function<std::vector<Json>(const AcceptanceCluster& cluster, bool native)>;

struct AcceptanceOutcome {
  std::string suite, name;
  int podAsserts = 0, podPasses = 0, notEvaluated = 0;
  std::vector<std::string> failures;
  bool passed() const { return podAsserts > 0 && podPasses == podAsserts; }
};

// Every test of the three suites under `root` (the upstream-e2e folder), in folder order.
std::vector<AcceptanceOutcome> runInjectAcceptance(const std::filesystem::path& root, const PodMaker& makePods);
// The tests expected to pass (tests/fixtures/inject/acceptance-expected.txt).
std::set<std::string> acceptanceExpectedPasses(const std::string& file);
// One line per test, its failures, and per-suite counts.
std::string acceptanceReport(const std::vector<AcceptanceOutcome>& outcomes);

}  // namespace otel::testing
