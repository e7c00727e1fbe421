#include "policy/input.h"

#include <gtest/gtest.h>

namespace mcpgw::policy {
namespace {

// kind, server, tenant, tool, prompt, name, uri, action, labels
Resource ReadFileTool() {
  return {"tool", "fs", "acme", "fs__read_file", "", "read_file", "", "read", {"sensitive"}};
}

TEST(PolicyInput, HasTheContractShape) {
  Subject alice;
  alice.sub = "alice";
  alice.roles = {"user"};
  alice.scopes = {"mcp:read", "tool:echo:read"};
  alice.groups = {"eng"};
  alice.tenant = "acme";
  alice.client_id = "mcp-inspector";
  alice.authenticated = true;
  Resource res = ReadFileTool();
  auto args = json::Parse(R"({"path":"/tmp/x","n":3,"big":18446744073709551615})");
  ASSERT_TRUE(args.ok());
  Request req;
  req.path = "/tools/fs__read_file/invoke";
  req.mcp_method = "tools/call";
  req.args = &*args;
  req.session = "s1";
  req.env = "dev";
  req.ip = "127.0.0.1";
  req.now_ns = int64_t{1764079200} * 1000000000;  // 2025-11-25T14:00:00Z
  rego::Value in = BuildInput(req, UserValue(alice), res);
  auto want = rego::Value::ParseJson(R"({
    "method": "POST", "path": "/tools/fs__read_file/invoke", "mcp_method": "tools/call",
    "list": false,
    "user": {"sub": "alice", "roles": ["user"], "scopes": ["mcp:read", "tool:echo:read"],
             "groups": ["eng"], "tenant": "acme", "client_id": "mcp-inspector",
             "authenticated": true},
    "resource": {"kind": "tool", "server": "fs", "tenant": "acme", "tool": "fs__read_file",
                 "name": "read_file", "action": "read", "labels": ["sensitive"]},
    "args": {"path": "/tmp/x", "n": 3, "big": 18446744073709551615},
    "session": "s1", "env": "dev", "network": {"ip": "127.0.0.1"},
    "time": {"now_ns": 1764079200000000000, "rfc3339": "2025-11-25T14:00:00Z"}
  })");
  ASSERT_TRUE(want.ok()) << want.error().message;
  EXPECT_EQ(in, *want) << in.ToJson();
}

TEST(PolicyInput, ListDecisionsCarryNoArgsAndAnonymousDefaults) {
  json::value args = json::object{{"secret", "x"}};
  Request req;
  req.mcp_method = "tools/call";
  req.list = true;
  req.args = &args;
  Resource res;
  res.kind = "tool";
  rego::Value in = BuildInput(req, UserValue(Subject{}), res);
  EXPECT_EQ(in.Get("args"), nullptr);
  EXPECT_EQ(*in.Get("list"), rego::Value::True());
  const rego::Value* user = in.Get("user");
  ASSERT_NE(user, nullptr);
  EXPECT_EQ(user->Get("sub")->str(), "anonymous");
  EXPECT_EQ(*user->Get("authenticated"), rego::Value::False());
  EXPECT_EQ(user->Get("roles")->size(), 0u);
  EXPECT_EQ(in.Get("resource")->Get("labels")->size(), 0u);
  EXPECT_EQ(in.Get("resource")->Get("action")->str(), "");
}

// A list item's input is the list request's input with the item's path and resource: the same
// document BuildInput makes for that path and resource.
TEST(PolicyInput, ListItemsGiveWhatBuildInputGives) {
  Request req;
  req.mcp_method = "tools/list";
  req.list = true;
  req.path = "/tools/a/invoke";
  Resource a;
  a.kind = "tool";
  a.tool = "a";
  a.name = "a";
  rego::Value base = BuildInput(req, UserValue(Subject{}), a);
  Resource b = ReadFileTool();  // every field set (a prompt with a URI: only the shape matters)
  b.prompt = "fs__greet";
  b.uri = "demo://x";
  for (const Resource& res : {a, b}) {
    req.path = "/prompts/" + res.name + "/get";
    rego::Value item = ListItem(req.path, res);
    EXPECT_EQ(item.size(), 2u) << item.ToJson();  // path and resource, nothing else
    EXPECT_EQ(WithItem(base, item), BuildInput(req, UserValue(Subject{}), res))
        << WithItem(base, item).ToJson();
  }
}

TEST(PolicyInput, Rfc3339) {
  EXPECT_EQ(Rfc3339(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(Rfc3339(int64_t{1764079200} * 1000000000 + 999), "2025-11-25T14:00:00Z");
}

}  // namespace
}  // namespace mcpgw::policy
