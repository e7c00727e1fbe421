// The gateway: the MCP server that clients see at /mcp (Streamable HTTP) and /sse (legacy), and
// the MCP client of every configured upstream. It owns the session table, the merged catalog
// and the routing of every message in both directions.
//
// Thread-safety: everything runs on the io::Loop thread.
#pragma once

#include <functional>
#include <memory>
#include <string_view>

#include "config/config.h"
#include "http/http.h"
#include "io/loop.h"

namespace mcpgw::gateway {

class Gateway {
 public:
  virtual ~Gateway() = default;
  // Starts the upstreams. Returns an error only for problems that make serving pointless
  // (a required server whose command cannot be started).
  virtual Status Start() = 0;
  // The HTTP entry point.
  virtual void Handle(http::Request&& req, std::shared_ptr<http::Responder> res) = 0;
  // Ends every session and stops every upstream; `done` runs when all children are reaped.
  // `reason` (the signal, e.g. "SIGTERM") goes into the service_stop audit event.
  virtual void Shutdown(std::function<void()> done, std::string_view reason) = 0;
  // Re-reads the policy files now (SIGHUP); no-op without an embedded policy.
  virtual void ReloadPolicy() = 0;
  virtual size_t session_count() const = 0;
};

std::unique_ptr<Gateway> NewGateway(io::Loop& loop, const config::Config& config);

}  // namespace mcpgw::gateway
