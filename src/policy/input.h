// The policy input document (docs/policy.md), built by the gateway for every decision:
//
//   {"method", "path", "mcp_method", "list",
//    "user": {"sub", "roles", "scopes", "groups", "tenant", "client_id", "authenticated"},
//    "resource": {"kind", "server", "tenant", "tool", "name", "uri", "action", "labels"},
//    "args", "session", "env", "network": {"ip"}, "time": {"now_ns", "rfc3339"}}
//
// `user` is built once per request (UserValue); the items of a list share the request's input.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "json/json.h"
#include "rego/value.h"

namespace mcpgw::policy {

struct Subject {
  std::string sub = "anonymous";
  std::vector<std::string> roles, scopes, groups;
  std::string tenant, client_id;
  bool authenticated = false;
};

struct Resource {
  std::string kind;    // tool | prompt | resource | api
  std::string server;  // upstream server name ("" for api)
  std::string tenant;  // the server's tenant ("" = shared)
  std::string tool;    // exposed tool name (kind tool)
  std::string prompt;  // exposed prompt name (kind prompt)
  std::string name;    // the upstream's own tool/prompt name; the endpoint for kind api
  std::string uri;     // kind resource
  std::string action;  // from config, "" when not configured
  std::vector<std::string> labels;
};

struct Request {
  std::string method = "POST";  // HTTP method
  std::string path;             // /tools/<t>/invoke, /prompts/<p>/get, /resources/read, /api/...
  std::string mcp_method;       // tools/call, prompts/get, resources/read, ..., or "api"
  bool list = false;            // visibility in a list response (no args)
  const json::value* args = nullptr;  // tools/call or prompts/get arguments; absent if null
  std::string session;
  std::string env;
  std::string ip;
  int64_t now_ns = 0;  // wall clock
};

rego::Value UserValue(const Subject& subject);
rego::Value BuildInput(const Request& request, const rego::Value& user, const Resource& resource);
// One item of a list: the input members in which it differs from the list request's input (a
// BuildInput result), {"path", "resource"}. The embedded engine evaluates a list as one batch
// of these (rego::Policy::EvalPathBatch); WithItem puts an item's input together.
rego::Value ListItem(const std::string& path, const Resource& resource);
// `base` with the members of `item` put in: the input document of one list item.
rego::Value WithItem(const rego::Value& base, const rego::Value& item);

// JSON to a Rego value (numbers that do not fit int64 become doubles).
rego::Value FromJson(const json::value& v);

// "2026-11-25T14:00:00Z" (UTC, whole seconds).
std::string Rfc3339(int64_t unix_ns);

// Nanoseconds since the epoch, now.
int64_t WallNanos();

}  // namespace mcpgw::policy
