import { test, expect, type Page } from "@playwright/test";
import { createHmac } from "node:crypto";
import { secondFactorURL } from "../playwright.config";
import { DEMO_PASSWORD } from "./helpers";

// The second factor in the browser, on a server with Steward's default: admins and
// auditors sign in with a code from an authenticator app after their password.

/** RFC 4648 base32 → bytes. */
function base32(text: string): Buffer {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = "";
  for (const c of text.replace(/=+$/, "").toUpperCase()) {
    const value = alphabet.indexOf(c);
    if (value < 0) throw new Error(`not base32: ${c}`);
    bits += value.toString(2).padStart(5, "0");
  }
  const bytes = [];
  for (let i = 0; i + 8 <= bits.length; i += 8) bytes.push(parseInt(bits.slice(i, i + 8), 2));
  return Buffer.from(bytes);
}

/** The code an authenticator app shows now (RFC 6238: SHA-1, 6 digits, 30 s). */
function totp(secret: string, at = Date.now()): string {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(at / 1000 / 30)));
  const mac = createHmac("sha1", base32(secret)).update(counter).digest();
  const offset = mac[mac.length - 1] & 0xf;
  const value = (mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000;
  return value.toString().padStart(6, "0");
}

async function password(page: Page, email: string) {
  await page.goto(`${secondFactorURL}/login?next=%2Finventory`);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(DEMO_PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
}

test("an admin sets up an authenticator, keeps the recovery codes and signs in with them", async ({ page }) => {
  await password(page, "admin@steward.local");
  // No session yet: the setup page, with a QR code and the key.
  await expect(page).toHaveURL(`${secondFactorURL}/login/second-factor/setup`);
  await expect(page.locator("figure.qr svg")).toBeVisible();
  const secret = await page.locator("#totp-secret").getAttribute("data-secret");
  expect(secret).toMatch(/^[A-Z2-7]+$/);

  await page.getByLabel("Code from the app").fill("000000" === totp(secret!) ? "000001" : "000000");
  await page.getByRole("button", { name: "Confirm and sign in" }).click();
  await expect(page.getByRole("alert")).toContainText("That code is not right");

  await page.getByLabel("Code from the app").fill(totp(secret!));
  await page.getByRole("button", { name: "Confirm and sign in" }).click();
  const codes = await page.locator("#recovery-codes code").allTextContents();
  expect(codes).toHaveLength(10);
  await page.getByRole("link", { name: "Continue" }).click();
  await expect(page).toHaveURL(`${secondFactorURL}/inventory`);
  await expect(page.getByRole("button", { name: "Sign out" })).toBeVisible();

  // Signed out, the password leads to the code form; a recovery code signs in.
  await page.getByRole("button", { name: "Sign out" }).click();
  await password(page, "admin@steward.local");
  await expect(page).toHaveURL(`${secondFactorURL}/login/second-factor`);
  await page.getByLabel("Code").fill(codes[0]);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(`${secondFactorURL}/inventory`);
});

test("an owner signs in with the password alone", async ({ page }) => {
  await password(page, "owner@steward.local");
  await expect(page).toHaveURL(`${secondFactorURL}/inventory`);
});
