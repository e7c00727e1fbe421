#!/usr/bin/env bash
# Remote policy decisions over loopback: `mcpgw pdp` serving OPA's Data API from the embedded
# engine, with the shipped policy and the benchmark data (bench/policy-data: 50 tools, 10 roles).
# wrk -c1 POSTs one decision at a time to /v1/data/mcp/authz/allow (keep-alive), which is what the
# gateway's OPA client does per call. Prints wrk's latency distribution; compare with
# build/bench/policy_bench (the same decision in-process). DURATION (seconds, default 8).
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-8}
TMP=$(mktemp -d)
PID=
cleanup() { [[ -n "$PID" ]] && kill "$PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$TMP"; }
trap cleanup EXIT
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
build/mcpgw pdp --addr "127.0.0.1:$PORT" -d services/opa/policies -d bench/policy-data \
  2>"$TMP/pdp.log" &
PID=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/health" >/dev/null && break; sleep 0.1; done
# The first request of the mix (an allowed tools/call), as {"input": ...}.
head -n 1 bench/policy-data/inputs.jsonl | python3 -c 'import json,sys; print(json.dumps({"input": json.load(sys.stdin)["input"]}))' >"$TMP/body.json"
echo "decision: $(curl -s -X POST --data-binary @"$TMP/body.json" "http://127.0.0.1:$PORT/v1/data/mcp/authz/allow")"
cat >"$TMP/post.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local f = io.open("$TMP/body.json"); wrk.body = f:read("*a"); f:close()
LUA
wrk -t1 -c1 -d"${DURATION}s" --latency -s "$TMP/post.lua" "http://127.0.0.1:$PORT/v1/data/mcp/authz/allow"
