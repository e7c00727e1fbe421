-- wrk script: MCP Streamable HTTP `tools/call` of server-everything's `echo` tool.
--
-- Environment:
--   MCP_SESSION_ID        Mcp-Session-Id of an initialized session (required)
--   MCP_PROTOCOL_VERSION  negotiated protocol version, sent as MCP-Protocol-Version
--   MCP_ECHO_MESSAGE      text to echo (default "mcpgw bench")
--
-- Every request carries a unique JSON-RPC id (unique across wrk threads). Every response is
-- checked: HTTP status 2xx, Content-Type application/json or text/event-stream, the body holds
-- the echoed text, and the body's JSON-RPC id is one this thread sent and has not seen answered.
-- done() prints one machine-readable line, "MCPBENCH {json}", read by bench/run.sh.

local session = os.getenv("MCP_SESSION_ID") or ""
local version = os.getenv("MCP_PROTOCOL_VERSION") or "2025-06-18"
local message = os.getenv("MCP_ECHO_MESSAGE") or "mcpgw bench"
-- The echoed text as it appears inside the JSON body (JSON-escaped, as the server writes it).
local expected

local threads = {}
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("tid", counter)
  table.insert(threads, thread)
end

-- Per-thread state (each wrk thread has its own Lua state).
non2xx = 0
badbody = 0
badtype = 0
badid = 0
checked = 0
local next_id
local outstanding = {}
local headers

-- JSON string escaping as JSON.stringify does it (\" \\ \n ... \u00XX for other controls).
local escapes = { ['"'] = '\\"', ['\\'] = '\\\\', ['\b'] = '\\b', ['\f'] = '\\f',
                  ['\n'] = '\\n', ['\r'] = '\\r', ['\t'] = '\\t' }
local function json_escape(s)
  return (s:gsub('[%c"\\]', function(c)
    return escapes[c] or string.format("\\u%04x", string.byte(c))
  end))
end

function init(args)
  expected = "Echo: " .. json_escape(message)
  next_id = tid * 1000000000
  headers = {
    ["Content-Type"] = "application/json",
    ["Accept"] = "application/json, text/event-stream",
    ["Mcp-Session-Id"] = session,
    ["MCP-Protocol-Version"] = version,
  }
  -- Optional bearer token (MCP_AUTHORIZATION="Bearer ...") for a gateway with OAuth on.
  local authorization = os.getenv("MCP_AUTHORIZATION")
  if authorization and authorization ~= "" then headers["Authorization"] = authorization end
  body_head = '{"jsonrpc":"2.0","id":'
  body_tail = ',"method":"tools/call","params":{"name":"echo","arguments":{"message":' ..
              '"' .. json_escape(message) .. '"}}}'
end

function request()
  next_id = next_id + 1
  local id = string.format("%d", next_id)
  outstanding[id] = true
  return wrk.format("POST", nil, headers, body_head .. id .. body_tail)
end

function response(status, hdrs, body)
  checked = checked + 1
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
    return
  end
  local ctype
  for k, v in pairs(hdrs) do
    if string.lower(k) == "content-type" then ctype = string.lower(v) break end
  end
  if not ctype or not (ctype:find("application/json", 1, true) == 1 or
                       ctype:find("text/event-stream", 1, true) == 1) then
    badtype = badtype + 1
  end
  if not body or not body:find(expected, 1, true) or body:find('"error"', 1, true) then
    badbody = badbody + 1
  end
  local id = body and body:match('"id"%s*:%s*(%d+)')
  if id and outstanding[id] then
    outstanding[id] = nil
  else
    badid = badid + 1
  end
end

function done(summary, latency, requests)
  local t = { non2xx = 0, badbody = 0, badtype = 0, badid = 0, checked = 0 }
  for _, thread in ipairs(threads) do
    for k, _ in pairs(t) do
      t[k] = t[k] + (thread:get(k) or 0)
    end
  end
  local e = summary.errors
  local secs = summary.duration / 1e6
  io.write(string.format(
    'MCPBENCH {"requests":%d,"duration_s":%.3f,"rps":%.1f,"p50_us":%d,"p90_us":%d,"p99_us":%d,' ..
    '"max_us":%d,"mean_us":%.1f,"checked":%d,"non2xx":%d,"badbody":%d,"badtype":%d,"badid":%d,' ..
    '"sock_connect":%d,"sock_read":%d,"sock_write":%d,"sock_timeout":%d,"status_err":%d}\n',
    summary.requests, secs, summary.requests / secs,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, latency.mean, t.checked, t.non2xx, t.badbody, t.badtype, t.badid,
    e.connect, e.read, e.write, e.timeout, e.status))
end
