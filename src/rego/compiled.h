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
  kCallPrint = 5,
  kCallMockOnly = 6,    // http.send in a policy that mocks it: an error unless mocked
  kCallConcatArray = 7  // concat(sep, [a, b, ...]): the built-in, with the array written out
};

// Rule indexing: the rules of a node that require `input.<path> == <constant>` (a top-level
// expression of their body) are only evaluated when the input holds that constant.
struct RuleIndex {
  std::vector<Value> path;  // below input; constant keys
  // Positions in Node::rules of the rules guarded by each constant (ascending).
  std::map<Value, std::vector<size_t>, ValueLess> by_value;
  std::vector<uint8_t> guarded;  // per position in Node::rules
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
  // Only complete rules that end here (no ref-head suffix), no children, no base document, not a
  // package: the document is the rules' value, with none of the merging the general case needs.
  bool plain_complete = false;
  const Value* base = nullptr;  // the base document at this path, if any
  // The top-level input keys this node's document (or function) may read, directly or through
  // what it refers to; reads_all_input when it may read any (see deps.cc).
  std::vector<std::string> input_keys;
  bool reads_all_input = false;
  // The document may differ between two evaluations with the same input and data: it calls,
  // directly or through what it refers to, a built-in that reads the clock, draws random numbers
  // or has a side effect (see deps.cc).
  bool impure = false;
  std::unique_ptr<RuleIndex> index;  // see index.cc; nullptr when no rule has a guard
  bool HasRules() const { return !rules.empty() || default_rule != nullptr; }
};

struct CompiledPolicy {
  std::vector<std::shared_ptr<Module>> modules;
  Node root;
  Value data;
  int node_count = 0;
  std::vector<const Node*> nodes;               // by Node::id
  std::vector<std::vector<Value>> input_paths;  // by Term::input_path_id
  const Node* Find(const std::vector<Value>& path) const;
};

struct CompiledQuery {
  BodyPtr body;
  int frame_size = 0;
  std::vector<std::pair<std::string, int>> vars;  // named (non-generated) query variables
};

// Builds Node::index for every node with several rules (see index.cc).
void BuildRuleIndexes(CompiledPolicy& policy);

// Fills Node::input_keys / reads_all_input of every node (after data references are annotated).
void ComputeInputDeps(CompiledPolicy& policy);

Result<std::shared_ptr<CompiledPolicy>> CompileModules(const std::vector<ModuleSource>& sources,
                                                       const Value& data);
Result<CompiledQuery> CompileQuery(const CompiledPolicy& policy, const std::string& text);

}  // namespace mcpgw::rego
