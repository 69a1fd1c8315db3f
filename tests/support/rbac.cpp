#include "tests/support/rbac.h"

#include <algorithm>
#include <cctype>
#include <optional>

#include "tests/support/api_logic.h"

namespace otel::testing {
namespace {

const char* const kRbacGroup = "rbac.authorization.k8s.io";

std::vector<std::string> splitPathParts(const std::string& path) {
  // strings.Split(strings.Trim(path, "/"), "/"): empty segments inside the path are kept.
  size_t b = path.find_first_not_of('/');
  if (b == std::string::npos) return {};
  size_t e = path.find_last_not_of('/');
  std::string trimmed = path.substr(b, e - b + 1);
  std::vector<std::string> out;
  size_t i = 0;
  while (true) {
    size_t j = trimmed.find('/', i);
    out.push_back(trimmed.substr(i, j == std::string::npos ? std::string::npos : j - i));
    if (j == std::string::npos) break;
    i = j + 1;
  }
  return out;
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string metaField(const Json& obj, const char* field) {
  return obj.is_object() && obj.contains("metadata") ? stringField(obj["metadata"], field) : "";
}

bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

bool verbMatches(const Json& rule, const std::string& verb) {
  for (const auto& v : stringList(rule, "verbs"))
    if (v == "*" || v == verb) return true;
  return false;
}

bool apiGroupMatches(const Json& rule, const std::string& group) {
  for (const auto& g : stringList(rule, "apiGroups"))
    if (g == "*" || g == group) return true;
  return false;
}

bool resourceMatches(const Json& rule, const std::string& combined, const std::string& subresource) {
  for (const auto& r : stringList(rule, "resources")) {
    if (r == "*" || r == combined) return true;
    if (subresource.empty()) continue;
    // "*/<subresource>"
    if (r.size() == subresource.size() + 2 && r.compare(0, 2, "*/") == 0 &&
        r.compare(2, std::string::npos, subresource) == 0)
      return true;
  }
  return false;
}

bool resourceNameMatches(const Json& rule, const std::string& name) {
  auto names = stringList(rule, "resourceNames");
  return names.empty() || contains(names, name);
}

bool nonResourceUrlMatches(const Json& rule, const std::string& path) {
  for (const auto& u : stringList(rule, "nonResourceURLs")) {
    if (u == "*" || u == path) return true;
    if (!u.empty() && u.back() == '*') {
      std::string prefix = u;
      while (!prefix.empty() && prefix.back() == '*') prefix.pop_back();  // strings.TrimRight(u, "*")
      if (path.compare(0, prefix.size(), prefix) == 0) return true;
    }
  }
  return false;
}

// appliesToUser: the index of the first subject that names the user, or -1.
int subjectIndexFor(const UserInfo& user, const Json& binding, const std::string& bindingNamespace) {
  if (!binding.is_object() || !binding.contains("subjects") || !binding["subjects"].is_array()) return -1;
  int i = 0;
  for (const auto& s : binding["subjects"]) {
    std::string kind = stringField(s, "kind"), name = stringField(s, "name");
    bool applies = false;
    if (kind == "User") {
      applies = user.name == name;
    } else if (kind == "Group") {
      applies = contains(user.groups, name);
    } else if (kind == "ServiceAccount") {
      std::string ns = stringField(s, "namespace");
      if (ns.empty()) ns = bindingNamespace;
      applies = !ns.empty() && user.name == "system:serviceaccount:" + ns + ":" + name;
    }
    if (applies) return i;
    ++i;
  }
  return -1;
}

// describeSubject: `User "alice"`, `Group "devs"`, `ServiceAccount "name/namespace"`.
std::string describeSubject(const Json& subject, const std::string& bindingNamespace) {
  std::string kind = stringField(subject, "kind"), name = stringField(subject, "name");
  if (kind == "ServiceAccount") {
    std::string ns = stringField(subject, "namespace");
    return kind + " " + goQuote(name + "/" + (ns.empty() ? bindingNamespace : ns));
  }
  return kind + " " + goQuote(name);
}

const Json* findRole(const std::vector<Json>& list, const std::string& ns, const std::string& name) {
  for (const auto& o : list)
    if (metaField(o, "name") == name && metaField(o, "namespace") == ns) return &o;
  return nullptr;
}

// GetRoleReferenceRules: the rules of the referenced role, or the error kube's listers give.
const Json* roleRules(const RbacPolicy& policy, const Json& roleRef, const std::string& bindingNamespace,
                      std::string& error) {
  static const Json kNoRules = Json::array();
  std::string kind = stringField(roleRef, "kind"), name = stringField(roleRef, "name");
  const Json* role = nullptr;
  if (kind == "Role") {
    role = findRole(policy.roles, bindingNamespace, name);
    if (!role) error = "role.rbac.authorization.k8s.io " + goQuote(name) + " not found";
  } else if (kind == "ClusterRole") {
    role = findRole(policy.clusterRoles, "", name);
    if (!role) error = "clusterrole.rbac.authorization.k8s.io " + goQuote(name) + " not found";
  } else {
    error = "unsupported role reference kind: " + goQuote(kind);
  }
  if (!role) return nullptr;
  if (!role->contains("rules") || !(*role)["rules"].is_array()) return &kNoRules;
  return &(*role)["rules"];
}

std::vector<const Json*> byName(const std::vector<Json>& list, const std::string* ns) {
  std::vector<const Json*> out;
  for (const auto& o : list)
    if (!ns || metaField(o, "namespace") == *ns) out.push_back(&o);
  std::stable_sort(out.begin(), out.end(),
                   [](const Json* a, const Json* b) { return metaField(*a, "name") < metaField(*b, "name"); });
  return out;
}

// The responsewriters sanitizer: kube escapes &, < and > in forbidden messages.
std::string sanitize(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '&')
      out += "&amp;";
    else if (c == '<')
      out += "&lt;";
    else if (c == '>')
      out += "&gt;";
    else
      out += c;
  }
  return out;
}

Json bootstrapMetadata(const std::string& name) {
  return Json{{"name", name},
              {"labels", {{"kubernetes.io/bootstrapping", "rbac-defaults"}}},
              {"annotations", {{"rbac.authorization.kubernetes.io/autoupdate", "true"}}}};
}

Json clusterRole(const std::string& name, Json rules) {
  return Json{{"apiVersion", "rbac.authorization.k8s.io/v1"},
              {"kind", "ClusterRole"},
              {"metadata", bootstrapMetadata(name)},
              {"rules", std::move(rules)}};
}

Json clusterRoleBinding(const std::string& name, const std::vector<std::string>& groups) {
  Json subjects = Json::array();
  for (const auto& g : groups) subjects.push_back(Json{{"kind", "Group"}, {"apiGroup", kRbacGroup}, {"name", g}});
  return Json{{"apiVersion", "rbac.authorization.k8s.io/v1"},
              {"kind", "ClusterRoleBinding"},
              {"metadata", bootstrapMetadata(name)},
              {"subjects", subjects},
              {"roleRef", {{"apiGroup", kRbacGroup}, {"kind", "ClusterRole"}, {"name", name}}}};
}

}  // namespace

Json userInfoJson(const UserInfo& user) {
  Json out = Json::object();
  out["username"] = user.name;
  if (!user.groups.empty()) out["groups"] = user.groups;
  if (!user.extra.empty()) {
    Json extra = Json::object();
    for (const auto& [k, v] : user.extra) extra[k] = v;
    out["extra"] = extra;
  }
  return out;
}

AuthzAttributes requestAttributes(const std::string& method, const std::string& path,
                                  const std::map<std::string, std::string>& query) {
  AuthzAttributes a;
  a.path = path;
  a.verb = lower(method);
  auto parts = splitPathParts(path);
  if (parts.size() < 3 || (parts[0] != "api" && parts[0] != "apis")) return a;
  bool groupless = parts[0] == "api";
  std::vector<std::string> cur(parts.begin() + 1, parts.end());
  if (!groupless) {
    if (cur.size() < 3) return a;
    a.apiGroup = cur[0];
    cur.erase(cur.begin());
  }
  a.resourceRequest = true;
  a.apiVersion = cur[0];
  cur.erase(cur.begin());
  if (cur[0] == "watch" || cur[0] == "proxy") {
    if (cur.size() < 2) {  // kube: "unable to determine kind and namespace"; treated as a resource request
      a.verb = cur[0];
      return a;
    }
    a.verb = cur[0];
    cur.erase(cur.begin());
  } else if (method == "POST") {
    a.verb = "create";
  } else if (method == "GET" || method == "HEAD") {
    a.verb = "get";
  } else if (method == "PUT") {
    a.verb = "update";
  } else if (method == "PATCH") {
    a.verb = "patch";
  } else if (method == "DELETE") {
    a.verb = "delete";
  } else {
    a.verb = "";
  }
  if (cur[0] == "namespaces") {
    if (cur.size() > 1) {
      a.ns = cur[1];
      if (cur.size() > 2 && cur[2] != "status" && cur[2] != "finalize") cur.erase(cur.begin(), cur.begin() + 2);
    }
  }
  if (cur.size() >= 3 && a.verb != "proxy") a.subresource = cur[2];
  if (cur.size() >= 2) a.name = cur[1];
  if (!cur.empty()) a.resource = cur[0];
  if (a.name.empty() && a.verb == "get") {
    auto w = query.find("watch");
    a.verb = w != query.end() && queryParamTrue(w->second) ? "watch" : "list";
    auto fs = query.find("fieldSelector");
    if (fs != query.end()) {
      std::string err;
      auto reqs = parseFieldSelector(fs->second, err);
      if (reqs) {
        for (const auto& r : *reqs)
          if (r.path == "metadata.name" && r.equal) {
            if (pathSegmentNameErrors(r.value).empty()) a.name = r.value;
            break;
          }
      }
    }
  }
  if (a.name.empty() && a.verb == "delete") a.verb = "deletecollection";
  return a;
}

bool ruleAllows(const Json& rule, const AuthzAttributes& a) {
  if (a.resourceRequest) {
    std::string combined = a.subresource.empty() ? a.resource : a.resource + "/" + a.subresource;
    return verbMatches(rule, a.verb) && apiGroupMatches(rule, a.apiGroup) &&
           resourceMatches(rule, combined, a.subresource) && resourceNameMatches(rule, a.name);
  }
  return verbMatches(rule, a.verb) && nonResourceUrlMatches(rule, a.path);
}

AuthzDecision rbacAuthorize(const RbacPolicy& policy, const UserInfo& user, const AuthzAttributes& a) {
  std::vector<std::string> errors;
  // The bindings of one scope, in name order: the ClusterRoleBindings (bindingNamespace "") or the RoleBindings
  // of the request's namespace. The first rule that allows decides.
  auto visit = [&](const std::vector<const Json*>& bindings,
                   const std::string& bindingNamespace) -> std::optional<AuthzDecision> {
    for (const Json* b : bindings) {
      int idx = subjectIndexFor(user, *b, bindingNamespace);
      if (idx < 0) continue;
      std::string err;
      const Json* rules = roleRules(policy, b->value("roleRef", Json::object()), bindingNamespace, err);
      if (!rules) {
        errors.push_back(err);
        continue;
      }
      for (const auto& rule : *rules) {
        if (!ruleAllows(rule, a)) continue;
        const Json& ref = (*b)["roleRef"];
        std::string binding = bindingNamespace.empty()
                                  ? "ClusterRoleBinding " + goQuote(metaField(*b, "name"))
                                  : "RoleBinding " + goQuote(metaField(*b, "name") + "/" + bindingNamespace);
        return AuthzDecision{true, "RBAC: allowed by " + binding + " of " + stringField(ref, "kind") + " " +
                                       goQuote(stringField(ref, "name")) + " to " +
                                       describeSubject((*b)["subjects"][static_cast<size_t>(idx)], bindingNamespace)};
      }
    }
    return std::nullopt;
  };
  if (auto d = visit(byName(policy.clusterRoleBindings, nullptr), "")) return *d;
  if (!a.ns.empty())
    if (auto d = visit(byName(policy.roleBindings, &a.ns), a.ns)) return *d;
  return {false, errors.empty() ? "" : "RBAC: " + aggregateErrors(errors)};
}

AuthzDecision authorize(const RbacPolicy& policy, const UserInfo& user, const AuthzAttributes& a) {
  if (contains(user.groups, kSystemMasters)) return {true, ""};
  return rbacAuthorize(policy, user, a);
}

Json forbiddenStatus(const UserInfo& user, const AuthzAttributes& a, const std::string& reason) {
  std::string msg;
  if (!a.resourceRequest) {
    msg = "User " + goQuote(user.name) + " cannot " + a.verb + " path " + goQuote(a.path);
  } else {
    std::string resource = a.subresource.empty() ? a.resource : a.resource + "/" + a.subresource;
    msg = "User " + goQuote(user.name) + " cannot " + a.verb + " resource " + goQuote(resource) + " in API group " +
          goQuote(a.apiGroup) + (a.ns.empty() ? " at the cluster scope" : " in the namespace " + goQuote(a.ns));
  }
  msg = sanitize(msg);
  if (!reason.empty()) msg += ": " + reason;
  // apierrors.NewForbidden(GroupResource{group, resource}, name, err)
  std::string qualified = a.apiGroup.empty() ? a.resource : a.resource + "." + a.apiGroup;
  std::string message;
  if (a.resource.empty() && a.apiGroup.empty())
    message = "forbidden: " + msg;
  else if (a.name.empty())
    message = qualified + " is forbidden: " + msg;
  else
    message = qualified + " " + goQuote(a.name) + " is forbidden: " + msg;
  Json details = Json::object();
  if (!a.name.empty()) details["name"] = a.name;
  if (!a.apiGroup.empty()) details["group"] = a.apiGroup;
  if (!a.resource.empty()) details["kind"] = a.resource;
  return statusBody(403, "Forbidden", message, details);
}

std::vector<Json> bootstrapClusterRoles() {
  auto rule = [](std::vector<std::string> verbs, std::vector<std::string> groups, std::vector<std::string> resources) {
    return Json{{"verbs", verbs}, {"apiGroups", groups}, {"resources", resources}};
  };
  auto urls = [](std::vector<std::string> verbs, std::vector<std::string> nonResourceUrls) {
    return Json{{"verbs", verbs}, {"nonResourceURLs", nonResourceUrls}};
  };
  return {
      clusterRole("cluster-admin", Json::array({rule({"*"}, {"*"}, {"*"}), urls({"*"}, {"*"})})),
      clusterRole("system:discovery",
                  Json::array({urls({"get"}, {"/api", "/api/*", "/apis", "/apis/*", "/healthz", "/livez", "/openapi",
                                              "/openapi/*", "/readyz", "/version", "/version/"})})),
      clusterRole("system:basic-user",
                  Json::array({rule({"create"}, {"authorization.k8s.io"},
                                    {"selfsubjectaccessreviews", "selfsubjectrulesreviews"}),
                               rule({"create"}, {"authentication.k8s.io"}, {"selfsubjectreviews"})})),
      clusterRole("system:public-info-viewer",
                  Json::array({urls({"get"}, {"/healthz", "/livez", "/readyz", "/version", "/version/"})})),
  };
}

std::vector<Json> bootstrapClusterRoleBindings() {
  return {
      clusterRoleBinding("cluster-admin", {"system:masters"}),
      clusterRoleBinding("system:basic-user", {"system:authenticated"}),
      clusterRoleBinding("system:discovery", {"system:authenticated"}),
      clusterRoleBinding("system:public-info-viewer", {"system:authenticated", "system:unauthenticated"}),
  };
}

std::vector<std::string> stringList(const Json& obj, const char* field) {
  std::vector<std::string> out;
  if (!obj.is_object() || !obj.contains(field) || !obj[field].is_array()) return out;
  for (const auto& v : obj[field])
    if (v.is_string()) out.push_back(v.get<std::string>());
  return out;
}

std::string stringField(const Json& obj, const char* field) {
  if (obj.is_object() && obj.contains(field) && obj[field].is_string()) return obj[field].get<std::string>();
  return "";
}

}  // namespace otel::testing
