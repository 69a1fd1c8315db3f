// Structured logging: one line per event, key=value (text) or JSON (--log-format=json), to stderr.
// The logger is the only global mutable state of the program. Values of secret-looking keys are redacted.
#pragma once
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace otel::log {

enum class Level { Debug = 0, Info = 1, Warn = 2, Error = 3, Off = 4 };
enum class Format { Text, Json };

using Fields = std::vector<std::pair<std::string, std::string>>;

void configure(Level level, Format format);
// Parses "debug|info|warn|error|off" and "text|json"; throws otel::Error on other values.
Level parseLevel(std::string_view s);
Format parseFormat(std::string_view s);
bool enabled(Level level);

// Formats one event line (without writing it); exposed for tests.
std::string formatLine(Level level, std::string_view event, const Fields& fields, Format format,
                       std::string_view timestamp);

void write(Level level, std::string_view event, const Fields& fields = {});
inline void debug(std::string_view e, const Fields& f = {}) { write(Level::Debug, e, f); }
inline void info(std::string_view e, const Fields& f = {}) { write(Level::Info, e, f); }
inline void warn(std::string_view e, const Fields& f = {}) { write(Level::Warn, e, f); }
inline void error(std::string_view e, const Fields& f = {}) { write(Level::Error, e, f); }

// True for keys whose values must never be logged (token, password, secret, key, authorization ...).
bool isSecretKey(std::string_view key);

}  // namespace otel::log
