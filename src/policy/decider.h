// The policy decision point (PDP) seam: the gateway asks "may this request proceed?" and gets an
// allow/deny with reasons. Two implementations: the embedded Rego engine over local .rego/.json
// files (hot-reloaded), and a remote OPA server over its Data API. Both are fail-closed: any
// error, timeout, undefined or non-boolean result is a deny with a reason saying so.
//
// The input document is the one in docs/policy.md (the requirements' shape plus user.groups,
// user.tenant, resource.server/kind/uri, args, session, time); the gateway builds it (input.h).
//
// Decision contract (same for both backends, so the same .rego files work in-process and in an
// OPA container):
//   data.<decision_path>  (default mcp/authz/allow)   must be the boolean true to allow;
//   data.<package>/reasons (sibling rule "reasons")   a set/array of strings, read only on deny,
//                                                     shown to the client and logged.
//
// Threading: everything is called on the gateway's event-loop thread and must not block it. The
// embedded backend answers inline (the callback runs before Decide returns); the remote backend
// answers from the loop when OPA responds or the deadline passes. `done` runs exactly once (also
// when the decider is stopped with decisions outstanding: they are denied).
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "config/config.h"
#include "http/http.h"
#include "io/loop.h"
#include "policy/event.h"
#include "rego/value.h"

namespace mcpgw::policy {

// What clients are told when the PDP itself failed (details go to the log only).
inline constexpr const char* kUnavailableReason = "policy decision point unavailable";

struct Decision {
  bool allow = false;
  std::vector<std::string> reasons;  // why it was denied (empty when allowed)
  std::string decision_id;           // unique per decision; logged and stored in history
  bool error = false;                // true when the deny came from a PDP failure (fail closed)
};

class Decider {
 public:
  virtual ~Decider() = default;
  using Done = std::function<void(Decision)>;
  using DoneMany = std::function<void(std::vector<Decision>)>;

  // Embedded: loads and compiles the policy (an error here stops start-up) and starts watching
  // the files. Remote: starts polling OPA's /health (never fails: OPA may come up later).
  virtual Status Start() = 0;
  // Stops timers and outstanding requests (their callbacks get a deny).
  virtual void Stop() = 0;

  // One decision (embedded: microseconds, inline; remote: bounded by the configured deadline).
  virtual void Decide(const rego::Value& input, Done done) = 0;
  // The decisions of a list's items (filtering), answers in item order. Item i's input is
  // `base` with the members of items[i] put in (policy::ListItem, policy::WithItem). The default
  // calls Decide for each; backends may do better.
  virtual void DecideMany(const rego::Value& base, std::vector<rego::Value> items, DoneMany done);

  // Replaces the data document at `path` ("mcp/emergency") at runtime: the embedded engine
  // recompiles with the new data, the remote one PUTs it to OPA's Data API.
  virtual void SetData(const std::string& path, const rego::Value& value,
                       std::function<void(Status)> done) = 0;
  // Reads the data document at `path` as in force now (nullopt when there is none).
  virtual void GetData(const std::string& path,
                       std::function<void(Result<std::optional<rego::Value>>)> done) = 0;
  // Re-reads the policy files now (SIGHUP). A policy that does not compile is rejected and the
  // current one keeps serving. No-op for the remote backend.
  virtual void Reload() {}
  // Told when a policy is put in place or rejected (start, file watcher, Reload, runtime data);
  // set it before Start() to see the first load. The remote backend has nothing to report.
  virtual void SetObserver(const PolicyObserver& /*observer*/) {}

  // Readiness: embedded = a policy is loaded; remote = OPA's /health answered 200 recently.
  virtual bool Ready() const = 0;
  // "embedded" or "opa".
  virtual const char* backend() const = 0;
  // A short status line for /ready and logs (paths or URL, last error).
  virtual std::string Describe() const = 0;
};

// A new random decision id (32 hex characters).
std::string NewDecisionId();

// "mcp/authz/allow" -> {"mcp", "authz", "allow"}; empty segments are dropped.
std::vector<std::string> SplitPath(const std::string& path);

// Deny reasons from a `reasons` document: the strings of a set or array, in order; anything
// else gives none.
std::vector<std::string> ReasonStrings(const rego::Value& reasons);

std::unique_ptr<Decider> NewEmbeddedDecider(io::Loop& loop, const config::PolicyConfig& config);
// `client` must outlive the decider.
std::unique_ptr<Decider> NewOpaDecider(io::Loop& loop, http::Client& client,
                                       const config::PolicyConfig& config);
// By config.mode; nullptr for mode off.
std::unique_ptr<Decider> NewDecider(io::Loop& loop, http::Client& client,
                                    const config::PolicyConfig& config);

}  // namespace mcpgw::policy
