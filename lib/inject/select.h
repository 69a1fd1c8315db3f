// Resolving an injection annotation value (`true`, `<name>`, `<ns>/<name>`; `true` case-insensitive)
// to one object of a catalog, with upstream's error messages. Shared by the Instrumentation and the
// sidecar-collector selection. PURE.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "lib/core/json.h"

namespace otel::inject {

struct SelectRules {
  std::string kind;         // "Instrumentation", "Collector" (in "no OpenTelemetry <kind> instances available")
  std::string resource;     // "instrumentations.opentelemetry.io" (in "<resource> \"<name>\" not found")
  // For `true`: only candidates that pass count (e.g. sidecar-mode collectors); nullptr = all.
  std::function<bool(const Json&)> eligible;
  // For a named object that is not eligible: this error (e.g. "... mode is not set to sidecar").
  std::string notEligibleError;
};

// `value` is resolved against `items` (objects without metadata.namespace count as in `ns`). `true`
// picks the single eligible object of `ns`; a name or ns/name picks that object. Returns nullptr and
// sets `error` (upstream's message) when none or several match.
const Json* selectByAnnotation(const std::string& value, const std::string& ns, const std::vector<Json>& items,
                               const SelectRules& rules, std::string& error);

}  // namespace otel::inject
