// Upstream acceptance: the chainsaw suites e2e-instrumentation, e2e-multi-instrumentation and e2e-sidecar
// (tests/support/inject_acceptance). At each assert step the pods the workload controllers would create
// are built from the pod templates, mutated by the same pure injectPod the webhook uses, with the fields a
// cluster fills simulated, and matched against the assert files' Pod documents. The same suites through the
// real webhook: tests/integration/inject/webhook_acceptance_test.cpp.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iostream>

#include "lib/inject/workload.h"
#include "tests/support/inject_acceptance.h"

namespace fs = std::filesystem;
using otel::Json;

namespace {

TEST(InjectAcceptance, UpstreamChainsawSuites) {
  const fs::path root = fs::path(OTEL_SHARED_REFERENCE) / "upstream-e2e";
  if (!fs::exists(root)) GTEST_SKIP() << "reference folder " << root << " is absent (a user's clone has no ../shared)";
  auto outcomes = otel::testing::runInjectAcceptance(root, [](const otel::testing::AcceptanceCluster& cluster, bool native) {
    std::vector<Json> pods;
    for (const auto& o : cluster.objects)
      if (otel::inject::isWorkloadKind(o.value("kind", ""))) pods.push_back(otel::testing::simulatePurePod(o, cluster, native));
    return pods;
  });
  auto expected = otel::testing::acceptanceExpectedPasses(std::string(OTEL_SOURCE_DIR) + "/tests/fixtures/inject/acceptance-expected.txt");
  ASSERT_FALSE(expected.empty());
  for (const auto& o : outcomes)
    if (expected.count(o.suite + "/" + o.name)) {
      EXPECT_TRUE(o.passed()) << "regression: " << o.suite << "/" << o.name << " was expected to pass";
    }
  const std::string report = otel::testing::acceptanceReport(outcomes);
  std::cout << report;
  if (const char* dump = std::getenv("OTEL_ACCEPTANCE_REPORT")) std::ofstream(dump) << report;
}

}  // namespace
