#!/usr/bin/env bash
# What the gateway itself adds to one tools/call, measured against a minimal stdio upstream
# (bench/lib/echo_server.py) so that the upstream's own pauses (a Node server's GC threads competing
# for the same 2 cores) do not blur the figure. Same run, interleaved rounds:
#   direct:   bench/lib/stdio_probe.py drives the echo server over stdio, one call at a time
#   plain:    wrk -c1 sends tools/call through $BUILD/mcpgw (auth off) to the same echo server
#   oauth:    the same through a second gateway with OAuth on (RS256 JWT, verified then cached)
#   hsync / hasync: history recording on (SQLite in a temp dir), durability sync / async
# Within a round the measurements run in a rotated order (round r starts with the r-th), so no
# configuration always runs first or last. Prints p50/p99 of each per round, the differences, and
# the median over rounds (of each column; a difference's median is the median of the per-round
# differences). Environment: DURATION (seconds per measurement, default 5), ROUNDS (default 5),
# BUILD (build directory holding mcpgw, default build), PARTS (a subset of
# "direct plain oauth hsync hasync", default all; plain is always measured), BUSY_POLL_US (the
# gateways' busy_poll_us, default 0: so that every configuration can be compared with the loop
# polling too, not only the sync history one, whose recorder asks for polling during commits).
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-5}
ROUNDS=${ROUNDS:-5}
BUILD=${BUILD:-build}
BUSY_POLL_US=${BUSY_POLL_US:-0}
PARTS=" ${PARTS:-direct plain oauth hsync hasync} plain "
has() { [[ "$PARTS" == *" $1 "* ]]; }
TMP=$(mktemp -d)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null; rm -rf "$TMP"; }
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# start_gateway NAME PORT EXTRA_YAML: starts $BUILD/mcpgw with the echo upstream.
start_gateway() {
  cat >"$TMP/$1.yaml" <<YAML
listen: 127.0.0.1:$2
log_level: warn
busy_poll_us: $BUSY_POLL_US
$3
servers:
  - name: echo
    command: [python3, $PWD/bench/lib/echo_server.py]
YAML
  "$BUILD/mcpgw" serve --config "$TMP/$1.yaml" 2>"$TMP/$1.log" &
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
echo "overhead.sh: $(date '+%Y-%m-%d %H:%M %Z'), $BUILD/mcpgw, ROUNDS=$ROUNDS DURATION=${DURATION}s BUSY_POLL_US=$BUSY_POLL_US," \
  "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
if has oauth; then
  ISSUER="http://127.0.0.1:$ISSUER_PORT"; AUDIENCE="http://127.0.0.1:$OAUTH/mcp"
  node tests/tools/jwks-issuer.mjs "$ISSUER_PORT" "$ISSUER" "$AUDIENCE" >"$TMP/token" 2>"$TMP/issuer.log" &
  PIDS+=($!)
  for _ in $(seq 100); do [[ -s "$TMP/token" ]] && break; sleep 0.1; done
  TOKEN="Bearer $(cat "$TMP/token")"
fi
# session NAME PORT [AUTHORIZATION]: opens a session on gateway NAME, prints its id.
session() {
  local s
  s=$(open_session "$2" "${3:-}")
  [[ -n "$s" ]] || { echo "overhead.sh: no session on $1" >&2; cat "$TMP"/*.log >&2; exit 1; }
  echo "$s"
}
start_gateway plain "$PLAIN" "auth: {mode: off}
policy: {mode: off}
history: {enabled: false}"
S_PLAIN=$(session plain "$PLAIN")
if has oauth; then
  start_gateway oauth "$OAUTH" "history: {enabled: false}
policy: {mode: off}
auth: {issuer: \"$ISSUER\", audience: \"$AUDIENCE\", jwks_uri: \"$ISSUER/jwks\", required_scopes: [mcp:read]}"
  S_OAUTH=$(session oauth "$OAUTH" "$TOKEN")
fi
if has hsync; then
  start_gateway hsync "$HSYNC" "auth: {mode: off}
policy: {mode: off}
history: {dsn: \"sqlite://$TMP/sync.db\", durability: sync}"
  S_HSYNC=$(session hsync "$HSYNC")
fi
if has hasync; then
  start_gateway hasync "$HASYNC" "auth: {mode: off}
policy: {mode: off}
history: {dsn: \"sqlite://$TMP/async.db\", durability: async}"
  S_HASYNC=$(session hasync "$HASYNC")
fi

# measure NAME: appends "ROUND NAME p50 p99" (µs) to $TMP/results.
measure() {
  local p50 p99 d
  case $1 in
    direct)
      d=$(python3 bench/lib/stdio_probe.py "$DURATION" bench/lib/echo_server.py)
      read -r p50 p99 < <(python3 -c "import json,sys; j=json.loads(sys.argv[1]); print(j['p50_us'], j['p99_us'])" "$d") ;;
    plain) read -r p50 p99 < <(run_wrk "$PLAIN" "$S_PLAIN" "") ;;
    oauth) read -r p50 p99 < <(run_wrk "$OAUTH" "$S_OAUTH" "$TOKEN") ;;
    hsync) read -r p50 p99 < <(run_wrk "$HSYNC" "$S_HSYNC" "") ;;
    hasync) read -r p50 p99 < <(run_wrk "$HASYNC" "$S_HASYNC" "") ;;
  esac
  echo "$ROUND $1 $p50 $p99" >>"$TMP/results"
}
ORDER=()
for p in direct plain oauth hsync hasync; do has "$p" && ORDER+=("$p"); done
for ROUND in $(seq "$ROUNDS"); do
  n=${#ORDER[@]}
  for i in $(seq 0 $((n - 1))); do measure "${ORDER[$(((i + ROUND - 1) % n))]}"; done
  echo "overhead.sh: round $ROUND done, load average $(cut -d' ' -f1-3 /proc/loadavg)" >&2
done
echo "overhead.sh: load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
python3 - "$TMP/results" <<'PY'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    r, name, p50, p99 = line.split()
    rows.setdefault(int(r), {})[name] = (float(p50), float(p99))
names = [n for n in ("direct", "plain", "oauth", "hsync", "hasync") if n in rows[1]]
title = {"direct": "direct", "plain": "mcpgw", "oauth": "+oauth", "hsync": "+history sync",
         "hasync": "+history async"}
diffs = []  # (column title, per-round (p50, p99) difference)
if "direct" in names:
    diffs.append(("added by mcpgw",
                  lambda d: (d["plain"][0] - d["direct"][0], d["plain"][1] - d["direct"][1])))
for n, label in (("oauth", "by oauth"), ("hsync", "by history sync"),
                 ("hasync", "by history async")):
    if n in names:
        diffs.append((label, lambda d, n=n: (d[n][0] - d["plain"][0], d[n][1] - d["plain"][1])))
pair = lambda v: f"{v[0]:.0f} / {v[1]:.0f} µs"
signed = lambda v: f"{v[0]:+.0f} / {v[1]:+.0f} µs"
head = ["round"] + [title[n] for n in names] + [t for t, _ in diffs]
print("p50 / p99 per round; the last columns are differences (p50 / p99).")
print("| " + " | ".join(head) + " |")
print("|" + "---|" * len(head))
for r in sorted(rows):
    d = rows[r]
    print("| " + " | ".join([str(r)] + [pair(d[n]) for n in names] +
                            [signed(f(d)) for _, f in diffs]) + " |")
med = statistics.median
cells = ["**median**"]
for n in names:
    cells.append(pair((med([rows[r][n][0] for r in rows]), med([rows[r][n][1] for r in rows]))))
for _, f in diffs:
    vals = [f(rows[r]) for r in rows]
    cells.append(signed((med([v[0] for v in vals]), med([v[1] for v in vals]))))
print("| " + " | ".join(cells) + " |")
PY
