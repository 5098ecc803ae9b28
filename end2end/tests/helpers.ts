import { expect, type Page } from "@playwright/test";

export const DEMO_PASSWORD = "end-to-end demo password";

/** Signs in through the login form as the demo account of `role`. */
export async function signIn(page: Page, role: "admin" | "owner" | "viewer" | "auditor", next = "/inventory") {
  await page.goto(`/login?next=${encodeURIComponent(next)}`);
  await page.getByLabel("Email").fill(`${role}@steward.local`);
  await page.getByLabel("Password").fill(DEMO_PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(new RegExp(`${next.replace(/[?]/g, "\\?")}$`));
}
