#include <gtest/gtest.h>

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
std::string Eval(std::string_view name, std::initializer_list<std::string_view> json_args) {
  std::vector<Value> args;
  for (auto j : json_args) args.push_back(TestValue(j));
  auto r = Call(name, std::move(args));
  if (!r) return "error(" + std::to_string(r.error().code) + "): " + r.error().message;
  return r->ToString();
}

const std::string kType = "error(" + std::to_string(kTypeError) + "): ";
const std::string kBuiltin = "error(" + std::to_string(kBuiltinError) + "): ";
const std::string kUndef = "error(" + std::to_string(kUndefined) + "): undefined";

TEST(CollectionBuiltins, ArrayConcatSliceReverse) {
  EXPECT_EQ(Eval("array.concat", {"[1, 2]", "[3, 4]"}), "[1, 2, 3, 4]");
  EXPECT_EQ(Eval("array.concat", {R"({"v1": "hello"})", "[3, 4]"}),
            kType + "array.concat: operand 1 must be array but got object");
  EXPECT_EQ(Eval("array.concat", {"[1, 2]", "{}"}),
            kType + "array.concat: operand 2 must be array but got object");
  EXPECT_EQ(Eval("array.slice", {"[1, 2, 3, 4, 5]", "1", "3"}), "[2, 3]");
  EXPECT_EQ(Eval("array.slice", {"[1, 2, 3]", "0", "0"}), "[]");
  EXPECT_EQ(Eval("array.slice", {"[1, 2, 3, 4, 5]", "-1", "2"}), "[1, 2]");
  EXPECT_EQ(Eval("array.slice", {"[1, 2, 3, 4, 5]", "3", "6"}), "[4, 5]");
  EXPECT_EQ(Eval("array.slice", {"[]", "1000", "2000"}), "[]");
  EXPECT_EQ(Eval("array.slice", {"[1, 2, 3]", "1000", "2000"}), "[]");
  EXPECT_EQ(Eval("array.slice", {"[1, 2, 3]", "2", "1"}), "[]");
  EXPECT_EQ(Eval("array.slice", {"[1, 2, 3]", "0.5", "1"}),
            kType + "array.slice: operand 2 must be integer number but got floating-point number");
  EXPECT_EQ(Eval("array.reverse", {"[1, 2, 3]"}), "[3, 2, 1]");
  EXPECT_EQ(Eval("array.reverse", {"[]"}), "[]");
  EXPECT_EQ(Eval("array.reverse", {"\"abc\""}),
            kType + "array.reverse: operand 1 must be array but got string");
}

TEST(CollectionBuiltins, ArrayFlattenOneLevel) {
  EXPECT_EQ(Eval("array.flatten", {"[]"}), "[]");
  EXPECT_EQ(Eval("array.flatten", {"[[1, 2], [3, 4], [5]]"}), "[1, 2, 3, 4, 5]");
  EXPECT_EQ(Eval("array.flatten", {"[[[1], [2, 3, []]], [[4, 5]]]"}), "[[1], [2, 3, []], [4, 5]]");
  EXPECT_EQ(Eval("array.flatten", {R"([[1, 2], "string", [3, {"a": "b"}], 4.5, [6, [7, 8]]])"}),
            R"([1, 2, "string", 3, {"a": "b"}, 4.5, 6, [7, 8]])");
  EXPECT_EQ(Eval("array.flatten", {"42"}),
            kType + "array.flatten: operand 1 must be array but got number");
}

TEST(CollectionBuiltins, IntersectionAndUnionOfSets) {
  EXPECT_EQ(Eval("intersection", {R"({"$set": [{"$set": []}, {"$set": [1, 2]}]})"}), "set()");
  EXPECT_EQ(Eval("intersection", {R"({"$set": [{"$set": [1, 2, 3]}, {"$set": [2]}]})"}), "{2}");
  EXPECT_EQ(Eval("intersection", {R"({"$set": [{"$set": ["a", "b", "c", "d"]},
                                              {"$set": ["b", "c", "d"]}, {"$set": ["c", "d"]},
                                              {"$set": ["d"]}]})"}),
            "{\"d\"}");
  EXPECT_EQ(Eval("intersection", {R"({"$set": []})"}), "set()");
  EXPECT_EQ(Eval("union", {R"({"$set": [{"$set": []}, {"$set": [1, 2]}]})"}), "{1, 2}");
  EXPECT_EQ(Eval("union", {R"({"$set": [{"$set": [1, 2, 3]}, {"$set": [2, 3, 4]},
                                       {"$set": [4, 5, 6]}]})"}),
            "{1, 2, 3, 4, 5, 6}");
  EXPECT_EQ(Eval("union", {"[1]"}), kType + "union: operand 1 must be set but got array");
  EXPECT_EQ(Eval("union", {R"({"$set": [1]})"}),
            kType + "union: operand 1 must be set of sets but got set containing number");
}

TEST(CollectionBuiltins, ObjectGet) {
  EXPECT_EQ(Eval("object.get", {R"({"a": "b"})", "\"a\"", "\"c\""}), "\"b\"");
  EXPECT_EQ(Eval("object.get", {R"({"a": "b"})", "\"c\"", "\"c\""}), "\"c\"");
  EXPECT_EQ(Eval("object.get", {R"({"$obj": [[1, 2]]})", "1", "3"}), "2");
  EXPECT_EQ(Eval("object.get", {R"({"a": {"b": "c"}})", "\"a\"", "true"}), R"({"b": "c"})");
  EXPECT_EQ(Eval("object.get", {R"({"a": 1})", "[]", "2"}), R"({"a": 1})");
  EXPECT_EQ(Eval("object.get", {R"({"a": {"b": {"c": 1}}})", R"(["a", "b", "c"])", "2"}), "1");
  EXPECT_EQ(Eval("object.get", {R"({"a": {"b": {"c": 1}}})", R"(["a", "b", "a"])", "2"}), "2");
  EXPECT_EQ(Eval("object.get", {R"({"a": {"b": 1}})", R"(["b", "a"])", "2"}), "2");
  EXPECT_EQ(Eval("object.get", {R"({"$obj": [[1, {"b": {"$obj": [[[1, 2, 3], 1]]}}]]})",
                                R"([1, "b", [1, 2, 3]])", "2"}),
            "1");
  EXPECT_EQ(Eval("object.get", {R"({"a": {"b": [1, 2, 3]}})", R"(["a", "b", "a"])", "2"}), "2");
  EXPECT_EQ(Eval("object.get", {R"({"a": {"b": [{"c": 1}]}})", R"(["a", "b", 0, "c"])", "2"}), "1");
  EXPECT_EQ(Eval("object.get", {R"({"a": {"$set": ["x"]}})", R"(["a", "x"])", "2"}), "\"x\"");
  EXPECT_EQ(Eval("object.get", {"\"object\"", R"(["a"])", "2"}),
            kType + "object.get: operand 1 must be object but got string");
}

TEST(CollectionBuiltins, ObjectKeys) {
  EXPECT_EQ(Eval("object.keys", {R"({"a": 1, "b": 2})"}), R"({"a", "b"})");
  EXPECT_EQ(Eval("object.keys", {R"({"$obj": [[1, 1], [2, 2]]})"}), "{1, 2}");
  EXPECT_EQ(Eval("object.keys", {R"({"$obj": [[["a"], 1], [["b"], 2]]})"}), R"({["a"], ["b"]})");
  EXPECT_EQ(Eval("object.keys", {"{}"}), "set()");
  EXPECT_EQ(Eval("object.keys", {"\"object\""}),
            kType + "object.keys: operand 1 must be object but got string");
}

TEST(CollectionBuiltins, ObjectRemove) {
  const char* obj = R"({"a": 1, "b": {"c": 3}, "d": 4})";
  EXPECT_EQ(Eval("object.remove", {obj, R"({"$set": ["a"]})"}), R"({"b": {"c": 3}, "d": 4})");
  EXPECT_EQ(Eval("object.remove", {obj, R"({"$set": ["b", "d"]})"}), R"({"a": 1})");
  EXPECT_EQ(Eval("object.remove", {obj, R"(["d", "b"])"}), R"({"a": 1})");
  EXPECT_EQ(Eval("object.remove", {obj, R"({"b": 1, "d": ""})"}), R"({"a": 1})");
  EXPECT_EQ(Eval("object.remove", {"{}", R"({"$set": ["a", "b"]})"}), "{}");
  EXPECT_EQ(Eval("object.remove", {obj, R"({"$set": ["z"]})"}),
            R"({"a": 1, "b": {"c": 3}, "d": 4})");
  EXPECT_EQ(Eval("object.remove", {R"({"$obj": [["a", 1], [[[7]], 2]]})", R"({"$set": [[[7]]]})"}),
            R"({"a": 1})");
  EXPECT_EQ(Eval("object.remove", {"[\"a\"]", R"({"$set": ["a"]})"}),
            kType + "object.remove: operand 1 must be object but got array");
  EXPECT_EQ(Eval("object.remove", {R"({"a": 1})", "null"}),
            kType + "object.remove: operand 2 must be one of {object, set, array} but got null");
}

TEST(CollectionBuiltins, ObjectFilter) {
  const char* obj = R"({"a": 1, "b": 2, "c": 3, "e": 9})";
  EXPECT_EQ(Eval("object.filter", {obj, R"({"$set": ["a", "e"]})"}), R"({"a": 1, "e": 9})");
  EXPECT_EQ(Eval("object.filter", {obj, R"(["a", "e"])"}), R"({"a": 1, "e": 9})");
  EXPECT_EQ(Eval("object.filter", {obj, R"({"a": "foo", "e": ""})"}), R"({"a": 1, "e": 9})");
  EXPECT_EQ(Eval("object.filter", {R"({"a": {"b": {"c": 7}}, "e": 9})", R"({"$set": ["a"]})"}),
            R"({"a": {"b": {"c": 7}}})");
  EXPECT_EQ(Eval("object.filter", {obj, R"({"$set": []})"}), "{}");
  EXPECT_EQ(Eval("object.filter", {obj, "{}"}), "{}");
  EXPECT_EQ(Eval("object.filter", {R"({"$obj": [["a", 1], [[[7]], 2]]})", R"({"$set": [[[7]]]})"}),
            "{[[7]]: 2}");
  EXPECT_EQ(Eval("object.filter", {"null", R"({"$set": ["a"]})"}),
            kType + "object.filter: operand 1 must be object but got null");
  EXPECT_EQ(Eval("object.filter", {R"({"a": 1})", "\"foo\""}),
            kType + "object.filter: operand 2 must be one of {object, set, array} but got string");
}

TEST(CollectionBuiltins, ObjectUnion) {
  EXPECT_EQ(Eval("object.union", {"{}", "{}"}), "{}");
  EXPECT_EQ(Eval("object.union", {"{}", R"({"a": 1})"}), R"({"a": 1})");
  EXPECT_EQ(Eval("object.union", {R"({"a": {"b": {"c": 1}}})", R"({"b": 2})"}),
            R"({"a": {"b": {"c": 1}}, "b": 2})");
  EXPECT_EQ(Eval("object.union", {R"({"a": 1})", R"({"a": 2})"}), R"({"a": 2})");
  EXPECT_EQ(Eval("object.union", {R"({"a": 1})", R"({"a": {"b": {"c": 1}}, "d": 7})"}),
            R"({"a": {"b": {"c": 1}}, "d": 7})");
  EXPECT_EQ(Eval("object.union", {R"({"a": {"b": {"c": 1}}, "e": 1})",
                                  R"({"a": {"b": "foo", "b1": "bar"}, "d": 7, "e": 17})"}),
            R"({"a": {"b": "foo", "b1": "bar"}, "d": 7, "e": 17})");
  EXPECT_EQ(Eval("object.union", {R"({"a": {"x": 1}})", R"({"a": {"y": 2}})"}),
            R"({"a": {"x": 1, "y": 2}})");
  EXPECT_EQ(Eval("object.union", {"[1, 2, 3]", R"({"b": 2})"}),
            kType + "object.union: operand 1 must be object but got array");
  EXPECT_EQ(Eval("object.union", {R"({"a": 1})", "[1, 2, 3]"}),
            kType + "object.union: operand 2 must be object but got array");
}

TEST(CollectionBuiltins, ObjectUnionN) {
  EXPECT_EQ(Eval("object.union_n", {"[{}]"}), "{}");
  EXPECT_EQ(Eval("object.union_n", {"[]"}), "{}");
  EXPECT_EQ(Eval("object.union_n", {R"([{"foo": "bar"}, {"x": "y"}])"}),
            R"({"foo": "bar", "x": "y"})");
  EXPECT_EQ(Eval("object.union_n", {R"([{"foo": "bar"}, {"foo": "baz"}])"}), R"({"foo": "baz"})");
  EXPECT_EQ(Eval("object.union_n", {R"([{"a": 1, "b": 2, "c": 3},
                                        {"foo": "baz", "a": "a", "b": 2, "d": 4},
                                        {"a": "final A!", "e": 5.0}])"}),
            R"({"a": "final A!", "b": 2, "c": 3, "d": 4, "e": 5, "foo": "baz"})");
  // A non-object in between stops earlier objects from merging with later ones.
  EXPECT_EQ(Eval("object.union_n", {R"([{"a": {"b": 2}}, {"a": 4}, {"a": {"c": 3}}])"}),
            R"({"a": {"c": 3}})");
  EXPECT_EQ(Eval("object.union_n", {R"([{"foo": 1}, {"bar": 2}, "baz"])"}),
            kType +
                "object.union_n: operand 1 must be array of objects but got array containing "
                "string");
}

TEST(CollectionBuiltins, ObjectSubset) {
  const char* a = R"({"a": 5, "b": 7, "c": 15, "nested": {"x": 10, "y": 15, "z": 20,
                      "set1": {"$set": [1, 2, 3, 4]}, "arr1": [6, 7, 8, 9]}})";
  const char* b = R"({"a": 5, "nested": {"x": 10, "y": 15, "set1": {"$set": [4, 1]},
                      "arr1": [6, 7]}})";
  EXPECT_EQ(Eval("object.subset", {a, b}), "true");
  EXPECT_EQ(Eval("object.subset", {b, a}), "false");
  EXPECT_EQ(Eval("object.subset", {R"({"a": 5, "b": 7})", R"({"a": 5, "b": 10})"}), "false");
  EXPECT_EQ(Eval("object.subset", {R"({"$set": [1, 2, 3]})", R"({"$set": [3, 2]})"}), "true");
  EXPECT_EQ(Eval("object.subset", {R"({"$set": [3, 2]})", R"({"$set": [1, 2, 3]})"}), "false");
  // Sets are not matched recursively.
  EXPECT_EQ(Eval("object.subset", {R"({"$set": [1, 2, 3, {"$set": ["a", "b", "c"]}]})",
                                   R"({"$set": [3, 2, {"$set": ["a", "b"]}]})"}),
            "false");
  const char* arr = "[1, 2, 3, 4, 5, 6]";
  EXPECT_EQ(Eval("object.subset", {arr, "[3, 4, 5]"}), "true");
  EXPECT_EQ(Eval("object.subset", {arr, "[1, 2, 3]"}), "true");
  EXPECT_EQ(Eval("object.subset", {arr, "[4, 5, 6]"}), "true");
  EXPECT_EQ(Eval("object.subset", {arr, arr}), "true");
  EXPECT_EQ(Eval("object.subset", {arr, "[4, 5, 6, 8]"}), "false");
  EXPECT_EQ(Eval("object.subset", {arr, "[1, 3]"}), "false");  // must be contiguous
  EXPECT_EQ(Eval("object.subset", {"[1, 2]", arr}), "false");
  EXPECT_EQ(Eval("object.subset", {arr, R"({"$set": [4, 3, 2]})"}), "true");
  EXPECT_EQ(Eval("object.subset", {arr, R"({"$set": [9, 8, 7]})"}), "false");
  // Every member must be present: duplicates in the array do not stand in for missing ones.
  EXPECT_EQ(Eval("object.subset", {R"(["admin", "admin"])", R"({"$set": ["admin", "root"]})"}),
            "false");
  EXPECT_EQ(Eval("object.subset", {R"({"$set": [4, 3, 2]})", arr}),
            kType +
                "object.subset: both arguments object.subset must be of the same type or "
                "array and set");
}

TEST(CollectionBuiltins, JsonFilter) {
  const char* doc = R"({"a": {"b": {"c": 7, "d": 8}}, "e": 9})";
  EXPECT_EQ(Eval("json.filter", {doc, R"({"$set": ["a/b/c"]})"}), R"({"a": {"b": {"c": 7}}})");
  EXPECT_EQ(Eval("json.filter", {doc, R"({"$set": ["a/b/c", "e"]})"}),
            R"({"a": {"b": {"c": 7}}, "e": 9})");
  EXPECT_EQ(Eval("json.filter", {doc, R"(["a/b/c", "e"])"}), R"({"a": {"b": {"c": 7}}, "e": 9})");
  EXPECT_EQ(Eval("json.filter", {doc, R"(["/a/b/c"])"}), R"({"a": {"b": {"c": 7}}})");
  EXPECT_EQ(Eval("json.filter",
                 {R"({"a": {"b": {"c": 7, "d": 8}, "e": 9}})", R"({"$set": ["a/b/c", "a/e"]})"}),
            R"({"a": {"b": {"c": 7}, "e": 9}})");
  EXPECT_EQ(Eval("json.filter", {R"({"a": {"b": 7}})", R"({"$set": ["a", "a/b"]})"}),
            R"({"a": {"b": 7}})");
  EXPECT_EQ(Eval("json.filter", {R"({"a": 7})", R"({"$set": []})"}), "{}");
  EXPECT_EQ(Eval("json.filter",
                 {R"({"a": [{"b": 7, "c": 8}, {"d": 9}]})", R"({"$set": ["a/0/b", "a/1"]})"}),
            R"({"a": [{"b": 7}, {"d": 9}]})");
  EXPECT_EQ(Eval("json.filter",
                 {R"({"a": [{"1": ["b", "c", "d"]}, {"x": "y"}]})", R"({"$set": ["a/0/1/2"]})"}),
            R"({"a": [{"1": ["d"]}]})");
  EXPECT_EQ(Eval("json.filter", {R"({"a": {"b": {"c": 7, "d": 8, "x": 0}}, "e": 9})",
                                 R"({"$set": ["a/b/d", ["a", "b", "c"]]})"}),
            R"({"a": {"b": {"c": 7, "d": 8}}})");
  EXPECT_EQ(Eval("json.filter", {R"({"a/b": 1, "c~d": 2})", R"(["a~1b", "c~0d"])"}),
            R"({"a/b": 1, "c~d": 2})");
  EXPECT_EQ(Eval("json.filter", {R"({"a": {"$set": ["x", "y"]}})", R"(["a/x"])"}),
            R"({"a": {"x"}})");
  EXPECT_EQ(Eval("json.filter", {"[]", R"(["a"])"}),
            kType + "json.filter: operand 1 must be object but got array");
  EXPECT_EQ(Eval("json.filter", {"{}", "\"a\""}),
            kType + "json.filter: operand 2 must be one of {set, array} but got string");
}

TEST(CollectionBuiltins, JsonRemove) {
  const char* doc = R"({"a": {"b": {"c": 7, "d": 8}}, "e": 9})";
  EXPECT_EQ(Eval("json.remove", {doc, R"({"$set": ["a/b/c"]})"}),
            R"({"a": {"b": {"d": 8}}, "e": 9})");
  EXPECT_EQ(Eval("json.remove", {doc, R"(["a/b/c", "e"])"}), R"({"a": {"b": {"d": 8}}})");
  EXPECT_EQ(Eval("json.remove", {R"({"a": {"b": 7}, "c": 1})", R"({"$set": ["a", "a/b"]})"}),
            R"({"c": 1})");
  EXPECT_EQ(Eval("json.remove", {R"({"a": 7})", R"({"$set": []})"}), R"({"a": 7})");
  EXPECT_EQ(Eval("json.remove", {"{}", R"({"$set": ["a/b"]})"}), "{}");
  EXPECT_EQ(Eval("json.remove", {R"({"a": {"b": 7}, "c": 1})", R"({"$set": ["a", "c"]})"}), "{}");
  EXPECT_EQ(Eval("json.remove", {R"({"a": {"b": 7}, "c": 1})", R"({"$set": ["a/b", "c"]})"}),
            R"({"a": {}})");
  EXPECT_EQ(Eval("json.remove",
                 {R"({"a": [{"b": 7, "c": 8}, {"d": 9}]})", R"({"$set": ["a/0/b", "a/1"]})"}),
            R"({"a": [{"c": 8}]})");
  EXPECT_EQ(Eval("json.remove",
                 {R"({"a": [{"1": ["b", "c", "d"]}, {"x": "y"}]})", R"({"$set": ["a/0/1/2"]})"}),
            R"({"a": [{"1": ["b", "c"]}, {"x": "y"}]})");
  EXPECT_EQ(Eval("json.remove", {doc, R"({"$set": [["a", "b", "c"], ["e"]]})"}),
            R"({"a": {"b": {"d": 8}}})");
  EXPECT_EQ(Eval("json.remove", {R"({"a": {"b": {"c": 7, "d": 8, "x": 0}}, "e": 9})",
                                 R"({"$set": ["a/b/d", ["a", "b", "c"]]})"}),
            R"({"a": {"b": {"x": 0}}, "e": 9})");
  EXPECT_EQ(Eval("json.remove", {"\"foo\"", R"({"$set": ["a/b/c"]})"}),
            kType + "json.remove: operand 1 must be object but got string");
  EXPECT_EQ(Eval("json.remove", {"{}", "true"}),
            kType + "json.remove: operand 2 must be one of {set, array} but got boolean");
  const std::string kBadPath =
      "json.remove: operand 2 must be one of {set, array} containing string paths or array of "
      "path segments but got ";
  EXPECT_EQ(Eval("json.remove", {"{}", R"({"$set": [1, 2, 3, "a"]})"}),
            kType + kBadPath + "number");
  EXPECT_EQ(Eval("json.remove", {"{}", R"({"$set": ["a", {"x": 1}]})"}),
            kType + kBadPath + "object");
  EXPECT_EQ(Eval("json.remove", {"{}", R"(["a", 1, 2, 3])"}), kType + kBadPath + "number");
}

TEST(CollectionBuiltins, JsonPatchOnObjectsAndArrays) {
  EXPECT_EQ(Eval("json.patch",
                 {R"({"a": {"foo": 1}})", R"([{"op": "add", "path": "/a/bar", "value": 2}])"}),
            R"({"a": {"bar": 2, "foo": 1}})");
  EXPECT_EQ(Eval("json.patch", {R"({"a": [1, 3]})",
                                R"([{"op": "add", "path": "/a/1", "value": 2},
                                    {"op": "add", "path": "/a/-", "value": 4}])"}),
            R"({"a": [1, 2, 3, 4]})");
  EXPECT_EQ(Eval("json.patch", {R"({"a": 1, "b": 2})", R"([{"op": "remove", "path": "/a"}])"}),
            R"({"b": 2})");
  EXPECT_EQ(
      Eval("json.patch", {R"({"a": 1})", R"([{"op": "replace", "path": "/a", "value": [5]}])"}),
      R"({"a": [5]})");
  EXPECT_EQ(Eval("json.patch", {R"({"a": {"x": 1}, "b": {}})",
                                R"([{"op": "move", "from": "/a/x", "path": "/b/y"}])"}),
            R"({"a": {}, "b": {"y": 1}})");
  EXPECT_EQ(
      Eval("json.patch", {R"({"a": {"x": 1}})", R"([{"op": "copy", "from": "/a", "path": "/c"}])"}),
      R"({"a": {"x": 1}, "c": {"x": 1}})");
  EXPECT_EQ(Eval("json.patch", {R"({"a": 1})", R"([{"op": "test", "path": "/a", "value": 1}])"}),
            R"({"a": 1})");
  EXPECT_EQ(Eval("json.patch", {R"({"a": 1})", R"([{"op": "add", "path": "", "value": 7}])"}), "7");
  EXPECT_EQ(Eval("json.patch", {R"({"a/b": 1})", R"([{"op": "remove", "path": "/a~1b"}])"}), "{}");
  EXPECT_EQ(Eval("json.patch", {R"({"a": 1})", "[]"}), R"({"a": 1})");
}

TEST(CollectionBuiltins, JsonPatchFailuresAreUndefined) {
  EXPECT_EQ(Eval("json.patch", {"[1, 2, 3]", R"([{"op": "add", "path": "1.2", "value": "foo"}])"}),
            kUndef);
  EXPECT_EQ(Eval("json.patch", {R"({"a": 1})", R"([{"op": "test", "path": "/a", "value": 2}])"}),
            kUndef);
  EXPECT_EQ(Eval("json.patch", {R"({"a": 1})", R"([{"op": "remove", "path": "/b"}])"}), kUndef);
  EXPECT_EQ(
      Eval("json.patch", {R"({"a": [1]})", R"([{"op": "add", "path": "/a/01", "value": 0}])"}),
      kUndef);
  EXPECT_EQ(Eval("json.patch", {R"({"a": [1]})", R"([{"op": "add", "path": "/a/5", "value": 0}])"}),
            kUndef);
  EXPECT_EQ(Eval("json.patch", {R"({"a": 1})", R"([{"op": "frobnicate", "path": "/a"}])"}), kUndef);
  EXPECT_EQ(Eval("json.patch", {R"({"a": 1})", R"([{"op": "add", "path": "/b"}])"}), kUndef);
  EXPECT_EQ(Eval("json.patch", {R"({"a": 1})", R"(["not a patch"])"}), kUndef);
  // All or nothing: a failing later operation discards the earlier ones.
  EXPECT_EQ(Eval("json.patch", {R"({"a": 1})", R"([{"op": "add", "path": "/b", "value": 2},
                                                  {"op": "remove", "path": "/zzz"}])"}),
            kUndef);
  EXPECT_EQ(Eval("json.patch", {"{}", "{}"}),
            kType + "json.patch: operand 2 must be array but got object");
}

TEST(CollectionBuiltins, JsonPatchOnSets) {
  const char* doc = R"({"foo": {"$set": ["a", "b", "c"]}})";
  EXPECT_EQ(Eval("json.patch", {doc, R"([{"op": "remove", "path": "foo/b"}])"}),
            R"({"foo": {"a", "c"}})");
  EXPECT_EQ(Eval("json.patch", {doc, R"([{"op": "add", "path": "foo/d", "value": "d"}])"}),
            R"({"foo": {"a", "b", "c", "d"}})");
  EXPECT_EQ(Eval("json.patch", {doc, R"([{"op": "add", "path": "foo/d", "value": "e"}])"}), kUndef);
  EXPECT_EQ(Eval("json.patch", {R"({"foo": {"$set": ["a", "b"]}, "bar": {"$set": ["c", "d"]}})",
                                R"([{"op": "move", "from": "foo/a", "path": "bar/a"}])"}),
            R"({"bar": {"a", "c", "d"}, "foo": {"b"}})");
  EXPECT_EQ(Eval("json.patch",
                 {R"({"$set": [[1]]})", R"([{"op": "add", "path": [[1], 1], "value": 2}])"}),
            "{[1, 2]}");
}

TEST(CollectionBuiltins, GraphReachable) {
  EXPECT_EQ(Eval("graph.reachable", {"{}", R"({"$set": ["a"]})"}), "set()");
  EXPECT_EQ(Eval("graph.reachable", {R"({"a": {"$set": ["b"]}, "b": {"$set": ["c"]},
                                        "c": {"$set": ["a"]}})",
                                     R"({"$set": ["a"]})"}),
            R"({"a", "b", "c"})");
  EXPECT_EQ(Eval("graph.reachable",
                 {R"({"a": {"$set": ["b", "c"]}, "b": {"$set": ["d"]}, "c": {"$set": ["d"]},
                      "d": {"$set": []}, "e": {"$set": ["f"]}, "f": {"$set": ["e"]},
                      "x": {"$set": ["x"]}})",
                  R"({"$set": ["b", "e"]})"}),
            R"({"b", "d", "e", "f"})");
  EXPECT_EQ(Eval("graph.reachable", {R"({"a": ["b"], "b": ["c"], "c": ["a"]})", R"(["a"])"}),
            R"({"a", "b", "c"})");
  EXPECT_EQ(Eval("graph.reachable", {"1", "[1]"}),
            kType + "graph.reachable: operand 1 must be object but got number");
  EXPECT_EQ(Eval("graph.reachable", {R"({"a": []})", "\"a\""}),
            kType + "graph.reachable: operand 2 must be one of {array, set} but got string");
}

TEST(CollectionBuiltins, GraphReachablePaths) {
  const char* expected = R"({["one", "five", "seven", "eight"], ["one", "five", "six", "nine"], )"
                         R"(["one", "two", "four", "three"]})";
  EXPECT_EQ(Eval("graph.reachable_paths",
                 {R"({"one": ["two", "five"], "two": ["four"], "three": [""], "four": ["three"],
                      "five": ["seven", "six"], "six": ["nine"], "seven": ["eight"],
                      "eight": [""], "nine": [""]})",
                  R"({"$set": ["one"]})"}),
            expected);
  EXPECT_EQ(Eval("graph.reachable_paths",
                 {R"({"one": {"$set": ["two", "five"]}, "two": {"$set": ["four"]},
                      "three": {"$set": [""]}, "four": {"$set": ["three"]},
                      "five": {"$set": ["seven", "six"]}, "six": {"$set": ["nine"]},
                      "seven": {"$set": ["eight"]}, "eight": {"$set": [""]},
                      "nine": {"$set": [""]}})",
                  R"({"$set": ["one"]})"}),
            expected);
  EXPECT_EQ(Eval("graph.reachable_paths",
                 {R"({"one": ["two", "five"], "two": ["four"], "three": [""], "four": ["three"],
                      "five": ["seven", "six"], "six": ["nine", "seven"], "seven": ["eight"],
                      "eight": ["three"], "nine": [""]})",
                  R"({"$set": ["one"]})"}),
            R"({["one", "five", "seven", "eight", "three"], ["one", "five", "six"], )"
            R"(["one", "five", "six", "nine"], ["one", "two", "four", "three"]})");
  EXPECT_EQ(Eval("graph.reachable_paths", {R"({"a": ["b"], "b": ["a"]})", R"(["a"])"}),
            R"({["a", "b"]})");
  EXPECT_EQ(Eval("graph.reachable_paths", {R"({"a": []})", R"(["a", "zzz"])"}), R"({["a"]})");
}

TEST(CollectionBuiltins, EvaluatorOwnedRelationsAreNotRegistered) {
  EXPECT_EQ(Builtins().Find("walk"), nullptr);
  EXPECT_EQ(Builtins().Find("internal.member_2"), nullptr);
}

}  // namespace
}  // namespace mcpgw::rego
