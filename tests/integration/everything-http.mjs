#!/usr/bin/env node
// Serves @modelcontextprotocol/server-everything over MCP Streamable HTTP on 127.0.0.1 only (the
// package's own streamableHttp launcher listens on every interface), for mcpgw's e2e tests.
//
//   node tests/integration/everything-http.mjs PORT
//
// Endpoint: http://127.0.0.1:PORT/mcp (one everything-server instance per MCP session).
// If REQUIRE_HEADER=Name=value is set, requests without that header get 401.
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import { createServer } from '@modelcontextprotocol/server-everything/dist/server/index.js';

const port = Number(process.argv[2]);
if (!Number.isInteger(port) || port <= 0) {
  process.stderr.write('usage: everything-http.mjs PORT\n');
  process.exit(2);
}
let required = null;
if (process.env.REQUIRE_HEADER) {
  const i = process.env.REQUIRE_HEADER.indexOf('=');
  required = { name: process.env.REQUIRE_HEADER.slice(0, i).toLowerCase(), value: process.env.REQUIRE_HEADER.slice(i + 1) };
}

const sessions = new Map(); // session id -> {transport, cleanup}

function jsonError(res, status, message) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32000, message }, id: null }));
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

const httpServer = http.createServer(async (req, res) => {
  try {
    const url = new URL(req.url, `http://127.0.0.1:${port}`);
    if (url.pathname === '/health') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"status":"ok"}');
      return;
    }
    if (url.pathname !== '/mcp') return jsonError(res, 404, 'not found');
    if (required && req.headers[required.name] !== required.value) {
      return jsonError(res, 401, `missing or wrong ${required.name} header`);
    }
    const sid = req.headers['mcp-session-id'];
    let body;
    if (req.method === 'POST') {
      const text = await readBody(req);
      try {
        body = JSON.parse(text);
      } catch {
        res.writeHead(400, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32700, message: 'Parse error' }, id: null }));
        return;
      }
    }
    if (sid) {
      const s = sessions.get(sid);
      if (!s) return jsonError(res, 404, 'unknown session');
      await s.transport.handleRequest(req, res, body);
      return;
    }
    if (req.method !== 'POST' || !isInitializeRequest(body)) {
      return jsonError(res, 400, 'Bad Request: No valid session ID provided');
    }
    const { server, cleanup } = createServer();
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (id) => sessions.set(id, { transport, cleanup }),
    });
    transport.onclose = () => {
      const id = transport.sessionId;
      if (id && sessions.has(id)) {
        sessions.delete(id);
        cleanup(id);
      }
    };
    await server.connect(transport);
    await transport.handleRequest(req, res, body);
  } catch (e) {
    process.stderr.write(`everything-http: ${e?.stack ?? e}\n`);
    if (!res.headersSent) jsonError(res, 500, 'internal error');
  }
});

httpServer.listen(port, '127.0.0.1', () => {
  process.stderr.write(`everything-http listening on http://127.0.0.1:${port}/mcp\n`);
});

const shutdown = async () => {
  for (const { transport } of sessions.values()) await transport.close().catch(() => {});
  httpServer.close();
  process.exit(0);
};
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
