#include "history/chain.h"

#include <charconv>

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

namespace {

// A canonical form: a JSON array written straight into one string, byte for byte what
// json::Serialize writes for the same json::array (which the first version built, copying every
// field; the form must never change, see chain_test's CanonicalForm). Computed for every row.
class CanonicalArray {
 public:
  explicit CanonicalArray(size_t reserve) {
    out_.reserve(reserve);
    out_ += '[';
  }
  CanonicalArray& Int(int64_t v) {
    Comma();
    char buf[24];
    auto end = std::to_chars(buf, buf + sizeof(buf), v).ptr;
    out_.append(buf, end);
    return *this;
  }
  CanonicalArray& Str(std::string_view s) {
    Comma();
    json::AppendString(out_, s);
    return *this;
  }
  std::string Close() && {
    out_ += ']';
    return std::move(out_);
  }

 private:
  void Comma() {
    if (out_.size() > 1) out_ += ',';
  }
  std::string out_;
};

}  // namespace

std::string CanonicalToolCall(const ToolCallRow& r) {
  size_t text = 0;
  const std::string* strings[] = {
      &r.request_id,  &r.trace_id,        &r.session_id,     &r.subject,     &r.roles,
      &r.tenant,      &r.client_name,     &r.client_version, &r.server,      &r.method,
      &r.target,      &r.action,          &r.args_redacted,  &r.args_sha256, &r.decision,
      &r.decision_id, &r.decision_reasons};
  for (const std::string* s : strings) text += s->size() + 3;
  CanonicalArray a(text + r.outcome.size() + 128);
  a.Int(r.seq).Int(r.ts_start_us).Int(r.ts_end_us);
  for (const std::string* s : strings) a.Str(*s);
  a.Int(r.http_status).Int(r.rpc_error_code).Int(r.is_error ? 1 : 0).Str(r.outcome);
  a.Int(r.latency_us).Int(r.result_bytes);
  return std::move(a).Close();
}

std::string CanonicalAudit(const AuditRow& r) {
  CanonicalArray a(r.kind.size() + r.subject.size() + r.request_id.size() + r.detail.size() + 64);
  a.Int(r.seq).Int(r.ts_us).Str(r.kind).Str(r.subject).Str(r.request_id).Str(r.detail);
  return std::move(a).Close();
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
