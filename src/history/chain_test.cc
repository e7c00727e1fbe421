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

// The canonical form is what every stored row_hash covers: it must never change, or the chains
// of existing databases would stop verifying. Pinned here for a row with every kind of value
// (quotes, backslashes, control characters, non-ASCII, negative and large numbers); the
// expected text and hash were produced by the first implementation (a json::array serialized).
TEST(CanonicalForm, IsStable) {
  ToolCallRow r;
  r.seq = 42;
  r.ts_start_us = 1764115200123456;
  r.ts_end_us = 1764115200124000;
  r.request_id = "req-\"1\"";
  r.trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
  r.session_id = "s\\1";
  r.subject = "ana\u00efs \xe2\x9c\x93";
  r.roles = "admin,user";
  r.tenant = "";
  r.client_name = "tab\there\nnew\x01line\x1f";
  r.client_version = "1.0/2";
  r.server = "fs";
  r.method = "tools/call";
  r.target = "write_file";
  r.action = "write";
  r.args_redacted = R"({"path":"/tmp/x","password":"[REDACTED]"})";
  r.args_sha256 = "ab";
  r.decision = "allow";
  r.decision_id = "d-1";
  r.decision_reasons = "[\"a\",\"b\"]";
  r.http_status = 200;
  r.rpc_error_code = -32603;
  r.is_error = true;
  r.outcome = "error";
  r.latency_us = 9223372036854775807;
  r.result_bytes = 0;
  EXPECT_EQ(
      CanonicalToolCall(r),
      R"([42,1764115200123456,1764115200124000,"req-\"1\"","4bf92f3577b34da6a3ce929d0e0e4736","s\\1","anaïs ✓","admin,user","","tab\there\nnew\u0001line\u001f","1.0/2","fs","tools/call","write_file","write","{\"path\":\"/tmp/x\",\"password\":\"[REDACTED]\"}","ab","allow","d-1","[\"a\",\"b\"]",200,-32603,1,"error",9223372036854775807,0])");
  EXPECT_EQ(ChainHash(kGenesisHash, CanonicalToolCall(r)),
            "ddf4d1f4e5cf41c7c24ba5605c1071e568c86cdbc28b879dbcada4a1c0408d6c");
  AuditRow a;
  a.seq = -1;
  a.ts_us = 7;
  a.kind = "policy_denied";
  a.subject = "x\"y";
  a.request_id = "\x7f";
  a.detail = "{}";
  EXPECT_EQ(CanonicalAudit(a), "[-1,7,\"policy_denied\",\"x\\\"y\",\"\x7f\",\"{}\"]");
}

}  // namespace
}  // namespace mcpgw::history
