// Credential sources for the REST client: static token/certificates, token files re-read on rotation,
// and exec credential plugins (client.authentication.k8s.io v1/v1beta1) cached until they expire.
#pragma once
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "lib/core/json.h"
#include "lib/core/time.h"

namespace otel::kube {

// What goes on a request: a bearer token and/or a client certificate (PEM).
struct Credentials {
  std::string token;
  std::string clientCertPem;
  std::string clientKeyPem;
  bool operator==(const Credentials&) const = default;
};

// Thread-safe source of credentials. Never logs secrets.
class CredentialProvider {
 public:
  virtual ~CredentialProvider() = default;
  // Current credentials (may run a plugin or read a file). Throws otel::Error.
  virtual Credentials get() = 0;
  // Called after a 401 for a request made with `used`. Returns true when fresh credentials are available
  // (the caller then retries once).
  virtual bool refreshAfterUnauthorized(const Credentials& used) = 0;
};

class StaticCredentials : public CredentialProvider {
 public:
  explicit StaticCredentials(Credentials c) : creds_(std::move(c)) {}
  Credentials get() override { return creds_; }
  bool refreshAfterUnauthorized(const Credentials&) override { return false; }

 private:
  Credentials creds_;
};

// A token read from a file and re-read at most every `refresh` (and after a 401), so a rotated
// service-account token is picked up. Client certificate parts, if any, are static.
class TokenFileCredentials : public CredentialProvider {
 public:
  TokenFileCredentials(std::string path, std::chrono::seconds refresh, Credentials base = {});
  Credentials get() override;
  bool refreshAfterUnauthorized(const Credentials& used) override;

 private:
  std::string path_;
  std::chrono::seconds refresh_;
  Credentials base_;
  std::mutex mu_;
  std::string token_;
  std::chrono::steady_clock::time_point readAt_{};
  bool haveToken_ = false;
};

// Configuration of an exec credential plugin (the kubeconfig `user.exec` stanza, resolved).
struct ExecConfig {
  std::string apiVersion;                 // client.authentication.k8s.io/v1 or /v1beta1
  std::string command;                    // resolved: absolute, or a bare name looked up on PATH
  std::vector<std::string> args;
  std::vector<std::pair<std::string, std::string>> env;
  std::string installHint;
  std::string interactiveMode;            // Never | IfAvailable | Always
  bool provideClusterInfo = false;
  Json cluster = Json::object();          // ExecCredential spec.cluster (when provideClusterInfo)
  std::string userName;                   // for messages
  bool stdinUnavailable = false;
};

// Runs the plugin on demand; credentials are cached until status.expirationTimestamp (forever without
// one) and the plugin is re-run once after a 401 unless the cache has already been refreshed.
class ExecCredentials : public CredentialProvider {
 public:
  explicit ExecCredentials(ExecConfig config);
  Credentials get() override;
  bool refreshAfterUnauthorized(const Credentials& used) override;
  int runs() const;  // how many times the plugin ran (for tests)

 private:
  Credentials runLocked();
  ExecConfig config_;
  mutable std::mutex mu_;
  std::optional<Credentials> cached_;
  std::optional<std::chrono::system_clock::time_point> expiry_;
  int runs_ = 0;
};

// Parses the plugin's stdout. Throws otel::Error with client-go's messages
// ("exec plugin didn't return a status field" ...). `expiry` receives status.expirationTimestamp.
Credentials parseExecCredential(const std::string& output, const std::string& expectedApiVersion,
                                std::optional<std::chrono::system_clock::time_point>* expiry);

// The KUBERNETES_EXEC_INFO value handed to the plugin.
std::string execInfoJson(const ExecConfig& config, bool interactive);

// RFC 3339 times: lib/core/time.h (kept reachable here for the kube callers).
using otel::formatRfc3339;
using otel::parseRfc3339;

}  // namespace otel::kube
