// Encoding built-ins: json.*, base64.*, base64url.*, hex.*, urlquery.*, yaml.unmarshal and
// yaml.is_valid.
//
// Output matches Go's encoding/json, encoding/base64, encoding/hex and net/url as OPA uses them:
// json.marshal sorts object keys, writes sets as arrays and escapes <, > and & as \u003c etc.
// YAML is read with yaml-cpp and typed the way OPA's YAML library (go-yaml v2, YAML 1.1) types
// plain scalars: yes/no/on/off are booleans, 0x1F and 017 are integers. yaml.marshal is not
// provided: its output would have to match go-yaml's emitter byte for byte.
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <initializer_list>
#include <iterator>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "rego/builtins.h"
#include "rego/builtins_util.h"

namespace mcpgw::rego {
namespace {

using Args = std::span<const Value>;

// ---------------------------------------------------------------------------------------------
// JSON in Go's encoding/json style.

void AppendGoJsonString(std::string& out, std::string_view s) {
  static const char* kHex = "0123456789abcdef";
  out.push_back('"');
  for (size_t pos = 0; pos < s.size();) {
    auto c = static_cast<unsigned char>(s[pos]);
    if (c < 0x80) {
      switch (c) {
        case '"':
          out += "\\\"";
          break;
        case '\\':
          out += "\\\\";
          break;
        case '\n':
          out += "\\n";
          break;
        case '\r':
          out += "\\r";
          break;
        case '\t':
          out += "\\t";
          break;
        case '\b':
          out += "\\b";
          break;
        case '\f':
          out += "\\f";
          break;
        default:
          if (c < 0x20 || c == '<' || c == '>' || c == '&') {
            out += "\\u00";
            out.push_back(kHex[c >> 4]);
            out.push_back(kHex[c & 0xF]);
          } else {
            out.push_back(static_cast<char>(c));
          }
      }
      ++pos;
      continue;
    }
    auto [r, w] = DecodeRune(s, pos);
    if (r == 0xFFFD && w == 1) {
      out += "\\ufffd";
    } else if (r == 0x2028 || r == 0x2029) {
      out += r == 0x2028 ? "\\u2028" : "\\u2029";
    } else {
      out.append(s.substr(pos, w));
    }
    pos += w;
  }
  out.push_back('"');
}

std::string JsonNumber(const Value& v) {
  if (!v.is_int()) {
    double d = v.as_double();
    if (std::isfinite(d) && d == std::trunc(d) && std::fabs(d) < 1e21) {
      char buf[64];
      std::snprintf(buf, sizeof buf, "%.0f", d);
      return buf;
    }
  }
  return FormatNumber(v);
}

void AppendGoJson(std::string& out, const Value& v);

// Object keys as OPA converts them for Go: strings as they are, other keys as their JSON text.
std::map<std::string, const Value*> GoJsonObjectEntries(const Value& v) {
  std::map<std::string, const Value*> entries;
  for (const auto& [k, e] : v.object()) {
    std::string key;
    if (k.is_string()) {
      key = k.str();
    } else {
      AppendGoJson(key, k);
    }
    entries.insert_or_assign(std::move(key), &e);
  }
  return entries;
}

// json.Marshal (compact) or json.MarshalIndent when indent/prefix are given.
void AppendGoJsonIndented(std::string& out, const Value& v, bool pretty, std::string_view prefix,
                          std::string_view indent, int depth) {
  auto newline = [&](int d) {
    if (!pretty) return;
    out.push_back('\n');
    out += prefix;
    for (int i = 0; i < d; ++i) out += indent;
  };
  switch (v.kind()) {
    case Kind::kNull:
      out += "null";
      return;
    case Kind::kBool:
      out += v.as_bool() ? "true" : "false";
      return;
    case Kind::kNumber:
      out += JsonNumber(v);
      return;
    case Kind::kString:
      AppendGoJsonString(out, v.str());
      return;
    case Kind::kArray:
    case Kind::kSet: {
      std::vector<const Value*> items;
      if (v.is_array()) {
        for (const Value& e : v.array()) items.push_back(&e);
      } else {
        for (const Value& e : v.set()) items.push_back(&e);
      }
      out.push_back('[');
      if (items.empty()) {
        out.push_back(']');
        return;
      }
      for (size_t i = 0; i < items.size(); ++i) {
        if (i > 0) out.push_back(',');
        newline(depth + 1);
        AppendGoJsonIndented(out, *items[i], pretty, prefix, indent, depth + 1);
      }
      newline(depth);
      out.push_back(']');
      return;
    }
    case Kind::kObject: {
      auto entries = GoJsonObjectEntries(v);
      out.push_back('{');
      if (entries.empty()) {
        out.push_back('}');
        return;
      }
      bool first = true;
      for (const auto& [k, e] : entries) {
        if (!first) out.push_back(',');
        first = false;
        newline(depth + 1);
        AppendGoJsonString(out, k);
        out.push_back(':');
        if (pretty) out.push_back(' ');
        AppendGoJsonIndented(out, *e, pretty, prefix, indent, depth + 1);
      }
      newline(depth);
      out.push_back('}');
      return;
    }
  }
}

void AppendGoJson(std::string& out, const Value& v) {
  AppendGoJsonIndented(out, v, false, "", "", 0);
}

Result<Value> JsonMarshal(BuiltinContext&, Args args) {
  std::string out;
  AppendGoJson(out, args[0]);
  return Value::String(std::move(out));
}

Result<Value> JsonMarshalWithOptions(BuiltinContext&, Args args) {
  constexpr std::string_view kName = "json.marshal_with_options";
  if (!args[1].is_object()) return OperandTypeError(kName, 2, "object", args[1]);
  std::string indent = "\t";
  std::string prefix;
  bool implicit_pretty = false;
  bool explicit_given = false;
  bool pretty = false;
  int idx = 0;
  for (const auto& [k, val] : args[1].object()) {
    if (!k.is_string()) {
      return OperandError(kName, 2,
                          "failed to stringify key " + k.ToString() + " at index " +
                              std::to_string(idx) + ": operand " + std::to_string(idx) +
                              " must be string but got " + std::string(k.TypeName()));
    }
    const std::string& key = k.str();
    if (key == "prefix" || key == "indent") {
      if (!val.is_string()) {
        return OperandError(kName, 2,
                            "key " + key + " failed cast to string: operand " +
                                std::to_string(idx) + " must be string but got " +
                                std::string(val.TypeName()));
      }
      (key == "prefix" ? prefix : indent) = val.str();
      implicit_pretty = true;
    } else if (key == "pretty") {
      explicit_given = true;
      if (!val.is_bool()) return OperandError(kName, 2, "key " + key + " failed cast to bool");
      pretty = val.as_bool();
    } else {
      return OperandError(kName, 2, "object contained unknown key " + key);
    }
    ++idx;
  }
  if (!explicit_given) pretty = implicit_pretty;
  std::string out;
  if (pretty) {
    out = prefix;
    AppendGoJsonIndented(out, args[0], true, prefix, indent, 0);
  } else {
    AppendGoJson(out, args[0]);
  }
  return Value::String(std::move(out));
}

Result<Value> JsonUnmarshal(BuiltinContext&, Args args) {
  constexpr std::string_view kName = "json.unmarshal";
  if (!args[0].is_string()) return OperandTypeError(kName, 1, "string", args[0]);
  auto v = Value::ParseJson(args[0].str());
  if (!v) return BuiltinError(kName, v.error().message);
  return v;
}

Result<Value> JsonIsValid(BuiltinContext&, Args args) {
  if (!args[0].is_string()) return Value::False();
  return Value::Bool(Value::ParseJson(args[0].str()).ok());
}

// ---------------------------------------------------------------------------------------------
// base64 (Go's encoding/base64: StdEncoding, URLEncoding, RawURLEncoding)

constexpr std::string_view kStdAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr std::string_view kUrlAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

std::string Base64Encode(std::string_view in, std::string_view alphabet, bool pad) {
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  size_t i = 0;
  auto byte = [&](size_t k) { return static_cast<uint32_t>(static_cast<unsigned char>(in[k])); };
  for (; i + 3 <= in.size(); i += 3) {
    uint32_t v = (byte(i) << 16) | (byte(i + 1) << 8) | byte(i + 2);
    out.push_back(alphabet[(v >> 18) & 63]);
    out.push_back(alphabet[(v >> 12) & 63]);
    out.push_back(alphabet[(v >> 6) & 63]);
    out.push_back(alphabet[v & 63]);
  }
  size_t rest = in.size() - i;
  if (rest == 1) {
    uint32_t v = byte(i) << 16;
    out.push_back(alphabet[(v >> 18) & 63]);
    out.push_back(alphabet[(v >> 12) & 63]);
    if (pad) out += "==";
  } else if (rest == 2) {
    uint32_t v = (byte(i) << 16) | (byte(i + 1) << 8);
    out.push_back(alphabet[(v >> 18) & 63]);
    out.push_back(alphabet[(v >> 12) & 63]);
    out.push_back(alphabet[(v >> 6) & 63]);
    if (pad) out.push_back('=');
  }
  return out;
}

// Go's Encoding.DecodeString (non-strict: \r and \n are ignored, trailing bits may be set).
Result<std::string> Base64Decode(std::string_view s, std::string_view alphabet, bool padded) {
  int8_t map[256];
  std::fill(std::begin(map), std::end(map), static_cast<int8_t>(-1));
  for (size_t k = 0; k < alphabet.size(); ++k) {
    map[static_cast<unsigned char>(alphabet[k])] = static_cast<int8_t>(k);
  }
  auto corrupt = [](size_t at) {
    return MakeError("illegal base64 data at input byte " + std::to_string(at));
  };
  std::string out;
  size_t si = 0;
  while (true) {
    uint32_t dbuf[4] = {0, 0, 0, 0};
    size_t dlen = 4;
    bool end = false;
    for (size_t j = 0; j < 4;) {
      if (si == s.size()) {
        if (j == 0) return out;
        if (j == 1 || padded) return corrupt(si - j);
        dlen = j;
        end = true;
        break;
      }
      char in = s[si++];
      if (in == '\r' || in == '\n') continue;
      int8_t val = map[static_cast<unsigned char>(in)];
      if (val >= 0) {
        dbuf[j++] = static_cast<uint32_t>(static_cast<unsigned char>(val));
        continue;
      }
      if (in == '=' && padded) {
        if (j == 0 || j == 1) return corrupt(si - 1);
        if (j == 2) {
          while (si < s.size() && (s[si] == '\r' || s[si] == '\n')) ++si;
          if (si == s.size()) return corrupt(s.size());
          if (s[si] != '=') return corrupt(si - 1);
          ++si;
        }
        while (si < s.size() && (s[si] == '\r' || s[si] == '\n')) ++si;
        if (si < s.size()) return corrupt(si);
        dlen = j;
        end = true;
        break;
      }
      return corrupt(si - 1);
    }
    uint32_t v = (dbuf[0] << 18) | (dbuf[1] << 12) | (dbuf[2] << 6) | dbuf[3];
    if (dlen >= 2) out.push_back(static_cast<char>((v >> 16) & 0xFF));
    if (dlen >= 3) out.push_back(static_cast<char>((v >> 8) & 0xFF));
    if (dlen >= 4) out.push_back(static_cast<char>(v & 0xFF));
    if (end) return out;
  }
}

Result<Value> Base64DecodeBuiltin(BuiltinContext&, Args args) {
  constexpr std::string_view kName = "base64.decode";
  if (!args[0].is_string()) return OperandTypeError(kName, 1, "string", args[0]);
  auto out = Base64Decode(args[0].str(), kStdAlphabet, true);
  if (!out) return BuiltinError(kName, out.error().message);
  return Value::String(std::move(*out));
}

Result<Value> Base64UrlDecode(BuiltinContext&, Args args) {
  constexpr std::string_view kName = "base64url.decode";
  if (!args[0].is_string()) return OperandTypeError(kName, 1, "string", args[0]);
  std::string s = args[0].str();
  if (s.empty() || s.back() != '=') {
    switch (s.size() % 4) {
      case 0:
        break;
      case 2:
        s += "==";
        break;
      case 3:
        s += "=";
        break;
      default:
        return BuiltinError(kName, "illegal base64url string: " + s);
    }
  }
  auto out = Base64Decode(s, kUrlAlphabet, true);
  if (!out) return BuiltinError(kName, out.error().message);
  return Value::String(std::move(*out));
}

// ---------------------------------------------------------------------------------------------
// hex

int HexValue(unsigned char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Go's hex.InvalidByteError text: "invalid byte: U+0067 'g'".
std::string InvalidHexByte(unsigned char c) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "U+%04X", c);
  std::string msg = std::string("encoding/hex: invalid byte: ") + buf;
  bool printable = (c >= 0x20 && c < 0x7F) || (c >= 0xA1 && c != 0xAD);
  if (printable) {
    msg += " '";
    if (c < 0x80) {
      msg.push_back(static_cast<char>(c));
    } else {
      msg.push_back(static_cast<char>(0xC0 | (c >> 6)));
      msg.push_back(static_cast<char>(0x80 | (c & 0x3F)));
    }
    msg += "'";
  }
  return msg;
}

Result<Value> HexDecode(BuiltinContext&, Args args) {
  constexpr std::string_view kName = "hex.decode";
  if (!args[0].is_string()) return OperandTypeError(kName, 1, "string", args[0]);
  const std::string& s = args[0].str();
  std::string out;
  size_t j = 1;
  for (; j < s.size(); j += 2) {
    auto p = static_cast<unsigned char>(s[j - 1]);
    auto q = static_cast<unsigned char>(s[j]);
    int a = HexValue(p);
    int b = HexValue(q);
    if (a < 0) return BuiltinError(kName, InvalidHexByte(p));
    if (b < 0) return BuiltinError(kName, InvalidHexByte(q));
    out.push_back(static_cast<char>((a << 4) | b));
  }
  if (s.size() % 2 == 1) {
    auto c = static_cast<unsigned char>(s[j - 1]);
    if (HexValue(c) < 0) return BuiltinError(kName, InvalidHexByte(c));
    return BuiltinError(kName, "encoding/hex: odd length hex string");
  }
  return Value::String(std::move(out));
}

std::string HexEncode(std::string_view s) {
  static const char* kHex = "0123456789abcdef";
  std::string out;
  out.reserve(s.size() * 2);
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 0xF]);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// URL query encoding (net/url QueryEscape / QueryUnescape / Values)

std::string QueryEscape(std::string_view s) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    bool unreserved = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '-' || c == '_' || c == '.' || c == '~';
    if (unreserved) {
      out.push_back(ch);
    } else if (c == ' ') {
      out.push_back('+');
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xF]);
    }
  }
  return out;
}

Result<std::string> QueryUnescape(std::string_view s) {
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') continue;
    if (i + 2 >= s.size() || HexValue(static_cast<unsigned char>(s[i + 1])) < 0 ||
        HexValue(static_cast<unsigned char>(s[i + 2])) < 0) {
      std::string_view bad = s.substr(i, 3);
      std::string quoted = "\"";
      for (char c : bad) {
        if (c == '"' || c == '\\') quoted.push_back('\\');
        quoted.push_back(c);
      }
      quoted.push_back('"');
      return MakeError("invalid URL escape " + quoted);
    }
    i += 2;
  }
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%') {
      out.push_back(static_cast<char>((HexValue(static_cast<unsigned char>(s[i + 1])) << 4) |
                                      HexValue(static_cast<unsigned char>(s[i + 2]))));
      i += 2;
    } else if (s[i] == '+') {
      out.push_back(' ');
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

Result<Value> UrlQueryDecode(BuiltinContext&, Args args) {
  constexpr std::string_view kName = "urlquery.decode";
  if (!args[0].is_string()) return OperandTypeError(kName, 1, "string", args[0]);
  auto out = QueryUnescape(args[0].str());
  if (!out) return BuiltinError(kName, out.error().message);
  return Value::String(std::move(*out));
}

Result<Value> UrlQueryEncodeObject(BuiltinContext&, Args args) {
  constexpr std::string_view kName = "urlquery.encode_object";
  if (!args[0].is_object()) return OperandTypeError(kName, 1, "object", args[0]);
  auto bad = [&] {
    return OperandError(kName, 1, "values must be string, array[string], or set[string]");
  };
  std::map<std::string, std::vector<std::string>> values;
  for (const auto& [key, e] : GoJsonObjectEntries(args[0])) {
    std::vector<std::string>& vs = values[key];
    if (e->is_string()) {
      vs = {e->str()};
    } else if (e->is_array() || e->is_set()) {
      auto add = [&](const Value& item) {
        if (!item.is_string()) return false;
        vs.push_back(item.str());
        return true;
      };
      if (e->is_array()) {
        for (const Value& item : e->array()) {
          if (!add(item)) return bad();
        }
      } else {
        for (const Value& item : e->set()) {
          if (!add(item)) return bad();
        }
      }
    } else {
      return bad();
    }
  }
  std::string out;
  for (const auto& [key, vs] : values) {
    std::string k = QueryEscape(key);
    for (const auto& v : vs) {
      if (!out.empty()) out.push_back('&');
      out += k;
      out.push_back('=');
      out += QueryEscape(v);
    }
  }
  return Value::String(std::move(out));
}

Result<Value> UrlQueryDecodeObject(BuiltinContext&, Args args) {
  constexpr std::string_view kName = "urlquery.decode_object";
  if (!args[0].is_string()) return OperandTypeError(kName, 1, "string", args[0]);
  std::string_view query = args[0].str();
  std::map<std::string, Array> params;
  std::optional<Error> first_error;
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view part = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (part.find(';') != std::string_view::npos) {
      if (!first_error) first_error = MakeError("invalid semicolon separator in query");
      continue;
    }
    if (part.empty()) continue;
    size_t eq = part.find('=');
    auto key = QueryUnescape(part.substr(0, eq));
    if (!key) {
      if (!first_error) first_error = key.error();
      continue;
    }
    auto value =
        QueryUnescape(eq == std::string_view::npos ? std::string_view() : part.substr(eq + 1));
    if (!value) {
      if (!first_error) first_error = value.error();
      continue;
    }
    params[*key].push_back(Value::String(std::move(*value)));
  }
  if (first_error) return BuiltinError(kName, first_error->message);
  Object out;
  for (auto& [k, vs] : params) out.emplace(Value::String(k), Value::FromArray(std::move(vs)));
  return Value::FromObject(std::move(out));
}

// ---------------------------------------------------------------------------------------------
// YAML (go-yaml v2 semantics via sigs.k8s.io/yaml, as OPA reads it)

bool IsOneOf(std::string_view s, std::initializer_list<std::string_view> options) {
  return std::find(options.begin(), options.end(), s) != options.end();
}

// strconv.ParseInt(s, 0, 64) / ParseUint: optional sign, 0x / 0o / 0b / leading-0 octal prefixes.
bool ParseGoIntBase0(std::string_view s, bool* negative, uint64_t* magnitude) {
  size_t i = 0;
  *negative = false;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
    *negative = s[i] == '-';
    ++i;
  }
  int base = 10;
  if (i + 1 < s.size() && s[i] == '0') {
    char p = static_cast<char>(std::tolower(static_cast<unsigned char>(s[i + 1])));
    if (p == 'x') {
      base = 16;
      i += 2;
    } else if (p == 'o') {
      base = 8;
      i += 2;
    } else if (p == 'b') {
      base = 2;
      i += 2;
    } else {
      base = 8;
      i += 1;
    }
  }
  if (i >= s.size()) return false;
  uint64_t v = 0;
  for (; i < s.size(); ++i) {
    int d = HexValue(static_cast<unsigned char>(s[i]));
    if (d < 0 || d >= base) return false;
    if (v > (UINT64_MAX - static_cast<uint64_t>(d)) / static_cast<uint64_t>(base)) return false;
    v = v * static_cast<uint64_t>(base) + static_cast<uint64_t>(d);
  }
  *magnitude = v;
  return true;
}

// go-yaml's yamlStyleFloat: ^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$
bool IsYamlStyleFloat(std::string_view s) {
  size_t i = 0;
  auto digits = [&] {
    size_t start = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    return i > start;
  };
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
  if (i < s.size() && s[i] == '.') {
    ++i;
    if (!digits()) return false;
  } else {
    if (!digits()) return false;
    if (i < s.size() && s[i] == '.') {
      ++i;
      digits();
    }
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    if (!digits()) return false;
  }
  return i == s.size();
}

// A date-only YAML timestamp (2006-1-2) becomes Go's JSON text of the time: 2006-01-02T00:00:00Z.
std::optional<std::string> YamlDate(std::string_view s) {
  int y = 0;
  int m = 0;
  int d = 0;
  char tail = 0;
  if (s.size() < 8 || s.size() > 10 || s[4] != '-') return std::nullopt;
  std::string text(s);
  if (std::sscanf(text.c_str(), "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3) return std::nullopt;
  if (!std::all_of(text.begin(), text.end(), [](char c) { return c == '-' || std::isdigit(c); })) {
    return std::nullopt;
  }
  if (m < 1 || m > 12 || d < 1 || d > 31) return std::nullopt;
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT00:00:00Z", y, m, d);
  return std::string(buf);
}

// The value of a plain (unquoted, untagged) scalar under go-yaml v2's YAML 1.1 resolution.
Result<Value> ResolvePlainScalar(const std::string& s) {
  if (IsOneOf(s, {"", "~", "null", "Null", "NULL"})) return Value::Null();
  if (IsOneOf(s, {"y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"})) {
    return Value::True();
  }
  if (IsOneOf(s, {"n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"})) {
    return Value::False();
  }
  if (IsOneOf(s, {".nan", ".NaN", ".NAN", ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF",
                  "-.inf", "-.Inf", "-.INF"})) {
    return MakeError("json: unsupported value: " + s);
  }
  char c = s[0];
  if ((c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.') {
    if (auto date = YamlDate(s)) return Value::String(*date);
    std::string plain;
    for (char ch : s) {
      if (ch != '_') plain.push_back(ch);
    }
    bool negative = false;
    uint64_t magnitude = 0;
    if (ParseGoIntBase0(plain, &negative, &magnitude)) {
      if (!negative && magnitude <= static_cast<uint64_t>(INT64_MAX)) {
        return Value::Int(static_cast<int64_t>(magnitude));
      }
      if (negative && magnitude <= (uint64_t{1} << 63)) {
        return Value::Int(static_cast<int64_t>(0 - magnitude));
      }
      if (!negative) return Value::Double(static_cast<double>(magnitude));
    }
    if (IsYamlStyleFloat(plain)) {
      double d = std::strtod(plain.c_str(), nullptr);
      if (std::isfinite(d)) return Value::Double(d);
      return MakeError("json: unsupported value: " + s);
    }
  }
  return Value::String(s);
}

Result<Value> YamlScalar(const YAML::Node& n) {
  const std::string& tag = n.Tag();
  if (tag == "!" || tag == "tag:yaml.org,2002:str" || tag == "!!str") {
    return Value::String(n.Scalar());
  }
  return ResolvePlainScalar(n.Scalar());
}

// Map keys as sigs.k8s.io/yaml turns them into JSON object keys.
Result<std::string> YamlKey(const YAML::Node& k) {
  if (!k.IsScalar()) return MakeError("unsupported map key: not a scalar");
  auto v = YamlScalar(k);
  if (!v) return v.error();
  if (v->is_string()) return v->str();
  if (v->is_bool()) return std::string(v->as_bool() ? "true" : "false");
  if (v->is_number()) return FormatNumber(*v);
  return MakeError("unsupported map key of type: <nil>");
}

Result<Value> FromYamlNode(const YAML::Node& n, int depth) {
  if (depth > 1000) return MakeError("yaml: exceeded max depth");
  switch (n.Type()) {
    case YAML::NodeType::Undefined:
    case YAML::NodeType::Null:
      return Value::Null();
    case YAML::NodeType::Scalar:
      return YamlScalar(n);
    case YAML::NodeType::Sequence: {
      Array a;
      for (const auto& e : n) {
        auto v = FromYamlNode(e, depth + 1);
        if (!v) return v.error();
        a.push_back(std::move(*v));
      }
      return Value::FromArray(std::move(a));
    }
    case YAML::NodeType::Map: {
      Object o;
      std::vector<YAML::Node> merges;
      for (const auto& kv : n) {
        if (kv.first.IsScalar() && kv.first.Tag() == "?" && kv.first.Scalar() == "<<") {
          merges.push_back(kv.second);
          continue;
        }
        auto key = YamlKey(kv.first);
        if (!key) return key.error();
        auto v = FromYamlNode(kv.second, depth + 1);
        if (!v) return v.error();
        o.insert_or_assign(Value::String(std::move(*key)), std::move(*v));
      }
      // Merge keys (<<: *anchor or <<: [*a, *b]) add the entries the map does not define.
      for (const YAML::Node& m : merges) {
        std::vector<YAML::Node> sources;
        if (m.IsMap()) {
          sources.push_back(m);
        } else if (m.IsSequence()) {
          for (const auto& e : m) sources.push_back(e);
        }
        for (const auto& src : sources) {
          auto merged = FromYamlNode(src, depth + 1);
          if (!merged) return merged.error();
          if (!merged->is_object())
            return MakeError("yaml: map merge requires map or sequence of maps");
          for (const auto& [k, v] : merged->object()) o.emplace(k, v);
        }
      }
      return Value::FromObject(std::move(o));
    }
  }
  return Value::Null();
}

Result<YAML::Node> LoadYaml(const std::string& text) {
  try {
    return YAML::Load(text);
  } catch (const YAML::Exception& e) {
    return MakeError("yaml: " + e.msg);
  } catch (const std::exception& e) {
    return MakeError(std::string("yaml: ") + e.what());
  }
}

Result<Value> YamlUnmarshal(BuiltinContext&, Args args) {
  constexpr std::string_view kName = "yaml.unmarshal";
  if (!args[0].is_string()) return OperandTypeError(kName, 1, "string", args[0]);
  auto node = LoadYaml(args[0].str());
  if (!node) return BuiltinError(kName, node.error().message);
  try {
    auto v = FromYamlNode(*node, 0);
    if (!v) return BuiltinError(kName, v.error().message);
    return v;
  } catch (const std::exception& e) {
    return BuiltinError(kName, std::string("yaml: ") + e.what());
  }
}

// Registers a built-in of one string operand.
template <class F>
void AddString1(BuiltinRegistry& r, const std::string& name, F fn) {
  r.Add(name, 1, [name, fn](BuiltinContext&, Args args) -> Result<Value> {
    if (!args[0].is_string()) return OperandTypeError(name, 1, "string", args[0]);
    return fn(args[0].str());
  });
}

}  // namespace

std::string GoJsonMarshal(const Value& v) {
  std::string out;
  AppendGoJson(out, v);
  return out;
}

void AppendGoJsonQuoted(std::string& out, std::string_view s) { AppendGoJsonString(out, s); }

void AppendGoJsonIndent(std::string& out, const Value& v, std::string_view indent, int depth) {
  AppendGoJsonIndented(out, v, /*pretty=*/true, "", indent, depth);
}

void RegisterEncodingBuiltins(BuiltinRegistry& r) {
  r.Add("json.marshal", 1, JsonMarshal);
  r.Add("json.marshal_with_options", 2, JsonMarshalWithOptions);
  r.Add("json.unmarshal", 1, JsonUnmarshal);
  r.Add("json.is_valid", 1, JsonIsValid);

  AddString1(r, "base64.encode", [](std::string_view s) -> Result<Value> {
    return Value::String(Base64Encode(s, kStdAlphabet, true));
  });
  r.Add("base64.decode", 1, Base64DecodeBuiltin);
  r.Add("base64.is_valid", 1, [](BuiltinContext&, Args args) -> Result<Value> {
    if (!args[0].is_string()) return Value::False();
    return Value::Bool(Base64Decode(args[0].str(), kStdAlphabet, true).ok());
  });
  AddString1(r, "base64url.encode", [](std::string_view s) -> Result<Value> {
    return Value::String(Base64Encode(s, kUrlAlphabet, true));
  });
  AddString1(r, "base64url.encode_no_pad", [](std::string_view s) -> Result<Value> {
    return Value::String(Base64Encode(s, kUrlAlphabet, false));
  });
  r.Add("base64url.decode", 1, Base64UrlDecode);

  AddString1(r, "hex.encode",
             [](std::string_view s) -> Result<Value> { return Value::String(HexEncode(s)); });
  r.Add("hex.decode", 1, HexDecode);

  AddString1(r, "urlquery.encode",
             [](std::string_view s) -> Result<Value> { return Value::String(QueryEscape(s)); });
  r.Add("urlquery.decode", 1, UrlQueryDecode);
  r.Add("urlquery.encode_object", 1, UrlQueryEncodeObject);
  r.Add("urlquery.decode_object", 1, UrlQueryDecodeObject);

  r.Add("yaml.unmarshal", 1, YamlUnmarshal);
  r.Add("yaml.is_valid", 1, [](BuiltinContext&, Args args) -> Result<Value> {
    if (!args[0].is_string()) return Value::False();
    return Value::Bool(LoadYaml(args[0].str()).ok());
  });
}

}  // namespace mcpgw::rego
