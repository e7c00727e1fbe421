#include "jsonrpc/jsonrpc.h"

#include <gtest/gtest.h>

namespace mcpgw::jsonrpc {
namespace {

TEST(JsonRpc, ClassifiesRequestNotificationResponse) {
  auto r = Parse(R"({"jsonrpc":"2.0","id":1,"method":"tools/list"})");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->kind, Kind::kRequest);
  EXPECT_EQ(r->method, "tools/list");
  EXPECT_EQ(r->id().as_int64(), 1);

  auto n = Parse(R"({"jsonrpc":"2.0","method":"notifications/initialized"})");
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(n->kind, Kind::kNotification);
  EXPECT_TRUE(n->id().is_null());

  auto s = Parse(R"({"jsonrpc":"2.0","id":"a","result":{}})");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->kind, Kind::kResponse);
  EXPECT_FALSE(s->is_error_response());

  auto e = Parse(R"({"jsonrpc":"2.0","id":2,"error":{"code":-1,"message":"x"}})");
  ASSERT_TRUE(e.ok());
  EXPECT_TRUE(e->is_error_response());
}

TEST(JsonRpc, RejectsMalformedJsonAsParseError) {
  auto r = Parse(R"({"jsonrpc":"2.0","id":1,"method":)");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, kParseError);
  EXPECT_EQ(Parse("").error().code, kParseError);
  EXPECT_EQ(Parse("{} trailing").error().code, kParseError);
}

TEST(JsonRpc, RejectsBadEnvelopesAsInvalidRequest) {
  const char* bad[] = {
      R"({"jsonrpc":"1.0","id":1,"method":"ping"})",
      R"({"id":1,"method":"ping"})",
      R"([{"jsonrpc":"2.0","id":1,"method":"ping"}])",
      R"("just a string")",
      R"({"jsonrpc":"2.0","id":null,"method":"ping"})",
      R"({"jsonrpc":"2.0","id":1.5,"method":"ping"})",
      R"({"jsonrpc":"2.0","id":{},"method":"ping"})",
      R"({"jsonrpc":"2.0","id":1,"method":""})",
      R"({"jsonrpc":"2.0","id":1,"method":7})",
      R"({"jsonrpc":"2.0","id":1,"method":"x","params":"str"})",
      R"({"jsonrpc":"2.0","id":1})",
      R"({"jsonrpc":"2.0","id":1,"result":{},"error":{"code":1}})",
      R"({"jsonrpc":"2.0","id":1,"error":"boom"})",
  };
  for (const char* text : bad) {
    auto r = Parse(text);
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_EQ(r.error().code, kInvalidRequest) << text;
  }
}

// What a peer sends may be a batch (MCP 2025-03-26): one result per member, in order.
TEST(JsonRpc, ParseMessagesSplitsBatches) {
  auto one = ParseMessages(R"({"jsonrpc":"2.0","method":"notifications/initialized"})");
  ASSERT_EQ(one.size(), 1u);
  EXPECT_TRUE(one[0].ok());
  auto batch = ParseMessages(
      R"([{"jsonrpc":"2.0","method":"notifications/message","params":{"level":"info"}},)"
      R"( 7, {"jsonrpc":"2.0","id":4,"result":{}}])");
  ASSERT_EQ(batch.size(), 3u);
  ASSERT_TRUE(batch[0].ok());
  EXPECT_EQ(batch[0]->kind, Kind::kNotification);
  ASSERT_FALSE(batch[1].ok());
  EXPECT_EQ(batch[1].error().code, kInvalidRequest);
  ASSERT_TRUE(batch[2].ok());
  EXPECT_EQ(batch[2]->kind, Kind::kResponse);
  auto empty = ParseMessages("[]");
  ASSERT_EQ(empty.size(), 1u);
  EXPECT_EQ(empty[0].error().code, kInvalidRequest);
  auto broken = ParseMessages("[{");
  ASSERT_EQ(broken.size(), 1u);
  EXPECT_EQ(broken[0].error().code, kParseError);
}

TEST(JsonRpc, RejectsDeepNesting) {
  std::string deep(200, '[');
  deep += std::string(200, ']');
  EXPECT_EQ(Parse(deep).error().code, kParseError);
}

TEST(JsonRpc, BuildsResponses) {
  EXPECT_EQ(MakeResult(json::value(3), json::object{}), R"({"jsonrpc":"2.0","id":3,"result":{}})");
  auto err = Parse(MakeErrorResponse(json::value("x"), kMethodNotFound, "Method not found: foo"));
  ASSERT_TRUE(err.ok());
  EXPECT_EQ(err->obj().at("error").at("code").as_int64(), -32601);
  EXPECT_EQ(err->obj().at("error").at("message").as_string(), "Method not found: foo");
  auto n = Parse(MakeNotification("notifications/tools/list_changed", nullptr));
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(n->kind, Kind::kNotification);
  EXPECT_FALSE(n->obj().contains("params"));
}

TEST(JsonRpc, BuildsRequestsAsAnObjectWouldSerialize) {
  json::object params{{"name", "echo"}, {"arguments", {{"text", "a \"quoted\" \u00e9 \n"}}}};
  EXPECT_EQ(MakeRequest(json::value(7), "tools/call", params),
            json::Serialize(json::object{
                {"jsonrpc", "2.0"}, {"id", 7}, {"method", "tools/call"}, {"params", params}}));
  EXPECT_EQ(MakeRequest(json::value("r-1"), "ping", nullptr),
            R"({"jsonrpc":"2.0","id":"r-1","method":"ping"})");
  EXPECT_EQ(MakeNotification("odd \"method\"", json::object{{"k", 1}}),
            R"({"jsonrpc":"2.0","method":"odd \"method\"","params":{"k":1}})");
  auto r = Parse(MakeRequest(json::value(1), "tools/list", json::object{}));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->kind, Kind::kRequest);
  EXPECT_TRUE(r->obj().at("params").as_object().empty());
}

}  // namespace
}  // namespace mcpgw::jsonrpc
