// An in-process Kubernetes API server for tests: HTTPS on 127.0.0.1 with a generated CA, an in-memory
// store that answers like kube-apiserver (see docs/testing.md), admission webhooks and fault injection.
#pragma once
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "lib/core/json.h"

namespace otel::testing {

// A user that authenticates with a bearer token: the server sees `name` with `groups` plus
// system:authenticated, and authorizes it with RBAC (docs/testing.md).
struct TestUser {
  std::string token;
  std::string name;
  std::vector<std::string> groups = {};  // defaulted, so {"token", "name"} compiles without a warning
};

struct TestApiServerOptions {
  // When true, every request needs "Authorization: Bearer <token>" (or a client certificate signed by
  // clientCaPem) and gets a 401 Status otherwise.
  bool requireToken = true;
  // The superuser's bearer token (user "admin", groups system:masters and system:authenticated); empty means
  // a random one is generated (read it with token()).
  std::string token;
  // A second token that authenticates (user "forbidden") but is refused every resource request (403 Status),
  // for client error tests.
  std::string forbiddenToken;
  // More token users, authorized by RBAC against the stored Roles, ClusterRoles and bindings.
  std::vector<TestUser> users;
  // PEM CA: when set, the TLS layer asks for a client certificate and accepts those signed by this CA
  // (user = CN, groups = O plus system:authenticated; authorized by RBAC unless in system:masters).
  std::string clientCaPem;
  // 0 picks a random free port.
  int port = 0;
  // How many watch events are kept for resourceVersion resumes; older resumes get 410 Expired.
  std::size_t historyLimit = 100000;
  // How often an idle watch with allowWatchBookmarks=true gets a BOOKMARK event.
  std::chrono::milliseconds bookmarkInterval{1000};
  // Print one line per answered request to stderr (method, target, status), for debugging clients.
  bool logRequests = false;
  // Namespaces created at start ("default", "kube-system", "kube-public" when empty).
  std::vector<std::string> namespaces;
};

// One request as seen by the server (for assertions in tests).
struct RecordedRequest {
  std::string method;
  std::string path;   // without the query
  std::string query;  // raw query string, "" if none
  std::string contentType;
  std::string userAgent;
  int status = 0;
};

class TestApiServer {
 public:
  // Generates the certificates, binds 127.0.0.1 and serves on a background thread. Throws otel::Error.
  explicit TestApiServer(TestApiServerOptions options = {});
  // Ends every watch stream cleanly and stops the server (never hangs on open watches).
  ~TestApiServer();
  TestApiServer(const TestApiServer&) = delete;
  TestApiServer& operator=(const TestApiServer&) = delete;

  // "https://127.0.0.1:<port>".
  std::string url() const;
  int port() const;
  // PEM of the CA that signed the serving certificate (SAN IP 127.0.0.1, DNS localhost).
  std::string caPem() const;
  std::string token() const;
  // A kubeconfig (cluster "test", user "test", context "test", current) with server,
  // certificate-authority-data and the superuser's token; `ns` becomes the context's namespace.
  std::string kubeconfigYaml(const std::string& ns = "default") const;
  void writeKubeconfig(const std::string& path, const std::string& ns = "default") const;
  // The same for another bearer token (a TestUser's): same cluster and CA; the user entry is named after the
  // TestUser with that token ("test" for the superuser's token or an unknown one).
  std::string kubeconfigYaml(const std::string& ns, const std::string& token) const;
  void writeKubeconfig(const std::string& path, const std::string& ns, const std::string& token) const;

  // ---- direct store access (no admission, no validation, no auth; events are emitted) ----
  // The store starts with the bootstrap RBAC policy (ClusterRoles cluster-admin, system:discovery,
  // system:basic-user, system:public-info-viewer and their ClusterRoleBindings) besides the namespaces.
  // apiVersion "v1" or "group/version"; resource is the plural ("configmaps"); ns "" for cluster scope.
  // Returns null when missing. No conversion webhook is called: for a CRD with conversion strategy Webhook the
  // object comes back as stored (in the storage version, or the apiVersion putObject() was given); with
  // strategy None it is relabelled to `apiVersion`.
  Json getObject(const std::string& apiVersion, const std::string& resource, const std::string& ns,
                 const std::string& name) const;
  // Creates or replaces the object (apiVersion/kind/metadata.name[/namespace] taken from it; the kind must
  // be a built-in or served CRD kind). Sets uid/creationTimestamp on create, bumps resourceVersion, keeps
  // status as given. Returns the stored object. Throws otel::Error for an unknown kind.
  Json putObject(const Json& object);
  // Removes the object immediately (no finalizers, no GC). Returns false when it did not exist.
  bool deleteObject(const std::string& apiVersion, const std::string& resource, const std::string& ns,
                    const std::string& name);
  // All objects of a resource (ns "" = all namespaces), ordered by namespace then name; versions as getObject.
  std::vector<Json> listObjects(const std::string& apiVersion, const std::string& resource,
                                const std::string& ns = "") const;
  // The current global resourceVersion (the last one assigned).
  std::int64_t resourceVersion() const;

  // ---- fault injection ----
  // Ends every open watch stream now (clients see a clean end of stream and must resume).
  void closeWatches();
  // Drops the event history: a later watch resuming from any older resourceVersion gets 410 Expired,
  // and pending list continue tokens expire.
  void forgetHistory();
  // The next n requests (watches included, discovery included) are answered with `status` (500, 429, 503 ...)
  // as a Status body; retryAfterSeconds > 0 adds a Retry-After header.
  void failNext(int n, int status, int retryAfterSeconds = 0);
  // Every answer is delayed by this much (0 disables).
  void setDelay(std::chrono::milliseconds delay);
  // Called before each request is handled (no server lock held; status still 0) with its method, path and
  // query. A test can write to the store from here (putObject) as a concurrent writer would, so that, for
  // example, the first PUT after a GET meets a newer resourceVersion and gets 409 Conflict,
  // deterministically. An empty function removes the hook.
  using RequestHook = std::function<void(const RecordedRequest&)>;
  void setRequestHook(RequestHook hook);

  // ---- admission hooks ----
  // Maps a webhook clientConfig.service (namespace, name, port, path) to a URL "https://host:port/path".
  // Without a resolver, service references fail (and failurePolicy decides).
  using ServiceResolver =
      std::function<std::string(const std::string& ns, const std::string& name, int port, const std::string& path)>;
  void setServiceResolver(ServiceResolver resolver);
  // What GET /api/v1/namespaces/NS/pods/POD/log?container=C answers (text/plain; tailLines honoured).
  void setPodLog(const std::string& ns, const std::string& pod, const std::string& container, const std::string& text);

  // ---- counters ----
  std::vector<RecordedRequest> requests() const;
  void clearRequests();
  // Number of requests whose method matches (or any when empty) and whose path starts with pathPrefix.
  int requestCount(const std::string& method = "", const std::string& pathPrefix = "") const;
  int activeWatches() const;
  int watchesStarted() const;
  int webhookCalls() const;  // admission webhook calls
  // ConversionReviews POSTed to CRD conversion webhooks (strategy Webhook), one per conversion call.
  int conversionWebhookCalls() const;
  // Waits (bounded) until at least n watch streams are open; true when reached.
  bool waitForWatches(int n, std::chrono::milliseconds timeout = std::chrono::seconds(5)) const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace otel::testing
