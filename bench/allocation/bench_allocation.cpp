// Allocation hot paths: processing discovered targets (label merge, seeding, relabel filter, identity
// hash) and SetTargets, one-target updates, for 10k/100k/1M targets over 10/100/1000 collectors, with
// and without a 5-rule relabel config. Counters: peak_MB = the most heap (operator new) live at once
// during one timed iteration, above what was live when it started (the run's own peak memory);
// alloc_MB = the allocator's own heap estimate afterwards; maxrss_MB = the process peak RSS so far.
// 1M-target cases run a single iteration. The heap is tuned as the target-allocator server tunes it
// (otel::tuneHeapForReloads: freed memory stays in the process between reloads).
#include <benchmark/benchmark.h>
#include <malloc.h>
#include <sys/resource.h>

#include <cstdlib>
#include <new>

#include "lib/allocation/allocator.h"
#include "lib/core/heap.h"
#include "lib/core/yaml.h"
#include "lib/prom/scrape_config.h"
#include "lib/prom/target.h"

// Heap accounting for peak_MB. The benchmarks run on one thread, so plain counters suffice.
namespace {
std::size_t gLive = 0, gPeak = 0;
void* counted(std::size_t n) {
  void* p = std::malloc(n ? n : 1);
  if (!p) throw std::bad_alloc();
  gLive += malloc_usable_size(p);
  if (gLive > gPeak) gPeak = gLive;
  return p;
}
void uncounted(void* p) noexcept {
  if (!p) return;
  gLive -= malloc_usable_size(p);
  std::free(p);
}
}  // namespace
void* operator new(std::size_t n) { return counted(n); }
void* operator new[](std::size_t n) { return counted(n); }
void operator delete(void* p) noexcept { uncounted(p); }
void operator delete[](void* p) noexcept { uncounted(p); }
void operator delete(void* p, std::size_t) noexcept { uncounted(p); }
void operator delete[](void* p, std::size_t) noexcept { uncounted(p); }

namespace {

// As `kubectl otel target-allocator` does at start.
const bool kHeapTuned = (otel::tuneHeapForReloads(), true);

using otel::allocation::Allocator;
using otel::allocation::Collector;
using otel::allocation::Strategy;
namespace prom = otel::prom;

double maxRssMb() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_maxrss) / 1024.0;
}

// Peak heap of one iteration: call start() at its beginning and add() at its end.
struct PeakHeap {
  std::size_t base = 0, peak = 0;
  void start() {
    base = gLive;
    gPeak = gLive;
  }
  void add() { peak = std::max(peak, gPeak - base); }
  double mb() const { return static_cast<double>(peak) / 1e6; }
};

// Upstream's benchmark shape: groups of 5 targets, 20 groups per job, group labels like a pod's meta labels.
prom::PromConfig makeConfig(std::size_t targets, bool relabel) {
  std::string yaml = "scrape_configs:\n";
  std::size_t jobs = std::max<std::size_t>(1, targets / 100);
  for (std::size_t j = 0; j < jobs; ++j) {
    yaml += "  - job_name: job-" + std::to_string(j) + "\n";
    if (relabel) {
      yaml += R"(    relabel_configs:
      - {source_labels: [__meta_kubernetes_pod_label_app], regex: 'app-.*', action: keep}
      - {source_labels: [__meta_kubernetes_namespace], target_label: namespace}
      - {regex: '__meta_kubernetes_pod_label_(.+)', action: labelmap}
      - {source_labels: [__address__], target_label: __tmp_hash, modulus: 8, action: hashmod}
      - {source_labels: [__address__], regex: '192\.168\..*', action: drop}
)";
    }
  }
  prom::PromConfig cfg = prom::parsePromConfig(otel::parseYaml(yaml), "bench");
  // Static groups are filled directly (a YAML with 1M addresses would only measure the YAML parser).
  std::size_t made = 0;
  for (std::size_t j = 0; made < targets; j = (j + 1) % jobs) {
    for (int g = 0; g < 20 && made < targets; ++g) {
      prom::TargetGroup tg;
      tg.labels = prom::Labels::fromPairs({{"__meta_kubernetes_namespace", "ns-" + std::to_string(g % 7)},
                                           {"__meta_kubernetes_pod_label_app", "app-" + std::to_string(g)},
                                           {"__meta_kubernetes_pod_name", "pod-" + std::to_string(made / 5)}});
      for (int t = 0; t < 5 && made < targets; ++t, ++made)
        tg.targets.push_back("10." + std::to_string(made / 65536 % 256) + "." + std::to_string(made / 256 % 256) +
                             "." + std::to_string(made % 256) + ":" + std::to_string(9100 + made / 16777216));
      cfg.scrapeConfigs[j].staticConfigs.push_back(std::move(tg));
    }
  }
  return cfg;
}

std::vector<Collector> collectors(std::size_t n) {
  std::vector<Collector> v;
  for (std::size_t i = 0; i < n; ++i) v.push_back({"collector-" + std::to_string(i), "node-" + std::to_string(i)});
  return v;
}

// The library's reload path (static groups; no file_sd here): group-wise build, relabel filter, dedup.
std::vector<prom::Target> process(const prom::PromConfig& cfg) { return prom::buildTargets(cfg); }

// One-entry caches: benchmarks of the same size run one after another and share their setup.
struct Corpus {
  std::size_t targets = 0;
  bool relabel = false;
  prom::PromConfig config;
  std::vector<prom::Target> processed;
};
const Corpus& corpus(std::size_t targets, bool relabel) {
  static Corpus c;
  if (c.targets != targets || c.relabel != relabel || c.config.scrapeConfigs.empty()) {
    c = Corpus{};
    c.targets = targets;
    c.relabel = relabel;
    c.config = makeConfig(targets, relabel);
    c.processed = process(c.config);
  }
  return c;
}

Strategy strategyArg(int64_t i) { return otel::allocation::allStrategies()[static_cast<std::size_t>(i)]; }

// Discovered targets -> relabel filter + identity -> SetTargets into an allocator with collectors, then
// the allocator is dropped. This is the allocator's whole reload path (upstream
// BenchmarkProcessTargets[WithRelabelConfig]).
void BM_ProcessAndSetTargets(benchmark::State& state) {
  auto targets = static_cast<std::size_t>(state.range(0));
  auto ncol = static_cast<std::size_t>(state.range(1));
  bool relabel = state.range(2) != 0;
  const auto& cfg = corpus(targets, relabel).config;
  std::size_t mem = 0;
  PeakHeap peak;
  for (auto _ : state) {
    peak.start();
    {
      Allocator a(Strategy::ConsistentHashing);
      a.setCollectors(collectors(ncol));
      a.setTargets(process(cfg));
      benchmark::DoNotOptimize(a.targetCount());
      mem = a.memoryBytes();
    }
    peak.add();
  }
  state.counters["alloc_MB"] = static_cast<double>(mem) / 1e6;
  state.counters["peak_MB"] = peak.mb();
  state.counters["maxrss_MB"] = maxRssMb();
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(targets));
}

// The allocator's periodic reload in steady state: the same discovered targets processed again and
// handed to a long-lived allocator (diff only, nothing moves; labels refreshed).
void BM_ReloadSteadyState(benchmark::State& state) {
  auto targets = static_cast<std::size_t>(state.range(0));
  auto ncol = static_cast<std::size_t>(state.range(1));
  bool relabel = state.range(2) != 0;
  const auto& cfg = corpus(targets, relabel).config;
  Allocator a(Strategy::ConsistentHashing);
  a.setCollectors(collectors(ncol));
  a.setTargets(process(cfg));
  PeakHeap peak;
  for (auto _ : state) {
    peak.start();
    a.setTargets(process(cfg));
    peak.add();
  }
  state.counters["alloc_MB"] = static_cast<double>(a.memoryBytes()) / 1e6;
  state.counters["peak_MB"] = peak.mb();
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(targets));
}

// SetTargets alone (targets already processed) into an empty allocator, per strategy.
void BM_SetTargets(benchmark::State& state) {
  auto targets = static_cast<std::size_t>(state.range(0));
  auto ncol = static_cast<std::size_t>(state.range(1));
  Strategy s = strategyArg(state.range(2));
  const auto& processed = corpus(targets, false).processed;
  state.SetLabel(std::string(otel::allocation::strategyName(s)));
  PeakHeap peak;
  for (auto _ : state) {
    state.PauseTiming();
    auto copy = processed;
    Allocator a(s, Strategy::ConsistentHashing);
    a.setCollectors(collectors(ncol));
    peak.start();
    state.ResumeTiming();
    a.setTargets(std::move(copy));
    benchmark::DoNotOptimize(a.targetCount());
    state.PauseTiming();
    peak.add();
    {
      Allocator gone = std::move(a);  // destruction outside the timed region
    }
    state.ResumeTiming();
  }
  state.counters["peak_MB"] = peak.mb();  // the index and slots (the targets were allocated before)
  state.counters["maxrss_MB"] = maxRssMb();
}

// Steady state: the same target set again (upstream reloads every 5 s): diff only, nothing moves.
void BM_SetTargetsUnchanged(benchmark::State& state) {
  auto targets = static_cast<std::size_t>(state.range(0));
  auto ncol = static_cast<std::size_t>(state.range(1));
  const auto& processed = corpus(targets, false).processed;
  Allocator a(Strategy::ConsistentHashing);
  a.setCollectors(collectors(ncol));
  a.setTargets(processed);
  for (auto _ : state) {
    state.PauseTiming();
    auto copy = processed;
    state.ResumeTiming();
    a.setTargets(std::move(copy));
  }
}

// One discovered target changes on a loaded allocator: it is built again from its group (seeding,
// relabel filter when relabel=1, identity), removed and added back. The cost must not grow with the
// collector count (10 / 100 / 1000).
void BM_OneTargetUpdate(benchmark::State& state) {
  auto targets = static_cast<std::size_t>(state.range(0));
  bool relabel = state.range(1) != 0;
  auto ncol = static_cast<std::size_t>(state.range(2));
  Strategy s = strategyArg(state.range(3));
  const auto& c = corpus(targets, relabel);
  struct Discovered {
    std::uint32_t job;
    const prom::TargetGroup* group;
    const std::string* address;
  };
  std::vector<prom::TargetBuilder> builders;
  std::vector<Discovered> discovered;
  builders.reserve(c.config.scrapeConfigs.size());
  for (std::size_t j = 0; j < c.config.scrapeConfigs.size(); ++j) {
    builders.emplace_back(c.config.scrapeConfigs[j], static_cast<std::uint32_t>(j));
    for (const auto& g : c.config.scrapeConfigs[j].staticConfigs)
      for (const auto& a : g.targets) discovered.push_back({static_cast<std::uint32_t>(j), &g, &a});
  }
  // A fixed pseudo-random visiting order (neighbouring targets share cache lines).
  std::vector<std::uint32_t> order(discovered.size());
  for (std::size_t i = 0; i < order.size(); ++i)
    order[i] = static_cast<std::uint32_t>((i * 2654435761u) % discovered.size());
  Allocator a(s, Strategy::ConsistentHashing);
  a.setCollectors(collectors(ncol));
  a.setTargets(c.processed);
  state.SetLabel(std::string(otel::allocation::strategyName(s)));
  prom::Labels own;
  std::size_t i = 0;
  for (auto _ : state) {
    const auto& d = discovered[order[i++ % order.size()]];
    own.set(prom::kAddressLabel, *d.address);
    if (auto t = builders[d.job].build(d.group->labels, own)) {
      a.removeTarget(t->hash);
      a.addTarget(std::move(*t));
    }
  }
  state.counters["alloc_MB"] = static_cast<double>(a.memoryBytes()) / 1e6;
}

// The allocator alone: a processed target is removed and added back (no target building); the figure
// to compare across collector counts.
void BM_OneTargetAddRemove(benchmark::State& state) {
  auto targets = static_cast<std::size_t>(state.range(0));
  auto ncol = static_cast<std::size_t>(state.range(1));
  Strategy s = strategyArg(state.range(2));
  const auto& processed = corpus(targets, false).processed;
  Allocator a(s, Strategy::ConsistentHashing);
  a.setCollectors(collectors(ncol));
  a.setTargets(processed);
  state.SetLabel(std::string(otel::allocation::strategyName(s)));
  std::size_t i = 0;
  for (auto _ : state) {
    prom::Target t = processed[i++ % processed.size()];  // the same sequence as the earlier BM_OneTargetUpdate
    a.removeTarget(t.hash);
    a.addTarget(std::move(t));
  }
  state.counters["alloc_MB"] = static_cast<double>(a.memoryBytes()) / 1e6;
}

constexpr int64_t kMillion = 1000000;

// targets, collectors, relabel (targets outermost: consecutive runs share the corpus).
void reloadSizes(benchmark::internal::Benchmark* b, std::vector<int64_t> targetCounts) {
  for (int64_t t : targetCounts)
    for (int64_t r : {0, 1})
      for (int64_t c : {10, 100, 1000}) b->Args({t, c, r});
}

}  // namespace

BENCHMARK(BM_ProcessAndSetTargets)
    ->Apply([](benchmark::internal::Benchmark* b) { reloadSizes(b, {10000, 100000}); })
    ->ArgNames({"targets", "collectors", "relabel"})
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ProcessAndSetTargets)
    ->Apply([](benchmark::internal::Benchmark* b) { reloadSizes(b, {kMillion}); })
    ->ArgNames({"targets", "collectors", "relabel"})
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ReloadSteadyState)
    ->Apply([](benchmark::internal::Benchmark* b) { reloadSizes(b, {10000, 100000}); })
    ->ArgNames({"targets", "collectors", "relabel"})
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ReloadSteadyState)
    ->Apply([](benchmark::internal::Benchmark* b) { reloadSizes(b, {kMillion}); })
    ->ArgNames({"targets", "collectors", "relabel"})
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond);
// Strategies: 0 consistent-hashing, 1 least-weighted, 3 rendezvous (per-node needs node labels).
BENCHMARK(BM_SetTargets)
    ->Apply([](benchmark::internal::Benchmark* b) {
      for (int64_t t : {10000, 100000})
        for (int64_t c : {10, 100, 1000})
          for (int64_t s : {0, 1, 3}) b->Args({t, c, s});
    })
    ->ArgNames({"targets", "collectors", "strategy"})
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_SetTargets)
    ->Apply([](benchmark::internal::Benchmark* b) {
      for (int64_t c : {10, 100, 1000})
        for (int64_t s : {0, 1, 3}) b->Args({kMillion, c, s});
    })
    ->ArgNames({"targets", "collectors", "strategy"})
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_SetTargetsUnchanged)
    ->Apply([](benchmark::internal::Benchmark* b) {
      for (int64_t t : {int64_t{10000}, int64_t{100000}, kMillion})
        for (int64_t c : {10, 100, 1000}) b->Args({t, c});
    })
    ->ArgNames({"targets", "collectors"})
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_OneTargetUpdate)
    ->Apply([](benchmark::internal::Benchmark* b) {
      for (int64_t t : {int64_t{10000}, int64_t{100000}, kMillion})
        for (int64_t r : {0, 1})
          for (int64_t c : {10, 100, 1000})
            for (int64_t s : {0, 1, 3}) b->Args({t, r, c, s});
    })
    ->ArgNames({"targets", "relabel", "collectors", "strategy"})
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_OneTargetAddRemove)
    ->Apply([](benchmark::internal::Benchmark* b) {
      for (int64_t t : {int64_t{10000}, int64_t{100000}, kMillion})
        for (int64_t c : {10, 100, 1000})
          for (int64_t s : {0, 1, 3}) b->Args({t, c, s});
    })
    ->ArgNames({"targets", "collectors", "strategy"})
    ->Unit(benchmark::kMicrosecond);
