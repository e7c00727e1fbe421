// Server-Sent Events (text/event-stream) writing and incremental parsing, as used by MCP's
// Streamable HTTP transport in both directions (downstream streams, upstream responses).
#pragma once

#include <functional>
#include <string>
#include <string_view>

namespace mcpgw::sse {

// Formats one event. Multi-line data becomes several `data:` lines; empty fields are omitted;
// retry_ms < 0 omits `retry:`. Ids and event names have CR/LF removed so they cannot inject fields.
std::string FormatEvent(std::string_view data, std::string_view id = {},
                        std::string_view event = {}, int retry_ms = -1);

struct Event {
  std::string id;
  std::string event;  // empty means "message"
  std::string data;
  bool has_id = false;
  int retry_ms = -1;
};

// Incremental parser per the WHATWG EventSource rules: handles CRLF/CR/LF, comments, fields
// without a colon, a leading space after the colon, and events split across chunks.
// Not thread-safe; one per stream.
class Parser {
 public:
  explicit Parser(size_t max_event_bytes = 16 << 20) : max_event_bytes_(max_event_bytes) {}

  // Feeds bytes. Calls `on_event` for each complete event. Returns false when an event grew past
  // max_event_bytes (the stream should be dropped).
  bool Feed(std::string_view chunk, const std::function<void(Event&&)>& on_event);

 private:
  void ProcessLine(std::string_view line, const std::function<void(Event&&)>& on_event);

  size_t max_event_bytes_;
  std::string line_;
  bool saw_cr_ = false;
  Event current_;
  bool has_data_ = false;
};

}  // namespace mcpgw::sse
