// Tool-call history and audit trail (docs/history.md), end to end: build/mcpgw fronting the chaos
// server (stdio), with OAuth tokens from `mcpgw auth-server`, reading the rows back through
// GET /api/v1/history and /api/v1/audit, and directly with the sqlite3 CLI; `mcpgw audit verify` and
// `mcpgw db migrate` as subprocesses. Covers identity, redaction and outcomes of recorded calls,
// per-user access control, hostile filter values, cursor pagination, SIGKILL under load with sync
// durability, two gateways sharing one database, calls that end without an answer (disconnect,
// cancellation, session deleted, SIGTERM), tampering, migrations, async durability, redaction
// settings, history turned off, and a refused DSN.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import {
  CHAOS_SERVER,
  GATEWAY_BIN,
  PROTOCOL_VERSION,
  REPO_ROOT,
  connectClient,
  freePort,
  hashPassword,
  needsGateway,
  postMcp,
  runGatewayToExit,
  sleep,
  startAuthServer,
  startGateway,
  tmpDir,
} from './harness.mjs';
import { startJwksServer } from './jwks-server.mjs';

const HANG_TIMEOUT_MS = 1000;
const chaos = (extra = {}) => ({ name: 'chaos', command: ['node', CHAOS_SERVER], ...extra });
const CLIENT_INFO = { name: 'history-e2e', version: '4.5.6' };
const REDIRECT_URI = 'http://127.0.0.1:33419/callback'; // nothing listens: the 302 is captured
const AS_CLIENT = 'history-test-cli';
const PASSWORDS = { alice: 'alice-history-pw', bob: 'bob-history-pw', carol: 'carol-history-pw' };

// ---------------------------------------------------------------------------------------------
// Helpers

/** A fresh SQLite history database path and its DSN. */
function freshDb(name = 'history.db') {
  const file = path.join(tmpDir('mcpgw-hist-'), name);
  return { file, dsn: `sqlite://${file}` };
}

/** Runs `sqlite3 -json <file> <sql>`; returns the rows (an array, empty for statements). */
function sql(file, statement) {
  const out = execFileSync('sqlite3', ['-cmd', '.timeout 5000', '-json', file, statement], {
    encoding: 'utf8',
    timeout: 15000,
    maxBuffer: 1 << 30,
  });
  return out.trim() ? JSON.parse(out) : [];
}

/** Runs a subcommand of build/mcpgw (e.g. ['audit', 'verify', '--dsn', dsn]); {code, stdout, stderr}. */
function mcpgw(args) {
  const r = spawnSync(GATEWAY_BIN, args, { cwd: REPO_ROOT, encoding: 'utf8', timeout: 20000 });
  return { code: r.status, signal: r.signal, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}
const verify = (dsn) => mcpgw(['audit', 'verify', '--dsn', dsn]);
const show = (r) => `exit ${r.code}${r.signal ? ` (${r.signal})` : ''}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`;

function assertIntact(dsn, what) {
  const r = verify(dsn);
  assert.equal(r.code, 0, `${what}: audit verify should report intact chains\n${show(r)}`);
  assert.match(r.stdout, /tool_calls: \d+ rows, hash chain intact/, `${what}\n${show(r)}`);
  assert.match(r.stdout, /audit_events: \d+ rows, hash chain intact/, `${what}\n${show(r)}`);
  return r;
}

const b64url = (buf) => Buffer.from(buf).toString('base64url');

/** An access token for `username` (authorization code + PKCE with the headless login). */
async function userToken(as, audience, username) {
  const verifier = b64url(crypto.randomBytes(32));
  const challenge = b64url(crypto.createHash('sha256').update(verifier).digest());
  const u = new URL(`${as.issuer}/authorize`);
  for (const [k, v] of Object.entries({
    response_type: 'code',
    client_id: AS_CLIENT,
    redirect_uri: REDIRECT_URI,
    code_challenge: challenge,
    code_challenge_method: 'S256',
    state: `st-${username}`,
    resource: audience,
    username,
    password: PASSWORDS[username],
  })) {
    u.searchParams.set(k, v);
  }
  const login = await fetch(u, { redirect: 'manual', signal: AbortSignal.timeout(10000) });
  const loginText = await login.text();
  assert.equal(login.status, 302, `headless login of ${username}: ${login.status} ${loginText.slice(0, 300)}`);
  const location = new URL(login.headers.get('location'));
  const code = location.searchParams.get('code');
  assert.ok(code, `no code for ${username} in ${location}`);
  const res = await fetch(`${as.issuer}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      client_id: AS_CLIENT,
      code,
      redirect_uri: REDIRECT_URI,
      code_verifier: verifier,
      resource: audience,
    }).toString(),
    signal: AbortSignal.timeout(10000),
  });
  const body = await res.json();
  assert.equal(res.status, 200, `token for ${username}: ${res.status} ${JSON.stringify(body)}`);
  assert.ok(body.access_token, `token for ${username}: ${JSON.stringify(body)}`);
  return body.access_token;
}

const bearer = (token) => (token ? { authorization: `Bearer ${token}` } : {});

/** initialize + notifications/initialized with CLIENT_INFO; returns {sessionId, protocolVersion, token}. */
async function openSession(gw, token) {
  const init = await postMcp(
    gw,
    { jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: PROTOCOL_VERSION, capabilities: {}, clientInfo: CLIENT_INFO } },
    { headers: bearer(token) },
  );
  assert.equal(init.status, 200, `initialize: ${init.status} ${init.text.slice(0, 300)}`);
  const sessionId = init.headers.get('mcp-session-id');
  assert.ok(sessionId, `initialize answered no Mcp-Session-Id: ${init.text}`);
  const protocolVersion = init.messages.find((m) => m.id === 0)?.result?.protocolVersion ?? PROTOCOL_VERSION;
  const note = await postMcp(gw, { jsonrpc: '2.0', method: 'notifications/initialized' }, { sessionId, protocolVersion, headers: bearer(token) });
  assert.equal(note.status, 202, `notifications/initialized: ${note.status} ${note.text}`);
  return { sessionId, protocolVersion, token };
}

let rpcId = 100;
/** POST one JSON-RPC request on the session (X-Request-Id: requestId); {status, text, response}. */
async function rpc(gw, sess, method, params, { requestId, timeoutMs = 15000 } = {}) {
  const id = ++rpcId;
  const headers = { ...bearer(sess.token), ...(requestId ? { 'x-request-id': requestId } : {}) };
  const r = await postMcp(gw, { jsonrpc: '2.0', id, method, params }, {
    sessionId: sess.sessionId,
    protocolVersion: sess.protocolVersion,
    headers,
    timeoutMs,
  });
  return { ...r, response: r.messages.find((m) => m.id === id && ('result' in m || 'error' in m)) };
}
const callTool = (gw, sess, name, args, opts) => rpc(gw, sess, 'tools/call', { name, arguments: args }, opts);

/** Polls tools/list until the upstream's `echo` is listed. */
async function waitForEcho(gw, sess) {
  let last;
  for (let i = 0; i < 150; i++) {
    last = await rpc(gw, sess, 'tools/list', {});
    if ((last.response?.result?.tools ?? []).some((t) => t.name === 'echo')) return;
    await sleep(100);
  }
  assert.fail(`echo never listed: ${last?.text?.slice(0, 300)}`);
}

/** GET of an /api/v1 path with an optional token; {status, json, text}. */
async function api(gw, p, token) {
  const res = await fetch(`${gw.url}${p}`, { headers: bearer(token), signal: AbortSignal.timeout(10000) });
  const text = await res.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, json, text };
}

/** Every row of /api/v1/history for `query` (follows next_cursor); asserts each page is well-formed. */
async function allHistory(gw, token, query = '') {
  const items = [];
  let cursor = null;
  for (let page = 0; page < 1000; page++) {
    const q = new URLSearchParams(query);
    if (cursor !== null) q.set('cursor', cursor);
    const r = await api(gw, `/api/v1/history?${q}`, token);
    assert.equal(r.status, 200, `history ${q}: ${r.status} ${r.text.slice(0, 300)}`);
    assert.ok(Array.isArray(r.json?.items), `history ${q}: ${r.text.slice(0, 300)}`);
    items.push(...r.json.items);
    cursor = r.json.next_cursor;
    if (cursor === null) return items;
  }
  assert.fail('history pagination never ended');
}

const byRequestId = (items, id) => items.filter((r) => r.request_id === id);
const oneRow = (items, id) => {
  const rows = byRequestId(items, id);
  assert.equal(rows.length, 1, `expected exactly one history row with request_id ${id}, got ${JSON.stringify(rows)}`);
  return rows[0];
};

/** Calls `pid` until the (restarted) upstream answers normally. */
async function waitUpstreamBack(gw, sess, tag) {
  let last;
  for (let i = 0; i < 100; i++) {
    last = await callTool(gw, sess, 'pid', {}, { requestId: `${tag}-probe-${i}` });
    if (last.response?.result && !last.response.result.isError) return;
    await sleep(150);
  }
  assert.fail(`upstream never came back after the crash: ${last?.text?.slice(0, 300)}`);
}

// ---------------------------------------------------------------------------------------------
// 1-3: with OAuth: recorded identity and outcomes, access control, hostile filters, pagination

describe('history with OAuth (alice = user, bob = admin, carol = user of another tenant)', { ...needsGateway(), timeout: 60000 }, () => {
  let as;
  let gw;
  let db;
  const tokens = {};

  before(async () => {
    const user = (username, roles, groups, tenant) => ({
      username,
      password_hash: hashPassword(PASSWORDS[username]),
      sub: username,
      email: `${username}@example.test`,
      roles,
      groups,
      scopes: ['mcp:read'],
      tenant,
    });
    as = await startAuthServer({
      users: [user('alice', ['user'], ['engineering'], 'acme'), user('bob', ['admin'], ['admin'], 'acme'), user('carol', ['user'], ['sales'], 'globex')],
      config: {
        clients: [{ client_id: AS_CLIENT, client_name: 'history test', redirect_uris: [REDIRECT_URI], grant_types: ['authorization_code'] }],
      },
    });
    const port = await freePort();
    const audience = `http://127.0.0.1:${port}/mcp`;
    db = freshDb();
    gw = await startGateway({
      port,
      config: {
        servers: [chaos({ request_timeout_ms: HANG_TIMEOUT_MS })],
        auth: { issuer: as.issuer, audience },
      },
      env: { HISTORY_DB_DSN: db.dsn },
    });
    for (const u of ['alice', 'bob', 'carol']) tokens[u] = await userToken(as, audience, u);
  });

  after(async () => {
    if (gw) await gw.stopAndCheck(assert);
    if (as) await as.stop();
  });

  test('calls are recorded with identity, redacted arguments and the outcome of each kind', async () => {
    const alice = await openSession(gw, tokens.alice);
    await waitForEcho(gw, alice);

    // A normal call, with a secret-named argument that the tool ignores (zod strips extra keys).
    const args = { text: 'hello history', password: 'hunter2-very-secret' };
    const ok = await callTool(gw, alice, 'echo', args, { requestId: 'h1-ok' });
    assert.equal(ok.response?.result?.content?.[0]?.text, 'hello history', `echo: ${ok.text}`);
    // Same call, another password: the stored arguments are the same, their hash is not.
    const ok2 = await callTool(gw, alice, 'echo', { text: 'hello history', password: 'another-one' }, { requestId: 'h1-ok2' });
    assert.equal(ok2.response?.result?.content?.[0]?.text, 'hello history', `echo: ${ok2.text}`);

    // The tool's own error: wrong argument type -> result with isError: true.
    const te = await callTool(gw, alice, 'echo', { text: 12345 }, { requestId: 'h1-toolerr' });
    assert.equal(te.response?.result?.isError, true, `echo with a number: ${te.text}`);

    // A JSON-RPC error from the upstream itself: arguments that are not an object fail its
    // request validation.
    const je = await callTool(gw, alice, 'echo', ['not', 'an', 'object'], { requestId: 'h1-rpcerr' });
    assert.ok(Number.isInteger(je.response?.error?.code), `echo with array arguments: ${je.text.slice(0, 300)}`);

    // JSON-RPC errors made by the gateway: the upstream does not answer in time, then crashes mid-call.
    const to = await callTool(gw, alice, 'hang', {}, { requestId: 'h1-timeout' });
    assert.equal(to.response?.error?.code, -32001, `hang: ${to.text}`);

    // bob makes a call too (before the crash, while the upstream is up).
    const bob = await openSession(gw, tokens.bob);
    const bobCall = await callTool(gw, bob, 'echo', { text: 'from bob' }, { requestId: 'h1-bob' });
    assert.equal(bobCall.response?.result?.content?.[0]?.text, 'from bob', bobCall.text);

    // A call the gateway refuses before any upstream sees it: a tool that does not exist.
    const unknown = await callTool(gw, alice, 'no_such_tool', { text: 'probe' }, { requestId: 'h1-unknown' });
    assert.equal(unknown.response?.error?.code, -32602, `unknown tool: ${unknown.text}`);

    const cr = await callTool(gw, alice, 'crash', {}, { requestId: 'h1-crash' });
    assert.equal(cr.response?.error?.code, -32000, `crash: ${cr.text}`);

    const items = await allHistory(gw, tokens.alice);
    const row = oneRow(items, 'h1-ok');
    assert.equal(row.subject, 'alice');
    assert.deepEqual(row.roles, ['user']);
    assert.equal(row.tenant, 'acme');
    assert.deepEqual(row.client, CLIENT_INFO);
    assert.equal(row.session, alice.sessionId);
    assert.equal(row.server, 'chaos');
    assert.equal(row.method, 'tools/call');
    assert.equal(row.target, 'echo');
    assert.deepEqual(row.arguments, { text: 'hello history', password: '[REDACTED]' });
    // The hash is of the original arguments as sent (compact JSON), so a known call can be matched.
    assert.equal(row.arguments_sha256, crypto.createHash('sha256').update(JSON.stringify(args)).digest('hex'));
    assert.equal(row.outcome, 'ok');
    assert.equal(row.http_status, 200);
    assert.equal(row.rpc_error_code, 0);
    assert.equal(row.is_error, false);
    assert.ok(Number.isInteger(row.seq) && row.seq > 0, `seq: ${row.seq}`);
    assert.ok(row.time_start_us > 1.6e15 && row.time_end_us >= row.time_start_us, `times: ${JSON.stringify(row)}`);
    assert.ok(row.latency_us >= 0 && row.result_bytes > 0, `latency/result size: ${JSON.stringify(row)}`);
    assert.match(row.row_hash, /^[0-9a-f]{64}$/);

    const row2 = oneRow(items, 'h1-ok2');
    assert.deepEqual(row2.arguments, row.arguments, 'redacted arguments of both calls');
    assert.notEqual(row2.arguments_sha256, row.arguments_sha256, 'the hash is of the original (unredacted) arguments');

    const terr = oneRow(items, 'h1-toolerr');
    assert.equal(terr.outcome, 'tool_error');
    assert.equal(terr.is_error, true);
    assert.equal(terr.rpc_error_code, 0);
    assert.equal(terr.http_status, 200);
    assert.deepEqual(terr.arguments, { text: 12345 });

    const rerr = oneRow(items, 'h1-rpcerr');
    assert.equal(rerr.outcome, 'error');
    assert.equal(rerr.rpc_error_code, je.response.error.code, 'the code the client received');
    assert.equal(rerr.is_error, false);
    assert.equal(rerr.http_status, 200);

    const tout = oneRow(items, 'h1-timeout');
    assert.equal(tout.outcome, 'timeout');
    assert.equal(tout.rpc_error_code, -32001);
    assert.equal(tout.is_error, false);
    assert.equal(tout.target, 'hang');
    assert.ok(tout.latency_us >= (HANG_TIMEOUT_MS - 50) * 1000, `timeout latency ${tout.latency_us}us`);

    const crash = oneRow(items, 'h1-crash');
    assert.equal(crash.outcome, 'upstream_error');
    assert.equal(crash.rpc_error_code, -32000);
    assert.equal(crash.is_error, false);
    assert.equal(crash.target, 'crash');

    const unk = oneRow(items, 'h1-unknown');
    assert.equal(unk.outcome, 'error');
    assert.equal(unk.rpc_error_code, -32602);
    assert.equal(unk.method, 'tools/call');
    assert.equal(unk.target, 'no_such_tool');
    assert.equal(unk.server, '', 'no server has the tool');
    assert.deepEqual(unk.arguments, { text: 'probe' });

    // Rows are in seq order, and alice's own page has none of bob's.
    assert.equal(byRequestId(items, 'h1-bob').length, 0, 'alice sees none of bob\'s calls');
    for (let i = 1; i < items.length; i++) assert.ok(items[i].seq > items[i - 1].seq, 'history is in seq order');

    const bobRow = oneRow(await allHistory(gw, tokens.bob, 'user=bob'), 'h1-bob');
    assert.equal(bobRow.subject, 'bob');
    assert.ok(bobRow.roles.includes('admin'), `bob's roles: ${JSON.stringify(bobRow.roles)}`);
    assert.equal(bobRow.tenant, 'acme');

    // Neither the secret argument nor a bearer token is anywhere in the database.
    const dump = execFileSync('sqlite3', ['-cmd', '.timeout 5000', db.file, '.dump'], { encoding: 'utf8' });
    assert.ok(!dump.includes('hunter2-very-secret'), 'the password argument is stored in clear');
    assert.ok(!dump.includes(tokens.alice) && !dump.includes(tokens.alice.split('.')[2]), 'a bearer token is stored');

    await waitUpstreamBack(gw, alice, 'h1');
  });

  test('users read only their own history; admins read everyone\'s; the audit trail is for admins', async () => {
    const alice = await openSession(gw, tokens.alice);
    const bob = await openSession(gw, tokens.bob);
    await waitForEcho(gw, alice);
    for (const [who, s] of [['alice', alice], ['bob', bob]]) {
      const r = await callTool(gw, s, 'echo', { text: `acl ${who}` }, { requestId: `h2-${who}` });
      assert.equal(r.response?.result?.content?.[0]?.text, `acl ${who}`, r.text);
    }

    const aliceView = await allHistory(gw, tokens.alice);
    assert.ok(aliceView.length > 0);
    assert.deepEqual([...new Set(aliceView.map((r) => r.subject))], ['alice'], 'alice sees only her rows');
    oneRow(aliceView, 'h2-alice');
    assert.equal(byRequestId(aliceView, 'h2-bob').length, 0);

    const own = await api(gw, '/api/v1/history?user=alice', tokens.alice);
    assert.equal(own.status, 200, own.text);
    const other = await api(gw, '/api/v1/history?user=bob', tokens.alice);
    assert.equal(other.status, 403, `alice asking for bob's history: ${other.status} ${other.text}`);
    const otherExport = await api(gw, '/api/v1/history/export?user=bob', tokens.alice);
    assert.equal(otherExport.status, 403, `alice exporting bob's history: ${otherExport.status} ${otherExport.text.slice(0, 200)}`);

    const bobView = await allHistory(gw, tokens.bob);
    const subjects = new Set(bobView.map((r) => r.subject));
    assert.ok(subjects.has('alice') && subjects.has('bob'), `bob (admin) sees everyone: ${[...subjects]}`);
    oneRow(bobView, 'h2-alice');
    oneRow(bobView, 'h2-bob');
    const bobFiltered = await allHistory(gw, tokens.bob, 'user=alice');
    assert.deepEqual([...new Set(bobFiltered.map((r) => r.subject))], ['alice']);
    assert.deepEqual(bobFiltered.map((r) => r.seq), aliceView.map((r) => r.seq), 'admin filter = what alice sees');

    // The export streams the same rows, under the same rule.
    const exp = await api(gw, '/api/v1/history/export?format=jsonl', tokens.alice);
    assert.equal(exp.status, 200, exp.text.slice(0, 300));
    const exported = exp.text.split('\n').filter(Boolean).map((l) => JSON.parse(l));
    assert.deepEqual(exported.map((r) => r.seq), aliceView.map((r) => r.seq), 'alice\'s export = her history');
    const csv = await api(gw, '/api/v1/history/export?format=csv', tokens.alice);
    assert.equal(csv.status, 200, csv.text.slice(0, 300));
    const csvLines = csv.text.split('\r\n').filter(Boolean);
    assert.match(csvLines[0], /^seq,/);
    assert.equal(csvLines.length, aliceView.length + 1, 'CSV: a header and one line per row');

    // A presented but invalid token is refused and becomes an audit event.
    const forged = `${tokens.alice.slice(0, -4)}AAAA`;
    const bad = await postMcp(gw, { jsonrpc: '2.0', id: 1, method: 'ping' }, { headers: { ...bearer(forged), 'x-request-id': 'h2-forged' } });
    assert.equal(bad.status, 401, `forged token: ${bad.status} ${bad.text}`);

    assert.equal((await api(gw, '/api/v1/audit', tokens.alice)).status, 403, 'alice may not read the audit trail');
    let audit;
    for (let i = 0; i < 50; i++) {
      audit = await api(gw, '/api/v1/audit?kind=auth_failure', tokens.bob);
      assert.equal(audit.status, 200, `bob reading the audit trail: ${audit.status} ${audit.text}`);
      if (audit.json.items.some((e) => e.request_id === 'h2-forged')) break;
      await sleep(100);
    }
    const ev = audit.json.items.find((e) => e.request_id === 'h2-forged');
    assert.ok(ev, `no auth_failure audit event for the forged token: ${audit.text.slice(0, 500)}`);
    assert.equal(ev.kind, 'auth_failure');
    assert.equal(ev.detail?.status, 401);
    assert.ok(!JSON.stringify(ev).includes(forged), 'the presented token is stored in the audit trail');
    // Reading the audit trail is itself audited: who looked, with which filters.
    const reads = await api(gw, '/api/v1/audit?kind=audit_read&limit=1000', tokens.bob);
    assert.equal(reads.status, 200, reads.text);
    const read = reads.json.items.find((e) => e.detail?.filters?.kind === 'auth_failure');
    assert.ok(read, `no audit_read event for bob's reads: ${reads.text.slice(0, 500)}`);
    assert.equal(read.subject, 'bob');
    assert.deepEqual(read.detail.filters, { kind: 'auth_failure' });
    assert.equal(read.detail.format, 'json');
    assert.equal(typeof read.detail.rows, 'number');
    const refused = reads.json.items.filter((e) => e.subject === 'alice');
    assert.deepEqual(refused, [], 'a refused read (alice) is not a read');

    for (const p of ['/api/v1/history', '/api/v1/audit', '/api/v1/history/export']) {
      const r = await api(gw, p);
      assert.equal(r.status, 401, `${p} without a token: ${r.status} ${r.text}`);
    }
  });

  test('filters with SQL metacharacters match nothing and harm nothing; cursor pagination', async () => {
    const rowsBefore = await allHistory(gw, tokens.bob);
    assert.ok(rowsBefore.length >= 8, `rows so far: ${rowsBefore.length}`);
    const hostile = [
      ['tool', "' OR 1=1 --"],
      ['tool', "echo' OR '1'='1"],
      ['user', '%'],
      ['user', "alice' OR subject LIKE '%"],
      ['server', '";DROP TABLE tool_calls;--'],
      ['server', "chaos'); DROP TABLE tool_calls; --"],
      ['tool', '_'],
      ['tool', 'ech_'],
      ['tool', 'echo%'],
      ['user', '_____'],
      ['tool', '\\'],
      ['user', 'alice\\'],
      ['outcome', "ok' --"],
      ['outcome', '%'],
    ];
    for (const [k, v] of hostile) {
      const r = await api(gw, `/api/v1/history?${new URLSearchParams({ [k]: v })}`, tokens.bob);
      assert.equal(r.status, 200, `?${k}=${v}: ${r.status} ${r.text.slice(0, 300)}`);
      assert.deepEqual(r.json.items, [], `?${k}=${v} should match no rows`);
      assert.equal(r.json.next_cursor, null);
    }
    // A user filtering for anyone else (a pattern included) is refused, not widened.
    assert.equal((await api(gw, '/api/v1/history?user=%25', tokens.alice)).status, 403);
    const audit = await api(gw, `/api/v1/audit?${new URLSearchParams({ kind: "' OR 1=1 --" })}`, tokens.bob);
    assert.equal(audit.status, 200, audit.text);
    assert.deepEqual(audit.json.items, []);
    // Exact values still match.
    const exact = await api(gw, '/api/v1/history?user=alice&tool=echo&server=chaos&outcome=tool_error', tokens.bob);
    assert.equal(exact.status, 200, exact.text);
    assert.ok(exact.json.items.some((r) => r.request_id === 'h1-toolerr'), exact.text.slice(0, 300));

    const afterRows = await allHistory(gw, tokens.bob);
    assert.deepEqual(afterRows.map((r) => r.row_hash), rowsBefore.map((r) => r.row_hash), 'history unchanged by the hostile filters');
    assert.deepEqual(sql(db.file, "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'tool_calls'"), [{ name: 'tool_calls' }]);
    assertIntact(db.dsn, 'after hostile filters');

    // Time filters: from is inclusive, to exclusive.
    const pivot = rowsBefore[Math.floor(rowsBefore.length / 2)];
    const fromRows = await allHistory(gw, tokens.bob, `from=${pivot.time_start_us}`);
    const toRows = await allHistory(gw, tokens.bob, `to=${pivot.time_start_us}`);
    assert.deepEqual(fromRows.map((r) => r.seq), rowsBefore.filter((r) => r.time_start_us >= pivot.time_start_us).map((r) => r.seq), '?from=');
    assert.deepEqual(toRows.map((r) => r.seq), rowsBefore.filter((r) => r.time_start_us < pivot.time_start_us).map((r) => r.seq), '?to=');

    // Bad numbers are refused.
    for (const q of ['limit=abc', 'cursor=-1', 'from=1e9', "cursor=1;DROP"]) {
      const r = await api(gw, `/api/v1/history?${q}`, tokens.bob);
      assert.equal(r.status, 400, `?${q}: ${r.status} ${r.text}`);
    }

    // Pagination: carol has exactly 5 calls.
    const carol = await openSession(gw, tokens.carol);
    await waitForEcho(gw, carol);
    for (let i = 0; i < 5; i++) {
      const r = await callTool(gw, carol, 'echo', { text: `page ${i}` }, { requestId: `h3-carol-${i}` });
      assert.equal(r.response?.result?.content?.[0]?.text, `page ${i}`, r.text);
    }
    for (const token of [tokens.carol, tokens.bob]) {
      const seen = [];
      const pages = [];
      let cursor = null;
      for (let i = 0; i < 10; i++) {
        const q = new URLSearchParams({ user: 'carol', limit: '2', ...(cursor !== null ? { cursor } : {}) });
        const r = await api(gw, `/api/v1/history?${q}`, token);
        assert.equal(r.status, 200, r.text);
        assert.ok(r.json.items.length <= 2, `limit=2 page of ${r.json.items.length}`);
        pages.push(r.json.items.length);
        seen.push(...r.json.items);
        cursor = r.json.next_cursor;
        if (cursor === null) break;
        assert.equal(typeof cursor, 'string', `next_cursor: ${JSON.stringify(cursor)}`);
      }
      assert.equal(cursor, null, 'next_cursor is null at the end');
      assert.deepEqual(pages, [2, 2, 1], 'pages of a 5-row history with limit=2');
      assert.deepEqual(seen.map((r) => r.request_id), [0, 1, 2, 3, 4].map((i) => `h3-carol-${i}`), 'no duplicate, no gap, in order');
      assert.ok(seen.every((r) => r.subject === 'carol' && r.tenant === 'globex'));
    }
    assertIntact(db.dsn, 'after pagination');
  });

  test('the users mirror holds every authenticated user who started a session', async () => {
    // Sessions of alice, bob and carol were opened above; the writer upserts them off the
    // request path, so poll briefly.
    let rows = [];
    for (let i = 0; i < 50; i++) {
      rows = sql(db.file, 'SELECT subject, email, tenant, roles, groups, first_seen_us, last_seen_us FROM users ORDER BY subject');
      if (rows.length >= 3) break;
      await sleep(100);
    }
    assert.deepEqual(
      rows.map((r) => [r.subject, r.email, r.tenant, JSON.parse(r.roles), JSON.parse(r.groups)]),
      [
        ['alice', 'alice@example.test', 'acme', ['user'], ['engineering']],
        ['bob', 'bob@example.test', 'acme', ['admin'], ['admin']],
        ['carol', 'carol@example.test', 'globex', ['user'], ['sales']],
      ],
    );
    const alice = rows[0];
    assert.ok(alice.first_seen_us > 1.6e15 && alice.last_seen_us >= alice.first_seen_us, JSON.stringify(alice));
    // A new session moves last_seen on and keeps first_seen.
    await openSession(gw, tokens.alice);
    let again;
    for (let i = 0; i < 50; i++) {
      again = sql(db.file, "SELECT first_seen_us, last_seen_us FROM users WHERE subject = 'alice'")[0];
      if (again.last_seen_us > alice.last_seen_us) break;
      await sleep(100);
    }
    assert.equal(again.first_seen_us, alice.first_seen_us);
    assert.ok(again.last_seen_us > alice.last_seen_us, `last_seen_us did not move: ${JSON.stringify(again)}`);
    const ready = await (await fetch(`${gw.url}/ready`, { signal: AbortSignal.timeout(5000) })).json();
    assert.ok(ready.components.history.users_written >= 3, JSON.stringify(ready.components.history));
  });
});

// ---------------------------------------------------------------------------------------------
// 4: SIGKILL under load with sync durability

describe('history: the roles of the token each call was decided with', { ...needsGateway(), timeout: 30000 }, () => {
  test('a later token with other roles, in the same session, is what its rows record', async () => {
    // Tokens signed with jose by a JWKS server of the tests (jwks-server.mjs); same subject, so
    // the second token may use the session the first one opened.
    const js = await startJwksServer();
    const port = await freePort();
    const audience = `http://127.0.0.1:${port}/mcp`;
    const db = freshDb();
    const gw = await startGateway({
      port,
      config: {
        servers: [chaos()],
        auth: { mode: 'oauth', issuer: js.issuer, audience, jwks_uri: js.jwksUri, tenant_claim: 'tenant' },
      },
      env: { HISTORY_DB_DSN: db.dsn },
    });
    try {
      const token = (roles) => js.mint({ audience, extra: { sub: 'erin', roles, tenant: 'acme' } });
      const first = await openSession(gw, await token(['user']));
      await waitForEcho(gw, first);
      const a = await callTool(gw, first, 'echo', { text: 'as user' }, { requestId: 'roles-1' });
      assert.equal(a.response?.result?.content?.[0]?.text, 'as user', a.text);
      const later = { ...first, token: await token(['user', 'auditor']) };
      const b = await callTool(gw, later, 'echo', { text: 'as auditor' }, { requestId: 'roles-2' });
      assert.equal(b.response?.result?.content?.[0]?.text, 'as auditor', b.text);
      const again = await callTool(gw, first, 'echo', { text: 'as user again' }, { requestId: 'roles-3' });
      assert.equal(again.response?.result?.content?.[0]?.text, 'as user again', again.text);
      const items = await allHistory(gw, later.token);
      assert.deepEqual(oneRow(items, 'roles-1').roles, ['user']);
      assert.deepEqual(oneRow(items, 'roles-2').roles, ['user', 'auditor']);
      assert.deepEqual(oneRow(items, 'roles-3').roles, ['user']);
      assert.equal(oneRow(items, 'roles-2').tenant, 'acme');
    } finally {
      await gw.stopAndCheck(assert);
      await js.close();
    }
  });
});

describe('history: SIGKILL under load (sync durability)', { ...needsGateway(), timeout: 60000 }, () => {
  test('every answered call is in the database, the chain is intact, and a restart continues it', async (t) => {
    const db = freshDb();
    const gw = await startGateway({ config: { servers: [chaos()] }, env: { HISTORY_DB_DSN: db.dsn }, wait: 'ready' });
    const PAD = 'x'.repeat(64); // the echo text is `${key} ${PAD}`
    const answered = [];
    const failures = [];
    let stopLoops = false;
    try {
      const sessions = [];
      for (let l = 0; l < 8; l++) sessions.push(await openSession(gw, null));
      await waitForEcho(gw, sessions[0]);
      const loops = sessions.map(async (s, l) => {
        for (let i = 0; !stopLoops; i++) {
          const key = `kill-${l}-${i}-${crypto.randomBytes(4).toString('hex')}`;
          const text = `${key} ${PAD}`;
          try {
            const r = await callTool(gw, s, 'echo', { text }, { requestId: key, timeoutMs: 5000 });
            if (r.status === 200 && r.response?.result?.content?.[0]?.text === text) answered.push(key);
            else failures.push(`${r.status} ${r.text.slice(0, 200)}`);
          } catch {
            return; // the gateway is gone
          }
        }
      });
      // Let the load run, then kill the gateway in the middle of it.
      const t0 = Date.now();
      while (Date.now() - t0 < 1500 || answered.length < 50) {
        if (Date.now() - t0 > 10000) break;
        await sleep(50);
      }
      const answeredBeforeKill = answered.length;
      gw.proc.kill('SIGKILL');
      await gw.exited;
      stopLoops = true;
      await Promise.all(loops);
      assert.ok(answeredBeforeKill >= 20, `too few calls answered before the kill (${answeredBeforeKill}); failures: ${failures.slice(0, 3)}`);
    } finally {
      stopLoops = true;
      const r = await gw.stop();
      // A SIGKILLed gateway cannot reap its upstream: the orphan must exit by itself (EOF on its
      // stdin); reaping the dead one (state Z, parent init) is init's job, whenever it gets to it.
      const alive = r.leftovers.filter((l) => l.state !== 'Z');
      assert.deepEqual(alive, [], `processes still running after the gateway was SIGKILLed: ${JSON.stringify(alive)}`);
    }
    assert.equal(gw.exit.signal, 'SIGKILL');
    // Calls that got an answer other than the echo are not expected under this load.
    assert.deepEqual(failures, [], 'calls answered with something other than their echo');

    assertIntact(db.dsn, 'after SIGKILL');
    const rows = sql(db.file, "SELECT seq, request_id, args_redacted, outcome FROM tool_calls ORDER BY seq");
    t.diagnostic(`${answered.length} calls answered before the kill, ${rows.length} rows recorded`);
    const recorded = new Map(rows.map((r) => [r.request_id, r]));
    const missing = answered.filter((t) => !recorded.has(t));
    assert.deepEqual(missing, [], `${missing.length} of ${answered.length} answered calls are not in tool_calls (rows: ${rows.length})`);
    for (const t of answered) {
      const r = recorded.get(t);
      assert.equal(JSON.parse(r.args_redacted).text, `${t} ${PAD}`, `args of ${t}`);
      assert.equal(r.outcome, 'ok');
    }
    assert.equal(new Set(rows.map((r) => r.request_id)).size, rows.length, 'no call recorded twice');
    assert.deepEqual(rows.map((r) => r.seq), rows.map((_, i) => i + 1), 'seq is 1..n without gaps');

    // A new gateway on the same database continues the chain.
    const gw2 = await startGateway({ config: { servers: [chaos()] }, env: { HISTORY_DB_DSN: db.dsn }, wait: 'ready' });
    try {
      const s = await openSession(gw2, null);
      await waitForEcho(gw2, s);
      const r = await callTool(gw2, s, 'echo', { text: 'after restart' }, { requestId: 'after-restart' });
      assert.equal(r.response?.result?.content?.[0]?.text, 'after restart', r.text);
    } finally {
      await gw2.stopAndCheck(assert);
    }
    const last = sql(db.file, 'SELECT seq, request_id FROM tool_calls ORDER BY seq DESC LIMIT 1');
    assert.deepEqual(last, [{ seq: rows.length + 1, request_id: 'after-restart' }]);
    assertIntact(db.dsn, 'after the restart');
  });
});

// ---------------------------------------------------------------------------------------------
// Several gateways (replicas) sharing one database extend one chain

describe('history: two gateways sharing one SQLite database', { ...needsGateway(), timeout: 60000 }, () => {
  test('concurrent writers extend a single intact chain', async () => {
    const db = freshDb();
    const gws = [];
    try {
      for (let g = 0; g < 2; g++) gws.push(await startGateway({ config: { servers: [chaos()] }, env: { HISTORY_DB_DSN: db.dsn }, wait: 'ready' }));
      const answered = [];
      const loops = [];
      for (const [g, gw] of gws.entries()) {
        for (let l = 0; l < 3; l++) {
          const s = await openSession(gw, null);
          await waitForEcho(gw, s);
          loops.push((async () => {
            const t0 = Date.now();
            for (let i = 0; Date.now() - t0 < 1000; i++) {
              const key = `rep-${g}-${l}-${i}`;
              const r = await callTool(gw, s, 'echo', { text: key }, { requestId: key });
              assert.equal(r.response?.result?.content?.[0]?.text, key, r.text.slice(0, 300));
              answered.push(key);
            }
          })());
        }
      }
      await Promise.all(loops);
      const rows = sql(db.file, 'SELECT seq, request_id FROM tool_calls ORDER BY seq');
      assert.deepEqual(rows.map((r) => r.request_id).sort(), [...answered].sort(), 'every call once');
      assert.deepEqual(rows.map((r) => r.seq), rows.map((_, i) => i + 1), 'seq is 1..n without gaps');
      assert.ok(new Set(rows.map((r) => r.request_id.split('-')[1])).size === 2, 'both gateways wrote');
      // Each gateway reads the other's rows too.
      const seen = await allHistory(gws[0], null);
      assert.equal(seen.length, rows.length);
    } finally {
      for (const gw of gws) await gw.stopAndCheck(assert);
    }
    assertIntact(db.dsn, 'two writers');
  });
});

// ---------------------------------------------------------------------------------------------
// Forwarded calls that end without an answer to the client

describe('history: forwarded calls that end without an answer', { ...needsGateway(), timeout: 30000 }, () => {
  let gw;
  let db;

  before(async () => {
    db = freshDb();
    gw = await startGateway({ config: { servers: [chaos()] }, env: { HISTORY_DB_DSN: db.dsn }, wait: 'ready' });
  });
  after(async () => {
    if (gw) await gw.stopAndCheck(assert);
  });

  /** The rows with `requestId`, waiting up to 3 s for one to appear. */
  async function rowsFor(requestId) {
    let rows = [];
    for (let i = 0; i < 30 && rows.length === 0; i++) {
      rows = sql(db.file, `SELECT request_id, session_id, client_name, method, target, outcome, rpc_error_code, args_redacted FROM tool_calls WHERE request_id = '${requestId}'`);
      if (rows.length === 0) await sleep(100);
    }
    return rows;
  }

  test('a call the client disconnects from is recorded', async () => {
    const s = await openSession(gw, null);
    await waitForEcho(gw, s);
    const ac = new AbortController();
    const pending = fetch(gw.mcpUrl, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-session-id': s.sessionId,
        'mcp-protocol-version': s.protocolVersion,
        'x-request-id': 'u-disconnected',
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'slow', arguments: { ms: 400 } } }),
      signal: ac.signal,
    }).catch(() => null);
    await sleep(150);
    ac.abort();
    await pending;
    const rows = await rowsFor('u-disconnected');
    assert.equal(rows.length, 1, `rows: ${JSON.stringify(rows)}`);
    assert.equal(rows[0].target, 'slow');
    // Disconnection is not cancellation: the upstream's answer is recorded as it came.
    assert.equal(rows[0].outcome, 'ok');
    assert.equal(rows[0].session_id, s.sessionId);
  });

  test('a call the client cancels (notifications/cancelled) is still recorded', async () => {
    const s = await openSession(gw, null);
    await waitForEcho(gw, s);
    const pending = callTool(gw, s, 'slow', { ms: 600 }, { requestId: 'u-cancelled' }).catch((e) => e);
    await sleep(150);
    const id = rpcId; // the id callTool used
    const c = await postMcp(gw, { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: id, reason: 'test' } }, {
      sessionId: s.sessionId,
      protocolVersion: s.protocolVersion,
    });
    assert.equal(c.status, 202, c.text);
    await pending;
    // The upstream received and ran the call: the history must say so.
    const rows = await rowsFor('u-cancelled');
    assert.equal(rows.length, 1, `a forwarded call that was cancelled has no history row: ${JSON.stringify(rows)}`);
    assert.equal(rows[0].method, 'tools/call');
    assert.equal(rows[0].target, 'slow');
    assert.deepEqual(JSON.parse(rows[0].args_redacted), { ms: 600 });
    assert.equal(rows[0].outcome, 'cancelled');
    assert.equal(rows[0].session_id, s.sessionId);
    assert.equal(rows[0].client_name, CLIENT_INFO.name);
  });

  test('a call in flight when its session is deleted is still recorded', async () => {
    const s = await openSession(gw, null);
    await waitForEcho(gw, s);
    const pending = callTool(gw, s, 'slow', { ms: 600 }, { requestId: 'u-session-deleted' }).catch((e) => e);
    await sleep(150);
    const d = await fetch(gw.mcpUrl, {
      method: 'DELETE',
      headers: { 'mcp-session-id': s.sessionId, 'mcp-protocol-version': s.protocolVersion },
      signal: AbortSignal.timeout(5000),
    });
    assert.equal(d.status, 200, await d.text());
    await pending;
    const rows = await rowsFor('u-session-deleted');
    assert.equal(rows.length, 1, `a forwarded call whose session was deleted has no history row: ${JSON.stringify(rows)}`);
    assert.equal(rows[0].target, 'slow');
    assert.equal(rows[0].outcome, 'session_ended');
    assert.equal(rows[0].session_id, s.sessionId);
    assert.equal(rows[0].client_name, CLIENT_INFO.name);
    assertIntact(db.dsn, 'after unanswered calls');
  });

  test('a call in flight when the gateway is stopped (SIGTERM) is recorded before it exits', async () => {
    const db2 = freshDb();
    const gw2 = await startGateway({ config: { servers: [chaos()] }, env: { HISTORY_DB_DSN: db2.dsn }, wait: 'ready' });
    let pending;
    try {
      const s = await openSession(gw2, null);
      await waitForEcho(gw2, s);
      pending = callTool(gw2, s, 'hang', {}, { requestId: 'u-shutdown' }).catch((e) => e);
      await sleep(200);
    } finally {
      await gw2.stopAndCheck(assert);
    }
    await pending;
    assert.equal(gw2.exit.code, 0, `exit ${JSON.stringify(gw2.exit)}`);
    const rows = sql(db2.file, "SELECT target, outcome FROM tool_calls WHERE request_id = 'u-shutdown'");
    assert.deepEqual(rows, [{ target: 'hang', outcome: 'session_ended' }]);
    // The service's start (with the configuration in force) and its stop are in the audit trail.
    const events = sql(db2.file, "SELECT seq, kind, detail FROM audit_events WHERE kind LIKE 'service_%' ORDER BY seq");
    assert.deepEqual(events.map((e) => e.kind), ['service_start', 'service_stop']);
    const start = JSON.parse(events[0].detail);
    assert.equal(start.listen, `127.0.0.1:${gw2.port}`);
    assert.deepEqual(start.servers, ['chaos']);
    assert.equal(start.history.durability, 'sync');
    assert.equal(start.history.store, 'sqlite');
    assert.equal(start.config.sha256, crypto.createHash('sha256').update(fs.readFileSync(gw2.configPath)).digest('hex'));
    const stop = JSON.parse(events[1].detail);
    assert.equal(stop.sessions, 1, 'the session still open when SIGTERM came');
    assert.equal(stop.signal, 'SIGTERM');
    assertIntact(db2.dsn, 'after a shutdown with a call in flight');
  });
});

// ---------------------------------------------------------------------------------------------
// 5: tamper evidence and migrations

describe('history: tamper evidence and migrations', { ...needsGateway(), timeout: 60000 }, () => {
  let db;

  before(async () => {
    db = freshDb();
    const gw = await startGateway({ config: { servers: [chaos()] }, env: { HISTORY_DB_DSN: db.dsn }, wait: 'ready' });
    try {
      const s = await openSession(gw, null);
      await waitForEcho(gw, s);
      // seq 2 is a tool error, so setting its outcome to 'ok' is a real change.
      const calls = [{ text: 't1' }, { text: 2 }, { text: 't3' }, { text: 't4' }, { text: 't5' }];
      for (const [i, args] of calls.entries()) {
        const r = await callTool(gw, s, 'echo', args, { requestId: `t-${i + 1}` });
        assert.ok(r.response?.result, r.text);
      }
    } finally {
      await gw.stopAndCheck(assert);
    }
    assert.deepEqual(
      sql(db.file, 'SELECT seq, request_id, outcome FROM tool_calls ORDER BY seq'),
      [1, 2, 3, 4, 5].map((n) => ({ seq: n, request_id: `t-${n}`, outcome: n === 2 ? 'tool_error' : 'ok' })),
    );
  });

  /** A copy of the database (sqlite3 .backup), tampered with by `statements`. */
  function tampered(statements) {
    const copy = freshDb('tampered.db');
    execFileSync('sqlite3', [db.file, `.backup '${copy.file}'`], { timeout: 15000 });
    sql(copy.file, statements);
    return copy;
  }

  test('an untouched database verifies; db migrate is idempotent', () => {
    assertIntact(db.dsn, 'untouched');
    const v = verify(db.dsn);
    assert.match(v.stdout, /tool_calls: 5 rows, hash chain intact/, show(v));
    for (let i = 0; i < 2; i++) {
      const m = mcpgw(['db', 'migrate', '--dsn', db.dsn]);
      assert.equal(m.code, 0, `db migrate #${i + 1}\n${show(m)}`);
    }
    // Migrating a new, empty database twice works too.
    const fresh = freshDb('migrated.db');
    for (let i = 0; i < 2; i++) {
      const m = mcpgw(['db', 'migrate', '--dsn', fresh.dsn]);
      assert.equal(m.code, 0, `db migrate (new database) #${i + 1}\n${show(m)}`);
    }
    assert.deepEqual(sql(fresh.file, "SELECT count(*) AS n FROM tool_calls"), [{ n: 0 }]);
    assertIntact(fresh.dsn, 'migrated empty database');
    assertIntact(db.dsn, 'after migrating twice');
    assert.equal(sql(db.file, 'SELECT count(*) AS n FROM tool_calls')[0].n, 5);
  });

  test('a changed row is named', () => {
    const t = tampered("UPDATE tool_calls SET outcome = 'ok' WHERE seq = 2");
    const r = verify(t.dsn);
    assert.equal(r.code, 1, show(r));
    assert.match(r.stdout, /tool_calls: TAMPERED at seq 2\b/, show(r));
  });

  test('a changed argument is named', () => {
    const t = tampered(`UPDATE tool_calls SET args_redacted = '{"text":"forged"}' WHERE seq = 4`);
    const r = verify(t.dsn);
    assert.equal(r.code, 1, show(r));
    assert.match(r.stdout, /tool_calls: TAMPERED at seq 4\b/, show(r));
  });

  test('a removed row is named', () => {
    const t = tampered('DELETE FROM tool_calls WHERE seq = 3');
    const r = verify(t.dsn);
    assert.equal(r.code, 1, show(r));
    assert.match(r.stdout, /tool_calls: TAMPERED at seq \d+: rows 3\.\.3 were removed/, show(r));
  });

  test('a removed first row is detected', () => {
    const t = tampered('DELETE FROM tool_calls WHERE seq = 1');
    const r = verify(t.dsn);
    assert.equal(r.code, 1, show(r));
    assert.match(r.stdout, /tool_calls: TAMPERED/, show(r));
  });

  test('two swapped rows are detected', () => {
    // Swap the positions of rows 2 and 3 (each keeps its content and hashes).
    const t = tampered('UPDATE tool_calls SET seq = -2 WHERE seq = 2; UPDATE tool_calls SET seq = 2 WHERE seq = 3; UPDATE tool_calls SET seq = 3 WHERE seq = -2;');
    assert.deepEqual(sql(t.file, 'SELECT request_id FROM tool_calls WHERE seq IN (2, 3) ORDER BY seq'), [{ request_id: 't-3' }, { request_id: 't-2' }]);
    const r = verify(t.dsn);
    assert.equal(r.code, 1, show(r));
    assert.match(r.stdout, /tool_calls: TAMPERED at seq 2\b/, show(r));
  });

  test('two rows whose contents were swapped are detected', () => {
    const cols = sql(db.file, 'PRAGMA table_info(tool_calls)').map((c) => c.name).filter((c) => c !== 'seq');
    const t = tampered(
      `CREATE TEMP TABLE x AS SELECT * FROM tool_calls WHERE seq IN (3, 4);
       UPDATE tool_calls SET (${cols.join(', ')}) = (SELECT ${cols.join(', ')} FROM x WHERE x.seq = 7 - tool_calls.seq) WHERE seq IN (3, 4);`,
    );
    assert.deepEqual(sql(t.file, 'SELECT request_id FROM tool_calls WHERE seq IN (3, 4) ORDER BY seq'), [{ request_id: 't-4' }, { request_id: 't-3' }]);
    const r = verify(t.dsn);
    assert.equal(r.code, 1, show(r));
    assert.match(r.stdout, /tool_calls: TAMPERED at seq 3\b/, show(r));
  });
});

// ---------------------------------------------------------------------------------------------
// 6: async durability, history off, a refused DSN

describe('history configuration', { ...needsGateway(), timeout: 60000 }, () => {
  test('durability: async records the rows shortly after the answer', async () => {
    const db = freshDb();
    const gw = await startGateway({ config: { servers: [chaos()], history: { dsn: db.dsn, durability: 'async' } }, wait: 'ready' });
    try {
      assert.ok(gw.logs().some((l) => l.msg === 'history recording' && l.durability === 'async'), `start-up log: ${gw.stderr.slice(-1000)}`);
      const s = await openSession(gw, null);
      await waitForEcho(gw, s);
      for (let i = 0; i < 3; i++) {
        const r = await callTool(gw, s, 'echo', { text: `async ${i}` }, { requestId: `a-${i}` });
        assert.equal(r.response?.result?.content?.[0]?.text, `async ${i}`, r.text);
      }
      let items = [];
      for (let i = 0; i < 50 && items.length < 3; i++) {
        items = (await allHistory(gw, null)).filter((r) => r.request_id.startsWith('a-'));
        if (items.length < 3) await sleep(100);
      }
      assert.deepEqual(items.map((r) => [r.request_id, r.outcome, JSON.stringify(r.arguments)]), [0, 1, 2].map((i) => [`a-${i}`, 'ok', JSON.stringify({ text: `async ${i}` })]));
      // /ready reports the mode and what is at risk: answered, not yet written (none by now).
      const ready = await (await fetch(`${gw.url}/ready`, { signal: AbortSignal.timeout(5000) })).json();
      assert.equal(ready.components.history.durability, 'async', JSON.stringify(ready.components.history));
      assert.equal(ready.components.history.status, 'ready');
      assert.equal(ready.components.history.at_risk, 0);
      assert.ok(ready.components.history.written >= 3);
    } finally {
      await gw.stopAndCheck(assert);
    }
    assert.equal(sql(db.file, 'SELECT count(*) AS n FROM tool_calls')[0].n, 3);
    assertIntact(db.dsn, 'async');
  });

  test('redact_keys, sensitive_tools and credential-looking values; the legacy SSE transport is recorded too', async () => {
    const db = freshDb();
    const gw = await startGateway({
      config: { servers: [chaos()], history: { dsn: db.dsn, redact_keys: ['ssn'], sensitive_tools: ['env'] } },
      wait: 'ready',
    });
    const githubToken = `ghp_${'A1b2C3d4E5'.repeat(4)}`;
    try {
      const s = await openSession(gw, null);
      await waitForEcho(gw, s);
      const calls = [
        ['r-ssn', 'echo', { text: 'ssn', SSN_number: '078-05-1120' }],
        ['r-sensitive', 'env', { name: 'HOME' }],
        ['r-looks-secret', 'echo', { text: githubToken }],
        ['r-nested', 'echo', { text: 'nested', options: { auth: { api_key: 'k-123', Authorization: 'Basic dXNlcjpwYXNz' } } }],
        ['r-array', 'echo', { text: 'array', accounts: [{ user: 'u1', client_secret: 'cs-456' }, 'plain'] }],
      ];
      for (const [rid, tool, args] of calls) {
        const r = await callTool(gw, s, tool, args, { requestId: rid });
        assert.ok(r.response?.result, `${rid}: ${r.text}`);
      }
      const sse = await connectClient(gw, { transport: 'sse', name: 'history-legacy-sse' });
      try {
        await sse.callTool({ name: 'echo', arguments: { text: 'via legacy sse' } });
      } finally {
        await sse.close();
      }
      const items = await allHistory(gw, null);
      const sha = (a) => crypto.createHash('sha256').update(JSON.stringify(a)).digest('hex');
      const get = (rid) => oneRow(items, rid);
      assert.deepEqual(get('r-ssn').arguments, { text: 'ssn', SSN_number: '[REDACTED]' }, 'redact_keys are case-insensitive substrings');
      assert.deepEqual(get('r-sensitive').arguments, {}, 'sensitive_tools store no arguments');
      assert.equal(get('r-sensitive').arguments_sha256, sha(calls[1][2]), 'sensitive_tools keep the hash');
      assert.deepEqual(get('r-looks-secret').arguments, { text: '[REDACTED]' }, 'a GitHub token under an innocent key');
      assert.deepEqual(get('r-nested').arguments, { text: 'nested', options: { auth: { api_key: '[REDACTED]', Authorization: '[REDACTED]' } } });
      assert.deepEqual(get('r-array').arguments, { text: 'array', accounts: [{ user: 'u1', client_secret: '[REDACTED]' }, 'plain'] }, 'objects inside arrays');
      const legacy = items.filter((r) => r.client.name === 'history-legacy-sse');
      assert.equal(legacy.length, 1, `legacy SSE call rows: ${JSON.stringify(legacy)}`);
      assert.deepEqual(legacy[0].arguments, { text: 'via legacy sse' });
      assert.equal(legacy[0].outcome, 'ok');
    } finally {
      await gw.stopAndCheck(assert);
    }
    const dump = execFileSync('sqlite3', [db.file, '.dump'], { encoding: 'utf8' });
    for (const secret of ['078-05-1120', githubToken, 'k-123', 'dXNlcjpwYXNz', 'cs-456']) assert.ok(!dump.includes(secret), `${secret} is stored`);
    assertIntact(db.dsn, 'redaction');
  });

  test('enabled: false: no API, no database file, calls still work', async () => {
    const db = freshDb();
    const gw = await startGateway({ config: { servers: [chaos()], history: { enabled: false, dsn: db.dsn } }, wait: 'ready' });
    try {
      const s = await openSession(gw, null);
      await waitForEcho(gw, s);
      const r = await callTool(gw, s, 'echo', { text: 'unrecorded' });
      assert.equal(r.response?.result?.content?.[0]?.text, 'unrecorded', r.text);
      const ready = await (await fetch(`${gw.url}/ready`, { signal: AbortSignal.timeout(5000) })).json();
      assert.deepEqual(ready.components.history, { status: 'off' });
      for (const p of ['/api/v1/history', '/api/v1/audit', '/api/v1/history/export']) {
        const h = await api(gw, p);
        assert.equal(h.status, 404, `${p} with history off: ${h.status} ${h.text}`);
      }
    } finally {
      await gw.stopAndCheck(assert);
    }
    assert.deepEqual(fs.readdirSync(path.dirname(db.file)), [], 'history off created files');
  });

  test('a DSN of an unsupported database refuses start-up with exit 2', async () => {
    const listen = `127.0.0.1:${await freePort()}`;
    const servers = `servers:\n  - name: chaos\n    command: [node, ${JSON.stringify(CHAOS_SERVER)}]\n`;
    const fromFile = await runGatewayToExit({ config: `listen: "${listen}"\n${servers}history:\n  dsn: "mysql://x"\n` });
    assert.equal(fromFile.timedOut, false, 'the gateway started with a mysql:// DSN');
    assert.equal(fromFile.code, 2, `exit ${fromFile.code}\n${fromFile.stderr}`);
    assert.match(fromFile.stderr, /HISTORY_DB_DSN|mysql:\/\/x|dsn/i, fromFile.stderr);

    const fromEnv = await runGatewayToExit({ config: `listen: "${listen}"\n${servers}`, env: { HISTORY_DB_DSN: 'mysql://x' } });
    assert.equal(fromEnv.timedOut, false, 'the gateway started with HISTORY_DB_DSN=mysql://x');
    assert.equal(fromEnv.code, 2, `exit ${fromEnv.code}\n${fromEnv.stderr}`);
    assert.match(fromEnv.stderr, /HISTORY_DB_DSN/, fromEnv.stderr);
  });
});
