#include "history/row_json.h"

#include "json/json.h"

namespace mcpgw::history {
namespace {

int64_t Int(const json::object& o, std::string_view k) {
  const json::value* v = o.if_contains(k);
  if (!v) return 0;
  if (v->is_int64()) return v->get_int64();
  if (v->is_uint64()) return static_cast<int64_t>(v->get_uint64());
  return 0;
}
std::string Str(const json::object& o, std::string_view k) {
  return std::string(json::FindString(o, k));
}

}  // namespace

std::string ToolCallToJson(const ToolCallRow& r) {
  json::object o;
  o["t"] = "call";
  o["ts_start_us"] = r.ts_start_us;
  o["ts_end_us"] = r.ts_end_us;
  o["request_id"] = r.request_id;
  o["trace_id"] = r.trace_id;
  o["session_id"] = r.session_id;
  o["subject"] = r.subject;
  o["roles"] = r.roles;
  o["tenant"] = r.tenant;
  o["client_name"] = r.client_name;
  o["client_version"] = r.client_version;
  o["server"] = r.server;
  o["method"] = r.method;
  o["target"] = r.target;
  o["action"] = r.action;
  o["args_redacted"] = r.args_redacted;
  o["args_sha256"] = r.args_sha256;
  o["decision"] = r.decision;
  o["decision_id"] = r.decision_id;
  o["decision_reasons"] = r.decision_reasons;
  o["http_status"] = r.http_status;
  o["rpc_error_code"] = r.rpc_error_code;
  o["is_error"] = r.is_error;
  o["outcome"] = r.outcome;
  o["latency_us"] = r.latency_us;
  o["result_bytes"] = r.result_bytes;
  return json::Serialize(o);
}

std::string AuditToJson(const AuditRow& r) {
  json::object o;
  o["t"] = "audit";
  o["ts_us"] = r.ts_us;
  o["kind"] = r.kind;
  o["subject"] = r.subject;
  o["request_id"] = r.request_id;
  o["detail"] = r.detail;
  return json::Serialize(o);
}

Result<SpoolEntry> ParseSpoolLine(std::string_view line) {
  auto v = json::Parse(line);
  if (!v.ok() || !v->is_object()) return MakeError("spool line is not a JSON object");
  const json::object& o = v->get_object();
  SpoolEntry e;
  std::string_view t = json::FindString(o, "t");
  if (t == "audit") {
    e.is_call = false;
    e.audit.ts_us = Int(o, "ts_us");
    e.audit.kind = Str(o, "kind");
    e.audit.subject = Str(o, "subject");
    e.audit.request_id = Str(o, "request_id");
    e.audit.detail = Str(o, "detail");
    return e;
  }
  if (t != "call") return MakeError("spool line of unknown type");
  ToolCallRow& r = e.call;
  r.ts_start_us = Int(o, "ts_start_us");
  r.ts_end_us = Int(o, "ts_end_us");
  r.request_id = Str(o, "request_id");
  r.trace_id = Str(o, "trace_id");
  r.session_id = Str(o, "session_id");
  r.subject = Str(o, "subject");
  r.roles = Str(o, "roles");
  r.tenant = Str(o, "tenant");
  r.client_name = Str(o, "client_name");
  r.client_version = Str(o, "client_version");
  r.server = Str(o, "server");
  r.method = Str(o, "method");
  r.target = Str(o, "target");
  r.action = Str(o, "action");
  r.args_redacted = Str(o, "args_redacted");
  r.args_sha256 = Str(o, "args_sha256");
  r.decision = Str(o, "decision");
  r.decision_id = Str(o, "decision_id");
  r.decision_reasons = Str(o, "decision_reasons");
  r.http_status = static_cast<int>(Int(o, "http_status"));
  r.rpc_error_code = static_cast<int>(Int(o, "rpc_error_code"));
  const json::value* ie = o.if_contains("is_error");
  r.is_error = ie && ie->is_bool() && ie->get_bool();
  r.outcome = Str(o, "outcome");
  r.latency_us = Int(o, "latency_us");
  r.result_bytes = Int(o, "result_bytes");
  return e;
}

}  // namespace mcpgw::history
