#include "lib/core/gojson.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <string_view>
#include <vector>

namespace otel {
namespace {

// Go's encodeState.string with escapeHTML=true: invalid UTF-8 becomes \ufffd, U+2028/2029 escaped.
void appendString(std::string& out, std::string_view s) {
  static const char* hex = "0123456789abcdef";
  out += '"';
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      if (c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&') {
        out += static_cast<char>(c);
      } else {
        switch (c) {
          case '"': out += "\\\""; break;
          case '\\': out += "\\\\"; break;
          case '\n': out += "\\n"; break;
          case '\r': out += "\\r"; break;
          case '\t': out += "\\t"; break;
          case '\b': out += "\\b"; break;  // Go >= 1.22 writes \b and \f short forms
          case '\f': out += "\\f"; break;
          default:
            out += "\\u00";
            out += hex[c >> 4];
            out += hex[c & 0xf];
        }
      }
      ++i;
      continue;
    }
    // Decode one UTF-8 sequence; invalid bytes are replaced by U+FFFD one byte at a time (as Go does).
    size_t len = 0;
    uint32_t cp = 0;
    if ((c & 0xE0) == 0xC0) len = 2, cp = c & 0x1F;
    else if ((c & 0xF0) == 0xE0) len = 3, cp = c & 0x0F;
    else if ((c & 0xF8) == 0xF0) len = 4, cp = c & 0x07;
    bool ok = len > 0 && i + len <= s.size();
    for (size_t k = 1; ok && k < len; ++k) {
      unsigned char cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) ok = false;
      else cp = (cp << 6) | (cc & 0x3F);
    }
    if (ok) {
      // Reject overlong encodings, surrogates and out-of-range code points as Go's utf8 does.
      if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
          (cp >= 0xD800 && cp <= 0xDFFF))
        ok = false;
    }
    if (!ok) {
      out += "\\ufffd";
      ++i;
      continue;
    }
    if (cp == 0x2028 || cp == 0x2029) {
      out += cp == 0x2028 ? "\\u2028" : "\\u2029";
    } else {
      out.append(s.substr(i, len));
    }
    i += len;
  }
  out += '"';
}

void encode(std::string& out, const Json& v) {
  switch (v.type()) {
    case Json::value_t::null:
      out += "null";
      break;
    case Json::value_t::boolean:
      out += v.get<bool>() ? "true" : "false";
      break;
    case Json::value_t::number_integer:
      // Decoding into interface{} makes every number a float64; integers print identically below 1e21.
      out += goFormatFloat(static_cast<double>(v.get<int64_t>()));
      break;
    case Json::value_t::number_unsigned:
      out += goFormatFloat(static_cast<double>(v.get<uint64_t>()));
      break;
    case Json::value_t::number_float:
      out += goFormatFloat(v.get<double>());
      break;
    case Json::value_t::string:
      appendString(out, v.get_ref<const std::string&>());
      break;
    case Json::value_t::array: {
      out += '[';
      bool first = true;
      for (const auto& item : v) {
        if (!first) out += ',';
        first = false;
        encode(out, item);
      }
      out += ']';
      break;
    }
    case Json::value_t::object: {
      std::vector<const std::string*> keys;
      keys.reserve(v.size());
      for (auto it = v.begin(); it != v.end(); ++it) keys.push_back(&it.key());
      std::sort(keys.begin(), keys.end(), [](const std::string* a, const std::string* b) { return *a < *b; });
      out += '{';
      bool first = true;
      for (const auto* k : keys) {
        if (!first) out += ',';
        first = false;
        appendString(out, *k);
        out += ':';
        encode(out, v.at(*k));
      }
      out += '}';
      break;
    }
    case Json::value_t::binary:
    case Json::value_t::discarded:
      out += "null";
      break;
  }
}

}  // namespace

std::string goFormatFloat(double f) {
  if (std::isnan(f) || std::isinf(f)) return "null";  // Go errors; never reached with YAML/JSON input
  if (f == 0) return std::signbit(f) ? "-0" : "0";
  double a = std::fabs(f);
  char buf[64];
  if (a < 1e-6 || a >= 1e21) {
    auto r = std::to_chars(buf, buf + sizeof buf, f, std::chars_format::scientific);
    std::string s(buf, r.ptr);
    // Go: clean up e-09 to e-9 (two-digit exponents keep no leading zero).
    auto e = s.find('e');
    if (e != std::string::npos && e + 3 < s.size() + 1) {
      if (s.size() - e == 4 && s[e + 2] == '0') s.erase(e + 2, 1);
    }
    return s;
  }
  auto r = std::to_chars(buf, buf + sizeof buf, f, std::chars_format::fixed);
  return std::string(buf, r.ptr);
}

std::string goJsonMarshal(const Json& value) {
  std::string out;
  encode(out, value);
  return out;
}

}  // namespace otel
