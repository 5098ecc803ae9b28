import { test, expect, type Page } from "@playwright/test";
import { signIn, hydrated } from "./helpers";

// The README's first tour, done the way a newcomer does it: only the pages, no API and
// no ids typed in. Sign in as the demo security team, find the orphaned agent from the
// home page, give it an owner, let the owner accept and grant it short-lived access with
// one click, and see the posture move. Every change confirms itself with a toast that
// links (or, for roles that cannot read the trail, names) its audit event.

const AGENT = "invoice-triage-agent";

/** The number in a home card. */
async function homeCount(page: Page, card: string): Promise<number> {
  return Number((await page.locator(`#home-${card} .home-count`).textContent())!.replace(/,/g, ""));
}

/** Evaluates now on the posture page and reads the open `no-owner` findings. */
async function openNoOwnerFindings(page: Page): Promise<number> {
  await page.goto("/posture");
  await hydrated(page);
  await page.getByRole("button", { name: "Evaluate now" }).click();
  await expect(page.locator("#evaluate-result")).toContainText(/Evaluated \d+ identities/);
  const row = page.locator("tr", { has: page.locator("td", { hasText: /^no-owner$/ }) }).first();
  return Number((await row.locator("td.num").textContent())!.replace(/,/g, ""));
}

test("README tour: orphaned agent → owner → one-click grant → posture moves", async ({ page }) => {
  test.setTimeout(120_000);
  const errors: string[] = [];
  page.on("pageerror", (error) => errors.push(error.message));

  // The security team's home page says what needs action; the posture is read fresh.
  await signIn(page, "admin", "/");
  const orphansBefore = await homeCount(page, "orphaned");
  expect(orphansBefore).toBeGreaterThan(0);
  const findingsBefore = await openNoOwnerFindings(page);

  // Home → the orphaned identities → the AI ones → the agent.
  await page.goto("/");
  await page.locator("#home-orphaned").getByRole("link").click();
  await expect(page).toHaveURL(/\/inventory\?orphaned=true/);
  await page.getByRole("navigation", { name: "Actor class" }).getByRole("link", { name: "AI" }).click();
  await expect(page).toHaveURL(/class=ai/);
  await hydrated(page);
  await page.locator("#inventory-search").fill("invoice-triage");
  await page.locator("#inventory-search").press("Enter");
  await page.getByRole("link", { name: AGENT, exact: true }).click();
  await expect(page.getByRole("heading", { level: 1 })).toHaveText(AGENT);
  await expect(page.getByRole("navigation", { name: "Breadcrumb" })).toContainText("Inventory");
  await expect(page.locator("#owner")).toContainText(/none|no owner/i);

  // Give it an owner; the toast links to the audit event that records it.
  await hydrated(page);
  const assign = page.locator("details", { hasText: "Assign an owner or sponsor…" });
  await assign.getByText("Assign an owner or sponsor…").click();
  await assign.getByLabel("Person (email)").fill("owner@steward.local");
  await assign.getByLabel("Reason").fill("Payments runs this agent (tour)");
  await assign.getByRole("button", { name: "Assign", exact: true }).click();
  const assigned = page.getByRole("status").filter({ hasText: "(waiting for their answer)" });
  await expect(assigned).toBeVisible();
  // The assignment, and the findings it changed: "See audit events #94–#95".
  const auditLink = assigned.getByRole("link", { name: /See audit events? #\d+/ });
  await expect(auditLink).toBeVisible();
  const [, first, last] = (await auditLink.textContent())!.match(/#(\d+)(?:–#(\d+))?/)!;
  const count = last ? Number(last) - Number(first) + 1 : 1;
  await auditLink.click();
  await expect(page).toHaveURL(new RegExp(`/audit\\?limit=${count}&before=${Number(last ?? first) + 1}$`));
  await expect(page.locator("#audit-events tbody tr")).toHaveCount(count);
  await expect(page.locator("#audit-events")).toContainText("owner@steward.local");

  // The owner accepts from their inbox, then grants the agent an hour of write access
  // with one click; the policy approves it at once.
  await page.context().clearCookies();
  await signIn(page, "owner", "/inbox");
  await hydrated(page);
  await page.getByRole("button", { name: `Accept ${AGENT}` }).click();
  const accepted = page.getByRole("status").filter({ hasText: `You accepted owner of ${AGENT}.` });
  await expect(accepted).toBeVisible();
  // Owners cannot read the trail: the toast names the event instead of linking it.
  await expect(accepted).toContainText(/Recorded as audit events? #\d+/);
  await expect(accepted.getByRole("link", { name: /audit event/ })).toHaveCount(0);
  await accepted.getByRole("button", { name: "Dismiss this message" }).click();
  await expect(accepted).toBeHidden();

  // The header's search finds it (press / to get there).
  await page.keyboard.press("/");
  await expect(page.locator("#global-q")).toBeFocused();
  await page.keyboard.type(AGENT);
  await page.keyboard.press("Enter");
  await expect(page).toHaveURL(/\/search\?q=invoice-triage-agent/);
  await page.getByRole("link", { name: AGENT, exact: true }).first().click();
  await expect(page.getByRole("heading", { level: 1 })).toHaveText(AGENT);
  await expect(page.locator("#owner")).toContainText("owner@steward.local");
  await hydrated(page);
  const jit = page.locator("#jit");
  await jit.getByLabel("Minutes").fill("30");
  await jit.getByLabel("Reason").fill("month-end payment run, FIN-881");
  await jit.getByRole("button", { name: "Grant billing-db:write" }).click();
  await expect(jit.getByRole("status")).toContainText("Granted: billing-db:write is active until");
  await expect(jit.locator("#eligible")).toContainText("active");

  // Back as the security team: one orphan fewer, and one no-owner finding fewer.
  await page.context().clearCookies();
  await signIn(page, "admin", "/");
  expect(await homeCount(page, "orphaned")).toBe(orphansBefore - 1);
  expect(await openNoOwnerFindings(page)).toBe(findingsBefore - 1);
  expect(errors).toEqual([]);
});
