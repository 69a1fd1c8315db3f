// What `kubectl otel install` creates: CRDs (embedded from deploy/crds), namespace, ServiceAccount,
// least-privilege RBAC, the controller Deployment (non-root, read-only root filesystem), Services
// and the admission webhook configurations with upstream's webhook names and paths. PURE.
#pragma once
#include <string>
#include <vector>

#include "lib/core/json.h"

namespace otel::manifests {

struct EmbeddedFile {
  const char* name;
  const char* content;
};
// deploy/crds/*.yaml as compiled into the binary (generated source).
const std::vector<EmbeddedFile>& embeddedCrds();

struct InstallOptions {
  std::string ns = "kubectl-otel-system";
  std::string image = "ghcr.io/kubectl-otel/kubectl-otel:latest";
  int replicas = 1;
  bool crds = true;  // include the CRDs
  // cert-manager issues the webhooks' serving certificate: a self-signed Issuer and a Certificate in `ns`,
  // its Secret mounted where `run` reads it (--webhook-certs files, reloaded when cert-manager renews it),
  // and `cert-manager.io/inject-ca-from` on the webhook configurations and the converting CRD. Otherwise
  // `run` manages the certificate itself (a Secret, the CA bundle written by the controller).
  bool certManager = false;
};

inline constexpr const char* kControllerName = "kubectl-otel-controller";
inline constexpr const char* kWebhookService = "kubectl-otel-webhook";
inline constexpr const char* kServingCertificate = "kubectl-otel-serving-cert";         // cert-manager Certificate
inline constexpr const char* kServingCertSecret = "kubectl-otel-webhook-server-cert";  // its Secret
inline constexpr const char* kSelfManagedCertSecret = "kubectl-otel-webhook-cert";     // `run`'s own certificate
// The upstream operator's serving certificate Secret (its kustomize and Helm installs; Helm prefixes it).
inline constexpr const char* kUpstreamCertSecret = "opentelemetry-operator-controller-manager-service-cert";
inline constexpr const char* kWebhookCertDir = "/tmp/k8s-webhook-server/serving-certs";  // controller-runtime's

// The CRD objects (parsed from the embedded files).
std::vector<Json> crdObjects();
// Every object, in apply order (CRDs, namespace, SA, RBAC, Services, Deployment, webhooks).
std::vector<Json> installObjects(const InstallOptions& opts);

// What `kubectl otel uninstall` deletes, in delete order: the reverse of installObjects (webhook
// configurations first, so nothing is blocked by a webhook whose controller is gone), without the
// CRDs unless `crds` (deleting a CRD deletes every object of its kind), and without the namespace
// when it is one Kubernetes owns (default, kube-system, kube-public, kube-node-lease).
std::vector<Json> uninstallObjects(const InstallOptions& opts, bool crds);

// True when a live Namespace carries the labels `install` gives the namespace it creates. `install` does
// not apply its Namespace over one that exists without them, so `uninstall` deletes only its own.
bool namespaceCreatedByInstall(const Json& ns);

// The API server as the operator's pod reaches it: the port named "https" and every endpoint address of
// the EndpointSlices of Service default/kubernetes (label kubernetes.io/service-name=kubernetes), as
// upstream's operator discovers it. Throws Error when no slice, no https port or no address is there.
struct ApiServerEndpoints {
  int port = 0;
  std::vector<std::string> addresses;
};
ApiServerEndpoints apiServerEndpoints(const std::vector<Json>& slices);

// Upstream's operator NetworkPolicy (feature gate operator.networkpolicy, beta, on by default): the
// operator's pods accept connections only on the webhook and metrics ports and connect only to the API
// server (its endpoint addresses, /32 or /128, on its port). It is named after, and selects, the
// operator pods' app.kubernetes.io/name label ("opentelemetry-operator" upstream, "kubectl-otel" for
// `install`'s Deployment; the Deployment's own selector and name when the label is missing), lives in the
// operator Deployment's namespace and is controlled by that Deployment, so it goes when the operator is
// uninstalled. A port of 0 is left out.
struct OperatorNetworkPolicyInput {
  Json deployment;  // the operator's own Deployment, as read from the API server (name, namespace, uid)
  ApiServerEndpoints apiServer;
  int webhookPort = 0;
  int metricsPort = 0;
};
Json operatorNetworkPolicy(const OperatorNetworkPolicyInput& in);

}  // namespace otel::manifests
