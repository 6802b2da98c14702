// The stream shapes of the fake LLM server (test/support/fake-llm-server.ts): Anthropic Messages,
// OpenAI Responses and chat completions as server-sent events, and each API's error JSON.
import type { ServerResponse } from "node:http";
import type { FakeApi, FakeMode, SentUsage } from "./fake-llm-server.ts";

export type Json = Record<string, unknown>;
export const obj = (v: unknown): Json => (v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Json) : {});
export const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

export function sse(res: ServerResponse, events: [string | null, unknown][]): void {
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", connection: "close" });
  for (const [event, data] of events) res.write(`${event ? `event: ${event}\n` : ""}data: ${typeof data === "string" ? data : JSON.stringify(data)}\n\n`);
  res.end();
}

export function anthropicStream(res: ServerResponse, model: string, content: { type: "text"; text: string } | { type: "tool_use"; id: string; name: string; input: Json }, u: SentUsage): void {
  const usageStart = { input_tokens: u.input - u.cacheRead - u.cacheWrite, cache_read_input_tokens: u.cacheRead, cache_creation_input_tokens: u.cacheWrite, output_tokens: 1 };
  const block = content.type === "text" ? { type: "text", text: "" } : { type: "tool_use", id: content.id, name: content.name, input: {} };
  const delta = content.type === "text" ? { type: "text_delta", text: content.text } : { type: "input_json_delta", partial_json: JSON.stringify(content.input) };
  sse(res, [
    ["message_start", { type: "message_start", message: { id: `msg_${Math.random().toString(36).slice(2)}`, type: "message", role: "assistant", model, content: [], stop_reason: null, stop_sequence: null, usage: usageStart } }],
    ["content_block_start", { type: "content_block_start", index: 0, content_block: block }],
    ["ping", { type: "ping" }],
    ["content_block_delta", { type: "content_block_delta", index: 0, delta }],
    ["content_block_stop", { type: "content_block_stop", index: 0 }],
    ["message_delta", { type: "message_delta", delta: { stop_reason: content.type === "text" ? "end_turn" : "tool_use", stop_sequence: null }, usage: { output_tokens: u.output } }],
    ["message_stop", { type: "message_stop" }],
  ]);
}

// ---------------------------------------------------------------- OpenAI Responses

export function responsesStream(res: ServerResponse, model: string, item: Json, u: SentUsage): void {
  const id = `resp_${Math.random().toString(36).slice(2)}`;
  const response = { id, object: "response", created_at: Math.floor(Date.now() / 1000), status: "in_progress", model, output: [] as Json[] };
  const events: [string, unknown][] = [
    ["response.created", { type: "response.created", sequence_number: 0, response }],
    ["response.in_progress", { type: "response.in_progress", sequence_number: 1, response }],
  ];
  if (item["type"] === "message") {
    const text = String(obj(arr(item["content"])[0])["text"]);
    events.push(
      ["response.output_item.added", { type: "response.output_item.added", sequence_number: 2, output_index: 0, item: { ...item, status: "in_progress", content: [] } }],
      ["response.content_part.added", { type: "response.content_part.added", sequence_number: 3, item_id: item["id"], output_index: 0, content_index: 0, part: { type: "output_text", text: "", annotations: [] } }],
      ["response.output_text.delta", { type: "response.output_text.delta", sequence_number: 4, item_id: item["id"], output_index: 0, content_index: 0, delta: text }],
      ["response.output_text.done", { type: "response.output_text.done", sequence_number: 5, item_id: item["id"], output_index: 0, content_index: 0, text }],
      ["response.content_part.done", { type: "response.content_part.done", sequence_number: 6, item_id: item["id"], output_index: 0, content_index: 0, part: { type: "output_text", text, annotations: [] } }],
    );
  } else {
    events.push(
      ["response.output_item.added", { type: "response.output_item.added", sequence_number: 2, output_index: 0, item: { ...item, status: "in_progress", arguments: "" } }],
      ["response.function_call_arguments.delta", { type: "response.function_call_arguments.delta", sequence_number: 3, item_id: item["id"], output_index: 0, delta: item["arguments"] }],
      ["response.function_call_arguments.done", { type: "response.function_call_arguments.done", sequence_number: 4, item_id: item["id"], output_index: 0, arguments: item["arguments"] }],
    );
  }
  events.push(
    ["response.output_item.done", { type: "response.output_item.done", sequence_number: 7, output_index: 0, item }],
    [
      "response.completed",
      {
        type: "response.completed",
        sequence_number: 8,
        response: {
          ...response,
          status: "completed",
          output: [item],
          usage: { input_tokens: u.input, input_tokens_details: { cached_tokens: u.cacheRead }, output_tokens: u.output, output_tokens_details: { reasoning_tokens: u.reasoning }, total_tokens: u.input + u.output },
        },
      },
    ],
  );
  sse(res, events);
}

// ---------------------------------------------------------------- OpenAI chat completions

export function chatStream(res: ServerResponse, model: string, reply: { text: string } | { name: string; arguments: Json }, u: SentUsage): void {
  const id = `chatcmpl-${Math.random().toString(36).slice(2)}`;
  const created = Math.floor(Date.now() / 1000);
  const chunk = (choices: unknown[], extra: Json = {}): Json => ({ id, object: "chat.completion.chunk", created, model, choices, ...extra });
  const delta =
    "text" in reply
      ? { role: "assistant", content: reply.text }
      : { role: "assistant", content: null, tool_calls: [{ index: 0, id: `call_${Math.random().toString(36).slice(2)}`, type: "function", function: { name: reply.name, arguments: JSON.stringify(reply.arguments) } }] };
  sse(res, [
    [null, chunk([{ index: 0, delta, finish_reason: null }])],
    [null, chunk([{ index: 0, delta: {}, finish_reason: "text" in reply ? "stop" : "tool_calls" }])],
    [
      null,
      chunk([], {
        usage: {
          prompt_tokens: u.input,
          completion_tokens: u.output,
          total_tokens: u.input + u.output,
          prompt_tokens_details: { cached_tokens: u.cacheRead },
          completion_tokens_details: { reasoning_tokens: u.reasoning },
        },
      }),
    ],
    [null, "[DONE]"],
  ]);
}

// ---------------------------------------------------------------- errors

// OpenAI's real 429 text ("Rate limit reached for <model> in organization …") is not used: the
// core classifier reads "limit reached" as a usage limit (see the report on this suite).
export function sendError(res: ServerResponse, api: FakeApi, mode: Exclude<FakeMode, "success">): void {
  const status = mode === "rate_limit" ? 429 : 401;
  const body =
    api === "anthropic"
      ? { type: "error", error: mode === "rate_limit" ? { type: "rate_limit_error", message: "Number of request tokens has exceeded your per-minute rate limit (fake)" } : { type: "authentication_error", message: "invalid x-api-key" } }
      : {
          error:
            mode === "rate_limit"
              ? { message: "Too many requests, please slow down (fake rate limit).", type: "requests", param: null, code: "rate_limit_exceeded" }
              : { message: "Incorrect API key provided: fake-bad-key.", type: "invalid_request_error", param: null, code: "invalid_api_key" },
        };
  res.writeHead(status, { "content-type": "application/json", ...(mode === "rate_limit" ? { "retry-after": "0", "retry-after-ms": "0" } : {}) });
  res.end(JSON.stringify(body));
}

// ---------------------------------------------------------------- server
