#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "rego/builtins.h"
#include "rego/builtins_test_util.h"

namespace mcpgw::rego {
namespace {

using builtin_testing::Call;

Value S(std::string s) { return Value::String(std::move(s)); }
Value Strs(const std::vector<std::string>& v) {
  Array a;
  for (const auto& s : v) a.push_back(S(s));
  return Value::FromArray(std::move(a));
}
Value StrSet(const std::vector<std::string>& v) {
  Set out;
  for (const auto& s : v) out.insert(S(s));
  return Value::FromSet(std::move(out));
}

std::string Json(const Result<Value>& r) { return r ? r->ToJson() : "error: " + r.error().message; }

TEST(NetBuiltins, CidrContains) {
  auto c = [](const std::string& a, const std::string& b) {
    return Json(Call("net.cidr_contains", {S(a), S(b)}));
  };
  EXPECT_EQ(c("172.17.0.0/24", "172.17.0.0/16"), "false");
  EXPECT_EQ(c("10.0.0.0/8", "192.168.1.0/24"), "false");
  EXPECT_EQ(c("10.0.0.0/8", "10.1.1.1/32"), "true");
  EXPECT_EQ(c("10.0.0.0/8", "10.1.2.3"), "true");
  EXPECT_EQ(c("10.0.0.0/8", "192.168.1.1"), "false");
  EXPECT_EQ(c("2001:4860:4860::8888/32", "2001:4860:4860:1234::8888/40"), "true");
  EXPECT_EQ(c("2001:4860:4860::8888/32", "2001:4860:4860:1234:5678:1234:5678:8888/128"), "true");
  EXPECT_EQ(c("2001:4860::/96", "2001:4860::/32"), "false");
  // IPv4-mapped IPv6 addresses are IPv4 addresses; plain IPv6 never matches an IPv4 network.
  EXPECT_EQ(c("10.0.0.0/8", "::ffff:10.1.2.3"), "true");
  EXPECT_EQ(c("::/0", "10.1.2.3"), "false");
  EXPECT_EQ(c("0.0.0.0/0", "255.255.255.255"), "true");
}

TEST(NetBuiltins, CidrContainsErrors) {
  auto r = Call("net.cidr_contains", {S("not-a-cidr"), S("192.168.1.67")});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, kBuiltinError);
  EXPECT_EQ(r.error().message, "net.cidr_contains: invalid CIDR address: not-a-cidr");
  r = Call("net.cidr_contains", {S("192.168.1.0/28"), S("not-a-cidr")});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message,
            "net.cidr_contains: not a valid textual representation of an IP address or CIDR: "
            "not-a-cidr");
  // Go's parser: no leading zeros, no zones, prefix within the address length.
  EXPECT_FALSE(Call("net.cidr_contains", {S("010.0.0.0/8"), S("10.0.0.1")}));
  EXPECT_FALSE(Call("net.cidr_contains", {S("fe80::/10"), S("fe80::1%eth0")}));
  r = Call("net.cidr_contains", {Value::Int(1), S("1.2.3.4")});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, kTypeError);
}

TEST(NetBuiltins, CidrIntersects) {
  auto c = [](const std::string& a, const std::string& b) {
    return Json(Call("net.cidr_intersects", {S(a), S(b)}));
  };
  EXPECT_EQ(c("192.168.1.0/25", "192.168.1.64/25"), "true");
  EXPECT_EQ(c("192.168.1.0/24", "192.168.2.0/24"), "false");
  EXPECT_EQ(c("fd1e:5bfe:8af3:9ddc::/64", "fd1e:5bfe:8af3:9ddc:1111::/72"), "true");
  EXPECT_EQ(c("10.0.0.0/8", "::/0"), "false");
  EXPECT_FALSE(Call("net.cidr_intersects", {S("not-a-cidr"), S("192.168.1.0/24")}));
  EXPECT_FALSE(Call("net.cidr_intersects", {S("192.168.1.0/28"), S("192.168.1.1")}));
}

TEST(NetBuiltins, CidrIsValid) {
  auto v = [](const Value& x) { return Json(Call("net.cidr_is_valid", {x})); };
  EXPECT_EQ(v(S("192.168.1.0/24")), "true");
  EXPECT_EQ(v(S("2002::1234:abcd:ffff:c0a8:101/64")), "true");
  EXPECT_EQ(v(S("::ffff:1.2.3.4/120")), "true");
  EXPECT_EQ(v(S("")), "false");
  EXPECT_EQ(v(S("there goes a string")), "false");
  EXPECT_EQ(v(S("192.168.1.2")), "false");
  EXPECT_EQ(v(S("192.168.1.0/33")), "false");
  EXPECT_EQ(v(S("1:2:3:4:5:6:7:8:9/64")), "false");
  EXPECT_EQ(v(S("1::2::3/64")), "false");
  EXPECT_EQ(v(Value::Int(5)), "false");
}

TEST(NetBuiltins, CidrExpand) {
  EXPECT_EQ(Json(Call("net.cidr_expand", {S("192.168.1.1/30")})),
            R"(["192.168.1.0","192.168.1.1","192.168.1.2","192.168.1.3"])");
  EXPECT_EQ(Json(Call("net.cidr_expand", {S("172.16.100.255/30")})),
            R"(["172.16.100.252","172.16.100.253","172.16.100.254","172.16.100.255"])");
  EXPECT_EQ(Json(Call("net.cidr_expand", {S("255.255.255.255/32")})), R"(["255.255.255.255"])");
  EXPECT_EQ(Json(Call("net.cidr_expand", {S("2001:db8::/127")})),
            R"(["2001:db8::","2001:db8::1"])");
  auto r = Call("net.cidr_expand", {S("192.168.1.1/33")});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "net.cidr_expand: invalid CIDR address: 192.168.1.1/33");
  // Refuses to materialise huge networks rather than exhausting memory.
  EXPECT_FALSE(Call("net.cidr_expand", {S("2001:db8::/64")}));
  auto big = Call("net.cidr_expand", {S("10.0.0.0/16")});
  ASSERT_TRUE(big);
  EXPECT_EQ(big->size(), 65536u);
}

TEST(NetBuiltins, CidrMerge) {
  auto m = [](const Value& v) { return Json(Call("net.cidr_merge", {v})); };
  EXPECT_EQ(m(Strs({"2601:600:8a80:207e:a57d:7567:e2c9:e7b3/128"})),
            R"(["2601:600:8a80:207e:a57d:7567:e2c9:e7b3/128"])");
  EXPECT_EQ(m(Strs({"2601:600:8a80:207e:a57d:7567:e2c9:e7b3/128",
                    "2601:600:8a80:207e:a57d:7567:e2c9:e7b3/128"})),
            R"(["2601:600:8a80:207e:a57d:7567:e2c9:e7b3/128"])");
  EXPECT_EQ(m(Strs({"2601:600:8a80:207e:a57d:7567:e2c9:e7b3/64",
                    "2601:600:8a80:207e:a57d:7567:e2c9:e7b3/128"})),
            R"(["2601:600:8a80:207e::/64"])");
  EXPECT_EQ(m(Strs({"192.0.128.0/24", "192.0.128.0/24"})), R"(["192.0.128.0/24"])");
  EXPECT_EQ(m(Strs({"192.0.128.0/24", "0.0.0.0/0"})), R"(["0.0.0.0/0"])");
  EXPECT_EQ(m(Strs({"192.0.128.0/24", "192.0.129.0/24"})), R"(["192.0.128.0/23"])");
  EXPECT_EQ(m(Strs({"192.0.2.112/30", "192.0.2.116/31", "192.0.2.118/31"})),
            R"(["192.0.2.112/29"])");
  EXPECT_EQ(m(Strs({"192.0.129.0/24", "192.0.130.0/24"})),
            R"(["192.0.129.0/24","192.0.130.0/24"])");
  EXPECT_EQ(m(Strs({"192.0.2.112/30", "192.0.2.116/32", "192.0.2.118/31"})),
            R"(["192.0.2.112/30","192.0.2.116/32","192.0.2.118/31"])");
  EXPECT_EQ(m(Strs({"192.0.2.112/31", "192.0.2.116/31", "192.0.2.118/31"})),
            R"(["192.0.2.112/31","192.0.2.116/30"])");
  EXPECT_EQ(
      m(Strs({"192.0.1.254/31", "192.0.2.0/28", "192.0.2.16/28", "192.0.2.32/28", "192.0.2.48/28",
              "192.0.2.64/28", "192.0.2.80/28", "192.0.2.96/28", "192.0.2.112/28", "192.0.2.128/28",
              "192.0.2.144/28", "192.0.2.160/28", "192.0.2.176/28", "192.0.2.192/28",
              "192.0.2.208/28", "192.0.2.224/28", "192.0.2.240/28", "192.0.3.0/28"})),
      R"(["192.0.1.254/31","192.0.2.0/24","192.0.3.0/28"])");
  EXPECT_EQ(m(Strs({"::/0", "fe80::1/128"})), R"(["::/0"])");
  EXPECT_EQ(m(Strs({"::/0", "::192.0.2.0/124", "ff00::101/128"})), R"(["::/0"])");
  EXPECT_EQ(
      m(Strs({"fe80::/120", "192.0.2.0/24", "192.0.3.0/24", "192.0.4.0/25", "192.0.4.128/25"})),
      R"(["192.0.2.0/23","192.0.4.0/24","fe80::/120"])");
  EXPECT_EQ(m(Strs({})), "[]");
  // Bare IPv4 addresses get Go's classful default mask.
  EXPECT_EQ(m(Strs({"192.0.2.112", "192.0.2.116/31", "192.0.2.118/31"})), R"(["192.0.2.0/24"])");
  EXPECT_EQ(m(Strs({"192.0.128.0", "192.0.129.0"})), R"(["192.0.128.0/23"])");
  EXPECT_EQ(m(Strs({"10.1.2.3"})), R"(["10.1.2.3/8"])");
  EXPECT_EQ(m(StrSet({"192.0.2.112/30", "192.0.2.116/31", "192.0.2.118/31"})),
            R"(["192.0.2.112/29"])");
  // A range that is not one block splits into the fewest blocks.
  EXPECT_EQ(m(Strs({"10.0.0.1/32", "10.0.0.2/31", "10.0.0.4/30", "10.0.0.8/32"})),
            R"(["10.0.0.1/32","10.0.0.2/31","10.0.0.4/30","10.0.0.8/32"])");
  EXPECT_EQ(m(Strs({"10.0.0.0/32", "10.0.0.1/32", "10.0.0.2/31", "10.0.0.4/30"})),
            R"(["10.0.0.0/29"])");
}

TEST(NetBuiltins, CidrMergeErrors) {
  auto r = Call("net.cidr_merge", {Strs({"2601:600:8a80:207e:a57d:7567:e2c9:e7b3"})});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "net.cidr_merge: IPv6 invalid: needs prefix length");
  r = Call("net.cidr_merge", {Strs({"foo"})});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, kBuiltinError);
  EXPECT_FALSE(Call("net.cidr_merge", {S("10.0.0.0/8")}));
  EXPECT_FALSE(Call("net.cidr_merge", {Value::FromArray({Value::Int(1)})}));
}

TEST(NetBuiltins, CidrContainsMatches) {
  auto cm = [](const Value& a, const Value& b) {
    return Json(Call("net.cidr_contains_matches", {a, b}));
  };
  EXPECT_EQ(cm(Strs({"1.1.2.0/24", "1.1.1.0/24"}), Strs({"1.1.1.1", "1.1.2.1"})), "[[0,1],[1,0]]");
  EXPECT_EQ(cm(Value::FromArray({Strs({"1.1.2.0/24", "x"}), S("1.1.1.0/24")}),
               Strs({"1.1.1.1", "1.1.2.1"})),
            "[[0,1],[1,0]]");
  EXPECT_EQ(cm(StrSet({"1.1.1.0/24", "1.1.2.0/24"}), StrSet({"1.1.1.1", "1.1.2.1"})),
            R"([["1.1.1.0/24","1.1.1.1"],["1.1.2.0/24","1.1.2.1"]])");
  Set tuples1{Strs({"1.1.1.0/24", "bar"}), Strs({"1.1.2.0/24", "foo"})};
  Set tuples2{Strs({"1.1.1.1", "baz"}), Strs({"1.1.2.1", "qux"})};
  EXPECT_EQ(
      cm(Value::FromSet(tuples1), Value::FromSet(tuples2)),
      R"([[["1.1.1.0/24","bar"],["1.1.1.1","baz"]],[["1.1.2.0/24","foo"],["1.1.2.1","qux"]]])");
  EXPECT_EQ(cm(MakeObject({{"a", S("10.0.0.0/8")}}), S("10.2.3.4")), R"([["a","10.2.3.4"]])");
  EXPECT_EQ(cm(S("10.0.0.0/8"), S("11.2.3.4")), "[]");

  auto r = Call("net.cidr_contains_matches",
                {Strs({"1.1.2.0/24"}), Value::FromArray({S("1.1.1.1"), Value::Int(1)})});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, kBuiltinError);
  EXPECT_EQ(r.error().message,
            "net.cidr_contains_matches: operand 2: element must be string or non-empty array");
  r = Call("net.cidr_contains_matches",
           {Value::FromSet(tuples1), Value::FromSet({Value::FromArray({}), Strs({"1.1.2.1"})})});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message,
            "net.cidr_contains_matches: operand 2: element must be string or non-empty array");
}

}  // namespace
}  // namespace mcpgw::rego
