#include "rego/loader.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "common/temp_dir.h"

namespace mcpgw::rego {
namespace {

namespace fs = std::filesystem;

class LoaderTest : public ::testing::Test {
 protected:
  std::string Write(const std::string& rel, const std::string& text) {
    return dir_.Write(rel, text);
  }
  std::string Path(const std::string& rel = "") const { return dir_.Path(rel); }
  static Value Json(const std::string& text) {
    auto v = Value::ParseJson(text);
    EXPECT_TRUE(v.ok()) << text;
    return v.ok() ? *v : Value();
  }

  TempDir dir_{"rego_loader_"};
};

TEST_F(LoaderTest, RegoFilesBecomeModulesInNameOrder) {
  Write("b.rego", "package b\n");
  Write("a.rego", "package a\n");
  Write("sub/c.rego", "package c\n");
  auto r = LoadPaths({Path()});
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->modules.size(), 3u);
  EXPECT_EQ(r->modules[0].filename, Path("a.rego"));
  EXPECT_EQ(r->modules[0].text, "package a\n");
  EXPECT_EQ(r->modules[1].filename, Path("b.rego"));
  EXPECT_EQ(r->modules[2].filename, Path("sub/c.rego"));
  EXPECT_EQ(r->data, Value::EmptyObject());
  EXPECT_EQ(r->files.size(), 3u);
}

TEST_F(LoaderTest, DataIsMergedAtTheDirectoryPath) {
  Write("data.json", R"({"top": 1})");
  Write("a/b/data.json", R"({"x": [1, 2]})");
  Write("a/b/more.json", R"({"y": true})");
  Write("a/c/data.yaml", "roles:\n  - admin\n  - 'dev'\nlimit: 10\n");
  auto r = LoadPaths({Path()});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->data, Json(R"({"top": 1, "a": {"b": {"x": [1, 2], "y": true},
                              "c": {"roles": ["admin", "dev"], "limit": 10}}})"));
  EXPECT_TRUE(r->modules.empty());
  EXPECT_EQ(r->files.size(), 4u);
}

TEST_F(LoaderTest, FileGivenDirectlyIsMergedAtTheRoot) {
  std::string f = Write("deep/dir/users.json", R"({"users": {"alice": {"admin": true}}})");
  auto r = LoadPaths({f});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->data, Json(R"({"users": {"alice": {"admin": true}}})"));
  EXPECT_EQ(r->files, std::vector<std::string>{f});
}

TEST_F(LoaderTest, RootsAreRelativeToEachArgument) {
  Write("p1/x/data.json", R"({"a": 1})");
  Write("p2/x/data.json", R"({"b": 2})");
  auto r = LoadPaths({Path("p1"), Path("p2")});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->data, Json(R"({"x": {"a": 1, "b": 2}})"));
}

TEST_F(LoaderTest, NonObjectDocumentBelowTheRootIsKept) {
  Write("list/data.json", "[1, 2, 3]");
  auto r = LoadPaths({Path()});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->data, Json(R"({"list": [1, 2, 3]})"));
}

TEST_F(LoaderTest, NonObjectDocumentAtTheRootIsAnError) {
  std::string f = Write("data.json", "[1]");
  auto r = LoadPaths({f});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("data.json"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("object"), std::string::npos) << r.error().message;
}

TEST_F(LoaderTest, HiddenEntriesAndOtherFilesAreSkipped) {
  Write(".hidden.rego", "package hidden\n");
  Write(".git/config.json", R"({"x": 1})");
  Write("README.md", "# not data\n");
  Write("bundle.tar.gz", "binary");
  Write("p.rego", "package p\n");
  auto r = LoadPaths({Path()});
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->modules.size(), 1u);
  EXPECT_EQ(r->modules[0].text, "package p\n");
  EXPECT_EQ(r->data, Value::EmptyObject());
  EXPECT_EQ(r->files.size(), 1u);
}

TEST_F(LoaderTest, ConflictingValuesNameBothFiles) {
  std::string a = Write("one.json", R"({"limits": {"max": 1}})");
  std::string b = Write("two.json", R"({"limits": {"max": 2}})");
  auto r = LoadPaths({Path()});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find(a), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find(b), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("data.limits.max"), std::string::npos) << r.error().message;
}

TEST_F(LoaderTest, ObjectAgainstScalarConflicts) {
  std::string a = Write("x/data.json", R"({"k": {"deep": 1}})");
  std::string b = Write("y.json", R"({"x": {"k": 5}})");
  auto r = LoadPaths({Path()});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find(a), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find(b), std::string::npos) << r.error().message;
}

TEST_F(LoaderTest, EqualValuesDoNotConflict) {
  Write("one.json", R"({"v": 1, "o": {"a": 1}})");
  Write("two.json", R"({"v": 1, "o": {"b": 2}})");
  auto r = LoadPaths({Path()});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->data, Json(R"({"v": 1, "o": {"a": 1, "b": 2}})"));
}

TEST_F(LoaderTest, FileReachedTwiceIsLoadedOnce) {
  std::string p = Write("p.rego", "package p\n");
  Write("d.json", R"({"x": 1})");
  auto r = LoadPaths({Path(), p, Path()});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->modules.size(), 1u);
  EXPECT_EQ(r->files.size(), 2u);
  EXPECT_EQ(r->data, Json(R"({"x": 1})"));
}

TEST_F(LoaderTest, MissingPathIsAnError) {
  auto r = LoadPaths({Path("nope")});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("nope"), std::string::npos);
}

TEST_F(LoaderTest, InvalidJsonNamesTheFile) {
  std::string f = Write("bad.json", "{\"a\": ");
  auto r = LoadPaths({Path()});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find(f), std::string::npos) << r.error().message;
}

TEST_F(LoaderTest, InvalidYamlNamesTheFile) {
  std::string f = Write("bad.yaml", "a: [1, 2\n");
  auto r = LoadPaths({Path()});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find(f), std::string::npos) << r.error().message;
}

TEST_F(LoaderTest, UnknownFileTypeGivenDirectlyIsAnError) {
  std::string f = Write("notes.txt", "x");
  auto r = LoadPaths({f});
  EXPECT_FALSE(r.ok());
}

TEST_F(LoaderTest, YamlScalarsFollowTheCoreSchema) {
  Write("d.yml",
        "n: ~\n"
        "e:\n"
        "b1: true\n"
        "b2: False\n"
        "i: -42\n"
        "h: 0x1F\n"
        "f: 1.5\n"
        "exp: 1e3\n"
        "s: hello world\n"
        "q: \"true\"\n"
        "yes_is_string: yes\n"
        "ver: 1.2.3\n"
        "1: numeric key\n"
        "nested: {a: [1, {b: null}]}\n");
  auto r = LoadPaths({Path()});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->data, Json(R"({"n": null, "e": null, "b1": true, "b2": false, "i": -42,
                              "h": 31, "f": 1.5, "exp": 1000, "s": "hello world", "q": "true",
                              "yes_is_string": "yes", "ver": "1.2.3", "1": "numeric key",
                              "nested": {"a": [1, {"b": null}]}})"));
}

TEST_F(LoaderTest, EmptyYamlContributesNothing) {
  Write("empty.yaml", "");
  Write("comment.yaml", "# nothing here\n");
  auto r = LoadPaths({Path()});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->data, Value::EmptyObject());
  EXPECT_EQ(r->files.size(), 2u);
}

TEST_F(LoaderTest, DirectoryWithDotsInItsNameIsOneKey) {
  Write("example.com/data.json", R"({"ok": true})");
  auto r = LoadPaths({Path()});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->data, Json(R"({"example.com": {"ok": true}})"));
}

TEST_F(LoaderTest, SymlinkLoopDoesNotHang) {
  Write("a/p.rego", "package p\n");
  std::error_code ec;
  fs::create_directory_symlink(fs::path(Path("a")), fs::path(Path("a/loop")), ec);
  if (ec) GTEST_SKIP() << "cannot create symlinks here";
  auto r = LoadPaths({Path()});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->modules.size(), 1u);
}

}  // namespace
}  // namespace mcpgw::rego
