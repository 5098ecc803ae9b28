import { test, expect } from "@playwright/test";
import { postgresURL } from "../playwright.config";
import { DEMO_PASSWORD } from "./helpers";

// One smoke run of the browser against a server on PostgreSQL (the rest of the suite
// runs on SQLite; the server tests cover both databases in depth): sign in, the
// register's pages, a change with its audit trail. Skipped without STEWARD_TEST_PG_URL,
// failed instead when STEWARD_TEST_REQUIRE_PG=1 (CI).

const required = process.env.STEWARD_TEST_REQUIRE_PG === "1";

test.describe("on PostgreSQL", () => {
  test.skip(!postgresURL && !required, "STEWARD_TEST_PG_URL is not set: the PostgreSQL smoke run is skipped");

  test("an admin signs in, browses the register and suspends an identity, audited", async ({ page }) => {
    expect(postgresURL, "STEWARD_TEST_REQUIRE_PG=1 but STEWARD_TEST_PG_URL is not set").toBeTruthy();
    const base = postgresURL as string;
    await page.goto(`${base}/login?next=%2Finventory`);
    await page.getByLabel("Email").fill("admin@steward.local");
    await page.getByLabel("Password").fill(DEMO_PASSWORD);
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect(page).toHaveURL(`${base}/inventory`);
    await page.waitForSelector("body[data-hydrated=true]", { timeout: 15_000 });

    // The demo register, server-rendered from PostgreSQL, with a working filter.
    const names = page.locator("#identities tbody th .identity-name");
    await expect(names).toHaveCount(50);
    await page.getByRole("link", { name: "AI", exact: true }).click();
    await expect(page).toHaveURL(/class=ai/);
    const cells = await page.locator("#identities tbody td:nth-child(2)").allTextContents();
    expect(new Set(cells.map((c) => c.trim()))).toEqual(new Set(["AI"]));

    // An active identity, suspended with the kill switch.
    await page.goto(`${base}/inventory?class=ai&status=active`);
    await names.first().click();
    await expect(page).toHaveURL(/\/identities\/[0-9a-f-]{36}$/);
    await page.waitForSelector("body[data-hydrated=true]", { timeout: 15_000 });
    await page.getByText("Suspend (kill switch)…").click();
    const suspend = page.locator("#lifecycle-suspend");
    await suspend.getByLabel("Reason").fill("smoke test on PostgreSQL");
    await suspend.getByLabel(/I confirm: suspend now/).check();
    await suspend.getByRole("button", { name: "Suspend (kill switch)" }).click();
    await expect(page.locator("#identity-status")).toHaveText("suspended");
    await expect(page.locator("#timeline")).toContainText("smoke test on PostgreSQL");

    // The audit trail has the event, and its chain verifies.
    await page.goto(`${base}/audit`);
    await expect(page.locator("main")).toContainText("identity.suspend");
    const verify = await page.request.get(`${base}/api/v1/audit/verify`, { headers: { Origin: base } });
    expect(verify.ok(), await verify.text()).toBeTruthy();
    expect((await verify.json()).first_broken).toBeNull();

    // Every main page renders on PostgreSQL.
    for (const path of ["/", "/ownership", "/campaigns", "/grants", "/authz/policies", "/posture", "/audit", "/search?q=a"]) {
      const response = await page.goto(`${base}${path}`);
      expect(response?.status(), path).toBe(200);
    }
  });
});
