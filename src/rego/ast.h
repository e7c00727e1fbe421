// The Rego syntax tree, produced by the parser (parser.cc) and annotated by the compiler
// (compiler.cc: name resolution, variable slots, expression reordering for safety).
// Internal to the engine; users see engine.h only.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/result.h"
#include "rego/value.h"

namespace mcpgw::rego {

struct Term;
struct Expr;
struct Rule;
using TermPtr = std::shared_ptr<Term>;
using Body = std::vector<Expr>;
using BodyPtr = std::shared_ptr<Body>;

struct Location {
  const std::string* file = nullptr;
  int line = 0;
  int col = 0;
  std::string ToString() const;  // "file:line:col"
};

enum class TermKind {
  kValue,        // a scalar, or a ground composite folded by the parser
  kVar,          // a variable (after compile: slot >= 0) or, before resolution, a bare name
  kRef,          // items[0] head (var data/input/local, or any term), items[1..] the path
  kArray,        // items
  kObject,       // items: k0, v0, k1, v1, ...
  kSet,          // items
  kArrayCompr,   // head, body
  kSetCompr,     // head, body
  kObjectCompr,  // key, head, body
  kCall,         // name (dotted, or a rule path after resolution), items = arguments
  kTemplate,     // string interpolation: items alternate literal kValue strings and terms
};

struct Term {
  TermKind kind = TermKind::kValue;
  Value value;
  std::string name;  // kVar: variable name; kCall: function name as written
  int slot = -1;     // kVar after compile
  bool wildcard = false;
  std::vector<TermPtr> items;
  TermPtr key;   // kObjectCompr key
  TermPtr head;  // comprehension head
  BodyPtr body;  // comprehension body
  Location loc;
  // kCall after compile: a user function (rule path) or a built-in.
  std::vector<std::string> func_path;  // non-empty: user-defined function data.<path>
  const struct Builtin* builtin = nullptr;
  int call_kind = 0;          // see CallKind in compiled.h
  std::string func_key;       // "count" or "data.pkg.f": identity for `with` mocking
  int arity = 0;              // operands of the callee; one more argument is an output
  std::vector<int> captured;  // comprehensions: outer slots read inside (for safety ordering)
  // kRef rooted at data: the deepest tree node its leading constant keys reach, and how many
  // items that covers (evaluation starts there instead of walking from the root).
  const struct Node* data_node = nullptr;
  size_t data_index = 0;
  // kRef into base data only (no rule below): the value its constant keys reach, and the item
  // after them.
  const Value* data_base = nullptr;
  size_t data_base_index = 0;
  // kRef rooted at input with constant leading keys: their number, and the policy-wide id of
  // that path (CompiledPolicy::input_paths); -1 otherwise.
  int input_path_id = -1;
  size_t input_path_len = 0;
  // kCall of a user function after compile: its tree node (nullptr when nothing defines it).
  const struct Node* func_node = nullptr;
  bool template_unwrap = false;  // kArrayCompr standing for one template-string expression
};

enum class ExprKind {
  kTerm,    // a term evaluated for truth (calls, refs, values)
  kUnify,   // lhs = rhs
  kAssign,  // lhs := rhs
  kSome,    // some a, b (declaration only)
  kSomeIn,  // some [key,] value in coll
  kEvery,   // every [key,] value in coll { body }
};

struct With {
  TermPtr target;  // a ref: input..., data..., or a function name
  TermPtr value;
  // Compile annotations.
  enum class Target { kInput, kData, kFunction } kind = Target::kInput;
  std::vector<Value> path;  // input/data: the path below the root
  std::string func_key;     // kFunction: the mocked function ("count", "data.pkg.f")
  std::string repl_key;     // replacement function when the value names one, else ""
};

struct Expr {
  ExprKind kind = ExprKind::kTerm;
  bool negated = false;
  TermPtr lhs;  // kTerm: the term; kUnify/kAssign: left side
  TermPtr rhs;
  std::vector<TermPtr> vars;  // kSome declared vars
  TermPtr key;                // kSomeIn/kEvery: optional key var (or pattern)
  TermPtr val;                // kSomeIn/kEvery: value var (or pattern)
  TermPtr coll;               // kSomeIn/kEvery: collection term
  BodyPtr body;               // kEvery body
  std::vector<With> withs;
  Location loc;
  int query_index = -1;       // top-level query expression: records its value for the result
  std::vector<int> captured;  // kEvery: outer slots read inside the body
};

enum class RuleKind { kComplete, kPartialSet, kFunction };

struct Rule {
  RuleKind kind = RuleKind::kComplete;
  // Head reference relative to the package: ref[0] is the rule name (a kValue string), the rest
  // are path terms (kValue for ground keys, anything else for keys computed by the body).
  std::vector<TermPtr> ref;
  std::vector<TermPtr> args;  // kFunction
  TermPtr key;                // kPartialSet element
  TermPtr value;              // value; nullptr means true
  bool is_default = false;
  bool assign = false;  // := (for error messages)
  BodyPtr body;         // empty body = true
  std::shared_ptr<Rule> else_rule;
  Location loc;
  // Compile annotations.
  int frame_size = 0;
  size_t ground_prefix = 1;  // ref[0..ground_prefix) are ground keys
  std::vector<std::string> package;
};

struct Import {
  std::vector<std::string> path;  // e.g. {"data", "foo", "bar"} or {"input"} or {"rego", "v1"}
  std::string alias;              // defaults to the last path element
  Location loc;
};

struct Module {
  std::string filename;
  std::vector<std::string> package;  // without the "data" prefix
  std::vector<Import> imports;
  std::vector<std::shared_ptr<Rule>> rules;
};

// Parses one module. Errors: "file:line:col: rego_parse_error: ..." with code kParseError.
Result<std::shared_ptr<Module>> ParseModule(const std::string& filename, const std::string& text);
// Parses a query (a body: expressions separated by ';' or newlines).
Result<BodyPtr> ParseQuery(const std::string& text);

}  // namespace mcpgw::rego
