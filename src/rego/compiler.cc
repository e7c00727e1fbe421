// The compiler: builds the rule tree, resolves names (rules, imports, built-ins, local
// variables), gives every variable a frame slot and orders body expressions so that variables are
// bound before they are read (OPA's safety reordering).
#include <algorithm>
#include <set>

#include "rego/builtins.h"
#include "rego/compiled.h"

namespace mcpgw::rego {
namespace {

std::string Join(const std::vector<std::string>& parts, size_t from = 0) {
  std::string s;
  for (size_t i = from; i < parts.size(); ++i) {
    if (!s.empty()) s += ".";
    s += parts[i];
  }
  return s;
}

std::vector<std::string> Split(const std::string& s) {
  std::vector<std::string> out;
  size_t st = 0;
  while (true) {
    size_t d = s.find('.', st);
    out.push_back(s.substr(st, d == std::string::npos ? std::string::npos : d - st));
    if (d == std::string::npos) break;
    st = d + 1;
  }
  return out;
}

Error CompileErr(const Location& loc, const std::string& msg, int code = kCompileError) {
  return MakeError(loc.ToString() + ": " + msg, code);
}

TermPtr MakeRootVar(int slot, const std::string& name, Location loc) {
  auto t = std::make_shared<Term>();
  t->kind = TermKind::kVar;
  t->name = name;
  t->slot = slot;
  t->loc = loc;
  return t;
}

TermPtr MakeStr(const std::string& s, Location loc) {
  auto t = std::make_shared<Term>();
  t->kind = TermKind::kValue;
  t->value = Value::String(s);
  t->loc = loc;
  return t;
}

// Variables of a term for safety ordering: `in` must be bound before, `out` may be bound by it.
void CollectVars(const Term& t, bool out_pos, std::vector<int>& in, std::vector<int>& out) {
  switch (t.kind) {
    case TermKind::kValue:
      return;
    case TermKind::kVar:
      if (t.slot >= 0) (out_pos ? out : in).push_back(t.slot);
      return;
    case TermKind::kRef:
      CollectVars(*t.items[0], false, in, out);
      for (size_t i = 1; i < t.items.size(); ++i) {
        const Term& k = *t.items[i];
        if (k.kind == TermKind::kVar) {
          if (k.slot >= 0) out.push_back(k.slot);
        } else if (k.kind == TermKind::kArray || k.kind == TermKind::kObject) {
          CollectVars(k, true, in, out);
        } else {
          CollectVars(k, false, in, out);
        }
      }
      return;
    case TermKind::kArray:
      for (const auto& it : t.items) CollectVars(*it, out_pos, in, out);
      return;
    case TermKind::kObject:
      for (size_t i = 0; i + 1 < t.items.size(); i += 2) {
        CollectVars(*t.items[i], false, in, out);
        CollectVars(*t.items[i + 1], out_pos, in, out);
      }
      return;
    case TermKind::kSet:
    case TermKind::kTemplate:
      for (const auto& it : t.items) CollectVars(*it, false, in, out);
      return;
    case TermKind::kCall:
      for (size_t i = 0; i < t.items.size(); ++i) {
        bool is_out = static_cast<int>(i) >= t.arity;
        if ((t.call_kind == kCallMember2 || t.call_kind == kCallMember3) &&
            i + 1 < t.items.size()) {
          is_out = false;
        }
        CollectVars(*t.items[i], is_out, in, out);
      }
      return;
    case TermKind::kArrayCompr:
    case TermKind::kSetCompr:
    case TermKind::kObjectCompr:
      for (int s : t.captured) in.push_back(s);
      return;
  }
}

struct ExprVars {
  std::vector<int> in;
  std::vector<int> out;
};

ExprVars VarsOf(const Expr& e) {
  ExprVars v;
  switch (e.kind) {
    case ExprKind::kTerm:
      CollectVars(*e.lhs, false, v.in, v.out);
      break;
    case ExprKind::kUnify:
      CollectVars(*e.lhs, true, v.in, v.out);
      CollectVars(*e.rhs, true, v.in, v.out);
      break;
    case ExprKind::kAssign:
      CollectVars(*e.lhs, true, v.in, v.out);
      CollectVars(*e.rhs, false, v.in, v.out);
      break;
    case ExprKind::kSome:
      break;
    case ExprKind::kSomeIn:
      if (e.key) CollectVars(*e.key, true, v.in, v.out);
      CollectVars(*e.val, true, v.in, v.out);
      CollectVars(*e.coll, false, v.in, v.out);
      break;
    case ExprKind::kEvery:
      CollectVars(*e.coll, false, v.in, v.out);
      for (int s : e.captured) v.in.push_back(s);
      break;
  }
  for (const auto& w : e.withs) CollectVars(*w.value, false, v.in, v.out);
  return v;
}

// Orders a body so each expression's inputs are bound by earlier ones. `outer_bound(slot)` says
// whether a slot is bound before the body starts. When no order works, the rest keeps its
// written order (the evaluator then reports the unsafe variable).
template <class IsBound>
void Reorder(Body& body, IsBound outer_bound) {
  if (body.size() < 2) return;
  std::vector<ExprVars> vars;
  vars.reserve(body.size());
  std::map<int, int> occurrences;
  for (const auto& e : body) {
    vars.push_back(VarsOf(e));
    std::set<int> seen(vars.back().in.begin(), vars.back().in.end());
    seen.insert(vars.back().out.begin(), vars.back().out.end());
    for (int s : seen) occurrences[s]++;
  }
  for (size_t i = 0; i < body.size(); ++i) {
    if (!body[i].negated) continue;
    // Inside `not`, variables seen nowhere else are local to it; the others must be bound.
    ExprVars& v = vars[i];
    std::vector<int> all = v.in;
    all.insert(all.end(), v.out.begin(), v.out.end());
    v.in.clear();
    v.out.clear();
    for (int s : all) {
      if (occurrences[s] > 1) v.in.push_back(s);
    }
  }
  std::set<int> bound;
  std::vector<bool> done(body.size(), false);
  Body ordered;
  ordered.reserve(body.size());
  for (size_t round = 0; round < body.size(); ++round) {
    size_t pick = body.size();
    for (size_t i = 0; i < body.size() && pick == body.size(); ++i) {
      if (done[i]) continue;
      bool ok = std::all_of(vars[i].in.begin(), vars[i].in.end(),
                            [&](int s) { return outer_bound(s) || bound.count(s) > 0; });
      if (ok) pick = i;
    }
    if (pick == body.size()) {
      for (size_t i = 0; i < body.size(); ++i) {
        if (!done[i]) pick = i;
        if (!done[i]) break;
      }
    }
    done[pick] = true;
    bound.insert(vars[pick].out.begin(), vars[pick].out.end());
    ordered.push_back(std::move(body[pick]));
  }
  body = std::move(ordered);
}

class Resolver {
 public:
  Resolver(const Module* module, const std::map<std::string, std::vector<const Rule*>>& functions,
           const std::map<std::string, std::set<std::string>>& rule_names)
      : module_(module), functions_(functions), rule_names_(rule_names) {
    if (module_) {
      pkg_ = module_->package;
      auto it = rule_names_.find(Join(pkg_));
      if (it != rule_names_.end()) pkg_rules_ = &it->second;
    }
  }

  int frame_size() const { return next_slot_; }

  // http.send is not supported (the policy decision point makes no network calls), but a policy
  // whose tests replace it (`with http.send as mock`) is accepted: its calls are refused at
  // evaluation unless mocked. Policies that never mock it are refused at load time.
  void set_http_send_mocked(bool mocked) { http_send_mocked_ = mocked; }

  Status ResolveRule(Rule& rule) {
    scopes_.clear();
    PushScope();
    // A template string as an argument pattern (`f($"{x} {input.y}") := ...`) cannot be
    // unified in reverse: as OPA does, the argument becomes a generated variable and the body
    // gains `var = <template>`, evaluated once the template's variables are bound.
    for (Rule* r = &rule; r; r = r->else_rule.get()) {
      for (size_t i = 0; i < r->args.size(); ++i) {
        if (r->args[i]->kind != TermKind::kTemplate) continue;
        std::string name = "__template_arg" + std::to_string(i) + "__";
        auto var = [&] {
          auto v = std::make_shared<Term>();
          v->kind = TermKind::kVar;
          v->name = name;
          v->loc = r->args[i]->loc;
          return v;
        };
        Expr e;
        e.kind = ExprKind::kUnify;
        e.lhs = var();
        e.rhs = r->args[i];
        e.loc = r->args[i]->loc;
        r->args[i] = var();
        if (!r->body) r->body = std::make_shared<Body>();
        r->body->push_back(std::move(e));
      }
    }
    // Declared names of the top scope: function arguments and `:=`/some in the body.
    for (Rule* r = &rule; r; r = r->else_rule.get()) {
      for (auto& a : r->args) CollectPatternNames(*a, scopes_.back().declared);
      CollectBodyNames(*r->body, scopes_.back());
      for (size_t i = 1; i < r->ref.size(); ++i) CollectTermNames(*r->ref[i], scopes_.back().used);
      if (r->key) CollectTermNames(*r->key, scopes_.back().used);
      if (r->value) CollectTermNames(*r->value, scopes_.back().used);
    }
    for (Rule* r = &rule; r; r = r->else_rule.get()) {
      for (auto& a : r->args) {
        if (auto st = Resolve(a); !st) return st;
      }
      for (size_t i = 1; i < r->ref.size(); ++i) {
        if (auto st = Resolve(r->ref[i]); !st) return st;
      }
      if (auto st = ResolveBody(*r->body); !st) return st;
      if (r->key) {
        if (auto st = Resolve(r->key); !st) return st;
      }
      if (r->value) {
        if (auto st = Resolve(r->value); !st) return st;
      }
      std::set<int> arg_slots;
      for (auto& a : r->args) {
        std::vector<int> in, out;
        CollectVars(*a, true, in, out);
        arg_slots.insert(in.begin(), in.end());
        arg_slots.insert(out.begin(), out.end());
      }
      Reorder(*r->body, [&](int s) { return arg_slots.count(s) > 0; });
    }
    rule.frame_size = next_slot_;
    for (Rule* r = rule.else_rule.get(); r; r = r->else_rule.get()) r->frame_size = next_slot_;
    return {};
  }

  Result<CompiledQuery> ResolveQuery(const BodyPtr& body) {
    scopes_.clear();
    PushScope();
    CollectBodyNames(*body, scopes_.back());
    if (auto st = ResolveBody(*body); !st) return st.error();
    for (size_t i = 0; i < body->size(); ++i) (*body)[i].query_index = static_cast<int>(i);
    Reorder(*body, [](int) { return false; });
    CompiledQuery q;
    q.body = body;
    q.frame_size = next_slot_;
    for (const auto& [name, slot] : scopes_.front().slots) {
      if (name.rfind("__", 0) == 0 || name == "_") continue;
      q.vars.emplace_back(name, slot);
    }
    return q;
  }

 private:
  struct Scope {
    std::set<std::string> declared;
    std::map<std::string, int> declared_at;  // body index of the declaring expression
    int cur_index = 0;                       // expression being resolved
    std::set<std::string> used;
    std::map<std::string, int> slots;
    int id = 0;
  };

  void PushScope() {
    scopes_.emplace_back();
    scopes_.back().id = next_scope_id_++;
  }

  static void CollectPatternNames(const Term& t, std::set<std::string>& names) {
    if (t.kind == TermKind::kVar) {
      if (t.name != "_") names.insert(t.name);
    } else if (t.kind == TermKind::kArray || t.kind == TermKind::kObject ||
               t.kind == TermKind::kSet) {
      for (const auto& it : t.items) CollectPatternNames(*it, names);
    }
  }

  // Names used at this level (not inside nested comprehension/every bodies).
  static void CollectTermNames(const Term& t, std::set<std::string>& names) {
    switch (t.kind) {
      case TermKind::kVar:
        if (t.name != "_") names.insert(t.name);
        return;
      case TermKind::kArrayCompr:
      case TermKind::kSetCompr:
      case TermKind::kObjectCompr:
        return;
      default:
        for (const auto& it : t.items) CollectTermNames(*it, names);
        return;
    }
  }

  static void CollectBodyNames(const Body& body, Scope& scope) {
    int index = 0;
    for (const auto& e : body) {
      std::set<std::string> decl;
      if (e.kind == ExprKind::kAssign) CollectPatternNames(*e.lhs, decl);
      if (e.kind == ExprKind::kSome) {
        for (const auto& v : e.vars) CollectPatternNames(*v, decl);
      }
      if (e.kind == ExprKind::kSomeIn) {
        if (e.key) CollectPatternNames(*e.key, decl);
        CollectPatternNames(*e.val, decl);
      }
      for (const auto& n : decl) {
        scope.declared.insert(n);
        scope.declared_at.emplace(n, index);
      }
      ++index;
      for (const TermPtr* t : {&e.lhs, &e.rhs, &e.coll, &e.key, &e.val}) {
        if (*t && e.kind != ExprKind::kEvery) CollectTermNames(**t, scope.used);
      }
      if (e.kind == ExprKind::kEvery) CollectTermNames(*e.coll, scope.used);
      for (const auto& w : e.withs) CollectTermNames(*w.value, scope.used);
    }
  }

  Status ResolveBody(Body& body) {
    // By index: resolving an expression may push scopes (comprehensions, `every`), and a push
    // may move every scope to new memory.
    const size_t at = scopes_.size() - 1;
    int saved = scopes_[at].cur_index;
    for (size_t i = 0; i < body.size(); ++i) {
      scopes_[at].cur_index = static_cast<int>(i);
      if (auto st = ResolveExpr(body[i]); !st) return st;
    }
    scopes_[at].cur_index = saved;
    return {};
  }

  Status ResolveExpr(Expr& e) {
    switch (e.kind) {
      case ExprKind::kTerm:
        if (auto st = Resolve(e.lhs); !st) return st;
        break;
      case ExprKind::kUnify:
      case ExprKind::kAssign:
        if (auto st = Resolve(e.lhs); !st) return st;
        if (auto st = Resolve(e.rhs); !st) return st;
        break;
      case ExprKind::kSome:
        for (auto& v : e.vars) {
          if (auto st = Resolve(v); !st) return st;
        }
        break;
      case ExprKind::kSomeIn:
        if (e.key) {
          if (auto st = Resolve(e.key); !st) return st;
        }
        if (auto st = Resolve(e.val); !st) return st;
        if (auto st = Resolve(e.coll); !st) return st;
        break;
      case ExprKind::kEvery: {
        if (auto st = Resolve(e.coll); !st) return st;
        PushScope();
        Scope& sc = scopes_.back();
        if (e.key) CollectPatternNames(*e.key, sc.declared);
        CollectPatternNames(*e.val, sc.declared);
        CollectBodyNames(*e.body, sc);
        closures_.push_back(&e.captured);
        closure_depth_.push_back(scopes_.size() - 1);
        Status st;
        if (e.key) st = Resolve(e.key);
        if (st) st = Resolve(e.val);
        if (st) st = ResolveBody(*e.body);
        int sid = scopes_.back().id;
        std::set<int> kv;
        if (st) {
          std::vector<int> in, out;
          if (e.key) CollectVars(*e.key, true, in, out);
          CollectVars(*e.val, true, in, out);
          kv.insert(in.begin(), in.end());
          kv.insert(out.begin(), out.end());
          Reorder(*e.body, [&](int s) { return slot_scope_[s] != sid || kv.count(s) > 0; });
        }
        closures_.pop_back();
        closure_depth_.pop_back();
        scopes_.pop_back();
        if (!st) return st;
        break;
      }
    }
    for (auto& w : e.withs) {
      if (auto st = ResolveWith(w); !st) return st;
    }
    return {};
  }

  // Slot of `name` in scope index `si`, allocating one.
  int SlotIn(size_t si, const std::string& name) {
    auto& slots = scopes_[si].slots;
    auto it = slots.find(name);
    if (it != slots.end()) return it->second;
    int s = next_slot_++;
    slots[name] = s;
    slot_scope_[s] = scopes_[si].id;
    return s;
  }

  void NoteCapture(size_t scope_index, int slot) {
    for (size_t i = 0; i < closures_.size(); ++i) {
      if (closure_depth_[i] > scope_index) closures_[i]->push_back(slot);
    }
  }

  bool IsRuleName(const std::string& name) const {
    return pkg_rules_ != nullptr && pkg_rules_->count(name) > 0;
  }

  const Import* FindImport(const std::string& alias) const {
    if (!module_) return nullptr;
    for (const auto& imp : module_->imports) {
      if (imp.alias == alias && (imp.path[0] == "data" || imp.path[0] == "input")) return &imp;
    }
    return nullptr;
  }

  // Resolves a bare name: a local variable (returns its slot), or a global (returns -1 and sets
  // `global` to the ref it stands for).
  Result<int> LookupVar(const std::string& name, const Location& loc, TermPtr* global) {
    // An enclosing body's `:=`/some declaration is visible only after it (a closure written
    // before it has its own variable of that name).
    std::set<size_t> hidden;
    for (size_t i = scopes_.size(); i-- > 0;) {
      if (scopes_[i].declared.count(name)) {
        bool inner = i + 1 == scopes_.size();
        auto at = scopes_[i].declared_at.find(name);
        if (!inner && at != scopes_[i].declared_at.end() && at->second >= scopes_[i].cur_index) {
          hidden.insert(i);
          continue;
        }
        int s = SlotIn(i, name);
        NoteCapture(i, s);
        return s;
      }
    }
    if (const Import* imp = FindImport(name)) {
      auto r = std::make_shared<Term>();
      r->kind = TermKind::kRef;
      r->loc = loc;
      r->items.push_back(
          MakeRootVar(imp->path[0] == "data" ? kSlotData : kSlotInput, imp->path[0], loc));
      for (size_t i = 1; i < imp->path.size(); ++i) r->items.push_back(MakeStr(imp->path[i], loc));
      if (r->items.size() == 1) {
        *global = r->items[0];
      } else {
        *global = r;
      }
      return -1;
    }
    if (IsRuleName(name)) {
      auto r = std::make_shared<Term>();
      r->kind = TermKind::kRef;
      r->loc = loc;
      r->items.push_back(MakeRootVar(kSlotData, "data", loc));
      for (const auto& p : pkg_) r->items.push_back(MakeStr(p, loc));
      r->items.push_back(MakeStr(name, loc));
      *global = r;
      return -1;
    }
    // Used by an enclosing body: captured from there.
    for (size_t i = scopes_.size() - 1; i-- > 0;) {
      if (hidden.count(i)) continue;
      if (scopes_[i].used.count(name) || scopes_[i].slots.count(name)) {
        int s = SlotIn(i, name);
        NoteCapture(i, s);
        return s;
      }
    }
    return SlotIn(scopes_.size() - 1, name);
  }

  Status Resolve(TermPtr& t) {
    switch (t->kind) {
      case TermKind::kValue:
        return {};
      case TermKind::kVar: {
        if (t->slot != -1) return {};
        if (t->wildcard) {
          t->slot = next_slot_++;
          slot_scope_[t->slot] = scopes_.back().id;
          return {};
        }
        if (t->name == "data") {
          t->slot = kSlotData;
          return {};
        }
        if (t->name == "input") {
          t->slot = kSlotInput;
          return {};
        }
        TermPtr global;
        auto s = LookupVar(t->name, t->loc, &global);
        if (!s) return s.error();
        if (*s >= 0) {
          t->slot = *s;
        } else {
          t = global;
        }
        return {};
      }
      case TermKind::kRef: {
        if (auto st = Resolve(t->items[0]); !st) return st;
        if (t->items[0]->kind == TermKind::kRef) {
          auto head = t->items[0];
          std::vector<TermPtr> items = head->items;
          items.insert(items.end(), t->items.begin() + 1, t->items.end());
          t->items = std::move(items);
        }
        for (size_t i = 1; i < t->items.size(); ++i) {
          if (auto st = Resolve(t->items[i]); !st) return st;
        }
        return {};
      }
      case TermKind::kArray:
      case TermKind::kObject:
      case TermKind::kSet:
      case TermKind::kTemplate:
        for (auto& it : t->items) {
          if (auto st = Resolve(it); !st) return st;
        }
        return {};
      case TermKind::kCall: {
        if (auto st = ResolveCall(*t); !st) return st;
        for (auto& it : t->items) {
          if (auto st = Resolve(it); !st) return st;
        }
        return {};
      }
      case TermKind::kArrayCompr:
      case TermKind::kSetCompr:
      case TermKind::kObjectCompr: {
        if (compr_done_.count(t.get())) return {};
        compr_done_.insert(t.get());
        PushScope();
        Scope& sc = scopes_.back();
        CollectBodyNames(*t->body, sc);
        CollectTermNames(*t->head, sc.used);
        if (t->key) CollectTermNames(*t->key, sc.used);
        closures_.push_back(&t->captured);
        closure_depth_.push_back(scopes_.size() - 1);
        Status st = ResolveBody(*t->body);
        if (st && t->key) st = Resolve(t->key);
        if (st) st = Resolve(t->head);
        int sid = scopes_.back().id;
        if (st) Reorder(*t->body, [&](int s) { return slot_scope_[s] != sid; });
        closures_.pop_back();
        closure_depth_.pop_back();
        scopes_.pop_back();
        return st;
      }
    }
    return {};
  }

  // Finds the function a dotted name calls. Sets func_path/builtin/func_key/arity/call_kind.
  Status ResolveCall(Term& t, bool check_arity = true) {
    if (!t.func_key.empty()) return {};
    std::vector<std::string> segs = Split(t.name);
    auto try_user = [&](const std::vector<std::string>& path) -> bool {
      auto it = functions_.find(Join(path));
      if (it == functions_.end()) return false;
      t.call_kind = kCallUser;
      t.func_path = path;
      t.func_key = "data." + Join(path);
      t.arity = static_cast<int>(it->second.front()->args.size());
      return true;
    };
    if (segs[0] == "data") {
      std::vector<std::string> p(segs.begin() + 1, segs.end());
      if (try_user(p)) return {};
    } else if (const Import* imp = FindImport(segs[0]); imp && imp->path[0] == "data") {
      std::vector<std::string> p(imp->path.begin() + 1, imp->path.end());
      p.insert(p.end(), segs.begin() + 1, segs.end());
      if (try_user(p)) return {};
    } else if (!pkg_.empty() || module_) {
      std::vector<std::string> p = pkg_;
      p.insert(p.end(), segs.begin(), segs.end());
      if (try_user(p)) return {};
    }
    t.func_key = t.name;
    if (t.name == "internal.member_2") {
      t.call_kind = kCallMember2;
      t.arity = 2;
      return {};
    }
    if (t.name == "internal.member_3") {
      t.call_kind = kCallMember3;
      t.arity = 3;
      return {};
    }
    if (t.name == "walk") {
      t.call_kind = kCallWalk;
      t.arity = 1;
      return {};
    }
    if (t.name == "print" || t.name == "trace") {
      t.call_kind = kCallPrint;
      t.arity = static_cast<int>(t.items.size());
      return {};
    }
    if (t.name == "http.send" && http_send_mocked_) {
      t.call_kind = kCallMockOnly;
      t.arity = 1;
      return {};
    }
    const Builtin* b = Builtins().Find(t.name);
    if (!b) {
      return CompileErr(t.loc, "rego_type_error: undefined function " + t.name, kCompileError);
    }
    t.call_kind = kCallBuiltin;
    if (t.name == "concat" && t.items.size() == 2 && t.items[1]->kind == TermKind::kArray) {
      t.call_kind = kCallConcatArray;  // still the built-in: only evaluated more directly
    }
    t.builtin = b;
    t.arity = b->arity;
    if (check_arity && static_cast<int>(t.items.size()) != b->arity &&
        static_cast<int>(t.items.size()) != b->arity + 1) {
      return CompileErr(t.loc,
                        "rego_type_error: " + t.name + ": arity mismatch: have " +
                            std::to_string(t.items.size()) + ", want " + std::to_string(b->arity),
                        kCompileError);
    }
    return {};
  }

  // Dotted name of a var/ref made only of names (before resolution), or "".
  static std::string PlainName(const Term& t) {
    if (t.kind == TermKind::kVar) return t.name;
    if (t.kind != TermKind::kRef || t.items[0]->kind != TermKind::kVar) return "";
    std::string s = t.items[0]->name;
    for (size_t i = 1; i < t.items.size(); ++i) {
      if (t.items[i]->kind != TermKind::kValue || !t.items[i]->value.is_string()) return "";
      s += "." + t.items[i]->value.str();
    }
    return s;
  }

  // The function a plain name refers to ("count", "data.pkg.f"), or "".
  std::string FunctionKeyOf(const std::string& name) {
    if (name.empty()) return "";
    Term probe;
    probe.kind = TermKind::kCall;
    probe.name = name;
    if (!ResolveCall(probe, /*check_arity=*/false)) return "";
    return probe.func_key;
  }

  Status ResolveWith(With& w) {
    std::string name = PlainName(*w.target);
    if (name.empty()) return CompileErr(w.target->loc, "rego_compile_error: invalid with target");
    std::vector<std::string> segs = Split(name);
    if (segs[0] == "input") {
      w.kind = With::Target::kInput;
      for (size_t i = 1; i < segs.size(); ++i) w.path.push_back(Value::String(segs[i]));
    } else {
      std::string fkey;
      bool local = false;
      for (const auto& sc : scopes_) local = local || sc.declared.count(segs[0]) > 0;
      if (!local) fkey = FunctionKeyOf(name);
      if (!fkey.empty()) {
        w.kind = With::Target::kFunction;
        w.func_key = fkey;
      } else {
        // data path: data.x.y, or a rule name / import alias in this package.
        std::vector<std::string> path;
        if (segs[0] == "data") {
          path.assign(segs.begin() + 1, segs.end());
        } else if (const Import* imp = FindImport(segs[0])) {
          if (imp->path[0] == "input") {
            w.kind = With::Target::kInput;
            for (size_t i = 1; i < imp->path.size(); ++i) {
              w.path.push_back(Value::String(imp->path[i]));
            }
            for (size_t i = 1; i < segs.size(); ++i) w.path.push_back(Value::String(segs[i]));
            return ResolveWithValue(w);
          }
          path.assign(imp->path.begin() + 1, imp->path.end());
          path.insert(path.end(), segs.begin() + 1, segs.end());
        } else if (IsRuleName(segs[0])) {
          path = pkg_;
          path.insert(path.end(), segs.begin(), segs.end());
        } else {
          return CompileErr(w.target->loc,
                            "rego_compile_error: with keyword target must reference "
                            "existing input, data, or a function");
        }
        w.kind = With::Target::kData;
        for (const auto& p : path) w.path.push_back(Value::String(p));
      }
    }
    return ResolveWithValue(w);
  }

  Status ResolveWithValue(With& w) {
    if (w.kind == With::Target::kFunction) {
      std::string vname = PlainName(*w.value);
      bool local = false;
      if (!vname.empty()) {
        std::string head = Split(vname)[0];
        for (const auto& sc : scopes_) local = local || sc.declared.count(head) > 0;
        if (head == "data" || head == "input") local = false;
      }
      if (!vname.empty() && !local) {
        std::string rk = FunctionKeyOf(vname);
        if (!rk.empty()) {
          w.repl_key = rk;
          return {};
        }
      }
    }
    return Resolve(w.value);
  }

  const Module* module_;
  bool http_send_mocked_ = false;
  const std::map<std::string, std::vector<const Rule*>>& functions_;
  const std::map<std::string, std::set<std::string>>& rule_names_;
  std::vector<std::string> pkg_;
  const std::set<std::string>* pkg_rules_ = nullptr;
  std::vector<Scope> scopes_;
  std::vector<std::vector<int>*> closures_;
  std::vector<size_t> closure_depth_;
  std::map<int, int> slot_scope_;
  std::set<const Term*> compr_done_;
  int next_slot_ = 0;
  int next_scope_id_ = 0;
};

Node* Descend(Node* node, const Value& key) {
  auto& child = node->children[key];
  if (!child) {
    child = std::make_unique<Node>();
    child->path = node->path;
    child->path.push_back(key);
  }
  return child.get();
}

// Constant input paths (input.resource.kind) of the policy's rules, numbered so that an
// evaluation resolves each once (see Evaluator::InputAt). Queries are not numbered.
using InputPaths = std::map<std::vector<Value>, int>;

void AnnotateBody(const CompiledPolicy& policy, InputPaths* inputs, Body& body);

// Points data references with constant leading keys at their tree node (and, when the keys
// after it lead into base data only, at that base value), user calls at their function node,
// and numbers constant input paths.
void AnnotateTerm(const CompiledPolicy& policy, InputPaths* inputs, Term& t) {
  if (t.kind == TermKind::kRef && t.items[0]->kind == TermKind::kVar &&
      t.items[0]->slot == kSlotData) {
    const Node* n = &policy.root;
    size_t i = 1;
    while (i < t.items.size() && t.items[i]->kind == TermKind::kValue && !n->HasRules()) {
      auto it = n->children.find(t.items[i]->value);
      if (it == n->children.end()) break;
      n = it->second.get();
      ++i;
    }
    t.data_node = n;
    t.data_index = i;
    if (i < t.items.size() && t.items[i]->kind == TermKind::kValue && !n->HasRules() && n->base) {
      const Value* b = n->base;
      size_t j = i;
      for (; b && j < t.items.size() && t.items[j]->kind == TermKind::kValue; ++j) {
        const Value& key = t.items[j]->value;
        const Value* child = b->Get(key);
        if (!child && key.is_int() && b->is_object()) child = b->Get(std::to_string(key.as_int()));
        b = child;
      }
      if (b) {
        t.data_base = b;
        t.data_base_index = j;
      }
    }
  }
  if (inputs && t.kind == TermKind::kRef && t.items[0]->kind == TermKind::kVar &&
      t.items[0]->slot == kSlotInput) {
    std::vector<Value> path;
    for (size_t i = 1; i < t.items.size() && t.items[i]->kind == TermKind::kValue; ++i) {
      path.push_back(t.items[i]->value);
    }
    if (!path.empty()) {
      t.input_path_len = path.size();
      t.input_path_id =
          inputs->emplace(std::move(path), static_cast<int>(inputs->size())).first->second;
    }
  }
  if (t.kind == TermKind::kCall && t.call_kind == kCallUser) {
    std::vector<Value> path;
    path.reserve(t.func_path.size());
    for (const auto& p : t.func_path) path.push_back(Value::String(p));
    t.func_node = policy.Find(path);
  }
  for (auto& it : t.items) AnnotateTerm(policy, inputs, *it);
  if (t.key) AnnotateTerm(policy, inputs, *t.key);
  if (t.head) AnnotateTerm(policy, inputs, *t.head);
  if (t.body) AnnotateBody(policy, inputs, *t.body);
}

void AnnotateBody(const CompiledPolicy& policy, InputPaths* inputs, Body& body) {
  for (auto& e : body) {
    for (TermPtr* p : {&e.lhs, &e.rhs, &e.key, &e.val, &e.coll}) {
      if (*p) AnnotateTerm(policy, inputs, **p);
    }
    for (auto& v : e.vars) AnnotateTerm(policy, inputs, *v);
    for (auto& w : e.withs) AnnotateTerm(policy, inputs, *w.value);
    if (e.body) AnnotateBody(policy, inputs, *e.body);
  }
}

void AnnotateRule(const CompiledPolicy& policy, InputPaths* inputs, Rule& r) {
  for (Rule* cur = &r; cur; cur = cur->else_rule.get()) {
    for (auto& t : cur->ref) AnnotateTerm(policy, inputs, *t);
    for (auto& t : cur->args) AnnotateTerm(policy, inputs, *t);
    if (cur->key) AnnotateTerm(policy, inputs, *cur->key);
    if (cur->value) AnnotateTerm(policy, inputs, *cur->value);
    AnnotateBody(policy, inputs, *cur->body);
  }
}

// Node ids, base-document pointers, constant-value rule sets, data-ref annotations.
void FinishNode(CompiledPolicy& policy, Node& n, const Value* base) {
  n.id = policy.node_count++;
  n.base = base;
  std::optional<Value> constant;
  bool all_constant = !n.rules.empty();
  for (const Rule* r : n.rules) {
    if (r->kind != RuleKind::kComplete || r->ref.size() != r->ground_prefix) {
      all_constant = false;
      break;
    }
    for (const Rule* cur = r; cur; cur = cur->else_rule.get()) {
      Value v = Value::True();
      if (cur->value) {
        if (cur->value->kind != TermKind::kValue) {
          all_constant = false;
          break;
        }
        v = cur->value->value;
      }
      if (constant && !(*constant == v)) all_constant = false;
      constant = v;
    }
    if (!all_constant) break;
  }
  if (all_constant && constant) n.constant_value = constant;
  n.plain_complete = !n.rules.empty() && !n.is_package && n.children.empty() && base == nullptr &&
                     std::all_of(n.rules.begin(), n.rules.end(), [](const Rule* r) {
                       return r->kind == RuleKind::kComplete && r->ref.size() == r->ground_prefix;
                     });
  for (auto& [k, child] : n.children) {
    const Value* cb = base ? base->Get(k) : nullptr;
    FinishNode(policy, *child, cb);
  }
}

void Finish(CompiledPolicy& policy) {
  FinishNode(policy, policy.root, &policy.data);
  InputPaths inputs;
  for (auto& m : policy.modules) {
    for (auto& r : m->rules) AnnotateRule(policy, &inputs, *r);
  }
  policy.input_paths.resize(inputs.size());
  for (auto& [path, id] : inputs) policy.input_paths[static_cast<size_t>(id)] = path;
  BuildRuleIndexes(policy);
  ComputeInputDeps(policy);
}

// Functions and rule names are needed before resolution; built from every module.
struct Index {
  std::map<std::string, std::vector<const Rule*>> functions;
  std::map<std::string, std::set<std::string>> rule_names;  // package -> rule names
  bool http_send_mocked = false;  // some module has `with http.send as ...`
};

bool MocksHttpSend(const Body& body);

bool MocksHttpSend(const Term& t) {
  if (t.body && MocksHttpSend(*t.body)) return true;
  for (const auto& it : t.items) {
    if (MocksHttpSend(*it)) return true;
  }
  return (t.key && MocksHttpSend(*t.key)) || (t.head && MocksHttpSend(*t.head));
}

bool MocksHttpSend(const Body& body) {
  for (const auto& e : body) {
    for (const auto& w : e.withs) {
      const Term& t = *w.target;
      if (t.kind == TermKind::kRef && t.items.size() == 2 && t.items[0]->kind == TermKind::kVar &&
          t.items[0]->name == "http" && t.items[1]->kind == TermKind::kValue &&
          t.items[1]->value.is_string() && t.items[1]->value.str() == "send") {
        return true;
      }
    }
    for (const TermPtr* p : {&e.lhs, &e.rhs, &e.key, &e.val, &e.coll}) {
      if (*p && MocksHttpSend(**p)) return true;
    }
    if (e.body && MocksHttpSend(*e.body)) return true;
  }
  return false;
}

}  // namespace

const Node* CompiledPolicy::Find(const std::vector<Value>& path) const {
  const Node* n = &root;
  for (const auto& k : path) {
    auto it = n->children.find(k);
    if (it == n->children.end()) return nullptr;
    n = it->second.get();
  }
  return n;
}

Result<std::shared_ptr<CompiledPolicy>> CompileModules(const std::vector<ModuleSource>& sources,
                                                       const Value& data) {
  auto policy = std::make_shared<CompiledPolicy>();
  policy->data = data.is_object() ? data : Value::EmptyObject();
  for (const auto& src : sources) {
    auto m = ParseModule(src.filename, src.text);
    if (!m) return m.error();
    policy->modules.push_back(*m);
  }
  Index index;
  for (const auto& m : policy->modules) {
    std::string pkg = Join(m->package);
    auto& names = index.rule_names[pkg];
    for (const auto& r : m->rules) {
      for (const Rule* cur = r.get(); cur && !index.http_send_mocked; cur = cur->else_rule.get()) {
        index.http_send_mocked = cur->body && MocksHttpSend(*cur->body);
      }
      names.insert(r->ref[0]->value.str());
      if (r->kind == RuleKind::kFunction) {
        std::vector<std::string> p = m->package;
        for (const auto& t : r->ref) {
          if (t->kind != TermKind::kValue || !t->value.is_string()) {
            return CompileErr(r->loc, "rego_parse_error: function names must be plain references");
          }
          p.push_back(t->value.str());
        }
        auto& defs = index.functions[Join(p)];
        if (!defs.empty() && defs.front()->args.size() != r->args.size()) {
          return CompileErr(r->loc, "rego_type_error: function " + Join(p) + " has arity " +
                                        std::to_string(defs.front()->args.size()) + ", got " +
                                        std::to_string(r->args.size()) + " arguments");
        }
        defs.push_back(r.get());
      }
    }
  }
  for (const auto& m : policy->modules) {
    Node* pkg_node = &policy->root;
    for (const auto& p : m->package) pkg_node = Descend(pkg_node, Value::String(p));
    pkg_node->is_package = true;
    for (const auto& r : m->rules) {
      r->package = m->package;
      Resolver res(m.get(), index.functions, index.rule_names);
      res.set_http_send_mocked(index.http_send_mocked);
      if (auto st = res.ResolveRule(*r); !st) return st.error();
      // Place the rule in the tree.
      Node* node = &policy->root;
      for (const auto& p : m->package) node = Descend(node, Value::String(p));
      size_t gp = 0;
      while (gp < r->ref.size() && r->ref[gp]->kind == TermKind::kValue) {
        node = Descend(node, r->ref[gp]->value);
        ++gp;
      }
      r->ground_prefix = gp;
      if (r->kind == RuleKind::kFunction) {
        if (r->is_default) {
          if (node->default_function) {
            return CompileErr(r->loc, "rego_type_error: multiple default functions found");
          }
          node->default_function = r.get();
        } else {
          node->functions.push_back(r.get());
        }
      } else if (r->is_default) {
        if (node->default_rule) {
          return CompileErr(r->loc, "rego_type_error: multiple default rules " + Join(m->package) +
                                        "." + r->ref[0]->value.str() + " found");
        }
        node->default_rule = r.get();
      } else {
        node->rules.push_back(r.get());
      }
    }
  }
  Finish(*policy);
  return policy;
}

Result<CompiledQuery> CompileQuery(const CompiledPolicy& policy, const std::string& text) {
  auto body = ParseQuery(text);
  if (!body) return body.error();
  // Queries see every function by its full data path.
  std::map<std::string, std::vector<const Rule*>> functions;
  std::function<void(const Node&, std::vector<std::string>&)> walk =
      [&](const Node& n, std::vector<std::string>& path) {
        if (!n.functions.empty() || n.default_function) {
          auto& defs = functions[Join(path)];
          defs = n.functions;
          if (n.default_function) defs.push_back(n.default_function);
        }
        for (const auto& [k, child] : n.children) {
          if (!k.is_string()) continue;
          path.push_back(k.str());
          walk(*child, path);
          path.pop_back();
        }
      };
  std::vector<std::string> path;
  walk(policy.root, path);
  std::map<std::string, std::set<std::string>> no_names;
  Resolver res(nullptr, functions, no_names);
  auto q = res.ResolveQuery(*body);
  if (q) AnnotateBody(policy, nullptr, *q->body);
  return q;
}

}  // namespace mcpgw::rego
