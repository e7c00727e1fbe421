// The authorization server's HTTP endpoints, as one request -> response function:
//
//   GET  /.well-known/oauth-authorization-server   RFC 8414 metadata
//   GET  /.well-known/openid-configuration         the same, with the OpenID Connect fields
//   GET  <jwks_path>                               the public signing keys (RFC 7517)
//   GET  /authorize                                login form, or headless login (dev)
//   POST /authorize                                the login form's submission
//   POST /token                                    authorization_code, refresh_token,
//                                                  client_credentials
//   POST /register                                 RFC 7591 dynamic client registration
//   POST /revoke                                   RFC 7009 refresh-token revocation
//   GET  /health
//
// All paths are below the issuer's path, if it has one. Handle() does no I/O and does not block
// (except for PBKDF2 when a password or client secret is checked: ~0.15 s at the default
// iterations), so the caller can run it on its event loop thread.
//
// Thread-safety: none; one thread (the loop) calls every method.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "authserver/config.h"
#include "authserver/key_store.h"
#include "http/http.h"

namespace mcpgw::authserver {

struct Response {
  int status = 200;
  http::Headers headers;
  std::string body;
  std::string_view header(std::string_view lowercase_name) const {
    return http::FindHeader(headers, lowercase_name);
  }
};

// Unix time in seconds; injected so tests can move time forward.
using Clock = std::function<int64_t()>;
Clock SystemClock();

class AuthServer {
 public:
  virtual ~AuthServer() = default;
  virtual Response Handle(const http::Request& request) = 0;
  // Replaces the users (on SIGHUP). Existing refresh tokens of a removed user stop working.
  virtual void SetUsers(std::vector<User> users) = 0;
  // Forgets expired authorization codes and refresh tokens.
  virtual void Sweep() = 0;
};

// `config.issuer` must be final (with the bound port when it listened on port 0). `keys` must
// outlive the server.
std::unique_ptr<AuthServer> NewAuthServer(Config config, KeyStore* keys,
                                          Clock clock = SystemClock());

}  // namespace mcpgw::authserver
