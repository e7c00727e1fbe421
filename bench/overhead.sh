#!/usr/bin/env bash
# What the gateway itself adds to one tools/call, measured against a minimal stdio upstream
# (bench/lib/echo_server.py) so that the upstream's own pauses (a Node server's GC threads competing
# for the same 2 cores) do not blur the figure. Same run, interleaved rounds:
#   direct: bench/lib/stdio_probe.py drives the echo server over stdio, one call at a time
#   mcpgw:  wrk -c1 sends tools/call through build/mcpgw to the same echo server
# Prints p50/p99 of each and the difference. DURATION (seconds, default 8), ROUNDS (default 3).
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-8}
ROUNDS=${ROUNDS:-3}
TMP=$(mktemp -d)
GW_PID=""
cleanup() { [[ -n "$GW_PID" ]] && kill "$GW_PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$TMP"; }
trap cleanup EXIT
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >"$TMP/gw.yaml" <<YAML
listen: 127.0.0.1:$PORT
auth: {mode: off}
log_level: warn
servers:
  - name: echo
    command: [python3, $PWD/bench/lib/echo_server.py]
YAML
build/mcpgw serve --config "$TMP/gw.yaml" 2>"$TMP/gw.log" &
GW_PID=$!
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$PORT/ready" >/dev/null && break; sleep 0.1; done
SID=$(curl -si -H 'content-type: application/json' -H 'accept: application/json, text/event-stream' \
  "http://127.0.0.1:$PORT/mcp" \
  -d '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"bench","version":"1"}}}' |
  tr -d '\r' | awk -F': ' 'tolower($1)=="mcp-session-id"{print $2}')
[[ -n "$SID" ]] || { echo "overhead.sh: no session"; cat "$TMP/gw.log"; exit 1; }
export MCP_SESSION_ID=$SID MCP_PROTOCOL_VERSION=2025-11-25
to_us() { awk '{v=$1; if (v ~ /us$/) {sub(/us/,"",v); print v} else if (v ~ /ms$/) {sub(/ms/,"",v); print v*1000} else {sub(/s/,"",v); print v*1000000}}'; }
echo "| round | direct p50 | direct p99 | mcpgw p50 | mcpgw p99 | added p50 | added p99 | mcpgw checks |"
echo "|---|---|---|---|---|---|---|---|"
for r in $(seq "$ROUNDS"); do
  d=$(python3 bench/lib/stdio_probe.py "$DURATION" bench/lib/echo_server.py)
  dp50=$(python3 -c "import json,sys; print(round(json.loads(sys.argv[1])['p50_us']))" "$d")
  dp99=$(python3 -c "import json,sys; print(round(json.loads(sys.argv[1])['p99_us']))" "$d")
  out=$(MCP_ECHO_MESSAGE="mcpgw bench" wrk -t1 -c1 -d"${DURATION}s" --latency -s bench/mcp_call.lua "http://127.0.0.1:$PORT/mcp")
  gp50=$(echo "$out" | awk '$1=="50%"{print $2}' | to_us)
  gp99=$(echo "$out" | awk '$1=="99%"{print $2}' | to_us)
  checks=$(echo "$out" | grep -q "Non-2xx" && echo "NON-2XX" || echo ok)
  echo "| $r | ${dp50} µs | ${dp99} µs | ${gp50} µs | ${gp99} µs | $((${gp50%.*} - dp50)) µs | $((${gp99%.*} - dp99)) µs | $checks |"
done
