// Core built-ins: comparison and arithmetic operators, aggregates, type tests, to_number, bits.*
// and numbers.range*.
//
// Numbers: OPA computes with arbitrary precision (exact big integers, 64-bit-mantissa floats
// parsed from the number's decimal text). Here integers stay exact while they fit in int64; other
// arithmetic runs in long double (a 64-bit mantissa on x86-64, like OPA's floats) on operands
// re-read from their shortest decimal text, so 0.1 + 0.2 == 0.3 holds as it does in OPA. Results
// are stored back as Values (int64 or double). A result beyond the double range is an error.
#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <span>
#include <string>
#include <string_view>

#include "rego/builtins.h"
#include "rego/builtins_util.h"

namespace mcpgw::rego {
namespace {

using Args = std::span<const Value>;

// Largest array numbers.range / numbers.range_step will build (about 240 MB of Values); beyond
// this the call fails instead of exhausting memory.
constexpr int64_t kMaxRangeLength = 10'000'000;

// ---------------------------------------------------------------------------------------------
// Number helpers

// A number as OPA reads it for float arithmetic: its decimal text at 64-bit-mantissa precision.
long double Wide(const Value& v) {
  if (v.is_int()) return static_cast<long double>(v.as_int());
  double d = v.as_double();
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf - 1, d);
  *res.ptr = '\0';
  return std::strtold(buf, nullptr);
}

// Stores a wide result: exact int64 when integral and in range, else the nearest double.
Result<Value> FromWide(std::string_view name, long double x) {
  constexpr long double kTwo63 = 9223372036854775808.0L;
  if (std::isfinite(x) && x == std::trunc(x) && x >= -kTwo63 && x < kTwo63) {
    return Value::Int(static_cast<int64_t>(x));
  }
  auto d = static_cast<double>(x);
  if (!std::isfinite(d)) return BuiltinError(name, "numeric result out of range");
  return Value::Double(d);
}

Status ExpectNumbers(std::string_view name, const Value& a, const Value& b) {
  if (!a.is_number()) return OperandTypeError(name, 1, "number", a);
  if (!b.is_number()) return OperandTypeError(name, 2, "number", b);
  return {};
}

Result<Value> Plus(const Value& a, const Value& b) {
  if (auto st = ExpectNumbers("plus", a, b); !st) return st.error();
  int64_t r = 0;
  if (a.is_int() && b.is_int() && !__builtin_add_overflow(a.as_int(), b.as_int(), &r)) {
    return Value::Int(r);
  }
  return FromWide("plus", Wide(a) + Wide(b));
}

Result<Value> NumberMinus(const Value& a, const Value& b) {
  int64_t r = 0;
  if (a.is_int() && b.is_int() && !__builtin_sub_overflow(a.as_int(), b.as_int(), &r)) {
    return Value::Int(r);
  }
  return FromWide("minus", Wide(a) - Wide(b));
}

Result<Value> Minus(const Value& a, const Value& b) {
  if (a.is_number() && b.is_number()) return NumberMinus(a, b);
  if (a.is_set() && b.is_set()) {
    Set out;
    for (const auto& e : a.set()) {
      if (!b.set().contains(e)) out.insert(out.end(), e);
    }
    return Value::FromSet(std::move(out));
  }
  if (!a.is_number() && !a.is_set()) return OperandTypeError("minus", 1, "one of {number, set}", a);
  return OperandTypeError("minus", 2, a.is_set() ? "set" : "number", b);
}

Result<Value> Mul(const Value& a, const Value& b) {
  if (auto st = ExpectNumbers("mul", a, b); !st) return st.error();
  int64_t r = 0;
  if (a.is_int() && b.is_int() && !__builtin_mul_overflow(a.as_int(), b.as_int(), &r)) {
    return Value::Int(r);
  }
  return FromWide("mul", Wide(a) * Wide(b));
}

Result<Value> Div(const Value& a, const Value& b) {
  if (auto st = ExpectNumbers("div", a, b); !st) return st.error();
  if (b.as_double() == 0) return BuiltinError("div", "divide by zero");
  if (a.is_int() && b.is_int()) {
    int64_t x = a.as_int();
    int64_t y = b.as_int();
    if (!(x == std::numeric_limits<int64_t>::min() && y == -1) && x % y == 0) {
      return Value::Int(x / y);
    }
  }
  return FromWide("div", Wide(a) / Wide(b));
}

Result<Value> Rem(const Value& a, const Value& b) {
  if (auto st = ExpectNumbers("rem", a, b); !st) return st.error();
  if (!IsIntegral(a) || !IsIntegral(b)) {
    return BuiltinError("rem", "modulo on floating-point number");
  }
  if (b.as_double() == 0) return BuiltinError("rem", "modulo by zero");
  if (a.is_int() && b.is_int()) {
    if (b.as_int() == -1) return Value::Int(0);  // avoids INT64_MIN % -1
    return Value::Int(a.as_int() % b.as_int());
  }
  // Integers beyond int64 are doubles; fmod is exact on them (truncated, like big.Int.Rem).
  return FromWide("rem", std::fmod(Wide(a), Wide(b)));
}

// Unary: abs, round (half away from zero), ceil, floor.
template <class DoubleFn>
Result<Value> Unary(std::string_view name, const Value& a, DoubleFn fn) {
  if (!a.is_number()) return OperandTypeError(name, 1, "number", a);
  if (a.is_int()) {
    if (name == "abs") {
      if (a.as_int() == std::numeric_limits<int64_t>::min()) return FromWide(name, -Wide(a));
      return Value::Int(a.as_int() < 0 ? -a.as_int() : a.as_int());
    }
    return a;
  }
  return Value::Double(fn(a.as_double()));
}

// ---------------------------------------------------------------------------------------------
// Aggregates

Result<Value> Count(const Value& a) {
  switch (a.kind()) {
    case Kind::kArray:
    case Kind::kObject:
    case Kind::kSet:
      return Value::Int(static_cast<int64_t>(a.size()));
    case Kind::kString:
      return Value::Int(static_cast<int64_t>(RuneCount(a.str())));
    default:
      return OperandTypeError("count", 1, "one of {array, object, set, string}", a);
  }
}

// Calls fn(element) for each element of an array or set.
template <class Fn>
void ForEachElement(const Value& c, Fn fn) {
  if (c.is_array()) {
    for (const auto& e : c.array()) fn(e);
  } else {
    for (const auto& e : c.set()) fn(e);
  }
}

// sum / product: exact int64 while possible, then 64-bit-mantissa floats.
Result<Value> Accumulate(std::string_view name, const Value& c, bool product) {
  if (!c.is_array() && !c.is_set()) return OperandTypeError(name, 1, "one of {set, array}", c);
  const Value* bad = nullptr;
  ForEachElement(c, [&](const Value& e) {
    if (bad == nullptr && !e.is_number()) bad = &e;
  });
  if (bad != nullptr) return OperandElementError(name, 1, c, "number", *bad);

  int64_t acc = product ? 1 : 0;
  bool exact = true;
  long double wide = product ? 1.0L : 0.0L;
  ForEachElement(c, [&](const Value& e) {
    if (exact && e.is_int()) {
      int64_t r = 0;
      bool overflow = product ? __builtin_mul_overflow(acc, e.as_int(), &r)
                              : __builtin_add_overflow(acc, e.as_int(), &r);
      if (!overflow) {
        acc = r;
        return;
      }
    }
    if (exact) {
      exact = false;
      wide = static_cast<long double>(acc);
    }
    wide = product ? wide * Wide(e) : wide + Wide(e);
  });
  if (exact) return Value::Int(acc);
  return FromWide(name, wide);
}

Result<Value> MinMax(std::string_view name, const Value& c, bool want_max) {
  if (!c.is_array() && !c.is_set()) return OperandTypeError(name, 1, "one of {set, array}", c);
  if (c.size() == 0) return Undefined();
  if (c.is_set()) return want_max ? *c.set().rbegin() : *c.set().begin();
  const Array& a = c.array();
  auto it = want_max ? std::max_element(a.begin(), a.end()) : std::min_element(a.begin(), a.end());
  return *it;
}

Result<Value> Sort(const Value& c) {
  if (c.is_set()) return Value::FromArray(Array(c.set().begin(), c.set().end()));
  if (!c.is_array()) return OperandTypeError("sort", 1, "one of {set, array}", c);
  Array out = c.array();
  std::stable_sort(out.begin(), out.end());
  return Value::FromArray(std::move(out));
}

// ---------------------------------------------------------------------------------------------
// to_number

// Go's strconv.Quote, close enough for error messages.
std::string Quote(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Decimal floating-point syntax accepted by Go's strconv.ParseFloat (without hex forms and
// underscores): [+-] (digits [. digits*] | . digits) [(e|E) [+-] digits].
bool IsDecimalNumber(std::string_view s) {
  size_t i = 0;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
  size_t int_digits = 0;
  while (i < s.size() && IsDigit(s[i])) ++i, ++int_digits;
  size_t frac_digits = 0;
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && IsDigit(s[i])) ++i, ++frac_digits;
  }
  if (int_digits + frac_digits == 0) return false;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    size_t exp_digits = 0;
    while (i < s.size() && IsDigit(s[i])) ++i, ++exp_digits;
    if (exp_digits == 0) return false;
  }
  return i == s.size();
}

Result<Value> ToNumber(const Value& a) {
  switch (a.kind()) {
    case Kind::kNull:
      return Value::Int(0);
    case Kind::kBool:
      return Value::Int(a.as_bool() ? 1 : 0);
    case Kind::kNumber:
      return a;
    case Kind::kString:
      break;
    default:
      return OperandTypeError("to_number", 1, "one of {null, boolean, number, string}", a);
  }
  std::string_view s = a.str();
  std::string_view unsigned_part = s.substr(std::min(s.find_first_not_of("+-"), s.size()));
  std::string lower(unsigned_part);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (lower == "inf" || lower == "infinity" || lower == "nan") {
    return OperandTypeError("to_number", 1, "valid number string", a);
  }
  if (!IsDecimalNumber(s)) {
    return BuiltinError("to_number",
                        "strconv.ParseFloat: parsing " + Quote(s) + ": invalid syntax");
  }
  // Exact integers first (from_chars does not take a leading '+').
  std::string_view digits = (!s.empty() && s[0] == '+') ? s.substr(1) : s;
  int64_t i = 0;
  auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), i);
  if (ec == std::errc() && ptr == digits.data() + digits.size()) return Value::Int(i);
  std::string text(s);
  double d = std::strtod(text.c_str(), nullptr);
  if (!std::isfinite(d)) {
    return BuiltinError("to_number",
                        "strconv.ParseFloat: parsing " + Quote(s) + ": value out of range");
  }
  return Value::Double(d);
}

// ---------------------------------------------------------------------------------------------
// bits.*

template <class Op>
Result<Value> BitsBinary(std::string_view name, Args args, Op op) {
  auto x = IntOperand(name, 1, args[0]);
  if (!x) return x.error();
  auto y = IntOperand(name, 2, args[1]);
  if (!y) return y.error();
  return Value::Int(op(*x, *y));
}

Result<Value> Shift(std::string_view name, Args args, bool left) {
  auto x = IntOperand(name, 1, args[0]);
  if (!x) return x.error();
  auto n = IntOperand(name, 2, args[1]);
  if (!n) return n.error();
  if (*n < 0) {
    return OperandError(name, 2, "must be an unsigned integer number but got a negative integer");
  }
  if (!left) {
    if (*n >= 63) return Value::Int(*x < 0 ? -1 : 0);
    return Value::Int(*x >> *n);  // arithmetic shift: floor division like big.Int.Rsh
  }
  if (*x == 0) return Value::Int(0);
  if (*n < 63) {
    __int128 wide = static_cast<__int128>(*x) << *n;
    if (wide >= std::numeric_limits<int64_t>::min() &&
        wide <= std::numeric_limits<int64_t>::max()) {
      return Value::Int(static_cast<int64_t>(wide));
    }
  }
  if (*n > 4096) return BuiltinError(name, "numeric result out of range");
  return FromWide(name, std::ldexp(static_cast<long double>(*x), static_cast<int>(*n)));
}

// ---------------------------------------------------------------------------------------------
// numbers.range / numbers.range_step

Result<Value> Range(std::string_view name, int64_t from, int64_t to, int64_t step) {
  __int128 span = static_cast<__int128>(to) - from;
  if (span < 0) span = -span;
  __int128 length = span / step + 1;
  if (length > kMaxRangeLength) {
    return BuiltinError(
        name, "result would have more than " + std::to_string(kMaxRangeLength) + " elements");
  }
  Array out;
  out.reserve(static_cast<size_t>(length));
  __int128 v = from;
  for (__int128 k = 0; k < length; ++k) {
    out.push_back(Value::Int(static_cast<int64_t>(v)));
    v += from <= to ? step : -step;
  }
  return Value::FromArray(std::move(out));
}

Result<Value> NumbersRange(Args args) {
  auto x = IntOperand("numbers.range", 1, args[0]);
  if (!x) return x.error();
  auto y = IntOperand("numbers.range", 2, args[1]);
  if (!y) return y.error();
  return Range("numbers.range", *x, *y, 1);
}

Result<Value> NumbersRangeStep(Args args) {
  constexpr std::string_view kName = "numbers.range_step";
  auto x = IntOperand(kName, 1, args[0]);
  if (!x) return x.error();
  auto y = IntOperand(kName, 2, args[1]);
  if (!y) return y.error();
  const Value& s = args[2];
  if (!s.is_number()) return OperandTypeError(kName, 3, "number", s);
  if (!IsIntegral(s)) {
    return OperandError(kName, 3, "must be integer number but got floating-point number");
  }
  if (s.as_double() <= 0) return BuiltinError(kName, "step must be a positive integer");
  // A step beyond int64 exceeds any span between two int64 values: only the start remains.
  if (!s.is_int()) return Value::FromArray({Value::Int(*x)});
  return Range(kName, *x, *y, s.as_int());
}

// ---------------------------------------------------------------------------------------------
// Registration helpers

void Add1(BuiltinRegistry& r, std::string name, Result<Value> (*fn)(const Value&)) {
  r.Add(std::move(name), 1, [fn](BuiltinContext&, Args args) { return fn(args[0]); });
}

void Add2(BuiltinRegistry& r, std::string name, Result<Value> (*fn)(const Value&, const Value&)) {
  r.Add(std::move(name), 2, [fn](BuiltinContext&, Args args) { return fn(args[0], args[1]); });
}

template <class Pred>
void AddComparison(BuiltinRegistry& r, std::string_view name, Pred pred) {
  r.Add(std::string(name), 2, [pred](BuiltinContext&, Args args) -> Result<Value> {
    return Value::Bool(pred(Compare(args[0], args[1])));
  });
}

template <class Pred>
void AddTypeTest(BuiltinRegistry& r, std::string_view name, Pred pred) {
  r.Add(std::string(name), 1,
        [pred](BuiltinContext&, Args args) -> Result<Value> { return Value::Bool(pred(args[0])); });
}

Result<Value> SetOp(std::string_view name, const Value& a, const Value& b, bool intersect) {
  if (!a.is_set()) return OperandTypeError(name, 1, "set", a);
  if (!b.is_set()) return OperandTypeError(name, 2, "set", b);
  if (!intersect) {
    Set out = a.set();
    out.insert(b.set().begin(), b.set().end());
    return Value::FromSet(std::move(out));
  }
  Set out;
  for (const auto& e : a.set()) {
    if (b.set().contains(e)) out.insert(out.end(), e);
  }
  return Value::FromSet(std::move(out));
}

}  // namespace

void RegisterCoreBuiltins(BuiltinRegistry& r) {
  // Comparison: any two values, by the total order.
  AddComparison(r, "equal", [](int c) { return c == 0; });
  AddComparison(r, "neq", [](int c) { return c != 0; });
  AddComparison(r, "lt", [](int c) { return c < 0; });
  AddComparison(r, "lte", [](int c) { return c <= 0; });
  AddComparison(r, "gt", [](int c) { return c > 0; });
  AddComparison(r, "gte", [](int c) { return c >= 0; });

  // Arithmetic.
  Add2(r, "plus", Plus);
  Add2(r, "minus", Minus);
  Add2(r, "mul", Mul);
  Add2(r, "div", Div);
  Add2(r, "rem", Rem);
  Add1(r, "abs",
       [](const Value& a) { return Unary("abs", a, [](double d) { return std::fabs(d); }); });
  Add1(r, "round",
       [](const Value& a) { return Unary("round", a, [](double d) { return std::round(d); }); });
  Add1(r, "ceil",
       [](const Value& a) { return Unary("ceil", a, [](double d) { return std::ceil(d); }); });
  Add1(r, "floor",
       [](const Value& a) { return Unary("floor", a, [](double d) { return std::floor(d); }); });
  Add2(r, "and", [](const Value& a, const Value& b) { return SetOp("and", a, b, true); });
  Add2(r, "or", [](const Value& a, const Value& b) { return SetOp("or", a, b, false); });

  // Aggregates.
  Add1(r, "count", Count);
  Add1(r, "sum", [](const Value& c) { return Accumulate("sum", c, false); });
  Add1(r, "product", [](const Value& c) { return Accumulate("product", c, true); });
  Add1(r, "max", [](const Value& c) { return MinMax("max", c, true); });
  Add1(r, "min", [](const Value& c) { return MinMax("min", c, false); });
  Add1(r, "sort", Sort);

  // Types.
  AddTypeTest(r, "is_number", [](const Value& v) { return v.is_number(); });
  AddTypeTest(r, "is_string", [](const Value& v) { return v.is_string(); });
  AddTypeTest(r, "is_boolean", [](const Value& v) { return v.is_bool(); });
  AddTypeTest(r, "is_array", [](const Value& v) { return v.is_array(); });
  AddTypeTest(r, "is_set", [](const Value& v) { return v.is_set(); });
  AddTypeTest(r, "is_object", [](const Value& v) { return v.is_object(); });
  AddTypeTest(r, "is_null", [](const Value& v) { return v.is_null(); });
  Add1(r, "type_name",
       [](const Value& v) -> Result<Value> { return Value::String(std::string(v.TypeName())); });

  // Casts.
  Add1(r, "to_number", ToNumber);

  // Bits.
  r.Add("bits.and", 2, [](BuiltinContext&, Args args) {
    return BitsBinary("bits.and", args, [](int64_t x, int64_t y) { return x & y; });
  });
  r.Add("bits.or", 2, [](BuiltinContext&, Args args) {
    return BitsBinary("bits.or", args, [](int64_t x, int64_t y) { return x | y; });
  });
  r.Add("bits.xor", 2, [](BuiltinContext&, Args args) {
    return BitsBinary("bits.xor", args, [](int64_t x, int64_t y) { return x ^ y; });
  });
  r.Add("bits.negate", 1, [](BuiltinContext&, Args args) -> Result<Value> {
    auto x = IntOperand("bits.negate", 1, args[0]);
    if (!x) return x.error();
    return Value::Int(~*x);
  });
  r.Add("bits.lsh", 2, [](BuiltinContext&, Args args) { return Shift("bits.lsh", args, true); });
  r.Add("bits.rsh", 2, [](BuiltinContext&, Args args) { return Shift("bits.rsh", args, false); });

  // Ranges.
  r.Add("numbers.range", 2, [](BuiltinContext&, Args args) { return NumbersRange(args); });
  r.Add("numbers.range_step", 3, [](BuiltinContext&, Args args) { return NumbersRangeStep(args); });
}

}  // namespace mcpgw::rego
