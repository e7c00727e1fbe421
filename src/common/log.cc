#include "common/log.h"

#include <unistd.h>

#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>

namespace mcpgw::log {
namespace {

std::atomic<int> g_level{static_cast<int>(Level::kInfo)};
Format g_format = Format::kJson;
std::string* g_service = new std::string("mcpgw");  // leaked on purpose: used until exit
std::mutex g_write_mu;

const char* LevelName(Level l) {
  switch (l) {
    case Level::kDebug:
      return "debug";
    case Level::kInfo:
      return "info";
    case Level::kWarn:
      return "warn";
    case Level::kError:
      return "error";
    default:
      return "off";
  }
}

void AppendTimestamp(std::string& out) {
  auto now = std::chrono::system_clock::now();
  auto secs = std::chrono::system_clock::to_time_t(now);
  auto micros =
      std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count() %
      1000000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%06lldZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<long long>(micros));
  out += buf;
}

void AppendValue(std::string& out, const Value& v, bool json) {
  if (auto* s = std::get_if<std::string_view>(&v)) {
    if (json) {
      out += '"';
      AppendJsonEscaped(out, *s);
      out += '"';
    } else {
      bool quote = s->empty() || s->find_first_of(" \t\"=") != std::string_view::npos;
      if (quote) out += '"';
      AppendJsonEscaped(out, *s);
      if (quote) out += '"';
    }
  } else if (auto* i = std::get_if<int64_t>(&v)) {
    out += std::to_string(*i);
  } else if (auto* d = std::get_if<double>(&v)) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.3f", *d);
    out += buf;
  } else {
    out += std::get<bool>(v) ? "true" : "false";
  }
}

}  // namespace

void Configure(Level level, Format format, std::string service) {
  g_level.store(static_cast<int>(level));
  g_format = format;
  *g_service = std::move(service);
}

Level CurrentLevel() { return static_cast<Level>(g_level.load(std::memory_order_relaxed)); }
bool Enabled(Level level) {
  return static_cast<int>(level) >= g_level.load(std::memory_order_relaxed);
}

bool ParseLevel(std::string_view text, Level* out) {
  std::string t;
  for (char c : text) t += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (t == "debug" || t == "trace") {
    *out = Level::kDebug;
  } else if (t == "info") {
    *out = Level::kInfo;
  } else if (t == "warn" || t == "warning") {
    *out = Level::kWarn;
  } else if (t == "error") {
    *out = Level::kError;
  } else if (t == "off" || t == "none") {
    *out = Level::kOff;
  } else {
    return false;
  }
  return true;
}

bool ParseFormat(std::string_view text, Format* out) {
  if (text == "json") {
    *out = Format::kJson;
  } else if (text == "text") {
    *out = Format::kText;
  } else {
    return false;
  }
  return true;
}

void AppendJsonEscaped(std::string& out, std::string_view s) {
  static const char* kHex = "0123456789abcdef";
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      switch (c) {
        case '"':
          out += "\\\"";
          break;
        case '\\':
          out += "\\\\";
          break;
        case '\n':
          out += "\\n";
          break;
        case '\r':
          out += "\\r";
          break;
        case '\t':
          out += "\\t";
          break;
        default:
          if (c < 0x20 || c == 0x7f) {
            out += "\\u00";
            out += kHex[c >> 4];
            out += kHex[c & 15];
          } else {
            out += static_cast<char>(c);
          }
      }
      ++i;
      continue;
    }
    // Validate one UTF-8 sequence; copy it if valid, otherwise emit U+FFFD and skip one byte.
    size_t len = (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
    bool valid = len != 0 && i + len <= s.size();
    for (size_t k = 1; valid && k < len; ++k) {
      valid = (static_cast<unsigned char>(s[i + k]) & 0xc0) == 0x80;
    }
    if (valid) {
      out.append(s.substr(i, len));
      i += len;
    } else {
      out += "\xef\xbf\xbd";
      ++i;
    }
  }
}

std::string FormatLine(Format format, Level level, std::string_view service, std::string_view msg,
                       std::initializer_list<Field> fields) {
  std::string out;
  out.reserve(160);
  if (format == Format::kJson) {
    out += "{\"ts\":\"";
    AppendTimestamp(out);
    out += "\",\"level\":\"";
    out += LevelName(level);
    out += "\",\"service\":\"";
    AppendJsonEscaped(out, service);
    out += "\",\"msg\":\"";
    AppendJsonEscaped(out, msg);
    out += '"';
    for (const auto& f : fields) {
      out += ",\"";
      AppendJsonEscaped(out, f.key);
      out += "\":";
      AppendValue(out, f.value, true);
    }
    out += '}';
  } else {
    AppendTimestamp(out);
    out += ' ';
    out += LevelName(level);
    out += ' ';
    AppendJsonEscaped(out, msg);
    for (const auto& f : fields) {
      out += ' ';
      out += f.key;
      out += '=';
      AppendValue(out, f.value, false);
    }
  }
  return out;
}

void Log(Level level, std::string_view msg, std::initializer_list<Field> fields) {
  if (!Enabled(level)) return;
  std::string line = FormatLine(g_format, level, *g_service, msg, fields);
  line += '\n';
  std::lock_guard<std::mutex> lock(g_write_mu);
  size_t off = 0;
  while (off < line.size()) {
    ssize_t n = ::write(STDERR_FILENO, line.data() + off, line.size() - off);
    if (n <= 0) break;
    off += static_cast<size_t>(n);
  }
}

}  // namespace mcpgw::log
