#include "upstream/client.h"

#include "common/log.h"

namespace mcpgw::upstream {
namespace {

constexpr const char* kPreferredVersion = "2025-11-25";

bool SupportedVersion(std::string_view v) {
  return v == "2025-11-25" || v == "2025-06-18" || v == "2025-03-26" || v == "2024-11-05";
}

}  // namespace

const char* ToString(State s) {
  switch (s) {
    case State::kStarting:
      return "starting";
    case State::kReady:
      return "ready";
    case State::kDown:
      return "down";
    default:
      return "stopped";
  }
}

McpClient::McpClient(io::Loop& loop, Spawner& spawner, http::Client& http_client,
                     const config::ServerConfig& server, int64_t default_timeout_ms, Hooks hooks)
    : loop_(loop),
      spawner_(spawner),
      http_client_(http_client),
      server_(server),
      default_timeout_ms_(server.request_timeout_ms > 0 ? server.request_timeout_ms
                                                        : default_timeout_ms),
      hooks_(std::move(hooks)),
      backoff_ms_(server.restart_initial_backoff_ms) {}

McpClient::~McpClient() {
  for (auto& [id, p] : pending_) loop_.Cancel(p.timer);
  loop_.Cancel(restart_timer_);
}

void McpClient::Start() {
  stopping_ = false;
  Connect();
}

void McpClient::Connect() {
  ++generation_;
  state_ = State::kStarting;
  transport_ = server_.transport == config::Transport::kStdio
                   ? NewStdioTransport(loop_, spawner_, server_)
                   : NewHttpTransport(loop_, http_client_, server_);
  Transport::Callbacks cb;
  cb.on_message = [this](jsonrpc::Message&& m, std::optional<int64_t> rel) {
    OnMessage(std::move(m), rel);
  };
  cb.on_closed = [this](const std::string& reason) { OnClosed(reason); };
  cb.on_session_lost = [this](const std::string& undelivered) {
    // Re-initialize, then deliver what the upstream refused (the caller keeps waiting).
    std::weak_ptr<bool> alive = alive_;
    auto gen = generation_;
    state_ = State::kStarting;
    Initialize();
    auto retry = [this, alive, gen, undelivered]() {
      if (alive.expired() || gen != generation_) return;
      auto parsed = jsonrpc::Parse(undelivered);
      int64_t id = parsed.ok() && parsed->kind == jsonrpc::Kind::kRequest && parsed->id().is_int64()
                       ? parsed->id().as_int64()
                       : -1;
      transport_->Send(undelivered, id);
    };
    loop_.After(io::Millis(50), retry);
  };
  Status st = transport_->Start(std::move(cb));
  if (!st.ok()) {
    last_error_ = st.error().message;
    log::Error("upstream failed to start", {{"server", server_.name}, {"error", last_error_}});
    state_ = State::kDown;
    FailAllPending(jsonrpc::kUpstreamError,
                   "upstream '" + server_.name + "' failed to start: " + last_error_);
    if (hooks_.on_change) hooks_.on_change();
    ScheduleRestart();
    return;
  }
  Initialize();
}

void McpClient::Initialize() {
  json::object params;
  params["protocolVersion"] = kPreferredVersion;
  json::object caps;
  caps["sampling"] = json::object();
  caps["elicitation"] = json::object();
  json::object roots;
  roots["listChanged"] = true;
  caps["roots"] = std::move(roots);
  params["capabilities"] = std::move(caps);
  json::object info;
  info["name"] = "mcpgw";
  info["version"] = "0.1.0";
  params["clientInfo"] = std::move(info);
  auto gen = generation_;
  SendRequest(
      "initialize", std::move(params),
      [this, gen](Result<json::object> r) {
        if (gen != generation_) return;
        std::string err;
        if (!r.ok()) {
          err = r.error().message;
        } else if (const json::object* e = json::FindObject(*r, "error")) {
          err = "initialize refused: " + std::string(json::FindString(*e, "message"));
        } else if (const json::object* res = json::FindObject(*r, "result")) {
          std::string version(json::FindString(*res, "protocolVersion"));
          if (!SupportedVersion(version)) {
            err = "upstream speaks unsupported protocol version '" + version + "'";
          } else {
            catalog_.protocol_version = version;
            if (auto* c = json::FindObject(*res, "capabilities")) catalog_.capabilities = *c;
            if (auto* i = json::FindObject(*res, "serverInfo")) catalog_.server_info = *i;
            catalog_.instructions = std::string(json::FindString(*res, "instructions"));
            transport_->SetProtocolVersion(version);
            Notify("notifications/initialized", nullptr);
            transport_->Initialized();
            RefreshLists();
            return;
          }
        } else {
          err = "initialize: malformed response";
        }
        last_error_ = err;
        log::Error("upstream initialize failed", {{"server", server_.name}, {"error", err}});
        state_ = State::kDown;
        FailAllPending(jsonrpc::kUpstreamError,
                       "upstream '" + server_.name + "' failed to initialize: " + err);
        if (hooks_.on_change) hooks_.on_change();
        transport_->Stop(nullptr);
        ScheduleRestart();
      },
      std::min<int64_t>(default_timeout_ms_, 30000));
}

void McpClient::RefreshLists() {
  auto gen = generation_;
  struct Acc {
    int remaining = 0;
    Catalog next;
  };
  auto acc = std::make_shared<Acc>();
  acc->next.capabilities = catalog_.capabilities;
  acc->next.server_info = catalog_.server_info;
  acc->next.instructions = catalog_.instructions;
  acc->next.protocol_version = catalog_.protocol_version;
  struct Want {
    const char* cap;
    const char* method;
    const char* key;
    json::array Catalog::*field;
  };
  static const Want kWants[] = {
      {"tools", "tools/list", "tools", &Catalog::tools},
      {"prompts", "prompts/list", "prompts", &Catalog::prompts},
      {"resources", "resources/list", "resources", &Catalog::resources},
      {"resources", "resources/templates/list", "resourceTemplates", &Catalog::resource_templates},
  };
  std::vector<const Want*> todo;
  for (const auto& w : kWants) {
    if (HasCapability(w.cap)) todo.push_back(&w);
  }
  auto finish = [this, gen, acc] {
    if (gen != generation_) return;
    catalog_ = std::move(acc->next);
    bool was_ready = state_ == State::kReady;
    state_ = State::kReady;
    backoff_ms_ = server_.restart_initial_backoff_ms;
    last_error_.clear();
    if (!was_ready) {
      log::Info("upstream ready", {{"server", server_.name},
                                   {"protocol_version", catalog_.protocol_version},
                                   {"tools", static_cast<int64_t>(catalog_.tools.size())},
                                   {"prompts", static_cast<int64_t>(catalog_.prompts.size())},
                                   {"resources", static_cast<int64_t>(catalog_.resources.size())}});
    }
    if (hooks_.on_change) hooks_.on_change();
    FlushQueued();
  };
  if (todo.empty()) return finish();
  acc->remaining = static_cast<int>(todo.size());
  for (const Want* w : todo) {
    FetchList(w->method, w->key, {}, "", gen, [acc, w, finish](json::array items) {
      acc->next.*(w->field) = std::move(items);
      if (--acc->remaining == 0) finish();
    });
  }
}

void McpClient::FetchList(const std::string& method, const std::string& key, json::array acc,
                          const std::string& cursor, uint64_t gen,
                          std::function<void(json::array)> done) {
  json::object params;
  if (!cursor.empty()) params["cursor"] = cursor;
  SendRequest(
      method, std::move(params),
      [this, method, key, acc = std::move(acc), gen, done](Result<json::object> r) mutable {
        if (gen != generation_) return;
        const json::object* res = r.ok() ? json::FindObject(*r, "result") : nullptr;
        if (!res) {
          log::Warn("upstream list failed", {{"server", server_.name}, {"method", method}});
          return done(std::move(acc));
        }
        if (const json::array* items = json::FindArray(*res, key)) {
          for (const auto& it : *items) {
            if (it.is_object()) acc.push_back(it);
          }
        }
        std::string next(json::FindString(*res, "nextCursor"));
        if (!next.empty() && acc.size() < 100000) {
          return FetchList(method, key, std::move(acc), next, gen, std::move(done));
        }
        done(std::move(acc));
      },
      default_timeout_ms_);
}

int64_t McpClient::Call(std::string_view method, const json::value& params, Callback cb,
                        int64_t timeout_ms) {
  if (state_ == State::kStarting && !stopping_) {
    return SendRequest(method, params, std::move(cb), timeout_ms, /*queue=*/true);
  }
  if (state_ != State::kReady) {
    std::string why = "upstream '" + server_.name + "' is " + ToString(state_) +
                      (last_error_.empty() ? "" : ": " + last_error_);
    loop_.Post([cb = std::move(cb), why] { cb(MakeError(why, jsonrpc::kUpstreamError)); });
    return -1;
  }
  return SendRequest(method, params, std::move(cb), timeout_ms);
}

int64_t McpClient::SendRequest(std::string_view method, const json::value& params, Callback cb,
                               int64_t timeout_ms, bool queue) {
  int64_t id = ++next_id_;
  if (timeout_ms <= 0) timeout_ms = default_timeout_ms_;
  Pending p;
  p.cb = std::move(cb);
  std::weak_ptr<bool> alive = alive_;
  std::string m(method);
  p.timer = loop_.After(io::Millis(timeout_ms), [this, alive, id, m, timeout_ms] {
    if (alive.expired()) return;
    auto it = pending_.find(id);
    if (it == pending_.end()) return;
    auto cb = std::move(it->second.cb);
    pending_.erase(it);
    json::object params;
    params["requestId"] = id;
    params["reason"] = "timeout";
    Notify("notifications/cancelled", std::move(params));
    cb(MakeError("upstream '" + server_.name + "' did not answer " + m + " within " +
                     std::to_string(timeout_ms) + " ms",
                 jsonrpc::kRequestTimeout));
  });
  pending_.emplace(id, std::move(p));
  std::string wire = jsonrpc::MakeRequest(json::value(id), method, params);
  if (queue) {
    queued_.emplace_back(id, std::move(wire));
  } else {
    transport_->Send(std::move(wire), id);
  }
  return id;
}

void McpClient::FlushQueued() {
  auto queued = std::move(queued_);
  queued_.clear();
  for (auto& [id, wire] : queued) {
    if (pending_.count(id)) transport_->Send(std::move(wire), id);  // skip cancelled/timed out
  }
}

void McpClient::Cancel(int64_t id, std::string_view reason) {
  auto it = pending_.find(id);
  if (it == pending_.end()) return;
  loop_.Cancel(it->second.timer);
  pending_.erase(it);
  json::object params;
  params["requestId"] = id;
  if (!reason.empty()) params["reason"] = reason;
  Notify("notifications/cancelled", std::move(params));
}

void McpClient::Notify(std::string_view method, const json::value& params) {
  if (!transport_) return;
  transport_->Send(jsonrpc::MakeNotification(method, params), -1);
}

void McpClient::SendResponse(std::string serialized) {
  if (transport_ && state_ != State::kStopped) transport_->Send(std::move(serialized), -1);
}

void McpClient::OnMessage(jsonrpc::Message&& msg, std::optional<int64_t> related) {
  switch (msg.kind) {
    case jsonrpc::Kind::kResponse: {
      const json::value& id = msg.id();
      if (!id.is_int64()) return;
      auto it = pending_.find(id.as_int64());
      if (it == pending_.end()) return;  // late answer to a timed-out or cancelled request
      loop_.Cancel(it->second.timer);
      auto cb = std::move(it->second.cb);
      pending_.erase(it);
      cb(std::move(msg.obj()));
      return;
    }
    case jsonrpc::Kind::kRequest:
      if (msg.method == "ping") {
        SendResponse(jsonrpc::MakeResult(msg.id(), json::object()));
        return;
      }
      if (hooks_.on_request) {
        hooks_.on_request(std::move(msg), related);
      } else {
        SendResponse(
            jsonrpc::MakeErrorResponse(msg.id(), jsonrpc::kMethodNotFound, "not supported"));
      }
      return;
    case jsonrpc::Kind::kNotification:
      if (msg.method == "notifications/tools/list_changed" ||
          msg.method == "notifications/prompts/list_changed" ||
          msg.method == "notifications/resources/list_changed") {
        if (state_ == State::kReady) RefreshLists();
      }
      if (hooks_.on_notification) hooks_.on_notification(std::move(msg), related);
      return;
  }
}

void McpClient::OnClosed(const std::string& reason) {
  if (stopping_) return;
  last_error_ = reason;
  log::Error("upstream connection lost", {{"server", server_.name},
                                          {"error", reason},
                                          {"in_flight", static_cast<int64_t>(pending_.size())}});
  state_ = State::kDown;
  ++generation_;
  FailAllPending(jsonrpc::kUpstreamError,
                 "upstream '" + server_.name + "' " + reason + " before answering");
  if (hooks_.on_change) hooks_.on_change();
  ScheduleRestart();
}

void McpClient::FailAllPending(int code, const std::string& why) {
  queued_.clear();
  auto pending = std::move(pending_);
  pending_.clear();
  for (auto& [id, p] : pending) {
    loop_.Cancel(p.timer);
    p.cb(MakeError(why, code));
  }
}

void McpClient::ScheduleRestart() {
  if (stopping_) return;
  int64_t delay = backoff_ms_;
  backoff_ms_ = std::min<int64_t>(backoff_ms_ * 2, server_.restart_max_backoff_ms);
  log::Info("upstream restart scheduled", {{"server", server_.name}, {"in_ms", delay}});
  std::weak_ptr<bool> alive = alive_;
  restart_timer_ = loop_.After(io::Millis(delay), [this, alive] {
    if (alive.expired() || stopping_) return;
    ++restarts_;
    // The old transport may still hold a dead process; it is replaced here.
    Connect();
  });
}

void McpClient::Stop(std::function<void()> done) {
  stopping_ = true;
  loop_.Cancel(restart_timer_);
  FailAllPending(jsonrpc::kUpstreamError, "gateway is shutting down");
  state_ = State::kStopped;
  if (transport_) {
    transport_->Stop(std::move(done));
  } else if (done) {
    loop_.Post(std::move(done));
  }
}

}  // namespace mcpgw::upstream
