#include "history/redact.h"

#include <gtest/gtest.h>

namespace mcpgw::history {
namespace {

TEST(Redact, SecretKeysAtAnyDepth) {
  auto v = json::Parse(
      R"({"path":"/tmp/x","Password":"hunter2","nested":{"api_key":"abc","list":[{"client_secret":1}]},"n":3})");
  auto r = RedactArguments(*v, {});
  EXPECT_EQ(
      r.json,
      R"({"path":"/tmp/x","Password":"[REDACTED]","nested":{"api_key":"[REDACTED]","list":[{"client_secret":"[REDACTED]"}]},"n":3})");
  EXPECT_EQ(r.sha256.size(), 64u);
  EXPECT_EQ(r.sha256, RedactArguments(*v, {}).sha256);  // stable
}

TEST(Redact, SecretLookingValues) {
  EXPECT_TRUE(LooksSecret("Bearer abc.def.ghi"));
  EXPECT_TRUE(LooksSecret("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhIn0.c2lnbmF0dXJlLWJ5dGVz"));
  EXPECT_TRUE(LooksSecret("sk-proj-0123456789abcdefghij"));
  EXPECT_TRUE(LooksSecret("ghp_0123456789abcdefABCDEF0123456789abcd"));
  EXPECT_TRUE(LooksSecret("9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"));
  EXPECT_TRUE(LooksSecret("-----BEGIN PRIVATE KEY-----\nMII..."));
  EXPECT_FALSE(LooksSecret("hello world"));
  EXPECT_FALSE(LooksSecret("/home/alice/projects/mcp-gateway/src/gateway/gateway.cc"));
  EXPECT_FALSE(LooksSecret("https://example.com/some/long/path/that/is/not/a/secret/at/all"));
  EXPECT_FALSE(LooksSecret("read_text_file"));
  auto v = json::Parse(R"({"note":"use Bearer eyJxx.yy.zz","q":"weather in Paris"})");
  EXPECT_EQ(RedactArguments(*v, {}).json,
            R"({"note":"use Bearer eyJxx.yy.zz","q":"weather in Paris"})");
  auto w = json::Parse(R"({"auth_header":"Bearer eyJxx.yy.zz"})");
  EXPECT_EQ(RedactArguments(*w, {}).json, R"({"auth_header":"[REDACTED]"})");
}

TEST(Redact, SensitiveToolsStoreOnlyTheHash) {
  auto v = json::Parse(R"({"ssn":"123-45-6789"})");
  RedactOptions opt;
  opt.hash_only = true;
  auto r = RedactArguments(*v, opt);
  EXPECT_EQ(r.json, "{}");
  EXPECT_EQ(r.sha256, RedactArguments(*v, {}).sha256);
}

}  // namespace
}  // namespace mcpgw::history
