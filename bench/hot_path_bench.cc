// CPU cost of the gateway's own work on one tools/call, without sockets or processes:
// parse the client's JSON-RPC request, find the tool in a 200-tool catalog, rewrite name and id,
// serialize for the upstream; then parse the upstream's answer, restore the id, serialize (and
// frame as SSE). Reports time per step; compare with the end-to-end load run in bench/run.sh.
#include <benchmark/benchmark.h>

#include "gateway/catalog.h"
#include "gateway/session.h"
#include "jsonrpc/jsonrpc.h"
#include "sse/sse.h"

namespace {

using namespace mcpgw;

const char* kRequest =
    R"({"jsonrpc":"2.0","id":4711,"method":"tools/call","params":{"name":"srv3__tool_17","arguments":{"message":"hello from the benchmark","n":3},"_meta":{"progressToken":"t1"}}})";
const char* kAnswer =
    R"({"result":{"content":[{"type":"text","text":"Echo: hello from the benchmark"}]},"jsonrpc":"2.0","id":17})";

gateway::Catalog MakeCatalog() {
  std::vector<gateway::UpstreamLists> ups;
  for (int s = 0; s < 5; ++s) {
    gateway::UpstreamLists u;
    u.server = "srv" + std::to_string(s);
    for (int t = 0; t < 40; ++t) {
      json::object tool;
      tool["name"] = "tool_" + std::to_string(t);
      tool["description"] = "A tool that does something useful with its arguments";
      json::object schema;
      schema["type"] = "object";
      tool["inputSchema"] = schema;
      u.tools.push_back(tool);
    }
    ups.push_back(std::move(u));
  }
  gateway::Catalog c;
  c.Rebuild(ups, config::PrefixMode::kAlways, "__");
  return c;
}

void BM_ParseRequest(benchmark::State& state) {
  for (auto _ : state) {
    auto m = jsonrpc::Parse(kRequest);
    benchmark::DoNotOptimize(m);
  }
}
BENCHMARK(BM_ParseRequest);

void BM_RequestPath(benchmark::State& state) {
  gateway::Catalog catalog = MakeCatalog();
  for (auto _ : state) {
    auto m = jsonrpc::Parse(kRequest);
    const json::object& p = m->params()->get_object();
    const gateway::Target* t = catalog.FindTool(json::FindString(p, "name"));
    if (!t) {
      state.SkipWithError("tool not in catalog");
      break;
    }
    // As the gateway does: the params move out of the message (no copy).
    json::object fwd = std::move(m->obj()["params"].as_object());
    fwd["name"] = t->name;
    std::string wire = jsonrpc::MakeRequest(json::value(17), "tools/call", fwd);
    benchmark::DoNotOptimize(wire);
  }
}
BENCHMARK(BM_RequestPath);

void BM_ResponsePathJson(benchmark::State& state) {
  json::value client_id(4711);
  for (auto _ : state) {
    auto m = jsonrpc::Parse(kAnswer);
    m->obj()["id"] = client_id;
    std::string out = json::Serialize(m->doc);
    benchmark::DoNotOptimize(out);
  }
}
BENCHMARK(BM_ResponsePathJson);

void BM_ResponsePathSse(benchmark::State& state) {
  json::value client_id(4711);
  gateway::Stream stream;
  stream.id = 3;
  for (auto _ : state) {
    auto m = jsonrpc::Parse(kAnswer);
    m->obj()["id"] = client_id;
    gateway::AppendEvent(stream, json::Serialize(m->doc));
  }
}
BENCHMARK(BM_ResponsePathSse);

void BM_CatalogRebuild200Tools(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(MakeCatalog());
}
BENCHMARK(BM_CatalogRebuild200Tools)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
