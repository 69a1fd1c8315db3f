// RFC 3339 times as Kubernetes writes them (metav1.Time, MicroTime, exec credential expiry): parsing and
// formatting, independent of the local time zone.
#pragma once
#include <chrono>
#include <optional>
#include <string>

namespace otel {

// RFC 3339 (with optional fraction and offset) -> time point; nullopt when malformed or out of range.
std::optional<std::chrono::system_clock::time_point> parseRfc3339(const std::string& s);
// time point -> "2006-01-02T15:04:05Z" (micro=false) or "2006-01-02T15:04:05.000000Z" (micro=true).
std::string formatRfc3339(std::chrono::system_clock::time_point t, bool micro = false);

}  // namespace otel
