#include "gateway/session.h"

#include <gtest/gtest.h>

namespace mcpgw::gateway {
namespace {

TEST(SessionTable, CreatesUnguessableUniqueIds) {
  SessionTable t;
  Session& a = t.Create();
  Session& b = t.Create();
  EXPECT_EQ(a.id.size(), 32u);
  EXPECT_NE(a.id, b.id);
  EXPECT_EQ(t.Find(a.id), &a);
  EXPECT_EQ(t.Find("nope"), nullptr);
  std::string a_id = a.id;  // `a` is gone after Erase
  t.Erase(a_id);
  EXPECT_EQ(t.Find(a_id), nullptr);
  EXPECT_EQ(t.size(), 1u);
}

TEST(SessionTable, IdleSessionsAreFound) {
  SessionTable t;
  Session& a = t.Create();
  Session& b = t.Create();
  auto now = std::chrono::steady_clock::now();
  a.last_seen = now - std::chrono::hours(2);
  b.last_seen = now;
  auto idle = t.Idle(now - std::chrono::hours(1));
  ASSERT_EQ(idle.size(), 1u);
  EXPECT_EQ(idle[0], a.id);
}

TEST(Session, EventsAreNumberedPerStreamAndBounded) {
  Session s;
  Stream& st = s.NewStream(false);
  for (int i = 0; i < 10; ++i) AppendEvent(st, "{\"n\":" + std::to_string(i) + "}", 4);
  ASSERT_EQ(st.log.size(), 4u);
  EXPECT_EQ(st.log.front().first, 7u);
  EXPECT_NE(st.log.back().second.find("id: " + std::to_string(st.id) + "-10\n"), std::string::npos);
  EXPECT_NE(st.log.back().second.find("data: {\"n\":9}"), std::string::npos);
}

TEST(Session, ParsesEventIds) {
  uint64_t a, b;
  EXPECT_TRUE(ParseEventId("3-17", &a, &b));
  EXPECT_EQ(a, 3u);
  EXPECT_EQ(b, 17u);
  EXPECT_FALSE(ParseEventId("317", &a, &b));
  EXPECT_FALSE(ParseEventId("3-x", &a, &b));
  EXPECT_FALSE(ParseEventId("-1", &a, &b));
}

TEST(Session, LogLevels) {
  EXPECT_LT(LogLevelIndex("debug"), LogLevelIndex("error"));
  EXPECT_EQ(LogLevelIndex("loud"), -1);
}

}  // namespace
}  // namespace mcpgw::gateway
