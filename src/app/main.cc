// mcpgw: parse the command line, load the configuration, run. Nothing else lives here.
#include <signal.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>

#include "authserver/authserver.h"
#include "common/log.h"
#include "config/config.h"
#include "gateway/gateway.h"
#include "history/commands.h"
#include "http/http.h"
#include "io/loop.h"
#include "policy/pdp_server.h"
#include "policy/store.h"
#include "rego/cli.h"

namespace {

constexpr const char* kVersion = "0.1.0";

int Serve(const std::string& config_path, bool check_only) {
  auto env = mcpgw::config::ProcessEnv();
  auto loaded = config_path.empty() ? mcpgw::config::FromEnvironment(env)
                                    : mcpgw::config::LoadFile(config_path, env);
  if (!loaded.ok()) {
    std::fprintf(stderr, "mcpgw: configuration error: %s\n", loaded.error().message.c_str());
    return 2;
  }
  const mcpgw::config::Config& cfg = *loaded;
  mcpgw::log::Level level;
  mcpgw::log::Format format;
  mcpgw::log::ParseLevel(cfg.log_level, &level);
  mcpgw::log::ParseFormat(cfg.log_format, &format);
  mcpgw::log::Configure(level, format);
  if (check_only) {
    if (cfg.policy.mode == mcpgw::config::PolicyConfig::Mode::kEmbedded) {
      // The policy is part of the configuration: it must load and compile too.
      auto check_loop = mcpgw::io::NewLoop();
      mcpgw::policy::PolicyStore store(*check_loop, cfg.policy.paths, 0);
      mcpgw::Status loaded_policy = store.Load();
      if (!loaded_policy.ok()) {
        std::fprintf(stderr, "mcpgw: policy error: %s\n", loaded_policy.error().message.c_str());
        return 2;
      }
    }
    std::printf("%s: OK (%zu servers)\n", cfg.source.empty() ? "(environment)" : cfg.source.c_str(),
                cfg.servers.size());
    return 0;
  }
  signal(SIGPIPE, SIG_IGN);

  auto loop = mcpgw::io::NewLoop();
  loop->SetIdlePoll(std::chrono::microseconds(cfg.busy_poll_us));
  auto gateway = mcpgw::gateway::NewGateway(*loop, cfg);
  mcpgw::http::ServerOptions opts;
  opts.host = cfg.listen_host;
  opts.port = cfg.listen_port;
  opts.max_body_bytes = static_cast<size_t>(cfg.max_body_bytes);
  opts.max_header_bytes = static_cast<size_t>(cfg.max_header_bytes);
  auto server = mcpgw::http::NewServer(
      *loop, opts, [&](mcpgw::http::Request&& req, std::shared_ptr<mcpgw::http::Responder> res) {
        gateway->Handle(std::move(req), std::move(res));
      });
  auto port = server->Listen();
  if (!port.ok()) {
    mcpgw::log::Error("cannot listen", {{"error", port.error().message}});
    return 1;
  }
  bool loopback =
      cfg.listen_host == "127.0.0.1" || cfg.listen_host == "::1" || cfg.listen_host == "localhost";
  std::string address =
      (cfg.listen_host.find(':') != std::string::npos ? "[" + cfg.listen_host + "]"
                                                      : cfg.listen_host) +
      ":" + std::to_string(*port);
  mcpgw::log::Info("listening", {{"address", address},
                                 {"version", kVersion},
                                 {"config", cfg.source},
                                 {"servers", static_cast<int64_t>(cfg.servers.size())},
                                 {"env", cfg.env}});
  if (cfg.auth.mode == mcpgw::config::AuthConfig::Mode::kOff) {
    // Said loudly, at error level, and on every start: this is only safe on a trusted host.
    if (!loopback) {
      mcpgw::log::Error(
          "AUTHENTICATION IS OFF on a non-loopback address (auth.allow_insecure_listen): anyone "
          "who can reach it can use every tool",
          {{"address", address}});
    } else {
      mcpgw::log::Warn(
          "authentication is off (auth.mode: off); loopback clients can use every tool",
          {{"address", address}});
    }
  }
  mcpgw::Status started = gateway->Start();
  if (!started.ok()) {
    mcpgw::log::Error("start-up failed", {{"error", started.error().message}});
    server->Stop();
    bool stopped = false;
    gateway->Shutdown(
        [&] {
          stopped = true;
          loop->Stop();
        },
        "start-up failed");
    if (!stopped) loop->Run();
    return 1;
  }

  int exit_code = 0;
  bool stopping = false;
  auto shutdown = [&](const char* why) {
    if (stopping) {
      mcpgw::log::Warn("second signal: exiting now");
      loop->Stop();
      return;
    }
    stopping = true;
    mcpgw::log::Info("shutting down", {{"reason", why}});
    server->Stop();
    gateway->Shutdown([&] { loop->Stop(); }, why);
    // Never hang on shutdown: children get SIGKILL well before this.
    loop->After(std::chrono::milliseconds(cfg.shutdown_grace_ms + 5000), [&] {
      mcpgw::log::Error("shutdown took too long; exiting");
      exit_code = 1;
      loop->Stop();
    });
  };
  loop->OnSignal(SIGTERM, [&] { shutdown("SIGTERM"); });
  loop->OnSignal(SIGINT, [&] { shutdown("SIGINT"); });
  loop->OnSignal(SIGHUP, [&] { gateway->ReloadPolicy(); });
  loop->Run();
  mcpgw::log::Info("stopped");
  return exit_code;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"mcpgw - a secure, fast gateway in front of Model Context Protocol servers"};
  app.require_subcommand(1);
  app.set_version_flag("--version", kVersion);

  std::string config_path;
  bool check = false;
  auto* serve =
      app.add_subcommand("serve", "Run the gateway (Streamable HTTP at /mcp, legacy SSE at /sse)");
  serve
      ->add_option(
          "-c,--config", config_path,
          "YAML configuration file, or a Claude Desktop / VS Code JSON file "
          "(see docs/configuration.md). Without it: no upstreams, settings from the environment.")
      ->check(CLI::ExistingFile);
  serve->add_flag("--check", check, "Validate the configuration and exit (0 = valid, 2 = invalid)");
  serve->footer(
      "Environment (overrides the file): GATEWAY_HOST, GATEWAY_PORT, GATEWAY_LOG_LEVEL,\n"
      "GATEWAY_ALLOWED_ORIGINS, LOG_FORMAT, ENV, GATEWAY_AUTH_MODE, OAUTH_*, GATEWAY_POLICY_MODE,\n"
      "GATEWAY_POLICY_PATHS, OPA_URL, OPA_DECISION_PATH, OPA_TIMEOUT_MS. SIGHUP reloads the "
      "policy.\n"
      "Exit codes: 0 stopped cleanly, 1 runtime failure, 2 bad configuration.");

  auto* version = app.add_subcommand("version", "Print the version");

  // The development authorization server (docs/auth-server.md).
  std::string auth_config;
  bool auth_check = false;
  int hash_iterations = 600000;
  auto* auth_server = app.add_subcommand(
      "auth-server", "Run the development OAuth 2.1 authorization server (docs/auth-server.md)");
  auth_server->require_subcommand(0, 1);
  auth_server->add_option("-c,--config", auth_config, "auth-server YAML configuration file")
      ->check(CLI::ExistingFile);
  auth_server->add_flag("--check", auth_check, "Validate the configuration and exit");
  auth_server->footer(
      "Environment (overrides the file): AUTH_ISSUER_URL, AUTH_JWT_SIGNING_ALG, AUTH_JWKS_PATH,\n"
      "AUTH_CLIENT_ID, AUTH_CLIENT_SECRET, AUTH_REDIRECT_URI, LOG_FORMAT.\n"
      "Exit codes: 0 stopped cleanly, 1 runtime failure, 2 bad configuration.");
  auto* rotate_keys = auth_server->add_subcommand(
      "rotate-keys",
      "Make a new signing key active; the previous one stays in the JWKS for "
      "key_rotation_overlap_s");
  rotate_keys->add_option("-c,--config", auth_config, "auth-server YAML configuration file")
      ->check(CLI::ExistingFile);
  auto* hash_password = auth_server->add_subcommand(
      "hash-password", "Read a password from stdin and print its pbkdf2-sha256 hash");
  hash_password->add_option("--iterations", hash_iterations, "PBKDF2 iterations")
      ->capture_default_str();

  // History and audit (docs/history.md).
  std::string dsn;
  auto* db = app.add_subcommand("db", "History database administration");
  db->require_subcommand(1);
  auto* migrate = db->add_subcommand("migrate", "Apply pending schema migrations (idempotent)");
  migrate->add_option("--dsn", dsn,
                      "sqlite:///path.db or postgresql://user:pass@host:5432/db "
                      "(default: HISTORY_DB_DSN, else sqlite:///data/history.db)");
  auto* audit = app.add_subcommand("audit", "Audit trail tools");
  audit->require_subcommand(1);
  auto* verify = audit->add_subcommand(
      "verify",
      "Check the history and audit hash chains; name the first changed, removed or "
      "reordered row (exit 0 intact, 1 tampered)");
  verify->add_option("--dsn", dsn, "as for db migrate");

  // Rego policies, like `opa test` / `opa eval` (docs/rego-conformance.md).
  auto* policy = app.add_subcommand("policy", "Test and evaluate Rego policies");
  policy->require_subcommand(1);
  mcpgw::rego::PolicyTestOptions policy_test_opts;
  auto* policy_test = policy->add_subcommand(
      "test", "Run the test_* rules of the policies under PATH... (like opa test)");
  policy_test->add_option("paths", policy_test_opts.paths, ".rego and data files or directories")
      ->required();
  policy_test->add_flag("-v,--verbose", policy_test_opts.verbose, "List every test with its time");
  policy_test->footer(
      "Exit codes: 0 all tests pass, 1 a test fails or errs, 2 load/compile error.");
  mcpgw::rego::PolicyEvalOptions policy_eval_opts;
  auto* policy_eval = policy->add_subcommand(
      "eval", "Evaluate a query against policies and data, print OPA's JSON (like opa eval)");
  policy_eval
      ->add_option("-d,--data", policy_eval_opts.data_paths,
                   ".rego and data files or directories (repeatable)")
      ->allow_extra_args(false);  // -d a -d b QUERY: one path per -d
  policy_eval->add_option("-i,--input", policy_eval_opts.input_path, "input document (JSON/YAML)");
  policy_eval->add_option("-f,--format", policy_eval_opts.format, "json (default) or raw");
  policy_eval->add_option("query", policy_eval_opts.query, "Rego query, e.g. data.mcp.authz.allow")
      ->required();
  policy_eval->footer("Exit codes: 0 evaluated (undefined prints {}), 1 error, 2 bad arguments.");

  // The embedded engine behind OPA's Data API (docs/policy.md).
  std::string pdp_addr = "127.0.0.1:8181";
  std::vector<std::string> pdp_paths;
  int64_t pdp_reload_ms = 500;
  auto* pdp = app.add_subcommand(
      "pdp", "Serve OPA's Data API (/v1/data, /health) from the embedded Rego engine");
  pdp->add_option("-a,--addr", pdp_addr, "host:port to listen on (:8181 = all interfaces)")
      ->capture_default_str();
  pdp->add_option("-d,--data", pdp_paths, ".rego and data files or directories (repeatable)")
      ->allow_extra_args(false);
  pdp->add_option("--reload-interval-ms", pdp_reload_ms,
                  "how often the files are checked for changes (0 = only on SIGHUP)")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{0}, int64_t{3600000}));
  pdp->footer(
      "POST /v1/data/{path} {\"input\": ...} evaluates; PUT /v1/data/{path} replaces data at "
      "runtime.\nEnvironment: LOG_FORMAT, GATEWAY_LOG_LEVEL. SIGHUP reloads the files.\n"
      "Exit codes: 0 stopped cleanly, 1 cannot listen, 2 bad arguments.");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }
  if (*version) {
    std::printf("mcpgw %s\n", kVersion);
    return 0;
  }
  if (*serve) return Serve(config_path, check);
  if (*pdp) return mcpgw::policy::RunPdp(pdp_addr, pdp_paths, pdp_reload_ms);
  if (*migrate) return mcpgw::history::RunMigrate(mcpgw::history::ResolveDsn(dsn));
  if (*verify) return mcpgw::history::RunVerify(mcpgw::history::ResolveDsn(dsn));
  if (*policy_test) return mcpgw::rego::RunPolicyTest(policy_test_opts, std::cout, std::cerr);
  if (*policy_eval) return mcpgw::rego::RunPolicyEval(policy_eval_opts, std::cout, std::cerr);
  if (*rotate_keys) return mcpgw::authserver::RotateKeysCommand(auth_config);
  if (*hash_password) return mcpgw::authserver::HashPasswordCommand(hash_iterations);
  if (*auth_server) return mcpgw::authserver::RunServer(auth_config, auth_check);
  return 2;
}
