// The collector sidecar (`otc-container`) built from an OpenTelemetryCollector in sidecar mode, and its
// selection from the `sidecar.opentelemetry.io/inject` annotation (upstream pkg/sidecar contract).
#pragma once
#include <string>
#include <vector>

#include "lib/core/json.h"

namespace otel::inject {

struct PodContext;
struct Catalog;

// The collector's config as the sidecar receives it in OTEL_CONFIG (v1beta1 object -> YAML with sorted
// keys; v1alpha1 string as written).
std::string collectorConfigYaml(const Json& collector);

// Container ports the collector exposes: receivers referenced by pipelines (otlp, jaeger, zipkin, ... or
// any `endpoint: host:port`), plus `metrics` 8888; sorted by name.
Json collectorPorts(const Json& collector);

// The `otc-container` for `collector` in a pod of namespace ctx.ns (classic, or native: restartPolicy Always).
Json sidecarContainer(const Json& collector, const PodContext& ctx, const std::string& image, bool native);

// Volumes the sidecar needs in the pod: spec.volumes and `configmap-<name>` for spec.configmaps.
Json sidecarVolumes(const Json& collector);

// Picks the collector for an annotation value (true / <name> / <ns>/<name>). Returns the collector or
// sets `error` to upstream's message.
const Json* selectCollector(const std::string& value, const PodContext& ctx, const Catalog& catalog, std::string& error);

}  // namespace otel::inject
