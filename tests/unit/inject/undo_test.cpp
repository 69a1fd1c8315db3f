// makeUndo / applyUndo: exact restoration, named-list diffs, robustness to later edits.
#include <gtest/gtest.h>

#include "lib/inject/undo.h"

using otel::Json;
using otel::inject::applyUndo;
using otel::inject::makeUndo;

TEST(Undo, RestoresExactlyIncludingOrderAndRemovedKeys) {
  Json before = Json::parse(R"({"spec":{"containers":[{"name":"a","env":[{"name":"X","value":"1"},{"name":"R","value":"k=v"},{"name":"Y","value":"2"}]},{"name":"b"}],"keep":1},"z":true})");
  Json after = Json::parse(R"({"spec":{"containers":[{"name":"a","env":[{"name":"N","value":"n"},{"name":"X","value":"1"},{"name":"Y","value":"2"},{"name":"R","value":"k=v,a=b"}]},{"name":"b"},{"name":"side"}],"initContainers":[{"name":"i"}],"keep":1},"added":{}})");
  Json undo = makeUndo(before, after);
  Json doc = after;
  applyUndo(doc, undo);
  EXPECT_EQ(doc, before);
  EXPECT_EQ(doc.dump(), before.dump());  // key order too
}

TEST(Undo, LeavesLaterEditsOfOtherFieldsAlone) {
  Json before = Json::parse(R"({"spec":{"containers":[{"name":"a","image":"v1"}]}})");
  Json after = Json::parse(R"({"spec":{"containers":[{"name":"a","image":"v1","env":[{"name":"E","value":"1"}]}]}})");
  Json undo = makeUndo(before, after);
  after["spec"]["containers"][0]["image"] = "v2";  // user bumps the image later
  applyUndo(after, undo);
  EXPECT_EQ(after, Json::parse(R"({"spec":{"containers":[{"name":"a","image":"v2"}]}})"));
}

TEST(Undo, UnnamedListsAreRestoredWhole) {
  Json before = Json::parse(R"({"args":["a","b"]})");
  Json after = Json::parse(R"({"args":["a","b","c"]})");
  Json doc = after;
  applyUndo(doc, makeUndo(before, after));
  EXPECT_EQ(doc, before);
}
