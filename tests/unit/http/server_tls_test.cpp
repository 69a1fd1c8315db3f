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

namespace otel::http {
namespace {

namespace fs = std::filesystem;

void writeFile(const fs::path& p, const std::string& s) { std::ofstream(p, std::ios::trunc) << s; }

// One TLS handshake to the port, verifying against `caPem`; returns the served leaf's common name, or
// "error: ..." when the handshake fails.
std::string servedName(int port, const std::string& caPem) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  BIO* b = BIO_new_mem_buf(caPem.data(), static_cast<int>(caPem.size()));
  X509* ca = PEM_read_bio_X509(b, nullptr, nullptr, nullptr);
  BIO_free(b);
  X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx), ca);
  X509_free(ca);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  timeval tv{30, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string out;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    out = "error: connect";
  } else {
    SSL* ssl = SSL_new(ctx);
    SSL_set_fd(ssl, fd);
    if (SSL_connect(ssl) != 1) {
      out = "error: handshake";
    } else {
      X509* peer = SSL_get1_peer_certificate(ssl);
      char cn[256] = {0};
      X509_NAME_get_text_by_NID(X509_get_subject_name(peer), NID_commonName, cn, sizeof cn);
      out = cn;
      X509_free(peer);
      SSL_shutdown(ssl);
    }
    SSL_free(ssl);
  }
  ERR_clear_error();
  ::close(fd);
  SSL_CTX_free(ctx);
  return out;
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
