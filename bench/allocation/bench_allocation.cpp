// Allocation hot paths: processing discovered targets (label merge, seeding, relabel filter, identity
// hash) and SetTargets, one-target updates, for 10k/100k/1M targets over 10/100/1000 collectors, with
// and without a 5-rule relabel config. Counters: alloc_MB = the allocator's own heap estimate,
// maxrss_MB = the process peak RSS so far (run one size per process for a clean peak).
#include <benchmark/benchmark.h>
#include <sys/resource.h>

#include "lib/allocation/allocator.h"
#include "lib/core/yaml.h"
#include "lib/prom/scrape_config.h"
#include "lib/prom/target.h"

namespace {

using otel::allocation::Allocator;
using otel::allocation::Collector;
using otel::allocation::Strategy;
namespace prom = otel::prom;

double maxRssMb() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_maxrss) / 1024.0;
}

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

Strategy strategyArg(int64_t i) { return otel::allocation::allStrategies()[static_cast<std::size_t>(i)]; }

// Discovered targets -> relabel filter + identity -> SetTargets into an allocator with collectors.
// This is the allocator's whole reload path (upstream BenchmarkProcessTargets[WithRelabelConfig]).
void BM_ProcessAndSetTargets(benchmark::State& state) {
  auto targets = static_cast<std::size_t>(state.range(0));
  auto ncol = static_cast<std::size_t>(state.range(1));
  bool relabel = state.range(2) != 0;
  auto cfg = makeConfig(targets, relabel);
  std::size_t mem = 0;
  for (auto _ : state) {
    Allocator a(Strategy::ConsistentHashing);
    a.setCollectors(collectors(ncol));
    a.setTargets(process(cfg));
    benchmark::DoNotOptimize(a.targetCount());
    mem = a.memoryBytes();
  }
  state.counters["alloc_MB"] = static_cast<double>(mem) / 1e6;
  state.counters["maxrss_MB"] = maxRssMb();
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(targets));
}

// SetTargets alone (targets already processed) into an empty allocator, per strategy.
void BM_SetTargets(benchmark::State& state) {
  auto targets = static_cast<std::size_t>(state.range(0));
  auto ncol = static_cast<std::size_t>(state.range(1));
  Strategy s = strategyArg(state.range(2));
  auto processed = process(makeConfig(targets, false));
  state.SetLabel(std::string(otel::allocation::strategyName(s)));
  for (auto _ : state) {
    state.PauseTiming();
    auto copy = processed;
    Allocator a(s, Strategy::ConsistentHashing);
    a.setCollectors(collectors(ncol));
    state.ResumeTiming();
    a.setTargets(std::move(copy));
    benchmark::DoNotOptimize(a.targetCount());
    state.PauseTiming();
    {
      Allocator gone = std::move(a);  // destruction outside the timed region
    }
    state.ResumeTiming();
  }
  state.counters["maxrss_MB"] = maxRssMb();
}

// Steady state: the same target set again (upstream reloads every 5 s): diff only, nothing moves.
void BM_SetTargetsUnchanged(benchmark::State& state) {
  auto targets = static_cast<std::size_t>(state.range(0));
  auto ncol = static_cast<std::size_t>(state.range(1));
  auto processed = process(makeConfig(targets, false));
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

// One target appears and one disappears on a loaded allocator.
void BM_OneTargetUpdate(benchmark::State& state) {
  auto targets = static_cast<std::size_t>(state.range(0));
  auto ncol = static_cast<std::size_t>(state.range(1));
  Strategy s = strategyArg(state.range(2));
  auto processed = process(makeConfig(targets, false));
  Allocator a(s, Strategy::ConsistentHashing);
  a.setCollectors(collectors(ncol));
  a.setTargets(processed);
  state.SetLabel(std::string(otel::allocation::strategyName(s)));
  std::size_t i = 0;
  for (auto _ : state) {
    prom::Target t = processed[i % processed.size()];
    a.removeTarget(t.hash);
    a.addTarget(std::move(t));
    ++i;
  }
  state.counters["alloc_MB"] = static_cast<double>(a.memoryBytes()) / 1e6;
}

void sizes(benchmark::internal::Benchmark* b, bool withRelabel) {
  for (int64_t t : {10000, 100000, 1000000})
    for (int64_t c : {10, 100, 1000})
      for (int64_t r : withRelabel ? std::vector<int64_t>{0, 1} : std::vector<int64_t>{0}) b->Args({t, c, r});
}

}  // namespace

BENCHMARK(BM_ProcessAndSetTargets)
    ->Apply([](benchmark::internal::Benchmark* b) { sizes(b, true); })
    ->ArgNames({"targets", "collectors", "relabel"})
    ->Unit(benchmark::kMillisecond);
// Strategies: 0 consistent-hashing, 1 least-weighted, 3 rendezvous (per-node needs node labels).
BENCHMARK(BM_SetTargets)
    ->ArgsProduct({{10000, 100000, 1000000}, {10, 100, 1000}, {0, 1, 3}})
    ->ArgNames({"targets", "collectors", "strategy"})
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_SetTargetsUnchanged)
    ->ArgsProduct({{10000, 100000, 1000000}, {10, 100, 1000}})
    ->ArgNames({"targets", "collectors"})
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_OneTargetUpdate)
    ->ArgsProduct({{10000, 100000, 1000000}, {10, 100, 1000}, {0, 1, 3}})
    ->ArgNames({"targets", "collectors", "strategy"})
    ->Unit(benchmark::kMicrosecond);
