#include "lib/core/version.h"

#include "otel_version_config.h"

namespace otel {
std::string version() { return OTEL_VERSION_STRING; }
std::string gitCommit() { return OTEL_GIT_COMMIT; }
std::string userAgent() {
  std::string ua = "kubectl-otel/";
  ua.append(OTEL_VERSION_STRING);
  return ua;
}
}  // namespace otel
