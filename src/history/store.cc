#include "history/store.h"

#include <sched.h>

#include <algorithm>
#include <filesystem>
#include <map>

#include "history/stores.h"

namespace mcpgw::history {

void CpuPacer::Tick() {
  if (!enabled_) return;
  auto now = std::chrono::steady_clock::now();
  if (now - last_ < every_) return;
  sched_yield();
  last_ = std::chrono::steady_clock::now();
}

void MergeUser(UserRow& a, const UserRow& b) {
  if (b.last_seen_us >= a.last_seen_us) {
    a.email = b.email;
    a.tenant = b.tenant;
    a.roles = b.roles;
    a.groups = b.groups;
    a.last_seen_us = b.last_seen_us;
  }
  a.first_seen_us = std::min(a.first_seen_us, b.first_seen_us);
}

std::vector<UserRow> MergeUsers(const std::vector<UserRow>& rows) {
  std::map<std::string, UserRow> by_subject;
  for (const UserRow& r : rows) {
    auto [it, fresh] = by_subject.try_emplace(r.subject, r);
    if (!fresh) MergeUser(it->second, r);
  }
  std::vector<UserRow> out;
  out.reserve(by_subject.size());
  for (auto& [subject, row] : by_subject) out.push_back(std::move(row));
  return out;
}

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
