#include "authserver/config.h"

#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>

#include "authserver/password.h"

namespace mcpgw::authserver {
namespace {

// Thrown only inside this file and caught at the public entry points, which return values.
struct ConfigError {
  std::string message;
  int line;  // 0: no line; -1: came from the environment
};

[[noreturn]] void Fail(const YAML::Node& at, const std::string& what) {
  throw ConfigError{what, at.Mark().is_null() ? 0 : at.Mark().line + 1};
}
[[noreturn]] void FailEnv(const std::string& what) { throw ConfigError{what, -1}; }

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
  if (s.empty() || *end != '\0' || errno != 0) {
    Fail(n, "'" + key + "' must be a whole number, got '" + s + "'");
  }
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

// A list, or one space-separated string (the way OAuth writes scopes).
std::vector<std::string> WordList(const YAML::Node& n, const std::string& key) {
  if (n.IsScalar()) return SplitScope(n.as<std::string>());
  return StringList(n, key);
}

void CheckKeys(const YAML::Node& n, const std::set<std::string>& allowed,
               const std::string& where) {
  for (const auto& kv : n) {
    std::string k = kv.first.as<std::string>();
    if (allowed.count(k)) continue;
    std::string list;
    for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
    std::string msg = "unknown setting '" + k + "' in ";
    msg += where;
    msg += " (known: ";
    msg += list;
    msg += ")";
    Fail(kv.first, msg);
  }
}

struct UrlParts {
  std::string scheme;  // lowercase
  std::string host;    // without brackets
  int port = 0;
  std::string path;  // may be empty
  bool has_query = false;
  bool has_fragment = false;
};

// Parses http(s)://host[:port][/path][?query][#fragment]. Returns false when it is not one.
bool ParseHttpUrl(std::string_view url, UrlParts* out) {
  size_t colon = url.find("://");
  if (colon == std::string_view::npos) return false;
  std::string scheme(url.substr(0, colon));
  for (auto& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (scheme != "http" && scheme != "https") return false;
  std::string_view rest = url.substr(colon + 3);
  size_t end = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, end);
  std::string_view tail = end == std::string_view::npos ? "" : rest.substr(end);
  if (authority.empty() || authority.find('@') != std::string_view::npos) return false;
  std::string_view host = authority, port;
  if (authority.front() == '[') {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) return false;
    host = authority.substr(1, close - 1);
    if (close + 1 < authority.size()) {
      if (authority[close + 1] != ':') return false;
      port = authority.substr(close + 2);
    }
  } else {
    size_t c = authority.rfind(':');
    if (c != std::string_view::npos) {
      host = authority.substr(0, c);
      port = authority.substr(c + 1);
    }
  }
  if (host.empty()) return false;
  out->scheme = scheme;
  out->host = std::string(host);
  out->port = scheme == "https" ? 443 : 80;
  if (!port.empty()) {
    int p = 0;
    for (char c : port) {
      if (c < '0' || c > '9' || p > 65535) return false;
      p = p * 10 + (c - '0');
    }
    if (p > 65535) return false;
    out->port = p;
  }
  size_t q = tail.find_first_of("?#");
  out->path = std::string(tail.substr(0, q));
  out->has_query = tail.find('?') != std::string_view::npos;
  out->has_fragment = tail.find('#') != std::string_view::npos;
  return true;
}

bool IsLoopbackHost(std::string_view host) {
  return host == "localhost" || host == "::1" || host.substr(0, 4) == "127.";
}

void ParseListen(const std::string& text, const YAML::Node& at, Config* cfg) {
  std::string host, port;
  if (!text.empty() && text.front() == '[') {
    size_t close = text.find(']');
    if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      Fail(at, "'listen' must be host:port, e.g. 127.0.0.1:9000 or [::1]:9000");
    }
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    size_t colon = text.rfind(':');
    if (colon == std::string::npos) Fail(at, "'listen' must be host:port, e.g. 127.0.0.1:9000");
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

// Validates an issuer; returns what is wrong, or empty.
std::string IssuerProblem(const std::string& issuer, UrlParts* parts) {
  if (!ParseHttpUrl(issuer, parts)) {
    return "must be an absolute http(s) URL such as http://127.0.0.1:9000, got '" + issuer + "'";
  }
  if (parts->has_query || parts->has_fragment) {
    return "must not have a query or fragment (RFC 8414 §2), got '" + issuer + "'";
  }
  if (!issuer.empty() && issuer.back() == '/') {
    return "must not end with '/' (tokens compare it as a string), got '" + issuer + "'";
  }
  return {};
}

ClientConfig ParseClient(const YAML::Node& n, size_t index) {
  std::string where = "clients[" + std::to_string(index) + "]";
  if (!n.IsMap()) Fail(n, where + " must be a mapping");
  if (n["client_secret"]) {
    Fail(n["client_secret"],
         where +
             ": a plain client_secret is not allowed in the file; store its hash in "
             "client_secret_hash (create one with `mcpgw auth-server hash-password`)");
  }
  CheckKeys(n,
            {"client_id", "client_secret_hash", "client_name", "redirect_uris", "grant_types",
             "scope", "roles"},
            where);
  ClientConfig c;
  c.line = n.Mark().line + 1;
  if (!n["client_id"]) Fail(n, where + " needs a 'client_id'");
  c.client_id = Scalar(n["client_id"], "client_id");
  if (c.client_id.empty() || c.client_id.find_first_of(" \t\r\n:") != std::string::npos) {
    Fail(n["client_id"], where + ": client_id must be non-empty without spaces or ':'");
  }
  if (n["client_secret_hash"]) {
    c.client_secret_hash = Scalar(n["client_secret_hash"], "client_secret_hash");
    Status ok = CheckPasswordHash(c.client_secret_hash);
    if (!ok.ok())
      Fail(n["client_secret_hash"], where + ".client_secret_hash: " + ok.error().message);
  }
  if (n["client_name"]) c.client_name = Scalar(n["client_name"], "client_name");
  if (n["redirect_uris"]) {
    c.redirect_uris = StringList(n["redirect_uris"], "redirect_uris");
    for (size_t i = 0; i < c.redirect_uris.size(); ++i) {
      Status ok = ValidateRedirectUri(c.redirect_uris[i]);
      if (!ok.ok()) Fail(n["redirect_uris"][i], where + ".redirect_uris: " + ok.error().message);
    }
  }
  if (n["grant_types"]) {
    c.grant_types = StringList(n["grant_types"], "grant_types");
    for (size_t i = 0; i < c.grant_types.size(); ++i) {
      const auto& g = c.grant_types[i];
      if (g != "authorization_code" && g != "refresh_token" && g != "client_credentials") {
        std::string msg = where;
        msg += ": unknown grant type '";
        msg += g;
        msg += "' (known: authorization_code, refresh_token, client_credentials)";
        Fail(n["grant_types"][i], msg);
      }
    }
  } else if (!c.redirect_uris.empty()) {
    c.grant_types = {"authorization_code", "refresh_token"};
  } else {
    c.grant_types = {"client_credentials"};
  }
  auto has = [&](std::string_view g) {
    for (const auto& x : c.grant_types) {
      if (x == g) return true;
    }
    return false;
  };
  if (has("client_credentials") && c.client_secret_hash.empty()) {
    Fail(n, where +
                ": the client_credentials grant needs a confidential client; add "
                "client_secret_hash");
  }
  if (has("authorization_code") && c.redirect_uris.empty()) {
    Fail(n, where + ": the authorization_code grant needs at least one redirect_uris entry");
  }
  if (n["scope"]) c.scope = JoinScope(WordList(n["scope"], "scope"));
  if (n["roles"]) c.roles = StringList(n["roles"], "roles");
  return c;
}

void ApplyEnvironment(const EnvLookup& env, bool listen_in_file, Config* cfg) {
  auto get = [&](const char* name) -> std::string {
    const char* v = env(name);
    return v ? std::string(v) : std::string();
  };
  if (std::string v = get("AUTH_ISSUER_URL"); !v.empty()) {
    cfg->issuer = v;
    UrlParts parts;
    if (std::string p = IssuerProblem(v, &parts); !p.empty()) FailEnv("AUTH_ISSUER_URL " + p);
    if (!listen_in_file) {
      cfg->listen_host = parts.host;
      cfg->listen_port = parts.port;
    }
  }
  if (std::string v = get("AUTH_JWT_SIGNING_ALG"); !v.empty()) {
    auto alg = ParseAlg(v);
    if (!alg) FailEnv("AUTH_JWT_SIGNING_ALG must be RS256, PS256, ES256 or EdDSA, got '" + v + "'");
    cfg->signing_alg = *alg;
  }
  if (std::string v = get("AUTH_JWKS_PATH"); !v.empty()) cfg->jwks_path = v;
  if (std::string v = get("LOG_FORMAT"); !v.empty()) cfg->log_format = v;

  std::string id = get("AUTH_CLIENT_ID");
  std::string secret = get("AUTH_CLIENT_SECRET");
  std::string redirects = get("AUTH_REDIRECT_URI");
  if (id.empty()) {
    if (!secret.empty() || !redirects.empty()) {
      FailEnv("AUTH_CLIENT_SECRET and AUTH_REDIRECT_URI need AUTH_CLIENT_ID");
    }
    return;
  }
  if (id.find_first_of(" \t\r\n:") != std::string::npos) {
    FailEnv("AUTH_CLIENT_ID must not contain spaces or ':'");
  }
  ClientConfig* client = nullptr;
  for (auto& c : cfg->clients) {
    if (c.client_id == id) client = &c;
  }
  if (!client) {
    cfg->clients.emplace_back();
    client = &cfg->clients.back();
    client->client_id = id;
    client->client_name = "AUTH_CLIENT_ID";
  }
  std::vector<std::string> uris;
  std::stringstream in(redirects);
  for (std::string uri; std::getline(in, uri, ',');) {
    size_t b = uri.find_first_not_of(' '), e = uri.find_last_not_of(' ');
    if (b == std::string::npos) continue;
    uri = uri.substr(b, e - b + 1);
    Status ok = ValidateRedirectUri(uri);
    if (!ok.ok()) FailEnv("AUTH_REDIRECT_URI: " + ok.error().message);
    uris.push_back(uri);
  }
  if (!uris.empty()) client->redirect_uris = uris;
  // The environment carries the plain secret; only its hash is kept in memory.
  if (!secret.empty()) client->client_secret_hash = HashPassword(secret);
  if (client->line == 0) {
    client->grant_types.clear();
    if (!client->redirect_uris.empty())
      client->grant_types = {"authorization_code", "refresh_token"};
    if (!client->client_secret_hash.empty()) client->grant_types.emplace_back("client_credentials");
    if (client->grant_types.empty()) {
      FailEnv(
          "AUTH_CLIENT_ID needs AUTH_REDIRECT_URI (authorization code) or AUTH_CLIENT_SECRET "
          "(client credentials)");
    }
  }
}

void Validate(const YAML::Node& root, Config* cfg) {
  auto at = [&](const char* key) { return root[key] ? root[key] : root; };
  UrlParts parts;
  if (std::string p = IssuerProblem(cfg->issuer, &parts); !p.empty()) {
    Fail(at("issuer"), "'issuer' " + p);
  }
  if (parts.scheme == "https" && !root["listen"]) {
    Fail(at("issuer"),
         "the issuer is https but this server speaks plain HTTP: set 'listen: host:port' (and "
         "terminate TLS in front of it)");
  }
  if (cfg->jwks_path.empty() || cfg->jwks_path.front() != '/' ||
      cfg->jwks_path.find_first_of("?# ") != std::string::npos) {
    Fail(at("jwks_path"),
         "'jwks_path' must be a path starting with '/', got '" + cfg->jwks_path + "'");
  }
  for (const char* reserved : {"/authorize", "/token", "/register", "/revoke", "/health"}) {
    if (cfg->jwks_path == reserved) {
      Fail(at("jwks_path"), std::string("'jwks_path' must not be ") + reserved);
    }
  }
  if (cfg->key_rotation_overlap_s < cfg->access_token_ttl_s) {
    Fail(at("key_rotation_overlap_s"),
         "'key_rotation_overlap_s' (" + std::to_string(cfg->key_rotation_overlap_s) +
             ") must be at least access_token_ttl_s (" + std::to_string(cfg->access_token_ttl_s) +
             "): tokens signed by the previous key must verify until they expire");
  }
  if (cfg->default_audience.empty() || cfg->default_audience.find('#') != std::string::npos ||
      cfg->default_audience.find(':') == std::string::npos) {
    Fail(at("default_audience"),
         "'default_audience' must be an absolute URI without a fragment, e.g. "
         "http://127.0.0.1:8080/mcp");
  }
  std::set<std::string> ids;
  for (const auto& c : cfg->clients) {
    if (!ids.insert(c.client_id).second) {
      throw ConfigError{"client_id '" + c.client_id + "' is used twice", c.line};
    }
  }
}

Config Parse(const std::string& text, const EnvLookup& env) {
  YAML::Node root = YAML::Load(text);
  Config cfg;
  if (root.IsNull()) root = YAML::Node(YAML::NodeType::Map);
  if (!root.IsMap()) Fail(root, "the configuration must be a YAML mapping");
  CheckKeys(root,
            {"issuer", "listen", "keys_dir", "signing_alg", "jwks_path", "access_token_ttl_s",
             "refresh_token_ttl_s", "authorization_code_ttl_s", "default_audience",
             "allowed_resources", "mode", "headless_login", "users_file", "clients",
             "key_rotation_overlap_s", "log_level", "log_format"},
            "the auth-server configuration");
  if (root["issuer"]) cfg.issuer = Scalar(root["issuer"], "issuer");
  UrlParts parts;
  if (IssuerProblem(cfg.issuer, &parts).empty()) {
    cfg.listen_host = parts.host;
    cfg.listen_port = parts.port;
  }
  if (root["listen"]) ParseListen(Scalar(root["listen"], "listen"), root["listen"], &cfg);
  if (root["keys_dir"]) cfg.keys_dir = Scalar(root["keys_dir"], "keys_dir");
  if (cfg.keys_dir.empty()) Fail(root["keys_dir"], "'keys_dir' must not be empty");
  if (root["signing_alg"]) {
    std::string v = Scalar(root["signing_alg"], "signing_alg");
    auto alg = ParseAlg(v);
    if (!alg) {
      Fail(root["signing_alg"],
           "'signing_alg' must be RS256, PS256, ES256 or EdDSA, got '" + v + "'");
    }
    cfg.signing_alg = *alg;
  }
  if (root["jwks_path"]) cfg.jwks_path = Scalar(root["jwks_path"], "jwks_path");
  if (root["access_token_ttl_s"]) {
    cfg.access_token_ttl_s = Int(root["access_token_ttl_s"], "access_token_ttl_s", 1, 86400);
  }
  if (root["refresh_token_ttl_s"]) {
    cfg.refresh_token_ttl_s =
        Int(root["refresh_token_ttl_s"], "refresh_token_ttl_s", 60, 90LL * 86400);
  }
  if (root["authorization_code_ttl_s"]) {
    cfg.authorization_code_ttl_s =
        Int(root["authorization_code_ttl_s"], "authorization_code_ttl_s", 1, 600);
  }
  if (root["default_audience"]) {
    cfg.default_audience = Scalar(root["default_audience"], "default_audience");
  }
  if (root["allowed_resources"]) {
    cfg.allowed_resources = StringList(root["allowed_resources"], "allowed_resources");
  }
  std::optional<bool> headless;
  if (root["mode"]) {
    std::string m = Scalar(root["mode"], "mode");
    if (m == "dev") {
      cfg.mode = Mode::kDev;
    } else if (m == "production") {
      cfg.mode = Mode::kProduction;
    } else {
      Fail(root["mode"], "'mode' must be dev or production, got '" + m + "'");
    }
  }
  if (root["headless_login"]) headless = Bool(root["headless_login"], "headless_login");
  cfg.headless_login = headless.value_or(cfg.mode == Mode::kDev);
  if (root["users_file"]) cfg.users_file = Scalar(root["users_file"], "users_file");
  if (root["clients"]) {
    const YAML::Node& list = root["clients"];
    if (!list.IsNull() && !list.IsSequence()) Fail(list, "'clients' must be a list");
    for (size_t i = 0; list.IsSequence() && i < list.size(); ++i) {
      cfg.clients.push_back(ParseClient(list[i], i));
    }
  }
  if (root["key_rotation_overlap_s"]) {
    cfg.key_rotation_overlap_s =
        Int(root["key_rotation_overlap_s"], "key_rotation_overlap_s", 0, 30LL * 86400);
  }
  if (root["log_level"]) cfg.log_level = Scalar(root["log_level"], "log_level");
  if (root["log_format"]) cfg.log_format = Scalar(root["log_format"], "log_format");
  ApplyEnvironment(env, static_cast<bool>(root["listen"]), &cfg);
  Validate(root, &cfg);
  return cfg;
}

User ParseUser(const YAML::Node& n, size_t index) {
  std::string where = "users[" + std::to_string(index) + "]";
  if (!n.IsMap()) Fail(n, where + " must be a mapping");
  if (n["password"]) {
    Fail(n["password"], where +
                            ": a plain-text password is not allowed; store its hash in "
                            "password_hash (create one with `mcpgw auth-server hash-password`)");
  }
  CheckKeys(n, {"username", "password_hash", "sub", "email", "roles", "groups", "scopes", "tenant"},
            where);
  User u;
  u.line = n.Mark().line + 1;
  if (!n["username"]) Fail(n, where + " needs a 'username'");
  u.username = Scalar(n["username"], "username");
  if (u.username.empty()) Fail(n["username"], where + ": username must not be empty");
  if (!n["password_hash"]) Fail(n, where + " needs a 'password_hash'");
  u.password_hash = Scalar(n["password_hash"], "password_hash");
  Status ok = CheckPasswordHash(u.password_hash);
  if (!ok.ok()) Fail(n["password_hash"], where + ".password_hash: " + ok.error().message);
  u.sub = n["sub"] ? Scalar(n["sub"], "sub") : u.username;
  if (n["email"]) u.email = Scalar(n["email"], "email");
  if (n["roles"]) u.roles = StringList(n["roles"], "roles");
  if (n["groups"]) u.groups = StringList(n["groups"], "groups");
  if (n["scopes"]) u.scopes = WordList(n["scopes"], "scopes");
  if (n["tenant"]) u.tenant = Scalar(n["tenant"], "tenant");
  return u;
}

std::vector<User> ParseUsers(const std::string& text) {
  YAML::Node root = YAML::Load(text);
  if (!root.IsMap()) Fail(root, "the users file must be a mapping with a 'users' list");
  CheckKeys(root, {"users"}, "the users file");
  std::vector<User> users;
  const YAML::Node& list = root["users"];
  if (!list || list.IsNull()) return users;
  if (!list.IsSequence()) Fail(list, "'users' must be a list");
  std::set<std::string> names;
  for (size_t i = 0; i < list.size(); ++i) {
    users.push_back(ParseUser(list[i], i));
    if (!names.insert(users.back().username).second) {
      Fail(list[i]["username"], "username '" + users.back().username + "' is used twice");
    }
  }
  return users;
}

template <class T, class Fn>
Result<T> Guard(const std::string& source_name, Fn&& fn) {
  auto where = [&](int line) {
    return line > 0 ? source_name + ":" + std::to_string(line) + ": " : source_name + ": ";
  };
  try {
    return fn();
  } catch (const ConfigError& e) {
    if (e.line < 0) return MakeError(e.message);  // from the environment, not the file
    return MakeError(where(e.line) + e.message);
  } catch (const YAML::Exception& e) {
    return MakeError(where(e.mark.is_null() ? 0 : e.mark.line + 1) + "YAML syntax error: " + e.msg);
  }
}

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return MakeError(path + ": cannot read the file");
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

EnvLookup ProcessEnv() {
  return [](const char* name) { return std::getenv(name); };
}

Result<Config> LoadConfigString(const std::string& text, const std::string& source_name,
                                const EnvLookup& env) {
  auto cfg = Guard<Config>(source_name, [&] { return Parse(text, env); });
  if (cfg.ok()) cfg->source = source_name;
  return cfg;
}

Result<std::vector<User>> LoadUsersString(const std::string& text, const std::string& source_name) {
  return Guard<std::vector<User>>(source_name, [&] { return ParseUsers(text); });
}

Result<std::vector<User>> LoadUsersFile(const std::string& path) {
  auto text = ReadFile(path);
  if (!text.ok()) return text.error();
  return LoadUsersString(*text, path);
}

Result<Config> LoadConfigFile(const std::string& path, const EnvLookup& env) {
  Result<Config> cfg = MakeError("");
  if (path.empty()) {
    cfg = LoadConfigString("", "(environment)", env);
  } else {
    auto text = ReadFile(path);
    if (!text.ok()) return text.error();
    cfg = LoadConfigString(*text, path, env);
  }
  if (!cfg.ok() || cfg->users_file.empty()) return cfg;
  auto users = LoadUsersFile(cfg->users_file);
  if (!users.ok()) return users.error();
  cfg->users = std::move(*users);
  return cfg;
}

Status ValidateRedirectUri(std::string_view uri) {
  std::string shown(uri.substr(0, 200));
  if (uri.empty()) return MakeError("a redirect URI must not be empty");
  for (char c : uri) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) {
      return MakeError("redirect URI '" + shown + "' contains whitespace or control characters");
    }
  }
  if (uri.find('#') != std::string_view::npos) {
    return MakeError("redirect URI '" + shown + "' must not have a fragment");
  }
  size_t colon = uri.find(':');
  if (colon == std::string_view::npos || colon == 0) {
    return MakeError("redirect URI '" + shown + "' must be an absolute URI");
  }
  std::string scheme(uri.substr(0, colon));
  for (auto& c : scheme) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '+' && c != '-' && c != '.') {
      return MakeError("redirect URI '" + shown + "' must be an absolute URI");
    }
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  if (!std::isalpha(static_cast<unsigned char>(scheme[0]))) {
    return MakeError("redirect URI '" + shown + "' must be an absolute URI");
  }
  if (scheme == "http" || scheme == "https") {
    UrlParts parts;
    if (!ParseHttpUrl(uri, &parts)) {
      return MakeError("redirect URI '" + shown + "' is not a valid http(s) URL");
    }
    if (scheme == "http" && !IsLoopbackHost(parts.host)) {
      return MakeError("redirect URI '" + shown +
                       "' uses http on a non-loopback host; use https, or http with "
                       "127.0.0.1, [::1] or localhost");
    }
    return {};
  }
  static const std::set<std::string> kDenied = {"javascript", "data", "file", "vbscript", "about",
                                                "blob",       "ftp",  "ws",   "wss",      "mailto"};
  if (kDenied.count(scheme)) {
    return MakeError("redirect URI '" + shown + "' uses a scheme that cannot be a redirect target");
  }
  if (uri.size() == colon + 1) return MakeError("redirect URI '" + shown + "' has no path");
  return {};
}

IssuerParts SplitIssuer(std::string_view issuer) {
  size_t scheme_end = issuer.find("://");
  size_t path_start = scheme_end == std::string_view::npos ? std::string_view::npos
                                                           : issuer.find('/', scheme_end + 3);
  if (path_start == std::string_view::npos) return {std::string(issuer), ""};
  return {std::string(issuer.substr(0, path_start)), std::string(issuer.substr(path_start))};
}

std::vector<std::string> SplitScope(std::string_view scope) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < scope.size()) {
    size_t j = scope.find(' ', i);
    if (j == std::string_view::npos) j = scope.size();
    if (j > i) {
      std::string word(scope.substr(i, j - i));
      bool seen = false;
      for (const auto& w : out) seen = seen || w == word;
      if (!seen) out.push_back(std::move(word));
    }
    i = j + 1;
  }
  return out;
}

std::string JoinScope(const std::vector<std::string>& scopes) {
  std::string out;
  for (const auto& s : scopes) {
    if (!out.empty()) out += ' ';
    out += s;
  }
  return out;
}

}  // namespace mcpgw::authserver
