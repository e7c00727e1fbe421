// Collection built-ins: array.*, set intersection/union, object.*, json.filter / json.remove /
// json.patch and graph.reachable / graph.reachable_paths.
//
// `walk` and the membership helpers internal.member_2/3 are relations handled by the evaluator.
#include <algorithm>
#include <charconv>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "rego/builtins.h"
#include "rego/builtins_util.h"

namespace mcpgw::rego {
namespace {

using Args = std::span<const Value>;

// ---------------------------------------------------------------------------------------------
// array.*

Result<Value> ArrayConcat(Args args) {
  if (auto st = ExpectKind("array.concat", 1, args[0], Kind::kArray); !st) return st.error();
  if (auto st = ExpectKind("array.concat", 2, args[1], Kind::kArray); !st) return st.error();
  Array out;
  out.reserve(args[0].size() + args[1].size());
  out.insert(out.end(), args[0].array().begin(), args[0].array().end());
  out.insert(out.end(), args[1].array().begin(), args[1].array().end());
  return Value::FromArray(std::move(out));
}

Result<Value> ArraySlice(Args args) {
  if (auto st = ExpectKind("array.slice", 1, args[0], Kind::kArray); !st) return st.error();
  auto start = IntOperand("array.slice", 2, args[1]);
  if (!start) return start.error();
  auto stop = IntOperand("array.slice", 3, args[2]);
  if (!stop) return stop.error();
  const Array& a = args[0].array();
  auto len = static_cast<int64_t>(a.size());
  int64_t hi = std::clamp<int64_t>(*stop, 0, len);
  int64_t lo = std::clamp<int64_t>(*start, 0, hi);
  return Value::FromArray(Array(a.begin() + lo, a.begin() + hi));
}

Result<Value> ArrayReverse(Args args) {
  if (auto st = ExpectKind("array.reverse", 1, args[0], Kind::kArray); !st) return st.error();
  return Value::FromArray(Array(args[0].array().rbegin(), args[0].array().rend()));
}

// One level: array elements that are arrays are spliced in.
Result<Value> ArrayFlatten(Args args) {
  if (auto st = ExpectKind("array.flatten", 1, args[0], Kind::kArray); !st) return st.error();
  Array out;
  for (const auto& e : args[0].array()) {
    if (e.is_array()) {
      out.insert(out.end(), e.array().begin(), e.array().end());
    } else {
      out.push_back(e);
    }
  }
  return Value::FromArray(std::move(out));
}

// ---------------------------------------------------------------------------------------------
// intersection / union of a set of sets

Result<Value> SetOfSets(std::string_view name, const Value& s, bool intersect) {
  if (auto st = ExpectKind(name, 1, s, Kind::kSet); !st) return st.error();
  for (const auto& e : s.set()) {
    if (!e.is_set()) return OperandElementError(name, 1, s, "set", e);
  }
  if (s.set().empty()) return Value::FromSet({});
  if (!intersect) {
    Set out;
    for (const auto& e : s.set()) out.insert(e.set().begin(), e.set().end());
    return Value::FromSet(std::move(out));
  }
  Set out = s.set().begin()->set();
  for (const auto& e : s.set()) {
    Set next;
    for (const auto& x : out) {
      if (e.set().contains(x)) next.insert(next.end(), x);
    }
    out = std::move(next);
  }
  return Value::FromSet(std::move(out));
}

// ---------------------------------------------------------------------------------------------
// object.*

// Keys given as an array, a set or an object's keys (object.remove / object.filter).
Result<Set> KeySet(std::string_view name, const Value& keys) {
  Set out;
  switch (keys.kind()) {
    case Kind::kArray:
      out.insert(keys.array().begin(), keys.array().end());
      break;
    case Kind::kSet:
      out = keys.set();
      break;
    case Kind::kObject:
      for (const auto& [k, v] : keys.object()) out.insert(out.end(), k);
      break;
    default:
      return OperandTypeError(name, 2, "one of {object, set, array}", keys);
  }
  return out;
}

Result<Value> ObjectGet(Args args) {
  if (auto st = ExpectKind("object.get", 1, args[0], Kind::kObject); !st) return st.error();
  const Value& key = args[1];
  if (!key.is_array()) {
    const Value* v = args[0].Get(key);
    return v != nullptr ? *v : args[2];
  }
  const Value* cur = &args[0];
  for (const auto& seg : key.array()) {
    cur = cur->Get(seg);  // objects by key, arrays by index, sets by membership
    if (cur == nullptr) return args[2];
  }
  return *cur;
}

Result<Value> ObjectKeys(Args args) {
  if (auto st = ExpectKind("object.keys", 1, args[0], Kind::kObject); !st) return st.error();
  Set out;
  for (const auto& [k, v] : args[0].object()) out.insert(out.end(), k);
  return Value::FromSet(std::move(out));
}

Result<Value> ObjectRemove(Args args) {
  if (auto st = ExpectKind("object.remove", 1, args[0], Kind::kObject); !st) return st.error();
  auto keys = KeySet("object.remove", args[1]);
  if (!keys) return keys.error();
  Object out;
  for (const auto& [k, v] : args[0].object()) {
    if (!keys->contains(k)) out.emplace_hint(out.end(), k, v);
  }
  return Value::FromObject(std::move(out));
}

Result<Value> ObjectFilter(Args args) {
  if (auto st = ExpectKind("object.filter", 1, args[0], Kind::kObject); !st) return st.error();
  auto keys = KeySet("object.filter", args[1]);
  if (!keys) return keys.error();
  Object out;
  for (const auto& [k, v] : args[0].object()) {
    if (keys->contains(k)) out.emplace_hint(out.end(), k, v);
  }
  return Value::FromObject(std::move(out));
}

// Recursive merge; on a conflict the right-hand value wins unless both values are objects.
Value MergeObjects(const Value& a, const Value& b) {
  Object out = a.object();
  for (const auto& [k, v] : b.object()) {
    auto it = out.find(k);
    if (it == out.end()) {
      out.emplace(k, v);
    } else if (it->second.is_object() && v.is_object()) {
      it->second = MergeObjects(it->second, v);
    } else {
      it->second = v;
    }
  }
  return Value::FromObject(std::move(out));
}

Result<Value> ObjectUnion(Args args) {
  if (auto st = ExpectKind("object.union", 1, args[0], Kind::kObject); !st) return st.error();
  if (auto st = ExpectKind("object.union", 2, args[1], Kind::kObject); !st) return st.error();
  return MergeObjects(args[0], args[1]);
}

Result<Value> ObjectUnionN(Args args) {
  if (auto st = ExpectKind("object.union_n", 1, args[0], Kind::kArray); !st) return st.error();
  for (const auto& e : args[0].array()) {
    if (!e.is_object()) return OperandElementError("object.union_n", 1, args[0], "object", e);
  }
  Value acc = Value::EmptyObject();
  for (const auto& e : args[0].array()) acc = MergeObjects(acc, e);
  return acc;
}

bool SetSubset(const Value& super, const Value& sub) {
  return std::all_of(sub.set().begin(), sub.set().end(),
                     [&](const Value& e) { return super.set().contains(e); });
}

// `sub` occurs contiguously, in order, within `super`.
bool ArraySubset(const Value& super, const Value& sub) {
  const Array& a = super.array();
  const Array& b = sub.array();
  return std::search(a.begin(), a.end(), b.begin(), b.end()) != a.end() || b.empty();
}

bool ObjectSubset(const Value& super, const Value& sub) {
  for (const auto& [k, sv] : sub.object()) {
    const Value* pv = super.Get(k);
    if (pv == nullptr) return false;
    if (*pv == sv) continue;
    if (pv->is_object() && sv.is_object()) {
      if (!ObjectSubset(*pv, sv)) return false;
    } else if (pv->is_set() && sv.is_set()) {
      if (!SetSubset(*pv, sv)) return false;
    } else if (pv->is_array() && sv.is_array()) {
      if (!ArraySubset(*pv, sv)) return false;
    } else {
      return false;
    }
  }
  return true;
}

Result<Value> ObjectSubsetFn(Args args) {
  const Value& super = args[0];
  const Value& sub = args[1];
  if (super.is_object() && sub.is_object()) return Value::Bool(ObjectSubset(super, sub));
  if (super.is_set() && sub.is_set()) return Value::Bool(SetSubset(super, sub));
  if (super.is_array() && sub.is_array()) return Value::Bool(ArraySubset(super, sub));
  if (super.is_array() && sub.is_set()) {
    Set elems(super.array().begin(), super.array().end());
    return Value::Bool(std::all_of(sub.set().begin(), sub.set().end(),
                                   [&](const Value& e) { return elems.contains(e); }));
  }
  return MakeError(
      "object.subset: both arguments object.subset must be of the same type or array "
      "and set",
      kTypeError);
}

// ---------------------------------------------------------------------------------------------
// JSON paths (json.filter, json.remove, json.patch)

using Path = std::vector<Value>;

// Longest path json.filter / json.remove accept (their path trees are walked recursively).
constexpr size_t kMaxPathSegments = 1000;

// "a/b/c" (leading slashes ignored, ~1 -> "/", ~0 -> "~"; "" is the root) or an array of
// segments.
Result<Path> ParsePath(std::string_view name, const Value& p) {
  Path out;
  if (p.is_array()) return Path(p.array().begin(), p.array().end());
  if (!p.is_string()) {
    return OperandError(name, 2,
                        "must be one of {set, array} containing string paths or array of path "
                        "segments but got " +
                            std::string(p.TypeName()));
  }
  std::string_view s = p.str();
  if (s.empty()) return out;
  s.remove_prefix(std::min(s.find_first_not_of('/'), s.size()));
  while (true) {
    size_t slash = s.find('/');
    std::string_view part = s.substr(0, slash);
    std::string seg;
    for (size_t i = 0; i < part.size(); ++i) {
      if (part[i] == '~' && i + 1 < part.size() && (part[i + 1] == '1' || part[i + 1] == '0')) {
        seg.push_back(part[i + 1] == '1' ? '/' : '~');
        ++i;
      } else {
        seg.push_back(part[i]);
      }
    }
    out.push_back(Value::String(std::move(seg)));
    if (slash == std::string_view::npos) break;
    s.remove_prefix(slash + 1);
  }
  return out;
}

Result<std::vector<Path>> ParsePaths(std::string_view name, const Value& paths) {
  if (!paths.is_array() && !paths.is_set()) {
    return OperandTypeError(name, 2, "one of {set, array}", paths);
  }
  std::vector<Path> out;
  const auto add = [&](const Value& p) -> Status {
    auto path = ParsePath(name, p);
    if (!path) return path.error();
    if (path->size() > kMaxPathSegments) {
      return BuiltinError(name,
                          "path with more than " + std::to_string(kMaxPathSegments) + " segments");
    }
    out.push_back(std::move(*path));
    return {};
  };
  if (paths.is_array()) {
    for (const auto& p : paths.array()) {
      if (auto st = add(p); !st) return st.error();
    }
  } else {
    for (const auto& p : paths.set()) {
      if (auto st = add(p); !st) return st.error();
    }
  }
  return out;
}

// The paths as a tree of objects whose leaves are null; a path that is a prefix of another wins.
struct PathNode {
  bool leaf = false;
  std::map<Value, std::unique_ptr<PathNode>, ValueLess> children;
};

Value RenderPathTree(const PathNode& n) {
  if (n.leaf) return Value::Null();
  Object o;
  for (const auto& [k, child] : n.children) o.emplace_hint(o.end(), k, RenderPathTree(*child));
  return Value::FromObject(std::move(o));
}

Value PathTree(const std::vector<Path>& paths) {
  PathNode root;
  for (const auto& path : paths) {
    if (path.empty()) continue;
    PathNode* node = &root;
    for (const auto& seg : path) {
      if (node->leaf) break;
      auto& child = node->children[seg];
      if (!child) child = std::make_unique<PathNode>();
      node = child.get();
    }
    if (!node->leaf) {
      node->leaf = true;
      node->children.clear();
    }
  }
  return RenderPathTree(root);
}

// Array elements are addressed in a path tree by their decimal index as a string.
const Value* TreeChildForIndex(const Value& tree, size_t i) {
  return tree.Get(std::string_view(std::to_string(i)));
}

// Keeps the parts of `v` selected by `tree` (null = keep everything below).
Value FilterByTree(const Value& v, const Value& tree) {
  if (tree.is_null() || !tree.is_object()) return v;
  switch (v.kind()) {
    case Kind::kObject: {
      Object out;
      for (const auto& [k, sub] : tree.object()) {
        if (const Value* e = v.Get(k)) out.emplace(k, FilterByTree(*e, sub));
      }
      return Value::FromObject(std::move(out));
    }
    case Kind::kArray: {
      Array out;
      for (size_t i = 0; i < v.array().size(); ++i) {
        if (const Value* sub = TreeChildForIndex(tree, i)) {
          out.push_back(FilterByTree(v.array()[i], *sub));
        }
      }
      return Value::FromArray(std::move(out));
    }
    case Kind::kSet: {
      Set out;
      for (const auto& e : v.set()) {
        if (const Value* sub = tree.Get(e)) out.insert(FilterByTree(e, *sub));
      }
      return Value::FromSet(std::move(out));
    }
    default:
      return v;
  }
}

// Removes the parts of `v` selected by `tree`; nullopt when `v` itself is removed.
std::optional<Value> RemoveByTree(const Value& v, const Value* tree) {
  if (tree == nullptr) return v;
  if (tree->is_null()) return std::nullopt;
  if (!tree->is_object()) return v;
  switch (v.kind()) {
    case Kind::kObject: {
      Object out;
      for (const auto& [k, e] : v.object()) {
        if (auto kept = RemoveByTree(e, tree->Get(k))) out.emplace_hint(out.end(), k, *kept);
      }
      return Value::FromObject(std::move(out));
    }
    case Kind::kArray: {
      Array out;
      for (size_t i = 0; i < v.array().size(); ++i) {
        if (auto kept = RemoveByTree(v.array()[i], TreeChildForIndex(*tree, i))) {
          out.push_back(*kept);
        }
      }
      return Value::FromArray(std::move(out));
    }
    case Kind::kSet: {
      Set out;
      for (const auto& e : v.set()) {
        if (auto kept = RemoveByTree(e, tree->Get(e))) out.insert(*kept);
      }
      return Value::FromSet(std::move(out));
    }
    default:
      return v;
  }
}

Result<Value> JsonFilter(Args args) {
  if (auto st = ExpectKind("json.filter", 1, args[0], Kind::kObject); !st) return st.error();
  auto paths = ParsePaths("json.filter", args[1]);
  if (!paths) return paths.error();
  Value tree = PathTree(*paths);
  return FilterByTree(args[0], tree);
}

Result<Value> JsonRemove(Args args) {
  if (auto st = ExpectKind("json.remove", 1, args[0], Kind::kObject); !st) return st.error();
  auto paths = ParsePaths("json.remove", args[1]);
  if (!paths) return paths.error();
  Value tree = PathTree(*paths);
  auto kept = RemoveByTree(args[0], &tree);
  if (!kept) return Undefined();
  return *kept;
}

// json.patch (RFC 6902 on Rego values; a set element is addressed by its own value). Any
// failure while applying makes the result undefined, as in OPA.

// An array position from a path segment: an integer number, or a decimal string without leading
// zeros; "-" means the end (only valid for add).
std::optional<int64_t> ArrayIndex(const Value& seg, size_t len) {
  if (seg.is_int()) return seg.as_int();
  if (!seg.is_string()) return std::nullopt;
  std::string_view s = seg.str();
  if (s == "-") return static_cast<int64_t>(len);
  if (s.size() > 1 && s[0] == '0') return std::nullopt;
  int64_t i = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), i);
  if (ec != std::errc() || ptr != s.data() + s.size() || s.empty()) return std::nullopt;
  return i;
}

enum class PatchOp { kAdd, kRemove };

// Applies add (insert / overwrite `value`) or remove at `path[pos..]` below `doc`; nullopt when
// the path does not exist or the operation is not possible.
std::optional<Value> Edit(const Value& doc, const Path& path, size_t pos, PatchOp op,
                          const Value& value) {
  const Value& seg = path[pos];
  bool last = pos + 1 == path.size();
  switch (doc.kind()) {
    case Kind::kObject: {
      Object out = doc.object();
      auto it = out.find(seg);
      if (last) {
        if (op == PatchOp::kAdd) {
          out.insert_or_assign(seg, value);
        } else {
          if (it == out.end()) return std::nullopt;
          out.erase(it);
        }
        return Value::FromObject(std::move(out));
      }
      if (it == out.end()) return std::nullopt;
      auto child = Edit(it->second, path, pos + 1, op, value);
      if (!child) return std::nullopt;
      it->second = std::move(*child);
      return Value::FromObject(std::move(out));
    }
    case Kind::kArray: {
      Array out = doc.array();
      auto idx = ArrayIndex(seg, out.size());
      if (!idx || *idx < 0) return std::nullopt;
      auto i = static_cast<size_t>(*idx);
      if (last && op == PatchOp::kAdd) {
        if (i > out.size()) return std::nullopt;
        out.insert(out.begin() + static_cast<std::ptrdiff_t>(i), value);
        return Value::FromArray(std::move(out));
      }
      if (i >= out.size()) return std::nullopt;
      if (last) {
        out.erase(out.begin() + static_cast<std::ptrdiff_t>(i));
        return Value::FromArray(std::move(out));
      }
      auto child = Edit(out[i], path, pos + 1, op, value);
      if (!child) return std::nullopt;
      out[i] = std::move(*child);
      return Value::FromArray(std::move(out));
    }
    case Kind::kSet: {
      Set out = doc.set();
      auto it = out.find(seg);
      if (last) {
        if (op == PatchOp::kAdd) {
          if (seg != value) return std::nullopt;
          out.insert(value);
        } else {
          if (it == out.end()) return std::nullopt;
          out.erase(it);
        }
        return Value::FromSet(std::move(out));
      }
      if (it == out.end()) return std::nullopt;
      auto child = Edit(*it, path, pos + 1, op, value);
      if (!child) return std::nullopt;
      out.erase(it);
      out.insert(std::move(*child));
      return Value::FromSet(std::move(out));
    }
    default:
      return std::nullopt;
  }
}

std::optional<Value> PatchAdd(const Value& doc, const Path& path, const Value& value) {
  if (path.empty()) return value;
  return Edit(doc, path, 0, PatchOp::kAdd, value);
}

std::optional<Value> PatchRemove(const Value& doc, const Path& path) {
  if (path.empty()) return std::nullopt;  // removing the whole document leaves nothing
  return Edit(doc, path, 0, PatchOp::kRemove, Value::Null());
}

std::optional<Value> PatchGet(const Value& doc, const Path& path) {
  const Value* cur = &doc;
  for (const auto& seg : path) {
    if (cur->is_array()) {
      auto idx = ArrayIndex(seg, cur->size());
      if (!idx || *idx < 0 || static_cast<size_t>(*idx) >= cur->size()) return std::nullopt;
      cur = &cur->array()[static_cast<size_t>(*idx)];
    } else {
      cur = cur->Get(seg);
      if (cur == nullptr) return std::nullopt;
    }
  }
  return *cur;
}

std::optional<Value> ApplyPatch(const Value& doc, const Value& patch) {
  if (!patch.is_object()) return std::nullopt;
  const Value* op = patch.Get("op");
  const Value* path_v = patch.Get("path");
  if (op == nullptr || !op->is_string() || path_v == nullptr) return std::nullopt;
  auto path = ParsePath("json.patch", *path_v);
  if (!path) return std::nullopt;
  const std::string& name = op->str();
  const Value* value = patch.Get("value");
  const Value* from_v = patch.Get("from");
  std::optional<Path> from;
  if (name == "move" || name == "copy") {
    if (from_v == nullptr) return std::nullopt;
    auto f = ParsePath("json.patch", *from_v);
    if (!f) return std::nullopt;
    from = std::move(*f);
  }
  if ((name == "add" || name == "replace" || name == "test") && value == nullptr) {
    return std::nullopt;
  }
  if (name == "add") return PatchAdd(doc, *path, *value);
  if (name == "remove") return PatchRemove(doc, *path);
  if (name == "replace") {
    if (path->empty()) return *value;
    auto removed = PatchRemove(doc, *path);
    if (!removed) return std::nullopt;
    return PatchAdd(*removed, *path, *value);
  }
  if (name == "move" || name == "copy") {
    auto chunk = PatchGet(doc, *from);
    if (!chunk) return std::nullopt;
    Value base = doc;
    if (name == "move") {
      auto removed = PatchRemove(doc, *from);
      if (!removed) return std::nullopt;
      base = std::move(*removed);
    }
    return PatchAdd(base, *path, *chunk);
  }
  if (name == "test") {
    auto found = PatchGet(doc, *path);
    if (!found || *found != *value) return std::nullopt;
    return doc;
  }
  return std::nullopt;  // unknown op
}

Result<Value> JsonPatch(Args args) {
  if (auto st = ExpectKind("json.patch", 2, args[1], Kind::kArray); !st) return st.error();
  Value doc = args[0];
  for (const auto& patch : args[1].array()) {
    auto next = ApplyPatch(doc, patch);
    if (!next) return Undefined();
    doc = std::move(*next);
  }
  return doc;
}

// ---------------------------------------------------------------------------------------------
// graph.reachable / graph.reachable_paths

// Neighbours listed as an array or a set; anything else has none.
template <class Fn>
void ForEachVertex(const Value& c, Fn fn) {
  if (c.is_array()) {
    for (const auto& v : c.array()) fn(v);
  } else if (c.is_set()) {
    for (const auto& v : c.set()) fn(v);
  }
}

Status ExpectGraphArgs(std::string_view name, Args args) {
  if (auto st = ExpectKind(name, 1, args[0], Kind::kObject); !st) return st;
  if (!args[1].is_array() && !args[1].is_set()) {
    return OperandTypeError(name, 2, "one of {array, set}", args[1]);
  }
  return {};
}

// Every node reachable from the initial ones; only nodes that are keys of the graph count.
Result<Value> GraphReachable(Args args) {
  if (auto st = ExpectGraphArgs("graph.reachable", args); !st) return st.error();
  const Value& graph = args[0];
  std::deque<Value> queue;
  ForEachVertex(args[1], [&](const Value& v) { queue.push_back(v); });
  Set reached;
  while (!queue.empty()) {
    Value node = std::move(queue.front());
    queue.pop_front();
    const Value* edges = graph.Get(node);
    if (edges == nullptr || reached.contains(node)) continue;
    reached.insert(node);
    ForEachVertex(*edges, [&](const Value& n) {
      if (!reached.contains(n)) queue.push_back(n);
    });
  }
  return Value::FromSet(std::move(reached));
}

// Deepest path graph.reachable_paths follows (it recurses once per node on the path).
constexpr size_t kMaxGraphPathLength = 2000;

// Depth-first path builder. `seen` holds the nodes on the current path and, at each level, the
// neighbours already explored there; a neighbour in it ends the path (cycle or a suffix already
// covered). A neighbour that is not a key of the graph ends the path without being part of it.
// Every node undoes its own additions to `seen` before returning. False when too deep.
bool BuildPaths(const Value& graph, const Value& node, Array& path, Set& seen, Set& out) {
  const Value* edges = graph.Get(node);
  if (edges == nullptr) {
    if (!path.empty()) out.insert(Value::FromArray(path));
    return true;
  }
  if (path.size() >= kMaxGraphPathLength) return false;
  path.push_back(node);
  bool ok = true;
  if (edges->size() == 0 || !(edges->is_array() || edges->is_set())) {
    out.insert(Value::FromArray(path));
  } else {
    std::vector<Value> added;
    if (seen.insert(node).second) added.push_back(node);
    ForEachVertex(*edges, [&](const Value& next) {
      if (!ok) return;
      if (seen.contains(next)) {
        out.insert(Value::FromArray(path));
        return;
      }
      seen.insert(next);
      added.push_back(next);
      ok = BuildPaths(graph, next, path, seen, out);
    });
    for (const auto& v : added) seen.erase(v);
  }
  path.pop_back();
  return ok;
}

Result<Value> GraphReachablePaths(Args args) {
  if (auto st = ExpectGraphArgs("graph.reachable_paths", args); !st) return st.error();
  Set out;
  bool ok = true;
  ForEachVertex(args[1], [&](const Value& start) {
    Array path;
    Set seen;
    if (ok) ok = BuildPaths(args[0], start, path, seen, out);
  });
  if (!ok) {
    return BuiltinError("graph.reachable_paths",
                        "path longer than " + std::to_string(kMaxGraphPathLength) + " nodes");
  }
  return Value::FromSet(std::move(out));
}

// ---------------------------------------------------------------------------------------------

void Add(BuiltinRegistry& r, std::string name, int arity, Result<Value> (*fn)(Args)) {
  r.Add(std::move(name), arity, [fn](BuiltinContext&, Args args) { return fn(args); });
}

}  // namespace

void RegisterCollectionBuiltins(BuiltinRegistry& r) {
  Add(r, "array.concat", 2, ArrayConcat);
  Add(r, "array.slice", 3, ArraySlice);
  Add(r, "array.reverse", 1, ArrayReverse);
  Add(r, "array.flatten", 1, ArrayFlatten);

  Add(r, "intersection", 1, [](Args args) { return SetOfSets("intersection", args[0], true); });
  Add(r, "union", 1, [](Args args) { return SetOfSets("union", args[0], false); });

  Add(r, "object.get", 3, ObjectGet);
  Add(r, "object.keys", 1, ObjectKeys);
  Add(r, "object.remove", 2, ObjectRemove);
  Add(r, "object.filter", 2, ObjectFilter);
  Add(r, "object.union", 2, ObjectUnion);
  Add(r, "object.union_n", 1, ObjectUnionN);
  Add(r, "object.subset", 2, ObjectSubsetFn);

  Add(r, "json.filter", 2, JsonFilter);
  Add(r, "json.remove", 2, JsonRemove);
  Add(r, "json.patch", 2, JsonPatch);

  Add(r, "graph.reachable", 2, GraphReachable);
  Add(r, "graph.reachable_paths", 2, GraphReachablePaths);
}

}  // namespace mcpgw::rego
