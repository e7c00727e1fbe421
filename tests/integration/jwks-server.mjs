// A tiny loopback authorization-server stand-in for mcpgw's token-verification tests.
//
// startJwksServer() listens on 127.0.0.1 and serves
//   GET /jwks                                      the published JSON Web Key Set
//   GET /.well-known/oauth-authorization-server    RFC 8414 metadata pointing at /jwks
//   GET /.well-known/openid-configuration          the same document (OIDC discovery)
// (with issuerPath '/p': /.well-known/oauth-authorization-server/p and /p/.well-known/openid-configuration)
// and 404 for anything else. Every request it receives is recorded (method, path, headers), so a
// test can assert that a token never caused an outbound request, or how many JWKS refetches an
// unknown `kid` caused. Keys are generated with `jose` and can be added, published, withdrawn and
// swapped at runtime.
//
// Minting:
//   server.mint({kid, claims, header, omitClaims, omitHeader})  -> a compact JWS signed with jose
//   rawJws(headerText, payloadBytes, signer)                      -> a JWS over *exactly* these bytes
//   nodeSigner(alg, keyObject)                                    -> signer for rawJws (node:crypto)
// rawJws exists for tokens jose refuses to produce on purpose (duplicate header members, invalid
// UTF-8, non-object payloads, padded segments, 1024-bit RSA keys, ...).
import crypto from 'node:crypto';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import * as jose from 'jose';

// ---------------------------------------------------------------------------------------------
// Encoding helpers

/** base64url without padding of a string (UTF-8) or bytes. */
export function b64u(data) {
  return Buffer.from(typeof data === 'string' ? Buffer.from(data, 'utf8') : data).toString('base64url');
}

/** The three segments of a compact JWS, decoded (header and payload parsed as JSON when possible). */
export function splitJws(token) {
  const [h, p, s] = token.split('.');
  const parse = (seg) => {
    try {
      return JSON.parse(Buffer.from(seg, 'base64url').toString('utf8'));
    } catch {
      return undefined;
    }
  };
  return { h, p, s, header: parse(h), payload: parse(p) };
}

export const nowS = () => Math.floor(Date.now() / 1000);

// ---------------------------------------------------------------------------------------------
// Signing with node:crypto (for hand-crafted tokens)

const HASH = { 256: 'sha256', 384: 'sha384', 512: 'sha512' };

/**
 * A function (signingInput: Buffer) -> signature bytes for `alg` with a node KeyObject (or a
 * CryptoKey, converted). ES* signatures are JOSE (r||s) unless der: true.
 */
export function nodeSigner(alg, key, { der = false } = {}) {
  const k = key instanceof crypto.KeyObject ? key : crypto.KeyObject.from(key);
  const bits = alg.slice(2);
  if (alg.startsWith('HS')) return (data) => crypto.createHmac(HASH[bits], k).update(data).digest();
  if (alg.startsWith('RS')) return (data) => crypto.sign(HASH[bits], data, k);
  if (alg.startsWith('PS')) {
    return (data) =>
      crypto.sign(HASH[bits], data, {
        key: k,
        padding: crypto.constants.RSA_PKCS1_PSS_PADDING,
        saltLength: Number(bits) / 8,
      });
  }
  if (alg.startsWith('ES')) {
    return (data) => crypto.sign(HASH[bits], data, { key: k, dsaEncoding: der ? 'der' : 'ieee-p1363' });
  }
  if (alg === 'EdDSA' || alg === 'Ed25519') return (data) => crypto.sign(null, data, k);
  throw new Error(`nodeSigner: unsupported alg ${alg}`);
}

/**
 * A compact JWS over exactly the given header text and payload (string or bytes). The segments are
 * base64url-encoded unless given pre-encoded ({encoded: string}). signer(signingInput) returns the
 * signature bytes (or a string, used verbatim as the third segment); signer null -> empty signature.
 */
export function rawJws(header, payload, signer) {
  const enc = (x) => (x && typeof x === 'object' && 'encoded' in x ? x.encoded : b64u(x));
  const input = `${enc(header)}.${enc(payload)}`;
  if (!signer) return `${input}.`;
  const sig = signer(Buffer.from(input, 'ascii'));
  return `${input}.${typeof sig === 'string' ? sig : b64u(sig)}`;
}

// ---------------------------------------------------------------------------------------------
// Keys

/**
 * A signing key: {kid, alg, privateKey, publicKey (CryptoKey or KeyObject), jwk (public, with kid,
 * alg, use), keyObject (private node KeyObject)}.
 */
export async function makeKey(alg, { kid, use = 'sig', jwkAlg = alg, crv } = {}) {
  const genAlg = alg === 'EdDSA' ? 'Ed25519' : alg;
  const { privateKey, publicKey } = await jose.generateKeyPair(genAlg, { extractable: true, ...(crv ? { crv } : {}) });
  const jwk = { ...(await jose.exportJWK(publicKey)), kid: kid ?? `${alg.toLowerCase()}-${crypto.randomUUID().slice(0, 8)}` };
  if (use) jwk.use = use;
  if (jwkAlg) jwk.alg = jwkAlg;
  return { kid: jwk.kid, alg, privateKey, publicKey, jwk, keyObject: crypto.KeyObject.from(privateKey) };
}

/**
 * An RSA key of any size, generated with node:crypto (jose refuses < 2048 bits on purpose).
 * Same shape as makeKey(); privateKey is a KeyObject (usable only with rawJws/nodeSigner).
 */
export function makeRsaKeyNode(modulusLength, { kid, alg = 'RS256', use = 'sig' } = {}) {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('rsa', { modulusLength });
  const pub = publicKey.export({ format: 'jwk' });
  const jwk = { kty: 'RSA', n: pub.n, e: pub.e, kid: kid ?? `rsa${modulusLength}-${crypto.randomUUID().slice(0, 8)}`, alg };
  if (use) jwk.use = use;
  return { kid: jwk.kid, alg, privateKey, publicKey, jwk, keyObject: privateKey };
}

/**
 * A self-signed X.509 certificate for a fresh RSA key, made with the openssl CLI (for x5c tokens).
 * Returns {keyObject, certDerB64, certPem} or null when openssl is not available.
 */
export function makeSelfSignedCert() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mcpgw-x5c-'));
  try {
    const keyPath = path.join(dir, 'key.pem');
    const certPath = path.join(dir, 'cert.pem');
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyPath, '-out', certPath, '-subj', '/CN=attacker', '-days', '1'],
      { stdio: 'ignore', timeout: 20000 },
    );
    const certPem = fs.readFileSync(certPath, 'utf8');
    const keyObject = crypto.createPrivateKey(fs.readFileSync(keyPath));
    const certDerB64 = new crypto.X509Certificate(certPem).raw.toString('base64');
    return { keyObject, certDerB64, certPem };
  } catch {
    return null;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// The server

export class JwksServer {
  constructor() {
    this.server = null;
    this.port = 0;
    this.requests = []; // {method, path, headers, at}
    this.keys = new Map(); // kid -> key (makeKey shape)
    this.published = []; // public JWKs served at /jwks, in order
    this.extraMetadata = {};
    this.hidden = new Set(); // paths answered with 404 (e.g. to force a discovery fallback)
    this.issuerPath = ''; // e.g. '/tenant-a': the issuer identifier then has a path component
  }

  /** The origin, http://127.0.0.1:port. */
  get url() {
    return `http://127.0.0.1:${this.port}`;
  }

  /** The issuer identifier: the origin plus issuerPath. */
  get issuer() {
    return `${this.url}${this.issuerPath}`;
  }

  get jwksUri() {
    return `${this.url}/jwks`;
  }

  /**
   * Where the metadata is served: RFC 8414 section 3.1 inserts the well-known segment between
   * the host and the issuer's path; OpenID Connect Discovery appends it to the issuer.
   */
  get rfc8414Path() {
    return `/.well-known/oauth-authorization-server${this.issuerPath}`;
  }

  get oidcDiscoveryPath() {
    return `${this.issuerPath}/.well-known/openid-configuration`;
  }

  metadata() {
    return {
      issuer: this.issuer,
      jwks_uri: this.jwksUri,
      token_endpoint: `${this.issuer}/token`,
      authorization_endpoint: `${this.issuer}/authorize`,
      response_types_supported: ['code'],
      grant_types_supported: ['authorization_code', 'client_credentials'],
      code_challenge_methods_supported: ['S256'],
      scopes_supported: ['mcp:read', 'mcp:write'],
      ...this.extraMetadata,
    };
  }

  /** Requests received so far, optionally only those whose path starts with prefix. */
  count(prefix = '') {
    return this.requests.filter((r) => r.path.startsWith(prefix)).length;
  }

  /** GET /jwks requests received so far. */
  jwksFetches() {
    return this.requests.filter((r) => r.path.split('?')[0] === '/jwks').length;
  }

  /** Generates a key (see makeKey), remembers it, and publishes it unless publish: false. */
  async addKey(alg, opts = {}) {
    const { publish = true, ...rest } = opts;
    const key = await makeKey(alg, rest);
    this.keys.set(key.kid, key);
    if (publish) this.publish(key.kid);
    return key;
  }

  /** Remembers a key built elsewhere (makeRsaKeyNode, another server's key...). */
  adoptKey(key, { publish = true } = {}) {
    this.keys.set(key.kid, key);
    if (publish) this.publish(key.kid);
    return key;
  }

  /** Publishes a remembered key (or a raw public JWK object) in /jwks. */
  publish(kidOrJwk) {
    const jwk = typeof kidOrJwk === 'string' ? this.keys.get(kidOrJwk)?.jwk : kidOrJwk;
    if (!jwk) throw new Error(`publish: unknown key ${kidOrJwk}`);
    this.published = this.published.filter((j) => j.kid !== jwk.kid || jwk.kid === undefined);
    this.published.push(jwk);
  }

  /** Withdraws a key from /jwks (it can still sign: that is the point). */
  unpublish(kid) {
    this.published = this.published.filter((j) => j.kid !== kid);
  }

  /** Replaces the whole published set with the given kids. */
  setPublished(kids) {
    this.published = [];
    for (const k of kids) this.publish(k);
  }

  jwks() {
    return { keys: this.published };
  }

  /** Default claims of a token this server would issue for `audience`. */
  claimsFor(audience, extra = {}) {
    const now = nowS();
    return {
      iss: this.issuer,
      sub: 'alice',
      aud: audience,
      client_id: 'mcpgw-tests',
      scope: 'mcp:read',
      iat: now,
      exp: now + 300,
      jti: crypto.randomUUID(),
      ...extra,
    };
  }

  /**
   * A compact JWS signed with jose (CompactSign) by the key `kid` (default: the first published key).
   *  header:     members merged into {alg, kid, typ: 'at+jwt'} (undefined values are removed)
   *  claims:     the whole payload (object); or audience + extra to build one with claimsFor()
   *  omitHeader / omitClaims: member names to delete
   *  alg:        overrides the key's alg in the header
   *  signWith:   a key (makeKey shape) or secret (Uint8Array) to sign with instead of kid's key
   *  crit:       jose's `crit` option (to allow signing with unknown crit members)
   */
  async mint({ kid, alg, header = {}, claims, audience, extra, omitHeader = [], omitClaims = [], signWith, crit } = {}) {
    const key = signWith && !(signWith instanceof Uint8Array) ? signWith : this.keys.get(kid ?? this.published[0]?.kid);
    if (!key && !(signWith instanceof Uint8Array)) throw new Error(`mint: unknown kid ${kid}`);
    const h = { alg: alg ?? key?.alg, kid: kid ?? key?.kid, typ: 'at+jwt', ...header };
    for (const k of omitHeader) delete h[k];
    for (const k of Object.keys(h)) if (h[k] === undefined) delete h[k];
    const payload = { ...(claims ?? this.claimsFor(audience, extra)) };
    for (const k of omitClaims) delete payload[k];
    const signingKey = signWith instanceof Uint8Array ? signWith : key.privateKey;
    return new jose.CompactSign(new TextEncoder().encode(JSON.stringify(payload)))
      .setProtectedHeader(h)
      .sign(signingKey, crit ? { crit } : undefined);
  }

  async start(port = 0) {
    this.server = http.createServer((req, res) => {
      const p = req.url ?? '/';
      this.requests.push({ method: req.method, path: p, headers: req.headers, at: Date.now() });
      req.resume();
      const route = p.split('?')[0];
      const send = (status, body) => {
        const text = JSON.stringify(body);
        res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(text) });
        res.end(text);
      };
      if (req.method !== 'GET' || this.hidden.has(route)) return send(404, { error: 'not_found' });
      if (route === '/jwks') return send(200, this.jwks());
      if (route === this.rfc8414Path || route === this.oidcDiscoveryPath) {
        return send(200, this.metadata());
      }
      return send(404, { error: 'not_found' });
    });
    await new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, '127.0.0.1', resolve);
    });
    this.port = this.server.address().port;
    return this;
  }

  async close() {
    if (!this.server) return;
    this.server.closeAllConnections?.();
    await new Promise((resolve) => this.server.close(() => resolve()));
    this.server = null;
  }
}

/**
 * Starts a JWKS server on a free loopback port with one published key per algorithm in `algs`
 * (kids: rs256-1, ps256-1, es256-1, eddsa-1 unless `kids` maps alg -> kid).
 */
export async function startJwksServer({ algs = ['RS256', 'PS256', 'ES256', 'EdDSA'], kids = {}, port = 0 } = {}) {
  const s = new JwksServer();
  for (const alg of algs) await s.addKey(alg, { kid: kids[alg] ?? `${alg.toLowerCase()}-1` });
  return s.start(port);
}

// ---------------------------------------------------------------------------------------------
// Answers

/**
 * Parses a WWW-Authenticate value with a single challenge: `Bearer k="v", k2=v2`.
 * Returns {scheme, params: {k: v}} or null.
 */
export function parseWwwAuthenticate(value) {
  if (!value) return null;
  const m = /^\s*([A-Za-z0-9!#$%&'*+.^_`|~-]+)\s*(.*)$/s.exec(value);
  if (!m) return null;
  const params = {};
  let rest = m[2];
  const re = /^\s*,?\s*([A-Za-z0-9!#$%&'*+.^_`|~-]+)\s*=\s*("((?:[^"\\]|\\.)*)"|[^\s,]*)\s*/s;
  for (;;) {
    const p = re.exec(rest);
    if (!p || p[0].length === 0) break;
    params[p[1].toLowerCase()] = p[3] !== undefined ? p[3].replace(/\\(.)/g, '$1') : p[2];
    rest = rest.slice(p[0].length);
  }
  return { scheme: m[1], params, rest: rest.trim() };
}
