// The test API server's authorizer (tests/support/rbac.h) as a pure unit: request attributes, rule matching,
// RBAC binding resolution with kube's reasons, the forbidden Status and the bootstrap policy.
#include "tests/support/rbac.h"

#include <gtest/gtest.h>

#include "tests/support/api_logic.h"

namespace otel::testing {
namespace {

AuthzAttributes res(const std::string& verb, const std::string& group, const std::string& resource,
                    const std::string& ns = "", const std::string& name = "", const std::string& sub = "") {
  AuthzAttributes a;
  a.resourceRequest = true;
  a.verb = verb;
  a.apiGroup = group;
  a.resource = resource;
  a.ns = ns;
  a.name = name;
  a.subresource = sub;
  return a;
}

AuthzAttributes url(const std::string& verb, const std::string& path) {
  AuthzAttributes a;
  a.verb = verb;
  a.path = path;
  return a;
}

UserInfo user(const std::string& name, std::vector<std::string> groups = {}) {
  UserInfo u;
  u.name = name;
  u.groups = std::move(groups);
  return u;
}

Json rule(const std::string& text) { return Json::parse(text); }

Json clusterRole(const std::string& name, const std::string& rules) {
  return Json{{"apiVersion", "rbac.authorization.k8s.io/v1"},
              {"kind", "ClusterRole"},
              {"metadata", {{"name", name}}},
              {"rules", Json::parse(rules)}};
}

Json role(const std::string& ns, const std::string& name, const std::string& rules) {
  return Json{{"apiVersion", "rbac.authorization.k8s.io/v1"},
              {"kind", "Role"},
              {"metadata", {{"name", name}, {"namespace", ns}}},
              {"rules", Json::parse(rules)}};
}

Json binding(const std::string& kind, const std::string& ns, const std::string& name, const std::string& roleKind,
             const std::string& roleName, const std::string& subjects) {
  Json m{{"name", name}};
  if (!ns.empty()) m["namespace"] = ns;
  return Json{{"apiVersion", "rbac.authorization.k8s.io/v1"},
              {"kind", kind},
              {"metadata", m},
              {"subjects", Json::parse(subjects)},
              {"roleRef", {{"apiGroup", "rbac.authorization.k8s.io"}, {"kind", roleKind}, {"name", roleName}}}};
}

const char* kAlice = R"([{"kind":"User","apiGroup":"rbac.authorization.k8s.io","name":"alice"}])";

// ---------------------------------------------------------------- request attributes

TEST(RequestAttributes, ResourceRequestsLikeRequestInfoFactory) {
  auto a = requestAttributes("GET", "/api/v1/namespaces/default/configmaps", {});
  EXPECT_TRUE(a.resourceRequest);
  EXPECT_EQ(a.verb, "list");
  EXPECT_EQ(a.apiGroup, "");
  EXPECT_EQ(a.apiVersion, "v1");
  EXPECT_EQ(a.resource, "configmaps");
  EXPECT_EQ(a.ns, "default");
  EXPECT_EQ(a.name, "");

  EXPECT_EQ(requestAttributes("GET", "/api/v1/namespaces/default/configmaps", {{"watch", "true"}}).verb, "watch");
  EXPECT_EQ(requestAttributes("GET", "/api/v1/namespaces/default/configmaps", {{"watch", "1"}}).verb, "watch");
  EXPECT_EQ(requestAttributes("GET", "/api/v1/namespaces/default/configmaps", {{"watch", "false"}}).verb, "list");
  EXPECT_EQ(requestAttributes("GET", "/api/v1/namespaces/default/configmaps", {{"watch", "0"}}).verb, "list");
  EXPECT_EQ(requestAttributes("GET", "/api/v1/namespaces/default/configmaps", {{"watch", "True"}}).verb, "watch");
  EXPECT_EQ(requestAttributes("GET", "/api/v1/namespaces/default/configmaps", {{"watch", ""}}).verb, "watch");
  EXPECT_EQ(requestAttributes("GET", "/api/v1/namespaces/default/configmaps", {{"watch", "FALSE"}}).verb, "list");
  EXPECT_EQ(requestAttributes("GET", "/api/v1/namespaces/default/configmaps/x", {}).verb, "get");
  EXPECT_EQ(requestAttributes("HEAD", "/api/v1/namespaces/default/configmaps/x", {}).verb, "get");
  EXPECT_EQ(requestAttributes("POST", "/api/v1/namespaces/default/configmaps", {}).verb, "create");
  EXPECT_EQ(requestAttributes("PUT", "/api/v1/namespaces/default/configmaps/x", {}).verb, "update");
  EXPECT_EQ(requestAttributes("PATCH", "/api/v1/namespaces/default/configmaps/x", {}).verb, "patch");
  EXPECT_EQ(requestAttributes("DELETE", "/api/v1/namespaces/default/configmaps/x", {}).verb, "delete");
  EXPECT_EQ(requestAttributes("DELETE", "/api/v1/namespaces/default/configmaps", {}).verb, "deletecollection");

  // A list or watch whose field selector names one object is authorized for that name.
  auto named = requestAttributes("GET", "/api/v1/namespaces/default/configmaps",
                                 {{"watch", "true"}, {"fieldSelector", "metadata.name=cfg"}});
  EXPECT_EQ(named.verb, "watch");
  EXPECT_EQ(named.name, "cfg");
  EXPECT_EQ(requestAttributes("GET", "/api/v1/namespaces/default/configmaps",
                              {{"fieldSelector", "metadata.name!=cfg"}})
                .name,
            "");
  // ... unless the name is not a valid path segment.
  EXPECT_EQ(requestAttributes("GET", "/api/v1/namespaces/default/configmaps", {{"fieldSelector", "metadata.name=a/b"}})
                .name,
            "");

  auto scale = requestAttributes("PUT", "/apis/apps/v1/namespaces/ns1/deployments/web/scale", {});
  EXPECT_EQ(scale.verb, "update");
  EXPECT_EQ(scale.apiGroup, "apps");
  EXPECT_EQ(scale.resource, "deployments");
  EXPECT_EQ(scale.name, "web");
  EXPECT_EQ(scale.subresource, "scale");
  EXPECT_EQ(scale.ns, "ns1");

  // Namespaces: the namespace of GET /api/v1/namespaces/foo is foo; status is a namespace subresource.
  auto ns = requestAttributes("GET", "/api/v1/namespaces/foo", {});
  EXPECT_EQ(ns.resource, "namespaces");
  EXPECT_EQ(ns.name, "foo");
  EXPECT_EQ(ns.ns, "foo");
  auto nsStatus = requestAttributes("PUT", "/api/v1/namespaces/foo/status", {});
  EXPECT_EQ(nsStatus.resource, "namespaces");
  EXPECT_EQ(nsStatus.subresource, "status");
  EXPECT_EQ(nsStatus.ns, "foo");
  auto nsList = requestAttributes("GET", "/api/v1/namespaces", {});
  EXPECT_EQ(nsList.verb, "list");
  EXPECT_EQ(nsList.ns, "");

  auto nodes = requestAttributes("GET", "/api/v1/nodes/n1", {});
  EXPECT_EQ(nodes.resource, "nodes");
  EXPECT_EQ(nodes.name, "n1");
  EXPECT_EQ(nodes.ns, "");

  auto legacyWatch = requestAttributes("GET", "/api/v1/watch/namespaces/ns1/pods", {});
  EXPECT_EQ(legacyWatch.verb, "watch");
  EXPECT_EQ(legacyWatch.resource, "pods");
  EXPECT_EQ(legacyWatch.ns, "ns1");

  auto sar = requestAttributes("POST", "/apis/authorization.k8s.io/v1/subjectaccessreviews", {});
  EXPECT_EQ(sar.verb, "create");
  EXPECT_EQ(sar.apiGroup, "authorization.k8s.io");
  EXPECT_EQ(sar.resource, "subjectaccessreviews");
}

TEST(RequestAttributes, NonResourceRequests) {
  for (const char* p : {"/", "/api", "/api/v1", "/apis", "/apis/apps", "/apis/apps/v1", "/version", "/healthz",
                        "/openapi/v3", "/openapi/v3/apis/apps/v1"}) {
    auto a = requestAttributes("GET", p, {});
    EXPECT_FALSE(a.resourceRequest) << p;
    EXPECT_EQ(a.verb, "get") << p;
    EXPECT_EQ(a.path, p);
  }
  EXPECT_EQ(requestAttributes("POST", "/apis", {}).verb, "post");
}

// ---------------------------------------------------------------- rule matching

TEST(RuleAllows, VerbsGroupsAndResources) {
  Json r = rule(R"({"verbs":["get","list"],"apiGroups":[""],"resources":["configmaps"]})");
  EXPECT_TRUE(ruleAllows(r, res("get", "", "configmaps", "ns")));
  EXPECT_TRUE(ruleAllows(r, res("list", "", "configmaps")));
  EXPECT_FALSE(ruleAllows(r, res("watch", "", "configmaps", "ns")));
  EXPECT_FALSE(ruleAllows(r, res("get", "apps", "configmaps", "ns")));
  EXPECT_FALSE(ruleAllows(r, res("get", "", "secrets", "ns")));
  // A resource rule never allows a non-resource request and the other way round.
  EXPECT_FALSE(ruleAllows(r, url("get", "/configmaps")));
  EXPECT_FALSE(ruleAllows(rule(R"({"verbs":["get"],"nonResourceURLs":["*"]})"), res("get", "", "configmaps")));

  Json all = rule(R"({"verbs":["*"],"apiGroups":["*"],"resources":["*"]})");
  EXPECT_TRUE(ruleAllows(all, res("deletecollection", "example.com", "widgets", "ns")));
  EXPECT_TRUE(ruleAllows(all, res("update", "apps", "deployments", "ns", "d", "scale")));
  EXPECT_FALSE(ruleAllows(rule(R"({"verbs":[],"apiGroups":["*"],"resources":["*"]})"), res("get", "", "pods")));
  EXPECT_FALSE(ruleAllows(rule(R"({"verbs":["*"],"apiGroups":["*"],"resources":[]})"), res("get", "", "pods")));
}

TEST(RuleAllows, Subresources) {
  Json pods = rule(R"({"verbs":["*"],"apiGroups":[""],"resources":["pods"]})");
  EXPECT_TRUE(ruleAllows(pods, res("get", "", "pods", "ns", "p")));
  EXPECT_FALSE(ruleAllows(pods, res("get", "", "pods", "ns", "p", "status")));
  Json status = rule(R"({"verbs":["*"],"apiGroups":[""],"resources":["pods/status"]})");
  EXPECT_TRUE(ruleAllows(status, res("update", "", "pods", "ns", "p", "status")));
  EXPECT_FALSE(ruleAllows(status, res("update", "", "pods", "ns", "p")));
  EXPECT_FALSE(ruleAllows(status, res("update", "", "pods", "ns", "p", "log")));
  Json anyStatus = rule(R"({"verbs":["*"],"apiGroups":["*"],"resources":["*/status"]})");
  EXPECT_TRUE(ruleAllows(anyStatus, res("patch", "apps", "deployments", "ns", "d", "status")));
  EXPECT_FALSE(ruleAllows(anyStatus, res("patch", "apps", "deployments", "ns", "d")));
  EXPECT_FALSE(ruleAllows(anyStatus, res("patch", "apps", "deployments", "ns", "d", "scale")));
  // "<resource>/*" is not an RBAC wildcard.
  Json podsAny = rule(R"({"verbs":["*"],"apiGroups":[""],"resources":["pods/*"]})");
  EXPECT_FALSE(ruleAllows(podsAny, res("get", "", "pods", "ns", "p", "status")));
}

TEST(RuleAllows, ResourceNames) {
  Json named = rule(R"({"verbs":["get","list","watch","create","update"],"apiGroups":[""],"resources":["configmaps"],
                       "resourceNames":["cfg"]})");
  EXPECT_TRUE(ruleAllows(named, res("get", "", "configmaps", "ns", "cfg")));
  EXPECT_TRUE(ruleAllows(named, res("update", "", "configmaps", "ns", "cfg")));
  EXPECT_FALSE(ruleAllows(named, res("get", "", "configmaps", "ns", "other")));
  // list, watch and create carry no name (unless a list/watch selects metadata.name).
  EXPECT_FALSE(ruleAllows(named, res("list", "", "configmaps", "ns")));
  EXPECT_FALSE(ruleAllows(named, res("create", "", "configmaps", "ns")));
  EXPECT_TRUE(ruleAllows(named, res("watch", "", "configmaps", "ns", "cfg")));
  Json unnamed = rule(R"({"verbs":["get"],"apiGroups":[""],"resources":["configmaps"],"resourceNames":[]})");
  EXPECT_TRUE(ruleAllows(unnamed, res("get", "", "configmaps", "ns", "anything")));
}

TEST(RuleAllows, NonResourceUrls) {
  Json r = rule(R"({"verbs":["get"],"nonResourceURLs":["/healthz","/apis/*"]})");
  EXPECT_TRUE(ruleAllows(r, url("get", "/healthz")));
  EXPECT_FALSE(ruleAllows(r, url("get", "/healthz/etcd")));
  EXPECT_FALSE(ruleAllows(r, url("post", "/healthz")));
  EXPECT_TRUE(ruleAllows(r, url("get", "/apis/apps")));
  EXPECT_TRUE(ruleAllows(r, url("get", "/apis/")));
  EXPECT_FALSE(ruleAllows(r, url("get", "/apis")));
  EXPECT_TRUE(ruleAllows(rule(R"({"verbs":["*"],"nonResourceURLs":["*"]})"), url("delete", "/anything")));
}

// ---------------------------------------------------------------- RBAC authorizer

TEST(RbacAuthorizer, ClusterRoleBindingGrantsEverywhere) {
  RbacPolicy p;
  p.clusterRoles.push_back(clusterRole("reader", R"([{"verbs":["get"],"apiGroups":[""],"resources":["pods"]}])"));
  p.clusterRoleBindings.push_back(binding("ClusterRoleBinding", "", "alice-reads", "ClusterRole", "reader", kAlice));
  auto d = rbacAuthorize(p, user("alice"), res("get", "", "pods", "ns1", "p"));
  EXPECT_TRUE(d.allowed);
  EXPECT_EQ(d.reason, R"(RBAC: allowed by ClusterRoleBinding "alice-reads" of ClusterRole "reader" to User "alice")");
  EXPECT_TRUE(rbacAuthorize(p, user("alice"), res("get", "", "pods")).allowed);
  auto no = rbacAuthorize(p, user("bob"), res("get", "", "pods", "ns1", "p"));
  EXPECT_FALSE(no.allowed);
  EXPECT_EQ(no.reason, "");
  EXPECT_FALSE(rbacAuthorize(p, user("alice"), res("delete", "", "pods", "ns1", "p")).allowed);
}

TEST(RbacAuthorizer, RoleBindingsGrantInTheirNamespaceOnly) {
  RbacPolicy p;
  p.roles.push_back(role("dev", "cm-editor", R"([{"verbs":["*"],"apiGroups":[""],"resources":["configmaps"]}])"));
  p.clusterRoles.push_back(clusterRole("secret-reader", R"([{"verbs":["get"],"apiGroups":[""],"resources":["secrets"]}])"));
  p.roleBindings.push_back(binding("RoleBinding", "dev", "alice-cm", "Role", "cm-editor", kAlice));
  p.roleBindings.push_back(binding("RoleBinding", "dev", "alice-secrets", "ClusterRole", "secret-reader", kAlice));
  auto d = rbacAuthorize(p, user("alice"), res("create", "", "configmaps", "dev"));
  EXPECT_TRUE(d.allowed);
  EXPECT_EQ(d.reason, R"(RBAC: allowed by RoleBinding "alice-cm/dev" of Role "cm-editor" to User "alice")");
  auto s = rbacAuthorize(p, user("alice"), res("get", "", "secrets", "dev", "s"));
  EXPECT_TRUE(s.allowed);
  EXPECT_EQ(s.reason, R"(RBAC: allowed by RoleBinding "alice-secrets/dev" of ClusterRole "secret-reader" to User "alice")");
  // Not in another namespace, not at the cluster scope (all namespaces).
  EXPECT_FALSE(rbacAuthorize(p, user("alice"), res("create", "", "configmaps", "prod")).allowed);
  EXPECT_FALSE(rbacAuthorize(p, user("alice"), res("get", "", "secrets", "prod", "s")).allowed);
  EXPECT_FALSE(rbacAuthorize(p, user("alice"), res("list", "", "configmaps")).allowed);
  // A Role of another namespace is not found from a RoleBinding.
  RbacPolicy q;
  q.roles.push_back(role("prod", "cm-editor", R"([{"verbs":["*"],"apiGroups":[""],"resources":["configmaps"]}])"));
  q.roleBindings.push_back(binding("RoleBinding", "dev", "alice-cm", "Role", "cm-editor", kAlice));
  auto nf = rbacAuthorize(q, user("alice"), res("get", "", "configmaps", "dev", "c"));
  EXPECT_FALSE(nf.allowed);
  EXPECT_EQ(nf.reason, R"(RBAC: role.rbac.authorization.k8s.io "cm-editor" not found)");
}

TEST(RbacAuthorizer, GroupAndServiceAccountSubjects) {
  RbacPolicy p;
  p.clusterRoles.push_back(clusterRole("cm", R"([{"verbs":["get"],"apiGroups":[""],"resources":["configmaps"]}])"));
  p.clusterRoleBindings.push_back(binding("ClusterRoleBinding", "", "devs", "ClusterRole", "cm",
                                          R"([{"kind":"Group","apiGroup":"rbac.authorization.k8s.io","name":"devs"}])"));
  auto g = rbacAuthorize(p, user("carol", {"devs"}), res("get", "", "configmaps", "x", "c"));
  EXPECT_TRUE(g.allowed);
  EXPECT_EQ(g.reason, R"(RBAC: allowed by ClusterRoleBinding "devs" of ClusterRole "cm" to Group "devs")");
  EXPECT_FALSE(rbacAuthorize(p, user("devs"), res("get", "", "configmaps", "x", "c")).allowed);

  RbacPolicy sa;
  sa.clusterRoles = p.clusterRoles;
  // Namespace given: matches system:serviceaccount:<ns>:<name> wherever the binding lives.
  sa.clusterRoleBindings.push_back(binding("ClusterRoleBinding", "", "sa-crb", "ClusterRole", "cm",
                                           R"([{"kind":"ServiceAccount","name":"bot","namespace":"ops"}])"));
  auto crb = rbacAuthorize(sa, user("system:serviceaccount:ops:bot"), res("get", "", "configmaps", "x", "c"));
  EXPECT_TRUE(crb.allowed);
  EXPECT_EQ(crb.reason, R"(RBAC: allowed by ClusterRoleBinding "sa-crb" of ClusterRole "cm" to ServiceAccount "bot/ops")");
  EXPECT_FALSE(rbacAuthorize(sa, user("system:serviceaccount:other:bot"), res("get", "", "configmaps", "x", "c")).allowed);
  EXPECT_FALSE(rbacAuthorize(sa, user("bot"), res("get", "", "configmaps", "x", "c")).allowed);
  // Without a namespace: never in a ClusterRoleBinding; a RoleBinding's own namespace.
  RbacPolicy noNs;
  noNs.clusterRoles = p.clusterRoles;
  noNs.clusterRoleBindings.push_back(
      binding("ClusterRoleBinding", "", "sa-crb", "ClusterRole", "cm", R"([{"kind":"ServiceAccount","name":"bot"}])"));
  noNs.roleBindings.push_back(
      binding("RoleBinding", "ops", "sa-rb", "ClusterRole", "cm", R"([{"kind":"ServiceAccount","name":"bot"}])"));
  EXPECT_FALSE(rbacAuthorize(noNs, user("system:serviceaccount:ops:bot"), res("get", "", "configmaps", "x", "c")).allowed);
  auto rb = rbacAuthorize(noNs, user("system:serviceaccount:ops:bot"), res("get", "", "configmaps", "ops", "c"));
  EXPECT_TRUE(rb.allowed);
  EXPECT_EQ(rb.reason, R"(RBAC: allowed by RoleBinding "sa-rb/ops" of ClusterRole "cm" to ServiceAccount "bot/ops")");
  // Unknown subject kinds match nobody.
  RbacPolicy odd;
  odd.clusterRoles = p.clusterRoles;
  odd.clusterRoleBindings.push_back(
      binding("ClusterRoleBinding", "", "odd", "ClusterRole", "cm", R"([{"kind":"Robot","name":"alice"}])"));
  EXPECT_FALSE(rbacAuthorize(odd, user("alice"), res("get", "", "configmaps", "x", "c")).allowed);
}

TEST(RbacAuthorizer, MissingRolesAreReportedWhenNothingAllows) {
  RbacPolicy p;
  p.clusterRoleBindings.push_back(binding("ClusterRoleBinding", "", "a", "ClusterRole", "gone", kAlice));
  auto one = rbacAuthorize(p, user("alice"), res("get", "", "pods", "ns"));
  EXPECT_FALSE(one.allowed);
  EXPECT_EQ(one.reason, R"(RBAC: clusterrole.rbac.authorization.k8s.io "gone" not found)");
  p.roleBindings.push_back(binding("RoleBinding", "ns", "b", "Role", "missing", kAlice));
  p.roleBindings.push_back(binding("RoleBinding", "ns", "c", "ClusterRole", "gone", kAlice));
  auto many = rbacAuthorize(p, user("alice"), res("get", "", "pods", "ns"));
  EXPECT_EQ(many.reason,
            R"(RBAC: [clusterrole.rbac.authorization.k8s.io "gone" not found, role.rbac.authorization.k8s.io "missing" not found])");
  // Bindings that do not apply to the user are not resolved.
  EXPECT_EQ(rbacAuthorize(p, user("bob"), res("get", "", "pods", "ns")).reason, "");
  // Once a rule allows, earlier resolution errors are not reported.
  p.clusterRoles.push_back(clusterRole("pods", R"([{"verbs":["get"],"apiGroups":[""],"resources":["pods"]}])"));
  p.roleBindings.push_back(binding("RoleBinding", "ns", "d", "ClusterRole", "pods", kAlice));
  auto ok = rbacAuthorize(p, user("alice"), res("get", "", "pods", "ns"));
  EXPECT_TRUE(ok.allowed);
  EXPECT_EQ(ok.reason, R"(RBAC: allowed by RoleBinding "d/ns" of ClusterRole "pods" to User "alice")");
}

TEST(RbacAuthorizer, ClusterRoleBindingsComeFirstInNameOrder) {
  RbacPolicy p;
  p.clusterRoles.push_back(clusterRole("cm", R"([{"verbs":["get"],"apiGroups":[""],"resources":["configmaps"]}])"));
  p.roleBindings.push_back(binding("RoleBinding", "ns", "a-rb", "ClusterRole", "cm", kAlice));
  p.clusterRoleBindings.push_back(binding("ClusterRoleBinding", "", "z-crb", "ClusterRole", "cm", kAlice));
  p.clusterRoleBindings.push_back(binding("ClusterRoleBinding", "", "m-crb", "ClusterRole", "cm", kAlice));
  EXPECT_EQ(rbacAuthorize(p, user("alice"), res("get", "", "configmaps", "ns", "c")).reason,
            R"(RBAC: allowed by ClusterRoleBinding "m-crb" of ClusterRole "cm" to User "alice")");
}

TEST(RbacAuthorizer, NonResourceRulesOnlyFromClusterRoleBindings) {
  RbacPolicy p;
  p.clusterRoles.push_back(clusterRole("urls", R"([{"verbs":["get"],"nonResourceURLs":["/metrics"]}])"));
  p.roleBindings.push_back(binding("RoleBinding", "ns", "rb", "ClusterRole", "urls", kAlice));
  EXPECT_FALSE(rbacAuthorize(p, user("alice"), url("get", "/metrics")).allowed);
  p.clusterRoleBindings.push_back(binding("ClusterRoleBinding", "", "crb", "ClusterRole", "urls", kAlice));
  auto d = rbacAuthorize(p, user("alice"), url("get", "/metrics"));
  EXPECT_TRUE(d.allowed);
  EXPECT_EQ(d.reason, R"(RBAC: allowed by ClusterRoleBinding "crb" of ClusterRole "urls" to User "alice")");
}

TEST(RbacAuthorizer, SystemMastersIsASuperuserWithoutReason) {
  RbacPolicy empty;
  auto d = authorize(empty, user("root", {"system:masters"}), res("delete", "", "namespaces", "", "kube-system"));
  EXPECT_TRUE(d.allowed);
  EXPECT_EQ(d.reason, "");
  EXPECT_TRUE(authorize(empty, user("root", {"system:masters"}), url("post", "/anything")).allowed);
  // RBAC alone knows nothing of system:masters without the cluster-admin binding.
  EXPECT_FALSE(rbacAuthorize(empty, user("root", {"system:masters"}), res("get", "", "pods")).allowed);
  EXPECT_FALSE(authorize(empty, user("alice", {"system:authenticated"}), res("get", "", "pods")).allowed);
}

TEST(RbacAuthorizer, BootstrapPolicy) {
  RbacPolicy p;
  p.clusterRoles = bootstrapClusterRoles();
  p.clusterRoleBindings = bootstrapClusterRoleBindings();
  ASSERT_EQ(p.clusterRoles.size(), 4u);
  ASSERT_EQ(p.clusterRoleBindings.size(), 4u);
  for (const auto& o : p.clusterRoles) {
    EXPECT_EQ(o["metadata"]["labels"], Json({{"kubernetes.io/bootstrapping", "rbac-defaults"}}));
    EXPECT_EQ(o["metadata"]["annotations"], Json({{"rbac.authorization.kubernetes.io/autoupdate", "true"}}));
  }
  UserInfo authed = user("alice", {"system:authenticated"});
  for (const char* path : {"/api", "/api/v1", "/apis", "/apis/apps/v1", "/openapi/v3", "/version", "/version/",
                           "/healthz", "/livez", "/readyz"})
    EXPECT_TRUE(rbacAuthorize(p, authed, url("get", path)).allowed) << path;
  EXPECT_EQ(rbacAuthorize(p, authed, url("get", "/apis")).reason,
            R"(RBAC: allowed by ClusterRoleBinding "system:discovery" of ClusterRole "system:discovery" to Group "system:authenticated")");
  EXPECT_FALSE(rbacAuthorize(p, authed, url("get", "/metrics")).allowed);
  EXPECT_FALSE(rbacAuthorize(p, authed, url("post", "/apis")).allowed);
  EXPECT_TRUE(rbacAuthorize(p, authed, res("create", "authorization.k8s.io", "selfsubjectaccessreviews")).allowed);
  EXPECT_TRUE(rbacAuthorize(p, authed, res("create", "authorization.k8s.io", "selfsubjectrulesreviews")).allowed);
  EXPECT_EQ(rbacAuthorize(p, authed, res("create", "authentication.k8s.io", "selfsubjectreviews")).reason,
            R"(RBAC: allowed by ClusterRoleBinding "system:basic-user" of ClusterRole "system:basic-user" to Group "system:authenticated")");
  EXPECT_FALSE(rbacAuthorize(p, authed, res("create", "authorization.k8s.io", "subjectaccessreviews")).allowed);
  EXPECT_FALSE(rbacAuthorize(p, authed, res("list", "", "configmaps", "default")).allowed);
  // Unauthenticated: public info only.
  UserInfo anon = user("system:anonymous", {"system:unauthenticated"});
  EXPECT_TRUE(rbacAuthorize(p, anon, url("get", "/version")).allowed);
  EXPECT_TRUE(rbacAuthorize(p, anon, url("get", "/readyz")).allowed);
  EXPECT_FALSE(rbacAuthorize(p, anon, url("get", "/apis")).allowed);
  // cluster-admin is bound to system:masters.
  EXPECT_EQ(rbacAuthorize(p, user("root", {"system:masters"}), res("delete", "", "nodes", "", "n")).reason,
            R"(RBAC: allowed by ClusterRoleBinding "cluster-admin" of ClusterRole "cluster-admin" to Group "system:masters")");
}

// ---------------------------------------------------------------- forbidden Status

TEST(ForbiddenStatus, KubeMessagesAndDetails) {
  UserInfo alice = user("alice");
  Json named = forbiddenStatus(alice, res("get", "", "configmaps", "dev", "cfg"), "");
  EXPECT_EQ(named["code"], 403);
  EXPECT_EQ(named["reason"], "Forbidden");
  EXPECT_EQ(named["status"], "Failure");
  EXPECT_EQ(named["message"], R"(configmaps "cfg" is forbidden: User "alice" cannot get resource "configmaps" in API group "" in the namespace "dev")");
  EXPECT_EQ(named["details"], Json({{"name", "cfg"}, {"kind", "configmaps"}}));

  Json collection = forbiddenStatus(alice, res("list", "apps", "deployments"), "");
  EXPECT_EQ(collection["message"], R"(deployments.apps is forbidden: User "alice" cannot list resource "deployments" in API group "apps" at the cluster scope)");
  EXPECT_EQ(collection["details"], Json({{"group", "apps"}, {"kind", "deployments"}}));

  Json scale = forbiddenStatus(alice, res("update", "apps", "deployments", "dev", "web", "scale"), "");
  EXPECT_EQ(scale["message"], R"(deployments.apps "web" is forbidden: User "alice" cannot update resource "deployments/scale" in API group "apps" in the namespace "dev")");

  Json withReason = forbiddenStatus(alice, res("get", "", "pods", "dev"),
                                    R"(RBAC: clusterrole.rbac.authorization.k8s.io "gone" not found)");
  EXPECT_EQ(withReason["message"], R"(pods is forbidden: User "alice" cannot get resource "pods" in API group "" in the namespace "dev": RBAC: clusterrole.rbac.authorization.k8s.io "gone" not found)");

  Json path = forbiddenStatus(alice, url("get", "/apis"), "");
  EXPECT_EQ(path["message"], R"(forbidden: User "alice" cannot get path "/apis")");
  EXPECT_EQ(path["details"], Json::object());
}

// Go's strconv.Quote, as fmt's %q prints it in kube's messages.
TEST(GoQuote, AsStrconvQuote) {
  EXPECT_EQ(goQuote(""), R"("")");
  EXPECT_EQ(goQuote("system:basic-user"), R"("system:basic-user")");
  EXPECT_EQ(goQuote("a\"b\\c"), R"("a\"b\\c")");
  EXPECT_EQ(goQuote("\a\b\f\n\r\t\v"), R"("\a\b\f\n\r\t\v")");
  EXPECT_EQ(goQuote(std::string("\0\x1b\x7f", 3)), R"("\x00\x1b\x7f")");  // lower-case hex
  EXPECT_EQ(goQuote("caf\xc3\xa9"), "\"caf\xc3\xa9\"");                   // printable UTF-8 as is
}

}  // namespace
}  // namespace otel::testing
