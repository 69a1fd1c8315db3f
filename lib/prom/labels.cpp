#include "lib/prom/labels.h"

#include <algorithm>
#include <atomic>
#include <deque>
#include <mutex>
#include <shared_mutex>
#include <unordered_map>

#include "lib/core/error.h"

namespace otel::prom {

namespace {
auto lowerBound(const std::vector<Label>& v, std::string_view name) {
  return std::lower_bound(v.begin(), v.end(), name,
                          [](const Label& l, std::string_view n) { return std::string_view(l.name) < n; });
}
auto lowerBound(std::vector<Label>& v, std::string_view name) {
  return std::lower_bound(v.begin(), v.end(), name,
                          [](const Label& l, std::string_view n) { return std::string_view(l.name) < n; });
}

std::string scalarText(const Json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_null()) return "";
  if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
  return v.dump();
}
}  // namespace

Labels Labels::fromPairs(std::vector<Label> pairs) {
  Labels out;
  std::stable_sort(pairs.begin(), pairs.end(), [](const Label& a, const Label& b) { return a.name < b.name; });
  out.items_.reserve(pairs.size());
  for (auto& p : pairs) {
    if (!out.items_.empty() && out.items_.back().name == p.name && p.value.empty()) {
      out.items_.pop_back();  // an empty value deletes (as Builder.Set)
      continue;
    }
    if (p.value.empty()) continue;
    if (!out.items_.empty() && out.items_.back().name == p.name) {
      out.items_.back().value = std::move(p.value);
    } else {
      out.items_.push_back(std::move(p));
    }
  }
  return out;
}

Labels Labels::fromJson(const Json& object) {
  std::vector<Label> pairs;
  if (object.is_object()) {
    pairs.reserve(object.size());
    for (auto it = object.begin(); it != object.end(); ++it) pairs.push_back({it.key(), scalarText(it.value())});
  }
  return fromPairs(std::move(pairs));
}

std::string_view Labels::get(std::string_view name) const {
  auto it = lowerBound(items_, name);
  if (it != items_.end() && it->name == name) return it->value;
  return {};
}

bool Labels::has(std::string_view name) const {
  auto it = lowerBound(items_, name);
  return it != items_.end() && it->name == name;
}

void Labels::set(std::string_view name, std::string_view value) {
  if (value.empty()) {
    del(name);
    return;
  }
  auto it = lowerBound(items_, name);
  if (it != items_.end() && it->name == name) {
    it->value.assign(value);
  } else {
    items_.insert(it, Label{std::string(name), std::string(value)});
  }
}

void Labels::del(std::string_view name) {
  auto it = lowerBound(items_, name);
  if (it != items_.end() && it->name == name) items_.erase(it);
}

void Labels::assignSorted(const std::vector<const Label*>& sorted) {
  items_.resize(sorted.size());
  for (std::size_t i = 0; i < sorted.size(); ++i) {
    items_[i].name.assign(sorted[i]->name);
    items_[i].value.assign(sorted[i]->value);
  }
}

Json Labels::toJson() const {
  Json j = Json::object();
  for (const auto& l : items_) j[l.name] = l.value;
  return j;
}

std::size_t Labels::heapBytes() const {
  std::size_t n = items_.capacity() * sizeof(Label);
  for (const auto& l : items_) {
    if (l.name.capacity() > 15) n += l.name.capacity() + 1;
    if (l.value.capacity() > 15) n += l.value.capacity() + 1;
  }
  return n;
}

Labels mergeLabels(const Labels& base, const Labels& over) {
  std::vector<Label> out;
  out.reserve(base.size() + over.size());
  auto b = base.begin(), o = over.begin();
  while (b != base.end() && o != over.end()) {
    if (b->name < o->name) {
      out.push_back(*b++);
    } else if (o->name < b->name) {
      out.push_back(*o++);
    } else {
      out.push_back(*o++);
      ++b;
    }
  }
  out.insert(out.end(), b, base.end());
  out.insert(out.end(), o, over.end());
  return Labels::fromPairs(std::move(out));
}

PackedLabels::PackedLabels(const Labels& labels) { *this = merge(labels, Labels{}, [](std::string_view) { return false; }); }

PackedLabels::PackedLabels(const PackedLabels& o) {
  if (o.data_) {
    allocate(o.bytes_);
    __builtin_memcpy(data_.get(), o.data_.get(), o.bytes_);
  }
}

PackedLabels& PackedLabels::operator=(const PackedLabels& o) {
  if (this != &o) {
    PackedLabels copy(o);
    *this = std::move(copy);
  }
  return *this;
}

void PackedLabels::allocate(std::size_t bytes) {
  data_ = std::make_unique_for_overwrite<char[]>(bytes);
  bytes_ = static_cast<std::uint32_t>(bytes);
}

namespace {
// The interned label names: ids are indexes; a name's storage never moves, so readers need no lock (an
// id reaches another thread only inside a PackedLabels, handed over under that thread's own
// synchronization after internName returned).
class NameTable {
 public:
  std::uint32_t intern(std::string_view name) {
    {
      std::shared_lock lock(mu_);
      if (auto it = ids_.find(name); it != ids_.end()) return it->second;
    }
    std::unique_lock lock(mu_);
    if (auto it = ids_.find(name); it != ids_.end()) return it->second;
    const std::uint32_t id = next_;
    if (id / kChunk >= kChunks) throw Error("more than " + std::to_string(kChunk * kChunks) + " distinct label names");
    auto& chunk = chunks_[id / kChunk];
    std::string_view* c = chunk.load(std::memory_order_relaxed);
    if (!c) {
      c = new std::string_view[kChunk];
      chunk.store(c, std::memory_order_release);
    }
    const std::string& stored = storage_.emplace_back(name);
    c[id % kChunk] = stored;
    ids_.emplace(stored, id);
    ++next_;
    return id;
  }
  std::string_view name(std::uint32_t id) const { return chunks_[id / kChunk].load(std::memory_order_acquire)[id % kChunk]; }

 private:
  static constexpr std::size_t kChunk = 4096, kChunks = 4096;
  std::atomic<std::string_view*> chunks_[kChunks] = {};
  std::deque<std::string> storage_;
  std::unordered_map<std::string_view, std::uint32_t> ids_;
  std::shared_mutex mu_;
  std::uint32_t next_ = 0;
};

NameTable& names() {
  static NameTable* t = new NameTable;  // never destroyed: ids live in objects destroyed at exit
  return *t;
}
}  // namespace

std::uint32_t PackedLabels::internName(std::string_view name) {
  // A per-thread cache in front of the shared table: building targets interns the same names over and over.
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  thread_local std::unordered_map<std::string, std::uint32_t, Hash, std::equal_to<>> cache;
  if (auto it = cache.find(name); it != cache.end()) return it->second;
  const std::uint32_t id = names().intern(name);
  if (cache.size() < 65536) cache.emplace(std::string(name), id);
  return id;
}

std::string_view PackedLabels::labelName(std::uint32_t id) { return names().name(id); }

void PackedLabels::appendEntry(std::string& out, std::string_view name, std::string_view value) {
  char head[8];
  writeU32(head, internName(name));
  writeU32(head + 4, static_cast<std::uint32_t>(value.size()));
  out.append(head, 8);
  out.append(value);
}

PackedLabels PackedLabels::assemble(std::string_view before, std::uint32_t nBefore, std::string_view name,
                                    std::string_view value, std::string_view after, std::uint32_t nAfter) {
  PackedLabels out;
  out.allocate(4 + before.size() + 8 + value.size() + after.size());
  char* p = out.data_.get();
  writeU32(p, nBefore + 1 + nAfter);
  p += 4;
  if (!before.empty()) __builtin_memcpy(p, before.data(), before.size());
  p += before.size();
  writeU32(p, internName(name));
  writeU32(p + 4, static_cast<std::uint32_t>(value.size()));
  if (!value.empty()) __builtin_memcpy(p + 8, value.data(), value.size());
  p += 8 + value.size();
  if (!after.empty()) __builtin_memcpy(p, after.data(), after.size());
  return out;
}

std::string_view PackedLabels::get(std::string_view name) const {
  std::string_view found;
  bool done = false;
  forEach([&](std::string_view n, std::string_view v) {
    if (!done && n == name) {
      found = v;
      done = true;
    }
  });
  return found;
}

bool PackedLabels::has(std::string_view name) const {
  bool found = false;
  forEach([&](std::string_view n, std::string_view) { found = found || n == name; });
  return found;
}

std::size_t PackedLabels::size() const { return data_ ? readU32(data_.get()) : 0; }

Labels PackedLabels::unpack() const {
  std::vector<Label> v;
  v.reserve(size());
  forEach([&](std::string_view n, std::string_view val) { v.push_back({std::string(n), std::string(val)}); });
  return Labels::fromPairs(std::move(v));
}

Json PackedLabels::toJson() const {
  Json j = Json::object();
  forEach([&](std::string_view n, std::string_view v) { j[std::string(n)] = std::string(v); });
  return j;
}

bool PackedLabels::operator==(const PackedLabels& o) const {
  if (bytes_ != o.bytes_) return false;
  return bytes_ == 0 || __builtin_memcmp(data_.get(), o.data_.get(), bytes_) == 0;
}

bool isValidUtf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    int n;
    std::uint32_t cp;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      n = 1;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      n = 2;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      n = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + n >= s.size()) return false;
    for (int k = 1; k <= n; ++k) {
      unsigned char cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10FFFF ||
        (cp >= 0xD800 && cp <= 0xDFFF))
      return false;
    i += n + 1;
  }
  return true;
}

bool isValidLabelName(std::string_view name, NameValidation scheme) {
  if (name.empty()) return false;
  if (scheme == NameValidation::Utf8) return isValidUtf8(name);
  for (std::size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

}  // namespace otel::prom
