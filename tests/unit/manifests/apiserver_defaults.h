// Test support: the defaults a kube-apiserver writes into the objects our builders send (so a
// rendered object can be compared with what upstream's e2e suites read back from a cluster).
// Every default applied here is listed with its reason in kApiServerDefaults.
#pragma once
#include <string>
#include <vector>

#include "lib/core/json.h"

namespace otel::testing {

struct DefaultRule {
  std::string what;
  std::string reason;
};
extern const std::vector<DefaultRule> kApiServerDefaults;

// Returns the object as the API server would store it (adds the listed defaults where missing).
Json withApiServerDefaults(const Json& obj);

}  // namespace otel::testing
