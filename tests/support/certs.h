// Test certificates generated with OpenSSL at run time: a CA and leaf certificates signed by it
// (serving certificates for the test API server and test webhooks, client certificates for auth tests).
#pragma once
#include <string>
#include <vector>

namespace otel::testing {

struct CertKey {
  std::string certPem;
  std::string keyPem;
};

// A self-signed CA (ECDSA P-256, valid for two days).
CertKey generateCa(const std::string& commonName = "otel-test-ca");
// A leaf certificate signed by `ca`. sans: "127.0.0.1" style entries become IP SANs, others DNS SANs.
// client=true gives extendedKeyUsage clientAuth, otherwise serverAuth. Throws otel::Error.
CertKey generateCert(const CertKey& ca, const std::string& commonName, const std::vector<std::string>& sans,
                     bool client = false, const std::vector<std::string>& organizations = {});

}  // namespace otel::testing
