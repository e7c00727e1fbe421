// rego_conformance: runs Open Policy Agent's own Rego test cases against the embedded engine.
//
//   rego_conformance [DIR] [--filter SUBSTR] [--verbose] [--markdown FILE]
//
// DIR holds the cases converted to JSON (default: <repo>/tests/rego/opa-v1, a copy of
// shared/conformance/opa-v1; schema in that tree's README.md): one sub-directory per topic, files
// of {"cases": [...]}. Each case is run the way OPA's runner (v1/topdown/exported_test.go) runs it:
//   - the modules are compiled as test-0.rego, test-1.rego, ... with `data` as the base document;
//   - the input is `input` (JSON) or `input_term` (a Rego term, evaluated by a one-line query
//     against an empty policy);
//   - the query is evaluated with strict built-in errors when `strict_error` is set;
//   - `want_result` (a list of binding objects) is compared as a set with the solutions, each
//     binding converted to JSON (so sets become arrays; with `sort_bindings` an array binding is
//     sorted first): every expected solution must appear and nothing else;
//   - `want_error_code` must equal the OPA class of the error code (ErrorCodeName), `want_error`
//     must be a substring of the error text ("<code>: <message>", as OPA prints it); any error
//     that is not expected fails the case. A case that expects both an error and solutions (OPA
//     returns the solutions found before a strict built-in error along with it) gets its
//     solutions from a second, non-strict evaluation, which finds the same ones.
// A policy that does not compile (a built-in or syntax the engine refuses) fails the case; the
// "reasons" column of the table says which refusals are the most common.
//
// Directories that test features outside the project's scope (see kOutOfScope) are reported as
// skipped and not run.
//
// Output: a Markdown table per directory (category, pass, fail, skipped, top failure reasons),
// totals per category and a final "N passed, N failed" line. --markdown FILE writes the same
// table to FILE; --verbose prints every failure (note, query, expected, got); --filter runs only
// the cases whose note contains SUBSTR.
//
// Exit status (the targets of the embedded-engine issue): 0 when every case of every
// core-language directory passes and at least 95% of the built-in cases pass; 1 otherwise;
// 2 on a usage error or an unreadable case directory.
//
// Each case runs to completion in-process: the engine has no unbounded loops, and errors are
// values, so nothing is caught here.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "rego/engine.h"
#include "rego/value.h"

#ifndef MCPGW_SOURCE_DIR
#define MCPGW_SOURCE_DIR "."
#endif

namespace {

namespace fs = std::filesystem;
using mcpgw::rego::Array;
using mcpgw::rego::Object;
using mcpgw::rego::Policy;
using mcpgw::rego::QueryResult;
using mcpgw::rego::Set;
using mcpgw::rego::Value;

enum class Category { kCore, kBuiltin, kOutOfScope };

// How each directory counts. Core-language directories test the language itself (rules,
// references, unification, comprehensions, keywords, `with`, error semantics of rules and
// functions); a failure there is a bug in the evaluator. Built-in directories test one function
// (or a family of functions, including operators such as arithmetic and set operations).
// Out-of-scope directories test features the project does not implement (GraphQL, AWS request
// signing, X.509 parsing, rego.metadata, rego.parse_module, the planner IR, templates, JSON
// schema, DNS lookups, random numbers): they are listed as skipped. Any directory not named here
// counts as built-in.
const std::map<std::string, Category, std::less<>>& Categories() {
  static const auto* m = new std::map<std::string, Category, std::less<>>{
      // Core language.
      {"assignments", Category::kCore},
      {"baseandvirtualdocs", Category::kCore},
      {"comparisonexpr", Category::kCore},
      {"completedoc", Category::kCore},
      {"compositebasedereference", Category::kCore},
      {"compositereferences", Category::kCore},
      {"comprehensions", Category::kCore},
      {"containskeyword", Category::kCore},
      {"dataderef", Category::kCore},
      {"defaultkeyword", Category::kCore},
      {"disjunction", Category::kCore},
      {"elsekeyword", Category::kCore},
      {"embeddedvirtualdoc", Category::kCore},
      {"eqexpr", Category::kCore},
      {"evaltermexpr", Category::kCore},
      {"every", Category::kCore},
      {"example", Category::kCore},
      {"fix1863", Category::kCore},
      {"functionerrors", Category::kCore},
      {"functions", Category::kCore},
      {"helloworld", Category::kCore},
      {"indexing", Category::kCore},
      {"indirectreferences", Category::kCore},
      {"inputvalues", Category::kCore},
      {"keywordrefs", Category::kCore},
      {"negation", Category::kCore},
      {"nestedreferences", Category::kCore},
      {"partialdocconstants", Category::kCore},
      {"partialiter", Category::kCore},
      {"partialobjectdoc", Category::kCore},
      {"partialsetdoc", Category::kCore},
      {"refheads", Category::kCore},
      {"stringinterpolation", Category::kCore},
      {"topdowndynamicdispatch", Category::kCore},
      {"type", Category::kCore},  // regressions of rule typing (partial object overrides)
      {"undos", Category::kCore},
      {"varreferences", Category::kCore},
      {"virtualdocs", Category::kCore},
      {"withkeyword", Category::kCore},
      // Built-in, though named like a language topic: the cases check http.send's argument
      // validation.
      {"invalidkeyerror", Category::kBuiltin},
      // Out of scope.
      {"cryptoparsersaprivatekeys", Category::kOutOfScope},
      {"cryptox509parseandverifycertificates", Category::kOutOfScope},
      {"cryptox509parsecertificaterequest", Category::kOutOfScope},
      {"cryptox509parsecertificates", Category::kOutOfScope},
      {"cryptox509parsekeypair", Category::kOutOfScope},
      {"cryptox509parsersaprivatekey", Category::kOutOfScope},
      {"graphql", Category::kOutOfScope},
      {"jsonschema", Category::kOutOfScope},
      {"netlookupipaddr", Category::kOutOfScope},
      {"planner-ir", Category::kOutOfScope},
      {"providers-aws", Category::kOutOfScope},
      {"rand", Category::kOutOfScope},
      {"regometadatachain", Category::kOutOfScope},
      {"regometadatarule", Category::kOutOfScope},
      {"regoparsemodule", Category::kOutOfScope},
      {"rendertemplate", Category::kOutOfScope},
  };
  return *m;
}

Category CategoryOf(std::string_view dir) {
  auto it = Categories().find(dir);
  return it == Categories().end() ? Category::kBuiltin : it->second;
}

const char* CategoryName(Category c) {
  switch (c) {
    case Category::kCore:
      return "core";
    case Category::kBuiltin:
      return "builtin";
    case Category::kOutOfScope:
      return "out-of-scope";
  }
  return "?";
}

// Cases the engine is known not to pass, each with the reason. They still run: a known gap that
// starts passing counts as a pass. They are listed in the report and do not fail the run; any
// other failure does. Keep this list short and honest; docs/rego-conformance.md repeats it.
const std::map<std::string, std::string, std::less<>>& KnownGaps() {
  static const auto* m = new std::map<std::string, std::string, std::less<>>{
      {"arithmetic/big_int", "numbers beyond 64-bit integers / doubles (OPA: arbitrary precision)"},
      {"sprintf/big_int", "numbers beyond 64-bit integers / doubles (OPA: arbitrary precision)"},
      {"sprintf/big_int/max_cert_serial_number",
       "numbers beyond 64-bit integers / doubles (OPA: arbitrary precision)"},
      {"invalidkeyerror/invalid keys",
       "http.send is not supported: the PDP makes no network calls"},
      {"invalidkeyerror/missing keys",
       "http.send is not supported: the PDP makes no network calls"},
      {"jsonbuiltins/yaml round-trip", "yaml.marshal is not supported (go-yaml's exact output)"},
      {"time/time caching", "test.sleep is an OPA test-only built-in"},
  };
  return *m;
}

struct Options {
  std::string dir = std::string(MCPGW_SOURCE_DIR) + "/tests/rego/opa-v1";
  std::string filter;
  std::string markdown;
  bool verbose = false;
};

struct DirStats {
  Category category = Category::kBuiltin;
  int pass = 0;
  int fail = 0;
  int skipped = 0;
  int known = 0;  // known gaps that failed (see KnownGaps)
  std::map<std::string, int> reasons;
};

struct Outcome {
  bool pass = false;
  std::string reason;  // short, for the table
  std::string detail;  // for --verbose
};

std::optional<std::string> ReadFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// An error message without the "test-0.rego:3:5: " location OPA puts first, cut to a length that
// fits in a table cell, so that identical causes group together.
std::string ShortReason(std::string_view msg) {
  std::string s(msg.substr(0, msg.find('\n')));
  if (s.rfind("test-", 0) == 0 || s.rfind("input_term", 0) == 0) {
    // Skip "file:row[:col]: ".
    size_t pos = s.find(": ");
    if (pos != std::string::npos) s = s.substr(pos + 2);
  }
  if (s.size() > 90) s = s.substr(0, 87) + "...";
  for (char& c : s) {
    if (c == '|') c = '/';
  }
  return s;
}

std::string CodeName(int code) {
  std::string_view name = mcpgw::rego::ErrorCodeName(code);
  return name.empty() ? "error(" + std::to_string(code) + ")" : std::string(name);
}

// The error as OPA's Error() prints it, "<file>:<row>: <code>: <message>", which is what
// want_error is a substring of. The engine's text may carry a column ("file:row:col: ") that
// OPA's does not, and may leave the code out.
std::string ErrorText(const mcpgw::Error& e) {
  std::string code = CodeName(e.code);
  std::string msg = e.message;
  size_t sep = msg.find(": ");
  if (sep != std::string::npos) {
    // "<file>:<row>:<col>" -> "<file>:<row>"
    std::string_view loc(msg.data(), sep);
    size_t c2 = loc.rfind(':');
    size_t c1 =
        c2 == std::string_view::npos || c2 == 0 ? std::string_view::npos : loc.rfind(':', c2 - 1);
    auto digits = [](std::string_view s) {
      return !s.empty() &&
             std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
    };
    if (c1 != std::string_view::npos && digits(loc.substr(c1 + 1, c2 - c1 - 1)) &&
        digits(loc.substr(c2 + 1))) {
      msg.erase(c2, sep - c2);
    }
  }
  if (msg.find(code + ": ") != std::string::npos) return msg;
  return code + ": " + msg;
}

// A solution as OPA's runner sees it: an object of the named bindings, each value round-tripped
// through JSON (sets become arrays), array values sorted when sort_bindings is set.
Value Normalize(const QueryResult& r, bool sort_bindings, bool ignore_generated) {
  Object o;
  for (const auto& [name, v] : r.bindings) {
    if (ignore_generated && name.rfind("__", 0) == 0) continue;
    auto j = Value::ParseJson(v.ToJson());
    Value jv = j.ok() ? *j : v;
    if (sort_bindings && jv.is_array()) {
      Array a = jv.array();
      std::sort(a.begin(), a.end());
      jv = Value::FromArray(std::move(a));
    }
    o.emplace(Value::String(name), std::move(jv));
  }
  return Value::FromObject(std::move(o));
}

std::string SetText(const Set& s) {
  std::string out = "[";
  bool first = true;
  for (const auto& v : s) {
    if (!first) out += ", ";
    first = false;
    out += v.ToJson();
  }
  return out + "]";
}

mcpgw::Result<Value> EvalInputTerm(const std::string& term) {
  auto empty = Policy::Compile({}, Value::EmptyObject());
  if (!empty) return empty.error();
  auto rs = (*empty)->Query("conformance_input_term := " + term, nullptr, {});
  if (!rs) return rs.error();
  if (rs->size() != 1) return mcpgw::MakeError("input_term is undefined");
  auto it = (*rs)[0].bindings.find("conformance_input_term");
  if (it == (*rs)[0].bindings.end()) return mcpgw::MakeError("input_term has no binding");
  return it->second;
}

Outcome RunCase(const Value& c) {
  Outcome out;
  const Value* query = c.Get("query");
  if (query == nullptr || !query->is_string()) {
    out.reason = "malformed case: no query";
    return out;
  }
  std::vector<mcpgw::rego::ModuleSource> modules;
  if (const Value* mods = c.Get("modules"); mods != nullptr && mods->is_array()) {
    for (size_t i = 0; i < mods->array().size(); ++i) {
      const Value& m = mods->array()[i];
      modules.push_back({"test-" + std::to_string(i) + ".rego", m.is_string() ? m.str() : ""});
    }
  }
  const Value* data = c.Get("data");
  auto policy = Policy::Compile(
      std::move(modules), data != nullptr && data->is_object() ? *data : Value::EmptyObject());
  if (!policy) {
    out.reason = "compile: " + ShortReason(policy.error().message);
    out.detail = "compile error: " + policy.error().message;
    return out;
  }

  std::optional<Value> input;
  if (const Value* term = c.Get("input_term"); term != nullptr && term->is_string()) {
    auto v = EvalInputTerm(term->str());
    if (!v) {
      out.reason = "input_term: " + ShortReason(v.error().message);
      out.detail = "input_term " + term->str() + ": " + ErrorText(v.error());
      return out;
    }
    input = *v;
  } else if (const Value* in = c.Get("input"); in != nullptr) {
    input = *in;
  }

  mcpgw::rego::EvalOptions opts;
  const Value* strict = c.Get("strict_error");
  opts.strict_builtin_errors = strict != nullptr && strict->is_bool() && strict->as_bool();
  auto rs = (*policy)->Query(query->str(), input ? &*input : nullptr, opts);

  const Value* want_code = c.Get("want_error_code");
  const Value* want_error = c.Get("want_error");
  const Value* want_result = c.Get("want_result");
  bool want_err = (want_code != nullptr && want_code->is_string()) ||
                  (want_error != nullptr && want_error->is_string());

  if (!rs) {
    const mcpgw::Error& e = rs.error();
    std::string got = ErrorText(e);
    if (!want_err) {
      out.reason = "unexpected error: " + ShortReason(e.message);
      out.detail = "got error: " + got;
      return out;
    }
    if (want_code != nullptr && want_code->is_string() && CodeName(e.code) != want_code->str()) {
      out.reason = "wrong error code: want " + want_code->str() + ", got " + CodeName(e.code);
      out.detail = "want error code " + want_code->str() + "; got error: " + got;
      return out;
    }
    if (want_error != nullptr && want_error->is_string() &&
        got.find(want_error->str()) == std::string::npos) {
      out.reason = "wrong error text";
      out.detail = "want error containing \"" + want_error->str() + "\"; got error: " + got;
      return out;
    }
    // An expected error with expected results too: in strict mode OPA goes on evaluating after
    // a built-in error (the call is undefined), then returns the solutions it found along with
    // the first error, and its runner checks both. The engine returns the error alone, so the
    // solutions are those of the same query evaluated without strict errors.
    if (want_result == nullptr || !want_result->is_array() || want_result->array().empty()) {
      out.pass = true;
      return out;
    }
    opts.strict_builtin_errors = false;
    rs = (*policy)->Query(query->str(), input ? &*input : nullptr, opts);
    if (!rs) {
      out.reason = "unexpected error: " + ShortReason(rs.error().message);
      out.detail = "non-strict evaluation: got error: " + ErrorText(rs.error());
      return out;
    }
    want_err = false;  // the error part has passed; compare the solutions below
  }

  const Value* sort = c.Get("sort_bindings");
  bool sort_bindings = sort != nullptr && sort->is_bool() && sort->as_bool();
  const Value* ign = c.Get("ignore_generated_vars");
  bool ignore_generated = ign != nullptr && ign->is_bool() && ign->as_bool();
  Set got;
  for (const auto& r : *rs) got.insert(Normalize(r, sort_bindings, ignore_generated));

  if (want_err) {
    out.reason = "no error: want " + (want_code != nullptr && want_code->is_string()
                                          ? want_code->str()
                                          : std::string("an error"));
    out.detail = "want error " +
                 (want_code != nullptr && want_code->is_string() ? want_code->str() + " " : "") +
                 (want_error != nullptr && want_error->is_string()
                      ? "containing \"" + want_error->str() + "\""
                      : std::string()) +
                 "; got " + SetText(got);
    return out;
  }
  if (want_result == nullptr || !want_result->is_array()) {
    out.reason = "malformed case: no expectation";
    return out;
  }
  Set want;
  for (const auto& b : want_result->array()) want.insert(b);
  if (want != got) {
    if (want.empty()) {
      out.reason = "defined, want undefined";
    } else if (got.empty()) {
      out.reason = "undefined, want a result";
    } else {
      out.reason = "wrong result";
    }
    out.detail = "want " + SetText(want) + "\n    got  " + SetText(got);
    return out;
  }
  out.pass = true;
  return out;
}

std::string TopReasons(const std::map<std::string, int>& reasons, size_t n) {
  std::vector<std::pair<int, std::string>> v;
  v.reserve(reasons.size());
  for (const auto& [r, count] : reasons) v.emplace_back(-count, r);
  std::sort(v.begin(), v.end());
  std::string out;
  for (size_t i = 0; i < v.size() && i < n; ++i) {
    if (!out.empty()) out += "; ";
    out += v[i].second + " (" + std::to_string(-v[i].first) + ")";
  }
  if (v.size() > n) out += "; ...";
  return out;
}

std::string Percent(int pass, int total) {
  if (total == 0) return "n/a";
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.1f%%", 100.0 * pass / total);
  return buf;
}

int Usage() {
  std::cerr << "usage: rego_conformance [DIR] [--filter SUBSTR] [--verbose] [--markdown FILE]\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  Options opt;
  bool dir_set = false;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a == "--filter" && i + 1 < argc) {
      opt.filter = argv[++i];
    } else if (a == "--markdown" && i + 1 < argc) {
      opt.markdown = argv[++i];
    } else if (a == "--verbose" || a == "-v") {
      opt.verbose = true;
    } else if (a == "--help" || a == "-h") {
      Usage();
      return 0;
    } else if (!a.empty() && a[0] != '-' && !dir_set) {
      opt.dir = std::string(a);
      dir_set = true;
    } else {
      return Usage();
    }
  }

  std::error_code ec;
  std::vector<fs::path> dirs;
  for (fs::directory_iterator it(opt.dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->is_directory()) dirs.push_back(it->path());
  }
  if (ec || dirs.empty()) {
    std::cerr << "rego_conformance: no case directories in " << opt.dir
              << (ec ? ": " + ec.message() : std::string()) << "\n";
    return 2;
  }
  std::sort(dirs.begin(), dirs.end());

  std::map<std::string, DirStats> stats;
  std::vector<std::pair<std::string, std::string>> known_gaps;
  for (const auto& dir : dirs) {
    std::string name = dir.filename().string();
    DirStats& st = stats[name];
    st.category = CategoryOf(name);
    std::vector<fs::path> files;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
      if (it->path().extension() == ".json") files.push_back(it->path());
    }
    std::sort(files.begin(), files.end());
    for (const auto& f : files) {
      auto text = ReadFile(f);
      auto doc =
          text ? Value::ParseJson(*text) : mcpgw::Result<Value>(mcpgw::MakeError("unreadable"));
      const Value* cases = doc.ok() ? doc->Get("cases") : nullptr;
      if (cases == nullptr || !cases->is_array()) {
        std::cerr << "rego_conformance: " << f.string() << ": not a case file\n";
        return 2;
      }
      for (const auto& c : cases->array()) {
        const Value* note = c.Get("note");
        std::string note_s = note != nullptr && note->is_string() ? note->str() : f.string();
        if (!opt.filter.empty() && note_s.find(opt.filter) == std::string::npos) continue;
        if (st.category == Category::kOutOfScope) {
          ++st.skipped;
          continue;
        }
        Outcome o = RunCase(c);
        if (o.pass) {
          ++st.pass;
          continue;
        }
        if (auto gap = KnownGaps().find(note_s); gap != KnownGaps().end()) {
          ++st.known;
          known_gaps.emplace_back(note_s, gap->second);
          continue;
        }
        ++st.fail;
        ++st.reasons[o.reason];
        if (opt.verbose) {
          const Value* q = c.Get("query");
          std::cout << "FAIL " << note_s << "\n    query: " << (q && q->is_string() ? q->str() : "")
                    << "\n    " << (o.detail.empty() ? o.reason : o.detail) << "\n";
        }
      }
    }
  }

  // The table.
  std::ostringstream md;
  md << "| directory | category | pass | fail | known gap | skipped | reasons |\n";
  md << "|---|---|---:|---:|---:|---:|---|\n";
  std::map<Category, DirStats> totals;
  for (const auto& [name, st] : stats) {
    if (st.pass + st.fail + st.skipped + st.known == 0) continue;  // filtered out
    md << "| " << name << " | " << CategoryName(st.category) << " | " << st.pass << " | " << st.fail
       << " | " << st.known << " | " << st.skipped << " | " << TopReasons(st.reasons, 3) << " |\n";
    DirStats& t = totals[st.category];
    t.pass += st.pass;
    t.fail += st.fail;
    t.skipped += st.skipped;
    t.known += st.known;
  }
  md << "\n| category | pass | fail | known gap | skipped | pass rate |\n";
  md << "|---|---:|---:|---:|---:|---:|\n";
  int pass = 0;
  int fail = 0;
  for (Category c : {Category::kCore, Category::kBuiltin, Category::kOutOfScope}) {
    const DirStats& t = totals[c];
    md << "| " << CategoryName(c) << " | " << t.pass << " | " << t.fail << " | " << t.known << " | "
       << t.skipped << " | " << Percent(t.pass, t.pass + t.fail + t.known) << " |\n";
    pass += t.pass;
    fail += t.fail + t.known;
  }
  if (!known_gaps.empty()) {
    md << "\nKnown gaps (failed, listed in the harness with their reason):\n\n";
    for (const auto& [note, why] : known_gaps) md << "- `" << note << "`: " << why << "\n";
  }
  std::string closing = std::to_string(pass) + " passed, " + std::to_string(fail) + " failed";
  md << "\n" << closing << "\n";
  std::cout << md.str();

  if (!opt.markdown.empty()) {
    std::ofstream out(opt.markdown, std::ios::binary);
    out << md.str();
    if (!out) {
      std::cerr << "rego_conformance: cannot write " << opt.markdown << "\n";
      return 2;
    }
  }

  const DirStats& core = totals[Category::kCore];
  const DirStats& builtin = totals[Category::kBuiltin];
  bool core_ok = core.fail == 0;
  int builtin_total = builtin.pass + builtin.fail + builtin.known;
  bool builtin_ok = builtin_total == 0 || builtin.pass * 100 >= builtin_total * 95;
  if (!core_ok) std::cerr << "rego_conformance: core-language failures: " << core.fail << "\n";
  if (!builtin_ok) {
    std::cerr << "rego_conformance: built-in pass rate " << Percent(builtin.pass, builtin_total)
              << " is below 95%\n";
  }
  return core_ok && builtin_ok ? 0 : 1;
}
