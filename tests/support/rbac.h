// Authorization as kube-apiserver does it with --authorization-mode=RBAC, for the test API server: request
// attributes from an HTTP request (kube's RequestInfoFactory), the system:masters superuser, the RBAC
// authorizer over stored Roles, ClusterRoles and their bindings, the 403 Status of a refusal, and the
// bootstrap policy a fresh cluster starts with. Pure: values in, values out (see docs/testing.md).
#pragma once
#include <map>
#include <string>
#include <vector>

#include "lib/core/json.h"

namespace otel::testing {

// An authenticated user (user.Info): name, groups and extra values (extra is carried, never authorized on).
struct UserInfo {
  std::string name;
  std::vector<std::string> groups;
  std::map<std::string, std::vector<std::string>> extra;
};

// The user as authentication.k8s.io/v1 UserInfo JSON (AdmissionReview request.userInfo, SelfSubjectReview
// status.userInfo): username, groups and extra, empty ones omitted.
Json userInfoJson(const UserInfo& user);

// authorizer.Attributes. A resource request names verb, apiGroup, resource, subresource, name and namespace;
// a non-resource request names path and verb (the lower-case HTTP method).
struct AuthzAttributes {
  bool resourceRequest = false;
  std::string verb;
  std::string apiGroup;
  std::string apiVersion;
  std::string resource;
  std::string subresource;
  std::string name;
  std::string ns;
  std::string path;
};

// The RBAC objects the authorizer reads, as stored (JSON objects of rbac.authorization.k8s.io/v1).
struct RbacPolicy {
  std::vector<Json> roles;
  std::vector<Json> clusterRoles;
  std::vector<Json> roleBindings;
  std::vector<Json> clusterRoleBindings;
};

struct AuthzDecision {
  bool allowed = false;
  // kube's reason: `RBAC: allowed by ClusterRoleBinding "b" of ClusterRole "r" to User "u"` when allowed by
  // RBAC, "" for a system:masters user, and for a refusal "" or `RBAC: <errors>` when bindings that apply to
  // the user name roles that do not exist (`clusterrole.rbac.authorization.k8s.io "r" not found`).
  std::string reason;
};

inline constexpr const char* kSystemMasters = "system:masters";
inline constexpr const char* kSystemAuthenticated = "system:authenticated";

// The attributes kube-apiserver derives from a request (RequestInfoFactory): /api and /apis paths with at
// least a resource are resource requests (namespaces/<ns>/<resource>/<name>/<subresource>, the legacy
// /watch/ and /proxy/ verb prefixes); GET without a name is list, or watch with ?watch other than false/0,
// and a list/watch whose fieldSelector requires metadata.name=<x> has name <x>; DELETE without a name is
// deletecollection. Everything else is a non-resource request with the lower-case method as verb.
// `query` holds the first value of each query parameter.
AuthzAttributes requestAttributes(const std::string& method, const std::string& path,
                                  const std::map<std::string, std::string>& query);

// Whether one PolicyRule (JSON) allows the attributes, as kube's RuleAllows: verbs, apiGroups and resources
// match exactly or with "*", "<resource>/<subresource>" and "*/<subresource>" name subresources, empty
// resourceNames allow every name; nonResourceURLs match exactly, with "*" or with a trailing "*" prefix.
bool ruleAllows(const Json& rule, const AuthzAttributes& attributes);

// The RBAC authorizer: ClusterRoleBindings (by name) then, when the request has a namespace, the
// RoleBindings of that namespace (by name); the first rule that allows decides. Subjects: User (name), Group,
// ServiceAccount (user system:serviceaccount:<ns>:<name>; the namespace defaults to the RoleBinding's).
// RBAC never denies explicitly: a refusal is "no opinion". aggregationRule is not evaluated (the stored rules
// are used as they are).
AuthzDecision rbacAuthorize(const RbacPolicy& policy, const UserInfo& user, const AuthzAttributes& attributes);

// kube-apiserver's authorizer chain as the test API server runs it: members of system:masters are allowed
// (reason ""), everyone else is decided by RBAC.
AuthzDecision authorize(const RbacPolicy& policy, const UserInfo& user, const AuthzAttributes& attributes);

// The 403 Status kube-apiserver answers when a request is refused:
//   <resource>[.<group>][ "<name>"] is forbidden: User "<u>" cannot <verb> resource "<resource>[/<sub>]" in API
//   group "<group>" (in the namespace "<ns>"|at the cluster scope)[: <reason>]
//   forbidden: User "<u>" cannot <verb> path "<path>"[: <reason>]
// details: {name, group, kind: <resource>} (empty fields omitted).
Json forbiddenStatus(const UserInfo& user, const AuthzAttributes& attributes, const std::string& reason);

// The bootstrap policy of a fresh cluster (kube's bootstrappolicy, with its labels and autoupdate annotation):
// ClusterRoles cluster-admin, system:discovery, system:basic-user, system:public-info-viewer and their
// ClusterRoleBindings (cluster-admin to Group system:masters; system:discovery and system:basic-user to
// system:authenticated; system:public-info-viewer to system:authenticated and system:unauthenticated).
std::vector<Json> bootstrapClusterRoles();
std::vector<Json> bootstrapClusterRoleBindings();

// Field readers shared by the authorizer and the access reviews: a string field ("" when absent or not a
// string) and the strings of an array field.
std::string stringField(const Json& obj, const char* field);
std::vector<std::string> stringList(const Json& obj, const char* field);

}  // namespace otel::testing
