// The verifier against tokens signed here with OpenSSL: every supported algorithm verifies, and
// each forgery class the issue lists is refused. (The black-box battery with tokens minted by
// `jose` lives in tests/integration/tokens.test.mjs.)
#include "auth/jws.h"

#include <gtest/gtest.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "auth/test_signer.h"
#include "common/base64url.h"

namespace mcpgw::auth {
namespace {

using testing::BnParam;
using testing::Generate;
using testing::MakeToken;
using testing::Sign;
using testing::TestKey;

constexpr int64_t kNow = 1900000000;

std::string Header(const std::string& alg, const std::string& kid, const std::string& extra = "") {
  return R"({"alg":")" + alg + R"(","kid":")" + kid + R"(","typ":"at+jwt")" + extra + "}";
}
std::string Claims(const std::string& extra = "") {
  return R"({"iss":"https://as.example","aud":"https://gw.example/mcp","sub":"alice","exp":)" +
         std::to_string(kNow + 300) + R"(,"iat":)" + std::to_string(kNow) + extra + "}";
}
std::string Token(const TestKey& key, const std::string& header, const std::string& claims) {
  return MakeToken(key, header, claims);
}

VerifyOptions Opts() {
  VerifyOptions o;
  o.issuer = "https://as.example";
  o.audience = "https://gw.example/mcp";
  o.algorithms = {"RS256", "PS256", "ES256", "EdDSA"};
  o.now_s = kNow;
  return o;
}

// Full check: parse, key by kid, signature, claims.
Status Check(const std::string& token, const std::vector<TestKey>& keys,
             const VerifyOptions& o = Opts()) {
  auto t = ParseToken(token, o);
  if (!t.ok()) return t.error();
  for (const auto& k : keys) {
    if (json::FindString(k.jwk, "kid") != t->kid) continue;
    auto pk = ParseJwk(k.jwk);
    if (!pk.ok()) return pk.error();
    if (Status s = VerifySignature(*t, *pk); !s.ok()) return s;
    return VerifyClaims(*t, o);
  }
  return MakeError("unknown kid");
}

class JwsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    keys_ = new std::vector<TestKey>{Generate("RS256", "rs"), Generate("PS256", "ps"),
                                     Generate("ES256", "es"), Generate("EdDSA", "ed")};
  }
  static std::vector<TestKey>* keys_;
  const TestKey& K(size_t i) { return (*keys_)[i]; }
};
std::vector<TestKey>* JwsTest::keys_ = nullptr;

TEST_F(JwsTest, EveryAlgorithmVerifies) {
  for (const auto& k : *keys_) {
    std::string kid(json::FindString(k.jwk, "kid"));
    Status s = Check(Token(k, Header(k.alg, kid), Claims()), *keys_);
    EXPECT_TRUE(s.ok()) << k.alg << ": " << (s.ok() ? "" : s.error().message);
  }
}

TEST_F(JwsTest, AlgorithmMustFitTheKey) {
  // PS256 header with the RS256-bound key; ES256 header pointing at an RSA kid.
  EXPECT_FALSE(Check(Token(K(0), Header("PS256", "rs"), Claims()), *keys_).ok());
  EXPECT_FALSE(Check(Token(K(0), Header("ES256", "rs"), Claims()), *keys_).ok());
}

TEST_F(JwsTest, NoneAndHmacNeverVerify) {
  std::string input =
      Base64UrlEncode(R"({"alg":"none","typ":"at+jwt"})") + "." + Base64UrlEncode(Claims());
  EXPECT_FALSE(ParseToken(input + ".", Opts()).ok());
  EXPECT_FALSE(ParseToken(input + ".AAAA", Opts()).ok());
  std::string hs =
      Base64UrlEncode(Header("HS256", "rs")) + "." + Base64UrlEncode(Claims()) + ".AAAA";
  EXPECT_FALSE(ParseToken(hs, Opts()).ok());
}

TEST_F(JwsTest, EcdsaZeroAndDerSignaturesAreRefused) {
  std::string input = Base64UrlEncode(Header("ES256", "es")) + "." + Base64UrlEncode(Claims());
  EXPECT_FALSE(Check(input + "." + Base64UrlEncode(std::string(64, '\0')), *keys_).ok());
  // A DER signature over the right input is still refused: JOSE requires R||S.
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, K(2).pkey.get());
  size_t len = 0;
  EVP_DigestSign(ctx, nullptr, &len, reinterpret_cast<const unsigned char*>(input.data()),
                 input.size());
  std::string der(len, '\0');
  EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(der.data()), &len,
                 reinterpret_cast<const unsigned char*>(input.data()), input.size());
  der.resize(len);
  EVP_MD_CTX_free(ctx);
  EXPECT_FALSE(Check(input + "." + Base64UrlEncode(der), *keys_).ok());
}

TEST_F(JwsTest, HeaderRules) {
  for (const char* extra : {R"(,"jku":"http://evil/jwks")", R"(,"x5u":"http://evil")",
                            R"(,"jwk":{})", R"(,"x5c":[])", R"(,"crit":["exp"])"}) {
    EXPECT_FALSE(Check(Token(K(0), Header("RS256", "rs", extra), Claims()), *keys_).ok()) << extra;
  }
  std::string no_typ = R"({"alg":"RS256","kid":"rs"})";
  EXPECT_FALSE(Check(Token(K(0), no_typ, Claims()), *keys_).ok());
  VerifyOptions lax = Opts();
  lax.require_typ = false;
  EXPECT_TRUE(Check(Token(K(0), no_typ, Claims()), *keys_, lax).ok());
  std::string upper = R"({"alg":"RS256","kid":"rs","typ":"AT+JWT"})";
  EXPECT_TRUE(Check(Token(K(0), upper, Claims()), *keys_).ok());
  std::string dup = R"({"alg":"RS256","kid":"rs","typ":"at+jwt","alg":"none"})";
  EXPECT_FALSE(Check(Token(K(0), dup, Claims()), *keys_).ok());
}

TEST_F(JwsTest, ClaimRules) {
  auto bad = [&](const std::string& claims) {
    return !Check(Token(K(0), Header("RS256", "rs"), claims), *keys_).ok();
  };
  std::string exp = std::to_string(kNow + 300);
  EXPECT_TRUE(
      bad(R"({"iss":"https://as.example/","aud":"https://gw.example/mcp","sub":"a","exp":)" + exp +
          "}"));
  EXPECT_TRUE(bad(R"({"aud":"https://gw.example/mcp","sub":"a","exp":)" + exp + "}"));
  EXPECT_TRUE(bad(R"({"iss":"https://as.example","aud":[],"sub":"a","exp":)" + exp + "}"));
  EXPECT_TRUE(
      bad(R"({"iss":"https://as.example","aud":"https://other/mcp","sub":"a","exp":)" + exp + "}"));
  EXPECT_TRUE(bad(R"({"iss":"https://as.example","sub":"a","exp":)" + exp + "}"));
  EXPECT_TRUE(bad(R"({"iss":"https://as.example","aud":"https://gw.example/mcp","sub":"a"})"));
  EXPECT_TRUE(
      bad(R"({"iss":"https://as.example","aud":"https://gw.example/mcp","sub":"a","exp":")" + exp +
          "\"}"));
  EXPECT_TRUE(bad(Claims(R"(,"nbf":)" + std::to_string(kNow + 3600))));
  EXPECT_TRUE(bad(Claims(R"(,"nbf":)" + std::to_string(kNow + 3600))));
  EXPECT_TRUE(bad(Claims(R"(,"iat":)" + std::to_string(kNow + 3600))));
  EXPECT_FALSE(bad(Claims(R"(,"nbf":)" + std::to_string(kNow + 10))));  // within the leeway
  EXPECT_FALSE(
      bad(R"({"iss":"https://as.example","aud":["x","https://gw.example/mcp"],"sub":"a","exp":)" +
          exp + "}"));
}

TEST_F(JwsTest, ExpiryUsesTheLeewayAndIsExclusive) {
  VerifyOptions strict = Opts();
  strict.leeway_s = 0;
  auto with_exp = [&](int64_t exp) {
    return R"({"iss":"https://as.example","aud":"https://gw.example/mcp","sub":"a","exp":)" +
           std::to_string(exp) + "}";
  };
  EXPECT_FALSE(Check(Token(K(0), Header("RS256", "rs"), with_exp(kNow)), *keys_, strict).ok());
  EXPECT_TRUE(Check(Token(K(0), Header("RS256", "rs"), with_exp(kNow + 1)), *keys_, strict).ok());
  EXPECT_TRUE(
      Check(Token(K(0), Header("RS256", "rs"), with_exp(kNow - 10)), *keys_).ok());  // leeway 30
  EXPECT_FALSE(Check(Token(K(0), Header("RS256", "rs"), with_exp(kNow - 30)), *keys_).ok());
}

TEST_F(JwsTest, StructureRules) {
  std::string good = Token(K(0), Header("RS256", "rs"), Claims());
  EXPECT_TRUE(Check(good, *keys_).ok());
  EXPECT_FALSE(Check(good.substr(0, good.rfind('.')), *keys_).ok());   // two segments
  EXPECT_FALSE(Check(good + ".x", *keys_).ok());                       // four segments
  EXPECT_FALSE(Check(good.substr(0, good.size() - 10), *keys_).ok());  // truncated signature
  EXPECT_FALSE(Check(good + "==", *keys_).ok());                       // padding
  std::string tampered = good;
  tampered[good.find('.') + 5] ^= 1;  // payload bit flip
  EXPECT_FALSE(Check(tampered, *keys_).ok());
  std::string array_payload = Token(K(0), Header("RS256", "rs"), "[1,2]");
  EXPECT_FALSE(Check(array_payload, *keys_).ok());
  std::string bad_utf8 = Token(K(0), Header("RS256", "rs"), Claims(",\"x\":\"\xff\""));
  EXPECT_FALSE(Check(bad_utf8, *keys_).ok());
  VerifyOptions small = Opts();
  small.max_token_bytes = 64;
  EXPECT_FALSE(Check(good, *keys_, small).ok());
}

TEST_F(JwsTest, WeakOrMisusedKeysAreRefused) {
  json::object enc = K(0).jwk;
  enc["use"] = "enc";
  EXPECT_FALSE(ParseJwk(enc).ok());
  EVP_PKEY* small = EVP_RSA_gen(1024);
  json::object weak = K(0).jwk;
  weak["n"] = Base64UrlEncode(BnParam(small, OSSL_PKEY_PARAM_RSA_N));
  EVP_PKEY_free(small);
  EXPECT_FALSE(ParseJwk(weak).ok());
  json::object wrong_alg = K(0).jwk;
  wrong_alg["alg"] = "ES256";
  EXPECT_FALSE(ParseJwk(wrong_alg).ok());
}

TEST(DuplicateMembers, Detection) {
  EXPECT_TRUE(HasDuplicateMembers(R"({"a":1,"b":{"a":2},"a":3})"));
  EXPECT_TRUE(HasDuplicateMembers(R"({"a":1,"\u0061":2})"));
  EXPECT_FALSE(HasDuplicateMembers(R"({"a":1,"b":{"a":2},"c":["a","a"]})"));
}

}  // namespace
}  // namespace mcpgw::auth
