#include "authserver/password.h"

#include <gtest/gtest.h>

#include "common/base64url.h"

namespace mcpgw::authserver {
namespace {

TEST(Password, HashThenVerify) {
  std::string h = HashPassword("correct horse", 1000);
  EXPECT_EQ(h.rfind("pbkdf2-sha256$1000$", 0), 0u) << h;
  EXPECT_TRUE(CheckPasswordHash(h).ok());
  EXPECT_TRUE(VerifyPassword("correct horse", h));
  EXPECT_FALSE(VerifyPassword("correct horse ", h));
  EXPECT_FALSE(VerifyPassword("", h));
}

TEST(Password, DefaultIterationsAndFreshSalt) {
  std::string a = HashPassword("pw");
  std::string b = HashPassword("pw");
  EXPECT_NE(a, b);  // a new salt each time
  EXPECT_EQ(a.rfind("pbkdf2-sha256$600000$", 0), 0u);
  EXPECT_TRUE(VerifyPassword("pw", a));
  EXPECT_TRUE(VerifyPassword("pw", b));
}

TEST(Password, KnownVector) {
  // Derived independently with the OpenSSL command line:
  //   openssl kdf -keylen 32 -kdfopt digest:SHA256 -kdfopt pass:passwd
  //       -kdfopt salt:saltsalt -kdfopt iter:2 PBKDF2
  const std::string expected_hex =
      "9de3e333be4daeab9187fbc6840e742b1d295e180364d52a5cd6d0b16a29ab36";
  std::string raw;
  for (size_t i = 0; i < expected_hex.size(); i += 2) {
    raw += static_cast<char>(std::stoi(expected_hex.substr(i, 2), nullptr, 16));
  }
  std::string h = "pbkdf2-sha256$2$" + Base64UrlEncode("saltsalt") + "$" + Base64UrlEncode(raw);
  EXPECT_TRUE(CheckPasswordHash(h).ok());
  EXPECT_TRUE(VerifyPassword("passwd", h));
  EXPECT_FALSE(VerifyPassword("passwe", h));
  // A salt below 8 bytes is refused even when the key matches.
  std::string short_salt =
      "pbkdf2-sha256$2$" + Base64UrlEncode("salt") + "$" + Base64UrlEncode(raw);
  EXPECT_FALSE(CheckPasswordHash(short_salt).ok());
}

TEST(Password, MalformedHashesAreRejectedWithoutEchoingThem) {
  for (const char* bad :
       {"hunter2", "", "pbkdf2-sha256", "sha1$1000$c2FsdHNhbHQ$AAAAAAAAAAAAAAAAAAAAAA",
        "pbkdf2-sha256$0$c2FsdHNhbHQ$AAAAAAAAAAAAAAAAAAAAAA",
        "pbkdf2-sha256$abc$c2FsdHNhbHQ$AAAAAAAAAAAAAAAAAAAAAA",
        "pbkdf2-sha256$1000$c2FsdA$AAAAAAAAAAAAAAAAAAAAAA",           // salt too short
        "pbkdf2-sha256$1000$c2FsdHNhbHQ$AAAA",                        // key too short
        "pbkdf2-sha256$1000$c2FsdHNhbHQ$AAAAAAAAAAAAAAAAAAAAAA$x",    // trailing part
        "pbkdf2-sha256$1000$c2FsdHNhbHQ=$AAAAAAAAAAAAAAAAAAAAAA"}) {  // padding
    EXPECT_FALSE(CheckPasswordHash(bad).ok()) << bad;
    EXPECT_FALSE(VerifyPassword(bad, bad));
  }
  // The message says how to fix it and does not repeat what may be somebody's password.
  std::string message = CheckPasswordHash("hunter2").error().message;
  EXPECT_NE(message.find("hash-password"), std::string::npos);
  EXPECT_EQ(message.find("hunter2"), std::string::npos);
}

}  // namespace
}  // namespace mcpgw::authserver
