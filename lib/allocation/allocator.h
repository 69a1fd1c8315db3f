// The allocation engine: which collector scrapes which target. Pure and incremental: targets and
// collectors are diffed, and only what the strategy must move moves. Strategies: consistent-hashing
// (upstream-identical), least-weighted, per-node (+ fallback) and our rendezvous (HRW, bounded load).
#pragma once
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "lib/allocation/consistent_ring.h"
#include "lib/allocation/flat_index.h"
#include "lib/prom/target.h"

namespace otel::allocation {

enum class Strategy { ConsistentHashing, LeastWeighted, PerNode, Rendezvous };

// "consistent-hashing", "least-weighted", "per-node", "rendezvous" (nullopt for anything else).
std::optional<Strategy> parseStrategy(std::string_view name);
std::string_view strategyName(Strategy s);
const std::vector<Strategy>& allStrategies();

struct Collector {
  std::string name;  // pod name
  std::string node;  // spec.nodeName (per-node)
};

// Upstream GetNodeName: first of the pod/node/endpoint node-name meta labels, else the endpointslice
// target name when its kind is Node; "" when none.
std::string_view targetNodeName(const prom::PackedLabels& labels);

class Allocator {
 public:
  // `fallback` handles node-less targets for per-node (upstream: alpha gate).
  explicit Allocator(Strategy strategy, std::optional<Strategy> fallback = std::nullopt);

  Strategy strategy() const { return strategy_; }

  // Replaces the collector set (diffed by name): targets of removed collectors are re-placed, and the
  // strategy decides what else moves.
  void setCollectors(std::vector<Collector> collectors);
  // Replaces the target set (diffed by hash): removed targets go away, new targets are assigned,
  // unchanged targets keep their collector (labels refreshed).
  void setTargets(std::vector<prom::Target> targets);
  // One-target updates. addTarget with a known hash refreshes the labels and keeps the collector.
  void addTarget(prom::Target target);
  bool removeTarget(std::uint64_t hash);

  // Collectors sorted by name; indices below refer to this order.
  const std::vector<Collector>& collectors() const { return collectors_; }
  int collectorIndex(std::string_view name) const;
  std::size_t targetCount() const { return byHash_.size(); }
  std::size_t unassignedCount() const { return unassigned_; }
  std::size_t load(int collector) const { return cols_[collector].members.size(); }
  std::vector<std::size_t> loads() const;
  // Collector index of a target (-1 unassigned or unknown).
  int collectorOf(std::uint64_t hash) const;
  const prom::Target* find(std::uint64_t hash) const;
  // Targets of one collector (in no particular order).
  std::vector<const prom::Target*> targetsOf(int collector) const;
  // Every target with its collector index (-1 when unassigned).
  void forEach(const std::function<void(const prom::Target&, int)>& fn) const;
  // Approximate heap bytes held (targets, labels, indexes).
  std::size_t memoryBytes() const;

 private:
  struct Slot {
    prom::Target target;
    std::int32_t collector = -1;
    std::uint32_t pos = 0;  // index in cols_[collector].members
    bool live = false;
  };
  struct CollectorState {
    std::uint64_t seed = 0;  // rendezvous seed: xxhash64(name)
    std::vector<std::uint32_t> members;
    std::vector<std::uint32_t> jobCounts;  // targets per job index (least-weighted tie-break)
  };

  // Rendezvous candidate lists: 2^kBucketBits buckets (by the target hash's high bits), each with the
  // kCandidates collectors that score highest for the bucket. Least-weighted probes at most kCandidates
  // of the least-loaded collectors. Both keep one-target updates independent of the collector count.
  static constexpr int kBucketBits = 12;
  static constexpr std::size_t kCandidates = 16;

  // Load-tree keys: (load, index) packed so that the smallest key is the least loaded collector with the
  // smallest name, and the largest max-key the most loaded one with the smallest name.
  static constexpr std::uint64_t kNoMin = ~std::uint64_t{0}, kNoMax = 0;
  static std::uint64_t minKey(std::size_t load, std::size_t c) { return (std::uint64_t{load} << 32) | c; }
  static std::uint64_t maxKey(std::size_t load, std::size_t c) {
    return (std::uint64_t{load} << 32) | (0xffffffffu - c);
  }
  void treeBuild();
  void treeUpdate(int c);
  int leastLoaded() const;  // -1 without collectors
  int mostLoaded() const;
  template <class Fn>
  void forLeastLoaded(std::size_t limit, Fn fn) const;
  void buildCandidates();
  // Candidate collectors of a target hash (all collectors when there are at most kCandidates).
  const std::int32_t* candidates(std::uint64_t hash, std::size_t& count) const;
  std::uint32_t insertSlot(prom::Target&& t);
  std::uint32_t insertSlot(prom::Target&& t, std::uint32_t idx);
  void assign(std::uint32_t slot, int collector);
  int pick(std::uint32_t slot, Strategy s, std::size_t total);
  int pickLeastWeighted(const prom::Target& t) const;
  int pickRendezvous(const prom::Target& t, std::size_t cap) const;
  std::size_t rendezvousCap(std::size_t total, double factor) const;
  void placeUnassigned(std::size_t total);
  void rendezvousJoin(int newcomer);
  void rendezvousRebalanceAfterRemoval(int lost);

  Strategy strategy_;
  std::optional<Strategy> fallback_;
  std::vector<Collector> collectors_;
  std::vector<CollectorState> cols_;
  std::unordered_map<std::string, int> byName_;
  std::unordered_map<std::string, int> byNode_;
  ConsistentRing ring_;
  std::vector<Slot> slots_;
  std::vector<std::uint32_t> free_;
  FlatIndex byHash_;
  std::size_t unassigned_ = 0;
  bool countJobs_ = false;  // per-job counts are kept only for least-weighted
  bool trackLoads_ = false;  // load tree kept for least-weighted and rendezvous
  bool useCandidates_ = false;  // candidate lists kept for rendezvous
  // Tournament trees over the collectors (leaf treeLeaves_ + c): each node holds the smallest minKey /
  // largest maxKey below it, so the root names the least / most loaded collector.
  std::size_t treeLeaves_ = 0;
  std::vector<std::uint64_t> minTree_, maxTree_;
  std::vector<std::int32_t> cand_;  // bucket-major, kCandidates per bucket (empty: every collector)
  std::vector<std::int32_t> all_;   // 0..n-1
};

// Rendezvous score of a target for a collector (64-bit mix of the two hashes; highest wins).
std::uint64_t rendezvousScore(std::uint64_t targetHash, std::uint64_t collectorSeed);

}  // namespace otel::allocation
