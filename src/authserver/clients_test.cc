#include "authserver/clients.h"

#include <gtest/gtest.h>

#include "authserver/errors.h"
#include "authserver/password.h"

namespace mcpgw::authserver {
namespace {

ClientRegistry Registry() {
  ClientConfig web;
  web.client_id = "web";
  web.redirect_uris = {"http://127.0.0.1:3000/callback", "https://app.example.com/oauth/cb?x=1"};
  web.grant_types = {"authorization_code", "refresh_token"};
  ClientConfig svc;
  svc.client_id = "svc";
  svc.client_secret_hash = HashPassword("s3cret", 1000);
  svc.grant_types = {"client_credentials"};
  return ClientRegistry({web, svc});
}

TEST(Clients, RedirectUriMustMatchExactly) {
  ClientRegistry reg = Registry();
  const Client* web = reg.Find("web");
  ASSERT_NE(web, nullptr);
  EXPECT_TRUE(web->HasRedirectUri("http://127.0.0.1:3000/callback"));
  EXPECT_TRUE(web->HasRedirectUri("https://app.example.com/oauth/cb?x=1"));
  for (const char* near_miss : {"http://127.0.0.1:3000/callback/",      // trailing slash
                                "http://127.0.0.1:3000/callback/evil",  // extended path
                                "http://127.0.0.1:3000/callback?x=1",   // added query
                                "http://127.0.0.1:3001/callback",       // other port
                                "http://localhost:3000/callback",       // same machine, other name
                                "HTTP://127.0.0.1:3000/callback",       // case of the scheme
                                "http://127.0.0.1:3000/Callback",       // case of the path
                                "http://127.0.0.1:3000/callback#x",     // fragment
                                "http://127.0.0.1:3000/%63allback",  // percent-encoded equivalent
                                "https://app.example.com/oauth/cb",  // registered query missing
                                "https://app.example.com/oauth/cb?x=1&y",  // extra parameter
                                "https://app.example.com.evil.io/oauth/cb?x=1",
                                "https://user@app.example.com/oauth/cb?x=1", ""}) {
    EXPECT_FALSE(web->HasRedirectUri(near_miss)) << near_miss;
  }
}

TEST(Clients, SecretsAreCheckedAgainstTheHash) {
  ClientRegistry reg = Registry();
  const Client* svc = reg.Find("svc");
  ASSERT_NE(svc, nullptr);
  EXPECT_TRUE(svc->confidential());
  EXPECT_TRUE(reg.CheckSecret(*svc, "s3cret"));
  EXPECT_TRUE(reg.CheckSecret(*svc, "s3cret"));  // the remembered success
  EXPECT_FALSE(reg.CheckSecret(*svc, "s3cret2"));
  EXPECT_FALSE(reg.CheckSecret(*svc, ""));
  EXPECT_FALSE(reg.CheckSecret(*reg.Find("web"), ""));  // a public client has no secret
  EXPECT_EQ(reg.Find("nobody"), nullptr);
}

json::object Metadata(std::string_view text) {
  auto v = json::Parse(text);
  EXPECT_TRUE(v.ok());
  return v->as_object();
}

TEST(Clients, RegistersAPublicClient) {
  ClientRegistry reg = Registry();
  auto r = reg.Register(Metadata(R"({"redirect_uris":["http://127.0.0.1:4567/cb"],
      "token_endpoint_auth_method":"none","grant_types":["authorization_code","refresh_token"],
      "response_types":["code"],"client_name":"MCP Inspector"})"),
                        1700000000);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_TRUE(r->client_secret.empty());
  EXPECT_FALSE(r->client->confidential());
  EXPECT_EQ(reg.Find(r->client->client_id), r->client);
  json::object md = ClientMetadata(*r->client);
  EXPECT_EQ(json::FindString(md, "token_endpoint_auth_method"), "none");
  EXPECT_EQ(json::FindString(md, "client_name"), "MCP Inspector");
  EXPECT_EQ(md.at("client_id_issued_at").as_int64(), 1700000000);
}

TEST(Clients, RegistersAConfidentialClientByDefault) {
  ClientRegistry reg = Registry();
  auto r = reg.Register(Metadata(R"({"redirect_uris":["https://app.example.com/cb"]})"), 1);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->client->token_endpoint_auth_method, "client_secret_basic");  // RFC 7591 default
  EXPECT_EQ(r->client->grant_types, std::vector<std::string>{"authorization_code"});
  ASSERT_FALSE(r->client_secret.empty());
  EXPECT_EQ(r->client->secret_hash.find(r->client_secret), std::string::npos);
  EXPECT_TRUE(reg.CheckSecret(*r->client, r->client_secret));
}

TEST(Clients, RegistrationErrors) {
  ClientRegistry reg = Registry();
  auto code = [&](std::string_view text) {
    auto r = reg.Register(Metadata(text), 1);
    EXPECT_FALSE(r.ok()) << text;
    return r.ok() ? std::string() : std::string(ErrorName(ErrorOf(r.error())));
  };
  EXPECT_EQ(code(R"({"token_endpoint_auth_method":"none"})"), "invalid_redirect_uri");
  EXPECT_EQ(code(R"j({"redirect_uris":["javascript:alert(1)"]})j"), "invalid_redirect_uri");
  EXPECT_EQ(code(R"({"redirect_uris":["http://evil.example/cb"]})"), "invalid_redirect_uri");
  EXPECT_EQ(code(R"({"redirect_uris":["https://a.example/cb#f"]})"), "invalid_redirect_uri");
  EXPECT_EQ(code(R"({"redirect_uris":"https://a.example/cb"})"), "invalid_redirect_uri");
  EXPECT_EQ(code(R"({"redirect_uris":["https://a.example/cb"],
                     "token_endpoint_auth_method":"private_key_jwt"})"),
            "invalid_client_metadata");
  EXPECT_EQ(code(R"({"redirect_uris":["https://a.example/cb"],"grant_types":["implicit"]})"),
            "invalid_client_metadata");
  EXPECT_EQ(code(R"({"redirect_uris":["https://a.example/cb"],"response_types":["token"]})"),
            "invalid_client_metadata");
  EXPECT_EQ(code(R"({"grant_types":["client_credentials"],"token_endpoint_auth_method":"none"})"),
            "invalid_client_metadata");
  // A machine client needs no redirect URI.
  EXPECT_TRUE(reg.Register(Metadata(R"({"grant_types":["client_credentials"]})"), 1).ok());
}

}  // namespace
}  // namespace mcpgw::authserver
