#include "tests/support/chainsaw.h"

#include <cctype>
#include <stdexcept>

#include "lib/core/yaml.h"

namespace otel::testing {
namespace {

struct Unsupported : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// A tiny JMESPath evaluator for the forms the upstream asserts use.
class Expr {
 public:
  Expr(const std::string& s, const MatchOptions& o) : s_(s), o_(o) {}
  Json eval(const Json& node) {
    pos_ = 0;
    Json v = orExpr(node);
    skipWs();
    if (pos_ != s_.size()) throw Unsupported("trailing input");
    return v;
  }

 private:
  void skipWs() {
    while (pos_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[pos_]))) ++pos_;
  }
  bool eat(const std::string& t) {
    skipWs();
    if (s_.compare(pos_, t.size(), t) == 0) {
      pos_ += t.size();
      return true;
    }
    return false;
  }
  static bool truthy(const Json& v) {
    if (v.is_null()) return false;
    if (v.is_boolean()) return v.get<bool>();
    if (v.is_string() || v.is_array() || v.is_object()) return !v.empty();
    return true;
  }
  Json orExpr(const Json& n) {
    Json l = andExpr(n);
    while (eat("||")) {
      Json r = andExpr(n);
      l = truthy(l) ? l : r;
    }
    return l;
  }
  Json andExpr(const Json& n) {
    Json l = cmpExpr(n);
    while (eat("&&")) {
      Json r = cmpExpr(n);
      l = truthy(l) ? r : l;
    }
    return l;
  }
  Json cmpExpr(const Json& n) {
    Json l = primary(n);
    for (const char* op : {"==", "!=", ">=", "<=", ">", "<"}) {
      if (eat(op)) {
        Json r = primary(n);
        std::string o = op;
        if (o == "==") return l == r;
        if (o == "!=") return l != r;
        if (!l.is_number() || !r.is_number()) return Json();
        double a = l.get<double>(), b = r.get<double>();
        if (o == ">") return a > b;
        if (o == "<") return a < b;
        if (o == ">=") return a >= b;
        return a <= b;
      }
    }
    return l;
  }
  std::string ident() {
    skipWs();
    size_t start = pos_;
    while (pos_ < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[pos_])) || s_[pos_] == '_')) ++pos_;
    if (start == pos_) throw Unsupported("identifier expected");
    return s_.substr(start, pos_ - start);
  }
  Json primary(const Json& n) {
    skipWs();
    if (pos_ >= s_.size()) throw Unsupported("unexpected end");
    char c = s_[pos_];
    if (c == '(') {
      ++pos_;
      Json v = orExpr(n);
      if (!eat(")")) throw Unsupported(") expected");
      return v;
    }
    if (c == '\'') {
      size_t end = s_.find('\'', pos_ + 1);
      if (end == std::string::npos) throw Unsupported("unterminated string");
      std::string v = s_.substr(pos_ + 1, end - pos_ - 1);
      pos_ = end + 1;
      return v;
    }
    if (c == '`') {
      size_t end = s_.find('`', pos_ + 1);
      if (end == std::string::npos) throw Unsupported("unterminated literal");
      Json v = Json::parse(s_.substr(pos_ + 1, end - pos_ - 1), nullptr, false);
      pos_ = end + 1;
      if (v.is_discarded()) throw Unsupported("bad literal");
      return v;
    }
    if (c == '$') {
      ++pos_;
      std::string id = ident();
      if (auto it = o_.bindings.find(id); it != o_.bindings.end()) return it->second;
      throw Unsupported("unknown binding $" + id);
    }
    if (c == '@') {
      ++pos_;
      return n;
    }
    if (c == '!') {
      ++pos_;
      return !truthy(primary(n));
    }
    if (c == '[' && pos_ + 1 < s_.size() && s_[pos_ + 1] == '?') return postfix(n);  // filter over @
    if (c == '[') {
      ++pos_;
      Json arr = Json::array();
      if (eat("]")) return arr;
      do {
        arr.push_back(orExpr(n));
      } while (eat(","));
      if (!eat("]")) throw Unsupported("] expected");
      return arr;
    }
    std::string id = ident();
    if (eat("(")) {
      std::vector<Json> args;
      if (!eat(")")) {
        do {
          args.push_back(orExpr(n));
        } while (eat(","));
        if (!eat(")")) throw Unsupported(") expected");
      }
      return call(id, args);
    }
    return postfix(n.is_object() && n.contains(id) ? n[id] : Json());
  }
  // Filters ([?expr]) and field accesses (.name) applied to v.
  Json postfix(Json v) {
    while (true) {
      skipWs();
      if (eat("[?")) {
        size_t save = pos_;
        Json out = Json::array();
        if (v.is_array() && !v.empty()) {
          for (const auto& e : v) {
            pos_ = save;
            if (truthy(orExpr(e))) out.push_back(e);
          }
        } else {
          orExpr(Json());  // nothing to filter: only read past the expression
        }
        if (!eat("]")) throw Unsupported("] expected after filter");
        v = out;
      } else if (eat(".")) {
        std::string k = ident();
        v = v.is_object() && v.contains(k) ? v[k] : Json();
      } else {
        break;
      }
    }
    return v;
  }
  Json call(const std::string& f, const std::vector<Json>& a) {
    if (f == "contains" && a.size() == 2) {
      if (a[0].is_string() && a[1].is_string())
        return a[0].get<std::string>().find(a[1].get<std::string>()) != std::string::npos;
      if (a[0].is_array()) {
        for (const auto& e : a[0])
          if (e == a[1]) return true;
        return false;
      }
      return Json();
    }
    if (f == "keys" && a.size() == 1 && a[0].is_object()) {
      Json out = Json::array();
      for (auto it = a[0].begin(); it != a[0].end(); ++it) out.push_back(it.key());
      return out;
    }
    if (f == "parse_yaml" && a.size() == 1 && a[0].is_string()) {
      try {
        return parseYaml(a[0].get<std::string>());
      } catch (const std::exception&) {
        throw Unsupported("parse_yaml of invalid YAML");
      }
    }
    if (f == "starts_with" && a.size() == 2 && a[0].is_string() && a[1].is_string())
      return a[0].get<std::string>().rfind(a[1].get<std::string>(), 0) == 0;
    if (f == "length" && a.size() == 1) {
      if (a[0].is_string()) return a[0].get<std::string>().size();
      if (a[0].is_array() || a[0].is_object()) return a[0].size();
      return Json();
    }
    if (f == "concat") {
      std::string s;
      for (const auto& x : a) {
        if (!x.is_string()) return Json();
        s += x.get<std::string>();
      }
      return s;
    }
    if (f == "join" && a.size() == 2 && a[0].is_string() && a[1].is_array()) {
      std::string s;
      bool first = true;
      for (const auto& x : a[1]) {
        if (!x.is_string()) return Json();
        if (!first) s += a[0].get<std::string>();
        s += x.get<std::string>();
        first = false;
      }
      return s;
    }
    throw Unsupported("function " + f);
  }

  std::string s_;
  const MatchOptions& o_;
  size_t pos_ = 0;
};

std::string show(const Json& j) {
  std::string s = j.dump();
  return s.size() > 120 ? s.substr(0, 117) + "..." : s;
}

bool isExpr(const std::string& s) { return s.size() >= 2 && s.front() == '(' && s.back() == ')'; }

void match(const Json& exp, const Json& act, const std::string& path, const MatchOptions& o, MatchResult& r,
           bool top) {
  if (exp.is_object()) {
    bool onlyExpressions = !exp.empty();
    for (auto it = exp.begin(); it != exp.end(); ++it) onlyExpressions = onlyExpressions && isExpr(it.key());
    if (!act.is_object() && !onlyExpressions) {
      r.mismatches.push_back(path + ": expected an object, got " + show(act));
      return;
    }
    for (auto it = exp.begin(); it != exp.end(); ++it) {
      const std::string& key = it.key();
      if (top) {
        bool ignored = false;
        for (const auto& k : o.ignoreTop) ignored = ignored || k == key;
        if (ignored) continue;
      }
      if (isExpr(key)) {
        Json v;
        try {
          v = Expr(key, o).eval(act);
        } catch (const Unsupported&) {
          r.notEvaluated.push_back(path + "." + key);
          continue;
        }
        match(*it, v, path + "." + key, o, r, false);
        continue;
      }
      if (!act.contains(key)) {
        if (!it->is_null()) r.mismatches.push_back(path + "." + key + ": missing");  // null matches absent
        continue;
      }
      match(*it, act[key], path + "." + key, o, r, false);
    }
    return;
  }
  if (exp.is_array()) {
    if (!act.is_array()) {
      r.mismatches.push_back(path + ": expected an array, got " + show(act));
      return;
    }
    if (exp.size() != act.size()) {
      r.mismatches.push_back(path + ": expected " + std::to_string(exp.size()) + " elements, got " +
                             std::to_string(act.size()) + " " + show(act));
      return;
    }
    for (size_t i = 0; i < exp.size(); ++i) match(exp[i], act[i], path + "[" + std::to_string(i) + "]", o, r, false);
    return;
  }
  if (exp.is_string() && isExpr(exp.get<std::string>())) {
    Json v;
    try {
      v = Expr(exp.get<std::string>(), o).eval(act);
    } catch (const Unsupported&) {
      r.notEvaluated.push_back(path + " = " + exp.get<std::string>());
      return;
    }
    match(v, act, path, o, r, false);
    return;
  }
  bool equal = exp == act;
  if (!equal && exp.is_number() && act.is_number()) equal = exp.get<double>() == act.get<double>();
  if (!equal) r.mismatches.push_back(path + ": expected " + show(exp) + ", got " + show(act));
}

}  // namespace

Json evalExpression(const std::string& expr, const Json& node, const MatchOptions& opts) {
  return Expr(expr, opts).eval(node);
}

bool evalValue(const std::string& s, const MatchOptions& opts, Json& out) {
  if (!isExpr(s)) return false;
  try {
    out = Expr(s, opts).eval(Json());
  } catch (const Unsupported&) {
    return false;
  }
  return true;
}

MatchResult chainsawMatch(const Json& expected, const Json& actual, const MatchOptions& opts) {
  MatchResult r;
  match(expected, actual, "", opts, r, true);
  return r;
}

Json applyTemplate(const Json& v, const MatchOptions& opts) {
  if (v.is_object()) {
    Json out = Json::object();
    for (auto it = v.begin(); it != v.end(); ++it) out[it.key()] = applyTemplate(it.value(), opts);
    return out;
  }
  if (v.is_array()) {
    Json out = Json::array();
    for (const auto& e : v) out.push_back(applyTemplate(e, opts));
    return out;
  }
  Json value;
  if (v.is_string() && evalValue(v.get<std::string>(), opts, value) && !value.is_null()) return value;
  return v;
}

}  // namespace otel::testing
