// OpAMPBridge v1alpha1 (opentelemetry.io): upstream's webhook defaulting and validation (exact messages).
#pragma once
#include "lib/api/common.h"
#include "lib/core/json.h"

namespace otel::api {

inline constexpr const char* kOpAMPBridgeKind = "OpAMPBridge";

bool isOpAMPBridge(const Json& obj);

// The webhook's defaults: upgradeStrategy automatic, replicas 1, capabilities.ReportsStatus true.
void defaultOpAMPBridge(Json& bridge);

// In upstream's order: "the OpAMP server endpoint is not specified", "tls.insecure and
// tls.insecure_skip_verify cannot both be true", "the capabilities supported by OpAMP Bridge are not
// specified", the ports message, "replica count must not be greater than 1".
Diagnostics validateOpAMPBridge(const Json& bridge);

}  // namespace otel::api
