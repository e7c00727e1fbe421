#include "history/chain.h"

#include "common/hash.h"
#include "json/json.h"

namespace mcpgw::history {

const char* const kGenesisHash = "0000000000000000000000000000000000000000000000000000000000000000";

namespace {

template <class Row, class Canon>
VerifyReport Verify(const std::function<Status(const std::function<bool(const Row&)>&)>& scan,
                    Canon canon) {
  VerifyReport rep;
  std::string prev = kGenesisHash;
  int64_t expected_seq = 0;
  Status st = scan([&](const Row& r) {
    ++rep.rows;
    if (expected_seq != 0 && r.seq != expected_seq) {
      rep.ok = false;
      rep.bad_seq = r.seq;
      rep.problem = r.seq > expected_seq ? "rows " + std::to_string(expected_seq) + ".." +
                                               std::to_string(r.seq - 1) + " were removed"
                                         : "row out of order";
      return false;
    }
    if (r.prev_hash != prev) {
      rep.ok = false;
      rep.bad_seq = r.seq;
      rep.problem =
          "the link to the previous row is broken (a row before it was changed, removed or "
          "reordered)";
      return false;
    }
    if (ChainHash(prev, canon(r)) != r.row_hash) {
      rep.ok = false;
      rep.bad_seq = r.seq;
      rep.problem = "the row's content was changed";
      return false;
    }
    prev = r.row_hash;
    expected_seq = r.seq + 1;
    return true;
  });
  if (!st.ok() && rep.ok) {
    rep.ok = false;
    rep.problem = "cannot read the history: " + st.error().message;
  }
  return rep;
}

}  // namespace

std::string CanonicalToolCall(const ToolCallRow& r) {
  json::array a;
  a.emplace_back(r.seq);
  a.emplace_back(r.ts_start_us);
  a.emplace_back(r.ts_end_us);
  for (const std::string* s :
       {&r.request_id, &r.trace_id, &r.session_id, &r.subject, &r.roles, &r.tenant, &r.client_name,
        &r.client_version, &r.server, &r.method, &r.target, &r.action, &r.args_redacted,
        &r.args_sha256, &r.decision, &r.decision_id, &r.decision_reasons}) {
    a.emplace_back(json::string(*s));
  }
  a.emplace_back(r.http_status);
  a.emplace_back(r.rpc_error_code);
  a.emplace_back(r.is_error ? 1 : 0);
  a.emplace_back(json::string(r.outcome));
  a.emplace_back(r.latency_us);
  a.emplace_back(r.result_bytes);
  return json::Serialize(a);
}

std::string CanonicalAudit(const AuditRow& r) {
  json::array a;
  a.emplace_back(r.seq);
  a.emplace_back(r.ts_us);
  for (const std::string* s : {&r.kind, &r.subject, &r.request_id, &r.detail})
    a.emplace_back(json::string(*s));
  return json::Serialize(a);
}

std::string ChainHash(const std::string& prev_hash, const std::string& canonical) {
  std::string data = prev_hash;
  data += '\n';
  data += canonical;
  return Sha256Hex(data);
}

void Link(ToolCallRow& r, ChainHead& head) {
  r.seq = head.seq + 1;
  r.prev_hash = head.row_hash.empty() ? kGenesisHash : head.row_hash;
  r.row_hash = ChainHash(r.prev_hash, CanonicalToolCall(r));
  head.seq = r.seq;
  head.row_hash = r.row_hash;
}

void Link(AuditRow& r, ChainHead& head) {
  r.seq = head.seq + 1;
  r.prev_hash = head.row_hash.empty() ? kGenesisHash : head.row_hash;
  r.row_hash = ChainHash(r.prev_hash, CanonicalAudit(r));
  head.seq = r.seq;
  head.row_hash = r.row_hash;
}

VerifyReport VerifyToolCalls(Store& store) {
  return Verify<ToolCallRow>([&](const auto& fn) { return store.ScanToolCalls(fn); },
                             CanonicalToolCall);
}

VerifyReport VerifyAudit(Store& store) {
  return Verify<AuditRow>([&](const auto& fn) { return store.ScanAudit(fn); }, CanonicalAudit);
}

}  // namespace mcpgw::history
