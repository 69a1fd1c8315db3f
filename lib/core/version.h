// Build version facts (set by CMake).
#pragma once
#include <string>

namespace otel {
std::string version();    // e.g. "0.1.0"
std::string gitCommit();  // short commit or "unknown"
std::string userAgent();  // "kubectl-otel/<version>"
}  // namespace otel
