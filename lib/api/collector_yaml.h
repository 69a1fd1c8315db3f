// The collector config in the byte forms upstream writes: Go's encoding/json of the v1beta1 Config
// struct (for the config hash) and goccy/go-yaml (collector.yaml, v1alpha1 config strings).
#pragma once
#include <string>

#include "lib/core/json.h"

namespace otel::api {

// The config as upstream's v1beta1.Config struct sees it: fields in struct order (receivers,
// exporters, processors, connectors, extensions, service{extensions, telemetry, pipelines}),
// omitempty fields dropped, unknown top-level keys dropped, every map sorted by key.
Json configStructView(const Json& config);

// Go encoding/json bytes of the v1beta1.Config struct (input for the sha256 config hash).
std::string configGoJson(const Json& config);

// goccy/go-yaml encoding (IndentSequence, AutoInt) of a value with keys in their Json order.
std::string goYaml(const Json& value, int indent);

// Config.Yaml(): configStructView written with indent 2 (collector.yaml without a target allocator).
std::string collectorConfigYaml(const Json& config);

// Recursively sorts object keys (Go map iteration as the YAML/JSON encoders print it).
Json sortedKeys(const Json& value);

}  // namespace otel::api
