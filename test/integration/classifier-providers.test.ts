// The AI classifier against a loopback fake of the three APIs it speaks: Anthropic Messages, OpenAI
// Responses and chat completions (OpenAI-compatible). Response bodies have the real APIs' shapes.
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import nock from "nock";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { classifierFromEnv } from "../../src/adapters/classifier-ai/classifier-from-env.ts";
import { BUILTIN_CLASSIFIER_TEMPLATE } from "../../src/adapters/config-fs/builtin-data.generated.ts";
import { loadRouting } from "../../src/adapters/config-fs/load-routing.ts";
import { MemoryLedgerStore } from "../../src/adapters/ledger-memory/memory-ledger-store.ts";
import { routeTask, withRouting } from "../support/app.ts";
import { MainConfig } from "../../src/core/config/main-config.ts";
import { trustedPart } from "../../src/core/context/untrusted-block.ts";
import { addTask } from "../../src/core/ledger/create-task.ts";
import { emptyLedger, findTask } from "../../src/core/ledger/ledger.ts";
import { Route } from "../../src/core/ledger/task.ts";
import type { Classification, Classifier } from "../../src/core/ports.ts";
import type { RoutingSetup } from "../../src/core/routing/decide-route.ts";
import { ctxAt } from "../support/ctx.ts";
import { tempDir } from "../support/git-repo.ts";

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
interface Received { method: string; path: string; headers: IncomingHttpHeaders; body: Json }

const VERDICT = { agent: "codex", profile: "tests", complexity: "low", reason: "needs a regression test" };
const TASK = { title: "Add a dark mode toggle", body: "Users want the settings page to offer a dark theme.", labels: ["frontend-ux"] };
const PROFILES = ["bugfix", "docs", "feature", "maintenance", "planner", "refactor", "review", "tests"];
const USAGE: Record<string, [number, number]> = { "/v1/messages": [512, 31], "/v1/responses": [498, 27], "/v1/chat/completions": [505, 29] };

const ERRORS: Record<number, [type: string, openaiType: string, code: string, message: string]> = {
  429: ["rate_limit_error", "requests", "rate_limit_exceeded", "Rate limit exceeded (fake)"],
  401: ["authentication_error", "invalid_request_error", "invalid_api_key", "Invalid API key (fake)"],
  500: ["api_error", "server_error", "internal_error", "Internal server error (fake)"],
};

/** What the fake does with one request: answer this verdict, or fail with this status. */
type Reply = { fail: number } | { verdict: Json };

/** A real-shaped answer for each API, or its error body (429 with `retry-after: 0`, 401, 500). */
function respond(path: string, body: Json, reply: Reply): [number, Json, Record<string, string>] {
  const anthropic = path === "/v1/messages";
  if ("fail" in reply) {
    const [type, openaiType, code, message] = ERRORS[reply.fail]!;
    const error = anthropic ? { type: "error", error: { type, message } } : { error: { message, type: openaiType, param: null, code } };
    return [reply.fail, error, reply.fail === 429 ? { "retry-after": "0" } : {}];
  }
  const [input, output] = USAGE[path] ?? [0, 0];
  const verdict = reply.verdict;
  const text = JSON.stringify(verdict);
  switch (path) {
    case "/v1/messages": {
      const tool = (body.tools as { name: string }[] | undefined)?.some((t) => t.name === "json");
      const content = tool ? [{ type: "tool_use", id: "toolu_01Fake", name: "json", input: verdict }] : [{ type: "text", text }];
      return [200, { id: "msg_01Fake", type: "message", role: "assistant", model: body.model, content, stop_reason: tool ? "tool_use" : "end_turn", stop_sequence: null, usage: { input_tokens: input, output_tokens: output, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, service_tier: "standard" } }, {}];
    }
    case "/v1/responses":
      return [200, { id: "resp_fake", object: "response", created_at: 1767225600, status: "completed", error: null, incomplete_details: null, model: body.model, output: [{ type: "message", id: "msg_fake", status: "completed", role: "assistant", content: [{ type: "output_text", text, annotations: [], logprobs: [] }] }], usage: { input_tokens: input, input_tokens_details: { cached_tokens: 0 }, output_tokens: output, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: input + output } }, {}];
    case "/v1/chat/completions":
      return [200, { id: "chatcmpl-fake", object: "chat.completion", created: 1767225600, model: body.model, choices: [{ index: 0, message: { role: "assistant", content: text, refusal: null }, logprobs: null, finish_reason: "stop" }], usage: { prompt_tokens: input, completion_tokens: output, total_tokens: input + output }, system_fingerprint: "fp_fake" }, {}];
    default:
      return [404, { error: { message: `no route ${path}` } }, {}];
  }
}

/** `fail` for every request, or `replies` one per request in order (then `fail`, then the verdict). */
const fake = { received: [] as Received[], fail: undefined as number | undefined, replies: [] as Reply[], base: "" };
const nextReply = (): Reply => fake.replies[fake.received.length - 1] ?? (fake.fail === undefined ? { verdict: VERDICT } : { fail: fake.fail });
let server: Server;
let setup: RoutingSetup;

beforeAll(async () => {
  nock.disableNetConnect();
  nock.enableNetConnect(/127\.0\.0\.1/);
  (globalThis as { AI_SDK_LOG_WARNINGS?: boolean }).AI_SDK_LOG_WARNINGS = false;
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}") as Json;
      fake.received.push({ method: req.method ?? "", path: req.url ?? "", headers: req.headers, body });
      const [status, payload, headers] = respond(req.url ?? "", body, nextReply());
      res.writeHead(status, { "content-type": "application/json", ...headers });
      res.end(JSON.stringify(payload));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  fake.base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  const { profiles, rules } = await loadRouting(tempDir(), MainConfig.parse({}));
  setup = { config: MainConfig.parse({}), profiles, rules };
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  nock.enableNetConnect();
});

beforeEach(() => {
  fake.received = [];
  fake.fail = undefined;
  fake.replies = [];
});

interface ProviderCase {
  name: string;
  config: () => object;
  env: () => Record<string, string>;
  path: string;
  key: (h: IncomingHttpHeaders) => string | undefined;
  schema: (body: Json) => Json;
  prompt: (body: Json) => string;
  priced: boolean;
  structured: (body: Json) => void;
}

const CASES: ProviderCase[] = [
  {
    name: "anthropic claude-haiku-4-5 (output_config.format)",
    config: () => ({ provider: "anthropic", model: "claude-haiku-4-5" }),
    env: () => ({ ANTHROPIC_API_KEY: "test-key-anthropic", ANTHROPIC_BASE_URL: fake.base }),
    path: "/v1/messages",
    key: (h) => (h["x-api-key"] === "test-key-anthropic" && h["anthropic-version"] === "2023-06-01" ? "ok" : undefined),
    schema: (b) => b.output_config.format.schema as Json,
    prompt: (b) => String(b.messages[0].content[0].text),
    priced: true,
    structured: (b) => {
      expect(b.output_config.format.type).toBe("json_schema");
      expect(b.tools).toBeUndefined();
    },
  },
  {
    name: "anthropic, unknown model id (forced `json` tool)",
    config: () => ({ provider: "anthropic", model: "acme-proxy-model" }),
    env: () => ({ ANTHROPIC_API_KEY: "test-key-anthropic", ANTHROPIC_BASE_URL: fake.base }),
    path: "/v1/messages",
    key: (h) => (h["x-api-key"] === "test-key-anthropic" ? "ok" : undefined),
    schema: (b) => b.tools[0].input_schema as Json,
    prompt: (b) => String(b.messages[0].content[0].text),
    priced: false,
    structured: (b) => {
      expect(b.output_config).toBeUndefined();
      expect((b.tools as Json[]).map((t) => t.name as string)).toEqual(["json"]);
      expect(b.tool_choice).toEqual({ type: "any", disable_parallel_tool_use: true });
    },
  },
  {
    name: "openai gpt-4o-mini (Responses API, base URL from the config)",
    config: () => ({ provider: "openai", model: "gpt-4o-mini", baseURL: fake.base }),
    env: () => ({ OPENAI_API_KEY: "test-key-openai" }),
    path: "/v1/responses",
    key: (h) => (h.authorization === "Bearer test-key-openai" ? "ok" : undefined),
    schema: (b) => b.text.format.schema as Json,
    prompt: (b) => String(b.input[0].content[0].text),
    priced: true,
    structured: (b) => expect(b.text.format).toMatchObject({ type: "json_schema", strict: true, name: "route_verdict" }),
  },
  {
    name: "openai-compatible llama-3.1-8b (chat completions)",
    config: () => ({ provider: "openai-compatible", model: "llama-3.1-8b" }),
    env: () => ({ AGENT_ROUTER_CLASSIFIER_API_KEY: "test-key-compatible", AGENT_ROUTER_CLASSIFIER_BASE_URL: fake.base }),
    path: "/v1/chat/completions",
    key: (h) => (h.authorization === "Bearer test-key-compatible" ? "ok" : undefined),
    schema: (b) => b.response_format.json_schema.schema as Json,
    prompt: (b) => String(b.messages[0].content),
    priced: false,
    structured: (b) => expect(b.response_format).toMatchObject({ type: "json_schema", json_schema: { name: "route_verdict", strict: true } }),
  },
];

async function classifierFor(p: ProviderCase): Promise<Classifier> {
  const { classifier, why } = await classifierFromEnv(MainConfig.parse({ router: { classifier: p.config() } }).router.classifier, p.env(), BUILTIN_CLASSIFIER_TEMPLATE);
  if (!classifier) throw new Error(`no classifier: ${why}`);
  return classifier;
}

/** Routes one task with the classifier; returns what it answered and the route as recorded. */
async function route(classifier: Classifier): Promise<{ classification: Classification; route: Route; ms: number }> {
  const seen: Classification[] = [];
  const spy: Classifier = { describe: classifier.describe, classify: async (t, s) => seen[seen.push(await classifier.classify(t, s)) - 1]! };
  const store = new MemoryLedgerStore();
  await store.write({ ledger: addTask(emptyLedger(), { source: { kind: "cli" }, ...TASK }, ctxAt(0)).ledger, message: "seed" }, null);
  const started = performance.now();
  await routeTask(withRouting({ store, clock: { now: () => new Date(ctxAt(1).now) }, backoff: { sleep: async () => undefined, random: () => 0 }, config: setup.config, traceId: ctxAt(1).traceId, actor: "cli:tester" }, setup, spy), 1);
  const ms = performance.now() - started;
  expect(seen).toHaveLength(1);
  const recorded = Route.parse(findTask((await store.read()).ledger, 1)?.route);
  expect(recorded.classifier).toStrictEqual(seen[0]!.call);
  return { classification: seen[0]!, route: recorded, ms };
}

describe.each(CASES)("$name", (p) => {
  it("a valid verdict decides the route; tokens recorded; the request carried key, model, enum schema and untrusted blocks", async () => {
    const { classification, route: r } = await route(await classifierFor(p));
    const [input, output] = USAGE[p.path]!;
    expect(classification.outcome).toEqual({ ok: true, ...VERDICT });
    expect(classification.call).toMatchObject({ model: (p.config() as { model: string }).model, calls: 1, outcome: "verdict", usage: { inputTokens: input, outputTokens: output } });
    if (p.priced) expect(classification.call.usage.costUsd).toBeGreaterThan(0);
    else expect(classification.call.usage).not.toHaveProperty("costUsd");
    expect(r).toMatchObject({ agent: "codex", profile: "tests", complexity: "low", decidedBy: "llm", reason: `classifier: ${VERDICT.reason}` });

    expect(fake.received).toHaveLength(1);
    const req = fake.received[0]!;
    expect([req.method, req.path]).toEqual(["POST", p.path]);
    expect(p.key(req.headers)).toBe("ok");
    expect(req.body.model).toBe((p.config() as { model: string }).model);
    p.structured(req.body);
    const schema = p.schema(req.body);
    expect(schema.properties.agent.enum).toEqual(["claude", "codex", "opencode"]);
    expect(schema.properties.profile.enum).toEqual(PROFILES);
    expect(schema.properties.complexity.enum).toEqual(["low", "medium", "high"]);
    expect(schema.additionalProperties).toBe(false);
    expect([...schema.required].sort()).toEqual(["agent", "complexity", "profile", "reason"]);

    const prompt = p.prompt(req.body);
    const boundary = /<untrusted-([0-9a-f]{32,64}) source="issue title">/.exec(prompt)?.[1];
    expect(boundary).toBeDefined();
    expect(prompt).toContain(`<untrusted-${boundary} source="issue title">\n${TASK.title}\n</untrusted-${boundary}>`);
    expect(prompt).toContain(`<untrusted-${boundary} source="issue body">\n${TASK.body}\n</untrusted-${boundary}>`);
    const trusted = trustedPart(prompt, boundary!);
    for (const fromTask of [TASK.title, TASK.body, "frontend-ux"]) expect(trusted).not.toContain(fromTask);
  });

  it("HTTP 401: outcome error at once (one request, no retry, no repair), status in the reason, fallback", async () => {
    fake.fail = 401;
    const { classification, route: r, ms } = await route(await classifierFor(p));
    expect(fake.received).toHaveLength(1);
    expect(ms).toBeLessThan(1500);
    expect(classification.call).toMatchObject({ calls: 1, outcome: "error", usage: { inputTokens: 0, outputTokens: 0 } });
    expect(classification.outcome).toEqual({ ok: false, reason: "classifier call failed: AI_APICallError (HTTP 401): Invalid API key (fake)" });
    expect(r).toMatchObject({ decidedBy: "fallback", agent: "claude", profile: "feature", reason: expect.stringContaining("HTTP 401") });
  });

  // The SDK's retries are off, so the count on the route is the count of requests the API saw.
  it.each([429, 500])("HTTP %i: exactly one request reaches the server (no SDK retry), calls: 1, outcome error and fallback", async (status) => {
    fake.fail = status;
    const { classification, route: r, ms } = await route(await classifierFor(p));
    expect(fake.received).toHaveLength(1);
    expect(ms).toBeLessThan(1500);
    expect(classification.call).toMatchObject({ calls: 1, outcome: "error", usage: { inputTokens: 0, outputTokens: 0 } });
    expect(classification.outcome).toMatchObject({ ok: false, reason: expect.stringContaining(`(HTTP ${status})`) });
    expect(r).toMatchObject({ decidedBy: "fallback", agent: "claude", profile: "feature" });
  });

  it("an invalid verdict, then HTTP 500 in the repair round: two requests, calls: 2", async () => {
    fake.replies = [{ verdict: { ...VERDICT, agent: "wizard" } }, { fail: 500 }];
    const { classification, route: r } = await route(await classifierFor(p));
    expect(fake.received).toHaveLength(2);
    expect(classification.call).toMatchObject({ calls: 2, outcome: "error" });
    expect(classification.call.usage.inputTokens).toBe(USAGE[p.path]![0]);
    expect(r).toMatchObject({ decidedBy: "fallback" });
  });

  it("HTTP 429 keeps the status in the reason", async () => {
    fake.fail = 429;
    const { classification } = await route(await classifierFor(p));
    expect(classification.outcome).toMatchObject({ reason: expect.stringContaining("(HTTP 429)") });
  });
});
