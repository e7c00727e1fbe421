#include "authserver/password.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <optional>

#include "authserver/secrets.h"
#include "common/base64url.h"

namespace mcpgw::authserver {
namespace {

constexpr std::string_view kScheme = "pbkdf2-sha256";
constexpr int kMaxIterations = 10000000;

struct Parsed {
  int iterations = 0;
  std::string salt;
  std::string hash;
};

Result<Parsed> Parse(std::string_view encoded) {
  auto next = [&encoded]() {
    size_t d = encoded.find('$');
    std::string_view part = encoded.substr(0, d);
    encoded = d == std::string_view::npos ? std::string_view() : encoded.substr(d + 1);
    return part;
  };
  if (encoded.find('$') == std::string_view::npos) {
    return MakeError(
        "not a password hash (expected pbkdf2-sha256$<iterations>$<salt>$<hash>; create one with "
        "`mcpgw auth-server hash-password`)");
  }
  if (next() != kScheme) return MakeError("unsupported hash scheme (only pbkdf2-sha256)");
  std::string_view iter_text = next();
  Parsed p;
  auto [end, ec] =
      std::from_chars(iter_text.data(), iter_text.data() + iter_text.size(), p.iterations);
  if (ec != std::errc() || end != iter_text.data() + iter_text.size() || p.iterations < 1 ||
      p.iterations > kMaxIterations) {
    return MakeError("hash iterations must be a number from 1 to 10000000");
  }
  auto salt = Base64UrlDecode(next());
  if (!salt || salt->size() < 8) return MakeError("hash salt must be at least 8 bytes, base64url");
  auto hash = Base64UrlDecode(next());
  if (!hash || hash->size() < 16 || hash->size() > 64) {
    return MakeError("derived key must be 16 to 64 bytes, base64url");
  }
  if (!encoded.empty()) return MakeError("unexpected text after the derived key");
  p.salt = std::move(*salt);
  p.hash = std::move(*hash);
  return p;
}

std::string Derive(std::string_view password, std::string_view salt, int iterations,
                   size_t length) {
  std::string out(length, '\0');
  if (PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()),
                        reinterpret_cast<const unsigned char*>(salt.data()),
                        static_cast<int>(salt.size()), iterations, EVP_sha256(),
                        static_cast<int>(length),
                        reinterpret_cast<unsigned char*>(out.data())) != 1) {
    std::fputs("fatal: PBKDF2 failed\n", stderr);
    std::abort();
  }
  return out;
}

}  // namespace

std::string HashPassword(std::string_view password, int iterations) {
  std::string salt(16, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(salt.data()), 16) != 1) {
    std::fputs("fatal: CSPRNG failure\n", stderr);
    std::abort();
  }
  std::string out(kScheme);
  out += '$';
  out += std::to_string(iterations);
  out += '$';
  out += Base64UrlEncode(salt);
  out += '$';
  out += Base64UrlEncode(Derive(password, salt, iterations, 32));
  return out;
}

Status CheckPasswordHash(std::string_view encoded) {
  auto p = Parse(encoded);
  if (!p.ok()) return p.error();
  return {};
}

bool VerifyPassword(std::string_view password, std::string_view encoded) {
  auto p = Parse(encoded);
  if (!p.ok()) return false;
  return ConstantTimeEquals(Derive(password, p->salt, p->iterations, p->hash.size()), p->hash);
}

}  // namespace mcpgw::authserver
