// Rule indexing. Policies are commonly a list of rules for one document, each for one kind of
// request: `permitted if { input.resource.kind == "tool"; ... }`, `permitted if {
// input.resource.kind == "prompt"; ... }`. For such a node the evaluator looks the input value up
// once and evaluates only the rules whose guard it satisfies (and those without a guard), so the
// cost of a decision does not grow with the number of rules written for other requests.
//
// A guard is a top-level, non-negated expression without `with` of the form
// `input.<constant keys> == <constant>` or `input.<constant keys> = <constant>` (either side).
// It must hold for the body to have any solution, so skipping a rule whose guard does not hold
// changes no result. Rules with an `else` chain are never skipped (the guard would only cover
// their first definition).
#include <algorithm>
#include <map>
#include <optional>
#include <set>

#include "rego/compiled.h"

namespace mcpgw::rego {
namespace {

// input.<constant keys>: the keys; nullopt for anything else.
std::optional<std::vector<Value>> InputPath(const Term& t) {
  if (t.kind != TermKind::kRef || t.items.size() < 2) return std::nullopt;
  const Term& head = *t.items[0];
  if (head.kind != TermKind::kVar || head.slot != kSlotInput) return std::nullopt;
  std::vector<Value> path;
  for (size_t i = 1; i < t.items.size(); ++i) {
    if (t.items[i]->kind != TermKind::kValue) return std::nullopt;
    path.push_back(t.items[i]->value);
  }
  return path;
}

struct Guard {
  std::vector<Value> path;
  Value value;
};

std::optional<Guard> GuardOf(const Expr& e) {
  if (e.negated || !e.withs.empty()) return std::nullopt;
  const Term* a = nullptr;
  const Term* b = nullptr;
  if (e.kind == ExprKind::kUnify) {
    a = e.lhs.get();
    b = e.rhs.get();
  } else if (e.kind == ExprKind::kTerm && e.lhs->kind == TermKind::kCall &&
             e.lhs->call_kind == kCallBuiltin && e.lhs->builtin &&
             e.lhs->builtin->name == "equal" && e.lhs->items.size() == 2) {
    a = e.lhs->items[0].get();
    b = e.lhs->items[1].get();
  }
  if (!a || !b) return std::nullopt;
  if (a->kind == TermKind::kValue) std::swap(a, b);
  if (b->kind != TermKind::kValue) return std::nullopt;
  auto path = InputPath(*a);
  if (!path) return std::nullopt;
  return Guard{std::move(*path), b->value};
}

void IndexNode(Node& n) {
  if (n.rules.size() >= 2) {
    // Per rule, its guards; the path guarded in the most rules becomes the index.
    std::vector<std::vector<Guard>> guards(n.rules.size());
    std::map<std::vector<Value>, int> uses;
    for (size_t i = 0; i < n.rules.size(); ++i) {
      const Rule& r = *n.rules[i];
      if (r.else_rule || !r.body) continue;
      for (const Expr& e : *r.body) {
        if (auto g = GuardOf(e)) guards[i].push_back(std::move(*g));
      }
      std::set<std::vector<Value>> paths;
      for (const Guard& g : guards[i]) paths.insert(g.path);
      for (const auto& p : paths) uses[p]++;
    }
    auto best = std::max_element(uses.begin(), uses.end(),
                                 [](const auto& x, const auto& y) { return x.second < y.second; });
    if (best != uses.end()) {
      auto ix = std::make_unique<RuleIndex>();
      ix->path = best->first;
      ix->guarded.assign(n.rules.size(), 0);
      for (size_t i = 0; i < n.rules.size(); ++i) {
        // Two guards on the same path with different constants: the rule never holds; indexing
        // it under one of them is still right (the body checks the other).
        for (const Guard& g : guards[i]) {
          if (g.path != ix->path) continue;
          ix->guarded[i] = 1;
          ix->by_value[g.value].push_back(i);
          break;
        }
      }
      n.index = std::move(ix);
    }
  }
  for (auto& [key, child] : n.children) IndexNode(*child);
}

}  // namespace

void BuildRuleIndexes(CompiledPolicy& policy) { IndexNode(policy.root); }

}  // namespace mcpgw::rego
