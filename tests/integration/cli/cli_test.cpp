// Runs the real kubectl-otel binary: version, completion, the __complete protocol, exit codes,
// kubectl's plugin lookup after install, and the release tarball + krew manifest.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "lib/core/files.h"
#include "lib/core/hash.h"
#include "lib/core/yaml.h"
#include "tests/support/shell.h"
#include "tests/support/api_server.h"

namespace {
namespace fs = std::filesystem;

using otel::clitest::haveKubectl;
using otel::clitest::Result;
using otel::clitest::sh;
using otel::clitest::tempDir;

const std::string kBin = OTEL_CLI_BINARY;

TEST(Cli, VersionClient) {
  Result r = sh(kBin + " version --client");
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find(std::string("Client Version: ") + OTEL_PROJECT_VERSION), std::string::npos) << r.out;
}

TEST(Cli, VersionClientJson) {
  Result r = sh(kBin + " version --client -o json");
  ASSERT_EQ(r.code, 0) << r.err;
  auto j = otel::Json::parse(r.out);
  EXPECT_EQ(j["clientVersion"]["version"], OTEL_PROJECT_VERSION);
}

TEST(Cli, VersionShowsTheServerVersionThroughTheKubeconfig) {
  otel::testing::TestApiServer server;
  std::string kc = tempDir("version-kc") + "/kubeconfig";
  server.writeKubeconfig(kc);
  Result r = sh(kBin + " --kubeconfig " + kc + " version");
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("Client Version: "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Server Version: v1."), std::string::npos) << r.out << r.err;
  EXPECT_EQ(r.err.find("Warning"), std::string::npos) << r.err;
}

// --cluster and --user pick kubeconfig entries other than the current context's.
TEST(Cli, ClusterAndUserFlagsOverrideTheContext) {
  otel::testing::TestApiServer server;
  std::string kc = tempDir("cluster-user") + "/kubeconfig";
  std::ofstream(kc) << "apiVersion: v1\nkind: Config\ncurrent-context: c\nclusters:\n"
                       "- name: down\n  cluster: {server: 'https://127.0.0.1:1'}\n"
                       "- name: test\n  cluster:\n    server: " << server.url() << "\n"
                       "    certificate-authority-data: " << otel::base64Encode(server.caPem()) << "\n"
                       "contexts:\n- name: c\n  context: {cluster: down, user: nobody}\n"
                       "users:\n- name: nobody\n  user: {token: wrong}\n"
                       "- name: good\n  user: {token: " << server.token() << "}\n";
  Result plain = sh(kBin + " --kubeconfig " + kc + " version");
  EXPECT_NE(plain.err.find("Warning"), std::string::npos) << plain.err;  // the context's cluster is down
  Result r = sh(kBin + " --kubeconfig " + kc + " --cluster test --user good version");
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("Server Version: v1."), std::string::npos) << r.out << r.err;
  EXPECT_EQ(r.err.find("Warning"), std::string::npos) << r.err;
  Result wrongUser = sh(kBin + " --kubeconfig " + kc + " --cluster test version");
  EXPECT_NE(wrongUser.err.find("Warning"), std::string::npos) << wrongUser.err;  // 401 with the context's user
}

TEST(Cli, VersionWarnsOnOneLineWhenTheServerIsUnreachable) {
  std::string kc = tempDir("version-down") + "/kubeconfig";
  std::ofstream(kc) << "apiVersion: v1\nkind: Config\ncurrent-context: c\nclusters:\n- name: c\n  cluster:\n"
                       "    server: https://127.0.0.1:1\ncontexts:\n- name: c\n  context: {cluster: c, user: u}\n"
                       "users:\n- name: u\n  user: {token: secret-token-value}\n";
  Result r = sh(kBin + " --kubeconfig " + kc + " version");
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("Client Version: "), std::string::npos);
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_NE(r.err.find("Warning"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("secret-token-value"), std::string::npos) << "a token was printed: " << r.err;
}

TEST(Cli, MissingExplicitKubeconfigIsOneLineError) {
  Result r = sh(kBin + " --kubeconfig /nonexistent/kc version");
  EXPECT_NE(r.out.find("Client Version: "), std::string::npos);
  EXPECT_NE(r.err.find("/nonexistent/kc"), std::string::npos) << r.err;
}

TEST(Cli, UnknownVerbIsAUsageErrorOnOneLine) {
  Result r = sh(kBin + " frobnicate");
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err.rfind("error: ", 0), 0u) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
}

TEST(Cli, BadLogFormatIsRejected) {
  Result r = sh(kBin + " version --client --log-format xml");
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("--log-format"), std::string::npos) << r.err;
}

TEST(Cli, GlobalFlagsAcceptedAfterTheVerb) {
  Result r = sh(kBin + " version --client -n foo --log-level debug");
  EXPECT_EQ(r.code, 0) << r.err;
}

TEST(Cli, CompletionScripts) {
  Result b = sh(kBin + " completion bash");
  EXPECT_EQ(b.code, 0);
  EXPECT_NE(b.out.find("complete -o default -F _kubectl_otel kubectl-otel"), std::string::npos);
  std::string script = tempDir("completion") + "/otel.bash";
  EXPECT_EQ(sh(kBin + " completion bash > " + script + " && bash -n " + script).code, 0) << "bash script does not parse";
  EXPECT_NE(sh(kBin + " completion zsh").out.find("compdef _kubectl_otel kubectl-otel"), std::string::npos);
  EXPECT_NE(sh(kBin + " completion fish").out.find("complete -c kubectl-otel"), std::string::npos);
  EXPECT_EQ(sh(kBin + " completion tcsh").code, 2);
}

TEST(Cli, CompleteProtocolListsVerbsButNotHiddenOnes) {
  Result r = sh(kBin + " __complete ''");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("version\t"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("completion\t"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("__complete"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.substr(r.out.size() - 3), ":4\n") << r.out;
}

TEST(Cli, CompleteProtocolValuesAndFlags) {
  Result shells = sh(kBin + " __complete completion ''");
  EXPECT_EQ(shells.out, "bash\nzsh\nfish\n:4\n");
  Result fmt = sh(kBin + " __complete version --log-format j");
  EXPECT_EQ(fmt.out, "json\n:4\n");
  Result flags = sh(kBin + " __complete version --cl");
  EXPECT_NE(flags.out.find("--client"), std::string::npos) << flags.out;
  Result viaHelper = sh("PATH=" + fs::path(kBin).parent_path().string() + ":$PATH " + OTEL_SOURCE_DIR +
                     "/scripts/kubectl_complete-otel ver");
  EXPECT_EQ(viaHelper.out.rfind("version\t", 0), 0u) << viaHelper.out << viaHelper.err;
}

TEST(Cli, KubectlFindsTheInstalledPlugin) {
  if (!haveKubectl()) GTEST_SKIP() << "kubectl is not on PATH";
  std::string prefix = tempDir("prefix");
  Result inst = sh("make -s -C " + std::string(OTEL_SOURCE_DIR) + " install-files BIN=" + kBin + " PREFIX=" + prefix);
  ASSERT_EQ(inst.code, 0) << inst.err;
  EXPECT_TRUE(fs::exists(prefix + "/bin/kubectl-otel"));
  EXPECT_TRUE(fs::exists(prefix + "/bin/kubectl_complete-otel"));
  // An empty kubeconfig: `version --client` must not need a cluster.
  Result r = sh("PATH=" + prefix + "/bin:/usr/bin:/bin KUBECONFIG=/dev/null kubectl otel version --client");
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("Client Version:"), std::string::npos) << r.out;
  Result list = sh("PATH=" + prefix + "/bin:/usr/bin:/bin kubectl plugin list");
  EXPECT_NE(list.out.find(prefix + "/bin/kubectl-otel"), std::string::npos) << list.out << list.err;
}

TEST(Cli, DistTarballAndKrewManifest) {
  std::string dir = tempDir("dist");
  fs::copy_file(std::string(OTEL_SOURCE_DIR) + "/krew-manifest.yaml", dir + "/krew-manifest.yaml");
  Result r = sh("bash " + std::string(OTEL_SOURCE_DIR) + "/scripts/dist " + kBin + " " + OTEL_PROJECT_VERSION + " " + dir +
             " " + dir + "/krew-manifest.yaml");
  ASSERT_EQ(r.code, 0) << r.err;
  std::string tarball = dir + "/kubectl-otel_v" + OTEL_PROJECT_VERSION + "_linux_amd64.tar.gz";
  ASSERT_TRUE(fs::exists(tarball));
  Result list = sh("tar -tzf " + tarball);
  for (const char* f : {"kubectl-otel", "kubectl_complete-otel", "LICENSE", "README.md"})
    EXPECT_NE(list.out.find(f), std::string::npos) << f;
  otel::Json m = otel::parseYaml(otel::readFile(dir + "/krew-manifest.yaml"));
  EXPECT_EQ(m["apiVersion"], "krew.googlecontainertools.github.com/v1alpha2");
  EXPECT_EQ(m["kind"], "Plugin");
  EXPECT_EQ(m["metadata"]["name"], "otel");
  EXPECT_EQ(m["spec"]["version"], std::string("v") + OTEL_PROJECT_VERSION);
  ASSERT_EQ(m["spec"]["platforms"].size(), 1u);
  const auto& p = m["spec"]["platforms"][0];
  EXPECT_EQ(p["selector"]["matchLabels"]["os"], "linux");
  EXPECT_EQ(p["selector"]["matchLabels"]["arch"], "amd64");
  EXPECT_EQ(p["bin"], "kubectl-otel");
  EXPECT_EQ(p["sha256"], otel::sha256Hex(otel::readFile(tarball)));
  EXPECT_NE(p["uri"].get<std::string>().find(fs::path(tarball).filename().string()), std::string::npos);
  // The binary inside the archive runs.
  std::string x = tempDir("extract");
  ASSERT_EQ(sh("tar -xzf " + tarball + " -C " + x).code, 0);
  EXPECT_EQ(sh(x + "/kubectl-otel version --client").code, 0);
  // Building twice gives the same archive (reproducible).
  Result again = sh("bash " + std::string(OTEL_SOURCE_DIR) + "/scripts/dist " + kBin + " " + OTEL_PROJECT_VERSION + " " +
                 dir + " " + dir + "/krew-manifest.yaml");
  EXPECT_EQ(otel::parseYaml(otel::readFile(dir + "/krew-manifest.yaml"))["spec"]["platforms"][0]["sha256"], p["sha256"]);
}

}  // namespace
