// The embedded history store: one SQLite file in WAL mode. synchronous=NORMAL is durable against a
// killed process (the WAL reaches the OS before COMMIT returns), which is what the default
// durability mode promises; a power cut may lose the last transactions.
#include <sqlite3.h>

#include <algorithm>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <utility>
#include <vector>

#include "history/chain.h"
#include "history/stores.h"

namespace mcpgw::history {
namespace {

constexpr const char* kToolCallColumns =
    "seq, ts_start_us, ts_end_us, request_id, trace_id, session_id, subject, roles, tenant, "
    "client_name, client_version, server, method, target, action, args_redacted, args_sha256, "
    "decision, decision_id, decision_reasons, http_status, rpc_error_code, is_error, outcome, "
    "latency_us, result_bytes, prev_hash, row_hash";
constexpr int kToolCallColumnCount = 28;
constexpr const char* kAuditColumns =
    "seq, ts_us, kind, subject, request_id, detail, prev_hash, row_hash";
constexpr int kAuditColumnCount = 8;

struct StmtDeleter {
  void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};
using Stmt = std::unique_ptr<sqlite3_stmt, StmtDeleter>;
struct DbDeleter {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};

std::string Text(sqlite3_stmt* s, int col) {
  const unsigned char* t = sqlite3_column_text(s, col);
  return t ? std::string(reinterpret_cast<const char*>(t),
                         static_cast<size_t>(sqlite3_column_bytes(s, col)))
           : "";
}

void BindText(sqlite3_stmt* s, int i, const std::string& v) {
  sqlite3_bind_text(s, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
}

// Binds without a copy: `v` must outlive the statement's next step (rows being inserted do), and
// the bindings are cleared before the rows go away.
void BindStatic(sqlite3_stmt* s, int i, const std::string& v) {
  sqlite3_bind_text(s, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
}

ToolCallRow ReadToolCall(sqlite3_stmt* s) {
  ToolCallRow r;
  int c = 0;
  r.seq = sqlite3_column_int64(s, c++);
  r.ts_start_us = sqlite3_column_int64(s, c++);
  r.ts_end_us = sqlite3_column_int64(s, c++);
  for (std::string* f :
       {&r.request_id, &r.trace_id, &r.session_id, &r.subject, &r.roles, &r.tenant, &r.client_name,
        &r.client_version, &r.server, &r.method, &r.target, &r.action, &r.args_redacted,
        &r.args_sha256, &r.decision, &r.decision_id, &r.decision_reasons}) {
    *f = Text(s, c++);
  }
  r.http_status = sqlite3_column_int(s, c++);
  r.rpc_error_code = sqlite3_column_int(s, c++);
  r.is_error = sqlite3_column_int(s, c++) != 0;
  r.outcome = Text(s, c++);
  r.latency_us = sqlite3_column_int64(s, c++);
  r.result_bytes = sqlite3_column_int64(s, c++);
  r.prev_hash = Text(s, c++);
  r.row_hash = Text(s, c++);
  return r;
}

void BindToolCall(sqlite3_stmt* s, const ToolCallRow& r) {
  int i = 1;
  sqlite3_bind_int64(s, i++, r.seq);
  sqlite3_bind_int64(s, i++, r.ts_start_us);
  sqlite3_bind_int64(s, i++, r.ts_end_us);
  for (const std::string* f :
       {&r.request_id, &r.trace_id, &r.session_id, &r.subject, &r.roles, &r.tenant, &r.client_name,
        &r.client_version, &r.server, &r.method, &r.target, &r.action, &r.args_redacted,
        &r.args_sha256, &r.decision, &r.decision_id, &r.decision_reasons}) {
    BindStatic(s, i++, *f);
  }
  sqlite3_bind_int(s, i++, r.http_status);
  sqlite3_bind_int(s, i++, r.rpc_error_code);
  sqlite3_bind_int(s, i++, r.is_error ? 1 : 0);
  BindStatic(s, i++, r.outcome);
  sqlite3_bind_int64(s, i++, r.latency_us);
  sqlite3_bind_int64(s, i++, r.result_bytes);
  BindStatic(s, i++, r.prev_hash);
  BindStatic(s, i++, r.row_hash);
}

AuditRow ReadAudit(sqlite3_stmt* s) {
  AuditRow r;
  r.seq = sqlite3_column_int64(s, 0);
  r.ts_us = sqlite3_column_int64(s, 1);
  r.kind = Text(s, 2);
  r.subject = Text(s, 3);
  r.request_id = Text(s, 4);
  r.detail = Text(s, 5);
  r.prev_hash = Text(s, 6);
  r.row_hash = Text(s, 7);
  return r;
}

void BindAudit(sqlite3_stmt* s, const AuditRow& r) {
  sqlite3_bind_int64(s, 1, r.seq);
  sqlite3_bind_int64(s, 2, r.ts_us);
  BindStatic(s, 3, r.kind);
  BindStatic(s, 4, r.subject);
  BindStatic(s, 5, r.request_id);
  BindStatic(s, 6, r.detail);
  BindStatic(s, 7, r.prev_hash);
  BindStatic(s, 8, r.row_hash);
}

std::string Placeholders(int n) {
  std::string p = "?";
  for (int i = 1; i < n; ++i) p += ",?";
  return p;
}

class SqliteStore : public Store {
 public:
  SqliteStore(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}

  Status Migrate() override {
    if (Status s = Exec("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY "
                        "KEY, name TEXT NOT NULL, "
                        "applied_at_us BIGINT NOT NULL)");
        !s.ok()) {
      return s;
    }
    for (const auto& m : Migrations()) {
      if (Status s = Exec("BEGIN IMMEDIATE"); !s.ok()) return s;
      auto applied = Prepare("SELECT 1 FROM schema_migrations WHERE version = ?");
      if (!applied.ok()) return Rollback(applied.error());
      sqlite3_bind_int(applied->get(), 1, m.version);
      bool done = sqlite3_step(applied->get()) == SQLITE_ROW;
      if (!done) {
        if (Status s = Exec(m.sql); !s.ok())
          return Rollback(MakeError("migration " + m.name + ": " + s.error().message));
        auto ins = Prepare(
            "INSERT INTO schema_migrations (version, name, applied_at_us) VALUES (?, ?, "
            "strftime('%s','now') * 1000000)");
        if (!ins.ok()) return Rollback(ins.error());
        sqlite3_bind_int(ins->get(), 1, m.version);
        BindText(ins->get(), 2, m.name);
        if (sqlite3_step(ins->get()) != SQLITE_DONE)
          return Rollback(LastError("recording migration"));
      }
      if (Status s = Exec("COMMIT"); !s.ok()) return s;
    }
    return {};
  }

  Status AppendToolCalls(std::vector<ToolCallRow>& rows) override {
    return AppendBatch(rows, &insert_call_, "tool_calls", kToolCallColumns, kToolCallColumnCount,
                       BindToolCall);
  }
  Status AppendAudit(std::vector<AuditRow>& rows) override {
    return AppendBatch(rows, &insert_audit_, "audit_events", kAuditColumns, kAuditColumnCount,
                       BindAudit);
  }

  Status UpsertUsers(const std::vector<UserRow>& rows) override {
    if (rows.empty()) return {};
    if (!upsert_user_) {
      // Claims come from the latest sighting; the first and last sightings are kept.
      auto s = Prepare(
          "INSERT INTO users AS u (subject, email, tenant, roles, groups, first_seen_us, "
          "last_seen_us) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (subject) DO UPDATE SET "
          "email = CASE WHEN excluded.last_seen_us >= u.last_seen_us THEN excluded.email "
          "ELSE u.email END, "
          "tenant = CASE WHEN excluded.last_seen_us >= u.last_seen_us THEN excluded.tenant "
          "ELSE u.tenant END, "
          "roles = CASE WHEN excluded.last_seen_us >= u.last_seen_us THEN excluded.roles "
          "ELSE u.roles END, "
          "groups = CASE WHEN excluded.last_seen_us >= u.last_seen_us THEN excluded.groups "
          "ELSE u.groups END, "
          "first_seen_us = MIN(u.first_seen_us, excluded.first_seen_us), "
          "last_seen_us = MAX(u.last_seen_us, excluded.last_seen_us)");
      if (!s.ok()) return s.error();
      upsert_user_ = std::move(s).value();
    }
    if (Status s = Step(&begin_, "BEGIN IMMEDIATE"); !s.ok()) return s;
    for (const UserRow& r : rows) {
      sqlite3_stmt* st = upsert_user_.get();
      sqlite3_reset(st);
      sqlite3_clear_bindings(st);
      int i = 1;
      for (const std::string* f : {&r.subject, &r.email, &r.tenant, &r.roles, &r.groups}) {
        BindText(st, i++, *f);
      }
      sqlite3_bind_int64(st, i++, r.first_seen_us);
      sqlite3_bind_int64(st, i++, r.last_seen_us);
      if (sqlite3_step(st) != SQLITE_DONE) {
        Error e = LastError("upsert into users");
        sqlite3_reset(st);
        return Rollback(e);
      }
    }
    sqlite3_reset(upsert_user_.get());
    return Step(&commit_, "COMMIT");
  }

  Result<std::optional<UserRow>> FindUser(const std::string& subject) override {
    auto reader = TakeReader();
    if (!reader.ok()) return reader.error();
    sqlite3* db = reader->get();
    auto st = Prepare(
        "SELECT subject, email, tenant, roles, groups, first_seen_us, last_seen_us FROM users "
        "WHERE subject = ?",
        db);
    if (!st.ok()) return st.error();
    BindText(st->get(), 1, subject);
    int rc = sqlite3_step(st->get());
    if (rc == SQLITE_DONE) return std::optional<UserRow>();
    if (rc != SQLITE_ROW) return LastError("users", db);
    UserRow r;
    int c = 0;
    for (std::string* f : {&r.subject, &r.email, &r.tenant, &r.roles, &r.groups}) {
      *f = Text(st->get(), c++);
    }
    r.first_seen_us = sqlite3_column_int64(st->get(), c++);
    r.last_seen_us = sqlite3_column_int64(st->get(), c++);
    return std::optional<UserRow>(std::move(r));
  }

  Result<std::vector<ToolCallRow>> QueryToolCalls(const Query& q) override {
    std::string sql = std::string("SELECT ") + kToolCallColumns + " FROM tool_calls WHERE seq > ?";
    std::vector<std::string> texts;
    if (!q.subject.empty()) Filter(sql, texts, " AND subject = ?", q.subject);
    if (!q.server.empty()) Filter(sql, texts, " AND server = ?", q.server);
    if (!q.target.empty()) Filter(sql, texts, " AND target = ?", q.target);
    if (!q.decision.empty()) Filter(sql, texts, " AND decision = ?", q.decision);
    if (!q.outcome.empty()) Filter(sql, texts, " AND outcome = ?", q.outcome);
    return RunQuery<ToolCallRow>(sql, "ts_start_us", texts, q, ReadToolCall);
  }

  Result<std::vector<AuditRow>> QueryAudit(const Query& q) override {
    std::string sql = std::string("SELECT ") + kAuditColumns + " FROM audit_events WHERE seq > ?";
    std::vector<std::string> texts;
    if (!q.subject.empty()) Filter(sql, texts, " AND subject = ?", q.subject);
    if (!q.kind.empty()) Filter(sql, texts, " AND kind = ?", q.kind);
    return RunQuery<AuditRow>(sql, "ts_us", texts, q, ReadAudit);
  }

  Result<ChainHead> ToolCallsHead() override { return Head("tool_calls"); }
  Result<ChainHead> AuditHead() override { return Head("audit_events"); }

  Status ScanToolCalls(const std::function<bool(const ToolCallRow&)>& fn) override {
    return Scan(std::string("SELECT ") + kToolCallColumns + " FROM tool_calls ORDER BY seq",
                ReadToolCall, fn);
  }
  Status ScanAudit(const std::function<bool(const AuditRow&)>& fn) override {
    return Scan(std::string("SELECT ") + kAuditColumns + " FROM audit_events ORDER BY seq",
                ReadAudit, fn);
  }

  std::string Describe() const override { return "sqlite:" + path_; }
  // Reads get connections of their own (WAL: readers never wait for the writer, nor the writer
  // for them), except for an in-memory database, which only its own connection sees.
  bool ConcurrentReads() const override { return !InMemory(); }
  size_t ReadConnections() const override { return kReadConnections; }
  void SetBackground(bool background) override { background_ = background; }

 private:
  Status Exec(const std::string& sql) {
    char* err = nullptr;
    if (sqlite3_exec(db_.get(), sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
      std::string msg = err ? err : "unknown error";
      sqlite3_free(err);
      return MakeError("sqlite: " + msg);
    }
    return {};
  }
  Error LastError(const std::string& what, sqlite3* db = nullptr) {
    return MakeError("sqlite: " + what + ": " + sqlite3_errmsg(db ? db : db_.get()));
  }
  Status Rollback(Error e) {
    static_cast<void>(Exec("ROLLBACK"));  // the original error is what matters
    return e;
  }
  Result<Stmt> Prepare(const std::string& sql, sqlite3* db = nullptr) {
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(db ? db : db_.get(), sql.c_str(), -1, &s, nullptr) != SQLITE_OK)
      return LastError("prepare", db);
    return Stmt(s);
  }

  bool InMemory() const { return path_.empty() || path_ == ":memory:"; }

  // A read connection, back to the pool when the lease ends. At most kReadConnections exist (the
  // in-memory case reads on the writer's own connection, which is then only used by one thread).
  class Lease {
   public:
    Lease(SqliteStore* store, sqlite3* db) : store_(store), db_(db) {}
    Lease(Lease&& o) noexcept : store_(o.store_), db_(std::exchange(o.db_, nullptr)) {}
    Lease& operator=(Lease&&) = delete;
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    ~Lease() {
      if (db_ && store_) store_->GiveReader(db_);
    }
    sqlite3* get() const { return db_; }

   private:
    SqliteStore* store_;
    sqlite3* db_;
  };

  Result<Lease> TakeReader() {
    if (InMemory()) return Lease(nullptr, db_.get());
    std::unique_lock<std::mutex> lock(readers_mu_);
    readers_cv_.wait(lock, [&] { return !idle_.empty() || open_readers_ < kReadConnections; });
    if (!idle_.empty()) {
      sqlite3* db = idle_.back().release();
      idle_.pop_back();
      return Lease(this, db);
    }
    ++open_readers_;
    lock.unlock();
    sqlite3* db = nullptr;
    int rc =
        sqlite3_open_v2(path_.c_str(), &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nullptr);
    if (rc != SQLITE_OK) {
      std::string msg = db ? sqlite3_errmsg(db) : "out of memory";
      sqlite3_close_v2(db);
      lock.lock();
      --open_readers_;
      readers_cv_.notify_one();
      return MakeError("sqlite: cannot open a read connection: " + msg);
    }
    sqlite3_busy_timeout(db, 5000);
    return Lease(this, db);
  }

  void GiveReader(sqlite3* db) {
    {
      std::lock_guard<std::mutex> lock(readers_mu_);
      idle_.emplace_back(db);
    }
    readers_cv_.notify_one();
  }

  static void Filter(std::string& sql, std::vector<std::string>& texts, const char* clause,
                     const std::string& v) {
    sql += clause;
    texts.push_back(v);
  }

  template <class Row, class Bind>
  Status AppendBatch(std::vector<Row>& rows, Stmt* cached, const char* table, const char* cols,
                     int ncols, Bind bind) {
    if (rows.empty()) return {};
    if (!*cached) {
      auto s = Prepare(std::string("INSERT INTO ") + table + " (" + cols + ") VALUES (" +
                       Placeholders(ncols) + ")");
      if (!s.ok()) return s.error();
      *cached = std::move(s).value();
    }
    // BEGIN IMMEDIATE takes SQLite's write lock: no other writer (process) can append between
    // reading the head and committing. The statements of this hot path are prepared once.
    if (Status s = Step(&begin_, "BEGIN IMMEDIATE"); !s.ok()) return s;
    auto head = CachedHead(table);
    if (!head.ok()) return Rollback(head.error());
    sqlite3_stmt* st = cached->get();
    CpuPacer pacer(background_);
    for (auto& r : rows) {
      pacer.Tick();
      Link(r, *head);
      sqlite3_reset(st);
      bind(st, r);  // every column: nothing is left from the previous row
      if (sqlite3_step(st) != SQLITE_DONE) {
        Error e = LastError(std::string("insert into ") + table);
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
        return Rollback(e);
      }
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);  // no pointers into `rows` stay bound
    return Step(&commit_, "COMMIT");
  }

  // Runs a cached parameterless statement (BEGIN/COMMIT).
  Status Step(Stmt* cached, const char* sql) {
    if (!*cached) {
      auto st = Prepare(sql);
      if (!st.ok()) return st.error();
      *cached = std::move(st).value();
    }
    int rc = sqlite3_step(cached->get());
    sqlite3_reset(cached->get());
    if (rc != SQLITE_DONE) return LastError(sql);
    return {};
  }

  Result<ChainHead> CachedHead(const char* table) {
    bool calls = std::string_view(table) == "tool_calls";
    Stmt* cached = calls ? &head_calls_ : &head_audit_;
    if (!*cached) {
      auto st =
          Prepare(std::string("SELECT seq, row_hash FROM ") + table + " ORDER BY seq DESC LIMIT 1");
      if (!st.ok()) return st.error();
      *cached = std::move(st).value();
    }
    ChainHead h;
    int rc = sqlite3_step(cached->get());
    if (rc == SQLITE_ROW) {
      h.seq = sqlite3_column_int64(cached->get(), 0);
      h.row_hash = Text(cached->get(), 1);
      rc = SQLITE_DONE;
    }
    sqlite3_reset(cached->get());
    if (rc != SQLITE_DONE) return LastError("head");
    return h;
  }

  template <class Row, class Read>
  Result<std::vector<Row>> RunQuery(std::string sql, const char* ts_col,
                                    const std::vector<std::string>& texts, const Query& q,
                                    Read read) {
    if (q.from_us > 0) sql += std::string(" AND ") + ts_col + " >= ?";
    if (q.to_us > 0) sql += std::string(" AND ") + ts_col + " < ?";
    sql += " ORDER BY seq LIMIT ?";
    auto reader = TakeReader();
    if (!reader.ok()) return reader.error();
    sqlite3* db = reader->get();
    auto st = Prepare(sql, db);
    if (!st.ok()) return st.error();
    int i = 1;
    sqlite3_bind_int64(st->get(), i++, q.after_seq);
    for (const auto& t : texts) BindText(st->get(), i++, t);
    if (q.from_us > 0) sqlite3_bind_int64(st->get(), i++, q.from_us);
    if (q.to_us > 0) sqlite3_bind_int64(st->get(), i++, q.to_us);
    sqlite3_bind_int(st->get(), i++, std::clamp(q.limit, 1, 1000));
    std::vector<Row> out;
    int rc;
    while ((rc = sqlite3_step(st->get())) == SQLITE_ROW) out.push_back(read(st->get()));
    if (rc != SQLITE_DONE) return LastError("query", db);
    return out;
  }

  Result<ChainHead> Head(const char* table) {
    auto st =
        Prepare(std::string("SELECT seq, row_hash FROM ") + table + " ORDER BY seq DESC LIMIT 1");
    if (!st.ok()) return st.error();
    ChainHead h;
    int rc = sqlite3_step(st->get());
    if (rc == SQLITE_ROW) {
      h.seq = sqlite3_column_int64(st->get(), 0);
      h.row_hash = Text(st->get(), 1);
    } else if (rc != SQLITE_DONE) {
      return LastError("head");
    }
    return h;
  }

  template <class Row, class Read>
  Status Scan(const std::string& sql, Read read, const std::function<bool(const Row&)>& fn) {
    auto reader = TakeReader();
    if (!reader.ok()) return reader.error();
    sqlite3* db = reader->get();
    auto st = Prepare(sql, db);
    if (!st.ok()) return st.error();
    int rc;
    while ((rc = sqlite3_step(st->get())) == SQLITE_ROW) {
      if (!fn(read(st->get()))) return {};
    }
    if (rc != SQLITE_DONE) return LastError("scan", db);
    return {};
  }

  static constexpr size_t kReadConnections = 2;
  // The pool of read connections (see TakeReader).
  std::mutex readers_mu_;
  std::condition_variable readers_cv_;
  std::vector<std::unique_ptr<sqlite3, DbDeleter>> idle_;
  size_t open_readers_ = 0;
  std::unique_ptr<sqlite3, DbDeleter> db_;
  std::string path_;
  Stmt insert_call_, insert_audit_, upsert_user_, begin_, commit_, head_calls_, head_audit_;
  bool background_ = false;
};

}  // namespace

Result<std::unique_ptr<Store>> OpenSqliteStore(const std::string& path) {
  std::error_code ec;
  std::filesystem::path p(path);
  if (p.has_parent_path()) std::filesystem::create_directories(p.parent_path(), ec);
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(
      path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close_v2(db);
    return MakeError("cannot open history database " + path + ": " + msg);
  }
  auto store = std::make_unique<SqliteStore>(db, path);
  for (const char* pragma :
       {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL", "PRAGMA busy_timeout=5000",
        "PRAGMA cache_size=-32768", "PRAGMA mmap_size=268435456"}) {
    char* err = nullptr;
    if (sqlite3_exec(db, pragma, nullptr, nullptr, &err) != SQLITE_OK) {
      std::string msg = err ? err : "?";
      sqlite3_free(err);
      std::string what = "history database " + path;
      what += ": ";
      what += msg;
      return MakeError(what);
    }
  }
  return std::unique_ptr<Store>(std::move(store));
}

}  // namespace mcpgw::history
