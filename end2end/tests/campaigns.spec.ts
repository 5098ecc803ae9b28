import { test, expect, type Page } from "@playwright/test";
import { signIn, hydrated, api } from "./helpers";

// An access review in a real browser: the security team launches a template campaign,
// the owner reviews and revokes in their Reviews inbox, the entitlement is gone from
// the identity, and the evidence report shows the decision with its audit hash.



test("admin launches a template → the owner revokes → the entitlement is gone and the evidence shows it", async ({ page }) => {
  const errors: string[] = [];
  page.on("pageerror", (error) => errors.push(error.message));

  // An identity of the owner's with a standing admin entitlement.
  await signIn(page, "admin", "/campaigns");
  const name = `e2e-review-${Date.now()}`;
  const expires = new Date(Date.now() + 90 * 86_400_000).toISOString();
  const identity = await api(page, "POST", "/api/v1/identities", {
    name,
    kind: "service_account",
    environment: "prod",
    revocation_path: "delete the service account",
    expires_at: expires,
  });
  await api(page, "POST", `/api/v1/identities/${identity.id}/entitlements`, {
    resource: "payments-db",
    action: "admin",
    privilege: "admin",
  });
  await api(page, "POST", `/api/v1/identities/${identity.id}/assignments`, {
    role: "owner",
    person: "owner@steward.local",
    reason: "e2e review",
  });

  // The security team launches the privileged entitlement review from its template.
  await page.goto("/campaigns");
  await hydrated(page);
  await page.getByRole("button", { name: "Launch now: Privileged entitlement review" }).click();
  const launched = page.getByRole("status");
  await expect(launched).toContainText(/Campaign "Privileged entitlement review" is open: \d+ items to review/);
  await launched.getByRole("link", { name: "Open it" }).click();
  await expect(page).toHaveURL(/\/campaigns\/[0-9a-f-]{36}$/);
  const campaignUrl = page.url();
  await expect(page.locator("#campaign-progress")).toContainText("0 of");

  // The owner accepts the ownership (leaving their inbox as it was), then reviews: the
  // item shows its context; revoking needs a reason.
  await page.context().clearCookies();
  await signIn(page, "owner", "/inbox");
  await hydrated(page);
  await page.getByRole("button", { name: `Accept ${name}` }).click();
  await expect(page.getByRole("status")).toContainText(`You accepted owner of ${name}`);
  await page.goto("/reviews");
  await hydrated(page);
  const card = page.locator(`#review-${identity.id}`);
  await expect(card).toBeVisible();
  await expect(card).toContainText("payments-db:admin");
  await expect(card).toContainText("Administrative entitlement held standing");
  await card.getByLabel("Revoke: remove the reviewed access").check();
  await card.getByRole("button", { name: `Submit decision for ${name}` }).click();
  await expect(page.getByRole("alert")).toContainText("invalid comment: say why");
  await card.getByLabel(/Comment/).fill("payments moved to the new ledger service");
  await card.getByRole("button", { name: `Submit decision for ${name}` }).click();
  await expect(page.getByRole("status")).toContainText(`${name}: Revoked — payments moved to the new ledger service. Done: removed payments-db:admin.`);
  await expect(page.locator(`#review-${identity.id}`)).toHaveCount(0);

  // The identity's entitlement is removed, by the owner through the review.
  await page.goto(`/identities/${identity.id}`);
  const row = page.locator("#entitlements tbody tr", { hasText: "payments-db" });
  await expect(row).toHaveClass(/removed/);
  await expect(page.locator("#timeline")).toContainText("Entitlement removed by user:owner@steward.local (review campaign:");

  // The evidence report shows the decision, who made it and its audit hash.
  await page.context().clearCookies();
  await signIn(page, "auditor", new URL(campaignUrl).pathname + "/evidence");
  const evidenceRow = page.locator("#evidence-items tbody tr", { hasText: name });
  await expect(evidenceRow).toContainText("Revoked — payments moved to the new ledger service");
  await expect(evidenceRow).toContainText("owner@steward.local");
  await expect(evidenceRow).toContainText("done");
  await expect(evidenceRow.locator("code")).toHaveText(/^[0-9a-f]{64}$/);
  await expect(page.locator("#exceptions")).toContainText(name);
  const csv = await page.request.get(`/api/v1/campaigns/${campaignUrl.split("/").pop()}/evidence.csv`);
  expect(csv.ok()).toBeTruthy();
  expect(await csv.text()).toContain(`${name},service_account`);
  expect(errors).toEqual([]);
});
