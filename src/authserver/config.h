// Configuration of the development authorization server (`mcpgw auth-server`): a YAML file,
// overridden by AUTH_* environment variables, validated once at start-up and then immutable.
// The users live in a separate YAML file (users_file). Errors name the file and line and say what
// to change; the command exits with code 2 on them.
//
// Relative paths (keys_dir, users_file) are relative to the working directory.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "authserver/signing_key.h"
#include "common/result.h"

namespace mcpgw::authserver {

enum class Mode { kDev, kProduction };

struct User {
  std::string username;
  std::string password_hash;  // pbkdf2-sha256$...
  std::string sub;            // defaults to the username
  std::string email;
  std::vector<std::string> roles;
  std::vector<std::string> groups;
  std::vector<std::string> scopes;  // the most a token for this user may carry
  std::string tenant;
  int line = 0;
};

struct ClientConfig {
  std::string client_id;
  std::string client_secret_hash;  // empty: a public client (PKCE only)
  std::string client_name;
  std::vector<std::string> redirect_uris;
  std::vector<std::string> grant_types;
  std::string scope;  // space-separated; empty: no restriction beyond the user's scopes
  std::vector<std::string> roles;  // put into client_credentials tokens
  int line = 0;                    // 0: from the environment
};

struct Config {
  std::string source;  // the config file, or "(environment)"
  std::string issuer = "http://127.0.0.1:9000";
  std::string listen_host = "127.0.0.1";
  int listen_port = 9000;
  std::string keys_dir = "data/auth-keys";
  Alg signing_alg = Alg::kRS256;
  std::string jwks_path = "/jwks.json";
  int64_t access_token_ttl_s = 300;
  int64_t refresh_token_ttl_s = 86400;
  int64_t authorization_code_ttl_s = 60;
  std::string default_audience = "http://127.0.0.1:8080/mcp";
  // When not empty, the only `resource` values clients may ask for (besides default_audience).
  std::vector<std::string> allowed_resources;
  Mode mode = Mode::kDev;
  bool headless_login = true;  // resolved: headless_login if set, else mode == dev
  std::string users_file;
  std::vector<User> users;
  std::vector<ClientConfig> clients;
  int64_t key_rotation_overlap_s = 3600;
  std::string log_level = "info";
  std::string log_format = "json";
};

using EnvLookup = std::function<const char*(const char*)>;
EnvLookup ProcessEnv();

// Parses and validates a configuration; does not read users_file. `source_name` is used in errors.
Result<Config> LoadConfigString(const std::string& text, const std::string& source_name,
                                const EnvLookup& env);
// Reads the file (or, with an empty path, uses defaults + environment) and then users_file.
Result<Config> LoadConfigFile(const std::string& path, const EnvLookup& env);

// Parses a users file: `users: [{username, password_hash, sub, email, roles, groups, scopes,
// tenant}]`. A password_hash that is not a pbkdf2-sha256 hash (a plain password) is an error.
Result<std::vector<User>> LoadUsersString(const std::string& text, const std::string& source_name);
Result<std::vector<User>> LoadUsersFile(const std::string& path);

// Checks a redirect URI a client registers: an absolute URI without a fragment; http only for
// loopback hosts (127.0.0.1, [::1], localhost); https anywhere; or a private-use scheme for
// native apps (RFC 8252 §7.1) other than javascript:, data:, file: and the like.
Status ValidateRedirectUri(std::string_view uri);

// The issuer split for serving: "http://127.0.0.1:9000/auth" -> origin "http://127.0.0.1:9000",
// path "/auth" (empty when the issuer has no path).
struct IssuerParts {
  std::string origin;
  std::string path;
};
IssuerParts SplitIssuer(std::string_view issuer);

std::vector<std::string> SplitScope(std::string_view scope);
std::string JoinScope(const std::vector<std::string>& scopes);

}  // namespace mcpgw::authserver
