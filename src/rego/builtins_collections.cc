#include "rego/builtins.h"

namespace mcpgw::rego {

void RegisterCollectionBuiltins(BuiltinRegistry& r) {}

}  // namespace mcpgw::rego
