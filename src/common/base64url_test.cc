#include "common/base64url.h"

#include <gtest/gtest.h>

namespace mcpgw {
namespace {

TEST(Base64Url, RoundTripsAllLengths) {
  std::string data;
  for (int i = 0; i < 300; ++i) {
    data += static_cast<char>(i * 37);
    auto enc = Base64UrlEncode(data);
    EXPECT_EQ(enc.find_first_of("+/="), std::string::npos);
    auto dec = Base64UrlDecode(enc);
    ASSERT_TRUE(dec.has_value()) << i;
    EXPECT_EQ(*dec, data);
  }
}

TEST(Base64Url, KnownVectors) {
  EXPECT_EQ(Base64UrlEncode("f"), "Zg");
  EXPECT_EQ(Base64UrlEncode("fo"), "Zm8");
  EXPECT_EQ(Base64UrlEncode("foo"), "Zm9v");
  EXPECT_EQ(Base64UrlEncode("\xfb\xff"), "-_8");
}

TEST(Base64Url, RejectsPaddingAlphabetAndNonCanonical) {
  EXPECT_FALSE(Base64UrlDecode("Zg==").has_value());    // padding
  EXPECT_FALSE(Base64UrlDecode("Zm9v+A").has_value());  // standard alphabet
  EXPECT_FALSE(Base64UrlDecode("Zm 9v").has_value());   // whitespace
  EXPECT_FALSE(Base64UrlDecode("Z").has_value());       // impossible length
  EXPECT_FALSE(Base64UrlDecode("Zh").has_value());      // non-zero trailing bits ("f" is "Zg")
  EXPECT_TRUE(Base64UrlDecode("").has_value());
}

}  // namespace
}  // namespace mcpgw
