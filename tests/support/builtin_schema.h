// The JSON shape of the built-in kinds (generated from k8s.io/api release-1.36 by gen_builtin_schema.py):
// a round trip through it is what kube-apiserver's typed decoding and Go's encoding/json do to an object:
// unknown fields dropped (and reported, for fieldValidation), nulls dropped, struct field order, omitempty,
// the zero values of fields without omitempty (`resources: {}`, `divisor: "0"`, status counters), maps
// sorted by key.
#pragma once
#include <string>
#include <vector>

#include "lib/core/json.h"

namespace otel::testing {

// The generated table (builtin_schema_data.cpp): "@<type>" starts a struct, then one line per field
// "<json> <type>[ ?]" (? = omitempty) or "< <type>" (an embedded struct whose fields are inlined).
const char* builtinSchemaText();

// The schema type of a served built-in kind ("apps.Deployment"), "" when it is not modelled (CRDs, reviews).
std::string builtinTypeName(const std::string& group, const std::string& version, const std::string& kind);

struct TypedDecodeIssues {
  std::vector<std::string> unknownFields;  // `spec.junk`, `spec.template.spec.containers[0].junk`, in input order
  std::string typeError;                   // the first `json: cannot unmarshal ...` (empty when none)
};

// Decodes `object` into the type and encodes it back, as the API server does with every write.
Json typedRoundTrip(const std::string& typeName, const Json& object, TypedDecodeIssues* issues = nullptr);

}  // namespace otel::testing
