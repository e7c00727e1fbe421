// time.* built-ins: nanosecond timestamps, Go-style layouts and durations, IANA time zones.
//
// OPA is written in Go and exposes Go's time package almost directly, so this file reimplements
// the parts of it that policies can observe: the reference-time layout language
// ("2006-01-02T15:04:05Z07:00"), duration strings ("1h30m"), calendar arithmetic with
// normalisation (AddDate), and time-zone lookup from the system tz database. Time zones are read
// from TZif files under /usr/share/zoneinfo (libstdc++ 12 has no std::chrono::locate_zone) and
// cached for the life of the process; lookups never touch the process-wide TZ state, so every
// function here is thread-safe.

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "rego/builtins.h"
#include "rego/builtins_util.h"

namespace mcpgw::rego {
namespace {

using i128 = __int128;

constexpr int64_t kSecondsPerDay = 86400;
constexpr int64_t kNanosPerSecond = 1000000000;

// ---------------------------------------------------------------------------------------------
// Calendar arithmetic (proleptic Gregorian, Howard Hinnant's algorithms, any integer width).

template <class Int>
Int FloorDiv(Int a, Int b) {
  Int q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

// The remainder with the sign of b; computed from a % b, so that it cannot overflow where
// FloorDiv(a, b) * b would (a near the smallest int64).
template <class Int>
Int FloorMod(Int a, Int b) {
  Int r = a % b;
  if (r != 0 && ((r < 0) != (b < 0))) r += b;
  return r;
}

// Days since 1970-01-01 of y-m-d (m in 1..12, d may be any value: it is simply added).
template <class Int>
Int DaysFromCivil(Int y, int m, Int d) {
  y -= m <= 2 ? 1 : 0;
  Int era = FloorDiv<Int>(y, 400);
  Int yoe = y - era * 400;
  Int mp = (m + 9) % 12;
  Int doy = (153 * mp + 2) / 5;
  Int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468 + (d - 1);
}

struct Civil {
  int64_t year;
  int month;  // 1..12
  int day;    // 1..31
};

Civil CivilFromDays(int64_t z) {
  z += 719468;
  int64_t era = FloorDiv<int64_t>(z, 146097);
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t y = yoe + era * 400;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  int d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  int m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  return {m <= 2 ? y + 1 : y, m, d};
}

bool IsLeap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int DaysIn(int month, int64_t year) {
  static constexpr std::array<int, 12> kDays = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month == 2 && IsLeap(year)) return 29;
  return kDays[static_cast<size_t>(month - 1)];
}

// Days before the first of `month` in a non-leap year.
int DaysBefore(int month) {
  static constexpr std::array<int, 13> kBefore = {0,   31,  59,  90,  120, 151, 181,
                                                  212, 243, 273, 304, 334, 365};
  return kBefore[static_cast<size_t>(month - 1)];
}

constexpr std::array<std::string_view, 12> kLongMonths = {
    "January", "February", "March",     "April",   "May",      "June",
    "July",    "August",   "September", "October", "November", "December"};
constexpr std::array<std::string_view, 7> kLongDays = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                                       "Thursday", "Friday", "Saturday"};

// ---------------------------------------------------------------------------------------------
// Time zones.

struct ZoneType {
  int32_t offset = 0;  // seconds east of UTC
  bool dst = false;
  std::string abbr;
};

// The zone in effect at one instant, with the interval [start, end) over which it stays so.
struct ZoneAt {
  int32_t offset = 0;
  std::string abbr;
  bool dst = false;
  int64_t start = INT64_MIN;
  int64_t end = INT64_MAX;
};

// A POSIX TZ rule string ("CET-1CEST,M3.5.0,M10.5.0/3"), used for instants after the last
// transition recorded in a TZif file.
struct PosixRule {
  enum Kind { kJulian, kDayOfYear, kMonthWeekDay };
  Kind kind = kMonthWeekDay;
  int day = 0;
  int week = 0;
  int mon = 0;
  int time = 7200;  // seconds after local midnight
};

struct PosixTz {
  std::string std_name;
  int32_t std_offset = 0;  // seconds east of UTC
  bool has_dst = false;
  std::string dst_name;
  int32_t dst_offset = 0;
  PosixRule start;
  PosixRule end;
};

class PosixParser {
 public:
  explicit PosixParser(std::string_view s) : s_(s) {}

  std::optional<PosixTz> Parse() {
    PosixTz tz;
    if (!Name(tz.std_name)) return std::nullopt;
    auto off = Offset();
    if (!off) return std::nullopt;
    tz.std_offset = -*off;
    if (s_.empty()) return tz;
    tz.has_dst = true;
    if (!Name(tz.dst_name)) return std::nullopt;
    tz.dst_offset = tz.std_offset + 3600;
    if (!s_.empty() && s_[0] != ',' && s_[0] != ';') {
      auto d = Offset();
      if (!d) return std::nullopt;
      tz.dst_offset = -*d;
    }
    if (s_.empty()) {
      // US rules by default, as POSIX implementations do.
      s_ = ",M3.2.0,M11.1.0";
    }
    if (s_[0] != ',' && s_[0] != ';') return std::nullopt;
    s_.remove_prefix(1);
    if (!Rule(tz.start)) return std::nullopt;
    if (s_.empty() || s_[0] != ',') return std::nullopt;
    s_.remove_prefix(1);
    if (!Rule(tz.end)) return std::nullopt;
    if (!s_.empty()) return std::nullopt;
    return tz;
  }

 private:
  bool Name(std::string& out) {
    if (!s_.empty() && s_[0] == '<') {
      size_t close = s_.find('>');
      if (close == std::string_view::npos) return false;
      out = std::string(s_.substr(1, close - 1));
      s_.remove_prefix(close + 1);
      return true;
    }
    size_t i = 0;
    while (i < s_.size() && s_[i] != ',' && s_[i] != '-' && s_[i] != '+' &&
           !(s_[i] >= '0' && s_[i] <= '9')) {
      ++i;
    }
    if (i < 3) return false;
    out = std::string(s_.substr(0, i));
    s_.remove_prefix(i);
    return true;
  }

  std::optional<int> Num(int min, int max) {
    size_t i = 0;
    int v = 0;
    while (i < s_.size() && s_[i] >= '0' && s_[i] <= '9' && i < 4) {
      v = v * 10 + (s_[i] - '0');
      ++i;
    }
    if (i == 0 || v < min || v > max) return std::nullopt;
    s_.remove_prefix(i);
    return v;
  }

  // [+-]hh[:mm[:ss]] -> seconds (west-positive as written).
  std::optional<int> Offset() {
    int sign = 1;
    if (!s_.empty() && (s_[0] == '+' || s_[0] == '-')) {
      if (s_[0] == '-') sign = -1;
      s_.remove_prefix(1);
    }
    auto secs = Clock(167);
    if (!secs) return std::nullopt;
    return sign * *secs;
  }

  std::optional<int> Clock(int max_hours) {
    auto h = Num(0, max_hours);
    if (!h) return std::nullopt;
    int secs = *h * 3600;
    if (!s_.empty() && s_[0] == ':') {
      s_.remove_prefix(1);
      auto m = Num(0, 59);
      if (!m) return std::nullopt;
      secs += *m * 60;
      if (!s_.empty() && s_[0] == ':') {
        s_.remove_prefix(1);
        auto sec = Num(0, 59);
        if (!sec) return std::nullopt;
        secs += *sec;
      }
    }
    return secs;
  }

  bool Rule(PosixRule& r) {
    if (s_.empty()) return false;
    if (s_[0] == 'J') {
      s_.remove_prefix(1);
      auto d = Num(1, 365);
      if (!d) return false;
      r.kind = PosixRule::kJulian;
      r.day = *d;
    } else if (s_[0] == 'M') {
      s_.remove_prefix(1);
      auto m = Num(1, 12);
      if (!m || s_.empty() || s_[0] != '.') return false;
      s_.remove_prefix(1);
      auto w = Num(1, 5);
      if (!w || s_.empty() || s_[0] != '.') return false;
      s_.remove_prefix(1);
      auto d = Num(0, 6);
      if (!d) return false;
      r.kind = PosixRule::kMonthWeekDay;
      r.mon = *m;
      r.week = *w;
      r.day = *d;
    } else {
      auto d = Num(0, 365);
      if (!d) return false;
      r.kind = PosixRule::kDayOfYear;
      r.day = *d;
    }
    r.time = 7200;
    if (!s_.empty() && s_[0] == '/') {
      s_.remove_prefix(1);
      int sign = 1;
      if (!s_.empty() && (s_[0] == '+' || s_[0] == '-')) {
        if (s_[0] == '-') sign = -1;
        s_.remove_prefix(1);
      }
      auto t = Clock(167);
      if (!t) return false;
      r.time = sign * *t;
    }
    return true;
  }

  std::string_view s_;
};

// Seconds after the start of `year` (UTC) at which rule `r` fires, for local offset `off`.
int64_t RuleTime(int64_t year, const PosixRule& r, int32_t off) {
  int64_t d = 0;
  switch (r.kind) {
    case PosixRule::kJulian:
      d = r.day - 1;
      if (IsLeap(year) && r.day >= 60) ++d;
      break;
    case PosixRule::kDayOfYear:
      d = r.day;
      break;
    case PosixRule::kMonthWeekDay: {
      // Weekday of the first day of the month (0 = Sunday).
      int64_t first = DaysFromCivil<int64_t>(year, r.mon, 1);
      int dow = static_cast<int>(FloorMod<int64_t>(first + 4, 7));
      int64_t dom = r.day - dow;
      if (dom < 0) dom += 7;
      for (int i = 1; i < r.week; ++i) {
        if (dom + 7 >= DaysIn(r.mon, year)) break;
        dom += 7;
      }
      d = dom + DaysBefore(r.mon) + (IsLeap(year) && r.mon > 2 ? 1 : 0);
      break;
    }
  }
  return d * kSecondsPerDay + r.time - off;
}

ZoneAt PosixLookup(const PosixTz& tz, int64_t sec) {
  ZoneAt z;
  if (!tz.has_dst) {
    z.offset = tz.std_offset;
    z.abbr = tz.std_name;
    return z;
  }
  int64_t days = FloorDiv<int64_t>(sec, kSecondsPerDay);
  Civil c = CivilFromDays(days);
  int64_t year_start = DaysFromCivil<int64_t>(c.year, 1, 1) * kSecondsPerDay;
  int64_t ysec = sec - year_start;
  int64_t start = RuleTime(c.year, tz.start, tz.std_offset);
  int64_t end = RuleTime(c.year, tz.end, tz.dst_offset);
  std::string std_name = tz.std_name;
  std::string dst_name = tz.dst_name;
  int32_t std_off = tz.std_offset;
  int32_t dst_off = tz.dst_offset;
  bool std_dst = false;
  bool dst_dst = true;
  if (end < start) {  // southern hemisphere: the "DST" interval wraps the new year
    std::swap(start, end);
    std::swap(std_name, dst_name);
    std::swap(std_off, dst_off);
    std::swap(std_dst, dst_dst);
  }
  int64_t year_len = (IsLeap(c.year) ? 366 : 365) * kSecondsPerDay;
  if (ysec < start) {
    z = {std_off, std_name, std_dst, year_start, year_start + start};
  } else if (ysec >= end) {
    z = {std_off, std_name, std_dst, year_start + end, year_start + year_len};
  } else {
    z = {dst_off, dst_name, dst_dst, year_start + start, year_start + end};
  }
  return z;
}

class TimeZone {
 public:
  static std::shared_ptr<const TimeZone> Utc() {
    static const std::shared_ptr<const TimeZone> kUtc = [] {
      auto z = std::make_shared<TimeZone>();
      z->name_ = "UTC";
      return z;
    }();
    return kUtc;
  }

  // Parses TZif data (RFC 8536, versions 1-4).
  static std::shared_ptr<const TimeZone> FromTzif(std::string name, std::string_view data) {
    auto z = std::make_shared<TimeZone>();
    z->name_ = std::move(name);
    if (!z->ParseTzif(data)) return nullptr;
    return z;
  }

  const std::string& name() const { return name_; }

  ZoneAt Lookup(int64_t sec) const {
    ZoneAt z;
    if (types_.empty()) {
      z.abbr = "UTC";
      return z;
    }
    if (when_.empty() || sec < when_[0]) {
      const ZoneType& t = types_[FirstZone()];
      z.offset = t.offset;
      z.abbr = t.abbr;
      z.dst = t.dst;
      if (!when_.empty()) z.end = when_[0];
      return z;
    }
    size_t lo = std::upper_bound(when_.begin(), when_.end(), sec) - when_.begin() - 1;
    const ZoneType& t = types_[idx_[lo]];
    z.offset = t.offset;
    z.abbr = t.abbr;
    z.dst = t.dst;
    z.start = when_[lo];
    if (lo + 1 < when_.size()) z.end = when_[lo + 1];
    if (lo + 1 == when_.size() && extend_) {
      ZoneAt e = PosixLookup(*extend_, sec);
      e.start = std::max(e.start, z.start);
      return e;
    }
    return z;
  }

  // The offset of a zone abbreviation ("PST") as used by this zone near `sec`.
  std::optional<int32_t> LookupName(std::string_view abbr, int64_t sec) const {
    // First, a zone with this name that is in effect at the given time.
    for (const auto& t : types_) {
      if (t.abbr == abbr) {
        ZoneAt z = Lookup(sec - t.offset);
        if (z.abbr == abbr) return z.offset;
      }
    }
    for (const auto& t : types_) {
      if (t.abbr == abbr) return t.offset;
    }
    if (types_.empty() && abbr == "UTC") return 0;
    return std::nullopt;
  }

 private:
  size_t FirstZone() const {
    // Go's rule: the first type not used by a transition, else the first standard type before
    // the first transition's (DST) type, else type 0.
    bool used = false;
    for (uint8_t i : idx_) {
      if (i == 0) {
        used = true;
        break;
      }
    }
    if (!used) return 0;
    if (!idx_.empty() && types_[idx_[0]].dst) {
      for (int i = static_cast<int>(idx_[0]) - 1; i >= 0; --i) {
        if (!types_[static_cast<size_t>(i)].dst) return static_cast<size_t>(i);
      }
    }
    return 0;
  }

  bool ParseTzif(std::string_view d) {
    size_t pos = 0;
    auto u32 = [&](size_t at) -> uint32_t {
      return (static_cast<uint32_t>(static_cast<unsigned char>(d[at])) << 24) |
             (static_cast<uint32_t>(static_cast<unsigned char>(d[at + 1])) << 16) |
             (static_cast<uint32_t>(static_cast<unsigned char>(d[at + 2])) << 8) |
             static_cast<uint32_t>(static_cast<unsigned char>(d[at + 3]));
    };
    auto i64 = [&](size_t at) -> int64_t {
      uint64_t hi = u32(at);
      uint64_t lo = u32(at + 4);
      return static_cast<int64_t>((hi << 32) | lo);
    };
    struct Header {
      uint32_t isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt;
    };
    auto header = [&](size_t at, Header& h) -> bool {
      if (d.size() < at + 44 || d.substr(at, 4) != "TZif") return false;
      h = {u32(at + 20), u32(at + 24), u32(at + 28), u32(at + 32), u32(at + 36), u32(at + 40)};
      return h.typecnt > 0 && h.typecnt <= 256 && h.timecnt < 100000 && h.charcnt < 100000 &&
             h.leapcnt < 100000;
    };
    Header h{};
    if (!header(0, h)) return false;
    char version = d[4];
    size_t tsize = 4;
    pos = 44;
    if (version >= '2') {
      size_t v1 = static_cast<size_t>(h.timecnt) * 5 + static_cast<size_t>(h.typecnt) * 6 +
                  h.charcnt + static_cast<size_t>(h.leapcnt) * 8 + h.isstdcnt + h.isutcnt;
      pos += v1;
      if (!header(pos, h)) return false;
      pos += 44;
      tsize = 8;
    }
    size_t need = static_cast<size_t>(h.timecnt) * (tsize + 1) +
                  static_cast<size_t>(h.typecnt) * 6 + h.charcnt +
                  static_cast<size_t>(h.leapcnt) * (tsize + 4) + h.isstdcnt + h.isutcnt;
    if (d.size() < pos + need) return false;
    when_.resize(h.timecnt);
    for (uint32_t i = 0; i < h.timecnt; ++i) {
      size_t at = pos + i * tsize;
      when_[i] = tsize == 8 ? i64(at) : static_cast<int32_t>(u32(at));
    }
    pos += static_cast<size_t>(h.timecnt) * tsize;
    idx_.resize(h.timecnt);
    for (uint32_t i = 0; i < h.timecnt; ++i) {
      idx_[i] = static_cast<uint8_t>(d[pos + i]);
      if (idx_[i] >= h.typecnt) return false;
    }
    pos += h.timecnt;
    size_t types_at = pos;
    pos += static_cast<size_t>(h.typecnt) * 6;
    std::string_view chars = d.substr(pos, h.charcnt);
    types_.resize(h.typecnt);
    for (uint32_t i = 0; i < h.typecnt; ++i) {
      size_t at = types_at + static_cast<size_t>(i) * 6;
      types_[i].offset = static_cast<int32_t>(u32(at));
      types_[i].dst = d[at + 4] != 0;
      size_t ai = static_cast<unsigned char>(d[at + 5]);
      if (ai > chars.size()) return false;
      size_t end = chars.find('\0', ai);
      types_[i].abbr =
          std::string(chars.substr(ai, end == std::string_view::npos ? end : end - ai));
    }
    pos += need - static_cast<size_t>(h.timecnt) * (tsize + 1) - static_cast<size_t>(h.typecnt) * 6;
    if (tsize == 8 && pos < d.size() && d[pos] == '\n') {
      size_t nl = d.find('\n', pos + 1);
      if (nl != std::string_view::npos && nl > pos + 1) {
        extend_ = PosixParser(d.substr(pos + 1, nl - pos - 1)).Parse();
      }
    }
    return true;
  }

  std::string name_;
  std::vector<ZoneType> types_;
  std::vector<int64_t> when_;
  std::vector<uint8_t> idx_;
  std::optional<PosixTz> extend_;
};

using ZonePtr = std::shared_ptr<const TimeZone>;

std::optional<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return std::nullopt;
  return std::move(ss).str();
}

ZonePtr LoadLocal() {
  const char* tz = std::getenv("TZ");  // NOLINT(concurrency-mt-unsafe): read once, never set
  std::string path = "/etc/localtime";
  if (tz != nullptr) {
    std::string_view v = tz;
    if (!v.empty() && v[0] == ':') v.remove_prefix(1);
    if (v.empty() || v == "UTC") return TimeZone::Utc();
    path = v[0] == '/' ? std::string(v) : "/usr/share/zoneinfo/" + std::string(v);
  }
  auto data = ReadFile(path);
  if (!data) return TimeZone::Utc();
  auto z = TimeZone::FromTzif("Local", *data);
  return z ? z : TimeZone::Utc();
}

// Zones by name, loaded on first use and kept for the life of the process.
Result<ZonePtr> LoadZone(const std::string& name) {
  if (name.empty() || name == "UTC") return TimeZone::Utc();
  if (name == "Local") {
    static const ZonePtr kLocal = LoadLocal();
    return kLocal;
  }
  static std::mutex mu;
  static std::map<std::string, ZonePtr, std::less<>> cache;
  {
    std::lock_guard<std::mutex> lock(mu);
    auto it = cache.find(name);
    if (it != cache.end()) return it->second;
  }
  // Go's LoadLocation refuses names that could escape the zoneinfo directory.
  if (name.find("..") != std::string::npos || name[0] == '/' || name[0] == '\\' ||
      name.find('\0') != std::string::npos) {
    return MakeError("time: invalid location name");
  }
  auto data = ReadFile("/usr/share/zoneinfo/" + name);
  ZonePtr zone = data ? TimeZone::FromTzif(name, *data) : nullptr;
  if (!zone) return MakeError("unknown time zone " + name);
  std::lock_guard<std::mutex> lock(mu);
  cache.emplace(name, zone);
  return zone;
}

// ---------------------------------------------------------------------------------------------
// Instants.

struct Time {
  int64_t sec = 0;  // Unix seconds
  int32_t nsec = 0;
  ZonePtr zone = TimeZone::Utc();
};

struct Fields {
  int64_t year;
  int month, day, hour, minute, second, yday, wday;
  int32_t offset;
  std::string abbr;
};

Fields FieldsOf(const Time& t) {
  ZoneAt z = t.zone->Lookup(t.sec);
  int64_t local = t.sec + z.offset;
  int64_t days = FloorDiv<int64_t>(local, kSecondsPerDay);
  int64_t sod = local - days * kSecondsPerDay;
  Civil c = CivilFromDays(days);
  Fields f{};
  f.year = c.year;
  f.month = c.month;
  f.day = c.day;
  f.hour = static_cast<int>(sod / 3600);
  f.minute = static_cast<int>(sod / 60 % 60);
  f.second = static_cast<int>(sod % 60);
  f.yday = static_cast<int>(days - DaysFromCivil<int64_t>(c.year, 1, 1)) + 1;
  f.wday = static_cast<int>(FloorMod<int64_t>(days + 4, 7));
  f.offset = z.offset;
  f.abbr = z.abbr;
  return f;
}

Time FromUnixNanos(int64_t ns, ZonePtr zone) {
  Time t;
  t.sec = FloorDiv<int64_t>(ns, kNanosPerSecond);
  t.nsec = static_cast<int32_t>(FloorMod<int64_t>(ns, kNanosPerSecond));
  t.zone = std::move(zone);
  return t;
}

// Go's time.Date: normalises out-of-range fields, then resolves the wall clock in `zone`.
Result<Time> MakeDate(i128 year, i128 month, i128 day, i128 hour, i128 min, i128 sec, i128 nsec,
                      const ZonePtr& zone) {
  i128 m = month - 1;
  year += FloorDiv<i128>(m, 12);
  m = FloorMod<i128>(m, 12);
  sec += FloorDiv<i128>(nsec, kNanosPerSecond);
  nsec = FloorMod<i128>(nsec, kNanosPerSecond);
  min += FloorDiv<i128>(sec, 60);
  sec = FloorMod<i128>(sec, 60);
  hour += FloorDiv<i128>(min, 60);
  min = FloorMod<i128>(min, 60);
  day += FloorDiv<i128>(hour, 24);
  hour = FloorMod<i128>(hour, 24);
  // Far outside anything a nanosecond timestamp can hold: give up before anything overflows.
  const i128 kLimit = static_cast<i128>(1) << 90;
  if (year > (1LL << 40) || year < -(1LL << 40) || day > kLimit || day < -kLimit) {
    return MakeError("time outside of valid range");
  }
  i128 days = DaysFromCivil<i128>(year, static_cast<int>(m) + 1, day);
  i128 unix = days * kSecondsPerDay + hour * 3600 + min * 60 + sec;
  if (unix > (static_cast<i128>(1) << 60) || unix < -(static_cast<i128>(1) << 60)) {
    return MakeError("time outside of valid range");
  }
  auto u = static_cast<int64_t>(unix);
  ZoneAt z = zone->Lookup(u);
  if (z.offset != 0) {
    int64_t utc = u - z.offset;
    if (utc < z.start || utc >= z.end) z = zone->Lookup(utc);
    u -= z.offset;
  }
  Time t;
  t.sec = u;
  t.nsec = static_cast<int32_t>(nsec);
  t.zone = zone;
  return t;
}

// Nanoseconds since the epoch, or OPA's error when the instant does not fit an int64.
Result<int64_t> UnixNanos(const Time& t) {
  i128 ns = static_cast<i128>(t.sec) * kNanosPerSecond + t.nsec;
  if (ns > INT64_MAX || ns < INT64_MIN) return MakeError("time outside of valid range");
  return static_cast<int64_t>(ns);
}

// ---------------------------------------------------------------------------------------------
// Go layouts.

enum Std {
  kNone,
  kLongMonth,              // January
  kMonth,                  // Jan
  kNumMonth,               // 1
  kZeroMonth,              // 01
  kLongWeekDay,            // Monday
  kWeekDay,                // Mon
  kDay,                    // 2
  kUnderDay,               // _2
  kZeroDay,                // 02
  kUnderYearDay,           // __2
  kZeroYearDay,            // 002
  kHour,                   // 15
  kHour12,                 // 3
  kZeroHour12,             // 03
  kMinute,                 // 4
  kZeroMinute,             // 04
  kSecond,                 // 5
  kZeroSecond,             // 05
  kLongYear,               // 2006
  kYear,                   // 06
  kPM,                     // PM
  kpm,                     // pm
  kTZ,                     // MST
  kISO8601TZ,              // Z0700
  kISO8601SecondsTZ,       // Z070000
  kISO8601ShortTZ,         // Z07
  kISO8601ColonTZ,         // Z07:00
  kISO8601ColonSecondsTZ,  // Z07:00:00
  kNumTZ,                  // -0700
  kNumSecondsTz,           // -070000
  kNumShortTZ,             // -07
  kNumColonTZ,             // -07:00
  kNumColonSecondsTZ,      // -07:00:00
  kFracSecond0,            // .0, .00, ... (exact digits)
  kFracSecond9,            // .9, .99, ... (trailing zeros trimmed)
};

struct Chunk {
  std::string_view prefix;
  Std std = kNone;
  std::string_view token;  // the layout text of the element
  int digits = 0;          // fractional seconds
  char separator = '.';    // fractional seconds
  std::string_view suffix;
};

bool StartsWithLower(std::string_view s) { return !s.empty() && s[0] >= 'a' && s[0] <= 'z'; }
bool IsDigitAt(std::string_view s, size_t i) { return i < s.size() && s[i] >= '0' && s[i] <= '9'; }

Chunk NextChunk(std::string_view layout) {
  auto make = [&](size_t i, size_t len, Std std) {
    Chunk c;
    c.prefix = layout.substr(0, i);
    c.std = std;
    c.token = layout.substr(i, len);
    c.suffix = layout.substr(i + len);
    return c;
  };
  auto at = [&](size_t i, std::string_view s) { return layout.substr(i, s.size()) == s; };
  for (size_t i = 0; i < layout.size(); ++i) {
    switch (layout[i]) {
      case 'J':
        if (at(i, "January")) return make(i, 7, kLongMonth);
        if (at(i, "Jan") && !StartsWithLower(layout.substr(i + 3))) return make(i, 3, kMonth);
        break;
      case 'M':
        if (at(i, "Monday")) return make(i, 6, kLongWeekDay);
        if (at(i, "Mon") && !StartsWithLower(layout.substr(i + 3))) return make(i, 3, kWeekDay);
        if (at(i, "MST")) return make(i, 3, kTZ);
        break;
      case '0':
        if (i + 1 < layout.size() && layout[i + 1] >= '1' && layout[i + 1] <= '6') {
          static constexpr std::array<Std, 6> kZero = {kZeroMonth,  kZeroDay,    kZeroHour12,
                                                       kZeroMinute, kZeroSecond, kYear};
          return make(i, 2, kZero[static_cast<size_t>(layout[i + 1] - '1')]);
        }
        if (at(i, "002")) return make(i, 3, kZeroYearDay);
        break;
      case '1':
        if (at(i, "15")) return make(i, 2, kHour);
        return make(i, 1, kNumMonth);
      case '2':
        if (at(i, "2006")) return make(i, 4, kLongYear);
        return make(i, 1, kDay);
      case '_':
        if (at(i, "_2")) {
          if (at(i, "_2006")) return make(i + 1, 4, kLongYear);  // literal '_' then the year
          return make(i, 2, kUnderDay);
        }
        if (at(i, "__2")) return make(i, 3, kUnderYearDay);
        break;
      case '3':
        return make(i, 1, kHour12);
      case '4':
        return make(i, 1, kMinute);
      case '5':
        return make(i, 1, kSecond);
      case 'P':
        if (at(i, "PM")) return make(i, 2, kPM);
        break;
      case 'p':
        if (at(i, "pm")) return make(i, 2, kpm);
        break;
      case '-':
        if (at(i, "-070000")) return make(i, 7, kNumSecondsTz);
        if (at(i, "-07:00:00")) return make(i, 9, kNumColonSecondsTZ);
        if (at(i, "-0700")) return make(i, 5, kNumTZ);
        if (at(i, "-07:00")) return make(i, 6, kNumColonTZ);
        if (at(i, "-07")) return make(i, 3, kNumShortTZ);
        break;
      case 'Z':
        if (at(i, "Z070000")) return make(i, 7, kISO8601SecondsTZ);
        if (at(i, "Z07:00:00")) return make(i, 9, kISO8601ColonSecondsTZ);
        if (at(i, "Z0700")) return make(i, 5, kISO8601TZ);
        if (at(i, "Z07:00")) return make(i, 6, kISO8601ColonTZ);
        if (at(i, "Z07")) return make(i, 3, kISO8601ShortTZ);
        break;
      case '.':
      case ',':
        if (i + 1 < layout.size() && (layout[i + 1] == '0' || layout[i + 1] == '9')) {
          char ch = layout[i + 1];
          size_t j = i + 1;
          while (j < layout.size() && layout[j] == ch) ++j;
          if (!IsDigitAt(layout, j)) {
            Chunk c = make(i, j - i, ch == '0' ? kFracSecond0 : kFracSecond9);
            c.digits = static_cast<int>(j - (i + 1));
            c.separator = layout[i];
            return c;
          }
        }
        break;
      default:
        break;
    }
  }
  Chunk c;
  c.prefix = layout;
  return c;
}

void AppendInt(std::string& out, int64_t v, int width) {
  if (v < 0) {
    out.push_back('-');
    v = -v;
  }
  std::string digits = std::to_string(v);
  for (int i = static_cast<int>(digits.size()); i < width; ++i) out.push_back('0');
  out += digits;
}

std::string FormatTime(const Time& t, std::string_view layout) {
  Fields f = FieldsOf(t);
  std::string out;
  while (!layout.empty()) {
    Chunk c = NextChunk(layout);
    out += c.prefix;
    if (c.std == kNone) break;
    layout = c.suffix;
    switch (c.std) {
      case kYear:
        AppendInt(out, FloorMod<int64_t>(f.year, 100), 2);
        break;
      case kLongYear:
        AppendInt(out, f.year, 4);
        break;
      case kMonth:
        out += kLongMonths[static_cast<size_t>(f.month - 1)].substr(0, 3);
        break;
      case kLongMonth:
        out += kLongMonths[static_cast<size_t>(f.month - 1)];
        break;
      case kNumMonth:
        AppendInt(out, f.month, 0);
        break;
      case kZeroMonth:
        AppendInt(out, f.month, 2);
        break;
      case kWeekDay:
        out += kLongDays[static_cast<size_t>(f.wday)].substr(0, 3);
        break;
      case kLongWeekDay:
        out += kLongDays[static_cast<size_t>(f.wday)];
        break;
      case kDay:
        AppendInt(out, f.day, 0);
        break;
      case kUnderDay:
        if (f.day < 10) out.push_back(' ');
        AppendInt(out, f.day, 0);
        break;
      case kZeroDay:
        AppendInt(out, f.day, 2);
        break;
      case kUnderYearDay:
        if (f.yday < 100) out.push_back(' ');
        if (f.yday < 10) out.push_back(' ');
        AppendInt(out, f.yday, 0);
        break;
      case kZeroYearDay:
        AppendInt(out, f.yday, 3);
        break;
      case kHour:
        AppendInt(out, f.hour, 2);
        break;
      case kHour12:
        AppendInt(out, f.hour % 12 == 0 ? 12 : f.hour % 12, 0);
        break;
      case kZeroHour12:
        AppendInt(out, f.hour % 12 == 0 ? 12 : f.hour % 12, 2);
        break;
      case kMinute:
        AppendInt(out, f.minute, 0);
        break;
      case kZeroMinute:
        AppendInt(out, f.minute, 2);
        break;
      case kSecond:
        AppendInt(out, f.second, 0);
        break;
      case kZeroSecond:
        AppendInt(out, f.second, 2);
        break;
      case kPM:
        out += f.hour >= 12 ? "PM" : "AM";
        break;
      case kpm:
        out += f.hour >= 12 ? "pm" : "am";
        break;
      case kISO8601TZ:
      case kISO8601ColonTZ:
      case kISO8601SecondsTZ:
      case kISO8601ShortTZ:
      case kISO8601ColonSecondsTZ:
      case kNumTZ:
      case kNumColonTZ:
      case kNumSecondsTz:
      case kNumShortTZ:
      case kNumColonSecondsTZ: {
        bool iso = c.std == kISO8601TZ || c.std == kISO8601ColonTZ || c.std == kISO8601SecondsTZ ||
                   c.std == kISO8601ShortTZ || c.std == kISO8601ColonSecondsTZ;
        if (iso && f.offset == 0) {
          out.push_back('Z');
          break;
        }
        int zone = f.offset / 60;
        int abs_off = f.offset;
        if (zone < 0) {
          out.push_back('-');
          zone = -zone;
          abs_off = -abs_off;
        } else {
          out.push_back('+');
        }
        AppendInt(out, zone / 60, 2);
        bool colon = c.std == kISO8601ColonTZ || c.std == kNumColonTZ ||
                     c.std == kISO8601ColonSecondsTZ || c.std == kNumColonSecondsTZ;
        if (colon) out.push_back(':');
        if (c.std != kNumShortTZ && c.std != kISO8601ShortTZ) AppendInt(out, zone % 60, 2);
        if (c.std == kISO8601SecondsTZ || c.std == kNumSecondsTz || c.std == kNumColonSecondsTZ ||
            c.std == kISO8601ColonSecondsTZ) {
          if (c.std == kNumColonSecondsTZ || c.std == kISO8601ColonSecondsTZ) out.push_back(':');
          AppendInt(out, abs_off % 60, 2);
        }
        break;
      }
      case kTZ:
        if (!f.abbr.empty()) {
          out += f.abbr;
        } else {
          int zone = f.offset / 60;
          if (zone < 0) {
            out.push_back('-');
            zone = -zone;
          } else {
            out.push_back('+');
          }
          AppendInt(out, zone / 60, 2);
          AppendInt(out, zone % 60, 2);
        }
        break;
      case kFracSecond0:
      case kFracSecond9: {
        std::string digits = std::to_string(t.nsec);
        digits.insert(0, 9 - digits.size(), '0');
        if (c.std == kFracSecond0) {
          out.push_back(c.separator);
          out += digits.substr(0, static_cast<size_t>(std::min(c.digits, 9)));
        } else {
          digits = digits.substr(0, static_cast<size_t>(std::min(c.digits, 9)));
          while (!digits.empty() && digits.back() == '0') digits.pop_back();
          if (!digits.empty()) {
            out.push_back(c.separator);
            out += digits;
          }
        }
        break;
      }
      case kNone:
        break;
    }
  }
  return out;
}

std::string Quote(std::string_view s) {
  std::string out = "\"";
  for (char ch : s) {
    if (ch == '"' || ch == '\\') out.push_back('\\');
    out.push_back(ch);
  }
  out.push_back('"');
  return out;
}

// A Go layout parse. Errors carry Go's messages ("parsing time ...").
class LayoutParser {
 public:
  LayoutParser(std::string_view layout, std::string_view value, ZonePtr local)
      : layout_(layout), value_(value), local_(std::move(local)) {}

  Result<Time> Parse() {
    std::string_view layout = layout_;
    std::string_view value = value_;
    int64_t year = 0;
    int month = -1;
    int day = -1;
    int yday = -1;
    int hour = 0;
    int min = 0;
    int sec = 0;
    int64_t nsec = 0;
    bool pm_set = false;
    bool am_set = false;
    bool utc = false;
    int zone_offset = -1;
    bool have_offset = false;
    std::string zone_name;
    while (true) {
      Chunk c = NextChunk(layout);
      if (!Skip(value, c.prefix)) return Bad(c.prefix, value);
      if (c.std == kNone) {
        if (!value.empty()) return Msg(": extra text: " + Quote(value));
        break;
      }
      layout = c.suffix;
      std::string_view hold = value;
      bool ok = true;
      std::string range;
      switch (c.std) {
        case kYear: {
          if (value.size() < 2 || !IsDigitAt(value, 0) || !IsDigitAt(value, 1)) {
            ok = false;
            break;
          }
          year = (value[0] - '0') * 10 + (value[1] - '0');
          year += year >= 69 ? 1900 : 2000;
          value.remove_prefix(2);
          break;
        }
        case kLongYear: {
          if (value.size() < 4 || !IsDigitAt(value, 0) || !IsDigitAt(value, 1) ||
              !IsDigitAt(value, 2) || !IsDigitAt(value, 3)) {
            ok = false;
            break;
          }
          year = (value[0] - '0') * 1000 + (value[1] - '0') * 100 + (value[2] - '0') * 10 +
                 (value[3] - '0');
          value.remove_prefix(4);
          break;
        }
        case kMonth:
        case kLongMonth: {
          auto idx = Lookup(value, kLongMonths, c.std == kMonth);
          if (!idx) {
            ok = false;
            break;
          }
          month = *idx + 1;
          break;
        }
        case kNumMonth:
        case kZeroMonth: {
          auto n = GetNum(value, c.std == kZeroMonth);
          if (!n) {
            ok = false;
            break;
          }
          month = *n;
          if (month <= 0 || month > 12) range = "month";
          break;
        }
        case kWeekDay:
        case kLongWeekDay:
          if (!Lookup(value, kLongDays, c.std == kWeekDay)) ok = false;
          break;
        case kDay:
        case kUnderDay:
        case kZeroDay: {
          if (c.std == kUnderDay && !value.empty() && value[0] == ' ') value.remove_prefix(1);
          auto n = GetNum(value, c.std == kZeroDay);
          if (!n) {
            ok = false;
            break;
          }
          day = *n;
          break;
        }
        case kUnderYearDay:
        case kZeroYearDay: {
          for (int i = 0; i < 2; ++i) {
            if (c.std == kUnderYearDay && !value.empty() && value[0] == ' ') {
              value.remove_prefix(1);
            }
          }
          auto n = GetNum3(value, c.std == kZeroYearDay);
          if (!n) {
            ok = false;
            break;
          }
          yday = *n;
          break;
        }
        case kHour: {
          auto n = GetNum(value, false);
          if (!n) {
            ok = false;
            break;
          }
          hour = *n;
          if (hour >= 24) range = "hour";
          break;
        }
        case kHour12:
        case kZeroHour12: {
          auto n = GetNum(value, c.std == kZeroHour12);
          if (!n) {
            ok = false;
            break;
          }
          hour = *n;
          if (hour > 12) range = "hour";
          break;
        }
        case kMinute:
        case kZeroMinute: {
          auto n = GetNum(value, c.std == kZeroMinute);
          if (!n) {
            ok = false;
            break;
          }
          min = *n;
          if (min >= 60) range = "minute";
          break;
        }
        case kSecond:
        case kZeroSecond: {
          auto n = GetNum(value, c.std == kZeroSecond);
          if (!n) {
            ok = false;
            break;
          }
          sec = *n;
          if (sec >= 60) {
            range = "second";
            break;
          }
          // A fractional second in the value without one in the layout.
          if (value.size() >= 2 && (value[0] == '.' || value[0] == ',') && IsDigitAt(value, 1)) {
            Chunk next = NextChunk(layout);
            if (next.std == kFracSecond0 || next.std == kFracSecond9) break;
            size_t n2 = 2;
            while (IsDigitAt(value, n2)) ++n2;
            nsec = ParseNanos(value, n2);
            value.remove_prefix(n2);
          }
          break;
        }
        case kPM:
        case kpm: {
          if (value.size() < 2) {
            ok = false;
            break;
          }
          std::string_view p = value.substr(0, 2);
          value.remove_prefix(2);
          if (p == (c.std == kPM ? "PM" : "pm")) {
            pm_set = true;
          } else if (p == (c.std == kPM ? "AM" : "am")) {
            am_set = true;
          } else {
            ok = false;
          }
          break;
        }
        case kISO8601TZ:
        case kISO8601ShortTZ:
        case kISO8601ColonTZ:
        case kISO8601SecondsTZ:
        case kISO8601ColonSecondsTZ:
          if (!value.empty() && value[0] == 'Z') {
            value.remove_prefix(1);
            utc = true;
            break;
          }
          [[fallthrough]];
        case kNumTZ:
        case kNumShortTZ:
        case kNumColonTZ:
        case kNumSecondsTz:
        case kNumColonSecondsTZ: {
          std::string_view sign;
          std::string_view hh;
          std::string_view mm = "00";
          std::string_view ss = "00";
          if (c.std == kISO8601ColonTZ || c.std == kNumColonTZ) {
            if (value.size() < 6 || value[3] != ':') {
              ok = false;
              break;
            }
            sign = value.substr(0, 1), hh = value.substr(1, 2), mm = value.substr(4, 2);
            value.remove_prefix(6);
          } else if (c.std == kNumShortTZ || c.std == kISO8601ShortTZ) {
            if (value.size() < 3) {
              ok = false;
              break;
            }
            sign = value.substr(0, 1), hh = value.substr(1, 2);
            value.remove_prefix(3);
          } else if (c.std == kISO8601ColonSecondsTZ || c.std == kNumColonSecondsTZ) {
            if (value.size() < 9 || value[3] != ':' || value[6] != ':') {
              ok = false;
              break;
            }
            sign = value.substr(0, 1), hh = value.substr(1, 2), mm = value.substr(4, 2);
            ss = value.substr(7, 2);
            value.remove_prefix(9);
          } else if (c.std == kISO8601SecondsTZ || c.std == kNumSecondsTz) {
            if (value.size() < 7) {
              ok = false;
              break;
            }
            sign = value.substr(0, 1), hh = value.substr(1, 2), mm = value.substr(3, 2);
            ss = value.substr(5, 2);
            value.remove_prefix(7);
          } else {
            if (value.size() < 5) {
              ok = false;
              break;
            }
            sign = value.substr(0, 1), hh = value.substr(1, 2), mm = value.substr(3, 2);
            value.remove_prefix(5);
          }
          auto h = GetNumExact(hh);
          auto m = GetNumExact(mm);
          auto s = GetNumExact(ss);
          if (!h || !m || !s || (sign != "+" && sign != "-")) {
            ok = false;
            break;
          }
          if (*h > 24) range = "time zone offset hour";
          if (*m > 60) range = "time zone offset minute";
          if (*s > 60) range = "time zone offset second";
          zone_offset = (*h * 60 + *m) * 60 + *s;
          if (sign == "-") zone_offset = -zone_offset;
          have_offset = true;
          break;
        }
        case kTZ: {
          if (value.substr(0, 3) == "UTC") {
            value.remove_prefix(3);
            utc = true;
            break;
          }
          size_t n = ZoneNameLength(value);
          if (n == 0) {
            ok = false;
            break;
          }
          zone_name = std::string(value.substr(0, n));
          value.remove_prefix(n);
          break;
        }
        case kFracSecond0: {
          size_t ndigit = 1 + static_cast<size_t>(c.digits);
          if (value.size() < ndigit || (value[0] != '.' && value[0] != ',')) {
            ok = false;
            break;
          }
          for (size_t i = 1; i < ndigit; ++i) {
            if (!IsDigitAt(value, i)) ok = false;
          }
          if (!ok) break;
          nsec = ParseNanos(value, ndigit);
          value.remove_prefix(ndigit);
          break;
        }
        case kFracSecond9: {
          if (value.size() < 2 || (value[0] != '.' && value[0] != ',') || !IsDigitAt(value, 1)) {
            break;  // fractional second omitted
          }
          size_t i = 0;
          while (IsDigitAt(value, i + 1)) ++i;
          nsec = ParseNanos(value, 1 + i);
          value.remove_prefix(1 + i);
          break;
        }
        case kNone:
          break;
      }
      if (!range.empty()) return Msg(": " + range + " out of range");
      if (!ok) return Bad(c.token, hold);
    }
    if (pm_set && hour < 12) {
      hour += 12;
    } else if (am_set && hour == 12) {
      hour = 0;
    }
    if (yday >= 0) {
      int d = 0;
      int m = 0;
      if (IsLeap(year)) {
        if (yday == 31 + 29) {
          m = 2;
          d = 29;
        } else if (yday > 31 + 29) {
          --yday;
        }
      }
      if (yday < 1 || yday > 365) return Msg(": day-of-year out of range");
      if (m == 0) {
        m = (yday - 1) / 31 + 1;
        if (DaysBefore(m + 1) < yday) ++m;
        d = yday - DaysBefore(m);
      }
      if (month >= 0 && month != m) return Msg(": day-of-year does not match month");
      month = m;
      if (day >= 0 && day != d) return Msg(": day-of-year does not match day");
      day = d;
    } else {
      if (month < 0) month = 1;
      if (day < 0) day = 1;
    }
    if (day < 1 || day > DaysIn(month, year)) return Msg(": day out of range");

    auto utc_zone = TimeZone::Utc();
    if (utc) return MakeDate(year, month, day, hour, min, sec, nsec, utc_zone);
    if (have_offset) {
      auto t = MakeDate(year, month, day, hour, min, sec, nsec, utc_zone);
      if (!t) return t;
      t->sec -= zone_offset;
      return t;
    }
    if (!zone_name.empty()) {
      auto t = MakeDate(year, month, day, hour, min, sec, nsec, utc_zone);
      if (!t) return t;
      // A known abbreviation of the local zone moves the instant; an unknown one (or GMT+n)
      // leaves the wall clock read as UTC, as Go does.
      std::optional<int32_t> off = local_->LookupName(zone_name, t->sec);
      if (off) t->sec -= *off;
      return t;
    }
    return MakeDate(year, month, day, hour, min, sec, nsec, utc_zone);
  }

 private:
  Error Bad(std::string_view layout_elem, std::string_view value_elem) const {
    return MakeError("parsing time " + Quote(value_) + " as " + Quote(layout_) + ": cannot parse " +
                     Quote(value_elem) + " as " + Quote(layout_elem));
  }
  Error Msg(const std::string& msg) const {
    return MakeError("parsing time " + Quote(value_) + msg);
  }

  // Consumes the literal `prefix`; a space in the prefix matches any run of spaces.
  static bool Skip(std::string_view& value, std::string_view prefix) {
    while (!prefix.empty()) {
      if (prefix[0] == ' ') {
        if (!value.empty() && value[0] != ' ') return false;
        while (!prefix.empty() && prefix[0] == ' ') prefix.remove_prefix(1);
        while (!value.empty() && value[0] == ' ') value.remove_prefix(1);
        continue;
      }
      if (value.empty() || value[0] != prefix[0]) return false;
      prefix.remove_prefix(1);
      value.remove_prefix(1);
    }
    return true;
  }

  template <size_t N>
  static std::optional<int> Lookup(std::string_view& value,
                                   const std::array<std::string_view, N>& names, bool abbrev) {
    for (size_t i = 0; i < names.size(); ++i) {
      std::string_view n = abbrev ? names[i].substr(0, 3) : names[i];
      if (value.size() >= n.size() && EqualFold(value.substr(0, n.size()), n)) {
        value.remove_prefix(n.size());
        return static_cast<int>(i);
      }
    }
    return std::nullopt;
  }
  static bool EqualFold(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i) {
      char x = a[i];
      char y = b[i];
      if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
      if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
      if (x != y) return false;
    }
    return true;
  }

  // One or two digits (exactly two when `fixed`).
  static std::optional<int> GetNum(std::string_view& value, bool fixed) {
    if (!IsDigitAt(value, 0)) return std::nullopt;
    if (!IsDigitAt(value, 1)) {
      if (fixed) return std::nullopt;
      int v = value[0] - '0';
      value.remove_prefix(1);
      return v;
    }
    int v = (value[0] - '0') * 10 + (value[1] - '0');
    value.remove_prefix(2);
    return v;
  }
  static std::optional<int> GetNum3(std::string_view& value, bool fixed) {
    int v = 0;
    size_t i = 0;
    for (; i < 3 && IsDigitAt(value, i); ++i) v = v * 10 + (value[i] - '0');
    if (i == 0 || (fixed && i != 3)) return std::nullopt;
    value.remove_prefix(i);
    return v;
  }
  static std::optional<int> GetNumExact(std::string_view s) {
    if (s.size() != 2 || !IsDigitAt(s, 0) || !IsDigitAt(s, 1)) return std::nullopt;
    return (s[0] - '0') * 10 + (s[1] - '0');
  }

  // value[0] is the separator; digits follow up to `n` bytes (at most 9 are significant).
  static int64_t ParseNanos(std::string_view value, size_t n) {
    n = std::min<size_t>(n, 10);
    int64_t ns = 0;
    size_t i = 1;
    for (; i < n; ++i) ns = ns * 10 + (value[i] - '0');
    for (; i < 10; ++i) ns *= 10;
    return ns;
  }

  static size_t ZoneNameLength(std::string_view value) {
    if (value.size() < 3) return 0;
    if (value.substr(0, 4) == "ChST" || value.substr(0, 4) == "MeST") return 4;
    if (value.substr(0, 3) == "GMT") return 3 + SignedOffsetLength(value.substr(3));
    if (value[0] == '+' || value[0] == '-') return SignedOffsetLength(value);
    size_t upper = 0;
    while (upper < 6 && upper < value.size() && value[upper] >= 'A' && value[upper] <= 'Z') {
      ++upper;
    }
    switch (upper) {
      case 3:
        return 3;
      case 4:
        return (value[3] == 'T' || value.substr(0, 4) == "WITA") ? 4 : 0;
      case 5:
        return value[4] == 'T' ? 5 : 0;
      default:
        return 0;
    }
  }

  // "+h" / "-hh" with an hour of at most 24; 0 when absent or invalid.
  static size_t SignedOffsetLength(std::string_view s) {
    if (s.empty() || (s[0] != '+' && s[0] != '-')) return 0;
    size_t i = 1;
    int64_t v = 0;
    while (IsDigitAt(s, i)) {
      if (v < 1000) v = v * 10 + (s[i] - '0');
      ++i;
    }
    if (i == 1 || v > 24) return 0;
    return i;
  }

  std::string_view layout_;
  std::string_view value_;
  ZonePtr local_;
};

// Go's time.ParseDuration.
Result<int64_t> ParseDuration(std::string_view orig) {
  auto invalid = [&] { return MakeError("time: invalid duration " + Quote(orig)); };
  std::string_view s = orig;
  bool neg = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    neg = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s == "0") return 0;
  if (s.empty()) return invalid();
  constexpr uint64_t kMax = 1ULL << 63;
  uint64_t d = 0;
  while (!s.empty()) {
    if (!(s[0] == '.' || IsDigitAt(s, 0))) return invalid();
    uint64_t v = 0;
    size_t i = 0;
    for (; IsDigitAt(s, i); ++i) {
      if (v > kMax / 10) return invalid();
      v = v * 10 + static_cast<uint64_t>(s[i] - '0');
      if (v > kMax) return invalid();
    }
    bool pre = i > 0;
    s.remove_prefix(i);
    bool post = false;
    uint64_t f = 0;
    double scale = 1;
    if (!s.empty() && s[0] == '.') {
      s.remove_prefix(1);
      size_t j = 0;
      bool overflow = false;
      for (; IsDigitAt(s, j); ++j) {
        if (overflow) continue;
        if (f > (kMax - 1) / 10) {
          overflow = true;
          continue;
        }
        uint64_t y = f * 10 + static_cast<uint64_t>(s[j] - '0');
        if (y > kMax) {
          overflow = true;
          continue;
        }
        f = y;
        scale *= 10;
      }
      post = j > 0;
      s.remove_prefix(j);
    }
    if (!pre && !post) return invalid();
    size_t u = 0;
    while (u < s.size() && s[u] != '.' && !IsDigitAt(s, u)) ++u;
    if (u == 0) return MakeError("time: missing unit in duration " + Quote(orig));
    std::string_view unit_name = s.substr(0, u);
    s.remove_prefix(u);
    uint64_t unit = 0;
    if (unit_name == "ns") {
      unit = 1;
    } else if (unit_name == "us" || unit_name == "\xc2\xb5s" || unit_name == "\xce\xbcs") {
      unit = 1000;
    } else if (unit_name == "ms") {
      unit = 1000000;
    } else if (unit_name == "s") {
      unit = 1000000000;
    } else if (unit_name == "m") {
      unit = 60000000000ULL;
    } else if (unit_name == "h") {
      unit = 3600000000000ULL;
    } else {
      return MakeError("time: unknown unit " + Quote(unit_name) + " in duration " + Quote(orig));
    }
    if (v > kMax / unit) return invalid();
    v *= unit;
    if (f > 0) {
      v += static_cast<uint64_t>(static_cast<double>(f) * (static_cast<double>(unit) / scale));
      if (v > kMax) return invalid();
    }
    d += v;
    if (d > kMax) return invalid();
  }
  if (neg) return static_cast<int64_t>(0 - d);
  if (d > kMax - 1) return invalid();
  return static_cast<int64_t>(d);
}

std::string_view NamedLayout(std::string_view name) {
  static const std::map<std::string_view, std::string_view> kLayouts = {
      {"ANSIC", "Mon Jan _2 15:04:05 2006"},
      {"UnixDate", "Mon Jan _2 15:04:05 MST 2006"},
      {"RubyDate", "Mon Jan 02 15:04:05 -0700 2006"},
      {"RFC822", "02 Jan 06 15:04 MST"},
      {"RFC822Z", "02 Jan 06 15:04 -0700"},
      {"RFC850", "Monday, 02-Jan-06 15:04:05 MST"},
      {"RFC1123", "Mon, 02 Jan 2006 15:04:05 MST"},
      {"RFC1123Z", "Mon, 02 Jan 2006 15:04:05 -0700"},
      {"RFC3339", "2006-01-02T15:04:05Z07:00"},
      {"RFC3339Nano", "2006-01-02T15:04:05.999999999Z07:00"},
  };
  auto it = kLayouts.find(name);
  return it == kLayouts.end() ? name : it->second;
}

constexpr std::string_view kRfc3339 = "2006-01-02T15:04:05Z07:00";
constexpr std::string_view kRfc3339Nano = "2006-01-02T15:04:05.999999999Z07:00";

// ---------------------------------------------------------------------------------------------
// Operands.

Result<int64_t> NanosOperand(std::string_view name, int pos, const Value& v) {
  if (!v.is_number()) return OperandTypeError(name, pos, "number", v);
  if (v.is_int()) return v.as_int();
  double d = v.as_double();
  if (d == std::trunc(d) && d >= -9223372036854775808.0 && d < 9223372036854775808.0) {
    return static_cast<int64_t>(d);
  }
  return BuiltinError(name, "timestamp too big");
}

struct TzTime {
  Time time;
  std::string layout;
};

// OPA's time argument: ns, [ns], [ns, tz] or [ns, tz, layout].
Result<TzTime> TimeOperand(std::string_view name, int pos, const Value& v) {
  constexpr std::string_view kWant = "either number (ns) or [number (ns), string (tz)]";
  TzTime out;
  const Value* ns = &v;
  ZonePtr zone = TimeZone::Utc();
  if (v.is_array()) {
    const Array& a = v.array();
    if (a.empty()) return OperandTypeError(name, pos, kWant, v);
    ns = &a[0];
    if (!ns->is_number()) return OperandTypeError(name, pos, "number", *ns);
    if (a.size() > 1) {
      if (!a[1].is_string()) return OperandTypeError(name, pos, "string", a[1]);
      auto z = LoadZone(a[1].str());
      if (!z) return BuiltinError(name, z.error().message);
      zone = *z;
    }
    if (a.size() > 2) {
      if (!a[2].is_string()) return OperandTypeError(name, pos, "string", a[2]);
      out.layout = a[2].str();
    }
  } else if (!v.is_number()) {
    return OperandTypeError(name, pos, kWant, v);
  }
  auto n = NanosOperand(name, pos, *ns);
  if (!n) return n.error();
  out.time = FromUnixNanos(*n, zone);
  return out;
}

Result<Value> NanosResult(std::string_view name, const Result<Time>& t) {
  if (!t) return BuiltinError(name, t.error().message);
  auto ns = UnixNanos(*t);
  if (!ns) return BuiltinError(name, ns.error().message);
  return Value::Int(*ns);
}

Result<Value> ParseWithLayout(std::string_view name, std::string_view layout,
                              std::string_view value) {
  static const ZonePtr kLocal = *LoadZone("Local");
  auto t = LayoutParser(layout, value, kLocal).Parse();
  return NanosResult(name, t);
}

}  // namespace

void RegisterTimeBuiltins(BuiltinRegistry& r) {
  r.Add("time.now_ns", 0, [](BuiltinContext& ctx, std::span<const Value>) -> Result<Value> {
    return Value::Int(ctx.now_ns);
  });

  r.Add("time.parse_ns", 2, [](BuiltinContext&, std::span<const Value> args) -> Result<Value> {
    constexpr std::string_view kName = "time.parse_ns";
    if (!args[0].is_string()) return OperandTypeError(kName, 1, "string", args[0]);
    if (!args[1].is_string()) return OperandTypeError(kName, 2, "string", args[1]);
    return ParseWithLayout(kName, NamedLayout(args[0].str()), args[1].str());
  });

  r.Add("time.parse_rfc3339_ns", 1,
        [](BuiltinContext&, std::span<const Value> args) -> Result<Value> {
          constexpr std::string_view kName = "time.parse_rfc3339_ns";
          if (!args[0].is_string()) return OperandTypeError(kName, 1, "string", args[0]);
          return ParseWithLayout(kName, kRfc3339, args[0].str());
        });

  r.Add("time.parse_duration_ns", 1,
        [](BuiltinContext&, std::span<const Value> args) -> Result<Value> {
          constexpr std::string_view kName = "time.parse_duration_ns";
          if (!args[0].is_string()) return OperandTypeError(kName, 1, "string", args[0]);
          auto d = ParseDuration(args[0].str());
          if (!d) return BuiltinError(kName, d.error().message);
          return Value::Int(*d);
        });

  r.Add("time.format", 1, [](BuiltinContext&, std::span<const Value> args) -> Result<Value> {
    constexpr std::string_view kName = "time.format";
    auto t = TimeOperand(kName, 1, args[0]);
    if (!t) return t.error();
    std::string_view layout = t->layout.empty() ? kRfc3339Nano : NamedLayout(t->layout);
    return Value::String(FormatTime(t->time, layout));
  });

  r.Add("time.date", 1, [](BuiltinContext&, std::span<const Value> args) -> Result<Value> {
    auto t = TimeOperand("time.date", 1, args[0]);
    if (!t) return t.error();
    Fields f = FieldsOf(t->time);
    return Value::FromArray({Value::Int(f.year), Value::Int(f.month), Value::Int(f.day)});
  });

  r.Add("time.clock", 1, [](BuiltinContext&, std::span<const Value> args) -> Result<Value> {
    auto t = TimeOperand("time.clock", 1, args[0]);
    if (!t) return t.error();
    Fields f = FieldsOf(t->time);
    return Value::FromArray({Value::Int(f.hour), Value::Int(f.minute), Value::Int(f.second)});
  });

  r.Add("time.weekday", 1, [](BuiltinContext&, std::span<const Value> args) -> Result<Value> {
    auto t = TimeOperand("time.weekday", 1, args[0]);
    if (!t) return t.error();
    Fields f = FieldsOf(t->time);
    return Value::String(std::string(kLongDays[static_cast<size_t>(f.wday)]));
  });

  r.Add("time.add_date", 4, [](BuiltinContext&, std::span<const Value> args) -> Result<Value> {
    constexpr std::string_view kName = "time.add_date";
    auto t = TimeOperand(kName, 1, args[0]);
    if (!t) return t.error();
    std::array<int64_t, 3> delta{};
    for (size_t i = 0; i < 3; ++i) {
      auto n = IntOperand(kName, static_cast<int>(i) + 2, args[i + 1]);
      if (!n) return n.error();
      delta[i] = *n;
    }
    Fields f = FieldsOf(t->time);
    auto res = MakeDate(static_cast<i128>(f.year) + delta[0], static_cast<i128>(f.month) + delta[1],
                        static_cast<i128>(f.day) + delta[2], f.hour, f.minute, f.second,
                        t->time.nsec, t->time.zone);
    return NanosResult(kName, res);
  });

  r.Add("time.diff", 2, [](BuiltinContext&, std::span<const Value> args) -> Result<Value> {
    constexpr std::string_view kName = "time.diff";
    auto a = TimeOperand(kName, 1, args[0]);
    if (!a) return a.error();
    auto b = TimeOperand(kName, 2, args[1]);
    if (!b) return b.error();
    Time t1 = a->time;
    Time t2 = b->time;
    t2.zone = t1.zone;  // compare wall clocks in the first operand's zone
    if (t1.sec > t2.sec || (t1.sec == t2.sec && t1.nsec > t2.nsec)) std::swap(t1, t2);
    Fields f1 = FieldsOf(t1);
    Fields f2 = FieldsOf(t2);
    int64_t year = f2.year - f1.year;
    int64_t month = f2.month - f1.month;
    int64_t day = f2.day - f1.day;
    int64_t hour = f2.hour - f1.hour;
    int64_t min = f2.minute - f1.minute;
    int64_t sec = f2.second - f1.second;
    if (sec < 0) {
      sec += 60;
      --min;
    }
    if (min < 0) {
      min += 60;
      --hour;
    }
    if (hour < 0) {
      hour += 24;
      --day;
    }
    if (day < 0) {
      day += DaysIn(f1.month, f1.year);
      --month;
    }
    if (month < 0) {
      month += 12;
      --year;
    }
    return Value::FromArray({Value::Int(year), Value::Int(month), Value::Int(day), Value::Int(hour),
                             Value::Int(min), Value::Int(sec)});
  });
}

}  // namespace mcpgw::rego
