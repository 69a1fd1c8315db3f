// A small HTTP(S) server over cpp-httplib (kept out of this header): routes by method and regex,
// binds to an ephemeral or given port, serves on a background thread, optional mTLS.
#pragma once
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace otel::http {

struct Request {
  std::string method;
  std::string path;                              // percent-decoded
  std::vector<std::string> matches;              // regex groups of the route (0 = whole path)
  std::multimap<std::string, std::string> query;  // decoded query parameters
  std::map<std::string, std::string> headers;     // lower-case names
  bool tls = false;
  std::string body;  // POST: at most ServerLimits::maxBodyBytes
  std::string header(const std::string& lowerName) const {
    auto it = headers.find(lowerName);
    return it == headers.end() ? std::string() : it->second;
  }
  // First value of a query parameter; `present` tells an empty value from an absent one.
  std::string param(const std::string& name, bool* present = nullptr) const;
};

struct Response {
  int status = 200;
  std::string contentType = "application/json";
  std::string body;
};

using Handler = std::function<Response(const Request&)>;

struct TlsOptions {
  std::string certFile;
  std::string keyFile;
  std::string clientCaFile;  // non-empty: client certificates required and verified (mTLS)
};

// Bounds on what one client may send (docs/target-allocator.md, "Limits"): a larger request body is
// answered 413 without being read, and a client that stops sending is disconnected after the timeout.
struct ServerLimits {
  size_t maxBodyBytes = size_t{8} << 20;  // an AdmissionReview holds an object and its old version, 3 MiB each
  int readTimeoutSeconds = 10;
  int writeTimeoutSeconds = 10;
};

class Server {
 public:
  Server();  // plain HTTP
  explicit Server(const TlsOptions& tls);  // HTTPS (TLS >= 1.2); throws otel::Error on bad files
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // HTTPS: replaces the serving certificate and key for the handshakes that follow (connections already
  // open keep theirs), so a rotated or re-mounted certificate is served without a restart or a refused
  // handshake. The files are read whole; a pair that does not load or match throws otel::Error and the
  // previous pair keeps serving. Safe to call while serving.
  void reloadCertificate(const std::string& certFile, const std::string& keyFile);

  // Replaces the default limits (call before start()).
  void setLimits(const ServerLimits& limits);

  // Routes: `pattern` is a full-match regex on the decoded path.
  void get(const std::string& pattern, Handler h);
  void post(const std::string& pattern, Handler h);
  // Called after each request with (route pattern or path, seconds) — for duration metrics.
  void onRequest(std::function<void(const std::string& route, double seconds)> fn);

  // Binds "host:port" / ":port" (port 0 = ephemeral). Returns the bound port; throws otel::Error.
  int bind(const std::string& listenAddr);
  // Serves on a background thread until stop().
  void start();
  void stop();
  bool running() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// "host:port" -> (host, port); ":8080" -> ("0.0.0.0", 8080). Throws otel::Error.
std::pair<std::string, int> splitListenAddr(const std::string& addr);
// Go's url.QueryEscape.
std::string queryEscape(const std::string& s);

}  // namespace otel::http
