// Allocator properties for every strategy: each target assigned exactly once while collectors exist, none
// lost or duplicated across random sequences of changes; consistent-hashing, per-node and rendezvous give an
// incrementally built allocator the answers of a fresh one (functions of the sets); consistent-hashing equals
// the ring; least-weighted never moves a surviving collector's target; per-node follows node labels (+
// fallback); rendezvous churn (joins and leaves between fresh starts) and balance (max/mean <= 1.15).
#include "lib/allocation/allocator.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <unordered_map>

namespace otel::allocation {
namespace {

prom::Target makeTarget(int i, std::uint32_t job = 0, const std::string& node = "") {
  prom::Target t;
  t.job = job;
  prom::Labels l;
  l.set(prom::kAddressLabel, "10." + std::to_string(i / 65536 % 256) + "." + std::to_string(i / 256 % 256) + "." +
                                 std::to_string(i % 256) + ":9100");
  if (!node.empty()) l.set("__meta_kubernetes_pod_node_name", node);
  t.labels = prom::PackedLabels(l);
  prom::Labels forHash = l;
  forHash.set("job", "job" + std::to_string(job));
  t.hash = prom::targetHash(forHash, "job" + std::to_string(job));
  return t;
}

std::vector<prom::Target> makeTargets(int n, int jobs = 1) {
  std::vector<prom::Target> v;
  v.reserve(n);
  for (int i = 0; i < n; ++i) v.push_back(makeTarget(i, static_cast<std::uint32_t>(i % jobs)));
  return v;
}

std::vector<Collector> collectors(int n, const std::string& prefix = "collector-") {
  std::vector<Collector> v;
  for (int i = 0; i < n; ++i) v.push_back({prefix + std::to_string(i), "node-" + std::to_string(i)});
  return v;
}

std::map<std::uint64_t, std::string> snapshot(const Allocator& a) {
  std::map<std::uint64_t, std::string> m;
  a.forEach([&](const prom::Target& t, int c) { m[t.hash] = c >= 0 ? a.collectors()[c].name : ""; });
  return m;
}

std::size_t moved(const std::map<std::uint64_t, std::string>& before, const std::map<std::uint64_t, std::string>& after) {
  std::size_t n = 0;
  for (const auto& [h, c] : before) {
    auto it = after.find(h);
    if (!c.empty() && it != after.end() && it->second != c) ++n;
  }
  return n;
}

// Every target appears in exactly one collector's list, loads add up, unassigned count is exact.
void checkInvariants(const Allocator& a) {
  std::set<std::uint64_t> seen;
  std::size_t assigned = 0;
  for (int c = 0; c < static_cast<int>(a.collectors().size()); ++c) {
    for (const auto* t : a.targetsOf(c)) {
      ASSERT_TRUE(seen.insert(t->hash).second) << "target assigned twice";
      ASSERT_EQ(a.collectorOf(t->hash), c);
      ++assigned;
    }
    ASSERT_EQ(a.load(c), a.targetsOf(c).size());
  }
  ASSERT_EQ(assigned + a.unassignedCount(), a.targetCount());
}

// Compact snapshot for the long property loop: (hash, collector name) sorted by hash.
std::vector<std::pair<std::uint64_t, std::string_view>> fastSnapshot(const Allocator& a, std::vector<std::string>& names) {
  names.clear();
  for (const auto& c : a.collectors()) names.push_back(c.name);
  std::vector<std::pair<std::uint64_t, std::string_view>> v;
  v.reserve(a.targetCount());
  a.forEach([&](const prom::Target& t, int c) { v.emplace_back(t.hash, c >= 0 ? std::string_view(names[c]) : ""); });
  std::sort(v.begin(), v.end());
  return v;
}

double spread(const Allocator& a) {
  auto loads = a.loads();
  double mean = static_cast<double>(a.targetCount()) / static_cast<double>(loads.size());
  return static_cast<double>(*std::max_element(loads.begin(), loads.end())) / mean;
}

TEST(Strategy, Names) {
  EXPECT_EQ(parseStrategy("rendezvous"), Strategy::Rendezvous);
  EXPECT_EQ(parseStrategy("consistent-hashing"), Strategy::ConsistentHashing);
  EXPECT_FALSE(parseStrategy("round-robin").has_value());
  EXPECT_EQ(strategyName(Strategy::PerNode), "per-node");
}

TEST(Allocator, EveryTargetAssignedExactlyOnceUnderRandomChanges) {
  for (Strategy s : {Strategy::ConsistentHashing, Strategy::LeastWeighted, Strategy::Rendezvous}) {
    SCOPED_TRACE(std::string(strategyName(s)));
    Allocator a(s);
    std::mt19937 rng(42);
    a.setTargets(makeTargets(3000, 3));
    EXPECT_EQ(a.unassignedCount(), 3000u);  // no collectors: kept unassigned
    a.setCollectors(collectors(5));
    checkInvariants(a);
    EXPECT_EQ(a.unassignedCount(), 0u);
    int next = 3000;
    for (int step = 0; step < 60; ++step) {
      switch (rng() % 5) {
        case 0: a.addTarget(makeTarget(next++, rng() % 3)); break;
        case 1: {
          std::vector<std::uint64_t> hs;
          a.forEach([&](const prom::Target& t, int) { hs.push_back(t.hash); });
          std::sort(hs.begin(), hs.end());
          if (!hs.empty()) a.removeTarget(hs[rng() % hs.size()]);
          break;
        }
        case 2: a.setCollectors(collectors(2 + rng() % 60)); break;  // above 16: candidate tables, tie limits
        case 3: {
          auto cs = collectors(40);
          cs.erase(cs.begin() + rng() % 40);
          a.setCollectors(cs);
          break;
        }
        case 4: {
          auto ts = makeTargets(3000 + rng() % 200, 3);
          ts.erase(ts.begin(), ts.begin() + rng() % 300);
          a.setTargets(std::move(ts));
          break;
        }
      }
      checkInvariants(a);
      ASSERT_EQ(a.unassignedCount(), 0u);
      if (s == Strategy::LeastWeighted) {
        // The load tree agrees with a full scan: a new target lands on a least-loaded collector.
        auto loads = a.loads();
        const std::size_t least = *std::min_element(loads.begin(), loads.end());
        prom::Target probe = makeTarget(900000 + step, 0);
        a.addTarget(probe);
        const int c = a.collectorOf(probe.hash);
        ASSERT_GE(c, 0);
        EXPECT_EQ(loads[static_cast<std::size_t>(c)], least) << "step " << step;
        a.removeTarget(probe.hash);
        checkInvariants(a);
      }
    }
    a.setCollectors({});
    EXPECT_EQ(a.unassignedCount(), a.targetCount());
  }
}

TEST(Allocator, TheSameCollectorsAgainMoveNothing) {
  for (Strategy s : {Strategy::ConsistentHashing, Strategy::LeastWeighted, Strategy::Rendezvous}) {
    SCOPED_TRACE(std::string(strategyName(s)));
    Allocator a(s);
    a.setCollectors(collectors(40));
    a.setTargets(makeTargets(5000, 3));
    auto before = snapshot(a);
    auto again = collectors(40);
    std::reverse(again.begin(), again.end());  // order does not matter
    a.setCollectors(again);
    EXPECT_EQ(moved(before, snapshot(a)), 0u);
    checkInvariants(a);
  }
}

TEST(Allocator, ConsistentHashingEqualsRing) {
  Allocator a(Strategy::ConsistentHashing);
  a.setCollectors(collectors(7));
  auto ts = makeTargets(2000);
  a.setTargets(ts);
  ConsistentRing ring({"collector-0", "collector-1", "collector-2", "collector-3", "collector-4", "collector-5",
                       "collector-6"});
  for (const auto& t : ts)
    EXPECT_EQ(a.collectors()[a.collectorOf(t.hash)].name, ring.members()[ring.locate(t.address())]);
}

TEST(Allocator, LeastWeightedNeverMovesTargetsOfSurvivingCollectors) {
  Allocator a(Strategy::LeastWeighted);
  a.setCollectors(collectors(4));
  a.setTargets(makeTargets(4000, 2));
  auto before = snapshot(a);
  a.setCollectors(collectors(6));  // two join: no rebalancing
  EXPECT_EQ(moved(before, snapshot(a)), 0u);
  before = snapshot(a);
  auto cs = collectors(6);
  cs.erase(cs.begin() + 1);  // collector-1 leaves
  a.setCollectors(cs);
  auto after = snapshot(a);
  for (const auto& [h, c] : before) {
    if (c != "collector-1") {
      EXPECT_EQ(after[h], c);
    }
  }
  checkInvariants(a);
}

TEST(Allocator, LeastWeightedTieBreaks) {
  Allocator a(Strategy::LeastWeighted);
  a.setCollectors({{"b", ""}, {"a", ""}});
  a.addTarget(makeTarget(1, 0));  // equal load, equal job count -> smallest name
  EXPECT_EQ(a.collectors()[a.collectorOf(makeTarget(1, 0).hash)].name, "a");
  a.addTarget(makeTarget(2, 0));  // a has 1 -> b
  EXPECT_EQ(a.collectors()[a.collectorOf(makeTarget(2, 0).hash)].name, "b");
  a.addTarget(makeTarget(3, 1));  // loads 1/1, job1 counts 0/0 -> a
  a.addTarget(makeTarget(4, 0));  // loads 2/1 -> b
  EXPECT_EQ(a.collectors()[a.collectorOf(makeTarget(4, 0).hash)].name, "b");
  a.addTarget(makeTarget(5, 1));  // loads 2/2; job1: a has 1, b has 0 -> b
  EXPECT_EQ(a.collectors()[a.collectorOf(makeTarget(5, 1).hash)].name, "b");
}

TEST(Allocator, PerNodeAndFallback) {
  std::vector<prom::Target> ts = {makeTarget(1, 0, "node-1"), makeTarget(2, 0, "node-9"), makeTarget(3, 0)};
  Allocator plain(Strategy::PerNode);
  plain.setCollectors(collectors(3));
  plain.setTargets(ts);
  EXPECT_EQ(plain.collectors()[plain.collectorOf(ts[0].hash)].name, "collector-1");
  EXPECT_EQ(plain.collectorOf(ts[1].hash), -1);  // no collector on node-9
  EXPECT_EQ(plain.collectorOf(ts[2].hash), -1);  // node-less, no fallback
  EXPECT_EQ(plain.unassignedCount(), 2u);
  Allocator fb(Strategy::PerNode, Strategy::ConsistentHashing);
  fb.setCollectors(collectors(3));
  fb.setTargets(ts);
  EXPECT_EQ(fb.collectorOf(ts[1].hash), -1);
  EXPECT_GE(fb.collectorOf(ts[2].hash), 0);
  prom::Labels slice;
  slice.set("__meta_kubernetes_endpointslice_address_target_kind", "Node");
  slice.set("__meta_kubernetes_endpointslice_address_target_name", "n1");
  EXPECT_EQ(targetNodeName(prom::PackedLabels(slice)), "n1");
  slice.set("__meta_kubernetes_endpointslice_address_target_kind", "Pod");
  EXPECT_EQ(targetNodeName(prom::PackedLabels(slice)), "");
}

// Fresh allocator over (collectors, targets).
std::vector<std::pair<std::uint64_t, std::string_view>> freshAssignment(Strategy s, const std::vector<Collector>& cs,
                                                                       const std::vector<prom::Target>& ts,
                                                                       std::vector<std::string>& names,
                                                                       double* spreadOut = nullptr) {
  Allocator a(s);
  a.setCollectors(cs);
  a.setTargets(ts);
  if (spreadOut) *spreadOut = spread(a);
  return fastSnapshot(a, names);
}

std::size_t movedBetween(const std::vector<std::pair<std::uint64_t, std::string_view>>& a,
                         const std::vector<std::pair<std::uint64_t, std::string_view>>& b) {
  EXPECT_EQ(a.size(), b.size());
  std::size_t m = 0;
  for (std::size_t i = 0; i < a.size() && i < b.size(); ++i) m += a[i].second != b[i].second;
  return m;
}

struct ChurnFigures {
  double worstJoin = 0, worstLeave = 0, worstSpread = 0;
  int worstJoinN = 0, worstLeaveN = 0;
};

// Between fresh starts: n vs n+1 collectors (a join: ideal = T/(n+1)), and n+1 vs n+1 minus one
// collector chosen by a fixed seed (a leave: ideal = the leaver's targets). Incrementally: the n
// allocator given the n+1 collectors must equal the fresh n+1 one (a function of the sets).
ChurnFigures measureChurn(int targets, const std::vector<int>& ns) {
  ChurnFigures f;
  auto ts = makeTargets(targets, 4);
  std::mt19937 rng(11);
  for (int n : ns) {
    std::vector<std::string> n1, n2, n3, n4;
    double sp1 = 0, sp2 = 0, sp3 = 0;
    auto small = freshAssignment(Strategy::Rendezvous, collectors(n), ts, n1, &sp1);
    auto big = freshAssignment(Strategy::Rendezvous, collectors(n + 1), ts, n2, &sp2);
    double join = static_cast<double>(movedBetween(small, big)) / (static_cast<double>(targets) / (n + 1));
    auto cs = collectors(n + 1);
    const std::size_t gone = rng() % cs.size();
    const std::string leaver = cs[gone].name;
    cs.erase(cs.begin() + static_cast<std::ptrdiff_t>(gone));
    auto left = freshAssignment(Strategy::Rendezvous, cs, ts, n3, &sp3);
    std::size_t leaverLoad = 0;
    for (const auto& [h, c] : big) leaverLoad += c == leaver;
    double leave = static_cast<double>(movedBetween(big, left)) / static_cast<double>(std::max<std::size_t>(leaverLoad, 1));
    if (join > f.worstJoin) {
      f.worstJoin = join;
      f.worstJoinN = n;
    }
    if (leave > f.worstLeave) {
      f.worstLeave = leave;
      f.worstLeaveN = n + 1;
    }
    f.worstSpread = std::max({f.worstSpread, sp1, sp2, sp3});
    // Incrementally: the same answers as the fresh allocators.
    Allocator inc(Strategy::Rendezvous);
    inc.setCollectors(collectors(n));
    inc.setTargets(ts);
    inc.setCollectors(collectors(n + 1));
    EXPECT_EQ(fastSnapshot(inc, n4), big) << "join at n=" << n;
    inc.setCollectors(cs);
    EXPECT_EQ(fastSnapshot(inc, n4), left) << "leave at n=" << n + 1;
  }
  std::printf("rendezvous, %d targets, n=%d..%d: worst join %.3fx ideal (n=%d), worst leave %.3fx (n=%d), "
              "worst max/mean %.3f\n",
              targets, ns.front(), ns.back(), f.worstJoin, f.worstJoinN, f.worstLeave, f.worstLeaveN, f.worstSpread);
  return f;
}

TEST(Allocator, RendezvousChurnAndBalanceThousandsOfTargetsPerCollector) {
  std::vector<int> ns;
  for (int n = 2; n <= 40; n += (n < 16 ? 1 : 3)) ns.push_back(n);
  auto f = measureChurn(60000, ns);
  EXPECT_LE(f.worstSpread, 1.15);
  EXPECT_LE(f.worstJoin, 1.1);
  EXPECT_LE(f.worstLeave, 1.1);
}

TEST(Allocator, RendezvousChurnAndBalanceHundredsOfTargetsPerCollector) {
  std::vector<int> ns;
  for (int n = 2; n <= 100; n += (n < 20 ? 1 : 7)) ns.push_back(n);
  auto f = measureChurn(20000, ns);
  EXPECT_LE(f.worstSpread, 1.15);
  EXPECT_LE(f.worstJoin, 1.1);
  EXPECT_LE(f.worstLeave, 1.1);
}

TEST(Allocator, RendezvousChurnAndBalanceHundredsOfCollectors) {
  // 60 to 150 targets per collector: a newcomer's first-choice share varies by 8-13 % (binomial), and
  // the collectors that are full then take back targets they had to refuse; a function of the sets
  // cannot meet 1.1x here (docs/allocations.md). Guarded at what it does.
  auto f = measureChurn(30000, {200, 300, 400, 499});
  EXPECT_LE(f.worstSpread, 1.15);
  EXPECT_LE(f.worstJoin, 1.6);
  EXPECT_LE(f.worstLeave, 1.6);
}

TEST(Allocator, RendezvousFreshPlacementIsAFunctionOfTheSets) {
  auto ts = makeTargets(5000);
  Allocator a(Strategy::Rendezvous), b(Strategy::Rendezvous);
  a.setCollectors(collectors(7));
  a.setTargets(ts);
  std::reverse(ts.begin(), ts.end());
  auto cs = collectors(7);
  std::reverse(cs.begin(), cs.end());
  b.setTargets(ts);
  b.setCollectors(cs);
  EXPECT_EQ(snapshot(a), snapshot(b));
}

TEST(Allocator, RendezvousStaysBalancedUnderRemovals) {
  Allocator a(Strategy::Rendezvous);
  a.setCollectors(collectors(5));
  a.setTargets(makeTargets(5000));
  // Remove 2000 targets all from collector-0's list: balance must be restored as they go.
  auto mine = a.targetsOf(0);
  std::vector<std::uint64_t> hs;
  for (auto* t : mine) hs.push_back(t->hash);
  for (std::size_t i = 0; i < hs.size() && i < 600; ++i) a.removeTarget(hs[i]);
  EXPECT_LE(spread(a), 1.15);
  checkInvariants(a);
}

// More collectors than kCandidates: rendezvous picks among per-bucket candidate lists, least-weighted
// compares a bounded number of least-loaded collectors; invariants and balance must hold all the same.
TEST(Allocator, ManyCollectorsOneTargetUpdatesKeepInvariantsAndBalance) {
  for (Strategy s : {Strategy::LeastWeighted, Strategy::Rendezvous}) {
    SCOPED_TRACE(std::string(strategyName(s)));
    Allocator a(s);
    a.setCollectors(collectors(40));
    for (int i = 0; i < 4000; ++i) a.addTarget(makeTarget(i, static_cast<std::uint32_t>(i % 3)));
    checkInvariants(a);
    auto loads = a.loads();
    if (s == Strategy::LeastWeighted) {
      EXPECT_LE(*std::max_element(loads.begin(), loads.end()) - *std::min_element(loads.begin(), loads.end()), 1u);
    }
    EXPECT_LE(spread(a), 1.15);
    std::mt19937 rng(5);
    for (int step = 0; step < 3000; ++step) {
      auto hs = a.targetsOf(static_cast<int>(rng() % 40));
      if (!hs.empty()) a.removeTarget(hs[rng() % hs.size()]->hash);
      if (step % 2 == 0) a.addTarget(makeTarget(10000 + step, static_cast<std::uint32_t>(step % 3)));
    }
    checkInvariants(a);
    ASSERT_EQ(a.unassignedCount(), 0u);
    EXPECT_LE(spread(a), 1.15);
  }
}

TEST(Allocator, LeastWeightedManyCollectorsPrefersFewerOfTheJob) {
  Allocator a(Strategy::LeastWeighted);
  a.setCollectors(collectors(30));
  for (int i = 0; i < 30; ++i) a.addTarget(makeTarget(i, 0));  // one job-0 target each
  // All at load 1, no job-1 targets anywhere: a job-1 target goes to the smallest name.
  a.addTarget(makeTarget(100, 1));
  EXPECT_EQ(a.collectors()[a.collectorOf(makeTarget(100, 1).hash)].name, "collector-0");
  a.addTarget(makeTarget(101, 1));  // collector-0 has 2 now; least loaded by name: collector-1
  EXPECT_EQ(a.collectors()[a.collectorOf(makeTarget(101, 1).hash)].name, "collector-1");
  checkInvariants(a);

  // Where the job count decides. Collector index k takes the k-th target (all empty: smallest name);
  // targets 5 and 20 are job 1, the others job 0.
  Allocator b(Strategy::LeastWeighted);
  b.setCollectors(collectors(30));
  auto jobOf = [](int i) { return i == 5 || i == 20 ? 1u : 0u; };
  for (int i = 0; i < 30; ++i) b.addTarget(makeTarget(i, jobOf(i)));
  for (int k = 0; k < 30; ++k) ASSERT_EQ(b.collectorOf(makeTarget(k, jobOf(k)).hash), k);
  // All at load 1: a job-0 target goes to index 5, the only one of the first 16 without a job-0 target.
  b.addTarget(makeTarget(200, 0));
  EXPECT_EQ(b.collectorOf(makeTarget(200, 0).hash), 5);
  // Index 20 is the only load-1 collector without a job-0 target, but it is beyond the 16 least-loaded
  // collectors with the smallest names that the tie-break compares (docs/allocations.md): index 0.
  b.addTarget(makeTarget(201, 0));
  EXPECT_EQ(b.collectorOf(makeTarget(201, 0).hash), 0);
  checkInvariants(b);
}

TEST(Allocator, RendezvousManyCollectorsFreshPlacementIsAFunctionOfTheSets) {
  auto ts = makeTargets(6000);
  Allocator a(Strategy::Rendezvous), b(Strategy::Rendezvous);
  a.setCollectors(collectors(60));
  a.setTargets(ts);
  std::reverse(ts.begin(), ts.end());
  auto cs = collectors(60);
  std::reverse(cs.begin(), cs.end());
  b.setTargets(ts);
  b.setCollectors(cs);
  EXPECT_EQ(snapshot(a), snapshot(b));
  EXPECT_LE(spread(a), 1.15);
  checkInvariants(a);
}

// Random sequences of collector and target changes (fixed seeds), applied one by one to a long-lived
// allocator: after every step it must give exactly the answers of a fresh allocator given the same
// collectors and targets (in another order), and no target may be assigned twice or lost.
struct Sets {
  std::map<std::string, Collector> collectors;
  std::map<std::uint64_t, prom::Target> targets;
};

prom::Target varyTarget(int i) {
  // Node labels for per-node: a third of the targets have none (the fallback's), some name a node
  // without a collector.
  const std::string node = i % 3 == 0 ? "" : "node-" + std::to_string(i % 47);
  return makeTarget(i, static_cast<std::uint32_t>(i % 3), node);
}

void checkAgainstFresh(const Allocator& inc, Strategy s, std::optional<Strategy> fb, const Sets& sets, int step) {
  checkInvariants(inc);
  ASSERT_EQ(inc.targetCount(), sets.targets.size()) << "step " << step;
  std::vector<Collector> cs;
  for (const auto& [n, c] : sets.collectors) cs.push_back(c);
  std::reverse(cs.begin(), cs.end());
  std::vector<prom::Target> ts;
  for (const auto& [h, t] : sets.targets) ts.push_back(t);
  std::reverse(ts.begin(), ts.end());
  Allocator fresh(s, fb);
  fresh.setTargets(ts);  // targets first, then collectors: the other order than most steps use
  fresh.setCollectors(cs);
  std::vector<std::string> n1, n2;
  auto a = fastSnapshot(inc, n1), b = fastSnapshot(fresh, n2);
  ASSERT_EQ(a.size(), b.size());
  std::size_t differ = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    ASSERT_EQ(a[i].first, b[i].first);  // the same targets: none lost, none invented
    differ += a[i].second != b[i].second;
  }
  ASSERT_EQ(differ, 0u) << "step " << step << ": incremental and fresh allocators disagree on " << differ
                        << " of " << a.size() << " targets";
  if (!sets.collectors.empty() && s != Strategy::PerNode) {
    ASSERT_EQ(inc.unassignedCount(), 0u);
  }
}

void runRandomSequence(Strategy s, std::optional<Strategy> fb, unsigned seed, int steps) {
  SCOPED_TRACE(std::string(strategyName(s)) + (fb ? std::string("+") + std::string(strategyName(*fb)) : "") +
               " seed " + std::to_string(seed));
  std::mt19937 rng(seed);
  Sets sets;
  Allocator a(s, fb);
  int next = 0;
  auto addCollector = [&](int id) {
    Collector c{"collector-" + std::to_string(id), "node-" + std::to_string(id % 47)};
    sets.collectors[c.name] = c;
  };
  for (int i = 0; i < 4; ++i) addCollector(static_cast<int>(rng() % 80));
  for (; next < 1500; ++next) {
    auto t = varyTarget(next);
    sets.targets[t.hash] = t;
  }
  {
    std::vector<prom::Target> ts;
    for (const auto& [h, t] : sets.targets) ts.push_back(t);
    a.setTargets(ts);
    std::vector<Collector> cs;
    for (const auto& [n, c] : sets.collectors) cs.push_back(c);
    a.setCollectors(cs);
  }
  checkAgainstFresh(a, s, fb, sets, -1);
  for (int step = 0; step < steps; ++step) {
    const unsigned op = rng() % 10;
    if (op <= 1) {  // a collector joins
      addCollector(static_cast<int>(rng() % 80));
    } else if (op == 2 && sets.collectors.size() > 1) {  // a collector leaves
      auto it = sets.collectors.begin();
      std::advance(it, static_cast<long>(rng() % sets.collectors.size()));
      sets.collectors.erase(it);
    } else if (op <= 5) {  // targets added one by one
      for (int k = 0, n = 1 + static_cast<int>(rng() % 40); k < n; ++k) {
        auto t = varyTarget(next++);
        sets.targets[t.hash] = t;
        a.addTarget(t);
      }
    } else if (op <= 7 && !sets.targets.empty()) {  // targets removed one by one
      for (int k = 0, n = 1 + static_cast<int>(rng() % 40); k < n && !sets.targets.empty(); ++k) {
        auto it = sets.targets.begin();
        std::advance(it, static_cast<long>(rng() % sets.targets.size()));
        ASSERT_TRUE(a.removeTarget(it->first));
        sets.targets.erase(it);
      }
    } else {  // a reload: some targets gone, some new, the rest again (shuffled)
      std::vector<prom::Target> ts;
      for (auto it = sets.targets.begin(); it != sets.targets.end();) {
        if (rng() % 8 == 0) {
          it = sets.targets.erase(it);
        } else {
          ts.push_back(it->second);
          ++it;
        }
      }
      for (int k = 0, n = static_cast<int>(rng() % 300); k < n; ++k) {
        auto t = varyTarget(next++);
        sets.targets[t.hash] = t;
        ts.push_back(t);
      }
      std::shuffle(ts.begin(), ts.end(), rng);
      a.setTargets(ts);
      continue;
    }
    if (op <= 2) {
      std::vector<Collector> cs;
      for (const auto& [n, c] : sets.collectors) cs.push_back(c);
      std::shuffle(cs.begin(), cs.end(), rng);
      a.setCollectors(cs);
    }
    checkAgainstFresh(a, s, fb, sets, step);
  }
  checkAgainstFresh(a, s, fb, sets, steps);
}

TEST(Allocator, IncrementalEqualsFreshRendezvous) {
  for (unsigned seed : {1u, 2u, 3u}) runRandomSequence(Strategy::Rendezvous, std::nullopt, seed, 80);
}

TEST(Allocator, IncrementalEqualsFreshConsistentHashing) {
  for (unsigned seed : {1u, 2u}) runRandomSequence(Strategy::ConsistentHashing, std::nullopt, seed, 60);
}

TEST(Allocator, IncrementalEqualsFreshPerNode) {
  for (unsigned seed : {1u, 2u}) {
    runRandomSequence(Strategy::PerNode, std::nullopt, seed, 40);
    runRandomSequence(Strategy::PerNode, Strategy::ConsistentHashing, seed, 40);
    runRandomSequence(Strategy::PerNode, Strategy::Rendezvous, seed, 40);
  }
}

// least-weighted is history-dependent (docs/allocations.md): only the invariants hold.
TEST(Allocator, LeastWeightedRandomSequencesLoseNoTarget) {
  for (unsigned seed : {1u, 2u, 3u}) {
    std::mt19937 rng(seed);
    Allocator a(Strategy::LeastWeighted);
    std::set<std::uint64_t> want;
    a.setCollectors(collectors(5));
    int next = 0;
    for (int step = 0; step < 200; ++step) {
      switch (rng() % 4) {
        case 0: {
          auto t = makeTarget(next++, rng() % 3);
          want.insert(t.hash);
          a.addTarget(t);
          break;
        }
        case 1:
          if (!want.empty()) {
            auto it = want.begin();
            std::advance(it, static_cast<long>(rng() % want.size()));
            a.removeTarget(*it);
            want.erase(it);
          }
          break;
        case 2: a.setCollectors(collectors(1 + static_cast<int>(rng() % 30))); break;
        default: {
          for (int k = 0; k < 50; ++k) {
            auto t = makeTarget(next++, rng() % 3);
            want.insert(t.hash);
            a.addTarget(t);
          }
        }
      }
      checkInvariants(a);
      ASSERT_EQ(a.unassignedCount(), 0u);
      std::set<std::uint64_t> got;
      a.forEach([&](const prom::Target& t, int) { got.insert(t.hash); });
      ASSERT_EQ(got, want);
    }
  }
}

TEST(Allocator, SetTargetsAgainInAnyOrderWithDuplicatesKeepsAssignments) {
  for (Strategy s : {Strategy::ConsistentHashing, Strategy::LeastWeighted, Strategy::Rendezvous}) {
    Allocator a(s);
    a.setCollectors(collectors(5));
    auto ts = makeTargets(1000);
    a.setTargets(ts);
    auto before = snapshot(a);
    a.setTargets(ts);  // same order: the sequential fast path
    EXPECT_EQ(snapshot(a), before) << strategyName(s);
    auto shuffled = ts;
    std::mt19937 rng(3);
    std::shuffle(shuffled.begin(), shuffled.end(), rng);
    shuffled.push_back(ts[10]);  // a duplicate identity
    shuffled.insert(shuffled.begin() + 500, ts[500]);
    a.setTargets(shuffled);
    EXPECT_EQ(snapshot(a), before) << strategyName(s);
    EXPECT_EQ(a.targetCount(), 1000u);
    checkInvariants(a);
    ts.erase(ts.begin() + 100, ts.begin() + 200);  // a gap in the middle, then the rest in order
    a.setTargets(ts);
    EXPECT_EQ(a.targetCount(), 900u);
    if (s != Strategy::Rendezvous) {  // rendezvous may rebalance after removals
      for (const auto& [h, c] : snapshot(a)) EXPECT_EQ(before[h], c) << strategyName(s);
    }
    checkInvariants(a);
  }
}

TEST(Allocator, SetTargetsKeepsCollectorOfUnchangedTargets) {
  for (Strategy s : allStrategies()) {
    Allocator a(s, Strategy::LeastWeighted);
    a.setCollectors(collectors(3));
    auto ts = makeTargets(300);
    a.setTargets(ts);
    auto before = snapshot(a);
    ts.resize(200);
    a.setTargets(ts);
    auto after = snapshot(a);
    EXPECT_EQ(after.size(), 200u);
    for (const auto& [h, c] : after) EXPECT_EQ(before[h], c) << strategyName(s);
  }
}

}  // namespace
}  // namespace otel::allocation

namespace otel::allocation {
namespace {

TEST(FlatIndex, MatchesStdMapUnderRandomOps) {
  FlatIndex idx;
  std::unordered_map<std::uint64_t, std::uint32_t> ref;
  std::mt19937_64 rng(7);
  for (int step = 0; step < 200000; ++step) {
    std::uint64_t key = rng() % 5000;  // small key space: many collisions, deletes and re-inserts
    if (step % 3 == 0) key <<= 40;     // clustered home buckets
    switch (rng() % 3) {
      case 0: {
        auto v = static_cast<std::uint32_t>(rng() % 1000);
        bool inserted = idx.insert(key, v);
        EXPECT_EQ(inserted, ref.emplace(key, v).second);
        break;
      }
      case 1:
        EXPECT_EQ(idx.erase(key), ref.erase(key) == 1);
        break;
      default: {
        auto it = ref.find(key);
        EXPECT_EQ(idx.find(key), it == ref.end() ? FlatIndex::kNone : it->second);
      }
    }
  }
  EXPECT_EQ(idx.size(), ref.size());
  for (const auto& [k, v] : ref) EXPECT_EQ(idx.find(k), v);
}

}  // namespace
}  // namespace otel::allocation
