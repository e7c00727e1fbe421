// JSON-RPC 2.0 framing as MCP uses it: classify one message, validate its envelope, and build
// responses and errors. The error codes the gateway emits are defined here and nowhere else.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "json/json.h"

namespace mcpgw::jsonrpc {

// Standard JSON-RPC codes, then the gateway's own (JSON-RPC reserves -32000..-32099 for servers).
enum Code : int {
  kParseError = -32700,
  kInvalidRequest = -32600,
  kMethodNotFound = -32601,
  kInvalidParams = -32602,
  kInternalError = -32603,
  kUpstreamError = -32000,     // the upstream failed, crashed or is not running
  kRequestTimeout = -32001,    // the upstream did not answer in time (same code as the SDKs)
  kResourceNotFound = -32002,  // MCP's code for an unknown resource URI
  kOverloaded = -32003,        // too many sessions / requests in flight
  kPolicyDenied = -32004,      // the policy denied the request; data: {decision_id, reasons}
};

enum class Kind { kRequest, kNotification, kResponse };

// One parsed, envelope-valid message. `doc` owns the whole JSON object.
struct Message {
  Kind kind = Kind::kRequest;
  json::value doc;
  std::string method;  // requests and notifications

  const json::object& obj() const { return doc.get_object(); }
  json::object& obj() { return doc.as_object(); }
  // The id (requests and responses); null for notifications.
  const json::value& id() const;
  // params, or nullptr when absent.
  const json::value* params() const { return obj().if_contains("params"); }
  bool is_error_response() const { return kind == Kind::kResponse && obj().contains("error"); }
};

// Parses and validates one message. Errors carry code kParseError (not JSON) or kInvalidRequest
// (JSON, but not a JSON-RPC 2.0 message: a batch, wrong "jsonrpc", bad id, no method, ...).
Result<Message> Parse(std::string_view text);
// The JSON text of a message or batch; an error is a JSON-RPC parse error (kParseError).
Result<json::value> ParseJson(std::string_view text);
Result<Message> FromValue(json::value v);
// Parses one message or a JSON-RPC batch (MCP 2025-03-26 lets a peer send them; later revisions
// removed them): one result per message, in order. Text that is not JSON, or an empty batch, is
// one error.
std::vector<Result<Message>> ParseMessages(std::string_view text);

// Serialized responses.
std::string MakeResult(const json::value& id, const json::value& result);
std::string MakeErrorResponse(const json::value& id, int code, std::string_view message);
std::string MakeNotification(std::string_view method, const json::value& params);
std::string MakeRequest(const json::value& id, std::string_view method, const json::value& params);

}  // namespace mcpgw::jsonrpc
