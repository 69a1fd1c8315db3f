#include "lib/manifests/rbac_review.h"

#include <utility>

#include "lib/api/collector.h"
#include "lib/collectorconfig/config.h"
#include "lib/core/error.h"
#include "lib/manifests/build.h"
#include "lib/manifests/naming.h"

namespace otel::manifests {

namespace {

Json policyRule(std::vector<std::string> groups, std::vector<std::string> resources, std::vector<std::string> verbs) {
  return Json{{"apiGroups", std::move(groups)}, {"resources", std::move(resources)}, {"verbs", std::move(verbs)}};
}

Json urlRule(std::vector<std::string> urls, std::vector<std::string> verbs) {
  return Json{{"nonResourceURLs", std::move(urls)}, {"verbs", std::move(verbs)}};
}

// The checks the subject is denied. Throws what the reviewer throws.
std::vector<AccessCheck> denied(const AccessReviewer& reviewer, const AccessSubject& who, const std::vector<AccessCheck>& checks) {
  std::vector<bool> answers = reviewer(who, checks);
  if (answers.size() != checks.size())
    throw Error("the access review answered " + std::to_string(answers.size()) + " of " + std::to_string(checks.size()) +
                " questions");
  std::vector<AccessCheck> out;
  for (size_t i = 0; i < checks.size(); ++i)
    if (!answers[i]) out.push_back(checks[i]);
  return out;
}

std::string joined(const std::vector<std::string>& v, const char* sep) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : sep) + s;
  return out;
}

std::string notChecked(const std::string& what, const Error& e) {
  return "the RBAC of " + what + " was not checked: " + e.what();
}

// "user \"alice\"", or "the current user" when the name is unknown.
constexpr const char* kCurrentUser = "the current user";
std::string userPhrase(const std::string& name) { return name.empty() ? kCurrentUser : "user \"" + name + "\""; }

std::string requiredNamespace(const Json& object) {
  std::string ns = api::str(object, {"metadata", "namespace"});
  if (ns.empty())
    throw Error("metadata.namespace is required to name its service accounts",
                api::str(object, {"kind"}, "object") + " " + api::str(object, {"metadata", "name"}));
  return ns;
}

// The TA service account's missing prometheusCR rules (account "" = <name>-targetallocator) as warnings.
void checkTargetAllocatorAccount(const std::string& ns, std::string sa, const std::string& name, const RbacReviewOptions& opts,
                                 const AccessReviewer& reviewer, api::Diagnostics& d) {
  if (sa.empty()) sa = naming::targetAllocator(name);
  std::string user = serviceAccountUser(ns, sa);
  try {
    auto missing = denied(reviewer, {user, {}, false}, accessChecks(targetAllocatorPrometheusCRRules(opts.monitoringResources)));
    for (auto& w : missingRulesByResource(user, missing)) d.warnings.push_back(std::move(w));
  } catch (const Error& e) {
    d.warnings.push_back(notChecked("the target allocator's service account " + ns + "/" + sa, e));
  }
}

}  // namespace

std::string serviceAccountUser(const std::string& ns, const std::string& name) {
  return "system:serviceaccount:" + ns + ":" + name;
}

std::vector<AccessCheck> accessChecks(const std::vector<Json>& rules) {
  std::vector<AccessCheck> out;
  for (const auto& rule : rules) {
    auto verbs = api::strings(rule, {"verbs"});
    auto groups = api::strings(rule, {"apiGroups"});
    auto resources = api::strings(rule, {"resources"});
    for (const auto& v : verbs)
      for (const auto& g : groups)
        for (const auto& r : resources) out.push_back({v, g, r, ""});
    for (const auto& v : verbs)
      for (const auto& u : api::strings(rule, {"nonResourceURLs"})) out.push_back({v, "", "", u});
  }
  return out;
}

std::vector<std::string> missingRulesByResource(const std::string& user, const std::vector<AccessCheck>& deniedChecks) {
  std::vector<std::pair<std::string, std::vector<std::string>>> byResource;  // first-seen order
  for (const auto& c : deniedChecks) {
    std::string key = !c.path.empty() ? "nonResourceURL: " + c.path : c.group.empty() ? c.resource : c.group + "/" + c.resource;
    auto it = byResource.begin();
    while (it != byResource.end() && it->first != key) ++it;
    if (it == byResource.end()) it = byResource.insert(byResource.end(), {key, {}});
    it->second.push_back(c.verb);
  }
  std::vector<std::string> out;
  for (const auto& [key, verbs] : byResource)
    out.push_back("missing the following rules for " + user + " - " + key + ": [" + joined(verbs, ",") + "]");
  return out;
}

std::vector<Json> targetAllocatorPrometheusCRRules(const std::vector<std::string>& monitoringResources) {
  const std::vector<std::string> gwl = {"get", "list", "watch"};
  std::vector<Json> rules = {
      policyRule({""}, {"nodes", "nodes/metrics", "services", "endpoints", "pods", "namespaces"}, gwl),
      policyRule({""}, {"configmaps"}, {"get"}),
      policyRule({"discovery.k8s.io"}, {"endpointslices"}, gwl),
      policyRule({"networking.k8s.io"}, {"ingresses"}, gwl),
      urlRule({"/metrics"}, {"get"}),
      urlRule({"/api", "/api/*", "/apis", "/apis/*"}, {"get"}),
  };
  if (!monitoringResources.empty()) rules.push_back(policyRule({"monitoring.coreos.com"}, monitoringResources, gwl));
  return rules;
}

std::vector<Json> operatorRbacRules() {
  return {policyRule({"rbac.authorization.k8s.io"}, {"clusterrolebindings", "clusterroles"},
                     {"create", "delete", "get", "list", "patch", "update"})};
}

RbacNeeds rbacNeeds(const Json& object) {
  RbacNeeds n;
  if (!api::isCollector(object)) {
    n.prometheusCR = api::boolean(object, {"spec", "prometheusCR", "enabled"});
    return n;
  }
  Json beta = api::toV1beta1(object);
  const Json* config = api::at(beta, {"spec", "config"});
  n.prometheusCR = api::boolean(beta, {"spec", "targetAllocator", "enabled"}) &&
                   api::boolean(beta, {"spec", "targetAllocator", "prometheusCR", "enabled"});
  n.configRules = config && !collectorconfig::rbacRules(*config).empty();
  return n;
}

api::Diagnostics reviewCollectorRbac(const Json& collector, const RbacReviewOptions& opts, const AccessReviewer& reviewer) {
  api::Diagnostics d;
  std::string name = api::str(collector, {"metadata", "name"});
  std::string ns = requiredNamespace(collector);
  const Json empty = Json::object();
  const Json* specp = api::at(collector, {"spec"});
  const Json& spec = specp ? *specp : empty;

  if (api::boolean(spec, {"targetAllocator", "enabled"}) && api::boolean(spec, {"targetAllocator", "prometheusCR", "enabled"}))
    checkTargetAllocatorAccount(ns, api::str(spec, {"targetAllocator", "serviceAccount"}), name, opts, reviewer, d);

  const Json* config = api::at(spec, {"config"});
  auto rules = config ? collectorconfig::rbacRules(*config) : std::vector<Json>{};
  if (rules.empty()) return d;
  auto checks = accessChecks(rules);
  std::string ownSa = api::str(spec, {"serviceAccount"});
  if (opts.operatorCreatesRbac) {
    if (!opts.requester) return d;
    const std::string& requester = *opts.requester;
    const std::string sa = collectorServiceAccount(collector);
    const std::string saWhere = "the collector's service account " + ns + "/" + sa;
    std::vector<AccessCheck> delta;
    std::string saNotChecked;  // why the account's permissions are unknown ("" = known)
    try {
      delta = denied(reviewer, {serviceAccountUser(ns, sa), {}, false}, checks);
    } catch (const Error& e) {
      delta = checks;  // unknown: the requester must then hold everything for the answer to be sure
      saNotChecked = e.what();
    }
    if (delta.empty()) return d;  // the operator would grant nothing new
    try {
      auto refused = denied(reviewer, {requester, opts.requesterGroups, opts.requesterSelf}, delta);
      if (refused.empty()) return d;
      std::string missing = joined(missingRulesByResource(requester.empty() ? kCurrentUser : requester, refused), "; ");
      if (saNotChecked.empty())
        d.errors.push_back(userPhrase(requester) +
                           " is not allowed to create a collector whose config would grant permissions they do not hold: " + missing);
      else
        d.warnings.push_back(userPhrase(requester) + " may be refused: " + saWhere + " could not be checked (" + saNotChecked +
                             "), and unless it holds them already the config would grant permissions the user does not hold: " +
                             missing);
    } catch (const Error& e) {
      d.warnings.push_back("the RBAC of " + userPhrase(requester) + " was not checked: " + e.what());
    }
  } else if (!ownSa.empty()) {
    std::string user = serviceAccountUser(ns, ownSa);
    try {
      for (auto& w : missingRulesByResource(user, denied(reviewer, {user, {}, false}, checks)))
        d.warnings.push_back("RBAC rules are missing: " + w);
    } catch (const Error& e) {
      d.warnings.push_back(notChecked("the service account " + ns + "/" + ownSa, e));
    }
  }
  return d;
}

api::Diagnostics reviewRbac(const Json& object, const RbacReviewOptions& opts, const AccessReviewer& reviewer) {
  return api::isCollector(object) ? reviewCollectorRbac(api::toV1beta1(object), opts, reviewer)
                                  : reviewTargetAllocatorRbac(object, opts, reviewer);
}

api::Diagnostics reviewTargetAllocatorRbac(const Json& targetAllocator, const RbacReviewOptions& opts,
                                          const AccessReviewer& reviewer) {
  api::Diagnostics d;
  if (api::boolean(targetAllocator, {"spec", "prometheusCR", "enabled"}))
    checkTargetAllocatorAccount(requiredNamespace(targetAllocator),
                                api::str(targetAllocator, {"spec", "serviceAccount"}),
                                api::str(targetAllocator, {"metadata", "name"}), opts, reviewer, d);
  return d;
}

}  // namespace otel::manifests
