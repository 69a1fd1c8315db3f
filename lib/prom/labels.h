// Prometheus label sets: a sorted vector of (name, value) pairs with unique names, the hot-path
// representation used by relabeling, target identity and allocation (no maps, no per-label nodes).
#pragma once
#include <cstdint>
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

// Prometheus label name rules: UTF-8 (Prometheus 3 default: non-empty valid UTF-8) or legacy
// ([a-zA-Z_][a-zA-Z0-9_]*), chosen per scrape config by `metric_name_validation_scheme`.
enum class NameValidation { Utf8, Legacy };
bool isValidLabelName(std::string_view name, NameValidation scheme);
bool isValidUtf8(std::string_view s);

}  // namespace otel::prom
