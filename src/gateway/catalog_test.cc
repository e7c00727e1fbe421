#include "gateway/catalog.h"

#include <gtest/gtest.h>

namespace mcpgw::gateway {
namespace {

json::object Named(std::string_view name) {
  json::object o;
  o["name"] = name;
  o["description"] = "d";
  return o;
}

UpstreamLists Server(std::string name, std::vector<std::string> tools) {
  UpstreamLists u;
  u.server = std::move(name);
  for (auto& t : tools) u.tools.push_back(Named(t));
  return u;
}

std::vector<std::string> ToolNames(const Catalog& c) {
  std::vector<std::string> out;
  for (const auto& t : c.tools()) out.emplace_back(json::FindString(t.get_object(), "name"));
  return out;
}

TEST(Catalog, OnConflictPrefixesOnlyClashingNames) {
  Catalog c;
  c.Rebuild({Server("a", {"echo", "add"}), Server("b", {"echo", "read_file"})},
            config::PrefixMode::kOnConflict, "__");
  EXPECT_EQ(ToolNames(c), (std::vector<std::string>{"a__echo", "add", "b__echo", "read_file"}));
  ASSERT_NE(c.FindTool("b__echo"), nullptr);
  EXPECT_EQ(c.FindTool("b__echo")->server, "b");
  EXPECT_EQ(c.FindTool("b__echo")->name, "echo");
  EXPECT_EQ(c.FindTool("echo"), nullptr);
}

TEST(Catalog, AlwaysAndNever) {
  Catalog c;
  c.Rebuild({Server("a", {"echo"}), Server("b", {"x"})}, config::PrefixMode::kAlways, "__");
  EXPECT_EQ(ToolNames(c), (std::vector<std::string>{"a__echo", "b__x"}));
  c.Rebuild({Server("a", {"echo"}), Server("b", {"echo"})}, config::PrefixMode::kNever, "__");
  // never: the second clash still has to be reachable, so it falls back to the prefix.
  EXPECT_EQ(ToolNames(c), (std::vector<std::string>{"echo", "b__echo"}));
}

TEST(Catalog, AllowAndDenyLists) {
  auto a = Server("a", {"read", "write", "delete"});
  a.tools_allow = {"read", "write"};
  a.tools_deny = {"write"};
  Catalog c;
  c.Rebuild({a}, config::PrefixMode::kOnConflict, "__");
  EXPECT_EQ(ToolNames(c), std::vector<std::string>{"read"});
  EXPECT_EQ(c.FindTool("delete"), nullptr);
}

TEST(Catalog, ToolsOfADownServerAreUnavailableNotListed) {
  auto b = Server("b", {"echo", "write", "secret"});
  b.tools_deny = {"secret"};
  b.ready = false;
  Catalog c;
  c.Rebuild({Server("a", {"echo"}), b}, config::PrefixMode::kOnConflict, "__");
  // Listed: a's tools only, named as if b were not there.
  EXPECT_EQ(ToolNames(c), std::vector<std::string>{"echo"});
  EXPECT_EQ(c.ServerOfUnavailableTool("echo"), "");  // a's, and listed
  EXPECT_EQ(c.FindTool("echo")->server, "a");
  // b's tools under the names they had beside a's: the clash prefixed both echos.
  EXPECT_EQ(c.ServerOfUnavailableTool("b__echo"), "b");
  EXPECT_EQ(c.ServerOfUnavailableTool("write"), "b");
  EXPECT_EQ(c.ServerOfUnavailableTool("a__echo"), "");  // a is up: not b's
  EXPECT_EQ(c.ServerOfUnavailableTool("secret"), "");   // denied by configuration
  EXPECT_EQ(c.ServerOfUnavailableTool("nope"), "");
  // Back up: listed again, nothing unavailable.
  b.ready = true;
  c.Rebuild({Server("a", {"echo"}), b}, config::PrefixMode::kOnConflict, "__");
  EXPECT_EQ(ToolNames(c), (std::vector<std::string>{"a__echo", "b__echo", "write"}));
  EXPECT_EQ(c.ServerOfUnavailableTool("b__echo"), "");
}

TEST(Catalog, NamesAreKeptValidForClients) {
  EXPECT_EQ(SafeName("get.weather/now"), "get_weather_now");
  std::string long_a(80, 'a');
  std::string long_b = std::string(79, 'a') + "b";
  std::string sa = SafeName(long_a), sb = SafeName(long_b);
  EXPECT_EQ(sa.size(), 64u);
  EXPECT_EQ(sb.size(), 64u);
  EXPECT_NE(sa, sb);
  Catalog c;
  c.Rebuild({Server("srv", {"weird name!"})}, config::PrefixMode::kAlways, "__");
  EXPECT_EQ(ToolNames(c), std::vector<std::string>{"srv__weird_name_"});
  EXPECT_EQ(c.FindTool("srv__weird_name_")->name, "weird name!");
}

TEST(Catalog, ResourcesRouteByUriAndTemplate) {
  UpstreamLists a;
  a.server = "a";
  json::object r;
  r["uri"] = "test://static-text";
  a.resources.push_back(r);
  json::object t;
  t["uriTemplate"] = "test://template/{id}/data";
  a.resource_templates.push_back(t);
  UpstreamLists b;
  b.server = "b";
  json::object t2;
  t2["uriTemplate"] = "file:///{+path}";
  b.resource_templates.push_back(t2);
  Catalog c;
  c.Rebuild({a, b}, config::PrefixMode::kOnConflict, "__");
  EXPECT_EQ(c.ServerForUri("test://static-text"), "a");
  EXPECT_EQ(c.ServerForUri("test://template/42/data"), "a");
  EXPECT_EQ(c.ServerForUri("file:///tmp/x/y.txt"), "b");
  EXPECT_EQ(c.ServerForUri("nope://x"), "");
}

TEST(UriTemplate, Matching) {
  EXPECT_TRUE(UriTemplateMatches("test://template/{id}/data", "test://template/abc/data"));
  EXPECT_FALSE(UriTemplateMatches("test://template/{id}/data", "test://template/a/b/data"));
  EXPECT_FALSE(UriTemplateMatches("test://template/{id}/data", "test://template//data"));
  EXPECT_TRUE(UriTemplateMatches("demo://resource/{id}", "demo://resource/7"));
  EXPECT_TRUE(UriTemplateMatches("file://{+path}", "file:///a/b"));
}

}  // namespace
}  // namespace mcpgw::gateway
