#include "tests/unit/apiserver/test_client.h"

#include <httplib.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

namespace otel::testing {

struct TestClient::Impl {
  std::unique_ptr<httplib::SSLClient> cli;
  httplib::Headers headers;
};

namespace {
X509_STORE* storeFrom(const std::string& pem) {
  X509_STORE* store = X509_STORE_new();
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  while (X509* c = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr)) {
    X509_STORE_add_cert(store, c);
    X509_free(c);
  }
  BIO_free(bio);
  return store;
}

Reply toReply(const httplib::Result& r) {
  Reply out;
  if (!r) {
    out.status = -1;
    out.raw = httplib::to_string(r.error());
    return out;
  }
  out.status = r->status;
  out.raw = r->body;
  out.contentType = r->get_header_value("Content-Type");
  out.retryAfter = r->get_header_value("Retry-After");
  for (size_t i = 0; i < r->get_header_value_count("Warning"); ++i) out.warnings.push_back(r->get_header_value("Warning", i));
  out.body = Json::parse(r->body, nullptr, false);
  if (out.body.is_discarded()) out.body = Json();
  return out;
}
}  // namespace

TestClient::TestClient(const TestApiServer& server, std::string token, std::string userAgent)
    : impl_(std::make_unique<Impl>()) {
  impl_->cli = std::make_unique<httplib::SSLClient>("127.0.0.1", server.port());
  impl_->cli->set_ca_cert_store(storeFrom(server.caPem()));
  impl_->cli->enable_server_certificate_verification(true);
  impl_->cli->set_read_timeout(20);
  if (token.empty()) token = server.token();
  if (token != "-") impl_->headers.emplace("Authorization", "Bearer " + token);
  impl_->headers.emplace("User-Agent", userAgent);
}

TestClient::~TestClient() = default;

Reply TestClient::get(const std::string& path, const std::string& accept) {
  auto h = impl_->headers;
  h.emplace("Accept", accept);
  return toReply(impl_->cli->Get(path, h));
}

Reply TestClient::post(const std::string& path, const Json& body) {
  return toReply(impl_->cli->Post(path, impl_->headers, body.dump(), "application/json"));
}

Reply TestClient::put(const std::string& path, const Json& body) {
  return toReply(impl_->cli->Put(path, impl_->headers, body.dump(), "application/json"));
}

Reply TestClient::patch(const std::string& path, const std::string& body, const std::string& contentType) {
  return toReply(impl_->cli->Patch(path, impl_->headers, body, contentType.c_str()));
}

Reply TestClient::del(const std::string& path, const Json& body) {
  if (body.is_null()) return toReply(impl_->cli->Delete(path, impl_->headers));
  return toReply(impl_->cli->Delete(path, impl_->headers, body.dump(), "application/json"));
}

std::vector<Json> TestClient::watch(const std::string& path, size_t maxEvents) {
  std::vector<Json> events;
  std::string buf;
  impl_->cli->Get(path, impl_->headers, [&](const char* data, size_t len) {
    buf.append(data, len);
    size_t nl;
    while ((nl = buf.find('\n')) != std::string::npos) {
      std::string line = buf.substr(0, nl);
      buf.erase(0, nl + 1);
      if (line.empty()) continue;
      events.push_back(Json::parse(line, nullptr, false));
      if (events.size() >= maxEvents) return false;
    }
    return true;
  });
  return events;
}

}  // namespace otel::testing
