#include "authserver/grants.h"

#include <gtest/gtest.h>

#include "authserver/errors.h"

namespace mcpgw::authserver {
namespace {

constexpr int64_t kT0 = 1700000000;

AuthorizationCode Code() {
  AuthorizationCode c;
  c.client_id = "web";
  c.redirect_uri = "http://127.0.0.1:3000/callback";
  c.code_challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
  c.resource = "http://127.0.0.1:8080/mcp";
  c.scope = "mcp:read";
  c.username = "alice";
  return c;
}

RefreshGrant Grant() { return RefreshGrant{"web", "alice", "mcp:read", "http://x/mcp", kT0}; }

std::string ErrorName(const Error& e) { return std::string(authserver::ErrorName(ErrorOf(e))); }

TEST(Grants, CodesAreSingleUse) {
  GrantStore store(60, 3600);
  std::string code = store.IssueCode(Code(), kT0);
  EXPECT_GE(code.size(), 43u);
  auto first = store.RedeemCode(code, kT0 + 1);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->username, "alice");
  auto second = store.RedeemCode(code, kT0 + 2);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(ErrorName(second.error()), "invalid_grant");
  EXPECT_FALSE(store.RedeemCode("made-up", kT0).ok());
}

TEST(Grants, CodesExpire) {
  GrantStore store(60, 3600);
  std::string code = store.IssueCode(Code(), kT0);
  auto late = store.RedeemCode(code, kT0 + 60);
  ASSERT_FALSE(late.ok());
  EXPECT_EQ(late.error().message, "authorization code expired");
}

TEST(Grants, ReplayingACodeRevokesTheRefreshTokensIssuedFromIt) {
  GrantStore store(60, 3600);
  std::string code = store.IssueCode(Code(), kT0);
  ASSERT_TRUE(store.RedeemCode(code, kT0).ok());
  std::string refresh = store.StartFamily(Grant(), kT0, code);
  ASSERT_FALSE(store.RedeemCode(code, kT0 + 1).ok());
  EXPECT_FALSE(store.Rotate(refresh, "web", kT0 + 2).ok());
  EXPECT_EQ(store.family_count(), 0u);
}

TEST(Grants, RefreshTokensRotate) {
  GrantStore store(60, 3600);
  std::string r1 = store.StartFamily(Grant(), kT0);
  auto r2 = store.Rotate(r1, "web", kT0 + 10);
  ASSERT_TRUE(r2.ok()) << r2.error().message;
  EXPECT_NE(r2->refresh_token, r1);
  EXPECT_EQ(r2->grant.username, "alice");
  EXPECT_EQ(r2->grant.scope, "mcp:read");
  auto r3 = store.Rotate(r2->refresh_token, "web", kT0 + 20);
  ASSERT_TRUE(r3.ok());
  EXPECT_EQ(store.family_count(), 1u);
}

TEST(Grants, ReusingARotatedTokenRevokesTheWholeFamily) {
  GrantStore store(60, 3600);
  std::string r1 = store.StartFamily(Grant(), kT0);
  std::string other = store.StartFamily(Grant(), kT0);  // another login of the same user
  auto r2 = store.Rotate(r1, "web", kT0 + 10);
  ASSERT_TRUE(r2.ok());

  // r1 again: it leaked. The attacker gets nothing, and the legitimate r2 dies with it.
  auto reuse = store.Rotate(r1, "web", kT0 + 11);
  ASSERT_FALSE(reuse.ok());
  EXPECT_EQ(ErrorName(reuse.error()), "invalid_grant");
  EXPECT_NE(reuse.error().message.find("already used"), std::string::npos);
  EXPECT_FALSE(store.Rotate(r2->refresh_token, "web", kT0 + 12).ok());
  EXPECT_EQ(store.Peek(r2->refresh_token, "web", kT0 + 12), nullptr);

  // Other families are untouched.
  EXPECT_TRUE(store.Rotate(other, "web", kT0 + 13).ok());
}

TEST(Grants, RefreshTokensAreBoundToTheirClient) {
  GrantStore store(60, 3600);
  std::string r1 = store.StartFamily(Grant(), kT0);
  auto stolen = store.Rotate(r1, "other-client", kT0 + 1);
  ASSERT_FALSE(stolen.ok());
  EXPECT_EQ(stolen.error().message, "refresh token was issued to another client");
  EXPECT_FALSE(store.Revoke(r1, "other-client"));
  EXPECT_TRUE(store.Rotate(r1, "web", kT0 + 2).ok());  // still usable by its owner
}

TEST(Grants, RefreshTokensExpireAndSweepForgetsThem) {
  GrantStore store(60, 3600);
  std::string r1 = store.StartFamily(Grant(), kT0);
  store.IssueCode(Code(), kT0);
  EXPECT_NE(store.Peek(r1, "web", kT0 + 3599), nullptr);
  EXPECT_EQ(store.Peek(r1, "web", kT0 + 3600), nullptr);
  auto late = store.Rotate(r1, "web", kT0 + 3600);
  ASSERT_FALSE(late.ok());
  EXPECT_EQ(late.error().message, "refresh token expired");

  store.StartFamily(Grant(), kT0);
  store.Sweep(kT0 + 3600);
  EXPECT_EQ(store.family_count(), 0u);
  EXPECT_EQ(store.code_count(), 0u);
}

TEST(Grants, RevokeEndsTheFamily) {
  GrantStore store(60, 3600);
  std::string r1 = store.StartFamily(Grant(), kT0);
  auto r2 = store.Rotate(r1, "web", kT0 + 1);
  ASSERT_TRUE(r2.ok());
  EXPECT_TRUE(store.Revoke(r2->refresh_token, "web"));
  EXPECT_FALSE(store.Rotate(r2->refresh_token, "web", kT0 + 2).ok());
  EXPECT_FALSE(store.Revoke("unknown", "web"));
}

}  // namespace
}  // namespace mcpgw::authserver
