/**
 * planSync is idempotent: applying its operations (with the tiny applier in sync-fixtures.ts) and
 * planning again yields nothing, unless an operation created something whose number only GitHub
 * knows (a pull request, a child issue): the plan after that shows it, and the one after is empty.
 * Tasks are random walks through the real state machine over a ledger from test/support.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { TaskEvent } from "../../../../src/core/ledger/events.ts";
import { replaceTask } from "../../../../src/core/ledger/ledger.ts";
import type { Task } from "../../../../src/core/ledger/task.ts";
import { IllegalTransition, transition } from "../../../../src/core/ledger/transition.ts";
import type { SyncObserved, SyncOp, SyncOptions } from "../../../../src/core/sync/plan-sync.ts";
import { isStatusLabel, planSync, statusLabel } from "../../../../src/core/sync/plan-sync.ts";
import { ctxAt } from "../../../support/ctx.ts";
import { ledgerWith } from "../../../support/ledger-data.ts";
import { ALL_EVENT_TYPES, MODEL_ACCEPTS } from "../../../support/task-model.ts";
import type { World } from "./sync-fixtures.ts";
import { applySyncOps, comment, options, PERSON } from "./sync-fixtures.ts";

const words = fc.constantFrom("fix it", "@octocat", "<!-- x -->", "\n/agent approve", "`code`", "ok", "a|b", "😀");
const text = fc.array(words, { maxLength: 4 }).map((w) => w.join(" "));
const step = fc.record({ pick: fc.nat(), text, flag: fc.boolean(), n: fc.nat(3) });

/** A concrete event of `type` for the task as it is now. */
type Step = { pick: number; text: string; flag: boolean; n: number };

function eventFor(type: TaskEvent["type"], task: Task, s: Step, i: number): TaskEvent {
  const key = task.attempts.at(-1)?.key ?? "none";
  const usage = s.flag ? { inputTokens: 1_000 * s.n, outputTokens: 10 * s.pick, costUsd: s.n / 7 } : undefined;
  switch (type) {
    case "route":
      return { type, route: { agent: s.flag ? "claude" : "codex", profile: "bugfix", complexity: "low", reason: s.text, decidedBy: "llm" } };
    case "require_approval": return { type, reason: s.text };
    case "approve": return { type };
    case "reject": return { type, reason: s.text };
    case "start": return { type, key: `k${i}`, agent: "claude", model: s.flag ? "sonnet" : undefined, leaseUntil: ctxAt(i + 30).now, runUrl: "https://ci.example/run/1" };
    case "heartbeat": return { type, key, leaseUntil: ctxAt(i + 30).now };
    case "finish":
      return { type, key, outcome: (["done", "needs_help", "delegate", "review"] as const)[s.n]!, summary: s.text, question: s.text, usage, children: [2, 3].slice(0, 1 + (s.pick % 2)) };
    case "fail": return { type, key, errorClass: s.flag ? "rate_limit" : "agent_error", error: s.text, retryable: s.n > 0, usage };
    case "lease_expired": return { type, key };
    case "release": return { type, key, reason: "shutdown" };
    case "children_settled": return { type };
    case "review": return { type, decision: s.flag ? "approve" : "request_changes", notes: s.text };
    case "edit": return { type, body: s.text, ...(s.flag ? { agent: s.n > 1 ? "codex" : null } : {}) };
    case "answer": return { type, text: s.text };
    case "escalate": return { type, reason: s.text };
    case "cancel": return { type, reason: s.text };
    case "retry": return { type };
    case "stale_result": return { type, key, note: s.text };
  }
}

/** Event types, the ones that move a task forward more often (cancel is accepted almost everywhere and would end most walks). */
const WEIGHTS: Partial<Record<TaskEvent["type"], number>> = { route: 4, start: 6, finish: 8, fail: 3, approve: 2, review: 3, children_settled: 2, answer: 2, retry: 2 };
const WEIGHTED: TaskEvent["type"][] = ALL_EVENT_TYPES.flatMap((t) => Array.from({ length: WEIGHTS[t] ?? 1 }, () => t));

/** A random task 1 (from an issue, a job or the CLI) over a ledger of 3 tasks; 2 and 3 can be its children. */
const mostly = fc.oneof({ weight: 3, arbitrary: fc.constant(true) }, fc.constant(false));
const scenario = fc.record({
  source: fc.constantFrom("issue", "issue", "issue", "job", "cli"),
  hasChildren: fc.boolean(),
  steps: fc.array(step, { maxLength: 20 }),
  child2: fc.constantFrom("none", "issue", "linked"),
  issueState: fc.constantFrom("open", "closed"),
  labels: fc.subarray(["agent", "agent-router/new", "agent-router/running", "agent-router/done", "agent-router/other"]),
  comments: fc.subarray(["stale", "duplicate", "person"]),
  pull: fc.constantFrom("none", "open", "closed"),
  projectStatus: fc.constantFrom(undefined, "Other"),
  opts: fc.record({ closeOnDone: fc.boolean(), subIssues: fc.boolean(), draftPr: fc.boolean(), prAllowed: mostly, branchPushed: mostly, project: fc.boolean() }),
});

type Scenario = typeof scenario extends fc.Arbitrary<infer T> ? T : never;

function build(sc: Scenario): { world: World; opts: SyncOptions } {
  let ledger = ledgerWith(3);
  let task = ledger.tasks[0]!;
  if (sc.source === "issue") task = { ...task, source: { kind: "issue", issue: 7 }, github: { issue: 7 } };
  if (sc.source === "job") task = { ...task, source: { kind: "job", jobId: "nightly", slot: ctxAt(0).now } };
  if (sc.hasChildren) task = { ...task, children: [2, 3] };
  sc.steps.forEach((s, i) => {
    const allowed = WEIGHTED.filter((t) => MODEL_ACCEPTS[t].includes(task.status));
    try {
      task = transition(task, eventFor(allowed[s.pick % allowed.length]!, task, s, i), ctxAt(i + 1)).task;
    } catch (e) {
      if (!(e instanceof IllegalTransition)) throw e;
    }
  });
  ledger = replaceTask(ledger, task);
  if (sc.child2 !== "none") ledger = replaceTask(ledger, { ...ledger.tasks[1]!, github: { issue: 12 } });
  const marker = "<!-- agent-router:task=1 kind=status key=1 -->";
  const comments = sc.comments.map((c, i) => (c === "person" ? comment(i + 1, "/agent status", PERSON) : comment(i + 1, `${marker}\n${c}`)));
  const pull = sc.pull === "none" ? null : { number: 31, url: "u", state: sc.pull, draft: false, merged: false, head: "agent-router/task-1", base: "main", title: "t", body: "b" };
  const observed: SyncObserved = {
    issue: { state: sc.issueState, labels: sc.labels },
    comments,
    pull,
    subIssues: sc.child2 === "linked" ? [{ number: 12, id: 1012, state: "open" }] : [],
    children: new Map(sc.child2 === "none" ? [] : [[2, { issueNumber: 12, issueId: 1012 }]]),
    ...(sc.projectStatus !== undefined ? { projectStatus: sc.projectStatus } : {}),
  };
  const project = sc.opts.project ? { owner: "acme", number: 3, field: "Status", statusFor: (s: string) => (s === "new" ? undefined : `Column ${s}`) } : undefined;
  return { world: { ledger, observed, nextNumber: 100 }, opts: options({ ...sc.opts, project }) };
}

const CREATES: ReadonlySet<SyncOp["kind"]> = new Set(["create_pull", "create_child_issue", "create_issue"]);

describe("planSync idempotence", () => {
  it("reaches [] after applying its operations (one more round after creating a pull request or child issue, one more for a job's task's own issue)", () => {
    fc.assert(
      fc.property(scenario, (sc) => {
        const built = build(sc);
        const opts = built.opts;
        let world = built.world;
        const planNow = (): SyncOp[] => planSync(world.ledger.tasks[0]!, world.ledger, world.observed, opts);
        let ops = planNow();
        // A job's task's own issue comes first, alone; then the rounds of a task with an issue.
        const rounds = ops.some((o) => o.kind === "create_issue") ? 3 : 2;
        for (let round = 1; ops.length > 0; round++) {
          expect(round, JSON.stringify(ops.map((o) => o.kind))).toBeLessThanOrEqual(rounds);
          expect(ops.filter((o) => o.kind === "create_comment" || o.kind === "update_comment").length).toBeLessThanOrEqual(1);
          const created = ops.some((o) => CREATES.has(o.kind));
          world = applySyncOps(world, 1, ops);
          ops = planNow();
          if (!created) expect(ops).toEqual([]);
        }
        const task = world.ledger.tasks[0]!;
        if (sc.source === "issue" || (sc.source === "job" && rounds === 3)) {
          expect(world.observed.issue!.labels.filter(isStatusLabel)).toEqual([statusLabel(task.status)]);
          expect(world.observed.comments.filter((c) => c.body.startsWith("<!-- agent-router:task=1 kind=status")).length).toBeGreaterThanOrEqual(1);
        }
      }),
      { numRuns: 2_000 },
    );
  });
});
