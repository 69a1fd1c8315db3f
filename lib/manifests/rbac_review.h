// The collector webhook's RBAC checks (upstream: internal/rbac, internal/webhook/collector_webhook.go,
// targetallocator_rbac.go, the build validator's CheckRbacRules): which permissions a collector's
// service accounts need, whether they hold them, and whether the requesting user may make the
// operator grant them. PURE: every question goes through an AccessReviewer the caller supplies
// (SubjectAccessReview / SelfSubjectAccessReview against a cluster, or a table in tests).
#pragma once
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "lib/api/common.h"
#include "lib/core/json.h"

namespace otel::manifests {

// One access question, as one SubjectAccessReview asks it: a verb on a group/resource at the cluster
// scope, or a verb on a non-resource URL (path not empty).
struct AccessCheck {
  std::string verb;
  std::string group;
  std::string resource;  // may be "resource/subresource"
  std::string path;      // non-resource URL
  bool operator==(const AccessCheck&) const = default;
};

// Who is asked about: a user name with groups (SubjectAccessReview), or the one running the request
// (self: SelfSubjectAccessReview; user is then only the name the messages use).
struct AccessSubject {
  std::string user;
  std::vector<std::string> groups;
  bool self = false;
};

// "system:serviceaccount:<ns>:<name>", the user a ServiceAccount's token authenticates as.
std::string serviceAccountUser(const std::string& ns, const std::string& name);

// PolicyRule objects flattened into single checks as upstream does: for each verb, each API group,
// each resource; then for each verb, each non-resource URL.
std::vector<AccessCheck> accessChecks(const std::vector<Json>& rules);

// Upstream's warning text for denied checks, one line per resource in first-seen order:
// "missing the following rules for <user> - <group>/<resource>: [<verb>,<verb>]" (no "<group>/" for the
// core group; "nonResourceURL: <path>" for URLs).
std::vector<std::string> missingRulesByResource(const std::string& user, const std::vector<AccessCheck>& denied);

// Answers each check for the subject: one bool per check, same order. Throws otel::Error when it
// cannot ask (no permission to create SubjectAccessReviews, server unreachable ...).
using AccessReviewer = std::function<std::vector<bool>(const AccessSubject&, const std::vector<AccessCheck>&)>;

// What the target allocator's service account needs for spec.targetAllocator.prometheusCR (upstream's
// targetAllocatorCRPolicyRules), plus get/list/watch on the monitoring.coreos.com resources served.
std::vector<Json> targetAllocatorPrometheusCRRules(const std::vector<std::string>& monitoringResources);

// What the operator's own service account needs to create collectors' ClusterRoles and bindings
// (upstream's autodetect: create, delete, get, list, patch, update on both).
std::vector<Json> operatorRbacRules();

struct RbacReviewOptions {
  // The operator creates the ClusterRole/Binding the collector's config needs (auto-RBAC available).
  bool operatorCreatesRbac = true;
  // monitoring.coreos.com resources the cluster serves (servicemonitors, podmonitors, probes, scrapeconfigs).
  std::vector<std::string> monitoringResources;
  // The requesting user, asked about with self = true (a SelfSubjectAccessReview needs no name): its name
  // for messages ("" when unknown: "the current user"). Unset: no request, no privilege escalation check.
  std::optional<std::string> requester;
  // The admission webhook knows the requester from the AdmissionReview's userInfo: it asks with
  // SubjectAccessReviews for that user and groups (requesterSelf = false) instead.
  std::vector<std::string> requesterGroups;
  bool requesterSelf = true;
};

// The three checks of upstream's collector webhook, on a v1beta1 collector with metadata.namespace
// (throws otel::Error without one):
//  - target allocator with prometheusCR: the TA service account's missing rules -> warnings
//    (upstream's text, unprefixed);
//  - auto-RBAC available and the config needs rules: the rules the collector's service account does
//    not hold yet (the operator would grant them) must all be held by the requester, else the error
//    `user "<u>" is not allowed to create a collector whose config would grant permissions they do not
//    hold: <missing ...>; <missing ...>`;
//  - auto-RBAC not available and spec.serviceAccount set: that account's missing rules -> warnings
//    "RBAC rules are missing: <missing ...>" (the build validator's).
// A check the reviewer cannot answer becomes a warning saying it was not done and why. When only the
// collector's service account cannot be asked about (creating SubjectAccessReviews needs a permission
// namespace admins rarely have), the requester is asked about every rule: holding them all settles it;
// otherwise a warning says the request may be refused and which permissions the user lacks.
api::Diagnostics reviewCollectorRbac(const Json& collector, const RbacReviewOptions& opts, const AccessReviewer& reviewer);

// What the checks above would ask about this collector (either API version) or TargetAllocator: its
// config needs RBAC (service accounts, the requester, the operator's own permissions), and/or a target
// allocator reads prometheus-operator CRs (its account; the monitoring.coreos.com kinds served).
struct RbacNeeds {
  bool configRules = false;
  bool prometheusCR = false;
  bool any() const { return configRules || prometheusCR; }
  RbacNeeds& operator|=(const RbacNeeds& o) {
    configRules = configRules || o.configRules;
    prometheusCR = prometheusCR || o.prometheusCR;
    return *this;
  }
};
RbacNeeds rbacNeeds(const Json& object);

// The webhook check for one object as a user wrote it: a collector of either API version (converted to
// v1beta1 first) goes to reviewCollectorRbac, a TargetAllocator to reviewTargetAllocatorRbac.
api::Diagnostics reviewRbac(const Json& object, const RbacReviewOptions& opts, const AccessReviewer& reviewer);

// The TargetAllocator webhook's check (v1alpha1 TargetAllocator with spec.prometheusCR.enabled): the
// missing rules of spec.serviceAccount (else <name>-targetallocator) as warnings, as for collectors.
api::Diagnostics reviewTargetAllocatorRbac(const Json& targetAllocator, const RbacReviewOptions& opts,
                                          const AccessReviewer& reviewer);

}  // namespace otel::manifests
