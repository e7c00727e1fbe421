#include "authserver/key_store.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace mcpgw::authserver {
namespace {

namespace fs = std::filesystem;

constexpr const char* kManifest = "keys.json";

struct Manifest {
  std::string active;
  std::vector<KeyInfo> keys;
};

std::string Path(const std::string& dir, const std::string& name) {
  return (fs::path(dir) / name).string();
}

std::string ErrnoText() { return std::strerror(errno); }

// An exclusive flock(2) on <dir>/.lock for as long as it lives.
class DirLock {
 public:
  static Result<std::unique_ptr<DirLock>> Take(const std::string& dir) {
    std::string path = Path(dir, ".lock");
    int fd = ::open(path.c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0600);
    if (fd < 0) return MakeError("cannot open " + path + ": " + ErrnoText());
    while (::flock(fd, LOCK_EX) != 0) {
      if (errno != EINTR) {
        std::string err = ErrnoText();
        ::close(fd);
        return MakeError("cannot lock " + path + ": " + std::move(err));
      }
    }
    return std::unique_ptr<DirLock>(new DirLock(fd));
  }
  ~DirLock() { ::close(fd_); }  // closing releases the lock
  DirLock(const DirLock&) = delete;
  DirLock& operator=(const DirLock&) = delete;

 private:
  explicit DirLock(int fd) : fd_(fd) {}
  int fd_;
};

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return MakeError("cannot read " + path + ": " + ErrnoText());
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Writes `data` to `path` with mode 0600 through a temporary file and rename(2), so a reader sees
// the old or the new contents, never a part.
Status WriteFileAtomic(const std::string& path, std::string_view data) {
  std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return MakeError("cannot write " + tmp + ": " + ErrnoText());
  ::fchmod(fd, 0600);  // also when the file existed with wider permissions
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      std::string err = ErrnoText();
      ::close(fd);
      return MakeError("cannot write " + tmp + ": " + std::move(err));
    }
    off += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) return MakeError("cannot write " + tmp);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    return MakeError("cannot rename " + tmp + ": " + ErrnoText());
  }
  return {};
}

Result<std::optional<Manifest>> ReadManifest(const std::string& dir) {
  std::string path = Path(dir, kManifest);
  if (!fs::exists(path)) return std::optional<Manifest>();
  auto text = ReadFile(path);
  if (!text.ok()) return text.error();
  auto parsed = json::Parse(*text);
  auto bad = [&](const std::string& why) { return MakeError(path + ": " + why); };
  if (!parsed.ok()) return bad(parsed.error().message);
  const json::object* root = parsed->if_object();
  if (!root) return bad("not a JSON object");
  Manifest m;
  m.active = std::string(json::FindString(*root, "active"));
  const json::array* keys = json::FindArray(*root, "keys");
  if (!keys) return bad("no \"keys\" array");
  for (const auto& v : *keys) {
    const json::object* o = v.if_object();
    if (!o) return bad("a key entry is not an object");
    KeyInfo k;
    k.kid = std::string(json::FindString(*o, "kid"));
    auto alg = ParseAlg(json::FindString(*o, "alg"));
    const json::value* created = json::Find(*o, "created");
    const json::value* retire = json::Find(*o, "retire_after");
    if (k.kid.empty() || k.kid.find_first_of("/.") != std::string::npos || !alg || !created ||
        !created->is_int64()) {
      return bad("a key entry needs kid, alg and created");
    }
    k.alg = *alg;
    k.created = created->as_int64();
    if (retire && retire->is_int64()) k.retire_after = retire->as_int64();
    m.keys.push_back(std::move(k));
  }
  return std::optional<Manifest>(std::move(m));
}

Status WriteManifest(const std::string& dir, const Manifest& m) {
  json::array keys;
  for (const auto& k : m.keys) {
    json::object o;
    o["kid"] = k.kid;
    o["alg"] = AlgName(k.alg);
    o["file"] = k.kid + ".pem";
    o["created"] = k.created;
    if (k.retire_after) o["retire_after"] = *k.retire_after;
    keys.push_back(std::move(o));
  }
  json::object root;
  root["version"] = 1;
  root["active"] = m.active;
  root["keys"] = std::move(keys);
  return WriteFileAtomic(Path(dir, kManifest), json::Serialize(root) + "\n");
}

// With the lock held: a new active key, the old active one retiring, expired ones deleted.
Result<KeyInfo> RotateLocked(const std::string& dir, Manifest& m, Alg alg, int64_t overlap_s,
                             int64_t now) {
  auto key = SigningKey::Generate(alg);
  if (!key.ok()) return key.error();
  Status written = WriteFileAtomic(Path(dir, key->kid() + ".pem"), key->PrivatePem());
  if (!written.ok()) return written.error();
  std::vector<KeyInfo> kept;
  for (auto& k : m.keys) {
    if (k.kid == key->kid()) continue;
    if (!k.retire_after) k.retire_after = now + overlap_s;
    if (*k.retire_after <= now) {
      std::error_code ec;
      fs::remove(Path(dir, k.kid + ".pem"), ec);
      continue;
    }
    kept.push_back(k);
  }
  KeyInfo info{key->kid(), alg, now, std::nullopt};
  kept.insert(kept.begin(), info);
  m.keys = std::move(kept);
  m.active = info.kid;
  Status saved = WriteManifest(dir, m);
  if (!saved.ok()) return saved.error();
  return info;
}

Status EnsureDir(const std::string& dir) {
  std::error_code ec;
  if (!fs::exists(dir, ec)) {
    fs::create_directories(dir, ec);
    if (ec) return MakeError("cannot create keys_dir " + dir + ": " + ec.message());
    ::chmod(dir.c_str(), 0700);
  }
  if (!fs::is_directory(dir, ec)) return MakeError("keys_dir " + dir + " is not a directory");
  return {};
}

struct Stamp {
  ino_t ino = 0;
  off_t size = 0;
  int64_t mtime_ns = 0;
  bool operator==(const Stamp& o) const {
    return ino == o.ino && size == o.size && mtime_ns == o.mtime_ns;
  }
};

Stamp StampOf(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return {};
  return {st.st_ino, st.st_size,
          static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec};
}

}  // namespace

struct KeyStore::State {
  Stamp stamp;
  std::vector<std::pair<KeyInfo, SigningKey>> keys;  // active first
};

namespace {

Result<std::unique_ptr<KeyStore::State>> Load(const std::string& dir) {
  auto state = std::make_unique<KeyStore::State>();
  state->stamp = StampOf(Path(dir, kManifest));
  auto manifest = ReadManifest(dir);
  if (!manifest.ok()) return manifest.error();
  if (!manifest->has_value()) return MakeError("no " + Path(dir, kManifest));
  const Manifest& m = **manifest;
  for (const auto& info : m.keys) {
    std::string pem_path = Path(dir, info.kid + ".pem");
    auto pem = ReadFile(pem_path);
    if (!pem.ok()) {
      if (info.retire_after) continue;  // a retired key may already be gone
      return pem.error();
    }
    auto key = SigningKey::FromPem(info.alg, *pem);
    if (!key.ok()) return MakeError(pem_path + ": " + key.error().message);
    if (key->kid() != info.kid) {
      return MakeError(pem_path + ": the key does not match its kid " + info.kid);
    }
    if (info.kid == m.active) {
      state->keys.emplace(state->keys.begin(), info, std::move(*key));
    } else {
      state->keys.emplace_back(info, std::move(*key));
    }
  }
  if (state->keys.empty() || state->keys.front().first.kid != m.active) {
    return MakeError(Path(dir, kManifest) + ": the active key " + m.active + " is missing");
  }
  return state;
}

}  // namespace

KeyStore::KeyStore(std::string dir) : dir_(std::move(dir)) {}
KeyStore::~KeyStore() = default;

Result<std::unique_ptr<KeyStore>> KeyStore::Open(const std::string& dir, Alg alg, int64_t overlap_s,
                                                 int64_t now) {
  Status made = EnsureDir(dir);
  if (!made.ok()) return made.error();
  {
    auto lock = DirLock::Take(dir);
    if (!lock.ok()) return lock.error();
    auto manifest = ReadManifest(dir);
    if (!manifest.ok()) return manifest.error();
    Manifest m = manifest->value_or(Manifest{});
    bool usable = false;
    for (const auto& k : m.keys) {
      if (k.kid == m.active && k.alg == alg && !k.retire_after) usable = true;
    }
    if (!usable) {
      auto rotated = RotateLocked(dir, m, alg, overlap_s, now);
      if (!rotated.ok()) return rotated.error();
    }
  }
  auto state = Load(dir);
  if (!state.ok()) return state.error();
  std::unique_ptr<KeyStore> store(new KeyStore(dir));
  store->state_ = std::move(*state);
  return store;
}

Result<KeyInfo> KeyStore::Rotate(const std::string& dir, Alg alg, int64_t overlap_s, int64_t now) {
  Status made = EnsureDir(dir);
  if (!made.ok()) return made.error();
  auto lock = DirLock::Take(dir);
  if (!lock.ok()) return lock.error();
  auto manifest = ReadManifest(dir);
  if (!manifest.ok()) return manifest.error();
  Manifest m = manifest->value_or(Manifest{});
  return RotateLocked(dir, m, alg, overlap_s, now);
}

const SigningKey& KeyStore::active() const { return state_->keys.front().second; }

std::vector<KeyInfo> KeyStore::keys() const {
  std::vector<KeyInfo> out;
  for (const auto& [info, key] : state_->keys) out.push_back(info);
  return out;
}

json::object KeyStore::Jwks(int64_t now) const {
  json::array keys;
  for (const auto& [info, key] : state_->keys) {
    if (info.retire_after && *info.retire_after <= now) continue;
    keys.push_back(key.PublicJwk());
  }
  json::object out;
  out["keys"] = std::move(keys);
  return out;
}

Result<bool> KeyStore::ReloadIfChanged() {
  if (StampOf(Path(dir_, kManifest)) == state_->stamp) return false;
  auto state = Load(dir_);
  if (!state.ok()) return state.error();
  state_ = std::move(*state);
  return true;
}

}  // namespace mcpgw::authserver
