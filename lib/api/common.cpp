#include "lib/api/common.h"

namespace otel::api {

const Json* at(const Json& j, std::initializer_list<std::string_view> path) {
  const Json* cur = &j;
  for (auto key : path) {
    if (!cur->is_object()) return nullptr;
    auto it = cur->find(std::string(key));
    if (it == cur->end()) return nullptr;
    cur = &*it;
  }
  return cur;
}

const Json& emptyObject() {
  static const Json kEmpty = Json::object();
  return kEmpty;
}

std::string str(const Json& j, std::initializer_list<std::string_view> path, const std::string& fallback) {
  const Json* v = at(j, path);
  return v && v->is_string() ? v->get<std::string>() : fallback;
}

long long integer(const Json& j, std::initializer_list<std::string_view> path, long long fallback) {
  const Json* v = at(j, path);
  if (!v) return fallback;
  if (v->is_number_integer()) return v->get<long long>();
  if (v->is_number_float()) return static_cast<long long>(v->get<double>());
  return fallback;
}

bool boolean(const Json& j, std::initializer_list<std::string_view> path, bool fallback) {
  const Json* v = at(j, path);
  return v && v->is_boolean() ? v->get<bool>() : fallback;
}

bool has(const Json& j, std::initializer_list<std::string_view> path) { return at(j, path) != nullptr; }

std::vector<std::string> strings(const Json& j, std::initializer_list<std::string_view> path) {
  std::vector<std::string> out;
  if (const Json* v = at(j, path); v && v->is_array())
    for (const auto& e : *v)
      if (e.is_string()) out.push_back(e.get<std::string>());
  return out;
}

bool present(const Json& j, std::initializer_list<std::string_view> path) {
  const Json* v = at(j, path);
  if (!v || v->is_null()) return false;
  if (v->is_object() || v->is_array() || v->is_string()) return !v->empty() && !(v->is_string() && v->get<std::string>().empty());
  return true;
}

Json& ensure(Json& j, std::initializer_list<std::string_view> path) {
  Json* cur = &j;
  if (!cur->is_object()) *cur = Json::object();
  for (auto key : path) {
    Json& next = (*cur)[std::string(key)];
    if (!next.is_object()) next = Json::object();
    cur = &next;
  }
  return *cur;
}

namespace {

bool labelIs(const Json& labels, const std::string& k, std::string* value) {
  auto it = labels.find(k);
  if (it == labels.end()) return false;
  if (value) *value = it->is_string() ? it->get<std::string>() : it->dump();
  return true;
}

bool inValues(const Json& values, const std::string& v) {
  if (!values.is_array()) return false;
  for (const auto& x : values)
    if (x.is_string() && x.get<std::string>() == v) return true;
  return false;
}

const Json* field(const Json& o, const char* camel, const char* lower) {
  auto it = o.find(camel);
  if (it == o.end()) it = o.find(lower);
  return it == o.end() ? nullptr : &*it;
}

}  // namespace

bool labelSelectorMatches(const Json* selector, const Json& labels, bool nullSelects) {
  if (!selector || selector->is_null()) return nullSelects;
  if (!selector->is_object()) return false;
  if (const Json* ml = field(*selector, "matchLabels", "matchlabels"); ml && ml->is_object())
    for (const auto& [k, v] : ml->items()) {
      std::string have;
      if (!labelIs(labels, k, &have) || !v.is_string() || have != v.get<std::string>()) return false;
    }
  if (const Json* me = field(*selector, "matchExpressions", "matchexpressions"); me && me->is_array())
    for (const auto& e : *me) {
      if (!e.is_object()) return false;
      const std::string key = e.value("key", ""), op = e.value("operator", "");
      std::string have;
      const bool present = labelIs(labels, key, &have);
      const Json values = e.contains("values") ? e["values"] : Json::array();
      if (op == "In") {
        if (!present || !inValues(values, have)) return false;
      } else if (op == "NotIn") {
        if (present && inValues(values, have)) return false;
      } else if (op == "Exists") {
        if (!present) return false;
      } else if (op == "DoesNotExist") {
        if (present) return false;
      } else {
        return false;
      }
    }
  return true;
}

}  // namespace otel::api
