#include "authserver/jwt.h"

#include "common/base64url.h"

namespace mcpgw::authserver {

Result<std::string> SignJwt(const SigningKey& key, std::string_view typ,
                            const json::object& claims) {
  json::object header;
  header["alg"] = AlgName(key.alg());
  header["kid"] = key.kid();
  header["typ"] = typ;
  std::string input = Base64UrlEncode(json::Serialize(header));
  input += '.';
  input += Base64UrlEncode(json::Serialize(claims));
  auto sig = key.Sign(input);
  if (!sig.ok()) return sig.error();
  input += '.';
  input += Base64UrlEncode(*sig);
  return input;
}

}  // namespace mcpgw::authserver
