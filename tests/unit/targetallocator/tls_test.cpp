// HTTPS with client-certificate verification (mTLS), as the operator configures collectors: a client
// with a certificate from the CA gets the API (and unredacted /scrape_configs); one without is refused.
// Certificates are generated here with OpenSSL (RSA 2048, valid one day).
#include <gtest/gtest.h>
#include <httplib.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <filesystem>

#include "lib/core/error.h"
#include "lib/core/yaml.h"
#include "lib/http/server.h"
#include "lib/targetallocator/service.h"

namespace otel::targetallocator {
namespace {

namespace fs = std::filesystem;

struct Pair {
  EVP_PKEY* key = nullptr;
  X509* cert = nullptr;
  ~Pair() {
    X509_free(cert);
    EVP_PKEY_free(key);
  }
};

void addExt(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  ASSERT_NE(ext, nullptr);
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

// Self-signed when `ca` is null.
void makeCert(Pair& out, const char* cn, const Pair* ca, bool isCa, const char* san, long serial) {
  out.key = EVP_RSA_gen(2048);
  out.cert = X509_new();
  X509_set_version(out.cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(out.cert), serial);
  X509_gmtime_adj(X509_getm_notBefore(out.cert), -60);
  X509_gmtime_adj(X509_getm_notAfter(out.cert), 86400);
  X509_set_pubkey(out.cert, out.key);
  X509_NAME_add_entry_by_txt(X509_get_subject_name(out.cert), "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(cn), -1, -1, 0);
  X509* issuer = ca ? ca->cert : out.cert;
  X509_set_issuer_name(out.cert, X509_get_subject_name(issuer));
  addExt(out.cert, issuer, NID_basic_constraints, isCa ? "critical,CA:TRUE" : "CA:FALSE");
  if (san) addExt(out.cert, issuer, NID_subject_alt_name, san);
  X509_sign(out.cert, ca ? ca->key : out.key, EVP_sha256());
}

void writePem(const Pair& p, const fs::path& cert, const fs::path& key) {
  FILE* f = fopen(cert.c_str(), "w");
  PEM_write_X509(f, p.cert);
  fclose(f);
  if (!key.empty()) {
    f = fopen(key.c_str(), "w");
    PEM_write_PrivateKey(f, p.key, nullptr, nullptr, 0, nullptr, nullptr);
    fclose(f);
  }
}

TEST(Https, MutualTlsServesSecretsToVerifiedClientsOnly) {
  fs::path dir = fs::temp_directory_path() / ("ta-tls-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  Pair ca, server, client;
  makeCert(ca, "test-ca", nullptr, true, nullptr, 1);
  makeCert(server, "targetallocator", &ca, false, "IP:127.0.0.1,DNS:localhost", 2);
  makeCert(client, "collector", &ca, false, nullptr, 3);
  writePem(ca, dir / "ca.crt", {});
  writePem(server, dir / "tls.crt", dir / "tls.key");
  writePem(client, dir / "client.crt", dir / "client.key");

  Config c = parseConfig(parseYaml(R"(
config:
  scrape_configs:
    - job_name: secured
      basic_auth: {username: u, password: hunter2}
      static_configs: [{targets: ['10.0.0.1:9100']}]
)"),
                         "targetallocator.yaml");
  c.collectors = {{"collector-0", ""}};
  Service service(c);
  http::Server https(http::TlsOptions{(dir / "tls.crt").string(), (dir / "tls.key").string(), (dir / "ca.crt").string()});
  registerRoutes(https, service);
  int port = https.bind("127.0.0.1:0");
  https.start();

  httplib::SSLClient good("127.0.0.1", port, (dir / "client.crt").string(), (dir / "client.key").string());
  good.set_ca_cert_path((dir / "ca.crt").c_str());
  good.enable_server_certificate_verification(true);
  auto r = good.Get("/scrape_configs");
  ASSERT_TRUE(r) << httplib::to_string(r.error());
  EXPECT_EQ(r->status, 200);
  EXPECT_NE(r->body.find("hunter2"), std::string::npos);  // TLS request: secrets served
  auto jobs = good.Get("/jobs");
  ASSERT_TRUE(jobs);
  EXPECT_EQ(jobs->body, service.jobs().body);

  httplib::SSLClient anonymous("127.0.0.1", port);
  anonymous.set_ca_cert_path((dir / "ca.crt").c_str());
  anonymous.enable_server_certificate_verification(true);
  auto refused = anonymous.Get("/jobs");
  EXPECT_FALSE(refused && refused->status == 200);  // no client certificate: handshake refused

  https.stop();
  fs::remove_all(dir);
}

TEST(Https, BadCertificateFilesAreAClearError) {
  EXPECT_THROW(http::Server(http::TlsOptions{"/nonexistent/tls.crt", "/nonexistent/tls.key", ""}), Error);
}

}  // namespace
}  // namespace otel::targetallocator
