// The gateway's configuration: loaded once from a YAML (or Claude Desktop / VS Code JSON) file,
// overridden by the environment variables the requirements name, validated, then treated as an
// immutable snapshot by everything else.
//
// Errors name the file, the line and what to change; `mcpgw serve` exits with code 2 on them.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "common/result.h"

namespace mcpgw::config {

enum class Transport { kStdio, kHttp };
enum class PrefixMode { kAlways, kNever, kOnConflict };
enum class PostResponse { kAuto, kSse, kJson };
// shared: one upstream connection for all client sessions (cheap; server->client requests over
// stdio are routed only when unambiguous). session: one per client session (exact routing,
// isolation).
enum class Isolation { kShared, kSession };

struct ServerConfig {
  std::string name;
  Transport transport = Transport::kStdio;
  // stdio
  std::vector<std::string> command;  // argv, command[0] looked up in PATH
  std::map<std::string, std::string> env;
  std::string cwd;
  // http
  std::string url;
  std::map<std::string, std::string> headers;
  // both
  Isolation isolation = Isolation::kShared;
  bool required = false;           // fail-closed: start-up fails and /ready is false without it
  int64_t request_timeout_ms = 0;  // 0 = the gateway default
  std::vector<std::string> tools_allow;
  std::vector<std::string> tools_deny;
  int64_t restart_initial_backoff_ms = 250;
  int64_t restart_max_backoff_ms = 30000;
  // Policy attributes (issue 4), sent to the policy as input.resource: the server's tenant ("" =
  // shared by every tenant) and, per tool (upstream name), its action and labels
  // (`tools: {<name>: {action: read, labels: [sensitive]}}`, next to allow/deny).
  std::string tenant;
  struct ToolPolicy {
    std::string action;
    std::vector<std::string> labels;
  };
  std::map<std::string, ToolPolicy> tool_policy;
  int line = 0;  // where it was defined, for later error messages
};

// OAuth 2.1 resource server settings (issue 3). mode kUnset is an error at start-up: turning
// authentication off has to be said explicitly.
struct AuthConfig {
  enum class Mode { kUnset, kOff, kOAuth };
  Mode mode = Mode::kUnset;
  bool allow_insecure_listen = false;  // auth off on a non-loopback address: a second "yes"
  std::string issuer;                  // OAUTH_ISSUER
  std::string audience;                // OAUTH_AUDIENCE: the canonical URI of /mcp
  std::string jwks_uri;                // OAUTH_JWKS_URI; empty: discovered from the issuer
  std::vector<std::string> algorithms = {"RS256", "PS256", "ES256", "EdDSA"};
  bool require_typ = true;                   // RFC 9068 at+jwt
  std::vector<std::string> required_scopes;  // OAUTH_REQUIRED_SCOPES
  int64_t leeway_s = 30;
  std::vector<std::string> roles_claims = {"roles", "realm_access.roles"};
  std::string groups_claim = "groups";
  std::string tenant_claim = "tenant";
  std::string default_role = "user";  // RBAC_DEFAULT_ROLE
  std::string admin_group = "admin";  // RBAC_ADMIN_GROUP
  int64_t jwks_refetch_cooldown_s = 10;
  int64_t token_cache_entries = 10000;
  int line = 0;
};

// Tool-call history and audit trail (issue 5).
struct HistoryConfig {
  bool enabled = true;
  std::string dsn = "sqlite:///data/history.db";  // HISTORY_DB_DSN
  bool sync = true;            // durability: sync (answer after the row is written) | async
  int64_t max_queue = 100000;  // rows waiting; beyond it new calls are refused
  // sync: how long the loop polls for a commit before it sleeps (0: sleeps at once); see
  // history::RecorderOptions::sync_busy_poll.
  int64_t sync_busy_poll_us = 200;
  std::string
      spool;  // spool file for database outages; "" = <sqlite file>.spool or data/history.spool
  std::vector<std::string> redact_keys;  // extra key names to redact (the defaults always apply)
  std::vector<std::string>
      sensitive_tools;  // exposed tool names whose arguments are stored as a hash only
};

// Policy decision point (issue 4). mode kUnset is an error at start-up, like auth: running without
// a policy has to be said explicitly (mode: off).
struct PolicyConfig {
  enum class Mode { kUnset, kOff, kEmbedded, kOpa };
  Mode mode = Mode::kUnset;  // GATEWAY_POLICY_MODE: off | embedded | opa
  // embedded: .rego and .json files or directories (OPA loader rules: JSON data is placed at its
  // directory's path). GATEWAY_POLICY_PATHS (comma-separated).
  std::vector<std::string> paths = {"services/opa/policies", "services/opa/data"};
  std::string decision_path = "mcp/authz/allow";  // OPA_DECISION_PATH (leading '/' optional)
  std::string opa_url;                            // OPA_URL, mode opa
  int64_t timeout_ms = 100;                       // OPA_TIMEOUT_MS: remote decision deadline
  int64_t reload_interval_ms = 500;  // embedded: how often files are checked for changes
  int line = 0;
};

struct Config {
  std::string source;         // file name it came from
  std::string source_sha256;  // SHA-256 (hex) of the file's text; "" without a file
  std::string listen_host = "127.0.0.1";
  int listen_port = 8080;
  std::string env = "dev";
  std::string log_level = "info";
  std::string log_format = "json";
  bool log_subject_hash = false;  // log_subject: hash — logs show sha256(sub)[:16], not the subject
  std::vector<std::string> allowed_origins;  // empty: loopback names only; "*" any
  PrefixMode tool_prefix = PrefixMode::kOnConflict;
  std::string prefix_separator = "__";
  PostResponse post_response = PostResponse::kAuto;
  int64_t request_timeout_ms = 60000;
  int64_t session_idle_timeout_s = 1800;
  int64_t max_sessions = 10000;
  int64_t max_body_bytes = 4 << 20;
  int64_t max_header_bytes = 16 << 10;
  int64_t sse_retry_ms = 1000;
  int64_t shutdown_grace_ms = 3000;
  // GATEWAY_BUSY_POLL_US: after each event the event loop polls this long before it sleeps (0:
  // never). Lower latency on VMs, where waking a thread is dear, for a core's CPU while busy.
  int64_t busy_poll_us = 0;
  std::vector<ServerConfig> servers;
  AuthConfig auth;
  HistoryConfig history;
  PolicyConfig policy;
};

// Looks up an environment variable; returns nullptr when unset. Injected so tests need no setenv.
using EnvLookup = std::function<const char*(const char*)>;
EnvLookup ProcessEnv();

// Loads and validates. `source_name` is used in error messages.
Result<Config> LoadString(const std::string& text, const std::string& source_name,
                          const EnvLookup& env);
Result<Config> LoadFile(const std::string& path, const EnvLookup& env);

// A config with no file at all: defaults + environment (used when --config is not given).
Result<Config> FromEnvironment(const EnvLookup& env);

const char* ToString(Transport t);
const char* ToString(PrefixMode m);

}  // namespace mcpgw::config
