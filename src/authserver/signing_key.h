// One asymmetric key that signs JWTs, for the four JOSE algorithms the server offers:
//   RS256  RSASSA-PKCS1-v1_5 with SHA-256, RSA 2048
//   PS256  RSASSA-PSS with SHA-256, MGF1-SHA-256, 32-byte salt, RSA 2048
//   ES256  ECDSA P-256 with SHA-256; the signature is the 64-byte R||S JOSE requires, not DER
//   EdDSA  Ed25519
// The key id is the RFC 7638 JWK thumbprint of the public key, so it is stable across restarts
// and safe as a file name (base64url).
//
// OpenSSL types stay in signing_key.cc. A SigningKey is immutable after construction and may be
// used from any thread.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"
#include "json/json.h"

namespace mcpgw::authserver {

enum class Alg { kRS256, kPS256, kES256, kEdDSA };

std::string_view AlgName(Alg alg);  // "RS256", ...
std::optional<Alg> ParseAlg(std::string_view name);

class SigningKey {
 public:
  static Result<SigningKey> Generate(Alg alg);
  // Reads a PKCS#8 PEM private key; fails unless its type suits `alg` (RSA ≥ 2048 bits for RS256
  // and PS256, P-256 for ES256, Ed25519 for EdDSA).
  static Result<SigningKey> FromPem(Alg alg, std::string_view pem);

  SigningKey(SigningKey&&) noexcept;
  SigningKey& operator=(SigningKey&&) noexcept;
  ~SigningKey();

  Alg alg() const;
  const std::string& kid() const;
  // PKCS#8 PEM of the private key.
  std::string PrivatePem() const;
  // The public key as a JWK: kty, kid, alg, use=sig and n/e (RSA), crv/x/y (EC) or crv/x (OKP).
  const json::object& PublicJwk() const;
  // The JWS signature of `signing_input` (raw bytes, not base64url).
  Result<std::string> Sign(std::string_view signing_input) const;

  struct Impl;  // opaque: holds the OpenSSL key

 private:
  explicit SigningKey(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace mcpgw::authserver
