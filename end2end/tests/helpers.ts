import { expect, type Page } from "@playwright/test";
import { baseURL } from "../playwright.config";

export const DEMO_PASSWORD = "end-to-end demo password";

/** Signs in through the login form as the demo account of `role`. */
export async function signIn(page: Page, role: "admin" | "owner" | "viewer" | "auditor", next = "/inventory") {
  await page.goto(`/login?next=${encodeURIComponent(next)}`);
  await page.getByLabel("Email").fill(`${role}@steward.local`);
  await page.getByLabel("Password").fill(DEMO_PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(new RegExp(`${next.replace(/[?]/g, "\\?")}$`));
}

/** Waits until the page has hydrated (the app marks the body). */
export async function hydrated(page: Page) {
  await page.waitForSelector("body[data-hydrated=true]", { timeout: 15_000 });
}

/** JSON to the API with the browser's session, from the app's own origin. */
export async function api(page: Page, method: "POST" | "GET", path: string, data?: unknown) {
  const response = await page.request.fetch(path, {
    method,
    data,
    headers: { Origin: baseURL, "Content-Type": "application/json" },
  });
  expect(response.ok(), `${method} ${path}: ${await response.text()}`).toBeTruthy();
  return response.json();
}

/** Every page an admin can open (with one identity and, if there is one, one campaign). */
export async function adminPages(page: Page): Promise<string[]> {
  const listed = await api(page, "GET", "/api/v1/identities?class=ai&limit=1");
  const campaigns = await api(page, "GET", "/api/v1/campaigns");
  const pages = [
    "/",
    "/inventory",
    `/identities/${listed.items[0].id}`,
    "/identities/new",
    "/inbox",
    "/ownership",
    "/reviews",
    "/campaigns",
    "/grants",
    "/grants/policies",
    "/authz/policies",
    "/authz/trust",
    "/posture",
    "/posture/report",
    "/controls",
    "/import",
    "/audit",
    "/search?q=a",
  ];
  const campaign = campaigns.campaigns[0]?.id;
  if (campaign) pages.push(`/campaigns/${campaign}`, `/campaigns/${campaign}/evidence`);
  return pages;
}
