#!/usr/bin/env node
// Turns the JSON lines bench/run.sh collected into the Markdown report.
//
//   node report.mjs RESULTS.jsonl > latest.md
//
// Record kinds (one JSON object per line):
//   {"kind":"load","target":T,"round":R,"conc":C,"front_rss_kb":..,"total_rss_kb":..,
//    "wrk":{MCPBENCH line from mcp_call.lua} | "driver":{line from stdio_driver.mjs}}
//   {"kind":"warmup","target":T,"wrk":{...}}
//   {"kind":"idle","target":T,"sessions":N,"opened":N,"ms":..,"front_before_kb":..,
//    "front_after_kb":..,"total_before_kb":..,"total_after_kb":..}
//   {"kind":"skip"|"fail","target":T,"reason":"..."}
// Run parameters and versions come from BENCH_* environment variables set by run.sh.
// Exit status: 0 when every measured run passed its checks, 3 otherwise.

import { readFileSync } from 'node:fs';
import os from 'node:os';

const records = readFileSync(process.argv[2], 'utf8')
  .split('\n')
  .filter((l) => l.trim())
  .map((l) => JSON.parse(l));
const env = process.env;

const DESCRIPTIONS = {
  mcpgw: 'mcpgw → server-everything over stdio',
  'mcp-proxy': `mcp-proxy ${env.BENCH_V_MCP_PROXY || ''} → server-everything over stdio`,
  supergateway: `supergateway ${env.BENCH_V_SUPERGATEWAY || ''} \`--stateful\` → server-everything over stdio`,
  'direct-http': 'server-everything over Streamable HTTP, no proxy',
  'direct-stdio': 'server-everything over stdio driven directly (no HTTP at all)',
};
const ORDER = ['mcpgw', 'mcp-proxy', 'supergateway', 'direct-http', 'direct-stdio'];

const median = (xs) => {
  const v = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (!v.length) return NaN;
  const m = Math.floor(v.length / 2);
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
};
const ms = (us) => {
  if (!Number.isFinite(us)) return '—';
  const v = us / 1000;
  return `${v.toFixed(Math.abs(v) < 10 ? 2 : 1)} ms`;
};
const msSigned = (us) => (Number.isFinite(us) ? `${us >= 0 ? '+' : '−'}${ms(Math.abs(us))}` : '—');
const num = (x) => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : '—');
const mb = (kb) => (Number.isFinite(kb) && kb > 0 ? `${(kb / 1024).toFixed(kb < 100 * 1024 ? 1 : 0)} MB` : '—');
const ratio = (x) => (Number.isFinite(x) ? `${x.toFixed(2)}×` : '—');

// Normalizes a load record to {target, round, conc, rps, p50, p99, errors, detail, rss...}.
function normalize(r) {
  if (r.wrk) {
    const w = r.wrk;
    const parts = {
      non2xx: w.non2xx, badbody: w.badbody, badtype: w.badtype, badid: w.badid,
      connect: w.sock_connect, read: w.sock_read, write: w.sock_write, timeout: w.sock_timeout,
    };
    const errors = Object.values(parts).reduce((a, b) => a + (b || 0), 0) + (w.requests > 0 ? 0 : 1);
    const detail = Object.entries(parts).filter(([, v]) => v).map(([k, v]) => `${k} ${v}`).join(', ');
    return { ...r, rps: w.rps, p50: w.p50_us, p99: w.p99_us, requests: w.requests, errors,
             detail: detail || (w.requests > 0 ? '' : 'no requests') };
  }
  const d = r.driver;
  const errors = (d.bad || 0) + (d.requests > 0 ? 0 : 1);
  return { ...r, rps: d.rps, p50: d.p50_us, p99: d.p99_us, requests: d.requests, errors,
           detail: d.bad ? `bad ${d.bad}` : d.requests > 0 ? '' : 'no requests',
           front_rss_kb: d.server_rss_kb, total_rss_kb: d.server_rss_kb };
}

const loads = records.filter((r) => r.kind === 'load').map(normalize);
const warmups = records.filter((r) => r.kind === 'warmup').map(normalize);
const targets = ORDER.filter((t) => loads.some((r) => r.target === t));
const lo = Number(env.BENCH_CONC_LOW || 1);
const hi = Number(env.BENCH_CONC_HIGH || 32);
const rounds = [...new Set(loads.map((r) => r.round))].sort((a, b) => a - b);
const get = (t, c, round) => loads.find((r) => r.target === t && r.conc === c && r.round === round);
const series = (t, c, key) => loads.filter((r) => r.target === t && r.conc === c).map((r) => r[key]);

const out = [];
const p = (s = '') => out.push(s);

p('# mcpgw load benchmark');
p();
const cpu = env.BENCH_CPU || os.cpus()[0]?.model || 'unknown';
p(`- Date: ${env.BENCH_DATE || new Date().toISOString()}`);
p(`- Machine: ${env.BENCH_NPROC || os.availableParallelism()} CPUs (nproc), ${cpu}, ` +
  `${(os.totalmem() / 2 ** 30).toFixed(1)} GiB RAM, Linux ${os.release()}; load generator and servers share these CPUs`);
p(`- Software: node ${env.BENCH_NODE_VERSION || process.version}, ${env.BENCH_WRK_VERSION || 'wrk'}, ` +
  `server-everything ${env.BENCH_V_EVERYTHING || '?'}, mcp-proxy ${env.BENCH_V_MCP_PROXY || '?'}, ` +
  `supergateway ${env.BENCH_V_SUPERGATEWAY || '?'}, mcpgw ${env.BENCH_MCPGW_VERSION || '(not built)'}`);
p(`- Workload: \`tools/call\` of server-everything's \`echo\` tool, unique JSON-RPC id per request, one ` +
  `initialized session per target (Mcp-Session-Id and MCP-Protocol-Version headers); every response ` +
  `checked (2xx, JSON or SSE body, echoed text, id matches a request sent)`);
const nRounds = Number(env.BENCH_ROUNDS || rounds.length);
p(`- Runs: ${nRounds} interleaved round${nRounds === 1 ? '' : 's'} × ${env.BENCH_DURATION || '?'} per ` +
  `concurrency (${lo} and ${hi}), after a ${env.BENCH_WARMUP || '?'} warm-up per target; ` +
  `wrk ${env.BENCH_WRK_THREADS_HIGH || 2} threads at concurrency ${hi}, 1 at ${lo}; ` +
  `figures are medians over rounds`);
if (env.BENCH_SHORT === '1') p('- **Short development run** (not the default duration/rounds): read the ratios, not the absolutes');
p();

p(`| target | conc. ${lo}: p50 | conc. ${lo}: p99 | conc. ${lo}: req/s | conc. ${hi}: req/s | conc. ${hi}: p50 | ` +
  `conc. ${hi}: p99 | front RSS | total RSS | checks |`);
p('|---|---|---|---|---|---|---|---|---|---|');
let failed = false;
for (const t of targets) {
  const all = loads.filter((r) => r.target === t);
  const errs = all.reduce((a, r) => a + r.errors, 0);
  if (errs) failed = true;
  const last = all.filter((r) => r.conc === hi).sort((a, b) => a.round - b.round).at(-1) || all.at(-1);
  const checked = all.reduce((a, r) => a + (r.requests || 0), 0);
  const check = errs
    ? `**FAILED**: ${all.filter((r) => r.errors).map((r) => `r${r.round} c${r.conc}: ${r.detail}`).join('; ')}`
    : `ok (${num(checked)} responses)`;
  p(`| ${DESCRIPTIONS[t] || t} | ${ms(median(series(t, lo, 'p50')))} | ${ms(median(series(t, lo, 'p99')))} | ` +
    `${num(median(series(t, lo, 'rps')))} | ${num(median(series(t, hi, 'rps')))} | ` +
    `${ms(median(series(t, hi, 'p50')))} | ${ms(median(series(t, hi, 'p99')))} | ` +
    `${t === 'direct-stdio' ? '—' : mb(last?.front_rss_kb)} | ${mb(last?.total_rss_kb)} | ${check} |`);
}
for (const r of records.filter((x) => x.kind === 'skip' || x.kind === 'fail')) {
  if (r.kind === 'fail') failed = true;
  p(`| ${DESCRIPTIONS[r.target] || r.target} | ${r.kind === 'skip' ? 'skipped' : '**FAILED**'}: ${r.reason} |||||||||`);
}
p();
p('front RSS: VmRSS of the process the client talks to, read after the last round; total RSS adds all ' +
  'of its descendants (the stdio upstream; supergateway runs one per session). For the direct stdio ' +
  'driver, total RSS is server-everything itself.');
const badWarm = warmups.filter((r) => r.errors);
if (badWarm.length) {
  p();
  p(`Warm-up runs with failed checks (discarded, but worth a look): ` +
    badWarm.map((r) => `${r.target}: ${r.detail}`).join('; '));
}

// Ratios, computed round by round (targets measured in the same round), then the median.
p();
p('## Ratios (per round, same run; median over rounds)');
p();
const perRound = (f) => median(rounds.map(f));
const gw = 'mcpgw';
if (!targets.includes(gw)) {
  p('mcpgw was not measured in this run, so there are no gateway ratios. Peer-to-peer, for reference:');
  p();
}
const lines = [];
if (targets.includes(gw) && targets.includes('direct-stdio')) {
  const d50 = perRound((r) => (get(gw, lo, r)?.p50 ?? NaN) - (get('direct-stdio', lo, r)?.p50 ?? NaN));
  const d99 = perRound((r) => (get(gw, lo, r)?.p99 ?? NaN) - (get('direct-stdio', lo, r)?.p99 ?? NaN));
  lines.push(`- Gateway added latency at concurrency ${lo} (mcpgw − direct stdio): p50 ${msSigned(d50)}, p99 ${msSigned(d99)}`);
}
const base = targets.includes(gw) ? gw : null;
for (const peer of ['mcp-proxy', 'supergateway', 'direct-http']) {
  if (!targets.includes(peer)) continue;
  if (base) {
    const rr = perRound((r) => (get(base, hi, r)?.rps ?? NaN) / (get(peer, hi, r)?.rps ?? NaN));
    const lat = perRound((r) => (get(peer, lo, r)?.p50 ?? NaN) - (get(base, lo, r)?.p50 ?? NaN));
    lines.push(`- Throughput at concurrency ${hi}, mcpgw / ${peer}: ${ratio(rr)}; ` +
      `p50 at concurrency ${lo}, ${peer} − mcpgw: ${msSigned(lat)}`);
  } else if (targets.includes('direct-stdio')) {
    const d50 = perRound((r) => (get(peer, lo, r)?.p50 ?? NaN) - (get('direct-stdio', lo, r)?.p50 ?? NaN));
    const d99 = perRound((r) => (get(peer, lo, r)?.p99 ?? NaN) - (get('direct-stdio', lo, r)?.p99 ?? NaN));
    const rr = perRound((r) => (get(peer, hi, r)?.rps ?? NaN) / (get('direct-stdio', hi, r)?.rps ?? NaN));
    lines.push(`- ${peer}: added latency over direct stdio p50 ${msSigned(d50)}, p99 ${msSigned(d99)}; ` +
      `throughput / direct stdio ${ratio(rr)}`);
  }
}
if (!lines.length) lines.push('- (not enough targets measured for ratios)');
lines.forEach((l) => p(l));

const idles = records.filter((r) => r.kind === 'idle');
if (idles.length) {
  p();
  p('## Idle sessions');
  p();
  p('A fresh instance gets one session and one call (which starts the upstream); VmRSS is read ("before"), ' +
    'then the sessions are opened with `initialize` + `notifications/initialized` and left idle, and VmRSS ' +
    'is read again 2 s later ("after"). Per session = (after − before) / sessions opened.');
  p();
  p('| target | sessions opened | front RSS before | front RSS after | per session | total RSS after | time to open |');
  p('|---|---|---|---|---|---|---|');
  for (const r of idles) {
    const per = r.opened > 0 ? (r.front_after_kb - r.front_before_kb) / r.opened : NaN;
    if (r.opened !== r.sessions) failed = true;
    p(`| ${DESCRIPTIONS[r.target] || r.target} | ${num(r.opened)} of ${num(r.sessions)} | ${mb(r.front_before_kb)} | ` +
      `${mb(r.front_after_kb)} | ${Number.isFinite(per) ? `${per.toFixed(1)} KB` : '—'} | ${mb(r.total_after_kb)} | ` +
      `${(r.ms / 1000).toFixed(1)} s |`);
  }
}

p();
p('## Every run');
p();
p('| round | target | conc. | requests | req/s | p50 | p99 | checks |');
p('|---|---|---|---|---|---|---|---|');
for (const r of [...loads].sort((a, b) => a.round - b.round || ORDER.indexOf(a.target) - ORDER.indexOf(b.target) || a.conc - b.conc)) {
  p(`| ${r.round} | ${r.target} | ${r.conc} | ${num(r.requests)} | ${num(r.rps)} | ${ms(r.p50)} | ${ms(r.p99)} | ` +
    `${r.errors ? r.detail : 'ok'} |`);
}
if (failed) {
  p();
  p('**Some runs failed their checks; their figures are not comparable.**');
}
process.stdout.write(out.join('\n') + '\n');
process.exit(failed ? 3 : 0);
