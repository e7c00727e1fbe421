// Policy decisions in the gateway (docs/policy.md): the embedded engine and the remote mode
// against `mcpgw pdp`, with a small test policy that keys on what the gateway puts in the input.
// What is checked: calls are decided before they are forwarded (JSON-RPC -32004 with the reasons
// and decision id), lists are filtered per item, the /api/v1 endpoints are decided (403), history
// rows and audit events carry the decisions, the emergency switch flips at runtime, policy files
// are hot-reloaded (a broken one is refused and the old one keeps serving), and a PDP that is
// gone denies (fail closed) and makes /ready fail. The shipped policy (services/opa) runs with
// tokens of `mcpgw auth-server` on both backends (embedded, and remote against `mcpgw pdp`), with
// the same tests: per-tool actions and scopes, labels, per-user lists, tenant isolation, emergency
// deny within a second, a broken policy refused on reload, and a PDP that stops answering.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import {
  CHAOS_SERVER,
  EVERYTHING_JS,
  GATEWAY_BIN,
  REPO_ROOT,
  freePort,
  hashPassword,
  needsGateway,
  rawRequest,
  rawSession,
  readyUpstream,
  runGatewayToExit,
  sleep,
  startAuthServer,
  startGateway,
  tmpDir,
} from './harness.mjs';

const POLICY = `package mcp.authz

default allow := false

# What the gateway must send: checked on every call of the tool "pid".
input_ok if {
  input.method == "POST"
  input.path == "/tools/pid/invoke"
  input.mcp_method == "tools/call"
  input.list == false
  input.user.sub == "anonymous"
  input.user.authenticated == false
  input.user.roles == []
  input.resource.kind == "tool"
  input.resource.server == "chaos"
  input.resource.tenant == "acme"
  input.resource.tool == "pid"
  input.resource.name == "pid"
  input.resource.action == "read"
  input.resource.labels == ["sensitive"]
  input.args == {}
  input.session != ""
  input.env == "dev"
  input.network.ip == "127.0.0.1"
  input.time.now_ns > 1700000000000000000
  endswith(input.time.rfc3339, "Z")
}

input_wrong if {
  input.resource.tool == "pid"
  not input.list
  not input_ok
}

blocked_tool if input.resource.tool in data.test.blocked_tools

forbidden_text if input.args.text == "forbidden"

emergency_all if data.mcp.emergency.deny_all

emergency_tool if input.resource.tool in data.mcp.emergency.tools

emergency_server if input.resource.server in data.mcp.emergency.servers

hidden_prompt if input.resource.prompt == "args-prompt"

secret_resource if contains(input.resource.uri, "instructions.md")

analytics if {
  input.resource.kind == "api"
  input.path == "/api/v1/analytics"
}

blocked if blocked_tool
blocked if forbidden_text
blocked if emergency_all
blocked if emergency_tool
blocked if emergency_server
blocked if hidden_prompt
blocked if secret_resource
blocked if input_wrong

allow if {
  input.resource.kind in {"tool", "prompt", "resource"}
  not blocked
}

allow if {
  input.resource.kind == "api"
  not analytics
}

reasons contains sprintf("tool %s is blocked", [input.resource.tool]) if blocked_tool
reasons contains "text forbidden" if forbidden_text
reasons contains "all MCP traffic disabled by emergency deny" if emergency_all
reasons contains "tool disabled by emergency deny" if emergency_tool
reasons contains "server disabled by emergency deny" if emergency_server
reasons contains "prompt hidden" if hidden_prompt
reasons contains "resource secret" if secret_resource
reasons contains "the gateway sent an unexpected input" if input_wrong
reasons contains "analytics closed" if analytics
`;

/** A directory with the test policy: policies/authz.rego, data/test/*.json, data/mcp/emergency.json. */
function policyDir() {
  const dir = tmpDir('mcpgw-policy-');
  fs.mkdirSync(path.join(dir, 'policies'));
  fs.mkdirSync(path.join(dir, 'data', 'test'), { recursive: true });
  fs.mkdirSync(path.join(dir, 'data', 'mcp'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'policies', 'authz.rego'), POLICY);
  writeJson(dir, 'data/test/blocked.json', { blocked_tools: ['crash'] });
  writeJson(dir, 'data/mcp/emergency.json', { emergency: { deny_all: false, tools: [], servers: [] } });
  return dir;
}

/** Writes through a rename, as editors and deploy tools do (the watcher sees a new inode). */
function writeFile(dir, rel, text) {
  const tmp = path.join(dir, `${rel}.tmp~`);
  fs.writeFileSync(tmp, text);
  fs.renameSync(tmp, path.join(dir, rel));
}
const writeJson = (dir, rel, v) => writeFile(dir, rel, JSON.stringify(v));

const servers = [
  {
    name: 'chaos',
    command: ['node', CHAOS_SERVER],
    tenant: 'acme',
    tools: { pid: { action: 'read', labels: ['sensitive'] } },
  },
  // Prompts and resources; its tools are not exposed (no clash with chaos's echo).
  { name: 'everything', command: ['node', EVERYTHING_JS], tools: { allow: ['no-such-tool'] } },
];

let rpcId = 1000;
async function call(gw, sess, method, params, requestId) {
  const id = ++rpcId;
  return rawRequest(gw, sess, id, method, params, requestId ? { headers: { 'x-request-id': requestId } } : {});
}

async function api(gw, p, { method = 'GET', body } = {}) {
  const res = await fetch(gw.url + p, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    signal: AbortSignal.timeout(10000),
  });
  const text = await res.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, text, json };
}

/** Polls fn until it returns a truthy value (or throws after timeoutMs). */
async function eventually(fn, what, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    last = await fn();
    if (last) return last;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

async function waitForTools(gw, sess, names) {
  return eventually(async () => {
    const r = await call(gw, sess, 'tools/list', {});
    const got = (r.response?.result?.tools ?? []).map((t) => t.name);
    return names.every((n) => got.includes(n)) ? got : null;
  }, `tools ${names.join(', ')}`, 20000);
}

async function historyRow(gw, requestId) {
  return eventually(async () => {
    const r = await api(gw, '/api/v1/history?limit=1000');
    return r.json?.items?.find((row) => row.request_id === requestId);
  }, `history row ${requestId}`);
}

/** The audit events of `kind` (GET /api/v1/audit) once `pick(items)` finds what it wants. */
async function auditEvents(gw, kind, pick = (items) => items.length > 0, what = kind) {
  return eventually(async () => {
    const r = await api(gw, `/api/v1/audit?kind=${kind}&limit=1000`);
    const items = r.json?.items ?? [];
    return pick(items) ? items : null;
  }, `${what} audit events`);
}

function assertDenied(r, reasons, what) {
  const err = r.response?.error;
  assert.ok(err, `${what}: expected an error, got ${r.text.slice(0, 400)}`);
  assert.equal(err.code, -32004, `${what}: ${r.text.slice(0, 400)}`);
  assert.equal(err.message, `Forbidden by policy: ${reasons.join('; ')}`, what);
  assert.deepEqual(err.data?.reasons, reasons, what);
  assert.match(err.data?.decision_id ?? '', /^[0-9a-f]{32}$/, what);
  return err;
}

describe('policy: embedded engine', needsGateway(), () => {
  let gw;
  let dir;
  let sess;
  before(async () => {
    dir = policyDir();
    gw = await startGateway({
      config: {
        servers,
        policy: { mode: 'embedded', paths: [path.join(dir, 'policies'), path.join(dir, 'data')], reload_interval_ms: 100 },
      },
      wait: 'ready',
    });
    sess = await rawSession(gw);
    await waitForTools(gw, sess, ['echo', 'pid']);
    await eventually(async () => {
      const r = await call(gw, sess, 'prompts/list', {});
      return (r.response?.result?.prompts ?? []).some((p) => p.name === 'simple-prompt');
    }, 'the everything server', 20000);
  });
  after(async () => {
    await gw?.stopAndCheck(assert);
  });

  test('/ready reports the policy component', async () => {
    const r = await api(gw, '/ready');
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.components.policy.status, 'ready', r.text);
    assert.equal(r.json.components.policy.backend, 'embedded', r.text);
  });

  test('lists show only what the policy allows', async () => {
    const tools = (await call(gw, sess, 'tools/list', {})).response.result.tools.map((t) => t.name);
    assert.ok(tools.includes('echo') && tools.includes('pid'), JSON.stringify(tools));
    assert.ok(!tools.includes('crash'), `crash is blocked and must be hidden: ${JSON.stringify(tools)}`);
    const prompts = (await call(gw, sess, 'prompts/list', {})).response.result.prompts.map((p) => p.name);
    assert.ok(prompts.includes('simple-prompt'), JSON.stringify(prompts));
    assert.ok(!prompts.includes('args-prompt'), JSON.stringify(prompts));
    const resources = (await call(gw, sess, 'resources/list', {})).response.result.resources.map((x) => x.uri);
    assert.ok(resources.length > 0, 'some resources are visible');
    assert.ok(!resources.some((u) => u.includes('instructions.md')), JSON.stringify(resources));
  });

  test('calls are decided before they are forwarded', async () => {
    const ok = await call(gw, sess, 'tools/call', { name: 'echo', arguments: { text: 'hello' } }, 'pol-ok');
    assert.equal(ok.response?.result?.content?.[0]?.text, 'hello', ok.text);
    // The input document as the contract describes it (checked by the policy itself).
    const pid = await call(gw, sess, 'tools/call', { name: 'pid', arguments: {} });
    assert.ok(pid.response?.result, `pid: ${pid.text.slice(0, 400)}`);
    const crash = await call(gw, sess, 'tools/call', { name: 'crash', arguments: {} }, 'pol-crash');
    assertDenied(crash, ['tool crash is blocked'], 'crash');
    const text = await call(gw, sess, 'tools/call', { name: 'echo', arguments: { text: 'forbidden' } }, 'pol-text');
    assertDenied(text, ['text forbidden'], 'argument rule');
    const prompt = await call(gw, sess, 'prompts/get', { name: 'args-prompt', arguments: { city: 'x' } });
    assertDenied(prompt, ['prompt hidden'], 'prompts/get');
    const simple = await call(gw, sess, 'prompts/get', { name: 'simple-prompt' });
    assert.ok(simple.response?.result?.messages, simple.text.slice(0, 400));
    const uri = 'demo://resource/static/document/instructions.md';
    assertDenied(await call(gw, sess, 'resources/read', { uri }), ['resource secret'], 'resources/read');
    assertDenied(await call(gw, sess, 'resources/subscribe', { uri }), ['resource secret'], 'resources/subscribe');
    // An allowed subscription is answered by the gateway and recorded like a forwarded call.
    const listed = (await call(gw, sess, 'resources/list', {})).response.result.resources.map((x) => x.uri);
    const open = listed.find((u) => !u.includes('instructions.md'));
    const sub = await call(gw, sess, 'resources/subscribe', { uri: open }, 'pol-sub');
    assert.deepEqual(sub.response?.result, {}, sub.text.slice(0, 400));
    const subRow = await historyRow(gw, 'pol-sub');
    assert.equal(subRow.method, 'resources/subscribe');
    assert.equal(subRow.target, open);
    assert.equal(subRow.decision, 'allow');
    assert.equal(subRow.outcome, 'ok');
    assert.match(subRow.decision_id, /^[0-9a-f]{32}$/);
    // Completions are decided like using what they complete.
    const completePrompt = await call(gw, sess, 'completion/complete', {
      ref: { type: 'ref/prompt', name: 'args-prompt' },
      argument: { name: 'city', value: 'Par' },
    });
    assertDenied(completePrompt, ['prompt hidden'], 'completion/complete of a prompt');
    const completeResource = await call(gw, sess, 'completion/complete', {
      ref: { type: 'ref/resource', uri },
      argument: { name: 'x', value: '' },
    });
    assertDenied(completeResource, ['resource secret'], 'completion/complete of a resource');
    const completeAllowed = await call(gw, sess, 'completion/complete', {
      ref: { type: 'ref/prompt', name: 'simple-prompt' },
      argument: { name: 'x', value: '' },
    });
    assert.notEqual(completeAllowed.response?.error?.code, -32004, completeAllowed.text.slice(0, 400));
    // The upstream never saw the denied calls: chaos is still up (crash would have killed it).
    const again = await call(gw, sess, 'tools/call', { name: 'echo', arguments: { text: 'still up' } });
    assert.equal(again.response?.result?.content?.[0]?.text, 'still up', again.text);
  });

  test('arguments that are not an object are refused before policy and upstream', async () => {
    for (const [i, args] of [['a'], 'text', 7, null].entries()) {
      const r = await call(gw, sess, 'tools/call', { name: 'echo', arguments: args }, `pol-args-${i}`);
      assert.equal(r.response?.error?.code, -32602, `${JSON.stringify(args)}: ${r.text}`);
    }
    const row = await historyRow(gw, 'pol-args-0');
    assert.equal(row.outcome, 'error');
    assert.equal(row.rpc_error_code, -32602);
  });

  test('history and audit carry the decisions', async () => {
    const ok = await historyRow(gw, 'pol-ok');
    assert.equal(ok.decision, 'allow');
    assert.match(ok.decision_id, /^[0-9a-f]{32}$/);
    assert.equal(ok.outcome, 'ok');
    const denied = await historyRow(gw, 'pol-crash');
    assert.equal(denied.decision, 'deny');
    assert.equal(denied.outcome, 'denied');
    assert.equal(denied.rpc_error_code, -32004);
    assert.deepEqual(denied.decision_reasons, ['tool crash is blocked']);
    assert.match(denied.decision_id, /^[0-9a-f]{32}$/);
    const text = await historyRow(gw, 'pol-text');
    assert.deepEqual(text.arguments, { text: 'forbidden' }, 'denied calls keep their (redacted) arguments');
    const audit = await eventually(async () => {
      const r = await api(gw, '/api/v1/audit?kind=policy_deny&limit=1000');
      return r.json?.items?.find((e) => e.detail?.decision_id === denied.decision_id);
    }, 'policy_deny audit event');
    assert.equal(audit.kind, 'policy_deny');
    assert.equal(audit.request_id, 'pol-crash');
    assert.deepEqual(audit.detail.reasons, ['tool crash is blocked']);
  });

  test('the start, the first policy load and reads of the audit trail are audited', async () => {
    const [start] = await auditEvents(gw, 'service_start');
    assert.equal(start.detail.policy.mode, 'embedded', JSON.stringify(start));
    assert.deepEqual(start.detail.policy.paths, [path.join(dir, 'policies'), path.join(dir, 'data')]);
    assert.equal(start.detail.policy.decision_path, 'mcp/authz/allow');
    assert.equal(start.detail.auth.mode, 'off');
    assert.deepEqual(start.detail.servers, servers.map((x) => x.name));
    assert.equal(start.detail.history.durability, 'sync');
    assert.equal(start.detail.listen, `127.0.0.1:${gw.port}`);
    const configText = fs.readFileSync(gw.configPath);
    assert.equal(start.detail.config.sha256, crypto.createHash('sha256').update(configText).digest('hex'));
    const loads = await auditEvents(gw, 'policy_reload');
    const first = loads.find((e) => e.detail.trigger === 'start');
    assert.ok(first, JSON.stringify(loads));
    assert.equal(first.detail.generation, 1);
    assert.equal(first.detail.modules, 1);
    assert.ok(first.detail.files >= 2, JSON.stringify(first));
    assert.ok(first.seq < start.seq, 'the first load is recorded before the start completes');
    const reads = await auditEvents(gw, 'audit_read', (items) => items.some((e) => e.detail.filters.kind === 'policy_reload'));
    const read = reads.find((e) => e.detail.filters.kind === 'policy_reload');
    assert.deepEqual(read.detail.filters, { kind: 'policy_reload', limit: '1000' });
    assert.equal(read.detail.format, 'json');
    assert.equal(read.subject, '', 'auth is off: an anonymous reader');
  });

  test('/api/v1 endpoints are decided too (403 with reasons)', async () => {
    const r = await api(gw, '/api/v1/analytics');
    assert.equal(r.status, 403, r.text);
    assert.equal(r.json.error, 'forbidden by policy');
    assert.deepEqual(r.json.reasons, ['analytics closed']);
    assert.match(r.json.decision_id, /^[0-9a-f]{32}$/);
    assert.equal((await api(gw, '/api/v1/history?limit=1')).status, 200);
  });

  test('the emergency switch flips at runtime through the admin API', async () => {
    const bad = await api(gw, '/api/v1/admin/emergency', { method: 'PUT', body: { deny_all: 'yes' } });
    assert.equal(bad.status, 400, bad.text);
    const unknown = await api(gw, '/api/v1/admin/emergency', { method: 'PUT', body: { tool: ['echo'] } });
    assert.equal(unknown.status, 400, unknown.text);
    const set = await api(gw, '/api/v1/admin/emergency', { method: 'PUT', body: { tools: ['echo'] } });
    assert.equal(set.status, 200, set.text);
    assert.deepEqual(set.json.emergency, { deny_all: false, tools: ['echo'], servers: [] });
    assert.deepEqual((await api(gw, '/api/v1/admin/emergency')).json.emergency, set.json.emergency);
    const r = await call(gw, sess, 'tools/call', { name: 'echo', arguments: { text: 'x' } });
    assertDenied(r, ['tool disabled by emergency deny'], 'emergency tools');
    const all = await api(gw, '/api/v1/admin/emergency', { method: 'PUT', body: { deny_all: true } });
    assert.equal(all.status, 200, all.text);
    const tools = (await call(gw, sess, 'tools/list', {})).response.result.tools;
    assert.deepEqual(tools, [], 'deny_all hides every tool');
    const audit = await eventually(async () => {
      const a = await api(gw, '/api/v1/audit?kind=emergency_change&limit=1000');
      return a.json?.items?.length >= 2 ? a.json.items : null;
    }, 'emergency_change audit events');
    assert.equal(audit.at(-1).detail.deny_all, true);
    // Each change puts a new policy in place (runtime data).
    const data = await auditEvents(gw, 'policy_reload', (items) => items.filter((e) => e.detail.trigger === 'data').length >= 2, 'policy_reload (data)');
    const changes = data.filter((e) => e.detail.trigger === 'data');
    assert.deepEqual(changes.map((e) => e.detail.path), ['mcp/emergency', 'mcp/emergency']);
    assert.ok(changes[1].detail.generation > changes[0].detail.generation, JSON.stringify(changes));
    const off = await api(gw, '/api/v1/admin/emergency', { method: 'PUT', body: { deny_all: false, tools: [], servers: [] } });
    assert.equal(off.status, 200, off.text);
    const back = await call(gw, sess, 'tools/call', { name: 'echo', arguments: { text: 'back' } });
    assert.equal(back.response?.result?.content?.[0]?.text, 'back', back.text);
  });

  test('policy files are hot-reloaded; a broken one is refused and the old one keeps serving', async () => {
    writeJson(dir, 'data/test/blocked.json', { blocked_tools: ['crash', 'echo'] });
    await eventually(async () => {
      const r = await call(gw, sess, 'tools/call', { name: 'echo', arguments: { text: 'x' } });
      return r.response?.error?.code === -32004;
    }, 'the data change to take effect');
    writeFile(dir, 'policies/authz.rego', `${POLICY}\nbroken if {\n`);
    await eventually(() => gw.logs().some((l) => l.msg === 'policy rejected; the previous policy keeps serving'), 'the rejection in the log');
    const [rejected] = await auditEvents(gw, 'policy_reload_rejected');
    assert.equal(rejected.detail.trigger, 'watch', JSON.stringify(rejected));
    assert.match(rejected.detail.error, /authz\.rego/, JSON.stringify(rejected));
    const watched = (await auditEvents(gw, 'policy_reload')).filter((e) => e.detail.trigger === 'watch');
    assert.ok(watched.length >= 1, 'the data file change was a reload');
    assert.ok(watched.every((e) => e.seq < rejected.seq), 'nothing was put in place after the rejection');
    const r = await call(gw, sess, 'tools/call', { name: 'echo', arguments: { text: 'x' } });
    assertDenied(r, ['tool echo is blocked'], 'the previous policy still decides');
    const ready = await api(gw, '/ready');
    assert.equal(ready.status, 200, ready.text);
    assert.match(ready.json.components.policy.detail, /rejected/);
    writeFile(dir, 'policies/authz.rego', POLICY);
    writeJson(dir, 'data/test/blocked.json', { blocked_tools: ['crash'] });
    await eventually(async () => {
      const x = await call(gw, sess, 'tools/call', { name: 'echo', arguments: { text: 'ok again' } });
      return x.response?.result?.content?.[0]?.text === 'ok again';
    }, 'the fixed policy');
    const rejectedSeq = (await auditEvents(gw, 'policy_reload_rejected'))[0].seq;
    await auditEvents(gw, 'policy_reload', (items) => items.some((e) => e.detail.trigger === 'watch' && e.seq > rejectedSeq), 'the fixed policy reload');
  });
});

describe('policy: SIGHUP and start-up', needsGateway(), () => {
  test('SIGHUP reloads at once (file watching off)', async () => {
    const dir = policyDir();
    const gw = await startGateway({
      config: {
        servers: [servers[0]],
        policy: { mode: 'embedded', paths: [path.join(dir, 'policies'), path.join(dir, 'data')], reload_interval_ms: 0 },
      },
      wait: 'ready',
    });
    try {
      const sess = await rawSession(gw);
      await waitForTools(gw, sess, ['echo']);
      writeJson(dir, 'data/test/blocked.json', { blocked_tools: ['echo'] });
      await sleep(300);
      const before = await call(gw, sess, 'tools/call', { name: 'echo', arguments: { text: 'x' } });
      assert.equal(before.response?.result?.content?.[0]?.text, 'x', 'no reload without SIGHUP');
      gw.proc.kill('SIGHUP');
      await eventually(async () => {
        const r = await call(gw, sess, 'tools/call', { name: 'echo', arguments: { text: 'x' } });
        return r.response?.error?.code === -32004;
      }, 'the reload after SIGHUP');
      const loads = await auditEvents(gw, 'policy_reload', (items) => items.some((e) => e.detail.trigger === 'sighup'));
      assert.deepEqual(loads.map((e) => [e.detail.trigger, e.detail.generation]), [['start', 1], ['sighup', 2]]);
    } finally {
      await gw.stopAndCheck(assert);
    }
  });

  test('a policy that does not compile stops start-up, naming the file', async () => {
    const dir = policyDir();
    writeFile(dir, 'policies/authz.rego', 'package mcp.authz\n\nallow if {\n');
    const r = await runGatewayToExit({
      config: `policy: {mode: embedded, paths: ["${path.join(dir, 'policies')}"]}\n`,
    });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /authz\.rego/);
  });

  test('a missing policy section stops start-up (exit 2)', async () => {
    const r = await runGatewayToExit({ config: 'servers: []\n', env: { GATEWAY_POLICY_MODE: '' } });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /policy is not configured/);
    assert.match(r.stderr, /mode: off/);
  });
});

/**
 * Starts `mcpgw pdp` (on `port`, or a free one) over the policy and data `paths` (relative paths are
 * resolved from the repository root); resolves when /health answers 200.
 */
async function startPdp(paths, { port, reloadIntervalMs } = {}) {
  port = port ?? (await freePort());
  const args = ['pdp', '--addr', `127.0.0.1:${port}`, ...paths.flatMap((p) => ['-d', p])];
  if (reloadIntervalMs !== undefined) args.push('--reload-interval-ms', String(reloadIntervalMs));
  const proc = spawn(GATEWAY_BIN, args, {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  proc.stderr.setEncoding('utf8').on('data', (d) => (output += d));
  const exited = new Promise((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal })));
  const url = `http://127.0.0.1:${port}`;
  await eventually(async () => {
    try {
      return (await fetch(`${url}/health`, { signal: AbortSignal.timeout(1000) })).status === 200;
    } catch {
      return false;
    }
  }, `mcpgw pdp at ${url}`, 15000).catch((e) => {
    proc.kill('SIGKILL');
    throw new Error(`${e.message}\n${output}`);
  });
  const stop = async () => {
    proc.kill('SIGTERM');
    const r = await Promise.race([exited, sleep(5000).then(() => null)]);
    if (!r) {
      proc.kill('SIGKILL');
      await exited;
    }
    return r;
  };
  const logs = () =>
    output
      .split('\n')
      .filter((l) => l.trim())
      .map((l) => {
        try {
          return JSON.parse(l);
        } catch {
          return { _raw: l };
        }
      });
  return { url, port, proc, stop, output: () => output, logs };
}

describe('policy: remote mode against mcpgw pdp (OPA Data API)', needsGateway(), () => {
  let pdp;
  let gw;
  let sess;
  before(async () => {
    const dir = policyDir();
    pdp = await startPdp([path.join(dir, 'policies'), path.join(dir, 'data')]);
    gw = await startGateway({
      config: { servers: [servers[0]], policy: { mode: 'opa', opa_url: pdp.url, timeout_ms: 1000 } },
      wait: 'ready',
    });
    sess = await rawSession(gw);
    await waitForTools(gw, sess, ['echo']);
  });
  after(async () => {
    await pdp?.stop();
    await gw?.stopAndCheck(assert);
  });

  test('the PDP answers like OPA', async () => {
    const res = await fetch(`${pdp.url}/v1/data/mcp/authz/allow`, {
      method: 'POST',
      body: JSON.stringify({ input: { resource: { kind: 'api' }, path: '/api/v1/history' } }),
    });
    const body = await res.json();
    assert.equal(res.status, 200);
    assert.equal(body.result, true);
    assert.match(body.decision_id, /^[0-9a-f]{32}$/);
    const undef = await (await fetch(`${pdp.url}/v1/data/mcp/authz/nothing`, { method: 'POST', body: '{"input":{}}' })).json();
    assert.equal('result' in undef, false, JSON.stringify(undef));
    const bad = await fetch(`${pdp.url}/v1/data/mcp/authz/allow`, { method: 'POST', body: '{nope' });
    assert.equal(bad.status, 400);
    assert.equal((await bad.json()).code, 'invalid_parameter');
  });

  test('decisions come from the PDP', async () => {
    const ok = await call(gw, sess, 'tools/call', { name: 'echo', arguments: { text: 'remote' } });
    assert.equal(ok.response?.result?.content?.[0]?.text, 'remote', ok.text);
    assertDenied(await call(gw, sess, 'tools/call', { name: 'crash', arguments: {} }), ['tool crash is blocked'], 'crash');
    const tools = (await call(gw, sess, 'tools/list', {})).response.result.tools.map((t) => t.name);
    assert.ok(tools.includes('echo') && !tools.includes('crash'), JSON.stringify(tools));
    const ready = await api(gw, '/ready');
    assert.equal(ready.json.components.policy.backend, 'opa', ready.text);
  });

  test('the emergency switch is PUT to the PDP', async () => {
    const set = await api(gw, '/api/v1/admin/emergency', { method: 'PUT', body: { servers: ['chaos'] } });
    assert.equal(set.status, 200, set.text);
    const doc = await (await fetch(`${pdp.url}/v1/data/mcp/emergency`)).json();
    assert.deepEqual(doc.result, { deny_all: false, tools: [], servers: ['chaos'] });
    assertDenied(await call(gw, sess, 'tools/call', { name: 'echo', arguments: { text: 'x' } }), ['server disabled by emergency deny'], 'emergency servers');
    const off = await api(gw, '/api/v1/admin/emergency', { method: 'PUT', body: {} });
    assert.equal(off.status, 200, off.text);
    const ok = await call(gw, sess, 'tools/call', { name: 'echo', arguments: { text: 'y' } });
    assert.equal(ok.response?.result?.content?.[0]?.text, 'y', ok.text);
  });

  test('a PDP that is gone denies every call and /ready fails', async () => {
    await pdp.stop();
    const r = await call(gw, sess, 'tools/call', { name: 'echo', arguments: { text: 'x' } });
    assertDenied(r, ['policy decision point unavailable'], 'PDP down');
    await eventually(async () => (await api(gw, '/ready')).status === 503, '/ready 503', 10000);
    assert.ok(gw.logs().some((l) => l.msg === 'policy decision failed; denied'), 'the failure is logged');
  });
});

// ---------------------------------------------------------------------------------------------
// The shipped policy (services/opa) with real tokens from `mcpgw auth-server`: the gateway's
// input and the policy's contract meet here. Every test runs against both backends: the
// embedded engine, and the remote mode against `mcpgw pdp` serving the same files.

const AS_CLIENT = 'policy-test-cli';
const REDIRECT_URI = 'http://127.0.0.1:33421/callback'; // nothing listens: the 302 is captured

// The authorization server's users. `scopes` is the most a token may carry; the tests ask for
// no scope, so every token carries all of them.
const USERS = {
  // tool:echo:read comes from her role (data.mcp.role_scopes.user); tool:slow:read and
  // tool:pid:read only from her token. tool:progress:read names a tool of globex's server: there
  // only the tenant keeps her out.
  alice: { roles: ['user'], tenant: 'acme', scopes: ['mcp:read', 'tool:slow:read', 'tool:pid:read', 'tool:progress:read'] },
  bob: { roles: ['admin'], tenant: 'acme', scopes: ['mcp:read'] },
  carol: { roles: ['user'], tenant: 'globex', scopes: ['mcp:read', 'tool:progress:read'] },
  // Alice's role and tenant without her token scopes.
  dave: { roles: ['user'], tenant: 'acme', scopes: ['mcp:read'] },
};
const PASSWORDS = Object.fromEntries(Object.keys(USERS).map((u) => [u, `${u}-policy-pw`]));

// Upstreams: a chaos instance per tenant (disjoint tool sets, so that no name gets the server
// prefix and scopes name the tools as the shipped data does) and a server shared by all tenants.
const ACME_CHAOS = {
  name: 'chaos',
  command: ['node', CHAOS_SERVER],
  tenant: 'acme',
  tools: {
    allow: ['echo', 'slow', 'env', 'pid', 'crash', 'hang'],
    echo: { action: 'read' },
    slow: { action: 'read' },
    env: { action: 'write' },
    pid: { action: 'read', labels: ['sensitive'] },
    // crash and hang: no action here nor in data.mcp.tools (admins and tool:<name>:* only).
  },
};
const GLOBEX_CHAOS = {
  name: 'globex',
  command: ['node', CHAOS_SERVER],
  tenant: 'globex',
  tools: { allow: ['progress', 'roots'], progress: { action: 'read' } },
};
// No tenant: shared. get-sum's action (read) comes from data.mcp.tools, its grant from the role.
const SHARED = { name: 'shared', command: ['node', EVERYTHING_JS], tools: { allow: ['get-sum'] } };

// tools/list of each user, sorted, as the shipped policy decides it for the servers above.
const VISIBLE = {
  alice: ['echo', 'get-sum', 'slow'],
  bob: ['crash', 'echo', 'env', 'get-sum', 'hang', 'pid', 'slow'],
  carol: ['get-sum', 'progress'],
  dave: ['echo', 'get-sum'],
};

const SHIPPED_PATHS = ['services/opa/policies', 'services/opa/data'];
const BACKENDS = ['embedded', 'remote'];

async function userToken(as, audience, username) {
  const verifier = crypto.randomBytes(32).toString('base64url');
  const challenge = crypto.createHash('sha256').update(verifier).digest('base64url');
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
  assert.equal(login.status, 302, `login of ${username}: ${login.status} ${(await login.text()).slice(0, 300)}`);
  const code = new URL(login.headers.get('location')).searchParams.get('code');
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
  assert.equal(res.status, 200, `token for ${username}: ${JSON.stringify(body)}`);
  return body.access_token;
}

function startShippedAuthServer() {
  return startAuthServer({
    users: Object.entries(USERS).map(([username, u]) => ({
      username,
      password_hash: hashPassword(PASSWORDS[username]),
      sub: username,
      email: `${username}@example.test`,
      roles: u.roles,
      groups: [],
      scopes: u.scopes,
      tenant: u.tenant,
    })),
    config: {
      clients: [{ client_id: AS_CLIENT, client_name: 'policy test', redirect_uris: [REDIRECT_URI], grant_types: ['authorization_code'] }],
    },
  });
}

/** The gateway's policy section for a backend; 'remote' also starts `mcpgw pdp` over the same paths. */
async function policyBackend(backend, paths, reloadIntervalMs) {
  if (backend === 'embedded') {
    const policy = { mode: 'embedded', paths };
    if (reloadIntervalMs !== undefined) policy.reload_interval_ms = reloadIntervalMs;
    return { pdp: null, policy };
  }
  const pdp = await startPdp(paths, { reloadIntervalMs });
  return { pdp, policy: { mode: 'opa', opa_url: pdp.url, timeout_ms: 1000 } };
}

/**
 * A gateway with OAuth against `as` and the policy on `backend` (for 'remote' with its own
 * `mcpgw pdp`), a token and an MCP session per user, once every upstream is ready.
 * stack.rpc(who, method, params) sends a JSON-RPC request as that user; stack.api(who, path, opts)
 * calls the gateway's HTTP API with the user's token.
 */
async function shippedStack(as, backend, { servers, paths = SHIPPED_PATHS, reloadIntervalMs } = {}) {
  const { pdp, policy } = await policyBackend(backend, paths, reloadIntervalMs);
  const port = await freePort();
  const audience = `http://127.0.0.1:${port}/mcp`;
  const s = { backend, pdp, paths, tokens: {}, sessions: {} };
  s.auth = (who) => ({ headers: { authorization: `Bearer ${s.tokens[who]}` } });
  s.rpc = (who, method, params) => rawRequest(s.gw, s.sessions[who], ++rpcId, method, params, s.auth(who));
  s.call = (who, name, args = {}) => s.rpc(who, 'tools/call', { name, arguments: args });
  s.tools = async (who) => {
    const r = await s.rpc(who, 'tools/list', {});
    assert.ok(r.response?.result?.tools, `tools/list of ${who}: ${r.text.slice(0, 400)}`);
    return r.response.result.tools.map((t) => t.name).sort();
  };
  s.api = async (who, p, { method = 'GET', body } = {}) => {
    const res = await fetch(s.gw.url + p, {
      method,
      headers: { authorization: `Bearer ${s.tokens[who]}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(10000),
    });
    const text = await res.text();
    let json;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: res.status, text, json };
  };
  s.stop = async () => {
    await s.gw?.stopAndCheck(assert);
    await s.pdp?.stop();
  };
  try {
    s.gw = await startGateway({
      port,
      config: { servers, auth: { issuer: as.issuer, audience }, policy },
      wait: 'ready',
    });
    await eventually(async () => {
      const body = (await api(s.gw, '/ready')).json;
      return servers.every((x) => /^(ok|up|ready|healthy|running|connected)$/i.test(String(readyUpstream(body, x.name)?.status)));
    }, `upstreams ${servers.map((x) => x.name).join(', ')} ready`, 20000);
    for (const u of Object.keys(USERS)) {
      s.tokens[u] = await userToken(as, audience, u);
      s.sessions[u] = await rawSession(s.gw, s.auth(u));
    }
  } catch (e) {
    await s.gw?.stop();
    await s.pdp?.stop();
    throw e;
  }
  return s;
}

function assertText(r, text, what) {
  assert.equal(r.response?.result?.content?.[0]?.text, text, `${what}: ${r.text.slice(0, 400)}`);
  assert.notEqual(r.response.result.isError, true, `${what}: ${r.text.slice(0, 400)}`);
}

/** Runs fn every 10 ms until it returns a truthy value or timeoutMs passes; returns {value, ms}. */
async function timeUntil(fn, timeoutMs) {
  const t0 = performance.now();
  for (;;) {
    const value = await fn();
    const ms = performance.now() - t0;
    if (value || ms > timeoutMs) return { value, ms };
    await sleep(10);
  }
}

for (const backend of BACKENDS) {
  describe(`policy: the shipped policy with OAuth (${backend} backend)`, needsGateway(), () => {
    let as;
    let s;
    before(async () => {
      as = await startShippedAuthServer();
      s = await shippedStack(as, backend, { servers: [ACME_CHAOS, GLOBEX_CHAOS, SHARED] });
    });
    after(async () => {
      await s?.stop();
      await as?.stop();
    });

    test('the backend decides', async () => {
      const ready = await api(s.gw, '/ready');
      assert.equal(ready.status, 200, ready.text);
      assert.equal(ready.json.components.policy.backend, backend === 'embedded' ? 'embedded' : 'opa', ready.text);
    });

    test('tool:X:read (from the role or from the token) grants the read tool; the write tool is denied naming the missing scope', async () => {
      // alice: tool:echo:read via data.mcp.role_scopes.user, tool:slow:read via her token.
      assertText(await s.call('alice', 'echo', { text: 'hi alice' }), 'hi alice', 'alice echo (read, role scope)');
      assertText(await s.call('alice', 'slow', { ms: 0 }), 'slept 0', 'alice slow (read, token scope)');
      assertDenied(await s.call('alice', 'env', { name: 'HOME' }), ['scope tool:env:write required'], 'alice env (write)');
      // dave has alice's role but not her token scopes: the token scope was what granted slow.
      assertText(await s.call('dave', 'echo', { text: 'hi dave' }), 'hi dave', 'dave echo');
      assertDenied(await s.call('dave', 'slow', { ms: 0 }), ['scope tool:slow:read required'], 'dave slow');
      assertDenied(await s.call('dave', 'env', { name: 'HOME' }), ['scope tool:env:write required'], 'dave env');
      // The admin holds no tool scope and may write.
      assertText(await s.call('bob', 'env', { name: 'NO_SUCH_VARIABLE_X' }), '<unset>', 'bob env (admin)');
      // A tool with no action (configured or in the data) is for admins and tool:crash:* only.
      assertDenied(
        await s.call('alice', 'crash', {}),
        ['tool crash has no action configured (scope tool:crash:* required)'],
        'alice crash',
      );
    });

    test('a tool labelled sensitive works for the admin only', async () => {
      const pid = await s.call('bob', 'pid', {});
      assert.match(pid.response?.result?.content?.[0]?.text ?? '', /^\d+$/, `bob pid: ${pid.text.slice(0, 400)}`);
      // alice holds tool:pid:read: the label alone denies her.
      assertDenied(await s.call('alice', 'pid', {}), ['admin role required (resource labelled sensitive)'], 'alice pid');
      assertDenied(
        await s.call('dave', 'pid', {}),
        ['admin role required (resource labelled sensitive)', 'scope tool:pid:read required'],
        'dave pid',
      );
    });

    test('tools/list shows each user exactly what the policy allows', async () => {
      for (const [who, expected] of Object.entries(VISIBLE)) {
        assert.deepEqual(await s.tools(who), expected, `tools/list of ${who}`);
      }
    });

    test("another tenant's server is invisible and refused; a shared server serves every tenant", async () => {
      // alice holds tool:progress:read and bob is an admin: only the tenant keeps them out.
      for (const who of ['alice', 'bob']) {
        const tools = await s.tools(who);
        assert.ok(!tools.includes('progress') && !tools.includes('roots'), `${who} sees globex's tools: ${tools}`);
        assertDenied(await s.call(who, 'progress', { steps: 0 }), ['server belongs to another tenant'], `${who} progress`);
      }
      assertText(await s.call('carol', 'progress', { steps: 0 }), 'done 0 (no progressToken)', 'carol progress');
      const carolTools = await s.tools('carol');
      for (const t of VISIBLE.bob.filter((x) => x !== 'get-sum')) assert.ok(!carolTools.includes(t), `carol sees acme's ${t}`);
      // carol's role grants tool:echo:read: only the tenant keeps her out.
      assertDenied(await s.call('carol', 'echo', { text: 'x' }), ['server belongs to another tenant'], 'carol echo');
      for (const who of ['alice', 'carol']) {
        assertText(await s.call(who, 'get-sum', { a: 1, b: 2 }), 'The sum of 1 and 2 is 3.', `${who} get-sum (shared)`);
      }
    });

    test('APIs and the emergency switch follow the roles', async () => {
      const analytics = await s.api('alice', '/api/v1/analytics');
      assert.equal(analytics.status, 403, analytics.text);
      assert.deepEqual(analytics.json.reasons, ['admin or auditor role required'], analytics.text);
      assert.equal((await s.api('bob', '/api/v1/analytics')).status, 200);
      assert.equal((await s.api('alice', '/api/v1/history')).status, 200);
      const refused = await s.api('alice', '/api/v1/admin/emergency', { method: 'PUT', body: { deny_all: true } });
      assert.equal(refused.status, 403, refused.text);
      const set = await s.api('bob', '/api/v1/admin/emergency', { method: 'PUT', body: { tools: ['echo'] } });
      assert.equal(set.status, 200, set.text);
      try {
        assertDenied(await s.call('alice', 'echo', { text: 'x' }), ['tool disabled by emergency deny'], 'emergency tools');
        assertText(await s.call('alice', 'slow', { ms: 0 }), 'slept 0', 'other tools still work');
      } finally {
        const off = await s.api('bob', '/api/v1/admin/emergency', { method: 'PUT', body: {} });
        assert.equal(off.status, 200, off.text);
      }
      assertText(await s.call('alice', 'echo', { text: 'back' }), 'back', 'after the switch is off');
    });

    test('emergency deny_all takes effect within a second, without a restart, and is lifted as fast', async (t) => {
      const pids = [s.gw.pid, s.pdp?.proc.pid];
      assertText(await s.call('alice', 'echo', { text: 'before' }), 'before', 'before the switch');
      let on = false;
      try {
        const denied = await timeUntil(async () => {
          if (!on) {
            const set = await s.api('bob', '/api/v1/admin/emergency', { method: 'PUT', body: { deny_all: true } });
            assert.equal(set.status, 200, set.text);
            on = true;
          }
          const r = await s.call('alice', 'echo', { text: 'during' });
          return r.response?.error?.code === -32004 ? r : null;
        }, 3000);
        t.diagnostic(`deny_all denied a call ${denied.ms.toFixed(1)} ms after the PUT was sent`);
        assert.ok(denied.value, `deny_all did not take effect within ${denied.ms.toFixed(0)} ms`);
        assert.ok(denied.ms < 1000, `deny_all took ${denied.ms.toFixed(0)} ms`);
        assertDenied(denied.value, ['all MCP traffic disabled by emergency deny'], 'alice under deny_all');
        assertDenied(await s.call('bob', 'pid', {}), ['all MCP traffic disabled by emergency deny'], 'the admin under deny_all');
        assertDenied(await s.call('carol', 'get-sum', { a: 1, b: 1 }), ['all MCP traffic disabled by emergency deny'], 'carol under deny_all');
        assert.deepEqual(await s.tools('bob'), [], 'deny_all hides every tool');
        assert.equal((await s.api('bob', '/api/v1/history')).status, 200, 'the APIs stay reachable');
      } finally {
        if (on) {
          const lifted = await timeUntil(async () => {
            if (on) {
              const off = await s.api('bob', '/api/v1/admin/emergency', { method: 'PUT', body: { deny_all: false, tools: [], servers: [] } });
              assert.equal(off.status, 200, off.text);
              on = false;
            }
            const r = await s.call('alice', 'echo', { text: 'after' });
            return r.response?.result?.content?.[0]?.text === 'after';
          }, 3000);
          t.diagnostic(`lifting deny_all took ${lifted.ms.toFixed(1)} ms`);
          assert.ok(lifted.value && lifted.ms < 1000, `lifting deny_all took ${lifted.ms.toFixed(0)} ms`);
        }
      }
      assert.deepEqual([s.gw.pid, s.pdp?.proc.pid], pids, 'same processes');
      assert.equal(s.gw.exit, null, 'the gateway was not restarted');
    });

    test('a broken policy on reload is rejected and the old one keeps serving; a fix is picked up', { timeout: 40000 }, async () => {
      // A copy of the shipped files: the repository's are never written.
      const dir = tmpDir('mcpgw-shipped-');
      fs.cpSync(path.resolve(REPO_ROOT, SHIPPED_PATHS[0]), path.join(dir, 'policies'), { recursive: true });
      fs.cpSync(path.resolve(REPO_ROOT, SHIPPED_PATHS[1]), path.join(dir, 'data'), { recursive: true });
      const rel = 'policies/mcp/authz.rego';
      const original = fs.readFileSync(path.join(dir, rel), 'utf8');
      // Replaced through a rename from outside the watched trees: the watcher sees one change.
      const replace = (text) => {
        const tmp = path.join(dir, 'authz.rego.next');
        fs.writeFileSync(tmp, text);
        fs.renameSync(tmp, path.join(dir, rel));
      };
      const own = await shippedStack(as, backend, {
        servers: [ACME_CHAOS],
        paths: [path.join(dir, 'policies'), path.join(dir, 'data')],
        reloadIntervalMs: 100,
      });
      // The process that watches the files: the gateway (embedded) or the pdp (remote).
      const watcher = backend === 'embedded' ? own.gw : own.pdp;
      const rejections = () => watcher.logs().filter((l) => l.msg === 'policy rejected; the previous policy keeps serving');
      const reloads = () => watcher.logs().filter((l) => l.msg === 'policy reloaded');
      try {
        assertText(await own.call('alice', 'echo', { text: 'old' }), 'old', 'alice echo, before');
        assertDenied(await own.call('alice', 'env', { name: 'HOME' }), ['scope tool:env:write required'], 'alice env, before');

        replace(`${original}\nbroken if {\n`);
        const rejected = await eventually(() => rejections()[0], 'the broken policy to be rejected', 5000);
        assert.match(rejected.error, /authz\.rego/, JSON.stringify(rejected));
        assert.equal(reloads().length, 0, 'nothing was reloaded');
        // Decided by the old policy, for a few reload intervals.
        for (let i = 0; i < 3; i++) {
          assertText(await own.call('alice', 'echo', { text: `still ${i}` }), `still ${i}`, 'alice echo, broken file');
          assertDenied(await own.call('alice', 'env', { name: 'HOME' }), ['scope tool:env:write required'], 'alice env, broken file');
          assert.deepEqual(await own.tools('alice'), ['echo', 'slow'], 'alice tools/list, broken file');
          await sleep(100);
        }
        if (backend === 'embedded') {
          const ready = await api(own.gw, '/ready');
          assert.equal(ready.status, 200, ready.text);
          assert.match(ready.json.components.policy.detail, /rejected/, ready.text);
        } else {
          assert.equal((await fetch(`${own.pdp.url}/health`)).status, 200, 'the pdp stays healthy');
        }

        // A real change: the policy now lets alice use env (a write tool) as well.
        replace(`${original}\n# Added by the test.\nallow if {\n\tinput.resource.tool == "env"\n\tinput.user.sub == "alice"\n\tnot blocked\n}\n`);
        const env = await eventually(async () => {
          const r = await own.call('alice', 'env', { name: 'NO_SUCH_VARIABLE_X' });
          return r.response?.result ? r : null;
        }, 'the fixed policy to be picked up', 5000);
        assertText(env, '<unset>', 'alice env, fixed policy');
        assert.ok(reloads().length >= 1, 'the fix was reloaded');
        assert.deepEqual(await own.tools('alice'), ['echo', 'env', 'slow'], 'alice tools/list, fixed policy');
        assertDenied(await own.call('dave', 'env', { name: 'HOME' }), ['scope tool:env:write required'], 'dave env, fixed policy');
      } finally {
        await own.stop();
      }
    });

    test(
      backend === 'embedded'
        ? 'PDP unreachable: every call is denied (skipped: not applicable to the embedded backend, the PDP runs inside the gateway)'
        : 'PDP unreachable: every call is denied with a clear error (the pdp is stopped mid-test, then restarted)',
      { skip: backend === 'embedded' ? 'the embedded PDP runs in the gateway process: nothing to make unreachable' : false, timeout: 30000 },
      async () => {
        assertText(await s.call('alice', 'echo', { text: 'up' }), 'up', 'before');
        const { port } = s.pdp;
        await s.pdp.stop();
        try {
          const calls = [
            ['alice', 'echo', { text: 'x' }],
            ['alice', 'get-sum', { a: 1, b: 2 }],
            ['bob', 'pid', {}],
            ['bob', 'env', { name: 'HOME' }],
            ['carol', 'progress', { steps: 0 }],
          ];
          for (const [who, tool, args] of calls) {
            assertDenied(await s.call(who, tool, args), ['policy decision point unavailable'], `${who} ${tool}, PDP down`);
          }
          for (const who of Object.keys(USERS)) assert.deepEqual(await s.tools(who), [], `tools/list of ${who}, PDP down`);
          const history = await s.api('bob', '/api/v1/history');
          assert.equal(history.status, 403, history.text);
          assert.deepEqual(history.json.reasons, ['policy decision point unavailable'], history.text);
          assert.ok(s.gw.logs().some((l) => l.msg === 'policy decision failed; denied'), 'the failure is logged');
        } finally {
          s.pdp = await startPdp(s.paths, { port });
        }
        await eventually(async () => {
          const r = await s.call('alice', 'echo', { text: 'back' });
          return r.response?.result?.content?.[0]?.text === 'back';
        }, 'decisions once the pdp is back', 5000);
        assert.deepEqual(await s.tools('alice'), VISIBLE.alice, 'tools/list once the pdp is back');
      },
    );
  });
}
