#include "authserver/errors.h"

#include "common/log.h"

namespace mcpgw::authserver {

std::string_view ErrorName(OAuthError e) {
  switch (e) {
    case OAuthError::kInvalidRequest:
      return "invalid_request";
    case OAuthError::kInvalidClient:
      return "invalid_client";
    case OAuthError::kInvalidGrant:
      return "invalid_grant";
    case OAuthError::kUnauthorizedClient:
      return "unauthorized_client";
    case OAuthError::kUnsupportedGrantType:
      return "unsupported_grant_type";
    case OAuthError::kInvalidScope:
      return "invalid_scope";
    case OAuthError::kInvalidTarget:
      return "invalid_target";
    case OAuthError::kAccessDenied:
      return "access_denied";
    case OAuthError::kUnsupportedResponseType:
      return "unsupported_response_type";
    case OAuthError::kLoginRequired:
      return "login_required";
    case OAuthError::kInvalidRedirectUri:
      return "invalid_redirect_uri";
    case OAuthError::kInvalidClientMetadata:
      return "invalid_client_metadata";
    case OAuthError::kServerError:
      return "server_error";
  }
  return "server_error";
}

int HttpStatus(OAuthError e) {
  switch (e) {
    case OAuthError::kInvalidClient:
      return 401;  // RFC 6749 §5.2: 401 when the client tried to authenticate and failed
    case OAuthError::kServerError:
      return 500;
    default:
      return 400;
  }
}

OAuthError ErrorOf(const Error& e) {
  if (e.code < static_cast<int>(OAuthError::kInvalidRequest) ||
      e.code > static_cast<int>(OAuthError::kServerError)) {
    return OAuthError::kServerError;
  }
  return static_cast<OAuthError>(e.code);
}

std::string ErrorBody(const Error& e) {
  std::string out = R"({"error":")";
  out += ErrorName(ErrorOf(e));
  out += R"(","error_description":")";
  log::AppendJsonEscaped(out, e.message);
  out += "\"}";
  return out;
}

}  // namespace mcpgw::authserver
