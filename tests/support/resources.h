// The test API server's resource types: the built-in table (core/v1, apps/v1, ...) and types registered
// from CRDs, plus the discovery documents (legacy and aggregated v2) built from them.
#pragma once
#include <string>
#include <vector>

#include "lib/core/json.h"

namespace otel::testing {

struct ResourceType {
  std::string group;  // "" for core
  std::string version;
  std::string resource;  // plural
  std::string singular;
  std::string kind;
  std::string listKind;
  bool namespaced = true;
  std::vector<std::string> shortNames;
  std::vector<std::string> categories;
  bool statusSubresource = false;
  bool scaleSubresource = false;
  bool hasGeneration = false;
  bool custom = false;  // served from a CRD
  bool review = false;  // an access review: create-only, evaluated and never stored (verbs ["create"])
  Json schema;          // openAPIV3Schema for custom resources (null = none)
  // The scale subresource of a custom resource: JSON paths (".spec.replicas") from the CRD.
  std::string specReplicasPath = ".spec.replicas";
  std::string statusReplicasPath = ".status.replicas";
  std::string labelSelectorPath;
  // A CRD with spec.conversion.strategy Webhook: the storage version's apiVersion and spec.conversion.webhook
  // (clientConfig, conversionReviewVersions). conversionWebhook is null for strategy None and built-in kinds.
  std::string storageApiVersion;
  Json conversionWebhook;
  bool convertsByWebhook() const { return custom && conversionWebhook.is_object(); }
  std::string apiVersion() const { return group.empty() ? version : group + "/" + version; }
  std::string groupResource() const { return resource + (group.empty() ? "" : "." + group); }
};

// The built-in types served by the test API server.
std::vector<ResourceType> builtinResourceTypes();
// Types for every served version of a CRD object (empty when the CRD is malformed).
std::vector<ResourceType> crdResourceTypes(const Json& crd);

// Discovery documents from a full list of served types.
Json discoveryApiVersions();                                                   // GET /api
Json discoveryGroupList(const std::vector<ResourceType>& types);               // GET /apis
Json discoveryGroup(const std::vector<ResourceType>& types, const std::string& group);  // GET /apis/<g> (null if none)
Json discoveryResourceList(const std::vector<ResourceType>& types, const std::string& group,
                           const std::string& version);  // null when the group/version is not served
Json aggregatedDiscovery(const std::vector<ResourceType>& types, bool core);  // APIGroupDiscoveryList
// Served versions of a group in priority order.
std::vector<std::string> groupVersions(const std::vector<ResourceType>& types, const std::string& group);

}  // namespace otel::testing
