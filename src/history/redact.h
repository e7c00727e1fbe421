// What of a call's arguments may be stored: values under secret-sounding keys and values that
// look like credentials are replaced by "[REDACTED]"; the SHA-256 of the original arguments is kept
// so a record can still be matched against a known call without revealing it.
#pragma once

#include <string>
#include <vector>

#include "json/json.h"

namespace mcpgw::history {

struct RedactOptions {
  // Case-insensitive substrings of key names whose values are never stored.
  std::vector<std::string> keys = {"password", "passwd", "token",  "secret",      "authorization",
                                   "api_key",  "apikey", "cookie", "private_key", "credential"};
  bool hash_only = false;  // tools labelled `sensitive`: store no arguments at all, only the hash
};

struct RedactedArgs {
  std::string json;    // the redacted arguments (or "{}" with hash_only)
  std::string sha256;  // hex SHA-256 of the serialized original arguments
};

RedactedArgs RedactArguments(const json::value& args, const RedactOptions& opt);

// True for strings that look like credentials: bearer tokens, JWTs, well-known key prefixes,
// PEM blocks, or long random-looking strings.
bool LooksSecret(std::string_view s);

}  // namespace mcpgw::history
