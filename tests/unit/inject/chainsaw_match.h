// Test support: chainsaw (kyverno-json) partial matching of an assert document against an object —
// maps are subsets, arrays match by position with equal length, scalars are equal — plus the small
// JMESPath subset upstream's injection asserts use in `(…)` keys (filters, contains, concat, join,
// length, starts_with, ||, &&, ==, >). Expressions outside the subset are counted as not evaluated.
#pragma once
#include <map>
#include <string>
#include <vector>

#include "lib/core/json.h"

namespace otel::testing {

struct MatchResult {
  std::vector<std::string> mismatches;  // "path: reason"
  int notEvaluated = 0;                 // `(…)` keys we could not evaluate
  bool ok() const { return mismatches.empty(); }
};

struct MatchOptions {
  std::string ns;                      // value of $namespace
  std::vector<std::string> ignoreTop;  // top-level keys not compared (e.g. "status": kubelet-filled)
  std::map<std::string, Json> bindings;  // other $variables
};

// Evaluates one expression (without the surrounding parentheses' meaning) against `node`; throws
// std::runtime_error when the expression is outside the supported subset.
Json evalExpression(const std::string& expr, const Json& node, const MatchOptions& opts);

MatchResult chainsawMatch(const Json& expected, const Json& actual, const MatchOptions& opts);

}  // namespace otel::testing
