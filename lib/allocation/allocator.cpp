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
  useCandidates_ = strategy_ == Strategy::Rendezvous || fallback_ == Strategy::Rendezvous;
  trackLoads_ = countJobs_ || useCandidates_;
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

void Allocator::buildCandidates() {
  const std::size_t n = cols_.size();
  all_.resize(n);
  std::iota(all_.begin(), all_.end(), 0);
  cand_.clear();
  if (n <= kCandidates) return;  // every collector is a candidate: plain highest-random-weight
  const std::size_t buckets = std::size_t{1} << kBucketBits;
  cand_.resize(buckets * kCandidates);
  std::vector<std::pair<std::uint64_t, std::int32_t>> scored(n);
  for (std::size_t b = 0; b < buckets; ++b) {
    const std::uint64_t key = (b + 1) * 0xD6E8FEB86659FD93ULL;
    for (std::size_t c = 0; c < n; ++c) scored[c] = {rendezvousScore(key, cols_[c].seed), static_cast<std::int32_t>(c)};
    std::nth_element(scored.begin(), scored.begin() + kCandidates - 1, scored.end(),
                     [](const auto& x, const auto& y) { return x.first > y.first || (x.first == y.first && x.second < y.second); });
    for (std::size_t k = 0; k < kCandidates; ++k) cand_[b * kCandidates + k] = scored[k].second;
  }
}

const std::int32_t* Allocator::candidates(std::uint64_t hash, std::size_t& count) const {
  if (cand_.empty()) {
    count = all_.size();
    return all_.data();
  }
  count = kCandidates;
  return cand_.data() + (hash >> (64 - kBucketBits)) * kCandidates;
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
  n += (cand_.capacity() + all_.capacity()) * sizeof(std::int32_t);
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

std::size_t Allocator::rendezvousCap(std::size_t total, double factor) const {
  std::size_t n = cols_.size();
  if (n == 0) return 0;
  std::size_t even = (total + n - 1) / n;
  auto bounded = static_cast<std::size_t>(std::floor(factor * static_cast<double>(total) / static_cast<double>(n)));
  return std::max<std::size_t>({even, bounded, 1});
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

int Allocator::pickRendezvous(const prom::Target& t, std::size_t cap) const {
  // Highest score among the target's candidates that are below the cap; all full: the least loaded
  // collector (smallest name on ties).
  std::size_t count = 0;
  const std::int32_t* cand = candidates(t.hash, count);
  int best = -1;
  std::uint64_t bestScore = 0;
  for (std::size_t k = 0; k < count; ++k) {
    int c = cand[k];
    if (load(c) >= cap) continue;
    std::uint64_t sc = rendezvousScore(t.hash, cols_[c].seed);
    if (best < 0 || sc > bestScore || (sc == bestScore && c < best)) {
      best = c;
      bestScore = sc;
    }
  }
  return best >= 0 ? best : leastLoaded();
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
      return sl.collector >= 0 ? sl.collector : pickRendezvous(sl.target, rendezvousCap(total, 1.1));
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
  if (strategy_ == Strategy::Rendezvous) {
    // Hash order makes a fresh placement a function of the sets alone; the cap keeps it balanced.
    // (hash, slot) pairs sort without touching the slots.
    std::vector<std::pair<std::uint64_t, std::uint32_t>> todo;
    todo.reserve(unassigned_);
    for (std::uint32_t i = 0; i < slots_.size(); ++i)
      if (slots_[i].live && slots_[i].collector < 0) todo.emplace_back(slots_[i].target.hash, i);
    std::sort(todo.begin(), todo.end());
    std::size_t cap = rendezvousCap(total, 1.0);
    for (const auto& [hash, i] : todo) assign(i, pickRendezvous(slots_[i].target, cap));
    return;
  }
  std::vector<std::uint32_t> todo;
  for (std::uint32_t i = 0; i < slots_.size(); ++i)
    if (slots_[i].live && slots_[i].collector < 0) todo.push_back(i);
  for (auto i : todo) assign(i, pick(i, strategy_, total));
}

void Allocator::rendezvousJoin(int nc) {
  std::size_t n = cols_.size();
  std::size_t assigned = byHash_.size() - unassigned_;
  std::size_t floorShare = assigned / n, ceilShare = (assigned + n - 1) / n;
  if (cols_[nc].members.size() >= floorShare) return;
  std::size_t want = floorShare - cols_[nc].members.size();
  // Candidates in the order they prefer the newcomer; donors give only down to the even share, so the
  // newcomer takes at most floor(T/n) targets (the minimum churn) and everyone ends near T/n.
  // Only targets that have the newcomer among their candidates (all of them up to kCandidates collectors).
  std::vector<char> bucketHasNewcomer;
  if (!cand_.empty()) {
    bucketHasNewcomer.assign(std::size_t{1} << kBucketBits, 0);
    for (std::size_t k = 0; k < cand_.size(); ++k)
      if (cand_[k] == nc) bucketHasNewcomer[k / kCandidates] = 1;
  }
  std::vector<std::pair<std::uint64_t, std::uint32_t>> cand;
  cand.reserve(cand_.empty() ? assigned : assigned * kCandidates / n * 2);
  for (std::uint32_t i = 0; i < slots_.size(); ++i) {
    const Slot& s = slots_[i];
    if (!s.live || s.collector < 0 || s.collector == nc) continue;
    if (!cand_.empty() && !bucketHasNewcomer[s.target.hash >> (64 - kBucketBits)]) continue;
    cand.emplace_back(rendezvousScore(s.target.hash, cols_[nc].seed), i);
  }
  std::sort(cand.begin(), cand.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  // Donors above the even share first; a last pass (rarely needed, with many collectors) takes from any
  // donor still more than one target above the newcomer.
  for (int pass = 0; pass < 3; ++pass) {
    for (const auto& [score, i] : cand) {
      if (want == 0) return;
      int donor = slots_[i].collector;
      if (donor == nc) continue;
      std::size_t threshold = pass == 0 ? ceilShare : pass == 1 ? floorShare : cols_[nc].members.size() + 1;
      if (cols_[donor].members.size() <= threshold) continue;
      assign(i, nc);
      --want;
    }
  }
}

void Allocator::rendezvousRebalanceAfterRemoval(int) {
  if (cols_.empty()) return;
  std::size_t assigned = byHash_.size() - unassigned_;
  std::size_t cap = rendezvousCap(assigned, 1.1);
  constexpr std::size_t kScan = 64;  // targets of the largest collector considered per move
  for (std::size_t guard = 0; guard <= assigned; ++guard) {
    int mx = mostLoaded(), mn = leastLoaded();
    if (mx < 0 || load(mx) <= cap || load(mx) <= load(mn) + 1) return;
    const auto& members = cols_[mx].members;
    std::uint32_t best = members.front();
    std::uint64_t bestScore = 0;
    for (std::size_t k = 0; k < members.size() && k < kScan; ++k) {
      auto sc = rendezvousScore(slots_[members[k]].target.hash, cols_[mn].seed);
      if (sc >= bestScore) {
        bestScore = sc;
        best = members[k];
      }
    }
    assign(best, mn);
  }
}

void Allocator::setCollectors(std::vector<Collector> collectors) {
  std::sort(collectors.begin(), collectors.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  collectors.erase(std::unique(collectors.begin(), collectors.end(),
                               [](const auto& a, const auto& b) { return a.name == b.name; }),
                   collectors.end());
  // The same collectors again (the discovery resync): nothing to do, and the rendezvous candidate
  // tables (4,096 · n scores) are not rebuilt.
  if (collectors.size() == collectors_.size() &&
      std::equal(collectors.begin(), collectors.end(), collectors_.begin(),
                 [](const auto& a, const auto& b) { return a.name == b.name && a.node == b.node; }))
    return;
  // Old index -> new index (removed collectors -> -1).
  std::vector<int> remap(collectors_.size(), -1);
  std::unordered_map<std::string, int> newByName;
  for (int i = 0; i < static_cast<int>(collectors.size()); ++i) newByName.emplace(collectors[i].name, i);
  std::vector<int> added;
  for (int i = 0; i < static_cast<int>(collectors.size()); ++i)
    if (!byName_.count(collectors[i].name)) added.push_back(i);
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
  if (useCandidates_) buildCandidates();
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
        if (slots_[i].live) assign(i, pick(i, strategy_, total));
      break;
    case Strategy::LeastWeighted:
      placeUnassigned(total);
      break;
    case Strategy::Rendezvous:
      placeUnassigned(total);
      if (added.size() < collectors_.size())
        for (int nc : added) rendezvousJoin(nc);
      rendezvousRebalanceAfterRemoval(-1);
      break;
  }
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
  bool removedAny = false;
  for (std::uint32_t i = 0; i < keep.size(); ++i) {
    if (slots_[i].live && !keep[i]) {
      assign(i, -1);
      --unassigned_;
      byHash_.erase(slots_[i].target.hash);
      slots_[i].live = false;
      slots_[i].target = {};
      free_.push_back(i);
      removedAny = true;
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
  if (strategy_ == Strategy::Rendezvous) {
    placeUnassigned(total);
    if (removedAny) rendezvousRebalanceAfterRemoval(-1);
    return;
  }
  for (auto i : added)
    if (slots_[i].live && slots_[i].collector < 0) assign(i, pick(i, strategy_, total));
}

void Allocator::addTarget(prom::Target target) {
  if (auto i = byHash_.find(target.hash); i != FlatIndex::kNone) {
    slots_[i].target = std::move(target);
    return;
  }
  std::uint32_t i = insertSlot(std::move(target));
  if (!cols_.empty()) assign(i, pick(i, strategy_, byHash_.size()));
}

bool Allocator::removeTarget(std::uint64_t hash) {
  std::uint32_t i = byHash_.find(hash);
  if (i == FlatIndex::kNone) return false;
  int was = slots_[i].collector;
  assign(i, -1);
  --unassigned_;
  byHash_.erase(hash);
  slots_[i].live = false;
  slots_[i].target = {};
  free_.push_back(i);
  if (strategy_ == Strategy::Rendezvous && was >= 0) rendezvousRebalanceAfterRemoval(was);
  return true;
}

}  // namespace otel::allocation
