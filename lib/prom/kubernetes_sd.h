// Prometheus's kubernetes_sd_configs, pure: the config (role, namespaces, selectors, attach_metadata,
// with Prometheus's validation messages) and the target groups each role builds from Kubernetes objects,
// with Prometheus's meta labels exactly (discovery/kubernetes: pod.go, service.go, node.go,
// endpoints.go, endpointslice.go, ingress.go): every role.
// The objects come from informer caches (lib/targetallocator/kube_sd); nothing here does I/O.
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "lib/core/json.h"
#include "lib/prom/kubernetes_sd_config.h"
#include "lib/prom/scrape_config.h"

namespace otel::prom {

// One `kubernetes_sd_configs` list. Throws otel::Error naming `where` (Prometheus's messages).
std::vector<KubernetesSdConfig> parseKubernetesSdConfigs(const Json& list, const std::string& where);

// Objects by key ("ns/name"; nodes and namespaces by name), as an informer cache holds them.
using ObjectMap = std::map<std::string, Json>;
// A lookup by key into a cache that is not an ObjectMap (nullptr when absent); the pointer is used only
// during the call that was given the lookup.
using KubeLookup = std::function<const Json*(const std::string& key)>;
struct KubeObjects {
  const ObjectMap* pods = nullptr;
  const ObjectMap* services = nullptr;
  const ObjectMap* endpointSlices = nullptr;
  const ObjectMap* endpoints = nullptr;
  const ObjectMap* ingresses = nullptr;
  const ObjectMap* nodes = nullptr;       // attach_metadata.node (and the node role)
  const ObjectMap* namespaces = nullptr;  // attach_metadata.namespace
  // When set, used instead of the map of the same kind (the object of the role is passed directly).
  KubeLookup findPod, findService, findNode, findNamespace;
};

// Every target of one SD config's role over `objects` (already restricted to its namespaces and
// selectors), one group per target (group labels merged into each), in object-key order.
std::vector<TargetGroup> kubernetesTargetGroups(const KubernetesSdConfig& config, const KubeObjects& objects);

// Per object (for tests and incremental use): the full label sets of its targets, __address__ included.
using LabelMap = std::map<std::string, std::string>;
std::vector<LabelMap> podTargets(const Json& pod, const KubernetesSdConfig& c, const KubeObjects& o);
std::vector<LabelMap> serviceTargets(const Json& svc, const KubernetesSdConfig& c, const KubeObjects& o);
std::vector<LabelMap> nodeTargets(const Json& node);
std::vector<LabelMap> endpointSliceTargets(const Json& slice, const KubernetesSdConfig& c, const KubeObjects& o);
std::vector<LabelMap> endpointsTargets(const Json& endpoints, const KubernetesSdConfig& c, const KubeObjects& o);
std::vector<LabelMap> ingressTargets(const Json& ingress, const KubernetesSdConfig& c, const KubeObjects& o);

// ASCII lower case (Kubernetes condition statuses, CR enum values written in Prometheus's spelling).
std::string asciiLower(std::string s);

// One object's targets split the way the allocator builds them (lib/prom/target TargetBuilder::buildObject):
// the labels all its targets share, and each target's own (__address__ included; names disjoint from the
// group's). mergeLabels(group, targets[i]) is exactly the i-th label set kubernetesTargetGroups gives
// (with __address__). Empty when the object has no target.
struct ObjectTargets {
  Labels group;
  std::vector<Labels> targets;
};
ObjectTargets objectTargets(const KubernetesSdConfig& c, const Json& object, const KubeObjects& o);

// One object's targets after its events (incremental Kubernetes SD, lib/targetallocator/kube_sd): the
// job, the index of the kubernetes_sd_config among all jobs' (with `key`, the order of a full rebuild:
// config, then object key), `key` (objectSourcePrefix + object key) and its targets, or `removed`.
struct KubernetesObjectUpdate {
  std::uint32_t job = 0;
  std::uint32_t sdConfig = 0;
  std::string key;
  bool removed = false;
  ObjectTargets targets;
};

// The other objects an object's targets read (incremental discovery recomputes it when one changes):
// its namespace (attach_metadata.namespace), Service keys ("ns/name"), Pod keys and node names (an
// endpoints or endpointslice object's Service and Pods, and with attach_metadata.node the nodes).
struct ObjectRefs {
  std::string ns;
  std::vector<std::string> services, pods, nodes;  // sorted, unique
};
ObjectRefs objectRefs(const KubernetesSdConfig& c, const Json& object);

// "pod/", "svc/", "endpoints/", "endpointslice/", "node/", "ingress/": TargetGroup.source is this prefix and the object's key.
std::string objectSourcePrefix(K8sRole role);

// strutil.SanitizeLabelName: every character outside [a-zA-Z0-9_] becomes '_'.
std::string sanitizeLabelName(const std::string& s);

}  // namespace otel::prom
