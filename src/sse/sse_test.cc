#include "sse/sse.h"

#include <gtest/gtest.h>

#include <vector>

namespace mcpgw::sse {
namespace {

std::vector<Event> ParseAll(std::string_view text, size_t split = 0) {
  Parser p;
  std::vector<Event> out;
  auto sink = [&](Event&& e) { out.push_back(std::move(e)); };
  if (split == 0) {
    EXPECT_TRUE(p.Feed(text, sink));
  } else {
    for (size_t i = 0; i < text.size(); i += split)
      EXPECT_TRUE(p.Feed(text.substr(i, split), sink));
  }
  return out;
}

TEST(Sse, FormatsEventWithIdAndRetry) {
  EXPECT_EQ(FormatEvent("{\"a\":1}", "s1-4", "message", 1000),
            "id: s1-4\nevent: message\nretry: 1000\ndata: {\"a\":1}\n\n");
  EXPECT_EQ(FormatEvent(""), "data: \n\n");
}

TEST(Sse, MultiLineDataAndInjectionSafeIds) {
  EXPECT_EQ(FormatEvent("a\nb\r\nc", "x\ny"), "id: xy\ndata: a\ndata: b\ndata: c\n\n");
}

TEST(Sse, RoundTripsThroughParserWhateverTheChunking) {
  std::string text = FormatEvent("line1\nline2", "7", "message") + ": comment\n\n" +
                     FormatEvent("{\"x\":true}", "8") +
                     "event: endpoint\r\ndata: /messages?s=1\r\n\r\n";
  for (size_t split : {0, 1, 2, 3, 7}) {
    auto events = ParseAll(text, split);
    ASSERT_EQ(events.size(), 3u) << "split " << split;
    EXPECT_EQ(events[0].data, "line1\nline2");
    EXPECT_EQ(events[0].id, "7");
    EXPECT_TRUE(events[0].has_id);
    EXPECT_EQ(events[1].data, "{\"x\":true}");
    EXPECT_EQ(events[2].event, "endpoint");
    EXPECT_EQ(events[2].data, "/messages?s=1");
    EXPECT_FALSE(events[2].has_id);
  }
}

TEST(Sse, PrimingEventWithEmptyDataAndRetry) {
  auto events = ParseAll("id: p-0\nretry: 500\ndata: \n\n");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].data, "");
  EXPECT_EQ(events[0].retry_ms, 500);
  EXPECT_EQ(events[0].id, "p-0");
}

TEST(Sse, EventWithoutDataIsNotDispatched) { EXPECT_TRUE(ParseAll("id: 1\nevent: x\n\n").empty()); }

TEST(Sse, OversizedEventIsRefused) {
  Parser p(16);
  EXPECT_FALSE(p.Feed("data: " + std::string(64, 'a'), [](Event&&) {}));
}

}  // namespace
}  // namespace mcpgw::sse
