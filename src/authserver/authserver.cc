#include "authserver/authserver.h"

#include <signal.h>
#include <termios.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <iostream>

#include "authserver/config.h"
#include "authserver/key_store.h"
#include "authserver/password.h"
#include "authserver/server.h"
#include "common/log.h"
#include "http/http.h"
#include "io/loop.h"

namespace mcpgw::authserver {
namespace {

constexpr auto kKeyCheckInterval = std::chrono::seconds(2);
constexpr auto kSweepInterval = std::chrono::seconds(60);
constexpr size_t kMaxBodyBytes = 64 << 10;  // forms and registration metadata are small

Result<Config> LoadAndConfigureLogging(const std::string& config_path) {
  auto cfg = LoadConfigFile(config_path, ProcessEnv());
  if (!cfg.ok()) return cfg;
  log::Level level = log::Level::kInfo;
  log::Format format = log::Format::kJson;
  if (!log::ParseLevel(cfg->log_level, &level)) {
    return MakeError(cfg->source + ": 'log_level' must be debug, info, warn, error or off");
  }
  if (!log::ParseFormat(cfg->log_format, &format)) {
    return MakeError(cfg->source + ": 'log_format' must be json or text");
  }
  log::Configure(level, format, "mcpgw-auth-server");
  return cfg;
}

// "http://127.0.0.1:0/x" -> "http://127.0.0.1:<port>/x"; other issuers are returned unchanged.
std::string ResolveIssuerPort(const std::string& issuer, int port) {
  size_t scheme = issuer.find("://");
  if (scheme == std::string::npos) return issuer;
  size_t end = issuer.find('/', scheme + 3);
  if (end == std::string::npos) end = issuer.size();
  if (end < 2 || issuer.compare(end - 2, 2, ":0") != 0) return issuer;
  return issuer.substr(0, end - 1) + std::to_string(port) + issuer.substr(end);
}

void LogKeys(const KeyStore& keys, std::string_view msg) {
  log::Info(msg, {{"kid", keys.active().kid()},
                  {"alg", AlgName(keys.active().alg())},
                  {"published_keys", static_cast<int64_t>(keys.keys().size())}});
}

int64_t Now() { return SystemClock()(); }

}  // namespace

int RunServer(const std::string& config_path, bool check_only) {
  auto loaded = LoadAndConfigureLogging(config_path);
  if (!loaded.ok()) {
    std::fprintf(stderr, "mcpgw auth-server: configuration error: %s\n",
                 loaded.error().message.c_str());
    return 2;
  }
  Config cfg = std::move(*loaded);
  if (check_only) {
    std::printf("%s: OK (%zu users, %zu clients)\n", cfg.source.c_str(), cfg.users.size(),
                cfg.clients.size());
    return 0;
  }
  signal(SIGPIPE, SIG_IGN);

  auto keys = KeyStore::Open(cfg.keys_dir, cfg.signing_alg, cfg.key_rotation_overlap_s, Now());
  if (!keys.ok()) {
    log::Error("cannot open the signing keys",
               {{"keys_dir", cfg.keys_dir}, {"error", keys.error().message}});
    return 1;
  }
  KeyStore& key_store = **keys;

  auto loop = io::NewLoop();
  std::unique_ptr<AuthServer> auth;  // created once the port (and so the issuer) is known
  http::ServerOptions opts;
  opts.host = cfg.listen_host;
  opts.port = cfg.listen_port;
  opts.max_body_bytes = kMaxBodyBytes;
  auto server = http::NewServer(
      *loop, opts, [&](http::Request&& req, const std::shared_ptr<http::Responder>& res) {
        auto start = std::chrono::steady_clock::now();
        Response r = auth->Handle(req);
        int status = r.status;
        res->Send(r.status, std::move(r.headers), std::move(r.body));
        double ms =
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
                .count();
        // The path only: a headless login carries the password in the query.
        log::Info("request", {{"method", req.method},
                              {"path", req.path()},
                              {"status", status},
                              {"ms", ms},
                              {"remote", req.remote_ip}});
      });
  auto port = server->Listen();
  if (!port.ok()) {
    log::Error("cannot listen", {{"error", port.error().message}});
    return 1;
  }
  cfg.issuer = ResolveIssuerPort(cfg.issuer, *port);
  std::string address =
      (cfg.listen_host.find(':') != std::string::npos ? "[" + cfg.listen_host + "]"
                                                      : cfg.listen_host) +
      ":" + std::to_string(*port);
  const std::string issuer = cfg.issuer;
  const std::string users_file = cfg.users_file;
  const bool headless = cfg.headless_login;
  const Mode mode = cfg.mode;
  const size_t users = cfg.users.size(), clients = cfg.clients.size();
  auth = NewAuthServer(std::move(cfg), &key_store);
  log::Info("listening", {{"address", address},
                          {"issuer", issuer},
                          {"mode", mode == Mode::kDev ? "dev" : "production"},
                          {"headless_login", headless},
                          {"users", static_cast<int64_t>(users)},
                          {"clients", static_cast<int64_t>(clients)},
                          {"kid", key_store.active().kid()},
                          {"alg", AlgName(key_store.active().alg())}});
  if (mode == Mode::kDev) {
    log::Warn(
        "development authorization server: test users and open registration; do not expose "
        "it to untrusted networks");
  }

  auto reload_keys = [&] {
    auto changed = key_store.ReloadIfChanged();
    if (!changed.ok()) {
      log::Warn("cannot reload the signing keys; keeping the current set",
                {{"error", changed.error().message}});
    } else if (*changed) {
      LogKeys(key_store, "signing keys reloaded");
    }
  };
  std::function<void()> key_timer = [&] {
    reload_keys();
    loop->After(kKeyCheckInterval, key_timer);
  };
  loop->After(kKeyCheckInterval, key_timer);
  std::function<void()> sweep_timer = [&] {
    auth->Sweep();
    loop->After(kSweepInterval, sweep_timer);
  };
  loop->After(kSweepInterval, sweep_timer);

  loop->OnSignal(SIGHUP, [&] {
    reload_keys();
    if (users_file.empty()) return;
    auto reloaded = LoadUsersFile(users_file);
    if (!reloaded.ok()) {
      log::Warn("cannot reload the users; keeping the current ones",
                {{"error", reloaded.error().message}});
      return;
    }
    log::Info("users reloaded", {{"users", static_cast<int64_t>(reloaded->size())}});
    auth->SetUsers(std::move(*reloaded));
  });
  auto shutdown = [&](const char* why) {
    log::Info("shutting down", {{"reason", why}});
    server->Stop();
    loop->Stop();
  };
  loop->OnSignal(SIGTERM, [&] { shutdown("SIGTERM"); });
  loop->OnSignal(SIGINT, [&] { shutdown("SIGINT"); });
  loop->Run();
  log::Info("stopped");
  return 0;
}

int RotateKeysCommand(const std::string& config_path) {
  auto cfg = LoadAndConfigureLogging(config_path);
  if (!cfg.ok()) {
    std::fprintf(stderr, "mcpgw auth-server rotate-keys: configuration error: %s\n",
                 cfg.error().message.c_str());
    return 2;
  }
  int64_t now = Now();
  auto info = KeyStore::Rotate(cfg->keys_dir, cfg->signing_alg, cfg->key_rotation_overlap_s, now);
  if (!info.ok()) {
    std::fprintf(stderr, "mcpgw auth-server rotate-keys: %s\n", info.error().message.c_str());
    return 1;
  }
  std::printf(
      "new active key %s (%s) in %s\n"
      "the previously active key stays in the JWKS for %lld s (key_rotation_overlap_s); a running "
      "server "
      "picks the new key up within 2 s or on SIGHUP\n",
      info->kid.c_str(), std::string(AlgName(info->alg)).c_str(), cfg->keys_dir.c_str(),
      static_cast<long long>(cfg->key_rotation_overlap_s));
  return 0;
}

int HashPasswordCommand(int iterations) {
  if (iterations < 1 || iterations > 10000000) {
    std::fprintf(stderr, "mcpgw auth-server hash-password: --iterations must be 1..10000000\n");
    return 2;
  }
  const bool tty = ::isatty(STDIN_FILENO) == 1;
  termios saved{};
  if (tty) {
    std::fprintf(stderr, "Password: ");
    std::fflush(stderr);
    if (::tcgetattr(STDIN_FILENO, &saved) == 0) {
      termios quiet = saved;
      quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
      ::tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
    }
  }
  std::string password;
  bool got = static_cast<bool>(std::getline(std::cin, password));
  if (tty) {
    ::tcsetattr(STDIN_FILENO, TCSANOW, &saved);
    std::fprintf(stderr, "\n");
  }
  if (!password.empty() && password.back() == '\r') password.pop_back();
  if (!got || password.empty()) {
    std::fprintf(stderr, "mcpgw auth-server hash-password: no password on stdin\n");
    return 1;
  }
  std::printf("%s\n", HashPassword(password, iterations).c_str());
  return 0;
}

}  // namespace mcpgw::authserver
