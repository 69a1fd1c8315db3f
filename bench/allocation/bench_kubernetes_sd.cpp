// Kubernetes SD to allocation: 100k targets arriving as 5,000 EndpointSlices (20 endpoints, one port,
// each slice's Service known) -> Prometheus meta labels (lib/prom/kubernetes_sd) -> relabel filter and
// identity -> SetTargets over 100 collectors; and one EndpointSlice changing among them, applied the way
// the allocator applies it today (the groups rebuilt from the caches, the allocator diffing by identity).
// The informers' JSON decoding is not included (bench/kube covers watch handling). maxrss_MB: process peak.
#include <benchmark/benchmark.h>
#include <sys/resource.h>

#include "lib/allocation/allocator.h"
#include "lib/core/yaml.h"
#include "lib/prom/kubernetes_sd.h"
#include "lib/prom/target.h"

namespace {

namespace prom = otel::prom;
using otel::Json;

double maxRssMb() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_maxrss) / 1024.0;
}

Json slice(int s, int endpoints, int generation) {
  Json eps = Json::array();
  for (int e = 0; e < endpoints; ++e)
    eps.push_back({{"addresses", Json::array({"10." + std::to_string(s / 250) + "." + std::to_string(s % 250) + "." +
                                              std::to_string(e + generation)})},
                   {"conditions", {{"ready", true}, {"serving", true}, {"terminating", false}}},
                   {"nodeName", "node-" + std::to_string(s % 50)},
                   {"targetRef", {{"kind", "Pod"}, {"name", "app-" + std::to_string(s) + "-" + std::to_string(e)}, {"namespace", "apps"}}}});
  return {{"metadata", {{"name", "svc-" + std::to_string(s) + "-abcde"}, {"namespace", "apps"},
                        {"labels", {{"kubernetes.io/service-name", "svc-" + std::to_string(s)},
                                    {"endpointslice.kubernetes.io/managed-by", "endpointslice-controller.k8s.io"}}}}},
          {"addressType", "IPv4"},
          {"ports", Json::array({{{"name", "metrics"}, {"port", 9100}, {"protocol", "TCP"}}})},
          {"endpoints", eps}};
}

struct World {
  prom::PromConfig config;
  prom::ObjectMap slices, services;
  std::vector<otel::allocation::Collector> collectors;
  World() {
    config = prom::parsePromConfig(
        otel::parseYaml("scrape_configs:\n- job_name: apps\n  kubernetes_sd_configs: [{role: endpointslice}]\n"
                        "  relabel_configs:\n  - {source_labels: [__meta_kubernetes_service_label_monitored], regex: 'true', action: keep}\n"
                        "  - {source_labels: [__meta_kubernetes_endpointslice_port_name], regex: metrics, action: keep}\n",
                        "bench"),
        "bench");
    for (int s = 0; s < 5000; ++s) {
      slices["apps/svc-" + std::to_string(s) + "-abcde"] = slice(s, 20, 0);
      services["apps/svc-" + std::to_string(s)] = {{"metadata", {{"name", "svc-" + std::to_string(s)}, {"namespace", "apps"},
                                                                 {"labels", {{"monitored", "true"}, {"app", "a"}}}}},
                                                   {"spec", {{"clusterIP", "10.96.0.1"}, {"type", "ClusterIP"}}}};
    }
    for (int c = 0; c < 100; ++c) collectors.push_back({"collector-" + std::to_string(c), ""});
  }
  std::vector<prom::Target> targets() const {
    prom::KubeObjects o;
    o.endpointSlices = &slices;
    o.services = &services;
    std::vector<std::vector<prom::TargetGroup>> groups = {
        prom::kubernetesTargetGroups(config.scrapeConfigs[0].kubernetesSdConfigs[0], o)};
    return prom::buildTargets(config, ".", true, &groups);
  }
};

World& world() {
  static World w;
  return w;
}

void BM_EndpointSlicesToAllocation(benchmark::State& state) {
  World& w = world();
  std::size_t n = 0;
  for (auto _ : state) {
    otel::allocation::Allocator a(otel::allocation::Strategy::ConsistentHashing);
    a.setCollectors(w.collectors);
    a.setTargets(w.targets());
    n = a.targetCount();
  }
  state.counters["targets"] = static_cast<double>(n);
  state.counters["maxrss_MB"] = maxRssMb();
}

void BM_OneEndpointSliceChanges(benchmark::State& state) {
  World& w = world();
  otel::allocation::Allocator a(otel::allocation::Strategy::ConsistentHashing);
  a.setCollectors(w.collectors);
  a.setTargets(w.targets());
  int gen = 0;
  for (auto _ : state) {
    w.slices["apps/svc-42-abcde"] = slice(42, 20, ++gen % 2);  // its endpoints' addresses change
    a.setTargets(w.targets());
  }
  state.counters["targets"] = static_cast<double>(a.targetCount());
  state.counters["maxrss_MB"] = maxRssMb();
}

}  // namespace

BENCHMARK(BM_EndpointSlicesToAllocation)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_OneEndpointSliceChanges)->Unit(benchmark::kMillisecond);
