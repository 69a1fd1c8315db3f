// Collector CRs written from `kubectl otel create collector` flags: built-in presets (gateway,
// agent, sidecar: OTLP in, debug or OTLP out), or a user config file, plus target-allocator flags.
#pragma once
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "lib/core/json.h"

namespace otel::manifests {

struct CollectorParams {
  std::string name;
  std::string ns;             // "" -> no metadata.namespace
  std::string mode;           // "" -> preset's mode (gateway: deployment, agent: daemonset, sidecar: sidecar)
  std::optional<long long> replicas;
  std::string image;
  std::string preset;         // gateway|agent|sidecar ("" with config)
  std::optional<Json> config; // from --config FILE (structured)
  bool targetAllocator = false;
  std::string strategy;       // allocation strategy
  bool prometheusCR = false;
  std::string exporterEndpoint;  // OTLP gRPC endpoint; "" -> debug exporter
};

// The v1beta1 OpenTelemetryCollector for the flags. Throws otel::Error naming the flag on bad input
// (unknown preset or mode, both or neither of --config/--preset, TA with an incompatible mode ...).
Json collectorFromParams(const CollectorParams& p);

struct InstrumentationParams {
  std::string name;
  std::string ns;                            // "" -> no metadata.namespace
  std::string endpoint;                      // OTLP endpoint (http:// or https://); "" -> SDK default
  std::vector<std::string> propagators;      // "" -> tracecontext, baggage
  std::string sampler;                       // TYPE or TYPE=ARGUMENT; "" -> parentbased_traceidratio=1
  std::map<std::string, std::string> images; // language name (java, nodejs, ..., nginx) -> image
};

// The Instrumentation (opentelemetry.io/v1alpha1) for `kubectl otel create instrumentation` flags, as a
// user would write it (the webhook's defaults are not filled in). Validates like the API server (CRD
// enums) and upstream's webhook (sampler arguments); throws otel::Error naming the flag.
Json instrumentationFromParams(const InstrumentationParams& p);

}  // namespace otel::manifests
