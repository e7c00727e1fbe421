// The recorder against a real PostgreSQL server (started by PgHarness): the server is stopped in
// the middle of a stream of calls, calls keep being acknowledged (their rows go to the spool),
// the server comes back, and every row reaches the database in order with the chain intact.
#include "history/recorder.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "history/chain.h"
#include "history/pg_harness.h"

namespace mcpgw::history {
namespace {

// Runs the loop until `done()` or the deadline; returns done().
bool RunUntil(io::Loop& loop, const std::function<bool()>& done, int seconds) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while (!done() && std::chrono::steady_clock::now() < deadline) {
    loop.After(io::Millis(20), [&loop] { loop.Stop(); });
    loop.Run();
  }
  return done();
}

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
    for (int i = from; i < to; ++i) ASSERT_TRUE((*rec)->Record(Call(i), [&acked] { ++acked; }));
  };

  record(0, 100);
  ASSERT_TRUE(RunUntil(
      *loop, [&] { return acked == 100; }, 10));
  ASSERT_TRUE((*pg)->Stop().ok());
  record(100, 300);  // the database is down: these are spooled, and still acknowledged
  ASSERT_TRUE(RunUntil(
      *loop, [&] { return acked == 300; }, 20))
      << "acked " << acked;
  EXPECT_GT((*rec)->stats().spooled, 0u);
  ASSERT_TRUE((*pg)->Start().ok());
  record(300, 350);
  ASSERT_TRUE(RunUntil(
      *loop, [&] { return acked == 350 && (*rec)->stats().spool_pending_bytes == 0; }, 30))
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
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE((*rec)->Record(Call(i), [&acked] { ++acked; }));
  ASSERT_TRUE(RunUntil(
      *loop, [&] { return acked == 1000; }, 10));
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

}  // namespace
}  // namespace mcpgw::history
