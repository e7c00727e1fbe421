#include "rego/value.h"

#include <boost/json/value.hpp>
#include <charconv>
#include <cmath>
#include <functional>
#include <stdexcept>

#include "json/json.h"

namespace mcpgw::rego {
namespace {

int KindRank(const Value& v) { return static_cast<int>(v.kind()); }

template <class T>
int Cmp3(const T& a, const T& b) {
  return a < b ? -1 : (b < a ? 1 : 0);
}

// Byte-wise string order (as std::string::compare), deciding on the first byte inline: object
// keys usually differ there, and map lookups by key are the engine's most frequent comparison.
inline int CompareText(std::string_view a, std::string_view b) {
  if (!a.empty() && !b.empty() && a[0] != b[0]) {
    return static_cast<unsigned char>(a[0]) < static_cast<unsigned char>(b[0]) ? -1 : 1;
  }
  int c = a.compare(b);
  return c < 0 ? -1 : (c > 0 ? 1 : 0);
}

int CompareNumbers(const Value& a, const Value& b) {
  if (a.is_int() && b.is_int()) return Cmp3(a.as_int(), b.as_int());
  return Cmp3(a.as_double(), b.as_double());
}

void AppendJsonString(std::string& out, std::string_view s) {
  out.push_back('"');
  for (unsigned char c : s) {
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
        if (c < 0x20) {
          static const char* kHex = "0123456789abcdef";
          out += "\\u00";
          out.push_back(kHex[c >> 4]);
          out.push_back(kHex[c & 15]);
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
  out.push_back('"');
}

void AppendJson(std::string& out, const Value& v) {
  switch (v.kind()) {
    case Kind::kNull:
      out += "null";
      return;
    case Kind::kBool:
      out += v.as_bool() ? "true" : "false";
      return;
    case Kind::kNumber:
      out += FormatNumber(v);
      return;
    case Kind::kString:
      AppendJsonString(out, v.str());
      return;
    case Kind::kArray: {
      out.push_back('[');
      bool first = true;
      for (const auto& e : v.array()) {
        if (!first) out.push_back(',');
        first = false;
        AppendJson(out, e);
      }
      out.push_back(']');
      return;
    }
    case Kind::kSet: {
      out.push_back('[');
      bool first = true;
      for (const auto& e : v.set()) {
        if (!first) out.push_back(',');
        first = false;
        AppendJson(out, e);
      }
      out.push_back(']');
      return;
    }
    case Kind::kObject: {
      out.push_back('{');
      bool first = true;
      for (const auto& [k, e] : v.object()) {
        if (!first) out.push_back(',');
        first = false;
        if (k.is_string()) {
          AppendJsonString(out, k.str());
        } else {
          AppendJsonString(out, k.ToJson());
        }
        out.push_back(':');
        AppendJson(out, e);
      }
      out.push_back('}');
      return;
    }
  }
}

void AppendRego(std::string& out, const Value& v) {
  switch (v.kind()) {
    case Kind::kArray: {
      out.push_back('[');
      bool first = true;
      for (const auto& e : v.array()) {
        if (!first) out += ", ";
        first = false;
        AppendRego(out, e);
      }
      out.push_back(']');
      return;
    }
    case Kind::kSet: {
      if (v.set().empty()) {
        out += "set()";
        return;
      }
      out.push_back('{');
      bool first = true;
      for (const auto& e : v.set()) {
        if (!first) out += ", ";
        first = false;
        AppendRego(out, e);
      }
      out.push_back('}');
      return;
    }
    case Kind::kObject: {
      out.push_back('{');
      bool first = true;
      for (const auto& [k, e] : v.object()) {
        if (!first) out += ", ";
        first = false;
        AppendRego(out, k);
        out += ": ";
        AppendRego(out, e);
      }
      out.push_back('}');
      return;
    }
    default:
      AppendJson(out, v);
      return;
  }
}

Value FromBoost(const boost::json::value& j) {
  switch (j.kind()) {
    case boost::json::kind::null:
      return {};
    case boost::json::kind::bool_:
      return Value::Bool(j.get_bool());
    case boost::json::kind::int64:
      return Value::Int(j.get_int64());
    case boost::json::kind::uint64: {
      uint64_t u = j.get_uint64();
      if (u <= static_cast<uint64_t>(INT64_MAX)) return Value::Int(static_cast<int64_t>(u));
      return Value::Double(static_cast<double>(u));
    }
    case boost::json::kind::double_:
      return Value::Double(j.get_double());
    case boost::json::kind::string:
      return Value::String(std::string(j.get_string()));
    case boost::json::kind::array: {
      Array a;
      a.reserve(j.get_array().size());
      for (const auto& e : j.get_array()) a.push_back(FromBoost(e));
      return Value::FromArray(std::move(a));
    }
    case boost::json::kind::object: {
      Object o;
      for (const auto& kv : j.get_object()) {
        o.insert_or_assign(Value::String(std::string(kv.key())), FromBoost(kv.value()));
      }
      return Value::FromObject(std::move(o));
    }
  }
  return {};
}

}  // namespace

Kind Value::kind() const {
  switch (tag_) {
    case kTagNull:
      return Kind::kNull;
    case kTagBool:
      return Kind::kBool;
    case kTagInt:
    case kTagDouble:
      return Kind::kNumber;
    case kTagString:
      return Kind::kString;
    case kTagArray:
      return Kind::kArray;
    case kTagObject:
      return Kind::kObject;
    default:
      return Kind::kSet;
  }
}

void Value::WrongKind() { throw std::logic_error("rego::Value accessor used on another kind"); }

Value Value::Bool(bool b) {
  Value v;
  v.tag_ = kTagBool;
  v.s_.b = b;
  return v;
}

Value Value::Int(int64_t i) {
  Value v;
  v.tag_ = kTagInt;
  v.s_.i = i;
  return v;
}

Value Value::Double(double d) {
  Value v;
  if (std::isfinite(d) && d == std::trunc(d) && std::fabs(d) < 9.2e18) {
    v.tag_ = kTagInt;
    v.s_.i = static_cast<int64_t>(d);
  } else {
    v.tag_ = kTagDouble;
    v.s_.d = d;
  }
  return v;
}

Value Value::String(std::string s) {
  Value v;
  v.tag_ = kTagString;
  v.p_ = std::make_shared<const std::string>(std::move(s));
  return v;
}

Value Value::FromArray(Array a) {
  Value v;
  v.tag_ = kTagArray;
  v.p_ = std::make_shared<const Array>(std::move(a));
  return v;
}

Value Value::FromObject(Object o) {
  Value v;
  v.tag_ = kTagObject;
  v.p_ = std::make_shared<const Object>(std::move(o));
  return v;
}

Value Value::FromSet(Set s) {
  Value v;
  v.tag_ = kTagSet;
  v.p_ = std::make_shared<const Set>(std::move(s));
  return v;
}

const Value& Value::True() {
  static const Value kTrue = Bool(true);
  return kTrue;
}

const Value& Value::False() {
  static const Value kFalse = Bool(false);
  return kFalse;
}

const Value& Value::EmptyObject() {
  static const Value kEmpty = FromObject({});
  return kEmpty;
}

double Value::as_double() const {
  if (tag_ == kTagInt) return static_cast<double>(s_.i);
  return Check(kTagDouble).s_.d;
}

size_t Value::size() const {
  switch (tag_) {
    case kTagString:
      return str().size();
    case kTagArray:
      return array().size();
    case kTagObject:
      return object().size();
    case kTagSet:
      return set().size();
    default:
      return 0;
  }
}

const Value* Value::Get(const Value& key) const {
  if (is_object()) {
    if (key.is_string()) return Get(std::string_view(key.str()));
    auto it = object().find(key);
    return it == object().end() ? nullptr : &it->second;
  }
  if (is_array()) {
    if (!key.is_int()) return nullptr;
    int64_t i = key.as_int();
    if (i < 0 || static_cast<size_t>(i) >= array().size()) return nullptr;
    return &array()[static_cast<size_t>(i)];
  }
  if (is_set()) {
    auto it = set().find(key);
    return it == set().end() ? nullptr : &*it;
  }
  return nullptr;
}

const Value* Value::Get(std::string_view key) const {
  if (!is_object()) return nullptr;
  auto it = object().find(key);
  return it == object().end() ? nullptr : &it->second;
}

std::string Value::ToJson() const {
  std::string out;
  AppendJson(out, *this);
  return out;
}

std::string Value::ToString() const {
  std::string out;
  AppendRego(out, *this);
  return out;
}

std::string_view Value::TypeName() const {
  switch (kind()) {
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

Result<Value> Value::ParseJson(std::string_view text) {
  auto j = json::Parse(text, 1000);
  if (!j) return j.error();
  return FromBoost(*j);
}

size_t Value::Hash() const {
  switch (kind()) {
    case Kind::kNull:
      return 0x9e3779b9;
    case Kind::kBool:
      return as_bool() ? 1231 : 1237;
    case Kind::kNumber:
      return is_int() ? std::hash<int64_t>()(as_int()) : std::hash<double>()(as_double());
    case Kind::kString:
      return std::hash<std::string>()(str());
    case Kind::kArray: {
      size_t h = 17;
      for (const auto& e : array()) h = h * 31 + e.Hash();
      return h;
    }
    case Kind::kObject: {
      size_t h = 19;
      for (const auto& [k, e] : object()) h = h * 31 + k.Hash() * 7 + e.Hash();
      return h;
    }
    case Kind::kSet: {
      size_t h = 23;
      for (const auto& e : set()) h = h * 31 + e.Hash();
      return h;
    }
  }
  return 0;
}

int Compare(const Value& a, const Value& b) {
  if (a.is_string() && b.is_string()) return CompareText(a.str(), b.str());
  int ra = KindRank(a);
  int rb = KindRank(b);
  if (ra != rb) return ra < rb ? -1 : 1;
  switch (a.kind()) {
    case Kind::kNull:
      return 0;
    case Kind::kBool:
      return Cmp3(a.as_bool(), b.as_bool());
    case Kind::kNumber:
      return CompareNumbers(a, b);
    case Kind::kString:
      return CompareText(a.str(), b.str());
    case Kind::kArray: {
      const Array& x = a.array();
      const Array& y = b.array();
      if (&x == &y) return 0;
      size_t n = std::min(x.size(), y.size());
      for (size_t i = 0; i < n; ++i) {
        int c = Compare(x[i], y[i]);
        if (c != 0) return c;
      }
      return Cmp3(x.size(), y.size());
    }
    case Kind::kObject: {
      const Object& x = a.object();
      const Object& y = b.object();
      if (&x == &y) return 0;
      auto i = x.begin();
      auto j = y.begin();
      for (; i != x.end() && j != y.end(); ++i, ++j) {
        int c = Compare(i->first, j->first);
        if (c != 0) return c;
        c = Compare(i->second, j->second);
        if (c != 0) return c;
      }
      return Cmp3(x.size(), y.size());
    }
    case Kind::kSet: {
      const Set& x = a.set();
      const Set& y = b.set();
      if (&x == &y) return 0;
      auto i = x.begin();
      auto j = y.begin();
      for (; i != x.end() && j != y.end(); ++i, ++j) {
        int c = Compare(*i, *j);
        if (c != 0) return c;
      }
      return Cmp3(x.size(), y.size());
    }
  }
  return 0;
}

bool ValueLess::operator()(const Value& a, const Value& b) const { return Compare(a, b) < 0; }

bool ValueLess::operator()(const Value& a, std::string_view b) const {
  if (!a.is_string()) return static_cast<int>(a.kind()) < static_cast<int>(Kind::kString);
  return CompareText(a.str(), b) < 0;
}

bool ValueLess::operator()(std::string_view a, const Value& b) const {
  if (!b.is_string()) return static_cast<int>(Kind::kString) < static_cast<int>(b.kind());
  return CompareText(a, b.str()) < 0;
}

Value MakeObject(std::initializer_list<std::pair<std::string_view, Value>> fields) {
  Object o;
  for (const auto& [k, v] : fields) o.insert_or_assign(Value::String(std::string(k)), v);
  return Value::FromObject(std::move(o));
}

Value WithMembers(const Value& base, const Object& members) {
  Object o = base.is_object() ? base.object() : Object{};
  for (const auto& [k, v] : members) o.insert_or_assign(k, v);
  return Value::FromObject(std::move(o));
}

std::string FormatNumber(const Value& number) {
  if (number.is_int()) return std::to_string(number.as_int());
  double d = number.as_double();
  if (std::isnan(d)) return "NaN";
  if (std::isinf(d)) return d > 0 ? "+Inf" : "-Inf";
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, d);
  std::string s(buf, res.ptr);
  return s;
}

}  // namespace mcpgw::rego
