// Tamper evidence: rows of each table form a hash chain. A row's hash is
//   hex(SHA-256(prev_hash || "\n" || canonical(row)))
// where canonical(row) is the JSON array of its fields in a fixed order (hashes excluded) and the
// first row's prev_hash is 64 zeros. Editing a row changes its hash; removing or swapping rows
// breaks the seq sequence or the prev_hash links. `mcpgw audit verify` walks the chain.
#pragma once

#include <string>

#include "history/store.h"

namespace mcpgw::history {

extern const char* const kGenesisHash;

std::string CanonicalToolCall(const ToolCallRow& r);
std::string CanonicalAudit(const AuditRow& r);
std::string ChainHash(const std::string& prev_hash, const std::string& canonical);

// Fills seq/prev_hash/row_hash of `r` as the successor of `head`, and advances `head`.
void Link(ToolCallRow& r, ChainHead& head);
void Link(AuditRow& r, ChainHead& head);

struct VerifyReport {
  bool ok = true;
  int64_t rows = 0;
  int64_t bad_seq = 0;  // the first row where the chain is broken
  std::string problem;  // what is wrong there, in words
};
VerifyReport VerifyToolCalls(Store& store);
VerifyReport VerifyAudit(Store& store);

}  // namespace mcpgw::history
