// The collector admission logic as one pure entry point (used by the webhook, `create` and tests):
// spec defaulting (lib/api) + config defaulting, and validation = spec checks + config checks
// (target allocator prometheus receiver, mTLS, inferred ports, null objects), upstream's messages.
#pragma once
#include <string>
#include <vector>

#include "lib/api/common.h"
#include "lib/core/json.h"

namespace otel::collectorconfig {

struct AdmissionOptions {
  bool certManagerAvailable = false;
  // On a FIPS-enabled platform: components collectors may not use, as upstream's
  // --fips-disabled-components ("receiver.foo,exporter.bar,processor.x,extension.y" entries).
  std::vector<std::string> fipsDisabledComponents;
};

// The FIPS check: per kind (receivers, exporters, processors, extensions, in that order) the first
// component in use (pipelines, service.extensions; sorted by id) whose type is disabled. Empty when fine.
std::vector<std::string> fipsDisabledInUse(const Json& config, const std::vector<std::string>& disabled);

// Mutating webhook: converts nothing (input must be v1beta1), applies spec and config defaults.
// Returns the events upstream records. Throws otel::Error on a config it cannot default
// (unknown protocol of a multi-protocol receiver).
std::vector<std::string> defaultCollector(Json& collector, const Json* old = nullptr);

// Validating webhook (CREATE when old == nullptr, else UPDATE).
api::Diagnostics validateCollector(const Json& collector, const Json* old = nullptr, const AdmissionOptions& opts = {});

}  // namespace otel::collectorconfig
