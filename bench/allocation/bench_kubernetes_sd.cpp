// Kubernetes SD to allocation, the path the target-allocator server runs: 100k targets arriving as
// 5,000 EndpointSlices (20 endpoints, one port, each slice's Service known) in the informer caches ->
// KubeSd::changes (Prometheus meta labels, lib/prom/kubernetes_sd) -> Service::applyKubernetes (relabel
// filter and identity per object, allocator add/remove) over 100 collectors; and one EndpointSlice
// changing among them: its watch event applied to the informer cache, then changes() and
// applyKubernetes, as the server's apply loop does (only that slice is rebuilt and re-assigned).
// Counters: peak_MB = the most heap (operator new) live at once during the timed work above what was
// live when it started (the informer caches, i.e. the input, are excluded: they are filled before);
// retained_MB = heap still held by that work afterwards (the allocator's targets and the SD indexes);
// cache_MB = heap held by the informer caches (the input as the informers hold it);
// maxrss_MB = the process peak RSS so far (includes the input and the benchmark's own copies).
#include <benchmark/benchmark.h>
#include <malloc.h>
#include <sys/resource.h>

#include <cstdlib>
#include <new>

#include "lib/core/heap.h"
#include "lib/core/yaml.h"
#include "lib/kube/client.h"
#include "lib/targetallocator/kube_sd.h"
#include "lib/targetallocator/service.h"

// Heap accounting for peak_MB. The benchmarks run on one thread (no informer threads run), so plain
// counters suffice.
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

namespace prom = otel::prom;
namespace ta = otel::targetallocator;
using otel::Json;

double maxRssMb() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_maxrss) / 1024.0;
}

double mb(std::size_t bytes) { return static_cast<double>(bytes) / 1e6; }

Json slice(int s, int endpoints, int generation) {
  Json eps = Json::array();
  for (int e = 0; e < endpoints; ++e)
    eps.push_back({{"addresses", Json::array({"10." + std::to_string(s / 250) + "." + std::to_string(s % 250) + "." +
                                              std::to_string(e + generation)})},
                   {"conditions", {{"ready", true}, {"serving", true}, {"terminating", false}}},
                   {"nodeName", "node-" + std::to_string(s % 50)},
                   {"targetRef", {{"kind", "Pod"}, {"name", "app-" + std::to_string(s) + "-" + std::to_string(e)}, {"namespace", "apps"}}}});
  return {{"metadata", {{"name", "svc-" + std::to_string(s) + "-abcde"}, {"namespace", "apps"}, {"resourceVersion", "1"},
                        {"labels", {{"kubernetes.io/service-name", "svc-" + std::to_string(s)},
                                    {"endpointslice.kubernetes.io/managed-by", "endpointslice-controller.k8s.io"}}}}},
          {"addressType", "IPv4"},
          {"ports", Json::array({{{"name", "metrics"}, {"port", 9100}, {"protocol", "TCP"}}})},
          {"endpoints", eps}};
}

Json service(int s) {
  return {{"metadata", {{"name", "svc-" + std::to_string(s)}, {"namespace", "apps"}, {"resourceVersion", "1"},
                        {"labels", {{"monitored", "true"}, {"app", "a"}}}}},
          {"spec", {{"clusterIP", "10.96.0.1"}, {"type", "ClusterIP"}}}};
}

ta::Config config() {
  ta::Config c;
  c.prom = prom::parsePromConfig(
      otel::parseYaml("scrape_configs:\n- job_name: apps\n  kubernetes_sd_configs: [{role: endpointslice}]\n"
                      "  relabel_configs:\n  - {source_labels: [__meta_kubernetes_service_label_monitored], regex: 'true', action: keep}\n"
                      "  - {source_labels: [__meta_kubernetes_endpointslice_port_name], regex: metrics, action: keep}\n",
                      "bench"),
      "bench");
  for (int c2 = 0; c2 < 100; ++c2) c.collectors.push_back({"collector-" + std::to_string(c2), ""});
  return c;
}

// The informers' client: never contacted (the caches are filled through KubeSd::applyEvent).
otel::kube::Client& client() {
  static otel::kube::Client c([] {
    otel::kube::RestConfig rc;
    rc.server = "http://127.0.0.1:9";
    return rc;
  }());
  return c;
}

// KubeSd with its caches filled: 5,000 Services and their EndpointSlices.
std::unique_ptr<ta::KubeSd> filledSd(const ta::Config& c) {
  auto sd = std::make_unique<ta::KubeSd>(c.prom, [](const std::string&) -> otel::kube::Client& { return client(); }, "default");
  for (int s = 0; s < 5000; ++s) {
    sd->applyEvent("services", {otel::kube::EventType::Added, service(s)});
    sd->applyEvent("endpointslices", {otel::kube::EventType::Added, slice(s, 20, 0)});
  }
  return sd;
}

void apply(ta::Service& service, ta::KubeSd& sd) {
  service.applyKubernetes([&sd](const ta::Service::KubernetesSink& sink) { sd.changes(sink); });
}

void BM_EndpointSlicesToAllocation(benchmark::State& state) {
  std::size_t n = 0, peak = 0, retained = 0, cache = 0;
  std::unique_ptr<ta::KubeSd> sd;  // the input: filled, and torn down, outside the timed work
  for (auto _ : state) {
    state.PauseTiming();
    sd.reset();
    const std::size_t empty = gLive;
    sd = filledSd(config());
    ta::Config c = config();
    cache = gLive - empty;
    const std::size_t base = gLive;
    gPeak = gLive;
    state.ResumeTiming();
    ta::Service service(std::move(c));
    apply(service, *sd);
    n = service.targetCount();
    state.PauseTiming();
    peak = gPeak - base;
    retained = gLive - base;
    state.ResumeTiming();
  }
  state.counters["targets"] = static_cast<double>(n);
  state.counters["peak_MB"] = mb(peak);
  state.counters["retained_MB"] = mb(retained);
  state.counters["cache_MB"] = mb(cache);
  state.counters["maxrss_MB"] = maxRssMb();
}

void BM_OneEndpointSliceChanges(benchmark::State& state) {
  auto sd = filledSd(config());
  ta::Service service(config());
  apply(service, *sd);
  // The two states the slice alternates between (its endpoints' addresses change), as decoded events.
  otel::kube::WatchEvent ev[2] = {{otel::kube::EventType::Modified, slice(42, 20, 1)},
                                  {otel::kube::EventType::Modified, slice(42, 20, 0)}};
  int rv = 1;
  const std::size_t base = gLive;
  gPeak = gLive;
  for (auto _ : state) {
    auto& e = ev[rv % 2];
    e.object["metadata"]["resourceVersion"] = std::to_string(++rv);
    sd->applyEvent("endpointslices", e);
    apply(service, *sd);
  }
  state.counters["targets"] = static_cast<double>(service.targetCount());
  state.counters["peak_MB"] = mb(gPeak - base);
  state.counters["maxrss_MB"] = maxRssMb();
}

}  // namespace

BENCHMARK(BM_EndpointSlicesToAllocation)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_OneEndpointSliceChanges)->Unit(benchmark::kMillisecond);
