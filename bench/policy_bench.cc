// Policy decisions with the embedded Rego engine: the shipped services/opa/policies/mcp/authz.rego
// with the realistic data set of bench/policy-data (50 tools, 10 roles) and its request mix.
//
//   build/bench/policy_bench [--benchmark_filter=...]
//
// Run from the repository root (paths are relative). Reports time per decision; the issue's
// budget is p50 <= 5 us per decision and <= 200 us to filter a 200-tool list. The remote
// backend (loopback to `mcpgw pdp`) is measured by bench/pdp.sh.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "policy/input.h"
#include "rego/engine.h"
#include "rego/loader.h"

namespace {

using mcpgw::rego::Policy;
using mcpgw::rego::Value;

struct Fixture {
  std::shared_ptr<const Policy> policy;
  std::vector<Value> inputs;
  std::vector<Value> list_inputs;  // 200 tools for list filtering, each input whole
  // The same list as the gateway holds it before deciding: the request's input (list: true, no
  // arguments) and each item's resource and path.
  Value list_base;
  std::vector<mcpgw::policy::Resource> list_resources;
  std::vector<std::string> list_paths;
  std::vector<Value> list_items;  // policy::ListItem of each
};

const Fixture& Get() {
  static const Fixture kFixture = [] {
    Fixture fx;
    auto files = mcpgw::rego::LoadPaths({"services/opa/policies", "bench/policy-data"});
    if (!files) {
      fprintf(stderr, "policy_bench: %s (run from the repository root)\n",
              files.error().message.c_str());
      std::exit(2);
    }
    auto policy = Policy::Compile(files->modules, files->data);
    if (!policy) {
      fprintf(stderr, "policy_bench: %s\n", policy.error().message.c_str());
      std::exit(2);
    }
    fx.policy = *policy;
    std::ifstream in("bench/policy-data/inputs.jsonl");
    std::string line;
    while (std::getline(in, line)) {
      if (line.empty()) continue;
      auto v = Value::ParseJson(line);
      if (v && v->Get("input")) fx.inputs.push_back(*v->Get("input"));
    }
    // A tools/list of 200 tools asked by one user: the same input with a different tool each.
    // The 50 tools of the policy data, as their own server exposes them and with three more
    // servers' prefixes (<server>__<tool>, found in the data by the upstream name), so that the
    // list mixes allowed and denied tools as a real catalog does.
    const Value& base = fx.inputs.front();
    std::vector<std::string> tools;
    const Value* data_tools =
        files->data.Get("mcp") ? files->data.Get("mcp")->Get("tools") : nullptr;
    if (data_tools && data_tools->is_object()) {
      for (const auto& [k, v] : data_tools->object()) tools.push_back(k.str());
    }
    if (tools.empty()) {
      fprintf(stderr, "policy_bench: bench/policy-data has no mcp.tools\n");
      std::exit(2);
    }
    for (int i = 0; i < 200; ++i) {
      mcpgw::rego::Object o = base.object();
      mcpgw::rego::Object res = base.Get("resource")->object();
      const std::string& tool = tools[static_cast<size_t>(i) % tools.size()];
      int server = i / static_cast<int>(tools.size());
      std::string exposed = server == 0 ? tool : "s" + std::to_string(server) + "__" + tool;
      res.insert_or_assign(Value::String("tool"), Value::String(exposed));
      res.insert_or_assign(Value::String("name"), Value::String(tool));
      res.insert_or_assign(Value::String("server"), Value::String("s" + std::to_string(server)));
      o.insert_or_assign(Value::String("resource"), Value::FromObject(res));
      o.insert_or_assign(Value::String("path"), Value::String("/tools/" + exposed + "/invoke"));
      o.insert_or_assign(Value::String("list"), Value::Bool(true));
      o.erase(Value::String("args"));
      fx.list_inputs.push_back(Value::FromObject(std::move(o)));
      mcpgw::policy::Resource r;
      r.kind = "tool";
      r.server = "s" + std::to_string(server);
      r.tool = exposed;
      r.name = tool;
      fx.list_resources.push_back(r);
      fx.list_paths.push_back("/tools/" + exposed + "/invoke");
      fx.list_items.push_back(mcpgw::policy::ListItem(fx.list_paths.back(), r));
    }
    mcpgw::rego::Object lb = base.object();
    lb.insert_or_assign(Value::String("list"), Value::Bool(true));
    lb.erase(Value::String("args"));
    fx.list_base = Value::FromObject(std::move(lb));
    return fx;
  }();
  return kFixture;
}

const std::vector<std::string> kAllow = {"mcp", "authz", "allow"};

// One decision per iteration, cycling through the request mix (allows and denies).
void BM_Decision(benchmark::State& state) {
  const Fixture& fx = Get();
  size_t i = 0;
  int64_t allowed = 0;
  for (auto _ : state) {
    auto r = fx.policy->EvalPath(kAllow, &fx.inputs[i++ % fx.inputs.size()], {});
    if (r && *r && (*r)->is_bool() && (*r)->as_bool()) allowed++;
  }
  state.counters["allowed"] =
      benchmark::Counter(static_cast<double>(allowed), benchmark::Counter::kAvgIterations);
}
BENCHMARK(BM_Decision);

// The distribution of single decisions over the mix: each timed on its own (steady clock,
// ~20 ns of its own), reported as p50 / p99 / max in nanoseconds. The time per iteration is
// that of the whole batch of 1,900 decisions (100 rounds of the mix).
void BM_DecisionPercentiles(benchmark::State& state) {
  const Fixture& fx = Get();
  std::vector<int64_t> ns;
  for (auto _ : state) {
    for (size_t i = 0; i < fx.inputs.size() * 100; ++i) {
      auto t0 = std::chrono::steady_clock::now();
      auto r = fx.policy->EvalPath(kAllow, &fx.inputs[i % fx.inputs.size()], {});
      auto t1 = std::chrono::steady_clock::now();
      benchmark::DoNotOptimize(r);
      ns.push_back(std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count());
    }
  }
  std::sort(ns.begin(), ns.end());
  auto at = [&](double q) {
    return static_cast<double>(ns[static_cast<size_t>(q * static_cast<double>(ns.size() - 1))]);
  };
  state.counters["p50_ns"] = at(0.50);
  state.counters["p99_ns"] = at(0.99);
  state.counters["max_ns"] = static_cast<double>(ns.back());
}
BENCHMARK(BM_DecisionPercentiles)->Iterations(20);

// The same decision for one input, so repetitions give a distribution for that request.
void BM_DecisionSingle(benchmark::State& state) {
  const Fixture& fx = Get();
  const Value& in = fx.inputs[static_cast<size_t>(state.range(0)) % fx.inputs.size()];
  for (auto _ : state) benchmark::DoNotOptimize(fx.policy->EvalPath(kAllow, &in, {}));
}
BENCHMARK(BM_DecisionSingle)->DenseRange(0, 2);

// The reasons of a deny (read only on denies).
void BM_Reasons(benchmark::State& state) {
  const Fixture& fx = Get();
  const std::vector<std::string> path = {"mcp", "authz", "reasons"};
  for (auto _ : state) benchmark::DoNotOptimize(fx.policy->EvalPath(path, &fx.inputs.back(), {}));
}
BENCHMARK(BM_Reasons);

// Filtering a tools/list of 200 tools: one decision per tool.
void BM_ListFilter200(benchmark::State& state) {
  const Fixture& fx = Get();
  for (auto _ : state) {
    int visible = 0;
    for (const auto& in : fx.list_inputs) {
      auto r = fx.policy->EvalPath(kAllow, &in, {});
      if (r && *r && (*r)->is_bool() && (*r)->as_bool()) visible++;
    }
    benchmark::DoNotOptimize(visible);
    state.counters["visible"] = visible;
  }
}
BENCHMARK(BM_ListFilter200);

// The same list as one batch (Policy::EvalPathBatch, what the gateway does): the documents that
// do not read an item's members (the user's roles, authentication, time and network rules) are
// computed once per list instead of once per tool. Items prebuilt and the same from one list to
// the next, as the gateway keeps them per catalog: from the third list on, the documents that
// read only the item's members are the engine's from earlier lists (the steady state).
void BM_ListFilter200Batch(benchmark::State& state) {
  const Fixture& fx = Get();
  for (auto _ : state) {
    int visible = 0;
    for (const auto& r : fx.policy->EvalPathBatch(kAllow, fx.list_base, fx.list_items, {})) {
      if (r && *r && (*r)->is_bool() && (*r)->as_bool()) visible++;
    }
    benchmark::DoNotOptimize(visible);
    state.counters["visible"] = visible;
  }
}
BENCHMARK(BM_ListFilter200Batch);

// What the gateway does for each catalog entry after a catalog change (policy::ListItem: its
// path and resource), as new objects.
std::vector<Value> BuildListItems(const Fixture& fx) {
  std::vector<Value> items;
  items.reserve(fx.list_resources.size());
  for (size_t i = 0; i < fx.list_resources.size(); ++i) {
    items.push_back(mcpgw::policy::ListItem(fx.list_paths[i], fx.list_resources[i]));
  }
  return items;
}

// The first tools/list of 200 tools after a catalog change: the gateway builds each item
// (policy::ListItem: its path and resource), then decides them in one batch. Later lists reuse
// the items (the gateway keeps them per catalog), which is BM_ListFilter200Batch.
void BM_ListFilter200WithInputs(benchmark::State& state) {
  const Fixture& fx = Get();
  for (auto _ : state) {
    std::vector<Value> items = BuildListItems(fx);
    int visible = 0;
    for (const auto& r : fx.policy->EvalPathBatch(kAllow, fx.list_base, items, {})) {
      if (r && *r && (*r)->is_bool() && (*r)->as_bool()) visible++;
    }
    benchmark::DoNotOptimize(visible);
    state.counters["visible"] = visible;
  }
}
BENCHMARK(BM_ListFilter200WithInputs);

// The second list of a catalog (the engine fills its memo of item-only documents): new items
// each iteration, listed once untimed (the first list, which keeps nothing), then timed.
void BM_ListFilter200SecondList(benchmark::State& state) {
  const Fixture& fx = Get();
  for (auto _ : state) {
    state.PauseTiming();
    std::vector<Value> items = BuildListItems(fx);
    benchmark::DoNotOptimize(fx.policy->EvalPathBatch(kAllow, fx.list_base, items, {}));
    state.ResumeTiming();
    int visible = 0;
    for (const auto& r : fx.policy->EvalPathBatch(kAllow, fx.list_base, items, {})) {
      if (r && *r && (*r)->is_bool() && (*r)->as_bool()) visible++;
    }
    benchmark::DoNotOptimize(visible);
    state.counters["visible"] = visible;
    state.PauseTiming();
    items.clear();  // freed untimed
    state.ResumeTiming();
  }
}
BENCHMARK(BM_ListFilter200SecondList);

}  // namespace

BENCHMARK_MAIN();
