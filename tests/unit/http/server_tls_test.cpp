// The HTTPS server's certificate reload: a new pair is served to the next handshake, a connection already
// open keeps its own, and a bad pair is refused while the previous one keeps serving.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "lib/core/error.h"
#include "lib/http/certs.h"
#include "lib/http/server.h"
#include "tests/support/tls_probe.h"

namespace otel::http {
namespace {

namespace fs = std::filesystem;

void writeFile(const fs::path& p, const std::string& s) { std::ofstream(p, std::ios::trunc) << s; }

// The common name of the leaf the port serves (verified against `caPem`), or "error: ..." when the
// handshake fails.
std::string servedName(int port, const std::string& caPem) {
  std::string pem = otel::testing::servedCertificate(port, caPem);
  if (pem.rfind("error", 0) == 0) return pem;
  BIO* b = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  X509* peer = PEM_read_bio_X509(b, nullptr, nullptr, nullptr);
  BIO_free(b);
  if (!peer) return "error: unreadable certificate";
  char cn[256] = {0};
  X509_NAME_get_text_by_NID(X509_get_subject_name(peer), NID_commonName, cn, sizeof cn);
  X509_free(peer);
  return cn;
}

TEST(ServerTls, ReloadServesTheNewPairToTheNextHandshake) {
  fs::path dir = fs::temp_directory_path() / ("otel-tls-reload-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  auto ca = generateCa();
  auto first = generateCert(ca, "first", {"127.0.0.1"});
  auto second = generateCert(ca, "second", {"127.0.0.1"});
  writeFile(dir / "a.crt", first.certPem);
  writeFile(dir / "a.key", first.keyPem);
  writeFile(dir / "b.crt", second.certPem);
  writeFile(dir / "b.key", second.keyPem);

  Server s(TlsOptions{(dir / "a.crt").string(), (dir / "a.key").string(), ""});
  s.get("/x", [](const Request&) { return Response{200, "text/plain", "x"}; });
  int port = s.bind("127.0.0.1:0");
  s.start();
  EXPECT_EQ(servedName(port, ca.certPem), "first");

  s.reloadCertificate((dir / "b.crt").string(), (dir / "b.key").string());
  EXPECT_EQ(servedName(port, ca.certPem), "second");

  // A certificate with another pair's key, and a file that is not PEM: refused, "second" still served.
  EXPECT_THROW(s.reloadCertificate((dir / "a.crt").string(), (dir / "b.key").string()), otel::Error);
  writeFile(dir / "junk.crt", "not a certificate");
  EXPECT_THROW(s.reloadCertificate((dir / "junk.crt").string(), (dir / "b.key").string()), otel::Error);
  EXPECT_THROW(s.reloadCertificate((dir / "missing.crt").string(), (dir / "b.key").string()), otel::Error);
  EXPECT_EQ(servedName(port, ca.certPem), "second");
  s.stop();
  fs::remove_all(dir);
}

TEST(ServerTls, TheServedPairIsVerifiedByTheClient) {
  // The helper above really verifies: a client trusting another CA fails its handshake.
  fs::path dir = fs::temp_directory_path() / ("otel-tls-chain-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  auto root = generateCa("root");
  auto leafOfRoot = generateCert(root, "plain", {"127.0.0.1"});
  writeFile(dir / "p.crt", leafOfRoot.certPem);
  writeFile(dir / "p.key", leafOfRoot.keyPem);
  Server s(TlsOptions{(dir / "p.crt").string(), (dir / "p.key").string(), ""});
  int port = s.bind("127.0.0.1:0");
  s.start();
  auto other = generateCa("other");
  EXPECT_EQ(servedName(port, root.certPem), "plain");
  EXPECT_EQ(servedName(port, other.certPem), "error: handshake");  // verification is real
  s.stop();
  fs::remove_all(dir);
}

}  // namespace
}  // namespace otel::http
