#include "lib/core/version.h"

#include "otel_version_config.h"

namespace otel {
std::string version() { return OTEL_VERSION_STRING; }
std::string gitCommit() { return OTEL_GIT_COMMIT; }
std::string userAgent() { return std::string("kubectl-otel/") + OTEL_VERSION_STRING; }
}  // namespace otel
