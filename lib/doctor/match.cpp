#include "lib/doctor/match.h"

#include <algorithm>

#include "lib/api/common.h"

namespace otel::doctor {

const Json& labelsOf(const Json& obj) {
  const Json* l = api::at(obj, {"metadata", "labels"});
  return l && l->is_object() ? *l : api::emptyObject();
}

const Json& annotationsOf(const Json& obj) {
  const Json* l = api::at(obj, {"metadata", "annotations"});
  return l && l->is_object() ? *l : api::emptyObject();
}

std::string metaOf(const Json& obj, const char* key) {
  auto m = obj.find("metadata");
  if (m == obj.end() || !m->is_object()) return "";
  auto v = m->find(key);
  return v != m->end() && v->is_string() ? v->get<std::string>() : "";
}

int readyEndpoints(const ClusterView& view, const std::string& ns, const std::string& svc) {
  if (!view.listed("EndpointSlice")) return -1;
  int n = 0;
  for (const Json* s : view.of("EndpointSlice", ns)) {
    if (labelsOf(*s).value("kubernetes.io/service-name", "") != svc) continue;
    if (const Json* eps = api::at(*s, {"endpoints"}); eps && eps->is_array())
      for (const auto& e : *eps)
        if (e.is_object() && api::boolean(e, {"conditions", "ready"}, true)) ++n;
  }
  return n;
}

bool selectorMatches(const Json* selector, const Json& labels, bool nullSelects) {
  return api::labelSelectorMatches(selector, labels, nullSelects);
}

bool mapSelectorMatches(const Json& selector, const Json& labels) {
  if (!selector.is_object() || selector.empty()) return false;
  const Json asLabelSelector = {{"matchLabels", selector}};
  return api::labelSelectorMatches(&asLabelSelector, labels, false);
}

std::string selectorString(const Json* selector) {
  if (!selector || selector->is_null()) return "<nil>";
  std::string out;
  auto add = [&](const std::string& s) { out += (out.empty() ? "" : ",") + s; };
  if (auto ml = selector->find("matchLabels"); ml != selector->end() && ml->is_object())
    for (const auto& [k, v] : ml->items()) add(k + "=" + (v.is_string() ? v.get<std::string>() : v.dump()));
  if (auto me = selector->find("matchExpressions"); me != selector->end() && me->is_array())
    for (const auto& e : *me) {
      if (!e.is_object()) continue;
      std::string op = e.value("operator", ""), key = e.value("key", "");
      if (op == "Exists") {
        add(key);
      } else if (op == "DoesNotExist") {
        add("!" + key);
      } else {
        std::string vals;
        if (e.contains("values") && e["values"].is_array())
          for (const auto& v : e["values"]) vals += (vals.empty() ? "" : ",") + (v.is_string() ? v.get<std::string>() : v.dump());
        add(key + (op == "In" ? " in (" : " notin (") + vals + ")");
      }
    }
  return out.empty() ? "{} (everything)" : out;
}

namespace {

bool matchesAny(const Json& list, const std::string& v) {
  if (!list.is_array()) return false;
  for (const auto& x : list)
    if (x.is_string() && (x.get<std::string>() == "*" || x.get<std::string>() == v)) return true;
  return false;
}

bool ruleAllows(const Json& rule, const manifests::AccessCheck& c) {
  if (!rule.is_object()) return false;
  if (!matchesAny(rule.value("verbs", Json::array()), c.verb)) return false;
  if (!c.path.empty()) return matchesAny(rule.value("nonResourceURLs", Json::array()), c.path);
  if (!matchesAny(rule.value("apiGroups", Json::array()), c.group)) return false;
  if (!matchesAny(rule.value("resources", Json::array()), c.resource)) return false;
  return true;  // resourceNames narrow a rule; a rule with them does not allow list/watch of all
}

bool subjectIs(const Json& binding, const std::string& saNs, const std::string& saName) {
  const Json* subs = api::at(binding, {"subjects"});
  if (!subs || !subs->is_array()) return false;
  for (const auto& s : *subs) {
    if (!s.is_object()) continue;
    const std::string kind = s.value("kind", "");
    if (kind == "ServiceAccount" && s.value("name", "") == saName && s.value("namespace", "") == saNs) return true;
    if (kind == "User" && s.value("name", "") == manifests::serviceAccountUser(saNs, saName)) return true;
    if (kind == "Group") {
      const std::string g = s.value("name", "");
      if (g == "system:serviceaccounts" || g == "system:serviceaccounts:" + saNs || g == "system:authenticated") return true;
    }
  }
  return false;
}

void collectRules(const ClusterView& view, const Json& binding, const std::string& bindingNs, std::vector<const Json*>& out) {
  const std::string kind = api::str(binding, {"roleRef", "kind"}), name = api::str(binding, {"roleRef", "name"});
  const Json* role = kind == "ClusterRole" ? view.find("ClusterRole", "", name) : view.find("Role", bindingNs, name);
  if (!role) return;
  if (const Json* rules = api::at(*role, {"rules"}); rules && rules->is_array())
    for (const auto& r : *rules)
      if (!(r.is_object() && r.contains("resourceNames") && r["resourceNames"].is_array() && !r["resourceNames"].empty()))
        out.push_back(&r);
}

}  // namespace

std::vector<manifests::AccessCheck> deniedChecks(const ClusterView& view, const std::string& saNs,
                                                 const std::string& saName, const std::string& targetNs,
                                                 const std::vector<manifests::AccessCheck>& checks) {
  std::vector<const Json*> clusterRules, nsRules;
  for (const Json* b : view.of("ClusterRoleBinding"))
    if (subjectIs(*b, saNs, saName)) collectRules(view, *b, "", clusterRules);
  if (!targetNs.empty())
    for (const Json* b : view.of("RoleBinding", targetNs))
      if (subjectIs(*b, saNs, saName)) collectRules(view, *b, targetNs, nsRules);
  std::vector<manifests::AccessCheck> denied;
  for (const auto& c : checks) {
    bool ok = std::any_of(clusterRules.begin(), clusterRules.end(), [&](const Json* r) { return ruleAllows(*r, c); }) ||
              std::any_of(nsRules.begin(), nsRules.end(), [&](const Json* r) { return ruleAllows(*r, c); });
    if (!ok) denied.push_back(c);
  }
  return denied;
}

}  // namespace otel::doctor
