#include "rego/builtins.h"

namespace mcpgw::rego {

void BuiltinRegistry::Add(std::string name, int arity, BuiltinFn fn) {
  Builtin b{name, arity, std::move(fn)};
  by_name_.insert_or_assign(std::move(name), std::move(b));
}

const Builtin* BuiltinRegistry::Find(std::string_view name) const {
  auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : &it->second;
}

const BuiltinRegistry& Builtins() {
  static const BuiltinRegistry kRegistry = [] {
    BuiltinRegistry r;
    RegisterCoreBuiltins(r);
    RegisterCollectionBuiltins(r);
    RegisterStringBuiltins(r);
    RegisterEncodingBuiltins(r);
    RegisterTimeBuiltins(r);
    RegisterNetBuiltins(r);
    RegisterCryptoBuiltins(r);
    // The embedded engine has no OPA runtime configuration to report.
    r.Add("opa.runtime", 0, [](BuiltinContext&, std::span<const Value>) -> Result<Value> {
      return Value::EmptyObject();
    });
    return r;
  }();
  return kRegistry;
}

Error OperandTypeError(std::string_view name, int pos, std::string_view want, const Value& got) {
  return MakeError(std::string(name) + ": operand " + std::to_string(pos) + " must be " +
                       std::string(want) + " but got " + std::string(got.TypeName()),
                   kTypeError);
}

Error BuiltinError(std::string_view name, std::string_view message) {
  return MakeError(std::string(name) + ": " + std::string(message), kBuiltinError);
}

Error Undefined() { return MakeError("undefined", kUndefined); }

}  // namespace mcpgw::rego
