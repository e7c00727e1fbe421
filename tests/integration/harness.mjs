// Shared helpers for mcpgw's end-to-end tests (node:test).
//
// startGateway() writes a temporary config, picks a free loopback port, starts build/mcpgw from the
// repository root, waits for GET /health, and captures stderr. gw.stop() sends SIGTERM (SIGKILL
// after a grace period), then checks that none of the processes the gateway had started are left
// running or as zombies (their pids are sampled from /proc while the gateway runs).
//
// Also: a small YAML writer, MCP SDK client factories, raw HTTP helpers that understand both
// JSON and SSE POST responses, and startAuthServer() for the development authorization server
// (`mcpgw auth-server` on a free port with a temporary keys_dir; hashPassword() for its users).
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import {
  CreateMessageRequestSchema,
  ElicitRequestSchema,
  ListRootsRequestSchema,
} from '@modelcontextprotocol/sdk/types.js';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const GATEWAY_BIN = process.env.MCPGW_BIN
  ? path.resolve(process.env.MCPGW_BIN)
  : path.join(REPO_ROOT, 'build', 'mcpgw');
export const NODE_MODULES = path.join(REPO_ROOT, 'tests', 'node_modules');
export const CHAOS_SERVER = 'tests/fixtures/chaos-server.mjs'; // relative: resolved from the repo root
export const EVERYTHING_JS = 'tests/node_modules/@modelcontextprotocol/server-everything/dist/index.js';
export const FILESYSTEM_JS = 'tests/node_modules/@modelcontextprotocol/server-filesystem/dist/index.js';
export const MEMORY_JS = 'tests/node_modules/@modelcontextprotocol/server-memory/dist/index.js';
export const EVERYTHING_HTTP_JS = 'tests/integration/everything-http.mjs';

export const gatewayExists = () => fs.existsSync(GATEWAY_BIN);
/** Options for describe()/test() that skip with a clear reason when the binary is not built. */
export const needsGateway = () => (gatewayExists() ? {} : { skip: `${GATEWAY_BIN} not built` });

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
// A timer that does not keep the test process alive: for races against an event that normally wins.
const unrefSleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms).unref());

const tmpDirs = [];
/** A fresh temporary directory, removed when the test process exits (unless MCPGW_KEEP_TMP=1). */
export function tmpDir(prefix = 'mcpgw-test-') {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  tmpDirs.push(d);
  return d;
}
process.on('exit', () => {
  if (process.env.MCPGW_KEEP_TMP === '1') return;
  for (const d of tmpDirs) {
    try {
      fs.rmSync(d, { recursive: true, force: true });
    } catch {
      /* best effort */
    }
  }
});

/** A port that was free a moment ago on 127.0.0.1. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

// ---------------------------------------------------------------------------------------------
// YAML writer (block style; strings always double-quoted so nothing is reinterpreted)

function yamlScalar(v) {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'boolean' || typeof v === 'number') return String(v);
  return JSON.stringify(String(v));
}

function yamlKey(k) {
  return /^[A-Za-z_][A-Za-z0-9_.-]*$/.test(k) ? k : JSON.stringify(k);
}

const isPlainObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);

function yamlLines(value, indent) {
  const pad = ' '.repeat(indent);
  const out = [];
  if (Array.isArray(value)) {
    for (const item of value) {
      if (isPlainObject(item) && Object.keys(item).length > 0) {
        const inner = yamlLines(item, indent + 2);
        out.push(`${pad}- ${inner[0].trimStart()}`, ...inner.slice(1));
      } else if (Array.isArray(item) && item.length > 0) {
        out.push(`${pad}-`, ...yamlLines(item, indent + 2));
      } else {
        out.push(`${pad}- ${yamlInline(item)}`);
      }
    }
  } else {
    for (const [k, v] of Object.entries(value)) {
      if ((isPlainObject(v) && Object.keys(v).length > 0) || (Array.isArray(v) && v.length > 0)) {
        out.push(`${pad}${yamlKey(k)}:`, ...yamlLines(v, indent + 2));
      } else {
        out.push(`${pad}${yamlKey(k)}: ${yamlInline(v)}`);
      }
    }
  }
  return out;
}

function yamlInline(v) {
  if (Array.isArray(v)) return '[]';
  if (isPlainObject(v)) return '{}';
  return yamlScalar(v);
}

export function toYaml(obj) {
  return `${yamlLines(obj, 0).join('\n')}\n`;
}

// ---------------------------------------------------------------------------------------------
// /proc helpers

function readStat(pid) {
  try {
    const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const close = s.lastIndexOf(')');
    const comm = s.slice(s.indexOf('(') + 1, close);
    const f = s.slice(close + 2).split(' ');
    // f[0] = state (field 3), f[1] = ppid (field 4), f[19] = starttime (field 22)
    return { pid, comm, state: f[0], ppid: Number(f[1]), starttime: f[19] };
  } catch {
    return null;
  }
}

function cmdline(pid) {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
  } catch {
    return '';
  }
}

/** {pid, comm, state, ppid, starttime} of a live (or zombie) process, or null when it is gone. */
export const procStat = readStat;

/** All descendants of pid (children, grandchildren, ...), each with state and starttime. */
export function descendants(rootPid) {
  const byParent = new Map();
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const st = readStat(Number(name));
    if (!st) continue;
    if (!byParent.has(st.ppid)) byParent.set(st.ppid, []);
    byParent.get(st.ppid).push(st);
  }
  const out = [];
  const queue = [rootPid];
  while (queue.length) {
    const p = queue.shift();
    for (const child of byParent.get(p) ?? []) {
      out.push({ ...child, cmd: cmdline(child.pid) });
      queue.push(child.pid);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Gateway process

export class Gateway {
  constructor({ proc, port, configPath, dir }) {
    this.proc = proc;
    this.port = port;
    this.configPath = configPath;
    this.dir = dir;
    this.url = `http://127.0.0.1:${port}`;
    this.mcpUrl = `${this.url}/mcp`;
    this.stderr = '';
    this.stdout = '';
    this.exit = null; // {code, signal} once exited
    this.seenChildren = new Map(); // pid -> {pid, starttime, cmd}
    this.exited = new Promise((resolve) => {
      proc.on('exit', (code, signal) => {
        this.exit = { code, signal };
        resolve(this.exit);
      });
    });
    proc.stderr.setEncoding('utf8');
    proc.stdout.setEncoding('utf8');
    proc.stderr.on('data', (d) => {
      this.stderr += d;
      if (process.env.MCPGW_TEST_VERBOSE) process.stderr.write(d);
    });
    proc.stdout.on('data', (d) => {
      this.stdout += d;
    });
    // Sample the gateway's descendants regularly so that short-lived upstreams are seen too.
    this._sampler = setInterval(() => this.recordChildren(), 200);
    this._sampler.unref();
  }

  get pid() {
    return this.proc.pid;
  }

  /** Records (and returns) the gateway's current descendants. */
  recordChildren() {
    if (this.exit) return [];
    const now = descendants(this.proc.pid);
    for (const c of now) this.seenChildren.set(`${c.pid}:${c.starttime}`, c);
    return now;
  }

  /** Current children of the gateway that are zombies (exited but not reaped). */
  zombieChildren() {
    return descendants(this.proc.pid).filter((c) => c.state === 'Z' && c.ppid === this.proc.pid);
  }

  /** stderr parsed as JSON lines (lines that are not JSON are returned as {_raw: line}). */
  logs() {
    return this.stderr
      .split('\n')
      .filter((l) => l.trim())
      .map((l) => {
        try {
          return JSON.parse(l);
        } catch {
          return { _raw: l };
        }
      });
  }

  /**
   * Stops the gateway (SIGTERM, then SIGKILL after graceMs) and reports what it left behind.
   * Returns {exit, killed, leftovers: [{pid, cmd, state}]}. Leftover processes are killed.
   */
  async stop({ graceMs = 5000 } = {}) {
    clearInterval(this._sampler);
    let killed = false;
    if (!this.exit) {
      this.recordChildren();
      this.proc.kill('SIGTERM');
      const t = await Promise.race([this.exited, unrefSleep(graceMs).then(() => null)]);
      if (!t) {
        killed = true;
        this.proc.kill('SIGKILL');
        await this.exited;
      }
    }
    // Give the kernel / init a moment to reap reparented processes.
    let leftovers = [];
    for (let i = 0; i < 20; i++) {
      leftovers = [];
      for (const c of this.seenChildren.values()) {
        const st = readStat(c.pid);
        if (st && st.starttime === c.starttime) leftovers.push({ pid: c.pid, cmd: c.cmd, state: st.state, ppid: st.ppid });
      }
      if (leftovers.length === 0) break;
      await sleep(100);
    }
    for (const l of leftovers) {
      try {
        process.kill(l.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
    return { exit: this.exit, killed, leftovers };
  }

  /** stop() and assert (via the given assert module) that nothing was left behind. */
  async stopAndCheck(assert) {
    const r = await this.stop();
    assert.deepEqual(
      r.leftovers,
      [],
      `gateway left processes behind after stop: ${JSON.stringify(r.leftovers)}`,
    );
    assert.equal(r.killed, false, 'gateway did not exit within 5s of SIGTERM (had to SIGKILL it)');
    return r;
  }
}

/**
 * Starts build/mcpgw.
 *  config:     object (written as YAML, or JSON with format: 'json') or a string (written verbatim)
 *  format:     'yaml' | 'json' (file extension)
 *  port:       port to listen on (default: a free one); written into `listen` unless noListen
 *  env:        extra environment variables for the gateway
 *  wait:       'health' (default) | 'ready' | 'none'
 *  timeoutMs:  how long to wait for health/ready
 */
export async function startGateway({
  config,
  format = 'yaml',
  port,
  env = {},
  wait = 'health',
  timeoutMs = 20000,
  noListen = false,
  fileName,
} = {}) {
  if (!gatewayExists()) throw new Error(`${GATEWAY_BIN} does not exist (build it first)`);
  port = port ?? (await freePort());
  const dir = tmpDir('mcpgw-gw-');
  let text;
  if (typeof config === 'string') {
    text = config;
  } else {
    const cfg = noListen ? { ...config } : { listen: `127.0.0.1:${port}`, ...config };
    text = format === 'json' ? `${JSON.stringify(cfg, null, 2)}\n` : toYaml(cfg);
  }
  const configPath = path.join(dir, fileName ?? (format === 'json' ? 'config.json' : 'config.yaml'));
  fs.writeFileSync(configPath, text);
  const proc = spawn(GATEWAY_BIN, ['serve', '--config', configPath], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...authDefaultEnv(config, env), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const gw = new Gateway({ proc, port, configPath, dir });
  if (wait === 'none') return gw;
  try {
    await gw_wait(gw, wait, timeoutMs);
  } catch (e) {
    await gw.stop();
    e.message += `\n--- gateway stderr ---\n${gw.stderr.slice(-4000)}`;
    throw e;
  }
  return gw;
}

async function gw_wait(gw, what, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  const pathName = what === 'ready' ? '/ready' : '/health';
  let last = 'no answer';
  while (Date.now() < deadline) {
    if (gw.exit) throw new Error(`gateway exited early: ${JSON.stringify(gw.exit)}`);
    try {
      const res = await fetch(gw.url + pathName, { signal: AbortSignal.timeout(1000) });
      const body = await res.text();
      last = `${res.status} ${body}`;
      if (res.status === 200) return;
    } catch (e) {
      last = String(e?.cause?.code ?? e);
    }
    await sleep(100);
  }
  throw new Error(`gateway did not answer ${pathName} with 200 within ${timeoutMs}ms (last: ${last})`);
}

// The gateway refuses to start until authentication and policy are configured or turned off
// explicitly. Tests that do not exercise them turn them off (they listen on loopback only).
function authDefaultEnv(config, env) {
  const configuresAuth =
    (typeof config === 'string' && /\bauth\s*:|"auth"\s*:/.test(config)) ||
    (typeof config === 'object' && config !== null && 'auth' in config) ||
    'GATEWAY_AUTH_MODE' in env ||
    'OAUTH_ISSUER' in env;
  const out = configuresAuth ? {} : { GATEWAY_AUTH_MODE: 'off' };
  // Policy likewise: tests that do not configure one run without (policy: {mode: off}).
  const configuresPolicy =
    (typeof config === 'string' && /\bpolicy\s*:|"policy"\s*:/.test(config)) ||
    (typeof config === 'object' && config !== null && 'policy' in config) ||
    'GATEWAY_POLICY_MODE' in env ||
    'OPA_URL' in env;
  if (!configuresPolicy) out.GATEWAY_POLICY_MODE = 'off';
  // Each gateway records its history in a database of its own (unless the test chooses one).
  const configuresHistory =
    (typeof config === 'string' && /\bhistory\s*:/.test(config)) ||
    (typeof config === 'object' && config !== null && 'history' in config) ||
    'HISTORY_DB_DSN' in env;
  if (!configuresHistory) out.HISTORY_DB_DSN = `sqlite://${path.join(tmpDir('mcpgw-history-'), 'history.db')}`;
  return out;
}

/** Runs a gateway process to completion (for configs that must be rejected). */
export async function runGatewayToExit({ config, fileName = 'config.yaml', env = {}, timeoutMs = 10000 }) {
  if (!gatewayExists()) throw new Error(`${GATEWAY_BIN} does not exist (build it first)`);
  const dir = tmpDir('mcpgw-cfg-');
  const configPath = path.join(dir, fileName);
  fs.writeFileSync(configPath, config);
  const proc = spawn(GATEWAY_BIN, ['serve', '--config', configPath], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...authDefaultEnv(config, env), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  let stdout = '';
  proc.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
  proc.stdout.setEncoding('utf8').on('data', (d) => (stdout += d));
  const exited = new Promise((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal })));
  const r = await Promise.race([exited, unrefSleep(timeoutMs).then(() => null)]);
  if (!r) {
    const kids = descendants(proc.pid);
    proc.kill('SIGKILL');
    for (const k of kids) {
      try {
        process.kill(k.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    await exited;
    return { timedOut: true, code: null, signal: 'SIGKILL', stderr, stdout, configPath };
  }
  return { timedOut: false, ...r, stderr, stdout, configPath };
}

// ---------------------------------------------------------------------------------------------
// MCP SDK clients

/** A StreamableHTTPClientTransport that offers `protocolVersion` in initialize instead of the SDK's latest. */
class PinnedVersionTransport extends StreamableHTTPClientTransport {
  constructor(url, version, opts) {
    super(url, opts);
    this._pinnedVersion = version;
  }

  send(message, options) {
    if (this._pinnedVersion && message && message.method === 'initialize' && message.params) {
      message = { ...message, params: { ...message.params, protocolVersion: this._pinnedVersion } };
    }
    return super.send(message, options);
  }
}

/**
 * Connects an SDK Client to the gateway.
 *  transport: 'streamable' (default) | 'sse'
 *  protocolVersion: offer this version in initialize (streamable only)
 *  roots: array of {uri, name}; onSample(params) -> text; onElicit(params) -> result
 */
export async function connectClient(gw, {
  name = 'mcpgw-e2e',
  transport = 'streamable',
  protocolVersion,
  roots,
  onSample,
  onElicit,
  headers,
} = {}) {
  const capabilities = {};
  if (roots) capabilities.roots = { listChanged: true };
  if (onSample) capabilities.sampling = {};
  if (onElicit) capabilities.elicitation = { form: {} };
  const client = new Client({ name, version: '1.0.0' }, { capabilities });
  if (roots) client.setRequestHandler(ListRootsRequestSchema, async () => ({ roots }));
  if (onSample) {
    client.setRequestHandler(CreateMessageRequestSchema, async (req) => ({
      role: 'assistant',
      model: 'test-model',
      content: { type: 'text', text: await onSample(req.params) },
    }));
  }
  if (onElicit) client.setRequestHandler(ElicitRequestSchema, async (req) => onElicit(req.params));
  const requestInit = headers ? { headers } : undefined;
  let t;
  if (transport === 'sse') {
    t = new SSEClientTransport(new URL(`${gw.url}/sse`), { requestInit });
  } else {
    t = new PinnedVersionTransport(new URL(gw.mcpUrl), protocolVersion, { requestInit });
  }
  await client.connect(t, { timeout: 15000 });
  client.rawTransport = t;
  return client;
}

/** Text of the first text content block of a CallToolResult. */
export function resultText(result) {
  const block = (result?.content ?? []).find((c) => c.type === 'text');
  return block?.text;
}

/** Polls listTools until `pred(names)` holds (upstreams start asynchronously); returns the tools. */
export async function waitForTools(client, pred, timeoutMs = 20000) {
  const deadline = Date.now() + timeoutMs;
  let names = [];
  while (Date.now() < deadline) {
    const { tools } = await client.listTools();
    names = tools.map((t) => t.name);
    if (pred(names)) return tools;
    await sleep(250);
  }
  throw new Error(`tools never matched; last list: ${JSON.stringify(names)}`);
}

// ---------------------------------------------------------------------------------------------
// Raw HTTP

export const ACCEPT_BOTH = 'application/json, text/event-stream';

/** Parses an SSE body into events [{event, id, data}]. */
export function parseSse(text) {
  const events = [];
  for (const block of text.split(/\r?\n\r?\n/)) {
    if (!block.trim()) continue;
    const ev = { event: 'message', data: '' };
    const data = [];
    for (const line of block.split(/\r?\n/)) {
      if (line.startsWith(':')) continue;
      const i = line.indexOf(':');
      const field = i < 0 ? line : line.slice(0, i);
      let val = i < 0 ? '' : line.slice(i + 1);
      if (val.startsWith(' ')) val = val.slice(1);
      if (field === 'data') data.push(val);
      else if (field === 'event') ev.event = val;
      else if (field === 'id') ev.id = val;
    }
    ev.data = data.join('\n');
    if (data.length) events.push(ev);
  }
  return events;
}

/**
 * POSTs to /mcp. Returns {status, headers, text, messages} where messages are the JSON-RPC
 * messages of the body (a JSON body, or every `data:` of an SSE body).
 */
export async function postMcp(gw, body, { sessionId, protocolVersion, headers = {}, raw = false, timeoutMs = 15000 } = {}) {
  const h = { 'content-type': 'application/json', accept: ACCEPT_BOTH, ...headers };
  if (sessionId) h['mcp-session-id'] = sessionId;
  if (protocolVersion) h['mcp-protocol-version'] = protocolVersion;
  const res = await fetch(gw.mcpUrl, {
    method: 'POST',
    headers: h,
    body: raw ? body : JSON.stringify(body),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, messages: bodyMessages(res.headers, text) };
}

export function bodyMessages(headers, text) {
  const ct = headers.get('content-type') ?? '';
  try {
    if (ct.includes('text/event-stream')) {
      // Events without JSON data (e.g. the empty priming event that carries only an id) are skipped.
      return parseSse(text).flatMap((e) => {
        if (!e.data.trim()) return [];
        try {
          return [JSON.parse(e.data)];
        } catch {
          return [];
        }
      });
    }
    if (text.trim()) {
      const v = JSON.parse(text);
      return Array.isArray(v) ? v : [v];
    }
  } catch {
    /* not JSON */
  }
  return [];
}

export const PROTOCOL_VERSION = '2025-11-25';

/**
 * One upstream's entry in a /ready body. The gateway nests them as components.upstreams.<name>;
 * a flat components.<name> is accepted too. Returns {status, ...} or undefined.
 */
export function readyUpstream(body, name) {
  const c = body?.components?.upstreams?.[name] ?? body?.components?.[name];
  if (c === undefined) return undefined;
  return typeof c === 'string' ? { status: c } : c;
}

/**
 * initialize + notifications/initialized over raw HTTP; returns {sessionId, protocolVersion, result}.
 * headers: extra request headers for both (e.g. Authorization).
 */
export async function rawSession(gw, { protocolVersion = PROTOCOL_VERSION, capabilities = {}, headers } = {}) {
  const init = await postMcp(gw, {
    jsonrpc: '2.0',
    id: 1,
    method: 'initialize',
    params: { protocolVersion, capabilities, clientInfo: { name: 'raw-fetch', version: '1.0.0' } },
  }, { headers });
  if (init.status !== 200) throw new Error(`initialize failed: ${init.status} ${init.text}`);
  const sessionId = init.headers.get('mcp-session-id');
  if (!sessionId) throw new Error(`initialize response had no Mcp-Session-Id header: ${init.text}`);
  const result = init.messages.find((m) => m.id === 1)?.result;
  const pv = result?.protocolVersion ?? protocolVersion;
  const note = await postMcp(gw, { jsonrpc: '2.0', method: 'notifications/initialized' }, { sessionId, protocolVersion: pv, headers });
  if (note.status !== 202) throw new Error(`notifications/initialized got ${note.status} ${note.text}`);
  return { sessionId, protocolVersion: pv, result };
}

/** Sends one request over a raw session and returns the response message with that id. */
export async function rawRequest(gw, session, id, method, params, opts = {}) {
  const r = await postMcp(gw, { jsonrpc: '2.0', id, method, ...(params ? { params } : {}) }, {
    sessionId: session.sessionId,
    protocolVersion: session.protocolVersion,
    ...opts,
  });
  return { ...r, response: r.messages.find((m) => m.id === id && ('result' in m || 'error' in m)) };
}

/** A plain node:http request (lets tests set Host freely). Returns {status, headers, text}. */
export function httpRequest(port, { method = 'GET', path: p = '/', headers = {}, body } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path: p, headers, timeout: 10000 }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, text }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

/**
 * Writes `request` (string or Buffer: a whole HTTP/1.1 request) on a fresh loopback socket and
 * collects whatever comes back until the server closes (or timeoutMs). Unlike node:http this still
 * reports the response when the server answers and closes before the request was fully written.
 * Returns {status (number or null), head, text, error (socket error code or null), bytes}.
 */
export function rawHttp(port, request, { timeoutMs = 10000 } = {}) {
  return new Promise((resolve) => {
    const chunks = [];
    let error = null;
    let done = false;
    const sock = net.connect({ host: '127.0.0.1', port });
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      const buf = Buffer.concat(chunks);
      const all = buf.toString('latin1');
      const sep = all.indexOf('\r\n\r\n');
      const head = sep >= 0 ? all.slice(0, sep) : all;
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(head);
      resolve({ status: m ? Number(m[1]) : null, head, text: sep >= 0 ? buf.subarray(sep + 4).toString('utf8') : '', error, bytes: buf.length });
    };
    const timer = setTimeout(() => {
      error = error ?? 'timeout';
      finish();
    }, timeoutMs);
    timer.unref();
    sock.on('data', (d) => chunks.push(d));
    sock.on('error', (e) => {
      error = e.code ?? String(e);
      // Data that arrived before a reset is kept; give in-flight reads a moment.
      setTimeout(finish, 50);
    });
    sock.on('end', finish);
    sock.on('close', finish);
    sock.write(request, () => {});
  });
}

// ---------------------------------------------------------------------------------------------
// Helper processes (HTTP upstreams)

/** Starts a node script from the repo root and waits until `url` answers anything. */
export async function startHelper(args, { env = {}, waitUrl, timeoutMs = 15000 } = {}) {
  const proc = spawn(process.execPath, args, {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  proc.stdout.setEncoding('utf8').on('data', (d) => (output += d));
  proc.stderr.setEncoding('utf8').on('data', (d) => (output += d));
  const exited = new Promise((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal })));
  let exitInfo = null;
  exited.then((r) => (exitInfo = r));
  const stop = async () => {
    if (!exitInfo) {
      proc.kill('SIGTERM');
      const r = await Promise.race([exited, unrefSleep(3000).then(() => null)]);
      if (!r) {
        proc.kill('SIGKILL');
        await exited;
      }
    }
  };
  if (waitUrl) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (exitInfo) throw new Error(`helper ${args.join(' ')} exited: ${JSON.stringify(exitInfo)}\n${output}`);
      try {
        await fetch(waitUrl, { signal: AbortSignal.timeout(1000) });
        break;
      } catch {
        if (Date.now() > deadline) {
          await stop();
          throw new Error(`helper ${args.join(' ')} did not come up at ${waitUrl}\n${output}`);
        }
        await sleep(100);
      }
    }
  }
  return { proc, stop, output: () => output };
}

/**
 * Opens the session's standalone GET /mcp SSE stream and collects its JSON-RPC messages in the
 * background. Returns {status, messages, close()}; status 405 means the server offers none.
 */
export async function openGetStream(gw, session) {
  const ac = new AbortController();
  const res = await fetch(gw.mcpUrl, {
    method: 'GET',
    headers: {
      accept: 'text/event-stream',
      'mcp-session-id': session.sessionId,
      'mcp-protocol-version': session.protocolVersion,
    },
    signal: ac.signal,
  });
  const messages = [];
  const out = { status: res.status, messages, close: () => ac.abort() };
  if (res.status !== 200 || !res.body) {
    await res.text().catch(() => {});
    return out;
  }
  (async () => {
    const decoder = new TextDecoder();
    let buf = '';
    try {
      for await (const chunk of res.body) {
        buf += decoder.decode(chunk, { stream: true });
        let i;
        while ((i = buf.search(/\r?\n\r?\n/)) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i).replace(/^\r?\n\r?\n/, '');
          for (const ev of parseSse(`${block}\n\n`)) {
            if (!ev.data.trim()) continue;
            try {
              messages.push(JSON.parse(ev.data));
            } catch {
              /* not JSON */
            }
          }
        }
      }
    } catch {
      /* aborted */
    }
  })();
  return out;
}

// ---------------------------------------------------------------------------------------------
// Development authorization server (`mcpgw auth-server`, docs/auth-server.md)

/** pbkdf2-sha256 hash of `password` from `mcpgw auth-server hash-password` (few iterations: tests only). */
export function hashPassword(password, { iterations = 1000 } = {}) {
  const out = execFileSync(GATEWAY_BIN, ['auth-server', 'hash-password', '--iterations', String(iterations)], {
    input: `${password}\n`,
    encoding: 'utf8',
    timeout: 10000,
  });
  const hash = out.trim().split('\n').pop();
  if (!/^pbkdf2-sha256\$/.test(hash)) throw new Error(`hash-password printed ${JSON.stringify(out)}`);
  return hash;
}

export class AuthServer {
  constructor({ proc, configPath, dir, keysDir }) {
    this.proc = proc;
    this.configPath = configPath;
    this.dir = dir;
    this.keysDir = keysDir;
    this.issuer = null; // from the "listening" log line
    this.stderr = '';
    this.stdout = '';
    this.exit = null;
    this.exited = new Promise((resolve) => {
      proc.on('exit', (code, signal) => {
        this.exit = { code, signal };
        resolve(this.exit);
      });
    });
    proc.stderr.setEncoding('utf8').on('data', (d) => {
      this.stderr += d;
      if (process.env.MCPGW_TEST_VERBOSE) process.stderr.write(d);
    });
    proc.stdout.setEncoding('utf8').on('data', (d) => (this.stdout += d));
  }

  get pid() {
    return this.proc.pid;
  }

  get metadataUrl() {
    return `${this.issuer}/.well-known/oauth-authorization-server`;
  }

  /** stderr (and stdout) parsed as JSON lines; other lines come back as {_raw: line}. */
  logs() {
    return `${this.stderr}\n${this.stdout}`
      .split('\n')
      .filter((l) => l.trim())
      .map((l) => {
        try {
          return JSON.parse(l);
        } catch {
          return { _raw: l };
        }
      });
  }

  /** GET of the JWKS the server publishes (its URL from the server's metadata). */
  async jwks() {
    const md = await (await fetch(this.metadataUrl, { signal: AbortSignal.timeout(5000) })).json();
    const res = await fetch(md.jwks_uri, { signal: AbortSignal.timeout(5000) });
    if (res.status !== 200) throw new Error(`JWKS: ${res.status} ${await res.text()}`);
    return res.json();
  }

  /** Runs `mcpgw auth-server rotate-keys --config <this server's config>`; returns {code, stdout, stderr}. */
  rotateKeys() {
    return new Promise((resolve) => {
      const p = spawn(GATEWAY_BIN, ['auth-server', 'rotate-keys', '--config', this.configPath], {
        cwd: REPO_ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      p.stdout.setEncoding('utf8').on('data', (d) => (stdout += d));
      p.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
      const timer = setTimeout(() => p.kill('SIGKILL'), 15000);
      p.on('exit', (code, signal) => {
        clearTimeout(timer);
        resolve({ code, signal, stdout, stderr });
      });
    });
  }

  /** SIGTERM (SIGKILL after graceMs); returns {exit, killed}. */
  async stop({ graceMs = 5000 } = {}) {
    let killed = false;
    if (!this.exit) {
      this.proc.kill('SIGTERM');
      const r = await Promise.race([this.exited, unrefSleep(graceMs).then(() => null)]);
      if (!r) {
        killed = true;
        this.proc.kill('SIGKILL');
        await this.exited;
      }
    }
    return { exit: this.exit, killed };
  }
}

/**
 * Starts `build/mcpgw auth-server --config <temp yaml>` on a free loopback port (issuer port 0: the
 * server binds one and names it in its "listening" log line) with a temporary keys_dir, and waits
 * until its RFC 8414 metadata answers 200.
 *  config: extra settings for the YAML (clients, access_token_ttl_s, ...); issuer/keys_dir default
 *  users:  array of users written to a temporary users file (password_hash required), or omit to
 *          keep the config's users_file
 *  env:    extra environment variables
 */
export async function startAuthServer({ config = {}, users, env = {}, timeoutMs = 15000 } = {}) {
  if (!gatewayExists()) throw new Error(`${GATEWAY_BIN} does not exist (build it first)`);
  const dir = tmpDir('mcpgw-as-');
  const keysDir = path.join(dir, 'keys');
  const cfg = { issuer: 'http://127.0.0.1:0', keys_dir: keysDir, log_format: 'json', ...config };
  if (users) {
    const usersPath = path.join(dir, 'users.yaml');
    fs.writeFileSync(usersPath, toYaml({ users }));
    cfg.users_file = usersPath;
  }
  const configPath = path.join(dir, 'auth-server.yaml');
  fs.writeFileSync(configPath, toYaml(cfg));
  const proc = spawn(GATEWAY_BIN, ['auth-server', '--config', configPath], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const as = new AuthServer({ proc, configPath, dir, keysDir: cfg.keys_dir });
  const deadline = Date.now() + timeoutMs;
  let last = 'no "listening" log line';
  try {
    for (;;) {
      if (as.exit) throw new Error(`auth-server exited early: ${JSON.stringify(as.exit)}`);
      if (!as.issuer) {
        const l = as.logs().find((e) => e.msg === 'listening' && e.issuer);
        if (l) as.issuer = l.issuer;
      }
      if (as.issuer) {
        try {
          const res = await fetch(as.metadataUrl, { signal: AbortSignal.timeout(1000) });
          const body = await res.text();
          last = `${res.status} ${body.slice(0, 200)}`;
          if (res.status === 200) return as;
        } catch (e) {
          last = String(e?.cause?.code ?? e);
        }
      }
      if (Date.now() > deadline) throw new Error(`auth-server did not come up within ${timeoutMs}ms (last: ${last})`);
      await sleep(50);
    }
  } catch (e) {
    await as.stop();
    e.message += `\n--- auth-server stderr ---\n${as.stderr.slice(-4000)}`;
    throw e;
  }
}
