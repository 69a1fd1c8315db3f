// A tiny HTTPS client for the test API server's own tests (httplib::SSLClient, CA verified).
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "lib/core/json.h"
#include "tests/support/api_server.h"

namespace otel::testing {

struct Reply {
  int status = 0;
  Json body;
  std::string raw;
  std::string contentType;
  std::string retryAfter;
  std::vector<std::string> warnings;  // Warning header values
};

class TestClient {
 public:
  explicit TestClient(const TestApiServer& server, std::string token = "", std::string userAgent = "Python-urllib/3.11");
  ~TestClient();
  Reply get(const std::string& path, const std::string& accept = "application/json");
  Reply post(const std::string& path, const Json& body);
  Reply put(const std::string& path, const Json& body);
  Reply patch(const std::string& path, const std::string& body, const std::string& contentType);
  Reply del(const std::string& path, const Json& body = Json());
  // Reads a watch stream until `maxEvents` events arrived or the server ends the stream.
  std::vector<Json> watch(const std::string& path, size_t maxEvents);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace otel::testing
