// Exec credential parsing (client-go's messages), expiry caching, RFC 3339 helpers.
#include "lib/kube/credentials.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "lib/core/error.h"

namespace fs = std::filesystem;
using otel::kube::parseExecCredential;

namespace {
std::string errorOf(const std::string& out, const std::string& v = "client.authentication.k8s.io/v1") {
  try {
    parseExecCredential(out, v, nullptr);
  } catch (const otel::Error& e) {
    return e.what();
  }
  return "<no error>";
}
}  // namespace

TEST(ExecCredential, ClientGoErrorMessages) {
  EXPECT_EQ(errorOf(R"({"apiVersion":"client.authentication.k8s.io/v1beta1","kind":"ExecCredential","status":{"token":"x"}})"),
            "exec plugin is configured to use API version client.authentication.k8s.io/v1, plugin returned version "
            "client.authentication.k8s.io/v1beta1");
  EXPECT_EQ(errorOf(R"({"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential"})"),
            "exec plugin didn't return a status field");
  EXPECT_EQ(errorOf(R"({"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{}})"),
            "exec plugin didn't return a token or cert/key pair");
  EXPECT_EQ(errorOf(R"({"apiVersion":"client.authentication.k8s.io/v1","status":{"clientCertificateData":"C"}})"),
            "exec plugin returned only certificate or key, not both");
}

TEST(ExecCredential, CertificatePairAndExpiry) {
  std::optional<std::chrono::system_clock::time_point> exp;
  auto c = parseExecCredential(
      R"({"apiVersion":"client.authentication.k8s.io/v1beta1","status":{"clientCertificateData":"C","clientKeyData":"K","expirationTimestamp":"2030-01-02T03:04:05Z"}})",
      "client.authentication.k8s.io/v1beta1", &exp);
  EXPECT_EQ(c.clientCertPem, "C");
  EXPECT_EQ(c.clientKeyPem, "K");
  ASSERT_TRUE(exp);
  EXPECT_EQ(otel::kube::formatRfc3339(*exp), "2030-01-02T03:04:05Z");
}

TEST(ExecCredential, CachedUntilExpiry) {
  std::string tmpl = (fs::temp_directory_path() / "execcred-XXXXXX").string();
  std::string dir = ::mkdtemp(tmpl.data());
  std::string script = dir + "/p.sh";
  // Expired credentials: every get() runs the plugin again.
  std::ofstream(script) << "#!/bin/sh\nprintf '{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"status\":"
                           "{\"token\":\"t\",\"expirationTimestamp\":\"2000-01-01T00:00:00Z\"}}'\n";
  ::chmod(script.c_str(), 0755);
  otel::kube::ExecConfig cfg;
  cfg.apiVersion = "client.authentication.k8s.io/v1";
  cfg.command = script;
  cfg.interactiveMode = "Never";
  otel::kube::ExecCredentials ec(cfg);
  EXPECT_EQ(ec.get().token, "t");
  EXPECT_EQ(ec.get().token, "t");
  EXPECT_EQ(ec.runs(), 2);
  // A missing executable names itself and the install hint.
  cfg.command = dir + "/absent";
  cfg.installHint = "install it with apt";
  otel::kube::ExecCredentials missing(cfg);
  try {
    missing.get();
    FAIL();
  } catch (const otel::Error& e) {
    EXPECT_NE(std::string(e.what()).find("not found (install it with apt)"), std::string::npos) << e.what();
  }
  // A failing plugin reports its exit code.
  std::ofstream(script) << "#!/bin/sh\nexit 3\n";
  cfg.command = script;
  otel::kube::ExecCredentials failing(cfg);
  try {
    failing.get();
    FAIL();
  } catch (const otel::Error& e) {
    EXPECT_NE(std::string(e.what()).find("failed with exit code 3"), std::string::npos) << e.what();
  }
  fs::remove_all(dir);
}

TEST(Rfc3339, ParseAndFormat) {
  auto t = otel::kube::parseRfc3339("2026-11-22T12:00:05.123456Z");
  ASSERT_TRUE(t);
  EXPECT_EQ(otel::kube::formatRfc3339(*t, true), "2026-11-22T12:00:05.123456Z");
  auto o = otel::kube::parseRfc3339("2026-11-22T14:00:05+02:00");
  ASSERT_TRUE(o);
  EXPECT_EQ(otel::kube::formatRfc3339(*o), "2026-11-22T12:00:05Z");
  EXPECT_FALSE(otel::kube::parseRfc3339("yesterday"));
}
