// The real kubectl (a second, independent client) against the test API server: get, apply, apply
// --server-side, delete, get -w, api-resources. Skipped when kubectl is not on PATH.
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <future>

#include "tests/support/api_server.h"

namespace otel::testing {
namespace {

namespace fs = std::filesystem;

struct KubectlRun {
  int code = -1;
  std::string out;
};

bool haveKubectl() { return std::system("command -v kubectl >/dev/null 2>&1") == 0; }

class Kubectl : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!haveKubectl()) GTEST_SKIP() << "kubectl is not on PATH";
    dir_ = fs::temp_directory_path() / ("otel-kubectl-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
    server_ = std::make_unique<TestApiServer>();
    kubeconfig_ = (dir_ / "kubeconfig").string();
    server_->writeKubeconfig(kubeconfig_);
  }
  void TearDown() override {
    server_.reset();
    if (!dir_.empty()) fs::remove_all(dir_);
  }

  // Runs kubectl (bounded by `timeout`) with the test kubeconfig; stdout and stderr together.
  KubectlRun kubectl(const std::string& args, int seconds = 30) {
    std::string cmd = "KUBECONFIG='" + kubeconfig_ + "' HOME='" + dir_.string() + "' timeout " + std::to_string(seconds) +
                      " kubectl " + args + " 2>&1";
    KubectlRun r;
    FILE* p = popen(cmd.c_str(), "r");
    if (!p) return r;
    std::array<char, 4096> buf;
    size_t n;
    while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
    int st = pclose(p);
    r.code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    return r;
  }

  std::string writeFile(const std::string& name, const std::string& text) {
    auto path = dir_ / name;
    std::ofstream(path) << text;
    return path.string();
  }

  fs::path dir_;
  std::string kubeconfig_;
  std::unique_ptr<TestApiServer> server_;
};

const char* kConfigMap = R"(apiVersion: v1
kind: ConfigMap
metadata:
  name: demo
  labels:
    app: demo
data:
  a: "1"
)";

TEST_F(Kubectl, VersionAndApiResources) {
  auto v = kubectl("version -o json");
  ASSERT_EQ(v.code, 0) << v.out;
  EXPECT_NE(v.out.find("\"serverVersion\""), std::string::npos) << v.out;
  auto r = kubectl("api-resources");
  ASSERT_EQ(r.code, 0) << r.out;
  for (const char* s : {"configmaps", "deployments", "leases", "mutatingwebhookconfigurations",
                        "customresourcedefinitions", "horizontalpodautoscalers", "endpointslices"})
    EXPECT_NE(r.out.find(s), std::string::npos) << s;
}

TEST_F(Kubectl, ApplyGetServerSideApplyDelete) {
  std::string file = writeFile("cm.yaml", kConfigMap);
  auto r = kubectl("apply -f " + file);
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("configmap/demo created"), std::string::npos) << r.out;
  EXPECT_EQ(server_->getObject("v1", "configmaps", "default", "demo")["data"]["a"], "1");

  std::string changed = kConfigMap;
  changed.replace(changed.find("\"1\""), 3, "\"2\"");
  writeFile("cm.yaml", changed);
  r = kubectl("apply -f " + file);
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("configmap/demo configured"), std::string::npos) << r.out;
  EXPECT_EQ(server_->getObject("v1", "configmaps", "default", "demo")["data"]["a"], "2");

  r = kubectl("get configmap demo -o json");
  ASSERT_EQ(r.code, 0) << r.out;
  Json got = Json::parse(r.out);
  EXPECT_EQ(got["data"]["a"], "2");
  EXPECT_EQ(got["metadata"]["labels"]["app"], "demo");
  r = kubectl("get cm");
  EXPECT_NE(r.out.find("demo"), std::string::npos) << r.out;

  // Server-side apply: a value owned by kubectl-client-side-apply conflicts, --force-conflicts takes it.
  changed.replace(changed.find("\"2\""), 3, "\"3\"");
  writeFile("cm.yaml", changed);
  r = kubectl("apply --server-side -f " + file);
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.out.find("conflict with \"kubectl-client-side-apply\""), std::string::npos) << r.out;
  r = kubectl("apply --server-side --force-conflicts -f " + file);
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("configmap/demo serverside-applied"), std::string::npos) << r.out;
  Json stored = server_->getObject("v1", "configmaps", "default", "demo");
  EXPECT_EQ(stored["data"]["a"], "3");
  bool applyManager = false;
  for (const auto& m : stored["metadata"]["managedFields"])
    if (m["manager"] == "kubectl" && m["operation"] == "Apply") applyManager = true;
  EXPECT_TRUE(applyManager) << stored.dump();

  r = kubectl("delete configmap demo");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("configmap \"demo\" deleted"), std::string::npos) << r.out;
  EXPECT_TRUE(server_->getObject("v1", "configmaps", "default", "demo").is_null());
  r = kubectl("get configmap demo");
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.out.find("configmaps \"demo\" not found"), std::string::npos) << r.out;
}

TEST_F(Kubectl, GetWatchSeesChanges) {
  server_->putObject(Json{{"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"metadata", {{"name", "first"}}}});
  auto fut = std::async(std::launch::async, [&] { return kubectl("get configmaps -w --request-timeout=20s", 25); });
  ASSERT_TRUE(server_->waitForWatches(1, std::chrono::seconds(20)));
  server_->putObject(Json{{"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"metadata", {{"name", "second"}}}});
  // Events are written before the close, so kubectl prints "second" and then ends with the stream.
  server_->closeWatches();
  KubectlRun r = fut.get();
  EXPECT_NE(r.out.find("first"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("second"), std::string::npos) << r.out;
}

TEST_F(Kubectl, CustomResourceDefinitionsAndCustomResources) {
  std::string crd = writeFile("crd.yaml", R"(apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget, shortNames: [wd]}
  versions:
  - name: v1
    served: true
    storage: true
    subresources: {status: {}}
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec: {type: object, properties: {size: {type: integer, minimum: 1}}}
)");
  auto r = kubectl("apply -f " + crd);
  ASSERT_EQ(r.code, 0) << r.out;
  std::string cr = writeFile("cr.yaml", "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w1}\nspec: {size: 2}\n");
  r = kubectl("apply -f " + cr);
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("widget.example.com/w1 created"), std::string::npos) << r.out;
  r = kubectl("get wd");
  EXPECT_NE(r.out.find("w1"), std::string::npos) << r.out;
  std::string bad = writeFile("bad.yaml", "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w2}\nspec: {size: 0}\n");
  r = kubectl("apply -f " + bad);
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.out.find("spec.size in body should be greater than or equal to 1"), std::string::npos) << r.out;
  r = kubectl("delete widget w1");
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_TRUE(server_->getObject("example.com/v1", "widgets", "default", "w1").is_null());
}

}  // namespace
}  // namespace otel::testing
