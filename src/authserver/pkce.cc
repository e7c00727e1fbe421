#include "authserver/pkce.h"

#include "authserver/secrets.h"
#include "common/base64url.h"

namespace mcpgw::authserver {

bool IsValidCodeVerifier(std::string_view verifier) {
  if (verifier.size() < 43 || verifier.size() > 128) return false;
  for (char c : verifier) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '.' || c == '_' || c == '~';
    if (!ok) return false;
  }
  return true;
}

bool IsValidS256Challenge(std::string_view challenge) {
  if (challenge.size() != 43) return false;
  auto raw = Base64UrlDecode(challenge);
  return raw.has_value() && raw->size() == 32;
}

std::string S256Challenge(std::string_view verifier) { return Base64UrlEncode(Sha256(verifier)); }

bool VerifyS256(std::string_view verifier, std::string_view challenge) {
  if (!IsValidCodeVerifier(verifier)) return false;
  return ConstantTimeEquals(S256Challenge(verifier), challenge);
}

}  // namespace mcpgw::authserver
