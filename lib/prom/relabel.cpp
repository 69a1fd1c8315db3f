#include "lib/prom/relabel.h"

#include <openssl/md5.h>
#include <re2/re2.h>

#include <algorithm>
#include <cctype>

#include "lib/core/error.h"

namespace otel::prom {

namespace {

struct ActionEntry {
  std::string_view name;
  RelabelAction action;
};
constexpr ActionEntry kActions[] = {
    {"replace", RelabelAction::Replace},     {"keep", RelabelAction::Keep},
    {"drop", RelabelAction::Drop},           {"keepequal", RelabelAction::KeepEqual},
    {"dropequal", RelabelAction::DropEqual}, {"hashmod", RelabelAction::HashMod},
    {"labelmap", RelabelAction::LabelMap},   {"labeldrop", RelabelAction::LabelDrop},
    {"labelkeep", RelabelAction::LabelKeep}, {"lowercase", RelabelAction::Lowercase},
    {"uppercase", RelabelAction::Uppercase},
};

std::string quote(std::string_view s) {
  // Go's %q for the common printable case.
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      default: out += c;
    }
  }
  return out + "\"";
}

std::string scalarString(const Json& v, std::string_view field) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
  if (v.is_number()) return v.dump();
  if (v.is_null()) return "";
  throw Error("field " + std::string(field) + ": cannot unmarshal " + std::string(v.type_name()) + " into a string");
}

bool varInTemplate(std::string_view s) { return s.find('$') != std::string_view::npos; }

std::string toLowerAscii(std::string_view s) {
  std::string r(s);
  for (auto& c : r) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return r;
}
std::string toUpperAscii(std::string_view s) {
  std::string r(s);
  for (auto& c : r) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return r;
}

// A label name that may contain `$1`/`${name}` references (legacy: Prometheus' relabelTarget regex).
bool validNameWithVars(const std::string& s, NameValidation scheme) {
  if (scheme == NameValidation::Utf8) return isValidLabelName(s, scheme);
  static const re2::RE2 legacy(R"(^(?:(?:[a-zA-Z_]|\$(?:\{\w+\}|\w+))+\w*)+$)");
  return re2::RE2::FullMatch(s, legacy);
}

void validate(const RelabelConfig& c, NameValidation scheme) {
  using A = RelabelAction;
  const auto a = c.action;
  const std::string an(actionName(a));
  if (a == A::HashMod && c.modulus == 0) throw Error("relabel configuration for hashmod requires non-zero modulus");
  if ((a == A::Replace || a == A::HashMod || a == A::Lowercase || a == A::Uppercase || a == A::KeepEqual ||
       a == A::DropEqual) &&
      c.targetLabel.empty())
    throw Error("relabel configuration for " + an + " action requires 'target_label' value");
  // In a replace target, `${1}`-style references are allowed; the expanded name is checked at run time.
  if (a == A::Replace && !varInTemplate(c.targetLabel) && !isValidLabelName(c.targetLabel, scheme))
    throw Error(quote(c.targetLabel) + " is invalid 'target_label' for " + an + " action");
  if (a == A::Replace && varInTemplate(c.targetLabel) && !validNameWithVars(c.targetLabel, scheme))
    throw Error(quote(c.targetLabel) + " is invalid 'target_label' for " + an + " action");
  if ((a == A::Lowercase || a == A::Uppercase || a == A::KeepEqual || a == A::DropEqual || a == A::HashMod) &&
      !isValidLabelName(c.targetLabel, scheme))
    throw Error(quote(c.targetLabel) + " is invalid 'target_label' for " + an + " action");
  if ((a == A::Lowercase || a == A::Uppercase || a == A::KeepEqual || a == A::DropEqual) && c.replacement != "$1")
    throw Error("'replacement' can not be set for " + an + " action");
  if (a == A::LabelMap && !validNameWithVars(c.replacement, scheme))
    throw Error(quote(c.replacement) + " is invalid 'replacement' for " + an + " action");
  if (a == A::DropEqual || a == A::KeepEqual) {
    if (!c.regex.isDefault() || c.modulus != 0 || c.separator != ";" || c.replacement != "$1")
      throw Error(an + " action requires only 'source_labels' and `target_label`, and no other fields");
  }
  if (a == A::LabelDrop || a == A::LabelKeep) {
    if (c.sourceLabelsSet || !c.targetLabel.empty() || c.modulus != 0 || c.separator != ";" || c.replacement != "$1")
      throw Error(an + " action requires only 'regex', and no other fields");
  }
}

}  // namespace

std::string_view actionName(RelabelAction a) {
  for (const auto& e : kActions)
    if (e.action == a) return e.name;
  return "replace";
}

RelabelConfig parseRelabelConfig(const Json& rule, NameValidation scheme) {
  if (!rule.is_object()) throw Error("a relabel rule must be a mapping, got " + std::string(rule.type_name()));
  RelabelConfig c;
  for (auto it = rule.begin(); it != rule.end(); ++it) {
    const std::string& k = it.key();
    const Json& v = it.value();
    if (k == "source_labels") {
      c.sourceLabelsSet = !v.is_null();
      if (v.is_null()) continue;
      if (!v.is_array()) throw Error("source_labels must be a list of label names");
      for (const auto& s : v) c.sourceLabels.push_back(scalarString(s, "source_labels"));
    } else if (k == "separator") {
      c.separator = scalarString(v, k);
    } else if (k == "regex") {
      // An explicit null regex becomes the empty regex (Prometheus: Regexp nil -> MustNewRegexp("")).
      c.regex = Regex(v.is_null() ? std::string() : scalarString(v, k));
    } else if (k == "modulus") {
      if (v.is_number_unsigned() || (v.is_number_integer() && v.get<std::int64_t>() >= 0)) {
        c.modulus = v.get<std::uint64_t>();
      } else if (!v.is_null()) {
        throw Error("modulus must be a non-negative integer, got " + v.dump());
      }
    } else if (k == "target_label") {
      c.targetLabel = scalarString(v, k);
    } else if (k == "replacement") {
      c.replacement = scalarString(v, k);
    } else if (k == "action") {
      std::string s = toLowerAscii(scalarString(v, k));
      if (s.empty()) throw Error("relabel action cannot be empty");
      bool found = false;
      for (const auto& e : kActions) {
        if (e.name == s) {
          c.action = e.action;
          found = true;
        }
      }
      if (!found) throw Error("unknown relabel action " + quote(scalarString(v, k)));
    } else {
      throw Error("field " + k + " not found in type relabel.plain");
    }
  }
  validate(c, scheme);
  return c;
}

std::vector<RelabelConfig> parseRelabelConfigs(const Json& rules, const std::string& where, NameValidation scheme,
                                               const std::string& key) {
  std::vector<RelabelConfig> out;
  if (rules.is_null()) return out;
  if (!rules.is_array()) throw Error(key + " must be a list", where);
  out.reserve(rules.size());
  for (std::size_t i = 0; i < rules.size(); ++i) {
    try {
      out.push_back(parseRelabelConfig(rules[i], scheme));
    } catch (const Error& e) {
      std::string what = key + "[" + std::to_string(i) + "]";
      if (rules[i].is_object() && rules[i].contains("action") && rules[i]["action"].is_string())
        what += " (action " + rules[i]["action"].get<std::string>() + ")";
      throw Error(what + ": " + e.what(), where);
    }
  }
  return out;
}

Json RelabelConfig::toJson() const {
  Json j = Json::object();
  if (sourceLabelsSet) j["source_labels"] = sourceLabels;
  j["separator"] = separator;
  if (action != RelabelAction::KeepEqual && action != RelabelAction::DropEqual) j["regex"] = regex.source();
  j["modulus"] = modulus;
  if (!targetLabel.empty()) j["target_label"] = targetLabel;
  j["replacement"] = replacement;
  j["action"] = std::string(actionName(action));
  return j;
}

std::uint64_t hashMod(std::string_view value, std::uint64_t modulus) {
  // OpenSSL's one-shot MD5 (deprecated in 3.0 in favour of EVP, which fetches the algorithm and
  // allocates a context on every call: ~10x slower for label-sized inputs).
  unsigned char md[MD5_DIGEST_LENGTH];
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
  MD5(reinterpret_cast<const unsigned char*>(value.data()), value.size(), md);
#pragma GCC diagnostic pop
  std::uint64_t v = 0;
  for (int i = 8; i < 16; ++i) v = (v << 8) | md[i];
  return modulus == 0 ? 0 : v % modulus;
}

bool relabelOne(const RelabelConfig& c, Labels& lb, NameValidation scheme) {
  RelabelScratch scratch;
  return relabelOne(c, lb, scheme, scratch);
}

bool relabelOne(const RelabelConfig& c, Labels& lb, NameValidation scheme, RelabelScratch& sc) {
  using A = RelabelAction;
  // The joined source values; one source label is read in place (used before the labels change).
  std::string_view val;
  if (c.sourceLabels.size() == 1) {
    val = lb.get(c.sourceLabels[0]);
  } else if (!c.sourceLabels.empty()) {
    sc.val.clear();
    for (std::size_t i = 0; i < c.sourceLabels.size(); ++i) {
      if (i) sc.val += c.separator;
      sc.val.append(lb.get(c.sourceLabels[i]));
    }
    val = sc.val;
  }
  switch (c.action) {
    case A::Drop:
      if (c.regex.matches(val)) return false;
      break;
    case A::Keep:
      if (!c.regex.matches(val)) return false;
      break;
    case A::DropEqual:
      if (lb.get(c.targetLabel) == val) return false;
      break;
    case A::KeepEqual:
      if (lb.get(c.targetLabel) != val) return false;
      break;
    case A::Replace: {
      // Fast path: add or delete a label pair.
      if (val.empty() && c.regex.isDefault() && !varInTemplate(c.targetLabel) && !varInTemplate(c.replacement)) {
        lb.set(c.targetLabel, c.replacement);
        break;
      }
      if (!c.regex.match(val, sc.groups)) break;
      sc.target.clear();
      c.regex.expand(sc.target, c.targetLabel, sc.groups);
      if (!isValidLabelName(sc.target, scheme)) break;
      sc.res.clear();
      c.regex.expand(sc.res, c.replacement, sc.groups);
      if (sc.res.empty()) {
        lb.del(sc.target);
      } else {
        lb.set(sc.target, sc.res);
      }
      break;
    }
    case A::Lowercase:
      sc.res = toLowerAscii(val);
      lb.set(c.targetLabel, sc.res);
      break;
    case A::Uppercase:
      sc.res = toUpperAscii(val);
      lb.set(c.targetLabel, sc.res);
      break;
    case A::HashMod:
      sc.res = std::to_string(hashMod(val, c.modulus));
      lb.set(c.targetLabel, sc.res);
      break;
    case A::LabelMap: {
      // Names are matched against the labels as they were before this rule (Prometheus' Range over a
      // snapshot); the new pairs are collected first and set afterwards, in iteration order.
      std::size_t n = 0;
      for (const auto& l : lb) {
        if (!c.regex.match(l.name, sc.groups)) continue;
        if (sc.snapshot.size() <= n) sc.snapshot.emplace_back();
        sc.snapshot[n].name.clear();
        c.regex.expand(sc.snapshot[n].name, c.replacement, sc.groups);
        sc.snapshot[n].value.assign(l.value);
        ++n;
      }
      for (std::size_t i = 0; i < n; ++i) lb.set(sc.snapshot[i].name, sc.snapshot[i].value);
      break;
    }
    case A::LabelDrop:
      lb.eraseIf([&](const Label& l) { return c.regex.matches(l.name); });
      break;
    case A::LabelKeep:
      lb.eraseIf([&](const Label& l) { return !c.regex.matches(l.name); });
      break;
  }
  return true;
}

bool relabel(const std::vector<RelabelConfig>& rules, Labels& labels, NameValidation scheme, RelabelScratch& sc) {
  for (const auto& r : rules)
    if (!relabelOne(r, labels, scheme, sc)) return false;
  return true;
}

bool relabel(const std::vector<RelabelConfig>& rules, Labels& labels, NameValidation scheme) {
  RelabelScratch scratch;
  return relabel(rules, labels, scheme, scratch);
}

}  // namespace otel::prom
