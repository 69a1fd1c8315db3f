// RFC 6902 JSON Patch between two documents, as the admission webhooks answer (controller-runtime's
// PatchResponseFromRaw computes the same kind of patch). PURE.
#pragma once
#include <string>

#include "lib/core/json.h"

namespace otel::webhook {

// The operations that turn `from` into `to`: objects member by member (add / remove / replace), arrays
// element by element when only their tail grows or shrinks or elements change in place, otherwise the
// array is replaced. Applying the result to `from` gives exactly `to`. Empty array when equal.
Json jsonPatch(const Json& from, const Json& to);

// Applies a patch (add, remove, replace, test; copy and move as RFC 6902). Throws otel::Error naming the
// failing operation on a path that does not exist or a failed test.
Json applyJsonPatch(Json doc, const Json& patch);

// RFC 6901 escaping of one reference token ("~" -> "~0", "/" -> "~1").
std::string escapePointerToken(const std::string& token);

}  // namespace otel::webhook
