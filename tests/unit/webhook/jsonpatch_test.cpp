#include <gtest/gtest.h>

#include "lib/core/error.h"
#include "lib/webhook/jsonpatch.h"

using otel::Json;
using otel::webhook::applyJsonPatch;
using otel::webhook::jsonPatch;

namespace {

void roundTrip(const Json& a, const Json& b) {
  Json p = jsonPatch(a, b);
  EXPECT_EQ(applyJsonPatch(a, p), b) << p.dump();
}

TEST(JsonPatch, EqualDocumentsGiveAnEmptyPatch) {
  Json a = Json::parse(R"({"a":1,"b":[1,2,{"c":null}]})");
  EXPECT_EQ(jsonPatch(a, a), Json::array());
}

TEST(JsonPatch, ObjectsMemberByMemberWithEscapedKeys) {
  Json a = Json::parse(R"({"metadata":{"annotations":{"x/y":"1","keep":"k"}}})");
  Json b = Json::parse(R"({"metadata":{"annotations":{"keep":"k","a~b":"2","sidecar.opentelemetry.io/inject":"true"}}})");
  Json p = jsonPatch(a, b);
  EXPECT_EQ(p, Json::parse(R"([{"op":"remove","path":"/metadata/annotations/x~1y"},
      {"op":"add","path":"/metadata/annotations/a~0b","value":"2"},
      {"op":"add","path":"/metadata/annotations/sidecar.opentelemetry.io~1inject","value":"true"}])"));
  roundTrip(a, b);
}

TEST(JsonPatch, ArraysGrowShrinkAndChangeInPlace) {
  roundTrip(Json::parse(R"({"c":[{"name":"a"}]})"), Json::parse(R"({"c":[{"name":"a","env":[1]},{"name":"b"},{"name":"c"}]})"));
  roundTrip(Json::parse(R"({"c":[1,2,3,4]})"), Json::parse(R"({"c":[1]})"));
  roundTrip(Json::parse(R"({"c":[1,2,3,4]})"), Json::parse(R"({"c":[9,8,7,6,5]})"));
  roundTrip(Json::parse(R"({"c":[]})"), Json::parse(R"({"c":[{"a":1}]})"));
  roundTrip(Json::parse(R"({"c":{"x":1}})"), Json::parse(R"({"c":[1]})"));
  roundTrip(Json::parse(R"([1,{"a":[2]}])"), Json::parse(R"([1,{"a":[2,3]},4])"));
  roundTrip(Json::parse(R"(1)"), Json::parse(R"("x")"));
  // appending to an array is an add at "-", as a pod's new container
  Json p = jsonPatch(Json::parse(R"({"c":[1]})"), Json::parse(R"({"c":[1,2]})"));
  EXPECT_EQ(p, Json::parse(R"([{"op":"add","path":"/c/-","value":2}])"));
}

TEST(JsonPatch, ApplyFollowsRfc6902AndNamesTheFailingOperation) {
  Json doc = Json::parse(R"({"a":{"b":[1,2]}})");
  EXPECT_EQ(applyJsonPatch(doc, Json::parse(R"([{"op":"add","path":"/a/b/0","value":0}])")), Json::parse(R"({"a":{"b":[0,1,2]}})"));
  EXPECT_EQ(applyJsonPatch(doc, Json::parse(R"([{"op":"move","from":"/a/b","path":"/c"}])")), Json::parse(R"({"a":{},"c":[1,2]})"));
  EXPECT_EQ(applyJsonPatch(doc, Json::parse(R"([{"op":"copy","from":"/a","path":"/d"}])"))["d"], doc["a"]);
  EXPECT_NO_THROW(applyJsonPatch(doc, Json::parse(R"([{"op":"test","path":"/a/b/1","value":2}])")));
  for (const char* bad : {R"([{"op":"replace","path":"/x","value":1}])", R"([{"op":"remove","path":"/a/b/5"}])",
                          R"([{"op":"test","path":"/a/b/1","value":3}])", R"([{"op":"frob","path":"/a"}])",
                          R"([{"op":"add","path":"a"}])", R"({"op":"add"})", R"([{"op":"add","path":"/a/b/01","value":1}])"}) {
    try {
      applyJsonPatch(doc, Json::parse(bad));
      ADD_FAILURE() << "accepted " << bad;
    } catch (const otel::Error& e) {
      EXPECT_NE(std::string(e.oneLine()).find("patch"), std::string::npos) << e.oneLine();
    }
  }
}

}  // namespace
