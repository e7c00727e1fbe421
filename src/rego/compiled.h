// A compiled policy: modules with names resolved and variables given frame slots, and the rule
// tree that maps data paths to the rules defining them. Internal to the engine.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "rego/ast.h"
#include "rego/engine.h"

namespace mcpgw::rego {

inline constexpr int kSlotData = -2;   // the `data` root
inline constexpr int kSlotInput = -3;  // the `input` root

enum CallKind {
  kCallBuiltin = 0,
  kCallUser = 1,
  kCallMember2 = 2,
  kCallMember3 = 3,
  kCallWalk = 4,
  kCallPrint = 5
};

// One node of the data tree: a package, a rule, or a path inside a ref-head rule.
struct Node {
  std::vector<Value> path;  // keys from data root
  std::map<Value, std::unique_ptr<Node>, ValueLess> children;
  std::vector<const Rule*> rules;      // non-function rules whose ground prefix ends here
  std::vector<const Rule*> functions;  // function definitions at this path
  const Rule* default_rule = nullptr;
  const Rule* default_function = nullptr;
  bool is_package = false;
  int id = 0;  // dense index for per-evaluation caches
  // Every complete rule here has the same constant value (e.g. `allow if ...` rules): the first
  // rule that succeeds decides, the rest need not run.
  std::optional<Value> constant_value;
  const Value* base = nullptr;  // the base document at this path, if any
  bool HasRules() const { return !rules.empty() || default_rule != nullptr; }
};

struct CompiledPolicy {
  std::vector<std::shared_ptr<Module>> modules;
  Node root;
  Value data;
  int node_count = 0;
  const Node* Find(const std::vector<Value>& path) const;
};

struct CompiledQuery {
  BodyPtr body;
  int frame_size = 0;
  std::vector<std::pair<std::string, int>> vars;  // named (non-generated) query variables
};

Result<std::shared_ptr<CompiledPolicy>> CompileModules(const std::vector<ModuleSource>& sources,
                                                       const Value& data);
Result<CompiledQuery> CompileQuery(const CompiledPolicy& policy, const std::string& text);

}  // namespace mcpgw::rego
