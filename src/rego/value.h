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
#include <variant>
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
  bool is_null() const { return v_.index() == 0; }
  bool is_bool() const { return v_.index() == 1; }
  bool is_number() const { return v_.index() == 2 || v_.index() == 3; }
  bool is_int() const { return v_.index() == 2; }  // integral number that fits in int64
  bool is_string() const { return v_.index() == 4; }
  bool is_array() const { return v_.index() == 5; }
  bool is_object() const { return v_.index() == 6; }
  bool is_set() const { return v_.index() == 7; }
  bool is_collection() const { return v_.index() >= 5; }

  // Accessors; calling one for another kind is a programming error (checked by std::get).
  bool as_bool() const { return std::get<1>(v_); }
  int64_t as_int() const { return std::get<2>(v_); }
  double as_double() const;  // any number
  const std::string& str() const { return *std::get<4>(v_); }
  const Array& array() const { return *std::get<5>(v_); }
  const Object& object() const { return *std::get<6>(v_); }
  const Set& set() const { return *std::get<7>(v_); }

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

 private:
  std::variant<std::monostate, bool, int64_t, double, std::shared_ptr<const std::string>,
               std::shared_ptr<const Array>, std::shared_ptr<const Object>,
               std::shared_ptr<const Set>>
      v_;
};

struct ValueHash {
  size_t operator()(const Value& v) const { return v.Hash(); }
};

// Builds an object with string keys: MakeObject({{"a", Value::Int(1)}}).
Value MakeObject(std::initializer_list<std::pair<std::string_view, Value>> fields);

// Formats a number the way OPA prints it (integers without a fraction, floats shortest
// round-trip).
std::string FormatNumber(const Value& number);

}  // namespace mcpgw::rego
