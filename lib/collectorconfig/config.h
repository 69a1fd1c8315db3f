// The collector config model (spec.config of a v1beta1 collector): enabled components, port
// inference (upstream's receivers/exporters/extensions tables), config defaulting of the mutating
// webhook, metrics port, probes from health_check, component env and RBAC rules.
#pragma once
#include <map>
#include <set>
#include <string>
#include <vector>

#include "lib/core/json.h"

namespace otel::collectorconfig {

enum class Kind { Receiver, Exporter, Processor, Extension };

// Components referenced by service.pipelines (receivers/exporters/processors) or service.extensions.
std::map<Kind, std::set<std::string>> enabledComponents(const Json& config);

// "otlp/2" -> "otlp".
std::string componentType(const std::string& name);

// First ":<digits>" in an endpoint; 0 when there is none.
int portFromEndpoint(const std::string& endpoint);

// naming.PortName: receiver name > 15 chars or not a DNS label -> "port-<num>"; "/" "_" -> "-".
std::string portName(const std::string& componentName, int port);

// ServicePorts ({name, port, protocol, appProtocol?, targetPort}) inferred from the enabled
// components, sorted by name. Throws otel::Error on an unknown protocol of a multi-protocol receiver.
std::vector<Json> receiverPorts(const Json& config);
std::vector<Json> exporterPorts(const Json& config);
std::vector<Json> extensionPorts(const Json& config);
std::vector<Json> receiverAndExporterPorts(const Json& config);
std::vector<Json> allPorts(const Json& config);

// The collector's own metrics port: pull-prometheus reader port, legacy `address`, else 8888.
int metricsPort(const Json& config);

// Upstream's otelconfig.ApplyDefaults: endpoint defaults `0.0.0.0:<port>` for enabled known
// components, health_check path, telemetry metrics reader. Returns event messages.
std::vector<std::string> applyConfigDefaults(Json& config);

// Keys with null values ("receivers.otlp", ...), sorted (for the null-objects warning).
std::vector<std::string> nullObjects(const Json& config);

// Liveness/readiness probe from an enabled health_check extension (null when none).
Json healthProbe(const Json& config);

// Env vars components need (kubeletstats -> K8S_NODE_NAME), sorted by name.
std::vector<Json> componentEnv(const Json& config);

// RBAC PolicyRules components need (k8sattributes, resourcedetection, kubeletstats, k8s_events ...).
std::vector<Json> rbacRules(const Json& config);

}  // namespace otel::collectorconfig
