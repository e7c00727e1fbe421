#include "config/config.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <map>

namespace mcpgw::config {
namespace {

// Authentication and policy must be decided explicitly; tests that are not about them turn them
// off (policy: unless the test names GATEWAY_POLICY_MODE itself, "" meaning unset).
EnvLookup FakeEnv(std::map<std::string, std::string> vars = {{"GATEWAY_AUTH_MODE", "off"}}) {
  vars.emplace("GATEWAY_POLICY_MODE", "off");
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
  EXPECT_EQ(cfg->history.sync_busy_poll_us, 200);
  auto no_poll = LoadString("history: {sync_busy_poll_us: 0}\n", "gw.yaml", FakeEnv());
  ASSERT_TRUE(no_poll.ok()) << no_poll.error().message;
  EXPECT_EQ(no_poll->history.sync_busy_poll_us, 0);
  EXPECT_EQ(cfg->busy_poll_us, 0);
  auto poll = LoadString("busy_poll_us: 150\n", "gw.yaml", FakeEnv());
  ASSERT_TRUE(poll.ok()) << poll.error().message;
  EXPECT_EQ(poll->busy_poll_us, 150);
}

TEST(Config, EnvironmentOverridesTheFile) {
  auto cfg =
      LoadString("listen: 127.0.0.1:8080\nlog_level: info\n", "gw.yaml",
                 FakeEnv({{"GATEWAY_PORT", "9999"},
                          {"GATEWAY_LOG_LEVEL", "debug"},
                          {"LOG_FORMAT", "text"},
                          {"GATEWAY_ALLOWED_ORIGINS", "https://a.example, https://b.example"},
                          {"GATEWAY_AUTH_MODE", "off"},
                          {"GATEWAY_BUSY_POLL_US", "80"}}));
  ASSERT_TRUE(cfg.ok()) << cfg.error().message;
  EXPECT_EQ(cfg->listen_port, 9999);
  EXPECT_EQ(cfg->busy_poll_us, 80);
  EXPECT_EQ(cfg->log_level, "debug");
  EXPECT_EQ(cfg->log_format, "text");
  EXPECT_EQ(cfg->allowed_origins,
            (std::vector<std::string>{"https://a.example", "https://b.example"}));
}

TEST(Config, BadEnvironmentValueIsNamed) {
  auto cfg = LoadString("", "gw.yaml", FakeEnv({{"GATEWAY_PORT", "eighty"}}));
  ASSERT_FALSE(cfg.ok());
  EXPECT_NE(cfg.error().message.find("GATEWAY_PORT"), std::string::npos);
  auto poll = LoadString("", "gw.yaml", FakeEnv({{"GATEWAY_BUSY_POLL_US", "lots"}}));
  ASSERT_FALSE(poll.ok());
  EXPECT_NE(poll.error().message.find("GATEWAY_BUSY_POLL_US"), std::string::npos);
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
      {"history:\n  sync_busy_poll_us: -1\n", "sync_busy_poll_us", 2},
      {"history:\n  sync_busy_poll_us: 1000000\n", "sync_busy_poll_us", 2},
      {"busy_poll_us: -5\n", "busy_poll_us", 1},
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

TEST(Config, PolicyMustBeDecidedExplicitly) {
  auto none = LoadString("auth: {mode: off}\n", "gw.yaml", FakeEnv({{"GATEWAY_POLICY_MODE", ""}}));
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.error().message.find("policy is not configured"), std::string::npos);
  EXPECT_NE(none.error().message.find("mode: off"), std::string::npos);
  auto off = LoadString("auth: {mode: off}\npolicy: {mode: off}\n", "gw.yaml",
                        FakeEnv({{"GATEWAY_POLICY_MODE", ""}}));
  ASSERT_TRUE(off.ok()) << off.error().message;
  EXPECT_EQ(off->policy.mode, PolicyConfig::Mode::kOff);
}

TEST(Config, PolicyFromFile) {
  auto cfg = LoadString(R"(
auth: {mode: off}
policy:
  mode: embedded
  paths: [policies, data]
  decision_path: /mcp/authz/allow
  reload_interval_ms: 250
)",
                        "gw.yaml", FakeEnv({{"GATEWAY_POLICY_MODE", ""}}));
  ASSERT_TRUE(cfg.ok()) << cfg.error().message;
  EXPECT_EQ(cfg->policy.mode, PolicyConfig::Mode::kEmbedded);
  EXPECT_EQ(cfg->policy.paths, (std::vector<std::string>{"policies", "data"}));
  EXPECT_EQ(cfg->policy.decision_path, "mcp/authz/allow");  // leading '/' dropped
  EXPECT_EQ(cfg->policy.reload_interval_ms, 250);
  auto opa = LoadString(
      "auth: {mode: off}\npolicy: {mode: opa, opa_url: 'http://127.0.0.1:8181/', timeout_ms: 50, "
      "decision_path: data.mcp.authz.allow}\n",
      "gw.yaml", FakeEnv({{"GATEWAY_POLICY_MODE", ""}}));
  ASSERT_TRUE(opa.ok()) << opa.error().message;
  EXPECT_EQ(opa->policy.mode, PolicyConfig::Mode::kOpa);
  EXPECT_EQ(opa->policy.opa_url, "http://127.0.0.1:8181");  // trailing '/' dropped
  EXPECT_EQ(opa->policy.timeout_ms, 50);
  EXPECT_EQ(opa->policy.decision_path, "mcp/authz/allow");
}

TEST(Config, PolicyFromEnvironment) {
  auto cfg = LoadString("auth: {mode: off}\npolicy: {mode: off}\n", "gw.yaml",
                        FakeEnv({{"GATEWAY_POLICY_MODE", "embedded"},
                                 {"GATEWAY_POLICY_PATHS", "a.rego, dir"},
                                 {"OPA_DECISION_PATH", "x/y/allow"}}));
  ASSERT_TRUE(cfg.ok()) << cfg.error().message;
  EXPECT_EQ(cfg->policy.mode, PolicyConfig::Mode::kEmbedded);
  EXPECT_EQ(cfg->policy.paths, (std::vector<std::string>{"a.rego", "dir"}));
  EXPECT_EQ(cfg->policy.decision_path, "x/y/allow");
  // OPA_URL alone turns the remote mode on (like OAUTH_ISSUER for auth).
  auto opa = LoadString("auth: {mode: off}\n", "gw.yaml",
                        FakeEnv({{"GATEWAY_POLICY_MODE", ""},
                                 {"OPA_URL", "http://opa:8181"},
                                 {"OPA_TIMEOUT_MS", "250"}}));
  ASSERT_TRUE(opa.ok()) << opa.error().message;
  EXPECT_EQ(opa->policy.mode, PolicyConfig::Mode::kOpa);
  EXPECT_EQ(opa->policy.opa_url, "http://opa:8181");
  EXPECT_EQ(opa->policy.timeout_ms, 250);
}

TEST(Config, BadPolicySettingsAreNamed) {
  const std::pair<const char*, const char*> cases[] = {
      {"policy: {mode: maybe}\n", "embedded, opa or off"},
      {"policy: {mode: opa}\n", "policy.opa_url (OPA_URL) is required"},
      {"policy: {mode: opa, opa_url: 'opa:8181'}\n", "must start with http://"},
      {"policy: {mode: embedded, paths: []}\n", "at least one"},
      {"policy: {mode: off, decision_path: allow}\n", "inside a package"},
      {"policy: {mode: off, timeout_ms: 0}\n", "between 1 and 60000"},
      {"policy: {mode: off, colour: red}\n", "unknown setting 'colour'"},
  };
  for (const auto& [yaml, expect] : cases) {
    auto cfg = LoadString(std::string("auth: {mode: off}\n") + yaml, "gw.yaml",
                          FakeEnv({{"GATEWAY_POLICY_MODE", ""}}));
    ASSERT_FALSE(cfg.ok()) << yaml;
    EXPECT_NE(cfg.error().message.find(expect), std::string::npos) << cfg.error().message;
  }
  auto env =
      LoadString("auth: {mode: off}\n", "gw.yaml", FakeEnv({{"GATEWAY_POLICY_MODE", "sometimes"}}));
  ASSERT_FALSE(env.ok());
  EXPECT_NE(env.error().message.find("GATEWAY_POLICY_MODE"), std::string::npos);
  auto timeout = LoadString("auth: {mode: off}\n", "gw.yaml",
                            FakeEnv({{"OPA_URL", "http://opa:8181"}, {"OPA_TIMEOUT_MS", "soon"}}));
  ASSERT_FALSE(timeout.ok());
  EXPECT_NE(timeout.error().message.find("OPA_TIMEOUT_MS"), std::string::npos);
}

TEST(Config, ServerTenantAndToolAttributes) {
  auto cfg = LoadString(R"(
servers:
  - name: fs
    command: [node, fs.js]
    tenant: acme
    tools:
      deny: [delete_file]
      read_file: {action: read}
      write_file: {action: write, labels: [sensitive, business-hours]}
)",
                        "gw.yaml", FakeEnv());
  ASSERT_TRUE(cfg.ok()) << cfg.error().message;
  const ServerConfig& s = cfg->servers[0];
  EXPECT_EQ(s.tenant, "acme");
  EXPECT_EQ(s.tools_deny, std::vector<std::string>{"delete_file"});
  ASSERT_EQ(s.tool_policy.size(), 2u);
  EXPECT_EQ(s.tool_policy.at("read_file").action, "read");
  EXPECT_TRUE(s.tool_policy.at("read_file").labels.empty());
  EXPECT_EQ(s.tool_policy.at("write_file").labels,
            (std::vector<std::string>{"sensitive", "business-hours"}));
  auto bad = LoadString("servers:\n  - name: fs\n    command: x\n    tools: {read_file: read}\n",
                        "gw.yaml", FakeEnv());
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("gw.yaml:4:"), std::string::npos) << bad.error().message;
  auto unknown =
      LoadString("servers:\n  - name: fs\n    command: x\n    tools: {read_file: {acton: read}}\n",
                 "gw.yaml", FakeEnv());
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.error().message.find("unknown setting 'acton'"), std::string::npos);
}

TEST(Config, MissingFileIsAClearError) {
  auto cfg = LoadFile("/nonexistent/gw.yaml", FakeEnv());
  ASSERT_FALSE(cfg.ok());
  EXPECT_NE(cfg.error().message.find("/nonexistent/gw.yaml"), std::string::npos);
}

TEST(Config, LoadFileKeepsTheTextsHash) {
  char path[] = "/tmp/config-test-XXXXXX";
  int fd = ::mkstemp(path);
  ASSERT_GE(fd, 0);
  ::close(fd);
  {
    std::ofstream out(path, std::ios::binary);
    out << "listen: 127.0.0.1:9000\n";
  }
  auto cfg = LoadFile(path, FakeEnv());
  std::remove(path);
  ASSERT_TRUE(cfg.ok()) << cfg.error().message;
  EXPECT_EQ(cfg->source_sha256, "a625d6d621b42c673725ea94d8874569049e6060d8dd8c9c4d280be5ea8295b2");
  EXPECT_TRUE(LoadString("", "(environment)", FakeEnv())->source_sha256.empty());
}

}  // namespace
}  // namespace mcpgw::config
