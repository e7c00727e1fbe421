// Configuration handling of build/mcpgw: rejected files (exit code 2, file and line in stderr),
// Claude Desktop / VS Code JSON files, and environment overrides.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import {
  CHAOS_SERVER,
  EVERYTHING_JS,
  GATEWAY_BIN,
  MEMORY_JS,
  REPO_ROOT,
  connectClient,
  freePort,
  needsGateway,
  rawRequest,
  rawSession,
  readyUpstream,
  resultText,
  runGatewayToExit,
  sleep,
  startGateway,
  tmpDir,
  waitForTools,
} from './harness.mjs';

/**
 * Asserts the gateway refused the config: exit code 2, stderr naming the file and one of `lines`,
 * and matching `mentions` (what is wrong).
 */
function assertRejected(r, { lines, mentions }) {
  const where = `stderr:\n${r.stderr}\nstdout:\n${r.stdout}`;
  assert.equal(r.timedOut, false, `gateway kept running on a broken config\n${where}`);
  assert.equal(r.code, 2, `exit code ${r.code} (signal ${r.signal}), expected 2\n${where}`);
  const base = path.basename(r.configPath);
  assert.ok(r.stderr.includes(base), `stderr does not name the file ${base}\n${where}`);
  const lineRe = new RegExp(`(${base.replace('.', '\\.')}:|line\\s*:?\\s*)(${lines.join('|')})\\b`, 'i');
  assert.match(r.stderr, lineRe, `stderr does not give line ${lines.join(' or ')}\n${where}`);
  if (mentions) assert.match(r.stderr, mentions, where);
}

describe('broken configurations exit with code 2, naming file and line', { ...needsGateway(), timeout: 60000 }, () => {
  test('YAML syntax error', async () => {
    const r = await runGatewayToExit({
      fileName: 'broken-syntax.yaml',
      config: [
        'listen: "127.0.0.1:0"', // 1
        'tool_prefix: always: yes', // 2  <- a second ':' in a plain scalar value
        'servers:', // 3
        '  - name: chaos', // 4
        `    command: [node, ${CHAOS_SERVER}]`, // 5
        '',
      ].join('\n'),
    });
    assertRejected(r, { lines: [2] });
  });

  test('unknown transport', async () => {
    const r = await runGatewayToExit({
      fileName: 'unknown-transport.yaml',
      config: [
        'listen: "127.0.0.1:0"', // 1
        'servers:', // 2
        '  - name: good', // 3
        `    command: [node, ${CHAOS_SERVER}]`, // 4
        '  - name: weird', // 5
        '    transport: carrier-pigeon', // 6
        `    command: [node, ${CHAOS_SERVER}]`, // 7
        '',
      ].join('\n'),
    });
    assertRejected(r, { lines: [6, 5], mentions: /carrier-pigeon|transport/ });
  });

  test('stdio server without a command', async () => {
    const r = await runGatewayToExit({
      fileName: 'no-command.yaml',
      config: [
        'listen: "127.0.0.1:0"', // 1
        'servers:', // 2
        '  - name: good', // 3
        `    command: [node, ${CHAOS_SERVER}]`, // 4
        '  - name: nocmd', // 5
        '    transport: stdio', // 6
        '    env: {A: b}', // 7
        '',
      ].join('\n'),
    });
    assertRejected(r, { lines: [5, 6, 7], mentions: /command/ });
  });

  test('duplicate server name', async () => {
    const r = await runGatewayToExit({
      fileName: 'duplicate-name.yaml',
      config: [
        'listen: "127.0.0.1:0"', // 1
        'servers:', // 2
        '  - name: twin', // 3
        `    command: [node, ${CHAOS_SERVER}]`, // 4
        '  - name: twin', // 5
        `    command: [node, ${CHAOS_SERVER}]`, // 6
        '',
      ].join('\n'),
    });
    assertRejected(r, { lines: [5, 3], mentions: /twin/ });
  });

  test('unknown top-level key (a typo)', async () => {
    const r = await runGatewayToExit({
      fileName: 'typo.yaml',
      config: ['listen: "127.0.0.1:0"', 'tool_prefx: always', 'servers: []', ''].join('\n'),
    });
    assertRejected(r, { lines: [2], mentions: /tool_prefx/ });
  });

  test('a configuration file that does not exist', async () => {
    const dir = tmpDir('mcpgw-cfg-missing-');
    const missing = path.join(dir, 'nope.yaml');
    const proc = spawn(GATEWAY_BIN, ['serve', '--config', missing], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    proc.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
    const exit = await Promise.race([
      new Promise((resolve) => proc.on('exit', (code) => resolve(code))),
      sleep(10000).then(() => 'timeout'),
    ]);
    if (exit === 'timeout') proc.kill('SIGKILL');
    assert.equal(exit, 2, stderr);
    assert.ok(stderr.includes('nope.yaml'), stderr);
  });
});

describe('desktop-client JSON files and environment overrides', { ...needsGateway(), timeout: 90000 }, () => {
  test('a Claude Desktop mcpServers file starts and serves (port from GATEWAY_PORT)', async () => {
    const port = await freePort();
    const config = JSON.stringify(
      {
        mcpServers: {
          chaos: { command: 'node', args: [CHAOS_SERVER], env: { CHAOS_MARK: 'from-claude-config' } },
          everything: { command: 'node', args: [EVERYTHING_JS, 'stdio'] },
        },
      },
      null,
      2,
    );
    const gw = await startGateway({ config, port, fileName: 'claude_desktop_config.json', env: { GATEWAY_PORT: String(port) } });
    let client;
    try {
      client = await connectClient(gw);
      const tools = await waitForTools(client, (n) => n.includes('chaos__echo') && n.includes('everything__echo'));
      const names = tools.map((t) => t.name);
      assert.ok(names.includes('sample') && names.includes('get-sum'), `on-conflict default: ${JSON.stringify(names)}`);
      assert.equal(resultText(await client.callTool({ name: 'chaos__echo', arguments: { text: 'desktop' } })), 'desktop');
      assert.equal(resultText(await client.callTool({ name: 'env', arguments: { name: 'CHAOS_MARK' } })), 'from-claude-config');
    } finally {
      await client?.close().catch(() => {});
      await gw.stopAndCheck(assert);
    }
  });

  test('a VS Code "servers" file with typed entries starts and serves', async () => {
    const port = await freePort();
    const dir = tmpDir('mcpgw-vscode-');
    const config = JSON.stringify({
      servers: {
        chaos: { type: 'stdio', command: 'node', args: [CHAOS_SERVER] },
        memory: { type: 'stdio', command: 'node', args: [MEMORY_JS], env: { MEMORY_FILE_PATH: path.join(dir, 'm.jsonl') } },
      },
    });
    const gw = await startGateway({ config, port, fileName: 'mcp.json', env: { GATEWAY_PORT: String(port) } });
    let client;
    try {
      client = await connectClient(gw);
      await waitForTools(client, (n) => n.includes('echo') && n.includes('read_graph'));
      assert.equal(resultText(await client.callTool({ name: 'echo', arguments: { text: 'vscode' } })), 'vscode');
    } finally {
      await client?.close().catch(() => {});
      await gw.stopAndCheck(assert);
    }
  });

  test('listen port 0 picks a free port and logs it', async () => {
    const gw = await startGateway({
      config: { listen: '127.0.0.1:0', servers: [{ name: 'chaos', command: ['node', CHAOS_SERVER] }] },
      wait: 'none',
    });
    try {
      let port = null;
      for (let i = 0; i < 100 && !port && !gw.exit; i++) {
        const m = gw.stderr.match(/127\.0\.0\.1:([1-9]\d{1,4})\b/) ?? gw.stderr.match(/"port"\s*:\s*([1-9]\d{1,4})\b/);
        if (m) port = Number(m[1]);
        else await sleep(100);
      }
      assert.ok(port, `no listening port in the log:\n${gw.stderr}`);
      const res = await fetch(`http://127.0.0.1:${port}/health`);
      assert.equal(res.status, 200);
    } finally {
      await gw.stopAndCheck(assert);
    }
  });

  test('GATEWAY_PORT overrides the port in the file', async () => {
    const filePort = await freePort();
    const envPort = await freePort();
    const gw = await startGateway({
      config: { listen: `127.0.0.1:${filePort}`, servers: [{ name: 'chaos', command: ['node', CHAOS_SERVER] }] },
      port: envPort,
      env: { GATEWAY_PORT: String(envPort) },
    });
    try {
      const res = await fetch(`http://127.0.0.1:${envPort}/health`);
      assert.equal(res.status, 200);
      await assert.rejects(fetch(`http://127.0.0.1:${filePort}/health`, { signal: AbortSignal.timeout(2000) }), (e) => {
        assert.equal(e.cause?.code, 'ECONNREFUSED', String(e.cause ?? e));
        return true;
      });
    } finally {
      await gw.stopAndCheck(assert);
    }
  });

  for (const mode of ['json', 'sse']) {
    test(`post_response: ${mode} answers a forwarded tools/call as ${mode}; sampling still reaches the caller`, async () => {
      const gw = await startGateway({
        config: { post_response: mode, servers: [{ name: 'chaos', command: ['node', CHAOS_SERVER] }] },
        wait: 'ready',
      });
      let client;
      try {
        client = await connectClient(gw, { onSample: async (p) => `${mode}: ${p.messages[0].content.text}` });
        await waitForTools(client, (n) => n.includes('sample'));
        const expected = mode === 'json' ? 'application/json' : 'text/event-stream';
        const session = await rawSession(gw);
        const r = await rawRequest(gw, session, 2, 'tools/call', { name: 'echo', arguments: { text: mode } });
        assert.match(r.headers.get('content-type') ?? '', new RegExp(expected), `tools/call: ${r.text}`);
        assert.equal(r.response?.result?.content?.[0]?.text, mode, r.text);

        assert.equal(resultText(await client.callTool({ name: 'sample', arguments: { prompt: 'x' } })), `${mode}: x`);
        const progress = [];
        await client.callTool({ name: 'progress', arguments: { steps: 2 } }, undefined, {
          onprogress: (p) => progress.push(p.progress),
        });
        assert.deepEqual(progress, [1, 2]);
      } finally {
        await client?.close().catch(() => {});
        await gw.stopAndCheck(assert);
      }
    });
  }

  test('session_idle_timeout_s ends unused sessions (404 afterwards)', async () => {
    const gw = await startGateway({
      config: { session_idle_timeout_s: 1, servers: [{ name: 'chaos', command: ['node', CHAOS_SERVER] }] },
    });
    try {
      const idle = await rawSession(gw);
      const busy = await rawSession(gw);
      for (let i = 0; i < 6; i++) {
        await sleep(500);
        const r = await rawRequest(gw, busy, 10 + i, 'ping', {});
        assert.equal(r.status, 200, `a session in use must stay alive: ${r.status} ${r.text}`);
      }
      const r = await rawRequest(gw, idle, 99, 'ping', {});
      assert.equal(r.status, 404, `idle for 3s with session_idle_timeout_s: 1 -> ${r.status} ${r.text}`);
    } finally {
      await gw.stopAndCheck(assert);
    }
  });

  test('a required upstream that cannot start: start-up fails or /ready is 503 naming it', async () => {
    const port = await freePort();
    const gw = await startGateway({
      config: {
        servers: [
          { name: 'good', command: ['node', CHAOS_SERVER] },
          { name: 'broken', command: ['node', '-e', 'process.exit(3)'], required: true, restart: { initial_backoff_ms: 100, max_backoff_ms: 200 } },
        ],
      },
      port,
      wait: 'none',
    });
    try {
      let outcome = null;
      const deadline = Date.now() + 10000;
      while (!outcome && Date.now() < deadline) {
        if (gw.exit) {
          outcome = 'exited';
          break;
        }
        try {
          const health = await fetch(`${gw.url}/health`, { signal: AbortSignal.timeout(1000) });
          if (health.status === 200) {
            await sleep(1000); // let the broken upstream fail at least once
            const ready = await fetch(`${gw.url}/ready`, { signal: AbortSignal.timeout(1000) });
            outcome = { status: ready.status, body: await ready.json() };
          }
        } catch {
          /* not listening yet */
        }
        if (!outcome) await sleep(100);
      }
      assert.ok(outcome, `neither exited nor served within 10s\n${gw.stderr}`);
      if (outcome === 'exited') {
        assert.notEqual(gw.exit.code, 0, `exit ${JSON.stringify(gw.exit)}`);
        assert.match(gw.stderr, /broken/, 'the log should name the failing server');
      } else {
        assert.equal(outcome.status, 503, JSON.stringify(outcome.body));
        assert.ok(readyUpstream(outcome.body, 'broken'), JSON.stringify(outcome.body));
        assert.doesNotMatch(String(readyUpstream(outcome.body, 'broken').status), /^(ok|up|ready|healthy|running|connected)$/i);
      }
    } finally {
      await gw.stopAndCheck(assert);
    }
  });

  test('an optional upstream still on its first start keeps /ready at 503 until it is up', async () => {
    // The chaos server (MCP TypeScript SDK) behind a 1.5 s start-up delay: a client let in before
    // it is up would list a catalog without its tools, so the gateway is not ready yet.
    const slow = [
      'node',
      '-e',
      "setTimeout(() => import(require('node:url').pathToFileURL(process.argv[1]).href), 1500)",
      path.resolve(REPO_ROOT, CHAOS_SERVER),
    ];
    const gw = await startGateway({
      config: { tool_prefix: 'always', servers: [{ name: 'slow', command: slow }] },
      wait: 'health',
    });
    let client;
    try {
      const early = await fetch(`${gw.url}/ready`);
      const earlyBody = await early.json();
      assert.equal(early.status, 503, JSON.stringify(earlyBody));
      assert.equal(earlyBody.status, 'not_ready', JSON.stringify(earlyBody));
      assert.equal(readyUpstream(earlyBody, 'slow')?.status, 'starting', JSON.stringify(earlyBody));
      let ready;
      for (const deadline = Date.now() + 20000; Date.now() < deadline && !ready; ) {
        const r = await fetch(`${gw.url}/ready`);
        const body = await r.json();
        if (r.status === 200) ready = body;
        else await sleep(100);
      }
      assert.ok(ready, 'the gateway never became ready');
      assert.equal(ready.status, 'ready', `${JSON.stringify(ready)}\n${gw.stderr}`);
      client = await connectClient(gw);
      const { tools } = await client.listTools();
      assert.ok(tools.some((t) => t.name === 'slow__echo'), JSON.stringify(tools.map((t) => t.name)));
    } finally {
      await client?.close().catch(() => {});
      await gw.stopAndCheck(assert);
    }
  });

  test('a tool whose upstream is down is reported unavailable (retryable), not unknown', async () => {
    // The chaos server (MCP TypeScript SDK) crashes on request and waits a minute to restart.
    const gw = await startGateway({
      config: {
        tool_prefix: 'always',
        servers: [{ name: 'chaos', command: ['node', CHAOS_SERVER], restart: { initial_backoff_ms: 60000, max_backoff_ms: 60000 } }],
      },
      wait: 'ready',
    });
    try {
      const session = await rawSession(gw);
      const up = await rawRequest(gw, session, 2, 'tools/call', { name: 'chaos__echo', arguments: { text: 'up' } });
      assert.equal(up.response?.result?.content?.[0]?.text, 'up', up.text);
      await rawRequest(gw, session, 3, 'tools/call', { name: 'chaos__crash', arguments: {} });
      let down;
      for (const deadline = Date.now() + 10000; Date.now() < deadline && !down; ) {
        const body = await (await fetch(`${gw.url}/ready`)).json();
        if (readyUpstream(body, 'chaos')?.status === 'down') down = body;
        else await sleep(50);
      }
      assert.ok(down, 'the crashed upstream never showed as down');
      const r = await rawRequest(gw, session, 4, 'tools/call', { name: 'chaos__echo', arguments: { text: 'x' } });
      assert.equal(r.response?.error?.code, -32000, r.text);
      assert.match(r.response.error.message, /^Tool 'chaos__echo' is unavailable: upstream 'chaos' is down/, r.text);
      const unknown = await rawRequest(gw, session, 5, 'tools/call', { name: 'chaos__no_such_tool', arguments: {} });
      assert.equal(unknown.response?.error?.code, -32602, unknown.text);
      assert.match(unknown.response.error.message, /Unknown tool/, unknown.text);
    } finally {
      await gw.stopAndCheck(assert);
    }
  });

  test('an optional upstream that cannot start does not stop the others', async () => {
    const gw = await startGateway({
      config: {
        tool_prefix: 'always',
        servers: [
          { name: 'good', command: ['node', CHAOS_SERVER] },
          { name: 'broken', command: ['node', '-e', 'process.exit(3)'], restart: { initial_backoff_ms: 100, max_backoff_ms: 200 } },
        ],
      },
    });
    let client;
    try {
      client = await connectClient(gw);
      await waitForTools(client, (n) => n.includes('good__echo'));
      assert.equal(resultText(await client.callTool({ name: 'good__echo', arguments: { text: 'fine' } })), 'fine');
      const ready = await fetch(`${gw.url}/ready`);
      const body = await ready.json();
      assert.ok(readyUpstream(body, 'broken') && readyUpstream(body, 'good'), JSON.stringify(body));
      assert.notEqual(readyUpstream(body, 'broken').status, readyUpstream(body, 'good').status, JSON.stringify(body));
    } finally {
      await client?.close().catch(() => {});
      await gw.stopAndCheck(assert);
    }
  });
});
