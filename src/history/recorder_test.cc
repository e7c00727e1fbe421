// The recorder against a real PostgreSQL server (started by PgHarness): the server is stopped in
// the middle of a stream of calls, calls keep being acknowledged (their rows go to the spool),
// the server comes back, and every row reaches the database in order with the chain intact.
#include "history/recorder.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include "history/chain.h"
#include "history/pg_harness.h"
#include "io/run_until.h"

namespace mcpgw::history {
namespace {

ToolCallRow Call(int i) {
  ToolCallRow r;
  r.ts_start_us = 1000 + i;
  r.ts_end_us = 2000 + i;
  r.request_id = "call-" + std::to_string(i);
  r.method = "tools/call";
  r.server = "everything";
  r.target = "echo";
  r.outcome = "ok";
  return r;
}

TEST(Recorder, PostgresOutageLosesNothingAndKeepsOrder) {
  auto pg = testing::PgHarness::Create();
  if (!pg.ok() && pg.error().code == testing::PgHarness::kNotInstalled)
    GTEST_SKIP() << pg.error().message;
  ASSERT_TRUE(pg.ok()) << pg.error().message;
  auto dsn = (*pg)->CreateDatabase("outage");
  ASSERT_TRUE(dsn.ok()) << dsn.error().message;
  std::string spool =
      (std::filesystem::temp_directory_path() / ("mcpgw-spool-" + std::to_string(::getpid())))
          .string();
  std::filesystem::remove(spool);
  std::filesystem::remove(spool + ".offset");

  auto loop = io::NewLoop();
  RecorderOptions opts;
  opts.dsn = *dsn;
  opts.spool_path = spool;
  auto rec = StartRecorder(*loop, opts);
  ASSERT_TRUE(rec.ok()) << rec.error().message;
  int acked = 0;
  auto record = [&](int from, int to) {
    for (int i = from; i < to; ++i)
      ASSERT_TRUE((*rec)->Record(Call(i), std::nullopt, [&acked] { ++acked; }));
  };

  record(0, 100);
  ASSERT_TRUE(RunUntil(
      *loop, [&] { return acked == 100; }, std::chrono::seconds(10)));
  ASSERT_TRUE((*pg)->Stop().ok());
  record(100, 300);  // the database is down: these are spooled, and still acknowledged
  ASSERT_TRUE(RunUntil(
      *loop, [&] { return acked == 300; }, std::chrono::seconds(20)))
      << "acked " << acked;
  EXPECT_GT((*rec)->stats().spooled, 0u);
  ASSERT_TRUE((*pg)->Start().ok());
  record(300, 350);
  ASSERT_TRUE(RunUntil(
      *loop, [&] { return acked == 350 && (*rec)->stats().spool_pending_bytes == 0; },
      std::chrono::seconds(30)))
      << "acked " << acked << ", spool " << (*rec)->stats().spool_pending_bytes;
  (*rec)->Stop();

  auto store = OpenStore(*dsn);
  ASSERT_TRUE(store.ok());
  int next = 0;
  ASSERT_TRUE((*store)
                  ->ScanToolCalls([&](const ToolCallRow& r) {
                    EXPECT_EQ(r.request_id, "call-" + std::to_string(next)) << "at seq " << r.seq;
                    ++next;
                    return true;
                  })
                  .ok());
  EXPECT_EQ(next, 350);  // none lost, none twice, in the order they were recorded
  auto rep = VerifyToolCalls(**store);
  EXPECT_TRUE(rep.ok) << rep.problem;
  std::filesystem::remove(spool);
  std::filesystem::remove(spool + ".offset");
}

TEST(Recorder, SyncAcknowledgesOnlyWhatIsWritten) {
  std::string path =
      (std::filesystem::temp_directory_path() / ("mcpgw-rec-" + std::to_string(::getpid()) + ".db"))
          .string();
  std::filesystem::remove(path);
  auto loop = io::NewLoop();
  RecorderOptions opts;
  opts.dsn = "sqlite://" + path;
  auto rec = StartRecorder(*loop, opts);
  ASSERT_TRUE(rec.ok()) << rec.error().message;
  int acked = 0;
  for (int i = 0; i < 1000; ++i)
    ASSERT_TRUE((*rec)->Record(Call(i), std::nullopt, [&acked] { ++acked; }));
  ASSERT_TRUE(RunUntil(
      *loop, [&] { return acked == 1000; }, std::chrono::seconds(10)));
  // Every acknowledged row is readable by another connection right away.
  auto store = OpenStore("sqlite://" + path);
  ASSERT_TRUE(store.ok());
  auto head = (*store)->ToolCallsHead();
  ASSERT_TRUE(head.ok());
  EXPECT_EQ(head->seq, 1000);
  EXPECT_GE((*rec)->stats().batches, 1u);
  EXPECT_LT((*rec)->stats().batches, 1000u);  // group commit
  (*rec)->Stop();
  std::filesystem::remove(path);
}

std::string TempDb(const std::string& name) {
  std::string path = (std::filesystem::temp_directory_path() /
                      ("mcpgw-rec-" + name + "-" + std::to_string(::getpid()) + ".db"))
                         .string();
  std::filesystem::remove(path);
  return path;
}

std::unique_ptr<Store> OpenMigrated(const std::string& path) {
  auto store = OpenStore("sqlite://" + path);
  EXPECT_TRUE(store.ok()) << store.error().message;
  if (!store.ok()) return nullptr;
  EXPECT_TRUE((*store)->Migrate().ok());
  return std::move(*store);
}

// A store whose writes go to a real one (on the writer thread) and whose reads return nothing
// (or the real one's rows, with real_reads); either can be held at a gate until opened, and
// writes can fail as if the database were down.
class GatedStore : public Store {
 public:
  GatedStore(std::unique_ptr<Store> inner, bool concurrent_reads, bool real_reads = false)
      : inner_(std::move(inner)), concurrent_(concurrent_reads), real_reads_(real_reads) {}
  std::atomic<bool> fail_writes{false};

  struct Gate {
    std::mutex mu;
    std::condition_variable cv;
    bool open = true;
    int waiting = 0;
    void Pass() {
      std::unique_lock<std::mutex> lock(mu);
      ++waiting;
      cv.wait(lock, [&] { return open; });
      --waiting;
    }
    void Set(bool o) {
      {
        std::lock_guard<std::mutex> lock(mu);
        open = o;
      }
      cv.notify_all();
    }
    int Waiting() {
      std::lock_guard<std::mutex> lock(mu);
      return waiting;
    }
  };
  Gate reads, writes;

  Status Migrate() override { return inner_->Migrate(); }
  Status AppendToolCalls(std::vector<ToolCallRow>& rows) override {
    writes.Pass();
    if (fail_writes) return MakeError("database down (test)");
    return inner_->AppendToolCalls(rows);
  }
  Status AppendAudit(std::vector<AuditRow>& rows) override {
    writes.Pass();
    if (fail_writes) return MakeError("database down (test)");
    return inner_->AppendAudit(rows);
  }
  Status UpsertUsers(const std::vector<UserRow>& rows) override {
    return inner_->UpsertUsers(rows);
  }
  Result<std::optional<UserRow>> FindUser(const std::string&) override {
    reads.Pass();
    return std::optional<UserRow>();
  }
  Result<std::vector<ToolCallRow>> QueryToolCalls(const Query& q) override {
    reads.Pass();
    if (real_reads_) return inner_->QueryToolCalls(q);
    return std::vector<ToolCallRow>{};
  }
  Result<std::vector<AuditRow>> QueryAudit(const Query& q) override {
    reads.Pass();
    if (real_reads_) return inner_->QueryAudit(q);
    return std::vector<AuditRow>{};
  }
  Result<ChainHead> ToolCallsHead() override { return inner_->ToolCallsHead(); }
  Result<ChainHead> AuditHead() override { return inner_->AuditHead(); }
  Status ScanToolCalls(const std::function<bool(const ToolCallRow&)>& fn) override {
    return inner_->ScanToolCalls(fn);
  }
  Status ScanAudit(const std::function<bool(const AuditRow&)>& fn) override {
    return inner_->ScanAudit(fn);
  }
  std::string Describe() const override { return "gated " + inner_->Describe(); }
  bool ConcurrentReads() const override { return concurrent_; }
  size_t ReadConnections() const override { return 2; }

 private:
  std::unique_ptr<Store> inner_;
  bool concurrent_;
  bool real_reads_;
};

// A gateway stopped after a replayed run was committed but before the spool's offset recorded it
// finds the run again at its next start: the rows already in the database are not written twice,
// and the rest of the spool still is.
TEST(Recorder, SpoolReplayAfterACrashBeforeTheOffsetUpdateWritesNoRowTwice) {
  std::string path = TempDb("replay-twice");
  std::string spool = path + ".spool";
  std::filesystem::remove(spool);
  std::filesystem::remove(spool + ".offset");
  RecorderOptions opts;
  opts.spool_path = spool;
  opts.max_batch = 4;  // the spool replays in runs of 4
  auto loop = io::NewLoop();
  int acked = 0;
  {
    auto gated = std::make_unique<GatedStore>(OpenMigrated(path), false, true);
    GatedStore* store = gated.get();
    store->fail_writes = true;  // the database is down: rows go to the spool
    auto rec = StartRecorder(*loop, opts, std::move(gated));
    for (int i = 0; i < 10; ++i)
      ASSERT_TRUE(rec->Record(Call(i), std::nullopt, [&acked] { ++acked; }));
    ASSERT_TRUE(RunUntil(
        *loop, [&] { return acked == 10; }, std::chrono::seconds(10)));
    EXPECT_EQ(rec->stats().spooled, 10u);
    rec->Stop();
  }
  // The crash: the first run (4 rows) was committed, the offset still says nothing was.
  {
    auto store = OpenMigrated(path);
    std::vector<ToolCallRow> first;
    first.reserve(4);
    for (int i = 0; i < 4; ++i) first.push_back(Call(i));
    ASSERT_TRUE(store->AppendToolCalls(first).ok());
  }
  std::ofstream(spool + ".offset", std::ios::trunc) << 0;
  {
    auto rec = StartRecorder(*loop, opts, OpenMigrated(path));
    ASSERT_TRUE(RunUntil(
        *loop, [&] { return rec->stats().spool_pending_bytes == 0; }, std::chrono::seconds(10)));
    EXPECT_EQ(rec->stats().replayed, 6u) << "the 4 committed rows are not replayed";
    rec->Stop();
  }
  auto store = OpenMigrated(path);
  std::vector<std::string> ids;
  ASSERT_TRUE(store
                  ->ScanToolCalls([&](const ToolCallRow& r) {
                    ids.push_back(r.request_id);
                    return true;
                  })
                  .ok());
  std::vector<std::string> want;
  want.reserve(10);
  for (int i = 0; i < 10; ++i) want.push_back("call-" + std::to_string(i));
  EXPECT_EQ(ids, want) << "each call once, in order";
  EXPECT_TRUE(VerifyToolCalls(*store).ok) << VerifyToolCalls(*store).problem;
  std::filesystem::remove(path);
  std::filesystem::remove(spool);
  std::filesystem::remove(spool + ".offset");
}

TEST(Recorder, ASlowReadNeverDelaysWritesWhenTheStoreReadsConcurrently) {
  for (bool concurrent : {true, false}) {
    SCOPED_TRACE(concurrent ? "concurrent reads" : "reads on the writer thread");
    std::string path = TempDb("reads");
    auto gated = std::make_unique<GatedStore>(OpenMigrated(path), concurrent);
    GatedStore* store = gated.get();
    store->reads.Set(false);
    auto loop = io::NewLoop();
    auto rec = StartRecorder(*loop, RecorderOptions{}, std::move(gated));
    int answered = 0;
    for (int i = 0; i < 3; ++i) {
      rec->QueryToolCalls(Query{}, [&](const Result<std::vector<ToolCallRow>>& r) {
        EXPECT_TRUE(r.ok());
        ++answered;
      });
    }
    ASSERT_TRUE(RunUntil(
        *loop, [&] { return store->reads.Waiting() == (concurrent ? 2 : 1); },
        std::chrono::seconds(5)));
    int acked = 0;
    for (int i = 0; i < 20; ++i)
      ASSERT_TRUE(rec->Record(Call(i), std::nullopt, [&acked] { ++acked; }));
    if (concurrent) {
      EXPECT_TRUE(RunUntil(
          *loop, [&] { return acked == 20; }, std::chrono::seconds(5)))
          << "writes waited for a read: acked " << acked;
    } else {
      // What the read pool avoids: the writer is stuck behind the read.
      EXPECT_FALSE(RunUntil(
          *loop, [&] { return acked > 0; }, std::chrono::seconds(1)));
    }
    store->reads.Set(true);
    EXPECT_TRUE(RunUntil(
        *loop, [&] { return acked == 20 && answered == 3; }, std::chrono::seconds(5)))
        << "acked " << acked << ", answered " << answered;
    rec->Stop();
    std::filesystem::remove(path);
  }
}

TEST(Recorder, AsyncCountsAnsweredRowsNotYetWrittenAsAtRisk) {
  std::string path = TempDb("atrisk");
  auto gated = std::make_unique<GatedStore>(OpenMigrated(path), false);
  GatedStore* store = gated.get();
  store->writes.Set(false);
  auto loop = io::NewLoop();
  RecorderOptions opts;
  opts.durability = Durability::kAsync;
  auto rec = StartRecorder(*loop, opts, std::move(gated));
  int acked = 0;
  for (int i = 0; i < 10; ++i)
    ASSERT_TRUE(rec->Record(Call(i), std::nullopt, [&acked] { ++acked; }));
  ASSERT_TRUE(
      rec->Record(Call(10), std::nullopt, nullptr));  // unanswered (no callback): not "at risk"
  EXPECT_EQ(acked, 10) << "async answers at once";
  EXPECT_EQ(rec->stats().at_risk, 10u);
  store->writes.Set(true);
  EXPECT_TRUE(RunUntil(
      *loop, [&] { return rec->stats().written == 11; }, std::chrono::seconds(5)));
  EXPECT_EQ(rec->stats().at_risk, 0u);
  rec->Stop();
  std::filesystem::remove(path);
}

TEST(Recorder, SyncHasNothingAtRisk) {
  std::string path = TempDb("sync-atrisk");
  auto gated = std::make_unique<GatedStore>(OpenMigrated(path), false);
  gated->writes.Set(false);
  GatedStore* store = gated.get();
  auto loop = io::NewLoop();
  auto rec = StartRecorder(*loop, RecorderOptions{}, std::move(gated));
  int acked = 0;
  for (int i = 0; i < 5; ++i)
    ASSERT_TRUE(rec->Record(Call(i), std::nullopt, [&acked] { ++acked; }));
  EXPECT_EQ(rec->stats().at_risk, 0u);
  EXPECT_EQ(acked, 0);
  store->writes.Set(true);
  EXPECT_TRUE(RunUntil(
      *loop, [&] { return acked == 5; }, std::chrono::seconds(5)));
  rec->Stop();
  std::filesystem::remove(path);
}

TEST(Recorder, AsyncGathersRowsIntoFewTransactionsAndWritesThemSoon) {
  std::string path = TempDb("gather");
  auto loop = io::NewLoop();
  RecorderOptions opts;
  opts.dsn = "sqlite://" + path;
  opts.durability = Durability::kAsync;
  opts.async_flush_interval = std::chrono::milliseconds(20);
  auto rec = StartRecorder(*loop, opts);
  ASSERT_TRUE(rec.ok()) << rec.error().message;
  // One call every 100 µs for 60 ms, as at concurrency 1: a commit each would be 600 batches.
  auto start = std::chrono::steady_clock::now();
  int acked = 0;
  for (int i = 0; i < 600; ++i) {
    std::this_thread::sleep_until(start + std::chrono::microseconds(100 * i));
    ASSERT_TRUE((*rec)->Record(Call(i), std::nullopt, [&acked] { ++acked; }));
  }
  auto elapsed = std::chrono::steady_clock::now() - start;  // more than 60 ms on a busy machine
  EXPECT_EQ(acked, 600);
  ASSERT_TRUE(RunUntil(
      *loop, [&] { return (*rec)->stats().written == 600; }, std::chrono::seconds(5)));
  EXPECT_EQ((*rec)->stats().at_risk, 0u);
  // A batch per interval at most (plus the last, partial one), never one per row.
  EXPECT_LE((*rec)->stats().batches, static_cast<uint64_t>(elapsed / opts.async_flush_interval) + 2)
      << "rows were not gathered";
  EXPECT_LT((*rec)->stats().batches, 100u);
  // A lone row is written within the interval, without another row or a timer of the loop.
  ASSERT_TRUE((*rec)->Record(Call(600), std::nullopt, [] {}));
  auto t0 = std::chrono::steady_clock::now();
  while ((*rec)->stats().written < 601 &&
         std::chrono::steady_clock::now() - t0 < std::chrono::seconds(5)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_EQ((*rec)->stats().written, 601u);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(1));
  (*rec)->Stop();
  std::filesystem::remove(path);
}

TEST(Recorder, ArgumentsAreRedactedAndHashedByTheWriter) {
  std::string path = TempDb("args");
  auto loop = io::NewLoop();
  RecorderOptions opts;
  opts.dsn = "sqlite://" + path;
  opts.redact.keys.push_back("pin");
  auto rec = StartRecorder(*loop, opts);
  ASSERT_TRUE(rec.ok()) << rec.error().message;
  auto args = json::Parse(R"({"query":"weather","password":"hunter2","pin":"1234"})");
  ASSERT_TRUE(args.ok());
  int acked = 0;
  ASSERT_TRUE((*rec)->Record(Call(0), CallArguments{*args, false}, [&acked] { ++acked; }));
  ASSERT_TRUE((*rec)->Record(Call(1), CallArguments{*args, true}, [&acked] { ++acked; }));
  ToolCallRow given = Call(2);
  given.args_redacted = R"({"kept":true})";
  ASSERT_TRUE((*rec)->Record(given, std::nullopt, [&acked] { ++acked; }));
  ASSERT_TRUE(RunUntil(
      *loop, [&] { return acked == 3; }, std::chrono::seconds(5)));
  (*rec)->Stop();
  RedactOptions expected_opts;
  expected_opts.keys.push_back("pin");
  RedactedArgs expected = RedactArguments(*args, expected_opts);
  EXPECT_EQ(expected.json, R"({"query":"weather","password":"[REDACTED]","pin":"[REDACTED]"})");
  auto store = OpenStore("sqlite://" + path);
  ASSERT_TRUE(store.ok());
  std::vector<ToolCallRow> rows;
  ASSERT_TRUE((*store)
                  ->ScanToolCalls([&](const ToolCallRow& r) {
                    rows.push_back(r);
                    return true;
                  })
                  .ok());
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].args_redacted, expected.json);
  EXPECT_EQ(rows[0].args_sha256, expected.sha256);
  EXPECT_EQ(rows[1].args_redacted, "{}");  // a sensitive tool: only the hash
  EXPECT_EQ(rows[1].args_sha256, expected.sha256);
  EXPECT_EQ(rows[2].args_redacted, R"({"kept":true})");
  EXPECT_TRUE(VerifyToolCalls(**store).ok);
  std::filesystem::remove(path);
}

TEST(Recorder, UsersAreMirroredOffTheRequestPathAndMerged) {
  std::string path = TempDb("users");
  auto loop = io::NewLoop();
  RecorderOptions opts;
  opts.dsn = "sqlite://" + path;
  auto rec = StartRecorder(*loop, opts);
  ASSERT_TRUE(rec.ok()) << rec.error().message;
  UserRow alice;
  alice.subject = "alice";
  alice.email = "alice@example.test";
  alice.tenant = "acme";
  alice.roles = R"(["user"])";
  alice.groups = R"(["eng"])";
  alice.first_seen_us = alice.last_seen_us = 1000;
  (*rec)->SeenUser(alice);
  alice.roles = R"(["user","dev"])";
  alice.first_seen_us = alice.last_seen_us = 2000;
  (*rec)->SeenUser(alice);
  ASSERT_TRUE(RunUntil(
      *loop, [&] { return (*rec)->stats().users_written >= 1; }, std::chrono::seconds(5)));
  (*rec)->Stop();
  auto store = OpenStore("sqlite://" + path);
  ASSERT_TRUE(store.ok());
  auto u = (*store)->FindUser("alice");
  ASSERT_TRUE(u.ok() && u->has_value());
  EXPECT_EQ((*u)->email, "alice@example.test");
  EXPECT_EQ((*u)->roles, R"(["user","dev"])");
  EXPECT_EQ((*u)->groups, R"(["eng"])");
  EXPECT_EQ((*u)->first_seen_us, 1000);
  EXPECT_EQ((*u)->last_seen_us, 2000);
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace mcpgw::history
