// PURE builders: a defaulted v1beta1 OpenTelemetryCollector (and its TargetAllocator) -> the
// Kubernetes objects upstream's operator creates for it, per mode. No I/O.
#pragma once
#include <string>
#include <vector>

#include "lib/core/json.h"

namespace otel::manifests {

inline constexpr const char* kCollectorVersion = "0.158.0";
inline constexpr const char* kDefaultCollectorImage =
    "ghcr.io/open-telemetry/opentelemetry-collector-releases/opentelemetry-collector:0.158.0";
inline constexpr const char* kUpstreamTargetAllocatorImage =
    "ghcr.io/open-telemetry/opentelemetry-operator/target-allocator:0.158.0";

struct Options {
  std::string collectorImage = kDefaultCollectorImage;
  // Image of our own binary; the TA runs `kubectl-otel target-allocator` from it unless the TA spec
  // (or targetAllocatorImage) names another image, which then runs its own entrypoint.
  std::string ownImage = "ghcr.io/kubectl-otel/kubectl-otel:latest";
  std::string targetAllocatorImage;  // "" = ownImage with our command
  bool createRbac = true;            // the operator may create ClusterRoles/Bindings
  bool prometheusCRDs = true;        // ServiceMonitor/PodMonitor CRDs present
  bool certManager = false;
  // API server endpoints the TA NetworkPolicy allows egress to (discovered by the controller).
  std::vector<std::string> apiServerIPs;
  int apiServerPort = 443;
};

// sha256 (hex) of Go's encoding/json of the config struct: ConfigMap suffix and pod annotation.
std::string configHash(const Json& config);

// The service account a collector's pods run as: spec.serviceAccount, else <name>-collector (which the
// operator creates).
std::string collectorServiceAccount(const Json& collector);

// Labels: CR labels + selector labels + app.kubernetes.io/name (unless set) + version.
Json selectorLabels(const Json& crMeta, const std::string& component);
Json objectLabels(const Json& crMeta, const std::string& name, const std::string& image, const std::string& component);
// CR annotations minus kubectl's last-applied-configuration.
Json objectAnnotations(const Json& crMeta);

// Objects for a defaulted v1beta1 collector. `ta` is the TargetAllocator CR serving it (generated or
// standalone, null when none): it switches the ConfigMap to the rewritten config. The generated TA
// CR itself is included when the collector has spec.targetAllocator.enabled and `ta` is generated.
// Throws otel::Error (naming the collector) when the config cannot be built (e.g. bad TA config).
std::vector<Json> buildCollector(const Json& collector, const Json* ta, const Options& opts);

// Objects for a defaulted TargetAllocator CR; `collector` (may be null) is the collector it serves.
std::vector<Json> buildTargetAllocator(const Json& ta, const Json* collector, const Options& opts);

// mTLS between collectors and the TA: the Secret holding `which` ("serverCertificate" or
// "clientCertificate") — cert-manager's `<ta>-ta-server-cert`/`-ta-client-cert` unless useCertManager is
// false — and the projected volume (named like the Secret) mounted at /tls.
std::string mtlsSecret(const Json& taSpec, const char* which, const std::string& certManagerName);
Json mtlsVolume(const Json& taSpec, const std::string& secret);
// cert-manager Issuers/Certificates for a TA with mTLS and useCertManager.
std::vector<Json> certManagerObjects(const Json& ta, const Options& opts);

// The targetallocator.yaml content (yaml.v2 layout: sorted keys, non-indented sequences).
std::string targetAllocatorConfigYaml(const Json& ta, const Json* collector);

}  // namespace otel::manifests
