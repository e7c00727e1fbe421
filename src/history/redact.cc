#include "history/redact.h"

#include <algorithm>
#include <cctype>

#include "common/hash.h"

namespace mcpgw::history {
namespace {

constexpr const char* kRedacted = "[REDACTED]";

std::string Lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool SecretKey(std::string_view key, const RedactOptions& opt) {
  std::string k = Lower(key);
  for (const auto& needle : opt.keys) {
    if (k.find(Lower(needle)) != std::string::npos) return true;
  }
  return false;
}

json::value Redact(const json::value& v, const RedactOptions& opt) {
  if (const json::object* o = v.if_object()) {
    json::object out;
    for (const auto& [k, val] : *o)
      out[k] = SecretKey(k, opt) ? json::value(kRedacted) : Redact(val, opt);
    return out;
  }
  if (const json::array* a = v.if_array()) {
    json::array out;
    for (const auto& x : *a) out.push_back(Redact(x, opt));
    return out;
  }
  if (const json::string* s = v.if_string(); s && LooksSecret(*s)) return json::value(kRedacted);
  return v;
}

}  // namespace

bool LooksSecret(std::string_view s) {
  std::string l = Lower(s.substr(0, 16));
  if (l.rfind("bearer ", 0) == 0 || l.rfind("basic ", 0) == 0) return true;
  if (s.rfind("-----BEGIN", 0) == 0) return true;
  for (const char* prefix : {"sk-", "sk_live_", "rk_live_", "ghp_", "gho_", "github_pat_", "xoxb-",
                             "xoxp-", "AKIA", "AIza", "glpat-"}) {
    if (s.rfind(prefix, 0) == 0 && s.size() >= 16) return true;
  }
  // A JWT: three base64url segments, the first starting with {"  (eyJ).
  if (s.rfind("eyJ", 0) == 0 && std::count(s.begin(), s.end(), '.') == 2 && s.size() > 30)
    return true;
  // Long runs of key-like characters with no spaces (hex or base64 secrets), but not paths or URLs.
  if (s.size() >= 40 && s.find_first_of(" /\\:") == std::string_view::npos) {
    int digits = 0, letters = 0;
    for (char c : s) {
      if (std::isdigit(static_cast<unsigned char>(c))) ++digits;
      if (std::isalpha(static_cast<unsigned char>(c))) ++letters;
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '+' &&
          c != '=')
        return false;
    }
    return digits >= 4 && letters >= 4;
  }
  return false;
}

RedactedArgs RedactArguments(const json::value& args, const RedactOptions& opt) {
  RedactedArgs out;
  out.sha256 = Sha256Hex(json::Serialize(args));
  out.json = opt.hash_only ? "{}"
                           : json::Serialize(args.is_null() ? json::value(json::object())
                                                            : Redact(args, opt));
  return out;
}

}  // namespace mcpgw::history
