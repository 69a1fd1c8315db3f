// The self-managed webhook certificate against the test API server, in-process: when the Secret is kept,
// when only the serving certificate is renewed (same CA, so no client's trust changes) and when the CA is
// (the bundle then trusts the new and the previous CA, written into the webhook configuration first).
#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <ctime>
#include <filesystem>
#include <fstream>

#include "lib/core/error.h"
#include "lib/core/hash.h"
#include "lib/http/certs.h"
#include "lib/http/metrics.h"
#include "lib/kube/client.h"
#include "plugin/webhooks.h"
#include "tests/support/api_server.h"
#include "tests/support/certs.h"
#include "tests/support/shell.h"
#include "tests/support/tls_probe.h"

namespace {

using otel::Json;
using otel::plugin::CertAction;
using otel::plugin::CertPolicy;
using otel::plugin::ensureSelfManagedCert;
using otel::plugin::selfCertAction;

const otel::kube::ResourceId kSecrets{"v1", "secrets", true, "Secret"};
const otel::kube::ResourceId kMwc{"admissionregistration.k8s.io/v1", "mutatingwebhookconfigurations", false,
                                  "MutatingWebhookConfiguration"};
const std::string kMwcName = "kubectl-otel-mutating-webhook-configuration";
const std::vector<std::string> kSans = {"kubectl-otel-webhook-service.default.svc", "127.0.0.1"};

std::string data(const Json& secret, const char* key) { return otel::base64Decode(secret["data"][key].get<std::string>()); }

// The leaf is signed by the CA (its public key verifies the signature).
bool signedBy(const std::string& leafPem, const std::string& caPem) {
  auto read = [](const std::string& pem) {
    BIO* b = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
    X509* x = PEM_read_bio_X509(b, nullptr, nullptr, nullptr);
    BIO_free(b);
    return x;
  };
  X509* leaf = read(leafPem);
  X509* ca = read(caPem);
  bool ok = leaf && ca && X509_verify(leaf, X509_get0_pubkey(ca)) == 1;
  X509_free(leaf);
  X509_free(ca);
  return ok;
}

Json secretWith(const otel::http::CertKey& ca, const otel::http::CertKey& leaf, const std::vector<std::string>& sans) {
  std::string s;
  for (const auto& x : sans) s += (s.empty() ? "" : ",") + x;
  return {{"metadata", {{"annotations", {{"kubectl-otel.io/sans", s}}}}},
          {"data",
           {{"ca.crt", otel::base64Encode(ca.certPem)},
            {"ca.key", otel::base64Encode(ca.keyPem)},
            {"tls.crt", otel::base64Encode(leaf.certPem)},
            {"tls.key", otel::base64Encode(leaf.keyPem)}}}};
}

TEST(SelfCertAction, DecidesFromTheLifetimesLeft) {
  CertPolicy p;
  p.caValidity = 3000;
  p.servingValidity = 300;
  const std::int64_t now = std::time(nullptr);
  auto ca = otel::http::generateCa("ca", 3000);
  auto leaf = otel::http::generateCert(ca, "w", kSans, false, {}, 300);
  Json fresh = secretWith(ca, leaf, kSans);
  EXPECT_EQ(selfCertAction(nullptr, kSans, now, p), CertAction::NewCa);
  EXPECT_EQ(selfCertAction(&fresh, kSans, now, p), CertAction::Keep);
  // with a third of the serving validity left: a new serving certificate, the CA kept
  EXPECT_EQ(selfCertAction(&fresh, kSans, now + 201, p), CertAction::NewServing);
  // other names wanted
  EXPECT_EQ(selfCertAction(&fresh, {"other.svc"}, now, p), CertAction::NewServing);
  // a CA with less than a third of its validity left is replaced when the serving certificate is due
  EXPECT_EQ(selfCertAction(&fresh, kSans, now + 2100, p), CertAction::NewCa);
  // a Secret written before ca.key was kept (nothing to sign with): a new CA when renewal is due
  Json noKey = fresh;
  noKey["data"].erase("ca.key");
  EXPECT_EQ(selfCertAction(&noKey, kSans, now, p), CertAction::Keep);
  EXPECT_EQ(selfCertAction(&noKey, kSans, now + 201, p), CertAction::NewCa);
  Json broken = fresh;
  broken["data"]["tls.crt"] = otel::base64Encode("junk");
  EXPECT_EQ(selfCertAction(&broken, kSans, now, p), CertAction::NewServing);
}

class SelfManagedCert : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = otel::clitest::tempDir(::testing::UnitTest::GetInstance()->current_test_info()->name());
    server_.writeKubeconfig(dir_ + "/kubeconfig");
    otel::kube::LoadOptions lo;
    lo.kubeconfig = dir_ + "/kubeconfig";
    auto rc = otel::kube::loadRestConfig(lo);
    rc.qps = 0;
    client_ = std::make_unique<otel::kube::Client>(rc);
    Json hook{{"name", "mpod.kb.io"},
              {"admissionReviewVersions", {"v1"}},
              {"sideEffects", "None"},
              {"clientConfig", {{"url", "https://127.0.0.1:1/mutate-v1-pod"}}}};
    client_->create(kMwc, "", Json{{"apiVersion", kMwc.apiVersion}, {"kind", kMwc.kind}, {"metadata", {{"name", kMwcName}}},
                                   {"webhooks", {hook}}});
  }
  Json secret() { return client_->get(kSecrets, "default", "kubectl-otel-webhook-cert"); }
  std::string bundle() { return otel::base64Decode(client_->get(kMwc, "", kMwcName)["webhooks"][0]["clientConfig"]["caBundle"].get<std::string>()); }
  std::string file(const char* name) {
    std::ifstream in(dir_ + "/certs/" + name);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  otel::testing::TestApiServer server_;
  std::string dir_;
  std::unique_ptr<otel::kube::Client> client_;
};

TEST_F(SelfManagedCert, KeptWhileFreshAndRenewedFromTheSameCa) {
  CertPolicy p;
  p.servingValidity = 30;
  EXPECT_TRUE(ensureSelfManagedCert(*client_, "default", kSans, dir_ + "/certs", p));
  Json first = secret();
  EXPECT_EQ(file("tls.crt"), data(first, "tls.crt"));
  EXPECT_EQ(file("tls.key"), data(first, "tls.key"));
  EXPECT_EQ(bundle(), data(first, "ca.crt"));
  const std::string mwcVersion = client_->get(kMwc, "", kMwcName)["metadata"]["resourceVersion"];

  // fresh: nothing written, files unchanged
  EXPECT_FALSE(ensureSelfManagedCert(*client_, "default", kSans, dir_ + "/certs", p));
  EXPECT_EQ(secret()["metadata"]["resourceVersion"], first["metadata"]["resourceVersion"]);

  // the same certificate seen under a longer validity has less than a third left: renewed, same CA
  p.servingValidity = 300;
  EXPECT_TRUE(ensureSelfManagedCert(*client_, "default", kSans, dir_ + "/certs", p));
  Json second = secret();
  EXPECT_NE(data(second, "tls.crt"), data(first, "tls.crt"));
  EXPECT_EQ(data(second, "ca.crt"), data(first, "ca.crt"));
  EXPECT_EQ(data(second, "ca.key"), data(first, "ca.key"));
  EXPECT_TRUE(signedBy(data(second, "tls.crt"), data(first, "ca.crt")));
  EXPECT_EQ(file("tls.crt"), data(second, "tls.crt"));
  EXPECT_EQ(client_->get(kMwc, "", kMwcName)["metadata"]["resourceVersion"], mwcVersion);  // trust unchanged
}

TEST_F(SelfManagedCert, ANewCaIsTrustedAlongsideThePreviousOne) {
  CertPolicy p;
  p.caValidity = 100;
  p.servingValidity = 10;
  ensureSelfManagedCert(*client_, "default", kSans, dir_ + "/certs", p);
  const std::string oldCa = data(secret(), "ca.crt");
  p.caValidity = 1000;  // the CA's 100 s are now under a third: replaced
  p.servingValidity = 30;
  EXPECT_TRUE(ensureSelfManagedCert(*client_, "default", kSans, dir_ + "/certs", p));
  Json s = secret();
  auto cas = otel::http::splitPemCertificates(data(s, "ca.crt"));
  ASSERT_EQ(cas.size(), 2u);
  EXPECT_NE(cas[0], oldCa);
  EXPECT_EQ(cas[1], oldCa);  // still trusted: replicas serving the old pair keep answering
  EXPECT_TRUE(signedBy(data(s, "tls.crt"), cas[0]));
  EXPECT_EQ(bundle(), data(s, "ca.crt"));
}

TEST_F(SelfManagedCert, AReplicaThatMayNotWriteReadsTheSecretOnly) {
  EXPECT_THROW(ensureSelfManagedCert(*client_, "default", kSans, dir_ + "/certs", {}, false), otel::Error);
  CertPolicy p;
  p.servingValidity = 30;
  ensureSelfManagedCert(*client_, "default", kSans, dir_ + "/certs", p, true);
  Json before = secret();
  p.servingValidity = 300;  // due, but not this replica's to renew
  EXPECT_FALSE(ensureSelfManagedCert(*client_, "default", kSans, dir_ + "/certs", p, false));
  EXPECT_EQ(secret()["metadata"]["resourceVersion"], before["metadata"]["resourceVersion"]);
}

// The files are compared with what the server loaded, not with what they hold when the refresh thread first
// looks: a swap between the two (cert-manager renewing while the operator starts) is still loaded.
TEST_F(SelfManagedCert, FilesSwappedBeforeTheFirstCheckAreLoaded) {
  auto ca = otel::http::generateCa();
  auto first = otel::http::generateCert(ca, "first", {"127.0.0.1"});
  auto second = otel::http::generateCert(ca, "second", {"127.0.0.1"});
  const std::string certs = dir_ + "/files";
  std::filesystem::create_directories(certs);
  otel::testing::mountCertPair(certs, first);
  otel::http::Registry metrics;
  otel::plugin::WebhookOptions wo;
  wo.listenAddr = "127.0.0.1:0";
  wo.certFile = certs + "/tls.crt";
  wo.keyFile = certs + "/tls.key";
  std::stop_source stop;
  otel::plugin::WebhookServer webhooks(*client_, metrics, wo);
  const int port = webhooks.start(stop.get_token());
  EXPECT_EQ(otel::testing::servedCertificate(port, ca.certPem), first.certPem);
  otel::testing::mountCertPair(certs, second);  // before the refresh thread exists
  otel::plugin::CertRefresh refresh;
  refresh.period = std::chrono::milliseconds(20);
  webhooks.keepCertificateFresh(refresh, stop.get_token());
  EXPECT_TRUE(otel::clitest::eventually([&] { return otel::testing::servedCertificate(port, ca.certPem) == second.certPem; },
                                        std::chrono::seconds(10)));
  stop.request_stop();
  webhooks.stop();
}

}  // namespace
