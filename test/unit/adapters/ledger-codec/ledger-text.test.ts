import fc from "fast-check";
import { describe, expect, it } from "vitest";
import YAML from "yaml";
import type { ItemLayout, LedgerLayout } from "../../../../src/adapters/ledger-codec/ledger-text.ts";
import { decodeLedgerText, YamlSyntaxError } from "../../../../src/adapters/ledger-codec/ledger-text.ts";
import { encodeLedgerText } from "../../../../src/adapters/ledger-codec/encode-ledger-text.ts";
import { renderSequenceItem, renderYaml } from "../../../../src/adapters/ledger-codec/render-yaml.ts";
import { TASK_STATUSES } from "../../../../src/core/ledger/task.ts";
import { anyKey, anyNumber, anyString, INVISIBLE, jsonLike } from "./arbitraries.ts";

/** Runs per property; CODEC_RUNS=… raises it for a longer hunt. */
const RUNS = Number(process.env.CODEC_RUNS ?? 2_000);
const TIMEOUT = Math.max(60_000, RUNS * 30);

type Json = Record<string, unknown>;
type Ledger = { schemaVersion: number; nextId: number; tasks: Json[]; jobs: Json; deliveries: Json[] } & Json;

// ---------------------------------------------------------------------------------------------
// Arbitraries for ledger-shaped data

const isoTime = fc.integer({ min: Date.UTC(2020, 0, 1), max: Date.UTC(2030, 0, 1) }).map((ms) => new Date(ms).toISOString());
const text = anyString;
const smallInt = fc.integer({ min: 1, max: 1_000_000 });

const sourceArb = fc.oneof(
  fc.constant({ kind: "cli" }),
  fc.record({ kind: fc.constant("issue"), repo: text, issue: smallInt }, { requiredKeys: ["kind", "issue"] }),
  fc.record({ kind: fc.constant("job"), jobId: text, slot: isoTime }),
  fc.record({ kind: fc.constant("parent"), parentId: smallInt, key: text }),
);

const attemptArb = fc.record(
  {
    n: smallInt,
    key: text,
    agent: text,
    model: text,
    startedAt: isoTime,
    endedAt: isoTime,
    outcome: fc.constantFrom("success", "failure", "timeout", "lease_expired", "cancelled"),
    error: text,
    usage: fc.record({ inputTokens: fc.nat(), outputTokens: fc.nat(), costUsd: anyNumber }, { requiredKeys: ["inputTokens", "outputTokens"] }),
  },
  { requiredKeys: ["n", "key", "agent", "startedAt"] },
);

const historyArb = fc.record(
  {
    at: isoTime,
    type: text,
    from: fc.constantFrom(...TASK_STATUSES),
    to: fc.constantFrom(...TASK_STATUSES),
    by: text,
    traceId: text,
    note: text,
    data: fc.dictionary(anyKey, jsonLike, { maxKeys: 3, noNullPrototype: true }),
  },
  { requiredKeys: ["at", "type", "to", "by", "traceId"] },
);

function taskArb(id: number): fc.Arbitrary<Json> {
  return fc.record(
    {
      id: fc.constant(id),
      source: sourceArb,
      title: text,
      body: text,
      labels: fc.array(text, { maxLength: 4 }),
      status: fc.constantFrom(...TASK_STATUSES),
      maxAttempts: fc.integer({ min: 1, max: 9 }),
      budgetFrom: fc.integer({ min: 1, max: 9 }),
      route: fc.record({
        agent: text,
        profile: text,
        complexity: fc.constantFrom("low", "medium", "high"),
        reason: text,
        decidedBy: fc.constantFrom("override", "rule", "llm", "fallback"),
      }),
      attempts: fc.array(attemptArb, { maxLength: 2 }),
      children: fc.array(smallInt, { maxLength: 3 }),
      after: fc.array(text, { maxLength: 2 }),
      approvals: fc.array(fc.record({ by: text, at: isoTime, attempt: fc.nat() }), { maxLength: 1 }),
      github: fc.record({ issue: smallInt, pr: smallInt, branch: text }, { requiredKeys: [] }),
      result: fc.dictionary(anyKey, jsonLike, { maxKeys: 3, noNullPrototype: true }),
      retryAt: isoTime,
      history: fc.array(historyArb, { minLength: 1, maxLength: 3 }),
    },
    { requiredKeys: ["id", "source", "title", "body", "labels", "status", "maxAttempts", "budgetFrom", "attempts", "children", "after", "approvals", "history"] },
  );
}

const ledgerArb: fc.Arbitrary<Ledger> = fc.uniqueArray(fc.integer({ min: 1, max: 500 }), { maxLength: 6 }).chain((ids) =>
  fc.record({
    schemaVersion: fc.constant(1),
    nextId: fc.constant(Math.max(0, ...ids) + 1),
    tasks: ids.length > 0 ? fc.tuple(...ids.map(taskArb)) : fc.constant([]),
    jobs: fc.dictionary(anyKey, fc.record({ lastSlot: isoTime, activeTaskId: smallInt }, { requiredKeys: [] }), { maxKeys: 3, noNullPrototype: true }),
    deliveries: fc.array(fc.record({ id: text, at: isoTime }), { maxLength: 3 }),
  }),
);

/**
 * Ledgers whose strings the yaml stringifier can write in place (it mangles whitespace-only lines in
 * multi-line text, and a line before the last that ends with ":" or is just "-" or "?"; for those the
 * codec writes the task canonically, dropping its comments, see the regression tests): printable
 * ASCII words, spaces inside lines, and newlines.
 */
const readableText = fc
  .array(fc.oneof(fc.string({ unit: "grapheme-ascii", maxLength: 12 }), fc.constantFrom("a: b", "# not a comment", "- item", "'q'", '"q"', "0x1F", "true", "null", "~", "|", "é", "x\u202ey")), { maxLength: 4 })
  .map((parts) => parts.join("\n"))
  .filter((s) => {
    const ls = s.split("\n");
    return !/^\s|\s$/.test(s) && !ls.some((l) => l.length > 0 && l.trim() === "") && !ls.slice(0, -1).some((l) => l.endsWith(":") || l === "-" || l === "?");
  });

const readableLedgerArb: fc.Arbitrary<Ledger> = fc.uniqueArray(fc.integer({ min: 1, max: 500 }), { minLength: 1, maxLength: 4 }).chain((ids) =>
  fc.record({
    schemaVersion: fc.constant(1),
    nextId: fc.constant(Math.max(...ids) + 1),
    tasks: fc.tuple(
      ...ids.map((id) =>
        fc.record({ id: fc.constant(id), title: readableText, body: readableText, labels: fc.array(readableText, { maxLength: 3 }), status: fc.constantFrom(...TASK_STATUSES), history: fc.array(fc.record({ at: isoTime, note: readableText }), { maxLength: 2 }) }),
      ),
    ),
    jobs: fc.constant({}),
    deliveries: fc.constant([]),
  }),
);

const readableEditArb = editArbOf(
  readableText,
  fc.record({ id: fc.constant(10_000), title: readableText, body: readableText, labels: fc.array(readableText, { maxLength: 2 }) }),
  fc.dictionary(fc.constantFrom("lastSlot", "activeTaskId", "note"), fc.oneof(readableText, smallInt), { noNullPrototype: true }),
);

/** An edit of a ledger: change, drop, move or add tasks, and change the header and the jobs. */
type Edit = { kind: "retitle"; at: number; title: string } | { kind: "drop"; at: number } | { kind: "swap"; at: number } | { kind: "add"; task: Json } | { kind: "nextId"; value: number } | { kind: "job"; key: string; value: unknown };

function editArbOf(str: fc.Arbitrary<string>, newTask: fc.Arbitrary<Json>, value: fc.Arbitrary<unknown>): fc.Arbitrary<Edit> {
  return fc.oneof(
    fc.record({ kind: fc.constant("retitle" as const), at: fc.nat(), title: str }),
    fc.record({ kind: fc.constant("drop" as const), at: fc.nat() }),
    fc.record({ kind: fc.constant("swap" as const), at: fc.nat() }),
    newTask.map((task) => ({ kind: "add" as const, task })),
    fc.record({ kind: fc.constant("nextId" as const), value: smallInt }),
    fc.record({ kind: fc.constant("job" as const), key: anyKey, value }),
  );
}

const editArb = editArbOf(text, taskArb(10_000), jsonLike);

function applyEdits(ledger: Ledger, edits: readonly Edit[]): Ledger {
  let tasks = [...ledger.tasks];
  let next: Ledger = { ...ledger };
  let added = 0;
  for (const e of edits) {
    const at = tasks.length > 0 && "at" in e ? e.at % tasks.length : -1;
    if (e.kind === "retitle" && at >= 0) tasks[at] = { ...tasks[at], title: e.title };
    else if (e.kind === "drop" && at >= 0) tasks.splice(at, 1);
    else if (e.kind === "swap" && at >= 0 && tasks.length > 1) {
      const b = (at + 1) % tasks.length;
      [tasks[at], tasks[b]] = [tasks[b] as Json, tasks[at] as Json];
    } else if (e.kind === "add") tasks = [...tasks, { ...e.task, id: 10_000 + added++ }];
    else if (e.kind === "nextId") next = { ...next, nextId: e.value };
    else if (e.kind === "job") next = { ...next, jobs: { ...next.jobs, [e.key]: e.value } };
  }
  return { ...next, tasks };
}

/** `value` with every string changed just enough to avoid the fast reader's documented gaps (U+2028/9, tab-led literal lines). */
function clearOfReaderGaps<T>(value: T): T {
  const walk = (v: unknown): unknown => {
    if (typeof v === "string") return v.replace(/[\u2028\u2029]/g, "\u2027").replace(/\n( *)\t/g, "\n$1_");
    if (Array.isArray(v)) return v.map(walk);
    if (typeof v === "object" && v !== null) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    return v;
  };
  return walk(value) as T;
}

/** The text encodeLedgerText writes. */
function encode(next: Json, layout?: LedgerLayout, origin?: WeakMap<object, ItemLayout>): string {
  return encodeLedgerText(next, layout, origin).text;
}

function fileLines(s: string): string[] {
  const out = s.split("\n");
  if (out.at(-1) === "") out.pop();
  return out;
}

// ---------------------------------------------------------------------------------------------
// A fixed ledger for the comment tests

const T0 = "2026-11-01T09:00:00.000Z";

function task(id: number, extra: Json = {}): Json {
  return {
    id,
    source: { kind: "cli" },
    title: `Task ${id}`,
    body: "",
    labels: ["bug"],
    status: "new",
    maxAttempts: 3,
    budgetFrom: 1,
    attempts: [],
    children: [],
    after: [],
    approvals: [],
    history: [{ at: T0, type: "created", to: "new", by: "cli:tester", traceId: `trace-${id}` }],
    ...extra,
  };
}

function baseLedger(): Ledger {
  return {
    schemaVersion: 1,
    nextId: 4,
    tasks: [task(1), task(2, { body: "Line one\nLine two\n" }), task(3)],
    jobs: { nightly: { lastSlot: T0 } },
    deliveries: [{ id: "d-1", at: T0 }],
  };
}

const COMMENTS = {
  fileHead: "# Ledger for agent-router",
  beforeTasks: "# tasks below are managed by the router",
  beforeTask2: "  # task 2 was edited by hand",
  inline: " # keep this title",
  insideTask2: "    # labels reviewed",
  fileEnd: "# end of file",
};

/** The rendered base ledger with a comment before a top-level key, before task 2, inside it, inline in it, and at the end. */
function commentedText(): string {
  const ls = fileLines(renderYaml(baseLedger()));
  const out: string[] = [COMMENTS.fileHead];
  let inTask2 = false;
  for (const l of ls) {
    if (l.startsWith("  - ")) inTask2 = l === "  - id: 2";
    if (l === "tasks:") out.push(COMMENTS.beforeTasks);
    if (l === "  - id: 2") out.push(COMMENTS.beforeTask2);
    if (inTask2 && l === "    labels:") out.push(COMMENTS.insideTask2);
    out.push(inTask2 && l === "    title: Task 2" ? l + COMMENTS.inline : l);
  }
  out.push(COMMENTS.fileEnd);
  return `${out.join("\n")}\n`;
}

/** An item's text: its leading comment lines and its own lines. */
function itemText(item: ItemLayout): string {
  return item.leading ? `${item.leading}\n${item.text}` : item.text;
}

function expectAllComments(out: string): void {
  for (const c of Object.values(COMMENTS)) expect(out).toContain(c.trim());
  expect(out).toContain(`title: Task 2${COMMENTS.inline}`);
}

// ---------------------------------------------------------------------------------------------

describe("decodeLedgerText on canonical text (property)", () => {
  it(`decode(render(x)).raw equals x, every piece is canonical, and encode with the layout gives the same bytes (${RUNS} runs)`, () => {
    fc.assert(
      fc.property(ledgerArb, (ledger) => {
        const rendered = renderYaml(ledger);
        const { raw, layout } = decodeLedgerText(rendered);
        expect(raw).toEqual(ledger);
        expect(Object.keys(raw as Json)).toEqual(Object.keys(ledger));
        expect(layout.trailer).toBe("");
        const ls = fileLines(rendered);
        for (const block of layout.blocks) {
          expect(block.leading).toBe("");
          expect(ls[block.line - 1]?.startsWith(`${block.key}:`)).toBe(true);
          if (block.items) {
            expect(block.canonical).toBe(true);
            block.items.forEach((item) => {
              // Canonical unless the value hits one of the fast reader's documented gaps (render-read.test.ts).
              expect(item.canonical).toBe(true);
              expect(ls[item.line - 1]).toBe(item.text.split("\n")[0]);
              expect(item.text.startsWith("  - ")).toBe(true);
            });
          } else {
            expect(block.canonical).toBe(true);
          }
        }
        expect(encode(ledger, layout)).toBe(rendered);
        expect(encode(raw as Json, layout)).toBe(rendered);
        expect(encode(ledger)).toBe(rendered);
      }),
      { numRuns: RUNS },
    );
  }, TIMEOUT);

  it(`after any edit, encode with the old layout equals a fresh render of the new value (${RUNS} runs)`, () => {
    // Strings are kept clear of the fast reader's documented gaps: items it cannot read are edited with
    // the yaml Document API (tested below), whose stringifier has round-trip bugs of its own.
    fc.assert(
      fc.property(ledgerArb.map(clearOfReaderGaps), fc.array(editArb.map(clearOfReaderGaps), { minLength: 1, maxLength: 4 }), (ledger, edits) => {
        const { raw, layout } = decodeLedgerText(renderYaml(ledger));
        const next = applyEdits(raw as Ledger, edits);
        const first = encodeLedgerText(next, layout);
        const out = first.text;
        expect(YAML.parse(out)).toEqual(next);
        expect(decodeLedgerText(out).raw).toEqual(next);
        // Canonical in, canonical out: what is copied is byte-identical to what would be rendered.
        expect(out).toBe(renderYaml(next));
        expect(out).not.toMatch(INVISIBLE);
        // A second write from the layout the first one returned equals one from re-reading the file.
        const next2 = applyEdits(next, edits);
        expect(encode(next2, first.layout)).toBe(encode(next2, decodeLedgerText(out).layout));
      }),
      { numRuns: RUNS },
    );
  }, TIMEOUT);

  it(`with a comment in every task, edits go through the yaml Document API and keep values and comments (${RUNS} runs)`, () => {
    fc.assert(
      fc.property(readableLedgerArb, fc.array(readableEditArb, { minLength: 1, maxLength: 4 }), (ledger, edits) => {
        const commented = renderYaml(ledger).replace(/^ {2}- id: (\d+)$/gm, "  # about task $1\n  - id: $1 # id $1");
        const { raw, layout } = decodeLedgerText(commented);
        expect(raw).toEqual(ledger);
        expect(layout.blocks.find((b) => b.key === "tasks")?.items?.every((i) => !i.canonical)).toBe(true);
        const next = applyEdits(raw as Ledger, edits);
        const first = encodeLedgerText(next, layout);
        const out = first.text;
        expect(YAML.parse(out)).toEqual(next);
        expect(decodeLedgerText(out).raw).toEqual(next);
        const next2 = applyEdits(next, edits);
        expect(encode(next2, first.layout)).toBe(encode(next2, decodeLedgerText(out).layout));
        for (const t of next.tasks) {
          if ((t.id as number) >= 10_000) continue; // added by the edit: no comments
          expect(out).toContain(`  # about task ${String(t.id)}\n  - id: ${String(t.id)} # id ${String(t.id)}\n`);
        }
      }),
      { numRuns: RUNS },
    );
  }, TIMEOUT);
});

describe("decodeLedgerText on hand-edited text (property)", () => {
  it(`never disagrees with yaml: same value, or YamlSyntaxError, and always an error where yaml finds one (${RUNS} runs)`, () => {
    const inserts = ["# c\n", "  # c\n", " # c", "\n", "\n\n", "  ", " ", "\t", "- ", "-", ": x", "x: 1\n", "  x: 1\n", "    x: 1\n", "  - y\n", "- y\n", "'", '"', "[", "|", "&a ", "*a", "---\n", "...\n", "tasks:\n", "\\"];
    let agreed = 0;
    let threw = 0;
    fc.assert(
      fc.property(readableLedgerArb, fc.constantFrom(...inserts), fc.nat(), (ledger, insert, at) => {
        const base = renderYaml(ledger);
        const pos = at % (base.length + 1);
        const edited = base.slice(0, pos) + insert + base.slice(pos);
        const doc = YAML.parseDocument(edited, { uniqueKeys: true });
        let decoded: unknown;
        try {
          decoded = decodeLedgerText(edited).raw;
        } catch (err) {
          // Rejecting is always safe. Decode is stricter than the yaml package, which tolerates some
          // text YAML 1.2 forbids (a flow collection closed at column 0, a quoted scalar running on over
          // less-indented lines, a line indented less than its block): those throw here too.
          expect(err).toBeInstanceOf(YamlSyntaxError);
          if (doc.errors.length > 0) threw++;
          return;
        }
        expect(doc.errors, edited).toEqual([]);
        expect(decoded, edited).toEqual(doc.toJS());
        agreed++;
      }),
      { numRuns: RUNS },
    );
    expect(agreed).toBeGreaterThan(RUNS / 4);
    expect(threw).toBeGreaterThan(RUNS / 20);
  }, TIMEOUT);
});

describe("comments survive a write", () => {
  it("decodes the commented file to the same value, with the commented task read by yaml and the rest by the fast reader", () => {
    const { raw, layout } = decodeLedgerText(commentedText());
    expect(raw).toEqual(baseLedger());
    expect(layout.blocks.map((b) => b.key)).toEqual(["schemaVersion", "nextId", "tasks", "jobs", "deliveries"]);
    expect(layout.blocks[0]?.leading).toBe(COMMENTS.fileHead);
    expect(layout.blocks[2]?.leading).toBe(COMMENTS.beforeTasks);
    expect(layout.trailer).toBe(COMMENTS.fileEnd);
    const items = layout.blocks[2]?.items ?? [];
    expect(items.map((i) => i.canonical)).toEqual([true, false, true]);
    expect(items[1]?.leading).toBe(COMMENTS.beforeTask2);
    expect(items[1]?.text.split("\n")).toContain(COMMENTS.insideTask2);
  });

  it("changing another task and nextId keeps every comment and copies the commented task byte for byte", () => {
    const original = commentedText();
    const { raw, layout } = decodeLedgerText(original);
    const ledger = raw as Ledger;
    const task3 = { ...ledger.tasks[2], status: "routed", labels: ["bug", "p1"], body: "Now with\na body" };
    const next: Ledger = { ...ledger, nextId: 5, tasks: [ledger.tasks[0] as Json, ledger.tasks[1] as Json, task3] };
    const out = encode(next, layout);

    expectAllComments(out);
    const task2Item = layout.blocks[2]?.items?.[1] as ItemLayout;
    expect(out).toContain(`\n${itemText(task2Item)}\n`);
    expect(YAML.parse(out)).toEqual(next);
    expect(decodeLedgerText(out).raw).toEqual(next);
    // Exactly two things changed in the text: the nextId line and task 3.
    const expected = original
      .replace("\nnextId: 4\n", "\nnextId: 5\n")
      .replace(renderSequenceItem(ledger.tasks[2]!, "  ").join("\n"), renderSequenceItem(task3, "  ").join("\n"));
    expect(expected).not.toBe(original);
    expect(out).toBe(expected);
  });

  it("changing the commented task itself edits it in place: its comments survive and the value is right", () => {
    const original = commentedText();
    const { raw, layout } = decodeLedgerText(original);
    const ledger = raw as Ledger;
    const task2 = { ...ledger.tasks[1], title: "Task 2, renamed: now with a colon", status: "done", labels: ["bug", "docs"], retryAt: T0 };
    const next: Ledger = { ...ledger, tasks: [ledger.tasks[0] as Json, task2, ledger.tasks[2] as Json] };
    const out = encode(next, layout);

    for (const c of Object.values(COMMENTS)) expect(out).toContain(c.trim());
    expect(out).toMatch(/title: "Task 2, renamed: now with a colon" # keep this title\n/);
    expect(YAML.parse(out)).toEqual(next);
    const again = decodeLedgerText(out);
    expect(again.raw).toEqual(next);
    expect(again.layout.blocks[2]?.items?.[1]?.leading).toBe(COMMENTS.beforeTask2);
    // Everything outside task 2 is unchanged.
    const items = layout.blocks[2]?.items as ItemLayout[];
    const before = original.slice(0, original.indexOf(itemText(items[1]!)));
    const after = original.slice(original.indexOf(itemText(items[2]!)));
    expect(out.startsWith(before)).toBe(true);
    expect(out.endsWith(after)).toBe(true);
  });

  it("removing a key from the commented task and changing a nested value also keeps its comments", () => {
    const { raw, layout } = decodeLedgerText(commentedText());
    const ledger = raw as Ledger;
    const { labels: _labels, ...rest } = ledger.tasks[1] as Json;
    const task2 = { ...rest, history: [{ ...(rest.history as Json[])[0], note: "edited" }] };
    const next: Ledger = { ...ledger, tasks: [ledger.tasks[0] as Json, task2, ledger.tasks[2] as Json] };
    const out = encode(next, layout);
    expect(out).toContain(COMMENTS.beforeTask2);
    expect(out).toContain(`title: Task 2${COMMENTS.inline}`);
    expect(YAML.parse(out)).toEqual(next);
  });

  it("a changed non-item block with a comment (jobs) is edited in place: the comment survives", () => {
    const original = commentedText().replace("  nightly:\n", "  nightly: # the nightly job\n");
    const { raw, layout } = decodeLedgerText(original);
    expect(layout.blocks[3]?.canonical).toBe(false);
    const next = { ...(raw as Ledger), jobs: { nightly: { lastSlot: T0, activeTaskId: 3 }, weekly: {} } };
    const out = encode(next, layout);
    // yaml's Document API keeps the comment but moves it from after `nightly:` to the line below.
    expect(out).toContain("  nightly:\n    # the nightly job\n    lastSlot:");
    expect(YAML.parse(out)).toEqual(next);
    const after = decodeLedgerText(out);
    expect(after.raw).toEqual(next);
    // Only the jobs block changed.
    expect(out.slice(0, out.indexOf("jobs:"))).toBe(original.slice(0, original.indexOf("jobs:")));
    expect(out.slice(out.indexOf("deliveries:"))).toBe(original.slice(original.indexOf("deliveries:")));
  });
});

describe("key order", () => {
  const odd = { status: "new", title: "Odd order", id: 2, labels: ["z"], body: "", source: { kind: "cli" }, history: [{ to: "new", at: T0, type: "created", by: "x", traceId: "t" }] };

  it("a task with keys in an unusual order keeps that order after an unrelated change", () => {
    const ledger: Ledger = { schemaVersion: 1, nextId: 4, tasks: [task(1), odd, task(3)], jobs: {}, deliveries: [] };
    const original = renderYaml(ledger);
    const { raw, layout } = decodeLedgerText(original);
    expect(Object.keys((raw as Ledger).tasks[1]!)).toEqual(Object.keys(odd));
    const next = { ...(raw as Ledger), nextId: 9, tasks: [(raw as Ledger).tasks[0]!, (raw as Ledger).tasks[1]!, { ...task(3), status: "done" }] };
    const out = encode(next, layout);
    expect(out).toContain(renderSequenceItem(odd, "  ").join("\n"));
    const parsed = YAML.parse(out) as Ledger;
    expect(Object.keys(parsed.tasks[1]!)).toEqual(Object.keys(odd));
    expect(Object.keys((parsed.tasks[1]!.history as Json[])[0]!)).toEqual(Object.keys(odd.history[0]!));
    expect(parsed).toEqual(next);
  });

  it("a hand-edited task keeps its own key order when it changes, whatever order the new object has", () => {
    const ledger: Ledger = { schemaVersion: 1, nextId: 4, tasks: [task(1), odd], jobs: {}, deliveries: [] };
    const original = renderYaml(ledger).replace("    title: Odd order\n", "    title: Odd order # hand-edited\n");
    const { layout } = decodeLedgerText(original);
    expect(layout.blocks[2]?.items?.[1]?.canonical).toBe(false);
    // The new object lists its keys in another order (as a schema parse would).
    const changed = { id: 2, source: { kind: "cli" }, title: "Odd order", body: "", labels: ["z", "y"], status: "routed", history: odd.history };
    const out = encode({ ...ledger, tasks: [task(1), changed] }, layout);
    const parsed = YAML.parse(out) as Ledger;
    expect(Object.keys(parsed.tasks[1]!)).toEqual(Object.keys(odd));
    expect(parsed.tasks[1]).toEqual(changed);
    expect(out).toContain("# hand-edited");
  });
});

describe("origin identity, removing and adding tasks", () => {
  const handFormatted = [
    "schemaVersion: 1",
    "nextId: 4",
    "tasks:",
    "  - id: 1",
    "    title: 'single quoted'",
    "    labels: [bug, ui]",
    "    status: new",
    "  # about task 2",
    "  - id: 2",
    "    title: Second",
    "    labels: []",
    "  - id: 3",
    "    title: Third",
    "    labels: []",
    "",
  ].join("\n");

  it("an object that origin maps to its item is copied verbatim, even when its keys come in another order", () => {
    const { raw, layout } = decodeLedgerText(handFormatted);
    const items = layout.blocks[2]?.items as ItemLayout[];
    expect(items[0]?.canonical).toBe(false);
    // The same task with keys in schema order, as a validated copy would have them.
    const t1 = { id: 1, status: "new", labels: ["bug", "ui"], title: "single quoted" };
    const next = { ...(raw as Ledger), tasks: [t1, ...(raw as Ledger).tasks.slice(1)] };

    const withOrigin = encode(next, layout, new WeakMap<object, ItemLayout>([[t1, items[0]!]]));
    expect(withOrigin).toBe(handFormatted);

    // Without origin the reordered object counts as changed and its item is re-rendered.
    // (edited through the yaml Document API, which keeps the document's key order but reformats it).
    const without = encode(next, layout);
    expect(without).not.toBe(handFormatted);
    expect(YAML.parse(without)).toEqual(next);
    expect(Object.keys((YAML.parse(without) as Ledger).tasks[0]!)).toEqual(["id", "title", "labels", "status"]);
    expect(without.slice(without.indexOf("  # about task 2"))).toBe(handFormatted.slice(handFormatted.indexOf("  # about task 2")));
  });

  it("origin keeps an item's text and leading comment when the item moves", () => {
    const { raw, layout } = decodeLedgerText(handFormatted);
    const items = layout.blocks[2]?.items as ItemLayout[];
    const tasks = (raw as Ledger).tasks;
    const origin = new WeakMap<object, ItemLayout>(tasks.map((t, i) => [t, items[i]!]));
    const out = encode({ ...(raw as Ledger), tasks: [tasks[1]!, tasks[2]!, tasks[0]!] }, layout, origin);
    expect(out).toBe(["schemaVersion: 1", "nextId: 4", "tasks:", itemText(items[1]!), items[2]!.text, items[0]!.text, ""].join("\n"));
  });

  it("removing a task drops its text and its leading comment, and nothing else", () => {
    const { raw, layout } = decodeLedgerText(handFormatted);
    const tasks = (raw as Ledger).tasks;
    const out = encode({ ...(raw as Ledger), tasks: [tasks[0]!, tasks[2]!] }, layout);
    expect(out).toBe(handFormatted.replace("  # about task 2\n  - id: 2\n    title: Second\n    labels: []\n", ""));
  });

  it("adding a task appends it, rendered canonically at the block's item indent", () => {
    const { raw, layout } = decodeLedgerText(handFormatted);
    const added = task(4, { title: "New: with a colon", body: "two\nlines" });
    const next = { ...(raw as Ledger), nextId: 5, tasks: [...(raw as Ledger).tasks, added] };
    const out = encode(next, layout);
    expect(out).toBe(`${handFormatted.replace("nextId: 4", "nextId: 5")}${renderSequenceItem(added, "  ").join("\n")}\n`);
    expect(YAML.parse(out)).toEqual(next);
  });

  it("keeps a dash-at-column-0 sequence style for new items", () => {
    const original = "schemaVersion: 1\ntasks:\n- id: 1\n  title: a\n";
    const { raw, layout } = decodeLedgerText(original);
    expect(layout.blocks[1]?.itemIndent).toBe(0);
    expect(layout.blocks[1]?.items?.[0]?.canonical).toBe(true);
    const out = encode({ ...(raw as Ledger), tasks: [...(raw as Ledger).tasks, { id: 2, title: "b" }] }, layout);
    expect(out).toBe("schemaVersion: 1\ntasks:\n- id: 1\n  title: a\n- id: 2\n  title: b\n");
  });

  it("drops a removed top-level key with its leading comment, and appends a new one", () => {
    const original = "schemaVersion: 1\n# old stuff\nlegacy: true\nnextId: 2\n";
    const { layout } = decodeLedgerText(original);
    const out = encode({ schemaVersion: 1, nextId: 2, tasks: [] }, layout);
    expect(out).toBe("schemaVersion: 1\nnextId: 2\ntasks: []\n");
  });
});

describe("errors", () => {
  function syntaxError(text: string): YamlSyntaxError {
    try {
      decodeLedgerText(text);
    } catch (err) {
      if (err instanceof YamlSyntaxError) {
        // The line always agrees with where yaml itself places the first error in the whole file.
        const yamlErr = YAML.parseDocument(text, { uniqueKeys: true }).errors[0];
        if (yamlErr) expect(err.line).toBe(yamlErr.linePos?.[0]?.line);
        // And the message does not quote a second, different line number.
        expect(err.message).not.toMatch(/at line \d+/);
        return err;
      }
      throw err;
    }
    throw new Error("decodeLedgerText did not throw");
  }

  const head = "schemaVersion: 1\nnextId: 3\ntasks:\n  - id: 1\n    title: a\n";

  it("an unclosed flow sequence in a task throws YamlSyntaxError on its line or where yaml notices it (the next)", () => {
    // `[` opens on line 6; yaml reports the line where it finds the sequence unclosed.
    for (const rest of ["jobs: {}\n", "    title: b\n  - id: 3\n", ""]) {
      const err = syntaxError(`${head}  - id: [unclosed\n${rest}`);
      expect(err.line).toBeGreaterThanOrEqual(6);
      expect(err.line).toBeLessThanOrEqual(7);
    }
  });

  it("an unclosed flow sequence in a top-level value throws on its line or the next", () => {
    const err = syntaxError("schemaVersion: 1\nnextId: [3\njobs: {}\n");
    expect(err.line).toBeGreaterThanOrEqual(2);
    expect(err.line).toBeLessThanOrEqual(3);
  });

  it("an unterminated quote is located where yaml finds it in the whole file", () => {
    const err = syntaxError(`${head}  - id: 2\n    title: "open\n  - id: 3\n    title: c\n`);
    expect(err.line).toBeGreaterThanOrEqual(7);
  });

  it("a duplicate key inside a task throws on the second occurrence", () => {
    expect(syntaxError(`${head}  - id: 2\n    title: b\n    labels: []\n    title: c\n`).line).toBe(9);
    // Same when the task has comments (the yaml path reads it).
    expect(syntaxError(`${head}  # c\n  - id: 2 # x\n    title: b\n    title: c\n`).line).toBe(9);
  });

  it("a duplicate top-level key throws on the second occurrence", () => {
    expect(syntaxError("schemaVersion: 1\nnextId: 2\ntasks: []\nnextId: 3\n").line).toBe(4);
  });

  it("a tab used as indentation throws on its line", () => {
    expect(syntaxError(`${head}  - id: 2\n\ttitle: b\n`).line).toBe(7);
    expect(syntaxError("schemaVersion: 1\njobs:\n  a: {}\n\tb: {}\n").line).toBe(4);
  });

  it("bad indentation inside a task throws on its line", () => {
    expect(syntaxError("schemaVersion: 1\ntasks:\n  - id: 1\n   title: a\n").line).toBe(4);
  });

  it("a file that does not split into blocks is read whole, with lines still right", () => {
    expect(syntaxError("---\nschemaVersion: 1\nnextId: [\n").line).toBe(4);
  });

  it("a CRLF file is read whole by yaml (not split), to the right value", () => {
    const text = "schemaVersion: 1\r\nnextId: 2\r\ntasks:\r\n  - id: 1\r\n    body: |-\r\n      a\r\n      b\r\n";
    const { raw, layout } = decodeLedgerText(text);
    expect(raw).toEqual({ schemaVersion: 1, nextId: 2, tasks: [{ id: 1, body: "a\nb" }] });
    expect(layout.blocks).toHaveLength(1);
    expect(layout.blocks[0]?.key).toBe("");
    expect(YAML.parse(encode({ ...(raw as Json), nextId: 3 }, layout))).toEqual({ ...(raw as Json), nextId: 3 });
  });

  it("an alias bomb (billion laughs) throws quickly instead of expanding", () => {
    const levels = ["a: &a [lol,lol,lol,lol,lol,lol,lol,lol,lol]"];
    for (let i = 1; i < 9; i++) {
      const prev = String.fromCharCode(96 + i);
      levels.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9).fill(`*${prev}`).join(",")}]`);
    }
    const inTask = `tasks:\n  - ${levels.join("\n    ")}\n`;
    const inBlock = `jobs:\n  ${levels.join("\n  ")}\n`;
    const whole = `---\n${levels.join("\n")}\n`;
    for (const text of [inTask, inBlock, whole]) expect(() => decodeLedgerText(text)).toThrow(/alias/i);
  }, 5_000);
});

describe("regressions: codec bugs the properties found", () => {
  it("fixed: an extra space after `key:` is kept by the fast reader, so `nextId:  5` decodes as the string \" 5\"", () => {
    const text = "schemaVersion: 1\nnextId:  5\ntasks:\n  - id: 1\n    status:  done\n";
    expect(YAML.parse(text)).toEqual({ schemaVersion: 1, nextId: 5, tasks: [{ id: 1, status: "done" }] });
    const { raw, layout } = decodeLedgerText(text);
    expect(layout.blocks.filter((b) => !b.canonical).map((b) => b.key)).toEqual(["nextId"]);
    expect(layout.blocks.find((b) => b.key === "tasks")?.items?.[0]?.canonical).toBe(false);
    expect(raw).toEqual(YAML.parse(text));
  });

  it("fixed: a top-level key starting with '-' is swallowed by the block above it and dropped", () => {
    const text = "a: 1\n-b: 2\n";
    expect(YAML.parse(text)).toEqual({ a: 1, "-b": 2 });
    expect(decodeLedgerText(text).raw).toEqual({ a: 1, "-b": 2 });
  });

  it("fixed: decode keeps only a block's own key from yaml's reading of the block and drops any other", () => {
    // yaml 2.9.1 reads `b: []: x` as {b: [], "": "x"} (itself lenient); decode keeps {b: []} and says nothing.
    const text = "a: 1\nb: []: x\n";
    expect(decodeLedgerText(text).raw).toEqual(YAML.parse(text));
  });

  it("fixed: a space-then-tab indentation before the first dash decodes as an empty list instead of failing", () => {
    // yaml: "Tabs are not allowed as indentation". decode: splitItems measures the indent with
    // trimStart (3), then requires a space before the dash, finds no item starts, and returns [].
    const text = "schemaVersion: 1\ntasks:\n  \t- id: 1\n  - id: 2\n";
    expect(YAML.parseDocument(text).errors.map((e) => e.code)).toContain("TAB_AS_INDENT");
    expect(() => decodeLedgerText(text)).toThrow(YamlSyntaxError);
  });

  it("fixed: a double-quoted value left open by an escaped quote at the end of a piece is accepted", () => {
    // yaml 2.9.1 reports no error for `a: "x\"` at the very end of its input, and decode parses each
    // piece without the rest of the file, so the forgotten closing quote goes unnoticed; yaml rejects
    // the whole file ("Missing closing quote").
    const text = 'tasks:\n  - id: 1\n    title: "Fix \\"login\\"\n  - id: 2\n';
    expect(YAML.parseDocument(text).errors.map((e) => e.code)).toEqual(["MISSING_CHAR"]);
    expect(() => decodeLedgerText(text)).toThrow(YamlSyntaxError);
  });

  it("fixed: a multi-line value written over a plain scalar in a commented task can make the file unreadable", () => {
    // updateNode keeps the node's PLAIN type, and yaml 2.9.1 then writes a multi-line plain scalar
    // whose first line ends with ":" (or is "-", "?" or ":"), which no YAML parser accepts:
    //   body: Steps:
    //
    //     run the tests
    // The write succeeds; the next read of the ledger fails.
    const { layout } = decodeLedgerText("tasks:\n  - id: 1 # triaged\n    body: short\n");
    const out = encode({ tasks: [{ id: 1, body: "Steps:\nrun the tests" }] }, layout);
    expect(YAML.parse(out)).toEqual({ tasks: [{ id: 1, body: "Steps:\nrun the tests" }] });
  });

  it("fixed: a comment at column 0 inside a task makes editing that task throw ('Document with errors cannot be stringified')", () => {
    const original = "tasks:\n  - id: 1\n# note\n    title: a\n";
    const { layout } = decodeLedgerText(original); // decoding works
    const out = encode({ tasks: [{ id: 1, title: "b" }] }, layout);
    expect(YAML.parse(out)).toEqual({ tasks: [{ id: 1, title: "b" }] });
  });

  it("fixed: editing a commented task writes zero-width and bidi characters raw (the canonical writer escapes them)", () => {
    const { layout } = decodeLedgerText("tasks:\n  - id: 1 # c\n    title: a\n");
    const out = encode({ tasks: [{ id: 1, title: "x\u202ey\u200b" }] }, layout);
    expect(YAML.parse(out)).toEqual({ tasks: [{ id: 1, title: "x\u202ey\u200b" }] });
    expect(out).not.toMatch(INVISIBLE);
  });

  it("fixed: a new value with a whitespace-only line, written into a commented task, reads back different", () => {
    // yaml 2.9.1's stringifier writes " \n" as `|+` with a whitespace-only line, which reads back as "\n"
    // (upstream eemeli/yaml #692 / PR #695). editLines does not check the round trip.
    const { layout } = decodeLedgerText("tasks:\n  - id: 1 # c\n    body: old\n");
    const out = encode({ tasks: [{ id: 1, body: " \n" }] }, layout);
    expect(YAML.parse(out)).toEqual({ tasks: [{ id: 1, body: " \n" }] });
  });

  it("fixed: changing one field of a commented task can corrupt an unchanged double-quoted field", () => {
    // editLines re-stringifies the whole item; yaml folds this long double-quoted scalar and writes the
    // escaped-space line " " as "\\ ", which reads back as a backslash.
    const src = 'tasks:\n  - id: 1 # c\n    title: a\n    note: "  indented\\n\\0\\0\\n \\n     \\n\\n"\n';
    const { raw, layout } = decodeLedgerText(src);
    const note = "  indented\n\u0000\u0000\n \n     \n\n";
    expect(raw).toEqual({ tasks: [{ id: 1, title: "a", note }] });
    const out = encode({ tasks: [{ id: 1, title: "b", note }] }, layout);
    expect(YAML.parse(out)).toEqual({ tasks: [{ id: 1, title: "b", note }] });
  });

  it("fixed: items without an id are matched by index, so removing one moves the comments onto its neighbours", () => {
    const original = "deliveries:\n  # about A\n  - kind: a\n  # about B\n  - kind: b\n  # about C\n  - kind: c\n";
    const { layout } = decodeLedgerText(original);
    const out = encode({ deliveries: [{ kind: "b" }, { kind: "c" }] }, layout);
    expect(out).toBe("deliveries:\n  # about B\n  - kind: b\n  # about C\n  - kind: c\n");
  });

  it("fixed: anchors defined in one top-level block (or item) cannot be used in another", () => {
    const text = "defaults: &d\n  x: 1\njobs:\n  a: *d\n";
    expect(YAML.parse(text)).toEqual({ defaults: { x: 1 }, jobs: { a: { x: 1 } } });
    expect(decodeLedgerText(text).raw).toEqual(YAML.parse(text));
  });

  it("fixed: a top-level key containing '\":' crashes decode with a JSON SyntaxError", () => {
    const text = renderYaml({ 'a":b': 1 });
    expect(text).toBe('"a\\":b": 1\n');
    expect(decodeLedgerText(text).raw).toEqual({ 'a":b': 1 });
  });

  it("fixed: editing a hand-tagged scalar keeps the tag, so a number written over `!!str` comes back a string", () => {
    const { layout } = decodeLedgerText("tasks:\n  - id: 1 # c\n    n: !!str 12\n");
    const out = encode({ tasks: [{ id: 1, n: 5 }] }, layout);
    expect(YAML.parse(out)).toEqual({ tasks: [{ id: 1, n: 5 }] });
  });
});
