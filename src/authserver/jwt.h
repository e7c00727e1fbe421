// JWS Compact Serialization (RFC 7515 §7.1) of a JWT: header {alg, kid, typ}, the claims, and the
// signature, each base64url-encoded.
#pragma once

#include <string>
#include <string_view>

#include "authserver/signing_key.h"
#include "common/result.h"
#include "json/json.h"

namespace mcpgw::authserver {

// Signs `claims` with `key`. `typ` is "at+jwt" for RFC 9068 access tokens, "JWT" for ID tokens.
Result<std::string> SignJwt(const SigningKey& key, std::string_view typ,
                            const json::object& claims);

}  // namespace mcpgw::authserver
