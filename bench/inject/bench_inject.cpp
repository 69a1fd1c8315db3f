// File mode on a manifest stream: `kubectl otel inject -f` (parse, mutate, re-emit) and uninject,
// for 1,000 documents (250 annotated Deployments) and the per-pod mutation alone.
#include <benchmark/benchmark.h>

#include "lib/core/yaml.h"
#include "lib/inject/stream_gen.h"
#include "lib/inject/workload.h"

namespace {

void BM_InjectFileMode(benchmark::State& state) {
  const std::string stream = otel::inject::syntheticManifestStream(static_cast<int>(state.range(0)));
  otel::inject::FileModeOptions o;
  for (auto _ : state) {
    auto r = otel::inject::processManifests({{"bench.yaml", stream}}, o);
    benchmark::DoNotOptimize(r.output.data());
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(stream.size()));
}
BENCHMARK(BM_InjectFileMode)->Arg(1000)->Unit(benchmark::kMillisecond);

void BM_UninjectFileMode(benchmark::State& state) {
  const std::string stream = otel::inject::syntheticManifestStream(static_cast<int>(state.range(0)));
  const std::string injected = otel::inject::processManifests({{"bench.yaml", stream}}, {}).output;
  otel::inject::FileModeOptions o;
  o.uninject = true;
  for (auto _ : state) {
    auto r = otel::inject::processManifests({{"bench.yaml", injected}}, o);
    benchmark::DoNotOptimize(r.output.data());
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_UninjectFileMode)->Arg(1000)->Unit(benchmark::kMillisecond);

void BM_InjectPodJava(benchmark::State& state) {
  const std::string stream = otel::inject::syntheticManifestStream(2);
  auto docs = otel::parseYamlStream(stream);
  otel::inject::Catalog catalog{{docs[0].value}, {}};
  const otel::Json tmpl = *otel::inject::podTemplate(docs[1].value);
  otel::inject::PodContext ctx;
  ctx.deployment = "svc-1";
  otel::inject::Options opts;
  for (auto _ : state) {
    auto r = otel::inject::injectPod(tmpl, ctx, catalog, opts);
    benchmark::DoNotOptimize(r.pod);
  }
}
BENCHMARK(BM_InjectPodJava);

}  // namespace
