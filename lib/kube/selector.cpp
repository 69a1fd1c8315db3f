#include "lib/kube/selector.h"

#include <map>

#include "lib/core/error.h"

namespace otel::kube {

namespace {

const Json* field(const Json& obj, const char* camel, const char* lower) {
  if (auto it = obj.find(camel); it != obj.end() && !it->is_null()) return &*it;
  if (auto it = obj.find(lower); it != obj.end() && !it->is_null()) return &*it;
  return nullptr;
}

std::string text(const Json& v, const std::string& where, const std::string& what) {
  if (!v.is_string()) throw Error(what + " must be a string", where);
  return v.get<std::string>();
}

}  // namespace

std::string labelSelectorQuery(const Json& selector, const std::string& where) {
  if (selector.is_null()) return "";
  if (!selector.is_object()) throw Error("a label selector must be a mapping", where);
  // Requirements sorted by key, as labels.Selector.String() prints them.
  std::multimap<std::string, std::string> reqs;
  if (const Json* ml = field(selector, "matchLabels", "matchlabels")) {
    if (!ml->is_object()) throw Error("matchLabels must be a mapping", where);
    for (const auto& [k, v] : ml->items()) reqs.emplace(k, k + "=" + text(v, where, "matchLabels." + k));
  }
  if (const Json* me = field(selector, "matchExpressions", "matchexpressions")) {
    if (!me->is_array()) throw Error("matchExpressions must be a list", where);
    for (const auto& e : *me) {
      if (!e.is_object()) throw Error("a matchExpressions entry must be a mapping", where);
      std::string key = e.contains("key") ? text(e["key"], where, "matchExpressions.key") : "";
      std::string op = e.contains("operator") ? text(e["operator"], where, "matchExpressions.operator") : "";
      if (key.empty()) throw Error("matchExpressions: key must not be empty", where);
      std::string vals;
      std::size_t n = 0;
      if (e.contains("values") && !e["values"].is_null()) {
        if (!e["values"].is_array()) throw Error("matchExpressions." + key + ": values must be a list", where);
        for (const auto& v : e["values"]) {
          vals += (n++ ? "," : "") + text(v, where, "matchExpressions." + key + ".values");
        }
      }
      if (op == "In" || op == "NotIn") {
        if (n == 0) throw Error("matchExpressions." + key + ": for 'in', 'notin' operators, values set can't be empty", where);
        reqs.emplace(key, key + (op == "In" ? " in (" : " notin (") + vals + ")");
      } else if (op == "Exists" || op == "DoesNotExist") {
        if (n != 0) throw Error("matchExpressions." + key + ": values set must be empty for exists and does not exist", where);
        reqs.emplace(key, (op == "Exists" ? "" : "!") + key);
      } else {
        throw Error("matchExpressions." + key + ": \"" + op + "\" is not a valid label selector operator", where);
      }
    }
  }
  std::string out;
  for (const auto& [k, r] : reqs) out += (out.empty() ? "" : ",") + r;
  return out;
}

}  // namespace otel::kube
