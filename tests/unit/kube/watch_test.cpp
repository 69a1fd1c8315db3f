// Watch stream decoding: lines split anywhere, BOOKMARK and ERROR events, the captured real stream.
#include "lib/kube/watch.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "lib/core/error.h"

using otel::kube::EventType;
using otel::kube::WatchDecoder;
using otel::kube::WatchEvent;

TEST(WatchDecoder, CapturedStreamSplitAtEveryByte) {
  std::string path = OTEL_SHARED_REFERENCE;
  path.append("/apiserver-captures/watch-configmaps.jsonl");
  std::ifstream in(path);
  if (!in) GTEST_SKIP() << "reference captures not present";
  std::stringstream ss;
  ss << in.rdbuf();
  std::string stream = ss.str();
  std::vector<WatchEvent> events;
  WatchDecoder dec([&](WatchEvent&& e) {
    events.push_back(std::move(e));
    return true;
  });
  for (char c : stream) ASSERT_TRUE(dec.feed(std::string_view(&c, 1)));
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events[0].type, EventType::Added);
  EXPECT_EQ(events[1].type, EventType::Modified);
  EXPECT_EQ(events[1].object["data"]["x"], "2");
  EXPECT_EQ(events[2].type, EventType::Deleted);
  EXPECT_EQ(events[3].type, EventType::Bookmark);
  EXPECT_EQ(events[3].resourceVersion(), "390");
  EXPECT_EQ(dec.pending(), 0u);
}

TEST(WatchDecoder, ErrorEventAndStop) {
  std::vector<WatchEvent> events;
  WatchDecoder dec([&](WatchEvent&& e) {
    events.push_back(std::move(e));
    return e.type != EventType::Error;
  });
  std::string s =
      "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"code\":410,\"reason\":\"Expired\",\"message\":\"too old\"}}\r\n"
      "{\"type\":\"ADDED\",\"object\":{}}\n";
  EXPECT_FALSE(dec.feed(s));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].object["code"], 410);
}

TEST(WatchDecoder, MalformedLineThrows) {
  WatchDecoder dec([](WatchEvent&&) { return true; });
  EXPECT_THROW(dec.feed("{\"type\":\"WHAT\"}\n"), otel::Error);
  WatchDecoder dec2([](WatchEvent&&) { return true; });
  EXPECT_THROW(dec2.feed("not json\n"), otel::Error);
}
