// Rows as single-line JSON, for the spool file. Every field round-trips exactly.
#pragma once

#include <string>

#include "common/result.h"
#include "history/store.h"

namespace mcpgw::history {

std::string ToolCallToJson(const ToolCallRow& r);
std::string AuditToJson(const AuditRow& r);
// A spool line is {"t":"call",...} or {"t":"audit",...}.
struct SpoolEntry {
  bool is_call = true;
  ToolCallRow call;
  AuditRow audit;
};
Result<SpoolEntry> ParseSpoolLine(std::string_view line);

}  // namespace mcpgw::history
