// The embedded decider over real files: decisions, reasons, fail-closed cases, hot reload that
// keeps the old policy when the new one is broken, and the runtime data overlay.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "policy/decider.h"
#include "policy/store.h"

namespace mcpgw::policy {
namespace {

namespace fs = std::filesystem;

constexpr const char* kPolicy = R"(package mcp.authz

default allow := false

is_admin if "admin" in input.user.roles

emergency if data.mcp.emergency.deny_all

allow if {
  is_admin
  not emergency
}

reasons contains "admin role required" if not is_admin

reasons contains "tool disabled by emergency deny" if emergency

not_boolean := "yes"
)";

constexpr const char* kEmergency = R"({"emergency": {"deny_all": false, "tools": []}})";

class EmbeddedTest : public testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "policy-embedded-XXXXXX").string();
    dir_ = ::mkdtemp(tmpl.data());
    fs::create_directories(dir_ / "policies");
    fs::create_directories(dir_ / "data" / "mcp");
    Write("policies/authz.rego", kPolicy);
    Write("data/mcp/emergency.json", kEmergency);
    loop_ = io::NewLoop();
    cfg_.mode = config::PolicyConfig::Mode::kEmbedded;
    cfg_.paths = {(dir_ / "policies").string(), (dir_ / "data").string()};
    cfg_.reload_interval_ms = 0;
  }
  void TearDown() override {
    if (decider_) decider_->Stop();
    fs::remove_all(dir_);
  }

  void Write(const std::string& rel, const std::string& text) {
    // Write then rename: a reader never sees half a file, and the inode changes.
    fs::path tmp = dir_ / (rel + ".tmp~");
    {
      std::ofstream out(tmp, std::ios::binary);
      out << text;
    }
    fs::rename(tmp, dir_ / rel);
  }

  Decider& Make() {
    decider_ = NewEmbeddedDecider(*loop_, cfg_);
    Status s = decider_->Start();
    EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.error().message);
    return *decider_;
  }

  Decision Decide(const std::vector<std::string>& roles) {
    rego::Array r;
    for (const auto& role : roles) r.push_back(rego::Value::String(role));
    auto input = rego::MakeObject(
        {{"user", rego::MakeObject({{"sub", rego::Value::String("alice")},
                                    {"roles", rego::Value::FromArray(std::move(r))}})}});
    std::optional<Decision> got;
    decider_->Decide(input, [&](Decision d) { got = std::move(d); });
    EXPECT_TRUE(got.has_value()) << "the embedded decider answers inline";
    return got.value_or(Decision{});
  }

  void RunFor(int ms) {
    loop_->After(io::Millis(ms), [this] { loop_->Stop(); });
    loop_->Run();
  }

  fs::path dir_;
  std::unique_ptr<io::Loop> loop_;
  config::PolicyConfig cfg_;
  std::unique_ptr<Decider> decider_;
};

TEST_F(EmbeddedTest, AllowsAndDeniesWithReasons) {
  Make();
  EXPECT_TRUE(decider_->Ready());
  EXPECT_STREQ(decider_->backend(), "embedded");
  Decision admin = Decide({"admin"});
  EXPECT_TRUE(admin.allow);
  EXPECT_TRUE(admin.reasons.empty());
  EXPECT_EQ(admin.decision_id.size(), 32u);
  Decision user = Decide({"user"});
  EXPECT_FALSE(user.allow);
  EXPECT_FALSE(user.error);
  EXPECT_EQ(user.reasons, std::vector<std::string>{"admin role required"});
  EXPECT_NE(user.decision_id, admin.decision_id);
}

TEST_F(EmbeddedTest, DecideManyAnswersInOrder) {
  Make();
  std::vector<rego::Value> items;
  for (const char* role : {"admin", "user", "admin"}) {
    items.push_back(rego::MakeObject(
        {{"user",
          rego::MakeObject({{"roles", rego::Value::FromArray({rego::Value::String(role)})}})}}));
  }
  std::vector<Decision> got;
  decider_->DecideMany(rego::Value::EmptyObject(), items,
                       [&](std::vector<Decision> d) { got = std::move(d); });
  ASSERT_EQ(got.size(), 3u);
  EXPECT_TRUE(got[0].allow);
  EXPECT_FALSE(got[1].allow);
  EXPECT_TRUE(got[2].allow);
}

TEST_F(EmbeddedTest, UndefinedAndNonBooleanDecisionsDeny) {
  cfg_.decision_path = "mcp/authz/nothing_here";
  Make();
  Decision d = Decide({"admin"});
  EXPECT_FALSE(d.allow);
  EXPECT_TRUE(d.error);
  EXPECT_EQ(d.reasons, std::vector<std::string>{kUnavailableReason});
  cfg_.decision_path = "mcp/authz/not_boolean";
  Make();
  d = Decide({"admin"});
  EXPECT_FALSE(d.allow);
  EXPECT_TRUE(d.error);
}

TEST_F(EmbeddedTest, BrokenPolicyStopsStartUp) {
  Write("policies/authz.rego", "package mcp.authz\n\nallow if {\n");
  decider_ = NewEmbeddedDecider(*loop_, cfg_);
  Status s = decider_->Start();
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("authz.rego"), std::string::npos) << s.error().message;
  EXPECT_FALSE(decider_->Ready());
  Decision d = Decide({"admin"});
  EXPECT_FALSE(d.allow);
  EXPECT_TRUE(d.error);
}

TEST_F(EmbeddedTest, ReloadKeepsTheOldPolicyWhenTheNewOneIsBroken) {
  Make();
  Write("policies/authz.rego", "package mcp.authz\n\nallow if {\n");  // syntax error
  decider_->Reload();
  EXPECT_TRUE(Decide({"admin"}).allow) << "the previous policy keeps serving";
  EXPECT_NE(decider_->Describe().find("rejected"), std::string::npos) << decider_->Describe();
  // A fixed file is picked up: now everyone is allowed.
  Write("policies/authz.rego", "package mcp.authz\n\nallow := true\n");
  decider_->Reload();
  EXPECT_TRUE(Decide({"user"}).allow);
  EXPECT_EQ(decider_->Describe().find("rejected"), std::string::npos) << decider_->Describe();
}

TEST_F(EmbeddedTest, FileChangesArePickedUpByTheTimer) {
  cfg_.reload_interval_ms = 20;
  Make();
  EXPECT_FALSE(Decide({"user"}).allow);
  // A new file in a watched directory counts too.
  Write("policies/extra.rego", "package mcp.authz\n\nallow if \"user\" in input.user.roles\n");
  RunFor(150);
  EXPECT_TRUE(Decide({"user"}).allow);
  fs::remove(dir_ / "policies" / "extra.rego");
  RunFor(150);
  EXPECT_FALSE(Decide({"user"}).allow);
}

TEST_F(EmbeddedTest, RuntimeDataOverlay) {
  Make();
  auto on = rego::MakeObject({{"deny_all", rego::Value::True()}});
  std::optional<Status> set;
  decider_->SetData("mcp/emergency", on, [&](Status s) { set = std::move(s); });
  ASSERT_TRUE(set.has_value());
  ASSERT_TRUE(set->ok()) << set->error().message;
  Decision d = Decide({"admin"});
  EXPECT_FALSE(d.allow);
  EXPECT_EQ(d.reasons, std::vector<std::string>{"tool disabled by emergency deny"});
  // A reload of unrelated files keeps the runtime data...
  Write("policies/other.rego", "package other\n\nx := 1\n");
  decider_->Reload();
  EXPECT_FALSE(Decide({"admin"}).allow);
  // ...a change of the file data under it wins (the most recent change).
  Write("data/mcp/emergency.json", R"({"emergency": {"deny_all": false, "tools": ["x"]}})");
  decider_->Reload();
  EXPECT_TRUE(Decide({"admin"}).allow);
}

TEST_F(EmbeddedTest, ObserverIsToldOfLoadsRejectionsAndDataChanges) {
  std::vector<PolicyEvent> events;
  decider_ = NewEmbeddedDecider(*loop_, cfg_);
  decider_->SetObserver([&](const PolicyEvent& e) { events.push_back(e); });
  ASSERT_TRUE(decider_->Start().ok());
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, PolicyEvent::Kind::kReloaded);
  EXPECT_EQ(events[0].trigger, "start");
  EXPECT_EQ(events[0].generation, 1u);
  EXPECT_EQ(events[0].files, 2u);
  EXPECT_EQ(events[0].modules, 1u);

  Write("policies/authz.rego", "package mcp.authz\n\nallow if {\n");
  decider_->Reload();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[1].kind, PolicyEvent::Kind::kRejected);
  EXPECT_EQ(events[1].trigger, "sighup");
  EXPECT_NE(events[1].error.find("authz.rego"), std::string::npos) << events[1].error;
  EXPECT_EQ(events[1].generation, 1u) << "the old policy keeps serving";

  decider_->SetData("mcp/emergency", rego::MakeObject({{"deny_all", rego::Value::True()}}),
                    nullptr);
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[2].kind, PolicyEvent::Kind::kReloaded);
  EXPECT_EQ(events[2].trigger, "data");
  EXPECT_EQ(events[2].path, "mcp/emergency");
  EXPECT_EQ(events[2].generation, 2u);
  // A data change that cannot be applied changes nothing and is not reported.
  decider_->SetData("mcp/emergency/deny_all/x", rego::Value::True(), nullptr);
  EXPECT_EQ(events.size(), 3u);
}

TEST_F(EmbeddedTest, ObserverIsToldOfWatchedReloads) {
  cfg_.reload_interval_ms = 20;
  std::vector<PolicyEvent> events;
  decider_ = NewEmbeddedDecider(*loop_, cfg_);
  decider_->SetObserver([&](const PolicyEvent& e) { events.push_back(e); });
  ASSERT_TRUE(decider_->Start().ok());
  Write("policies/extra.rego", "package mcp.authz\n\nallow if \"user\" in input.user.roles\n");
  RunFor(150);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[1].kind, PolicyEvent::Kind::kReloaded);
  EXPECT_EQ(events[1].trigger, "watch");
  EXPECT_EQ(events[1].files, 3u);
  EXPECT_EQ(events[1].modules, 2u);
  Write("policies/extra.rego", "package mcp.authz\n\nallow if {\n");
  RunFor(150);
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[2].kind, PolicyEvent::Kind::kRejected);
  EXPECT_EQ(events[2].trigger, "watch");
  EXPECT_FALSE(events[2].error.empty());
}

TEST(PolicyStoreData, WithValueAtCreatesAndRemoves) {
  auto root = rego::Value::ParseJson(R"({"a": {"b": 1}, "s": "x"})");
  ASSERT_TRUE(root.ok());
  auto set = WithValueAt(*root, {"a", "c", "d"}, rego::Value::Int(2));
  ASSERT_TRUE(set.ok());
  EXPECT_EQ(set->ToJson(), R"({"a":{"b":1,"c":{"d":2}},"s":"x"})");
  auto del = WithValueAt(*set, {"a", "b"}, std::nullopt);
  ASSERT_TRUE(del.ok());
  EXPECT_EQ(del->ToJson(), R"({"a":{"c":{"d":2}},"s":"x"})");
  EXPECT_FALSE(WithValueAt(*root, {"s", "t"}, rego::Value::Int(1)).ok());
  EXPECT_FALSE(WithValueAt(*root, {"nope"}, std::nullopt).ok());
  EXPECT_FALSE(WithValueAt(*root, {}, rego::Value::Int(1)).ok());
  EXPECT_EQ(ValueAt(*root, {"a", "b"}), rego::Value::Int(1));
  EXPECT_FALSE(ValueAt(*root, {"a", "x"}).has_value());
}

}  // namespace
}  // namespace mcpgw::policy
