// Identifiers that must not be guessable (session ids) come from OpenSSL's CSPRNG.
#pragma once

#include <string>

namespace mcpgw {

// Returns `bytes` random bytes from the CSPRNG as lowercase hex (2*bytes characters).
// Aborts the process if the CSPRNG fails: handing out predictable ids is worse than stopping.
std::string RandomHex(size_t bytes);

}  // namespace mcpgw
