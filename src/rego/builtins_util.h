// Shared argument-checking helpers for built-in implementations (header-only).
//
// All helpers produce errors in the conventions of builtins.h: operand problems are kTypeError
// with OPA's "<name>: operand <pos> must be ..." text; everything else is kBuiltinError.
//
//   if (auto st = ExpectKind("object.keys", 1, args[0], Kind::kObject); !st) return st.error();
//   auto n = IntOperand("numbers.range", 1, args[0]);
//   if (!n) return n.error();
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "common/result.h"
#include "rego/builtins.h"
#include "rego/value.h"

namespace mcpgw::rego {

// OPA's type name of a kind: "null", "boolean", "number", "string", "array", "object", "set".
inline std::string_view KindName(Kind k) {
  switch (k) {
    case Kind::kNull:
      return "null";
    case Kind::kBool:
      return "boolean";
    case Kind::kNumber:
      return "number";
    case Kind::kString:
      return "string";
    case Kind::kArray:
      return "array";
    case Kind::kObject:
      return "object";
    case Kind::kSet:
      return "set";
  }
  return "null";
}

// "<name>: operand <pos> <what>" as a type error, for messages that do not fit
// OperandTypeError's "must be X but got Y" shape.
inline Error OperandError(std::string_view name, int pos, std::string_view what) {
  return MakeError(std::string(name) + ": operand " + std::to_string(pos) + " " + std::string(what),
                   kTypeError);
}

// A bad element inside a collection operand, in OPA's words: "<name>: operand <pos> must be
// array of numbers but got array containing string" (want_each is singular: "number").
inline Error OperandElementError(std::string_view name, int pos, const Value& collection,
                                 std::string_view want_each, const Value& got_element) {
  std::string kind(collection.TypeName());
  return OperandError(name, pos,
                      "must be " + kind + " of " + std::string(want_each) + "s but got " + kind +
                          " containing " + std::string(got_element.TypeName()));
}

// OK when `v` has kind `k`, else "operand <pos> must be <kind> but got <type>".
inline Status ExpectKind(std::string_view name, int pos, const Value& v, Kind k) {
  if (v.kind() == k) return {};
  return OperandTypeError(name, pos, KindName(k), v);
}

// True for a number with no fractional part (an int64, or an integral double beyond int64).
inline bool IsIntegral(const Value& v) {
  if (v.is_int()) return true;
  if (!v.is_number()) return false;
  double d = v.as_double();
  return std::isfinite(d) && d == std::trunc(d);
}

// The int64 value of an integral number operand. Errors: not a number -> "must be number but got
// X"; a fraction -> "must be integer number but got floating-point number" (both type errors);
// integral but beyond int64 -> builtin error "operand <pos> out of range".
inline Result<int64_t> IntOperand(std::string_view name, int pos, const Value& v) {
  if (!v.is_number()) return OperandTypeError(name, pos, "number", v);
  if (v.is_int()) return v.as_int();
  if (!IsIntegral(v)) {
    return OperandError(name, pos, "must be integer number but got floating-point number");
  }
  return BuiltinError(name, "operand " + std::to_string(pos) + " out of range");
}

// Decodes one UTF-8 sequence at s[pos] the way Go does: returns {code point, width}; an invalid
// or truncated sequence (overlong, surrogate, > U+10FFFF) yields {0xFFFD, 1}.
inline std::pair<char32_t, size_t> DecodeRune(std::string_view s, size_t pos) {
  auto byte = [&](size_t i) { return static_cast<unsigned char>(s[i]); };
  const std::pair<char32_t, size_t> kBad{0xFFFD, 1};
  unsigned char c0 = byte(pos);
  if (c0 < 0x80) return {c0, 1};
  size_t n = 0;
  char32_t cp = 0;
  char32_t min = 0;
  if ((c0 & 0xE0) == 0xC0) {
    n = 2, cp = c0 & 0x1F, min = 0x80;
  } else if ((c0 & 0xF0) == 0xE0) {
    n = 3, cp = c0 & 0x0F, min = 0x800;
  } else if ((c0 & 0xF8) == 0xF0) {
    n = 4, cp = c0 & 0x07, min = 0x10000;
  } else {
    return kBad;
  }
  if (pos + n > s.size()) return kBad;
  for (size_t i = 1; i < n; ++i) {
    unsigned char c = byte(pos + i);
    if ((c & 0xC0) != 0x80) return kBad;
    cp = (cp << 6) | (c & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return kBad;
  return {cp, n};
}

// Number of code points in a UTF-8 string (Go's utf8.RuneCountInString: each invalid byte counts
// as one).
inline size_t RuneCount(std::string_view s) {
  size_t count = 0;
  for (size_t pos = 0; pos < s.size(); ++count) pos += DecodeRune(s, pos).second;
  return count;
}

// JSON exactly as Go's encoding/json writes it (what OPA's json.marshal and io.jwt.encode_sign
// produce): sorted keys, sets as arrays, HTML-safe escapes. Defined in builtins_encoding.cc.
std::string GoJsonMarshal(const Value& v);
// The same writer's pieces, for OPA's CLI output (`mcpgw policy eval`): a string quoted and
// escaped as Go does, and json.MarshalIndent(v, "", indent) as if nested `depth` levels deep.
void AppendGoJsonQuoted(std::string& out, std::string_view s);
void AppendGoJsonIndent(std::string& out, const Value& v, std::string_view indent, int depth);

}  // namespace mcpgw::rego
