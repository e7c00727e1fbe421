#include "authserver/form.h"

#include <gtest/gtest.h>

namespace mcpgw::authserver {
namespace {

TEST(Form, DecodesPlusAndPercentEscapes) {
  auto p = FormParams::Parse("a=1&b=x+y&c=%2Fz%3D&empty=&flag");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->Get("a"), "1");
  EXPECT_EQ(p->Get("b"), "x y");
  EXPECT_EQ(p->Get("c"), "/z=");
  EXPECT_TRUE(p->Has("empty"));
  EXPECT_EQ(p->Get("empty"), "");
  EXPECT_TRUE(p->Has("flag"));
  EXPECT_FALSE(p->Has("missing"));
  EXPECT_EQ(p->Repeated(), "");
}

TEST(Form, RejectsMalformedEscapes) {
  EXPECT_FALSE(FormParams::Parse("a=%zz").ok());
  EXPECT_FALSE(FormParams::Parse("a=%4").ok());
  EXPECT_FALSE(FormParams::Parse("a=%").ok());
}

TEST(Form, ReportsRepeatedParameters) {
  auto p = FormParams::Parse("code=1&state=x&code=2");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->Repeated(), "code");
  EXPECT_EQ(p->Count("code"), 2u);
  EXPECT_EQ(p->Get("code"), "1");

  std::string many;
  for (int i = 0; i < 30000; ++i) many += "p" + std::to_string(i) + "=&";
  auto big = FormParams::Parse(many + "p7=x");
  ASSERT_TRUE(big.ok());
  EXPECT_EQ(big->Repeated(), "p7");
}

TEST(Form, AppendQueryKeepsTheRedirectUrisOwnQuery) {
  EXPECT_EQ(AppendQuery("https://app.example/cb", {{"code", "a b"}, {"state", "s/1"}}),
            "https://app.example/cb?code=a%20b&state=s%2F1");
  EXPECT_EQ(AppendQuery("https://app.example/cb?x=1", {{"code", "c"}, {"state", ""}}),
            "https://app.example/cb?x=1&code=c");
  EXPECT_EQ(AppendQuery("com.example.app:/cb", {{"code", "c"}}), "com.example.app:/cb?code=c");
}

TEST(Form, PercentEncodeRoundTrips) {
  std::string all;
  for (int c = 1; c < 256; ++c) all += static_cast<char>(c);
  auto back = PercentDecode(PercentEncode(all), false);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, all);
}

TEST(Form, Base64DecodeForBasicAuth) {
  auto d = Base64Decode("c3ZjLXJlcG9ydGluZzpzM2NyZXQ=");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(*d, "svc-reporting:s3cret");
  EXPECT_EQ(*Base64Decode("YQ=="), "a");
  EXPECT_FALSE(Base64Decode("YQ=").ok());
  EXPECT_FALSE(Base64Decode("Y=Q=").ok());
  EXPECT_FALSE(Base64Decode("c3Zj-A==").ok());
}

TEST(Form, HtmlEscape) {
  EXPECT_EQ(HtmlEscape(R"(<a href="x">'&'</a>)"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
}

}  // namespace
}  // namespace mcpgw::authserver
