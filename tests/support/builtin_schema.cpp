#include "tests/support/builtin_schema.h"

#include <functional>
#include <map>
#include <mutex>
#include <sstream>

namespace otel::testing {
namespace {

struct Field {
  std::string json;
  std::string type;
  bool omitempty = false;
};

using Schema = std::map<std::string, std::vector<Field>>;

// Parses the generated table once, inlining embedded structs.
const Schema& schema() {
  static const Schema s = [] {
    std::map<std::string, std::vector<std::pair<bool, Field>>> raw;  // (inline?, field)
    std::istringstream in(builtinSchemaText());
    std::string line, current;
    while (std::getline(in, line)) {
      if (line.empty()) continue;
      if (line[0] == '@') {
        current = line.substr(1);
        raw[current];
        continue;
      }
      if (line.rfind("< ", 0) == 0) {
        raw[current].push_back({true, Field{"", line.substr(2), false}});
        continue;
      }
      std::istringstream ls(line);
      Field f;
      std::string mark;
      ls >> f.json >> f.type >> mark;
      f.omitempty = mark == "?";
      raw[current].push_back({false, f});
    }
    Schema out;
    std::function<std::vector<Field>(const std::string&)> expand = [&](const std::string& name) {
      std::vector<Field> fields;
      for (const auto& [inl, f] : raw[name]) {
        if (inl) {
          auto more = expand(f.type);
          fields.insert(fields.end(), more.begin(), more.end());
        } else {
          fields.push_back(f);
        }
      }
      return fields;
    };
    for (const auto& [name, fields] : raw) out[name] = expand(name);
    return out;
  }();
  return s;
}

const char* jsonTypeName(const Json& v) {
  if (v.is_string()) return "string";
  if (v.is_number()) return "number";
  if (v.is_boolean()) return "bool";
  if (v.is_array()) return "array";
  if (v.is_object()) return "object";
  return "null";
}

struct Codec {
  TypedDecodeIssues* issues;
  std::string goStruct;  // the Go struct whose field is being decoded (for type errors)

  void typeError(const Json& v, const std::string& path, const std::string& goType) {
    if (!issues || !issues->typeError.empty()) return;
    issues->typeError = std::string("json: cannot unmarshal ") + jsonTypeName(v) + " into Go struct field " +
                        goStruct + "." + path + " of type " + goType;
  }

  // Go's notion of an empty value for omitempty (structs are never empty).
  static bool emptyForOmit(const std::string& type, const Json& v) {
    if (v.is_null()) return true;
    if (type[0] == '*') return false;
    if (type.rfind("[]", 0) == 0 || type.rfind("{}", 0) == 0) return v.empty();
    if (type == "string" || type == "bytes") return v.is_string() && v.get<std::string>().empty();
    if (type == "int" || type == "float") return v.is_number() && v == 0;
    if (type == "bool") return v.is_boolean() && !v.get<bool>();
    if (type == "time") return v.is_null();  // ObjectMeta.creationTimestamp is omitzero
    return false;
  }

  // The zero value a field of this type encodes to (absent or null input).
  Json zero(const std::string& type) {
    if (type[0] == '*' || type.rfind("[]", 0) == 0 || type.rfind("{}", 0) == 0) return nullptr;
    if (type == "string") return "";
    if (type == "bytes" || type == "time" || type == "raw") return nullptr;
    if (type == "int" || type == "float") return 0;
    if (type == "bool") return false;
    if (type == "quantity") return "0";
    if (type == "intorstr") return 0;
    return encodeStruct(type, Json::object(), "", false);
  }

  // Encodes a present (non-null) value.
  Json encode(const std::string& type, const Json& v, const std::string& path) {
    if (v.is_null()) return zero(type);
    if (type[0] == '*') return encode(type.substr(1), v, path);
    if (type.rfind("[]", 0) == 0) {
      if (!v.is_array()) {
        typeError(v, path, type);
        return nullptr;
      }
      Json out = Json::array();
      std::string elem = type.substr(2);
      for (size_t i = 0; i < v.size(); ++i) out.push_back(encode(elem, v[i], path + "[" + std::to_string(i) + "]"));
      return out;
    }
    if (type.rfind("{}", 0) == 0) {
      if (!v.is_object()) {
        typeError(v, path, "map[string]" + type.substr(2));
        return nullptr;
      }
      std::map<std::string, Json> sorted;  // Go encodes maps with sorted keys
      std::string elem = type.substr(2);
      for (auto it = v.begin(); it != v.end(); ++it) sorted[it.key()] = encode(elem, it.value(), path + "." + it.key());
      Json out = Json::object();
      for (auto& [k, x] : sorted) out[k] = std::move(x);
      return out;
    }
    if (type == "string" || type == "bytes" || type == "time") {
      if (!v.is_string()) typeError(v, path, type == "bytes" ? "[]uint8" : type == "time" ? "v1.Time" : "string");
      return v.is_string() ? v : zero(type);
    }
    if (type == "int") {
      if (!v.is_number_integer()) {
        typeError(v, path, "int32");
        return 0;
      }
      return v;
    }
    if (type == "float") {
      if (!v.is_number()) typeError(v, path, "float64");
      return v.is_number() ? v : Json(0);
    }
    if (type == "bool") {
      if (!v.is_boolean()) typeError(v, path, "bool");
      return v.is_boolean() ? v : Json(false);
    }
    if (type == "quantity") {
      if (v.is_string()) return v;
      if (v.is_number_integer()) return std::to_string(v.get<std::int64_t>());
      if (v.is_number()) {
        std::ostringstream o;
        o << v.get<double>();
        return o.str();
      }
      typeError(v, path, "resource.Quantity");
      return "0";
    }
    if (type == "intorstr") {
      if (v.is_string() || v.is_number_integer()) return v;
      typeError(v, path, "intstr.IntOrString");
      return 0;
    }
    if (type == "raw") return v;
    if (!v.is_object()) {
      typeError(v, path, type.substr(type.find('.') + 1));
      return zero(type);
    }
    return encodeStruct(type, v, path, true);
  }

  Json encodeStruct(const std::string& type, const Json& v, const std::string& path, bool report) {
    const Schema& s = schema();
    auto it = s.find(type);
    if (it == s.end()) return v;  // not modelled: kept as is
    std::string saved = goStruct;
    goStruct = type.substr(type.find('.') + 1);
    // Input order first (unknown fields are reported in the order the decoder meets them), then struct order.
    std::map<std::string, Json> decoded;
    for (auto jt = v.begin(); jt != v.end(); ++jt) {
      const Field* f = nullptr;
      for (const auto& g : it->second)
        if (g.json == jt.key()) f = &g;
      std::string fp = path.empty() ? jt.key() : path + "." + jt.key();
      if (!f) {
        if (report && issues) issues->unknownFields.push_back(fp);
        continue;
      }
      decoded[f->json] = encode(f->type, jt.value(), fp);
    }
    Json out = Json::object();
    for (const auto& f : it->second) {
      auto dt = decoded.find(f.json);
      Json value = dt != decoded.end() ? std::move(dt->second) : zero(f.type);
      if (f.omitempty && emptyForOmit(f.type, value)) continue;
      out[f.json] = std::move(value);
    }
    goStruct = saved;
    return out;
  }
};

}  // namespace

std::string builtinTypeName(const std::string& group, const std::string& version, const std::string& kind) {
  static const std::map<std::string, std::string> prefixes = {
      {"/v1", "core"},          {"apps/v1", "apps"},           {"batch/v1", "batch"},
      {"autoscaling/v2", "autoscaling2"}, {"autoscaling/v1", "autoscaling1"}, {"policy/v1", "policy"},
      {"networking.k8s.io/v1", "networking"}, {"rbac.authorization.k8s.io/v1", "rbac"},
      {"coordination.k8s.io/v1", "coordination"}, {"discovery.k8s.io/v1", "discovery"},
      {"admissionregistration.k8s.io/v1", "admission"}};
  auto it = prefixes.find(group + "/" + version);
  if (it == prefixes.end()) return "";
  std::string name = it->second + "." + kind;
  return schema().count(name) ? name : "";
}

Json typedRoundTrip(const std::string& typeName, const Json& object, TypedDecodeIssues* issues) {
  Codec c{issues, ""};
  if (!object.is_object()) return object;
  return c.encodeStruct(typeName, object, "", true);
}

}  // namespace otel::testing
