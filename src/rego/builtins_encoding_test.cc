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
Value J(std::string_view json) {
  auto v = Value::ParseJson(json);
  EXPECT_TRUE(v.ok()) << json;
  return v.ok() ? *v : Value();
}

std::string Ok(const Result<Value>& r) {
  if (!r.ok()) return "ERROR(" + std::to_string(r.error().code) + "): " + r.error().message;
  return r->ToJson();
}

std::string Str(const Result<Value>& r) {
  if (!r.ok()) return "ERROR: " + r.error().message;
  if (!r->is_string()) return "NOT A STRING: " + r->ToJson();
  return r->str();
}

void ExpectError(const Result<Value>& r, int code, std::string_view text) {
  ASSERT_FALSE(r.ok()) << r->ToJson();
  EXPECT_EQ(r.error().code, code) << r.error().message;
  EXPECT_NE(r.error().message.find(text), std::string::npos) << r.error().message;
}

TEST(JsonBuiltinsTest, MarshalLikeGo) {
  Object o;
  o.emplace(S("foo"), Value::FromSet({I(3), I(1), I(2)}));
  Value v = Value::FromArray({Value::FromObject(o)});
  EXPECT_EQ(Str(Call("json.marshal", {v})), R"([{"foo":[1,2,3]}])");
  EXPECT_EQ(Str(Call("json.marshal", {J(R"({"b": 1, "a": "<x & y>"})")})),
            R"({"a":"\u003cx \u0026 y\u003e","b":1})");
  EXPECT_EQ(Str(Call("json.marshal", {S("tab\there\u2028\x01")})), R"("tab\there\u2028\u0001")");
  EXPECT_EQ(Str(Call("json.marshal",
                     {Value::FromArray({I(1234567890), Value::Double(2e6), Value::Double(1e9)})})),
            "[1234567890,2000000,1000000000]");
  EXPECT_EQ(Str(Call("json.marshal", {Value::Double(2.5)})), "2.5");
  EXPECT_EQ(Str(Call("json.marshal", {Value::Double(1e20)})), "100000000000000000000");
  // Non-string keys become their JSON text, sorted as strings.
  Object keys;
  keys.emplace(I(10), S("ten"));
  keys.emplace(I(9), S("nine"));
  EXPECT_EQ(Str(Call("json.marshal", {Value::FromObject(keys)})), R"({"10":"ten","9":"nine"})");
}

TEST(JsonBuiltinsTest, MarshalWithOptions) {
  Value doc = J(R"({"a": [1, 2], "b": {}})");
  EXPECT_EQ(Str(Call("json.marshal_with_options", {doc, J("{}")})), R"({"a":[1,2],"b":{}})");
  EXPECT_EQ(Str(Call("json.marshal_with_options", {doc, J(R"({"pretty": true})")})),
            "{\n\t\"a\": [\n\t\t1,\n\t\t2\n\t],\n\t\"b\": {}\n}");
  EXPECT_EQ(Str(Call("json.marshal_with_options", {doc, J(R"({"indent": "  ", "prefix": "> "})")})),
            "> {\n>   \"a\": [\n>     1,\n>     2\n>   ],\n>   \"b\": {}\n> }");
  EXPECT_EQ(Str(Call("json.marshal_with_options", {doc, J(R"({"indent": " ", "pretty": false})")})),
            R"({"a":[1,2],"b":{}})");
  ExpectError(Call("json.marshal_with_options", {doc, J(R"({"bogus": 1})")}), kTypeError,
              "operand 2 object contained unknown key bogus");
  ExpectError(Call("json.marshal_with_options", {doc, J(R"({"pretty": 1})")}), kTypeError,
              "key pretty failed cast to bool");
}

TEST(JsonBuiltinsTest, UnmarshalAndIsValid) {
  EXPECT_EQ(Ok(Call("json.unmarshal", {S(R"([{"foo":[1,2,3]}])")})), R"([{"foo":[1,2,3]}])");
  ExpectError(Call("json.unmarshal", {I(1)}), kTypeError,
              "operand 1 must be string but got number");
  ExpectError(Call("json.unmarshal", {S("{")}), kBuiltinError, "json.unmarshal");
  EXPECT_EQ(Ok(Call("json.is_valid", {S("plainstring")})), "false");
  EXPECT_EQ(Ok(Call("json.is_valid", {S("{")})), "false");
  EXPECT_EQ(Ok(Call("json.is_valid", {S(R"({"json": "ok"})")})), "true");
  EXPECT_EQ(Ok(Call("json.is_valid", {I(1)})), "false");
}

TEST(Base64BuiltinsTest, EncodeDecode) {
  EXPECT_EQ(Str(Call("base64.encode", {S("hello")})), "aGVsbG8=");
  EXPECT_EQ(Str(Call("base64.encode", {S("subjects?_d")})), "c3ViamVjdHM/X2Q=");
  EXPECT_EQ(Str(Call("base64.encode", {S("")})), "");
  EXPECT_EQ(Str(Call("base64.decode", {S("aGVsbG8=")})), "hello");
  EXPECT_EQ(Str(Call("base64.decode", {S("c3ViamVjdHM/X2Q=")})), "subjects?_d");
  EXPECT_EQ(Str(Call("base64.decode", {S("aGVs\nbG8=")})), "hello");
  ExpectError(Call("base64.decode", {S("aGVsbG8")}), kBuiltinError,
              "illegal base64 data at input byte 4");
  ExpectError(Call("base64.decode", {S("a!==")}), kBuiltinError,
              "illegal base64 data at input byte 1");
  EXPECT_EQ(Ok(Call("base64.is_valid", {S("aGVsbG8=")})), "true");
  EXPECT_EQ(Ok(Call("base64.is_valid", {S("aGVsbG8")})), "false");
  EXPECT_EQ(Ok(Call("base64.is_valid", {I(1)})), "false");
}

TEST(Base64BuiltinsTest, UrlVariants) {
  EXPECT_EQ(Str(Call("base64url.encode", {S("hello")})), "aGVsbG8=");
  EXPECT_EQ(Str(Call("base64url.encode", {S("subjects?_d")})), "c3ViamVjdHM_X2Q=");
  EXPECT_EQ(Str(Call("base64url.encode_no_pad", {S("hello")})), "aGVsbG8");
  EXPECT_EQ(Str(Call("base64url.decode", {S("aGVsbG8=")})), "hello");
  EXPECT_EQ(Str(Call("base64url.decode", {S("aGVsbG8")})), "hello");
  EXPECT_EQ(Str(Call("base64url.decode", {S("c3ViamVjdHM_X2Q")})), "subjects?_d");
  ExpectError(Call("base64url.decode", {S("aGVsb")}), kBuiltinError,
              "illegal base64url string: aGVsb");
}

TEST(HexBuiltinsTest, EncodeDecode) {
  EXPECT_EQ(Str(Call("hex.encode", {S("lorem ipsum")})), "6c6f72656d20697073756d");
  EXPECT_EQ(Str(Call("hex.decode", {S("6c6F72656d20697073756d")})), "lorem ipsum");
  ExpectError(Call("hex.decode", {S("fghijkl")}), kBuiltinError, "invalid byte: U+0067 'g'");
  ExpectError(Call("hex.decode", {S("abc")}), kBuiltinError, "odd length hex string");
  ExpectError(Call("hex.decode", {S("abz")}), kBuiltinError, "invalid byte: U+007A 'z'");
}

TEST(UrlQueryBuiltinsTest, EncodeDecode) {
  EXPECT_EQ(Str(Call("urlquery.encode", {S("")})), "");
  EXPECT_EQ(Str(Call("urlquery.encode", {S("a b&c=d/é~")})), "a+b%26c%3Dd%2F%C3%A9~");
  EXPECT_EQ(Str(Call("urlquery.decode", {S("a+b%26c%3Dd%2F%C3%A9~")})), "a b&c=d/é~");
  ExpectError(Call("urlquery.decode", {S("x%zzy")}), kBuiltinError, "invalid URL escape \"%zz\"");
  ExpectError(Call("urlquery.decode", {S("x%4")}), kBuiltinError, "invalid URL escape \"%4\"");
}

TEST(UrlQueryBuiltinsTest, EncodeObject) {
  EXPECT_EQ(Str(Call("urlquery.encode_object", {J("{}")})), "");
  EXPECT_EQ(Str(Call("urlquery.encode_object", {J(R"({"c": "d", "a": "b"})")})), "a=b&c=d");
  EXPECT_EQ(Str(Call("urlquery.encode_object", {J(R"({"a": "c=b+1"})")})), "a=c%3Db%2B1");
  EXPECT_EQ(Str(Call("urlquery.encode_object", {J(R"({"a": ["b+1", "c+2"]})")})),
            "a=b%2B1&a=c%2B2");
  Object o;
  o.emplace(S("a"), Value::FromSet({S("b+1")}));
  EXPECT_EQ(Str(Call("urlquery.encode_object", {Value::FromObject(o)})), "a=b%2B1");
  ExpectError(Call("urlquery.encode_object", {J(R"({"a": 1})")}), kTypeError,
              "operand 1 values must be string, array[string], or set[string]");
  ExpectError(Call("urlquery.encode_object", {J("[]")}), kTypeError,
              "operand 1 must be object but got array");
}

TEST(UrlQueryBuiltinsTest, DecodeObject) {
  EXPECT_EQ(Ok(Call("urlquery.decode_object", {S("a=value_a1&b=value_b&a=value_a2")})),
            R"({"a":["value_a1","value_a2"],"b":["value_b"]})");
  EXPECT_EQ(Ok(Call("urlquery.decode_object", {S("a=value_a1&b")})),
            R"({"a":["value_a1"],"b":[""]})");
  EXPECT_EQ(Ok(Call("urlquery.decode_object", {S("")})), "{}");
  EXPECT_EQ(Ok(Call("urlquery.decode_object", {S("x=1+2&&y=%41")})), R"({"x":["1 2"],"y":["A"]})");
  ExpectError(Call("urlquery.decode_object", {S("a=1;b=2")}), kBuiltinError,
              "invalid semicolon separator in query");
}

TEST(YamlBuiltinsTest, IsValid) {
  EXPECT_EQ(Ok(Call("yaml.is_valid", {S("foo:\n- qux: bar\n- baz: 2")})), "true");
  EXPECT_EQ(Ok(Call("yaml.is_valid", {S("foo:\n- qux: bar\n- baz: {")})), "false");
  EXPECT_EQ(Ok(Call("yaml.is_valid", {S(R"({"json": "ok"})")})), "true");
  EXPECT_EQ(Ok(Call("yaml.is_valid", {I(1)})), "false");
}

TEST(YamlBuiltinsTest, UnmarshalTypesScalarsLikeGoYaml) {
  EXPECT_EQ(Ok(Call("yaml.unmarshal", {S("foo:\n- qux: bar\n- baz: 2")})),
            R"({"foo":[{"qux":"bar"},{"baz":2}]})");
  EXPECT_EQ(Ok(Call("yaml.unmarshal",
                    {S("a: yes\nb: off\nc: ~\nd: 0x1F\ne: 1.5\nf: '1.5'\ng: 1_000\nh: 017\n"
                       "i: \"true\"\nj: 2001-12-14\n")})),
            R"({"a":true,"b":false,"c":null,"d":31,"e":1.5,"f":"1.5","g":1000,"h":15,)"
            R"("i":"true","j":"2001-12-14T00:00:00Z"})");
  EXPECT_EQ(Ok(Call("yaml.unmarshal", {S("1: one\ntrue: t\n")})), R"({"1":"one","true":"t"})");
  EXPECT_EQ(Ok(Call("yaml.unmarshal", {S("base: &b {x: 1, z: 2}\nderived:\n  <<: *b\n  z: 3\n")})),
            R"({"base":{"x":1,"z":2},"derived":{"x":1,"z":3}})");
  EXPECT_EQ(Ok(Call("yaml.unmarshal", {S("y: n")})), R"({"true":false})");  // YAML 1.1 booleans
  EXPECT_EQ(Ok(Call("yaml.unmarshal", {S("")})), "null");
  EXPECT_EQ(Ok(Call("yaml.unmarshal", {S("hello")})), R"("hello")");
  ExpectError(Call("yaml.unmarshal", {S("a: [")}), kBuiltinError, "yaml.unmarshal");
  ExpectError(Call("yaml.unmarshal", {S("a: .inf")}), kBuiltinError, "unsupported value");
  EXPECT_EQ(Builtins().Find("yaml.marshal"), nullptr);
}

TEST(EncodingBuiltinsTest, AllRegistered) {
  for (const char* name :
       {"json.marshal", "json.marshal_with_options", "json.unmarshal", "json.is_valid",
        "base64.encode", "base64.decode", "base64.is_valid", "base64url.encode",
        "base64url.encode_no_pad", "base64url.decode", "hex.encode", "hex.decode",
        "urlquery.encode", "urlquery.decode", "urlquery.encode_object", "urlquery.decode_object"}) {
    EXPECT_NE(Builtins().Find(name), nullptr) << name;
  }
}

}  // namespace
}  // namespace mcpgw::rego
