// A fake LLM server on 127.0.0.1 for running the real agent CLIs offline (agent-clis.md §6). One
// node:http server speaks the three APIs they use: Anthropic Messages (claude, plus `HEAD /` and
// count_tokens), OpenAI Responses (codex) and OpenAI chat completions (opencode), all as SSE.
//
// Each run gets a script of its own, found by the API key the CLI sends (so runs of different CLIs
// can share the server at the same time). A script is a list of tool calls: the first writes a
// file in the working directory (claude `Write`, codex `exec_command`, opencode `write`); the
// request's count of tool results says which call comes next, and once all are done the answer is
// the final text, ending in a fenced ```json handoff. Requests that offer no tools (opencode's
// title) get a short text. Every model response carries usage figures, distinct per response, and
// the log keeps them, so a test can check a CLI's token accounting against what was really sent.
// Error modes answer every model request with a 429 (`retry-after: 0`) or a 401, in each API's own
// error JSON.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { anthropicStream, arr, chatStream, type Json, obj, responsesStream, sendError } from "./fake-llm-streams.ts";

export type FakeApi = "anthropic" | "responses" | "chat";
export type FakeMode = "success" | "rate_limit" | "auth";

export interface FakeScript {
  mode: FakeMode;
  /** Absolute path of the agent's working directory (tools that need absolute paths get one). */
  workdir: string;
  /** Path of the file the first tool call writes, relative to `workdir`. */
  file: string;
  content: string;
  /** The handoff object. */
  handoff: Record<string, unknown>;
  /**
   * `message` (default): the final text ends in a ```json block. `none`: no handoff at all (for the
   * repair round). `file`: a second tool call writes
   * the handoff to the file the router names in $AGENT_ROUTER_OUTPUT, as a model following the
   * bundle's instructions would: claude and opencode with their file-writing tool at `handoffPath`
   * (they take absolute paths), codex with its shell tool, which expands the variable. The final
   * text then has no block.
   */
  handoffVia?: "message" | "file" | "none";
  /** The handoff file's absolute path (the runner's AGENT_ROUTER_OUTPUT), for `handoffVia: "file"`. */
  handoffPath?: string;
}

/** One scripted tool call, before it is put in an API's terms. */
type Action = { kind: "write"; path: string; content: string } | { kind: "handoff"; path: string; content: string };

/** The tool calls of a script, in order; the request's count of tool results says which is next. */
function actionsOf(s: FakeScript): Action[] {
  const write: Action = { kind: "write", path: join(s.workdir, s.file), content: s.content };
  if (s.handoffVia !== "file") return [write];
  if (!s.handoffPath) throw new Error("fake LLM server: handoffVia file needs handoffPath");
  return [write, { kind: "handoff", path: s.handoffPath, content: JSON.stringify(s.handoff) }];
}

/** Token figures one response reported, in neutral terms: `input` includes `cacheRead` and `cacheWrite`, `output` includes `reasoning`. */
export interface SentUsage {
  input: number;
  cacheRead: number;
  cacheWrite: number;
  output: number;
  reasoning: number;
}

export interface LoggedRequest {
  /** The script's key, when the request carried one. */
  key?: string;
  method: string;
  url: string;
  api?: FakeApi;
  /** `x-api-key` or `authorization` header as sent. */
  auth?: string;
  model?: string;
  stream?: boolean;
  tools: string[];
  /** How many tool results the request carries (the script's progress). */
  toolResults: number;
  /** What the fake answered. */
  reply: "tool_call" | "final" | "text" | "error" | "count_tokens" | "head" | "models" | "not_found";
  status: number;
  /** The tool the fake called, for `tool_call`. */
  toolCalled?: string;
  usage?: SentUsage;
  /** The parsed request body, for debugging and deeper assertions. */
  body?: Json;
}

/** A script in play: give `key` to the CLI as its API key; `requests` fills as the CLI calls. */
export interface ScriptHandle {
  key: string;
  requests: LoggedRequest[];
}

export interface FakeLlmServer {
  url: string;
  port: number;
  /** Every request so far, in order, of every script (and those that named none). */
  requests: LoggedRequest[];
  /** Registers a script under a new API key. */
  script(s: FakeScript): ScriptHandle;
  close(): Promise<void>;
}


const shellQuote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

function finalMessage(s: FakeScript): string {
  if (s.handoffVia === "file") return `I wrote ${s.file} and the handoff file.`;
  if (s.handoffVia === "none") return `I wrote ${s.file}.`;
  return `I wrote ${s.file}.\n\n\`\`\`json\n${JSON.stringify(s.handoff, null, 2)}\n\`\`\`\n`;
}

/** A shell command for an action; the handoff goes through the variable, as the bundle tells the agent. */
const shellCommand = (a: Action): string => `printf %s ${shellQuote(a.content)} > ${a.kind === "handoff" ? '"$AGENT_ROUTER_OUTPUT"' : shellQuote(a.path)}`;

/** An action as a tool call of the API, with the tools the request offers; undefined when none fits. */
function toolCallFor(api: FakeApi, a: Action, workdir: string, tools: Json[], names: string[]): { name: string; input: Json } | undefined {
  if (api === "anthropic") {
    if (names.includes("Write")) return { name: "Write", input: { file_path: a.path, content: a.content } };
    if (names.includes("Bash")) return { name: "Bash", input: { command: shellCommand(a), description: "Write the file" } };
    return undefined;
  }
  if (api === "responses") {
    const exec = tools.find((t) => t["name"] === "exec_command");
    if (exec) return { name: "exec_command", input: "cmd" in obj(obj(exec["parameters"])["properties"]) ? { cmd: shellCommand(a), workdir } : { command: ["bash", "-lc", shellCommand(a)], workdir } };
    if (names.includes("shell")) return { name: "shell", input: { command: ["bash", "-lc", shellCommand(a)], workdir } };
    return undefined;
  }
  if (names.includes("write")) return { name: "write", input: { filePath: a.path, content: a.content } };
  if (names.includes("bash")) return { name: "bash", input: { command: shellCommand(a), description: "Write the file" } };
  return undefined;
}

/** Distinct, recognisable figures per response: the n-th model response of a script. */
function usageFor(api: FakeApi, n: number, withTools: boolean): SentUsage {
  const base = withTools ? 1000 : 100;
  const cacheRead = withTools ? 200 * n : 0;
  const cacheWrite = api === "anthropic" && withTools ? 30 * n : 0;
  const reasoning = api === "anthropic" || !withTools ? 0 : 5 * n;
  return { input: base * n + 11 + cacheRead + cacheWrite, cacheRead, cacheWrite, output: 20 * n + 7 + reasoning, reasoning };
}

// ---------------------------------------------------------------- Anthropic Messages

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

function apiOf(path: string): FakeApi | "count_tokens" | undefined {
  if (/\/messages\/count_tokens$/.test(path)) return "count_tokens";
  if (/\/messages$/.test(path)) return "anthropic";
  if (/\/responses$/.test(path)) return "responses";
  if (/\/chat\/completions$/.test(path)) return "chat";
  return undefined;
}

function toolNames(api: FakeApi, body: Json): string[] {
  return arr(body["tools"]).map((t) => {
    const tool = obj(t);
    return String(api === "chat" ? obj(tool["function"])["name"] : (tool["name"] ?? tool["type"]));
  });
}

function countToolResults(api: FakeApi, body: Json): number {
  if (api === "anthropic") return arr(body["messages"]).flatMap((m) => arr(obj(m)["content"])).filter((b) => obj(b)["type"] === "tool_result").length;
  if (api === "responses") return arr(body["input"]).filter((i) => /_call_output$/.test(String(obj(i)["type"]))).length;
  return arr(body["messages"]).filter((m) => obj(m)["role"] === "tool").length;
}

const keyOf = (header: string | undefined): string => (header ?? "").replace(/^Bearer\s+/i, "").trim();

export async function startFakeLlmServer(): Promise<FakeLlmServer> {
  const requests: LoggedRequest[] = [];
  const scripts = new Map<string, { script: FakeScript; requests: LoggedRequest[]; responses: number }>();
  let made = 0;

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const raw = await readBody(req);
    const path = (req.url ?? "/").split("?")[0]!;
    const header = req.headers["x-api-key"] ?? req.headers["authorization"];
    const authHeader = Array.isArray(header) ? header[0] : header;
    const run = scripts.get(keyOf(authHeader));
    const entry: LoggedRequest = { ...(run ? { key: keyOf(authHeader) } : {}), method: req.method ?? "?", url: req.url ?? "/", ...(authHeader ? { auth: authHeader } : {}), tools: [], toolResults: 0, reply: "not_found", status: 404 };
    requests.push(entry);
    run?.requests.push(entry);
    let body: Json = {};
    try {
      body = raw ? obj(JSON.parse(raw)) : {};
    } catch {
      // not JSON: logged with what we have
    }
    entry.body = body;
    if (typeof body["model"] === "string") entry.model = body["model"];
    if (typeof body["stream"] === "boolean") entry.stream = body["stream"];

    if (req.method === "HEAD" || (req.method === "GET" && path === "/")) {
      Object.assign(entry, { reply: "head", status: 200 });
      res.writeHead(200).end();
      return;
    }
    if (req.method === "GET" && /\/models$/.test(path)) {
      Object.assign(entry, { reply: "models", status: 200 });
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ object: "list", data: [], models: [] }));
      return;
    }
    const api = req.method === "POST" ? apiOf(path) : undefined;
    if (api === "count_tokens") {
      Object.assign(entry, { reply: "count_tokens", status: 200 });
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ input_tokens: 42 }));
      return;
    }
    if (api === undefined) {
      res.writeHead(404, { "content-type": "application/json" }).end(JSON.stringify({ error: { message: `fake LLM server: no route for ${req.method} ${path}` } }));
      return;
    }
    entry.api = api;
    const toolDefs = arr(body["tools"]).map(obj);
    entry.tools = toolNames(api, body);
    entry.toolResults = countToolResults(api, body);
    const model = entry.model ?? "fake-model";
    if (!run) {
      Object.assign(entry, { reply: "error", status: 401 });
      sendError(res, api, "auth");
      return;
    }
    const script = run.script;
    if (script.mode !== "success") {
      Object.assign(entry, { reply: "error", status: script.mode === "rate_limit" ? 429 : 401 });
      sendError(res, api, script.mode);
      return;
    }

    const n = ++run.responses;
    // Requests without tools (opencode's title) get a short text; otherwise the next scripted action,
    // and once all are done (or none fits the tools offered) the final message.
    const action = entry.tools.length > 0 ? actionsOf(script)[entry.toolResults] : undefined;
    const tool = action ? toolCallFor(api, action, script.workdir, toolDefs, entry.tools) : undefined;
    const reply = tool ? "tool_call" : entry.tools.length > 0 ? "final" : "text";
    const text = reply === "text" ? "Fake task title" : finalMessage(script);
    const u = usageFor(api, n, entry.tools.length > 0);
    Object.assign(entry, { reply, status: 200, usage: u, ...(tool ? { toolCalled: tool.name } : {}) });

    if (api === "anthropic") {
      anthropicStream(res, model, tool ? { type: "tool_use", id: `toolu_${n}`, name: tool.name, input: tool.input } : { type: "text", text }, u);
    } else if (api === "responses") {
      const item: Json = tool
        ? { type: "function_call", id: `fc_${n}`, call_id: `call_${n}`, name: tool.name, arguments: JSON.stringify(tool.input), status: "completed" }
        : { type: "message", id: `msg_${n}`, role: "assistant", status: "completed", content: [{ type: "output_text", text, annotations: [] }] };
      responsesStream(res, model, item, u);
    } else {
      chatStream(res, model, tool ? { name: tool.name, arguments: tool.input } : { text }, u);
    }
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: { message: `fake LLM server: ${err instanceof Error ? err.message : String(err)}` } }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    script(s) {
      const key = `fake-key-${++made}-${Math.random().toString(36).slice(2, 10)}`;
      const handle = { key, requests: [] as LoggedRequest[] };
      scripts.set(key, { script: s, requests: handle.requests, responses: 0 });
      return handle;
    },

    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}
