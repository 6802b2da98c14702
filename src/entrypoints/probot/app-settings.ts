// The app's environment, read once and checked: Probot's usual variables (APP_ID, PRIVATE_KEY or
// PRIVATE_KEY_PATH, WEBHOOK_SECRET, PORT, HOST, GHE_HOST, LOG_LEVEL) and the router's own. A missing
// or malformed value stops the app before it listens, naming the variable and how to fix it.
import { RouterError } from "../../core/errors.ts";

type Env = Readonly<Record<string, string | undefined>>;

export interface AppSettings {
  appId: number;
  /** The PEM text (PRIVATE_KEY, with literal \n allowed) or the path to read it from. */
  privateKey: { pem: string } | { path: string };
  /** The current secret first, then previous ones (WEBHOOK_SECRET_PREVIOUS, comma-separated). */
  secrets: string[];
  port: number;
  host: string;
  apiUrl: string;
  serverUrl: string;
  webhookPath: string;
  logLevel: "debug" | "info" | "warn" | "error";
  tickSeconds: number;
  concurrency: number;
  /** Agents this machine runs at once for repositories with `executor: inline`; 0: none. */
  localAgents: number;
  /** Where those repositories are cloned. */
  workdir: string;
}

function fail(name: string, problem: string, fix: string): never {
  throw new RouterError("E_USAGE", `${name} ${problem}`, { variable: name }, { fix });
}

function int(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n < min || n > max) fail(name, `is "${raw.slice(0, 20)}", not a whole number from ${min} to ${max}`, `Set ${name} to a number from ${min} to ${max}, or leave it unset for ${fallback}.`);
  return n;
}

export function readAppSettings(env: Env): AppSettings {
  const appId = env["APP_ID"];
  if (!appId || !/^\d+$/.test(appId)) fail("APP_ID", appId ? "is not a number" : "is not set", "Set APP_ID to the GitHub App's id (its settings page, \"App ID\").");
  const pem = env["PRIVATE_KEY"];
  const path = env["PRIVATE_KEY_PATH"];
  if (!pem && !path) fail("PRIVATE_KEY", "and PRIVATE_KEY_PATH are both unset", "Set PRIVATE_KEY to the app's private key (PEM), or PRIVATE_KEY_PATH to the .pem file.");
  const secret = env["WEBHOOK_SECRET"];
  if (!secret) fail("WEBHOOK_SECRET", "is not set", "Set WEBHOOK_SECRET to the app's webhook secret: the app refuses unsigned deliveries.");
  const previous = (env["WEBHOOK_SECRET_PREVIOUS"] ?? "").split(",").map((s) => s.trim()).filter((s) => s !== "");
  const ghe = env["GHE_HOST"];
  if (ghe !== undefined && ghe !== "" && !/^[A-Za-z0-9.-]+(:\d+)?$/.test(ghe)) fail("GHE_HOST", "is not a host name", "Set GHE_HOST to your GitHub Enterprise Server's host, e.g. github.example.com (no scheme, no path).");
  const protocol = env["GHE_PROTOCOL"] || "https";
  const apiUrl = env["GITHUB_API_URL"] || (ghe ? `${protocol}://${ghe}/api/v3` : "https://api.github.com");
  const serverUrl = env["GITHUB_SERVER_URL"] || (ghe ? `${protocol}://${ghe}` : "https://github.com");
  const level = (env["LOG_LEVEL"] || "info").toLowerCase();
  if (!["debug", "info", "warn", "error"].includes(level)) fail("LOG_LEVEL", `is "${level.slice(0, 20)}"`, "Set LOG_LEVEL to debug, info, warn or error.");
  return {
    appId: Number(appId),
    privateKey: pem ? { pem: pem.replace(/\\n/g, "\n") } : { path: path! },
    secrets: [secret, ...previous],
    port: int(env, "PORT", 3000, 0, 65535),
    host: env["HOST"] || "0.0.0.0",
    apiUrl,
    serverUrl,
    webhookPath: env["WEBHOOK_PATH"] || "/api/github/webhooks",
    logLevel: level as AppSettings["logLevel"],
    tickSeconds: int(env, "AGENT_ROUTER_TICK_SECONDS", 60, 0, 86_400),
    concurrency: int(env, "AGENT_ROUTER_CONCURRENCY", 8, 1, 256),
    localAgents: int(env, "AGENT_ROUTER_LOCAL_AGENTS", 0, 0, 64),
    workdir: env["AGENT_ROUTER_WORKDIR"] || ".agent-router-app",
  };
}
