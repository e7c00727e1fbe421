#include "config/config.h"

#include <gtest/gtest.h>

#include <map>

namespace mcpgw::config {
namespace {

// Authentication must be decided explicitly; tests that are not about it turn it off.
EnvLookup FakeEnv(std::map<std::string, std::string> vars = {{"GATEWAY_AUTH_MODE", "off"}}) {
  auto holder = std::make_shared<std::map<std::string, std::string>>(std::move(vars));
  return [holder](const char* name) -> const char* {
    auto it = holder->find(name);
    return it == holder->end() ? nullptr : it->second.c_str();
  };
}

TEST(Config, LoadsTheDocumentedShape) {
  auto cfg = LoadString(R"(
listen: 127.0.0.1:8080
servers:
  - name: everything
    transport: stdio
    command: [node, server.js]
    env: {A: "1"}
  - name: remote
    transport: http
    url: http://127.0.0.1:3001/mcp
    tools: {deny: [dangerous]}
)",
                        "gw.yaml", FakeEnv());
  ASSERT_TRUE(cfg.ok()) << cfg.error().message;
  EXPECT_EQ(cfg->listen_host, "127.0.0.1");
  EXPECT_EQ(cfg->listen_port, 8080);
  ASSERT_EQ(cfg->servers.size(), 2u);
  EXPECT_EQ(cfg->servers[0].command, (std::vector<std::string>{"node", "server.js"}));
  EXPECT_EQ(cfg->servers[0].env.at("A"), "1");
  EXPECT_EQ(cfg->servers[1].transport, Transport::kHttp);
  EXPECT_EQ(cfg->servers[1].tools_deny, std::vector<std::string>{"dangerous"});
  EXPECT_EQ(cfg->tool_prefix, PrefixMode::kOnConflict);
}

TEST(Config, EnvironmentOverridesTheFile) {
  auto cfg =
      LoadString("listen: 127.0.0.1:8080\nlog_level: info\n", "gw.yaml",
                 FakeEnv({{"GATEWAY_PORT", "9999"},
                          {"GATEWAY_LOG_LEVEL", "debug"},
                          {"LOG_FORMAT", "text"},
                          {"GATEWAY_ALLOWED_ORIGINS", "https://a.example, https://b.example"},
                          {"GATEWAY_AUTH_MODE", "off"}}));
  ASSERT_TRUE(cfg.ok()) << cfg.error().message;
  EXPECT_EQ(cfg->listen_port, 9999);
  EXPECT_EQ(cfg->log_level, "debug");
  EXPECT_EQ(cfg->log_format, "text");
  EXPECT_EQ(cfg->allowed_origins,
            (std::vector<std::string>{"https://a.example", "https://b.example"}));
}

TEST(Config, BadEnvironmentValueIsNamed) {
  auto cfg = LoadString("", "gw.yaml", FakeEnv({{"GATEWAY_PORT", "eighty"}}));
  ASSERT_FALSE(cfg.ok());
  EXPECT_NE(cfg.error().message.find("GATEWAY_PORT"), std::string::npos);
}

TEST(Config, ImportsClaudeDesktopJson) {
  auto cfg = LoadString(R"({
  "mcpServers": {
    "memory": {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-memory"], "env": {"X": "y"}},
    "remote": {"url": "http://127.0.0.1:3001/mcp", "type": "http"}
  }
})",
                        "claude_desktop_config.json", FakeEnv());
  ASSERT_TRUE(cfg.ok()) << cfg.error().message;
  ASSERT_EQ(cfg->servers.size(), 2u);
  EXPECT_EQ(cfg->servers[0].name, "memory");
  EXPECT_EQ(cfg->servers[0].command,
            (std::vector<std::string>{"npx", "-y", "@modelcontextprotocol/server-memory"}));
  EXPECT_EQ(cfg->servers[1].transport, Transport::kHttp);
}

TEST(Config, ImportsVsCodeJson) {
  auto cfg =
      LoadString(R"({"servers": {"fs": {"type": "stdio", "command": "node", "args": ["fs.js"]}}})",
                 "mcp.json", FakeEnv());
  ASSERT_TRUE(cfg.ok()) << cfg.error().message;
  ASSERT_EQ(cfg->servers.size(), 1u);
  EXPECT_EQ(cfg->servers[0].command, (std::vector<std::string>{"node", "fs.js"}));
}

struct BrokenCase {
  const char* yaml;
  const char* expect;  // substring of the message, which must also name file:line
  int line;
};

TEST(Config, BrokenConfigsNameFileLineAndProblem) {
  const BrokenCase cases[] = {
      {"listen: 127.0.0.1:8080\nservers:\n  - name: a\n    transport: carrier-pigeon\n    command: "
       "x\n",
       "unknown transport 'carrier-pigeon'", 4},
      {"servers:\n  - name: a\n    transport: stdio\n", "needs a 'command'", 2},
      {"servers:\n  - name: a\n    transport: http\n", "needs a 'url'", 2},
      {"servers:\n  - name: a\n    command: x\n  - name: a\n    command: y\n", "used twice", 4},
      {"listen: nowhere\n", "'listen' must be host:port", 1},
      {"listen: 127.0.0.1:99999\n", "port from 0 to 65535", 1},
      {"lisen: 127.0.0.1:8080\n", "unknown setting 'lisen'", 1},
      {"servers:\n  - name: a\n    command: x\n    colour: red\n", "unknown setting 'colour'", 4},
      {"servers: [\n  {name: a, command: x\n", "YAML syntax error", 0},
      {"servers:\n  - name: 'has space'\n    command: x\n", "must be 1-32 characters", 2},
      {"request_timeout_ms: soon\n", "whole number", 1},
      {"tool_prefix: sometimes\n", "always, never or on-conflict", 1},
      {"servers:\n  - name: a\n    transport: sse\n    url: http://x/sse\n", "legacy SSE", 3},
      {"servers: {}\n", "", 0},  // empty VS Code map: fine, no servers
  };
  for (const auto& c : cases) {
    auto cfg = LoadString(c.yaml, "bad.yaml", FakeEnv());
    if (std::string(c.expect).empty()) {
      EXPECT_TRUE(cfg.ok()) << c.yaml;
      continue;
    }
    ASSERT_FALSE(cfg.ok()) << c.yaml;
    const std::string& msg = cfg.error().message;
    EXPECT_NE(msg.find(c.expect), std::string::npos) << msg;
    EXPECT_EQ(msg.rfind("bad.yaml:", 0), 0u) << msg;
    if (c.line > 0) {
      EXPECT_NE(msg.find("bad.yaml:" + std::to_string(c.line) + ":"), std::string::npos) << msg;
    }
  }
}

TEST(Config, AuthenticationMustBeDecidedExplicitly) {
  auto none = LoadString("listen: 127.0.0.1:8080\n", "gw.yaml", FakeEnv({}));
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.error().message.find("authentication is not configured"), std::string::npos);
  EXPECT_TRUE(LoadString("auth: {mode: off}\n", "gw.yaml", FakeEnv({})).ok());
}

TEST(Config, AuthOffOnANonLoopbackAddressNeedsASecondYes) {
  auto open = LoadString("listen: 0.0.0.0:8080\nauth: {mode: off}\n", "gw.yaml", FakeEnv({}));
  ASSERT_FALSE(open.ok());
  EXPECT_NE(open.error().message.find("allow_insecure_listen"), std::string::npos);
  EXPECT_TRUE(LoadString("listen: 0.0.0.0:8080\nauth: {mode: off, allow_insecure_listen: true}\n",
                         "gw.yaml", FakeEnv({}))
                  .ok());
}

TEST(Config, OAuthSettingsFromFileAndEnvironment) {
  auto cfg = LoadString(R"(
auth:
  issuer: http://127.0.0.1:9000
  audience: http://127.0.0.1:8080/mcp
  algorithms: [RS256, ES256]
  require_typ: none
  required_scopes: [mcp:read]
)",
                        "gw.yaml", FakeEnv({}));
  ASSERT_TRUE(cfg.ok()) << cfg.error().message;
  EXPECT_EQ(cfg->auth.mode, AuthConfig::Mode::kOAuth);
  EXPECT_FALSE(cfg->auth.require_typ);
  EXPECT_EQ(cfg->auth.algorithms, (std::vector<std::string>{"RS256", "ES256"}));
  auto env = LoadString("", "gw.yaml",
                        FakeEnv({{"OAUTH_ISSUER", "http://localhost:9000"},
                                 {"OAUTH_AUDIENCE", "http://localhost:8080/mcp"},
                                 {"OAUTH_REQUIRED_SCOPES", "mcp:read,mcp:write"},
                                 {"RBAC_ADMIN_GROUP", "ops"}}));
  ASSERT_TRUE(env.ok()) << env.error().message;
  EXPECT_EQ(env->auth.required_scopes, (std::vector<std::string>{"mcp:read", "mcp:write"}));
  EXPECT_EQ(env->auth.admin_group, "ops");
}

TEST(Config, BadOAuthSettingsAreNamed) {
  const std::pair<const char*, const char*> cases[] = {
      {"auth: {issuer: http://127.0.0.1:9000}\n", "auth.audience"},
      {"auth: {mode: oauth, audience: http://127.0.0.1:8080/mcp}\n", "auth.issuer"},
      {"auth: {issuer: http://idp.example.com, audience: http://127.0.0.1:8080/mcp}\n", "https://"},
      {"auth: {issuer: https://idp.example.com, audience: x, jwks_uri: http://idp.example.com/k}\n",
       "jwks_uri must be an https://"},
      {"auth: {issuer: http://127.0.0.1:9000, audience: x, algorithms: [HS256]}\n", "HS256"},
      {"auth: {issuer: http://127.0.0.1:9000, audience: x, leeway_s: 600}\n", "between 0 and 60"},
      {"auth: {mode: maybe}\n", "oauth or off"},
  };
  for (const auto& [yaml, expect] : cases) {
    auto cfg = LoadString(yaml, "gw.yaml", FakeEnv({}));
    ASSERT_FALSE(cfg.ok()) << yaml;
    EXPECT_NE(cfg.error().message.find(expect), std::string::npos) << cfg.error().message;
  }
}

TEST(Config, MissingFileIsAClearError) {
  auto cfg = LoadFile("/nonexistent/gw.yaml", FakeEnv());
  ASSERT_FALSE(cfg.ok());
  EXPECT_NE(cfg.error().message.find("/nonexistent/gw.yaml"), std::string::npos);
}

}  // namespace
}  // namespace mcpgw::config
