// `mcpgw pdp`: the embedded Rego engine behind OPA's Data API, so a gateway in remote mode (or
// anything else that speaks to OPA) can use it as its policy decision point.
//
//   GET|POST /v1/data/{path}  {"input": ...}  -> 200 {"result": ..., "decision_id": "..."}
//                                                (no "result" when the document is undefined)
//   PUT      /v1/data/{path}  <json>          -> 204 (runtime data, e.g. the emergency switch)
//   DELETE   /v1/data/{path}                  -> 204, 404 when there is no such document
//   GET      /health                          -> 200 {} (500 while no policy is loaded)
// Errors use OPA's JSON: 400 {"code":"invalid_parameter",...}, 500 {"code":"internal_error",...}.
// The files are hot-reloaded like the embedded decider's (PolicyStore); SIGHUP reloads now.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"
#include "http/http.h"
#include "policy/store.h"

namespace mcpgw::policy {

// OPA's Data API over a PolicyStore, as a request -> response function (testable without
// sockets).
class DataApi {
 public:
  struct Response {
    int status = 200;
    http::Headers headers;
    std::string body;
  };
  explicit DataApi(PolicyStore& store) : store_(store) {}
  Response Handle(const http::Request& req);

 private:
  Response Evaluate(const http::Request& req, const std::vector<std::string>& path);
  Response Put(const http::Request& req, const std::vector<std::string>& path);
  Response Delete(const std::vector<std::string>& path);
  PolicyStore& store_;
};

// "127.0.0.1:8181", "localhost:8181", "[::1]:8181", ":8181" (all interfaces, like OPA).
Result<std::pair<std::string, int>> ParseListenAddress(std::string_view addr);

// Runs until SIGTERM/SIGINT. Exit codes: 0 stopped, 1 cannot listen, 2 bad arguments.
int RunPdp(const std::string& addr, const std::vector<std::string>& paths,
           int64_t reload_interval_ms);

}  // namespace mcpgw::policy
