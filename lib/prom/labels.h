// Prometheus label sets: a sorted vector of (name, value) pairs with unique names, the hot-path
// representation used by relabeling, target identity and allocation (no maps, no per-label nodes).
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "lib/core/json.h"

namespace otel::prom {

struct Label {
  std::string name;
  std::string value;
  bool operator==(const Label&) const = default;
};

// Label names Prometheus sets on every target before relabeling.
inline constexpr std::string_view kAddressLabel = "__address__";
inline constexpr std::string_view kJobLabel = "job";
inline constexpr std::string_view kInstanceLabel = "instance";
inline constexpr std::string_view kSchemeLabel = "__scheme__";
inline constexpr std::string_view kMetricsPathLabel = "__metrics_path__";
inline constexpr std::string_view kScrapeIntervalLabel = "__scrape_interval__";
inline constexpr std::string_view kScrapeTimeoutLabel = "__scrape_timeout__";
inline constexpr std::string_view kParamLabelPrefix = "__param_";
inline constexpr std::string_view kMetaLabelPrefix = "__meta_";

class Labels {
 public:
  Labels() = default;
  // Sorts by name; for duplicate names the LAST occurrence wins (map overlay semantics); empty values
  // mean "absent" as in Prometheus.
  static Labels fromPairs(std::vector<Label> pairs);
  // From a JSON object of string values (non-string scalars are written as text).
  static Labels fromJson(const Json& object);

  // Value of `name`, or "" when absent (Prometheus' Get).
  std::string_view get(std::string_view name) const;
  bool has(std::string_view name) const;
  // Sets name=value; an empty value deletes the label (Prometheus' Builder.Set).
  void set(std::string_view name, std::string_view value);
  void del(std::string_view name);
  // Removes every label for which pred(label) is true.
  template <class Pred>
  void eraseIf(Pred pred) {
    std::erase_if(items_, pred);
  }

  std::size_t size() const { return items_.size(); }
  bool empty() const { return items_.empty(); }
  const std::vector<Label>& items() const { return items_; }
  auto begin() const { return items_.begin(); }
  auto end() const { return items_.end(); }
  void reserve(std::size_t n) { items_.reserve(n); }
  // Replaces the content with `sorted` (sorted, unique names, non-empty values), reusing the existing
  // strings' capacity: the allocation-free path for per-target scratch sets.
  void assignSorted(const std::vector<const Label*>& sorted);
  bool operator==(const Labels&) const = default;

  // {"name": "value", ...} in name order.
  Json toJson() const;
  // Bytes held on the heap by this set (for memory accounting in benchmarks and metrics).
  std::size_t heapBytes() const;

 private:
  std::vector<Label> items_;
};

// Overlays `over` on `base` (both sorted): the target labels win over the group labels.
Labels mergeLabels(const Labels& base, const Labels& over);

// An immutable label set in one heap block (lengths + bytes): what the allocator keeps per target,
// about a third of a Labels' footprint. Lookups scan linearly (label sets are small).
class PackedLabels {
 public:
  PackedLabels() = default;
  explicit PackedLabels(const Labels& labels);
  PackedLabels(const PackedLabels& o);
  PackedLabels& operator=(const PackedLabels& o);
  PackedLabels(PackedLabels&&) noexcept = default;
  PackedLabels& operator=(PackedLabels&&) noexcept = default;

  // Packs the sorted union of `base` and `over` (over wins), skipping names for which skip(name) is true.
  template <class Skip>
  static PackedLabels merge(const Labels& base, const Labels& over, Skip skip);

  std::string_view get(std::string_view name) const;
  bool has(std::string_view name) const;
  std::size_t size() const;
  bool empty() const { return size() == 0; }
  // fn(name, value) in name order.
  template <class Fn>
  void forEach(Fn fn) const {
    if (!data_) return;
    const char* p = data_.get() + 4;
    for (std::uint32_t i = 0, n = readU32(data_.get()); i < n; ++i) {
      std::uint32_t id = readU32(p), vl = readU32(p + 4);
      fn(labelName(id), std::string_view(p + 8, vl));
      p += 8 + vl;
    }
  }
  // Label names are interned process-wide (a set holds 4-byte ids, not the names: the same few hundred
  // names recur in every target): the id of `name`, made on first use; the name of an id.
  static std::uint32_t internName(std::string_view name);
  static std::string_view labelName(std::uint32_t id);
  // Appends one encoded entry (as stored inside a PackedLabels) to `out`: the building block of
  // assemble(), for callers that precompute the entries shared by many label sets.
  static void appendEntry(std::string& out, std::string_view name, std::string_view value);
  // A set from pre-encoded, sorted entries: `before` (nBefore entries), then name=value, then `after`
  // (nAfter entries); names must be sorted and unique across the three parts. One allocation.
  static PackedLabels assemble(std::string_view before, std::uint32_t nBefore, std::string_view name,
                               std::string_view value, std::string_view after, std::uint32_t nAfter);
  Labels unpack() const;
  Json toJson() const;
  std::size_t heapBytes() const { return bytes_; }
  bool operator==(const PackedLabels& o) const;

 private:
  static std::uint32_t readU32(const char* p) {
    std::uint32_t v;
    __builtin_memcpy(&v, p, 4);
    return v;
  }
  static void writeU32(char* p, std::uint32_t v) { __builtin_memcpy(p, &v, 4); }
  void allocate(std::size_t bytes);

  std::unique_ptr<char[]> data_;
  std::uint32_t bytes_ = 0;
};

template <class Skip>
PackedLabels PackedLabels::merge(const Labels& base, const Labels& over, Skip skip) {
  // Two passes over the sorted merge: size, then fill.
  auto walk = [&](auto emit) {
    auto b = base.begin(), o = over.begin();
    while (b != base.end() || o != over.end()) {
      const Label* l;
      if (o == over.end() || (b != base.end() && b->name < o->name)) {
        l = &*b++;
      } else {
        if (b != base.end() && b->name == o->name) ++b;
        l = &*o++;
      }
      if (l->value.empty() || skip(std::string_view(l->name))) continue;
      emit(*l);
    }
  };
  std::size_t bytes = 4, n = 0;
  walk([&](const Label& l) {
    bytes += 8 + l.value.size();
    ++n;
  });
  PackedLabels out;
  if (n == 0) return out;
  out.allocate(bytes);
  char* p = out.data_.get();
  writeU32(p, static_cast<std::uint32_t>(n));
  p += 4;
  walk([&](const Label& l) {
    writeU32(p, internName(l.name));
    writeU32(p + 4, static_cast<std::uint32_t>(l.value.size()));
    __builtin_memcpy(p + 8, l.value.data(), l.value.size());
    p += 8 + l.value.size();
  });
  return out;
}

// Prometheus label name rules: UTF-8 (Prometheus 3 default: non-empty valid UTF-8) or legacy
// ([a-zA-Z_][a-zA-Z0-9_]*), chosen per scrape config by `metric_name_validation_scheme`.
enum class NameValidation { Utf8, Legacy };
bool isValidLabelName(std::string_view name, NameValidation scheme);
bool isValidUtf8(std::string_view s);

}  // namespace otel::prom
