// YAML -> JSON (MB/s) on a realistic manifest stream, YAML writing, and the Go JSON serializer used
// for config hashes. Run: build/bench/core/bench_core
#include <benchmark/benchmark.h>

#include <string>

#include "lib/core/gojson.h"
#include "lib/core/hash.h"
#include "lib/core/yaml.h"

namespace {

// A Deployment + Service + ConfigMap with a collector config, repeated `n` times as one stream.
std::string manifestStream(int n) {
  std::string one = R"(apiVersion: apps/v1
kind: Deployment
metadata:
  name: app-NAME
  namespace: default
  labels: {app: web, tier: "frontend", enabled: "on"}
  annotations:
    instrumentation.opentelemetry.io/inject-java: "true"
spec:
  replicas: 3
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: registry.example.com/web:1.2.3
        args: ["--port=8080", "--verbose"]
        env:
        - {name: MODE, value: "production"}
        - {name: FLAG, value: "yes"}
        ports:
        - {containerPort: 8080, name: http}
        resources:
          limits: {cpu: 500m, memory: 256Mi}
---
apiVersion: v1
kind: Service
metadata: {name: svc-NAME}
spec:
  ports:
  - {port: 80, targetPort: 8080}
  selector: {app: web}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: cfg-NAME}
data:
  collector.yaml: |
    receivers:
      otlp:
        protocols:
          grpc: {endpoint: 0.0.0.0:4317}
          http: {endpoint: 0.0.0.0:4318}
    exporters:
      debug: {}
    service:
      pipelines:
        traces: {receivers: [otlp], exporters: [debug]}
---
)";
  std::string out;
  for (int i = 0; i < n; ++i) {
    std::string doc = one;
    for (size_t p = doc.find("NAME"); p != std::string::npos; p = doc.find("NAME", p)) doc.replace(p, 4, std::to_string(i));
    out += doc;
  }
  return out;
}

void BM_YamlToJson(benchmark::State& state) {
  const std::string text = manifestStream(static_cast<int>(state.range(0)));
  for (auto _ : state) {
    auto docs = otel::parseYamlStream(text, "bench.yaml");
    benchmark::DoNotOptimize(docs);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(text.size()));
  state.counters["docs"] = static_cast<double>(state.range(0) * 3);
}
BENCHMARK(BM_YamlToJson)->Arg(10)->Arg(300)->Unit(benchmark::kMillisecond);

void BM_JsonToYaml(benchmark::State& state) {
  auto docs = otel::parseYamlStream(manifestStream(300), "bench.yaml");
  std::vector<otel::Json> values;
  for (auto& d : docs)
    if (!d.value.is_null()) values.push_back(d.value);
  size_t bytes = 0;
  for (auto _ : state) {
    std::string out = otel::toYamlStream(values);
    bytes = out.size();
    benchmark::DoNotOptimize(out);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(bytes));
}
BENCHMARK(BM_JsonToYaml)->Unit(benchmark::kMillisecond);

void BM_ConfigHash(benchmark::State& state) {
  auto cfg = otel::parseYaml(
      "receivers: {otlp: {protocols: {grpc: {endpoint: 0.0.0.0:4317}, http: {endpoint: 0.0.0.0:4318}}}, "
      "prometheus: {config: {scrape_configs: [{job_name: a, static_configs: [{targets: ['x:1', 'y:2']}]}]}}}\n"
      "processors: {batch: {send_batch_size: 1000, timeout: 10s}, memory_limiter: {limit_percentage: 75}}\n"
      "exporters: {otlp: {endpoint: 'backend:4317', tls: {insecure: true}}}\n"
      "service: {pipelines: {traces: {receivers: [otlp], processors: [batch], exporters: [otlp]}}}\n");
  for (auto _ : state) {
    auto h = otel::sha256Hex(otel::goJsonMarshal(cfg));
    benchmark::DoNotOptimize(h);
  }
}
BENCHMARK(BM_ConfigHash)->Unit(benchmark::kMicrosecond);

}  // namespace
