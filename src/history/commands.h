// The history commands of the mcpgw binary. Each returns the process exit code.
#pragma once

#include <string>

namespace mcpgw::history {

// The DSN to use: the flag if given, else HISTORY_DB_DSN, else sqlite:///data/history.db.
std::string ResolveDsn(const std::string& flag);

// `mcpgw db migrate`: applies pending migrations (idempotent). 0 ok, 1 failure.
int RunMigrate(const std::string& dsn);

// `mcpgw audit verify`: walks both hash chains and names the first broken row.
// 0 intact, 1 tampered or unreadable.
int RunVerify(const std::string& dsn);

}  // namespace mcpgw::history
