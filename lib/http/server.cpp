#include "lib/http/server.h"

#include <httplib.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include "lib/core/error.h"
#include "lib/core/json.h"

namespace otel::http {

namespace {
// A serving certificate (leaf first, then its chain) and its key, as loaded objects.
struct CertPair {
  X509* leaf = nullptr;
  STACK_OF(X509)* chain = nullptr;
  EVP_PKEY* key = nullptr;
  CertPair() = default;
  CertPair(const CertPair&) = delete;
  CertPair& operator=(const CertPair&) = delete;
  ~CertPair() {
    if (leaf) X509_free(leaf);
    if (chain) sk_X509_pop_free(chain, X509_free);
    if (key) EVP_PKEY_free(key);
  }
};

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("cannot read " + path, "https", "check that the file exists and is readable");
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::shared_ptr<CertPair> loadPair(const std::string& certFile, const std::string& keyFile) {
  const std::string certPem = slurp(certFile), keyPem = slurp(keyFile);
  auto pair = std::make_shared<CertPair>();
  BIO* b = BIO_new_mem_buf(certPem.data(), static_cast<int>(certPem.size()));
  pair->leaf = PEM_read_bio_X509(b, nullptr, nullptr, nullptr);
  if (pair->leaf) {
    pair->chain = sk_X509_new_null();
    while (X509* extra = PEM_read_bio_X509(b, nullptr, nullptr, nullptr)) sk_X509_push(pair->chain, extra);
  }
  BIO_free(b);
  b = BIO_new_mem_buf(keyPem.data(), static_cast<int>(keyPem.size()));
  pair->key = PEM_read_bio_PrivateKey(b, nullptr, nullptr, nullptr);
  BIO_free(b);
  ERR_clear_error();
  if (!pair->leaf) throw Error("no PEM certificate in " + certFile, "https");
  if (!pair->key) throw Error("no PEM private key in " + keyFile, "https");
  if (X509_check_private_key(pair->leaf, pair->key) != 1) {
    ERR_clear_error();
    throw Error("the key in " + keyFile + " does not match the certificate in " + certFile, "https");
  }
  return pair;
}
}  // namespace

struct Server::Impl {
  std::unique_ptr<httplib::Server> svr;
  std::mutex certMu;
  std::shared_ptr<CertPair> cert;  // what new handshakes are served (cert callback); null: the context's own
  bool tls = false;
  std::thread thread;
  std::function<void(const std::string&, double)> observer;
  int port = 0;
  std::string host;
  size_t maxBodyBytes = 0;
};

std::string Request::param(const std::string& name, bool* present) const {
  auto it = query.find(name);
  if (present) *present = it != query.end();
  return it == query.end() ? std::string() : it->second;
}

// Requests served on one keep-alive connection before the server closes it. cpp-httplib's default, 5, made
// a kube-apiserver-like client (which keeps its connections) redo a full TLS handshake every 5th request
// (bench/webhook: 176 -> 78 us server CPU per no-op request, 1,130 -> 5,800 requests/s). A handshake costs
// ~0.5 ms server and ~1 ms client CPU, so one every 100 requests is the p99 of the admission benchmark; one
// every 1,000 stays out of it. Not unbounded: a connection holds one of the pool's threads while it lives,
// so a bound lets queued connections in (after at most 1,000 requests of another, well under a second).
constexpr size_t kKeepAliveMaxCount = 1000;

// Every accepted connection gets TCP_NODELAY (inherited from the listening socket): cpp-httplib writes a
// response's headers and body in two writes (two TLS records), and with Nagle the body waits for the
// client's delayed ACK of the headers, about 40 ms on Linux, on every request of a keep-alive connection
// (bench/webhook: a no-op answer took 36 ms). Go's net/http sets it on both sides.
Server::Server() : impl_(std::make_unique<Impl>()) {
  impl_->svr = std::make_unique<httplib::Server>();
  impl_->svr->set_tcp_nodelay(true);
  impl_->svr->set_keep_alive_max_count(kKeepAliveMaxCount);
  setLimits(ServerLimits{});
}

void Server::setLimits(const ServerLimits& limits) {
  impl_->maxBodyBytes = limits.maxBodyBytes;
  impl_->svr->set_payload_max_length(limits.maxBodyBytes);
  impl_->svr->set_read_timeout(limits.readTimeoutSeconds, 0);
  impl_->svr->set_write_timeout(limits.writeTimeoutSeconds, 0);
}

Server::Server(const TlsOptions& tls) : impl_(std::make_unique<Impl>()) {
  auto s = std::make_unique<httplib::SSLServer>(tls.certFile.c_str(), tls.keyFile.c_str(),
                                                tls.clientCaFile.empty() ? nullptr : tls.clientCaFile.c_str());
  if (!s->is_valid())
    throw Error("cannot set up TLS from cert " + tls.certFile + ", key " + tls.keyFile +
                    (tls.clientCaFile.empty() ? "" : ", client CA " + tls.clientCaFile),
                "https", "check that the files exist and hold a matching PEM certificate and key");
  SSL_CTX_set_min_proto_version(s->ssl_context(), TLS1_2_VERSION);
  impl_->cert = loadPair(tls.certFile, tls.keyFile);
  // Each handshake takes the current pair, so reloadCertificate() swaps it without touching the context.
  SSL_CTX_set_cert_cb(
      s->ssl_context(),
      [](SSL* ssl, void* arg) -> int {
        auto* impl = static_cast<Impl*>(arg);
        std::shared_ptr<CertPair> pair;
        {
          std::lock_guard<std::mutex> lk(impl->certMu);
          pair = impl->cert;
        }
        if (!pair) return 1;
        if (SSL_use_certificate(ssl, pair->leaf) != 1 || SSL_use_PrivateKey(ssl, pair->key) != 1 ||
            SSL_set1_chain(ssl, pair->chain) != 1)
          return 0;
        return 1;
      },
      impl_.get());
  s->set_tcp_nodelay(true);
  s->set_keep_alive_max_count(kKeepAliveMaxCount);
  impl_->svr = std::move(s);
  impl_->tls = true;
  setLimits(ServerLimits{});
}

Server::~Server() { stop(); }

void Server::reloadCertificate(const std::string& certFile, const std::string& keyFile) {
  if (!impl_->tls) throw Error("reloadCertificate on a plain HTTP server", "https");
  auto pair = loadPair(certFile, keyFile);
  std::lock_guard<std::mutex> lk(impl_->certMu);
  impl_->cert = std::move(pair);
}

namespace {
using Wrapped = std::function<void(const httplib::Request&, httplib::Response&, std::string&&)>;

Wrapped wrap(Handler h, bool tls, const std::string& pattern, const std::function<void(const std::string&, double)>* observer) {
  return [h = std::move(h), tls, pattern, observer](const httplib::Request& in, httplib::Response& out, std::string&& body) {
    auto begin = std::chrono::steady_clock::now();
    Request r;
    r.body = std::move(body);
    r.method = in.method;
    r.path = in.path;
    for (const auto& m : in.matches) r.matches.push_back(m.str());
    for (const auto& [k, v] : in.params) r.query.emplace(k, v);
    for (const auto& [k, v] : in.headers) {
      std::string lower = k;
      for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      r.headers.emplace(lower, v);
    }
    r.tls = tls;
    Response resp;
    try {
      resp = h(r);
    } catch (const std::exception& e) {
      resp.status = 500;
      resp.body = Json{{"error", e.what()}}.dump();
      resp.contentType = "application/json";
    }
    out.status = resp.status;
    out.set_content(resp.body, resp.contentType.c_str());
    if (*observer) {
      double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
      (*observer)(pattern, secs);
    }
  };
}
}  // namespace

void Server::get(const std::string& pattern, Handler h) {
  auto handler = wrap(std::move(h), impl_->tls, pattern, &impl_->observer);
  impl_->svr->Get(pattern, [handler](const httplib::Request& in, httplib::Response& out) { handler(in, out, {}); });
}
// The body is read through a content reader, which counts it: cpp-httplib's payload limit does not cover
// chunked bodies, this bound does (413, nothing more read).
void Server::post(const std::string& pattern, Handler h) {
  auto handler = wrap(std::move(h), impl_->tls, pattern, &impl_->observer);
  const size_t* max = &impl_->maxBodyBytes;
  impl_->svr->Post(pattern, [handler, max](const httplib::Request& in, httplib::Response& out,
                                           const httplib::ContentReader& reader) {
    std::string body;
    bool tooLarge = false, complete = false;
    if (in.has_header("Content-Length") &&
        std::strtoull(in.get_header_value("Content-Length").c_str(), nullptr, 10) > *max) {
      tooLarge = true;  // announced too large: answered before reading any of it
    } else {
      complete = reader([&](const char* data, size_t n) {
        if (body.size() + n > *max) {
          tooLarge = true;
          return false;
        }
        body.append(data, n);
        return true;
      });
    }
    if (!tooLarge && !complete) {  // the client stopped sending (read timeout) or broke the encoding
      out.status = 400;
      out.set_header("Connection", "close");
      out.set_content(Json{{"error", "incomplete request body"}}.dump(), "application/json");
      return;
    }
    if (tooLarge) {
      out.status = 413;
      out.set_header("Connection", "close");
      out.set_content(Json{{"error", "request body larger than " + std::to_string(*max) + " bytes"}}.dump(),
                      "application/json");
      return;
    }
    handler(in, out, std::move(body));
  });
}
void Server::onRequest(std::function<void(const std::string&, double)> fn) { impl_->observer = std::move(fn); }

std::pair<std::string, int> splitListenAddr(const std::string& addr) {
  auto colon = addr.rfind(':');
  if (colon == std::string::npos) throw Error("listen address \"" + addr + "\" has no port (want host:port or :port)");
  std::string host = addr.substr(0, colon);
  if (host.empty()) host = "0.0.0.0";
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  std::string p = addr.substr(colon + 1);
  if (p.empty() || p.size() > 5 || p.find_first_not_of("0123456789") != std::string::npos || std::stoi(p) > 65535)
    throw Error("listen address \"" + addr + "\" has an invalid port");
  return {host, std::stoi(p)};
}

int Server::bind(const std::string& listenAddr) {
  auto [host, port] = splitListenAddr(listenAddr);
  impl_->host = host;
  if (port == 0) {
    impl_->port = impl_->svr->bind_to_any_port(host);
  } else {
    impl_->port = impl_->svr->bind_to_port(host, port) ? port : -1;
  }
  if (impl_->port <= 0) throw Error("cannot listen on " + listenAddr, "listen", "is the port already in use?");
  return impl_->port;
}

void Server::start() {
  impl_->thread = std::thread([this] { impl_->svr->listen_after_bind(); });
  // Bounded wait until the accept loop runs, so callers may connect right away.
  for (int i = 0; i < 5000 && !impl_->svr->is_running(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

void Server::stop() {
  if (impl_ && impl_->svr) impl_->svr->stop();
  if (impl_ && impl_->thread.joinable()) impl_->thread.join();
}

bool Server::running() const { return impl_->svr->is_running(); }

std::string queryEscape(const std::string& s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else if (c == ' ') {
      out += '+';
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

}  // namespace otel::http
