// The OAuth 2.1 resource server inside the gateway (MCP authorization spec 2025-06-18/2025-11-25):
// reads the bearer token of a request, verifies it against the issuer's JWKS, and yields the
// caller's identity (subject, roles, groups, scopes, tenant) for sessions, logs and policy.
//
// Keys come only from the configured (or discovered) JWKS: fetched at start, refreshed as its
// Cache-Control says, refetched for an unknown kid at most once per cooldown. Verified tokens are
// cached until they expire, so the steady state does no signature work.
// Thread-safety: loop thread only.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "http/http.h"
#include "io/loop.h"

namespace mcpgw::auth {

struct Identity {
  std::string sub;
  std::string email;
  std::string tenant;
  std::string client_id;
  std::vector<std::string> roles;
  std::vector<std::string> groups;
  std::vector<std::string> scopes;
  int64_t exp = 0;
  bool HasScope(std::string_view s) const;
  bool HasRole(std::string_view r) const;
};

enum class Failure {
  kNone,
  kMissing,            // no bearer token: 401 without an error code
  kInvalidRequest,     // malformed header, token in the query: 400
  kInvalidToken,       // 401 invalid_token
  kInsufficientScope,  // 403 insufficient_scope
  kUnavailable,        // keys cannot be obtained: 503
};

struct Outcome {
  Failure failure = Failure::kNone;
  std::string description;  // fixed text, never echoes the token
  std::shared_ptr<const Identity> identity;
};

// The issuer's key set changed on a JWKS refresh (keys added or withdrawn; not the first fetch).
struct KeyRotation {
  std::string issuer;
  std::string jwks_uri;
  std::vector<std::string> added;    // kids, sorted
  std::vector<std::string> removed;  // kids, sorted
};
using KeyObserver = std::function<void(const KeyRotation&)>;

// The kids of `after` not in `before` (added) and the reverse (removed), sorted.
KeyRotation DiffKids(const std::vector<std::string>& before, const std::vector<std::string>& after);

class Authenticator {
 public:
  virtual ~Authenticator() = default;
  virtual void Start() = 0;
  virtual void Stop() = 0;
  // `authorization` is the Authorization header ("" if absent). `done` may run before this returns
  // (cached token) or later (after a JWKS fetch).
  virtual void Authenticate(std::string_view authorization, bool token_in_query,
                            std::function<void(Outcome)> done) = 0;
  // The HTTP answer for a failure: status, headers (WWW-Authenticate) and JSON body.
  virtual int Status(const Outcome& o) const = 0;
  virtual http::Headers Challenge(const Outcome& o) const = 0;
  virtual std::string ErrorBody(const Outcome& o) const = 0;
  // RFC 9728 protected resource metadata, and where it is served (path part).
  virtual std::string ResourceMetadata() const = 0;
  virtual const std::string& metadata_path() const = 0;
  // For /ready.
  virtual bool ready() const = 0;
  virtual size_t key_count() const = 0;
  virtual const std::string& last_error() const = 0;
  virtual uint64_t jwks_fetches() const = 0;
  // Told (on the loop thread) when a refresh finds a different key set than the one in use.
  virtual void SetKeyObserver(KeyObserver observer) = 0;
};

std::unique_ptr<Authenticator> NewAuthenticator(io::Loop& loop, http::Client& client,
                                                const config::AuthConfig& cfg);

// RFC 9728 §3.1: the metadata URL for a resource URI inserts the well-known segment between the
// host and the path: https://h/mcp -> https://h/.well-known/oauth-protected-resource/mcp.
std::string MetadataUrlFor(std::string_view resource);

}  // namespace mcpgw::auth
