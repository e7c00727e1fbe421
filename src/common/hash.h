// SHA-256 and hex encoding, the one implementation every module uses (history hash chain,
// argument hashes, hashed subjects in logs, the auth server's stored code/token hashes).
#pragma once

#include <string>
#include <string_view>

namespace mcpgw {

// The 32-byte digest. Aborts the process if OpenSSL fails (it does not, short of memory
// corruption; a silently wrong hash would be worse).
std::string Sha256(std::string_view data);

// Lowercase hex of `bytes`.
std::string HexEncode(std::string_view bytes);

inline std::string Sha256Hex(std::string_view data) { return HexEncode(Sha256(data)); }

}  // namespace mcpgw
