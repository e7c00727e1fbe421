#!/usr/bin/env node
// Drives an MCP server over stdio directly (no HTTP anywhere): spawns it, initializes, then keeps
// N `tools/call echo` requests in flight for a fixed time and measures latency and throughput.
// This is the floor any HTTP front can only add to.
//
//   node stdio_driver.mjs --warmup SECONDS --duration SECONDS --conc 1,32
//                         [--message TEXT] -- node path/to/server-everything/dist/index.js
//
// Prints one JSON line per concurrency:
//   {"conc":N,"requests":..,"rps":..,"p50_us":..,"p99_us":..,"bad":..,"server_rss_kb":..}
// `bad` counts answers that are errors, carry an unknown id, or do not echo the text.

import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

const argv = process.argv.slice(2);
const sep = argv.indexOf('--');
if (sep < 0 || sep === argv.length - 1) {
  console.error('stdio_driver.mjs: give the server command after --');
  process.exit(2);
}
const opts = argv.slice(0, sep);
const command = argv.slice(sep + 1);
const opt = (name, dflt) => {
  const i = opts.indexOf(`--${name}`);
  return i >= 0 && i + 1 < opts.length ? opts[i + 1] : dflt;
};
const warmup = Number(opt('warmup', '5'));
const duration = Number(opt('duration', '10'));
const concs = opt('conc', '1,32').split(',').map(Number);
const message = opt('message', 'mcpgw bench');
const expected = `Echo: ${message}`;

const child = spawn(command[0], command.slice(1), { stdio: ['pipe', 'pipe', 'ignore'] });
child.on('exit', (code, signal) => {
  if (!finished) {
    console.error(`stdio_driver.mjs: server exited early (code ${code}, signal ${signal})`);
    process.exit(1);
  }
});
let finished = false;

const pending = new Map(); // id -> {start, resolve}
let bad = 0;
let buffered = '';
child.stdout.setEncoding('utf8');
child.stdout.on('data', (chunk) => {
  buffered += chunk;
  let nl;
  while ((nl = buffered.indexOf('\n')) >= 0) {
    const line = buffered.slice(0, nl);
    buffered = buffered.slice(nl + 1);
    if (!line.trim()) continue;
    let msg;
    try {
      msg = JSON.parse(line);
    } catch {
      bad++;
      continue;
    }
    if (msg.id === undefined || msg.method) continue; // notifications / server requests
    const p = pending.get(msg.id);
    if (!p) {
      bad++;
      continue;
    }
    pending.delete(msg.id);
    p.resolve(msg);
  }
});

let nextId = 1;
function call(method, params) {
  const id = nextId++;
  return new Promise((resolve) => {
    pending.set(id, { resolve });
    child.stdin.write(JSON.stringify({ jsonrpc: '2.0', id, method, params }) + '\n');
  });
}

function rssKb(pid) {
  try {
    const m = readFileSync(`/proc/${pid}/status`, 'utf8').match(/^VmRSS:\s+(\d+)/m);
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

const echoParams = { name: 'echo', arguments: { message } };

// Keeps `conc` calls in flight for `seconds`; returns latencies (ns) of calls completed in time.
async function load(conc, seconds, record) {
  const lat = [];
  const stopAt = process.hrtime.bigint() + BigInt(Math.round(seconds * 1e9));
  let stop = false;
  const worker = async () => {
    while (!stop) {
      const t0 = process.hrtime.bigint();
      const reply = await call('tools/call', echoParams);
      const t1 = process.hrtime.bigint();
      if (reply.error || reply.result?.content?.[0]?.text !== expected) bad++;
      if (t1 > stopAt) {
        stop = true;
        break;
      }
      if (record) lat.push(Number(t1 - t0));
    }
  };
  const t0 = process.hrtime.bigint();
  await Promise.all(Array.from({ length: conc }, worker));
  return { lat, elapsed: Number(process.hrtime.bigint() - t0) / 1e9 };
}

function pct(sorted, p) {
  if (!sorted.length) return 0;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

const init = await call('initialize', {
  protocolVersion: '2025-06-18',
  capabilities: {},
  clientInfo: { name: 'mcpgw-bench-stdio', version: '1.0.0' },
});
if (!init.result) {
  console.error(`stdio_driver.mjs: initialize failed: ${JSON.stringify(init)}`);
  process.exit(1);
}
child.stdin.write(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }) + '\n');

if (warmup > 0) await load(Math.max(...concs), warmup, false);
bad = 0;

for (const conc of concs) {
  const { lat, elapsed } = await load(conc, duration, true);
  const sorted = Float64Array.from(lat).sort();
  const us = (ns) => Math.round(ns / 1000);
  console.log(JSON.stringify({
    conc,
    requests: lat.length,
    duration_s: Number(elapsed.toFixed(3)),
    rps: Number((lat.length / elapsed).toFixed(1)),
    p50_us: us(pct(sorted, 50)),
    p90_us: us(pct(sorted, 90)),
    p99_us: us(pct(sorted, 99)),
    max_us: us(sorted.length ? sorted[sorted.length - 1] : 0),
    bad,
    server_rss_kb: rssKb(child.pid),
    driver_rss_kb: rssKb(process.pid),
  }));
  bad = 0;
}

finished = true;
child.kill('SIGTERM');
setTimeout(() => child.kill('SIGKILL'), 2000).unref();
