// net.cidr_* built-ins (IPv4 and IPv6).
//
// OPA implements these with Go's net package, whose conventions show through: IPv4 addresses are
// IPv4-mapped IPv6 addresses internally (so "::ffff:10.0.0.1" is the IPv4 address 10.0.0.1),
// a bare IPv4 address given to cidr_merge gets its classful default mask, and networks print
// with Go's formatting. Addresses here are 128-bit integers with IPv4 mapped the same way, which
// keeps every operation a few lines of integer arithmetic.

#include <algorithm>
#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "rego/builtins.h"

namespace mcpgw::rego {
namespace {

using u128 = unsigned __int128;

constexpr u128 kV4Prefix = static_cast<u128>(0xffff) << 32;  // ::ffff:0:0/96
constexpr u128 kV4Mask = ~static_cast<u128>(0xffffffffU);    // upper 96 bits

bool Is4(u128 ip) { return (ip & kV4Mask) == kV4Prefix; }

// Network mask with the top `prefix` (0..128) bits set.
u128 Mask(int prefix) {
  if (prefix <= 0) return 0;
  if (prefix >= 128) return ~static_cast<u128>(0);
  return ~((static_cast<u128>(1) << (128 - prefix)) - 1);
}

struct ParsedIp {
  u128 ip = 0;
  bool text_v4 = false;  // written as a dotted quad (bit length 32)
};

std::optional<uint32_t> ParseV4(std::string_view s) {
  uint32_t out = 0;
  int fields = 0;
  size_t i = 0;
  while (true) {
    size_t start = i;
    uint32_t v = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
      v = v * 10 + static_cast<uint32_t>(s[i] - '0');
      if (v > 255) return std::nullopt;
      ++i;
    }
    size_t len = i - start;
    if (len == 0 || (len > 1 && s[start] == '0')) return std::nullopt;  // no leading zeros
    out = (out << 8) | v;
    ++fields;
    if (i == s.size()) break;
    if (s[i] != '.' || fields == 4) return std::nullopt;
    ++i;
  }
  if (fields != 4) return std::nullopt;
  return out;
}

int HexVal(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::optional<u128> ParseV6(std::string_view s) {
  std::array<uint16_t, 8> groups{};
  int n = 0;
  int ellipsis = -1;
  size_t i = 0;
  if (s.size() >= 2 && s[0] == ':' && s[1] == ':') {
    ellipsis = 0;
    i = 2;
    if (i == s.size()) return 0;
  }
  while (i < s.size()) {
    size_t start = i;
    uint32_t v = 0;
    while (i < s.size() && HexVal(s[i]) >= 0 && i - start < 4) {
      v = (v << 4) | static_cast<uint32_t>(HexVal(s[i]));
      ++i;
    }
    if (i == start) return std::nullopt;
    if (i < s.size() && s[i] == '.') {
      // Embedded IPv4 in the last 32 bits.
      if (n > 6) return std::nullopt;
      auto v4 = ParseV4(s.substr(start));
      if (!v4) return std::nullopt;
      groups[static_cast<size_t>(n++)] = static_cast<uint16_t>(*v4 >> 16);
      groups[static_cast<size_t>(n++)] = static_cast<uint16_t>(*v4 & 0xffff);
      i = s.size();
      break;
    }
    if (i < s.size() && HexVal(s[i]) >= 0) return std::nullopt;  // more than 4 hex digits
    if (n == 8) return std::nullopt;
    groups[static_cast<size_t>(n++)] = static_cast<uint16_t>(v);
    if (i == s.size()) break;
    if (s[i] != ':') return std::nullopt;
    ++i;
    if (i < s.size() && s[i] == ':') {
      if (ellipsis >= 0) return std::nullopt;
      ellipsis = n;
      ++i;
      if (i == s.size()) break;
    } else if (i == s.size()) {
      return std::nullopt;  // trailing single colon
    }
  }
  if (ellipsis >= 0) {
    if (n == 8) return std::nullopt;
    int fill = 8 - n;
    for (int k = n - 1; k >= ellipsis; --k) {
      groups[static_cast<size_t>(k) + static_cast<size_t>(fill)] = groups[static_cast<size_t>(k)];
    }
    for (int k = ellipsis; k < ellipsis + fill; ++k) groups[static_cast<size_t>(k)] = 0;
  } else if (n != 8) {
    return std::nullopt;
  }
  u128 out = 0;
  for (uint16_t g : groups) out = (out << 16) | g;
  return out;
}

// Go's netip.ParseAddr without zones (net.ParseIP and net.ParseCIDR reject zones).
std::optional<ParsedIp> ParseIp(std::string_view s) {
  if (s.find(':') == std::string_view::npos) {
    auto v4 = ParseV4(s);
    if (!v4) return std::nullopt;
    return ParsedIp{kV4Prefix | *v4, true};
  }
  auto v6 = ParseV6(s);
  if (!v6) return std::nullopt;
  return ParsedIp{*v6, false};
}

std::string FormatIp(u128 ip) {
  if (Is4(ip)) {
    auto v = static_cast<uint32_t>(ip);
    return std::to_string(v >> 24) + "." + std::to_string((v >> 16) & 255) + "." +
           std::to_string((v >> 8) & 255) + "." + std::to_string(v & 255);
  }
  std::array<uint16_t, 8> g{};
  for (int k = 7; k >= 0; --k) {
    g[static_cast<size_t>(k)] = static_cast<uint16_t>(ip & 0xffff);
    ip >>= 16;
  }
  // Longest run (at least two) of zero groups becomes "::"; the first one wins a tie.
  int best = -1;
  int best_len = 1;
  for (int k = 0; k < 8;) {
    if (g[static_cast<size_t>(k)] != 0) {
      ++k;
      continue;
    }
    int j = k;
    while (j < 8 && g[static_cast<size_t>(j)] == 0) ++j;
    if (j - k > best_len) {
      best = k;
      best_len = j - k;
    }
    k = j;
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (int k = 0; k < 8; ++k) {
    if (k == best) {
      out += "::";
      k += best_len - 1;
      continue;
    }
    if (!out.empty() && out.back() != ':') out.push_back(':');
    uint16_t v = g[static_cast<size_t>(k)];
    bool started = false;
    for (int shift = 12; shift >= 0; shift -= 4) {
      int d = (v >> shift) & 15;
      if (d != 0 || started || shift == 0) {
        out.push_back(kHex[d]);
        started = true;
      }
    }
  }
  return out;
}

// A Go *net.IPNet: an address (masked when it came from ParseCIDR), a prefix length and the
// mask's bit length (32 for IPv4 masks, 128 otherwise).
struct Net {
  u128 ip = 0;
  int prefix = 0;
  int bits = 128;

  int Prefix128() const { return bits == 32 ? prefix + 96 : prefix; }
  u128 First() const { return ip & Mask(Prefix128()); }
  u128 Last() const { return First() | ~Mask(Prefix128()); }
  bool Contains(u128 addr) const {
    if (Is4(ip) != Is4(addr)) return false;
    return ((ip ^ addr) & Mask(Prefix128())) == 0;
  }
  std::string ToString() const {
    int shown = Is4(ip) ? Prefix128() - 96 : prefix;
    return FormatIp(ip) + "/" + std::to_string(shown);
  }
};

// Go's net.ParseCIDR; the error text is Go's.
Result<Net> ParseCidr(std::string_view s) {
  auto bad = [&] { return MakeError("invalid CIDR address: " + std::string(s)); };
  size_t slash = s.find('/');
  if (slash == std::string_view::npos) return bad();
  auto ip = ParseIp(s.substr(0, slash));
  if (!ip) return bad();
  std::string_view len = s.substr(slash + 1);
  int bits = ip->text_v4 ? 32 : 128;
  int n = 0;
  size_t i = 0;
  for (; i < len.size() && len[i] >= '0' && len[i] <= '9'; ++i) {
    n = n * 10 + (len[i] - '0');
    if (n > 0xFFFFFF) return bad();
  }
  if (i == 0 || i != len.size() || n > bits) return bad();
  Net net;
  net.bits = bits;
  net.prefix = n;
  net.ip = ip->ip & Mask(bits == 32 ? n + 96 : n);
  return net;
}

Result<Net> NetOperand(std::string_view name, int pos, const Value& v) {
  if (!v.is_string()) return OperandTypeError(name, pos, "string", v);
  auto net = ParseCidr(v.str());
  if (!net) return BuiltinError(name, net.error().message);
  return net;
}

// net.cidr_contains(cidr, cidr_or_ip).
Result<bool> CidrContains(std::string_view name, const Value& a, const Value& b) {
  auto net = NetOperand(name, 1, a);
  if (!net) return net.error();
  if (!b.is_string()) return OperandTypeError(name, 2, "string", b);
  if (auto ip = ParseIp(b.str())) return net->Contains(ip->ip);
  auto inner = ParseCidr(b.str());
  if (!inner) {
    return BuiltinError(name,
                        "not a valid textual representation of an IP address or CIDR: " + b.str());
  }
  return net->Contains(inner->First()) && net->Contains(inner->Last());
}

// The CIDR operand of one element of a cidr_contains_matches collection, with its key.
Status ForEachMatchOperand(std::string_view name, int pos, const Value& v,
                           const std::function<Status(const Value&, const Value&)>& fn) {
  auto cidr_of = [&](const Value& e) -> Result<const Value*> {
    if (e.is_string()) return &e;
    if (e.is_array() && !e.array().empty()) return &e.array()[0];
    return BuiltinError(
        name, "operand " + std::to_string(pos) + ": element must be string or non-empty array");
  };
  switch (v.kind()) {
    case Kind::kString:
      return fn(v, v);
    case Kind::kArray:
      for (size_t i = 0; i < v.array().size(); ++i) {
        auto c = cidr_of(v.array()[i]);
        if (!c) return c.error();
        if (auto st = fn(**c, Value::Int(static_cast<int64_t>(i))); !st) return st;
      }
      return {};
    case Kind::kSet:
      for (const Value& e : v.set()) {
        auto c = cidr_of(e);
        if (!c) return c.error();
        if (auto st = fn(**c, e); !st) return st;
      }
      return {};
    case Kind::kObject:
      for (const auto& [k, e] : v.object()) {
        auto c = cidr_of(e);
        if (!c) return c.error();
        if (auto st = fn(**c, k); !st) return st;
      }
      return {};
    default:
      return {};
  }
}

// A network to merge: the range it covers and, while unmerged, the network as given.
struct Range {
  u128 first = 0;
  u128 last = 0;
  std::optional<Net> net;
};

// Go's classful default mask for an IPv4 address given to cidr_merge without a prefix.
int DefaultPrefix(u128 ip) {
  auto top = static_cast<uint32_t>(ip) >> 24;
  if (top < 0x80) return 8;
  if (top < 0xC0) return 16;
  return 24;
}

// The fewest CIDR blocks covering [first, last] exactly (IPv4-mapped ranges as IPv4 blocks).
void RangeToNets(u128 first, u128 last, std::vector<Net>& out) {
  bool v4 = Is4(first);
  int max_host = v4 ? 32 : 128;
  auto block_last = [&](int host) {
    return host == 128 ? ~static_cast<u128>(0) : first + ((static_cast<u128>(1) << host) - 1);
  };
  while (true) {
    // The largest block aligned at `first` that does not pass `last`.
    int host = 0;
    while (host < max_host) {
      int h = host + 1;
      bool aligned = h == 128 ? first == 0 : (first & ((static_cast<u128>(1) << h) - 1)) == 0;
      if (!aligned || block_last(h) > last) break;
      host = h;
    }
    Net n;
    n.ip = first;
    n.bits = v4 ? 32 : 128;
    n.prefix = max_host - host;
    out.push_back(n);
    u128 end = block_last(host);
    if (end >= last) return;
    first = end + 1;
  }
}

Result<std::vector<Net>> MergeNets(std::string_view name, const std::vector<Value>& elems) {
  std::vector<Range> ranges;
  ranges.reserve(elems.size());
  for (const Value& e : elems) {
    if (!e.is_string()) return BuiltinError(name, "element must be string");
    Net net;
    if (auto ip = ParseIp(e.str())) {
      if (!Is4(ip->ip)) return BuiltinError(name, "IPv6 invalid: needs prefix length");
      net.ip = ip->ip;  // unmasked, as Go keeps it
      net.bits = 32;
      net.prefix = DefaultPrefix(ip->ip);
    } else {
      auto parsed = ParseCidr(e.str());
      if (!parsed) return BuiltinError(name, parsed.error().message);
      net = *parsed;
    }
    ranges.push_back({net.First(), net.Last(), net});
  }
  std::sort(ranges.begin(), ranges.end(), [](const Range& a, const Range& b) {
    return a.last != b.last ? a.last < b.last : a.first < b.first;
  });
  auto previous = [](u128 ip) {
    if (ip == 0 || ip == kV4Prefix) return ip;
    return ip - 1;
  };
  for (size_t i = ranges.size(); i-- > 1;) {
    Range& cur = ranges[i];
    Range& prev = ranges[i - 1];
    if (previous(cur.first) <= prev.last) {
      prev = Range{std::min(prev.first, cur.first), cur.last, std::nullopt};
      ranges.erase(ranges.begin() + static_cast<std::ptrdiff_t>(i));
    }
  }
  std::vector<Net> out;
  for (const Range& r : ranges) {
    if (r.net) {
      out.push_back(*r.net);
    } else {
      RangeToNets(r.first, r.last, out);
    }
  }
  return out;
}

constexpr u128 kMaxExpand = static_cast<u128>(1) << 20;

}  // namespace

void RegisterNetBuiltins(BuiltinRegistry& r) {
  r.Add("net.cidr_contains", 2, [](BuiltinContext&, std::span<const Value> args) -> Result<Value> {
    auto c = CidrContains("net.cidr_contains", args[0], args[1]);
    if (!c) return c.error();
    return Value::Bool(*c);
  });

  r.Add("net.cidr_intersects", 2,
        [](BuiltinContext&, std::span<const Value> args) -> Result<Value> {
          constexpr std::string_view kName = "net.cidr_intersects";
          auto a = NetOperand(kName, 1, args[0]);
          if (!a) return a.error();
          auto b = NetOperand(kName, 2, args[1]);
          if (!b) return b.error();
          return Value::Bool(a->Contains(b->ip) || b->Contains(a->ip));
        });

  r.Add("net.cidr_is_valid", 1, [](BuiltinContext&, std::span<const Value> args) -> Result<Value> {
    return Value::Bool(args[0].is_string() && ParseCidr(args[0].str()).ok());
  });

  r.Add("net.cidr_expand", 1, [](BuiltinContext&, std::span<const Value> args) -> Result<Value> {
    constexpr std::string_view kName = "net.cidr_expand";
    auto net = NetOperand(kName, 1, args[0]);
    if (!net) return net.error();
    int host_bits = 128 - net->Prefix128();
    if (host_bits > 20) {
      return BuiltinError(kName, "CIDR too large to expand (more than " +
                                     std::to_string(static_cast<uint64_t>(kMaxExpand)) +
                                     " addresses): " + args[0].str());
    }
    Set out;
    u128 first = net->First();
    u128 count = static_cast<u128>(1) << host_bits;
    for (u128 k = 0; k < count; ++k) out.insert(Value::String(FormatIp(first + k)));
    return Value::FromSet(std::move(out));
  });

  r.Add("net.cidr_merge", 1, [](BuiltinContext&, std::span<const Value> args) -> Result<Value> {
    constexpr std::string_view kName = "net.cidr_merge";
    std::vector<Value> elems;
    if (args[0].is_array()) {
      elems = args[0].array();
    } else if (args[0].is_set()) {
      elems.assign(args[0].set().begin(), args[0].set().end());
    } else {
      return BuiltinError(kName, "operand must be an array");
    }
    auto nets = MergeNets(kName, elems);
    if (!nets) return nets.error();
    Set out;
    for (const Net& n : *nets) out.insert(Value::String(n.ToString()));
    return Value::FromSet(std::move(out));
  });

  r.Add("net.cidr_contains_matches", 2,
        [](BuiltinContext&, std::span<const Value> args) -> Result<Value> {
          constexpr std::string_view kName = "net.cidr_contains_matches";
          Set out;
          auto st = ForEachMatchOperand(
              kName, 1, args[0], [&](const Value& cidr1, const Value& key1) -> Status {
                return ForEachMatchOperand(kName, 2, args[1],
                                           [&](const Value& cidr2, const Value& key2) -> Status {
                                             auto c = CidrContains(kName, cidr1, cidr2);
                                             if (!c) return c.error();
                                             if (*c) out.insert(Value::FromArray({key1, key2}));
                                             return {};
                                           });
              });
          if (!st) return st.error();
          return Value::FromSet(std::move(out));
        });
}

}  // namespace mcpgw::rego
