#include "auth/authenticator.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <deque>
#include <iterator>
#include <set>
#include <unordered_map>

#include "auth/jws.h"
#include "common/log.h"
#include "common/strings.h"
#include "json/json.h"

namespace mcpgw::auth {

bool Identity::HasScope(std::string_view s) const {
  return std::find(scopes.begin(), scopes.end(), s) != scopes.end();
}
bool Identity::HasRole(std::string_view r) const {
  return std::find(roles.begin(), roles.end(), r) != roles.end();
}

std::string MetadataUrlFor(std::string_view resource) {
  size_t scheme = resource.find("://");
  size_t path =
      scheme == std::string_view::npos ? std::string_view::npos : resource.find('/', scheme + 3);
  std::string origin(resource.substr(0, path));
  std::string rest = path == std::string_view::npos ? "" : std::string(resource.substr(path));
  if (rest == "/") rest.clear();
  return origin + "/.well-known/oauth-protected-resource" + rest;
}

namespace {

using Clock = std::chrono::steady_clock;

int64_t NowSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Resolves a dot path ("realm_access.roles") in the claims.
const json::value* ClaimAt(const json::object& claims, std::string_view path) {
  const json::object* cur = &claims;
  while (true) {
    size_t dot = path.find('.');
    const json::value* v = cur->if_contains(path.substr(0, dot));
    // A namespaced claim ("https://example.com/roles") contains dots itself: try it whole first.
    if (dot != std::string_view::npos) {
      if (const json::value* whole = cur->if_contains(path)) return whole;
    }
    if (!v || dot == std::string_view::npos) return v;
    cur = v->if_object();
    if (!cur) return nullptr;
    path.remove_prefix(dot + 1);
  }
}

void AddStrings(const json::value* v, std::vector<std::string>* out) {
  if (!v) return;
  auto add = [&](std::string_view s) {
    if (!s.empty() && std::find(out->begin(), out->end(), s) == out->end()) out->emplace_back(s);
  };
  if (v->is_string()) {
    add(v->get_string());
  } else if (v->is_array()) {
    for (const auto& x : v->get_array()) {
      if (x.is_string()) add(x.get_string());
    }
  }
}

// RFC 6750 b64token characters.
constexpr std::array<bool, 256> MakeToken68() {
  std::array<bool, 256> t{};
  for (int c = '0'; c <= '9'; ++c) t[c] = true;
  for (int c = 'a'; c <= 'z'; ++c) t[c] = true;
  for (int c = 'A'; c <= 'Z'; ++c) t[c] = true;
  for (char c : {'-', '.', '_', '~', '+', '/', '='}) t[static_cast<unsigned char>(c)] = true;
  return t;
}
constexpr auto kToken68 = MakeToken68();

bool IsBearer(std::string_view scheme) {
  constexpr std::string_view kBearer = "bearer";
  if (scheme.size() != kBearer.size()) return false;
  for (size_t i = 0; i < kBearer.size(); ++i) {
    if ((scheme[i] | 0x20) != kBearer[i]) return false;
  }
  return true;
}

std::string QuoteParam(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') continue;  // our own fixed texts; keep the header well-formed
    out += c;
  }
  return out;
}

}  // namespace

KeyRotation DiffKids(const std::vector<std::string>& before,
                     const std::vector<std::string>& after) {
  std::set<std::string> b(before.begin(), before.end()), a(after.begin(), after.end());
  KeyRotation r;
  std::set_difference(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(r.added));
  std::set_difference(b.begin(), b.end(), a.begin(), a.end(), std::back_inserter(r.removed));
  return r;
}

namespace {

class AuthenticatorImpl : public Authenticator {
 public:
  AuthenticatorImpl(io::Loop& loop, http::Client& client, const config::AuthConfig& cfg)
      : loop_(loop), client_(client), cfg_(cfg), metadata_url_(MetadataUrlFor(cfg.audience)) {
    size_t scheme = metadata_url_.find("://");
    size_t path = metadata_url_.find('/', scheme + 3);
    metadata_path_ = metadata_url_.substr(path);
    opts_.issuer = cfg.issuer;
    opts_.audience = cfg.audience;
    opts_.algorithms.insert(cfg.algorithms.begin(), cfg.algorithms.end());
    opts_.require_typ = cfg.require_typ;
    opts_.leeway_s = cfg.leeway_s;
    jwks_uri_ = cfg.jwks_uri;
  }

  ~AuthenticatorImpl() override { Stop(); }

  void Start() override {
    stopped_ = false;
    if (jwks_uri_.empty()) {
      Discover();
    } else {
      FetchJwks();
    }
  }

  void Stop() override {
    stopped_ = true;
    loop_.Cancel(refresh_timer_);
    if (call_) call_->Cancel();
    call_.reset();
    FailWaiters("gateway stopping");
  }

  void Authenticate(std::string_view authorization, bool token_in_query,
                    std::function<void(Outcome)> done) override {
    if (token_in_query)
      return done(Fail(Failure::kInvalidRequest,
                       "access tokens are accepted only in the Authorization header"));
    if (authorization.empty()) return done(Fail(Failure::kMissing, ""));
    size_t sp = authorization.find(' ');
    if (!IsBearer(authorization.substr(0, sp))) return done(Fail(Failure::kMissing, ""));
    std::string_view token =
        sp == std::string_view::npos ? std::string_view() : authorization.substr(sp + 1);
    while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
    while (!token.empty() && token.back() == ' ') token.remove_suffix(1);
    if (token.empty())
      return done(Fail(Failure::kInvalidRequest, "malformed Authorization header"));
    for (char c : token) {
      if (!kToken68[static_cast<unsigned char>(c)]) {
        return done(Fail(Failure::kInvalidRequest, "malformed Authorization header"));
      }
    }
    // Steady state: a token seen before and not yet expired costs one hash lookup.
    auto it = cache_.find(token);
    if (it != cache_.end()) {
      if (NowSeconds() - cfg_.leeway_s < it->second.identity->exp) {
        return done(CheckScopes(it->second.identity));
      }
      cache_.erase(it);
    }
    VerifyNew(std::string(token), std::move(done), /*may_refetch=*/true);
  }

  int Status(const Outcome& o) const override {
    switch (o.failure) {
      case Failure::kInvalidRequest:
        return 400;
      case Failure::kInsufficientScope:
        return 403;
      case Failure::kUnavailable:
        return 503;
      default:
        return 401;
    }
  }

  http::Headers Challenge(const Outcome& o) const override {
    std::string v = "Bearer ";
    std::string scope = JoinedScopes();
    switch (o.failure) {
      case Failure::kMissing:
        v += "resource_metadata=\"" + metadata_url_ + "\"";
        if (!scope.empty()) v += ", scope=\"" + scope + "\"";
        break;
      case Failure::kInvalidToken:
      case Failure::kInvalidRequest:
        v += std::string("error=\"") +
             (o.failure == Failure::kInvalidToken ? "invalid_token" : "invalid_request") +
             "\", error_description=\"" + QuoteParam(o.description) + "\", resource_metadata=\"" +
             metadata_url_ + "\"";
        break;
      case Failure::kInsufficientScope:
        v += "error=\"insufficient_scope\", scope=\"" + scope + "\", resource_metadata=\"" +
             metadata_url_ + "\"";
        break;
      default:
        return {{"content-type", "application/json"}, {"retry-after", "5"}};
    }
    return {{"www-authenticate", v},
            {"content-type", "application/json"},
            {"cache-control", "no-store"}};
  }

  std::string ErrorBody(const Outcome& o) const override {
    json::object b;
    switch (o.failure) {
      case Failure::kMissing:
        b["error"] = "unauthorized";
        b["error_description"] = "a bearer access token is required";
        break;
      case Failure::kInvalidRequest:
        b["error"] = "invalid_request";
        break;
      case Failure::kInvalidToken:
        b["error"] = "invalid_token";
        break;
      case Failure::kInsufficientScope:
        b["error"] = "insufficient_scope";
        b["scope"] = JoinedScopes();
        break;
      default:
        b["error"] = "temporarily_unavailable";
    }
    if (!o.description.empty()) b["error_description"] = o.description;
    b["resource_metadata"] = metadata_url_;
    return json::Serialize(b);
  }

  std::string ResourceMetadata() const override {
    json::object m;
    m["resource"] = cfg_.audience;
    json::array as;
    as.push_back(json::value(cfg_.issuer));
    m["authorization_servers"] = std::move(as);
    json::array scopes;
    for (const auto& s : cfg_.required_scopes) scopes.push_back(json::value(s));
    m["scopes_supported"] = std::move(scopes);
    json::array methods;
    methods.push_back("header");
    m["bearer_methods_supported"] = std::move(methods);
    m["resource_name"] = "mcpgw";
    return json::Serialize(m);
  }

  const std::string& metadata_path() const override { return metadata_path_; }
  bool ready() const override { return loaded_; }
  size_t key_count() const override { return keys_.by_kid.size(); }
  const std::string& last_error() const override { return last_error_; }
  uint64_t jwks_fetches() const override { return fetches_; }

 private:
  struct Waiter {
    std::string token;
    std::function<void(Outcome)> done;
  };
  struct CacheEntry {
    std::shared_ptr<const Identity> identity;
    std::string kid;
  };

  static Outcome Fail(Failure f, std::string why) {
    Outcome o;
    o.failure = f;
    o.description = std::move(why);
    return o;
  }

  std::string JoinedScopes() const {
    std::string s;
    for (const auto& x : cfg_.required_scopes) s += (s.empty() ? "" : " ") + x;
    return s;
  }

  Outcome CheckScopes(const std::shared_ptr<const Identity>& id) const {
    for (const auto& s : cfg_.required_scopes) {
      if (!id->HasScope(s))
        return Fail(Failure::kInsufficientScope, "the token lacks a required scope");
    }
    Outcome o;
    o.identity = id;
    return o;
  }

  void VerifyNew(std::string token, std::function<void(Outcome)> done, bool may_refetch) {
    opts_.now_s = NowSeconds();
    auto parsed = ParseToken(token, opts_);
    if (!parsed.ok()) return done(Fail(Failure::kInvalidToken, parsed.error().message));
    if (!loaded_) {
      // Keys not there yet. While a fetch runs, wait for it; while a retry is pending (the issuer
      // failed recently), answer at once: tokens never drive extra requests to the issuer.
      if (retry_pending_)
        return done(Fail(Failure::kUnavailable, "authorization server keys are not available"));
      if (waiters_.size() >= 1000)
        return done(Fail(Failure::kUnavailable, "authorization server keys are not available"));
      waiters_.push_back({std::move(token), std::move(done)});
      if (!call_) FetchJwks();
      return;
    }
    const PublicKey* key = FindKey(parsed->kid, parsed->alg);
    if (!key) {
      // An unknown kid may mean the issuer rotated keys: refetch, at most once per cooldown.
      auto since = Clock::now() - last_fetch_;
      bool cooled = since >= std::chrono::seconds(cfg_.jwks_refetch_cooldown_s);
      if (may_refetch && (call_ || cooled) && waiters_.size() < 1000) {
        waiters_.push_back({std::move(token), std::move(done)});
        if (!call_) FetchJwks();
        return;
      }
      return done(Fail(Failure::kInvalidToken, "token signed by an unknown key"));
    }
    mcpgw::Status sig = VerifySignature(*parsed, *key);
    if (!sig.ok()) return done(Fail(Failure::kInvalidToken, sig.error().message));
    mcpgw::Status claims = VerifyClaims(*parsed, opts_);
    if (!claims.ok()) return done(Fail(Failure::kInvalidToken, claims.error().message));
    auto id = MakeIdentity(parsed->payload);
    if (!id) return done(Fail(Failure::kInvalidToken, "token has no subject"));
    if (cfg_.token_cache_entries > 0) {
      if (static_cast<int64_t>(cache_.size()) >= cfg_.token_cache_entries) PruneCache();
      cache_[token] = CacheEntry{id, key->kid};
    }
    done(CheckScopes(id));
  }

  const PublicKey* FindKey(const std::string& kid, const std::string& alg) const {
    if (!kid.empty()) {
      auto it = keys_.by_kid.find(kid);
      return it == keys_.by_kid.end() ? nullptr : &it->second;
    }
    // No kid: acceptable only when exactly one key could have signed it.
    const PublicKey* only = nullptr;
    for (const auto& [k, key] : keys_.by_kid) {
      if (!key.alg.empty() && key.alg != alg) continue;
      if (only) return nullptr;
      only = &key;
    }
    return only;
  }

  std::shared_ptr<const Identity> MakeIdentity(const json::object& c) const {
    auto id = std::make_shared<Identity>();
    const json::value* sub = c.if_contains("sub");
    if (!sub || !sub->is_string() || sub->get_string().empty()) return nullptr;
    id->sub = std::string(sub->get_string());
    id->email = std::string(json::FindString(c, "email"));
    id->client_id = std::string(json::FindString(c, "client_id"));
    if (id->client_id.empty()) id->client_id = std::string(json::FindString(c, "azp"));
    if (const json::value* t = ClaimAt(c, cfg_.tenant_claim); t && t->is_string())
      id->tenant = std::string(t->get_string());
    if (const json::value* scope = c.if_contains("scope"); scope && scope->is_string()) {
      std::string_view s = scope->get_string();
      while (!s.empty()) {
        size_t spc = s.find(' ');
        if (spc != 0) id->scopes.emplace_back(s.substr(0, spc));
        if (spc == std::string_view::npos) break;
        s.remove_prefix(spc + 1);
      }
    } else {
      AddStrings(c.if_contains("scp"), &id->scopes);
    }
    for (const auto& path : cfg_.roles_claims) AddStrings(ClaimAt(c, path), &id->roles);
    AddStrings(ClaimAt(c, cfg_.groups_claim), &id->groups);
    if (!cfg_.admin_group.empty() &&
        std::find(id->groups.begin(), id->groups.end(), cfg_.admin_group) != id->groups.end() &&
        !id->HasRole("admin")) {
      id->roles.emplace_back("admin");
    }
    if (id->roles.empty() && !cfg_.default_role.empty()) id->roles.push_back(cfg_.default_role);
    const json::value* exp = c.if_contains("exp");
    id->exp = static_cast<int64_t>(exp->is_double() ? exp->get_double() : exp->to_number<double>());
    return id;
  }

  void PruneCache() {
    int64_t now = NowSeconds();
    for (auto it = cache_.begin(); it != cache_.end();) {
      it = it->second.identity->exp <= now ? cache_.erase(it) : std::next(it);
    }
    if (static_cast<int64_t>(cache_.size()) >= cfg_.token_cache_entries) cache_.clear();
  }

  // ---- fetching

  void Get(const std::string& url, std::function<void(int, std::string, std::string)> done) {
    auto status = std::make_shared<int>(0);
    auto body = std::make_shared<std::string>();
    auto cache_control = std::make_shared<std::string>();
    http::ClientCallbacks cb;
    cb.on_head = [status, cache_control](const http::ClientResponseHead& h) {
      *status = h.status;
      *cache_control = std::string(http::FindHeader(h.headers, "cache-control"));
    };
    cb.on_body = [body](std::string_view d) {
      if (body->size() < (1 << 20)) body->append(d);
    };
    cb.on_done = [this, status, body, cache_control,
                  done = std::move(done)](const mcpgw::Status& st) {
      call_.reset();
      if (stopped_) return;
      if (!st.ok()) return done(0, st.error().message, "");
      done(*status, std::move(*body), *cache_control);
    };
    call_ = client_.Send("GET", url, {{"accept", "application/json"}}, "", io::Millis(5000),
                         std::move(cb));
  }

  // Metadata locations for an issuer, in the order the MCP authorization spec gives: RFC 8414
  // (well-known inserted before the issuer's path), OpenID Connect with the path inserted, then
  // OpenID Connect appended. Without a path the first and last two coincide.
  std::vector<std::string> MetadataUrls() const {
    std::string issuer = cfg_.issuer;
    while (!issuer.empty() && issuer.back() == '/') issuer.pop_back();
    size_t scheme = issuer.find("://");
    size_t slash = scheme == std::string::npos ? std::string::npos : issuer.find('/', scheme + 3);
    std::string origin = issuer.substr(0, slash);
    std::string path = slash == std::string::npos ? "" : issuer.substr(slash);
    std::vector<std::string> urls = {origin + "/.well-known/oauth-authorization-server" + path};
    if (!path.empty()) urls.push_back(origin + "/.well-known/openid-configuration" + path);
    urls.push_back(issuer + "/.well-known/openid-configuration");
    return urls;
  }

  void Discover(size_t attempt = 0) {
    std::vector<std::string> urls = MetadataUrls();
    Get(urls[attempt],
        [this, attempt, n = urls.size()](int status, const std::string& body, const std::string&) {
          if (status == 200 && UseMetadata(body)) return;
          if (attempt + 1 < n) return Discover(attempt + 1);
          FailWaiters("authorization server metadata is not available");
          SetError("cannot discover the issuer's metadata (" +
                   (status ? "HTTP " + std::to_string(status) : body) + ")");
          Retry([this] { Discover(); });
        });
  }

  bool UseMetadata(const std::string& body) {
    auto v = json::Parse(body);
    if (!v.ok() || !v->is_object()) return false;
    const json::object& m = v->get_object();
    if (json::FindString(m, "issuer") != cfg_.issuer) {
      SetError("issuer metadata names a different issuer; refusing it");
      return false;
    }
    std::string jwks(json::FindString(m, "jwks_uri"));
    if (jwks.empty()) return false;
    jwks_uri_ = jwks;
    FetchJwks();
    return true;
  }

  void FetchJwks() {
    if (call_ || stopped_) return;
    if (jwks_uri_.empty()) return Discover();
    ++fetches_;
    last_fetch_ = Clock::now();
    Get(jwks_uri_, [this](int status, const std::string& body, const std::string& cache_control) {
      if (status != 200) {
        SetError("JWKS fetch failed (" + (status ? "HTTP " + std::to_string(status) : body) + ")");
        FailWaiters("authorization server keys are not available");
        return Retry([this] { FetchJwks(); });
      }
      auto set = ParseJwks(body);
      if (!set.ok() || set->by_kid.empty()) {
        SetError("JWKS unusable: " +
                 (set.ok() ? std::string("no usable keys") : set.error().message));
        FailWaiters("authorization server keys are not available");
        return Retry([this] { FetchJwks(); });
      }
      for (const auto& r : set->rejected) log::Warn("JWKS key ignored", {{"key", r}});
      if (loaded_) ReportRotation(*set);
      keys_ = std::move(set).value();
      loaded_ = true;
      last_error_.clear();
      retry_ms_ = 1000;
      // Tokens from keys that are gone are no longer honoured, cached or not.
      for (auto it = cache_.begin(); it != cache_.end();) {
        it = keys_.by_kid.count(it->second.kid) ? std::next(it) : cache_.erase(it);
      }
      log::Info("JWKS loaded",
                {{"keys", static_cast<int64_t>(keys_.by_kid.size())}, {"uri", jwks_uri_}});
      ScheduleRefresh(cache_control);
      auto waiters = std::move(waiters_);
      waiters_.clear();
      for (auto& w : waiters)
        VerifyNew(std::move(w.token), std::move(w.done), /*may_refetch=*/false);
    });
  }

  static std::vector<std::string> Kids(const KeySet& set) {
    std::vector<std::string> kids;
    for (const auto& [kid, key] : set.by_kid) kids.push_back(kid);
    return kids;
  }

  // A refresh that brings a different key set than the one in use: logged and observed.
  void ReportRotation(const KeySet& next) {
    KeyRotation r = DiffKids(Kids(keys_), Kids(next));
    if (r.added.empty() && r.removed.empty()) return;
    r.issuer = cfg_.issuer;
    r.jwks_uri = jwks_uri_;
    log::Info(
        "JWKS keys rotated",
        {{"uri", jwks_uri_}, {"added", Join(r.added, ",")}, {"removed", Join(r.removed, ",")}});
    if (key_observer_) key_observer_(r);
  }

  void SetKeyObserver(KeyObserver observer) override { key_observer_ = std::move(observer); }

  void ScheduleRefresh(const std::string& cache_control) {
    int64_t seconds = 300;
    size_t p = cache_control.find("max-age=");
    if (p != std::string::npos) seconds = std::atoll(cache_control.c_str() + p + 8);
    seconds = std::clamp<int64_t>(seconds, 60, 86400);
    loop_.Cancel(refresh_timer_);
    refresh_timer_ = loop_.After(std::chrono::seconds(seconds), [this] { FetchJwks(); });
  }

  void Retry(std::function<void()> fn) {
    loop_.Cancel(refresh_timer_);
    retry_pending_ = true;
    refresh_timer_ = loop_.After(io::Millis(retry_ms_), [this, fn = std::move(fn)] {
      retry_pending_ = false;
      fn();
    });
    retry_ms_ = std::min<int64_t>(retry_ms_ * 2, 30000);
  }

  void SetError(std::string e) {
    if (e != last_error_) log::Error("authorization server keys", {{"error", e}});
    last_error_ = std::move(e);
  }

  void FailWaiters(const std::string& why) {
    auto waiters = std::move(waiters_);
    waiters_.clear();
    for (auto& w : waiters) {
      if (loaded_) {
        VerifyNew(std::move(w.token), std::move(w.done), false);
      } else {
        w.done(Fail(Failure::kUnavailable, why));
      }
    }
  }

  io::Loop& loop_;
  http::Client& client_;
  const config::AuthConfig& cfg_;
  std::string metadata_url_;
  std::string metadata_path_;
  VerifyOptions opts_;
  std::string jwks_uri_;
  KeySet keys_;
  KeyObserver key_observer_;
  bool loaded_ = false;
  bool stopped_ = false;
  bool retry_pending_ = false;  // the last discovery/fetch failed; a timed retry is scheduled
  std::shared_ptr<http::ClientCall> call_;
  Clock::time_point last_fetch_{};
  io::TimerId refresh_timer_ = 0;
  int64_t retry_ms_ = 1000;
  uint64_t fetches_ = 0;
  std::string last_error_;
  std::deque<Waiter> waiters_;
  // Keyed by the whole token (compared in full), so no crafted token can hit another's entry.
  std::unordered_map<std::string, CacheEntry, StringHash, std::equal_to<>> cache_;
};

}  // namespace

std::unique_ptr<Authenticator> NewAuthenticator(io::Loop& loop, http::Client& client,
                                                const config::AuthConfig& cfg) {
  return std::make_unique<AuthenticatorImpl>(loop, client, cfg);
}

}  // namespace mcpgw::auth
