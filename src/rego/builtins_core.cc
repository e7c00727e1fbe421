#include "rego/builtins.h"

namespace mcpgw::rego {

void RegisterCoreBuiltins(BuiltinRegistry& r) {}

}  // namespace mcpgw::rego
