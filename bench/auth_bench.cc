// Cost of authenticating one request (issue 3 budget): the real Authenticator, fed by a JWKS that
// an in-process HTTP server serves on loopback. "Cached" is the steady state (a token seen
// before); "uncached" verifies a fresh token each iteration (its signature and claims), per
// algorithm. Tokens are signed up front, outside the timed loop.
#include <benchmark/benchmark.h>

#include <chrono>

#include "auth/authenticator.h"
#include "auth/jws.h"
#include "auth/test_signer.h"
#include "config/config.h"
#include "http/http.h"
#include "io/loop.h"

namespace {

using namespace mcpgw;

struct Fixture {
  std::unique_ptr<io::Loop> loop = io::NewLoop();
  std::unique_ptr<http::Client> client = http::NewClient(*loop);
  std::unique_ptr<http::Server> server;
  config::AuthConfig cfg;
  std::unique_ptr<auth::Authenticator> authn;
  std::vector<auth::testing::TestKey> keys;

  Fixture() {
    for (const char* alg : {"RS256", "PS256", "ES256", "EdDSA"})
      keys.push_back(auth::testing::Generate(alg, alg));
    json::array jwks;
    for (const auto& k : keys) jwks.push_back(k.jwk);
    json::object doc;
    doc["keys"] = jwks;
    std::string body = json::Serialize(doc);
    http::ServerOptions opts;
    opts.port = 0;
    server =
        http::NewServer(*loop, opts, [body](http::Request&&, std::shared_ptr<http::Responder> r) {
          r->Send(200, {{"content-type", "application/json"}}, body);
        });
    int port = *server->Listen();
    cfg.mode = config::AuthConfig::Mode::kOAuth;
    cfg.issuer = "http://127.0.0.1:9000";
    cfg.audience = "http://127.0.0.1:8080/mcp";
    cfg.jwks_uri = "http://127.0.0.1:" + std::to_string(port) + "/jwks";
    cfg.token_cache_entries = 1000000;
    authn = auth::NewAuthenticator(*loop, *client, cfg);
    authn->Start();
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (!authn->ready() && std::chrono::steady_clock::now() < deadline) {
      loop->After(io::Millis(5), [this] { loop->Stop(); });
      loop->Run();
    }
  }

  std::string Token(size_t key, int n) {
    int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
    std::string header =
        R"({"alg":")" + keys[key].alg + R"(","kid":")" + keys[key].alg + R"(","typ":"at+jwt"})";
    std::string claims =
        R"({"iss":"http://127.0.0.1:9000","aud":"http://127.0.0.1:8080/mcp","sub":"user)" +
        std::to_string(n) + R"(","scope":"mcp:read tool:echo:read","roles":["user"],"exp":)" +
        std::to_string(now + 3600) + R"(,"iat":)" + std::to_string(now) + "}";
    return auth::testing::MakeToken(keys[key], header, claims);
  }
};

Fixture& F() {
  static Fixture* f = new Fixture();  // shared by all benchmarks; lives until exit
  return *f;
}

void Authenticate(benchmark::State& state, const std::string& header) {
  bool ok = false;
  F().authn->Authenticate(header, false,
                          [&](auth::Outcome o) { ok = o.failure == auth::Failure::kNone; });
  if (!ok) state.SkipWithError("token refused");
}

void BM_Cached(benchmark::State& state) {
  std::string header = "Bearer " + F().Token(0, 0);
  Authenticate(state, header);  // first time: verified and cached
  for (auto _ : state) Authenticate(state, header);
}
BENCHMARK(BM_Cached);

void BM_Uncached(benchmark::State& state) {
  size_t key = static_cast<size_t>(state.range(0));
  state.SetLabel(F().keys[key].alg);
  // Enough distinct tokens for the run; each is seen once.
  std::vector<std::string> headers;
  for (int i = 0; i < 4000; ++i)
    headers.push_back("Bearer " + F().Token(key, i + 1000 * static_cast<int>(key)));
  size_t i = 0;
  for (auto _ : state) {
    if (i == headers.size()) {
      state.PauseTiming();
      for (auto& h : headers)
        h = "Bearer " + F().Token(key, static_cast<int>(i++ + 100000 * (key + 1)));
      i = 0;
      state.ResumeTiming();
    }
    Authenticate(state, headers[i++]);
  }
}
BENCHMARK(BM_Uncached)->DenseRange(0, 3)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
