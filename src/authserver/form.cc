#include "authserver/form.h"

#include <cstdint>
#include <unordered_set>

namespace mcpgw::authserver {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool Unreserved(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

}  // namespace

Result<std::string> PercentDecode(std::string_view text, bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '%') {
      if (i + 2 >= text.size()) return MakeError("malformed percent-encoding");
      int hi = HexValue(text[i + 1]);
      int lo = HexValue(text[i + 2]);
      if (hi < 0 || lo < 0) return MakeError("malformed percent-encoding");
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out;
}

std::string PercentEncode(std::string_view text) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (Unreserved(c)) {
      out += c;
    } else {
      auto b = static_cast<unsigned char>(c);
      out += '%';
      out += kHex[b >> 4];
      out += kHex[b & 15];
    }
  }
  return out;
}

Result<FormParams> FormParams::Parse(std::string_view text) {
  FormParams params;
  while (!text.empty()) {
    size_t amp = text.find('&');
    std::string_view pair = text.substr(0, amp);
    text = amp == std::string_view::npos ? std::string_view() : text.substr(amp + 1);
    if (pair.empty()) continue;
    size_t eq = pair.find('=');
    auto name = PercentDecode(pair.substr(0, eq), true);
    auto value = PercentDecode(eq == std::string_view::npos ? "" : pair.substr(eq + 1), true);
    if (!name.ok() || !value.ok()) return MakeError("malformed percent-encoding in parameters");
    params.items_.emplace_back(std::move(*name), std::move(*value));
  }
  return params;
}

std::string_view FormParams::Get(std::string_view name) const {
  for (const auto& [k, v] : items_) {
    if (k == name) return v;
  }
  return {};
}

bool FormParams::Has(std::string_view name) const { return Count(name) > 0; }

size_t FormParams::Count(std::string_view name) const {
  size_t n = 0;
  for (const auto& kv : items_) n += kv.first == name ? 1 : 0;
  return n;
}

std::string_view FormParams::Repeated() const {
  std::unordered_set<std::string_view> seen;
  seen.reserve(items_.size());
  for (const auto& kv : items_) {
    if (!seen.insert(kv.first).second) return kv.first;
  }
  return {};
}

std::string AppendQuery(std::string_view uri,
                        const std::vector<std::pair<std::string_view, std::string_view>>& params) {
  std::string out(uri);
  size_t hash = out.find('#');
  if (hash != std::string::npos) out.resize(hash);  // a fragment is never part of a redirect URI
  char sep = out.find('?') == std::string::npos ? '?' : '&';
  if (sep == '&' && (out.back() == '?' || out.back() == '&')) sep = '\0';
  for (const auto& [k, v] : params) {
    if (v.empty()) continue;
    if (sep != '\0') out += sep;
    sep = '&';
    out += PercentEncode(k);
    out += '=';
    out += PercentEncode(v);
  }
  return out;
}

Result<std::string> Base64Decode(std::string_view text) {
  if (text.size() % 4 != 0) return MakeError("base64 length is not a multiple of 4");
  std::string out;
  out.reserve(text.size() / 4 * 3);
  uint32_t acc = 0;
  int bits = 0;
  size_t pad = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    int v;
    if (c >= 'A' && c <= 'Z') {
      v = c - 'A';
    } else if (c >= 'a' && c <= 'z') {
      v = c - 'a' + 26;
    } else if (c >= '0' && c <= '9') {
      v = c - '0' + 52;
    } else if (c == '+') {
      v = 62;
    } else if (c == '/') {
      v = 63;
    } else if (c == '=' && i + 2 >= text.size()) {
      ++pad;
      continue;
    } else {
      return MakeError("invalid base64");
    }
    if (pad > 0) return MakeError("invalid base64 padding");
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xff);
    }
  }
  return out;
}

std::string HtmlEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

}  // namespace mcpgw::authserver
