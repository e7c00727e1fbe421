#include "history/commands.h"

#include <cstdio>
#include <cstdlib>

#include "history/chain.h"
#include "history/store.h"

namespace mcpgw::history {

std::string ResolveDsn(const std::string& flag) {
  if (!flag.empty()) return flag;
  const char* env = std::getenv("HISTORY_DB_DSN");
  if (env && *env) return env;
  return "sqlite:///data/history.db";
}

int RunMigrate(const std::string& dsn) {
  auto store = OpenStore(dsn);
  if (!store.ok()) {
    std::fprintf(stderr, "mcpgw db migrate: %s\n", store.error().message.c_str());
    return 1;
  }
  if (Status s = (*store)->Migrate(); !s.ok()) {
    std::fprintf(stderr, "mcpgw db migrate: %s\n", s.error().message.c_str());
    return 1;
  }
  std::printf("%s: schema up to date (%zu migrations)\n", (*store)->Describe().c_str(),
              Migrations().size());
  return 0;
}

int RunVerify(const std::string& dsn) {
  auto store = OpenStore(dsn);
  if (!store.ok()) {
    std::fprintf(stderr, "mcpgw audit verify: %s\n", store.error().message.c_str());
    return 1;
  }
  int rc = 0;
  for (const auto& [name, rep] : {std::pair{"tool_calls", VerifyToolCalls(**store)},
                                  std::pair{"audit_events", VerifyAudit(**store)}}) {
    if (rep.ok) {
      std::printf("%s: %lld rows, hash chain intact\n", name, static_cast<long long>(rep.rows));
    } else {
      rc = 1;
      if (rep.bad_seq > 0) {
        std::printf("%s: TAMPERED at seq %lld: %s\n", name, static_cast<long long>(rep.bad_seq),
                    rep.problem.c_str());
      } else {
        std::printf("%s: %s\n", name, rep.problem.c_str());
      }
    }
  }
  return rc;
}

}  // namespace mcpgw::history
