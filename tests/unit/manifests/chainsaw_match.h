// Test support: chainsaw's partial-match assertion semantics over otel::Json, and the small part
// of its expression language the upstream suites use in plain values (bindings like ($namespace),
// join('', [...])). Other (expr) keys/values are reported as "not evaluated", never as passes.
#pragma once
#include <map>
#include <string>
#include <vector>

#include "lib/core/json.h"

namespace otel::testing {

using Bindings = std::map<std::string, std::string>;

struct MatchResult {
  bool ok = true;
  std::string mismatch;                    // first difference ("path: expected X, got Y")
  std::vector<std::string> notEvaluated;   // paths of (expr) keys/values we could not evaluate
};

// Maps match as subsets, arrays element-wise by position with equal length, scalars equal.
MatchResult chainsawMatch(const Json& expected, const Json& actual, const Bindings& bindings);

// Evaluates "(...)" string values we support (bindings, join); returns false when unsupported.
bool evalExpression(const std::string& expr, const Bindings& bindings, std::string& out);

// Replaces evaluable "(...)" string values in an object (used for install files with template: true).
Json applyTemplate(const Json& value, const Bindings& bindings);

// RFC 7386 JSON merge patch.
Json mergePatch(const Json& target, const Json& patch);

}  // namespace otel::testing
