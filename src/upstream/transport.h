// How the gateway talks to one upstream MCP server: newline-delimited JSON-RPC over a child's
// stdio, or MCP Streamable HTTP. The MCP session logic above (McpClient) is the same for both.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "config/config.h"
#include "http/http.h"
#include "io/loop.h"
#include "jsonrpc/jsonrpc.h"
#include "upstream/process.h"

namespace mcpgw::upstream {

class Transport {
 public:
  struct Callbacks {
    // A message from the upstream. `related` is the id of the gateway's request whose HTTP
    // response stream carried it (Streamable HTTP only): exact routing for server->client traffic.
    std::function<void(jsonrpc::Message&&, std::optional<int64_t> related)> on_message;
    // The connection is gone (stdio: the process exited). Pending requests will not be answered.
    std::function<void(std::string reason)> on_closed;
    // Streamable HTTP: the upstream forgot our session (404). The message was not delivered.
    std::function<void(std::string undelivered)> on_session_lost;
  };
  virtual ~Transport() = default;
  virtual Status Start(Callbacks cb) = 0;
  // Sends one serialized message; `request_id` >= 0 for requests (HTTP maps failures to it).
  virtual void Send(std::string message, int64_t request_id) = 0;
  // After initialize: the negotiated version (sent as MCP-Protocol-Version over HTTP) and a
  // signal that the session is open (HTTP opens its GET stream).
  virtual void SetProtocolVersion(std::string version) = 0;
  virtual void Initialized() = 0;
  virtual void Stop(std::function<void()> done) = 0;
  virtual std::string Describe() const = 0;
  virtual int64_t pid() const { return 0; }
};

std::unique_ptr<Transport> NewStdioTransport(io::Loop& loop, Spawner& spawner,
                                             const config::ServerConfig& server);
std::unique_ptr<Transport> NewHttpTransport(io::Loop& loop, http::Client& client,
                                            const config::ServerConfig& server);

}  // namespace mcpgw::upstream
