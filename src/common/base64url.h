// base64url (RFC 4648 §5) without padding, as JOSE uses it. Decoding is strict: padding, characters
// outside the URL-safe alphabet, whitespace and non-canonical trailing bits are all rejected, so
// one token has exactly one encoding.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace mcpgw {

std::string Base64UrlEncode(std::string_view bytes);
std::optional<std::string> Base64UrlDecode(std::string_view text);

}  // namespace mcpgw
