// String built-ins: strings.*, sprintf, regex.*, glob.*, units.*, semver.*.
//
// Semantics follow OPA (which uses Go's strings, fmt and regexp packages, gobwas/glob and
// yashtewari/glob-intersection). Lengths and offsets are counted in Unicode code points, as Go
// counts runes. Regular expressions use RE2, whose syntax is the one Go's regexp accepts; match
// iteration (empty matches, replacement expansion with $1 / ${name}) is done the way Go does it.
#include <re2/re2.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <utility>
#include <vector>

#include "rego/builtins.h"
#include "rego/builtins_util.h"

namespace mcpgw::rego {
namespace {

using Args = std::span<const Value>;

// ---------------------------------------------------------------------------------------------
// Small helpers

void AppendRune(std::string& out, char32_t r) {
  if (r > 0x10FFFF || (r >= 0xD800 && r <= 0xDFFF)) r = 0xFFFD;
  if (r < 0x80) {
    out.push_back(static_cast<char>(r));
  } else if (r < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (r >> 6)));
    out.push_back(static_cast<char>(0x80 | (r & 0x3F)));
  } else if (r < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (r >> 12)));
    out.push_back(static_cast<char>(0x80 | ((r >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (r & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (r >> 18)));
    out.push_back(static_cast<char>(0x80 | ((r >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((r >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (r & 0x3F)));
  }
}

std::vector<char32_t> ToRunes(std::string_view s) {
  std::vector<char32_t> out;
  out.reserve(s.size());
  for (size_t pos = 0; pos < s.size();) {
    auto [r, w] = DecodeRune(s, pos);
    out.push_back(r);
    pos += w;
  }
  return out;
}

std::string FromRunes(const char32_t* begin, const char32_t* end) {
  std::string out;
  for (const char32_t* p = begin; p != end; ++p) AppendRune(out, *p);
  return out;
}

// Byte offsets of each rune start in s, plus s.size() at the end.
std::vector<size_t> RuneOffsets(std::string_view s) {
  std::vector<size_t> out;
  out.reserve(s.size() + 1);
  for (size_t pos = 0; pos < s.size();) {
    out.push_back(pos);
    pos += DecodeRune(s, pos).second;
  }
  out.push_back(s.size());
  return out;
}

bool IsAscii(std::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

Error StringOperandError(std::string_view name, int pos, const Value& v) {
  return OperandTypeError(name, pos, "string", v);
}

// Registers a built-in whose operands must all be strings.
template <int N, class F>
void AddStrings(BuiltinRegistry& r, const std::string& name, F fn) {
  r.Add(name, N, [name, fn](BuiltinContext&, Args args) -> Result<Value> {
    if (args.size() < N) return BuiltinError(name, "wrong number of operands");
    std::array<std::string_view, N> s;
    for (int i = 0; i < N; ++i) {
      const Value& v = args[static_cast<size_t>(i)];
      if (!v.is_string()) return StringOperandError(name, i + 1, v);
      s[static_cast<size_t>(i)] = v.str();
    }
    return fn(s);
  });
}

// ---------------------------------------------------------------------------------------------
// Unicode case mapping (Go's unicode.ToLower / ToUpper for the scripts in common use: Latin,
// Greek, Cyrillic, Armenian, Georgian, fullwidth Latin).

bool InPairRange(char32_t r, char32_t lo, char32_t hi) { return r >= lo && r <= hi; }

// Ranges where an upper-case letter at an even code point is followed by its lower case.
constexpr std::pair<char32_t, char32_t> kEvenUpperPairs[] = {
    {0x100, 0x12F}, {0x132, 0x137}, {0x14A, 0x177},   {0x1DE, 0x1EF},  {0x1F8, 0x21F},
    {0x222, 0x233}, {0x246, 0x24F}, {0x370, 0x373},   {0x3D8, 0x3EF},  {0x460, 0x481},
    {0x48A, 0x4BF}, {0x4D0, 0x52F}, {0x1E00, 0x1E95}, {0x1EA0, 0x1EFF}};
// Ranges where the upper-case letter sits at the odd code point.
constexpr std::pair<char32_t, char32_t> kOddUpperPairs[] = {
    {0x139, 0x148}, {0x179, 0x17E}, {0x1CD, 0x1DC}, {0x4C1, 0x4CE}};

char32_t ToLowerRune(char32_t r) {
  if (r < 0x80) return (r >= 'A' && r <= 'Z') ? r + 32 : r;
  if (r >= 0xC0 && r <= 0xDE && r != 0xD7) return r + 32;
  for (const auto& [lo, hi] : kEvenUpperPairs) {
    if (InPairRange(r, lo, hi)) return (r - lo) % 2 == 0 ? r + 1 : r;
  }
  for (const auto& [lo, hi] : kOddUpperPairs) {
    if (InPairRange(r, lo, hi)) return (r - lo) % 2 == 0 ? r + 1 : r;
  }
  switch (r) {
    case 0x130:
      return 'i';
    case 0x178:
      return 0xFF;
    case 0x4C0:
      return 0x4CF;
    case 0x386:
      return 0x3AC;
    case 0x38C:
      return 0x3CC;
    default:
      break;
  }
  if (r >= 0x388 && r <= 0x38A) return r + 37;
  if (r >= 0x38E && r <= 0x38F) return r + 63;
  if (r >= 0x391 && r <= 0x3AB && r != 0x3A2) return r + 32;
  if (r >= 0x400 && r <= 0x40F) return r + 80;
  if (r >= 0x410 && r <= 0x42F) return r + 32;
  if (r >= 0x531 && r <= 0x556) return r + 48;
  if (r >= 0x10A0 && r <= 0x10C5) return r + 7264;
  if (r >= 0xFF21 && r <= 0xFF3A) return r + 32;
  return r;
}

char32_t ToUpperRune(char32_t r) {
  if (r < 0x80) return (r >= 'a' && r <= 'z') ? r - 32 : r;
  if (r >= 0xE0 && r <= 0xFE && r != 0xF7) return r - 32;
  for (const auto& [lo, hi] : kEvenUpperPairs) {
    if (InPairRange(r, lo, hi)) return (r - lo) % 2 == 1 ? r - 1 : r;
  }
  for (const auto& [lo, hi] : kOddUpperPairs) {
    if (InPairRange(r, lo, hi)) return (r - lo) % 2 == 1 ? r - 1 : r;
  }
  switch (r) {
    case 0xB5:
      return 0x39C;
    case 0xFF:
      return 0x178;
    case 0x131:
      return 'I';
    case 0x17F:
      return 'S';
    case 0x4CF:
      return 0x4C0;
    case 0x3C2:
      return 0x3A3;
    case 0x3AC:
      return 0x386;
    case 0x3CC:
      return 0x38C;
    default:
      break;
  }
  if (r >= 0x3AD && r <= 0x3AF) return r - 37;
  if (r >= 0x3CD && r <= 0x3CE) return r - 63;
  if (r >= 0x3B1 && r <= 0x3CB) return r - 32;
  if (r >= 0x430 && r <= 0x44F) return r - 32;
  if (r >= 0x450 && r <= 0x45F) return r - 80;
  if (r >= 0x561 && r <= 0x586) return r - 48;
  if (r >= 0x2D00 && r <= 0x2D25) return r - 7264;
  if (r >= 0xFF41 && r <= 0xFF5A) return r - 32;
  return r;
}

std::string MapRunes(std::string_view s, char32_t (*fn)(char32_t)) {
  std::string out;
  out.reserve(s.size());
  for (size_t pos = 0; pos < s.size();) {
    auto [r, w] = DecodeRune(s, pos);
    AppendRune(out, fn(r));  // like Go, an invalid byte becomes U+FFFD
    pos += w;
  }
  return out;
}

// Go's unicode.IsSpace.
bool IsSpaceRune(char32_t r) {
  switch (r) {
    case '\t':
    case '\n':
    case '\v':
    case '\f':
    case '\r':
    case ' ':
    case 0x85:
    case 0xA0:
    case 0x1680:
    case 0x2028:
    case 0x2029:
    case 0x202F:
    case 0x205F:
    case 0x3000:
      return true;
    default:
      return r >= 0x2000 && r <= 0x200A;
  }
}

// ---------------------------------------------------------------------------------------------
// Go's strings.Trim family, strings.NewReplacer, strings.Split, strings.Count

template <class Pred>
std::string_view TrimLeftFunc(std::string_view s, Pred in_set) {
  size_t pos = 0;
  while (pos < s.size()) {
    auto [r, w] = DecodeRune(s, pos);
    if (!in_set(r)) break;
    pos += w;
  }
  return s.substr(pos);
}

template <class Pred>
std::string_view TrimRightFunc(std::string_view s, Pred in_set) {
  std::vector<size_t> offs = RuneOffsets(s);
  size_t n = offs.size() - 1;
  while (n > 0) {
    size_t start = offs[n - 1];
    if (!in_set(DecodeRune(s, start).first)) break;
    --n;
  }
  return s.substr(0, offs[n]);
}

auto CutsetPredicate(std::string_view cutset) {
  std::vector<char32_t> set = ToRunes(cutset);
  return [set = std::move(set)](char32_t r) {
    return std::find(set.begin(), set.end(), r) != set.end();
  };
}

// Go's strings.NewReplacer(old1, new1, ...).Replace(s): at each byte position the first pair (in
// argument order) whose old string matches wins; an empty old string matches between bytes, but
// not twice in a row at the same position.
std::string ReplacePairs(std::string_view s,
                         const std::vector<std::pair<std::string, std::string>>& pairs) {
  std::string out;
  out.reserve(s.size());
  bool prev_match_empty = false;
  size_t i = 0;
  while (i <= s.size()) {
    const std::pair<std::string, std::string>* match = nullptr;
    for (const auto& p : pairs) {
      if (p.first.empty()) {
        if (prev_match_empty) continue;
      } else if (i + p.first.size() > s.size() || s.compare(i, p.first.size(), p.first) != 0) {
        continue;
      }
      match = &p;
      break;
    }
    if (match != nullptr) {
      prev_match_empty = match->first.empty();
      out += match->second;
      i += match->first.size();
      continue;
    }
    prev_match_empty = false;
    if (i < s.size()) out.push_back(s[i]);
    ++i;
  }
  return out;
}

Value SplitString(std::string_view s, std::string_view sep) {
  Array out;
  if (sep.empty()) {
    for (size_t pos = 0; pos < s.size();) {
      size_t w = DecodeRune(s, pos).second;
      out.push_back(Value::String(std::string(s.substr(pos, w))));
      pos += w;
    }
    return Value::FromArray(std::move(out));
  }
  size_t start = 0;
  while (true) {
    size_t at = s.find(sep, start);
    if (at == std::string_view::npos) break;
    out.push_back(Value::String(std::string(s.substr(start, at - start))));
    start = at + sep.size();
  }
  out.push_back(Value::String(std::string(s.substr(start))));
  return Value::FromArray(std::move(out));
}

int64_t CountSubstrings(std::string_view s, std::string_view sub) {
  if (sub.empty()) return static_cast<int64_t>(RuneCount(s)) + 1;
  int64_t n = 0;
  for (size_t pos = s.find(sub); pos != std::string_view::npos;
       pos = s.find(sub, pos + sub.size())) {
    ++n;
  }
  return n;
}

// Strings of a string / array / set operand (strings.any_prefix_match and friends).
Result<std::vector<std::string_view>> StringsOperand(std::string_view name, int pos,
                                                     const Value& v) {
  std::vector<std::string_view> out;
  if (v.is_string()) {
    out.push_back(v.str());
    return out;
  }
  if (v.is_array()) {
    for (const Value& e : v.array()) {
      if (!e.is_string()) return OperandElementError(name, pos, v, "string", e);
      out.push_back(e.str());
    }
    return out;
  }
  if (v.is_set()) {
    for (const Value& e : v.set()) {
      if (!e.is_string()) return OperandElementError(name, pos, v, "string", e);
      out.push_back(e.str());
    }
    return out;
  }
  return OperandTypeError(name, pos, "one of {string, set, array}", v);
}

Result<Value> AnyMatch(std::string_view name, Args args, bool suffix) {
  auto strs = StringsOperand(name, 1, args[0]);
  if (!strs) return strs.error();
  auto affixes = StringsOperand(name, 2, args[1]);
  if (!affixes) return affixes.error();
  for (std::string_view s : *strs) {
    for (std::string_view a : *affixes) {
      bool hit = suffix ? (s.size() >= a.size() && s.substr(s.size() - a.size()) == a)
                        : s.substr(0, a.size()) == a;
      if (hit) return Value::True();
    }
  }
  return Value::False();
}

// ---------------------------------------------------------------------------------------------
// format_int

std::string IntegerDigits(unsigned __int128 u, int base) {
  static const char* kDigits = "0123456789abcdef";
  if (u == 0) return "0";
  std::string out;
  while (u > 0) {
    out.push_back(kDigits[static_cast<int>(u % static_cast<unsigned>(base))]);
    u /= static_cast<unsigned>(base);
  }
  std::reverse(out.begin(), out.end());
  return out;
}

Result<Value> FormatInt(BuiltinContext&, Args args) {
  constexpr std::string_view kName = "format_int";
  if (!args[0].is_number()) return OperandTypeError(kName, 1, "number", args[0]);
  if (!args[1].is_number()) return OperandTypeError(kName, 2, "number", args[1]);
  int base = 0;
  if (args[1].is_int()) {
    int64_t b = args[1].as_int();
    if (b == 2 || b == 8 || b == 10 || b == 16) base = static_cast<int>(b);
  }
  if (base == 0) return OperandError(kName, 2, "must be one of {2, 8, 10, 16}");
  bool negative = false;
  unsigned __int128 magnitude = 0;
  if (args[0].is_int()) {
    int64_t i = args[0].as_int();
    negative = i < 0;
    magnitude = negative ? static_cast<unsigned __int128>(-(static_cast<__int128>(i)))
                         : static_cast<unsigned __int128>(i);
  } else {
    double d = std::trunc(args[0].as_double());
    if (!std::isfinite(d) || std::fabs(d) >= 1.7e38) {
      return BuiltinError(kName, "operand 1 out of range");
    }
    negative = d < 0;
    magnitude = static_cast<unsigned __int128>(std::fabs(d));
  }
  std::string digits = IntegerDigits(magnitude, base);
  if (negative && digits != "0") digits.insert(digits.begin(), '-');
  return Value::String(std::move(digits));
}

// ---------------------------------------------------------------------------------------------
// sprintf: Go's fmt.Sprintf with the argument types OPA passes (int, *big.Int, float64, string;
// everything else as its Rego text).

enum class ArgKind : uint8_t { kInt, kBig, kFloat, kString };

struct FmtArg {
  ArgKind kind = ArgKind::kString;
  int64_t i = 0;
  double f = 0;
  std::string s;
};

std::string_view GoTypeName(const FmtArg& a) {
  switch (a.kind) {
    case ArgKind::kInt:
      return "int";
    case ArgKind::kBig:
      return "*big.Int";
    case ArgKind::kFloat:
      return "float64";
    case ArgKind::kString:
      return "string";
  }
  return "string";
}

FmtArg ToFmtArg(const Value& v) {
  FmtArg a;
  if (v.is_int()) {
    a.kind = ArgKind::kInt;
    a.i = v.as_int();
  } else if (v.is_number()) {
    double d = v.as_double();
    a.f = d;
    a.kind = (std::isfinite(d) && d == std::trunc(d)) ? ArgKind::kBig : ArgKind::kFloat;
  } else if (v.is_string()) {
    a.s = v.str();
  } else {
    a.s = v.ToString();
  }
  return a;
}

struct FmtFlags {
  bool plus = false;
  bool minus = false;
  bool sharp = false;
  bool space = false;
  bool zero = false;
  bool plus_v = false;
  bool sharp_v = false;
  bool wid_present = false;
  bool prec_present = false;
  int wid = 0;
  int prec = 0;
};

// Go's unicode.IsPrint, approximated: graphic characters and the ASCII space.
bool IsPrintRune(char32_t r) {
  if (r < 0x80) return r >= 0x20 && r < 0x7F;
  if (r < 0xA1 || r == 0xAD) return false;
  if ((r >= 0x2000 && r <= 0x200F) || (r >= 0x2028 && r <= 0x202F) ||
      (r >= 0x205F && r <= 0x206F) || r == 0x3000 || r == 0xFEFF || (r >= 0xFFF9 && r <= 0xFFFB)) {
    return false;
  }
  if ((r >= 0xD800 && r <= 0xDFFF) || (r >= 0xE000 && r <= 0xF8FF) || r == 0xFFFE || r == 0xFFFF) {
    return false;
  }
  return r <= 0x10FFFF;
}

void AppendHex(std::string& out, uint32_t v, int width) {
  static const char* kHex = "0123456789abcdef";
  for (int shift = (width - 1) * 4; shift >= 0; shift -= 4) out.push_back(kHex[(v >> shift) & 0xF]);
}

// strconv.Quote / QuoteRune (quote is '"' or '\''), ascii_only for the '+' flag.
void AppendEscapedRune(std::string& out, char32_t r, char quote, bool ascii_only) {
  if (r == static_cast<char32_t>(quote) || r == '\\') {
    out.push_back('\\');
    out.push_back(static_cast<char>(r));
    return;
  }
  if (ascii_only ? (r < 0x80 && IsPrintRune(r)) : IsPrintRune(r)) {
    AppendRune(out, r);
    return;
  }
  switch (r) {
    case '\a':
      out += "\\a";
      return;
    case '\b':
      out += "\\b";
      return;
    case '\f':
      out += "\\f";
      return;
    case '\n':
      out += "\\n";
      return;
    case '\r':
      out += "\\r";
      return;
    case '\t':
      out += "\\t";
      return;
    case '\v':
      out += "\\v";
      return;
    default:
      break;
  }
  if (r < ' ' || r == 0x7F) {
    out += "\\x";
    AppendHex(out, r, 2);
  } else if (r > 0x10FFFF || (r >= 0xD800 && r <= 0xDFFF)) {
    out += "\\ufffd";
  } else if (r < 0x10000) {
    out += "\\u";
    AppendHex(out, r, 4);
  } else {
    out += "\\U";
    AppendHex(out, r, 8);
  }
}

std::string GoQuote(std::string_view s, bool ascii_only) {
  std::string out = "\"";
  for (size_t pos = 0; pos < s.size();) {
    auto [r, w] = DecodeRune(s, pos);
    if (r == 0xFFFD && w == 1) {
      out += "\\x";
      AppendHex(out, static_cast<unsigned char>(s[pos]), 2);
    } else {
      AppendEscapedRune(out, r, '"', ascii_only);
    }
    pos += w;
  }
  out.push_back('"');
  return out;
}

bool CanBackquote(std::string_view s) {
  for (size_t pos = 0; pos < s.size();) {
    auto [r, w] = DecodeRune(s, pos);
    pos += w;
    if (w > 1) {
      if (r == 0xFEFF) return false;
      continue;
    }
    if (r == 0xFFFD) return false;
    if ((r < ' ' && r != '\t') || r == '`' || r == 0x7F) return false;
  }
  return true;
}

class GoFormatter {
 public:
  GoFormatter(std::string& out, const FmtFlags& f) : out_(out), f_(f) {}

  void WritePadding(int n) {
    if (n <= 0) return;
    out_.append(static_cast<size_t>(n), f_.zero ? '0' : ' ');
  }

  // Pads s (measured in runes) to the width.
  void Pad(std::string_view s) {
    if (!f_.wid_present || f_.wid == 0) {
      out_ += s;
      return;
    }
    int width = f_.wid - static_cast<int>(RuneCount(s));
    if (!f_.minus) {
      WritePadding(width);
      out_ += s;
    } else {
      out_ += s;
      WritePadding(width);
    }
  }

  std::string Truncate(std::string_view s) const {
    if (!f_.prec_present) return std::string(s);
    size_t pos = 0;
    for (int n = 0; n < f_.prec && pos < s.size(); ++n) pos += DecodeRune(s, pos).second;
    return std::string(s.substr(0, pos));
  }

  void FmtS(std::string_view s) { Pad(Truncate(s)); }

  void FmtQ(std::string_view s) {
    std::string t = Truncate(s);
    if (f_.sharp && CanBackquote(t)) {
      Pad("`" + t + "`");
    } else {
      Pad(GoQuote(t, f_.plus));
    }
  }

  void FmtSx(std::string_view s, bool upper) {
    const char* digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    int length = static_cast<int>(s.size());
    if (f_.prec_present && f_.prec < length) length = f_.prec;
    int width = 2 * length;
    if (width > 0) {
      if (f_.space) {
        if (f_.sharp) width *= 2;
        width += length - 1;
      } else if (f_.sharp) {
        width += 2;
      }
    } else {
      if (f_.wid_present) WritePadding(f_.wid);
      return;
    }
    if (f_.wid_present && f_.wid > width && !f_.minus) WritePadding(f_.wid - width);
    if (f_.sharp) {
      out_.push_back('0');
      out_.push_back(upper ? 'X' : 'x');
    }
    for (int i = 0; i < length; ++i) {
      if (f_.space && i > 0) {
        out_.push_back(' ');
        if (f_.sharp) {
          out_.push_back('0');
          out_.push_back(upper ? 'X' : 'x');
        }
      }
      auto c = static_cast<unsigned char>(s[static_cast<size_t>(i)]);
      out_.push_back(digits[c >> 4]);
      out_.push_back(digits[c & 0xF]);
    }
    if (f_.wid_present && f_.wid > width && f_.minus) WritePadding(f_.wid - width);
  }

  // fmt.fmtInteger for a signed int64.
  void FmtInteger(int64_t v, int base, char32_t verb, bool upper) {
    bool negative = v < 0;
    uint64_t u =
        negative ? static_cast<uint64_t>(0) - static_cast<uint64_t>(v) : static_cast<uint64_t>(v);
    int prec = 0;
    if (f_.prec_present) {
      prec = f_.prec;
      if (prec == 0 && u == 0) {
        bool old_zero = f_.zero;
        f_.zero = false;
        WritePadding(f_.wid);
        f_.zero = old_zero;
        return;
      }
    } else if (f_.zero && !f_.minus && f_.wid_present) {
      prec = f_.wid;
      if (negative || f_.plus || f_.space) --prec;
    }
    const char* digits = upper ? "0123456789ABCDEFX" : "0123456789abcdefx";
    std::string buf;
    do {
      buf.push_back(digits[u % static_cast<unsigned>(base)]);
      u /= static_cast<unsigned>(base);
    } while (u > 0);
    while (static_cast<int>(buf.size()) < prec) buf.push_back('0');
    if (f_.sharp) {
      if (base == 2) {
        buf += "b0";
      } else if (base == 8) {
        if (buf.back() != '0') buf.push_back('0');
      } else if (base == 16) {
        buf.push_back(digits[16]);
        buf.push_back('0');
      }
    }
    if (verb == 'O') buf += "o0";
    if (negative) {
      buf.push_back('-');
    } else if (f_.plus) {
      buf.push_back('+');
    } else if (f_.space) {
      buf.push_back(' ');
    }
    std::reverse(buf.begin(), buf.end());
    bool old_zero = f_.zero;
    f_.zero = false;
    Pad(buf);
    f_.zero = old_zero;
  }

  void FmtUnicode(int64_t v) {
    auto u = static_cast<uint64_t>(v);
    std::string buf = "U+";
    char hex[32];
    int prec = 4;
    if (f_.prec_present && f_.prec > 4) prec = std::min(f_.prec, 20);
    std::snprintf(hex, sizeof hex, "%0*llX", prec, static_cast<unsigned long long>(u));
    buf += hex;
    if (f_.sharp && u <= 0x10FFFF && IsPrintRune(static_cast<char32_t>(u))) {
      buf += " '";
      AppendRune(buf, static_cast<char32_t>(u));
      buf += "'";
    }
    bool old_zero = f_.zero;
    f_.zero = false;
    Pad(buf);
    f_.zero = old_zero;
  }

  // fmt.fmtFloat: num is the formatted number without sign handling.
  void FmtFloatText(std::string num) {
    if (num.empty() || (num[0] != '-' && num[0] != '+')) num.insert(num.begin(), '+');
    if (f_.space && num[0] == '+' && !f_.plus) num[0] = ' ';
    if (f_.plus || num[0] != '+') {
      if (f_.zero && !f_.minus && f_.wid_present && f_.wid > static_cast<int>(num.size())) {
        out_.push_back(num[0]);
        WritePadding(f_.wid - static_cast<int>(num.size()));
        out_.append(num, 1);
        return;
      }
      Pad(num);
      return;
    }
    Pad(std::string_view(num).substr(1));
  }

  FmtFlags& flags() { return f_; }

 private:
  std::string& out_;
  FmtFlags f_;
};

// Shortest round-trip decimal digits of |v| and its decimal exponent (value = 0.d1d2... * 10^dp).
void ShortestDigits(double v, std::string* digits, int* dp) {
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, std::fabs(v), std::chars_format::scientific);
  std::string_view s(buf, static_cast<size_t>(res.ptr - buf));
  size_t e = s.find('e');
  std::string mant(s.substr(0, e));
  int exp10 = std::atoi(std::string(s.substr(e + 1)).c_str());
  digits->clear();
  for (char c : mant) {
    if (c != '.') digits->push_back(c);
  }
  while (digits->size() > 1 && digits->back() == '0') digits->pop_back();
  *dp = exp10 + 1;
  if (*digits == "0") *dp = 0;
}

std::string FmtE(bool neg, const std::string& digits, int dp, int prec, char e) {
  std::string out = neg ? "-" : "";
  out.push_back(digits.empty() ? '0' : digits[0]);
  if (prec > 0) {
    out.push_back('.');
    for (int i = 1; i <= prec; ++i) {
      out.push_back(static_cast<size_t>(i) < digits.size() ? digits[static_cast<size_t>(i)] : '0');
    }
  }
  out.push_back(e);
  int exp = digits == "0" ? 0 : dp - 1;
  out.push_back(exp < 0 ? '-' : '+');
  exp = std::abs(exp);
  if (exp < 10) out.push_back('0');
  out += std::to_string(exp);
  return out;
}

std::string FmtF(bool neg, const std::string& digits, int dp, int prec) {
  std::string out = neg ? "-" : "";
  if (dp > 0) {
    for (int i = 0; i < dp; ++i) {
      out.push_back(static_cast<size_t>(i) < digits.size() ? digits[static_cast<size_t>(i)] : '0');
    }
  } else {
    out.push_back('0');
  }
  if (prec > 0) {
    out.push_back('.');
    for (int i = 0; i < prec; ++i) {
      int j = dp + i;
      out.push_back(
          j >= 0 && static_cast<size_t>(j) < digits.size() ? digits[static_cast<size_t>(j)] : '0');
    }
  }
  return out;
}

// strconv.FormatFloat(v, verb, prec, 64) for verbs e E f F g G (prec -1 = shortest).
std::string FormatFloatGo(double v, char verb, int prec) {
  bool neg = std::signbit(v);
  if (prec < 0) {
    std::string digits;
    int dp = 0;
    ShortestDigits(v, &digits, &dp);
    int nd = digits == "0" ? 0 : static_cast<int>(digits.size());
    switch (verb) {
      case 'e':
      case 'E':
        return FmtE(neg, digits, dp, std::max(nd - 1, 0), verb);
      case 'f':
      case 'F':
        return FmtF(neg, digits, dp, std::max(nd - dp, 0));
      default: {
        int exp = dp - 1;
        if (nd == 0) exp = 0;
        if (exp < -4 || exp >= 6) {  // shortest %g switches to %e at 1e+06
          return FmtE(neg, digits, dp, std::max(nd - 1, 0), verb == 'G' ? 'E' : 'e');
        }
        return FmtF(neg, digits, dp, std::max(nd - dp, 0));
      }
    }
  }
  char fmt[16];
  std::snprintf(fmt, sizeof fmt, "%%.%d%c", std::min(prec, 1000), verb);
  std::vector<char> buf(static_cast<size_t>(std::min(prec, 1000)) + 400);
  std::snprintf(buf.data(), buf.size(), fmt, v);
  return std::string(buf.data());
}

// strconv 'b' format: mantissa p exponent.
std::string FormatFloatBinary(double v) {
  uint64_t bits = 0;
  std::memcpy(&bits, &v, sizeof bits);
  bool neg = (bits >> 63) != 0;
  auto exp = static_cast<int>((bits >> 52) & 0x7FF);
  uint64_t mant = bits & ((uint64_t{1} << 52) - 1);
  if (exp == 0) {
    exp = 1;
  } else {
    mant |= uint64_t{1} << 52;
  }
  exp -= 1075;
  std::string out = neg ? "-" : "";
  out += std::to_string(mant);
  out.push_back('p');
  if (exp >= 0) out.push_back('+');
  out += std::to_string(exp);
  return out;
}

std::string FormatFloatHex(double v, bool upper, int prec) {
  char buf[128];
  if (prec >= 0) {
    std::snprintf(buf, sizeof buf, upper ? "%.*A" : "%.*a", std::min(prec, 60), v);
  } else {
    std::snprintf(buf, sizeof buf, upper ? "%A" : "%a", v);
  }
  std::string s(buf);
  // Go prints at least two exponent digits.
  size_t p = s.find_first_of("pP");
  if (p != std::string::npos && p + 2 < s.size() + 1) {
    size_t digits_at = p + 2;
    if (s.size() - digits_at == 1) s.insert(digits_at, "0");
  }
  return s;
}

// Digits of an integral double in the given base (for *big.Int arguments).
std::string BigDigits(double v, int base) {
  double a = std::fabs(v);
  if (base == 10) {
    char buf[400];
    std::snprintf(buf, sizeof buf, "%.0f", a);
    return buf;
  }
  int exp = 0;
  double frac = std::frexp(a, &exp);  // a = frac * 2^exp, frac in [0.5, 1)
  if (a == 0) return "0";
  auto mant = static_cast<uint64_t>(std::ldexp(frac, 53));
  int shift = exp - 53;
  std::string bits;  // binary digits, most significant first
  for (int i = 52; i >= 0; --i) bits.push_back(((mant >> i) & 1) != 0 ? '1' : '0');
  if (shift > 0) {
    bits.append(static_cast<size_t>(shift), '0');
  } else if (shift < 0) {
    bits.resize(bits.size() - static_cast<size_t>(-shift));
  }
  size_t first = bits.find('1');
  bits = first == std::string::npos ? "0" : bits.substr(first);
  int group = base == 2 ? 1 : (base == 8 ? 3 : 4);
  while (bits.size() % static_cast<size_t>(group) != 0) bits.insert(bits.begin(), '0');
  std::string out;
  for (size_t i = 0; i < bits.size(); i += static_cast<size_t>(group)) {
    int d = 0;
    for (int k = 0; k < group; ++k) d = d * 2 + (bits[i + static_cast<size_t>(k)] - '0');
    out.push_back("0123456789abcdef"[d]);
  }
  return out;
}

void PrintArg(std::string& out, const FmtArg& a, char32_t verb, const FmtFlags& flags);

void BadVerb(std::string& out, const FmtArg& a, char32_t verb, const FmtFlags& flags) {
  out += "%!";
  AppendRune(out, verb);
  out.push_back('(');
  out += GoTypeName(a);
  out.push_back('=');
  PrintArg(out, a, 'v', flags);
  out.push_back(')');
}

// big.Int.Format.
void FormatBig(std::string& out, const FmtArg& a, char32_t verb, const FmtFlags& f) {
  int base = 0;
  switch (verb) {
    case 'b':
      base = 2;
      break;
    case 'o':
    case 'O':
      base = 8;
      break;
    case 'd':
    case 's':
    case 'v':
      base = 10;
      break;
    case 'x':
    case 'X':
      base = 16;
      break;
    default:
      out += "%!";
      AppendRune(out, verb);
      out += a.f < 0 ? "(big.Int=-" : "(big.Int=";
      out += BigDigits(a.f, 10);
      out.push_back(')');
      return;
  }
  std::string sign;
  if (a.f < 0) {
    sign = "-";
  } else if (f.plus || f.plus_v) {
    sign = "+";
  } else if (f.space) {
    sign = " ";
  }
  std::string prefix;
  if (f.sharp || f.sharp_v) {
    switch (verb) {
      case 'b':
        prefix = "0b";
        break;
      case 'o':
        prefix = "0";
        break;
      case 'x':
        prefix = "0x";
        break;
      case 'X':
        prefix = "0X";
        break;
      default:
        break;
    }
  }
  if (verb == 'O') prefix = "0o";
  std::string digits = BigDigits(a.f, base);
  if (verb == 'X') {
    for (char& c : digits) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  int left = 0;
  int zeros = 0;
  int right = 0;
  if (f.prec_present) {
    if (static_cast<int>(digits.size()) < f.prec) {
      zeros = f.prec - static_cast<int>(digits.size());
    } else if (digits == "0" && f.prec == 0) {
      return;
    }
  }
  int length = static_cast<int>(sign.size() + prefix.size() + digits.size()) + zeros;
  if (f.wid_present && length < f.wid) {
    int d = f.wid - length;
    if (f.minus) {
      right = d;
    } else if (f.zero && !f.prec_present) {
      zeros = d;
    } else {
      left = d;
    }
  }
  out.append(static_cast<size_t>(left), ' ');
  out += sign;
  out += prefix;
  out.append(static_cast<size_t>(zeros), '0');
  out += digits;
  out.append(static_cast<size_t>(right), ' ');
}

void PrintArg(std::string& out, const FmtArg& a, char32_t verb, const FmtFlags& flags) {
  GoFormatter fmt(out, flags);
  if (verb == 'T') {
    fmt.FmtS(GoTypeName(a));
    return;
  }
  switch (a.kind) {
    case ArgKind::kInt:
      switch (verb) {
        case 'v':
        case 'd':
          fmt.FmtInteger(a.i, 10, verb, false);
          return;
        case 'b':
          fmt.FmtInteger(a.i, 2, verb, false);
          return;
        case 'o':
        case 'O':
          fmt.FmtInteger(a.i, 8, verb, false);
          return;
        case 'x':
          fmt.FmtInteger(a.i, 16, verb, false);
          return;
        case 'X':
          fmt.FmtInteger(a.i, 16, verb, true);
          return;
        case 'c': {
          std::string s;
          AppendRune(s, (a.i < 0 || a.i > 0x10FFFF) ? 0xFFFD : static_cast<char32_t>(a.i));
          fmt.Pad(s);
          return;
        }
        case 'q': {
          char32_t r = (a.i < 0 || a.i > 0x10FFFF) ? 0xFFFD : static_cast<char32_t>(a.i);
          std::string s = "'";
          AppendEscapedRune(s, r, '\'', flags.plus);
          s += "'";
          fmt.Pad(s);
          return;
        }
        case 'U':
          fmt.FmtUnicode(a.i);
          return;
        default:
          BadVerb(out, a, verb, flags);
          return;
      }
    case ArgKind::kBig:
      FormatBig(out, a, verb, flags);
      return;
    case ArgKind::kFloat: {
      int prec = -1;
      char v = 0;
      switch (verb) {
        case 'v':
          v = 'g';
          break;
        case 'b':
        case 'g':
        case 'G':
        case 'x':
        case 'X':
          v = static_cast<char>(verb);
          break;
        case 'f':
        case 'e':
        case 'E':
        case 'F':
          v = static_cast<char>(verb);
          prec = 6;
          break;
        default:
          BadVerb(out, a, verb, flags);
          return;
      }
      if (flags.prec_present) prec = flags.prec;
      std::string num;
      if (v == 'b') {
        num = FormatFloatBinary(a.f);
      } else if (v == 'x' || v == 'X') {
        num = FormatFloatHex(a.f, v == 'X', prec);
      } else {
        num = FormatFloatGo(a.f, v, prec);
      }
      fmt.FmtFloatText(std::move(num));
      return;
    }
    case ArgKind::kString:
      switch (verb) {
        case 'v':
          if (flags.sharp_v) {
            fmt.FmtQ(a.s);
          } else {
            fmt.FmtS(a.s);
          }
          return;
        case 's':
          fmt.FmtS(a.s);
          return;
        case 'x':
          fmt.FmtSx(a.s, false);
          return;
        case 'X':
          fmt.FmtSx(a.s, true);
          return;
        case 'q':
          fmt.FmtQ(a.s);
          return;
        default:
          BadVerb(out, a, verb, flags);
          return;
      }
  }
}

bool TooLarge(int64_t x) { return x > 1000000 || x < -1000000; }

// parsenum: digits at s[start, end).
struct ParsedNum {
  int num = 0;
  bool isnum = false;
  size_t newi = 0;
};

ParsedNum ParseNum(std::string_view s, size_t start, size_t end) {
  ParsedNum p;
  if (start >= end) {
    p.newi = end;
    return p;
  }
  int64_t num = 0;
  size_t i = start;
  for (; i < end && s[i] >= '0' && s[i] <= '9'; ++i) {
    if (TooLarge(num)) return ParsedNum{0, false, end};
    num = num * 10 + (s[i] - '0');
    p.isnum = true;
  }
  p.num = static_cast<int>(num);
  p.newi = i;
  return p;
}

std::string GoSprintf(std::string_view format, const std::vector<FmtArg>& a) {
  std::string out;
  const size_t end = format.size();
  size_t arg_num = 0;
  bool reordered = false;
  bool good_arg_num = true;

  // argNumber: an explicit [n] argument index at format[i].
  auto arg_number = [&](size_t arg, size_t i, bool* found) -> std::pair<size_t, size_t> {
    *found = false;
    if (i >= end || format[i] != '[') return {arg, i};
    reordered = true;
    std::string_view rest = format.substr(i);
    size_t wid = 1;
    bool ok = false;
    int index = 0;
    if (rest.size() >= 3) {
      for (size_t k = 1; k < rest.size(); ++k) {
        if (rest[k] == ']') {
          ParsedNum p = ParseNum(rest, 1, k);
          if (!p.isnum || p.newi != k) {
            wid = k + 1;
          } else {
            index = p.num - 1;
            wid = k + 1;
            ok = true;
          }
          break;
        }
      }
    }
    if (ok && index >= 0 && static_cast<size_t>(index) < a.size()) {
      *found = true;
      return {static_cast<size_t>(index), i + wid};
    }
    good_arg_num = false;
    *found = ok;
    return {arg, i + wid};
  };

  auto int_from_arg = [&](size_t arg, int* num, bool* is_int) -> size_t {
    *num = 0;
    *is_int = false;
    if (arg < a.size()) {
      if (a[arg].kind == ArgKind::kInt && !TooLarge(a[arg].i)) {
        *num = static_cast<int>(a[arg].i);
        *is_int = true;
      }
      return arg + 1;
    }
    return arg;
  };

  for (size_t i = 0; i < end;) {
    good_arg_num = true;
    size_t lasti = i;
    while (i < end && format[i] != '%') ++i;
    out.append(format.substr(lasti, i - lasti));
    if (i >= end) break;
    ++i;  // skip %

    FmtFlags f;
    for (; i < end; ++i) {
      char c = format[i];
      if (c == '#') {
        f.sharp = true;
      } else if (c == '0') {
        f.zero = !f.minus;
      } else if (c == '+') {
        f.plus = true;
      } else if (c == '-') {
        f.minus = true;
        f.zero = false;
      } else if (c == ' ') {
        f.space = true;
      } else {
        break;
      }
    }

    bool after_index = false;
    std::tie(arg_num, i) = arg_number(arg_num, i, &after_index);

    if (i < end && format[i] == '*') {
      ++i;
      arg_num = int_from_arg(arg_num, &f.wid, &f.wid_present);
      if (!f.wid_present) out += "%!(BADWIDTH)";
      if (f.wid < 0) {
        f.wid = -f.wid;
        f.minus = true;
        f.zero = false;
      }
      after_index = false;
    } else {
      ParsedNum p = ParseNum(format, i, end);
      f.wid = p.num;
      f.wid_present = p.isnum;
      i = p.newi;
      if (after_index && f.wid_present) good_arg_num = false;
    }

    if (i < end && format[i] == '.') {
      ++i;
      if (after_index) good_arg_num = false;
      std::tie(arg_num, i) = arg_number(arg_num, i, &after_index);
      if (i < end && format[i] == '*') {
        ++i;
        arg_num = int_from_arg(arg_num, &f.prec, &f.prec_present);
        if (f.prec < 0) {
          f.prec = 0;
          f.prec_present = false;
        }
        if (!f.prec_present) out += "%!(BADPREC)";
        after_index = false;
      } else {
        ParsedNum p = ParseNum(format, i, end);
        f.prec = p.num;
        f.prec_present = p.isnum;
        i = p.newi;
        if (!f.prec_present) {
          f.prec = 0;
          f.prec_present = true;
        }
      }
    }

    if (!after_index) std::tie(arg_num, i) = arg_number(arg_num, i, &after_index);

    if (i >= end) {
      out += "%!(NOVERB)";
      break;
    }
    auto [verb, size] = DecodeRune(format, i);
    i += size;

    if (verb == '%') {
      out.push_back('%');
      continue;
    }
    if (!good_arg_num) {
      out += "%!";
      AppendRune(out, verb);
      out += "(BADINDEX)";
      continue;
    }
    if (arg_num >= a.size()) {
      out += "%!";
      AppendRune(out, verb);
      out += "(MISSING)";
      continue;
    }
    if (verb == 'v') {
      f.sharp_v = f.sharp;
      f.sharp = false;
      f.plus_v = f.plus;
      f.plus = false;
    }
    PrintArg(out, a[arg_num], verb, f);
    ++arg_num;
  }

  if (!reordered && arg_num < a.size()) {
    out += "%!(EXTRA ";
    for (size_t k = arg_num; k < a.size(); ++k) {
      if (k > arg_num) out += ", ";
      out += GoTypeName(a[k]);
      out.push_back('=');
      PrintArg(out, a[k], 'v', FmtFlags{});
    }
    out.push_back(')');
  }
  return out;
}

Result<Value> Sprintf(BuiltinContext&, Args args) {
  constexpr std::string_view kName = "sprintf";
  if (!args[0].is_string()) return StringOperandError(kName, 1, args[0]);
  if (!args[1].is_array()) return OperandTypeError(kName, 2, "array", args[1]);
  std::vector<FmtArg> fa;
  fa.reserve(args[1].array().size());
  for (const Value& v : args[1].array()) fa.push_back(ToFmtArg(v));
  return Value::String(GoSprintf(args[0].str(), fa));
}

// ---------------------------------------------------------------------------------------------
// Regular expressions (RE2) with a bounded, thread-safe cache of compiled patterns.

class RegexCache {
 public:
  // Returns the compiled pattern, or the compile error text.
  Result<std::shared_ptr<const RE2>> Get(const std::string& key, const std::string& pattern) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = map_.find(key);
      if (it != map_.end()) return it->second;
    }
    RE2::Options opts;
    opts.set_log_errors(false);
    opts.set_max_mem(int64_t{64} << 20);
    auto re = std::make_shared<const RE2>(pattern, opts);
    if (!re->ok()) return MakeError("error parsing regexp: " + re->error());
    std::lock_guard<std::mutex> lock(mu_);
    if (map_.size() >= kMaxSize) map_.erase(map_.begin());
    map_.emplace(key, re);
    return re;
  }

 private:
  static constexpr size_t kMaxSize = 256;
  std::mutex mu_;
  std::unordered_map<std::string, std::shared_ptr<const RE2>> map_;
};

RegexCache& Cache() {
  static RegexCache cache;
  return cache;
}

Result<std::shared_ptr<const RE2>> CompileRegex(std::string_view name, const std::string& pattern) {
  auto re = Cache().Get("r:" + pattern, pattern);
  if (!re) return BuiltinError(name, re.error().message);
  return re;
}

// A match: byte ranges of the whole match and each group (-1 when a group did not take part).
struct MatchSpans {
  std::vector<std::pair<ptrdiff_t, ptrdiff_t>> spans;
};

// Go's Regexp.allMatches: calls fn for up to n matches (n < 0: all), skipping an empty match
// directly after the previous match and advancing one rune past empty matches.
template <class F>
void ForEachMatch(const RE2& re, std::string_view s, int64_t n, F&& fn) {
  int ngroups = re.NumberOfCapturingGroups() + 1;
  std::vector<re2::StringPiece> m(static_cast<size_t>(ngroups));
  re2::StringPiece text(s.data(), s.size());
  size_t pos = 0;
  int64_t count = 0;
  ptrdiff_t prev_match_end = -1;
  while ((n < 0 || count < n) && pos <= s.size()) {
    if (!re.Match(text, pos, s.size(), RE2::UNANCHORED, m.data(), ngroups)) break;
    MatchSpans ms;
    for (const auto& g : m) {
      if (g.data() == nullptr) {
        ms.spans.emplace_back(-1, -1);
      } else {
        ptrdiff_t start = g.data() - s.data();
        ms.spans.emplace_back(start, start + static_cast<ptrdiff_t>(g.size()));
      }
    }
    auto [mstart, mend] = ms.spans[0];
    bool accept = true;
    if (mend == static_cast<ptrdiff_t>(pos)) {
      if (mstart == prev_match_end) accept = false;
      if (pos < s.size()) {
        pos += DecodeRune(s, pos).second;
      } else {
        pos = s.size() + 1;
      }
    } else {
      pos = static_cast<size_t>(mend);
    }
    prev_match_end = mend;
    if (accept) {
      fn(ms);
      ++count;
    }
  }
}

std::string_view SpanText(std::string_view s, std::pair<ptrdiff_t, ptrdiff_t> span) {
  if (span.first < 0) return {};
  return s.substr(static_cast<size_t>(span.first), static_cast<size_t>(span.second - span.first));
}

Result<Value> RegexMatch(std::string_view name, Args args) {
  if (!args[0].is_string()) return StringOperandError(name, 1, args[0]);
  if (!args[1].is_string()) return StringOperandError(name, 2, args[1]);
  auto re = CompileRegex(name, args[0].str());
  if (!re) return re.error();
  return Value::Bool(RE2::PartialMatch(args[1].str(), **re));
}

Result<Value> RegexIsValid(BuiltinContext&, Args args) {
  if (!args[0].is_string()) return Value::False();
  auto re = Cache().Get("r:" + args[0].str(), args[0].str());
  return Value::Bool(re.ok());
}

Result<Value> RegexFindN(BuiltinContext&, Args args) {
  constexpr std::string_view kName = "regex.find_n";
  if (!args[0].is_string()) return StringOperandError(kName, 1, args[0]);
  if (!args[1].is_string()) return StringOperandError(kName, 2, args[1]);
  auto n = IntOperand(kName, 3, args[2]);
  if (!n) return n.error();
  auto re = CompileRegex(kName, args[0].str());
  if (!re) return re.error();
  std::string_view s = args[1].str();
  Array out;
  ForEachMatch(**re, s, *n, [&](const MatchSpans& m) {
    out.push_back(Value::String(std::string(SpanText(s, m.spans[0]))));
  });
  return Value::FromArray(std::move(out));
}

Result<Value> RegexFindAllSubmatch(BuiltinContext&, Args args) {
  constexpr std::string_view kName = "regex.find_all_string_submatch_n";
  if (!args[0].is_string()) return StringOperandError(kName, 1, args[0]);
  if (!args[1].is_string()) return StringOperandError(kName, 2, args[1]);
  auto n = IntOperand(kName, 3, args[2]);
  if (!n) return n.error();
  auto re = CompileRegex(kName, args[0].str());
  if (!re) return re.error();
  std::string_view s = args[1].str();
  Array out;
  ForEachMatch(**re, s, *n, [&](const MatchSpans& m) {
    Array groups;
    for (const auto& span : m.spans)
      groups.push_back(Value::String(std::string(SpanText(s, span))));
    out.push_back(Value::FromArray(std::move(groups)));
  });
  return Value::FromArray(std::move(out));
}

Result<Value> RegexSplit(BuiltinContext&, Args args) {
  constexpr std::string_view kName = "regex.split";
  if (!args[0].is_string()) return StringOperandError(kName, 1, args[0]);
  if (!args[1].is_string()) return StringOperandError(kName, 2, args[1]);
  auto re = CompileRegex(kName, args[0].str());
  if (!re) return re.error();
  std::string_view s = args[1].str();
  Array out;
  if (!args[0].str().empty() && s.empty()) {
    out.push_back(Value::String(""));
    return Value::FromArray(std::move(out));
  }
  size_t beg = 0;
  size_t end = 0;
  ForEachMatch(**re, s, -1, [&](const MatchSpans& m) {
    end = static_cast<size_t>(m.spans[0].first);
    if (m.spans[0].second != 0) out.push_back(Value::String(std::string(s.substr(beg, end - beg))));
    beg = static_cast<size_t>(m.spans[0].second);
  });
  if (end != s.size()) out.push_back(Value::String(std::string(s.substr(beg))));
  return Value::FromArray(std::move(out));
}

// Go's Regexp.Expand of a replacement template ($1, ${1}, $name, ${name}, $$).
void ExpandTemplate(std::string& out, std::string_view tpl, const RE2& re, std::string_view src,
                    const MatchSpans& m) {
  auto is_name_char = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           static_cast<unsigned char>(c) >= 0x80;
  };
  while (!tpl.empty()) {
    size_t dollar = tpl.find('$');
    if (dollar == std::string_view::npos) break;
    out.append(tpl.substr(0, dollar));
    tpl.remove_prefix(dollar + 1);
    if (!tpl.empty() && tpl[0] == '$') {
      out.push_back('$');
      tpl.remove_prefix(1);
      continue;
    }
    // extract
    std::string_view str = tpl;
    bool brace = false;
    if (!str.empty() && str[0] == '{') {
      brace = true;
      str.remove_prefix(1);
    }
    size_t i = 0;
    while (i < str.size() && is_name_char(str[i])) ++i;
    bool ok = i > 0;
    if (ok && brace) {
      if (i >= str.size() || str[i] != '}') {
        ok = false;
      }
    }
    if (!ok) {
      out.push_back('$');
      continue;
    }
    std::string_view name = str.substr(0, i);
    size_t consumed = (brace ? 1 : 0) + i + (brace ? 1 : 0);
    tpl.remove_prefix(consumed);
    int64_t num = 0;
    for (char c : name) {
      if (c < '0' || c > '9' || num >= 100000000) {
        num = -1;
        break;
      }
      num = num * 10 + (c - '0');
    }
    if (name[0] == '0' && name.size() > 1) num = -1;
    if (num >= 0) {
      if (static_cast<size_t>(num) < m.spans.size())
        out.append(SpanText(src, m.spans[static_cast<size_t>(num)]));
    } else {
      const auto& names = re.NamedCapturingGroups();
      auto it = names.find(std::string(name));
      if (it != names.end() && static_cast<size_t>(it->second) < m.spans.size()) {
        out.append(SpanText(src, m.spans[static_cast<size_t>(it->second)]));
      }
    }
  }
  out.append(tpl);
}

Result<Value> RegexReplace(BuiltinContext&, Args args) {
  constexpr std::string_view kName = "regex.replace";
  for (int i = 0; i < 3; ++i) {
    if (!args[static_cast<size_t>(i)].is_string()) {
      return StringOperandError(kName, i + 1, args[static_cast<size_t>(i)]);
    }
  }
  auto compiled = CompileRegex(kName, args[1].str());
  if (!compiled) return compiled.error();
  const RE2& re = **compiled;
  std::string_view src = args[0].str();
  std::string_view tpl = args[2].str();
  int ngroups = re.NumberOfCapturingGroups() + 1;
  std::vector<re2::StringPiece> m(static_cast<size_t>(ngroups));
  re2::StringPiece text(src.data(), src.size());
  std::string out;
  size_t last_match_end = 0;
  size_t search_pos = 0;
  while (search_pos <= src.size()) {
    if (!re.Match(text, search_pos, src.size(), RE2::UNANCHORED, m.data(), ngroups)) break;
    MatchSpans ms;
    for (const auto& g : m) {
      if (g.data() == nullptr) {
        ms.spans.emplace_back(-1, -1);
      } else {
        ptrdiff_t start = g.data() - src.data();
        ms.spans.emplace_back(start, start + static_cast<ptrdiff_t>(g.size()));
      }
    }
    auto a0 = static_cast<size_t>(ms.spans[0].first);
    auto a1 = static_cast<size_t>(ms.spans[0].second);
    out.append(src.substr(last_match_end, a0 - last_match_end));
    if (a1 > last_match_end || a0 == 0) ExpandTemplate(out, tpl, re, src, ms);
    last_match_end = a1;
    size_t width = search_pos < src.size() ? DecodeRune(src, search_pos).second : 0;
    if (search_pos + width > a1) {
      search_pos += width;
    } else if (search_pos + 1 > a1) {
      ++search_pos;
    } else {
      search_pos = a1;
    }
  }
  out.append(src.substr(last_match_end));
  return Value::String(std::move(out));
}

Result<Value> RegexTemplateMatch(BuiltinContext&, Args args) {
  constexpr std::string_view kName = "regex.template_match";
  for (int i = 0; i < 4; ++i) {
    if (!args[static_cast<size_t>(i)].is_string()) {
      return StringOperandError(kName, i + 1, args[static_cast<size_t>(i)]);
    }
  }
  const std::string& tpl = args[0].str();
  const std::string& start = args[2].str();
  const std::string& end = args[3].str();
  if (start.size() != 1) {
    return BuiltinError(kName, "start delimiter has to be exactly one character long but is " +
                                   std::to_string(start.size()) + " long");
  }
  if (end.size() != 1) {
    return BuiltinError(kName, "end delimiter has to be exactly one character long but is " +
                                   std::to_string(start.size()) + " long");
  }
  std::string key = "t:" + start + end + tpl;
  std::string pattern = "^";
  int level = 0;
  size_t idx = 0;
  size_t last = 0;
  for (size_t i = 0; i < tpl.size(); ++i) {
    if (tpl[i] == start[0]) {
      if (++level == 1) idx = i;
    } else if (tpl[i] == end[0]) {
      if (--level == 0) {
        pattern += RE2::QuoteMeta(std::string_view(tpl).substr(last, idx - last));
        std::string inner = tpl.substr(idx + 1, i - idx - 1);
        auto check = Cache().Get("r:^" + inner + "$", "^" + inner + "$");
        if (!check) return BuiltinError(kName, check.error().message);
        pattern += "(" + inner + ")";
        last = i + 1;
      } else if (level < 0) {
        return BuiltinError(kName, "unbalanced braces in " + GoQuote(tpl, false));
      }
    }
  }
  if (level != 0) return BuiltinError(kName, "unbalanced braces in " + GoQuote(tpl, false));
  pattern += RE2::QuoteMeta(std::string_view(tpl).substr(last));
  pattern += "$";
  auto re = Cache().Get(key, pattern);
  if (!re) return BuiltinError(kName, re.error().message);
  return Value::Bool(RE2::PartialMatch(args[1].str(), **re));
}

// ---------------------------------------------------------------------------------------------
// regex.globs_match: whether two regex-style globs (., [set], +, *, \escape) match a common
// non-empty string.

struct GlobToken {
  enum Type : uint8_t { kChar, kDot, kSet } type = kChar;
  char32_t ch = 0;
  std::vector<char32_t> set;  // sorted
  bool star = false;          // after expansion: zero or more
};

Result<std::vector<GlobToken>> TokenizeIntersectGlob(std::string_view input) {
  std::vector<char32_t> in = ToRunes(input);
  auto invalid = [&](size_t pos, const std::string& msg) {
    return MakeError("input:" + std::string(input) + ", pos:" + std::to_string(pos) + ", " + msg +
                     ": the input provided is invalid");
  };
  struct Rune {
    char32_t r;
    bool escaped;
  };
  // nextRune
  auto next_rune = [&](size_t index, Rune* out, size_t* newi) -> Result<bool> {
    if (index >= in.size()) return false;
    if (in[index] == '\\') {
      if (index + 1 < in.size()) {
        *out = {in[index + 1], true};
        *newi = index + 2;
        return true;
      }
      return invalid(index, "input ends with a \\ (escape) character");
    }
    *out = {in[index], false};
    *newi = index + 1;
    return true;
  };
  std::vector<GlobToken> tokens;
  size_t i = 0;
  while (true) {
    Rune r{};
    size_t ni = 0;
    auto got = next_rune(i, &r, &ni);
    if (!got) return got.error();
    if (!*got) break;
    i = ni;
    GlobToken t;
    if (!r.escaped && r.r == '.') {
      t.type = GlobToken::kDot;
    } else if (!r.escaped && r.r == ']') {
      return invalid(i, "set-close ']' with no preceding '['");
    } else if (!r.escaped && r.r == '[') {
      t.type = GlobToken::kSet;
      bool complete = false;
      bool prev_exists = false;
      char32_t prev = 0;
      while (!complete) {
        Rune s{};
        auto more = next_rune(i, &s, &ni);
        if (!more) return more.error();
        if (!*more) break;
        i = ni;
        if (!s.escaped && s.r == '-') {
          if (!prev_exists) {
            return invalid(i, "range character '-' must be preceded by a Unicode character");
          }
          if (i + 1 >= in.size()) {
            return invalid(i, "range character '-' must be followed by a Unicode character");
          }
          Rune hi{};
          auto h = next_rune(i, &hi, &ni);
          if (!h) return h.error();
          i = ni;
          if (!hi.escaped && (hi.r == ']' || hi.r == '-')) {
            return invalid(i, "range character '-' cannot be followed by a special symbol");
          }
          // An out-of-order range adds nothing (the library loses that error).
          if (hi.r >= prev && hi.r - prev > 0x10000) return invalid(i, "range is too large");
          for (char32_t x = prev; x <= hi.r && hi.r >= prev; ++x) t.set.push_back(x);
          prev_exists = false;
        } else if (!s.escaped && s.r == ']') {
          complete = true;
        } else {
          t.set.push_back(s.r);
          prev = s.r;
          prev_exists = true;
        }
      }
      if (!complete) return invalid(i, "found [ without matching ]");
      std::sort(t.set.begin(), t.set.end());
      t.set.erase(std::unique(t.set.begin(), t.set.end()), t.set.end());
    } else if (!r.escaped && (r.r == '+' || r.r == '*')) {
      std::string msg = "flag '";
      AppendRune(msg, r.r);
      msg += "' must be preceded by a non-flag";
      return invalid(i, msg);
    } else {
      t.ch = r.r;
    }
    // An optional flag.
    char32_t flag = 0;
    if (i < in.size() && (in[i] == '+' || in[i] == '*')) {
      flag = in[i];
      ++i;
    }
    if (flag == '*') {
      t.star = true;
      tokens.push_back(std::move(t));
    } else if (flag == '+') {
      tokens.push_back(t);
      t.star = true;
      tokens.push_back(std::move(t));
    } else {
      tokens.push_back(std::move(t));
    }
  }
  return tokens;
}

bool SetsIntersect(const std::vector<char32_t>& a, const std::vector<char32_t>& b) {
  size_t i = 0;
  size_t j = 0;
  while (i < a.size() && j < b.size()) {
    if (a[i] == b[j]) return true;
    if (a[i] < b[j]) {
      ++i;
    } else {
      ++j;
    }
  }
  return false;
}

bool GlobTokensMatch(const GlobToken& x, const GlobToken& y) {
  const GlobToken& a = x.type <= y.type ? x : y;
  const GlobToken& b = x.type <= y.type ? y : x;
  switch (a.type) {
    case GlobToken::kChar:
      if (b.type == GlobToken::kChar) return a.ch == b.ch;
      if (b.type == GlobToken::kDot) return true;
      return std::binary_search(b.set.begin(), b.set.end(), a.ch);
    case GlobToken::kDot:
      if (b.type == GlobToken::kDot) return true;
      return !b.set.empty();
    case GlobToken::kSet:
      return SetsIntersect(a.set, b.set);
  }
  return false;
}

bool GlobsIntersect(const std::vector<GlobToken>& a, const std::vector<GlobToken>& b) {
  if (a.empty() && b.empty()) return true;
  const size_t n = a.size();
  const size_t m = b.size();
  // state (i, j, consumed)
  std::vector<char> seen((n + 1) * (m + 1) * 2, 0);
  std::vector<std::tuple<size_t, size_t, int>> stack;
  auto push = [&](size_t i, size_t j, int c) {
    size_t k = ((i * (m + 1)) + j) * 2 + static_cast<size_t>(c);
    if (seen[k] == 0) {
      seen[k] = 1;
      stack.emplace_back(i, j, c);
    }
  };
  push(0, 0, 0);
  while (!stack.empty()) {
    auto [i, j, c] = stack.back();
    stack.pop_back();
    if (i == n && j == m && c == 1) return true;
    if (i < n && a[i].star) push(i + 1, j, c);
    if (j < m && b[j].star) push(i, j + 1, c);
    if (i < n && j < m && GlobTokensMatch(a[i], b[j])) {
      push(a[i].star ? i : i + 1, b[j].star ? j : j + 1, 1);
    }
  }
  return false;
}

Result<Value> GlobsMatch(BuiltinContext&, Args args) {
  constexpr std::string_view kName = "regex.globs_match";
  if (!args[0].is_string()) return StringOperandError(kName, 1, args[0]);
  if (!args[1].is_string()) return StringOperandError(kName, 2, args[1]);
  auto a = TokenizeIntersectGlob(args[0].str());
  if (!a) return BuiltinError(kName, a.error().message);
  auto b = TokenizeIntersectGlob(args[1].str());
  if (!b) return BuiltinError(kName, b.error().message);
  return Value::Bool(GlobsIntersect(*a, *b));
}

// ---------------------------------------------------------------------------------------------
// glob.match (gobwas/glob semantics), compiled to an RE2 pattern.

std::string RuneClassItem(char32_t r) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "\\x{%x}", static_cast<unsigned>(r));
  return buf;
}

Result<std::string> GlobToRegex(std::string_view pat, const std::vector<char32_t>& delims) {
  std::string not_delim;
  if (delims.empty()) {
    not_delim = ".";
  } else {
    not_delim = "[^";
    for (char32_t d : delims) not_delim += RuneClassItem(d);
    not_delim += "]";
  }
  std::string re;
  int terms_level = 0;
  size_t pos = 0;
  // read(): next rune or 0 at end; error on invalid UTF-8.
  auto peek = [&](size_t at, char32_t* r) -> Result<size_t> {
    if (at >= pat.size()) {
      *r = 0;
      return size_t{0};
    }
    auto [c, w] = DecodeRune(pat, at);
    if (c == 0xFFFD && w == 1) return MakeError("could not read rune");
    *r = c;
    return w;
  };
  // fetchText: literal text up to a breaker, with \ escapes.
  auto fetch_text = [&](std::u32string_view breakers, std::string* out) -> Status {
    bool escaped = false;
    while (true) {
      char32_t r = 0;
      auto w = peek(pos, &r);
      if (!w) return w.error();
      if (*w == 0) break;
      if (!escaped) {
        if (r == '\\') {
          escaped = true;
          pos += *w;
          continue;
        }
        if (breakers.find(r) != std::u32string_view::npos) break;
      }
      escaped = false;
      AppendRune(*out, r);
      pos += *w;
    }
    return {};
  };
  while (true) {
    char32_t r = 0;
    auto w = peek(pos, &r);
    if (!w) return w.error();
    if (*w == 0) break;
    if (r == '{') {
      pos += *w;
      ++terms_level;
      re += "(?:";
    } else if (r == ',' && terms_level > 0) {
      pos += *w;
      re += "|";
    } else if (r == '}' && terms_level > 0) {
      pos += *w;
      --terms_level;
      re += ")";
    } else if (r == '[') {
      pos += *w;
      bool negate = false;
      bool seen_not = false;
      bool want_hi = false;
      bool want_close = false;
      char32_t lo = 0;
      char32_t hi = 0;
      std::string chars;
      while (true) {
        char32_t c = 0;
        auto cw = peek(pos, &c);
        if (!cw) return cw.error();
        if (*cw == 0) return MakeError("unexpected end of input");
        if (want_close) {
          if (c != ']') return MakeError("expected close range character");
          pos += *cw;
          break;
        }
        if (want_hi) {
          hi = c;
          pos += *cw;
          want_close = true;
          continue;
        }
        if (!seen_not && c == '!') {
          negate = true;
          seen_not = true;
          pos += *cw;
          continue;
        }
        char32_t next = 0;
        auto nw = peek(pos + *cw, &next);
        if (!nw) return nw.error();
        if (*nw != 0 && next == '-') {
          lo = c;
          pos += *cw + *nw;
          want_hi = true;
          continue;
        }
        auto st = fetch_text(U"]", &chars);
        if (!st) return st.error();
        want_close = true;
      }
      bool is_range = lo != 0 && hi != 0;
      bool is_chars = !chars.empty();
      if (is_range == is_chars) return MakeError("could not parse range");
      if (is_range && hi < lo) {
        std::string msg = "hi character '";
        AppendRune(msg, hi);
        msg += "' should be greater than lo '";
        AppendRune(msg, lo);
        msg += "'";
        return MakeError(msg);
      }
      re += negate ? "[^" : "[";
      if (is_range) {
        re += RuneClassItem(lo) + "-" + RuneClassItem(hi);
      } else {
        for (char32_t c : ToRunes(chars)) re += RuneClassItem(c);
      }
      re += "]";
    } else if (r == '?') {
      pos += *w;
      re += not_delim;
    } else if (r == '*') {
      pos += *w;
      char32_t next = 0;
      auto nw = peek(pos, &next);
      if (!nw) return nw.error();
      if (*nw != 0 && next == '*') {
        pos += *nw;
        re += ".*";
      } else {
        re += not_delim + "*";
      }
    } else {
      std::string text;
      auto st = fetch_text(
          terms_level > 0 ? std::u32string_view(U"?*[{},") : std::u32string_view(U"?*[{"), &text);
      if (!st) return st.error();
      re += RE2::QuoteMeta(text);
    }
  }
  for (; terms_level > 0; --terms_level) re += ")";
  return re;
}

class GlobCache {
 public:
  Result<std::shared_ptr<const RE2>> Get(const std::string& pattern,
                                         const std::vector<char32_t>& delims) {
    std::string key = pattern;
    key.push_back('\0');
    for (char32_t d : delims) AppendRune(key, d);
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = map_.find(key);
      if (it != map_.end()) return it->second;
    }
    auto regex = GlobToRegex(pattern, delims);
    if (!regex) return regex.error();
    RE2::Options opts;
    opts.set_log_errors(false);
    opts.set_dot_nl(true);
    opts.set_max_mem(int64_t{64} << 20);
    auto re = std::make_shared<const RE2>(*regex, opts);
    if (!re->ok()) return MakeError(re->error());
    std::lock_guard<std::mutex> lock(mu_);
    if (map_.size() >= kMaxSize) map_.erase(map_.begin());
    map_.emplace(std::move(key), re);
    return re;
  }

 private:
  static constexpr size_t kMaxSize = 256;
  std::mutex mu_;
  std::unordered_map<std::string, std::shared_ptr<const RE2>> map_;
};

Result<Value> GlobMatch(BuiltinContext&, Args args) {
  constexpr std::string_view kName = "glob.match";
  static GlobCache cache;
  if (!args[0].is_string()) return StringOperandError(kName, 1, args[0]);
  std::vector<char32_t> delims;
  if (args[1].is_array()) {
    for (const Value& e : args[1].array()) {
      if (!e.is_string()) return OperandElementError(kName, 2, args[1], "string", e);
      std::vector<char32_t> rs = ToRunes(e.str());
      if (rs.size() != 1) return OperandElementError(kName, 2, args[1], "rune", e);
      delims.push_back(rs[0]);
    }
    if (delims.empty()) delims.push_back('.');
  } else if (!args[1].is_null()) {
    return OperandTypeError(kName, 2, "one of {array, null}", args[1]);
  }
  if (!args[2].is_string()) return StringOperandError(kName, 3, args[2]);
  auto re = cache.Get(args[0].str(), delims);
  if (!re) return BuiltinError(kName, re.error().message);
  return Value::Bool(RE2::FullMatch(args[2].str(), **re));
}

std::string GlobQuoteMeta(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (std::strchr("*?\\[]{}", c) != nullptr && c != '\0') out.push_back('\\');
    out.push_back(c);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// units.parse / units.parse_bytes: exact decimal arithmetic.

struct Decimal {
  bool negative = false;
  std::string digits;  // without leading zeros; "" means zero
  int64_t exp = 0;     // value = digits * 10^exp
};

// big.Rat / big.Float SetString grammar for what extractNumAndUnit lets through:
// [+-] (digits [. digits] | . digits) [(e|E) [+-] digits].
bool ParseDecimal(std::string_view s, Decimal* out) {
  size_t i = 0;
  Decimal d;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
    d.negative = s[i] == '-';
    ++i;
  }
  std::string digits;
  int64_t frac_digits = 0;
  bool any_digit = false;
  bool seen_dot = false;
  for (; i < s.size(); ++i) {
    char c = s[i];
    if (c >= '0' && c <= '9') {
      digits.push_back(c);
      any_digit = true;
      if (seen_dot) ++frac_digits;
    } else if (c == '.' && !seen_dot) {
      seen_dot = true;
    } else {
      break;
    }
  }
  if (!any_digit) return false;
  int64_t exp = 0;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    bool neg_exp = false;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
      neg_exp = s[i] == '-';
      ++i;
    }
    bool exp_digit = false;
    for (; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i) {
      if (exp < 100000000) exp = exp * 10 + (s[i] - '0');
      exp_digit = true;
    }
    if (!exp_digit) return false;
    if (neg_exp) exp = -exp;
  }
  if (i != s.size()) return false;
  size_t nz = digits.find_first_not_of('0');
  d.digits = nz == std::string::npos ? "" : digits.substr(nz);
  d.exp = exp - frac_digits;
  *out = std::move(d);
  return true;
}

void MulSmall(std::string& digits, uint32_t m) {
  uint64_t carry = 0;
  for (size_t k = digits.size(); k-- > 0;) {
    uint64_t v = static_cast<uint64_t>(digits[k] - '0') * m + carry;
    digits[k] = static_cast<char>('0' + v % 10);
    carry = v / 10;
  }
  while (carry > 0) {
    digits.insert(digits.begin(), static_cast<char>('0' + carry % 10));
    carry /= 10;
  }
}

// Increments a decimal digit string by one.
void IncrementDigits(std::string& digits) {
  for (size_t k = digits.size(); k-- > 0;) {
    if (digits[k] == '9') {
      digits[k] = '0';
    } else {
      ++digits[k];
      return;
    }
  }
  digits.insert(digits.begin(), '1');
}

Value NumberFromIntegerDigits(bool negative, const std::string& digits) {
  if (digits.empty()) return Value::Int(0);
  if (digits.size() <= 18) {
    int64_t v = std::strtoll(digits.c_str(), nullptr, 10);
    return Value::Int(negative ? -v : v);
  }
  double d = std::strtod(digits.c_str(), nullptr);
  return Value::Double(negative ? -d : d);
}

// Multiplies the decimal by 1024^binary_power and 10^decimal_power, then returns it exactly when
// integral; otherwise truncated (truncate) or rounded half away from zero to 10 decimals.
Result<Value> ScaleDecimal(Decimal d, int binary_power, int decimal_power, bool truncate) {
  if (d.digits.empty()) return Value::Int(0);
  for (int k = 0; k < binary_power; ++k) MulSmall(d.digits, 1024);
  d.exp += decimal_power;
  if (d.exp + static_cast<int64_t>(d.digits.size()) > 400) return MakeError("exponent too large");
  // Below 1e-12 the result rounds (or truncates) to zero at 10 decimals.
  if (d.exp + static_cast<int64_t>(d.digits.size()) < -12) return Value::Int(0);
  if (d.exp >= 0) {
    std::string digits = d.digits + std::string(static_cast<size_t>(d.exp), '0');
    return NumberFromIntegerDigits(d.negative, digits);
  }
  auto frac_len = static_cast<size_t>(-d.exp);
  std::string all = d.digits;
  if (all.size() < frac_len + 1) all.insert(0, frac_len + 1 - all.size(), '0');
  std::string int_part = all.substr(0, all.size() - frac_len);
  std::string frac = all.substr(all.size() - frac_len);
  if (truncate || frac.find_first_not_of('0') == std::string::npos) {
    size_t nz = int_part.find_first_not_of('0');
    return NumberFromIntegerDigits(d.negative, nz == std::string::npos ? "" : int_part.substr(nz));
  }
  if (frac.size() > 10) {
    bool round_up = frac[10] >= '5';
    frac.resize(10);
    if (round_up) {
      std::string joined = int_part + frac;
      IncrementDigits(joined);
      int_part = joined.substr(0, joined.size() - 10);
      frac = joined.substr(joined.size() - 10);
    }
  }
  std::string text = (d.negative ? "-" : "") + int_part + "." + frac;
  return Value::Double(std::strtod(text.c_str(), nullptr));
}

bool IsAsciiDigit(char c) { return c >= '0' && c <= '9'; }

// Splits "10.5Mi" into number and unit like OPA's extractNumAndUnit; false if the exponent has
// too many digits.
bool ExtractNumAndUnit(std::string_view s, std::string_view* num, std::string_view* unit) {
  size_t first_non_num = std::string_view::npos;
  for (size_t idx = 0; idx < s.size(); ++idx) {
    char c = s[idx];
    bool numeric = IsAsciiDigit(c) || c == '.';
    if (!numeric && c != 'e' && c != 'E' && c != '+' && c != '-') {
      first_non_num = idx;
      break;
    }
    if (c == 'e' || c == 'E') {
      if (idx == s.size() - 1 ||
          (!IsAsciiDigit(s[idx + 1]) && s[idx + 1] != '+' && s[idx + 1] != '-')) {
        first_non_num = idx;
        break;
      }
      if (s[idx + 1] == '+' || s[idx + 1] == '-') ++idx;
      size_t exp_start = idx + 1;
      size_t exp_end = exp_start;
      while (exp_end < s.size() && IsAsciiDigit(s[exp_end])) ++exp_end;
      if (exp_end - exp_start > 6) return false;
    }
  }
  if (first_non_num == std::string_view::npos) {
    *num = s;
    *unit = {};
  } else {
    *num = s.substr(0, first_non_num);
    *unit = s.substr(first_non_num);
  }
  return true;
}

std::string AsciiLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string RemoveQuotes(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c != '"') out.push_back(c);
  }
  return out;
}

Result<Value> UnitsParse(BuiltinContext&, Args args) {
  constexpr std::string_view kName = "units.parse";
  if (!args[0].is_string()) return StringOperandError(kName, 1, args[0]);
  std::string s = RemoveQuotes(args[0].str());
  if (s.find(' ') != std::string::npos) {
    return BuiltinError(kName, "spaces not allowed in resource strings");
  }
  std::string_view num;
  std::string_view unit_view;
  if (!ExtractNumAndUnit(s, &num, &unit_view)) return BuiltinError(kName, "exponent too large");
  if (num.empty()) return BuiltinError(kName, "no amount provided");
  std::string unit(unit_view);
  if (unit.size() > 1) unit = unit.substr(0, 1) + AsciiLower(unit.substr(1));
  int binary = 0;
  int decimal = 0;
  if (unit == "m") {
    decimal = -3;
  } else if (unit.empty()) {
  } else if (unit == "k" || unit == "K") {
    decimal = 3;
  } else if (unit == "ki" || unit == "Ki") {
    binary = 1;
  } else if (unit == "M") {
    decimal = 6;
  } else if (unit == "mi" || unit == "Mi") {
    binary = 2;
  } else if (unit == "g" || unit == "G") {
    decimal = 9;
  } else if (unit == "gi" || unit == "Gi") {
    binary = 3;
  } else if (unit == "t" || unit == "T") {
    decimal = 12;
  } else if (unit == "ti" || unit == "Ti") {
    binary = 4;
  } else if (unit == "p" || unit == "P") {
    decimal = 15;
  } else if (unit == "pi" || unit == "Pi") {
    binary = 5;
  } else if (unit == "e" || unit == "E") {
    decimal = 18;
  } else if (unit == "ei" || unit == "Ei") {
    binary = 6;
  } else {
    return BuiltinError(kName, "unit " + unit + " not recognized");
  }
  Decimal d;
  if (!ParseDecimal(num, &d)) return BuiltinError(kName, "could not parse amount to a number");
  auto v = ScaleDecimal(std::move(d), binary, decimal, false);
  if (!v) return BuiltinError(kName, v.error().message);
  return v;
}

Result<Value> UnitsParseBytes(BuiltinContext&, Args args) {
  constexpr std::string_view kName = "units.parse_bytes";
  if (!args[0].is_string()) return StringOperandError(kName, 1, args[0]);
  std::string s = RemoveQuotes(AsciiLower(args[0].str()));
  if (s.find(' ') != std::string::npos) {
    return BuiltinError(kName, "spaces not allowed in resource strings");
  }
  std::string_view num;
  std::string_view unit_view;
  if (!ExtractNumAndUnit(s, &num, &unit_view)) return BuiltinError(kName, "exponent too large");
  if (num.empty()) return BuiltinError(kName, "no byte amount provided");
  std::string unit(unit_view);
  static const std::pair<const char*, std::pair<int, int>> kUnits[] = {
      {"", {0, 0}},    {"kb", {0, 3}},  {"k", {0, 3}},   {"kib", {1, 0}}, {"ki", {1, 0}},
      {"mb", {0, 6}},  {"m", {0, 6}},   {"mib", {2, 0}}, {"mi", {2, 0}},  {"gb", {0, 9}},
      {"g", {0, 9}},   {"gib", {3, 0}}, {"gi", {3, 0}},  {"tb", {0, 12}}, {"t", {0, 12}},
      {"tib", {4, 0}}, {"ti", {4, 0}},  {"pb", {0, 15}}, {"p", {0, 15}},  {"pib", {5, 0}},
      {"pi", {5, 0}},  {"eb", {0, 18}}, {"e", {0, 18}},  {"eib", {6, 0}}, {"ei", {6, 0}}};
  const std::pair<int, int>* scale = nullptr;
  for (const auto& [u, sc] : kUnits) {
    if (unit == u) {
      scale = &sc;
      break;
    }
  }
  if (scale == nullptr) return BuiltinError(kName, "byte unit " + unit + " not recognized");
  Decimal d;
  if (!ParseDecimal(num, &d)) {
    return BuiltinError(kName, "could not parse byte amount to a number");
  }
  auto v = ScaleDecimal(std::move(d), scale->first, scale->second, true);
  if (!v) return BuiltinError(kName, v.error().message);
  return v;
}

// ---------------------------------------------------------------------------------------------
// semver

struct SemVer {
  int64_t major = 0;
  int64_t minor = 0;
  int64_t patch = 0;
  std::string pre;
  std::string meta;
};

bool IsSemVerIdentList(std::string_view s) {
  if (s.empty()) return false;
  size_t start = 0;
  while (true) {
    size_t dot = s.find('.', start);
    std::string_view part = s.substr(start, dot == std::string_view::npos ? s.npos : dot - start);
    if (part.empty()) return false;
    for (char c : part) {
      bool ok =
          (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-';
      if (!ok) return false;
    }
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

// Go's strconv.ParseInt(s, 10, 64).
bool ParseGoInt(std::string_view s, int64_t* out) {
  size_t i = 0;
  bool neg = false;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
    neg = s[i] == '-';
    ++i;
  }
  if (i == s.size()) return false;
  uint64_t v = 0;
  for (; i < s.size(); ++i) {
    if (!IsAsciiDigit(s[i])) return false;
    uint64_t digit = static_cast<uint64_t>(s[i] - '0');
    if (v > (uint64_t{1} << 63) / 10) return false;
    v = v * 10 + digit;
    if (v > (uint64_t{1} << 63)) return false;
  }
  if (!neg && v > static_cast<uint64_t>(INT64_MAX)) return false;
  *out = neg ? static_cast<int64_t>(0 - v) : static_cast<int64_t>(v);
  return true;
}

bool ParseSemVer(std::string_view v, SemVer* out) {
  if (!v.empty() && v[0] == 'v') v.remove_prefix(1);
  SemVer sv;
  if (size_t plus = v.find('+'); plus != std::string_view::npos) {
    sv.meta = std::string(v.substr(plus + 1));
    v = v.substr(0, plus);
    if (!sv.meta.empty() && !IsSemVerIdentList(sv.meta)) return false;
  }
  if (size_t dash = v.find('-'); dash != std::string_view::npos) {
    sv.pre = std::string(v.substr(dash + 1));
    v = v.substr(0, dash);
    if (!sv.pre.empty() && !IsSemVerIdentList(sv.pre)) return false;
  }
  if (std::count(v.begin(), v.end(), '.') != 2) return false;
  size_t d1 = v.find('.');
  size_t d2 = v.find('.', d1 + 1);
  if (!ParseGoInt(v.substr(0, d1), &sv.major)) return false;
  if (!ParseGoInt(v.substr(d1 + 1, d2 - d1 - 1), &sv.minor)) return false;
  if (!ParseGoInt(v.substr(d2 + 1), &sv.patch)) return false;
  *out = std::move(sv);
  return true;
}

bool IsAllDecimals(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), IsAsciiDigit);
}

int64_t SaturatingAtoi(std::string_view s) {
  int64_t v = 0;
  for (char c : s) {
    if (v > (INT64_MAX - 9) / 10) return INT64_MAX;
    v = v * 10 + (c - '0');
  }
  return v;
}

std::pair<std::string_view, std::string_view> CutDot(std::string_view s) {
  size_t dot = s.find('.');
  if (dot == std::string_view::npos) return {s, {}};
  return {s.substr(0, dot), s.substr(dot + 1)};
}

int CompareSemVer(const SemVer& a, const SemVer& b) {
  if (a.major != b.major) return a.major > b.major ? 1 : -1;
  if (a.minor != b.minor) return a.minor > b.minor ? 1 : -1;
  if (a.patch != b.patch) return a.patch > b.patch ? 1 : -1;
  if (a.pre == b.pre) return 0;
  if (a.pre.empty()) return 1;
  if (b.pre.empty()) return -1;
  auto [x, after_x] = CutDot(a.pre);
  auto [y, after_y] = CutDot(b.pre);
  while (true) {
    if (x.empty() && !y.empty()) return -1;
    if (!x.empty() && y.empty()) return 1;
    bool xi = IsAllDecimals(x);
    bool yi = IsAllDecimals(y);
    if (xi && !yi) return -1;
    if (!xi && yi) return 1;
    if (xi && yi) {
      int64_t p = SaturatingAtoi(x);
      int64_t q = SaturatingAtoi(y);
      if (p != q) return p > q ? 1 : -1;
    } else if (x != y) {
      return x > y ? 1 : -1;
    }
    if (!after_x.empty() && after_y.empty()) return 1;
    if (after_x.empty() && !after_y.empty()) return -1;
    if (after_x.empty() && after_y.empty()) return 0;
    std::tie(x, after_x) = CutDot(after_x);
    std::tie(y, after_y) = CutDot(after_y);
  }
}

Result<Value> SemVerCompare(BuiltinContext&, Args args) {
  constexpr std::string_view kName = "semver.compare";
  if (!args[0].is_string()) return StringOperandError(kName, 1, args[0]);
  if (!args[1].is_string()) return StringOperandError(kName, 2, args[1]);
  SemVer a;
  SemVer b;
  if (!ParseSemVer(args[0].str(), &a)) {
    return BuiltinError(
        kName, "operand 1: string " + GoQuote(args[0].str(), false) + " is not a valid SemVer");
  }
  if (!ParseSemVer(args[1].str(), &b)) {
    return BuiltinError(
        kName, "operand 2: string " + GoQuote(args[1].str(), false) + " is not a valid SemVer");
  }
  return Value::Int(CompareSemVer(a, b));
}

// ---------------------------------------------------------------------------------------------
// Registration helpers for the simple string functions.

Result<Value> Substring(BuiltinContext&, Args args) {
  constexpr std::string_view kName = "substring";
  if (!args[0].is_string()) return StringOperandError(kName, 1, args[0]);
  auto start = IntOperand(kName, 2, args[1]);
  if (!start) return start.error();
  auto length = IntOperand(kName, 3, args[2]);
  if (!length) return length.error();
  if (*start < 0) return BuiltinError(kName, "negative offset");
  std::string_view s = args[0].str();
  if (IsAscii(s)) {
    auto st = static_cast<uint64_t>(*start);
    if (st >= s.size()) return Value::String("");
    if (*length < 0) return Value::String(std::string(s.substr(st)));
    return Value::String(std::string(s.substr(st, static_cast<uint64_t>(*length))));
  }
  std::vector<size_t> offs = RuneOffsets(s);
  size_t nrunes = offs.size() - 1;
  auto st = static_cast<uint64_t>(*start);
  if (st >= nrunes) return Value::String("");
  size_t upto = nrunes;
  if (*length >= 0 && static_cast<uint64_t>(*length) < nrunes - st) {
    upto = st + static_cast<size_t>(*length);
  }
  return Value::String(std::string(s.substr(offs[st], offs[upto] - offs[st])));
}

Result<Value> IndexOf(std::string_view name, std::string_view base, std::string_view search,
                      bool all) {
  if (search.empty()) return BuiltinError(name, "empty search character");
  std::vector<char32_t> b = ToRunes(base);
  std::vector<char32_t> n = ToRunes(search);
  Array hits;
  for (size_t i = 0; i + n.size() <= b.size(); ++i) {
    if (std::equal(n.begin(), n.end(), b.begin() + static_cast<ptrdiff_t>(i))) {
      if (!all) return Value::Int(static_cast<int64_t>(i));
      hits.push_back(Value::Int(static_cast<int64_t>(i)));
    }
  }
  if (!all) return Value::Int(-1);
  return Value::FromArray(std::move(hits));
}

Result<Value> Concat(BuiltinContext&, Args args) {
  constexpr std::string_view kName = "concat";
  if (!args[0].is_string()) return StringOperandError(kName, 1, args[0]);
  const std::string& sep = args[0].str();
  std::string out;
  bool first = true;
  auto add = [&](const Value& e) -> Status {
    if (!e.is_string()) return OperandElementError(kName, 2, args[1], "string", e);
    if (!first) out += sep;
    first = false;
    out += e.str();
    return {};
  };
  if (args[1].is_array()) {
    for (const Value& e : args[1].array()) {
      if (auto st = add(e); !st) return st.error();
    }
  } else if (args[1].is_set()) {
    for (const Value& e : args[1].set()) {
      if (auto st = add(e); !st) return st.error();
    }
  } else {
    return OperandTypeError(kName, 2, "one of {set, array}", args[1]);
  }
  return Value::String(std::move(out));
}

Result<Value> ReplaceN(BuiltinContext&, Args args) {
  constexpr std::string_view kName = "strings.replace_n";
  if (!args[0].is_object()) return OperandTypeError(kName, 1, "object", args[0]);
  if (!args[1].is_string()) return StringOperandError(kName, 2, args[1]);
  std::vector<std::pair<std::string, std::string>> pairs;
  for (const auto& [k, v] : args[0].object()) {
    if (!k.is_string()) return OperandError(kName, 1, "non-string key found in pattern object");
    if (!v.is_string()) return OperandError(kName, 1, "non-string value found in pattern object");
    pairs.emplace_back(k.str(), v.str());
  }
  return Value::String(ReplacePairs(args[1].str(), pairs));
}

}  // namespace

void RegisterStringBuiltins(BuiltinRegistry& r) {
  using S1 = std::array<std::string_view, 1>;
  using S2 = std::array<std::string_view, 2>;
  using S3 = std::array<std::string_view, 3>;

  r.Add("concat", 2, Concat);
  AddStrings<2>(r, "contains", [](const S2& s) -> Result<Value> {
    return Value::Bool(s[0].find(s[1]) != std::string_view::npos);
  });
  AddStrings<2>(r, "startswith", [](const S2& s) -> Result<Value> {
    return Value::Bool(s[0].substr(0, s[1].size()) == s[1]);
  });
  AddStrings<2>(r, "endswith", [](const S2& s) -> Result<Value> {
    return Value::Bool(s[0].size() >= s[1].size() &&
                       s[0].substr(s[0].size() - s[1].size()) == s[1]);
  });
  r.Add("format_int", 2, FormatInt);
  AddStrings<2>(r, "indexof", [](const S2& s) { return IndexOf("indexof", s[0], s[1], false); });
  AddStrings<2>(r, "indexof_n", [](const S2& s) { return IndexOf("indexof_n", s[0], s[1], true); });
  AddStrings<1>(r, "lower", [](const S1& s) -> Result<Value> {
    return Value::String(MapRunes(s[0], ToLowerRune));
  });
  AddStrings<1>(r, "upper", [](const S1& s) -> Result<Value> {
    return Value::String(MapRunes(s[0], ToUpperRune));
  });
  AddStrings<3>(r, "replace", [](const S3& s) -> Result<Value> {
    return Value::String(ReplacePairs(s[0], {{std::string(s[1]), std::string(s[2])}}));
  });
  r.Add("strings.replace_n", 2, ReplaceN);
  AddStrings<2>(r, "split", [](const S2& s) -> Result<Value> { return SplitString(s[0], s[1]); });
  r.Add("sprintf", 2, Sprintf);
  r.Add("substring", 3, Substring);
  AddStrings<2>(r, "trim", [](const S2& s) -> Result<Value> {
    auto pred = CutsetPredicate(s[1]);
    return Value::String(std::string(TrimRightFunc(TrimLeftFunc(s[0], pred), pred)));
  });
  AddStrings<2>(r, "trim_left", [](const S2& s) -> Result<Value> {
    return Value::String(std::string(TrimLeftFunc(s[0], CutsetPredicate(s[1]))));
  });
  AddStrings<2>(r, "trim_right", [](const S2& s) -> Result<Value> {
    return Value::String(std::string(TrimRightFunc(s[0], CutsetPredicate(s[1]))));
  });
  AddStrings<2>(r, "trim_prefix", [](const S2& s) -> Result<Value> {
    if (s[0].substr(0, s[1].size()) == s[1])
      return Value::String(std::string(s[0].substr(s[1].size())));
    return Value::String(std::string(s[0]));
  });
  AddStrings<2>(r, "trim_suffix", [](const S2& s) -> Result<Value> {
    if (s[0].size() >= s[1].size() && s[0].substr(s[0].size() - s[1].size()) == s[1]) {
      return Value::String(std::string(s[0].substr(0, s[0].size() - s[1].size())));
    }
    return Value::String(std::string(s[0]));
  });
  AddStrings<1>(r, "trim_space", [](const S1& s) -> Result<Value> {
    return Value::String(std::string(TrimRightFunc(TrimLeftFunc(s[0], IsSpaceRune), IsSpaceRune)));
  });
  AddStrings<1>(r, "strings.reverse", [](const S1& s) -> Result<Value> {
    std::vector<char32_t> runes = ToRunes(s[0]);
    std::reverse(runes.begin(), runes.end());
    return Value::String(FromRunes(runes.data(), runes.data() + runes.size()));
  });
  AddStrings<2>(r, "strings.count", [](const S2& s) -> Result<Value> {
    return Value::Int(CountSubstrings(s[0], s[1]));
  });
  r.Add("strings.any_prefix_match", 2, [](BuiltinContext&, Args args) {
    return AnyMatch("strings.any_prefix_match", args, false);
  });
  r.Add("strings.any_suffix_match", 2, [](BuiltinContext&, Args args) {
    return AnyMatch("strings.any_suffix_match", args, true);
  });

  r.Add("regex.match", 2,
        [](BuiltinContext&, Args args) { return RegexMatch("regex.match", args); });
  r.Add("re_match", 2, [](BuiltinContext&, Args args) { return RegexMatch("re_match", args); });
  r.Add("regex.is_valid", 1, RegexIsValid);
  r.Add("regex.find_n", 3, RegexFindN);
  r.Add("regex.find_all_string_submatch_n", 3, RegexFindAllSubmatch);
  r.Add("regex.split", 2, RegexSplit);
  r.Add("regex.replace", 3, RegexReplace);
  r.Add("regex.template_match", 4, RegexTemplateMatch);
  r.Add("regex.globs_match", 2, GlobsMatch);

  r.Add("glob.match", 3, GlobMatch);
  AddStrings<1>(r, "glob.quote_meta",
                [](const S1& s) -> Result<Value> { return Value::String(GlobQuoteMeta(s[0])); });

  r.Add("units.parse", 1, UnitsParse);
  r.Add("units.parse_bytes", 1, UnitsParseBytes);

  r.Add("semver.is_valid", 1, [](BuiltinContext&, Args args) -> Result<Value> {
    SemVer v;
    return Value::Bool(args[0].is_string() && ParseSemVer(args[0].str(), &v));
  });
  r.Add("semver.compare", 2, SemVerCompare);
}

}  // namespace mcpgw::rego
