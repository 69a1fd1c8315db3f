// `create --render` and the controller's view of a set of user CRs: converts, defaults (API server
// CRD defaults + mutating webhook), validates (errors abort, warnings collected), links collectors
// to TargetAllocators and returns the defaulted CRs followed by every object built for them. PURE.
#pragma once
#include <string>
#include <vector>

#include "lib/collectorconfig/admission.h"
#include "lib/core/json.h"
#include "lib/core/yaml.h"
#include "lib/manifests/build.h"

namespace otel::manifests {

struct RenderOptions {
  Options build;
  // Components collectors may not use (a FIPS platform), as upstream's --fips-disabled-components.
  std::vector<std::string> fipsDisabledComponents;
  std::string defaultNamespace = "default";
  bool includeCustomResources = true;  // print the defaulted collector/TA CRs too
  // Give every CR a metadata.uid (as the API server would) so ownerReferences are rendered.
  bool assignUids = false;
};

struct RenderResult {
  std::vector<Json> objects;
  std::vector<std::string> warnings;  // "<where>: <warning>"
};

// Throws otel::Error naming source, document, object and field on the first invalid CR; nothing is
// returned then (no partial output). Instrumentations are validated and returned defaulted (after the
// collectors' objects); objects of other kinds are skipped with a warning.
RenderResult render(const std::vector<YamlDocument>& docs, const RenderOptions& opts);

// "<source>: document <n>" (1-based), how errors and warnings name an input document.
std::string docWhere(const YamlDocument& d);

// The defaulted v1beta1 form of one collector (conversion + CRD defaults + webhook defaults) and
// its diagnostics; throws otel::Error on validation errors.
Json admitCollector(const Json& collector, const std::string& where, std::vector<std::string>* warnings = nullptr,
                    const Json* old = nullptr, const collectorconfig::AdmissionOptions& admission = {});

}  // namespace otel::manifests
