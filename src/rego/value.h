// Rego values: the JSON types plus sets, with objects that may have any value as a key.
//
// A Value is an immutable, cheaply copyable handle: scalars live inline, strings and collections
// are shared (reference counted) and never modified after construction. Values are totally
// ordered the way OPA orders them (null < boolean < number < string < array < object < set;
// collections compare element by element, then by length), so objects and sets are kept sorted
// and print deterministically.
//
// Numbers are int64 when integral and in range, double otherwise; a double with an integral value
// that fits in int64 is stored as an int, so 6 / 2 prints as 3 as OPA prints it.
//
// Thread-safety: Values are immutable and may be shared freely between threads.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace mcpgw::rego {

class Value;

enum class Kind : uint8_t { kNull, kBool, kNumber, kString, kArray, kObject, kSet };

// Total order; negative, zero or positive like strcmp.
int Compare(const Value& a, const Value& b);

struct ValueLess {
  using is_transparent = void;
  bool operator()(const Value& a, const Value& b) const;
  bool operator()(const Value& a, std::string_view b) const;
  bool operator()(std::string_view a, const Value& b) const;
};

using Array = std::vector<Value>;
using Object = std::map<Value, Value, ValueLess>;
using Set = std::set<Value, ValueLess>;

class Value {
 public:
  Value() = default;  // null
  static Value Null() { return {}; }
  static Value Bool(bool b);
  static Value Int(int64_t i);
  static Value Double(double d);  // normalised to Int when integral and in range
  static Value String(std::string s);
  static Value FromArray(Array a);
  static Value FromObject(Object o);
  static Value FromSet(Set s);
  static const Value& True();
  static const Value& False();
  static const Value& EmptyObject();

  Kind kind() const;
  bool is_null() const { return tag_ == kTagNull; }
  bool is_bool() const { return tag_ == kTagBool; }
  bool is_number() const { return tag_ == kTagInt || tag_ == kTagDouble; }
  bool is_int() const { return tag_ == kTagInt; }  // integral number that fits in int64
  bool is_string() const { return tag_ == kTagString; }
  bool is_array() const { return tag_ == kTagArray; }
  bool is_object() const { return tag_ == kTagObject; }
  bool is_set() const { return tag_ == kTagSet; }
  bool is_collection() const { return tag_ >= kTagArray; }

  // Accessors; calling one for another kind is a programming error (std::logic_error).
  bool as_bool() const { return Check(kTagBool).s_.b; }
  int64_t as_int() const { return Check(kTagInt).s_.i; }
  double as_double() const;  // any number
  const std::string& str() const {
    return *static_cast<const std::string*>(Check(kTagString).p_.get());
  }
  const Array& array() const { return *static_cast<const Array*>(Check(kTagArray).p_.get()); }
  const Object& object() const { return *static_cast<const Object*>(Check(kTagObject).p_.get()); }
  const Set& set() const { return *static_cast<const Set*>(Check(kTagSet).p_.get()); }

  // Number of elements of a collection, bytes of a string, 0 otherwise.
  size_t size() const;

  // Lookup in an object (by key) or an array (by integral number index); nullptr when absent or
  // when this is neither. Sets: returns a pointer to the element when it is a member.
  const Value* Get(const Value& key) const;
  const Value* Get(std::string_view key) const;  // object with string key

  // JSON text. Sets become sorted arrays; non-string object keys become their JSON text.
  std::string ToJson() const;
  // Rego literal syntax, as OPA prints values in messages: sets as {1, 2}, the empty set as set().
  std::string ToString() const;
  // OPA's type name: "null", "boolean", "number", "string", "array", "object", "set".
  std::string_view TypeName() const;

  // Strict JSON text to Value (numbers that overflow int64 become doubles).
  static Result<Value> ParseJson(std::string_view text);

  // Equality without ordering: strings of different lengths differ at once.
  friend bool operator==(const Value& a, const Value& b) {
    if (a.is_string() && b.is_string()) {
      const std::string& x = a.str();
      const std::string& y = b.str();
      return x.size() == y.size() && x.compare(y) == 0;
    }
    return Compare(a, b) == 0;
  }
  friend bool operator<(const Value& a, const Value& b) { return Compare(a, b) < 0; }

  size_t Hash() const;

  // A reference to this value's string or collection that does not keep it alive: expired()
  // once no Value holds it any more. Empty for scalars.
  std::weak_ptr<const void> Weak() const { return p_; }

 private:
  // A tag, an inline scalar and one shared pointer for strings and collections: copying,
  // moving and destroying a Value are a few inline instructions (a std::variant of the eight
  // kinds went through a visitor table each time, ~30% of an evaluation).
  enum Tag : uint8_t {
    kTagNull,
    kTagBool,
    kTagInt,
    kTagDouble,
    kTagString,
    kTagArray,
    kTagObject,
    kTagSet,
  };
  const Value& Check(Tag t) const {
    if (tag_ != t) WrongKind();
    return *this;
  }
  [[noreturn]] static void WrongKind();

  Tag tag_ = kTagNull;
  union Scalar {
    int64_t i;
    double d;
    bool b;
  } s_ = {0};
  std::shared_ptr<const void> p_;  // the string or collection (kTagString and above)
};

struct ValueHash {
  size_t operator()(const Value& v) const { return v.Hash(); }
};

// Builds an object with string keys: MakeObject({{"a", Value::Int(1)}}).
Value MakeObject(std::initializer_list<std::pair<std::string_view, Value>> fields);

// `base` (an object; anything else counts as {}) with `members` put in, replacing its own.
Value WithMembers(const Value& base, const Object& members);

// Formats a number the way OPA prints it (integers without a fraction, floats shortest
// round-trip).
std::string FormatNumber(const Value& number);

}  // namespace mcpgw::rego
