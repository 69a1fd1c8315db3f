// Collector CRs written from `kubectl otel create collector` flags: built-in presets (gateway,
// agent, sidecar: OTLP in, debug or OTLP out), or a user config file, plus target-allocator flags.
#pragma once
#include <optional>
#include <string>

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

}  // namespace otel::manifests
