// Small shared pieces of the CR views: path lookups over otel::Json and the
// Diagnostics list (errors + warnings) that defaulting/validation return.
#pragma once
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "lib/core/json.h"

namespace otel::api {

inline constexpr const char* kGroup = "opentelemetry.io";
inline constexpr const char* kV1alpha1 = "opentelemetry.io/v1alpha1";
inline constexpr const char* kV1beta1 = "opentelemetry.io/v1beta1";

// Errors reject the object; warnings are returned to the user (admission warnings).
struct Diagnostics {
  std::vector<std::string> errors;
  std::vector<std::string> warnings;
  bool ok() const { return errors.empty(); }
  void merge(const Diagnostics& o) {
    errors.insert(errors.end(), o.errors.begin(), o.errors.end());
    warnings.insert(warnings.end(), o.warnings.begin(), o.warnings.end());
  }
};

// A shared empty object, for `cond ? j["x"] : emptyObject()` without copying j["x"].
const Json& emptyObject();

// Follows a path of object keys; nullptr when any step is missing or not an object.
const Json* at(const Json& j, std::initializer_list<std::string_view> path);
// Typed reads with fallbacks (a value of another type gives the fallback).
std::string str(const Json& j, std::initializer_list<std::string_view> path, const std::string& fallback = "");
long long integer(const Json& j, std::initializer_list<std::string_view> path, long long fallback = 0);
bool boolean(const Json& j, std::initializer_list<std::string_view> path, bool fallback = false);
// The strings of an array (other elements skipped); empty when missing or not an array.
std::vector<std::string> strings(const Json& j, std::initializer_list<std::string_view> path);
bool has(const Json& j, std::initializer_list<std::string_view> path);
// Non-null and, for containers, non-empty.
bool present(const Json& j, std::initializer_list<std::string_view> path);
// Returns the object at path, creating intermediate objects (replacing non-objects).
Json& ensure(Json& j, std::initializer_list<std::string_view> path);

// metav1.LabelSelector semantics over a labels object: {} selects everything; matchLabels AND
// matchExpressions (In, NotIn, Exists, DoesNotExist; an unknown operator selects nothing). Also reads the
// lower-case keys gopkg.in/yaml.v2 writes (matchlabels, matchexpressions). A null/absent selector gives
// `nullSelects`.
bool labelSelectorMatches(const Json* selector, const Json& labels, bool nullSelects);

}  // namespace otel::api
