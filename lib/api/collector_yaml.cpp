#include "lib/api/collector_yaml.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "lib/core/gojson.h"
#include "lib/core/yaml.h"

namespace otel::api {

Json sortedKeys(const Json& v) {
  if (v.is_object()) {
    std::vector<std::string> keys;
    for (auto it = v.begin(); it != v.end(); ++it) keys.push_back(it.key());
    std::sort(keys.begin(), keys.end());
    Json out = Json::object();
    for (const auto& k : keys) out[k] = sortedKeys(v.at(k));
    return out;
  }
  if (v.is_array()) {
    Json out = Json::array();
    for (const auto& e : v) out.push_back(sortedKeys(e));
    return out;
  }
  return v;
}

namespace {

// An AnyConfig: a map (nil map stays null).
Json anyConfig(const Json& v) { return v.is_object() ? sortedKeys(v) : Json(nullptr); }

Json pipeline(const Json& p) {
  if (!p.is_object()) return nullptr;
  Json out = Json::object();
  auto list = [&](const char* k) { return p.contains(k) && p[k].is_array() ? p[k] : Json(nullptr); };
  out["exporters"] = list("exporters");
  Json procs = list("processors");
  if (procs.is_array() && !procs.empty()) out["processors"] = procs;
  out["receivers"] = list("receivers");
  return out;
}

}  // namespace

Json configStructView(const Json& config) {
  Json c = config.is_object() ? config : Json::object();
  Json out = Json::object();
  out["receivers"] = anyConfig(c.value("receivers", Json()));
  out["exporters"] = anyConfig(c.value("exporters", Json()));
  for (const char* k : {"processors", "connectors", "extensions"})
    if (c.contains(k) && !c[k].is_null()) out[k] = c[k].is_object() ? sortedKeys(c[k]) : Json::object();
  Json svc = Json::object();
  const Json s = c.value("service", Json::object());
  if (s.is_object()) {
    if (s.contains("extensions") && s["extensions"].is_array() && !s["extensions"].empty()) svc["extensions"] = s["extensions"];
    if (s.contains("telemetry") && !s["telemetry"].is_null())
      svc["telemetry"] = s["telemetry"].is_object() ? sortedKeys(s["telemetry"]) : Json::object();
    Json pipes = nullptr;
    if (s.contains("pipelines") && s["pipelines"].is_object()) {
      pipes = Json::object();
      Json sorted = sortedKeys(s["pipelines"]);
      for (auto it = sorted.begin(); it != sorted.end(); ++it) pipes[it.key()] = pipeline(it.value());
    }
    svc["pipelines"] = pipes;
  } else {
    svc["pipelines"] = nullptr;
  }
  out["service"] = svc;
  return out;
}

std::string configGoJson(const Json& config) {
  // Struct fields keep struct order; every map inside is sorted (goJsonMarshal sorts map keys).
  Json v = configStructView(config);
  auto field = [](const std::string& k, const std::string& val) { return "\"" + k + "\":" + val; };
  std::string s = "{";
  bool first = true;
  for (auto it = v.begin(); it != v.end(); ++it) {
    if (!first) s += ",";
    first = false;
    if (it.key() == "service") {
      std::string svc = "{";
      bool f2 = true;
      for (auto jt = it.value().begin(); jt != it.value().end(); ++jt) {
        if (!f2) svc += ",";
        f2 = false;
        if (jt.key() == "pipelines" && jt.value().is_object()) {
          std::string p = "{";
          bool f3 = true;
          for (auto kt = jt.value().begin(); kt != jt.value().end(); ++kt) {
            if (!f3) p += ",";
            f3 = false;
            std::string pl;
            if (kt.value().is_null()) {
              pl = "null";
            } else {
              pl = "{";
              bool f4 = true;
              for (auto lt = kt.value().begin(); lt != kt.value().end(); ++lt) {
                if (!f4) pl += ",";
                f4 = false;
                pl += field(lt.key(), goJsonMarshal(lt.value()));
              }
              pl += "}";
            }
            p += goJsonMarshal(Json(kt.key())) + ":" + pl;
          }
          svc += field("pipelines", p + "}");
        } else {
          svc += field(jt.key(), goJsonMarshal(jt.value()));
        }
      }
      s += field("service", svc + "}");
    } else {
      s += field(it.key(), goJsonMarshal(it.value()));
    }
  }
  return s + "}";
}

namespace {

bool goccyNeedsQuotes(const std::string& s) {
  if (s.empty()) return true;
  if (yamlNeedsQuotes(s)) return true;
  const std::string indicators = "-?:,[]{}#&*!|>'\"%@`";
  if (indicators.find(s.front()) != std::string::npos) {
    // "-foo" and "?x" are plain in YAML only when followed by a non-space; keep it simple: quote.
    return true;
  }
  if (s.find(": ") != std::string::npos || s.find(" #") != std::string::npos) return true;
  if (s.back() == ':') return true;
  if (s.front() == ' ' || s.back() == ' ' || s.front() == '\t' || s.back() == '\t') return true;
  for (char c : s)
    if (c == '\n' || c == '\r' || c == '\t' || static_cast<unsigned char>(c) < 0x20) return true;
  return false;
}

std::string quote(const std::string& s) {
  Json j = s;
  return j.dump();
}

std::string scalar(const Json& v) {
  if (v.is_null()) return "null";
  if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
  if (v.is_number_integer()) return v.dump();
  if (v.is_number_float()) {
    double d = v.get<double>();
    if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 1e15) return std::to_string(static_cast<long long>(d));
    return goFormatFloat(d);
  }
  if (v.is_string()) {
    std::string s = v.get<std::string>();
    return goccyNeedsQuotes(s) ? quote(s) : s;
  }
  if (v.is_object()) return "{}";
  if (v.is_array()) return "[]";
  return v.dump();
}

bool isBlock(const Json& v) { return (v.is_object() || v.is_array()) && !v.empty(); }

void emitMap(const Json& m, int col, int indent, bool inlineFirst, std::string& out);
void emitSeq(const Json& a, int col, int indent, std::string& out);

void emitValueAfterKey(const Json& v, int col, int indent, std::string& out) {
  if (!isBlock(v)) {
    out += " " + scalar(v) + "\n";
  } else if (v.is_object()) {
    out += "\n";
    emitMap(v, col + indent, indent, false, out);
  } else {
    out += "\n";
    emitSeq(v, col + indent, indent, out);
  }
}

void emitMap(const Json& m, int col, int indent, bool inlineFirst, std::string& out) {
  bool first = true;
  for (auto it = m.begin(); it != m.end(); ++it) {
    if (!(first && inlineFirst)) out += std::string(col, ' ');
    first = false;
    std::string key = goccyNeedsQuotes(it.key()) ? quote(it.key()) : it.key();
    out += key + ":";
    emitValueAfterKey(it.value(), col, indent, out);
  }
}

void emitSeq(const Json& a, int col, int indent, std::string& out) {
  for (const auto& e : a) {
    out += std::string(col, ' ') + "-";
    if (!isBlock(e)) {
      out += " " + scalar(e) + "\n";
    } else if (e.is_object()) {
      out += " ";
      emitMap(e, col + 2, indent, true, out);
    } else {
      out += "\n";
      emitSeq(e, col + 2, indent, out);
    }
  }
}

}  // namespace

std::string goYaml(const Json& value, int indent) {
  std::string out;
  if (value.is_object() && !value.empty())
    emitMap(value, 0, indent, false, out);
  else if (value.is_array() && !value.empty())
    emitSeq(value, 0, indent, out);
  else
    out = scalar(value) + "\n";
  return out;
}

std::string collectorConfigYaml(const Json& config) { return goYaml(configStructView(config), 2); }

}  // namespace otel::api
