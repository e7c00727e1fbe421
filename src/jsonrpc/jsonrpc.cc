#include "jsonrpc/jsonrpc.h"

namespace mcpgw::jsonrpc {
namespace {

const json::value kNull;

bool ValidId(const json::value& id) {
  // MCP: ids are strings or integers, never null. Fractional numbers are not ids either.
  return id.is_string() || id.is_int64() || id.is_uint64();
}

}  // namespace

const json::value& Message::id() const {
  const json::value* v = obj().if_contains("id");
  return v ? *v : kNull;
}

Result<json::value> ParseJson(std::string_view text) {
  auto v = json::Parse(text);
  if (!v.ok()) return mcpgw::MakeError("Parse error: " + v.error().message, kParseError);
  return v;
}

Result<Message> Parse(std::string_view text) {
  auto v = ParseJson(text);
  if (!v.ok()) return v.error();
  return FromValue(std::move(v).value());
}

std::vector<Result<Message>> ParseMessages(std::string_view text) {
  std::vector<Result<Message>> out;
  auto v = ParseJson(text);
  if (!v.ok()) {
    out.emplace_back(v.error());
    return out;
  }
  if (!v->is_array()) {
    out.emplace_back(FromValue(std::move(v).value()));
    return out;
  }
  json::array& batch = v->get_array();
  if (batch.empty()) {
    out.emplace_back(mcpgw::MakeError("Invalid Request: an empty batch", kInvalidRequest));
    return out;
  }
  out.reserve(batch.size());
  for (auto& member : batch) out.emplace_back(FromValue(std::move(member)));
  return out;
}

Result<Message> FromValue(json::value v) {
  if (v.is_array())
    return mcpgw::MakeError("Invalid Request: JSON-RPC batches are not supported", kInvalidRequest);
  if (!v.is_object())
    return mcpgw::MakeError("Invalid Request: a message must be a JSON object", kInvalidRequest);
  const json::object& o = v.get_object();
  if (json::FindString(o, "jsonrpc") != "2.0") {
    return mcpgw::MakeError("Invalid Request: \"jsonrpc\" must be \"2.0\"", kInvalidRequest);
  }
  Message m;
  const json::value* method = o.if_contains("method");
  const json::value* id = o.if_contains("id");
  if (method) {
    if (!method->is_string() || method->get_string().empty()) {
      return mcpgw::MakeError("Invalid Request: \"method\" must be a non-empty string",
                              kInvalidRequest);
    }
    if (const json::value* p = o.if_contains("params"); p && !p->is_object() && !p->is_array()) {
      return mcpgw::MakeError("Invalid Request: \"params\" must be an object", kInvalidRequest);
    }
    m.method = std::string(method->get_string());
    if (id) {
      if (!ValidId(*id)) {
        return mcpgw::MakeError("Invalid Request: \"id\" must be a string or an integer",
                                kInvalidRequest);
      }
      m.kind = Kind::kRequest;
    } else {
      m.kind = Kind::kNotification;
    }
  } else {
    bool has_result = o.contains("result");
    bool has_error = o.contains("error");
    if (!id || has_result == has_error) {
      return mcpgw::MakeError("Invalid Request: neither a request, a notification nor a response",
                              kInvalidRequest);
    }
    if (!ValidId(*id) && !(has_error && id->is_null())) {
      return mcpgw::MakeError("Invalid Request: \"id\" must be a string or an integer",
                              kInvalidRequest);
    }
    if (has_error) {
      const json::object* err = json::FindObject(o, "error");
      if (!err || !json::Find(*err, "code") || !json::Find(*err, "code")->is_number()) {
        return mcpgw::MakeError("Invalid Request: \"error\" must be an object with a numeric code",
                                kInvalidRequest);
      }
    }
    m.kind = Kind::kResponse;
  }
  m.doc = std::move(v);
  return m;
}

std::string MakeResult(const json::value& id, const json::value& result) {
  std::string out = "{\"jsonrpc\":\"2.0\",\"id\":";
  out += json::Serialize(id);
  out += ",\"result\":";
  out += json::Serialize(result);
  out += '}';
  return out;
}

std::string MakeErrorResponse(const json::value& id, int code, std::string_view message) {
  json::object err;
  err["code"] = code;
  err["message"] = message;
  json::object o;
  o["jsonrpc"] = "2.0";
  o["id"] = id;
  o["error"] = std::move(err);
  return json::Serialize(o);
}

namespace {

// {"jsonrpc":"2.0"[,"id":ID],"method":METHOD[,"params":PARAMS]}, written out directly rather than
// built as an object first (which would copy the params).
std::string MakeCall(const json::value* id, std::string_view method, const json::value& params) {
  std::string out = "{\"jsonrpc\":\"2.0\"";
  if (id) {
    out += ",\"id\":";
    out += json::Serialize(*id);
  }
  out += ",\"method\":";
  json::AppendString(out, method);
  if (!params.is_null()) {
    out += ",\"params\":";
    out += json::Serialize(params);
  }
  out += '}';
  return out;
}

}  // namespace

std::string MakeNotification(std::string_view method, const json::value& params) {
  return MakeCall(nullptr, method, params);
}

std::string MakeRequest(const json::value& id, std::string_view method, const json::value& params) {
  return MakeCall(&id, method, params);
}

}  // namespace mcpgw::jsonrpc
