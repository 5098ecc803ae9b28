// A real OpenID Connect provider for the browser tests (npm `oidc-provider`, OpenID
// Certified), on loopback. Its built-in login form accepts any password; the login name
// picks one of the accounts below.
//   OIDC_PORT=4107 STEWARD_URL=http://127.0.0.1:3107 node oidc/provider.mjs
import { Provider } from "oidc-provider";

const port = Number(process.env.OIDC_PORT ?? 4107);
const issuer = `http://127.0.0.1:${port}`;
const steward = process.env.STEWARD_URL ?? "http://127.0.0.1:3107";

const accounts = {
  alice: { email: "alice@sso.test", email_verified: true, name: "Alice SSO Admin", groups: ["steward-admins", "staff"] },
  vic: { email: "vic@sso.test", email_verified: true, name: "Vic SSO Viewer", groups: ["steward-viewers"] },
  nora: { email: "nora@sso.test", email_verified: true, name: "Nora No Role", groups: ["staff"] },
};

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: "steward-e2e",
      client_secret: "steward-e2e-secret",
      redirect_uris: [`${steward}/auth/oidc/callback`],
      grant_types: ["authorization_code"],
      response_types: ["code"],
      token_endpoint_auth_method: "client_secret_basic",
    },
  ],
  pkce: { required: () => true },
  claims: { openid: ["sub"], email: ["email", "email_verified"], profile: ["name"], groups: ["groups"] },
  // Put the scope's claims into the ID token (Steward reads roles from it).
  conformIdTokenClaims: false,
  async findAccount(ctx, sub) {
    const account = accounts[sub];
    if (!account) return undefined;
    return { accountId: sub, async claims() { return { sub, ...account }; } };
  },
  // First-party client: no consent screen.
  async loadExistingGrant(ctx) {
    const id = ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (id) return ctx.oidc.provider.Grant.find(id);
    const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
    grant.addOIDCScope("openid email profile groups");
    await grant.save();
    return grant;
  },
  features: { devInteractions: { enabled: true } },
  cookies: { keys: ["steward-e2e-only"] },
});

provider.listen(port, "127.0.0.1", () => console.log(`oidc-provider at ${issuer}`));
