// The HTTPS edge of lib/webhook in `kubectl otel run`: the admission and conversion handlers on one
// server (:9443, upstream's paths), the pod webhook's lookups (namespace annotations, owners) through
// the API and its catalog (Instrumentations, collectors) from informers, RBAC checks through
// SubjectAccessReviews, fail-open counted in a metric.
#pragma once
#include <memory>
#include <stop_token>
#include <string>

#include "lib/http/metrics.h"
#include "lib/http/server.h"
#include "lib/inject/inject.h"
#include "lib/kube/client.h"

namespace otel::plugin {

struct WebhookOptions {
  std::string listenAddr = ":9443";
  std::string certFile, keyFile;  // PEM serving certificate and key (e.g. cert-manager's mounted tls.crt / tls.key)
  inject::Options inject;         // environment of the pod webhook (collector image, native sidecars)
  bool operatorCreatesRbac = true;
};

// Self-managed serving certificate: the Secret `kubectl-otel-webhook-cert` (type kubernetes.io/tls: ca.crt,
// tls.crt, tls.key) in `ns`, created when missing or not covering `sans` / expiring within 30 days (a
// replica that loses the create race reads the winner's, so replicas share one CA), written to
// `dir`/tls.crt and tls.key for the server, and its CA patched as caBundle into every webhook of our
// Mutating/ValidatingWebhookConfigurations and the collector CRD's conversion webhook (a write only when
// it differs). Returns the CA PEM. Throws otel::Error.
std::string ensureSelfManagedCert(kube::Client& client, const std::string& ns, const std::vector<std::string>& sans,
                                  const std::string& dir);

class WebhookServer {
 public:
  WebhookServer(kube::Client& client, http::Registry& metrics, WebhookOptions options);
  ~WebhookServer();
  WebhookServer(const WebhookServer&) = delete;
  WebhookServer& operator=(const WebhookServer&) = delete;
  // Starts the informers of the catalog and the HTTPS server; returns the bound port.
  int start(std::stop_token stop);
  bool synced() const;
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace otel::plugin
