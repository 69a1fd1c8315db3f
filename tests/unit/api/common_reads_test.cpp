// lib/api/common.h: the typed reads over Json paths.
#include "lib/api/common.h"

#include <gtest/gtest.h>

namespace {

using otel::Json;

TEST(CommonReads, StringsOfAnArray) {
  Json j = Json::parse(R"({"rule": {"verbs": ["get", 1, "list", null], "one": "get"}})");
  EXPECT_EQ(otel::api::strings(j, {"rule", "verbs"}), (std::vector<std::string>{"get", "list"}));
  EXPECT_TRUE(otel::api::strings(j, {"rule", "one"}).empty()) << "a string is not an array";
  EXPECT_TRUE(otel::api::strings(j, {"rule", "missing"}).empty());
  EXPECT_TRUE(otel::api::strings(Json(), {"rule"}).empty());
}

}  // namespace
