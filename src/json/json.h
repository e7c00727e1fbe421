// JSON values are Boost.JSON's (measured ~3-6x faster than nlohmann on this machine). This header
// names the types the rest of the code uses and adds the few helpers every module needs.
#pragma once

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>
#include <boost/json/value.hpp>
#include <string>
#include <string_view>

#include "common/result.h"

namespace mcpgw::json {

using boost::json::array;
using boost::json::object;
using boost::json::string;
using boost::json::value;

// Parses one JSON text. Rejects trailing garbage, nesting deeper than `max_depth`, invalid UTF-8
// in strings. Numbers keep their value exactly: integers as int64 (uint64 above its range),
// others as the double nearest to their text (correctly rounded, unlike Boost's own parser).
Result<value> Parse(std::string_view text, std::size_t max_depth = 64);

inline std::string Serialize(const value& v) { return boost::json::serialize(v); }
// The same for an object or array as it is (passed as a value, it would be copied into one first).
inline std::string Serialize(const object& o) { return boost::json::serialize(o); }
inline std::string Serialize(const array& a) { return boost::json::serialize(a); }

// Appends `s` as a JSON string (quoted and escaped), byte for byte as Serialize writes a string.
void AppendString(std::string& out, std::string_view s);

// Typed lookups on an object; nullptr / empty / fallback when absent or of another type.
const value* Find(const object& o, std::string_view key);
const object* FindObject(const object& o, std::string_view key);
const array* FindArray(const object& o, std::string_view key);
std::string_view FindString(const object& o, std::string_view key);

}  // namespace mcpgw::json
