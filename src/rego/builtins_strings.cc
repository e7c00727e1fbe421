#include "rego/builtins.h"

namespace mcpgw::rego {

void RegisterStringBuiltins(BuiltinRegistry& r) {}

}  // namespace mcpgw::rego
