// Small pure helpers of the checks: Kubernetes label selectors and an RBAC evaluator over a view's
// Roles, ClusterRoles and bindings.
#pragma once
#include <string>
#include <vector>

#include "lib/core/json.h"
#include "lib/doctor/view.h"
#include "lib/manifests/rbac_review.h"

namespace otel::doctor {

// metav1.LabelSelector semantics: {} selects everything; matchLabels AND matchExpressions (In, NotIn,
// Exists, DoesNotExist). A null/absent selector gives `nullSelects`.
bool selectorMatches(const Json* selector, const Json& labels, bool nullSelects);
// A Service's spec.selector (map): an empty or absent one selects no pod.
bool mapSelectorMatches(const Json& selector, const Json& labels);
// "a=b,c in (x)" for evidence.
std::string selectorString(const Json* selector);

// What the subject (a ServiceAccount in `ns`) may do according to the RBAC objects of the view: the
// checks it lacks, in order. Namespaced checks are answered for `targetNs` ("" = cluster-wide only,
// i.e. through ClusterRoleBindings).
std::vector<manifests::AccessCheck> deniedChecks(const ClusterView& view, const std::string& saNs,
                                                 const std::string& saName, const std::string& targetNs,
                                                 const std::vector<manifests::AccessCheck>& checks);

// Ready endpoints of the EndpointSlices of Service ns/svc (an endpoint without conditions counts as
// ready, as kube-proxy does), or -1 when the view cannot tell (EndpointSlices not read).
int readyEndpoints(const ClusterView& view, const std::string& ns, const std::string& svc);

const Json& labelsOf(const Json& obj);
const Json& annotationsOf(const Json& obj);
std::string metaOf(const Json& obj, const char* key);

}  // namespace otel::doctor
