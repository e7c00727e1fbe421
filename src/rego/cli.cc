#include "rego/cli.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <optional>
#include <sstream>
#include <string_view>

#include "rego/builtins_util.h"
#include "rego/engine.h"
#include "rego/loader.h"
#include "rego/value.h"

namespace mcpgw::rego {
namespace {

// ---- JSON output the way OPA's CLI (Go's encoding/json, two-space indent) writes it ----

void Indent(std::string& out, int depth) {
  out.push_back('\n');
  out.append(static_cast<size_t>(depth) * 2, ' ');
}

// A JSON document with fields in a fixed order (Go struct order), values pretty-printed.
class JsonWriter {
 public:
  void Open(char c) {
    Separate();
    out_.push_back(c);
    first_.push_back(true);
  }
  void Close(char c) {
    bool empty = first_.back();
    first_.pop_back();
    if (!empty) Indent(out_, static_cast<int>(first_.size()));
    out_.push_back(c);
  }
  void Key(std::string_view k) {
    Separate();
    AppendGoJsonQuoted(out_, k);
    out_ += ": ";
    after_key_ = true;
  }
  void Val(const Value& v) {
    Separate();
    AppendGoJsonIndent(out_, v, "  ", static_cast<int>(first_.size()));
  }
  std::string Done() { return out_ + "\n"; }

 private:
  void Separate() {
    if (after_key_) {
      after_key_ = false;
      return;
    }
    if (first_.empty()) return;
    if (!first_.back()) out_.push_back(',');
    first_.back() = false;
    Indent(out_, static_cast<int>(first_.size()));
  }

  std::string out_;
  std::vector<bool> first_;
  bool after_key_ = false;
};

// ---- errors ----

struct ParsedError {
  std::string message;
  std::string code;
  std::string file;
  int row = 0;
  int col = 0;
  bool has_location = false;
};

bool ParseInt(std::string_view s, int* out) {
  if (s.empty() || s.size() > 9) return false;
  int n = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    n = n * 10 + (c - '0');
  }
  *out = n;
  return true;
}

// Splits the engine's "file:row:col: code: message" into OPA's error fields. The engine's own
// code (Error::code) names the class when the text does not.
ParsedError SplitError(const Error& e) {
  ParsedError p;
  std::string_view msg = e.message;
  // Location: the first "<file>:<row>:<col>: " (or "<file>:<row>: ").
  for (size_t pos = msg.find(':'); pos != std::string_view::npos; pos = msg.find(':', pos + 1)) {
    size_t end = msg.find(": ", pos + 1);
    if (end == std::string_view::npos) break;
    std::string_view nums = msg.substr(pos + 1, end - pos - 1);
    size_t colon = nums.find(':');
    int row = 0;
    int col = 0;
    bool ok = colon == std::string_view::npos
                  ? ParseInt(nums, &row)
                  : ParseInt(nums.substr(0, colon), &row) && ParseInt(nums.substr(colon + 1), &col);
    if (ok) {
      p.file = std::string(msg.substr(0, pos));
      if (p.file == "query") p.file.clear();
      p.row = row;
      p.col = col;
      p.has_location = true;
      msg.remove_prefix(end + 2);
      break;
    }
    if (msg.substr(pos, 2) == ": ") break;  // a plain "word: message" without a location
  }
  // Class: "<lowercase>_error: ".
  size_t sep = msg.find(": ");
  if (sep != std::string_view::npos && sep > 6 && msg.substr(sep - 6, 6) == "_error" &&
      std::all_of(msg.begin(), msg.begin() + static_cast<ptrdiff_t>(sep),
                  [](char c) { return (c >= 'a' && c <= 'z') || c == '_'; })) {
    p.code = std::string(msg.substr(0, sep));
    msg.remove_prefix(sep + 2);
  } else {
    p.code = std::string(ErrorCodeName(e.code));
  }
  p.message = std::string(msg);
  return p;
}

std::string ErrorJson(const Error& e) {
  ParsedError p = SplitError(e);
  JsonWriter w;
  w.Open('{');
  w.Key("errors");
  w.Open('[');
  w.Open('{');
  w.Key("message");
  w.Val(Value::String(p.message));
  if (!p.code.empty()) {
    w.Key("code");
    w.Val(Value::String(p.code));
  }
  if (p.has_location) {
    w.Key("location");
    w.Open('{');
    w.Key("file");
    w.Val(Value::String(p.file));
    w.Key("row");
    w.Val(Value::Int(p.row));
    w.Key("col");
    w.Val(Value::Int(p.col));
    w.Close('}');
  }
  w.Close('}');
  w.Close(']');
  w.Close('}');
  return w.Done();
}

// ---- query text ----

struct ExprText {
  std::string text;
  int row = 1;
  int col = 1;
};

// Splits a query into its top-level expressions (separated by ';' or a newline outside brackets,
// strings and comments), with where each starts, for OPA's "text" and "location" fields.
std::vector<ExprText> SplitQuery(std::string_view q) {
  std::vector<ExprText> out;
  std::string cur;
  int row = 1;
  int col = 1;
  int start_row = 1;
  int start_col = 1;
  int depth = 0;
  auto flush = [&] {
    size_t b = cur.find_first_not_of(" \t\r\n");
    if (b != std::string::npos) {
      size_t e = cur.find_last_not_of(" \t\r\n");
      out.push_back({cur.substr(b, e - b + 1), start_row, start_col});
    }
    cur.clear();
  };
  for (size_t i = 0; i < q.size(); ++i) {
    char c = q[i];
    if (cur.find_first_not_of(" \t\r\n") == std::string::npos && c != ' ' && c != '\t' &&
        c != '\r' && c != '\n') {
      start_row = row;
      start_col = col;
    }
    auto advance = [&](char ch) {
      if (ch == '\n') {
        ++row;
        col = 1;
      } else {
        ++col;
      }
    };
    if (c == '"' || c == '`') {
      char quote = c;
      cur.push_back(c);
      advance(c);
      while (++i < q.size()) {
        cur.push_back(q[i]);
        advance(q[i]);
        if (quote == '"' && q[i] == '\\' && i + 1 < q.size()) {
          cur.push_back(q[++i]);
          advance(q[i]);
        } else if (q[i] == quote) {
          break;
        }
      }
      continue;
    }
    if (c == '#') {
      while (i < q.size() && q[i] != '\n') ++i, ++col;
      if (i < q.size()) --i;  // let the newline end the expression
      continue;
    }
    if (c == '(' || c == '[' || c == '{') ++depth;
    if ((c == ')' || c == ']' || c == '}') && depth > 0) --depth;
    if (depth == 0 && (c == ';' || c == '\n')) {
      flush();
      advance(c);
      continue;
    }
    cur.push_back(c);
    advance(c);
  }
  flush();
  return out;
}

Result<Value> LoadInput(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return MakeError("open " + path + ": no such file or unreadable");
  std::ostringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  auto json = Value::ParseJson(text);
  if (json) return json;
  if (path.ends_with(".yaml") || path.ends_with(".yml")) {
    // The loader's YAML conversion; it takes a mapping at the top (as data files must be).
    auto loaded = LoadPaths({path});
    if (!loaded) return loaded.error();
    return loaded->data;
  }
  return MakeError(path + ": " + json.error().message);
}

// Go's time.Duration.String(): "523ns", "12.5µs", "1.234567ms", "2.5s".
std::string FormatDuration(int64_t ns) {
  auto fmt = [](int64_t v, int64_t unit, const char* suffix) {
    int64_t whole = v / unit;
    int64_t frac = v % unit;
    std::string s = std::to_string(whole);
    if (frac != 0) {
      std::string f = std::to_string(frac);
      int width = 0;
      for (int64_t u = unit; u > 1; u /= 10) ++width;
      f = std::string(static_cast<size_t>(width) - f.size(), '0') + f;
      while (!f.empty() && f.back() == '0') f.pop_back();
      s += "." + f;
    }
    return s + suffix;
  };
  if (ns < 1000) return std::to_string(ns) + "ns";
  if (ns < 1000000) return fmt(ns, 1000, "µs");
  if (ns < 1000000000) return fmt(ns, 1000000, "ms");
  return fmt(ns, 1000000000, "s");
}

// The package a module declares ("a.b" for `package a.b`), from its text.
std::string PackageOf(const std::string& text) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    size_t b = line.find_first_not_of(" \t\r");
    if (b == std::string::npos || line[b] == '#') continue;
    if (line.compare(b, 8, "package ") != 0) return "";
    std::string pkg = line.substr(b + 8);
    size_t hash = pkg.find('#');
    if (hash != std::string::npos) pkg.resize(hash);
    pkg.erase(std::remove_if(pkg.begin(), pkg.end(),
                             [](unsigned char c) { return std::isspace(c) != 0; }),
              pkg.end());
    return pkg;
  }
  return "";
}

// Whether `text` has a line starting with rule `name` (followed by a non-identifier character).
bool DefinesRule(const std::string& text, const std::string& name) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.compare(0, name.size(), name) != 0) continue;
    if (line.size() == name.size()) return true;
    char c = line[name.size()];
    if (!(std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_')) return true;
  }
  return false;
}

}  // namespace

int RunPolicyTest(const PolicyTestOptions& opts, std::ostream& out, std::ostream& err) {
  if (opts.paths.empty()) {
    err << "policy test: at least one path is required\n";
    return 2;
  }
  auto loaded = LoadPaths(opts.paths);
  if (!loaded) {
    err << loaded.error().message << "\n";
    return 2;
  }
  std::vector<ModuleSource> modules = loaded->modules;
  auto policy = Policy::Compile(modules, loaded->data);
  if (!policy) {
    err << policy.error().message << "\n";
    return 2;
  }

  struct TestCase {
    std::string path;  // data.pkg.test_x
    std::string file;
    bool todo = false;
  };
  std::vector<TestCase> tests;
  for (const std::string& path : (*policy)->RulePaths()) {
    size_t dot = path.rfind('.');
    if (dot == std::string::npos) continue;
    std::string rule = path.substr(dot + 1);
    bool todo = rule.rfind("todo_test_", 0) == 0;
    if (!todo && rule.rfind("test_", 0) != 0) continue;
    std::string pkg = path.rfind("data.", 0) == 0 ? path.substr(5, dot - 5) : "";
    // The file that defines it, for OPA's per-file grouping.
    std::string file;
    for (const auto& m : loaded->modules) {
      if (PackageOf(m.text) != pkg) continue;
      if (file.empty()) file = m.filename;
      if (DefinesRule(m.text, rule)) {
        file = m.filename;
        break;
      }
    }
    tests.push_back({path, file, todo});
  }
  // RulePaths may repeat a path defined by several rules.
  std::sort(tests.begin(), tests.end(), [](const TestCase& a, const TestCase& b) {
    return a.file != b.file ? a.file < b.file : a.path < b.path;
  });
  tests.erase(std::unique(tests.begin(), tests.end(),
                          [](const TestCase& a, const TestCase& b) { return a.path == b.path; }),
              tests.end());
  if (tests.empty()) {
    out << "no tests found\n";
    return 0;
  }

  int pass = 0;
  int fail = 0;
  int errors = 0;
  int skipped = 0;
  std::string current_file;
  bool printed = false;
  for (const auto& t : tests) {
    std::string line;
    bool show = opts.verbose;
    if (t.todo) {
      ++skipped;
      line = t.path + ": SKIPPED";
    } else {
      auto start = std::chrono::steady_clock::now();
      auto rs = (*policy)->Query(t.path, nullptr, {});
      int64_t ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                       std::chrono::steady_clock::now() - start)
                       .count();
      std::string took = " (" + FormatDuration(ns) + ")";
      if (!rs) {
        ++errors;
        show = true;
        line = t.path + ": ERROR" + took + "\n  " + rs.error().message;
      } else if (rs->size() == 1 && rs->front().expressions.size() == 1 &&
                 rs->front().expressions[0] == Value::True()) {
        ++pass;
        line = t.path + ": PASS" + took;
      } else {
        ++fail;
        show = true;
        line = t.path + ": FAIL" + took;
      }
    }
    if (!show) continue;
    if (t.file != current_file || !printed) {
      if (printed) out << "\n";
      out << (t.file.empty() ? "(unknown file)" : t.file) << ":\n";
      current_file = t.file;
    }
    out << line << "\n";
    printed = true;
  }
  if (printed) out << std::string(80, '-') << "\n";
  size_t total = tests.size();
  if (pass > 0 || (fail == 0 && errors == 0)) {
    out << "PASS: " << pass << "/" << total << "\n";
  }
  if (fail > 0) out << "FAIL: " << fail << "/" << total << "\n";
  if (errors > 0) out << "ERROR: " << errors << "/" << total << "\n";
  if (skipped > 0) out << "SKIPPED: " << skipped << "/" << total << "\n";
  out << pass << " passed, " << (fail + errors) << " failed\n";
  return fail + errors > 0 ? 1 : 0;
}

int RunPolicyEval(const PolicyEvalOptions& opts, std::ostream& out, std::ostream& err) {
  if (opts.format != "json" && opts.format != "raw") {
    err << "policy eval: unknown --format " << opts.format << " (want json or raw)\n";
    return 2;
  }
  if (opts.query.empty()) {
    err << "policy eval: a query is required\n";
    return 2;
  }
  auto fail = [&](const Error& e) {
    if (opts.format == "json") {
      out << ErrorJson(e);
    } else {
      err << "1 error occurred: " << e.message << "\n";
    }
    return 1;
  };
  LoadedFiles files;
  if (!opts.data_paths.empty()) {
    auto loaded = LoadPaths(opts.data_paths);
    if (!loaded) return fail(loaded.error());
    files = std::move(*loaded);
  }
  std::optional<Value> input;
  if (!opts.input_path.empty()) {
    auto in = LoadInput(opts.input_path);
    if (!in) return fail(in.error());
    input = std::move(*in);
  }
  auto policy = Policy::Compile(files.modules, files.data);
  if (!policy) return fail(policy.error());
  auto rs = (*policy)->Query(opts.query, input ? &*input : nullptr, {});
  if (!rs) return fail(rs.error());

  if (opts.format == "raw") {
    for (const auto& r : *rs) {
      std::string line;
      for (size_t i = 0; i < r.expressions.size(); ++i) {
        if (i > 0) line.push_back(' ');
        const Value& v = r.expressions[i];
        line += v.is_string() ? v.str() : v.ToJson();
      }
      out << line << "\n";
    }
    return 0;
  }

  std::vector<ExprText> texts = SplitQuery(opts.query);
  JsonWriter w;
  w.Open('{');
  if (!rs->empty()) {
    w.Key("result");
    w.Open('[');
    for (const auto& r : *rs) {
      w.Open('{');
      w.Key("expressions");
      w.Open('[');
      for (size_t i = 0; i < r.expressions.size(); ++i) {
        ExprText t = i < texts.size() && texts.size() == r.expressions.size()
                         ? texts[i]
                         : ExprText{opts.query, 1, 1};
        w.Open('{');
        w.Key("value");
        w.Val(r.expressions[i]);
        w.Key("text");
        w.Val(Value::String(t.text));
        w.Key("location");
        w.Open('{');
        w.Key("row");
        w.Val(Value::Int(t.row));
        w.Key("col");
        w.Val(Value::Int(t.col));
        w.Close('}');
        w.Close('}');
      }
      w.Close(']');
      if (!r.bindings.empty()) {
        Object b;
        for (const auto& [k, v] : r.bindings) b.emplace(Value::String(k), v);
        w.Key("bindings");
        w.Val(Value::FromObject(std::move(b)));
      }
      w.Close('}');
    }
    w.Close(']');
  }
  w.Close('}');
  out << w.Done();
  return 0;
}

}  // namespace mcpgw::rego
