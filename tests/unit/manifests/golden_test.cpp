// Golden tests: tests/fixtures/collectors/<case>/cr.yaml rendered (as `create --render` does) must
// equal <case>/expected.yaml byte for byte. OTEL_UPDATE_GOLDEN=1 rewrites the expected files (review
// the diff like code). Cases named pair-<x>-v1alpha1 / pair-<x>-v1beta1 must build identical objects.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <map>

#include "lib/api/collector_yaml.h"
#include "lib/core/files.h"
#include "lib/core/yaml.h"
#include "lib/manifests/render.h"

namespace fs = std::filesystem;

namespace otel::manifests {
namespace {

fs::path fixtures() { return fs::path(OTEL_SOURCE_DIR) / "tests" / "fixtures" / "collectors"; }

std::vector<Json> renderCase(const fs::path& dir) {
  RenderOptions opts;
  opts.build.ownImage = "ghcr.io/kubectl-otel/kubectl-otel:test";
  return render(readManifests({(dir / "cr.yaml").string()}, false), opts).objects;
}

std::vector<fs::path> cases() {
  std::vector<fs::path> out;
  for (auto& e : fs::directory_iterator(fixtures()))
    if (e.is_directory() && fs::exists(e.path() / "cr.yaml")) out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

TEST(Golden, AtLeast25Cases) { EXPECT_GE(cases().size(), 25u); }

TEST(Golden, RenderedObjectsEqualExpected) {
  bool update = std::getenv("OTEL_UPDATE_GOLDEN") != nullptr;
  for (const auto& dir : cases()) {
    SCOPED_TRACE(dir.filename().string());
    std::string got = toYamlStream(renderCase(dir));
    fs::path expectedFile = dir / "expected.yaml";
    if (update) {
      writeFileAtomic(expectedFile.string(), got);
      continue;
    }
    ASSERT_TRUE(fs::exists(expectedFile)) << "missing " << expectedFile << " (run with OTEL_UPDATE_GOLDEN=1 and review)";
    EXPECT_EQ(got, readFile(expectedFile.string()));
  }
}

TEST(Golden, V1alpha1AndV1beta1FormsBuildIdenticalObjects) {
  std::map<std::string, std::map<std::string, std::vector<Json>>> pairs;
  for (const auto& dir : cases()) {
    std::string n = dir.filename().string();
    if (n.rfind("pair-", 0) != 0) continue;
    std::string version = n.substr(n.rfind('-') + 1);
    std::vector<Json> objs;
    for (auto& o : renderCase(dir))
      if (o["kind"] != "OpenTelemetryCollector") objs.push_back(o);
    pairs[n.substr(0, n.rfind('-'))][version] = objs;
  }
  ASSERT_GE(pairs.size(), 3u);
  for (auto& [name, versions] : pairs) {
    SCOPED_TRACE(name);
    ASSERT_EQ(versions.size(), 2u);
    const auto& a = versions["v1alpha1"];
    const auto& b = versions["v1beta1"];
    ASSERT_EQ(a.size(), b.size());
    for (size_t i = 0; i < a.size(); ++i)  // same objects (key order of copied user maps aside)
      EXPECT_EQ(api::sortedKeys(a[i]).dump(), api::sortedKeys(b[i]).dump()) << a[i]["kind"] << " " << a[i]["metadata"]["name"];
  }
}

}  // namespace
}  // namespace otel::manifests
