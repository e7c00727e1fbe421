// crypto.* hashes and HMACs, io.jwt.* (JWS compact serialization) and uuid.* built-ins.
//
// Cryptography is OpenSSL 3's; what this file adds is OPA's observable behaviour around it:
// which key formats are accepted (PEM certificates, PEM public keys, JWK and JWK sets), how keys
// are chosen (kid first, then any key whose alg matches), the order in which io.jwt.decode_verify
// checks the token and its claims, Go's base64 and JSON conventions, and OPA's error texts.

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/param_build.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/base64url.h"
#include "common/hash.h"
#include "rego/builtins.h"
#include "rego/builtins_util.h"

namespace mcpgw::rego {
namespace {

// ---------------------------------------------------------------------------------------------
// OpenSSL handles.

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct PkeyCtxFree {
  void operator()(EVP_PKEY_CTX* p) const { EVP_PKEY_CTX_free(p); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* p) const { EVP_MD_CTX_free(p); }
};
struct BnFree {
  void operator()(BIGNUM* p) const { BN_free(p); }
};
struct ParamBldFree {
  void operator()(OSSL_PARAM_BLD* p) const { OSSL_PARAM_BLD_free(p); }
};
struct ParamFree {
  void operator()(OSSL_PARAM* p) const { OSSL_PARAM_free(p); }
};
struct EcSigFree {
  void operator()(ECDSA_SIG* p) const { ECDSA_SIG_free(p); }
};
struct X509Free {
  void operator()(X509* p) const { X509_free(p); }
};

using Pkey = std::shared_ptr<EVP_PKEY>;
using PkeyCtx = std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree>;
using MdCtx = std::unique_ptr<EVP_MD_CTX, MdCtxFree>;
using Bn = std::unique_ptr<BIGNUM, BnFree>;

Pkey WrapPkey(EVP_PKEY* p) { return p == nullptr ? nullptr : Pkey(p, PkeyFree()); }

const unsigned char* Bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

// ---------------------------------------------------------------------------------------------
// Hashes and MACs.

std::string Digest(const EVP_MD* md, std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> out{};
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), out.data(), &len, md, nullptr) != 1) return {};
  return std::string(reinterpret_cast<const char*>(out.data()), len);
}

std::string Hmac(const EVP_MD* md, std::string_view key, std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> out{};
  unsigned int len = 0;
  // An empty key must still be a valid pointer for OpenSSL.
  static const unsigned char kEmpty = 0;
  const unsigned char* k = key.empty() ? &kEmpty : Bytes(key);
  if (HMAC(md, k, static_cast<int>(key.size()), Bytes(data), data.size(), out.data(), &len) ==
      nullptr) {
    return {};
  }
  return std::string(reinterpret_cast<const char*>(out.data()), len);
}

bool ConstantTimeEqual(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

// ---------------------------------------------------------------------------------------------
// Base64 the way Go's encoding/base64 decodes it (OPA's base64url.decode adds missing padding
// first), with Go's error texts and byte offsets.

constexpr std::array<int, 256> MakeB64Table(bool url) {
  std::array<int, 256> t{};
  for (auto& v : t) v = -1;
  const char* alphabet = url ? "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
                             : "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  for (int i = 0; i < 64; ++i) t[static_cast<unsigned char>(alphabet[i])] = i;
  return t;
}
constexpr auto kUrlTable = MakeB64Table(true);
constexpr auto kStdTable = MakeB64Table(false);

Error B64Error(size_t at) {
  return MakeError("illegal base64 data at input byte " + std::to_string(at));
}

// Go's base64.URLEncoding.DecodeString (padded alphabet, '\r' and '\n' ignored).
Result<std::string> GoB64UrlDecode(std::string_view src) {
  std::string out;
  size_t si = 0;
  auto skip_newlines = [&] {
    while (si < src.size() && (src[si] == '\n' || src[si] == '\r')) ++si;
  };
  while (true) {
    std::array<uint32_t, 4> q{};
    int dlen = 4;
    bool end = false;
    std::optional<size_t> trailing;
    for (int j = 0; j < 4; ++j) {
      if (si == src.size()) {
        if (j == 0) return out;
        return B64Error(si - static_cast<size_t>(j));
      }
      auto in = static_cast<unsigned char>(src[si++]);
      int v = kUrlTable[in];
      if (v >= 0) {
        q[static_cast<size_t>(j)] = static_cast<uint32_t>(v);
        continue;
      }
      if (in == '\n' || in == '\r') {
        --j;
        continue;
      }
      if (in != '=') return B64Error(si - 1);
      if (j < 2) return B64Error(si - 1);
      if (j == 2) {
        skip_newlines();
        if (si == src.size()) return B64Error(src.size());
        if (src[si] != '=') return B64Error(si - 1);
        ++si;
      }
      skip_newlines();
      if (si < src.size()) trailing = si;
      dlen = j;
      end = true;
      break;
    }
    uint32_t val = q[0] << 18 | q[1] << 12 | q[2] << 6 | q[3];
    auto b0 = static_cast<char>(val >> 16);
    auto b1 = static_cast<char>((val >> 8) & 0xff);
    auto b2 = static_cast<char>(val & 0xff);
    if (dlen >= 2) out.push_back(b0);
    if (dlen >= 3) out.push_back(b1);
    if (dlen == 4) out.push_back(b2);
    if (trailing) return B64Error(*trailing);
    if (end) return out;
  }
}

// OPA's base64url.decode: restores omitted padding, then decodes.
Result<std::string> OpaB64UrlDecode(std::string_view s) {
  std::string padded(s);
  if (padded.empty() || padded.back() != '=') {
    switch (padded.size() % 4) {
      case 2:
        padded += "==";
        break;
      case 3:
        padded += "=";
        break;
      case 1:
        return MakeError("illegal base64url string: " + padded);
      default:
        break;
    }
  }
  return GoB64UrlDecode(padded);
}

// Key material in JWKs: URL-safe or standard alphabet, padding optional.
std::optional<std::string> LenientB64Decode(std::string_view s) {
  while (!s.empty() && s.back() == '=') s.remove_suffix(1);
  if (s.size() % 4 == 1) return std::nullopt;
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : s) {
    int v = kUrlTable[static_cast<unsigned char>(c)];
    if (v < 0) v = kStdTable[static_cast<unsigned char>(c)];
    if (v < 0) return std::nullopt;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------

// ---------------------------------------------------------------------------------------------
// Keys.

// One verification or signing key: an asymmetric key, or an HMAC secret.
struct Key {
  Pkey pkey;
  std::optional<std::string> secret;
  bool has_private = false;
  std::string alg;  // from a JWK, if given
  std::string kid;
};

bool KnownAlg(std::string_view alg) {
  static constexpr std::array<std::string_view, 13> kAlgs = {
      "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256",
      "ES384", "ES512", "HS256", "HS384", "HS512", "EdDSA"};
  return std::find(kAlgs.begin(), kAlgs.end(), alg) != kAlgs.end();
}

Pkey PkeyFromParams(const char* type, int selection, OSSL_PARAM_BLD* bld) {
  std::unique_ptr<OSSL_PARAM, ParamFree> params(OSSL_PARAM_BLD_to_param(bld));
  if (!params) return nullptr;
  PkeyCtx ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  if (!ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1) return nullptr;
  EVP_PKEY* pkey = nullptr;
  if (EVP_PKEY_fromdata(ctx.get(), &pkey, selection, params.get()) != 1) return nullptr;
  return WrapPkey(pkey);
}

Result<std::string> JwkBytes(const Value& jwk, std::string_view field, bool required) {
  const Value* v = jwk.Get(field);
  if (v == nullptr) {
    if (required) return MakeError("required field \"" + std::string(field) + "\" is missing");
    return std::string();
  }
  if (!v->is_string()) return MakeError("field \"" + std::string(field) + "\" must be a string");
  auto bytes = LenientB64Decode(v->str());
  if (!bytes) return MakeError("field \"" + std::string(field) + "\" is not valid base64");
  return *bytes;
}

Bn ToBn(std::string_view bytes) {
  return Bn(BN_bin2bn(Bytes(bytes), static_cast<int>(bytes.size()), nullptr));
}

Result<Key> ParseRsaJwk(const Value& jwk) {
  auto n = JwkBytes(jwk, "n", true);
  if (!n) return n.error();
  auto e = JwkBytes(jwk, "e", true);
  if (!e) return e.error();
  auto d = JwkBytes(jwk, "d", false);
  if (!d) return d.error();
  std::unique_ptr<OSSL_PARAM_BLD, ParamBldFree> bld(OSSL_PARAM_BLD_new());
  std::vector<Bn> bns;
  auto push = [&](const char* name, std::string_view bytes) {
    bns.push_back(ToBn(bytes));
    return bns.back() && OSSL_PARAM_BLD_push_BN(bld.get(), name, bns.back().get()) == 1;
  };
  if (!bld || !push(OSSL_PKEY_PARAM_RSA_N, *n) || !push(OSSL_PKEY_PARAM_RSA_E, *e)) {
    return MakeError("invalid RSA key");
  }
  Key key;
  if (!d->empty()) {
    if (!push(OSSL_PKEY_PARAM_RSA_D, *d)) return MakeError("invalid RSA key");
    // CRT parameters are optional; use them only when all are present.
    static constexpr std::array<std::pair<const char*, std::string_view>, 5> kCrt = {
        {{OSSL_PKEY_PARAM_RSA_FACTOR1, "p"},
         {OSSL_PKEY_PARAM_RSA_FACTOR2, "q"},
         {OSSL_PKEY_PARAM_RSA_EXPONENT1, "dp"},
         {OSSL_PKEY_PARAM_RSA_EXPONENT2, "dq"},
         {OSSL_PKEY_PARAM_RSA_COEFFICIENT1, "qi"}}};
    std::vector<std::string> crt;
    for (const auto& [param, field] : kCrt) {
      auto b = JwkBytes(jwk, field, false);
      if (!b) return b.error();
      crt.push_back(*b);
    }
    bool all = std::all_of(crt.begin(), crt.end(), [](const auto& s) { return !s.empty(); });
    if (all) {
      for (size_t i = 0; i < kCrt.size(); ++i) {
        if (!push(kCrt[i].first, crt[i])) return MakeError("invalid RSA key");
      }
    }
    key.has_private = true;
  }
  key.pkey =
      PkeyFromParams("RSA", key.has_private ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY, bld.get());
  if (!key.pkey) return MakeError("invalid RSA key");
  return key;
}

Result<Key> ParseEcJwk(const Value& jwk) {
  const Value* crv = jwk.Get("crv");
  if (crv == nullptr || !crv->is_string()) return MakeError("required field \"crv\" is missing");
  const char* group = nullptr;
  size_t size = 0;
  if (crv->str() == "P-256") {
    group = "prime256v1", size = 32;
  } else if (crv->str() == "P-384") {
    group = "secp384r1", size = 48;
  } else if (crv->str() == "P-521") {
    group = "secp521r1", size = 66;
  } else {
    return MakeError("unsupported elliptic curve " + crv->str());
  }
  auto x = JwkBytes(jwk, "x", true);
  if (!x) return x.error();
  auto y = JwkBytes(jwk, "y", true);
  if (!y) return y.error();
  auto d = JwkBytes(jwk, "d", false);
  if (!d) return d.error();
  if (x->size() > size || y->size() > size) return MakeError("invalid EC key");
  std::string point = "\x04";
  point += std::string(size - x->size(), '\0') + *x;
  point += std::string(size - y->size(), '\0') + *y;
  std::unique_ptr<OSSL_PARAM_BLD, ParamBldFree> bld(OSSL_PARAM_BLD_new());
  Bn priv;
  if (!bld ||
      OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, group, 0) != 1 ||
      OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                       point.size()) != 1) {
    return MakeError("invalid EC key");
  }
  Key key;
  if (!d->empty()) {
    priv = ToBn(*d);
    if (!priv || OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_PRIV_KEY, priv.get()) != 1) {
      return MakeError("invalid EC key");
    }
    key.has_private = true;
  }
  key.pkey =
      PkeyFromParams("EC", key.has_private ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY, bld.get());
  if (!key.pkey) return MakeError("invalid EC key");
  return key;
}

Result<Key> ParseOkpJwk(const Value& jwk) {
  const Value* crv = jwk.Get("crv");
  if (crv == nullptr || !crv->is_string()) return MakeError("required field \"crv\" is missing");
  if (crv->str() != "Ed25519") return MakeError("unsupported curve " + crv->str());
  auto x = JwkBytes(jwk, "x", true);
  if (!x) return x.error();
  auto d = JwkBytes(jwk, "d", false);
  if (!d) return d.error();
  Key key;
  if (!d->empty()) {
    if (d->size() != 32) return MakeError("invalid Ed25519 key");
    key.pkey =
        WrapPkey(EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, Bytes(*d), d->size()));
    key.has_private = true;
  } else {
    if (x->size() != 32) return MakeError("invalid Ed25519 key");
    key.pkey =
        WrapPkey(EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, Bytes(*x), x->size()));
  }
  if (!key.pkey) return MakeError("invalid Ed25519 key");
  return key;
}

Result<Key> ParseJwk(const Value& jwk) {
  if (!jwk.is_object()) return MakeError("a JWK must be a JSON object");
  const Value* kty = jwk.Get("kty");
  if (kty == nullptr || !kty->is_string()) return MakeError("required field \"kty\" is missing");
  Result<Key> key = MakeError("");
  if (kty->str() == "RSA") {
    key = ParseRsaJwk(jwk);
  } else if (kty->str() == "EC") {
    key = ParseEcJwk(jwk);
  } else if (kty->str() == "OKP") {
    key = ParseOkpJwk(jwk);
  } else if (kty->str() == "oct") {
    auto k = JwkBytes(jwk, "k", true);
    if (!k) return k.error();
    Key oct;
    oct.secret = *k;
    oct.has_private = true;
    key = std::move(oct);
  } else {
    return MakeError("invalid key type from JSON (" + kty->str() + ")");
  }
  if (!key) return key;
  if (const Value* alg = jwk.Get("alg"); alg != nullptr && alg->is_string()) key->alg = alg->str();
  if (const Value* kid = jwk.Get("kid"); kid != nullptr && kid->is_string()) key->kid = kid->str();
  return key;
}

// A JWK or a JWK set ({"keys": [...]}).
Result<std::vector<Key>> ParseJwkSet(std::string_view text) {
  auto v = Value::ParseJson(text);
  if (!v) return v.error();
  std::vector<Key> keys;
  if (!v->is_object()) return MakeError("a JWK must be a JSON object");
  if (const Value* set = v->Get("keys"); set != nullptr) {
    if (!set->is_array()) return MakeError("\"keys\" must be an array");
    for (const Value& k : set->array()) {
      auto key = ParseJwk(k);
      if (!key) return key.error();
      keys.push_back(std::move(*key));
    }
    return keys;
  }
  auto key = ParseJwk(*v);
  if (!key) return key.error();
  keys.push_back(std::move(*key));
  return keys;
}

struct PemBlock {
  std::string type;
  std::string der;
  std::string_view rest;
};

std::string_view TrimSpace(std::string_view s) {
  while (!s.empty() &&
         (s.front() == ' ' || s.front() == '\t' || s.front() == '\r' || s.front() == '\n')) {
    s.remove_prefix(1);
  }
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return s;
}

// The first well-formed PEM block in `data` (Go's pem.Decode: junk before it is skipped).
std::optional<PemBlock> PemDecode(std::string_view data) {
  constexpr std::string_view kBegin = "-----BEGIN ";
  size_t search = 0;
  while (true) {
    size_t start = std::string_view::npos;
    if (search == 0 && data.substr(0, kBegin.size()) == kBegin) {
      start = 0;
    } else {
      size_t nl = data.find("\n-----BEGIN ", search);
      if (nl != std::string_view::npos) start = nl + 1;
    }
    if (start == std::string_view::npos) return std::nullopt;
    search = start + kBegin.size();
    size_t eol = data.find('\n', search);
    std::string_view type_line =
        TrimSpace(data.substr(search, eol == std::string_view::npos ? eol : eol - search));
    if (type_line.size() < 5 || type_line.substr(type_line.size() - 5) != "-----") continue;
    std::string type(type_line.substr(0, type_line.size() - 5));
    if (eol == std::string_view::npos) continue;
    size_t body = eol + 1;
    std::string end_marker = "-----END " + type + "-----";
    size_t end = data.find(end_marker, body);
    if (end == std::string_view::npos || (end > 0 && data[end - 1] != '\n')) continue;
    std::string b64;
    bool headers = false;
    for (char c : data.substr(body, end - body)) {
      if (c == ':') headers = true;  // RFC 1421 headers are not supported
      if (c != ' ' && c != '\t' && c != '\r' && c != '\n') b64.push_back(c);
    }
    if (headers) continue;
    std::string der;
    {
      std::string_view s = b64;
      while (!s.empty() && s.back() == '=') s.remove_suffix(1);
      bool ok = s.size() % 4 != 1;
      uint32_t acc = 0;
      int bits = 0;
      for (char c : s) {
        int v = kStdTable[static_cast<unsigned char>(c)];
        if (v < 0) {
          ok = false;
          break;
        }
        acc = (acc << 6) | static_cast<uint32_t>(v);
        bits += 6;
        if (bits >= 8) {
          bits -= 8;
          der.push_back(static_cast<char>((acc >> bits) & 0xff));
        }
      }
      if (!ok) continue;
    }
    size_t after = end + end_marker.size();
    size_t line_end = data.find('\n', after);
    std::string_view rest =
        line_end == std::string_view::npos ? std::string_view() : data.substr(line_end + 1);
    return PemBlock{std::move(type), std::move(der), rest};
  }
}

std::string OpenSslError() {
  unsigned long e = ERR_get_error();  // NOLINT(google-runtime-int): OpenSSL's type
  ERR_clear_error();
  if (e == 0) return "malformed data";
  std::array<char, 256> buf{};
  ERR_error_string_n(e, buf.data(), buf.size());
  return buf.data();
}

// OPA's getKeysFromCertOrJWK: a PEM certificate or public key, else a JWK or JWK set. JWKs
// with an algorithm OPA does not know are skipped.
Result<std::vector<Key>> KeysFromCertOrJwk(std::string_view text) {
  if (auto block = PemDecode(text)) {
    if (!TrimSpace(block->rest).empty()) {
      return MakeError("extra data after a PEM certificate block");
    }
    const auto* p = Bytes(block->der);
    Key key;
    if (block->type == "CERTIFICATE") {
      std::unique_ptr<X509, X509Free> cert(
          d2i_X509(nullptr, &p, static_cast<long>(block->der.size())));  // NOLINT
      if (!cert) return MakeError("failed to parse a PEM certificate: " + OpenSslError());
      key.pkey = WrapPkey(X509_get_pubkey(cert.get()));
      if (!key.pkey) return MakeError("failed to parse a PEM certificate: " + OpenSslError());
    } else if (block->type == "PUBLIC KEY") {
      key.pkey = WrapPkey(d2i_PUBKEY(nullptr, &p, static_cast<long>(block->der.size())));  // NOLINT
      if (!key.pkey) return MakeError("failed to parse a PEM public key: " + OpenSslError());
    } else {
      return MakeError("failed to extract a Key from the PEM certificate");
    }
    return std::vector<Key>{std::move(key)};
  }
  auto keys = ParseJwkSet(text);
  if (!keys) return MakeError("failed to parse a JWK key (set): " + keys.error().message);
  std::vector<Key> out;
  for (auto& k : *keys) {
    if (!k.alg.empty() && !KnownAlg(k.alg)) continue;
    out.push_back(std::move(k));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Signatures.

const EVP_MD* MdForBits(std::string_view alg) {
  std::string_view bits = alg.size() >= 3 ? alg.substr(alg.size() - 3) : alg;
  if (bits == "384") return EVP_sha384();
  if (bits == "512") return EVP_sha512();
  return EVP_sha256();
}

bool IsRsa(EVP_PKEY* k) { return k != nullptr && EVP_PKEY_get_base_id(k) == EVP_PKEY_RSA; }
bool IsEc(EVP_PKEY* k) { return k != nullptr && EVP_PKEY_get_base_id(k) == EVP_PKEY_EC; }
bool IsEd25519(EVP_PKEY* k) { return k != nullptr && EVP_PKEY_get_base_id(k) == EVP_PKEY_ED25519; }

bool RsaVerify(EVP_PKEY* key, const EVP_MD* md, bool pss, std::string_view digest,
               std::string_view sig) {
  if (!IsRsa(key)) return false;
  PkeyCtx ctx(EVP_PKEY_CTX_new(key, nullptr));
  bool ok = ctx && EVP_PKEY_verify_init(ctx.get()) == 1 &&
            EVP_PKEY_CTX_set_rsa_padding(ctx.get(),
                                         pss ? RSA_PKCS1_PSS_PADDING : RSA_PKCS1_PADDING) == 1 &&
            EVP_PKEY_CTX_set_signature_md(ctx.get(), md) == 1 &&
            (!pss || EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx.get(), RSA_PSS_SALTLEN_AUTO) == 1) &&
            EVP_PKEY_verify(ctx.get(), Bytes(sig), sig.size(), Bytes(digest), digest.size()) == 1;
  ERR_clear_error();
  return ok;
}

int EcSize(EVP_PKEY* key) { return (EVP_PKEY_get_bits(key) + 7) / 8; }

// r || s, split in the middle. `exact`: the halves must be exactly the curve's size (JWS).
bool EcVerify(EVP_PKEY* key, std::string_view digest, std::string_view sig, bool exact) {
  if (!IsEc(key)) return false;
  if (exact && sig.size() != 2 * static_cast<size_t>(EcSize(key))) return false;
  size_t half = sig.size() / 2;
  std::unique_ptr<ECDSA_SIG, EcSigFree> es(ECDSA_SIG_new());
  BIGNUM* r = BN_bin2bn(Bytes(sig), static_cast<int>(half), nullptr);
  BIGNUM* s = BN_bin2bn(Bytes(sig.substr(half)), static_cast<int>(sig.size() - half), nullptr);
  if (!es || r == nullptr || s == nullptr || ECDSA_SIG_set0(es.get(), r, s) != 1) {
    BN_free(r);
    BN_free(s);
    return false;
  }
  unsigned char* der = nullptr;
  int der_len = i2d_ECDSA_SIG(es.get(), &der);
  if (der_len <= 0) return false;
  PkeyCtx ctx(EVP_PKEY_CTX_new(key, nullptr));
  bool ok = ctx && EVP_PKEY_verify_init(ctx.get()) == 1 &&
            EVP_PKEY_verify(ctx.get(), der, static_cast<size_t>(der_len), Bytes(digest),
                            digest.size()) == 1;
  OPENSSL_free(der);
  ERR_clear_error();
  return ok;
}

bool EdVerify(EVP_PKEY* key, std::string_view msg, std::string_view sig) {
  if (!IsEd25519(key)) return false;
  MdCtx ctx(EVP_MD_CTX_new());
  bool ok = ctx && EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, key) == 1 &&
            EVP_DigestVerify(ctx.get(), Bytes(sig), sig.size(), Bytes(msg), msg.size()) == 1;
  ERR_clear_error();
  return ok;
}

// JWS verification of `input` ("header.payload") with `key` for the header's algorithm.
bool VerifyJws(const Key& key, std::string_view alg, std::string_view input, std::string_view sig) {
  if (alg == "HS256" || alg == "HS384" || alg == "HS512") {
    if (!key.secret) return false;
    return ConstantTimeEqual(Hmac(MdForBits(alg), *key.secret, input), sig);
  }
  if (alg == "EdDSA") return EdVerify(key.pkey.get(), input, sig);
  if (!KnownAlg(alg)) return false;
  std::string digest = Digest(MdForBits(alg), input);
  if (alg[0] == 'R') return RsaVerify(key.pkey.get(), MdForBits(alg), false, digest, sig);
  if (alg[0] == 'P') return RsaVerify(key.pkey.get(), MdForBits(alg), true, digest, sig);
  return EcVerify(key.pkey.get(), digest, sig, true);
}

Result<std::string> SignJws(const Key& key, std::string_view alg, std::string_view input) {
  auto fail = [](std::string_view why) {
    return MakeError("failed to sign payload: " + std::string(why));
  };
  if (alg == "HS256" || alg == "HS384" || alg == "HS512") {
    if (!key.secret) return fail("HMAC algorithms need an oct (symmetric) key");
    return Hmac(MdForBits(alg), *key.secret, input);
  }
  if (!key.has_private) return fail("the key is not a private key");
  EVP_PKEY* k = key.pkey.get();
  if (alg == "EdDSA") {
    if (!IsEd25519(k)) return fail("EdDSA needs an Ed25519 key");
    MdCtx ctx(EVP_MD_CTX_new());
    std::string sig(64, '\0');
    size_t len = sig.size();
    if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, k) != 1 ||
        EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len, Bytes(input),
                       input.size()) != 1) {
      return fail(OpenSslError());
    }
    sig.resize(len);
    return sig;
  }
  const EVP_MD* md = MdForBits(alg);
  std::string digest = Digest(md, input);
  bool rsa = alg[0] == 'R' || alg[0] == 'P';
  if (rsa ? !IsRsa(k) : !IsEc(k)) {
    return fail(std::string(alg) + " needs an " + (rsa ? "RSA" : "EC") + " key");
  }
  PkeyCtx ctx(EVP_PKEY_CTX_new(k, nullptr));
  if (!ctx || EVP_PKEY_sign_init(ctx.get()) != 1) return fail(OpenSslError());
  if (rsa) {
    bool pss = alg[0] == 'P';
    if (EVP_PKEY_CTX_set_rsa_padding(ctx.get(), pss ? RSA_PKCS1_PSS_PADDING : RSA_PKCS1_PADDING) !=
            1 ||
        EVP_PKEY_CTX_set_signature_md(ctx.get(), md) != 1 ||
        (pss && EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx.get(), RSA_PSS_SALTLEN_DIGEST) != 1)) {
      return fail(OpenSslError());
    }
  }
  size_t len = 0;
  if (EVP_PKEY_sign(ctx.get(), nullptr, &len, Bytes(digest), digest.size()) != 1) {
    return fail(OpenSslError());
  }
  std::string sig(len, '\0');
  if (EVP_PKEY_sign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len, Bytes(digest),
                    digest.size()) != 1) {
    return fail(OpenSslError());
  }
  sig.resize(len);
  if (rsa) return sig;
  // DER ECDSA signature -> fixed-size r || s (RFC 7518 §3.4).
  const auto* p = Bytes(sig);
  std::unique_ptr<ECDSA_SIG, EcSigFree> es(
      d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(len)));  // NOLINT
  if (!es) return fail(OpenSslError());
  int size = EcSize(k);
  std::string out(static_cast<size_t>(size) * 2, '\0');
  auto* o = reinterpret_cast<unsigned char*>(out.data());
  if (BN_bn2binpad(ECDSA_SIG_get0_r(es.get()), o, size) != size ||
      BN_bn2binpad(ECDSA_SIG_get0_s(es.get()), o + size, size) != size) {
    return fail("bad ECDSA signature");
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// JWTs.

struct Jwt {
  std::string header;  // base64url sections as they appear in the token
  std::string payload;
  std::string signature;
};

Result<Jwt> SplitJwt(std::string_view name, const Value& v) {
  if (!v.is_string()) return OperandTypeError(name, 1, "string", v);
  const std::string& s = v.str();
  if (s.find('.') == std::string::npos) {
    return BuiltinError(name, "encoded JWT had no period separators");
  }
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    size_t dot = s.find('.', start);
    parts.push_back(s.substr(start, dot == std::string::npos ? dot : dot - start));
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  if (parts.size() != 3) {
    return BuiltinError(name,
                        "encoded JWT must have 3 sections, found " + std::to_string(parts.size()));
  }
  return Jwt{parts[0], parts[1], parts[2]};
}

Result<Value> JsonObject(std::string_view text) {
  auto v = Value::ParseJson(text);
  if (!v) return MakeError(v.error().message);  // already "invalid JSON: ..."
  if (!v->is_object()) return MakeError("decoded JSON type was not an Object");
  return v;
}

Result<Value> DecodeHeader(std::string_view name, const Jwt& jwt) {
  auto h = OpaB64UrlDecode(jwt.header);
  if (!h) return BuiltinError(name, "JWT header had invalid encoding: " + h.error().message);
  auto obj = JsonObject(*h);
  if (!obj) return BuiltinError(name, "bad JWT header: " + obj.error().message);
  if (obj->Get("enc") != nullptr) {
    return BuiltinError(name, "JWT is a JWE object, which is not supported");
  }
  return obj;
}

Result<std::string> DecodeSignature(std::string_view name, const Jwt& jwt) {
  auto s = OpaB64UrlDecode(jwt.signature);
  if (!s) return BuiltinError(name, s.error().message);
  return s;
}

Result<Value> DecodePayload(std::string_view name, std::string_view text) {
  auto obj = JsonObject(text);
  if (!obj) return BuiltinError(name, obj.error().message);
  return obj;
}

// The JOSE header parameters OPA interprets.
struct Header {
  std::string alg;
  std::string kid;
  std::string typ;
  std::string cty;
  std::vector<std::string> crit;
  std::vector<std::string> unknown;

  // RFC 7515: alg is required; a critical parameter we do not understand invalidates the JWS.
  bool Valid() const {
    if (alg.empty()) return false;
    for (const auto& u : unknown) {
      if (std::find(crit.begin(), crit.end(), u) != crit.end()) return false;
    }
    return true;
  }
};

Result<Header> ParseHeader(std::string_view name, const Value& obj) {
  Header h;
  for (const auto& [k, v] : obj.object()) {
    std::string key = k.is_string() ? k.str() : k.ToJson();
    std::string* field = nullptr;
    if (key == "alg") field = &h.alg;
    if (key == "kid") field = &h.kid;
    if (key == "typ") field = &h.typ;
    if (key == "cty") field = &h.cty;
    if (field != nullptr) {
      if (!v.is_string()) return BuiltinError(name, key + ": must be a string");
      *field = v.str();
    } else if (key == "crit") {
      if (!v.is_array()) return BuiltinError(name, "crit: must be a list");
      for (const Value& e : v.array()) {
        if (!e.is_string()) break;
        h.crit.push_back(e.str());
      }
      if (h.crit.empty()) return BuiltinError(name, "crit: must be a nonempty list");
    } else {
      h.unknown.push_back(key);
    }
  }
  return h;
}

std::string TrimQuotes(std::string_view s) {
  while (!s.empty() && (s.front() == '"' || s.front() == '\'')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == '"' || s.back() == '\'')) s.remove_suffix(1);
  return std::string(s);
}

Result<Value> JwtDecode(std::string_view name, const Value& token) {
  auto jwt = SplitJwt(name, token);
  if (!jwt) return jwt.error();
  auto header = DecodeHeader(name, *jwt);
  if (!header) return header.error();
  auto payload = OpaB64UrlDecode(jwt->payload);
  if (!payload) {
    return BuiltinError(name, "JWT payload had invalid encoding: " + payload.error().message);
  }
  if (const Value* cty = header->Get("cty");
      cty != nullptr && cty->is_string() && cty->str() == "JWT") {
    // A nested token; jwt.io-style encoders wrap it in quotes.
    return JwtDecode(name, Value::String(TrimQuotes(*payload)));
  }
  auto obj = DecodePayload(name, *payload);
  if (!obj) return obj.error();
  auto sig = OpaB64UrlDecode(jwt->signature);
  if (!sig) return BuiltinError(name, "JWT signature had invalid encoding: " + sig.error().message);
  return Value::FromArray({*header, *obj, Value::String(HexEncode(*sig))});
}

enum class SigKind { kRsaPkcs1, kRsaPss, kEcdsa, kEd25519 };

// io.jwt.verify_<alg>(jwt, certificate): the named algorithm, keys from PEM or JWK(S).
Result<Value> JwtVerify(std::string_view name, std::span<const Value> args, SigKind kind,
                        const EVP_MD* md) {
  auto jwt = SplitJwt(name, args[0]);
  if (!jwt) return jwt.error();
  if (!args[1].is_string()) return OperandTypeError(name, 2, "string", args[1]);
  auto keys = KeysFromCertOrJwk(args[1].str());
  if (!keys) return BuiltinError(name, keys.error().message);
  auto sig = DecodeSignature(name, *jwt);
  if (!sig) return sig.error();
  auto header_obj = DecodeHeader(name, *jwt);
  if (!header_obj) return header_obj.error();
  auto header = ParseHeader(name, *header_obj);
  if (!header) return header.error();
  std::string input = jwt->header + "." + jwt->payload;
  std::string digest = kind == SigKind::kEd25519 ? input : Digest(md, input);
  auto verify = [&](const Key& key) {
    EVP_PKEY* k = key.pkey.get();
    switch (kind) {
      case SigKind::kRsaPkcs1:
        return RsaVerify(k, md, false, digest, *sig);
      case SigKind::kRsaPss:
        return RsaVerify(k, md, true, digest, *sig);
      case SigKind::kEcdsa:
        return EcVerify(k, digest, *sig, false);
      case SigKind::kEd25519:
        return EdVerify(k, digest, *sig);
    }
    return false;
  };
  if (!header->kid.empty()) {
    for (const Key& key : *keys) {
      if (key.kid == header->kid) return Value::Bool(verify(key));
    }
  }
  for (const Key& key : *keys) {
    if (!key.alg.empty() && key.alg != header->alg) continue;
    if (verify(key)) return Value::True();
  }
  return Value::False();
}

Result<Value> JwtVerifyHmac(std::string_view name, std::span<const Value> args, const EVP_MD* md) {
  if (!args[0].is_string()) return OperandTypeError(name, 1, "string", args[0]);
  if (!args[1].is_string()) return OperandTypeError(name, 2, "string", args[1]);
  auto jwt = SplitJwt(name, args[0]);
  if (!jwt) return jwt.error();
  std::string mac = Hmac(md, args[1].str(), jwt->header + "." + jwt->payload);
  auto sig = DecodeSignature(name, *jwt);
  if (!sig) return sig.error();
  return Value::Bool(ConstantTimeEqual(*sig, mac));
}

// io.jwt.decode_verify's constraints argument.
struct Constraints {
  std::optional<std::vector<Key>> keys;
  std::string secret;
  std::string alg;
  std::string iss;
  std::string aud;
  double time = -1;  // nanoseconds
};

Result<double> ConstraintTime(std::string_view name, const Value& v) {
  if (!v.is_number()) return BuiltinError(name, "token time constraint: must be a number");
  double t = v.as_double();
  if (t < 0) return BuiltinError(name, "token time constraint: must not be negative");
  return t;
}

Result<Constraints> ParseConstraints(std::string_view name, const Value& obj, int64_t now_ns) {
  Constraints c;
  for (const auto& [k, v] : obj.object()) {
    std::string key = k.is_string() ? k.str() : k.ToJson();
    std::string* field = nullptr;
    if (key == "secret") field = &c.secret;
    if (key == "alg") field = &c.alg;
    if (key == "iss") field = &c.iss;
    if (key == "aud") field = &c.aud;
    if (field != nullptr) {
      if (!v.is_string()) return BuiltinError(name, key + " constraint: must be a string");
      *field = v.str();
    } else if (key == "cert") {
      if (!v.is_string()) return BuiltinError(name, "cert constraint: must be a string");
      auto keys = KeysFromCertOrJwk(v.str());
      if (!keys) return BuiltinError(name, keys.error().message);
      c.keys = std::move(*keys);
    } else if (key == "time") {
      auto t = ConstraintTime(name, v);
      if (!t) return t.error();
      c.time = *t;
    } else {
      return BuiltinError(name, "unknown token validation constraint: " + key);
    }
  }
  if (c.time == -1) {
    auto t = ConstraintTime(name, Value::Int(now_ns));
    if (!t) return t.error();
    c.time = *t;
  }
  int key_constraints = (c.keys ? 1 : 0) + (c.secret.empty() ? 0 : 1);
  if (key_constraints > 1) return BuiltinError(name, "duplicate key constraints");
  if (key_constraints < 1) return BuiltinError(name, "no key constraint");
  return c;
}

bool VerifyWithConstraints(const Constraints& c, const Header& h, std::string_view input,
                           std::string_view sig) {
  if (c.keys) {
    if (!h.kid.empty()) {
      for (const Key& key : *c.keys) {
        if (key.kid == h.kid) return VerifyJws(key, h.alg, input, sig);
      }
    }
    for (const Key& key : *c.keys) {
      if (!key.alg.empty() && key.alg != h.alg) continue;
      if (VerifyJws(key, h.alg, input, sig)) return true;
    }
    return false;
  }
  Key secret;
  secret.secret = c.secret;
  return VerifyJws(secret, h.alg, input, sig);
}

bool EqualFold(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

Result<Value> JwtDecodeVerify(std::string_view name, std::span<const Value> args, int64_t now_ns) {
  if (!args[1].is_object()) return OperandTypeError(name, 2, "object", args[1]);
  const Value unverified =
      Value::FromArray({Value::False(), Value::EmptyObject(), Value::EmptyObject()});
  auto c = ParseConstraints(name, args[1], now_ns);
  if (!c) return c.error();
  Value token = args[0];
  Value header_obj;
  std::string payload_text;
  for (int depth = 0;; ++depth) {
    auto jwt = SplitJwt(name, token);
    if (!jwt) return jwt.error();
    auto hobj = DecodeHeader(name, *jwt);
    if (!hobj) return hobj.error();
    auto header = ParseHeader(name, *hobj);
    if (!header) return header.error();
    if (!header->Valid()) return unverified;
    if (!c->alg.empty() && c->alg != header->alg) return unverified;
    auto sig = DecodeSignature(name, *jwt);
    if (!sig) return sig.error();
    if (!VerifyWithConstraints(*c, *header, jwt->header + "." + jwt->payload, *sig)) {
      return unverified;
    }
    auto payload = OpaB64UrlDecode(jwt->payload);
    if (!payload) {
      return BuiltinError(name, "JWT payload had invalid encoding: " + payload.error().message);
    }
    header_obj = *hobj;
    payload_text = std::move(*payload);
    if (!EqualFold(header->cty, "JWT")) break;
    token = Value::String(payload_text);  // nested JWT: verify the inner token too
  }
  auto payload = DecodePayload(name, payload_text);
  if (!payload) return payload.error();

  if (!c->iss.empty()) {
    const Value* iss = payload->Get("iss");
    if (iss == nullptr || !iss->is_string() || iss->str() != c->iss) return unverified;
  }
  if (const Value* aud = payload->Get("aud"); aud != nullptr) {
    bool ok = false;
    if (aud->is_string()) {
      ok = aud->str() == c->aud;
    } else if (aud->is_array()) {
      for (const Value& e : aud->array()) {
        if (e.is_string() && e.str() == c->aud) ok = true;
      }
    }
    if (!ok) return unverified;
  } else if (!c->aud.empty()) {
    return unverified;
  }
  double now = c->time / 1000000000;
  if (const Value* exp = payload->Get("exp"); exp != nullptr) {
    if (!exp->is_number()) return BuiltinError(name, "exp value must be a number");
    if (!(now < exp->as_double())) return unverified;
  }
  if (const Value* nbf = payload->Get("nbf"); nbf != nullptr) {
    if (!nbf->is_number()) return BuiltinError(name, "nbf value must be a number");
    if (now < nbf->as_double()) return unverified;
  }
  return Value::FromArray({Value::True(), header_obj, *payload});
}

bool NumberLike(std::string_view s) {
  s = TrimSpace(s);
  if (s.empty()) return false;
  return std::all_of(s.begin(), s.end(), [](char ch) {
    return (ch >= '0' && ch <= '9') || ch == '.' || ch == '-' || ch == '+' || ch == 'e' ||
           ch == 'E';
  });
}

Result<Value> EncodeSign(std::string_view name, std::string_view header, std::string_view payload,
                         std::string_view jwk) {
  auto keys = ParseJwkSet(jwk);
  if (!keys) return BuiltinError(name, "failed to parse JWK: " + keys.error().message);
  if (keys->empty()) return BuiltinError(name, "no keys found in JWK set");
  const Key& key = (*keys)[0];

  constexpr std::string_view kAlgNotFound =
      "missing or invalid 'alg' header: jwsbb: header \"alg\" not found";
  auto hv = Value::ParseJson(header);
  std::string alg;
  std::optional<std::string> typ;
  if (!hv) {
    if (!NumberLike(header)) {
      return BuiltinError(
          name, "missing or invalid 'alg' header: cannot parse JSON: " + hv.error().message);
    }
    return BuiltinError(name, kAlgNotFound);
  }
  const Value* a = hv->Get("alg");
  if (a == nullptr || !a->is_string() || a->str().empty()) return BuiltinError(name, kAlgNotFound);
  alg = a->str();
  if (!KnownAlg(alg)) return BuiltinError(name, "unknown JWS algorithm: " + alg);
  if (const Value* t = hv->Get("typ"); t != nullptr && t->is_string()) typ = t->str();
  if ((!typ || *typ == "JWT") && !Value::ParseJson(payload).ok()) {
    return BuiltinError(name, "type is JWT but payload is not JSON");
  }
  std::string input = Base64UrlEncode(header) + "." + Base64UrlEncode(payload);
  auto sig = SignJws(key, alg, input);
  if (!sig) return BuiltinError(name, sig.error().message);
  return Value::String(input + "." + Base64UrlEncode(*sig));
}

// ---------------------------------------------------------------------------------------------
// UUIDs.

std::string RandomUuidV4() {
  std::array<unsigned char, 16> b{};
  if (RAND_bytes(b.data(), static_cast<int>(b.size())) != 1) {
    // The CSPRNG does not fail short of a broken system; never hand out a predictable id.
    std::abort();
  }
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  std::string hex = HexEncode(std::string_view(reinterpret_cast<const char*>(b.data()), b.size()));
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" +
         hex.substr(16, 4) + "-" + hex.substr(20);
}

// google/uuid's Parse: canonical, urn:uuid:, {braced} and 32-digit forms.
std::optional<std::array<uint8_t, 16>> ParseUuid(std::string_view s) {
  if (s.size() == 36 + 9) {
    if (!EqualFold(s.substr(0, 9), "urn:uuid:")) return std::nullopt;
    s.remove_prefix(9);
  } else if (s.size() == 36 + 2) {
    if (s.front() != '{' || s.back() != '}') return std::nullopt;
    s = s.substr(1, 36);
  }
  auto hex = [](char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string digits;
  if (s.size() == 36) {
    if (s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-') return std::nullopt;
    for (size_t i = 0; i < s.size(); ++i) {
      if (i != 8 && i != 13 && i != 18 && i != 23) digits.push_back(s[i]);
    }
  } else if (s.size() == 32) {
    digits = std::string(s);
  } else {
    return std::nullopt;
  }
  std::array<uint8_t, 16> out{};
  for (size_t i = 0; i < 16; ++i) {
    int hi = hex(digits[2 * i]);
    int lo = hex(digits[2 * i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return out;
}

Value DescribeUuid(const std::array<uint8_t, 16>& u) {
  int version = u[6] >> 4;
  std::string variant;
  if ((u[8] & 0xc0) == 0x80) {
    variant = "RFC4122";
  } else if ((u[8] & 0xe0) == 0xc0) {
    variant = "Microsoft";
  } else if ((u[8] & 0xe0) == 0xe0) {
    variant = "Future";
  } else {
    variant = "Reserved";
  }
  Object o;
  o.emplace(Value::String("version"), Value::Int(version));
  o.emplace(Value::String("variant"), Value::String(variant));
  if (version == 1 || version == 2) {
    auto be32 = [&](size_t i) {
      return static_cast<uint32_t>(u[i]) << 24 | static_cast<uint32_t>(u[i + 1]) << 16 |
             static_cast<uint32_t>(u[i + 2]) << 8 | u[i + 3];
    };
    auto be16 = [&](size_t i) { return static_cast<uint32_t>(u[i]) << 8 | u[i + 1]; };
    // 100-ns intervals since 1582-10-15 -> Unix nanoseconds.
    int64_t t = static_cast<int64_t>(be32(0)) | static_cast<int64_t>(be16(4)) << 32 |
                static_cast<int64_t>(be16(6) & 0xfff) << 48;
    constexpr int64_t kGregorianToUnix = 122192928000000000;  // in 100 ns
    int64_t since = t - kGregorianToUnix;
    int64_t sec = since / 10000000;
    int64_t nsec = (since % 10000000) * 100;
    o.emplace(Value::String("time"), Value::Int(sec * 1000000000 + nsec));
    o.emplace(Value::String("clocksequence"), Value::Int(be16(8) & 0x3fff));
    std::string node;
    static constexpr char kHex[] = "0123456789abcdef";
    for (size_t i = 10; i < 16; ++i) {
      if (!node.empty()) node.push_back('-');
      node.push_back(kHex[u[i] >> 4]);
      node.push_back(kHex[u[i] & 15]);
    }
    o.emplace(Value::String("nodeid"), Value::String(node));
    std::string mac;
    if ((u[10] & 3) == 3) {
      mac = "local:multicast";
    } else if ((u[10] & 1) == 1) {
      mac = "global:multicast";
    } else if ((u[10] & 2) == 2) {
      mac = "local:unicast";
    } else {
      mac = "global:unicast";
    }
    o.emplace(Value::String("macvariables"), Value::String(mac));
    if (version == 2) {
      o.emplace(Value::String("id"), Value::Int(be32(0)));
      static constexpr std::array<std::string_view, 3> kDomains = {"Person", "Group", "Org"};
      std::string domain = u[9] < 3 ? std::string(kDomains[u[9]]) : "Domain" + std::to_string(u[9]);
      o.emplace(Value::String("domain"), Value::String(domain));
    }
  }
  return Value::FromObject(std::move(o));
}

// ---------------------------------------------------------------------------------------------
// Registration helpers.

void AddHash(BuiltinRegistry& r, const std::string& name, const EVP_MD* (*md)()) {
  r.Add(name, 1, [name, md](BuiltinContext&, std::span<const Value> args) -> Result<Value> {
    if (!args[0].is_string()) return OperandTypeError(name, 1, "string", args[0]);
    return Value::String(HexEncode(Digest(md(), args[0].str())));
  });
}

void AddHmac(BuiltinRegistry& r, const std::string& name, const EVP_MD* (*md)()) {
  r.Add(name, 2, [name, md](BuiltinContext&, std::span<const Value> args) -> Result<Value> {
    if (!args[0].is_string()) return OperandTypeError(name, 1, "string", args[0]);
    if (!args[1].is_string()) return OperandTypeError(name, 2, "string", args[1]);
    return Value::String(HexEncode(Hmac(md(), args[1].str(), args[0].str())));
  });
}

void AddVerify(BuiltinRegistry& r, const std::string& name, SigKind kind, const EVP_MD* (*md)()) {
  r.Add(name, 2, [name, kind, md](BuiltinContext&, std::span<const Value> args) {
    return JwtVerify(name, args, kind, md == nullptr ? nullptr : md());
  });
}

}  // namespace

void RegisterCryptoBuiltins(BuiltinRegistry& r) {
  AddHash(r, "crypto.md5", EVP_md5);
  AddHash(r, "crypto.sha1", EVP_sha1);
  AddHash(r, "crypto.sha256", EVP_sha256);
  AddHmac(r, "crypto.hmac.md5", EVP_md5);
  AddHmac(r, "crypto.hmac.sha1", EVP_sha1);
  AddHmac(r, "crypto.hmac.sha256", EVP_sha256);
  AddHmac(r, "crypto.hmac.sha512", EVP_sha512);
  r.Add("crypto.hmac.equal", 2, [](BuiltinContext&, std::span<const Value> args) -> Result<Value> {
    constexpr std::string_view kName = "crypto.hmac.equal";
    if (!args[0].is_string()) return OperandTypeError(kName, 1, "string", args[0]);
    if (!args[1].is_string()) return OperandTypeError(kName, 2, "string", args[1]);
    return Value::Bool(ConstantTimeEqual(args[0].str(), args[1].str()));
  });

  r.Add("io.jwt.decode", 1, [](BuiltinContext&, std::span<const Value> args) {
    return JwtDecode("io.jwt.decode", args[0]);
  });
  AddVerify(r, "io.jwt.verify_rs256", SigKind::kRsaPkcs1, EVP_sha256);
  AddVerify(r, "io.jwt.verify_rs384", SigKind::kRsaPkcs1, EVP_sha384);
  AddVerify(r, "io.jwt.verify_rs512", SigKind::kRsaPkcs1, EVP_sha512);
  AddVerify(r, "io.jwt.verify_ps256", SigKind::kRsaPss, EVP_sha256);
  AddVerify(r, "io.jwt.verify_ps384", SigKind::kRsaPss, EVP_sha384);
  AddVerify(r, "io.jwt.verify_ps512", SigKind::kRsaPss, EVP_sha512);
  AddVerify(r, "io.jwt.verify_es256", SigKind::kEcdsa, EVP_sha256);
  AddVerify(r, "io.jwt.verify_es384", SigKind::kEcdsa, EVP_sha384);
  AddVerify(r, "io.jwt.verify_es512", SigKind::kEcdsa, EVP_sha512);
  AddVerify(r, "io.jwt.verify_eddsa", SigKind::kEd25519, nullptr);
  r.Add("io.jwt.verify_hs256", 2, [](BuiltinContext&, std::span<const Value> args) {
    return JwtVerifyHmac("io.jwt.verify_hs256", args, EVP_sha256());
  });
  r.Add("io.jwt.verify_hs384", 2, [](BuiltinContext&, std::span<const Value> args) {
    return JwtVerifyHmac("io.jwt.verify_hs384", args, EVP_sha384());
  });
  r.Add("io.jwt.verify_hs512", 2, [](BuiltinContext&, std::span<const Value> args) {
    return JwtVerifyHmac("io.jwt.verify_hs512", args, EVP_sha512());
  });
  r.Add("io.jwt.decode_verify", 2, [](BuiltinContext& ctx, std::span<const Value> args) {
    return JwtDecodeVerify("io.jwt.decode_verify", args, ctx.now_ns);
  });
  r.Add("io.jwt.encode_sign", 3, [](BuiltinContext&, std::span<const Value> args) {
    return EncodeSign("io.jwt.encode_sign", GoJsonMarshal(args[0]), GoJsonMarshal(args[1]),
                      GoJsonMarshal(args[2]));
  });
  r.Add("io.jwt.encode_sign_raw", 3,
        [](BuiltinContext&, std::span<const Value> args) -> Result<Value> {
          constexpr std::string_view kName = "io.jwt.encode_sign_raw";
          if (!args[2].is_string()) return OperandTypeError(kName, 3, "string", args[2]);
          if (!args[0].is_string()) return OperandTypeError(kName, 1, "string", args[0]);
          if (!args[1].is_string()) return OperandTypeError(kName, 2, "string", args[1]);
          return EncodeSign(kName, args[0].str(), args[1].str(), args[2].str());
        });

  r.Add("uuid.rfc4122", 1, [](BuiltinContext&, std::span<const Value>) -> Result<Value> {
    return Value::String(RandomUuidV4());
  });
  r.Add("uuid.parse", 1, [](BuiltinContext&, std::span<const Value> args) -> Result<Value> {
    if (!args[0].is_string()) return OperandTypeError("uuid.parse", 1, "string", args[0]);
    auto u = ParseUuid(args[0].str());
    if (!u) return Undefined();
    return DescribeUuid(*u);
  });
}

}  // namespace mcpgw::rego
