// The hash chain against a real SQLite file that is then tampered with directly (as an attacker
// with database access would): every edit, deletion and swap is found, and the first broken row
// is named.
#include "history/chain.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>

namespace mcpgw::history {
namespace {

class ChainTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = (std::filesystem::temp_directory_path() /
             ("mcpgw-chain-" + std::to_string(::getpid()) + "-" +
              ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".db"))
                .string();
    std::filesystem::remove(path_);
    auto s = OpenStore("sqlite://" + path_);
    ASSERT_TRUE(s.ok()) << s.error().message;
    store_ = std::move(s).value();
    ASSERT_TRUE(store_->Migrate().ok());
    ChainHead head;
    std::vector<ToolCallRow> rows;
    for (int i = 0; i < 10; ++i) {
      ToolCallRow r;
      r.ts_start_us = 1000 + i;
      r.ts_end_us = 2000 + i;
      r.request_id = "r" + std::to_string(i);
      r.subject = i % 2 ? "alice" : "bob";
      r.method = "tools/call";
      r.server = "everything";
      r.target = "echo";
      r.outcome = "ok";
      Link(r, head);
      rows.push_back(r);
    }
    ASSERT_TRUE(store_->AppendToolCalls(rows).ok());
    ChainHead ahead;
    std::vector<AuditRow> audit;
    for (int i = 0; i < 3; ++i) {
      AuditRow a;
      a.ts_us = 5000 + i;
      a.kind = "auth_failure";
      a.detail = R"({"reason":"expired"})";
      Link(a, ahead);
      audit.push_back(a);
    }
    ASSERT_TRUE(store_->AppendAudit(audit).ok());
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove(path_);
    std::filesystem::remove(path_ + "-wal");
    std::filesystem::remove(path_ + "-shm");
  }
  void Sql(const std::string& sql) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    char* err = nullptr;
    ASSERT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err), SQLITE_OK) << (err ? err : "");
    sqlite3_close(db);
  }
  std::string path_;
  std::unique_ptr<Store> store_;
};

TEST_F(ChainTest, IntactChainVerifies) {
  auto rep = VerifyToolCalls(*store_);
  EXPECT_TRUE(rep.ok) << rep.problem;
  EXPECT_EQ(rep.rows, 10);
  EXPECT_TRUE(VerifyAudit(*store_).ok);
}

TEST_F(ChainTest, EditedRowIsNamed) {
  Sql("UPDATE tool_calls SET outcome = 'error' WHERE seq = 4");
  auto rep = VerifyToolCalls(*store_);
  EXPECT_FALSE(rep.ok);
  EXPECT_EQ(rep.bad_seq, 4);
  EXPECT_NE(rep.problem.find("changed"), std::string::npos);
}

TEST_F(ChainTest, EditWithRecomputedHashBreaksTheNextLink) {
  // An attacker who recomputes the edited row's own hash still breaks the link of the next row.
  Sql("UPDATE tool_calls SET subject = 'mallory' WHERE seq = 6");
  Query q;
  q.after_seq = 5;
  q.limit = 1;
  auto rows = store_->QueryToolCalls(q);
  ASSERT_TRUE(rows.ok());
  ToolCallRow r = (*rows)[0];
  std::string fixed = ChainHash(r.prev_hash, CanonicalToolCall(r));
  Sql("UPDATE tool_calls SET row_hash = '" + fixed + "' WHERE seq = 6");
  auto rep = VerifyToolCalls(*store_);
  EXPECT_FALSE(rep.ok);
  EXPECT_EQ(rep.bad_seq, 7);
}

TEST_F(ChainTest, DeletedRowIsNamed) {
  Sql("DELETE FROM tool_calls WHERE seq = 3");
  auto rep = VerifyToolCalls(*store_);
  EXPECT_FALSE(rep.ok);
  EXPECT_EQ(rep.bad_seq, 4);
  EXPECT_NE(rep.problem.find("removed"), std::string::npos);
}

TEST_F(ChainTest, SwappedRowsAreFound) {
  // Swap the contents of rows 2 and 8 (keeping their seq): both links break.
  Sql("UPDATE tool_calls SET seq = -2 WHERE seq = 2; UPDATE tool_calls SET seq = 2 WHERE seq = 8; "
      "UPDATE tool_calls SET seq = 8 WHERE seq = -2");
  auto rep = VerifyToolCalls(*store_);
  EXPECT_FALSE(rep.ok);
  EXPECT_EQ(rep.bad_seq, 2);
}

TEST_F(ChainTest, AuditChainTooAndAppendsContinueTheChain) {
  Sql("UPDATE audit_events SET detail = '{}' WHERE seq = 2");
  EXPECT_FALSE(VerifyAudit(*store_).ok);
  // A fresh writer continues from the stored head: the chain stays verifiable across restarts.
  auto head = store_->ToolCallsHead();
  ASSERT_TRUE(head.ok());
  EXPECT_EQ(head->seq, 10);
  // A fresh store object (as after a restart) appends after the stored head.
  store_.reset();
  auto reopened = OpenStore("sqlite://" + path_);
  ASSERT_TRUE(reopened.ok());
  store_ = std::move(reopened).value();
  ToolCallRow r;
  r.request_id = "after-restart";
  r.method = "tools/call";
  std::vector<ToolCallRow> more = {r};
  ASSERT_TRUE(store_->AppendToolCalls(more).ok());
  EXPECT_EQ(more[0].seq, 11);  // linked by the store, after the stored head
  auto rep = VerifyToolCalls(*store_);
  EXPECT_TRUE(rep.ok) << rep.problem;
  EXPECT_EQ(rep.rows, 11);
}

}  // namespace
}  // namespace mcpgw::history
