import { test, expect, type Page } from "@playwright/test";
import AxeBuilder from "@axe-core/playwright";
import { signIn, hydrated, adminPages } from "./helpers";

// Accessibility: axe-core (WCAG 2.0/2.1 A and AA rules) on every page, signed in as an
// admin (who sees every control) and on the sign-in page, in the light and the dark
// theme: no serious or critical violation. A failure lists each violation with the
// elements it found.

/** The serious and critical violations on `path`, one line each with where. */
async function violations(page: Page, path: string): Promise<string[]> {
  await page.goto(path);
  await hydrated(page);
  const results = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]).analyze();
  return results.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${path}: ${v.id} (${v.impact}): ${v.help}\n    ${v.nodes.map((n) => n.target.join(" ")).slice(0, 5).join("\n    ")}`);
}

async function check(page: Page, paths: string[]) {
  const found: string[] = [];
  for (const colorScheme of ["light", "dark"] as const) {
    await page.emulateMedia({ colorScheme });
    for (const path of paths) {
      found.push(...(await violations(page, path)).map((v) => `[${colorScheme}] ${v}`));
    }
  }
  expect(found, found.join("\n")).toEqual([]);
}

test("the sign-in page has no serious accessibility violation", async ({ page }) => {
  await check(page, ["/login"]);
});

test("every page has no serious accessibility violation", async ({ page }) => {
  test.setTimeout(180_000);
  await signIn(page, "admin", "/inventory");
  const pages = [...(await adminPages(page)), "/no-such-page"];
  await check(page, pages);
});

test("a chosen theme overrides the system's, is kept across pages, and is accessible", async ({ page }) => {
  test.setTimeout(60_000);
  await page.emulateMedia({ colorScheme: "light" });
  await signIn(page, "admin", "/posture");
  await hydrated(page);
  await page.getByRole("form", { name: "Theme" }).getByRole("button", { name: "Dark" }).click();
  await expect(page).toHaveURL(/\/posture$/);
  await expect(page.locator("html")).toHaveAttribute("data-theme", "dark");
  const found = [...(await violations(page, "/posture")), ...(await violations(page, "/inventory"))];
  expect(found, found.join("\n")).toEqual([]);
  await expect(page.locator("html")).toHaveAttribute("data-theme", "dark");
  await page.getByRole("form", { name: "Theme" }).getByRole("button", { name: "System" }).click();
  await expect(page.locator("html")).not.toHaveAttribute("data-theme", /.+/);
});
