#include "rego/builtins.h"

namespace mcpgw::rego {

void RegisterNetBuiltins(BuiltinRegistry& r) {}

}  // namespace mcpgw::rego
