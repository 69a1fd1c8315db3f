#include "lib/allocation/allocator.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <unordered_set>

namespace otel::allocation {

namespace {

constexpr std::string_view kNodeLabels[] = {"__meta_kubernetes_pod_node_name", "__meta_kubernetes_node_name",
                                            "__meta_kubernetes_endpoint_node_name"};

struct StrategyEntry {
  std::string_view name;
  Strategy strategy;
};
constexpr StrategyEntry kStrategies[] = {{"consistent-hashing", Strategy::ConsistentHashing},
                                         {"least-weighted", Strategy::LeastWeighted},
                                         {"per-node", Strategy::PerNode},
                                         {"rendezvous", Strategy::Rendezvous}};

}  // namespace

std::optional<Strategy> parseStrategy(std::string_view name) {
  for (const auto& e : kStrategies)
    if (e.name == name) return e.strategy;
  return std::nullopt;
}

std::string_view strategyName(Strategy s) {
  for (const auto& e : kStrategies)
    if (e.strategy == s) return e.name;
  return "consistent-hashing";
}

const std::vector<Strategy>& allStrategies() {
  static const std::vector<Strategy> all = {Strategy::ConsistentHashing, Strategy::LeastWeighted, Strategy::PerNode,
                                            Strategy::Rendezvous};
  return all;
}

std::string_view targetNodeName(const prom::PackedLabels& labels) {
  for (auto l : kNodeLabels)
    if (auto v = labels.get(l); !v.empty()) return v;
  if (labels.get("__meta_kubernetes_endpointslice_address_target_kind") != "Node") return {};
  return labels.get("__meta_kubernetes_endpointslice_address_target_name");
}

std::uint64_t rendezvousScore(std::uint64_t targetHash, std::uint64_t collectorSeed) {
  // murmur3 fmix64 over the combination: a full-avalanche 64-bit mix.
  std::uint64_t k = targetHash ^ (collectorSeed * 0x9E3779B97F4A7C15ULL);
  k ^= k >> 33;
  k *= 0xff51afd7ed558ccdULL;
  k ^= k >> 33;
  k *= 0xc4ceb9fe1a85ec53ULL;
  k ^= k >> 33;
  return k;
}

Allocator::Allocator(Strategy strategy, std::optional<Strategy> fallback) : strategy_(strategy), fallback_(fallback) {
  if (fallback_ && *fallback_ == Strategy::PerNode) fallback_.reset();
  if (strategy_ != Strategy::PerNode) fallback_.reset();  // only per-node has a fallback
  countJobs_ = strategy_ == Strategy::LeastWeighted || fallback_ == Strategy::LeastWeighted;
  useRendezvous_ = strategy_ == Strategy::Rendezvous || fallback_ == Strategy::Rendezvous;
  trackLoads_ = countJobs_;
}

void Allocator::treeBuild() {
  treeLeaves_ = 1;
  while (treeLeaves_ < cols_.size()) treeLeaves_ *= 2;
  minTree_.assign(2 * treeLeaves_, kNoMin);
  maxTree_.assign(2 * treeLeaves_, kNoMax);
  for (std::size_t c = 0; c < cols_.size(); ++c) {
    minTree_[treeLeaves_ + c] = minKey(load(static_cast<int>(c)), c);
    maxTree_[treeLeaves_ + c] = maxKey(load(static_cast<int>(c)), c);
  }
  for (std::size_t i = treeLeaves_ - 1; i >= 1; --i) {
    minTree_[i] = std::min(minTree_[2 * i], minTree_[2 * i + 1]);
    maxTree_[i] = std::max(maxTree_[2 * i], maxTree_[2 * i + 1]);
  }
}

void Allocator::treeUpdate(int c) {
  std::size_t i = treeLeaves_ + static_cast<std::size_t>(c);
  minTree_[i] = minKey(load(c), static_cast<std::size_t>(c));
  maxTree_[i] = maxKey(load(c), static_cast<std::size_t>(c));
  // Up to the root, stopping once neither tree's node changes (the nodes above it cannot change either).
  bool minDone = false, maxDone = false;
  for (i /= 2; i >= 1 && !(minDone && maxDone); i /= 2) {
    if (!minDone) {
      std::uint64_t v = std::min(minTree_[2 * i], minTree_[2 * i + 1]);
      minDone = v == minTree_[i];
      minTree_[i] = v;
    }
    if (!maxDone) {
      std::uint64_t v = std::max(maxTree_[2 * i], maxTree_[2 * i + 1]);
      maxDone = v == maxTree_[i];
      maxTree_[i] = v;
    }
  }
}

int Allocator::leastLoaded() const {
  return minTree_.size() < 2 || minTree_[1] == kNoMin ? -1 : static_cast<int>(minTree_[1] & 0xffffffffu);
}

int Allocator::mostLoaded() const {
  return maxTree_.size() < 2 || maxTree_[1] == kNoMax ? -1
                                                      : static_cast<int>(0xffffffffu - (maxTree_[1] & 0xffffffffu));
}

// Calls fn(c) for up to `limit` collectors with the smallest load, in index (= name) order.
template <class Fn>
void Allocator::forLeastLoaded(std::size_t limit, Fn fn) const {
  if (leastLoaded() < 0) return;
  const std::uint64_t least = minTree_[1] >> 32;
  std::size_t found = 0;
  // Iterative in-order descent, skipping subtrees whose minimum is above the least load.
  std::size_t stack[64];
  int top = 0;
  stack[top++] = 1;
  while (top > 0 && found < limit) {
    std::size_t i = stack[--top];
    if (minTree_[i] == kNoMin || (minTree_[i] >> 32) != least) continue;
    if (i >= treeLeaves_) {
      fn(static_cast<int>(minTree_[i] & 0xffffffffu));
      ++found;
      continue;
    }
    stack[top++] = 2 * i + 1;
    stack[top++] = 2 * i;
  }
}

int Allocator::collectorIndex(std::string_view name) const {
  auto it = byName_.find(std::string(name));
  return it == byName_.end() ? -1 : it->second;
}

std::vector<std::size_t> Allocator::loads() const {
  std::vector<std::size_t> out;
  out.reserve(cols_.size());
  for (const auto& c : cols_) out.push_back(c.members.size());
  return out;
}

int Allocator::collectorOf(std::uint64_t hash) const {
  auto i = byHash_.find(hash);
  return i == FlatIndex::kNone ? -1 : slots_[i].collector;
}

const prom::Target* Allocator::find(std::uint64_t hash) const {
  auto i = byHash_.find(hash);
  return i == FlatIndex::kNone ? nullptr : &slots_[i].target;
}

std::vector<const prom::Target*> Allocator::targetsOf(int collector) const {
  std::vector<const prom::Target*> out;
  if (collector < 0 || collector >= static_cast<int>(cols_.size())) return out;
  out.reserve(cols_[collector].members.size());
  for (auto s : cols_[collector].members) out.push_back(&slots_[s].target);
  return out;
}

void Allocator::forEach(const std::function<void(const prom::Target&, int)>& fn) const {
  for (const auto& s : slots_)
    if (s.live) fn(s.target, s.collector);
}

std::size_t Allocator::memoryBytes() const {
  std::size_t n = slots_.capacity() * sizeof(Slot) + free_.capacity() * sizeof(std::uint32_t);
  for (const auto& s : slots_) n += s.target.labels.heapBytes();
  n += byHash_.memoryBytes();
  for (const auto& c : cols_) n += (c.members.capacity() + c.jobCounts.capacity()) * sizeof(std::uint32_t);
  n += (minTree_.capacity() + maxTree_.capacity()) * sizeof(std::uint64_t);
  n += ringPoints_.capacity() * sizeof(RingPoint) + ringTable_.capacity() * sizeof(std::uint32_t);
  for (const auto& r : rz_) n += (r.held.capacity() + r.rejected.capacity()) * sizeof(RzEntry);
  return n;
}

std::uint32_t Allocator::insertSlot(prom::Target&& t) {
  std::uint32_t idx = free_.empty() ? static_cast<std::uint32_t>(slots_.size()) : free_.back();
  byHash_.insert(t.hash, idx);
  return insertSlot(std::move(t), idx);
}

std::uint32_t Allocator::insertSlot(prom::Target&& t, std::uint32_t idx) {
  // `idx` is free_.back() or slots_.size(), already in byHash_.
  if (!free_.empty() && free_.back() == idx) {
    free_.pop_back();
  } else {
    slots_.emplace_back();
  }
  Slot& s = slots_[idx];
  s.target = std::move(t);
  s.collector = -1;
  s.live = true;
  s.rz = wantsRendezvous(s.target);
  s.rzRank = 0;
  ++s.rzEpoch;
  if (s.rz) ++rzTotal_;
  ++unassigned_;
  return idx;
}

void Allocator::assign(std::uint32_t slot, int collector) {
  Slot& s = slots_[slot];
  if (s.collector == collector) return;
  if (s.collector >= 0) {
    auto& c = cols_[s.collector];
    std::uint32_t last = c.members.back();
    c.members[s.pos] = last;
    slots_[last].pos = s.pos;
    c.members.pop_back();
    if (countJobs_) --c.jobCounts[s.target.job];
    if (trackLoads_) treeUpdate(s.collector);
  } else {
    --unassigned_;
  }
  if (collector >= 0) {
    auto& c = cols_[collector];
    s.pos = static_cast<std::uint32_t>(c.members.size());
    c.members.push_back(slot);
    if (countJobs_) {
      if (c.jobCounts.size() <= s.target.job) c.jobCounts.resize(s.target.job + 1, 0);
      ++c.jobCounts[s.target.job];
    }
    if (trackLoads_) treeUpdate(collector);
  } else {
    ++unassigned_;
  }
  s.collector = collector;
}

int Allocator::pickLeastWeighted(const prom::Target& t) const {
  // Least loaded; tie -> fewer targets of this job; tie -> smallest name (collectors are sorted by name).
  // Only the first kCandidates least-loaded collectors by name are compared, so the cost does not grow
  // with the collector count (exact whenever at most kCandidates collectors share the least load).
  int best = -1;
  std::size_t bestJob = 0;
  forLeastLoaded(kCandidates, [&](int c) {
    const auto& counts = cols_[c].jobCounts;
    std::size_t jc = t.job < counts.size() ? counts[t.job] : 0;
    if (best < 0 || jc < bestJob) {
      best = c;
      bestJob = jc;
    }
  });
  return best;
}

// ---------------------------------------------------------------------------------------------------
// Rendezvous: bounded-load ring hashing, computed as the unique stable matching of targets and
// collectors, so the assignment is a function of (collectors, targets) alone.
//
// Each collector has kRingPoints points on a 64-bit ring (mix of xxhash64(name) and the point index).
// A target sits at mix(hash) and ranks the collectors in the order it meets them walking clockwise; the
// pair's key is that clockwise distance, and a collector ranks targets by the same key (smaller first,
// ties by target hash). Every collector takes at most cap(T, n) of the T rendezvous targets. Because
// both sides rank a pair by one common value, exactly one stable matching exists (no target prefers a
// collector that has room or holds a worse target) — whatever order targets and collectors arrived in,
// and whichever of the operations below built it:
// - rzPropose: deferred acceptance from a rank on (a full collector rejects its worst holder, which
//   proposes further); every collector passed over records the target in its `rejected` heap.
// - rzPull: a collector with room takes the best target that prefers it (its best valid `rejected`
//   entry); the collector that target leaves pulls in turn.
// - rzSetCap: the capacity follows T (rounded, so it changes rarely); lower: over-full collectors reject,
//   higher: full collectors pull.
// Each preserves stability, so an incremental allocator and a fresh one agree (tests).
// ---------------------------------------------------------------------------------------------------

bool Allocator::wantsRendezvous(const prom::Target& t) const {
  if (strategy_ == Strategy::Rendezvous) return true;
  return fallback_ == Strategy::Rendezvous && targetNodeName(t.labels).empty();
}

namespace {
// Ring position of a target and of a collector's point.
std::uint64_t targetRingPos(std::uint64_t hash) { return rendezvousScore(hash, 0x5bd1e9955bd1e995ULL); }
bool rzBetter(std::uint64_t k1, std::uint64_t h1, std::uint64_t k2, std::uint64_t h2) {
  return k1 < k2 || (k1 == k2 && h1 < h2);
}
}  // namespace

void Allocator::rzBuildRing() {
  const std::size_t n = cols_.size();
  // The same number of points whatever n: a collector's points do not move when others come and go.
  const std::size_t points = kRingPoints;
  ringPoints_.clear();
  ringPoints_.reserve(n * points);
  for (std::size_t c = 0; c < n; ++c)
    for (std::size_t v = 0; v < points; ++v)
      ringPoints_.push_back({rendezvousScore(cols_[c].seed, v + 1), static_cast<std::int32_t>(c)});
  // Ties by collector index = name order: a function of the names.
  std::sort(ringPoints_.begin(), ringPoints_.end(),
            [](const RingPoint& a, const RingPoint& b) { return a.pos < b.pos || (a.pos == b.pos && a.owner < b.owner); });
  // About one point per table cell (the table only speeds up the search; it changes no answer).
  int bits = 8;
  while (bits < 20 && (std::size_t{1} << bits) < ringPoints_.size()) ++bits;
  ringShift_ = 64 - bits;
  const std::size_t cells = std::size_t{1} << bits;
  ringTable_.assign(cells, 0);
  std::size_t idx = 0;
  for (std::size_t b = 0; b < cells; ++b) {
    const std::uint64_t lo = std::uint64_t{b} << ringShift_;
    while (idx < ringPoints_.size() && ringPoints_[idx].pos < lo) ++idx;
    ringTable_[b] = static_cast<std::uint32_t>(idx);
  }
}

// The collector of rank `rank` in the target's ring order and its distance; -1 beyond the last one.
std::pair<int, std::uint64_t> Allocator::rzChoice(std::uint64_t hash, std::uint32_t rank) const {
  const std::size_t total = ringPoints_.size();
  if (total == 0 || rank >= cols_.size()) return {-1, 0};
  const std::uint64_t pos = targetRingPos(hash);
  std::size_t i = ringTable_[pos >> ringShift_];
  while (i < total && ringPoints_[i].pos < pos) ++i;
  if (i == total) i = 0;
  if (rank == 0) return {ringPoints_[i].owner, ringPoints_[i].pos - pos};
  // Distinct owners met so far: a short list (ranks stay small), a bitmap beyond.
  std::int32_t few[16];
  std::size_t nFew = 0;
  std::vector<char> seen;
  std::uint32_t distinct = 0;
  for (std::size_t step = 0; step < total; ++step, i = i + 1 == total ? 0 : i + 1) {
    const std::int32_t o = ringPoints_[i].owner;
    bool met = false;
    if (seen.empty()) {
      for (std::size_t k = 0; k < nFew; ++k) met |= few[k] == o;
    } else {
      met = seen[static_cast<std::size_t>(o)] != 0;
    }
    if (met) continue;
    if (distinct == rank) return {o, ringPoints_[i].pos - pos};
    ++distinct;
    if (seen.empty() && nFew < 16) {
      few[nFew++] = o;
    } else {
      if (seen.empty()) {
        seen.assign(cols_.size(), 0);
        for (std::size_t k = 0; k < nFew; ++k) seen[static_cast<std::size_t>(few[k])] = 1;
      }
      seen[static_cast<std::size_t>(o)] = 1;
    }
  }
  return {-1, 0};
}

// max(ceil(T/n), floor(1.1 * T'/n)), T' = T rounded up to a multiple of a power of two <= T/1024 (so the
// capacity, which every collector shares, changes only every few thousandths of T).
std::size_t Allocator::rzCapFor(std::size_t total) const {
  const std::size_t n = cols_.size();
  if (n == 0) return 0;
  std::size_t step = 1;
  while (step * 2 * 1024 <= total) step *= 2;
  const std::size_t rounded = (total + step - 1) / step * step;
  const std::size_t even = (total + n - 1) / n;
  const std::size_t bounded = rounded * 11 / (10 * n);
  return std::max<std::size_t>({even, bounded, 1});
}

const Allocator::RzEntry* Allocator::rzTopHeld(int c) {
  auto& h = rz_[static_cast<std::size_t>(c)].held;
  auto worse = [](const RzEntry& a, const RzEntry& b) { return rzBetter(a.key, a.hash, b.key, b.hash); };
  while (!h.empty()) {
    const RzEntry& e = h.front();
    const Slot& s = slots_[e.slot];
    if (s.live && s.rz && s.collector == c && s.rzGen == e.tag) return &e;
    std::pop_heap(h.begin(), h.end(), worse);
    h.pop_back();
  }
  return nullptr;
}

const Allocator::RzEntry* Allocator::rzTopRejected(int c) {
  auto& h = rz_[static_cast<std::size_t>(c)].rejected;
  auto better = [](const RzEntry& a, const RzEntry& b) { return rzBetter(b.key, b.hash, a.key, a.hash); };
  while (!h.empty()) {
    const RzEntry& e = h.front();
    const Slot& s = slots_[e.slot];
    // Still prefers c: live, the same target, and its collector ranks after c for it.
    if (s.live && s.rz && s.collector >= 0 && s.rzEpoch == e.tag && s.rzRank > e.rank) return &e;
    std::pop_heap(h.begin(), h.end(), better);
    h.pop_back();
  }
  return nullptr;
}

void Allocator::rzPushRejected(int c, const RzEntry& e) {
  auto& h = rz_[static_cast<std::size_t>(c)].rejected;
  h.push_back(e);
  std::push_heap(h.begin(), h.end(), [](const RzEntry& a, const RzEntry& b) { return rzBetter(b.key, b.hash, a.key, a.hash); });
  if (h.size() > rz_[static_cast<std::size_t>(c)].limit) rzCompact(c);
}

void Allocator::rzPlace(std::uint32_t slot, int c, std::uint32_t rank, std::uint64_t key) {
  assign(slot, c);
  Slot& s = slots_[slot];
  s.rzRank = rank;
  ++s.rzGen;
  auto& r = rz_[static_cast<std::size_t>(c)];
  ++r.load;
  r.held.push_back({key, s.target.hash, slot, rank, s.rzGen});
  std::push_heap(r.held.begin(), r.held.end(),
                 [](const RzEntry& a, const RzEntry& b) { return rzBetter(a.key, a.hash, b.key, b.hash); });
  if (r.held.size() > r.limit) rzCompact(c);
}

void Allocator::rzPropose(std::uint32_t slot, std::uint32_t rank) {
  std::vector<std::pair<std::uint32_t, std::uint32_t>> todo{{slot, rank}};
  while (!todo.empty()) {
    auto [i, r] = todo.back();
    todo.pop_back();
    const std::uint64_t hash = slots_[i].target.hash;
    for (;;) {
      auto [c, key] = rzChoice(hash, r);
      if (c < 0) break;  // cannot happen: the capacities add up to at least T
      auto& rc = rz_[static_cast<std::size_t>(c)];
      if (rc.load < rzCap_) {
        rzPlace(i, c, r, key);
        break;
      }
      const RzEntry* w = rzTopHeld(c);
      if (w && rzBetter(key, hash, w->key, w->hash)) {
        const RzEntry worst = *w;
        auto& h = rc.held;
        std::pop_heap(h.begin(), h.end(), [](const RzEntry& a, const RzEntry& b) { return rzBetter(a.key, a.hash, b.key, b.hash); });
        h.pop_back();
        --rc.load;
        rzPushRejected(c, {worst.key, worst.hash, worst.slot, worst.rank, slots_[worst.slot].rzEpoch});
        assign(worst.slot, -1);
        rzPlace(i, c, r, key);
        todo.emplace_back(worst.slot, worst.rank + 1);
        break;
      }
      rzPushRejected(c, {key, hash, i, r, slots_[i].rzEpoch});
      ++r;
    }
  }
}

void Allocator::rzPull(int first) {
  std::vector<int> todo{first};
  while (!todo.empty()) {
    const int c = todo.back();
    todo.pop_back();
    auto& rc = rz_[static_cast<std::size_t>(c)];
    while (rc.load < rzCap_) {
      const RzEntry* e = rzTopRejected(c);
      if (!e) break;
      const RzEntry best = *e;
      auto& h = rc.rejected;
      std::pop_heap(h.begin(), h.end(), [](const RzEntry& a, const RzEntry& b) { return rzBetter(b.key, b.hash, a.key, a.hash); });
      h.pop_back();
      const int from = slots_[best.slot].collector;
      --rz_[static_cast<std::size_t>(from)].load;
      rzPlace(best.slot, c, best.rank, best.key);
      todo.push_back(from);
    }
  }
}

void Allocator::rzRejectOverCap(int c) {
  auto& rc = rz_[static_cast<std::size_t>(c)];
  while (rc.load > rzCap_) {
    const RzEntry* w = rzTopHeld(c);
    if (!w) break;
    const RzEntry worst = *w;
    auto& h = rc.held;
    std::pop_heap(h.begin(), h.end(), [](const RzEntry& a, const RzEntry& b) { return rzBetter(a.key, a.hash, b.key, b.hash); });
    h.pop_back();
    --rc.load;
    rzPushRejected(c, {worst.key, worst.hash, worst.slot, worst.rank, slots_[worst.slot].rzEpoch});
    assign(worst.slot, -1);
    rzPropose(worst.slot, worst.rank + 1);
  }
}

void Allocator::rzSetCap(std::size_t cap) {
  if (cap == rzCap_) return;
  const bool lower = cap < rzCap_;
  rzCap_ = cap;
  for (int c = 0; c < static_cast<int>(rz_.size()); ++c) {
    if (lower) {
      if (rz_[static_cast<std::size_t>(c)].load > cap) rzRejectOverCap(c);
    } else if (!rz_[static_cast<std::size_t>(c)].rejected.empty()) {
      rzPull(c);
    }
  }
}

// Drops the entries that are no longer valid from both heaps of c.
void Allocator::rzCompact(int c) {
  auto& rc = rz_[static_cast<std::size_t>(c)];
  auto keepHeld = [&](const RzEntry& e) {
    const Slot& s = slots_[e.slot];
    return !(s.live && s.rz && s.collector == c && s.rzGen == e.tag);
  };
  auto keepRejected = [&](const RzEntry& e) {
    const Slot& s = slots_[e.slot];
    return !(s.live && s.rz && s.collector >= 0 && s.rzEpoch == e.tag && s.rzRank > e.rank);
  };
  rc.held.erase(std::remove_if(rc.held.begin(), rc.held.end(), keepHeld), rc.held.end());
  std::make_heap(rc.held.begin(), rc.held.end(),
                 [](const RzEntry& a, const RzEntry& b) { return rzBetter(a.key, a.hash, b.key, b.hash); });
  rc.rejected.erase(std::remove_if(rc.rejected.begin(), rc.rejected.end(), keepRejected), rc.rejected.end());
  // A target refused twice while still below c has two valid entries: one is enough.
  std::sort(rc.rejected.begin(), rc.rejected.end(),
            [](const RzEntry& a, const RzEntry& b) { return a.slot < b.slot || (a.slot == b.slot && a.rank < b.rank); });
  rc.rejected.erase(std::unique(rc.rejected.begin(), rc.rejected.end(),
                                [](const RzEntry& a, const RzEntry& b) { return a.slot == b.slot && a.rank == b.rank; }),
                    rc.rejected.end());
  std::make_heap(rc.rejected.begin(), rc.rejected.end(),
                 [](const RzEntry& a, const RzEntry& b) { return rzBetter(b.key, b.hash, a.key, a.hash); });
  rc.limit = 2 * std::max(rc.held.size(), rc.rejected.size()) + 64;
}

// The matching from scratch (collectors changed, or most targets did).
void Allocator::rzRecompute() {
  rz_.assign(cols_.size(), RzCollector{});
  for (std::uint32_t i = 0; i < slots_.size(); ++i)
    if (slots_[i].live && slots_[i].rz) assign(i, -1);
  if (cols_.empty()) return;
  rzCap_ = rzCapFor(rzTotal_);
  const std::size_t expect = rzTotal_ / cols_.size() + 1;
  for (auto& r : rz_) r.held.reserve(std::min(expect, rzCap_) + 1);
  // Ring lookups are cache misses with many collectors: fetch the table cell 16 slots ahead and the ring
  // point it names 8 slots ahead.
  constexpr std::uint32_t kTableAhead = 16, kPointAhead = 8;
  const auto count = static_cast<std::uint32_t>(slots_.size());
  for (std::uint32_t i = 0; i < count; ++i) {
    if (i + kTableAhead < count && slots_[i + kTableAhead].live)
      __builtin_prefetch(&ringTable_[targetRingPos(slots_[i + kTableAhead].target.hash) >> ringShift_]);
    if (i + kPointAhead < count && slots_[i + kPointAhead].live) {
      const std::uint32_t at = ringTable_[targetRingPos(slots_[i + kPointAhead].target.hash) >> ringShift_];
      if (at < ringPoints_.size()) __builtin_prefetch(&ringPoints_[at]);
    }
    if (slots_[i].live && slots_[i].rz) rzPropose(i, 0);
  }
}

int Allocator::pick(std::uint32_t slot, Strategy s, std::size_t total) {
  const Slot& sl = slots_[slot];
  if (cols_.empty()) return -1;
  switch (s) {
    case Strategy::ConsistentHashing:
      return sl.target.addressHash ? ring_.locateHash(sl.target.addressHash) : ring_.locate(sl.target.address());
    case Strategy::LeastWeighted:
      return sl.collector >= 0 ? sl.collector : pickLeastWeighted(sl.target);
    case Strategy::Rendezvous:
      return sl.collector;  // placed by the matching (rzPropose), never picked one by one
    case Strategy::PerNode: {
      auto node = targetNodeName(sl.target.labels);
      if (node.empty() && fallback_) return pick(slot, *fallback_, total);
      auto it = byNode_.find(std::string(node));
      return it == byNode_.end() ? -1 : it->second;
    }
  }
  return -1;
}

void Allocator::placeUnassigned(std::size_t total) {
  std::vector<std::uint32_t> todo;
  for (std::uint32_t i = 0; i < slots_.size(); ++i)
    if (slots_[i].live && slots_[i].collector < 0) todo.push_back(i);
  for (auto i : todo) assign(i, pick(i, strategy_, total));
}

void Allocator::setCollectors(std::vector<Collector> collectors) {
  std::sort(collectors.begin(), collectors.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  collectors.erase(std::unique(collectors.begin(), collectors.end(),
                               [](const auto& a, const auto& b) { return a.name == b.name; }),
                   collectors.end());
  // The same collectors again (the discovery resync): nothing to do, and the rendezvous ring
  // (up to 1,024 · n points) is not rebuilt.
  if (collectors.size() == collectors_.size() &&
      std::equal(collectors.begin(), collectors.end(), collectors_.begin(),
                 [](const auto& a, const auto& b) { return a.name == b.name && a.node == b.node; }))
    return;
  // Old index -> new index (removed collectors -> -1).
  std::vector<int> remap(collectors_.size(), -1);
  std::unordered_map<std::string, int> newByName;
  for (int i = 0; i < static_cast<int>(collectors.size()); ++i) newByName.emplace(collectors[i].name, i);
  for (int i = 0; i < static_cast<int>(collectors_.size()); ++i) {
    auto it = newByName.find(collectors_[i].name);
    if (it != newByName.end()) remap[i] = it->second;
  }
  collectors_ = std::move(collectors);
  byName_ = std::move(newByName);
  byNode_.clear();
  for (int i = 0; i < static_cast<int>(collectors_.size()); ++i)
    if (!collectors_[i].node.empty()) byNode_.emplace(collectors_[i].node, i);  // smallest name wins
  cols_.assign(collectors_.size(), CollectorState{});
  for (std::size_t i = 0; i < collectors_.size(); ++i) cols_[i].seed = xxhash64(collectors_[i].name);
  if (trackLoads_) treeBuild();
  if (useRendezvous_) {
    rzBuildRing();
    rz_.assign(cols_.size(), RzCollector{});
  }
  unassigned_ = 0;
  for (std::uint32_t i = 0; i < slots_.size(); ++i) {
    Slot& s = slots_[i];
    if (!s.live) continue;
    int c = s.collector >= 0 ? remap[s.collector] : -1;
    s.collector = -1;
    ++unassigned_;
    assign(i, c);
  }
  if (strategy_ == Strategy::ConsistentHashing || fallback_ == Strategy::ConsistentHashing) {
    std::vector<std::string> names;
    for (const auto& c : collectors_) names.push_back(c.name);
    ring_ = ConsistentRing(std::move(names));
  }
  if (collectors_.empty()) return;
  std::size_t total = byHash_.size();
  switch (strategy_) {
    case Strategy::ConsistentHashing:
    case Strategy::PerNode:
      for (std::uint32_t i = 0; i < slots_.size(); ++i)
        if (slots_[i].live && !slots_[i].rz) assign(i, pick(i, strategy_, total));
      break;
    case Strategy::LeastWeighted:
      placeUnassigned(total);
      break;
    case Strategy::Rendezvous:
      break;
  }
  if (useRendezvous_) rzRecompute();
}

void Allocator::setTargets(std::vector<prom::Target> targets) {
  std::vector<char> keep(slots_.size(), 0);
  std::vector<prom::Target*> fresh;
  byHash_.reserve(targets.size());
  slots_.reserve(std::max(slots_.size(), targets.size()));
  if (byHash_.size() == 0) fresh.reserve(targets.size());
  constexpr std::size_t kAhead = 16;  // index cells are random: fetch a few targets ahead
  // A reload usually lists the known targets in the order their slots were made: try the slot after the
  // last match before probing the index (a live slot with this hash is the one the index names).
  std::uint32_t guess = 0;
  bool sequential = false;
  for (std::size_t k = 0; k < targets.size(); ++k) {
    if (!sequential && k + kAhead < targets.size()) byHash_.prefetch(targets[k + kAhead].hash);
    auto& t = targets[k];
    std::uint32_t i = FlatIndex::kNone;
    sequential = guess < keep.size() && slots_[guess].live && slots_[guess].target.hash == t.hash;
    if (sequential) {
      i = guess;
    } else if (byHash_.size()) {
      i = byHash_.find(t.hash);
    }
    if (i != FlatIndex::kNone) guess = i + 1;
    if (i != FlatIndex::kNone && i < keep.size()) {
      keep[i] = 1;
      slots_[i].target.labels = std::move(t.labels);  // labels refreshed, collector kept
      slots_[i].target.job = t.job;
    } else {
      fresh.push_back(&t);
    }
  }
  std::size_t rzChanged = 0;
  std::vector<int> vacated;
  for (std::uint32_t i = 0; i < keep.size(); ++i) {
    if (slots_[i].live && !keep[i]) {
      if (slots_[i].rz) {
        ++rzChanged;
        --rzTotal_;
        if (slots_[i].collector >= 0 && !rz_.empty()) {
          --rz_[static_cast<std::size_t>(slots_[i].collector)].load;
          vacated.push_back(slots_[i].collector);
        }
      }
      assign(i, -1);
      --unassigned_;
      byHash_.erase(slots_[i].target.hash);
      slots_[i].live = false;
      slots_[i].target = {};
      free_.push_back(i);
    }
  }
  std::vector<std::uint32_t> added;
  added.reserve(fresh.size());
  for (std::size_t k = 0; k < fresh.size(); ++k) {
    if (k + kAhead < fresh.size()) byHash_.prefetch(fresh[k + kAhead]->hash);
    prom::Target* t = fresh[k];
    std::uint32_t idx = free_.empty() ? static_cast<std::uint32_t>(slots_.size()) : free_.back();
    if (auto dup = byHash_.findOrInsert(t->hash, idx); dup != FlatIndex::kNone) {  // duplicate identity: the last one wins
      slots_[dup].target = std::move(*t);
      continue;
    }
    added.push_back(insertSlot(std::move(*t), idx));
  }
  if (cols_.empty()) return;
  std::size_t total = byHash_.size();
  for (auto i : added)
    if (slots_[i].live && !slots_[i].rz && slots_[i].collector < 0) assign(i, pick(i, strategy_, total));
  if (!useRendezvous_) return;
  for (auto i : added) rzChanged += slots_[i].rz;
  if (rzChanged == 0) return;
  // Either way the result is the same matching: from scratch when much changed, else step by step.
  if (rzChanged * 4 > rzTotal_) {
    rzRecompute();
    return;
  }
  std::sort(vacated.begin(), vacated.end());
  vacated.erase(std::unique(vacated.begin(), vacated.end()), vacated.end());
  for (int c : vacated) rzPull(c);
  rzSetCap(rzCapFor(rzTotal_));
  for (auto i : added)
    if (slots_[i].live && slots_[i].rz && slots_[i].collector < 0) rzPropose(i, 0);
}

void Allocator::addTarget(prom::Target target) {
  if (auto i = byHash_.find(target.hash); i != FlatIndex::kNone) {
    slots_[i].target = std::move(target);
    return;
  }
  std::uint32_t i = insertSlot(std::move(target));
  if (cols_.empty()) return;
  if (slots_[i].rz) {
    rzSetCap(rzCapFor(rzTotal_));
    rzPropose(i, 0);
    return;
  }
  assign(i, pick(i, strategy_, byHash_.size()));
}

bool Allocator::removeTarget(std::uint64_t hash) {
  std::uint32_t i = byHash_.find(hash);
  if (i == FlatIndex::kNone) return false;
  const int was = slots_[i].collector;
  const bool rz = slots_[i].rz;
  assign(i, -1);
  --unassigned_;
  byHash_.erase(hash);
  slots_[i].live = false;
  slots_[i].rz = false;
  slots_[i].target = {};
  free_.push_back(i);
  if (rz) {
    --rzTotal_;
    if (was >= 0 && !rz_.empty()) {
      --rz_[static_cast<std::size_t>(was)].load;
      rzPull(was);
      rzSetCap(rzCapFor(rzTotal_));
    }
  }
  return true;
}

}  // namespace otel::allocation
