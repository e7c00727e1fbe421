#include "json/json.h"

#include <gtest/gtest.h>

#include <charconv>
#include <cmath>
#include <random>
#include <string>

namespace mcpgw::json {
namespace {

double ParseNumber(const std::string& text) {
  auto v = Parse(text);
  EXPECT_TRUE(v.ok()) << text;
  return v.ok() ? v->to_number<double>() : std::nan("");
}

// What a client sends is what the tool gets: the gateway parses and re-serialises every message,
// so a number must come out of Parse as the double its text denotes. JavaScript writes doubles in
// their shortest round-trip form; Boost 1.81's own parser misreads about one in eight of them.
TEST(JsonParse, ShortestFormDoublesRoundTripExactly) {
  std::mt19937_64 rng(20261125);
  int wrong = 0;
  std::string first_wrong;
  for (int i = 0; i < 100000; ++i) {
    double d = static_cast<double>(rng() % 1000000000) / static_cast<double>(1 + rng() % 100000);
    char buf[64];
    auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), d);
    ASSERT_EQ(ec, std::errc());
    std::string text(buf, end);
    auto v = Parse(text);
    ASSERT_TRUE(v.ok()) << text;
    // And back: the serialised form must denote the same double too.
    auto again = Parse(Serialize(*v));
    ASSERT_TRUE(again.ok()) << text;
    if (v->to_number<double>() != d || again->to_number<double>() != d) {
      if (wrong++ == 0) first_wrong = text + " -> " + Serialize(*v);
    }
  }
  EXPECT_EQ(wrong, 0) << "first misread: " << first_wrong;
}

TEST(JsonParse, NumbersOfEveryShape) {
  EXPECT_EQ(ParseNumber("9612.386377896033"), 9612.386377896033);
  EXPECT_EQ(ParseNumber("0.1"), 0.1);
  EXPECT_EQ(ParseNumber("-2.5e-3"), -2.5e-3);
  EXPECT_EQ(ParseNumber("1E5"), 1e5);
  EXPECT_EQ(ParseNumber("1e+2"), 100.0);
  EXPECT_EQ(ParseNumber("5e-324"), 5e-324);  // the smallest subnormal
  EXPECT_EQ(ParseNumber("1.7976931348623157e308"), 1.7976931348623157e308);
  EXPECT_TRUE(std::signbit(ParseNumber("-0.0")));
  // Beyond uint64: the nearest double (JSON values here have no arbitrary-precision numbers).
  EXPECT_EQ(ParseNumber("12345678901234567890123"), 12345678901234567890123.0);
  // Integers stay integers, at both ends of their ranges.
  auto i = Parse("[-9223372036854775808, 9223372036854775807, 18446744073709551615, 0]");
  ASSERT_TRUE(i.ok());
  const array& a = i->get_array();
  EXPECT_EQ(a[0].get_int64(), INT64_MIN);
  EXPECT_EQ(a[1].get_int64(), INT64_MAX);
  EXPECT_EQ(a[2].get_uint64(), UINT64_MAX);
  EXPECT_TRUE(a[3].is_int64());
}

TEST(JsonParse, NumbersInsideDocuments) {
  auto v = Parse(R"({"a":[0.30000000000000004,{"b":2783.5060394658162}],"c":10769.770028185163})");
  ASSERT_TRUE(v.ok());
  const object& o = v->get_object();
  EXPECT_EQ(o.at("a").get_array()[0].get_double(), 0.30000000000000004);
  EXPECT_EQ(o.at("a").get_array()[1].get_object().at("b").get_double(), 2783.5060394658162);
  EXPECT_EQ(o.at("c").get_double(), 10769.770028185163);
}

TEST(JsonParse, RejectsWhatIsNotOneJsonText) {
  EXPECT_FALSE(Parse("").ok());
  EXPECT_FALSE(Parse("{} {}").ok());
  EXPECT_FALSE(Parse("[1,]").ok());
  EXPECT_FALSE(Parse("{\"a\":1").ok());
  EXPECT_FALSE(Parse("\"\xff\"").ok());  // invalid UTF-8
  EXPECT_FALSE(Parse("01").ok());
  EXPECT_NE(Parse("nul").error().message.find("invalid JSON"), std::string::npos);
  EXPECT_TRUE(Parse(" {\"a\": [true, false, null, \"x\"]} ").ok());
}

// 1e400 is valid JSON but no double: written on it would become `Infinity`, which is not.
TEST(JsonParse, NumbersBeyondTheDoubleRangeAreRefused) {
  auto v = Parse(R"({"a":1e400})");
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.error().message.find("number out of range"), std::string::npos) << v.error().message;
  EXPECT_FALSE(Parse("-1e309").ok());
  EXPECT_EQ(ParseNumber("1e-400"), 0.0);  // an underflow is 0, as in JavaScript
}

// JSON.stringify("😀".slice(0, 1)) is "\ud83d": JavaScript writes lone surrogates as escapes and
// reads them back. They become U+FFFD (UTF-8 cannot carry them) instead of failing the message.
TEST(JsonParse, LoneSurrogateEscapesBecomeReplacementCharacters) {
  auto text = [](std::string_view json) {
    auto v = Parse(json);
    EXPECT_TRUE(v.ok()) << json;
    return v.ok() ? std::string(v->get_array()[0].get_string()) : std::string();
  };
  EXPECT_EQ(text(R"(["cut \ud83d"])"), "cut \xEF\xBF\xBD");
  EXPECT_EQ(text(R"(["\udc00 low alone"])"), "\xEF\xBF\xBD low alone");
  EXPECT_EQ(text(R"(["\ud800\u0041"])"),
            "\xEF\xBF\xBD"
            "A");
  EXPECT_EQ(text(R"(["\ud800\ud800\ude00"])"), "\xEF\xBF\xBD\xF0\x90\x88\x80");
  // Pairs, escaped backslashes and keys are left alone.
  EXPECT_EQ(text(R"(["\ud83d\ude00"])"), "\xF0\x9F\x98\x80");
  EXPECT_EQ(text(R"(["a\\ud800"])"), "a\\ud800");
  auto key = Parse(R"({"k\ud800":"\\\ud800"})");
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(key->get_object().begin()->key(), "k\xEF\xBF\xBD");
  EXPECT_EQ(key->get_object().begin()->value().get_string(), "\\\xEF\xBF\xBD");
  // A text with another fault still fails, with the first error.
  EXPECT_FALSE(Parse(R"(["\ud800", ])").ok());
  EXPECT_FALSE(Parse(R"(["\ud800)").ok());
}

TEST(JsonParse, DepthIsBounded) {
  std::string deep(65, '[');
  deep += std::string(65, ']');
  EXPECT_FALSE(Parse(deep).ok());
  EXPECT_TRUE(Parse(deep, 100).ok());
  std::string ok(64, '[');
  ok += std::string(64, ']');
  EXPECT_TRUE(Parse(ok).ok());
}

// AppendString writes a string exactly as Serialize does (the history's canonical rows rely on
// it), also for strings longer than its buffer and for bytes that are not UTF-8.
TEST(JsonAppendString, MatchesSerialize) {
  std::string long_text(2000, 'x');
  long_text[700] = '"';
  long_text[1500] = '\n';
  for (std::string_view s :
       {std::string_view(""), std::string_view("plain"), std::string_view("q\"b\\s/"),
        std::string_view("\x01\x1f\t\r\n\b\f\x7f"), std::string_view("\xc3\xaf \xe2\x9c\x93"),
        std::string_view("\xff\xfe bad utf-8"), std::string_view("nul\0in", 6),
        std::string_view(long_text)}) {
    std::string out = "[";
    AppendString(out, s);
    EXPECT_EQ(out, "[" + Serialize(string(s))) << s;
  }
}

}  // namespace
}  // namespace mcpgw::json
