// The evaluator: top-down, depth-first search over rule bodies with continuation callbacks, like
// OPA's topdown. Every enumeration step calls a continuation; a continuation returns false to stop
// the search (an answer was enough, or an error was raised — then `error_` is set).
//
// Documents are computed per node of the rule tree and memoised for the evaluation (a new cache
// layer while `with` replaces input, data or functions).
#include <algorithm>
#include <array>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <span>
#include <unordered_map>
#include <unordered_set>

#include "rego/builtins.h"
#include "rego/compiled.h"
#include "rego/engine.h"

namespace mcpgw::rego {
namespace {

// A non-owning reference to a callable: continuations live on the caller's stack.
template <class Sig>
class FnRef;
template <class R, class... A>
class FnRef<R(A...)> {
 public:
  template <class F>
  FnRef(F&& f)  // NOLINT(google-explicit-constructor,bugprone-forwarding-reference-overload)
      : obj_(const_cast<void*>(static_cast<const void*>(&f))), cb_([](void* o, A... a) -> R {
          return (*static_cast<std::remove_reference_t<F>*>(o))(std::forward<A>(a)...);
        }) {}
  R operator()(A... a) const { return cb_(obj_, std::forward<A>(a)...); }

 private:
  void* obj_;
  R (*cb_)(void*, A...);
};

using Cont = FnRef<bool()>;
using ValCont = FnRef<bool(const Value&)>;

// Variable slots of one rule evaluation. Small frames (the common case) live on the stack and
// construct only the slots the rule uses.
class Frame {
 public:
  explicit Frame(int n) : n_(static_cast<size_t>(n)) {
    if (n_ > kInline) {
      heap_vals_ = std::make_unique<Value[]>(n_);
      heap_bound_ = std::make_unique<uint8_t[]>(n_);
      vals = heap_vals_.get();
      bound = heap_bound_.get();
    } else {
      vals = reinterpret_cast<Value*>(storage_);
      for (size_t i = 0; i < n_; ++i) new (&vals[i]) Value();
      bound = inline_bound_;
    }
    std::fill(bound, bound + n_, 0);
  }
  ~Frame() {
    if (n_ <= kInline) {
      for (size_t i = 0; i < n_; ++i) vals[i].~Value();
    }
  }
  Frame(const Frame&) = delete;
  Frame& operator=(const Frame&) = delete;
  Value* vals;
  uint8_t* bound;

 private:
  static constexpr size_t kInline = 16;
  size_t n_;
  alignas(Value) unsigned char storage_[kInline * sizeof(Value)];
  uint8_t inline_bound_[kInline];
  std::unique_ptr<Value[]> heap_vals_;
  std::unique_ptr<uint8_t[]> heap_bound_;
};

Value Upsert(const Value& base, const std::vector<Value>& path, size_t i, const Value& v) {
  if (i == path.size()) return v;
  Object o = base.is_object() ? base.object() : Object{};
  auto it = o.find(path[i]);
  Value child = it == o.end() ? Value::EmptyObject() : it->second;
  o.insert_or_assign(path[i], Upsert(child, path, i + 1, v));
  return Value::FromObject(std::move(o));
}

class Evaluator {
 public:
  Evaluator(const CompiledPolicy& policy, const Value* input, const EvalOptions& options)
      : policy_(policy), strict_(options.strict_builtin_errors) {
    TakeScratch();
    if (input) {
      input_ = *input;
      has_input_ = true;
    }
    if (options.now_ns) {
      bctx_.now_ns = *options.now_ns;
    } else {
      bctx_.now_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
    }
  }

  ~Evaluator() { ReturnScratch(); }
  Evaluator(const Evaluator&) = delete;
  Evaluator& operator=(const Evaluator&) = delete;

  const std::optional<Error>& error() const { return error_; }

  void SetInput(const Value& input, bool has_input) {
    input_ = input;
    has_input_ = has_input;
    overlay_ = nullptr;
    ++input_epoch_;
  }

  // The value at a term's constant input path (input.resource.kind), looked up once per input.
  const Value* InputAt(const Term& t) {
    auto id = static_cast<size_t>(t.input_path_id);
    if (input_at_epoch_[id] == input_epoch_) return input_at_[id];
    const Value* v = t.input_path_len == 0 ? &WholeInput() : InputMember(t.items[1]->value);
    for (size_t i = 2; v && i <= t.input_path_len; ++i) v = Lookup(*v, t.items[i]->value, false);
    input_at_[id] = v;
    input_at_epoch_[id] = input_epoch_;
    if (!item_paths_.empty() && item_paths_[id]) item_paths_read_.push_back(id);
    return v;
  }

  // A top-level member of the input: in a batch item, the item's own member first.
  const Value* InputMember(const Value& key) const {
    if (overlay_) {
      auto it = overlay_->find(key);
      if (it != overlay_->end()) return &it->second;
    }
    return input_.Get(key);
  }

  // The input document whole. A batch item's is put together only here, when a policy reads it
  // whole (`input`, `input[k]`, `with input...`); it then stands for the rest of the item.
  const Value& WholeInput() {
    if (overlay_) {
      input_ = WithMembers(input_, *overlay_);
      overlay_ = nullptr;
      materialized_ = true;
      ++input_epoch_;
    }
    return input_;
  }

  // Starts the next item of a batch: the input is `base` with the members of `item` (an object)
  // put in, and the documents of the nodes `stale` are forgotten (those that read a member an
  // item puts in); every other document computed so far is kept. Only between evaluations, and
  // only when the last one ended without an error.
  // The values found at constant input paths that start outside the items' members (SetItemPaths)
  // are kept too: they point into `base`, the same object for every item of the batch, unless the
  // last item's input was put together whole.
  void NextItem(const Value& base, const Value& item) {
    const bool keep_base_paths = next_item_called_ && !materialized_ && !item_paths_.empty();
    input_ = base;
    has_input_ = true;
    overlay_ = &item.object();
    materialized_ = false;
    next_item_called_ = true;
    if (keep_base_paths) {
      for (size_t id : item_paths_read_) input_at_epoch_[id] = 0;
    } else {
      ++input_epoch_;
    }
    item_paths_read_.clear();
    Cache& cache = caches_.front();
    for (size_t id : computed_stale_) {
      cache.done[id] = 0;
      cache.docs[id].reset();
    }
    computed_stale_.clear();
  }

  // Batch: documents of the current item known from an earlier batch, put in the cache as if
  // computed now (NextItem forgets them with the rest). Right after NextItem.
  // The cache points at them (`docs` must outlive the item's evaluation and not move).
  void Preload(std::span<const std::pair<int, std::optional<Value>>> docs) {
    if (docs.empty()) return;
    Cache& cache = caches_.front();
    if (preloaded_.size() < cache.done.size()) preloaded_.resize(cache.done.size());
    for (const auto& [id, doc] : docs) {
      auto i = static_cast<size_t>(id);
      preloaded_[i] = &doc;
      cache.done[i] = kPreloaded;
      computed_stale_.push_back(i);
    }
  }

  // Batch: the ids of the stale documents in the cache for the current item, those Preload put
  // there first, then those computed, in the order they were.
  std::span<const size_t> ComputedStale() const { return computed_stale_; }
  const std::optional<Value>& CachedDocument(size_t id) const { return caches_.front().docs[id]; }

  // Marks (by node id) the nodes whose documents NextItem forgets: those that read a member an
  // item puts in. The evaluator then remembers which of them it computed, so that only those
  // are forgotten. `stale` outlives the evaluator.
  void SetStale(std::span<const uint8_t> stale) { stale_ = stale; }

  // Marks (by CompiledPolicy::input_paths id) the constant input paths that start at a member an
  // item puts in (or are the whole input): NextItem looks only those up again. `paths` outlives
  // the evaluator.
  void SetItemPaths(std::span<const uint8_t> paths) { item_paths_ = paths; }

  // Runs a compiled query; calls `on_result` per solution.
  bool RunQuery(const CompiledQuery& q, std::vector<QueryResult>& out) {
    Frame f(q.frame_size);
    query_values_.assign(q.body->size(), Value::True());
    EvalBody(*q.body, 0, f, [&]() -> bool {
      QueryResult r;
      r.expressions = query_values_;
      for (const auto& [name, slot] : q.vars) {
        if (f.bound[static_cast<size_t>(slot)])
          r.bindings[name] = f.vals[static_cast<size_t>(slot)];
      }
      out.push_back(std::move(r));
      return true;
    });
    return !error_;
  }

  // Where data.<path> is: the deepest rule-tree node on the path (or none), the base data there,
  // and how many keys of the path that took. The same for every input.
  struct ResolvedPath {
    const Node* node = nullptr;
    const Value* base = nullptr;
    size_t used = 0;
  };
  static ResolvedPath Resolve(const CompiledPolicy& policy, std::span<const std::string> path) {
    ResolvedPath r{&policy.root, &policy.data, 0};
    while (r.used < path.size() && !r.node->HasRules()) {
      auto it = r.node->children.find(std::string_view(path[r.used]));
      if (it == r.node->children.end()) {
        r.base = r.base ? r.base->Get(std::string_view(path[r.used])) : nullptr;
        r.node = nullptr;
        ++r.used;
        break;
      }
      r.node = it->second.get();
      r.base = r.node->base;
      ++r.used;
    }
    return r;
  }

  // The document at data.<path>.
  std::optional<Value> EvalPath(std::span<const std::string> path) {
    return EvalPath(path, Resolve(policy_, path));
  }
  std::optional<Value> EvalPath(std::span<const std::string> path, const ResolvedPath& at) {
    std::optional<Value> doc;
    if (at.node) {
      if (const Value* d = NodeDocument(at.node, at.base)) doc = *d;
    } else if (at.base) {
      doc = *at.base;
    }
    for (size_t i = at.used; doc && i < path.size(); ++i) {
      const Value* child = doc->Get(std::string_view(path[i]));
      if (!child) return std::nullopt;
      doc = Value(*child);
    }
    return doc;
  }

 private:
  // ---- errors ----------------------------------------------------------------------------------

  bool Fail(Error e) {
    if (!error_) error_ = std::move(e);
    return false;
  }

  bool Conflict(const Location& loc, const std::string& msg) {
    return Fail(MakeError(loc.ToString() + ": eval_conflict_error: " + msg, kConflictError));
  }

  // ---- bodies and expressions ------------------------------------------------------------------

  bool EvalBody(const Body& body, size_t i, Frame& f, Cont k) {
    if (i == body.size()) return k();
    const Expr& e = body[i];
    auto next = [&]() -> bool { return EvalBody(body, i + 1, f, k); };
    if (!e.withs.empty()) return EvalWith(e, f, next);
    return EvalExpr(e, f, next);
  }

  bool EvalExpr(const Expr& e, Frame& f, Cont k) {
    if (e.negated) {
      bool found = false;
      EvalPositive(e, f, [&]() -> bool {
        found = true;
        return false;
      });
      if (error_) return false;
      if (found) return true;
      return k();
    }
    return EvalPositive(e, f, k);
  }

  bool EvalPositive(const Expr& e, Frame& f, Cont k) {
    switch (e.kind) {
      case ExprKind::kTerm:
        return EvalTerm(*e.lhs, f, [&](const Value& v) -> bool {
          // A false value fails the expression, except a plain term at the top of a query
          // (`data.x.allow` is false, not undefined, as in OPA).
          bool plain_query_term = e.query_index >= 0 && e.lhs->kind != TermKind::kCall;
          if (v.is_bool() && !v.as_bool() && !plain_query_term) return true;
          if (e.query_index >= 0) query_values_[static_cast<size_t>(e.query_index)] = v;
          return k();
        });
      case ExprKind::kUnify:
      case ExprKind::kAssign:
        return Unify(*e.lhs, *e.rhs, f, k);
      case ExprKind::kSome:
        return k();
      case ExprKind::kSomeIn:
        return EvalTerm(*e.coll, f, [&](const Value& coll) -> bool {
          return ForEachMember(coll, [&](const Value& key, const Value& val) -> bool {
            auto with_val = [&]() -> bool { return UnifyValue(*e.val, val, f, k); };
            if (e.key) return UnifyValue(*e.key, key, f, with_val);
            return with_val();
          });
        });
      case ExprKind::kEvery:
        return EvalTerm(*e.coll, f, [&](const Value& coll) -> bool {
          if (!coll.is_collection()) return true;  // every over a non-collection is false
          bool all = true;
          ForEachMember(coll, [&](const Value& key, const Value& val) -> bool {
            bool found = false;
            auto body = [&]() -> bool {
              return EvalBody(*e.body, 0, f, [&]() -> bool {
                found = true;
                return false;
              });
            };
            auto with_val = [&]() -> bool { return UnifyValue(*e.val, val, f, body); };
            if (e.key) {
              UnifyValue(*e.key, key, f, with_val);
            } else {
              with_val();
            }
            if (error_) return false;
            if (!found) {
              all = false;
              return false;
            }
            return true;
          });
          if (error_) return false;
          if (!all) return true;
          return k();
        });
    }
    return true;
  }

  // Calls fn(key, value) for each member of a collection (arrays: index, sets: element twice).
  template <class F>
  bool ForEachMember(const Value& coll, F&& fn) {
    if (coll.is_array()) {
      const Array& a = coll.array();
      for (size_t i = 0; i < a.size(); ++i) {
        if (!fn(Value::Int(static_cast<int64_t>(i)), a[i])) return false;
      }
    } else if (coll.is_object()) {
      for (const auto& [k, v] : coll.object()) {
        if (!fn(k, v)) return false;
      }
    } else if (coll.is_set()) {
      for (const auto& v : coll.set()) {
        if (!fn(v, v)) return false;
      }
    }
    return true;
  }

  // ---- with ------------------------------------------------------------------------------------

  struct Mock {
    std::string repl_key;  // a function to call instead, or
    Value value;           // a constant result
  };

  bool EvalWith(const Expr& e, Frame& f, Cont k) {
    // Evaluate every replacement value first (in the current state).
    std::vector<std::optional<Value>> values;
    for (const auto& w : e.withs) {
      if (w.kind == With::Target::kFunction && !w.repl_key.empty()) {
        values.emplace_back(Value());
        continue;
      }
      std::optional<Value> v;
      EvalTerm(*w.value, f, [&](const Value& x) {
        v = x;
        return false;
      });
      if (error_) return false;
      if (!v) return true;  // undefined replacement: the expression is undefined
      values.push_back(v);
    }
    // Apply, evaluate, restore around the continuation.
    if (has_input_) WholeInput();
    Value saved_input = input_;
    bool saved_has_input = has_input_;
    size_t saved_overlays = overlays_.size();
    auto saved_mocks = mocks_;
    auto apply = [&] {
      for (size_t i = 0; i < e.withs.size(); ++i) {
        const With& w = e.withs[i];
        switch (w.kind) {
          case With::Target::kInput:
            SetInput(Upsert(has_input_ ? input_ : Value::EmptyObject(), w.path, 0, *values[i]),
                     true);
            break;
          case With::Target::kData:
            overlays_.emplace_back(w.path, *values[i]);
            break;
          case With::Target::kFunction:
            mocks_[w.func_key] = Mock{w.repl_key, *values[i]};
            break;
        }
      }
      caches_.emplace_back(static_cast<size_t>(policy_.node_count));
    };
    Value with_input;
    bool with_has_input = false;
    std::vector<std::pair<std::vector<Value>, Value>> with_overlays;
    auto restore = [&] {
      caches_.pop_back();
      SetInput(saved_input, saved_has_input);
      overlays_.resize(saved_overlays);
      mocks_ = saved_mocks;
    };
    apply();
    with_input = input_;
    with_has_input = has_input_;
    with_overlays.assign(overlays_.begin() + static_cast<std::ptrdiff_t>(saved_overlays),
                         overlays_.end());
    auto with_mocks = mocks_;
    bool r = EvalExpr(e, f, [&]() -> bool {
      // The rest of the body runs without the replacements.
      Cache layer = std::move(caches_.back());
      restore();
      bool r2 = k();
      SetInput(with_input, with_has_input);
      overlays_.insert(overlays_.end(), with_overlays.begin(), with_overlays.end());
      mocks_ = with_mocks;
      caches_.push_back(std::move(layer));
      return r2;
    });
    restore();
    return r;
  }

  // ---- terms -----------------------------------------------------------------------------------

  bool EvalTerm(const Term& t, Frame& f, ValCont k) {
    switch (t.kind) {
      case TermKind::kValue:
        return k(t.value);
      case TermKind::kVar: {
        if (t.slot == kSlotInput) return has_input_ ? k(WholeInput()) : true;
        if (t.slot == kSlotData) {
          static const std::vector<TermPtr> kNoPath;
          return EvalDataPath(&policy_.root, &policy_.data, kNoPath, 0, f, k);
        }
        auto s = static_cast<size_t>(t.slot);
        if (t.slot < 0 || !f.bound[s]) return UnsafeVar(t);
        return k(f.vals[s]);
      }
      case TermKind::kRef:
        return EvalRef(t, f, k);
      case TermKind::kArray:
      case TermKind::kSet:
      case TermKind::kObject:
      case TermKind::kArrayCompr:
      case TermKind::kSetCompr:
      case TermKind::kObjectCompr:
        return EvalComposite(t, f, k);
      case TermKind::kCall:
        return EvalCall(t, f, k);
      case TermKind::kTemplate:
        return EvalComposite(t, f, k);
    }
    return true;
  }

  [[gnu::noinline]] bool UnsafeVar(const Term& t) {
    return Fail(MakeError(
        t.loc.ToString() + ": rego_unsafe_var_error: var " + t.name + " is unsafe", kCompileError));
  }

  // Collections and comprehensions, out of line: EvalTerm stays small (it runs for every term,
  // and a large function pays for its register saves and stack frame on each call).
  [[gnu::noinline]] bool EvalComposite(const Term& t, Frame& f, ValCont k) {
    switch (t.kind) {
      case TermKind::kArray: {
        Array acc;
        acc.reserve(t.items.size());
        return EvalItems(t.items, 0, f, acc, [&](Array& a) { return k(Value::FromArray(a)); });
      }
      case TermKind::kSet: {
        Array acc;
        return EvalItems(t.items, 0, f, acc,
                         [&](Array& a) { return k(Value::FromSet(Set(a.begin(), a.end()))); });
      }
      case TermKind::kObject: {
        Array acc;
        return EvalItems(t.items, 0, f, acc, [&](Array& a) {
          Object o;
          for (size_t i = 0; i + 1 < a.size(); i += 2) o.insert_or_assign(a[i], a[i + 1]);
          return k(Value::FromObject(std::move(o)));
        });
      }
      case TermKind::kArrayCompr: {
        Array out;
        EvalBody(*t.body, 0, f, [&]() -> bool {
          return EvalTerm(*t.head, f, [&](const Value& v) {
            out.push_back(v);
            return true;
          });
        });
        if (error_) return false;
        return k(Value::FromArray(std::move(out)));
      }
      case TermKind::kSetCompr: {
        Set out;
        EvalBody(*t.body, 0, f, [&]() -> bool {
          return EvalTerm(*t.head, f, [&](const Value& v) {
            out.insert(v);
            return true;
          });
        });
        if (error_) return false;
        return k(Value::FromSet(std::move(out)));
      }
      case TermKind::kObjectCompr: {
        Object out;
        EvalBody(*t.body, 0, f, [&]() -> bool {
          return EvalTerm(*t.key, f, [&](const Value& key) {
            return EvalTerm(*t.head, f, [&](const Value& v) {
              auto [it, inserted] = out.emplace(key, v);
              if (!inserted && !(it->second == v)) {
                return Conflict(t.loc, "object keys must be unique");
              }
              return true;
            });
          });
        });
        if (error_) return false;
        return k(Value::FromObject(std::move(out)));
      }
      case TermKind::kTemplate:
        return EvalTemplateParts(t, 0, f, std::string(), k);
      default:
        break;
    }
    return true;
  }

  bool EvalTemplateParts(const Term& t, size_t i, Frame& f, const std::string& acc, ValCont k) {
    if (i == t.items.size()) return k(Value::String(acc));
    const Term& part = *t.items[i];
    if (part.kind == TermKind::kValue && part.value.is_string() && i % 2 == 0) {
      return EvalTemplateParts(t, i + 1, f, acc + part.value.str(), k);
    }
    // An embedded expression: its single value (a set of values would be ambiguous).
    std::vector<Value> vals;
    EvalTerm(part, f, [&](const Value& v) {
      vals.push_back(v);
      return vals.size() < 2;
    });
    if (error_) return false;
    if (part.template_unwrap && vals.size() == 1 && vals[0].is_array()) {
      Array inner = vals[0].array();
      vals.assign(inner.begin(), inner.end());
      if (vals.size() > 1) vals.resize(2);
    }
    std::string piece;
    if (vals.empty()) {
      piece = "<undefined>";
    } else if (vals.size() > 1) {
      return Fail(MakeError(part.loc.ToString() +
                                ": eval_conflict_error: template expression produced multiple "
                                "outputs",
                            kConflictError));
    } else if (vals[0].is_string()) {
      piece = vals[0].str();
    } else {
      piece = vals[0].ToString();
    }
    return EvalTemplateParts(t, i + 1, f, acc + piece, k);
  }

  template <class F>
  bool EvalItems(const std::vector<TermPtr>& items, size_t i, Frame& f, Array& acc, F&& done) {
    if (i == items.size()) return done(acc);
    return EvalTerm(*items[i], f, [&](const Value& v) -> bool {
      acc.push_back(v);
      bool r = EvalItems(items, i + 1, f, acc, done);
      acc.pop_back();
      return r;
    });
  }

  bool IsUnboundVar(const Term& t, const Frame& f) const {
    return t.kind == TermKind::kVar && t.slot >= 0 && !f.bound[static_cast<size_t>(t.slot)];
  }

  // True when evaluating the term could bind variables (it contains unbound ones).
  bool HasUnbound(const Term& t, const Frame& f) const {
    switch (t.kind) {
      case TermKind::kValue:
        return false;
      case TermKind::kVar:
        return IsUnboundVar(t, f);
      case TermKind::kArray:
      case TermKind::kObject:
      case TermKind::kSet:
      case TermKind::kRef:
      case TermKind::kCall:
      case TermKind::kTemplate:
        for (const auto& it : t.items) {
          if (HasUnbound(*it, f)) return true;
        }
        return false;
      default:
        return false;
    }
  }

  // ---- references ------------------------------------------------------------------------------

  bool EvalRef(const Term& t, Frame& f, ValCont k) {
    const Term& head = *t.items[0];
    if (head.kind == TermKind::kVar) {
      if (head.slot == kSlotData) {
        if (t.data_base && overlays_.empty()) {
          return EvalValuePath(*t.data_base, t.items, t.data_base_index, f, k, /*base_doc=*/true);
        }
        if (t.data_node && overlays_.empty()) {
          return EvalDataPath(t.data_node, t.data_node->base, t.items, t.data_index, f, k);
        }
        return EvalDataPath(&policy_.root, &policy_.data, t.items, 1, f, k);
      }
      if (head.slot == kSlotInput) {
        if (!has_input_) return true;
        if (t.input_path_id >= 0) {
          const Value* v = InputAt(t);
          if (!v) return true;
          return EvalValuePath(*v, t.items, 1 + t.input_path_len, f, k);
        }
        return EvalValuePath(WholeInput(), t.items, 1, f, k);
      }
    }
    return EvalTerm(head, f, [&](const Value& v) { return EvalValuePath(v, t.items, 1, f, k); });
  }

  // `base_doc`: v is (part of) the base document, whose object keys are strings: a number key
  // finds the key with the same text, as OPA's store does (data[2] finds "2").
  static const Value* Lookup(const Value& v, const Value& key, bool base_doc) {
    const Value* child = v.Get(key);
    if (!child && base_doc && key.is_int() && v.is_object()) {
      child = v.Get(std::to_string(key.as_int()));
    }
    return child;
  }

  bool EvalValuePath(const Value& v, const std::vector<TermPtr>& items, size_t i, Frame& f,
                     ValCont k, bool base_doc = false) {
    if (i == items.size()) return k(v);
    const Term& key = *items[i];
    if (key.kind == TermKind::kValue) {
      const Value* child = Lookup(v, key.value, base_doc);
      if (!child) return true;
      return EvalValuePath(*child, items, i + 1, f, k, base_doc);
    }
    if (key.kind == TermKind::kVar && key.slot >= 0) {
      auto s = static_cast<size_t>(key.slot);
      if (f.bound[s]) {
        const Value* child = Lookup(v, f.vals[s], base_doc);
        if (!child) return true;
        return EvalValuePath(*child, items, i + 1, f, k, base_doc);
      }
      return ForEachMember(v, [&](const Value& mk, const Value& mv) -> bool {
        f.vals[s] = mk;
        f.bound[s] = 1;
        bool r = EvalValuePath(mv, items, i + 1, f, k, base_doc);
        f.bound[s] = 0;
        return r;
      });
    }
    if (!HasUnbound(key, f)) {
      return EvalTerm(key, f, [&](const Value& kv) -> bool {
        const Value* child = Lookup(v, kv, base_doc);
        if (!child) return true;
        return EvalValuePath(*child, items, i + 1, f, k, base_doc);
      });
    }
    // A pattern key such as [a, b]: unify it with every key.
    return ForEachMember(v, [&](const Value& mk, const Value& mv) -> bool {
      return UnifyValue(key, mk, f,
                        [&]() { return EvalValuePath(mv, items, i + 1, f, k, base_doc); });
    });
  }

  // Data overlay (from `with data...`) at exactly this path, if any. Later overlays win.
  const Value* OverlayAt(const std::vector<Value>& path) const {
    for (size_t j = overlays_.size(); j-- > 0;) {
      if (overlays_[j].first == path) return &overlays_[j].second;
    }
    return nullptr;
  }

  // The base document at `path` with the `with data...` replacements at or below it applied;
  // nullopt when none applies.
  std::optional<Value> OverlaidBase(const std::vector<Value>& path, const Value* base) const {
    std::optional<Value> out;
    for (const auto& [op, v] : overlays_) {
      if (op.size() < path.size() || !std::equal(path.begin(), path.end(), op.begin())) continue;
      if (!out) out = base ? *base : Value::EmptyObject();
      std::vector<Value> rest(op.begin() + static_cast<std::ptrdiff_t>(path.size()), op.end());
      out = Upsert(*out, rest, 0, v);
    }
    return out;
  }

  bool EvalDataPath(const Node* node, const Value* base, const std::vector<TermPtr>& items,
                    size_t i, Frame& f, ValCont k) {
    if (!overlays_.empty() && node) {
      if (const Value* ov = OverlayAt(node->path)) return EvalValuePath(*ov, items, i, f, k);
    }
    if (node == nullptr) {
      if (!base) return true;
      return EvalValuePath(*base, items, i, f, k, /*base_doc=*/true);
    }
    if (i == items.size() || node->HasRules()) {
      const Value* doc = NodeDocument(node, base);
      if (error_) return false;
      if (!doc) return true;
      return EvalValuePath(*doc, items, i, f, k);
    }
    const Term& key = *items[i];
    auto step = [&](const Value& kv) -> bool {
      auto it = node->children.find(kv);
      const Node* child = it == node->children.end() ? nullptr : it->second.get();
      const Value* child_base = base ? base->Get(kv) : nullptr;
      if (!child_base && base && kv.is_int()) {
        child_base = base->Get(std::to_string(kv.as_int()));  // data[2] finds key "2"
      }
      if (!child) {
        if (!overlays_.empty()) {
          std::vector<Value> p = node->path;
          p.push_back(kv);
          if (auto ov = OverlaidBase(p, child_base)) return EvalValuePath(*ov, items, i + 1, f, k);
        }
        if (!child_base) return true;
        return EvalValuePath(*child_base, items, i + 1, f, k, /*base_doc=*/true);
      }
      if (child && !child->HasRules() && child->children.empty() && !child_base) {
        if (!child->functions.empty()) return true;  // a function is not a document
      }
      return EvalDataPath(child, child_base, items, i + 1, f, k);
    };
    if (key.kind == TermKind::kValue) return step(key.value);
    if (key.kind == TermKind::kVar && key.slot >= 0) {
      auto s = static_cast<size_t>(key.slot);
      if (f.bound[s]) return step(f.vals[s]);
      // Enumerate the keys of the children and of the base document.
      Set keys;
      for (const auto& [ck, child] : node->children) keys.insert(ck);
      if (base && base->is_object()) {
        for (const auto& [bk, bv] : base->object()) keys.insert(bk);
      }
      for (const auto& kv : keys) {
        f.vals[s] = kv;
        f.bound[s] = 1;
        bool r = step(kv);
        f.bound[s] = 0;
        if (!r) return false;
      }
      return true;
    }
    if (!HasUnbound(key, f)) {
      return EvalTerm(key, f, [&](const Value& kv) { return step(kv); });
    }
    const Value* doc = NodeDocument(node, base);
    if (error_) return false;
    if (!doc) return true;
    return EvalValuePath(*doc, items, i, f, k);
  }

  // ---- documents -------------------------------------------------------------------------------

  // Documents computed in this evaluation, by node id.
  struct Cache {
    explicit Cache(size_t n) : docs(n), done(n, 0) {}
    std::vector<std::optional<Value>> docs;
    std::vector<uint8_t> done;  // 0: not yet; 1: in docs; kPreloaded: at preloaded_ (batch)
  };
  static constexpr uint8_t kPreloaded = 2;
  std::vector<const std::optional<Value>*> preloaded_;  // by node id (see Preload)

  // Inserts value at path below `obj`, reporting conflicts with what is there.
  bool InsertAt(Object& obj, const std::vector<Value>& path, size_t i, const Value& v,
                const Location& loc, bool set_element) {
    const Value& key = path[i];
    auto it = obj.find(key);
    if (i + 1 == path.size()) {
      if (set_element) {
        Set s;
        if (it != obj.end()) {
          if (!it->second.is_set()) return Conflict(loc, "object keys must be unique");
          s = it->second.set();
        }
        s.insert(v);
        obj.insert_or_assign(key, Value::FromSet(std::move(s)));
        return true;
      }
      if (it != obj.end()) {
        if (it->second == v) return true;
        return Conflict(loc, "object keys must be unique");
      }
      obj.emplace(key, v);
      return true;
    }
    Object child;
    if (it != obj.end()) {
      if (!it->second.is_object()) return Conflict(loc, "object keys must be unique");
      child = it->second.object();
    }
    if (!InsertAt(child, path, i + 1, v, loc, set_element)) return false;
    obj.insert_or_assign(key, Value::FromObject(std::move(child)));
    return true;
  }

  // Merges b into a (objects recursively); false on a conflicting leaf.
  bool Merge(Object& a, const Object& b) {
    for (const auto& [k, v] : b) {
      auto it = a.find(k);
      if (it == a.end()) {
        a.emplace(k, v);
        continue;
      }
      if (it->second.is_object() && v.is_object()) {
        Object m = it->second.object();
        if (!Merge(m, v.object())) return false;
        it->second = Value::FromObject(std::move(m));
      } else if (it->second.is_set() && v.is_set()) {
        Set u = it->second.set();
        u.insert(v.set().begin(), v.set().end());
        it->second = Value::FromSet(std::move(u));
      } else if (!(it->second == v)) {
        return false;
      }
    }
    return true;
  }

  // The document of a node, memoised in the current cache layer; nullptr when undefined. The
  // pointer stays valid while that layer exists (the whole evaluation, or the `with` it is for).
  const Value* NodeDocument(const Node* node, const Value* base) {
    auto id = static_cast<size_t>(node->id);
    if (uint8_t done = caches_.back().done[id]) {
      const auto& d = done == kPreloaded ? *preloaded_[id] : caches_.back().docs[id];
      return d ? &*d : nullptr;
    }
    if (in_progress_[id]) {
      Fail(MakeError("rego_recursion_error: rule data." + PathString(node->path) + " is recursive",
                     kRecursionError));
      return nullptr;
    }
    in_progress_[id] = 1;
    std::optional<Value> doc = ComputeDocument(node, base);
    in_progress_[id] = 0;
    if (error_) return nullptr;
    Cache& cache = caches_.back();
    cache.docs[id] = std::move(doc);
    cache.done[id] = 1;
    if (!stale_.empty() && stale_[id] && caches_.size() == 1) computed_stale_.push_back(id);
    return cache.docs[id] ? &*cache.docs[id] : nullptr;
  }

  static std::string PathString(const std::vector<Value>& path) {
    std::string s;
    for (const auto& p : path) {
      if (!s.empty()) s += ".";
      s += p.is_string() ? p.str() : p.ToString();
    }
    return s;
  }

  // Rule indexing: whether the node's rule at `ri` may hold for this input (a rule guarded by
  // `input.<path> == <constant>` is skipped unless the input holds that constant).
  struct Admission {
    const RuleIndex* index = nullptr;
    const std::vector<size_t>* admitted = nullptr;  // guarded rules that hold
    bool operator()(size_t ri) const {
      return !index || !index->guarded[ri] ||
             (admitted && std::binary_search(admitted->begin(), admitted->end(), ri));
    }
  };
  Admission Admit(const Node* node) {
    Admission a;
    a.index = mocks_.empty() ? node->index.get() : nullptr;
    if (a.index && has_input_) {
      const RuleIndex& index = *a.index;
      const Value* at = index.path.empty() ? &WholeInput() : InputMember(index.path[0]);
      for (size_t i = 1; at && i < index.path.size(); ++i) at = at->Get(index.path[i]);
      if (at) {
        auto it = index.by_value.find(*at);
        if (it != index.by_value.end()) a.admitted = &it->second;
      }
    }
    return a;
  }

  // A complete rule (and its else chain) into `complete`; false on an error or a conflict. With
  // `decided` set, the node's rules all give one constant and the first that holds decides.
  bool EvalComplete(const Node* node, const Rule* r, std::optional<Value>& complete,
                    bool& decided) {
    if (node->constant_value) {
      bool any = false;
      EvalRuleChain(*r, [&](Frame&, const Rule&) -> bool {
        any = true;
        return false;
      });
      if (error_) return false;
      if (any) {
        complete = *node->constant_value;
        decided = true;
      }
      return true;
    }
    bool constant = true;
    EvalRuleChain(*r, [&](Frame& f, const Rule& which) -> bool {
      constant = !which.value || which.value->kind == TermKind::kValue;
      auto take = [&](const Value& v) -> bool {
        if (complete && !(*complete == v)) {
          return Conflict(r->loc, "complete rules must not produce multiple outputs");
        }
        complete = v;
        return !constant;
      };
      if (!which.value) return take(Value::True());
      return EvalTerm(*which.value, f, take);
    });
    return !error_;
  }

  // The default rule's value into `complete` when no rule gave one.
  bool EvalDefault(const Node* node, std::optional<Value>& complete) {
    if (complete || !node->default_rule) return true;
    Frame f(node->default_rule->frame_size);
    EvalTerm(*node->default_rule->value, f, [&](const Value& v) {
      complete = v;
      return false;
    });
    return !error_;
  }

  std::optional<Value> ComputeDocument(const Node* node, const Value* base) {
    if (node->plain_complete && overlays_.empty()) {
      // Only complete rules: their value (or the default), nothing to merge.
      std::optional<Value> complete;
      bool decided = false;
      const Admission admit = Admit(node);
      for (size_t ri = 0; ri < node->rules.size() && !decided; ++ri) {
        if (!admit(ri)) continue;
        if (!EvalComplete(node, node->rules[ri], complete, decided)) return std::nullopt;
      }
      if (!EvalDefault(node, complete)) return std::nullopt;
      return complete;
    }
    // A base document that is not an object wins over rules at the same path (as in OPA).
    if (base && !base->is_object()) return ApplyOverlays(node, *base);
    std::vector<std::vector<Value>> leaf_paths;  // values of ref-head rules: not merged into
    std::optional<Value> complete;
    bool has_set = false;
    Set set_elems;
    bool has_object = false;
    Object obj;
    const Admission admit = Admit(node);
    for (size_t ri = 0; ri < node->rules.size(); ++ri) {
      const Rule* r = node->rules[ri];
      if (!admit(ri)) continue;
      size_t suffix = r->ref.size() - r->ground_prefix;
      if (r->kind == RuleKind::kPartialSet && suffix == 0) {
        has_set = true;
        EvalRuleChain(*r, [&](Frame& f, const Rule& which) -> bool {
          return EvalTerm(*which.key, f, [&](const Value& v) {
            set_elems.insert(v);
            return true;
          });
        });
      } else if (suffix == 0) {
        bool decided = false;  // all definitions give one constant, and one held
        if (!EvalComplete(node, r, complete, decided)) return std::nullopt;
        if (decided) break;
      } else {
        has_object = true;
        bool is_set = r->kind == RuleKind::kPartialSet;
        EvalRuleChain(*r, [&](Frame& f, const Rule& which) -> bool {
          std::vector<Value> keys;
          return EvalSuffix(which, r->ground_prefix, f, keys, [&]() -> bool {
            auto insert = [&](const Value& v) {
              if (!is_set) leaf_paths.push_back(keys);
              return InsertAt(obj, keys, 0, v, r->loc, is_set);
            };
            if (is_set) return EvalTerm(*which.key, f, insert);
            if (!which.value) return insert(Value::True());
            return EvalTerm(*which.value, f, insert);
          });
        });
      }
      if (error_) return std::nullopt;
    }
    if (!has_set && !has_object && !EvalDefault(node, complete)) return std::nullopt;
    // Children (packages, deeper ref-head rules) and base data.
    bool has_children = node->is_package;
    Object children;
    for (const auto& [key, child] : node->children) {
      has_children = true;
      if (child->rules.empty() && !child->default_rule && child->children.empty() &&
          !child->is_package) {
        continue;  // a function: not a document
      }
      const Value* child_base = base ? base->Get(key) : nullptr;
      std::optional<Value> cv;
      if (const Value* ov = overlays_.empty() ? nullptr : OverlayAt(child->path)) {
        cv = *ov;
      } else if (const Value* d = NodeDocument(child.get(), child_base)) {
        cv = *d;
      }
      if (error_) return std::nullopt;
      if (!cv) continue;
      // Another rule's value (a leaf) must not be extended by this child's rules.
      for (const auto& leaf : leaf_paths) {
        if (!(leaf[0] == key)) continue;
        const Value* at = &*cv;
        for (size_t d = 1; at && d < leaf.size(); ++d) at = at->Get(leaf[d]);
        const Value* mine = nullptr;
        if (at) {
          auto top = obj.find(leaf[0]);
          mine = top == obj.end() ? nullptr : &top->second;
          for (size_t d = 1; mine && d < leaf.size(); ++d) mine = mine->Get(leaf[d]);
        }
        if (at && !(mine && *mine == *at) && !(leaf.size() == 1 && at->is_set())) {
          Conflict(node->rules.empty() ? Location{} : node->rules.front()->loc,
                   "object keys must be unique");
          return std::nullopt;
        }
      }
      children.insert_or_assign(key, *cv);
    }
    if (complete) {
      if (!children.empty() || (has_object && !obj.empty())) {
        if (!complete->is_object()) {
          Conflict(node->rules.empty() ? Location{} : node->rules.front()->loc,
                   "object keys must be unique");
          return std::nullopt;
        }
        Object merged = complete->object();
        if (!Merge(merged, children) || !Merge(merged, obj)) {
          Conflict(node->rules.front()->loc, "object keys must be unique");
          return std::nullopt;
        }
        return ApplyOverlays(node, Value::FromObject(std::move(merged)));
      }
      return ApplyOverlays(node, std::move(*complete));
    }
    if (has_set) return ApplyOverlays(node, Value::FromSet(std::move(set_elems)));
    if (has_object || has_children) {
      if (!Merge(obj, children)) {
        Conflict(node->rules.empty() ? Location{} : node->rules.front()->loc,
                 "object keys must be unique");
        return std::nullopt;
      }
      if (base && base->is_object()) {
        Object b = base->object();
        Merge(b, obj);  // the base document wins where both define a value
        return ApplyOverlays(node, Value::FromObject(std::move(b)));
      }
      if (!has_object && obj.empty() && !node->rules.empty()) {
        return std::nullopt;  // only undefined complete rules below a rule node
      }
      return ApplyOverlays(node, Value::FromObject(std::move(obj)));
    }
    if (base) return ApplyOverlays(node, *base);
    return std::nullopt;
  }

  // Applies `with data.<deeper path>` replacements to a computed document.
  Value ApplyOverlays(const Node* node, Value doc) {
    if (overlays_.empty()) return doc;
    for (const auto& [path, v] : overlays_) {
      if (path.size() <= node->path.size()) continue;
      if (!std::equal(node->path.begin(), node->path.end(), path.begin())) continue;
      std::vector<Value> rest(path.begin() + static_cast<std::ptrdiff_t>(node->path.size()),
                              path.end());
      doc = Upsert(doc, rest, 0, v);
    }
    return doc;
  }

  // Evaluates the non-ground part of a rule's head reference into `keys`.
  bool EvalSuffix(const Rule& r, size_t i, Frame& f, std::vector<Value>& keys, Cont k) {
    if (i == r.ref.size()) return k();
    return EvalTerm(*r.ref[i], f, [&](const Value& v) -> bool {
      keys.push_back(v);
      bool res = EvalSuffix(r, i + 1, f, keys, k);
      keys.pop_back();
      return res;
    });
  }

  // Runs a rule and its else chain: the first definition with a solution provides the values.
  bool EvalRuleChain(const Rule& rule, FnRef<bool(Frame&, const Rule&)> on_solution) {
    for (const Rule* cur = &rule; cur; cur = cur->else_rule.get()) {
      Frame f(rule.frame_size);
      bool any = false;
      EvalBody(*cur->body, 0, f, [&]() -> bool {
        any = true;
        return on_solution(f, *cur);
      });
      if (error_) return false;
      if (any) return true;
    }
    return true;
  }

  // ---- calls -----------------------------------------------------------------------------------

  bool EvalCall(const Term& t, Frame& f, ValCont k) {
    if (!mocks_.empty()) {
      auto it = mocks_.find(t.func_key);
      if (it != mocks_.end()) {
        Mock m = it->second;  // EvalMocked changes mocks_ while it runs
        return EvalMocked(t, m, f, k);
      }
    }
    switch (t.call_kind) {
      case kCallMember2:
      case kCallMember3:
        return EvalMember(t, f, k);
      case kCallWalk:
        return EvalWalk(t, f, k);
      case kCallMockOnly:
        return Fail(MakeError(t.loc.ToString() + ": eval_builtin_error: " + t.name +
                                  ": not supported by the embedded engine (the policy decision "
                                  "point makes no network calls); only a `with " +
                                  t.name + " as ...` replacement can be evaluated",
                              kBuiltinError));
      case kCallPrint: {
        Array args;
        return EvalItems(t.items, 0, f, args, [&](Array&) { return k(Value::True()); });
      }
      case kCallConcatArray: {
        bool undefined = false;
        std::optional<std::string> joined = ConcatArray(t, f, undefined);
        if (error_ || undefined) return !error_;
        if (joined) return k(Value::String(std::move(*joined)));
        break;  // the general way (which also reports a non-string operand)
      }
      default:
        break;
    }
    size_t nargs = std::min(t.items.size(), static_cast<size_t>(t.arity));
    auto deliver = [&](const Value& result) -> bool {
      if (t.items.size() > nargs) {
        return UnifyValue(*t.items[nargs], result, f, [&]() { return k(Value::True()); });
      }
      return k(result);
    };
    auto call = [&](std::span<const Value> a) -> bool {
      if (t.call_kind == kCallUser) return CallUser(t, a, deliver);
      return CallBuiltin(t.builtin, t.name, t.loc, a, deliver);
    };
    constexpr size_t kInlineArgs = 4;
    if (nargs <= kInlineArgs) {
      // Only the operands the call has are constructed (most calls have one or two).
      alignas(Value) unsigned char raw[kInlineArgs * sizeof(Value)];
      auto* buf = reinterpret_cast<Value*>(raw);
      for (size_t i = 0; i < nargs; ++i) new (&buf[i]) Value();
      bool r =
          EvalArgs(t, 0, nargs, f, buf, [&]() { return call(std::span<const Value>(buf, nargs)); });
      for (size_t i = 0; i < nargs; ++i) buf[i].~Value();
      return r;
    }
    std::vector<Value> buf(nargs);
    return EvalArgs(t, 0, nargs, f, buf.data(), [&]() { return call(buf); });
  }

  // concat(sep, [a, b, ...]) with the array written out in the call (a scope name such as
  // "tool:<tool>:<action>", built on every decision): the strings are joined as they are
  // evaluated, without building the array. Only for operands that have one value each (no
  // unbound variable); nullopt, for the general way, when one could have several or is not a
  // string. `undefined`: an operand has no value, so neither has the call.
  std::optional<std::string> ConcatArray(const Term& t, Frame& f, bool& undefined) {
    const Term& sep_term = *t.items[0];
    const Term& arr = *t.items[1];
    if (HasUnbound(sep_term, f)) return std::nullopt;
    for (const auto& item : arr.items) {
      if (HasUnbound(*item, f)) return std::nullopt;
    }
    auto single = [&](const Term& term, const Value*& out, Value& keep) {
      if (term.kind == TermKind::kValue) {
        out = &term.value;
        return;
      }
      out = nullptr;
      EvalTerm(term, f, [&](const Value& v) {
        keep = v;
        out = &keep;
        return false;  // one value: no more to see
      });
    };
    Value sep_keep;
    const Value* sep = nullptr;
    single(sep_term, sep, sep_keep);
    if (error_) return std::nullopt;
    if (!sep) {
      undefined = true;
      return std::nullopt;
    }
    if (!sep->is_string()) return std::nullopt;
    std::string out;
    Value keep;
    for (size_t i = 0; i < arr.items.size(); ++i) {
      const Value* v = nullptr;
      single(*arr.items[i], v, keep);
      if (error_) return std::nullopt;
      if (!v) {
        undefined = true;
        return std::nullopt;
      }
      if (!v->is_string()) return std::nullopt;
      if (i > 0) out += sep->str();
      out += v->str();
    }
    return out;
  }

  // Evaluates the operands of a call into out[i..n).
  template <class F>
  bool EvalArgs(const Term& t, size_t i, size_t n, Frame& f, Value* out, F&& done) {
    if (i == n) return done();
    const Term& a = *t.items[i];
    if (a.kind == TermKind::kValue) {
      out[i] = a.value;
      return EvalArgs(t, i + 1, n, f, out, done);
    }
    return EvalTerm(a, f, [&](const Value& v) -> bool {
      out[i] = v;
      return EvalArgs(t, i + 1, n, f, out, done);
    });
  }

  bool CallBuiltin(const Builtin* b, const std::string& name, const Location& loc,
                   std::span<const Value> args, ValCont k) {
    auto r = b->fn(bctx_, args);
    if (!r.ok()) {
      int code = r.error().code;
      if (code == kUndefined) return true;
      if (code == kConflictError) return Fail(r.error());
      if (strict_) {
        return Fail(MakeError(
            loc.ToString() + ": " + std::string(ErrorCodeName(code)) + ": " + r.error().message,
            code));
      }
      return true;
    }
    return k(*r);
  }

  bool CallUser(const Term& t, std::span<const Value> args, ValCont k) {
    const Node* node = t.func_node;
    if (!node && !t.func_path.empty()) {  // a call built at evaluation time (a `with` mock)
      std::vector<Value> path;
      path.reserve(t.func_path.size());
      for (const auto& p : t.func_path) path.push_back(Value::String(p));
      node = policy_.Find(path);
    }
    if (!node || (node->functions.empty() && !node->default_function)) return true;
    std::optional<Value> result;
    for (const Rule* r : node->functions) {
      bool constant = true;
      EvalFunctionChain(*r, args, [&](Frame& f, const Rule& which) -> bool {
        constant = !which.value || which.value->kind == TermKind::kValue;
        auto take = [&](const Value& v) -> bool {
          if (result && !(*result == v)) {
            return Conflict(t.loc, "functions must not produce multiple outputs for same inputs");
          }
          result = v;
          return !constant;
        };
        if (!which.value) return take(Value::True());
        return EvalTerm(*which.value, f, take);
      });
      if (error_) return false;
    }
    if (!result && node->default_function) {
      Frame f(node->default_function->frame_size);
      EvalTerm(*node->default_function->value, f, [&](const Value& v) {
        result = v;
        return false;
      });
      if (error_) return false;
    }
    if (!result) return true;
    return k(*result);
  }

  bool EvalFunctionChain(const Rule& rule, std::span<const Value> args,
                         FnRef<bool(Frame&, const Rule&)> on_solution) {
    for (const Rule* cur = &rule; cur; cur = cur->else_rule.get()) {
      Frame f(rule.frame_size);
      bool any = false;
      UnifyArgs(*cur, args, 0, f, [&]() -> bool {
        return EvalBody(*cur->body, 0, f, [&]() -> bool {
          any = true;
          return on_solution(f, *cur);
        });
      });
      if (error_) return false;
      if (any) return true;
    }
    return true;
  }

  bool UnifyArgs(const Rule& r, std::span<const Value> args, size_t i, Frame& f, Cont k) {
    if (i == r.args.size() || i == args.size()) return k();
    return UnifyValue(*r.args[i], args[i], f, [&]() { return UnifyArgs(r, args, i + 1, f, k); });
  }

  bool EvalMocked(const Term& t, const Mock& m, Frame& f, ValCont k) {
    size_t nargs = std::min(t.items.size(), static_cast<size_t>(t.arity));
    auto deliver = [&](const Value& result) -> bool {
      if (t.items.size() > nargs) {
        return UnifyValue(*t.items[nargs], result, f, [&]() { return k(Value::True()); });
      }
      return k(result);
    };
    Array args;
    std::vector<TermPtr> operands(t.items.begin(),
                                  t.items.begin() + static_cast<std::ptrdiff_t>(nargs));
    return EvalItems(operands, 0, f, args, [&](Array& a) -> bool {
      if (m.repl_key.empty()) return deliver(m.value);
      // Call the replacement (a built-in or a user function), without re-mocking it.
      // A replacement runs without any mock: it may call the original, and never another
      // mock.
      auto saved = mocks_;
      mocks_.clear();
      bool r;
      if (m.repl_key.rfind("data.", 0) == 0) {
        Term call;
        call.kind = TermKind::kCall;
        call.call_kind = kCallUser;
        call.loc = t.loc;
        std::string rest = m.repl_key.substr(5);
        size_t st = 0;
        while (true) {
          size_t d = rest.find('.', st);
          call.func_path.push_back(rest.substr(st, d == std::string::npos ? d : d - st));
          if (d == std::string::npos) break;
          st = d + 1;
        }
        r = CallUser(call, a, deliver);
      } else {
        const Builtin* b = Builtins().Find(m.repl_key);
        r = b ? CallBuiltin(b, m.repl_key, t.loc, a, deliver) : true;
      }
      mocks_ = saved;
      return r;
    });
  }

  // x in coll / k, v in coll: a membership test, or an enumeration when x (or k, v) is unbound.
  bool EvalMember(const Term& t, Frame& f, ValCont k) {
    bool three = t.call_kind == kCallMember3;
    size_t coll_i = three ? 2 : 1;
    bool has_out = t.items.size() > coll_i + 1;
    auto deliver = [&](bool found) -> bool {
      if (has_out) {
        return UnifyValue(*t.items[coll_i + 1], Value::Bool(found), f,
                          [&]() { return k(Value::True()); });
      }
      return k(Value::Bool(found));
    };
    return EvalTerm(*t.items[coll_i], f, [&](const Value& coll) -> bool {
      bool pattern = HasUnbound(*t.items[0], f) || (three && HasUnbound(*t.items[1], f));
      if (!pattern) {
        // Ground operands: evaluate them once, then look the value up.
        return EvalTerm(*t.items[0], f, [&](const Value& first) -> bool {
          if (!three) {
            bool found = false;
            if (coll.is_set()) {
              found = coll.set().count(first) > 0;
            } else if (coll.is_array()) {
              found = ArrayContains(coll, first);
            } else {
              ForEachMember(coll, [&](const Value&, const Value& val) {
                found = val == first;
                return !found;
              });
            }
            return deliver(found);
          }
          return EvalTerm(*t.items[1], f, [&](const Value& second) -> bool {
            const Value* at = coll.is_collection() ? coll.Get(first) : nullptr;
            if (coll.is_set()) at = nullptr;
            return deliver(at != nullptr && *at == second);
          });
        });
      }
      return ForEachMember(coll, [&](const Value& key, const Value& val) -> bool {
        if (three) {
          return UnifyValue(*t.items[0], key, f, [&]() {
            return UnifyValue(*t.items[1], val, f, [&]() { return deliver(true); });
          });
        }
        return UnifyValue(*t.items[0], val, f, [&]() { return deliver(true); });
      });
    });
  }

  // `x in array`: a linear scan, except for a long array scanned again and again in this
  // evaluation (the scopes of a role, once per item of a list): after a few scans it gets a hash
  // index, kept (with the array pinned, so its address stays its own) until the evaluation ends.
  bool ArrayContains(const Value& coll, const Value& x) {
    constexpr size_t kIndexMinSize = 8;
    constexpr int kIndexAfterScans = 3;
    const Array& a = coll.array();
    if (a.size() >= kIndexMinSize) {
      MemberIndex& ix = member_index_[&a];
      if (!ix.built && ++ix.scans >= kIndexAfterScans) {
        ix.pin = coll;
        ix.members.insert(a.begin(), a.end());
        ix.built = true;
      }
      if (ix.built) return ix.members.count(x) > 0;
    }
    return std::find(a.begin(), a.end(), x) != a.end();
  }

  // walk(x, [path, value]): every path/value pair of x, the root first.
  bool EvalWalk(const Term& t, Frame& f, ValCont k) {
    return EvalTerm(*t.items[0], f, [&](const Value& root) -> bool {
      Array path;
      return WalkValue(root, path, [&](const Array& p, const Value& v) -> bool {
        Value pair = Value::FromArray({Value::FromArray(p), v});
        if (t.items.size() > 1) {
          return UnifyValue(*t.items[1], pair, f, [&]() { return k(Value::True()); });
        }
        return k(pair);
      });
    });
  }

  bool WalkValue(const Value& v, Array& path, FnRef<bool(const Array&, const Value&)> fn) {
    if (!fn(path, v)) return false;
    return ForEachMember(v, [&](const Value& key, const Value& child) -> bool {
      path.push_back(key);
      bool r = WalkValue(child, path, fn);
      path.pop_back();
      return r;
    });
  }

  // ---- unification -----------------------------------------------------------------------------

  bool Bind(const Term& var, const Value& v, Frame& f, Cont k) {
    auto s = static_cast<size_t>(var.slot);
    f.vals[s] = v;
    f.bound[s] = 1;
    bool r = k();
    f.bound[s] = 0;
    return r;
  }

  bool Unify(const Term& a, const Term& b, Frame& f, Cont k) {
    if (IsUnboundVar(a, f)) {
      if (IsUnboundVar(b, f)) {
        return Fail(
            MakeError(a.loc.ToString() + ": rego_unsafe_var_error: var " + a.name + " is unsafe",
                      kCompileError));
      }
      return EvalTerm(b, f, [&](const Value& v) { return Bind(a, v, f, k); });
    }
    if (IsUnboundVar(b, f)) {
      return EvalTerm(a, f, [&](const Value& v) { return Bind(b, v, f, k); });
    }
    if (a.kind == TermKind::kArray && b.kind == TermKind::kArray) {
      if (a.items.size() != b.items.size()) return true;
      return UnifyItems(a.items, b.items, 0, f, k);
    }
    if (a.kind == TermKind::kObject && b.kind == TermKind::kObject && IsPattern(a, f) &&
        IsPattern(b, f)) {
      if (a.items.size() != b.items.size()) return true;
      return UnifyObjects(a, b, 0, f, k);
    }
    bool a_pattern = IsPattern(a, f);
    bool b_pattern = IsPattern(b, f);
    if (a_pattern && !b_pattern) {
      return EvalTerm(b, f, [&](const Value& v) { return UnifyValue(a, v, f, k); });
    }
    return EvalTerm(a, f, [&](const Value& v) { return UnifyValue(b, v, f, k); });
  }

  // Two object literals: the same ground keys, values unified pairwise.
  bool UnifyObjects(const Term& a, const Term& b, size_t i, Frame& f, Cont k) {
    if (i >= a.items.size()) return k();
    return EvalTerm(*a.items[i], f, [&](const Value& key) -> bool {
      for (size_t j = 0; j + 1 < b.items.size(); j += 2) {
        bool match = false;
        EvalTerm(*b.items[j], f, [&](const Value& bk) {
          match = bk == key;
          return false;
        });
        if (error_) return false;
        if (match) {
          return Unify(*a.items[i + 1], *b.items[j + 1], f,
                       [&]() { return UnifyObjects(a, b, i + 2, f, k); });
        }
      }
      return true;
    });
  }

  bool UnifyItems(const std::vector<TermPtr>& a, const std::vector<TermPtr>& b, size_t i, Frame& f,
                  Cont k) {
    if (i == a.size()) return k();
    return Unify(*a[i], *b[i], f, [&]() { return UnifyItems(a, b, i + 1, f, k); });
  }

  // A composite literal with unbound variables: matched structurally, not evaluated.
  bool IsPattern(const Term& t, const Frame& f) const {
    if (t.kind == TermKind::kVar) return IsUnboundVar(t, f);
    if (t.kind == TermKind::kArray || t.kind == TermKind::kObject) return HasUnbound(t, f);
    return false;
  }

  bool UnifyValue(const Term& p, const Value& v, Frame& f, Cont k) {
    switch (p.kind) {
      case TermKind::kValue:
        return p.value == v ? k() : true;
      case TermKind::kVar: {
        if (p.slot < 0) {
          return EvalTerm(p, f, [&](const Value& pv) { return pv == v ? k() : true; });
        }
        auto s = static_cast<size_t>(p.slot);
        if (f.bound[s]) return f.vals[s] == v ? k() : true;
        return Bind(p, v, f, k);
      }
      case TermKind::kArray: {
        if (!v.is_array() || v.array().size() != p.items.size()) return true;
        return UnifyArrayValues(p.items, v.array(), 0, f, k);
      }
      case TermKind::kObject: {
        if (!v.is_object() || v.object().size() * 2 != p.items.size()) return true;
        return UnifyObjectValues(p, v, 0, f, k);
      }
      default:
        return EvalTerm(p, f, [&](const Value& pv) { return pv == v ? k() : true; });
    }
  }

  bool UnifyArrayValues(const std::vector<TermPtr>& items, const Array& vals, size_t i, Frame& f,
                        Cont k) {
    if (i == items.size()) return k();
    return UnifyValue(*items[i], vals[i], f,
                      [&]() { return UnifyArrayValues(items, vals, i + 1, f, k); });
  }

  bool UnifyObjectValues(const Term& p, const Value& v, size_t i, Frame& f, Cont k) {
    if (i >= p.items.size()) return k();
    return EvalTerm(*p.items[i], f, [&](const Value& key) -> bool {
      const Value* val = v.Get(key);
      if (!val) return true;
      return UnifyValue(*p.items[i + 1], *val, f,
                        [&]() { return UnifyObjectValues(p, v, i + 2, f, k); });
    });
  }

  const CompiledPolicy& policy_;
  bool strict_;
  Value input_;
  bool has_input_ = false;
  const Object* overlay_ = nullptr;  // batch item: members that replace input_'s (NextItem)
  // Resolved constant input paths (Term::input_path_id), valid when their epoch is the current
  // one; the epoch moves whenever the input changes (`with input`, the next input of a batch).
  std::vector<const Value*> input_at_;
  std::vector<uint32_t> input_at_epoch_;
  uint32_t input_epoch_ = 1;
  BuiltinContext bctx_;
  std::optional<Error> error_;
  std::vector<Cache> caches_;
  struct MemberIndex {
    Value pin;  // keeps the indexed array alive
    int scans = 0;
    bool built = false;
    std::unordered_set<Value, ValueHash> members;
  };
  std::unordered_map<const Array*, MemberIndex> member_index_;
  std::vector<uint8_t> in_progress_;
  std::span<const uint8_t> stale_;       // batch: nodes NextItem forgets (empty: not a batch)
  std::vector<size_t> computed_stale_;   // batch: stale nodes computed for the current input
  std::span<const uint8_t> item_paths_;  // batch: input paths NextItem looks up again
  std::vector<size_t> item_paths_read_;  // batch: those looked up for the current item
  bool next_item_called_ = false;
  bool materialized_ = false;  // batch: the current item's input was put together whole

  // The per-node arrays of an evaluation, kept per thread between evaluations so that a
  // decision does not allocate and zero them afresh (they are cleared on return).
  struct Scratch {
    std::vector<Cache> caches;
    std::vector<uint8_t> in_progress;
    std::vector<const Value*> input_at;
    std::vector<uint32_t> input_at_epoch;
  };
  static std::vector<Scratch>& Pool() {
    thread_local std::vector<Scratch> pool;
    return pool;
  }

  void TakeScratch() {
    auto n = static_cast<size_t>(policy_.node_count);
    size_t m = policy_.input_paths.size();
    auto& pool = Pool();
    if (!pool.empty()) {
      Scratch& s = pool.back();
      caches_ = std::move(s.caches);
      in_progress_ = std::move(s.in_progress);
      input_at_ = std::move(s.input_at);
      input_at_epoch_ = std::move(s.input_at_epoch);
      pool.pop_back();
    }
    // Returned scratch is all clear; only a larger policy needs more room.
    if (caches_.empty()) caches_.emplace_back(n);
    if (caches_.front().docs.size() < n) {
      caches_.front().docs.resize(n);
      caches_.front().done.resize(n, 0);
    }
    if (in_progress_.size() < n) in_progress_.resize(n, 0);
    if (input_at_.size() < m) {
      input_at_.resize(m);
      input_at_epoch_.resize(m, 0);
    }
  }

  void ReturnScratch() {
    constexpr size_t kPoolMax = 4;
    auto& pool = Pool();
    if (pool.size() >= kPoolMax || caches_.empty()) return;
    caches_.erase(caches_.begin() + 1, caches_.end());  // `with` layers: gone unless an error
    Cache& base = caches_.front();
    for (size_t i = 0; i < base.done.size(); ++i) {
      if (base.done[i]) {
        base.docs[i].reset();
        base.done[i] = 0;
      }
    }
    std::fill(in_progress_.begin(), in_progress_.end(), 0);
    std::fill(input_at_epoch_.begin(), input_at_epoch_.end(), 0);
    pool.push_back(Scratch{std::move(caches_), std::move(in_progress_), std::move(input_at_),
                           std::move(input_at_epoch_)});
  }
  std::vector<std::pair<std::vector<Value>, Value>> overlays_;
  std::map<std::string, Mock> mocks_;
  std::vector<Value> query_values_;
};

class PolicyImpl : public Policy {
 public:
  explicit PolicyImpl(std::shared_ptr<CompiledPolicy> c) : c_(std::move(c)) {}

  Result<std::vector<QueryResult>> Query(std::string_view query, const Value* input,
                                         const EvalOptions& options) const override {
    auto q = CompileQuery(*c_, std::string(query));
    if (!q) return q.error();
    Evaluator ev(*c_, input, options);
    std::vector<QueryResult> out;
    if (!ev.RunQuery(*q, out)) return *ev.error();
    return out;
  }

  Result<std::optional<Value>> EvalPath(std::span<const std::string> path, const Value* input,
                                        const EvalOptions& options) const override {
    Evaluator ev(*c_, input, options);
    auto v = ev.EvalPath(path);
    if (ev.error()) return *ev.error();
    return v;
  }

  std::vector<Result<std::optional<Value>>> EvalPathBatch(
      std::span<const std::string> path, const Value& base, std::span<const Value> items,
      const EvalOptions& options) const override {
    std::vector<Result<std::optional<Value>>> out;
    out.reserve(items.size());
    // The top-level keys items put in: `varying` those of any item, `common` those of every
    // item (a node that reads only these depends on the item alone).
    std::vector<std::string> varying;
    std::vector<std::string> common;
    ItemKeys(items, varying, common);
    std::vector<uint8_t> stale(c_->nodes.size(), 0);  // by node id: reads a varying key
    for (const Node* n : c_->nodes) {
      bool reads = n->reads_all_input;
      for (const auto& k : n->input_keys) {
        if (reads) break;
        reads = std::find(varying.begin(), varying.end(), k) != varying.end();
      }
      stale[static_cast<size_t>(n->id)] = reads ? 1 : 0;
    }
    // Nodes that read nothing but members every item puts in, and nothing impure: their
    // documents depend on the item alone (and the policy and data, fixed for this object).
    std::vector<uint8_t> item_only(c_->nodes.size(), 0);
    bool any_item_only = false;
    for (const Node* n : c_->nodes) {
      if (!stale[static_cast<size_t>(n->id)] || n->reads_all_input || n->impure) continue;
      bool only = std::all_of(n->input_keys.begin(), n->input_keys.end(), [&](const auto& k) {
        return std::find(common.begin(), common.end(), k) != common.end();
      });
      item_only[static_cast<size_t>(n->id)] = only ? 1 : 0;
      any_item_only = any_item_only || only;
    }
    // Another thread's batch holds the memo: this one goes without it.
    std::unique_lock<std::mutex> memo_lock(memo_mu_, std::try_to_lock);
    BatchMemo* batch_memo = nullptr;
    if (any_item_only && !items.empty() && items.size() <= kMaxMemoItems && memo_lock.owns_lock()) {
      batch_memo = MemoFor(items);
    }
    std::vector<uint8_t> item_paths(c_->input_paths.size(), 0);  // by input path id
    for (size_t i = 0; i < item_paths.size(); ++i) {
      const std::vector<Value>& p = c_->input_paths[i];
      item_paths[i] = p.empty() || !p[0].is_string() ||
                      std::find(varying.begin(), varying.end(), p[0].str()) != varying.end();
    }
    const Evaluator::ResolvedPath at = Evaluator::Resolve(*c_, path);
    const Value& in = base.is_object() ? base : Value::EmptyObject();
    std::optional<Evaluator> ev;
    for (const Value& item : items) {
      if (!item.is_object()) {
        out.emplace_back(MakeError("a batch item must be an object (input members to put in)"));
        continue;
      }
      if (!ev) {
        ev.emplace(*c_, &in, options);
        ev->SetStale(stale);
        ev->SetItemPaths(item_paths);
      }
      ev->NextItem(in, item);
      ItemMemo* memo = nullptr;
      if (batch_memo) {
        memo = &batch_memo->items[static_cast<size_t>(&item - items.data())];
        // Same address and not expired: the very object the entry was made for (two live
        // objects do not share an address).
        if (memo->object != &item.object() || memo->item.expired() ||
            memo->strict != options.strict_builtin_errors) {
          memo->object = &item.object();
          memo->item = item.Weak();
          memo->strict = options.strict_builtin_errors;
          memo->docs.clear();
        }
        ev->Preload(memo->docs);
      }
      const size_t preloaded = memo ? memo->docs.size() : 0;
      auto v = ev->EvalPath(path, at);
      if (ev->error()) {
        out.emplace_back(*ev->error());
        ev.reset();  // documents computed before the error are not trusted for the next item
        continue;
      }
      if (memo) {
        for (size_t id : ev->ComputedStale().subspan(preloaded)) {
          if (item_only[id]) memo->docs.emplace_back(static_cast<int>(id), ev->CachedDocument(id));
        }
      }
      out.emplace_back(std::move(v));
    }
    return out;
  }

  std::vector<std::string> RulePaths() const override {
    std::vector<std::string> out;
    std::set<std::string> seen;
    for (const auto& m : c_->modules) {
      for (const auto& r : m->rules) {
        std::string p = "data";
        for (const auto& s : m->package) p += "." + s;
        for (size_t i = 0; i < r->ground_prefix; ++i) {
          const Value& k = r->ref[i]->value;
          p += k.is_string() ? "." + k.str() : "[" + k.ToJson() + "]";
        }
        if (seen.insert(p).second) out.push_back(p);
      }
    }
    return out;
  }

 private:
  static void ItemKeys(std::span<const Value> items, std::vector<std::string>& varying,
                       std::vector<std::string>& common) {
    std::vector<std::pair<Value, size_t>> seen;  // key, number of items that have it
    size_t objects = 0;
    for (const Value& item : items) {
      if (!item.is_object()) continue;
      ++objects;
      for (const auto& member : item.object()) {
        const Value& k = member.first;
        auto it =
            std::find_if(seen.begin(), seen.end(), [&](const auto& e) { return e.first == k; });
        if (it == seen.end()) {
          seen.emplace_back(k, 1);
        } else {
          ++it->second;
        }
      }
    }
    for (const auto& [k, n] : seen) {
      std::string key = k.is_string() ? k.str() : k.ToJson();
      if (n == objects && k.is_string()) common.push_back(key);
      varying.push_back(std::move(key));
    }
  }

  std::shared_ptr<CompiledPolicy> c_;

  // What a batch learnt about its items, for the next batch of the same items (the gateway
  // keeps a catalog's items between lists, in the catalog's order): per position, the documents
  // of the nodes that depend on the item alone (see EvalPathBatch). An entry is used only for
  // the object it was made for: same address, and its weak reference has not expired (the memo
  // does not keep items alive). The policy and its data are fixed for this object (a reload
  // compiles a new one), so nothing else invalidates.
  struct ItemMemo {
    const Object* object = nullptr;
    std::weak_ptr<const void> item;
    bool strict = false;  // EvalOptions::strict_builtin_errors it was computed with
    std::vector<std::pair<int, std::optional<Value>>> docs;
  };
  // One per list the policy is asked to filter (tools, prompts, resources): found by its first
  // item and its size; the least recently used is reused for another list.
  struct BatchMemo {
    const Object* first = nullptr;
    std::weak_ptr<const void> first_item;
    uint64_t used = 0;
    std::vector<ItemMemo> items;
  };
  static constexpr size_t kBatchMemos = 8;
  static constexpr size_t kMaxMemoItems = 16384;  // longer lists go without

  // The memo of this list; nullptr the first time it is seen (a list filtered once, such as the
  // first after a catalog change, does not pay for filling a memo nobody may read).
  BatchMemo* MemoFor(std::span<const Value> items) const {
    const Value& first = items.front();
    const Object* key = first.is_object() ? &first.object() : nullptr;
    auto seen = std::find_if(batch_memos_.begin(), batch_memos_.end(), [&](const BatchMemo& m) {
      return m.first == key && m.items.size() == items.size() && !m.first_item.expired();
    });
    if (seen != batch_memos_.end()) {
      seen->used = ++memo_clock_;
      return &*seen;  // entries are checked item by item
    }
    // A new list takes the slot of a list nobody holds any more (a changed catalog), else a new
    // slot, else the least recently used one.
    auto gone = std::find_if(batch_memos_.begin(), batch_memos_.end(),
                             [](const BatchMemo& m) { return m.first_item.expired(); });
    BatchMemo* pick = nullptr;
    if (gone != batch_memos_.end()) {
      pick = &*gone;
    } else if (batch_memos_.size() < kBatchMemos) {
      pick = &batch_memos_.emplace_back();
    } else {
      pick = &*std::min_element(
          batch_memos_.begin(), batch_memos_.end(),
          [](const BatchMemo& a, const BatchMemo& b) { return a.used < b.used; });
    }
    pick->used = ++memo_clock_;
    pick->first = key;
    pick->first_item = first.Weak();
    pick->items.clear();
    pick->items.resize(items.size());
    return nullptr;
  }

  mutable std::mutex memo_mu_;
  mutable std::vector<BatchMemo> batch_memos_;
  mutable uint64_t memo_clock_ = 0;
};

}  // namespace

std::string_view ErrorCodeName(int code) {
  switch (code) {
    case kTypeError:
      return "eval_type_error";
    case kBuiltinError:
      return "eval_builtin_error";
    case kConflictError:
      return "eval_conflict_error";
    case kParseError:
      return "rego_parse_error";
    case kCompileError:
      return "rego_compile_error";
    case kRecursionError:
      return "rego_recursion_error";
    default:
      return "internal_error";
  }
}

Result<std::shared_ptr<const Policy>> Policy::Compile(const std::vector<ModuleSource>& modules,
                                                      const Value& data) {
  auto c = CompileModules(modules, data);
  if (!c) return c.error();
  return std::shared_ptr<const Policy>(std::make_shared<PolicyImpl>(std::move(*c)));
}

}  // namespace mcpgw::rego
