#include <filesystem>

#include "history/stores.h"

namespace mcpgw::history {

Result<std::unique_ptr<Store>> OpenStore(const std::string& dsn) {
  if (dsn.rfind("sqlite://", 0) == 0) {
    // sqlite:///abs/path (three slashes) or sqlite://relative/path
    std::string path = dsn.substr(9);
    if (path.empty())
      return MakeError(
          "HISTORY_DB_DSN: sqlite:// needs a file path, e.g. sqlite:///data/history.db");
    return OpenSqliteStore(path);
  }
  if (dsn.rfind("postgresql://", 0) == 0 || dsn.rfind("postgres://", 0) == 0)
    return OpenPostgresStore(dsn);
  return MakeError("HISTORY_DB_DSN must start with sqlite:// or postgresql:// (got '" +
                   dsn.substr(0, dsn.find(':')) + ":...')");
}

}  // namespace mcpgw::history
