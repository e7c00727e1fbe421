// What one step of the Rego evaluator costs: one-rule policies evaluated over a 200-item batch
// (Policy::EvalPathBatch, as a tools/list is), reported per item. A rule that reads no item
// member is computed once per batch, so `j_true` (and `g_in_cached`) is the batch's fixed cost
// per item; the others add one evaluation of their rule per item.
//
//   build/bench/rego_steps_bench
#include <benchmark/benchmark.h>

#include "rego/engine.h"

namespace {

using mcpgw::rego::MakeObject;
using mcpgw::rego::Policy;
using mcpgw::rego::Value;

// One rule per step: a comparison, a built-in call, a function call, a reference, ...
const char* kPol = R"(package t
a if input.resource.kind == "tool"
b := concat(":", ["tool", input.resource.tool, "read"])
c if f(input.resource.tool)
f(s) if s in input.user.scopes
d := input.resource.tool
e if { x := input.resource.tool; x != "" }
g if "zz" in input.user.scopes
h := data.tools[input.resource.tool]
i if { some r in input.user.roles; concat(":", ["tool", input.resource.tool, r]) in input.user.scopes }
j if true
k := y if { y := input.resource.tool } else := 1
)";

struct Fx {
  std::shared_ptr<const Policy> p;
  Value base;
  std::vector<Value> items;
};

const Fx& Get() {
  static Fx fx = [] {
    Fx f;
    auto data =
        *Value::ParseJson(R"({"tools": {"t1": {"action": "read"}, "t5": {"action": "write"}}})");
    f.p = *Policy::Compile({{"t.rego", kPol}}, data);
    f.base = *Value::ParseJson(
        R"({"user": {"roles": ["dev", "ops"], "scopes": ["mcp:read", "tool:x:read", "a", "b"]}, "env": "prod"})");
    for (int i = 0; i < 200; ++i) {
      f.items.push_back(MakeObject(
          {{"resource", MakeObject({{"kind", Value::String("tool")},
                                    {"tool", Value::String("t" + std::to_string(i))}})}}));
    }
    return f;
  }();
  return fx;
}
// Time per op is that of the whole batch; items_per_second gives the cost per item.
void BM_Rule(benchmark::State& st, const char* rule) {
  const Fx& fx = Get();
  std::vector<std::string> path = {"t", rule};
  for (auto _ : st) benchmark::DoNotOptimize(fx.p->EvalPathBatch(path, fx.base, fx.items, {}));
  st.SetItemsProcessed(st.iterations() * static_cast<int64_t>(fx.items.size()));
}
BENCHMARK_CAPTURE(BM_Rule, a_eq, "a");
BENCHMARK_CAPTURE(BM_Rule, b_concat, "b");
BENCHMARK_CAPTURE(BM_Rule, c_fn, "c");
BENCHMARK_CAPTURE(BM_Rule, d_ref, "d");
BENCHMARK_CAPTURE(BM_Rule, e_assign_neq, "e");
BENCHMARK_CAPTURE(BM_Rule, g_in_cached, "g");
BENCHMARK_CAPTURE(BM_Rule, h_data, "h");
BENCHMARK_CAPTURE(BM_Rule, i_some, "i");
BENCHMARK_CAPTURE(BM_Rule, j_true, "j");
BENCHMARK_CAPTURE(BM_Rule, k_else, "k");
}  // namespace
BENCHMARK_MAIN();
