// The signing keys, persisted in one directory so a restart keeps issued tokens verifiable:
//
//   <keys_dir>/keys.json    which keys exist: kid, alg, created, retire_after (unix seconds), and
//                           which one is active; replaced atomically (write + rename)
//   <keys_dir>/<kid>.pem    each private key, PKCS#8 PEM, mode 0600
//   <keys_dir>/.lock        flock(2) held by whoever changes the directory
//
// Exactly one key is active and signs new tokens. Rotation makes a new key active and gives the
// previous one a retire_after time (now + key_rotation_overlap_s): until then it stays in the
// JWKS so tokens it signed still verify; after that it is left out of the JWKS and its PEM is
// deleted at the next rotation. `mcpgw auth-server rotate-keys` rotates from another process while
// the server runs; the server notices through ReloadIfChanged().
//
// Thread-safety: a KeyStore is used from one thread (the server's event loop). The directory is
// shared between processes safely: writers take the lock, readers see whole keys.json files.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "authserver/signing_key.h"
#include "common/result.h"
#include "json/json.h"

namespace mcpgw::authserver {

struct KeyInfo {
  std::string kid;
  Alg alg = Alg::kRS256;
  int64_t created = 0;
  std::optional<int64_t> retire_after;  // unset for the active key
};

class KeyStore {
 public:
  // Opens `dir` (created with mode 0700 if missing) and loads its keys. When there is no active
  // key, or the active key is not an `alg` key (the configuration changed), a new one is
  // generated first, exactly as Rotate() would.
  static Result<std::unique_ptr<KeyStore>> Open(const std::string& dir, Alg alg, int64_t overlap_s,
                                                int64_t now);

  // Makes a new `alg` key active; the previous active key retires at now + overlap_s; keys
  // already past retirement are removed. Returns the new key's info.
  static Result<KeyInfo> Rotate(const std::string& dir, Alg alg, int64_t overlap_s, int64_t now);

  ~KeyStore();

  const SigningKey& active() const;
  // Every key (active first), including retired ones still on disk.
  std::vector<KeyInfo> keys() const;
  // {"keys": [...]}: the public JWK of every key not retired at `now`, active first.
  json::object Jwks(int64_t now) const;

  // Re-reads the directory when keys.json changed since the last load (another inode, size or
  // modification time). Returns true when a new key set was loaded; on error the current set is
  // kept and the error returned.
  Result<bool> ReloadIfChanged();

  struct State;  // opaque

 private:
  explicit KeyStore(std::string dir);
  std::string dir_;
  std::unique_ptr<State> state_;
};

}  // namespace mcpgw::authserver
