// Structured logging: one JSON object per line on stderr (LOG_FORMAT=json, the default) or a
// human-readable line (LOG_FORMAT=text). Every component logs through Log(); fields are typed so
// the JSON stays valid whatever a value contains.
//
// Thread-safety: Log() may be called from any thread; lines are written whole.
// Secrets: callers never pass Authorization headers or tokens; RedactHeaderValue() exists for the
// few places that echo request headers.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <variant>

namespace mcpgw::log {

enum class Level { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3, kOff = 4 };
enum class Format { kJson, kText };

// A log field value: text, integer, floating point or boolean.
using Value = std::variant<std::string_view, int64_t, double, bool>;
struct Field {
  std::string_view key;
  Value value;
  Field(std::string_view k, std::string_view v) : key(k), value(v) {}
  Field(std::string_view k, const std::string& v) : key(k), value(std::string_view(v)) {}
  Field(std::string_view k, const char* v) : key(k), value(std::string_view(v)) {}
  Field(std::string_view k, int v) : key(k), value(static_cast<int64_t>(v)) {}
  Field(std::string_view k, int64_t v) : key(k), value(v) {}
  Field(std::string_view k, uint64_t v) : key(k), value(static_cast<int64_t>(v)) {}
  Field(std::string_view k, double v) : key(k), value(v) {}
  Field(std::string_view k, bool v) : key(k), value(v) {}
};

// Process-wide settings; call once at start-up (before other threads log).
void Configure(Level level, Format format, std::string service = "mcpgw");
Level CurrentLevel();
bool Enabled(Level level);

// Parses "debug|info|warn|warning|error|off" (case-insensitive).
bool ParseLevel(std::string_view text, Level* out);
bool ParseFormat(std::string_view text, Format* out);

void Log(Level level, std::string_view msg, std::initializer_list<Field> fields = {});
inline void Debug(std::string_view m, std::initializer_list<Field> f = {}) {
  if (Enabled(Level::kDebug)) Log(Level::kDebug, m, f);
}
inline void Info(std::string_view m, std::initializer_list<Field> f = {}) {
  Log(Level::kInfo, m, f);
}
inline void Warn(std::string_view m, std::initializer_list<Field> f = {}) {
  Log(Level::kWarn, m, f);
}
inline void Error(std::string_view m, std::initializer_list<Field> f = {}) {
  Log(Level::kError, m, f);
}

// Formats one line without writing it (for tests). No trailing newline.
std::string FormatLine(Format format, Level level, std::string_view service, std::string_view msg,
                       std::initializer_list<Field> fields);

// Appends `s` to `out` as JSON string contents (without quotes), escaping control characters and
// replacing invalid UTF-8 with U+FFFD.
void AppendJsonEscaped(std::string& out, std::string_view s);

}  // namespace mcpgw::log
