/**
 * Failure classification (agent-clis.md §8): structured signals first, then text patterns on the
 * CLI's error channel, with the cases a predecessor (gabrielkoerich/orchestrator) pinned.
 */
import { describe, expect, it } from "vitest";
import type { FailureClass, FailureSignals } from "../../../src/core/agents/classify-failure.ts";
import { classifyFailure, FAILOVER_CLASSES, FAILURE_CLASSES, failsOver } from "../../../src/core/agents/classify-failure.ts";

const sig = (s: Partial<FailureSignals>): FailureSignals => ({ timedOut: false, errorText: "", ...s });
type Row = [string, Partial<FailureSignals>, FailureClass];

const structured: Row[] = [
  ["claude api_error_status 401", { apiStatus: 401, errorText: "Invalid API key · Fix external API key" }, "auth"],
  ["api status 403", { apiStatus: 403 }, "auth"],
  ["claude api_error_status 429", { apiStatus: 429, errorText: "API Error: Request rejected (429) · slow down" }, "rate_limit"],
  ["429 whose error says quota", { apiStatus: 429, errorText: "insufficient_quota: You exceeded your current quota" }, "usage_limit"],
  ["429 whose error says usage limit", { apiStatus: 429, errorText: "Claude AI usage limit reached|1767225600" }, "usage_limit"],
  ["claude api_error_status 529", { apiStatus: 529, errorText: "API Error: 529 Overloaded. This is a server-side issue" }, "outage"],
  ["claude api_error_status 500", { apiStatus: 500, errorText: "API Error: 500 Internal server error." }, "outage"],
  ["api status 502", { apiStatus: 502 }, "outage"],
  ["expired OAuth token with status 401", { apiStatus: 401, errorText: "OAuth token has expired. Please obtain a new token or refresh your existing token." }, "auth"],
  ["api_retry authentication_failed", { apiError: "authentication_failed" }, "auth"],
  ["api_retry billing_error", { apiError: "billing_error" }, "auth"],
  ["api_retry rate_limit", { apiError: "rate_limit" }, "rate_limit"],
  ["api_retry overloaded", { apiError: "overloaded" }, "outage"],
  ["api_retry server_error", { apiError: "server_error" }, "outage"],
  ["opencode statusCode 401", { apiStatus: 401, errorText: "APIError: Incorrect API key provided" }, "auth"],
  ["opencode statusCode 429", { apiStatus: 429, errorText: "APIError: Too Many Requests" }, "rate_limit"],
  ["codex 401", { apiStatus: 401, errorText: "unexpected status 401 Unauthorized: Incorrect API key provided, url: http://127.0.0.1/v1/responses" }, "auth"],
  ["codex 429", { apiStatus: 429, errorText: "exceeded retry limit, last status: 429 Too Many Requests" }, "rate_limit"],
  ["codex 5xx (no status in the text)", { errorText: "We’re currently experiencing high demand, which may cause temporary errors." }, "outage"],
  // Structured beats text, and the order among structured signals holds.
  ["401 status beats rate-limit text", { apiStatus: 401, errorText: "429 Too Many Requests" }, "auth"],
  ["529 status beats auth text", { apiStatus: 529, errorText: "unauthorized" }, "outage"],
  ["auth status beats a rate_limit retry", { apiStatus: 401, apiError: "rate_limit" }, "auth"],
  ["a missing executable beats everything", { spawnError: "spawn codex ENOENT", apiStatus: 401, apiError: "rate_limit", timedOut: true }, "tooling_missing"],
  ["an unclassified status falls through to text", { apiStatus: 404, errorText: "model gpt-x does not exist" }, "agent_error"],
];

const text: Row[] = [
  // rate / usage limits (predecessor cases)
  ["429 Too Many Requests", {}, "rate_limit"],
  ["rate limit exceeded", {}, "rate_limit"],
  ["Rate limit reached for gpt-5 in organization org-x on tokens per min (TPM)", {}, "rate_limit"],
  ["monthly limit reached for this plan", {}, "usage_limit"],
  ["quota exceeded", {}, "usage_limit"],
  ["Error: insufficient_quota", {}, "usage_limit"],
  ["service overloaded", {}, "rate_limit"],
  ["You've hit your limit · resets 1pm", {}, "usage_limit"],
  ["hit your limit", {}, "usage_limit"],
  ["you've hit the limit", {}, "usage_limit"],
  ["Usage limit reached for this plan", {}, "usage_limit"],
  ["Error: RATE_LIMIT from provider", {}, "rate_limit"],
  // not usage limits
  ["503 Service Unavailable", {}, "outage"],
  ["SSH: temporarily unavailable", {}, "agent_error"],
  ["unauthorized: invalid api key", {}, "auth"],
  // auth / billing
  ["Error: authentication failed for this token", {}, "auth"],
  ["Your credit balance is too low to access the API", {}, "auth"],
  ["402 Payment Required", {}, "auth"],
  ["Error: expired api key", {}, "auth"],
  ["no api key configured", {}, "auth"],
  ["invalid api key (429 later)", {}, "auth"],
  // outage
  ["502 Bad Gateway", {}, "outage"],
  ["Internal Server Error", {}, "outage"],
  ["connect ECONNREFUSED 127.0.0.1:4010", {}, "outage"],
  ["read ECONNRESET", {}, "outage"],
  ["getaddrinfo ENOTFOUND api.anthropic.com", {}, "outage"],
  // missing tooling
  ["bash: codex: command not found", {}, "tooling_missing"],
  ["spawn codex ENOENT", {}, "tooling_missing"],
  ["sh: 1: opencode: not found", {}, "tooling_missing"],
  ["env: node: No such file or directory while trying to exec /usr/bin/env", {}, "tooling_missing"],
  ["npm ERR! gh: command not found (needs auth: unauthorized)", {}, "tooling_missing"],
  // timeouts and the rest
  ["", { timedOut: true }, "timeout"],
  ["tests still running", { timedOut: true }, "timeout"],
  ["429 Too Many Requests", { timedOut: true }, "rate_limit"],
  ["503 Service Unavailable", { timedOut: true }, "outage"],
  ["", { timedOut: true, apiError: "overloaded" }, "outage"],
  ["", {}, "agent_error"],
  ["TypeError: Cannot read properties of undefined (reading 'map')", {}, "agent_error"],
  ["Error: 3 tests failed", {}, "agent_error"],
  ["error_max_turns", {}, "agent_error"],
  ["error_max_budget_usd", {}, "agent_error"],
];

describe("classifyFailure", () => {
  it.each(structured)("structured: %s", (_name, s, expected) => {
    expect(classifyFailure(sig(s))).toBe(expected);
  });

  it.each(text)("text: %j %j", (errorText, s, expected) => {
    expect(classifyFailure(sig({ ...s, errorText }))).toBe(expected);
  });

  // Regression (was a bug, fixed): AUTH matches a bare "billing", and auth is checked before usage, so
  // a quota message that mentions billing is auth (agent disabled until reconfigured) instead of a
  // usage limit (benched). Codex prints exactly this on quota exhaustion, with no status code.
  it("a quota message mentioning billing is a usage limit", () => {
    expect(classifyFailure(sig({ errorText: "Quota exceeded. Check your plan and billing details." }))).toBe("usage_limit");
  });

  it("is case-insensitive", () => {
    expect(classifyFailure(sig({ errorText: "TOO MANY REQUESTS" }))).toBe("rate_limit");
    expect(classifyFailure(sig({ errorText: "UNAUTHORIZED" }))).toBe("auth");
    expect(classifyFailure(sig({ errorText: "Service Unavailable" }))).toBe("outage");
  });

  it("never calls the §8 not-a-usage-limit cases a usage limit", () => {
    for (const errorText of ["503 Service Unavailable", "SSH: temporarily unavailable", "unauthorized: invalid api key"]) {
      expect(classifyFailure(sig({ errorText }))).not.toBe("usage_limit");
      expect(classifyFailure(sig({ errorText, timedOut: true }))).not.toBe("usage_limit");
    }
  });

  it("only reports timeout when nothing more specific is known", () => {
    for (const [errorText, s, expected] of [...structured.map(([, s, e]) => [s.errorText ?? "", s, e] as Row), ...text]) {
      const withTimeout = classifyFailure(sig({ ...s, errorText, timedOut: true }));
      expect(withTimeout).toBe(expected === "agent_error" ? "timeout" : expected);
    }
  });

  it("the tables cover every class the classifier can return", () => {
    const seen = new Set([...structured, ...text].map(([, , c]) => c));
    expect([...seen].sort()).toStrictEqual(FAILURE_CLASSES.filter((c) => c !== "invalid_output").sort());
  });
});

describe("failsOver", () => {
  const expected: Record<FailureClass, boolean> = {
    rate_limit: true,
    usage_limit: true,
    auth: true,
    outage: true,
    timeout: false,
    tooling_missing: false,
    invalid_output: false,
    agent_error: false,
  };

  it.each(Object.entries(expected))("%s → %s", (c, fails) => {
    expect(failsOver(c as FailureClass)).toBe(fails);
  });

  it("matches FAILOVER_CLASSES and covers every class", () => {
    expect(Object.keys(expected).sort()).toStrictEqual([...FAILURE_CLASSES].sort());
    expect([...FAILOVER_CLASSES].sort()).toStrictEqual(["auth", "outage", "rate_limit", "usage_limit"]);
  });
});

describe("text patterns that once misfired", () => {
  it.each([
    ["APIError: Not Found", "agent_error"],
    ["Invalid JSON: Unexpected token } in JSON at position 4", "agent_error"],
    ["Error: Unknown token type", "agent_error"],
    ["OAuth token has expired. Please obtain a new token", "auth"],
    ["sh: 1: codex: not found", "tooling_missing"],
    ["/bin/bash: line 1: opencode: command not found", "tooling_missing"],
  ])("%j is %s", (errorText, expected) => {
    expect(classifyFailure({ timedOut: false, errorText })).toBe(expected);
  });
});
