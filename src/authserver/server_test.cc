// The endpoints end to end, without sockets: requests in, responses out.
#include "authserver/server.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

#include "authserver/form.h"
#include "authserver/password.h"
#include "authserver/pkce.h"
#include "common/base64url.h"

namespace mcpgw::authserver {
namespace {

constexpr const char* kRedirect = "http://127.0.0.1:3000/callback";
constexpr const char* kVerifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
constexpr const char* kChallenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

json::object Claims(std::string_view jwt, int part = 1) {
  size_t start = 0;
  for (int i = 0; i < part; ++i) start = jwt.find('.', start) + 1;
  auto raw = Base64UrlDecode(jwt.substr(start, jwt.find('.', start) - start));
  EXPECT_TRUE(raw.has_value());
  auto v = json::Parse(raw.value_or("{}"));
  return v.ok() && v->is_object() ? v->as_object() : json::object();
}

json::object Body(const Response& r) {
  auto v = json::Parse(r.body);
  EXPECT_TRUE(v.ok()) << r.body;
  return v.ok() && v->is_object() ? v->as_object() : json::object();
}

// The query parameters of a redirect's Location.
FormParams RedirectParams(const Response& r) {
  std::string_view loc = r.header("location");
  auto p = FormParams::Parse(loc.substr(loc.find('?') + 1));
  EXPECT_TRUE(p.ok());
  return p.ok() ? *p : FormParams();
}

class AuthServerTest : public testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl =
        (std::filesystem::temp_directory_path() / "authserver-server-XXXXXX").string();
    dir_ = ::mkdtemp(tmpl.data());
    config_.issuer = "http://127.0.0.1:9000";
    config_.keys_dir = dir_;
    config_.signing_alg = Alg::kES256;
    User alice;
    alice.username = "alice";
    alice.password_hash = HashPassword("alice-pw", 1000);
    alice.sub = "user-alice";
    alice.email = "alice@acme.example";
    alice.roles = {"user"};
    alice.scopes = {"mcp:read", "tool:echo:read"};
    alice.tenant = "acme";
    config_.users = {alice};
    ClientConfig web;
    web.client_id = "web";
    web.redirect_uris = {kRedirect};
    web.grant_types = {"authorization_code", "refresh_token"};
    ClientConfig svc;
    svc.client_id = "svc";
    svc.client_secret_hash = HashPassword("svc-secret", 1000);
    svc.grant_types = {"client_credentials"};
    svc.scope = "mcp:read tool:echo:read";
    svc.roles = {"service"};
    config_.clients = {web, svc};
    Start();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  void Start() {
    auto keys = KeyStore::Open(dir_, config_.signing_alg, 3600, now_);
    ASSERT_TRUE(keys.ok()) << keys.error().message;
    keys_ = std::move(*keys);
    server_ = NewAuthServer(config_, keys_.get(), [this] { return now_; });
  }

  Response Send(std::string method, std::string target, std::string body = "",
                std::string content_type = "", http::Headers extra = {}) {
    http::Request req;
    req.method = std::move(method);
    req.target = std::move(target);
    req.body = std::move(body);
    if (!content_type.empty()) req.headers.push_back({"content-type", content_type});
    for (auto& h : extra) req.headers.push_back(std::move(h));
    return server_->Handle(req);
  }
  Response Get(std::string target) { return Send("GET", std::move(target)); }
  Response PostForm(std::string target, std::string body, http::Headers extra = {}) {
    return Send("POST", std::move(target), std::move(body), "application/x-www-form-urlencoded",
                std::move(extra));
  }

  std::string AuthorizeQuery(std::string extra = "") {
    return "/authorize?response_type=code&client_id=web&redirect_uri=" + PercentEncode(kRedirect) +
           "&code_challenge=" + kChallenge + "&code_challenge_method=S256&state=xyz" + extra;
  }

  // A code for alice through the headless login.
  std::string Code(std::string extra = "") {
    Response r = Get(AuthorizeQuery("&username=alice&password=alice-pw" + extra));
    EXPECT_EQ(r.status, 302) << r.body;
    FormParams p = RedirectParams(r);
    EXPECT_EQ(p.Get("error"), "") << p.Get("error_description");
    return std::string(p.Get("code"));
  }

  Response Exchange(const std::string& code, std::string verifier = kVerifier,
                    std::string extra = "") {
    return PostForm("/token", "grant_type=authorization_code&client_id=web&code=" + code +
                                  "&redirect_uri=" + PercentEncode(kRedirect) +
                                  "&code_verifier=" + verifier + extra);
  }

  static void ExpectOAuthError(const Response& r, int status, std::string_view error) {
    EXPECT_EQ(r.status, status) << r.body;
    EXPECT_EQ(json::FindString(Body(r), "error"), error) << r.body;
    EXPECT_FALSE(json::FindString(Body(r), "error_description").empty());
    EXPECT_EQ(r.header("cache-control"), "no-store");
  }

  std::string dir_;
  int64_t now_ = 1700000000;
  Config config_;
  std::unique_ptr<KeyStore> keys_;
  std::unique_ptr<AuthServer> server_;
};

TEST_F(AuthServerTest, Discovery) {
  Response r = Get("/.well-known/oauth-authorization-server");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.header("content-type"), "application/json");
  json::object md = Body(r);
  EXPECT_EQ(json::FindString(md, "issuer"), "http://127.0.0.1:9000");
  EXPECT_EQ(json::FindString(md, "authorization_endpoint"), "http://127.0.0.1:9000/authorize");
  EXPECT_EQ(json::FindString(md, "token_endpoint"), "http://127.0.0.1:9000/token");
  EXPECT_EQ(json::FindString(md, "registration_endpoint"), "http://127.0.0.1:9000/register");
  EXPECT_EQ(json::FindString(md, "jwks_uri"), "http://127.0.0.1:9000/jwks.json");
  EXPECT_EQ(json::Serialize(md.at("code_challenge_methods_supported")), R"(["S256"])");
  EXPECT_EQ(json::Serialize(md.at("response_types_supported")), R"(["code"])");
  EXPECT_EQ(json::Serialize(md.at("token_endpoint_auth_methods_supported")),
            R"(["none","client_secret_basic","client_secret_post"])");
  EXPECT_NE(json::Serialize(md.at("scopes_supported")).find("tool:echo:read"), std::string::npos);
  EXPECT_EQ(json::Find(md, "subject_types_supported"), nullptr);

  Response oidc = Get("/.well-known/openid-configuration");
  ASSERT_EQ(oidc.status, 200);
  EXPECT_EQ(json::Serialize(Body(oidc).at("id_token_signing_alg_values_supported")),
            R"(["ES256"])");
  EXPECT_NE(json::Find(Body(oidc), "subject_types_supported"), nullptr);

  Response jwks = Get("/jwks.json");
  ASSERT_EQ(jwks.status, 200);
  json::object jwks_body = Body(jwks);
  const json::array& keys = jwks_body.at("keys").as_array();
  ASSERT_EQ(keys.size(), 1u);
  EXPECT_EQ(json::FindString(keys[0].as_object(), "kid"), keys_->active().kid());

  EXPECT_EQ(Get("/nope").status, 404);
  EXPECT_EQ(Send("POST", "/jwks.json").status, 405);
  EXPECT_EQ(Get("/token").status, 405);
}

TEST_F(AuthServerTest, IssuerWithAPathServesBothWellKnownForms) {
  config_.issuer = "http://127.0.0.1:9000/tenant1";
  Start();
  EXPECT_EQ(Get("/.well-known/oauth-authorization-server/tenant1").status, 200);
  EXPECT_EQ(Get("/tenant1/.well-known/openid-configuration").status, 200);
  EXPECT_EQ(Get("/.well-known/openid-configuration/tenant1").status, 200);
  EXPECT_EQ(Get("/tenant1/jwks.json").status, 200);
  EXPECT_EQ(Get("/jwks.json").status, 404);
  EXPECT_EQ(json::FindString(Body(Get("/tenant1/.well-known/oauth-authorization-server")),
                             "token_endpoint"),
            "http://127.0.0.1:9000/tenant1/token");
}

TEST_F(AuthServerTest, ClientCredentialsWithBasicAndPost) {
  std::string basic = "Basic " + std::string("c3ZjOnN2Yy1zZWNyZXQ=");  // svc:svc-secret
  Response r = PostForm("/token", "grant_type=client_credentials", {{"authorization", basic}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.header("cache-control"), "no-store");
  json::object body = Body(r);
  EXPECT_EQ(json::FindString(body, "token_type"), "Bearer");
  EXPECT_EQ(body.at("expires_in").as_int64(), 300);
  EXPECT_EQ(json::Find(body, "refresh_token"), nullptr);
  std::string token(json::FindString(body, "access_token"));
  json::object header = Claims(token, 0);
  EXPECT_EQ(json::FindString(header, "typ"), "at+jwt");
  EXPECT_EQ(json::FindString(header, "alg"), "ES256");
  EXPECT_EQ(json::FindString(header, "kid"), keys_->active().kid());
  json::object claims = Claims(token);
  EXPECT_EQ(json::FindString(claims, "iss"), "http://127.0.0.1:9000");
  EXPECT_EQ(json::FindString(claims, "sub"), "svc");
  EXPECT_EQ(json::FindString(claims, "client_id"), "svc");
  EXPECT_EQ(json::FindString(claims, "aud"), "http://127.0.0.1:8080/mcp");
  EXPECT_EQ(json::FindString(claims, "scope"), "mcp:read tool:echo:read");
  EXPECT_EQ(json::Serialize(claims.at("roles")), R"(["service"])");
  EXPECT_EQ(claims.at("iat").as_int64(), now_);
  EXPECT_EQ(claims.at("nbf").as_int64(), now_);
  EXPECT_EQ(claims.at("exp").as_int64(), now_ + 300);
  EXPECT_FALSE(json::FindString(claims, "jti").empty());

  Response post = PostForm("/token",
                           "grant_type=client_credentials&client_id=svc&client_secret=svc-secret"
                           "&scope=mcp%3Aread&resource=http%3A%2F%2F127.0.0.1%3A7000%2Fmcp");
  ASSERT_EQ(post.status, 200) << post.body;
  json::object c2 = Claims(json::FindString(Body(post), "access_token"));
  EXPECT_EQ(json::FindString(c2, "scope"), "mcp:read");
  EXPECT_EQ(json::FindString(c2, "aud"), "http://127.0.0.1:7000/mcp");
}

TEST_F(AuthServerTest, ClientCredentialsErrors) {
  Response wrong =
      PostForm("/token", "grant_type=client_credentials&client_id=svc&client_secret=x");
  ExpectOAuthError(wrong, 401, "invalid_client");
  EXPECT_EQ(wrong.header("www-authenticate"), R"(Basic realm="mcpgw-auth-server")");
  ExpectOAuthError(PostForm("/token", "grant_type=client_credentials&client_id=svc"), 401,
                   "invalid_client");
  ExpectOAuthError(PostForm("/token",
                            "grant_type=client_credentials&client_id=ghost&"
                            "client_secret=x"),
                   401, "invalid_client");
  ExpectOAuthError(PostForm("/token",
                            "grant_type=client_credentials&client_id=svc&"
                            "client_secret=svc-secret&scope=admin"),
                   400, "invalid_scope");
  ExpectOAuthError(PostForm("/token", "grant_type=client_credentials&client_id=web"), 400,
                   "unauthorized_client");
  ExpectOAuthError(PostForm("/token", "grant_type=password&client_id=svc&client_secret=svc-secret"),
                   400, "unsupported_grant_type");
  ExpectOAuthError(PostForm("/token", "client_id=svc&client_secret=svc-secret"), 400,
                   "invalid_request");
  ExpectOAuthError(
      Send("POST", "/token", R"({"grant_type":"client_credentials"})", "application/json"), 400,
      "invalid_request");
  ExpectOAuthError(PostForm("/token",
                            "grant_type=client_credentials&grant_type=x&client_id=svc&"
                            "client_secret=svc-secret"),
                   400, "invalid_request");
  ExpectOAuthError(PostForm("/token",
                            "grant_type=client_credentials&client_id=svc&"
                            "client_secret=svc-secret&resource=not-a-uri"),
                   400, "invalid_target");
}

TEST_F(AuthServerTest, AuthorizeNeverRedirectsToAnUntrustedUri) {
  for (const std::string& target :
       {std::string("/authorize?response_type=code&client_id=ghost&redirect_uri=") +
            PercentEncode(kRedirect),
        std::string("/authorize?response_type=code&client_id=web&redirect_uri=") +
            PercentEncode("http://127.0.0.1:3000/callback/../evil"),
        std::string("/authorize?response_type=code&client_id=web&redirect_uri=") +
            PercentEncode("https://evil.example/cb"),
        std::string("/authorize?response_type=code&client_id=web&redirect_uri=a&redirect_uri=b"),
        std::string("/authorize?response_type=code")}) {
    Response r = Get(target);
    EXPECT_EQ(r.status, 400) << target;
    EXPECT_EQ(r.header("location"), "") << target;
    EXPECT_EQ(r.header("content-type"), "text/html; charset=utf-8");
  }
}

TEST_F(AuthServerTest, AuthorizeErrorsGoBackToTheClient) {
  auto error_of = [&](const std::string& target) {
    Response r = Get(target);
    EXPECT_EQ(r.status, 302) << r.body;
    EXPECT_EQ(r.header("location").rfind(std::string(kRedirect) + "?", 0), 0u);
    FormParams p = RedirectParams(r);
    EXPECT_EQ(p.Get("state"), "xyz");
    EXPECT_EQ(p.Get("iss"), "http://127.0.0.1:9000");
    EXPECT_FALSE(p.Has("code"));
    return std::string(p.Get("error"));
  };
  std::string base =
      "/authorize?client_id=web&redirect_uri=" + PercentEncode(kRedirect) + "&state=xyz";
  EXPECT_EQ(error_of(base + "&response_type=token&code_challenge=" + kChallenge +
                     "&code_challenge_method=S256"),
            "unsupported_response_type");
  EXPECT_EQ(error_of(base + "&response_type=code"), "invalid_request");  // no PKCE
  EXPECT_EQ(error_of(base + "&response_type=code&code_challenge=" + kChallenge), "invalid_request");
  EXPECT_EQ(error_of(base + "&response_type=code&code_challenge=" + kChallenge +
                     "&code_challenge_method=plain"),
            "invalid_request");
  EXPECT_EQ(error_of(base + "&response_type=code&code_challenge=short&code_challenge_method=S256"),
            "invalid_request");
  EXPECT_EQ(error_of(AuthorizeQuery("&resource=relative")), "invalid_target");
  EXPECT_EQ(error_of(AuthorizeQuery("&resource=http://a/&resource=http://b/")), "invalid_target");
  EXPECT_EQ(error_of(AuthorizeQuery("&username=alice&password=wrong")), "access_denied");
  EXPECT_EQ(error_of(AuthorizeQuery("&username=nobody&password=x")), "access_denied");
  EXPECT_EQ(error_of(AuthorizeQuery("&prompt=none")), "login_required");
}

TEST_F(AuthServerTest, AuthorizationCodeFlow) {
  std::string code = Code("&scope=mcp%3Aread%20openid%20admin&resource=" +
                          PercentEncode("http://127.0.0.1:8080/mcp") + "&nonce=n-1");
  ASSERT_FALSE(code.empty());
  Response r = Exchange(code, kVerifier, "&resource=" + PercentEncode("http://127.0.0.1:8080/mcp"));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.header("cache-control"), "no-store");
  EXPECT_EQ(r.header("content-type"), "application/json");
  json::object body = Body(r);
  EXPECT_EQ(json::FindString(body, "token_type"), "Bearer");
  // "admin" is not alice's to have: narrowed away.
  EXPECT_EQ(json::FindString(body, "scope"), "mcp:read openid");
  EXPECT_FALSE(json::FindString(body, "refresh_token").empty());
  json::object claims = Claims(json::FindString(body, "access_token"));
  EXPECT_EQ(json::FindString(claims, "sub"), "user-alice");
  EXPECT_EQ(json::FindString(claims, "aud"), "http://127.0.0.1:8080/mcp");
  EXPECT_EQ(json::FindString(claims, "client_id"), "web");
  EXPECT_EQ(json::FindString(claims, "email"), "alice@acme.example");
  EXPECT_EQ(json::FindString(claims, "tenant"), "acme");
  EXPECT_EQ(json::Serialize(claims.at("roles")), R"(["user"])");
  json::object id = Claims(json::FindString(body, "id_token"));
  EXPECT_EQ(json::FindString(id, "aud"), "web");
  EXPECT_EQ(json::FindString(id, "nonce"), "n-1");

  // The code is single use, and its replay revokes the refresh token issued from it.
  ExpectOAuthError(Exchange(code), 400, "invalid_grant");
  ExpectOAuthError(PostForm("/token", "grant_type=refresh_token&client_id=web&refresh_token=" +
                                          std::string(json::FindString(body, "refresh_token"))),
                   400, "invalid_grant");
}

TEST_F(AuthServerTest, ResourceBecomesTheAudienceAndDefaultsToDefaultAudience) {
  Response r = Exchange(Code());
  ASSERT_EQ(r.status, 200) << r.body;
  json::object claims = Claims(json::FindString(Body(r), "access_token"));
  EXPECT_EQ(json::FindString(claims, "aud"), "http://127.0.0.1:8080/mcp");
  EXPECT_EQ(json::FindString(claims, "scope"), "mcp:read tool:echo:read");  // all of alice's

  std::string code = Code("&resource=" + PercentEncode("http://127.0.0.1:7777/mcp"));
  ExpectOAuthError(Exchange(code, kVerifier, "&resource=" + PercentEncode("http://other/mcp")), 400,
                   "invalid_target");
}

TEST_F(AuthServerTest, CodeExchangeChecks) {
  ExpectOAuthError(Exchange(Code(), "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXx"), 400,
                   "invalid_grant");
  ExpectOAuthError(Exchange(Code(), ""), 400, "invalid_request");
  ExpectOAuthError(Exchange("not-a-code"), 400, "invalid_grant");
  // redirect_uri must be the one of the authorization request.
  ExpectOAuthError(
      PostForm("/token", "grant_type=authorization_code&client_id=web&code=" + Code() +
                             "&redirect_uri=" + PercentEncode("http://127.0.0.1:3000/other") +
                             "&code_verifier=" + kVerifier),
      400, "invalid_grant");
  ExpectOAuthError(PostForm("/token", "grant_type=authorization_code&client_id=web&code=" + Code() +
                                          "&code_verifier=" + kVerifier),
                   400, "invalid_grant");
  // Codes expire after 60 s.
  std::string code = Code();
  now_ += 61;
  ExpectOAuthError(Exchange(code), 400, "invalid_grant");
}

TEST_F(AuthServerTest, RefreshRotationAndReuseDetection) {
  Response first = Exchange(Code());
  ASSERT_EQ(first.status, 200) << first.body;
  std::string r1(json::FindString(Body(first), "refresh_token"));
  auto refresh = [&](const std::string& token, const std::string& extra = "") {
    return PostForm("/token",
                    "grant_type=refresh_token&client_id=web&refresh_token=" + token + extra);
  };
  // A wider scope than granted fails without using the token up.
  ExpectOAuthError(refresh(r1, "&scope=admin"), 400, "invalid_scope");
  Response second = refresh(r1, "&scope=mcp%3Aread");
  ASSERT_EQ(second.status, 200) << second.body;
  EXPECT_EQ(second.header("cache-control"), "no-store");
  std::string r2(json::FindString(Body(second), "refresh_token"));
  EXPECT_NE(r2, r1);
  EXPECT_EQ(json::FindString(Claims(json::FindString(Body(second), "access_token")), "scope"),
            "mcp:read");

  // r1 was rotated out: presenting it again revokes the family, r2 included.
  ExpectOAuthError(refresh(r1), 400, "invalid_grant");
  ExpectOAuthError(refresh(r2), 400, "invalid_grant");
}

TEST_F(AuthServerTest, LoginForm) {
  Response form = Get(AuthorizeQuery("&scope=mcp%3Aread&nonce=%22%3E%3Cscript%3E"));
  ASSERT_EQ(form.status, 200);
  EXPECT_EQ(form.header("content-type"), "text/html; charset=utf-8");
  EXPECT_NE(form.header("content-security-policy").find("frame-ancestors 'none'"),
            std::string::npos);
  EXPECT_NE(form.body.find("<form method=\"post\" action=\"http://127.0.0.1:9000/authorize\">"),
            std::string::npos);
  EXPECT_NE(form.body.find("name=\"code_challenge\" value=\"" + std::string(kChallenge) + "\""),
            std::string::npos);
  EXPECT_EQ(form.body.find("<script>"), std::string::npos);  // escaped
  EXPECT_NE(form.body.find("&quot;&gt;&lt;script&gt;"), std::string::npos);

  std::string fields = "response_type=code&client_id=web&redirect_uri=" + PercentEncode(kRedirect) +
                       "&code_challenge=" + kChallenge + "&code_challenge_method=S256&state=s1";
  Response bad = PostForm("/authorize", fields + "&username=alice&password=nope&action=login");
  EXPECT_EQ(bad.status, 401);
  EXPECT_NE(bad.body.find("Invalid username or password"), std::string::npos);

  Response ok = PostForm("/authorize", fields + "&username=alice&password=alice-pw&action=login");
  ASSERT_EQ(ok.status, 302) << ok.body;
  EXPECT_FALSE(RedirectParams(ok).Get("code").empty());
  EXPECT_EQ(RedirectParams(ok).Get("state"), "s1");

  Response deny = PostForm("/authorize", fields + "&action=deny");
  ASSERT_EQ(deny.status, 302);
  EXPECT_EQ(RedirectParams(deny).Get("error"), "access_denied");
}

TEST_F(AuthServerTest, HeadlessLoginIsRefusedWhenDisabled) {
  config_.mode = Mode::kProduction;
  config_.headless_login = false;
  Start();
  Response r = Get(AuthorizeQuery("&username=alice&password=alice-pw"));
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(r.header("location"), "");
  // The form still works.
  Response ok = PostForm(
      "/authorize", "response_type=code&client_id=web&redirect_uri=" + PercentEncode(kRedirect) +
                        "&code_challenge=" + kChallenge +
                        "&code_challenge_method=S256&username=alice&"
                        "password=alice-pw");
  EXPECT_EQ(ok.status, 302);
}

TEST_F(AuthServerTest, DynamicRegistrationThenCodeFlowWithAPublicClient) {
  Response reg = Send("POST", "/register",
                      R"({"redirect_uris":["http://127.0.0.1:5555/cb"],"client_name":"t",
                          "token_endpoint_auth_method":"none",
                          "grant_types":["authorization_code","refresh_token"]})",
                      "application/json");
  ASSERT_EQ(reg.status, 201) << reg.body;
  EXPECT_EQ(reg.header("cache-control"), "no-store");
  json::object md = Body(reg);
  std::string id(json::FindString(md, "client_id"));
  ASSERT_FALSE(id.empty());
  EXPECT_EQ(json::Find(md, "client_secret"), nullptr);
  EXPECT_EQ(md.at("client_id_issued_at").as_int64(), now_);

  std::string redirect = PercentEncode("http://127.0.0.1:5555/cb");
  Response auth = Get("/authorize?response_type=code&client_id=" + id +
                      "&redirect_uri=" + redirect + "&code_challenge=" + kChallenge +
                      "&code_challenge_method=S256&username=alice&password=alice-pw");
  ASSERT_EQ(auth.status, 302);
  std::string code(RedirectParams(auth).Get("code"));
  Response token =
      PostForm("/token", "grant_type=authorization_code&client_id=" + id + "&code=" + code +
                             "&redirect_uri=" + redirect + "&code_verifier=" + kVerifier);
  ASSERT_EQ(token.status, 200) << token.body;
  EXPECT_FALSE(json::FindString(Body(token), "refresh_token").empty());

  Response confidential = Send(
      "POST", "/register", R"({"redirect_uris":["https://app.example/cb"]})", "application/json");
  ASSERT_EQ(confidential.status, 201);
  EXPECT_FALSE(json::FindString(Body(confidential), "client_secret").empty());

  ExpectOAuthError(Send("POST", "/register", R"({"redirect_uris":["http://evil.example/cb"]})",
                        "application/json"),
                   400, "invalid_redirect_uri");
  ExpectOAuthError(Send("POST", "/register", "[]", "application/json"), 400,
                   "invalid_client_metadata");
}

TEST_F(AuthServerTest, PublicAndConfidentialClientAuthentication) {
  // A public client must not present a secret; a code issued to one client is not another's.
  ExpectOAuthError(PostForm("/token",
                            "grant_type=authorization_code&client_id=web&"
                            "client_secret=x&code=" +
                                Code() + "&code_verifier=" + kVerifier),
                   401, "invalid_client");
  ExpectOAuthError(
      PostForm("/token", "grant_type=client_credentials&client_id=svc&client_secret=svc-secret",
               {{"authorization", "Basic c3ZjOnN2Yy1zZWNyZXQ="}}),
      400, "invalid_request");
  ExpectOAuthError(
      PostForm("/token", "grant_type=client_credentials", {{"authorization", "Basic !!!"}}), 401,
      "invalid_client");
  ExpectOAuthError(
      PostForm("/token", "grant_type=client_credentials", {{"authorization", "Bearer abc"}}), 401,
      "invalid_client");
}

TEST_F(AuthServerTest, Revocation) {
  Response first = Exchange(Code());
  std::string r1(json::FindString(Body(first), "refresh_token"));
  Response rev = PostForm("/revoke", "client_id=web&token=" + r1);
  EXPECT_EQ(rev.status, 200);
  ExpectOAuthError(PostForm("/token", "grant_type=refresh_token&client_id=web&refresh_token=" + r1),
                   400, "invalid_grant");
  EXPECT_EQ(PostForm("/revoke", "client_id=web&token=unknown").status, 200);
}

TEST_F(AuthServerTest, KeyRotationIsPublishedAndUsed) {
  std::string old_kid = keys_->active().kid();
  auto rotated = KeyStore::Rotate(dir_, Alg::kES256, 3600, now_);
  ASSERT_TRUE(rotated.ok());
  ASSERT_TRUE(keys_->ReloadIfChanged().ok());
  Response jwks = Get("/jwks.json");
  EXPECT_EQ(Body(jwks).at("keys").as_array().size(), 2u);
  Response r = PostForm("/token",
                        "grant_type=client_credentials&client_id=svc&"
                        "client_secret=svc-secret");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(json::FindString(Claims(json::FindString(Body(r), "access_token"), 0), "kid"),
            rotated->kid);
  now_ += 3601;
  json::object jwks_after = Body(Get("/jwks.json"));
  const json::array& after = jwks_after.at("keys").as_array();
  ASSERT_EQ(after.size(), 1u);
  EXPECT_EQ(json::FindString(after[0].as_object(), "kid"), rotated->kid);
  EXPECT_NE(rotated->kid, old_kid);
}

}  // namespace
}  // namespace mcpgw::authserver
