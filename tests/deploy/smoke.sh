#!/usr/bin/env bash
# Smoke test of a running gateway, after a deploy (CI) or `make up`:
#   tests/deploy/smoke.sh BASE_URL [AUTH_SERVER_URL]
# Checks /health and /ready, the RFC 9728 metadata, that /mcp refuses a request without a token
# (401 + WWW-Authenticate). With AUTH_SERVER_URL (the development authorization server), it also
# gets a client-credentials token (SMOKE_CLIENT_ID / SMOKE_CLIENT_SECRET, default: the dev client
# svc-reporting) and runs initialize + tools/list through authentication and the policy.
# Needs only bash, curl and grep.
set -euo pipefail

base=${1:?usage: smoke.sh BASE_URL [AUTH_SERVER_URL]}
base=${base%/}
auth=${2:-}
tries=${SMOKE_TRIES:-30}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0
fail=0

ok() { echo "ok   $*"; pass=$((pass + 1)); }
bad() { echo "FAIL $*"; fail=$((fail + 1)); }

# status URL [curl args...]: prints the HTTP status, the body goes to $tmp/body, headers to $tmp/headers
status() {
  local url=$1
  shift
  : >"$tmp/body"
  : >"$tmp/headers"
  curl -s -o "$tmp/body" -D "$tmp/headers" -w '%{http_code}' --max-time 10 "$@" "$url" || true
}

# /health can take a moment after a rollout: retry.
code=000
for ((i = 0; i < tries; i++)); do
  code=$(status "$base/health")
  [[ $code == 200 ]] && break
  sleep 2
done
if [[ $code == 200 ]]; then ok "GET /health -> 200"; else bad "GET /health -> $code"; fi

code=000
for ((i = 0; i < tries; i++)); do
  code=$(status "$base/ready")
  [[ $code == 200 ]] && break
  sleep 2
done
if [[ $code == 200 ]]; then ok "GET /ready -> 200"; else bad "GET /ready -> $code ($(head -c 300 "$tmp/body"))"; fi

code=$(status "$base/.well-known/oauth-protected-resource/mcp")
if [[ $code == 200 ]] && grep -q '"authorization_servers"' "$tmp/body" && grep -q '"resource"' "$tmp/body"; then
  ok "GET /.well-known/oauth-protected-resource/mcp -> 200 with resource and authorization_servers"
else
  bad "GET /.well-known/oauth-protected-resource/mcp -> $code"
fi

init='{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"smoke","version":"1"}}}'
mcp_headers=(-H 'Content-Type: application/json' -H 'Accept: application/json, text/event-stream')
code=$(status "$base/mcp" -X POST "${mcp_headers[@]}" --data "$init")
if [[ $code == 401 ]] && grep -qi '^www-authenticate: Bearer .*resource_metadata=' "$tmp/headers"; then
  ok "POST /mcp without a token -> 401 with a Bearer challenge"
else
  bad "POST /mcp without a token -> $code"
fi

if [[ -n $auth ]]; then
  auth=${auth%/}
  client=${SMOKE_CLIENT_ID:-svc-reporting}
  secret=${SMOKE_CLIENT_SECRET:-svc-reporting-secret}
  code=$(status "$auth/token" -u "$client:$secret" --data-urlencode grant_type=client_credentials \
    --data-urlencode "scope=mcp:read" --data-urlencode "resource=$base/mcp")
  token=$(grep -o '"access_token" *: *"[^"]*"' "$tmp/body" | sed 's/.*"\([^"]*\)"$/\1/' || true)
  if [[ $code == 200 && -n $token ]]; then
    ok "client_credentials token from $auth"
    code=$(status "$base/mcp" -X POST "${mcp_headers[@]}" -H "Authorization: Bearer $token" --data "$init")
    session=$(grep -i '^mcp-session-id:' "$tmp/headers" | tr -d '\r' | cut -d' ' -f2 || true)
    if [[ $code == 200 && -n $session ]] && grep -q '"protocolVersion"' "$tmp/body"; then
      ok "initialize with the token -> 200, session $session"
      status "$base/mcp" -X POST "${mcp_headers[@]}" -H "Authorization: Bearer $token" -H "Mcp-Session-Id: $session" \
        -H 'MCP-Protocol-Version: 2025-06-18' --data '{"jsonrpc":"2.0","method":"notifications/initialized"}' >/dev/null
      code=$(status "$base/mcp" -X POST "${mcp_headers[@]}" -H "Authorization: Bearer $token" -H "Mcp-Session-Id: $session" \
        -H 'MCP-Protocol-Version: 2025-06-18' --data '{"jsonrpc":"2.0","id":2,"method":"tools/list"}')
      if [[ $code == 200 ]] && grep -q '"tools"' "$tmp/body"; then
        ok "tools/list through authentication and policy -> 200"
      else
        bad "tools/list -> $code ($(head -c 300 "$tmp/body"))"
      fi
    else
      bad "initialize with the token -> $code ($(head -c 300 "$tmp/body"))"
    fi
  else
    bad "client_credentials token from $auth -> $code ($(head -c 300 "$tmp/body"))"
  fi
fi

echo "smoke: $pass passed, $fail failed"
((fail == 0))
