import * as z from "zod";

const key = z.string().regex(/^[A-Za-z0-9][\w.-]{0,63}$/, "a short key: letters, digits, . _ -");
const name = z.string().regex(/^[a-z][a-z0-9-]*$/, "lower-case letters, digits and dashes");

/** A child task the agent asks for (status `delegate`). `after` names sibling keys it waits for. */
export const Delegation = z
  .object({
    key: key.describe("Unique among this handoff's delegations; `after` refers to it"),
    title: z.string().trim().min(1).max(256),
    body: z.string().max(65_536).default(""),
    profile: name.optional(),
    agent: name.optional(),
    after: z.array(key).default([]).describe("Keys of sibling delegations that must finish first"),
  })
  .strict();
export type Delegation = z.infer<typeof Delegation>;

/** What an agent hands back when it stops (`schemas/handoff.v1.json`). Unknown keys are refused. */
export const Handoff = z
  .object({
    schemaVersion: z.literal(1).describe("Major version of this contract; other majors are refused"),
    status: z.enum(["done", "needs_help", "delegate", "failed"]),
    summary: z.string().trim().min(1).max(20_000).describe("What was done and why, for people and for a parent task"),
    filesChanged: z.array(z.string().min(1)).default([]),
    delegations: z.array(Delegation).max(50).default([]),
    question: z.string().max(20_000).optional().describe("For needs_help: what the agent needs answered"),
    blockers: z.array(z.string()).default([]),
    followUps: z.array(z.string()).default([]),
    review: z
      .object({ decision: z.enum(["approve", "request_changes"]), notes: z.string().max(20_000).default("") })
      .strict()
      .optional()
      .describe("A reviewer's decision (profile review); anything else is never an approval"),
  })
  .strict()
  .superRefine((h, ctx) => {
    if (h.status === "delegate" && h.delegations.length === 0) ctx.addIssue({ code: "custom", path: ["delegations"], message: "status delegate needs at least one delegation" });
    if (h.status !== "delegate" && h.delegations.length > 0) ctx.addIssue({ code: "custom", path: ["delegations"], message: `delegations are only allowed with status delegate, not ${h.status}` });
    if (h.status === "needs_help" && !h.question?.trim()) ctx.addIssue({ code: "custom", path: ["question"], message: "status needs_help needs a question" });
    const keys = new Set<string>();
    h.delegations.forEach((d, i) => {
      if (keys.has(d.key)) ctx.addIssue({ code: "custom", path: ["delegations", i, "key"], message: `duplicate key "${d.key}"` });
      keys.add(d.key);
    });
  });
export type Handoff = z.infer<typeof Handoff>;

export type HandoffResult = { ok: true; handoff: Handoff; from: "file" | "message" } | { ok: false; problem: string };

/**
 * The last fenced JSON block of a message: a ```json fence, or a bare ``` fence holding an object.
 * Fences are paired line by line, whatever their language, so a ```ts block before the handoff
 * does not shift the pairing.
 */
export function lastJsonBlock(text: string): string | undefined {
  let found: string | undefined;
  let open: { lang: string; fence: string; body: string[] } | null = null;
  for (const line of text.split(/\r?\n/)) {
    if (open === null) {
      const m = /^\s{0,3}(`{3,}|~{3,})\s*([^\s`]*)/.exec(line);
      if (m) open = { fence: m[1]!, lang: m[2]!.toLowerCase(), body: [] };
      continue;
    }
    if (new RegExp(`^\\s{0,3}${open.fence[0] === "`" ? "`" : "~"}{${open.fence.length},}\\s*$`).test(line)) {
      const body = open.body.join("\n");
      if (open.lang === "json" || (open.lang === "" && body.trim().startsWith("{"))) found = body;
      open = null;
      continue;
    }
    open.body.push(line);
  }
  return found;
}

function problemsOf(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.length ? i.path.join(".") : "handoff"}: ${i.message}`).join("; ");
}

/** Validates a handoff's JSON text; names every problem (for the repair round). */
export function parseHandoffJson(text: string, from: "file" | "message"): HandoffResult {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return { ok: false, problem: `not valid JSON (${(err as Error).message})` };
  }
  const version = (value as { schemaVersion?: unknown } | null)?.schemaVersion;
  if (typeof version === "number" && version !== 1) return { ok: false, problem: `schemaVersion ${version} is not supported; this router reads version 1` };
  const parsed = Handoff.safeParse(value);
  return parsed.success ? { ok: true, handoff: parsed.data, from } : { ok: false, problem: problemsOf(parsed.error) };
}

/**
 * The agent's handoff: the file at AGENT_ROUTER_OUTPUT when it exists and is not empty, else the
 * last fenced JSON block of the final message. A file that exists but is invalid is not silently
 * replaced by the message: its problem is reported.
 */
export function readHandoff(fileText: string | null, finalMessage: string): HandoffResult {
  if (fileText !== null && fileText.trim() !== "") return parseHandoffJson(fileText, "file");
  const block = lastJsonBlock(finalMessage);
  if (block === undefined) return { ok: false, problem: fileText === null ? "no handoff: the output file was not written and the final message has no fenced JSON block" : "no handoff: the output file is empty and the final message has no fenced JSON block" };
  return parseHandoffJson(block, "message");
}
