#include "lib/http/certs.h"

#include <openssl/bio.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <arpa/inet.h>

#include <ctime>
#include <memory>

#include "lib/core/error.h"

namespace otel::http {
namespace {

struct Deleter {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
  void operator()(X509* p) const { X509_free(p); }
  void operator()(BIO* p) const { BIO_free(p); }
  void operator()(EVP_PKEY_CTX* p) const { EVP_PKEY_CTX_free(p); }
  void operator()(X509_EXTENSION* p) const { X509_EXTENSION_free(p); }
};
template <class T>
using Ptr = std::unique_ptr<T, Deleter>;

void check(bool ok, const char* what) {
  if (!ok) throw otel::Error(std::string("certificate generation failed: ") + what, "certificates");
}

Ptr<EVP_PKEY> newKey() {
  // ECDSA P-256: as accepted as RSA by Go, curl and OpenSSL clients, and generated in microseconds.
  Ptr<EVP_PKEY_CTX> ctx(EVP_PKEY_CTX_new_id(EVP_PKEY_EC, nullptr));
  check(ctx != nullptr, "EVP_PKEY_CTX_new_id");
  check(EVP_PKEY_keygen_init(ctx.get()) > 0, "keygen_init");
  check(EVP_PKEY_CTX_set_ec_paramgen_curve_nid(ctx.get(), NID_X9_62_prime256v1) > 0, "ec_curve");
  EVP_PKEY* key = nullptr;
  check(EVP_PKEY_keygen(ctx.get(), &key) > 0, "keygen");
  return Ptr<EVP_PKEY>(key);
}

std::string bioString(BIO* bio) {
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<size_t>(n));
}

std::string certPem(X509* cert) {
  Ptr<BIO> bio(BIO_new(BIO_s_mem()));
  check(PEM_write_bio_X509(bio.get(), cert) == 1, "PEM_write_bio_X509");
  return bioString(bio.get());
}

std::string keyPem(EVP_PKEY* key) {
  Ptr<BIO> bio(BIO_new(BIO_s_mem()));
  check(PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) == 1, "PEM_write_bio_PrivateKey");
  return bioString(bio.get());
}

Ptr<X509> readCert(const std::string& pem) {
  Ptr<BIO> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  Ptr<X509> cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  check(cert != nullptr, "PEM_read_bio_X509");
  return cert;
}

Ptr<EVP_PKEY> readKey(const std::string& pem) {
  Ptr<BIO> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  Ptr<EVP_PKEY> key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  check(key != nullptr, "PEM_read_bio_PrivateKey");
  return key;
}

void addExt(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  Ptr<X509_EXTENSION> ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str()));
  check(ext != nullptr, "X509V3_EXT_conf_nid");
  check(X509_add_ext(cert, ext.get(), -1) == 1, "X509_add_ext");
}

Ptr<X509> newCert(EVP_PKEY* key, const std::string& cn, const std::vector<std::string>& orgs, long validitySeconds) {
  Ptr<X509> cert(X509_new());
  X509_set_version(cert.get(), 2);
  unsigned char serial[16];
  RAND_bytes(serial, sizeof serial);
  serial[0] &= 0x7f;
  BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
  BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get()));
  BN_free(bn);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), validitySeconds);
  X509_set_pubkey(cert.get(), key);
  X509_NAME* name = X509_get_subject_name(cert.get());
  for (const auto& o : orgs)
    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(o.c_str()), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  return cert;
}

}  // namespace

CertKey generateCa(const std::string& commonName, long validitySeconds) {
  auto key = newKey();
  auto cert = newCert(key.get(), commonName, {}, validitySeconds);
  X509_set_issuer_name(cert.get(), X509_get_subject_name(cert.get()));
  addExt(cert.get(), cert.get(), NID_basic_constraints, "critical,CA:TRUE");
  addExt(cert.get(), cert.get(), NID_key_usage, "critical,keyCertSign,cRLSign,digitalSignature");
  addExt(cert.get(), cert.get(), NID_subject_key_identifier, "hash");
  check(X509_sign(cert.get(), key.get(), EVP_sha256()) > 0, "X509_sign");
  return {certPem(cert.get()), keyPem(key.get())};
}

CertKey generateCert(const CertKey& ca, const std::string& commonName, const std::vector<std::string>& sans,
                     bool client, const std::vector<std::string>& organizations, long validitySeconds) {
  auto caCert = readCert(ca.certPem);
  auto caKey = readKey(ca.keyPem);
  auto key = newKey();
  auto cert = newCert(key.get(), commonName, organizations, validitySeconds);
  X509_set_issuer_name(cert.get(), X509_get_subject_name(caCert.get()));
  addExt(cert.get(), caCert.get(), NID_basic_constraints, "critical,CA:FALSE");
  addExt(cert.get(), caCert.get(), NID_key_usage, "critical,digitalSignature");
  addExt(cert.get(), caCert.get(), NID_ext_key_usage, client ? "clientAuth" : "serverAuth");
  if (!sans.empty()) {
    std::string value;
    for (const auto& s : sans) {
      unsigned char buf[16];
      bool ip = inet_pton(AF_INET, s.c_str(), buf) == 1 || inet_pton(AF_INET6, s.c_str(), buf) == 1;
      if (!value.empty()) value += ",";
      value += (ip ? "IP:" : "DNS:") + s;
    }
    addExt(cert.get(), caCert.get(), NID_subject_alt_name, value);
  }
  check(X509_sign(cert.get(), caKey.get(), EVP_sha256()) > 0, "X509_sign");
  return {certPem(cert.get()), keyPem(key.get())};
}

std::vector<std::string> splitPemCertificates(const std::string& bundle) {
  static const std::string begin = "-----BEGIN CERTIFICATE-----", end = "-----END CERTIFICATE-----";
  std::vector<std::string> out;
  size_t pos = 0;
  while ((pos = bundle.find(begin, pos)) != std::string::npos) {
    size_t stop = bundle.find(end, pos);
    if (stop == std::string::npos) break;
    out.push_back(bundle.substr(pos, stop + end.size() - pos) + "\n");
    pos = stop + end.size();
  }
  return out;
}

std::int64_t certNotAfter(const std::string& pem) {
  auto cert = readCert(pem);
  std::tm tm{};
  check(ASN1_TIME_to_tm(X509_get0_notAfter(cert.get()), &tm) == 1, "ASN1_TIME_to_tm");
  return static_cast<std::int64_t>(timegm(&tm));
}

}  // namespace otel::http
