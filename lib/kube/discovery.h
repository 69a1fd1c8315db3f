// API discovery (aggregated v2 with fallback to the legacy per-group documents) and the REST mapper
// that turns kind+apiVersion into resources (and short names into kinds), CRDs included.
#pragma once
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "lib/core/json.h"
#include "lib/kube/client.h"

namespace otel::kube {

struct ApiResource {
  std::string group;
  std::string version;
  std::string resource;  // plural
  std::string singular;
  std::string kind;
  bool namespaced = true;
  std::vector<std::string> verbs;
  std::vector<std::string> shortNames;
  std::vector<std::string> subresources;  // "status", "scale" ...
  ResourceId id() const;
  std::string apiVersion() const { return group.empty() ? version : group + "/" + version; }
};

// Parsers (pure, for tests over the captured documents).
// APIGroupDiscoveryList (v2 or v2beta1) -> resources; preferred version first per group.
std::vector<ApiResource> parseAggregatedDiscovery(const Json& list);
// APIResourceList of one groupVersion -> resources (subresources folded into their parent).
std::vector<ApiResource> parseResourceList(const Json& list);

// Runs discovery against the server: aggregated v2 first, legacy /api + /apis walk otherwise.
std::vector<ApiResource> discover(Client& client);

class RestMapper {
 public:
  explicit RestMapper(Client& client) : client_(client) {}
  // The resource for a kind in apiVersion; refreshes discovery once on a miss.
  // Throws otel::Error `no matches for kind "X" in version "g/v"`.
  ResourceId resourceFor(const std::string& apiVersion, const std::string& kind);
  // Looks up a user-typed resource name ("deploy", "deployments.apps", "OpenTelemetryCollector").
  std::optional<ApiResource> find(const std::string& nameOrKind);
  // True when the server serves this apiVersion (e.g. "opentelemetry.io/v1beta1").
  bool serves(const std::string& apiVersion);
  std::vector<ApiResource> resources();
  void invalidate();
  int refreshes() const;

 private:
  void ensureLocked(bool force);
  Client& client_;
  mutable std::mutex mu_;
  bool loaded_ = false;
  int refreshes_ = 0;
  std::vector<ApiResource> resources_;
};

}  // namespace otel::kube
