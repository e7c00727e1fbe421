// The small cryptographic helpers the authorization server needs everywhere: opaque tokens from
// the CSPRNG and constant-time comparison (SHA-256 is mcpgw::Sha256 from common/hash.h). OpenSSL
// stays inside the .cc files.
#pragma once

#include <string>
#include <string_view>

#include "common/hash.h"  // Sha256, used with these helpers

namespace mcpgw::authserver {

// `bytes` bytes from OpenSSL's CSPRNG, base64url-encoded (no padding). Aborts if the CSPRNG
// fails: a predictable authorization code or refresh token is worse than stopping.
std::string RandomToken(size_t bytes = 32);

// Equal contents, compared in time that depends only on the lengths.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

}  // namespace mcpgw::authserver
