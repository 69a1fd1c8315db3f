#include "lib/kube/client.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <thread>

#include "lib/core/error.h"
#include "lib/core/log.h"
#include "lib/kube/discovery.h"

namespace otel::kube {

// ---------------------------------------------------------------- paths

std::string ResourceId::group() const {
  auto s = apiVersion.find('/');
  return s == std::string::npos ? std::string() : apiVersion.substr(0, s);
}

std::string ResourceId::version() const {
  auto s = apiVersion.find('/');
  return s == std::string::npos ? apiVersion : apiVersion.substr(s + 1);
}

std::string urlEncode(const std::string& s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

std::string resourcePath(const ResourceId& id, const std::string& ns, const std::string& name,
                         const std::string& subresource) {
  std::string p = id.group().empty() ? "/api/" + id.apiVersion : "/apis/" + id.apiVersion;
  if (id.namespaced && !ns.empty()) p += "/namespaces/" + urlEncode(ns);
  p += "/" + id.resource;
  if (!name.empty()) p += "/" + urlEncode(name);
  if (!subresource.empty()) p += "/" + subresource;
  return p;
}

namespace {

struct CurlGlobal {
  CurlGlobal() { curl_global_init(CURL_GLOBAL_DEFAULT); }
};

void ensureCurlGlobal() {
  static CurlGlobal g;  // initialized once, thread-safe; holds no mutable state
  (void)g;
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Host and port of a URL "https://host:port/prefix".
struct UrlParts {
  std::string scheme, host, port, prefix;
};

UrlParts splitUrl(const std::string& url) {
  UrlParts u;
  auto s = url.find("://");
  u.scheme = url.substr(0, s);
  std::string rest = url.substr(s + 3);
  auto slash = rest.find('/');
  std::string hostport = rest.substr(0, slash);
  u.prefix = slash == std::string::npos ? "" : rest.substr(slash);
  if (!hostport.empty() && hostport[0] == '[') {
    auto close = hostport.find(']');
    u.host = hostport.substr(0, close + 1);
    if (close + 1 < hostport.size() && hostport[close + 1] == ':') u.port = hostport.substr(close + 2);
  } else {
    auto colon = hostport.rfind(':');
    u.host = hostport.substr(0, colon);
    if (colon != std::string::npos) u.port = hostport.substr(colon + 1);
  }
  if (u.port.empty()) u.port = u.scheme == "http" ? "80" : "443";
  return u;
}

int parseRetryAfter(const std::map<std::string, std::string>& headers) {
  auto it = headers.find("retry-after");
  if (it == headers.end()) return 0;
  try {
    return std::max(0, std::stoi(it->second));
  } catch (...) {
    return 0;
  }
}

struct Exchange {
  HttpResponse* resp = nullptr;
  std::function<bool(std::string_view)> onData;  // streaming (watch); null = buffer the body
  bool aborted = false;
};

size_t writeCb(char* ptr, size_t size, size_t nmemb, void* ud) {
  auto* ex = static_cast<Exchange*>(ud);
  size_t n = size * nmemb;
  if (ex->onData && ex->resp->status == 200) {
    if (!ex->onData(std::string_view(ptr, n))) {
      ex->aborted = true;
      return 0;
    }
    return n;
  }
  ex->resp->body.append(ptr, n);
  return n;
}

size_t headerCb(char* ptr, size_t size, size_t nmemb, void* ud) {
  auto* ex = static_cast<Exchange*>(ud);
  size_t n = size * nmemb;
  std::string line(ptr, n);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
  if (line.rfind("HTTP/", 0) == 0) {
    // A new response (e.g. after 100-continue): reset.
    ex->resp->headers.clear();
    ex->resp->warnings.clear();
    auto sp = line.find(' ');
    if (sp != std::string::npos) ex->resp->status = std::atol(line.c_str() + sp + 1);
    return n;
  }
  auto colon = line.find(':');
  if (colon == std::string::npos) return n;
  std::string name = lower(line.substr(0, colon));
  std::string value = line.substr(colon + 1);
  while (!value.empty() && value.front() == ' ') value.erase(0, 1);
  if (name == "warning") {
    // 299 - "text"
    auto q1 = value.find('"');
    auto q2 = value.rfind('"');
    if (q1 != std::string::npos && q2 > q1) ex->resp->warnings.push_back(value.substr(q1 + 1, q2 - q1 - 1));
    else ex->resp->warnings.push_back(value);
  }
  if (name == "content-type") ex->resp->contentType = value;
  ex->resp->headers[name] = value;
  return n;
}

}  // namespace

// ---------------------------------------------------------------- transport

struct Client::Transport {
  RestConfig cfg;
  UrlParts url;
  std::string connectTo;  // CURLOPT_CONNECT_TO entry for tls-server-name
  std::string base;       // URL prefix used in requests
  std::mutex mu;
  std::vector<CURL*> idle;

  explicit Transport(const RestConfig& c) : cfg(c) {
    ensureCurlGlobal();
    url = splitUrl(cfg.server);
    base = cfg.server;
    if (!cfg.tlsServerName.empty() && url.scheme == "https") {
      // SNI and verification use tls-server-name while the socket goes to the real host.
      connectTo = cfg.tlsServerName + ":" + url.port + ":" + url.host + ":" + url.port;
      base = url.scheme + "://" + cfg.tlsServerName + ":" + url.port + url.prefix;
    }
  }
  ~Transport() {
    for (auto* h : idle) curl_easy_cleanup(h);
  }
  CURL* acquire() {
    {
      std::lock_guard lock(mu);
      if (!idle.empty()) {
        CURL* h = idle.back();
        idle.pop_back();
        curl_easy_reset(h);
        return h;
      }
    }
    CURL* h = curl_easy_init();
    if (!h) throw otel::Error("cannot initialise libcurl");
    return h;
  }
  void release(CURL* h) {
    std::lock_guard lock(mu);
    if (idle.size() < 16) idle.push_back(h);
    else curl_easy_cleanup(h);
  }

  // Sets every option of one exchange. `headers` must outlive the transfer.
  void setup(CURL* h, const HttpRequest& req, const Credentials& creds, Exchange& ex, curl_slist*& headers,
             curl_slist*& connectToList, bool streaming, int idleTimeoutSeconds) {
    std::string full = base + req.path;
    curl_easy_setopt(h, CURLOPT_URL, full.c_str());
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_USERAGENT, cfg.userAgent.c_str());
    curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
    if (!streaming && cfg.timeout.count() > 0) curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(cfg.timeout.count()));
    if (streaming && idleTimeoutSeconds > 0) {
      curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
      curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, static_cast<long>(idleTimeoutSeconds));
    }
    if (req.method == "GET") {
      curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    } else if (req.method == "POST") {
      curl_easy_setopt(h, CURLOPT_POST, 1L);
    } else {
      curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, req.method.c_str());
    }
    if (req.method != "GET") {
      curl_easy_setopt(h, CURLOPT_POSTFIELDS, req.body.c_str());
      curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, static_cast<long>(req.body.size()));
    }
    headers = curl_slist_append(headers, ("Accept: " + req.accept).c_str());
    if (!req.contentType.empty()) headers = curl_slist_append(headers, ("Content-Type: " + req.contentType).c_str());
    headers = curl_slist_append(headers, "Expect:");
    if (!creds.token.empty()) headers = curl_slist_append(headers, ("Authorization: Bearer " + creds.token).c_str());
    if (!cfg.impersonateUser.empty())
      headers = curl_slist_append(headers, ("Impersonate-User: " + cfg.impersonateUser).c_str());
    if (!cfg.impersonateUid.empty())
      headers = curl_slist_append(headers, ("Impersonate-Uid: " + cfg.impersonateUid).c_str());
    for (auto& g : cfg.impersonateGroups) headers = curl_slist_append(headers, ("Impersonate-Group: " + g).c_str());
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    if (!cfg.username.empty() || !cfg.password.empty()) {
      curl_easy_setopt(h, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
      curl_easy_setopt(h, CURLOPT_USERNAME, cfg.username.c_str());
      curl_easy_setopt(h, CURLOPT_PASSWORD, cfg.password.c_str());
    }
    // TLS: blobs, no temp files.
    if (cfg.insecureSkipTlsVerify) {
      curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
      curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
    } else if (!cfg.caPem.empty()) {
      curl_blob blob{const_cast<char*>(cfg.caPem.data()), cfg.caPem.size(), CURL_BLOB_COPY};
      curl_easy_setopt(h, CURLOPT_CAINFO_BLOB, &blob);
    }
    if (!creds.clientCertPem.empty()) {
      curl_blob cert{const_cast<char*>(creds.clientCertPem.data()), creds.clientCertPem.size(), CURL_BLOB_COPY};
      curl_blob key{const_cast<char*>(creds.clientKeyPem.data()), creds.clientKeyPem.size(), CURL_BLOB_COPY};
      curl_easy_setopt(h, CURLOPT_SSLCERTTYPE, "PEM");
      curl_easy_setopt(h, CURLOPT_SSLCERT_BLOB, &cert);
      curl_easy_setopt(h, CURLOPT_SSLKEYTYPE, "PEM");
      curl_easy_setopt(h, CURLOPT_SSLKEY_BLOB, &key);
    }
    if (!connectTo.empty()) {
      connectToList = curl_slist_append(connectToList, connectTo.c_str());
      curl_easy_setopt(h, CURLOPT_CONNECT_TO, connectToList);
    }
    if (!cfg.proxyUrl.empty()) curl_easy_setopt(h, CURLOPT_PROXY, cfg.proxyUrl.c_str());
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, writeCb);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &ex);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, headerCb);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &ex);
  }
  ConnectionError transportError(CURLcode rc, const char* errbuf) const {
    std::string detail = errbuf && *errbuf ? errbuf : curl_easy_strerror(rc);
    const std::string where = cfg.server;
    switch (rc) {
      case CURLE_PEER_FAILED_VERIFICATION:
      case CURLE_SSL_CACERT_BADFILE:
      case CURLE_SSL_CONNECT_ERROR:
      case CURLE_SSL_CERTPROBLEM:
      case CURLE_SSL_ISSUER_ERROR:
        return ConnectionError(ConnectionError::Kind::Tls,
                               "TLS verification of the API server failed: " + detail, where,
                               "check certificate-authority(-data) and tls-server-name in the kubeconfig");
      case CURLE_COULDNT_CONNECT:
      case CURLE_COULDNT_RESOLVE_HOST:
      case CURLE_COULDNT_RESOLVE_PROXY:
        return ConnectionError(ConnectionError::Kind::Unreachable,
                               "cannot reach the API server: " + detail, where,
                               "check that the cluster is running and the kubeconfig's server address");
      case CURLE_OPERATION_TIMEDOUT:
        return ConnectionError(ConnectionError::Kind::Timeout, "the API server did not answer in time: " + detail,
                               where);
      default:
        return ConnectionError(ConnectionError::Kind::Other, "request to the API server failed: " + detail, where);
    }
  }
};

// ---------------------------------------------------------------- client

Client::Client(RestConfig config)
    : config_(std::move(config)), limiter_(config_.qps, config_.burst), transport_(std::make_unique<Transport>(config_)) {
  if (config_.userAgent.empty()) {
    config_.userAgent = "kubectl-otel";
    transport_->cfg.userAgent = config_.userAgent;
  }
  warningHandler_ = [](const std::string& w) { otel::log::warn("server_warning", {{"warning", w}}); };
}

Client::~Client() = default;

void Client::setWarningHandler(std::function<void(const std::string&)> handler) { warningHandler_ = std::move(handler); }

void Client::setResponseObserver(std::function<void(const std::string&, long)> observer) {
  responseObserver_ = std::move(observer);
}

namespace {

bool retriableTransport(CURLcode rc) {
  return rc == CURLE_GOT_NOTHING || rc == CURLE_RECV_ERROR || rc == CURLE_SEND_ERROR;
}

}  // namespace

HttpResponse Client::request(const HttpRequest& req) {
  bool reauthed = false;
  int retries = 0;
  int transportRetries = 0;
  for (;;) {
    limiter_.wait();
    Credentials creds;
    if (config_.credentials) creds = config_.credentials->get();
    HttpResponse resp;
    Exchange ex;
    ex.resp = &resp;
    CURL* h = transport_->acquire();
    curl_slist* headers = nullptr;
    curl_slist* connectTo = nullptr;
    char errbuf[CURL_ERROR_SIZE] = {0};
    transport_->setup(h, req, creds, ex, headers, connectTo, false, 0);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    CURLcode rc = curl_easy_perform(h);
    curl_slist_free_all(headers);
    curl_slist_free_all(connectTo);
    if (rc != CURLE_OK) {
      curl_easy_cleanup(h);  // its connection may be broken
      if (req.method == "GET" && retriableTransport(rc) && transportRetries < 2) {
        ++transportRetries;
        continue;
      }
      throw transport_->transportError(rc, errbuf);
    }
    transport_->release(h);
    if (responseObserver_) responseObserver_(req.method, resp.status);
    for (auto& w : resp.warnings)
      if (warningHandler_) warningHandler_(w);
    if (resp.status == 401 && config_.credentials && !reauthed) {
      reauthed = true;
      if (config_.credentials->refreshAfterUnauthorized(creds)) continue;
    }
    int retryAfter = parseRetryAfter(resp.headers);
    if ((resp.status == 429 || resp.status >= 500) && resp.headers.count("retry-after") && retries < config_.maxRetries) {
      ++retries;
      otel::log::debug("api_retry", {{"status", std::to_string(resp.status)}, {"retry_after", std::to_string(retryAfter)}});
      std::this_thread::sleep_for(std::chrono::seconds(retryAfter));
      continue;
    }
    return resp;
  }
}

Json Client::requestJson(const HttpRequest& req) {
  HttpResponse resp = request(req);
  if (resp.status < 200 || resp.status > 299)
    throw apiErrorFromResponse(static_cast<int>(resp.status), resp.body, parseRetryAfter(resp.headers), "");
  if (resp.body.empty()) return Json::object();
  Json j = Json::parse(resp.body, nullptr, false);
  if (j.is_discarded())
    throw otel::Error("the API server answered with invalid JSON", req.method + " " + req.path);
  return j;
}

Json Client::version() { return requestJson({"GET", "/version", "", "", "application/json"}); }

RestMapper& Client::mapper() {
  std::lock_guard lock(mapperMu_);
  if (!mapper_) mapper_ = std::make_unique<RestMapper>(*this);
  return *mapper_;
}

ResourceId Client::resourceFor(const std::string& apiVersion, const std::string& kind) {
  return mapper().resourceFor(apiVersion, kind);
}

ResourceId Client::resourceFor(const Json& object) {
  if (!object.is_object() || !object.contains("apiVersion") || !object.contains("kind"))
    throw otel::Error("object has no apiVersion or kind");
  return resourceFor(object["apiVersion"].get<std::string>(), object["kind"].get<std::string>());
}

std::string Client::namespaceFor(const ResourceId& id, const Json& object) const {
  if (!id.namespaced) return {};
  if (object.contains("metadata") && object["metadata"].is_object()) {
    std::string ns = object["metadata"].value("namespace", "");
    if (!ns.empty()) return ns;
  }
  return config_.ns;
}

namespace {

std::string nameOf(const Json& object) {
  if (object.contains("metadata") && object["metadata"].is_object()) return object["metadata"].value("name", "");
  return {};
}

std::string writeQuery(const std::string& fieldManager, bool dryRun) {
  std::string q;
  auto add = [&](const std::string& kv) { q += (q.empty() ? "?" : "&") + kv; };
  if (!fieldManager.empty()) add("fieldManager=" + urlEncode(fieldManager));
  if (dryRun) add("dryRun=All");
  return q;
}

}  // namespace

Json Client::get(const ResourceId& id, const std::string& ns, const std::string& name) {
  return requestJson({"GET", resourcePath(id, ns, name), "", "", "application/json"});
}

Json Client::list(const ResourceId& id, const std::string& ns, const ListOptions& o) {
  Json result = {{"apiVersion", id.apiVersion},
                 {"kind", (id.kind.empty() ? std::string("") : id.kind) + "List"},
                 {"metadata", Json::object()},
                 {"items", Json::array()}};
  std::string cont;
  for (;;) {
    std::string q;
    auto add = [&](const std::string& kv) { q += (q.empty() ? "?" : "&") + kv; };
    if (!o.labelSelector.empty()) add("labelSelector=" + urlEncode(o.labelSelector));
    if (!o.fieldSelector.empty()) add("fieldSelector=" + urlEncode(o.fieldSelector));
    if (o.limit > 0) add("limit=" + std::to_string(o.limit));
    if (!cont.empty()) add("continue=" + urlEncode(cont));
    else if (!o.resourceVersion.empty()) add("resourceVersion=" + urlEncode(o.resourceVersion));
    if (cont.empty() && !o.resourceVersionMatch.empty())
      add("resourceVersionMatch=" + urlEncode(o.resourceVersionMatch));
    Json page = requestJson({"GET", resourcePath(id, ns) + q, "", "", "application/json"});
    if (page.contains("kind") && page["kind"].is_string() && result["kind"] == "List") result["kind"] = page["kind"];
    if (page.contains("items") && page["items"].is_array())
      for (auto& item : page["items"]) {
        // Lists omit apiVersion/kind on items; restore them, first as a GET has them, so items stand alone.
        bool addApiVersion = !item.contains("apiVersion") && !id.apiVersion.empty();
        bool addKind = !item.contains("kind") && !id.kind.empty();
        if (addApiVersion || addKind) {
          Json full = Json::object();
          full["apiVersion"] = addApiVersion ? Json(id.apiVersion) : item.value("apiVersion", Json());
          full["kind"] = addKind ? Json(id.kind) : item.value("kind", Json());
          if (full["apiVersion"].is_null()) full.erase("apiVersion");
          if (full["kind"].is_null()) full.erase("kind");
          for (auto it = item.begin(); it != item.end(); ++it)
            if (it.key() != "apiVersion" && it.key() != "kind") full[it.key()] = std::move(it.value());
          item = std::move(full);
        }
        result["items"].push_back(std::move(item));
      }
    const Json meta = page.value("metadata", Json::object());
    if (meta.contains("resourceVersion")) result["metadata"]["resourceVersion"] = meta["resourceVersion"];
    cont = meta.value("continue", "");
    if (cont.empty()) break;
  }
  return result;
}

Json Client::create(const ResourceId& id, const std::string& ns, const Json& object, const WriteOptions& o) {
  return requestJson({"POST", resourcePath(id, ns) + writeQuery(o.fieldManager, o.dryRun), object.dump(),
                      "application/json", "application/json"});
}

Json Client::update(const ResourceId& id, const std::string& ns, const Json& object, const WriteOptions& o,
                    const std::string& subresource) {
  std::string name = nameOf(object);
  if (name.empty()) throw otel::Error("update: the object has no metadata.name");
  return requestJson({"PUT", resourcePath(id, ns, name, subresource) + writeQuery(o.fieldManager, o.dryRun),
                      object.dump(), "application/json", "application/json"});
}

Json Client::create(const Json& object, const WriteOptions& o) {
  ResourceId id = resourceFor(object);
  return create(id, namespaceFor(id, object), object, o);
}

Json Client::update(const Json& object, const WriteOptions& o) {
  ResourceId id = resourceFor(object);
  return update(id, namespaceFor(id, object), object, o);
}

Json Client::updateStatus(const Json& object, const WriteOptions& o) {
  ResourceId id = resourceFor(object);
  return update(id, namespaceFor(id, object), object, o, "status");
}

Json Client::patch(const ResourceId& id, const std::string& ns, const std::string& name, PatchType type,
                   const Json& body, const PatchOptions& o) {
  std::string ct;
  switch (type) {
    case PatchType::Merge: ct = "application/merge-patch+json"; break;
    case PatchType::Json: ct = "application/json-patch+json"; break;
    case PatchType::Strategic: ct = "application/strategic-merge-patch+json"; break;
    case PatchType::Apply: ct = "application/apply-patch+yaml"; break;
  }
  std::string q = writeQuery(o.fieldManager, o.dryRun);
  if (type == PatchType::Apply && o.force) q += (q.empty() ? "?" : "&") + std::string("force=true");
  return requestJson({"PATCH", resourcePath(id, ns, name, o.subresource) + q, body.dump(), ct, "application/json"});
}

Json Client::apply(const Json& object, const PatchOptions& o) {
  ResourceId id = resourceFor(object);
  std::string name = nameOf(object);
  if (name.empty()) throw otel::Error("apply: the object has no metadata.name");
  if (o.fieldManager.empty()) throw otel::Error("apply: a fieldManager is required");
  return patch(id, namespaceFor(id, object), name, PatchType::Apply, object, o);
}

Json Client::remove(const ResourceId& id, const std::string& ns, const std::string& name, const DeleteOptions& o) {
  Json body = {{"kind", "DeleteOptions"}, {"apiVersion", "v1"}};
  if (!o.propagationPolicy.empty()) body["propagationPolicy"] = o.propagationPolicy;
  if (o.gracePeriodSeconds) body["gracePeriodSeconds"] = *o.gracePeriodSeconds;
  if (!o.preconditionUid.empty()) body["preconditions"]["uid"] = o.preconditionUid;
  if (!o.preconditionResourceVersion.empty())
    body["preconditions"]["resourceVersion"] = o.preconditionResourceVersion;
  if (o.dryRun) body["dryRun"] = Json::array({"All"});
  return requestJson({"DELETE", resourcePath(id, ns, name), body.dump(), "application/json", "application/json"});
}

// ---------------------------------------------------------------- watch

WatchResult Client::watch(const ResourceId& id, const std::string& ns, const WatchOptions& o,
                          const std::function<bool(WatchEvent&&)>& handler, std::stop_token stop) {
  std::string q = "?watch=1";
  if (!o.labelSelector.empty()) q += "&labelSelector=" + urlEncode(o.labelSelector);
  if (!o.fieldSelector.empty()) q += "&fieldSelector=" + urlEncode(o.fieldSelector);
  if (!o.resourceVersion.empty()) q += "&resourceVersion=" + urlEncode(o.resourceVersion);
  if (o.allowBookmarks) q += "&allowWatchBookmarks=true";
  if (o.timeoutSeconds > 0) q += "&timeoutSeconds=" + std::to_string(o.timeoutSeconds);
  HttpRequest req{"GET", resourcePath(id, ns) + q, "", "", "application/json"};

  WatchResult result;
  result.lastResourceVersion = o.resourceVersion;
  bool reauthed = false;
  for (;;) {
    if (!limiter_.wait(stop)) {
      result.end = WatchResult::End::Stopped;
      return result;
    }
    Credentials creds;
    if (config_.credentials) creds = config_.credentials->get();
    HttpResponse resp;
    Exchange ex;
    ex.resp = &resp;
    bool expired = false;
    std::optional<ApiError> errorEvent;
    WatchDecoder decoder([&](WatchEvent&& ev) {
      if (ev.type == EventType::Error) {
        ApiError e = apiErrorFromStatus(ev.object);
        if (e.isExpired()) expired = true;
        else errorEvent = e;
        return false;
      }
      std::string rv = ev.resourceVersion();
      if (!rv.empty()) result.lastResourceVersion = rv;
      ++result.events;
      return handler(std::move(ev));
    });
    std::exception_ptr decodeError;
    ex.onData = [&](std::string_view bytes) {
      if (stop.stop_requested()) return false;
      try {
        return decoder.feed(bytes);
      } catch (...) {
        decodeError = std::current_exception();
        return false;
      }
    };
    CURL* h = curl_easy_init();
    if (!h) throw otel::Error("cannot initialise libcurl");
    curl_slist* headers = nullptr;
    curl_slist* connectTo = nullptr;
    char errbuf[CURL_ERROR_SIZE] = {0};
    transport_->setup(h, req, creds, ex, headers, connectTo, true, o.idleTimeoutSeconds);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    CURLM* m = curl_multi_init();
    curl_multi_add_handle(m, h);
    CURLcode rc = CURLE_OK;
    {
      std::stop_callback wake(stop, [m] { curl_multi_wakeup(m); });
      int running = 1;
      while (running && !stop.stop_requested()) {
        curl_multi_perform(m, &running);
        if (!running) break;
        curl_multi_poll(m, nullptr, 0, 1000, nullptr);
      }
      int left = 0;
      while (CURLMsg* msg = curl_multi_info_read(m, &left))
        if (msg->msg == CURLMSG_DONE) rc = msg->data.result;
    }
    curl_multi_remove_handle(m, h);
    curl_multi_cleanup(m);
    curl_easy_cleanup(h);
    curl_slist_free_all(headers);
    curl_slist_free_all(connectTo);

    if (decodeError) std::rethrow_exception(decodeError);
    if (stop.stop_requested()) {
      result.end = WatchResult::End::Stopped;
      return result;
    }
    if (expired) {
      result.end = WatchResult::End::Expired;
      return result;
    }
    if (errorEvent) throw *errorEvent;
    if (ex.aborted) {
      result.end = WatchResult::End::Stopped;  // the handler asked to stop
      return result;
    }
    if (rc != CURLE_OK && resp.status == 0) throw transport_->transportError(rc, errbuf);
    if (resp.status == 401 && config_.credentials && !reauthed) {
      reauthed = true;
      if (config_.credentials->refreshAfterUnauthorized(creds)) continue;
    }
    if (resp.status == 410) {
      result.end = WatchResult::End::Expired;
      return result;
    }
    if (resp.status != 200)
      throw apiErrorFromResponse(static_cast<int>(resp.status), resp.body, parseRetryAfter(resp.headers), "");
    // A stream that ended (server timeout, closed connection, client idle timeout): the caller resumes.
    result.end = WatchResult::End::Closed;
    return result;
  }
}

}  // namespace otel::kube
