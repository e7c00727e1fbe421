// The OAuth clients the server knows: the static ones from the configuration (and AUTH_CLIENT_ID)
// plus those registered at run time through RFC 7591 dynamic client registration. Registered
// clients live in memory only: after a restart a client registers again.
//
// Thread-safety: none; used from the server's event loop thread.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "authserver/config.h"
#include "common/result.h"
#include "json/json.h"

namespace mcpgw::authserver {

struct Client {
  std::string client_id;
  std::string secret_hash;  // pbkdf2-sha256$...; empty for a public client
  std::string client_name;
  std::vector<std::string> redirect_uris;
  std::vector<std::string> grant_types;
  std::string scope;  // space-separated; empty: no restriction
  std::vector<std::string> roles;
  std::string token_endpoint_auth_method;  // none | client_secret_basic | client_secret_post
  int64_t issued_at = 0;
  bool dynamic = false;

  bool confidential() const { return !secret_hash.empty(); }
  bool AllowsGrant(std::string_view grant_type) const;
  // Exact string comparison with each registered redirect URI (no normalisation, no prefix or
  // wildcard matching): an attacker-chosen URI must never receive a code.
  bool HasRedirectUri(std::string_view uri) const;
};

// What a registration answers: the client and, for a confidential one, its secret in plain text
// (shown once, stored only as a hash).
struct Registration {
  const Client* client = nullptr;
  std::string client_secret;
};

class ClientRegistry {
 public:
  explicit ClientRegistry(const std::vector<ClientConfig>& static_clients);

  const Client* Find(std::string_view client_id) const;

  // RFC 7591 §2-3: validates the metadata (redirect_uris, grant_types, response_types,
  // token_endpoint_auth_method, scope, client_name) and registers a client. Errors carry
  // invalid_redirect_uri or invalid_client_metadata.
  Result<Registration> Register(const json::object& metadata, int64_t now);

  // True when `secret` is the client's secret. Successful checks are remembered (as a SHA-256 of
  // hash and secret) so that a client asking for many tokens pays PBKDF2 once.
  bool CheckSecret(const Client& client, std::string_view secret);

  size_t size() const { return clients_.size(); }

  static constexpr size_t kMaxDynamicClients = 10000;

 private:
  std::map<std::string, Client, std::less<>> clients_;
  size_t dynamic_count_ = 0;
  std::unordered_set<std::string> verified_;  // SHA-256(hash, secret) of successful checks
};

// The metadata a registration response returns (RFC 7591 §3.2.1), without the secret.
json::object ClientMetadata(const Client& client);

}  // namespace mcpgw::authserver
