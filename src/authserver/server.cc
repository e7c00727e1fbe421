#include "authserver/server.h"

#include <chrono>
#include <map>
#include <optional>
#include <set>

#include "authserver/clients.h"
#include "authserver/errors.h"
#include "authserver/form.h"
#include "authserver/grants.h"
#include "authserver/jwt.h"
#include "authserver/password.h"
#include "authserver/pkce.h"
#include "authserver/secrets.h"
#include "common/log.h"
#include "json/json.h"

namespace mcpgw::authserver {
namespace {

constexpr std::string_view kJsonType = "application/json";
constexpr std::string_view kFormType = "application/x-www-form-urlencoded";
constexpr std::string_view kBasicRealm = R"(Basic realm="mcpgw-auth-server")";

bool Contains(const std::vector<std::string>& list, std::string_view item) {
  for (const auto& x : list) {
    if (x == item) return true;
  }
  return false;
}

// The media type without parameters, lowercase.
std::string MediaType(std::string_view content_type) {
  std::string out(content_type.substr(0, content_type.find(';')));
  while (!out.empty() && (out.back() == ' ' || out.back() == '\t')) out.pop_back();
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

json::array JsonStrings(const std::vector<std::string>& list) {
  json::array a;
  for (const auto& s : list) a.emplace_back(s);
  return a;
}

// Browser-based MCP clients call discovery, token and registration from another origin; none of
// these endpoints use cookies, so any origin may read the answers.
void AddCors(Response& r) { r.headers.push_back({"access-control-allow-origin", "*"}); }

Response JsonResponse(int status, const json::value& body) {
  Response r;
  r.status = status;
  r.headers.push_back({"content-type", std::string(kJsonType)});
  AddCors(r);
  r.body = json::Serialize(body);
  return r;
}

// Token and registration responses carry credentials: never cached (RFC 6749 §5.1).
void NoStore(Response& r) {
  r.headers.push_back({"cache-control", "no-store"});
  r.headers.push_back({"pragma", "no-cache"});
}

Response OAuthErrorResponse(const Error& e) {
  Response r;
  r.status = HttpStatus(ErrorOf(e));
  r.headers.push_back({"content-type", std::string(kJsonType)});
  AddCors(r);
  NoStore(r);
  if (ErrorOf(e) == OAuthError::kInvalidClient) {
    r.headers.push_back({"www-authenticate", std::string(kBasicRealm)});
  }
  r.body = ErrorBody(e);
  return r;
}

Response Fail(OAuthError e, std::string description) {
  return OAuthErrorResponse(OAuthFail(e, std::move(description)));
}

void AddHtmlHeaders(Response& r) {
  r.headers.push_back({"content-type", "text/html; charset=utf-8"});
  r.headers.push_back({"cache-control", "no-store"});
  r.headers.push_back({"content-security-policy",
                       "default-src 'none'; style-src 'unsafe-inline'; "
                       "frame-ancestors 'none'"});
  r.headers.push_back({"x-frame-options", "DENY"});
  r.headers.push_back({"referrer-policy", "no-referrer"});
}

constexpr std::string_view kPageStyle =
    "body{font-family:system-ui,sans-serif;max-width:26rem;margin:4rem auto;padding:0 1rem}"
    "label{display:block;margin:.8rem 0 .2rem}input[type=text],input[type=password]"
    "{width:100%;padding:.4rem;box-sizing:border-box}button{margin:1rem .5rem 0 0;padding:.4rem "
    "1rem}.error{color:#b00020}.meta{color:#555;font-size:.9rem}";

// The page shown instead of redirecting when the redirect URI cannot be trusted (RFC 6749
// §4.1.2.1: never redirect to an unregistered URI).
Response ErrorPage(int status, std::string_view message) {
  Response r;
  r.status = status;
  AddHtmlHeaders(r);
  r.body =
      "<!doctype html><html><head><meta charset=\"utf-8\"><title>Authorization error</title>"
      "<style>";
  r.body += kPageStyle;
  r.body += "</style></head><body><h1>Authorization error</h1><p class=\"error\">";
  r.body += HtmlEscape(message);
  r.body += "</p></body></html>";
  return r;
}

Response Redirect(std::string location) {
  Response r;
  r.status = 302;
  r.headers.push_back({"location", std::move(location)});
  r.headers.push_back({"cache-control", "no-store"});
  return r;
}

Response MethodNotAllowed(std::string_view allow) {
  Response r = JsonResponse(
      405, json::object{{"error", "invalid_request"}, {"error_description", "method not allowed"}});
  r.headers.push_back({"allow", std::string(allow)});
  return r;
}

class AuthServerImpl : public AuthServer {
 public:
  AuthServerImpl(Config config, KeyStore* keys, Clock clock)
      : config_(std::move(config)),
        keys_(keys),
        clock_(std::move(clock)),
        clients_(config_.clients),
        grants_(config_.authorization_code_ttl_s, config_.refresh_token_ttl_s) {
    IssuerParts parts = SplitIssuer(config_.issuer);
    base_path_ = parts.path;
    SetUsers(config_.users);
  }

  Response Handle(const http::Request& req) override;
  void SetUsers(std::vector<User> users) override;
  void Sweep() override { grants_.Sweep(clock_()); }

 private:
  // What the user flows need to know about the request in progress.
  struct AuthorizeRequest {
    const Client* client = nullptr;
    std::string redirect_uri;
    bool redirect_uri_in_request = false;
    std::string state;
  };

  json::object Metadata(bool openid) const;
  std::vector<std::string> ScopesSupported() const;

  Response Authorize(const http::Request& req);
  Response LoginPage(int status, const FormParams& params, const Client& client,
                     std::string_view error) const;
  Response RedirectError(const AuthorizeRequest& ar, OAuthError code,
                         std::string_view description) const;

  Response Token(const http::Request& req);
  Response TokenByCode(const FormParams& params, const Client& client, int64_t now);
  Response TokenByRefresh(const FormParams& params, const Client& client, int64_t now);
  Response TokenByClientCredentials(const FormParams& params, const Client& client, int64_t now);
  Response Register(const http::Request& req);
  Response Revoke(const http::Request& req);

  Result<FormParams> FormBody(const http::Request& req) const;
  Result<const Client*> AuthenticateClient(const http::Request& req, const FormParams& params);
  Result<std::string> ResolveResource(const FormParams& params) const;
  // The scope a user's token gets: what was asked for (or everything the user may have when
  // nothing was), narrowed to what the user and the client are allowed.
  std::string UserScope(std::string_view requested, const User& user, const Client& client) const;
  const User* FindUser(std::string_view username) const;
  bool CheckPassword(std::string_view username, std::string_view password, const User** out);

  Result<std::string> AccessToken(const std::string& sub, const Client& client,
                                  const std::string& scope, const std::string& audience,
                                  const User* user, int64_t now) const;
  Result<std::string> IdToken(const User& user, const Client& client, const std::string& nonce,
                              int64_t auth_time, int64_t now) const;
  Response TokenResponse(const std::string& access_token, const std::string& scope,
                         const std::string& refresh_token, const std::string& id_token) const;

  std::string Url(std::string_view path) const { return config_.issuer + std::string(path); }

  Config config_;
  KeyStore* keys_;
  Clock clock_;
  ClientRegistry clients_;
  GrantStore grants_;
  std::string base_path_;  // the issuer's path: every endpoint lives below it
  std::map<std::string, User, std::less<>> users_;
  std::string dummy_hash_;  // checked against for unknown users, so timing does not tell
};

void AuthServerImpl::SetUsers(std::vector<User> users) {
  users_.clear();
  for (auto& u : users) users_[u.username] = std::move(u);
}

const User* AuthServerImpl::FindUser(std::string_view username) const {
  auto it = users_.find(username);
  return it == users_.end() ? nullptr : &it->second;
}

bool AuthServerImpl::CheckPassword(std::string_view username, std::string_view password,
                                   const User** out) {
  const User* user = FindUser(username);
  if (!user) {
    if (dummy_hash_.empty()) dummy_hash_ = HashPassword("not a password");
    (void)VerifyPassword(password, dummy_hash_);
    return false;
  }
  if (!VerifyPassword(password, user->password_hash)) return false;
  *out = user;
  return true;
}

std::vector<std::string> AuthServerImpl::ScopesSupported() const {
  std::set<std::string> all = {"openid", "offline_access"};
  for (const auto& [name, u] : users_) all.insert(u.scopes.begin(), u.scopes.end());
  for (const auto& c : config_.clients) {
    for (auto& s : SplitScope(c.scope)) all.insert(std::move(s));
  }
  return {all.begin(), all.end()};
}

json::object AuthServerImpl::Metadata(bool openid) const {
  std::vector<std::string> auth_methods = {"none", "client_secret_basic", "client_secret_post"};
  json::object m;
  m["issuer"] = config_.issuer;
  m["authorization_endpoint"] = Url("/authorize");
  m["token_endpoint"] = Url("/token");
  m["registration_endpoint"] = Url("/register");
  m["revocation_endpoint"] = Url("/revoke");
  m["jwks_uri"] = Url(config_.jwks_path);
  m["response_types_supported"] = JsonStrings({"code"});
  m["response_modes_supported"] = JsonStrings({"query"});
  m["grant_types_supported"] =
      JsonStrings({"authorization_code", "refresh_token", "client_credentials"});
  m["code_challenge_methods_supported"] = JsonStrings({"S256"});
  m["token_endpoint_auth_methods_supported"] = JsonStrings(auth_methods);
  m["revocation_endpoint_auth_methods_supported"] = JsonStrings(auth_methods);
  m["scopes_supported"] = JsonStrings(ScopesSupported());
  m["authorization_response_iss_parameter_supported"] = true;
  m["id_token_signing_alg_values_supported"] =
      JsonStrings({std::string(AlgName(config_.signing_alg))});
  if (openid) {
    m["subject_types_supported"] = JsonStrings({"public"});
    m["claims_supported"] = JsonStrings({"iss", "sub", "aud", "exp", "iat", "auth_time", "nonce",
                                         "email", "roles", "groups", "tenant"});
  }
  return m;
}

Response AuthServerImpl::Handle(const http::Request& req) {
  std::string_view path = req.path();
  const bool get = req.method == "GET" || req.method == "HEAD";
  const bool post = req.method == "POST";
  if (req.method == "OPTIONS") {
    Response r;
    r.status = 204;
    AddCors(r);
    r.headers.push_back({"access-control-allow-methods", "GET, POST, OPTIONS"});
    r.headers.push_back({"access-control-allow-headers", "authorization, content-type"});
    r.headers.push_back({"access-control-max-age", "600"});
    return r;
  }
  auto is = [&](std::string_view endpoint) {
    return path.size() == base_path_.size() + endpoint.size() &&
           path.substr(0, base_path_.size()) == base_path_ &&
           path.substr(base_path_.size()) == endpoint;
  };
  // RFC 8414 §3.1 inserts the well-known segment before the issuer's path; OpenID Connect
  // Discovery appends it. Both forms are served for both documents.
  const std::string oauth_wk = "/.well-known/oauth-authorization-server";
  const std::string oidc_wk = "/.well-known/openid-configuration";
  bool oauth_md = path == oauth_wk + base_path_ || is(oauth_wk);
  bool oidc_md = path == oidc_wk + base_path_ || is(oidc_wk);
  if (oauth_md || oidc_md) {
    if (!get) return MethodNotAllowed("GET");
    return JsonResponse(200, Metadata(oidc_md));
  }
  if (is(config_.jwks_path)) {
    if (!get) return MethodNotAllowed("GET");
    Response r = JsonResponse(200, keys_->Jwks(clock_()));
    r.headers.push_back({"cache-control", "max-age=60"});
    return r;
  }
  if (is("/authorize")) {
    if (!get && !post) return MethodNotAllowed("GET, POST");
    return Authorize(req);
  }
  if (is("/token")) {
    if (!post) return MethodNotAllowed("POST");
    return Token(req);
  }
  if (is("/register")) {
    if (!post) return MethodNotAllowed("POST");
    return Register(req);
  }
  if (is("/revoke")) {
    if (!post) return MethodNotAllowed("POST");
    return Revoke(req);
  }
  if (path == "/health" || is("/health")) return JsonResponse(200, json::object{{"status", "ok"}});
  return JsonResponse(
      404, json::object{{"error", "not_found"}, {"error_description", "no such endpoint"}});
}

Result<FormParams> AuthServerImpl::FormBody(const http::Request& req) const {
  if (MediaType(req.header("content-type")) != kFormType) {
    return OAuthFail(OAuthError::kInvalidRequest,
                     "the body must be application/x-www-form-urlencoded");
  }
  auto params = FormParams::Parse(req.body);
  if (!params.ok()) return OAuthFail(OAuthError::kInvalidRequest, params.error().message);
  if (std::string_view dup = params->Repeated(); !dup.empty() && dup != "resource") {
    return OAuthFail(OAuthError::kInvalidRequest,
                     "parameter '" + std::string(dup) + "' must not be repeated");
  }
  return params;
}

Result<std::string> AuthServerImpl::ResolveResource(const FormParams& params) const {
  if (params.Count("resource") > 1) {
    return OAuthFail(OAuthError::kInvalidTarget, "only one resource per request is supported");
  }
  std::string_view resource = params.Get("resource");
  if (resource.empty()) return config_.default_audience;
  size_t colon = resource.find("://");
  if (colon == std::string_view::npos || colon == 0 ||
      resource.find('#') != std::string_view::npos) {
    return OAuthFail(OAuthError::kInvalidTarget,
                     "resource must be an absolute URI without a fragment (RFC 8707)");
  }
  if (!config_.allowed_resources.empty() && resource != config_.default_audience &&
      !Contains(config_.allowed_resources, resource)) {
    return OAuthFail(OAuthError::kInvalidTarget, "resource '" + std::string(resource) +
                                                     "' is not served by this authorization "
                                                     "server");
  }
  return std::string(resource);
}

std::string AuthServerImpl::UserScope(std::string_view requested, const User& user,
                                      const Client& client) const {
  std::vector<std::string> client_scope = SplitScope(client.scope);
  auto permitted = [&](const std::string& s) {
    if (s == "openid" || s == "offline_access") return true;
    return Contains(user.scopes, s) && (client_scope.empty() || Contains(client_scope, s));
  };
  std::vector<std::string> wanted = SplitScope(requested);
  if (wanted.empty()) wanted = user.scopes;
  std::vector<std::string> granted;
  for (auto& s : wanted) {
    if (permitted(s)) granted.push_back(std::move(s));
  }
  return JoinScope(granted);
}

// ---- /authorize ------------------------------------------------------------------------------

Response AuthServerImpl::RedirectError(const AuthorizeRequest& ar, OAuthError code,
                                       std::string_view description) const {
  return Redirect(AppendQuery(ar.redirect_uri, {{"error", ErrorName(code)},
                                                {"error_description", description},
                                                {"state", ar.state},
                                                {"iss", config_.issuer}}));
}

Response AuthServerImpl::LoginPage(int status, const FormParams& params, const Client& client,
                                   std::string_view error) const {
  Response r;
  r.status = status;
  AddHtmlHeaders(r);
  std::string& b = r.body;
  b = "<!doctype html><html><head><meta charset=\"utf-8\"><title>Sign in</title><style>";
  b += kPageStyle;
  b += "</style></head><body><h1>Sign in</h1><p class=\"meta\">";
  b += HtmlEscape(client.client_name.empty() ? client.client_id : client.client_name);
  b += " asks for access";
  if (std::string_view scope = params.Get("scope"); !scope.empty()) {
    b += " with scope <code>" + HtmlEscape(scope) + "</code>";
  }
  if (std::string_view resource = params.Get("resource"); !resource.empty()) {
    b += " to <code>" + HtmlEscape(resource) + "</code>";
  }
  b += ".</p>";
  if (config_.mode == Mode::kDev) {
    b += "<p class=\"meta\">Development authorization server: not for production use.</p>";
  }
  if (!error.empty()) b += "<p class=\"error\">" + HtmlEscape(error) + "</p>";
  b += "<form method=\"post\" action=\"" + HtmlEscape(Url("/authorize")) + "\">";
  for (const char* name : {"response_type", "client_id", "redirect_uri", "state", "scope",
                           "code_challenge", "code_challenge_method", "resource", "nonce"}) {
    if (!params.Has(name)) continue;
    b += "<input type=\"hidden\" name=\"";
    b += name;
    b += "\" value=\"" + HtmlEscape(params.Get(name)) + "\">";
  }
  b += "<label for=\"username\">Username</label>"
       "<input type=\"text\" id=\"username\" name=\"username\" autocomplete=\"username\" "
       "autofocus required>"
       "<label for=\"password\">Password</label>"
       "<input type=\"password\" id=\"password\" name=\"password\" "
       "autocomplete=\"current-password\" required>"
       "<button type=\"submit\" name=\"action\" value=\"login\">Sign in</button>"
       "<button type=\"submit\" name=\"action\" value=\"deny\" formnovalidate>Cancel</button>"
       "</form></body></html>";
  return r;
}

Response AuthServerImpl::Authorize(const http::Request& req) {
  const bool post = req.method == "POST";
  Result<FormParams> parsed = MakeError("");
  if (post) {
    if (MediaType(req.header("content-type")) != kFormType) {
      return ErrorPage(400, "The login form must be posted as application/x-www-form-urlencoded.");
    }
    parsed = FormParams::Parse(req.body);
  } else {
    std::string_view target = req.target;
    size_t q = target.find('?');
    parsed = FormParams::Parse(q == std::string_view::npos ? "" : target.substr(q + 1));
  }
  if (!parsed.ok()) return ErrorPage(400, "Malformed request parameters.");
  const FormParams& params = *parsed;

  // Until the client and its redirect URI are known to be genuine, errors are shown here and
  // never redirected.
  AuthorizeRequest ar;
  std::string_view dup = params.Repeated();
  if (dup == "client_id" || dup == "redirect_uri") {
    return ErrorPage(400, "The parameter " + std::string(dup) + " must not be repeated.");
  }
  std::string_view client_id = params.Get("client_id");
  if (client_id.empty()) return ErrorPage(400, "The request has no client_id.");
  ar.client = clients_.Find(client_id);
  if (!ar.client) return ErrorPage(400, "Unknown client_id.");
  if (params.Has("redirect_uri")) {
    ar.redirect_uri = std::string(params.Get("redirect_uri"));
    ar.redirect_uri_in_request = true;
    if (!ar.client->HasRedirectUri(ar.redirect_uri)) {
      return ErrorPage(400,
                       "The redirect_uri is not registered for this client (it must match a "
                       "registered URI exactly).");
    }
  } else if (ar.client->redirect_uris.size() == 1) {
    ar.redirect_uri = ar.client->redirect_uris.front();
  } else {
    return ErrorPage(400, "The request has no redirect_uri.");
  }
  ar.state = std::string(params.Get("state"));

  // From here on errors go back to the client's redirect URI (RFC 6749 §4.1.2.1).
  if (!dup.empty() && dup != "resource") {
    return RedirectError(ar, OAuthError::kInvalidRequest,
                         "parameter '" + std::string(dup) + "' must not be repeated");
  }
  std::string_view response_type = params.Get("response_type");
  if (response_type.empty()) {
    return RedirectError(ar, OAuthError::kInvalidRequest, "response_type is required");
  }
  if (response_type != "code") {
    return RedirectError(ar, OAuthError::kUnsupportedResponseType,
                         "only response_type=code is supported");
  }
  if (!ar.client->AllowsGrant("authorization_code")) {
    return RedirectError(ar, OAuthError::kUnauthorizedClient,
                         "this client may not use the authorization_code grant");
  }
  std::string_view challenge = params.Get("code_challenge");
  if (challenge.empty()) {
    return RedirectError(ar, OAuthError::kInvalidRequest,
                         "code_challenge is required (PKCE with S256)");
  }
  if (params.Get("code_challenge_method") != "S256") {
    return RedirectError(ar, OAuthError::kInvalidRequest,
                         "code_challenge_method must be S256 (plain is not supported)");
  }
  if (!IsValidS256Challenge(challenge)) {
    return RedirectError(ar, OAuthError::kInvalidRequest,
                         "code_challenge must be 43 base64url characters (S256)");
  }
  auto resource = ResolveResource(params);
  if (!resource.ok()) {
    return RedirectError(ar, ErrorOf(resource.error()), resource.error().message);
  }
  if (params.Get("prompt") == "none") {
    return RedirectError(ar, OAuthError::kLoginRequired,
                         "this server keeps no login sessions; the user must sign in");
  }

  if (post && params.Get("action") == "deny") {
    return RedirectError(ar, OAuthError::kAccessDenied, "the user denied the request");
  }
  const bool has_credentials = params.Has("username") || params.Has("password");
  if (!has_credentials) {
    if (post) return LoginPage(400, params, *ar.client, "Enter a username and a password.");
    return LoginPage(200, params, *ar.client, "");
  }
  if (!post && !config_.headless_login) {
    return ErrorPage(403,
                     "Headless login (username and password in the query) is disabled; sign in "
                     "with the form, or set headless_login: true.");
  }
  const User* user = nullptr;
  if (!CheckPassword(params.Get("username"), params.Get("password"), &user)) {
    log::Info("login failed", {{"client_id", ar.client->client_id}, {"headless", !post}});
    if (post) return LoginPage(401, params, *ar.client, "Invalid username or password.");
    return RedirectError(ar, OAuthError::kAccessDenied, "invalid username or password");
  }

  int64_t now = clock_();
  AuthorizationCode code;
  code.client_id = ar.client->client_id;
  code.redirect_uri = ar.redirect_uri;
  code.redirect_uri_in_request = ar.redirect_uri_in_request;
  code.code_challenge = std::string(challenge);
  code.resource = std::move(*resource);
  code.scope = UserScope(params.Get("scope"), *user, *ar.client);
  code.nonce = std::string(params.Get("nonce"));
  code.username = user->username;
  code.auth_time = now;
  std::string issued = grants_.IssueCode(std::move(code), now);
  log::Info("authorization code issued",
            {{"client_id", ar.client->client_id}, {"sub", user->sub}, {"headless", !post}});
  return Redirect(AppendQuery(ar.redirect_uri,
                              {{"code", issued}, {"state", ar.state}, {"iss", config_.issuer}}));
}

// ---- /token ----------------------------------------------------------------------------------

Result<const Client*> AuthServerImpl::AuthenticateClient(const http::Request& req,
                                                         const FormParams& params) {
  std::string_view auth = req.header("authorization");
  const bool basic =
      auth.size() > 6 && (auth.substr(0, 6) == "Basic " || auth.substr(0, 6) == "basic ");
  const bool post_secret = params.Has("client_secret");
  if (!auth.empty() && !basic) {
    return OAuthFail(OAuthError::kInvalidClient, "only HTTP Basic client authentication");
  }
  if (basic && post_secret) {
    return OAuthFail(OAuthError::kInvalidRequest, "use one client authentication method, not two");
  }
  std::string id, secret;
  if (basic) {
    auto decoded = Base64Decode(auth.substr(6));
    size_t colon = decoded.ok() ? decoded->find(':') : std::string::npos;
    if (colon == std::string::npos) {
      return OAuthFail(OAuthError::kInvalidClient, "malformed Basic credentials");
    }
    // RFC 6749 §2.3.1: both parts are form-urlencoded before base64.
    auto dec_id = PercentDecode(std::string_view(*decoded).substr(0, colon), true);
    auto dec_secret = PercentDecode(std::string_view(*decoded).substr(colon + 1), true);
    if (!dec_id.ok() || !dec_secret.ok()) {
      return OAuthFail(OAuthError::kInvalidClient, "malformed Basic credentials");
    }
    id = std::move(*dec_id);
    secret = std::move(*dec_secret);
    if (params.Has("client_id") && params.Get("client_id") != id) {
      return OAuthFail(OAuthError::kInvalidRequest,
                       "client_id in the body differs from the authenticated client");
    }
  } else {
    id = std::string(params.Get("client_id"));
    secret = std::string(params.Get("client_secret"));
  }
  if (id.empty()) return OAuthFail(OAuthError::kInvalidClient, "client authentication required");
  const Client* client = clients_.Find(id);
  if (!client) return OAuthFail(OAuthError::kInvalidClient, "unknown client");
  if (client->confidential()) {
    if (!basic && !post_secret) {
      return OAuthFail(OAuthError::kInvalidClient,
                       "this client is confidential: authenticate with client_secret_basic or "
                       "client_secret_post");
    }
    if (!clients_.CheckSecret(*client, secret)) {
      return OAuthFail(OAuthError::kInvalidClient, "client authentication failed");
    }
  } else if (basic || post_secret) {
    return OAuthFail(OAuthError::kInvalidClient,
                     "this is a public client: it has no secret (token_endpoint_auth_method none)");
  }
  return client;
}

Result<std::string> AuthServerImpl::AccessToken(const std::string& sub, const Client& client,
                                                const std::string& scope,
                                                const std::string& audience, const User* user,
                                                int64_t now) const {
  json::object claims;
  claims["iss"] = config_.issuer;
  claims["sub"] = sub;
  claims["aud"] = audience;
  claims["exp"] = now + config_.access_token_ttl_s;
  claims["iat"] = now;
  claims["nbf"] = now;
  claims["jti"] = RandomToken(16);
  claims["client_id"] = client.client_id;
  if (!scope.empty()) claims["scope"] = scope;
  if (user) {
    if (!user->roles.empty()) claims["roles"] = JsonStrings(user->roles);
    if (!user->groups.empty()) claims["groups"] = JsonStrings(user->groups);
    if (!user->email.empty()) claims["email"] = user->email;
    if (!user->tenant.empty()) claims["tenant"] = user->tenant;
  } else if (!client.roles.empty()) {
    claims["roles"] = JsonStrings(client.roles);
  }
  return SignJwt(keys_->active(), "at+jwt", claims);
}

Result<std::string> AuthServerImpl::IdToken(const User& user, const Client& client,
                                            const std::string& nonce, int64_t auth_time,
                                            int64_t now) const {
  json::object claims;
  claims["iss"] = config_.issuer;
  claims["sub"] = user.sub;
  claims["aud"] = client.client_id;
  claims["exp"] = now + config_.access_token_ttl_s;
  claims["iat"] = now;
  claims["auth_time"] = auth_time;
  if (!nonce.empty()) claims["nonce"] = nonce;
  if (!user.email.empty()) claims["email"] = user.email;
  return SignJwt(keys_->active(), "JWT", claims);
}

Response AuthServerImpl::TokenResponse(const std::string& access_token, const std::string& scope,
                                       const std::string& refresh_token,
                                       const std::string& id_token) const {
  json::object body;
  body["access_token"] = access_token;
  body["token_type"] = "Bearer";
  body["expires_in"] = config_.access_token_ttl_s;
  if (!scope.empty()) body["scope"] = scope;
  if (!refresh_token.empty()) body["refresh_token"] = refresh_token;
  if (!id_token.empty()) body["id_token"] = id_token;
  Response r = JsonResponse(200, body);
  NoStore(r);
  return r;
}

Response AuthServerImpl::Token(const http::Request& req) {
  auto params = FormBody(req);
  if (!params.ok()) return OAuthErrorResponse(params.error());
  auto client = AuthenticateClient(req, *params);
  if (!client.ok()) return OAuthErrorResponse(client.error());
  std::string_view grant_type = params->Get("grant_type");
  if (grant_type.empty()) {
    return OAuthErrorResponse(OAuthFail(OAuthError::kInvalidRequest, "grant_type is required"));
  }
  if (grant_type != "authorization_code" && grant_type != "refresh_token" &&
      grant_type != "client_credentials") {
    return OAuthErrorResponse(
        OAuthFail(OAuthError::kUnsupportedGrantType,
                  "unsupported grant_type '" + std::string(grant_type) + "'"));
  }
  if (!(*client)->AllowsGrant(grant_type)) {
    return OAuthErrorResponse(
        OAuthFail(OAuthError::kUnauthorizedClient,
                  "this client may not use the " + std::string(grant_type) + " grant"));
  }
  int64_t now = clock_();
  if (grant_type == "authorization_code") return TokenByCode(*params, **client, now);
  if (grant_type == "refresh_token") return TokenByRefresh(*params, **client, now);
  return TokenByClientCredentials(*params, **client, now);
}

Response AuthServerImpl::TokenByCode(const FormParams& params, const Client& client, int64_t now) {
  std::string_view code_text = params.Get("code");
  if (code_text.empty()) {
    return OAuthErrorResponse(OAuthFail(OAuthError::kInvalidRequest, "code is required"));
  }
  auto code = grants_.RedeemCode(code_text, now);
  if (!code.ok()) return OAuthErrorResponse(code.error());
  if (code->client_id != client.client_id) {
    return Fail(OAuthError::kInvalidGrant, "the code was issued to another client");
  }
  // RFC 6749 §4.1.3: the same redirect_uri as in the authorization request, if it had one.
  if (code->redirect_uri_in_request || params.Has("redirect_uri")) {
    if (params.Get("redirect_uri") != code->redirect_uri) {
      return Fail(OAuthError::kInvalidGrant,
                  "redirect_uri differs from the one in the authorization request");
    }
  }
  std::string_view verifier = params.Get("code_verifier");
  if (verifier.empty()) {
    return Fail(OAuthError::kInvalidRequest, "code_verifier is required (PKCE)");
  }
  if (!VerifyS256(verifier, code->code_challenge)) {
    return Fail(OAuthError::kInvalidGrant, "code_verifier does not match the code_challenge");
  }
  if (params.Has("resource") &&
      (params.Count("resource") > 1 || params.Get("resource") != code->resource)) {
    return Fail(OAuthError::kInvalidTarget,
                "resource differs from the one in the authorization request");
  }
  const User* user = FindUser(code->username);
  if (!user) return Fail(OAuthError::kInvalidGrant, "the user no longer exists");

  auto access = AccessToken(user->sub, client, code->scope, code->resource, user, now);
  if (!access.ok()) return Fail(OAuthError::kServerError, access.error().message);
  std::string refresh;
  if (client.AllowsGrant("refresh_token")) {
    refresh = grants_.StartFamily(RefreshGrant{client.client_id, user->username, code->scope,
                                               code->resource, code->auth_time},
                                  now, code_text);
  }
  std::string id_token;
  if (Contains(SplitScope(code->scope), "openid")) {
    auto id = IdToken(*user, client, code->nonce, code->auth_time, now);
    if (!id.ok()) return Fail(OAuthError::kServerError, id.error().message);
    id_token = std::move(*id);
  }
  log::Info("token issued", {{"grant_type", "authorization_code"},
                             {"client_id", client.client_id},
                             {"sub", user->sub},
                             {"aud", code->resource},
                             {"kid", keys_->active().kid()}});
  return TokenResponse(*access, code->scope, refresh, id_token);
}

Response AuthServerImpl::TokenByRefresh(const FormParams& params, const Client& client,
                                        int64_t now) {
  std::string_view token = params.Get("refresh_token");
  if (token.empty()) return Fail(OAuthError::kInvalidRequest, "refresh_token is required");
  // The request is checked against the grant before the token is used up, so that a mistake in
  // it does not cost the client its grant.
  std::string scope;
  if (const RefreshGrant* grant = grants_.Peek(token, client.client_id, now)) {
    scope = grant->scope;
    // RFC 6749 §6: a narrower scope may be asked for, never a wider one.
    if (params.Has("scope")) {
      std::vector<std::string> original = SplitScope(grant->scope);
      for (const auto& s : SplitScope(params.Get("scope"))) {
        if (!Contains(original, s)) {
          return Fail(OAuthError::kInvalidScope, "scope '" + s + "' was not granted originally");
        }
      }
      scope = JoinScope(SplitScope(params.Get("scope")));
    }
    if (params.Has("resource") &&
        (params.Count("resource") > 1 || params.Get("resource") != grant->resource)) {
      return Fail(OAuthError::kInvalidTarget, "resource differs from the original grant");
    }
    if (!FindUser(grant->username)) {
      return Fail(OAuthError::kInvalidGrant, "the user no longer exists");
    }
  }
  auto rotated = grants_.Rotate(token, client.client_id, now);
  if (!rotated.ok()) return OAuthErrorResponse(rotated.error());
  const RefreshGrant& grant = rotated->grant;
  const User* user = FindUser(grant.username);
  if (!user) return Fail(OAuthError::kInvalidGrant, "the user no longer exists");
  auto access = AccessToken(user->sub, client, scope, grant.resource, user, now);
  if (!access.ok()) return Fail(OAuthError::kServerError, access.error().message);
  log::Info("token issued", {{"grant_type", "refresh_token"},
                             {"client_id", client.client_id},
                             {"sub", user->sub},
                             {"aud", grant.resource},
                             {"kid", keys_->active().kid()}});
  return TokenResponse(*access, scope, rotated->refresh_token, "");
}

Response AuthServerImpl::TokenByClientCredentials(const FormParams& params, const Client& client,
                                                  int64_t now) {
  if (!client.confidential()) {
    return Fail(OAuthError::kUnauthorizedClient, "client_credentials needs a confidential client");
  }
  std::vector<std::string> allowed = SplitScope(client.scope);
  std::vector<std::string> requested = SplitScope(params.Get("scope"));
  for (const auto& s : requested) {
    if (!Contains(allowed, s)) {
      return Fail(OAuthError::kInvalidScope, "scope '" + s + "' is not allowed for this client");
    }
  }
  std::string scope = requested.empty() ? client.scope : JoinScope(requested);
  auto audience = ResolveResource(params);
  if (!audience.ok()) return OAuthErrorResponse(audience.error());
  auto access = AccessToken(client.client_id, client, scope, *audience, nullptr, now);
  if (!access.ok()) return Fail(OAuthError::kServerError, access.error().message);
  log::Info("token issued", {{"grant_type", "client_credentials"},
                             {"client_id", client.client_id},
                             {"sub", client.client_id},
                             {"aud", *audience},
                             {"kid", keys_->active().kid()}});
  return TokenResponse(*access, scope, "", "");
}

// ---- /register, /revoke ----------------------------------------------------------------------

Response AuthServerImpl::Register(const http::Request& req) {
  if (MediaType(req.header("content-type")) != kJsonType) {
    return OAuthErrorResponse(OAuthFail(OAuthError::kInvalidClientMetadata,
                                        "the body must be a JSON object (application/json)"));
  }
  auto body = json::Parse(req.body);
  if (!body.ok() || !body->is_object()) {
    return OAuthErrorResponse(
        OAuthFail(OAuthError::kInvalidClientMetadata, "the body must be a JSON object"));
  }
  auto reg = clients_.Register(body->as_object(), clock_());
  if (!reg.ok()) return OAuthErrorResponse(reg.error());
  json::object out = ClientMetadata(*reg->client);
  if (!reg->client_secret.empty()) {
    out["client_secret"] = reg->client_secret;
    out["client_secret_expires_at"] = 0;
  }
  log::Info("client registered", {{"client_id", reg->client->client_id},
                                  {"client_name", reg->client->client_name},
                                  {"auth_method", reg->client->token_endpoint_auth_method}});
  Response r = JsonResponse(201, out);
  NoStore(r);
  return r;
}

Response AuthServerImpl::Revoke(const http::Request& req) {
  auto params = FormBody(req);
  if (!params.ok()) return OAuthErrorResponse(params.error());
  auto client = AuthenticateClient(req, *params);
  if (!client.ok()) return OAuthErrorResponse(client.error());
  std::string_view token = params->Get("token");
  if (token.empty()) {
    return OAuthErrorResponse(OAuthFail(OAuthError::kInvalidRequest, "token is required"));
  }
  // RFC 7009 §2.2: 200 whether or not the token was known. Access tokens are self-contained JWTs
  // and stay valid until they expire.
  if (grants_.Revoke(token, (*client)->client_id)) {
    log::Info("refresh token revoked", {{"client_id", (*client)->client_id}});
  }
  Response r;
  r.status = 200;
  AddCors(r);
  NoStore(r);
  return r;
}

}  // namespace

Clock SystemClock() {
  return [] {
    return static_cast<int64_t>(std::chrono::duration_cast<std::chrono::seconds>(
                                    std::chrono::system_clock::now().time_since_epoch())
                                    .count());
  };
}

std::unique_ptr<AuthServer> NewAuthServer(Config config, KeyStore* keys, Clock clock) {
  return std::make_unique<AuthServerImpl>(std::move(config), keys, std::move(clock));
}

}  // namespace mcpgw::authserver
