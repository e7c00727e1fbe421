// The authenticator against an in-test JWKS endpoint: key rotations seen on a refresh are
// reported to the key observer (the gateway's `key_rotation` audit events); the first fetch is not.
#include "auth/authenticator.h"

#include <gtest/gtest.h>

#include <ctime>
#include <functional>
#include <memory>
#include <optional>

#include "auth/test_signer.h"
#include "io/run_until.h"

namespace mcpgw::auth {
namespace {

constexpr const char* kIssuer = "https://as.example";
constexpr const char* kAudience = "https://gw.example/mcp";

class KeyRotationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    loop_ = io::NewLoop();
    http::ServerOptions opts;
    opts.port = 0;
    server_ = http::NewServer(
        *loop_, opts, [this](http::Request&&, const std::shared_ptr<http::Responder>& res) {
          ++fetches_;
          json::array keys;
          for (const auto& k : published_) keys.emplace_back(k->jwk);
          json::object set;
          set["keys"] = std::move(keys);
          res->Send(200, {{"content-type", "application/json"}}, json::Serialize(set));
        });
    auto port = server_->Listen();
    ASSERT_TRUE(port.ok());
    client_ = http::NewClient(*loop_);
    cfg_.mode = config::AuthConfig::Mode::kOAuth;
    cfg_.issuer = kIssuer;
    cfg_.audience = kAudience;
    cfg_.jwks_uri = "http://127.0.0.1:" + std::to_string(*port) + "/jwks";
    cfg_.jwks_refetch_cooldown_s = 0;  // an unknown kid refetches at once
  }

  void TearDown() override {
    if (auth_) auth_->Stop();
    auth_.reset();
    server_->Stop();
  }

  // Runs the loop until `done` is true (or 3 s pass).
  void RunUntil(const std::function<bool()>& done) { io::RunUntil(*loop_, done); }

  static std::string TokenFor(const testing::TestKey& key) {
    int64_t now = std::time(nullptr);
    std::string header = R"({"alg":")" + key.alg + R"(","kid":")" +
                         std::string(json::FindString(key.jwk, "kid")) + R"(","typ":"at+jwt"})";
    std::string claims = std::string(R"({"iss":")") + kIssuer + R"(","aud":")" + kAudience +
                         R"(","sub":"alice","exp":)" + std::to_string(now + 300) + R"(,"iat":)" +
                         std::to_string(now) + "}";
    return testing::MakeToken(key, header, claims);
  }

  Outcome Authenticate(const std::string& token) {
    std::optional<Outcome> got;
    auth_->Authenticate("Bearer " + token, false, [&](Outcome o) { got = std::move(o); });
    RunUntil([&] { return got.has_value(); });
    EXPECT_TRUE(got.has_value());
    return got.value_or(Outcome{Failure::kUnavailable, "no answer", nullptr});
  }

  std::unique_ptr<io::Loop> loop_;
  std::unique_ptr<http::Server> server_;
  std::unique_ptr<http::Client> client_;
  config::AuthConfig cfg_;
  std::unique_ptr<Authenticator> auth_;
  std::vector<const testing::TestKey*> published_;
  int fetches_ = 0;
};

TEST_F(KeyRotationTest, RefreshWithNewAndWithdrawnKidsIsReported) {
  testing::TestKey old_key = testing::Generate("ES256", "old");
  testing::TestKey new_key = testing::Generate("ES256", "new");
  published_ = {&old_key};
  std::vector<KeyRotation> seen;
  auth_ = NewAuthenticator(*loop_, *client_, cfg_);
  auth_->SetKeyObserver([&](const KeyRotation& r) { seen.push_back(r); });
  auth_->Start();
  Outcome first = Authenticate(TokenFor(old_key));
  ASSERT_EQ(first.failure, Failure::kNone) << first.description;
  EXPECT_TRUE(seen.empty()) << "the first fetch is not a rotation";

  // The issuer rotates: a token signed by the new key makes the gateway refetch the set.
  published_ = {&new_key};
  Outcome second = Authenticate(TokenFor(new_key));
  ASSERT_EQ(second.failure, Failure::kNone) << second.description;
  EXPECT_EQ(fetches_, 2);
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].issuer, kIssuer);
  EXPECT_EQ(seen[0].jwks_uri, cfg_.jwks_uri);
  EXPECT_EQ(seen[0].added, std::vector<std::string>{"new"});
  EXPECT_EQ(seen[0].removed, std::vector<std::string>{"old"});
  EXPECT_EQ(Authenticate(TokenFor(old_key)).failure, Failure::kInvalidToken);
}

TEST_F(KeyRotationTest, AnUnchangedSetIsNotReported) {
  testing::TestKey key = testing::Generate("ES256", "only");
  testing::TestKey unpublished = testing::Generate("ES256", "nowhere");
  published_ = {&key};
  int reported = 0;
  auth_ = NewAuthenticator(*loop_, *client_, cfg_);
  auth_->SetKeyObserver([&](const KeyRotation&) { ++reported; });
  auth_->Start();
  ASSERT_EQ(Authenticate(TokenFor(key)).failure, Failure::kNone);
  // An unknown kid refetches; the set is the same.
  EXPECT_EQ(Authenticate(TokenFor(unpublished)).failure, Failure::kInvalidToken);
  EXPECT_EQ(fetches_, 2);
  EXPECT_EQ(reported, 0);
}

TEST(DiffKids, AddedAndRemovedAreSorted) {
  KeyRotation r = DiffKids({"b", "a", "c"}, {"d", "c", "a", "e"});
  EXPECT_EQ(r.added, (std::vector<std::string>{"d", "e"}));
  EXPECT_EQ(r.removed, std::vector<std::string>{"b"});
  KeyRotation same = DiffKids({"a"}, {"a"});
  EXPECT_TRUE(same.added.empty());
  EXPECT_TRUE(same.removed.empty());
}

}  // namespace
}  // namespace mcpgw::auth
