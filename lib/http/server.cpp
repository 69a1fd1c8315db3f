#include "lib/http/server.h"

#include <httplib.h>

#include <chrono>
#include <thread>

#include "lib/core/error.h"
#include "lib/core/json.h"

namespace otel::http {

struct Server::Impl {
  std::unique_ptr<httplib::Server> svr;
  bool tls = false;
  std::thread thread;
  std::function<void(const std::string&, double)> observer;
  int port = 0;
  std::string host;
};

std::string Request::param(const std::string& name, bool* present) const {
  auto it = query.find(name);
  if (present) *present = it != query.end();
  return it == query.end() ? std::string() : it->second;
}

Server::Server() : impl_(std::make_unique<Impl>()) { impl_->svr = std::make_unique<httplib::Server>(); }

Server::Server(const TlsOptions& tls) : impl_(std::make_unique<Impl>()) {
  auto s = std::make_unique<httplib::SSLServer>(tls.certFile.c_str(), tls.keyFile.c_str(),
                                                tls.clientCaFile.empty() ? nullptr : tls.clientCaFile.c_str());
  if (!s->is_valid())
    throw Error("cannot set up TLS from cert " + tls.certFile + ", key " + tls.keyFile +
                    (tls.clientCaFile.empty() ? "" : ", client CA " + tls.clientCaFile),
                "https", "check that the files exist and hold a matching PEM certificate and key");
  SSL_CTX_set_min_proto_version(s->ssl_context(), TLS1_2_VERSION);
  impl_->svr = std::move(s);
  impl_->tls = true;
}

Server::~Server() { stop(); }

namespace {
httplib::Server::Handler wrap(Handler h, bool tls, const std::string& pattern,
                              const std::function<void(const std::string&, double)>* observer) {
  return [h = std::move(h), tls, pattern, observer](const httplib::Request& in, httplib::Response& out) {
    auto begin = std::chrono::steady_clock::now();
    Request r;
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
  impl_->svr->Get(pattern, wrap(std::move(h), impl_->tls, pattern, &impl_->observer));
}
void Server::post(const std::string& pattern, Handler h) {
  impl_->svr->Post(pattern, wrap(std::move(h), impl_->tls, pattern, &impl_->observer));
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
