#include "auth/test_signer.h"

#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "common/base64url.h"

namespace mcpgw::auth::testing {

std::string BnParam(EVP_PKEY* k, const char* name) {
  BIGNUM* bn = nullptr;
  EVP_PKEY_get_bn_param(k, name, &bn);
  std::string out(static_cast<size_t>(BN_num_bytes(bn)), '\0');
  BN_bn2bin(bn, reinterpret_cast<unsigned char*>(out.data()));
  BN_free(bn);
  return out;
}

TestKey Generate(const std::string& alg, const std::string& kid) {
  TestKey t;
  t.alg = alg;
  EVP_PKEY* k = nullptr;
  json::object& j = t.jwk;
  j["kid"] = kid;
  j["alg"] = alg;
  j["use"] = "sig";
  if (alg == "RS256" || alg == "PS256") {
    k = EVP_RSA_gen(2048);
    j["kty"] = "RSA";
    j["n"] = Base64UrlEncode(BnParam(k, OSSL_PKEY_PARAM_RSA_N));
    j["e"] = Base64UrlEncode(BnParam(k, OSSL_PKEY_PARAM_RSA_E));
  } else if (alg == "ES256") {
    k = EVP_EC_gen("P-256");
    j["kty"] = "EC";
    j["crv"] = "P-256";
    unsigned char pub[65];
    size_t len = 0;
    EVP_PKEY_get_octet_string_param(k, OSSL_PKEY_PARAM_PUB_KEY, pub, sizeof pub, &len);
    j["x"] = Base64UrlEncode(std::string(reinterpret_cast<char*>(pub) + 1, 32));
    j["y"] = Base64UrlEncode(std::string(reinterpret_cast<char*>(pub) + 33, 32));
  } else {
    EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, nullptr);
    EVP_PKEY_keygen_init(ctx);
    EVP_PKEY_keygen(ctx, &k);
    EVP_PKEY_CTX_free(ctx);
    j["kty"] = "OKP";
    j["crv"] = "Ed25519";
    unsigned char pub[32];
    size_t len = sizeof pub;
    EVP_PKEY_get_raw_public_key(k, pub, &len);
    j["x"] = Base64UrlEncode(std::string(reinterpret_cast<char*>(pub), 32));
  }
  t.pkey = std::shared_ptr<EVP_PKEY>(k, EVP_PKEY_free);
  return t;
}

std::string Sign(const TestKey& key, const std::string& input) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_PKEY_CTX* pctx = nullptr;
  const EVP_MD* md = key.alg == "EdDSA" ? nullptr : EVP_sha256();
  EVP_DigestSignInit(ctx, &pctx, md, nullptr, key.pkey.get());
  if (key.alg == "PS256") {
    EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING);
    EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST);
  }
  size_t len = 0;
  EVP_DigestSign(ctx, nullptr, &len, reinterpret_cast<const unsigned char*>(input.data()),
                 input.size());
  std::string sig(len, '\0');
  EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &len,
                 reinterpret_cast<const unsigned char*>(input.data()), input.size());
  sig.resize(len);
  EVP_MD_CTX_free(ctx);
  if (key.alg == "ES256") {  // DER -> JOSE's R||S
    const unsigned char* p = reinterpret_cast<const unsigned char*>(sig.data());
    ECDSA_SIG* es = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(sig.size()));
    std::string raw(64, '\0');
    BN_bn2binpad(ECDSA_SIG_get0_r(es), reinterpret_cast<unsigned char*>(raw.data()), 32);
    BN_bn2binpad(ECDSA_SIG_get0_s(es), reinterpret_cast<unsigned char*>(raw.data()) + 32, 32);
    ECDSA_SIG_free(es);
    return raw;
  }
  return sig;
}

std::string MakeToken(const TestKey& key, const std::string& header_json,
                      const std::string& claims_json) {
  std::string input = Base64UrlEncode(header_json) + "." + Base64UrlEncode(claims_json);
  return input + "." + Base64UrlEncode(Sign(key, input));
}

}  // namespace mcpgw::auth::testing
