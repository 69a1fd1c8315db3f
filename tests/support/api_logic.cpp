#include "tests/support/api_logic.h"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <regex>

namespace otel::testing {

std::string goQuote(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\a': out += "\\a"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\v': out += "\\v"; break;
      default:
        if (c < 0x20 || c == 0x7f) {  // strconv's lowerhex
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\x%02x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "\"";
}

std::string aggregateErrors(const std::vector<std::string>& messages) {
  if (messages.size() == 1) return messages[0];
  std::vector<std::string> seen;
  for (const auto& m : messages)
    if (std::find(seen.begin(), seen.end(), m) == seen.end()) seen.push_back(m);
  std::string out;
  for (size_t i = 0; i < seen.size(); ++i) out += (i ? ", " : "") + seen[i];
  return seen.size() == 1 ? out : "[" + out + "]";
}

bool queryParamTrue(const std::string& value) {
  std::string v = value;
  for (auto& ch : v) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return v != "0" && v != "false";
}

Json statusBody(int code, const std::string& reason, const std::string& message, const Json& details) {
  Json s = Json::object();
  s["kind"] = "Status";
  s["apiVersion"] = "v1";
  s["metadata"] = Json::object();
  s["status"] = "Failure";
  s["message"] = message;
  if (!reason.empty()) s["reason"] = reason;  // kube leaves it out for errors it does not classify
  if (!details.is_null()) s["details"] = details;
  s["code"] = code;
  return s;
}

Json statusSuccess(const Json& details) {
  Json s = Json::object();
  s["kind"] = "Status";
  s["apiVersion"] = "v1";
  s["metadata"] = Json::object();
  s["status"] = "Success";
  s["details"] = details;
  return s;
}

// ---------------------------------------------------------------- selectors
namespace {
std::string trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(" \t");
  return s.substr(b, e - b + 1);
}

// Splits at commas that are not inside parentheses.
std::vector<std::string> splitTop(const std::string& s) {
  std::vector<std::string> out;
  int depth = 0;
  std::string cur;
  for (char c : s) {
    if (c == '(') depth++;
    if (c == ')') depth--;
    if (c == ',' && depth == 0) {
      out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  out.push_back(cur);
  return out;
}

std::string labelValue(const Json& labels, const std::string& key, bool& present) {
  present = labels.is_object() && labels.contains(key) && labels[key].is_string();
  return present ? labels[key].get<std::string>() : std::string();
}
}  // namespace

std::optional<LabelSelector> parseLabelSelector(const std::string& text, std::string& error) {
  LabelSelector sel;
  if (trim(text).empty()) return sel;
  static const std::regex setRe(R"(^\s*([^\s!=(),]+)\s+(in|notin)\s*\(([^)]*)\)\s*$)");
  for (const auto& rawPart : splitTop(text)) {
    std::string part = trim(rawPart);
    if (part.empty()) {
      error = "found '', expected: identifier";
      return std::nullopt;
    }
    std::smatch m;
    LabelRequirement r;
    if (std::regex_match(part, m, setRe)) {
      r.key = m[1];
      r.op = m[2];
      for (auto& v : splitTop(m[3].str())) r.values.push_back(trim(v));
    } else if (part[0] == '!') {
      r.key = trim(part.substr(1));
      r.op = "!exists";
    } else if (auto p = part.find("!="); p != std::string::npos) {
      r.key = trim(part.substr(0, p));
      r.op = "!=";
      r.values.push_back(trim(part.substr(p + 2)));
    } else if (auto p2 = part.find("=="); p2 != std::string::npos) {
      r.key = trim(part.substr(0, p2));
      r.op = "=";
      r.values.push_back(trim(part.substr(p2 + 2)));
    } else if (auto p3 = part.find('='); p3 != std::string::npos) {
      r.key = trim(part.substr(0, p3));
      r.op = "=";
      r.values.push_back(trim(part.substr(p3 + 1)));
    } else {
      r.key = part;
      r.op = "exists";
    }
    if (r.key.empty() || r.key.find_first_of(" ()") != std::string::npos) {
      error = "unable to parse requirement: found '" + part + "'";
      return std::nullopt;
    }
    sel.push_back(std::move(r));
  }
  return sel;
}

bool matchLabels(const LabelSelector& selector, const Json& labels) {
  for (const auto& r : selector) {
    bool present = false;
    std::string v = labelValue(labels, r.key, present);
    bool inValues = std::find(r.values.begin(), r.values.end(), v) != r.values.end();
    if (r.op == "=" && !(present && inValues)) return false;
    if (r.op == "!=" && present && inValues) return false;
    if (r.op == "in" && !(present && inValues)) return false;
    if (r.op == "notin" && present && inValues) return false;
    if (r.op == "exists" && !present) return false;
    if (r.op == "!exists" && present) return false;
  }
  return true;
}

bool matchLabelSelectorJson(const Json& selector, const Json& labels) {
  if (!selector.is_object()) return true;
  if (selector.contains("matchLabels") && selector["matchLabels"].is_object()) {
    for (auto it = selector["matchLabels"].begin(); it != selector["matchLabels"].end(); ++it) {
      bool present = false;
      std::string v = labelValue(labels, it.key(), present);
      if (!present || !it.value().is_string() || v != it.value().get<std::string>()) return false;
    }
  }
  if (selector.contains("matchExpressions") && selector["matchExpressions"].is_array()) {
    for (const auto& e : selector["matchExpressions"]) {
      std::string key = e.value("key", "");
      std::string op = e.value("operator", "");
      std::vector<std::string> values;
      if (e.contains("values") && e["values"].is_array())
        for (const auto& v : e["values"]) values.push_back(v.is_string() ? v.get<std::string>() : v.dump());
      bool present = false;
      std::string v = labelValue(labels, key, present);
      bool inValues = std::find(values.begin(), values.end(), v) != values.end();
      if (op == "In" && !(present && inValues)) return false;
      if (op == "NotIn" && present && inValues) return false;
      if (op == "Exists" && !present) return false;
      if (op == "DoesNotExist" && present) return false;
    }
  }
  return true;
}

std::optional<std::vector<FieldRequirement>> parseFieldSelector(const std::string& text, std::string& error) {
  std::vector<FieldRequirement> out;
  if (trim(text).empty()) return out;
  for (const auto& rawPart : splitTop(text)) {
    std::string part = trim(rawPart);
    FieldRequirement r;
    size_t p;
    if ((p = part.find("!=")) != std::string::npos) {
      r.path = trim(part.substr(0, p));
      r.equal = false;
      r.value = trim(part.substr(p + 2));
    } else if ((p = part.find("==")) != std::string::npos) {
      r.path = trim(part.substr(0, p));
      r.value = trim(part.substr(p + 2));
    } else if ((p = part.find('=')) != std::string::npos) {
      r.path = trim(part.substr(0, p));
      r.value = trim(part.substr(p + 1));
    } else {
      error = "invalid selector: '" + text + "'; can't understand '" + part + "'";
      return std::nullopt;
    }
    if (r.path.empty()) {
      error = "invalid selector: '" + text + "'";
      return std::nullopt;
    }
    out.push_back(std::move(r));
  }
  return out;
}

bool matchFields(const std::vector<FieldRequirement>& selector, const Json& object) {
  for (const auto& r : selector) {
    const Json* cur = &object;
    size_t start = 0;
    bool found = true;
    while (start <= r.path.size()) {
      size_t dot = r.path.find('.', start);
      std::string key = r.path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
      if (!cur->is_object() || !cur->contains(key)) {
        found = false;
        break;
      }
      cur = &(*cur)[key];
      if (dot == std::string::npos) break;
      start = dot + 1;
    }
    std::string v;
    if (found) v = cur->is_string() ? cur->get<std::string>() : (cur->is_null() ? "" : cur->dump());
    bool eq = v == r.value;
    if (r.equal != eq) return false;
  }
  return true;
}

// ---------------------------------------------------------------- patches
Json applyMergePatch(const Json& target, const Json& patch) {
  if (!patch.is_object()) return patch;
  Json result = target.is_object() ? target : Json::object();
  for (auto it = patch.begin(); it != patch.end(); ++it) {
    if (it.value().is_null()) {
      result.erase(it.key());
    } else {
      Json base = result.contains(it.key()) ? result[it.key()] : Json();
      result[it.key()] = applyMergePatch(base, it.value());
    }
  }
  return result;
}

namespace {
std::string mergeKeyOf(const Json& order, const Json& patchList) {
  if (order.is_array() && !order.empty() && order[0].is_object() && order[0].size() == 1) return order[0].begin().key();
  if (!patchList.is_array() || patchList.empty()) return "";
  for (const auto& e : patchList)
    if (!e.is_object() || !e.contains("name")) return "";
  return "name";
}

Json mergeList(const Json& target, const Json& patchList, const Json& order) {
  std::string key = mergeKeyOf(order, patchList);
  if (key.empty() || !target.is_array()) {
    if (!patchList.is_array()) return patchList;
    Json out = Json::array();
    for (const auto& e : patchList)
      if (!(e.is_object() && e.value("$patch", "") == "delete")) out.push_back(e);
    return out;
  }
  Json out = target;
  for (const auto& e : patchList) {
    if (!e.is_object() || !e.contains(key)) continue;
    auto it = std::find_if(out.begin(), out.end(), [&](const Json& x) { return x.is_object() && x.contains(key) && x[key] == e[key]; });
    if (e.value("$patch", "") == "delete") {
      if (it != out.end()) out.erase(it);
    } else if (it != out.end()) {
      *it = applyStrategicMergePatch(*it, e);
    } else {
      Json clean = applyStrategicMergePatch(Json::object(), e);
      out.push_back(clean);
    }
  }
  if (order.is_array() && !order.empty()) {
    Json sorted = Json::array();
    for (const auto& o : order) {
      if (!o.is_object() || !o.contains(key)) continue;
      for (const auto& x : out)
        if (x.is_object() && x.contains(key) && x[key] == o[key]) sorted.push_back(x);
    }
    for (const auto& x : out) {
      bool listed = false;
      for (const auto& o : order) listed = listed || (o.is_object() && o.contains(key) && x.is_object() && x.contains(key) && x[key] == o[key]);
      if (!listed) sorted.push_back(x);
    }
    out = sorted;
  }
  return out;
}
}  // namespace

Json applyStrategicMergePatch(const Json& target, const Json& patch) {
  if (!patch.is_object()) return patch;
  if (patch.value("$patch", "") == "replace") {
    Json out = patch;
    out.erase("$patch");
    return out;
  }
  Json result = target.is_object() ? target : Json::object();
  for (auto it = patch.begin(); it != patch.end(); ++it) {
    const std::string& k = it.key();
    if (k.rfind("$setElementOrder/", 0) == 0 || k == "$patch" || k.rfind("$retainKeys", 0) == 0) continue;
    if (k.rfind("$deleteFromPrimitiveList/", 0) == 0) {
      std::string field = k.substr(std::string("$deleteFromPrimitiveList/").size());
      if (result.contains(field) && result[field].is_array() && it.value().is_array()) {
        Json kept = Json::array();
        for (const auto& v : result[field])
          if (std::find(it.value().begin(), it.value().end(), v) == it.value().end()) kept.push_back(v);
        result[field] = kept;
      }
      continue;
    }
    if (it.value().is_null()) {
      result.erase(k);
    } else if (it.value().is_array()) {
      std::string orderKey = "$setElementOrder/" + k;
      Json order = patch.contains(orderKey) ? patch[orderKey] : Json();
      result[k] = mergeList(result.contains(k) ? result[k] : Json(), it.value(), order);
    } else {
      Json base = result.contains(k) ? result[k] : Json();
      result[k] = applyStrategicMergePatch(base, it.value());
    }
  }
  return result;
}

Json applyJsonPatch(const Json& target, const Json& patch) {
  if (!patch.is_array()) throw LogicError{"the JSON patch must be an array of operations"};
  try {
    return target.patch(patch);
  } catch (const std::exception& e) {
    throw LogicError{e.what()};
  }
}

// ---------------------------------------------------------------- field ownership
namespace {
void collectLeaves(const Json& v, FieldPath& path, FieldSet& out) {
  if (v.is_object() && !v.empty()) {
    for (auto it = v.begin(); it != v.end(); ++it) {
      path.push_back(it.key());
      collectLeaves(it.value(), path, out);
      path.pop_back();
    }
  } else {
    out.insert(path);
  }
}
}  // namespace

FieldSet leafFields(const Json& object, bool includeStatus) {
  FieldSet out;
  if (!object.is_object()) return out;
  FieldPath path;
  for (auto it = object.begin(); it != object.end(); ++it) {
    const std::string& k = it.key();
    if (k == "apiVersion" || k == "kind") continue;
    if (k == "status" && !includeStatus) continue;
    if (k == "metadata") {
      for (const char* mk : {"labels", "annotations", "finalizers", "ownerReferences"}) {
        if (it.value().is_object() && it.value().contains(mk)) {
          path = {"metadata", mk};
          collectLeaves(it.value()[mk], path, out);
        }
      }
      continue;
    }
    path = {k};
    collectLeaves(it.value(), path, out);
  }
  return out;
}

Json fieldsToJson(const FieldSet& fields) {
  Json out = Json::object();
  for (const auto& p : fields) {
    Json* cur = &out;
    for (const auto& k : p) {
      std::string fk = "f:" + k;
      if (!cur->contains(fk)) (*cur)[fk] = Json::object();
      cur = &(*cur)[fk];
    }
  }
  return out;
}

namespace {
void fieldsFrom(const Json& j, FieldPath& path, FieldSet& out) {
  bool any = false;
  if (j.is_object()) {
    for (auto it = j.begin(); it != j.end(); ++it) {
      if (it.key().rfind("f:", 0) != 0) continue;
      any = true;
      path.push_back(it.key().substr(2));
      fieldsFrom(it.value(), path, out);
      path.pop_back();
    }
  }
  if (!any && !path.empty()) out.insert(path);
}
}  // namespace

FieldSet fieldsFromJson(const Json& fieldsV1) {
  FieldSet out;
  FieldPath path;
  fieldsFrom(fieldsV1, path, out);
  return out;
}

const Json* valueAt(const Json& object, const FieldPath& path) {
  const Json* cur = &object;
  for (const auto& k : path) {
    if (!cur->is_object() || !cur->contains(k)) return nullptr;
    cur = &(*cur)[k];
  }
  return cur;
}

void removeAt(Json& object, const FieldPath& path) {
  if (path.empty()) return;
  Json* cur = &object;
  std::vector<Json*> chain;
  for (size_t i = 0; i + 1 < path.size(); ++i) {
    if (!cur->is_object() || !cur->contains(path[i])) return;
    chain.push_back(cur);
    cur = &(*cur)[path[i]];
  }
  if (cur->is_object()) cur->erase(path.back());
  // Drop maps left empty by the removal (what SSA does for maps it created).
  for (size_t i = path.size() - 1; i-- > 0;) {
    Json* parent = chain[i];
    Json& child = (*parent)[path[i]];
    if (child.is_object() && child.empty() && !(i == 0 && path[0] == "metadata"))
      parent->erase(path[i]);
    else
      break;
  }
}

std::string fieldPathString(const FieldPath& path) {
  std::string s;
  for (const auto& k : path) s += "." + k;
  return s;
}

void deepMerge(Json& into, const Json& applied) {
  if (!into.is_object() || !applied.is_object()) {
    into = applied;
    return;
  }
  for (auto it = applied.begin(); it != applied.end(); ++it) {
    if (into.contains(it.key()) && into[it.key()].is_object() && it.value().is_object())
      deepMerge(into[it.key()], it.value());
    else
      into[it.key()] = it.value();
  }
}

// ---------------------------------------------------------------- validation
std::string validateDnsSubdomain(const std::string& name) {
  static const std::regex re(R"([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*)");
  if (name.size() > 253) return "must be no more than 253 characters";
  if (!std::regex_match(name, re))
    return "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and "
           "must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is "
           "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
  return "";
}

std::string validateDnsLabel(const std::string& name) {
  static const std::regex re(R"([a-z0-9]([-a-z0-9]*[a-z0-9])?)");
  if (name.size() > 63) return "must be no more than 63 characters";
  if (!std::regex_match(name, re))
    return "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start "
           "and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is "
           "'[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
  return "";
}

std::vector<std::string> pathSegmentNameErrors(const std::string& name) {
  if (name == "." || name == "..") return {"may not be '" + name + "'"};
  std::vector<std::string> errors;
  for (const char* bad : {"/", "%"})
    if (name.find(bad) != std::string::npos) errors.push_back(std::string("may not contain '") + bad + "'");
  return errors;
}

namespace {
std::string goValue(const Json& v) { return v.is_string() ? goQuote(v.get<std::string>()) : v.dump(); }

std::string typeOf(const Json& v) {
  if (v.is_string()) return "string";
  if (v.is_boolean()) return "boolean";
  if (v.is_number_integer() || v.is_number_unsigned()) return "integer";
  if (v.is_number()) return "number";
  if (v.is_array()) return "array";
  if (v.is_object()) return "object";
  return "null";
}

void validateNode(Json& v, const Json& schema, const std::string& path, std::vector<FieldError>& errs,
                  std::vector<std::string>* pruned) {
  if (!schema.is_object()) return;
  if (v.is_null() && schema.value("nullable", false)) return;
  std::string type = schema.value("type", "");
  bool intOrString = schema.value("x-kubernetes-int-or-string", false);
  std::string actual = typeOf(v);
  if (intOrString) {
    if (actual != "integer" && actual != "string")
      errs.push_back({path, "Invalid value: " + goValue(v) + ": " + path + " in body must be of type integer,string: " +
                                "\"" + actual + "\""});
    return;
  }
  if (!type.empty()) {
    bool ok = type == actual || (type == "number" && actual == "integer");
    if (!ok) {
      errs.push_back({path, "Invalid value: \"" + actual + "\": " + path + " in body must be of type " + type + ": \"" +
                                actual + "\"",
                      "FieldValueTypeInvalid"});
      return;
    }
  }
  if (v.is_number()) {
    double d = v.get<double>();
    if (schema.contains("minimum") && d < schema["minimum"].get<double>())
      errs.push_back({path, "Invalid value: " + v.dump() + ": " + path + " in body should be greater than or equal to " +
                                schema["minimum"].dump()});
    if (schema.contains("maximum") && d > schema["maximum"].get<double>())
      errs.push_back({path, "Invalid value: " + v.dump() + ": " + path + " in body should be less than or equal to " +
                                schema["maximum"].dump()});
  }
  if (schema.contains("enum") && schema["enum"].is_array()) {
    bool found = false;
    for (const auto& e : schema["enum"]) found = found || e == v;
    if (!found) {
      std::string list;
      for (const auto& e : schema["enum"]) list += (list.empty() ? "" : ", ") + goValue(e);
      errs.push_back({path, "Unsupported value: " + goValue(v) + ": supported values: " + list, "FieldValueNotSupported"});
    }
  }
  if (v.is_object()) {
    if (schema.contains("required") && schema["required"].is_array()) {
      for (const auto& r : schema["required"])
        if (r.is_string() && !v.contains(r.get<std::string>()))
          errs.push_back({path + "." + r.get<std::string>(), "Required value", "FieldValueRequired"});
    }
    bool preserve = schema.value("x-kubernetes-preserve-unknown-fields", false);
    const Json* props = schema.contains("properties") ? &schema["properties"] : nullptr;
    const Json* additional = schema.contains("additionalProperties") ? &schema["additionalProperties"] : nullptr;
    std::vector<std::string> drop;
    for (auto it = v.begin(); it != v.end(); ++it) {
      std::string childPath = path + "." + it.key();
      if (props && props->contains(it.key())) {
        validateNode(it.value(), (*props)[it.key()], childPath, errs, pruned);
      } else if (additional && additional->is_object()) {
        validateNode(it.value(), *additional, childPath, errs, pruned);
      } else if (!preserve && !(additional && additional->is_boolean() && additional->get<bool>())) {
        drop.push_back(it.key());
        if (pruned) pruned->push_back(childPath);
      }
    }
    for (const auto& k : drop) v.erase(k);
  }
  if (v.is_array() && schema.contains("items")) {
    for (size_t i = 0; i < v.size(); ++i)
      validateNode(v[i], schema["items"], path + "[" + std::to_string(i) + "]", errs, pruned);
  }
}
}  // namespace

namespace {
// As apiextensions-apiserver's structural defaulting (PruneNonNullableNullsWithoutDefaults, then
// Default): under the objects that exist, a null declared property whose schema is neither nullable nor
// defaulted is removed, and a missing (or non-nullable null) property with a `default` gets the default.
// Null values of maps (additionalProperties) are kept (validation then refuses them); null array items
// are not defaulted (not needed by our CRDs).
void pruneNullsAndDefault(Json& v, const Json& schema) {
  if (!schema.is_object()) return;
  if (v.is_object()) {
    const Json* props = schema.contains("properties") ? &schema["properties"] : nullptr;
    const Json* additional = schema.contains("additionalProperties") && schema["additionalProperties"].is_object()
                                 ? &schema["additionalProperties"]
                                 : nullptr;
    std::vector<std::string> drop;
    for (auto it = v.begin(); it != v.end(); ++it) {
      // only declared properties: a null map value (additionalProperties) stays and fails validation
      const Json* child = props && props->contains(it.key()) ? &(*props)[it.key()] : nullptr;
      if (!child || !child->is_object()) continue;
      if (it.value().is_null() && !child->value("nullable", false)) {
        if (child->contains("default"))
          it.value() = (*child)["default"];
        else
          drop.push_back(it.key());
      }
    }
    for (const auto& k : drop) v.erase(k);
    if (props)
      for (auto it = props->begin(); it != props->end(); ++it)
        if (!v.contains(it.key()) && it.value().is_object() && it.value().contains("default"))
          v[it.key()] = it.value()["default"];
    for (auto it = v.begin(); it != v.end(); ++it) {
      const Json* child = props && props->contains(it.key()) ? &(*props)[it.key()] : additional;
      if (child) pruneNullsAndDefault(it.value(), *child);
    }
  } else if (v.is_array() && schema.contains("items")) {
    for (auto& item : v) pruneNullsAndDefault(item, schema["items"]);
  }
}
}  // namespace

std::vector<FieldError> validateAndPrune(Json& object, const Json& schema, std::vector<std::string>* pruned) {
  std::vector<FieldError> errs;
  if (!schema.is_object() || !object.is_object()) return errs;
  {
    // apiVersion, kind and metadata are not the schema's business here
    Json rest = Json::object();
    for (auto it = object.begin(); it != object.end(); ++it)
      if (it.key() != "apiVersion" && it.key() != "kind" && it.key() != "metadata") rest[it.key()] = it.value();
    pruneNullsAndDefault(rest, schema);
    std::vector<std::string> gone;  // written back in the object's own key order
    for (auto it = object.begin(); it != object.end(); ++it) {
      if (it.key() == "apiVersion" || it.key() == "kind" || it.key() == "metadata") continue;
      if (rest.contains(it.key()))
        it.value() = rest[it.key()];
      else
        gone.push_back(it.key());
    }
    for (const auto& k : gone) object.erase(k);
    for (auto it = rest.begin(); it != rest.end(); ++it)
      if (!object.contains(it.key())) object[it.key()] = it.value();
  }
  const Json props = schema.value("properties", Json::object());
  bool preserve = schema.value("x-kubernetes-preserve-unknown-fields", false);
  std::vector<std::string> drop;
  for (auto it = object.begin(); it != object.end(); ++it) {
    const std::string& k = it.key();
    if (k == "apiVersion" || k == "kind" || k == "metadata") continue;
    if (props.contains(k))
      validateNode(it.value(), props[k], k, errs, pruned);
    else if (!preserve) {
      drop.push_back(k);
      if (pruned) pruned->push_back(k);
    }
  }
  for (const auto& k : drop) object.erase(k);
  if (schema.contains("required") && schema["required"].is_array())
    for (const auto& r : schema["required"])
      if (r.is_string() && !object.contains(r.get<std::string>()))
        errs.push_back({r.get<std::string>(), "Required value", "FieldValueRequired"});
  return errs;
}

Json invalidStatus(const std::string& kindForMessage, const std::string& group, const std::string& kind,
                   const std::string& name, const std::vector<FieldError>& errors) {
  std::vector<std::string> messages;
  Json causes = Json::array();
  for (const auto& e : errors) {
    messages.push_back(e.field + ": " + e.message);
    causes.push_back({{"reason", e.reason}, {"message", e.message}, {"field", e.field}});
  }
  Json details = Json::object();
  if (!name.empty()) details["name"] = name;
  if (!group.empty()) details["group"] = group;
  if (!kind.empty()) details["kind"] = kind;
  details["causes"] = causes;
  return statusBody(422, "Invalid", kindForMessage + " " + goQuote(name) + " is invalid: " + aggregateErrors(messages),
                    details);
}

// ---------------------------------------------------------------- misc
std::string nowRfc3339() {
  std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string newUid() {
  unsigned char b[16];
  RAND_bytes(b, sizeof b);
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  char out[37];
  std::snprintf(out, sizeof out, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
                b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
  return out;
}

std::string randomSuffix(int n) {
  static const char alphabet[] = "bcdfghjklmnpqrstvwxz2456789";
  std::string s;
  for (int i = 0; i < n; ++i) {
    unsigned char c;
    RAND_bytes(&c, 1);
    s += alphabet[c % (sizeof alphabet - 1)];
  }
  return s;
}

std::string base64Std(const std::string& data) {
  std::string out(4 * ((data.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(data.data()), static_cast<int>(data.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

std::optional<std::string> base64StdDecode(const std::string& in) {
  std::string data;
  for (char c : in)
    if (!std::isspace(static_cast<unsigned char>(c))) data += c;
  if (data.size() % 4 != 0) return std::nullopt;
  std::string out(data.size() / 4 * 3 + 1, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(data.data()), static_cast<int>(data.size()));
  if (n < 0) return std::nullopt;
  size_t pad = 0;
  if (!data.empty() && data.back() == '=') pad++;
  if (data.size() > 1 && data[data.size() - 2] == '=') pad++;
  out.resize(static_cast<size_t>(n) - pad);
  return out;
}

std::string base64UrlNoPad(const std::string& data) {
  std::string s = base64Std(data);
  while (!s.empty() && s.back() == '=') s.pop_back();
  for (auto& c : s) c = c == '+' ? '-' : c == '/' ? '_' : c;
  return s;
}

std::optional<std::string> base64UrlNoPadDecode(const std::string& data) {
  std::string s = data;
  for (auto& c : s) c = c == '-' ? '+' : c == '_' ? '/' : c;
  while (s.size() % 4) s += '=';
  return base64StdDecode(s);
}

bool versionBefore(const std::string& a, const std::string& b) {
  static const std::regex re(R"(v(\d+)(?:(alpha|beta)(\d+))?)");
  auto rank = [](const std::string& v, int& major, int& level, int& minor) {
    std::smatch m;
    if (!std::regex_match(v, m, re)) return false;
    major = std::stoi(m[1]);
    level = !m[2].matched ? 3 : m[2] == "beta" ? 2 : 1;
    minor = m[3].matched ? std::stoi(m[3]) : 0;
    return true;
  };
  int ma, la, na, mb, lb, nb;
  bool ka = rank(a, ma, la, na), kb = rank(b, mb, lb, nb);
  if (ka != kb) return ka;
  if (!ka) return a < b;
  if (la != lb) return la > lb;
  if (ma != mb) return ma > mb;
  return na > nb;
}

namespace {
Json yamlToJson(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      return nullptr;
    case YAML::NodeType::Sequence: {
      Json a = Json::array();
      for (const auto& c : n) a.push_back(yamlToJson(c));
      return a;
    }
    case YAML::NodeType::Map: {
      Json o = Json::object();
      for (const auto& kv : n) o[kv.first.as<std::string>()] = yamlToJson(kv.second);
      return o;
    }
    case YAML::NodeType::Scalar: {
      const std::string& s = n.Scalar();
      if (n.Tag() == "!") return s;  // quoted
      static const std::regex intRe(R"([-+]?(0|[1-9][0-9]*))");
      static const std::regex floatRe(R"([-+]?([0-9]*\.[0-9]+|[0-9]+\.[0-9]*)([eE][-+]?[0-9]+)?)");
      if (s == "~" || s == "null" || s == "Null" || s == "NULL") return nullptr;
      for (const char* t : {"true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON", "y", "Y"})
        if (s == t) return true;
      for (const char* f : {"false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF", "n", "N"})
        if (s == f) return false;
      if (std::regex_match(s, intRe)) {
        try {
          return std::stoll(s);
        } catch (...) {
          return s;
        }
      }
      if (std::regex_match(s, floatRe)) return std::stod(s);
      return s;
    }
  }
  return nullptr;
}
}  // namespace

Json parseJsonOrYaml(const std::string& text) {
  auto j = Json::parse(text, nullptr, false);
  if (!j.is_discarded()) return j;
  try {
    return yamlToJson(YAML::Load(text));
  } catch (const std::exception& e) {
    throw LogicError{std::string("error converting YAML to JSON: ") + e.what()};
  }
}

}  // namespace otel::testing
