#include "json/json.h"

// Boost.JSON compiled into this one translation unit (Debian ships no libboost_json for 1.81).
#include <boost/json/src.hpp>

namespace mcpgw::json {

Result<value> Parse(std::string_view text) {
  boost::json::parse_options opts;
  opts.max_depth = 64;
  boost::system::error_code ec;
  value v = boost::json::parse(text, ec, {}, opts);
  if (ec) return MakeError("invalid JSON: " + ec.message());
  return v;
}

const value* Find(const object& o, std::string_view key) { return o.if_contains(key); }

const object* FindObject(const object& o, std::string_view key) {
  const value* v = o.if_contains(key);
  return v ? v->if_object() : nullptr;
}

const array* FindArray(const object& o, std::string_view key) {
  const value* v = o.if_contains(key);
  return v ? v->if_array() : nullptr;
}

std::string_view FindString(const object& o, std::string_view key) {
  const value* v = o.if_contains(key);
  if (!v) return {};
  const string* s = v->if_string();
  return s ? std::string_view(*s) : std::string_view();
}

}  // namespace mcpgw::json
