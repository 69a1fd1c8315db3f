// Test support: chainsaw (kyverno-json) assertions over otel::Json, for upstream's e2e suites.
// Partial matching: maps are subsets (an expected null also matches an absent key), arrays match by
// position with equal length, scalars are equal (numbers by value). `(…)` keys and string values are
// JMESPath expressions; the subset upstream's asserts use is evaluated (bindings like $namespace, @,
// paths, filters [?…], contains, concat, join, keys, length, parse_yaml, starts_with, !, ||, &&, ==, !=,
// <, >), anything else
// is reported as not evaluated, never as a pass.
#pragma once
#include <map>
#include <string>
#include <vector>

#include "lib/core/json.h"

namespace otel::testing {

struct MatchResult {
  std::vector<std::string> mismatches;    // "path: reason"
  std::vector<std::string> notEvaluated;  // paths of `(…)` keys/values outside the supported subset
  bool ok() const { return mismatches.empty(); }
};

struct MatchOptions {
  std::map<std::string, Json> bindings;  // $name -> value ("namespace" for $namespace)
  std::vector<std::string> ignoreTop;    // top-level keys not compared (e.g. "status": kubelet-filled)
};

// Evaluates one expression (with or without its surrounding parentheses) against `node` (`@`);
// throws std::runtime_error when it is outside the supported subset.
Json evalExpression(const std::string& expr, const Json& node, const MatchOptions& opts);

// For a string "(…)": its value (with `@` null) in `out`, true; false when `s` is not an expression or
// cannot be evaluated.
bool evalValue(const std::string& s, const MatchOptions& opts, Json& out);

MatchResult chainsawMatch(const Json& expected, const Json& actual, const MatchOptions& opts);

// Replaces "(…)" string values that evaluate to non-null (install files with `template: true`); others stay.
Json applyTemplate(const Json& value, const MatchOptions& opts);

}  // namespace otel::testing
