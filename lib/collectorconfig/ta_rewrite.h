// The target-allocator side of the collector config: which receiver the TA serves, upstream's
// prometheus checks (exact messages), the receiver rewrite (scrape_configs -> target_allocator)
// and the Prometheus config handed to the TA ConfigMap.
#pragma once
#include <string>

#include "lib/api/common.h"
#include "lib/core/json.h"

namespace otel::collectorconfig {

// "prometheus" when that key exists; otherwise the only "prometheus/<x>" receiver (our documented
// improvement); "" when there is none or several named ones.
std::string prometheusReceiverKey(const Json& config);

// Upstream's TA config checks (collector webhook + ConfigMap build). Errors carry the full message
// "the OpenTelemetry Spec Prometheus configuration is incorrect, <cause>".
api::Diagnostics validateTargetAllocatorConfig(const Json& config, bool prometheusCREnabled);

// Receiver rewrite (§3.1): drop config.scrape_configs, set target_allocator {endpoint, interval,
// collector_id: ${POD_NAME}} (mTLS: https://<svc>:443 + tls files).
Json rewriteForTargetAllocator(const Json& config, const std::string& taServiceName, const std::string& interval,
                               bool mtls);

// The receiver's Prometheus config (global + scrape_configs) with "$$" -> "$" in relabel
// replacements, as the TA ConfigMap embeds it; null when the receiver has no config.
Json promConfigForTargetAllocator(const Json& config);

}  // namespace otel::collectorconfig
