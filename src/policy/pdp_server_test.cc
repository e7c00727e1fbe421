// OPA's Data API served by `mcpgw pdp` (DataApi over a PolicyStore), request by request, and the
// remote decider talking to it over a real socket.
#include "policy/pdp_server.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "policy/decider.h"

namespace mcpgw::policy {
namespace {

namespace fs = std::filesystem;

constexpr const char* kPolicy = R"(package mcp.authz

default allow := false

allow if {
  input.user.sub == "alice"
  not data.mcp.emergency.deny_all
}

reasons contains "only alice" if input.user.sub != "alice"

reasons contains "emergency deny" if data.mcp.emergency.deny_all

conflict := 1 if input.a
conflict := 2 if input.b
)";

class DataApiTest : public testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "policy-pdp-XXXXXX").string();
    dir_ = ::mkdtemp(tmpl.data());
    fs::create_directories(dir_ / "mcp");
    std::ofstream(dir_ / "authz.rego") << kPolicy;
    std::ofstream(dir_ / "mcp" / "emergency.json") << R"({"emergency": {"deny_all": false}})";
    loop_ = io::NewLoop();
    store_ = std::make_unique<PolicyStore>(*loop_, std::vector<std::string>{dir_.string()}, 0);
    Status s = store_->Load();
    ASSERT_TRUE(s.ok()) << s.error().message;
    api_ = std::make_unique<DataApi>(*store_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  DataApi::Response Call(const std::string& method, const std::string& target,
                         const std::string& body = "") {
    http::Request req;
    req.method = method;
    req.target = target;
    req.body = body;
    return api_->Handle(req);
  }

  // The "result" of an answer as JSON text, "<undefined>" when it has none.
  static std::string Result(const DataApi::Response& r) {
    rego::Value v = Json(r);
    const rego::Value* res = v.Get("result");
    return res ? res->ToJson() : "<undefined> " + r.body;
  }

  static rego::Value Json(const DataApi::Response& r) {
    auto v = rego::Value::ParseJson(r.body);
    EXPECT_TRUE(v.ok()) << r.body;
    return v.ok() ? *v : rego::Value();
  }

  fs::path dir_;
  std::unique_ptr<io::Loop> loop_;
  std::unique_ptr<PolicyStore> store_;
  std::unique_ptr<DataApi> api_;
};

TEST_F(DataApiTest, PostEvaluatesWithInput) {
  auto r = Call("POST", "/v1/data/mcp/authz/allow", R"({"input":{"user":{"sub":"alice"}}})");
  EXPECT_EQ(r.status, 200);
  rego::Value v = Json(r);
  EXPECT_EQ(Result(r), "true");
  ASSERT_NE(v.Get("decision_id"), nullptr);
  EXPECT_EQ(v.Get("warning"), nullptr);
  r = Call("POST", "/v1/data/mcp/authz/reasons", R"({"input":{"user":{"sub":"bob"}}})");
  EXPECT_EQ(Result(r), R"(["only alice"])");
}

TEST_F(DataApiTest, UndefinedHasNoResult) {
  auto r = Call("POST", "/v1/data/mcp/authz/missing", R"({"input":{}})");
  EXPECT_EQ(r.status, 200);
  rego::Value v = Json(r);
  EXPECT_EQ(v.Get("result"), nullptr);
  EXPECT_NE(v.Get("decision_id"), nullptr);
}

TEST_F(DataApiTest, GetReadsDocumentsWithoutInput) {
  auto r = Call("GET", "/v1/data/mcp/emergency");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(Result(r), R"({"deny_all":false})");
  r = Call("GET", "/v1/data/mcp/authz/allow");
  EXPECT_EQ(Result(r), "false");
  r = Call("GET",
           "/v1/data/mcp/authz/allow?input=%7B%22user%22%3A%7B%22sub%22%3A%22alice%22%7D%7D");
  EXPECT_EQ(Result(r), "true") << r.body;
}

TEST_F(DataApiTest, MissingInputKeyGetsOpasWarning) {
  auto r = Call("POST", "/v1/data/mcp/authz/allow", R"({"user":{"sub":"alice"}})");
  EXPECT_EQ(r.status, 200);
  rego::Value v = Json(r);
  EXPECT_EQ(Result(r), "false");
  ASSERT_NE(v.Get("warning"), nullptr);
  EXPECT_EQ(v.Get("warning")->Get("code")->str(), "api_usage_warning");
}

TEST_F(DataApiTest, ErrorsUseOpasJson) {
  auto bad = Call("POST", "/v1/data/mcp/authz/allow", "{not json");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(Json(bad).Get("code")->str(), "invalid_parameter");
  auto conflict = Call("POST", "/v1/data/mcp/authz/conflict", R"({"input":{"a":true,"b":true}})");
  EXPECT_EQ(conflict.status, 500) << conflict.body;
  EXPECT_EQ(Json(conflict).Get("code")->str(), "internal_error");
  auto unknown = Call("GET", "/v2/whatever");
  EXPECT_EQ(unknown.status, 404);
  auto method = Call("PATCH", "/v1/data/x");
  EXPECT_EQ(method.status, 405);
}

TEST_F(DataApiTest, PutReplacesDataAtRuntime) {
  auto put = Call("PUT", "/v1/data/mcp/emergency", R"({"deny_all": true})");
  EXPECT_EQ(put.status, 204) << put.body;
  auto r = Call("POST", "/v1/data/mcp/authz/allow", R"({"input":{"user":{"sub":"alice"}}})");
  EXPECT_EQ(Result(r), "false");
  r = Call("POST", "/v1/data/mcp/authz/reasons", R"({"input":{"user":{"sub":"alice"}}})");
  EXPECT_EQ(Result(r), R"(["emergency deny"])");
  // New paths are created on the way (mkdir -p).
  EXPECT_EQ(Call("PUT", "/v1/data/x/y/z", "[1,2]").status, 204);
  EXPECT_EQ(Result(Call("GET", "/v1/data/x")), R"({"y":{"z":[1,2]}})");
  EXPECT_EQ(Call("PUT", "/v1/data/x", "{oops").status, 400);
  EXPECT_EQ(Call("DELETE", "/v1/data/x/y").status, 204);
  ASSERT_TRUE(store_->GetData({"x"}).has_value());
  EXPECT_EQ(store_->GetData({"x"})->ToJson(), "{}");
  EXPECT_EQ(Result(Call("GET", "/v1/data/x")), "{}");
  EXPECT_EQ(Call("DELETE", "/v1/data/nothing/here").status, 404);
}

TEST_F(DataApiTest, Health) {
  auto r = Call("GET", "/health");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "{}");
  PolicyStore empty(*loop_, {(dir_ / "does-not-exist.rego").string()}, 0);
  EXPECT_FALSE(empty.Load().ok());
  DataApi none(empty);
  http::Request req;
  req.method = "GET";
  req.target = "/health";
  EXPECT_EQ(none.Handle(req).status, 500);
  req.method = "POST";
  req.target = "/v1/data/mcp/authz/allow";
  EXPECT_EQ(none.Handle(req).status, 500);
}

TEST(PdpAddress, Parses) {
  auto a = ParseListenAddress("127.0.0.1:8181");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->first, "127.0.0.1");
  EXPECT_EQ(a->second, 8181);
  auto all = ParseListenAddress(":8181");
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->first, "0.0.0.0");
  auto v6 = ParseListenAddress("[::1]:0");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->first, "::1");
  EXPECT_FALSE(ParseListenAddress("8181").ok());
  EXPECT_FALSE(ParseListenAddress("host:http").ok());
  EXPECT_FALSE(ParseListenAddress("host:70000").ok());
}

// The remote decider and the PDP server together, over a socket: what a gateway in remote mode
// does against `mcpgw pdp`.
TEST_F(DataApiTest, OpaDeciderAgainstThePdp) {
  http::ServerOptions opts;
  opts.port = 0;
  auto server = http::NewServer(*loop_, opts,
                                [this](http::Request&& req, std::shared_ptr<http::Responder> res) {
                                  DataApi::Response r = api_->Handle(req);
                                  res->Send(r.status, std::move(r.headers), std::move(r.body));
                                });
  auto port = server->Listen();
  ASSERT_TRUE(port.ok());
  auto client = http::NewClient(*loop_);
  config::PolicyConfig cfg;
  cfg.mode = config::PolicyConfig::Mode::kOpa;
  cfg.opa_url = "http://127.0.0.1:" + std::to_string(*port);
  cfg.timeout_ms = 1000;
  auto decider = NewOpaDecider(*loop_, *client, cfg);
  ASSERT_TRUE(decider->Start().ok());
  auto decide = [&](const char* sub) {
    std::optional<Decision> got;
    decider->Decide(
        rego::MakeObject({{"user", rego::MakeObject({{"sub", rego::Value::String(sub)}})}}),
        [&](Decision d) {
          got = std::move(d);
          loop_->Stop();
        });
    auto guard = loop_->After(io::Millis(3000), [&] { loop_->Stop(); });
    loop_->Run();
    loop_->Cancel(guard);
    return got.value_or(Decision{});
  };
  Decision alice = decide("alice");
  EXPECT_TRUE(alice.allow);
  Decision bob = decide("bob");
  EXPECT_FALSE(bob.allow);
  EXPECT_FALSE(bob.error);
  EXPECT_EQ(bob.reasons, std::vector<std::string>{"only alice"});
  // The emergency switch through the decider's SetData (PUT /v1/data/mcp/emergency).
  std::optional<Status> set;
  decider->SetData("mcp/emergency", rego::MakeObject({{"deny_all", rego::Value::True()}}),
                   [&](Status s) {
                     set = std::move(s);
                     loop_->Stop();
                   });
  loop_->Run();
  ASSERT_TRUE(set.has_value());
  EXPECT_TRUE(set->ok()) << set->error().message;
  alice = decide("alice");
  EXPECT_FALSE(alice.allow);
  EXPECT_EQ(alice.reasons, std::vector<std::string>{"emergency deny"});
  EXPECT_TRUE(decider->Ready());
  decider->Stop();
  server->Stop();
}

}  // namespace
}  // namespace mcpgw::policy
