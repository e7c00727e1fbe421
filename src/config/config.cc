#include "config/config.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>

#include "common/hash.h"

namespace mcpgw::config {
namespace {

// Thrown only inside this file and caught in LoadString; the public API returns values.
struct ConfigError {
  std::string message;
  int line;
};

[[noreturn]] void Fail(const YAML::Node& at, const std::string& what) {
  throw ConfigError{what, at.Mark().is_null() ? 0 : at.Mark().line + 1};
}

std::string Scalar(const YAML::Node& n, const std::string& key) {
  if (!n.IsScalar()) Fail(n, "'" + key + "' must be a string");
  return n.as<std::string>();
}

int64_t Int(const YAML::Node& n, const std::string& key, int64_t min, int64_t max) {
  if (!n.IsScalar()) Fail(n, "'" + key + "' must be a number");
  const std::string s = n.as<std::string>();
  char* end = nullptr;
  errno = 0;
  long long v = std::strtoll(s.c_str(), &end, 10);
  if (s.empty() || *end != '\0' || errno != 0)
    Fail(n, "'" + key + "' must be a whole number, got '" + s + "'");
  if (v < min || v > max) {
    Fail(n, "'" + key + "' must be between " + std::to_string(min) + " and " + std::to_string(max) +
                ", got " + s);
  }
  return v;
}

bool Bool(const YAML::Node& n, const std::string& key) {
  if (!n.IsScalar()) Fail(n, "'" + key + "' must be true or false");
  const std::string s = n.as<std::string>();
  if (s == "true" || s == "yes" || s == "on") return true;
  if (s == "false" || s == "no" || s == "off") return false;
  Fail(n, "'" + key + "' must be true or false, got '" + s + "'");
}

std::vector<std::string> StringList(const YAML::Node& n, const std::string& key) {
  std::vector<std::string> out;
  if (n.IsNull()) return out;
  if (!n.IsSequence()) Fail(n, "'" + key + "' must be a list of strings");
  for (const auto& item : n) out.push_back(Scalar(item, key));
  return out;
}

std::map<std::string, std::string> StringMap(const YAML::Node& n, const std::string& key) {
  std::map<std::string, std::string> out;
  if (n.IsNull()) return out;
  if (!n.IsMap()) Fail(n, "'" + key + "' must be a mapping of names to strings");
  for (const auto& kv : n)
    out[kv.first.as<std::string>()] = Scalar(kv.second, key + "." + kv.first.as<std::string>());
  return out;
}

void CheckKeys(const YAML::Node& n, const std::set<std::string>& allowed,
               const std::string& where) {
  for (const auto& kv : n) {
    std::string k = kv.first.as<std::string>();
    if (!allowed.count(k)) {
      std::string list;
      for (const auto& a : allowed) {
        if (!list.empty()) list += ", ";
        list += a;
      }
      std::string msg = "unknown setting '" + k + "' in ";
      msg += where;
      msg += " (known: ";
      msg += list;
      msg += ")";
      Fail(kv.first, msg);
    }
  }
}

std::vector<std::string> SplitWords(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  std::string w;
  while (in >> w) out.push_back(w);
  return out;
}

bool ValidServerName(const std::string& name) {
  if (name.empty() || name.size() > 32) return false;
  for (char c : name) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-')) return false;
  }
  return true;
}

void ParseListen(const std::string& text, const YAML::Node& at, Config* cfg) {
  std::string host, port;
  if (!text.empty() && text.front() == '[') {
    size_t close = text.find(']');
    if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      Fail(at, "'listen' must be host:port, e.g. 127.0.0.1:8080 or [::1]:8080");
    }
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    size_t colon = text.rfind(':');
    if (colon == std::string::npos) Fail(at, "'listen' must be host:port, e.g. 127.0.0.1:8080");
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  char* end = nullptr;
  long p = std::strtol(port.c_str(), &end, 10);
  if (host.empty() || port.empty() || *end != '\0' || p < 0 || p > 65535) {
    Fail(at, "'listen' must be host:port with a port from 0 to 65535, got '" + text + "'");
  }
  cfg->listen_host = host;
  cfg->listen_port = static_cast<int>(p);
}

// servers[].tools: the allow/deny lists, and per tool (upstream name, a mapping value) the
// attributes the policy sees: {action: read, labels: [sensitive]}.
void ParseTools(const YAML::Node& t, ServerConfig* s) {
  if (!t.IsMap()) {
    Fail(t,
         "'tools' must be a mapping: 'allow'/'deny' lists and/or <tool>: {action: ..., labels: "
         "[...]}");
  }
  for (const auto& kv : t) {
    std::string key = kv.first.as<std::string>();
    const YAML::Node& v = kv.second;
    if ((key == "allow" || key == "deny") && !v.IsMap()) {
      (key == "allow" ? s->tools_allow : s->tools_deny) = StringList(v, "tools." + key);
      continue;
    }
    if (!v.IsMap()) {
      Fail(v, "'tools." + key +
                  "' must be a mapping like {action: read, labels: [sensitive]} (or use "
                  "'allow'/'deny' lists)");
    }
    CheckKeys(v, {"action", "labels"}, "tools." + key);
    ServerConfig::ToolPolicy tp;
    if (v["action"]) {
      tp.action = Scalar(v["action"], "tools." + key + ".action");
      if (tp.action.empty()) Fail(v["action"], "'tools." + key + ".action' must not be empty");
    }
    if (v["labels"]) tp.labels = StringList(v["labels"], "tools." + key + ".labels");
    s->tool_policy[key] = std::move(tp);
  }
}

ServerConfig ParseServer(const YAML::Node& n, int index) {
  if (!n.IsMap()) Fail(n, "servers[" + std::to_string(index) + "] must be a mapping");
  CheckKeys(n,
            {"name", "transport", "command", "args", "env", "cwd", "url", "headers", "required",
             "request_timeout_ms", "tools", "restart", "type", "isolation", "tenant"},
            "servers[" + std::to_string(index) + "]");
  ServerConfig s;
  s.line = n.Mark().line + 1;
  if (!n["name"]) Fail(n, "servers[" + std::to_string(index) + "] needs a 'name'");
  s.name = Scalar(n["name"], "name");
  if (!ValidServerName(s.name)) {
    Fail(n["name"], "server name '" + s.name +
                        "' must be 1-32 characters of letters, digits, '_' or '-' (it becomes the "
                        "tool prefix)");
  }
  std::string transport;
  if (n["transport"]) {
    transport = Scalar(n["transport"], "transport");
  } else if (n["type"]) {
    transport = Scalar(n["type"], "type");
  } else {
    transport = n["url"] ? "http" : "stdio";
  }
  if (transport == "stdio") {
    s.transport = Transport::kStdio;
  } else if (transport == "http" || transport == "streamable-http" ||
             transport == "streamableHttp") {
    s.transport = Transport::kHttp;
  } else if (transport == "sse") {
    Fail(n["transport"] ? n["transport"] : n["type"],
         "server '" + s.name +
             "': the legacy SSE upstream transport is not supported; use an "
             "upstream's Streamable HTTP endpoint (transport: http)");
  } else {
    Fail(n["transport"] ? n["transport"] : n["type"],
         "server '" + s.name + "': unknown transport '" + transport + "' (use stdio or http)");
  }
  if (n["command"]) {
    const YAML::Node& c = n["command"];
    s.command = c.IsSequence() ? StringList(c, "command") : SplitWords(Scalar(c, "command"));
  }
  if (n["args"]) {
    for (auto& a : StringList(n["args"], "args")) s.command.push_back(a);
  }
  if (n["env"]) s.env = StringMap(n["env"], "env");
  if (n["cwd"]) s.cwd = Scalar(n["cwd"], "cwd");
  if (n["url"]) s.url = Scalar(n["url"], "url");
  if (n["headers"]) s.headers = StringMap(n["headers"], "headers");
  if (n["required"]) s.required = Bool(n["required"], "required");
  if (n["isolation"]) {
    std::string iso = Scalar(n["isolation"], "isolation");
    if (iso == "shared") {
      s.isolation = Isolation::kShared;
    } else if (iso == "session") {
      s.isolation = Isolation::kSession;
    } else {
      Fail(n["isolation"],
           "server '" + s.name + "': isolation must be shared or session, got '" + iso + "'");
    }
  }
  if (n["request_timeout_ms"])
    s.request_timeout_ms = Int(n["request_timeout_ms"], "request_timeout_ms", 1, 3600000);
  if (n["tenant"]) s.tenant = Scalar(n["tenant"], "tenant");
  if (n["tools"]) ParseTools(n["tools"], &s);
  if (n["restart"]) {
    const YAML::Node& r = n["restart"];
    if (!r.IsMap()) Fail(r, "'restart' must be a mapping");
    CheckKeys(r, {"initial_backoff_ms", "max_backoff_ms"}, "restart");
    if (r["initial_backoff_ms"])
      s.restart_initial_backoff_ms = Int(r["initial_backoff_ms"], "initial_backoff_ms", 10, 600000);
    if (r["max_backoff_ms"])
      s.restart_max_backoff_ms = Int(r["max_backoff_ms"], "max_backoff_ms", 10, 3600000);
  }
  if (s.transport == Transport::kStdio) {
    if (s.command.empty()) Fail(n, "server '" + s.name + "' (stdio) needs a 'command'");
    if (!s.url.empty())
      Fail(n["url"], "server '" + s.name + "' is stdio; 'url' belongs to http servers");
  } else {
    if (s.url.empty()) Fail(n, "server '" + s.name + "' (http) needs a 'url'");
    if (s.url.rfind("http://", 0) != 0 && s.url.rfind("https://", 0) != 0) {
      Fail(n["url"], "server '" + s.name + "': url must start with http:// or https://");
    }
    if (!s.command.empty())
      Fail(n["command"], "server '" + s.name + "' is http; 'command' belongs to stdio servers");
  }
  return s;
}

// Claude Desktop {"mcpServers": {name: {...}}} and VS Code {"servers": {name: {...}}}.
std::vector<ServerConfig> ParseServerMap(const YAML::Node& n) {
  std::vector<ServerConfig> out;
  int i = 0;
  for (const auto& kv : n) {
    YAML::Node entry = YAML::Clone(kv.second);
    if (!entry.IsMap())
      Fail(kv.second, "server '" + kv.first.as<std::string>() + "' must be a mapping");
    entry["name"] = kv.first.as<std::string>();
    // Keys that desktop clients use and the gateway has no use for.
    for (const char* ignored :
         {"disabled", "autoApprove", "alwaysAllow", "envFile", "timeout", "description"}) {
      entry.remove(ignored);
    }
    YAML::Node fixed = entry;
    // Keep marks from the original node for error messages.
    try {
      out.push_back(ParseServer(fixed, i));
    } catch (ConfigError& e) {
      if (e.line == 0) e.line = kv.second.Mark().line + 1;
      throw;
    }
    ++i;
  }
  return out;
}

std::vector<std::string> SplitList(const std::string& s) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s) {
    if (c == ',' || c == ' ') {
      if (!cur.empty()) out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (!cur.empty()) out.push_back(cur);
  return out;
}

void ParseAuth(const YAML::Node& n, AuthConfig* a) {
  if (!n.IsMap()) Fail(n, "'auth' must be a mapping");
  CheckKeys(
      n,
      {"mode", "allow_insecure_listen", "issuer", "audience", "jwks_uri", "algorithms",
       "require_typ", "required_scopes", "leeway_s", "roles_claims", "groups_claim", "tenant_claim",
       "default_role", "admin_group", "jwks_refetch_cooldown_s", "token_cache_entries"},
      "auth");
  a->line = n.Mark().line + 1;
  if (n["mode"]) {
    std::string m = Scalar(n["mode"], "mode");
    if (m == "off") {
      a->mode = AuthConfig::Mode::kOff;
    } else if (m == "oauth") {
      a->mode = AuthConfig::Mode::kOAuth;
    } else {
      Fail(n["mode"], "'auth.mode' must be oauth or off, got '" + m + "'");
    }
  }
  if (n["allow_insecure_listen"])
    a->allow_insecure_listen = Bool(n["allow_insecure_listen"], "allow_insecure_listen");
  if (n["issuer"]) a->issuer = Scalar(n["issuer"], "issuer");
  if (n["audience"]) a->audience = Scalar(n["audience"], "audience");
  if (n["jwks_uri"]) a->jwks_uri = Scalar(n["jwks_uri"], "jwks_uri");
  if (n["algorithms"]) {
    a->algorithms = StringList(n["algorithms"], "algorithms");
    for (const auto& alg : a->algorithms) {
      if (alg != "RS256" && alg != "PS256" && alg != "ES256" && alg != "EdDSA") {
        Fail(n["algorithms"],
             "'auth.algorithms': '" + alg + "' is not supported (RS256, PS256, ES256, EdDSA)");
      }
    }
    if (a->algorithms.empty()) Fail(n["algorithms"], "'auth.algorithms' must not be empty");
  }
  if (n["require_typ"]) {
    std::string t = Scalar(n["require_typ"], "require_typ");
    if (t == "at+jwt" || t == "true") {
      a->require_typ = true;
    } else if (t == "none" || t == "false") {
      a->require_typ = false;
    } else {
      Fail(n["require_typ"], "'auth.require_typ' must be at+jwt or none");
    }
  }
  if (n["required_scopes"])
    a->required_scopes = StringList(n["required_scopes"], "required_scopes");
  if (n["leeway_s"]) a->leeway_s = Int(n["leeway_s"], "leeway_s", 0, 60);
  if (n["roles_claims"]) a->roles_claims = StringList(n["roles_claims"], "roles_claims");
  if (n["groups_claim"]) a->groups_claim = Scalar(n["groups_claim"], "groups_claim");
  if (n["tenant_claim"]) a->tenant_claim = Scalar(n["tenant_claim"], "tenant_claim");
  if (n["default_role"]) a->default_role = Scalar(n["default_role"], "default_role");
  if (n["admin_group"]) a->admin_group = Scalar(n["admin_group"], "admin_group");
  if (n["jwks_refetch_cooldown_s"])
    a->jwks_refetch_cooldown_s =
        Int(n["jwks_refetch_cooldown_s"], "jwks_refetch_cooldown_s", 0, 86400);
  if (n["token_cache_entries"])
    a->token_cache_entries = Int(n["token_cache_entries"], "token_cache_entries", 0, 10000000);
}

void ParseHistory(const YAML::Node& n, HistoryConfig* h) {
  if (!n.IsMap()) Fail(n, "'history' must be a mapping");
  CheckKeys(n,
            {"enabled", "dsn", "durability", "max_queue", "redact_keys", "sensitive_tools", "spool",
             "sync_busy_poll_us"},
            "history");
  if (n["spool"]) h->spool = Scalar(n["spool"], "spool");
  if (n["enabled"]) h->enabled = Bool(n["enabled"], "enabled");
  if (n["dsn"]) h->dsn = Scalar(n["dsn"], "dsn");
  if (n["durability"]) {
    std::string d = Scalar(n["durability"], "durability");
    if (d != "sync" && d != "async")
      Fail(n["durability"], "'history.durability' must be sync or async");
    h->sync = d == "sync";
  }
  if (n["max_queue"]) h->max_queue = Int(n["max_queue"], "max_queue", 100, 100000000);
  if (n["sync_busy_poll_us"])
    h->sync_busy_poll_us = Int(n["sync_busy_poll_us"], "sync_busy_poll_us", 0, 100000);
  if (n["redact_keys"]) h->redact_keys = StringList(n["redact_keys"], "redact_keys");
  if (n["sensitive_tools"])
    h->sensitive_tools = StringList(n["sensitive_tools"], "sensitive_tools");
}

void ParsePolicyMode(const std::string& m, PolicyConfig* p, const std::function<void()>& bad) {
  if (m == "off") {
    p->mode = PolicyConfig::Mode::kOff;
  } else if (m == "embedded") {
    p->mode = PolicyConfig::Mode::kEmbedded;
  } else if (m == "opa") {
    p->mode = PolicyConfig::Mode::kOpa;
  } else {
    bad();
  }
}

void ParsePolicy(const YAML::Node& n, PolicyConfig* p) {
  if (!n.IsMap()) Fail(n, "'policy' must be a mapping");
  CheckKeys(n, {"mode", "paths", "decision_path", "opa_url", "timeout_ms", "reload_interval_ms"},
            "policy");
  p->line = n.Mark().line + 1;
  if (n["mode"]) {
    std::string m = Scalar(n["mode"], "mode");
    ParsePolicyMode(m, p, [&] {
      Fail(n["mode"], "'policy.mode' must be embedded, opa or off, got '" + m + "'");
    });
  }
  if (n["paths"]) {
    const YAML::Node& paths = n["paths"];
    p->paths = paths.IsScalar() ? std::vector<std::string>{Scalar(paths, "paths")}
                                : StringList(paths, "paths");
  }
  if (n["decision_path"]) p->decision_path = Scalar(n["decision_path"], "decision_path");
  if (n["opa_url"]) p->opa_url = Scalar(n["opa_url"], "opa_url");
  if (n["timeout_ms"]) p->timeout_ms = Int(n["timeout_ms"], "timeout_ms", 1, 60000);
  if (n["reload_interval_ms"])
    p->reload_interval_ms = Int(n["reload_interval_ms"], "reload_interval_ms", 0, 3600000);
}

bool IsLoopbackHost(const std::string& h) {
  return h == "127.0.0.1" || h == "::1" || h == "localhost";
}

// http:// is allowed only to a loopback host (development); anything else must be https.
bool AcceptableIssuerUrl(const std::string& url) {
  if (url.rfind("https://", 0) == 0) return true;
  if (url.rfind("http://", 0) != 0) return false;
  std::string rest = url.substr(7);
  std::string host = rest.substr(0, rest.find_first_of(":/"));
  if (!rest.empty() && rest[0] == '[') host = rest.substr(1, rest.find(']') - 1);
  return IsLoopbackHost(host);
}

void ApplyEnv(Config* cfg, const EnvLookup& env) {
  auto get = [&](const char* name) -> const char* {
    const char* v = env(name);
    return (v && *v) ? v : nullptr;
  };
  auto bad = [](const char* name, const std::string& why) {
    throw ConfigError{std::string("environment variable ") + name + ": " + why, -1};
  };
  // A whole number from min to max when the variable is set; `why` is the error otherwise.
  auto number = [&](const char* name, long long min, long long max,
                    const char* why) -> std::optional<long long> {
    const char* v = get(name);
    if (!v) return std::nullopt;
    char* end = nullptr;
    errno = 0;
    long long n = std::strtoll(v, &end, 10);
    if (*end != '\0' || errno != 0 || n < min || n > max) bad(name, why);
    return n;
  };
  if (auto p = number("GATEWAY_PORT", 0, 65535, "must be a port number 0-65535")) {
    cfg->listen_port = static_cast<int>(*p);
  }
  if (const char* v = get("GATEWAY_HOST")) cfg->listen_host = v;
  if (auto us =
          number("GATEWAY_BUSY_POLL_US", 0, 100000, "must be a number of microseconds 0-100000")) {
    cfg->busy_poll_us = *us;
  }
  if (const char* v = get("GATEWAY_LOG_LEVEL")) cfg->log_level = v;
  if (const char* v = get("LOG_FORMAT")) cfg->log_format = v;
  if (const char* v = get("ENV")) cfg->env = v;
  AuthConfig& a = cfg->auth;
  if (const char* v = get("GATEWAY_AUTH_MODE")) {
    std::string m = v;
    if (m == "off") {
      a.mode = AuthConfig::Mode::kOff;
    } else if (m == "oauth") {
      a.mode = AuthConfig::Mode::kOAuth;
    } else {
      bad("GATEWAY_AUTH_MODE", "must be oauth or off");
    }
  }
  if (const char* v = get("HISTORY_DB_DSN")) cfg->history.dsn = v;
  PolicyConfig& p = cfg->policy;
  if (const char* v = get("GATEWAY_POLICY_MODE")) {
    ParsePolicyMode(v, &p, [&] { bad("GATEWAY_POLICY_MODE", "must be embedded, opa or off"); });
  }
  if (const char* v = get("GATEWAY_POLICY_PATHS")) {
    p.paths.clear();
    for (auto& item : SplitList(v)) p.paths.push_back(item);
  }
  if (const char* v = get("OPA_URL")) p.opa_url = v;
  if (const char* v = get("OPA_DECISION_PATH")) p.decision_path = v;
  if (auto ms =
          number("OPA_TIMEOUT_MS", 1, 60000, "must be a number of milliseconds from 1 to 60000")) {
    p.timeout_ms = *ms;
  }
  if (const char* v = get("OAUTH_ISSUER")) a.issuer = v;
  if (const char* v = get("OAUTH_AUDIENCE")) a.audience = v;
  if (const char* v = get("OAUTH_JWKS_URI")) a.jwks_uri = v;
  if (const char* v = get("OAUTH_REQUIRED_SCOPES")) a.required_scopes = SplitList(v);
  if (const char* v = get("RBAC_DEFAULT_ROLE")) a.default_role = v;
  if (const char* v = get("RBAC_ADMIN_GROUP")) a.admin_group = v;
  if (const char* v = get("GATEWAY_ALLOWED_ORIGINS")) {
    cfg->allowed_origins.clear();
    std::string s = v;
    size_t start = 0;
    while (start <= s.size()) {
      size_t comma = s.find(',', start);
      std::string item =
          s.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
      while (!item.empty() && item.front() == ' ') item.erase(item.begin());
      while (!item.empty() && item.back() == ' ') item.pop_back();
      if (!item.empty()) cfg->allowed_origins.push_back(item);
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  }
}

// OPA's path form: segments separated by '/', no leading or trailing '/', none empty.
std::string NormalizeDecisionPath(std::string path) {
  // data.mcp.authz.allow (a Rego reference) is accepted too.
  if (path.find('/') == std::string::npos) std::replace(path.begin(), path.end(), '.', '/');
  while (!path.empty() && path.front() == '/') path.erase(path.begin());
  while (!path.empty() && path.back() == '/') path.pop_back();
  if (path.rfind("data/", 0) == 0) path.erase(0, 5);  // "data/mcp/authz/allow" means the same
  return path;
}

void ValidatePolicy(PolicyConfig* p) {
  auto at = [&](const std::string& what) { throw ConfigError{what, p->line > 0 ? p->line : -1}; };
  if (p->mode == PolicyConfig::Mode::kUnset && !p->opa_url.empty())
    p->mode = PolicyConfig::Mode::kOpa;
  if (p->mode == PolicyConfig::Mode::kUnset) {
    at("policy is not configured: set 'policy: {mode: embedded, paths: [services/opa/policies, "
       "services/opa/data]}' (or GATEWAY_POLICY_MODE=embedded), point it at an OPA server with "
       "'policy: {mode: opa, opa_url: http://127.0.0.1:8181}' (or OPA_URL), or turn it off "
       "explicitly with 'policy: {mode: off}'");
  }
  p->decision_path = NormalizeDecisionPath(p->decision_path);
  if (p->decision_path.empty() || p->decision_path.find("//") != std::string::npos ||
      p->decision_path.find(' ') != std::string::npos) {
    at("policy.decision_path (OPA_DECISION_PATH) must be a path like mcp/authz/allow");
  }
  if (p->decision_path.find('/') == std::string::npos) {
    at("policy.decision_path (OPA_DECISION_PATH) must name a rule inside a package, like "
       "mcp/authz/allow (the deny reasons are read from the sibling rule 'reasons')");
  }
  if (p->mode == PolicyConfig::Mode::kOpa) {
    if (p->opa_url.empty())
      at("policy.opa_url (OPA_URL) is required with policy mode opa, e.g. http://127.0.0.1:8181");
    if (p->opa_url.rfind("http://", 0) != 0 && p->opa_url.rfind("https://", 0) != 0)
      at("policy.opa_url (OPA_URL) must start with http:// or https://, got '" + p->opa_url + "'");
    while (!p->opa_url.empty() && p->opa_url.back() == '/') p->opa_url.pop_back();
  }
  if (p->mode == PolicyConfig::Mode::kEmbedded && p->paths.empty()) {
    at("policy.paths (GATEWAY_POLICY_PATHS) must name at least one .rego file or directory with "
       "policy mode embedded");
  }
}

void Validate(Config* cfg) {
  auto bad = [](const std::string& what) { throw ConfigError{what, -1}; };
  const std::string& dsn = cfg->history.dsn;
  if (cfg->history.enabled && dsn.rfind("sqlite://", 0) != 0 &&
      dsn.rfind("postgresql://", 0) != 0 && dsn.rfind("postgres://", 0) != 0) {
    bad("history DSN (HISTORY_DB_DSN) must start with sqlite:// or postgresql://");
  }
  static const std::set<std::string> kLevels = {"debug", "info", "warn", "warning", "error", "off"};
  if (!kLevels.count(cfg->log_level))
    bad("log level '" + cfg->log_level + "' is not one of debug, info, warn, error");
  if (cfg->log_format != "json" && cfg->log_format != "text")
    bad("log format '" + cfg->log_format + "' is not json or text");
  if (cfg->env != "dev" && cfg->env != "staging" && cfg->env != "prod")
    bad("env '" + cfg->env + "' is not dev, staging or prod");
  std::set<std::string> names;
  for (const auto& s : cfg->servers) {
    if (!names.insert(s.name).second) {
      throw ConfigError{"server name '" + s.name + "' is used twice; names must be unique", s.line};
    }
  }
  AuthConfig& a = cfg->auth;
  if (a.mode == AuthConfig::Mode::kUnset && !a.issuer.empty()) a.mode = AuthConfig::Mode::kOAuth;
  if (a.mode == AuthConfig::Mode::kUnset) {
    bad("authentication is not configured: set auth.issuer and auth.audience (or OAUTH_ISSUER and "
        "OAUTH_AUDIENCE), or turn it off explicitly with 'auth: {mode: off}'");
  }
  if (a.mode == AuthConfig::Mode::kOAuth) {
    auto at = [&](const std::string& what) { throw ConfigError{what, a.line > 0 ? a.line : -1}; };
    if (a.issuer.empty()) at("auth.issuer (OAUTH_ISSUER) is required with auth mode oauth");
    if (a.audience.empty()) {
      at("auth.audience (OAUTH_AUDIENCE) is required: the canonical URI of this gateway's MCP "
         "endpoint, e.g. https://mcp.example.com/mcp");
    }
    if (!AcceptableIssuerUrl(a.issuer))
      at("auth.issuer must be an https:// URL (http:// only for a loopback host)");
    if (!a.jwks_uri.empty() && !AcceptableIssuerUrl(a.jwks_uri)) {
      at("auth.jwks_uri must be an https:// URL (http:// only for a loopback host)");
    }
  }
  if (a.mode == AuthConfig::Mode::kOff && !IsLoopbackHost(cfg->listen_host) &&
      !a.allow_insecure_listen) {
    bad("authentication is off and the gateway would listen on " + cfg->listen_host +
        ", where anyone who can reach it could use every tool; listen on 127.0.0.1, turn "
        "authentication on, or also set auth.allow_insecure_listen: true");
  }
  ValidatePolicy(&cfg->policy);
}

Config ParseRoot(const YAML::Node& root) {
  Config cfg;
  if (root.IsNull()) return cfg;
  if (!root.IsMap())
    Fail(root, "the configuration must be a mapping (key: value) at the top level");
  if (root["mcpServers"] && !root["listen"]) {  // Claude Desktop shape
    CheckKeys(root, {"mcpServers", "globalShortcut"}, "a Claude Desktop configuration");
    if (!root["mcpServers"].IsMap())
      Fail(root["mcpServers"], "'mcpServers' must be a mapping of names to servers");
    cfg.servers = ParseServerMap(root["mcpServers"]);
    return cfg;
  }
  if (root["servers"] && root["servers"].IsMap()) {  // VS Code shape
    CheckKeys(root, {"servers", "inputs"}, "a VS Code mcp.json");
    cfg.servers = ParseServerMap(root["servers"]);
    return cfg;
  }
  CheckKeys(root,
            {"listen",
             "env",
             "log_level",
             "log_format",
             "allowed_origins",
             "tool_prefix",
             "prefix_separator",
             "post_response",
             "request_timeout_ms",
             "session_idle_timeout_s",
             "max_sessions",
             "max_body_bytes",
             "max_header_bytes",
             "sse_retry_ms",
             "shutdown_grace_ms",
             "busy_poll_us",
             "servers",
             "auth",
             "history",
             "log_subject",
             "policy"},
            "the top level");
  if (root["listen"]) ParseListen(Scalar(root["listen"], "listen"), root["listen"], &cfg);
  if (root["env"]) cfg.env = Scalar(root["env"], "env");
  if (root["log_level"]) cfg.log_level = Scalar(root["log_level"], "log_level");
  if (root["log_format"]) cfg.log_format = Scalar(root["log_format"], "log_format");
  if (root["allowed_origins"])
    cfg.allowed_origins = StringList(root["allowed_origins"], "allowed_origins");
  if (root["tool_prefix"]) {
    std::string m = Scalar(root["tool_prefix"], "tool_prefix");
    if (m == "always") {
      cfg.tool_prefix = PrefixMode::kAlways;
    } else if (m == "never") {
      cfg.tool_prefix = PrefixMode::kNever;
    } else if (m == "on-conflict" || m == "on_conflict") {
      cfg.tool_prefix = PrefixMode::kOnConflict;
    } else {
      Fail(root["tool_prefix"],
           "'tool_prefix' must be always, never or on-conflict, got '" + m + "'");
    }
  }
  if (root["prefix_separator"]) {
    cfg.prefix_separator = Scalar(root["prefix_separator"], "prefix_separator");
    for (char c : cfg.prefix_separator) {
      if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.')) {
        Fail(root["prefix_separator"],
             "'prefix_separator' may only contain letters, digits, '_', '-' or '.'");
      }
    }
    if (cfg.prefix_separator.empty())
      Fail(root["prefix_separator"], "'prefix_separator' must not be empty");
  }
  if (root["post_response"]) {
    std::string m = Scalar(root["post_response"], "post_response");
    if (m == "auto") {
      cfg.post_response = PostResponse::kAuto;
    } else if (m == "sse") {
      cfg.post_response = PostResponse::kSse;
    } else if (m == "json") {
      cfg.post_response = PostResponse::kJson;
    } else {
      Fail(root["post_response"], "'post_response' must be auto, sse or json, got '" + m + "'");
    }
  }
  if (root["request_timeout_ms"])
    cfg.request_timeout_ms = Int(root["request_timeout_ms"], "request_timeout_ms", 1, 3600000);
  if (root["busy_poll_us"]) cfg.busy_poll_us = Int(root["busy_poll_us"], "busy_poll_us", 0, 100000);
  if (root["session_idle_timeout_s"])
    cfg.session_idle_timeout_s =
        Int(root["session_idle_timeout_s"], "session_idle_timeout_s", 1, 604800);
  if (root["max_sessions"])
    cfg.max_sessions = Int(root["max_sessions"], "max_sessions", 1, 10000000);
  if (root["max_body_bytes"])
    cfg.max_body_bytes = Int(root["max_body_bytes"], "max_body_bytes", 1024, 1LL << 30);
  if (root["max_header_bytes"])
    cfg.max_header_bytes = Int(root["max_header_bytes"], "max_header_bytes", 1024, 1 << 20);
  if (root["sse_retry_ms"]) cfg.sse_retry_ms = Int(root["sse_retry_ms"], "sse_retry_ms", 0, 600000);
  if (root["shutdown_grace_ms"])
    cfg.shutdown_grace_ms = Int(root["shutdown_grace_ms"], "shutdown_grace_ms", 0, 600000);
  if (root["log_subject"]) {
    std::string m = Scalar(root["log_subject"], "log_subject");
    if (m != "plain" && m != "hash")
      Fail(root["log_subject"], "'log_subject' must be plain or hash");
    cfg.log_subject_hash = m == "hash";
  }
  if (root["auth"]) ParseAuth(root["auth"], &cfg.auth);
  if (root["history"]) ParseHistory(root["history"], &cfg.history);
  if (root["policy"]) ParsePolicy(root["policy"], &cfg.policy);
  if (root["servers"]) {
    const YAML::Node& servers = root["servers"];
    if (!servers.IsSequence()) Fail(servers, "'servers' must be a list of servers");
    int i = 0;
    for (const auto& s : servers) cfg.servers.push_back(ParseServer(s, i++));
  }
  return cfg;
}

}  // namespace

EnvLookup ProcessEnv() {
  return [](const char* name) -> const char* { return std::getenv(name); };
}

Result<Config> LoadString(const std::string& text, const std::string& source_name,
                          const EnvLookup& env) {
  auto where = [&](int line) {
    return line > 0 ? source_name + ":" + std::to_string(line) + ": " : source_name + ": ";
  };
  try {
    YAML::Node root = YAML::Load(text);
    Config cfg = ParseRoot(root);
    cfg.source = source_name;
    ApplyEnv(&cfg, env);
    Validate(&cfg);
    return cfg;
  } catch (const ConfigError& e) {
    if (e.line < 0) return MakeError(e.message);  // came from the environment, not the file
    return MakeError(where(e.line) + e.message);
  } catch (const YAML::Exception& e) {
    return MakeError(where(e.mark.is_null() ? 0 : e.mark.line + 1) + "YAML syntax error: " + e.msg);
  }
}

Result<Config> LoadFile(const std::string& path, const EnvLookup& env) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return MakeError(path + ": cannot open configuration file: " + std::strerror(errno));
  std::stringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  auto config = LoadString(text, path, env);
  if (config.ok()) config->source_sha256 = Sha256Hex(text);
  return config;
}

Result<Config> FromEnvironment(const EnvLookup& env) {
  return LoadString("", "(environment)", env);
}

const char* ToString(Transport t) { return t == Transport::kStdio ? "stdio" : "http"; }
const char* ToString(PrefixMode m) {
  switch (m) {
    case PrefixMode::kAlways:
      return "always";
    case PrefixMode::kNever:
      return "never";
    default:
      return "on-conflict";
  }
}

}  // namespace mcpgw::config
