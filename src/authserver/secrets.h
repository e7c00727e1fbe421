// The small cryptographic helpers the authorization server needs everywhere: opaque tokens from
// the CSPRNG, SHA-256 and constant-time comparison. OpenSSL stays inside the .cc files.
#pragma once

#include <string>
#include <string_view>

namespace mcpgw::authserver {

// `bytes` bytes from OpenSSL's CSPRNG, base64url-encoded (no padding). Aborts if the CSPRNG
// fails: a predictable authorization code or refresh token is worse than stopping.
std::string RandomToken(size_t bytes = 32);

// SHA-256 of `data`: 32 raw bytes.
std::string Sha256(std::string_view data);

// Equal contents, compared in time that depends only on the lengths.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

}  // namespace mcpgw::authserver
