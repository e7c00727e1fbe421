// application/x-www-form-urlencoded, as OAuth uses it for token requests, HTML forms and the query
// of authorization requests and redirects; plus the base64 of HTTP Basic authentication and HTML
// escaping for the login page.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"

namespace mcpgw::authserver {

// Decoded name/value pairs in the order they appeared.
class FormParams {
 public:
  // Parses "a=1&b=x+y&c=%2F". '+' is a space; a malformed %-escape is an error.
  static Result<FormParams> Parse(std::string_view text);

  // The first value of `name`, or empty when absent.
  std::string_view Get(std::string_view name) const;
  bool Has(std::string_view name) const;
  size_t Count(std::string_view name) const;
  // The first name that appears more than once, or empty. RFC 6749 §3.1: request parameters
  // MUST NOT be included more than once.
  std::string_view Repeated() const;
  const std::vector<std::pair<std::string, std::string>>& items() const { return items_; }

 private:
  std::vector<std::pair<std::string, std::string>> items_;
};

// Percent-decodes one component ('+' is a space when `plus_is_space`); a malformed escape is an
// error.
Result<std::string> PercentDecode(std::string_view text, bool plus_is_space);
// Percent-encodes everything but the RFC 3986 unreserved characters.
std::string PercentEncode(std::string_view text);

// Appends query parameters to a URI that may already have a query (RFC 6749 §3.1.2: the
// redirect URI's own query is retained). Empty values are left out.
std::string AppendQuery(std::string_view uri,
                        const std::vector<std::pair<std::string_view, std::string_view>>& params);

// Standard base64 (RFC 4648 §4, with padding), as HTTP Basic authentication uses it.
Result<std::string> Base64Decode(std::string_view text);

// Escapes &, <, >, " and ' for HTML text and attribute values.
std::string HtmlEscape(std::string_view text);

}  // namespace mcpgw::authserver
