import { test, expect, type Page } from "@playwright/test";
import { signIn, hydrated, adminPages } from "./helpers";

// Laptop and tablet: on every page, nothing makes the page itself scroll sideways (wide
// tables scroll inside their own frame), every main navigation link can be seen and
// reached, and breadcrumbs say where the page sits.

const viewports = [
  { name: "tablet portrait", width: 768, height: 1024 },
  { name: "tablet landscape", width: 1024, height: 768 },
  { name: "laptop", width: 1280, height: 800 },
];

/** What overflows the page's width on `path`: the page, or elements sticking out. */
async function overflow(page: Page, path: string): Promise<string[]> {
  await page.goto(path);
  await hydrated(page);
  return page.evaluate(() => {
    const width = document.documentElement.clientWidth;
    const found: string[] = [];
    if (document.documentElement.scrollWidth > width + 1) {
      // Name the widest elements that stick out (outside scrolling frames).
      const culprits = [...document.querySelectorAll("body *")]
        .filter((el) => {
          const box = el.getBoundingClientRect();
          if (box.right <= width + 1 || box.width === 0) return false;
          for (let p = el.parentElement; p; p = p.parentElement) {
            const style = getComputedStyle(p);
            if (style.overflowX === "auto" || style.overflowX === "scroll" || style.overflowX === "hidden") return false;
          }
          return true;
        })
        .slice(0, 3)
        .map((el) => `${el.tagName.toLowerCase()}${el.id ? "#" + el.id : ""}.${[...el.classList].join(".")} ends at ${Math.round(el.getBoundingClientRect().right)}px`);
      found.push(`page is ${document.documentElement.scrollWidth}px wide in ${width}px: ${culprits.join("; ")}`);
    }
    return found;
  });
}

test("every page fits laptops and tablets without sideways scrolling", async ({ page }) => {
  test.setTimeout(240_000);
  await signIn(page, "admin", "/inventory");
  const pages = await adminPages(page);
  const found: string[] = [];
  for (const viewport of viewports) {
    await page.setViewportSize(viewport);
    for (const path of pages) {
      found.push(...(await overflow(page, path)).map((p) => `[${viewport.name}] ${path}: ${p}`));
    }
  }
  expect(found, found.join("\n")).toEqual([]);
});

test("on a tablet the whole navigation, search and breadcrumbs are there", async ({ page }) => {
  await page.setViewportSize({ width: 768, height: 1024 });
  await signIn(page, "admin", "/grants/policies");
  await hydrated(page);
  const nav = page.getByRole("navigation", { name: "Main" });
  for (const link of await nav.getByRole("link").all()) {
    await expect(link).toBeInViewport();
  }
  await expect(page.locator("#global-q")).toBeInViewport();
  const crumbs = page.getByRole("navigation", { name: "Breadcrumb" });
  await expect(crumbs.getByRole("link", { name: "Grants" })).toHaveAttribute("href", "/grants");
  await expect(crumbs.locator("[aria-current=page]")).toHaveText("Policies");
  // Keyboard: the crumb is reachable and leads to its page.
  await crumbs.getByRole("link", { name: "Grants" }).focus();
  await page.keyboard.press("Enter");
  await expect(page).toHaveURL(/\/grants$/);
});
