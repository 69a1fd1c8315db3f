// Test certificates: lib/http/certs (one implementation for the tests and the webhooks' own certificates).
#pragma once
#include <filesystem>
#include <fstream>
#include <string>

#include "lib/http/certs.h"

namespace otel::testing {

using otel::http::CertKey;
using otel::http::generateCa;
using otel::http::generateCert;

// Puts a pair in `dir` as tls.crt and tls.key the way a kubelet swaps a mounted Secret: each file written
// aside, then renamed into place (the key first), so a reader sees an old or a new file, never a partial one.
inline void mountCertPair(const std::string& dir, const CertKey& c) {
  std::filesystem::create_directories(dir + "/new");
  std::ofstream(dir + "/new/tls.crt") << c.certPem;
  std::ofstream(dir + "/new/tls.key") << c.keyPem;
  std::filesystem::rename(dir + "/new/tls.key", dir + "/tls.key");
  std::filesystem::rename(dir + "/new/tls.crt", dir + "/tls.crt");
}

}  // namespace otel::testing
