// Admission cases shared by the tests of lib/api validation, the webhook handlers and the webhook served
// through the test API server: a collector built from spec/config YAML snippets, and every collector
// validation message of upstream's webhook (reference section 6) with an input that triggers it.
#pragma once
#include <string>
#include <vector>

#include "lib/core/json.h"

namespace otel::testing {

extern const char* const kPromConfig;   // a config with a prometheus receiver and one scrape config
extern const std::string kStsWithTa;    // spec snippet: statefulset with the target allocator enabled

// The base v1beta1 collector c in namespace ns (otlp -> debug) with `specYaml` keys merged into spec and,
// when given, spec.config replaced by `configYaml`.
Json admissionCollector(const std::string& specYaml, const char* configYaml = nullptr);

struct AdmissionCase {
  const char* name;
  std::string spec;
  const char* config;
  std::string message;  // the first error, word for word
};
const std::vector<AdmissionCase>& collectorAdmissionCases();

}  // namespace otel::testing
