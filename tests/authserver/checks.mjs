// End-to-end checks of a running `mcpgw auth-server` that the MCP conformance suite does not make:
// tokens verified with `jose` against the published JWKS, PKCE and redirect-URI refusals, refresh
// rotation with reuse detection, dynamic registration, key rotation and a restart. Used by
// tests/authserver/run.sh; prints one "PASS <id>: ..." or "FAIL <id>: ..." line per check.
//
//   node checks.mjs live <issuer> <mcpgw> <config> <state-dir>
//   node checks.mjs after-restart <issuer> <state-dir>
//
// Environment: CC_CLIENT_ID / CC_CLIENT_SECRET (a confidential client_credentials client),
// PUBLIC_CLIENT_ID / PUBLIC_REDIRECT_URI (a public client), AS_USERNAME / AS_PASSWORD (a test user),
// RESOURCE (the audience to ask for).
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import * as jose from 'jose';

const [mode, issuer, ...rest] = process.argv.slice(2);
const env = process.env;
const RESOURCE = env.RESOURCE || 'http://127.0.0.1:8080/mcp';
let failures = 0;

function report(id, ok, detail) {
  if (!ok) failures++;
  console.log(`${ok ? 'PASS' : 'FAIL'} ${id}: ${detail}`);
}

async function check(id, fn) {
  try {
    const detail = await fn();
    report(id, true, detail ?? 'ok');
  } catch (e) {
    report(id, false, e instanceof Error ? e.message : String(e));
  }
}

function assert(cond, message) {
  if (!cond) throw new Error(message);
}

async function metadata() {
  const r = await fetch(`${issuer}/.well-known/oauth-authorization-server`);
  assert(r.ok, `metadata: HTTP ${r.status}`);
  return r.json();
}

function jwks(md) {
  // A fresh key set each time: rotation must be visible without a cache in the way.
  return jose.createRemoteJWKSet(new URL(md.jwks_uri), { cacheMaxAge: 0, cooldownDuration: 0 });
}

async function verify(md, token, audience = RESOURCE) {
  const { payload, protectedHeader } = await jose.jwtVerify(token, jwks(md), {
    issuer,
    audience,
    typ: 'at+jwt',
  });
  return { payload, header: protectedHeader };
}

async function tokenRequest(md, params, basic) {
  const headers = { 'content-type': 'application/x-www-form-urlencoded' };
  if (basic) headers.authorization = `Basic ${Buffer.from(basic).toString('base64')}`;
  const r = await fetch(md.token_endpoint, {
    method: 'POST',
    headers,
    body: new URLSearchParams(params).toString(),
  });
  return { status: r.status, headers: r.headers, body: await r.json().catch(() => ({})) };
}

function pkce() {
  const verifier = randomBytes(32).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  return { verifier, challenge };
}

// Headless login: GET /authorize with username and password; returns the redirect's URL.
async function authorize(md, clientId, redirectUri, extra = {}) {
  const { verifier, challenge } = pkce();
  const q = new URLSearchParams({
    response_type: 'code',
    client_id: clientId,
    redirect_uri: redirectUri,
    code_challenge: challenge,
    code_challenge_method: 'S256',
    state: 'st-1',
    resource: RESOURCE,
    username: env.AS_USERNAME,
    password: env.AS_PASSWORD,
    ...extra,
  });
  const r = await fetch(`${md.authorization_endpoint}?${q}`, { redirect: 'manual' });
  return { status: r.status, location: r.headers.get('location'), verifier };
}

async function codeFlow(md, clientId, redirectUri) {
  const a = await authorize(md, clientId, redirectUri);
  assert(a.status === 302 && a.location, `authorize: HTTP ${a.status}`);
  const url = new URL(a.location);
  assert(url.searchParams.get('state') === 'st-1', 'state not echoed');
  assert(url.searchParams.get('iss') === issuer, 'iss parameter missing or wrong');
  const code = url.searchParams.get('code');
  assert(code, `no code: ${url.searchParams.get('error_description')}`);
  const t = await tokenRequest(md, {
    grant_type: 'authorization_code',
    client_id: clientId,
    code,
    redirect_uri: redirectUri,
    code_verifier: a.verifier,
    resource: RESOURCE,
  });
  assert(t.status === 200, `token: HTTP ${t.status} ${JSON.stringify(t.body)}`);
  return { ...t.body, code, verifier: a.verifier };
}

async function live(mcpgw, config, stateDir) {
  const md = await metadata();
  let ccToken;

  await check('jwks-published', async () => {
    const r = await fetch(md.jwks_uri);
    const body = await r.json();
    assert(r.ok && Array.isArray(body.keys) && body.keys.length >= 1, 'no keys');
    for (const k of body.keys) {
      assert(k.kid && k.kty && k.alg && k.use === 'sig', `incomplete JWK ${JSON.stringify(k)}`);
      assert(k.d === undefined, 'private key material in the JWKS');
    }
    return `${body.keys.length} key(s), ${body.keys.map((k) => `${k.alg}/${k.kty}`).join(', ')}`;
  });

  await check('client-credentials-token-verifies', async () => {
    const t = await tokenRequest(
      md,
      { grant_type: 'client_credentials', scope: 'mcp:read', resource: RESOURCE },
      `${env.CC_CLIENT_ID}:${env.CC_CLIENT_SECRET}`,
    );
    assert(t.status === 200, `HTTP ${t.status} ${JSON.stringify(t.body)}`);
    assert(t.headers.get('cache-control') === 'no-store', 'no Cache-Control: no-store');
    const { payload, header } = await verify(md, t.body.access_token);
    assert(payload.sub === env.CC_CLIENT_ID && payload.client_id === env.CC_CLIENT_ID, 'sub');
    assert(payload.scope === 'mcp:read', `scope ${payload.scope}`);
    for (const c of ['exp', 'iat', 'nbf', 'jti']) assert(payload[c] !== undefined, `no ${c}`);
    ccToken = t.body.access_token;
    return `${header.alg} kid=${header.kid}, roles=${JSON.stringify(payload.roles ?? [])}`;
  });

  await check('client-credentials-wrong-secret-401', async () => {
    const t = await tokenRequest(md, { grant_type: 'client_credentials' },
      `${env.CC_CLIENT_ID}:wrong`);
    assert(t.status === 401 && t.body.error === 'invalid_client', `HTTP ${t.status} ${t.body.error}`);
  });

  await check('client-credentials-scope-subset', async () => {
    const t = await tokenRequest(md, { grant_type: 'client_credentials', scope: 'mcp:admin' },
      `${env.CC_CLIENT_ID}:${env.CC_CLIENT_SECRET}`);
    assert(t.status === 400 && t.body.error === 'invalid_scope', `HTTP ${t.status} ${t.body.error}`);
  });

  let first;
  await check('authorization-code-token-verifies', async () => {
    first = await codeFlow(md, env.PUBLIC_CLIENT_ID, env.PUBLIC_REDIRECT_URI);
    const { payload } = await verify(md, first.access_token);
    assert(payload.aud === RESOURCE, `aud ${payload.aud}`);
    for (const c of ['sub', 'client_id', 'scope', 'roles', 'email', 'tenant']) {
      assert(payload[c] !== undefined, `no ${c} claim`);
    }
    return `sub=${payload.sub} tenant=${payload.tenant} scope="${payload.scope}"`;
  });

  await check('authorization-code-single-use', async () => {
    const t = await tokenRequest(md, {
      grant_type: 'authorization_code', client_id: env.PUBLIC_CLIENT_ID, code: first.code,
      redirect_uri: env.PUBLIC_REDIRECT_URI, code_verifier: first.verifier,
    });
    assert(t.status === 400 && t.body.error === 'invalid_grant', `HTTP ${t.status}`);
    // RFC 6749 §4.1.2: the replay revokes what the code was exchanged for.
    const r = await tokenRequest(md, { grant_type: 'refresh_token',
      client_id: env.PUBLIC_CLIENT_ID, refresh_token: first.refresh_token });
    assert(r.status === 400, 'the refresh token survived a replay of its code');
    return 'replay refused; the refresh token issued from the code is revoked';
  });

  await check('pkce-wrong-verifier-rejected', async () => {
    const a = await authorize(md, env.PUBLIC_CLIENT_ID, env.PUBLIC_REDIRECT_URI);
    const code = new URL(a.location).searchParams.get('code');
    const t = await tokenRequest(md, {
      grant_type: 'authorization_code', client_id: env.PUBLIC_CLIENT_ID, code,
      redirect_uri: env.PUBLIC_REDIRECT_URI, code_verifier: pkce().verifier,
    });
    assert(t.status === 400 && t.body.error === 'invalid_grant', `HTTP ${t.status}`);
  });

  await check('pkce-plain-refused', async () => {
    const a = await authorize(md, env.PUBLIC_CLIENT_ID, env.PUBLIC_REDIRECT_URI,
      { code_challenge_method: 'plain' });
    const err = a.location && new URL(a.location).searchParams.get('error');
    assert(a.status === 302 && err === 'invalid_request', `HTTP ${a.status} error=${err}`);
  });

  await check('unregistered-redirect-uri-not-followed', async () => {
    const a = await authorize(md, env.PUBLIC_CLIENT_ID, `${env.PUBLIC_REDIRECT_URI}/evil`);
    assert(a.status === 400 && !a.location, `HTTP ${a.status} location=${a.location}`);
  });

  await check('refresh-rotation-and-reuse-detection', async () => {
    const rt1 = (await codeFlow(md, env.PUBLIC_CLIENT_ID, env.PUBLIC_REDIRECT_URI)).refresh_token;
    assert(rt1, 'no refresh_token issued');
    const params = (rt) => ({ grant_type: 'refresh_token', client_id: env.PUBLIC_CLIENT_ID,
      refresh_token: rt });
    const second = await tokenRequest(md, params(rt1));
    assert(second.status === 200, `refresh: HTTP ${second.status}`);
    const rt2 = second.body.refresh_token;
    assert(rt2 && rt2 !== rt1, 'refresh token not rotated');
    await verify(md, second.body.access_token);
    const reuse = await tokenRequest(md, params(rt1));
    assert(reuse.status === 400 && reuse.body.error === 'invalid_grant', 'old token accepted');
    const after = await tokenRequest(md, params(rt2));
    assert(after.status === 400, 'family not revoked after reuse');
    return 'rotated; reuse of the old token revoked the family';
  });

  await check('dynamic-client-registration', async () => {
    const redirect = 'http://127.0.0.1:1/dcr-callback';
    const r = await fetch(md.registration_endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ redirect_uris: [redirect], token_endpoint_auth_method: 'none',
        grant_types: ['authorization_code', 'refresh_token'], client_name: 'run.sh' }),
    });
    const body = await r.json();
    assert(r.status === 201 && body.client_id && !body.client_secret, `HTTP ${r.status}`);
    const t = await codeFlow(md, body.client_id, redirect);
    await verify(md, t.access_token);
    const bad = await fetch(md.registration_endpoint, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ redirect_uris: ['javascript:alert(1)'] }),
    });
    const badBody = await bad.json();
    assert(bad.status === 400 && badBody.error === 'invalid_redirect_uri', 'bad URI accepted');
    return `registered ${body.client_id}`;
  });

  await check('key-rotation-picked-up', async () => {
    const before = (await (await fetch(md.jwks_uri)).json()).keys.map((k) => k.kid);
    execFileSync(mcpgw, ['auth-server', 'rotate-keys', '--config', config], { stdio: 'pipe' });
    let after = before;
    for (let i = 0; i < 50 && after.length === before.length; i++) {
      await new Promise((r) => setTimeout(r, 200));
      after = (await (await fetch(md.jwks_uri)).json()).keys.map((k) => k.kid);
    }
    assert(after.length === before.length + 1, `JWKS ${before} -> ${after}`);
    assert(after.includes(before[0]), 'previous key left the JWKS before the overlap ended');
    const t = await tokenRequest(md, { grant_type: 'client_credentials', resource: RESOURCE },
      `${env.CC_CLIENT_ID}:${env.CC_CLIENT_SECRET}`);
    const { header } = await verify(md, t.body.access_token);
    assert(header.kid === after[0] && header.kid !== before[0], `signed with ${header.kid}`);
    await verify(md, ccToken);  // a token of the previous key still verifies
    fs.writeFileSync(path.join(stateDir, 'old-token'), ccToken);
    fs.writeFileSync(path.join(stateDir, 'new-token'), t.body.access_token);
    return `new kid ${header.kid}; the previous key is still published`;
  });
}

async function afterRestart(stateDir) {
  const md = await metadata();
  await check('tokens-valid-after-restart', async () => {
    for (const name of ['old-token', 'new-token']) {
      const token = fs.readFileSync(path.join(stateDir, name), 'utf8');
      await verify(md, token);
    }
    return 'tokens of both keys verify against the restarted server';
  });
}

if (mode === 'live') {
  await live(rest[0], rest[1], rest[2]);
} else if (mode === 'after-restart') {
  await afterRestart(rest[0]);
} else {
  console.error('usage: checks.mjs live|after-restart ...');
  process.exit(2);
}
process.exit(failures ? 1 : 0);
