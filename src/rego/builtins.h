// Built-in functions of the Rego engine.
//
// Each built-in is a plain function from argument values to a result value. It reports failure as
// an Error whose code says which OPA error class it is:
//   kTypeError    -> OPA's eval_type_error, e.g. "count: operand 1 must be one of {array, object,
//                    set, string} but got number" (use OperandTypeError()).
//   kBuiltinError -> OPA's eval_builtin_error, e.g. "substring: negative offset".
//   kUndefined    -> the call is undefined (no result), without an error.
// In OPA's default (non-strict) mode the evaluator turns type and builtin errors into
// "undefined"; in strict mode it raises them. Messages follow OPA's text, prefixed by the
// built-in's name ("name: ..."), because the conformance cases compare substrings.
//
// Registration happens once at start-up (RegisterAll); lookups afterwards are read-only and
// thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>

#include "common/result.h"
#include "rego/value.h"

namespace mcpgw::rego {

inline constexpr int kTypeError = 1;
inline constexpr int kBuiltinError = 2;
inline constexpr int kUndefined = 3;
inline constexpr int kConflictError = 4;

// Per-query state built-ins may read. One query sees one `now` (OPA: time.now_ns is constant
// within a query).
struct BuiltinContext {
  int64_t now_ns = 0;
};

using BuiltinFn = std::function<Result<Value>(BuiltinContext&, std::span<const Value> args)>;

struct Builtin {
  std::string name;  // full dotted name, e.g. "strings.replace_n"; operators use OPA's names
                     // ("plus", "minus", "mul", "div", "rem", "equal", "neq", "lt", "lte", "gt",
                     // "gte", "and" (set intersection), "or" (set union))
  int arity = 0;     // number of operands (the optional output operand is not counted)
  BuiltinFn fn;
};

class BuiltinRegistry {
 public:
  void Add(std::string name, int arity, BuiltinFn fn);
  const Builtin* Find(std::string_view name) const;

 private:
  std::map<std::string, Builtin, std::less<>> by_name_;
};

// The registry with every supported built-in; built on first use.
const BuiltinRegistry& Builtins();

// Helpers for built-in implementations.
// "<name>: operand <pos> must be <want> but got <got type>" with code kTypeError.
Error OperandTypeError(std::string_view name, int pos, std::string_view want, const Value& got);
Error BuiltinError(std::string_view name, std::string_view message);
Error Undefined();

// Registration functions, one per source file (builtins_<group>.cc).
void RegisterCoreBuiltins(BuiltinRegistry& r);  // operators, comparison, arithmetic, aggregates,
                                                // types, casts, bits, numbers.range
void RegisterCollectionBuiltins(BuiltinRegistry& r);  // arrays, sets, objects, walk, json.filter...
void RegisterStringBuiltins(BuiltinRegistry& r);    // strings, sprintf, regex, glob, units, semver
void RegisterEncodingBuiltins(BuiltinRegistry& r);  // json/yaml?/base64/base64url/hex/urlquery
void RegisterTimeBuiltins(BuiltinRegistry& r);      // time.*
void RegisterNetBuiltins(BuiltinRegistry& r);       // net.cidr_*
void RegisterCryptoBuiltins(BuiltinRegistry& r);    // crypto.* hashes and HMAC, io.jwt.*, uuid

}  // namespace mcpgw::rego
