import { test, expect } from "@playwright/test";
import { signIn, hydrated, api } from "./helpers";
import { baseURL } from "../playwright.config";

// Runtime authorization in a real browser: the security team sets an agent's tool
// allowlist on its page, the test bench shows a tool off the list denied (and one on it
// allowed, naming the policy), and the decision API answers the agent's own token the
// same way; the decisions then show on the agent's page.

test("admin sets an allowlist → the test bench denies → the API denies the same", async ({ page }) => {
  test.setTimeout(120_000);
  const errors: string[] = [];
  page.on("pageerror", (error) => errors.push(error.message));

  await signIn(page, "admin", "/inventory");
  const agent = await api(page, "POST", "/api/v1/identities", {
    name: `e2e-agent-${Date.now()}`,
    kind: "agent",
    environment: "prod",
    purpose: "triage support tickets",
    revocation_path: "disable the agent in the orchestrator",
    expires_at: new Date(Date.now() + 30 * 86_400_000).toISOString(),
  });
  const token = await api(page, "POST", "/api/v1/tokens", {
    name: `e2e-agent-${Date.now()}`,
    scopes: ["authz:decide"],
    expires_in_days: 1,
    agent_id: agent.id,
  });

  await page.goto(`/identities/${agent.id}`);
  await hydrated(page);
  const runtime = page.locator("#runtime");
  await runtime.getByLabel("Tool allowlist").fill("jira.search, github.create_pr");
  await runtime.getByRole("button", { name: "Save limits" }).click();
  await expect(runtime.getByRole("status").first()).toContainText("Limits saved");

  // The test bench: a tool off the list is denied by default, one on it allowed.
  const bench = runtime.locator("#bench-form");
  await bench.getByLabel("Action").selectOption("call_tool");
  await bench.getByLabel("Resource id").fill("shell.exec");
  await bench.getByRole("button", { name: "Evaluate" }).click();
  const result = runtime.locator("#bench-result");
  await expect(result).toContainText("deny");
  await expect(result).toContainText("no policy (default deny)");
  await bench.getByLabel("Resource id").fill("jira.search");
  await bench.getByRole("button", { name: "Evaluate" }).click();
  await expect(result).toContainText("allow");
  await expect(result).toContainText(`agent-${agent.id}-tools`);

  // The decision API, with the agent's own token, answers the same.
  const ask = async (tool: string) => {
    const response = await page.request.fetch("/api/v1/authorize", {
      method: "POST",
      headers: { Authorization: `Bearer ${token.token}`, "Content-Type": "application/json", Origin: baseURL },
      data: {
        principal: agent.id,
        action: "call_tool",
        resource: { type: "Tool", id: tool },
        context: { environment: "prod", task: "triage", session_id: "e2e-session" },
      },
    });
    expect(response.status()).toBe(200);
    return response.json();
  };
  const denied = await ask("shell.exec");
  expect(denied.decision).toBe("deny");
  expect(denied.reasons).toEqual([]);
  const allowed = await ask("jira.search");
  expect(allowed.decision).toBe("allow");
  expect(allowed.reasons).toEqual([`agent-${agent.id}-tools`]);

  // The decisions reach the agent's page (the log is written in the background).
  await expect(async () => {
    await page.reload();
    await expect(page.locator("#decisions")).toContainText("shell.exec", { timeout: 1_000 });
  }).toPass({ timeout: 20_000 });
  await expect(page.locator("#decisions")).toContainText("jira.search");
  expect(errors).toEqual([]);
});

test("admin writes a Cedar policy: a schema error is shown with its place, the fix decides", async ({ page }) => {
  test.setTimeout(120_000);
  const errors: string[] = [];
  page.on("pageerror", (error) => errors.push(error.message));

  await signIn(page, "admin", "/inventory");
  const stamp = Date.now();
  const agent = await api(page, "POST", "/api/v1/identities", {
    name: `e2e-policy-agent-${stamp}`,
    kind: "agent",
    environment: "prod",
    purpose: "clean up tickets",
    revocation_path: "disable the agent in the orchestrator",
    expires_at: new Date(Date.now() + 30 * 86_400_000).toISOString(),
  });
  const limits = await page.request.fetch(`/api/v1/identities/${agent.id}/limits`, {
    method: "PUT",
    headers: { Origin: baseURL, "Content-Type": "application/json" },
    data: { tools: ["jira.search"] },
  });
  expect(limits.ok()).toBeTruthy();

  await page.goto("/authz/policies");
  await hydrated(page);
  await expect(page.locator("#schema")).toContainText("Steward's authorization schema");
  const form = page.locator("#new-policy");
  const name = `e2e-no-deletes-${stamp}`;
  await form.getByLabel("Name").fill(name);
  await form.getByLabel("Cedar policy").fill(
    `forbid(principal == Agent::"${agent.id}", action, resource)\n  when { context.tsak like "*delete*" };`,
  );
  await form.getByRole("button", { name: "Check and save" }).click();
  const problem = page.locator("#policy-error");
  await expect(problem).toContainText("tsak");
  await expect(problem).toContainText("line 2");

  await form.getByLabel("Cedar policy").fill(
    `forbid(principal == Agent::"${agent.id}", action, resource)\n  when { context.task like "*delete*" };`,
  );
  await form.getByRole("button", { name: "Check and save" }).click();
  await expect(page.getByRole("status").first()).toContainText(`Policy '${name}' saved`);
  await expect(page.locator("#authz-policies")).toContainText(`custom-${name}`);

  // The agent's test bench names the new policy when it denies.
  await page.goto(`/identities/${agent.id}`);
  await hydrated(page);
  const bench = page.locator("#bench-form");
  await bench.getByLabel("Action").selectOption("call_tool");
  await bench.getByLabel("Resource id").fill("jira.search");
  await bench.getByLabel("Task").fill("delete stale tickets");
  await bench.getByRole("button", { name: "Evaluate" }).click();
  await expect(page.locator("#bench-result")).toContainText("deny");
  await expect(page.locator("#bench-result")).toContainText(`custom-${name}`);

  // Deleting asks for confirmation, then the policy is gone.
  await page.goto("/authz/policies");
  await hydrated(page);
  const row = page.locator("#authz-policies tr", { hasText: `custom-${name}` });
  await row.getByText("Delete…").click();
  await row.getByLabel("I confirm").check();
  await row.getByRole("button", { name: "Delete" }).click();
  await expect(page.getByRole("status").first()).toContainText("Policy deleted");
  await expect(page.locator("body")).not.toContainText(`custom-${name}`);
  expect(errors).toEqual([]);
});
