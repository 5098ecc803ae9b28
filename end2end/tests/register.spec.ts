import { test, expect, type Page } from "@playwright/test";
import { signIn, hydrated } from "./helpers";

// The register in a real browser: bulk ownership through the owner's inbox, the
// identity page with its delegation diagram, creating an identity within policy,
// the kill switch, and offboarding a person.


/** Page errors and console errors, except failed loads with an `expected` status. */
function watchErrors(page: Page, expected: number[] = []): string[] {
  const errors: string[] = [];
  page.on("pageerror", (error) => errors.push(error.message));
  page.on("console", (message) => {
    const text = message.text();
    if (expected.some((status) => text.includes(`status of ${status} `))) return;
    if (message.type() === "error") errors.push(text);
  });
  return errors;
}

test("filter → bulk-assign an owner → sign in as that owner → accept", async ({ page }) => {
  const errors = watchErrors(page);
  await signIn(page, "admin", "/inventory?env=sandbox&status=active");
  await hydrated(page);
  const matching = Number((await page.locator("#match-count").textContent())!.replace(/,/g, ""));
  expect(matching).toBeGreaterThan(0);

  await page.getByText(/Assign an owner or sponsor to these/).click();
  const panel = page.locator("#bulk-assign");
  await panel.getByLabel("Person (email)").fill("owner@steward.local");
  await panel.getByLabel("Reason").fill("sandbox clean-up, ticket SEC-42");
  // The confirmation is required: without it the browser refuses to submit.
  await panel.getByRole("button", { name: "Assign" }).click();
  await expect(panel.getByRole("status")).toHaveCount(0);
  await panel.getByLabel(/I confirm: assign all/).check();
  await panel.getByRole("button", { name: "Assign" }).click();
  const result = panel.getByRole("status");
  await expect(result).toContainText(/Assigned \d+ of \d+ identities/);
  const assigned = Number((await result.textContent())!.match(/Assigned (\d+)/)![1]);
  expect(assigned).toBeGreaterThan(0);

  // The owner finds them in their inbox and accepts one.
  await page.context().clearCookies();
  await signIn(page, "owner", "/inbox");
  await hydrated(page);
  // Other tests may have assigned the owner something too: count this test's rows.
  const rows = page.locator("#assignments tbody tr", { hasText: "sandbox clean-up, ticket SEC-42" });
  await expect(rows).toHaveCount(assigned);
  const first = (await rows.first().locator("th a").textContent())!.trim();
  await rows.first().getByRole("button", { name: `Accept ${first}` }).click();
  await expect(page.getByRole("status")).toContainText(`You accepted owner of ${first}`);
  await expect(rows).toHaveCount(assigned - 1);

  // The identity now shows its owner and the history.
  await page.goto(`/inventory?q=${encodeURIComponent(first)}`);
  await page.locator("#identities tbody th a", { hasText: first }).first().click();
  await expect(page.getByRole("heading", { level: 1, name: first })).toBeVisible();
  await expect(page.locator("#owner")).toContainText("Olu Owner");
  await expect(page.locator("#timeline")).toContainText("Assignment accepted");
  await expect(page.locator("#timeline")).toContainText("sandbox clean-up, ticket SEC-42");
  expect(errors).toEqual([]);
});

test("an agent's page draws who it acts through, with narrowing permissions", async ({ page }) => {
  await signIn(page, "viewer");
  // Find an orchestrator that delegates (the demo data has some).
  const list = await (await page.request.get("/api/v1/identities?kind=orchestrator&limit=100")).json();
  let target: string | undefined;
  for (const row of list.items) {
    const detail = await (await page.request.get(`/api/v1/identities/${row.id}`)).json();
    if (detail.delegation.edges.length >= 1) {
      target = row.id;
      break;
    }
  }
  expect(target, "an orchestrator with delegations in the demo data").toBeDefined();
  await page.goto(`/identities/${target}`);
  const diagram = page.locator("svg#delegation-diagram");
  await expect(diagram).toBeVisible();
  expect(await diagram.locator("g.node").count()).toBeGreaterThanOrEqual(2);
  await expect(diagram.locator("g.node.focus")).toHaveCount(1);
  await expect(page.locator("figure.delegation figcaption")).toContainText("hands work to sub-agent");
});

test("an admin creates an identity within policy, then suspends it", async ({ page }) => {
  // The refused save answers 400 (bad input), which the browser logs; anything else fails.
  const errors = watchErrors(page, [400]);
  await signIn(page, "admin", "/identities/new");
  await hydrated(page);
  const name = `e2e-agent-${Date.now()}`;
  const inDays = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);
  await page.getByLabel("Name").fill(name);
  await page.getByLabel("Kind").selectOption("agent");
  await page.getByLabel("Environment").fill("prod");
  await page.getByLabel("Expires on").fill(inDays(200));
  await page.getByLabel("Revocation path (runbook URL or procedure)").fill("https://runbooks.example.com/revoke/agents");
  await page.getByLabel("SPIFFE ID").fill("spiffe://prod.example.com/ns/support/sa/e2e");
  await page.getByRole("button", { name: "Save" }).click();
  await expect(page.getByRole("alert")).toContainText("invalid expires_at: the expiry is beyond policy: AI identities may live at most 90 days");

  await page.getByLabel("Expires on").fill(inDays(60));
  await page.getByRole("button", { name: "Save" }).click();
  await expect(page).toHaveURL(/\/identities\/[0-9a-f-]{36}\?done=created$/);
  await expect(page.getByRole("heading", { level: 1, name })).toBeVisible();
  // The toast confirms it and links the audit events of the creation.
  const created = page.locator(".toast", { hasText: "Identity created." });
  await expect(created.getByRole("link", { name: /See audit events? #\d+/ })).toBeVisible();
  await expect(page.locator("#timeline")).toContainText("Created");

  // The kill switch needs a reason and a confirmation.
  await page.getByText("Suspend (kill switch)…").click();
  const suspend = page.locator("#lifecycle-suspend");
  await suspend.getByLabel("Reason").fill("prompt injection suspected");
  await suspend.getByLabel(/I confirm: suspend now/).check();
  await suspend.getByRole("button", { name: "Suspend (kill switch)" }).click();
  await expect(page.locator("#identity-status")).toHaveText("suspended");
  await expect(page.locator(".danger-zone").getByRole("status")).toContainText(/See audit events? #\d+/);
  await expect(page.locator("#timeline")).toContainText("prompt injection suspected");
  expect(errors).toEqual([]);
});

test("deactivating a person who left fills the orphan queue", async ({ page }) => {
  await signIn(page, "admin", "/ownership");
  await hydrated(page);
  // Someone active who owns identities — not the signed-in admin, who owns the API
  // tokens other tests made.
  const row = page
    .locator("#people tbody tr", { has: page.locator(".status-active") })
    .filter({ hasNot: page.locator("td:nth-child(3) a:text-is('0')") })
    .filter({ hasNotText: "Avery Admin" })
    .first();
  const name = (await row.locator("th").innerText()).split("\n")[0].trim();
  await row.getByText("Deactivate…").click();
  await row.getByLabel("Reason").fill("left the company (HR-1)");
  await row.getByLabel(/I confirm/).check();
  await row.getByRole("button", { name: "Deactivate" }).click();
  await expect(page.getByRole("status")).toContainText(`${name} is deactivated`);
  await expect(page.locator("#orphan-queue tbody tr", { hasText: name }).first()).toBeVisible();
});
