// The HTTPS edge of lib/webhook in `kubectl otel run`: the admission and conversion handlers on one
// server (:9443, upstream's paths), the pod webhook's lookups (namespace annotations, owners) through
// the API and its catalog (Instrumentations, collectors) from informers, RBAC checks through
// SubjectAccessReviews, fail-open counted in a metric.
#pragma once
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <stop_token>
#include <string>
#include <vector>

#include "lib/core/json.h"
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

// Lifetimes of the self-managed certificates. Each is renewed when less than a third of its validity is
// left (cert-manager's default renewBefore); the CA outlives every serving certificate it signs.
struct CertPolicy {
  long caValidity = 10L * 365 * 24 * 3600;
  long servingValidity = 365L * 24 * 3600;
};

// What the Secret needs (pure): keep it, a new serving certificate from its CA (same bundle, so no client
// changes trust), or a new CA (the bundle then holds the new and the previous CA until the latter expires).
enum class CertAction { Keep, NewServing, NewCa };
CertAction selfCertAction(const Json* secret, const std::vector<std::string>& sans, std::int64_t now, const CertPolicy& policy);

// Self-managed serving certificate: the Secret `kubectl-otel-webhook-cert` (type kubernetes.io/tls: ca.crt =
// the CA bundle, current CA first; ca.key; tls.crt; tls.key) in `ns`. When `mayWrite`, it is created or
// renewed as selfCertAction says (a replica that loses the write race reads the winner's, so replicas share
// one CA), and the bundle is patched as caBundle into every webhook of our Mutating/Validating
// WebhookConfigurations and the collector CRD's conversion webhook — before a new CA serves anything, and
// a write only when it differs. `dir`/tls.crt and tls.key get the Secret's pair (rewritten only when it
// changed). Returns true when the files changed. Throws otel::Error.
bool ensureSelfManagedCert(kube::Client& client, const std::string& ns, const std::vector<std::string>& sans,
                           const std::string& dir, const CertPolicy& policy = {}, bool mayWrite = true);

// How the serving certificate is kept fresh while serving.
struct CertRefresh {
  std::string mode = "files";  // files: reload tls.crt/tls.key when their content changes (cert-manager's mount)
                               // self: ensureSelfManagedCert each period, then reload
  std::string ns;
  std::vector<std::string> sans;
  CertPolicy policy;
  std::chrono::milliseconds period{10000};
  std::function<bool()> mayWrite;  // self: renewals are written only while this says so (the leader); null: always
};

// `run --webhook-host`: our webhook configurations and the collector CRD's conversion pointed at baseUrl with
// our CA (lib/webhook/registration), and undone by restore(): configurations that existed get their
// clientConfigs back, the ones created for this run are deleted. A registration left by a run that crashed
// is undone by the next run's restore (the originals live in an annotation on each object).
class UrlRegistration {
 public:
  UrlRegistration(kube::Client& client, std::string installNamespace) : client_(client), ns_(std::move(installNamespace)) {}
  void registerAll(const std::string& baseUrl, const std::string& caPem);  // throws otel::Error / kube::ApiError
  void restore();                                                          // logs what fails, never throws
 private:
  kube::Client& client_;
  std::string ns_;
};

class WebhookServer {
 public:
  WebhookServer(kube::Client& client, http::Registry& metrics, WebhookOptions options);
  ~WebhookServer();
  WebhookServer(const WebhookServer&) = delete;
  WebhookServer& operator=(const WebhookServer&) = delete;
  // Starts the informers of the catalog and the HTTPS server; returns the bound port.
  int start(std::stop_token stop);
  bool synced() const;
  // Keeps the served certificate fresh on a background thread until stop (see CertRefresh).
  void keepCertificateFresh(CertRefresh refresh, std::stop_token stop);
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace otel::plugin
