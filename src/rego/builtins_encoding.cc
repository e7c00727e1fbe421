#include "rego/builtins.h"

namespace mcpgw::rego {

void RegisterEncodingBuiltins(BuiltinRegistry& r) {}

}  // namespace mcpgw::rego
