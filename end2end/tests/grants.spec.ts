import { test, expect, type Page } from "@playwright/test";
import { signIn, hydrated, api } from "./helpers";
import { baseURL } from "../playwright.config";
import { createLocalJWKSet, jwtVerify } from "jose";

// Just-in-time access in a real browser: the owner clicks Grant on an identity's page,
// the security team approves in its inbox, the grant is listed active, and the expiry
// worker ends it when its minute is up.



test("owner clicks Grant → the security team approves → active → expires", async ({ page }) => {
  test.setTimeout(150_000);
  const errors: string[] = [];
  page.on("pageerror", (error) => errors.push(error.message));

  await signIn(page, "admin", "/grants");
  const name = `e2e-jit-${Date.now()}`;
  const identity = await api(page, "POST", "/api/v1/identities", {
    name,
    kind: "service_account",
    environment: "prod",
    revocation_path: "delete the service account",
    expires_at: new Date(Date.now() + 90 * 86_400_000).toISOString(),
  });
  await api(page, "POST", `/api/v1/identities/${identity.id}/entitlements`, {
    resource: "e2e-vault",
    action: "admin",
    privilege: "admin",
    grant_type: "just_in_time",
  });
  await api(page, "POST", `/api/v1/identities/${identity.id}/assignments`, {
    role: "owner",
    person: "owner@steward.local",
    reason: "e2e grants",
  });
  await api(page, "POST", "/api/v1/grant-policies", {
    name: "e2e vault break-glass",
    resource: "e2e-*",
    action: "admin",
    requesters: "owners",
    approval: "security_team",
    max_minutes: 1,
    reason_required: true,
  });

  // The owner asks for it from the identity's page.
  await page.context().clearCookies();
  await signIn(page, "owner", `/identities/${identity.id}`);
  await hydrated(page);
  const jit = page.locator("#jit");
  await jit.getByLabel("Reason").fill("rotate the vault root token, INC-7");
  await jit.getByRole("button", { name: "Grant e2e-vault:admin" }).click();
  await expect(jit.getByRole("status")).toContainText("Requested: e2e-vault:admin waits for approval");
  await expect(jit.locator("#eligible")).toContainText("pending");

  // The security team approves with one click; the clock starts now.
  await page.context().clearCookies();
  await signIn(page, "admin", "/grants?list=to_approve");
  await hydrated(page);
  await page.getByRole("button", { name: `Approve e2e-vault:admin for ${name}` }).click();
  await expect(page.getByRole("status")).toContainText(`e2e-vault:admin of ${name}: active.`);

  // The active grant yields a short-lived credential that an independent JWT library
  // (jose) verifies against the published keys, and that introspection calls active.
  const mine = await api(page, "GET", `/api/v1/grants?list=active&identity=${identity.id}`);
  expect(mine).toHaveLength(1);
  const issued = await api(page, "POST", `/api/v1/grants/${mine[0].id}/credential`, {});
  const jwks = await (await page.request.get("/.well-known/jwks.json")).json();
  const { payload, protectedHeader } = await jwtVerify(issued.access_token, createLocalJWKSet(jwks), {
    issuer: baseURL,
    audience: "steward-grants",
    algorithms: ["EdDSA"],
  });
  expect(protectedHeader.alg).toBe("EdDSA");
  expect(payload.sub).toBe(`steward:identity:${identity.id}`);
  expect(payload.scope).toBe("e2e-vault:admin");
  expect(payload.exp! - payload.iat!).toBeLessThanOrEqual(60);
  const introspected = await page.request.post("/api/v1/oauth/introspect", {
    form: { token: issued.access_token },
    headers: { Origin: baseURL },
  });
  expect((await introspected.json()).active).toBe(true);

  // Listed among the active grants, with its time left.
  await page.goto("/grants");
  const row = page.locator("#grants tbody tr", { hasText: name });
  await expect(row).toContainText("active");
  await expect(row).toContainText("min left");
  await row.getByRole("link", { name: "e2e-vault:admin" }).click();
  await expect(page.locator("#timeline")).toContainText("grant.activate");

  // The worker expires it once its minute is up.
  await expect(async () => {
    await page.reload();
    await expect(page.locator("h1 .badge")).toHaveText("expired", { timeout: 1_000 });
  }).toPass({ timeout: 120_000, intervals: [5_000] });
  await expect(page.locator("#timeline")).toContainText("grant.expire by system:grants");
  // Its credential is no longer active.
  const after = await page.request.post("/api/v1/oauth/introspect", {
    form: { token: issued.access_token },
    headers: { Origin: baseURL },
  });
  expect(await after.json()).toEqual({ active: false });
  expect(errors).toEqual([]);
});
