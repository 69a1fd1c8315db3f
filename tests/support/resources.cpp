#include "tests/support/resources.h"

#include <openssl/sha.h>

#include <algorithm>
#include <cctype>
#include <set>

#include "tests/support/api_logic.h"

namespace otel::testing {
namespace {

struct Row {
  const char* group;
  const char* version;
  const char* resource;
  const char* singular;
  const char* kind;
  bool namespaced;
  std::vector<std::string> shortNames;
  std::vector<std::string> categories;
  bool status;
  bool scale;
  bool generation;
};

const std::vector<Row>& rows() {
  static const std::vector<Row> r = {
      {"", "v1", "configmaps", "configmap", "ConfigMap", true, {"cm"}, {}, false, false, false},
      {"", "v1", "endpoints", "endpoints", "Endpoints", true, {"ep"}, {}, false, false, false},
      {"", "v1", "events", "event", "Event", true, {"ev"}, {}, false, false, false},
      {"", "v1", "limitranges", "limitrange", "LimitRange", true, {"limits"}, {}, false, false, false},
      {"", "v1", "namespaces", "namespace", "Namespace", false, {"ns"}, {}, true, false, false},
      {"", "v1", "nodes", "node", "Node", false, {"no"}, {}, true, false, false},
      {"", "v1", "persistentvolumeclaims", "persistentvolumeclaim", "PersistentVolumeClaim", true, {"pvc"}, {}, true,
       false, false},
      {"", "v1", "persistentvolumes", "persistentvolume", "PersistentVolume", false, {"pv"}, {}, true, false, false},
      {"", "v1", "pods", "pod", "Pod", true, {"po"}, {"all"}, true, false, true},
      {"", "v1", "podtemplates", "podtemplate", "PodTemplate", true, {}, {}, false, false, false},
      {"", "v1", "replicationcontrollers", "replicationcontroller", "ReplicationController", true, {"rc"}, {"all"}, true,
       true, true},
      {"", "v1", "resourcequotas", "resourcequota", "ResourceQuota", true, {"quota"}, {}, true, false, false},
      {"", "v1", "secrets", "secret", "Secret", true, {}, {}, false, false, false},
      {"", "v1", "serviceaccounts", "serviceaccount", "ServiceAccount", true, {"sa"}, {}, false, false, false},
      {"", "v1", "services", "service", "Service", true, {"svc"}, {"all"}, true, false, false},
      {"apps", "v1", "controllerrevisions", "controllerrevision", "ControllerRevision", true, {}, {}, false, false, false},
      {"apps", "v1", "daemonsets", "daemonset", "DaemonSet", true, {"ds"}, {"all"}, true, false, true},
      {"apps", "v1", "deployments", "deployment", "Deployment", true, {"deploy"}, {"all"}, true, true, true},
      {"apps", "v1", "replicasets", "replicaset", "ReplicaSet", true, {"rs"}, {"all"}, true, true, true},
      {"apps", "v1", "statefulsets", "statefulset", "StatefulSet", true, {"sts"}, {"all"}, true, true, true},
      {"batch", "v1", "cronjobs", "cronjob", "CronJob", true, {"cj"}, {"all"}, true, false, true},
      {"batch", "v1", "jobs", "job", "Job", true, {}, {"all"}, true, false, true},
      {"coordination.k8s.io", "v1", "leases", "lease", "Lease", true, {}, {}, false, false, false},
      {"policy", "v1", "poddisruptionbudgets", "poddisruptionbudget", "PodDisruptionBudget", true, {"pdb"}, {}, true,
       false, true},
      {"autoscaling", "v2", "horizontalpodautoscalers", "horizontalpodautoscaler", "HorizontalPodAutoscaler", true,
       {"hpa"}, {"all"}, true, false, true},
      {"rbac.authorization.k8s.io", "v1", "clusterrolebindings", "clusterrolebinding", "ClusterRoleBinding", false, {},
       {}, false, false, false},
      {"rbac.authorization.k8s.io", "v1", "clusterroles", "clusterrole", "ClusterRole", false, {}, {}, false, false,
       false},
      {"rbac.authorization.k8s.io", "v1", "rolebindings", "rolebinding", "RoleBinding", true, {}, {}, false, false,
       false},
      {"rbac.authorization.k8s.io", "v1", "roles", "role", "Role", true, {}, {}, false, false, false},
      {"admissionregistration.k8s.io", "v1", "mutatingwebhookconfigurations", "mutatingwebhookconfiguration",
       "MutatingWebhookConfiguration", false, {}, {"api-extensions"}, false, false, true},
      {"admissionregistration.k8s.io", "v1", "validatingwebhookconfigurations", "validatingwebhookconfiguration",
       "ValidatingWebhookConfiguration", false, {}, {"api-extensions"}, false, false, true},
      {"networking.k8s.io", "v1", "ingressclasses", "ingressclass", "IngressClass", false, {}, {}, false, false, false},
      {"networking.k8s.io", "v1", "ingresses", "ingress", "Ingress", true, {"ing"}, {}, true, false, true},
      {"networking.k8s.io", "v1", "networkpolicies", "networkpolicy", "NetworkPolicy", true, {"netpol"}, {}, false,
       false, true},
      {"discovery.k8s.io", "v1", "endpointslices", "endpointslice", "EndpointSlice", true, {}, {}, false, false, false},
      {"apiextensions.k8s.io", "v1", "customresourcedefinitions", "customresourcedefinition",
       "CustomResourceDefinition", false, {"crd", "crds"}, {"api-extensions"}, true, false, true},
  };
  return r;
}

std::string storageHash(const ResourceType& t) {
  std::string in = t.apiVersion() + "/" + t.kind;
  unsigned char md[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(in.data()), in.size(), md);
  return base64Std(std::string(reinterpret_cast<char*>(md), 8));
}

Json strings(const std::vector<std::string>& v) {
  Json a = Json::array();
  for (const auto& s : v) a.push_back(s);
  return a;
}

const std::vector<std::string> kVerbs = {"create", "delete", "deletecollection", "get", "list", "patch", "update",
                                         "watch"};
// Namespaces cannot be deleted as a collection.
std::vector<std::string> verbsFor(const ResourceType& t) {
  if (t.review) return {"create"};
  if (t.group.empty() && t.resource == "namespaces")
    return {"create", "delete", "get", "list", "patch", "update", "watch"};
  // The apiextensions server lists custom resource verbs in its own order.
  if (t.custom) return {"delete", "deletecollection", "get", "list", "patch", "create", "update", "watch"};
  return kVerbs;
}

const std::vector<std::string> kSubVerbs = {"get", "patch", "update"};

std::vector<std::string> groupsInOrder(const std::vector<ResourceType>& types) {
  std::vector<std::string> groups;
  for (const auto& t : types)
    if (!t.group.empty() && std::find(groups.begin(), groups.end(), t.group) == groups.end()) groups.push_back(t.group);
  return groups;
}

Json gv(const std::string& group, const std::string& version) {
  return Json{{"groupVersion", group + "/" + version}, {"version", version}};
}

}  // namespace

std::vector<ResourceType> builtinResourceTypes() {
  std::vector<ResourceType> out;
  for (const auto& r : rows()) {
    ResourceType t;
    t.group = r.group;
    t.version = r.version;
    t.resource = r.resource;
    t.singular = r.singular;
    t.kind = r.kind;
    t.listKind = t.kind + "List";
    t.namespaced = r.namespaced;
    t.shortNames = r.shortNames;
    t.categories = r.categories;
    t.statusSubresource = r.status;
    t.scaleSubresource = r.scale;
    t.hasGeneration = r.generation;
    out.push_back(std::move(t));
  }
  // The access reviews (create-only, never stored), after apps as kube-apiserver lists the groups.
  struct ReviewRow {
    const char* group;
    const char* resource;
    const char* kind;
    bool namespaced;
  };
  static const ReviewRow reviews[] = {
      {"authentication.k8s.io", "selfsubjectreviews", "SelfSubjectReview", false},
      {"authorization.k8s.io", "localsubjectaccessreviews", "LocalSubjectAccessReview", true},
      {"authorization.k8s.io", "selfsubjectaccessreviews", "SelfSubjectAccessReview", false},
      {"authorization.k8s.io", "subjectaccessreviews", "SubjectAccessReview", false},
  };
  auto pos = std::find_if(out.begin(), out.end(), [](const ResourceType& t) { return t.group == "batch"; });
  std::vector<ResourceType> reviewTypes;
  for (const auto& r : reviews) {
    ResourceType t;
    t.group = r.group;
    t.version = "v1";
    t.resource = r.resource;
    t.kind = r.kind;
    t.listKind = t.kind + "List";
    std::string singular = t.resource.substr(0, t.resource.size() - 1);
    t.singular = singular;
    t.namespaced = r.namespaced;
    t.review = true;
    reviewTypes.push_back(std::move(t));
  }
  out.insert(pos, reviewTypes.begin(), reviewTypes.end());
  return out;
}

std::vector<ResourceType> crdResourceTypes(const Json& crd) {
  std::vector<ResourceType> out;
  const Json spec = crd.value("spec", Json::object());
  const Json names = spec.value("names", Json::object());
  if (!spec.contains("group") || !names.contains("plural") || !names.contains("kind")) return out;
  if (!spec.contains("versions") || !spec["versions"].is_array()) return out;
  std::string storageVersion;
  for (const auto& v : spec["versions"])
    if (v.is_object() && v.value("storage", false)) storageVersion = v.value("name", "");
  Json conversionWebhook;
  if (spec.contains("conversion") && spec["conversion"].is_object() &&
      spec["conversion"].value("strategy", "None") == "Webhook" && !storageVersion.empty()) {
    conversionWebhook = spec["conversion"].value("webhook", Json::object());
    if (!conversionWebhook.is_object()) conversionWebhook = Json::object();
  }
  for (const auto& v : spec["versions"]) {
    if (!v.value("served", true)) continue;
    ResourceType t;
    t.group = spec["group"].get<std::string>();
    t.version = v.value("name", "");
    t.resource = names["plural"].get<std::string>();
    t.kind = names["kind"].get<std::string>();
    std::string lower = t.kind;
    for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    t.singular = names.value("singular", lower);
    t.listKind = names.value("listKind", t.kind + "List");
    t.namespaced = spec.value("scope", "Namespaced") == "Namespaced";
    if (names.contains("shortNames") && names["shortNames"].is_array())
      for (const auto& s : names["shortNames"]) t.shortNames.push_back(s.get<std::string>());
    if (names.contains("categories") && names["categories"].is_array())
      for (const auto& s : names["categories"]) t.categories.push_back(s.get<std::string>());
    Json sub = v.contains("subresources") ? v["subresources"] : spec.value("subresources", Json());
    t.statusSubresource = sub.is_object() && sub.contains("status");
    t.scaleSubresource = sub.is_object() && sub.contains("scale");
    if (t.scaleSubresource && sub["scale"].is_object()) {
      t.specReplicasPath = sub["scale"].value("specReplicasPath", t.specReplicasPath);
      t.statusReplicasPath = sub["scale"].value("statusReplicasPath", t.statusReplicasPath);
      t.labelSelectorPath = sub["scale"].value("labelSelectorPath", "");
    }
    t.hasGeneration = true;
    t.custom = true;
    t.storageApiVersion = t.group + "/" + storageVersion;
    t.conversionWebhook = conversionWebhook;
    if (v.contains("schema") && v["schema"].is_object() && v["schema"].contains("openAPIV3Schema"))
      t.schema = v["schema"]["openAPIV3Schema"];
    else if (spec.contains("validation") && spec["validation"].contains("openAPIV3Schema"))
      t.schema = spec["validation"]["openAPIV3Schema"];
    out.push_back(std::move(t));
  }
  return out;
}

std::vector<std::string> groupVersions(const std::vector<ResourceType>& types, const std::string& group) {
  std::vector<std::string> versions;
  for (const auto& t : types)
    if (t.group == group && std::find(versions.begin(), versions.end(), t.version) == versions.end())
      versions.push_back(t.version);
  std::stable_sort(versions.begin(), versions.end(), versionBefore);
  return versions;
}

Json discoveryApiVersions() {
  return Json{{"kind", "APIVersions"},
              {"versions", Json::array({"v1"})},
              {"serverAddressByClientCIDRs", Json::array({Json{{"clientCIDR", "0.0.0.0/0"}, {"serverAddress", ""}}})}};
}

Json discoveryGroup(const std::vector<ResourceType>& types, const std::string& group) {
  auto versions = groupVersions(types, group);
  if (versions.empty()) return nullptr;
  Json g = Json::object();
  g["name"] = group;
  g["versions"] = Json::array();
  for (const auto& v : versions) g["versions"].push_back(gv(group, v));
  g["preferredVersion"] = gv(group, versions.front());
  return g;
}

Json discoveryGroupList(const std::vector<ResourceType>& types) {
  Json list = Json{{"kind", "APIGroupList"}, {"apiVersion", "v1"}, {"groups", Json::array()}};
  for (const auto& g : groupsInOrder(types)) list["groups"].push_back(discoveryGroup(types, g));
  return list;
}

Json discoveryResourceList(const std::vector<ResourceType>& types, const std::string& group,
                           const std::string& version) {
  Json resources = Json::array();
  bool any = false;
  std::vector<const ResourceType*> sorted;
  for (const auto& t : types)
    if (t.group == group && t.version == version) sorted.push_back(&t);
  std::sort(sorted.begin(), sorted.end(), [](auto* a, auto* b) { return a->resource < b->resource; });
  for (const auto* tp : sorted) {
    const auto& t = *tp;
    any = true;
    Json r = Json::object();
    r["name"] = t.resource;
    r["singularName"] = t.singular;
    r["namespaced"] = t.namespaced;
    r["kind"] = t.kind;
    r["verbs"] = strings(verbsFor(t));
    if (!t.shortNames.empty()) r["shortNames"] = strings(t.shortNames);
    if (!t.categories.empty()) r["categories"] = strings(t.categories);
    if (!t.review) r["storageVersionHash"] = storageHash(t);  // only stored resources have one
    resources.push_back(r);
    if (t.scaleSubresource)
      resources.push_back(Json{{"name", t.resource + "/scale"}, {"singularName", ""}, {"namespaced", t.namespaced},
                               {"group", "autoscaling"}, {"version", "v1"}, {"kind", "Scale"},
                               {"verbs", strings(kSubVerbs)}});
    if (t.statusSubresource)
      resources.push_back(Json{{"name", t.resource + "/status"}, {"singularName", ""}, {"namespaced", t.namespaced},
                               {"kind", t.kind}, {"verbs", strings(kSubVerbs)}});
  }
  if (!any) return nullptr;
  Json list = Json::object();
  list["kind"] = "APIResourceList";
  if (!group.empty()) list["apiVersion"] = "v1";
  list["groupVersion"] = group.empty() ? version : group + "/" + version;
  list["resources"] = resources;
  return list;
}

Json aggregatedDiscovery(const std::vector<ResourceType>& types, bool core) {
  Json list = Json{{"kind", "APIGroupDiscoveryList"},
                   {"apiVersion", "apidiscovery.k8s.io/v2"},
                   {"metadata", Json::object()},
                   {"items", Json::array()}};
  std::vector<std::string> groups = core ? std::vector<std::string>{""} : groupsInOrder(types);
  for (const auto& g : groups) {
    Json item = Json::object();
    item["metadata"] = g.empty() ? Json::object() : Json{{"name", g}};
    item["versions"] = Json::array();
    for (const auto& v : groupVersions(types, g)) {
      Json resources = Json::array();
      std::vector<const ResourceType*> sorted;
      for (const auto& t : types)
        if (t.group == g && t.version == v) sorted.push_back(&t);
      std::sort(sorted.begin(), sorted.end(), [](auto* a, auto* b) { return a->resource < b->resource; });
      for (const auto* tp : sorted) {
        const auto& t = *tp;
        Json r = Json::object();
        r["resource"] = t.resource;
        r["responseKind"] = Json{{"group", ""}, {"version", ""}, {"kind", t.kind}};
        r["scope"] = t.namespaced ? "Namespaced" : "Cluster";
        r["singularResource"] = t.singular;
        r["verbs"] = strings(verbsFor(t));
        if (!t.shortNames.empty()) r["shortNames"] = strings(t.shortNames);
        if (!t.categories.empty()) r["categories"] = strings(t.categories);
        Json subs = Json::array();
        if (t.scaleSubresource)
          subs.push_back(Json{{"subresource", "scale"},
                              {"responseKind", Json{{"group", "autoscaling"}, {"version", "v1"}, {"kind", "Scale"}}},
                              {"verbs", strings(kSubVerbs)}});
        if (t.statusSubresource)
          subs.push_back(Json{{"subresource", "status"},
                              {"responseKind", Json{{"group", ""}, {"version", ""}, {"kind", t.kind}}},
                              {"verbs", strings(kSubVerbs)}});
        if (!subs.empty()) r["subresources"] = subs;
        resources.push_back(r);
      }
      item["versions"].push_back(Json{{"version", v}, {"resources", resources}, {"freshness", "Current"}});
    }
    list["items"].push_back(item);
  }
  return list;
}

}  // namespace otel::testing
