// SSE resumption (Last-Event-ID) and the standalone GET stream of build/mcpgw, over raw fetch.
//
// The gateway runs with `post_response: sse`, so every POSTed request is answered as an SSE stream
// that opens with a priming event (`id: <stream>-0`, empty data). A client that drops such a stream
// must be able to GET /mcp with Last-Event-ID and receive exactly what it missed: no duplicates,
// nothing lost, the JSON-RPC result with the client's own id, and then the end of the stream.
//
// Upstreams: two chaos-servers over stdio. `victim` is crashed on purpose by the list_changed test
// (its restart is delayed so that the "down" and "up" changes are well apart).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  ACCEPT_BOTH,
  CHAOS_SERVER,
  needsGateway,
  rawRequest,
  rawSession,
  readyUpstream,
  sleep,
  startGateway,
} from './harness.mjs';

const VICTIM_BACKOFF_MS = 1500;

/** A timeout that does not keep the test process alive once everything else is done. */
const deadlineAfter = (ms) => new Promise((resolve) => setTimeout(resolve, ms).unref());

/** Polls fn() until it returns a truthy value; fails with `what` after timeoutMs. */
async function waitFor(fn, timeoutMs, what) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs}ms waiting for ${what}`);
    await sleep(50);
  }
}

/**
 * An SSE response read incrementally. `events` holds every event so far as {id, event, retry,
 * data, json} in arrival order (the priming event too: it has a data line, only an empty one);
 * `ended` resolves when the server ends the body (true) or the read fails/aborts (false).
 */
class SseReader {
  constructor(res, ac) {
    this.res = res;
    this.ac = ac;
    this.status = res.status;
    this.contentType = res.headers.get('content-type') ?? '';
    this.events = [];
    this.endedCleanly = null;
    this._waiters = [];
    this.ended = this._pump();
  }

  async _pump() {
    if (!this.res.body) {
      this.endedCleanly = true;
      return true;
    }
    const decoder = new TextDecoder();
    let buf = '';
    try {
      for await (const chunk of this.res.body) {
        buf += decoder.decode(chunk, { stream: true });
        let m;
        while ((m = /\r?\n\r?\n/.exec(buf))) {
          this._block(buf.slice(0, m.index));
          buf = buf.slice(m.index + m[0].length);
        }
      }
      this.endedCleanly = true;
    } catch {
      this.endedCleanly = false;
    }
    this._wake();
    return this.endedCleanly;
  }

  _block(block) {
    const ev = { event: 'message', id: undefined, retry: undefined, data: '' };
    const data = [];
    for (const line of block.split(/\r?\n/)) {
      if (!line || line.startsWith(':')) continue;
      const i = line.indexOf(':');
      const field = i < 0 ? line : line.slice(0, i);
      let val = i < 0 ? '' : line.slice(i + 1);
      if (val.startsWith(' ')) val = val.slice(1);
      if (field === 'data') data.push(val);
      else if (field === 'id') ev.id = val;
      else if (field === 'event') ev.event = val;
      else if (field === 'retry') ev.retry = Number(val);
    }
    if (!data.length) return; // not dispatched per the SSE rules
    ev.data = data.join('\n');
    ev.json = null;
    if (ev.data.trim()) {
      try {
        ev.json = JSON.parse(ev.data);
      } catch {
        /* left null; asserted on where it matters */
      }
    }
    this.events.push(ev);
    this._wake();
  }

  _wake() {
    const ws = this._waiters;
    this._waiters = [];
    for (const w of ws) w();
  }

  /** Waits until pred(events) holds; returns its value. Fails on timeout or if the body ends first. */
  async until(pred, timeoutMs, what) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = pred(this.events);
      if (v) return v;
      if (this.endedCleanly !== null) {
        throw new Error(`stream ended (${this.endedCleanly ? 'by the server' : 'with an error'}) before ${what}; events: ${JSON.stringify(this.events)}`);
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out after ${timeoutMs}ms waiting for ${what}; events: ${JSON.stringify(this.events)}`);
      await new Promise((resolve) => {
        const t = setTimeout(resolve, left);
        this._waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Waits for the server to end the body; fails if it does not within timeoutMs. */
  async untilEnd(timeoutMs, what) {
    const r = await Promise.race([this.ended, deadlineAfter(timeoutMs).then(() => 'timeout')]);
    if (r === 'timeout') {
      throw new Error(`${what}: the server did not end the stream within ${timeoutMs}ms; events: ${JSON.stringify(this.events)}`);
    }
    assert.equal(r, true, `${what}: the stream broke instead of ending cleanly`);
  }

  abort() {
    this.ac.abort();
  }
}

function sessionHeaders(session, extra = {}) {
  return {
    'mcp-session-id': session.sessionId,
    'mcp-protocol-version': session.protocolVersion,
    ...extra,
  };
}

/** POSTs one JSON-RPC request and returns an SseReader on its (streamed) response. */
async function postStreaming(gw, session, body, headers = {}) {
  const ac = new AbortController();
  const res = await fetch(gw.mcpUrl, {
    method: 'POST',
    headers: sessionHeaders(session, { 'content-type': 'application/json', accept: ACCEPT_BOTH, ...headers }),
    body: JSON.stringify(body),
    signal: ac.signal,
  });
  return new SseReader(res, ac);
}

/** GET /mcp (optionally with Last-Event-ID) and returns an SseReader; non-200 bodies are read whole. */
async function getStream(gw, session, lastEventId) {
  const ac = new AbortController();
  const headers = sessionHeaders(session, { accept: 'text/event-stream' });
  if (lastEventId !== undefined) headers['last-event-id'] = lastEventId;
  const res = await fetch(gw.mcpUrl, { method: 'GET', headers, signal: ac.signal });
  if (res.status !== 200) {
    const text = await res.text();
    return { status: res.status, text, abort: () => {} };
  }
  return new SseReader(res, ac);
}

const seqOf = (id) => Number(String(id).split('-')[1]);
const streamOf = (id) => String(id).split('-')[0];

/** The gateway's `request` log line for x-request-id `rid`, once the call has been answered. */
function requestLog(gw, rid) {
  return gw.logs().find((l) => l.msg === 'request' && l.request_id === rid);
}

/** Checks a priming event: id `<stream>-0`, empty data, a retry field. Returns the stream number. */
function assertPriming(ev, what) {
  assert.ok(ev, `${what}: no priming event`);
  assert.match(String(ev.id), /^\d+-0$/, `${what}: priming event id ${JSON.stringify(ev)}`);
  assert.equal(ev.data, '', `${what}: priming event must have empty data: ${JSON.stringify(ev)}`);
  assert.ok(Number.isInteger(ev.retry) && ev.retry >= 0, `${what}: priming event should carry retry: ${JSON.stringify(ev)}`);
  return streamOf(ev.id);
}

describe('SSE resumption with Last-Event-ID (post_response: sse)', { ...needsGateway(), timeout: 90000 }, () => {
  let gw;
  let rid = 0;
  const nextRid = (what) => `resume-${what}-${++rid}-${Date.now()}`;

  before(async () => {
    gw = await startGateway({
      config: {
        post_response: 'sse',
        tool_prefix: 'always',
        servers: [
          { name: 'chaos', command: ['node', CHAOS_SERVER] },
          {
            name: 'victim',
            command: ['node', CHAOS_SERVER],
            restart: { initial_backoff_ms: VICTIM_BACKOFF_MS, max_backoff_ms: VICTIM_BACKOFF_MS },
          },
        ],
      },
      wait: 'ready',
    });
    const s = await rawSession(gw);
    await waitFor(async () => {
      const r = await rawRequest(gw, s, 1, 'tools/list', {});
      const names = (r.response?.result?.tools ?? []).map((t) => t.name);
      return names.includes('chaos__slow') && names.includes('victim__crash');
    }, 20000, 'the chaos and victim tools to be listed');
  });

  after(async () => {
    if (gw) await gw.stopAndCheck(assert);
  });

  test('disconnect after the priming event; GET with that id replays the result, then ends', async () => {
    const session = await rawSession(gw);
    const r = nextRid('slow');
    const post = await postStreaming(
      gw,
      session,
      { jsonrpc: '2.0', id: 'call-slow-1', method: 'tools/call', params: { name: 'chaos__slow', arguments: { ms: 1500 } } },
      { 'x-request-id': r },
    );
    assert.equal(post.status, 200);
    assert.match(post.contentType, /^text\/event-stream/);
    await post.until((evs) => evs.length >= 1, 5000, 'the priming event');
    const stream = assertPriming(post.events[0], 'POST');
    const lastSeen = post.events.at(-1).id;
    assert.equal(post.events.length, 1, `only the priming event can have arrived yet: ${JSON.stringify(post.events)}`);
    post.abort();

    await waitFor(() => requestLog(gw, r), 10000, 'the slow call to finish upstream');

    const get = await getStream(gw, session, lastSeen);
    assert.equal(get.status, 200, `GET with Last-Event-ID ${lastSeen}: ${get.text}`);
    assert.match(get.contentType, /^text\/event-stream/);
    await get.untilEnd(5000, 'resumed finished stream');
    assert.deepEqual(
      get.events.map((e) => e.id),
      [`${stream}-1`],
      `replay must be exactly the one event after ${lastSeen}: ${JSON.stringify(get.events)}`,
    );
    assert.deepEqual(get.events[0].json, {
      jsonrpc: '2.0',
      id: 'call-slow-1',
      result: { content: [{ type: 'text', text: 'slept 1500' }] },
    });
  });

  test('disconnect mid-progress; the replay is exactly what was missed (no duplicates, no gaps), then ends', async () => {
    const session = await rawSession(gw);
    const r = nextRid('progress');
    const STEPS = 40; // 20 ms apart: the call runs ~1 s after the client has gone
    const post = await postStreaming(
      gw,
      session,
      {
        jsonrpc: '2.0',
        id: 77,
        method: 'tools/call',
        params: { name: 'chaos__progress', arguments: { steps: STEPS }, _meta: { progressToken: 'resume-tok' } },
      },
      { 'x-request-id': r },
    );
    assert.equal(post.status, 200);
    await post.until((evs) => evs.some((e) => e.json?.method === 'notifications/progress'), 5000, 'a progress event');
    post.abort();
    const seen = [...post.events];
    const stream = assertPriming(seen[0], 'POST');
    const lastSeen = seen.at(-1).id;
    assert.ok(
      !seen.some((e) => e.json && 'result' in e.json),
      `the result must not have arrived before the disconnect: ${JSON.stringify(seen)}`,
    );

    await waitFor(() => requestLog(gw, r), 10000, 'the progress call to finish upstream');

    const get = await getStream(gw, session, lastSeen);
    assert.equal(get.status, 200, `GET with Last-Event-ID ${lastSeen}: ${get.text}`);
    await get.untilEnd(5000, 'resumed finished stream');
    const replay = get.events;
    const seenIds = new Set(seen.map((e) => e.id));
    const dups = replay.filter((e) => seenIds.has(e.id));
    assert.deepEqual(dups, [], 'events the client had already seen were replayed');
    // Ids continue exactly after the last one seen, on the same stream, without gaps.
    const first = seqOf(lastSeen) + 1;
    assert.deepEqual(
      replay.map((e) => e.id),
      replay.map((_, i) => `${stream}-${first + i}`),
      `replayed ids: ${JSON.stringify(replay.map((e) => e.id))}`,
    );
    // Seen + replayed = every progress step once, in order, then the result once.
    const all = [...seen.slice(1), ...replay].map((e) => e.json);
    assert.ok(all.every(Boolean), `every event after the priming one must carry JSON: ${JSON.stringify([...seen, ...replay])}`);
    const progress = all.filter((m) => m.method === 'notifications/progress');
    assert.deepEqual(
      progress.map((m) => [m.params.progressToken, m.params.progress]),
      Array.from({ length: STEPS }, (_, i) => ['resume-tok', i + 1]),
    );
    const results = all.filter((m) => 'result' in m || 'error' in m);
    assert.equal(results.length, 1, `exactly one response: ${JSON.stringify(results)}`);
    assert.equal(all.at(-1), results[0], 'the response must be the last event');
    assert.deepEqual(results[0], { jsonrpc: '2.0', id: 77, result: { content: [{ type: 'text', text: `done ${STEPS}` }] } });
  });

  test('resume while the call is still running: the GET carries the rest live, then ends', async () => {
    const session = await rawSession(gw);
    const post = await postStreaming(gw, session, {
      jsonrpc: '2.0',
      id: 'live-1',
      method: 'tools/call',
      params: { name: 'chaos__slow', arguments: { ms: 1500 } },
    });
    await post.until((evs) => evs.length >= 1, 5000, 'the priming event');
    const stream = assertPriming(post.events[0], 'POST');
    post.abort();
    await sleep(100); // let the gateway notice the disconnect
    const t0 = Date.now();
    const get = await getStream(gw, session, `${stream}-0`);
    assert.equal(get.status, 200, get.text);
    const ev = await get.until((evs) => evs[0], 5000, 'the result on the resumed stream');
    assert.ok(Date.now() - t0 > 500, 'the result came too early: the call had 1.5 s to run');
    assert.equal(ev.id, `${stream}-1`);
    assert.deepEqual(ev.json, { jsonrpc: '2.0', id: 'live-1', result: { content: [{ type: 'text', text: 'slept 1500' }] } });
    await get.untilEnd(3000, 'live-resumed stream after its last response');
    assert.equal(get.events.length, 1, JSON.stringify(get.events));
  });

  test('malformed or unknown Last-Event-ID -> 404; ids are only valid in their own session', async () => {
    const a = await rawSession(gw);
    const b = await rawSession(gw);
    for (const bad of ['garbage', '1-', '-1', '1-x', 'x-1', '1_0', '1-0-0', '999999-0', '18446744073709551616-0']) {
      const g = await getStream(gw, a, bad);
      assert.equal(g.status, 404, `Last-Event-ID ${JSON.stringify(bad)}: ${g.status} ${g.text ?? ''}`);
      if (g.status === 200) g.abort();
    }
    // A real id from session A's dropped stream.
    const r = nextRid('cross');
    const post = await postStreaming(
      gw,
      a,
      { jsonrpc: '2.0', id: 5, method: 'tools/call', params: { name: 'chaos__slow', arguments: { ms: 300 } } },
      { 'x-request-id': r },
    );
    await post.until((evs) => evs.length >= 1, 5000, 'the priming event');
    const primingId = post.events[0].id;
    post.abort();
    await waitFor(() => requestLog(gw, r), 10000, 'the call to finish upstream');
    const other = await getStream(gw, b, primingId);
    assert.equal(other.status, 404, `session B resumed session A's stream ${primingId}: ${JSON.stringify(other.events ?? other.text)}`);
    if (other.status === 200) other.abort();
    const own = await getStream(gw, a, primingId);
    assert.equal(own.status, 200, own.text);
    await own.untilEnd(5000, 'own resumed stream');
    assert.deepEqual(own.events.map((e) => e.json?.id), [5]);
  });

  test('a second plain GET stream while one is open -> 409; allowed again once it is closed', async () => {
    const session = await rawSession(gw);
    const first = await getStream(gw, session);
    assert.equal(first.status, 200, first.text);
    assert.match(first.contentType, /^text\/event-stream/);
    await first.until((evs) => evs.length >= 1, 5000, 'the GET priming event');
    assertPriming(first.events[0], 'GET');
    const second = await getStream(gw, session);
    assert.equal(second.status, 409, `second GET: ${second.status} ${second.text ?? ''}`);
    if (second.status === 200) second.abort();
    first.abort();
    const third = await waitFor(async () => {
      const g = await getStream(gw, session);
      if (g.status === 200) return g;
      assert.equal(g.status, 409, g.text);
      return null;
    }, 3000, 'a new GET stream after the first was closed');
    third.abort();
  });

  test('the GET stream gets tools/list_changed when an upstream goes down and comes back; resumable', async () => {
    const session = await rawSession(gw);
    const get = await getStream(gw, session);
    assert.equal(get.status, 200, get.text);
    await get.until((evs) => evs.length >= 1, 5000, 'the GET priming event');
    const stream = assertPriming(get.events[0], 'GET');
    const isListChanged = (e) => e.json?.method === 'notifications/tools/list_changed';

    // Crash the victim: its tools disappear, which every session's GET stream is told about.
    const crash = await postStreaming(gw, session, {
      jsonrpc: '2.0',
      id: 'crash-1',
      method: 'tools/call',
      params: { name: 'victim__crash', arguments: {} },
    });
    await crash.until((evs) => evs.some((e) => e.json?.id === 'crash-1'), 10000, 'the crash call to be answered');
    crash.abort();
    await get.until((evs) => evs.some(isListChanged), 5000, 'list_changed after the victim went down');
    const down = get.events.find(isListChanged);
    assert.equal(streamOf(down.id), stream, `list_changed on the GET stream: ${JSON.stringify(down)}`);
    assert.deepEqual(down.json, { jsonrpc: '2.0', method: 'notifications/tools/list_changed' });
    const afterDown = await rawRequest(gw, session, 2, 'tools/list', {});
    const namesDown = afterDown.response.result.tools.map((t) => t.name);
    assert.ok(!namesDown.includes('victim__crash') && namesDown.includes('chaos__slow'), JSON.stringify(namesDown));

    // Drop the GET stream before the victim is back, then resume it once it is.
    const lastSeen = get.events.at(-1).id;
    get.abort();
    assert.equal(get.events.filter(isListChanged).length, 1, `only the "down" change can have arrived yet: ${JSON.stringify(get.events)}`);
    await waitFor(async () => {
      const body = await (await fetch(`${gw.url}/ready`)).json();
      const v = readyUpstream(body, 'victim');
      return v?.status === 'ready' && v.restarts >= 1;
    }, 15000, 'the victim to be restarted');
    await waitFor(async () => {
      const r = await rawRequest(gw, session, 3, 'tools/list', {});
      return r.response?.result?.tools?.some((t) => t.name === 'victim__crash');
    }, 5000, 'the victim tools to be listed again');

    const resumed = await getStream(gw, session, lastSeen);
    assert.equal(resumed.status, 200, `GET with Last-Event-ID ${lastSeen}: ${resumed.text}`);
    await resumed.until((evs) => evs.some(isListChanged), 3000, 'the missed list_changed to be replayed');
    const first = seqOf(lastSeen) + 1;
    assert.equal(resumed.events[0].id, `${stream}-${first}`, `replay must start right after ${lastSeen}: ${JSON.stringify(resumed.events)}`);
    assert.ok(resumed.events.every(isListChanged), JSON.stringify(resumed.events));
    // The standalone stream stays open after the replay (it has no last response).
    await sleep(300);
    assert.equal(resumed.endedCleanly, null, 'the resumed GET stream must stay open');
    // ...and, being the session's GET stream again, a plain GET conflicts with it.
    const again = await getStream(gw, session);
    assert.equal(again.status, 409, `plain GET while the resumed stream is open: ${again.status}`);
    if (again.status === 200) again.abort();
    resumed.abort();
  });
});
