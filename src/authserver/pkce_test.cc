#include "authserver/pkce.h"

#include <gtest/gtest.h>

namespace mcpgw::authserver {
namespace {

// RFC 7636 Appendix B.
constexpr std::string_view kVerifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
constexpr std::string_view kChallenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

TEST(Pkce, MatchesTheRfcExample) {
  EXPECT_EQ(S256Challenge(kVerifier), kChallenge);
  EXPECT_TRUE(VerifyS256(kVerifier, kChallenge));
  EXPECT_TRUE(IsValidS256Challenge(kChallenge));
}

TEST(Pkce, RejectsAWrongVerifier) {
  std::string other(kVerifier);
  other.back() = 'j';
  EXPECT_FALSE(VerifyS256(other, kChallenge));
  // The challenge itself is not a verifier for itself ("plain" is not accepted).
  EXPECT_FALSE(VerifyS256(kChallenge, kChallenge));
}

TEST(Pkce, VerifierSyntax) {
  EXPECT_FALSE(IsValidCodeVerifier(std::string(42, 'a')));  // too short
  EXPECT_TRUE(IsValidCodeVerifier(std::string(43, 'a')));
  EXPECT_TRUE(IsValidCodeVerifier(std::string(128, '~')));
  EXPECT_FALSE(IsValidCodeVerifier(std::string(129, 'a')));  // too long
  EXPECT_FALSE(IsValidCodeVerifier(std::string(43, 'a') + "+"));
  EXPECT_FALSE(IsValidCodeVerifier(std::string(43, 'a') + " "));
  // A well-formed but wrong-length verifier never verifies even if it hashes right.
  std::string short_one(42, 'a');
  EXPECT_FALSE(VerifyS256(short_one, S256Challenge(short_one)));
}

TEST(Pkce, ChallengeSyntax) {
  EXPECT_FALSE(IsValidS256Challenge(""));
  EXPECT_FALSE(IsValidS256Challenge(std::string(kChallenge) + "A"));
  EXPECT_FALSE(IsValidS256Challenge("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw+cM"));
}

}  // namespace
}  // namespace mcpgw::authserver
