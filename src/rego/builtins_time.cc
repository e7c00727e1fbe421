#include "rego/builtins.h"

namespace mcpgw::rego {

void RegisterTimeBuiltins(BuiltinRegistry& r) {}

}  // namespace mcpgw::rego
