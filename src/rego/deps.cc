// Which top-level input keys each node of the rule tree reads, directly or through the rules,
// functions and documents it refers to. A batch of evaluations whose inputs differ only in some
// keys (a list of tools asked for by one user) evaluates the nodes that read none of those keys
// once for the whole batch (see Policy::EvalPathBatch).
//
// The analysis is conservative: `input` used whole or with a key computed at run time counts as
// reading every key, and a reference into the data tree counts as reading whatever any rule
// below the referenced node reads.
//
// It also marks the nodes whose value may change between two evaluations with the same input and
// data (Node::impure: a call of time.now_ns, io.jwt.decode_verify, uuid.rfc4122, opa.runtime,
// print/trace or a network built-in, directly or through what the node refers to): those are never
// kept beyond one evaluation.
#include <algorithm>
#include <array>
#include <set>
#include <string_view>

#include "rego/compiled.h"

namespace mcpgw::rego {
namespace {

// Built-ins whose result is not a function of their operands alone: they read the clock (also
// io.jwt.decode_verify, for exp/nbf), draw random numbers, describe the running process or have a
// side effect (print and trace are kCallPrint, the network built-ins kCallMockOnly).
bool ImpureBuiltin(std::string_view name) {
  static constexpr std::array<std::string_view, 4> kImpure = {"time.now_ns", "io.jwt.decode_verify",
                                                              "uuid.rfc4122", "opa.runtime"};
  return std::find(kImpure.begin(), kImpure.end(), name) != kImpure.end();
}

struct Direct {
  bool all = false;
  bool impure = false;
  std::set<std::string> keys;
  std::vector<const Node*> refs;  // nodes whose documents or functions this node's rules use
};

class Collector {
 public:
  Collector(const CompiledPolicy& policy, Direct& out) : policy_(policy), out_(out) {}

  void VisitRule(const Rule& r) {
    for (const Rule* cur = &r; cur; cur = cur->else_rule.get()) {
      for (const auto& t : cur->ref) VisitTerm(*t);
      for (const auto& t : cur->args) VisitTerm(*t);
      if (cur->key) VisitTerm(*cur->key);
      if (cur->value) VisitTerm(*cur->value);
      if (cur->body) VisitBody(*cur->body);
    }
  }

 private:
  void VisitBody(const Body& body) {
    for (const auto& e : body) {
      for (const TermPtr* p : {&e.lhs, &e.rhs, &e.key, &e.val, &e.coll}) {
        if (*p) VisitTerm(**p);
      }
      for (const auto& v : e.vars) VisitTerm(*v);
      for (const auto& w : e.withs) {
        if (w.target) VisitTerm(*w.target);
        if (w.value) VisitTerm(*w.value);
      }
      if (e.body) VisitBody(*e.body);
    }
  }

  void VisitTerm(const Term& t) {
    if (t.kind == TermKind::kVar) {
      if (t.slot == kSlotInput) out_.all = true;
      if (t.slot == kSlotData) out_.refs.push_back(&policy_.root);
      return;
    }
    size_t first = 0;
    if (t.kind == TermKind::kRef && !t.items.empty() && t.items[0]->kind == TermKind::kVar) {
      const Term& head = *t.items[0];
      if (head.slot == kSlotInput) {
        if (t.items.size() > 1 && t.items[1]->kind == TermKind::kValue &&
            t.items[1]->value.is_string()) {
          out_.keys.insert(t.items[1]->value.str());
        } else {
          out_.all = true;
        }
        first = 1;
      } else if (head.slot == kSlotData) {
        DataRef(t);
        first = 1;
      }
    }
    if (t.kind == TermKind::kCall && t.call_kind == kCallUser) {
      out_.refs.push_back(t.func_node ? t.func_node : &policy_.root);
    }
    if (t.kind == TermKind::kCall && (t.call_kind == kCallPrint || t.call_kind == kCallMockOnly ||
                                      (t.call_kind != kCallUser && ImpureBuiltin(t.name)))) {
      out_.impure = true;
    }
    for (size_t i = first; i < t.items.size(); ++i) VisitTerm(*t.items[i]);
    if (t.key) VisitTerm(*t.key);
    if (t.head) VisitTerm(*t.head);
    if (t.body) VisitBody(*t.body);
  }

  // data.<keys>: the node its constant keys reach; a constant key that names no child leads to
  // base data only, which reads no input.
  void DataRef(const Term& t) {
    const Node* n = t.data_node ? t.data_node : &policy_.root;
    size_t i = t.data_node ? t.data_index : 1;
    if (t.data_node && i < t.items.size() && t.items[i]->kind == TermKind::kValue &&
        !n->HasRules()) {
      return;
    }
    out_.refs.push_back(n);
  }

  const CompiledPolicy& policy_;
  Direct& out_;
};

void CollectNodes(Node& n, std::vector<Node*>& out) {
  out.push_back(&n);
  for (auto& [key, child] : n.children) CollectNodes(*child, out);
}

}  // namespace

void ComputeInputDeps(CompiledPolicy& policy) {
  std::vector<Node*> nodes;
  CollectNodes(policy.root, nodes);
  policy.nodes.assign(static_cast<size_t>(policy.node_count), nullptr);
  for (const Node* n : nodes) policy.nodes[static_cast<size_t>(n->id)] = n;
  std::vector<Direct> direct(static_cast<size_t>(policy.node_count));
  for (const Node* n : nodes) {
    Direct& d = direct[static_cast<size_t>(n->id)];
    Collector c(policy, d);
    for (const Rule* r : n->rules) c.VisitRule(*r);
    for (const Rule* r : n->functions) c.VisitRule(*r);
    if (n->default_rule) c.VisitRule(*n->default_rule);
    if (n->default_function) c.VisitRule(*n->default_function);
    for (const auto& [key, child] : n->children) d.refs.push_back(child.get());
  }
  // Fixed point: a node reads what it reads directly plus what every node it refers to reads
  // (its children included: a node's document contains theirs).
  for (Node* n : nodes) {
    const Direct& d = direct[static_cast<size_t>(n->id)];
    n->reads_all_input = d.all;
    n->impure = d.impure;
    n->input_keys.assign(d.keys.begin(), d.keys.end());
  }
  for (bool changed = true; changed;) {
    changed = false;
    for (Node* n : nodes) {
      for (const Node* r : direct[static_cast<size_t>(n->id)].refs) {
        if (r == n) continue;
        if (r->reads_all_input && !n->reads_all_input) {
          n->reads_all_input = true;
          changed = true;
        }
        if (r->impure && !n->impure) {
          n->impure = true;
          changed = true;
        }
        for (const auto& k : r->input_keys) {
          auto it = std::lower_bound(n->input_keys.begin(), n->input_keys.end(), k);
          if (it == n->input_keys.end() || *it != k) {
            n->input_keys.insert(it, k);
            changed = true;
          }
        }
      }
    }
  }
}

}  // namespace mcpgw::rego
