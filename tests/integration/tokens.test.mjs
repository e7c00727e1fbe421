// OAuth 2.1 resource-server behaviour of build/mcpgw (MCP authorization 2025-06-18/2025-11-25,
// RFC 9728, RFC 6750, RFC 9068), black-box: a loopback JWKS server (jwks-server.mjs) issues keys,
// the tests mint tokens with jose (or by hand, for tokens jose will not make) and send them.
//
// Every hostile token must get 401 with `WWW-Authenticate: Bearer error="invalid_token"`, a JSON
// body, never a 500, and must cause no outbound request (only an unknown kid may trigger a JWKS
// refetch, at most one per cooldown). A second server plays the attacker: any request it receives
// (jku / x5u pointing at it) fails the suite.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import http from 'node:http';
import {
  CHAOS_SERVER,
  PROTOCOL_VERSION,
  connectClient,
  freePort,
  httpRequest,
  needsGateway,
  postMcp,
  rawHttp,
  rawRequest,
  rawSession,
  runGatewayToExit,
  sleep,
  startGateway,
  waitForTools,
} from './harness.mjs';
import {
  b64u,
  makeRsaKeyNode,
  makeSelfSignedCert,
  nodeSigner,
  nowS,
  parseWwwAuthenticate,
  rawJws,
  splitJws,
  startJwksServer,
} from './jwks-server.mjs';

const initBody = (id = 1) => ({
  jsonrpc: '2.0',
  id,
  method: 'initialize',
  params: { protocolVersion: PROTOCOL_VERSION, capabilities: {}, clientInfo: { name: 'tokens-test', version: '1' } },
});

const bearer = (t) => ({ authorization: `Bearer ${t}` });
const short = (s, n = 300) => (s.length > n ? `${s.slice(0, n)}...(${s.length} chars)` : s);

/** initialize with the given headers; returns postMcp's answer plus the parsed challenge. */
async function init(gw, headers) {
  const r = await postMcp(gw, initBody(), { headers });
  return { ...r, challenge: parseWwwAuthenticate(r.headers.get('www-authenticate')) };
}

function describeAnswer(r) {
  return `HTTP ${r.status}, WWW-Authenticate: ${r.headers.get?.('www-authenticate') ?? r.headers?.['www-authenticate']}, body: ${short(r.text ?? '')}`;
}

/** The contract's 401 for a token that was sent but is invalid. */
function assertInvalidToken(gw, r, what) {
  const where = `${what}: ${describeAnswer(r)}`;
  assert.notEqual(r.status, 500, `500 for a hostile token (${where})`);
  assert.equal(r.status, 401, where);
  const c = r.challenge ?? parseWwwAuthenticate(r.headers.get('www-authenticate'));
  assert.ok(c, `no WWW-Authenticate header (${where})`);
  assert.equal(c.scheme.toLowerCase(), 'bearer', where);
  assert.equal(c.params.error, 'invalid_token', where);
  assert.equal(typeof c.params.error_description, 'string', `error_description missing (${where})`);
  assert.ok(c.params.error_description.length > 0, `empty error_description (${where})`);
  assert.equal(c.params.resource_metadata, `${gw.url}/.well-known/oauth-protected-resource/mcp`, where);
  let body;
  assert.doesNotThrow(() => {
    body = JSON.parse(r.text);
  }, `401 body is not JSON (${where})`);
  assert.equal(typeof body, 'object', where);
}

/** The contract's 401 for a request without (Bearer) credentials: a challenge without error=. */
function assertChallengeWithoutError(gw, r, what) {
  const where = `${what}: ${describeAnswer(r)}`;
  assert.equal(r.status, 401, where);
  const c = r.challenge ?? parseWwwAuthenticate(r.headers.get?.('www-authenticate') ?? r.headers['www-authenticate']);
  assert.ok(c, `no WWW-Authenticate header (${where})`);
  assert.equal(c.scheme.toLowerCase(), 'bearer', where);
  assert.equal(c.params.error, undefined, `error= must not be present without credentials (${where})`);
  assert.equal(c.params.resource_metadata, `${gw.url}/.well-known/oauth-protected-resource/mcp`, where);
  assert.equal(c.params.scope, 'mcp:read', where);
}

function assertOk(r, what) {
  assert.equal(r.status, 200, `${what}: ${describeAnswer(r)}`);
  const res = r.messages.find((m) => m.id === 1);
  assert.ok(res?.result?.protocolVersion, `${what}: no initialize result in ${short(r.text)}`);
}

const chaosServer = { name: 'chaos', command: ['node', CHAOS_SERVER] };

// The ECDSA P-256 group order n (for the r = s = n "psychic signature" variant).
const P256_N = Buffer.from('FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551', 'hex');

// ---------------------------------------------------------------------------------------------

describe('OAuth: token verification (hostile tokens)', { ...needsGateway(), timeout: 240000 }, () => {
  let js; // the trusted issuer
  let attacker; // another issuer; nobody should ever talk to it
  let gw;
  let aud;
  let x5c; // self-signed cert + key (null without openssl)
  let rs; // the trusted RS256 key
  let es;
  const attackerSeen = () => attacker.requests.map((q) => `${q.method} ${q.path}`);

  before(async () => {
    js = await startJwksServer(); // rs256-1, ps256-1, es256-1, eddsa-1
    await js.addKey('RS256', { kid: 'rs-enc', use: 'enc' }); // an encryption key: must not verify
    await js.addKey('RS256', { kid: 'rs-noalg', jwkAlg: null }); // RSA key without "alg"
    js.adoptKey(makeRsaKeyNode(1024, { kid: 'rs1024-1' })); // too short
    rs = js.keys.get('rs256-1');
    es = js.keys.get('es256-1');
    attacker = await startJwksServer({ algs: ['RS256', 'ES256'], kids: { RS256: 'attacker-rs', ES256: 'attacker-es' } });
    x5c = makeSelfSignedCert();

    const port = await freePort();
    aud = `http://127.0.0.1:${port}/mcp`;
    gw = await startGateway({
      port,
      config: {
        servers: [chaosServer],
        auth: {
          mode: 'oauth',
          issuer: js.issuer,
          audience: aud,
          jwks_uri: js.jwksUri,
          algorithms: ['RS256', 'PS256', 'ES256', 'EdDSA'],
          require_typ: 'at+jwt',
          required_scopes: ['mcp:read'],
          leeway_s: 30,
          tenant_claim: 'tenant',
          // Long: within this run only one unknown-kid refetch may happen at all.
          jwks_refetch_cooldown_s: 600,
        },
      },
      wait: 'ready',
    });
  });

  after(async () => {
    if (gw) await gw.stop();
    await js?.close();
    await attacker?.close();
  });

  const mint = (opts = {}) => js.mint({ audience: aud, ...opts });
  const claims = (extra = {}) => js.claimsFor(aud, extra);
  const hdr = (extra = {}) => ({ alg: 'RS256', kid: 'rs256-1', typ: 'at+jwt', ...extra });
  /** A JWS over exactly these header/payload texts, signed with node:crypto. */
  const raw = (header, payload, { key = rs, alg = 'RS256', der = false } = {}) =>
    rawJws(
      typeof header === 'string' || Buffer.isBuffer(header) ? header : JSON.stringify(header),
      typeof payload === 'string' || Buffer.isBuffer(payload) ? payload : JSON.stringify(payload),
      nodeSigner(alg, key.keyObject ?? key, { der }),
    );

  test('valid tokens for every allowed algorithm -> 200 on initialize', async () => {
    for (const kid of ['rs256-1', 'ps256-1', 'es256-1', 'eddsa-1']) {
      const r = await init(gw, bearer(await mint({ kid })));
      assertOk(r, `valid ${kid} token`);
    }
    assert.ok(js.jwksFetches() >= 1, 'the gateway never fetched the JWKS');
  });

  test('the MCP SDK client works with a token (tools/list through the gateway)', async () => {
    const client = await connectClient(gw, { headers: bearer(await mint()) });
    try {
      const tools = await waitForTools(client, (n) => n.some((x) => x.endsWith('echo')));
      assert.ok(tools.length > 0);
    } finally {
      await client.close().catch(() => {});
    }
  });

  // Each entry: [name, async () => token, {unknownKid}] — unknownKid: may cause (at most, over all
  // of them together) one JWKS refetch; anything else must cause no request at all.
  const hostile = [
    // --- algorithm
    ['alg none, empty signature', async () => rawJws(JSON.stringify(hdr({ alg: 'none' })), JSON.stringify(claims()), null)],
    ['alg None', async () => rawJws(JSON.stringify(hdr({ alg: 'None' })), JSON.stringify(claims()), null)],
    ['alg NONE', async () => rawJws(JSON.stringify(hdr({ alg: 'NONE' })), JSON.stringify(claims()), null)],
    ['alg none with a (real RS256) signature', async () => {
      const good = splitJws(await mint());
      const h = b64u(JSON.stringify(hdr({ alg: 'none' })));
      return `${h}.${good.p}.${good.s}`;
    }],
    ['alg missing (signed RS256)', async () => raw({ kid: 'rs256-1', typ: 'at+jwt' }, claims())],
    ['alg empty string', async () => raw(hdr({ alg: '' }), claims())],
    ['alg not a string (["RS256"])', async () => raw(hdr({ alg: ['RS256'] }), claims())],
    ['HS256 keyed with the RSA public key (SPKI PEM)', async () => {
      const pem = crypto.createPublicKey(rs.keyObject).export({ type: 'spki', format: 'pem' });
      return mint({ alg: 'HS256', kid: 'rs256-1', signWith: new TextEncoder().encode(pem) });
    }],
    ['HS256 keyed with the RSA public key (PEM, no trailing newline)', async () => {
      const pem = crypto.createPublicKey(rs.keyObject).export({ type: 'spki', format: 'pem' }).trimEnd();
      return mint({ alg: 'HS256', kid: 'rs256-1', signWith: new TextEncoder().encode(pem) });
    }],
    ['HS256 keyed with the published JWK bytes', async () => {
      const jwk = js.published.find((j) => j.kid === 'rs256-1');
      return mint({ alg: 'HS256', kid: 'rs256-1', signWith: new TextEncoder().encode(JSON.stringify(jwk)) });
    }],
    ['HS256 keyed with the RSA public key (SPKI DER)', async () => {
      const der = crypto.createPublicKey(rs.keyObject).export({ type: 'spki', format: 'der' });
      return mint({ alg: 'HS256', kid: 'rs256-1', signWith: new Uint8Array(der) });
    }],
    ['HS256 keyed with the EC public key (JWK bytes)', async () => {
      const jwk = js.published.find((j) => j.kid === 'es256-1');
      return mint({ alg: 'HS256', kid: 'es256-1', signWith: new TextEncoder().encode(JSON.stringify(jwk)) });
    }],
    ['RS512 (not in the allow-list) with a trusted RSA key', async () =>
      raw(hdr({ alg: 'RS512' }), claims(), { key: rs, alg: 'RS512' })],
    ['RS384 (not in the allow-list) with a trusted RSA key', async () =>
      raw(hdr({ alg: 'RS384' }), claims(), { key: rs, alg: 'RS384' })],
    ['ES256 header with an RSA kid (key without alg), signed by an EC key', async () =>
      raw(hdr({ alg: 'ES256', kid: 'rs-noalg' }), claims(), { key: es, alg: 'ES256' })],
    ['ES256 header with an RSA kid (RS256 key), signed by an EC key', async () =>
      raw(hdr({ alg: 'ES256', kid: 'rs256-1' }), claims(), { key: es, alg: 'ES256' })],
    ['RS256 header with an EC kid, signed by an RSA key', async () =>
      raw(hdr({ alg: 'RS256', kid: 'es256-1' }), claims(), { key: rs, alg: 'RS256' })],
    ['EdDSA header with an RSA kid, signed by an Ed25519 key', async () =>
      raw(hdr({ alg: 'EdDSA', kid: 'rs256-1' }), claims(), { key: js.keys.get('eddsa-1'), alg: 'EdDSA' })],
    ['PS256 header with the RS256-only key, signed PSS by it', async () =>
      raw(hdr({ alg: 'PS256', kid: 'rs256-1' }), claims(), { key: rs, alg: 'PS256' })],
    ['key published with use: enc', async () => mint({ kid: 'rs-enc' })],
    ['RSA key of 1024 bits', async () =>
      raw(hdr({ kid: 'rs1024-1' }), claims(), { key: js.keys.get('rs1024-1'), alg: 'RS256' })],

    // --- signature
    ['tampered payload (sub changed, old signature)', async () => {
      const good = splitJws(await mint());
      return `${good.h}.${b64u(JSON.stringify({ ...good.payload, sub: 'mallory' }))}.${good.s}`;
    }],
    ['tampered payload (scope widened, old signature)', async () => {
      const good = splitJws(await mint());
      return `${good.h}.${b64u(JSON.stringify({ ...good.payload, scope: 'mcp:read mcp:admin' }))}.${good.s}`;
    }],
    ['tampered header (kid switched to another RSA key)', async () => {
      const good = splitJws(await mint());
      return `${b64u(JSON.stringify({ ...good.header, kid: 'rs-noalg' }))}.${good.p}.${good.s}`;
    }],
    ['stripped signature', async () => {
      const good = splitJws(await mint());
      return `${good.h}.${good.p}.`;
    }],
    ['truncated signature', async () => {
      const good = splitJws(await mint());
      return `${good.h}.${good.p}.${good.s.slice(0, -8)}`;
    }],
    ['signature with one bit flipped', async () => {
      const good = splitJws(await mint());
      const sig = Buffer.from(good.s, 'base64url');
      sig[sig.length >> 1] ^= 0x01;
      return `${good.h}.${good.p}.${b64u(sig)}`;
    }],
    ['signature doubled (two signatures concatenated)', async () => {
      const good = splitJws(await mint());
      const sig = Buffer.from(good.s, 'base64url');
      return `${good.h}.${good.p}.${b64u(Buffer.concat([sig, sig]))}`;
    }],
    ['ES256 all-zero signature (r = s = 0, CVE-2022-21449)', async () =>
      rawJws(JSON.stringify(hdr({ alg: 'ES256', kid: 'es256-1' })), JSON.stringify(claims()), () => Buffer.alloc(64))],
    ['ES256 signature r = s = n (the group order)', async () =>
      rawJws(JSON.stringify(hdr({ alg: 'ES256', kid: 'es256-1' })), JSON.stringify(claims()), () => Buffer.concat([P256_N, P256_N]))],
    ['ES256 DER-encoded signature (valid, but not JOSE r||s)', async () =>
      raw(hdr({ alg: 'ES256', kid: 'es256-1' }), claims(), { key: es, alg: 'ES256', der: true })],
    ['ES256 signature of 63 bytes', async () => {
      const good = splitJws(await mint({ kid: 'es256-1' }));
      return `${good.h}.${good.p}.${b64u(Buffer.from(good.s, 'base64url').subarray(0, 63))}`;
    }],
    ['EdDSA signature all zero', async () =>
      rawJws(JSON.stringify(hdr({ alg: 'EdDSA', kid: 'eddsa-1' })), JSON.stringify(claims()), () => Buffer.alloc(64))],
    ['signed by another key under a trusted kid', async () =>
      raw(hdr(), claims(), { key: attacker.keys.get('attacker-rs') })],

    // --- kid
    ['unknown kid', async () => raw(hdr({ kid: 'no-such-kid' }), claims()), { unknownKid: true }],
    ['kid with path traversal', async () => raw(hdr({ kid: '../../../../etc/passwd' }), claims()), { unknownKid: true }],
    ['kid with SQL', async () => raw(hdr({ kid: "' OR 1=1 --" }), claims()), { unknownKid: true }],
    ['kid with a NUL byte and CRLF', async () => raw(hdr({ kid: 'rs256-1\u0000\r\nX-Injected: 1' }), claims()), { unknownKid: true }],
    ['kid of 4 KiB', async () => raw(hdr({ kid: 'k'.repeat(4096) }), claims()), { unknownKid: true }],
    ['kid not a string (number)', async () => raw(hdr({ kid: 1 }), claims())],
    ['kid not a string (object)', async () => raw(hdr({ kid: { $ne: null } }), claims())],
    ['a valid token of another issuer (its own key and iss)', async () =>
      attacker.mint({ kid: 'attacker-rs', audience: aud }), { unknownKid: true }],

    // --- key-carrying headers: rejected outright, never fetched
    ['jku pointing at the attacker, signed by the attacker key', async () =>
      raw(hdr({ kid: 'attacker-rs', jku: attacker.jwksUri }), claims(), { key: attacker.keys.get('attacker-rs') })],
    ['jku pointing at the trusted JWKS, otherwise valid', async () => raw(hdr({ jku: js.jwksUri }), claims())],
    ['x5u pointing at the attacker, signed by the attacker key', async () =>
      raw(hdr({ kid: 'attacker-rs', x5u: `${attacker.url}/cert.pem` }), claims(), { key: attacker.keys.get('attacker-rs') })],
    ['x5u pointing at the trusted server, otherwise valid', async () => raw(hdr({ x5u: `${js.url}/cert.pem` }), claims())],
    ['embedded jwk (attacker key), signed by it', async () => {
      const k = attacker.keys.get('attacker-rs');
      return raw(hdr({ kid: undefined, jwk: k.jwk }), claims(), { key: k });
    }],
    ['embedded jwk (attacker key) with a trusted kid', async () => {
      const k = attacker.keys.get('attacker-rs');
      return raw(hdr({ jwk: { ...k.jwk, kid: 'rs256-1' } }), claims(), { key: k });
    }],
    ['embedded jwk equal to the trusted key, otherwise valid', async () =>
      raw(hdr({ jwk: js.published.find((j) => j.kid === 'rs256-1') }), claims())],
    ['x5c self-signed certificate, signed by its key', async () => {
      if (!x5c) return raw(hdr({ kid: undefined, x5c: ['MIIBfake'] }), claims());
      return raw(hdr({ kid: undefined, x5c: [x5c.certDerB64] }), claims(), { key: x5c.keyObject });
    }],
    ['x5c present, otherwise valid (trusted kid and key)', async () =>
      raw(hdr({ x5c: [x5c?.certDerB64 ?? 'MIIBfake'] }), claims())],
    ['unknown crit member', async () =>
      mint({ header: { crit: ['x-mcpgw-unknown'], 'x-mcpgw-unknown': true }, crit: { 'x-mcpgw-unknown': true } })],
    ['crit: ["b64"] with b64: false (unencoded payload)', async () =>
      raw(hdr({ crit: ['b64'], b64: false }), claims())],

    // --- typ
    ['typ JWT (require_typ at+jwt)', async () => mint({ header: { typ: 'JWT' } })],
    ['typ missing (require_typ at+jwt)', async () => mint({ omitHeader: ['typ'] })],
    ['typ application/jwt', async () => mint({ header: { typ: 'application/jwt' } })],
    ['typ at+jwt with a suffix (at+jwtx)', async () => mint({ header: { typ: 'at+jwtx' } })],
    ['typ not a string', async () => raw(hdr({ typ: ['at+jwt'] }), claims())],

    // --- iss
    ['wrong iss', async () => mint({ extra: { iss: 'http://127.0.0.1:1' } })],
    ['missing iss', async () => mint({ omitClaims: ['iss'] })],
    ['iss with a trailing slash', async () => mint({ extra: { iss: `${js.issuer}/` } })],
    ['iss of the attacker, trusted key', async () => mint({ extra: { iss: attacker.issuer } })],
    ['iss as an array containing the issuer', async () => mint({ extra: { iss: [js.issuer] } })],

    // --- aud
    ['aud missing', async () => mint({ omitClaims: ['aud'] })],
    ['aud foreign', async () => mint({ extra: { aud: 'http://127.0.0.1:1/mcp' } })],
    ['aud empty array', async () => mint({ extra: { aud: [] } })],
    ['aud array of foreign audiences', async () => mint({ extra: { aud: ['https://api.example.com', 'http://127.0.0.1:1/mcp'] } })],
    ['aud with a trailing slash', async () => mint({ extra: { aud: `${aud}/` } })],
    ['aud = the issuer', async () => mint({ extra: { aud: js.issuer } })],
    ['aud as a number', async () => mint({ extra: { aud: 42 } })],

    // --- time
    ['exp missing', async () => mint({ omitClaims: ['exp'] })],
    ['exp in the past (beyond leeway)', async () => mint({ extra: { exp: nowS() - 600, iat: nowS() - 900 } })],
    ['exp as a string', async () => mint({ extra: { exp: String(nowS() + 300) } })],
    ['exp null', async () => mint({ extra: { exp: null } })],
    ['exp true', async () => mint({ extra: { exp: true } })],
    ['nbf in the future (beyond leeway)', async () => mint({ extra: { nbf: nowS() + 600 } })],
    ['nbf as a string', async () => mint({ extra: { nbf: String(nowS() - 10) } })],
    ['iat in the future (beyond leeway)', async () => mint({ extra: { iat: nowS() + 600 } })],

    // --- subject (RFC 9068: sub is required; sessions are bound to it)
    ['sub missing', async () => mint({ omitClaims: ['sub'] })],
    ['sub empty', async () => mint({ extra: { sub: '' } })],
    ['sub not a string', async () => mint({ extra: { sub: 42 } })],

    // --- structure
    ['header nested 5000 levels deep (signed)', async () =>
      raw(`{"alg":"RS256","kid":"rs256-1","typ":"at+jwt","x":${'['.repeat(5000)}${']'.repeat(5000)}}`, claims())],
    ['payload nested 5000 levels deep (signed)', async () =>
      raw(hdr(), `${JSON.stringify(claims()).slice(0, -1)},"x":${'['.repeat(5000)}${']'.repeat(5000)}}`)],
    ['two segments', async () => {
      const good = splitJws(await mint());
      return `${good.h}.${good.p}`;
    }],
    ['four segments', async () => `${await mint()}.${b64u('extra')}`],
    ['five segments (JWE shape)', async () => {
      const good = splitJws(await mint());
      return `${good.h}.${good.p}.${good.s}.${b64u('iv')}.${b64u('tag')}`;
    }],
    ['one segment', async () => splitJws(await mint()).p],
    ['padded header segment (signed over the padded text)', async () => {
      // Make the header's base64url length not a multiple of 4 so that padding is possible.
      let h = hdr();
      for (let i = 0; b64u(JSON.stringify(h)).length % 4 === 0; i++) h = hdr({ x: 'y'.repeat(i + 1) });
      const enc = b64u(JSON.stringify(h));
      return raw2({ encoded: `${enc}${'='.repeat((4 - (enc.length % 4)) % 4)}` }, { encoded: b64u(JSON.stringify(claims())) });
    }],
    ['padded payload segment (signed over the padded text)', async () => {
      let c = claims();
      for (let i = 0; b64u(JSON.stringify(c)).length % 4 === 0; i++) c = claims({ jti: `${c.jti}${i}` });
      const enc = b64u(JSON.stringify(c));
      return raw2({ encoded: b64u(JSON.stringify(hdr())) }, { encoded: `${enc}${'='.repeat((4 - (enc.length % 4)) % 4)}` });
    }],
    ['padded signature segment', async () => {
      const good = splitJws(await mint());
      const pad = '='.repeat((4 - (good.s.length % 4)) % 4) || '====';
      return `${good.h}.${good.p}.${good.s}${pad}`;
    }],
    ['signature in standard base64 (+ and /)', async () => {
      for (;;) {
        const good = splitJws(await mint());
        if (/[-_]/.test(good.s)) return `${good.h}.${good.p}.${good.s.replace(/-/g, '+').replace(/_/g, '/')}`;
      }
    }],
    ['invalid UTF-8 in the payload (signed)', async () => {
      const c = JSON.stringify(claims({ sub: 'SUBJECT' }));
      const [a, b] = c.split('SUBJECT');
      return raw(hdr(), Buffer.concat([Buffer.from(a), Buffer.from([0xff, 0xfe, 0xc3, 0x28]), Buffer.from(b)]));
    }],
    ['overlong UTF-8 in the payload (signed)', async () => {
      const c = JSON.stringify(claims({ sub: 'SUBJECT' }));
      const [a, b] = c.split('SUBJECT');
      return raw(hdr(), Buffer.concat([Buffer.from(a), Buffer.from([0xc0, 0xaf]), Buffer.from(b)]));
    }],
    ['invalid UTF-8 in the header (signed)', async () => {
      const h = JSON.stringify(hdr({ x: 'XX' }));
      const [a, b] = h.split('XX');
      return raw(Buffer.concat([Buffer.from(a), Buffer.from([0xff]), Buffer.from(b)]), claims());
    }],
    ['payload is a JSON array (signed)', async () => raw(hdr(), JSON.stringify([claims()]))],
    ['payload is a number (signed)', async () => raw(hdr(), '42')],
    ['payload is a string (signed)', async () => raw(hdr(), JSON.stringify('hello'))],
    ['payload is null (signed)', async () => raw(hdr(), 'null')],
    ['payload is not JSON (signed)', async () => raw(hdr(), 'not json at all')],
    ['payload is JSON followed by garbage (signed)', async () => raw(hdr(), `${JSON.stringify(claims())}xyz`)],
    ['header is a JSON array (signed)', async () => raw(JSON.stringify([hdr()]), claims())],
    ['header is not JSON', async () => {
      const good = splitJws(await mint());
      return `${b64u('{alg:RS256}')}.${good.p}.${good.s}`;
    }],
    ['duplicate header keys {"alg":"RS256","alg":"none"} (signed RS256)', async () =>
      raw(`{"alg":"RS256","alg":"none","kid":"rs256-1","typ":"at+jwt"}`, claims())],
    ['duplicate header keys {"alg":"none","alg":"RS256"} (signed RS256)', async () =>
      raw(`{"alg":"none","alg":"RS256","kid":"rs256-1","typ":"at+jwt"}`, claims())],
    ['duplicate header keys {"kid":"rs-enc","kid":"rs256-1"} (signed by rs256-1)', async () =>
      raw(`{"alg":"RS256","kid":"rs-enc","kid":"rs256-1","typ":"at+jwt"}`, claims())],
    ['garbage token', async () => 'not-a-jwt'],
    ['token of dots', async () => '...'],
  ];
  // rawJws with an RS256 signature over pre-encoded segments.
  const raw2 = (h, p) => rawJws(h, p, nodeSigner('RS256', rs.keyObject));

  let unknownKidFetches = 0;
  for (const [name, make, opts = {}] of hostile) {
    test(`hostile: ${name} -> 401 invalid_token, no request caused`, async (t) => {
      const token = await make();
      const before = js.requests.length;
      const r = await init(gw, bearer(token));
      assertInvalidToken(gw, r, `${name} (token ${short(token, 120)})`);
      t.diagnostic(`error_description: ${r.challenge.params.error_description}`);
      const caused = js.requests.slice(before).map((q) => `${q.method} ${q.path}`);
      if (opts.unknownKid) {
        unknownKidFetches += caused.length;
        assert.ok(
          caused.every((c) => c === 'GET /jwks') && unknownKidFetches <= 1,
          `unknown kids may cause at most one JWKS refetch per cooldown (600 s); so far: ${unknownKidFetches}, this token: ${JSON.stringify(caused)}`,
        );
      } else {
        assert.deepEqual(caused, [], `the token caused requests to the JWKS server: ${JSON.stringify(caused)}`);
      }
      assert.deepEqual(attackerSeen(), [], 'the gateway contacted the attacker server');
    });
  }

  test('after the battery: the gateway still serves a valid token; nobody called the attacker', async () => {
    await sleep(300); // background fetches, if any, would land now
    assertOk(await init(gw, bearer(await mint())), 'valid token after the battery');
    assert.deepEqual(attackerSeen(), []);
    assert.equal(gw.exit, null, 'the gateway exited');
  });

  test('valid token without the required scope -> 403 insufficient_scope', async () => {
    for (const [what, opts] of [
      ['scope mcp:write only', { extra: { scope: 'mcp:write' } }],
      ['no scope claim', { omitClaims: ['scope'] }],
      ['scope mcp:readonly (prefix trap)', { extra: { scope: 'mcp:readonly' } }],
    ]) {
      const r = await init(gw, bearer(await mint(opts)));
      const where = `${what}: ${describeAnswer(r)}`;
      assert.equal(r.status, 403, where);
      assert.ok(r.challenge, `no WWW-Authenticate (${where})`);
      assert.equal(r.challenge.scheme.toLowerCase(), 'bearer', where);
      assert.equal(r.challenge.params.error, 'insufficient_scope', where);
      assert.ok((r.challenge.params.scope ?? '').split(' ').includes('mcp:read'), `scope= must list mcp:read (${where})`);
    }
  });

  test('scope claim with extra scopes -> 200', async () => {
    assertOk(await init(gw, bearer(await mint({ extra: { scope: 'openid mcp:write mcp:read' } }))), 'scope with extras');
  });

  test('no Authorization header, or Basic -> 401 with a challenge and no error=', async () => {
    assertChallengeWithoutError(gw, await init(gw, {}), 'no Authorization header');
    assertChallengeWithoutError(gw, await init(gw, { authorization: 'Basic dXNlcjpwYXNz' }), 'Basic');
    assertChallengeWithoutError(gw, await init(gw, { authorization: `Digest username="a", response="${await mint()}"` }), 'Digest');
  });

  test('the other MCP endpoints need a token too (GET/DELETE /mcp, /sse, /messages)', async () => {
    const cases = [
      ['GET', '/mcp', { accept: 'text/event-stream', 'mcp-session-id': 'x', 'mcp-protocol-version': PROTOCOL_VERSION }],
      ['DELETE', '/mcp', { 'mcp-session-id': 'x', 'mcp-protocol-version': PROTOCOL_VERSION }],
      ['GET', '/sse', { accept: 'text/event-stream' }],
      ['POST', '/messages?sessionId=x', { 'content-type': 'application/json' }],
    ];
    for (const [method, p, headers] of cases) {
      const r = await httpRequest(gw.port, { method, path: p, headers, body: method === 'POST' ? '{}' : undefined });
      assertChallengeWithoutError(gw, r, `${method} ${p} without a token`);
    }
  });

  test('scheme is case-insensitive (bearer, BEARER)', async () => {
    assertOk(await init(gw, { authorization: `bearer ${await mint()}` }), 'lowercase bearer');
    assertOk(await init(gw, { authorization: `BEARER ${await mint()}` }), 'uppercase BEARER');
  });

  test('typ compared case-insensitively; application/at+jwt accepted', async () => {
    assertOk(await init(gw, bearer(await mint({ header: { typ: 'AT+JWT' } }))), 'typ AT+JWT');
    assertOk(await init(gw, bearer(await mint({ header: { typ: 'application/at+jwt' } }))), 'typ application/at+jwt');
  });

  test('times within the leeway are accepted (leeway_s: 30)', async () => {
    const now = nowS();
    assertOk(await init(gw, bearer(await mint({ extra: { exp: now - 10, iat: now - 300 } }))), 'exp 10 s ago');
    assertOk(await init(gw, bearer(await mint({ extra: { nbf: now + 10 } }))), 'nbf in 10 s');
    assertOk(await init(gw, bearer(await mint({ extra: { iat: now + 10 } }))), 'iat in 10 s');
  });

  test('aud as an array containing the audience -> 200', async () => {
    assertOk(await init(gw, bearer(await mint({ extra: { aud: ['https://other.example', aud] } }))), 'aud array');
  });

  test('malformed Authorization header -> 400 invalid_request', async () => {
    const token = await mint();
    const [h, p, sig] = token.split('.');
    const variants = [
      'Bearer',
      'Bearer ',
      'Bearer  ',
      `Bearer ${token} extra`,
      'Bearer a b',
      `Bearer\t${token}`,
      `Bearer,${token}`,
      `Bearer ${h}.${p.slice(0, 10)}\t${p.slice(10)}.${sig}`,
    ];
    for (const value of variants) {
      const r = await httpRequest(gw.port, {
        method: 'POST',
        path: '/mcp',
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', authorization: value },
        body: JSON.stringify(initBody()),
      });
      const where = `Authorization: ${JSON.stringify(short(value, 60))}: HTTP ${r.status} ${r.headers['www-authenticate']} ${short(r.text)}`;
      assert.notEqual(r.status, 200, where);
      assert.notEqual(r.status, 500, where);
      // "Bearer\t<token>", "Bearer,<token>" and a tab inside the token are not the Bearer syntax
      // (RFC 6750 b64token): a 400 or a 401 are both fine, never an accepted token.
      if (value.startsWith('Bearer\t') || value.startsWith('Bearer,') || value.slice(7).includes('\t')) {
        assert.ok([400, 401].includes(r.status), where);
        continue;
      }
      assert.equal(r.status, 400, where);
      const c = parseWwwAuthenticate(r.headers['www-authenticate']);
      assert.equal(c?.params?.error, 'invalid_request', where);
    }
  });

  test('two Authorization headers (alice and bob) -> refused (400 or 401), never served', async () => {
    const r = await rawHttp(
      gw.port,
      `POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:${gw.port}\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\n` +
        `Authorization: Bearer ${await mint()}\r\nAuthorization: Bearer ${await mint({ extra: { sub: 'bob' } })}\r\n` +
        `Connection: close\r\nContent-Length: ${JSON.stringify(initBody()).length}\r\n\r\n${JSON.stringify(initBody())}`,
    );
    assert.ok([400, 401].includes(r.status), `two Authorization headers: status ${r.status} (${r.error})\n${r.head}\n${short(r.text)}`);
  });

  test('token in the query string -> 400 invalid_request', async () => {
    const token = await mint();
    for (const [what, headers] of [['query only', {}], ['query and header', bearer(await mint())]]) {
      const res = await fetch(`${gw.mcpUrl}?access_token=${token}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers },
        body: JSON.stringify(initBody()),
        signal: AbortSignal.timeout(10000),
      });
      const text = await res.text();
      const where = `${what}: HTTP ${res.status} ${res.headers.get('www-authenticate')} ${short(text)}`;
      assert.equal(res.status, 400, where);
      assert.equal(parseWwwAuthenticate(res.headers.get('www-authenticate'))?.params?.error, 'invalid_request', where);
    }
  });

  test('token in a form body (access_token=) is not accepted', async () => {
    const res = await fetch(gw.mcpUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json, text/event-stream' },
      body: `access_token=${await mint()}`,
      signal: AbortSignal.timeout(10000),
    });
    const text = await res.text();
    assert.ok([400, 401].includes(res.status), `HTTP ${res.status} ${short(text)}`);
  });

  test('1 MiB token -> 431 or 401 (never 500), and the gateway keeps serving', async (t) => {
    const huge = `${b64u(JSON.stringify(hdr()))}.${'A'.repeat(1024 * 1024)}.${'B'.repeat(342)}`;
    const body = JSON.stringify(initBody());
    const r = await rawHttp(
      gw.port,
      `POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:${gw.port}\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\n` +
        `Authorization: Bearer ${huge}\r\nConnection: close\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
      { timeoutMs: 15000 },
    );
    assert.ok(
      r.status === 431 || r.status === 401,
      `1 MiB token: expected 431 or 401, got status ${r.status} (socket error ${r.error}, ${r.bytes} bytes back): ${short(r.head)}`,
    );
    t.diagnostic(`1 MiB token: HTTP ${r.status}`);
    const health = await fetch(`${gw.url}/health`, { signal: AbortSignal.timeout(5000) });
    assert.equal(health.status, 200);
    assertOk(await init(gw, bearer(await mint())), 'valid token after the 1 MiB one');
    assert.deepEqual(attackerSeen(), []);
  });

  test('/health, /ready and the protected-resource metadata are public', async () => {
    for (const p of ['/health', '/ready']) {
      const res = await fetch(gw.url + p, { signal: AbortSignal.timeout(5000) });
      assert.equal(res.status, 200, `${p}: ${res.status} ${await res.text()}`);
    }
    for (const p of ['/.well-known/oauth-protected-resource/mcp', '/.well-known/oauth-protected-resource']) {
      const res = await fetch(gw.url + p, { signal: AbortSignal.timeout(5000) });
      const text = await res.text();
      assert.equal(res.status, 200, `${p}: ${res.status} ${text}`);
      assert.match(res.headers.get('content-type') ?? '', /application\/json/, p);
      const m = JSON.parse(text);
      assert.equal(m.resource, aud, `${p}: resource must be the audience exactly: ${text}`);
      assert.deepEqual(m.authorization_servers, [js.issuer], `${p}: ${text}`);
      assert.ok(Array.isArray(m.scopes_supported) && m.scopes_supported.includes('mcp:read'), `${p}: scopes_supported: ${text}`);
      assert.deepEqual(m.bearer_methods_supported, ['header'], `${p}: ${text}`);
    }
    // A (bad) token on a public endpoint does not turn it into a 401.
    const res = await fetch(`${gw.url}/health`, { headers: bearer('garbage'), signal: AbortSignal.timeout(5000) });
    assert.equal(res.status, 200);
  });

  test('sessions are bound to the subject: bob cannot use alice\'s session (404)', async () => {
    const alice = bearer(await mint({ extra: { sub: 'alice' } }));
    const bob = bearer(await mint({ extra: { sub: 'bob' } }));
    const s = await rawSession(gw, { headers: alice });
    const own = await rawRequest(gw, s, 2, 'tools/list', undefined, { headers: alice });
    assert.equal(own.status, 200, own.text);
    assert.ok(own.response?.result?.tools, own.text);

    const stolen = await rawRequest(gw, s, 3, 'tools/list', undefined, { headers: bob });
    assert.equal(stolen.status, 404, `bob with alice's session id: ${stolen.status} ${short(stolen.text)}`);
    assert.equal(stolen.response?.result, undefined, `bob got a result: ${short(stolen.text)}`);

    const get = await fetch(gw.mcpUrl, {
      headers: { ...bob, accept: 'text/event-stream', 'mcp-session-id': s.sessionId, 'mcp-protocol-version': s.protocolVersion },
      signal: AbortSignal.timeout(5000),
    });
    assert.equal(get.status, 404, `bob GET /mcp with alice's session: ${get.status}`);
    await get.body?.cancel();

    const del = await fetch(gw.mcpUrl, {
      method: 'DELETE',
      headers: { ...bob, 'mcp-session-id': s.sessionId, 'mcp-protocol-version': s.protocolVersion },
      signal: AbortSignal.timeout(5000),
    });
    assert.equal(del.status, 404, `bob DELETE alice's session: ${del.status}`);

    // Still alice's, with a fresh token for the same subject.
    const again = await rawRequest(gw, s, 4, 'tools/list', undefined, { headers: bearer(await mint({ extra: { sub: 'alice' } })) });
    assert.equal(again.status, 200, `alice's session after bob's attempts: ${again.status} ${short(again.text)}`);

    // Without any token, the session id alone is worth nothing.
    const bare = await rawRequest(gw, s, 5, 'tools/list', undefined, {});
    assert.equal(bare.status, 401, bare.text);
  });

  test('legacy SSE sessions are bound to the subject too: bob cannot post to alice\'s /messages (404)', async () => {
    const alice = bearer(await mint({ extra: { sub: 'alice' } }));
    const bob = bearer(await mint({ extra: { sub: 'bob' } }));
    const ac = new AbortController();
    try {
      const res = await fetch(`${gw.url}/sse`, { headers: { accept: 'text/event-stream', ...alice }, signal: ac.signal });
      assert.equal(res.status, 200, `GET /sse with alice's token: ${res.status}`);
      const reader = res.body.getReader();
      const decoder = new TextDecoder();
      let buf = '';
      let endpoint;
      const deadline = Date.now() + 10000;
      while (!endpoint && Date.now() < deadline) {
        const { value, done } = await reader.read();
        if (done) break;
        buf += decoder.decode(value, { stream: true });
        endpoint = /event: endpoint\r?\ndata: (\S+)\r?\n\r?\n/.exec(buf)?.[1];
      }
      assert.ok(endpoint, `no endpoint event on /sse: ${short(buf)}`);
      const post = (headers) =>
        fetch(new URL(endpoint, gw.url), {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...headers },
          body: JSON.stringify(initBody()),
          signal: AbortSignal.timeout(10000),
        });
      const stolen = await post(bob);
      assert.equal(stolen.status, 404, `bob POSTing to alice's SSE session: ${stolen.status} ${short(await stolen.text())}`);
      const none = await post({});
      assert.equal(none.status, 401, `no token on alice's SSE session: ${none.status}`);
      const own = await post(alice);
      assert.equal(own.status, 202, `alice on her own SSE session: ${own.status} ${short(await own.text())}`);
    } finally {
      ac.abort();
    }
  });

  test('the gateway logged no token', async () => {
    // Tokens are credentials: the signature segment of a token must never appear in the log.
    const sig = splitJws(await mint()).s;
    await init(gw, bearer(`${b64u(JSON.stringify(hdr()))}.${b64u(JSON.stringify(claims()))}.${sig}`));
    await sleep(200);
    assert.ok(!gw.stderr.includes(sig), 'a token signature appears in the gateway log');
  });

  test('the gateway shut down cleanly', async (t) => {
    const r = await gw.stopAndCheck(assert);
    gw = null;
    t.diagnostic(`exit ${JSON.stringify(r.exit)}`);
  });
});

// ---------------------------------------------------------------------------------------------

describe('OAuth: allow-list, zero leeway, discovery, JWKS refetch', { ...needsGateway(), timeout: 120000 }, () => {
  const COOLDOWN_S = 3;
  let js;
  let gw;
  let aud;

  before(async () => {
    js = await startJwksServer(); // rs256-1, ps256-1, es256-1, eddsa-1 all published
    const port = await freePort();
    aud = `http://127.0.0.1:${port}/mcp`;
    gw = await startGateway({
      port,
      config: {
        servers: [chaosServer],
        auth: {
          mode: 'oauth',
          issuer: js.issuer, // no jwks_uri: discovered via RFC 8414
          audience: aud,
          algorithms: ['RS256', 'ES256'],
          require_typ: 'at+jwt',
          required_scopes: ['mcp:read'],
          leeway_s: 0,
          jwks_refetch_cooldown_s: COOLDOWN_S,
        },
      },
    });
  });

  after(async () => {
    if (gw) await gw.stop();
    await js?.close();
  });

  const mint = (opts = {}) => js.mint({ audience: aud, ...opts });

  test('JWKS found through the issuer metadata; RS256 and ES256 accepted', async () => {
    assertOk(await init(gw, bearer(await mint({ kid: 'rs256-1' }))), 'RS256');
    assertOk(await init(gw, bearer(await mint({ kid: 'es256-1' }))), 'ES256');
    const paths = js.requests.map((q) => q.path);
    assert.ok(
      paths.includes('/.well-known/oauth-authorization-server') || paths.includes('/.well-known/openid-configuration'),
      `no discovery request: ${JSON.stringify(paths)}`,
    );
    assert.ok(paths.includes('/jwks'), `no JWKS request: ${JSON.stringify(paths)}`);
  });

  test('algorithms outside the allow-list are refused even with a published key (PS256, EdDSA)', async () => {
    const before = js.requests.length;
    for (const kid of ['ps256-1', 'eddsa-1']) {
      assertInvalidToken(gw, await init(gw, bearer(await mint({ kid }))), `${kid} with algorithms [RS256, ES256]`);
    }
    assert.deepEqual(js.requests.slice(before).map((q) => q.path), [], 'allow-list rejections caused requests');
  });

  test('exp equal to now -> 401 (leeway 0)', async () => {
    const now = nowS();
    assertInvalidToken(gw, await init(gw, bearer(await mint({ extra: { exp: now, iat: now - 60 } }))), 'exp == now');
    assertInvalidToken(gw, await init(gw, bearer(await mint({ extra: { exp: now - 1, iat: now - 60 } }))), 'exp == now - 1');
    assertInvalidToken(gw, await init(gw, bearer(await mint({ extra: { nbf: now + 5 } }))), 'nbf == now + 5');
  });

  test('an accepted (cached) token is refused once it expires', async () => {
    const token = await mint({ kid: 'rs256-1', extra: { exp: nowS() + 2 } });
    assertOk(await init(gw, bearer(token)), 'short-lived token before exp');
    assertOk(await init(gw, bearer(token)), 'short-lived token again (cache hit)');
    await sleep(3200);
    assertInvalidToken(gw, await init(gw, bearer(token)), 'the same token after exp');
  });

  let acceptedRs1; // an rs256-1 token the gateway accepted (and may have cached) before rs256-1 is withdrawn
  test('100 tokens with 100 unknown kids (50 concurrently, then 50 one by one) -> at most 1 JWKS fetch', async () => {
    await sleep((COOLDOWN_S + 0.5) * 1000); // let any cooldown from the start-up fetch lapse
    const before = js.jwksFetches();
    const beforeAll = js.requests.length;
    const rs = js.keys.get('rs256-1');
    const tokens = [];
    for (let i = 0; i < 100; i++) {
      tokens.push(rawJws(
        JSON.stringify({ alg: 'RS256', kid: `unknown-${i}-${crypto.randomUUID()}`, typ: 'at+jwt' }),
        JSON.stringify(js.claimsFor(aud)),
        nodeSigner('RS256', rs.keyObject),
      ));
    }
    const t0 = Date.now();
    const answers = await Promise.all(tokens.slice(0, 50).map((t) => init(gw, bearer(t))));
    for (const t of tokens.slice(50)) answers.push(await init(gw, bearer(t)));
    const elapsed = Date.now() - t0;
    answers.forEach((r, i) => assertInvalidToken(gw, r, `unknown kid #${i}`));
    await sleep(300);
    const fetches = js.jwksFetches() - before;
    const other = js.requests.slice(beforeAll).filter((q) => q.path !== '/jwks').map((q) => q.path);
    assert.ok(fetches <= 1 || elapsed > COOLDOWN_S * 1000, `${fetches} JWKS fetches for 100 unknown kids within ${elapsed} ms (cooldown ${COOLDOWN_S} s)`);
    assert.ok(fetches <= 1 + Math.floor(elapsed / (COOLDOWN_S * 1000)), `${fetches} JWKS fetches in ${elapsed} ms`);
    assert.deepEqual(other, [], 'unknown kids caused requests other than the JWKS');
  });

  test('a new key is picked up with exactly one refetch (after the cooldown)', async () => {
    acceptedRs1 = await mint({ kid: 'rs256-1' });
    assertOk(await init(gw, bearer(acceptedRs1)), 'rs256-1 token while rs256-1 is published');
    await sleep((COOLDOWN_S + 0.5) * 1000);
    await js.addKey('RS256', { kid: 'rs256-2' });
    const before = js.jwksFetches();
    assertOk(await init(gw, bearer(await mint({ kid: 'rs256-2' }))), 'token signed by a newly published key');
    assert.equal(js.jwksFetches() - before, 1, 'exactly one JWKS refetch for the new kid');
    assertOk(await init(gw, bearer(await mint({ kid: 'rs256-2' }))), 'second token with the new key');
    assert.equal(js.jwksFetches() - before, 1, 'the new key is cached: no second refetch');
  });

  test('a key removed from the JWKS is refused once the gateway has refetched', async () => {
    await sleep((COOLDOWN_S + 0.5) * 1000);
    // Rotation: rs256-1 is withdrawn and rs256-3 published in the same JWKS update.
    await js.addKey('RS256', { kid: 'rs256-3' });
    js.unpublish('rs256-1');
    const before = js.jwksFetches();
    assertOk(await init(gw, bearer(await mint({ kid: 'rs256-3' }))), 'token signed by the rotated-in key');
    assert.equal(js.jwksFetches() - before, 1, 'exactly one refetch for the rotated-in key');
    const t0 = Date.now();
    const r = await init(gw, bearer(await mint({ kid: 'rs256-1' })));
    assertInvalidToken(gw, r, 'token signed by the withdrawn key rs256-1, after the refetch');
    assertInvalidToken(gw, await init(gw, bearer(acceptedRs1)), 'a previously accepted rs256-1 token, after the refetch');
    if (Date.now() - t0 < COOLDOWN_S * 1000 - 500) {
      assert.equal(js.jwksFetches() - before, 1, 'the withdrawn kid caused a refetch within the cooldown');
    }
  });

  test('each key rotation is an audit event (key_rotation: the kids added and removed)', async () => {
    const admin = await mint({ kid: 'rs256-3', extra: { sub: 'rotation-auditor', roles: ['admin'] } });
    let items = [];
    for (let i = 0; i < 50; i++) {
      const res = await fetch(`${gw.url}/api/v1/audit?kind=key_rotation`, { headers: bearer(admin) });
      assert.equal(res.status, 200, 'an admin reads the audit trail');
      items = (await res.json()).items;
      if (items.length >= 2) break;
      await sleep(100);
    }
    // The start-up fetch and the refetches that found the same set are not rotations.
    assert.deepEqual(items.map((e) => [e.detail.added, e.detail.removed]), [[['rs256-2'], []], [['rs256-3'], ['rs256-1']]], JSON.stringify(items));
    for (const e of items) {
      assert.equal(e.detail.issuer, js.issuer);
      assert.equal(e.detail.jwks_uri, js.jwksUri);
      assert.equal(e.subject, '');
    }
  });

  test('the gateway shut down cleanly', async () => {
    await gw.stopAndCheck(assert);
    gw = null;
  });
});

// ---------------------------------------------------------------------------------------------

describe('OAuth: the authorization server is unavailable or lies', { ...needsGateway(), timeout: 180000 }, () => {
  // Tokens cannot be verified without keys: the gateway must answer promptly with 401 or 503
  // (never 200, never 500, never leave the request hanging), and keep serving.
  const ANSWER_WITHIN_MS = 12000;
  let js;
  let bad;
  let badPort;
  const badRequests = [];

  before(async () => {
    js = await startJwksServer({ algs: ['RS256'] });
    bad = http.createServer((req, res) => {
      badRequests.push({ method: req.method, path: req.url });
      if (req.url === '/garbage') return res.end('this is not JSON');
      if (req.url === '/keys-not-array') return res.end('{"keys":"nope"}');
      if (req.url === '/hang') return undefined; // never answers
      res.writeHead(500, { 'content-type': 'application/json' });
      return res.end('{}');
    });
    await new Promise((resolve) => bad.listen(0, '127.0.0.1', resolve));
    badPort = bad.address().port;
  });

  after(async () => {
    bad?.closeAllConnections?.();
    await new Promise((resolve) => (bad ? bad.close(() => resolve()) : resolve()));
    await js?.close();
  });

  async function probe(what, authOverrides, setup = () => {}, teardown = () => {}) {
    const port = await freePort();
    const aud = `http://127.0.0.1:${port}/mcp`;
    setup();
    const gw = await startGateway({
      port,
      config: { servers: [chaosServer], auth: { mode: 'oauth', issuer: js.issuer, audience: aud, required_scopes: ['mcp:read'], ...authOverrides } },
    });
    try {
      const t0 = Date.now();
      let r;
      try {
        r = await init(gw, bearer(await js.mint({ audience: aud })));
      } catch (e) {
        assert.fail(`${what}: no answer within ${Date.now() - t0} ms (${e.message}); the request hung`);
      }
      const ms = Date.now() - t0;
      assert.ok(ms < ANSWER_WITHIN_MS, `${what}: answered after ${ms} ms`);
      assert.ok([401, 503].includes(r.status), `${what}: expected 401 or 503, got ${describeAnswer(r)}`);
      const health = await fetch(`${gw.url}/health`, { signal: AbortSignal.timeout(5000) });
      assert.equal(health.status, 200, `${what}: /health after`);
      return r;
    } finally {
      teardown();
      await gw.stopAndCheck(assert);
    }
  }

  test('jwks_uri on a closed port -> prompt 401/503', async () => {
    await probe('closed port', { jwks_uri: `http://127.0.0.1:${await freePort()}/jwks` });
  });
  test('jwks_uri answering 500 -> prompt 401/503', async () => {
    await probe('JWKS 500', { jwks_uri: `http://127.0.0.1:${badPort}/error` });
  });
  test('jwks_uri answering garbage -> prompt 401/503', async () => {
    await probe('JWKS garbage', { jwks_uri: `http://127.0.0.1:${badPort}/garbage` });
    await probe('JWKS keys not an array', { jwks_uri: `http://127.0.0.1:${badPort}/keys-not-array` });
  });
  test('jwks_uri that never answers -> 401/503 within the timeout', async () => {
    await probe('JWKS hangs', { jwks_uri: `http://127.0.0.1:${badPort}/hang` });
  });
  test('discovery: the issuer publishes no metadata -> prompt 401/503', async () => {
    const hide = ['/.well-known/oauth-authorization-server', '/.well-known/openid-configuration'];
    await probe('no issuer metadata', {}, () => hide.forEach((p) => js.hidden.add(p)), () => hide.forEach((p) => js.hidden.delete(p)));
  });
  // Keys missing is no licence to let every token trigger a fetch: the refetch limit (one per
  // cooldown, default 10 s) and the gateway's own retry backoff bound what tokens can cause.
  for (const [what, authOverrides, hide] of [
    ['JWKS answering 500', () => ({ jwks_uri: `http://127.0.0.1:${badPort}/error` }), []],
    ['no issuer metadata (discovery)', () => ({}), ['/.well-known/oauth-authorization-server', '/.well-known/openid-configuration']],
  ]) {
    test(`${what}: 30 tokens in a row do not cause 30 outbound requests`, async () => {
      const port = await freePort();
      const aud = `http://127.0.0.1:${port}/mcp`;
      hide.forEach((p) => js.hidden.add(p));
      const badCount = () => badRequests.length;
      const gw = await startGateway({
        port,
        config: { servers: [chaosServer], auth: { mode: 'oauth', issuer: js.issuer, audience: aud, ...authOverrides() } },
      });
      try {
        await sleep(300); // the start-up attempt
        const jsBefore = js.requests.length;
        const badBefore = badCount();
        const t0 = Date.now();
        for (let i = 0; i < 30; i++) {
          // A short client timeout: the point here is what the tokens cause, not the answer.
          await postMcp(gw, initBody(), { headers: bearer(await js.mint({ audience: aud })), timeoutMs: 300 }).catch(() => {});
        }
        const elapsed = Date.now() - t0;
        const byPath = {};
        for (const q of [...js.requests.slice(jsBefore), ...badRequests.slice(badBefore)]) byPath[q.path] = (byPath[q.path] ?? 0) + 1;
        // Allowed per target: one token-driven refetch per cooldown (10 s), the attempt in flight at
        // the start, and the retries an exponential backoff from 1 s can make in the time elapsed.
        const allowed = 2 + Math.ceil(Math.log2(1 + (elapsed + 300) / 1000));
        for (const [p, n] of Object.entries(byPath)) {
          assert.ok(n <= allowed, `${what}: 30 tokens in ${elapsed} ms caused ${n} requests to ${p}, allowed ${allowed} (all: ${JSON.stringify(byPath)})`);
        }
      } finally {
        hide.forEach((p) => js.hidden.delete(p));
        await gw.stopAndCheck(assert);
      }
    });
  }

  test('discovery: metadata naming another issuer is not used (RFC 8414 3.3) -> prompt 401/503', async () => {
    await probe('metadata with a foreign issuer', {}, () => {
      js.extraMetadata = { issuer: 'http://127.0.0.1:1' };
    }, () => {
      js.extraMetadata = {};
    });
  });
});

// ---------------------------------------------------------------------------------------------

describe('OAuth: discovery for an issuer with a path', { ...needsGateway(), timeout: 60000 }, () => {
  // Issuers like https://idp.example.com/realms/acme: RFC 8414 metadata lives at
  // /.well-known/oauth-authorization-server/realms/acme (section 3.1), OIDC discovery at
  // /realms/acme/.well-known/openid-configuration. Each test serves only one of them.
  for (const [what, hide] of [
    ['RFC 8414 metadata only (well-known inserted before the path)', 'oidc'],
    ['OpenID Connect discovery only (well-known appended)', 'rfc8414'],
  ]) {
    test(what, async () => {
      const js = await startJwksServer({ algs: ['ES256'] });
      js.issuerPath = '/realms/acme';
      js.hidden.add(hide === 'oidc' ? js.oidcDiscoveryPath : js.rfc8414Path);
      const port = await freePort();
      const aud = `http://127.0.0.1:${port}/mcp`;
      const gw = await startGateway({
        port,
        config: { servers: [chaosServer], auth: { mode: 'oauth', issuer: js.issuer, audience: aud, required_scopes: ['mcp:read'] } },
      });
      try {
        const seen = () => js.requests.map((q) => `${q.method} ${q.path}`);
        let r;
        try {
          r = await init(gw, bearer(await js.mint({ audience: aud })));
        } catch (e) {
          assert.fail(`issuer ${js.issuer}: no answer (${e.message}); the issuer saw ${JSON.stringify(seen())}`);
        }
        assert.equal(r.status, 200, `issuer ${js.issuer}: ${describeAnswer(r)}; the issuer saw ${JSON.stringify(seen())}`);
        const meta = await (await fetch(`${gw.url}/.well-known/oauth-protected-resource/mcp`)).json();
        assert.deepEqual(meta.authorization_servers, [js.issuer]);
      } finally {
        await gw.stopAndCheck(assert);
        await js.close();
      }
    });
  }
});

// ---------------------------------------------------------------------------------------------

describe('OAuth: configuration', { ...needsGateway(), timeout: 120000 }, () => {
  test('no auth section -> refuses to start (exit 2)', async () => {
    const port = await freePort();
    const r = await runGatewayToExit({
      config: `listen: "127.0.0.1:${port}"\nservers:\n  - name: chaos\n    command: [node, ${CHAOS_SERVER}]\n`,
      // Opt out of the harness default (GATEWAY_AUTH_MODE=off); empty means unset to the gateway.
      env: { GATEWAY_AUTH_MODE: '' },
    });
    assert.equal(r.timedOut, false, `started without an auth section\n${r.stderr}`);
    assert.equal(r.code, 2, `exit ${r.code}\n${r.stderr}`);
    assert.match(r.stderr, /auth/i);
  });

  test('auth off on 0.0.0.0 -> refuses to start (exit 2)', async () => {
    const port = await freePort();
    const r = await runGatewayToExit({
      config: `listen: "0.0.0.0:${port}"\nauth:\n  mode: off\nservers:\n  - name: chaos\n    command: [node, ${CHAOS_SERVER}]\n`,
    });
    assert.equal(r.timedOut, false, `started with auth off on 0.0.0.0\n${r.stderr}`);
    assert.equal(r.code, 2, `exit ${r.code}\n${r.stderr}`);
    assert.match(r.stderr, /allow_insecure_listen|auth/i);
  });

  test('auth off on 0.0.0.0 with allow_insecure_listen -> starts, with a warning', async () => {
    const port = await freePort();
    const gw = await startGateway({
      port,
      noListen: true,
      config: { listen: `0.0.0.0:${port}`, auth: { mode: 'off', allow_insecure_listen: true }, servers: [chaosServer] },
    });
    try {
      const res = await fetch(`${gw.url}/health`, { signal: AbortSignal.timeout(5000) });
      assert.equal(res.status, 200);
      // A warning: level warn, or louder.
      const warn = gw.logs().find((l) => /warn|error|crit|fatal/i.test(l.level ?? l.severity ?? l._raw ?? '') && /auth|insecure|0\.0\.0\.0/i.test(JSON.stringify(l)));
      assert.ok(warn, `no warning about auth being off on 0.0.0.0 in:\n${gw.stderr.slice(0, 3000)}`);
    } finally {
      await gw.stopAndCheck(assert);
    }
  });

  test('auth off on loopback -> starts, /mcp needs no token', async () => {
    const gw = await startGateway({ config: { auth: { mode: 'off' }, servers: [chaosServer] } });
    try {
      const r = await init(gw, {});
      assertOk(r, 'initialize without a token, auth off');
    } finally {
      await gw.stopAndCheck(assert);
    }
  });

  test('OAUTH_* environment variables configure the resource server', async () => {
    const js = await startJwksServer({ algs: ['ES256'] });
    const port = await freePort();
    const aud = `http://127.0.0.1:${port}/mcp`;
    const gw = await startGateway({
      port,
      config: { auth: { mode: 'oauth' }, servers: [chaosServer] },
      env: {
        OAUTH_ISSUER: js.issuer,
        OAUTH_AUDIENCE: aud,
        OAUTH_JWKS_URI: js.jwksUri,
        OAUTH_REQUIRED_SCOPES: 'mcp:read, mcp:write',
      },
    });
    try {
      const both = await init(gw, bearer(await js.mint({ audience: aud, extra: { scope: 'mcp:write mcp:read' } })));
      assertOk(both, 'token with both required scopes');
      const one = await init(gw, bearer(await js.mint({ audience: aud, extra: { scope: 'mcp:read' } })));
      assert.equal(one.status, 403, describeAnswer(one));
      assert.equal(one.challenge?.params?.error, 'insufficient_scope', describeAnswer(one));
      assert.deepEqual((one.challenge?.params?.scope ?? '').split(' ').filter(Boolean).sort(), ['mcp:read', 'mcp:write'], describeAnswer(one));
      const none = await init(gw, {});
      assert.equal(none.status, 401);
      assert.deepEqual((none.challenge?.params?.scope ?? '').split(' ').filter(Boolean).sort(), ['mcp:read', 'mcp:write'], describeAnswer(none));
      const meta = await (await fetch(`${gw.url}/.well-known/oauth-protected-resource/mcp`)).json();
      assert.equal(meta.resource, aud);
      assert.deepEqual(meta.authorization_servers, [js.issuer]);
    } finally {
      await gw.stopAndCheck(assert);
      await js.close();
    }
  });
});
