#include "lib/core/log.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <ctime>
#include <iostream>
#include <mutex>

#include "lib/core/error.h"
#include "lib/core/json.h"

namespace otel::log {
namespace {

// The logger: the only global mutable state of the program.
struct LoggerState {
  std::atomic<int> level{static_cast<int>(Level::Info)};
  std::atomic<int> format{static_cast<int>(Format::Text)};
  std::mutex mu;
};
LoggerState& state() {
  static LoggerState s;
  return s;
}

const char* levelName(Level l) {
  switch (l) {
    case Level::Debug: return "debug";
    case Level::Info: return "info";
    case Level::Warn: return "warn";
    case Level::Error: return "error";
    case Level::Off: return "off";
  }
  return "info";
}

bool needsQuoting(std::string_view v) {
  if (v.empty()) return true;
  for (char c : v)
    if (c == ' ' || c == '"' || c == '=' || c == '\n' || c == '\t' || static_cast<unsigned char>(c) < 0x20) return true;
  return false;
}

std::string nowRfc3339() {
  using namespace std::chrono;
  auto now = system_clock::now();
  auto t = system_clock::to_time_t(now);
  auto ms = duration_cast<milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  char out[48];
  std::snprintf(out, sizeof out, "%s.%03dZ", buf, static_cast<int>(ms));
  return out;
}

}  // namespace

bool isSecretKey(std::string_view key) {
  std::string k(key);
  std::transform(k.begin(), k.end(), k.begin(), [](unsigned char c) { return std::tolower(c); });
  for (const char* s : {"token", "password", "secret", "authorization", "credential", "private", "bearer", "apikey",
                        "api_key", "key_data", "keydata"}) {
    if (k.find(s) != std::string::npos) return true;
  }
  return k == "key" || (k.size() > 4 && k.compare(k.size() - 4, 4, ".key") == 0);
}

void configure(Level level, Format format) {
  state().level = static_cast<int>(level);
  state().format = static_cast<int>(format);
}

Level parseLevel(std::string_view s) {
  if (s == "debug") return Level::Debug;
  if (s == "info") return Level::Info;
  if (s == "warn" || s == "warning") return Level::Warn;
  if (s == "error") return Level::Error;
  if (s == "off" || s == "none") return Level::Off;
  throw Error("invalid log level \"" + std::string(s) + "\" (want debug, info, warn, error or off)", "--log-level");
}

Format parseFormat(std::string_view s) {
  if (s == "text") return Format::Text;
  if (s == "json") return Format::Json;
  throw Error("invalid log format \"" + std::string(s) + "\" (want text or json)", "--log-format");
}

bool enabled(Level level) { return static_cast<int>(level) >= state().level.load() && level != Level::Off; }

std::string formatLine(Level level, std::string_view event, const Fields& fields, Format format,
                       std::string_view timestamp) {
  if (format == Format::Json) {
    Json j = Json::object();
    j["ts"] = timestamp;
    j["level"] = levelName(level);
    j["msg"] = event;
    for (const auto& [k, v] : fields) j[k] = isSecretKey(k) ? std::string("[redacted]") : v;
    return j.dump(-1, ' ', false, Json::error_handler_t::replace);
  }
  std::string line = "ts=" + std::string(timestamp) + " level=" + levelName(level) + " msg=";
  auto append = [&line](std::string_view v) {
    if (needsQuoting(v)) line += Json(std::string(v)).dump(-1, ' ', false, Json::error_handler_t::replace);
    else line += v;
  };
  append(event);
  for (const auto& [k, v] : fields) {
    line += ' ';
    line += k;
    line += '=';
    append(isSecretKey(k) ? std::string_view("[redacted]") : std::string_view(v));
  }
  return line;
}

void write(Level level, std::string_view event, const Fields& fields) {
  if (!enabled(level)) return;
  std::string line = formatLine(level, event, fields, static_cast<Format>(state().format.load()), nowRfc3339());
  std::lock_guard<std::mutex> lock(state().mu);
  std::cerr << line << '\n';
}

}  // namespace otel::log
