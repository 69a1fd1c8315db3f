#include "tests/unit/manifests/chainsaw_match.h"

#include <regex>

namespace otel::testing {

namespace {

bool isExpr(const std::string& s) { return s.size() >= 2 && s.front() == '(' && s.back() == ')'; }

// `contains(@, <string expr>)` against a string: the one key-expression form used on file contents.
bool evalKeyExpr(const std::string& key, const Json& act, const Bindings& b, Json& out) {
  std::string k = key.substr(1, key.size() - 2);
  while (!k.empty() && k.front() == ' ') k.erase(0, 1);
  while (!k.empty() && k.back() == ' ') k.pop_back();
  static const std::regex contains("^contains\\(@,\\s*(.*)\\)$");
  std::smatch m;
  if (!act.is_string() || !std::regex_match(k, m, contains)) return false;
  std::string arg = m[1].str(), needle;
  if (arg.size() >= 2 && arg.front() == '\'' && arg.back() == '\'' && arg.find('\'', 1) == arg.size() - 1)
    needle = arg.substr(1, arg.size() - 2);
  else if (!evalExpression("(" + arg + ")", b, needle))
    return false;
  out = act.get<std::string>().find(needle) != std::string::npos;
  return true;
}

void match(const Json& exp, const Json& act, const std::string& path, const Bindings& b, MatchResult& r) {
  if (!r.ok) return;
  if (exp.is_object() && !act.is_object()) {
    bool allExpr = !exp.empty();
    for (auto it = exp.begin(); it != exp.end(); ++it) allExpr = allExpr && isExpr(it.key());
    if (allExpr) {
      for (auto it = exp.begin(); it != exp.end(); ++it) {
        Json v;
        if (!evalKeyExpr(it.key(), act, b, v)) {
          r.notEvaluated.push_back(path + "." + it.key());
          continue;
        }
        if (v != it.value()) {
          r.ok = false;
          r.mismatch = path + "." + it.key() + ": expected " + it.value().dump() + ", got " + v.dump();
          return;
        }
      }
      return;
    }
  }
  if (exp.is_object()) {
    if (!act.is_object()) {
      r.ok = false;
      r.mismatch = path + ": expected an object, got " + act.dump();
      return;
    }
    for (auto it = exp.begin(); it != exp.end(); ++it) {
      const std::string& k = it.key();
      if (isExpr(k)) {
        r.notEvaluated.push_back(path + "." + k);
        continue;
      }
      auto a = act.find(k);
      if (a == act.end()) {
        if (it.value().is_null()) continue;
        r.ok = false;
        r.mismatch = path + "." + k + ": missing";
        return;
      }
      match(it.value(), *a, path + "." + k, b, r);
      if (!r.ok) return;
    }
    return;
  }
  if (exp.is_array()) {
    if (!act.is_array() || act.size() != exp.size()) {
      r.ok = false;
      r.mismatch = path + ": expected " + std::to_string(exp.size()) + " elements, got " + (act.is_array() ? std::to_string(act.size()) : act.dump());
      return;
    }
    for (size_t i = 0; i < exp.size(); ++i) match(exp[i], act[i], path + "[" + std::to_string(i) + "]", b, r);
    return;
  }
  if (exp.is_string() && isExpr(exp.get<std::string>())) {
    std::string v;
    if (!evalExpression(exp.get<std::string>(), b, v)) {
      r.notEvaluated.push_back(path + " = " + exp.get<std::string>());
      return;
    }
    if (!(act.is_string() && act.get<std::string>() == v)) {
      r.ok = false;
      r.mismatch = path + ": expected " + v + ", got " + act.dump();
    }
    return;
  }
  bool eq = exp == act;
  if (!eq && exp.is_number() && act.is_number()) eq = exp.get<double>() == act.get<double>();
  if (!eq) {
    r.ok = false;
    r.mismatch = path + ": expected " + exp.dump() + ", got " + act.dump();
  }
}

}  // namespace

bool evalExpression(const std::string& expr, const Bindings& b, std::string& out) {
  if (!isExpr(expr)) return false;
  std::string inner = expr.substr(1, expr.size() - 2);
  static const std::regex var("^\\$([A-Za-z_][A-Za-z0-9_]*)$");
  std::smatch m;
  if (std::regex_match(inner, m, var)) {
    auto it = b.find(m[1].str());
    if (it == b.end()) return false;
    out = it->second;
    return true;
  }
  static const std::regex join("^join\\('([^']*)',\\s*\\[(.*)\\]\\)$");
  if (std::regex_match(inner, m, join)) {
    std::string sep = m[1].str(), items = m[2].str(), result;
    static const std::regex item("\\s*(?:'([^']*)'|\\$([A-Za-z_][A-Za-z0-9_]*))\\s*(,|$)");
    bool first = true;
    size_t consumed = 0;
    for (std::sregex_iterator it(items.begin(), items.end(), item), end; it != end; ++it) {
      if (static_cast<size_t>(it->position()) != consumed) return false;
      consumed = it->position() + it->length();
      std::string v;
      if ((*it)[1].matched) {
        v = (*it)[1].str();
      } else {
        auto f = b.find((*it)[2].str());
        if (f == b.end()) return false;
        v = f->second;
      }
      if (!first) result += sep;
      first = false;
      result += v;
      if (consumed >= items.size()) break;
    }
    if (consumed != items.size()) return false;
    out = result;
    return true;
  }
  return false;
}

MatchResult chainsawMatch(const Json& expected, const Json& actual, const Bindings& bindings) {
  MatchResult r;
  match(expected, actual, "", bindings, r);
  return r;
}

Json applyTemplate(const Json& v, const Bindings& b) {
  if (v.is_object()) {
    Json out = Json::object();
    for (auto it = v.begin(); it != v.end(); ++it) out[it.key()] = applyTemplate(it.value(), b);
    return out;
  }
  if (v.is_array()) {
    Json out = Json::array();
    for (const auto& e : v) out.push_back(applyTemplate(e, b));
    return out;
  }
  if (v.is_string()) {
    std::string s;
    if (evalExpression(v.get<std::string>(), b, s)) return s;
  }
  return v;
}

Json mergePatch(const Json& target, const Json& patch) {
  if (!patch.is_object()) return patch;
  Json out = target.is_object() ? target : Json::object();
  for (auto it = patch.begin(); it != patch.end(); ++it) {
    if (it.value().is_null())
      out.erase(it.key());
    else
      out[it.key()] = mergePatch(out.contains(it.key()) ? out[it.key()] : Json(), it.value());
  }
  return out;
}

}  // namespace otel::testing
