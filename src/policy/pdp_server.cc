#include "policy/pdp_server.h"

#include <signal.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "common/log.h"
#include "policy/decider.h"

namespace mcpgw::policy {
namespace {

const http::Headers& JsonHeaders() {
  static const http::Headers h = {{"content-type", "application/json"}};
  return h;
}

std::string Quote(std::string_view s) { return rego::Value::String(std::string(s)).ToJson(); }

DataApi::Response OpaError(int status, std::string_view code, std::string_view message) {
  return {status, JsonHeaders(),
          "{\"code\":" + Quote(code) + ",\"message\":" + Quote(message) + "}"};
}

int Hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Percent-decoding ('+' stays as is in paths, is a space in query values).
std::string Unescape(std::string_view s, bool plus_is_space) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && Hex(s[i + 1]) >= 0 && Hex(s[i + 2]) >= 0) {
      out += static_cast<char>(Hex(s[i + 1]) * 16 + Hex(s[i + 2]));
      i += 2;
    } else if (s[i] == '+' && plus_is_space) {
      out += ' ';
    } else {
      out += s[i];
    }
  }
  return out;
}

bool IsTrue(std::string_view v) { return v == "true" || v == "1"; }

bool Blank(std::string_view s) { return s.find_first_not_of(" \t\r\n") == std::string_view::npos; }

}  // namespace

DataApi::Response DataApi::Handle(const http::Request& req) {
  std::string_view path = req.path();
  if (path == "/health") {
    if (req.method != "GET" && req.method != "HEAD")
      return OpaError(405, "invalid_parameter", "method not allowed");
    if (!store_.Current()) {
      return {500, JsonHeaders(),
              "{\"error\":" + Quote("no policy loaded: " + store_.last_error()) + "}"};
    }
    return {200, JsonHeaders(), "{}"};
  }
  if (path != "/v1/data" && path.rfind("/v1/data/", 0) != 0) {
    return OpaError(404, "resource_not_found", "not found: " + std::string(path));
  }
  std::vector<std::string> segments;
  for (const auto& s : SplitPath(std::string(path.substr(8)))) {
    segments.push_back(Unescape(s, false));
  }
  if (req.method == "GET" || req.method == "POST") return Evaluate(req, segments);
  if (req.method == "PUT") return Put(req, segments);
  if (req.method == "DELETE") return Delete(segments);
  Response r = OpaError(405, "invalid_parameter", "method not allowed");
  r.headers.push_back({"allow", "GET, POST, PUT, DELETE"});
  return r;
}

DataApi::Response DataApi::Evaluate(const http::Request& req,
                                    const std::vector<std::string>& path) {
  std::optional<rego::Value> input;
  bool input_missing = false;
  if (req.method == "POST") {
    if (Blank(req.body)) {
      input_missing = true;
    } else {
      auto body = rego::Value::ParseJson(req.body);
      if (!body.ok()) {
        return OpaError(400, "invalid_parameter",
                        "body contains malformed input document: " + body.error().message);
      }
      if (!body->is_object()) {
        return OpaError(400, "invalid_parameter",
                        "body contains malformed input document: must be an object with an "
                        "\"input\" key");
      }
      if (const rego::Value* in = body->Get("input")) {
        input = *in;
      } else {
        input_missing = true;
      }
    }
  } else if (std::string_view q = req.query_param("input"); !q.empty()) {
    auto parsed = rego::Value::ParseJson(Unescape(q, true));
    if (!parsed.ok()) {
      return OpaError(400, "invalid_parameter",
                      "input parameter is not valid JSON: " + parsed.error().message);
    }
    input = std::move(parsed).value();
  }
  std::shared_ptr<const rego::Policy> policy = store_.Current();
  if (!policy) return OpaError(500, "internal_error", "no policy loaded: " + store_.last_error());
  rego::EvalOptions opts;
  opts.strict_builtin_errors = IsTrue(req.query_param("strict-builtin-errors"));
  auto start = std::chrono::steady_clock::now();
  auto r = policy->EvalPath(path, input ? &*input : nullptr, opts);
  auto ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - start)
          .count();
  if (!r.ok()) {
    std::string msg = r.error().message;
    std::string_view code = rego::ErrorCodeName(r.error().code);
    if (!code.empty() && msg.find(code) == std::string::npos) msg = std::string(code) + ": " + msg;
    return OpaError(500, "internal_error", msg);
  }
  std::string body = "{\"decision_id\":" + Quote(NewDecisionId());
  if (r->has_value()) body += ",\"result\":" + (**r).ToJson();
  if (IsTrue(req.query_param("metrics"))) {
    body += ",\"metrics\":{\"timer_rego_query_eval_ns\":" + std::to_string(ns) + "}";
  }
  if (input_missing) {
    body +=
        ",\"warning\":{\"code\":\"api_usage_warning\",\"message\":\"'input' key missing from the "
        "request\"}";
  }
  body += "}";
  return {200, JsonHeaders(), std::move(body)};
}

DataApi::Response DataApi::Put(const http::Request& req, const std::vector<std::string>& path) {
  auto value = rego::Value::ParseJson(Blank(req.body) ? "null" : req.body);
  if (!value.ok()) {
    return OpaError(400, "invalid_parameter",
                    "body contains malformed JSON document: " + value.error().message);
  }
  if (req.header("if-none-match") == "*" && store_.GetData(path)) return {304, {}, ""};
  Status s = store_.SetData(path, *value);
  if (!s.ok()) return OpaError(400, "invalid_parameter", s.error().message);
  std::string p;
  for (const auto& seg : path) p += "/" + seg;
  log::Info("data replaced", {{"path", p.empty() ? "/" : p}});
  return {204, {}, ""};
}

DataApi::Response DataApi::Delete(const std::vector<std::string>& path) {
  std::string p;
  for (const auto& seg : path) p += "/" + seg;
  if (!store_.GetData(path)) {
    return OpaError(
        404, "resource_not_found",
        "storage_not_found_error: " + (p.empty() ? "/" : p) + ": document does not exist");
  }
  Status s = store_.DeleteData(path);
  if (!s.ok()) return OpaError(400, "invalid_parameter", s.error().message);
  log::Info("data deleted", {{"path", p.empty() ? "/" : p}});
  return {204, {}, ""};
}

Result<std::pair<std::string, int>> ParseListenAddress(std::string_view addr) {
  std::string host;
  std::string_view port;
  if (!addr.empty() && addr.front() == '[') {
    size_t close = addr.find(']');
    if (close == std::string_view::npos || close + 1 >= addr.size() || addr[close + 1] != ':')
      return MakeError("--addr must be host:port, got '" + std::string(addr) + "'");
    host = std::string(addr.substr(1, close - 1));
    port = addr.substr(close + 2);
  } else {
    size_t colon = addr.rfind(':');
    if (colon == std::string_view::npos)
      return MakeError("--addr must be host:port, got '" + std::string(addr) + "'");
    host = std::string(addr.substr(0, colon));
    port = addr.substr(colon + 1);
  }
  if (host.empty()) host = "0.0.0.0";
  std::string p(port);
  char* end = nullptr;
  long n = std::strtol(p.c_str(), &end, 10);
  if (p.empty() || *end != '\0' || n < 0 || n > 65535)
    return MakeError("--addr needs a port from 0 to 65535, got '" + std::string(addr) + "'");
  return std::make_pair(host, static_cast<int>(n));
}

int RunPdp(const std::string& addr, const std::vector<std::string>& paths,
           int64_t reload_interval_ms) {
  log::Format format = log::Format::kJson;
  if (const char* f = std::getenv("LOG_FORMAT")) log::ParseFormat(f, &format);
  log::Level level = log::Level::kInfo;
  if (const char* l = std::getenv("GATEWAY_LOG_LEVEL")) log::ParseLevel(l, &level);
  log::Configure(level, format, "mcpgw-pdp");
  auto listen = ParseListenAddress(addr);
  if (!listen.ok()) {
    std::fprintf(stderr, "mcpgw pdp: %s\n", listen.error().message.c_str());
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  auto loop = io::NewLoop();
  PolicyStore store(*loop, paths, reload_interval_ms);
  // A policy that does not load yet is not fatal: /health says so and the files are watched.
  (void)store.Load();
  store.StartWatching();
  DataApi api(store);
  http::ServerOptions opts;
  opts.host = listen->first;
  opts.port = listen->second;
  auto server = http::NewServer(
      *loop, opts, [&api](http::Request&& req, const std::shared_ptr<http::Responder>& res) {
        DataApi::Response r = api.Handle(req);
        res->Send(r.status, std::move(r.headers), std::move(r.body));
      });
  auto port = server->Listen();
  if (!port.ok()) {
    log::Error("cannot listen", {{"address", addr}, {"error", port.error().message}});
    return 1;
  }
  std::string joined;
  for (const auto& p : paths) joined += (joined.empty() ? "" : ",") + p;
  std::string shown = listen->first.find(':') != std::string::npos
                          ? "[" + listen->first + "]:" + std::to_string(*port)
                          : listen->first + ":" + std::to_string(*port);
  log::Info("pdp listening", {{"address", shown}, {"paths", joined}});
  loop->OnSignal(SIGHUP, [&] {
    log::Info("SIGHUP: reloading the policy");
    (void)store.Reload(/*force=*/true);
  });
  auto shutdown = [&](const char* why) {
    log::Info("shutting down", {{"reason", why}});
    store.StopWatching();
    server->Stop();
    loop->Stop();
  };
  loop->OnSignal(SIGTERM, [&] { shutdown("SIGTERM"); });
  loop->OnSignal(SIGINT, [&] { shutdown("SIGINT"); });
  loop->Run();
  log::Info("stopped");
  return 0;
}

}  // namespace mcpgw::policy
