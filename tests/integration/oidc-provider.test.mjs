// build/mcpgw as an OAuth resource server in front of a real, certified OpenID provider
// (`oidc-provider`, run in-process on a loopback port): client_credentials tokens issued as
// RFC 9068 JWT access tokens for the gateway's resource indicator (RFC 8707), JWKS discovered via
// /.well-known/openid-configuration, and signing-key rotation.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import * as jose from 'jose';
import Provider, { errors as oidcErrors } from 'oidc-provider';
import {
  CHAOS_SERVER,
  connectClient,
  freePort,
  needsGateway,
  rawRequest,
  rawSession,
  sleep,
  startGateway,
  waitForTools,
} from './harness.mjs';
import { makeKey, parseWwwAuthenticate } from './jwks-server.mjs';

const CLIENT_ID = 'mcpgw-oidc-test';
const CLIENT_SECRET = 'a-long-enough-client-secret-for-tests';
const OTHER_RESOURCE = 'http://127.0.0.1:1/other-api';
const COOLDOWN_S = 1;
// Each test has its own limit, so that a hang names the test instead of timing out the whole file.
const T = { timeout: 30000 };

/** A private JWK for oidc-provider's `jwks` from a makeKey() key. */
async function privateJwk(key) {
  return { ...(await jose.exportJWK(key.privateKey)), kid: key.kid, alg: key.alg, use: 'sig' };
}

/**
 * oidc-provider on 127.0.0.1:port with the given signing keys. Records every request; answers 404
 * for /.well-known/oauth-authorization-server so that the gateway has to fall back to OIDC
 * discovery (/.well-known/openid-configuration).
 */
async function startProvider({ port, keys, audience }) {
  const issuer = `http://127.0.0.1:${port}`;
  const resourceInfo = (indicator) => {
    if (indicator !== audience && indicator !== OTHER_RESOURCE) throw new oidcErrors.InvalidTarget();
    return {
      scope: 'mcp:read mcp:write',
      audience: indicator,
      accessTokenFormat: 'jwt',
      accessTokenTTL: 600,
      jwt: { sign: { alg: 'RS256' } },
    };
  };
  const provider = new Provider(issuer, {
    jwks: { keys: await Promise.all(keys.map(privateJwk)) },
    clients: [
      {
        client_id: CLIENT_ID,
        client_secret: CLIENT_SECRET,
        grant_types: ['client_credentials'],
        redirect_uris: [],
        response_types: [],
        scope: 'mcp:read mcp:write',
      },
    ],
    scopes: ['mcp:read', 'mcp:write'],
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => audience,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx, indicator) => resourceInfo(indicator),
      },
    },
    ttl: { ClientCredentials: 600 },
  });
  const requests = [];
  const callback = provider.callback();
  const server = http.createServer((req, res) => {
    requests.push({ method: req.method, path: req.url });
    if (req.url.split('?')[0] === '/.well-known/oauth-authorization-server') {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end('{"error":"not_found"}');
      return;
    }
    callback(req, res);
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  return {
    issuer,
    provider,
    requests,
    jwksFetches: () => requests.filter((r) => r.path.split('?')[0] === '/jwks').length,
    async close() {
      server.closeAllConnections?.();
      await new Promise((resolve) => server.close(() => resolve()));
    },
    /** client_credentials at the token endpoint; returns the parsed response (throws unless 200). */
    async token({ scope = 'mcp:read', resource = audience } = {}) {
      const res = await fetch(`${issuer}/token`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: `Basic ${Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString('base64')}`,
        },
        body: new URLSearchParams({ grant_type: 'client_credentials', scope, resource }),
        signal: AbortSignal.timeout(10000),
      });
      const body = await res.json();
      if (res.status !== 200) throw new Error(`token endpoint: ${res.status} ${JSON.stringify(body)}`);
      return body;
    },
  };
}

const bearer = (t) => ({ authorization: `Bearer ${t}` });

describe('OAuth with oidc-provider: client_credentials JWT access tokens, key rotation', { ...needsGateway(), timeout: 120000 }, () => {
  let opPort;
  let op;
  let gw;
  let aud;
  let k1;
  let k2;
  let session; // a raw MCP session opened with a k1 token
  let k1Token; // a k1-signed access token, still unexpired when k1 is rotated out

  before(async () => {
    opPort = await freePort();
    const gwPort = await freePort();
    aud = `http://127.0.0.1:${gwPort}/mcp`;
    k1 = await makeKey('RS256', { kid: 'op-key-1' });
    k2 = await makeKey('RS256', { kid: 'op-key-2' });
    op = await startProvider({ port: opPort, keys: [k1], audience: aud });
    gw = await startGateway({
      port: gwPort,
      config: {
        servers: [{ name: 'chaos', command: ['node', CHAOS_SERVER] }],
        auth: {
          mode: 'oauth',
          issuer: op.issuer, // no jwks_uri: discovered
          audience: aud,
          require_typ: 'at+jwt', // oidc-provider sets typ: at+jwt (RFC 9068)
          required_scopes: ['mcp:read'],
          jwks_refetch_cooldown_s: COOLDOWN_S,
        },
      },
      wait: 'ready',
    });
  }, { timeout: 60000 });

  after(async () => {
    if (gw) await gw.stop();
    await op?.close();
  });

  test('oidc-provider issues an at+jwt JWT for the gateway resource', T, async () => {
    const t = await op.token();
    assert.equal(t.token_type, 'Bearer');
    const h = jose.decodeProtectedHeader(t.access_token);
    const p = jose.decodeJwt(t.access_token);
    assert.equal(h.typ, 'at+jwt');
    assert.equal(h.kid, k1.kid);
    assert.equal(p.iss, op.issuer);
    assert.equal(p.aud, aud);
    assert.equal(p.scope, 'mcp:read');
    assert.equal(p.client_id, CLIENT_ID);
  });

  test('tools/list through the gateway with a client_credentials token (SDK client) -> 200', T, async () => {
    const { access_token: token } = await op.token();
    const client = await connectClient(gw, { headers: bearer(token) });
    try {
      const tools = await waitForTools(client, (n) => n.some((x) => x.endsWith('echo')));
      assert.ok(tools.length > 0);
    } finally {
      await client.close().catch(() => {});
    }
    const paths = op.requests.map((r) => r.path.split('?')[0]);
    assert.ok(paths.includes('/.well-known/openid-configuration'), `no OIDC discovery request: ${JSON.stringify(paths)}`);
    assert.ok(paths.includes('/jwks'), `no JWKS request: ${JSON.stringify(paths)}`);
  });

  test('a raw session with a token: tools/list -> 200', T, async () => {
    k1Token = (await op.token()).access_token;
    session = await rawSession(gw, { headers: bearer(k1Token) });
    const r = await rawRequest(gw, session, 2, 'tools/list', undefined, { headers: bearer(k1Token) });
    assert.equal(r.status, 200, r.text);
    assert.ok(r.response?.result?.tools?.length > 0, r.text);
  });

  test('a token issued for another resource is refused (401 invalid_token)', T, async () => {
    const { access_token: token } = await op.token({ resource: OTHER_RESOURCE });
    assert.equal(jose.decodeJwt(token).aud, OTHER_RESOURCE);
    const r = await rawRequest(gw, session, 3, 'tools/list', undefined, { headers: bearer(token) });
    assert.equal(r.status, 401, r.text);
    const c = parseWwwAuthenticate(r.headers.get('www-authenticate'));
    assert.equal(c?.params?.error, 'invalid_token', r.headers.get('www-authenticate'));
  });

  test('a token without mcp:read -> 403 insufficient_scope', T, async () => {
    const { access_token: token } = await op.token({ scope: 'mcp:write' });
    const r = await rawRequest(gw, session, 4, 'tools/list', undefined, { headers: bearer(token) });
    assert.equal(r.status, 403, r.text);
    const c = parseWwwAuthenticate(r.headers.get('www-authenticate'));
    assert.equal(c?.params?.error, 'insufficient_scope', r.headers.get('www-authenticate'));
    assert.ok((c?.params?.scope ?? '').split(' ').includes('mcp:read'), r.headers.get('www-authenticate'));
  });

  test('provider down: tokens with a cached key still verify (no request per token)', T, async () => {
    const token = (await op.token()).access_token;
    await op.close();
    const r = await rawRequest(gw, session, 5, 'tools/list', undefined, { headers: bearer(token) });
    assert.equal(r.status, 200, r.text);
  });

  test('signing key rotated to one the gateway never saw -> accepted after exactly one refetch', T, async () => {
    op = await startProvider({ port: opPort, keys: [k2], audience: aud }); // same issuer, new JWKS
    await sleep((COOLDOWN_S + 1) * 1000);
    const { access_token: token } = await op.token();
    assert.equal(jose.decodeProtectedHeader(token).kid, k2.kid);
    const before = op.jwksFetches();
    const r = await rawRequest(gw, session, 6, 'tools/list', undefined, { headers: bearer(token) });
    assert.equal(r.status, 200, `token signed by the rotated-in key: ${r.status} ${r.headers.get('www-authenticate')} ${r.text}`);
    assert.equal(op.jwksFetches() - before, 1, `JWKS fetches for the new kid: ${JSON.stringify(op.requests)}`);

    const again = await rawRequest(gw, session, 7, 'tools/list', undefined, { headers: bearer((await op.token()).access_token) });
    assert.equal(again.status, 200, again.text);
    assert.equal(op.jwksFetches() - before, 1, 'the rotated-in key is cached now: no second fetch');
  });

  test('a token signed by the removed key is refused after the refetch', T, async () => {
    // k1Token is unexpired and correctly signed, but k1 left the provider's JWKS, which the gateway
    // has fetched again since (previous test).
    assert.ok(jose.decodeJwt(k1Token).exp > Date.now() / 1000 + 60);
    const r = await rawRequest(gw, session, 8, 'tools/list', undefined, { headers: bearer(k1Token) });
    assert.equal(r.status, 401, `token signed by the removed key: ${r.status} ${r.text}`);
    const c = parseWwwAuthenticate(r.headers.get('www-authenticate'));
    assert.equal(c?.params?.error, 'invalid_token', r.headers.get('www-authenticate'));
  });

  test('the gateway shut down cleanly', T, async () => {
    await gw.stopAndCheck(assert);
    gw = null;
  });
});
