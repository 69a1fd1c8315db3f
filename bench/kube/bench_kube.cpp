// Hot paths of lib/kube: watch-event decoding (events/s) and informer cache updates (events/s).
//   build/bench/kube/bench_kube --benchmark_repetitions=3
#include <benchmark/benchmark.h>

#include <string>

#include "lib/kube/client.h"
#include "lib/kube/informer.h"
#include "lib/kube/watch.h"

namespace {

// A realistic ConfigMap event line (~700 bytes, with managedFields) as a real apiserver sends it.
std::string eventLine(int i, const char* type = "MODIFIED") {
  otel::Json obj = {
      {"kind", "ConfigMap"},
      {"apiVersion", "v1"},
      {"metadata",
       {{"name", "cm-" + std::to_string(i % 1000)},
        {"namespace", "default"},
        {"uid", "df02ba31-a487-4523-8bbd-39ae0d873ce1"},
        {"resourceVersion", std::to_string(1000 + i)},
        {"creationTimestamp", "2026-11-22T12:48:42Z"},
        {"labels", {{"app", "demo"}, {"tier", "backend"}}},
        {"managedFields",
         otel::Json::array({{{"manager", "kubectl-otel"},
                             {"operation", "Update"},
                             {"apiVersion", "v1"},
                             {"time", "2026-11-22T12:48:42Z"},
                             {"fieldsType", "FieldsV1"},
                             {"fieldsV1", {{"f:data", {{".", otel::Json::object()}, {"f:x", otel::Json::object()}}}}}}})}}},
      {"data", {{"x", std::to_string(i)}, {"config.yaml", "receivers:\n  otlp:\n    protocols:\n      grpc: {}\n"}}}};
  return otel::Json({{"type", type}, {"object", obj}}).dump() + "\n";
}

void BM_WatchDecode(benchmark::State& state) {
  std::string stream;
  const int n = 1000;
  for (int i = 0; i < n; ++i) stream += eventLine(i);
  const std::size_t chunk = static_cast<std::size_t>(state.range(0));
  int64_t events = 0;
  for (auto _ : state) {
    otel::kube::WatchDecoder dec([&](otel::kube::WatchEvent&& ev) {
      benchmark::DoNotOptimize(ev.object);
      ++events;
      return true;
    });
    for (std::size_t off = 0; off < stream.size(); off += chunk)
      dec.feed(std::string_view(stream).substr(off, chunk));
  }
  state.SetItemsProcessed(events);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(stream.size()));
}
BENCHMARK(BM_WatchDecode)->Arg(16384)->Arg(1024);

}  // namespace

namespace {

// Arg 0: objects cached as JSON trees; 1: compact (MessagePack, as the controller's caches): each update
// encodes the new object and decodes the old one for the handlers.
void BM_InformerCacheUpdate(benchmark::State& state) {
  otel::kube::RestConfig cfg;
  cfg.server = "https://127.0.0.1:1";  // never contacted
  otel::kube::Client client(cfg);
  otel::kube::InformerOptions io;
  io.compact = state.range(0) != 0;
  io.transform = otel::kube::stripManagedFields;
  otel::kube::Informer inf(client, otel::kube::ResourceId{"v1", "configmaps", true, "ConfigMap"}, io);
  inf.addIndexer("app", [](const otel::Json& o) -> std::vector<std::string> {
    return {o["metadata"]["labels"].value("app", "")};
  });
  int64_t handled = 0;
  inf.addHandlers({[&](const otel::Json&) { ++handled; }, [&](const otel::Json&, const otel::Json&) { ++handled; },
                   [&](const otel::Json&) { ++handled; }});
  std::vector<otel::kube::WatchEvent> events;
  for (int i = 0; i < 1000; ++i) events.push_back(otel::kube::decodeWatchEvent(eventLine(i, i < 1000 ? "ADDED" : "MODIFIED")));
  int round = 0;
  for (auto _ : state) {
    state.PauseTiming();
    auto batch = events;
    for (auto& ev : batch) ev.object["metadata"]["resourceVersion"] = std::to_string(++round);
    state.ResumeTiming();
    for (auto& ev : batch) inf.applyEvent(std::move(ev));
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * 1000);
  benchmark::DoNotOptimize(handled);
}
BENCHMARK(BM_InformerCacheUpdate)->ArgName("compact")->Arg(0)->Arg(1);

}  // namespace
