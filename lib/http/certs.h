// Certificates generated with OpenSSL at run time: a CA and leaf certificates signed by it (the webhooks'
// self-managed serving certificate; the tests' servers and clients). ECDSA P-256.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace otel::http {

struct CertKey {
  std::string certPem;
  std::string keyPem;
};

inline constexpr long kTwoDays = 2L * 24 * 3600;

// A self-signed CA, valid from an hour ago (clock skew) for validitySeconds.
CertKey generateCa(const std::string& commonName = "otel-test-ca", long validitySeconds = kTwoDays);
// A leaf certificate signed by `ca`. sans: "127.0.0.1" style entries become IP SANs, others DNS SANs.
// client=true gives extendedKeyUsage clientAuth, otherwise serverAuth. Throws otel::Error.
CertKey generateCert(const CertKey& ca, const std::string& commonName, const std::vector<std::string>& sans,
                     bool client = false, const std::vector<std::string>& organizations = {}, long validitySeconds = kTwoDays);
// The certificates of a PEM bundle, each as its own PEM block, in order (other blocks skipped).
std::vector<std::string> splitPemCertificates(const std::string& bundle);
// notAfter of a PEM certificate, seconds since the epoch. Throws otel::Error on bad PEM.
std::int64_t certNotAfter(const std::string& pem);

}  // namespace otel::http
