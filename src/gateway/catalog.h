// The merged view of every upstream's tools, prompts, resources and templates, and the mapping
// from the names clients see back to (server, original name). Rebuilt whenever an upstream
// becomes ready, goes down or reports list_changed; read on every list and call.
//
// Names clients see are valid for every MCP client we know: 1-64 characters of [A-Za-z0-9_-].
// Prefixing (`<server><sep><name>`) follows config::PrefixMode.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "json/json.h"

namespace mcpgw::gateway {

// What one upstream contributes; plain data so the catalog is testable without processes.
struct UpstreamLists {
  std::string server;
  json::array tools, prompts, resources, resource_templates;
  std::vector<std::string> tools_allow, tools_deny;
  // false: the server is down or restarting. Nothing of it is listed, but the names its tools
  // (its last list) had are remembered: see Catalog::ServerOfUnavailableTool.
  bool ready = true;
};

struct Target {
  std::string server;
  std::string name;  // the upstream's own name
};

// Maps `name` to a client-safe name: invalid characters become '_', and names longer than 64
// are cut and given a hash suffix so distinct long names stay distinct.
std::string SafeName(std::string_view name);

class Catalog {
 public:
  void Rebuild(const std::vector<UpstreamLists>& upstreams, config::PrefixMode mode,
               const std::string& separator);

  const json::array& tools() const { return tools_; }
  const json::array& prompts() const { return prompts_; }
  const json::array& resources() const { return resources_; }
  const json::array& resource_templates() const { return templates_; }

  const Target* FindTool(std::string_view exposed) const;
  // The server of a tool that is not listed only because that server is down (the name it had
  // when listed, as if every server were up); "" when there is none: the tool is unknown.
  std::string ServerOfUnavailableTool(std::string_view exposed) const;
  const Target* FindPrompt(std::string_view exposed) const;
  // The server that owns a resource URI: an exact listed resource, else the server whose
  // template matches, else "" (unknown).
  std::string ServerForUri(std::string_view uri) const;

  // A fingerprint of what clients see, to tell whether a list_changed is worth forwarding.
  const std::string& tools_fingerprint() const { return tools_fp_; }
  const std::string& prompts_fingerprint() const { return prompts_fp_; }
  const std::string& resources_fingerprint() const { return resources_fp_; }

 private:
  json::array tools_, prompts_, resources_, templates_;
  std::map<std::string, Target, std::less<>> tool_map_, prompt_map_;
  std::map<std::string, std::string, std::less<>> unavailable_tools_;  // exposed name -> server
  std::map<std::string, std::string, std::less<>> uri_map_;
  std::vector<std::pair<std::string, std::string>> template_servers_;  // uriTemplate, server
  std::string tools_fp_, prompts_fp_, resources_fp_;
};

// RFC 6570 level 1-ish match: literal text must match, each {var} matches one or more
// characters other than '/' ({+var} and {/var...} forms match anything).
bool UriTemplateMatches(std::string_view tmpl, std::string_view uri);

}  // namespace mcpgw::gateway
