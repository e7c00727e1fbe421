#include "json/json.h"

// Boost.JSON compiled into this one translation unit (Debian ships no libboost_json for 1.81).
#include <boost/json/src.hpp>
#include <charconv>
#include <system_error>

namespace mcpgw::json {
namespace {

using boost::json::error_code;
using boost::json::string_view;

// The handler of Boost's own `parser` (it builds a value with a value_stack), except for
// fractional and exponent numbers. Boost 1.81 converts those with a fast algorithm that is off by
// one unit in the last place for about one number in eight that JavaScript prints
// (9612.386377896033 becomes 9612.386377896031), and the gateway passes arguments and results on
// re-serialised: a client's number must reach the tool unchanged. So the number's text is converted
// again with std::from_chars, which rounds correctly.
class PreciseHandler {
 public:
  static constexpr std::size_t max_object_size = object::max_size();
  static constexpr std::size_t max_array_size = array::max_size();
  static constexpr std::size_t max_key_size = string::max_size();
  static constexpr std::size_t max_string_size = string::max_size();

  PreciseHandler(boost::json::storage_ptr sp, unsigned char* buffer, std::size_t size)
      : st(std::move(sp), buffer, size) {}

  bool on_document_begin(error_code&) { return true; }
  bool on_document_end(error_code&) { return true; }
  bool on_object_begin(error_code&) { return true; }
  bool on_object_end(std::size_t n, error_code&) {
    st.push_object(n);
    return true;
  }
  bool on_array_begin(error_code&) { return true; }
  bool on_array_end(std::size_t n, error_code&) {
    st.push_array(n);
    return true;
  }
  bool on_key_part(string_view s, std::size_t, error_code&) {
    st.push_chars(s);
    return true;
  }
  bool on_key(string_view s, std::size_t, error_code&) {
    st.push_key(s);
    return true;
  }
  bool on_string_part(string_view s, std::size_t, error_code&) {
    st.push_chars(s);
    return true;
  }
  bool on_string(string_view s, std::size_t, error_code&) {
    st.push_string(s);
    return true;
  }
  // A number split across writes arrives in parts; Parse writes once, but a part costs nothing.
  bool on_number_part(string_view s, error_code&) {
    number_.append(s.data(), s.size());
    return true;
  }
  bool on_int64(std::int64_t i, string_view, error_code&) {
    number_.clear();
    st.push_int64(i);
    return true;
  }
  bool on_uint64(std::uint64_t u, string_view, error_code&) {
    number_.clear();
    st.push_uint64(u);
    return true;
  }
  bool on_double(double d, string_view s, error_code& error) {
    std::string_view text(s.data(), s.size());
    if (!number_.empty()) {
      number_.append(s.data(), s.size());
      text = number_;
    }
    double exact = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), exact);
    if (ec == std::errc() && end == text.data() + text.size()) d = exact;
    number_.clear();
    // 1e400 would be written on as `Infinity`, which is not JSON: refuse it here. (An underflow,
    // 1e-400, is 0 as in JavaScript.)
    if (!std::isfinite(d)) {
      out_of_range = true;
      error = boost::json::error::exponent_overflow;
      return false;
    }
    st.push_double(d);
    return true;
  }
  bool on_bool(bool b, error_code&) {
    st.push_bool(b);
    return true;
  }
  bool on_null(error_code&) {
    st.push_null();
    return true;
  }
  bool on_comment_part(string_view, error_code&) { return true; }
  bool on_comment(string_view, error_code&) { return true; }

  boost::json::value_stack st;
  bool out_of_range = false;

 private:
  std::string number_;
};

// Rewrites the \u escapes of lone UTF-16 surrogates (a high one not followed by a low one, or a
// low one alone) to \ufffd. JavaScript's JSON.stringify writes them for a string cut in the
// middle of an emoji (`text.slice(0, n)`), and JavaScript servers accept them, but Boost rejects
// them and UTF-8 cannot carry them. Returns false when the text has none.
bool ReplaceLoneSurrogates(std::string_view text, std::string& out) {
  auto hex4 = [&](size_t at, unsigned& code) {
    if (at + 4 > text.size()) return false;
    auto [end, ec] = std::from_chars(text.data() + at, text.data() + at + 4, code, 16);
    return ec == std::errc() && end == text.data() + at + 4;
  };
  auto surrogate_at = [&](size_t at, unsigned lo, unsigned hi) {
    unsigned c = 0;
    return at + 6 <= text.size() && text[at] == '\\' && text[at + 1] == 'u' && hex4(at + 2, c) &&
           c >= lo && c <= hi;
  };
  bool changed = false;
  bool in_string = false;
  out.clear();
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    char ch = text[i];
    if (!in_string) {
      in_string = ch == '"';
      out += ch;
      continue;
    }
    if (ch == '"') {
      in_string = false;
    } else if (ch == '\\' && i + 1 < text.size()) {
      if (surrogate_at(i, 0xD800, 0xDBFF) && surrogate_at(i + 6, 0xDC00, 0xDFFF)) {
        out.append(text.substr(i, 12));  // a well-formed pair
        i += 11;
        continue;
      }
      if (surrogate_at(i, 0xD800, 0xDFFF)) {
        out += "\\ufffd";
        changed = true;
        i += 5;
        continue;
      }
      out += ch;
      out += text[++i];  // any other escape, kept as it is
      continue;
    }
    out += ch;
  }
  return changed;
}

Result<value> ParseOnce(std::string_view text, std::size_t max_depth) {
  boost::json::parse_options opts;
  opts.max_depth = max_depth;
  unsigned char temp[BOOST_JSON_STACK_BUFFER_SIZE];
  boost::json::basic_parser<PreciseHandler> p(opts, boost::json::storage_ptr(), temp, sizeof(temp));
  p.handler().st.reset();
  error_code ec;
  std::size_t n = p.write_some(false, text.data(), text.size(), ec);
  if (!ec && n < text.size()) ec = boost::json::error::extra_data;
  if (p.handler().out_of_range)
    return MakeError("invalid JSON: number out of range (beyond 1.8e308)");
  if (ec) return MakeError("invalid JSON: " + ec.message());
  return p.handler().st.release();
}

}  // namespace

Result<value> Parse(std::string_view text, std::size_t max_depth) {
  auto v = ParseOnce(text, max_depth);
  if (v.ok()) return v;
  // Only a text that failed is looked at again: the common case pays nothing. A text that still
  // fails keeps its first error.
  std::string repaired;
  if (!ReplaceLoneSurrogates(text, repaired)) return v;
  auto again = ParseOnce(repaired, max_depth);
  return again.ok() ? again : v;
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

void AppendString(std::string& out, std::string_view s) {
  boost::json::serializer sr;
  sr.reset(s);
  char buf[512];
  while (!sr.done()) {
    std::string_view part = sr.read(buf, sizeof(buf));
    out.append(part.data(), part.size());
  }
}

}  // namespace mcpgw::json
