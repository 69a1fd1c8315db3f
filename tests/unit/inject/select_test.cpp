// selectByAnnotation: the annotation value rules shared by Instrumentation and sidecar selection.
#include <gtest/gtest.h>

#include "lib/core/yaml.h"
#include "lib/inject/select.h"

namespace otel::inject {
namespace {

std::vector<Json> items(const char* yaml) { return parseYaml(yaml).get<std::vector<Json>>(); }

TEST(Select, TrueNameAndNamespacedName) {
  auto objs = items("[{metadata: {name: a, namespace: apps}, spec: {mode: sidecar}},"
                    " {metadata: {name: b, namespace: apps}, spec: {mode: deployment}},"
                    " {metadata: {name: c, namespace: other}, spec: {mode: sidecar}}]");
  SelectRules r{"Collector", "opentelemetrycollectors.opentelemetry.io",
                [](const Json& o) { return o["spec"].value("mode", "") == "sidecar"; }, "not a sidecar"};
  std::string err;
  const Json* got = selectByAnnotation("TRUE", "apps", objs, r, err);  // case-insensitive, eligible only
  ASSERT_NE(got, nullptr) << err;
  EXPECT_EQ((*got)["metadata"]["name"], "a");
  EXPECT_EQ(selectByAnnotation("other/c", "apps", objs, r, err), &objs[2]);
  EXPECT_EQ(selectByAnnotation("b", "apps", objs, r, err), nullptr);
  EXPECT_EQ(err, "not a sidecar");
  EXPECT_EQ(selectByAnnotation("c", "apps", objs, r, err), nullptr);  // a bare name is in the pod's namespace
  EXPECT_EQ(err, "opentelemetrycollectors.opentelemetry.io \"c\" not found");
  EXPECT_EQ(selectByAnnotation("true", "empty", objs, r, err), nullptr);
  EXPECT_EQ(err, "no OpenTelemetry Collector instances available");
  SelectRules all{"Collector", "opentelemetrycollectors.opentelemetry.io", nullptr, ""};
  EXPECT_EQ(selectByAnnotation("true", "apps", objs, all, err), nullptr);
  EXPECT_EQ(err, "multiple OpenTelemetry Collector instances available, cannot determine which one to select");
  // objects without a namespace count as in the pod's
  auto bare = items("[{metadata: {name: x}}]");
  EXPECT_EQ(selectByAnnotation("true", "anywhere", bare, all, err), &bare[0]);
}

}  // namespace
}  // namespace otel::inject
