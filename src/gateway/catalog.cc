#include "gateway/catalog.h"

#include <algorithm>
#include <set>

#include "common/log.h"

namespace mcpgw::gateway {
namespace {

constexpr size_t kMaxNameLength = 64;

uint64_t Fnv1a(std::string_view s) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return h;
}

bool Allowed(const UpstreamLists& u, std::string_view name) {
  if (!u.tools_allow.empty() &&
      std::find(u.tools_allow.begin(), u.tools_allow.end(), name) == u.tools_allow.end()) {
    return false;
  }
  return std::find(u.tools_deny.begin(), u.tools_deny.end(), name) == u.tools_deny.end();
}

// Merges one kind of named item (tools or prompts) across the ready upstreams, or with
// `with_down` across all of them and without logging (the names down servers' items had).
void MergeNamed(const std::vector<UpstreamLists>& ups, json::array UpstreamLists::*field,
                bool filter, config::PrefixMode mode, const std::string& sep, json::array* out,
                std::map<std::string, Target, std::less<>>* map, bool with_down = false) {
  std::map<std::string, int> count;
  for (const auto& u : ups) {
    if (!u.ready && !with_down) continue;
    for (const auto& item : u.*field) {
      std::string_view name = json::FindString(item.get_object(), "name");
      if (!name.empty() && (!filter || Allowed(u, name))) ++count[std::string(name)];
    }
  }
  for (const auto& u : ups) {
    if (!u.ready && !with_down) continue;
    for (const auto& item : u.*field) {
      std::string name(json::FindString(item.get_object(), "name"));
      if (name.empty() || (filter && !Allowed(u, name))) continue;
      bool prefix = mode == config::PrefixMode::kAlways ||
                    (mode == config::PrefixMode::kOnConflict && count[name] > 1);
      std::string prefixed = u.server;
      prefixed += sep;
      prefixed += name;
      std::string exposed = SafeName(prefix ? prefixed : name);
      if (map->count(exposed)) {
        // Same name twice with prefixing off, or two names that sanitize alike.
        std::string fallback = SafeName(prefixed);
        if (map->count(fallback)) {
          if (!with_down)
            log::Warn("dropping duplicate name", {{"server", u.server}, {"name", name}});
          continue;
        }
        if (!with_down) {
          log::Warn("name clash; exposing under the server prefix",
                    {{"server", u.server}, {"name", name}, {"exposed", fallback}});
        }
        exposed = fallback;
      }
      json::object copy = item.get_object();
      copy["name"] = exposed;
      out->push_back(std::move(copy));
      map->emplace(exposed, Target{u.server, name});
    }
  }
}

}  // namespace

std::string SafeName(std::string_view name) {
  std::string out;
  out.reserve(name.size());
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-';
    out += ok ? c : '_';
  }
  if (out.empty()) out = "_";
  if (out.size() > kMaxNameLength || out != name) {
    if (out.size() > kMaxNameLength) {
      char suffix[10];
      std::snprintf(suffix, sizeof suffix, "_%08x",
                    static_cast<unsigned>(Fnv1a(name) & 0xffffffffu));
      out = out.substr(0, kMaxNameLength - 9) + suffix;
    }
  }
  return out;
}

void Catalog::Rebuild(const std::vector<UpstreamLists>& ups, config::PrefixMode mode,
                      const std::string& sep) {
  tools_.clear();
  prompts_.clear();
  resources_.clear();
  templates_.clear();
  tool_map_.clear();
  prompt_map_.clear();
  uri_map_.clear();
  template_servers_.clear();
  unavailable_tools_.clear();
  MergeNamed(ups, &UpstreamLists::tools, true, mode, sep, &tools_, &tool_map_);
  MergeNamed(ups, &UpstreamLists::prompts, false, mode, sep, &prompts_, &prompt_map_);
  std::set<std::string, std::less<>> down;
  for (const auto& u : ups) {
    if (!u.ready) down.insert(u.server);
  }
  if (!down.empty()) {
    json::array all_tools;
    std::map<std::string, Target, std::less<>> all_map;
    MergeNamed(ups, &UpstreamLists::tools, true, mode, sep, &all_tools, &all_map, true);
    for (const auto& [exposed, target] : all_map) {
      if (down.count(target.server) && !tool_map_.count(exposed)) {
        unavailable_tools_.emplace(exposed, target.server);
      }
    }
  }
  for (const auto& u : ups) {
    if (!u.ready) continue;
    for (const auto& r : u.resources) {
      std::string uri(json::FindString(r.get_object(), "uri"));
      if (uri.empty()) continue;
      if (!uri_map_.emplace(uri, u.server).second) {
        log::Warn("resource URI offered by two servers; the first wins",
                  {{"uri", uri}, {"server", u.server}});
        continue;
      }
      resources_.push_back(r);
    }
    for (const auto& t : u.resource_templates) {
      std::string tmpl(json::FindString(t.get_object(), "uriTemplate"));
      if (tmpl.empty()) continue;
      template_servers_.emplace_back(tmpl, u.server);
      templates_.push_back(t);
    }
  }
  tools_fp_ = json::Serialize(tools_);
  prompts_fp_ = json::Serialize(prompts_);
  resources_fp_ = json::Serialize(resources_) + json::Serialize(templates_);
}

const Target* Catalog::FindTool(std::string_view exposed) const {
  auto it = tool_map_.find(exposed);
  return it == tool_map_.end() ? nullptr : &it->second;
}

std::string Catalog::ServerOfUnavailableTool(std::string_view exposed) const {
  auto it = unavailable_tools_.find(exposed);
  return it == unavailable_tools_.end() ? "" : it->second;
}

const Target* Catalog::FindPrompt(std::string_view exposed) const {
  auto it = prompt_map_.find(exposed);
  return it == prompt_map_.end() ? nullptr : &it->second;
}

std::string Catalog::ServerForUri(std::string_view uri) const {
  auto it = uri_map_.find(uri);
  if (it != uri_map_.end()) return it->second;
  for (const auto& [tmpl, server] : template_servers_) {
    if (UriTemplateMatches(tmpl, uri)) return server;
  }
  return "";
}

bool UriTemplateMatches(std::string_view tmpl, std::string_view uri) {
  size_t t = 0, u = 0;
  while (t < tmpl.size()) {
    if (tmpl[t] == '{') {
      size_t close = tmpl.find('}', t);
      if (close == std::string_view::npos) return false;
      std::string_view expr = tmpl.substr(t + 1, close - t - 1);
      bool reserved = !expr.empty() && (expr[0] == '+' || expr[0] == '/' || expr[0] == '#');
      t = close + 1;
      // Up to the next literal character of the template (or the end).
      char stop = t < tmpl.size() && tmpl[t] != '{' ? tmpl[t] : '\0';
      size_t start = u;
      while (u < uri.size() && uri[u] != stop && (reserved || uri[u] != '/')) ++u;
      if (u == start && !reserved) return false;
    } else {
      if (u >= uri.size() || uri[u] != tmpl[t]) return false;
      ++t;
      ++u;
    }
  }
  return u == uri.size();
}

}  // namespace mcpgw::gateway
