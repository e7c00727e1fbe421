#!/usr/bin/env node
// Opens MCP Streamable HTTP sessions against one endpoint: initialize, then
// notifications/initialized, then (optionally) one tools/call of `echo` as a sanity check.
//
//   node session.mjs --url http://127.0.0.1:PORT/mcp [--count N] [--concurrency K]
//                    [--wait SECONDS] [--check-echo TEXT] [--protocol-version V] [--format json|lines]
//                    [--pid PID]
//
// Prints one JSON line: {"session": first session id, "protocolVersion": negotiated version,
// "opened": sessions opened, "ms": elapsed} (with --format lines: those four values, one per line).
// Exits non-zero with a message on stderr on failure.
// With --wait, connection errors are retried until the deadline (used as the readiness probe);
// with --pid too, the wait ends early if that process exits.

import { readFileSync } from 'node:fs';

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : dflt;
};
const url = opt('url');
const count = Number(opt('count', '1'));
const concurrency = Number(opt('concurrency', '8'));
const waitSeconds = Number(opt('wait', '0'));
const checkEcho = opt('check-echo', '');
const requestedVersion = opt('protocol-version', '2025-06-18');
const watchPid = Number(opt('pid', '0')); // with --wait: give up as soon as this process is gone
const format = opt('format', 'json'); // json | lines (session, protocolVersion, opened, ms: one per line)
if (!url) {
  console.error('session.mjs: --url is required');
  process.exit(2);
}

const ACCEPT = 'application/json, text/event-stream';

// Returns the JSON-RPC messages carried by a response, whichever of the two POST answer forms
// (application/json or text/event-stream) the server picked.
async function messagesOf(res) {
  const type = (res.headers.get('content-type') || '').toLowerCase();
  const text = await res.text();
  if (type.startsWith('application/json')) {
    const parsed = JSON.parse(text);
    return Array.isArray(parsed) ? parsed : [parsed];
  }
  if (type.startsWith('text/event-stream')) {
    const out = [];
    for (const event of text.split(/\r?\n\r?\n/)) {
      const data = event
        .split(/\r?\n/)
        .filter((l) => l.startsWith('data:'))
        .map((l) => l.slice(5).replace(/^ /, ''))
        .join('\n');
      if (data) out.push(JSON.parse(data));
    }
    return out;
  }
  if (text.length === 0) return [];
  throw new Error(`unexpected content-type "${type}" (status ${res.status}): ${text.slice(0, 200)}`);
}

async function post(body, headers) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: ACCEPT, ...headers },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(15000),
  });
  return res;
}

let nextId = 1;
async function openSession() {
  const initId = nextId++;
  const res = await post({
    jsonrpc: '2.0',
    id: initId,
    method: 'initialize',
    params: {
      protocolVersion: requestedVersion,
      capabilities: {},
      clientInfo: { name: 'mcpgw-bench', version: '1.0.0' },
    },
  });
  if (res.status !== 200) {
    throw new Error(`initialize: HTTP ${res.status}: ${(await res.text()).slice(0, 300)}`);
  }
  const session = res.headers.get('mcp-session-id');
  const msgs = await messagesOf(res);
  const reply = msgs.find((m) => m.id === initId);
  if (!reply || !reply.result) {
    throw new Error(`initialize: no result in ${JSON.stringify(msgs).slice(0, 300)}`);
  }
  if (!session) throw new Error('initialize: no Mcp-Session-Id header in the response');
  const protocolVersion = reply.result.protocolVersion;
  const headers = { 'mcp-session-id': session, 'mcp-protocol-version': protocolVersion };

  const note = await post({ jsonrpc: '2.0', method: 'notifications/initialized' }, headers);
  await note.text();
  if (note.status < 200 || note.status > 299) {
    throw new Error(`notifications/initialized: HTTP ${note.status}`);
  }
  return { session, protocolVersion, headers };
}

async function echoCheck(headers) {
  const id = nextId++;
  const res = await post(
    { jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'echo', arguments: { message: checkEcho } } },
    headers,
  );
  if (res.status !== 200) throw new Error(`tools/call echo: HTTP ${res.status}: ${(await res.text()).slice(0, 300)}`);
  const reply = (await messagesOf(res)).find((m) => m.id === id);
  const text = reply?.result?.content?.[0]?.text;
  if (text !== `Echo: ${checkEcho}`) {
    throw new Error(`tools/call echo: unexpected answer ${JSON.stringify(reply).slice(0, 300)}`);
  }
}

const isConnectionError = (e) =>
  e?.cause?.code === 'ECONNREFUSED' || e?.cause?.code === 'ECONNRESET' || e?.name === 'TimeoutError' ||
  /fetch failed/.test(String(e?.message));

function alive(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

async function closeSession(headers) {
  try {
    const res = await fetch(url, { method: 'DELETE', headers, signal: AbortSignal.timeout(5000) });
    await res.text();
  } catch {
    // best effort
  }
}

// The first session, and (with --check-echo) one echo call through it. With --wait, both are retried
// until the deadline: a server may accept connections before its upstream is ready (a gateway
// answering "Unknown tool" while its stdio server is still starting), and that is start-up, not load.
async function firstSession() {
  const deadline = Date.now() + waitSeconds * 1000;
  for (;;) {
    let s;
    try {
      s = await openSession();
      if (checkEcho) await echoCheck(s.headers);
      return s;
    } catch (e) {
      if (watchPid && !alive(watchPid)) throw new Error(`the server process (pid ${watchPid}) exited`);
      if (Date.now() < deadline && (isConnectionError(e) || s)) {
        if (s) await closeSession(s.headers);
        await new Promise((r) => setTimeout(r, 200));
        continue;
      }
      throw e;
    }
  }
}

const started = Date.now();
try {
  const first = await firstSession();
  let opened = 1;
  let remaining = count - 1;
  const worker = async () => {
    while (remaining > 0) {
      remaining--;
      await openSession();
      opened++;
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, concurrency) }, worker));
  const out = { session: first.session, protocolVersion: first.protocolVersion, opened, ms: Date.now() - started };
  console.log(format === 'lines' ? Object.values(out).join('\n') : JSON.stringify(out));
} catch (e) {
  console.error(`session.mjs (${url}): ${e?.message || e}${e?.cause ? ` (${e.cause.code || e.cause})` : ''}`);
  process.exit(1);
}
