#include "common/random.h"

#include <openssl/rand.h>

#include <cstdio>
#include <cstdlib>
#include <vector>

#include "common/hash.h"

namespace mcpgw {

std::string RandomHex(size_t bytes) {
  std::vector<unsigned char> buf(bytes);
  if (RAND_bytes(buf.data(), static_cast<int>(bytes)) != 1) {
    std::fputs("fatal: CSPRNG failure\n", stderr);
    std::abort();
  }
  return HexEncode(std::string_view(reinterpret_cast<const char*>(buf.data()), buf.size()));
}

}  // namespace mcpgw
