import { test, expect } from "@playwright/test";
import { signIn, hydrated, api } from "./helpers";

// Global search from the keyboard: `/` focuses the header's search box from anywhere
// (not while typing in a field), Enter lists what matches, and a result leads to its
// page.

test("/ focuses the search box → an identity's name finds it → its page opens", async ({ page }) => {
  const errors: string[] = [];
  page.on("pageerror", (error) => errors.push(error.message));
  await signIn(page, "admin", "/posture");
  const listed = await api(page, "GET", "/api/v1/identities?class=ai&limit=1");
  const identity = listed.items[0];
  await hydrated(page);
  await page.keyboard.press("/");
  const box = page.getByRole("searchbox", { name: "Search identities, people, campaigns and grants" });
  await expect(box).toBeFocused();
  await box.fill(identity.name);
  await box.press("Enter");
  await expect(page).toHaveURL(/\/search\?q=/);
  const results = page.locator("#search-results");
  await expect(results).toContainText(identity.name);
  await results.getByRole("link", { name: identity.name, exact: true }).click();
  await expect(page).toHaveURL(new RegExp(`/identities/${identity.id}$`));
  await expect(page.getByRole("heading", { level: 1 })).toContainText(identity.name);

  // Typing a slash into a field types it.
  await hydrated(page);
  await box.fill("");
  await box.focus();
  await page.keyboard.type("a/b");
  await expect(box).toHaveValue("a/b");

  // Nothing found says so, and what was searched.
  await page.goto("/search?q=zz-no-such-thing-zz");
  await expect(page.locator("#search-results")).toContainText("Nothing matches “zz-no-such-thing-zz”");
  expect(errors).toEqual([]);
});
