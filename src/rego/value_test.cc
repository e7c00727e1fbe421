#include "rego/value.h"

#include <gtest/gtest.h>

namespace mcpgw::rego {
namespace {

TEST(ValueTest, OrdersKindsLikeOpa) {
  EXPECT_LT(Value::Null(), Value::Bool(false));
  EXPECT_LT(Value::Bool(true), Value::Int(-5));
  EXPECT_LT(Value::Int(7), Value::String(""));
  EXPECT_LT(Value::String("z"), Value::FromArray({}));
  EXPECT_LT(Value::FromArray({}), Value::FromObject({}));
  EXPECT_LT(Value::FromObject({}), Value::FromSet({}));
}

TEST(ValueTest, NumbersCompareByValue) {
  EXPECT_EQ(Value::Int(3), Value::Double(3.0));
  EXPECT_TRUE(Value::Double(6.0 / 2).is_int());
  EXPECT_LT(Value::Int(1), Value::Double(1.5));
  EXPECT_EQ(FormatNumber(Value::Double(0.1)), "0.1");
}

TEST(ValueTest, JsonRoundTripSortsKeysAndPrintsSetsAsArrays) {
  auto v = Value::ParseJson(R"({"b":[1,2.5,"x"],"a":null})");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->ToJson(), R"({"a":null,"b":[1,2.5,"x"]})");
  Set s{Value::Int(2), Value::Int(1)};
  EXPECT_EQ(Value::FromSet(s).ToJson(), "[1,2]");
  EXPECT_EQ(Value::FromSet(s).ToString(), "{1, 2}");
  EXPECT_EQ(Value::FromSet({}).ToString(), "set()");
  EXPECT_FALSE(Value::ParseJson("{").ok());
}

// Policy data and json.unmarshal read numbers exactly (the double nearest to the text), and
// print them back as they were written.
TEST(ValueTest, JsonNumbersKeepTheirValue) {
  auto v = Value::ParseJson("[2783.5060394658162, 10769.770028185163, 0.1]");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->array()[0].as_double(), 2783.5060394658162);
  EXPECT_EQ(v->array()[1].as_double(), 10769.770028185163);
  EXPECT_EQ(v->ToJson(), "[2783.5060394658162,10769.770028185163,0.1]");
}

TEST(ValueTest, WithMembersPutsMembersInReplacingTheBases) {
  Value base = *Value::ParseJson(R"({"a":1,"b":2})");
  Value members = *Value::ParseJson(R"({"b":3,"c":4})");
  EXPECT_EQ(WithMembers(base, members.object()).ToJson(), R"({"a":1,"b":3,"c":4})");
  EXPECT_EQ(base.ToJson(), R"({"a":1,"b":2})");  // values never change
  EXPECT_EQ(WithMembers(Value::Int(7), members.object()).ToJson(), R"({"b":3,"c":4})");
}

TEST(ValueTest, GetLooksUpObjectsArraysAndSets) {
  auto v = *Value::ParseJson(R"({"a":[10,20]})");
  ASSERT_NE(v.Get("a"), nullptr);
  EXPECT_EQ(*v.Get("a")->Get(Value::Int(1)), Value::Int(20));
  EXPECT_EQ(v.Get("a")->Get(Value::Int(2)), nullptr);
  EXPECT_EQ(v.Get("b"), nullptr);
}

}  // namespace
}  // namespace mcpgw::rego
