// A real OAuth 2.1 / OpenID authorization server for the end-to-end tests of
// the oauth plugin: node-oidc-provider (pinned in tests/package.json) on
// 127.0.0.1, configured as an MCP deployment needs it:
//
// - open dynamic client registration (RFC 7591), loopback http redirect URIs
//   for native clients (RFC 8252);
// - PKCE required (S256, the only method oidc-provider implements);
// - resource indicators (RFC 8707): tokens for an MCP resource (any
//   http://127.0.0.1:PORT/mcp, or exactly $OAUTH_RESOURCE when set) are
//   opaque, carry the `mcp:tools` scope and the resource as their audience;
// - refresh tokens for every authorization-code grant of a client allowed
//   the refresh_token grant (no `offline_access` dance), rotated on each use
//   (reusing a consumed one revokes the whole grant, as oidc-provider does);
// - revocation (RFC 7009) and introspection (RFC 7662); the resource server
//   introspects as the confidential client `mcp-resource-server`;
// - the built-in development login and consent pages (any login/password).
//
// Usage: node provider.mjs [PORT] [--exit-with-stdin]
// (PORT 0 or absent: any free port; --exit-with-stdin: stop when stdin
// closes, so a test that dies takes its provider with it)
// Prints `ISSUER http://127.0.0.1:PORT` on stdout once it listens, then a
// line per token event on stderr (never a token value).
//
// Environment:
//   OAUTH_ACCESS_TTL   access-token lifetime in seconds (default 3600)
//   OAUTH_RESOURCE     the only resource indicator accepted (default: any
//                      http://127.0.0.1:PORT/mcp)
//   OAUTH_INTROSPECTION_SECRET  the resource server's client secret
//                      (default `resource-server-secret`)
//   OAUTH_PRE_REGISTERED  a client registered beforehand, as JSON
//                      `{"client_id", "client_secret", "redirect_uri"}` (a
//                      confidential native client: client_secret_basic, a
//                      loopback redirect URI whose port may vary)
//   OAUTH_NO_REGISTRATION  `1`: no dynamic client registration (as many
//                      identity providers)
//   OAUTH_CODEX_ISSUER  plays Codex's issuer (auth.openai.com) for account
//                      login, as JSON `{"client_id", "redirect_uri",
//                      "account_id", "plan_type", "email"}`: the routes
//                      `/oauth/authorize`, `/oauth/token`, `/oauth/revoke`;
//                      the public client (no secret, PKCE) with that exact
//                      redirect URI; Codex's scopes; id_tokens carrying the
//                      email and OpenAI's `https://api.openai.com/auth`
//                      claim (account id, plan, user id).
//   OAUTH_DEVICE_FLOW  `1`: device authorization (RFC 8628) at /device/auth,
//                      the user code entered at /device; refresh tokens for
//                      device grants too; a line `provider: device poll
//                      MS RESULT` per poll of the token endpoint
//   OAUTH_DEVICE_TTL   the device code's lifetime in seconds (default 600)
//   OAUTH_DEVICE_INTERVAL  the `interval` the device authorization answer
//                      names (default: none, so 5 s by RFC 8628)
//   OAUTH_DEVICE_SLOW_DOWN  `1`: the first poll of each device code that is
//                      not approved yet is answered `slow_down`
//   OAUTH_MACHINE_CLIENT  clients for the client-credentials grant, as JSON
//                      `{"client_id", "client_secret", "jwt_client_id",
//                      "key_file"}`: `client_id` authenticates with the
//                      secret (client_secret_basic), `jwt_client_id` with a
//                      JWT signed by a P-256 key made here, whose PKCS#8
//                      PEM is written to `key_file` (private_key_jwt, ES256)

import { Provider, errors } from 'oidc-provider';

// oidc-provider prints its notices with console.info (stdout), e.g. when
// the device flow's default pages are first shown; stdout is for the
// ISSUER line only, whose reader stops listening after it.
console.info = (...args) => console.error(...args);

const args = process.argv.slice(2);
const exitWithStdin = args.includes('--exit-with-stdin');
const positional = args.filter((arg) => arg !== '--exit-with-stdin');
const port = Number(positional[0] ?? 0);
if (positional.length > 1 || !Number.isInteger(port) || port < 0 || port > 65535) {
  console.error('usage: node provider.mjs [PORT] [--exit-with-stdin]');
  process.exit(2);
}
const accessTtl = Number(process.env.OAUTH_ACCESS_TTL ?? 3600);
if (!Number.isInteger(accessTtl) || accessTtl <= 0) {
  console.error(`OAUTH_ACCESS_TTL must be a positive number of seconds, not ${process.env.OAUTH_ACCESS_TTL}`);
  process.exit(2);
}
const onlyResource = process.env.OAUTH_RESOURCE;
const introspectionSecret = process.env.OAUTH_INTROSPECTION_SECRET ?? 'resource-server-secret';
const MCP_SCOPE = 'mcp:tools';
const preRegistered = process.env.OAUTH_PRE_REGISTERED ? JSON.parse(process.env.OAUTH_PRE_REGISTERED) : null;
const dynamicRegistration = process.env.OAUTH_NO_REGISTRATION !== '1';
const codexIssuer = process.env.OAUTH_CODEX_ISSUER ? JSON.parse(process.env.OAUTH_CODEX_ISSUER) : null;
const OPENAI_AUTH_CLAIM = 'https://api.openai.com/auth';
const deviceFlow = process.env.OAUTH_DEVICE_FLOW === '1';
const deviceTtl = Number(process.env.OAUTH_DEVICE_TTL ?? 600);
const deviceInterval = process.env.OAUTH_DEVICE_INTERVAL ? Number(process.env.OAUTH_DEVICE_INTERVAL) : null;
const deviceSlowDown = process.env.OAUTH_DEVICE_SLOW_DOWN === '1';
const machine = process.env.OAUTH_MACHINE_CLIENT ? JSON.parse(process.env.OAUTH_MACHINE_CLIENT) : null;
const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

// The public key of the private_key_jwt client; its private key goes to
// `key_file` for the client under test.
let machineJwks = null;
if (machine?.jwt_client_id) {
  const { generateKeyPairSync } = await import('node:crypto');
  const { writeFileSync } = await import('node:fs');
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  writeFileSync(machine.key_file, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  machineJwks = { keys: [{ ...publicKey.export({ format: 'jwk' }), use: 'sig', alg: 'ES256' }] };
}

function isMcpResource(indicator) {
  if (onlyResource) {
    return indicator === onlyResource;
  }
  return /^http:\/\/127\.0\.0\.1:\d{1,5}\/mcp$/.test(indicator);
}

// The issuer must be known before the provider is made, so listen first on
// a plain http server and hand its requests to the provider afterwards.
const { createServer } = await import('node:http');
let handler = (_req, res) => {
  res.statusCode = 503;
  res.end();
};
const server = createServer((req, res) => handler(req, res));
await new Promise((resolve, reject) => {
  server.once('error', reject);
  server.listen(port, '127.0.0.1', resolve);
});
const issuer = `http://127.0.0.1:${server.address().port}`;

const configuration = {
  clients: [
    {
      client_id: 'mcp-resource-server',
      client_secret: introspectionSecret,
      grant_types: [],
      response_types: [],
      redirect_uris: [],
      token_endpoint_auth_method: 'client_secret_basic',
    },
    ...(preRegistered
      ? [
          {
            client_id: preRegistered.client_id,
            client_secret: preRegistered.client_secret,
            application_type: 'native',
            grant_types: ['authorization_code', 'refresh_token'],
            response_types: ['code'],
            redirect_uris: [preRegistered.redirect_uri],
            token_endpoint_auth_method: 'client_secret_basic',
          },
        ]
      : []),
    ...(machine
      ? [
          {
            client_id: machine.client_id,
            client_secret: machine.client_secret,
            grant_types: ['client_credentials'],
            response_types: [],
            redirect_uris: [],
            token_endpoint_auth_method: 'client_secret_basic',
            scope: MCP_SCOPE,
          },
          ...(machineJwks
            ? [
                {
                  client_id: machine.jwt_client_id,
                  grant_types: ['client_credentials'],
                  response_types: [],
                  redirect_uris: [],
                  token_endpoint_auth_method: 'private_key_jwt',
                  token_endpoint_auth_signing_alg: 'ES256',
                  jwks: machineJwks,
                  scope: MCP_SCOPE,
                },
              ]
            : []),
        ]
      : []),
    ...(codexIssuer
      ? [
          {
            client_id: codexIssuer.client_id,
            application_type: 'web',
            grant_types: ['authorization_code', 'refresh_token'],
            response_types: ['code'],
            redirect_uris: [codexIssuer.redirect_uri],
            token_endpoint_auth_method: 'none',
          },
        ]
      : []),
  ],
  ...(codexIssuer
    ? {
        routes: {
          authorization: '/oauth/authorize',
          token: '/oauth/token',
          revocation: '/oauth/revoke',
        },
        claims: {
          openid: ['sub', OPENAI_AUTH_CLAIM],
          email: ['email', 'email_verified'],
          profile: ['name'],
        },
        // The account's claims go in the id_token itself, as OpenAI's do.
        conformIdTokenClaims: false,
        findAccount: async (_ctx, id) => ({
          accountId: id,
          claims: async () => ({
            sub: id,
            name: id,
            email: codexIssuer.email,
            email_verified: true,
            [OPENAI_AUTH_CLAIM]: {
              chatgpt_account_id: codexIssuer.account_id,
              chatgpt_plan_type: codexIssuer.plan_type,
              chatgpt_user_id: `user-${id}`,
            },
          }),
        }),
      }
    : {}),
  cookies: { keys: ['codex-oauth-test-cookie-key'] },
  scopes: [
    'openid',
    'offline_access',
    MCP_SCOPE,
    ...(codexIssuer ? ['profile', 'email', 'api.connectors.read', 'api.connectors.invoke'] : []),
  ],
  pkce: { required: () => true },
  features: {
    devInteractions: { enabled: true },
    registration: { enabled: dynamicRegistration },
    revocation: { enabled: true },
    introspection: { enabled: true },
    deviceFlow: { enabled: deviceFlow },
    clientCredentials: { enabled: Boolean(machine) },
    resourceIndicators: {
      enabled: true,
      // A client that names no resource gets none (an OpenID login).
      defaultResource: async (_ctx, _client, oneOf) => oneOf,
      // The token endpoint may omit `resource`: the granted one is used.
      useGrantedResource: async () => true,
      getResourceServerInfo: async (_ctx, resourceIndicator) => {
        if (!isMcpResource(resourceIndicator)) {
          throw new errors.InvalidTarget(`unknown resource ${resourceIndicator}`);
        }
        return {
          scope: MCP_SCOPE,
          audience: resourceIndicator,
          accessTokenTTL: accessTtl,
          accessTokenFormat: 'opaque',
        };
      },
    },
  },
  ttl: {
    AccessToken: accessTtl,
    AuthorizationCode: 60,
    Grant: 24 * 60 * 60,
    Interaction: 10 * 60,
    DeviceCode: deviceTtl,
    ClientCredentials: accessTtl,
    RefreshToken: 24 * 60 * 60,
    Session: 24 * 60 * 60,
  },
  // Refresh tokens outlive the browser session, and are issued to every
  // client registered for the refresh_token grant.
  expiresWithSession: async () => false,
  issueRefreshToken: async (_ctx, client, code) =>
    client.grantTypeAllowed('refresh_token') && ['AuthorizationCode', 'DeviceCode'].includes(code.kind),
  rotateRefreshToken: true,
};

const provider = new Provider(issuer, configuration);
provider.on('server_error', (_ctx, error) => console.error(`provider: server_error: ${error.stack ?? error}`));
const note = (what) => (_ctx, ...rest) => {
  const detail = rest.map((item) => item?.message ?? '').filter(Boolean).join(' ');
  console.error(`provider: ${what}${detail ? `: ${detail}` : ''}`);
};
for (const event of [
  'registration_create.success',
  'grant.success',
  'grant.error',
  'grant.revoked',
  'revocation.error',
  'introspection.error',
  'refresh_token.consumed',
  'authorization.error',
  'registration_create.error',
  'device_authorization.success',
  'device_authorization.error',
]) {
  provider.on(event, note(event));
}
if (deviceFlow) {
  const slowedDown = new Set();
  provider.use(async (ctx, next) => {
    await next();
    if (ctx.path === '/device/auth' && ctx.status === 200 && deviceInterval) {
      ctx.body = { ...ctx.body, interval: deviceInterval };
    }
    const params = ctx.oidc?.params;
    if (ctx.path === '/token' && params?.grant_type === DEVICE_GRANT) {
      const pending = ctx.body?.error === 'authorization_pending';
      if (deviceSlowDown && pending && !slowedDown.has(params.device_code)) {
        slowedDown.add(params.device_code);
        ctx.body = { error: 'slow_down', error_description: 'poll less often' };
      }
      console.error(`provider: device poll ${Date.now()} ${ctx.body?.error ?? 'tokens'}`);
    }
  });
}
handler = provider.callback();

const shutdown = () => {
  server.close();
  process.exit(0);
};
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
if (exitWithStdin) {
  process.stdin.on('end', shutdown);
  process.stdin.on('error', shutdown);
  process.stdin.resume();
}

process.stdout.write(`ISSUER ${issuer}\n`);
