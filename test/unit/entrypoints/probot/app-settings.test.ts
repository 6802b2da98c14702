// The app's environment (Probot's variables and the router's own) and its manifest.
import { readFileSync } from "node:fs";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { isRouterError } from "../../../../src/core/errors.ts";
import { readAppSettings } from "../../../../src/entrypoints/probot/app-settings.ts";

const BASE = { APP_ID: "123", PRIVATE_KEY: "-----BEGIN PRIVATE KEY-----\\nabc\\n-----END PRIVATE KEY-----", WEBHOOK_SECRET: "s1" };

function usageError(env: Record<string, string>): string {
  try {
    readAppSettings(env);
  } catch (err) {
    if (isRouterError(err, "E_USAGE")) return `${err.message} | ${err.fix ?? ""}`;
    throw err;
  }
  throw new Error("expected E_USAGE");
}

describe("readAppSettings", () => {
  it("reads Probot's variables, with github.com defaults", () => {
    const s = readAppSettings(BASE);
    expect(s).toMatchObject({ appId: 123, secrets: ["s1"], port: 3000, host: "0.0.0.0", apiUrl: "https://api.github.com", serverUrl: "https://github.com", webhookPath: "/api/github/webhooks", logLevel: "info", tickSeconds: 60, concurrency: 8, localAgents: 0, workdir: ".agent-router-app" });
    // A key pasted into one line keeps its line breaks as \n.
    expect(s.privateKey).toEqual({ pem: "-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----" });
    expect(readAppSettings({ ...BASE, PRIVATE_KEY: "", PRIVATE_KEY_PATH: "/keys/app.pem" }).privateKey).toEqual({ path: "/keys/app.pem" });
  });

  it("accepts previous webhook secrets during a rotation, current first", () => {
    expect(readAppSettings({ ...BASE, WEBHOOK_SECRET_PREVIOUS: "old1, old2" }).secrets).toEqual(["s1", "old1", "old2"]);
  });

  it("points at GitHub Enterprise Server with GHE_HOST", () => {
    const s = readAppSettings({ ...BASE, GHE_HOST: "github.example.com" });
    expect([s.apiUrl, s.serverUrl]).toEqual(["https://github.example.com/api/v3", "https://github.example.com"]);
    expect(usageError({ ...BASE, GHE_HOST: "https://github.example.com/" })).toMatch(/^GHE_HOST is not a host name \| Set GHE_HOST/);
  });

  it("names the variable that is missing or wrong, and how to fix it", () => {
    expect(usageError({ ...BASE, APP_ID: "" })).toMatch(/^APP_ID is not set \| Set APP_ID/);
    expect(usageError({ ...BASE, APP_ID: "abc" })).toMatch(/^APP_ID is not a number/);
    expect(usageError({ ...BASE, PRIVATE_KEY: "" })).toMatch(/^PRIVATE_KEY and PRIVATE_KEY_PATH are both unset/);
    expect(usageError({ ...BASE, WEBHOOK_SECRET: "" })).toMatch(/^WEBHOOK_SECRET is not set \| .*refuses unsigned/);
    expect(usageError({ ...BASE, PORT: "80a" })).toMatch(/^PORT is "80a", not a whole number from 0 to 65535/);
    expect(usageError({ ...BASE, LOG_LEVEL: "loud" })).toMatch(/^LOG_LEVEL is "loud"/);
    expect(usageError({ ...BASE, AGENT_ROUTER_CONCURRENCY: "0" })).toMatch(/^AGENT_ROUTER_CONCURRENCY is "0"/);
    expect(usageError({ ...BASE, AGENT_ROUTER_LOCAL_AGENTS: "-1" })).toMatch(/^AGENT_ROUTER_LOCAL_AGENTS is "-1"/);
  });
});

describe("app.yml", () => {
  const manifest = parse(readFileSync(new URL("../../../../app.yml", import.meta.url), "utf8")) as { default_events: string[]; default_permissions: Record<string, string>; hook_attributes: { url: string }; public: boolean };

  it("subscribes to the events the app acts on and asks for the least permissions", () => {
    expect(manifest.default_events).toEqual(["issues", "issue_comment"]);
    expect(manifest.default_permissions).toEqual({ actions: "write", contents: "write", issues: "write", pull_requests: "write", metadata: "read" });
    expect(manifest.hook_attributes.url).toMatch(/\/api\/github\/webhooks$/);
    expect(manifest.public).toBe(false);
  });
});
