import { test, expect } from "@playwright/test";
import { generateKeyPairSync, sign, KeyObject } from "node:crypto";
import { signIn, hydrated, api } from "./helpers";
import { baseURL } from "../playwright.config";

// Workload identity federation in a real browser: an admin creates a trust
// configuration for GitHub Actions tokens (pasting the JWKS of a key made here, as a
// test issuer), the token check shows a token of the right branch matching the CI
// identity and one of another branch refused with the reason; the decision API then
// accepts the token in place of a static secret.

const b64url = (data: Buffer | string) => Buffer.from(data).toString("base64url");

function mint(key: KeyObject, kid: string, claims: Record<string, unknown>): string {
  const header = b64url(JSON.stringify({ alg: "ES256", typ: "JWT", kid }));
  const payload = b64url(JSON.stringify(claims));
  const signature = sign("sha256", Buffer.from(`${header}.${payload}`), { key, dsaEncoding: "ieee-p1363" });
  return `${header}.${payload}.${b64url(signature)}`;
}

test("admin creates a trust configuration → a CI token matches its identity", async ({ page }) => {
  test.setTimeout(120_000);
  const errors: string[] = [];
  page.on("pageerror", (error) => errors.push(error.message));

  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const kid = `e2e-${Date.now()}`;
  const jwks = JSON.stringify({ keys: [{ ...publicKey.export({ format: "jwk" }), kid, alg: "ES256", use: "sig" }] });
  const issuer = `https://ci.e2e-${Date.now()}.test`;
  const now = Math.floor(Date.now() / 1000);
  const claims = (ref: string) => ({
    iss: issuer, aud: "steward", sub: `repo:acme/deploy:ref:${ref}`, repository: "acme/deploy",
    ref, iat: now - 10, nbf: now - 10, exp: now + 600,
  });

  await signIn(page, "admin", "/inventory");
  const runner = await api(page, "POST", "/api/v1/identities", {
    name: `e2e-release-${Date.now()}`,
    kind: "ci_runner",
    environment: "prod",
    purpose: "release the deploy repository",
    revocation_path: "remove the workflow",
    expires_at: new Date(Date.now() + 30 * 86_400_000).toISOString(),
  });

  await page.goto("/authz/trust");
  await hydrated(page);
  const form = page.locator("#new-trust");
  await form.getByLabel("Name").fill(`release-${kid}`);
  await form.getByLabel("Token kind").selectOption("github_actions");
  await form.getByLabel("Issuer").fill(issuer);
  await form.getByLabel("Audience").fill("steward");
  await form.getByLabel("or the JWKS itself").fill(jwks);
  // A rule without a branch condition is refused, with the reason.
  await form.getByLabel("Claim rules").fill(`${runner.id} repository=acme/deploy`);
  await form.getByLabel("Mode").selectOption("enforce");
  await form.getByRole("button", { name: "Check and save" }).click();
  await expect(page.locator("#trust-error")).toContainText("branch or environment");
  await form.getByLabel("Claim rules").fill(`${runner.id} repository=acme/deploy ref=refs/heads/main`);
  await form.getByRole("button", { name: "Check and save" }).click();
  await expect(page.getByRole("status").first()).toContainText(`release-${kid}`);
  await expect(page.locator("#trust-configs")).toContainText(issuer);

  // The token check: main matches the runner, a feature branch is refused by name.
  const check = page.locator("#token-check");
  await check.getByLabel("Token").fill(mint(privateKey, kid, claims("refs/heads/main")));
  await check.getByRole("button", { name: "Check" }).click();
  const result = page.locator("#token-check-result");
  await expect(result).toContainText("Accepted");
  await expect(result).toContainText(runner.id);
  await expect(result).toContainText(`release-${kid}`);
  await check.getByLabel("Token").fill(mint(privateKey, kid, claims("refs/heads/feature")));
  await check.getByRole("button", { name: "Check" }).click();
  await expect(result).toContainText("Refused");
  await expect(result).toContainText("ref=refs/heads/feature");

  // The decision API takes the token as the workload's credential.
  const response = await page.request.fetch("/api/v1/authorize", {
    method: "POST",
    headers: {
      Authorization: `Bearer ${mint(privateKey, kid, claims("refs/heads/main"))}`,
      "Content-Type": "application/json",
      Origin: baseURL,
    },
    data: { principal: runner.id, action: "call_tool", resource: { type: "Tool", id: "deploy" }, context: { environment: "prod" } },
  });
  expect(response.status()).toBe(200);
  expect((await response.json()).decision).toBe("deny"); // authenticated; no allowlist yet

  // The runner's page says how it proves itself.
  await page.goto(`/identities/${runner.id}`);
  await hydrated(page);
  await expect(page.locator("#proof")).toContainText("federated token");
  expect(errors).toEqual([]);
});
