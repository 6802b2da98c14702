import type { ParsedRun } from "../../core/agents/run-record.ts";

/** An incremental parser of one CLI's JSON-lines output. Unknown events and non-JSON lines are skipped. */
export interface EventParser {
  line(text: string): void;
  result(): ParsedRun;
}

type Json = Record<string, unknown>;
const obj = (v: unknown): Json => (v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Json) : {});
const num = (v: unknown): number => (typeof v === "number" && Number.isFinite(v) ? v : 0);
const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);

function parseLine(text: string): Json | null {
  const t = text.trim();
  if (!t.startsWith("{")) return null;
  try {
    return obj(JSON.parse(t));
  } catch {
    return null;
  }
}

/**
 * Bounds on what a parser keeps, whatever the stream: the final message's end (a handoff block
 * closes it), and the first refused actions and reported files. Lines are capped by the spawner.
 */
const MAX_FINAL_TEXT = 1024 * 1024;
const MAX_DENIED = 50;
const MAX_FILES = 1000;
const finalOf = (text: string): string => (text.length > MAX_FINAL_TEXT ? text.slice(-MAX_FINAL_TEXT) : text);
function pushDenied(denied: string[], action: string): void {
  if (denied.length < MAX_DENIED) denied.push(action.slice(0, 300));
}

/** Keeps the error channel short: the last few distinct messages. */
function pushError(errors: string[], message: string | undefined): void {
  if (!message) return;
  const m = message.slice(0, 2000);
  if (errors[errors.length - 1] !== m) errors.push(m);
  if (errors.length > 20) errors.shift();
}

/** Claude Code `-p --output-format stream-json --verbose`. */
export function claudeParser(): EventParser {
  let sessionId: string | undefined;
  let final: Json | undefined;
  let lastAssistantText = "";
  let retryStatus: number | undefined;
  let retryError: string | undefined;
  const errors: string[] = [];
  const retries: string[] = [];
  return {
    line(text) {
      const e = parseLine(text);
      if (!e) return;
      if (e["type"] === "system" && e["subtype"] === "init") sessionId = str(e["session_id"]) ?? sessionId;
      if (e["type"] === "system" && e["subtype"] === "api_retry") {
        retryStatus = num(e["error_status"]) || retryStatus;
        retryError = str(e["error"]) ?? retryError;
        pushError(retries, `API retry ${num(e["attempt"])}/${num(e["max_retries"])}: ${retryError ?? ""} (${retryStatus ?? "?"})`);
      }
      if (e["type"] === "assistant") {
        const content = obj(e["message"])["content"];
        const texts = Array.isArray(content) ? content.map(obj).filter((b) => b["type"] === "text").map((b) => str(b["text"]) ?? "") : [];
        if (texts.length > 0) lastAssistantText = texts.join("\n");
      }
      if (e["type"] === "result") final = e;
    },
    result() {
      const r = final ?? {};
      const isError = r["is_error"] === true;
      const models = Object.values(obj(r["modelUsage"])).map(obj);
      const usage = obj(r["usage"]);
      const fromModels = models.length > 0;
      const cacheRead = fromModels ? models.reduce((n, m) => n + num(m["cacheReadInputTokens"]), 0) : num(usage["cache_read_input_tokens"]);
      const input = fromModels
        ? models.reduce((n, m) => n + num(m["inputTokens"]) + num(m["cacheReadInputTokens"]) + num(m["cacheCreationInputTokens"]), 0)
        : num(usage["input_tokens"]) + cacheRead + num(usage["cache_creation_input_tokens"]);
      const output = fromModels ? models.reduce((n, m) => n + num(m["outputTokens"]), 0) : num(usage["output_tokens"]);
      const denials: string[] = [];
      if (Array.isArray(r["permission_denials"])) for (const d of r["permission_denials"].slice(0, MAX_DENIED).map(obj)) pushDenied(denials, `${str(d["tool_name"]) ?? "tool"} ${JSON.stringify(d["tool_input"] ?? {})}`);
      if (isError || (final && r["subtype"] !== "success")) pushError(errors, str(r["result"]) ?? str(r["subtype"]));
      if (!final) pushError(errors, "no result event: the CLI stopped before it finished");
      // API retries explain the ending only when the run ended on an API error (or never ended) with
      // the same status; after a recovery, a max-turns or budget ending is the agent's own.
      const finalStatus = num(r["api_error_status"]);
      const retriesExplain = !final || (r["subtype"] === "success" && isError && (finalStatus === 0 || finalStatus === retryStatus));
      const apiStatus = finalStatus || (retriesExplain ? retryStatus : undefined);
      const apiError = retriesExplain ? retryError : undefined;
      const stopReason = [str(r["subtype"]), str(r["terminal_reason"])].filter(Boolean).join("/") || undefined;
      const cost = typeof r["total_cost_usd"] === "number" ? r["total_cost_usd"] : undefined;
      return {
        ok: final !== undefined && r["subtype"] === "success" && !isError,
        ...(stopReason ? { stopReason } : {}),
        ...(typeof r["num_turns"] === "number" ? { turns: r["num_turns"] } : {}),
        inputTokens: input,
        outputTokens: output,
        cacheReadTokens: cacheRead,
        ...(cost === undefined ? {} : { costUsd: cost }),
        ...((str(r["session_id"]) ?? sessionId) ? { sessionId: str(r["session_id"]) ?? sessionId } : {}),
        deniedActions: denials,
        finalText: finalOf(isError ? lastAssistantText : (str(r["result"]) ?? lastAssistantText)),
        ...(apiStatus ? { apiStatus } : {}),
        ...(apiError ? { apiError } : {}),
        errorText: [...(retriesExplain ? retries : []), ...errors].join("\n"),
      };
    },
  };
}

/** Codex `exec --json`. It reports no cost: the adapter prices the tokens. */
export function codexParser(): EventParser {
  let sessionId: string | undefined;
  let turns = 0;
  let input = 0;
  let cached = 0;
  let output = 0;
  let finalText = "";
  let failed = false;
  const denied: string[] = [];
  const files = new Set<string>();
  const errors: string[] = [];
  return {
    line(text) {
      const e = parseLine(text);
      if (!e) return;
      const type = e["type"];
      if (type === "thread.started") sessionId = str(e["thread_id"]) ?? sessionId;
      if (type === "turn.completed") {
        turns++;
        const u = obj(e["usage"]);
        input += num(u["input_tokens"]); // cached tokens are a subset of input tokens
        cached += num(u["cached_input_tokens"]);
        output += num(u["output_tokens"]); // reasoning tokens are a subset of output tokens
      }
      if (type === "turn.failed") {
        failed = true;
        pushError(errors, str(obj(e["error"])["message"]));
      }
      if (type === "error") pushError(errors, str(e["message"]));
      if (type === "item.completed") {
        const item = obj(e["item"]);
        if (item["type"] === "agent_message") finalText = str(item["text"]) ?? finalText;
        if (item["type"] === "command_execution" && item["status"] === "declined") pushDenied(denied, `command ${str(item["command"]) ?? ""}`);
        if (item["type"] === "file_change" && Array.isArray(item["changes"])) for (const c of item["changes"]) if (str(obj(c)["path"]) && files.size < MAX_FILES) files.add(str(obj(c)["path"])!);
        if (item["type"] === "error") pushError(errors, str(item["message"]));
      }
    },
    result() {
      const statusMatch = [...errors.join("\n").matchAll(/status:? (\d{3})\b/gi)].at(-1); // the latest error decides
      return {
        ok: !failed,
        ...(failed ? { stopReason: "turn.failed" } : turns > 0 ? { stopReason: "completed" } : {}),
        turns,
        inputTokens: input,
        outputTokens: output,
        cacheReadTokens: cached,
        ...(sessionId ? { sessionId } : {}),
        deniedActions: denied,
        finalText: finalOf(finalText),
        ...(statusMatch ? { apiStatus: Number(statusMatch[1]) } : {}),
        errorText: errors.join("\n"),
        filesReported: [...files],
      };
    },
  };
}

/** OpenCode `run --format json`. */
export function opencodeParser(): EventParser {
  let sessionId: string | undefined;
  let turns = 0;
  let input = 0;
  let output = 0;
  let cacheRead = 0;
  let cost = 0;
  let finalText = "";
  let lastReason: string | undefined;
  let apiStatus: number | undefined;
  let errored = false;
  const denied: string[] = [];
  const errors: string[] = [];
  return {
    line(text) {
      const e = parseLine(text);
      if (!e) return;
      sessionId = str(e["sessionID"]) ?? sessionId;
      const part = obj(e["part"]);
      if (e["type"] === "text") finalText = str(part["text"]) ?? finalText;
      if (e["type"] === "step_finish") {
        turns++;
        cost += num(part["cost"]);
        const t = obj(part["tokens"]);
        input += num(t["input"]) + num(obj(t["cache"])["read"]) + num(obj(t["cache"])["write"]);
        output += num(t["output"]) + num(t["reasoning"]);
        cacheRead += num(obj(t["cache"])["read"]);
        lastReason = str(part["reason"]) ?? lastReason;
      }
      if (e["type"] === "tool_use") {
        const state = obj(part["state"]);
        const error = str(state["error"]);
        if (state["status"] === "error" && error && /reject|denied|not allowed|permission/i.test(error)) pushDenied(denied, `${str(part["tool"]) ?? "tool"}: ${error}`);
      }
      if (e["type"] === "error") {
        errored = true;
        const err = obj(e["error"]);
        const data = obj(err["data"]);
        apiStatus = num(data["statusCode"]) || apiStatus;
        pushError(errors, `${str(err["name"]) ?? "Error"}: ${str(data["message"]) ?? ""}`);
      }
    },
    result() {
      return {
        ok: !errored,
        ...(errored ? { stopReason: "error" } : lastReason ? { stopReason: lastReason } : {}),
        turns,
        inputTokens: input,
        outputTokens: output,
        cacheReadTokens: cacheRead,
        costUsd: Math.round(cost * 1e6) / 1e6,
        ...(sessionId ? { sessionId } : {}),
        deniedActions: denied,
        finalText: finalOf(finalText),
        ...(apiStatus ? { apiStatus } : {}),
        errorText: errors.join("\n"),
      };
    },
  };
}
