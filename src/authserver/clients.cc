#include "authserver/clients.h"

#include "authserver/errors.h"
#include "authserver/password.h"
#include "authserver/secrets.h"

namespace mcpgw::authserver {
namespace {

bool Contains(const std::vector<std::string>& list, std::string_view item) {
  for (const auto& x : list) {
    if (x == item) return true;
  }
  return false;
}

Error BadMetadata(std::string why) {
  return OAuthFail(OAuthError::kInvalidClientMetadata, std::move(why));
}

// A JSON array of strings, or an error naming the field.
Result<std::vector<std::string>> Strings(const json::object& o, std::string_view key) {
  std::vector<std::string> out;
  const json::value* v = json::Find(o, key);
  if (!v || v->is_null()) return out;
  const json::array* a = v->if_array();
  if (!a) return BadMetadata(std::string(key) + " must be an array of strings");
  for (const auto& item : *a) {
    const json::string* s = item.if_string();
    if (!s) return BadMetadata(std::string(key) + " must be an array of strings");
    out.emplace_back(*s);
  }
  return out;
}

}  // namespace

bool Client::AllowsGrant(std::string_view grant_type) const {
  return Contains(grant_types, grant_type);
}

bool Client::HasRedirectUri(std::string_view uri) const { return Contains(redirect_uris, uri); }

ClientRegistry::ClientRegistry(const std::vector<ClientConfig>& static_clients) {
  for (const auto& c : static_clients) {
    Client client;
    client.client_id = c.client_id;
    client.secret_hash = c.client_secret_hash;
    client.client_name = c.client_name;
    client.redirect_uris = c.redirect_uris;
    client.grant_types = c.grant_types;
    client.scope = c.scope;
    client.roles = c.roles;
    client.token_endpoint_auth_method =
        c.client_secret_hash.empty() ? "none" : "client_secret_basic";
    clients_[client.client_id] = std::move(client);
  }
}

const Client* ClientRegistry::Find(std::string_view client_id) const {
  auto it = clients_.find(client_id);
  return it == clients_.end() ? nullptr : &it->second;
}

Result<Registration> ClientRegistry::Register(const json::object& metadata, int64_t now) {
  if (dynamic_count_ >= kMaxDynamicClients) {
    return OAuthFail(OAuthError::kInvalidClientMetadata,
                     "too many registered clients; restart the development server");
  }
  Client c;
  c.dynamic = true;
  c.issued_at = now;

  auto method = json::FindString(metadata, "token_endpoint_auth_method");
  if (const json::value* v = json::Find(metadata, "token_endpoint_auth_method");
      v && !v->is_string()) {
    return BadMetadata("token_endpoint_auth_method must be a string");
  }
  c.token_endpoint_auth_method = method.empty() ? "client_secret_basic" : std::string(method);
  if (c.token_endpoint_auth_method != "none" &&
      c.token_endpoint_auth_method != "client_secret_basic" &&
      c.token_endpoint_auth_method != "client_secret_post") {
    return BadMetadata(
        "token_endpoint_auth_method must be none, client_secret_basic or "
        "client_secret_post");
  }

  auto grants = Strings(metadata, "grant_types");
  if (!grants.ok()) return grants.error();
  c.grant_types = grants->empty() ? std::vector<std::string>{"authorization_code"} : *grants;
  for (const auto& g : c.grant_types) {
    if (g != "authorization_code" && g != "refresh_token" && g != "client_credentials") {
      return BadMetadata("unsupported grant type '" + g + "'");
    }
  }
  if (c.AllowsGrant("client_credentials") && c.token_endpoint_auth_method == "none") {
    return BadMetadata(
        "the client_credentials grant needs a confidential client "
        "(token_endpoint_auth_method client_secret_basic or client_secret_post)");
  }

  auto responses = Strings(metadata, "response_types");
  if (!responses.ok()) return responses.error();
  for (const auto& r : *responses) {
    if (r != "code") return BadMetadata("unsupported response type '" + r + "' (only code)");
  }
  if (!responses->empty() && !c.AllowsGrant("authorization_code")) {
    return BadMetadata("response_types code needs the authorization_code grant type");
  }

  auto uris = Strings(metadata, "redirect_uris");
  if (!uris.ok()) {
    return OAuthFail(OAuthError::kInvalidRedirectUri, "redirect_uris must be an array of strings");
  }
  if (uris->empty() && c.AllowsGrant("authorization_code")) {
    return OAuthFail(OAuthError::kInvalidRedirectUri,
                     "redirect_uris is required for the authorization_code grant");
  }
  for (const auto& uri : *uris) {
    Status ok = ValidateRedirectUri(uri);
    if (!ok.ok()) return OAuthFail(OAuthError::kInvalidRedirectUri, ok.error().message);
  }
  c.redirect_uris = std::move(*uris);

  if (const json::value* v = json::Find(metadata, "scope"); v && !v->is_null()) {
    if (!v->is_string()) return BadMetadata("scope must be a space-separated string");
    c.scope = JoinScope(SplitScope(v->as_string()));
  }
  if (const json::value* v = json::Find(metadata, "client_name"); v && !v->is_null()) {
    if (!v->is_string()) return BadMetadata("client_name must be a string");
    c.client_name = std::string(v->as_string().subview().substr(0, 200));
  }

  Registration reg;
  do {
    c.client_id = "dyn-" + RandomToken(16);
  } while (clients_.count(c.client_id));
  if (c.token_endpoint_auth_method != "none") {
    reg.client_secret = RandomToken(32);
    // 256 random bits need no key stretching: one PBKDF2 iteration keeps the format uniform.
    c.secret_hash = HashPassword(reg.client_secret, 1);
  }
  auto [it, inserted] = clients_.emplace(c.client_id, std::move(c));
  ++dynamic_count_;
  reg.client = &it->second;
  return reg;
}

bool ClientRegistry::CheckSecret(const Client& client, std::string_view secret) {
  if (!client.confidential()) return false;
  std::string key = Sha256(client.secret_hash + '\0' + std::string(secret));
  if (verified_.count(key)) return true;
  if (!VerifyPassword(secret, client.secret_hash)) return false;
  if (verified_.size() >= 1024) verified_.clear();
  verified_.insert(std::move(key));
  return true;
}

json::object ClientMetadata(const Client& client) {
  json::object o;
  o["client_id"] = client.client_id;
  if (client.issued_at) o["client_id_issued_at"] = client.issued_at;
  if (!client.client_name.empty()) o["client_name"] = client.client_name;
  json::array uris;
  for (const auto& u : client.redirect_uris) uris.emplace_back(u);
  o["redirect_uris"] = std::move(uris);
  json::array grants;
  for (const auto& g : client.grant_types) grants.emplace_back(g);
  o["grant_types"] = std::move(grants);
  json::array responses;
  if (client.AllowsGrant("authorization_code")) responses.emplace_back("code");
  o["response_types"] = std::move(responses);
  o["token_endpoint_auth_method"] = client.token_endpoint_auth_method;
  if (!client.scope.empty()) o["scope"] = client.scope;
  return o;
}

}  // namespace mcpgw::authserver
