#include "gateway/gateway.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <ctime>
#include <map>
#include <unordered_map>

#include "auth/authenticator.h"
#include "common/hash.h"
#include "common/log.h"
#include "common/strings.h"
#include "gateway/catalog.h"
#include "gateway/session.h"
#include "history/recorder.h"
#include "jsonrpc/jsonrpc.h"
#include "policy/decider.h"
#include "policy/input.h"
#include "sse/sse.h"
#include "upstream/client.h"

namespace mcpgw::gateway {
namespace {

using Clock = std::chrono::steady_clock;
using jsonrpc::Kind;
using jsonrpc::Message;

constexpr const char* kVersion = "0.1.0";
constexpr const char* kLatestProtocol = "2025-11-25";
constexpr size_t kMaxDetachedStreams = 16;

bool StreamableVersion(std::string_view v) {
  return v == "2025-11-25" || v == "2025-06-18" || v == "2025-03-26";
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Host part of a Host header or an origin URL (no scheme, port or brackets), lowercase.
std::string HostOnly(std::string_view hostport) {
  size_t scheme = hostport.find("://");
  if (scheme != std::string_view::npos) hostport.remove_prefix(scheme + 3);
  size_t slash = hostport.find('/');
  if (slash != std::string_view::npos) hostport = hostport.substr(0, slash);
  if (!hostport.empty() && hostport.front() == '[') {
    size_t close = hostport.find(']');
    return Lower(
        hostport.substr(1, close == std::string_view::npos ? std::string_view::npos : close - 1));
  }
  size_t colon = hostport.rfind(':');
  return Lower(hostport.substr(0, colon));
}

bool IsLoopbackName(std::string_view host) {
  return host == "localhost" || host == "127.0.0.1" || host == "::1";
}

const http::Headers& JsonHeaders() {
  static const http::Headers h = {{"content-type", "application/json"},
                                  {"cache-control", "no-store"}};
  return h;
}

// A client request the gateway forwarded and has not answered yet.
struct InFlight {
  std::string session;
  uint64_t stream = 0;
  json::value client_id;
  std::string server;
  std::string route;  // key of the McpClient in upstreams_: the server, or "server@session"
  int64_t upstream_id = -1;
  std::string method;
  std::string tool;
  std::string progress_token;  // the gateway's token, "" if none
  Clock::time_point start;
  std::string request_id;
  std::string subject;
  int64_t ts_start_us = 0;
  history::CallArguments args;  // redacted and hashed into the history row by its writer
  std::string action;           // the tool's action from config (policy input), "" if none
  std::string decision;         // "allow" with a policy, "" without
  std::string decision_id;
  // The identity the call was decided for (its request's token; it may carry other roles than
  // the token that opened the session): the roles and tenant its history row records.
  std::shared_ptr<const auth::Identity> identity;
};

int64_t WallMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// A server->client request waiting for the client's answer.
struct ServerRequest {
  std::string server;  // route key
  json::value upstream_id;
  std::string session;
};

struct ProgressRoute {
  std::string session;
  uint64_t stream = 0;
  json::value client_token;
};

// A client request waiting for its policy decision (the remote PDP answers asynchronously).
struct PendingCall {
  Message msg;
  std::string server;
  json::object params;     // as they will be forwarded (upstream names)
  std::string target;      // the exposed tool or prompt name, or the resource URI
  std::string request_id;  // the client's X-Request-Id, or ""
  std::string action;
  Clock::time_point start;
  int64_t ts_start_us = 0;
  std::shared_ptr<const auth::Identity> identity;  // of the request (see InFlight::identity)
};

json::array JsonStrings(const std::vector<std::string>& items) {
  json::array a;
  for (const auto& i : items) a.emplace_back(i);
  return a;
}

// `scheme://user:pass@host/...` without `user:pass@` (for audit details).
std::string WithoutUserinfo(const std::string& url) {
  size_t start = url.find("://");
  start = start == std::string::npos ? 0 : start + 3;
  size_t at = url.find('@', start);
  if (at == std::string::npos || at > url.find('/', start)) return url;
  return url.substr(0, start) + url.substr(at + 1);
}

class GatewayImpl : public Gateway {
 public:
  GatewayImpl(io::Loop& loop, const config::Config& cfg)
      : loop_(loop),
        cfg_(cfg),
        spawner_(upstream::NewSpawner(loop)),
        http_client_(http::NewClient(loop)) {
    for (const auto& server : cfg_.servers) {
      upstreams_.emplace(server.name, MakeClient(server, server.name, /*shared=*/true));
      upstream_order_.push_back(server.name);
    }
    if (cfg_.auth.mode == config::AuthConfig::Mode::kOAuth) {
      auth_ = auth::NewAuthenticator(loop_, *http_client_, cfg_.auth);
    }
    for (const auto& server : cfg_.servers) server_cfg_[server.name] = &server;
    decider_ = policy::NewDecider(loop_, *http_client_, cfg_.policy);
    allowed_any_ = std::find(cfg_.allowed_origins.begin(), cfg_.allowed_origins.end(), "*") !=
                   cfg_.allowed_origins.end();
    for (const auto& o : cfg_.allowed_origins) allowed_hosts_.insert(HostOnly(o));
    if (cfg_.listen_host != "0.0.0.0" && cfg_.listen_host != "::")
      allowed_hosts_.insert(HostOnly(cfg_.listen_host));
  }

  Status Start() override {
    started_us_ = WallMicros();
    // Audit events from before the recorder runs (the first policy load) wait for it.
    hold_audit_ = cfg_.history.enabled;
    if (decider_) {
      decider_->SetObserver([this](const policy::PolicyEvent& e) { OnPolicyEvent(e); });
      Status p = decider_->Start();
      if (!p.ok()) return MakeError("policy: " + p.error().message);
      log::Info("policy decisions", {{"pdp", decider_->Describe()}});
    } else {
      log::Warn("policy is off (policy.mode: off): every authenticated caller may use every tool");
    }
    if (cfg_.history.enabled) {
      history::RecorderOptions ro;
      ro.dsn = cfg_.history.dsn;
      ro.durability = cfg_.history.sync ? history::Durability::kSync : history::Durability::kAsync;
      ro.max_queue = static_cast<size_t>(cfg_.history.max_queue);
      ro.sync_busy_poll = std::chrono::microseconds(cfg_.history.sync_busy_poll_us);
      ro.spool_path = cfg_.history.spool;
      for (const auto& k : cfg_.history.redact_keys) ro.redact.keys.push_back(k);
      if (ro.spool_path.empty()) {
        ro.spool_path =
            ro.dsn.rfind("sqlite://", 0) == 0 ? ro.dsn.substr(9) + ".spool" : "data/history.spool";
      }
      auto rec = history::StartRecorder(loop_, ro);
      if (!rec.ok()) return MakeError("history: " + rec.error().message);
      recorder_ = std::move(rec).value();
      log::Info("history recording", {{"durability", cfg_.history.sync ? "sync" : "async"}});
      for (auto& a : held_audit_) recorder_->Audit(std::move(a));
    }
    hold_audit_ = false;
    held_audit_.clear();
    if (auth_) {
      auth_->SetKeyObserver([this](const auth::KeyRotation& r) {
        json::object d;
        d["issuer"] = r.issuer;
        d["jwks_uri"] = r.jwks_uri;
        d["added"] = JsonStrings(r.added);
        d["removed"] = JsonStrings(r.removed);
        Audit("key_rotation", "", "", d);
      });
      auth_->Start();
    }
    for (const auto& name : upstream_order_) upstreams_[name]->Start();
    for (const auto& s : cfg_.servers) {
      auto& up = upstreams_[s.name];
      if (s.required && up->state() == upstream::State::kDown) {
        return MakeError("required server '" + s.name + "' cannot start: " + up->last_error());
      }
    }
    ScheduleSweep();
    serving_ = true;
    Audit("service_start", "", "", ServiceSummary());
    return {};
  }

  // The configuration in force, for the service_start audit event (no secrets: names, modes and
  // the config file's hash, not URLs with credentials or tokens).
  json::object ServiceSummary() const {
    json::object d;
    d["version"] = kVersion;
    d["listen"] = (cfg_.listen_host.find(':') != std::string::npos ? "[" + cfg_.listen_host + "]"
                                                                   : cfg_.listen_host) +
                  ":" + std::to_string(cfg_.listen_port);
    d["env"] = cfg_.env;
    json::array servers;
    for (const auto& name : upstream_order_) servers.emplace_back(name);
    d["servers"] = std::move(servers);
    json::object auth;
    auth["mode"] = auth_ ? "oauth" : "off";
    if (auth_) {
      auth["issuer"] = cfg_.auth.issuer;
      auth["audience"] = cfg_.auth.audience;
    }
    d["auth"] = std::move(auth);
    json::object pol;
    pol["mode"] = decider_ ? decider_->backend() : "off";
    if (decider_) {
      pol["decision_path"] = cfg_.policy.decision_path;
      if (cfg_.policy.mode == config::PolicyConfig::Mode::kOpa) {
        pol["opa_url"] = WithoutUserinfo(cfg_.policy.opa_url);
      } else {
        pol["paths"] = JsonStrings(cfg_.policy.paths);
      }
    }
    d["policy"] = std::move(pol);
    json::object hist;
    hist["enabled"] = cfg_.history.enabled;
    if (cfg_.history.enabled) {
      hist["durability"] = cfg_.history.sync ? "sync" : "async";
      hist["store"] = cfg_.history.dsn.substr(0, cfg_.history.dsn.find(':'));
    }
    d["history"] = std::move(hist);
    json::object file;
    file["source"] = cfg_.source;
    if (!cfg_.source_sha256.empty()) file["sha256"] = cfg_.source_sha256;
    d["config"] = std::move(file);
    return d;
  }

  // A policy put in place or refused (start, file watcher, SIGHUP, runtime data): an audit row
  // (config reloads are security-relevant) and a log line.
  void OnPolicyEvent(const policy::PolicyEvent& e) {
    json::object d;
    d["trigger"] = e.trigger;
    if (e.kind == policy::PolicyEvent::Kind::kRejected) {
      d["error"] = e.error;
      log::Info("policy reload rejected (audited)", {{"trigger", e.trigger}});
      return Audit("policy_reload_rejected", "", "", d);
    }
    d["generation"] = static_cast<int64_t>(e.generation);
    d["files"] = static_cast<int64_t>(e.files);
    d["modules"] = static_cast<int64_t>(e.modules);
    if (!e.path.empty()) d["path"] = e.path;
    log::Info("policy reload (audited)",
              {{"trigger", e.trigger}, {"generation", static_cast<int64_t>(e.generation)}});
    Audit("policy_reload", "", "", d);
  }

  size_t session_count() const override { return sessions_.size(); }

  // `route` names the client in upstreams_; only the shared instance feeds the catalog.
  std::unique_ptr<upstream::McpClient> MakeClient(const config::ServerConfig& server,
                                                  const std::string& route, bool shared) {
    upstream::McpClient::Hooks hooks;
    if (shared) hooks.on_change = [this] { OnUpstreamChange(); };
    hooks.on_notification = [this, route](Message&& m, std::optional<int64_t> rel) {
      OnUpstreamNotification(route, std::move(m), rel);
    };
    hooks.on_request = [this, route](Message&& m, std::optional<int64_t> rel) {
      OnUpstreamRequest(route, std::move(m), rel);
    };
    return std::make_unique<upstream::McpClient>(loop_, *spawner_, *http_client_, server,
                                                 cfg_.request_timeout_ms, std::move(hooks));
  }

  // The client a session's call to `server` goes through: the shared one, or (isolation:
  // session) one started for this session on first use and stopped when the session ends.
  std::string RouteFor(Session& s, const std::string& server) {
    const auto& shared = *upstreams_.at(server);
    if (shared.server_config().isolation != config::Isolation::kSession) return server;
    std::string route = server + "@" + s.id;
    if (!upstreams_.count(route)) {
      auto client = MakeClient(shared.server_config(), route, /*shared=*/false);
      client->Start();
      upstreams_.emplace(route, std::move(client));
      session_routes_[s.id].push_back(route);
    }
    return route;
  }

  // ---------------------------------------------------------------- HTTP entry

  void Handle(http::Request&& req, std::shared_ptr<http::Responder> res) override {
    std::string_view path = req.path();
    if (path == "/health" || path == "/healthz") {
      if (req.method != "GET" && req.method != "HEAD") return MethodNotAllowed(*res, "GET");
      return res->Send(200, JsonHeaders(), R"({"status":"ok"})");
    }
    if (path == "/ready" || path == "/readyz") return Ready(*res);
    if (path == "/mcp" || path == "/sse" || path == "/messages" || path.rfind("/api/", 0) == 0) {
      if (std::string why; !CheckHostAndOrigin(req, &why)) {
        log::Warn("request refused: host/origin not allowed", {{"host", req.header("host")},
                                                               {"origin", req.header("origin")},
                                                               {"remote", req.remote_ip}});
        return SendRpcError(*res, 403, nullptr, jsonrpc::kInvalidRequest, why);
      }
      if (auth_) {
        bool in_query = !req.query_param("access_token").empty();
        int authorization_headers = 0;
        for (const auto& h : req.headers)
          authorization_headers += h.name == "authorization" ? 1 : 0;
        if (authorization_headers > 1) {
          // Which one would count is ambiguous (and proxies disagree): refuse both.
          auth::Outcome twice{auth::Failure::kInvalidRequest, "more than one Authorization header",
                              nullptr};
          return res->Send(auth_->Status(twice), auth_->Challenge(twice), auth_->ErrorBody(twice));
        }
        auto shared_req = std::make_shared<http::Request>(std::move(req));
        std::string authorization(shared_req->header("authorization"));
        auth_->Authenticate(authorization, in_query, [this, shared_req, res](auth::Outcome o) {
          if (o.failure != auth::Failure::kNone) {
            log::Info("request refused: authentication", {{"path", shared_req->path()},
                                                          {"remote", shared_req->remote_ip},
                                                          {"status", auth_->Status(o)},
                                                          {"reason", o.description}});
            // A missing token is how every MCP login starts; failures of a presented token are
            // security events for the audit trail.
            if (recorder_ && o.failure != auth::Failure::kMissing) {
              history::AuditRow a;
              a.ts_us = WallMicros();
              a.kind = "auth_failure";
              a.request_id = std::string(shared_req->header("x-request-id"));
              json::object d;
              d["path"] = shared_req->path();
              d["status"] = auth_->Status(o);
              d["reason"] = o.description;
              d["remote"] = shared_req->remote_ip;
              a.detail = json::Serialize(d);
              recorder_->Audit(std::move(a));
            }
            return res->Send(auth_->Status(o), auth_->Challenge(o), auth_->ErrorBody(o));
          }
          Route(std::move(*shared_req), res, std::move(o.identity));
        });
        return;
      }
    }
    if (auth_ &&
        (path == auth_->metadata_path() || path == "/.well-known/oauth-protected-resource")) {
      if (req.method != "GET" && req.method != "HEAD") return MethodNotAllowed(*res, "GET");
      // Public, and readable from browser-based clients.
      return res->Send(200,
                       {{"content-type", "application/json"},
                        {"access-control-allow-origin", "*"},
                        {"cache-control", "max-age=300"}},
                       auth_->ResourceMetadata());
    }
    Route(std::move(req), res, nullptr);
  }

 private:
  using IdentityPtr = std::shared_ptr<const auth::Identity>;

  // After authentication: the MCP endpoints.
  void Route(http::Request&& req, const std::shared_ptr<http::Responder>& res, IdentityPtr who) {
    std::string_view path = req.path();
    current_identity_ = std::move(who);
    current_remote_ip_ = req.remote_ip;
    if (path.rfind("/api/v1/", 0) == 0) return AuthorizeApi(std::move(req), res);
    if (path == "/mcp") {
      if (req.method == "POST") return HandlePost(std::move(req), res);
      if (req.method == "GET") return HandleGet(req, res);
      if (req.method == "DELETE") return HandleDelete(req, *res);
      return MethodNotAllowed(*res, "GET, POST, DELETE");
    }
    if (path == "/sse") {
      if (req.method != "GET") return MethodNotAllowed(*res, "GET");
      return HandleLegacySse(req, res);
    }
    if (path == "/messages") {
      if (req.method != "POST") return MethodNotAllowed(*res, "POST");
      return HandleLegacyPost(std::move(req), res);
    }
    res->Send(404, JsonHeaders(),
              R"({"error":"not found","endpoints":["/mcp","/sse","/health","/ready"]})");
  }

  // The subject as logs show it: as is, or (log_subject: hash) a SHA-256 prefix that still lets
  // an operator correlate lines without the logs naming anyone.
  std::string LoggedSubject(const std::string& sub) const {
    if (!cfg_.log_subject_hash || sub.empty()) return sub;
    return "sha256:" + Sha256Hex(sub).substr(0, 16);
  }

  // The session, if it exists and belongs to the caller (another subject's session id is 404).
  Session* OwnSession(std::string_view sid) {
    Session* s = sessions_.Find(sid);
    if (!s) return nullptr;
    if (auth_ && (!current_identity_ || s->subject != current_identity_->sub)) return nullptr;
    return s;
  }
  // ---------------------------------------------------------------- helpers

  static void MethodNotAllowed(http::Responder& res, const char* allow) {
    res.Send(
        405, {{"allow", allow}, {"content-type", "application/json"}},
        R"({"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"Method not allowed"}})");
  }

  // A JSON body (one message, or a batch's array) on the POST of session `sid`.
  static void SendSessionJson(http::Responder& res, const std::string& sid, std::string body) {
    http::Headers h = JsonHeaders();
    h.push_back({"mcp-session-id", sid});
    res.Send(200, std::move(h), std::move(body));
  }

  static void SendRpcError(http::Responder& res, int status, const json::value& id, int code,
                           std::string_view msg) {
    res.Send(status, JsonHeaders(), jsonrpc::MakeErrorResponse(id, code, msg));
  }

  bool CheckHostAndOrigin(const http::Request& req, std::string* why) {
    if (allowed_any_) return true;
    std::string host = HostOnly(req.header("host"));
    if (!host.empty() && !IsLoopbackName(host) && !allowed_hosts_.count(host)) {
      *why = "Host '" + std::string(req.header("host")) +
             "' is not allowed (set GATEWAY_ALLOWED_ORIGINS)";
      return false;
    }
    std::string_view origin = req.header("origin");
    if (!origin.empty()) {
      bool listed = std::find(cfg_.allowed_origins.begin(), cfg_.allowed_origins.end(), origin) !=
                    cfg_.allowed_origins.end();
      if (!listed && !IsLoopbackName(HostOnly(origin))) {
        *why = "Origin '" + std::string(origin) + "' is not allowed (set GATEWAY_ALLOWED_ORIGINS)";
        return false;
      }
    }
    return true;
  }

  void Ready(http::Responder& res) {
    json::object ups;
    bool ready = true;
    bool degraded = false;
    for (const auto& name : upstream_order_) {
      const auto& up = *upstreams_.at(name);
      json::object u;
      u["status"] = upstream::ToString(up.state());
      u["transport"] = config::ToString(up.server_config().transport);
      u["required"] = up.server_config().required;
      u["tools"] = up.catalog().tools.size();
      u["restarts"] = up.restarts();
      if (!up.last_error().empty()) u["error"] = up.last_error();
      if (up.state() != upstream::State::kReady) {
        // A server's first start still under way keeps the gateway not ready, required or not:
        // a client let in now would list a catalog without that server's tools. An optional
        // server that failed (or is restarting after a failure) only degrades it. The first
        // start is bounded by the initialize deadline.
        bool first_start = up.state() == upstream::State::kStarting && up.restarts() == 0;
        if (up.server_config().required || first_start) {
          ready = false;
        } else {
          degraded = true;
        }
      }
      ups[name] = std::move(u);
    }
    json::object hist;
    if (recorder_) {
      // Not accepting (queue or spool full, or stopping): calls are refused, so not ready. The
      // database unavailable while the spool takes the rows: still serving, degraded.
      history::RecorderStats st = recorder_->stats();
      bool accepting = recorder_->Accepting();
      bool db_down = !st.last_error.empty() || st.spool_pending_bytes > 0;
      hist["status"] = !accepting ? "not_ready" : db_down ? "degraded" : "ready";
      hist["durability"] = recorder_->durability() == history::Durability::kSync ? "sync" : "async";
      hist["queued"] = st.queued;
      hist["written"] = st.written;
      hist["refused"] = st.refused;
      hist["spooled"] = st.spooled;
      hist["replayed"] = st.replayed;
      hist["spool_pending_bytes"] = st.spool_pending_bytes;
      hist["at_risk"] = st.at_risk;
      hist["users_written"] = st.users_written;
      if (!st.last_error.empty()) hist["error"] = st.last_error;
      if (!accepting) ready = false;
      if (db_down) degraded = true;
    } else {
      hist["status"] = "off";
    }
    json::object body;
    body["status"] = ready ? (degraded ? "degraded" : "ready") : "not_ready";
    json::object comps;
    json::object c;
    c["status"] = "ok";
    c["source"] = cfg_.source;
    comps["config"] = std::move(c);
    comps["upstreams"] = std::move(ups);
    if (auth_) {
      json::object a;
      a["status"] = auth_->ready() ? "ready" : "not_ready";
      a["keys"] = auth_->key_count();
      a["jwks_fetches"] = auth_->jwks_fetches();
      if (!auth_->last_error().empty()) a["error"] = auth_->last_error();
      if (!auth_->ready()) ready = false;
      comps["auth"] = std::move(a);
    }
    json::object pol;
    if (decider_) {
      pol["status"] = decider_->Ready() ? "ready" : "not_ready";
      pol["backend"] = decider_->backend();
      pol["detail"] = decider_->Describe();
      // Without a PDP every request is denied (fail closed): not ready to serve.
      if (!decider_->Ready()) ready = false;
    } else {
      pol["status"] = "off";
    }
    comps["policy"] = std::move(pol);
    comps["history"] = std::move(hist);
    json::object sess;
    sess["active"] = sessions_.size();
    sess["max"] = cfg_.max_sessions;
    comps["sessions"] = std::move(sess);
    body["components"] = std::move(comps);
    res.Send(ready ? 200 : 503, JsonHeaders(), json::Serialize(body));
  }

  // ---------------------------------------------------------------- POST /mcp

  void HandlePost(http::Request&& req, const std::shared_ptr<http::Responder>& res) {
    std::string_view ctype = req.header("content-type");
    if (ctype.find("application/json") == std::string_view::npos) {
      return SendRpcError(*res, 415, nullptr, jsonrpc::kInvalidRequest,
                          "Unsupported Media Type: Content-Type must be application/json");
    }
    std::string_view accept = req.header("accept");
    bool accepts_json = accept.empty() ||
                        accept.find("application/json") != std::string_view::npos ||
                        accept.find("*/*") != std::string_view::npos;
    bool accepts_sse = accept.find("text/event-stream") != std::string_view::npos;
    if (!accepts_json && !accepts_sse) {
      return SendRpcError(
          *res, 406, nullptr, jsonrpc::kInvalidRequest,
          "Not Acceptable: Accept must include application/json and text/event-stream");
    }
    auto doc = jsonrpc::ParseJson(req.body);
    if (!doc.ok()) return SendRpcError(*res, 400, nullptr, doc.error().code, doc.error().message);
    std::string_view pv = req.header("mcp-protocol-version");
    if (!pv.empty() && !StreamableVersion(pv)) {
      const json::value* id = doc->is_object() ? doc->get_object().if_contains("id") : nullptr;
      return SendRpcError(*res, 400, id ? *id : json::value(), jsonrpc::kInvalidRequest,
                          "Bad Request: unsupported MCP-Protocol-Version '" + std::string(pv) +
                              "' (supported: 2025-11-25, 2025-06-18, 2025-03-26)");
    }
    if (doc->is_array()) {
      return HandleBatch(req, res, std::move(doc->get_array()), accepts_json, accepts_sse);
    }
    auto parsed = jsonrpc::FromValue(std::move(doc).value());
    if (!parsed.ok())
      return SendRpcError(*res, 400, nullptr, parsed.error().code, parsed.error().message);
    Message msg = std::move(parsed).value();

    std::string_view sid = req.header("mcp-session-id");
    if (msg.kind == Kind::kRequest && msg.method == "initialize") {
      if (!sid.empty()) {
        return SendRpcError(*res, 400, msg.id(), jsonrpc::kInvalidRequest,
                            "Bad Request: initialize must not carry an Mcp-Session-Id");
      }
      return Initialize(msg, *res, accepts_json, accepts_sse, /*legacy=*/nullptr);
    }
    if (sid.empty()) {
      return SendRpcError(*res, 400, msg.id(), jsonrpc::kInvalidRequest,
                          "Bad Request: Mcp-Session-Id header is required (initialize first)");
    }
    Session* session = OwnSession(sid);
    if (!session || session->legacy_sse) {
      return SendRpcError(*res, 404, msg.id(), jsonrpc::kInvalidRequest, "Session not found");
    }
    session->last_seen = loop_.Now();
    if (msg.kind != Kind::kRequest) {
      res->Send(202, {}, "");
      return OnClientMessage(*session, std::move(msg));
    }
    // A request: its answer (and anything related) goes on a stream of its own.
    Stream& stream = session->NewStream(false);
    stream.responder = res;
    stream.json_only = !accepts_sse;
    stream.json_pending = accepts_json && cfg_.post_response != config::PostResponse::kSse;
    stream.open_requests = 1;
    if (!stream.json_pending) StartSse(*session, stream);
    WatchDisconnect(*session, stream);
    OnClientRequest(*session, stream, std::move(msg), std::string(req.header("x-request-id")));
  }

  // A JSON-RPC batch. MCP 2025-03-26 obliges a server to receive them and 2025-06-18 removed
  // them, so only a session that negotiated 2025-03-26 may send one. Each member is handled as if
  // it came alone; the requests' answers share one stream (SSE, as each is ready) or, for a
  // client that takes only JSON, one array once all are in. Members that are not valid messages
  // get an error each (id null), as JSON-RPC 2.0 has it.
  void HandleBatch(const http::Request& req, const std::shared_ptr<http::Responder>& res,
                   json::array batch, bool accepts_json, bool accepts_sse) {
    constexpr size_t kMaxBatchMembers = 100;
    std::string sid(req.header("mcp-session-id"));
    if (sid.empty()) {
      return SendRpcError(*res, 400, nullptr, jsonrpc::kInvalidRequest,
                          "Bad Request: Mcp-Session-Id header is required (initialize first, on "
                          "its own: it cannot be part of a batch)");
    }
    Session* session = OwnSession(sid);
    if (!session || session->legacy_sse) {
      return SendRpcError(*res, 404, nullptr, jsonrpc::kInvalidRequest, "Session not found");
    }
    if (session->protocol_version != "2025-03-26") {
      return SendRpcError(*res, 400, nullptr, jsonrpc::kInvalidRequest,
                          "Invalid Request: JSON-RPC batches are not supported in MCP " +
                              session->protocol_version +
                              " (MCP 2025-06-18 removed them; only 2025-03-26 sessions may batch)");
    }
    if (batch.empty() || batch.size() > kMaxBatchMembers) {
      return SendRpcError(
          *res, 400, nullptr, jsonrpc::kInvalidRequest,
          "Invalid Request: a batch holds 1 to " + std::to_string(kMaxBatchMembers) + " messages");
    }
    session->last_seen = loop_.Now();
    std::vector<std::string> refused;  // error responses to members that are not messages
    std::vector<Message> requests;
    std::vector<Message> others;  // notifications and responses
    for (auto& member : batch) {
      auto m = jsonrpc::FromValue(std::move(member));
      if (!m.ok()) {
        refused.push_back(jsonrpc::MakeErrorResponse(nullptr, m.error().code, m.error().message));
      } else if (m->kind == Kind::kRequest && m->method == "initialize") {
        refused.push_back(jsonrpc::MakeErrorResponse(
            m->id(), jsonrpc::kInvalidRequest,
            "Invalid Request: initialize must not be part of a JSON-RPC batch"));
      } else {
        (m->kind == Kind::kRequest ? requests : others).push_back(std::move(m).value());
      }
    }
    if (requests.empty()) {
      if (refused.empty()) {
        res->Send(202, {}, "");
      } else {
        SendSessionJson(*res, sid, "[" + Join(refused, ",") + "]");
      }
      for (auto& m : others) {
        if (Session* s = OwnSession(sid)) OnClientMessage(*s, std::move(m));
      }
      return;
    }
    Stream& stream = session->NewStream(false);
    const uint64_t stream_id = stream.id;
    stream.responder = res;
    stream.open_requests = static_cast<int>(requests.size());
    stream.batch_json =
        !accepts_sse || (accepts_json && cfg_.post_response == config::PostResponse::kJson);
    stream.json_only = !accepts_sse;
    if (!stream.batch_json) StartSse(*session, stream);
    WatchDisconnect(*session, stream);
    for (const auto& e : refused) Emit(*session, stream_id, e, true);
    for (auto& m : others) {
      if (Session* s = OwnSession(sid)) OnClientMessage(*s, std::move(m));
    }
    std::string request_id(req.header("x-request-id"));
    for (size_t i = 0; i < requests.size(); ++i) {
      Session* s = OwnSession(sid);
      Stream* st = s ? s->FindStream(stream_id) : nullptr;
      if (!st) break;
      OnClientRequest(*s, *st, std::move(requests[i]),
                      request_id.empty() ? "" : request_id + "." + std::to_string(i + 1));
    }
  }

  void StartSse(Session& session, Stream& stream) {
    stream.json_pending = false;
    if (!stream.responder || stream.responder->Started()) return;
    http::Headers h = {{"content-type", "text/event-stream"}, {"cache-control", "no-cache"}};
    if (!session.legacy_sse) h.push_back({"mcp-session-id", session.id});
    stream.responder->StartStream(200, std::move(h));
    // Priming event: an id to resume from, empty data, and how soon to reconnect.
    stream.responder->Write(sse::FormatEvent("", std::to_string(stream.id) + "-0", "",
                                             static_cast<int>(cfg_.sse_retry_ms)));
  }

  void WatchDisconnect(Session& session, Stream& stream) {
    std::string sid = session.id;
    uint64_t stream_id = stream.id;
    stream.responder->OnClose([this, sid, stream_id] {
      Session* s = sessions_.Find(sid);
      if (!s) return;
      Stream* st = s->FindStream(stream_id);
      if (!st) return;
      st->responder.reset();
      if (s->legacy_sse && st->standalone) return EndSession(sid, "legacy SSE stream closed");
      // Disconnection is not cancellation: the answer is kept for a GET with Last-Event-ID.
      if (st->open_requests <= 0 && !st->standalone) s->streams.erase(stream_id);
    });
  }

  // Writes one message to the client on `stream` (or the GET stream when it has none).
  void Emit(Session& session, uint64_t stream_id, std::string_view message, bool is_final) {
    Stream* st = session.FindStream(stream_id);
    if (session.legacy_sse || !st) st = session.FindStream(session.standalone_stream);
    if (!st) {
      log::Debug("no stream to deliver a message on; dropped", {{"session", session.id}});
      return;
    }
    if (st->batch_json) {
      if (is_final) {
        st->batch_answers.emplace_back(message);
      } else if (Stream* get = session.FindStream(session.standalone_stream)) {
        AppendEvent(*get, message);  // as for any client that takes no stream on its POST
      }
      return;
    }
    if (st->json_pending) {
      if (is_final && st->responder && !st->responder->Started()) {
        st->json_pending = false;
        SendSessionJson(*st->responder, session.id, std::string(message));
        return;
      }
      if (st->json_only) {
        // The client cannot take a stream here: intermediate messages go to its GET stream.
        if (Stream* get = session.FindStream(session.standalone_stream)) AppendEvent(*get, message);
        return;
      }
      StartSse(session, *st);
    }
    AppendEvent(*st, message);
  }

  void FinishRequestOnStream(Session& session, uint64_t stream_id) {
    Stream* st = session.FindStream(stream_id);
    if (!st || st->standalone) return;
    if (--st->open_requests > 0) return;
    if (st->batch_json) {
      if (st->responder && !st->responder->Started()) {
        if (st->batch_answers.empty()) {
          st->responder->Send(204, {}, "");  // every request was cancelled
        } else {
          SendSessionJson(*st->responder, session.id, "[" + Join(st->batch_answers, ",") + "]");
        }
      }
      session.streams.erase(stream_id);
      return;
    }
    if (!st->responder && !st->log.empty()) {
      // The client went away mid-stream: keep what it missed for a GET with Last-Event-ID.
      // Bounded: a session keeps at most kMaxDetachedStreams such streams.
      size_t detached = 0;
      for (auto it = session.streams.rbegin(); it != session.streams.rend(); ++it) {
        if (!it->second.standalone && !it->second.responder && ++detached > kMaxDetachedStreams) {
          session.streams.erase(std::next(it).base());
          break;
        }
      }
      return;
    }
    if (st->responder) {
      if (!st->responder->Started()) {
        // No answer will come (the request was cancelled): end the POST without a body rather
        // than let it fall back to an error.
        st->responder->Send(204, {}, "");
      } else {
        st->responder->End();
      }
    }
    session.streams.erase(stream_id);
  }

  // ---------------------------------------------------------------- GET / DELETE

  void HandleGet(const http::Request& req, const std::shared_ptr<http::Responder>& res) {
    if (req.header("accept").find("text/event-stream") == std::string_view::npos) {
      return SendRpcError(*res, 406, nullptr, jsonrpc::kInvalidRequest,
                          "Not Acceptable: GET needs Accept: text/event-stream");
    }
    std::string_view sid = req.header("mcp-session-id");
    if (sid.empty())
      return SendRpcError(*res, 400, nullptr, jsonrpc::kInvalidRequest,
                          "Bad Request: Mcp-Session-Id header is required");
    Session* session = OwnSession(sid);
    if (!session || session->legacy_sse)
      return SendRpcError(*res, 404, nullptr, jsonrpc::kInvalidRequest, "Session not found");
    session->last_seen = loop_.Now();
    std::string_view last = req.header("last-event-id");
    if (!last.empty()) {
      uint64_t stream_id = 0, seq = 0;
      Stream* st = ParseEventId(last, &stream_id, &seq) ? session->FindStream(stream_id) : nullptr;
      if (!st)
        return SendRpcError(*res, 404, nullptr, jsonrpc::kInvalidRequest, "Unknown Last-Event-ID");
      if (st->responder && !st->responder->Closed()) st->responder->End();
      st->responder = res;
      st->json_pending = false;
      http::Headers h = {{"content-type", "text/event-stream"},
                         {"cache-control", "no-cache"},
                         {"mcp-session-id", session->id}};
      res->StartStream(200, std::move(h));
      for (const auto& [s, ev] : st->log) {
        if (s > seq) res->Write(ev);
      }
      if (!st->standalone && st->open_requests <= 0) {
        res->End();
        session->streams.erase(stream_id);
        return;
      }
      WatchDisconnect(*session, *st);
      return;
    }
    if (Stream* existing = session->FindStream(session->standalone_stream);
        existing && existing->responder && !existing->responder->Closed()) {
      return SendRpcError(*res, 409, nullptr, jsonrpc::kInvalidRequest,
                          "Conflict: this session already has a GET stream");
    }
    Stream* st = session->FindStream(session->standalone_stream);
    if (!st) st = &session->NewStream(true);
    st->responder = res;
    http::Headers h = {{"content-type", "text/event-stream"},
                       {"cache-control", "no-cache"},
                       {"mcp-session-id", session->id}};
    res->StartStream(200, std::move(h));
    res->Write(sse::FormatEvent("", std::to_string(st->id) + "-" + std::to_string(st->next_seq), "",
                                static_cast<int>(cfg_.sse_retry_ms)));
    WatchDisconnect(*session, *st);
  }

  void HandleDelete(const http::Request& req, http::Responder& res) {
    std::string_view sid = req.header("mcp-session-id");
    if (sid.empty())
      return SendRpcError(res, 400, nullptr, jsonrpc::kInvalidRequest,
                          "Bad Request: Mcp-Session-Id header is required");
    if (!OwnSession(sid))
      return SendRpcError(res, 404, nullptr, jsonrpc::kInvalidRequest, "Session not found");
    EndSession(std::string(sid), "deleted by client");
    res.Send(200, JsonHeaders(), "{}");
  }

  void EndSession(const std::string& sid, std::string_view why) {
    Session* s = sessions_.Find(sid);
    if (!s) return;
    // Cancel what it still has in flight upstream.
    for (auto it = in_flight_.begin(); it != in_flight_.end();) {
      if (it->second.session == sid) {
        if (auto up = upstreams_.find(it->second.route); up != upstreams_.end()) {
          up->second->Cancel(it->second.upstream_id, "client session ended");
        }
        RecordUnanswered(it->second, "session_ended");
        if (!it->second.progress_token.empty()) progress_.erase(it->second.progress_token);
        it = in_flight_.erase(it);
      } else {
        ++it;
      }
    }
    for (auto it = server_requests_.begin(); it != server_requests_.end();) {
      it = it->second.session == sid ? server_requests_.erase(it) : std::next(it);
    }
    for (const auto& uri : s->subscriptions) Unsubscribe(uri, sid);
    if (auto routes = session_routes_.find(sid); routes != session_routes_.end()) {
      for (const auto& route : routes->second) {
        if (auto up = upstreams_.find(route); up != upstreams_.end()) {
          // The process object outlives the client until reaped; shutdown waits for it.
          ++session_clients_stopping_;
          up->second->Stop([this] { SessionClientStopped(); });
          upstreams_.erase(up);
        }
      }
      session_routes_.erase(routes);
    }
    std::vector<std::shared_ptr<http::Responder>> to_close;
    for (auto& [id, st] : s->streams) {
      if (st.responder) to_close.push_back(st.responder);
    }
    log::Info("session ended", {{"session", sid}, {"reason", why}});
    sessions_.Erase(sid);
    for (auto& r : to_close) r->End();
  }

  // ---------------------------------------------------------------- legacy HTTP+SSE

  void HandleLegacySse(const http::Request& req, const std::shared_ptr<http::Responder>& res) {
    if (static_cast<int64_t>(sessions_.size()) >= cfg_.max_sessions) {
      return SendRpcError(*res, 503, nullptr, jsonrpc::kOverloaded, "too many sessions");
    }
    Session& s = sessions_.Create();
    s.legacy_sse = true;
    if (current_identity_) {
      s.subject = current_identity_->sub;
      s.identity = current_identity_;
    }
    s.protocol_version = "2024-11-05";
    Stream& st = s.NewStream(true);
    st.responder = res;
    res->StartStream(200, {{"content-type", "text/event-stream"}, {"cache-control", "no-cache"}});
    res->Write(sse::FormatEvent("/messages?sessionId=" + s.id, "", "endpoint"));
    WatchDisconnect(s, st);
    log::Info("legacy SSE session opened", {{"session", s.id}, {"remote", req.remote_ip}});
  }

  void HandleLegacyPost(http::Request&& req, const std::shared_ptr<http::Responder>& res) {
    std::string sid(req.query_param("sessionId"));
    Session* s = sid.empty() ? nullptr : OwnSession(sid);
    if (!s || !s->legacy_sse)
      return SendRpcError(*res, 404, nullptr, jsonrpc::kInvalidRequest, "Session not found");
    auto parsed = jsonrpc::Parse(req.body);
    if (!parsed.ok())
      return SendRpcError(*res, 400, nullptr, parsed.error().code, parsed.error().message);
    s->last_seen = loop_.Now();
    res->Send(202, {}, "Accepted");
    Message msg = std::move(parsed).value();
    if (msg.kind == Kind::kRequest && msg.method == "initialize") {
      return Initialize(msg, *res, true, true, s);
    }
    if (msg.kind != Kind::kRequest) return OnClientMessage(*s, std::move(msg));
    OnClientRequest(*s, *s->FindStream(s->standalone_stream), std::move(msg),
                    std::string(req.header("x-request-id")));
  }

  // ---------------------------------------------------------------- client -> gateway

  void Initialize(const Message& msg, http::Responder& res, bool accepts_json, bool accepts_sse,
                  Session* legacy) {
    const json::object* params = msg.params() ? msg.params()->if_object() : nullptr;
    if (!params) {
      if (legacy) return;
      return SendRpcError(res, 400, msg.id(), jsonrpc::kInvalidParams, "initialize needs params");
    }
    if (!legacy && static_cast<int64_t>(sessions_.size()) >= cfg_.max_sessions) {
      return SendRpcError(res, 503, msg.id(), jsonrpc::kOverloaded,
                          "Too many sessions; try again later");
    }
    std::string requested(json::FindString(*params, "protocolVersion"));
    std::string version = StreamableVersion(requested) || (legacy && requested == "2024-11-05")
                              ? requested
                              : kLatestProtocol;
    Session& s = legacy ? *legacy : sessions_.Create();
    if (!legacy && current_identity_) {
      s.subject = current_identity_->sub;
      s.identity = current_identity_;
    }
    if (current_identity_) SeenUser(*current_identity_);
    s.protocol_version = version;
    if (auto* c = json::FindObject(*params, "capabilities")) s.client_capabilities = *c;
    if (auto* i = json::FindObject(*params, "clientInfo")) s.client_info = *i;
    s.last_seen = loop_.Now();

    json::object caps;
    json::object tools;
    tools["listChanged"] = true;
    caps["tools"] = std::move(tools);
    json::object prompts;
    prompts["listChanged"] = true;
    caps["prompts"] = std::move(prompts);
    json::object resources;
    resources["listChanged"] = true;
    resources["subscribe"] = true;
    caps["resources"] = std::move(resources);
    caps["logging"] = json::object();
    caps["completions"] = json::object();
    json::object info;
    info["name"] = "mcpgw";
    info["title"] = "mcpgw MCP gateway";
    info["version"] = kVersion;
    json::object result;
    result["protocolVersion"] = version;
    result["capabilities"] = std::move(caps);
    result["serverInfo"] = std::move(info);
    std::string instructions;
    for (const auto& name : upstream_order_) {
      const auto& cat = upstreams_.at(name)->catalog();
      if (!cat.instructions.empty()) instructions += "[" + name + "] " + cat.instructions + "\n";
    }
    if (!instructions.empty()) result["instructions"] = instructions;
    std::string body = jsonrpc::MakeResult(msg.id(), result);
    log::Info("session initialized",
              {{"session", s.id},
               {"protocol_version", version},
               {"client", json::FindString(s.client_info, "name")},
               {"client_version", json::FindString(s.client_info, "version")}});
    if (legacy) {
      Emit(s, s.standalone_stream, body, true);
      return;
    }
    http::Headers h = {{"mcp-session-id", s.id}};
    if (accepts_json && cfg_.post_response != config::PostResponse::kSse) {
      h.push_back({"content-type", "application/json"});
      res.Send(200, std::move(h), std::move(body));
    } else {
      h.push_back({"content-type", "text/event-stream"});
      h.push_back({"cache-control", "no-cache"});
      res.StartStream(200, std::move(h));
      res.Write(sse::FormatEvent(body, "0-1"));
      res.End();
    }
  }

  // Requests the gateway answers itself, or forwards.
  void OnClientRequest(Session& s, Stream& stream, Message&& msg, std::string request_id) {
    const std::string& m = msg.method;
    uint64_t stream_id = stream.id;
    auto reply = [&](const json::value& result) {
      Emit(s, stream_id, jsonrpc::MakeResult(msg.id(), result), true);
      FinishRequestOnStream(s, stream_id);
    };
    auto fail = [&](int code, std::string_view text) {
      Emit(s, stream_id, jsonrpc::MakeErrorResponse(msg.id(), code, text), true);
      FinishRequestOnStream(s, stream_id);
    };
    const json::object* params = msg.params() ? msg.params()->if_object() : nullptr;
    static const json::object kEmpty;
    const json::object& p = params ? *params : kEmpty;
    // A call (tools/call, prompts/get, resources/*, completion/complete) that cannot be
    // forwarded, an unknown tool say: refused like a denied one, with its history row.
    auto refuse = [&](int code, const std::string& text, std::string server = "",
                      std::string target = "") {
      auto call = MakePending(std::move(msg), std::move(server), p, std::move(target),
                              std::move(request_id));
      Refuse(s, stream_id, *call, code, text, nullptr);
    };

    if (m == "ping") return reply(json::object());
    if (m == "tools/list") return ListFiltered(s, stream_id, msg, "tools", catalog_.tools());
    if (m == "prompts/list") return ListFiltered(s, stream_id, msg, "prompts", catalog_.prompts());
    if (m == "resources/list")
      return ListFiltered(s, stream_id, msg, "resources", catalog_.resources());
    if (m == "resources/templates/list")
      return reply(ListResult("resourceTemplates", catalog_.resource_templates()));
    if (m == "logging/setLevel") {
      int level = LogLevelIndex(json::FindString(p, "level"));
      if (level < 0) return fail(jsonrpc::kInvalidParams, "Invalid params: unknown logging level");
      s.log_level = level;
      s.log_level_set = true;
      // Upstreams are shared: ask them for the most verbose level any session wants; the
      // gateway filters per session.
      int min_level = level;
      sessions_.ForEach([&](Session& o) {
        if (o.log_level_set) min_level = std::min(min_level, o.log_level);
      });
      static const char* kNames[] = {"debug", "info",     "notice", "warning",
                                     "error", "critical", "alert",  "emergency"};
      json::object up_params;
      up_params["level"] = kNames[min_level];
      for (auto& [name, up] : upstreams_) {
        if (up->state() == upstream::State::kReady && up->HasCapability("logging")) {
          up->Call("logging/setLevel", up_params, [](const Result<json::object>&) {});
        }
      }
      return reply(json::object());
    }
    // Calls are decided by the policy before they are forwarded (Authorize).
    auto forward = [this](Session& s, uint64_t stream_id, PendingCall& c,
                          const policy::Decision* d) { ForwardPending(s, stream_id, c, d); };
    if (m == "tools/call") {
      std::string name(json::FindString(p, "name"));
      const Target* t = catalog_.FindTool(name);
      if (!t) {
        if (std::string server = catalog_.ServerOfUnavailableTool(name); !server.empty()) {
          const auto& up = *upstreams_.at(server);
          return refuse(jsonrpc::kUpstreamError,
                        "Tool '" + name + "' is unavailable: upstream '" + server + "' is " +
                            upstream::ToString(up.state()) +
                            (up.last_error().empty() ? "" : " (" + up.last_error() + ")") +
                            "; retry once it is back",
                        server, name);
        }
        return refuse(jsonrpc::kInvalidParams, "Unknown tool: " + name, "", name);
      }
      policy::Resource res = ToolResource(name, *t);
      json::object fwd = TakeParams(msg);  // `p` is not used after this
      fwd["name"] = t->name;
      auto call =
          MakePending(std::move(msg), t->server, std::move(fwd), name, std::move(request_id));
      call->action = res.action;
      if (const json::value* a = call->params.if_contains("arguments"); a && !a->is_object()) {
        return Refuse(s, stream_id, *call, jsonrpc::kInvalidParams,
                      "Invalid params: arguments must be an object", nullptr);
      }
      return Authorize(s, stream_id, std::move(call), "/tools/" + name + "/invoke", res, forward);
    }
    if (m == "prompts/get") {
      std::string name(json::FindString(p, "name"));
      const Target* t = catalog_.FindPrompt(name);
      if (!t) return refuse(jsonrpc::kInvalidParams, "Unknown prompt: " + name, "", name);
      policy::Resource res = PromptResource(name, *t);
      json::object fwd = TakeParams(msg);  // `p` is not used after this
      fwd["name"] = t->name;
      auto call =
          MakePending(std::move(msg), t->server, std::move(fwd), name, std::move(request_id));
      return Authorize(s, stream_id, std::move(call), "/prompts/" + name + "/get", res, forward);
    }
    if (m == "resources/read" || m == "resources/subscribe" || m == "resources/unsubscribe") {
      std::string uri(json::FindString(p, "uri"));
      if (uri.empty()) return refuse(jsonrpc::kInvalidParams, "Invalid params: uri is required");
      std::string server = ServerForUri(uri);
      if (server.empty()) {
        return refuse(jsonrpc::kResourceNotFound, "Resource not found: " + uri, "", uri);
      }
      if (m == "resources/unsubscribe") {
        s.subscriptions.erase(uri);
        Unsubscribe(uri, s.id);
        return reply(json::object());
      }
      policy::Resource res = UriResource(server, uri);
      auto call = MakePending(std::move(msg), server, p, uri, std::move(request_id));
      if (m == "resources/subscribe") {
        return Authorize(
            s, stream_id, std::move(call), "/resources/subscribe", res,
            [this](Session& s, uint64_t stream_id, PendingCall& c, const policy::Decision* d) {
              Subscribe(c.target, s, c.server);
              std::string out = jsonrpc::MakeResult(c.msg.id(), json::object());
              AnswerRecorded(s, stream_id, c, std::move(out), "ok", 0, d, RequestId(c.request_id));
            });
      }
      return Authorize(s, stream_id, std::move(call), "/resources/read", res, forward);
    }
    // Completions reveal what a prompt or resource accepts: decided like using it (prompts/get,
    // resources/read on the referenced prompt or URI).
    if (m == "completion/complete") {
      const json::object* ref = json::FindObject(p, "ref");
      if (!ref) return refuse(jsonrpc::kInvalidParams, "Invalid params: ref is required");
      std::string_view type = json::FindString(*ref, "type");
      json::object fwd = p;
      if (type == "ref/prompt") {
        std::string name(json::FindString(*ref, "name"));
        const Target* t = catalog_.FindPrompt(name);
        if (!t) return refuse(jsonrpc::kInvalidParams, "Unknown prompt: " + name, "", name);
        json::object r = *ref;
        r["name"] = t->name;
        fwd["ref"] = std::move(r);
        policy::Resource res = PromptResource(name, *t);
        auto call =
            MakePending(std::move(msg), t->server, std::move(fwd), name, std::move(request_id));
        return Authorize(s, stream_id, std::move(call), "/prompts/" + name + "/get", res, forward);
      }
      if (type == "ref/resource") {
        std::string uri(json::FindString(*ref, "uri"));
        std::string server = ServerForUri(uri);
        if (server.empty())
          return refuse(jsonrpc::kResourceNotFound, "Resource not found", "", uri);
        policy::Resource res = UriResource(server, uri);
        auto call = MakePending(std::move(msg), server, std::move(fwd), uri, std::move(request_id));
        return Authorize(s, stream_id, std::move(call), "/resources/read", res, forward);
      }
      return refuse(jsonrpc::kInvalidParams, "Invalid params: unknown ref type");
    }
    if (m == "initialize")
      return fail(jsonrpc::kInvalidRequest, "Invalid Request: session already initialized");
    fail(jsonrpc::kMethodNotFound, "Method not found: " + m);
  }

  static json::object ListResult(const char* key, const json::array& items) {
    json::object o;
    o[key] = items;
    return o;
  }

  std::string ServerForUri(const std::string& uri) {
    std::string server = catalog_.ServerForUri(uri);
    if (!server.empty()) return server;
    // Not listed and no template matched: if exactly one upstream serves resources, ask it.
    std::string only;
    for (const auto& name : upstream_order_) {
      if (upstreams_.at(name)->HasCapability("resources")) {
        if (!only.empty()) return "";
        only = name;
      }
    }
    return only;
  }

  // ---------------------------------------------------------------- policy

  std::shared_ptr<PendingCall> MakePending(Message&& msg, std::string server, json::object params,
                                           std::string target, std::string request_id) {
    auto c = std::make_shared<PendingCall>();
    c->msg = std::move(msg);
    c->server = std::move(server);
    c->params = std::move(params);
    c->target = std::move(target);
    c->request_id = std::move(request_id);
    c->start = loop_.Now();
    c->ts_start_us = WallMicros();
    c->identity = current_identity_;
    return c;
  }

  // The identity a decision is about: the token of this request (it may carry other scopes
  // than the one that opened the session), else the session's. Null with auth off.
  const auth::Identity* RequestIdentity(const Session& s) const {
    if (current_identity_) return current_identity_.get();
    return static_cast<const auth::Identity*>(s.identity.get());
  }

  static policy::Subject SubjectOf(const auth::Identity* id) {
    policy::Subject out;  // anonymous, unauthenticated
    if (!id) return out;
    out.sub = id->sub;
    out.roles = id->roles;
    out.scopes = id->scopes;
    out.groups = id->groups;
    out.tenant = id->tenant;
    out.client_id = id->client_id;
    out.authenticated = true;
    return out;
  }

  policy::Request PolicyRequest(std::string path, std::string mcp_method, bool list,
                                const std::string& session) const {
    policy::Request r;
    r.path = std::move(path);
    r.mcp_method = std::move(mcp_method);
    r.list = list;
    r.session = session;
    r.env = cfg_.env;
    r.ip = current_remote_ip_;
    r.now_ns = policy::WallNanos();
    return r;
  }

  const config::ServerConfig* ServerCfg(const std::string& server) const {
    auto it = server_cfg_.find(server);
    return it == server_cfg_.end() ? nullptr : it->second;
  }

  policy::Resource ToolResource(const std::string& exposed, const Target& t) const {
    policy::Resource r;
    r.kind = "tool";
    r.server = t.server;
    r.tool = exposed;
    r.name = t.name;
    if (const config::ServerConfig* sc = ServerCfg(t.server)) {
      r.tenant = sc->tenant;
      if (auto tp = sc->tool_policy.find(t.name); tp != sc->tool_policy.end()) {
        r.action = tp->second.action;
        r.labels = tp->second.labels;
      }
    }
    return r;
  }

  policy::Resource PromptResource(const std::string& exposed, const Target& t) const {
    policy::Resource r;
    r.kind = "prompt";
    r.server = t.server;
    r.prompt = exposed;
    r.name = t.name;
    if (const config::ServerConfig* sc = ServerCfg(t.server)) r.tenant = sc->tenant;
    return r;
  }

  policy::Resource UriResource(const std::string& server, const std::string& uri) const {
    policy::Resource r;
    r.kind = "resource";
    r.server = server;
    r.uri = uri;
    if (const config::ServerConfig* sc = ServerCfg(server)) r.tenant = sc->tenant;
    return r;
  }

  using Proceed = std::function<void(Session&, uint64_t, PendingCall&, const policy::Decision*)>;

  // Asks the policy about a call; on allow runs `proceed` (the decision is null with policy off),
  // on deny answers -32004 with the reasons and records the refusal.
  void Authorize(Session& s, uint64_t stream_id, std::shared_ptr<PendingCall> c, std::string path,
                 const policy::Resource& res, Proceed proceed) {
    if (!decider_) return proceed(s, stream_id, *c, nullptr);
    policy::Request pr = PolicyRequest(std::move(path), c->msg.method, false, s.id);
    pr.args = c->params.if_contains("arguments");
    rego::Value input =
        policy::BuildInput(pr, policy::UserValue(SubjectOf(RequestIdentity(s))), res);
    decider_->Decide(input, [this, sid = s.id, stream_id, c = std::move(c),
                             proceed = std::move(proceed)](const policy::Decision& d) {
      Session* session = sessions_.Find(sid);
      if (!session) return;  // ended while the PDP was deciding
      if (d.allow) return proceed(*session, stream_id, *c, &d);
      std::string message = "Forbidden by policy";
      if (!d.reasons.empty()) message += ": " + Join(d.reasons, "; ");
      Refuse(*session, stream_id, *c, jsonrpc::kPolicyDenied, message, &d);
    });
  }

  void ForwardPending(Session& s, uint64_t stream_id, PendingCall& c, const policy::Decision* d) {
    Forward(s, stream_id, c.msg, c.server, std::move(c.params), c.target, std::move(c.request_id),
            &c, d);
  }

  // The request's id for logs and history: the client's X-Request-Id, else one of the gateway's.
  std::string RequestId(std::string given) {
    return given.empty() ? "r" + std::to_string(++request_counter_) : std::move(given);
  }

  // A request's params object, moved out of the message to be forwarded (the message keeps its id
  // and method, which are all a pending call reads of it afterwards); {} when it has none.
  static json::object TakeParams(Message& msg) {
    json::value* v = msg.obj().if_contains("params");
    if (!v || !v->is_object()) return {};
    return std::move(v->as_object());
  }

  // A copy of the call's arguments for its history row (calls the gateway answers itself); the
  // history writer redacts and hashes it, off the loop.
  history::CallArguments ArgsFor(const std::string& tool, const json::object& params) const {
    history::CallArguments args;
    args.hash_only = SensitiveTool(tool);
    // Assignment copies into args.value's own (default) memory resource, which the writer
    // thread may use.
    if (const json::value* a = params.if_contains("arguments")) args.value = *a;
    return args;
  }
  // The same, taking the arguments out of params that are done with (sent upstream): no copy, as
  // parsed messages live in the default memory resource too (a copy is ~5,000 instructions of
  // the loop's ~80,000 per call, callgrind).
  history::CallArguments TakeArgs(const std::string& tool, json::object& params) const {
    history::CallArguments args;
    args.hash_only = SensitiveTool(tool);
    if (json::value* a = params.if_contains("arguments")) args.value = std::move(*a);
    return args;
  }
  bool SensitiveTool(const std::string& tool) const {
    const auto& s = cfg_.history.sensitive_tools;
    return std::find(s.begin(), s.end(), tool) != s.end();
  }

  // The users mirror: one sighting per session start, written by the history writer.
  void SeenUser(const auth::Identity& id) {
    if (!recorder_ || id.sub.empty()) return;
    auto array = [](const std::vector<std::string>& items) {
      json::array a;
      for (const auto& i : items) a.push_back(json::value(i));
      return json::Serialize(a);
    };
    history::UserRow u;
    u.subject = id.sub;
    u.email = id.email;
    u.tenant = id.tenant;
    u.roles = array(id.roles);
    u.groups = array(id.groups);
    u.first_seen_us = u.last_seen_us = WallMicros();
    recorder_->SeenUser(std::move(u));
  }

  void Audit(std::string kind, std::string subject, std::string request_id,
             const json::object& detail) {
    if (!recorder_ && !hold_audit_) return;
    history::AuditRow a;
    a.ts_us = WallMicros();
    a.kind = std::move(kind);
    a.subject = std::move(subject);
    a.request_id = std::move(request_id);
    a.detail = json::Serialize(detail);
    if (!recorder_) return held_audit_.push_back(std::move(a));
    recorder_->Audit(std::move(a));
  }

  // A request the gateway refuses itself (policy deny, invalid params): the client gets the
  // error, history gets its row (like every MCP request) and a deny an audit event.
  void Refuse(Session& s, uint64_t stream_id, PendingCall& c, int code, const std::string& message,
              const policy::Decision* d) {
    std::string out;
    if (d) {
      json::object data;
      data["decision_id"] = d->decision_id;
      data["reasons"] = JsonStrings(d->reasons);
      json::object err;
      err["code"] = code;
      err["message"] = message;
      err["data"] = std::move(data);
      json::object o;
      o["jsonrpc"] = "2.0";
      o["id"] = c.msg.id();
      o["error"] = std::move(err);
      out = json::Serialize(o);
    } else {
      out = jsonrpc::MakeErrorResponse(c.msg.id(), code, message);
    }
    std::string request_id = RequestId(c.request_id);
    if (d) {
      log::Info("request denied by policy", {{"request_id", request_id},
                                             {"session", s.id},
                                             {"sub", LoggedSubject(s.subject)},
                                             {"method", c.msg.method},
                                             {"server", c.server},
                                             {"tool", c.target},
                                             {"decision_id", d->decision_id},
                                             {"reasons", Join(d->reasons, "; ")},
                                             {"pdp_error", d->error}});
      json::object detail;
      detail["method"] = c.msg.method;
      detail["server"] = c.server;
      detail["target"] = c.target;
      detail["decision_id"] = d->decision_id;
      detail["reasons"] = JsonStrings(d->reasons);
      detail["pdp_error"] = d->error;
      detail["remote"] = current_remote_ip_;
      Audit("policy_deny", s.subject, request_id, detail);
    }
    AnswerRecorded(s, stream_id, c, std::move(out), d ? "denied" : "error", code, d, request_id);
  }

  // What a call's history record knows from the start, whichever way the call goes (forwarded,
  // or answered by the gateway): who, what, when, and the policy's say.
  InFlight CallRecord(const Session& s, std::string server, std::string method, std::string tool,
                      const PendingCall* c, const policy::Decision* d) {
    InFlight f;
    f.session = s.id;
    f.server = std::move(server);
    f.method = std::move(method);
    f.tool = std::move(tool);
    f.start = c ? c->start : loop_.Now();
    f.ts_start_us = c ? c->ts_start_us : WallMicros();
    f.subject = s.subject;
    if (c) {
      f.action = c->action;
      f.identity = c->identity;
    }
    if (d) {
      f.decision = d->allow ? "allow" : "deny";
      f.decision_id = d->decision_id;
    }
    return f;
  }

  // Sends the answer to a call that the gateway answers itself (refused, denied, or a
  // subscription) once its history row is recorded (sync durability: committed).
  void AnswerRecorded(Session& s, uint64_t stream_id, PendingCall& c, std::string out,
                      std::string_view outcome, int64_t code, const policy::Decision* d,
                      const std::string& request_id) {
    auto deliver = [this, sid = s.id, stream_id, out = std::move(out)] {
      Session* session = sessions_.Find(sid);
      if (!session) return;
      Emit(*session, stream_id, out, true);
      FinishRequestOnStream(*session, stream_id);
    };
    if (!recorder_) return deliver();
    InFlight f = CallRecord(s, c.server, c.msg.method, c.target, &c, d);
    f.request_id = request_id;
    f.args = ArgsFor(c.target, c.params);
    history::ToolCallRow row = MakeRow(f, outcome, code, 0);
    if (d && !d->allow) row.decision_reasons = json::Serialize(JsonStrings(d->reasons));
    auto copy = deliver;
    if (!recorder_->Record(std::move(row), std::move(f.args), std::move(deliver))) copy();
  }

  // The policy item of a list entry (policy::ListItem: its path and resource). It depends only
  // on the catalog and the configuration, so it is made once per catalog (OnUpstreamChange
  // forgets them all) rather than once per list.
  rego::Value ListItemOf(const std::string& kind, const json::object& o) {
    constexpr size_t kMaxKept = 100000;  // the catalog's size, unless it is absurdly large
    const bool is_resource = kind != "tools" && kind != "prompts";
    std::string_view name = json::FindString(o, is_resource ? "uri" : "name");
    auto& kept = list_items_[kind == "tools" ? 0 : kind == "prompts" ? 1 : 2];
    if (auto it = kept.find(name); it != kept.end()) return it->second;
    std::string key(name);
    policy::Resource res;
    std::string path;
    if (kind == "tools") {
      const Target* t = catalog_.FindTool(key);
      res = t ? ToolResource(key, *t) : policy::Resource{};
      res.kind = "tool";
      path = "/tools/" + key + "/invoke";
    } else if (kind == "prompts") {
      const Target* t = catalog_.FindPrompt(key);
      res = t ? PromptResource(key, *t) : policy::Resource{};
      res.kind = "prompt";
      path = "/prompts/" + key + "/get";
    } else {
      res = UriResource(catalog_.ServerForUri(key), key);
      path = "/resources/read";
    }
    if (kept.size() >= kMaxKept) kept.clear();
    return kept.emplace(std::move(key), policy::ListItem(path, res)).first->second;
  }

  // tools/list, prompts/list, resources/list: each item is shown only if the policy would allow
  // its call (input.list = true, no arguments). One batch of decisions per list.
  void ListFiltered(Session& s, uint64_t stream_id, const Message& msg, const char* key,
                    const json::array& items) {
    if (!decider_ || items.empty()) {
      Emit(s, stream_id, jsonrpc::MakeResult(msg.id(), ListResult(key, items)), true);
      return FinishRequestOnStream(s, stream_id);
    }
    std::string k = key;
    rego::Value user = policy::UserValue(SubjectOf(RequestIdentity(s)));
    // One base input for the whole list (same user, clock and session); the items carry only
    // their path and resource (policy::ListItem), which lets the engine share the rest.
    std::string mcp_method = k == "tools"     ? "tools/call"
                             : k == "prompts" ? "prompts/get"
                                              : "resources/read";
    rego::Value base = policy::BuildInput(PolicyRequest("", mcp_method, true, s.id), user, {});
    std::vector<rego::Value> list_items;
    list_items.reserve(items.size());
    for (const auto& item : items) {
      static const json::object kNone;
      list_items.push_back(ListItemOf(k, item.is_object() ? item.get_object() : kNone));
    }
    decider_->DecideMany(
        base, std::move(list_items),
        [this, sid = s.id, stream_id, id = msg.id(), items,
         k](const std::vector<policy::Decision>& decisions) {
          Session* session = sessions_.Find(sid);
          if (!session) return;
          json::array visible;
          for (size_t i = 0; i < items.size() && i < decisions.size(); ++i) {
            if (decisions[i].allow) visible.push_back(items[i]);
          }
          // One line per filtered list (not an audit event: nothing was used), with the batch's
          // decision id.
          if (visible.size() < items.size() && !decisions.empty()) {
            log::Info("list filtered by policy",
                      {{"session", session->id},
                       {"sub", LoggedSubject(session->subject)},
                       {"method", k + "/list"},
                       {"decision_id", decisions.front().decision_id},
                       {"items", static_cast<int64_t>(items.size())},
                       {"hidden", static_cast<int64_t>(items.size() - visible.size())}});
          }
          Emit(*session, stream_id, jsonrpc::MakeResult(id, ListResult(k.c_str(), visible)), true);
          FinishRequestOnStream(*session, stream_id);
        });
  }

  void Forward(Session& s, uint64_t stream_id, const Message& msg, const std::string& server,
               json::object params, std::string tool, std::string request_id,
               const PendingCall* pending = nullptr, const policy::Decision* decision = nullptr) {
    if (recorder_ && !recorder_->Accepting()) {
      Emit(s, stream_id,
           jsonrpc::MakeErrorResponse(
               msg.id(), jsonrpc::kOverloaded,
               "history is not keeping up; call refused so that none goes unrecorded"),
           true);
      return FinishRequestOnStream(s, stream_id);
    }
    std::string route = RouteFor(s, server);
    auto& up = *upstreams_.at(route);
    InFlight f = CallRecord(s, server, msg.method, std::move(tool), pending, decision);
    f.stream = stream_id;
    f.client_id = msg.id();
    f.route = route;
    f.request_id = RequestId(std::move(request_id));
    // Progress tokens are rewritten so two clients using the same token cannot collide upstream.
    if (json::object* meta = params.contains("_meta") ? params["_meta"].if_object() : nullptr) {
      if (const json::value* tok = meta->if_contains("progressToken")) {
        f.progress_token = "p" + std::to_string(++progress_counter_);
        progress_[f.progress_token] = ProgressRoute{s.id, stream_id, *tok};
        (*meta)["progressToken"] = f.progress_token;
      }
    }
    uint64_t key = ++inflight_counter_;
    json::value sent(std::move(params));  // Call() serializes it; the history row takes it after
    int64_t upstream_id = up.Call(msg.method, sent, [this, key](Result<json::object> r) {
      OnUpstreamAnswer(key, std::move(r));
    });
    if (recorder_) f.args = TakeArgs(f.tool, sent.as_object());
    f.upstream_id = upstream_id;
    in_flight_.emplace(key, std::move(f));
    if (upstream_id >= 0) by_upstream_[route + "#" + std::to_string(upstream_id)] = key;
  }

  void OnUpstreamAnswer(uint64_t key, Result<json::object> r) {
    auto it = in_flight_.find(key);
    if (it == in_flight_.end()) return;  // the session ended or the client cancelled
    InFlight f = std::move(it->second);
    in_flight_.erase(it);
    by_upstream_.erase(f.route + "#" + std::to_string(f.upstream_id));
    if (!f.progress_token.empty()) progress_.erase(f.progress_token);
    std::string out;
    std::string outcome = "ok";
    int64_t error_code = 0;
    size_t result_bytes = 0;
    if (!r.ok()) {
      out = jsonrpc::MakeErrorResponse(f.client_id, r.error().code, r.error().message);
      outcome = r.error().code == jsonrpc::kRequestTimeout ? "timeout" : "upstream_error";
      error_code = r.error().code;
    } else {
      json::object& o = *r;
      o["id"] = f.client_id;
      if (const json::object* e = json::FindObject(o, "error")) {
        outcome = "error";
        if (const json::value* c = e->if_contains("code"); c && c->is_int64())
          error_code = c->as_int64();
      } else if (const json::object* res = json::FindObject(o, "result")) {
        if (const json::value* ie = res->if_contains("isError");
            ie && ie->is_bool() && ie->as_bool())
          outcome = "tool_error";
      }
      out = json::Serialize(o);
      result_bytes = out.size();
    }
    double ms = std::chrono::duration<double, std::milli>(loop_.Now() - f.start).count();
    log::Level level =
        outcome == "ok" || outcome == "tool_error" ? log::Level::kInfo : log::Level::kWarn;
    if (log::Enabled(level)) {
      log::Log(level, "request",
               {{"request_id", f.request_id},
                {"session", f.session},
                {"sub", LoggedSubject(f.subject)},
                {"method", f.method},
                {"server", f.server},
                {"tool", f.tool},
                {"latency_ms", ms},
                {"outcome", outcome},
                {"decision_id", f.decision_id},
                {"error_code", error_code},
                {"error", r.ok() ? std::string_view() : std::string_view(r.error().message)}});
    }
    auto deliver = [this, sid = f.session, stream = f.stream, out = std::move(out)] {
      Session* s = sessions_.Find(sid);
      if (!s) return;
      Emit(*s, stream, out, true);
      FinishRequestOnStream(*s, stream);
    };
    if (!recorder_) return deliver();
    history::ToolCallRow row = MakeRow(f, outcome, error_code, result_bytes);
    // Default durability: the answer leaves only once its record is written.
    recorder_->Record(std::move(row), std::move(f.args), std::move(deliver));
  }

  // The history row of a forwarded call that ended (answered, failed, cancelled, orphaned).
  // Takes the call's fields: `f` is done with (only its args are left, for the recorder).
  history::ToolCallRow MakeRow(InFlight& f, std::string_view outcome, int64_t error_code,
                               size_t result_bytes) {
    history::ToolCallRow row;
    row.ts_start_us = f.ts_start_us;
    row.ts_end_us = WallMicros();
    row.request_id = std::move(f.request_id);
    row.session_id = f.session;
    row.subject = std::move(f.subject);
    Session* s = sessions_.Find(f.session);
    if (s) {
      row.client_name = std::string(json::FindString(s->client_info, "name"));
      row.client_version = std::string(json::FindString(s->client_info, "version"));
    }
    std::shared_ptr<const auth::Identity> id = f.identity;
    if (!id && s) id = std::static_pointer_cast<const auth::Identity>(s->identity);
    if (id) {
      row.roles = json::Serialize(JsonStrings(id->roles));
      row.tenant = id->tenant;
    }
    row.server = std::move(f.server);
    row.method = std::move(f.method);
    row.target = std::move(f.tool);
    row.action = std::move(f.action);
    row.decision = std::move(f.decision);
    row.decision_id = std::move(f.decision_id);
    row.http_status = 200;
    row.rpc_error_code = static_cast<int>(error_code);
    row.is_error = outcome == "tool_error";
    row.outcome = std::string(outcome);
    row.latency_us =
        std::chrono::duration_cast<std::chrono::microseconds>(loop_.Now() - f.start).count();
    row.result_bytes = static_cast<int64_t>(result_bytes);
    return row;
  }

  // A forwarded call that will get no answer still gets its row: every MCP request is recorded.
  void RecordUnanswered(InFlight& f, std::string_view outcome) {
    if (!recorder_) return;
    history::ToolCallRow row = MakeRow(f, outcome, 0, 0);
    recorder_->Record(std::move(row), std::move(f.args), nullptr);
  }

  // ---------------------------------------------------------------- /api/v1

  // Every /api/v1 request is decided by the policy first (kind "api"); a deny is a 403 with the
  // reasons. The endpoints keep their own checks too (a user reads only their own history).
  void AuthorizeApi(http::Request&& req, const std::shared_ptr<http::Responder>& res) {
    IdentityPtr who = current_identity_;
    if (!decider_) return HandleApi(req, res, who);
    auto shared = std::make_shared<http::Request>(std::move(req));
    std::string path(shared->path());
    policy::Resource r;
    r.kind = "api";
    r.name = path;
    r.action = shared->method == "GET" || shared->method == "HEAD" ? "read" : "write";
    policy::Request pr = PolicyRequest(path, "api", false, "");
    pr.method = shared->method;
    rego::Value input = policy::BuildInput(pr, policy::UserValue(SubjectOf(who.get())), r);
    decider_->Decide(input, [this, shared, res, who](const policy::Decision& d) {
      if (res->Closed()) return;
      if (d.allow) return HandleApi(*shared, res, who);
      std::string sub = who ? who->sub : "";
      log::Info("API request denied by policy", {{"path", shared->path()},
                                                 {"method", shared->method},
                                                 {"sub", LoggedSubject(sub)},
                                                 {"decision_id", d.decision_id},
                                                 {"reasons", Join(d.reasons, "; ")},
                                                 {"pdp_error", d.error}});
      json::object detail;
      detail["method"] = shared->method;
      detail["path"] = shared->path();
      detail["decision_id"] = d.decision_id;
      detail["reasons"] = JsonStrings(d.reasons);
      detail["pdp_error"] = d.error;
      detail["remote"] = shared->remote_ip;
      Audit("policy_deny", sub, std::string(shared->header("x-request-id")), detail);
      json::object e;
      e["error"] = "forbidden by policy";
      e["reasons"] = JsonStrings(d.reasons);
      e["decision_id"] = d.decision_id;
      res->Send(403, JsonHeaders(), json::Serialize(e));
    });
  }

  // GET/PUT /api/v1/admin/emergency: the emergency deny switch (data.mcp.emergency), set in the
  // embedded engine or PUT to OPA. The request itself was decided by the policy (kind "api").
  void HandleEmergency(const http::Request& req, const std::shared_ptr<http::Responder>& res,
                       const IdentityPtr& who) {
    static constexpr const char* kPath = "mcp/emergency";
    if (req.method != "GET" && req.method != "PUT") return MethodNotAllowed(*res, "GET, PUT");
    if (!decider_) {
      return res->Send(
          409, JsonHeaders(),
          R"({"error":"policy is off (policy.mode: off): there is no emergency switch"})");
    }
    if (req.method == "GET") {
      decider_->GetData(kPath, [res](Result<std::optional<rego::Value>> r) {
        if (res->Closed()) return;
        if (!r.ok()) {
          json::object e;
          e["error"] = "the policy decision point cannot be read: " + r.error().message;
          return res->Send(503, JsonHeaders(), json::Serialize(e));
        }
        res->Send(200, JsonHeaders(),
                  "{\"emergency\":" + (r->has_value() ? (**r).ToJson() : "null") + "}");
      });
      return;
    }
    auto bad = [&](const char* why) {
      json::object e;
      e["error"] = why;
      res->Send(400, JsonHeaders(), json::Serialize(e));
    };
    auto body = json::Parse(req.body);
    if (!body.ok() || !body->is_object()) {
      return bad(
          R"(the body must be a JSON object {"deny_all": bool, "tools": [...], "servers": [...]})");
    }
    bool deny_all = false;
    rego::Array lists[2];
    const char* names[2] = {"tools", "servers"};
    for (const auto& kv : body->get_object()) {
      if (kv.key() == "deny_all") {
        if (!kv.value().is_bool()) return bad("deny_all must be true or false");
        deny_all = kv.value().get_bool();
        continue;
      }
      int which = kv.key() == "tools" ? 0 : kv.key() == "servers" ? 1 : -1;
      if (which < 0) return bad("unknown field; known: deny_all, tools, servers");
      if (!kv.value().is_array()) return bad("tools and servers must be lists of names");
      for (const auto& item : kv.value().get_array()) {
        if (!item.is_string()) return bad("tools and servers must be lists of names");
        lists[which].push_back(rego::Value::String(std::string(item.get_string())));
      }
    }
    rego::Value doc = rego::MakeObject({{"deny_all", rego::Value::Bool(deny_all)},
                                        {names[0], rego::Value::FromArray(lists[0])},
                                        {names[1], rego::Value::FromArray(lists[1])}});
    std::string request_id(req.header("x-request-id"));
    std::string remote = req.remote_ip;
    decider_->SetData(kPath, doc, [this, res, who, doc, request_id, remote](const Status& st) {
      std::string sub = who ? who->sub : "";
      if (!st.ok()) {
        log::Error("emergency switch not set",
                   {{"sub", LoggedSubject(sub)}, {"error", st.error().message}});
        if (res->Closed()) return;
        json::object e;
        e["error"] = "the emergency switch could not be set: " + st.error().message;
        return res->Send(503, JsonHeaders(), json::Serialize(e));
      }
      log::Warn("emergency deny changed",
                {{"sub", LoggedSubject(sub)}, {"remote", remote}, {"emergency", doc.ToJson()}});
      auto detail = json::Parse(doc.ToJson());
      json::object d;
      if (detail.ok() && detail->is_object()) d = detail->get_object();
      d["remote"] = remote;
      Audit("emergency_change", sub, request_id, d);
      if (!res->Closed()) res->Send(200, JsonHeaders(), "{\"emergency\":" + doc.ToJson() + "}");
    });
  }

  void HandleApi(const http::Request& req, const std::shared_ptr<http::Responder>& rp,
                 const IdentityPtr& who_ptr) {
    http::Responder& res = *rp;
    std::string_view path = req.path();
    if (path == "/api/v1/admin/emergency") return HandleEmergency(req, rp, who_ptr);
    if (req.method != "GET") return MethodNotAllowed(res, "GET");
    if (!recorder_) return res.Send(404, JsonHeaders(), R"({"error":"history is disabled"})");
    const auth::Identity* who = who_ptr.get();
    bool admin = who && who->HasRole("admin");
    history::Query q;
    q.server = std::string(req.query_param("server"));
    q.target = std::string(req.query_param("tool"));
    q.decision = std::string(req.query_param("decision"));
    q.outcome = std::string(req.query_param("outcome"));
    q.kind = std::string(req.query_param("kind"));
    std::string user(req.query_param("user"));
    auto number = [&](std::string_view name, int64_t* out) {
      std::string_view v = req.query_param(name);
      if (v.empty()) return true;
      char* end = nullptr;
      std::string s(v);
      long long n = std::strtoll(s.c_str(), &end, 10);
      if (*end != '\0' || n < 0) return false;
      *out = n;
      return true;
    };
    int64_t limit = 100;
    if (!number("from", &q.from_us) || !number("to", &q.to_us) || !number("cursor", &q.after_seq) ||
        !number("limit", &limit)) {
      return res.Send(
          400, JsonHeaders(),
          R"json({"error":"from, to, cursor and limit must be non-negative integers; times are microseconds since the epoch"})json");
    }
    q.limit = static_cast<int>(std::clamp<int64_t>(limit, 1, 1000));
    auto forbid = [&](const char* why) {
      json::object e;
      e["error"] = why;
      res.Send(403, JsonHeaders(), json::Serialize(e));
    };

    if (path == "/api/v1/analytics") {
      if (auth_ && !admin && !(who && who->HasRole("auditor")))
        return forbid("analytics are for admins and auditors");
      if (q.from_us == 0)
        q.from_us = WallMicros() - int64_t{7} * 24 * 3600 * 1000000;  // last 7 days
      q.limit = 1000;
      return AnalyticsPage(q, std::make_shared<Analytics>(), rp);
    }
    if (path == "/api/v1/history/export") {
      std::string_view format = req.query_param("format");
      if (format.empty()) format = "jsonl";
      if (format != "jsonl" && format != "csv") {
        return res.Send(400, JsonHeaders(), R"({"error":"format must be jsonl or csv"})");
      }
      if (auth_ && !admin) {
        if (!user.empty() && user != who->sub)
          return forbid("you may only export your own history");
        user = who->sub;
      }
      q.subject = user;
      q.limit = 1000;
      rp->StartStream(200, {{"content-type", format == "csv" ? "text/csv" : "application/x-ndjson"},
                            {"cache-control", "no-store"},
                            {"content-disposition",
                             std::string("attachment; filename=history.") + std::string(format)}});
      if (format == "csv") rp->Write(CsvHeader());
      return ExportPage(q, rp, format == "csv");
    }
    if (path == "/api/v1/history") {
      if (auth_) {
        // A user sees only their own calls; an admin sees everyone's.
        if (!admin) {
          if (!user.empty() && user != who->sub)
            return forbid("you may only read your own history");
          user = who->sub;
        }
      }
      q.subject = user;
      return QueryHistory(q, rp);
    }
    if (path == "/api/v1/audit") {
      if (auth_ && !admin && !(who && who->HasRole("auditor")))
        return forbid("the audit trail is for admins and auditors");
      q.subject = user;
      json::object filters;
      for (const char* name : {"user", "kind", "from", "to", "cursor", "limit"}) {
        std::string_view v = req.query_param(name);
        if (!v.empty()) filters[name] = v;
      }
      json::object d;
      d["filters"] = std::move(filters);
      d["format"] = "json";
      d["remote"] = req.remote_ip;
      return QueryAuditTrail(q, rp, who ? who->sub : "", std::string(req.header("x-request-id")),
                             std::move(d));
    }
    res.Send(
        404, JsonHeaders(),
        R"({"error":"not found","endpoints":["/api/v1/history","/api/v1/history/export","/api/v1/audit","/api/v1/analytics","/api/v1/admin/emergency"]})");
  }

  static json::value ParsedOr(const std::string& text, json::value fallback) {
    auto v = json::Parse(text);
    return v.ok() ? std::move(v).value() : std::move(fallback);
  }

  static json::object RowJson(const history::ToolCallRow& r) {
    json::object o;
    o["seq"] = r.seq;
    o["time_start_us"] = r.ts_start_us;
    o["time_end_us"] = r.ts_end_us;
    o["request_id"] = r.request_id;
    o["session"] = r.session_id;
    o["subject"] = r.subject;
    o["roles"] = ParsedOr(r.roles, json::array());
    o["tenant"] = r.tenant;
    json::object client;
    client["name"] = r.client_name;
    client["version"] = r.client_version;
    o["client"] = std::move(client);
    o["server"] = r.server;
    o["method"] = r.method;
    o["target"] = r.target;
    o["action"] = r.action;
    o["arguments"] = ParsedOr(r.args_redacted, json::object());
    o["arguments_sha256"] = r.args_sha256;
    o["decision"] = r.decision;
    o["decision_id"] = r.decision_id;
    o["decision_reasons"] = ParsedOr(r.decision_reasons, json::array());
    o["http_status"] = r.http_status;
    o["rpc_error_code"] = r.rpc_error_code;
    o["is_error"] = r.is_error;
    o["outcome"] = r.outcome;
    o["latency_us"] = r.latency_us;
    o["result_bytes"] = r.result_bytes;
    o["row_hash"] = r.row_hash;
    return o;
  }

  template <class Row, class ToJson>
  static void SendPage(http::Responder& res, const Result<std::vector<Row>>& rows, int limit,
                       ToJson to_json) {
    if (!rows.ok()) {
      json::object e;
      e["error"] = "history unavailable: " + rows.error().message;
      return res.Send(503, JsonHeaders(), json::Serialize(e));
    }
    json::array items;
    for (const auto& r : *rows) items.push_back(to_json(r));
    json::object body;
    body["items"] = std::move(items);
    // A full page may have more after it: the cursor is the last seq returned.
    if (static_cast<int>(rows->size()) == limit) {
      body["next_cursor"] = std::to_string(rows->back().seq);
    } else {
      body["next_cursor"] = nullptr;
    }
    res.Send(200, JsonHeaders(), json::Serialize(body));
  }

  static std::string CsvField(std::string_view v) {
    // RFC 4180 quoting; a leading = + - @ is prefixed with ' so spreadsheets do not run formulas.
    std::string out = "\"";
    if (!v.empty() && (v[0] == '=' || v[0] == '+' || v[0] == '-' || v[0] == '@')) out += '\'';
    for (char c : v) {
      if (c == '"') out += '"';
      out += c;
    }
    out += '"';
    return out;
  }

  static std::string CsvHeader() {
    return "seq,time_start_us,time_end_us,request_id,session,subject,roles,tenant,client_name,"
           "client_version,server,method,target,action,arguments,arguments_sha256,decision,"
           "decision_id,http_status,rpc_error_code,is_error,outcome,latency_us,result_bytes,row_"
           "hash\r\n";
  }

  static std::string CsvRow(const history::ToolCallRow& r) {
    std::string line;
    auto num = [&](int64_t v) { line += std::to_string(v) + ","; };
    auto str = [&](std::string_view v) { line += CsvField(v) + ","; };
    num(r.seq);
    num(r.ts_start_us);
    num(r.ts_end_us);
    for (const std::string* f :
         {&r.request_id, &r.session_id, &r.subject, &r.roles, &r.tenant, &r.client_name,
          &r.client_version, &r.server, &r.method, &r.target, &r.action, &r.args_redacted,
          &r.args_sha256, &r.decision, &r.decision_id}) {
      str(*f);
    }
    num(r.http_status);
    num(r.rpc_error_code);
    num(r.is_error ? 1 : 0);
    str(r.outcome);
    num(r.latency_us);
    num(r.result_bytes);
    line += CsvField(r.row_hash) + "\r\n";
    return line;
  }

  // Streams the export a page at a time: memory stays flat however large the history is, and a
  // client that goes away stops the export.
  void ExportPage(history::Query q, const std::shared_ptr<http::Responder>& res, bool csv) {
    recorder_->QueryToolCalls(
        q, [this, q, res, csv](const Result<std::vector<history::ToolCallRow>>& rows) mutable {
          if (res->Closed()) return;
          if (!rows.ok()) {
            log::Error("history export failed", {{"error", rows.error().message}});
            // Say so in the stream itself: a clean end would look like a complete export.
            json::object e;
            e["error"] = "export failed: " + rows.error().message;
            res->Write(csv ? "# " + json::Serialize(e) + "\r\n" : json::Serialize(e) + "\n");
            return res->End();
            // final newline count
          }
          std::string chunk;
          for (const auto& r : *rows) chunk += csv ? CsvRow(r) : json::Serialize(RowJson(r)) + "\n";
          if (!chunk.empty()) res->Write(chunk);
          if (static_cast<int>(rows->size()) < q.limit) return res->End();
          q.after_seq = rows->back().seq;
          ExportPage(q, res, csv);
        });
  }

  struct Analytics {
    struct Tool {
      int64_t calls = 0, errors = 0, denies = 0;
      std::vector<int64_t> latency_us;
    };
    std::map<std::string, Tool> tools;  // "server/target"
    std::map<std::string, int64_t> users, days;
    int64_t calls = 0, errors = 0, denies = 0;
    bool truncated = false;
  };

  static bool IsError(const history::ToolCallRow& r) {
    return r.outcome != "ok" && r.outcome != "denied";
  }

  // Folds pages of rows into counts and latency percentiles (the same for SQLite and PostgreSQL),
  // up to a million rows per request.
  void AnalyticsPage(history::Query q, const std::shared_ptr<Analytics>& a,
                     const std::shared_ptr<http::Responder>& res) {
    recorder_->QueryToolCalls(
        q, [this, q, a, res](const Result<std::vector<history::ToolCallRow>>& rows) mutable {
          if (res->Closed()) return;
          if (!rows.ok()) return SendPage(*res, rows, q.limit, RowJson);
          for (const auto& r : *rows) {
            ++a->calls;
            auto& t = a->tools[r.server + "/" + r.target];
            ++t.calls;
            t.latency_us.push_back(r.latency_us);
            bool denied = r.decision == "deny" || r.outcome == "denied";
            if (denied) {
              ++t.denies;
              ++a->denies;
            } else if (IsError(r)) {
              ++t.errors;
              ++a->errors;
            }
            ++a->users[r.subject];
            std::time_t secs = static_cast<std::time_t>(r.ts_start_us / 1000000);
            std::tm tm{};
            gmtime_r(&secs, &tm);
            char day[32];
            std::snprintf(day, sizeof day, "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1,
                          tm.tm_mday);
            ++a->days[day];
          }
          bool more = static_cast<int>(rows->size()) == q.limit;
          if (more && a->calls < 1000000) {
            q.after_seq = rows->back().seq;
            return AnalyticsPage(q, a, res);
          }
          a->truncated = more;
          res->Send(200, JsonHeaders(), AnalyticsJson(*a, q));
        });
  }

  static std::string AnalyticsJson(Analytics& a, const history::Query& q) {
    auto rate = [](int64_t n, int64_t d) {
      return d ? static_cast<double>(n) / static_cast<double>(d) : 0.0;
    };
    auto pct = [](std::vector<int64_t>& v, double p) -> int64_t {
      if (v.empty()) return 0;
      auto i = static_cast<size_t>(std::lround(p * static_cast<double>(v.size() - 1)));
      return v[i];
    };
    json::object body;
    body["from_us"] = q.from_us;
    if (q.to_us) body["to_us"] = q.to_us;
    body["calls"] = a.calls;
    body["error_rate"] = rate(a.errors, a.calls);
    body["deny_rate"] = rate(a.denies, a.calls);
    body["truncated"] = a.truncated;
    json::array tools;
    for (auto& [name, t] : a.tools) {
      std::sort(t.latency_us.begin(), t.latency_us.end());
      json::object o;
      o["tool"] = name;
      o["calls"] = t.calls;
      o["error_rate"] = rate(t.errors, t.calls);
      o["deny_rate"] = rate(t.denies, t.calls);
      o["latency_p50_us"] = pct(t.latency_us, 0.50);
      o["latency_p95_us"] = pct(t.latency_us, 0.95);
      o["latency_p99_us"] = pct(t.latency_us, 0.99);
      tools.push_back(std::move(o));
    }
    body["per_tool"] = std::move(tools);
    json::object users;
    for (const auto& [u, n] : a.users) users[u.empty() ? "(anonymous)" : u] = n;
    body["per_user"] = std::move(users);
    json::object days;
    for (const auto& [d, n] : a.days) days[d] = n;
    body["per_day"] = std::move(days);
    return json::Serialize(body);
  }

  void QueryHistory(const history::Query& q, const std::shared_ptr<http::Responder>& res) {
    recorder_->QueryToolCalls(
        q, [res, limit = q.limit](const Result<std::vector<history::ToolCallRow>>& rows) {
          SendPage(*res, rows, limit, RowJson);
        });
  }

  // Serves a page of the audit trail; a page served is itself audited (`audit_read`: who looked,
  // with which filters).
  void QueryAuditTrail(const history::Query& q, const std::shared_ptr<http::Responder>& res,
                       std::string reader, std::string request_id, json::object detail) {
    recorder_->QueryAudit(q, [this, res, limit = q.limit, reader = std::move(reader),
                              request_id = std::move(request_id), detail = std::move(detail)](
                                 const Result<std::vector<history::AuditRow>>& rows) mutable {
      if (rows.ok()) {
        detail["rows"] = static_cast<int64_t>(std::min(rows->size(), static_cast<size_t>(limit)));
        Audit("audit_read", reader, request_id, detail);
      }
      SendPage(*res, rows, limit, AuditJson);
    });
  }

  static json::object AuditJson(const history::AuditRow& r) {
    json::object o;
    o["seq"] = r.seq;
    o["time_us"] = r.ts_us;
    o["kind"] = r.kind;
    o["subject"] = r.subject;
    o["request_id"] = r.request_id;
    o["detail"] = ParsedOr(r.detail, json::object());
    o["row_hash"] = r.row_hash;
    return o;
  }

  void OnClientMessage(Session& s, Message&& msg) {
    if (msg.kind == Kind::kResponse) {
      // The client answers a server->client request we relayed.
      std::string key =
          msg.id().is_string() ? std::string(msg.id().get_string()) : json::Serialize(msg.id());
      auto it = server_requests_.find(key);
      if (it == server_requests_.end() || it->second.session != s.id) {
        log::Debug("response to an unknown request id ignored", {{"session", s.id}});
        return;
      }
      ServerRequest sr = std::move(it->second);
      server_requests_.erase(it);
      msg.obj()["id"] = sr.upstream_id;
      if (auto up = upstreams_.find(sr.server); up != upstreams_.end())
        up->second->SendResponse(json::Serialize(msg.doc));
      return;
    }
    const std::string& m = msg.method;
    if (m == "notifications/initialized") {
      s.initialized = true;
    } else if (m == "notifications/cancelled") {
      const json::object* p = msg.params() ? msg.params()->if_object() : nullptr;
      const json::value* rid = p ? p->if_contains("requestId") : nullptr;
      if (!rid) return;
      for (auto it = in_flight_.begin(); it != in_flight_.end(); ++it) {
        if (it->second.session == s.id && it->second.client_id == *rid) {
          InFlight f = std::move(it->second);
          in_flight_.erase(it);
          by_upstream_.erase(f.route + "#" + std::to_string(f.upstream_id));
          if (!f.progress_token.empty()) progress_.erase(f.progress_token);
          if (auto up = upstreams_.find(f.route); up != upstreams_.end()) {
            up->second->Cancel(f.upstream_id, json::FindString(*p, "reason"));
          }
          RecordUnanswered(f, "cancelled");
          FinishRequestOnStream(s, f.stream);
          break;
        }
      }
    } else if (m == "notifications/roots/list_changed") {
      for (auto& [name, up] : upstreams_) {
        if (up->state() == upstream::State::kReady) up->Notify(m, nullptr);
      }
    }
  }

  // ---------------------------------------------------------------- upstream -> client

  // Which client call a server-initiated message belongs to: exact over Streamable HTTP (the
  // response stream it came on); over stdio, the only call in flight on that server, if any.
  const InFlight* RelatedCall(const std::string& route, std::optional<int64_t> related) {
    if (related) {
      auto it = by_upstream_.find(route + "#" + std::to_string(*related));
      return it == by_upstream_.end() ? nullptr : &in_flight_.at(it->second);
    }
    const InFlight* found = nullptr;
    for (const auto& [k, f] : in_flight_) {
      if (f.route != route) continue;
      if (found && found->session != f.session)
        return nullptr;  // ambiguous: never guess across sessions
      if (!found || f.start >= found->start) found = &f;
    }
    return found;
  }

  void OnUpstreamRequest(const std::string& server, Message&& msg, std::optional<int64_t> related) {
    auto& up = *upstreams_.at(server);
    const InFlight* call = RelatedCall(server, related);
    Session* s = call ? sessions_.Find(call->session) : nullptr;
    auto refuse = [&](std::string_view why, log::Level level = log::Level::kWarn) {
      if (log::Enabled(level)) {
        log::Log(level, "server request refused",
                 {{"server", server}, {"method", msg.method}, {"reason", why}});
      }
      up.SendResponse(jsonrpc::MakeErrorResponse(msg.id(), jsonrpc::kInvalidRequest, why));
    };
    if (!s) {
      bool any_call = std::any_of(in_flight_.begin(), in_flight_.end(),
                                  [&](const auto& kv) { return kv.second.route == server; });
      if (!any_call) {
        // Expected, e.g. server-filesystem asks for roots while it starts: no client is there to
        // answer, and the server falls back to its own configuration.
        return refuse(
            "mcpgw: no client call is in flight on this upstream, so no client can answer (a "
            "server's requests reach the client whose call it is serving)",
            log::Level::kInfo);
      }
      return refuse(
          "mcpgw: cannot tell which client this request is for (several sessions have calls in "
          "flight on this shared upstream; configure 'isolation: session' for exact routing)");
    }
    std::string_view cap = msg.method == "sampling/createMessage" ? "sampling"
                           : msg.method == "elicitation/create"   ? "elicitation"
                           : msg.method == "roots/list"           ? "roots"
                                                                  : "";
    if (!cap.empty() && !s->HasClientCapability(cap))
      return refuse("client does not support " + std::string(cap));
    std::string down_id = "mcpgw-" + std::to_string(++server_request_counter_);
    server_requests_[down_id] = ServerRequest{server, msg.id(), s->id};
    msg.obj()["id"] = down_id;
    Emit(*s, call->stream, json::Serialize(msg.doc), false);
  }

  void OnUpstreamNotification(const std::string& server, Message&& msg,
                              std::optional<int64_t> related) {
    const std::string& m = msg.method;
    json::object* p = msg.obj().contains("params") ? msg.obj()["params"].if_object() : nullptr;
    if (m == "notifications/progress") {
      if (!p) return;
      const json::value* tok = p->if_contains("progressToken");
      if (!tok || !tok->is_string()) return;
      auto it = progress_.find(std::string(tok->get_string()));
      if (it == progress_.end()) return;
      Session* s = sessions_.Find(it->second.session);
      if (!s) return;
      (*p)["progressToken"] = it->second.client_token;
      return Emit(*s, it->second.stream, json::Serialize(msg.doc), false);
    }
    if (m == "notifications/message") {
      const InFlight* call = RelatedCall(server, related);
      Session* s = call ? sessions_.Find(call->session) : nullptr;
      if (!s) return;
      int level = p ? LogLevelIndex(json::FindString(*p, "level")) : -1;
      if (s->log_level_set && level >= 0 && level < s->log_level) return;
      if (p && !p->contains("logger")) (*p)["logger"] = server;
      return Emit(*s, call->stream, json::Serialize(msg.doc), false);
    }
    if (m == "notifications/cancelled") {
      // The upstream gives up on a request it sent to a client.
      if (!p) return;
      const json::value* rid = p->if_contains("requestId");
      for (auto it = server_requests_.begin(); rid && it != server_requests_.end(); ++it) {
        if (it->second.server == server && it->second.upstream_id == *rid) {
          Session* s = sessions_.Find(it->second.session);
          (*p)["requestId"] = it->first;
          server_requests_.erase(it);
          if (s) Emit(*s, s->standalone_stream, json::Serialize(msg.doc), false);
          return;
        }
      }
      return;
    }
    if (m == "notifications/resources/updated") {
      std::string uri = p ? std::string(json::FindString(*p, "uri")) : "";
      auto it = subscribers_.find(uri);
      if (it == subscribers_.end()) return;
      std::string text = json::Serialize(msg.doc);
      for (const auto& sid : it->second) {
        if (Session* s = sessions_.Find(sid)) Emit(*s, s->standalone_stream, text, false);
      }
      return;
    }
    // list_changed is handled through on_change (the catalog is refreshed first).
  }

  void Subscribe(const std::string& uri, Session& s, const std::string& server) {
    s.subscriptions.insert(uri);
    auto& subs = subscribers_[uri];
    bool first = subs.empty();
    subs.insert(s.id);
    if (first) {
      auto& up = *upstreams_.at(server);
      json::object params;
      params["uri"] = uri;
      subscription_server_[uri] = server;
      up.Call("resources/subscribe", std::move(params), [uri](Result<json::object> r) {
        if (!r.ok() || r->contains("error"))
          log::Warn("upstream refused a subscription", {{"uri", uri}});
      });
    }
  }

  void Unsubscribe(const std::string& uri, const std::string& sid) {
    auto it = subscribers_.find(uri);
    if (it == subscribers_.end()) return;
    it->second.erase(sid);
    if (!it->second.empty()) return;
    subscribers_.erase(it);
    auto srv = subscription_server_.find(uri);
    if (srv == subscription_server_.end()) return;
    if (auto up = upstreams_.find(srv->second);
        up != upstreams_.end() && up->second->state() == upstream::State::kReady) {
      json::object params;
      params["uri"] = uri;
      up->second->Call("resources/unsubscribe", std::move(params),
                       [](const Result<json::object>&) {});
    }
    subscription_server_.erase(srv);
  }

  void OnUpstreamChange() {
    std::vector<UpstreamLists> lists;
    for (const auto& name : upstream_order_) {
      const auto& up = *upstreams_.at(name);
      UpstreamLists l;
      l.server = name;
      l.tools = up.catalog().tools;  // a server that is down: its last list (see UpstreamLists)
      l.ready = up.state() == upstream::State::kReady;
      if (l.ready) {
        l.prompts = up.catalog().prompts;
        l.resources = up.catalog().resources;
        l.resource_templates = up.catalog().resource_templates;
      }
      l.tools_allow = up.server_config().tools_allow;
      l.tools_deny = up.server_config().tools_deny;
      lists.push_back(std::move(l));
    }
    std::string tools_fp = catalog_.tools_fingerprint();
    std::string prompts_fp = catalog_.prompts_fingerprint();
    std::string res_fp = catalog_.resources_fingerprint();
    catalog_.Rebuild(lists, cfg_.tool_prefix, cfg_.prefix_separator);
    for (auto& kept : list_items_) kept.clear();
    if (tools_fp != catalog_.tools_fingerprint()) Broadcast("notifications/tools/list_changed");
    if (prompts_fp != catalog_.prompts_fingerprint())
      Broadcast("notifications/prompts/list_changed");
    if (res_fp != catalog_.resources_fingerprint())
      Broadcast("notifications/resources/list_changed");
  }

  void Broadcast(const char* method) {
    std::string text = jsonrpc::MakeNotification(method, nullptr);
    sessions_.ForEach([&](Session& s) {
      if (s.initialized && s.standalone_stream) Emit(s, s.standalone_stream, text, false);
    });
  }

  // ---------------------------------------------------------------- lifecycle

  void ScheduleSweep() {
    int64_t every_ms = std::clamp<int64_t>(cfg_.session_idle_timeout_s * 1000 / 4, 250, 30000);
    sweep_timer_ = loop_.After(io::Millis(every_ms), [this] {
      auto cutoff = loop_.Now() - std::chrono::seconds(cfg_.session_idle_timeout_s);
      for (const auto& sid : sessions_.Idle(cutoff)) EndSession(sid, "idle timeout");
      ScheduleSweep();
    });
  }

  void ReloadPolicy() override {
    if (!decider_) return;
    log::Info("reloading the policy (SIGHUP)");
    decider_->Reload();
  }

  void SessionClientStopped() {
    if (--session_clients_stopping_ == 0 && on_session_clients_stopped_) {
      auto f = std::move(on_session_clients_stopped_);
      on_session_clients_stopped_ = nullptr;
      f();
    }
  }

  void Shutdown(std::function<void()> done, std::string_view reason) override {
    if (serving_) {  // before the recorder drains (last, below), so the row is written
      serving_ = false;
      json::object d;
      d["sessions"] = static_cast<int64_t>(sessions_.size());
      d["uptime_s"] = (WallMicros() - started_us_) / 1000000;
      if (!reason.empty()) d["signal"] = reason;
      Audit("service_stop", "", "", d);
    }
    loop_.Cancel(sweep_timer_);
    if (decider_) decider_->Stop();
    if (auth_) auth_->Stop();
    std::vector<std::string> ids;
    sessions_.ForEach([&](Session& s) { ids.push_back(s.id); });
    for (const auto& id : ids) EndSession(id, "gateway shutting down");
    // Shared upstreams, plus (as one) the per-session ones still being stopped: the process
    // must not exit before every child it started is reaped.
    auto remaining =
        std::make_shared<size_t>(upstreams_.size() + (session_clients_stopping_ > 0 ? 1 : 0));
    // The recorder drains last: every answered call is written before the process exits.
    auto fin = std::make_shared<std::function<void()>>([this, done = std::move(done)] {
      if (recorder_) recorder_->Stop();
      if (done) done();
    });
    if (*remaining == 0) {
      if (*fin) (*fin)();
      return;
    }
    if (session_clients_stopping_ > 0) {
      on_session_clients_stopped_ = [remaining, fin] {
        if (--*remaining == 0 && *fin) (*fin)();
      };
    }
    for (auto& [name, up] : upstreams_) {
      up->Stop([remaining, fin] {
        if (--*remaining == 0 && *fin) (*fin)();
      });
    }
  }

  io::Loop& loop_;
  const config::Config& cfg_;
  std::unique_ptr<upstream::Spawner> spawner_;
  std::unique_ptr<http::Client> http_client_;
  std::unordered_map<std::string, std::unique_ptr<upstream::McpClient>> upstreams_;
  std::vector<std::string> upstream_order_;
  SessionTable sessions_;
  Catalog catalog_;
  std::unordered_map<uint64_t, InFlight> in_flight_;
  std::unordered_map<std::string, uint64_t> by_upstream_;  // "server#upstream_id" -> in_flight key
  std::unordered_map<std::string, ProgressRoute> progress_;
  std::unordered_map<std::string, std::vector<std::string>> session_routes_;  // session -> routes
  std::unordered_map<std::string, ServerRequest> server_requests_;
  // ListItemOf: tools, prompts and resources by name or URI, for the current catalog.
  std::array<std::unordered_map<std::string, rego::Value, StringHash, std::equal_to<>>, 3>
      list_items_;
  std::unordered_map<std::string, std::set<std::string>> subscribers_;  // uri -> session ids
  std::unordered_map<std::string, std::string> subscription_server_;
  std::unique_ptr<auth::Authenticator> auth_;
  std::unique_ptr<history::Recorder> recorder_;
  IdentityPtr current_identity_;  // of the request being routed (set in Route)
  std::set<std::string> allowed_hosts_;
  bool allowed_any_ = false;
  uint64_t inflight_counter_ = 0, progress_counter_ = 0, server_request_counter_ = 0,
           request_counter_ = 0;
  io::TimerId sweep_timer_ = 0;
  size_t session_clients_stopping_ = 0;  // isolation: session clients stopped, not yet reaped
  std::function<void()> on_session_clients_stopped_;
  std::map<std::string, const config::ServerConfig*> server_cfg_;
  std::string current_remote_ip_;  // of the request being routed (set in Route)
  bool hold_audit_ = false;        // Start() until the recorder runs: Audit() keeps rows here
  std::vector<history::AuditRow> held_audit_;
  bool serving_ = false;  // Start() succeeded and Shutdown() has not begun
  int64_t started_us_ = 0;
  // Last: destroyed first, while the loop and the HTTP client it uses still exist.
  std::unique_ptr<policy::Decider> decider_;
};

}  // namespace

std::unique_ptr<Gateway> NewGateway(io::Loop& loop, const config::Config& config) {
  return std::make_unique<GatewayImpl>(loop, config);
}

}  // namespace mcpgw::gateway
