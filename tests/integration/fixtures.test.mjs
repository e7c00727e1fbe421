// Checks the test fixtures themselves (no gateway involved): chaos-server driven over stdio by the
// SDK client, and the loopback Streamable HTTP launcher for server-everything.
import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {
  CreateMessageRequestSchema,
  ElicitRequestSchema,
  ListRootsRequestSchema,
} from '@modelcontextprotocol/sdk/types.js';
import { REPO_ROOT, CHAOS_SERVER, EVERYTHING_HTTP_JS, freePort, resultText, startHelper } from './harness.mjs';

async function chaosClient({ env } = {}) {
  const client = new Client(
    { name: 'fixture-test', version: '1.0.0' },
    { capabilities: { sampling: {}, roots: { listChanged: true }, elicitation: { form: {} } } },
  );
  client.setRequestHandler(CreateMessageRequestSchema, async (req) => ({
    role: 'assistant',
    model: 'm',
    content: { type: 'text', text: `sampled: ${req.params.messages[0].content.text}` },
  }));
  client.setRequestHandler(ListRootsRequestSchema, async () => ({ roots: [{ uri: 'file:///tmp/root-a', name: 'A' }] }));
  client.setRequestHandler(ElicitRequestSchema, async () => ({ action: 'accept', content: { name: 'Ada' } }));
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [path.join(REPO_ROOT, CHAOS_SERVER)],
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    stderr: 'pipe',
  });
  await client.connect(transport);
  return { client, transport };
}

describe('chaos-server over stdio', { timeout: 30000 }, () => {
  test('lists its tools and answers echo/slow/pid/env/numbers', async () => {
    const { client, transport } = await chaosClient({ env: { CHAOS_TEST_VAR: 'v42' } });
    try {
      const { tools } = await client.listTools();
      assert.deepEqual(
        tools.map((t) => t.name).sort(),
        ['crash', 'echo', 'elicit', 'env', 'hang', 'numbers', 'pid', 'progress', 'roots', 'sample', 'slow'],
      );
      assert.equal(resultText(await client.callTool({ name: 'echo', arguments: { text: 'hi there' } })), 'hi there');
      const t0 = Date.now();
      assert.equal(resultText(await client.callTool({ name: 'slow', arguments: { ms: 300 } })), 'slept 300');
      assert.ok(Date.now() - t0 >= 290);
      assert.equal(resultText(await client.callTool({ name: 'pid', arguments: {} })), String(transport.pid));
      assert.equal(resultText(await client.callTool({ name: 'env', arguments: { name: 'CHAOS_TEST_VAR' } })), 'v42');
      const values = [9612.386377896033, 0.1, -3];
      const n = await client.callTool({ name: 'numbers', arguments: { values } });
      assert.deepEqual(JSON.parse(resultText(n)), values);
      assert.deepEqual(n.structuredContent, { values });
    } finally {
      await client.close();
    }
  });

  test('sample, roots, elicit and progress reach the client', async () => {
    const { client } = await chaosClient();
    try {
      assert.equal(resultText(await client.callTool({ name: 'sample', arguments: { prompt: 'ping' } })), 'sampled: ping');
      assert.deepEqual(JSON.parse(resultText(await client.callTool({ name: 'roots', arguments: {} }))), [
        { uri: 'file:///tmp/root-a', name: 'A' },
      ]);
      assert.deepEqual(JSON.parse(resultText(await client.callTool({ name: 'elicit', arguments: { message: 'who?' } }))), {
        action: 'accept',
        content: { name: 'Ada' },
      });
      const seen = [];
      const r = await client.callTool({ name: 'progress', arguments: { steps: 3 } }, undefined, {
        onprogress: (p) => seen.push(p),
      });
      assert.equal(resultText(r), 'done 3');
      assert.deepEqual(seen.map((p) => [p.progress, p.total]), [[1, 3], [2, 3], [3, 3]]);
    } finally {
      await client.close();
    }
  });

  test('hang never answers; crash exits with code 1 without answering', async () => {
    const { client, transport } = await chaosClient();
    const proc = transport._process;
    const exited = new Promise((resolve) => proc.on('exit', (code) => resolve(code)));
    await assert.rejects(client.callTool({ name: 'hang', arguments: {} }, undefined, { timeout: 500 }), /timed out/i);
    const t0 = Date.now();
    await assert.rejects(client.callTool({ name: 'crash', arguments: {} }, undefined, { timeout: 5000 }), (e) => {
      assert.doesNotMatch(String(e.message), /timed out/i);
      return true;
    });
    assert.ok(Date.now() - t0 < 3000, 'crash should end the call promptly');
    assert.equal(await exited, 1);
    await client.close();
  });
});

describe('everything-http launcher', { timeout: 30000 }, () => {
  let helper;
  let port;
  after(async () => helper?.stop());

  test('serves server-everything over Streamable HTTP and enforces REQUIRE_HEADER', async () => {
    port = await freePort();
    helper = await startHelper([EVERYTHING_HTTP_JS, String(port)], {
      env: { REQUIRE_HEADER: 'X-Api-Key=s3cret' },
      waitUrl: `http://127.0.0.1:${port}/health`,
    });
    const url = new URL(`http://127.0.0.1:${port}/mcp`);
    const client = new Client({ name: 'fixture-test', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(url, { requestInit: { headers: { 'X-Api-Key': 's3cret' } } }));
    const { tools } = await client.listTools();
    assert.ok(tools.some((t) => t.name === 'echo'));
    assert.equal(resultText(await client.callTool({ name: 'echo', arguments: { message: 'over http' } })), 'Echo: over http');
    await client.close();

    const bad = new Client({ name: 'fixture-test', version: '1.0.0' });
    await assert.rejects(bad.connect(new StreamableHTTPClientTransport(url)));
  });
});
