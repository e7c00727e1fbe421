// Error handling of build/mcpgw: protocol errors over raw HTTP, and upstreams that crash or hang.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import {
  CHAOS_SERVER,
  EVERYTHING_HTTP_JS,
  freePort,
  startHelper,
  PROTOCOL_VERSION,
  connectClient,
  httpRequest,
  needsGateway,
  postMcp,
  rawRequest,
  rawSession,
  readyUpstream,
  resultText,
  sleep,
  startGateway,
  waitForTools,
} from './harness.mjs';

const HANG_TIMEOUT_MS = 1500;

/** Status of a GET (headers only; the body of an SSE stream is not awaited). */
function httpRequestHead(port, p, headers) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method: 'GET', path: p, headers, timeout: 5000 }, (res) => {
      resolve(res.statusCode);
      res.destroy();
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

const initBody = (id = 1) => ({
  jsonrpc: '2.0',
  id,
  method: 'initialize',
  params: { protocolVersion: PROTOCOL_VERSION, capabilities: {}, clientInfo: { name: 'errors-test', version: '1' } },
});

function jsonBody(r) {
  try {
    return JSON.parse(r.text);
  } catch {
    assert.fail(`expected a JSON body, got ${r.status} ${JSON.stringify(r.headers?.get?.('content-type') ?? r.headers?.['content-type'])}: ${r.text.slice(0, 300)}`);
  }
}

/** Asserts an HTTP status and a JSON-RPC error body with the given code. */
function assertRpcError(r, status, code, what) {
  assert.equal(r.status, status, `${what}: expected HTTP ${status}, got ${r.status} ${r.text.slice(0, 300)}`);
  const body = jsonBody(r);
  assert.equal(body.jsonrpc, '2.0', `${what}: ${r.text}`);
  assert.equal(body.error?.code, code, `${what}: ${r.text}`);
  return body;
}

describe('protocol errors (raw HTTP)', { ...needsGateway(), timeout: 90000 }, () => {
  let gw;
  let session;

  before(async () => {
    gw = await startGateway({
      config: {
        tool_prefix: 'always',
        request_timeout_ms: 2000,
        max_body_bytes: 65536,
        max_header_bytes: 8192,
        servers: [{ name: 'chaos', command: ['node', CHAOS_SERVER] }],
      },
      wait: 'ready',
    });
    session = await rawSession(gw);
    // wait until the upstream's tools are visible
    for (let i = 0; i < 100; i++) {
      const r = await rawRequest(gw, session, 900 + i, 'tools/list', {});
      if (r.response?.result?.tools?.some((t) => t.name === 'chaos__echo')) break;
      await sleep(200);
    }
  });

  after(async () => {
    if (gw) await gw.stop();
  });

  test('GET /health is 200 {"status":"ok"}', async () => {
    const res = await fetch(`${gw.url}/health`);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { status: 'ok' });
  });

  test('GET /ready is 200 with per-upstream components', async () => {
    const res = await fetch(`${gw.url}/ready`);
    const body = await res.json();
    assert.equal(res.status, 200, JSON.stringify(body));
    assert.ok(typeof body.status === 'string', JSON.stringify(body));
    assert.match(String(readyUpstream(body, 'chaos')?.status), /^(ok|up|ready|healthy|running|connected)$/i, JSON.stringify(body));
  });

  test('initialize answers with a session id and the offered protocol version', async () => {
    assert.match(session.sessionId, /^[\x21-\x7e]+$/, 'session id must be visible ASCII');
    assert.equal(session.protocolVersion, PROTOCOL_VERSION);
    assert.ok(session.result.capabilities?.tools, JSON.stringify(session.result));
  });

  test('malformed JSON -> 400, -32700, id null (with and without a session)', async () => {
    for (const sessionId of [undefined, session.sessionId]) {
      const r = await postMcp(gw, '{"jsonrpc": "2.0", "id": 1, "method": ', {
        raw: true,
        sessionId,
        protocolVersion: sessionId ? session.protocolVersion : undefined,
      });
      const body = assertRpcError(r, 400, -32700, `malformed JSON (session: ${!!sessionId})`);
      assert.equal(body.id, null);
    }
  });

  test('wrong "jsonrpc" or a non-object body -> 400, -32600', async () => {
    const cases = [
      ['jsonrpc 1.0', JSON.stringify({ jsonrpc: '1.0', id: 5, method: 'tools/list' })],
      ['jsonrpc missing', JSON.stringify({ id: 5, method: 'tools/list' })],
      ['number', '42'],
      ['string', '"tools/list"'],
      ['null', 'null'],
      ['boolean', 'true'],
      // JSON-RPC batches were removed from MCP in 2025-06-18; this session negotiated 2025-11-25.
      ['array (batch)', JSON.stringify([{ jsonrpc: '2.0', id: 5, method: 'tools/list' }])],
    ];
    for (const [what, body] of cases) {
      const r = await postMcp(gw, body, { raw: true, sessionId: session.sessionId, protocolVersion: session.protocolVersion });
      assertRpcError(r, 400, -32600, what);
    }
  });

  // MCP 2025-03-26 obliges a server to receive JSON-RPC batches ("MUST support receiving");
  // 2025-06-18 removed them (the case above). Members are answered each as if sent alone.
  test('a 2025-03-26 session may batch: every request answered, bad members refused one by one', async () => {
    const old = await rawSession(gw, { protocolVersion: '2025-03-26' });
    assert.equal(old.protocolVersion, '2025-03-26');
    const opts = { sessionId: old.sessionId, protocolVersion: old.protocolVersion };
    const batch = [
      { jsonrpc: '2.0', id: 'a', method: 'ping' },
      { jsonrpc: '2.0', id: 'b', method: 'tools/call', params: { name: 'chaos__echo', arguments: { text: 'in a batch' } } },
      { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 'nothing-to-cancel' } },
      42,
      { jsonrpc: '2.0', id: 'c', method: 'initialize', params: { protocolVersion: '2025-03-26', capabilities: {}, clientInfo: { name: 'x', version: '1' } } },
      { jsonrpc: '2.0', id: 'd', method: 'tools/call', params: { name: 'chaos__slow', arguments: { ms: 200 } } },
    ];
    // Accepting SSE: one event per answer as each is ready; accepting only JSON: one array.
    for (const accept of ['application/json, text/event-stream', 'application/json']) {
      const r = await postMcp(gw, batch, { ...opts, headers: { accept } });
      assert.equal(r.status, 200, `${accept}: ${r.text}`);
      const ct = r.headers.get('content-type');
      if (accept === 'application/json') {
        assert.match(ct, /^application\/json/, ct);
        assert.ok(Array.isArray(JSON.parse(r.text)), r.text);
      } else {
        assert.match(ct, /^text\/event-stream/, ct);
      }
      assert.equal(r.messages.length, 5, `${accept}: ${r.text}`);
      const byId = Object.fromEntries(r.messages.filter((m) => m.id !== null).map((m) => [m.id, m]));
      assert.deepEqual(byId.a.result, {}, r.text);
      assert.equal(resultText(byId.b.result), 'in a batch');
      assert.equal(byId.c.error?.code, -32600, r.text);
      assert.equal(resultText(byId.d.result), 'slept 200');
      const anonymous = r.messages.filter((m) => m.id === null);
      assert.equal(anonymous.length, 1, r.text);
      assert.equal(anonymous[0].error?.code, -32600, r.text);
    }
    // Notifications only: 202 without a body. Empty, or without a session: -32600.
    const note = await postMcp(gw, [{ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 'x' } }], opts);
    assert.equal(note.status, 202, note.text);
    assert.equal(note.text, '');
    assertRpcError(await postMcp(gw, [], opts), 400, -32600, 'empty batch');
    assertRpcError(await postMcp(gw, [batch[4]], {}), 400, -32600, 'initialize in a batch, no session');
  });

  test('unknown method -> JSON-RPC -32601', async () => {
    const r = await rawRequest(gw, session, 21, 'no/such-method', {});
    assert.equal(r.status, 200, r.text);
    assert.equal(r.response?.error?.code, -32601, r.text);
  });

  test('unknown tool -> JSON-RPC -32602 naming the tool', async () => {
    for (const name of ['nope__nothing', 'echo' /* unprefixed under tool_prefix: always */]) {
      const r = await rawRequest(gw, session, 22, 'tools/call', { name, arguments: {} });
      assert.equal(r.status, 200, r.text);
      assert.equal(r.response?.error?.code, -32602, `${name}: ${r.text}`);
      assert.ok(r.response.error.message.includes(name), `error should name ${name}: ${r.text}`);
    }
  });

  test('request ids come back exactly as sent (string, 0, negative, 2^53-1)', async () => {
    for (const id of ['abc-1', '', 0, -5, 9007199254740991]) {
      for (const [method, params] of [
        ['tools/call', { name: 'chaos__echo', arguments: { text: `id ${id}` } }],
        ['ping', {}],
      ]) {
        const r = await rawRequest(gw, session, id, method, params);
        assert.equal(r.status, 200, r.text);
        assert.ok(r.response, `${method}: no response with id ${JSON.stringify(id)} (${typeof id}): ${r.text}`);
        assert.ok(!r.response.error, r.text);
      }
    }
  });

  test('global request_timeout_ms (2000) applies to an upstream that never answers', async () => {
    const t0 = Date.now();
    const r = await rawRequest(gw, session, 30, 'tools/call', { name: 'chaos__hang', arguments: {} }, { timeoutMs: 10000 });
    const ms = Date.now() - t0;
    assert.equal(r.status, 200, r.text);
    assert.ok(r.response?.error, `expected a JSON-RPC error, got ${r.text}`);
    assert.ok(ms >= 1900 && ms < 5000, `error after ${ms}ms`);
  });

  test('body larger than max_body_bytes -> 413', async () => {
    const big = JSON.stringify({
      jsonrpc: '2.0',
      id: 23,
      method: 'tools/call',
      params: { name: 'chaos__echo', arguments: { text: 'x'.repeat(100 * 1024) } },
    });
    const r = await postMcp(gw, big, { raw: true, sessionId: session.sessionId, protocolVersion: session.protocolVersion });
    assert.equal(r.status, 413, r.text.slice(0, 300));
    // just under the limit is fine
    const ok = await rawRequest(gw, session, 24, 'tools/call', { name: 'chaos__echo', arguments: { text: 'y'.repeat(60000) } });
    assert.equal(ok.status, 200, ok.text.slice(0, 300));
    assert.equal(ok.response?.result?.content?.[0]?.text?.length, 60000);
  });

  test('request headers larger than max_header_bytes -> 431', async () => {
    const r = await httpRequest(gw.port, {
      method: 'POST',
      path: '/mcp',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'x-filler': 'z'.repeat(12000) },
      body: JSON.stringify(initBody()),
    }).catch((e) => ({ status: `connection error: ${e.message}`, text: '' }));
    assert.equal(r.status, 431, r.text);
  });

  test('unknown session id -> 404 (POST, GET and DELETE)', async () => {
    const h = { 'mcp-session-id': 'no-such-session-0000', 'mcp-protocol-version': PROTOCOL_VERSION };
    const post = await postMcp(gw, { jsonrpc: '2.0', id: 25, method: 'tools/list' }, { headers: h });
    assert.equal(post.status, 404, post.text);
    const get = await fetch(gw.mcpUrl, { headers: { ...h, accept: 'text/event-stream' }, signal: AbortSignal.timeout(5000) });
    assert.equal(get.status, 404);
    await get.body?.cancel();
    const del = await fetch(gw.mcpUrl, { method: 'DELETE', headers: h, signal: AbortSignal.timeout(5000) });
    assert.equal(del.status, 404);
  });

  test('bad MCP-Protocol-Version header -> 400', async () => {
    for (const v of ['1999-01-01', 'banana']) {
      const r = await postMcp(gw, { jsonrpc: '2.0', id: 26, method: 'tools/list' }, {
        sessionId: session.sessionId,
        protocolVersion: v,
      });
      assert.equal(r.status, 400, `${v}: ${r.text}`);
    }
  });

  test('POST without a session id that is not initialize -> 400', async () => {
    const r = await postMcp(gw, { jsonrpc: '2.0', id: 27, method: 'tools/list' }, { protocolVersion: PROTOCOL_VERSION });
    assert.equal(r.status, 400, r.text);
  });

  test('notifications -> 202 with no body', async () => {
    for (const method of ['notifications/roots/list_changed', 'notifications/cancelled']) {
      const params = method === 'notifications/cancelled' ? { requestId: 999999, reason: 'test' } : {};
      const r = await postMcp(gw, { jsonrpc: '2.0', method, params }, {
        sessionId: session.sessionId,
        protocolVersion: session.protocolVersion,
      });
      assert.equal(r.status, 202, `${method}: ${r.text}`);
      assert.equal(r.text, '');
    }
  });

  test('Host or Origin other than loopback -> 403; loopback names allowed', async () => {
    const body = JSON.stringify(initBody());
    const base = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
    const send = (headers) => httpRequest(gw.port, { method: 'POST', path: '/mcp', headers: { ...base, ...headers }, body });
    assert.equal((await send({ host: `evil.example:${gw.port}` })).status, 403, 'foreign Host');
    assert.equal((await send({ host: `127.0.0.1.evil.example:${gw.port}` })).status, 403, 'lookalike Host');
    assert.equal((await send({ host: `127.0.0.1:${gw.port}`, origin: 'http://evil.example' })).status, 403, 'foreign Origin');
    assert.equal((await send({ host: `127.0.0.1:${gw.port}`, origin: 'http://localhost.evil.example' })).status, 403, 'lookalike Origin');
    // The legacy SSE endpoint is protected the same way.
    const sse = await httpRequestHead(gw.port, '/sse', { host: `evil.example:${gw.port}`, accept: 'text/event-stream' });
    assert.equal(sse, 403, 'GET /sse with a foreign Host');
    for (const host of [`localhost:${gw.port}`, `127.0.0.1:${gw.port}`, `[::1]:${gw.port}`]) {
      const r = await send({ host });
      assert.equal(r.status, 200, `Host ${host}: ${r.status} ${r.text.slice(0, 200)}`);
    }
    for (const origin of [`http://localhost:${gw.port}`, `http://127.0.0.1:${gw.port}`]) {
      const r = await send({ host: `127.0.0.1:${gw.port}`, origin });
      assert.equal(r.status, 200, `Origin ${origin}: ${r.status} ${r.text.slice(0, 200)}`);
    }
  });

  test('legacy POST /messages with an unknown sessionId -> 404', async () => {
    const r = await fetch(`${gw.url}/messages?sessionId=no-such-session-0000`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }),
    });
    assert.equal(r.status, 404, await r.text());
  });

  test('DELETE ends the session; it is 404 afterwards', async () => {
    const s = await rawSession(gw);
    const del = await fetch(gw.mcpUrl, {
      method: 'DELETE',
      headers: { 'mcp-session-id': s.sessionId, 'mcp-protocol-version': s.protocolVersion },
    });
    assert.ok(del.status >= 200 && del.status < 300, `DELETE got ${del.status}`);
    const after = await rawRequest(gw, s, 28, 'tools/list', {});
    assert.equal(after.status, 404, after.text);
  });

  test('the gateway still serves after all of the above', async () => {
    const r = await rawRequest(gw, session, 29, 'tools/call', { name: 'chaos__echo', arguments: { text: 'alive' } });
    assert.equal(r.response?.result?.content?.[0]?.text, 'alive', r.text);
    const c = await connectClient(gw);
    try {
      assert.equal(resultText(await c.callTool({ name: 'chaos__echo', arguments: { text: 'sdk alive' } })), 'sdk alive');
    } finally {
      await c.close();
    }
    const health = await fetch(`${gw.url}/health`);
    assert.equal(health.status, 200);
  });

  test('stops cleanly', async () => {
    await gw.stopAndCheck(assert);
  });
});

describe('allowed_origins', { ...needsGateway(), timeout: 60000 }, () => {
  const send = (gw, origin) =>
    httpRequest(gw.port, {
      method: 'POST',
      path: '/mcp',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        host: `127.0.0.1:${gw.port}`,
        origin,
      },
      body: JSON.stringify(initBody()),
    });

  test('an origin listed in the file is allowed, others are still 403', async () => {
    const gw = await startGateway({ config: { allowed_origins: ['https://app.example.com'], servers: [{ name: 'chaos', command: ['node', CHAOS_SERVER] }] } });
    try {
      assert.equal((await send(gw, 'https://app.example.com')).status, 200);
      assert.equal((await send(gw, 'https://other.example.com')).status, 403);
    } finally {
      await gw.stopAndCheck(assert);
    }
  });

  test('GATEWAY_ALLOWED_ORIGINS replaces the file list', async () => {
    const gw = await startGateway({
      config: { allowed_origins: ['https://file.example.com'], servers: [{ name: 'chaos', command: ['node', CHAOS_SERVER] }] },
      env: { GATEWAY_ALLOWED_ORIGINS: 'https://env-a.example.com, https://env-b.example.com' },
    });
    try {
      assert.equal((await send(gw, 'https://env-a.example.com')).status, 200);
      assert.equal((await send(gw, 'https://env-b.example.com')).status, 200);
      assert.equal((await send(gw, 'https://file.example.com')).status, 403);
    } finally {
      await gw.stopAndCheck(assert);
    }
  });
});

describe('failing upstreams', { ...needsGateway(), timeout: 90000 }, () => {
  let gw;
  let a;
  let b;

  before(async () => {
    gw = await startGateway({
      config: {
        tool_prefix: 'always',
        request_timeout_ms: 30000,
        servers: [
          { name: 'chaos', command: ['node', CHAOS_SERVER], restart: { initial_backoff_ms: 100, max_backoff_ms: 1000 } },
          { name: 'hangy', command: ['node', CHAOS_SERVER], request_timeout_ms: HANG_TIMEOUT_MS },
        ],
      },
      wait: 'ready',
    });
    a = await connectClient(gw, { name: 'session-a' });
    b = await connectClient(gw, { name: 'session-b' });
    await waitForTools(a, (n) => n.includes('chaos__crash') && n.includes('hangy__hang')).catch(() => {});
  });

  after(async () => {
    await a?.close().catch(() => {});
    await b?.close().catch(() => {});
    if (gw) await gw.stop();
  });

  test('crash mid-call: prompt error, upstream restarted, other sessions unaffected', async () => {
    const pidBefore = Number(resultText(await a.callTool({ name: 'chaos__pid', arguments: {} })));
    assert.ok(pidBefore > 0);
    assert.ok(gw.recordChildren().some((c) => c.pid === pidBefore), 'chaos upstream should be a child of the gateway');

    // B has a call in flight on the same upstream when it dies.
    const t0 = Date.now();
    const bSlow = b.callTool({ name: 'chaos__slow', arguments: { ms: 8000 } }, undefined, { timeout: 25000 }).then(
      (r) => ({ ok: r, ms: Date.now() - t0 }),
      (e) => ({ err: e, ms: Date.now() - t0 }),
    );
    await sleep(100);
    let crashErr;
    try {
      await a.callTool({ name: 'chaos__crash', arguments: {} }, undefined, { timeout: 25000 });
    } catch (e) {
      crashErr = e;
    }
    const crashMs = Date.now() - t0;
    assert.ok(crashErr, 'crash call must fail');
    assert.ok(crashMs < 5000, `crash error took ${crashMs}ms (request_timeout_ms is 30000)`);

    // The other upstream is unaffected, right away.
    const t1 = Date.now();
    assert.equal(resultText(await b.callTool({ name: 'hangy__echo', arguments: { text: 'other upstream' } })), 'other upstream');
    assert.ok(Date.now() - t1 < 2000);

    // B's in-flight call on the crashed upstream also fails promptly instead of hanging.
    const slow = await bSlow;
    assert.ok(slow.err, `B's call on the crashed upstream returned ${JSON.stringify(slow.ok)}`);
    assert.ok(slow.ms < 6000, `B's in-flight call failed only after ${slow.ms}ms`);

    // The upstream comes back (backoff 100ms) and both sessions can use it.
    let echo;
    let lastErr;
    const deadline = Date.now() + 10000;
    while (Date.now() < deadline) {
      try {
        echo = await b.callTool({ name: 'chaos__echo', arguments: { text: 'after restart' } }, undefined, { timeout: 5000 });
        break;
      } catch (e) {
        lastErr = e;
        await sleep(200);
      }
    }
    assert.ok(echo, `chaos never came back: ${lastErr?.message}`);
    assert.equal(resultText(echo), 'after restart');
    const pidAfter = Number(resultText(await a.callTool({ name: 'chaos__pid', arguments: {} })));
    assert.notEqual(pidAfter, pidBefore, 'expected a new upstream process');
    assert.equal(resultText(await a.callTool({ name: 'chaos__echo', arguments: { text: 'a ok' } })), 'a ok');

    // The crashed process was reaped.
    await sleep(300);
    assert.deepEqual(gw.zombieChildren(), [], 'zombie children after the crash');
  });

  test('/ready still lists both upstreams after the restart', async () => {
    const res = await fetch(`${gw.url}/ready`);
    const body = await res.json();
    assert.equal(res.status, 200, JSON.stringify(body));
    for (const name of ['chaos', 'hangy']) {
      assert.match(String(readyUpstream(body, name)?.status), /^(ok|up|ready|healthy|running|connected)$/i, JSON.stringify(body));
    }
  });

  test(`hang -> JSON-RPC error after request_timeout_ms (${HANG_TIMEOUT_MS}ms); upstream keeps serving`, async () => {
    const t0 = Date.now();
    const hang = a.callTool({ name: 'hangy__hang', arguments: {} }, undefined, { timeout: 15000 }).then(
      (r) => ({ ok: r, ms: Date.now() - t0 }),
      (e) => ({ err: e, ms: Date.now() - t0 }),
    );
    // While one call hangs, the same upstream still answers other calls (here from another session).
    await sleep(200);
    const t1 = Date.now();
    assert.equal(resultText(await b.callTool({ name: 'hangy__echo', arguments: { text: 'not blocked' } })), 'not blocked');
    assert.ok(Date.now() - t1 < 1000);
    const r = await hang;
    assert.ok(r.err, `hang returned ${JSON.stringify(r.ok)}`);
    assert.ok(r.ms >= HANG_TIMEOUT_MS - 100, `error came after ${r.ms}ms, before the timeout`);
    assert.ok(r.ms < HANG_TIMEOUT_MS + 3000, `error came after ${r.ms}ms`);
    assert.equal(resultText(await a.callTool({ name: 'hangy__echo', arguments: { text: 'after hang' } })), 'after hang');
  });

  test('slow answers within the timeout are delivered', async () => {
    const r = await a.callTool({ name: 'hangy__slow', arguments: { ms: 800 } });
    assert.equal(resultText(r), 'slept 800');
  });

  test('every stderr line is a JSON log record', async () => {
    const bad = gw.logs().filter((l) => l._raw !== undefined);
    assert.deepEqual(bad.slice(0, 5), [], `${bad.length} non-JSON stderr lines`);
  });

  test('stops cleanly while a call is still hanging', async () => {
    const pending = a.callTool({ name: 'chaos__hang', arguments: {} }, undefined, { timeout: 20000 }).catch((e) => e);
    await sleep(300);
    await gw.stopAndCheck(assert);
    const r = await pending;
    assert.ok(r instanceof Error, 'the hanging call cannot have succeeded');
    await a.close().catch(() => {});
    await b.close().catch(() => {});
    a = b = null;
  });
});

describe('a Streamable HTTP upstream that goes away and comes back', { ...needsGateway(), timeout: 90000 }, () => {
  let gw;
  let helper;
  let client;
  let httpPort;

  before(async () => {
    httpPort = await freePort();
    helper = await startHelper([EVERYTHING_HTTP_JS, String(httpPort)], { waitUrl: `http://127.0.0.1:${httpPort}/health` });
    gw = await startGateway({
      config: {
        tool_prefix: 'always',
        request_timeout_ms: 30000,
        servers: [
          { name: 'remote', transport: 'http', url: `http://127.0.0.1:${httpPort}/mcp`, restart: { initial_backoff_ms: 100, max_backoff_ms: 1000 } },
          { name: 'chaos', command: ['node', CHAOS_SERVER] },
        ],
      },
      wait: 'ready',
    });
    client = await connectClient(gw);
    await waitForTools(client, (n) => n.includes('remote__echo') && n.includes('chaos__echo')).catch(() => {});
  });

  after(async () => {
    await client?.close().catch(() => {});
    if (gw) await gw.stop();
    if (helper) await helper.stop();
  });

  test('a call in flight fails promptly when the upstream dies; it is used again once back', async () => {
    assert.equal(resultText(await client.callTool({ name: 'remote__echo', arguments: { message: 'before' } })), 'Echo: before');
    const t0 = Date.now();
    const long = client
      .callTool({ name: 'remote__trigger-long-running-operation', arguments: { duration: 10, steps: 5 } }, undefined, { timeout: 25000 })
      .then((r) => ({ ok: r, ms: Date.now() - t0 }), (e) => ({ err: e, ms: Date.now() - t0 }));
    await sleep(500);
    helper.proc.kill('SIGKILL');
    await helper.stop();
    const r = await long;
    assert.ok(r.err || r.ok?.isError, `call on a dead upstream returned ${JSON.stringify(r.ok)}`);
    assert.ok(r.ms < 6000, `error came only after ${r.ms}ms (request_timeout_ms 30000)`);

    // The other upstream is unaffected.
    assert.equal(resultText(await client.callTool({ name: 'chaos__echo', arguments: { text: 'still' } })), 'still');

    // Same port, fresh process: it knows nothing of the gateway's old upstream session.
    helper = await startHelper([EVERYTHING_HTTP_JS, String(httpPort)], { waitUrl: `http://127.0.0.1:${httpPort}/health` });
    let echo;
    let lastErr;
    const deadline = Date.now() + 15000;
    while (Date.now() < deadline) {
      try {
        echo = await client.callTool({ name: 'remote__echo', arguments: { message: 'after' } }, undefined, { timeout: 5000 });
        if (!echo.isError) break;
        lastErr = new Error(resultText(echo));
        echo = undefined;
      } catch (e) {
        lastErr = e;
      }
      await sleep(300);
    }
    assert.ok(echo, `remote never usable again after restart: ${lastErr?.message}`);
    assert.equal(resultText(echo), 'Echo: after');
  });
});
