#include "authserver/key_store.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace mcpgw::authserver {
namespace {

namespace fs = std::filesystem;

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "authserver-keys-XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data());
  }
  ~TempDir() { fs::remove_all(path_); }
  std::string sub(const std::string& name) const { return (fs::path(path_) / name).string(); }

 private:
  std::string path_;
};

int Mode(const std::string& path) {
  struct stat st {};
  ::stat(path.c_str(), &st);
  return static_cast<int>(st.st_mode & 0777);
}

std::vector<std::string> JwksKids(const KeyStore& store, int64_t now) {
  std::vector<std::string> kids;
  json::object jwks = store.Jwks(now);
  for (const auto& k : *json::FindArray(jwks, "keys")) {
    kids.emplace_back(json::FindString(k.as_object(), "kid"));
  }
  return kids;
}

constexpr int64_t kNow = 1700000000;
constexpr int64_t kOverlap = 3600;

TEST(KeyStore, CreatesTheDirectoryAndAKeyThenKeepsIt) {
  TempDir tmp;
  std::string dir = tmp.sub("nested/keys");
  auto store = KeyStore::Open(dir, Alg::kES256, kOverlap, kNow);
  ASSERT_TRUE(store.ok()) << store.error().message;
  std::string kid = (*store)->active().kid();
  EXPECT_EQ(Mode(dir), 0700);
  EXPECT_EQ(Mode(dir + "/" + kid + ".pem"), 0600);
  EXPECT_EQ(Mode(dir + "/keys.json"), 0600);
  EXPECT_EQ(JwksKids(**store, kNow), std::vector<std::string>{kid});

  // A restart finds the same key: tokens signed before it still verify.
  auto again = KeyStore::Open(dir, Alg::kES256, kOverlap, kNow + 10);
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ((*again)->active().kid(), kid);
}

TEST(KeyStore, RotationKeepsThePreviousKeyForTheOverlapThenRetiresIt) {
  TempDir tmp;
  std::string dir = tmp.sub("keys");
  auto store = KeyStore::Open(dir, Alg::kEdDSA, kOverlap, kNow);
  ASSERT_TRUE(store.ok());
  std::string first = (*store)->active().kid();

  // Another process (the rotate-keys command) rotates; the server notices.
  auto rotated = KeyStore::Rotate(dir, Alg::kEdDSA, kOverlap, kNow + 100);
  ASSERT_TRUE(rotated.ok()) << rotated.error().message;
  EXPECT_NE(rotated->kid, first);
  auto changed = (*store)->ReloadIfChanged();
  ASSERT_TRUE(changed.ok()) << changed.error().message;
  EXPECT_TRUE(*changed);
  EXPECT_EQ((*store)->active().kid(), rotated->kid);
  EXPECT_FALSE(*(*store)->ReloadIfChanged());  // nothing new since

  auto keys = (*store)->keys();
  ASSERT_EQ(keys.size(), 2u);
  EXPECT_EQ(keys[0].kid, rotated->kid);
  EXPECT_FALSE(keys[0].retire_after.has_value());
  EXPECT_EQ(keys[1].kid, first);
  EXPECT_EQ(keys[1].retire_after, kNow + 100 + kOverlap);

  // During the overlap both keys are published, the new one first; afterwards only the new one.
  EXPECT_EQ(JwksKids(**store, kNow + 200), (std::vector<std::string>{rotated->kid, first}));
  EXPECT_EQ(JwksKids(**store, kNow + 100 + kOverlap), std::vector<std::string>{rotated->kid});

  // The next rotation after retirement deletes the retired key's PEM.
  auto third = KeyStore::Rotate(dir, Alg::kEdDSA, kOverlap, kNow + 100 + kOverlap + 1);
  ASSERT_TRUE(third.ok());
  EXPECT_FALSE(fs::exists(dir + "/" + first + ".pem"));
  EXPECT_TRUE(fs::exists(dir + "/" + rotated->kid + ".pem"));
  ASSERT_TRUE((*store)->ReloadIfChanged().ok());
  EXPECT_EQ((*store)->keys().size(), 2u);
  EXPECT_EQ((*store)->active().kid(), third->kid);
}

TEST(KeyStore, ChangingTheAlgorithmRotatesToAKeyOfThatType) {
  TempDir tmp;
  std::string dir = tmp.sub("keys");
  auto rs = KeyStore::Open(dir, Alg::kRS256, kOverlap, kNow);
  ASSERT_TRUE(rs.ok());
  auto es = KeyStore::Open(dir, Alg::kES256, kOverlap, kNow + 1);
  ASSERT_TRUE(es.ok()) << es.error().message;
  EXPECT_EQ((*es)->active().alg(), Alg::kES256);
  // The RS256 key stays published for the overlap.
  EXPECT_EQ(JwksKids(**es, kNow + 2).size(), 2u);
}

TEST(KeyStore, ABrokenManifestIsAnErrorAndAReloadKeepsTheCurrentKeys) {
  TempDir tmp;
  std::string dir = tmp.sub("keys");
  auto store = KeyStore::Open(dir, Alg::kRS256, kOverlap, kNow);
  ASSERT_TRUE(store.ok());
  std::string kid = (*store)->active().kid();
  {
    std::ofstream out(dir + "/keys.json", std::ios::trunc);
    out << "{not json";
  }
  auto reload = (*store)->ReloadIfChanged();
  EXPECT_FALSE(reload.ok());
  EXPECT_EQ((*store)->active().kid(), kid);
  EXPECT_FALSE(KeyStore::Open(dir, Alg::kRS256, kOverlap, kNow).ok());
}

TEST(KeyStore, AMissingActivePemIsAnError) {
  TempDir tmp;
  std::string dir = tmp.sub("keys");
  auto store = KeyStore::Open(dir, Alg::kES256, kOverlap, kNow);
  ASSERT_TRUE(store.ok());
  fs::remove(dir + "/" + (*store)->active().kid() + ".pem");
  auto again = KeyStore::Open(dir, Alg::kES256, kOverlap, kNow);
  ASSERT_FALSE(again.ok());
  EXPECT_NE(again.error().message.find(".pem"), std::string::npos) << again.error().message;
}

}  // namespace
}  // namespace mcpgw::authserver
