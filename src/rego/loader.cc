#include "rego/loader.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <system_error>

namespace mcpgw::rego {
namespace {

namespace fs = std::filesystem;

enum class FileType { kRego, kJson, kYaml, kOther };

FileType TypeOf(const fs::path& p) {
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (ext == ".rego") return FileType::kRego;
  if (ext == ".json") return FileType::kJson;
  if (ext == ".yaml" || ext == ".yml") return FileType::kYaml;
  return FileType::kOther;
}

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return MakeError("open " + path + ": " + std::strerror(errno));
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return MakeError("read " + path + ": I/O error");
  return ss.str();
}

// ---- YAML -> Value (YAML 1.2 core schema for plain scalars, as JSON-compatible data) ----

Result<Value> PlainScalar(const std::string& s) {
  if (s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL") return Value::Null();
  if (s == "true" || s == "True" || s == "TRUE") return Value::True();
  if (s == "false" || s == "False" || s == "FALSE") return Value::False();
  // Integers: decimal, 0x hex, 0o octal.
  {
    std::string_view v = s;
    bool neg = false;
    if (!v.empty() && (v[0] == '-' || v[0] == '+')) {
      neg = v[0] == '-';
      v.remove_prefix(1);
    }
    int base = 10;
    if (v.size() > 2 && v[0] == '0' && (v[1] == 'x' || v[1] == 'o')) {
      base = v[1] == 'x' ? 16 : 8;
      v.remove_prefix(2);
      if (s[0] == '-' || s[0] == '+') v = {};  // signs are only allowed on decimal integers
    }
    if (!v.empty() && std::all_of(v.begin(), v.end(), [base](char c) {
          return base == 16 ? std::isxdigit(static_cast<unsigned char>(c)) != 0
                            : (c >= '0' && c < static_cast<char>('0' + base));
        })) {
      int64_t n = 0;
      auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), n, base);
      if (ec == std::errc() && ptr == v.data() + v.size()) return Value::Int(neg ? -n : n);
      if (base == 10) {  // too large for int64: a double, as JSON numbers are
        double d = 0;
        auto [p2, e2] = std::from_chars(s.data(), s.data() + s.size(), d);
        if (e2 == std::errc() && p2 == s.data() + s.size()) return Value::Double(d);
      }
    }
  }
  // Floats: [-+]? ( \. [0-9]+ | [0-9]+ ( \. [0-9]* )? ) ( [eE] [-+]? [0-9]+ )?
  {
    size_t i = 0;
    if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
    size_t digits = 0;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i, ++digits;
    if (i < s.size() && s[i] == '.') {
      ++i;
      while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i, ++digits;
    }
    bool ok = digits > 0;
    if (ok && i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
      ++i;
      if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
      size_t exp_digits = 0;
      while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i, ++exp_digits;
      ok = exp_digits > 0;
    }
    if (ok && i == s.size()) {
      std::string_view v = s;
      if (v[0] == '+') v.remove_prefix(1);
      double d = 0;
      auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), d);
      if (ec == std::errc() && ptr == v.data() + v.size() && std::isfinite(d)) {
        return Value::Double(d);
      }
      return MakeError("number " + s + " is out of range");
    }
  }
  std::string lower = s;
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (lower == ".inf" || lower == "+.inf" || lower == "-.inf" || lower == ".nan") {
    return MakeError("YAML value " + s + " cannot be represented in JSON");
  }
  return Value::String(s);
}

Result<Value> FromYaml(const YAML::Node& n, int depth) {
  if (depth > 1000) return MakeError("YAML document nested too deeply");
  switch (n.Type()) {
    case YAML::NodeType::Undefined:
    case YAML::NodeType::Null:
      return Value::Null();
    case YAML::NodeType::Scalar:
      // "!" is the tag of quoted scalars: always strings. Explicit tags other than the core
      // ones are taken as strings too.
      if (n.Tag() == "?") return PlainScalar(n.Scalar());
      if (n.Tag() == "tag:yaml.org,2002:int" || n.Tag() == "tag:yaml.org,2002:float" ||
          n.Tag() == "tag:yaml.org,2002:bool" || n.Tag() == "tag:yaml.org,2002:null") {
        return PlainScalar(n.Scalar());
      }
      return Value::String(n.Scalar());
    case YAML::NodeType::Sequence: {
      Array a;
      a.reserve(n.size());
      for (const auto& e : n) {
        auto v = FromYaml(e, depth + 1);
        if (!v) return v;
        a.push_back(std::move(*v));
      }
      return Value::FromArray(std::move(a));
    }
    case YAML::NodeType::Map: {
      Object o;
      for (const auto& kv : n) {
        if (!kv.first.IsScalar()) return MakeError("YAML mapping keys must be scalars");
        // JSON object keys are strings: a key like 1 or true becomes "1" / "true".
        auto [it, inserted] = o.emplace(Value::String(kv.first.Scalar()), Value());
        if (!inserted) return MakeError("duplicate YAML mapping key " + kv.first.Scalar());
        auto v = FromYaml(kv.second, depth + 1);
        if (!v) return v;
        it->second = std::move(*v);
      }
      return Value::FromObject(std::move(o));
    }
  }
  return Value::Null();
}

// Parses a YAML file into a Value; nullopt for an empty document (which contributes nothing).
Result<std::optional<Value>> ParseYaml(const std::string& text) {
  try {
    std::vector<YAML::Node> docs = YAML::LoadAll(text);
    if (docs.empty()) return std::optional<Value>();
    if (docs.size() > 1) return MakeError("multiple YAML documents in one file are not supported");
    if (docs[0].IsNull()) return std::optional<Value>();
    auto v = FromYaml(docs[0], 0);
    if (!v) return v.error();
    return std::optional<Value>(std::move(*v));
  } catch (const YAML::Exception& e) {
    std::string where = e.mark.is_null() ? std::string()
                                         : std::to_string(e.mark.line + 1) + ":" +
                                               std::to_string(e.mark.column + 1) + ": ";
    return MakeError(where + "YAML syntax error: " + e.msg);
  } catch (const std::exception& e) {
    return MakeError(std::string("YAML error: ") + e.what());
  }
}

// ---- merging ----

std::string DataPath(const std::vector<std::string>& path) {
  std::string out = "data";
  for (const auto& seg : path) out += "." + seg;
  return out;
}

std::string PathKey(const std::vector<std::string>& path) {
  std::string out;
  for (const auto& seg : path) {
    out += seg;
    out.push_back('\0');
  }
  return out;
}

class Merger {
 public:
  Status Merge(const std::vector<std::string>& prefix, const Value& doc, const std::string& file) {
    auto merged = MergeWrapped(root_, doc, prefix, file);
    if (!merged) return merged.error();
    root_ = std::move(*merged);
    return {};
  }
  Value Take() { return std::move(root_); }

 private:
  // Which file set (or created) the value at a path; the key is PathKey(path).
  std::string OwnerAtOrBelow(const std::vector<std::string>& path) const {
    std::string key = PathKey(path);
    auto it = owners_.lower_bound(key);
    if (it != owners_.end() && it->first.compare(0, key.size(), key) == 0) return it->second;
    // Above: a leaf that was set on a prefix of `path`.
    for (size_t n = path.size(); n > 0; --n) {
      std::vector<std::string> up(path.begin(), path.begin() + static_cast<ptrdiff_t>(n - 1));
      auto f = owners_.find(PathKey(up));
      if (f != owners_.end()) return f->second;
    }
    return "?";
  }

  void Own(const std::vector<std::string>& path, const Value& v, const std::string& file) {
    if (v.is_object() && v.size() > 0) {
      std::vector<std::string> sub = path;
      for (const auto& [k, e] : v.object()) {
        sub.push_back(k.is_string() ? k.str() : k.ToJson());
        Own(sub, e, file);
        sub.pop_back();
      }
      return;
    }
    owners_.emplace(PathKey(path), file);
  }

  Result<Value> MergeAt(const Value& into, const Value& doc, std::vector<std::string>& path,
                        const std::string& file) {
    if (into.is_object() && doc.is_object()) {
      Object out = into.object();
      for (const auto& [k, v] : doc.object()) {
        path.push_back(k.is_string() ? k.str() : k.ToJson());
        auto it = out.find(k);
        if (it == out.end()) {
          Own(path, v, file);
          out.emplace(k, v);
        } else {
          auto m = MergeAt(it->second, v, path, file);
          if (!m) return m;
          it->second = std::move(*m);
        }
        path.pop_back();
      }
      return Value::FromObject(std::move(out));
    }
    if (into == doc) return into;
    return MakeError(OwnerAtOrBelow(path) + " and " + file + ": conflicting values for " +
                     DataPath(path) + " (merge error)");
  }

  // Merging at a prefix path inside the (object) root: wraps the document in objects.
  Result<Value> MergeWrapped(const Value& root, const Value& doc,
                             const std::vector<std::string>& prefix, const std::string& file) {
    Value wrapped = doc;
    for (size_t i = prefix.size(); i > 0; --i) {
      Object o;
      o.emplace(Value::String(prefix[i - 1]), std::move(wrapped));
      wrapped = Value::FromObject(std::move(o));
    }
    std::vector<std::string> path;
    return MergeAt(root, wrapped, path, file);
  }

  Value root_ = Value::EmptyObject();
  std::map<std::string, std::string> owners_;
};

// ---- walking ----

struct Walker {
  LoadedFiles out;
  Merger merger;
  std::set<fs::path> visiting;  // canonical directories on the current walk, to break cycles
  std::set<fs::path> seen;      // canonical paths of the files loaded so far

  Status LoadFile(const fs::path& file, const std::vector<std::string>& prefix, bool given) {
    std::string name = file.string();
    FileType type = TypeOf(file);
    if (type == FileType::kOther) {
      if (!given) return {};
      return MakeError(name + ": unsupported file type (want .rego, .json, .yaml or .yml)");
    }
    // The same file reached twice (`-d dir -d dir/p.rego`) is loaded once, as OPA does.
    std::error_code ec;
    fs::path canonical = fs::canonical(file, ec);
    if (!seen.insert(ec ? file : canonical).second) return {};
    auto text = ReadFile(name);
    if (!text) return text.error();
    out.files.push_back(name);
    if (type == FileType::kRego) {
      out.modules.push_back(ModuleSource{name, std::move(*text)});
      return {};
    }
    std::optional<Value> doc;
    if (type == FileType::kJson) {
      auto v = Value::ParseJson(*text);
      if (!v) return MakeError(name + ": " + v.error().message);
      doc = std::move(*v);
    } else {
      auto v = ParseYaml(*text);
      if (!v) return MakeError(name + ": " + v.error().message);
      doc = std::move(*v);
    }
    if (!doc) return {};
    if (prefix.empty() && !doc->is_object()) {
      return MakeError(name + ": a data file at the root of data must hold an object, not " +
                       std::string(doc->TypeName()));
    }
    return merger.Merge(prefix, *doc, name);
  }

  Status WalkDir(const fs::path& dir, std::vector<std::string>& prefix) {
    std::error_code ec;
    fs::path canonical = fs::canonical(dir, ec);
    if (ec) return MakeError(dir.string() + ": " + ec.message());
    if (!visiting.insert(canonical).second) return {};  // a symlink loop
    std::vector<fs::path> entries;
    fs::directory_iterator it(dir, ec);
    if (ec) return MakeError(dir.string() + ": " + ec.message());
    for (; it != fs::directory_iterator(); it.increment(ec)) {
      if (ec) return MakeError(dir.string() + ": " + ec.message());
      std::string base = it->path().filename().string();
      if (base.empty() || base[0] == '.') continue;
      entries.push_back(it->path());
    }
    if (ec) return MakeError(dir.string() + ": " + ec.message());
    std::sort(entries.begin(), entries.end(),
              [](const fs::path& a, const fs::path& b) { return a.filename() < b.filename(); });
    for (const auto& e : entries) {
      std::error_code sec;
      if (fs::is_directory(e, sec)) {
        prefix.push_back(e.filename().string());
        Status st = WalkDir(e, prefix);
        prefix.pop_back();
        if (!st) return st;
      } else if (fs::is_regular_file(e, sec)) {
        Status st = LoadFile(e, prefix, false);
        if (!st) return st;
      }
    }
    visiting.erase(canonical);
    return {};
  }
};

}  // namespace

Result<LoadedFiles> LoadPaths(const std::vector<std::string>& paths) {
  Walker w;
  for (const auto& p : paths) {
    std::error_code ec;
    fs::path path(p);
    fs::file_status st = fs::status(path, ec);
    if (ec || !fs::exists(st)) {
      return MakeError("stat " + p + ": " + (ec ? ec.message() : "no such file or directory"));
    }
    if (fs::is_directory(st)) {
      std::vector<std::string> prefix;
      Status s = w.WalkDir(path, prefix);
      if (!s) return s.error();
    } else {
      Status s = w.LoadFile(path, {}, true);
      if (!s) return s.error();
    }
  }
  w.out.data = w.merger.Take();
  return std::move(w.out);
}

}  // namespace mcpgw::rego
