// Scrape targets as the target allocator sees them: group+target label merge, Prometheus' seeded
// labels, the job's relabel_configs as a filter (upstream's `relabel-config` filter strategy),
// the target identity hash, and the labels served to collectors. Pure except loadFileSd().
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "lib/prom/labels.h"
#include "lib/prom/scrape_config.h"

namespace otel::prom {

struct Target {
  std::uint64_t hash = 0;  // identity: xxhash64 of the relabeled labels without __meta_*, and the job
  std::uint32_t job = 0;   // index of the job in the config it came from
  std::uint64_t addressHash = 0;  // xxhash64(__address__), the consistent-hashing key (0: not computed)
  PackedLabels labels;     // served labels: discovered labels minus job/__scheme__/__metrics_path__/interval/timeout
  // TargetURL: the discovered __address__ (the consistent-hashing key).
  std::string_view address() const { return labels.get(kAddressLabel); }
};

// A discovered target the job's relabeling did not keep: its discovered __address__, the index of the
// relabel rule that dropped it (kNoAddressLeft: every rule kept it but __address__ ended up empty, so
// Prometheus could not scrape it) and the values of that rule's source labels joined by its separator.
struct DroppedTarget {
  std::string address;
  std::uint32_t rule = 0;
  std::string values;
};
inline constexpr std::uint32_t kNoAddressLeft = 0xffffffffu;
// Why, in one line: "relabel_configs[1] keep [__meta_kubernetes_service_label_app] =~ \"web\": \"db\" does not match".
std::string dropReason(const ScrapeConfig& config, const DroppedTarget& d);

// Per-job processor: seeds, relabels and hashes discovered label sets. Keeps scratch buffers so a
// target costs no allocation beyond its packed labels: use one builder per thread.
class TargetBuilder {
 public:
  // relabelFilter=false is upstream's filter_strategy other than `relabel-config` (no filtering).
  TargetBuilder(const ScrapeConfig& config, std::uint32_t jobIndex, bool relabelFilter = true);

  // Prometheus' discovered labels: `merged` plus job, __scrape_interval__, __scrape_timeout__,
  // __metrics_path__, __scheme__ and __param_<k> where absent.
  Labels seeded(const Labels& merged) const;
  // The allocator's view: nullopt when relabeling drops the target.
  std::optional<Target> build(const Labels& merged) const { return build(merged, Labels{}); }
  // Same for a target group: `group` labels overlaid by the target's own labels (e.g. __address__).
  // `dropped` (optional): a target relabeling drops is appended there.
  std::optional<Target> build(const Labels& group, const Labels& target, std::vector<DroppedTarget>* dropped = nullptr) const;
  // Every target of one group (`group` labels, one target per address in `addresses`), appended to `out`
  // in order: exactly what build(group, {__address__: a}) gives for each address, but the work that is
  // the same for every target of the group is done once per group: merging and seeding, the identity-hash
  // and served-label prefixes, and the relabel rules before the first one that reads or may write
  // __address__ (a rule that drops there drops the whole group).
  void buildGroup(const Labels& group, const std::vector<std::string>& addresses, std::vector<Target>& out,
                  std::vector<DroppedTarget>* dropped = nullptr) const;
  // Every target of one discovered object (Kubernetes SD: prom::ObjectTargets): `group` labels shared by
  // all, `targets` each target's own (names disjoint from the group's, __address__ included), appended to
  // `out` in order: exactly what build(group, targets[i]) gives, but the relabel rules before the first one
  // that reads or may write a label some target has of its own run once per object (a rule that drops
  // there drops the whole object).
  void buildObject(const Labels& group, const std::vector<Labels>& targets, std::vector<Target>& out,
                   std::vector<DroppedTarget>* dropped = nullptr) const;
  // Prometheus' final scrape labels (promtool check service-discovery "labels"): relabeled, __meta_*
  // removed, instance defaulted to __address__; nullopt when dropped or without __address__.
  std::optional<Labels> finalLabels(const Labels& merged) const;

  const ScrapeConfig& config() const { return *config_; }

 private:
  // Records a drop in `dropped` (when given): `labels` as the rule saw them.
  void noteDrop(std::vector<DroppedTarget>* dropped, std::string_view address, std::uint32_t rule, const Labels& labels) const;
  const ScrapeConfig* config_;
  std::uint32_t job_;
  bool filter_;
  std::vector<Label> seeds_;  // sorted
  Label disableSharding_;
  // Per relabel rule, whether it involves __address__ (such a rule ends buildGroup's per-group prefix):
  // Always: reads it, or may write or delete it whatever the labels; ByNames: a labelmap that may write
  // it, decided per group from the group's label names; No: neither.
  enum class AddressUse : char { No, Always, ByNames };
  std::vector<AddressUse> touchesAddress_;
  // Scratch (reused across targets; the builder is not thread-safe).
  mutable Labels work_, snapshot_, own_;
  mutable std::string servedBefore_, servedAfter_, hashBefore_, hashAfter_;
  mutable std::vector<const Label*> merged_;
  mutable RelabelScratch scratch_;
  mutable std::string hashBuf_;
  mutable std::vector<std::string_view> ownNames_;
};

// Identity hash of a relabeled label set for a job (labels named __meta_* are skipped).
std::uint64_t targetHash(const Labels& relabeled, std::string_view job);
std::uint64_t targetHash(const Labels& relabeled, std::string_view job, std::string& buffer);

// Expands static_configs (and `fileGroups`, already read) of one job into merged label sets
// (group labels overlaid by __address__), in config order.
std::vector<Labels> discoveredLabelSets(const ScrapeConfig& config, const std::vector<TargetGroup>& fileGroups = {});

// Reads the file_sd_configs files of a job (globs in the last path element; paths relative to
// `baseDir`); each group gets __meta_filepath. Throws otel::Error naming the file.
std::vector<TargetGroup> loadFileSd(const ScrapeConfig& config, const std::string& baseDir);

// Every kept target of every job of `config` (static + file SD), deduplicated by identity (last wins).
// `extra`: more groups per job index (Kubernetes SD), after the static and file ones.
std::vector<Target> buildTargets(const PromConfig& config, const std::string& baseDir = ".", bool relabelFilter = true,
                                 const std::vector<std::vector<TargetGroup>>* extra = nullptr);

}  // namespace otel::prom
