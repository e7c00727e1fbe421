// Signs with each algorithm, then verifies with OpenSSL using only what a relying party has: the
// published JWK. This checks the JOSE encodings (raw R||S for ES256, PSS parameters) as well as
// the JWK export.
#include "authserver/jwt.h"

#include <gtest/gtest.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>

#include <memory>

#include "authserver/secrets.h"
#include "common/base64url.h"

namespace mcpgw::authserver {
namespace {

struct Freer {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
  void operator()(EVP_PKEY_CTX* p) const { EVP_PKEY_CTX_free(p); }
  void operator()(EVP_MD_CTX* p) const { EVP_MD_CTX_free(p); }
  void operator()(OSSL_PARAM_BLD* p) const { OSSL_PARAM_BLD_free(p); }
  void operator()(OSSL_PARAM* p) const { OSSL_PARAM_free(p); }
  void operator()(BIGNUM* p) const { BN_free(p); }
  void operator()(ECDSA_SIG* p) const { ECDSA_SIG_free(p); }
};
template <class T>
using Ptr = std::unique_ptr<T, Freer>;

std::string B64(const json::object& jwk, const char* key) {
  auto v = Base64UrlDecode(json::FindString(jwk, key));
  EXPECT_TRUE(v.has_value()) << key;
  return v.value_or("");
}

BIGNUM* Bn(const std::string& bytes) {
  return BN_bin2bn(reinterpret_cast<const unsigned char*>(bytes.data()),
                   static_cast<int>(bytes.size()), nullptr);
}

// A public key from a JWK, the way a verifier would build it.
Ptr<EVP_PKEY> PublicKeyFromJwk(const json::object& jwk) {
  std::string_view kty = json::FindString(jwk, "kty");
  if (kty == "OKP") {
    std::string x = B64(jwk, "x");
    return Ptr<EVP_PKEY>(EVP_PKEY_new_raw_public_key(
        EVP_PKEY_ED25519, nullptr, reinterpret_cast<const unsigned char*>(x.data()), x.size()));
  }
  Ptr<OSSL_PARAM_BLD> bld(OSSL_PARAM_BLD_new());
  Ptr<BIGNUM> n, e;
  std::string point;
  const char* type = nullptr;
  if (kty == "RSA") {
    type = "RSA";
    n.reset(Bn(B64(jwk, "n")));
    e.reset(Bn(B64(jwk, "e")));
    OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, n.get());
    OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, e.get());
  } else {
    type = "EC";
    EXPECT_EQ(json::FindString(jwk, "crv"), "P-256");
    point = "\x04" + B64(jwk, "x") + B64(jwk, "y");
    EXPECT_EQ(point.size(), 65u);
    OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0);
    OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                     point.size());
  }
  Ptr<OSSL_PARAM> params(OSSL_PARAM_BLD_to_param(bld.get()));
  Ptr<EVP_PKEY_CTX> ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  EVP_PKEY* pkey = nullptr;
  EXPECT_EQ(EVP_PKEY_fromdata_init(ctx.get()), 1);
  EXPECT_EQ(EVP_PKEY_fromdata(ctx.get(), &pkey, EVP_PKEY_PUBLIC_KEY, params.get()), 1);
  return Ptr<EVP_PKEY>(pkey);
}

// Verifies a compact JWS with OpenSSL; `alg` is what the verifier expects.
bool VerifyWithOpenSsl(const std::string& jws, const json::object& jwk, Alg alg) {
  size_t dot2 = jws.rfind('.');
  std::string input = jws.substr(0, dot2);
  auto sig = Base64UrlDecode(std::string_view(jws).substr(dot2 + 1));
  if (!sig) return false;
  Ptr<EVP_PKEY> pkey = PublicKeyFromJwk(jwk);
  if (!pkey) return false;
  std::string der;
  if (alg == Alg::kES256) {
    // JOSE's R||S back to the DER that OpenSSL verifies.
    if (sig->size() != 64) return false;
    Ptr<ECDSA_SIG> es(ECDSA_SIG_new());
    ECDSA_SIG_set0(es.get(), Bn(sig->substr(0, 32)), Bn(sig->substr(32)));
    unsigned char* out = nullptr;
    int len = i2d_ECDSA_SIG(es.get(), &out);
    der.assign(reinterpret_cast<char*>(out), static_cast<size_t>(len));
    OPENSSL_free(out);
    *sig = der;
  }
  Ptr<EVP_MD_CTX> ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;
  const EVP_MD* md = alg == Alg::kEdDSA ? nullptr : EVP_sha256();
  if (EVP_DigestVerifyInit(ctx.get(), &pctx, md, nullptr, pkey.get()) != 1) return false;
  if (alg == Alg::kPS256) {
    EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING);
    EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256());
    EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, 32);
  }
  return EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(sig->data()),
                          sig->size(), reinterpret_cast<const unsigned char*>(input.data()),
                          input.size()) == 1;
}

json::object DecodePart(const std::string& jws, int index) {
  size_t start = 0;
  for (int i = 0; i < index; ++i) start = jws.find('.', start) + 1;
  size_t end = jws.find('.', start);
  auto raw = Base64UrlDecode(std::string_view(jws).substr(start, end - start));
  EXPECT_TRUE(raw.has_value());
  auto v = json::Parse(raw.value_or("{}"));
  EXPECT_TRUE(v.ok());
  return v.ok() && v->is_object() ? v->as_object() : json::object();
}

class JwtRoundTrip : public testing::TestWithParam<Alg> {};

TEST_P(JwtRoundTrip, SignedTokenVerifiesWithThePublishedKey) {
  Alg alg = GetParam();
  auto key = SigningKey::Generate(alg);
  ASSERT_TRUE(key.ok()) << key.error().message;
  json::object claims{{"iss", "http://127.0.0.1:9000"}, {"sub", "alice"}, {"exp", 2000000000}};
  auto jws = SignJwt(*key, "at+jwt", claims);
  ASSERT_TRUE(jws.ok()) << jws.error().message;

  json::object header = DecodePart(*jws, 0);
  EXPECT_EQ(json::FindString(header, "alg"), AlgName(alg));
  EXPECT_EQ(json::FindString(header, "kid"), key->kid());
  EXPECT_EQ(json::FindString(header, "typ"), "at+jwt");
  EXPECT_EQ(json::FindString(DecodePart(*jws, 1), "sub"), "alice");

  const json::object& jwk = key->PublicJwk();
  EXPECT_EQ(json::FindString(jwk, "kid"), key->kid());
  EXPECT_EQ(json::FindString(jwk, "alg"), AlgName(alg));
  EXPECT_EQ(json::FindString(jwk, "use"), "sig");
  EXPECT_EQ(json::Find(jwk, "d"), nullptr);  // never the private part
  EXPECT_EQ(json::Find(jwk, "p"), nullptr);
  EXPECT_TRUE(VerifyWithOpenSsl(*jws, jwk, alg));

  // A changed payload does not verify.
  std::string tampered = *jws;
  size_t dot = tampered.find('.');
  tampered[dot + 2] = tampered[dot + 2] == 'A' ? 'B' : 'A';
  EXPECT_FALSE(VerifyWithOpenSsl(tampered, jwk, alg));

  // Persisted and read back, the key is the same key.
  auto again = SigningKey::FromPem(alg, key->PrivatePem());
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(again->kid(), key->kid());
  auto jws2 = SignJwt(*again, "at+jwt", claims);
  ASSERT_TRUE(jws2.ok());
  EXPECT_TRUE(VerifyWithOpenSsl(*jws2, jwk, alg));
}

INSTANTIATE_TEST_SUITE_P(AllAlgorithms, JwtRoundTrip,
                         testing::Values(Alg::kRS256, Alg::kPS256, Alg::kES256, Alg::kEdDSA),
                         [](const testing::TestParamInfo<Alg>& info) {
                           return std::string(AlgName(info.param));
                         });

TEST(SigningKey, JwkShapePerAlgorithm) {
  auto rsa = SigningKey::Generate(Alg::kRS256);
  ASSERT_TRUE(rsa.ok());
  EXPECT_EQ(json::FindString(rsa->PublicJwk(), "kty"), "RSA");
  EXPECT_GE(B64(rsa->PublicJwk(), "n").size(), 256u);  // >= 2048 bits
  EXPECT_EQ(json::FindString(rsa->PublicJwk(), "e"), "AQAB");

  auto ec = SigningKey::Generate(Alg::kES256);
  ASSERT_TRUE(ec.ok());
  EXPECT_EQ(json::FindString(ec->PublicJwk(), "kty"), "EC");
  EXPECT_EQ(json::FindString(ec->PublicJwk(), "crv"), "P-256");
  EXPECT_EQ(B64(ec->PublicJwk(), "x").size(), 32u);
  EXPECT_EQ(B64(ec->PublicJwk(), "y").size(), 32u);

  auto ed = SigningKey::Generate(Alg::kEdDSA);
  ASSERT_TRUE(ed.ok());
  EXPECT_EQ(json::FindString(ed->PublicJwk(), "kty"), "OKP");
  EXPECT_EQ(json::FindString(ed->PublicJwk(), "crv"), "Ed25519");
  EXPECT_EQ(B64(ed->PublicJwk(), "x").size(), 32u);
}

TEST(SigningKey, KidIsTheRfc7638Thumbprint) {
  auto ec = SigningKey::Generate(Alg::kES256);
  ASSERT_TRUE(ec.ok());
  const json::object& jwk = ec->PublicJwk();
  std::string canonical = R"({"crv":"P-256","kty":"EC","x":")" +
                          std::string(json::FindString(jwk, "x")) + R"(","y":")" +
                          std::string(json::FindString(jwk, "y")) + "\"}";
  EXPECT_EQ(ec->kid(), Base64UrlEncode(Sha256(canonical)));
}

TEST(SigningKey, RefusesAKeyOfTheWrongType) {
  auto ec = SigningKey::Generate(Alg::kES256);
  ASSERT_TRUE(ec.ok());
  EXPECT_FALSE(SigningKey::FromPem(Alg::kRS256, ec->PrivatePem()).ok());
  EXPECT_FALSE(SigningKey::FromPem(Alg::kEdDSA, ec->PrivatePem()).ok());
  EXPECT_FALSE(SigningKey::FromPem(Alg::kES256, "not a pem").ok());
  EXPECT_EQ(ParseAlg("HS256"), std::nullopt);
  EXPECT_EQ(ParseAlg("none"), std::nullopt);
  EXPECT_EQ(ParseAlg("EdDSA"), Alg::kEdDSA);
}

}  // namespace
}  // namespace mcpgw::authserver
