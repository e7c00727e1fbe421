// PKCE (RFC 7636) with the S256 method only: OAuth 2.1 and MCP require S256, and "plain" gives no
// protection against a stolen authorization code.
#pragma once

#include <string>
#include <string_view>

namespace mcpgw::authserver {

// A code_verifier is 43-128 characters from [A-Za-z0-9-._~] (RFC 7636 §4.1).
bool IsValidCodeVerifier(std::string_view verifier);
// An S256 code_challenge is the base64url SHA-256 of a verifier: exactly 43 characters.
bool IsValidS256Challenge(std::string_view challenge);
// BASE64URL(SHA256(ASCII(code_verifier))).
std::string S256Challenge(std::string_view verifier);
// True when `verifier` is well-formed and hashes to `challenge` (compared in constant time).
bool VerifyS256(std::string_view verifier, std::string_view challenge);

}  // namespace mcpgw::authserver
