// A throwaway token issuer for benchmarks: generates an RS256 key with `jose`, serves its JWKS on
// 127.0.0.1:PORT/jwks, and prints one access token (1 h, at+jwt) for ISSUER/AUDIENCE on stdout.
// Usage: node tests/tools/jwks-issuer.mjs PORT ISSUER AUDIENCE (lives under tests/ to resolve jose)
import http from 'node:http';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';

const [port, issuer, audience] = process.argv.slice(2);
const { publicKey, privateKey } = await generateKeyPair('RS256');
const jwk = { ...(await exportJWK(publicKey)), kid: 'bench', alg: 'RS256', use: 'sig' };
http
  .createServer((req, res) => {
    res.writeHead(req.url === '/jwks' ? 200 : 404, { 'content-type': 'application/json' });
    res.end(req.url === '/jwks' ? JSON.stringify({ keys: [jwk] }) : '{}');
  })
  .listen(Number(port), '127.0.0.1', async () => {
    const token = await new SignJWT({ scope: 'mcp:read', roles: ['user'] })
      .setProtectedHeader({ alg: 'RS256', kid: 'bench', typ: 'at+jwt' })
      .setIssuer(issuer)
      .setAudience(audience)
      .setSubject('bench-user')
      .setIssuedAt()
      .setExpirationTime('1h')
      .sign(privateKey);
    process.stdout.write(`${token}\n`);
  });
