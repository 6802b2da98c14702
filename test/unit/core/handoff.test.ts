/**
 * The handoff contract (DESIGN.md "Handoff contract"): strict validation of the agent's answer and
 * where it is read from. The fuzz at the bottom is reliability target S10: 10,000 mutated documents,
 * each either valid and typed or rejected, never a crash, judged against an independent oracle.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { HandoffResult } from "../../../src/core/handoff/handoff.ts";
import { lastJsonBlock, parseHandoffJson, readHandoff } from "../../../src/core/handoff/handoff.ts";

type Doc = Record<string, unknown>;
const base: Doc = { schemaVersion: 1, status: "done", summary: "Fixed the retry loop" };
const parse = (doc: unknown): HandoffResult => parseHandoffJson(JSON.stringify(doc), "file");
const problemOf = (r: HandoffResult): string => {
  if (r.ok) throw new Error(`expected a rejection, got ${JSON.stringify(r.handoff)}`);
  return r.problem;
};
const fence = (body: string, tag = "json"): string => "```" + tag + "\n" + body + "\n```";

describe("Handoff: valid documents", () => {
  it("accepts done with only the required fields and fills the defaults", () => {
    expect(parse({ ...base, summary: "  Fixed the retry loop \n" })).toStrictEqual({
      ok: true,
      from: "file",
      handoff: { schemaVersion: 1, status: "done", summary: "Fixed the retry loop", filesChanged: [], delegations: [], blockers: [], followUps: [] },
    });
  });

  it("accepts failed with blockers and follow-ups", () => {
    const r = parse({ ...base, status: "failed", filesChanged: ["src/a.ts"], blockers: ["CI is red on main"], followUps: ["bump node"] });
    expect(r.ok && r.handoff).toMatchObject({ status: "failed", filesChanged: ["src/a.ts"], blockers: ["CI is red on main"], followUps: ["bump node"] });
  });

  it("accepts needs_help with a question", () => {
    const r = parse({ ...base, status: "needs_help", question: "Which API version should the client target?" });
    expect(r.ok && r.handoff).toMatchObject({ status: "needs_help", question: "Which API version should the client target?" });
  });

  it("accepts delegate with delegations and fills delegation defaults", () => {
    const r = parse({
      ...base,
      status: "delegate",
      delegations: [
        { key: "api", title: " Write the API ", profile: "backend", agent: "codex" },
        { key: "ui.v2", title: "Build the UI", body: "Use the new API", after: ["api"] },
      ],
    });
    expect(r.ok && r.handoff.delegations).toStrictEqual([
      { key: "api", title: "Write the API", body: "", profile: "backend", agent: "codex", after: [] },
      { key: "ui.v2", title: "Build the UI", body: "Use the new API", after: ["api"] },
    ]);
  });
});

describe("Handoff: rejected documents name the path", () => {
  it("refuses unknown keys at the top level and inside a delegation", () => {
    expect(problemOf(parse({ ...base, confidence: 0.9 }))).toBe('handoff: Unrecognized key: "confidence"');
    const nested = { ...base, status: "delegate", delegations: [{ key: "a", title: "A", priority: 1 }] };
    expect(problemOf(parse(nested))).toBe('delegations.0: Unrecognized key: "priority"');
  });

  it.each([2, 0, 1.5, -1])("refuses schemaVersion %s with a version problem", (v) => {
    expect(problemOf(parse({ ...base, schemaVersion: v }))).toBe(`schemaVersion ${v} is not supported; this router reads version 1`);
  });

  it('refuses schemaVersion "1" (a string) and a missing schemaVersion, naming the field', () => {
    expect(problemOf(parse({ ...base, schemaVersion: "1" }))).toMatch(/^schemaVersion: .*expected 1/);
    const { schemaVersion: _v, ...noVersion } = base;
    expect(problemOf(parse(noVersion))).toMatch(/^schemaVersion: /);
  });

  it("refuses delegate without delegations", () => {
    expect(problemOf(parse({ ...base, status: "delegate" }))).toBe("delegations: status delegate needs at least one delegation");
  });

  it.each(["done", "failed"])("refuses delegations with status %s", (status) => {
    const p = problemOf(parse({ ...base, status, delegations: [{ key: "a", title: "A" }] }));
    expect(p).toBe(`delegations: delegations are only allowed with status delegate, not ${status}`);
  });

  it.each([undefined, "", "  \n\t"])("refuses needs_help with question %j", (question) => {
    expect(problemOf(parse({ ...base, status: "needs_help", question }))).toBe("question: status needs_help needs a question");
  });

  it("refuses duplicate delegation keys, naming the second one", () => {
    const delegations = [{ key: "a", title: "A" }, { key: "b", title: "B" }, { key: "a", title: "A again" }];
    expect(problemOf(parse({ ...base, status: "delegate", delegations }))).toBe('delegations.2.key: duplicate key "a"');
  });

  it("names every problem at once, and non-JSON text", () => {
    const p = problemOf(parse({ schemaVersion: 1, status: "finished", summary: "   ", filesChanged: [""] }));
    for (const path of ["status: ", "summary: ", "filesChanged.0: "]) expect(p).toContain(path);
    expect(problemOf(parseHandoffJson("{status: done}", "message"))).toMatch(/^not valid JSON \(/);
    expect(problemOf(parseHandoffJson("null", "file"))).toMatch(/^handoff: .*expected object/);
  });
});

const handoffA = JSON.stringify({ ...base, summary: "A" });
const handoffB = JSON.stringify({ ...base, summary: "B" });
const summaryOf = (r: HandoffResult) => (r.ok ? `${r.from}:${r.handoff.summary}` : `problem:${r.problem}`);

describe("readHandoff", () => {
  it("prefers a non-empty file over the message", () => {
    expect(summaryOf(readHandoff(handoffA, fence(handoffB)))).toBe("file:A");
  });

  it.each([[null], [""], [" \n\t "]])("falls back to the message when the file is %j", (file) => {
    expect(summaryOf(readHandoff(file, `Done.\n${fence(handoffB)}`))).toBe("message:B");
  });

  it("takes the last of several blocks, skipping a trailing bare block that is not an object", () => {
    const msg = `First try:\n${fence(handoffA)}\nFinal:\n${fence(handoffB)}\nOutput:\n${fence("$ npm test\nok", "")}\n`;
    expect(summaryOf(readHandoff(null, msg))).toBe("message:B");
  });

  it("accepts a bare fence holding an object, CRLF line endings and text after the block", () => {
    expect(summaryOf(readHandoff(null, `Here:\n${fence(handoffB, "")}`))).toBe("message:B");
    const crlf = `Done.\r\n\`\`\`json\r\n{\r\n  "schemaVersion": 1,\r\n  "status": "done",\r\n  "summary": "B"\r\n}\r\n\`\`\`\r\nThanks!\r\n`;
    expect(summaryOf(readHandoff(null, crlf))).toBe("message:B");
    expect(summaryOf(readHandoff(null, `${fence(handoffB)}\nLet me know if you need more.`))).toBe("message:B");
  });

  it("reports no handoff, naming which source was missing", () => {
    expect(readHandoff(null, "All done, no JSON here.")).toStrictEqual({ ok: false, problem: "no handoff: the output file was not written and the final message has no fenced JSON block" });
    expect(readHandoff("", fence("ls -la", ""))).toStrictEqual({ ok: false, problem: "no handoff: the output file is empty and the final message has no fenced JSON block" });
  });

  it("reports an invalid file even when the message has a valid block", () => {
    expect(readHandoff('{"schemaVersion":1,"status":"done"}', fence(handoffB))).toStrictEqual({ ok: false, problem: "summary: Invalid input: expected string, received undefined" });
    expect(problemOf(readHandoff("{truncated", fence(handoffB)))).toMatch(/^not valid JSON/);
  });

  it("reports an invalid message block rather than an older valid one", () => {
    expect(problemOf(readHandoff(null, `${fence(handoffA)}\n${fence('{"schemaVersion":2}')}`))).toBe("schemaVersion 2 is not supported; this router reads version 1");
  });

  // Regression (was a bug, fixed): a fence with another language tag (```ts, ```bash) is not matched
  // as an opener, so its closing fence opens a "block" that runs to the json block's opening fence
  // and the fences pair up wrongly. Expected the json block; actual undefined (or the prose between).
  it("finds the json block after a fenced block in another language", () => {
    expect(lastJsonBlock(`Changed:\n${fence("const x = 1;", "ts")}\nHandoff:\n${fence(handoffB)}\n`)).toBe(handoffB);
  });
});

// ---------------------------------------------------------------------------------------------
// S10 fuzz. The oracle is written from the contract, not from zod: plain type and length checks.
// ---------------------------------------------------------------------------------------------

const isObj = (v: unknown): v is Doc => typeof v === "object" && v !== null && !Array.isArray(v);
const onlyKeys = (o: Doc, allowed: string[]) => Object.keys(o).every((k) => allowed.includes(k));
const charsIn = (s: string, ok: (c: string) => boolean) => [...s].every(ok);
const alnum = (c: string) => (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || (c >= "0" && c <= "9");
const isKey = (v: unknown) => typeof v === "string" && v.length >= 1 && v.length <= 64 && alnum(v[0]!) && charsIn(v, (c) => alnum(c) || "_.-".includes(c));
const isName = (v: unknown) => typeof v === "string" && v[0] !== undefined && v[0] >= "a" && v[0] <= "z" && charsIn(v, (c) => (c >= "a" && c <= "z") || (c >= "0" && c <= "9") || c === "-");
const trimmedIn = (v: unknown, min: number, max: number) => typeof v === "string" && v.trim().length >= min && v.trim().length <= max;
const optional = (v: unknown, check: (v: unknown) => boolean) => v === undefined || check(v);
const strings = (v: unknown, min = 0) => Array.isArray(v) && v.every((s) => typeof s === "string" && s.length >= min);

function oracleDelegation(d: unknown): boolean {
  if (!isObj(d) || !onlyKeys(d, ["key", "title", "body", "profile", "agent", "after"])) return false;
  return isKey(d["key"]) && trimmedIn(d["title"], 1, 256) && optional(d["body"], (b) => typeof b === "string" && b.length <= 65_536) && optional(d["profile"], isName) && optional(d["agent"], isName) && optional(d["after"], (a) => Array.isArray(a) && a.every(isKey));
}

function oracle(doc: unknown): boolean {
  if (!isObj(doc) || !onlyKeys(doc, ["schemaVersion", "status", "summary", "filesChanged", "delegations", "question", "blockers", "followUps"])) return false;
  const { status, delegations = [], question } = doc;
  if (doc["schemaVersion"] !== 1 || !["done", "needs_help", "delegate", "failed"].includes(status as string)) return false;
  if (!trimmedIn(doc["summary"], 1, 20_000) || !optional(doc["filesChanged"], (f) => strings(f, 1))) return false;
  if (!optional(doc["blockers"], strings) || !optional(doc["followUps"], strings)) return false;
  if (!optional(question, (q) => typeof q === "string" && q.length <= 20_000)) return false;
  if (!Array.isArray(delegations) || delegations.length > 50 || !delegations.every(oracleDelegation)) return false;
  if ((status === "delegate") !== (delegations.length > 0)) return false;
  if (status === "needs_help" && !(typeof question === "string" && question.trim() !== "")) return false;
  const keys = delegations.map((d: Doc) => d["key"]);
  return new Set(keys).size === keys.length;
}

const odd = fc.constantFrom("a", "Z", "0", "-", ".", "_", " ", "\t", "\n", "\u00a0", "\ufeff", "\u2028", "é", "😀", "\u0000", "\ud800", "/", '"', "\\");
const oddString = fc.oneof(fc.string({ maxLength: 12, unit: odd }), fc.string({ maxLength: 12, unit: "grapheme" }), fc.string({ maxLength: 6, unit: "binary" }));
const huge = fc.tuple(fc.constantFrom(256, 257, 20_000, 20_001, 65_536, 65_537), fc.constantFrom("x", " ", "é")).map(([n, c]) => (c === " " ? ` ${"y".repeat(n)} ` : c.repeat(n)));
const validKey = fc.stringMatching(/^[A-Za-z0-9][\w.-]{0,8}$/);
const validName = fc.stringMatching(/^[a-z][a-z0-9-]{0,8}$/);
const text = fc.oneof(fc.string({ minLength: 1, maxLength: 20 }), oddString);
const junk = fc.oneof(
  fc.constantFrom<unknown>(null, true, false, 0, 1, 2, -1, 1.5, "1", "", [], {}, "done", "delegate", "needs_help", "failed", ["x"], [""], [{ key: "a", title: "A" }]),
  oddString,
  huge,
  fc.jsonValue({ maxDepth: 3 }),
);
const protoKey = fc.constantFrom("__proto__", "constructor", "prototype", "toString", "hasOwnProperty", "valueOf", "key", "extra");
const field = fc.constantFrom("schemaVersion", "status", "summary", "filesChanged", "delegations", "question", "blockers", "followUps");
const delegationField = fc.constantFrom("key", "title", "body", "profile", "agent", "after");

const delegation = fc.record({ key: validKey, title: text, body: fc.oneof(fc.string(), huge), profile: validName, agent: validName, after: fc.array(validKey, { maxLength: 3 }) }, { requiredKeys: ["key", "title"] });
const validish = fc.record(
  {
    schemaVersion: fc.constant(1),
    status: fc.constantFrom("done", "needs_help", "delegate", "failed"),
    summary: fc.oneof({ weight: 4, arbitrary: text }, { weight: 1, arbitrary: huge }),
    filesChanged: fc.array(text, { maxLength: 3 }),
    delegations: fc.array(delegation, { minLength: 1, maxLength: 4 }),
    question: text,
    blockers: fc.array(text, { maxLength: 2 }),
    followUps: fc.array(text, { maxLength: 2 }),
  },
  { requiredKeys: ["schemaVersion", "status", "summary"] },
).map((d) => (d.status === "delegate" ? d : { ...d, delegations: undefined }));

type Mutation =
  | { op: "drop"; field: string }
  | { op: "set"; field: string; value: unknown }
  | { op: "extra"; key: string; value: unknown }
  | { op: "inDelegation"; index: number; field: string; value: unknown; drop: boolean }
  | { op: "dupDelegation" }
  | { op: "manyDelegations"; count: number }
  | { op: "replaceDoc"; value: unknown };
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant("drop" as const), field }),
  fc.record({ op: fc.constant("set" as const), field, value: junk }),
  fc.record({ op: fc.constant("extra" as const), key: fc.oneof(protoKey, oddString), value: junk }),
  fc.record({ op: fc.constant("inDelegation" as const), index: fc.nat(3), field: fc.oneof(delegationField, protoKey), value: junk, drop: fc.boolean() }),
  fc.constant({ op: "dupDelegation" as const }),
  fc.record({ op: fc.constant("manyDelegations" as const), count: fc.integer({ min: 49, max: 52 }) }),
  fc.record({ op: fc.constant("replaceDoc" as const), value: junk }),
);

/**
 * Sets an own property even for "__proto__", as JSON.parse would. The value is copied: generated
 * constants (`{}`, `[]`) are shared between runs, and mutating them would build cycles across runs.
 */
const setOwn = (o: Doc, k: string, v: unknown) =>
  Object.defineProperty(o, k, { value: v === undefined ? undefined : (JSON.parse(JSON.stringify(v)) as unknown), enumerable: true, writable: true, configurable: true });

function mutate(start: Doc, mutations: Mutation[]): unknown {
  let doc: unknown = JSON.parse(JSON.stringify(start));
  for (const m of mutations) {
    if (m.op === "replaceDoc") doc = m.value === undefined ? undefined : (JSON.parse(JSON.stringify(m.value)) as unknown);
    if (!isObj(doc)) continue;
    const ds = doc["delegations"];
    if (m.op === "drop") delete doc[m.field];
    if (m.op === "set") setOwn(doc, m.field, m.value);
    if (m.op === "extra") setOwn(doc, m.key, m.value);
    if (m.op === "dupDelegation" && Array.isArray(ds) && ds.length > 0) ds.push(ds[0]);
    if (m.op === "manyDelegations") doc["delegations"] = Array.from({ length: m.count }, (_, i) => ({ key: `d${i}`, title: "T" }));
    if (m.op === "inDelegation" && Array.isArray(ds) && isObj(ds[m.index % Math.max(ds.length, 1)])) {
      const d = ds[m.index % ds.length] as Doc;
      if (m.drop) delete d[m.field];
      else setOwn(d, m.field, m.value);
    }
  }
  return doc;
}

describe("S10: fuzzed handoff documents", () => {
  it("10,000 mutated documents: never a throw, ok exactly when the oracle says valid", () => {
    let accepted = 0;
    let rejected = 0;
    fc.assert(
      fc.property(validish, fc.array(mutation, { maxLength: 3 }), (start, mutations) => {
        const json = JSON.stringify(mutate(start, mutations));
        const expected = oracle(JSON.parse(json));
        const r = parseHandoffJson(json, "message");
        if (r.ok) {
          accepted++;
          expect(r.from).toBe("message");
          expect(Array.isArray(r.handoff.delegations) && Array.isArray(r.handoff.filesChanged)).toBe(true);
        } else {
          rejected++;
          expect(r.problem.length).toBeGreaterThan(0);
        }
        expect({ ok: r.ok, doc: json.slice(0, 300) }).toStrictEqual({ ok: expected, doc: json.slice(0, 300) });
      }),
      { numRuns: 10_000 },
    );
    // Both outcomes are well represented, so the oracle is really being compared on each side.
    expect(Math.min(accepted, rejected)).toBeGreaterThan(1_500);
  });
});
