// Tool-call history on a real PostgreSQL server (tests/integration/pg.mjs starts a throwaway one:
// initdb into a temporary directory, Unix socket only), end to end through build/mcpgw:
//   - outage: PostgreSQL is stopped (pg_ctl stop -m fast) in the middle of a load of sequential and
//     concurrent tools/call in the default (sync) mode; calls keep being answered (their rows go to
//     the spool file); PostgreSQL comes back, the spool drains, and every answered call is in
//     history exactly once, in the order it was answered, with an intact hash chain; /ready shows
//     the history component degraded (spooling) meanwhile, and ready again afterwards.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {
  CHAOS_SERVER,
  GATEWAY_BIN,
  REPO_ROOT,
  gatewayExists,
  rawRequest,
  rawSession,
  sleep,
  startGateway,
  tmpDir,
} from './harness.mjs';
import { pgMissing, startPostgres } from './pg.mjs';

const skip = (!gatewayExists() ? `${GATEWAY_BIN} not built` : pgMissing()) || false;
const chaos = () => ({ name: 'chaos', command: ['node', CHAOS_SERVER] });

function mcpgw(args) {
  const r = spawnSync(GATEWAY_BIN, args, { cwd: REPO_ROOT, encoding: 'utf8', timeout: 20000 });
  return { code: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

let nextId = 1000;
/** tools/call echo with X-Request-Id `rid`; resolves to the echoed text (throws on anything else). */
async function echo(gw, sess, rid) {
  const id = ++nextId;
  const r = await rawRequest(gw, sess, id, 'tools/call', { name: 'echo', arguments: { text: rid } }, { headers: { 'x-request-id': rid }, timeoutMs: 10000 });
  const text = r.response?.result?.content?.[0]?.text;
  if (r.status !== 200 || text !== rid) throw new Error(`${rid}: ${r.status} ${r.text.slice(0, 300)}`);
  return text;
}

async function waitForEcho(gw, sess) {
  for (let i = 0; i < 150; i++) {
    const r = await rawRequest(gw, sess, ++nextId, 'tools/list', {});
    if ((r.response?.result?.tools ?? []).some((t) => t.name === 'echo')) return;
    await sleep(100);
  }
  assert.fail('echo never listed');
}

async function ready(gw) {
  const res = await fetch(`${gw.url}/ready`, { signal: AbortSignal.timeout(5000) });
  return { status: res.status, body: await res.json() };
}

describe('history on PostgreSQL', { skip, timeout: 60000 }, () => {
  let pg;
  let dsn;
  let gw;
  let spool;

  before(async () => {
    pg = startPostgres();
    dsn = pg.createDatabase('history');
    spool = path.join(tmpDir('mcpgw-spool-'), 'history.spool');
    gw = await startGateway({
      config: { servers: [chaos()], history: { spool } },
      env: { HISTORY_DB_DSN: dsn },
      wait: 'ready',
    });
  });

  after(async () => {
    try {
      if (gw) await gw.stopAndCheck(assert);
    } finally {
      pg?.destroy();
    }
  });

  test('outage: PostgreSQL stopped mid-load, calls keep being answered, no row lost or duplicated, order kept', async () => {
    const t0 = Date.now();
    assert.ok(gw.logs().some((l) => l.msg === 'history recording' && l.durability === 'sync'), 'default (sync) durability');
    const WORKERS = 4; // concurrent sessions, besides the sequential one
    const sessions = [];
    for (let i = 0; i <= WORKERS; i++) sessions.push(await rawSession(gw));
    await waitForEcho(gw, sessions[0]);

    // Every answered call, in the order its answer arrived (per worker: its own order).
    const answered = []; // {rid, worker, phase}
    let phase = 'before';
    let stopLoad = false;
    const failures = [];
    const worker = async (w) => {
      for (let i = 0; !stopLoad; i++) {
        const rid = w === 0 ? `seq-${i}` : `w${w}-${i}`;
        const at = phase;
        try {
          await echo(gw, sessions[w], rid);
          answered.push({ rid, worker: w, phase: at === phase ? at : `${at}>${phase}` });
        } catch (e) {
          failures.push(`${rid} (sent ${at}, now ${phase}): ${e.message}`);
          return;
        }
      }
    };
    const countIn = (p, w) => answered.filter((a) => a.phase === p && (w === undefined || a.worker === w)).length;
    const until = async (what, pred, ms = 10000) => {
      const deadline = Date.now() + ms;
      while (!pred()) {
        if (failures.length) assert.fail(`calls failed while ${what}: ${failures.slice(0, 5).join('\n')}`);
        if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}: ${JSON.stringify({ phase, answered: answered.length })}`);
        await sleep(20);
      }
    };
    const load = [...Array(WORKERS + 1).keys()].map(worker);
    try {
      await until('the first calls', () => countIn('before', 0) >= 60 && answered.length >= 250);

      phase = 'stopping';
      await pg.stopAsync();
      phase = 'down';
      // Answered while the database is down: written to the spool, not to PostgreSQL.
      await until('calls during the outage', () => countIn('down', 0) >= 60 && countIn('down') >= 250);
      // /ready: still serving (200), the history component degraded, rows going to the spool.
      const during = await ready(gw);
      const h = during.body.components?.history;
      assert.equal(during.status, 200, JSON.stringify(during.body));
      assert.equal(during.body.status, 'degraded', JSON.stringify(during.body));
      assert.equal(h?.status, 'degraded', JSON.stringify(h));
      assert.equal(h.durability, 'sync');
      assert.ok(h.spooled > 0 && h.spool_pending_bytes > 0, JSON.stringify(h));
      assert.equal(h.at_risk, 0, 'sync mode: nothing answered is at risk');
      assert.match(h.error ?? '', /postgres|connect/i, JSON.stringify(h));

      phase = 'starting';
      await pg.startAsync();
      phase = 'after';
      await until('calls after the restart', () => countIn('after', 0) >= 60 && countIn('after') >= 250);
    } finally {
      stopLoad = true;
      await Promise.all(load);
    }
    assert.deepEqual(failures, [], 'every call was answered');

    // The spool drains into PostgreSQL.
    let rows = [];
    for (let i = 0; i < 200; i++) {
      rows = pg.query(dsn, 'SELECT seq, request_id, outcome FROM tool_calls ORDER BY seq');
      if (rows.length >= answered.length) break;
      await sleep(50);
    }
    const logs = gw.logs();
    assert.ok(logs.some((l) => l.msg === 'history database unavailable; spooling rows to disk'), 'the outage was noticed');
    assert.ok(logs.some((l) => l.msg === 'history spool replayed into the database'), `the spool was replayed: ${gw.stderr.slice(-2000)}`);

    // Exactly once each, nothing else, with a gap-free seq.
    assert.equal(rows.length, answered.length, `rows in PostgreSQL vs calls answered (${countIn('down')} during the outage)`);
    const count = new Map();
    for (const r of rows) count.set(r.request_id, (count.get(r.request_id) ?? 0) + 1);
    const dupes = [...count].filter(([, n]) => n > 1);
    assert.deepEqual(dupes, [], 'rows recorded twice');
    const missing = answered.filter((a) => !count.has(a.rid)).map((a) => a.rid);
    assert.deepEqual(missing, [], 'answered calls without a row');
    assert.deepEqual(rows.map((r) => Number(r.seq)), rows.map((_, i) => i + 1), 'seq runs 1..n');
    assert.ok(rows.every((r) => r.outcome === 'ok'), 'outcomes');

    // Order: each worker's calls (one after another) have increasing seq, in the order answered;
    // for the sequential worker, that is every call it made.
    for (let w = 0; w <= WORKERS; w++) {
      const mine = (rid) => (w === 0 ? rid.startsWith('seq-') : rid.startsWith(`w${w}-`));
      assert.deepEqual(
        rows.filter((r) => mine(r.request_id)).map((r) => r.request_id),
        answered.filter((a) => a.worker === w).map((a) => a.rid),
        `worker ${w}: seq order is the order calls were answered`,
      );
    }

    // /ready is back to ready once the spool has drained.
    let after;
    for (let i = 0; i < 100; i++) {
      after = await ready(gw);
      if (after.body.components?.history?.status === 'ready') break;
      await sleep(50);
    }
    assert.equal(after.status, 200);
    assert.equal(after.body.components.history.status, 'ready', JSON.stringify(after.body.components.history));
    assert.equal(after.body.components.history.spool_pending_bytes, 0);
    assert.equal(after.body.components.history.replayed, after.body.components.history.spooled);

    // The spool is empty again, and the hash chain is intact across the outage.
    assert.equal(fs.statSync(spool).size, 0, 'spool emptied after the replay');
    const v = mcpgw(['audit', 'verify', '--dsn', dsn]);
    assert.equal(v.code, 0, `audit verify: ${v.stdout}${v.stderr}`);
    assert.match(v.stdout, new RegExp(`tool_calls: ${rows.length} rows, hash chain intact`), v.stdout);
    assert.ok(Date.now() - t0 < 40000, `took ${Date.now() - t0} ms`);
  });
});
