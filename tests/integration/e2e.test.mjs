// End-to-end: the official MCP SDK client talks to real MCP servers through build/mcpgw.
//
// Upstreams: server-everything, server-filesystem, server-memory and chaos-server over stdio, and
// server-everything over Streamable HTTP (tests/integration/everything-http.mjs on a free port).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import {
  REPO_ROOT,
  CHAOS_SERVER,
  EVERYTHING_JS,
  EVERYTHING_HTTP_JS,
  FILESYSTEM_JS,
  MEMORY_JS,
  NODE_MODULES,
  connectClient,
  freePort,
  needsGateway,
  openGetStream,
  procStat,
  rawRequest,
  rawSession,
  readyUpstream,
  resultText,
  sleep,
  startGateway,
  startHelper,
  tmpDir,
  waitForTools,
} from './harness.mjs';

const SECRET = 'upstream-secret-7f3a9c';

/** Tool names a server offers when spoken to directly over stdio (no gateway). */
async function directToolNames(args, env = {}) {
  const client = new Client({ name: 'direct', version: '1.0.0' });
  const transport = new StdioClientTransport({
    command: process.execPath,
    args,
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    stderr: 'ignore',
  });
  await client.connect(transport);
  try {
    return (await client.listTools()).tools.map((t) => t.name).sort();
  } finally {
    await client.close();
  }
}

const prefixed = (server, names) => names.map((n) => `${server}__${n}`);

function structured(result) {
  if (result.structuredContent) return result.structuredContent;
  return JSON.parse(resultText(result));
}

describe('e2e through the gateway (tool_prefix: always)', { ...needsGateway(), timeout: 120000 }, () => {
  let gw;
  let helper;
  let client;
  let dir;
  let filePath;
  const fileContent = `hello from the e2e test ${Date.now()}\nsecond line\n`;
  const direct = {};
  const sampled = [];

  before(async () => {
    dir = tmpDir('mcpgw-e2e-');
    fs.mkdirSync(path.join(dir, 'root'));
    filePath = path.join(fs.realpathSync(dir), 'root', 'hello.txt');
    fs.writeFileSync(filePath, fileContent);
    const memoryFile = path.join(dir, 'memory.jsonl');

    direct.fs = await directToolNames([FILESYSTEM_JS, path.dirname(filePath)]);
    direct.memory = await directToolNames([MEMORY_JS], { MEMORY_FILE_PATH: path.join(dir, 'direct-memory.jsonl') });
    direct.chaos = await directToolNames([CHAOS_SERVER]);

    const httpPort = await freePort();
    helper = await startHelper([EVERYTHING_HTTP_JS, String(httpPort)], {
      env: { REQUIRE_HEADER: `X-Api-Key=${SECRET}` },
      waitUrl: `http://127.0.0.1:${httpPort}/health`,
    });

    gw = await startGateway({
      config: {
        tool_prefix: 'always',
        request_timeout_ms: 20000,
        servers: [
          { name: 'everything', transport: 'stdio', command: ['node', EVERYTHING_JS, 'stdio'] },
          { name: 'fs', transport: 'stdio', command: ['node', FILESYSTEM_JS, path.dirname(filePath)] },
          { name: 'memory', transport: 'stdio', command: ['node', MEMORY_JS], env: { MEMORY_FILE_PATH: memoryFile } },
          { name: 'chaos', transport: 'stdio', command: ['node', CHAOS_SERVER] },
          // The same fixture with one upstream process per client session: exact routing.
          { name: 'isolated', transport: 'stdio', command: ['node', CHAOS_SERVER], isolation: 'session' },
          {
            name: 'remote',
            transport: 'http',
            url: `http://127.0.0.1:${httpPort}/mcp`,
            headers: { 'X-Api-Key': SECRET },
          },
        ],
      },
      wait: 'ready',
      timeoutMs: 30000,
    });

    client = await connectClient(gw, {
      roots: [{ uri: 'file:///nonexistent/e2e-root-main', name: 'main' }],
      onSample: async (params) => {
        sampled.push(params);
        return `sampled(main): ${params.messages[0].content.text}`;
      },
      onElicit: async (params) => ({ action: 'accept', content: { name: `main:${params.message}` } }),
    });
    await waitForTools(client, (names) =>
      ['everything__echo', 'fs__read_text_file', 'memory__create_entities', 'chaos__echo', 'remote__echo'].every((n) =>
        names.includes(n),
      ),
    ).catch(() => {}); // the listTools test reports what is missing
  });

  after(async () => {
    await client?.close().catch(() => {});
    if (gw) await gw.stop();
    if (helper) await helper.stop();
  });

  test('/ready reports every upstream', async () => {
    const res = await fetch(`${gw.url}/ready`);
    const body = await res.json();
    assert.equal(res.status, 200, JSON.stringify(body));
    assert.ok(body.components && typeof body.components === 'object', `no components: ${JSON.stringify(body)}`);
    for (const name of ['everything', 'fs', 'memory', 'chaos', 'remote']) {
      const c = readyUpstream(body, name);
      assert.ok(c !== undefined, `upstream ${name} missing from /ready: ${JSON.stringify(body)}`);
      assert.match(String(c.status), /^(ok|up|ready|healthy|running|connected)$/i, `${name}: ${JSON.stringify(c)}`);
    }
  });

  test("server-filesystem's roots request at start-up is refused with the true reason, at info", async () => {
    // No client call is in flight then, so no client can answer; the server falls back to its
    // command-line directory. An expected event: not a warning on every start.
    const lines = gw.stderr
      .split('\n')
      .filter((l) => l.includes('"server request refused"') && l.includes('"server":"fs"'))
      .map((l) => JSON.parse(l));
    assert.ok(lines.length >= 1, `no refusal logged for fs:\n${gw.stderr.slice(-3000)}`);
    for (const l of lines) {
      assert.equal(l.method, 'roots/list', JSON.stringify(l));
      assert.equal(l.level, 'info', JSON.stringify(l));
      assert.match(l.reason, /no client call is in flight/, JSON.stringify(l));
    }
  });

  test('listTools merges every upstream, each name prefixed with its server', async () => {
    const { tools } = await client.listTools();
    const names = tools.map((t) => t.name);
    assert.equal(new Set(names).size, names.length, `duplicate tool names: ${names}`);
    for (const n of names) assert.match(n, /^(everything|fs|memory|chaos|isolated|remote)__./, `unprefixed tool ${n}`);
    // Servers whose tool list does not depend on the client: exactly their own tools, prefixed.
    assert.deepEqual(names.filter((n) => n.startsWith('fs__')).sort(), prefixed('fs', direct.fs));
    assert.deepEqual(names.filter((n) => n.startsWith('memory__')).sort(), prefixed('memory', direct.memory));
    assert.deepEqual(names.filter((n) => n.startsWith('chaos__')).sort(), prefixed('chaos', direct.chaos));
    for (const n of ['echo', 'get-sum', 'get-tiny-image', 'trigger-long-running-operation']) {
      assert.ok(names.includes(`everything__${n}`), `everything__${n} missing`);
      assert.ok(names.includes(`remote__${n}`), `remote__${n} missing`);
    }
    // Schemas come through unchanged.
    const readText = tools.find((t) => t.name === 'fs__read_text_file');
    assert.equal(readText.inputSchema.type, 'object');
    assert.ok(readText.inputSchema.properties.path, JSON.stringify(readText.inputSchema));
  });

  test('echo through server-everything over stdio and over Streamable HTTP', async () => {
    const a = await client.callTool({ name: 'everything__echo', arguments: { message: 'via stdio' } });
    assert.equal(resultText(a), 'Echo: via stdio');
    const b = await client.callTool({ name: 'remote__echo', arguments: { message: 'via http' } });
    assert.equal(resultText(b), 'Echo: via http');
    const sum = await client.callTool({ name: 'remote__get-sum', arguments: { a: 2, b: 40 } });
    assert.match(resultText(sum), /\b42\b/);
  });

  test('payloads survive intact: unicode, control characters, 1 MiB', async () => {
    const tricky = 'héllo wörld — 你好 🎉 "quotes" \\backslash\\ tab\tnewline\nnul-ish \u0001 \u2028 end';
    assert.equal(resultText(await client.callTool({ name: 'chaos__echo', arguments: { text: tricky } })), tricky);
    // A string cut inside a surrogate pair (JSON.stringify writes "\ud83d"): the tool gets U+FFFD
    // in its place, as UTF-8 has no lone surrogates, instead of the call failing to parse.
    const cut = 'cut 😀'.slice(0, 5);
    assert.equal(resultText(await client.callTool({ name: 'chaos__echo', arguments: { text: cut } })), 'cut \ufffd');
    const big = 'abcdefghij'.repeat(104858); // ~1 MiB
    assert.equal(resultText(await client.callTool({ name: 'chaos__echo', arguments: { text: big } })), big);
  });

  // The gateway parses every message and writes it anew; numbers must come out as they went in.
  // These are doubles in JavaScript's own shortest form that Boost.JSON 1.81's default parser
  // reads one unit in the last place off (9612.386377896033 became 9612.386377896031).
  test('numbers survive intact in both directions (chaos-server, server-everything)', async () => {
    const values = [9612.386377896033, 10769.770028185163, 2783.5060394658162, 0.30000000000000004, 0.1,
      -2.5e-7, 1e21, 5e-324, 9007199254740991, -9223372036854775808, 1.7976931348623157e308];
    const r = await client.callTool({ name: 'chaos__numbers', arguments: { values } });
    assert.deepEqual(JSON.parse(resultText(r)), values, 'what reached the server');
    assert.deepEqual(r.structuredContent.values, values, 'what came back to the client');
    const sum = await client.callTool({ name: 'everything__get-sum', arguments: { a: 9612.386377896033, b: 0 } });
    assert.equal(resultText(sum), 'The sum of 9612.386377896033 and 0 is 9612.386377896033.');
  });

  test('parallel calls on one session are not serialized', async () => {
    const t0 = Date.now();
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => client.callTool({ name: 'chaos__slow', arguments: { ms: 600 + i } })),
    );
    const ms = Date.now() - t0;
    assert.deepEqual(results.map(resultText), Array.from({ length: 10 }, (_, i) => `slept ${600 + i}`));
    assert.ok(ms < 3000, `10 parallel 600ms calls took ${ms}ms`);
  });

  test('a file is read through server-filesystem', async () => {
    const r = await client.callTool({ name: 'fs__read_text_file', arguments: { path: filePath } });
    assert.ok(!r.isError, JSON.stringify(r));
    assert.equal(resultText(r), fileContent);
    const list = await client.callTool({ name: 'fs__list_directory', arguments: { path: path.dirname(filePath) } });
    assert.match(resultText(list), /\[FILE\] hello\.txt/);
    const outside = await client.callTool({ name: 'fs__read_text_file', arguments: { path: '/etc/passwd' } });
    assert.equal(outside.isError, true, 'reading outside the allowed directory must be a tool error');
  });

  test('an entity is created in server-memory and read back', async () => {
    const name = `Ada_${Date.now()}`;
    const created = await client.callTool({
      name: 'memory__create_entities',
      arguments: { entities: [{ name, entityType: 'person', observations: ['wrote the first program'] }] },
    });
    assert.ok(!created.isError, JSON.stringify(created));
    const opened = structured(
      await client.callTool({ name: 'memory__open_nodes', arguments: { names: [name] } }),
    );
    assert.equal(opened.entities.length, 1, JSON.stringify(opened));
    assert.equal(opened.entities[0].name, name);
    assert.deepEqual(opened.entities[0].observations, ['wrote the first program']);
    // The same graph through the memory server's resource.
    const { resources } = await client.listResources();
    const graph = resources.find((r) => r.uri.includes('memory://knowledge-graph'));
    assert.ok(graph, `memory resource missing: ${JSON.stringify(resources.map((r) => r.uri))}`);
    const read = await client.readResource({ uri: graph.uri });
    assert.ok(read.contents[0].text.includes(name), read.contents[0].text);
  });

  test('prompts are merged and prefixed; getPrompt reaches the right upstream', async () => {
    const { prompts } = await client.listPrompts();
    const names = prompts.map((p) => p.name);
    for (const n of ['everything__simple-prompt', 'everything__args-prompt', 'remote__simple-prompt']) {
      assert.ok(names.includes(n), `${n} missing from ${JSON.stringify(names)}`);
    }
    const simple = await client.getPrompt({ name: 'everything__simple-prompt' });
    assert.equal(simple.messages[0].content.text, 'This is a simple prompt without arguments.');
    const args = await client.getPrompt({ name: 'remote__args-prompt', arguments: { city: 'Lisbon', state: 'PT' } });
    assert.equal(args.messages[0].content.text, "What's weather in Lisbon, PT?");
  });

  test('resources and resource templates are merged and readable', async () => {
    const { resources } = await client.listResources();
    const docsDir = path.join(NODE_MODULES, '@modelcontextprotocol/server-everything/dist/docs');
    const doc = resources.find((r) => r.uri.includes('demo://resource/static/document/instructions.md'));
    assert.ok(doc, `everything's instructions.md resource missing: ${JSON.stringify(resources.map((r) => r.uri))}`);
    const read = await client.readResource({ uri: doc.uri });
    assert.equal(read.contents[0].text, fs.readFileSync(path.join(docsDir, 'instructions.md'), 'utf8'));

    const { resourceTemplates } = await client.listResourceTemplates();
    const tpl = resourceTemplates.find((t) => t.uriTemplate.includes('demo://resource/dynamic/text/{resourceId}'));
    assert.ok(tpl, `text template missing: ${JSON.stringify(resourceTemplates)}`);
    const dyn = await client.readResource({ uri: tpl.uriTemplate.replace('{resourceId}', '7') });
    assert.match(dyn.contents[0].text, /^Resource 7: This is a plaintext resource/);
  });

  test('sampling/createMessage from an upstream is answered by the calling client', async () => {
    const before = sampled.length;
    const r = await client.callTool({ name: 'chaos__sample', arguments: { prompt: 'what is 6x7?' } });
    assert.equal(resultText(r), 'sampled(main): what is 6x7?');
    assert.equal(sampled.length, before + 1);
    assert.equal(sampled.at(-1).messages[0].content.text, 'what is 6x7?');
  });

  test('roots/list from an upstream is answered by the calling client', async () => {
    const r = await client.callTool({ name: 'chaos__roots', arguments: {} });
    assert.deepEqual(JSON.parse(resultText(r)), [{ uri: 'file:///nonexistent/e2e-root-main', name: 'main' }]);
  });

  test('elicitation/create from an upstream is answered by the calling client', async () => {
    const r = await client.callTool({ name: 'chaos__elicit', arguments: { message: 'your name?' } });
    assert.deepEqual(JSON.parse(resultText(r)), { action: 'accept', content: { name: 'main:your name?' } });
  });

  describe('server->client requests are routed to the calling session', () => {
    let a;
    let b;
    const seenA = [];
    const seenB = [];
    before(async () => {
      a = await connectClient(gw, {
        name: 'client-a',
        roots: [{ uri: 'file:///nonexistent/root-a', name: 'A' }],
        onSample: async (p) => {
          seenA.push(p.messages[0].content.text);
          await sleep(200);
          return `A says ${p.messages[0].content.text}`;
        },
      });
      b = await connectClient(gw, {
        name: 'client-b',
        roots: [{ uri: 'file:///nonexistent/root-b', name: 'B' }],
        onSample: async (p) => {
          seenB.push(p.messages[0].content.text);
          return `B says ${p.messages[0].content.text}`;
        },
      });
    });
    after(async () => {
      await a?.close().catch(() => {});
      await b?.close().catch(() => {});
    });

    test('one session at a time (stdio upstream): only the caller is asked', async () => {
      seenA.length = seenB.length = 0;
      assert.equal(resultText(await a.callTool({ name: 'chaos__sample', arguments: { prompt: 'a1' } })), 'A says a1');
      assert.equal(resultText(await b.callTool({ name: 'chaos__sample', arguments: { prompt: 'b1' } })), 'B says b1');
      assert.deepEqual(JSON.parse(resultText(await b.callTool({ name: 'chaos__roots', arguments: {} }))), [
        { uri: 'file:///nonexistent/root-b', name: 'B' },
      ]);
      assert.deepEqual(JSON.parse(resultText(await a.callTool({ name: 'chaos__roots', arguments: {} }))), [
        { uri: 'file:///nonexistent/root-a', name: 'A' },
      ]);
      assert.deepEqual(seenA, ['a1']);
      assert.deepEqual(seenB, ['b1']);
    });

    test('concurrent calls from one session (stdio upstream) all reach that session', async () => {
      seenA.length = seenB.length = 0;
      const [s1, s2, roots] = await Promise.all([
        a.callTool({ name: 'chaos__sample', arguments: { prompt: 'a2' } }),
        a.callTool({ name: 'chaos__sample', arguments: { prompt: 'a3' } }),
        a.callTool({ name: 'chaos__roots', arguments: {} }),
      ]);
      assert.equal(resultText(s1), 'A says a2');
      assert.equal(resultText(s2), 'A says a3');
      assert.deepEqual(JSON.parse(resultText(roots)), [{ uri: 'file:///nonexistent/root-a', name: 'A' }]);
      assert.deepEqual(seenA.sort(), ['a2', 'a3']);
      assert.deepEqual(seenB, []);
    });

    test('concurrent calls from two sessions (stdio upstream) are never misrouted', async (t) => {
      // Over stdio a server->client request carries nothing tying it to one of the calls in flight;
      // a gateway may refuse such a request, but must never hand it to the other session.
      seenA.length = seenB.length = 0;
      // A refusal surfaces as a JSON-RPC error, or as an isError tool result (the upstream's
      // sendRequest failed inside its tool handler).
      const settle = (p) =>
        p.then(
          (r) => (r.isError ? { refused: resultText(r) } : { text: resultText(r) }),
          (e) => ({ error: e.message }),
        );
      const [ra, rb] = await Promise.all([
        settle(a.callTool({ name: 'chaos__sample', arguments: { prompt: 'a4' } })),
        settle(b.callTool({ name: 'chaos__sample', arguments: { prompt: 'b4' } })),
      ]);
      t.diagnostic(`A: ${JSON.stringify(ra)} B: ${JSON.stringify(rb)}`);
      assert.ok(!seenA.includes('b4'), `B's prompt reached A: ${JSON.stringify(seenA)}`);
      assert.ok(!seenB.includes('a4'), `A's prompt reached B: ${JSON.stringify(seenB)}`);
      if (ra.text !== undefined) assert.equal(ra.text, 'A says a4');
      if (rb.text !== undefined) assert.equal(rb.text, 'B says b4');
    });

    test('concurrent calls from two sessions (isolation: session) are routed exactly', async () => {
      seenA.length = seenB.length = 0;
      const [ra, rb] = await Promise.all([
        a.callTool({ name: 'isolated__sample', arguments: { prompt: 'a5' } }),
        b.callTool({ name: 'isolated__sample', arguments: { prompt: 'b5' } }),
      ]);
      assert.equal(resultText(ra), 'A says a5');
      assert.equal(resultText(rb), 'B says b5');
      assert.deepEqual(seenA, ['a5']);
      assert.deepEqual(seenB, ['b5']);
      // Each session got a process of its own.
      const [pa, pb] = await Promise.all([
        a.callTool({ name: 'isolated__pid', arguments: {} }),
        b.callTool({ name: 'isolated__pid', arguments: {} }),
      ]);
      assert.notEqual(resultText(pa), resultText(pb));
    });

    test('isolation: session stops the per-session process when the session ends', async () => {
      const c = await connectClient(gw, { name: 'short-lived' });
      const pid = Number(resultText(await c.callTool({ name: 'isolated__pid', arguments: {} })));
      assert.ok(gw.recordChildren().some((k) => k.pid === pid), `isolated upstream ${pid} is not the gateway's descendant`);
      await c.rawTransport.terminateSession();
      await c.close();
      let st = procStat(pid);
      for (let i = 0; i < 50 && st; i++) {
        await sleep(100);
        st = procStat(pid);
      }
      assert.equal(st, null, `per-session upstream ${pid} still there 5s after DELETE: ${JSON.stringify(st)}`);
      // the other sessions' instances are untouched
      assert.equal(resultText(await a.callTool({ name: 'isolated__echo', arguments: { text: 'a still' } })), 'a still');
    });

    test('concurrent calls from two sessions (Streamable HTTP upstream) are routed exactly', async () => {
      seenA.length = seenB.length = 0;
      const names = (await a.listTools()).tools.map((x) => x.name);
      assert.ok(
        names.includes('remote__trigger-sampling-request'),
        'server-everything registers trigger-sampling-request only if the gateway offers it sampling',
      );
      const [ra, rb] = await Promise.all([
        a.callTool({ name: 'remote__trigger-sampling-request', arguments: { prompt: 'a5' } }),
        b.callTool({ name: 'remote__trigger-sampling-request', arguments: { prompt: 'b5' } }),
      ]);
      assert.match(resultText(ra), /A says Resource trigger-sampling-request context: a5/);
      assert.match(resultText(rb), /B says Resource trigger-sampling-request context: b5/);
      assert.deepEqual(seenA, ['Resource trigger-sampling-request context: a5']);
      assert.deepEqual(seenB, ['Resource trigger-sampling-request context: b5']);
    });
  });

  test('progress notifications reach the caller with its progressToken (SDK client)', async () => {
    const seen = [];
    const r = await client.callTool({ name: 'chaos__progress', arguments: { steps: 4 } }, undefined, {
      onprogress: (p) => seen.push(p),
    });
    assert.equal(resultText(r), 'done 4');
    assert.deepEqual(
      seen.map((p) => [p.progress, p.total, p.message]),
      [1, 2, 3, 4].map((i) => [i, 4, `step ${i}/4`]),
    );
  });

  test('progress notifications keep a caller-chosen string progressToken (raw HTTP)', async () => {
    const session = await rawSession(gw);
    const stream = await openGetStream(gw, session);
    try {
      const token = `tok-${Date.now()}`;
      const r = await rawRequest(gw, session, 11, 'tools/call', {
        name: 'chaos__progress',
        arguments: { steps: 3 },
        _meta: { progressToken: token },
      });
      assert.equal(r.status, 200, r.text);
      assert.equal(r.response?.result?.content?.[0]?.text, 'done 3', r.text);
      await sleep(300);
      const progress = [...r.messages, ...stream.messages].filter((m) => m.method === 'notifications/progress');
      assert.deepEqual(
        progress.map((m) => [m.params.progressToken, m.params.progress]),
        [[token, 1], [token, 2], [token, 3]],
        `POST body: ${r.text}\nGET stream (${stream.status}): ${JSON.stringify(stream.messages)}`,
      );
    } finally {
      stream.close();
    }
  });

  for (const version of ['2025-06-18', '2025-03-26']) {
    test(`protocol version ${version}: negotiation, calls, sampling and progress`, async () => {
      const seen = [];
      const c = await connectClient(gw, {
        protocolVersion: version,
        onSample: async (p) => {
          seen.push(p);
          return `v${version}: ${p.messages[0].content.text}`;
        },
      });
      try {
        assert.equal(c.rawTransport.protocolVersion, version, 'gateway must answer with the version offered');
        const { tools } = await c.listTools();
        assert.ok(tools.some((t) => t.name === 'everything__echo'));
        assert.equal(
          resultText(await c.callTool({ name: 'everything__echo', arguments: { message: version } })),
          `Echo: ${version}`,
        );
        assert.equal(
          resultText(await c.callTool({ name: 'remote__echo', arguments: { message: version } })),
          `Echo: ${version}`,
        );
        assert.equal(
          resultText(await c.callTool({ name: 'chaos__sample', arguments: { prompt: 'hi' } })),
          `v${version}: hi`,
        );
        const progress = [];
        await c.callTool({ name: 'chaos__progress', arguments: { steps: 2 } }, undefined, {
          onprogress: (p) => progress.push(p.progress),
        });
        assert.deepEqual(progress, [1, 2]);
      } finally {
        await c.close();
      }
    });
  }

  test('legacy HTTP+SSE endpoint (2024-11-05) with the SDK SSEClientTransport', async () => {
    const c = await connectClient(gw, {
      transport: 'sse',
      onSample: async (p) => `sse: ${p.messages[0].content.text}`,
    });
    try {
      const { tools } = await c.listTools();
      assert.ok(tools.some((t) => t.name === 'fs__read_text_file'));
      assert.equal(
        resultText(await c.callTool({ name: 'everything__echo', arguments: { message: 'legacy' } })),
        'Echo: legacy',
      );
      assert.equal(resultText(await c.callTool({ name: 'fs__read_text_file', arguments: { path: filePath } })), fileContent);
      assert.equal(resultText(await c.callTool({ name: 'chaos__sample', arguments: { prompt: 'old' } })), 'sse: old');
      const progress = [];
      await c.callTool({ name: 'chaos__progress', arguments: { steps: 2 } }, undefined, {
        onprogress: (p) => progress.push(p.progress),
      });
      assert.deepEqual(progress, [1, 2]);
    } finally {
      await c.close();
    }
  });

  test('the upstream header secret is sent upstream but never logged', async () => {
    // remote__echo working above proves the header reached the upstream (it answers 401 without it).
    assert.ok(!gw.stderr.includes(SECRET), 'the secret header value appears in the gateway log');
  });

  test('every stderr line is a JSON log record', async () => {
    const bad = gw.logs().filter((l) => l._raw !== undefined);
    assert.deepEqual(bad.slice(0, 5), [], `${bad.length} non-JSON stderr lines`);
  });

  test('stops on SIGTERM without leaving upstream processes behind', async () => {
    const kids = gw.recordChildren();
    assert.ok(kids.length >= 4, `expected >= 4 stdio upstream processes, saw ${JSON.stringify(kids)}`);
    assert.deepEqual(gw.zombieChildren(), []);
    await gw.stopAndCheck(assert);
  });
});

describe('e2e: tool_prefix on-conflict', { ...needsGateway(), timeout: 60000 }, () => {
  let gw;
  let client;
  let dir;

  before(async () => {
    dir = tmpDir('mcpgw-e2e-oc-');
    gw = await startGateway({
      config: {
        servers: [
          { name: 'everything', command: ['node', EVERYTHING_JS, 'stdio'] },
          { name: 'chaos', command: ['node', CHAOS_SERVER] },
          { name: 'memory', command: ['node', MEMORY_JS], env: { MEMORY_FILE_PATH: path.join(dir, 'm.jsonl') } },
        ],
      },
      wait: 'ready',
    });
    client = await connectClient(gw);
    await waitForTools(client, (n) => n.includes('chaos__echo') && n.includes('everything__echo') && n.includes('create_entities')).catch(() => {});
  });

  after(async () => {
    await client?.close().catch(() => {});
    if (gw) await gw.stop();
  });

  test('only clashing names are prefixed', async () => {
    const names = (await client.listTools()).tools.map((t) => t.name);
    assert.ok(!names.includes('echo'), 'clashing name "echo" must not appear unprefixed');
    for (const n of ['chaos__echo', 'everything__echo', 'sample', 'crash', 'get-sum', 'create_entities', 'open_nodes']) {
      assert.ok(names.includes(n), `${n} missing from ${JSON.stringify(names)}`);
    }
    assert.ok(!names.includes('chaos__sample') && !names.includes('memory__create_entities'), 'non-clashing names must stay unprefixed');
    assert.equal(resultText(await client.callTool({ name: 'chaos__echo', arguments: { text: 'c' } })), 'c');
    assert.equal(resultText(await client.callTool({ name: 'everything__echo', arguments: { message: 'e' } })), 'Echo: e');
    assert.match(resultText(await client.callTool({ name: 'get-sum', arguments: { a: 1, b: 2 } })), /\b3\b/);
  });

  test('50 sessions at once, each with its own calls', async () => {
    const clients = await Promise.all(Array.from({ length: 50 }, (_, i) => connectClient(gw, { name: `many-${i}` })));
    try {
      const texts = await Promise.all(
        clients.map(async (c, i) => {
          const r1 = await c.callTool({ name: 'chaos__echo', arguments: { text: `s${i}` } });
          const r2 = await c.callTool({ name: 'everything__echo', arguments: { message: `s${i}` } });
          return [resultText(r1), resultText(r2)];
        }),
      );
      assert.deepEqual(texts, clients.map((_, i) => [`s${i}`, `Echo: s${i}`]));
      const ids = new Set(clients.map((c) => c.rawTransport.sessionId));
      assert.equal(ids.size, 50, 'session ids must be distinct');
    } finally {
      await Promise.all(clients.map((c) => c.rawTransport.terminateSession().catch(() => {}).then(() => c.close())));
    }
    assert.equal(resultText(await client.callTool({ name: 'chaos__echo', arguments: { text: 'after' } })), 'after');
  });

  test('stops cleanly', async () => {
    await client.close();
    client = null;
    await gw.stopAndCheck(assert);
  });
});

describe('e2e: tool_prefix never with allow/deny filters', { ...needsGateway(), timeout: 60000 }, () => {
  let gw;
  let client;
  let dir;

  before(async () => {
    dir = tmpDir('mcpgw-e2e-filter-');
    gw = await startGateway({
      config: {
        tool_prefix: 'never',
        servers: [
          { name: 'chaos', command: ['node', CHAOS_SERVER], tools: { allow: ['echo', 'slow', 'pid'] } },
          {
            name: 'memory',
            command: ['node', MEMORY_JS],
            env: { MEMORY_FILE_PATH: path.join(dir, 'm.jsonl') },
            tools: { deny: ['delete_entities', 'delete_relations', 'delete_observations'] },
          },
        ],
      },
      wait: 'ready',
    });
    client = await connectClient(gw);
    await waitForTools(client, (n) => n.includes('echo') && n.includes('read_graph')).catch(() => {});
  });

  after(async () => {
    await client?.close().catch(() => {});
    if (gw) await gw.stop();
  });

  test('allow keeps only the listed tools, deny removes the listed ones; names unprefixed', async () => {
    const names = (await client.listTools()).tools.map((t) => t.name).sort();
    const memoryAll = await directToolNames([MEMORY_JS], { MEMORY_FILE_PATH: path.join(dir, 'direct.jsonl') });
    const expected = [
      'echo',
      'pid',
      'slow',
      ...memoryAll.filter((n) => !['delete_entities', 'delete_relations', 'delete_observations'].includes(n)),
    ].sort();
    assert.deepEqual(names, expected);
    assert.equal(resultText(await client.callTool({ name: 'echo', arguments: { text: 'plain' } })), 'plain');
  });

  test('calling a filtered-out tool is an invalid-params error naming it', async () => {
    for (const name of ['crash', 'delete_entities']) {
      await assert.rejects(client.callTool({ name, arguments: { entityNames: ['x'] } }), (e) => {
        assert.equal(e.code, -32602, `${name}: ${e.message}`);
        assert.ok(e.message.includes(name), e.message);
        return true;
      });
    }
    // and the upstream did not crash: chaos still answers
    assert.equal(resultText(await client.callTool({ name: 'echo', arguments: { text: 'still here' } })), 'still here');
  });

  test('stops cleanly', async () => {
    await client.close();
    client = null;
    await gw.stopAndCheck(assert);
  });
});

// MCP 2025-03-26 lets a peer send JSON-RPC batches and obliges the receiver to take them: an
// upstream on that revision (tests/fixtures/batching-server.mjs, raw JSON-RPC: the SDKs never
// batch) answers a call with [progress, log message, result] in one batch.
describe('e2e: an upstream on MCP 2025-03-26 that batches its messages', { ...needsGateway(), timeout: 60000 }, () => {
  let gw;
  let client;

  before(async () => {
    gw = await startGateway({
      config: { servers: [{ name: 'batching', command: ['node', 'tests/fixtures/batching-server.mjs'] }] },
      wait: 'ready',
    });
    client = await connectClient(gw);
  });

  after(async () => {
    await client?.close().catch(() => {});
    if (gw) await gw.stop();
  });

  test('every member of the batch reaches the client', async () => {
    await waitForTools(client, (n) => n.includes('echo'));
    const progress = [];
    const r = await client.callTool({ name: 'echo', arguments: { text: 'from a batch' } }, undefined, {
      onprogress: (p) => progress.push(p),
    });
    assert.equal(resultText(r), 'from a batch');
    assert.deepEqual(progress.map((p) => [p.progress, p.total]), [[1, 1]]);
  });
});
