#!/usr/bin/env bash
# The official MCP conformance suite (server mode) through the gateway, in three set-ups:
#   1. stdio upstream, post_response: auto (JSON when nothing streams; the default)
#   2. stdio upstream, post_response: sse  (every POST answered as SSE: all 40 active checks apply)
#   3. Streamable HTTP upstream, post_response: sse
# Each must pass every check it runs; set-ups 2 and 3 must pass all 40.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
total_pass=0; total_fail=0
run() {
  local label=$1; shift
  echo "=== conformance: $label"
  local out
  out=$(env "$@" tests/conformance/run.sh "${ARGS[@]}" 2>&1)
  local rc=$?
  echo "$out" | tail -n 8
  local last
  last=$(echo "$out" | grep -E '^[0-9]+ passed, [0-9]+ failed$' | tail -1)
  local p f
  p=$(echo "$last" | awk '{print $1}'); f=$(echo "$last" | awk '{print $3}')
  [[ -z "$p" ]] && { p=0; f=1; echo "$out" | tail -40; }
  [[ $rc -ne 0 && "$f" == 0 ]] && f=1
  [[ "$f" != 0 ]] && echo "$out" | tail -60
  total_pass=$((total_pass + p)); total_fail=$((total_fail + f))
}
ARGS=(); run "stdio upstream, post_response=auto" CONFORMANCE_POST_RESPONSE=auto CONFORMANCE_MIN_PASSED=39
ARGS=(); run "stdio upstream, post_response=sse" CONFORMANCE_POST_RESPONSE=sse CONFORMANCE_MIN_PASSED=40
ARGS=(--upstream http); run "HTTP upstream, post_response=sse" CONFORMANCE_POST_RESPONSE=sse CONFORMANCE_MIN_PASSED=40
echo ""
echo "conformance: $total_pass passed, $total_fail failed"
[[ $total_fail -eq 0 ]]
