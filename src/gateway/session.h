// Client sessions of the Streamable HTTP (and legacy HTTP+SSE) transport.
//
// A session owns logical SSE streams: one per POST that is answered as a stream, plus the
// standalone GET stream. Every event sent on a stream gets an id "<stream>-<seq>" and is kept in
// a bounded per-stream log, so a client that lost the connection can GET with Last-Event-ID and
// receive what it missed, then the rest of that stream.
//
// Thread-safety: loop thread only.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "http/http.h"
#include "json/json.h"

namespace mcpgw::gateway {

struct Stream {
  uint64_t id = 0;
  bool standalone = false;                     // the GET stream
  std::shared_ptr<http::Responder> responder;  // null while the client is disconnected
  bool json_only = false;                      // POST whose client accepts only application/json
  bool json_pending = false;  // POST that may still be answered as plain JSON (auto mode)
  int open_requests = 0;      // responses still owed on this stream
  // A JSON-RPC batch answered as one JSON array (its client takes no SSE): the final answers,
  // sent together once the last is in.
  bool batch_json = false;
  std::vector<std::string> batch_answers;
  uint64_t next_seq = 0;
  std::deque<std::pair<uint64_t, std::string>> log;  // seq -> formatted SSE event
  size_t log_bytes = 0;
};

struct Session {
  std::string id;
  std::string subject;  // the token's sub that created it ("" with auth off); others get 404
  std::shared_ptr<const void> identity;  // auth::Identity, kept for logs and policy
  std::string protocol_version;
  bool initialized = false;  // notifications/initialized seen
  bool legacy_sse = false;   // 2024-11-05 HTTP+SSE: everything goes to the GET stream
  json::object client_info;
  json::object client_capabilities;
  int log_level = 0;  // index into kLogLevels; messages below it are not forwarded
  bool log_level_set = false;
  std::chrono::steady_clock::time_point last_seen;
  std::map<uint64_t, Stream> streams;
  uint64_t next_stream = 1;
  uint64_t standalone_stream = 0;  // id of the GET stream, 0 if none
  std::set<std::string> subscriptions;

  bool HasClientCapability(std::string_view name) const {
    return client_capabilities.contains(name);
  }
  Stream& NewStream(bool standalone);
  Stream* FindStream(uint64_t id);
};

// Severity order of MCP logging levels; returns -1 for an unknown name.
int LogLevelIndex(std::string_view level);

// Formats `message` as an SSE event on `stream`, records it for resumption and writes it to the
// attached responder (if any). Returns the event text.
void AppendEvent(Stream& stream, std::string_view message, size_t max_log_events = 512,
                 size_t max_log_bytes = 8 << 20);

// Parses "<stream>-<seq>"; false when malformed.
bool ParseEventId(std::string_view id, uint64_t* stream, uint64_t* seq);

class SessionTable {
 public:
  // Creates a session with a 128-bit id from the CSPRNG.
  Session& Create();
  Session* Find(std::string_view id);
  void Erase(std::string_view id);
  size_t size() const { return sessions_.size(); }
  // Sessions idle since before `cutoff` with no attached GET stream.
  std::vector<std::string> Idle(std::chrono::steady_clock::time_point cutoff) const;
  template <class F>
  void ForEach(F&& f) {
    for (auto& [id, s] : sessions_) f(*s);
  }

 private:
  std::unordered_map<std::string, std::unique_ptr<Session>> sessions_;
};

}  // namespace mcpgw::gateway
