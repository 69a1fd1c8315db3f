// kubeconfig and in-cluster configuration: finds, merges and resolves the files kubectl reads
// (--kubeconfig, KUBECONFIG, ~/.kube/config, service account) into one RestConfig for the REST client.
#pragma once
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "lib/core/json.h"
#include "lib/kube/credentials.h"

namespace otel::kube {

// Everything the REST client needs to reach and authenticate to one API server.
struct RestConfig {
  std::string server;         // "https://host:port[/prefix]"
  std::string caPem;          // CA bundle (PEM); empty = system roots
  bool insecureSkipTlsVerify = false;
  std::string tlsServerName;  // SNI / verification name when it differs from the URL host
  std::string proxyUrl;       // http://, https:// or socks5:// proxy ("" = libcurl's environment rules)
  std::string username;       // basic auth (legacy)
  std::string password;
  std::string impersonateUser;
  std::string impersonateUid;
  std::vector<std::string> impersonateGroups;
  std::shared_ptr<CredentialProvider> credentials;  // token and/or client certificate; may be null
  std::string ns = "default";  // resolved namespace (-n, context, in-cluster, "default")
  bool nsExplicit = false;     // true when -n was given
  double qps = 5.0;            // client-side rate limit; <= 0 disables
  int burst = 10;
  std::string userAgent;       // "kubectl-otel/<version>"
  std::chrono::milliseconds timeout{0};  // per non-watch request; 0 = none
  int maxRetries = 10;         // for 429 / 5xx answers that carry Retry-After
  // Where it came from (for messages): context/cluster/user names, or "in-cluster".
  std::string contextName;
  std::string clusterName;
  std::string userName;
  bool inCluster = false;
};

using GetEnv = std::function<std::optional<std::string>(const std::string&)>;

// Inputs of loadRestConfig: the global CLI flags plus injectable environment for tests.
struct LoadOptions {
  std::string kubeconfig;  // --kubeconfig: exactly this file (must exist), no merging
  std::string context;     // --context
  std::string cluster;     // --cluster
  std::string user;        // --user
  std::string ns;          // -n
  // Environment lookup (KUBECONFIG, HOME, KUBERNETES_SERVICE_HOST/PORT, POD_NAMESPACE); empty = ::getenv.
  GetEnv getenv;
  // Service account folder (token, ca.crt, namespace).
  std::string inClusterRoot = "/var/run/secrets/kubernetes.io/serviceaccount";
  // How often token files (tokenFile, service account token) are re-read.
  std::chrono::seconds tokenFileRefresh{60};
  // Set when stdin carries data (-f -): exec plugins then never run interactively.
  bool stdinUnavailable = false;
};

// One named stanza (cluster, user or context) and the file it came from.
struct KubeconfigEntry {
  Json value;        // the inner object ("cluster", "user" or "context")
  std::string file;  // the file it was read from (relative paths resolve against its folder)
  int index = 0;     // position in that file's list (for error messages)
};

// The merged view of one or more kubeconfig files (first file wins per whole stanza).
struct Kubeconfig {
  std::vector<std::string> files;  // the files that were read, in order
  std::string currentContext;      // first file that sets it wins
  std::map<std::string, KubeconfigEntry> clusters;
  std::map<std::string, KubeconfigEntry> users;
  std::map<std::string, KubeconfigEntry> contexts;
  bool empty() const { return clusters.empty() && users.empty() && contexts.empty() && currentContext.empty(); }
};

// Parses one kubeconfig text; errors name `file` and the field. Throws otel::Error.
Kubeconfig parseKubeconfig(const std::string& text, const std::string& file);
// Merges `next` into `into` with client-go's rule: existing names and current-context are kept.
void mergeKubeconfig(Kubeconfig& into, const Kubeconfig& next);
// Reads the files kubectl would read for these options (explicit file, KUBECONFIG list or ~/.kube/config).
// Missing KUBECONFIG entries are skipped; a missing explicit file is an error. Throws otel::Error.
Kubeconfig loadKubeconfig(const LoadOptions& options);

// Builds the RestConfig for the selected context of `config` (context/cluster/user overrides applied).
RestConfig resolveRestConfig(const Kubeconfig& config, const LoadOptions& options);
// The in-cluster service account configuration. Throws otel::Error when not in a cluster.
RestConfig inClusterRestConfig(const LoadOptions& options);
bool inClusterAvailable(const LoadOptions& options);

// The full precedence: --kubeconfig, KUBECONFIG, in-cluster, ~/.kube/config. Throws otel::Error with one
// clear line (malformed file, unknown context, missing configuration ...).
RestConfig loadRestConfig(const LoadOptions& options);

}  // namespace otel::kube
