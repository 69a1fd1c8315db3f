// Prometheus relabel_configs: parsing with Prometheus' defaults and validation messages, and
// evaluation with Prometheus' exact semantics (model/relabel). Pure: no I/O.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "lib/core/json.h"
#include "lib/prom/labels.h"
#include "lib/prom/regex.h"

namespace otel::prom {

enum class RelabelAction {
  Replace,
  Keep,
  Drop,
  KeepEqual,
  DropEqual,
  HashMod,
  LabelMap,
  LabelDrop,
  LabelKeep,
  Lowercase,
  Uppercase
};

std::string_view actionName(RelabelAction a);

struct RelabelConfig {
  std::vector<std::string> sourceLabels;
  bool sourceLabelsSet = false;  // `source_labels` present in the config
  std::string separator = ";";
  Regex regex;                   // default "(.*)"
  std::uint64_t modulus = 0;
  std::string targetLabel;
  std::string replacement = "$1";
  RelabelAction action = RelabelAction::Replace;

  // The rule as Prometheus marshals it (regex unanchored; keepequal/dropequal without regex).
  Json toJson() const;
};

// Parses one rule. Throws otel::Error(what) with Prometheus' message (the caller adds file/job/rule).
RelabelConfig parseRelabelConfig(const Json& rule, NameValidation scheme = NameValidation::Utf8);

// Parses a list; errors name `where` and the rule index: "<where>: relabel_configs[2]: <message>".
std::vector<RelabelConfig> parseRelabelConfigs(const Json& rules, const std::string& where,
                                               NameValidation scheme = NameValidation::Utf8,
                                               const std::string& key = "relabel_configs");

// Reusable buffers for relabeling many targets without allocating per rule.
struct RelabelScratch {
  std::string val, target, res;
  std::vector<std::string_view> groups;
  std::vector<Label> snapshot;
};

// Applies one rule; false when the target is dropped.
bool relabelOne(const RelabelConfig& rule, Labels& labels, NameValidation scheme = NameValidation::Utf8);
bool relabelOne(const RelabelConfig& rule, Labels& labels, NameValidation scheme, RelabelScratch& scratch);
bool relabel(const std::vector<RelabelConfig>& rules, Labels& labels, NameValidation scheme, RelabelScratch& scratch);

// Applies every rule in order; false when the target is dropped (labels are then unspecified).
bool relabel(const std::vector<RelabelConfig>& rules, Labels& labels, NameValidation scheme = NameValidation::Utf8);

// Prometheus' hashmod value: big-endian uint64 of the last 8 bytes of md5(value), modulo `modulus`.
std::uint64_t hashMod(std::string_view value, std::uint64_t modulus);

}  // namespace otel::prom
