import { defineConfig } from "@playwright/test";

// Steward's browser tests run the release build (the one `make run` serves) against a
// fresh SQLite database with demo data, in Debian's Chromium (never a downloaded one).
const port = Number(process.env.STEWARD_E2E_PORT ?? 3107);
const oidcPort = Number(process.env.STEWARD_E2E_OIDC_PORT ?? 4107);
const secondFactorPort = Number(process.env.STEWARD_E2E_SECOND_FACTOR_PORT ?? 3108);
const postgresPort = Number(process.env.STEWARD_E2E_POSTGRES_PORT ?? 3109);
export const baseURL = `http://127.0.0.1:${port}`;
/** A second server that requires a second factor of admins and auditors (the default). */
export const secondFactorURL = `http://127.0.0.1:${secondFactorPort}`;
/** A server on PostgreSQL (when STEWARD_TEST_PG_URL names one): the smoke run of tests/postgres.spec.ts. */
export const postgresURL = process.env.STEWARD_TEST_PG_URL ? `http://127.0.0.1:${postgresPort}` : undefined;
const issuer = `http://127.0.0.1:${oidcPort}`;

export default defineConfig({
  testDir: "./tests",
  // The README's screenshots are made by `make screenshots`, not tested.
  testIgnore: process.env.STEWARD_SCREENSHOTS_DIR ? [] : ["**/screenshots.spec.ts"],
  fullyParallel: false,
  workers: 1,
  retries: 0,
  forbidOnly: true,
  timeout: 30_000,
  reporter: [["list"]],
  use: {
    baseURL,
    trace: "retain-on-failure",
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
      ],
    },
  },
  webServer: [
    {
      command: "node oidc/provider.mjs",
      url: `${issuer}/.well-known/openid-configuration`,
      reuseExistingServer: false,
      timeout: 30_000,
      env: { OIDC_PORT: String(oidcPort), STEWARD_URL: baseURL },
    },
    {
    command: "../target/release/steward serve",
    url: `${baseURL}/readyz`,
    reuseExistingServer: false,
    timeout: 120_000,
    stdout: "pipe",
    stderr: "pipe",
    env: {
      STEWARD_ADDR: `127.0.0.1:${port}`,
      DATABASE_URL: "sqlite://../target/e2e/steward.db",
      STEWARD_SITE_ROOT: "../target/site",
      STEWARD_DEMO_IF_EMPTY: "300",
      STEWARD_DEMO_PASSWORD: "end-to-end demo password",
      STEWARD_GRANT_EXPIRY_SECONDS: "2",
      STEWARD_SIGNING_KEY_DIR: "../target/e2e/keys",
      STEWARD_LOG: "warn",
      STEWARD_OIDC_ISSUER: issuer,
      STEWARD_OIDC_CLIENT_ID: "steward-e2e",
      STEWARD_OIDC_CLIENT_SECRET: "steward-e2e-secret",
      // Every test signs in from 127.0.0.1 with the same few demo accounts, faster than
      // people do: the sign-in rate limits (30 a minute per address, 10 per account by
      // default) are raised here. The server tests check the limits themselves.
      STEWARD_LOGINS_PER_IP_PER_MINUTE: "1000",
      STEWARD_LOGINS_PER_ACCOUNT_PER_MINUTE: "1000",
      // The suite signs in as every demo role many times a minute; an authenticator's
      // code is accepted once per 30 seconds. The second factor has its own server
      // below (tests/second_factor.spec.ts), with Steward's default roles.
      STEWARD_SECOND_FACTOR_ROLES: "none",
    },
    },
    {
    command: "../target/release/steward serve",
    url: `${secondFactorURL}/readyz`,
    reuseExistingServer: false,
    timeout: 120_000,
    stdout: "pipe",
    stderr: "pipe",
    env: {
      STEWARD_ADDR: `127.0.0.1:${secondFactorPort}`,
      DATABASE_URL: "sqlite://../target/e2e/second-factor.db",
      STEWARD_SITE_ROOT: "../target/site",
      STEWARD_DEMO_IF_EMPTY: "50",
      STEWARD_DEMO_PASSWORD: "end-to-end demo password",
      STEWARD_SIGNING_KEY_DIR: "../target/e2e/second-factor-keys",
      STEWARD_LOG: "warn",
    },
    },
    ...(postgresURL
      ? [
          {
            command: "../scripts/e2e-postgres-server.sh",
            url: `${postgresURL}/readyz`,
            reuseExistingServer: false,
            timeout: 120_000,
            stdout: "pipe" as const,
            stderr: "pipe" as const,
            env: {
              STEWARD_TEST_PG_URL: process.env.STEWARD_TEST_PG_URL ?? "",
              STEWARD_ADDR: `127.0.0.1:${postgresPort}`,
              STEWARD_SITE_ROOT: "../target/site",
              STEWARD_DEMO_IF_EMPTY: "300",
              STEWARD_DEMO_PASSWORD: "end-to-end demo password",
              STEWARD_SIGNING_KEY_DIR: "../target/e2e/postgres-keys",
              STEWARD_SECOND_FACTOR_ROLES: "none",
              STEWARD_LOG: "warn",
            },
          },
        ]
      : []),
  ],
});
