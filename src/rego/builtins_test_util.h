// Helpers shared by the built-in tests (builtins_*_test.cc).
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "rego/builtins.h"
#include "rego/value.h"

namespace mcpgw::rego::builtin_testing {

// Calls the built-in `name` as the evaluator does (checking the operand count), with the clock at
// `now_ns`.
inline Result<Value> Call(std::string_view name, std::vector<Value> args, int64_t now_ns = 0) {
  const Builtin* b = Builtins().Find(name);
  if (b == nullptr) return MakeError("no built-in " + std::string(name));
  EXPECT_EQ(static_cast<size_t>(b->arity), args.size()) << name;
  BuiltinContext ctx;
  ctx.now_ns = now_ns;
  return b->fn(ctx, args);
}

// JSON with two extensions so tests can write any Rego value: {"$set": [...]} is a set and
// {"$obj": [[key, value], ...]} an object with arbitrary keys.
inline Value FromTestJson(const Value& v) {
  if (v.is_array()) {
    Array out;
    for (const auto& e : v.array()) out.push_back(FromTestJson(e));
    return Value::FromArray(std::move(out));
  }
  if (!v.is_object()) return v;
  if (v.size() == 1 && v.Get("$set") != nullptr) {
    Set out;
    for (const auto& e : v.Get("$set")->array()) out.insert(FromTestJson(e));
    return Value::FromSet(std::move(out));
  }
  if (v.size() == 1 && v.Get("$obj") != nullptr) {
    Object out;
    for (const auto& kv : v.Get("$obj")->array()) {
      out.insert_or_assign(FromTestJson(kv.array()[0]), FromTestJson(kv.array()[1]));
    }
    return Value::FromObject(std::move(out));
  }
  Object out;
  for (const auto& [k, e] : v.object()) out.emplace(k, FromTestJson(e));
  return Value::FromObject(std::move(out));
}

inline Value TestValue(std::string_view json) {
  auto parsed = Value::ParseJson(json);
  EXPECT_TRUE(parsed.ok()) << json;
  return parsed.ok() ? FromTestJson(*parsed) : Value();
}

}  // namespace mcpgw::rego::builtin_testing
