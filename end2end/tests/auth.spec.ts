import { test, expect } from "@playwright/test";
import { DEMO_PASSWORD, signIn } from "./helpers";

test.describe("without JavaScript", () => {
  test.use({ javaScriptEnabled: false });

  test("an anonymous visit goes to the sign-in page and back after signing in", async ({ page }) => {
    await page.goto("/inventory?class=ai");
    await expect(page).toHaveURL(/\/login\?next=%2Finventory%3Fclass%3Dai$/);
    await page.getByLabel("Email").fill("viewer@steward.local");
    await page.getByLabel("Password").fill(DEMO_PASSWORD);
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect(page).toHaveURL(/\/inventory\?class=ai$/);
    await expect(page.getByRole("heading", { level: 1, name: "Inventory" })).toBeVisible();
    await expect(page.locator(".user-area")).toContainText("Vera Viewer");
    await expect(page.locator(".user-area")).toContainText("viewer");
  });

  test("a wrong password is refused with a message", async ({ page }) => {
    await page.goto("/login");
    await page.getByLabel("Email").fill("viewer@steward.local");
    await page.getByLabel("Password").fill("not the password at all");
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect(page).toHaveURL(/\/login\?error=bad_credentials/);
    await expect(page.getByRole("alert")).toHaveText("Wrong email or password.");
  });

  test("signing out ends the session on the server", async ({ page, context }) => {
    await signIn(page, "viewer");
    const [cookie] = (await context.cookies()).filter((c) => c.name === "steward_session");
    expect(cookie.httpOnly).toBe(true);
    expect(cookie.sameSite).toBe("Lax");
    await page.getByRole("button", { name: "Sign out" }).click();
    await expect(page).toHaveURL(/\/login\?signed_out=1$/);
    await expect(page.getByRole("status")).toHaveText("You are signed out.");
    // Replaying the old cookie does not bring the session back.
    await context.addCookies([cookie]);
    await page.goto("/inventory");
    await expect(page).toHaveURL(/\/login\?next=/);
  });

  test("a viewer has no Audit link and is refused the audit page", async ({ page }) => {
    await signIn(page, "viewer");
    await expect(page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Audit" })).toHaveCount(0);
    const response = await page.goto("/audit");
    expect(response?.status()).toBe(403);
    await expect(page.getByRole("alert")).toContainText("the viewer role cannot read the audit trail");
  });
});

test.describe("with JavaScript", () => {
  test("an auditor reads, filters, verifies and exports the audit trail", async ({ page }) => {
    // A failed sign-in to look for.
    await page.goto("/login");
    await page.getByLabel("Email").fill("owner@steward.local");
    await page.getByLabel("Password").fill("a wrong password again");
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect(page.getByRole("alert")).toHaveText("Wrong email or password.");
    await signIn(page, "auditor");
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Audit" }).click();
    await expect(page).toHaveURL(/\/audit$/);
    await page.waitForSelector("body[data-hydrated=true]");
    await expect(page.locator("#audit-events")).toContainText("auth.login");

    await page.getByLabel("Action").fill("auth.login_failed");
    await page.getByRole("button", { name: "Filter" }).click();
    await expect(page).toHaveURL(/action=auth.login_failed/);
    const actions = await page.locator("#audit-events tbody td:nth-child(4)").allTextContents();
    expect(actions.length).toBeGreaterThan(0);
    for (const action of actions) expect(action).toBe("auth.login_failed");

    await page.getByRole("button", { name: "Verify chain" }).click();
    await expect(page.locator("#verify-result")).toHaveText(/^The audit trail is intact: \d+ events checked\.$/);

    const download = page.waitForEvent("download");
    await page.getByRole("link", { name: "Export CSV" }).click();
    const csv = await (await download).createReadStream();
    let text = "";
    for await (const chunk of csv) text += chunk;
    expect(text.split("\n")[0]).toBe("seq,at,actor,action,target,details,prev_hash,hash");
    expect(text).toContain("auth.login_failed");
  });
});
