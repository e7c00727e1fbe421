#!/usr/bin/env bash
# What the gateway itself adds to one tools/call, measured against a minimal stdio upstream
# (bench/lib/echo_server.py) so that the upstream's own pauses (a Node server's GC threads competing
# for the same 2 cores) do not blur the figure. Same run, interleaved rounds:
#   direct:   bench/lib/stdio_probe.py drives the echo server over stdio, one call at a time
#   mcpgw:    wrk -c1 sends tools/call through build/mcpgw (auth off) to the same echo server
#   mcpgw+oauth: the same through a second gateway with OAuth on (RS256 JWT, verified then cached)
#   mcpgw+history sync / async: history recording on (SQLite in a temp dir), both durability modes
# Prints p50/p99 of each and the differences. DURATION (seconds, default 8), ROUNDS (default 3).
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-8}
ROUNDS=${ROUNDS:-3}
TMP=$(mktemp -d)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null; rm -rf "$TMP"; }
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# start_gateway NAME PORT EXTRA_YAML: starts build/mcpgw with the echo upstream.
start_gateway() {
  cat >"$TMP/$1.yaml" <<YAML
listen: 127.0.0.1:$2
log_level: warn
$3
servers:
  - name: echo
    command: [python3, $PWD/bench/lib/echo_server.py]
YAML
  build/mcpgw serve --config "$TMP/$1.yaml" 2>"$TMP/$1.log" &
  PIDS+=($!)
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$2/ready" >/dev/null && return 0; sleep 0.1; done
  echo "overhead.sh: gateway $1 did not become ready"; cat "$TMP/$1.log"; exit 1
}
# open_session PORT [AUTHORIZATION]: prints the session id.
open_session() {
  local auth=()
  [[ -n "${2:-}" ]] && auth=(-H "authorization: $2")
  curl -si "${auth[@]}" -H 'content-type: application/json' -H 'accept: application/json, text/event-stream' \
    "http://127.0.0.1:$1/mcp" \
    -d '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"bench","version":"1"}}}' |
    tr -d '\r' | awk -F': ' 'tolower($1)=="mcp-session-id"{print $2}'
}
to_us() { awk '{v=$1; if (v ~ /us$/) {sub(/us/,"",v); print v} else if (v ~ /ms$/) {sub(/ms/,"",v); print v*1000} else {sub(/s/,"",v); print v*1000000}}'; }
# run_wrk PORT SESSION AUTHORIZATION: prints "p50 p99" in µs; fails on non-2xx or bad bodies.
run_wrk() {
  local out
  out=$(MCP_SESSION_ID=$2 MCP_PROTOCOL_VERSION=2025-11-25 MCP_AUTHORIZATION=$3 MCP_ECHO_MESSAGE="mcpgw bench" \
    wrk -t1 -c1 -d"${DURATION}s" --latency -s bench/mcp_call.lua "http://127.0.0.1:$1/mcp")
  if echo "$out" | grep -q "Non-2xx"; then echo "overhead.sh: non-2xx responses" >&2; echo "$out" >&2; exit 3; fi
  echo "$(echo "$out" | awk '$1=="50%"{print $2}' | to_us) $(echo "$out" | awk '$1=="99%"{print $2}' | to_us)"
}

PLAIN=$(free_port); OAUTH=$(free_port); ISSUER_PORT=$(free_port); HSYNC=$(free_port); HASYNC=$(free_port)
ISSUER="http://127.0.0.1:$ISSUER_PORT"; AUDIENCE="http://127.0.0.1:$OAUTH/mcp"
node tests/tools/jwks-issuer.mjs "$ISSUER_PORT" "$ISSUER" "$AUDIENCE" >"$TMP/token" 2>"$TMP/issuer.log" &
PIDS+=($!)
for _ in $(seq 100); do [[ -s "$TMP/token" ]] && break; sleep 0.1; done
TOKEN="Bearer $(cat "$TMP/token")"
start_gateway plain "$PLAIN" "auth: {mode: off}
policy: {mode: off}
history: {enabled: false}"
start_gateway oauth "$OAUTH" "history: {enabled: false}
policy: {mode: off}
auth: {issuer: \"$ISSUER\", audience: \"$AUDIENCE\", jwks_uri: \"$ISSUER/jwks\", required_scopes: [mcp:read]}"
start_gateway hsync "$HSYNC" "auth: {mode: off}
policy: {mode: off}
history: {dsn: \"sqlite://$TMP/sync.db\", durability: sync}"
start_gateway hasync "$HASYNC" "auth: {mode: off}
policy: {mode: off}
history: {dsn: \"sqlite://$TMP/async.db\", durability: async}"
S_PLAIN=$(open_session "$PLAIN"); S_OAUTH=$(open_session "$OAUTH" "$TOKEN")
S_HSYNC=$(open_session "$HSYNC"); S_HASYNC=$(open_session "$HASYNC")
[[ -n "$S_PLAIN" && -n "$S_OAUTH" && -n "$S_HSYNC" && -n "$S_HASYNC" ]] || { echo "overhead.sh: no session"; cat "$TMP"/*.log; exit 1; }

echo "| round | direct p50 / p99 | mcpgw p50 / p99 | +oauth p50 / p99 | +history sync p50 / p99 | +history async p50 / p99 | added by mcpgw p50 / p99 | by oauth p50 | by history sync p50 | by history async p50 |"
echo "|---|---|---|---|---|---|---|---|---|---|"
for r in $(seq "$ROUNDS"); do
  d=$(python3 bench/lib/stdio_probe.py "$DURATION" bench/lib/echo_server.py)
  read -r dp50 dp99 < <(python3 -c "import json,sys; j=json.loads(sys.argv[1]); print(round(j['p50_us']), round(j['p99_us']))" "$d")
  read -r gp50 gp99 < <(run_wrk "$PLAIN" "$S_PLAIN" "")
  read -r ap50 ap99 < <(run_wrk "$OAUTH" "$S_OAUTH" "$TOKEN")
  read -r sp50 sp99 < <(run_wrk "$HSYNC" "$S_HSYNC" "")
  read -r yp50 yp99 < <(run_wrk "$HASYNC" "$S_HASYNC" "")
  echo "| $r | $dp50 / $dp99 µs | ${gp50%.*} / ${gp99%.*} µs | ${ap50%.*} / ${ap99%.*} µs | ${sp50%.*} / ${sp99%.*} µs | ${yp50%.*} / ${yp99%.*} µs | $((${gp50%.*} - dp50)) / $((${gp99%.*} - dp99)) µs | $((${ap50%.*} - ${gp50%.*})) µs | $((${sp50%.*} - ${gp50%.*})) µs | $((${yp50%.*} - ${gp50%.*})) µs |"
done
