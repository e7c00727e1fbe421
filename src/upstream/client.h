// One upstream MCP server as the gateway sees it: a transport plus the MCP client side of the
// protocol — initialize handshake, request ids and their callbacks, per-request timeouts, the
// server's catalog (tools, prompts, resources, templates), restart with exponential backoff.
//
// Thread-safety: loop thread only. Owned by the gateway; callbacks never outlive it.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>

#include "config/config.h"
#include "http/http.h"
#include "io/loop.h"
#include "json/json.h"
#include "jsonrpc/jsonrpc.h"
#include "upstream/process.h"
#include "upstream/transport.h"

namespace mcpgw::upstream {

enum class State { kStarting, kReady, kDown, kStopped };
const char* ToString(State s);

struct Catalog {
  json::array tools, prompts, resources, resource_templates;
  json::object capabilities;  // the server's
  json::object server_info;
  std::string instructions;
  std::string protocol_version;
};

class McpClient {
 public:
  struct Hooks {
    // State or catalog changed (ready, down, list refreshed).
    std::function<void()> on_change;
    // Notifications and server->client requests from the upstream (pings are answered here).
    std::function<void(jsonrpc::Message&&, std::optional<int64_t> related)> on_notification;
    std::function<void(jsonrpc::Message&&, std::optional<int64_t> related)> on_request;
  };
  // The response message object ({"result": ...} or {"error": ...}), or a gateway-side failure
  // (timeout, upstream exited, not ready) as an Error with a JSON-RPC code.
  using Callback = std::function<void(Result<json::object>)>;

  McpClient(io::Loop& loop, Spawner& spawner, http::Client& http_client,
            const config::ServerConfig& server, int64_t default_timeout_ms, Hooks hooks);
  ~McpClient();

  void Start();
  void Stop(std::function<void()> done);

  // Sends a request; returns the upstream-side id (for cancellation and progress routing).
  int64_t Call(std::string_view method, const json::value& params, Callback cb,
               int64_t timeout_ms = 0);
  // Sends notifications/cancelled for an outstanding request and drops its callback.
  void Cancel(int64_t id, std::string_view reason);
  void Notify(std::string_view method, const json::value& params);
  // Answers a server->client request that came in through Hooks::on_request.
  void SendResponse(std::string serialized);

  const std::string& name() const { return server_.name; }
  const config::ServerConfig& server_config() const { return server_; }
  State state() const { return state_; }
  const Catalog& catalog() const { return catalog_; }
  const std::string& last_error() const { return last_error_; }
  size_t in_flight() const { return pending_.size(); }
  int restarts() const { return restarts_; }
  bool HasCapability(std::string_view name) const { return catalog_.capabilities.contains(name); }

 private:
  struct Pending {
    Callback cb;
    io::TimerId timer = 0;
  };

  void Connect();
  void OnMessage(jsonrpc::Message&& msg, std::optional<int64_t> related);
  void OnClosed(const std::string& reason);
  void Initialize();
  void RefreshLists();
  void FetchList(const std::string& method, const std::string& key, json::array acc,
                 const std::string& cursor, uint64_t generation,
                 std::function<void(json::array)> done);
  void ScheduleRestart();
  void FailAllPending(int code, const std::string& why);
  int64_t SendRequest(std::string_view method, const json::value& params, Callback cb,
                      int64_t timeout_ms, bool queue = false);
  void FlushQueued();

  io::Loop& loop_;
  Spawner& spawner_;
  http::Client& http_client_;
  const config::ServerConfig& server_;
  int64_t default_timeout_ms_;
  Hooks hooks_;
  std::unique_ptr<Transport> transport_;
  State state_ = State::kStopped;
  Catalog catalog_;
  std::unordered_map<int64_t, Pending> pending_;
  // Calls made while the upstream was starting, sent once it is ready (or failed with it).
  std::vector<std::pair<int64_t, std::string>> queued_;
  int64_t next_id_ = 0;
  uint64_t generation_ = 0;  // bumps on every (re)connect; stale callbacks check it
  int64_t backoff_ms_;
  io::TimerId restart_timer_ = 0;
  int restarts_ = 0;
  std::string last_error_;
  bool stopping_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace mcpgw::upstream
