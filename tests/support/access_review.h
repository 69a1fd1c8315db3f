// The access-review APIs of the test API server, as kube-apiserver answers them: SubjectAccessReview,
// SelfSubjectAccessReview and LocalSubjectAccessReview (authorization.k8s.io/v1) evaluated with the RBAC
// authorizer of rbac.h, and SelfSubjectReview (authentication.k8s.io/v1). Create-only, never stored. Pure.
#pragma once
#include <string>

#include "lib/core/json.h"
#include "tests/support/rbac.h"

namespace otel::testing {

enum class ReviewKind { SubjectAccessReview, SelfSubjectAccessReview, LocalSubjectAccessReview };

struct ReviewAnswer {
  int status = 201;
  Json body;
};

// A review POSTed to .../subjectaccessreviews, .../selfsubjectaccessreviews or
// .../namespaces/<urlNamespace>/localsubjectaccessreviews: 201 with the review as kube re-encodes it (known
// spec fields only, in kube's field order) and `status: {allowed[, reason]}`; a 422 Invalid Status with kube's
// validation messages; a 400 for a body of another kind or a namespace that differs from the URL's.
// The subject is spec.user/spec.groups (only the groups given) or, for a SelfSubjectAccessReview, `requester`.
ReviewAnswer accessReview(ReviewKind kind, const Json& body, const std::string& urlNamespace,
                          const UserInfo& requester, const RbacPolicy& policy);

// A SelfSubjectReview POSTed by `requester`: 201 with metadata.creationTimestamp and
// status.userInfo {username, groups[, extra]}.
ReviewAnswer selfSubjectReview(const Json& body, const UserInfo& requester, const std::string& now);

}  // namespace otel::testing
