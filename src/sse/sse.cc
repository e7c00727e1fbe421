#include "sse/sse.h"

namespace mcpgw::sse {
namespace {

void AppendSanitized(std::string& out, std::string_view s) {
  for (char c : s) {
    if (c != '\r' && c != '\n') out += c;
  }
}

}  // namespace

std::string FormatEvent(std::string_view data, std::string_view id, std::string_view event,
                        int retry_ms) {
  std::string out;
  out.reserve(data.size() + 32);
  if (!id.empty()) {
    out += "id: ";
    AppendSanitized(out, id);
    out += '\n';
  }
  if (!event.empty()) {
    out += "event: ";
    AppendSanitized(out, event);
    out += '\n';
  }
  if (retry_ms >= 0) {
    out += "retry: ";
    out += std::to_string(retry_ms);
    out += '\n';
  }
  // Every line of data gets its own "data:" field; CR, LF and CRLF all end a line.
  size_t start = 0;
  while (true) {
    size_t pos = data.find_first_of("\r\n", start);
    out += "data: ";
    out.append(
        data.substr(start, pos == std::string_view::npos ? std::string_view::npos : pos - start));
    out += '\n';
    if (pos == std::string_view::npos) break;
    start = pos + 1;
    if (data[pos] == '\r' && start < data.size() && data[start] == '\n') ++start;
  }
  out += '\n';
  return out;
}

bool Parser::Feed(std::string_view chunk, const std::function<void(Event&&)>& on_event) {
  for (char c : chunk) {
    if (saw_cr_) {
      saw_cr_ = false;
      if (c == '\n') continue;  // CRLF: the CR already ended the line
    }
    if (c == '\r' || c == '\n') {
      saw_cr_ = c == '\r';
      ProcessLine(line_, on_event);
      line_.clear();
      continue;
    }
    line_ += c;
    if (line_.size() + current_.data.size() > max_event_bytes_) return false;
  }
  return true;
}

void Parser::ProcessLine(std::string_view line, const std::function<void(Event&&)>& on_event) {
  if (line.empty()) {  // dispatch
    if (has_data_) {
      if (!current_.data.empty() && current_.data.back() == '\n') current_.data.pop_back();
      Event ev = std::move(current_);
      current_ = Event{};
      // The last event id persists across events per the EventSource rules; keep it.
      current_.id = ev.id;
      current_.has_id = false;
      has_data_ = false;
      on_event(std::move(ev));
    } else {
      current_.event.clear();
    }
    return;
  }
  if (line.front() == ':') return;  // comment
  size_t colon = line.find(':');
  std::string_view field = line.substr(0, colon);
  std::string_view value;
  if (colon != std::string_view::npos) {
    value = line.substr(colon + 1);
    if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  }
  if (field == "data") {
    current_.data.append(value);
    current_.data += '\n';
    has_data_ = true;
  } else if (field == "event") {
    current_.event = std::string(value);
  } else if (field == "id") {
    if (value.find('\0') == std::string_view::npos) {
      current_.id = std::string(value);
      current_.has_id = true;
    }
  } else if (field == "retry") {
    int ms = 0;
    bool digits = !value.empty();
    for (char c : value) {
      if (c < '0' || c > '9' || ms > 100000000) {
        digits = false;
        break;
      }
      ms = ms * 10 + (c - '0');
    }
    if (digits) current_.retry_ms = ms;
  }
}

}  // namespace mcpgw::sse
