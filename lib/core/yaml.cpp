#include "lib/core/yaml.h"

#include <yaml-cpp/yaml.h>

#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <set>
#include <sstream>

#include "lib/core/error.h"

namespace otel {
namespace {

// ---------------------------------------------------------------- reading

std::string where(const std::string& source, int doc, const YAML::Mark& mark) {
  std::string w = source;
  if (doc >= 0) w += " (document " + std::to_string(doc) + ")";
  if (mark.line >= 0) w += " line " + std::to_string(mark.line + 1) + " column " + std::to_string(mark.column + 1);
  return w;
}

bool isYaml11True(std::string_view s) {
  static const std::set<std::string_view> t = {"y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"};
  return t.count(s) > 0;
}
bool isYaml11False(std::string_view s) {
  static const std::set<std::string_view> f = {"n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"};
  return f.count(s) > 0;
}
bool isYamlNull(std::string_view s) { return s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL"; }

// Go's strconv.ParseInt(s, 0, 64) after go-yaml v2 removed underscores: sign, then 0x/0o/0b/0 prefixes.
bool parseGoInt(std::string s, Json& out) {
  s.erase(std::remove(s.begin(), s.end(), '_'), s.end());
  if (s.empty()) return false;
  bool neg = false;
  size_t i = 0;
  if (s[0] == '+' || s[0] == '-') {
    neg = s[0] == '-';
    i = 1;
  }
  if (i >= s.size()) return false;
  int base = 10;
  if (s.size() - i > 1 && s[i] == '0') {
    char p = s[i + 1];
    if (p == 'x' || p == 'X') base = 16, i += 2;
    else if (p == 'o' || p == 'O') base = 8, i += 2;
    else if (p == 'b' || p == 'B') base = 2, i += 2;
    else base = 8, i += 1;
  }
  if (i >= s.size()) return false;
  unsigned __int128 v = 0;
  for (; i < s.size(); ++i) {
    char c = s[i];
    int d;
    if (c >= '0' && c <= '9') d = c - '0';
    else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
    else return false;
    if (d >= base) return false;
    v = v * base + d;
    if (v > (static_cast<unsigned __int128>(1) << 64)) return false;
  }
  if (neg) {
    if (v > static_cast<unsigned __int128>(std::numeric_limits<int64_t>::max()) + 1) return false;
    out = static_cast<int64_t>(-static_cast<__int128>(v));
    return true;
  }
  if (v <= static_cast<unsigned __int128>(std::numeric_limits<int64_t>::max())) {
    out = static_cast<int64_t>(v);
    return true;
  }
  if (v <= std::numeric_limits<uint64_t>::max()) {
    out = static_cast<uint64_t>(v);
    return true;
  }
  return false;
}

bool isDigit(char c) { return c >= '0' && c <= '9'; }

// go-yaml v2's float form: ^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$ (hand-written: hot path).
bool matchesYamlFloat(std::string_view t) {
  size_t i = 0, n = t.size();
  if (i < n && (t[i] == '+' || t[i] == '-')) ++i;
  if (i < n && t[i] == '.') {
    ++i;
    size_t d = i;
    while (i < n && isDigit(t[i])) ++i;
    if (i == d) return false;
  } else {
    size_t d = i;
    while (i < n && isDigit(t[i])) ++i;
    if (i == d) return false;
    if (i < n && t[i] == '.') {
      ++i;
      while (i < n && isDigit(t[i])) ++i;
    }
  }
  if (i < n && (t[i] == 'e' || t[i] == 'E')) {
    ++i;
    if (i < n && (t[i] == '+' || t[i] == '-')) ++i;
    size_t d = i;
    while (i < n && isDigit(t[i])) ++i;
    if (i == d) return false;
  }
  return i == n;
}

bool parseYamlFloat(const std::string& s, Json& out) {
  std::string t = s;
  t.erase(std::remove(t.begin(), t.end(), '_'), t.end());
  if (!matchesYamlFloat(t)) return false;
  out = std::strtod(t.c_str(), nullptr);
  return true;
}

// Timestamps (2001-12-14, 2001-12-14T...), sexagesimal numbers (12:30, -1:20:30.5), merge key and "=".
bool isYaml11Special(std::string_view s) {
  if (s == "<<" || s == "=") return true;
  size_t n = s.size();
  // \d{4}-\d\d?-\d\d?([Tt ].*)?
  if (n >= 8 && isDigit(s[0]) && isDigit(s[1]) && isDigit(s[2]) && isDigit(s[3]) && s[4] == '-') {
    size_t i = 5, d = i;
    while (i < n && i < d + 2 && isDigit(s[i])) ++i;
    if (i > d && i < n && s[i] == '-') {
      ++i;
      d = i;
      while (i < n && i < d + 2 && isDigit(s[i])) ++i;
      if (i > d && (i == n || s[i] == 'T' || s[i] == 't' || s[i] == ' ')) return true;
    }
  }
  // [-+]?[0-9][0-9_]*(:[0-5]?[0-9])+(\.[0-9_]*)?
  size_t i = 0;
  if (i < n && (s[i] == '+' || s[i] == '-')) ++i;
  if (i >= n || !isDigit(s[i])) return false;
  while (i < n && (isDigit(s[i]) || s[i] == '_')) ++i;
  int groups = 0;
  while (i < n && s[i] == ':') {
    ++i;
    size_t d = i;
    while (i < n && i < d + 2 && isDigit(s[i])) ++i;
    if (i == d) return false;
    if (i - d == 2 && s[d] > '5') return false;
    ++groups;
  }
  if (groups == 0) return false;
  if (i < n && s[i] == '.') {
    ++i;
    while (i < n && (isDigit(s[i]) || s[i] == '_')) ++i;
  }
  return i == n;
}

bool isSpecialFloat(std::string_view s) {
  static const std::set<std::string_view> f = {".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF",
                                               "-.inf", "-.Inf", "-.INF", ".nan", ".NaN", ".NAN"};
  return f.count(s) > 0;
}

struct Converter {
  std::string source;
  int doc;

  [[noreturn]] void fail(const std::string& what, const YAML::Mark& mark) { throw Error(what, where(source, doc, mark)); }

  Json scalar(const YAML::Node& n) {
    const std::string& v = n.Scalar();
    const std::string& tag = n.Tag();
    if (tag == "!") return v;  // quoted: always a string
    if (tag == "?" || tag.empty()) return resolvePlain(v, n.Mark());
    if (tag == "tag:yaml.org,2002:str") return v;
    if (tag == "tag:yaml.org,2002:int") {
      Json out;
      if (parseGoInt(v, out)) return out;
      fail("cannot decode !!int `" + v + "`", n.Mark());
    }
    if (tag == "tag:yaml.org,2002:float") {
      Json out;
      if (parseGoInt(v, out)) return static_cast<double>(out.is_number_unsigned() ? out.get<uint64_t>() : out.get<int64_t>());
      if (parseYamlFloat(v, out)) return out;
      fail("cannot decode !!float `" + v + "`", n.Mark());
    }
    if (tag == "tag:yaml.org,2002:bool") {
      if (isYaml11True(v)) return true;
      if (isYaml11False(v)) return false;
      fail("cannot decode !!bool `" + v + "`", n.Mark());
    }
    if (tag == "tag:yaml.org,2002:null") return nullptr;
    if (tag == "tag:yaml.org,2002:binary" || tag == "tag:yaml.org,2002:timestamp") return v;
    return resolvePlain(v, n.Mark());
  }

  Json resolvePlain(const std::string& v, const YAML::Mark& mark) {
    if (isYamlNull(v)) return nullptr;
    if (isYaml11True(v)) return true;
    if (isYaml11False(v)) return false;
    char c = v[0];
    if ((c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.') {
      Json out;
      if (parseGoInt(v, out)) return out;
      if (parseYamlFloat(v, out)) return out;
      if (isSpecialFloat(v)) fail("the value `" + v + "` (infinity or NaN) cannot be represented in JSON", mark);
    }
    return v;
  }

  std::string key(const YAML::Node& k) {
    if (!k.IsScalar()) fail("a mapping key must be a scalar", k.Mark());
    Json j = scalar(k);
    if (j.is_string()) return j.get<std::string>();
    if (j.is_null()) return "null";
    if (j.is_boolean()) return j.get<bool>() ? "true" : "false";
    if (j.is_number_float()) return j.dump();
    return j.dump();
  }

  Json convert(const YAML::Node& n) {
    switch (n.Type()) {
      case YAML::NodeType::Null:
        return nullptr;
      case YAML::NodeType::Undefined:
        return nullptr;
      case YAML::NodeType::Scalar:
        return scalar(n);
      case YAML::NodeType::Sequence: {
        Json arr = Json::array();
        for (const auto& item : n) arr.push_back(convert(item));
        return arr;
      }
      case YAML::NodeType::Map: {
        Json obj = Json::object();
        for (const auto& kv : n) {
          std::string k = key(kv.first);
          if (obj.contains(k)) fail("mapping key \"" + k + "\" already defined", kv.first.Mark());
          obj[k] = convert(kv.second);
        }
        return obj;
      }
    }
    return nullptr;
  }
};

// Splits a stream into document texts and their starting lines, following "---" and "..." markers at column 0.
struct DocText {
  int line;
};

}  // namespace

std::vector<YamlDocument> parseYamlStream(std::string_view text, const std::string& source) {
  std::vector<YamlDocument> out;
  std::vector<YAML::Node> nodes;
  try {
    nodes = YAML::LoadAll(std::string(text));
  } catch (const YAML::Exception& e) {
    // The failing document is the one holding the mark: count "---" separators before that line.
    int doc = 0;
    if (e.mark.line >= 0) {
      std::istringstream in{std::string(text)};
      std::string l;
      int lineNo = 0;
      bool content = false;
      while (std::getline(in, l) && lineNo < e.mark.line) {
        if (l.rfind("---", 0) == 0 && (l.size() == 3 || l[3] == ' ' || l[3] == '\t')) {
          if (content) ++doc;
          content = true;
        } else if (!l.empty() && l[0] != '#') {
          content = true;
        }
        ++lineNo;
      }
    }
    throw Error(e.msg, where(source, doc, e.mark), "check the YAML syntax (indentation, quotes, colons)");
  }
  int idx = 0;
  for (const auto& n : nodes) {
    Converter c{source, idx};
    YamlDocument d;
    d.value = c.convert(n);
    d.source = source;
    d.index = idx;
    d.line = n.Mark().line >= 0 ? n.Mark().line + 1 : 0;
    out.push_back(std::move(d));
    ++idx;
  }
  return out;
}

Json parseYaml(std::string_view text, const std::string& source) {
  auto docs = parseYamlStream(text, source);
  std::vector<const YamlDocument*> nonEmpty;
  for (const auto& d : docs)
    if (!d.value.is_null()) nonEmpty.push_back(&d);
  if (nonEmpty.empty()) return nullptr;
  if (nonEmpty.size() > 1) throw Error("expected one YAML document, found " + std::to_string(nonEmpty.size()), source);
  return nonEmpty.front()->value;
}

std::vector<YamlDocument> flattenLists(const std::vector<YamlDocument>& docs) {
  std::vector<YamlDocument> out;
  for (const auto& d : docs) {
    if (d.value.is_null()) continue;
    if (d.value.is_object() && d.value.contains("kind") && d.value["kind"].is_string() &&
        d.value.contains("items")) {
      const std::string kind = d.value["kind"].get<std::string>();
      if (kind.size() >= 4 && kind.compare(kind.size() - 4, 4, "List") == 0) {
        if (!d.value["items"].is_array() && !d.value["items"].is_null())
          throw Error("items of a " + kind + " must be a list", d.source + " (document " + std::to_string(d.index) + ")");
        if (d.value["items"].is_array()) {
          for (const auto& item : d.value["items"]) {
            YamlDocument sub = d;
            sub.value = item;
            out.push_back(std::move(sub));
          }
        }
        continue;
      }
    }
    if (!d.value.is_object())
      throw Error("expected an object (a mapping with apiVersion and kind), got " + std::string(d.value.type_name()),
                  d.source + " (document " + std::to_string(d.index) + ")");
    out.push_back(d);
  }
  return out;
}

// ---------------------------------------------------------------- writing

namespace {
bool hasControlCharacters(std::string_view s) {
  for (unsigned char c : s)
    if (c < 0x20 || c == 0x7f) return true;
  return false;
}
}  // namespace

bool yamlResolvesToNonString(std::string_view s) {
  if (s.empty()) return true;
  std::string str(s);
  if (isYamlNull(str) || isYaml11True(str) || isYaml11False(str) || isSpecialFloat(str)) return true;
  {
    Json tmp;
    if (parseGoInt(str, tmp) || parseYamlFloat(str, tmp)) return true;
  }
  // Anything a YAML 1.1 resolver might treat specially: timestamps, sexagesimal numbers, merge key.
  return isYaml11Special(str);
}

bool yamlPlainUnsafe(std::string_view s) {
  if (s.empty()) return true;
  const char first = s.front();
  static const std::string_view indicators = ",[]{}#&*!|>'\"%@`";
  if (indicators.find(first) != std::string_view::npos) return true;
  // "-", "?" and ":" start a plain scalar only when followed by a non-space ("--x" stays plain, "- x" does not).
  if ((first == '-' || first == '?' || first == ':') && (s.size() == 1 || s[1] == ' ' || s[1] == '\t')) return true;
  if (s.substr(0, 3) == "---" || s.substr(0, 3) == "...") return true;  // document markers
  if (s.front() == ' ' || s.back() == ' ' || s.front() == '\t' || s.back() == '\t') return true;
  if (s.find(": ") != std::string_view::npos || s.find(" #") != std::string_view::npos) return true;
  if (s.back() == ':') return true;
  return hasControlCharacters(s);
}

bool yamlNeedsQuotes(std::string_view s) { return yamlResolvesToNonString(s) || yamlPlainUnsafe(s); }

namespace {

void appendDoubleQuoted(std::string& out, std::string_view s) {
  out += '"';
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      default:
        if (c < 0x20 || c == 0x7f) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\x%02X", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
}

// As gopkg.in/yaml.v2 (and so kubectl, through sigs.k8s.io/yaml) picks a style: double quotes for a
// string that would read back as another type (or holds control characters), single quotes for one
// that only cannot be written plain ("a: b", "*x", " lead"), plain otherwise.
void appendQuotedAsNeeded(std::string& out, std::string_view s) {
  if (yamlResolvesToNonString(s) || hasControlCharacters(s)) {
    appendDoubleQuoted(out, s);
  } else if (yamlPlainUnsafe(s)) {
    out += '\'';
    for (char c : s) {
      if (c == '\'') out += '\'';
      out += c;
    }
    out += '\'';
  } else {
    out += s;
  }
}

// A string with newlines is written as a literal block when every line is printable and safe.
bool canUseLiteralBlock(std::string_view s) {
  if (s.find('\n') == std::string_view::npos) return false;
  if (s.front() == ' ' || s.front() == '\t' || s.front() == '\n') return false;
  for (unsigned char c : s) {
    if ((c < 0x20 && c != '\n') || c == 0x7f) return false;
  }
  // Trailing spaces on a line are kept by a literal block, but lines of only spaces confuse indentation detection.
  size_t start = 0;
  while (start <= s.size()) {
    size_t end = s.find('\n', start);
    std::string_view line = s.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
    if (!line.empty() && line.back() == ' ') return false;
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  return true;
}

void writeScalarString(std::string& out, std::string_view s, int indent) {
  if (canUseLiteralBlock(s)) {
    size_t trailing = 0;
    while (trailing < s.size() && s[s.size() - 1 - trailing] == '\n') ++trailing;
    out += trailing == 0 ? "|-" : (trailing == 1 ? "|" : "|+");
    out += '\n';
    std::string_view body = s;
    if (trailing > 0) body = s.substr(0, s.size() - trailing);
    std::string pad(indent, ' ');
    size_t start = 0;
    while (true) {
      size_t end = body.find('\n', start);
      std::string_view line = body.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
      if (!line.empty()) out += pad;
      out += line;
      out += '\n';
      if (end == std::string_view::npos) break;
      start = end + 1;
    }
    for (size_t i = 1; i < trailing; ++i) out += '\n';
    out.pop_back();  // caller adds the final newline
    return;
  }
  appendQuotedAsNeeded(out, s);
}

std::string formatNumber(const Json& v) {
  if (v.is_number_float()) {
    double d = v.get<double>();
    if (std::isnan(d)) return ".nan";
    if (std::isinf(d)) return d > 0 ? ".inf" : "-.inf";
    std::string s = v.dump();
    return s;
  }
  return v.dump();
}

std::string formatKey(const std::string& k) {
  std::string out;
  appendQuotedAsNeeded(out, k);
  return out;
}

bool isEmptyCollection(const Json& v) { return (v.is_object() || v.is_array()) && v.empty(); }

void writeValue(std::string& out, const Json& v, int indent);

// Writes `v` as the value following "key:" or "- " on the current line.
void writeInline(std::string& out, const Json& v, int indent) {
  if (v.is_null()) {
    out += "null\n";
  } else if (v.is_boolean()) {
    out += v.get<bool>() ? "true\n" : "false\n";
  } else if (v.is_number()) {
    out += formatNumber(v) + "\n";
  } else if (v.is_string()) {
    writeScalarString(out, v.get_ref<const std::string&>(), indent);
    out += '\n';
  } else if (v.is_object()) {
    out += v.empty() ? "{}\n" : "\n";
    if (!v.empty()) writeValue(out, v, indent);
  } else if (v.is_array()) {
    out += v.empty() ? "[]\n" : "\n";
    if (!v.empty()) writeValue(out, v, indent);
  }
}

void writeValue(std::string& out, const Json& v, int indent) {
  std::string pad(indent, ' ');
  if (v.is_object()) {
    for (auto it = v.begin(); it != v.end(); ++it) {
      out += pad + formatKey(it.key()) + ":";
      const Json& child = it.value();
      if (child.is_array() && !child.empty()) {
        out += '\n';
        writeValue(out, child, indent);  // sequences are not indented under their key
      } else if (child.is_object() && !child.empty()) {
        out += '\n';
        writeValue(out, child, indent + 2);
      } else {
        out += ' ';
        writeInline(out, child, indent + 2);
      }
    }
  } else if (v.is_array()) {
    for (const auto& item : v) {
      out += pad + "-";
      if (item.is_object() && !item.empty()) {
        // First key on the dash line, the rest indented by 2.
        std::string sub;
        writeValue(sub, item, indent + 2);
        out += ' ';
        out += sub.substr(indent + 2);
      } else if (item.is_array() && !item.empty()) {
        std::string sub;
        writeValue(sub, item, indent + 2);
        out += ' ';
        out += sub.substr(indent + 2);
      } else {
        out += ' ';
        writeInline(out, item, indent + 2);
      }
    }
  } else {
    out += pad;
    writeInline(out, v, indent);
  }
}

}  // namespace

std::string toYaml(const Json& value) {
  std::string out;
  if (isEmptyCollection(value) || !(value.is_object() || value.is_array())) {
    writeInline(out, value, 0);
    return out;
  }
  writeValue(out, value, 0);
  return out;
}

std::string toYamlStream(const std::vector<Json>& docs) {
  std::string out;
  for (size_t i = 0; i < docs.size(); ++i) {
    if (i > 0) out += "---\n";
    out += toYaml(docs[i]);
  }
  return out;
}

}  // namespace otel
