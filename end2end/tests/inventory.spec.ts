import { test, expect, type Page } from "@playwright/test";
import { signIn, hydrated, api } from "./helpers";

// Rows of the identity table, as the name cells show them.
async function rowNames(page: Page): Promise<string[]> {
  return page.locator("#identities tbody th .identity-name").allTextContents();
}

async function classesShown(page: Page): Promise<Set<string>> {
  const cells = await page.locator("#identities tbody td:nth-child(2)").allTextContents();
  return new Set(cells.map((c) => c.trim()));
}

test.describe("without JavaScript", () => {
  test.use({ javaScriptEnabled: false });
  test.beforeEach(async ({ page }) => signIn(page, "viewer"));

  test("the inventory is complete server-rendered HTML and filters work as plain links", async ({ page }) => {
    const response = await page.goto("/inventory");
    expect(response?.status()).toBe(200);
    await expect(page.getByRole("heading", { level: 1, name: "Inventory" })).toBeVisible();
    const names = await rowNames(page);
    expect(names.length).toBe(50);
    expect([...names].sort()).toEqual(names); // ordered by name

    await page.getByRole("link", { name: "AI", exact: true }).click();
    await expect(page).toHaveURL(/\/inventory\?class=ai$/);
    expect(await classesShown(page)).toEqual(new Set(["AI"]));

    // The next page continues after the last row, with the filter kept.
    const firstPage = await rowNames(page);
    await page.getByRole("link", { name: "Next page »" }).click();
    await expect(page).toHaveURL(/class=ai.*cursor=/);
    const secondPage = await rowNames(page);
    expect(secondPage.length).toBeGreaterThan(0);
    expect(secondPage[0] > firstPage[firstPage.length - 1]).toBe(true);
    expect(await classesShown(page)).toEqual(new Set(["AI"]));
  });

  test("the filter form submits as a GET and keeps the class filter", async ({ page }) => {
    await page.goto("/inventory?class=machine");
    await page.getByLabel("Search", { exact: true }).fill("integration");
    await page.getByRole("button", { name: "Apply" }).click();
    // Without JavaScript the browser sends every field, blanks included.
    await expect(page).toHaveURL(/\/inventory\?q=integration&class=machine&/);
    const names = await rowNames(page);
    expect(names.length).toBeGreaterThan(0);
    for (const name of names) expect(name).toContain("integration");
  });

  test("a bad filter value gets a readable message and a 400", async ({ page }) => {
    const response = await page.goto("/inventory?class=robot");
    expect(response?.status()).toBe(400);
    await expect(page.getByRole("alert")).toContainText(
      "invalid actor class: unknown value 'robot'; expected one of: machine, ai",
    );
  });

  test("an unknown page is a 404 in the app's layout", async ({ page }) => {
    const response = await page.goto("/no-such-page");
    expect(response?.status()).toBe(404);
    await expect(page.getByRole("heading", { name: "Page not found" })).toBeVisible();
  });
});

test.describe("with JavaScript", () => {
  test.beforeEach(async ({ page }) => signIn(page, "owner"));
  test("the page hydrates and a filter change updates the table without a reload", async ({ page }) => {
    const errors: string[] = [];
    page.on("pageerror", (error) => errors.push(error.message));
    page.on("console", (message) => {
      if (message.type() === "error") errors.push(message.text());
    });

    await page.goto("/inventory");
    // Hydration finished once the WASM bundle is running; the router then handles links.
    await page.waitForSelector("body[data-hydrated=true]", { timeout: 15_000 });
    await page.evaluate(() => ((window as any).__sameDocument = true));
    const before = await rowNames(page);
    expect(new Set(await classesShown(page)).size).toBe(2);

    const requests: string[] = [];
    page.on("request", (request) => requests.push(request.url()));
    await page.getByRole("link", { name: "AI", exact: true }).click();
    await expect(page).toHaveURL(/\/inventory\?class=ai$/);
    await expect.poll(async () => classesShown(page)).toEqual(new Set(["AI"]));
    expect(await rowNames(page)).not.toEqual(before);

    // Same document (no full reload) and the data came from the server function.
    expect(await page.evaluate(() => (window as any).__sameDocument)).toBe(true);
    expect(requests.some((url) => url.includes("/rpc/inventory/list_identities"))).toBe(true);
    expect(requests.some((url) => new URL(url).pathname === "/inventory")).toBe(false);

    // Searching is client-side too.
    await page.getByLabel("Search", { exact: true }).fill("agent");
    await page.getByRole("button", { name: "Apply" }).click();
    await expect(page).toHaveURL(/\/inventory\?class=ai&q=agent$/);
    await expect.poll(async () => (await rowNames(page)).every((n) => n.includes("agent"))).toBe(true);
    expect(await page.evaluate(() => (window as any).__sameDocument)).toBe(true);
    expect(errors).toEqual([]);
  });
});

test("a common search shows its rows first and its counts once the browser has them", async ({ page }) => {
  const errors: string[] = [];
  page.on("pageerror", (error) => errors.push(error.message));
  await signIn(page, "admin", "/posture");
  // A two-letter term is too short for the search index: every match has to be
  // counted, so the server sends the rows without the counts and says so.
  const term = "ar";
  const expected = await api(page, "GET", `/api/v1/identities/facets?q=${term}`);
  expect(expected.total).toBeGreaterThan(0);
  const served = await (await page.request.get(`/inventory?q=${term}`)).text();
  expect(served).toContain('id="counting"');
  expect(served).not.toContain('id="match-count"');
  expect(served).toContain('id="identities"');

  // In the browser the counts arrive after hydration, with the bulk assignment of
  // exactly that many identities.
  const counted = page.waitForRequest((r) => r.url().includes("/rpc/inventory/facets"));
  await page.goto(`/inventory?q=${term}`);
  await hydrated(page);
  await counted;
  await expect(page.locator("#match-count")).toHaveText(expected.total.toLocaleString("en-US"));
  await expect(page.locator("#counting")).toHaveCount(0);
  await expect(page.locator("#bulk-assign summary")).toContainText(
    `these ${expected.total.toLocaleString("en-US")} identities`,
  );

  // Searching in the app (no reload) leaves the counts to the browser the same way.
  await page.goto("/inventory?class=ai");
  await hydrated(page);
  await page.getByLabel("Search", { exact: true }).fill(term);
  await page.getByRole("button", { name: "Apply" }).click();
  await expect(page).toHaveURL(new RegExp(`/inventory\\?class=ai&q=${term}$`));
  const ai = await api(page, "GET", `/api/v1/identities/facets?class=ai&q=${term}`);
  await expect(page.locator("#match-count")).toHaveText(ai.total.toLocaleString("en-US"));

  // A rare term (an identity's name) is counted with the page itself.
  const named = await api(page, "GET", "/api/v1/identities?class=ai&limit=1");
  const exact = await (await page.request.get(`/inventory?q=${encodeURIComponent(named.items[0].name)}`)).text();
  expect(exact).toContain('id="match-count"');
  expect(exact).not.toContain('id="counting"');
  expect(errors).toEqual([]);
});
