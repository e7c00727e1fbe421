// OAuth error codes (RFC 6749 §4.1.2.1 and §5.2, RFC 7591 §3.2.2, RFC 8707 §2) and the one place
// that maps them to HTTP statuses. Functions in this module report an OAuth error as an
// mcpgw::Error whose `code` is an OAuthError and whose `message` is the error_description.
#pragma once

#include <string>
#include <string_view>

#include "common/result.h"

namespace mcpgw::authserver {

enum class OAuthError {
  kInvalidRequest = 1,
  kInvalidClient,
  kInvalidGrant,
  kUnauthorizedClient,
  kUnsupportedGrantType,
  kInvalidScope,
  kInvalidTarget,
  kAccessDenied,
  kUnsupportedResponseType,
  kLoginRequired,
  kInvalidRedirectUri,
  kInvalidClientMetadata,
  kServerError,
};

// The RFC's name for the code ("invalid_grant").
std::string_view ErrorName(OAuthError e);
// The HTTP status a JSON error response with this code carries (400, 401 or 500).
int HttpStatus(OAuthError e);

inline Error OAuthFail(OAuthError e, std::string description) {
  return Error{std::move(description), static_cast<int>(e)};
}
// The OAuthError an Error carries; kServerError for errors that carry none.
OAuthError ErrorOf(const Error& e);
// {"error": ..., "error_description": ...}
std::string ErrorBody(const Error& e);

}  // namespace mcpgw::authserver
