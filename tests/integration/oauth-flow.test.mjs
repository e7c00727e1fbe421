// End-to-end OAuth: build/mcpgw as the resource server in front of its own development
// authorization server (`mcpgw auth-server`, docs/auth-server.md), driven by the official MCP
// TypeScript SDK client. Covers the whole MCP authorization flow (401 + RFC 9728 metadata, RFC 8414
// discovery, RFC 7591 registration, authorization code + PKCE S256 with the headless login, RFC 8707
// resource), refresh-token rotation after the access token expired, client credentials, a token
// for another resource, and signing-key rotation while both servers run.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import * as jose from 'jose';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import {
  CHAOS_SERVER,
  connectClient,
  freePort,
  hashPassword,
  needsGateway,
  postMcp,
  PROTOCOL_VERSION,
  resultText,
  sleep,
  startAuthServer,
  startGateway,
  waitForTools,
} from './harness.mjs';
import { parseWwwAuthenticate } from './jwks-server.mjs';

const chaosServer = { name: 'chaos', command: ['node', CHAOS_SERVER] };
const TOOL = 'echo'; // the only upstream: no prefix (tool_prefix: on-conflict)
const USER = { username: 'alice', password: 'alice-test-password' };
const SVC = { id: 'svc-oauth-flow', secret: 'svc-oauth-flow-secret' };
const OTHER_RESOURCE = 'http://127.0.0.1:1/other-api';
const DEFAULT_AUDIENCE = 'http://127.0.0.1:1/default-audience'; // deliberately not the gateway
const REDIRECT_URL = 'http://127.0.0.1:33418/callback'; // nothing listens: the 302 is captured

// ---------------------------------------------------------------------------------------------
// Helpers

/** Users and clients of the test authorization servers (hashes from `auth-server hash-password`). */
function asSettings(extra = {}) {
  return {
    users: [
      {
        username: USER.username,
        password_hash: hashPassword(USER.password),
        sub: USER.username,
        email: 'alice@acme.example',
        roles: ['user'],
        groups: ['engineering'],
        scopes: ['mcp:read', 'tool:echo:read'],
        tenant: 'acme',
      },
    ],
    config: {
      default_audience: DEFAULT_AUDIENCE,
      key_rotation_overlap_s: 600,
      clients: [
        {
          client_id: SVC.id,
          client_name: 'oauth-flow service principal',
          client_secret_hash: hashPassword(SVC.secret),
          grant_types: ['client_credentials'],
          scope: 'mcp:read tool:echo:read',
          roles: ['service'],
        },
      ],
      ...extra,
    },
  };
}

async function startPair(asExtra = {}) {
  const as = await startAuthServer(asSettings(asExtra));
  const port = await freePort();
  const audience = `http://127.0.0.1:${port}/mcp`;
  let gw;
  try {
    gw = await startGateway({
      port,
      config: {
        servers: [chaosServer],
        auth: {
          issuer: as.issuer,
          audience,
          required_scopes: ['mcp:read'],
          leeway_s: 0, // expiry is exercised: no clock-skew allowance
          jwks_refetch_cooldown_s: 1,
        },
      },
    });
  } catch (e) {
    await as.stop();
    throw e;
  }
  return { as, gw, audience };
}

async function stopPair(pair) {
  if (!pair) return;
  if (pair.gw) await pair.gw.stopAndCheck(assert);
  if (pair.as) {
    const r = await pair.as.stop();
    assert.equal(r.killed, false, 'auth-server did not exit within 5s of SIGTERM');
    assert.equal(r.exit.code, 0, `auth-server exit ${JSON.stringify(r.exit)}\n${pair.as.stderr.slice(-2000)}`);
  }
}

const basic = (id, secret) =>
  `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;
const b64url = (buf) => Buffer.from(buf).toString('base64url');
const audList = (claims) => (Array.isArray(claims.aud) ? claims.aud : [claims.aud]);

/** POST /token (form-encoded); returns {status, headers, json}. */
async function tokenRequest(as, params, { headers = {} } = {}) {
  const res = await fetch(`${as.issuer}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(params).toString(),
    signal: AbortSignal.timeout(10000),
  });
  const text = await res.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = { _text: text };
  }
  return { status: res.status, headers: res.headers, json };
}

/** A client-credentials access token for the service principal. */
async function serviceToken(as, resource) {
  const r = await tokenRequest(
    as,
    { grant_type: 'client_credentials', ...(resource ? { resource } : {}) },
    { headers: { authorization: basic(SVC.id, SVC.secret) } },
  );
  assert.equal(r.status, 200, `client_credentials: ${r.status} ${JSON.stringify(r.json)}`);
  return r.json.access_token;
}

/** Verifies a JWT against the auth-server's published JWKS; returns {payload, protectedHeader}. */
async function verifyWithJwks(as, token, audience) {
  return jose.jwtVerify(token, jose.createLocalJWKSet(await as.jwks()), {
    issuer: as.issuer,
    audience,
    typ: 'at+jwt',
  });
}

/** initialize over raw HTTP with the given bearer token. */
function initializeWith(gw, token, id = 1) {
  return postMcp(
    gw,
    {
      jsonrpc: '2.0',
      id,
      method: 'initialize',
      params: { protocolVersion: PROTOCOL_VERSION, capabilities: {}, clientInfo: { name: 'oauth-flow', version: '1' } },
    },
    { headers: token ? { authorization: `Bearer ${token}` } : {} },
  );
}

/**
 * A fetch that records every request the SDK makes (MCP requests and OAuth requests alike):
 * {method, url, path, status, authorization, body, wwwAuthenticate, location, json}.
 */
function recordingFetch(log) {
  return async (input, init = {}) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    const method = (init.method ?? (input instanceof Request ? input.method : 'GET')).toUpperCase();
    const headers = new Headers(init.headers ?? (input instanceof Request ? input.headers : undefined));
    let body = init.body;
    if (body instanceof URLSearchParams) body = body.toString();
    else if (body !== undefined && typeof body !== 'string') body = String(body);
    const entry = { method, url, path: url.pathname, authorization: headers.get('authorization'), body };
    log.push(entry);
    const res = await fetch(input, init);
    entry.status = res.status;
    entry.wwwAuthenticate = res.headers.get('www-authenticate');
    entry.location = res.headers.get('location');
    if (url.pathname !== '/mcp' && (res.headers.get('content-type') ?? '').includes('application/json')) {
      try {
        entry.json = await res.clone().json();
      } catch {
        /* not JSON after all */
      }
    }
    return res;
  };
}

const form = (entry) => new URLSearchParams(entry?.body ?? '');
const rpcMethod = (entry) => {
  try {
    return JSON.parse(entry.body).method;
  } catch {
    return undefined;
  }
};

/**
 * The auth-server's headless login (docs/auth-server.md): the authorization URL plus username and
 * password answers 302 to the redirect URI with the code. Returns {code, location}.
 */
async function headlessLogin(authorizationUrl, { username, password, fetchFn = fetch, expectState }) {
  const u = new URL(authorizationUrl);
  u.searchParams.set('username', username);
  u.searchParams.set('password', password);
  const res = await fetchFn(u, { redirect: 'manual', signal: AbortSignal.timeout(10000) });
  const text = await res.text();
  assert.equal(res.status, 302, `headless login: ${res.status} ${text.slice(0, 300)}`);
  const location = new URL(res.headers.get('location'));
  assert.equal(`${location.origin}${location.pathname}`, REDIRECT_URL, `redirected to ${location}`);
  assert.equal(location.searchParams.get('error'), null, `login failed: ${location}`);
  if (expectState !== undefined) assert.equal(location.searchParams.get('state'), expectState, 'state echoed');
  const code = location.searchParams.get('code');
  assert.ok(code, `no code in ${location}`);
  return { code, location };
}

/** OAuthClientProvider with in-memory storage; redirectToAuthorization logs in headlessly. */
class HeadlessOAuthProvider {
  constructor({ fetchFn, username, password }) {
    this._fetch = fetchFn;
    this._user = { username, password };
    this._client = undefined;
    this._tokens = undefined;
    this._verifier = undefined;
    this._state = undefined;
    this.savedTokens = []; // every saveTokens() call, in order
    this.registrations = [];
    this.authorizationUrls = [];
    this.redirects = []; // {code, location}
    this.pendingCode = undefined;
  }

  get redirectUrl() {
    return REDIRECT_URL;
  }

  get clientMetadata() {
    return {
      client_name: 'mcpgw oauth-flow test',
      redirect_uris: [REDIRECT_URL],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    };
  }

  state() {
    this._state = crypto.randomUUID();
    return this._state;
  }

  clientInformation() {
    return this._client;
  }

  saveClientInformation(info) {
    this.registrations.push(info);
    this._client = info;
  }

  tokens() {
    return this._tokens;
  }

  saveTokens(tokens) {
    this.savedTokens.push(tokens);
    this._tokens = tokens;
  }

  async redirectToAuthorization(url) {
    this.authorizationUrls.push(new URL(url));
    const r = await headlessLogin(url, { ...this._user, fetchFn: this._fetch, expectState: this._state });
    this.redirects.push(r);
    this.pendingCode = r.code;
  }

  saveCodeVerifier(v) {
    this._verifier = v;
  }

  codeVerifier() {
    return this._verifier;
  }
}

/**
 * The SDK's OAuth flow against the gateway: connect (401 -> discovery -> registration ->
 * authorization with the headless login), finishAuth(code), reconnect. Returns
 * {client, transport, provider, log} with the reconnected client.
 */
async function sdkLogin(gw) {
  const log = [];
  const fetchFn = recordingFetch(log);
  const provider = new HeadlessOAuthProvider({ fetchFn, ...USER });
  const newTransport = () => new StreamableHTTPClientTransport(new URL(gw.mcpUrl), { authProvider: provider, fetch: fetchFn });

  const first = new Client({ name: 'oauth-flow', version: '1.0.0' });
  const t1 = newTransport();
  await assert.rejects(first.connect(t1, { timeout: 15000 }), UnauthorizedError, 'first connect must need authorization');
  assert.ok(provider.pendingCode, 'redirectToAuthorization was called and produced a code');
  await t1.finishAuth(provider.pendingCode);
  await first.close().catch(() => {});

  const client = new Client({ name: 'oauth-flow', version: '1.0.0' });
  const transport = newTransport();
  await client.connect(transport, { timeout: 15000 });
  return { client, transport, provider, log };
}

// ---------------------------------------------------------------------------------------------

describe('OAuth end to end: SDK client, mcpgw auth-server, gateway', { ...needsGateway(), timeout: 60000 }, () => {
  let pair;
  before(async () => {
    pair = await startPair({ access_token_ttl_s: 300 });
  });
  after(async () => {
    await stopPair(pair);
  });

  test('the SDK client completes discovery, registration, PKCE and the code exchange, then calls a tool', async () => {
    const { as, gw, audience } = pair;
    const { client, provider, log } = await sdkLogin(gw);
    try {
      await waitForTools(client, (names) => names.includes(TOOL));
      const r = await client.callTool({ name: TOOL, arguments: { text: 'hello through OAuth' } });
      assert.equal(resultText(r), 'hello through OAuth');

      const asOrigin = new URL(as.issuer).origin;
      const prmUrl = `${gw.url}/.well-known/oauth-protected-resource/mcp`;
      const at = (pred, what) => {
        const i = log.findIndex(pred);
        assert.ok(i >= 0, `${what} not found in ${JSON.stringify(log.map((e) => `${e.method} ${e.url} ${e.status}`), null, 1)}`);
        return i;
      };

      // 1. initialize without a token: 401 pointing at the protected-resource metadata.
      const i401 = at((e) => e.path === '/mcp' && e.method === 'POST' && e.status === 401, 'POST /mcp -> 401');
      assert.equal(log[i401].authorization, null, 'the first request carried no token');
      assert.equal(rpcMethod(log[i401]), 'initialize');
      const challenge = parseWwwAuthenticate(log[i401].wwwAuthenticate);
      assert.equal(challenge?.scheme, 'Bearer', `WWW-Authenticate: ${log[i401].wwwAuthenticate}`);
      assert.equal(challenge.params.resource_metadata, prmUrl);
      assert.equal(challenge.params.error, undefined, 'no error code when no token was sent (RFC 6750 3.1)');
      assert.ok((challenge.params.scope ?? '').split(' ').includes('mcp:read'), `scope in ${log[i401].wwwAuthenticate}`);

      // 2. RFC 9728 metadata of the gateway.
      const iPrm = at((e) => e.method === 'GET' && e.url.href === prmUrl, 'GET protected-resource metadata');
      assert.equal(log[iPrm].status, 200);
      assert.equal(log[iPrm].json.resource, audience);
      assert.deepEqual(log[iPrm].json.authorization_servers, [as.issuer]);

      // 3. RFC 8414 metadata of the authorization server.
      const iAsMd = at(
        (e) => e.method === 'GET' && e.url.origin === asOrigin && e.path === '/.well-known/oauth-authorization-server',
        'GET AS metadata',
      );
      assert.equal(log[iAsMd].status, 200);
      assert.equal(log[iAsMd].json.issuer, as.issuer);
      assert.ok(log[iAsMd].json.code_challenge_methods_supported.includes('S256'));

      // 4. RFC 7591 dynamic registration.
      const iReg = at((e) => e.method === 'POST' && e.url.origin === asOrigin && e.path === '/register', 'POST /register');
      assert.equal(log[iReg].status, 201, JSON.stringify(log[iReg].json));
      const clientId = log[iReg].json.client_id;
      assert.ok(clientId, 'registration returned a client_id');
      assert.deepEqual(JSON.parse(log[iReg].body).redirect_uris, [REDIRECT_URL]);
      assert.equal(provider.registrations.length, 1);
      assert.equal(log[iReg].json.client_secret, undefined, 'a public client (auth method none) gets no secret');

      // 5. Authorization request with PKCE S256, the resource indicator and state; headless login.
      const iAuthz = at((e) => e.method === 'GET' && e.url.origin === asOrigin && e.path === '/authorize', 'GET /authorize');
      assert.equal(log[iAuthz].status, 302);
      assert.equal(provider.authorizationUrls.length, 1);
      const authzUrl = provider.authorizationUrls[0];
      const q = authzUrl.searchParams;
      assert.equal(q.get('response_type'), 'code');
      assert.equal(q.get('client_id'), clientId);
      assert.equal(q.get('redirect_uri'), REDIRECT_URL);
      assert.equal(q.get('code_challenge_method'), 'S256');
      assert.match(q.get('code_challenge') ?? '', /^[A-Za-z0-9_-]{43}$/);
      assert.equal(q.get('resource'), audience);
      assert.ok(q.get('state'), 'state sent');
      assert.ok((q.get('scope') ?? '').split(' ').includes('mcp:read'), `scope ${q.get('scope')}`);
      const redirect = provider.redirects[0].location;
      assert.equal(redirect.searchParams.get('iss'), as.issuer, 'RFC 9207 iss in the authorization response');

      // 6. Code exchange with the verifier and the resource.
      const iTok = at(
        (e) => e.method === 'POST' && e.path === '/token' && form(e).get('grant_type') === 'authorization_code',
        'POST /token (authorization_code)',
      );
      assert.equal(log[iTok].status, 200, JSON.stringify(log[iTok].json));
      const tf = form(log[iTok]);
      assert.equal(tf.get('code'), provider.redirects[0].code);
      assert.equal(tf.get('client_id'), clientId);
      assert.equal(tf.get('redirect_uri'), REDIRECT_URL);
      assert.equal(tf.get('resource'), audience, 'RFC 8707 resource in the token request');
      const verifier = tf.get('code_verifier');
      assert.match(verifier ?? '', /^[A-Za-z0-9._~-]{43,128}$/);
      assert.equal(b64url(crypto.createHash('sha256').update(verifier).digest()), q.get('code_challenge'), 'S256(verifier) = challenge');

      // 7. initialize again, now with the bearer token.
      const tokens = provider.tokens();
      assert.equal(tokens.token_type.toLowerCase(), 'bearer');
      assert.ok(tokens.refresh_token, 'a refresh token was issued (the client registered the refresh_token grant)');
      const iInit = at(
        (e, i) => i > iTok && e.path === '/mcp' && e.method === 'POST' && rpcMethod(e) === 'initialize' && e.status === 200,
        'POST /mcp initialize -> 200',
      );
      assert.equal(log[iInit].authorization, `Bearer ${tokens.access_token}`);
      assert.ok(i401 < iPrm && iPrm < iAsMd && iAsMd < iReg && iReg < iAuthz && iAuthz < iTok && iTok < iInit,
        `order: 401@${i401} prm@${iPrm} asmd@${iAsMd} reg@${iReg} authz@${iAuthz} token@${iTok} init@${iInit}`);
      for (const e of log.slice(iTok + 1).filter((x) => x.path === '/mcp')) {
        assert.equal(e.authorization, `Bearer ${tokens.access_token}`, `${e.method} /mcp after login carries the token`);
        assert.ok(e.status < 400, `${e.method} /mcp ${rpcMethod(e) ?? ''} -> ${e.status}`);
      }

      // The access token: RFC 9068, for the gateway's audience, signed with a published key.
      const { payload, protectedHeader } = await verifyWithJwks(as, tokens.access_token, audience);
      assert.equal(protectedHeader.typ, 'at+jwt');
      assert.ok(protectedHeader.kid);
      assert.deepEqual(audList(payload), [audience], 'aud is exactly the gateway audience');
      assert.equal(payload.iss, as.issuer);
      assert.equal(payload.sub, USER.username);
      assert.equal(payload.client_id, clientId);
      assert.ok(payload.scope.split(' ').includes('mcp:read'), `scope ${payload.scope}`);

      // A wrong password in the headless login goes back to the client as access_denied.
      const wrong = new URL(authzUrl);
      wrong.searchParams.set('username', USER.username);
      wrong.searchParams.set('password', `${USER.password}-wrong`);
      const denied = await fetch(wrong, { redirect: 'manual', signal: AbortSignal.timeout(10000) });
      await denied.text();
      assert.equal(denied.status, 302);
      const deniedAt = new URL(denied.headers.get('location'));
      assert.equal(deniedAt.searchParams.get('error'), 'access_denied', String(deniedAt));
      assert.equal(deniedAt.searchParams.get('code'), null);
      assert.equal(deniedAt.searchParams.get('state'), q.get('state'));

      // Replaying the code the SDK exchanged fails, and ends the refresh token issued from it.
      const replay = await tokenRequest(as, Object.fromEntries(tf));
      assert.equal(replay.status, 400, JSON.stringify(replay.json));
      assert.equal(replay.json.error, 'invalid_grant');
      const refresh = await tokenRequest(as, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token, client_id: clientId });
      assert.equal(refresh.status, 400, `refresh token after a code replay: ${JSON.stringify(refresh.json)}`);
      assert.equal(refresh.json.error, 'invalid_grant');
    } finally {
      await client.close().catch(() => {});
    }
  });

  test('client credentials: a service principal calls a tool; a wrong secret is invalid_client', async () => {
    const { as, gw, audience } = pair;
    const token = await serviceToken(as, audience);
    const { payload } = await verifyWithJwks(as, token, audience);
    assert.equal(payload.sub, SVC.id);
    assert.equal(payload.client_id, SVC.id);
    assert.deepEqual(payload.roles, ['service']);
    assert.deepEqual(payload.scope.split(' ').sort(), ['mcp:read', 'tool:echo:read']);

    const client = await connectClient(gw, { headers: { Authorization: `Bearer ${token}` } });
    try {
      await waitForTools(client, (names) => names.includes(TOOL));
      const r = await client.callTool({ name: TOOL, arguments: { text: 'machine to machine' } });
      assert.equal(resultText(r), 'machine to machine');
    } finally {
      await client.close().catch(() => {});
    }

    const bad = await tokenRequest(
      as,
      { grant_type: 'client_credentials', resource: audience },
      { headers: { authorization: basic(SVC.id, `${SVC.secret}-wrong`) } },
    );
    assert.equal(bad.status, 401, JSON.stringify(bad.json));
    assert.equal(bad.json.error, 'invalid_client');
    assert.match(bad.headers.get('www-authenticate') ?? '', /^Basic\b/i, 'RFC 6749 5.2: WWW-Authenticate for Basic');
    assert.equal(bad.json.access_token, undefined);
  });

  test('a token issued for another resource is refused with 401 invalid_token', async () => {
    const { as, gw } = pair;
    for (const [what, resource, aud] of [
      ['resource = another URI', OTHER_RESOURCE, OTHER_RESOURCE],
      ['no resource (default_audience)', undefined, DEFAULT_AUDIENCE],
    ]) {
      const token = await serviceToken(as, resource);
      assert.deepEqual(audList(jose.decodeJwt(token)), [aud], `${what}: aud`);
      const r = await initializeWith(gw, token);
      assert.equal(r.status, 401, `${what}: ${r.status} ${r.text.slice(0, 300)}`);
      const c = parseWwwAuthenticate(r.headers.get('www-authenticate'));
      assert.equal(c?.scheme, 'Bearer', `${what}: WWW-Authenticate ${r.headers.get('www-authenticate')}`);
      assert.equal(c.params.error, 'invalid_token', `${what}: ${r.headers.get('www-authenticate')}`);
      assert.equal(c.params.resource_metadata, `${gw.url}/.well-known/oauth-protected-resource/mcp`);
      assert.equal(r.headers.get('mcp-session-id'), null, 'no session for a refused token');
    }
  });

  // Last in this block: it changes the authorization server's signing key.
  test('key rotation: tokens of the old key keep working, tokens of the new key work after a refetch', async () => {
    const { as, gw, audience } = pair;
    const before = await as.jwks();
    assert.equal(before.keys.length, 1, `JWKS before rotation: ${JSON.stringify(before)}`);
    const oldKid = before.keys[0].kid;

    const usedBefore = await serviceToken(as, audience); // presented before the rotation (cached by the gateway)
    const unusedBefore = await serviceToken(as, audience); // presented only after it (verified afresh)
    assert.equal(jose.decodeProtectedHeader(usedBefore).kid, oldKid);
    assert.equal(jose.decodeProtectedHeader(unusedBefore).kid, oldKid);
    assert.equal((await initializeWith(gw, usedBefore)).status, 200);

    const rot = await as.rotateKeys();
    assert.equal(rot.code, 0, `rotate-keys: ${JSON.stringify(rot)}`);

    // The running server notices keys.json within ~2 s (docs/auth-server.md); no signal sent.
    let newToken;
    const deadline = Date.now() + 8000;
    for (;;) {
      newToken = await serviceToken(as, audience);
      if (jose.decodeProtectedHeader(newToken).kid !== oldKid) break;
      assert.ok(Date.now() < deadline, 'the running auth-server still signs with the old key 8 s after rotate-keys');
      await sleep(250);
    }
    const newKid = jose.decodeProtectedHeader(newToken).kid;
    const after = await as.jwks();
    assert.deepEqual(after.keys.map((k) => k.kid).sort(), [oldKid, newKid].sort(), 'both keys published in the overlap window');

    // New kid: the gateway refetches the JWKS (unknown kid) and accepts the token.
    const rNew = await initializeWith(gw, newToken);
    assert.equal(rNew.status, 200, `new-key token: ${rNew.status} ${rNew.headers.get('www-authenticate')} ${rNew.text.slice(0, 200)}`);
    // Old key, token never seen before: verified against the refetched JWKS, which still has it.
    const rOld = await initializeWith(gw, unusedBefore);
    assert.equal(rOld.status, 200, `old-key token: ${rOld.status} ${rOld.headers.get('www-authenticate')}`);
    assert.equal((await initializeWith(gw, usedBefore)).status, 200, 'old-key token used before the rotation');
    // And a whole SDK session on a new-key token.
    const client = await connectClient(gw, { headers: { Authorization: `Bearer ${newToken}` } });
    try {
      const r = await client.callTool({ name: TOOL, arguments: { text: 'after rotation' } });
      assert.equal(resultText(r), 'after rotation');
    } finally {
      await client.close().catch(() => {});
    }
  });
});

describe('OAuth end to end: refresh after the access token expired', { ...needsGateway(), timeout: 60000 }, () => {
  const TTL_S = 3;
  let pair;
  before(async () => {
    pair = await startPair({ access_token_ttl_s: TTL_S, key_rotation_overlap_s: 600 });
  });
  after(async () => {
    await stopPair(pair);
  });

  test('the SDK refreshes with rotation and the call succeeds; the old refresh token is invalid_grant', async () => {
    const { as, gw, audience } = pair;
    const { client, provider, log } = await sdkLogin(gw);
    try {
      await waitForTools(client, (names) => names.includes(TOOL));
      assert.equal(resultText(await client.callTool({ name: TOOL, arguments: { text: 'one' } })), 'one');

      // Whatever the SDK holds now (it may already have refreshed once while the tools appeared).
      const old = provider.tokens();
      assert.ok(old.refresh_token);
      const oldClaims = jose.decodeJwt(old.access_token);
      assert.equal(oldClaims.exp - oldClaims.iat, TTL_S);
      await sleep(Math.max(0, oldClaims.exp * 1000 - Date.now()) + 1200);

      // The gateway itself refuses the expired token.
      const expired = await initializeWith(gw, old.access_token);
      assert.equal(expired.status, 401);
      assert.equal(parseWwwAuthenticate(expired.headers.get('www-authenticate'))?.params.error, 'invalid_token');

      const mark = log.length;
      const saved = provider.savedTokens.length;
      assert.equal(resultText(await client.callTool({ name: TOOL, arguments: { text: 'two' } })), 'two');
      const since = log.slice(mark);
      const describeLog = JSON.stringify(since.map((e) => `${e.method} ${e.path} ${rpcMethod(e) ?? form(e).get('grant_type') ?? ''} ${e.status}`));

      const i401 = since.findIndex((e) => e.path === '/mcp' && e.method === 'POST' && e.status === 401);
      assert.ok(i401 >= 0, `the call with the expired token got 401: ${describeLog}`);
      assert.equal(since[i401].authorization, `Bearer ${old.access_token}`);
      assert.equal(parseWwwAuthenticate(since[i401].wwwAuthenticate)?.params.error, 'invalid_token');
      const refreshes = since.filter((e) => e.path === '/token' && form(e).get('grant_type') === 'refresh_token');
      assert.equal(refreshes.length, 1, `exactly one refresh: ${describeLog}`);
      const iRef = since.indexOf(refreshes[0]);
      assert.ok(iRef > i401, describeLog);
      assert.equal(refreshes[0].status, 200, JSON.stringify(refreshes[0].json));
      assert.equal(form(refreshes[0]).get('refresh_token'), old.refresh_token);
      assert.equal(form(refreshes[0]).get('resource'), audience, 'resource sent on refresh');
      assert.equal(since.filter((e) => e.path === '/authorize').length, 0, 'no new authorization');

      assert.equal(provider.savedTokens.length, saved + 1);
      const fresh = provider.tokens();
      assert.notEqual(fresh.access_token, old.access_token);
      assert.ok(fresh.refresh_token, 'the refresh response carries a new refresh token');
      assert.notEqual(fresh.refresh_token, old.refresh_token, 'refresh token rotated');
      const retried = since.slice(iRef + 1).find((e) => e.path === '/mcp' && e.method === 'POST' && rpcMethod(e) === 'tools/call');
      assert.ok(retried, `tools/call retried after the refresh: ${describeLog}`);
      assert.equal(retried.authorization, `Bearer ${fresh.access_token}`);
      assert.equal(retried.status, 200);
      const { payload } = await verifyWithJwks(as, fresh.access_token, audience);
      assert.equal(payload.sub, USER.username);

      // The rotated-out refresh token is dead; presenting it revokes the family (docs/auth-server.md).
      const clientId = provider.clientInformation().client_id;
      const reuse = await tokenRequest(as, { grant_type: 'refresh_token', refresh_token: old.refresh_token, client_id: clientId });
      assert.equal(reuse.status, 400, JSON.stringify(reuse.json));
      assert.equal(reuse.json.error, 'invalid_grant');
      const family = await tokenRequest(as, { grant_type: 'refresh_token', refresh_token: fresh.refresh_token, client_id: clientId });
      assert.equal(family.status, 400, `live token after reuse was detected: ${JSON.stringify(family.json)}`);
      assert.equal(family.json.error, 'invalid_grant');
    } finally {
      await client.close().catch(() => {});
    }
  });
});
