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

// What the checks need to know about the cluster: who runs the request (SelfSubjectReview; else the
// impersonated user or the kubeconfig user's name), whether the installed controller may create
// ClusterRoles and bindings (true when no controller is installed: `kubectl otel install`'s may), and
// the monitoring.coreos.com resources served.
manifests::RbacReviewOptions clusterRbacReviewOptions(kube::Client& client, const manifests::AccessReviewer& reviewer);

}  // namespace otel::plugin
