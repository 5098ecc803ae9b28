import { test, expect, type Page } from "@playwright/test";

// Single sign-on against a real OpenID Connect provider (oidc-provider on loopback).

async function signInAtProvider(page: Page, login: string) {
  await expect(page.locator("input[name=login]")).toBeVisible();
  await page.fill("input[name=login]", login);
  await page.fill("input[name=password]", "any password works at the test provider");
  await page.getByRole("button", { name: "Sign-in" }).click();
}

/** Starts SSO and stops at the callback, returning its URL (code + state) unused. */
async function callbackUrl(page: Page, login: string): Promise<string> {
  let callback = "";
  await page.route("**/auth/oidc/callback**", (route) => {
    callback = route.request().url();
    return route.abort();
  });
  await page.goto("/login");
  await page.getByRole("link", { name: "Sign in with single sign-on" }).click();
  // The provider asks for a login unless this browser already has a session there.
  const loginForm = page.locator("input[name=login]");
  await expect.poll(async () => callback !== "" || (await loginForm.isVisible())).toBe(true);
  if (callback === "") await signInAtProvider(page, login);
  await expect.poll(() => callback).not.toBe("");
  await page.unroute("**/auth/oidc/callback**");
  return callback;
}

test("an admin signs in with SSO; the role comes from the groups claim", async ({ page }) => {
  await page.goto("/inventory?class=ai");
  await expect(page).toHaveURL(/\/login\?next=/);
  await page.getByRole("link", { name: "Sign in with single sign-on" }).click();
  await signInAtProvider(page, "alice");
  await expect(page).toHaveURL(/\/inventory\?class=ai$/);
  await expect(page.locator(".user-area")).toContainText("Alice SSO Admin");
  await expect(page.locator(".user-area .badge")).toHaveText("admin");
  await expect(page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Audit" })).toBeVisible();

  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/login\?signed_out=1$/);
  await page.goto("/inventory");
  await expect(page).toHaveURL(/\/login\?next=/);
});

test("a first-time SSO user is provisioned with the mapped role", async ({ page }) => {
  await page.goto("/login");
  await page.getByRole("link", { name: "Sign in with single sign-on" }).click();
  await signInAtProvider(page, "vic");
  await expect(page).toHaveURL(/\/$|\/inventory$/);
  await expect(page.locator(".user-area")).toContainText("Vic SSO Viewer");
  await expect(page.locator(".user-area .badge")).toHaveText("viewer");
  await expect(page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Audit" })).toHaveCount(0);
});

test("an account without a mapped group is refused", async ({ page }) => {
  await page.goto("/login");
  await page.getByRole("link", { name: "Sign in with single sign-on" }).click();
  await signInAtProvider(page, "nora");
  await expect(page).toHaveURL(/\/login\?error=sso_no_role/);
  await expect(page.getByRole("alert")).toContainText("no Steward role");
});

test("a tampered state is refused", async ({ page }) => {
  const callback = await callbackUrl(page, "alice");
  const tampered = callback.replace(/([?&]state=)[^&]+/, "$1tampered-state");
  expect(tampered).not.toBe(callback);
  await page.goto(tampered);
  await expect(page).toHaveURL(/\/login\?error=sso_state/);
  await expect(page.getByRole("alert")).toContainText("already used or does not belong to this browser");
  await page.goto("/inventory");
  await expect(page).toHaveURL(/\/login\?next=/);
});

test("a replayed authorization code is refused", async ({ page }) => {
  const first = await callbackUrl(page, "alice");
  await page.goto(first);
  await expect(page.locator(".user-area")).toContainText("Alice SSO Admin");
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/login\?signed_out=1$/);

  // The same callback again: its one-time state is gone.
  await page.goto(first);
  await expect(page).toHaveURL(/\/login\?error=sso_state/);

  // The old code with a fresh, valid state: the provider refuses to redeem it twice.
  const second = new URL(await callbackUrl(page, "alice"));
  second.searchParams.set("code", new URL(first).searchParams.get("code") ?? "");
  await page.goto(second.toString());
  await expect(page).toHaveURL(/\/login\?error=sso_failed/);
  await page.goto("/inventory");
  await expect(page).toHaveURL(/\/login\?next=/);
});
