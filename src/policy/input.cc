#include "policy/input.h"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <map>

namespace mcpgw::policy {
namespace {

rego::Value Strings(const std::vector<std::string>& items) {
  rego::Array a;
  a.reserve(items.size());
  for (const auto& s : items) a.push_back(rego::Value::String(s));
  return rego::Value::FromArray(std::move(a));
}

rego::Value Str(const std::string& s) { return rego::Value::String(s); }

}  // namespace

rego::Value FromJson(const json::value& j) {
  switch (j.kind()) {
    case boost::json::kind::null:
      return {};
    case boost::json::kind::bool_:
      return rego::Value::Bool(j.get_bool());
    case boost::json::kind::int64:
      return rego::Value::Int(j.get_int64());
    case boost::json::kind::uint64: {
      uint64_t u = j.get_uint64();
      if (u <= static_cast<uint64_t>(INT64_MAX)) return rego::Value::Int(static_cast<int64_t>(u));
      return rego::Value::Double(static_cast<double>(u));
    }
    case boost::json::kind::double_:
      return rego::Value::Double(j.get_double());
    case boost::json::kind::string:
      return rego::Value::String(std::string(j.get_string()));
    case boost::json::kind::array: {
      rego::Array a;
      a.reserve(j.get_array().size());
      for (const auto& e : j.get_array()) a.push_back(FromJson(e));
      return rego::Value::FromArray(std::move(a));
    }
    case boost::json::kind::object: {
      rego::Object o;
      for (const auto& kv : j.get_object()) {
        o.insert_or_assign(rego::Value::String(std::string(kv.key())), FromJson(kv.value()));
      }
      return rego::Value::FromObject(std::move(o));
    }
  }
  return {};
}

std::string Rfc3339(int64_t unix_ns) {
  std::time_t secs = static_cast<std::time_t>(unix_ns / 1000000000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return buf;
}

int64_t WallNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

rego::Value UserValue(const Subject& s) {
  return rego::MakeObject({{"sub", Str(s.sub)},
                           {"roles", Strings(s.roles)},
                           {"scopes", Strings(s.scopes)},
                           {"groups", Strings(s.groups)},
                           {"tenant", Str(s.tenant)},
                           {"client_id", Str(s.client_id)},
                           {"authenticated", rego::Value::Bool(s.authenticated)}});
}

namespace {

// A list decision builds one resource per item: the keys, and the empty values most items
// share, are made once.
const rego::Value& Key(std::string_view k) {
  static const auto* keys = [] {
    auto* m = new std::map<std::string, rego::Value, std::less<>>();  // NOLINT: never freed
    for (const char* name : {"action", "kind", "labels", "name", "path", "prompt", "resource",
                             "server", "tenant", "tool", "uri"}) {
      m->emplace(name, rego::Value::String(name));
    }
    return m;
  }();
  return keys->find(k)->second;
}

rego::Value MaybeEmpty(const std::string& s) {
  static const rego::Value kEmpty = rego::Value::String("");
  return s.empty() ? kEmpty : rego::Value::String(s);
}

rego::Value ResourceValue(const Resource& res) {
  static const rego::Value kNoLabels = rego::Value::FromArray({});
  rego::Object resource;
  // In key order, so that every insertion goes at the end.
  auto put = [&](std::string_view key, rego::Value v) {
    resource.emplace_hint(resource.end(), Key(key), std::move(v));
  };
  put("action", MaybeEmpty(res.action));
  put("kind", MaybeEmpty(res.kind));
  put("labels", res.labels.empty() ? kNoLabels : Strings(res.labels));
  put("name", MaybeEmpty(res.name));
  if (!res.prompt.empty()) put("prompt", Str(res.prompt));
  put("server", MaybeEmpty(res.server));
  put("tenant", MaybeEmpty(res.tenant));
  if (!res.tool.empty()) put("tool", Str(res.tool));
  if (!res.uri.empty()) put("uri", Str(res.uri));
  return rego::Value::FromObject(std::move(resource));
}

}  // namespace

rego::Value ListItem(const std::string& path, const Resource& res) {
  rego::Object item;
  item.emplace_hint(item.end(), Key("path"), Str(path));
  item.emplace_hint(item.end(), Key("resource"), ResourceValue(res));
  return rego::Value::FromObject(std::move(item));
}

rego::Value WithItem(const rego::Value& base, const rego::Value& item) {
  static const rego::Object kNone;
  return rego::WithMembers(base, item.is_object() ? item.object() : kNone);
}

rego::Value BuildInput(const Request& r, const rego::Value& user, const Resource& res) {
  rego::Object in;
  auto set = [&](std::string_view key, rego::Value v) {
    in.insert_or_assign(rego::Value::String(std::string(key)), std::move(v));
  };
  set("method", Str(r.method));
  set("path", Str(r.path));
  set("mcp_method", Str(r.mcp_method));
  set("list", rego::Value::Bool(r.list));
  set("user", user);
  set("resource", ResourceValue(res));
  if (r.args && !r.list && !r.args->is_null()) set("args", FromJson(*r.args));
  set("session", Str(r.session));
  set("env", Str(r.env));
  set("network", rego::MakeObject({{"ip", Str(r.ip)}}));
  set("time", rego::MakeObject(
                  {{"now_ns", rego::Value::Int(r.now_ns)}, {"rfc3339", Str(Rfc3339(r.now_ns))}}));
  return rego::Value::FromObject(std::move(in));
}

}  // namespace mcpgw::policy
