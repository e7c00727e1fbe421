// Password and client-secret hashes: PBKDF2-HMAC-SHA256 in the form
//   pbkdf2-sha256$<iterations>$<salt, base64url>$<derived key, base64url>
// Files never hold a plain secret: anything that does not parse as such a hash is rejected when
// the file is loaded. Verification compares in constant time.
#pragma once

#include <string>
#include <string_view>

#include "common/result.h"

namespace mcpgw::authserver {

// OWASP's 2023 recommendation for PBKDF2-HMAC-SHA256 (~0.15 s per hash on the dev machine).
inline constexpr int kDefaultPasswordIterations = 600000;

// Hashes with a fresh 16-byte random salt.
std::string HashPassword(std::string_view password, int iterations = kDefaultPasswordIterations);

// Ok when `encoded` is a well-formed hash; otherwise says what is wrong with it (without echoing
// it: a wrong entry may be somebody's plain password).
Status CheckPasswordHash(std::string_view encoded);

// True when `password` matches `encoded`; false also when `encoded` is malformed.
bool VerifyPassword(std::string_view password, std::string_view encoded);

}  // namespace mcpgw::authserver
