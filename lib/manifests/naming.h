// Upstream's object names (internal/naming): Truncate to 63 characters + DNSName, and every
// generated name (collector, services, ConfigMap with the config hash, TA objects, RBAC).
#pragma once
#include <string>
#include <vector>

namespace otel::manifests::naming {

// fmt.Sprintf(format with %s, values...) shortened like upstream's naming.Truncate: the first
// values are cut to make it fit `max`, then a hard cap, then non-alphanumerics trimmed at both ends.
std::string truncate(const std::string& format, size_t max, const std::vector<std::string>& values);
// Lowercase; characters outside [a-z0-9] -> '-' ('a' at the first and last position).
std::string dnsName(const std::string& s);

std::string collector(const std::string& n);             // <n>-collector
std::string configMap(const std::string& n, const std::string& hash);  // <n>-collector-<hash[:8]>
std::string headlessService(const std::string& n);       // <n>-collector-headless
std::string monitoringService(const std::string& n);     // <n>-collector-monitoring
std::string extensionService(const std::string& n);      // <n>-collector-extension
std::string ingress(const std::string& n);               // <n>-ingress
std::string networkPolicy(const std::string& n);         // <n>-collector-networkpolicy
std::string clusterRole(const std::string& n, const std::string& ns);         // <n>-<ns>-cluster-role
std::string clusterRoleBinding(const std::string& n, const std::string& ns);  // <n>-<ns>-collector
std::string monitoringServiceMonitor(const std::string& n);                   // <n>-monitoring-collector
std::string targetAllocator(const std::string& n);       // <n>-targetallocator
std::string targetAllocatorNetworkPolicy(const std::string& n);
std::string portNameTruncated(const std::string& name);  // Truncate(name, 15)

}  // namespace otel::manifests::naming
