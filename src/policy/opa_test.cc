// The remote decider against a tiny in-test HTTP server that answers like OPA's Data API.
#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <memory>

#include "io/run_until.h"
#include "policy/decider.h"

namespace mcpgw::policy {
namespace {

struct Seen {
  std::string method, target, body;
};

class OpaDeciderTest : public testing::Test {
 protected:
  void SetUp() override {
    loop_ = io::NewLoop();
    http::ServerOptions opts;
    opts.port = 0;
    server_ = http::NewServer(*loop_, opts,
                              [this](http::Request&& req, std::shared_ptr<http::Responder> res) {
                                seen_.push_back({req.method, req.target, req.body});
                                auto it = answers_.find(req.method + " " + std::string(req.path()));
                                if (it == answers_.end()) {
                                  return res->Send(404, {}, R"({"code":"resource_not_found"})");
                                }
                                it->second(req, std::move(res));
                              });
    auto port = server_->Listen();
    ASSERT_TRUE(port.ok());
    cfg_.mode = config::PolicyConfig::Mode::kOpa;
    cfg_.opa_url = "http://127.0.0.1:" + std::to_string(*port);
    cfg_.timeout_ms = 200;
    client_ = http::NewClient(*loop_);
    Reply("GET /health", 200, "{}");
  }

  void TearDown() override {
    if (decider_) decider_->Stop();
    decider_.reset();
    server_->Stop();
  }

  void Reply(const std::string& route, int status, std::string body) {
    answers_[route] = [status, body](const http::Request&, std::shared_ptr<http::Responder> res) {
      res->Send(status, {{"content-type", "application/json"}}, body);
    };
  }

  Decider& Make() {
    decider_ = NewOpaDecider(*loop_, *client_, cfg_);
    EXPECT_TRUE(decider_->Start().ok());
    return *decider_;
  }

  // Runs the loop until `done` is true (or 3 s pass).
  void RunUntil(const std::function<bool()>& done) { io::RunUntil(*loop_, done); }

  Decision DecideOne(const rego::Value& input) {
    std::optional<Decision> got;
    decider_->Decide(input, [&](Decision d) { got = std::move(d); });
    RunUntil([&] { return got.has_value(); });
    EXPECT_TRUE(got.has_value());
    return got.value_or(Decision{});
  }

  static rego::Value Input() {
    return rego::MakeObject({{"user", rego::MakeObject({{"sub", rego::Value::String("alice")}})}});
  }

  std::unique_ptr<io::Loop> loop_;
  std::unique_ptr<http::Server> server_;
  std::unique_ptr<http::Client> client_;
  std::unique_ptr<Decider> decider_;
  config::PolicyConfig cfg_;
  std::map<std::string, std::function<void(const http::Request&, std::shared_ptr<http::Responder>)>>
      answers_;
  std::vector<Seen> seen_;
};

TEST_F(OpaDeciderTest, AllowsOnTrueAndSendsTheInputWrapped) {
  Reply("POST /v1/data/mcp/authz/allow", 200, R"({"result":true,"decision_id":"opa-123"})");
  Make();
  Decision d = DecideOne(Input());
  EXPECT_TRUE(d.allow);
  EXPECT_FALSE(d.error);
  EXPECT_EQ(d.decision_id, "opa-123");  // OPA's own id when it gives one
  bool posted = false;
  for (const auto& s : seen_) {
    if (s.method == "POST") {
      posted = true;
      EXPECT_EQ(s.target, "/v1/data/mcp/authz/allow");
      EXPECT_EQ(s.body, R"({"input":{"user":{"sub":"alice"}}})");
    }
  }
  EXPECT_TRUE(posted);
}

TEST_F(OpaDeciderTest, DenyFetchesTheSiblingReasons) {
  Reply("POST /v1/data/mcp/authz/allow", 200, R"({"result":false})");
  Reply("POST /v1/data/mcp/authz/reasons", 200,
        R"({"result":["scope tool:x:write required","tool disabled by emergency deny"]})");
  Make();
  Decision d = DecideOne(Input());
  EXPECT_FALSE(d.allow);
  EXPECT_FALSE(d.error);
  EXPECT_EQ(d.reasons, (std::vector<std::string>{"scope tool:x:write required",
                                                 "tool disabled by emergency deny"}));
  EXPECT_EQ(d.decision_id.size(), 32u);  // ours, since OPA gave none
}

TEST_F(OpaDeciderTest, DenyWithoutReasonsStillDenies) {
  Reply("POST /v1/data/mcp/authz/allow", 200, R"({"result":false})");
  Reply("POST /v1/data/mcp/authz/reasons", 500, R"({"code":"internal_error"})");
  Make();
  Decision d = DecideOne(Input());
  EXPECT_FALSE(d.allow);
  EXPECT_FALSE(d.error);
  EXPECT_TRUE(d.reasons.empty());
}

TEST_F(OpaDeciderTest, FailsClosed) {
  const std::pair<int, const char*> answers[] = {
      {500, R"({"code":"internal_error","message":"eval_conflict_error"})"},
      {200, R"({"decision_id":"x"})"},        // undefined
      {200, R"({"result":"yes"})"},           // not a boolean
      {200, R"({"result":{"allow":true}})"},  // not a boolean either
      {200, "not json"},
      {404, R"({"code":"resource_not_found"})"},
  };
  Make();
  for (const auto& [status, body] : answers) {
    Reply("POST /v1/data/mcp/authz/allow", status, body);
    Decision d = DecideOne(Input());
    EXPECT_FALSE(d.allow) << body;
    EXPECT_TRUE(d.error) << body;
    EXPECT_EQ(d.reasons, std::vector<std::string>{kUnavailableReason}) << body;
    EXPECT_FALSE(d.decision_id.empty());
  }
}

TEST_F(OpaDeciderTest, DeadlineDeniesASlowPdp) {
  std::vector<std::shared_ptr<http::Responder>> held;
  answers_["POST /v1/data/mcp/authz/allow"] = [&](const http::Request&,
                                                  std::shared_ptr<http::Responder> res) {
    held.push_back(std::move(res));  // never answered
  };
  cfg_.timeout_ms = 50;
  Make();
  auto start = std::chrono::steady_clock::now();
  Decision d = DecideOne(Input());
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                  start)
                .count();
  EXPECT_FALSE(d.allow);
  EXPECT_TRUE(d.error);
  EXPECT_GE(ms, 45);
  EXPECT_LT(ms, 1000);
}

TEST_F(OpaDeciderTest, UnreachablePdpDeniesAndIsNotReady) {
  cfg_.opa_url = "http://127.0.0.1:1";  // nothing listens there
  Make();
  Decision d = DecideOne(Input());
  EXPECT_FALSE(d.allow);
  EXPECT_TRUE(d.error);
  // Let the health check fail.
  RunUntil([&] { return decider_->Describe().find("not checked") == std::string::npos; });
  EXPECT_FALSE(decider_->Ready());
  EXPECT_NE(decider_->Describe().find("not ready"), std::string::npos);
}

TEST_F(OpaDeciderTest, ReadyFollowsHealth) {
  Make();
  EXPECT_FALSE(decider_->Ready());  // not checked yet
  RunUntil([&] { return decider_->Ready(); });
  EXPECT_TRUE(decider_->Ready());
  EXPECT_STREQ(decider_->backend(), "opa");
}

TEST_F(OpaDeciderTest, DecideManyKeepsOrder) {
  answers_["POST /v1/data/mcp/authz/allow"] = [](const http::Request& req,
                                                 std::shared_ptr<http::Responder> res) {
    bool odd = req.body.find("\"n\":1") != std::string::npos ||
               req.body.find("\"n\":3") != std::string::npos;
    bool whole = req.body.find("\"base\":true") != std::string::npos;  // the base's members too
    res->Send(200, {}, odd && whole ? R"({"result":true})" : R"({"result":false})");
  };
  Reply("POST /v1/data/mcp/authz/reasons", 200, R"({"result":["even"]})");
  Make();
  std::vector<rego::Value> items;
  for (int i = 0; i < 40; ++i) items.push_back(rego::MakeObject({{"n", rego::Value::Int(i % 4)}}));
  std::optional<std::vector<Decision>> got;
  // Each item's input goes to OPA whole: the base's members with the item's put in.
  decider_->DecideMany(rego::MakeObject({{"base", rego::Value::True()}}), items,
                       [&](std::vector<Decision> d) { got = std::move(d); });
  RunUntil([&] { return got.has_value(); });
  ASSERT_TRUE(got.has_value());
  ASSERT_EQ(got->size(), 40u);
  for (int i = 0; i < 40; ++i) {
    EXPECT_EQ((*got)[i].allow, i % 2 == 1) << i;
    if (i % 2 == 0) {
      EXPECT_EQ((*got)[i].reasons, std::vector<std::string>{"even"});
    }
  }
}

TEST_F(OpaDeciderTest, SetDataPutsTheDocument) {
  Reply("PUT /v1/data/mcp/emergency", 204, "");
  Make();
  std::optional<Status> got;
  auto doc = rego::MakeObject({{"deny_all", rego::Value::Bool(true)}});
  decider_->SetData("mcp/emergency", doc, [&](Status s) { got = std::move(s); });
  RunUntil([&] { return got.has_value(); });
  ASSERT_TRUE(got.has_value());
  EXPECT_TRUE(got->ok());
  bool put = false;
  for (const auto& s : seen_) {
    if (s.method == "PUT") {
      put = true;
      EXPECT_EQ(s.body, R"({"deny_all":true})");
    }
  }
  EXPECT_TRUE(put);
  Reply("PUT /v1/data/mcp/emergency", 400, R"({"code":"invalid_parameter"})");
  got.reset();
  decider_->SetData("mcp/emergency", doc, [&](Status s) { got = std::move(s); });
  RunUntil([&] { return got.has_value(); });
  ASSERT_TRUE(got.has_value());
  EXPECT_FALSE(got->ok());
}

TEST_F(OpaDeciderTest, StopDeniesWhatIsOutstanding) {
  std::vector<std::shared_ptr<http::Responder>> held;
  answers_["POST /v1/data/mcp/authz/allow"] = [&](const http::Request&,
                                                  std::shared_ptr<http::Responder> res) {
    held.push_back(std::move(res));
  };
  cfg_.timeout_ms = 5000;
  Make();
  std::optional<Decision> got;
  decider_->Decide(Input(), [&](Decision d) { got = std::move(d); });
  RunUntil([&] { return !held.empty(); });
  decider_->Stop();
  ASSERT_TRUE(got.has_value());
  EXPECT_FALSE(got->allow);
  EXPECT_TRUE(got->error);
}

TEST(PolicyHelpers, SplitPathAndReasons) {
  EXPECT_EQ(SplitPath("mcp/authz/allow"), (std::vector<std::string>{"mcp", "authz", "allow"}));
  EXPECT_EQ(SplitPath("/a//b/"), (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(SplitPath("").empty());
  rego::Set set{rego::Value::String("b"), rego::Value::String("a"), rego::Value::Int(1)};
  EXPECT_EQ(ReasonStrings(rego::Value::FromSet(set)), (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(ReasonStrings(rego::Value::Bool(true)).empty());
  EXPECT_NE(NewDecisionId(), NewDecisionId());
}

}  // namespace
}  // namespace mcpgw::policy
