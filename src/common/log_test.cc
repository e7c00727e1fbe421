#include "common/log.h"

#include <gtest/gtest.h>

#include "common/random.h"
#include "common/result.h"

namespace mcpgw::log {
namespace {

TEST(Log, JsonLineHasFieldsAndEscapes) {
  std::string line = FormatLine(Format::kJson, Level::kInfo, "mcpgw", "call \"done\"",
                                {{"tool", "echo"}, {"latency_ms", 1.5}, {"ok", true}, {"n", 3}});
  EXPECT_NE(line.find("\"level\":\"info\""), std::string::npos);
  EXPECT_NE(line.find("\"msg\":\"call \\\"done\\\"\""), std::string::npos);
  EXPECT_NE(line.find("\"tool\":\"echo\""), std::string::npos);
  EXPECT_NE(line.find("\"latency_ms\":1.500"), std::string::npos);
  EXPECT_NE(line.find("\"ok\":true"), std::string::npos);
  EXPECT_NE(line.find("\"n\":3"), std::string::npos);
  EXPECT_EQ(line.front(), '{');
  EXPECT_EQ(line.back(), '}');
}

TEST(Log, EscapesControlAndInvalidUtf8) {
  std::string out;
  AppendJsonEscaped(out, std::string_view("a\nb\x01\xff\xc3\xa9", 7));
  EXPECT_EQ(out, "a\\nb\\u0001\xef\xbf\xbd\xc3\xa9");
}

TEST(Log, ParsesLevels) {
  Level l;
  EXPECT_TRUE(ParseLevel("DEBUG", &l));
  EXPECT_EQ(l, Level::kDebug);
  EXPECT_TRUE(ParseLevel("warning", &l));
  EXPECT_EQ(l, Level::kWarn);
  EXPECT_FALSE(ParseLevel("loud", &l));
}

TEST(Random, HexIsUniqueAndSized) {
  std::string a = RandomHex(16), b = RandomHex(16);
  EXPECT_EQ(a.size(), 32u);
  EXPECT_NE(a, b);
}

TEST(Result, HoldsValueOrError) {
  Result<int> good = 4;
  Result<int> bad = MakeError("nope", 7);
  EXPECT_TRUE(good.ok());
  EXPECT_EQ(*good, 4);
  EXPECT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, 7);
  Status s;
  EXPECT_TRUE(s.ok());
}

}  // namespace
}  // namespace mcpgw::log
