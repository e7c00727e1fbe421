#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "rego/builtins.h"
#include "rego/builtins_test_util.h"

namespace mcpgw::rego {
namespace {

using builtin_testing::Call;

Value S(std::string s) { return Value::String(std::move(s)); }
Value I(int64_t i) { return Value::Int(i); }
Value A(Array a) { return Value::FromArray(std::move(a)); }

std::string Json(const Result<Value>& r) { return r ? r->ToJson() : "error: " + r.error().message; }

TEST(TimeBuiltins, NowReturnsContextClock) {
  EXPECT_EQ(Json(Call("time.now_ns", {}, 1234)), "1234");
}

TEST(TimeBuiltins, ParseNsWithLayouts) {
  EXPECT_EQ(
      Json(Call("time.parse_ns", {S("2006-01-02T15:04:05Z07:00"), S("2017-06-02T19:00:00-07:00")})),
      "1496455200000000000");
  EXPECT_EQ(Json(Call("time.parse_ns",
                      {S("01/02 03:04:05PM '06 -0700"), S("06/02 07:00:00PM '17 -0700")})),
            "1496455200000000000");
  EXPECT_EQ(Json(Call("time.parse_ns", {S("02 Jan 06 15:04 -0700"), S("02 Jun 17 19:00 -0700")})),
            "1496455200000000000");
  EXPECT_EQ(Json(Call("time.parse_ns", {S("RFC822Z"), S("02 Jun 17 19:00 -0700")})),
            "1496455200000000000");
  EXPECT_EQ(Json(Call("time.parse_ns", {S("2006-01-02"), S("2020-02-02")})), "1580601600000000000");
  // Extremes of the int64 nanosecond range.
  EXPECT_EQ(Json(Call("time.parse_ns",
                      {S("2006-01-02T15:04:05Z07:00"), S("1677-09-21T00:12:43.145224192-00:00")})),
            "-9223372036854775808");
  EXPECT_EQ(Json(Call("time.parse_ns",
                      {S("2006-01-02T15:04:05Z07:00"), S("2262-04-11T23:47:16.854775807-00:00")})),
            "9223372036854775807");
}

TEST(TimeBuiltins, ParseNsErrors) {
  auto r = Call("time.parse_ns",
                {S("2006-01-02T15:04:05Z07:00"), S("2262-04-11T23:47:16.854775808-00:00")});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, kBuiltinError);
  EXPECT_NE(r.error().message.find("time outside of valid range"), std::string::npos);

  r = Call("time.parse_ns", {S("2006-01-02"), S("2020-02-30")});
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("day out of range"), std::string::npos);

  r = Call("time.parse_ns", {S("2006-01-02"), S("2020-02-03x")});
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("extra text"), std::string::npos);

  r = Call("time.parse_ns", {S("2006-01-02"), S("20-02-03")});
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("cannot parse"), std::string::npos);

  r = Call("time.parse_ns", {I(1), S("x")});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, kTypeError);
  EXPECT_EQ(r.error().message, "time.parse_ns: operand 1 must be string but got number");
}

TEST(TimeBuiltins, ParseRfc3339) {
  EXPECT_EQ(Json(Call("time.parse_rfc3339_ns", {S("1970-01-01T00:00:00-00:00")})), "0");
  EXPECT_EQ(Json(Call("time.parse_rfc3339_ns", {S("2017-06-02T19:00:00-07:00")})),
            "1496455200000000000");
  EXPECT_EQ(Json(Call("time.parse_rfc3339_ns", {S("2017-06-03T02:00:00.5Z")})),
            "1496455200500000000");
  auto r = Call("time.parse_rfc3339_ns", {S("1677-09-21T00:12:43.145224191-00:00")});
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("time outside of valid range"), std::string::npos);
  EXPECT_FALSE(Call("time.parse_rfc3339_ns", {S("2017-06-02")}));
}

TEST(TimeBuiltins, ParseDuration) {
  EXPECT_EQ(Json(Call("time.parse_duration_ns", {S("100ms")})), "100000000");
  EXPECT_EQ(Json(Call("time.parse_duration_ns", {S("1h30m")})), "5400000000000");
  EXPECT_EQ(Json(Call("time.parse_duration_ns", {S("-1.5h")})), "-5400000000000");
  EXPECT_EQ(Json(Call("time.parse_duration_ns", {S("1.5us")})), "1500");
  EXPECT_EQ(Json(Call("time.parse_duration_ns", {S("3\xc2\xb5s")})), "3000");
  EXPECT_EQ(Json(Call("time.parse_duration_ns", {S("0")})), "0");
  EXPECT_EQ(Json(Call("time.parse_duration_ns", {S("2562047h47m16.854775807s")})),
            "9223372036854775807");
  auto r = Call("time.parse_duration_ns", {S("1")});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "time.parse_duration_ns: time: missing unit in duration \"1\"");
  r = Call("time.parse_duration_ns", {S("1d")});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message,
            "time.parse_duration_ns: time: unknown unit \"d\" in duration \"1d\"");
  EXPECT_FALSE(Call("time.parse_duration_ns", {S("")}));
  EXPECT_FALSE(Call("time.parse_duration_ns", {S("9999999999h")}));
}

TEST(TimeBuiltins, DateClockWeekday) {
  EXPECT_EQ(Json(Call("time.date", {I(1517814000000000000)})), "[2018,2,5]");
  EXPECT_EQ(Json(Call("time.date", {A({I(1517814000000000000), S("America/Los_Angeles")})})),
            "[2018,2,4]");
  EXPECT_EQ(Json(Call("time.date", {A({I(1517832000000000000), S("")})})), "[2018,2,5]");
  EXPECT_EQ(Json(Call("time.date", {I(1582977600000000000)})), "[2020,2,29]");
  EXPECT_EQ(Json(Call("time.date", {I(-1)})), "[1969,12,31]");
  EXPECT_EQ(Json(Call("time.clock", {A({I(1517832000000000000), S("America/New_York")})})),
            "[7,0,0]");
  EXPECT_EQ(Json(Call("time.clock", {I(-1)})), "[23,59,59]");
  EXPECT_EQ(Json(Call("time.weekday", {I(1517918400000000000)})), "\"Tuesday\"");
  EXPECT_EQ(Json(Call("time.weekday", {I(1518091200000000000)})), "\"Thursday\"");
  EXPECT_EQ(Json(Call("time.weekday", {I(1518177600000000000)})), "\"Friday\"");
  EXPECT_EQ(Json(Call("time.weekday", {I(1518264000000000000)})), "\"Saturday\"");
}

TEST(TimeBuiltins, DaylightSavingTransitions) {
  // 2021-03-14 is the US spring-forward day: 06:59:59Z is 01:59:59 EST, 07:00:00Z is 03:00 EDT.
  EXPECT_EQ(Json(Call("time.clock", {A({I(1615705199000000000), S("America/New_York")})})),
            "[1,59,59]");
  EXPECT_EQ(Json(Call("time.clock", {A({I(1615705200000000000), S("America/New_York")})})),
            "[3,0,0]");
  // Far beyond the last recorded transition the POSIX rule in the zone file applies: July 2100
  // in Berlin is summer time (UTC+2).
  EXPECT_EQ(Json(Call("time.format", {A({I(4118126400000000000), S("Europe/Berlin"),
                                         S("2006-01-02 15:04 MST -07:00")})})),
            "\"2100-07-01 14:00 CEST +02:00\"");
  EXPECT_EQ(
      Json(Call("time.format",
                {A({I(4102488000000000000), S("Europe/Berlin"), S("2006-01-02 15:04 MST")})})),
      "\"2100-01-01 13:00 CET\"");
}

TEST(TimeBuiltins, TooBigAndBadOperands) {
  Value big = Value::Double(1582977600.0 * 1e13);
  for (const char* name : {"time.date", "time.clock", "time.weekday", "time.format"}) {
    auto r = Call(name, {big});
    ASSERT_FALSE(r) << name;
    EXPECT_EQ(r.error().code, kBuiltinError);
    EXPECT_EQ(r.error().message, std::string(name) + ": timestamp too big");
  }
  auto r = Call("time.date", {S("x")});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, kTypeError);
  EXPECT_EQ(r.error().message,
            "time.date: operand 1 must be either number (ns) or [number (ns), string (tz)] but "
            "got string");
  r = Call("time.date", {A({})});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, kTypeError);
  r = Call("time.date", {A({I(0), S("Mars/Olympus_Mons")})});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "time.date: unknown time zone Mars/Olympus_Mons");
  r = Call("time.date", {A({I(0), S("../../etc/passwd")})});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, kBuiltinError);
  r = Call("time.date", {A({I(0), I(5)})});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, kTypeError);
}

TEST(TimeBuiltins, AddDate) {
  EXPECT_EQ(Json(Call("time.add_date", {I(1585852421593912000), I(3), I(9), I(12)})),
            "1705257221593912000");
  EXPECT_EQ(Json(Call("time.add_date", {I(1585852421593912000), I(-1), I(-1), I(-1)})),
            "1551465221593912000");
  // Normalisation: Jan 31 + 1 month is March 2 (2021 is not a leap year).
  EXPECT_EQ(
      Json(Call("time.date", {*Call("time.add_date", {I(1612051200000000000), I(0), I(1), I(0)})})),
      "[2021,3,3]");
  auto r = Call("time.add_date", {I(0), I(2262), I(1), I(1)});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "time.add_date: time outside of valid range");
  r = Call("time.add_date", {I(INT64_MIN), I(0), I(0), I(-1)});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "time.add_date: time outside of valid range");
  r = Call("time.add_date", {I(0), Value::Double(1.5), I(0), I(0)});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, kTypeError);
  EXPECT_FALSE(Call("time.add_date", {I(0), I(INT64_MAX), I(0), I(0)}));
}

TEST(TimeBuiltins, Diff) {
  int64_t now = 1670006453141828752;
  EXPECT_EQ(Json(Call("time.diff", {I(now + 61000000000), I(now)})), "[0,0,0,0,1,1]");
  EXPECT_EQ(Json(Call("time.diff",
                      {A({I(now + 60000000000), S("UTC")}), A({I(now), S("Asia/Shanghai")})})),
            "[0,0,0,0,1,0]");
  auto parse = [](const char* d) { return *Call("time.parse_ns", {S("2006-01-02"), S(d)}); };
  EXPECT_EQ(Json(Call("time.diff", {parse("2020-02-02"), parse("2020-03-01")})), "[0,0,28,0,0,0]");
  EXPECT_EQ(Json(Call("time.diff", {parse("2021-02-02"), parse("2021-03-01")})), "[0,0,27,0,0,0]");
  EXPECT_EQ(Json(Call("time.diff", {parse("2004-02-29"), parse("2005-03-01")})), "[1,0,1,0,0,0]");
}

TEST(TimeBuiltins, Format) {
  int64_t t = 1670006453141828752;
  EXPECT_EQ(Json(Call("time.format", {I(t)})), "\"2022-12-02T18:40:53.141828752Z\"");
  EXPECT_EQ(Json(Call("time.format", {A({I(t), S("Asia/Kolkata")})})),
            "\"2022-12-03T00:10:53.141828752+05:30\"");
  EXPECT_EQ(Json(Call("time.format",
                      {A({I(t), S("Asia/Kolkata"), S("Mon Jan 02 15:04:05 -0700 2006")})})),
            "\"Sat Dec 03 00:10:53 +0530 2022\"");
  EXPECT_EQ(Json(Call("time.format", {A({I(t), S("Asia/Kolkata"), S("RFC1123Z")})})),
            "\"Sat, 03 Dec 2022 00:10:53 +0530\"");
  EXPECT_EQ(Json(Call("time.format", {A({I(t), S("UTC"), S("RFC1123")})})),
            "\"Fri, 02 Dec 2022 18:40:53 UTC\"");
  EXPECT_EQ(Json(Call("time.format", {A({I(t), S("UTC"), S("3:4:5pm .000 _2 __2 002 Z07")})})),
            "\"6:40:53pm .141  2 336 336 Z\"");
  EXPECT_EQ(Json(Call("time.format", {I(0)})), "\"1970-01-01T00:00:00Z\"");
  EXPECT_EQ(Json(Call("time.format", {A({I(0), S("America/Los_Angeles"), S("ANSIC")})})),
            "\"Wed Dec 31 16:00:00 1969\"");
}

TEST(TimeBuiltins, FormatParseRoundTrip) {
  for (const char* layout :
       {"RFC3339Nano", "RFC1123Z", "RubyDate", "2006-01-02 15:04:05.000000 -07:00:00"}) {
    int64_t t = 1496455200123456000;
    auto f = Call("time.format", {A({I(t), S("Australia/Sydney"), S(layout)})});
    ASSERT_TRUE(f) << layout;
    auto p = Call("time.parse_ns", {S(layout), *f});
    ASSERT_TRUE(p) << layout << ": " << p.error().message;
    std::string l = layout;
    int64_t want = l == "RFC1123Z" || l == "RubyDate" ? 1496455200000000000 : t;
    EXPECT_EQ(p->as_int(), want) << layout;
  }
}

}  // namespace
}  // namespace mcpgw::rego
