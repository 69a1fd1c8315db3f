// The allocation engine: which collector scrapes which target. Pure and incremental: targets and
// collectors are diffed, and only what the strategy must move moves. Strategies: consistent-hashing
// (upstream-identical), least-weighted, per-node (+ fallback) and our rendezvous (bounded-load ring
// hashing as a stable matching). Every strategy but least-weighted is a function of (collectors, targets).
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
    bool rz = false;          // placed by the rendezvous matching (rendezvous, or per-node's node-less targets)
    std::uint32_t rzRank = 0;   // rank of `collector` in the target's ring order
    std::uint32_t rzGen = 0;    // bumped on every placement: older `held` entries are stale
    std::uint32_t rzEpoch = 0;  // bumped for every new target in the slot: older `rejected` entries are stale
  };
  // A (target, collector) pair of the rendezvous matching, kept in per-collector heaps that are checked
  // lazily (an entry whose target moved, left or was replaced is skipped when it reaches the top).
  struct RzEntry {
    std::uint64_t key;   // ring distance (smaller is better for both sides)
    std::uint64_t hash;  // target identity (ties; detects a reused slot)
    std::uint32_t slot;
    std::uint32_t rank;  // rank of this collector in the target's ring order
    std::uint32_t tag;   // held: the slot's rzGen; rejected: its rzEpoch
  };
  struct RzCollector {
    std::size_t load = 0;            // rendezvous targets held
    std::vector<RzEntry> held;       // max-heap: the worst holder on top
    std::vector<RzEntry> rejected;   // min-heap: the best target that prefers this collector to its own
    std::size_t limit = 64;          // compact both heaps when one grows past this (2x after compacting)
  };
  struct CollectorState {
    std::uint64_t seed = 0;  // rendezvous seed: xxhash64(name)
    std::vector<std::uint32_t> members;
    std::vector<std::uint32_t> jobCounts;  // targets per job index (least-weighted tie-break)
  };

  // Least-weighted probes at most kCandidates of the least-loaded collectors (one-target updates stay
  // independent of the collector count).
  static constexpr std::size_t kCandidates = 16;
  // Rendezvous ring: kRingPoints points per collector, whatever n (a number that depended on n would move
  // every collector's points when one joins: 2.8x the ideal churn measured). Fewer points make the
  // collectors' arcs, and so their first-choice shares, uneven: 256 gave 1.14x the ideal churn with 1,500
  // targets per collector, 1,024 give 1.07x. A table maps a position's top bits to the first point at or
  // after it.
  static constexpr std::size_t kRingPoints = 1024;
  struct RingPoint {
    std::uint64_t pos;
    std::int32_t owner;
  };

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
  std::uint32_t insertSlot(prom::Target&& t);
  std::uint32_t insertSlot(prom::Target&& t, std::uint32_t idx);
  void assign(std::uint32_t slot, int collector);
  int pick(std::uint32_t slot, Strategy s, std::size_t total);
  int pickLeastWeighted(const prom::Target& t) const;
  void placeUnassigned(std::size_t total);
  bool wantsRendezvous(const prom::Target& t) const;
  // The rendezvous matching (allocator.cpp, "Rendezvous").
  void rzBuildRing();
  std::pair<int, std::uint64_t> rzChoice(std::uint64_t hash, std::uint32_t rank) const;
  std::size_t rzCapFor(std::size_t total) const;
  const RzEntry* rzTopHeld(int c);
  const RzEntry* rzTopRejected(int c);
  void rzPushRejected(int c, const RzEntry& e);
  void rzPlace(std::uint32_t slot, int c, std::uint32_t rank, std::uint64_t key);
  void rzPropose(std::uint32_t slot, std::uint32_t rank);
  void rzPull(int c);
  void rzRejectOverCap(int c);
  void rzSetCap(std::size_t cap);
  void rzRecompute();
  void rzCompact(int c);

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
  bool useRendezvous_ = false;  // rendezvous matching kept (rendezvous, or per-node's fallback)
  // Tournament trees over the collectors (leaf treeLeaves_ + c): each node holds the smallest minKey /
  // largest maxKey below it, so the root names the least / most loaded collector.
  std::size_t treeLeaves_ = 0;
  std::vector<std::uint64_t> minTree_, maxTree_;
  // Rendezvous: ring points sorted by (position, collector), owners, lookup table; per-collector heaps;
  // rendezvous targets in total and the current per-collector capacity.
  std::vector<RingPoint> ringPoints_;
  std::vector<std::uint32_t> ringTable_;
  int ringShift_ = 56;
  std::vector<RzCollector> rz_;
  std::size_t rzTotal_ = 0;
  std::size_t rzCap_ = 0;
};

// 64-bit mix of a target hash with a collector seed (murmur3 fmix64; used for the rendezvous ring).
std::uint64_t rendezvousScore(std::uint64_t targetHash, std::uint64_t collectorSeed);

}  // namespace otel::allocation
