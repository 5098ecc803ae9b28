import { test, expect, type Page } from "@playwright/test";
import { signIn, hydrated } from "./helpers";

// Importing in a real browser: choose a file, preview what it would change, apply it,
// find the identities in the inventory; the same file again changes nothing.


const REPORT = `user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated
<root_account>,arn:aws:iam::210987654321:root,2019-02-01T10:00:00+00:00,not_supported,2026-10-01T08:00:00+00:00,not_supported,not_supported,true,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A
e2e-import-deployer,arn:aws:iam::210987654321:user/ci/e2e-import-deployer,2023-05-10T12:00:00+00:00,false,N/A,N/A,N/A,false,true,2023-05-10T12:00:00+00:00,2026-11-20T03:00:00+00:00,eu-west-1,s3,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A
e2e-import-reporter,arn:aws:iam::210987654321:user/e2e-import-reporter,2022-01-01T00:00:00+00:00,true,2026-11-01T09:30:00+00:00,2022-01-01T00:00:00+00:00,N/A,false,true,2024-06-01T00:00:00+00:00,2026-11-25T14:00:00+00:00,us-east-1,ce,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A
`;

async function choose(page: Page, name: string, text: string) {
  await page.getByLabel("Format").selectOption("aws-credential-report");
  await page.getByLabel("File", { exact: true }).setInputFiles({ name, mimeType: "text/csv", buffer: Buffer.from(text) });
}

test("upload → preview → apply, and again changes nothing", async ({ page }) => {
  const errors: string[] = [];
  page.on("pageerror", (error) => errors.push(error.message));
  await signIn(page, "admin", "/inventory");
  await hydrated(page);
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Import" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Import identities" })).toBeVisible();

  await choose(page, "credential-report.csv", REPORT);
  await page.getByRole("button", { name: "Preview" }).click();
  const preview = page.locator(".preview-summary");
  await expect(preview).toHaveText(
    "3 records: 2 to create, 0 to update, 0 unchanged, 0 not seen, 1 skipped; 2 credentials, 0 delegations, 1 signals.",
  );
  await expect(page.locator("table.data")).toContainText("e2e-import-reporter");
  // Nothing is written by a preview.
  await page.goto("/inventory?q=e2e-import");
  await expect(page.locator("#identities tbody tr")).toHaveCount(0);

  await page.goto("/import");
  await hydrated(page);
  await choose(page, "credential-report.csv", REPORT);
  await page.getByRole("button", { name: "Preview" }).click();
  await page.getByRole("button", { name: "Apply 2 changes" }).click();
  await expect(page.locator(".toast")).toContainText("Imported credential-report.csv.");

  await page.getByRole("link", { name: "See the inventory" }).click();
  await page.goto("/inventory?q=e2e-import&source=aws");
  await expect(page.locator("#identities tbody tr")).toHaveCount(2);

  await page.goto("/import");
  await hydrated(page);
  await choose(page, "credential-report.csv", REPORT);
  await page.getByRole("button", { name: "Preview" }).click();
  await expect(preview).toContainText("0 to create, 0 to update, 2 unchanged");
  expect(errors).toEqual([]);
});

test("a broken file is refused with the line and field", async ({ page }) => {
  await signIn(page, "admin", "/import");
  await hydrated(page);
  await choose(page, "broken.csv", REPORT.replace("2022-01-01T00:00:00+00:00,true", "last tuesday,true"));
  await page.getByRole("button", { name: "Preview" }).click();
  await expect(page.getByRole("alert")).toContainText(
    "broken.csv: line 4, field user_creation_time: 'last tuesday' is not an ISO 8601 time",
  );
});
