// Records tool calls and audit events without putting the database on the request path: rows go
// into a bounded queue, a writer thread commits them in batches (group commit), and the caller is
// told on the loop thread when its row is durable.
//
// Durability: in kSync (the default) a call's response waits for its row (in the database, or in
// the spool file while the database is down), so a gateway killed at any moment has recorded every
// call it answered; the writer is woken for each row and commits at once. kAsync answers at once
// and counts the rows that were queued but not yet written (`at_risk`); the writer is not woken per
// row but lets rows gather for up to `async_flush_interval` (or until `max_batch` are waiting) and
// writes them in one transaction, so it costs the request path no wake-up and little CPU. When the
// database fails, batches are retried with backoff, in order; when the queue is full, Record()
// returns false and the gateway refuses the call rather than lose its record.
// Reads (Query*) run on reader threads of their own when the store allows concurrent reads
// (PostgreSQL's read pool, SQLite's read-only WAL connections): a slow query never delays a
// write; otherwise (an in-memory SQLite database) the writer runs them between batches.
// Thread-safety: Record/Audit/Query*/Stop are called on the loop thread; callbacks run there.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "common/result.h"
#include "history/redact.h"
#include "history/store.h"
#include "io/loop.h"
#include "json/json.h"

namespace mcpgw::history {

enum class Durability { kSync, kAsync };

// A call's arguments as the client sent them. The writer thread turns them into the row's
// args_redacted and args_sha256 (RedactArguments with RecorderOptions::redact), so serializing,
// redacting and hashing them, which costs more the larger they are, is not done on the loop.
struct CallArguments {
  json::value value = json::object();  // own storage (the default resource): read on the writer
  bool hash_only = false;              // a sensitive tool: keep only the hash
};

struct RecorderOptions {
  std::string dsn = "sqlite:///data/history.db";
  Durability durability = Durability::kSync;
  size_t max_queue = 100000;  // rows waiting (tool calls + audit)
  size_t max_batch = 500;
  // kAsync: how long rows may wait for the writer (the longest an answered call stays at risk,
  // unless the database is slow or down); kSync rows never wait for a timer.
  std::chrono::milliseconds async_flush_interval{5};
  // kSync: how long the loop polls for the commit before it sleeps (io::Loop::BusyPollFor). A
  // commit takes tens of microseconds; waking a sleeping loop costs as much again on a VM.
  // Zero: the loop sleeps at once.
  std::chrono::microseconds sync_busy_poll{200};
  // While the database is down, rows are appended here (JSON lines) and the calls are answered;
  // they are replayed in order when it is back. Empty: no spool (rows wait in the queue).
  std::string spool_path;
  size_t spool_max_bytes = size_t{1} << 30;
  RedactOptions redact;  // for CallArguments (its hash_only is set per call)
};

struct RecorderStats {
  uint64_t written = 0;
  uint64_t batches = 0;
  uint64_t failed_attempts = 0;  // batch attempts that the database refused (retried)
  uint64_t refused = 0;          // Record() calls refused because the queue was full
  size_t queued = 0;
  uint64_t spooled = 0;   // rows written to the spool since start
  uint64_t replayed = 0;  // spooled rows written to the database
  uint64_t spool_pending_bytes = 0;
  // kAsync: tool calls already answered whose rows are in neither the database nor the spool
  // (a crash now would lose them). Always 0 in kSync.
  uint64_t at_risk = 0;
  uint64_t users_written = 0;  // users mirror upserts
  std::string last_error;      // the database's last failure; "" once writes succeed again
};

class Recorder {
 public:
  virtual ~Recorder() = default;
  // `durable` runs on the loop thread once the row is committed (kSync), or at once (kAsync).
  // With `args`, the row's args_redacted and args_sha256 are filled from them on the writer thread.
  // Returns false, without calling `durable`, when the queue is full.
  virtual bool Record(ToolCallRow row, std::optional<CallArguments> args,
                      std::function<void()> durable) = 0;
  virtual bool Audit(AuditRow row) = 0;
  // Mirrors a user into the `users` table, off the request path: sightings are merged by subject
  // until written (kept in memory while the database is down; at most max_queue subjects).
  virtual void SeenUser(UserRow user) = 0;
  virtual void QueryToolCalls(Query q,
                              std::function<void(Result<std::vector<ToolCallRow>>)> done) = 0;
  virtual void QueryAudit(Query q, std::function<void(Result<std::vector<AuditRow>>)> done) = 0;
  // Writes everything queued, then stops the writer thread (blocks).
  virtual void Stop() = 0;
  virtual RecorderStats stats() const = 0;
  // False when the queue is full: new calls should be refused before they run.
  virtual bool Accepting() const = 0;
  virtual Durability durability() const = 0;
};

// Opens the store, applies migrations and starts the writer thread.
Result<std::unique_ptr<Recorder>> StartRecorder(io::Loop& loop, const RecorderOptions& options);
// The same over a store that is open and migrated already (options.dsn is not used).
std::unique_ptr<Recorder> StartRecorder(io::Loop& loop, const RecorderOptions& options,
                                        std::unique_ptr<Store> store);

}  // namespace mcpgw::history
