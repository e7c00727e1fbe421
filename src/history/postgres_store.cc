// The PostgreSQL history store (libpq, synchronous). Every value travels as a query parameter in
// text format; SQL text is assembled only from the fixed fragments in this file. A batch is one
// INSERT ... SELECT FROM unnest() with one array parameter per column: a small statement to parse
// whatever the batch size, and no prepared state to lose on a reconnect or behind a pooler.
//
// Several gateways may share one database: an append takes a per-table advisory lock for its
// transaction, reads the chain head, links its rows after it and inserts them, so all writers
// extend one chain. (An advisory lock needs no table privilege beyond INSERT and SELECT, so the
// gateway's role can be denied UPDATE and DELETE on the history.)
//
// Connection loss: a call that finds the connection broken, before or during its work, resets it
// once (PQreset) and tries again; if that fails too, the call fails. When the COMMIT of an append
// was sent but its answer lost, the batch either landed whole or not at all: the store looks for
// the batch's last row (same seq, same hash) before deciding to append it again. When the server
// cannot be reached to ask, the question waits for the next append to that table (the recorder
// hands the same rows back first, retried or replayed from its spool): rows that had landed are
// not written a second time.
#include <libpq-fe.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <limits>
#include <mutex>
#include <optional>
#include <span>
#include <string_view>
#include <type_traits>

#include "common/log.h"
#include "history/chain.h"
#include "history/stores.h"

namespace mcpgw::history {
namespace {

struct ConnCloser {
  void operator()(PGconn* c) const { PQfinish(c); }
};
struct ResultCloser {
  void operator()(PGresult* r) const { PQclear(r); }
};
using ConnPtr = std::unique_ptr<PGconn, ConnCloser>;
using PgResult = std::unique_ptr<PGresult, ResultCloser>;

// Transaction-level advisory locks: Migrate() across processes, and appends to each table.
constexpr int64_t kMigrationLockKey = 0x6d63706777000001;
constexpr int64_t kToolCallsLockKey = 0x6d63706777000002;
constexpr int64_t kAuditLockKey = 0x6d63706777000003;
constexpr int kMaxLimit = 1000;
constexpr int kScanChunk = 1000;
// Connections for reads (API queries, exports, verification), besides the writer's one.
constexpr size_t kReadConnections = 4;

constexpr const char* kToolCallColumns =
    "seq, ts_start_us, ts_end_us, request_id, trace_id, session_id, subject, roles, tenant, "
    "client_name, client_version, server, method, target, action, args_redacted, args_sha256, "
    "decision, decision_id, decision_reasons, http_status, rpc_error_code, is_error, outcome, "
    "latency_us, result_bytes, prev_hash, row_hash";
// Their types, in the same order (for the unnest() that inserts a batch).
constexpr const char* kToolCallTypes[] = {
    "bigint",  "bigint",  "bigint",   "text", "text",   "text",   "text", "text", "text", "text",
    "text",    "text",    "text",     "text", "text",   "text",   "text", "text", "text", "text",
    "integer", "integer", "smallint", "text", "bigint", "bigint", "text", "text"};

constexpr const char* kAuditColumns =
    "seq, ts_us, kind, subject, request_id, detail, prev_hash, row_hash";
constexpr const char* kAuditTypes[] = {"bigint", "bigint", "text", "text",
                                       "text",   "text",   "text", "text"};

constexpr size_t CountColumns(std::string_view list) {
  return static_cast<size_t>(std::count(list.begin(), list.end(), ',')) + 1;
}
static_assert(CountColumns(kToolCallColumns) == std::size(kToolCallTypes));
static_assert(CountColumns(kAuditColumns) == std::size(kAuditTypes));

// Text-format query parameters. A deque keeps each value (and so each pointer handed to libpq) in
// place as more are added.
class Params {
 public:
  Params() = default;
  Params(const Params&) = delete;  // ptrs_ point into store_
  Params& operator=(const Params&) = delete;
  Params(Params&&) = default;  // moving a deque keeps its elements where they are
  Params& operator=(Params&&) = default;

  void Add(std::string_view s) { Push(std::string(s)); }
  void Add(int64_t v) { Push(std::to_string(v)); }
  void Add(int v) { Push(std::to_string(v)); }

  int size() const { return static_cast<int>(ptrs_.size()); }
  const char* const* values() const { return ptrs_.data(); }
  // The placeholder of the parameter added next: "$<n>".
  std::string Next() const { return "$" + std::to_string(ptrs_.size() + 1); }

 private:
  void Push(std::string s) {
    store_.push_back(std::move(s));
    ptrs_.push_back(store_.back().c_str());
  }
  std::deque<std::string> store_;
  std::vector<const char*> ptrs_;
};

// One PostgreSQL array literal per column ("{1,2}", "{\"a\",\"b\"}"), filled row by row, so a
// whole batch travels as one parameter per column.
class ColumnArrays {
 public:
  explicit ColumnArrays(size_t columns) : arrays_(columns, "{") {}
  void Add(std::string_view s) {
    std::string& a = Next();
    a += '"';
    for (char ch : s) {
      if (ch == '"' || ch == '\\') a += '\\';
      a += ch;
    }
    a += '"';
  }
  void Add(int64_t v) { Next() += std::to_string(v); }
  void Add(int v) { Next() += std::to_string(v); }
  Params Finish() {
    Params p;
    for (std::string& a : arrays_) {
      a += '}';
      p.Add(a);
    }
    return p;
  }

 private:
  std::string& Next() {
    std::string& a = arrays_[column_];
    if (rows_ > 0) a += ',';
    if (++column_ == arrays_.size()) {
      column_ = 0;
      ++rows_;
    }
    return a;
  }
  std::vector<std::string> arrays_;
  size_t column_ = 0;
  size_t rows_ = 0;
};

std::string Trimmed(const char* message) {
  std::string msg = message != nullptr ? message : "";
  while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
  return msg;
}

int64_t ToInt64(const char* s) {
  int64_t v = 0;
  std::from_chars(s, s + std::strlen(s), v);
  return v;
}

// Length of the valid UTF-8 sequence at s[i] (as PostgreSQL checks it: no overlong forms, no
// surrogates, nothing above U+10FFFF), or 0.
size_t Utf8SequenceLength(std::string_view s, size_t i) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = byte(i);
  if (c >= 0x01 && c < 0x80) return 1;
  size_t len = 0;
  unsigned char lo = 0x80, hi = 0xbf;  // allowed range of the second byte
  if (c >= 0xc2 && c <= 0xdf) {
    len = 2;
  } else if (c >= 0xe0 && c <= 0xef) {
    len = 3;
    if (c == 0xe0) lo = 0xa0;
    if (c == 0xed) hi = 0x9f;
  } else if (c >= 0xf0 && c <= 0xf4) {
    len = 4;
    if (c == 0xf0) lo = 0x90;
    if (c == 0xf4) hi = 0x8f;
  } else {
    return 0;  // NUL, a continuation byte, or a byte that never starts a sequence
  }
  if (i + len > s.size() || byte(i + 1) < lo || byte(i + 1) > hi) return 0;
  for (size_t k = 2; k < len; ++k) {
    if ((byte(i + k) & 0xc0) != 0x80) return 0;
  }
  return len;
}

// PostgreSQL TEXT holds neither NUL bytes nor (in a UTF8 database) invalid UTF-8, and one such
// value would fail the whole batch. They become U+FFFD before the row is hashed, so the chain
// covers exactly what is stored.
void Scrub(std::string& s) {
  size_t i = 0;
  for (size_t len = 0; i < s.size() && (len = Utf8SequenceLength(s, i)) > 0;) i += len;
  if (i == s.size()) return;  // the common case: nothing to replace
  std::string out = s.substr(0, i);
  while (i < s.size()) {
    size_t len = Utf8SequenceLength(s, i);
    if (len == 0) {
      out += "\xef\xbf\xbd";
      len = 1;
    } else {
      out.append(s, i, len);
    }
    i += len;
  }
  s = std::move(out);
}

void Scrub(ToolCallRow& r) {
  for (std::string* f :
       {&r.request_id, &r.trace_id, &r.session_id, &r.subject, &r.roles, &r.tenant, &r.client_name,
        &r.client_version, &r.server, &r.method, &r.target, &r.action, &r.args_redacted,
        &r.args_sha256, &r.decision, &r.decision_id, &r.decision_reasons, &r.outcome}) {
    Scrub(*f);
  }
}

void Scrub(AuditRow& r) {
  for (std::string* f : {&r.kind, &r.subject, &r.request_id, &r.detail}) Scrub(*f);
}

template <class Sink>
void AddRow(const ToolCallRow& r, Sink& p) {
  p.Add(r.seq);
  p.Add(r.ts_start_us);
  p.Add(r.ts_end_us);
  p.Add(r.request_id);
  p.Add(r.trace_id);
  p.Add(r.session_id);
  p.Add(r.subject);
  p.Add(r.roles);
  p.Add(r.tenant);
  p.Add(r.client_name);
  p.Add(r.client_version);
  p.Add(r.server);
  p.Add(r.method);
  p.Add(r.target);
  p.Add(r.action);
  p.Add(r.args_redacted);
  p.Add(r.args_sha256);
  p.Add(r.decision);
  p.Add(r.decision_id);
  p.Add(r.decision_reasons);
  p.Add(r.http_status);
  p.Add(r.rpc_error_code);
  p.Add(r.is_error ? 1 : 0);
  p.Add(r.outcome);
  p.Add(r.latency_us);
  p.Add(r.result_bytes);
  p.Add(r.prev_hash);
  p.Add(r.row_hash);
}

template <class Sink>
void AddRow(const AuditRow& r, Sink& p) {
  p.Add(r.seq);
  p.Add(r.ts_us);
  p.Add(r.kind);
  p.Add(r.subject);
  p.Add(r.request_id);
  p.Add(r.detail);
  p.Add(r.prev_hash);
  p.Add(r.row_hash);
}

// Reads row `i` of a result whose columns are kToolCallColumns, in order.
ToolCallRow ReadToolCall(const PGresult* res, int i) {
  int c = 0;
  auto text = [&] { return std::string(PQgetvalue(res, i, c++)); };
  auto int64 = [&] { return ToInt64(PQgetvalue(res, i, c++)); };
  ToolCallRow r;
  r.seq = int64();
  r.ts_start_us = int64();
  r.ts_end_us = int64();
  r.request_id = text();
  r.trace_id = text();
  r.session_id = text();
  r.subject = text();
  r.roles = text();
  r.tenant = text();
  r.client_name = text();
  r.client_version = text();
  r.server = text();
  r.method = text();
  r.target = text();
  r.action = text();
  r.args_redacted = text();
  r.args_sha256 = text();
  r.decision = text();
  r.decision_id = text();
  r.decision_reasons = text();
  r.http_status = static_cast<int>(int64());
  r.rpc_error_code = static_cast<int>(int64());
  r.is_error = int64() != 0;
  r.outcome = text();
  r.latency_us = int64();
  r.result_bytes = int64();
  r.prev_hash = text();
  r.row_hash = text();
  return r;
}

AuditRow ReadAudit(const PGresult* res, int i) {
  int c = 0;
  auto text = [&] { return std::string(PQgetvalue(res, i, c++)); };
  AuditRow r;
  r.seq = ToInt64(PQgetvalue(res, i, c++));
  r.ts_us = ToInt64(PQgetvalue(res, i, c++));
  r.kind = text();
  r.subject = text();
  r.request_id = text();
  r.detail = text();
  r.prev_hash = text();
  r.row_hash = text();
  return r;
}

// The per-table facts the generic code below needs.
template <class Row>
struct Table;
template <>
struct Table<ToolCallRow> {
  static constexpr const char* kName = "tool_calls";
  static constexpr const char* kColumns = kToolCallColumns;
  static constexpr const auto& kTypes = kToolCallTypes;
  static constexpr const char* kTimeColumn = "ts_start_us";
  static constexpr int64_t kLockKey = kToolCallsLockKey;
  static ToolCallRow Read(const PGresult* res, int i) { return ReadToolCall(res, i); }
};
template <>
struct Table<AuditRow> {
  static constexpr const char* kName = "audit_events";
  static constexpr const char* kColumns = kAuditColumns;
  static constexpr const auto& kTypes = kAuditTypes;
  static constexpr const char* kTimeColumn = "ts_us";
  static constexpr int64_t kLockKey = kAuditLockKey;
  static AuditRow Read(const PGresult* res, int i) { return ReadAudit(res, i); }
};

// "INSERT INTO t (cols) SELECT * FROM unnest($1::type[], ...)": one parameter per column, whatever
// the batch size, so the statement stays small to parse and plan.
template <class Row>
const std::string& InsertSql() {
  static const std::string sql = [] {
    std::string out = std::string("INSERT INTO ") + Table<Row>::kName + " (" +
                      Table<Row>::kColumns + ") SELECT * FROM unnest(";
    for (size_t i = 0; i < std::size(Table<Row>::kTypes); ++i) {
      out += (i == 0 ? "$" : ", $") + std::to_string(i + 1) + "::" + Table<Row>::kTypes[i] + "[]";
    }
    return out + ")";
  }();
  return sql;
}

void LogNotice(void* /*arg*/, const char* message) {
  // NOTICEs such as "relation already exists, skipping" would otherwise go to stderr.
  log::Debug("postgres notice", {{"message", std::string_view(message)}});
}

// One libpq connection, and the policy for a broken one: reset it once and try again.
// Not thread-safe: one thread uses a connection at a time.
class Connection {
 public:
  Connection(ConnPtr conn, const std::string& description)
      : conn_(std::move(conn)), description_(description) {}

  bool ok() const { return PQstatus(conn_.get()) == CONNECTION_OK; }

  // Runs `op`; when the connection is (or turns out to be) broken, resets it once and runs `op`
  // again. For writes, `landed` is asked first whether the cut-off attempt committed after all.
  template <class Op>
  auto Run(Op&& op, const std::function<Result<bool>()>& landed = nullptr) -> decltype(op()) {
    bool reset = false;
    if (PQstatus(conn_.get()) != CONNECTION_OK) {
      if (auto st = Reset(); !st.ok()) return st.error();
      reset = true;
    }
    auto result = op();
    if (result.ok() || reset || PQstatus(conn_.get()) != CONNECTION_BAD) return result;
    if (auto st = Reset(); !st.ok()) {
      return MakeError(result.error().message + "; " + st.error().message);
    }
    if constexpr (std::is_same_v<decltype(op()), Status>) {
      if (landed) {
        auto done = landed();
        if (!done.ok()) return done.error();
        if (*done) return Status();
      }
    }
    return op();
  }

  // One statement; `p` may be null for a parameterless one (several statements are allowed then).
  Result<PgResult> Exec(const std::string& sql, const Params* p = nullptr) {
    PgResult res(p == nullptr ? PQexec(conn_.get(), sql.c_str())
                              : PQexecParams(conn_.get(), sql.c_str(), p->size(), nullptr,
                                             p->values(), nullptr, nullptr, 0));
    ExecStatusType status = PQresultStatus(res.get());
    if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return res;
    std::string msg = res ? Trimmed(PQresultErrorMessage(res.get())) : "";
    if (msg.empty()) msg = ErrorText();
    return MakeError("postgres: " + msg);
  }

  Status ExecStatus(const std::string& sql, const Params* p = nullptr) {
    auto res = Exec(sql, p);
    if (!res.ok()) return res.error();
    return {};
  }

  // Runs `body` between BEGIN and COMMIT; rolls back when it fails. Sets `*commit_sent` when the
  // COMMIT went out (from then on, a lost connection leaves the outcome unknown).
  template <class Body>
  Status InTransaction(Body&& body, bool* commit_sent = nullptr) {
    if (auto st = ExecStatus("BEGIN"); !st.ok()) return st;
    Status st = body();
    if (st.ok()) {
      if (commit_sent != nullptr) *commit_sent = true;
      st = ExecStatus("COMMIT");
    }
    if (!st.ok() && PQstatus(conn_.get()) == CONNECTION_OK) (void)ExecStatus("ROLLBACK");
    return st;
  }

  Status Lock(int64_t key) {
    Params p;
    p.Add(key);
    return ExecStatus("SELECT pg_advisory_xact_lock($1::bigint)", &p);
  }

  // Rows matching `where` (whose values are in `p`), in seq order, at most `limit`.
  template <class Row>
  Result<std::vector<Row>> Select(const std::string& where, Params& p, int limit) {
    std::string sql = std::string("SELECT ") + Table<Row>::kColumns + " FROM " + Table<Row>::kName +
                      " WHERE " + where + " ORDER BY seq LIMIT " + p.Next();
    p.Add(limit);
    return Run([&]() -> Result<std::vector<Row>> {
      auto res = Exec(sql, &p);
      if (!res.ok()) return res.error();
      std::vector<Row> out;
      int n = PQntuples(res->get());
      out.reserve(static_cast<size_t>(n));
      for (int i = 0; i < n; ++i) out.push_back(Table<Row>::Read(res->get(), i));
      return out;
    });
  }

  // The last row of `table` (no retry: callers run it through Run() or inside a transaction).
  Result<ChainHead> Head(const char* table) {
    auto res =
        Exec(std::string("SELECT seq, row_hash FROM ") + table + " ORDER BY seq DESC LIMIT 1");
    if (!res.ok()) return res.error();
    ChainHead head;
    if (PQntuples(res->get()) == 1) {
      head.seq = ToInt64(PQgetvalue(res->get(), 0, 0));
      head.row_hash = PQgetvalue(res->get(), 0, 1);
    }
    return head;
  }

 private:
  Status Reset() {
    PQreset(conn_.get());
    if (PQstatus(conn_.get()) == CONNECTION_OK) {
      log::Info("history store reconnected", {{"store", description_}});
      return {};
    }
    return MakeError("reconnecting to " + description_ + " failed: " + ErrorText());
  }

  std::string ErrorText() const { return Trimmed(PQerrorMessage(conn_.get())); }

  ConnPtr conn_;
  const std::string description_;
};

// Opens a connection with the gateway's defaults (which the DSN's own parameters override).
Result<ConnPtr> Connect(const std::string& conninfo, const std::string& description) {
  const char* const keywords[] = {"connect_timeout", "client_encoding", "fallback_application_name",
                                  "dbname", nullptr};
  const char* const values[] = {"10", "UTF8", "mcpgw", conninfo.c_str(), nullptr};
  ConnPtr conn(PQconnectdbParams(keywords, values, /*expand_dbname=*/1));
  if (conn == nullptr) return MakeError("postgres: out of memory");
  if (PQstatus(conn.get()) != CONNECTION_OK) {
    return MakeError("connecting to " + description + ": " + Trimmed(PQerrorMessage(conn.get())));
  }
  PQsetNoticeProcessor(conn.get(), LogNotice, nullptr);
  return conn;
}

// The connections that reads use, apart from the writer's: at most `max`, opened when first
// needed and kept. A read waits for a free one when all are busy; thread-safe.
class ReadPool {
 public:
  ReadPool(std::string conninfo, std::string description, size_t max)
      : conninfo_(std::move(conninfo)), description_(std::move(description)), max_(max) {}

  // Runs fn(Connection&) on a connection of the pool; the connection's own error when none can
  // be opened.
  template <class Fn>
  auto With(Fn&& fn) -> decltype(fn(std::declval<Connection&>())) {
    std::unique_ptr<Connection> c;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return !idle_.empty() || open_ < max_; });
      if (!idle_.empty()) {
        c = std::move(idle_.back());
        idle_.pop_back();
      } else {
        ++open_;
      }
    }
    if (!c) {
      auto conn = Connect(conninfo_, description_);
      if (!conn.ok()) {
        Release(nullptr);
        return conn.error();
      }
      c = std::make_unique<Connection>(std::move(conn).value(), description_);
    }
    auto result = fn(*c);
    Release(std::move(c));
    return result;
  }

  size_t open() const {
    std::lock_guard<std::mutex> lock(mu_);
    return open_;
  }

 private:
  // Gives a connection back (a broken one too: its next user resets it); null: one failed to open.
  void Release(std::unique_ptr<Connection> c) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (c) {
        idle_.push_back(std::move(c));
      } else {
        --open_;
      }
    }
    cv_.notify_one();
  }

  const std::string conninfo_;  // with the password: never logged
  const std::string description_;
  const size_t max_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<Connection>> idle_;
  size_t open_ = 0;  // idle or in use
};

class PostgresStore : public Store {
 public:
  PostgresStore(ConnPtr conn, const std::string& conninfo, std::string description)
      : description_(std::move(description)),
        writer_(std::move(conn), description_),
        pool_(conninfo, description_, kReadConnections) {}

  bool ConcurrentReads() const override { return true; }
  size_t ReadConnections() const override { return kReadConnections; }

  Status Migrate() override {
    for (const Migration& m : Migrations()) {
      if (auto st = writer_.Run([&] { return ApplyMigration(m); }); !st.ok()) {
        return MakeError("migration " + m.name + ": " + st.error().message);
      }
    }
    return {};
  }

  Status AppendToolCalls(std::vector<ToolCallRow>& rows) override { return Append(rows); }
  Status AppendAudit(std::vector<AuditRow>& rows) override { return Append(rows); }

  // One statement for the whole batch (one array per column); an upsert, so running it again
  // after a reset is harmless.
  Status UpsertUsers(const std::vector<UserRow>& in) override {
    if (in.empty()) return {};
    std::vector<UserRow> rows = MergeUsers(in);  // ON CONFLICT may touch each row only once
    ColumnArrays arrays(7);
    for (UserRow& r : rows) {
      for (std::string* f : {&r.subject, &r.email, &r.tenant, &r.roles, &r.groups}) {
        Scrub(*f);
        arrays.Add(*f);
      }
      arrays.Add(r.first_seen_us);
      arrays.Add(r.last_seen_us);
    }
    Params p = arrays.Finish();
    static const std::string sql =
        "INSERT INTO users AS u (subject, email, tenant, roles, groups, first_seen_us, "
        "last_seen_us) SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], "
        "$5::text[], $6::bigint[], $7::bigint[]) ON CONFLICT (subject) DO UPDATE SET "
        "email = CASE WHEN excluded.last_seen_us >= u.last_seen_us THEN excluded.email "
        "ELSE u.email END, "
        "tenant = CASE WHEN excluded.last_seen_us >= u.last_seen_us THEN excluded.tenant "
        "ELSE u.tenant END, "
        "roles = CASE WHEN excluded.last_seen_us >= u.last_seen_us THEN excluded.roles "
        "ELSE u.roles END, "
        "groups = CASE WHEN excluded.last_seen_us >= u.last_seen_us THEN excluded.groups "
        "ELSE u.groups END, "
        "first_seen_us = LEAST(u.first_seen_us, excluded.first_seen_us), "
        "last_seen_us = GREATEST(u.last_seen_us, excluded.last_seen_us)";
    Status st = writer_.Run([&] { return writer_.ExecStatus(sql, &p); });
    if (!st.ok()) return MakeError("upserting users: " + st.error().message);
    return {};
  }

  Result<std::optional<UserRow>> FindUser(const std::string& subject) override {
    Params p;
    p.Add(subject);
    return pool_.With([&](Connection& c) {
      return c.Run([&]() -> Result<std::optional<UserRow>> {
        auto res = c.Exec(
            "SELECT subject, email, tenant, roles, groups, first_seen_us, last_seen_us FROM users "
            "WHERE subject = $1",
            &p);
        if (!res.ok()) return res.error();
        if (PQntuples(res->get()) == 0) return std::optional<UserRow>();
        UserRow r;
        int c = 0;
        for (std::string* f : {&r.subject, &r.email, &r.tenant, &r.roles, &r.groups}) {
          *f = PQgetvalue(res->get(), 0, c++);
        }
        r.first_seen_us = ToInt64(PQgetvalue(res->get(), 0, c++));
        r.last_seen_us = ToInt64(PQgetvalue(res->get(), 0, c++));
        return std::optional<UserRow>(std::move(r));
      });
    });
  }

  Result<std::vector<ToolCallRow>> QueryToolCalls(const Query& q) override {
    Params p;
    std::string where = "seq > " + p.Next();
    p.Add(q.after_seq);
    AddEquals(where, p, "subject", q.subject);
    AddEquals(where, p, "server", q.server);
    AddEquals(where, p, "target", q.target);
    AddEquals(where, p, "decision", q.decision);
    AddEquals(where, p, "outcome", q.outcome);
    AddTimeRange<ToolCallRow>(where, p, q);
    return pool_.With(
        [&](Connection& c) { return c.Select<ToolCallRow>(where, p, ClampLimit(q.limit)); });
  }

  Result<std::vector<AuditRow>> QueryAudit(const Query& q) override {
    Params p;
    std::string where = "seq > " + p.Next();
    p.Add(q.after_seq);
    AddEquals(where, p, "kind", q.kind);
    AddEquals(where, p, "subject", q.subject);
    AddTimeRange<AuditRow>(where, p, q);
    return pool_.With(
        [&](Connection& c) { return c.Select<AuditRow>(where, p, ClampLimit(q.limit)); });
  }

  Result<ChainHead> ToolCallsHead() override {
    return writer_.Run([&] { return writer_.Head(Table<ToolCallRow>::kName); });
  }
  Result<ChainHead> AuditHead() override {
    return writer_.Run([&] { return writer_.Head(Table<AuditRow>::kName); });
  }

  Status ScanToolCalls(const std::function<bool(const ToolCallRow&)>& fn) override {
    return Scan<ToolCallRow>(fn);
  }
  Status ScanAudit(const std::function<bool(const AuditRow&)>& fn) override {
    return Scan<AuditRow>(fn);
  }

  std::string Describe() const override { return description_; }

 private:
  static int ClampLimit(int limit) { return std::clamp(limit, 1, kMaxLimit); }

  static void AddEquals(std::string& where, Params& p, const char* column,
                        const std::string& value) {
    if (value.empty()) return;
    where += std::string(" AND ") + column + " = " + p.Next();
    p.Add(value);
  }

  template <class Row>
  static void AddTimeRange(std::string& where, Params& p, const Query& q) {
    if (q.from_us > 0) {
      where += std::string(" AND ") + Table<Row>::kTimeColumn + " >= " + p.Next();
      p.Add(q.from_us);
    }
    if (q.to_us > 0) {
      where += std::string(" AND ") + Table<Row>::kTimeColumn + " < " + p.Next();
      p.Add(q.to_us);
    }
  }

  Status ApplyMigration(const Migration& m) {
    return writer_.InTransaction([&]() -> Status {
      // Two gateways starting together: the second waits here, then finds the version recorded.
      if (auto st = writer_.Lock(kMigrationLockKey); !st.ok()) return st;
      if (auto st = writer_.ExecStatus(
              "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
              "name TEXT NOT NULL, applied_at_us BIGINT NOT NULL)");
          !st.ok()) {
        return st;
      }
      Params version;
      version.Add(m.version);
      auto applied = writer_.Exec("SELECT 1 FROM schema_migrations WHERE version = $1", &version);
      if (!applied.ok()) return applied.error();
      if (PQntuples(applied->get()) > 0) return {};

      if (auto st = writer_.ExecStatus(m.sql); !st.ok()) return st;
      Params record;
      record.Add(m.version);
      record.Add(m.name);
      record.Add(static_cast<int64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                          std::chrono::system_clock::now().time_since_epoch())
                                          .count()));
      return writer_.ExecStatus(
          "INSERT INTO schema_migrations (version, name, applied_at_us) VALUES ($1, $2, $3)",
          &record);
    });
  }

  // A batch whose COMMIT went out but whose answer never came, with the server unreachable
  // afterwards: it may have landed. The recorder keeps those rows (retried, or spooled and
  // replayed) and hands them back as the next rows of the same table, so the next append that
  // reaches the server first asks whether the batch landed; if it did, those rows are not
  // written again.
  struct Unresolved {
    int64_t last_seq = 0;
    std::string last_hash;
    // Each row of the batch as it was linked: its content (chain fields excluded) and chain fields.
    struct Linked {
      std::string content;
      int64_t seq;
      std::string prev_hash, row_hash;
    };
    std::deque<Linked> rows;
  };

  static std::string Content(ToolCallRow r) {
    r.seq = 0;
    return CanonicalToolCall(r);
  }
  static std::string Content(AuditRow r) {
    r.seq = 0;
    return CanonicalAudit(r);
  }

  template <class Row>
  std::optional<Unresolved>& UnresolvedOf() {
    if constexpr (std::is_same_v<Row, ToolCallRow>) {
      return unresolved_calls_;
    } else {
      return unresolved_audit_;
    }
  }

  // How many leading rows of `rows` belong to an unresolved batch that did land (they get the
  // chain fields they were stored with); 0 when there is none or it did not land.
  template <class Row>
  Result<size_t> SkipLanded(std::vector<Row>& rows) {
    std::optional<Unresolved>& u = UnresolvedOf<Row>();
    if (!u) return size_t{0};
    auto landed = writer_.Run([&]() -> Result<bool> {
      Params p;
      p.Add(u->last_seq);
      auto res = writer_.Exec(
          std::string("SELECT row_hash FROM ") + Table<Row>::kName + " WHERE seq = $1", &p);
      if (!res.ok()) return res.error();
      return PQntuples(res->get()) == 1 && u->last_hash == PQgetvalue(res->get(), 0, 0);
    });
    if (!landed.ok()) return landed.error();
    size_t skip = 0;
    if (!*landed) {
      u.reset();
      return skip;
    }
    while (skip < rows.size() && !u->rows.empty() &&
           Content(rows[skip]) == u->rows.front().content) {
      rows[skip].seq = u->rows.front().seq;
      rows[skip].prev_hash = std::move(u->rows.front().prev_hash);
      rows[skip].row_hash = std::move(u->rows.front().row_hash);
      u->rows.pop_front();
      ++skip;
    }
    if (skip < rows.size() && !u->rows.empty()) {
      log::Warn("history: the rows of a batch whose commit was in doubt did not come back",
                {{"table", Table<Row>::kName}});
    } else if (skip > 0) {
      log::Info("history: a batch whose commit was in doubt had landed; not writing it again",
                {{"table", Table<Row>::kName}, {"rows", static_cast<int64_t>(skip)}});
    }
    // Rows of the batch may still follow in the next append, unless something else came first.
    if (u->rows.empty() || skip < rows.size()) u.reset();
    return skip;
  }

  template <class Row>
  Status Append(std::vector<Row>& rows) {
    if (rows.empty()) return {};
    for (Row& r : rows) Scrub(r);
    auto error = [&](const std::string& message) {
      return MakeError(std::string("appending ") + std::to_string(rows.size()) + " rows to " +
                       Table<Row>::kName + ": " + message);
    };
    auto skipped = SkipLanded(rows);
    if (!skipped.ok()) return error(skipped.error().message);
    const size_t skip = *skipped;
    if (skip == rows.size()) return {};
    std::span<Row> todo(rows.begin() + static_cast<std::ptrdiff_t>(skip), rows.end());
    bool commit_sent = false;
    auto attempt = [&] {
      commit_sent = false;
      return writer_.InTransaction(
          [&]() -> Status {
            if (auto st = writer_.Lock(Table<Row>::kLockKey); !st.ok()) return st;
            auto head = writer_.Head(Table<Row>::kName);
            if (!head.ok()) return head.error();
            for (Row& r : todo) Link(r, *head);
            ColumnArrays arrays(std::size(Table<Row>::kTypes));
            for (const Row& r : todo) AddRow(r, arrays);
            Params p = arrays.Finish();
            return writer_.ExecStatus(InsertSql<Row>(), &p);
          },
          &commit_sent);
    };
    auto landed = [&]() -> Result<bool> {
      if (!commit_sent) return false;
      Params p;
      p.Add(todo.back().seq);
      auto res = writer_.Exec(
          std::string("SELECT row_hash FROM ") + Table<Row>::kName + " WHERE seq = $1", &p);
      if (!res.ok()) return res.error();
      return PQntuples(res->get()) == 1 && todo.back().row_hash == PQgetvalue(res->get(), 0, 0);
    };
    Status st = writer_.Run(attempt, landed);
    if (st.ok()) return {};
    if (commit_sent && !writer_.ok()) {
      // The outcome is unknown until the server can be asked again.
      Unresolved u;
      u.last_seq = todo.back().seq;
      u.last_hash = todo.back().row_hash;
      for (const Row& r : todo) u.rows.push_back({Content(r), r.seq, r.prev_hash, r.row_hash});
      UnresolvedOf<Row>() = std::move(u);
    }
    return error(st.error().message);
  }

  // Keyset pagination: each chunk is its own short query on a pooled connection, given back
  // before `fn` sees the rows, so no transaction stays open while `fn` runs, and a connection
  // reset in between loses nothing.
  template <class Row>
  Status Scan(const std::function<bool(const Row&)>& fn) {
    int64_t after = std::numeric_limits<int64_t>::min();
    for (;;) {
      Params p;
      p.Add(after);
      auto chunk =
          pool_.With([&](Connection& c) { return c.Select<Row>("seq > $1", p, kScanChunk); });
      if (!chunk.ok()) return chunk.error();
      for (const Row& r : *chunk) {
        if (!fn(r)) return {};
      }
      if (chunk->size() < static_cast<size_t>(kScanChunk)) return {};
      after = chunk->back().seq;
    }
  }

  const std::string description_;
  Connection writer_;  // appends, migrations, heads, users: the writer thread's
  ReadPool pool_;      // queries and scans, from any thread
  std::optional<Unresolved> unresolved_calls_, unresolved_audit_;
};

// "postgresql://user@host:port/db" from the parsed connection string: no password, no options.
std::string Description(const PQconninfoOption* options) {
  std::string user, host, hostaddr, port, db;
  for (const PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
    if (o->val == nullptr) continue;
    std::string_view k = o->keyword;
    if (k == "user") user = o->val;
    if (k == "host") host = o->val;
    if (k == "hostaddr") hostaddr = o->val;
    if (k == "port") port = o->val;
    if (k == "dbname") db = o->val;
  }
  if (host.empty()) host = hostaddr;
  std::string out = "postgresql://";
  if (!user.empty()) out += user + "@";
  out += host;
  if (!port.empty()) out += ":" + port;
  out += "/" + db;
  return out;
}

}  // namespace

Result<std::unique_ptr<Store>> OpenPostgresStore(const std::string& conninfo) {
  char* parse_error = nullptr;
  PQconninfoOption* options = PQconninfoParse(conninfo.c_str(), &parse_error);
  if (options == nullptr) {
    // libpq's message may quote the offending part, which can be the password: leave it out.
    PQfreemem(parse_error);
    return MakeError(
        "HISTORY_DB_DSN is not a valid PostgreSQL connection URI "
        "(postgresql://user:password@host:5432/db?sslmode=...)");
  }
  std::string description = Description(options);
  PQconninfoFree(options);

  auto conn = Connect(conninfo, description);
  if (!conn.ok()) return conn.error();
  if (const char* enc = PQparameterStatus(conn->get(), "server_encoding");
      enc != nullptr && std::string_view(enc) != "UTF8") {
    log::Warn("history database is not UTF8: values it cannot represent will fail appends",
              {{"store", description}, {"server_encoding", std::string_view(enc)}});
  }
  return std::unique_ptr<Store>(
      new PostgresStore(std::move(conn).value(), conninfo, std::move(description)));
}

}  // namespace mcpgw::history
