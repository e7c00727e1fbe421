// Internal to history/: the concrete stores behind OpenStore().
#pragma once

#include <memory>
#include <string>

#include "history/store.h"

namespace mcpgw::history {

// path: a file path ("" is refused); the parent directory is created if missing.
Result<std::unique_ptr<Store>> OpenSqliteStore(const std::string& path);
// conninfo: a libpq connection URI (postgresql://...), passed through unchanged (TLS params too).
Result<std::unique_ptr<Store>> OpenPostgresStore(const std::string& conninfo);

}  // namespace mcpgw::history
