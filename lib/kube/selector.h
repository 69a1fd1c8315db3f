// metav1.LabelSelector -> the labelSelector query a list or watch sends ("k=v,k in (a,b),k,!k"), with
// metav1.LabelSelectorAsSelector's checks. Accepts the JSON field names (matchLabels, matchExpressions) and
// the lower-case ones gopkg.in/yaml.v2 writes (matchlabels, matchexpressions, as in targetallocator.yaml).
#pragma once
#include <string>

#include "lib/core/json.h"

namespace otel::kube {

// null or {} -> "" (every object). Throws otel::Error naming `where` for an unknown operator, In/NotIn
// without values or Exists/DoesNotExist with values.
std::string labelSelectorQuery(const Json& selector, const std::string& where);

}  // namespace otel::kube
