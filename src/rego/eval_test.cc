// Batch evaluation (Policy::EvalPathBatch) and the input-dependency analysis it rests on.
#include <gtest/gtest.h>

#include <algorithm>

#include "rego/compiled.h"
#include "rego/engine.h"

namespace mcpgw::rego {
namespace {

constexpr const char* kPolicy = R"(package mcp.authz

default allow := false

allow if {
  is_admin
  input.resource.kind == "tool"
}

allow if {
  input.resource.tool in input.user.tools
  not blocked
}

is_admin if "admin" in input.user.roles

blocked if input.resource.tool in data.mcp.blocked

hours := data.mcp.hours

whole := input

dynamic := input[k] if k := "user"

via_function := f(1)

f(x) := [x, input.env]

package_copy := data.mcp.other

conflict := 1 if input.resource.tool == "twice"

conflict := 2 if input.resource.tool == "twice"

uses_conflict if conflict

# `with input` inside a batch item: the item's own members must be the ones replaced.
tool_now := input.resource.tool

env_now := input.env

tool_with_env := [t, e] if {
  t := tool_now with input.env as "prod"
  e := env_now with input.env as "prod"
}
)";

constexpr const char* kOther = R"(package mcp.other

p := input.user.name
)";

Value Json(const char* text) {
  auto v = Value::ParseJson(text);
  EXPECT_TRUE(v.ok()) << text;
  return v.ok() ? *v : Value();
}

Value Input(const std::string& tool, const std::string& roles, const std::string& user = "ann") {
  return Json(("{\"env\": \"dev\", \"user\": {\"name\": \"" + user + "\", \"roles\": " + roles +
               ", \"tools\": [\"a\", \"b\", \"twice\"]}, \"resource\": {\"kind\": \"tool\", "
               "\"tool\": \"" +
               tool + "\"}}")
                  .c_str());
}

Value Resource(const std::string& tool) {
  return MakeObject({{"kind", Value::String("tool")}, {"tool", Value::String(tool)}});
}

Value User(const std::string& roles, const std::string& name = "ann") {
  return Json(("{\"name\": \"" + name + "\", \"roles\": " + roles +
               ", \"tools\": [\"a\", \"b\", \"twice\"]}")
                  .c_str());
}

class BatchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto p = Policy::Compile({{"authz.rego", kPolicy}, {"other.rego", kOther}},
                             Json(R"({"mcp": {"blocked": ["b"], "hours": {"start": 9}}})"));
    ASSERT_TRUE(p.ok()) << p.error().message;
    policy_ = *p;
  }
  // Each rule's batch results are those of one EvalPath per item's input.
  void ExpectBatchIsEvalPath(const std::vector<const char*>& rules, const Value& base,
                             const std::vector<Value>& items) const {
    for (const char* rule : rules) {
      std::vector<std::string> path = {"mcp", "authz", rule};
      auto batch = policy_->EvalPathBatch(path, base, items, {});
      ASSERT_EQ(batch.size(), items.size());
      for (size_t i = 0; i < items.size(); ++i) {
        Value input = WithMembers(base, items[i].object());
        auto one = policy_->EvalPath(path, &input, {});
        ASSERT_TRUE(one.ok() && batch[i].ok()) << rule << " #" << i;
        ASSERT_EQ(one->has_value(), batch[i]->has_value()) << rule << " #" << i;
        if (one->has_value()) {
          EXPECT_EQ((*one)->ToJson(), (*batch[i])->ToJson()) << rule << " #" << i;
        }
      }
    }
  }
  std::vector<bool> Allowed(const Value& base, const std::vector<Value>& items) const {
    std::vector<bool> got;
    for (const auto& r : policy_->EvalPathBatch(std::vector<std::string>{"mcp", "authz", "allow"},
                                                base, items, {})) {
      got.push_back(r.ok() && r->has_value() && (*r)->as_bool());
    }
    return got;
  }
  std::shared_ptr<const Policy> policy_;
};

TEST_F(BatchTest, GivesWhatEvalPathGivesForEveryItem) {
  const Value base = Input("a", "[]");
  std::vector<Value> items = {
      MakeObject({{"resource", Resource("a")}}), MakeObject({{"resource", Resource("b")}}),
      MakeObject({{"resource", Resource("c")}}),
      // Items may put in any member; those that read it are then computed per item.
      MakeObject({{"resource", Resource("c")}, {"user", User("[\"admin\"]")}}),
      MakeObject({{"resource", Resource("b")}, {"user", User("[\"admin\"]")}}),
      MakeObject({{"resource", Resource("a")}, {"user", User("[]", "bob")}}),
      MakeObject({{"resource", Resource("b")}}),  // the base's user again
      MakeObject({}),                             // the base itself
  };
  ExpectBatchIsEvalPath({"allow", "is_admin", "blocked", "whole", "dynamic", "via_function",
                         "package_copy", "hours", "tool_with_env", "tool_now"},
                        base, items);
  EXPECT_EQ(Allowed(base, items),
            (std::vector<bool>{true, false, false, true, true, true, false, true}));
}

// `with input...` in an item: the item's input is put together first, so the replacement
// keeps the item's members.
TEST_F(BatchTest, WithInputInsideAnItemKeepsTheItemsMembers) {
  const Value base = Input("a", "[]");
  std::vector<Value> items = {MakeObject({{"resource", Resource("b")}}),
                              MakeObject({{"resource", Resource("c")}})};
  auto r = policy_->EvalPathBatch(std::vector<std::string>{"mcp", "authz", "tool_with_env"}, base,
                                  items, {});
  ASSERT_EQ(r.size(), 2u);
  ASSERT_TRUE(r[0].ok() && r[0]->has_value());
  EXPECT_EQ((*r[0])->ToJson(), R"(["b","prod"])");
  ASSERT_TRUE(r[1].ok() && r[1]->has_value());
  EXPECT_EQ((*r[1])->ToJson(), R"(["c","prod"])");
}

TEST_F(BatchTest, AnErrorFailsOnlyItsOwnItem) {
  const Value base = Input("a", "[]");
  std::vector<Value> items = {MakeObject({{"resource", Resource("a")}}),
                              MakeObject({{"resource", Resource("twice")}}), Value::Int(7),
                              MakeObject({{"resource", Resource("a")}})};
  auto r = policy_->EvalPathBatch(std::vector<std::string>{"mcp", "authz", "uses_conflict"}, base,
                                  items, {});
  ASSERT_EQ(r.size(), 4u);
  EXPECT_TRUE(r[0].ok() && !r[0]->has_value());
  ASSERT_FALSE(r[1].ok());
  EXPECT_NE(r[1].error().message.find("eval_conflict_error"), std::string::npos);
  ASSERT_FALSE(r[2].ok());  // not an object
  EXPECT_NE(r[2].error().message.find("must be an object"), std::string::npos);
  EXPECT_TRUE(r[3].ok() && !r[3]->has_value());
}

// A later batch with the same item objects (the gateway keeps a catalog's items between lists)
// reuses what depends on the item alone; the results stay those of EvalPath, whatever the base,
// the order of the items, or which members they put in.
TEST_F(BatchTest, LaterBatchesWithTheSameItemsGiveTheSameResults) {
  std::vector<Value> items = {
      MakeObject({{"resource", Resource("a")}}),
      MakeObject({{"resource", Resource("b")}}),
      MakeObject({{"resource", Resource("twice")}}),
      MakeObject({{"resource", Resource("c")}, {"user", User("[\"admin\"]")}}),
  };
  const std::vector<const char*> rules = {"allow",        "blocked", "whole",        "tool_now",
                                          "via_function", "dynamic", "tool_with_env"};
  for (int round = 0; round < 3; ++round) {
    ExpectBatchIsEvalPath(rules, Input("a", "[]"), items);
    ExpectBatchIsEvalPath(rules, Input("b", "[\"admin\"]", "bob"), items);
    std::reverse(items.begin(), items.end());
  }
  // Only the first item puts in "user": every item's own members count, not the first's.
  std::vector<Value> mixed = {items[0], items[3], items[1]};
  ExpectBatchIsEvalPath(rules, Input("a", "[]"), mixed);
  ExpectBatchIsEvalPath(rules, Input("a", "[\"admin\"]"), mixed);
}

// What may change between two evaluations with the same input is never reused: the clock.
TEST(BatchMemoTest, DocumentsThatReadTheClockAreComputedEveryTime) {
  auto p = Policy::Compile({{"t.rego", R"(package t
stamp := [input.resource.tool, time.now_ns()]
via_rule := stamp
)"}},
                           Value::EmptyObject());
  ASSERT_TRUE(p.ok()) << p.error().message;
  const Value base = MakeObject({});
  const std::vector<Value> items = {MakeObject({{"resource", Resource("a")}})};
  for (const char* rule : {"stamp", "via_rule"}) {
    for (int64_t now : {1, 2, 3}) {
      EvalOptions o;
      o.now_ns = now;
      auto r = (*p)->EvalPathBatch(std::vector<std::string>{"t", rule}, base, items, o);
      ASSERT_EQ(r.size(), 1u);
      ASSERT_TRUE(r[0].ok() && r[0]->has_value()) << rule;
      EXPECT_EQ((*r[0])->ToJson(), "[\"a\"," + std::to_string(now) + "]") << rule;
    }
  }
}

// A built-in error is undefined without strict mode and an error with it: what a lenient batch
// learnt about an item does not hide the error from a strict one.
TEST(BatchMemoTest, StrictModeIsNotAnsweredFromALenientBatch) {
  auto p = Policy::Compile({{"t.rego", R"(package t
n := to_number(input.resource.tool)
)"}},
                           Value::EmptyObject());
  ASSERT_TRUE(p.ok()) << p.error().message;
  const std::vector<Value> items = {MakeObject({{"resource", Resource("x")}})};
  const std::vector<std::string> path = {"t", "n"};
  for (int i = 0; i < 3; ++i) {  // the first batch of a list only notes it; later ones keep
    auto lenient = (*p)->EvalPathBatch(path, MakeObject({}), items, {});
    ASSERT_TRUE(lenient[0].ok());
    EXPECT_FALSE(lenient[0]->has_value());
  }
  EvalOptions strict;
  strict.strict_builtin_errors = true;
  auto r = (*p)->EvalPathBatch(path, MakeObject({}), items, strict);
  EXPECT_FALSE(r[0].ok());
  auto again = (*p)->EvalPathBatch(path, MakeObject({}), items, {});
  ASSERT_TRUE(again[0].ok());
  EXPECT_FALSE(again[0]->has_value());
}

// Values found in the base input are kept from item to item, except after an item whose input
// was put together whole (they pointed into that input).
TEST(BatchMemoTest, BaseInputValuesSurviveAnItemReadWhole) {
  auto p = Policy::Compile({{"t.rego", R"(package t
who := [input.user.name, input.resource.tool, n]  if n := size_if_w
size_if_w := count(input) if input.resource.tool == "w"
else := 0
)"}},
                           Value::EmptyObject());
  ASSERT_TRUE(p.ok()) << p.error().message;
  const Value base = Input("a", "[]");
  const std::vector<Value> items = {
      MakeObject({{"resource", Resource("a")}}), MakeObject({{"resource", Resource("w")}}),
      MakeObject({{"resource", Resource("b")}}), MakeObject({{"resource", Resource("w")}})};
  for (int round = 0; round < 2; ++round) {
    auto r = (*p)->EvalPathBatch(std::vector<std::string>{"t", "who"}, base, items, {});
    ASSERT_EQ(r.size(), 4u);
    const char* want[] = {R"(["ann","a",0])", R"(["ann","w",3])", R"(["ann","b",0])",
                          R"(["ann","w",3])"};
    for (size_t i = 0; i < 4; ++i) {
      ASSERT_TRUE(r[i].ok() && r[i]->has_value()) << i;
      EXPECT_EQ((*r[i])->ToJson(), want[i]) << i;
    }
  }
}

TEST_F(BatchTest, EmptyBatchGivesNoResults) {
  EXPECT_TRUE(policy_
                  ->EvalPathBatch(std::vector<std::string>{"mcp", "authz", "allow"},
                                  Input("a", "[]"), {}, {})
                  .empty());
}

// The analysis itself: what each rule may read.
TEST(InputDepsTest, FollowsRulesFunctionsAndDataReferences) {
  auto c = CompileModules({{"authz.rego", kPolicy}, {"other.rego", kOther}},
                          Json(R"({"mcp": {"blocked": ["b"], "hours": {"start": 9}}})"));
  ASSERT_TRUE(c.ok()) << c.error().message;
  auto node = [&](const char* pkg, const char* rule) {
    return (*c)->Find({Value::String("mcp"), Value::String(pkg), Value::String(rule)});
  };
  auto keys = [&](const Node* n) {
    std::string s;
    if (n->reads_all_input) return std::string("*");
    for (const auto& k : n->input_keys) s += (s.empty() ? "" : ",") + k;
    return s;
  };
  EXPECT_EQ(keys(node("authz", "is_admin")), "user");
  EXPECT_EQ(keys(node("authz", "blocked")), "resource");  // data.mcp.blocked is base data
  EXPECT_EQ(keys(node("authz", "allow")), "resource,user");
  EXPECT_EQ(keys(node("authz", "hours")), "");
  EXPECT_EQ(keys(node("authz", "whole")), "*");
  EXPECT_EQ(keys(node("authz", "dynamic")), "*");
  EXPECT_EQ(keys(node("authz", "via_function")), "env");
  EXPECT_EQ(keys(node("authz", "package_copy")), "user");  // the rules of package mcp.other
  // A package's document holds its rules' documents.
  EXPECT_EQ(keys((*c)->Find({Value::String("mcp"), Value::String("authz")})), "*");
}

// Impure nodes: those that call (directly or through what they use) a built-in whose result is
// not a function of its operands.
TEST(InputDepsTest, MarksWhatReadsTheClockOrPrints) {
  auto c = CompileModules({{"t.rego", R"(package t
now := time.now_ns()
later := now + 1
token := io.jwt.decode_verify(input.t, {"secret": "s"})
id := uuid.rfc4122("x")
shown if print("x")
f(x) := x + time.now_ns()
uses_f := f(1)
pure := concat("-", [input.a, "b"])
uses_pure := [pure, count(input.b)]
)"}},
                          Value::EmptyObject());
  ASSERT_TRUE(c.ok()) << c.error().message;
  auto impure = [&](const char* rule) {
    const Node* n = (*c)->Find({Value::String("t"), Value::String(rule)});
    EXPECT_NE(n, nullptr) << rule;
    return n != nullptr && n->impure;
  };
  for (const char* rule : {"now", "later", "token", "id", "shown", "uses_f"}) {
    EXPECT_TRUE(impure(rule)) << rule;
  }
  EXPECT_FALSE(impure("pure"));
  EXPECT_FALSE(impure("uses_pure"));
}

// Rule indexing: rules guarded by `input.kind == <constant>` are only evaluated for that
// constant; the result is the same as evaluating every rule.
TEST(RuleIndexTest, SelectsRulesByTheGuardedInputValue) {
  const char* policy = R"(package t

kinds contains "a" if input.kind == "a"

kinds contains "b" if {
  some x in [1, 2]
  "b" = input.kind
}

kinds contains "any" if input.other == 1

kinds contains "one" if input.kind == 1

kinds contains "not-a" if not input.kind == "a"

with_b := x if x := kinds with input.kind as "b"
)";
  auto c = CompileModules({{"t.rego", policy}}, Value::EmptyObject());
  ASSERT_TRUE(c.ok()) << c.error().message;
  const Node* n = (*c)->Find({Value::String("t"), Value::String("kinds")});
  ASSERT_NE(n, nullptr);
  ASSERT_NE(n->index, nullptr);
  EXPECT_EQ(n->index->path, std::vector<Value>{Value::String("kind")});
  EXPECT_EQ(n->index->by_value.size(), 3u);  // "a", "b", 1; the negated guard is not one

  auto p = Policy::Compile({{"t.rego", policy}}, Value::EmptyObject());
  ASSERT_TRUE(p.ok()) << p.error().message;
  auto eval = [&](const char* rule, const char* input) {
    Value in = Json(input);
    auto r = (*p)->EvalPath(std::vector<std::string>{"t", rule}, &in, {});
    return r.ok() && r->has_value() ? (*r)->ToJson() : std::string("undefined");
  };
  EXPECT_EQ(eval("kinds", R"({"kind": "a", "other": 1})"), R"(["a","any"])");
  EXPECT_EQ(eval("kinds", R"({"kind": "b"})"), R"(["b","not-a"])");
  EXPECT_EQ(eval("kinds", R"({"kind": 1.0})"), R"(["not-a","one"])");
  EXPECT_EQ(eval("kinds", R"({})"), R"(["not-a"])");
  EXPECT_EQ(eval("with_b", R"({"kind": "a", "other": 1})"), R"(["any","b","not-a"])");
}

// http.send is not supported (no network calls from the PDP): a policy that uses it is refused
// at load time unless its tests replace it, and an unreplaced call is an evaluation error.
TEST(HttpSendTest, AcceptedOnlyWhenMockedAndNeverCalledForReal) {
  const char* uses = R"(package t

roles := http.send({"method": "GET", "url": "http://idp/roles"}).body
)";
  auto refused = Policy::Compile({{"t.rego", uses}}, Value::EmptyObject());
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("undefined function http.send"), std::string::npos);

  const char* test = R"(package t

mock(_) := {"body": ["admin"]}

test_roles if roles == ["admin"] with http.send as mock
)";
  auto p = Policy::Compile({{"t.rego", uses}, {"t_test.rego", test}}, Value::EmptyObject());
  ASSERT_TRUE(p.ok()) << p.error().message;
  Value in = Value::EmptyObject();
  auto mocked = (*p)->EvalPath(std::vector<std::string>{"t", "test_roles"}, &in, {});
  ASSERT_TRUE(mocked.ok()) << mocked.error().message;
  ASSERT_TRUE(mocked->has_value());
  EXPECT_TRUE((*mocked)->as_bool());
  auto real = (*p)->EvalPath(std::vector<std::string>{"t", "roles"}, &in, {});
  ASSERT_FALSE(real.ok());
  EXPECT_NE(real.error().message.find("http.send: not supported by the embedded engine"),
            std::string::npos)
      << real.error().message;
}

// concat(sep, [a, b, ...]) with the array written out is joined without building the array;
// whatever that way does not cover goes the general way, so the answers are the built-in's.
TEST(ConcatArrayTest, AnswersAsTheBuiltinDoes) {
  auto p = Policy::Compile({{"c.rego", R"(package c
words := ["x", "y"]
plain := concat("-", ["a", input.b, "c"])
undefined_item := concat("-", ["a", input.missing])
not_a_string := concat("-", ["a", 1])
bad_separator := concat(1, ["a"])
each contains s if s := concat("/", ["w", words[_]])
empty := concat(",", [])
)"}},
                           Json("{}"));
  ASSERT_TRUE(p.ok()) << p.error().message;
  const Value input = Json(R"({"b": "B"})");
  auto eval = [&](const char* rule, bool strict = false) {
    EvalOptions o;
    o.strict_builtin_errors = strict;
    return (*p)->EvalPath(std::vector<std::string>{"c", rule}, &input, o);
  };
  EXPECT_EQ((*eval("plain"))->str(), "a-B-c");
  EXPECT_FALSE(eval("undefined_item")->has_value());
  EXPECT_FALSE(eval("not_a_string")->has_value());  // a type error: undefined unless strict
  auto strict = eval("not_a_string", true);
  ASSERT_FALSE(strict.ok());
  EXPECT_NE(strict.error().message.find("concat"), std::string::npos) << strict.error().message;
  EXPECT_FALSE(eval("bad_separator", true).ok());
  EXPECT_EQ((*eval("each"))->ToJson(), R"(["w/x","w/y"])");  // an item with several values
  EXPECT_EQ((*eval("empty"))->str(), "");
}

}  // namespace
}  // namespace mcpgw::rego
