#include "lib/core/yaml.h"

#include <yaml-cpp/yaml.h>

#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/eventhandler.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <deque>
#include <memory>
#include <streambuf>
#include <unordered_set>
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

constexpr size_t kNoIndent = static_cast<size_t>(-1);

bool isSpecialFloat(std::string_view s) {
  static const std::set<std::string_view> f = {".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF",
                                               "-.inf", "-.Inf", "-.INF", ".nan", ".NaN", ".NAN"};
  return f.count(s) > 0;
}

// Resolves a scalar as go-yaml v2 does for interface{} (quoted "!" is a string, plain "?" by YAML 1.1 rules).
struct ScalarResolver {
  const std::string& source;
  int doc;

  [[noreturn]] void fail(const std::string& what, const YAML::Mark& mark) const {
    throw Error(what, where(source, doc, mark));
  }

  Json scalar(const std::string& tag, const std::string& v, const YAML::Mark& mark) const {
    if (tag == "!") return v;  // quoted: always a string
    if (tag == "?" || tag.empty()) return resolvePlain(v, mark);
    if (tag == "tag:yaml.org,2002:str") return v;
    if (tag == "tag:yaml.org,2002:int") {
      Json out;
      if (parseGoInt(v, out)) return out;
      fail("cannot decode !!int `" + v + "`", mark);
    }
    if (tag == "tag:yaml.org,2002:float") {
      Json out;
      if (parseGoInt(v, out)) return static_cast<double>(out.is_number_unsigned() ? out.get<uint64_t>() : out.get<int64_t>());
      if (parseYamlFloat(v, out)) return out;
      fail("cannot decode !!float `" + v + "`", mark);
    }
    if (tag == "tag:yaml.org,2002:bool") {
      if (isYaml11True(v)) return true;
      if (isYaml11False(v)) return false;
      fail("cannot decode !!bool `" + v + "`", mark);
    }
    if (tag == "tag:yaml.org,2002:null") return nullptr;
    if (tag == "tag:yaml.org,2002:binary" || tag == "tag:yaml.org,2002:timestamp") return v;
    return resolvePlain(v, mark);
  }

  Json resolvePlain(const std::string& v, const YAML::Mark& mark) const {
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
};

std::string keyString(const Json& j) {
  if (j.is_string()) return j.get<std::string>();
  if (j.is_null()) return "null";
  if (j.is_boolean()) return j.get<bool>() ? "true" : "false";
  return j.dump();
}

std::string mib(size_t bytes) {
  if (bytes % (size_t{1} << 20) == 0) return std::to_string(bytes >> 20) + " MiB";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f MiB", static_cast<double>(bytes) / (1 << 20));
  return buf;
}

using ObjectVector = Json::object_t::Container;

// The keys of a large mapping as 64-bit hashes in an open-addressing table (16 bytes a key, not a copy
// of each key): finding a duplicate key stays O(1) without doubling the mapping's memory.
class KeyHashes {
 public:
  // False when the hash was there already (a duplicate key, or, rarely, another key with the same hash).
  bool insert(const std::string& key) {
    if ((count_ + 1) * 2 > slots_.size()) grow();
    uint64_t h = hash(key);
    size_t mask = slots_.size() - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
      if (slots_[i] == 0) {
        slots_[i] = h;
        ++count_;
        return true;
      }
      if (slots_[i] == h) return false;
    }
  }

 private:
  static uint64_t hash(const std::string& key) {
    uint64_t h = 1469598103934665603ull;  // FNV-1a, never 0 (0 marks an empty slot)
    for (unsigned char c : key) h = (h ^ c) * 1099511628211ull;
    return h ? h : 1;
  }
  void grow() {
    std::vector<uint64_t> old = std::move(slots_);
    slots_.assign(old.empty() ? 64 : old.size() * 2, 0);
    count_ = 0;
    size_t mask = slots_.size() - 1;
    for (uint64_t h : old) {
      if (h == 0) continue;
      size_t i = h & mask;
      while (slots_[i] != 0) i = (i + 1) & mask;
      slots_[i] = h;
      ++count_;
    }
  }
  std::vector<uint64_t> slots_;
  size_t count_ = 0;
};

// Builds each document's JSON value straight from yaml-cpp's parse events (no yaml-cpp node tree), and
// enforces the bounds while it goes: an alias is copied only after its cost passed the budget, and a
// document's size is checked at every event, so a refused input never gets to use its memory.
class Builder : public YAML::EventHandler {
 public:
  Builder(const std::string& source, std::string_view text, const YamlLimits& limits, YamlBudget& stream)
      : source_(source), text_(text), limits_(limits), stream_(stream) {}

  // Called before each document (and once after the last with the stream's end): closes the previous one.
  void beginDocument(size_t pos) {
    finishDocument(pos);
    ++index_;
    docStart_ = pos;
    frames_.clear();
    anchors_.clear();
    paths_.clear();
    decodes_ = aliases_ = 0;
    itemsBytes_ = 0;
    itemStart_ = kNone;
    itemsFrameOpen_ = false;
    itemClosePending_ = false;
    itemIndex_ = -1;
    root_ = Json();
    line_ = 0;
    haveRoot_ = false;
    pendingAnchorName_.clear();
    // go-yaml counts the document node itself.
    count(YAML::Mark::null_mark(), 1);
  }
  void finish() { finishDocument(text_.size()); }

  std::vector<YamlDocument> docs;
  int index() const { return index_ < 0 ? 0 : index_; }

  // YAML::EventHandler
  void OnDocumentStart(const YAML::Mark& mark) override {
    size_t pos = mark.pos >= 0 ? static_cast<size_t>(mark.pos) : 0;
    // yaml-cpp 0.7 starts empty documents at the same place forever on a stray token after a document
    // ("[1]\n, 2", found by fuzz/scrape_config): a document that starts where the last one did is refused.
    if (index_ >= 0 && pos <= docStart_) {
      throw Error("yaml: did not find expected <document start>", where(source_, index_, mark),
                  "check the YAML syntax (indentation, quotes, colons)");
    }
    beginDocument(pos);
  }
  void OnDocumentEnd() override {
    YamlDocument d;
    d.value = std::move(root_);
    d.source = source_;
    d.index = index_;
    d.line = line_;
    docs.push_back(std::move(d));
    root_ = Json();
  }
  void OnAnchor(const YAML::Mark&, const std::string& name) override { pendingAnchorName_ = name; }

  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    at(mark);
    count(mark, 1);
    if (isKeyPosition()) fail("a mapping key must be a scalar", mark);
    defineScalarAnchor(anchor, Json());
    insert(Json(), mark);
  }

  void OnScalar(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor, const std::string& value) override {
    at(mark);
    count(mark, 1);
    ScalarResolver r{source_, index_};
    Json v = r.scalar(tag, value, mark);
    defineScalarAnchor(anchor, v);
    if (isKeyPosition()) return setKey(keyString(v), mark);
    insert(std::move(v), mark);
  }

  void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    at(mark);
    if (anchor == YAML::NullAnchor || anchor > anchors_.size()) fail("unknown anchor", mark);
    Anchor& a = anchors_[anchor - 1];
    if (!a.complete) fail("anchor '" + a.name + "' value contains itself", mark);
    // The alias node, then every node of its value again (go-yaml's decoder walks it: aliasDepth > 0).
    count(mark, 1);
    countAlias(mark, a.size);
    if (a.pathNode < 0) {  // a scalar or null
      if (isKeyPosition()) return setKey(keyString(a.scalar), mark);
      insert(Json(a.scalar), mark);
      return;
    }
    if (isKeyPosition()) fail("a mapping key must be a scalar", mark);
    insert(Json(resolve(a.pathNode)), mark);
  }

  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value) override {
    openFrame(mark, anchor, false);
  }
  void OnSequenceEnd() override { closeFrame(); }
  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor, YAML::EmitterStyle::value) override {
    openFrame(mark, anchor, true);
  }
  void OnMapEnd() override { closeFrame(); }

 private:
  static constexpr size_t kNone = static_cast<size_t>(-1);

  struct Frame {
    Json value;                                       // a sequence's items
    std::deque<std::pair<std::string, Json>> entries;  // a mapping's (no reallocation), made a Json object at its end
    size_t size() const { return isMap ? entries.size() : value.size(); }
    bool hasKey(const std::string& k) const {
      for (const auto& e : entries)
        if (e.first == k) return true;
      return false;
    }
    bool isMap = false;
    bool expectKey = true;
    bool isItems = false;  // the `items` sequence of a top-level mapping
    std::string key;
    YAML::Mark keyMark;
    std::unique_ptr<KeyHashes> keys;  // built once a mapping has many keys
    uint32_t slot = 0;        // index of this value in its parent
    int pathNode = -1;        // lazily: where this value lives, for aliases to anchors inside it
    YAML::anchor_t anchor = YAML::NullAnchor;
    uint64_t decodesAtStart = 0;
  };
  struct Anchor {
    std::string name;
    bool complete = false;
    uint64_t size = 1;  // decode operations go-yaml spends on the anchored value
    int pathNode = -1;  // containers: their place in the document; scalars: -1 and `scalar`
    Json scalar;
  };
  struct PathNode {
    int parent;
    uint32_t slot;
  };

  [[noreturn]] void fail(const std::string& what, const YAML::Mark& mark) const {
    throw Error(what, where(source_, index(), mark));
  }
  [[noreturn]] void refuse(const std::string& what, const YAML::Mark& mark) const {
    throw YamlLimitError(what, where(source_, index(), mark));
  }

  bool isKeyPosition() const { return !frames_.empty() && frames_.back().isMap && frames_.back().expectKey; }

  // go-yaml's alias budget, per document and over the stream, checked at every decoded node.
  void count(const YAML::Mark& mark, uint64_t n) {
    decodes_ += n;
    stream_.decodes += n;
    check(mark);
  }
  void countAlias(const YAML::Mark& mark, uint64_t n) {
    decodes_ += n;
    aliases_ += n;
    stream_.decodes += n;
    stream_.aliases += n;
    check(mark);
  }
  void check(const YAML::Mark& mark) const {
    if (yamlExcessiveAliasing(decodes_, aliases_)) refuse("yaml: document contains excessive aliasing", mark);
    if (yamlExcessiveAliasing(stream_.decodes, stream_.aliases))
      refuse("yaml: the stream contains excessive aliasing (counted over all its documents)", mark);
  }

  // Size bounds, checked at every event's position: the document outside a List's items, and each item.
  void at(const YAML::Mark& mark) {
    if (!haveRoot_) {
      haveRoot_ = true;
      line_ = mark.line >= 0 ? mark.line + 1 : 0;
    }
    if (mark.pos < 0) return;
    size_t pos = static_cast<size_t>(mark.pos);
    if (itemClosePending_) closeItem(pos);
    if (itemsFrameOpen_ && frames_.size() == 2 && frames_.back().isItems) {  // an item starts here
      if (itemStart_ != kNone) closeItem(pos);
      itemStart_ = pos;
      ++itemIndex_;
    }
    size_t inItem = itemStart_ != kNone ? pos - itemStart_ : 0;
    if (inItem > limits_.maxDocumentBytes) refuseItem(mark);
    size_t rest = pos - docStart_ - itemsBytes_ - inItem;
    if (rest > limits_.maxDocumentBytes) refuseDocument(mark);
  }
  void closeItem(size_t end) {
    itemClosePending_ = false;
    if (itemStart_ == kNone) return;
    size_t size = end - itemStart_;
    if (size > limits_.maxDocumentBytes) refuseItem(YAML::Mark::null_mark());
    itemsBytes_ += size;
    itemStart_ = kNone;
  }
  [[noreturn]] void refuseItem(const YAML::Mark& mark) const {
    refuse("item " + std::to_string(itemIndex_) + " of the List has more than " +
               mib(limits_.maxDocumentBytes) + " (" + std::to_string(limits_.maxDocumentBytes) +
               " bytes), the most one object may have",
           mark);
  }
  [[noreturn]] void refuseDocument(const YAML::Mark& mark) const {
    refuse("the document has more than " + mib(limits_.maxDocumentBytes) + " (" +
               std::to_string(limits_.maxDocumentBytes) + " bytes), the most one object may have",
           mark);
  }

  static bool isList(const Json& v) {
    if (!v.is_object()) return false;
    auto k = v.find("kind");
    if (k == v.end() || !k->is_string() || !v.contains("items")) return false;
    const std::string& kind = k->get_ref<const std::string&>();
    return kind.size() >= 4 && kind.compare(kind.size() - 4, 4, "List") == 0;
  }

  void finishDocument(size_t end) {
    if (index_ < 0) return;
    if (itemClosePending_ || itemStart_ != kNone) {
      itemClosePending_ = true;
      closeItem(end);
    }
    size_t total = end > docStart_ ? end - docStart_ : 0;
    bool list = !docs.empty() && docs.back().index == index_ && isList(docs.back().value);
    if (!list && total > limits_.maxDocumentBytes) refuseDocument(YAML::Mark::null_mark());
  }

  void defineScalarAnchor(YAML::anchor_t anchor, const Json& v) {
    if (anchor == YAML::NullAnchor) return;
    Anchor& a = newAnchor(anchor);
    a.complete = true;
    a.size = 1;
    a.scalar = v;
  }
  Anchor& newAnchor(YAML::anchor_t anchor) {
    if (anchors_.size() < anchor) anchors_.resize(anchor);
    Anchor& a = anchors_[anchor - 1];
    a = Anchor{};
    a.name = std::move(pendingAnchorName_);
    pendingAnchorName_.clear();
    return a;
  }

  uint32_t nextSlot() const {
    if (frames_.empty()) return 0;
    return static_cast<uint32_t>(frames_.back().size());
  }

  void openFrame(const YAML::Mark& mark, YAML::anchor_t anchor, bool isMap) {
    at(mark);
    uint64_t before = decodes_;
    count(mark, 1);
    if (isKeyPosition()) fail("a mapping key must be a scalar", mark);
    if (static_cast<int>(frames_.size()) >= kYamlMaxDepth)
      refuse("yaml: exceeded max depth of " + std::to_string(kYamlMaxDepth), mark);
    Frame f;
    f.isMap = isMap;
    if (!isMap) f.value = Json::array();
    f.slot = nextSlot();
    f.anchor = anchor;
    f.decodesAtStart = before;
    if (!isMap && frames_.size() == 1 && frames_[0].isMap && frames_[0].key == "items") {
      f.isItems = true;
      itemsFrameOpen_ = true;
    }
    if (anchor != YAML::NullAnchor) newAnchor(anchor);
    frames_.push_back(std::move(f));
  }

  void closeFrame() {
    Frame& f = frames_.back();
    if (f.anchor != YAML::NullAnchor) {
      Anchor& a = anchors_[f.anchor - 1];
      a.pathNode = pathOf(frames_.size() - 1);
      a.size = decodes_ - f.decodesAtStart;
      a.complete = true;
    }
    if (f.isItems) {
      itemsFrameOpen_ = false;
      if (itemStart_ != kNone) itemClosePending_ = true;
    }
    Json v;
    if (f.isMap) {
      // Exactly sized, keys moved (a growing ordered_json object copies its const keys at each step).
      v = Json::object();
      auto& obj = static_cast<ObjectVector&>(v.get_ref<Json::object_t&>());
      obj.reserve(f.entries.size());
      for (auto& e : f.entries) obj.emplace_back(std::move(e.first), std::move(e.second));
    } else {
      v = std::move(f.value);
    }
    frames_.pop_back();
    insert(std::move(v), YAML::Mark::null_mark());
  }

  int pathOf(size_t frame) {
    if (frames_[frame].pathNode >= 0) return frames_[frame].pathNode;
    int parent = frame == 0 ? -1 : pathOf(frame - 1);
    paths_.push_back(PathNode{parent, frames_[frame].slot});
    frames_[frame].pathNode = static_cast<int>(paths_.size()) - 1;
    return frames_[frame].pathNode;
  }

  // The value an anchor names, found by its slots from the root: through the values still being built
  // (on the stack) as long as the path follows them, then inside finished values.
  const Json& resolve(int node) const {
    std::vector<uint32_t> slots;
    for (int n = node; n >= 0; n = paths_[n].parent) slots.push_back(paths_[n].slot);
    std::reverse(slots.begin(), slots.end());
    if (frames_.empty()) return root_;
    const Json* cur = nullptr;
    const Frame* frame = &frames_[0];
    for (size_t level = 1; level < slots.size(); ++level) {
      uint32_t slot = slots[level];
      if (frame) {
        if (level < frames_.size() && frames_[level].slot == slot) {
          frame = &frames_[level];
          continue;
        }
        cur = frame->isMap ? &frame->entries[slot].second : &frame->value[slot];
        frame = nullptr;
        continue;
      }
      if (cur->is_array()) {
        cur = &(*cur)[slot];
      } else {
        const auto& obj = cur->get_ref<const Json::object_t&>();
        cur = &(obj.begin() + slot)->second;
      }
    }
    return cur ? *cur : frame->value;  // (a path always ends in a finished value)
  }

  void setKey(std::string k, const YAML::Mark& mark) {
    Frame& f = frames_.back();
    bool dup = false;
    if (f.keys) {
      dup = !f.keys->insert(k) && f.hasKey(k);  // a hash seen before: look for the key itself
    } else {
      dup = f.hasKey(k);
      if (!dup && f.entries.size() >= 16) {
        f.keys = std::make_unique<KeyHashes>();
        for (const auto& e : f.entries) f.keys->insert(e.first);
        f.keys->insert(k);
      }
    }
    if (dup) fail("mapping key \"" + k + "\" already defined", mark);
    f.key = std::move(k);
    f.keyMark = mark;
    f.expectKey = false;
  }

  void insert(Json v, const YAML::Mark&) {
    if (frames_.empty()) {
      root_ = std::move(v);
      return;
    }
    Frame& f = frames_.back();
    if (f.isMap) {
      f.entries.emplace_back(std::move(f.key), std::move(v));
      f.key.clear();
      f.expectKey = true;
    } else {
      f.value.push_back(std::move(v));
    }
  }

  const std::string& source_;
  std::string_view text_;
  const YamlLimits& limits_;
  YamlBudget& stream_;
  int index_ = -1;
  size_t docStart_ = 0;
  std::vector<Frame> frames_;
  std::vector<Anchor> anchors_;
  std::vector<PathNode> paths_;
  std::string pendingAnchorName_;
  uint64_t decodes_ = 0, aliases_ = 0;
  size_t itemsBytes_ = 0, itemStart_ = kNone;
  bool itemsFrameOpen_ = false, itemClosePending_ = false;
  int itemIndex_ = -1;
  Json root_;
  int line_ = 0;
  bool haveRoot_ = false;
};

// A streambuf over the caller's bytes (no copy of the input).
class ViewBuf : public std::streambuf {
 public:
  explicit ViewBuf(std::string_view s) {
    char* p = const_cast<char*>(s.data());
    setg(p, p, p + s.size());
  }
};

// An estimate of how deeply a stream nests (flow brackets, block indentation and "- " indicators): the
// 0-based line where it first passes `limit`, or -1. yaml-cpp parses no deeper than 499 levels, but it
// scans the whole of a deep document into tokens before it says so (28 MB for 100,000 brackets): this
// pass refuses such a document first, without allocating. Block scalars and quoted strings are skipped;
// plain text with brackets could only raise the estimate, and would need 10,000 of them on one path.
int lineOverNestingLimit(std::string_view s, int limit) {
  int best = 0, flow = 0, lineNo = -1;
  std::vector<size_t> indents;
  size_t i = 0, n = s.size();
  size_t blockScalarIndent = kNoIndent;
  while (i < n) {
    size_t lineEnd = s.find('\n', i);
    if (lineEnd == std::string_view::npos) lineEnd = n;
    std::string_view line = s.substr(i, lineEnd - i);
    i = lineEnd + 1;
    ++lineNo;
    if (best > limit) break;
    size_t col = line.find_first_not_of(' ');
    if (col == std::string_view::npos || line[col] == '#') continue;
    if (blockScalarIndent != kNoIndent) {
      if (col > blockScalarIndent) continue;
      blockScalarIndent = kNoIndent;
    }
    int block = 0;
    if (flow == 0) {
      while (!indents.empty() && indents.back() >= col) indents.pop_back();
      indents.push_back(col);
      block = static_cast<int>(indents.size());
    }
    char quote = 0;
    bool nodeStart = true;
    for (size_t k = col; k < line.size(); ++k) {
      char c = line[k];
      if (quote) {
        if (c == '\\' && quote == '"') ++k;
        else if (c == quote) quote = 0;
        continue;
      }
      if (c == '#' && (k == 0 || line[k - 1] == ' ')) break;
      if (c == '"' || c == '\'') {
        if (nodeStart || flow > 0) quote = c;
        nodeStart = false;
        continue;
      }
      if ((c == '-' || c == '?') && flow == 0 && nodeStart && (k + 1 == line.size() || line[k + 1] == ' ')) {
        ++block;
        continue;
      }
      if ((c == '[' || c == '{') && (nodeStart || flow > 0)) {
        ++flow;
        best = std::max(best, block + flow);
        if (best > limit) return lineNo;
        nodeStart = true;
        continue;
      }
      if ((c == ']' || c == '}') && flow > 0) {
        --flow;
        continue;
      }
      if (c == ',' && flow > 0) {
        nodeStart = true;
        continue;
      }
      if (c == ':' && (k + 1 == line.size() || line[k + 1] == ' ')) {
        ++block;
        nodeStart = true;
        continue;
      }
      if ((c == '|' || c == '>') && nodeStart && flow == 0) {
        blockScalarIndent = col;
        break;
      }
      if (c != ' ') nodeStart = false;
    }
    best = std::max(best, block + flow);
    if (best > limit) return lineNo;
  }
  return -1;
}

// The index of the document that holds `line` (0-based): "---" separators before it, after content.
int documentAtLine(std::string_view text, int line) {
  int doc = 0;
  if (line < 0) return 0;
  std::istringstream in{std::string(text)};
  std::string l;
  int lineNo = 0;
  bool content = false;
  while (std::getline(in, l) && lineNo < line) {
    if (l.rfind("---", 0) == 0 && (l.size() == 3 || l[3] == ' ' || l[3] == '\t')) {
      if (content) ++doc;
      content = true;
    } else if (!l.empty() && l[0] != '#') {
      content = true;
    }
    ++lineNo;
  }
  return doc;
}

}  // namespace

bool yamlExcessiveAliasing(uint64_t decodes, uint64_t aliases) {
  // gopkg.in/yaml.v2 and v3 decode.go: allowedAliasRatio and the check in decoder.unmarshal.
  constexpr double kLow = 400000, kHigh = 4000000;
  if (aliases <= 100 || decodes <= 1000) return false;
  double d = static_cast<double>(decodes);
  double allowed = d <= kLow ? 0.99 : d >= kHigh ? 0.10 : 0.99 - 0.89 * ((d - kLow) / (kHigh - kLow));
  return static_cast<double>(aliases) / d > allowed;
}

std::vector<YamlDocument> parseYamlStream(std::string_view text, const std::string& source, const YamlLimits& limits,
                                          YamlBudget* budget) {
  if (text.size() > limits.maxStreamBytes)
    throw YamlLimitError("the input is " + mib(text.size()) + ", more than " + mib(limits.maxStreamBytes) + " (" +
                             std::to_string(limits.maxStreamBytes) + " bytes), the most one stream may have",
                         source);
  int deepLine = lineOverNestingLimit(text, kYamlMaxDepth);
  if (deepLine >= 0)
    throw YamlLimitError("yaml: exceeded max depth of " + std::to_string(kYamlMaxDepth),
                         source + " (document " + std::to_string(documentAtLine(text, deepLine)) + ")");
  YamlBudget local;
  Builder b(source, text, limits, budget ? *budget : local);
  try {
    ViewBuf buf(text);
    std::istream in(&buf);
    YAML::Parser parser(in);
    while (parser.HandleNextDocument(b)) {
    }
    b.finish();
  } catch (const YAML::DeepRecursion& e) {
    int doc = b.index();
    throw YamlLimitError("yaml: exceeded max depth of " + std::to_string(kYamlLibraryMaxDepth) +
                             " (the YAML library's limit; kubectl's is " + std::to_string(kYamlMaxDepth) + ")",
                         where(source, doc, e.mark));
  } catch (const YAML::Exception& e) {
    // The failing document is the one holding the mark: count "---" separators before that line.
    throw Error(e.msg, where(source, documentAtLine(text, e.mark.line), e.mark),
                "check the YAML syntax (indentation, quotes, colons)");
  }
  return std::move(b.docs);
}

Json parseYaml(std::string_view text, const std::string& source, const YamlLimits& limits, YamlBudget* budget) {
  auto docs = parseYamlStream(text, source, limits, budget);
  YamlDocument* found = nullptr;
  size_t nonEmpty = 0;
  for (auto& d : docs)
    if (!d.value.is_null()) {
      if (!found) found = &d;
      ++nonEmpty;
    }
  if (!found) return nullptr;
  if (nonEmpty > 1) throw Error("expected one YAML document, found " + std::to_string(nonEmpty), source);
  return std::move(found->value);
}

std::vector<YamlDocument> flattenLists(const std::vector<YamlDocument>& docs) {
  std::vector<YamlDocument> copy = docs;
  return flattenLists(std::move(copy));
}

std::vector<YamlDocument> flattenLists(std::vector<YamlDocument>&& docs) {
  std::vector<YamlDocument> out;
  for (auto& d : docs) {
    if (d.value.is_null()) continue;
    if (d.value.is_object() && d.value.contains("kind") && d.value["kind"].is_string() &&
        d.value.contains("items")) {
      const std::string kind = d.value["kind"].get<std::string>();
      if (kind.size() >= 4 && kind.compare(kind.size() - 4, 4, "List") == 0) {
        if (!d.value["items"].is_array() && !d.value["items"].is_null())
          throw Error("items of a " + kind + " must be a list", d.source + " (document " + std::to_string(d.index) + ")");
        if (d.value["items"].is_array()) {
          for (auto& item : d.value["items"]) {
            YamlDocument sub;  // not a copy of the whole List per item
            sub.value = std::move(item);
            sub.source = d.source;
            sub.index = d.index;
            sub.line = d.line;
            out.push_back(std::move(sub));
          }
        }
        continue;
      }
    }
    if (!d.value.is_object())
      throw Error("expected an object (a mapping with apiVersion and kind), got " + std::string(d.value.type_name()),
                  d.source + " (document " + std::to_string(d.index) + ")");
    out.push_back(std::move(d));
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
