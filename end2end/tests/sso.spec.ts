import { test, expect, type Page } from "@playwright/test";

// Single sign-on against a real OpenID Connect provider (oidc-provider on loopback).

async function signInAtProvider(page: Page, login: string) {
  await expect(page.locator("input[name=login]")).toBeVisible();
  await page.fill("input[name=login]", login);
  await page.fill("input[name=password]", "any password works at the test provider");
  await page.getByRole("button", { name: "Sign-in" }).click();
}

/**
 * Walks the SSO flow with the browser context's cookies up to the provider's redirect
 * back to Steward, and returns that callback URL (code + state) without using it.
 * Browsers follow those redirects by themselves, so this steps through them by hand.
 */
async function callbackUrl(page: Page, login: string): Promise<string> {
  const step = async (url: string, init?: { form?: Record<string, string> }) => {
    const response = init?.form
      ? await page.request.post(url, { form: init.form, maxRedirects: 0 })
      : await page.request.get(url, { maxRedirects: 0 });
    return response;
  };
  const follow = (response: { headers(): Record<string, string> }, base: string) =>
    new URL(response.headers()["location"], base).toString();

  const start = await step(new URL("/auth/oidc/login", page.url() || "http://127.0.0.1:3107").toString());
  expect(start.status()).toBe(303);
  let url = follow(start, start.url());
  // The provider: authorization request → login interaction → back to the authorization → callback.
  for (let hop = 0; hop < 6; hop++) {
    if (url.includes("/auth/oidc/callback")) return url;
    let response = await step(url);
    if (response.status() === 200 && url.includes("/interaction/")) {
      response = await step(url, { form: { prompt: "login", login, password: "any password" } });
    }
    expect([302, 303]).toContain(response.status());
    url = follow(response, url);
  }
  throw new Error(`no callback reached; last URL ${url}`);
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

test("after SSO a next that would leave the site goes home instead", async ({ page }) => {
  // A TAB, percent-encoded: browsers strip it, so "/\t/evil.example" would become
  // "//evil.example", another site.
  await page.goto("/auth/oidc/login?next=%2F%09%2Fevil.example");
  await signInAtProvider(page, "alice");
  await expect(page).toHaveURL(/^http:\/\/127\.0\.0\.1:\d+\/$/);
  await expect(page.locator(".user-area")).toContainText("Alice SSO Admin");
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
  await page.goto("/login");
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
  await page.goto("/login");
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
