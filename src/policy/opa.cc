// The remote PDP: OPA (or `mcpgw pdp`) over its Data API.
//
//   POST {url}/v1/data/{decision_path}  {"input": ...}  ->  {"result": true|false, "decision_id"?}
//   POST {url}/v1/data/{package}/reasons (on deny)       ->  {"result": [...]}
//   PUT  {url}/v1/data/{path}           (runtime data)   ->  204
//   GET  {url}/health                   (readiness, every few seconds)
//
// Each exchange has a deadline (a loop timer that cancels the HTTP call); connections are kept
// alive by the shared http::Client. Anything but a 200 with a boolean `result` in time is a deny,
// told to the client as "policy decision point unavailable" and logged with the details.
#include <map>

#include "common/log.h"
#include "policy/decider.h"
#include "policy/input.h"

namespace mcpgw::policy {
namespace {

constexpr size_t kMaxBody = size_t{1} << 20;
constexpr size_t kMaxParallel = 16;  // DecideMany: requests in flight at once
constexpr io::Millis kHealthEvery{2000};
constexpr io::Millis kHealthTimeout{1000};
constexpr io::Millis kDataTimeout{5000};

class OpaDecider : public Decider {
 public:
  OpaDecider(io::Loop& loop, http::Client& client, const config::PolicyConfig& cfg)
      : loop_(loop),
        client_(client),
        url_(cfg.opa_url),
        decision_path_(cfg.decision_path),
        timeout_(cfg.timeout_ms) {
    std::vector<std::string> parts = SplitPath(cfg.decision_path);
    std::string reasons;
    for (size_t i = 0; i + 1 < parts.size(); ++i) reasons += parts[i] + "/";
    decision_url_ = url_ + "/v1/data/" + cfg.decision_path;
    reasons_url_ = url_ + "/v1/data/" + reasons + "reasons";
  }

  ~OpaDecider() override { Stop(); }

  Status Start() override {
    stopped_ = false;
    CheckHealth();
    return {};
  }

  void Stop() override {
    stopped_ = true;
    if (health_timer_) loop_.Cancel(health_timer_);
    health_timer_ = 0;
    // Outstanding exchanges end now; their callbacks deny.
    while (!calls_.empty()) Finish(calls_.begin()->first, 0, "", "the gateway is stopping");
  }

  void Decide(const rego::Value& input, Done done) override {
    std::string body = "{\"input\":" + input.ToJson() + "}";
    Exchange("POST", decision_url_, body, timeout_,
             [this, done = std::move(done), body](int status, const std::string& resp,
                                                  const std::string& err) mutable {
               OnDecision(status, resp, err, std::move(body), std::move(done));
             });
  }

  void DecideMany(const rego::Value& base, std::vector<rego::Value> items, DoneMany done) override {
    if (items.empty()) return done({});
    auto st = std::make_shared<Batch>();
    st->out.resize(items.size());
    st->remaining = items.size();
    st->inputs.reserve(items.size());
    for (const auto& item : items) st->inputs.push_back(WithItem(base, item));
    st->done = std::move(done);
    Pump(st);
  }

  void SetData(const std::string& path, const rego::Value& value,
               std::function<void(Status)> done) override {
    std::string url = url_ + "/v1/data/" + path;
    Exchange("PUT", url, value.ToJson(), kDataTimeout,
             [path, done = std::move(done)](int status, const std::string& resp,
                                            const std::string& err) {
               Status s;
               if (!err.empty()) {
                 s = MakeError("OPA cannot be reached: " + err);
               } else if (status != 204 && status != 200) {
                 s = MakeError("OPA answered HTTP " + std::to_string(status) + ": " +
                               resp.substr(0, 300));
               }
               if (s.ok()) {
                 log::Info("policy data replaced in OPA", {{"path", path}});
               } else {
                 log::Warn("policy data not replaced in OPA",
                           {{"path", path}, {"error", s.error().message}});
               }
               if (done) done(std::move(s));
             });
  }

  void GetData(const std::string& path,
               std::function<void(Result<std::optional<rego::Value>>)> done) override {
    Exchange("GET", url_ + "/v1/data/" + path, "", kDataTimeout,
             [done = std::move(done)](int status, const std::string& resp, const std::string& err) {
               if (!err.empty()) return done(MakeError("OPA cannot be reached: " + err));
               auto doc = rego::Value::ParseJson(resp);
               if (status != 200 || !doc.ok() || !doc->is_object()) {
                 return done(MakeError("OPA answered HTTP " + std::to_string(status) + ": " +
                                       resp.substr(0, 300)));
               }
               const rego::Value* result = doc->Get("result");
               done(result ? std::optional<rego::Value>(*result) : std::nullopt);
             });
  }

  bool Ready() const override { return ready_; }
  const char* backend() const override { return "opa"; }
  std::string Describe() const override {
    std::string out = "opa " + url_ + " (" + decision_path_ + ")";
    if (!ready_) out += ": not ready" + (last_error_.empty() ? "" : ": " + last_error_);
    return out;
  }

 private:
  struct Batch {
    std::vector<rego::Value> inputs;
    std::vector<Decision> out;
    size_t next = 0;
    size_t in_flight = 0;
    size_t remaining = 0;
    DoneMany done;
  };

  // Keeps at most kMaxParallel decisions of a batch in flight: each answer starts the next.
  void Pump(const std::shared_ptr<Batch>& st) {
    while (st->in_flight < kMaxParallel && st->next < st->inputs.size()) {
      size_t i = st->next++;
      ++st->in_flight;
      Decide(st->inputs[i], [this, st, i](Decision d) {
        st->out[i] = std::move(d);
        --st->in_flight;
        if (--st->remaining == 0) {
          DoneMany done = std::move(st->done);
          return done(std::move(st->out));
        }
        Pump(st);
      });
    }
  }

  using Callback = std::function<void(int status, std::string body, const std::string& error)>;
  struct Pending {
    std::shared_ptr<http::ClientCall> call;
    io::TimerId timer = 0;
    int status = 0;
    std::string body;
    Callback cb;
  };

  // One HTTP exchange with a deadline; `cb` runs exactly once (error non-empty on failure).
  void Exchange(const char* method, const std::string& url, std::string body, io::Millis timeout,
                Callback cb) {
    if (stopped_) return cb(0, "", "the gateway is stopping");
    uint64_t id = ++next_id_;
    auto p = std::make_shared<Pending>();
    p->cb = std::move(cb);
    calls_[id] = p;
    p->timer = loop_.After(timeout, [this, id, timeout] {
      Finish(id, 0, "", "no answer within " + std::to_string(timeout.count()) + " ms");
    });
    http::ClientCallbacks cbs;
    cbs.on_head = [this, id](const http::ClientResponseHead& head) {
      if (auto it = calls_.find(id); it != calls_.end()) it->second->status = head.status;
    };
    cbs.on_body = [this, id](std::string_view chunk) {
      auto it = calls_.find(id);
      if (it == calls_.end()) return;
      if (it->second->body.size() + chunk.size() > kMaxBody) {
        return Finish(id, 0, "", "answer larger than 1 MiB");
      }
      it->second->body.append(chunk);
    };
    cbs.on_done = [this, id](const Status& s) {
      auto it = calls_.find(id);
      if (it == calls_.end()) return;
      if (!s.ok()) return Finish(id, 0, "", s.error().message);
      Finish(id, it->second->status, std::move(it->second->body), "");
    };
    http::Headers headers = {{"content-type", "application/json"}, {"accept", "application/json"}};
    auto call =
        client_.Send(method, url, std::move(headers), std::move(body), timeout, std::move(cbs));
    if (auto it = calls_.find(id); it != calls_.end()) it->second->call = std::move(call);
  }

  void Finish(uint64_t id, int status, std::string body, const std::string& error) {
    auto it = calls_.find(id);
    if (it == calls_.end()) return;
    std::shared_ptr<Pending> p = std::move(it->second);
    calls_.erase(it);
    if (p->timer) loop_.Cancel(p->timer);
    if (!error.empty() && p->call) p->call->Cancel();  // abandons the connection too
    Callback cb = std::move(p->cb);
    if (cb) cb(status, std::move(body), error);
  }

  void OnDecision(int status, const std::string& resp, const std::string& err, std::string body,
                  Done done) {
    Decision d;
    auto unavailable = [&](std::string_view why, std::string_view detail) {
      d.allow = false;
      d.error = true;
      d.reasons = {kUnavailableReason};
      if (d.decision_id.empty()) d.decision_id = NewDecisionId();
      log::Error(
          "policy decision failed; denied",
          {{"decision_id", d.decision_id}, {"pdp", url_}, {"reason", why}, {"error", detail}});
      done(std::move(d));
    };
    if (!err.empty()) return unavailable("OPA did not answer", err);
    if (status != 200) {
      return unavailable("OPA answered HTTP " + std::to_string(status),
                         std::string_view(resp).substr(0, 500));
    }
    auto doc = rego::Value::ParseJson(resp);
    if (!doc.ok() || !doc->is_object()) {
      return unavailable("OPA's answer is not a JSON object",
                         std::string_view(resp).substr(0, 500));
    }
    const rego::Value* id = doc->Get("decision_id");
    d.decision_id = id && id->is_string() ? id->str() : NewDecisionId();
    const rego::Value* result = doc->Get("result");
    if (!result) return unavailable("the decision is undefined (no result)", decision_path_);
    if (!result->is_bool()) return unavailable("the decision is not a boolean", result->ToJson());
    d.allow = result->as_bool();
    if (d.allow) return done(std::move(d));
    Exchange("POST", reasons_url_, std::move(body), timeout_,
             [d = std::move(d), done = std::move(done)](int st, const std::string& r,
                                                        const std::string& e) mutable {
               if (e.empty() && st == 200) {
                 auto v = rego::Value::ParseJson(r);
                 if (v.ok() && v->is_object()) {
                   if (const rego::Value* res = v->Get("result")) d.reasons = ReasonStrings(*res);
                 }
               } else {
                 log::Warn("policy deny reasons unavailable",
                           {{"decision_id", d.decision_id},
                            {"error", e.empty() ? "HTTP " + std::to_string(st) : e}});
               }
               done(std::move(d));
             });
  }

  void CheckHealth() {
    health_timer_ = 0;
    Exchange("GET", url_ + "/health", "", kHealthTimeout,
             [this](int status, const std::string& resp, const std::string& err) {
               bool ok = err.empty() && status == 200;
               std::string why = !err.empty() ? err
                                 : ok         ? ""
                                      : "GET /health answered HTTP " + std::to_string(status) +
                                            " " + resp.substr(0, 200);
               if (ok && !ready_) log::Info("policy decision point ready", {{"pdp", url_}});
               if (!ok && (ready_ || last_error_ != why)) {
                 log::Warn("policy decision point not ready", {{"pdp", url_}, {"error", why}});
               }
               ready_ = ok;
               last_error_ = why;
               if (!stopped_) health_timer_ = loop_.After(kHealthEvery, [this] { CheckHealth(); });
             });
  }

  io::Loop& loop_;
  http::Client& client_;
  std::string url_;
  std::string decision_path_;
  std::string decision_url_, reasons_url_;
  io::Millis timeout_;
  std::map<uint64_t, std::shared_ptr<Pending>> calls_;
  uint64_t next_id_ = 0;
  io::TimerId health_timer_ = 0;
  bool ready_ = false;
  bool stopped_ = false;
  std::string last_error_ = "not checked yet";
};

}  // namespace

std::unique_ptr<Decider> NewOpaDecider(io::Loop& loop, http::Client& client,
                                       const config::PolicyConfig& config) {
  return std::make_unique<OpaDecider>(loop, client, config);
}

}  // namespace mcpgw::policy
