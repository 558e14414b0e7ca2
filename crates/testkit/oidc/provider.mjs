// A real OpenID Connect provider (node-oidc-provider) on loopback for the single sign-on tests:
// `node provider.mjs PORT REDIRECT_URI`. One confidential client (`scanpro` / `scanpro-secret`),
// PKCE required, the development login form (any login, any password); an account's email is
// `{login}@example.org`, vouched for unless the login starts with `unverified`. Prints `ready`.

import Provider from 'oidc-provider';

const [port, redirectUri] = process.argv.slice(2);
const issuer = `http://127.0.0.1:${port}`;

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: 'scanpro',
      client_secret: 'scanpro-secret',
      redirect_uris: [redirectUri],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    },
  ],
  pkce: { required: () => true, methods: ['S256'] },
  claims: { openid: ['sub'], email: ['email', 'email_verified'] },
  findAccount: async (_ctx, id) => ({
    accountId: id,
    claims: async () => ({ sub: id, email: `${id}@example.org`, email_verified: !id.startsWith('unverified') }),
  }),
  features: { devInteractions: { enabled: true } },
  cookies: { keys: ['a test key of the loopback provider'] },
});
// Plain HTTP on loopback: the provider would otherwise insist on TLS behind a proxy.
provider.proxy = false;

provider.on('server_error', (_ctx, error) => console.error('oidc-provider:', error));
provider.listen(Number(port), '127.0.0.1', () => console.log('ready'));
