import { test, expect, type Page } from "@playwright/test";
import { signIn, hydrated } from "./helpers";

// The managers' dashboard in a real browser: an evaluation, charts drawn on the
// server whose bars and cells lead to the inventory filtered to the identities behind
// them, the controls, the printable report, and accepting a finding's risk.


function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on("pageerror", (error) => errors.push(error.message));
  page.on("console", (message) => {
    if (message.type() === "error") errors.push(`${message.text()} @ ${message.location().url}`);
  });
  page.on("response", (response) => {
    if (response.status() >= 400) errors.push(`${response.status()} ${response.url()}`);
  });
  return errors;
}

test("evaluate → click a control's cell → the inventory lists its identities", async ({ page }) => {
  const errors = watchErrors(page);
  await signIn(page, "admin", "/posture");
  await hydrated(page);
  await page.getByRole("button", { name: "Evaluate now" }).click();
  await expect(page.locator("#evaluate-result")).toContainText(/Evaluated \d+ identities/);
  await expect(page.locator("#posture-headline")).toBeVisible();

  // The heat map's NHI1 cell (ownership) has findings in the demo register.
  const cell = page.locator('#chart-controls a.hotspot[href="/inventory?control=NHI1"]');
  await expect(cell).toHaveCount(1);
  await cell.click();
  await expect(page).toHaveURL(/\/inventory\?control=NHI1$/);
  await hydrated(page);
  await expect(page.getByLabel("Control")).toHaveValue("NHI1");
  const listed = Number((await page.locator("#match-count").textContent())!.replace(/,/g, ""));
  expect(listed).toBeGreaterThan(0);

  // The first identity listed has an open finding evidencing NHI1.
  await page.locator("table.data-table tbody tr a").first().click();
  await expect(page).toHaveURL(/\/identities\//);
  const nhi1 = page.locator("#findings tr.finding.open", { hasText: "NHI1" });
  await expect(nhi1.first()).toBeVisible();
  expect(errors).toEqual([]);
});

test("a team's bar leads to its identities with findings; the numbers are a table too", async ({ page }) => {
  await signIn(page, "viewer", "/posture");
  await hydrated(page);
  const bar = page.locator("#chart-teams a.hotspot").first();
  const href = await bar.getAttribute("href");
  expect(href).toMatch(/^\/inventory\?(team=[^&]+&)?finding=any$/);
  await bar.click();
  await expect(page).toHaveURL(new RegExp(href!.replace(/[?]/g, "\\?") + "$"));
  await expect(page.getByLabel("Finding")).toHaveValue("any");
  await page.goBack();
  // Every chart has a text alternative and its numbers in a table.
  const section = page.locator("section.chart-card", { has: page.locator("#chart-credential-age") });
  await expect(section.locator("svg title").first()).toHaveText("Credential age");
  await section.getByText("The numbers").click();
  await expect(section.locator("table tbody tr")).toHaveCount(5);
  // The viewer cannot evaluate.
  await expect(page.getByRole("button", { name: "Evaluate now" })).toHaveCount(0);
});

test("the controls page and the printable report of today", async ({ page }) => {
  await signIn(page, "viewer", "/controls");
  await expect(page.getByRole("heading", { level: 2, name: /OWASP Non-Human Identities Top 10/ })).toBeVisible();
  await expect(page.locator("#control-NHI1")).toContainText("no-owner");
  await page.goto("/posture");
  await page.getByRole("link", { name: "Printable report" }).click();
  await expect(page).toHaveURL(/\/posture\/report\?day=\d{4}-\d{2}-\d{2}$/);
  await expect(page.getByRole("heading", { level: 1, name: /Posture report — / })).toBeVisible();
  await page.emulateMedia({ media: "print" });
  await expect(page.locator(".app-header")).toBeHidden();
  await expect(page.getByRole("button", { name: "Print" })).toBeHidden();
});

test("an admin accepts a finding's risk until a date, then reopens it", async ({ page }) => {
  await signIn(page, "admin", "/inventory?finding=no-revocation-path");
  await hydrated(page);
  await page.locator("table.data-table tbody tr a").first().click();
  await hydrated(page);
  const row = page.locator('#findings tr[data-check="no-revocation-path"]');
  await expect(row).toHaveClass(/open/);
  await row.getByText("Accept risk…").click();
  await row.getByLabel("Justification").fill("documented in the vendor contract, review at renewal");
  await row.getByRole("button", { name: "Accept risk" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Risk accepted" })).toBeVisible();
  await expect(page.locator('#findings tr[data-check="no-revocation-path"]')).toHaveClass(/accepted/);
  await expect(page.locator('#findings tr[data-check="no-revocation-path"]')).toContainText("documented in the vendor contract");
  const accepted = page.locator('#findings tr[data-check="no-revocation-path"]');
  await accepted.getByText("Reopen…").click();
  await accepted.getByLabel("Reason").fill("contract ended");
  await accepted.getByRole("button", { name: "Reopen" }).click();
  await expect(page.locator('#findings tr[data-check="no-revocation-path"]')).toHaveClass(/open/);
});
