// A real OpenID Connect provider for the tests of single sign-on: the certified `oidc-provider`
// package (installed into .tools by scripts/test), on a free loopback port.
//
// Usage: node scripts/oidc-provider.mjs '<JSON>' where the JSON gives
//   client_id, client_secret, redirect_uri: the one client (1Stop under test);
//   accounts: { "<login>": { "email": "...", "email_verified": true } }: who may sign in (the
//     development login form takes the login and any password; the login is the `sub`);
//   id_token_ttl: seconds an ID token lives (default 3600).
// It prints one line, {"issuer": "http://127.0.0.1:PORT"}, once it listens.
//
// Faults a real provider never produces come from a tampering mode, set with
// POST /__test/tamper?mode=MODE (none | audience | signature | replay): the token endpoint's ID
// token is then re-signed with another audience (and the provider's own key), signed with a key
// the provider never published, or replaced by the first ID token this provider issued (a
// genuine token replayed into a later sign-in, whose nonce is another).

import { createServer } from 'node:http';
import { createPrivateKey, createSign, generateKeyPairSync } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const tools = process.env.ONESTOP_TOOLS_DIR
  || join(dirname(fileURLToPath(import.meta.url)), '..', '.tools');
const { default: Provider } = await import(
  pathToFileURL(join(tools, 'node_modules', 'oidc-provider', 'lib', 'index.js')).href
);

const settings = JSON.parse(process.argv[2] || '{}');
const accounts = settings.accounts || {};

function signingKey(kid) {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { ...privateKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' };
}
const key = signingKey('test-key');
const foreignKey = signingKey('test-key');

let tamper = 'none';
let firstIdToken = null;

const base64url = (value) => Buffer.from(value).toString('base64url');

function resign(idToken, changeClaims, jwk) {
  const [header, payload] = idToken.split('.');
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
  changeClaims(claims);
  const signingInput = `${header}.${base64url(JSON.stringify(claims))}`;
  const signature = createSign('RSA-SHA256')
    .update(signingInput)
    .sign(createPrivateKey({ key: jwk, format: 'jwk' }));
  return `${signingInput}.${signature.toString('base64url')}`;
}

const server = createServer();
await new Promise((resolve) => { server.listen(0, '127.0.0.1', resolve); });
const issuer = `http://127.0.0.1:${server.address().port}`;

const provider = new Provider(issuer, {
  clients: [{
    client_id: settings.client_id,
    client_secret: settings.client_secret,
    redirect_uris: [settings.redirect_uri],
    grant_types: ['authorization_code'],
    response_types: ['code'],
  }],
  jwks: { keys: [key] },
  cookies: { keys: ['onestop test provider cookie key'] },
  claims: { openid: ['sub'], email: ['email', 'email_verified'] },
  // The ID token carries the email claims (as Google's, Microsoft's and Okta's do), not only
  // the userinfo endpoint.
  conformIdTokenClaims: false,
  features: { devInteractions: { enabled: true } },
  ttl: { IdToken: settings.id_token_ttl || 3600 },
  async findAccount(ctx, id) {
    const account = accounts[id];
    if (!account) return undefined;
    return {
      accountId: id,
      async claims() {
        return { sub: id, email: account.email, email_verified: account.email_verified };
      },
    };
  },
  // Consent is the provider's business, not 1Stop's: granted at once.
  async loadExistingGrant(ctx) {
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId,
      accountId: ctx.oidc.session.accountId,
    });
    grant.addOIDCScope('openid email');
    await grant.save();
    return grant;
  },
});

provider.use(async (ctx, next) => {
  await next();
  if (ctx.path === '/token' && ctx.body && ctx.body.id_token && firstIdToken === null) {
    firstIdToken = ctx.body.id_token;
  }
  if (ctx.path === '/token' && ctx.body && ctx.body.id_token && tamper !== 'none') {
    if (tamper === 'replay') {
      ctx.body.id_token = firstIdToken;
    } else if (tamper === 'audience') {
      ctx.body.id_token = resign(ctx.body.id_token, (claims) => { claims.aud = 'someone-else'; }, key);
    } else if (tamper === 'signature') {
      ctx.body.id_token = resign(ctx.body.id_token, () => {}, foreignKey);
    }
  }
});

const handle = provider.callback();
server.on('request', (request, response) => {
  const url = new URL(request.url, issuer);
  if (request.method === 'POST' && url.pathname === '/__test/tamper') {
    tamper = url.searchParams.get('mode') || 'none';
    response.writeHead(204).end();
    return;
  }
  handle(request, response);
});

// The tests may stop reading; a closed pipe must not stop the provider.
process.stdout.on('error', () => {});
process.stdout.write(`${JSON.stringify({ issuer })}\n`);
