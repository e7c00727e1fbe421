// Test and benchmark support: generates signing keys with OpenSSL, exports their public JWK, and
// signs JWS input the way an issuer would (ES256 as R||S). Not linked into the gateway.
#pragma once

#include <memory>
#include <string>

#include "json/json.h"

typedef struct evp_pkey_st EVP_PKEY;  // NOLINT: OpenSSL's own forward declaration

namespace mcpgw::auth::testing {

struct TestKey {
  std::shared_ptr<EVP_PKEY> pkey;
  json::object jwk;  // public JWK with kid, alg, use=sig
  std::string alg;   // RS256 | PS256 | ES256 | EdDSA
};

TestKey Generate(const std::string& alg, const std::string& kid);
std::string Sign(const TestKey& key, const std::string& input);
// Big-endian bytes of an OpenSSL BIGNUM parameter of `k` (e.g. the RSA modulus).
std::string BnParam(EVP_PKEY* k, const char* name);
// "<b64url header>.<b64url claims>.<b64url signature>"
std::string MakeToken(const TestKey& key, const std::string& header_json,
                      const std::string& claims_json);

}  // namespace mcpgw::auth::testing
