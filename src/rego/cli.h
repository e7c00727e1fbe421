// `mcpgw policy test` and `mcpgw policy eval`: the two `opa` commands a policy author needs, on the
// embedded engine.
//
//   mcpgw policy test [-v] PATH...
//     Loads PATH... (loader.h), runs every rule named test_* of every package as
//     data.<package>.test_* and reports it like `opa test`: a test passes when its value is true;
//     undefined or any other value fails it; an evaluation error is an ERROR; rules named
//     todo_test_* are SKIPPED. Without -v only failing tests are listed; with -v every test, with
//     its time. Ends with OPA's summary (PASS: n/m, FAIL: n/m, ERROR: n/m, SKIPPED: n/m) and a line
//     "N passed, N failed".
//     Exit status: 0 when no test fails or errs (skipped ones do not count; "no tests found" is 0
//     too), 1 when one fails or errs, 2 when the files cannot be loaded or compiled.
//
//   mcpgw policy eval [-d PATH]... [-i input.json] [--format json|raw] QUERY
//     Evaluates QUERY like `opa eval` and prints OPA's JSON:
//       {"result": [{"expressions": [{"value": v, "text": "...", "location": {"row": r, "col":
//       c}}],
//                    "bindings": {...}}]}
//     ("bindings" only when the query names variables; `{}` when the query is undefined), or
//     with --format raw each solution's expression values on one line (strings unquoted).
//     Load, compile and evaluation errors print OPA's error JSON
//       {"errors": [{"message": "...", "code": "...", "location": {"file", "row", "col"}}]}
//     to `out` and exit 1 (2 for bad arguments). The input file may be JSON, or YAML holding a
//     mapping.
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace mcpgw::rego {

struct PolicyTestOptions {
  std::vector<std::string> paths;
  bool verbose = false;
};

// Output (results, summary) goes to `out`; load and compile errors to `err`.
int RunPolicyTest(const PolicyTestOptions& opts, std::ostream& out, std::ostream& err);

struct PolicyEvalOptions {
  std::vector<std::string> data_paths;  // -d, repeatable
  std::string input_path;               // -i; empty = no input
  std::string format = "json";          // "json" or "raw"
  std::string query;
};

// Everything, errors included, goes to `out` (as `opa eval --format json` does); `err` only gets
// usage problems.
int RunPolicyEval(const PolicyEvalOptions& opts, std::ostream& out, std::ostream& err);

}  // namespace mcpgw::rego
