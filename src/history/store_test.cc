// One behaviour, two databases: every test in StoreTest runs against the SQLite store (a temporary
// file) and the PostgreSQL store (a throwaway server from PgHarness, a fresh database per test),
// through OpenStore() exactly as the gateway opens them.
#include "history/store.h"

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <mutex>
#include <set>
#include <thread>

#include "history/chain.h"
#include "history/pg_harness.h"

namespace mcpgw::history {
namespace {

namespace fs = std::filesystem;
using testing::PgHarness;

// One PostgreSQL server for the whole program, started by the first test that needs it.
class PgEnvironment : public ::testing::Environment {
 public:
  static PgEnvironment* Get() {
    static auto* env = static_cast<PgEnvironment*>(
        ::testing::AddGlobalTestEnvironment(new PgEnvironment()));  // gtest owns it
    return env;
  }
  // The server, or null with `*why` set (`*skip` when PostgreSQL is simply not installed).
  PgHarness* Server(std::string* why, bool* skip) {
    if (!pg_ && error_.empty()) {
      auto h = PgHarness::Create();
      if (h.ok()) {
        pg_ = std::move(*h);
      } else {
        error_ = h.error().message;
        not_installed_ = h.error().code == PgHarness::kNotInstalled;
      }
    }
    *why = error_;
    *skip = not_installed_;
    return pg_.get();
  }
  std::string NextDatabaseName() { return "t" + std::to_string(++databases_); }
  void TearDown() override { pg_.reset(); }

 private:
  std::unique_ptr<PgHarness> pg_;
  std::string error_;
  bool not_installed_ = false;
  int databases_ = 0;
};
// Registered before main() runs the tests, so TearDown() stops the server at exit.
PgEnvironment* const kPgEnvironment = PgEnvironment::Get();

constexpr int64_t kT0 = 1'750'000'000'000'000;  // microseconds since the epoch

// A realistic row whose fields vary with `i`, so every filter selects a known subset.
ToolCallRow Call(int i) {
  static const char* const kSubjects[] = {"alice", "bob", "carol"};
  static const char* const kServers[] = {"github", "filesystem"};
  static const char* const kTargets[] = {"read_file", "write_file", "search", "create_issue"};
  static const char* const kOutcomes[] = {"ok", "tool_error", "error", "timeout"};
  ToolCallRow r;
  r.ts_start_us = kT0 + int64_t{i} * 1000;
  r.ts_end_us = r.ts_start_us + 250 + i;
  r.request_id = "req-" + std::to_string(i);
  r.trace_id = "4bf92f3577b34da6a3ce929d0e0e" + std::to_string(4736 + i);
  r.session_id = "sess-" + std::to_string(i % 5);
  r.subject = kSubjects[i % 3];
  r.roles = R"(["dev","ops"])";
  r.tenant = "acme";
  r.client_name = "claude-code";
  r.client_version = "1.0." + std::to_string(i % 10);
  r.server = kServers[i % 2];
  r.method = "tools/call";
  r.target = kTargets[i % 4];
  r.action = i % 4 == 1 ? "write" : "read";
  r.args_redacted = R"({"path":"/srv/data/)" + std::to_string(i) + R"(.txt","token":"[REDACTED]"})";
  r.args_sha256 = std::string(64, "0123456789abcdef"[i % 16]);
  r.decision = i % 5 == 0 ? "deny" : "allow";
  r.decision_id = "dec-" + std::to_string(i);
  r.decision_reasons = i % 5 == 0 ? R"(["role dev may not write"])" : "[]";
  r.http_status = i % 5 == 0 ? 403 : 200;
  r.rpc_error_code = i % 5 == 0 ? -32003 : 0;
  r.is_error = i % 7 == 0;
  r.outcome = i % 5 == 0 ? "denied" : kOutcomes[i % 4];
  r.latency_us = 1200 + i * 3;
  r.result_bytes = 512 + i;
  return r;
}

std::vector<ToolCallRow> Calls(int from, int count) {
  std::vector<ToolCallRow> rows;
  for (int i = from; i < from + count; ++i) rows.push_back(Call(i));
  return rows;
}

AuditRow Audit(int i) {
  static const char* const kKinds[] = {"auth_failure", "policy_denial", "admin_action",
                                       "config_reload"};
  AuditRow r;
  r.ts_us = kT0 + int64_t{i} * 1000;
  r.kind = kKinds[i % 4];
  r.subject = i % 2 ? "alice" : "";
  r.request_id = "req-" + std::to_string(i);
  r.detail = R"({"reason":"expired token","n":)" + std::to_string(i) + "}";
  return r;
}

std::vector<AuditRow> Audits(int from, int count) {
  std::vector<AuditRow> rows;
  for (int i = from; i < from + count; ++i) rows.push_back(Audit(i));
  return rows;
}

auto Fields(const ToolCallRow& r) {
  return std::tie(r.seq, r.ts_start_us, r.ts_end_us, r.request_id, r.trace_id, r.session_id,
                  r.subject, r.roles, r.tenant, r.client_name, r.client_version, r.server, r.method,
                  r.target, r.action, r.args_redacted, r.args_sha256, r.decision, r.decision_id,
                  r.decision_reasons, r.http_status, r.rpc_error_code, r.is_error, r.outcome,
                  r.latency_us, r.result_bytes, r.prev_hash, r.row_hash);
}
auto Fields(const AuditRow& r) {
  return std::tie(r.seq, r.ts_us, r.kind, r.subject, r.request_id, r.detail, r.prev_hash,
                  r.row_hash);
}

template <class Row>
void ExpectSameRows(const std::vector<Row>& got, const std::vector<Row>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(Fields(got[i]), Fields(want[i])) << "row " << i;
  }
}

template <class Row>
std::vector<int64_t> Seqs(const std::vector<Row>& rows) {
  std::vector<int64_t> out;
  out.reserve(rows.size());
  for (const Row& r : rows) out.push_back(r.seq);
  return out;
}

template <class Row, class Pred>
std::vector<Row> Where(const std::vector<Row>& rows, Pred pred) {
  std::vector<Row> out;
  std::copy_if(rows.begin(), rows.end(), std::back_inserter(out), pred);
  return out;
}

// A Query with some fields set: Q().Subject("bob").Limit(7).
struct Q : Query {
  Q& Subject(std::string v) { return Set(&Query::subject, std::move(v)); }
  Q& Server(std::string v) { return Set(&Query::server, std::move(v)); }
  Q& Target(std::string v) { return Set(&Query::target, std::move(v)); }
  Q& Decision(std::string v) { return Set(&Query::decision, std::move(v)); }
  Q& Outcome(std::string v) { return Set(&Query::outcome, std::move(v)); }
  Q& Kind(std::string v) { return Set(&Query::kind, std::move(v)); }
  Q& From(int64_t v) { return Set(&Query::from_us, v); }
  Q& To(int64_t v) { return Set(&Query::to_us, v); }
  Q& After(int64_t v) { return Set(&Query::after_seq, v); }
  Q& Limit(int v) { return Set(&Query::limit, v); }

 private:
  template <class T, class V>
  Q& Set(T Query::*field, V v) {
    this->*field = std::move(v);
    return *this;
  }
};

class StoreTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "sqlite") {
      std::string tmpl = (fs::temp_directory_path() / "mcpgw-store-XXXXXX").string();
      ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
      dir_ = tmpl;
      dsn_ = "sqlite://" + dir_ + "/history.db";  // an absolute path: sqlite:///tmp/...
    } else {
      std::string why;
      bool skip = false;
      pg_ = kPgEnvironment->Server(&why, &skip);
      if (pg_ == nullptr && skip) GTEST_SKIP() << why;
      ASSERT_NE(pg_, nullptr) << why;
      auto dsn = pg_->CreateDatabase(kPgEnvironment->NextDatabaseName());
      ASSERT_TRUE(dsn.ok()) << dsn.error().message;
      dsn_ = *dsn;
    }
    store_ = Open();
    ASSERT_NE(store_, nullptr);
  }

  void TearDown() override {
    store_.reset();
    std::error_code ec;
    if (!dir_.empty()) fs::remove_all(dir_, ec);
  }

  // A migrated store on this test's database (null, with a failure recorded, if that fails).
  std::unique_ptr<Store> Open() {
    auto store = OpenStore(dsn_);
    if (!store.ok()) {
      ADD_FAILURE() << "OpenStore(" << dsn_ << "): " << store.error().message;
      return nullptr;
    }
    if (Status st = (*store)->Migrate(); !st.ok()) {
      ADD_FAILURE() << "Migrate: " << st.error().message;
      return nullptr;
    }
    return std::move(*store);
  }

  std::vector<ToolCallRow> AppendCalls(int from, int count, Store* store = nullptr) {
    std::vector<ToolCallRow> rows = Calls(from, count);
    Status st = (store ? store : store_.get())->AppendToolCalls(rows);
    EXPECT_TRUE(st.ok()) << st.error().message;
    return rows;
  }

  std::vector<ToolCallRow> QueryCalls(const Query& q) {
    auto rows = store_->QueryToolCalls(q);
    EXPECT_TRUE(rows.ok()) << rows.error().message;
    return rows.ok() ? *rows : std::vector<ToolCallRow>{};
  }

  std::vector<AuditRow> QueryAudit(const Query& q) {
    auto rows = store_->QueryAudit(q);
    EXPECT_TRUE(rows.ok()) << rows.error().message;
    return rows.ok() ? *rows : std::vector<AuditRow>{};
  }

  std::vector<ToolCallRow> AllCalls() {
    std::vector<ToolCallRow> all;
    Status st = store_->ScanToolCalls([&](const ToolCallRow& r) {
      all.push_back(r);
      return true;
    });
    EXPECT_TRUE(st.ok()) << st.error().message;
    return all;
  }

  std::string dir_;
  std::string dsn_;
  PgHarness* pg_ = nullptr;
  std::unique_ptr<Store> store_;
};

TEST_P(StoreTest, MigratingAgainChangesNothing) {
  std::vector<ToolCallRow> rows = AppendCalls(0, 10);
  ASSERT_TRUE(store_->Migrate().ok());
  ASSERT_TRUE(store_->Migrate().ok());
  ExpectSameRows(AllCalls(), rows);
}

TEST_P(StoreTest, AnEmptyStoreHasNoHeadsAndNoRows) {
  auto calls = store_->ToolCallsHead();
  ASSERT_TRUE(calls.ok()) << calls.error().message;
  EXPECT_EQ(calls->seq, 0);
  EXPECT_EQ(calls->row_hash, "");
  auto audit = store_->AuditHead();
  ASSERT_TRUE(audit.ok()) << audit.error().message;
  EXPECT_EQ(audit->seq, 0);
  EXPECT_TRUE(QueryCalls({}).empty());
  EXPECT_TRUE(QueryAudit({}).empty());
  std::vector<ToolCallRow> none;
  EXPECT_TRUE(store_->AppendToolCalls(none).ok());
  EXPECT_TRUE(AllCalls().empty());
}

TEST_P(StoreTest, AppendLinksRowsIntoOneChainAcrossBatches) {
  std::vector<ToolCallRow> first = AppendCalls(0, 3);
  std::vector<ToolCallRow> second = AppendCalls(3, 4);
  EXPECT_EQ(Seqs(first), (std::vector<int64_t>{1, 2, 3}));
  EXPECT_EQ(Seqs(second), (std::vector<int64_t>{4, 5, 6, 7}));
  EXPECT_EQ(first.front().prev_hash, kGenesisHash);
  EXPECT_EQ(second.front().prev_hash, first.back().row_hash);
  VerifyReport report = VerifyToolCalls(*store_);
  EXPECT_TRUE(report.ok) << report.problem;
  EXPECT_EQ(report.rows, 7);
}

TEST_P(StoreTest, ReadsBackEveryFieldExactly) {
  std::vector<ToolCallRow> rows = Calls(0, 3);
  ToolCallRow& odd = rows[1];
  odd.ts_start_us = -1;  // before the epoch: still a number, not a bound
  odd.ts_end_us = INT64_MAX;
  odd.subject = "ünïcødé ✓ 𝄞 «ß» 日本語";
  odd.tenant = "NULL";  // a word, not a missing value
  odd.client_name = "{a,b},\"c\"";
  odd.client_version = " padded ";
  odd.decision_id = "\\";
  odd.roles = R"(["a\"b","c\\d"])";
  odd.args_redacted = "{\"multi\":\"line\\nwith\\ttabs\"}\n\t\r" + std::string(100'000, 'x');
  odd.target = "it's \"quoted\" \\ back\\slash; --";
  odd.trace_id = "";
  odd.http_status = INT32_MAX;
  odd.rpc_error_code = INT32_MIN;
  odd.is_error = true;
  odd.latency_us = INT64_MAX;
  odd.result_bytes = 0;
  rows[2].is_error = false;
  rows[2].session_id = rows[2].subject = rows[2].server = rows[2].args_sha256 = "";
  ASSERT_TRUE(store_->AppendToolCalls(rows).ok());

  Query all;
  all.limit = 1000;
  ExpectSameRows(QueryCalls(all), rows);
  ExpectSameRows(AllCalls(), rows);
}

TEST_P(StoreTest, EachFilterSelectsExactlyItsRows) {
  std::vector<ToolCallRow> rows = AppendCalls(0, 120);
  auto check = [&](const char* what, Query q, const std::function<bool(const ToolCallRow&)>& p) {
    q.limit = 1000;
    std::vector<ToolCallRow> want = Where(rows, p);
    ASSERT_FALSE(want.empty()) << what;
    ExpectSameRows(QueryCalls(q), want);
  };
  check("subject", Q().Subject("bob"), [](auto& r) { return r.subject == "bob"; });
  check("server", Q().Server("github"), [](auto& r) { return r.server == "github"; });
  check("target", Q().Target("search"), [](auto& r) { return r.target == "search"; });
  check("decision", Q().Decision("deny"), [](auto& r) { return r.decision == "deny"; });
  check("outcome", Q().Outcome("timeout"), [](auto& r) { return r.outcome == "timeout"; });
  check("combined", Q().Subject("alice").Server("filesystem").Decision("allow"), [](auto& r) {
    return r.subject == "alice" && r.server == "filesystem" && r.decision == "allow";
  });
  // [from, to): the start is included, the end is not.
  int64_t from = rows[10].ts_start_us, to = rows[20].ts_start_us;
  check("time range", Q().From(from).To(to),
        [&](auto& r) { return r.ts_start_us >= from && r.ts_start_us < to; });
  check("from only", Q().From(rows[100].ts_start_us),
        [&](auto& r) { return r.ts_start_us >= rows[100].ts_start_us; });
  check("to only", Q().To(rows[5].ts_start_us),
        [&](auto& r) { return r.ts_start_us < rows[5].ts_start_us; });
  check("time and subject", Q().Subject("carol").From(from).To(to), [&](auto& r) {
    return r.subject == "carol" && r.ts_start_us >= from && r.ts_start_us < to;
  });
  EXPECT_TRUE(QueryCalls(Q().Subject("nobody")).empty());
  EXPECT_TRUE(QueryCalls(Q().From(to).To(from)).empty());
}

TEST_P(StoreTest, CursorPagesHaveNoDuplicatesAndNoGaps) {
  std::vector<ToolCallRow> rows = AppendCalls(0, 250);
  for (const char* subject : {"", "alice"}) {
    std::vector<ToolCallRow> paged;
    Query q = Q().Subject(subject).Limit(7);
    for (int page = 0; page < 100; ++page) {
      std::vector<ToolCallRow> got = QueryCalls(q);
      EXPECT_LE(got.size(), 7u);
      if (got.empty()) break;
      paged.insert(paged.end(), got.begin(), got.end());
      q.after_seq = got.back().seq;
    }
    ExpectSameRows(paged,
                   Where(rows, [&](auto& r) { return *subject == 0 || r.subject == subject; }));
  }
}

TEST_P(StoreTest, LimitIsClampedBetweenOneAndAThousand) {
  AppendCalls(0, 1200);
  EXPECT_EQ(QueryCalls(Query{}).size(), 100u);  // the default
  EXPECT_EQ(QueryCalls(Q().Limit(0)).size(), 1u);
  EXPECT_EQ(QueryCalls(Q().Limit(-5)).size(), 1u);
  EXPECT_EQ(QueryCalls(Q().Limit(1000)).size(), 1000u);
  EXPECT_EQ(QueryCalls(Q().Limit(1001)).size(), 1000u);
  EXPECT_EQ(QueryCalls(Q().Limit(INT32_MAX)).size(), 1000u);
}

const char* const kHostile[] = {
    "' OR 1=1 --",
    "' OR '1'='1",
    "%",
    "_",
    "\\",
    "\\'",
    "\"; DROP TABLE tool_calls; --",
    "'; DROP TABLE audit_events; --",
    "$1",
    "?",
    "*",
    "alice%",
    "al_ce",
    "ALICE",
};

TEST_P(StoreTest, FilterValuesAreDataNeverSql) {
  std::vector<ToolCallRow> rows = AppendCalls(0, 30);
  std::vector<AuditRow> audit = Audits(0, 8);
  ASSERT_TRUE(store_->AppendAudit(audit).ok());

  for (const char* v : kHostile) {
    for (const Q& q :
         {Q().Subject(v), Q().Server(v), Q().Target(v), Q().Decision(v), Q().Outcome(v)}) {
      EXPECT_TRUE(QueryCalls(q).empty()) << v;
    }
    EXPECT_TRUE(QueryAudit(Q().Subject(v)).empty()) << v;
    EXPECT_TRUE(QueryAudit(Q().Kind(v)).empty()) << v;
  }
  // Nothing was dropped or changed.
  ExpectSameRows(AllCalls(), rows);
  ExpectSameRows(QueryAudit(Query{}), audit);

  // Stored as values, they match only themselves: no wildcards, no escapes.
  std::vector<ToolCallRow> hostile;
  for (const char* v : kHostile) {
    ToolCallRow r = Call(0);
    r.subject = r.server = r.target = v;
    hostile.push_back(r);
  }
  ASSERT_TRUE(store_->AppendToolCalls(hostile).ok());
  for (const ToolCallRow& want : hostile) {
    for (const Q& q :
         {Q().Subject(want.subject), Q().Server(want.subject), Q().Target(want.subject)}) {
      ExpectSameRows(QueryCalls(q), std::vector<ToolCallRow>{want});
    }
  }
}

TEST_P(StoreTest, HeadsFollowTheLastRow) {
  std::vector<ToolCallRow> rows = AppendCalls(0, 5);
  auto head = store_->ToolCallsHead();
  ASSERT_TRUE(head.ok()) << head.error().message;
  EXPECT_EQ(head->seq, 5);
  EXPECT_EQ(head->row_hash, rows.back().row_hash);

  std::vector<AuditRow> audit = Audits(0, 3);
  ASSERT_TRUE(store_->AppendAudit(audit).ok());
  auto ahead = store_->AuditHead();
  ASSERT_TRUE(ahead.ok()) << ahead.error().message;
  EXPECT_EQ(ahead->seq, 3);
  EXPECT_EQ(ahead->row_hash, audit.back().row_hash);
  // The two tables have separate chains.
  EXPECT_EQ(store_->ToolCallsHead()->seq, 5);
}

TEST_P(StoreTest, ScanVisitsEveryRowInOrderAndStopsWhenAsked) {
  std::vector<ToolCallRow> rows;
  for (int b = 0; b < 5; ++b) {
    std::vector<ToolCallRow> batch = AppendCalls(b * 500, 500);
    rows.insert(rows.end(), batch.begin(), batch.end());
  }
  ExpectSameRows(AllCalls(), rows);

  int visited = 0;
  ASSERT_TRUE(store_
                  ->ScanToolCalls([&](const ToolCallRow& r) {
                    EXPECT_EQ(r.seq, visited + 1);
                    return ++visited < 1500;
                  })
                  .ok());
  EXPECT_EQ(visited, 1500);
}

TEST_P(StoreTest, AuditRowsRoundTripAndFilter) {
  std::vector<AuditRow> rows = Audits(0, 40);
  rows[3].detail = R"({"note":"it's \"odd\" \\ ü"})";
  ASSERT_TRUE(store_->AppendAudit(rows).ok());
  EXPECT_EQ(Seqs(rows).front(), 1);
  EXPECT_EQ(rows.front().prev_hash, kGenesisHash);

  ExpectSameRows(QueryAudit(Q().Limit(1000)), rows);
  ExpectSameRows(QueryAudit(Q().Kind("policy_denial")),
                 Where(rows, [](auto& r) { return r.kind == "policy_denial"; }));
  ExpectSameRows(QueryAudit(Q().Subject("alice")),
                 Where(rows, [](auto& r) { return r.subject == "alice"; }));
  int64_t from = rows[5].ts_us, to = rows[9].ts_us;
  ExpectSameRows(QueryAudit(Q().Kind("auth_failure").From(from).To(to)), Where(rows, [&](auto& r) {
                   return r.kind == "auth_failure" && r.ts_us >= from && r.ts_us < to;
                 }));
  ExpectSameRows(QueryAudit(Q().After(30).Limit(5)),
                 std::vector<AuditRow>(rows.begin() + 30, rows.begin() + 35));

  std::vector<AuditRow> scanned;
  ASSERT_TRUE(store_
                  ->ScanAudit([&](const AuditRow& r) {
                    scanned.push_back(r);
                    return true;
                  })
                  .ok());
  ExpectSameRows(scanned, rows);
  VerifyReport report = VerifyAudit(*store_);
  EXPECT_TRUE(report.ok) << report.problem;
}

TEST_P(StoreTest, UsersAreUpsertedWithFirstAndLastSightings) {
  auto user = [](std::string sub, int64_t seen, std::string email, std::string roles) {
    UserRow u;
    u.subject = std::move(sub);
    u.email = std::move(email);
    u.tenant = "acme";
    u.roles = std::move(roles);
    u.groups = R"(["eng"])";
    u.first_seen_us = u.last_seen_us = kT0 + seen;
    return u;
  };
  auto missing = store_->FindUser("alice");
  ASSERT_TRUE(missing.ok()) << missing.error().message;
  EXPECT_FALSE(missing->has_value());

  ASSERT_TRUE(store_
                  ->UpsertUsers({user("alice", 10, "alice@old.test", R"(["user"])"),
                                 user("bob", 5, "bob@x.test", R"(["admin"])")})
                  .ok());
  // Seen again later (new claims), and a stale sighting from before (in the same batch too):
  // claims follow the latest, first_seen the earliest.
  Status st = store_->UpsertUsers({user("alice", 30, "alice@new.test", R"(["user","dev"])"),
                                   user("alice", 20, "alice@mid.test", R"(["user"])"),
                                   user("alice", 1, "alice@ancient.test", "[]")});
  ASSERT_TRUE(st.ok()) << st.error().message;
  auto alice = store_->FindUser("alice");
  ASSERT_TRUE(alice.ok()) << alice.error().message;
  ASSERT_TRUE(alice->has_value());
  EXPECT_EQ((*alice)->subject, "alice");
  EXPECT_EQ((*alice)->email, "alice@new.test");
  EXPECT_EQ((*alice)->tenant, "acme");
  EXPECT_EQ((*alice)->roles, R"(["user","dev"])");
  EXPECT_EQ((*alice)->groups, R"(["eng"])");
  EXPECT_EQ((*alice)->first_seen_us, kT0 + 1);
  EXPECT_EQ((*alice)->last_seen_us, kT0 + 30);

  // An older sighting alone changes nothing but first_seen.
  ASSERT_TRUE(store_->UpsertUsers({user("bob", 2, "bob@older.test", "[]")}).ok());
  auto bob = store_->FindUser("bob");
  ASSERT_TRUE(bob.ok() && bob->has_value());
  EXPECT_EQ((*bob)->email, "bob@x.test");
  EXPECT_EQ((*bob)->roles, R"(["admin"])");
  EXPECT_EQ((*bob)->first_seen_us, kT0 + 2);
  EXPECT_EQ((*bob)->last_seen_us, kT0 + 5);

  // Values are data: quotes and SQL metacharacters round-trip.
  UserRow odd = user("o'brien\"; DROP TABLE users; --", 40, "o'b@x.test", R"(["a\"b"])");
  ASSERT_TRUE(store_->UpsertUsers({odd}).ok());
  auto back = store_->FindUser(odd.subject);
  ASSERT_TRUE(back.ok() && back->has_value());
  EXPECT_EQ((*back)->email, odd.email);
  EXPECT_EQ((*back)->roles, odd.roles);
  EXPECT_TRUE(store_->FindUser("alice").ok());

  // Users are not part of the chains.
  EXPECT_EQ(store_->ToolCallsHead()->seq, 0);
  EXPECT_TRUE(store_->UpsertUsers({}).ok());
}

TEST_P(StoreTest, ASecondOpenSeesTheData) {
  std::vector<ToolCallRow> rows = AppendCalls(0, 20);
  std::vector<AuditRow> audit = Audits(0, 4);
  ASSERT_TRUE(store_->AppendAudit(audit).ok());
  store_.reset();

  store_ = Open();
  ASSERT_NE(store_, nullptr);
  ExpectSameRows(AllCalls(), rows);
  ExpectSameRows(QueryAudit(Query{}), audit);
  // And the chain continues where it stopped.
  std::vector<ToolCallRow> more = AppendCalls(20, 2);
  EXPECT_EQ(more.front().seq, 21);
  EXPECT_EQ(more.front().prev_hash, rows.back().row_hash);
}

// Gateway replicas sharing one database extend a single chain.
TEST_P(StoreTest, ConcurrentWritersExtendOneChain) {
  constexpr int kWriters = 3, kBatches = 20, kBatchSize = 25;
  std::vector<std::unique_ptr<Store>> stores;
  for (int w = 0; w < kWriters; ++w) {
    stores.push_back(Open());
    ASSERT_NE(stores.back(), nullptr);
  }
  std::atomic<int> failures{0};
  std::vector<std::thread> writers;
  writers.reserve(kWriters);
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      for (int b = 0; b < kBatches; ++b) {
        std::vector<ToolCallRow> rows = Calls((w * kBatches + b) * kBatchSize, kBatchSize);
        if (!stores[w]->AppendToolCalls(rows).ok()) ++failures;
      }
    });
  }
  for (auto& t : writers) t.join();
  EXPECT_EQ(failures.load(), 0);
  VerifyReport report = VerifyToolCalls(*store_);
  EXPECT_TRUE(report.ok) << report.problem << " at " << report.bad_seq;
  EXPECT_EQ(report.rows, kWriters * kBatches * kBatchSize);
}

// Reads come from other threads (the recorder's readers) while the writer appends: both stores
// allow it (SQLite: read connections of their own, WAL), and every read sees a whole prefix of
// the chain, never a half-written batch.
TEST_P(StoreTest, ReadsOnOtherThreadsRunAlongsideAppends) {
  ASSERT_TRUE(store_->ConcurrentReads());
  ASSERT_GE(store_->ReadConnections(), 2u);
  constexpr int kBatches = 30, kBatchSize = 10;
  std::atomic<bool> done{false};
  std::atomic<int> failures{0}, reads{0};
  std::vector<std::thread> readers;
  for (int r = 0; r < 3; ++r) {  // one more than the pool: the third waits for a connection
    readers.emplace_back([&] {
      while (!done) {
        Query all;
        all.limit = 1000;
        auto rows = store_->QueryToolCalls(all);
        if (!rows.ok()) {
          ++failures;
          continue;
        }
        for (size_t i = 0; i < rows->size(); ++i) {
          if ((*rows)[i].seq != static_cast<int64_t>(i) + 1) ++failures;
        }
        if (rows->size() % kBatchSize != 0) ++failures;  // a batch is seen whole or not at all
        int64_t scanned = 0;
        Status st = store_->ScanToolCalls([&](const ToolCallRow& row) {
          if (row.seq != ++scanned) ++failures;
          return true;
        });
        if (!st.ok()) ++failures;
        ++reads;
      }
    });
  }
  for (int b = 0; b < kBatches; ++b) AppendCalls(b * kBatchSize, kBatchSize);
  while (reads < 10) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  done = true;
  for (auto& t : readers) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(AllCalls().size(), static_cast<size_t>(kBatches * kBatchSize));
}

// Two processes starting at once both migrate; neither fails.
TEST_P(StoreTest, ConcurrentMigrationsOfAFreshDatabaseBothSucceed) {
  store_.reset();
  if (!dir_.empty()) dsn_ = "sqlite://" + dir_ + "/fresh.db";
  if (pg_ != nullptr) {
    auto dsn = pg_->CreateDatabase(kPgEnvironment->NextDatabaseName());
    ASSERT_TRUE(dsn.ok()) << dsn.error().message;
    dsn_ = *dsn;
  }
  std::vector<std::unique_ptr<Store>> stores;
  for (int i = 0; i < 4; ++i) {
    auto s = OpenStore(dsn_);
    ASSERT_TRUE(s.ok()) << s.error().message;
    stores.push_back(std::move(*s));
  }
  std::vector<Status> results(stores.size());
  std::vector<std::thread> threads;
  for (size_t i = 0; i < stores.size(); ++i) {
    threads.emplace_back([&, i] { results[i] = stores[i]->Migrate(); });
  }
  for (auto& t : threads) t.join();
  for (const Status& st : results) EXPECT_TRUE(st.ok()) << st.error().message;
  store_ = std::move(stores[0]);
  AppendCalls(0, 3);
  EXPECT_EQ(AllCalls().size(), 3u);
}

// Text PostgreSQL cannot store (NUL, invalid UTF-8) must not cost the batch it arrives in.
TEST_P(StoreTest, ValuesWithNulOrInvalidUtf8DoNotFailTheBatch) {
  std::vector<ToolCallRow> rows = Calls(0, 3);
  rows[1].target = std::string("a\0b", 3);
  rows[1].subject = "bad \xff\xfe utf8 \xed\xa0\x80";
  ASSERT_TRUE(store_->AppendToolCalls(rows).ok());
  std::vector<AuditRow> audit = Audits(0, 2);
  audit[0].detail = R"({"x":")" + std::string(1, '\0') + R"("})";
  ASSERT_TRUE(store_->AppendAudit(audit).ok());

  std::vector<ToolCallRow> stored = AllCalls();
  ASSERT_EQ(stored.size(), 3u);
  EXPECT_EQ(Fields(stored[0]), Fields(rows[0]));
  EXPECT_EQ(Fields(stored[2]), Fields(rows[2]));
  // Whatever the store kept is what the chain covers.
  VerifyReport report = VerifyToolCalls(*store_);
  EXPECT_TRUE(report.ok) << report.problem;
  EXPECT_TRUE(VerifyAudit(*store_).ok);
}

INSTANTIATE_TEST_SUITE_P(Stores, StoreTest, ::testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

// PostgreSQL-only behaviour: the server goes away and comes back.
class PostgresStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why;
    bool skip = false;
    pg_ = kPgEnvironment->Server(&why, &skip);
    if (pg_ == nullptr && skip) GTEST_SKIP() << why;
    ASSERT_NE(pg_, nullptr) << why;
    auto dsn = pg_->CreateDatabase(kPgEnvironment->NextDatabaseName());
    ASSERT_TRUE(dsn.ok()) << dsn.error().message;
    dsn_ = *dsn;
  }
  void TearDown() override {
    if (pg_ != nullptr && !pg_->running()) {
      EXPECT_TRUE(pg_->Start().ok());
    }
  }

  PgHarness* pg_ = nullptr;
  std::string dsn_;
};

TEST_F(PostgresStoreTest, ReconnectsAfterTheServerRestarts) {
  auto store = OpenStore(dsn_);
  ASSERT_TRUE(store.ok()) << store.error().message;
  ASSERT_TRUE((*store)->Migrate().ok());
  std::vector<ToolCallRow> first = Calls(0, 10);
  ASSERT_TRUE((*store)->AppendToolCalls(first).ok());

  // A restart between two calls is invisible: the next call reconnects and succeeds.
  ASSERT_TRUE(pg_->Stop().ok());
  ASSERT_TRUE(pg_->Start().ok());
  auto head = (*store)->ToolCallsHead();
  ASSERT_TRUE(head.ok()) << head.error().message;
  EXPECT_EQ(head->seq, 10);

  // While the server is down, calls fail (as values); afterwards appends resume the chain.
  ASSERT_TRUE(pg_->Stop().ok());
  std::vector<ToolCallRow> second = Calls(10, 5);
  Status down = (*store)->AppendToolCalls(second);
  EXPECT_FALSE(down.ok());
  EXPECT_FALSE((*store)->QueryToolCalls(Query{}).ok());
  ASSERT_TRUE(pg_->Start().ok());
  second = Calls(10, 5);
  Status up = (*store)->AppendToolCalls(second);
  ASSERT_TRUE(up.ok()) << up.error().message;
  EXPECT_EQ(second.front().seq, 11);
  VerifyReport report = VerifyToolCalls(**store);
  EXPECT_TRUE(report.ok) << report.problem;
  EXPECT_EQ(report.rows, 15);
}

// A Unix-socket proxy in front of the PostgreSQL server that can lose a COMMIT, or its answer, on
// the way: the connection is then cut and the proxy's socket disappears (the server looks down),
// until Relisten(). DSNs point at it with host=<dir()>.
class CommitLosingProxy {
 public:
  enum class Mode { kPass, kLoseCommit, kLoseCommitAnswer };

  explicit CommitLosingProxy(std::string upstream_dir)
      : upstream_(std::move(upstream_dir) + "/.s.PGSQL.5432") {
    std::string tmpl = (fs::temp_directory_path() / "mcpgw-proxy-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) != nullptr) dir_ = tmpl;
    Relisten();
    accept_ = std::thread([this] { AcceptLoop(); });
  }
  ~CommitLosingProxy() {
    stop_ = true;
    accept_.join();
    for (auto& t : pumps_) t.join();
    std::lock_guard<std::mutex> lock(mu_);
    if (listen_fd_ >= 0) ::close(listen_fd_);
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  const std::string& dir() const { return dir_; }
  void set_mode(Mode m) { mode_ = m; }
  int commits_lost() const { return lost_; }
  int accepted() const { return accepted_; }
  // Holds back every message that contains `pattern` until ReleaseStalled().
  void StallMessagesContaining(std::string pattern) {
    std::lock_guard<std::mutex> lock(mu_);
    stall_ = std::move(pattern);
  }
  void ReleaseStalled() {
    std::lock_guard<std::mutex> lock(mu_);
    stall_.clear();
  }
  int stalled() const { return stalled_; }

  // Makes the proxy reachable again.
  void Relisten() {
    std::lock_guard<std::mutex> lock(mu_);
    if (listen_fd_ >= 0) ::close(listen_fd_);
    std::string path = dir_ + "/.s.PGSQL.5432";
    ::unlink(path.c_str());
    listen_fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr = Address(path);
    if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(listen_fd_, 16) != 0) {
      ADD_FAILURE() << "proxy listen: " << std::strerror(errno);
    }
  }

 private:
  static sockaddr_un Address(const std::string& path) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
    return addr;
  }

  bool Stalls(std::string_view data) {
    std::lock_guard<std::mutex> lock(mu_);
    return !stall_.empty() && data.find(stall_) != data.npos;
  }

  void AcceptLoop() {
    while (!stop_) {
      int fd = -1;
      {
        std::lock_guard<std::mutex> lock(mu_);
        pollfd p{listen_fd_, POLLIN, 0};
        if (::poll(&p, 1, 0) == 1 && (p.revents & POLLIN) != 0) {
          fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
        }
      }
      if (fd < 0) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
        continue;
      }
      int up = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
      sockaddr_un addr = Address(upstream_);
      if (::connect(up, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        ::close(up);
        ::close(fd);
        continue;
      }
      ++accepted_;
      pumps_.emplace_back([this, fd, up] { Pump(fd, up); });
    }
  }

  // Copies bytes both ways until either side closes, losing a COMMIT (or its answer) as told.
  void Pump(int client, int server) {
    char buf[65536];
    while (!stop_) {
      pollfd p[2] = {{client, POLLIN, 0}, {server, POLLIN, 0}};
      if (::poll(p, 2, 50) <= 0) continue;
      if (p[0].revents != 0) {
        ssize_t n = ::read(client, buf, sizeof buf);
        if (n <= 0) break;
        std::string_view data(buf, static_cast<size_t>(n));
        Mode mode = mode_;
        if (mode != Mode::kPass && data.find(std::string_view("COMMIT\0", 7)) != data.npos) {
          mode_ = Mode::kPass;
          if (mode == Mode::kLoseCommitAnswer) {
            (void)!::write(server, buf, static_cast<size_t>(n));
            pollfd answer{server, POLLIN, 0};
            if (::poll(&answer, 1, 5000) == 1) (void)!::read(server, buf, sizeof buf);
          }
          // The server looks gone: no socket to reconnect to.
          ::unlink((dir_ + "/.s.PGSQL.5432").c_str());
          ++lost_;
          break;
        }
        if (Stalls(data)) {
          ++stalled_;
          while (!stop_ && Stalls(data)) std::this_thread::sleep_for(std::chrono::milliseconds(5));
          --stalled_;
        }
        if (::write(server, buf, static_cast<size_t>(n)) != n) break;
      }
      if (p[1].revents != 0) {
        ssize_t n = ::read(server, buf, sizeof buf);
        if (n <= 0 || ::write(client, buf, static_cast<size_t>(n)) != n) break;
      }
    }
    ::close(client);
    ::close(server);
  }

  std::string upstream_;
  std::string dir_;
  std::mutex mu_;
  int listen_fd_ = -1;
  std::atomic<bool> stop_{false};
  std::atomic<Mode> mode_{Mode::kPass};
  std::atomic<int> lost_{0};
  std::atomic<int> accepted_{0};
  std::atomic<int> stalled_{0};
  std::string stall_;  // guarded by mu_
  std::thread accept_;
  std::vector<std::thread> pumps_;  // only the accept thread adds, the destructor joins
};

// The directory of the socket named by host=... in a harness DSN.
std::string SocketDir(const std::string& dsn) {
  size_t at = dsn.find("host=") + 5;
  return dsn.substr(at, dsn.find('&', at) - at);
}

std::string ThroughProxy(std::string dsn, const CommitLosingProxy& proxy) {
  std::string dir = SocketDir(dsn);
  dsn.replace(dsn.find(dir), dir.size(), proxy.dir());
  return dsn;
}

TEST_F(PostgresStoreTest, ABatchWhoseCommitAnswerWasLostIsNotWrittenTwice) {
  CommitLosingProxy proxy(SocketDir(dsn_));
  auto store = OpenStore(ThroughProxy(dsn_, proxy));
  ASSERT_TRUE(store.ok()) << store.error().message;
  ASSERT_TRUE((*store)->Migrate().ok());
  std::vector<ToolCallRow> first = Calls(0, 5);
  ASSERT_TRUE((*store)->AppendToolCalls(first).ok());

  // The COMMIT lands, its answer is lost, and the server cannot be reached to ask.
  proxy.set_mode(CommitLosingProxy::Mode::kLoseCommitAnswer);
  std::vector<ToolCallRow> batch = Calls(5, 5);
  EXPECT_FALSE((*store)->AppendToolCalls(batch).ok());
  EXPECT_EQ(proxy.commits_lost(), 1);
  auto direct = OpenStore(dsn_);
  ASSERT_TRUE(direct.ok()) << direct.error().message;
  auto head = (*direct)->ToolCallsHead();
  ASSERT_TRUE(head.ok()) << head.error().message;
  EXPECT_EQ(head->seq, 10) << "the batch landed";

  // The writer hands the same rows back, then new ones: only the new ones are written.
  proxy.Relisten();
  std::vector<ToolCallRow> again = Calls(5, 7);
  Status st = (*store)->AppendToolCalls(again);
  ASSERT_TRUE(st.ok()) << st.error().message;
  EXPECT_EQ(again.front().seq, 6);
  EXPECT_EQ(again[4].seq, 10);
  EXPECT_EQ(again[4].row_hash, head->row_hash);
  EXPECT_EQ(again[5].seq, 11);
  std::multiset<std::string> ids;
  ASSERT_TRUE((*direct)
                  ->ScanToolCalls([&](const ToolCallRow& r) {
                    ids.insert(r.request_id);
                    return true;
                  })
                  .ok());
  EXPECT_EQ(ids.size(), 12u);
  EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()).size(), 12u) << "no row twice";
  VerifyReport report = VerifyToolCalls(**direct);
  EXPECT_TRUE(report.ok) << report.problem;
}

TEST_F(PostgresStoreTest, ABatchWhoseCommitWasLostIsWrittenWhenTheServerIsBack) {
  CommitLosingProxy proxy(SocketDir(dsn_));
  auto store = OpenStore(ThroughProxy(dsn_, proxy));
  ASSERT_TRUE(store.ok()) << store.error().message;
  ASSERT_TRUE((*store)->Migrate().ok());
  std::vector<ToolCallRow> first = Calls(0, 5);
  ASSERT_TRUE((*store)->AppendToolCalls(first).ok());

  // The COMMIT never reaches the server: the transaction rolls back when the connection drops.
  proxy.set_mode(CommitLosingProxy::Mode::kLoseCommit);
  std::vector<ToolCallRow> batch = Calls(5, 5);
  EXPECT_FALSE((*store)->AppendToolCalls(batch).ok());
  EXPECT_EQ(proxy.commits_lost(), 1);

  proxy.Relisten();
  batch = Calls(5, 5);
  Status st = (*store)->AppendToolCalls(batch);
  ASSERT_TRUE(st.ok()) << st.error().message;
  EXPECT_EQ(batch.front().seq, 6);
  EXPECT_EQ(batch.back().seq, 10);
  VerifyReport report = VerifyToolCalls(**store);
  EXPECT_TRUE(report.ok) << report.problem;
  EXPECT_EQ(report.rows, 10);
}

TEST_F(PostgresStoreTest, ReadsUseABoundedPoolAndNeverHoldUpWrites) {
  CommitLosingProxy proxy(SocketDir(dsn_));
  auto opened = OpenStore(ThroughProxy(dsn_, proxy));
  ASSERT_TRUE(opened.ok()) << opened.error().message;
  Store& store = **opened;
  ASSERT_TRUE(store.Migrate().ok());
  ASSERT_TRUE(store.ConcurrentReads());
  const int pool = static_cast<int>(store.ReadConnections());
  ASSERT_GE(pool, 2);
  std::vector<ToolCallRow> first = Calls(0, 10);
  ASSERT_TRUE(store.AppendToolCalls(first).ok());
  EXPECT_EQ(proxy.accepted(), 1) << "the writer's connection only, until a read comes";

  // Reads stall on the server's side (their SELECT is held back); two more than the pool has.
  proxy.StallMessagesContaining("FROM tool_calls WHERE seq >");
  std::vector<std::thread> readers;
  std::vector<Result<std::vector<ToolCallRow>>> results(static_cast<size_t>(pool + 2),
                                                        MakeError("not run"));
  for (size_t i = 0; i < results.size(); ++i) {
    readers.emplace_back([&store, &results, i] { results[i] = store.QueryToolCalls(Query{}); });
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (proxy.stalled() < pool && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_EQ(proxy.stalled(), pool) << "every pooled connection busy with a read";
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(proxy.stalled(), pool) << "the extra reads wait for a pooled connection";
  EXPECT_EQ(proxy.accepted(), 1 + pool) << "the pool is bounded";

  // Meanwhile the writer appends, reads the head and upserts users as if nothing were going on.
  std::vector<ToolCallRow> second = Calls(10, 5);
  Status st = store.AppendToolCalls(second);
  ASSERT_TRUE(st.ok()) << st.error().message;
  EXPECT_EQ(second.back().seq, 15);
  EXPECT_EQ(store.ToolCallsHead()->seq, 15);
  EXPECT_EQ(proxy.stalled(), pool);

  proxy.ReleaseStalled();
  for (auto& t : readers) t.join();
  for (const auto& r : results) {
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->size(), 15u);
  }
  EXPECT_EQ(proxy.accepted(), 1 + pool);

  // Under load: readers and the writer at full speed, every read consistent (a gap-free prefix of
  // the chain), every write in the chain.
  std::atomic<bool> writing{true};
  std::atomic<int> reads{0};
  std::atomic<int> bad{0};
  readers.clear();
  for (int i = 0; i < pool + 2; ++i) {
    readers.emplace_back([&] {
      while (writing) {
        auto rows = store.QueryToolCalls(Query{});
        if (!rows.ok()) {
          ++bad;
          continue;
        }
        for (size_t k = 0; k < rows->size(); ++k) {
          if ((*rows)[k].seq != static_cast<int64_t>(k) + 1) ++bad;
        }
        ++reads;
      }
    });
  }
  for (int b = 0; b < 40; ++b) {
    std::vector<ToolCallRow> batch = Calls(15 + b * 5, 5);
    Status s2 = store.AppendToolCalls(batch);
    ASSERT_TRUE(s2.ok()) << s2.error().message;
  }
  writing = false;
  for (auto& t : readers) t.join();
  EXPECT_EQ(bad, 0);
  EXPECT_GT(reads, 0);
  VerifyReport report = VerifyToolCalls(store);
  EXPECT_TRUE(report.ok) << report.problem;
  EXPECT_EQ(report.rows, 215);
  EXPECT_EQ(proxy.accepted(), 1 + pool);
}

TEST_F(PostgresStoreTest, NeverShowsThePassword) {
  // Trust authentication ignores the password, so this connects.
  std::string with_password = dsn_;
  with_password.replace(with_password.find("mcp@"), 4, "mcp:s3cret-pw@");
  auto store = OpenStore(with_password);
  ASSERT_TRUE(store.ok()) << store.error().message;
  std::string described = (*store)->Describe();
  EXPECT_EQ(described.find("s3cret"), std::string::npos) << described;
  EXPECT_NE(described.find("mcp@"), std::string::npos) << described;

  // Neither do errors: a malformed URI, or a server that is not there.
  auto malformed = OpenStore("postgresql://mcp:s3cret%zz@localhost/db");
  ASSERT_FALSE(malformed.ok());
  EXPECT_EQ(malformed.error().message.find("s3cret"), std::string::npos);
  std::string nowhere = with_password;
  nowhere.replace(nowhere.find("port=5432"), 9, "port=1");
  auto refused = OpenStore(nowhere);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().message.find("s3cret"), std::string::npos) << refused.error().message;
}

}  // namespace
}  // namespace mcpgw::history
