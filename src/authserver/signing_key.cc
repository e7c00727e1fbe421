#include "authserver/signing_key.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "authserver/secrets.h"
#include "common/base64url.h"

namespace mcpgw::authserver {
namespace {

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* p) const { EVP_MD_CTX_free(p); }
};
struct BioFree {
  void operator()(BIO* p) const { BIO_free(p); }
};
struct BnFree {
  void operator()(BIGNUM* p) const { BN_free(p); }
};
struct EcdsaSigFree {
  void operator()(ECDSA_SIG* p) const { ECDSA_SIG_free(p); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, MdCtxFree>;
using BioPtr = std::unique_ptr<BIO, BioFree>;
using BnPtr = std::unique_ptr<BIGNUM, BnFree>;
using EcdsaSigPtr = std::unique_ptr<ECDSA_SIG, EcdsaSigFree>;

constexpr int kRsaBits = 2048;
constexpr int kP256Bytes = 32;

Error OpenSslError(std::string what) {
  unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code != 0) {
    char buf[256];
    ERR_error_string_n(code, buf, sizeof buf);
    what += ": ";
    what += buf;
  }
  return MakeError(std::move(what));
}

// A big-endian unsigned integer parameter of the key, left-padded to `width` bytes if given.
Result<std::string> BnParam(const EVP_PKEY* pkey, const char* name, int width) {
  BIGNUM* raw = nullptr;
  if (EVP_PKEY_get_bn_param(pkey, name, &raw) != 1) {
    return OpenSslError(std::string("cannot read key parameter ") + name);
  }
  BnPtr bn(raw);
  int size = width > 0 ? width : BN_num_bytes(bn.get());
  std::string out(static_cast<size_t>(size), '\0');
  if (BN_bn2binpad(bn.get(), reinterpret_cast<unsigned char*>(out.data()), size) != size) {
    return OpenSslError(std::string("key parameter does not fit: ") + name);
  }
  return out;
}

Status CheckKeyType(Alg alg, const EVP_PKEY* pkey) {
  switch (alg) {
    case Alg::kRS256:
    case Alg::kPS256:
      if (EVP_PKEY_get_base_id(pkey) != EVP_PKEY_RSA) return MakeError("not an RSA key");
      if (EVP_PKEY_get_bits(pkey) < kRsaBits) return MakeError("RSA key shorter than 2048 bits");
      return {};
    case Alg::kES256: {
      if (EVP_PKEY_get_base_id(pkey) != EVP_PKEY_EC) return MakeError("not an EC key");
      char group[64] = {0};
      size_t len = 0;
      if (EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group,
                                         &len) != 1) {
        return OpenSslError("cannot read the EC curve");
      }
      std::string_view name(group, len);
      if (name != "prime256v1" && name != "P-256") return MakeError("EC key is not on P-256");
      return {};
    }
    case Alg::kEdDSA:
      if (EVP_PKEY_get_base_id(pkey) != EVP_PKEY_ED25519) return MakeError("not an Ed25519 key");
      return {};
  }
  return MakeError("unknown algorithm");
}

// The public JWK and its RFC 7638 thumbprint input (required members, lexicographic order).
Result<std::pair<json::object, std::string>> PublicJwkOf(Alg alg, const EVP_PKEY* pkey) {
  json::object jwk;
  std::string canonical;
  if (alg == Alg::kRS256 || alg == Alg::kPS256) {
    auto n = BnParam(pkey, OSSL_PKEY_PARAM_RSA_N, 0);
    auto e = BnParam(pkey, OSSL_PKEY_PARAM_RSA_E, 0);
    if (!n.ok()) return n.error();
    if (!e.ok()) return e.error();
    std::string n64 = Base64UrlEncode(*n), e64 = Base64UrlEncode(*e);
    jwk["kty"] = "RSA";
    jwk["n"] = n64;
    jwk["e"] = e64;
    canonical = R"({"e":")" + e64 + R"(","kty":"RSA","n":")" + n64 + "\"}";
  } else if (alg == Alg::kES256) {
    auto x = BnParam(pkey, OSSL_PKEY_PARAM_EC_PUB_X, kP256Bytes);
    auto y = BnParam(pkey, OSSL_PKEY_PARAM_EC_PUB_Y, kP256Bytes);
    if (!x.ok()) return x.error();
    if (!y.ok()) return y.error();
    std::string x64 = Base64UrlEncode(*x), y64 = Base64UrlEncode(*y);
    jwk["kty"] = "EC";
    jwk["crv"] = "P-256";
    jwk["x"] = x64;
    jwk["y"] = y64;
    canonical = R"({"crv":"P-256","kty":"EC","x":")" + x64 + R"(","y":")" + y64 + "\"}";
  } else {
    unsigned char raw[64];
    size_t len = sizeof raw;
    if (EVP_PKEY_get_raw_public_key(pkey, raw, &len) != 1) {
      return OpenSslError("cannot read the Ed25519 public key");
    }
    std::string x64 = Base64UrlEncode(std::string_view(reinterpret_cast<char*>(raw), len));
    jwk["kty"] = "OKP";
    jwk["crv"] = "Ed25519";
    jwk["x"] = x64;
    canonical = R"({"crv":"Ed25519","kty":"OKP","x":")" + x64 + "\"}";
  }
  return std::make_pair(std::move(jwk), std::move(canonical));
}

}  // namespace

std::string_view AlgName(Alg alg) {
  switch (alg) {
    case Alg::kRS256:
      return "RS256";
    case Alg::kPS256:
      return "PS256";
    case Alg::kES256:
      return "ES256";
    case Alg::kEdDSA:
      return "EdDSA";
  }
  return "";
}

std::optional<Alg> ParseAlg(std::string_view name) {
  for (Alg a : {Alg::kRS256, Alg::kPS256, Alg::kES256, Alg::kEdDSA}) {
    if (AlgName(a) == name) return a;
  }
  return std::nullopt;
}

struct SigningKey::Impl {
  Alg alg;
  PkeyPtr pkey;
  std::string kid;
  json::object jwk;
};

SigningKey::SigningKey(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SigningKey::SigningKey(SigningKey&&) noexcept = default;
SigningKey& SigningKey::operator=(SigningKey&&) noexcept = default;
SigningKey::~SigningKey() = default;

namespace {

// Checks the key against `alg` and derives its JWK and key id.
Result<std::unique_ptr<SigningKey::Impl>> MakeImpl(Alg alg, PkeyPtr pkey) {
  Status type = CheckKeyType(alg, pkey.get());
  if (!type.ok()) return MakeError(std::string(AlgName(alg)) + ": " + type.error().message);
  auto jwk = PublicJwkOf(alg, pkey.get());
  if (!jwk.ok()) return jwk.error();
  auto impl = std::make_unique<SigningKey::Impl>();
  impl->alg = alg;
  impl->pkey = std::move(pkey);
  impl->kid = Base64UrlEncode(Sha256(jwk->second));
  impl->jwk = std::move(jwk->first);
  impl->jwk["kid"] = impl->kid;
  impl->jwk["alg"] = AlgName(alg);
  impl->jwk["use"] = "sig";
  return impl;
}

}  // namespace

Result<SigningKey> SigningKey::Generate(Alg alg) {
  EVP_PKEY* raw = nullptr;
  switch (alg) {
    case Alg::kRS256:
    case Alg::kPS256:
      raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(kRsaBits));
      break;
    case Alg::kES256:
      raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
      break;
    case Alg::kEdDSA:
      raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
      break;
  }
  if (raw == nullptr) return OpenSslError("key generation failed");
  auto impl = MakeImpl(alg, PkeyPtr(raw));
  if (!impl.ok()) return impl.error();
  return SigningKey(std::move(*impl));
}

Result<SigningKey> SigningKey::FromPem(Alg alg, std::string_view pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return OpenSslError("out of memory");
  // No passphrase: the callback refuses instead of prompting on a terminal.
  pem_password_cb* no_passphrase = [](char*, int, int, void*) { return 0; };
  PkeyPtr pkey(PEM_read_bio_PrivateKey(bio.get(), nullptr, no_passphrase, nullptr));
  if (!pkey) return OpenSslError("not a PEM private key");
  auto impl = MakeImpl(alg, std::move(pkey));
  if (!impl.ok()) return impl.error();
  return SigningKey(std::move(*impl));
}

Alg SigningKey::alg() const { return impl_->alg; }
const std::string& SigningKey::kid() const { return impl_->kid; }
const json::object& SigningKey::PublicJwk() const { return impl_->jwk; }

std::string SigningKey::PrivatePem() const {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PrivateKey(bio.get(), impl_->pkey.get(), nullptr, nullptr, 0, nullptr,
                                       nullptr) != 1) {
    return {};
  }
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(len));
}

Result<std::string> SigningKey::Sign(std::string_view signing_input) const {
  MdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx) return OpenSslError("out of memory");
  EVP_PKEY_CTX* pctx = nullptr;
  const EVP_MD* md = impl_->alg == Alg::kEdDSA ? nullptr : EVP_sha256();
  if (EVP_DigestSignInit(ctx.get(), &pctx, md, nullptr, impl_->pkey.get()) != 1) {
    return OpenSslError("signing init failed");
  }
  if (impl_->alg == Alg::kPS256) {
    if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
        EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256()) != 1 ||
        EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, 32) != 1) {
      return OpenSslError("PSS parameters rejected");
    }
  }
  const auto* in = reinterpret_cast<const unsigned char*>(signing_input.data());
  size_t len = 0;
  if (EVP_DigestSign(ctx.get(), nullptr, &len, in, signing_input.size()) != 1) {
    return OpenSslError("signing failed");
  }
  std::string sig(len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len, in,
                     signing_input.size()) != 1) {
    return OpenSslError("signing failed");
  }
  sig.resize(len);
  if (impl_->alg != Alg::kES256) return sig;

  // OpenSSL produces an ASN.1 DER SEQUENCE {r, s}; JWS wants r and s as 32-byte big-endian
  // integers, concatenated (RFC 7518 §3.4).
  const auto* der = reinterpret_cast<const unsigned char*>(sig.data());
  EcdsaSigPtr ecdsa(d2i_ECDSA_SIG(nullptr, &der, static_cast<long>(sig.size())));
  if (!ecdsa) return OpenSslError("cannot parse the ECDSA signature");
  const BIGNUM* r = nullptr;
  const BIGNUM* s = nullptr;
  ECDSA_SIG_get0(ecdsa.get(), &r, &s);
  std::string raw(2 * static_cast<size_t>(kP256Bytes), '\0');
  auto* out = reinterpret_cast<unsigned char*>(raw.data());
  if (BN_bn2binpad(r, out, kP256Bytes) != kP256Bytes ||
      BN_bn2binpad(s, out + kP256Bytes, kP256Bytes) != kP256Bytes) {
    return OpenSslError("ECDSA signature does not fit 64 bytes");
  }
  return raw;
}

}  // namespace mcpgw::authserver
