#include "lib/core/log.h"

#include <gtest/gtest.h>

#include "lib/core/error.h"
#include "lib/core/json.h"

namespace otel::log {
namespace {

TEST(Log, TextFormatIsOneLineKeyValue) {
  std::string l = formatLine(Level::Info, "reconciled", {{"name", "my col"}, {"ns", "default"}}, Format::Text,
                             "2026-01-01T00:00:00.000Z");
  EXPECT_EQ(l, "ts=2026-01-01T00:00:00.000Z level=info msg=reconciled name=\"my col\" ns=default");
}

TEST(Log, JsonFormat) {
  std::string l = formatLine(Level::Warn, "x", {{"k", "v\nw"}}, Format::Json, "T");
  Json j = Json::parse(l);
  EXPECT_EQ(j["level"], "warn");
  EXPECT_EQ(j["msg"], "x");
  EXPECT_EQ(j["k"], "v\nw");
  EXPECT_EQ(l.find('\n'), std::string::npos);
}

TEST(Log, SecretsAreRedacted) {
  std::string l = formatLine(Level::Info, "auth", {{"token", "abc123"}, {"Authorization", "Bearer x"}, {"user", "bob"}},
                             Format::Text, "T");
  EXPECT_EQ(l.find("abc123"), std::string::npos);
  EXPECT_EQ(l.find("Bearer"), std::string::npos);
  EXPECT_NE(l.find("user=bob"), std::string::npos);
}

TEST(Log, ParseLevelAndFormat) {
  EXPECT_EQ(parseLevel("debug"), Level::Debug);
  EXPECT_EQ(parseFormat("json"), Format::Json);
  EXPECT_THROW(parseLevel("loud"), otel::Error);
  EXPECT_THROW(parseFormat("xml"), otel::Error);
}

}  // namespace
}  // namespace otel::log
