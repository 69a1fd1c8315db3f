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

// A line past the bound throws as soon as it passes it, in one slice or over many, and nothing of it is kept.
TEST(WatchDecoder, AnEventPastTheBoundIsRefusedWithoutBufferingIt) {
  int events = 0;
  WatchDecoder dec([&](WatchEvent&&) { return ++events, true; }, 100);
  EXPECT_TRUE(dec.feed("{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"a\"}}}\n"));
  EXPECT_EQ(events, 1);
  std::string big = "{\"type\":\"ADDED\",\"object\":{\"data\":\"" + std::string(200, 'x') + "\"}}";
  EXPECT_THROW(dec.feed(big + "\n"), otel::kube::WatchEventTooLarge);
  EXPECT_EQ(dec.pending(), 0u);
  WatchDecoder slices([&](WatchEvent&&) { return ++events, true; }, 100);
  bool thrown = false;
  size_t fed = 0;
  try {
    for (; fed < big.size(); fed += 10) slices.feed(std::string_view(big).substr(fed, 10));
  } catch (const otel::kube::WatchEventTooLarge& e) {
    thrown = true;
    EXPECT_NE(std::string(e.what()).find("larger than 100 bytes"), std::string::npos);
  }
  EXPECT_TRUE(thrown);
  EXPECT_LE(fed, 110u);  // refused within one slice of the bound
  EXPECT_EQ(slices.pending(), 0u);
  EXPECT_EQ(events, 1);
  // The default bound: 8 MiB.
  EXPECT_EQ(otel::kube::kMaxWatchEventBytes, size_t{8} << 20);
}
