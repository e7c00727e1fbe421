// The history store: one interface, two implementations (SQLite, the embedded default, and
// PostgreSQL for production), chosen by HISTORY_DB_DSN:
//   sqlite:///absolute/path.db   sqlite://relative/path.db
//   postgresql://user:pass@host:5432/db?sslmode=...
//
// Appends are one transaction per batch, and link the rows into the table's hash chain (seq,
// prev_hash, row_hash; see chain.h) inside that transaction, under the database's write lock, so
// several writers (gateway replicas sharing one PostgreSQL) extend a single verifiable chain.
// Thread-safety: a Store is used by one thread at a time (the history writer's); it may block.
// When ConcurrentReads(), QueryToolCalls/QueryAudit/Scan*/FindUser may also be called from other
// threads, concurrently with the writer and with each other (PostgreSQL: a pool of read
// connections, so reads never wait for writes nor writes for reads).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"

namespace mcpgw::history {

struct ToolCallRow {
  int64_t seq = 0;
  int64_t ts_start_us = 0;
  int64_t ts_end_us = 0;
  std::string request_id, trace_id, session_id, subject;
  std::string roles = "[]";  // JSON array
  std::string tenant, client_name, client_version, server, method, target, action;
  std::string args_redacted = "{}";  // JSON object
  std::string args_sha256;
  std::string decision, decision_id;
  std::string decision_reasons = "[]";  // JSON array
  int http_status = 0;
  int rpc_error_code = 0;
  bool is_error = false;
  std::string outcome;
  int64_t latency_us = 0;
  int64_t result_bytes = 0;
  std::string prev_hash, row_hash;
};

struct AuditRow {
  int64_t seq = 0;
  int64_t ts_us = 0;
  std::string kind, subject, request_id;
  std::string detail = "{}";  // JSON object
  std::string prev_hash, row_hash;
};

// Filters for reading history. Empty strings mean "any". Results are in seq order, starting
// after `after_seq` (the cursor), at most `limit` rows. Filter values are always bound as
// parameters, never spliced into SQL.
struct Query {
  std::string subject, server, target, decision, outcome, kind;
  int64_t from_us = 0;  // ts >= from_us (0: no bound)
  int64_t to_us = 0;    // ts <  to_us (0: no bound)
  int64_t after_seq = 0;
  int limit = 100;
};

// A user as the gateway last saw them (the `users` mirror table; not part of any chain). JSON
// arrays as text.
struct UserRow {
  std::string subject, email, tenant;
  std::string roles = "[]";
  std::string groups = "[]";
  int64_t first_seen_us = 0;
  int64_t last_seen_us = 0;
};

struct ChainHead {
  int64_t seq = 0;       // 0 when the table is empty
  std::string row_hash;  // "" when empty
};

class Store {
 public:
  virtual ~Store() = default;
  // Applies the migrations that are not applied yet (idempotent).
  virtual Status Migrate() = 0;
  // Sets seq/prev_hash/row_hash of `rows` (whatever they held) and inserts them.
  virtual Status AppendToolCalls(std::vector<ToolCallRow>& rows) = 0;
  virtual Status AppendAudit(std::vector<AuditRow>& rows) = 0;
  // Inserts or updates each user: the earliest first_seen_us and the latest last_seen_us are kept;
  // email, tenant, roles and groups are those of the latest sighting.
  virtual Status UpsertUsers(const std::vector<UserRow>& rows) = 0;
  virtual Result<std::optional<UserRow>> FindUser(const std::string& subject) = 0;
  virtual Result<std::vector<ToolCallRow>> QueryToolCalls(const Query& q) = 0;
  virtual Result<std::vector<AuditRow>> QueryAudit(const Query& q) = 0;
  virtual Result<ChainHead> ToolCallsHead() = 0;
  virtual Result<ChainHead> AuditHead() = 0;
  // Every row in seq order, for verification. Stops early when `fn` returns false.
  virtual Status ScanToolCalls(const std::function<bool(const ToolCallRow&)>& fn) = 0;
  virtual Status ScanAudit(const std::function<bool(const AuditRow&)>& fn) = 0;
  virtual std::string Describe() const = 0;  // for logs, without the password
  virtual bool ConcurrentReads() const { return false; }
  // How many reads can run at once when ConcurrentReads() (the size of the read pool).
  virtual size_t ReadConnections() const { return 1; }
  // Background appends (no answer waits for them: the recorder's kAsync mode): a long append then
  // lets other runnable threads have its CPU now and then (CpuPacer), so that a batch does not
  // hold up the request path on a shared core.
  virtual void SetBackground(bool /*background*/) {}
};

// For long stretches of background work on a thread that shares the CPUs with the request path:
// Tick() gives up the CPU (sched_yield, which returns at once when nothing else is runnable there)
// when `every` has passed since it last did. A thread woken onto a CPU that is busy usually waits
// for the running thread's time slice, so without this a background batch of a millisecond holds
// up the loop, or the upstream, for up to a millisecond (measured: p99 at concurrency 1).
class CpuPacer {
 public:
  explicit CpuPacer(bool enabled, std::chrono::microseconds every = std::chrono::microseconds(50))
      : enabled_(enabled), every_(every), last_(std::chrono::steady_clock::now()) {}
  void Tick();

 private:
  bool enabled_;
  std::chrono::microseconds every_;
  std::chrono::steady_clock::time_point last_;
};

// Merges sightings of the same subject into one row (as UpsertUsers() would), in subject order.
std::vector<UserRow> MergeUsers(const std::vector<UserRow>& rows);
// Folds sighting `b` into `a` (same subject).
void MergeUser(UserRow& a, const UserRow& b);

// Opens (and creates, for SQLite) the store named by `dsn`.
Result<std::unique_ptr<Store>> OpenStore(const std::string& dsn);

// The migration files, in order (embedded at build time from services/storage/migrations/).
struct Migration {
  int version;
  std::string name;
  std::string sql;
};
const std::vector<Migration>& Migrations();

}  // namespace mcpgw::history
