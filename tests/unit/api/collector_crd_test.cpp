// deploy/crds: group, kinds, short names, versions (v1beta1 storage, /convert), printer columns,
// subresources, and schemas that declare every spec field the fixtures and upstream e2e CRs use.
#include <gtest/gtest.h>

#include <filesystem>
#include <set>

#include "lib/api/common.h"
#include "lib/core/files.h"
#include "lib/core/yaml.h"

namespace fs = std::filesystem;

namespace otel::api {
namespace {

Json crd(const std::string& file) {
  auto docs = readManifests({(fs::path(OTEL_SOURCE_DIR) / "deploy" / "crds" / file).string()}, false);
  EXPECT_EQ(docs.size(), 1u);
  return docs.at(0).value;
}

const Json& version(const Json& c, const std::string& name) {
  for (const auto& v : c["spec"]["versions"])
    if (v["name"] == name) return v;
  static const Json none;
  return none;
}

TEST(Crds, OpenTelemetryCollector) {
  Json c = crd("opentelemetrycollectors.yaml");
  EXPECT_EQ(c["metadata"]["name"], "opentelemetrycollectors.opentelemetry.io");
  EXPECT_EQ(c["spec"]["names"]["shortNames"], Json::array({"otelcol", "otelcols"}));
  EXPECT_EQ(version(c, "v1beta1")["storage"], true);
  EXPECT_EQ(version(c, "v1alpha1")["storage"], false);
  EXPECT_EQ(version(c, "v1alpha1")["deprecationWarning"], "OpenTelemetryCollector v1alpha1 is deprecated. Migrate to v1beta1.");
  EXPECT_EQ(c["spec"]["conversion"]["strategy"], "Webhook");
  EXPECT_EQ(c["spec"]["conversion"]["webhook"]["clientConfig"]["service"]["path"], "/convert");
  const Json& beta = version(c, "v1beta1");
  EXPECT_EQ(beta["subresources"]["scale"]["specReplicasPath"], ".spec.replicas");
  EXPECT_EQ(beta["subresources"]["scale"]["labelSelectorPath"], ".status.scale.selector");
  std::vector<std::string> cols;
  for (const auto& col : beta["additionalPrinterColumns"]) cols.push_back(col["name"]);
  EXPECT_EQ(cols, (std::vector<std::string>{"Mode", "Version", "Ready", "Age", "Image", "Management"}));
  const Json& spec = beta["schema"]["openAPIV3Schema"]["properties"]["spec"];
  EXPECT_EQ(spec["properties"]["mode"]["enum"], Json::array({"daemonset", "deployment", "sidecar", "statefulset"}));
  EXPECT_EQ(spec["properties"]["targetAllocator"]["properties"]["allocationStrategy"]["default"], "consistent-hashing");
  EXPECT_EQ(spec["x-kubernetes-validations"].size(), 4u);
}

TEST(Crds, OthersHaveTheirNames) {
  EXPECT_EQ(crd("instrumentations.yaml")["spec"]["names"]["shortNames"], Json::array({"otelinst", "otelinsts"}));
  EXPECT_EQ(crd("targetallocators.yaml")["spec"]["names"]["kind"], "TargetAllocator");
  EXPECT_EQ(crd("opampbridges.yaml")["spec"]["names"]["kind"], "OpAMPBridge");
  for (const char* f : {"instrumentations.yaml", "targetallocators.yaml", "opampbridges.yaml"})
    EXPECT_TRUE(version(crd(f), "v1alpha1")["subresources"].contains("status")) << f;
}

// Every spec key used by our fixtures and by upstream's e2e collectors is declared in the schema.
TEST(Crds, SchemaDeclaresEveryUsedSpecField) {
  Json c = crd("opentelemetrycollectors.yaml");
  std::set<std::string> declared;
  for (auto& [k, v] : version(c, "v1beta1")["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"].items()) {
    (void)v;
    declared.insert(k);
  }
  for (auto& [k, v] : version(c, "v1alpha1")["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"].items()) {
    (void)v;
    declared.insert(k);
  }
  std::vector<fs::path> roots = {fs::path(OTEL_SOURCE_DIR) / "tests" / "fixtures" / "collectors",
                                 fs::path(OTEL_SHARED_REFERENCE) / "upstream-e2e"};
  int checked = 0;
  for (const auto& root : roots) {
    if (!fs::exists(root)) continue;
    for (auto& e : fs::recursive_directory_iterator(root)) {
      if (e.path().extension() != ".yaml" || e.path().filename().string().find("assert") != std::string::npos) continue;
      std::vector<YamlDocument> docs;
      try {
        docs = readManifests({e.path().string()}, false);
      } catch (const std::exception&) {
        continue;
      }
      for (const auto& d : docs) {
        if (!d.value.is_object() || d.value.value("kind", "") != "OpenTelemetryCollector") continue;
        const Json* spec = at(d.value, {"spec"});
        if (!spec || !spec->is_object()) continue;
        ++checked;
        for (auto it = spec->begin(); it != spec->end(); ++it)
          EXPECT_TRUE(declared.count(it.key())) << e.path() << ": spec." << it.key();
      }
    }
  }
  EXPECT_GT(checked, 25);
}

}  // namespace
}  // namespace otel::api
