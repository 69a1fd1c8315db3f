// Acceptance: every OpenTelemetryCollector, Instrumentation, TargetAllocator and OpAMPBridge in
// upstream's e2e install files (../shared/reference/upstream-e2e) is accepted by an API server with
// our CRDs (deploy/crds, as `kubectl otel install --crds-only` applies them), and nothing the user
// wrote is pruned: every leaf of the input is in the stored object. The test API server validates
// and prunes with the CRD's structural schema as kube-apiserver does (CEL rules aside: see
// docs/testing.md). Skipped, with a message, in a clone without ../shared.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>

#include "lib/core/files.h"
#include "lib/core/yaml.h"
#include "lib/kube/errors.h"
#include "lib/manifests/install.h"
#include "tests/integration/kube/fixture.h"

namespace fs = std::filesystem;
using otel::Json;

namespace {

// Every leaf of `in` ("a.b[2].c" -> value) with its value.
void leaves(const Json& in, const std::string& path, std::map<std::string, Json>& out) {
  if (in.is_object() && !in.empty()) {
    for (auto it = in.begin(); it != in.end(); ++it) leaves(it.value(), path + "." + it.key(), out);
  } else if (in.is_array() && !in.empty()) {
    for (size_t i = 0; i < in.size(); ++i) leaves(in[i], path + "[" + std::to_string(i) + "]", out);
  } else {
    out[path] = in;
  }
}

// The install files of a suite: YAML files that are not chainsaw tests or assert files.
bool isInstallFile(const fs::path& p) {
  std::string name = p.filename().string();
  if (p.extension() != ".yaml" && p.extension() != ".yml") return false;
  return name.find("assert") == std::string::npos && name.find("chainsaw") == std::string::npos &&
         name.find("errors") == std::string::npos;
}

// Our CRDs, applied as `kubectl otel install --crds-only` applies them, except the collector CRD's
// `conversion: Webhook`: no conversion webhook runs here (the test API server would call it for every v1alpha1
// collector), so it is `None` and each version's schema is checked on its own; the conversion itself is tested
// by RunCli.ConvertsV1alpha1CollectorsThroughTheWebhook (tests/integration/controller/run_test.cpp).
void installCrds(otel::kube::Client& client) {
  otel::kube::PatchOptions po;
  po.fieldManager = "crds-test";
  for (auto crd : otel::manifests::crdObjects()) {
    if (crd["spec"].contains("conversion")) crd["spec"]["conversion"] = Json{{"strategy", "None"}};
    client.apply(crd, po);
  }
}

TEST(UpstreamExamples, AcceptedByOurCrdsWithNothingPruned) {
  fs::path root = fs::path(OTEL_SHARED_REFERENCE) / "upstream-e2e";
  if (!fs::exists(root)) GTEST_SKIP() << "no reference folder at " << root << " (a clone without ../shared)";
  otel::testing::TestApiServer server;
  kubetest::TempDir dir;
  otel::kube::Client client(kubetest::configFor(server, dir));
  installCrds(client);

  std::vector<fs::path> files;
  for (const auto& e : fs::recursive_directory_iterator(root))
    if (e.is_regular_file() && isInstallFile(e.path())) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  std::map<std::string, std::pair<int, int>> perSuite;  // suite -> (accepted, objects)
  std::map<std::string, std::string> namespaces;           // chainsaw test folder -> namespace
  for (const auto& file : files) {
    std::string suite = fs::relative(file, root).begin()->string();
    if (suite == "e2e-crd-validations") continue;  // those CRs are meant to be refused (by CEL rules)
    std::vector<otel::YamlDocument> docs;
    try {
      docs = otel::parseYamlStream(otel::readFile(file.string()), file.string());
    } catch (const std::exception&) {
      continue;  // chainsaw templates that are not plain YAML are not install files
    }
    // Like chainsaw: the files of one test folder go, in name order, to one namespace; an object
    // that exists already is merge-patched (a later step updating it), otherwise created.
    std::string folder = file.parent_path().string();
    if (!namespaces.count(folder)) namespaces[folder] = "ns-" + std::to_string(namespaces.size());
    const std::string ns = namespaces[folder];
    for (const auto& d : docs) {
      const Json& obj = d.value;
      if (!obj.is_object() || obj.value("apiVersion", "").rfind("opentelemetry.io/", 0) != 0) continue;
      if (server.getObject("v1", "namespaces", "", ns).is_null())
        client.create(Json{{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", ns}}}});
      Json in = obj;
      in["metadata"]["namespace"] = ns;
      const std::string name = obj["metadata"].value("name", "");
      std::string what = fs::relative(file, root).string() + ": " + obj.value("kind", "") + " " + name;
      auto& counts = perSuite[suite];
      counts.second++;
      Json stored;
      try {
        auto id = client.resourceFor(in);
        bool exists = true;
        try {
          client.get(id, ns, name);
        } catch (const otel::kube::ApiError& e) {
          if (!e.isNotFound()) throw;
          exists = false;
        }
        stored = exists ? client.patch(id, ns, name, otel::kube::PatchType::Merge, in) : client.create(in);
      } catch (const std::exception& e) {
        ADD_FAILURE() << what << " refused: " << e.what();
        continue;
      }
      std::map<std::string, Json> want, got;
      leaves(in, "", want);
      leaves(stored, "", got);
      bool pruned = false;
      for (const auto& [path, value] : want) {
        if (value.is_null()) continue;  // a null in a declared, non-nullable field is dropped by the server
        auto it = got.find(path);
        if (it == got.end() || it->second != value) {
          ADD_FAILURE() << what << ": " << path << " = " << value.dump() << " was "
                        << (it == got.end() ? std::string("pruned") : "stored as " + it->second.dump());
          pruned = true;
        }
      }
      if (!pruned) counts.first++;
    }
  }
  int total = 0;
  for (const auto& [suite, c] : perSuite) {
    std::cout << "[ suite ] " << suite << ": " << c.first << "/" << c.second << " accepted unpruned\n";
    total += c.second;
  }
  EXPECT_GT(total, 100) << "fewer upstream custom resources than expected: is the reference complete?";
}

// The server drops nulls only where the schema declares the field: the `batch: null` a user writes
// inside the free-form collector config stays (upstream's webhook warns about it), a null `spec.ingress`
// goes, and CRD defaults are filled in (allocationStrategy under an existing targetAllocator).
TEST(UpstreamExamples, NullsAndDefaultsAsTheApiServer) {
  otel::testing::TestApiServer server;
  kubetest::TempDir dir;
  otel::kube::Client client(kubetest::configFor(server, dir));
  installCrds(client);
  Json stored = client.create(otel::parseYaml(R"(apiVersion: opentelemetry.io/v1beta1
kind: OpenTelemetryCollector
metadata: {name: c, namespace: default}
spec:
  ingress: null
  targetAllocator: {enabled: true}
  config:
    receivers: {otlp: {protocols: {grpc: {}}}}
    processors: {batch: null}
    exporters: {debug: {}}
    service: {pipelines: {traces: {receivers: [otlp], processors: [batch], exporters: [debug]}}}
)"));
  EXPECT_FALSE(stored["spec"].contains("ingress"));
  ASSERT_TRUE(stored["spec"]["config"]["processors"].contains("batch"));
  EXPECT_TRUE(stored["spec"]["config"]["processors"]["batch"].is_null());
  EXPECT_EQ(stored["spec"]["targetAllocator"]["allocationStrategy"], "consistent-hashing");
  EXPECT_FALSE(stored["spec"].contains("autoscaler"));  // defaults only under objects that exist
  // a null value in a map (additionalProperties) is not dropped: the server refuses it
  Json bad = otel::parseYaml(R"(apiVersion: opentelemetry.io/v1beta1
kind: OpenTelemetryCollector
metadata: {name: d, namespace: default}
spec:
  nodeSelector: {disk: null}
  config: {receivers: {}, exporters: {}, service: {pipelines: {}}}
)");
  try {
    client.create(bad);
    ADD_FAILURE() << "a null nodeSelector value was accepted";
  } catch (const otel::kube::ApiError& e) {
    EXPECT_EQ(e.code(), 422);
    EXPECT_NE(std::string(e.what()).find("spec.nodeSelector.disk"), std::string::npos) << e.what();
  }
}

}  // namespace
