#include "rego/cli.h"

#include <gtest/gtest.h>

#include <sstream>

#include "common/temp_dir.h"
#include "rego/value.h"

namespace mcpgw::rego {
namespace {

class PolicyCliTest : public ::testing::Test {
 protected:
  std::string Write(const std::string& rel, const std::string& text) {
    return dir_.Write(rel, text);
  }
  std::string Path(const std::string& rel = "") const { return dir_.Path(rel); }

  int Test(std::vector<std::string> paths, bool verbose = false) {
    out_.str("");
    err_.str("");
    PolicyTestOptions o;
    o.paths = std::move(paths);
    o.verbose = verbose;
    return RunPolicyTest(o, out_, err_);
  }
  int Eval(const std::string& query, std::vector<std::string> data = {},
           const std::string& input = "", const std::string& format = "json") {
    out_.str("");
    err_.str("");
    PolicyEvalOptions o;
    o.query = query;
    o.data_paths = std::move(data);
    o.input_path = input;
    o.format = format;
    return RunPolicyEval(o, out_, err_);
  }
  Value OutJson() const {
    auto v = Value::ParseJson(out_.str());
    EXPECT_TRUE(v.ok()) << out_.str();
    return v.ok() ? *v : Value();
  }
  static Value Json(const std::string& text) {
    auto v = Value::ParseJson(text);
    EXPECT_TRUE(v.ok()) << text;
    return v.ok() ? *v : Value();
  }

  TempDir dir_{"rego_cli_"};
  std::ostringstream out_;
  std::ostringstream err_;
};

constexpr const char* kPolicy = R"(package authz

default allow := false

allow if input.user == "alice"

allow if data.admins[input.user]

limit := 10
)";

constexpr const char* kTests = R"(package authz_test

import data.authz

test_alice_allowed if {
  authz.allow with input as {"user": "alice"}
}

test_admin_allowed if {
  authz.allow with input as {"user": "root"}
}

test_bob_denied if {
  not authz.allow with input as {"user": "bob"}
}

todo_test_later if {
  false
}
)";

TEST_F(PolicyCliTest, PassingTestsExitZero) {
  Write("policy/authz.rego", kPolicy);
  Write("policy/authz_test.rego", kTests);
  Write("policy/data.json", R"({"admins": {"root": true}})");
  EXPECT_EQ(Test({Path("policy")}), 0) << out_.str() << err_.str();
  EXPECT_NE(out_.str().find("PASS: 3/4"), std::string::npos) << out_.str();
  EXPECT_NE(out_.str().find("SKIPPED: 1/4"), std::string::npos) << out_.str();
  EXPECT_NE(out_.str().find("3 passed, 0 failed"), std::string::npos) << out_.str();
  // Not verbose: passing tests are not listed.
  EXPECT_EQ(out_.str().find("test_alice_allowed"), std::string::npos) << out_.str();
}

TEST_F(PolicyCliTest, VerboseListsEveryTest) {
  Write("policy/authz.rego", kPolicy);
  std::string tests = Write("policy/authz_test.rego", kTests);
  Write("policy/data.json", R"({"admins": {"root": true}})");
  EXPECT_EQ(Test({Path("policy")}, true), 0) << out_.str() << err_.str();
  std::string o = out_.str();
  EXPECT_NE(o.find(tests + ":\n"), std::string::npos) << o;
  EXPECT_NE(o.find("data.authz_test.test_alice_allowed: PASS ("), std::string::npos) << o;
  EXPECT_NE(o.find("data.authz_test.test_bob_denied: PASS ("), std::string::npos) << o;
  EXPECT_NE(o.find("data.authz_test.todo_test_later: SKIPPED"), std::string::npos) << o;
}

TEST_F(PolicyCliTest, FailingTestExitsOne) {
  Write("authz.rego", kPolicy);
  Write("authz_test.rego", R"(package authz_test

import data.authz

test_ok if authz.limit == 10

test_wrong if authz.limit == 11

test_false := false
)");
  EXPECT_EQ(Test({Path()}), 1);
  std::string o = out_.str();
  EXPECT_NE(o.find("data.authz_test.test_wrong: FAIL ("), std::string::npos) << o;
  EXPECT_NE(o.find("data.authz_test.test_false: FAIL ("), std::string::npos) << o;
  EXPECT_EQ(o.find("test_ok"), std::string::npos) << o;
  EXPECT_NE(o.find("PASS: 1/3"), std::string::npos) << o;
  EXPECT_NE(o.find("FAIL: 2/3"), std::string::npos) << o;
  EXPECT_NE(o.find("1 passed, 2 failed"), std::string::npos) << o;
}

TEST_F(PolicyCliTest, ErroringTestIsReported) {
  Write("t.rego", R"(package t

x := 1 if input.a
x := 2 if input.a

test_conflict if {
  x == 1 with input as {"a": true}
}

test_fine if true
)");
  EXPECT_EQ(Test({Path()}), 1);
  std::string o = out_.str();
  EXPECT_NE(o.find("data.t.test_conflict: ERROR ("), std::string::npos) << o;
  EXPECT_NE(o.find("complete rules must not produce multiple outputs"), std::string::npos) << o;
  EXPECT_NE(o.find("ERROR: 1/2"), std::string::npos) << o;
  EXPECT_NE(o.find("1 passed, 1 failed"), std::string::npos) << o;
}

TEST_F(PolicyCliTest, CompileErrorExitsTwo) {
  Write("bad.rego", "package bad\n\np if {\n");
  EXPECT_EQ(Test({Path()}), 2);
  EXPECT_NE(err_.str().find("bad.rego"), std::string::npos) << err_.str();
}

TEST_F(PolicyCliTest, MissingPathExitsTwo) {
  EXPECT_EQ(Test({Path("nope")}), 2);
  EXPECT_FALSE(err_.str().empty());
}

TEST_F(PolicyCliTest, NoTests) {
  Write("authz.rego", kPolicy);
  EXPECT_EQ(Test({Path()}), 0);
  EXPECT_NE(out_.str().find("no tests found"), std::string::npos) << out_.str();
}

TEST_F(PolicyCliTest, EvalDefined) {
  std::string p = Write("authz.rego", kPolicy);
  std::string in = Write("input.json", R"({"user": "alice"})");
  EXPECT_EQ(Eval("data.authz.allow", {p}, in), 0) << out_.str();
  EXPECT_EQ(OutJson(), Json(R"({"result": [{"expressions": [
      {"value": true, "text": "data.authz.allow", "location": {"row": 1, "col": 1}}]}]})"));
  // OPA's layout: two-space indentation.
  EXPECT_EQ(out_.str().rfind("{\n  \"result\": [\n    {\n      \"expressions\": [", 0), 0u)
      << out_.str();
}

TEST_F(PolicyCliTest, EvalBindingsAndSeveralExpressions) {
  std::string p = Write("authz.rego", kPolicy);
  Write("data/admins.json", R"({"admins": {"root": true, "ops": true}})");
  EXPECT_EQ(Eval("data.admins[x]; y := data.authz.limit", {p, Path("data")}), 0) << out_.str();
  EXPECT_EQ(OutJson(), Json(R"({"result": [
      {"expressions": [
         {"value": true, "text": "data.admins[x]", "location": {"row": 1, "col": 1}},
         {"value": true, "text": "y := data.authz.limit", "location": {"row": 1, "col": 17}}],
       "bindings": {"x": "ops", "y": 10}},
      {"expressions": [
         {"value": true, "text": "data.admins[x]", "location": {"row": 1, "col": 1}},
         {"value": true, "text": "y := data.authz.limit", "location": {"row": 1, "col": 17}}],
       "bindings": {"x": "root", "y": 10}}]})"));
}

TEST_F(PolicyCliTest, EvalUndefinedPrintsEmptyObject) {
  std::string p = Write("authz.rego", kPolicy);
  EXPECT_EQ(Eval("data.authz.nothing", {p}), 0);
  EXPECT_EQ(out_.str(), "{}\n");
}

TEST_F(PolicyCliTest, EvalFalseIsDefined) {
  std::string p = Write("authz.rego", kPolicy);
  EXPECT_EQ(Eval("data.authz.allow", {p}), 0);
  EXPECT_EQ(OutJson(), Json(R"({"result": [{"expressions": [
      {"value": false, "text": "data.authz.allow", "location": {"row": 1, "col": 1}}]}]})"));
}

TEST_F(PolicyCliTest, EvalErrorPrintsOpaErrorJson) {
  std::string p = Write("e.rego", "package e\n\nx := 1 if input.a\nx := 2 if input.a\n");
  std::string in = Write("in.json", R"({"a": true})");
  EXPECT_EQ(Eval("data.e.x", {p}, in), 1);
  Value v = OutJson();
  const Value* errors = v.Get("errors");
  ASSERT_NE(errors, nullptr) << out_.str();
  ASSERT_TRUE(errors->is_array());
  ASSERT_EQ(errors->size(), 1u);
  const Value& e = errors->array()[0];
  ASSERT_NE(e.Get("code"), nullptr) << out_.str();
  EXPECT_EQ(*e.Get("code"), Value::String("eval_conflict_error")) << out_.str();
  ASSERT_NE(e.Get("message"), nullptr);
  EXPECT_NE(e.Get("message")->str().find("complete rules must not produce multiple outputs"),
            std::string::npos)
      << out_.str();
  EXPECT_EQ(v.Get("result"), nullptr);
}

TEST_F(PolicyCliTest, EvalParseErrorHasLocation) {
  std::string p = Write("bad.rego", "package bad\n\np if {\n");
  EXPECT_EQ(Eval("data.bad.p", {p}), 1);
  Value v = OutJson();
  const Value* errors = v.Get("errors");
  ASSERT_NE(errors, nullptr) << out_.str();
  const Value& e = errors->array()[0];
  EXPECT_EQ(*e.Get("code"), Value::String("rego_parse_error")) << out_.str();
  const Value* loc = e.Get("location");
  ASSERT_NE(loc, nullptr) << out_.str();
  EXPECT_EQ(*loc->Get("file"), Value::String(p)) << out_.str();
}

TEST_F(PolicyCliTest, EvalStrictBuiltinErrorIsNotRaisedByDefault) {
  // OPA's eval is not strict: a failing built-in makes the expression undefined.
  EXPECT_EQ(Eval("x := 1 / 0"), 0);
  EXPECT_EQ(out_.str(), "{}\n");
}

TEST_F(PolicyCliTest, EvalRawFormat) {
  std::string p = Write("authz.rego", kPolicy);
  EXPECT_EQ(Eval("data.authz.limit; \"hi\"", {p}, "", "raw"), 0);
  EXPECT_EQ(out_.str(), "10 hi\n");
}

TEST_F(PolicyCliTest, EvalUnknownFormatIsAUsageError) {
  EXPECT_EQ(Eval("true", {}, "", "pretty"), 2);
}

TEST_F(PolicyCliTest, EvalEscapesLikeGo) {
  EXPECT_EQ(Eval("x := \"<a&b>\""), 0);
  EXPECT_NE(out_.str().find(R"("x": "\u003ca\u0026b\u003e")"), std::string::npos) << out_.str();
}

TEST_F(PolicyCliTest, EvalMissingInputFile) {
  EXPECT_EQ(Eval("true", {}, Path("missing.json")), 1);
  EXPECT_NE(out_.str().find("\"errors\""), std::string::npos) << out_.str();
}

}  // namespace
}  // namespace mcpgw::rego
