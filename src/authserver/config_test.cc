#include "authserver/config.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <memory>

#include "authserver/password.h"

namespace mcpgw::authserver {
namespace {

EnvLookup FakeEnv(std::map<std::string, std::string> vars = {}) {
  auto holder = std::make_shared<std::map<std::string, std::string>>(std::move(vars));
  return [holder](const char* name) -> const char* {
    auto it = holder->find(name);
    return it == holder->end() ? nullptr : it->second.c_str();
  };
}

const std::string& SecretHash() {
  static const std::string h = HashPassword("s3cret", 1000);
  return h;
}

std::string Documented() {
  return R"(issuer: http://127.0.0.1:9000
keys_dir: data/auth-keys
signing_alg: ES256
jwks_path: /jwks.json
access_token_ttl_s: 300
refresh_token_ttl_s: 86400
default_audience: http://127.0.0.1:8080/mcp
mode: dev
headless_login: true
users_file: services/auth-server/users.yaml
clients:
  - client_id: svc-reporting
    client_secret_hash: ")" +
         SecretHash() + R"("
    grant_types: [client_credentials]
    scope: "mcp:read tool:echo:read"
    roles: [service]
  - client_id: dev-cli
    redirect_uris: [http://127.0.0.1:33418/callback]
key_rotation_overlap_s: 3600
)";
}

std::string ErrorOf(const std::string& yaml, std::map<std::string, std::string> env = {}) {
  auto cfg = LoadConfigString(yaml, "auth.yaml", FakeEnv(std::move(env)));
  EXPECT_FALSE(cfg.ok());
  return cfg.ok() ? "" : cfg.error().message;
}

TEST(AuthConfig, LoadsTheDocumentedShape) {
  auto cfg = LoadConfigString(Documented(), "auth.yaml", FakeEnv());
  ASSERT_TRUE(cfg.ok()) << cfg.error().message;
  EXPECT_EQ(cfg->issuer, "http://127.0.0.1:9000");
  EXPECT_EQ(cfg->listen_host, "127.0.0.1");  // derived from the issuer
  EXPECT_EQ(cfg->listen_port, 9000);
  EXPECT_EQ(cfg->signing_alg, Alg::kES256);
  EXPECT_EQ(cfg->users_file, "services/auth-server/users.yaml");
  ASSERT_EQ(cfg->clients.size(), 2u);
  EXPECT_EQ(cfg->clients[0].grant_types, std::vector<std::string>{"client_credentials"});
  EXPECT_EQ(cfg->clients[0].scope, "mcp:read tool:echo:read");
  EXPECT_EQ(cfg->clients[0].roles, std::vector<std::string>{"service"});
  EXPECT_EQ(cfg->clients[1].grant_types,
            (std::vector<std::string>{"authorization_code", "refresh_token"}));
  EXPECT_TRUE(cfg->headless_login);
}

TEST(AuthConfig, EmptyFileGivesDefaults) {
  auto cfg = LoadConfigString("", "auth.yaml", FakeEnv());
  ASSERT_TRUE(cfg.ok()) << cfg.error().message;
  EXPECT_EQ(cfg->issuer, "http://127.0.0.1:9000");
  EXPECT_EQ(cfg->signing_alg, Alg::kRS256);
  EXPECT_EQ(cfg->mode, Mode::kDev);
  EXPECT_TRUE(cfg->headless_login);
}

TEST(AuthConfig, HeadlessLoginIsOffInProductionUnlessAskedFor) {
  auto prod = LoadConfigString("mode: production\n", "a.yaml", FakeEnv());
  ASSERT_TRUE(prod.ok());
  EXPECT_FALSE(prod->headless_login);
  auto forced = LoadConfigString("mode: production\nheadless_login: true\n", "a.yaml", FakeEnv());
  ASSERT_TRUE(forced.ok());
  EXPECT_TRUE(forced->headless_login);
  auto dev_off = LoadConfigString("headless_login: false\n", "a.yaml", FakeEnv());
  ASSERT_TRUE(dev_off.ok());
  EXPECT_FALSE(dev_off->headless_login);
}

TEST(AuthConfig, EnvironmentOverridesTheFile) {
  auto cfg = LoadConfigString(
      Documented(), "auth.yaml",
      FakeEnv({{"AUTH_ISSUER_URL", "http://localhost:9100"},
               {"AUTH_JWT_SIGNING_ALG", "EdDSA"},
               {"AUTH_JWKS_PATH", "/keys"},
               {"AUTH_CLIENT_ID", "conformance"},
               {"AUTH_CLIENT_SECRET", "pw"},
               {"AUTH_REDIRECT_URI", "http://127.0.0.1:3000/callback, myapp.example:/cb"}}));
  ASSERT_TRUE(cfg.ok()) << cfg.error().message;
  EXPECT_EQ(cfg->issuer, "http://localhost:9100");
  EXPECT_EQ(cfg->listen_host, "localhost");
  EXPECT_EQ(cfg->listen_port, 9100);
  EXPECT_EQ(cfg->signing_alg, Alg::kEdDSA);
  EXPECT_EQ(cfg->jwks_path, "/keys");
  ASSERT_EQ(cfg->clients.size(), 3u);
  const ClientConfig& c = cfg->clients[2];
  EXPECT_EQ(c.client_id, "conformance");
  EXPECT_EQ(c.redirect_uris,
            (std::vector<std::string>{"http://127.0.0.1:3000/callback", "myapp.example:/cb"}));
  EXPECT_EQ(c.grant_types, (std::vector<std::string>{"authorization_code", "refresh_token",
                                                     "client_credentials"}));
  EXPECT_TRUE(VerifyPassword("pw", c.client_secret_hash));  // kept as a hash only
}

TEST(AuthConfig, ExplicitListenWinsOverTheIssuer) {
  auto cfg = LoadConfigString("issuer: https://auth.example.com\nlisten: 127.0.0.1:0\n", "a.yaml",
                              FakeEnv({{"AUTH_ISSUER_URL", "https://login.example.com"}}));
  ASSERT_TRUE(cfg.ok()) << cfg.error().message;
  EXPECT_EQ(cfg->issuer, "https://login.example.com");
  EXPECT_EQ(cfg->listen_port, 0);
}

TEST(AuthConfig, ErrorsNameFileLineAndFix) {
  EXPECT_EQ(ErrorOf("issuer: http://127.0.0.1:9000\nsigning_alg: HS256\n"),
            "auth.yaml:2: 'signing_alg' must be RS256, PS256, ES256 or EdDSA, got 'HS256'");
  std::string unknown = ErrorOf("issuer: http://127.0.0.1:9000\n\nissuer_url: x\n");
  EXPECT_EQ(unknown.rfind("auth.yaml:3: unknown setting 'issuer_url'", 0), 0u) << unknown;
  std::string slash = ErrorOf("issuer: http://127.0.0.1:9000/\n");
  EXPECT_EQ(slash.rfind("auth.yaml:1: 'issuer' must not end with '/'", 0), 0u) << slash;
  std::string https = ErrorOf("issuer: https://auth.example.com\n");
  EXPECT_NE(https.find("set 'listen: host:port'"), std::string::npos) << https;
  std::string overlap = ErrorOf("access_token_ttl_s: 600\nkey_rotation_overlap_s: 60\n");
  EXPECT_EQ(overlap.rfind("auth.yaml:2: 'key_rotation_overlap_s' (60) must be at least", 0), 0u)
      << overlap;
  std::string ttl = ErrorOf("access_token_ttl_s: 0\n");
  EXPECT_EQ(ttl.rfind("auth.yaml:1: 'access_token_ttl_s' must be between 1 and 86400", 0), 0u);
  std::string yaml = ErrorOf("clients: [\n");
  EXPECT_NE(yaml.find("YAML syntax error"), std::string::npos) << yaml;
}

TEST(AuthConfig, ClientErrors) {
  std::string plain = ErrorOf(
      "clients:\n  - client_id: svc\n    client_secret: hunter2\n    grant_types: "
      "[client_credentials]\n");
  EXPECT_EQ(plain.rfind("auth.yaml:3: clients[0]: a plain client_secret is not allowed", 0), 0u)
      << plain;
  EXPECT_EQ(plain.find("hunter2"), std::string::npos);
  std::string bad_hash = ErrorOf("clients:\n  - client_id: svc\n    client_secret_hash: hunter2\n");
  EXPECT_EQ(bad_hash.rfind("auth.yaml:3: clients[0].client_secret_hash: not a password hash", 0),
            0u)
      << bad_hash;
  std::string redirect = ErrorOf(
      "clients:\n  - client_id: web\n    redirect_uris:\n      - https://ok.example/cb\n      - "
      "http://evil.example/cb\n");
  EXPECT_EQ(redirect.rfind("auth.yaml:5: clients[0].redirect_uris: redirect URI "
                           "'http://evil.example/cb' uses http on a non-loopback host",
                           0),
            0u)
      << redirect;
  std::string public_cc =
      ErrorOf("clients:\n  - client_id: svc\n    grant_types: [client_credentials]\n");
  EXPECT_NE(public_cc.find("needs a confidential client"), std::string::npos) << public_cc;
  std::string twice = ErrorOf(
      "clients:\n  - client_id: a\n    redirect_uris: [http://127.0.0.1/cb]\n  - client_id: a\n   "
      " redirect_uris: [http://127.0.0.1/cb]\n");
  EXPECT_EQ(twice, "auth.yaml:4: client_id 'a' is used twice");
}

TEST(AuthConfig, EnvironmentErrorsNameTheVariable) {
  EXPECT_EQ(ErrorOf("", {{"AUTH_JWT_SIGNING_ALG", "none"}}),
            "AUTH_JWT_SIGNING_ALG must be RS256, PS256, ES256 or EdDSA, got 'none'");
  EXPECT_EQ(ErrorOf("", {{"AUTH_CLIENT_SECRET", "x"}}),
            "AUTH_CLIENT_SECRET and AUTH_REDIRECT_URI need AUTH_CLIENT_ID");
  std::string uri =
      ErrorOf("", {{"AUTH_CLIENT_ID", "x"}, {"AUTH_REDIRECT_URI", "javascript:alert(1)"}});
  EXPECT_EQ(uri.rfind("AUTH_REDIRECT_URI: ", 0), 0u) << uri;
  EXPECT_EQ(ErrorOf("", {{"AUTH_ISSUER_URL", "ftp://x"}}).rfind("AUTH_ISSUER_URL must be", 0), 0u);
}

TEST(AuthUsers, LoadsUsersAndRejectsPlainPasswords) {
  std::string h = HashPassword("alice-password", 1000);
  auto users = LoadUsersString("users:\n  - username: alice\n    password_hash: \"" + h +
                                   "\"\n    email: alice@example.com\n    roles: [user]\n    "
                                   "scopes: mcp:read tool:echo:read\n    tenant: acme\n",
                               "users.yaml");
  ASSERT_TRUE(users.ok()) << users.error().message;
  ASSERT_EQ(users->size(), 1u);
  const User& a = users->front();
  EXPECT_EQ(a.sub, "alice");  // defaults to the username
  EXPECT_EQ(a.scopes, (std::vector<std::string>{"mcp:read", "tool:echo:read"}));
  EXPECT_EQ(a.tenant, "acme");

  auto plain =
      LoadUsersString("users:\n  - username: bob\n    password_hash: bob-password\n", "users.yaml");
  ASSERT_FALSE(plain.ok());
  EXPECT_EQ(plain.error().message.rfind("users.yaml:3: users[0].password_hash: not a password "
                                        "hash",
                                        0),
            0u)
      << plain.error().message;
  EXPECT_EQ(plain.error().message.find("bob-password"), std::string::npos);

  auto password_key =
      LoadUsersString("users:\n  - username: bob\n    password: bob-password\n", "users.yaml");
  ASSERT_FALSE(password_key.ok());
  EXPECT_EQ(password_key.error().message.rfind("users.yaml:3: users[0]: a plain-text password", 0),
            0u)
      << password_key.error().message;

  auto dup = LoadUsersString("users:\n  - {username: a, password_hash: \"" + h +
                                 "\"}\n  - {username: a, password_hash: \"" + h + "\"}\n",
                             "users.yaml");
  ASSERT_FALSE(dup.ok());
  EXPECT_NE(dup.error().message.find("used twice"), std::string::npos);
}

TEST(AuthConfig, FileLoadingReadsTheUsersFile) {
  auto env_only = LoadConfigFile("", FakeEnv());
  ASSERT_TRUE(env_only.ok()) << env_only.error().message;
  EXPECT_EQ(env_only->source, "(environment)");
  EXPECT_TRUE(env_only->users.empty());

  std::string dir = testing::TempDir();
  std::string config_path = dir + "/authserver-config-test.yaml";
  std::string users_path = dir + "/authserver-users-test.yaml";
  {
    std::ofstream(config_path) << "users_file: " << users_path << "\n";
    std::ofstream(users_path) << "users:\n  - username: carol\n    password_hash: \""
                              << HashPassword("pw", 1000) << "\"\n";
  }
  auto cfg = LoadConfigFile(config_path, FakeEnv());
  ASSERT_TRUE(cfg.ok()) << cfg.error().message;
  ASSERT_EQ(cfg->users.size(), 1u);
  EXPECT_EQ(cfg->users[0].username, "carol");

  std::remove(users_path.c_str());
  auto missing = LoadConfigFile(config_path, FakeEnv());
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().message, users_path + ": cannot read the file");
  std::remove(config_path.c_str());
}

TEST(RedirectUri, Validation) {
  for (const char* ok : {"https://app.example.com/cb", "http://127.0.0.1:3000/callback",
                         "http://localhost/cb", "http://[::1]:8080/cb", "com.example.app:/oauth",
                         "cursor://anysphere.cursor-retrieval/oauth/callback"}) {
    EXPECT_TRUE(ValidateRedirectUri(ok).ok()) << ok;
  }
  for (const char* bad :
       {"", "/relative/cb", "http://example.com/cb", "https://app.example.com/cb#frag",
        "javascript:alert(1)", "data:text/html,x", "file:///etc/passwd", "https://a b/cb",
        "http://127.0.0.1:3000/cb\n", "1http://x/"}) {
    EXPECT_FALSE(ValidateRedirectUri(bad).ok()) << bad;
  }
}

TEST(Issuer, Split) {
  EXPECT_EQ(SplitIssuer("http://127.0.0.1:9000").origin, "http://127.0.0.1:9000");
  EXPECT_EQ(SplitIssuer("http://127.0.0.1:9000").path, "");
  EXPECT_EQ(SplitIssuer("https://x.example/tenant/a").origin, "https://x.example");
  EXPECT_EQ(SplitIssuer("https://x.example/tenant/a").path, "/tenant/a");
}

}  // namespace
}  // namespace mcpgw::authserver
