#include "rego/builtins.h"

namespace mcpgw::rego {

void RegisterCryptoBuiltins(BuiltinRegistry& r) {}

}  // namespace mcpgw::rego
