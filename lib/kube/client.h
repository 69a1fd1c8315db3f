// The REST client over libcurl: authenticated, rate-limited HTTP to one API server, and the object
// operations (get, paginated list, create, update, status, patch, apply, delete, watch, version) on Json.
#pragma once
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <vector>

#include "lib/core/json.h"
#include "lib/kube/errors.h"
#include "lib/kube/kubeconfig.h"
#include "lib/kube/rate_limiter.h"
#include "lib/kube/watch.h"

namespace otel::kube {

class RestMapper;

// Where a kind lives: apiVersion ("v1", "apps/v1"), plural resource, scope, kind.
struct ResourceId {
  std::string apiVersion;
  std::string resource;
  bool namespaced = true;
  std::string kind;
  std::string group() const;
  std::string version() const;
  bool operator==(const ResourceId&) const = default;
};

// "/api/v1/namespaces/ns/configmaps/name/status" (ns ignored for cluster-scoped; ns "" = all namespaces).
std::string resourcePath(const ResourceId& id, const std::string& ns, const std::string& name = "",
                         const std::string& subresource = "");
// Percent-encodes a query value.
std::string urlEncode(const std::string& s);

struct HttpRequest {
  std::string method = "GET";
  std::string path;  // absolute path with query, e.g. "/api/v1/namespaces?limit=5"
  std::string body;
  std::string contentType;
  std::string accept = "application/json";
};

struct HttpResponse {
  long status = 0;
  std::string body;
  std::string contentType;
  std::map<std::string, std::string> headers;  // lower-case names
  std::vector<std::string> warnings;           // texts of Warning: 299 headers
};

struct ListOptions {
  std::string labelSelector;
  std::string fieldSelector;
  int limit = 500;                  // page size; 0 = no pagination
  std::string resourceVersion;      // "" = most recent, "0" = any
  std::string resourceVersionMatch;
};

struct WriteOptions {
  std::string fieldManager = "kubectl-otel";
  bool dryRun = false;
};

enum class PatchType { Merge, Json, Strategic, Apply };

struct PatchOptions {
  std::string fieldManager = "kubectl-otel";
  bool force = false;   // server-side apply only
  bool dryRun = false;
  std::string subresource;  // "status" to patch the status subresource
};

struct DeleteOptions {
  std::string propagationPolicy;  // "", Background, Foreground, Orphan
  std::optional<int> gracePeriodSeconds;
  std::string preconditionUid;
  std::string preconditionResourceVersion;
  bool dryRun = false;
};

struct WatchOptions {
  std::string labelSelector;
  std::string fieldSelector;
  std::string resourceVersion;
  bool allowBookmarks = true;
  int timeoutSeconds = 0;  // server-side end of stream; 0 = server default
  int idleTimeoutSeconds = 0;  // client-side: end the stream when no byte arrived for this long; 0 = none
};

struct WatchResult {
  enum class End { Closed, Expired, Stopped };
  End end = End::Closed;
  std::string lastResourceVersion;  // RV of the last event or bookmark seen ("" if none)
  int events = 0;
};

class Client {
 public:
  explicit Client(RestConfig config);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  const RestConfig& config() const { return config_; }

  // One HTTP exchange with auth, rate limit, one re-auth on 401 and Retry-After retries. Does not throw
  // for HTTP error statuses; throws ConnectionError when there is no answer.
  HttpResponse request(const HttpRequest& req);
  // request() that throws ApiError for non-2xx answers and parses the JSON body.
  Json requestJson(const HttpRequest& req);

  // GET /version.
  Json version();

  // Discovery-backed mapping kind <-> resource (created on first use, refreshed on a miss).
  RestMapper& mapper();
  // The resource of an object's apiVersion/kind (mapper lookup). Throws otel::Error when unknown.
  ResourceId resourceFor(const std::string& apiVersion, const std::string& kind);
  ResourceId resourceFor(const Json& object);

  Json get(const ResourceId& id, const std::string& ns, const std::string& name);
  // All pages concatenated: a List with apiVersion, kind "<Kind>List", metadata.resourceVersion, items.
  Json list(const ResourceId& id, const std::string& ns, const ListOptions& options = {});
  // Object operations; the resource comes from the mapper, the namespace from the object (else the config's).
  Json create(const Json& object, const WriteOptions& options = {});
  Json update(const Json& object, const WriteOptions& options = {});
  Json updateStatus(const Json& object, const WriteOptions& options = {});
  Json create(const ResourceId& id, const std::string& ns, const Json& object, const WriteOptions& options = {});
  Json update(const ResourceId& id, const std::string& ns, const Json& object, const WriteOptions& options = {},
              const std::string& subresource = "");
  Json patch(const ResourceId& id, const std::string& ns, const std::string& name, PatchType type, const Json& body,
             const PatchOptions& options = {});
  // Server-side apply of the whole intent object.
  Json apply(const Json& object, const PatchOptions& options = {});
  // Returns what the server answered (the object when finalizers keep it, else a Status or the object).
  Json remove(const ResourceId& id, const std::string& ns, const std::string& name, const DeleteOptions& options = {});

  // Streams events to `handler` (return false to stop) until the server ends the stream (Closed), the
  // resourceVersion is too old (Expired: relist), the handler or `stop` ends it (Stopped). Throws ApiError
  // for other ERROR events or non-200 answers, ConnectionError when the server is unreachable.
  WatchResult watch(const ResourceId& id, const std::string& ns, const WatchOptions& options,
                    const std::function<bool(WatchEvent&&)>& handler, std::stop_token stop = {});

  // Called with each server Warning text (default: logged as a warning).
  void setWarningHandler(std::function<void(const std::string&)> handler);
  // Called after every answered request (method, HTTP status), e.g. for rest_client_requests_total.
  void setResponseObserver(std::function<void(const std::string& method, long status)> observer);

  struct Transport;

 private:
  std::string namespaceFor(const ResourceId& id, const Json& object) const;
  RestConfig config_;
  TokenBucket limiter_;
  std::unique_ptr<Transport> transport_;
  std::mutex mapperMu_;
  std::unique_ptr<RestMapper> mapper_;
  std::function<void(const std::string&)> warningHandler_;
  std::function<void(const std::string&, long)> responseObserver_;
};

}  // namespace otel::kube
