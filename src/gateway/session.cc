#include "gateway/session.h"

#include <charconv>

#include "common/random.h"
#include "sse/sse.h"

namespace mcpgw::gateway {

namespace {
constexpr std::string_view kLogLevels[] = {"debug", "info",     "notice", "warning",
                                           "error", "critical", "alert",  "emergency"};
}

int LogLevelIndex(std::string_view level) {
  for (size_t i = 0; i < std::size(kLogLevels); ++i) {
    if (kLogLevels[i] == level) return static_cast<int>(i);
  }
  return -1;
}

Stream& Session::NewStream(bool standalone) {
  uint64_t sid = next_stream++;
  Stream& s = streams[sid];
  s.id = sid;
  s.standalone = standalone;
  if (standalone) standalone_stream = sid;
  return s;
}

Stream* Session::FindStream(uint64_t sid) {
  auto it = streams.find(sid);
  return it == streams.end() ? nullptr : &it->second;
}

void AppendEvent(Stream& stream, std::string_view message, size_t max_log_events,
                 size_t max_log_bytes) {
  uint64_t seq = ++stream.next_seq;
  std::string event =
      sse::FormatEvent(message, std::to_string(stream.id) + "-" + std::to_string(seq));
  if (stream.responder && !stream.responder->Closed()) stream.responder->Write(event);
  stream.log_bytes += event.size();
  stream.log.emplace_back(seq, std::move(event));
  while (stream.log.size() > max_log_events || stream.log_bytes > max_log_bytes) {
    stream.log_bytes -= stream.log.front().second.size();
    stream.log.pop_front();
  }
}

bool ParseEventId(std::string_view id, uint64_t* stream, uint64_t* seq) {
  size_t dash = id.find('-');
  if (dash == std::string_view::npos) return false;
  auto a = std::from_chars(id.data(), id.data() + dash, *stream);
  auto b = std::from_chars(id.data() + dash + 1, id.data() + id.size(), *seq);
  return a.ec == std::errc() && a.ptr == id.data() + dash && b.ec == std::errc() &&
         b.ptr == id.data() + id.size();
}

Session& SessionTable::Create() {
  auto s = std::make_unique<Session>();
  s->id = RandomHex(16);
  s->last_seen = std::chrono::steady_clock::now();
  Session& ref = *s;
  sessions_.emplace(s->id, std::move(s));
  return ref;
}

Session* SessionTable::Find(std::string_view id) {
  auto it = sessions_.find(std::string(id));
  return it == sessions_.end() ? nullptr : it->second.get();
}

void SessionTable::Erase(std::string_view id) { sessions_.erase(std::string(id)); }

std::vector<std::string> SessionTable::Idle(std::chrono::steady_clock::time_point cutoff) const {
  std::vector<std::string> out;
  for (const auto& [id, s] : sessions_) {
    if (s->last_seen >= cutoff) continue;
    bool attached = false;
    for (const auto& [sid, st] : s->streams) {
      if (st.responder && !st.responder->Closed()) attached = true;
    }
    if (!attached) out.push_back(id);
  }
  return out;
}

}  // namespace mcpgw::gateway
