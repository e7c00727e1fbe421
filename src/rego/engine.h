// The embedded Rego v1 engine: compile modules and data once, then evaluate queries against it.
//
//   auto policy = rego::Policy::Compile({{"authz.rego", text}}, data);
//   if (!policy) ... policy.error().message is "authz.rego:3:5: rego_parse_error: ..." ...
//   auto decision = (*policy)->EvalPath({"mcp", "authz", "allow"}, input, {});
//
// What the engine does not support (a built-in it does not know, a syntax it does not parse) is
// refused by Compile with an error naming it; it is never silently evaluated as false.
//
// Errors carry an OPA error class in Error::code (see builtins.h for the evaluation classes and
// below for the load-time ones) and OPA's message text, so callers can map them to OPA's JSON.
//
// Thread-safety: a compiled Policy is immutable; any number of threads may evaluate against it at
// once. Each evaluation keeps its own state.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "rego/builtins.h"
#include "rego/value.h"

namespace mcpgw::rego {

inline constexpr int kParseError = 10;      // rego_parse_error
inline constexpr int kCompileError = 11;    // rego_compile_error (unsafe vars, unknown built-in...)
inline constexpr int kRecursionError = 12;  // rego_recursion_error

// The OPA error-class string for an Error::code: "eval_type_error", "rego_parse_error", ...
std::string_view ErrorCodeName(int code);

struct ModuleSource {
  std::string filename;  // used in error messages
  std::string text;
};

struct EvalOptions {
  // OPA's strict-builtin-errors: raise built-in and type errors instead of treating the
  // expression as undefined.
  bool strict_builtin_errors = false;
  // Fixed clock for time.now_ns (tests); the wall clock when unset.
  std::optional<int64_t> now_ns;
};

// One solution of a query: the value of each top-level expression and the bindings of the
// query's named variables (generated ones such as __local0__ are left out).
struct QueryResult {
  std::vector<Value> expressions;
  std::map<std::string, Value> bindings;
};

class Policy {
 public:
  virtual ~Policy() = default;

  // Parses and compiles the modules; `data` is the base document (an object). Module packages
  // may overlap (rules of one package may be spread over several files).
  static Result<std::shared_ptr<const Policy>> Compile(const std::vector<ModuleSource>& modules,
                                                       const Value& data);

  // Evaluates an ad-hoc query ("data.test.p = x", "x := data.a[_]; x > 1") and returns every
  // solution; an empty vector means undefined.
  virtual Result<std::vector<QueryResult>> Query(std::string_view query, const Value* input,
                                                 const EvalOptions& options) const = 0;

  // Evaluates the document at data.<path...> (e.g. {"mcp", "authz", "decision"}); nullopt when
  // undefined. The fast path for decisions: no query parsing.
  virtual Result<std::optional<Value>> EvalPath(std::span<const std::string> path,
                                                const Value* input,
                                                const EvalOptions& options) const = 0;

  // EvalPath once per item of a list (one user's tools/list: one item per tool). Item i's input
  // is `base` (an object) with the top-level members of items[i] (an object; "resource" and
  // "path", say) put in. Documents that read none of the members the items put in are computed
  // once for the whole batch, and an item's whole input is put together only if the policy reads
  // it whole, so the results are those of EvalPath on each item's input at a fraction of the
  // cost. One result per item, in order; an evaluation error fails only its own item.
  virtual std::vector<Result<std::optional<Value>>> EvalPathBatch(
      std::span<const std::string> path, const Value& base, std::span<const Value> items,
      const EvalOptions& options) const = 0;

  // Full paths of every rule, "data.<package>.<rule>" (for the test runner: test_* / todo_test_*).
  virtual std::vector<std::string> RulePaths() const = 0;
};

}  // namespace mcpgw::rego
