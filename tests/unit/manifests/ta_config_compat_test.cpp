// The targetallocator.yaml our builders write is read by our own allocator (lib/targetallocator)
// with the strategy, filter, selector and scrape configs intact — for every golden fixture.
#include <gtest/gtest.h>

#include <filesystem>

#include "lib/core/files.h"
#include "lib/core/yaml.h"
#include "lib/manifests/render.h"
#include "lib/targetallocator/config.h"

namespace fs = std::filesystem;

namespace otel::manifests {
namespace {

TEST(TargetAllocatorConfig, EveryRenderedConfigMapParses) {
  int checked = 0;
  for (auto& e : fs::directory_iterator(fs::path(OTEL_SOURCE_DIR) / "tests" / "fixtures" / "collectors")) {
    if (!fs::exists(e.path() / "cr.yaml")) continue;
    RenderOptions opts;
    auto objs = render(readManifests({(e.path() / "cr.yaml").string()}, false), opts).objects;
    for (const auto& o : objs) {
      if (o["kind"] != "ConfigMap" || !o["data"].contains("targetallocator.yaml")) continue;
      SCOPED_TRACE(e.path().filename().string());
      Json file = parseYaml(o["data"]["targetallocator.yaml"].get<std::string>(), "targetallocator.yaml");
      targetallocator::Config c = targetallocator::parseConfig(file, "targetallocator.yaml");
      EXPECT_EQ(c.filterStrategy, file.value("filter_strategy", ""));
      EXPECT_EQ(c.prometheusCrEnabled, file.contains("prometheus_cr"));
      EXPECT_EQ(c.collectorNotReadyGracePeriod, file.value("collector_not_ready_grace_period", "30s"));
      ++checked;
    }
  }
  EXPECT_GE(checked, 8);
}

}  // namespace
}  // namespace otel::manifests
