// What the policy store reports when it puts a policy in place or refuses one, for the audit
// trail and logs (the gateway turns these into `policy_reload` / `policy_reload_rejected` rows).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

namespace mcpgw::policy {

struct PolicyEvent {
  enum class Kind { kReloaded, kRejected };
  Kind kind = Kind::kReloaded;
  // What caused it: "start" (the first load), "watch" (the file watcher), "sighup" (Reload),
  // "data" (runtime data written or deleted).
  std::string trigger;
  uint64_t generation = 0;  // kReloaded: the generation now in force
  size_t files = 0;         // kReloaded: files and modules of the policy in force
  size_t modules = 0;
  std::string path;   // trigger "data": the data path changed ("mcp/emergency")
  std::string error;  // kRejected: why the new policy was refused
};

using PolicyObserver = std::function<void(const PolicyEvent&)>;

}  // namespace mcpgw::policy
