#include "common/log.h"
#include "sse/sse.h"
#include "upstream/transport.h"

namespace mcpgw::upstream {
namespace {

class HttpTransport : public Transport {
 public:
  HttpTransport(io::Loop& loop, http::Client& client, const config::ServerConfig& server)
      : loop_(loop), client_(client), server_(server) {}

  ~HttpTransport() override { StopAll(); }

  Status Start(Callbacks cb) override {
    cb_ = std::move(cb);
    session_id_.clear();
    protocol_version_.clear();
    stopped_ = false;
    return {};
  }

  void Send(std::string message, int64_t request_id) override {
    http::Headers h = BaseHeaders();
    h.push_back({"content-type", "application/json"});
    h.push_back({"accept", "application/json, text/event-stream"});
    auto state = std::make_shared<CallState>();
    state->request_id = request_id;
    state->message = message;
    uint64_t key = ++next_call_;
    http::ClientCallbacks ccb;
    ccb.on_head = [this, state](const http::ClientResponseHead& head) {
      state->status = head.status;
      std::string_view sid = http::FindHeader(head.headers, "mcp-session-id");
      if (!sid.empty() && session_id_.empty()) session_id_ = std::string(sid);
      std::string_view ct = http::FindHeader(head.headers, "content-type");
      state->sse = ct.find("text/event-stream") != std::string_view::npos;
    };
    ccb.on_body = [this, state](std::string_view data) {
      if (state->status >= 200 && state->status < 300 && state->sse) {
        state->parser.Feed(data,
                           [this, state](sse::Event&& ev) { Deliver(ev.data, state->request_id); });
      } else if (state->body.size() < (16 << 20)) {
        state->body.append(data);
      }
    };
    ccb.on_done = [this, state, key](const Status& st) {
      calls_.erase(key);
      if (stopped_) return;
      if (!st.ok())
        return FailRequest(state->request_id,
                           "upstream " + server_.name + ": " + st.error().message);
      // 404 is the spec's answer for a session the server no longer knows; some servers answer
      // 400 ("no valid session") instead.
      bool lost = state->status == 404 ||
                  (state->status == 400 && state->body.find("ession") != std::string::npos);
      if (lost && !session_id_.empty()) {
        log::Warn("upstream lost our session; re-initializing", {{"server", server_.name}});
        session_id_.clear();
        if (cb_.on_session_lost) cb_.on_session_lost(state->message);
        return;
      }
      if (state->status == 202 || state->status == 204) return;  // notification/response accepted
      if (state->status < 200 || state->status >= 300) {
        return FailRequest(state->request_id, "upstream " + server_.name + " answered HTTP " +
                                                  std::to_string(state->status));
      }
      if (!state->sse && !state->body.empty()) Deliver(state->body, state->request_id);
    };
    auto call = client_.Send("POST", server_.url, std::move(h), std::move(message), io::Millis(0),
                             std::move(ccb));
    if (call) calls_[key] = call;
  }

  void SetProtocolVersion(std::string version) override { protocol_version_ = std::move(version); }

  void Initialized() override { OpenGetStream(); }

  void Stop(std::function<void()> done) override {
    bool had_session = !session_id_.empty();
    http::Headers h = BaseHeaders();
    StopAll();
    if (had_session) {
      // Tell the upstream the session is over; do not wait long for it.
      client_.Send("DELETE", server_.url, std::move(h), "", io::Millis(1000), {});
    }
    if (done) loop_.Post(std::move(done));
  }

  std::string Describe() const override { return server_.url; }

 private:
  struct CallState {
    int64_t request_id = -1;
    int status = 0;
    bool sse = false;
    std::string body;
    std::string message;
    sse::Parser parser;
  };

  http::Headers BaseHeaders() const {
    http::Headers h;
    for (const auto& [k, v] : server_.headers) {
      std::string name = k;
      for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      h.push_back({name, v});
    }
    if (!session_id_.empty()) h.push_back({"mcp-session-id", session_id_});
    if (!protocol_version_.empty()) h.push_back({"mcp-protocol-version", protocol_version_});
    return h;
  }

  void Deliver(std::string_view text, int64_t related) {
    if (text.empty()) return;  // SSE priming event
    std::optional<int64_t> rel;
    if (related >= 0) rel = related;
    for (auto& msg : jsonrpc::ParseMessages(text)) {  // a 2025-03-26 server may batch
      if (!msg.ok()) {
        log::Warn("upstream sent an invalid message",
                  {{"server", server_.name}, {"error", msg.error().message}});
        continue;
      }
      if (cb_.on_message) cb_.on_message(std::move(msg).value(), rel);
    }
  }

  void FailRequest(int64_t request_id, const std::string& why) {
    if (request_id < 0) {
      log::Warn("upstream did not take a message", {{"server", server_.name}, {"error", why}});
      return;
    }
    auto msg = jsonrpc::Parse(
        jsonrpc::MakeErrorResponse(json::value(request_id), jsonrpc::kUpstreamError, why));
    if (msg.ok() && cb_.on_message) cb_.on_message(std::move(msg).value(), std::nullopt);
  }

  // The standalone GET stream carries the upstream's own notifications (list_changed, updates).
  void OpenGetStream() {
    if (stopped_ || get_call_) return;
    http::Headers h = BaseHeaders();
    h.push_back({"accept", "text/event-stream"});
    auto parser = std::make_shared<sse::Parser>();
    auto status = std::make_shared<int>(0);
    http::ClientCallbacks ccb;
    ccb.on_head = [status](const http::ClientResponseHead& head) { *status = head.status; };
    ccb.on_body = [this, parser, status](std::string_view data) {
      if (*status != 200) return;
      parser->Feed(data, [this](sse::Event&& ev) { Deliver(ev.data, -1); });
    };
    ccb.on_done = [this, status](const Status&) {
      get_call_.reset();
      if (stopped_ || session_id_.empty()) return;
      if (*status == 405 || *status == 404 || *status == 400) return;  // no GET stream offered
      get_retry_ = loop_.After(io::Millis(1000), [this] { OpenGetStream(); });
    };
    get_call_ = client_.Send("GET", server_.url, std::move(h), "", io::Millis(0), std::move(ccb));
  }

  void StopAll() {
    stopped_ = true;
    loop_.Cancel(get_retry_);
    if (get_call_) get_call_->Cancel();
    get_call_.reset();
    auto calls = std::move(calls_);
    for (auto& [k, c] : calls) c->Cancel();
  }

  io::Loop& loop_;
  http::Client& client_;
  const config::ServerConfig& server_;
  Callbacks cb_;
  std::string session_id_;
  std::string protocol_version_;
  std::map<uint64_t, std::shared_ptr<http::ClientCall>> calls_;
  uint64_t next_call_ = 0;
  std::shared_ptr<http::ClientCall> get_call_;
  io::TimerId get_retry_ = 0;
  bool stopped_ = false;
};

}  // namespace

std::unique_ptr<Transport> NewHttpTransport(io::Loop& loop, http::Client& client,
                                            const config::ServerConfig& server) {
  return std::make_unique<HttpTransport>(loop, client, server);
}

}  // namespace mcpgw::upstream
