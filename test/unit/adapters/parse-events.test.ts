/**
 * The JSON-lines parsers of the three agent CLIs (agent-clis.md §3–§5, §7). Fixtures in
 * test/fixtures/agent-output follow the documented shapes. spawnAgent splits stdout into lines, so
 * the parsers are fed whole lines here.
 */
import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { EventParser } from "../../../src/adapters/agent-cli/parse-events.ts";
import { claudeParser, codexParser, opencodeParser } from "../../../src/adapters/agent-cli/parse-events.ts";
import type { FailureClass } from "../../../src/core/agents/classify-failure.ts";
import { classifyFailure } from "../../../src/core/agents/classify-failure.ts";
import type { ParsedRun } from "../../../src/core/agents/run-record.ts";

const fixture = (name: string): string[] => readFileSync(new URL(`../../fixtures/agent-output/${name}.jsonl`, import.meta.url), "utf8").split("\n");
const parsers = { claude: claudeParser, codex: codexParser, opencode: opencodeParser } as const;
type Cli = keyof typeof parsers;
const feed = (p: EventParser, lines: string[]): EventParser => {
  for (const l of lines) p.line(l);
  return p;
};
const parse = (cli: Cli, lines: string[]): ParsedRun => feed(parsers[cli](), lines).result();
const cliOf = (name: string): Cli => name.split("-")[0] as Cli;
/** What the runner passes to classifyFailure for a failed run (cli-agent-runner.ts). */
const classify = (r: ParsedRun): FailureClass =>
  classifyFailure({ timedOut: false, ...(r.apiStatus ? { apiStatus: r.apiStatus } : {}), ...(r.apiError ? { apiError: r.apiError } : {}), errorText: r.errorText });

const claudeHandoff = 'Fixed the retry handling.\n```json\n{"schemaVersion":1,"status":"done","summary":"Fixed the retry handling"}\n```';
const codexHandoff = 'Retry handling fixed.\n```json\n{"schemaVersion":1,"status":"done","summary":"Retry handling fixed"}\n```';
const opencodeHandoff = 'Fixed.\n```json\n{"schemaVersion":1,"status":"done","summary":"Fixed"}\n```';
const modelMetadata = "Model metadata for `fake-model` not found. Defaulting to fallback metadata; this can degrade performance and cause issues.";
const highDemand = "We’re currently experiencing high demand, which may cause temporary errors.";

/** Expected ParsedRun per fixture (exact, absent fields included), and the class when it failed. */
const cases: [string, ParsedRun, FailureClass?][] = [
  // claude: tokens sum modelUsage over models, cache read and creation counted as input.
  ["claude-success-tools", { ok: true, stopReason: "success/completed", turns: 3, inputTokens: 1200 + 30000 + 5000 + 300 + 700 + 1000, outputTokens: 850, cacheReadTokens: 30700, costUsd: 0.0421, sessionId: "3f1c2a9e-claude-success", deniedActions: ['Bash {"command":"git push origin main"}'], finalText: claudeHandoff, errorText: "" }],
  ["claude-api-401", { ok: false, stopReason: "success/api_error", turns: 1, inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, costUsd: 0, sessionId: "c401", deniedActions: [], finalText: "Invalid API key · Fix external API key", apiStatus: 401, apiError: "authentication_failed", errorText: "API retry 1/1: authentication_failed (401)\nInvalid API key · Fix external API key" }, "auth"],
  ["claude-429-retries", { ok: false, stopReason: "success", turns: 1, inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, costUsd: 0, sessionId: "c429", deniedActions: [], finalText: "", apiStatus: 429, apiError: "rate_limit", errorText: "API retry 1/2: rate_limit (429)\nAPI retry 2/2: rate_limit (429)\nAPI Error: Request rejected (429) · Number of requests has exceeded your per-minute rate" }, "rate_limit"],
  ["claude-max-turns", { ok: false, stopReason: "error_max_turns/max_turns", turns: 2, inputTokens: 2500, outputTokens: 300, cacheReadTokens: 400, costUsd: 0.0123, sessionId: "cturns", deniedActions: [], finalText: "Still investigating the 401.", errorText: "error_max_turns" }, "agent_error"],
  // No modelUsage: falls back to the main-loop usage, cache read and creation still counted as input.
  ["claude-budget", { ok: false, stopReason: "error_max_budget_usd/budget_exhausted", turns: 7, inputTokens: 900 + 12000 + 3000, outputTokens: 400, cacheReadTokens: 12000, costUsd: 0.51, sessionId: "cbudget", deniedActions: ['WebFetch {"url":"https://example.com"}'], finalText: "Refactoring the parser.", errorText: "error_max_budget_usd" }, "agent_error"],
  ["claude-noise", { ok: true, stopReason: "success", turns: 1, inputTokens: 10, outputTokens: 5, cacheReadTokens: 0, costUsd: 0.002, sessionId: "cnoise", deniedActions: [], finalText: "Done.", errorText: "" }],
  // codex: sums turn.completed usage; cached is a subset of input (not added); no cost.
  ["codex-success-tools", { ok: true, stopReason: "completed", turns: 2, inputTokens: 3200, outputTokens: 450, cacheReadTokens: 2500, sessionId: "0199a1b2-codex-thread", deniedActions: ["command git push origin main"], finalText: codexHandoff, errorText: modelMetadata, filesReported: ["src/client.ts", "docs/retry.md", "old/legacy.ts"] }],
  ["codex-api-401", { ok: false, stopReason: "turn.failed", turns: 0, inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, sessionId: "codex-401", deniedActions: [], finalText: "", apiStatus: 401, errorText: "Reconnecting... 1/5 (unexpected status 401 Unauthorized: Incorrect API key provided, url: http://127.0.0.1:4010/v1/responses)\nunexpected status 401 Unauthorized: Incorrect API key provided, url: http://127.0.0.1:4010/v1/responses", filesReported: [] }, "auth"],
  ["codex-429-retries", { ok: false, stopReason: "turn.failed", turns: 0, inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, sessionId: "codex-429", deniedActions: [], finalText: "", apiStatus: 429, errorText: "Reconnecting... 1/5 (Too Many Requests)\nReconnecting... 2/5 (Too Many Requests)\nexceeded retry limit, last status: 429 Too Many Requests", filesReported: [] }, "rate_limit"],
  ["codex-turn-failed", { ok: false, stopReason: "turn.failed", turns: 0, inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, sessionId: "codex-5xx", deniedActions: [], finalText: "Starting.", errorText: highDemand, filesReported: [] }, "outage"],
  ["codex-noise", { ok: true, stopReason: "completed", turns: 1, inputTokens: 50, outputTokens: 7, cacheReadTokens: 0, sessionId: "codex-noise", deniedActions: [], finalText: "All done.", errorText: "", filesReported: [] }],
  // opencode: input excludes cache, output excludes reasoning, so both are added; cost is summed.
  ["opencode-success-tools", { ok: true, stopReason: "stop", turns: 2, inputTokens: 100 + 1000 + 50 + 200 + 2000 + 20, outputTokens: 20 + 5 + 70, cacheReadTokens: 3000, costUsd: 0.0019, sessionId: "ses_oc_success", deniedActions: ["bash: The user rejected permission to use this specific tool call."], finalText: opencodeHandoff, errorText: "" }],
  ["opencode-api-401", { ok: false, stopReason: "error", turns: 0, inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, costUsd: 0, sessionId: "ses_oc_401", deniedActions: [], finalText: "", apiStatus: 401, errorText: "APIError: Incorrect API key provided" }, "auth"],
  ["opencode-429-retries", { ok: false, stopReason: "error", turns: 0, inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, costUsd: 0, sessionId: "ses_oc_429", deniedActions: [], finalText: "", apiStatus: 429, errorText: "APIError: Too Many Requests" }, "rate_limit"],
  ["opencode-noise", { ok: true, stopReason: "stop", turns: 1, inputTokens: 3, outputTokens: 4, cacheReadTokens: 0, costUsd: 0, sessionId: "ses_oc_noise", deniedActions: [], finalText: "Answer.", errorText: "" }],
];

describe("parsers on fixtures", () => {
  it.each(cases)("%s", (name, expected, failure) => {
    const p = feed(parsers[cliOf(name)](), fixture(name));
    const r = p.result();
    expect(r).toStrictEqual(expected);
    expect(p.result()).toStrictEqual(r); // result() is repeatable
    if (!r.ok) expect(classify(r)).toBe(failure);
    else expect(failure).toBeUndefined();
  });

  it("every fixture file has a case", () => {
    const files = readdirSync(new URL("../../fixtures/agent-output/", import.meta.url)).filter((f) => f.endsWith(".jsonl"));
    expect(files.sort()).toStrictEqual(cases.map(([name]) => `${name}.jsonl`).sort());
  });

  it("never takes errorText from the transcript: tool output saying 401 / 429 / rate limit does not classify", () => {
    for (const name of ["claude-success-tools", "claude-max-turns", "codex-success-tools", "opencode-success-tools"]) {
      const raw = fixture(name).join("\n");
      expect(raw).toMatch(/401/); // the transcript really contains the bait
      const r = parse(cliOf(name), fixture(name));
      expect(r.errorText).not.toMatch(/401|429|rate limit|unauthori|quota/i);
      expect(r.apiStatus).toBeUndefined();
      expect(classify(r)).toBe("agent_error"); // as if the process had exited non-zero
    }
  });

  it("non-JSON lines and unknown event types between any two lines change nothing", () => {
    const noise = ["", "   ", "Warning: something odd", "{not json", '{"type":', "[1,2]", "null", "42", '{"type":"unknown.event","data":{"message":"401 rate limit"}}', '{"type":"system","subtype":"status","status":"429"}', '{"type":"item.updated","item":{"type":"todo_list"}}'];
    for (const [name, expected] of cases) {
      const noisy = fixture(name).flatMap((l, i) => [noise[i % noise.length]!, l, noise[(i * 7 + 3) % noise.length]!]);
      expect(parse(cliOf(name), noisy), name).toStrictEqual(expected);
    }
  });
});

describe("parsers on short or cut streams", () => {
  it("claude: an empty stream is a failure with a clear errorText", () => {
    expect(parse("claude", [])).toStrictEqual({ ok: false, inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, deniedActions: [], finalText: "", errorText: "no result event: the CLI stopped before it finished" });
  });

  it("claude: a stream cut before the result keeps what it saw, including API retries", () => {
    const lines = fixture("claude-429-retries").filter((l) => !l.includes('"type":"result"'));
    const r = parse("claude", [...lines, '{"type":"assistant","message":{"content":[{"type":"text","text":"partial"}]}}']);
    expect(r).toStrictEqual({ ok: false, inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, sessionId: "c429", deniedActions: [], finalText: "partial", apiStatus: 429, apiError: "rate_limit", errorText: "API retry 1/2: rate_limit (429)\nAPI retry 2/2: rate_limit (429)\nno result event: the CLI stopped before it finished" });
    expect(classifyFailure({ timedOut: true, apiStatus: 429, apiError: "rate_limit", errorText: r.errorText })).toBe("rate_limit");
  });

  it("codex and opencode: an empty stream reports nothing wrong (the exit code decides) and zero usage", () => {
    expect(parse("codex", [])).toStrictEqual({ ok: true, turns: 0, inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, deniedActions: [], finalText: "", errorText: "", filesReported: [] });
    expect(parse("opencode", [])).toStrictEqual({ ok: true, turns: 0, inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, costUsd: 0, deniedActions: [], finalText: "", errorText: "" });
  });

  it("claude: a result with is_error keeps the assistant's last text as finalText, not the error", () => {
    const r = parse("claude", ['{"type":"assistant","message":{"content":[{"type":"text","text":"half way"}]}}', '{"type":"result","subtype":"success","is_error":true,"api_error_status":500,"result":"API Error: 500 Internal server error."}']);
    expect([r.ok, r.finalText, r.apiStatus, r.errorText]).toStrictEqual([false, "half way", 500, "API Error: 500 Internal server error."]);
    expect(classify(r)).toBe("outage");
  });

  // Regression (was a bug, fixed): api_retry facts outlive a recovered retry. A run that hit one 429,
  // recovered, and then stopped on max turns reports apiStatus 429 / apiError rate_limit, so it is
  // classified rate_limit (fails over, benches the agent) instead of agent_error (§8: "not a failover").
  it("claude: a recovered API retry does not decide how a later max-turns ending is classified", () => {
    const r = parse("claude", [
      '{"type":"system","subtype":"api_retry","attempt":1,"max_retries":10,"retry_delay_ms":1000,"error_status":429,"error":"rate_limit"}',
      '{"type":"assistant","message":{"content":[{"type":"text","text":"working"}]}}',
      '{"type":"result","subtype":"error_max_turns","is_error":true,"num_turns":30,"terminal_reason":"max_turns","api_error_status":null}',
    ]);
    expect(classify(r)).toBe("agent_error");
  });

  it("keeps its result bounded whatever the stream: the final message's end, the first 50 refusals, the first 1,000 files", () => {
    const big = `${"x".repeat(2 * 1024 * 1024)}\n${claudeHandoff}`;
    const claude = parse("claude", [JSON.stringify({ type: "result", subtype: "success", is_error: false, result: big, permission_denials: Array.from({ length: 500 }, (_, i) => ({ tool_name: "Bash", tool_input: { command: `rm ${i}` } })) })]);
    expect(claude.finalText).toBe(big.slice(-1024 * 1024));
    expect(claude.finalText.endsWith(claudeHandoff)).toBe(true);
    expect(claude.deniedActions).toHaveLength(50);
    const codexLines = [
      ...Array.from({ length: 500 }, (_, i) => JSON.stringify({ type: "item.completed", item: { type: "command_execution", status: "declined", command: `rm ${i}` } })),
      JSON.stringify({ type: "item.completed", item: { type: "file_change", changes: Array.from({ length: 5000 }, (_, i) => ({ path: `f${i}`, kind: "add" })) } }),
      JSON.stringify({ type: "item.completed", item: { type: "agent_message", text: big } }),
    ];
    const codex = parse("codex", codexLines);
    expect([codex.finalText.length, codex.deniedActions.length, codex.filesReported?.length]).toEqual([1024 * 1024, 50, 1000]);
    expect(codex.deniedActions[0]).toBe("command rm 0");
    const opencode = parse("opencode", [JSON.stringify({ type: "text", sessionID: "s", part: { type: "text", text: big } })]);
    expect(opencode.finalText).toBe(big.slice(-1024 * 1024));
  });
});
