import { test, expect } from "@playwright/test";
import { mkdirSync, statSync } from "node:fs";
import { signIn, hydrated, api } from "./helpers";

// Screenshots of the main pages, in Chromium at a laptop's size, for the README.
// Written to target/screenshots/ on every run (and checked to exist);
// `make screenshots` writes them to docs/screenshots/, where the README shows them.

const dir = process.env.STEWARD_SCREENSHOTS_DIR ?? "../target/screenshots";

test("screenshots of the main pages", async ({ page }) => {
  test.setTimeout(120_000);
  mkdirSync(dir, { recursive: true });
  await page.setViewportSize({ width: 1280, height: 860 });
  await page.emulateMedia({ colorScheme: "light" });
  await signIn(page, "admin", "/inventory");
  const agents = await api(page, "GET", "/api/v1/identities?class=ai&kind=agent&limit=1");
  const shots: [string, string][] = [
    ["home", "/"],
    ["inventory", "/inventory"],
    ["identity", `/identities/${agents.items[0].id}`],
    ["ownership", "/ownership"],
    ["grants", "/grants"],
    ["posture", "/posture"],
    ["agent-policies", "/authz/policies"],
    ["workload-trust", "/authz/trust"],
    ["campaigns", "/campaigns"],
  ];
  for (const [name, path] of shots) {
    await page.goto(path);
    await hydrated(page);
    const file = `${dir}/${name}.png`;
    await page.screenshot({ path: file });
    expect(statSync(file).size, `${file} was written`).toBeGreaterThan(10_000);
  }
});
