// Server-side state of grants in progress: authorization codes and refresh-token families. Only
// SHA-256 hashes of codes and tokens are kept, so a memory dump does not hand out credentials.
// The state is in memory: a restart ends every refresh token (access tokens, being signed JWTs,
// stay valid until they expire).
//
// Authorization codes are single use and short-lived. A code presented a second time fails and
// revokes the refresh tokens issued from its first use (RFC 6749 §4.1.2).
//
// Refresh tokens rotate: each use returns a new token and ends the old one. All tokens descending
// from one authorization form a family; presenting a token that was already rotated out means it
// leaked (the attacker or the client used it first), so the whole family is revoked (RFC 9700
// §4.14.2).
//
// Time is passed in (unix seconds) so that tests control it. Thread-safety: none; used from the
// server's event loop thread.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace mcpgw::authserver {

struct AuthorizationCode {
  std::string client_id;
  std::string redirect_uri;             // the one the code was sent to
  bool redirect_uri_in_request = true;  // whether the authorization request named it
  std::string code_challenge;           // S256
  std::string resource;                 // becomes the access token's aud
  std::string scope;                    // granted, space-separated
  std::string nonce;                    // OpenID Connect, echoed in the ID token
  std::string username;
  int64_t auth_time = 0;
};

// What a refresh token stands for.
struct RefreshGrant {
  std::string client_id;
  std::string username;
  std::string scope;
  std::string resource;
  int64_t auth_time = 0;
};

class GrantStore {
 public:
  GrantStore(int64_t code_ttl_s, int64_t refresh_ttl_s)
      : code_ttl_s_(code_ttl_s), refresh_ttl_s_(refresh_ttl_s) {}

  // Returns a new random code valid for code_ttl_s.
  std::string IssueCode(AuthorizationCode code, int64_t now);
  // Consumes a code. Errors (invalid_grant): unknown, expired, or already used (which also
  // revokes the refresh-token family started from it).
  Result<AuthorizationCode> RedeemCode(std::string_view code, int64_t now);

  // Starts a refresh-token family; returns its first token. `from_code` links the family to the
  // code it was issued for, so that a replay of the code can revoke it.
  std::string StartFamily(RefreshGrant grant, int64_t now, std::string_view from_code = {});

  struct Rotated {
    RefreshGrant grant;
    std::string refresh_token;  // the replacement
  };
  // Exchanges a refresh token for its replacement. Errors (invalid_grant): unknown, expired,
  // revoked, issued to another client, or reused (which revokes the family).
  Result<Rotated> Rotate(std::string_view refresh_token, std::string_view client_id, int64_t now);

  // The grant of a live refresh token of `client_id`, without using it up; nullptr when Rotate()
  // would fail. Lets the caller check a request against the grant before rotating.
  const RefreshGrant* Peek(std::string_view refresh_token, std::string_view client_id,
                           int64_t now) const;

  // RFC 7009: ends the family of `refresh_token` if it belongs to `client_id`. Unknown tokens are
  // ignored. Returns whether a family ended.
  bool Revoke(std::string_view refresh_token, std::string_view client_id);

  // Forgets expired codes and families.
  void Sweep(int64_t now);

  size_t code_count() const { return codes_.size(); }
  size_t family_count() const { return families_.size(); }

 private:
  struct CodeEntry {
    AuthorizationCode code;
    int64_t expires_at = 0;
    bool used = false;
    std::string family;  // started from this code, if any
  };
  struct Family {
    RefreshGrant grant;
    std::string current;              // hash of the one live token
    std::vector<std::string> hashes;  // every token of the family, for reuse detection
    int64_t expires_at = 0;
  };
  struct TokenEntry {
    std::string family;
  };

  void RevokeFamily(const std::string& family);
  std::string NewRefreshToken(const std::string& family, int64_t now);

  int64_t code_ttl_s_;
  int64_t refresh_ttl_s_;
  std::map<std::string, CodeEntry> codes_;    // by SHA-256 of the code
  std::map<std::string, Family> families_;    // by family id
  std::map<std::string, TokenEntry> tokens_;  // by SHA-256 of the refresh token
};

}  // namespace mcpgw::authserver
