import { test, expect } from "@playwright/test";
import { signIn, hydrated } from "./helpers";

// `make build` splits the WASM (`cargo leptos build --split`): the home and sign-in pages
// are in the main bundle, the other pages in lazily loaded groups, fetched when one of
// their pages is first shown.
test("a page group's code is fetched when one of its pages is first shown", async ({ page }) => {
  const errors: string[] = [];
  page.on("pageerror", (error) => errors.push(error.message));
  await signIn(page, "admin", "/");
  const wasm: string[] = [];
  page.on("request", (request) => {
    const path = new URL(request.url()).pathname;
    if (path.endsWith(".wasm")) wasm.push(path);
  });

  await page.goto("/");
  await hydrated(page);
  const firstLoad = new Set(wasm);
  // The home page needs the main bundle only.
  expect([...firstLoad]).toEqual(["/pkg/steward.wasm"]);

  // Navigating in the browser to the inventory fetches its chunk, and the page works.
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Inventory" }).click();
  await expect(page).toHaveURL(/\/inventory$/);
  await expect(page.getByRole("heading", { level: 1, name: "Inventory" })).toBeVisible();
  await expect.poll(() => wasm.filter((path) => !firstLoad.has(path)).length).toBeGreaterThan(0);
  await page.getByRole("link", { name: "AI", exact: true }).click();
  await expect(page).toHaveURL(/\/inventory\?class=ai$/);
  const classes = await page.locator("#identities tbody td:nth-child(2)").allTextContents();
  expect(new Set(classes.map((c) => c.trim()))).toEqual(new Set(["AI"]));

  // Back to the home page: nothing new is fetched.
  const beforeBack = new Set(wasm);
  await page.goBack();
  await page.goBack();
  await expect(page).toHaveURL(/\/$/);
  await expect(page.getByRole("heading", { level: 1 })).toBeVisible();
  expect(wasm.filter((path) => !beforeBack.has(path))).toEqual([]);
  expect(errors).toEqual([]);
});
