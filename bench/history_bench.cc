// Sustained append throughput of the history stores, as the history writer drives them: batches
// of 500 realistic rows, one transaction per batch, each batch linked into the hash chain by the
// store. Budget: >= 20,000 rows/s for SQLite, >= 10,000 rows/s for PostgreSQL (items_per_second).
//
// Both stores write to disk with their production durability: SQLite in WAL mode with
// synchronous=NORMAL in a temporary directory; PostgreSQL from PgHarness in durable mode (fsync
// and synchronous_commit on), over its Unix socket, or the server named by
// MCPGW_BENCH_PG_DSN (postgresql://...; its tool_calls and audit_events tables get rows appended).
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include "history/pg_harness.h"
#include "history/store.h"

namespace {

using namespace mcpgw;
using namespace mcpgw::history;

constexpr int kBatch = 500;

ToolCallRow RealisticCall(int i) {
  ToolCallRow r;
  r.ts_start_us = 1'750'000'000'000'000 + int64_t{i} * 1000;
  r.ts_end_us = r.ts_start_us + 4200;
  r.request_id = "01J9ZK5V3M8Q2R7T4X6Y0B1C" + std::to_string(i % 100);
  r.trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
  r.session_id = "9f1c2b7e4d5a6b3c8e0f1a2b3c4d5e6f";
  r.subject = "user-" + std::to_string(i % 50) + "@example.com";
  r.roles = R"(["developer","oncall"])";
  r.tenant = "acme";
  r.client_name = "claude-code";
  r.client_version = "1.0.43";
  r.server = i % 3 == 0 ? "github" : "filesystem";
  r.method = "tools/call";
  r.target = i % 3 == 0 ? "create_issue" : "read_file";
  r.action = "call";
  r.args_redacted =
      R"({"path":"/srv/projects/mcpgw/src/history/postgres_store.cc","encoding":"utf-8",)"
      R"("max_bytes":65536,"token":"[REDACTED]","options":{"follow_symlinks":false}})";
  r.args_sha256 = "3a7bd3e2360a3d29eea436fcfb7e44c735d117c42d1c1835420b6b9942dd4f1b";
  r.decision = "allow";
  r.decision_id = "0d3b4c1e-7f2a-4e8b-9c6d-5a1f2e3d4c5b";
  r.decision_reasons = "[]";
  r.http_status = 200;
  r.outcome = "ok";
  r.latency_us = 4200;
  r.result_bytes = 18'432;
  return r;
}

AuditRow RealisticAudit(int i) {
  AuditRow r;
  r.ts_us = 1'750'000'000'000'000 + int64_t{i} * 1000;
  r.kind = "policy_denial";
  r.subject = "user-" + std::to_string(i % 50) + "@example.com";
  r.request_id = "01J9ZK5V3M8Q2R7T4X6Y0B1C" + std::to_string(i % 100);
  r.detail =
      R"({"server":"github","tool":"delete_repo","reasons":["role developer may not delete"]})";
  return r;
}

// The stores under test, opened and migrated once per process; torn down at exit in order
// (stores, then the server and the files).
struct BenchStores {
  std::unique_ptr<testing::PgHarness> pg, pg_memory;
  std::string sqlite_dir;
  std::unique_ptr<Store> sqlite, postgres, postgres_memory;
  ~BenchStores() {
    sqlite.reset();
    postgres.reset();
    postgres_memory.reset();
    pg.reset();
    pg_memory.reset();
    std::error_code ec;
    if (!sqlite_dir.empty()) std::filesystem::remove_all(sqlite_dir, ec);
  }
};

Result<std::string> BenchDsn(const std::string& kind, BenchStores& s) {
  if (kind == "sqlite") {
    std::string tmpl = (std::filesystem::temp_directory_path() / "mcpgw-bench-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) return MakeError("mkdtemp failed");
    s.sqlite_dir = tmpl;
    return "sqlite://" + s.sqlite_dir + "/history.db";
  }
  if (const char* env = std::getenv("MCPGW_BENCH_PG_DSN");
      kind == "postgres" && env != nullptr && *env) {
    return std::string(env);
  }
  bool durable = kind == "postgres";
  auto h = testing::PgHarness::Create({.durable = durable});
  if (!h.ok()) return h.error();
  auto& pg = durable ? s.pg : s.pg_memory;
  pg = std::move(*h);
  return pg->CreateDatabase("bench");
}

Store* OpenBenchStore(const std::string& kind, benchmark::State& state) {
  static BenchStores stores;
  std::unique_ptr<Store>& store = kind == "sqlite"     ? stores.sqlite
                                  : kind == "postgres" ? stores.postgres
                                                       : stores.postgres_memory;
  if (store) return store.get();
  auto dsn = BenchDsn(kind, stores);
  if (!dsn.ok()) {
    state.SkipWithError(dsn.error().message.c_str());
    return nullptr;
  }
  auto opened = OpenStore(*dsn);
  if (!opened.ok()) {
    state.SkipWithError(opened.error().message.c_str());
    return nullptr;
  }
  if (Status st = (*opened)->Migrate(); !st.ok()) {
    state.SkipWithError(st.error().message.c_str());
    return nullptr;
  }
  store = std::move(*opened);
  return store.get();
}

template <class Row, Row (*Make)(int), Status (Store::*Append)(std::vector<Row>&)>
void BM_Append(benchmark::State& state, const std::string& kind) {
  Store* store = OpenBenchStore(kind, state);
  if (store == nullptr) return;
  std::vector<Row> batch;
  batch.reserve(kBatch);
  for (int i = 0; i < kBatch; ++i) batch.push_back(Make(i));
  for (auto _ : state) {
    // The store overwrites seq and the hashes; every other field stays as built.
    if (Status st = (store->*Append)(batch); !st.ok()) {
      state.SkipWithError(st.error().message.c_str());
      return;
    }
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
}

void BM_AppendToolCalls(benchmark::State& state, const std::string& kind) {
  BM_Append<ToolCallRow, RealisticCall, &Store::AppendToolCalls>(state, kind);
}
void BM_AppendAudit(benchmark::State& state, const std::string& kind) {
  BM_Append<AuditRow, RealisticAudit, &Store::AppendAudit>(state, kind);
}

BENCHMARK_CAPTURE(BM_AppendToolCalls, sqlite, std::string("sqlite"))
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->MinTime(3);
BENCHMARK_CAPTURE(BM_AppendToolCalls, postgres, std::string("postgres"))
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->MinTime(3);
// For comparison: the same server without commit durability (fsync off, in memory), which shows
// what the commits' disk flushes cost.
BENCHMARK_CAPTURE(BM_AppendToolCalls, postgres_nosync, std::string("postgres_nosync"))
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->MinTime(2);
BENCHMARK_CAPTURE(BM_AppendAudit, sqlite, std::string("sqlite"))
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->MinTime(1);
BENCHMARK_CAPTURE(BM_AppendAudit, postgres, std::string("postgres"))
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->MinTime(1);

}  // namespace

BENCHMARK_MAIN();
