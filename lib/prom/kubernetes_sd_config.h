// The parsed form of one kubernetes_sd_configs entry (parsing and target building: kubernetes_sd.h).
#pragma once
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace otel::prom {

enum class K8sRole { Pod, Service, Endpoints, EndpointSlice, Node, Ingress };
std::optional<K8sRole> parseK8sRole(const std::string& s);
const char* k8sRoleName(K8sRole r);

struct K8sSelector {
  std::string label, field;
};

struct KubernetesSdConfig {
  K8sRole role = K8sRole::Pod;
  std::vector<std::string> namespaces;  // namespaces.names; empty (and no own_namespace) = all
  bool ownNamespace = false;
  std::map<K8sRole, K8sSelector> selectors;
  bool attachNode = false, attachNamespace = false;
  std::string kubeconfigFile;
};

}  // namespace otel::prom
