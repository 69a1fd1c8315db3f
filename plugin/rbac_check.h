// The collector webhook's RBAC checks (lib/manifests/rbac_review) asked of a cluster, for `create`:
// SubjectAccessReviews for service accounts, SelfSubjectAccessReviews for the one running kubectl,
// SelfSubjectReview for their name, discovery for the monitoring.coreos.com resources, and the
// installed controller's own permissions (does it create collectors' ClusterRoles?).
#pragma once
#include <string>

#include "lib/api/common.h"
#include "lib/core/json.h"
#include "lib/kube/client.h"
#include "lib/manifests/rbac_review.h"

namespace otel::plugin {

// One review per check (SubjectAccessReview, or SelfSubjectAccessReview for a `self` subject).
// Throws otel::Error when the cluster refuses to answer (e.g. 403: no permission to create
// SubjectAccessReviews).
manifests::AccessReviewer clusterAccessReviewer(kube::Client& client);

// What the checks need to know about the cluster, asked only when `needs` says a check will use it:
// who runs the request (SelfSubjectReview; else the user the kubeconfig impersonates; else unknown,
// "the current user"), whether the installed controller may create ClusterRoles and bindings (true when
// no controller is installed or its webhook configuration cannot be read: `kubectl otel install`'s may), and the monitoring.coreos.com kinds served
// (any version). A question the cluster will not answer adds a line to `warnings`.
manifests::RbacReviewOptions clusterRbacReviewOptions(kube::Client& client, const manifests::AccessReviewer& reviewer,
                                                      const manifests::RbacNeeds& needs, std::vector<std::string>& warnings);

}  // namespace otel::plugin
