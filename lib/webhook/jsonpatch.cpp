#include "lib/webhook/jsonpatch.h"

#include <vector>

#include "lib/core/error.h"

namespace otel::webhook {

std::string escapePointerToken(const std::string& token) {
  std::string out;
  out.reserve(token.size());
  for (char c : token) {
    if (c == '~')
      out += "~0";
    else if (c == '/')
      out += "~1";
    else
      out += c;
  }
  return out;
}

namespace {

void diff(const Json& a, const Json& b, const std::string& path, Json& ops) {
  if (a == b) return;
  if (a.is_object() && b.is_object()) {
    for (auto it = a.begin(); it != a.end(); ++it)
      if (!b.contains(it.key())) ops.push_back({{"op", "remove"}, {"path", path + "/" + escapePointerToken(it.key())}});
    for (auto it = b.begin(); it != b.end(); ++it) {
      std::string p = path + "/" + escapePointerToken(it.key());
      auto old = a.find(it.key());
      if (old == a.end())
        ops.push_back({{"op", "add"}, {"path", p}, {"value", it.value()}});
      else
        diff(*old, it.value(), p, ops);
    }
    return;
  }
  if (a.is_array() && b.is_array()) {
    const size_t common = std::min(a.size(), b.size());
    // in-place changes of the common prefix only make sense when most of it is kept
    size_t changed = 0;
    for (size_t i = 0; i < common; ++i)
      if (a[i] != b[i]) ++changed;
    if (common > 0 && changed * 2 > common + 1) {
      ops.push_back({{"op", "replace"}, {"path", path}, {"value", b}});
      return;
    }
    for (size_t i = 0; i < common; ++i) diff(a[i], b[i], path + "/" + std::to_string(i), ops);
    for (size_t i = a.size(); i > common; --i) ops.push_back({{"op", "remove"}, {"path", path + "/" + std::to_string(i - 1)}});
    for (size_t i = common; i < b.size(); ++i) ops.push_back({{"op", "add"}, {"path", path + "/-"}, {"value", b[i]}});
    return;
  }
  if (path.empty()) {
    ops.push_back({{"op", "replace"}, {"path", ""}, {"value", b}});
    return;
  }
  ops.push_back({{"op", "replace"}, {"path", path}, {"value", b}});
}

std::vector<std::string> tokens(const std::string& pointer, const std::string& op) {
  std::vector<std::string> out;
  if (pointer.empty()) return out;
  if (pointer[0] != '/') throw Error("JSON pointer must start with '/': \"" + pointer + "\"", "patch " + op);
  size_t i = 1;
  while (true) {
    size_t j = pointer.find('/', i);
    std::string raw = pointer.substr(i, j == std::string::npos ? std::string::npos : j - i);
    std::string t;
    for (size_t k = 0; k < raw.size(); ++k) {
      if (raw[k] == '~' && k + 1 < raw.size() && (raw[k + 1] == '0' || raw[k + 1] == '1')) {
        t += raw[k + 1] == '0' ? '~' : '/';
        ++k;
      } else {
        t += raw[k];
      }
    }
    out.push_back(std::move(t));
    if (j == std::string::npos) break;
    i = j + 1;
  }
  return out;
}

bool arrayIndex(const std::string& t, size_t size, bool allowEnd, size_t& out) {
  if (t == "-") {
    out = size;
    return allowEnd;
  }
  if (t.empty() || t.size() > 9 || (t.size() > 1 && t[0] == '0')) return false;
  for (char c : t)
    if (c < '0' || c > '9') return false;
  out = std::stoul(t);
  return allowEnd ? out <= size : out < size;
}

// The parent container of the pointer's last token (and that token).
Json& parentOf(Json& doc, const std::vector<std::string>& toks, const std::string& where) {
  Json* cur = &doc;
  for (size_t i = 0; i + 1 < toks.size(); ++i) {
    if (cur->is_object()) {
      auto it = cur->find(toks[i]);
      if (it == cur->end()) throw Error("path does not exist", where);
      cur = &*it;
    } else if (cur->is_array()) {
      size_t idx = 0;
      if (!arrayIndex(toks[i], cur->size(), false, idx)) throw Error("array index out of range", where);
      cur = &(*cur)[idx];
    } else {
      throw Error("path does not exist", where);
    }
  }
  return *cur;
}

Json get(const Json& doc, const std::vector<std::string>& toks, const std::string& where) {
  const Json* cur = &doc;
  for (const auto& t : toks) {
    if (cur->is_object()) {
      auto it = cur->find(t);
      if (it == cur->end()) throw Error("path does not exist", where);
      cur = &*it;
    } else if (cur->is_array()) {
      size_t idx = 0;
      if (!arrayIndex(t, cur->size(), false, idx)) throw Error("array index out of range", where);
      cur = &(*cur)[idx];
    } else {
      throw Error("path does not exist", where);
    }
  }
  return *cur;
}

Json removeAt(Json& doc, const std::vector<std::string>& toks, const std::string& where) {
  if (toks.empty()) throw Error("cannot remove the whole document", where);
  Json& parent = parentOf(doc, toks, where);
  const std::string& last = toks.back();
  if (parent.is_object()) {
    auto it = parent.find(last);
    if (it == parent.end()) throw Error("path does not exist", where);
    Json v = std::move(*it);
    parent.erase(last);
    return v;
  }
  if (parent.is_array()) {
    size_t idx = 0;
    if (!arrayIndex(last, parent.size(), false, idx)) throw Error("array index out of range", where);
    Json v = std::move(parent[idx]);
    parent.erase(parent.begin() + static_cast<std::ptrdiff_t>(idx));
    return v;
  }
  throw Error("path does not exist", where);
}

void addAt(Json& doc, const std::vector<std::string>& toks, Json value, const std::string& where, bool replace) {
  if (toks.empty()) {
    doc = std::move(value);
    return;
  }
  Json& parent = parentOf(doc, toks, where);
  const std::string& last = toks.back();
  if (parent.is_object()) {
    if (replace && !parent.contains(last)) throw Error("path does not exist", where);
    parent[last] = std::move(value);
    return;
  }
  if (parent.is_array()) {
    size_t idx = 0;
    if (!arrayIndex(last, parent.size(), !replace, idx)) throw Error("array index out of range", where);
    if (replace)
      parent[idx] = std::move(value);
    else
      parent.insert(parent.begin() + static_cast<std::ptrdiff_t>(idx), std::move(value));
    return;
  }
  throw Error("path does not exist", where);
}

}  // namespace

Json jsonPatch(const Json& from, const Json& to) {
  Json ops = Json::array();
  diff(from, to, "", ops);
  return ops;
}

Json applyJsonPatch(Json doc, const Json& patch) {
  if (!patch.is_array()) throw Error("a JSON patch must be an array of operations", "patch");
  size_t n = 0;
  for (const auto& op : patch) {
    std::string where = "patch operation " + std::to_string(n++);
    if (!op.is_object() || !op.contains("op") || !op["op"].is_string() || !op.contains("path") || !op["path"].is_string())
      throw Error("an operation needs string \"op\" and \"path\"", where);
    const std::string o = op["op"].get<std::string>();
    const std::string path = op["path"].get<std::string>();
    where += " (" + o + " " + path + ")";
    auto toks = tokens(path, where);
    auto value = [&]() -> Json {
      if (!op.contains("value")) throw Error("missing \"value\"", where);
      return op["value"];
    };
    auto fromToks = [&]() {
      if (!op.contains("from") || !op["from"].is_string()) throw Error("missing \"from\"", where);
      return tokens(op["from"].get<std::string>(), where);
    };
    if (o == "add") {
      addAt(doc, toks, value(), where, false);
    } else if (o == "replace") {
      addAt(doc, toks, value(), where, true);
    } else if (o == "remove") {
      removeAt(doc, toks, where);
    } else if (o == "test") {
      if (get(doc, toks, where) != value()) throw Error("test failed", where);
    } else if (o == "copy") {
      addAt(doc, toks, get(doc, fromToks(), where), where, false);
    } else if (o == "move") {
      Json v = removeAt(doc, fromToks(), where);
      addAt(doc, toks, std::move(v), where, false);
    } else {
      throw Error("unknown operation \"" + o + "\"", where);
    }
  }
  return doc;
}

}  // namespace otel::webhook
