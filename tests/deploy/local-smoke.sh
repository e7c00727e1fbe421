#!/usr/bin/env bash
# Runs tests/deploy/smoke.sh (the post-deploy smoke test) against the real binary on this machine:
# `mcpgw auth-server` with the compose stack's auth-server configuration and `mcpgw serve` with
# OAuth against it and the shipped policy (embedded), on free loopback ports.
#   MCPGW=build/mcpgw tests/deploy/local-smoke.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
mcpgw=${MCPGW:-build/mcpgw}
[[ -x $mcpgw ]] || { echo "local-smoke: $mcpgw not built" >&2; exit 2; }
mcpgw=$(realpath "$mcpgw")

mkdir -p tests/.tmp
tmp=$(mktemp -d "$PWD/tests/.tmp/smoke-XXXXXX")
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

free_port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
aport=$(free_port)
gport=$(free_port)
while [[ $gport == "$aport" ]]; do gport=$(free_port); done

sed -e "s#^issuer: .*#issuer: http://127.0.0.1:${aport}#" \
  -e "s#^listen: .*#listen: 127.0.0.1:${aport}#" \
  -e "s#^keys_dir: .*#keys_dir: ${tmp}/keys#" \
  -e "s#^users_file: .*#users_file: ${PWD}/services/auth-server/users.yaml#" \
  -e "s#^default_audience: .*#default_audience: http://127.0.0.1:${gport}/mcp#" \
  compose/config/auth-server.yaml >"$tmp/auth-server.yaml"
cat >"$tmp/gateway.yaml" <<EOF
listen: 127.0.0.1:${gport}
log_format: json
policy:
  mode: embedded
  paths: [${PWD}/services/opa/policies, ${PWD}/services/opa/data]
history:
  dsn: sqlite://${tmp}/history.db
servers: []
EOF

(cd "$tmp" && exec env -i PATH="$PATH" LOG_FORMAT=json "$mcpgw" auth-server --config "$tmp/auth-server.yaml") >"$tmp/auth.log" 2>&1 &
pids+=($!)
(cd "$tmp" && exec env -i PATH="$PATH" OAUTH_ISSUER="http://127.0.0.1:${aport}" OAUTH_AUDIENCE="http://127.0.0.1:${gport}/mcp" \
  OAUTH_REQUIRED_SCOPES=mcp:read "$mcpgw" serve --config "$tmp/gateway.yaml") >"$tmp/gateway.log" 2>&1 &
pids+=($!)

if ! SMOKE_TRIES=20 tests/deploy/smoke.sh "http://127.0.0.1:${gport}" "http://127.0.0.1:${aport}"; then
  echo "--- auth-server log"; tail -n 20 "$tmp/auth.log"
  echo "--- gateway log"; tail -n 20 "$tmp/gateway.log"
  exit 1
fi
