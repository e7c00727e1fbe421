#include "auth/jws.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>
#include <sodium.h>

#include <cmath>

#include "common/base64url.h"

namespace mcpgw::auth {
namespace {

struct PkeyDeleter {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct CtxDeleter {
  void operator()(EVP_PKEY_CTX* p) const { EVP_PKEY_CTX_free(p); }
};
struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* p) const { EVP_MD_CTX_free(p); }
};
struct BnDeleter {
  void operator()(BIGNUM* p) const { BN_free(p); }
};
struct ParamBldDeleter {
  void operator()(OSSL_PARAM_BLD* p) const { OSSL_PARAM_BLD_free(p); }
};
struct ParamDeleter {
  void operator()(OSSL_PARAM* p) const { OSSL_PARAM_free(p); }
};
struct EcdsaSigDeleter {
  void operator()(ECDSA_SIG* p) const { ECDSA_SIG_free(p); }
};

std::shared_ptr<EVP_PKEY> Share(EVP_PKEY* p) { return std::shared_ptr<EVP_PKEY>(p, PkeyDeleter()); }

std::optional<std::string> B64Field(const json::object& o, std::string_view name) {
  std::string_view v = json::FindString(o, name);
  if (v.empty()) return std::nullopt;
  return Base64UrlDecode(v);
}

Result<std::shared_ptr<EVP_PKEY>> FromParams(const char* type, OSSL_PARAM* params) {
  std::unique_ptr<EVP_PKEY_CTX, CtxDeleter> ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  EVP_PKEY* pkey = nullptr;
  if (!ctx || EVP_PKEY_fromdata_init(ctx.get()) <= 0 ||
      EVP_PKEY_fromdata(ctx.get(), &pkey, EVP_PKEY_PUBLIC_KEY, params) <= 0) {
    return MakeError("key material rejected by OpenSSL");
  }
  return Share(pkey);
}

Result<std::shared_ptr<EVP_PKEY>> RsaKey(const json::object& jwk) {
  auto n = B64Field(jwk, "n");
  auto e = B64Field(jwk, "e");
  if (!n || !e || n->empty() || e->empty()) return MakeError("RSA key without valid n/e");
  std::unique_ptr<BIGNUM, BnDeleter> bn_n(BN_bin2bn(
      reinterpret_cast<const unsigned char*>(n->data()), static_cast<int>(n->size()), nullptr));
  std::unique_ptr<BIGNUM, BnDeleter> bn_e(BN_bin2bn(
      reinterpret_cast<const unsigned char*>(e->data()), static_cast<int>(e->size()), nullptr));
  if (!bn_n || !bn_e) return MakeError("RSA key: bad numbers");
  if (BN_num_bits(bn_n.get()) < 2048) return MakeError("RSA key shorter than 2048 bits");
  std::unique_ptr<OSSL_PARAM_BLD, ParamBldDeleter> bld(OSSL_PARAM_BLD_new());
  OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, bn_n.get());
  OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, bn_e.get());
  std::unique_ptr<OSSL_PARAM, ParamDeleter> params(OSSL_PARAM_BLD_to_param(bld.get()));
  return FromParams("RSA", params.get());
}

Result<std::shared_ptr<EVP_PKEY>> EcKey(const json::object& jwk) {
  if (json::FindString(jwk, "crv") != "P-256")
    return MakeError("EC key on a curve other than P-256");
  auto x = B64Field(jwk, "x");
  auto y = B64Field(jwk, "y");
  if (!x || !y || x->size() != 32 || y->size() != 32)
    return MakeError("EC key without 32-byte x/y");
  std::string point = "\x04" + *x + *y;
  std::unique_ptr<OSSL_PARAM_BLD, ParamBldDeleter> bld(OSSL_PARAM_BLD_new());
  OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0);
  OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size());
  std::unique_ptr<OSSL_PARAM, ParamDeleter> params(OSSL_PARAM_BLD_to_param(bld.get()));
  return FromParams("EC", params.get());  // OpenSSL checks that the point is on the curve
}

Result<std::shared_ptr<EVP_PKEY>> OkpKey(const json::object& jwk) {
  if (json::FindString(jwk, "crv") != "Ed25519") return MakeError("OKP key other than Ed25519");
  auto x = B64Field(jwk, "x");
  if (!x || x->size() != 32) return MakeError("Ed25519 key without a 32-byte x");
  EVP_PKEY* p = EVP_PKEY_new_raw_public_key(
      EVP_PKEY_ED25519, nullptr, reinterpret_cast<const unsigned char*>(x->data()), x->size());
  if (!p) return MakeError("Ed25519 key rejected by OpenSSL");
  return Share(p);
}

bool AlgFitsKey(std::string_view alg, KeyType type) {
  if (alg == "RS256" || alg == "PS256") return type == KeyType::kRsa;
  if (alg == "ES256") return type == KeyType::kEcP256;
  if (alg == "EdDSA") return type == KeyType::kEd25519;
  return false;
}

bool IsNumber(const json::value* v) {
  return v && (v->is_int64() || v->is_uint64() || v->is_double());
}
double Number(const json::value& v) {
  return v.is_double() ? v.get_double() : v.to_number<double>();
}

}  // namespace

Result<PublicKey> ParseJwk(const json::object& jwk) {
  PublicKey k;
  k.kid = std::string(json::FindString(jwk, "kid"));
  k.alg = std::string(json::FindString(jwk, "alg"));
  if (const json::value* use = jwk.if_contains("use");
      use && (!use->is_string() || use->get_string() != "sig")) {
    return MakeError("key is not for signatures (use != sig)");
  }
  if (const json::array* ops = json::FindArray(jwk, "key_ops")) {
    bool verify = false;
    for (const auto& op : *ops) verify = verify || (op.is_string() && op.get_string() == "verify");
    if (!verify) return MakeError("key_ops does not allow verify");
  }
  std::string_view kty = json::FindString(jwk, "kty");
  Result<std::shared_ptr<EVP_PKEY>> pkey = MakeError("unsupported kty");
  if (kty == "RSA") {
    k.type = KeyType::kRsa;
    pkey = RsaKey(jwk);
  } else if (kty == "EC") {
    k.type = KeyType::kEcP256;
    pkey = EcKey(jwk);
  } else if (kty == "OKP") {
    k.type = KeyType::kEd25519;
    pkey = OkpKey(jwk);
    if (pkey.ok()) k.ed25519_raw = *B64Field(jwk, "x");
  } else {
    return MakeError("unsupported key type '" + std::string(kty) + "'");
  }
  if (!pkey.ok()) return pkey.error();
  if (!k.alg.empty() && !AlgFitsKey(k.alg, k.type))
    return MakeError("key alg does not fit its key type");
  k.pkey = std::move(pkey).value();
  return k;
}

Result<KeySet> ParseJwks(std::string_view text) {
  auto v = json::Parse(text);
  if (!v.ok() || !v->is_object()) return MakeError("JWKS is not a JSON object");
  const json::array* keys = json::FindArray(v->get_object(), "keys");
  if (!keys) return MakeError("JWKS has no \"keys\" array");
  KeySet set;
  for (const auto& item : *keys) {
    if (!item.is_object()) continue;
    auto k = ParseJwk(item.get_object());
    std::string kid(json::FindString(item.get_object(), "kid"));
    if (!k.ok()) {
      set.rejected.push_back((kid.empty() ? "(no kid)" : kid) + ": " + k.error().message);
      continue;
    }
    std::string id = k->kid;
    set.by_kid.emplace(std::move(id), std::move(k).value());
  }
  return set;
}

bool HasDuplicateMembers(std::string_view text) {
  // Collects the member names of the outermost object; values are skipped by depth tracking.
  std::set<std::string, std::less<>> seen;
  int depth = 0;
  bool expect_key = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '"') {
      size_t start = ++i;
      while (i < text.size() && text[i] != '"') {
        if (text[i] == '\\') ++i;
        ++i;
      }
      if (depth == 1 && expect_key) {
        // Compare decoded names: "a" and "\u0061" are the same member.
        auto decoded = json::Parse(text.substr(start - 1, i - start + 2));
        std::string name = decoded.ok() && decoded->is_string()
                               ? std::string(decoded->get_string())
                               : std::string(text.substr(start, i - start));
        if (!seen.insert(name).second) return true;
        expect_key = false;
      }
      continue;
    }
    if (c == '{' || c == '[') {
      ++depth;
      if (depth == 1 && c == '{') expect_key = true;
    } else if (c == '}' || c == ']') {
      --depth;
    } else if (c == ',' && depth == 1) {
      expect_key = true;
    }
  }
  return false;
}

Result<ParsedToken> ParseToken(std::string_view token, const VerifyOptions& opt) {
  if (token.size() > opt.max_token_bytes) return MakeError("token too large");
  size_t d1 = token.find('.');
  size_t d2 = d1 == std::string_view::npos ? d1 : token.find('.', d1 + 1);
  if (d1 == std::string_view::npos || d2 == std::string_view::npos ||
      token.find('.', d2 + 1) != std::string_view::npos) {
    return MakeError("malformed token (expected three segments)");
  }
  std::string_view h64 = token.substr(0, d1), p64 = token.substr(d1 + 1, d2 - d1 - 1),
                   s64 = token.substr(d2 + 1);
  if (h64.empty() || p64.empty() || s64.empty())
    return MakeError("malformed token (empty segment)");
  auto h = Base64UrlDecode(h64);
  auto p = Base64UrlDecode(p64);
  auto s = Base64UrlDecode(s64);
  if (!h || !p || !s) return MakeError("malformed token (bad base64url)");
  auto hv = json::Parse(*h);
  if (!hv.ok() || !hv->is_object()) return MakeError("malformed token header");
  if (HasDuplicateMembers(*h)) return MakeError("token header has duplicate members");
  ParsedToken t;
  t.header = std::move(hv->as_object());
  const json::value* alg = t.header.if_contains("alg");
  if (!alg || !alg->is_string()) return MakeError("token header has no alg");
  t.alg = std::string(alg->get_string());
  if (!opt.algorithms.count(t.alg)) return MakeError("token algorithm not allowed");
  for (const char* banned : {"jku", "x5u", "jwk", "x5c", "x5t", "x5t#S256"}) {
    if (t.header.contains(banned)) return MakeError("token header names its own key; refused");
  }
  if (t.header.contains("crit")) return MakeError("token header has critical extensions; refused");
  if (const json::value* kid = t.header.if_contains("kid")) {
    if (!kid->is_string() || kid->get_string().size() > 256)
      return MakeError("token kid is invalid");
    t.kid = std::string(kid->get_string());
  }
  if (opt.require_typ) {
    const json::value* typ = t.header.if_contains("typ");
    std::string lower;
    if (typ && typ->is_string()) {
      for (char c : typ->get_string())
        lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    if (lower != "at+jwt" && lower != "application/at+jwt")
      return MakeError("token typ is not at+jwt");
  }
  auto pv = json::Parse(*p);
  if (!pv.ok() || !pv->is_object()) return MakeError("token payload is not a JSON object");
  if (HasDuplicateMembers(*p)) return MakeError("token payload has duplicate members");
  t.payload = std::move(pv->as_object());
  t.signing_input = std::string(token.substr(0, d2));
  t.signature = std::move(*s);
  return t;
}

Status VerifySignature(const ParsedToken& t, const PublicKey& key) {
  if (!AlgFitsKey(t.alg, key.type)) return MakeError("token algorithm does not fit the key");
  if (!key.alg.empty() && key.alg != t.alg)
    return MakeError("token algorithm differs from the key's");
  std::string sig = t.signature;
  const EVP_MD* md = EVP_sha256();
  if (t.alg == "ES256") {
    if (sig.size() != 64) return MakeError("ES256 signature must be 64 bytes (R||S)");
    std::unique_ptr<ECDSA_SIG, EcdsaSigDeleter> es(ECDSA_SIG_new());
    BIGNUM* r = BN_bin2bn(reinterpret_cast<const unsigned char*>(sig.data()), 32, nullptr);
    BIGNUM* s = BN_bin2bn(reinterpret_cast<const unsigned char*>(sig.data()) + 32, 32, nullptr);
    if (!es || !r || !s || BN_is_zero(r) || BN_is_zero(s)) {
      BN_free(r);
      BN_free(s);
      return MakeError("invalid ES256 signature");
    }
    ECDSA_SIG_set0(es.get(), r, s);
    unsigned char* der = nullptr;
    int len = i2d_ECDSA_SIG(es.get(), &der);
    if (len <= 0) return MakeError("invalid ES256 signature");
    sig.assign(reinterpret_cast<char*>(der), static_cast<size_t>(len));
    OPENSSL_free(der);
  } else if (t.alg == "EdDSA") {
    if (sig.size() != crypto_sign_BYTES || key.ed25519_raw.size() != crypto_sign_PUBLICKEYBYTES) {
      return MakeError("invalid EdDSA signature");
    }
    static const bool sodium_ready = sodium_init() >= 0;
    if (!sodium_ready) return MakeError("signature check could not start");
    int rc = crypto_sign_verify_detached(
        reinterpret_cast<const unsigned char*>(sig.data()),
        reinterpret_cast<const unsigned char*>(t.signing_input.data()), t.signing_input.size(),
        reinterpret_cast<const unsigned char*>(key.ed25519_raw.data()));
    if (rc != 0) return MakeError("signature verification failed");
    return {};
  }
  std::unique_ptr<EVP_MD_CTX, MdCtxDeleter> ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), &pctx, md, nullptr, key.pkey.get()) <= 0) {
    return MakeError("signature check could not start");
  }
  if (t.alg == "PS256") {
    if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) <= 0 ||
        EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) <= 0 ||
        EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256()) <= 0) {
      return MakeError("signature check could not start");
    }
  } else if (t.alg == "RS256") {
    if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) <= 0)
      return MakeError("signature check could not start");
  }
  int rc = EVP_DigestVerify(
      ctx.get(), reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
      reinterpret_cast<const unsigned char*>(t.signing_input.data()), t.signing_input.size());
  if (rc != 1) return MakeError("signature verification failed");
  return {};
}

Status VerifyClaims(const ParsedToken& t, const VerifyOptions& opt) {
  const json::object& c = t.payload;
  const json::value* iss = c.if_contains("iss");
  if (!iss || !iss->is_string() || iss->get_string() != opt.issuer)
    return MakeError("token issuer is not trusted");
  const json::value* aud = c.if_contains("aud");
  bool aud_ok = false;
  if (aud && aud->is_string()) {
    aud_ok = aud->get_string() == opt.audience;
  } else if (aud && aud->is_array()) {
    for (const auto& a : aud->get_array()) {
      if (!a.is_string()) return MakeError("token audience is malformed");
      aud_ok = aud_ok || a.get_string() == opt.audience;
    }
  }
  if (!aud_ok) return MakeError("token is not for this resource (aud)");
  const json::value* exp = c.if_contains("exp");
  if (!IsNumber(exp) || !std::isfinite(Number(*exp))) return MakeError("token has no valid exp");
  // The leeway absorbs clock skew between issuer and gateway; at the boundary the token is expired.
  if (!(static_cast<double>(opt.now_s - opt.leeway_s) < Number(*exp)))
    return MakeError("token expired");
  if (const json::value* nbf = c.if_contains("nbf")) {
    if (!IsNumber(nbf)) return MakeError("token nbf is malformed");
    if (Number(*nbf) > static_cast<double>(opt.now_s + opt.leeway_s))
      return MakeError("token not valid yet (nbf)");
  }
  if (const json::value* iat = c.if_contains("iat")) {
    if (!IsNumber(iat)) return MakeError("token iat is malformed");
    if (Number(*iat) > static_cast<double>(opt.now_s + opt.leeway_s))
      return MakeError("token issued in the future (iat)");
  }
  if (const json::value* sub = c.if_contains("sub"); sub && !sub->is_string())
    return MakeError("token sub is malformed");
  return {};
}

}  // namespace mcpgw::auth
