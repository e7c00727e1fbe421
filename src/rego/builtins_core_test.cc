#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <string_view>
#include <vector>

#include "rego/builtins.h"
#include "rego/builtins_test_util.h"
#include "rego/value.h"

namespace mcpgw::rego {
namespace {

using builtin_testing::Call;
using builtin_testing::TestValue;

// The result as Rego text, or "error(<code>): <message>".
std::string Eval(std::string_view name, std::vector<Value> args) {
  auto r = Call(name, std::move(args));
  if (!r) return "error(" + std::to_string(r.error().code) + "): " + r.error().message;
  return r->ToString();
}

std::string Eval(std::string_view name, std::initializer_list<std::string_view> json_args) {
  std::vector<Value> args;
  for (auto j : json_args) args.push_back(TestValue(j));
  return Eval(name, std::move(args));
}

const std::string kType = "error(" + std::to_string(kTypeError) + "): ";
const std::string kBuiltin = "error(" + std::to_string(kBuiltinError) + "): ";
const std::string kUndef = "error(" + std::to_string(kUndefined) + "): undefined";

TEST(CoreBuiltins, ComparisonUsesTheTotalOrder) {
  EXPECT_EQ(Eval("equal", {"1", "1.0"}), "true");
  EXPECT_EQ(Eval("equal", {"[1]", "[1.0]"}), "true");
  EXPECT_EQ(Eval("equal", {R"({"x": [1, {"b": 3.0}]})", R"({"x": [1, {"b": 3}]})"}), "true");
  EXPECT_EQ(Eval("equal", {"1", "\"1\""}), "false");
  EXPECT_EQ(Eval("neq", {"0", "1"}), "true");
  EXPECT_EQ(Eval("lt", {"null", "false"}), "true");
  EXPECT_EQ(Eval("lt", {"2", "\"1\""}), "true");  // numbers sort before strings
  EXPECT_EQ(Eval("lte", {"-1", "0"}), "true");
  EXPECT_EQ(Eval("gt", {"1", "2"}), "false");
  EXPECT_EQ(Eval("gte", {"1", "1"}), "true");
  EXPECT_EQ(Eval("gt", {"[1, 2]", "[1]"}), "true");
}

TEST(CoreBuiltins, PlusMinusMulAreExactOnIntegers) {
  EXPECT_EQ(Eval("plus", {"1", "2"}), "3");
  EXPECT_EQ(Eval("plus", {"49649733057", "1"}), "49649733058");
  EXPECT_EQ(Eval("minus", {"1", "3"}), "-2");
  EXPECT_EQ(Eval("mul", {"6", "7"}), "42");
  EXPECT_EQ(Eval("mul", {"2.5", "2"}), "5");
  // Overflow falls back to floating point instead of wrapping.
  EXPECT_EQ(Eval("plus", {"9223372036854775807", "1"}), "9223372036854775808");
  EXPECT_EQ(Eval("mul", {"4294967296", "4294967296"}), "18446744073709551616");
  EXPECT_EQ(Eval("minus", {"-9223372036854775808", "1"}), "-9223372036854775808");
}

TEST(CoreBuiltins, DecimalArithmeticMatchesOpa) {
  // OPA computes on decimal text with a 64-bit mantissa: 0.1 + 0.2 is exactly 0.3.
  EXPECT_EQ(Eval("plus", {"0.1", "0.2"}), "0.3");
  EXPECT_EQ(Eval("equal", {TestValue("0.3"), *Call("plus", {TestValue("0.1"), TestValue("0.2")})}),
            "true");
  EXPECT_EQ(Eval("mul", {"0.1", "3"}), "0.3");
  EXPECT_EQ(Eval("minus", {"0.3", "0.1"}), "0.2");
  EXPECT_EQ(Eval("plus", {"1.5", "1.5"}), "3");
}

TEST(CoreBuiltins, ArithmeticTypeErrors) {
  EXPECT_EQ(Eval("plus", {"1", "\"a\""}), kType + "plus: operand 2 must be number but got string");
  EXPECT_EQ(Eval("mul", {"null", "1"}), kType + "mul: operand 1 must be number but got null");
  EXPECT_EQ(Eval("minus", {R"({"$set": [1]})", "1"}),
            kType + "minus: operand 2 must be set but got number");
  EXPECT_EQ(Eval("minus", {"1", R"({"$set": [1]})"}),
            kType + "minus: operand 2 must be number but got set");
  EXPECT_EQ(Eval("minus", {"\"a\"", "1"}),
            kType + "minus: operand 1 must be one of {number, set} but got string");
}

TEST(CoreBuiltins, SetOperators) {
  EXPECT_EQ(Eval("minus", {R"({"$set": [1, 2, 3, 4]})", R"({"$set": [1, 3]})"}), "{2, 4}");
  EXPECT_EQ(Eval("minus", {R"({"$set": [1]})", R"({"$set": [1]})"}), "set()");
  EXPECT_EQ(Eval("and", {R"({"$set": [1, 2, 3]})", R"({"$set": [2, 3, 4]})"}), "{2, 3}");
  EXPECT_EQ(Eval("or", {R"({"$set": [1, 2]})", R"({"$set": [2, 3]})"}), "{1, 2, 3}");
  EXPECT_EQ(Eval("and", {"[1]", R"({"$set": [1]})"}),
            kType + "and: operand 1 must be set but got array");
  EXPECT_EQ(Eval("or", {R"({"$set": [1]})", "1"}),
            kType + "or: operand 2 must be set but got number");
}

TEST(CoreBuiltins, Division) {
  EXPECT_EQ(Eval("div", {"6", "2"}), "3");
  EXPECT_EQ(Eval("div", {"7", "2"}), "3.5");
  EXPECT_EQ(Eval("div", {"1", "3"}), "0.3333333333333333");
  EXPECT_EQ(Eval("div", {"0", "5"}), "0");
  EXPECT_EQ(Eval("div", {"-9223372036854775808", "-1"}), "9223372036854775808");
  EXPECT_EQ(Eval("div", {"1", "0"}), kBuiltin + "div: divide by zero");
  EXPECT_EQ(Eval("div", {"1.5", "0.0"}), kBuiltin + "div: divide by zero");
}

TEST(CoreBuiltins, Remainder) {
  EXPECT_EQ(Eval("rem", {"7", "4"}), "3");
  EXPECT_EQ(Eval("rem", {"-7", "3"}), "-1");  // truncated, sign of the dividend
  EXPECT_EQ(Eval("rem", {"7", "-3"}), "1");
  EXPECT_EQ(Eval("rem", {"-9223372036854775808", "-1"}), "0");
  EXPECT_EQ(Eval("rem", {"4.0", "3"}), "1");  // integral floats are integers
  EXPECT_EQ(Eval("rem", {"7", "0"}), kBuiltin + "rem: modulo by zero");
  EXPECT_EQ(Eval("rem", {"1.1", "1"}), kBuiltin + "rem: modulo on floating-point number");
  EXPECT_EQ(Eval("rem", {"1", "0.5"}), kBuiltin + "rem: modulo on floating-point number");
}

TEST(CoreBuiltins, UnaryArithmetic) {
  EXPECT_EQ(Eval("abs", {"-10"}), "10");
  EXPECT_EQ(Eval("abs", {"-1.5"}), "1.5");
  EXPECT_EQ(Eval("abs", {"-9223372036854775808"}), "9223372036854775808");
  EXPECT_EQ(Eval("round", {"2.5"}), "3");
  EXPECT_EQ(Eval("round", {"-2.5"}), "-3");
  EXPECT_EQ(Eval("round", {"0.4"}), "0");
  EXPECT_EQ(Eval("round", {"7"}), "7");
  EXPECT_EQ(Eval("ceil", {"1.2"}), "2");
  EXPECT_EQ(Eval("ceil", {"-1.2"}), "-1");
  EXPECT_EQ(Eval("floor", {"-1.2"}), "-2");
  EXPECT_EQ(Eval("floor", {"1.8"}), "1");
  EXPECT_EQ(Eval("abs", {"\"x\""}), kType + "abs: operand 1 must be number but got string");
}

TEST(CoreBuiltins, Count) {
  EXPECT_EQ(Eval("count", {"[1, 2, 3]"}), "3");
  EXPECT_EQ(Eval("count", {R"({"v1": "hello", "v2": "goodbye"})"}), "2");
  EXPECT_EQ(Eval("count", {R"({"$set": [1, 2, 3, 4]})"}), "4");
  EXPECT_EQ(Eval("count", {"\"h\u00e9llo\""}), "5");  // code points, not bytes
  EXPECT_EQ(Eval("count", {"\"\""}), "0");
  // Invalid UTF-8 counts one per bad byte (OPA's conformance case: 32 bytes -> 30).
  std::string bad =
      "\xd8\x4f\x38\x66\xe3\xd4\x77\xbc\xdf\xbc\x26\x52\x34\x47\x21\x56\x90\xc4\x22\x3e\x8f\x2f"
      "\xb2\x5f\x2e\x92\x2a\xcb\x15\x46\xd7\xa9";
  EXPECT_EQ(Eval("count", std::vector<Value>{Value::String(bad)}), "30");
  EXPECT_EQ(Eval("count", {"1"}),
            kType + "count: operand 1 must be one of {array, object, set, string} but got number");
}

TEST(CoreBuiltins, SumAndProduct) {
  EXPECT_EQ(Eval("sum", {"[1, 2, 3, 4]"}), "10");
  EXPECT_EQ(Eval("sum", {R"({"$set": [1, 2, 3, 4]})"}), "10");
  EXPECT_EQ(Eval("sum", {"[49649733057, 1]"}), "49649733058");
  EXPECT_EQ(Eval("sum", {"[]"}), "0");
  EXPECT_EQ(Eval("sum", {"[0.1, 0.2]"}), "0.3");
  EXPECT_EQ(Eval("sum", {"[1, 2.5]"}), "3.5");
  EXPECT_EQ(Eval("sum", {"[9223372036854775807, 1]"}), "9223372036854775808");
  EXPECT_EQ(Eval("product", {"[1, 2, 3, 4]"}), "24");
  EXPECT_EQ(Eval("product", {R"({"$set": [1, 2, 3, 4]})"}), "24");
  EXPECT_EQ(Eval("product", {"[]"}), "1");
  EXPECT_EQ(Eval("product", {"[0.5, 3]"}), "1.5");
  EXPECT_EQ(Eval("sum", {"[1, \"a\"]"}),
            kType + "sum: operand 1 must be array of numbers but got array containing string");
  EXPECT_EQ(Eval("product", {R"({"$set": [1, null]})"}),
            kType + "product: operand 1 must be set of numbers but got set containing null");
  EXPECT_EQ(Eval("sum", {"{}"}),
            kType + "sum: operand 1 must be one of {set, array} but got object");
}

TEST(CoreBuiltins, MaxMinSort) {
  EXPECT_EQ(Eval("max", {"[1, 2, 3, 4]"}), "4");
  EXPECT_EQ(Eval("max", {R"({"$set": [1, 2, 3, 4]})"}), "4");
  EXPECT_EQ(Eval("min", {"[3, 2, 1, 4, 6, -7, 10]"}), "-7");
  EXPECT_EQ(Eval("min", {"[1, 2, 1, 3, 4]"}), "1");
  EXPECT_EQ(Eval("max", {"[1, \"a\", null]"}), "\"a\"");  // any values, by the total order
  EXPECT_EQ(Eval("max", {"[]"}), kUndef);
  EXPECT_EQ(Eval("min", {R"({"$set": []})"}), kUndef);
  EXPECT_EQ(Eval("max", {"1"}),
            kType + "max: operand 1 must be one of {set, array} but got number");
  EXPECT_EQ(Eval("sort", {"[4, 3, 2, 1]"}), "[1, 2, 3, 4]");
  EXPECT_EQ(Eval("sort", {R"({"$set": [3, 1, 2]})"}), "[1, 2, 3]");
  EXPECT_EQ(Eval("sort", {"[\"b\", 1, null, [0]]"}), "[null, 1, \"b\", [0]]");
  EXPECT_EQ(Eval("sort", {"\"x\""}),
            kType + "sort: operand 1 must be one of {set, array} but got string");
}

TEST(CoreBuiltins, TypeTestsAreTrueOrFalse) {
  EXPECT_EQ(Eval("is_number", {"-42.0"}), "true");
  EXPECT_EQ(Eval("is_number", {"null"}), "false");
  EXPECT_EQ(Eval("is_string", {"\"OPA\""}), "true");
  EXPECT_EQ(Eval("is_string", {"1"}), "false");
  EXPECT_EQ(Eval("is_boolean", {"false"}), "true");
  EXPECT_EQ(Eval("is_boolean", {"\"Hello\""}), "false");
  EXPECT_EQ(Eval("is_array", {"[1]"}), "true");
  EXPECT_EQ(Eval("is_array", {R"({"$set": [1]})"}), "false");
  EXPECT_EQ(Eval("is_set", {R"({"$set": [1]})"}), "true");
  EXPECT_EQ(Eval("is_set", {"[1]"}), "false");
  EXPECT_EQ(Eval("is_object", {"{}"}), "true");
  EXPECT_EQ(Eval("is_object", {"\"foo\""}), "false");
  EXPECT_EQ(Eval("is_null", {"null"}), "true");
  EXPECT_EQ(Eval("is_null", {"true"}), "false");
}

TEST(CoreBuiltins, TypeName) {
  EXPECT_EQ(Eval("type_name", {"null"}), "\"null\"");
  EXPECT_EQ(Eval("type_name", {"true"}), "\"boolean\"");
  EXPECT_EQ(Eval("type_name", {"100"}), "\"number\"");
  EXPECT_EQ(Eval("type_name", {"\"Hello\""}), "\"string\"");
  EXPECT_EQ(Eval("type_name", {"[]"}), "\"array\"");
  EXPECT_EQ(Eval("type_name", {R"({"foo": 1})"}), "\"object\"");
  EXPECT_EQ(Eval("type_name", {R"({"$set": [1, 2, 3]})"}), "\"set\"");
}

TEST(CoreBuiltins, ToNumber) {
  EXPECT_EQ(Eval("to_number", {"\"-42.0\""}), "-42");
  EXPECT_EQ(Eval("to_number", {"false"}), "0");
  EXPECT_EQ(Eval("to_number", {"true"}), "1");
  EXPECT_EQ(Eval("to_number", {"null"}), "0");
  EXPECT_EQ(Eval("to_number", {"100.1"}), "100.1");
  EXPECT_EQ(Eval("to_number", {"\"+5\""}), "5");
  EXPECT_EQ(Eval("to_number", {"\".5\""}), "0.5");
  EXPECT_EQ(Eval("to_number", {"\"1e3\""}), "1000");
  EXPECT_EQ(Eval("to_number", {"\"9007199254740993\""}), "9007199254740993");  // exact
  EXPECT_EQ(Eval("to_number", {"\"broken\""}),
            kBuiltin + "to_number: strconv.ParseFloat: parsing \"broken\": invalid syntax");
  EXPECT_EQ(Eval("to_number", {"\" 1\""}).rfind(kBuiltin, 0), 0u);
  EXPECT_EQ(Eval("to_number", {"\"1e400\""}),
            kBuiltin + "to_number: strconv.ParseFloat: parsing \"1e400\": value out of range");
  for (const char* s : {"\"nan\"", "\"inf\"", "\"-inf\"", "\"Infinity\"", "\"-Infinity\"",
                        "\"-nan\"", "\"-NaN\"", "\"iNf\""}) {
    EXPECT_EQ(Eval("to_number", {s}).rfind(kType, 0), 0u) << s;
  }
  EXPECT_EQ(Eval("to_number", {"[]"}),
            kType +
                "to_number: operand 1 must be one of {null, boolean, number, string} but got "
                "array");
}

TEST(CoreBuiltins, Bits) {
  EXPECT_EQ(Eval("bits.and", {"7", "9"}), "1");
  EXPECT_EQ(Eval("bits.and", {"50", "0"}), "0");
  EXPECT_EQ(Eval("bits.or", {"50", "0"}), "50");
  EXPECT_EQ(Eval("bits.xor", {"42", "42"}), "0");
  EXPECT_EQ(Eval("bits.negate", {"42"}), "-43");
  EXPECT_EQ(Eval("bits.lsh", {"1", "3"}), "8");
  EXPECT_EQ(Eval("bits.lsh", {"2147483647", "1"}), "4294967294");
  EXPECT_EQ(Eval("bits.lsh", {"1", "64"}), "18446744073709551616");
  EXPECT_EQ(Eval("bits.rsh", {"8", "3"}), "1");
  EXPECT_EQ(Eval("bits.rsh", {"-8", "1"}), "-4");
  EXPECT_EQ(Eval("bits.rsh", {"-1", "100"}), "-1");
  const std::string kFloat = "operand 1 must be integer number but got floating-point number";
  EXPECT_EQ(Eval("bits.negate", {"7.2"}), kType + "bits.negate: " + kFloat);
  EXPECT_EQ(Eval("bits.or", {"7.2", "42"}), kType + "bits.or: " + kFloat);
  EXPECT_EQ(Eval("bits.xor", {"7.2", "42"}), kType + "bits.xor: " + kFloat);
  EXPECT_EQ(Eval("bits.lsh", {"7.2", "42"}), kType + "bits.lsh: " + kFloat);
  EXPECT_EQ(Eval("bits.rsh", {"7.2", "42"}), kType + "bits.rsh: " + kFloat);
  EXPECT_EQ(Eval("bits.lsh", {"7", "-1"}),
            kType +
                "bits.lsh: operand 2 must be an unsigned integer number but got a negative "
                "integer");
  EXPECT_EQ(Eval("bits.and", {"1", "\"a\""}),
            kType + "bits.and: operand 2 must be number but got string");
}

TEST(CoreBuiltins, NumbersRange) {
  EXPECT_EQ(Eval("numbers.range", {"0", "0"}), "[0]");
  EXPECT_EQ(Eval("numbers.range", {"-2", "3"}), "[-2, -1, 0, 1, 2, 3]");
  EXPECT_EQ(Eval("numbers.range", {"3", "1"}), "[3, 2, 1]");
  EXPECT_EQ(Eval("numbers.range", {"49649733057", "49649733060"}),
            "[49649733057, 49649733058, 49649733059, 49649733060]");
  EXPECT_EQ(
      Eval("numbers.range", {"3.14", "4"}),
      kType + "numbers.range: operand 1 must be integer number but got floating-point number");
  EXPECT_EQ(
      Eval("numbers.range", {"3", "3.14"}),
      kType + "numbers.range: operand 2 must be integer number but got floating-point number");
  EXPECT_EQ(Eval("numbers.range", {"0", "1000000000000"}).rfind(kBuiltin, 0), 0u);
}

TEST(CoreBuiltins, NumbersRangeStep) {
  EXPECT_EQ(Eval("numbers.range_step", {"0", "10", "2"}), "[0, 2, 4, 6, 8, 10]");
  EXPECT_EQ(Eval("numbers.range_step", {"0", "-10", "2"}), "[0, -2, -4, -6, -8, -10]");
  EXPECT_EQ(Eval("numbers.range_step", {"10", "3", "2"}), "[10, 8, 6, 4]");
  EXPECT_EQ(Eval("numbers.range_step", {"1024", "4096", "1024"}), "[1024, 2048, 3072, 4096]");
  EXPECT_EQ(Eval("numbers.range_step", {"2", "2", "2"}), "[2]");
  EXPECT_EQ(Eval("numbers.range_step", {"2", "5", "2"}), "[2, 4]");
  EXPECT_EQ(Eval("numbers.range_step", {"0", "10", "99999999999999999999"}), "[0]");
  EXPECT_EQ(Eval("numbers.range_step", {"0", "10", "-2"}),
            kBuiltin + "numbers.range_step: step must be a positive integer");
  EXPECT_EQ(Eval("numbers.range_step", {"0", "10", "0"}),
            kBuiltin + "numbers.range_step: step must be a positive integer");
  EXPECT_EQ(Eval("numbers.range_step", {"0", "10", "1.5"}),
            kType +
                "numbers.range_step: operand 3 must be integer number but got floating-point "
                "number");
}

TEST(CoreBuiltins, DeprecatedBuiltinsAreNotRegistered) {
  // Removed from Rego v1: policies using them must be refused at compile time.
  for (const char* name : {"any", "all", "cast_array", "cast_set", "cast_string", "cast_boolean",
                           "cast_null", "cast_object", "set_diff"}) {
    EXPECT_EQ(Builtins().Find(name), nullptr) << name;
  }
}

}  // namespace
}  // namespace mcpgw::rego
