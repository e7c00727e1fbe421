// The gateway fetching an HTTPS issuer's metadata and JWKS (the HTTP client's TLS path): a real
// Node https server with a certificate from a throwaway CA made here with the openssl CLI, trusted
// through SSL_CERT_FILE exactly as an operator would add a private CA. Tokens minted with `jose`.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import { CHAOS_SERVER, freePort, needsGateway, postMcp, startGateway, tmpDir } from './harness.mjs';

const INIT = {
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'tls-test', version: '1' } },
};

// A CA, and a server certificate signed by it for `host` (DNS and IP SANs).
function makeCerts(dir, host) {
  const run = (args) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  run(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '1', '-subj', '/CN=mcpgw test CA']);
  run(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', `/CN=${host}`]);
  fs.writeFileSync(path.join(dir, 'san.ext'), `subjectAltName=DNS:${host}${host === 'localhost' ? ',IP:127.0.0.1' : ''}\n`);
  run(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.pem', '-days', '1', '-extfile', 'san.ext']);
  return { ca: path.join(dir, 'ca.pem'), key: fs.readFileSync(path.join(dir, 'server.key')), cert: fs.readFileSync(path.join(dir, 'server.pem')) };
}

// An HTTPS issuer on 127.0.0.1 publishing OIDC metadata and a JWKS; counts requests.
async function startIssuer(certs, port) {
  const { publicKey, privateKey } = await generateKeyPair('ES256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'tls-key', alg: 'ES256', use: 'sig' };
  const issuer = `https://localhost:${port}`;
  const seen = [];
  const server = https.createServer({ key: certs.key, cert: certs.cert }, (req, res) => {
    seen.push(req.url);
    res.setHeader('content-type', 'application/json');
    if (req.url === '/.well-known/openid-configuration') return res.end(JSON.stringify({ issuer, jwks_uri: `${issuer}/jwks` }));
    if (req.url === '/jwks') return res.end(JSON.stringify({ keys: [jwk] }));
    res.statusCode = 404;
    res.end('{}');
  });
  await new Promise((r) => server.listen(port, '127.0.0.1', r));
  const mint = (aud) =>
    new SignJWT({ scope: 'mcp:read' })
      .setProtectedHeader({ alg: 'ES256', kid: 'tls-key', typ: 'at+jwt' })
      .setIssuer(issuer)
      .setAudience(aud)
      .setSubject('tls-user')
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(privateKey);
  return { issuer, seen, mint, close: () => new Promise((r) => server.close(r)) };
}

describe('OAuth issuer over HTTPS (TLS client)', { ...needsGateway(), timeout: 90000 }, () => {
  const dir = tmpDir('mcpgw-tls-');
  let good;
  let wrongName;
  before(async () => {
    good = await startIssuer(makeCerts(fs.mkdtempSync(path.join(dir, 'a-')), 'localhost'), await freePort());
    wrongName = await startIssuer(makeCerts(fs.mkdtempSync(path.join(dir, 'b-')), 'other.example'), await freePort());
  });
  after(async () => {
    await good?.close();
    await wrongName?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  async function gatewayFor(issuer, env) {
    const port = await freePort();
    const audience = `http://127.0.0.1:${port}/mcp`;
    const gw = await startGateway({
      port,
      env,
      config: { auth: { issuer: issuer.issuer, audience, required_scopes: ['mcp:read'] }, servers: [{ name: 'chaos', command: ['node', CHAOS_SERVER] }] },
    });
    return { gw, audience };
  }

  test('a CA trusted through SSL_CERT_FILE: discovery and JWKS over TLS, token accepted', async () => {
    const caFile = path.join(fs.readdirSync(dir).map((d) => path.join(dir, d)).find((d) => d.includes('a-')), 'ca.pem');
    const { gw, audience } = await gatewayFor(good, { SSL_CERT_FILE: caFile });
    try {
      const r = await postMcp(gw, INIT, { headers: { authorization: `Bearer ${await good.mint(audience)}` } });
      assert.equal(r.status, 200, `${r.status} ${r.text}\n${gw.stderr.slice(-2000)}`);
      assert.ok(good.seen.includes('/.well-known/openid-configuration') && good.seen.includes('/jwks'), JSON.stringify(good.seen));
    } finally {
      await gw.stop();
    }
  });

  test('an issuer whose certificate is not trusted: no keys, requests refused (never served)', async () => {
    // The default trust store does not know the throwaway CA.
    const { gw, audience } = await gatewayFor(good, { SSL_CERT_FILE: '/nonexistent/ca.pem' });
    try {
      const r = await postMcp(gw, INIT, { headers: { authorization: `Bearer ${await good.mint(audience)}` } });
      assert.ok(r.status === 503 || r.status === 401, `${r.status} ${r.text}`);
      assert.match(gw.stderr, /TLS handshake|certificate/i);
    } finally {
      await gw.stop();
    }
  });

  test('a certificate for another host name is refused (host name verification)', async () => {
    const caFile = path.join(fs.readdirSync(dir).map((d) => path.join(dir, d)).find((d) => d.includes('b-')), 'ca.pem');
    const { gw, audience } = await gatewayFor(wrongName, { SSL_CERT_FILE: caFile });
    try {
      const r = await postMcp(gw, INIT, { headers: { authorization: `Bearer ${await wrongName.mint(audience)}` } });
      assert.ok(r.status === 503 || r.status === 401, `${r.status} ${r.text}`);
      assert.ok(!wrongName.seen.includes('/jwks'), 'keys were fetched from a server with the wrong name');
    } finally {
      await gw.stop();
    }
  });
});
