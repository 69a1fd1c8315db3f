// Expected strings are what Go's json.Marshal (Go >= 1.22) writes for the same map[string]interface{}
// values; each is a documented behaviour of encoding/json (sorted keys, HTMLEscape, float64 'f'/'e'
// switch at 1e-6 and 1e21, exponent cleanup "e-07" -> "e-7", \b and \f short escapes since Go 1.22).
#include "lib/core/gojson.h"

#include <gtest/gtest.h>

#include "lib/core/hash.h"
#include "lib/core/yaml.h"

namespace otel {
namespace {

TEST(GoJson, SortsKeysAndEscapesHtml) {
  Json v = Json::parse(R"({"b":1,"a":"<x>&y","c":{"z":true,"m":null}})");
  EXPECT_EQ(goJsonMarshal(v), R"({"a":"\u003cx\u003e\u0026y","b":1,"c":{"m":null,"z":true}})");
}

TEST(GoJson, KeysSortedByBytes) {
  Json v = Json::parse(R"({"a":1,"B":2,"_":3,"aa":4,"A":5})");
  EXPECT_EQ(goJsonMarshal(v), R"({"A":5,"B":2,"_":3,"a":1,"aa":4})");
}

TEST(GoJson, StringEscapes) {
  Json v = std::string("q\"\\\n\r\t\b\f\x01\x1f\u2028\u2029é");
  EXPECT_EQ(goJsonMarshal(v), "\"q\\\"\\\\\\n\\r\\t\\b\\f\\u0001\\u001f\\u2028\\u2029é\"");
  EXPECT_EQ(goJsonMarshal(Json(std::string("a\xff" "b"))), "\"a\\ufffdb\"");
}

TEST(GoJson, Float64Formatting) {
  EXPECT_EQ(goFormatFloat(1), "1");
  EXPECT_EQ(goFormatFloat(-0.0), "-0");
  EXPECT_EQ(goFormatFloat(3.14), "3.14");
  EXPECT_EQ(goFormatFloat(0.1 + 0.2), "0.30000000000000004");
  EXPECT_EQ(goFormatFloat(1e20), "100000000000000000000");
  EXPECT_EQ(goFormatFloat(1e21), "1e+21");
  EXPECT_EQ(goFormatFloat(0.000001), "0.000001");
  EXPECT_EQ(goFormatFloat(0.0000001), "1e-7");
  EXPECT_EQ(goFormatFloat(-1.5e-10), "-1.5e-10");
  EXPECT_EQ(goFormatFloat(1.7976931348623157e308), "1.7976931348623157e+308");
  EXPECT_EQ(goFormatFloat(123456789), "123456789");
  EXPECT_EQ(goFormatFloat(5e-324), "5e-324");
}

TEST(GoJson, NumbersDecodeAsFloat64) {
  // Integers go through float64 in Go's interface{} decoding: 2^53+1 prints as 9007199254740992.
  Json v = Json::parse(R"({"i":10,"big":9007199254740993,"f":2.50})");
  EXPECT_EQ(goJsonMarshal(v), R"({"big":9007199254740992,"f":2.5,"i":10})");
}

TEST(GoJson, Arrays) { EXPECT_EQ(goJsonMarshal(Json::parse(R"([1,"a",[],{}])")), R"([1,"a",[],{}])"); }

TEST(GoJson, CollectorConfigHashIsStable) {
  // The same config written in two key orders and styles hashes the same.
  Json a = parseYaml("receivers:\n  otlp:\n    protocols:\n      grpc: {}\nexporters:\n  debug: {}\n");
  Json b = parseYaml("exporters: {debug: {}}\nreceivers: {otlp: {protocols: {grpc: {}}}}\n");
  EXPECT_EQ(sha256Hex(goJsonMarshal(a)), sha256Hex(goJsonMarshal(b)));
  EXPECT_EQ(goJsonMarshal(a), R"({"exporters":{"debug":{}},"receivers":{"otlp":{"protocols":{"grpc":{}}}}})");
}

}  // namespace
}  // namespace otel
