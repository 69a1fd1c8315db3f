// kubeconfig loading: merge order, context override, users, in-cluster files, error lines.
#include "lib/kube/kubeconfig.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "lib/core/error.h"
#include "lib/core/hash.h"

namespace fs = std::filesystem;
using otel::kube::LoadOptions;

namespace {

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "kubecfg-XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data());
  }
  ~TempDir() { fs::remove_all(path_); }
  std::string file(const std::string& name, const std::string& content, bool exec = false) const {
    std::string p = path_ + "/" + name;
    fs::create_directories(fs::path(p).parent_path());
    std::ofstream(p) << content;
    if (exec) ::chmod(p.c_str(), 0755);
    return p;
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

LoadOptions withEnv(std::map<std::string, std::string> env) {
  LoadOptions o;
  o.getenv = [env](const std::string& k) -> std::optional<std::string> {
    auto it = env.find(k);
    if (it == env.end()) return std::nullopt;
    return it->second;
  };
  return o;
}

std::string errorOf(const std::function<void()>& f) {
  try {
    f();
  } catch (const otel::Error& e) {
    return e.oneLine();
  }
  return "<no error>";
}

const char* kFileA = R"(apiVersion: v1
kind: Config
current-context: a
clusters:
- name: shared
  cluster:
    server: https://a.example:6443
    insecure-skip-tls-verify: true
users:
- name: shared
  user:
    token: token-a
contexts:
- name: a
  context: {cluster: shared, user: shared, namespace: team-a}
)";

const char* kFileB = R"(apiVersion: v1
kind: Config
current-context: b
clusters:
- name: shared
  cluster:
    server: https://b.example:6443
- name: only-b
  cluster:
    server: https://only-b.example
users:
- name: shared
  user:
    token: token-b
    as: extra-field-discarded
contexts:
- name: b
  context: {cluster: only-b, user: shared}
)";

}  // namespace

TEST(Kubeconfig, MergeFirstFileWinsPerStanzaAndCurrentContext) {
  TempDir d;
  auto a = d.file("a", kFileA);
  auto b = d.file("b", kFileB);
  auto o = withEnv({{"KUBECONFIG", a + ":" + d.path() + "/missing:" + b}});
  auto kc = otel::kube::loadKubeconfig(o);
  EXPECT_EQ(kc.currentContext, "a");
  EXPECT_EQ(kc.files.size(), 2u);
  auto rc = otel::kube::loadRestConfig(o);
  EXPECT_EQ(rc.server, "https://a.example:6443");
  EXPECT_EQ(rc.ns, "team-a");
  ASSERT_TRUE(rc.credentials);
  EXPECT_EQ(rc.credentials->get().token, "token-a");
  // The second file's context works, but user "shared" still comes whole from the first file.
  o.context = "b";
  rc = otel::kube::loadRestConfig(o);
  EXPECT_EQ(rc.server, "https://only-b.example");
  EXPECT_EQ(rc.credentials->get().token, "token-a");
  EXPECT_EQ(rc.impersonateUser, "");  // b's extra field of "shared" is discarded
  EXPECT_EQ(rc.ns, "default");
  // Reverse order: b wins.
  auto o2 = withEnv({{"KUBECONFIG", b + ":" + a}});
  rc = otel::kube::loadRestConfig(o2);
  EXPECT_EQ(rc.contextName, "b");
  EXPECT_EQ(rc.credentials->get().token, "token-b");
}

TEST(Kubeconfig, ExplicitFileMustExistAndIsNotMerged) {
  TempDir d;
  auto a = d.file("a", kFileA);
  auto b = d.file("b", kFileB);
  auto o = withEnv({{"KUBECONFIG", a}});
  o.kubeconfig = b;
  auto rc = otel::kube::loadRestConfig(o);
  EXPECT_EQ(rc.contextName, "b");
  o.context = "a";
  EXPECT_EQ(errorOf([&] { otel::kube::loadRestConfig(o); }), "--context: context \"a\" does not exist");
  o.kubeconfig = d.path() + "/nope";
  EXPECT_NE(errorOf([&] { otel::kube::loadRestConfig(o); }).find("nope: no such file or directory"), std::string::npos);
}

TEST(Kubeconfig, HomeConfigAndNamespaceOverride) {
  TempDir d;
  d.file(".kube/config", kFileA);
  auto o = withEnv({{"HOME", d.path()}});
  o.ns = "override";
  auto rc = otel::kube::loadRestConfig(o);
  EXPECT_EQ(rc.server, "https://a.example:6443");
  EXPECT_EQ(rc.ns, "override");
  EXPECT_TRUE(rc.nsExplicit);
  EXPECT_EQ(rc.userAgent.rfind("kubectl-otel/", 0), 0u);
}

TEST(Kubeconfig, UnknownContextIsOneLine) {
  TempDir d;
  auto a = d.file("a", kFileA);
  auto o = withEnv({{"KUBECONFIG", a}});
  o.context = "x";
  EXPECT_EQ(errorOf([&] { otel::kube::loadRestConfig(o); }), "--context: context \"x\" does not exist");
}

TEST(Kubeconfig, MalformedFileNamesFileAndField) {
  TempDir d;
  auto bad = d.file("bad", "clusters: [\n  - name: x\n    cluster: {server: }\n  - : : :\n");
  auto o = withEnv({});
  o.kubeconfig = bad;
  std::string e = errorOf([&] { otel::kube::loadRestConfig(o); });
  EXPECT_NE(e.find(bad), std::string::npos) << e;
  EXPECT_EQ(e.find('\n'), std::string::npos);

  auto noName = d.file("noname", "clusters:\n- cluster: {server: https://x}\n");
  o.kubeconfig = noName;
  e = errorOf([&] { otel::kube::loadRestConfig(o); });
  EXPECT_NE(e.find(noName), std::string::npos) << e;
  EXPECT_NE(e.find("clusters[0].name"), std::string::npos) << e;

  auto badB64 = d.file("b64", R"(current-context: c
clusters: [{name: c, cluster: {server: "https://x", certificate-authority-data: "%%%"}}]
contexts: [{name: c, context: {cluster: c}}]
)");
  o.kubeconfig = badB64;
  e = errorOf([&] { otel::kube::loadRestConfig(o); });
  EXPECT_NE(e.find("certificate-authority-data"), std::string::npos) << e;
  EXPECT_NE(e.find(badB64), std::string::npos) << e;
}

TEST(Kubeconfig, ClientCertificatesDataAndRelativeFiles) {
  TempDir d;
  d.file("certs/client.crt", "CERT-PEM");
  d.file("certs/client.key", "KEY-PEM");
  d.file("certs/ca.crt", "CA-PEM");
  auto kc = d.file("conf/kc", R"(current-context: c
clusters: [{name: c, cluster: {server: "https://x:1", certificate-authority: ../certs/ca.crt, tls-server-name: kubernetes,
  proxy-url: "socks5://127.0.0.1:1080"}}]
users:
- name: files
  user: {client-certificate: ../certs/client.crt, client-key: ../certs/client.key}
- name: data
  user: {client-certificate-data: )" + otel::base64Encode("CERT2") + ", client-key-data: " + otel::base64Encode("KEY2") +
                                     R"(}
- name: halfcert
  user: {client-certificate-data: )" + otel::base64Encode("CERT2") + R"(}
contexts: [{name: c, context: {cluster: c, user: files}}, {name: d, context: {cluster: c, user: data}},
  {name: h, context: {cluster: c, user: halfcert}}]
)");
  auto o = withEnv({});
  o.kubeconfig = kc;
  auto rc = otel::kube::loadRestConfig(o);
  EXPECT_EQ(rc.caPem, "CA-PEM");
  EXPECT_EQ(rc.tlsServerName, "kubernetes");
  EXPECT_EQ(rc.proxyUrl, "socks5://127.0.0.1:1080");
  EXPECT_EQ(rc.credentials->get().clientCertPem, "CERT-PEM");
  EXPECT_EQ(rc.credentials->get().clientKeyPem, "KEY-PEM");
  o.context = "d";
  rc = otel::kube::loadRestConfig(o);
  EXPECT_EQ(rc.credentials->get().clientCertPem, "CERT2");
  EXPECT_EQ(rc.credentials->get().clientKeyPem, "KEY2");
  o.context = "h";
  EXPECT_NE(errorOf([&] { otel::kube::loadRestConfig(o); })
                .find("client-key-data or client-key must be specified for halfcert"),
            std::string::npos);
}

TEST(Kubeconfig, InsecureWithCaIsRejected) {
  TempDir d;
  auto kc = d.file("kc", R"(current-context: c
clusters: [{name: c, cluster: {server: "https://x", insecure-skip-tls-verify: true, certificate-authority-data: )" +
                             otel::base64Encode("CA") + R"(}}]
contexts: [{name: c, context: {cluster: c}}]
)");
  auto o = withEnv({});
  o.kubeconfig = kc;
  EXPECT_NE(errorOf([&] { otel::kube::loadRestConfig(o); })
                .find("specifying a root certificates file with the insecure flag is not allowed"),
            std::string::npos);
}

TEST(Kubeconfig, TokenFileIsReReadOnRotation) {
  TempDir d;
  d.file("tok", "first\n");
  auto kc = d.file("kc", R"(current-context: c
clusters: [{name: c, cluster: {server: "https://x"}}]
users: [{name: u, user: {tokenFile: tok}}]
contexts: [{name: c, context: {cluster: c, user: u}}]
)");
  auto o = withEnv({});
  o.kubeconfig = kc;
  o.tokenFileRefresh = std::chrono::seconds(0);
  auto rc = otel::kube::loadRestConfig(o);
  auto c1 = rc.credentials->get();
  EXPECT_EQ(c1.token, "first");
  d.file("tok", "second\n");
  EXPECT_EQ(rc.credentials->get().token, "second");
  // With a long refresh period, a 401 forces the re-read.
  o.tokenFileRefresh = std::chrono::seconds(3600);
  rc = otel::kube::loadRestConfig(o);
  auto used = rc.credentials->get();
  EXPECT_EQ(used.token, "second");
  d.file("tok", "third\n");
  EXPECT_EQ(rc.credentials->get().token, "second");
  EXPECT_TRUE(rc.credentials->refreshAfterUnauthorized(used));
  EXPECT_EQ(rc.credentials->get().token, "third");
}

TEST(Kubeconfig, InClusterFiles) {
  TempDir d;
  d.file("sa/token", "sa-token-1");
  d.file("sa/ca.crt", "SA-CA");
  d.file("sa/namespace", "observability\n");
  auto o = withEnv({{"KUBERNETES_SERVICE_HOST", "10.0.0.1"}, {"KUBERNETES_SERVICE_PORT", "443"},
                    {"HOME", d.path() + "/nohome"}});
  o.inClusterRoot = d.path() + "/sa";
  o.tokenFileRefresh = std::chrono::seconds(0);
  auto rc = otel::kube::loadRestConfig(o);
  EXPECT_TRUE(rc.inCluster);
  EXPECT_EQ(rc.server, "https://10.0.0.1:443");
  EXPECT_EQ(rc.caPem, "SA-CA");
  EXPECT_EQ(rc.ns, "observability");
  EXPECT_EQ(rc.credentials->get().token, "sa-token-1");
  d.file("sa/token", "sa-token-2");
  EXPECT_EQ(rc.credentials->get().token, "sa-token-2");
  // POD_NAMESPACE wins over the file; IPv6 hosts get brackets.
  auto o2 = withEnv({{"KUBERNETES_SERVICE_HOST", "fd00::1"}, {"KUBERNETES_SERVICE_PORT", "6443"},
                     {"POD_NAMESPACE", "from-env"}});
  o2.inClusterRoot = o.inClusterRoot;
  rc = otel::kube::inClusterRestConfig(o2);
  EXPECT_EQ(rc.server, "https://[fd00::1]:6443");
  EXPECT_EQ(rc.ns, "from-env");
  // Missing token file: one line naming it.
  fs::remove(d.path() + "/sa/token");
  EXPECT_NE(errorOf([&] { otel::kube::inClusterRestConfig(o); }).find("sa/token: no such file"), std::string::npos);
}

TEST(Kubeconfig, NothingConfigured) {
  TempDir d;
  auto o = withEnv({{"HOME", d.path()}});
  std::string e = errorOf([&] { otel::kube::loadRestConfig(o); });
  EXPECT_NE(e.find("no configuration has been provided"), std::string::npos) << e;
}

TEST(Kubeconfig, ExecPluginFromRelativeCommand) {
  TempDir d;
  std::string counter = d.path() + "/runs";
  d.file("bin/plugin.sh", "#!/bin/sh\necho run >> " + counter +
                              "\necho \"$KUBERNETES_EXEC_INFO\" > " + d.path() + "/info\n"
                              "printf '{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\","
                              "\"status\":{\"token\":\"%s-%s\"}}' \"$1\" \"$MY_ENV\"\n",
         true);
  auto kc = d.file("kc", R"(current-context: c
clusters:
- name: c
  cluster:
    server: https://x:6443
    extensions: [{name: client.authentication.k8s.io/exec, extension: {audience: demo}}]
users:
- name: u
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1
      command: ./bin/plugin.sh
      args: [arg1]
      env: [{name: MY_ENV, value: envval}]
      interactiveMode: Never
      provideClusterInfo: true
contexts: [{name: c, context: {cluster: c, user: u}}]
)");
  auto o = withEnv({});
  o.kubeconfig = kc;
  auto rc = otel::kube::loadRestConfig(o);
  auto* exec = dynamic_cast<otel::kube::ExecCredentials*>(rc.credentials.get());
  ASSERT_NE(exec, nullptr);
  EXPECT_EQ(rc.credentials->get().token, "arg1-envval");
  EXPECT_EQ(rc.credentials->get().token, "arg1-envval");
  EXPECT_EQ(exec->runs(), 1);  // cached: no expiry given
  auto info = otel::Json::parse(std::ifstream(d.path() + "/info"));
  EXPECT_EQ(info["apiVersion"], "client.authentication.k8s.io/v1");
  EXPECT_EQ(info["spec"]["interactive"], false);
  EXPECT_EQ(info["spec"]["cluster"]["server"], "https://x:6443");
  EXPECT_EQ(info["spec"]["cluster"]["config"]["audience"], "demo");
  // A 401 re-runs the plugin once.
  auto used = rc.credentials->get();
  EXPECT_TRUE(rc.credentials->refreshAfterUnauthorized(used));
  EXPECT_EQ(exec->runs(), 2);
}

TEST(Kubeconfig, ExecPluginV1NeedsInteractiveMode) {
  TempDir d;
  auto kc = d.file("kc", R"(current-context: c
clusters: [{name: c, cluster: {server: "https://x"}}]
users: [{name: u, user: {exec: {apiVersion: client.authentication.k8s.io/v1, command: x}}}]
contexts: [{name: c, context: {cluster: c, user: u}}]
)");
  auto o = withEnv({});
  o.kubeconfig = kc;
  EXPECT_NE(errorOf([&] { otel::kube::loadRestConfig(o); })
                .find("interactiveMode must be specified for u to use exec authentication plugin"),
            std::string::npos);
}
