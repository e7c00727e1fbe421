#include "authserver/grants.h"

#include "authserver/errors.h"
#include "authserver/secrets.h"

namespace mcpgw::authserver {

std::string GrantStore::IssueCode(AuthorizationCode code, int64_t now) {
  std::string token = RandomToken(32);
  CodeEntry& e = codes_[Sha256(token)];
  e.code = std::move(code);
  e.expires_at = now + code_ttl_s_;
  return token;
}

Result<AuthorizationCode> GrantStore::RedeemCode(std::string_view code, int64_t now) {
  auto it = codes_.find(Sha256(code));
  if (it == codes_.end()) return OAuthFail(OAuthError::kInvalidGrant, "unknown authorization code");
  CodeEntry& e = it->second;
  if (e.used) {
    if (!e.family.empty()) RevokeFamily(e.family);
    return OAuthFail(OAuthError::kInvalidGrant,
                     "authorization code was already used; tokens issued from it are revoked");
  }
  if (e.expires_at <= now) {
    codes_.erase(it);
    return OAuthFail(OAuthError::kInvalidGrant, "authorization code expired");
  }
  e.used = true;
  return e.code;
}

std::string GrantStore::NewRefreshToken(const std::string& family, int64_t now) {
  std::string token = RandomToken(32);
  std::string hash = Sha256(token);
  Family& f = families_[family];
  f.current = hash;
  f.hashes.push_back(hash);
  f.expires_at = now + refresh_ttl_s_;
  tokens_[hash] = TokenEntry{family};
  return token;
}

std::string GrantStore::StartFamily(RefreshGrant grant, int64_t now, std::string_view from_code) {
  std::string id = RandomToken(16);
  families_[id].grant = std::move(grant);
  if (!from_code.empty()) {
    auto it = codes_.find(Sha256(from_code));
    if (it != codes_.end()) it->second.family = id;
  }
  return NewRefreshToken(id, now);
}

Result<GrantStore::Rotated> GrantStore::Rotate(std::string_view refresh_token,
                                               std::string_view client_id, int64_t now) {
  std::string hash = Sha256(refresh_token);
  auto t = tokens_.find(hash);
  if (t == tokens_.end()) return OAuthFail(OAuthError::kInvalidGrant, "unknown refresh token");
  auto f = families_.find(t->second.family);
  if (f == families_.end()) return OAuthFail(OAuthError::kInvalidGrant, "refresh token revoked");
  Family& family = f->second;
  if (family.grant.client_id != client_id) {
    return OAuthFail(OAuthError::kInvalidGrant, "refresh token was issued to another client");
  }
  if (family.current != hash) {
    RevokeFamily(f->first);
    return OAuthFail(OAuthError::kInvalidGrant,
                     "refresh token was already used; every token of this grant is revoked");
  }
  if (family.expires_at <= now) {
    RevokeFamily(f->first);
    return OAuthFail(OAuthError::kInvalidGrant, "refresh token expired");
  }
  Rotated out;
  out.grant = family.grant;
  out.refresh_token = NewRefreshToken(f->first, now);
  return out;
}

const RefreshGrant* GrantStore::Peek(std::string_view refresh_token, std::string_view client_id,
                                     int64_t now) const {
  std::string hash = Sha256(refresh_token);
  auto t = tokens_.find(hash);
  if (t == tokens_.end()) return nullptr;
  auto f = families_.find(t->second.family);
  if (f == families_.end()) return nullptr;
  const Family& family = f->second;
  if (family.grant.client_id != client_id || family.current != hash || family.expires_at <= now) {
    return nullptr;
  }
  return &family.grant;
}

bool GrantStore::Revoke(std::string_view refresh_token, std::string_view client_id) {
  auto t = tokens_.find(Sha256(refresh_token));
  if (t == tokens_.end()) return false;
  auto f = families_.find(t->second.family);
  if (f == families_.end() || f->second.grant.client_id != client_id) return false;
  RevokeFamily(f->first);
  return true;
}

void GrantStore::RevokeFamily(const std::string& family) {
  auto f = families_.find(family);
  if (f == families_.end()) return;
  for (const auto& h : f->second.hashes) tokens_.erase(h);
  families_.erase(f);
}

void GrantStore::Sweep(int64_t now) {
  for (auto it = codes_.begin(); it != codes_.end();) {
    it = it->second.expires_at <= now ? codes_.erase(it) : std::next(it);
  }
  std::vector<std::string> expired;
  for (const auto& [id, f] : families_) {
    if (f.expires_at <= now) expired.push_back(id);
  }
  for (const auto& id : expired) RevokeFamily(id);
}

}  // namespace mcpgw::authserver
